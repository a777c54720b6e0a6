//! EKS add-ons: version (pinned, or EKS's default for the cluster's Kubernetes version), the
//! IRSA role of a declared service account, configuration values. Add-ons the network needs
//! (vpc-cni, kube-proxy, the pod identity agent) come before node groups; add-ons that run as
//! pods (coredns, CSI drivers...) after the first compute, as EKS recommends.

use crate::cloud::{ObservedAddon, Tags};
use crate::plan::operation::AddonAssociation;
use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::{AddonSpec, ClusterFile, IdentityMechanism, ServiceAccountSpec};

use super::planner::Planning;
use super::{eks_retag, owned_tags, pod_identity};

/// Add-ons nodes need before they can become Ready.
const BEFORE_NODES: &[&str] = &["vpc-cni", "kube-proxy", "eks-pod-identity-agent"];

/// The logical id of an add-on.
pub fn resource_id(name: &str) -> String {
    format!("addon/{name}")
}

/// The version an add-on should run on Kubernetes `kubernetes_version`: the pinned one, else
/// EKS's default (looked up while observing).
pub fn desired_version(
    p: &Planning<'_>,
    addon: &AddonSpec,
    kubernetes_version: &str,
) -> Option<String> {
    addon.version.clone().or_else(|| {
        p.observed
            .addon_defaults
            .get(&(addon.name.clone(), kubernetes_version.to_owned()))
            .cloned()
            .flatten()
    })
}

/// Configuration values as sent to EKS: compact JSON.
fn configuration_text(addon: &AddonSpec) -> Option<String> {
    addon
        .configuration_values
        .as_ref()
        .map(serde_json::Value::to_string)
}

/// Whether two configuration texts mean the same (absent, empty and `{}` are all "none").
fn same_configuration(live: Option<&str>, want: Option<&str>) -> bool {
    let parse = |text: Option<&str>| {
        text.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| serde_json::from_str::<serde_json::Value>(t).unwrap_or(t.into()))
            .filter(|v| v != &serde_json::json!({}))
    };
    parse(live) == parse(want)
}

/// The service account an add-on names.
pub fn account_of<'f>(file: &'f ClusterFile, addon: &AddonSpec) -> Option<&'f ServiceAccountSpec> {
    let account = addon.service_account.as_ref()?;
    file.spec
        .service_accounts
        .iter()
        .find(|s| &s.name == account)
}

/// How an add-on's service account gets its role: IRSA (`serviceAccountRoleArn`) or the
/// add-on's Pod Identity associations.
struct Identity {
    /// The role's logical id.
    role: String,
    /// The account's Kubernetes name.
    service_account: String,
    mechanism: IdentityMechanism,
}

impl Identity {
    fn of(file: &ClusterFile, addon: &AddonSpec) -> Option<Self> {
        account_of(file, addon).map(|account| Self {
            role: pod_identity::role_resource(account),
            service_account: account.name.clone(),
            mechanism: account.mechanism,
        })
    }

    /// The IRSA role to send, if the account uses IRSA.
    fn irsa_role(&self) -> Option<&str> {
        (self.mechanism == IdentityMechanism::Irsa).then_some(self.role.as_str())
    }

    /// The add-on's associations, if the account uses Pod Identity.
    fn associations(&self) -> Vec<AddonAssociation> {
        if self.mechanism == IdentityMechanism::PodIdentity {
            vec![AddonAssociation {
                service_account: self.service_account.clone(),
                role: Ref::output(&self.role, "arn"),
            }]
        } else {
            Vec::new()
        }
    }
}

/// Plans every declared add-on.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = file.metadata.name.clone();
    let version = &file.spec.kubernetes_version;
    let first_compute = file
        .spec
        .node_groups
        .first()
        .map(|g| format!("nodegroup/{}", g.name))
        .or_else(|| {
            file.spec
                .fargate_profiles
                .first()
                .map(|f| format!("fargate-profile/{}", f.name))
        });
    for addon in &file.spec.addons {
        let resource = resource_id(&addon.name);
        p.desire(&resource);
        let Some(want_version) = desired_version(p, addon, version) else {
            p.push(
                Change::new(&resource, ChangeKind::Impossible, Vec::new()).reason(format!(
                    "EKS has no version of add-on `{}` for Kubernetes {version}: check the name, or pin spec.addons[].version",
                    addon.name
                )),
            );
            continue;
        };
        let identity = Identity::of(file, addon);
        let configuration = configuration_text(addon);
        let mut after = vec!["cluster".to_owned()];
        if let Some(identity) = &identity {
            after.push(identity.role.clone());
            // EKS allows one association per service account: a standalone one the account
            // had before the add-on named it goes first.
            if let Some(account) = account_of(file, addon) {
                let standalone = pod_identity::resource_id(&account.namespace, &account.name);
                if p.observed
                    .pod_identity_associations
                    .iter()
                    .any(|a| a.owner_arn.is_none() && p.owned(&a.tags) == Some(standalone.as_str()))
                {
                    after.push(standalone);
                }
            }
        }
        if !BEFORE_NODES.contains(&addon.name.as_str()) {
            after.extend(first_compute.clone());
        }
        let live = p
            .observed
            .addons
            .iter()
            .find(|a| a.name == addon.name)
            .cloned();
        let Some(live) = live else {
            p.push(
                Change::new(
                    &resource,
                    ChangeKind::Create,
                    vec![Operation::CreateAddon {
                        cluster: cluster.clone(),
                        name: addon.name.clone(),
                        version: want_version,
                        role: identity
                            .as_ref()
                            .and_then(Identity::irsa_role)
                            .map(|r| Ref::output(r, "arn")),
                        configuration,
                        pod_identity: identity
                            .as_ref()
                            .map(Identity::associations)
                            .unwrap_or_default(),
                        tags: owned_tags(file, &resource, &Tags::new()),
                    }],
                )
                .id(&addon.name)
                .after(after),
            );
            continue;
        };
        let (mut ops, mut fields) = update(
            p,
            file,
            &live,
            &want_version,
            identity.as_ref(),
            configuration,
        );
        let adopted = p.owned(&live.tags).is_none();
        let tags = owned_tags(file, &resource, &Tags::new());
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
            .id(&addon.name)
            .fields(fields)
            .after(after);
        if adopted {
            change = change.reason(
                "the add-on exists on the cluster but was not created by ekspec; it is declared, so ekspec tags it and manages it from now on",
            );
        }
        p.push(change);
    }
}

/// The update of a live add-on towards the spec, if anything differs.
fn update(
    p: &Planning<'_>,
    file: &ClusterFile,
    live: &ObservedAddon,
    want_version: &str,
    identity: Option<&Identity>,
    configuration: Option<String>,
) -> (Vec<Operation>, Vec<FieldChange>) {
    let mut fields = Vec::new();
    if live.version != want_version {
        fields.push(FieldChange::new("version", &live.version, want_version));
    }
    // A service account changing mechanism (or a replaced role): the role's change moves the
    // binding between its trust updates; this change leaves it alone.
    let rebinding = identity.is_some_and(|i| p.is_rebinding(&i.role));
    let role = identity.and_then(Identity::irsa_role);
    let want_role_arn = role.and_then(|r| p.output_of(r, "arn"));
    let live_role_arn = live
        .service_account_role_arn
        .clone()
        .filter(|arn| !arn.is_empty());
    let role_changed = !rebinding
        && match (role, &live_role_arn) {
            (None, None) => false,
            (None, Some(_)) => true,
            (Some(_), live_arn) => want_role_arn.is_none() || live_arn != &want_role_arn,
        };
    if role_changed {
        fields.push(FieldChange {
            field: "serviceAccountRoleArn".to_owned(),
            old: live_role_arn,
            new: want_role_arn.or_else(|| role.map(|r| format!("({r})"))),
        });
    }
    let live_pairs = pod_identity::addon_associations(p, live);
    let want_pairs: Vec<(String, Option<String>)> = identity
        .filter(|i| i.mechanism == IdentityMechanism::PodIdentity)
        .map(|i| vec![(i.service_account.clone(), p.output_of(&i.role, "arn"))])
        .unwrap_or_default();
    let associations_changed = !rebinding
        && (want_pairs.len() != live_pairs.len()
            || want_pairs
                .iter()
                .zip(&live_pairs)
                .any(|((sa, arn), (live_sa, live_arn))| {
                    sa != live_sa || arn.as_ref() != Some(live_arn)
                }));
    if associations_changed {
        fields.push(FieldChange {
            field: "podIdentityAssociations".to_owned(),
            old: pod_identity::pairs_text(&live_pairs),
            new: identity
                .filter(|i| i.mechanism == IdentityMechanism::PodIdentity)
                .map(|i| {
                    format!(
                        "{} -> {}",
                        i.service_account,
                        p.output_of(&i.role, "arn")
                            .unwrap_or_else(|| format!("({})", i.role))
                    )
                }),
        });
    }
    if !same_configuration(
        live.configuration_values.as_deref(),
        configuration.as_deref(),
    ) {
        fields.push(FieldChange {
            field: "configurationValues".to_owned(),
            old: live.configuration_values.clone(),
            new: configuration.clone(),
        });
    }
    if fields.is_empty() {
        return (Vec::new(), fields);
    }
    let op = Operation::UpdateAddon {
        cluster: file.metadata.name.clone(),
        name: live.name.clone(),
        version: want_version.to_owned(),
        // An empty ARN removes the role; `{}` resets the configuration to the defaults. While
        // the role's change moves the binding, this runs after it and sends the same role.
        role: Some(role.map_or(Ref::Value(String::new()), |r| Ref::output(r, "arn"))),
        configuration: Some(configuration.unwrap_or_else(|| "{}".to_owned())),
        // An empty list deletes the add-on's associations.
        pod_identity: associations_changed
            .then(|| identity.map(Identity::associations).unwrap_or_default()),
    };
    (vec![op], fields)
}

/// Node groups start after the add-ons their nodes need to become Ready.
pub fn order(changes: &mut [Change]) {
    let before: Vec<String> = changes
        .iter()
        .filter(|c| {
            c.resource
                .strip_prefix("addon/")
                .is_some_and(|name| BEFORE_NODES.contains(&name))
                && matches!(c.kind, ChangeKind::Create | ChangeKind::Update)
        })
        .map(|c| c.resource.clone())
        .collect();
    for change in changes.iter_mut().filter(|c| {
        c.resource.starts_with("nodegroup/")
            && !c.resource.contains("/version-")
            && matches!(c.kind, ChangeKind::Create | ChangeKind::Replace)
    }) {
        change.after.extend(before.iter().cloned());
    }
}
