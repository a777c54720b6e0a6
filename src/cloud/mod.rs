//! The only code that talks to AWS. One trait per service area; `aws` implements them with the
//! AWS SDK. The reconciler sees only these traits, so it can be tested without a network and
//! runs the same code against moto, fakecloud and real AWS.

pub mod aws;
pub mod eks_token;
pub mod error;
pub mod memory;
pub mod model;

use async_trait::async_trait;

pub use error::{CloudError, ErrorKind};
pub use model::*;

/// Result of a cloud call.
pub type CloudResult<T> = Result<T, CloudError>;

/// EC2 (the network and launch templates) and the load balancers Kubernetes puts in it.
#[async_trait]
pub trait Network: Send + Sync {
    /// Every EC2 resource tagged `ekspec.io/cluster = cluster`, one tag-filtered call per kind
    /// (run concurrently). Deleted NAT gateways and the like are left out.
    async fn discover(&self, cluster: &str) -> CloudResult<ObservedNetwork>;
    /// An existing (BYO) VPC and the given subnets of it; missing ones are left out.
    async fn describe_existing(
        &self,
        vpc_id: &str,
        subnet_ids: &[String],
    ) -> CloudResult<(Option<ObservedVpc>, Vec<ObservedSubnet>)>;
    /// The zones of the region in state `available` (availability zones, and the Local and
    /// Wavelength Zones the account opted in to), sorted by name.
    async fn availability_zones(&self) -> CloudResult<Vec<AvailabilityZone>>;

    /// Creates a VPC with DNS support and DNS hostnames enabled (EKS needs both).
    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> CloudResult<String>;
    /// Creates a subnet; `public` subnets map public IPs on launch.
    async fn create_subnet(&self, request: &SubnetRequest) -> CloudResult<String>;
    /// Creates an internet gateway and attaches it to `vpc_id`.
    async fn create_internet_gateway(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String>;
    /// Allocates an Elastic IP in the VPC domain; returns the allocation id.
    async fn allocate_address(&self, tags: &Tags) -> CloudResult<String>;
    /// Creates a public NAT gateway; returns its id and state (`pending` until available).
    /// EC2 remembers client tokens: a token used before answers that earlier gateway, in
    /// whatever state it is now (`deleted`, `failed`).
    async fn create_nat_gateway(
        &self,
        subnet_id: &str,
        allocation_id: &str,
        tags: &Tags,
        client_token: &str,
    ) -> CloudResult<(String, String)>;
    /// The state of a NAT gateway (`pending`, `available`, `deleting`, `deleted`, `failed`).
    async fn nat_gateway_state(&self, id: &str) -> CloudResult<Option<String>>;
    /// Creates a route table.
    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String>;
    /// Adds or replaces the default route (0.0.0.0/0) of a route table.
    async fn set_default_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
    ) -> CloudResult<()>;
    /// Associates a subnet with a route table; returns the association id.
    async fn associate_route_table(
        &self,
        route_table_id: &str,
        subnet_id: &str,
    ) -> CloudResult<String>;
    /// Removes a route table association.
    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()>;
    /// Adds or overwrites tags on resources (BYO subnets, drifted tags).
    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()>;
    /// Creates a launch template; returns its id and version.
    async fn create_launch_template(
        &self,
        request: &LaunchTemplateRequest,
    ) -> CloudResult<(String, i64)>;
    /// Adds a version with `data` to a launch template; returns its number.
    async fn create_launch_template_version(
        &self,
        id: &str,
        data: &LaunchTemplateData,
        client_token: &str,
    ) -> CloudResult<i64>;
    /// What Kubernetes left in the VPC and what blocks deleting it: load balancers and target
    /// groups it made for the cluster (see `naming::made_by_kubernetes_for`), security groups
    /// tagged `kubernetes.io/cluster/<cluster>` (the in-tree cloud provider) or
    /// `elbv2.k8s.aws/cluster = <cluster>` (the AWS Load Balancer Controller) or
    /// `eks:eks-cluster-name = <cluster>` (EKS Auto Mode), detached network interfaces, and the
    /// instances and launch templates EKS Auto Mode made (`eks:eks-cluster-name = <cluster>`).
    async fn discover_leftovers(&self, cluster: &str, vpc_id: &str) -> CloudResult<Leftovers>;
    /// A security group with its tags, or `None` when it does not exist.
    async fn security_group(&self, id: &str) -> CloudResult<Option<ObservedSecurityGroup>>;
    /// Everything in the VPC `vpc_id` whoever made it (see [`VpcContents`]): what
    /// `--adopt-network` takes over.
    async fn vpc_contents(&self, vpc_id: &str) -> CloudResult<VpcContents>;
    /// Revokes the rules of `group` that name other groups; a rule (or group) already gone is
    /// not an error.
    async fn revoke_group_rules(&self, group: &str, rules: &[GroupRule]) -> CloudResult<()>;
    /// Removes tags from resources, each only where it still has the value given.
    async fn delete_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()>;
    /// What Karpenter launched for `cluster` (tagged `kubernetes.io/cluster/<cluster> = owned`
    /// and `karpenter.sh/nodepool`, the tags its controller policy scopes deletes by):
    /// instances not yet terminated, and launch templates.
    async fn discover_karpenter_leftovers(&self, cluster: &str) -> CloudResult<KarpenterLeftovers>;
    /// Starts terminating instances (already terminated or gone succeeds).
    async fn terminate_instances(&self, ids: &[String]) -> CloudResult<()>;
    /// Those of `ids` not yet terminated, with their state.
    async fn instances_not_terminated(&self, ids: &[String]) -> CloudResult<Vec<(String, String)>>;
    /// Deletes a load balancer. Deleting one that is already gone succeeds.
    async fn delete_load_balancer(&self, load_balancer: &LoadBalancerRef) -> CloudResult<()>;
    /// Deletes an ELBv2 target group (InUse while a load balancer still forwards to it).
    /// Deleting one that is already gone succeeds.
    async fn delete_target_group(&self, arn: &str) -> CloudResult<()>;

    /// Deletes an EC2 resource. Deleting one that is already gone succeeds.
    async fn delete(&self, kind: Ec2Kind, id: &str) -> CloudResult<()>;
    /// Removes a route table's 0.0.0.0/0 route (already gone succeeds).
    async fn delete_default_route(&self, route_table_id: &str) -> CloudResult<()>;
    /// Detaches an internet gateway from a VPC (needed before deleting either).
    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()>;

    /// Every route table of a VPC, whoever made it (`export` tells public subnets by them).
    async fn vpc_route_tables(&self, vpc_id: &str) -> CloudResult<Vec<ObservedRouteTable>>;
    /// The settings of one version of a launch template (`None` when it or the version is
    /// gone): what a node group another tool made uses.
    async fn launch_template_version(
        &self,
        id: &str,
        version: &str,
    ) -> CloudResult<Option<LaunchTemplateData>>;
    /// The VPC's IPv6 block and the state of its association (`associating`, `associated`,
    /// ...), if it has one that is not being removed.
    async fn vpc_ipv6_cidr(&self, vpc_id: &str) -> CloudResult<Option<(String, String)>>;
    /// Asks for an Amazon-provided IPv6 block (a /56) for the VPC.
    async fn associate_vpc_ipv6_cidr(&self, vpc_id: &str) -> CloudResult<()>;
    /// Gives a subnet the IPv6 block `cidr` (when `Some`), then has it assign IPv6 addresses
    /// to the network interfaces made in it.
    async fn enable_subnet_ipv6(&self, subnet_id: &str, cidr: Option<&str>) -> CloudResult<()>;
    /// Creates an egress-only internet gateway for the VPC; returns its id.
    async fn create_egress_only_internet_gateway(
        &self,
        vpc_id: &str,
        tags: &Tags,
        client_token: &str,
    ) -> CloudResult<String>;
    /// Adds or replaces the IPv6 default route (::/0) of a route table.
    async fn set_default_ipv6_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
    ) -> CloudResult<()>;
}

/// IAM: roles and the OIDC provider.
#[async_trait]
pub trait Identity: Send + Sync {
    /// Every role under `path_prefix` with its trust policy, tags, attached and inline
    /// policies (per-role reads run concurrently).
    async fn list_roles(&self, path_prefix: &str) -> CloudResult<Vec<ObservedRole>>;
    /// Creates a role with its trust policy and tags in one call; returns the ARN.
    async fn create_role(&self, request: &RoleRequest) -> CloudResult<String>;
    /// Replaces a role's trust policy.
    async fn update_trust_policy(
        &self,
        role: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()>;
    /// Attaches a managed policy.
    async fn attach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()>;
    /// Detaches a managed policy (already detached succeeds).
    async fn detach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()>;
    /// Creates or replaces an inline policy.
    async fn put_inline_policy(
        &self,
        role: &str,
        name: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()>;
    /// Deletes an inline policy (already gone succeeds).
    async fn delete_inline_policy(&self, role: &str, name: &str) -> CloudResult<()>;
    /// Sets tags on a role.
    async fn tag_role(&self, role: &str, tags: &Tags) -> CloudResult<()>;
    /// Whether a role of this name exists (any path).
    async fn role_exists(&self, name: &str) -> CloudResult<bool>;
    /// Creates the service-linked role of an AWS service (`spot.amazonaws.com`); one that
    /// exists already succeeds.
    async fn create_service_linked_role(&self, service: &str) -> CloudResult<()>;
    /// Deletes a role after detaching its policies (already gone succeeds).
    async fn delete_role(&self, role: &str) -> CloudResult<()>;
    /// The instance profiles holding `role` that Karpenter made for `cluster` in `region`
    /// (tagged `kubernetes.io/cluster/<cluster> = owned`, `topology.kubernetes.io/region =
    /// <region>` and `karpenter.k8s.aws/ec2nodeclass`, as its controller policy scopes them).
    async fn karpenter_instance_profiles(
        &self,
        role: &str,
        cluster: &str,
        region: &str,
    ) -> CloudResult<Vec<String>>;
    /// Removes `role` from an instance profile and deletes the profile (gone succeeds).
    async fn delete_instance_profile(&self, profile: &str, role: &str) -> CloudResult<()>;
    /// The instance profiles holding `role` that EKS made (named `eks*`: the only ones
    /// AmazonEKSComputePolicy lets EKS Auto Mode add a role to); none when the role is gone.
    async fn eks_instance_profiles(&self, role: &str) -> CloudResult<Vec<String>>;
    /// OIDC providers tagged `ekspec.io/cluster = cluster`. With the cluster's `issuer`, a
    /// provider for that issuer tagged for the cluster is the only one read (one read, not
    /// one per provider in the account); without it, or when that one is not the cluster's,
    /// every provider is read to find the cluster's by its tags.
    async fn list_oidc_providers(
        &self,
        cluster: &str,
        issuer: Option<&str>,
    ) -> CloudResult<Vec<ObservedOidcProvider>>;
    /// Creates an OIDC provider (audience sts.amazonaws.com) with tags; returns its ARN.
    async fn create_oidc_provider(&self, issuer_url: &str, tags: &Tags) -> CloudResult<String>;
    /// Adds or overwrites tags on an OIDC provider.
    async fn tag_oidc_provider(&self, arn: &str, tags: &Tags) -> CloudResult<()>;
    /// Deletes an OIDC provider (already gone succeeds).
    async fn delete_oidc_provider(&self, arn: &str) -> CloudResult<()>;
    /// One OIDC provider by ARN, whoever made it (the one `adopt` takes over); `None` when it
    /// does not exist.
    async fn describe_oidc_provider(&self, arn: &str) -> CloudResult<Option<ObservedOidcProvider>>;
    /// The caller's account id.
    async fn account_id(&self) -> CloudResult<String>;
    /// Every role of the account, on any path, whose trust policy lets the federated
    /// principal `provider_arn` (an OIDC provider) in, read like [`Identity::list_roles`]:
    /// the IRSA roles of a cluster another tool made. ListRoles carries each trust policy, so
    /// only the matching roles are read further.
    async fn roles_trusting(&self, provider_arn: &str) -> CloudResult<Vec<ObservedRole>>;
    /// One role by name, read like [`Identity::list_roles`]; `None` when it does not exist.
    async fn describe_role(&self, name: &str) -> CloudResult<Option<ObservedRole>>;
    /// The caller's ARN (`arn:aws:sts::111122223333:assumed-role/ci/gha`), which names who
    /// holds a cluster lock.
    async fn caller_arn(&self) -> CloudResult<String>;
}

/// SSM Parameter Store, as a small key-value store whose create is atomic: the cluster lock
/// (`crate::lock`) is built on it.
#[async_trait]
pub trait Parameters: Send + Sync {
    /// Creates a String parameter with tags in the create call; `Ok(false)`, and nothing
    /// written, when it already exists.
    async fn create_parameter(&self, name: &str, value: &str, tags: &Tags) -> CloudResult<bool>;
    /// A parameter's value, or `None` when it does not exist.
    async fn get_parameter(&self, name: &str) -> CloudResult<Option<String>>;
    /// Overwrites the value of an existing parameter (its tags stay).
    async fn overwrite_parameter(&self, name: &str, value: &str) -> CloudResult<()>;
    /// Deletes a parameter (already gone succeeds).
    async fn delete_parameter(&self, name: &str) -> CloudResult<()>;
}

/// EKS clusters: the control plane, its configuration, and the updates EKS runs on a cluster,
/// its node groups and add-ons.
#[async_trait]
pub trait ControlPlane: Send + Sync {
    /// The cluster, or `None` when it does not exist.
    async fn describe_cluster(&self, name: &str) -> CloudResult<Option<ObservedCluster>>;
    /// Starts creating a cluster.
    async fn create_cluster(&self, request: &ClusterRequest) -> CloudResult<()>;
    /// Changes endpoint access and/or logging; returns the update id when EKS gives one.
    async fn update_cluster_config(
        &self,
        name: &str,
        change: &ClusterConfigChange,
    ) -> CloudResult<Option<String>>;
    /// Adds or overwrites tags on a cluster, node group or Fargate profile.
    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()>;
    /// Starts upgrading the control plane to `version`; returns the update id. `force`
    /// overrides the upgrade-blocking readiness checks of EKS's upgrade insights.
    async fn update_cluster_version(
        &self,
        name: &str,
        version: &str,
        force: bool,
    ) -> CloudResult<String>;
    /// Starts encrypting Kubernetes secrets with a KMS key; returns the update id.
    async fn associate_encryption_config(&self, name: &str, key_arn: &str) -> CloudResult<String>;
    /// The state of an update EKS is running.
    async fn describe_update(
        &self,
        cluster: &str,
        of: UpdateOf<'_>,
        update_id: &str,
    ) -> CloudResult<UpdateStatus>;
    /// Starts deleting a cluster (already gone succeeds).
    async fn delete_cluster(&self, name: &str) -> CloudResult<()>;
    /// EKS's upgrade insights (category `UPGRADE_READINESS`) about moving `cluster` to
    /// `version`, each not `PASSING` with DescribeInsight's recommendation.
    async fn upgrade_insights(
        &self,
        cluster: &str,
        version: &str,
    ) -> CloudResult<Vec<ObservedInsight>>;
    /// Where `version` is in EKS's support lifecycle ([`VersionSupport::NOT_LISTED`] when EKS
    /// does not list it), or `None` when that is not known.
    async fn version_support(&self, version: &str) -> CloudResult<Option<VersionSupport>>;
}

/// EKS managed node groups.
#[async_trait]
pub trait NodeGroups: Send + Sync {
    /// Every node group of the cluster, described (describes run concurrently).
    async fn list_node_groups(&self, cluster: &str) -> CloudResult<Vec<ObservedNodeGroup>>;
    /// One node group, or `None`.
    async fn describe_node_group(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedNodeGroup>>;
    /// Starts creating a node group.
    async fn create_node_group(&self, request: &NodeGroupRequest) -> CloudResult<()>;
    /// Changes labels, taints, scaling and update budget in place.
    async fn update_node_group_config(
        &self,
        cluster: &str,
        name: &str,
        change: &NodeGroupConfigChange,
    ) -> CloudResult<Option<String>>;
    /// Starts upgrading a node group's Kubernetes version (latest AMI for it); returns the
    /// update id.
    async fn update_node_group_version(
        &self,
        cluster: &str,
        name: &str,
        version: &str,
    ) -> CloudResult<String>;
    /// Starts rolling a node group to another version of its launch template
    /// (`(template id, version)`); returns the update id.
    async fn update_node_group_launch_template(
        &self,
        cluster: &str,
        name: &str,
        launch_template: (&str, &str),
    ) -> CloudResult<String>;
    /// Starts deleting a node group (already gone succeeds).
    async fn delete_node_group(&self, cluster: &str, name: &str) -> CloudResult<()>;
}

/// EKS Fargate profiles.
#[async_trait]
pub trait FargateProfiles: Send + Sync {
    /// Every Fargate profile of the cluster, described.
    async fn list_fargate_profiles(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedFargateProfile>>;
    /// Starts creating a Fargate profile.
    async fn create_fargate_profile(&self, request: &FargateProfileRequest) -> CloudResult<()>;
    /// Starts deleting a Fargate profile (already gone succeeds).
    async fn delete_fargate_profile(&self, cluster: &str, name: &str) -> CloudResult<()>;
    /// One Fargate profile (its status and health), or `None` when gone.
    async fn describe_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedFargateProfile>>;
}

/// EKS add-ons.
#[async_trait]
pub trait Addons: Send + Sync {
    /// Every add-on of the cluster, described (describes run concurrently).
    async fn list_addons(&self, cluster: &str) -> CloudResult<Vec<ObservedAddon>>;
    /// One add-on, or `None`.
    async fn describe_addon(&self, cluster: &str, name: &str)
    -> CloudResult<Option<ObservedAddon>>;
    /// The version EKS installs by default for `kubernetes_version`, or `None` when the add-on
    /// has no version for it.
    async fn default_addon_version(
        &self,
        addon: &str,
        kubernetes_version: &str,
    ) -> CloudResult<Option<String>>;
    /// Starts creating an add-on (conflicting self-managed fields are overwritten).
    async fn create_addon(&self, request: &AddonRequest) -> CloudResult<()>;
    /// Starts changing an add-on's version, role and configuration; returns the update id.
    async fn update_addon(&self, request: &AddonRequest) -> CloudResult<Option<String>>;
    /// Starts deleting an add-on (already gone succeeds).
    async fn delete_addon(&self, cluster: &str, name: &str) -> CloudResult<()>;
}

/// EKS access entries and the access policies associated with them.
#[async_trait]
pub trait AccessEntries: Send + Sync {
    /// Every access entry of the cluster with its access policies (reads run concurrently).
    async fn list_access_entries(&self, cluster: &str) -> CloudResult<Vec<ObservedAccessEntry>>;
    /// One access entry with its access policies, or `None`.
    async fn describe_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> CloudResult<Option<ObservedAccessEntry>>;
    /// Creates an access entry.
    async fn create_access_entry(&self, request: &AccessEntryRequest) -> CloudResult<()>;
    /// Sets an access entry's Kubernetes groups and user name.
    async fn update_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
        kubernetes_groups: &[String],
        username: Option<&str>,
    ) -> CloudResult<()>;
    /// Deletes an access entry (already gone succeeds).
    async fn delete_access_entry(&self, cluster: &str, principal_arn: &str) -> CloudResult<()>;
    /// Associates an access policy with an entry (replacing its scope if already associated).
    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy: &AccessPolicy,
    ) -> CloudResult<()>;
    /// Removes an access policy from an entry (already removed succeeds).
    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> CloudResult<()>;
}

/// EKS: the control plane, node groups, Fargate profiles, add-ons and access entries. One trait
/// per area so each is implemented in a file of its own; this one names them all together.
pub trait Kubernetes: ControlPlane + NodeGroups + FargateProfiles + Addons + AccessEntries {}

impl<T: ControlPlane + NodeGroups + FargateProfiles + Addons + AccessEntries + ?Sized> Kubernetes
    for T
{
}

/// EKS Pod Identity associations: a namespace and service account of a cluster bound to an
/// IAM role, made standalone or by an add-on (`AddonRequest::pod_identity_associations`).
#[async_trait]
pub trait PodIdentity: Send + Sync {
    /// Every association of the cluster (standalone and add-on owned), described: tags, role,
    /// owner (describes run concurrently). Sorted by namespace and service account.
    async fn list_pod_identity_associations(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedPodIdentityAssociation>>;
    /// Creates an association with its tags in the create call; returns its id. EKS refuses a
    /// second association for the same namespace and service account (`ErrorKind::InUse`,
    /// "Association already exists: <id>"), a role it cannot see yet (`ErrorKind::Invalid`,
    /// "Role provided in the request does not exist": a new role still propagating) and a role
    /// whose trust policy does not let `pods.eks.amazonaws.com` `sts:AssumeRole` and
    /// `sts:TagSession` ("Trust policy of the role provided is invalid.").
    async fn create_pod_identity_association(
        &self,
        request: &PodIdentityAssociationRequest,
    ) -> CloudResult<String>;
    /// Points an association at another role.
    async fn update_pod_identity_association(
        &self,
        cluster: &str,
        association_id: &str,
        role_arn: &str,
    ) -> CloudResult<()>;
    /// Deletes an association (already gone succeeds).
    async fn delete_pod_identity_association(
        &self,
        cluster: &str,
        association_id: &str,
    ) -> CloudResult<()>;
}

/// SQS: the queues ekspec makes (Karpenter's interruption queue).
#[async_trait]
pub trait Queues: Send + Sync {
    /// The queues whose names start with `prefix`, plus those named in `known` (looked up by
    /// name: SQS may not list a queue made moments ago yet), each with its tags and
    /// attributes. Queues that vanish between the listing and the reads are left out.
    async fn list_queues(&self, prefix: &str, known: &[String]) -> CloudResult<Vec<ObservedQueue>>;
    /// Creates a queue with its attributes and tags in one call; returns its URL. SQS answers
    /// a create of an existing queue with the same attributes with that queue's URL,
    /// with different ones AlreadyExists; a name deleted less than 60 seconds ago is InUse
    /// (QueueDeletedRecently) until then.
    async fn create_queue(&self, request: &QueueRequest) -> CloudResult<String>;
    /// The URL of the queue `name`, or `None` when there is none.
    async fn queue_url(&self, name: &str) -> CloudResult<Option<String>>;
    /// The tags of a queue.
    async fn queue_tags(&self, url: &str) -> CloudResult<Tags>;
    /// Sets a queue's policy, retention and encryption.
    async fn set_queue_attributes(
        &self,
        url: &str,
        attributes: &QueueAttributes,
    ) -> CloudResult<()>;
    /// Adds or overwrites tags on a queue.
    async fn tag_queue(&self, url: &str, tags: &Tags) -> CloudResult<()>;
    /// Deletes a queue (already gone succeeds).
    async fn delete_queue(&self, url: &str) -> CloudResult<()>;
}

/// EventBridge: rules on the default event bus and their targets.
#[async_trait]
pub trait EventRules: Send + Sync {
    /// The rules whose names start with `prefix`, each with its tags and targets.
    async fn list_rules(&self, prefix: &str) -> CloudResult<Vec<ObservedEventRule>>;
    /// Creates a rule with its tags, or replaces an existing rule's pattern and description
    /// (its tags stay as they are); returns the rule's ARN.
    async fn put_rule(&self, request: &EventRuleRequest) -> CloudResult<String>;
    /// Adds or replaces targets of a rule (by target id).
    async fn put_targets(&self, rule: &str, targets: &[RuleTarget]) -> CloudResult<()>;
    /// Removes targets from a rule (a rule already gone succeeds).
    async fn remove_targets(&self, rule: &str, ids: &[String]) -> CloudResult<()>;
    /// Adds or overwrites tags on a rule.
    async fn tag_rule(&self, arn: &str, tags: &Tags) -> CloudResult<()>;
    /// Deletes a rule, which must have no targets left (already gone succeeds).
    async fn delete_rule(&self, rule: &str) -> CloudResult<()>;
}

/// Everything the reconciler needs from AWS.
pub struct Cloud {
    /// EC2 and Elastic Load Balancing.
    pub network: Box<dyn Network>,
    /// IAM and STS.
    pub identity: Box<dyn Identity>,
    /// EKS.
    pub kubernetes: Box<dyn Kubernetes>,
    /// SSM Parameter Store (the cluster lock).
    pub parameters: Box<dyn Parameters>,
    /// EKS Pod Identity associations.
    pub pod_identity: Box<dyn PodIdentity>,
    /// SQS.
    pub queues: Box<dyn Queues>,
    /// EventBridge.
    pub events: Box<dyn EventRules>,
}
