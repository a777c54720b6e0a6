//! IAM: the cluster, node and Fargate roles, the cluster's OIDC provider, and one role per
//! service account (trusted through IRSA or EKS Pod Identity).

use serde_json::{Value, json};

use crate::cloud::{ObservedOidcProvider, ObservedRole, Tags};
use crate::naming;
use crate::plan::operation::Trust;
use crate::plan::{Change, ChangeKind, FieldChange, Operation};
use crate::spec::{ClusterFile, IdentityMechanism, IpFamily, ServiceAccountSpec};

use super::planner::Planning;
use super::{auto_mode, owned_tags, pod_identity, tag_drift};

/// Name of the inline policy ekspec manages on IRSA roles.
pub const INLINE_POLICY_NAME: &str = "ekspec-inline";

/// The service principal EKS Pod Identity assumes roles as.
pub const POD_IDENTITY_PRINCIPAL: &str = "pods.eks.amazonaws.com";

/// The trust policy document for `trust`; IRSA needs the issuer host and provider ARN.
pub fn trust_document(trust: &Trust, oidc: Option<(&str, &str)>) -> Option<Value> {
    let statements = match trust {
        Trust::Service(services) => vec![json!({
            "Effect": "Allow",
            "Principal": {"Service": if services.len() == 1 { json!(services[0]) } else { json!(services) }},
            "Action": "sts:AssumeRole"
        })],
        Trust::ServiceWithSessionTags(services) => vec![json!({
            "Effect": "Allow",
            "Principal": {"Service": if services.len() == 1 { json!(services[0]) } else { json!(services) }},
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        })],
        Trust::ServiceAccount { namespace, name } => vec![irsa_statement(namespace, name, oidc?)],
        Trust::PodIdentity => vec![pod_identity_statement()],
        Trust::ServiceAccountAndPodIdentity { namespace, name } => vec![
            irsa_statement(namespace, name, oidc?),
            pod_identity_statement(),
        ],
    };
    Some(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// IRSA: the one service account, through the cluster's OIDC provider.
fn irsa_statement(namespace: &str, name: &str, (provider_arn, issuer_host): (&str, &str)) -> Value {
    json!({
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            format!("{issuer_host}:sub"): format!("system:serviceaccount:{namespace}:{name}"),
            format!("{issuer_host}:aud"): "sts.amazonaws.com"
        }}
    })
}

/// EKS Pod Identity, as the EKS User Guide writes it ("Create IAM role with trust policy
/// required by EKS Pod Identity"): AssumeRole, and TagSession for the session tags it adds.
fn pod_identity_statement() -> Value {
    json!({
        "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
        "Action": ["sts:AssumeRole", "sts:TagSession"]
    })
}

/// Whether a live trust policy lets something in through a federated (OIDC) principal: IRSA
/// may be in use.
pub fn trusts_oidc(document: &Value) -> bool {
    statements(document).any(|s| s.pointer("/Principal/Federated").is_some())
}

/// Whether a live trust policy lets EKS Pod Identity in: an association may be in use.
pub fn trusts_pod_identity(document: &Value) -> bool {
    statements(document).any(|s| match s.pointer("/Principal/Service") {
        Some(Value::String(service)) => service == POD_IDENTITY_PRINCIPAL,
        Some(Value::Array(services)) => services.iter().any(|v| v == POD_IDENTITY_PRINCIPAL),
        _ => false,
    })
}

fn statements(document: &Value) -> impl Iterator<Item = &Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
    .into_iter()
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

/// The VPC CNI's permissions in an IPv6 cluster, which AWS does not manage: the policy the EKS
/// user guide has you create ("Create IAM policy for clusters that use the IPv6 family",
/// `AmazonEKS_CNI_IPv6_Policy`), given to the node role inline.
pub fn cni_ipv6_policy(partition: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:AssignIpv6Addresses",
                    "ec2:DescribeInstances",
                    "ec2:DescribeTags",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeInstanceTypes"
                ],
                "Resource": "*"
            },
            {
                "Effect": "Allow",
                "Action": ["ec2:CreateTags"],
                "Resource": [format!("arn:{partition}:ec2:*:*:network-interface/*")]
            }
        ]
    })
}

/// Plans the cluster, node and Fargate roles.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = &file.metadata.name;
    let partition = p.observed.partition();
    let services = vec!["eks.amazonaws.com".to_owned()];
    let mut policies = vec![aws_policy(partition, "AmazonEKSClusterPolicy")];
    // EKS Auto Mode acts with the cluster role and tags its sessions (EKS user guide, "Amazon
    // EKS Auto Mode cluster IAM role"); turned off, they go once the cluster's update is done.
    let (trust, after) = if auto_mode::cluster_role_needs_it(p) {
        policies.extend(
            auto_mode::CLUSTER_POLICIES
                .iter()
                .map(|n| aws_policy(partition, n)),
        );
        (Trust::ServiceWithSessionTags(services), Vec::new())
    } else if auto_mode::turning_off(p) {
        (Trust::Service(services), vec!["cluster".to_owned()])
    } else {
        (Trust::Service(services), Vec::new())
    };
    let mut roles = vec![DesiredRole {
        resource: "role/cluster".to_owned(),
        name: naming::cluster_role(cluster),
        trust,
        description: format!("EKS control plane of {cluster} (ekspec)"),
        policies,
        inline: None,
        after,
    }];
    if !file.spec.node_groups.is_empty() {
        let ipv6 = file.spec.ip_family == IpFamily::Ipv6;
        roles.push(DesiredRole {
            resource: "role/node".to_owned(),
            name: naming::node_role(cluster),
            trust: Trust::Service(vec!["ec2.amazonaws.com".to_owned()]),
            description: format!("Managed node groups of {cluster} (ekspec)"),
            policies: [
                "AmazonEKSWorkerNodePolicy",
                // The VPC CNI's IPv4 permissions; an IPv6 cluster's CNI gets its own below.
                if ipv6 { "" } else { "AmazonEKS_CNI_Policy" },
                "AmazonEC2ContainerRegistryReadOnly",
                "AmazonSSMManagedInstanceCore",
            ]
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| aws_policy(partition, n))
            .collect(),
            inline: ipv6.then(|| cni_ipv6_policy(partition)),
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
    auto_mode::plan_node_role(p);
}

/// Plans the OIDC provider and the service account roles (after the cluster, whose issuer
/// IRSA needs). The provider is wanted while some account uses IRSA; once none does, it is
/// deleted after the trust updates that stop using it (see `planner::delete_after`).
pub fn plan_service_accounts(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    if file.spec.service_accounts.is_empty() {
        return;
    }
    let cluster = &file.metadata.name;
    let issuer = p.output_of("cluster", "issuer");
    let wants_provider = file
        .spec
        .service_accounts
        .iter()
        .any(|a| a.mechanism == IdentityMechanism::Irsa);
    let live = p
        .observed
        .oidc_providers
        .iter()
        .find(|o| p.owned(&o.tags) == Some("oidc-provider"))
        .cloned();
    if wants_provider {
        plan_provider(p, file, live.as_ref(), issuer.as_deref());
    }
    let oidc = match (&live, &issuer) {
        (Some(live), Some(issuer)) if live.url == issuer_host(issuer) => {
            Some((live.arn.clone(), issuer_host(issuer).to_owned()))
        }
        _ => None,
    };
    for account in &file.spec.service_accounts {
        let (trust, after, kind) = match account.mechanism {
            IdentityMechanism::Irsa => (
                Trust::ServiceAccount {
                    namespace: account.namespace.clone(),
                    name: account.name.clone(),
                },
                vec!["oidc-provider".to_owned()],
                "IRSA",
            ),
            IdentityMechanism::PodIdentity => (Trust::PodIdentity, Vec::new(), "Pod Identity"),
        };
        let role = DesiredRole {
            resource: pod_identity::role_resource(account),
            name: account
                .role_name
                .clone()
                .unwrap_or_else(|| naming::irsa_role(cluster, &account.namespace, &account.name)),
            trust,
            description: format!(
                "{kind} role of {}/{} in {cluster} (ekspec)",
                account.namespace, account.name
            ),
            policies: account.policy_arns.clone(),
            inline: account.inline_policy.clone(),
            after,
        };
        plan_account_role(
            p,
            role,
            Some(account),
            oidc.as_ref().map(|(a, h)| (a.as_str(), h.as_str())),
        );
    }
}

/// Plans the cluster's OIDC provider: made after the cluster, made again when the cluster's
/// issuer changed.
fn plan_provider(
    p: &mut Planning<'_>,
    file: &ClusterFile,
    live: Option<&ObservedOidcProvider>,
    issuer: Option<&str>,
) {
    let cluster = &file.metadata.name;
    p.desire("oidc-provider");
    let tags = owned_tags(file, "oidc-provider", &Tags::new());
    match (live, issuer) {
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
}

/// Plans one role: create, replace (renamed), or update its trust, policies and tags.
pub fn plan_role(p: &mut Planning<'_>, role: DesiredRole, oidc: Option<(&str, &str)>) {
    plan_account_role(p, role, None, oidc);
}

/// Plans a role; a service account's (`account`) may also move the account's binding: a
/// switch of mechanism, or a replaced role.
fn plan_account_role(
    p: &mut Planning<'_>,
    role: DesiredRole,
    account: Option<&ServiceAccountSpec>,
    oidc: Option<(&str, &str)>,
) {
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
    // An adopted role (made by another tool, outside ekspec's path) keeps its name unless the
    // spec names another one.
    let adopted = live.path != naming::iam_path(&file.metadata.name);
    let renamed = if adopted {
        account
            .and_then(|a| a.role_name.as_ref())
            .is_some_and(|n| *n != live.name)
    } else {
        live.name != role.name
    };
    if renamed {
        // A renamed service account role (roleName changed): make the new one, point the
        // account's binding at it, then drop the old one.
        let mut ops = vec![Operation::CreateRole {
            name: role.name.clone(),
            path: naming::iam_path(&file.metadata.name),
            trust: role.trust,
            description: role.description,
            tags,
            policies: role.policies,
            inline: role.inline,
        }];
        let mut fields = vec![FieldChange::new("roleName", &live.name, &role.name)];
        let mut after = role.after;
        if let Some(account) = account
            && let Some((bind, field)) = pod_identity::binding(p, file, account, true)
        {
            ops.push(bind);
            fields.push(field);
            after.extend(pod_identity::needs(file));
            p.rebind_in_role_change(&role.resource);
        }
        ops.push(Operation::DeleteRole {
            name: live.name.clone(),
        });
        p.push(
            Change::new(&role.resource, ChangeKind::Replace, ops)
                .id(&live.name)
                .fields(fields)
                .reason("IAM roles cannot be renamed")
                .after(after),
        );
        return;
    }
    let mut ops = Vec::new();
    let mut fields = Vec::new();
    let mut after = role.after;
    let mut reason = None;
    let switch = account.and_then(|account| switch(p, file, account, &live, oidc));
    if let Some(switch) = switch {
        ops.extend(switch.operations);
        fields.extend(switch.fields);
        after.extend(switch.after);
        reason = Some(switch.reason);
        p.rebind_in_role_change(&role.resource);
    } else {
        match trust_document(&role.trust, oidc) {
            Some(document) if document != live.trust_policy => {
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
            // IRSA through a provider not made yet (an account back from Pod Identity): the
            // document is known once the provider is, when the update runs.
            None if !trusts_oidc(&live.trust_policy) => {
                fields.push(FieldChange {
                    field: "trustPolicy".to_owned(),
                    old: Some(compact(&live.trust_policy)),
                    new: Some("(IRSA, through the OIDC provider being made)".to_owned()),
                });
                ops.push(Operation::UpdateTrust {
                    role: live.name.clone(),
                    trust: role.trust.clone(),
                });
            }
            _ => {}
        }
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
        let mut change = Change::new(&role.resource, ChangeKind::Update, ops)
            .id(&live.name)
            .fields(fields)
            .after(after);
        if let Some(reason) = reason {
            change = change.reason(reason);
        }
        p.push(change);
    }
}

/// The steps of a live service account role moving to its account's mechanism.
struct Switch {
    operations: Vec<Operation>,
    fields: Vec<FieldChange>,
    after: Vec<String>,
    reason: String,
}

/// A service account moving between IRSA and Pod Identity, with its old binding possibly in
/// use (the live trust still lets the old mechanism in) and the new one not made yet: the role
/// trusts both, the new binding is made (and the old association or add-on role removed),
/// then the role trusts the new mechanism only. Pods never lose access, and a run stopped
/// after any step leaves a state the next plan finishes from: trusting both, the binding is
/// made; bound, the trust is narrowed.
fn switch(
    p: &Planning<'_>,
    file: &ClusterFile,
    account: &ServiceAccountSpec,
    live: &ObservedRole,
    oidc: Option<(&str, &str)>,
) -> Option<Switch> {
    let (old_in_use, target, from, to, names) = match account.mechanism {
        // Without the provider the IRSA trust cannot work anyway.
        IdentityMechanism::PodIdentity => (
            trusts_oidc(&live.trust_policy) && oidc.is_some(),
            Trust::PodIdentity,
            "irsa",
            "podIdentity",
            ("IRSA", "Pod Identity"),
        ),
        IdentityMechanism::Irsa => (
            trusts_pod_identity(&live.trust_policy),
            Trust::ServiceAccount {
                namespace: account.namespace.clone(),
                name: account.name.clone(),
            },
            "podIdentity",
            "irsa",
            ("Pod Identity", "IRSA"),
        ),
    };
    if !old_in_use {
        return None;
    }
    let (bind, bind_field) = pod_identity::binding(p, file, account, false)?;
    let both = Trust::ServiceAccountAndPodIdentity {
        namespace: account.namespace.clone(),
        name: account.name.clone(),
    };
    let mut operations = Vec::new();
    if trust_document(&both, oidc).as_ref() != Some(&live.trust_policy) {
        operations.push(Operation::UpdateTrust {
            role: live.name.clone(),
            trust: both,
        });
    }
    operations.push(bind);
    let new_trust = trust_document(&target, oidc).map_or_else(
        || "(IRSA, through the OIDC provider being made)".to_owned(),
        |d| compact(&d),
    );
    operations.push(Operation::UpdateTrust {
        role: live.name.clone(),
        trust: target,
    });
    Some(Switch {
        operations,
        fields: vec![
            FieldChange::new("mechanism", from, to),
            bind_field,
            FieldChange::new("trustPolicy", compact(&live.trust_policy), new_trust),
        ],
        after: pod_identity::needs(file),
        reason: format!(
            "{}/{} moves from {} to {} in place: the role trusts both, the {} binding is made, then the role trusts {} only, so pods never lose access (restart them to pick up the new mechanism)",
            account.namespace, account.name, names.0, names.1, names.1, names.1
        ),
    })
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

    const OIDC: (&str, &str) = (
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
        "oidc.eks.us-east-1.amazonaws.com/id/ABC",
    );

    #[test]
    fn pod_identity_trust_is_the_document_the_eks_user_guide_shows() {
        // "Create IAM role with trust policy required by EKS Pod Identity".
        let documented = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"]
            }]
        });
        assert_eq!(trust_document(&Trust::PodIdentity, None), Some(documented));
    }

    #[test]
    fn a_switching_role_trusts_both_mechanisms_and_each_is_recognised() {
        let account = |t: fn(String, String) -> Trust| t("web".to_owned(), "app".to_owned());
        let irsa = trust_document(
            &account(|namespace, name| Trust::ServiceAccount { namespace, name }),
            Some(OIDC),
        )
        .unwrap();
        let both = trust_document(
            &account(|namespace, name| Trust::ServiceAccountAndPodIdentity { namespace, name }),
            Some(OIDC),
        )
        .unwrap();
        let pods = trust_document(&Trust::PodIdentity, None).unwrap();
        assert_eq!(
            both["Statement"],
            json!([irsa["Statement"][0], pods["Statement"][0]])
        );
        let seen = |d: &Value| (trusts_oidc(d), trusts_pod_identity(d));
        assert_eq!(seen(&irsa), (true, false));
        assert_eq!(seen(&both), (true, true));
        assert_eq!(seen(&pods), (false, true));
        // Written by hand: one statement, not a list; the principal in a list.
        let by_hand = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "pods.eks.amazonaws.com"]}, "Action": "sts:AssumeRole"}});
        assert_eq!(seen(&by_hand), (false, true));
        // Without the provider, neither IRSA document can be written yet.
        assert_eq!(
            trust_document(
                &account(|namespace, name| Trust::ServiceAccountAndPodIdentity { namespace, name }),
                None
            ),
            None
        );
    }
}
