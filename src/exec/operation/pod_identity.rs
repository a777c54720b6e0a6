//! EKS Pod Identity association operations.

use std::sync::Mutex;

use crate::cloud::{CloudResult, ErrorKind, PodIdentityAssociationRequest};
use crate::naming::RESOURCE_TAG;
use crate::plan::Operation;
use crate::resources::owned_id;

use super::Context;
use super::retry::{cluster_not_active, on_active_cluster, retry_new_role};
use crate::exec::ExecError;

/// Runs a Pod Identity `operation` for `resource` (the association's own change, or a service
/// account role's change that moves its binding); another area's is an internal error.
pub(super) async fn run(
    ctx: &Context,
    resource: &str,
    operation: &Operation,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    match operation {
        Operation::CreatePodIdentityAssociation {
            cluster,
            namespace,
            service_account,
            role,
            tags,
        } => {
            // The association's logical id (the tags say it also when a role's change runs this).
            let association = tags.get(RESOURCE_TAG).map_or(resource, String::as_str);
            let request = PodIdentityAssociationRequest {
                cluster: cluster.clone(),
                namespace: namespace.clone(),
                service_account: service_account.clone(),
                role_arn: ctx.resolve(role)?,
                tags: tags.clone(),
                client_request_token: ctx.token(association),
            };
            let outcome: Mutex<Option<CloudResult<String>>> = Mutex::new(None);
            let (request, outcome_ref) = (&request, &outcome);
            on_active_cluster(ctx, cluster, move || async move {
                // While EKS cannot use a role made moments ago, the create is tried again.
                retry_new_role(&ctx.waiter, move || async move {
                    match cloud
                        .pod_identity
                        .create_pod_identity_association(request)
                        .await
                    {
                        Err(error)
                            if !cluster_not_active(&error)
                                && matches!(
                                    error.kind,
                                    ErrorKind::InUse | ErrorKind::AlreadyExists
                                ) =>
                        {
                            store(outcome_ref, Err(error));
                            Ok(())
                        }
                        Err(error) => Err(error),
                        Ok(id) => {
                            store(outcome_ref, Ok(id));
                            Ok(())
                        }
                    }
                })
                .await
            })
            .await?;
            let outcome = outcome
                .into_inner()
                .map_err(|_| ExecError::Internal("association outcome lock poisoned".to_owned()))?
                .ok_or_else(|| ExecError::Internal("the create returned nothing".to_owned()))?;
            let id = match outcome {
                Ok(id) => id,
                // EKS allows one association per service account: one made since the plan
                // was read (a create whose answer was lost) is this one if it carries its
                // tags; any other is not ekspec's to change.
                Err(error) => {
                    let live = cloud
                        .pod_identity
                        .list_pod_identity_associations(cluster)
                        .await?
                        .into_iter()
                        .find(|a| {
                            &a.namespace == namespace && &a.service_account == service_account
                        })
                        .filter(|a| {
                            a.owner_arn.is_none() && owned_id(&a.tags, cluster) == Some(association)
                        })
                        .ok_or(error)?;
                    tracing::info!(id = %live.association_id, "the association exists already");
                    if live.role_arn != request.role_arn {
                        cloud
                            .pod_identity
                            .update_pod_identity_association(
                                cluster,
                                &live.association_id,
                                &request.role_arn,
                            )
                            .await?;
                    }
                    live.association_id
                }
            };
            ctx.set(association, "id", id);
        }
        Operation::UpdatePodIdentityAssociation {
            cluster,
            association_id,
            role,
        } => {
            let role_arn = ctx.resolve(role)?;
            let role_arn = &role_arn;
            on_active_cluster(ctx, cluster, move || async move {
                Ok(cloud
                    .pod_identity
                    .update_pod_identity_association(cluster, association_id, role_arn)
                    .await?)
            })
            .await?;
        }
        Operation::DeletePodIdentityAssociation {
            cluster,
            association_id,
        } => {
            on_active_cluster(ctx, cluster, move || async move {
                Ok(cloud
                    .pod_identity
                    .delete_pod_identity_association(cluster, association_id)
                    .await?)
            })
            .await?;
        }
        _ => {
            return Err(ExecError::Internal(format!(
                "{resource}: not a Pod Identity operation: {operation:?}"
            )));
        }
    }
    Ok(())
}

fn store(slot: &Mutex<Option<CloudResult<String>>>, outcome: CloudResult<String>) {
    if let Ok(mut slot) = slot.lock() {
        *slot = Some(outcome);
    }
}
