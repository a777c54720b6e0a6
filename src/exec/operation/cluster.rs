//! EKS cluster, tag, add-on and access entry operations.

use crate::cloud::{
    AccessEntryRequest, AddonPodIdentity, AddonRequest, ClusterRequest, ErrorKind, Tags, UpdateOf,
};
use crate::plan::Operation;
use crate::plan::operation::AddonAssociation;

use super::Context;
use super::retry::{
    cluster_not_active, create_when_accepted, on_active_cluster, retry_in_use, retry_new_role,
    wait_cluster_active, wait_update,
};
use crate::exec::ExecError;
use crate::exec::wait::Poll;

/// Runs a cluster `operation` for `resource`; another area's is an internal error.
pub(super) async fn run(
    ctx: &Context,
    resource: &str,
    operation: &Operation,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    match operation {
        Operation::TagEks { arn, tags } => cloud.kubernetes.tag_resource(arn, tags).await?,
        Operation::CreateCluster {
            name,
            version,
            role,
            subnets,
            endpoint_public_access,
            endpoint_private_access,
            public_access_cidrs,
            logging,
            encryption_key_arn,
            tags,
            auto_mode,
            support_type,
            deletion_protection,
            zonal_shift,
            scaling_tier,
            ip_family,
        } => {
            let request = ClusterRequest {
                name: name.clone(),
                version: version.clone(),
                role_arn: ctx.resolve(role)?,
                subnet_ids: ctx.resolve_all(subnets)?,
                endpoint_public_access: *endpoint_public_access,
                endpoint_private_access: *endpoint_private_access,
                public_access_cidrs: public_access_cidrs.clone(),
                enabled_log_types: logging.clone(),
                encryption_key_arn: encryption_key_arn.clone(),
                tags: tags.clone(),
                client_request_token: ctx.token(resource),
                auto_mode: auto_mode.clone(),
                support_type: support_type.clone(),
                deletion_protection: *deletion_protection,
                zonal_shift: *zonal_shift,
                scaling_tier: scaling_tier.clone(),
                ip_family: ip_family.clone(),
            };
            create_when_accepted(&ctx.waiter, &format!("creation of cluster {name}"), || {
                cloud.kubernetes.create_cluster(&request)
            })
            .await?;
            wait_cluster_active(ctx, name).await?;
        }
        Operation::UpdateClusterConfig { name, change } => {
            // EKS allows one update at a time: wait for any running one first.
            wait_cluster_active(ctx, name).await?;
            let id =
                retry_in_use(ctx, || cloud.kubernetes.update_cluster_config(name, change)).await?;
            if let Some(id) = id {
                wait_update(ctx, &ctx.waiter, name, UpdateOf::Cluster, &id).await?;
            }
            wait_cluster_active(ctx, name).await?;
        }
        Operation::UpdateClusterVersion { name, version } => {
            wait_cluster_active(ctx, name).await?;
            let id = retry_in_use(ctx, || {
                cloud
                    .kubernetes
                    .update_cluster_version(name, version, ctx.force_upgrade)
            })
            .await?;
            wait_update(ctx, &ctx.waiter, name, UpdateOf::Cluster, &id).await?;
            wait_cluster_active(ctx, name).await?;
        }
        Operation::AssociateEncryptionConfig { name, key_arn } => {
            wait_cluster_active(ctx, name).await?;
            let id = retry_in_use(ctx, || {
                cloud.kubernetes.associate_encryption_config(name, key_arn)
            })
            .await?;
            wait_update(ctx, &ctx.waiter, name, UpdateOf::Cluster, &id).await?;
            wait_cluster_active(ctx, name).await?;
        }
        Operation::CreateAddon {
            cluster,
            name,
            version,
            role,
            configuration,
            pod_identity,
            tags,
        } => {
            let request = AddonRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                version: version.clone(),
                service_account_role_arn: role.as_ref().map(|r| ctx.resolve(r)).transpose()?,
                configuration_values: configuration.clone(),
                // Not sent when empty: CreateAddon has nothing to remove.
                pod_identity_associations: (!pod_identity.is_empty())
                    .then(|| associations(ctx, pod_identity))
                    .transpose()?,
                tags: tags.clone(),
                client_request_token: ctx.token(resource),
            };
            let request = &request;
            on_active_cluster(ctx, cluster, move || {
                retry_new_role(&ctx.waiter, move || cloud.kubernetes.create_addon(request))
            })
            .await?;
            wait_addon(ctx, cluster, name, false).await?;
        }
        Operation::UpdateAddon {
            cluster,
            name,
            version,
            role,
            configuration,
            pod_identity,
        } => {
            let request = AddonRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                version: version.clone(),
                service_account_role_arn: role.as_ref().map(|r| ctx.resolve(r)).transpose()?,
                configuration_values: configuration.clone(),
                pod_identity_associations: pod_identity
                    .as_ref()
                    .map(|list| associations(ctx, list))
                    .transpose()?,
                tags: Tags::new(),
                client_request_token: ctx.token(resource),
            };
            wait_addon(ctx, cluster, name, false).await?;
            let request = &request;
            let id = on_active_cluster(ctx, cluster, move || {
                retry_in_use(ctx, move || cloud.kubernetes.update_addon(request))
            })
            .await?;
            if let Some(id) = id {
                wait_update(ctx, &ctx.waiter, cluster, UpdateOf::Addon(name), &id).await?;
            }
            wait_addon(ctx, cluster, name, false).await?;
        }
        Operation::DeleteAddon { cluster, name } => {
            cloud.kubernetes.delete_addon(cluster, name).await?;
            wait_addon(ctx, cluster, name, true).await?;
        }
        Operation::CreateAccessEntry {
            cluster,
            principal,
            groups,
            username,
            entry_type,
            tags,
        } => {
            let request = AccessEntryRequest {
                cluster: cluster.clone(),
                principal_arn: principal.clone(),
                kubernetes_groups: groups.clone(),
                username: username.clone(),
                entry_type: entry_type.clone(),
                tags: tags.clone(),
                client_request_token: ctx.token(resource),
            };
            let request = &request;
            // Its own refusals are handled below.
            let created = on_active_cluster(ctx, cluster, move || async move {
                match cloud.kubernetes.create_access_entry(request).await {
                    Err(error) if cluster_not_active(&error) => Err(error.into()),
                    other => Ok(other),
                }
            })
            .await?;
            match created {
                // A node or Fargate entry made meanwhile was made by EKS for the role as it
                // is now (a node group or profile created since): that is the one wanted.
                Err(error)
                    if entry_type.is_some()
                        && matches!(error.kind, ErrorKind::InUse | ErrorKind::AlreadyExists) =>
                {
                    tracing::info!(%error, "EKS made the entry meanwhile");
                }
                // Made since the plan was read (a retried call, or another run): EKS has one
                // entry per principal, so make that one match the spec and own it.
                Err(error) if matches!(error.kind, ErrorKind::InUse | ErrorKind::AlreadyExists) => {
                    tracing::info!(%error, "the access entry exists already; updating it");
                    let live = cloud
                        .kubernetes
                        .describe_access_entry(cluster, principal)
                        .await?
                        .ok_or(error)?;
                    cloud
                        .kubernetes
                        .update_access_entry(cluster, principal, groups, username.as_deref())
                        .await?;
                    cloud.kubernetes.tag_resource(&live.arn, tags).await?;
                }
                other => other?,
            }
        }
        Operation::UpdateAccessEntry {
            cluster,
            principal,
            groups,
            username,
        } => {
            on_active_cluster(ctx, cluster, move || async move {
                Ok(cloud
                    .kubernetes
                    .update_access_entry(cluster, principal, groups, username.as_deref())
                    .await?)
            })
            .await?;
        }
        Operation::AssociateAccessPolicy {
            cluster,
            principal,
            policy,
        } => {
            on_active_cluster(ctx, cluster, move || async move {
                Ok(cloud
                    .kubernetes
                    .associate_access_policy(cluster, principal, policy)
                    .await?)
            })
            .await?;
        }
        Operation::DisassociateAccessPolicy {
            cluster,
            principal,
            policy_arn,
        } => {
            cloud
                .kubernetes
                .disassociate_access_policy(cluster, principal, policy_arn)
                .await?;
        }
        Operation::DeleteAccessEntry { cluster, principal } => {
            cloud
                .kubernetes
                .delete_access_entry(cluster, principal)
                .await?;
        }
        Operation::DeleteCluster { name } => {
            cloud.kubernetes.delete_cluster(name).await?;
            ctx.waiter
                .wait(&format!("deletion of cluster {name}"), || async {
                    Ok(match cloud.kubernetes.describe_cluster(name).await? {
                        None => Poll::Done,
                        Some(c) => Poll::Pending(c.status),
                    })
                })
                .await?;
        }
        _ => {
            return Err(ExecError::Internal(format!(
                "{resource}: not a cluster operation: {operation:?}"
            )));
        }
    }
    Ok(())
}

/// An add-on's associations as sent to EKS, their roles resolved.
fn associations(
    ctx: &Context,
    list: &[AddonAssociation],
) -> Result<Vec<AddonPodIdentity>, ExecError> {
    list.iter()
        .map(|a| {
            Ok(AddonPodIdentity {
                service_account: a.service_account.clone(),
                role_arn: ctx.resolve(&a.role)?,
            })
        })
        .collect()
}

async fn wait_addon(ctx: &Context, cluster: &str, name: &str, gone: bool) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    let what = if gone {
        format!("deletion of add-on {name}")
    } else {
        format!("add-on {name}")
    };
    ctx.waiter
        .wait(&what, || async {
            let addon = cloud.kubernetes.describe_addon(cluster, name).await?;
            let issues = |a: &crate::cloud::ObservedAddon| {
                if a.health_issues.is_empty() {
                    String::new()
                } else {
                    format!(": {}", a.health_issues.join("; "))
                }
            };
            Ok(match (addon, gone) {
                (None, true) => Poll::Done,
                (None, false) => Poll::Failed("the add-on disappeared".to_owned()),
                (Some(a), false) if a.status == "ACTIVE" => Poll::Done,
                (Some(a), _) if a.status.ends_with("FAILED") => {
                    Poll::Failed(format!("the add-on is {}{}", a.status, issues(&a)))
                }
                // DEGRADED settles once its pods run; the timeout reports it if not.
                (Some(a), _) => Poll::Pending(format!("{}{}", a.status, issues(&a))),
            })
        })
        .await
}
