//! What the cloud layer reads from and sends to AWS, in ekspec's own terms.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Resource tags.
pub type Tags = BTreeMap<String, String>;

/// EC2 resource kinds ekspec creates or cleans up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Ec2Kind {
    /// A VPC.
    Vpc,
    /// A subnet.
    Subnet,
    /// An internet gateway (must be detached first).
    InternetGateway,
    /// An Elastic IP allocation (released).
    Address,
    /// A NAT gateway.
    NatGateway,
    /// A route table (associations must be removed first).
    RouteTable,
    /// A launch template.
    LaunchTemplate,
    /// A security group.
    SecurityGroup,
    /// A network interface.
    NetworkInterface,
    /// An egress-only internet gateway (IPv6 out of private subnets).
    EgressOnlyInternetGateway,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedVpc {
    /// `vpc-...`.
    pub id: String,
    /// Primary IPv4 CIDR.
    pub cidr: String,
    /// Tags.
    pub tags: Tags,
    /// Its IPv6 block (an Amazon-provided /56), once associated.
    pub ipv6_cidr: Option<String>,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedSubnet {
    /// `subnet-...`.
    pub id: String,
    /// The VPC.
    pub vpc_id: String,
    /// IPv4 CIDR.
    pub cidr: String,
    /// Availability zone name.
    pub availability_zone: String,
    /// Whether instances get public IPs.
    pub map_public_ip_on_launch: bool,
    /// Tags.
    pub tags: Tags,
    /// Its IPv6 block (a /64 of the VPC's), once associated.
    pub ipv6_cidr: Option<String>,
    /// Whether network interfaces made in it get an IPv6 address
    /// (`AssignIpv6AddressOnCreation`).
    pub assign_ipv6_address_on_creation: bool,
}

/// An internet gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedInternetGateway {
    /// `igw-...`.
    pub id: String,
    /// VPCs it is attached to.
    pub attached_vpc_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An Elastic IP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedAddress {
    /// `eipalloc-...`.
    pub allocation_id: String,
    /// Set while associated (e.g. with a NAT gateway).
    pub association_id: Option<String>,
    /// The public IP.
    pub public_ip: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// A NAT gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedNatGateway {
    /// `nat-...`.
    pub id: String,
    /// The public subnet it lives in.
    pub subnet_id: String,
    /// Elastic IP allocations.
    pub allocation_ids: Vec<String>,
    /// `pending`, `available`, `deleting`, `deleted` or `failed`.
    pub state: String,
    /// Tags.
    pub tags: Tags,
}

/// Where a default route points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RouteTarget {
    /// An internet gateway.
    InternetGateway(String),
    /// A NAT gateway.
    NatGateway(String),
    /// An egress-only internet gateway (IPv6 only).
    EgressOnlyInternetGateway(String),
}

impl RouteTarget {
    /// The gateway's id.
    pub fn id(&self) -> &str {
        match self {
            Self::InternetGateway(id)
            | Self::NatGateway(id)
            | Self::EgressOnlyInternetGateway(id) => id,
        }
    }
}

/// An egress-only internet gateway: outbound IPv6 for private subnets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedEgressOnlyInternetGateway {
    /// `eigw-...`.
    pub id: String,
    /// The VPC it is attached to.
    pub vpc_id: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// A route table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedRouteTable {
    /// `rtb-...`.
    pub id: String,
    /// The VPC.
    pub vpc_id: String,
    /// Target of the 0.0.0.0/0 route, if any.
    pub default_route: Option<RouteTarget>,
    /// `(association id, subnet id)` pairs.
    pub associations: Vec<(String, String)>,
    /// Tags.
    pub tags: Tags,
    /// Whether it is the VPC's main route table, which routes every subnet without an
    /// association of its own.
    pub main: bool,
    /// Target of the ::/0 route, if any.
    pub default_ipv6_route: Option<RouteTarget>,
}

/// Launch template settings ekspec manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaunchTemplateData {
    /// The device of the volume `diskSizeGiB` sizes: the root volume (`/dev/xvda`) on Amazon
    /// Linux, the data volume (`/dev/xvdb`) on Bottlerocket.
    pub disk_device: String,
    /// Its size in GiB (gp3, encrypted).
    pub disk_size_gib: u32,
    /// A volume of the AMI mapped only to be encrypted too: Bottlerocket's OS volume.
    pub os_device: Option<String>,
    /// IMDSv2 hop limit: 1 keeps pods off the node role, 2 lets them through.
    pub metadata_hop_limit: u32,
    /// Whether IMDSv2 tokens are required.
    pub metadata_tokens_required: bool,
    /// Tags applied to instances and volumes launched from it.
    pub instance_tags: Tags,
    /// The AMI (`ImageId`) of a node group with a custom AMI; `None` lets EKS choose its own.
    pub image_id: Option<String>,
    /// The user data, decoded (EC2 holds it base64-encoded).
    pub user_data: Option<String>,
    /// Capacity Reservation targeting of the instances (`None`: EC2's default, `open`).
    pub capacity_reservation: Option<CapacityReservationTargeting>,
    /// The instance type (`InstanceType`), named here only for a Capacity Block.
    pub instance_type: Option<String>,
    /// `InstanceMarketOptions.MarketType`: `capacity-block` for a Capacity Block, else none.
    pub market_type: Option<String>,
}

/// A launch template's `CapacityReservationSpecification`: a preference, a target (one
/// reservation or one resource group), or `capacity-reservations-only` with a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapacityReservationTargeting {
    /// `open`, `none` or `capacity-reservations-only`.
    pub preference: Option<String>,
    /// A Capacity Reservation id (`cr-...`).
    pub id: Option<String>,
    /// A Capacity Reservation resource group ARN.
    pub resource_group_arn: Option<String>,
}

/// A launch template (its newest version's data).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedLaunchTemplate {
    /// `lt-...`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The newest version number: each change of the data is a new version, and the node
    /// group rolls to it.
    pub latest_version: i64,
    /// The newest version's data, when it could be read.
    pub data: Option<LaunchTemplateData>,
    /// Tags.
    pub tags: Tags,
}

/// Everything EC2 holds for one cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedNetwork {
    /// VPCs.
    pub vpcs: Vec<ObservedVpc>,
    /// Subnets.
    pub subnets: Vec<ObservedSubnet>,
    /// Internet gateways.
    pub internet_gateways: Vec<ObservedInternetGateway>,
    /// Elastic IPs.
    pub addresses: Vec<ObservedAddress>,
    /// NAT gateways not yet deleted.
    pub nat_gateways: Vec<ObservedNatGateway>,
    /// Route tables.
    pub route_tables: Vec<ObservedRouteTable>,
    /// Launch templates.
    pub launch_templates: Vec<ObservedLaunchTemplate>,
    /// Egress-only internet gateways.
    pub egress_only_internet_gateways: Vec<ObservedEgressOnlyInternetGateway>,
    /// Security groups (ekspec makes none: the ones here were adopted with a VPC).
    pub security_groups: Vec<ObservedSecurityGroup>,
}

/// What a brought-in VPC holds, whoever made it: what `--adopt-network` takes over, and what
/// stops it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VpcContents {
    /// The VPC, its subnets, the internet gateway attached to it, its NAT gateways (not
    /// deleted) with their Elastic IPs, route tables, egress-only internet gateways and
    /// security groups (the VPC's `default` one left out: it goes with the VPC).
    pub network: ObservedNetwork,
    /// Instances in it that are not terminated (or being terminated).
    pub instances: Vec<ObservedInstance>,
}

/// An instance, as far as adopting its VPC cares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedInstance {
    /// `i-...`.
    pub id: String,
    /// `pending`, `running`, `stopping` or `stopped`.
    pub state: String,
    /// Tags.
    pub tags: Tags,
}

/// A load balancer Kubernetes made for a `LoadBalancer` Service or an Ingress.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum LoadBalancerRef {
    /// A classic ELB, by name (the in-tree cloud provider's default for Services).
    Classic(String),
    /// An ALB or NLB (ELBv2), by ARN.
    V2(String),
}

impl fmt::Display for LoadBalancerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Classic(name) => write!(f, "classic load balancer {name}"),
            Self::V2(arn) => write!(f, "load balancer {arn}"),
        }
    }
}

/// What Kubernetes leaves in a VPC, in the order it has to go.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Leftovers {
    /// Load balancers (their network interfaces block the subnets and security groups).
    pub load_balancers: Vec<LoadBalancerRef>,
    /// ELBv2 target group ARNs (in use until their load balancers are gone).
    pub target_groups: Vec<String>,
    /// Security group ids (not the VPC default group).
    pub security_groups: Vec<String>,
    /// Network interface ids in state `available`.
    pub network_interfaces: Vec<String>,
    /// Instances EKS Auto Mode launched in the VPC, not yet terminated (their interfaces
    /// block the subnets and security groups).
    pub instances: Vec<String>,
    /// Launch template ids EKS Auto Mode made for the cluster.
    pub launch_templates: Vec<String>,
}

/// A security group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedSecurityGroup {
    /// `sg-...`.
    pub id: String,
    /// Tags.
    pub tags: Tags,
    /// Its name (`default` for a VPC's own group); empty where not read.
    pub name: String,
    /// Its rules that name another security group (they keep that group from being deleted:
    /// DeleteSecurityGroup answers DependencyViolation while another group's rule references
    /// it); empty where not read.
    pub group_rules: Vec<GroupRule>,
}

/// A security group rule whose source (ingress) or destination (egress) is another group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRule {
    /// Ingress (else egress).
    pub ingress: bool,
    /// `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number.
    pub protocol: String,
    /// First port (ICMP type), where the protocol has ports.
    pub from_port: Option<i32>,
    /// Last port (ICMP code).
    pub to_port: Option<i32>,
    /// The group it names.
    pub group_id: String,
}

/// What a running Karpenter launched for a cluster (tagged `kubernetes.io/cluster/<cluster>
/// = owned` and `karpenter.sh/nodepool`), in the order it has to go.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KarpenterLeftovers {
    /// Instances not yet terminated (their interfaces block subnets and security groups).
    pub instances: Vec<String>,
    /// Launch template ids.
    pub launch_templates: Vec<String>,
}

/// A request to create a subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubnetRequest {
    /// The VPC.
    pub vpc_id: String,
    /// IPv4 CIDR.
    pub cidr: String,
    /// Availability zone.
    pub availability_zone: String,
    /// Map public IPs on launch.
    pub public: bool,
    /// Tags (including the Kubernetes role tags).
    pub tags: Tags,
}

/// A request to create a launch template (or a version of it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaunchTemplateRequest {
    /// Template name.
    pub name: String,
    /// Settings.
    pub data: LaunchTemplateData,
    /// Tags of the template itself.
    pub tags: Tags,
    /// Idempotency token.
    pub client_token: String,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedRole {
    /// Role name.
    pub name: String,
    /// Role ARN.
    pub arn: String,
    /// IAM path.
    pub path: String,
    /// Trust policy, URL-decoded and parsed.
    pub trust_policy: serde_json::Value,
    /// Tags.
    pub tags: Tags,
    /// Attached managed policy ARNs, sorted.
    pub attached_policies: Vec<String>,
    /// Inline policies by name.
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    /// When IAM created it, in milliseconds since the Unix epoch (a role deleted and made
    /// again under the same name is a new principal to AWS).
    pub created_at: Option<i64>,
    /// Its description (ekspec writes what a role is for there, e.g. Karpenter's version).
    pub description: Option<String>,
}

/// Whether a trust policy lets the federated principal `principal` (an OIDC provider's ARN)
/// assume the role.
pub fn trusts_federated(document: &serde_json::Value, principal: &str) -> bool {
    let statements = match document.get("Statement") {
        Some(serde_json::Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    statements.into_iter().any(|statement| {
        statement.get("Effect").and_then(serde_json::Value::as_str) == Some("Allow")
            && match statement.pointer("/Principal/Federated") {
                Some(serde_json::Value::String(arn)) => arn == principal,
                Some(serde_json::Value::Array(arns)) => arns.iter().any(|a| a == principal),
                _ => false,
            }
    })
}

/// A request to create a role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleRequest {
    /// Role name.
    pub name: String,
    /// IAM path, `/ekspec/<cluster>/`.
    pub path: String,
    /// Trust policy.
    pub trust_policy: serde_json::Value,
    /// Description.
    pub description: String,
    /// Tags.
    pub tags: Tags,
}

/// An IAM OIDC identity provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedOidcProvider {
    /// Provider ARN.
    pub arn: String,
    /// Issuer URL without `https://`.
    pub url: String,
    /// Audiences.
    pub client_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An EKS cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedCluster {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, `FAILED`.
    pub status: String,
    /// Kubernetes version `1.N`.
    pub version: String,
    /// Cluster service role ARN.
    pub role_arn: String,
    /// Subnets of the control plane's network interfaces, sorted.
    pub subnet_ids: Vec<String>,
    /// The VPC of those subnets.
    pub vpc_id: Option<String>,
    /// The security group EKS made for the cluster (control plane and managed nodes), once
    /// it exists (`resourcesVpcConfig.clusterSecurityGroupId`).
    pub cluster_security_group_id: Option<String>,
    /// Public endpoint access.
    pub endpoint_public_access: bool,
    /// Private endpoint access.
    pub endpoint_private_access: bool,
    /// CIDRs allowed to reach the public endpoint, sorted.
    pub public_access_cidrs: Vec<String>,
    /// Enabled log types (EKS names), sorted.
    pub enabled_log_types: Vec<String>,
    /// KMS key for secrets, if any.
    pub encryption_key_arn: Option<String>,
    /// `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API` (`None`: not reported, as by older APIs).
    pub authentication_mode: Option<String>,
    /// OIDC issuer URL (`https://...`), once ACTIVE.
    pub oidc_issuer: Option<String>,
    /// API server URL, once ACTIVE.
    pub endpoint: Option<String>,
    /// Base64 CA data, once ACTIVE.
    pub certificate_authority: Option<String>,
    /// Tags.
    pub tags: Tags,
    /// `kubernetesNetworkConfig.ipFamily`: `ipv4` or `ipv6` (`None`: not reported).
    pub ip_family: Option<String>,
    /// The Kubernetes service CIDR (`kubernetesNetworkConfig.serviceIpv6Cidr` on an IPv6
    /// cluster, else `serviceIpv4Cidr`).
    pub service_cidr: Option<String>,
    /// EKS Auto Mode as DescribeCluster reports it (`None`: off).
    pub auto_mode: Option<AutoMode>,

    /// `upgradePolicy.supportType`: `STANDARD` or `EXTENDED` (`None`: not reported).
    pub support_type: Option<String>,
    /// Whether DeleteCluster is refused (`deletionProtection`).
    pub deletion_protection: bool,
    /// `zonalShiftConfig.enabled`.
    pub zonal_shift: bool,
    /// `controlPlaneScalingConfig.tier` (`None`: not reported, EKS's `standard`).
    pub scaling_tier: Option<String>,
}

/// EKS Auto Mode of a cluster: compute (`computeConfig`), block storage
/// (`storageConfig.blockStorage`) and load balancing
/// (`kubernetesNetworkConfig.elasticLoadBalancing`), which EKS turns on and off together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoMode {
    /// The built-in node pools (EKS names), sorted.
    pub node_pools: Vec<String>,
    /// The node role of the instances it launches (sent only with node pools: EKS refuses a
    /// role without them).
    pub node_role_arn: Option<String>,
}

/// One of EKS's upgrade insights for a cluster (ListInsights, with DescribeInsight's advice).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedInsight {
    /// Insight id.
    pub id: String,
    /// Its name, e.g. `Kubernetes API deprecations`.
    pub name: String,
    /// The Kubernetes version it is about (the upgrade's target).
    pub kubernetes_version: Option<String>,
    /// `PASSING`, `WARNING`, `ERROR` or `UNKNOWN`.
    pub status: String,
    /// Why it has that status.
    pub reason: String,
    /// What to do about it (DescribeInsight `recommendation`).
    pub recommendation: Option<String>,
}

/// Where a Kubernetes version is in EKS's support lifecycle (DescribeClusterVersions).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VersionSupport {
    /// `1.N`.
    pub version: String,
    /// `STANDARD_SUPPORT`, `EXTENDED_SUPPORT` or `UNSUPPORTED` (EKS's), or
    /// [`VersionSupport::NOT_LISTED`] (ekspec's: EKS does not list the version at all).
    pub status: String,
    /// End of standard support, `YYYY-MM-DD` (UTC).
    pub end_of_standard_support: Option<String>,
    /// End of extended support, `YYYY-MM-DD` (UTC).
    pub end_of_extended_support: Option<String>,
}

impl VersionSupport {
    /// The status of a version DescribeClusterVersions does not list (even with `includeAll`):
    /// EKS does not offer it (yet, or in this partition).
    pub const NOT_LISTED: &'static str = "NOT_LISTED";

    /// Whether EKS creates clusters on (and upgrades to) this version: it does on versions in
    /// standard or extended support (EKS user guide, "Understand the Kubernetes version
    /// lifecycle on EKS": "You can create new Amazon EKS clusters on any version offered in
    /// standard or extended support"), not past it, nor on one it does not list.
    pub fn offered(&self) -> bool {
        !matches!(self.status.as_str(), "UNSUPPORTED" | Self::NOT_LISTED)
    }
}

/// A request to create a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterRequest {
    /// Name.
    pub name: String,
    /// Kubernetes version.
    pub version: String,
    /// Service role ARN.
    pub role_arn: String,
    /// Subnets.
    pub subnet_ids: Vec<String>,
    /// Public endpoint.
    pub endpoint_public_access: bool,
    /// Private endpoint.
    pub endpoint_private_access: bool,
    /// Public CIDRs.
    pub public_access_cidrs: Vec<String>,
    /// Enabled log types (EKS names).
    pub enabled_log_types: Vec<String>,
    /// KMS key for secrets.
    pub encryption_key_arn: Option<String>,
    /// Tags.
    pub tags: Tags,
    /// Idempotency token.
    pub client_request_token: String,
    /// EKS Auto Mode (`None`: off, nothing sent).
    pub auto_mode: Option<AutoMode>,
    /// `upgradePolicy.supportType` (`STANDARD` or `EXTENDED`).
    pub support_type: String,
    /// `deletionProtection`.
    pub deletion_protection: bool,
    /// `zonalShiftConfig.enabled`.
    pub zonal_shift: bool,
    /// `controlPlaneScalingConfig.tier`.
    pub scaling_tier: String,
    /// `kubernetesNetworkConfig.ipFamily` (`None`: not sent, EKS's default ipv4).
    pub ip_family: Option<String>,
}

/// An in-place change of a cluster: one of the two at a time (EKS refuses both at once).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ClusterConfigChange {
    /// New endpoint access settings.
    Endpoint {
        /// Public endpoint.
        public_access: bool,
        /// Private endpoint.
        private_access: bool,
        /// Public CIDRs.
        public_access_cidrs: Vec<String>,
    },
    /// Allow access entries (`API_AND_CONFIG_MAP`); EKS cannot go back to `CONFIG_MAP`.
    EnableAccessEntries,
    /// Move the control plane's network interfaces to these subnets (of its VPC, in the zones
    /// it was created in).
    Subnets {
        /// Subnet ids, sorted.
        subnet_ids: Vec<String>,
    },
    /// Turn EKS Auto Mode on (or change its node pools: `Some`), or off (`None`): compute,
    /// block storage and load balancing in one call, as EKS requires.
    AutoMode(Option<AutoMode>),
    /// Log types to enable and to disable (EKS names).
    Logging {
        /// Turned on.
        enable: Vec<String>,
        /// Turned off.
        disable: Vec<String>,
    },
    /// The support policy (`upgradePolicy.supportType`: `STANDARD` or `EXTENDED`).
    UpgradePolicy {
        /// Support type.
        support_type: String,
    },
    /// Deletion protection on or off.
    DeletionProtection {
        /// On.
        enabled: bool,
    },
    /// Zonal shift on or off (`zonalShiftConfig.enabled`).
    ZonalShift {
        /// On.
        enabled: bool,
    },
    /// The Provisioned Control Plane tier (`controlPlaneScalingConfig.tier`).
    ScalingTier {
        /// Tier, e.g. `tier-xl`.
        tier: String,
    },
}

/// A Kubernetes taint as EKS spells it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct NodeTaint {
    /// Key.
    pub key: String,
    /// Value (may be empty).
    pub value: String,
    /// `NO_SCHEDULE`, `PREFER_NO_SCHEDULE` or `NO_EXECUTE`.
    pub effect: String,
}

/// Node counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NodeScaling {
    /// Minimum.
    pub min: i32,
    /// Maximum.
    pub max: i32,
    /// Desired.
    pub desired: i32,
}

/// Rolling update budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UpdateBudget {
    /// Nodes at once.
    Count(i32),
    /// Percent of nodes at once.
    Percentage(i32),
}

/// Node auto repair settings of a node group (EKS's `NodeRepairConfig`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NodeRepair {
    /// Whether EKS repairs unhealthy nodes.
    pub enabled: bool,
    /// Repair stops above this many unhealthy nodes.
    pub max_unhealthy_node_threshold_count: Option<i32>,
    /// Repair stops above this percentage of unhealthy nodes.
    pub max_unhealthy_node_threshold_percentage: Option<i32>,
    /// At most this many nodes repaired at once.
    pub max_parallel_nodes_repaired_count: Option<i32>,
    /// At most this percentage of unhealthy nodes repaired at once.
    pub max_parallel_nodes_repaired_percentage: Option<i32>,
}

/// An EKS managed node group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedNodeGroup {
    /// Name (the spec name plus a suffix).
    pub name: String,
    /// ARN (for tagging).
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, `CREATE_FAILED`, `DEGRADED`, ...
    pub status: String,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    /// AMI type.
    pub ami_type: String,
    /// Node counts.
    pub scaling: NodeScaling,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Taints, sorted.
    pub taints: Vec<NodeTaint>,
    /// Subnets, sorted.
    pub subnet_ids: Vec<String>,
    /// Launch template id and version.
    pub launch_template: Option<(String, String)>,
    /// Update budget.
    pub update_budget: Option<UpdateBudget>,
    /// Kubernetes version.
    pub version: Option<String>,
    /// Node role ARN.
    pub node_role_arn: String,
    /// Health issues EKS reports (`CODE: message`).
    pub health_issues: Vec<String>,
    /// Tags.
    pub tags: Tags,
    /// Update strategy (`DEFAULT` or `MINIMAL`), when EKS reports one.
    pub update_strategy: Option<String>,
    /// Node auto repair settings, when EKS reports them.
    pub node_repair: Option<NodeRepair>,
    /// Root volume size in GiB, when set on the node group itself (`diskSize`: only without a
    /// launch template; with one, the template says).
    pub disk_size: Option<i32>,
}

/// A request to create a node group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeGroupRequest {
    /// Cluster name.
    pub cluster: String,
    /// Node group name.
    pub name: String,
    /// Node role ARN.
    pub node_role_arn: String,
    /// Subnets.
    pub subnet_ids: Vec<String>,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    /// AMI type.
    pub ami_type: String,
    /// Node counts.
    pub scaling: NodeScaling,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<NodeTaint>,
    /// Launch template id and version.
    pub launch_template: (String, String),
    /// Update budget.
    pub update_budget: UpdateBudget,
    /// Tags.
    pub tags: Tags,
    /// Idempotency token.
    pub client_request_token: String,
    /// Update strategy (`DEFAULT` or `MINIMAL`); `None` leaves EKS's default.
    pub update_strategy: Option<String>,
    /// Node auto repair; `None` is not sent.
    pub node_repair: Option<NodeRepair>,
}

/// An in-place change of a node group; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeGroupConfigChange {
    /// Labels to add or change.
    pub add_labels: BTreeMap<String, String>,
    /// Label keys to remove.
    pub remove_labels: Vec<String>,
    /// Taints to add or change.
    pub add_taints: Vec<NodeTaint>,
    /// Taints to remove.
    pub remove_taints: Vec<NodeTaint>,
    /// New node counts.
    pub scaling: Option<NodeScaling>,
    /// New update budget.
    pub update_budget: Option<UpdateBudget>,
    /// New update strategy (sent with the update budget, which EKS requires in an
    /// `updateConfig`).
    pub update_strategy: Option<String>,
    /// New node auto repair settings.
    pub node_repair: Option<NodeRepair>,
}

/// A Fargate profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedFargateProfile {
    /// Name.
    pub name: String,
    /// ARN (for tagging).
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `DELETING`, `CREATE_FAILED`, `DELETE_FAILED`.
    pub status: String,
    /// Health issues EKS reports (`code: message`), e.g. why it is `CREATE_FAILED`.
    pub health_issues: Vec<String>,
    /// Pod execution role ARN.
    pub pod_execution_role_arn: String,
    /// Subnets, sorted.
    pub subnet_ids: Vec<String>,
    /// Selectors: namespace and labels.
    pub selectors: Vec<(String, BTreeMap<String, String>)>,
    /// Tags.
    pub tags: Tags,
}

/// A request to create a Fargate profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FargateProfileRequest {
    /// Cluster name.
    pub cluster: String,
    /// Profile name.
    pub name: String,
    /// Pod execution role ARN.
    pub pod_execution_role_arn: String,
    /// Private subnets.
    pub subnet_ids: Vec<String>,
    /// Selectors.
    pub selectors: Vec<(String, BTreeMap<String, String>)>,
    /// Tags.
    pub tags: Tags,
    /// Idempotency token.
    pub client_request_token: String,
}

/// An EKS add-on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedAddon {
    /// Add-on name, e.g. `vpc-cni`.
    pub name: String,
    /// ARN (for tagging).
    pub arn: String,
    /// Installed version, e.g. `v1.18.3-eksbuild.1`.
    pub version: String,
    /// `CREATING`, `ACTIVE`, `DEGRADED`, `UPDATING`, `CREATE_FAILED`, ...
    pub status: String,
    /// The IAM role its service account uses, if any.
    pub service_account_role_arn: Option<String>,
    /// Configuration values as JSON text, if any.
    pub configuration_values: Option<String>,
    /// Health issues EKS reports (`code: message`).
    pub health_issues: Vec<String>,
    /// ARNs of the Pod Identity associations EKS made for the add-on (DescribeAddon's
    /// `podIdentityAssociations`), sorted; the association list gives their service account
    /// and role (their `owner_arn` is this add-on's ARN). Deleting the add-on deletes them.
    pub pod_identity_associations: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// The desired state of an add-on, for create and update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddonRequest {
    /// Cluster name.
    pub cluster: String,
    /// Add-on name.
    pub name: String,
    /// Version.
    pub version: String,
    /// IAM role for its service account.
    pub service_account_role_arn: Option<String>,
    /// Configuration values as JSON text.
    pub configuration_values: Option<String>,
    /// The add-on's Pod Identity associations (`podIdentityAssociations`), made and owned by
    /// EKS in the add-on's namespace. `None`: not sent, and on update the add-on's associations
    /// stay as they are ("If this value is left blank, no change"); on update a list replaces
    /// them all, and `Some(vec![])` deletes them ("If an empty array is provided, existing
    /// associations owned by the add-on are deleted"). May go with `service_account_role_arn`:
    /// with the Pod Identity agent installed EKS uses the associations and ignores the role.
    /// An add-on cannot take over an existing association of its service account (EKS user
    /// guide): that one must be deleted first.
    pub pod_identity_associations: Option<Vec<AddonPodIdentity>>,
    /// Tags (create only).
    pub tags: Tags,
    /// Idempotency token.
    pub client_request_token: String,
}

/// A Pod Identity association an add-on asks EKS to make for one of its service accounts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AddonPodIdentity {
    /// The add-on's service account (in the add-on's namespace).
    pub service_account: String,
    /// The IAM role it gets.
    pub role_arn: String,
}

/// An EKS Pod Identity association: a namespace and service account bound to an IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedPodIdentityAssociation {
    /// Id, e.g. `a-1a2b3c4d5e6f7g8h9`.
    pub association_id: String,
    /// ARN (for tagging).
    pub association_arn: String,
    /// Kubernetes namespace.
    pub namespace: String,
    /// Kubernetes service account.
    pub service_account: String,
    /// The IAM role pods of the service account get.
    pub role_arn: String,
    /// The add-on that owns it, when EKS made it for an add-on (`None`: standalone).
    pub owner_arn: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// A request to create a Pod Identity association.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodIdentityAssociationRequest {
    /// Cluster name.
    pub cluster: String,
    /// Kubernetes namespace.
    pub namespace: String,
    /// Kubernetes service account.
    pub service_account: String,
    /// The IAM role.
    pub role_arn: String,
    /// Tags (sent in the create call).
    pub tags: Tags,
    /// Idempotency token (`clientRequestToken`): a create repeated with the same token and
    /// request (a lost answer, a retried step) gets the same association back instead of
    /// ResourceInUseException.
    pub client_request_token: String,
}

/// Where an access policy applies: the cluster, or some namespaces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AccessPolicy {
    /// `arn:aws:eks::aws:cluster-access-policy/...`.
    pub policy_arn: String,
    /// `None` for cluster scope; the namespaces (sorted) otherwise.
    pub namespaces: Option<Vec<String>>,
}

/// An EKS access entry with its associated access policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedAccessEntry {
    /// The IAM principal.
    pub principal_arn: String,
    /// ARN of the entry (for tagging).
    pub arn: String,
    /// Kubernetes groups, sorted.
    pub kubernetes_groups: Vec<String>,
    /// Kubernetes user name.
    pub username: Option<String>,
    /// `STANDARD`, `EC2_LINUX`, `FARGATE_LINUX`, ...
    pub entry_type: String,
    /// Associated access policies, sorted.
    pub policies: Vec<AccessPolicy>,
    /// Tags.
    pub tags: Tags,
    /// When EKS created it, in milliseconds since the Unix epoch: EKS binds an entry to its
    /// principal's unique id at creation, so an entry older than its role is stale.
    pub created_at: Option<i64>,
}

/// The user name EKS gives a `STANDARD` entry that names none (EKS User Guide, "Create access
/// entries"): the session of an assumed role, without the role's path
/// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/{{SessionName}}`), or the user's ARN.
pub fn default_access_entry_username(principal_arn: &str) -> Option<String> {
    let mut parts = principal_arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(_), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    match resource.split_once('/') {
        Some(("role", path_and_name)) => {
            let name = path_and_name.rsplit('/').next()?;
            Some(format!(
                "arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}"
            ))
        }
        Some(("user", _)) => Some(principal_arn.to_owned()),
        _ => None,
    }
}

/// A request to create an access entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessEntryRequest {
    /// Cluster name.
    pub cluster: String,
    /// The IAM principal.
    pub principal_arn: String,
    /// Kubernetes groups.
    pub kubernetes_groups: Vec<String>,
    /// Kubernetes user name; `None` lets EKS choose.
    pub username: Option<String>,
    /// `EC2_LINUX`, `FARGATE_LINUX`, ...; `None` for `STANDARD`.
    pub entry_type: Option<String>,
    /// Tags.
    pub tags: Tags,
    /// Idempotency token.
    pub client_request_token: String,
}

/// An asynchronous EKS update (version, config, encryption).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateStatus {
    /// `InProgress`, `Successful`, `Failed`, `Cancelled`.
    pub status: String,
    /// EKS's errors (`code: message (resources)`), when it failed.
    pub errors: Vec<String>,
}

/// What an EKS update belongs to: the cluster itself, a node group or an add-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UpdateOf<'a> {
    /// The control plane.
    Cluster,
    /// A node group.
    NodeGroup(&'a str),
    /// An add-on.
    Addon(&'a str),
}

/// A zone of a region as `DescribeAvailabilityZones` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvailabilityZone {
    /// Name, e.g. `us-east-1a` (which physical zone it is differs per account).
    pub name: String,
    /// Id, e.g. `use1-az6` (the same physical zone in every account).
    pub id: String,
    /// `availability-zone`, `local-zone` or `wavelength-zone`.
    pub kind: String,
}

/// An SQS queue and the attributes ekspec manages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedQueue {
    /// Queue name.
    pub name: String,
    /// Queue URL (what the SQS API takes).
    pub url: String,
    /// Queue ARN.
    pub arn: String,
    /// The access policy, parsed (`None`: the queue has none).
    pub policy: Option<serde_json::Value>,
    /// `MessageRetentionPeriod` in seconds.
    pub message_retention_seconds: Option<u32>,
    /// `SqsManagedSseEnabled`: encryption at rest with keys SQS owns.
    pub sqs_managed_sse: bool,
    /// Tags.
    pub tags: Tags,
}

/// The attributes of a queue ekspec sets, at create and when they drifted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueAttributes {
    /// The access policy.
    pub policy: serde_json::Value,
    /// `MessageRetentionPeriod` in seconds (60 to 1,209,600).
    pub message_retention_seconds: u32,
    /// `SqsManagedSseEnabled`.
    pub sqs_managed_sse: bool,
}

/// A request to create a queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueRequest {
    /// Queue name (1 to 80 characters: letters, digits, `-`, `_`).
    pub name: String,
    /// Its attributes.
    pub attributes: QueueAttributes,
    /// Tags (given in CreateQueue itself).
    pub tags: Tags,
}

/// Where an EventBridge rule sends what matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RuleTarget {
    /// The target's id within the rule.
    pub id: String,
    /// The target's ARN (an SQS queue's).
    pub arn: String,
}

/// An EventBridge rule on the default event bus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedEventRule {
    /// Rule name.
    pub name: String,
    /// Rule ARN.
    pub arn: String,
    /// The event pattern, parsed (`None`: a scheduled rule).
    pub event_pattern: Option<serde_json::Value>,
    /// `ENABLED`, `DISABLED`, ...
    pub state: String,
    /// Its targets, sorted.
    pub targets: Vec<RuleTarget>,
    /// Tags.
    pub tags: Tags,
}

/// A rule as PutRule makes or replaces it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRuleRequest {
    /// Rule name (1 to 64 characters: letters, digits, `.`, `-`, `_`).
    pub name: String,
    /// The event pattern.
    pub event_pattern: serde_json::Value,
    /// Description.
    pub description: String,
    /// Tags: EventBridge takes them when PutRule creates the rule and ignores them when it
    /// replaces one.
    pub tags: Tags,
}
