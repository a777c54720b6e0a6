//! eksctl fields ekspec has no equivalent for, and what to do instead.
//!
//! A field missing from here is reported as unknown, so a typo in the eksctl file is never
//! mistaken for a feature ekspec lacks.

/// Where in the eksctl file a field sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Top,
    Metadata,
    Vpc,
    Nat,
    Endpoints,
    Subnets,
    Subnet,
    ManagedNodeGroup,
    /// Fields only self-managed `nodeGroups` have (the rest are read as a managed group's).
    NodeGroup,
    InstancesDistribution,
    Taint,
    UpdateConfig,
    NodeRepairConfig,
    CapacityReservation,
    CapacityReservationTarget,
    InstanceMarketOptions,
    Iam,
    ServiceAccount,
    ServiceAccountMeta,
    Addon,
    FargateProfile,
    FargateSelector,
    CloudWatch,
    ClusterLogging,
    SecretsEncryption,
    AccessConfig,
    AccessEntry,
    AccessPolicy,
    AccessScope,
    PodIdentityAssociation,
    AddonsConfig,
    Karpenter,
    AutoMode,
    UpgradePolicy,
    ZonalShiftConfig,
    ControlPlaneScalingConfig,
    KubernetesNetworkConfig,
}

const NODE_ROLE: &str = "ekspec gives all node groups one node role; attach extra permissions with IRSA (spec.serviceAccounts)";
const LAUNCH_TEMPLATE: &str =
    "ekspec builds each node group's launch template itself and offers no such setting";
const STATUS: &str = "read-only state written by eksctl, not configuration";

/// Whether leaving `key` of `scope` out changes nothing ekspec would do.
pub fn harmless(scope: Section, key: &str) -> bool {
    matches!(
        (scope, key),
        (_, "status")
            | (Section::Metadata, "annotations")
            | (Section::ServiceAccount, "roleOnly")
            | (Section::PodIdentityAssociation, "permissionPolicyName")
            | (Section::Karpenter, "createServiceAccount")
    )
}

/// Why ekspec cannot carry `key` of `scope` over, if it is a field eksctl has.
pub fn reason(scope: Section, key: &str) -> Option<&'static str> {
    use Section as S;
    Some(match (scope, key) {
        (S::KubernetesNetworkConfig, "serviceIPv4CIDR") => {
            "ekspec uses EKS's default service CIDR (10.100.0.0/16 or 172.20.0.0/16)"
        }
        (S::Top, "remoteNetworkConfig") => "hybrid nodes are not supported by ekspec",
        (S::Top, "iamIdentityMappings") => {
            "aws-auth ConfigMap mappings are not managed by ekspec: use spec.accessEntries"
        }
        (S::Top, "identityProviders") => {
            "OIDC identity providers for user sign-in are not supported by ekspec"
        }
        (S::Top, "privateCluster") => {
            "fully private clusters are not supported by ekspec: use endpoint.publicAccess: false with the VPC endpoints you provide"
        }
        (S::Top, "localZones") => "Local Zones are not supported by ekspec",
        (S::Top, "gitops" | "git") => "ekspec does not bootstrap GitOps tooling",
        (S::Top, "outpost") => "AWS Outposts are not supported by ekspec",
        (S::Top, "capabilities") => "EKS capabilities are not supported by ekspec",
        (S::Top, "status") => STATUS,
        (S::Metadata, "annotations") => "arbitrary metadata (eksctl ignores it too)",
        (S::Metadata, "accountID") => "ekspec uses the account of the AWS credentials it runs with",
        (
            S::Vpc,
            "securityGroup" | "sharedNodeSecurityGroup" | "manageSharedNodeSecurityGroupRules",
        ) => "ekspec manages the cluster's security groups itself",
        (S::Vpc, "extraCIDRs" | "extraIPv6CIDRs") => {
            "ekspec does not add extra CIDRs to the control plane security group"
        }
        (S::Vpc, "ipv6Cidr" | "ipv6Pool" | "autoAllocateIPv6") => "IPv6 is not supported by ekspec",
        (S::Vpc, "hostnameType") => "ekspec uses the default EC2 hostname type",
        (S::ManagedNodeGroup, "ssh") => {
            "ekspec gives no SSH access to nodes: use SSM Session Manager (the AmazonSSMManagedInstanceCore policy on the node role)"
        }
        (S::ManagedNodeGroup, "iam") => NODE_ROLE,
        (S::ManagedNodeGroup, "subnets") => {
            "ekspec places each node group in all the cluster's private (or public) subnets"
        }
        (S::ManagedNodeGroup, "securityGroups") => "ekspec manages node security groups itself",
        (S::ManagedNodeGroup, "maxPodsPerNode") => {
            "ekspec leaves max pods to the AMI's default for the instance type"
        }
        (S::ManagedNodeGroup, "asgSuspendProcesses") => {
            "EKS manages the node group's Auto Scaling group"
        }
        (
            S::ManagedNodeGroup,
            "volumeName"
            | "volumeEncrypted"
            | "volumeKmsKeyID"
            | "volumeIOPS"
            | "volumeThroughput"
            | "additionalVolumes"
            | "additionalEncryptedVolume",
        ) => {
            "ekspec gives nodes one encrypted gp3 root volume with the AWS-managed key and default performance"
        }
        (S::ManagedNodeGroup, "overrideBootstrapCommand") => {
            "ekspec writes a custom AMI's bootstrap itself (nodeadm NodeConfig or Bottlerocket settings) and takes no replacement for it; put extra steps in preBootstrapCommands"
        }
        (
            S::ManagedNodeGroup,
            "ebsOptimized"
            | "placement"
            | "efaEnabled"
            | "enableDetailedMonitoring"
            | "instancePrefix"
            | "instanceName"
            | "cpuCredits",
        ) => LAUNCH_TEMPLATE,
        (S::ManagedNodeGroup, "propagateASGTags") => {
            "EKS manages the node group's Auto Scaling group; ekspec tags the node group and its launch template"
        }
        (S::ManagedNodeGroup, "instanceSelector") => {
            "list the instance types in instanceTypes instead"
        }
        (S::ManagedNodeGroup, "bottlerocket") => {
            "Bottlerocket settings are not supported by ekspec (amiFamily is carried over)"
        }
        (S::ManagedNodeGroup, "outpostARN") => "AWS Outposts are not supported by ekspec",
        (S::ManagedNodeGroup, "launchTemplate") => {
            "ekspec builds each node group's launch template itself and cannot use an existing one"
        }
        (S::ManagedNodeGroup, "releaseVersion") => {
            "ekspec uses the latest AMI release for the cluster's Kubernetes version"
        }
        (S::NodeRepairConfig, "nodeRepairConfigOverrides") => {
            "per-condition node repair overrides are not supported by ekspec"
        }
        (S::ManagedNodeGroup, "spotAllocationStrategy" | "instancesDistribution") => {
            "EKS chooses spot capacity for managed node groups (capacity-optimized)"
        }
        (S::Iam, "serviceRoleARN" | "serviceRolePermissionsBoundary") => {
            "ekspec creates and owns the cluster's IAM role"
        }
        (S::Iam, "fargatePodExecutionRoleARN" | "fargatePodExecutionRolePermissionsBoundary") => {
            "ekspec creates and owns the Fargate pod execution role"
        }
        (S::Iam, "vpcResourceControllerPolicy") => {
            "ekspec's cluster role always has the VPC resource controller policy"
        }
        (S::ServiceAccount, "attachRoleARN") => {
            "ekspec creates and owns IRSA roles and cannot use an existing one"
        }
        (S::ServiceAccount, "permissionsBoundary") => {
            "permissions boundaries are not supported by ekspec"
        }
        (S::ServiceAccount, "tags") => "ekspec tags IRSA roles with metadata.tags only",
        (S::ServiceAccount, "roleOnly") => "ekspec only ever creates the IAM role",
        (S::ServiceAccount, "status") => STATUS,
        (S::ServiceAccountMeta, "labels" | "annotations") => {
            "ekspec creates only the IAM role, not the Kubernetes service account that would carry them"
        }
        (S::Addon, "permissionsBoundary") => "permissions boundaries are not supported by ekspec",
        (S::Addon, "tags") => "ekspec tags add-ons with metadata.tags only",
        (S::Addon, "resolveConflicts") => "ekspec lets EKS resolve conflicts its default way",
        (S::Addon, "namespaceConfig") => "ekspec installs add-ons in their default namespace",
        (S::PodIdentityAssociation, "permissionsBoundaryARN") => {
            "permissions boundaries are not supported by ekspec"
        }
        (S::PodIdentityAssociation, "tags") => {
            "ekspec tags Pod Identity roles and associations with metadata.tags only"
        }
        (S::PodIdentityAssociation, "targetRoleARN") => {
            "cross-account role chaining is not supported by ekspec: pods get the role ekspec makes, in the cluster's account"
        }
        (S::PodIdentityAssociation, "disableSessionTags") => {
            "ekspec keeps the session tags EKS Pod Identity adds"
        }
        (S::PodIdentityAssociation, "policy") => {
            "session policies on associations are not supported by ekspec: narrow the role's own policies instead"
        }
        (S::PodIdentityAssociation, "permissionPolicyName") => {
            "ekspec names the role's inline policy itself"
        }
        (S::AddonsConfig, "disableDefaultAddons") => {
            "ekspec installs exactly the add-ons listed in spec.addons"
        }
        (S::Karpenter, "createServiceAccount") => {
            "ekspec makes no Kubernetes objects: Karpenter's Helm chart creates its service account (its default, and Pod Identity needs no annotation on it)"
        }
        (S::Karpenter, "defaultInstanceProfile") => {
            "ekspec makes no instance profile for Karpenter's nodes: Karpenter 1.x makes them itself from the EC2NodeClass `role` (ekspec's Karpenter node role)"
        }
        (S::FargateProfile, "podExecutionRoleARN") => {
            "ekspec creates and owns the Fargate pod execution role"
        }
        (S::FargateProfile, "subnets") => {
            "ekspec runs Fargate pods in all the cluster's private subnets"
        }
        (S::FargateProfile, "status") => STATUS,
        (S::ClusterLogging, "logRetentionInDays") => {
            "ekspec does not set the retention of the /aws/eks/CLUSTER/cluster log group: set it in CloudWatch"
        }
        (S::ClusterLogging, "disableTypes") => {
            "ekspec enables exactly the log types in spec.logging"
        }
        (S::SecretsEncryption, "encryptExistingSecrets") => {
            "ekspec enables encryption when the cluster is created or the key is added; EKS then encrypts existing secrets"
        }
        (S::NodeGroup | S::InstancesDistribution, _) => return self_managed_reason(scope, key),
        _ => return None,
    })
}

/// Why fields only self-managed node groups have are not carried over.
fn self_managed_reason(scope: Section, key: &str) -> Option<&'static str> {
    use Section as S;
    Some(match (scope, key) {
        (S::NodeGroup, "targetGroupARNs" | "classicLoadBalancerNames") => {
            "ekspec does not register nodes with load balancers: use the AWS Load Balancer Controller (a Service or Ingress) instead"
        }
        (S::NodeGroup, "asgMetricsCollection") => {
            "EKS manages the node group's Auto Scaling group; ekspec does not enable its CloudWatch metrics"
        }
        (S::NodeGroup, "containerRuntime") => {
            "the EKS-optimized AMIs run containerd, which ekspec does not change"
        }
        (S::NodeGroup, "kubeletExtraConfig" | "clusterDNS") => {
            "ekspec does not take custom kubelet settings"
        }
        (S::NodeGroup, "warmPool") => "warm pools are not supported by EKS managed node groups",
        (S::NodeGroup, "maxInstanceLifetime") => {
            "EKS manages the node group's Auto Scaling group; ekspec sets no maximum instance lifetime"
        }
        (S::NodeGroup, "localZones") => "Local Zones are not supported by ekspec",
        (S::NodeGroup, "enclaveEnabled") => {
            "Nitro Enclaves are not supported by ekspec: it builds each node group's launch template itself and offers no such setting"
        }
        (S::NodeGroup, "disableASGTagPropagation") => {
            "EKS manages the node group's Auto Scaling group; ekspec tags the node group and its launch template"
        }
        (S::NodeGroup, _) => return reason(S::ManagedNodeGroup, key),
        (S::InstancesDistribution, "maxPrice") => {
            "EKS managed node groups pay the current spot price (at most the on-demand price) and take no maximum"
        }
        (S::InstancesDistribution, "spotInstancePools" | "spotAllocationStrategy") => {
            "EKS chooses how a managed node group allocates spot capacity across the instance types"
        }
        (S::InstancesDistribution, "capacityRebalance") => {
            "EKS managed node groups always use Capacity Rebalancing for spot capacity"
        }
        _ => return None,
    })
}

/// Fields of a self-managed node group that a managed node group has no place for, taken out
/// before the rest is read as a managed node group.
pub const SELF_MANAGED_ONLY: &[&str] = &[
    "targetGroupARNs",
    "classicLoadBalancerNames",
    "asgMetricsCollection",
    "containerRuntime",
    "kubeletExtraConfig",
    "clusterDNS",
    "warmPool",
    "maxInstanceLifetime",
    "localZones",
    "disableASGTagPropagation",
    "enclaveEnabled",
];
