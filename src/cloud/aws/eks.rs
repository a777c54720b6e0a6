//! `Kubernetes` over EKS.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_eks::types::builders::VpcConfigRequestBuilder;
use aws_sdk_eks::types::{
    AmiTypes, AuthenticationMode, CapacityTypes, Cluster, CreateAccessConfigRequest,
    EncryptionConfig, FargateProfile, FargateProfileSelector, LaunchTemplateSpecification,
    LogSetup, LogType, Logging, Nodegroup, NodegroupScalingConfig, NodegroupUpdateConfig, Provider,
    Taint, TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload, VpcConfigRequest,
};
use futures::{StreamExt, TryStreamExt, stream};

use super::{AwsCloud, AwsContext, OrGone, READ_CONCURRENCY, string};
use crate::cloud::{
    AccessEntryRequest, AccessPolicy, AddonRequest, CloudError, CloudResult, ClusterConfigChange,
    ClusterRequest, ErrorKind, FargateProfileRequest, Kubernetes, NodeGroupConfigChange,
    NodeGroupRequest, NodeScaling, NodeTaint, ObservedAccessEntry, ObservedAddon, ObservedCluster,
    ObservedFargateProfile, ObservedNodeGroup, Tags, UpdateBudget, UpdateOf, UpdateStatus,
};

fn sorted(values: &[String]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values
}

fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Tags or labels as EKS takes them; `None` when empty (EKS rejects empty maps).
fn string_map(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// Endpoint settings. Public CIDRs only go with a public endpoint (EKS rejects them otherwise)
/// and are left out when empty (EKS then allows 0.0.0.0/0).
fn vpc_config(public: bool, private: bool, cidrs: &[String]) -> VpcConfigRequestBuilder {
    let cidrs = (public && !cidrs.is_empty()).then(|| cidrs.to_vec());
    VpcConfigRequest::builder()
        .endpoint_public_access(public)
        .endpoint_private_access(private)
        .set_public_access_cidrs(cidrs)
}

fn log_setup(types: &[String], enabled: bool) -> LogSetup {
    LogSetup::builder()
        .set_types(Some(
            types.iter().map(|t| LogType::from(t.as_str())).collect(),
        ))
        .enabled(enabled)
        .build()
}

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

fn update_config(budget: UpdateBudget) -> NodegroupUpdateConfig {
    match budget {
        UpdateBudget::Count(n) => NodegroupUpdateConfig::builder().max_unavailable(n),
        UpdateBudget::Percentage(p) => {
            NodegroupUpdateConfig::builder().max_unavailable_percentage(p)
        }
    }
    .build()
}

fn selectors(selectors: &[(String, BTreeMap<String, String>)]) -> Vec<FargateProfileSelector> {
    selectors
        .iter()
        .map(|(namespace, labels)| {
            FargateProfileSelector::builder()
                .namespace(namespace)
                .set_labels(string_map(labels))
                .build()
        })
        .collect()
}

fn observed_cluster(cluster: &Cluster) -> ObservedCluster {
    let vpc = cluster.resources_vpc_config();
    let mut enabled_log_types: Vec<String> = cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|setup| setup.enabled() == Some(true))
        .flat_map(|setup| setup.types().iter().map(|t| t.as_str().to_owned()))
        .collect();
    enabled_log_types.sort();
    enabled_log_types.dedup();
    ObservedCluster {
        name: string(cluster.name()),
        arn: string(cluster.arn()),
        status: cluster
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        version: string(cluster.version()),
        role_arn: string(cluster.role_arn()),
        subnet_ids: sorted(vpc.map(|v| v.subnet_ids()).unwrap_or_default()),
        endpoint_public_access: vpc.is_some_and(|v| v.endpoint_public_access()),
        endpoint_private_access: vpc.is_some_and(|v| v.endpoint_private_access()),
        public_access_cidrs: sorted(vpc.map(|v| v.public_access_cidrs()).unwrap_or_default()),
        enabled_log_types,
        encryption_key_arn: cluster
            .encryption_config()
            .iter()
            .find_map(|c| c.provider()?.key_arn().map(str::to_owned)),
        authentication_mode: cluster
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_owned()),
        oidc_issuer: cluster
            .identity()
            .and_then(|i| i.oidc()?.issuer().map(str::to_owned)),
        endpoint: cluster.endpoint().map(str::to_owned),
        certificate_authority: cluster
            .certificate_authority()
            .and_then(|c| c.data().map(str::to_owned)),
        tags: tags_of(cluster.tags()),
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
            .map(|issue| {
                format!(
                    "{}: {}",
                    issue.code().map(|c| c.as_str()).unwrap_or("Unknown"),
                    issue.message().unwrap_or_default()
                )
            })
            .collect(),
        tags: tags_of(group.tags()),
    }
}

fn observed_fargate_profile(profile: &FargateProfile) -> ObservedFargateProfile {
    ObservedFargateProfile {
        name: string(profile.fargate_profile_name()),
        arn: string(profile.fargate_profile_arn()),
        status: profile
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        pod_execution_role_arn: string(profile.pod_execution_role_arn()),
        subnet_ids: sorted(profile.subnets()),
        selectors: profile
            .selectors()
            .iter()
            .map(|s| (string(s.namespace()), tags_of(s.labels())))
            .collect(),
        tags: tags_of(profile.tags()),
    }
}

impl AwsCloud {
    async fn describe_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<FargateProfile>> {
        let output = self
            .eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await
            .context(
                "DescribeFargateProfile",
                format!("Fargate profile {cluster}/{name}"),
            )
            .or_gone()?;
        Ok(output.and_then(|o| o.fargate_profile))
    }
}

#[async_trait]
impl Kubernetes for AwsCloud {
    async fn describe_cluster(&self, name: &str) -> CloudResult<Option<ObservedCluster>> {
        let output = self
            .eks
            .describe_cluster()
            .name(name)
            .send()
            .await
            .context("DescribeCluster", format!("cluster {name}"))
            .or_gone()?;
        Ok(output.and_then(|o| o.cluster().map(observed_cluster)))
    }

    async fn create_cluster(&self, request: &ClusterRequest) -> CloudResult<()> {
        let logging = (!request.enabled_log_types.is_empty()).then(|| {
            Logging::builder()
                .cluster_logging(log_setup(&request.enabled_log_types, true))
                .build()
        });
        // `resources` is deprecated (EKS now encrypts everything) but older endpoints and
        // emulators still require ["secrets"].
        #[allow(deprecated)]
        let encryption = request.encryption_key_arn.as_ref().map(|key| {
            EncryptionConfig::builder()
                .resources("secrets")
                .provider(Provider::builder().key_arn(key).build())
                .build()
        });
        self.eks
            .create_cluster()
            .name(&request.name)
            .version(&request.version)
            .role_arn(&request.role_arn)
            .resources_vpc_config(
                vpc_config(
                    request.endpoint_public_access,
                    request.endpoint_private_access,
                    &request.public_access_cidrs,
                )
                .set_subnet_ids(Some(request.subnet_ids.clone()))
                .build(),
            )
            .set_logging(logging)
            .set_encryption_config(encryption.map(|e| vec![e]))
            .access_config(
                CreateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                    .build(),
            )
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context("CreateCluster", format!("cluster {}", request.name))
            .map(drop)
    }

    async fn update_cluster_config(
        &self,
        name: &str,
        change: &ClusterConfigChange,
    ) -> CloudResult<Option<String>> {
        let update = self.eks.update_cluster_config().name(name);
        let update = match change {
            ClusterConfigChange::Endpoint {
                public_access,
                private_access,
                public_access_cidrs,
            } => update.resources_vpc_config(
                vpc_config(*public_access, *private_access, public_access_cidrs).build(),
            ),
            ClusterConfigChange::EnableAccessEntries => update.access_config(
                aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
                    .authentication_mode(aws_sdk_eks::types::AuthenticationMode::ApiAndConfigMap)
                    .build(),
            ),
            ClusterConfigChange::Logging { enable, disable } => {
                let setups = [(enable, true), (disable, false)]
                    .into_iter()
                    .filter(|(types, _)| !types.is_empty())
                    .map(|(types, enabled)| log_setup(types, enabled))
                    .collect();
                update.logging(Logging::builder().set_cluster_logging(Some(setups)).build())
            }
        };
        let output = update
            .send()
            .await
            .context("UpdateClusterConfig", format!("cluster {name}"))?;
        Ok(output.update().and_then(|u| u.id().map(str::to_owned)))
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.eks
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .context("TagResource", arn)
            .map(drop)
    }

    async fn delete_cluster(&self, name: &str) -> CloudResult<()> {
        self.eks
            .delete_cluster()
            .name(name)
            .send()
            .await
            .context("DeleteCluster", format!("cluster {name}"))
            .or_gone()
            .map(drop)
    }

    async fn list_node_groups(&self, cluster: &str) -> CloudResult<Vec<ObservedNodeGroup>> {
        let names: Vec<String> = all_items!(
            self.eks.list_nodegroups().cluster_name(cluster),
            "ListNodegroups",
            format!("cluster {cluster}")
        )?;
        let groups: Vec<Option<ObservedNodeGroup>> = stream::iter(names)
            .map(|name| async move { self.describe_node_group(cluster, &name).await })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        let mut groups: Vec<ObservedNodeGroup> = groups.into_iter().flatten().collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
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
            .set_instance_types(Some(request.instance_types.clone()))
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
            .update_config(update_config(request.update_budget))
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
            .set_update_config(change.update_budget.map(update_config))
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

    async fn list_fargate_profiles(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedFargateProfile>> {
        let names: Vec<String> = all_items!(
            self.eks.list_fargate_profiles().cluster_name(cluster),
            "ListFargateProfiles",
            format!("cluster {cluster}")
        )?;
        let profiles: Vec<Option<FargateProfile>> = stream::iter(names)
            .map(|name| async move { self.describe_fargate_profile(cluster, &name).await })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        let mut profiles: Vec<ObservedFargateProfile> = profiles
            .iter()
            .flatten()
            .map(observed_fargate_profile)
            .collect();
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(profiles)
    }

    async fn create_fargate_profile(&self, request: &FargateProfileRequest) -> CloudResult<()> {
        self.eks
            .create_fargate_profile()
            .cluster_name(&request.cluster)
            .fargate_profile_name(&request.name)
            .pod_execution_role_arn(&request.pod_execution_role_arn)
            .set_subnets(Some(request.subnet_ids.clone()))
            .set_selectors(Some(selectors(&request.selectors)))
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context(
                "CreateFargateProfile",
                format!("Fargate profile {}/{}", request.cluster, request.name),
            )
            .map(drop)
    }

    async fn delete_fargate_profile(&self, cluster: &str, name: &str) -> CloudResult<()> {
        self.eks
            .delete_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await
            .context(
                "DeleteFargateProfile",
                format!("Fargate profile {cluster}/{name}"),
            )
            .or_gone()
            .map(drop)
    }

    async fn fargate_profile_status(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<String>> {
        let profile = self.describe_fargate_profile(cluster, name).await?;
        Ok(profile.and_then(|p| p.status().map(|s| s.as_str().to_owned())))
    }

    async fn update_cluster_version(&self, name: &str, _version: &str) -> CloudResult<String> {
        Err(pending("UpdateClusterVersion", name))
    }

    async fn associate_encryption_config(&self, name: &str, _key_arn: &str) -> CloudResult<String> {
        Err(pending("AssociateEncryptionConfig", name))
    }

    async fn describe_update(
        &self,
        cluster: &str,
        _of: UpdateOf<'_>,
        _update_id: &str,
    ) -> CloudResult<UpdateStatus> {
        Err(pending("DescribeUpdate", cluster))
    }

    async fn update_node_group_version(
        &self,
        _cluster: &str,
        name: &str,
        _version: &str,
    ) -> CloudResult<String> {
        Err(pending("UpdateNodegroupVersion", name))
    }

    async fn list_addons(&self, _cluster: &str) -> CloudResult<Vec<ObservedAddon>> {
        Ok(Vec::new())
    }

    async fn describe_addon(
        &self,
        _cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedAddon>> {
        Err(pending("DescribeAddon", name))
    }

    async fn default_addon_version(
        &self,
        addon: &str,
        _kubernetes_version: &str,
    ) -> CloudResult<Option<String>> {
        Err(pending("DescribeAddonVersions", addon))
    }

    async fn create_addon(&self, request: &AddonRequest) -> CloudResult<()> {
        Err(pending("CreateAddon", &request.name))
    }

    async fn update_addon(&self, request: &AddonRequest) -> CloudResult<Option<String>> {
        Err(pending("UpdateAddon", &request.name))
    }

    async fn delete_addon(&self, _cluster: &str, name: &str) -> CloudResult<()> {
        Err(pending("DeleteAddon", name))
    }

    async fn list_access_entries(&self, _cluster: &str) -> CloudResult<Vec<ObservedAccessEntry>> {
        Ok(Vec::new())
    }

    async fn create_access_entry(&self, request: &AccessEntryRequest) -> CloudResult<()> {
        Err(pending("CreateAccessEntry", &request.principal_arn))
    }

    async fn update_access_entry(
        &self,
        _cluster: &str,
        principal_arn: &str,
        _kubernetes_groups: &[String],
        _username: Option<&str>,
    ) -> CloudResult<()> {
        Err(pending("UpdateAccessEntry", principal_arn))
    }

    async fn delete_access_entry(&self, _cluster: &str, principal_arn: &str) -> CloudResult<()> {
        Err(pending("DeleteAccessEntry", principal_arn))
    }

    async fn associate_access_policy(
        &self,
        _cluster: &str,
        principal_arn: &str,
        _policy: &AccessPolicy,
    ) -> CloudResult<()> {
        Err(pending("AssociateAccessPolicy", principal_arn))
    }

    async fn disassociate_access_policy(
        &self,
        _cluster: &str,
        principal_arn: &str,
        _policy_arn: &str,
    ) -> CloudResult<()> {
        Err(pending("DisassociateAccessPolicy", principal_arn))
    }
}

/// Placeholder while the add-on, access entry and upgrade calls are written (issue 6).
fn pending(operation: &'static str, resource: &str) -> CloudError {
    CloudError {
        operation,
        resource: resource.to_owned(),
        code: None,
        message: "not implemented yet".to_owned(),
        kind: ErrorKind::Other,
    }
}
