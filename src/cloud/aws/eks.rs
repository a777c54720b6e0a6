//! `Kubernetes` over EKS.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_eks::types::builders::VpcConfigRequestBuilder;
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, Addon, AddonInfo, AddonPodIdentityAssociations, AmiTypes,
    AuthenticationMode, CapacityTypes, Cluster, CreateAccessConfigRequest, EncryptionConfig,
    ErrorDetail, FargateProfile, FargateProfileSelector, LaunchTemplateSpecification, LogSetup,
    LogType, Logging, Nodegroup, NodegroupScalingConfig, NodegroupUpdateConfig, Provider,
    ResolveConflicts, Taint, TaintEffect, Update, UpdateLabelsPayload, UpdateTaintsPayload,
    VpcConfigRequest,
};
use futures::{StreamExt, TryStreamExt, stream};

use super::{AwsCloud, AwsContext, OrGone, READ_CONCURRENCY, required, string};
use crate::cloud::{
    AccessEntryRequest, AccessPolicy, AddonRequest, CloudResult, ClusterConfigChange,
    ClusterRequest, FargateProfileRequest, Kubernetes, NodeGroupConfigChange, NodeGroupRequest,
    NodeScaling, NodeTaint, ObservedAccessEntry, ObservedAddon, ObservedCluster,
    ObservedFargateProfile, ObservedNodeGroup, Tags, UpdateBudget, UpdateOf, UpdateStatus,
};

fn sorted(values: &[String]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values
}

pub(super) fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Tags or labels as EKS takes them; `None` when empty (EKS rejects empty maps).
pub(super) fn string_map(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
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
        vpc_id: vpc.and_then(|v| v.vpc_id()).map(str::to_owned),
        cluster_security_group_id: vpc
            .and_then(|v| v.cluster_security_group_id())
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
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
            .map(|issue| issue_text(issue.code().map(|c| c.as_str()), issue.message()))
            .collect(),
        tags: tags_of(group.tags()),
    }
}

/// One of EKS's health issues of a node group, Fargate profile or add-on: `CODE: message`.
fn issue_text(code: Option<&str>, message: Option<&str>) -> String {
    format!(
        "{}: {}",
        code.unwrap_or("Unknown"),
        message.unwrap_or_default()
    )
}

fn observed_fargate_profile(profile: &FargateProfile) -> ObservedFargateProfile {
    ObservedFargateProfile {
        name: string(profile.fargate_profile_name()),
        arn: string(profile.fargate_profile_arn()),
        status: profile
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        health_issues: profile
            .health()
            .map(|h| h.issues())
            .unwrap_or_default()
            .iter()
            .map(|issue| issue_text(issue.code().map(|c| c.as_str()), issue.message()))
            .collect(),
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

/// Describes each listed name concurrently (a few at a time: EKS rate-limits per account),
/// leaving out what is gone meanwhile, ordered by `key`.
pub(super) async fn describe_each<T, K, Fut>(
    names: Vec<String>,
    describe: impl Fn(String) -> Fut,
    key: impl Fn(&T) -> K,
) -> CloudResult<Vec<T>>
where
    K: Ord,
    Fut: std::future::Future<Output = CloudResult<Option<T>>>,
{
    let found: Vec<Option<T>> = stream::iter(names)
        .map(describe)
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    let mut found: Vec<T> = found.into_iter().flatten().collect();
    found.sort_by_key(|item| key(item));
    Ok(found)
}

/// Secrets encryption with a KMS key.
fn secrets_encryption(key_arn: &str) -> EncryptionConfig {
    // `resources` is deprecated (EKS now encrypts everything) but older endpoints and
    // emulators still require ["secrets"].
    #[allow(deprecated)]
    EncryptionConfig::builder()
        .resources("secrets")
        .provider(Provider::builder().key_arn(key_arn).build())
        .build()
}

/// The id of an update EKS started; every update call returns one.
fn update_id(
    update: Option<&Update>,
    operation: &'static str,
    resource: &str,
) -> CloudResult<String> {
    required(
        update.and_then(|u| u.id()).map(str::to_owned),
        "update id",
        operation,
        resource,
    )
}

/// One of EKS's reasons for a failed update: `code: message (resources)`.
fn error_detail(error: &ErrorDetail) -> String {
    let mut text = format!(
        "{}: {}",
        error.error_code().map_or("Unknown", |c| c.as_str()),
        error.error_message().unwrap_or("no message")
    );
    if !error.resource_ids().is_empty() {
        text.push_str(&format!(" ({})", error.resource_ids().join(", ")));
    }
    text
}

/// How an access entry is named in errors.
fn access_entry(cluster: &str, principal_arn: &str) -> String {
    format!("access entry {principal_arn} of cluster {cluster}")
}

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

impl AwsCloud {
    async fn fargate_profile(
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

    /// One access entry with its access policies, or `None` when it is gone.
    async fn access_entry_with_policies(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> CloudResult<Option<ObservedAccessEntry>> {
        let resource = access_entry(cluster, principal_arn);
        let describe = async {
            self.eks
                .describe_access_entry()
                .cluster_name(cluster)
                .principal_arn(principal_arn)
                .send()
                .await
                .context("DescribeAccessEntry", &resource)
                .or_gone()
        };
        let policies = async {
            let policies: CloudResult<Vec<_>> = all_items!(
                self.eks
                    .list_associated_access_policies()
                    .cluster_name(cluster)
                    .principal_arn(principal_arn),
                "ListAssociatedAccessPolicies",
                &resource
            );
            policies.or_gone()
        };
        let (output, policies) = tokio::try_join!(describe, policies)?;
        let (Some(entry), Some(policies)) = (output.and_then(|o| o.access_entry), policies) else {
            return Ok(None);
        };
        let mut policies: Vec<AccessPolicy> = policies
            .iter()
            .map(|p| AccessPolicy {
                policy_arn: string(p.policy_arn()),
                namespaces: p.access_scope().and_then(|scope| {
                    (scope.r#type() == Some(&AccessScopeType::Namespace)).then(|| {
                        let mut namespaces = scope.namespaces().to_vec();
                        namespaces.sort();
                        namespaces
                    })
                }),
            })
            .collect();
        policies.sort();
        Ok(Some(ObservedAccessEntry {
            principal_arn: string(entry.principal_arn()),
            arn: string(entry.access_entry_arn()),
            kubernetes_groups: sorted(entry.kubernetes_groups()),
            username: entry.username().map(str::to_owned),
            entry_type: string(entry.r#type()),
            policies,
            tags: tags_of(entry.tags()),
            created_at: entry.created_at().and_then(|t| t.to_millis().ok()),
        }))
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
        let encryption = request
            .encryption_key_arn
            .as_deref()
            .map(secrets_encryption);
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
            ClusterConfigChange::Subnets { subnet_ids } => update.resources_vpc_config(
                aws_sdk_eks::types::VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnet_ids.clone()))
                    .build(),
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
        describe_each(
            names,
            |name| async move {
                let profile = self.fargate_profile(cluster, &name).await?;
                Ok(profile.as_ref().map(observed_fargate_profile))
            },
            |profile: &ObservedFargateProfile| profile.name.clone(),
        )
        .await
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

    async fn describe_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedFargateProfile>> {
        let profile = self.fargate_profile(cluster, name).await?;
        Ok(profile.as_ref().map(observed_fargate_profile))
    }

    async fn update_cluster_version(
        &self,
        name: &str,
        version: &str,
        force: bool,
    ) -> CloudResult<String> {
        let output = self
            .eks
            .update_cluster_version()
            .name(name)
            .version(version)
            .set_force(force.then_some(true))
            .send()
            .await
            .context("UpdateClusterVersion", format!("cluster {name}"))?;
        update_id(output.update(), "UpdateClusterVersion", name)
    }

    async fn associate_encryption_config(&self, name: &str, key_arn: &str) -> CloudResult<String> {
        let output = self
            .eks
            .associate_encryption_config()
            .cluster_name(name)
            .encryption_config(secrets_encryption(key_arn))
            .send()
            .await
            .context("AssociateEncryptionConfig", format!("cluster {name}"))?;
        update_id(output.update(), "AssociateEncryptionConfig", name)
    }

    async fn describe_update(
        &self,
        cluster: &str,
        of: UpdateOf<'_>,
        update_id: &str,
    ) -> CloudResult<UpdateStatus> {
        let request = self
            .eks
            .describe_update()
            .name(cluster)
            .update_id(update_id);
        let (request, resource) = match of {
            UpdateOf::Cluster => (request, format!("update {update_id} of cluster {cluster}")),
            UpdateOf::NodeGroup(group) => (
                request.nodegroup_name(group),
                format!("update {update_id} of node group {cluster}/{group}"),
            ),
            UpdateOf::Addon(addon) => (
                request.addon_name(addon),
                format!("update {update_id} of add-on {cluster}/{addon}"),
            ),
        };
        let output = request.send().await.context("DescribeUpdate", &resource)?;
        let update = required(output.update(), "update", "DescribeUpdate", &resource)?;
        Ok(UpdateStatus {
            status: update
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            errors: update.errors().iter().map(error_detail).collect(),
        })
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

    async fn list_access_entries(&self, cluster: &str) -> CloudResult<Vec<ObservedAccessEntry>> {
        let principals: Vec<String> = all_items!(
            self.eks.list_access_entries().cluster_name(cluster),
            "ListAccessEntries",
            format!("cluster {cluster}")
        )?;
        describe_each(
            principals,
            |principal| async move { self.access_entry_with_policies(cluster, &principal).await },
            |entry: &ObservedAccessEntry| entry.principal_arn.clone(),
        )
        .await
    }

    async fn describe_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> CloudResult<Option<ObservedAccessEntry>> {
        self.access_entry_with_policies(cluster, principal_arn)
            .await
    }

    async fn create_access_entry(&self, request: &AccessEntryRequest) -> CloudResult<()> {
        self.eks
            .create_access_entry()
            .cluster_name(&request.cluster)
            .principal_arn(&request.principal_arn)
            .set_kubernetes_groups(
                (!request.kubernetes_groups.is_empty()).then(|| request.kubernetes_groups.clone()),
            )
            .set_username(request.username.clone())
            .set_type(request.entry_type.clone())
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context(
                "CreateAccessEntry",
                access_entry(&request.cluster, &request.principal_arn),
            )
            .map(drop)
    }

    async fn update_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
        kubernetes_groups: &[String],
        username: Option<&str>,
    ) -> CloudResult<()> {
        self.eks
            .update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            // Always sent, so an empty list removes every group.
            .set_kubernetes_groups(Some(kubernetes_groups.to_vec()))
            .set_username(username.map(str::to_owned))
            .send()
            .await
            .context("UpdateAccessEntry", access_entry(cluster, principal_arn))
            .map(drop)
    }

    async fn delete_access_entry(&self, cluster: &str, principal_arn: &str) -> CloudResult<()> {
        self.eks
            .delete_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .send()
            .await
            .context("DeleteAccessEntry", access_entry(cluster, principal_arn))
            .or_gone()
            .map(drop)
    }

    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy: &AccessPolicy,
    ) -> CloudResult<()> {
        let scope = match &policy.namespaces {
            None => AccessScope::builder().r#type(AccessScopeType::Cluster),
            Some(namespaces) => AccessScope::builder()
                .r#type(AccessScopeType::Namespace)
                .set_namespaces(Some(namespaces.clone())),
        };
        self.eks
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .policy_arn(&policy.policy_arn)
            .access_scope(scope.build())
            .send()
            .await
            .context(
                "AssociateAccessPolicy",
                format!(
                    "{} on {}",
                    policy.policy_arn,
                    access_entry(cluster, principal_arn)
                ),
            )
            .map(drop)
    }

    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> CloudResult<()> {
        self.eks
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .policy_arn(policy_arn)
            .send()
            .await
            .context(
                "DisassociateAccessPolicy",
                format!("{policy_arn} on {}", access_entry(cluster, principal_arn)),
            )
            .or_gone()
            .map(drop)
    }
}
