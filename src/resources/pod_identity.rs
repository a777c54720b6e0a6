//! EKS Pod Identity associations: a namespace and service account bound to an IAM role. One
//! per service account with `mechanism: podIdentity` that no add-on uses (an add-on's are made
//! and owned by EKS through the add-on, see `addon`), plus Karpenter's controller. EKS allows one
//! association per service account, so one ekspec did not create blocks the plan.
//!
//! A service account that changes mechanism keeps its role; the role's change carries the move
//! of the binding ([`binding`]) between two trust updates, so pods never lose access.

use crate::cloud::{ObservedAddon, ObservedPodIdentityAssociation, Tags};
use crate::plan::operation::AddonAssociation;
use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::{
    AddonSpec, ClusterFile, IdentityMechanism, POD_IDENTITY_AGENT, ServiceAccountSpec,
};

use super::planner::Planning;
use super::{addon, eks_retag, owned_tags};

/// The logical id of the association of a service account.
pub fn resource_id(namespace: &str, service_account: &str) -> String {
    format!("pod-identity/{namespace}/{service_account}")
}

/// The logical id of a service account's role (both mechanisms: switching keeps the role).
pub fn role_resource(account: &ServiceAccountSpec) -> String {
    format!("role/irsa/{}/{}", account.namespace, account.name)
}

/// A standalone association the spec wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredAssociation {
    /// Kubernetes namespace.
    pub namespace: String,
    /// Kubernetes service account.
    pub service_account: String,
    /// The logical id of its role.
    pub role: String,
}

/// The standalone associations of `file`: every podIdentity service account no add-on uses,
/// and Karpenter's controller.
pub fn desired(file: &ClusterFile) -> Vec<DesiredAssociation> {
    let mut wanted: Vec<DesiredAssociation> = file
        .spec
        .service_accounts
        .iter()
        .filter(|a| a.mechanism == IdentityMechanism::PodIdentity)
        .filter(|a| addon_of(file, a).is_none())
        .map(|a| DesiredAssociation {
            namespace: a.namespace.clone(),
            service_account: a.name.clone(),
            role: role_resource(a),
        })
        .collect();
    if let Some(karpenter) = &file.spec.karpenter {
        wanted.push(DesiredAssociation {
            namespace: karpenter.namespace().to_owned(),
            service_account: karpenter.service_account().to_owned(),
            role: "role/karpenter".to_owned(),
        });
    }
    wanted
}

/// The declared add-on whose `serviceAccount` is `account`.
pub fn addon_of<'f>(file: &'f ClusterFile, account: &ServiceAccountSpec) -> Option<&'f AddonSpec> {
    file.spec.addons.iter().find(|a| {
        addon::account_of(file, a)
            .is_some_and(|s| s.namespace == account.namespace && s.name == account.name)
    })
}

/// The live association of a namespace and service account, whoever made it.
fn live_for<'o>(
    p: &Planning<'o>,
    namespace: &str,
    service_account: &str,
) -> Option<&'o ObservedPodIdentityAssociation> {
    p.observed
        .pod_identity_associations
        .iter()
        .find(|a| a.namespace == namespace && a.service_account == service_account)
}

/// The live standalone association this cluster owns under `resource`.
fn owned<'o>(p: &Planning<'o>, resource: &str) -> Option<&'o ObservedPodIdentityAssociation> {
    p.observed
        .pod_identity_associations
        .iter()
        .find(|a| a.owner_arn.is_none() && p.owned(&a.tags) == Some(resource))
}

/// The service accounts and roles of a live add-on's associations (`service account -> role
/// ARN`), sorted; an association not in the list shows its ARN.
pub fn addon_associations(p: &Planning<'_>, live: &ObservedAddon) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = live
        .pod_identity_associations
        .iter()
        .map(|arn| {
            p.observed
                .pod_identity_associations
                .iter()
                .find(|a| &a.association_arn == arn)
                .map_or_else(
                    || (String::new(), arn.clone()),
                    |a| (a.service_account.clone(), a.role_arn.clone()),
                )
        })
        .collect();
    pairs.sort();
    pairs
}

/// `sa -> role, ...` for plans.
pub fn pairs_text(pairs: &[(String, String)]) -> Option<String> {
    (!pairs.is_empty()).then(|| {
        pairs
            .iter()
            .map(|(sa, role)| format!("{sa} -> {role}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The name of the add-on that owns an association (its ARN is
/// `arn:PARTITION:eks:REGION:ACCOUNT:addon/CLUSTER/NAME/ID`).
fn owner_addon(owner_arn: &str) -> Option<&str> {
    owner_arn
        .split_once(":addon/")
        .and_then(|(_, rest)| rest.split('/').nth(1))
}

/// The role ARN of `role` when it exists, else how the plan names it.
fn role_text(p: &Planning<'_>, role: &str) -> String {
    p.output_of(role, "arn")
        .unwrap_or_else(|| format!("({role})"))
}

/// The operation that binds `account` to its role by the account's mechanism when the live
/// binding is another, with the field it changes: the association made (or, for IRSA,
/// deleted); for an add-on's account, the add-on's associations and `serviceAccountRoleArn`.
/// `repoint`: the role is being replaced, so a binding to the old one is pointed at the new.
/// `None` when the live binding already is the account's (or, for an add-on not made yet, the
/// add-on's create makes it).
pub fn binding(
    p: &Planning<'_>,
    file: &ClusterFile,
    account: &ServiceAccountSpec,
    repoint: bool,
) -> Option<(Operation, FieldChange)> {
    let cluster = file.metadata.name.clone();
    let role = role_resource(account);
    let role_ref = Ref::output(&role, "arn");
    let resource = resource_id(&account.namespace, &account.name);
    let pod_identity = account.mechanism == IdentityMechanism::PodIdentity;
    if let Some(spec) = addon_of(file, account) {
        let live = p.observed.addons.iter().find(|a| a.name == spec.name)?;
        let pairs = addon_associations(p, live);
        let has_role_arn = live
            .service_account_role_arn
            .as_deref()
            .is_some_and(|arn| !arn.is_empty());
        let has_association = pairs.iter().any(|(sa, _)| sa == &account.name);
        let differs = if pod_identity {
            has_role_arn || !has_association
        } else {
            has_association || !has_role_arn
        };
        if !differs && !repoint {
            return None;
        }
        let (role_arn, associations, new) = if pod_identity {
            (
                Ref::Value(String::new()),
                vec![AddonAssociation {
                    service_account: account.name.clone(),
                    role: role_ref,
                }],
                Some(format!("{} -> {}", account.name, role_text(p, &role))),
            )
        } else {
            (role_ref, Vec::new(), None)
        };
        return Some((
            Operation::UpdateAddon {
                cluster,
                name: live.name.clone(),
                version: live.version.clone(),
                role: Some(role_arn),
                // As it is: the add-on's own change (after this one) applies the spec's.
                configuration: live.configuration_values.clone(),
                pod_identity: Some(associations),
            },
            FieldChange {
                field: format!("{}.podIdentityAssociations", addon::resource_id(&spec.name)),
                old: pairs_text(&pairs),
                new,
            },
        ));
    }
    let field = |old: Option<String>, new: Option<String>| FieldChange {
        field: resource.clone(),
        old,
        new,
    };
    if !pod_identity {
        let live = owned(p, &resource)?;
        return Some((
            Operation::DeletePodIdentityAssociation {
                cluster,
                association_id: live.association_id.clone(),
            },
            field(Some(live.role_arn.clone()), None),
        ));
    }
    match live_for(p, &account.namespace, &account.name) {
        None => Some((
            Operation::CreatePodIdentityAssociation {
                cluster,
                namespace: account.namespace.clone(),
                service_account: account.name.clone(),
                role: role_ref,
                tags: owned_tags(file, &resource, &Tags::new()),
            },
            field(None, Some(role_text(p, &role))),
        )),
        Some(live) if repoint && p.owned(&live.tags) == Some(resource.as_str()) => Some((
            Operation::UpdatePodIdentityAssociation {
                cluster,
                association_id: live.association_id.clone(),
                role: role_ref,
            },
            field(Some(live.role_arn.clone()), Some(format!("({role})"))),
        )),
        Some(_) => None,
    }
}

/// What making or pointing an association waits for (besides its role): the cluster, and the
/// Pod Identity agent when the spec has it.
pub fn needs(file: &ClusterFile) -> Vec<String> {
    let mut after = vec!["cluster".to_owned()];
    if file
        .spec
        .addons
        .iter()
        .any(|a| a.name == POD_IDENTITY_AGENT)
    {
        after.push(addon::resource_id(POD_IDENTITY_AGENT));
    }
    after
}

/// Plans the standalone associations.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = file.metadata.name.clone();
    for want in desired(file) {
        let resource = resource_id(&want.namespace, &want.service_account);
        p.desire(&resource);
        let tags = owned_tags(file, &resource, &Tags::new());
        if p.is_rebinding(&want.role) {
            // The role's change makes or points it (see `binding`); a live one's tags are
            // still this resource's to bring up to date.
            let live = live_for(p, &want.namespace, &want.service_account)
                .filter(|live| {
                    live.owner_arn.is_none() && p.owned(&live.tags) == Some(resource.as_str())
                })
                .cloned();
            if let Some(live) = live
                && let Some((tag, fields)) = eks_retag(&live.association_arn, &live.tags, &tags)
            {
                p.push(
                    Change::new(&resource, ChangeKind::Update, vec![tag])
                        .id(&live.association_id)
                        .fields(fields),
                );
            }
            continue;
        }
        let mut after = vec![want.role.clone()];
        after.extend(needs(file));
        let live = live_for(p, &want.namespace, &want.service_account).cloned();
        let Some(live) = live else {
            p.push(
                Change::new(
                    &resource,
                    ChangeKind::Create,
                    vec![Operation::CreatePodIdentityAssociation {
                        cluster: cluster.clone(),
                        namespace: want.namespace.clone(),
                        service_account: want.service_account.clone(),
                        role: Ref::output(&want.role, "arn"),
                        tags,
                    }],
                )
                .after(after),
            );
            continue;
        };
        if live.owner_arn.is_some() || p.owned(&live.tags) != Some(resource.as_str()) {
            blocked(p, file, &want, &live, after);
            continue;
        }
        let mut ops = Vec::new();
        let mut fields = Vec::new();
        let want_arn = p.output_of(&want.role, "arn");
        if want_arn.as_deref() != Some(live.role_arn.as_str()) {
            fields.push(FieldChange {
                field: "roleArn".to_owned(),
                old: Some(live.role_arn.clone()),
                new: Some(want_arn.unwrap_or_else(|| format!("({})", want.role))),
            });
            ops.push(Operation::UpdatePodIdentityAssociation {
                cluster: cluster.clone(),
                association_id: live.association_id.clone(),
                role: Ref::output(&want.role, "arn"),
            });
        }
        if let Some((tag, tag_fields)) = eks_retag(&live.association_arn, &live.tags, &tags) {
            ops.push(tag);
            fields.extend(tag_fields);
        }
        if !ops.is_empty() {
            p.push(
                Change::new(&resource, ChangeKind::Update, ops)
                    .id(&live.association_id)
                    .fields(fields)
                    .after(after),
            );
        }
    }
}

/// A role's change that moves an add-on's binding runs after that add-on's upgrade steps:
/// each step sends the add-on's role as it was when planned, which would undo the move.
pub fn order(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let moved: Vec<(String, String)> = file
        .spec
        .service_accounts
        .iter()
        .filter(|account| p.is_rebinding(&role_resource(account)))
        .filter_map(|account| {
            let addon = addon_of(file, account)?;
            Some((
                role_resource(account),
                format!("{}/version-", addon::resource_id(&addon.name)),
            ))
        })
        .collect();
    for (role, steps) in moved {
        let before: Vec<String> = p
            .changes()
            .iter()
            .filter(|c| c.resource.starts_with(&steps))
            .map(|c| c.resource.clone())
            .collect();
        if let Some(change) = p.changes_mut().iter_mut().find(|c| c.resource == role) {
            change.after.extend(before);
        }
    }
}

/// A service account that already has an association ekspec did not make: EKS allows one per
/// service account. One an add-on ekspec manages is released by that add-on's change first;
/// any other is left alone and blocks the plan.
fn blocked(
    p: &mut Planning<'_>,
    file: &ClusterFile,
    want: &DesiredAssociation,
    live: &ObservedPodIdentityAssociation,
    mut after: Vec<String>,
) {
    let resource = resource_id(&want.namespace, &want.service_account);
    let resource = resource.as_str();
    let owner = live.owner_arn.as_deref().and_then(owner_addon);
    let managed_addon = owner.filter(|name| {
        let id = addon::resource_id(name);
        let declared = file.spec.addons.iter().any(|a| &a.name == name);
        let owned = p
            .observed
            .addons
            .iter()
            .any(|a| &a.name == name && p.owned(&a.tags) == Some(id.as_str()));
        declared || owned
    });
    if let Some(name) = managed_addon {
        // The add-on's update (no longer naming this account) or delete removes its
        // association; the standalone one is made after it.
        after.push(addon::resource_id(name));
        p.push(
            Change::new(
                resource,
                ChangeKind::Create,
                vec![Operation::CreatePodIdentityAssociation {
                    cluster: file.metadata.name.clone(),
                    namespace: live.namespace.clone(),
                    service_account: live.service_account.clone(),
                    role: Ref::output(&want.role, "arn"),
                    tags: owned_tags(file, resource, &Tags::new()),
                }],
            )
            .after(after),
        );
        return;
    }
    let made_by = match &live.owner_arn {
        Some(owner) => format!("the add-on {owner}"),
        None => "something other than ekspec".to_owned(),
    };
    p.push(
        Change::new(resource, ChangeKind::Impossible, Vec::new())
            .id(&live.association_id)
            .fields(vec![FieldChange::new(
                "roleArn",
                &live.role_arn,
                format!("({})", want.role),
            )])
            .reason(format!(
                "{}/{} already has the Pod Identity association {} (role {}), made by {made_by}; EKS allows one association per service account and ekspec does not change one it did not create: delete it (aws eks delete-pod-identity-association --cluster-name {} --association-id {}) or use another service account",
                live.namespace,
                live.service_account,
                live.association_id,
                live.role_arn,
                file.metadata.name,
                live.association_id
            )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Observed;
    use crate::resources::planner::plan as plan_cluster;

    fn file(extra: &str) -> ClusterFile {
        let text = format!(
            "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {{name: demo, region: us-east-1}}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {{availabilityZones: [us-east-1a, us-east-1b], natGateway: none}}\n  serviceAccounts:\n    - {{name: app, namespace: web, mechanism: podIdentity}}\n    - {{name: dns, namespace: kube-system}}\n    - {{name: ebs-csi-controller-sa, namespace: kube-system, mechanism: podIdentity}}\n  addons:\n    - {{name: eks-pod-identity-agent}}\n    - {{name: aws-ebs-csi-driver, serviceAccount: ebs-csi-controller-sa}}\n{extra}"
        );
        let report = crate::spec::parse_str("t.yaml", &text);
        report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics))
    }

    #[test]
    fn standalone_associations_are_pod_identity_accounts_no_add_on_uses_and_karpenters() {
        let wanted = |file: &ClusterFile| -> Vec<(String, String, String)> {
            desired(file)
                .into_iter()
                .map(|d| (d.namespace, d.service_account, d.role))
                .collect()
        };
        assert_eq!(
            wanted(&file("")),
            [("web".into(), "app".into(), "role/irsa/web/app".into())]
        );
        assert_eq!(
            wanted(&file("  karpenter: {version: \"1.8.1\"}\n"))[1],
            (
                "karpenter".into(),
                "karpenter".into(),
                "role/karpenter".into()
            )
        );
        assert_eq!(
            wanted(&file(
                "  karpenter: {version: \"1.8.1\", namespace: kube-system, serviceAccount: kpt}\n"
            ))[1],
            ("kube-system".into(), "kpt".into(), "role/karpenter".into())
        );
    }

    #[test]
    fn karpenters_association_is_made_after_its_role_the_cluster_and_the_agent() {
        let plan = plan_cluster(
            &file("  karpenter: {version: \"1.8.1\"}\n"),
            &Observed::default(),
        );
        let change = plan
            .changes
            .iter()
            .find(|c| c.resource == "pod-identity/karpenter/karpenter")
            .unwrap_or_else(|| panic!("{:#?}", plan.changes));
        assert_eq!(change.kind, ChangeKind::Create);
        assert_eq!(
            change.after,
            ["role/karpenter", "cluster", "addon/eks-pod-identity-agent"]
        );
        assert!(matches!(
            &change.operations[..],
            [Operation::CreatePodIdentityAssociation { namespace, service_account, role, tags, .. }]
                if namespace == "karpenter"
                    && service_account == "karpenter"
                    && role == &Ref::output("role/karpenter", "arn")
                    && tags.get(crate::naming::RESOURCE_TAG).map(String::as_str)
                        == Some("pod-identity/karpenter/karpenter")
        ));
    }

    #[test]
    fn the_owning_add_on_is_read_from_its_arn() {
        assert_eq!(
            owner_addon("arn:aws:eks:us-east-1:111122223333:addon/demo/aws-ebs-csi-driver/a1b2"),
            Some("aws-ebs-csi-driver")
        );
        assert_eq!(owner_addon("arn:aws:eks:us-east-1:1:cluster/demo"), None);
    }
}
