//! EKS add-ons: version (pinned, or EKS's default for the cluster's Kubernetes version), the
//! IRSA role of a declared service account, configuration values. Add-ons the network needs
//! (vpc-cni, kube-proxy, the pod identity agent) come before node groups; add-ons that run as
//! pods (coredns, CSI drivers...) after the first compute, as EKS recommends.

use crate::cloud::{ObservedAddon, Tags};
use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::{AddonSpec, ClusterFile};

use super::planner::Planning;
use super::{eks_retag, owned_tags};

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

/// The IRSA role resource of the service account an add-on names.
fn role_resource(file: &ClusterFile, addon: &AddonSpec) -> Option<String> {
    let account = addon.service_account.as_ref()?;
    file.spec
        .service_accounts
        .iter()
        .find(|s| &s.name == account)
        .map(|s| format!("role/irsa/{}/{}", s.namespace, s.name))
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
        let role = role_resource(file, addon);
        let configuration = configuration_text(addon);
        let mut after = vec!["cluster".to_owned()];
        after.extend(role.clone());
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
                        role: role.as_deref().map(|r| Ref::output(r, "arn")),
                        configuration,
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
            role.as_deref(),
            configuration,
        );
        let adopted = p.owned(&live.tags).is_none();
        let tags = owned_tags(file, &resource, &Tags::new());
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
    role: Option<&str>,
    configuration: Option<String>,
) -> (Vec<Operation>, Vec<FieldChange>) {
    let mut fields = Vec::new();
    if live.version != want_version {
        fields.push(FieldChange::new("version", &live.version, want_version));
    }
    let want_role_arn = role.and_then(|r| p.output_of(r, "arn"));
    let role_changed = match (role, &live.service_account_role_arn) {
        (None, None) => false,
        (None, Some(_)) => true,
        (Some(_), live_arn) => want_role_arn.is_none() || live_arn != &want_role_arn,
    };
    if role_changed {
        fields.push(FieldChange {
            field: "serviceAccountRoleArn".to_owned(),
            old: live.service_account_role_arn.clone(),
            new: want_role_arn.or_else(|| role.map(|r| format!("({r})"))),
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
        // An empty ARN removes the role; `{}` resets the configuration to the defaults.
        role: Some(role.map_or(Ref::Value(String::new()), |r| Ref::output(r, "arn"))),
        configuration: Some(configuration.unwrap_or_else(|| "{}".to_owned())),
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
