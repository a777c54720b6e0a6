//! IAM: the cluster, node and Fargate roles, the cluster's OIDC provider, and one IRSA role per
//! service account.

use serde_json::{Value, json};

use crate::cloud::{ObservedRole, Tags};
use crate::naming;
use crate::plan::operation::Trust;
use crate::plan::{Change, ChangeKind, FieldChange, Operation};

use super::planner::Planning;
use super::{owned_tags, tag_drift};

/// Name of the inline policy ekspec manages on IRSA roles.
pub const INLINE_POLICY_NAME: &str = "ekspec-inline";

/// The trust policy document for `trust`; IRSA needs the issuer host and provider ARN.
pub fn trust_document(trust: &Trust, oidc: Option<(&str, &str)>) -> Option<Value> {
    Some(match trust {
        Trust::Service(services) => json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": if services.len() == 1 { json!(services[0]) } else { json!(services) }},
                "Action": "sts:AssumeRole"
            }]
        }),
        Trust::ServiceAccount { namespace, name } => {
            let (provider_arn, issuer_host) = oidc?;
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        format!("{issuer_host}:sub"): format!("system:serviceaccount:{namespace}:{name}"),
                        format!("{issuer_host}:aud"): "sts.amazonaws.com"
                    }}
                }]
            })
        }
        // EKS Pod Identity: the agent assumes the role for the pod and tags the session
        // (EKS User Guide, "Create IAM role with trust policy required by EKS Pod Identity").
        Trust::PodIdentity => json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"]
            }]
        }),
    })
}

/// The issuer URL without its scheme, as IAM conditions use it.
pub fn issuer_host(issuer: &str) -> &str {
    issuer.strip_prefix("https://").unwrap_or(issuer)
}

/// A role the spec wants, as [`plan_role`] compares it with the live one.
pub struct DesiredRole {
    /// Logical id, e.g. `role/node`.
    pub resource: String,
    /// IAM role name.
    pub name: String,
    /// Who may assume it.
    pub trust: Trust,
    /// IAM description.
    pub description: String,
    /// Managed policy ARNs.
    pub policies: Vec<String>,
    /// The inline policy [`INLINE_POLICY_NAME`], if any.
    pub inline: Option<Value>,
    /// Changes its create or update waits for.
    pub after: Vec<String>,
}

/// An AWS managed policy in the caller's partition.
pub fn aws_policy(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{name}")
}

/// Plans the cluster, node and Fargate roles.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = &file.metadata.name;
    let partition = p.observed.partition();
    let mut roles = vec![DesiredRole {
        resource: "role/cluster".to_owned(),
        name: naming::cluster_role(cluster),
        trust: Trust::Service(vec!["eks.amazonaws.com".to_owned()]),
        description: format!("EKS control plane of {cluster} (ekspec)"),
        policies: vec![aws_policy(partition, "AmazonEKSClusterPolicy")],
        inline: None,
        after: Vec::new(),
    }];
    if !file.spec.node_groups.is_empty() {
        roles.push(DesiredRole {
            resource: "role/node".to_owned(),
            name: naming::node_role(cluster),
            trust: Trust::Service(vec!["ec2.amazonaws.com".to_owned()]),
            description: format!("Managed node groups of {cluster} (ekspec)"),
            policies: [
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonEC2ContainerRegistryReadOnly",
                "AmazonSSMManagedInstanceCore",
            ]
            .iter()
            .map(|n| aws_policy(partition, n))
            .collect(),
            inline: None,
            after: Vec::new(),
        });
    }
    if !file.spec.fargate_profiles.is_empty() {
        roles.push(DesiredRole {
            resource: "role/fargate".to_owned(),
            name: naming::fargate_role(cluster),
            trust: Trust::Service(vec!["eks-fargate-pods.amazonaws.com".to_owned()]),
            description: format!("Fargate pods of {cluster} (ekspec)"),
            policies: vec![aws_policy(
                partition,
                "AmazonEKSFargatePodExecutionRolePolicy",
            )],
            inline: None,
            after: Vec::new(),
        });
    }
    for role in roles {
        plan_role(p, role, None);
    }
}

/// Plans the OIDC provider and the IRSA roles (after the cluster, whose issuer they need).
pub fn plan_service_accounts(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    if file.spec.service_accounts.is_empty() {
        return;
    }
    let cluster = &file.metadata.name;
    let issuer = p.output_of("cluster", "issuer");
    p.desire("oidc-provider");
    let tags = owned_tags(file, "oidc-provider", &Tags::new());
    let live = p
        .observed
        .oidc_providers
        .iter()
        .find(|o| p.owned(&o.tags) == Some("oidc-provider"))
        .cloned();
    match (&live, &issuer) {
        (None, _) => p.push(
            Change::new(
                "oidc-provider",
                ChangeKind::Create,
                vec![Operation::CreateOidcProvider {
                    cluster: cluster.clone(),
                    tags,
                }],
            )
            .after(["cluster"]),
        ),
        (Some(live), Some(issuer)) if live.url != issuer_host(issuer) => p.push(
            Change::new(
                "oidc-provider",
                ChangeKind::Replace,
                vec![
                    Operation::DeleteOidcProvider {
                        arn: live.arn.clone(),
                    },
                    Operation::CreateOidcProvider {
                        cluster: cluster.clone(),
                        tags,
                    },
                ],
            )
            .id(&live.arn)
            .fields(vec![FieldChange::new(
                "url",
                &live.url,
                issuer_host(issuer),
            )])
            .reason("the cluster's OIDC issuer changed")
            .after(["cluster"]),
        ),
        (Some(live), _) => {
            let (missing, fields) = tag_drift(&live.tags, &tags);
            if !missing.is_empty() {
                p.push(
                    Change::new(
                        "oidc-provider",
                        ChangeKind::Update,
                        vec![Operation::TagOidcProvider {
                            arn: live.arn.clone(),
                            tags: missing,
                        }],
                    )
                    .id(&live.arn)
                    .fields(fields),
                );
            }
        }
    }
    let oidc = match (&live, &issuer) {
        (Some(live), Some(issuer)) if live.url == issuer_host(issuer) => {
            Some((live.arn.clone(), issuer_host(issuer).to_owned()))
        }
        _ => None,
    };
    for account in &file.spec.service_accounts {
        let role = DesiredRole {
            resource: format!("role/irsa/{}/{}", account.namespace, account.name),
            name: account
                .role_name
                .clone()
                .unwrap_or_else(|| naming::irsa_role(cluster, &account.namespace, &account.name)),
            trust: Trust::ServiceAccount {
                namespace: account.namespace.clone(),
                name: account.name.clone(),
            },
            description: format!(
                "IRSA role of {}/{} in {cluster} (ekspec)",
                account.namespace, account.name
            ),
            policies: account.policy_arns.clone(),
            inline: account.inline_policy.clone(),
            after: vec!["oidc-provider".to_owned()],
        };
        plan_role(
            p,
            role,
            oidc.as_ref().map(|(a, h)| (a.as_str(), h.as_str())),
        );
    }
}

/// Plans one role: create, replace (renamed), or update its trust, policies and tags.
pub fn plan_role(p: &mut Planning<'_>, role: DesiredRole, oidc: Option<(&str, &str)>) {
    let Some(file) = p.file else {
        return;
    };
    p.desire(&role.resource);
    let tags = owned_tags(file, &role.resource, &Tags::new());
    let live: Option<ObservedRole> = p
        .observed
        .roles
        .iter()
        .find(|r| p.owned(&r.tags) == Some(role.resource.as_str()))
        .cloned();
    let Some(live) = live else {
        // IAM role names are unique: a role of this name that another address of this
        // cluster owns (a service account that moved namespace but kept its `roleName`) is
        // deleted first, or the create would collide with it.
        let mut after = role.after;
        after.extend(
            p.observed
                .roles
                .iter()
                .filter(|r| r.name == role.name)
                .filter_map(|r| p.owned(&r.tags))
                .filter(|owner| *owner != role.resource)
                .map(str::to_owned),
        );
        p.push(
            Change::new(
                &role.resource,
                ChangeKind::Create,
                vec![Operation::CreateRole {
                    name: role.name.clone(),
                    path: naming::iam_path(&file.metadata.name),
                    trust: role.trust,
                    description: role.description,
                    tags,
                    policies: role.policies,
                    inline: role.inline,
                }],
            )
            .id(role.name)
            .after(after),
        );
        return;
    };
    if live.name != role.name {
        // A renamed IRSA role (roleName changed): make the new one, then drop the old one.
        p.push(
            Change::new(
                &role.resource,
                ChangeKind::Replace,
                vec![
                    Operation::CreateRole {
                        name: role.name.clone(),
                        path: naming::iam_path(&file.metadata.name),
                        trust: role.trust,
                        description: role.description,
                        tags,
                        policies: role.policies,
                        inline: role.inline,
                    },
                    Operation::DeleteRole {
                        name: live.name.clone(),
                    },
                ],
            )
            .id(&live.name)
            .fields(vec![FieldChange::new("roleName", &live.name, &role.name)])
            .reason("IAM roles cannot be renamed")
            .after(role.after),
        );
        return;
    }
    let mut ops = Vec::new();
    let mut fields = Vec::new();
    if let Some(document) = trust_document(&role.trust, oidc)
        && document != live.trust_policy
    {
        fields.push(FieldChange::new(
            "trustPolicy",
            compact(&live.trust_policy),
            compact(&document),
        ));
        ops.push(Operation::UpdateTrust {
            role: live.name.clone(),
            trust: role.trust.clone(),
        });
    }
    for arn in role
        .policies
        .iter()
        .filter(|a| !live.attached_policies.contains(a))
    {
        fields.push(FieldChange {
            field: "policyArns".to_owned(),
            old: None,
            new: Some(arn.clone()),
        });
        ops.push(Operation::AttachPolicy {
            role: live.name.clone(),
            policy_arn: arn.clone(),
        });
    }
    for arn in live
        .attached_policies
        .iter()
        .filter(|a| !role.policies.contains(a))
    {
        fields.push(FieldChange {
            field: "policyArns".to_owned(),
            old: Some(arn.clone()),
            new: None,
        });
        ops.push(Operation::DetachPolicy {
            role: live.name.clone(),
            policy_arn: arn.clone(),
        });
    }
    let live_inline = live.inline_policies.get(INLINE_POLICY_NAME);
    match (&role.inline, live_inline) {
        (Some(want), have) if have != Some(want) => {
            fields.push(FieldChange {
                field: "inlinePolicy".to_owned(),
                old: have.map(compact),
                new: Some(compact(want)),
            });
            ops.push(Operation::PutInlinePolicy {
                role: live.name.clone(),
                document: want.clone(),
            });
        }
        (None, Some(have)) => {
            fields.push(FieldChange {
                field: "inlinePolicy".to_owned(),
                old: Some(compact(have)),
                new: None,
            });
            ops.push(Operation::DeleteInlinePolicy {
                role: live.name.clone(),
                name: INLINE_POLICY_NAME.to_owned(),
            });
        }
        _ => {}
    }
    for name in live
        .inline_policies
        .keys()
        .filter(|n| *n != INLINE_POLICY_NAME)
    {
        fields.push(FieldChange {
            field: format!("inlinePolicies.{name}"),
            old: Some("present".to_owned()),
            new: None,
        });
        ops.push(Operation::DeleteInlinePolicy {
            role: live.name.clone(),
            name: name.clone(),
        });
    }
    let (missing, tag_fields) = tag_drift(&live.tags, &tags);
    if !missing.is_empty() {
        fields.extend(tag_fields);
        ops.push(Operation::TagRole {
            role: live.name.clone(),
            tags: missing,
        });
    }
    if !ops.is_empty() {
        p.push(
            Change::new(&role.resource, ChangeKind::Update, ops)
                .id(&live.name)
                .fields(fields)
                .after(role.after),
        );
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Observed;
    use crate::resources::planner::plan as plan_cluster;

    #[test]
    fn managed_policies_are_in_the_callers_partition() {
        // A region no prefix list knew: the caller's ARN names the partition.
        let text = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: demo, region: us-isob-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {availabilityZones: [us-isob-east-1a, us-isob-east-1b], natGateway: none}\n  fargateProfiles: [{name: batch, selectors: [{namespace: batch}]}]\n";
        let report = crate::spec::parse_str("t.yaml", text);
        let file = report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
        let observed = Observed {
            caller_partition: "aws-iso-b".to_owned(),
            ..Observed::default()
        };
        let policies: Vec<String> = plan_cluster(&file, &observed)
            .changes
            .iter()
            .flat_map(|c| &c.operations)
            .filter_map(|op| match op {
                Operation::CreateRole { policies, .. } => Some(policies.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(
            policies,
            [
                "arn:aws-iso-b:iam::aws:policy/AmazonEKSClusterPolicy",
                "arn:aws-iso-b:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy",
            ]
        );
    }
}
