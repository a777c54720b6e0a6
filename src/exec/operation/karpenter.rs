//! What a running Karpenter leaves: its instances, launch templates and instance profiles.

use crate::cloud::Ec2Kind;
use crate::plan::Operation;

use super::Context;
use super::network::terminate_and_wait;
use super::retry::retry_while_in_use;
use crate::exec::ExecError;

/// Runs a Karpenter `operation` for `resource`; another area's is an internal error.
pub(super) async fn run(
    ctx: &Context,
    resource: &str,
    operation: &Operation,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    let Operation::DeleteKarpenterLeftovers {
        cluster,
        region,
        node_role,
    } = operation
    else {
        return Err(ExecError::Internal(format!(
            "{resource}: not a Karpenter operation: {operation:?}"
        )));
    };
    let leftovers = cloud.network.discover_karpenter_leftovers(cluster).await?;
    // Their interfaces hold the subnets and security groups until they are terminated.
    terminate_and_wait(
        ctx,
        &leftovers.instances,
        &format!("Karpenter's instances of {cluster}"),
    )
    .await?;
    for id in &leftovers.launch_templates {
        cloud.network.delete(Ec2Kind::LaunchTemplate, id).await?;
    }
    let profiles = cloud
        .identity
        .karpenter_instance_profiles(node_role, cluster, region)
        .await?;
    for profile in &profiles {
        retry_while_in_use(
            ctx,
            &format!("deletion of instance profile {profile}"),
            || cloud.identity.delete_instance_profile(profile, node_role),
        )
        .await?;
    }
    Ok(())
}
