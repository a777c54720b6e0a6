//! `ControlPlane` over EKS.

use async_trait::async_trait;
use aws_sdk_eks::types::builders::VpcConfigRequestBuilder;
use aws_sdk_eks::types::{
    AuthenticationMode, BlockStorage, Category, Cluster, ComputeConfigRequest,
    ControlPlaneScalingConfig, CreateAccessConfigRequest, ElasticLoadBalancing, EncryptionConfig,
    ErrorDetail, InsightStatusValue, InsightSummary, InsightsFilter, IpFamily,
    KubernetesNetworkConfigRequest, LogSetup, LogType, Logging, Provider,
    ProvisionedControlPlaneTier, StorageConfigRequest, SupportType, UpgradePolicyRequest,
    VpcConfigRequest, ZonalShiftConfigRequest,
};
use aws_smithy_types::date_time::Format;

use super::{sorted, string_map, tags_of, update_id};
use crate::cloud::aws::{AwsCloud, AwsContext, OrGone, required, string};
use crate::cloud::{
    AutoMode, CloudResult, ClusterConfigChange, ClusterRequest, ControlPlane, ObservedCluster,
    ObservedInsight, Tags, UpdateOf, UpdateStatus, VersionSupport,
};

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
        auto_mode: observed_auto_mode(cluster),
        ip_family: cluster
            .kubernetes_network_config()
            .and_then(|c| c.ip_family())
            .map(|f| f.as_str().to_owned()),
        service_cidr: cluster.kubernetes_network_config().and_then(|n| {
            n.service_ipv6_cidr()
                .or(n.service_ipv4_cidr())
                .map(str::to_owned)
        }),
        support_type: cluster
            .upgrade_policy()
            .and_then(|p| p.support_type())
            .map(|t| t.as_str().to_owned()),
        deletion_protection: cluster.deletion_protection() == Some(true),
        zonal_shift: cluster
            .zonal_shift_config()
            .and_then(|z| z.enabled())
            .unwrap_or(false),
        scaling_tier: cluster
            .control_plane_scaling_config()
            .and_then(|c| c.tier())
            .map(|t| t.as_str().to_owned()),
    }
}

/// A timestamp's UTC date, `YYYY-MM-DD`.
fn date(time: &aws_smithy_types::DateTime) -> Option<String> {
    time.fmt(Format::DateTime)
        .ok()
        .map(|text| text.chars().take(10).collect())
}

fn upgrade_policy(support_type: &str) -> UpgradePolicyRequest {
    UpgradePolicyRequest::builder()
        .support_type(SupportType::from(support_type))
        .build()
}

fn zonal_shift(enabled: bool) -> ZonalShiftConfigRequest {
    ZonalShiftConfigRequest::builder().enabled(enabled).build()
}

fn scaling(tier: &str) -> ControlPlaneScalingConfig {
    ControlPlaneScalingConfig::builder()
        .tier(ProvisionedControlPlaneTier::from(tier))
        .build()
}

fn insight_of(summary: &InsightSummary) -> ObservedInsight {
    let status = summary.insight_status();
    ObservedInsight {
        id: string(summary.id()),
        name: string(summary.name()),
        kubernetes_version: summary.kubernetes_version().map(str::to_owned),
        status: status
            .and_then(|s| s.status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: status
            .and_then(|s| s.reason())
            .unwrap_or_default()
            .to_owned(),
        recommendation: None,
    }
}

/// EKS Auto Mode's three parts, all on (`Some`) or all off (`None`): EKS refuses a mix
/// (InvalidParameterException "For EKS Auto Mode, please ensure that all required configs,
/// including computeConfig, kubernetesNetworkConfig, and blockStorage are all either fully
/// enabled or fully disabled", kubernetes-sigs/cluster-api-provider-aws#5278). Off sends no
/// node pools or role; on sends the role only with node pools (EKS refuses either without the
/// other: "When Compute Config nodeRoleArn is not null or empty, nodePool value(s) must be
/// provided", aws/aws-cdk#33894).
fn auto_mode_config(
    auto_mode: Option<&AutoMode>,
) -> (
    ComputeConfigRequest,
    StorageConfigRequest,
    KubernetesNetworkConfigRequest,
) {
    let enabled = auto_mode.is_some();
    let compute = match auto_mode {
        Some(auto) => ComputeConfigRequest::builder()
            .enabled(true)
            .set_node_pools(Some(auto.node_pools.clone()))
            .set_node_role_arn(
                auto.node_role_arn
                    .clone()
                    .filter(|_| !auto.node_pools.is_empty()),
            )
            .build(),
        None => ComputeConfigRequest::builder().enabled(false).build(),
    };
    let storage = StorageConfigRequest::builder()
        .block_storage(BlockStorage::builder().enabled(enabled).build())
        .build();
    let network = KubernetesNetworkConfigRequest::builder()
        .elastic_load_balancing(ElasticLoadBalancing::builder().enabled(enabled).build())
        .build();
    (compute, storage, network)
}

/// Auto Mode as DescribeCluster reports it: on when compute is on.
fn observed_auto_mode(cluster: &Cluster) -> Option<AutoMode> {
    let compute = cluster.compute_config()?;
    (compute.enabled() == Some(true)).then(|| AutoMode {
        node_pools: sorted(compute.node_pools()),
        node_role_arn: compute.node_role_arn().map(str::to_owned),
    })
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

#[async_trait]
impl ControlPlane for AwsCloud {
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
        // Sent only for Auto Mode: a cluster without it gets EKS's defaults.
        let (compute, storage, network) = match &request.auto_mode {
            Some(auto) => {
                let (compute, storage, network) = auto_mode_config(Some(auto));
                (Some(compute), Some(storage), Some(network))
            }
            None => (None, None, None),
        };
        // One `kubernetesNetworkConfig` carries both Auto Mode's load balancing and the IP
        // family (sent only for IPv6: an IPv4 cluster's create stays as it was).
        let network = match request.ip_family.as_deref() {
            None => network,
            Some(family) => Some(
                KubernetesNetworkConfigRequest::builder()
                    .set_elastic_load_balancing(
                        network.and_then(|n| n.elastic_load_balancing().cloned()),
                    )
                    .ip_family(IpFamily::from(family))
                    .build(),
            ),
        };
        self.eks
            .create_cluster()
            .set_compute_config(compute)
            .set_storage_config(storage)
            .set_kubernetes_network_config(network)
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
            // Always: EKS's own default (EXTENDED) is not ekspec's. The rest only when they
            // differ from EKS's defaults, so regions and endpoints without them still work.
            .upgrade_policy(upgrade_policy(&request.support_type))
            .set_deletion_protection(request.deletion_protection.then_some(true))
            .set_zonal_shift_config(request.zonal_shift.then(|| zonal_shift(true)))
            .set_control_plane_scaling_config(
                (request.scaling_tier != "standard").then(|| scaling(&request.scaling_tier)),
            )
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
            ClusterConfigChange::AutoMode(auto_mode) => {
                let (compute, storage, network) = auto_mode_config(auto_mode.as_ref());
                update
                    .compute_config(compute)
                    .storage_config(storage)
                    .kubernetes_network_config(network)
            }
            ClusterConfigChange::Logging { enable, disable } => {
                let setups = [(enable, true), (disable, false)]
                    .into_iter()
                    .filter(|(types, _)| !types.is_empty())
                    .map(|(types, enabled)| log_setup(types, enabled))
                    .collect();
                update.logging(Logging::builder().set_cluster_logging(Some(setups)).build())
            }
            ClusterConfigChange::UpgradePolicy { support_type } => {
                update.upgrade_policy(upgrade_policy(support_type))
            }
            ClusterConfigChange::DeletionProtection { enabled } => {
                update.deletion_protection(*enabled)
            }
            ClusterConfigChange::ZonalShift { enabled } => {
                update.zonal_shift_config(zonal_shift(*enabled))
            }
            ClusterConfigChange::ScalingTier { tier } => {
                update.control_plane_scaling_config(scaling(tier))
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

    async fn upgrade_insights(
        &self,
        cluster: &str,
        version: &str,
    ) -> CloudResult<Vec<ObservedInsight>> {
        let filter = InsightsFilter::builder()
            .categories(Category::UpgradeReadiness)
            .kubernetes_versions(version)
            .build();
        let summaries: Vec<InsightSummary> = all_items!(
            self.eks
                .list_insights()
                .cluster_name(cluster)
                .filter(filter),
            "ListInsights",
            format!("cluster {cluster}")
        )?;
        let failing: Vec<String> = summaries
            .iter()
            .filter(|s| {
                s.insight_status().and_then(|st| st.status()) != Some(&InsightStatusValue::Passing)
            })
            .filter_map(|s| s.id().map(str::to_owned))
            .collect();
        let summaries = &summaries;
        super::describe_each(
            failing,
            |id| async move {
                let resource = format!("insight {id} of cluster {cluster}");
                let output = self
                    .eks
                    .describe_insight()
                    .cluster_name(cluster)
                    .id(&id)
                    .send()
                    .await
                    .context("DescribeInsight", &resource)
                    .or_gone()?;
                let Some(summary) = summaries.iter().find(|s| s.id() == Some(id.as_str())) else {
                    return Ok(None);
                };
                let mut insight = insight_of(summary);
                insight.recommendation = output
                    .as_ref()
                    .and_then(|o| o.insight())
                    .and_then(|i| i.recommendation())
                    .map(str::to_owned);
                Ok(Some(insight))
            },
            |insight: &ObservedInsight| (insight.status.clone(), insight.name.clone()),
        )
        .await
    }

    async fn version_support(&self, version: &str) -> CloudResult<Option<VersionSupport>> {
        let output = self
            .eks
            .describe_cluster_versions()
            .cluster_versions(version)
            .include_all(true)
            .send()
            .await
            .context("DescribeClusterVersions", format!("Kubernetes {version}"))?;
        let listed = output
            .cluster_versions()
            .iter()
            .find(|v| v.cluster_version() == Some(version));
        Ok(Some(match listed {
            Some(v) => VersionSupport {
                version: version.to_owned(),
                status: v
                    .version_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                end_of_standard_support: v.end_of_standard_support_date().and_then(date),
                end_of_extended_support: v.end_of_extended_support_date().and_then(date),
            },
            // Asked for by name with `includeAll`, a version EKS ever offered is listed.
            None => VersionSupport {
                version: version.to_owned(),
                status: VersionSupport::NOT_LISTED.to_owned(),
                ..VersionSupport::default()
            },
        }))
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
}
