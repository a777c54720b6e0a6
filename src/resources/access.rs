//! EKS access entries: an IAM principal's Kubernetes groups and user name, and the EKS access
//! policies associated with it (cluster- or namespace-scoped). Entries EKS made itself (for
//! node roles, Fargate, the cluster creator) are left alone unless the spec declares them.

use crate::cloud::{AccessPolicy, ObservedAccessEntry, Tags};
use crate::plan::{Change, ChangeKind, FieldChange, Operation};
use crate::spec::{AccessEntrySpec, AccessScope};

use super::planner::Planning;
use super::{eks_retag, owned_tags};

/// The logical id of an access entry.
pub fn resource_id(principal_arn: &str) -> String {
    format!("access-entry/{principal_arn}")
}

/// The access policies an entry should have, sorted.
fn desired_policies(entry: &AccessEntrySpec) -> Vec<AccessPolicy> {
    let mut policies: Vec<AccessPolicy> = entry
        .policies
        .iter()
        .map(|p| AccessPolicy {
            policy_arn: p.policy_arn.clone(),
            namespaces: match &p.scope {
                AccessScope::Cluster => None,
                AccessScope::Namespaces(scope) => {
                    let mut namespaces = scope.namespaces.clone();
                    namespaces.sort();
                    namespaces.dedup();
                    Some(namespaces)
                }
            },
        })
        .collect();
    policies.sort();
    policies
}

fn scope_text(policy: &AccessPolicy) -> String {
    match &policy.namespaces {
        None => "cluster".to_owned(),
        Some(namespaces) => format!("namespaces {}", namespaces.join(",")),
    }
}

/// Plans every declared access entry.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = file.metadata.name.clone();
    for entry in &file.spec.access_entries {
        let resource = resource_id(&entry.principal_arn);
        p.desire(&resource);
        let mut groups = entry.kubernetes_groups.clone();
        groups.sort();
        groups.dedup();
        let policies = desired_policies(entry);
        let tags = owned_tags(file, &resource, &Tags::new());
        let live = p
            .observed
            .access_entries
            .iter()
            .find(|e| e.principal_arn == entry.principal_arn)
            .cloned();
        let Some(live) = live else {
            let mut ops = vec![Operation::CreateAccessEntry {
                cluster: cluster.clone(),
                principal: entry.principal_arn.clone(),
                groups,
                username: entry.username.clone(),
                tags,
            }];
            ops.extend(
                policies
                    .into_iter()
                    .map(|policy| Operation::AssociateAccessPolicy {
                        cluster: cluster.clone(),
                        principal: entry.principal_arn.clone(),
                        policy,
                    }),
            );
            p.push(
                Change::new(&resource, ChangeKind::Create, ops)
                    .id(&entry.principal_arn)
                    .after(["cluster"]),
            );
            continue;
        };
        let adopted = p.owned(&live.tags).is_none();
        let (mut ops, mut fields) = update(&cluster, entry, &live, groups, &policies);
        if let Some((tag, tag_fields)) = eks_retag(&live.arn, &live.tags, &tags) {
            ops.insert(0, tag);
            if !adopted {
                fields.extend(tag_fields);
            }
        }
        if ops.is_empty() {
            continue;
        }
        let mut change = Change::new(&resource, ChangeKind::Update, ops)
            .id(&entry.principal_arn)
            .fields(fields)
            .after(["cluster"]);
        if adopted {
            change = change.reason(format!(
                "the {} access entry exists but was not created by ekspec (EKS makes one for the cluster creator); it is declared, so ekspec tags it and manages it from now on",
                live.entry_type
            ));
        }
        p.push(change);
    }
}

fn update(
    cluster: &str,
    entry: &AccessEntrySpec,
    live: &ObservedAccessEntry,
    groups: Vec<String>,
    policies: &[AccessPolicy],
) -> (Vec<Operation>, Vec<FieldChange>) {
    let mut ops = Vec::new();
    let mut fields = Vec::new();
    let username_changed = entry
        .username
        .as_ref()
        .is_some_and(|u| live.username.as_ref() != Some(u));
    if live.kubernetes_groups != groups || username_changed {
        if live.kubernetes_groups != groups {
            fields.push(FieldChange::new(
                "kubernetesGroups",
                live.kubernetes_groups.join(","),
                groups.join(","),
            ));
        }
        if username_changed {
            fields.push(FieldChange {
                field: "username".to_owned(),
                old: live.username.clone(),
                new: entry.username.clone(),
            });
        }
        ops.push(Operation::UpdateAccessEntry {
            cluster: cluster.to_owned(),
            principal: entry.principal_arn.clone(),
            groups,
            username: entry.username.clone(),
        });
    }
    for policy in policies {
        let current = live
            .policies
            .iter()
            .find(|l| l.policy_arn == policy.policy_arn);
        if current == Some(policy) {
            continue;
        }
        fields.push(FieldChange {
            field: format!("policies[{}]", policy.policy_arn),
            old: current.map(scope_text),
            new: Some(scope_text(policy)),
        });
        ops.push(Operation::AssociateAccessPolicy {
            cluster: cluster.to_owned(),
            principal: entry.principal_arn.clone(),
            policy: policy.clone(),
        });
    }
    for old in live
        .policies
        .iter()
        .filter(|l| !policies.iter().any(|p| p.policy_arn == l.policy_arn))
    {
        fields.push(FieldChange {
            field: format!("policies[{}]", old.policy_arn),
            old: Some(scope_text(old)),
            new: None,
        });
        ops.push(Operation::DisassociateAccessPolicy {
            cluster: cluster.to_owned(),
            principal: entry.principal_arn.clone(),
            policy_arn: old.policy_arn.clone(),
        });
    }
    (ops, fields)
}
