//! Add-ons: name, version (pinned to what runs), configuration values and the service
//! account whose role they use.

use crate::naming;
use crate::spec::{AddonSpec, IdentityMechanism, POD_IDENTITY_AGENT};

use super::Exporting;

/// Writes `spec.addons` (after `serviceAccounts`, which they refer to).
pub fn export(x: &mut Exporting<'_>) {
    let live = x.live;
    let mut pinned = Vec::new();
    for addon in &live.contents.addons {
        let resource = format!("addon {}", addon.name);
        if live.owned() && live.owned_id(&addon.tags).is_none() {
            x.omit(
                &resource,
                "tags",
                "not made by ekspec (no ekspec.io tags) in a cluster ekspec manages: left alone by plan unless declared",
            );
            continue;
        }
        for (key, value) in x.extra_tags(&resource, &addon.tags) {
            x.omit(
                &resource,
                format!("tags.{key}"),
                format!("{value}: add-ons carry only metadata.tags"),
            );
        }
        let mut roles: Vec<&str> = addon
            .service_account_role_arn
            .iter()
            .map(String::as_str)
            .collect();
        roles.extend(
            live.contents
                .pod_identity_associations
                .iter()
                .filter(|a| a.owner_arn.as_deref() == Some(addon.arn.as_str()))
                .map(|a| a.role_arn.as_str()),
        );
        roles.sort_unstable();
        roles.dedup();
        let mut service_account = None;
        for role_arn in roles {
            match account_with_role(x, role_arn) {
                Some(name) if service_account.is_none() => service_account = Some(name),
                _ => x.omit(
                    &resource,
                    "serviceAccountRole",
                    format!("{role_arn}: not the role of one service account of the spec"),
                ),
            }
        }
        let configuration_values = addon
            .configuration_values
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .and_then(
                |text| match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(value) => Some(value),
                    Err(_) => serde_yaml_value(text),
                },
            )
            .filter(|v| v != &serde_json::json!({}));
        if addon
            .configuration_values
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty())
            && configuration_values.is_none()
        {
            x.omit(
                &resource,
                "configurationValues",
                "not JSON or YAML ekspec can read",
            );
        }
        pinned.push(addon.name.clone());
        x.spec.addons.push(AddonSpec {
            name: addon.name.clone(),
            version: Some(addon.version.clone()),
            service_account,
            configuration_values,
        });
    }
    let pod_identity = x
        .spec
        .service_accounts
        .iter()
        .any(|a| a.mechanism == IdentityMechanism::PodIdentity);
    if pod_identity && !x.spec.addons.iter().any(|a| a.name == POD_IDENTITY_AGENT) {
        // Associations work only where the agent runs, and the spec installs it as an add-on.
        x.spec.addons.push(AddonSpec {
            name: POD_IDENTITY_AGENT.to_owned(),
            version: None,
            service_account: None,
            configuration_values: None,
        });
        x.infer(format!(
            "the cluster has Pod Identity associations but no `{POD_IDENTITY_AGENT}` add-on: the agent runs some other way, and the spec, which installs it as an add-on, lists it"
        ));
    }
    x.spec.addons.sort_by(|a, b| a.name.cmp(&b.name));
    if !pinned.is_empty() {
        x.infer("add-on versions are pinned to the versions running; remove `version` to follow EKS's default for the Kubernetes version");
    }
}

/// EKS takes configuration values as JSON or YAML text.
fn serde_yaml_value(text: &str) -> Option<serde_json::Value> {
    serde_saphyr::from_str(text).ok()
}

/// The name of the spec's service account whose role is `role_arn`.
fn account_with_role(x: &Exporting<'_>, role_arn: &str) -> Option<String> {
    let role = x.live.roles.iter().find(|r| r.arn == role_arn)?;
    x.spec
        .service_accounts
        .iter()
        .find(|a| {
            a.role_name
                .clone()
                .unwrap_or_else(|| naming::irsa_role(&x.live.cluster.name, &a.namespace, &a.name))
                == role.name
        })
        .map(|a| a.name.clone())
}
