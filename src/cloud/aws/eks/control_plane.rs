//! `ControlPlane` over EKS.

use async_trait::async_trait;
use aws_sdk_eks::types::builders::VpcConfigRequestBuilder;
use aws_sdk_eks::types::{
    AuthenticationMode, Cluster, CreateAccessConfigRequest, EncryptionConfig, ErrorDetail,
    LogSetup, LogType, Logging, Provider, VpcConfigRequest,
};

use super::{sorted, string_map, tags_of, update_id};
use crate::cloud::aws::{AwsCloud, AwsContext, OrGone, required, string};
use crate::cloud::{
    CloudResult, ClusterConfigChange, ClusterRequest, ControlPlane, ObservedCluster, Tags,
    UpdateOf, UpdateStatus,
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
        service_cidr: cluster.kubernetes_network_config().and_then(|n| {
            n.service_ipv6_cidr()
                .or(n.service_ipv4_cidr())
                .map(str::to_owned)
        }),
    }
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
}
