//! What a running Karpenter leaves: its instances, launch templates and instance profiles.

use crate::cloud::Ec2Kind;
use crate::plan::Operation;

use super::Context;
use super::retry::retry_while_in_use;
use crate::exec::ExecError;
use crate::exec::wait::Poll;

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
    cloud
        .network
        .terminate_instances(&leftovers.instances)
        .await?;
    ctx.waiter
        .wait(
            &format!("termination of Karpenter's instances of {cluster}"),
            || async {
                let left = cloud
                    .network
                    .instances_not_terminated(&leftovers.instances)
                    .await?;
                Ok(match left.first() {
                    None => Poll::Done,
                    Some((id, state)) => {
                        Poll::Pending(format!("{} left, {id} {state}", left.len()))
                    }
                })
            },
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
