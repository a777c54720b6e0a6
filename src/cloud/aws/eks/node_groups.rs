//! `NodeGroups` over EKS managed node groups.

use async_trait::async_trait;
use aws_sdk_eks::types::{
    AmiTypes, CapacityTypes, LaunchTemplateSpecification, NodeRepairConfig, Nodegroup,
    NodegroupScalingConfig, NodegroupUpdateConfig, NodegroupUpdateStrategies, Taint, TaintEffect,
    UpdateLabelsPayload, UpdateTaintsPayload,
};

use super::{describe_each, issue_text, sorted, string_map, tags_of, update_id};
use crate::cloud::aws::{AwsCloud, AwsContext, OrGone, string};
use crate::cloud::{
    CloudResult, NodeGroupConfigChange, NodeGroupRequest, NodeGroups, NodeRepair, NodeScaling,
    NodeTaint, ObservedNodeGroup, UpdateBudget,
};

fn taint(taint: &NodeTaint) -> Taint {
    Taint::builder()
        .key(&taint.key)
        .value(&taint.value)
        .effect(TaintEffect::from(taint.effect.as_str()))
        .build()
}

fn scaling_config(scaling: NodeScaling) -> NodegroupScalingConfig {
    NodegroupScalingConfig::builder()
        .min_size(scaling.min)
        .max_size(scaling.max)
        .desired_size(scaling.desired)
        .build()
}

fn update_config(budget: UpdateBudget, strategy: Option<&str>) -> NodegroupUpdateConfig {
    match budget {
        UpdateBudget::Count(n) => NodegroupUpdateConfig::builder().max_unavailable(n),
        UpdateBudget::Percentage(p) => {
            NodegroupUpdateConfig::builder().max_unavailable_percentage(p)
        }
    }
    .set_update_strategy(strategy.map(NodegroupUpdateStrategies::from))
    .build()
}

fn node_repair_config(repair: &NodeRepair) -> NodeRepairConfig {
    NodeRepairConfig::builder()
        .enabled(repair.enabled)
        .set_max_unhealthy_node_threshold_count(repair.max_unhealthy_node_threshold_count)
        .set_max_unhealthy_node_threshold_percentage(repair.max_unhealthy_node_threshold_percentage)
        .set_max_parallel_nodes_repaired_count(repair.max_parallel_nodes_repaired_count)
        .set_max_parallel_nodes_repaired_percentage(repair.max_parallel_nodes_repaired_percentage)
        .build()
}

fn observed_node_repair(config: &NodeRepairConfig) -> NodeRepair {
    NodeRepair {
        enabled: config.enabled().unwrap_or(false),
        max_unhealthy_node_threshold_count: config.max_unhealthy_node_threshold_count(),
        max_unhealthy_node_threshold_percentage: config.max_unhealthy_node_threshold_percentage(),
        max_parallel_nodes_repaired_count: config.max_parallel_nodes_repaired_count(),
        max_parallel_nodes_repaired_percentage: config.max_parallel_nodes_repaired_percentage(),
    }
}

fn observed_node_group(group: &Nodegroup) -> ObservedNodeGroup {
    let scaling = group.scaling_config();
    let mut taints: Vec<NodeTaint> = group
        .taints()
        .iter()
        .map(|t| NodeTaint {
            key: string(t.key()),
            value: string(t.value()),
            effect: t
                .effect()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
        })
        .collect();
    taints.sort();
    let update_budget = group.update_config().and_then(|c| {
        c.max_unavailable()
            .map(UpdateBudget::Count)
            .or_else(|| c.max_unavailable_percentage().map(UpdateBudget::Percentage))
    });
    ObservedNodeGroup {
        name: string(group.nodegroup_name()),
        arn: string(group.nodegroup_arn()),
        status: group
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        instance_types: group.instance_types().to_vec(),
        capacity_type: group
            .capacity_type()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        ami_type: group
            .ami_type()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        scaling: NodeScaling {
            min: scaling.and_then(|s| s.min_size()).unwrap_or(0),
            max: scaling.and_then(|s| s.max_size()).unwrap_or(0),
            desired: scaling.and_then(|s| s.desired_size()).unwrap_or(0),
        },
        labels: tags_of(group.labels()),
        taints,
        subnet_ids: sorted(group.subnets()),
        launch_template: group
            .launch_template()
            .and_then(|lt| Some((lt.id()?.to_owned(), string(lt.version())))),
        update_budget,
        version: group.version().map(str::to_owned),
        node_role_arn: string(group.node_role()),
        health_issues: group
            .health()
            .map(|h| h.issues())
            .unwrap_or_default()
            .iter()
            .map(|issue| issue_text(issue.code().map(|c| c.as_str()), issue.message()))
            .collect(),
        tags: tags_of(group.tags()),
        update_strategy: group
            .update_config()
            .and_then(|c| c.update_strategy())
            .map(|s| s.as_str().to_owned()),
        node_repair: group.node_repair_config().map(observed_node_repair),
        disk_size: group.disk_size(),
    }
}

#[async_trait]
impl NodeGroups for AwsCloud {
    async fn list_node_groups(&self, cluster: &str) -> CloudResult<Vec<ObservedNodeGroup>> {
        let names: Vec<String> = all_items!(
            self.eks.list_nodegroups().cluster_name(cluster),
            "ListNodegroups",
            format!("cluster {cluster}")
        )?;
        describe_each(
            names,
            |name| async move { self.describe_node_group(cluster, &name).await },
            |group: &ObservedNodeGroup| group.name.clone(),
        )
        .await
    }

    async fn describe_node_group(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedNodeGroup>> {
        let output = self
            .eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .context("DescribeNodegroup", format!("node group {cluster}/{name}"))
            .or_gone()?;
        Ok(output.and_then(|o| o.nodegroup().map(observed_node_group)))
    }

    async fn create_node_group(&self, request: &NodeGroupRequest) -> CloudResult<()> {
        let (template_id, template_version) = &request.launch_template;
        self.eks
            .create_nodegroup()
            .cluster_name(&request.cluster)
            .nodegroup_name(&request.name)
            .node_role(&request.node_role_arn)
            .set_subnets(Some(request.subnet_ids.clone()))
            // None for a Capacity Block: its launch template names the type.
            .set_instance_types(
                (!request.instance_types.is_empty()).then(|| request.instance_types.clone()),
            )
            .capacity_type(CapacityTypes::from(request.capacity_type.as_str()))
            .ami_type(AmiTypes::from(request.ami_type.as_str()))
            .scaling_config(scaling_config(request.scaling))
            .set_labels(string_map(&request.labels))
            .set_taints(
                (!request.taints.is_empty()).then(|| request.taints.iter().map(taint).collect()),
            )
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .id(template_id)
                    .version(template_version)
                    .build(),
            )
            .update_config(update_config(
                request.update_budget,
                request.update_strategy.as_deref(),
            ))
            .set_node_repair_config(request.node_repair.as_ref().map(node_repair_config))
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context(
                "CreateNodegroup",
                format!("node group {}/{}", request.cluster, request.name),
            )
            .map(drop)
    }

    async fn update_node_group_config(
        &self,
        cluster: &str,
        name: &str,
        change: &NodeGroupConfigChange,
    ) -> CloudResult<Option<String>> {
        let labels =
            (!change.add_labels.is_empty() || !change.remove_labels.is_empty()).then(|| {
                UpdateLabelsPayload::builder()
                    .set_add_or_update_labels(string_map(&change.add_labels))
                    .set_remove_labels(
                        (!change.remove_labels.is_empty()).then(|| change.remove_labels.clone()),
                    )
                    .build()
            });
        let taints =
            (!change.add_taints.is_empty() || !change.remove_taints.is_empty()).then(|| {
                UpdateTaintsPayload::builder()
                    .set_add_or_update_taints(
                        (!change.add_taints.is_empty())
                            .then(|| change.add_taints.iter().map(taint).collect()),
                    )
                    .set_remove_taints(
                        (!change.remove_taints.is_empty())
                            .then(|| change.remove_taints.iter().map(taint).collect()),
                    )
                    .build()
            });
        let output = self
            .eks
            .update_nodegroup_config()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .set_labels(labels)
            .set_taints(taints)
            .set_scaling_config(change.scaling.map(scaling_config))
            .set_update_config(
                change
                    .update_budget
                    .map(|budget| update_config(budget, change.update_strategy.as_deref())),
            )
            .set_node_repair_config(change.node_repair.as_ref().map(node_repair_config))
            .send()
            .await
            .context(
                "UpdateNodegroupConfig",
                format!("node group {cluster}/{name}"),
            )?;
        Ok(output.update().and_then(|u| u.id().map(str::to_owned)))
    }

    async fn delete_node_group(&self, cluster: &str, name: &str) -> CloudResult<()> {
        self.eks
            .delete_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .context("DeleteNodegroup", format!("node group {cluster}/{name}"))
            .or_gone()
            .map(drop)
    }

    async fn update_node_group_version(
        &self,
        cluster: &str,
        name: &str,
        version: &str,
    ) -> CloudResult<String> {
        let resource = format!("node group {cluster}/{name}");
        let output = self
            .eks
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .version(version)
            .send()
            .await
            .context("UpdateNodegroupVersion", &resource)?;
        update_id(output.update(), "UpdateNodegroupVersion", &resource)
    }

    async fn update_node_group_launch_template(
        &self,
        cluster: &str,
        name: &str,
        (id, version): (&str, &str),
    ) -> CloudResult<String> {
        let resource = format!("node group {cluster}/{name}");
        let output = self
            .eks
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .id(id)
                    .version(version)
                    .build(),
            )
            .send()
            .await
            .context("UpdateNodegroupVersion", &resource)?;
        update_id(output.update(), "UpdateNodegroupVersion", &resource)
    }
}
