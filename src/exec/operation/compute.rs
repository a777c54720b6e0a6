//! Node group (launch template rollouts included) and Fargate profile operations.

use std::sync::Mutex;

use crate::cloud::{ErrorKind, FargateProfileRequest, NodeGroupRequest, UpdateOf};
use crate::plan::{Operation, Ref};

use super::Context;
use super::retry::{
    create_when_accepted, on_active_cluster, retry_in_use, retry_new_role, retry_while_in_use,
    wait_update,
};
use crate::exec::ExecError;
use crate::exec::wait::{Poll, Waiter};

/// Runs a compute `operation` for `resource`; another area's is an internal error.
pub(super) async fn run(
    ctx: &Context,
    resource: &str,
    operation: &Operation,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    match operation {
        Operation::UpdateNodeGroupVersion {
            cluster,
            name,
            version,
        } => {
            // New nodes (a new AMI may heal a DEGRADED group) replace every node.
            update_node_group(ctx, cluster, name, || {
                cloud
                    .kubernetes
                    .update_node_group_version(cluster, name, version)
            })
            .await?;
        }
        Operation::UpdateNodeGroupLaunchTemplate {
            cluster,
            name,
            launch_template,
            version,
        } => {
            let version = ctx.resolve(version)?;
            let version = &version;
            // A new launch template version rolls every node.
            update_node_group(ctx, cluster, name, || {
                cloud.kubernetes.update_node_group_launch_template(
                    cluster,
                    name,
                    (launch_template, version),
                )
            })
            .await?;
        }
        Operation::CreateNodeGroup {
            cluster,
            name,
            node_role,
            subnets,
            instance_types,
            capacity_type,
            ami_type,
            scaling,
            labels,
            taints,
            launch_template,
            update_budget,
            tags,
            update_strategy,
            node_repair,
        } => {
            let template_id = ctx.resolve(launch_template)?;
            let template_key = match launch_template {
                Ref::Output(key) => key.replace(".id", ".version"),
                Ref::Value(_) => String::new(),
            };
            let version = ctx
                .resolve(&Ref::Output(template_key))
                .unwrap_or_else(|_| "1".to_owned());
            let request = NodeGroupRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                node_role_arn: ctx.resolve(node_role)?,
                subnet_ids: ctx.resolve_all(subnets)?,
                instance_types: instance_types.clone(),
                capacity_type: capacity_type.clone(),
                ami_type: ami_type.clone(),
                scaling: *scaling,
                labels: labels.clone(),
                taints: taints.clone(),
                launch_template: (template_id, version),
                update_budget: *update_budget,
                tags: tags.clone(),
                client_request_token: ctx.token(name),
                update_strategy: update_strategy.clone(),
                node_repair: *node_repair,
            };
            let request = &request;
            on_active_cluster(ctx, cluster, move || {
                retry_new_role(&ctx.waiter, move || {
                    cloud.kubernetes.create_node_group(request)
                })
            })
            .await?;
            wait_node_group(ctx, &ctx.waiter, cluster, name, NodeGroupState::Active).await?;
        }
        Operation::UpdateNodeGroup {
            cluster,
            name,
            change,
        } => {
            // A scaling change may heal a DEGRADED group; a new update budget may roll nodes.
            update_node_group(ctx, cluster, name, || {
                cloud
                    .kubernetes
                    .update_node_group_config(cluster, name, change)
            })
            .await?;
        }
        Operation::DeleteNodeGroup {
            cluster,
            name,
            replaced_by,
        } => {
            // Never the last ACTIVE generation: its replacement must be ACTIVE first (a
            // failed one stops here, and this one stays).
            if let Some(replacement) = replaced_by {
                wait_node_group(
                    ctx,
                    &ctx.waiter,
                    cluster,
                    replacement,
                    NodeGroupState::Active,
                )
                .await?;
            }
            // EKS refuses the delete while the group is being created or updated; one that
            // is being deleted already is waited on.
            retry_in_use(ctx, || async {
                match cloud.kubernetes.delete_node_group(cluster, name).await {
                    Err(error) if error.kind == ErrorKind::InUse => {
                        match cloud.kubernetes.describe_node_group(cluster, name).await? {
                            None => Ok(()),
                            Some(g) if g.status == "DELETING" => Ok(()),
                            Some(_) => Err(error),
                        }
                    }
                    other => other,
                }
            })
            .await?;
            wait_node_group(ctx, &ctx.waiter, cluster, name, NodeGroupState::Gone).await?;
        }
        Operation::CreateFargateProfile {
            cluster,
            name,
            role,
            subnets,
            selectors,
            tags,
        } => {
            let request = FargateProfileRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                pod_execution_role_arn: ctx.resolve(role)?,
                subnet_ids: ctx.resolve_all(subnets)?,
                selectors: selectors.clone(),
                tags: tags.clone(),
                client_request_token: ctx.token(name),
            };
            // EKS creates one profile at a time per cluster, and refuses a role it cannot
            // assume yet: both are waited out; and a cluster that is not ACTIVE.
            let request = &request;
            let what = format!("creation of Fargate profile {name}");
            let what = what.as_str();
            on_active_cluster(ctx, cluster, move || {
                create_when_accepted(&ctx.waiter, what, move || {
                    cloud.kubernetes.create_fargate_profile(request)
                })
            })
            .await?;
            wait_fargate(ctx, cluster, name, false).await?;
        }
        Operation::DeleteFargateProfile { cluster, name } => {
            // EKS deletes one profile at a time per cluster (ResourceInUseException "...
            // currently has Fargate profile X in status DELETING"): wait for our turn.
            retry_while_in_use(ctx, &format!("deletion of Fargate profile {name}"), || {
                cloud.kubernetes.delete_fargate_profile(cluster, name)
            })
            .await?;
            wait_fargate(ctx, cluster, name, true).await?;
        }
        _ => {
            return Err(ExecError::Internal(format!(
                "{resource}: not a compute operation: {operation:?}"
            )));
        }
    }
    Ok(())
}

/// The waiter for a node group's rolling update: [`Waiter::rollout`] for the group's size
/// and update budget as last seen (one node at a time when unknown).
fn rollout_waiter(waiter: &Waiter, group: Option<&crate::cloud::ObservedNodeGroup>) -> Waiter {
    let (nodes, budget) = group.map_or((1, None), |g| (g.scaling.desired, g.update_budget));
    let nodes = u32::try_from(nodes).unwrap_or(1);
    let at_once = match budget {
        Some(crate::cloud::UpdateBudget::Count(n)) => u32::try_from(n).unwrap_or(1),
        Some(crate::cloud::UpdateBudget::Percentage(p)) => {
            (nodes.saturating_mul(u32::try_from(p).unwrap_or(1))).div_ceil(100)
        }
        None => 1,
    };
    waiter.rollout(nodes, at_once)
}

/// Runs one node group update: once the group takes one (ACTIVE or DEGRADED: an update may
/// heal it) and on an ACTIVE control plane, retrying while another update runs
/// (ResourceInUseException); then follows the update EKS started, if it named one, and the
/// rollout, a batch of `maxUnavailable` nodes at a time.
async fn update_node_group<T, F, Fut>(
    ctx: &Context,
    cluster: &str,
    name: &str,
    call: F,
) -> Result<(), ExecError>
where
    T: Into<Option<String>>,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::cloud::CloudError>>,
{
    let group = wait_node_group(ctx, &ctx.waiter, cluster, name, NodeGroupState::Updatable).await?;
    let id = on_active_cluster(ctx, cluster, || retry_in_use(ctx, &call)).await?;
    let rollout = rollout_waiter(&ctx.waiter, group.as_ref());
    if let Some(id) = id.into() {
        wait_update(ctx, &rollout, cluster, UpdateOf::NodeGroup(name), &id).await?;
    }
    wait_node_group(ctx, &rollout, cluster, name, NodeGroupState::Active).await?;
    Ok(())
}

/// What a node group wait waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeGroupState {
    /// ACTIVE; CREATE_FAILED and DEGRADED are failures with EKS's health issues.
    Active,
    /// ACTIVE or DEGRADED: a state EKS takes an update in.
    Updatable,
    /// Deleted.
    Gone,
}

/// Waits for a node group to reach `until`; returns it as last seen.
async fn wait_node_group(
    ctx: &Context,
    waiter: &Waiter,
    cluster: &str,
    name: &str,
    until: NodeGroupState,
) -> Result<Option<crate::cloud::ObservedNodeGroup>, ExecError> {
    let cloud = &ctx.cloud;
    let what = if until == NodeGroupState::Gone {
        format!("deletion of node group {name}")
    } else {
        format!("node group {name}")
    };
    let last = Mutex::new(None);
    waiter
        .wait(&what, || async {
            let group = cloud.kubernetes.describe_node_group(cluster, name).await?;
            if let Ok(mut last) = last.lock() {
                last.clone_from(&group);
            }
            Ok(match (group, until) {
                (None, NodeGroupState::Gone) => Poll::Done,
                (None, _) => Poll::Failed("the node group disappeared".to_owned()),
                (Some(g), NodeGroupState::Gone) if g.status == "DELETE_FAILED" => {
                    Poll::Failed(format!(
                        "deletion failed: {}",
                        crate::resources::nodegroup::health(&g)
                    ))
                }
                (Some(g), NodeGroupState::Gone) => Poll::Pending(g.status),
                (Some(g), _) if g.status == "ACTIVE" => Poll::Done,
                (Some(g), NodeGroupState::Updatable) if g.status == "DEGRADED" => Poll::Done,
                (Some(g), _) if matches!(g.status.as_str(), "CREATE_FAILED" | "DEGRADED") => {
                    Poll::Failed(format!(
                        "the node group is {}: {}",
                        g.status,
                        crate::resources::nodegroup::health(&g)
                    ))
                }
                (Some(g), _) if g.status == "DELETING" => {
                    Poll::Failed("the node group is being deleted".to_owned())
                }
                (Some(g), _) => Poll::Pending(g.status),
            })
        })
        .await?;
    Ok(last.into_inner().unwrap_or_default())
}

async fn wait_fargate(
    ctx: &Context,
    cluster: &str,
    name: &str,
    gone: bool,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    let what = if gone {
        format!("deletion of Fargate profile {name}")
    } else {
        format!("Fargate profile {name}")
    };
    ctx.waiter
        .wait(&what, || async {
            Ok(
                match (
                    cloud
                        .kubernetes
                        .describe_fargate_profile(cluster, name)
                        .await?,
                    gone,
                ) {
                    (None, true) => Poll::Done,
                    (None, false) => Poll::Failed("the Fargate profile disappeared".to_owned()),
                    (Some(p), false) if p.status == "ACTIVE" => Poll::Done,
                    (Some(p), _) if p.status.ends_with("FAILED") => Poll::Failed(format!(
                        "EKS reports the Fargate profile {}: {}",
                        p.status,
                        if p.health_issues.is_empty() {
                            "no health issues reported".to_owned()
                        } else {
                            p.health_issues.join("; ")
                        }
                    )),
                    (Some(p), _) => Poll::Pending(p.status),
                },
            )
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{NodeScaling, ObservedNodeGroup, Tags, UpdateBudget};
    use crate::exec::wait::{DEFAULT_TIMEOUT, ROLLOUT_BATCH};

    fn group(desired: i32, budget: Option<UpdateBudget>) -> ObservedNodeGroup {
        ObservedNodeGroup {
            name: "workers".to_owned(),
            arn: String::new(),
            status: "ACTIVE".to_owned(),
            instance_types: Vec::new(),
            capacity_type: "ON_DEMAND".to_owned(),
            ami_type: String::new(),
            scaling: NodeScaling {
                min: 0,
                max: desired,
                desired,
            },
            labels: Default::default(),
            taints: Vec::new(),
            subnet_ids: Vec::new(),
            launch_template: None,
            update_budget: budget,
            version: None,
            node_role_arn: String::new(),
            health_issues: Vec::new(),
            tags: Tags::new(),
            update_strategy: None,
            node_repair: None,
            disk_size: None,
        }
    }

    #[test]
    fn a_rollout_is_bounded_by_the_groups_size_and_update_budget() {
        let waiter = Waiter::default();
        let bound = |g: Option<&ObservedNodeGroup>| rollout_waiter(&waiter, g).timeout;
        assert_eq!(bound(None), DEFAULT_TIMEOUT);
        assert_eq!(bound(Some(&group(200, None))), ROLLOUT_BATCH * 200);
        let by_count = group(200, Some(UpdateBudget::Count(20)));
        assert_eq!(bound(Some(&by_count)), ROLLOUT_BATCH * 10);
        // 25% of 200 is 50 nodes at a time: 4 batches.
        let by_share = group(200, Some(UpdateBudget::Percentage(25)));
        assert_eq!(bound(Some(&by_share)), ROLLOUT_BATCH * 4);
    }
}
