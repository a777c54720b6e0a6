//! IAM role, policy, trust and OIDC provider operations.

use crate::cloud::RoleRequest;
use crate::plan::{Operation, Ref};
use crate::resources::iam::INLINE_POLICY_NAME;

use super::Context;
use super::retry::wait_cluster_active;
use crate::exec::ExecError;

/// Runs an IAM `operation` for `resource`; another area's is an internal error.
pub(super) async fn run(
    ctx: &Context,
    resource: &str,
    operation: &Operation,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    match operation {
        Operation::TagOidcProvider { arn, tags } => {
            cloud.identity.tag_oidc_provider(arn, tags).await?;
        }
        Operation::CreateRole {
            name,
            path,
            trust,
            description,
            tags,
            policies,
            inline,
        } => {
            let request = RoleRequest {
                name: name.clone(),
                path: path.clone(),
                trust_policy: ctx.trust(trust)?,
                description: description.clone(),
                tags: tags.clone(),
            };
            let arn = cloud.identity.create_role(&request).await?;
            for policy in policies {
                cloud.identity.attach_policy(name, policy).await?;
            }
            if let Some(document) = inline {
                cloud
                    .identity
                    .put_inline_policy(name, INLINE_POLICY_NAME, document)
                    .await?;
            }
            ctx.set(resource, "arn", arn);
        }
        Operation::UpdateTrust { role, trust } => {
            cloud
                .identity
                .update_trust_policy(role, &ctx.trust(trust)?)
                .await?;
        }
        Operation::AttachPolicy { role, policy_arn } => {
            cloud.identity.attach_policy(role, policy_arn).await?
        }
        Operation::DetachPolicy { role, policy_arn } => {
            cloud.identity.detach_policy(role, policy_arn).await?
        }
        Operation::PutInlinePolicy { role, document } => {
            cloud
                .identity
                .put_inline_policy(role, INLINE_POLICY_NAME, document)
                .await?;
        }
        Operation::DeleteInlinePolicy { role, name } => {
            cloud.identity.delete_inline_policy(role, name).await?
        }
        Operation::TagRole { role, tags } => cloud.identity.tag_role(role, tags).await?,
        Operation::CreateOidcProvider { cluster, tags } => {
            let issuer = match ctx.resolve(&Ref::output("cluster", "issuer")) {
                Ok(issuer) => issuer,
                Err(_) => wait_cluster_active(ctx, cluster).await?,
            };
            let arn = cloud.identity.create_oidc_provider(&issuer, tags).await?;
            ctx.set(resource, "arn", arn);
        }
        Operation::CreateServiceLinkedRole { service } => {
            cloud.identity.create_service_linked_role(service).await?
        }
        Operation::DeleteRole { name } => cloud.identity.delete_role(name).await?,
        Operation::DeleteAutoModeInstanceProfiles { role } => {
            for profile in cloud.identity.eks_instance_profiles(role).await? {
                cloud
                    .identity
                    .delete_instance_profile(&profile, role)
                    .await?;
            }
        }
        Operation::DeleteOidcProvider { arn } => cloud.identity.delete_oidc_provider(arn).await?,
        _ => {
            return Err(ExecError::Internal(format!(
                "{resource}: not an IAM operation: {operation:?}"
            )));
        }
    }
    Ok(())
}
