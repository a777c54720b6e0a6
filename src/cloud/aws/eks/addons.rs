//! `Addons` over EKS add-ons.

use async_trait::async_trait;
use aws_sdk_eks::types::{Addon, AddonInfo, AddonPodIdentityAssociations, ResolveConflicts};

use super::{describe_each, issue_text, string_map, tags_of};
use crate::cloud::aws::{AwsCloud, AwsContext, OrGone, string};
use crate::cloud::{AddonRequest, Addons, CloudResult, ObservedAddon};

fn observed_addon(addon: &Addon) -> ObservedAddon {
    ObservedAddon {
        name: string(addon.addon_name()),
        arn: string(addon.addon_arn()),
        version: string(addon.addon_version()),
        status: addon
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        service_account_role_arn: addon
            .service_account_role_arn()
            .filter(|arn| !arn.is_empty())
            .map(str::to_owned),
        configuration_values: addon
            .configuration_values()
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned),
        pod_identity_associations: {
            let mut arns = addon.pod_identity_associations().to_vec();
            arns.sort();
            arns
        },
        health_issues: addon
            .health()
            .map(|h| h.issues())
            .unwrap_or_default()
            .iter()
            .map(|issue| issue_text(issue.code().map(|c| c.as_str()), issue.message()))
            .collect(),
        tags: tags_of(addon.tags()),
    }
}

/// An add-on's Pod Identity associations as CreateAddon and UpdateAddon take them; `None`
/// leaves the field out.
fn addon_pod_identities(
    request: &AddonRequest,
    operation: &'static str,
) -> CloudResult<Option<Vec<AddonPodIdentityAssociations>>> {
    let Some(associations) = &request.pod_identity_associations else {
        return Ok(None);
    };
    associations
        .iter()
        .map(|a| {
            AddonPodIdentityAssociations::builder()
                .service_account(&a.service_account)
                .role_arn(&a.role_arn)
                .build()
                .context(
                    operation,
                    format!("add-on {}/{}", request.cluster, request.name),
                )
        })
        .collect::<CloudResult<Vec<_>>>()
        .map(Some)
}

/// The version EKS marks as the default for `kubernetes_version`; when none is marked, the
/// newest compatible one (EKS lists versions newest first).
fn default_version(infos: &[AddonInfo], addon: &str, kubernetes_version: &str) -> Option<String> {
    let compatible: Vec<(&str, bool)> = infos
        .iter()
        .filter(|info| info.addon_name() == Some(addon))
        .flat_map(|info| info.addon_versions())
        .filter_map(|version| {
            let compatibility = version
                .compatibilities()
                .iter()
                .find(|c| c.cluster_version() == Some(kubernetes_version))?;
            Some((version.addon_version()?, compatibility.default_version()))
        })
        .collect();
    compatible
        .iter()
        .find(|(_, default)| *default)
        .or_else(|| compatible.first())
        .map(|(version, _)| (*version).to_owned())
}

#[async_trait]
impl Addons for AwsCloud {
    async fn list_addons(&self, cluster: &str) -> CloudResult<Vec<ObservedAddon>> {
        let names: Vec<String> = all_items!(
            self.eks.list_addons().cluster_name(cluster),
            "ListAddons",
            format!("cluster {cluster}")
        )?;
        describe_each(
            names,
            |name| async move { self.describe_addon(cluster, &name).await },
            |addon: &ObservedAddon| addon.name.clone(),
        )
        .await
    }

    async fn describe_addon(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedAddon>> {
        let output = self
            .eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .send()
            .await
            .context("DescribeAddon", format!("add-on {cluster}/{name}"))
            .or_gone()?;
        Ok(output.and_then(|o| o.addon().map(observed_addon)))
    }

    async fn default_addon_version(
        &self,
        addon: &str,
        kubernetes_version: &str,
    ) -> CloudResult<Option<String>> {
        let infos: Vec<AddonInfo> = all_items!(
            self.eks
                .describe_addon_versions()
                .addon_name(addon)
                .kubernetes_version(kubernetes_version),
            "DescribeAddonVersions",
            format!("add-on {addon} for Kubernetes {kubernetes_version}")
        )?;
        Ok(default_version(&infos, addon, kubernetes_version))
    }

    async fn create_addon(&self, request: &AddonRequest) -> CloudResult<()> {
        let pod_identities = addon_pod_identities(request, "CreateAddon")?;
        self.eks
            .create_addon()
            .cluster_name(&request.cluster)
            .addon_name(&request.name)
            .addon_version(&request.version)
            .set_service_account_role_arn(request.service_account_role_arn.clone())
            .set_configuration_values(request.configuration_values.clone())
            .set_pod_identity_associations(pod_identities)
            // ekspec owns the add-on's fields: self-managed leftovers are overwritten.
            .resolve_conflicts(ResolveConflicts::Overwrite)
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context(
                "CreateAddon",
                format!("add-on {}/{}", request.cluster, request.name),
            )
            .map(drop)
    }

    async fn update_addon(&self, request: &AddonRequest) -> CloudResult<Option<String>> {
        let pod_identities = addon_pod_identities(request, "UpdateAddon")?;
        let output = self
            .eks
            .update_addon()
            .cluster_name(&request.cluster)
            .addon_name(&request.name)
            .addon_version(&request.version)
            // An empty role ARN removes the role; `{}` resets the configuration.
            .set_service_account_role_arn(request.service_account_role_arn.clone())
            .set_configuration_values(request.configuration_values.clone())
            // An empty list deletes every association of the add-on; none sent keeps them.
            .set_pod_identity_associations(pod_identities)
            .resolve_conflicts(ResolveConflicts::Overwrite)
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context(
                "UpdateAddon",
                format!("add-on {}/{}", request.cluster, request.name),
            )?;
        Ok(output.update().and_then(|u| u.id().map(str::to_owned)))
    }

    async fn delete_addon(&self, cluster: &str, name: &str) -> CloudResult<()> {
        self.eks
            .delete_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .send()
            .await
            .context("DeleteAddon", format!("add-on {cluster}/{name}"))
            .or_gone()
            .map(drop)
    }
}
