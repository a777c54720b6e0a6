//! The part of eksctl's `ClusterConfig` (`eksctl.io/v1alpha5`) that ekspec can carry over.
//!
//! Field names follow eksctl's `pkg/apis/eksctl.io/v1alpha5` types. Every struct keeps the
//! fields it does not model in `other`, so the importer can report each one by its path
//! instead of dropping it. Everything is optional: eksctl's own defaults are applied (and
//! reported) by the converter, not by serde.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Fields a struct does not model, by name, in file order.
pub type Other = serde_json::Map<String, Value>;

/// String maps (labels, tags): eksctl's `map[string]string`.
pub type StringMap = BTreeMap<String, String>;

/// An eksctl cluster config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfig {
    /// `eksctl.io/v1alpha5`.
    pub api_version: Option<String>,
    /// `ClusterConfig`.
    pub kind: Option<String>,
    /// Name, region, version, tags.
    pub metadata: Option<ClusterMeta>,
    /// The network.
    pub vpc: Option<Vpc>,
    /// Zones of a VPC eksctl creates.
    pub availability_zones: Option<Vec<String>>,
    /// EKS managed node groups.
    pub managed_node_groups: Option<Vec<ManagedNodeGroup>>,
    /// Self-managed node groups (not supported by ekspec: reported whole).
    pub node_groups: Option<Vec<Value>>,
    /// OIDC and IAM roles for service accounts.
    pub iam: Option<ClusterIam>,
    /// EKS add-ons.
    pub addons: Option<Vec<Addon>>,
    /// Fargate profiles.
    pub fargate_profiles: Option<Vec<FargateProfile>>,
    /// Control plane logging.
    pub cloud_watch: Option<CloudWatch>,
    /// KMS envelope encryption of secrets.
    pub secrets_encryption: Option<SecretsEncryption>,
    /// Authentication mode and access entries.
    pub access_config: Option<AccessConfig>,
    /// Settings for all add-ons.
    pub addons_config: Option<AddonsConfig>,
    /// Karpenter, installed by eksctl with its AWS side.
    pub karpenter: Option<Karpenter>,
    /// The IP family and service CIDR.
    pub kubernetes_network_config: Option<KubernetesNetworkConfig>,
    /// EKS Auto Mode.
    pub auto_mode_config: Option<AutoModeConfig>,
    /// The support policy.
    pub upgrade_policy: Option<UpgradePolicy>,
    /// Zonal shift.
    pub zonal_shift_config: Option<ZonalShiftConfig>,
    /// The Provisioned Control Plane tier.
    pub control_plane_scaling_config: Option<ControlPlaneScalingConfig>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `upgradePolicy`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradePolicy {
    /// `STANDARD` or `EXTENDED` (eksctl's default).
    pub support_type: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `zonalShiftConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZonalShiftConfig {
    /// Zonal shift on or off.
    pub enabled: Option<bool>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `controlPlaneScalingConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneScalingConfig {
    /// The tier, e.g. `tier-xl`.
    pub tier: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `metadata`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMeta {
    /// Cluster name.
    pub name: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// Kubernetes version, e.g. `"1.31"`.
    pub version: Option<String>,
    /// Tags on every resource eksctl creates.
    pub tags: Option<StringMap>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `vpc`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vpc {
    /// An existing VPC.
    pub id: Option<String>,
    /// CIDR of a VPC eksctl creates.
    pub cidr: Option<String>,
    /// NAT gateway mode.
    pub nat: Option<Nat>,
    /// API server endpoint access.
    pub cluster_endpoints: Option<ClusterEndpoints>,
    /// CIDRs allowed to reach the public endpoint.
    #[serde(rename = "publicAccessCIDRs")]
    pub public_access_cidrs: Option<Vec<String>>,
    /// Subnets, by zone (or by an alias with `az`).
    pub subnets: Option<Subnets>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `vpc.nat`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nat {
    /// `Single` (default), `HighlyAvailable` or `Disable`.
    pub gateway: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `vpc.clusterEndpoints`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEndpoints {
    /// Default true.
    pub public_access: Option<bool>,
    /// Default false.
    pub private_access: Option<bool>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `vpc.subnets`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnets {
    /// Private subnets by zone or alias.
    pub private: Option<BTreeMap<String, Subnet>>,
    /// Public subnets by zone or alias.
    pub public: Option<BTreeMap<String, Subnet>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// One subnet of `vpc.subnets`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    /// An existing subnet.
    pub id: Option<String>,
    /// Its CIDR (informational for an existing subnet).
    pub cidr: Option<String>,
    /// Its zone, when the map key is an alias.
    pub az: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// One entry of `managedNodeGroups`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedNodeGroup {
    /// Node group name.
    pub name: Option<String>,
    /// `AmazonLinux2023`, `AmazonLinux2`, `Bottlerocket`, `Ubuntu2204`, ...
    pub ami_family: Option<String>,
    /// One instance type.
    pub instance_type: Option<String>,
    /// Several instance types.
    pub instance_types: Option<Vec<String>>,
    /// Spot capacity.
    pub spot: Option<bool>,
    /// Minimum nodes.
    pub min_size: Option<u32>,
    /// Maximum nodes.
    pub max_size: Option<u32>,
    /// Nodes at creation.
    pub desired_capacity: Option<u32>,
    /// Root volume size in GiB (eksctl's default 80).
    pub volume_size: Option<u32>,
    /// Root volume type (eksctl's default gp3).
    pub volume_type: Option<String>,
    /// Nodes in private subnets (eksctl's default false).
    pub private_networking: Option<bool>,
    /// Kubernetes labels.
    pub labels: Option<StringMap>,
    /// Kubernetes taints: a list, or the older `key: value:Effect` map.
    pub taints: Option<Taints>,
    /// Tags.
    pub tags: Option<StringMap>,
    /// Rolling update budget.
    pub update_config: Option<UpdateConfig>,
    /// Require IMDSv2.
    #[serde(rename = "disableIMDSv1")]
    pub disable_imdsv1: Option<bool>,
    /// Block pods from the instance metadata service.
    #[serde(rename = "disablePodIMDS")]
    pub disable_pod_imds: Option<bool>,
    /// A custom AMI id, or `auto-ssm` / `auto` / `static` for EKS's.
    pub ami: Option<String>,
    /// Shell commands run before the node's bootstrap.
    pub pre_bootstrap_commands: Option<Vec<String>>,
    /// EKS node auto repair.
    pub node_repair_config: Option<NodeRepairConfig>,
    /// Capacity Reservation targeting of the launch template.
    pub capacity_reservation: Option<CapacityReservation>,
    /// Zones the group's nodes go in.
    pub availability_zones: Option<Vec<String>>,
    /// The launch template's market options: eksctl takes only `capacity-block`.
    pub instance_market_options: Option<InstanceMarketOptions>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `managedNodeGroups[].instanceMarketOptions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceMarketOptions {
    /// `capacity-block` (a Capacity Block for ML).
    pub market_type: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `managedNodeGroups[].nodeRepairConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRepairConfig {
    /// Repair on or off.
    pub enabled: Option<bool>,
    /// Unhealthy nodes above which repair stops.
    pub max_unhealthy_node_threshold_count: Option<u32>,
    /// Percentage of unhealthy nodes above which repair stops.
    pub max_unhealthy_node_threshold_percentage: Option<u32>,
    /// Nodes repaired at once.
    pub max_parallel_nodes_repaired_count: Option<u32>,
    /// Percentage of unhealthy nodes repaired at once.
    pub max_parallel_nodes_repaired_percentage: Option<u32>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `managedNodeGroups[].capacityReservation`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityReservation {
    /// `open` or `none`.
    pub capacity_reservation_preference: Option<String>,
    /// One reservation or one resource group.
    pub capacity_reservation_target: Option<CapacityReservationTarget>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `managedNodeGroups[].capacityReservation.capacityReservationTarget`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CapacityReservationTarget {
    /// `cr-...`.
    #[serde(rename = "capacityReservationID")]
    pub capacity_reservation_id: Option<String>,
    /// A resource group ARN.
    #[serde(rename = "capacityReservationResourceGroupARN")]
    pub capacity_reservation_resource_group_arn: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// Node taints in either of eksctl's forms.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Taints {
    /// `[{key, value, effect}]`.
    List(Vec<TaintEntry>),
    /// The older `{key: "value:Effect"}`.
    Map(StringMap),
}

/// One taint of the list form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaintEntry {
    /// Taint key.
    pub key: Option<String>,
    /// Taint value.
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `managedNodeGroups[].updateConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConfig {
    /// Nodes replaced at once.
    pub max_unavailable: Option<u32>,
    /// Percentage of nodes replaced at once.
    pub max_unavailable_percentage: Option<u32>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `iam`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterIam {
    /// Create the cluster's OIDC provider.
    #[serde(rename = "withOIDC")]
    pub with_oidc: Option<bool>,
    /// IAM roles for service accounts.
    pub service_accounts: Option<Vec<ServiceAccount>>,
    /// EKS Pod Identity associations, with the roles eksctl makes for them.
    pub pod_identity_associations: Option<Vec<PodIdentityAssociation>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// One entry of `iam.serviceAccounts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    /// Name and namespace.
    pub metadata: Option<ServiceAccountMeta>,
    /// Managed policies.
    #[serde(rename = "attachPolicyARNs")]
    pub attach_policy_arns: Option<Vec<String>>,
    /// An inline policy document.
    pub attach_policy: Option<Value>,
    /// The IAM role name.
    pub role_name: Option<String>,
    /// eksctl's named policy sets (`autoScaler: true`, ...).
    pub well_known_policies: Option<Value>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// One entry of `iam.podIdentityAssociations` or `addons[].podIdentityAssociations`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityAssociation {
    /// Namespace of the service account (eksctl requires it).
    pub namespace: Option<String>,
    /// Service account name.
    pub service_account_name: Option<String>,
    /// An existing role to bind instead of one eksctl makes.
    #[serde(rename = "roleARN")]
    pub role_arn: Option<String>,
    /// The IAM role name of a role eksctl makes.
    pub role_name: Option<String>,
    /// Managed policies of a role eksctl makes.
    #[serde(rename = "permissionPolicyARNs")]
    pub permission_policy_arns: Option<Vec<String>>,
    /// An inline policy document of a role eksctl makes.
    pub permission_policy: Option<Value>,
    /// eksctl also creates the Kubernetes service account (default false).
    pub create_service_account: Option<bool>,
    /// eksctl's named policy sets of a role eksctl makes.
    pub well_known_policies: Option<Value>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `iam.serviceAccounts[].metadata`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountMeta {
    /// Service account name.
    pub name: Option<String>,
    /// Namespace (eksctl's default `default`).
    pub namespace: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// One entry of `addons`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addon {
    /// Add-on name.
    pub name: Option<String>,
    /// Version, or `latest`.
    pub version: Option<String>,
    /// An existing IAM role.
    #[serde(rename = "serviceAccountRoleARN")]
    pub service_account_role_arn: Option<String>,
    /// Managed policies for an IRSA role eksctl creates.
    #[serde(rename = "attachPolicyARNs")]
    pub attach_policy_arns: Option<Vec<String>>,
    /// An inline policy for an IRSA role eksctl creates.
    pub attach_policy: Option<Value>,
    /// Configuration as a JSON or YAML string.
    pub configuration_values: Option<Value>,
    /// Pod Identity associations EKS makes through the add-on, with roles eksctl makes.
    pub pod_identity_associations: Option<Vec<PodIdentityAssociation>>,
    /// Associations with the policies EKS recommends for the add-on, looked up at create.
    pub use_default_pod_identity_associations: Option<bool>,
    /// eksctl's named policy sets for an IRSA role eksctl creates.
    pub well_known_policies: Option<Value>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `addonsConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonsConfig {
    /// `useDefaultPodIdentityAssociations` for every add-on that supports Pod Identity.
    pub auto_apply_pod_identity_associations: Option<bool>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `karpenter`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Karpenter {
    /// Karpenter version (eksctl requires it), e.g. `"1.2.1"` or `"v0.20.0"`.
    pub version: Option<String>,
    /// The SQS interruption queue and its EventBridge rules (eksctl's default false).
    pub with_spot_interruption_queue: Option<bool>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// One entry of `fargateProfiles`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateProfile {
    /// Profile name.
    pub name: Option<String>,
    /// Which pods run on Fargate.
    pub selectors: Option<Vec<FargateSelector>>,
    /// Tags.
    pub tags: Option<StringMap>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `fargateProfiles[].selectors[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateSelector {
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// Pod labels.
    pub labels: Option<StringMap>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `cloudWatch`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatch {
    /// Control plane log types.
    pub cluster_logging: Option<ClusterLogging>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `cloudWatch.clusterLogging`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterLogging {
    /// Log types, or `["*"]` / `["all"]`.
    pub enable_types: Option<Vec<String>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `kubernetesNetworkConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesNetworkConfig {
    /// `IPv4` or `IPv6` (eksctl takes either case).
    pub ip_family: Option<String>,
    /// The service CIDR of an IPv4 cluster.
    #[serde(rename = "serviceIPv4CIDR")]
    pub service_ipv4_cidr: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `secretsEncryption`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsEncryption {
    /// KMS key ARN.
    #[serde(rename = "keyARN")]
    pub key_arn: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `accessConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessConfig {
    /// `API`, `API_AND_CONFIG_MAP` or `CONFIG_MAP`.
    pub authentication_mode: Option<String>,
    /// Give the creator cluster-admin (EKS's default true).
    pub bootstrap_cluster_creator_admin_permissions: Option<bool>,
    /// Access entries.
    pub access_entries: Option<Vec<AccessEntry>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `accessConfig.accessEntries[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    /// IAM principal.
    #[serde(rename = "principalARN")]
    pub principal_arn: Option<String>,
    /// `STANDARD` (default), `EC2_LINUX`, ...
    #[serde(rename = "type")]
    pub entry_type: Option<String>,
    /// Kubernetes groups.
    pub kubernetes_groups: Option<Vec<String>>,
    /// Kubernetes user name.
    pub kubernetes_username: Option<String>,
    /// Access policies.
    pub access_policies: Option<Vec<AccessPolicy>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `accessConfig.accessEntries[].accessPolicies[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicy {
    /// Access policy ARN.
    #[serde(rename = "policyARN")]
    pub policy_arn: Option<String>,
    /// Where it applies.
    pub access_scope: Option<AccessScope>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `accessPolicies[].accessScope`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessScope {
    /// `cluster` or `namespace`.
    #[serde(rename = "type")]
    pub scope_type: Option<String>,
    /// Namespaces, for `namespace`.
    pub namespaces: Option<Vec<String>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `autoModeConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoModeConfig {
    /// Auto Mode on (eksctl's default false).
    pub enabled: Option<bool>,
    /// Built-in node pools (eksctl's default both; `[]` for none).
    pub node_pools: Option<Vec<String>>,
    /// The node role (eksctl makes one when it is not given and there are node pools).
    #[serde(rename = "nodeRoleARN")]
    pub node_role_arn: Option<String>,
    /// Permissions boundary of the node role eksctl makes.
    #[serde(rename = "permissionsBoundaryARN")]
    pub permissions_boundary_arn: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}

/// `nodeGroups[].instancesDistribution`: a self-managed node group's mix of instance types
/// and of on-demand and spot capacity (an Auto Scaling group's MixedInstancesPolicy).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstancesDistribution {
    /// Instance types to launch.
    pub instance_types: Option<Vec<String>>,
    /// Highest spot price to pay per hour.
    pub max_price: Option<f64>,
    /// On-demand instances before any spot (AWS's default 0).
    pub on_demand_base_capacity: Option<u32>,
    /// Percentage of on-demand instances above the base (AWS's default 100).
    pub on_demand_percentage_above_base_capacity: Option<u32>,
    /// Spot pools to spread across (`lowest-price` only).
    pub spot_instance_pools: Option<u32>,
    /// `lowest-price`, `capacity-optimized`, ...
    pub spot_allocation_strategy: Option<String>,
    /// Capacity Rebalancing of the Auto Scaling group.
    pub capacity_rebalance: Option<bool>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub other: Other,
}
