//! EKS access entries: an IAM principal's Kubernetes groups and user name, and the EKS access
//! policies associated with it (cluster- or namespace-scoped). Entries EKS made itself (for
//! node roles, Fargate, the cluster creator) are left alone unless the spec declares them.

use crate::cloud::{AccessPolicy, ObservedAccessEntry, ObservedRole, Tags};
use crate::naming;
use crate::plan::{Change, ChangeKind, FieldChange, Operation};
use crate::spec::{AccessEntrySpec, AccessScope, ClusterFile};

use super::karpenter;
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
                entry_type: None,
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
            if adopted {
                fields.splice(0..0, tag_fields);
            } else {
                fields.extend(tag_fields);
            }
        }
        if ops.is_empty() {
            continue;
        }
        let kind = if adopted {
            ChangeKind::Adopt
        } else {
            ChangeKind::Update
        };
        let mut change = Change::new(&resource, kind, ops)
            .id(&entry.principal_arn)
            .fields(fields)
            .after(["cluster"]);
        if adopted {
            change = change.reason(format!(
                "the {} access entry exists but was not created by ekspec (EKS makes one for the cluster creator, other tools others); it is declared, so ekspec tags it and manages it from now on",
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

/// The entries EKS made for the node and Fargate roles (EC2_LINUX, FARGATE_LINUX, when a node
/// group or profile was created), kept true to the role. EKS binds an entry to the role's
/// unique id, not its name (API reference, AccessEntry.principalArn: "If you don't delete the
/// access entry and ever recreate the IAM principal, even if it has the same ARN, the access
/// entry won't work"), so:
/// - when ekspec deletes such a role, the entry goes too (as AWS recommends there);
/// - an entry older than its role (the role was deleted and made again under the same name)
///   is made again once the role exists, or nodes and Fargate pods never join.
///
/// Entries the spec declares are left to [`plan`].
pub fn plan_role_entries(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        // A deleted cluster takes its entries with it.
        return;
    };
    plan_karpenter_node_entry(p, file);
    let cluster = file.metadata.name.clone();
    for (role_resource, role_name, entry_type) in [
        ("role/node", naming::node_role(&cluster), "EC2_LINUX"),
        (
            "role/fargate",
            naming::fargate_role(&cluster),
            "FARGATE_LINUX",
        ),
    ] {
        let live: Option<&ObservedRole> = p
            .observed
            .roles
            .iter()
            .find(|r| p.owned(&r.tags) == Some(role_resource));
        let arn = live.map_or_else(
            || {
                format!(
                    "arn:{}:iam::{}:role{}{role_name}",
                    p.observed.partition(),
                    p.observed.account,
                    naming::iam_path(&cluster)
                )
            },
            |role| role.arn.clone(),
        );
        if file
            .spec
            .access_entries
            .iter()
            .any(|e| e.principal_arn == arn)
        {
            continue;
        }
        let Some(entry) = p
            .observed
            .access_entries
            .iter()
            .find(|e| e.principal_arn == arn && e.entry_type == entry_type)
        else {
            continue;
        };
        let resource = resource_id(&arn);
        let delete = Operation::DeleteAccessEntry {
            cluster: cluster.clone(),
            principal: arn.clone(),
        };
        if !p.is_desired(role_resource) {
            if live.is_some() {
                // After the role's delete, itself after the node groups or profiles using it.
                p.push(
                    Change::new(&resource, ChangeKind::Delete, vec![delete])
                        .id(&arn)
                        .reason(format!(
                            "EKS made this {entry_type} entry for {role_name}, which is deleted: an entry outliving its role would not work for a role made again under that name"
                        ))
                        .after([role_resource]),
                );
            }
            continue;
        }
        let stale = match live {
            // The role is (to be) made again: the entry is of the one deleted.
            None => true,
            Some(role) => {
                matches!((entry.created_at, role.created_at), (Some(made), Some(role)) if made < role)
            }
        };
        if !stale {
            continue;
        }
        let create = Operation::CreateAccessEntry {
            cluster: cluster.clone(),
            principal: arn.clone(),
            groups: Vec::new(),
            username: None,
            entry_type: Some(entry_type.to_owned()),
            // As EKS makes it: not ekspec's (it goes with the role, above).
            tags: Tags::new(),
        };
        p.push(
            Change::new(&resource, ChangeKind::Replace, vec![delete, create])
                .id(&arn)
                .fields(vec![FieldChange::new(
                    "principal",
                    format!("{role_name} as it was when EKS made the entry (since deleted)"),
                    format!("{role_name} as it is now"),
                )])
                .reason(format!(
                    "the {entry_type} entry is older than the role {role_name} (deleted and made again under the same name); EKS binds an entry to the role's unique id, so nodes using the role could not join: the entry is made again"
                ))
                .after([role_resource, "cluster"]),
        );
    }
}

/// The `EC2_LINUX` entry of Karpenter's node role, so the nodes it launches join: EKS makes
/// entries itself only for the roles of managed node groups and Fargate profiles, so ekspec
/// makes this one (tagged, owned; deleted like any owned entry once `karpenter` leaves the
/// spec) after the role, and makes it again when it is older than the role.
fn plan_karpenter_node_entry(p: &mut Planning<'_>, file: &ClusterFile) {
    if file.spec.karpenter.is_none() {
        return;
    }
    let cluster = &file.metadata.name;
    let role_name = naming::karpenter_node_role(cluster);
    let arn = karpenter::role_arn(p, karpenter::NODE_ROLE, &role_name, cluster);
    if file
        .spec
        .access_entries
        .iter()
        .any(|e| e.principal_arn == arn)
    {
        return;
    }
    let resource = resource_id(&arn);
    p.desire(&resource);
    let tags = owned_tags(file, &resource, &Tags::new());
    let create = Operation::CreateAccessEntry {
        cluster: cluster.clone(),
        principal: arn.clone(),
        groups: Vec::new(),
        username: None,
        entry_type: Some("EC2_LINUX".to_owned()),
        tags: tags.clone(),
    };
    let role = p
        .observed
        .roles
        .iter()
        .find(|r| p.owned(&r.tags) == Some(karpenter::NODE_ROLE));
    let Some(live) = p
        .observed
        .access_entries
        .iter()
        .find(|e| e.principal_arn == arn)
    else {
        p.push(
            Change::new(&resource, ChangeKind::Create, vec![create])
                .id(&arn)
                .after([karpenter::NODE_ROLE, "cluster"]),
        );
        return;
    };
    let stale = match role {
        None => true,
        Some(role) => {
            matches!((live.created_at, role.created_at), (Some(made), Some(role)) if made < role)
        }
    };
    if stale || live.entry_type != "EC2_LINUX" {
        let delete = Operation::DeleteAccessEntry {
            cluster: cluster.clone(),
            principal: arn.clone(),
        };
        p.push(
            Change::new(&resource, ChangeKind::Replace, vec![delete, create])
                .id(&arn)
                .fields(vec![FieldChange::new(
                    "principal",
                    format!("{role_name} as it was when the {} entry was made", live.entry_type),
                    format!("{role_name} as it is now (EC2_LINUX)"),
                )])
                .reason(format!(
                    "the entry of {role_name} is older than the role (deleted and made again under the same name) or not of type EC2_LINUX: EKS binds an entry to the role's unique id and its type cannot change, so Karpenter's nodes could not join: the entry is made again"
                ))
                .after([karpenter::NODE_ROLE, "cluster"]),
        );
        return;
    }
    if let Some((tag, fields)) = eks_retag(&live.arn, &live.tags, &tags) {
        p.push(
            Change::new(&resource, ChangeKind::Update, vec![tag])
                .id(&arn)
                .fields(fields)
                .after(["cluster"]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::planner::plan as plan_cluster;
    use crate::resources::{Observed, owned_tags};
    use crate::spec::ClusterFile;

    const ROLE: &str = "arn:aws:iam::111122223333:role/ekspec/demo/demo-node";

    fn file(node_groups: bool) -> ClusterFile {
        let groups = if node_groups {
            "  nodeGroups: [{name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}]\n"
        } else {
            ""
        };
        let text = format!(
            "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {{name: demo, region: us-east-1}}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {{availabilityZones: [us-east-1a, us-east-1b], natGateway: none}}\n{groups}"
        );
        let report = crate::spec::parse_str("t.yaml", &text);
        report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics))
    }

    /// A node role made at `role_made` and the EC2_LINUX entry EKS made at `entry_made`.
    fn observed(file: &ClusterFile, role: Option<i64>, entry_made: i64) -> Observed {
        Observed {
            account: "111122223333".to_owned(),
            roles: role
                .map(|made| ObservedRole {
                    name: "demo-node".to_owned(),
                    arn: ROLE.to_owned(),
                    path: "/ekspec/demo/".to_owned(),
                    trust_policy: serde_json::Value::Null,
                    tags: owned_tags(file, "role/node", &Tags::new()),
                    attached_policies: Vec::new(),
                    inline_policies: Default::default(),
                    created_at: Some(made),
                    description: None,
                })
                .into_iter()
                .collect(),
            access_entries: vec![ObservedAccessEntry {
                principal_arn: ROLE.to_owned(),
                arn: "arn:aws:eks:us-east-1:111122223333:access-entry/demo/role/1".to_owned(),
                kubernetes_groups: Vec::new(),
                username: Some("system:node:{{EC2PrivateDNSName}}".to_owned()),
                entry_type: "EC2_LINUX".to_owned(),
                policies: Vec::new(),
                tags: Tags::new(),
                created_at: Some(entry_made),
            }],
            ..Observed::default()
        }
    }

    fn entry_change(file: &ClusterFile, observed: &Observed) -> Option<Change> {
        plan_cluster(file, observed)
            .changes
            .into_iter()
            .find(|c| c.resource == resource_id(ROLE))
    }

    #[test]
    fn an_entry_older_than_its_node_role_is_made_again() {
        let file = file(true);
        let change = entry_change(&file, &observed(&file, Some(2_000), 1_000)).unwrap();
        assert_eq!(change.kind, ChangeKind::Replace);
        assert!(matches!(
            change.operations.as_slice(),
            [
                Operation::DeleteAccessEntry { principal, .. },
                Operation::CreateAccessEntry { principal: again, entry_type: Some(kind), .. },
            ] if principal == ROLE && again == ROLE && kind == "EC2_LINUX"
        ));
        assert!(change.after.contains(&"role/node".to_owned()));
        // A role about to be made again: the entry is of the one deleted.
        let change = entry_change(&file, &observed(&file, None, 1_000)).unwrap();
        assert_eq!(change.kind, ChangeKind::Replace);
        // An entry EKS made for the role as it is: left alone.
        assert!(entry_change(&file, &observed(&file, Some(1_000), 2_000)).is_none());
    }

    #[test]
    fn a_deleted_node_role_takes_its_entry_with_it() {
        let file = file(false);
        let change = entry_change(&file, &observed(&file, Some(1_000), 2_000)).unwrap();
        assert_eq!(change.kind, ChangeKind::Delete);
        assert!(change.after.contains(&"role/node".to_owned()));
    }
}
