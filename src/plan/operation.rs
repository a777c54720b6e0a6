//! The AWS operations a plan is made of. Values that only exist once an earlier change has
//! run (a new VPC's id) are [`Ref::Output`]s, looked up when the operation starts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cloud::{
    AccessPolicy, AutoMode, ClusterConfigChange, Ec2Kind, GroupRule, LaunchTemplateData,
    NodeGroupConfigChange, NodeRepair, NodeScaling, NodeTaint, QueueAttributes, RuleTarget, Tags,
    UpdateBudget,
};
use crate::resources::user_data::UserData;

/// A value known now, or produced by another change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Ref {
    /// Known.
    Value(String),
    /// The output of a resource, e.g. `vpc.id`.
    Output(String),
}

impl Ref {
    /// The output `name` of `resource`.
    pub fn output(resource: &str, name: &str) -> Self {
        Self::Output(format!("{resource}.{name}"))
    }
}

/// One AWS operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Operation {
    /// Create the VPC; output `id`.
    CreateVpc { cidr: String, tags: Tags },
    /// Create a subnet; output `id`.
    CreateSubnet {
        vpc: Ref,
        cidr: String,
        zone: String,
        public: bool,
        tags: Tags,
    },
    /// Create and attach the internet gateway; output `id`.
    CreateInternetGateway { vpc: Ref, tags: Tags },
    /// Allocate an Elastic IP; output `id`.
    AllocateAddress { tags: Tags },
    /// Create a NAT gateway and wait until available; output `id`.
    CreateNatGateway {
        subnet: Ref,
        address: Ref,
        tags: Tags,
    },
    /// Create a route table; output `id`.
    CreateRouteTable { vpc: Ref, tags: Tags },
    /// Point the default route of a table at a gateway.
    SetDefaultRoute {
        table: Ref,
        internet_gateway: Option<Ref>,
        nat_gateway: Option<Ref>,
    },
    /// Associate a subnet with a route table.
    AssociateRouteTable { table: Ref, subnet: Ref },
    /// Remove a route table association.
    DisassociateRouteTable { association_id: String },
    /// Remove the default route of a table (no NAT gateway any more).
    DeleteDefaultRoute { table: Ref },
    /// Give the VPC an Amazon-provided IPv6 block unless it has one, and wait until it is
    /// associated; output `ipv6-cidr`.
    AssociateVpcIpv6Cidr { vpc: Ref },
    /// Give a subnet the `index`th /64 of the VPC's IPv6 block `vpc_block` (`None`: it has
    /// its block), then have it assign IPv6 addresses on creation.
    EnableSubnetIpv6 {
        subnet: Ref,
        vpc_block: Option<Ref>,
        index: u32,
    },
    /// Create an egress-only internet gateway for the VPC; output `id`.
    CreateEgressOnlyInternetGateway { vpc: Ref, tags: Tags },
    /// Point the IPv6 default route (::/0) of a table at a gateway.
    SetDefaultIpv6Route {
        table: Ref,
        internet_gateway: Option<Ref>,
        egress_only_internet_gateway: Option<Ref>,
    },
    /// Add or overwrite tags of EC2 resources.
    TagEc2 { ids: Vec<Ref>, tags: Tags },
    /// Remove tags from EC2 resources, each only where it still has the value given.
    UntagEc2 { ids: Vec<Ref>, tags: Tags },
    /// Add or overwrite tags of an OIDC provider.
    TagOidcProvider { arn: String, tags: Tags },
    /// Add or overwrite tags of an EKS cluster, node group or Fargate profile.
    TagEks { arn: String, tags: Tags },
    /// Create a launch template; outputs `id` and `version`. Its user data, when given, is
    /// written when it runs: a custom AMI's needs the cluster's endpoint.
    CreateLaunchTemplate {
        name: String,
        data: LaunchTemplateData,
        tags: Tags,
        user_data: Option<UserData>,
    },
    /// Add a version with new settings to a launch template; output `version`.
    CreateLaunchTemplateVersion {
        id: String,
        data: LaunchTemplateData,
        user_data: Option<UserData>,
    },
    /// Create an IAM role with managed and inline policies; output `arn`.
    CreateRole {
        name: String,
        path: String,
        trust: Trust,
        description: String,
        tags: Tags,
        policies: Vec<String>,
        inline: Option<serde_json::Value>,
    },
    /// Replace a role's trust policy.
    UpdateTrust { role: String, trust: Trust },
    /// Attach a managed policy.
    AttachPolicy { role: String, policy_arn: String },
    /// Detach a managed policy.
    DetachPolicy { role: String, policy_arn: String },
    /// Create or replace the inline policy.
    PutInlinePolicy {
        role: String,
        document: serde_json::Value,
    },
    /// Delete an inline policy.
    DeleteInlinePolicy { role: String, name: String },
    /// Set tags on a role.
    TagRole { role: String, tags: Tags },
    /// Create the cluster and wait until ACTIVE; outputs `issuer`.
    CreateCluster {
        name: String,
        version: String,
        role: Ref,
        subnets: Vec<Ref>,
        endpoint_public_access: bool,
        endpoint_private_access: bool,
        public_access_cidrs: Vec<String>,
        logging: Vec<String>,
        encryption_key_arn: Option<String>,
        tags: Tags,
        /// EKS Auto Mode (`None`: off).
        auto_mode: Option<AutoMode>,
        /// `upgradePolicy.supportType`.
        support_type: String,
        /// `deletionProtection`.
        deletion_protection: bool,
        /// `zonalShiftConfig.enabled`.
        zonal_shift: bool,
        /// `controlPlaneScalingConfig.tier`.
        scaling_tier: String,
        ip_family: Option<String>,
    },
    /// Change endpoint access or logging and wait until ACTIVE again.
    UpdateClusterConfig {
        name: String,
        change: ClusterConfigChange,
    },
    /// Upgrade the control plane one minor version and wait for the update.
    UpdateClusterVersion { name: String, version: String },
    /// Start encrypting secrets with a KMS key and wait for the update.
    AssociateEncryptionConfig { name: String, key_arn: String },
    /// Upgrade a node group to the cluster's Kubernetes version and wait for the update.
    UpdateNodeGroupVersion {
        cluster: String,
        name: String,
        version: String,
    },
    /// Roll a node group to a version of its launch template and wait for the update.
    UpdateNodeGroupLaunchTemplate {
        cluster: String,
        name: String,
        launch_template: String,
        version: Ref,
    },
    /// Create an add-on (with the Pod Identity associations EKS makes for it) and wait until
    /// ACTIVE.
    CreateAddon {
        cluster: String,
        name: String,
        version: String,
        role: Option<Ref>,
        configuration: Option<String>,
        pod_identity: Vec<AddonAssociation>,
        tags: Tags,
    },
    /// Change an add-on's version, role, configuration or Pod Identity associations (`None`:
    /// left as they are; empty: removed) and wait for the update.
    UpdateAddon {
        cluster: String,
        name: String,
        version: String,
        role: Option<Ref>,
        configuration: Option<String>,
        pod_identity: Option<Vec<AddonAssociation>>,
    },
    /// Delete an add-on and wait until it is gone.
    DeleteAddon { cluster: String, name: String },
    /// Create an access entry: a declared one (`entry_type` `None`: STANDARD), or one of the
    /// kind EKS makes for a node or Fargate role (`EC2_LINUX`, `FARGATE_LINUX`).
    CreateAccessEntry {
        cluster: String,
        principal: String,
        groups: Vec<String>,
        username: Option<String>,
        entry_type: Option<String>,
        tags: Tags,
    },
    /// Set an access entry's Kubernetes groups and user name.
    UpdateAccessEntry {
        cluster: String,
        principal: String,
        groups: Vec<String>,
        username: Option<String>,
    },
    /// Associate an access policy (or change its scope).
    AssociateAccessPolicy {
        cluster: String,
        principal: String,
        policy: AccessPolicy,
    },
    /// Remove an access policy from an entry.
    DisassociateAccessPolicy {
        cluster: String,
        principal: String,
        policy_arn: String,
    },
    /// Delete an access entry.
    DeleteAccessEntry { cluster: String, principal: String },
    /// Create a Pod Identity association (tags in the call) on an ACTIVE cluster; output `id`.
    CreatePodIdentityAssociation {
        cluster: String,
        namespace: String,
        service_account: String,
        role: Ref,
        tags: Tags,
    },
    /// Point a Pod Identity association at another role.
    UpdatePodIdentityAssociation {
        cluster: String,
        association_id: String,
        role: Ref,
    },
    /// Delete a Pod Identity association.
    DeletePodIdentityAssociation {
        cluster: String,
        association_id: String,
    },
    /// Create the OIDC provider for the cluster's issuer; output `arn`.
    CreateOidcProvider { cluster: String, tags: Tags },
    /// Create a node group and wait until ACTIVE.
    CreateNodeGroup {
        cluster: String,
        name: String,
        node_role: Ref,
        subnets: Vec<Ref>,
        instance_types: Vec<String>,
        capacity_type: String,
        ami_type: String,
        scaling: NodeScaling,
        labels: BTreeMap<String, String>,
        taints: Vec<NodeTaint>,
        launch_template: Ref,
        update_budget: UpdateBudget,
        tags: Tags,
        /// `DEFAULT` or `MINIMAL`; `None` leaves EKS's default.
        update_strategy: Option<String>,
        /// Node auto repair; `None` is not sent.
        node_repair: Option<NodeRepair>,
    },
    /// Change a node group in place and wait until ACTIVE.
    UpdateNodeGroup {
        cluster: String,
        name: String,
        change: NodeGroupConfigChange,
    },
    /// Delete a node group (once its replacement, if any, is ACTIVE) and wait until it is
    /// gone.
    DeleteNodeGroup {
        cluster: String,
        name: String,
        /// The generation that takes over its nodes: the delete waits until that one is
        /// ACTIVE, and does not happen when it fails, so the last ACTIVE generation stays.
        replaced_by: Option<String>,
    },
    /// Create a Fargate profile and wait until ACTIVE.
    CreateFargateProfile {
        cluster: String,
        name: String,
        role: Ref,
        subnets: Vec<Ref>,
        selectors: Vec<(String, BTreeMap<String, String>)>,
        tags: Tags,
    },
    /// Delete a Fargate profile and wait until it is gone.
    DeleteFargateProfile { cluster: String, name: String },
    /// Delete the cluster and wait until it is gone.
    DeleteCluster { name: String },
    /// Create the service-linked role of an AWS service (account-wide; never deleted).
    CreateServiceLinkedRole { service: String },
    /// Delete an IAM role (policies first).
    DeleteRole { name: String },
    /// Delete the instance profiles EKS Auto Mode made for its node role `role` (named `eks*`),
    /// the role removed from each first: IAM refuses to delete a role still in one, and EKS
    /// leaves them behind.
    DeleteAutoModeInstanceProfiles { role: String },
    /// Delete the OIDC provider.
    DeleteOidcProvider { arn: String },
    /// Detach the internet gateway from the VPC.
    DetachInternetGateway { id: String, vpc_id: String },
    /// Delete an EC2 resource (NAT gateways: and wait until deleted).
    DeleteEc2 { kind: Ec2Kind, id: String },
    /// Revoke the rules of security group `group` that name other groups (rules already gone
    /// are skipped), so that those groups can be deleted.
    RevokeGroupRules {
        group: String,
        rules: Vec<GroupRule>,
    },
    /// Delete the load balancers, target groups, security groups and detached interfaces
    /// Kubernetes left in the VPC.
    DeleteLeftovers { cluster: String, vpc_id: String },
    /// Terminate the instances Karpenter launched for the cluster (and wait until they are
    /// terminated), delete its launch templates, and the instance profiles it made for the
    /// node role `node_role` in `region`.
    DeleteKarpenterLeftovers {
        cluster: String,
        region: String,
        node_role: String,
    },
    /// Create an SQS queue with its attributes and tags (waiting while SQS holds the name of
    /// a queue deleted less than a minute ago); outputs `url` and `arn`.
    CreateQueue {
        name: String,
        attributes: QueueAttributes,
        tags: Tags,
    },
    /// Set a queue's policy, retention and encryption.
    SetQueueAttributes {
        url: String,
        attributes: QueueAttributes,
    },
    /// Add or overwrite tags of a queue.
    TagQueue { url: String, tags: Tags },
    /// Delete a queue.
    DeleteQueue { url: String },
    /// Create an EventBridge rule with its tags, or replace a rule's pattern; output `arn`.
    PutRule {
        name: String,
        pattern: serde_json::Value,
        description: String,
        tags: Tags,
    },
    /// Add or replace targets of a rule.
    PutTargets {
        rule: String,
        targets: Vec<RuleTarget>,
    },
    /// Remove targets from a rule.
    RemoveTargets { rule: String, ids: Vec<String> },
    /// Add or overwrite tags of a rule.
    TagRule { arn: String, tags: Tags },
    /// Delete a rule (its targets removed before).
    DeleteRule { name: String },
}

/// A trust policy, resolved when the operation runs (IRSA needs the cluster's issuer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Trust {
    /// Trusted by an AWS service principal, e.g. `eks.amazonaws.com`.
    Service(Vec<String>),
    /// Trusted by an AWS service principal that tags its sessions (`sts:TagSession`), as EKS
    /// Auto Mode does with the cluster role.
    ServiceWithSessionTags(Vec<String>),
    /// Trusted only by one Kubernetes service account through the cluster's OIDC provider.
    ServiceAccount { namespace: String, name: String },
    /// Trusted by EKS Pod Identity (`pods.eks.amazonaws.com`); the association says which
    /// service account gets it.
    PodIdentity,
    /// Both of the above, while a service account moves from one mechanism to the other: the
    /// new binding is made while the old one still works.
    ServiceAccountAndPodIdentity { namespace: String, name: String },
}

/// A Pod Identity association an add-on asks EKS to make for one of its service accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddonAssociation {
    /// The add-on's Kubernetes service account.
    pub service_account: String,
    /// The IAM role it gets.
    pub role: Ref,
}
