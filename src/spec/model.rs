//! The serde model of an `ekspec/v1alpha1` cluster spec, with its defaults.
//!
//! Field names follow `shared/SPEC.md` exactly; every struct rejects unknown fields.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The only `apiVersion` this build understands.
pub const API_VERSION: &str = "ekspec/v1alpha1";
/// The only `kind` this build understands.
pub const KIND: &str = "Cluster";

/// Resource tags: key to value, sorted so plans and hashes are stable.
pub type Tags = BTreeMap<String, String>;

/// One cluster spec file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "ekspec cluster spec")]
pub struct ClusterFile {
    /// Always `ekspec/v1alpha1`.
    pub api_version: String,
    /// Always `Cluster`.
    pub kind: String,
    /// Name, region and tags of the cluster.
    pub metadata: Metadata,
    /// The desired state of the cluster.
    pub spec: ClusterSpec,
}

/// Identity of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// EKS cluster name: 1-100 characters, `[A-Za-z][A-Za-z0-9-]*`.
    pub name: String,
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Tags added to every resource ekspec creates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: Tags,
}

/// The desired state of the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// Kubernetes minor version as a string, e.g. `"1.31"`.
    pub kubernetes_version: String,
    /// The network: a VPC ekspec creates, or an existing one.
    #[serde(default)]
    pub vpc: VpcSpec,
    /// API server endpoint access.
    #[serde(default)]
    pub endpoint: EndpointSpec,
    /// Control plane log types sent to CloudWatch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logging: Vec<LogType>,
    /// Envelope encryption of Kubernetes secrets with a KMS key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_encryption: Option<SecretsEncryption>,
    /// EKS managed node groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_groups: Vec<NodeGroupSpec>,
    /// Fargate profiles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fargate_profiles: Vec<FargateProfileSpec>,
    /// IAM roles for service accounts (IRSA).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<ServiceAccountSpec>,
    /// EKS add-ons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addons: Vec<AddonSpec>,
    /// Cluster access entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_entries: Vec<AccessEntrySpec>,
    /// The AWS side of Karpenter: its roles, node access entry, interruption queue and the
    /// discovery tags its `EC2NodeClass` selects subnets and security groups by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub karpenter: Option<KarpenterSpec>,
    /// EKS Auto Mode: EKS runs the nodes (its built-in node pools), block storage and load
    /// balancing. Absent = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_mode: Option<AutoModeSpec>,
    /// What EKS does when the Kubernetes version leaves standard support. Default
    /// `{supportType: STANDARD}`: upgraded automatically, never billed for extended support
    /// unless the spec asks for it (EKS's own default is `EXTENDED`). In place.
    #[serde(default, skip_serializing_if = "UpgradePolicy::is_default")]
    pub upgrade_policy: UpgradePolicy,
    /// Refuse DeleteCluster while on: `ekspec delete` stops until the spec says `false` and is
    /// applied. Default false. In place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deletion_protection: bool,
    /// Let Amazon Application Recovery Controller shift traffic away from an impaired zone
    /// (EKS `zonalShiftConfig.enabled`). Default false. In place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub zonal_shift: bool,
    /// EKS Provisioned Control Plane tier. Default `standard` (no extra cost). In place.
    #[serde(default, skip_serializing_if = "ControlPlaneScalingTier::is_standard")]
    pub control_plane_scaling_tier: ControlPlaneScalingTier,

    /// The IP family of pods and services: `ipv4` (default) or `ipv6` (a dual-stack VPC,
    /// IPv6 pods and services). Set at create; EKS cannot change it.
    #[serde(default, skip_serializing_if = "IpFamily::is_ipv4")]
    pub ip_family: IpFamily,
}

/// The cluster's support policy (EKS `upgradePolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpgradePolicy {
    /// `STANDARD` (default): upgraded at the end of standard support; `EXTENDED`: stays on the
    /// version through extended support, at an extra cost per cluster hour.
    #[serde(default)]
    pub support_type: SupportType,
}

impl UpgradePolicy {
    /// Whether this is the default policy (left out when a spec is written).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// EKS support types, spelled as EKS spells them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SupportType {
    /// Upgraded automatically at the end of standard support.
    #[default]
    #[serde(rename = "STANDARD")]
    Standard,
    /// Enters extended support (billed per cluster hour) at the end of standard support.
    #[serde(rename = "EXTENDED")]
    Extended,
}

impl SupportType {
    /// The name EKS uses.
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::Extended => "EXTENDED",
        }
    }
}

/// EKS Provisioned Control Plane tiers, as the EKS API reference lists them
/// (`ControlPlaneScalingConfig.tier`: standard | tier-xl | tier-2xl | tier-4xl | tier-8xl; the
/// SDK's `ProvisionedControlPlaneTier` has the same five).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ControlPlaneScalingTier {
    /// EKS's default control plane, no extra cost.
    #[default]
    #[serde(rename = "standard")]
    Standard,
    /// Extra-large provisioned tier.
    #[serde(rename = "tier-xl")]
    TierXl,
    /// 2x extra-large provisioned tier.
    #[serde(rename = "tier-2xl")]
    Tier2xl,
    /// 4x extra-large provisioned tier.
    #[serde(rename = "tier-4xl")]
    Tier4xl,
    /// 8x extra-large provisioned tier.
    #[serde(rename = "tier-8xl")]
    Tier8xl,
}

impl ControlPlaneScalingTier {
    /// The name EKS uses.
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::TierXl => "tier-xl",
            Self::Tier2xl => "tier-2xl",
            Self::Tier4xl => "tier-4xl",
            Self::Tier8xl => "tier-8xl",
        }
    }

    /// Whether this is the default tier (left out when a spec is written).
    pub fn is_standard(&self) -> bool {
        *self == Self::Standard
    }
}

/// The IP family Kubernetes assigns pod and service addresses from
/// (`kubernetesNetworkConfig.ipFamily`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IpFamily {
    /// IPv4 pods and services.
    #[default]
    Ipv4,
    /// IPv6 pods and services, in a VPC and subnets with IPv6 blocks.
    Ipv6,
}

impl IpFamily {
    /// The name EKS uses (`ipv4`, `ipv6`).
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
        }
    }

    /// Whether this is the default, IPv4.
    pub fn is_ipv4(&self) -> bool {
        *self == Self::Ipv4
    }
}

/// The VPC: either created by ekspec (`cidr`, zones, NAT) or brought by the user (`id`, `subnets`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VpcSpec {
    /// IPv4 CIDR of a VPC ekspec creates, /16 to /24. Default `10.0.0.0/16`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// Explicit availability zones (at least two). Excludes `zoneCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zones: Option<Vec<String>>,
    /// Number of availability zones to use, 2 to 6. Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_count: Option<u8>,
    /// NAT gateways for private subnets. Default `single`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_gateway: Option<NatGatewayMode>,
    /// An existing VPC to use instead of creating one. Never modified or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Existing subnets of the VPC given by `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<ExistingSubnets>,
}

/// Default VPC CIDR.
pub const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
/// Default number of availability zones.
pub const DEFAULT_ZONE_COUNT: u8 = 3;

/// How private subnets reach the internet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum NatGatewayMode {
    /// One NAT gateway shared by all zones.
    #[default]
    Single,
    /// One NAT gateway per zone (survives a zone outage).
    PerZone,
    /// No NAT gateway: private subnets have no internet access.
    None,
}

/// Subnets of an existing VPC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExistingSubnets {
    /// Private subnet ids (nodes and the control plane's network interfaces).
    #[serde(default)]
    pub private: Vec<String>,
    /// Public subnet ids (internet-facing load balancers).
    #[serde(default)]
    pub public: Vec<String>,
}

/// API server endpoint access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointSpec {
    /// Reachable from the internet. Default true.
    #[serde(default = "default_true")]
    pub public_access: bool,
    /// Reachable from inside the VPC. Default true.
    #[serde(default = "default_true")]
    pub private_access: bool,
    /// CIDRs allowed to reach the public endpoint. Default `[0.0.0.0/0]`.
    #[serde(default = "default_public_access_cidrs")]
    pub public_access_cidrs: Vec<String>,
}

impl Default for EndpointSpec {
    fn default() -> Self {
        Self {
            public_access: true,
            private_access: true,
            public_access_cidrs: default_public_access_cidrs(),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_public_access_cidrs() -> Vec<String> {
    vec!["0.0.0.0/0".to_owned()]
}

/// A control plane log type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum LogType {
    /// API server logs.
    Api,
    /// Audit logs.
    Audit,
    /// Authenticator logs.
    Authenticator,
    /// Controller manager logs.
    ControllerManager,
    /// Scheduler logs.
    Scheduler,
}

impl LogType {
    /// The name EKS uses for this log type.
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Audit => "audit",
            Self::Authenticator => "authenticator",
            Self::ControllerManager => "controllerManager",
            Self::Scheduler => "scheduler",
        }
    }

    /// Every log type, in EKS's order.
    pub const ALL: [LogType; 5] = [
        Self::Api,
        Self::Audit,
        Self::Authenticator,
        Self::ControllerManager,
        Self::Scheduler,
    ];
}

/// Envelope encryption of Kubernetes secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretsEncryption {
    /// ARN of a symmetric KMS key in the cluster's region.
    pub key_arn: String,
}

/// An EKS managed node group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeGroupSpec {
    /// Node group name, unique in the cluster: 1-54 characters.
    pub name: String,
    /// EC2 instance types; spot node groups should list several.
    pub instance_types: Vec<String>,
    /// On-demand (default) or spot capacity.
    #[serde(default)]
    pub capacity_type: CapacityType,
    /// AMI family. Default `AL2023_x86_64_STANDARD`.
    #[serde(default)]
    pub ami_type: AmiType,
    /// Minimum number of nodes. Default: `desiredSize`, or 2 capped by `maxSize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u32>,
    /// Maximum number of nodes. Default: the larger of `minSize` and `desiredSize`, or 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    /// Nodes at creation; later only enforced when outside `[minSize, maxSize]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_size: Option<u32>,
    /// Root volume size in GiB. Default 20.
    #[serde(default = "default_disk_size", rename = "diskSizeGiB")]
    pub disk_size_gib: u32,
    /// Place nodes in private subnets. Default true.
    #[serde(default = "default_true")]
    pub private_networking: bool,
    /// Kubernetes labels on every node.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Kubernetes taints on every node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// Nodes replaced at once during a rolling update. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<u32>,
    /// Percentage of nodes replaced at once during a rolling update (instead of `maxUnavailable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable_percentage: Option<u32>,
    /// Let pods reach the instance metadata service (IMDSv2 hop limit 2). Default false.
    #[serde(default)]
    pub pod_imds_access: bool,
    /// Extra tags for this node group and its launch template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: Tags,
    /// A custom AMI (`ami-...`) for the nodes instead of EKS's: it goes in the launch template
    /// with user data ekspec writes for the OS family `amiType` names (AL2023 or Bottlerocket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_id: Option<String>,
    /// An SSM parameter holding the custom AMI's id (e.g. an EKS-optimized AMI's
    /// `/aws/service/eks/optimized-ami/.../image_id`), read at plan time; instead of `amiId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_parameter: Option<String>,
    /// Shell commands each node runs before it joins the cluster (Amazon Linux only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_bootstrap_commands: Vec<String>,
    /// EKS node auto repair. Absent: not sent at create, and repair is kept off (EKS's
    /// default). Changes in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_repair_config: Option<NodeRepairConfig>,
    /// How a rolling update replaces nodes: `DEFAULT` (new nodes first) or `MINIMAL` (old
    /// nodes first). Absent: EKS's `DEFAULT`. Changes in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<UpdateStrategy>,
    /// Which EC2 Capacity Reservations the nodes launch into, carried by the launch template.
    /// A change is a new launch template version the node group rolls to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_reservation: Option<CapacityReservationSpec>,
    /// Zones the nodes are placed in: the node group gets only the VPC's subnets there.
    /// Default: every zone of the VPC. A change makes a new node group (EKS cannot move one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
}

/// EKS node auto repair of a node group, with AWS's field names (`NodeRepairConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeRepairConfig {
    /// Turn node auto repair on or off.
    pub enabled: bool,
    /// Repair stops above this many unhealthy nodes (at least 1). Excludes the percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unhealthy_node_threshold_count: Option<u32>,
    /// Repair stops above this percentage of unhealthy nodes (1 to 100). Excludes the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unhealthy_node_threshold_percentage: Option<u32>,
    /// At most this many nodes are repaired at once (at least 1). Excludes the percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_nodes_repaired_count: Option<u32>,
    /// At most this percentage of the unhealthy nodes is repaired at once (1 to 100).
    /// Excludes the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_nodes_repaired_percentage: Option<u32>,
}

/// How EKS replaces nodes during a rolling update (`NodegroupUpdateConfig.updateStrategy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum UpdateStrategy {
    /// New nodes are launched before old ones are terminated.
    #[default]
    Default,
    /// Old nodes are terminated before new ones are launched (for scarce or costly
    /// capacity such as GPUs).
    Minimal,
}

impl UpdateStrategy {
    /// The name EKS uses (the same spelling as in the spec).
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::Default => "DEFAULT",
            Self::Minimal => "MINIMAL",
        }
    }
}

/// The EC2 Capacity Reservation targeting of a node group's instances (the launch template's
/// `CapacityReservationSpecification`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CapacityReservationSpec {
    /// `open` (any open reservation that matches), `none` (never a reservation) or
    /// `capacity-reservations-only` (only a reservation; launches fail without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preference: Option<CapacityReservationPreference>,
    /// A Capacity Reservation to launch into (`cr-...`). Excludes `resourceGroupArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A Capacity Reservation resource group to launch into. Excludes `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group_arn: Option<String>,
}

/// An instance's Capacity Reservation preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CapacityReservationPreference {
    /// Any open Capacity Reservation with matching attributes, else On-Demand capacity.
    Open,
    /// Never a Capacity Reservation.
    None,
    /// Only a Capacity Reservation (or group); without capacity the launch fails.
    CapacityReservationsOnly,
}

impl CapacityReservationPreference {
    /// The name EC2 uses (the same spelling as in the spec).
    pub fn ec2_name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::None => "none",
            Self::CapacityReservationsOnly => "capacity-reservations-only",
        }
    }
}

fn default_disk_size() -> u32 {
    20
}

/// Node counts of a node group after defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scaling {
    /// Minimum nodes.
    pub min: u32,
    /// Maximum nodes.
    pub max: u32,
    /// Desired nodes at creation.
    pub desired: u32,
}

impl NodeGroupSpec {
    /// Node counts with defaults applied (eksctl's: two nodes when nothing is said).
    pub fn scaling(&self) -> Scaling {
        const DEFAULT_NODES: u32 = 2;
        let max = self.max_size.unwrap_or_else(|| {
            DEFAULT_NODES
                .max(self.min_size.unwrap_or(0))
                .max(self.desired_size.unwrap_or(0))
        });
        let min = self
            .min_size
            .unwrap_or_else(|| self.desired_size.unwrap_or(DEFAULT_NODES).min(max));
        let desired = self.desired_size.unwrap_or_else(|| min.max(1).min(max));
        Scaling { min, max, desired }
    }

    /// Whether the nodes run a custom AMI (`amiId` or `amiParameter`).
    pub fn custom_ami(&self) -> bool {
        self.ami_id.is_some() || self.ami_parameter.is_some()
    }
}

/// On-demand, spot or Capacity Block capacity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CapacityType {
    /// On-demand instances.
    #[default]
    OnDemand,
    /// Spot instances.
    Spot,
    /// A Capacity Block for ML (`capacityReservation.id`), in its zone (`availabilityZones`),
    /// of its one instance type (`instanceTypes`).
    CapacityBlock,
}

impl CapacityType {
    /// The name EKS uses.
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::OnDemand => "ON_DEMAND",
            Self::Spot => "SPOT",
            Self::CapacityBlock => "CAPACITY_BLOCK",
        }
    }
}

/// AMI families EKS managed node groups support.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(non_camel_case_types)]
pub enum AmiType {
    /// Amazon Linux 2023, x86-64.
    #[default]
    AL2023_x86_64_STANDARD,
    /// Amazon Linux 2023, Arm.
    AL2023_ARM_64_STANDARD,
    /// Amazon Linux 2023 with NVIDIA drivers.
    AL2023_x86_64_NVIDIA,
    /// Amazon Linux 2023 with Neuron drivers.
    AL2023_x86_64_NEURON,
    /// Amazon Linux 2, x86-64 (Kubernetes 1.32 and older).
    AL2_x86_64,
    /// Amazon Linux 2 with GPU drivers (Kubernetes 1.32 and older).
    AL2_x86_64_GPU,
    /// Amazon Linux 2, Arm (Kubernetes 1.32 and older).
    AL2_ARM_64,
    /// Bottlerocket, x86-64.
    BOTTLEROCKET_x86_64,
    /// Bottlerocket, Arm.
    BOTTLEROCKET_ARM_64,
    /// Bottlerocket with NVIDIA drivers, x86-64.
    BOTTLEROCKET_x86_64_NVIDIA,
    /// Bottlerocket with NVIDIA drivers, Arm.
    BOTTLEROCKET_ARM_64_NVIDIA,
}

impl AmiType {
    /// The name EKS uses (the same spelling as in the spec).
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::AL2023_x86_64_STANDARD => "AL2023_x86_64_STANDARD",
            Self::AL2023_ARM_64_STANDARD => "AL2023_ARM_64_STANDARD",
            Self::AL2023_x86_64_NVIDIA => "AL2023_x86_64_NVIDIA",
            Self::AL2023_x86_64_NEURON => "AL2023_x86_64_NEURON",
            Self::AL2_x86_64 => "AL2_x86_64",
            Self::AL2_x86_64_GPU => "AL2_x86_64_GPU",
            Self::AL2_ARM_64 => "AL2_ARM_64",
            Self::BOTTLEROCKET_x86_64 => "BOTTLEROCKET_x86_64",
            Self::BOTTLEROCKET_ARM_64 => "BOTTLEROCKET_ARM_64",
            Self::BOTTLEROCKET_x86_64_NVIDIA => "BOTTLEROCKET_x86_64_NVIDIA",
            Self::BOTTLEROCKET_ARM_64_NVIDIA => "BOTTLEROCKET_ARM_64_NVIDIA",
        }
    }

    /// Whether the AMI runs on Arm (Graviton) instances.
    pub fn is_arm(self) -> bool {
        matches!(
            self,
            Self::AL2023_ARM_64_STANDARD
                | Self::AL2_ARM_64
                | Self::BOTTLEROCKET_ARM_64
                | Self::BOTTLEROCKET_ARM_64_NVIDIA
        )
    }

    /// Whether the AMI is Bottlerocket (TOML user data, no shell).
    pub fn is_bottlerocket(self) -> bool {
        self.eks_name().starts_with("BOTTLEROCKET")
    }

    /// Whether the AMI is Amazon Linux 2023 (nodeadm).
    pub fn is_al2023(self) -> bool {
        self.eks_name().starts_with("AL2023")
    }

    /// Whether the AMI is Amazon Linux 2, which EKS does not ship after Kubernetes 1.32.
    pub fn is_al2(self) -> bool {
        matches!(
            self,
            Self::AL2_x86_64 | Self::AL2_x86_64_GPU | Self::AL2_ARM_64
        )
    }
}

/// A Kubernetes taint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    /// Taint key.
    pub key: String,
    /// Taint value (may be empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What the taint does to pods that do not tolerate it.
    pub effect: TaintEffect,
}

/// Effect of a taint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum TaintEffect {
    /// Pods that do not tolerate the taint are not scheduled.
    NoSchedule,
    /// The scheduler avoids the node when it can.
    PreferNoSchedule,
    /// Running pods that do not tolerate the taint are evicted.
    NoExecute,
}

impl TaintEffect {
    /// The name EKS uses.
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::NoSchedule => "NO_SCHEDULE",
            Self::PreferNoSchedule => "PREFER_NO_SCHEDULE",
            Self::NoExecute => "NO_EXECUTE",
        }
    }

    /// The name Kubernetes uses (the spec's spelling), as the kubelet takes it.
    pub fn kubernetes_name(self) -> &'static str {
        match self {
            Self::NoSchedule => "NoSchedule",
            Self::PreferNoSchedule => "PreferNoSchedule",
            Self::NoExecute => "NoExecute",
        }
    }
}

/// A Fargate profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FargateProfileSpec {
    /// Profile name, unique in the cluster.
    pub name: String,
    /// Pods matching any selector run on Fargate (1 to 5 selectors).
    pub selectors: Vec<FargateSelector>,
    /// Extra tags for this profile.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: Tags,
}

/// Which pods a Fargate profile runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FargateSelector {
    /// Kubernetes namespace.
    pub namespace: String,
    /// Pod labels that must all match.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// An IAM role for a Kubernetes service account, through IRSA or EKS Pod Identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountSpec {
    /// Service account name.
    pub name: String,
    /// Service account namespace.
    pub namespace: String,
    /// How pods of the account get the role: `irsa` (default) or `podIdentity`. A change is
    /// in place: the new binding exists before the old trust is removed.
    #[serde(default, skip_serializing_if = "IdentityMechanism::is_irsa")]
    pub mechanism: IdentityMechanism,
    /// Managed IAM policies attached to the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// An inline IAM policy document, written as YAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_policy: Option<serde_json::Value>,
    /// IAM role name; default `<cluster>-<namespace>-<name>` (at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
}

/// How a service account's pods assume its IAM role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IdentityMechanism {
    /// IAM roles for service accounts: the role trusts the cluster's OIDC provider for this
    /// one service account.
    #[default]
    Irsa,
    /// EKS Pod Identity: the role trusts `pods.eks.amazonaws.com`, and an EKS association
    /// binds it to the service account (needs the `eks-pod-identity-agent` add-on).
    PodIdentity,
}

impl IdentityMechanism {
    /// Whether this is IRSA (the default, left out when the spec is written).
    pub fn is_irsa(&self) -> bool {
        *self == Self::Irsa
    }

    /// The spelling in the spec.
    pub fn spec_name(self) -> &'static str {
        match self {
            Self::Irsa => "irsa",
            Self::PodIdentity => "podIdentity",
        }
    }
}

/// The add-on EKS Pod Identity needs on every node.
pub const POD_IDENTITY_AGENT: &str = "eks-pod-identity-agent";

/// The AWS side of Karpenter, as the Karpenter project documents it for `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KarpenterSpec {
    /// Karpenter version, `1.0.0` or newer (e.g. `"1.8.1"`): the controller policy follows it.
    pub version: String,
    /// Namespace the controller runs in. Default `karpenter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The controller's service account, bound to its role by EKS Pod Identity. Default
    /// `karpenter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Make the SQS interruption queue and the EventBridge rules that feed it (spot
    /// interruptions, rebalance recommendations, instance state changes, AWS Health scheduled
    /// changes). Default true.
    #[serde(default = "default_true")]
    pub interruption_queue: bool,
}

/// Default namespace and service account of the Karpenter controller.
pub const DEFAULT_KARPENTER_NAMESPACE: &str = "karpenter";

impl KarpenterSpec {
    /// The controller's namespace, default applied.
    pub fn namespace(&self) -> &str {
        self.namespace
            .as_deref()
            .unwrap_or(DEFAULT_KARPENTER_NAMESPACE)
    }

    /// The controller's service account, default applied.
    pub fn service_account(&self) -> &str {
        self.service_account
            .as_deref()
            .unwrap_or(DEFAULT_KARPENTER_NAMESPACE)
    }
}

/// An EKS add-on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddonSpec {
    /// Add-on name, e.g. `vpc-cni`.
    pub name: String,
    /// Add-on version; omitted = the default version for the cluster's Kubernetes version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Use the role of `serviceAccounts[name]`: as the add-on's service account role (IRSA),
    /// or through a Pod Identity association of the add-on (`mechanism: podIdentity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Add-on configuration values, written as YAML and sent as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_values: Option<serde_json::Value>,
}

/// A cluster access entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessEntrySpec {
    /// IAM role or user ARN.
    pub principal_arn: String,
    /// Kubernetes groups the principal belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_groups: Vec<String>,
    /// Kubernetes user name; default chosen by EKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// EKS access policies associated with the principal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<AccessPolicySpec>,
}

/// An access policy association.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessPolicySpec {
    /// EKS cluster access policy ARN.
    pub policy_arn: String,
    /// `cluster` (default) or `{namespaces: [...]}`.
    #[serde(default)]
    pub scope: AccessScope,
}

/// Where an access policy applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AccessScope {
    /// The whole cluster (`cluster`).
    #[default]
    #[serde(with = "cluster_scope")]
    #[schemars(schema_with = "cluster_scope::schema")]
    Cluster,
    /// Only the listed namespaces.
    Namespaces(NamespaceScope),
}

/// A namespace-scoped access policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespaceScope {
    /// Namespaces the policy applies to.
    pub namespaces: Vec<String>,
}

/// (De)serializes the unit variant `AccessScope::Cluster` as the string `cluster`.
mod cluster_scope {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("cluster")
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "cluster" {
            Ok(())
        } else {
            Err(D::Error::custom(format!(
                "unknown scope `{text}`, expected `cluster` or `{{namespaces: [...]}}`"
            )))
        }
    }

    /// The schema of the string form.
    pub fn schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "enum": ["cluster"] })
    }
}

/// EKS Auto Mode: compute, block storage and load balancing, turned on and off together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoModeSpec {
    /// Turn Auto Mode on. `false` keeps the section but turns it off.
    pub enabled: bool,
    /// The built-in node pools EKS runs. Default both; `[]` runs none (bring your own
    /// `NodePool`s).
    #[serde(default = "default_auto_mode_node_pools")]
    pub node_pools: Vec<AutoModeNodePool>,
}

/// A built-in node pool of EKS Auto Mode.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum AutoModeNodePool {
    /// `general-purpose`: on-demand nodes for workloads.
    #[serde(rename = "general-purpose")]
    GeneralPurpose,
    /// `system`: nodes for critical add-ons only (tainted `CriticalAddonsOnly`).
    #[serde(rename = "system")]
    System,
}

impl AutoModeNodePool {
    /// The name EKS uses for this node pool.
    pub fn eks_name(self) -> &'static str {
        match self {
            Self::GeneralPurpose => "general-purpose",
            Self::System => "system",
        }
    }
}

fn default_auto_mode_node_pools() -> Vec<AutoModeNodePool> {
    vec![AutoModeNodePool::GeneralPurpose, AutoModeNodePool::System]
}

impl ClusterSpec {
    /// The Auto Mode settings when Auto Mode is on.
    pub fn auto_mode(&self) -> Option<&AutoModeSpec> {
        self.auto_mode.as_ref().filter(|a| a.enabled)
    }
}
