//! An in-memory AWS: the cloud traits over plain maps. Resources settle at once (as on moto).
//! Used by tests of the planner and executor and by benchmarks; it validates little, so
//! rejection paths are tested elsewhere.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::*;
use crate::naming::{CLUSTER_TAG, made_by_kubernetes_for};

#[derive(Default)]
struct State {
    next: u64,
    vpcs: BTreeMap<String, ObservedVpc>,
    subnets: BTreeMap<String, ObservedSubnet>,
    igws: BTreeMap<String, ObservedInternetGateway>,
    addresses: BTreeMap<String, ObservedAddress>,
    nats: BTreeMap<String, ObservedNatGateway>,
    route_tables: BTreeMap<String, ObservedRouteTable>,
    launch_templates: BTreeMap<String, ObservedLaunchTemplate>,
    /// What Kubernetes made, seeded by tests: the VPC and tags of each.
    load_balancers: BTreeMap<LoadBalancerRef, (String, Tags)>,
    target_groups: BTreeMap<String, (String, Tags)>,
    /// Security groups EKS made for clusters (not counted as resources: each goes with its
    /// cluster).
    security_groups: BTreeMap<String, ObservedSecurityGroup>,
    /// Instances, seeded by tests as Karpenter would launch them: subnet, state and tags.
    instances: BTreeMap<String, (String, String, Tags)>,
    /// Service-linked roles by service: account-wide, never deleted by ekspec.
    service_linked_roles: BTreeMap<String, String>,
    /// Instance profiles, seeded by tests as Karpenter would make them: roles and tags.
    instance_profiles: BTreeMap<String, (Vec<String>, Tags)>,
    roles: BTreeMap<String, ObservedRole>,
    oidc: BTreeMap<String, ObservedOidcProvider>,
    clusters: BTreeMap<String, ObservedCluster>,
    node_groups: BTreeMap<(String, String), ObservedNodeGroup>,
    fargate: BTreeMap<(String, String), ObservedFargateProfile>,
    addons: BTreeMap<(String, String), ObservedAddon>,
    access_entries: BTreeMap<(String, String), ObservedAccessEntry>,
    /// Pod Identity associations by id, with their cluster.
    pod_identity: BTreeMap<String, (String, ObservedPodIdentityAssociation)>,
    updates: BTreeMap<String, UpdateStatus>,
    /// SSM parameters: value and tags.
    parameters: BTreeMap<String, (String, Tags)>,
    /// SQS queues by name.
    queues: BTreeMap<String, ObservedQueue>,
    /// EventBridge rules by name.
    rules: BTreeMap<String, ObservedEventRule>,
    calls: Vec<String>,
    failures: Vec<(&'static str, CloudError)>,
    /// Client tokens, kept as EC2 keeps them (and EKS for Pod Identity associations):
    /// (action, token) -> (request, resource id).
    tokens: BTreeMap<(&'static str, String), (String, String)>,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{:017x}", self.next)
    }

    /// A logical clock for creation times: later creations read larger.
    fn tick(&mut self) -> i64 {
        self.next += 1;
        i64::try_from(self.next).unwrap_or(i64::MAX)
    }

    fn log(&mut self, call: String) {
        self.calls.push(call);
    }

    /// The resource an earlier `action` with `token` made, as EC2 answers a repeated token:
    /// the same one for the same request (even if deleted since), IdempotentParameterMismatch
    /// for another; tokens are at most 64 characters (128 for launch templates).
    fn token_used(
        &self,
        action: &'static str,
        token: &str,
        request: &str,
    ) -> CloudResult<Option<String>> {
        let refused = |code: &str, message: &str| CloudError {
            operation: action,
            resource: token.to_owned(),
            code: Some(code.to_owned()),
            message: message.to_owned(),
            kind: CloudError::kind_of(code),
        };
        let limit = if action == "CreateNatGateway" {
            64
        } else {
            128
        };
        if token.len() > limit || !token.is_ascii() {
            return Err(refused(
                "InvalidParameterValue",
                &format!("the client token is longer than {limit} ASCII characters"),
            ));
        }
        match self.tokens.get(&(action, token.to_owned())) {
            Some((earlier, id)) if earlier == request => Ok(Some(id.clone())),
            Some(_) => Err(refused(
                "IdempotentParameterMismatch",
                "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
            )),
            None => Ok(None),
        }
    }

    /// The association of `namespace`/`service_account` in `cluster`, if any.
    fn pod_identity_of(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Option<&ObservedPodIdentityAssociation> {
        self.pod_identity
            .values()
            .find(|(c, a)| {
                c == cluster && a.namespace == namespace && a.service_account == service_account
            })
            .map(|(_, a)| a)
    }

    /// EKS's answer to a second association for a service account.
    fn association_exists(
        operation: &'static str,
        cluster: &str,
        holder: &ObservedPodIdentityAssociation,
    ) -> CloudError {
        CloudError {
            operation,
            resource: format!(
                "pod identity association {}/{} of cluster {cluster}",
                holder.namespace, holder.service_account
            ),
            code: Some("ResourceInUseException".to_owned()),
            message: format!("Association already exists: {}", holder.association_id),
            kind: ErrorKind::InUse,
        }
    }

    /// Makes `association` (its id and ARN are given here), refusing a second one for the same
    /// namespace and service account as EKS does (ResourceInUseException); returns its id.
    fn add_pod_identity(
        &mut self,
        operation: &'static str,
        cluster: &str,
        mut association: ObservedPodIdentityAssociation,
    ) -> CloudResult<String> {
        if let Some(holder) = self.pod_identity_of(
            cluster,
            &association.namespace,
            &association.service_account,
        ) {
            return Err(Self::association_exists(operation, cluster, holder));
        }
        self.next += 1;
        let id = format!("a-{:017x}", self.next);
        association.association_arn =
            format!("arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/{cluster}/{id}");
        association.association_id = id.clone();
        self.pod_identity
            .insert(id.clone(), (cluster.to_owned(), association));
        Ok(id)
    }

    /// Makes the associations an add-on owns those `wanted`, in the add-on's namespace
    /// (`kube-system` for the add-ons known here): one it owns for a wanted service account
    /// takes the role, the others go, the missing ones are made. A service account another
    /// association holds (standalone or another add-on's) is refused before anything changes:
    /// "Add-ons can't assume ownership of existing pod identity associations".
    fn set_addon_pod_identities(
        &mut self,
        operation: &'static str,
        cluster: &str,
        addon_arn: &str,
        wanted: &[AddonPodIdentity],
    ) -> CloudResult<()> {
        let owned = |a: &ObservedPodIdentityAssociation| a.owner_arn.as_deref() == Some(addon_arn);
        for want in wanted {
            if let Some(holder) =
                self.pod_identity_of(cluster, ADDON_NAMESPACE, &want.service_account)
                && !owned(holder)
            {
                return Err(Self::association_exists(operation, cluster, holder));
            }
        }
        let mut missing: Vec<&AddonPodIdentity> = wanted.iter().collect();
        self.pod_identity.retain(|_, (c, a)| {
            if c != cluster || !owned(a) {
                return true;
            }
            match missing
                .iter()
                .position(|w| w.service_account == a.service_account)
            {
                Some(i) => {
                    a.role_arn = missing.remove(i).role_arn.clone();
                    true
                }
                None => false,
            }
        });
        for want in missing {
            self.add_pod_identity(
                operation,
                cluster,
                ObservedPodIdentityAssociation {
                    association_id: String::new(),
                    association_arn: String::new(),
                    namespace: ADDON_NAMESPACE.to_owned(),
                    service_account: want.service_account.clone(),
                    role_arn: want.role_arn.clone(),
                    owner_arn: Some(addon_arn.to_owned()),
                    tags: Tags::new(),
                },
            )?;
        }
        Ok(())
    }

    /// An add-on as DescribeAddon shows it: with the ARNs of the associations it owns.
    fn addon_view(&self, addon: &ObservedAddon) -> ObservedAddon {
        let mut arns: Vec<String> = self
            .pod_identity
            .values()
            .filter(|(_, a)| a.owner_arn.as_deref() == Some(addon.arn.as_str()))
            .map(|(_, a)| a.association_arn.clone())
            .collect();
        arns.sort();
        ObservedAddon {
            pod_identity_associations: arns,
            ..addon.clone()
        }
    }

    /// Records an update that finished at once, as everything here does.
    fn finished_update(&mut self) -> String {
        let id = self.id("update");
        self.updates.insert(
            id.clone(),
            UpdateStatus {
                status: "Successful".to_owned(),
                errors: Vec::new(),
            },
        );
        id
    }
}

/// An in-memory AWS account.
#[derive(Clone, Default)]
pub struct MemoryCloud {
    state: Arc<Mutex<State>>,
}

const ACCOUNT: &str = "111122223333";

/// The namespace EKS installs the add-ons known here in, and so makes their Pod Identity
/// associations in.
const ADDON_NAMESPACE: &str = "kube-system";

fn owned_by(tags: &Tags, cluster: &str) -> bool {
    tags.get(CLUSTER_TAG).map(String::as_str) == Some(cluster)
}

/// Add-ons the fake knows; each has the version `v<kubernetes version>.0-eksbuild.1` by default.
const KNOWN_ADDONS: &[&str] = &[
    "vpc-cni",
    "kube-proxy",
    "coredns",
    "aws-ebs-csi-driver",
    "aws-efs-csi-driver",
    "eks-pod-identity-agent",
    "snapshot-controller",
    "metrics-server",
];

fn not_found(operation: &'static str, resource: &str) -> CloudError {
    CloudError {
        operation,
        resource: resource.to_owned(),
        code: Some("NotFound".to_owned()),
        message: format!("{resource} does not exist"),
        kind: ErrorKind::NotFound,
    }
}

impl MemoryCloud {
    /// An empty account.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cloud handle the reconciler uses.
    pub fn cloud(&self) -> Cloud {
        Cloud {
            network: Box::new(self.clone()),
            identity: Box::new(self.clone()),
            kubernetes: Box::new(self.clone()),
            parameters: Box::new(self.clone()),
            pod_identity: Box::new(self.clone()),
            queues: Box::new(self.clone()),
            events: Box::new(self.clone()),
        }
    }

    /// Every mutating call so far, as `Operation resource`.
    pub fn mutating_calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Number of live resources of every kind (for "nothing left" checks).
    pub fn resource_count(&self) -> usize {
        let s = self.lock();
        s.vpcs.len()
            + s.subnets.len()
            + s.igws.len()
            + s.addresses.len()
            + s.nats.values().filter(|n| n.state != "deleted").count()
            + s.route_tables.len()
            + s.launch_templates.len()
            + s.load_balancers.len()
            + s.target_groups.len()
            + s.instances
                .values()
                .filter(|(_, state, _)| state != "terminated")
                .count()
            + s.instance_profiles.len()
            + s.roles.len()
            + s.oidc.len()
            + s.clusters.len()
            + s.node_groups.len()
            + s.fargate.len()
            + s.addons.len()
            + s.access_entries.len()
            + s.pod_identity.len()
            + s.parameters.len()
            + s.queues.len()
            + s.rules.len()
    }

    /// Every SQS queue.
    pub fn queues(&self) -> Vec<ObservedQueue> {
        self.lock().queues.values().cloned().collect()
    }

    /// Every EventBridge rule.
    pub fn event_rules(&self) -> Vec<ObservedEventRule> {
        self.lock().rules.values().cloned().collect()
    }

    /// The tags of an SSM parameter, or `None` when it does not exist.
    pub fn parameter_tags(&self, name: &str) -> Option<Tags> {
        self.lock()
            .parameters
            .get(name)
            .map(|(_, tags)| tags.clone())
    }

    /// Names of every SSM parameter.
    pub fn parameter_names(&self) -> Vec<String> {
        self.lock().parameters.keys().cloned().collect()
    }

    /// Adds a load balancer in `vpc_id` as Kubernetes would for a Service or an Ingress
    /// (the reconciler never creates one). Until deleted it blocks deleting the VPC's subnets
    /// and the VPC, as its network interfaces do in AWS.
    pub fn add_load_balancer(&self, load_balancer: LoadBalancerRef, vpc_id: &str, tags: Tags) {
        self.lock()
            .load_balancers
            .insert(load_balancer, (vpc_id.to_owned(), tags));
    }

    /// Launches an instance in `subnet_id` as Karpenter would (the reconciler never does);
    /// returns its id. Until terminated it blocks deleting the subnet.
    pub fn add_instance(&self, subnet_id: &str, tags: Tags) -> String {
        let mut s = self.lock();
        let id = s.id("i");
        s.instances.insert(
            id.clone(),
            (subnet_id.to_owned(), "running".to_owned(), tags),
        );
        id
    }

    /// Adds a launch template that ekspec did not make (Karpenter's); returns its id.
    pub fn add_foreign_launch_template(&self, name: &str, tags: Tags) -> String {
        let mut s = self.lock();
        let id = s.id("lt");
        s.launch_templates.insert(
            id.clone(),
            ObservedLaunchTemplate {
                id: id.clone(),
                name: name.to_owned(),
                latest_version: 1,
                data: None,
                tags,
            },
        );
        id
    }

    /// Adds an instance profile holding `role`, as Karpenter makes them; IAM then refuses to
    /// delete the role until it is removed from the profile.
    pub fn add_instance_profile(&self, name: &str, role: &str, tags: Tags) {
        self.lock()
            .instance_profiles
            .insert(name.to_owned(), (vec![role.to_owned()], tags));
    }

    /// The service-linked role of `service`, if it exists.
    pub fn service_linked_role(&self, service: &str) -> Option<String> {
        self.lock().service_linked_roles.get(service).cloned()
    }

    /// The tags of a cluster's security group, if it exists.
    pub fn cluster_security_group_tags(&self, cluster: &str) -> Option<Tags> {
        let s = self.lock();
        let id = s.clusters.get(cluster)?.cluster_security_group_id.clone()?;
        s.security_groups.get(&id).map(|g| g.tags.clone())
    }

    /// Adds an ELBv2 target group in `vpc_id` as Kubernetes would.
    pub fn add_target_group(&self, arn: &str, vpc_id: &str, tags: Tags) {
        self.lock()
            .target_groups
            .insert(arn.to_owned(), (vpc_id.to_owned(), tags));
    }

    /// Puts every NAT gateway of `cluster` in state `failed`, as AWS can (e.g. an internal
    /// error); returns their ids.
    pub fn fail_nat_gateways(&self, cluster: &str) -> Vec<String> {
        let mut s = self.lock();
        let mut failed = Vec::new();
        for nat in s.nats.values_mut() {
            if owned_by(&nat.tags, cluster) && nat.state == "available" {
                nat.state = "failed".to_owned();
                failed.push(nat.id.clone());
            }
        }
        failed
    }

    /// Puts a Fargate profile in `status` with `issues` (CREATE_FAILED, DELETING, ...), as
    /// EKS can leave one.
    pub fn set_fargate_status(&self, cluster: &str, name: &str, status: &str, issues: &[&str]) {
        if let Some(profile) = self
            .lock()
            .fargate
            .get_mut(&(cluster.to_owned(), name.to_owned()))
        {
            profile.status = status.to_owned();
            profile.health_issues = issues.iter().map(|i| (*i).to_owned()).collect();
        }
    }

    /// Makes the next call of `operation` (e.g. `CreateNodegroup`) fail with `error`.
    pub fn fail_next(&self, operation: &'static str, error: CloudError) {
        self.lock().failures.push((operation, error));
    }

    /// Puts a node group in a state EKS reports (CREATING, CREATE_FAILED, DEGRADED, ...) with
    /// its health issues (`CODE: message`).
    pub fn set_node_group_status(&self, cluster: &str, name: &str, status: &str, issues: &[&str]) {
        if let Some(group) = self
            .lock()
            .node_groups
            .get_mut(&(cluster.to_owned(), name.to_owned()))
        {
            group.status = status.to_owned();
            group.health_issues = issues.iter().map(|i| (*i).to_owned()).collect();
        }
    }

    /// Fails if a failure was injected for `operation`.
    fn gate(&self, operation: &'static str) -> CloudResult<()> {
        let mut s = self.lock();
        match s.failures.iter().position(|(op, _)| *op == operation) {
            Some(i) => Err(s.failures.remove(i).1),
            None => Ok(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl Network for MemoryCloud {
    async fn discover(&self, cluster: &str) -> CloudResult<ObservedNetwork> {
        let s = self.lock();
        let keep = |tags: &Tags| owned_by(tags, cluster);
        Ok(ObservedNetwork {
            vpcs: s.vpcs.values().filter(|v| keep(&v.tags)).cloned().collect(),
            subnets: s
                .subnets
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            internet_gateways: s.igws.values().filter(|v| keep(&v.tags)).cloned().collect(),
            addresses: s
                .addresses
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            nat_gateways: s
                .nats
                .values()
                .filter(|v| keep(&v.tags) && v.state != "deleted")
                .cloned()
                .collect(),
            route_tables: s
                .route_tables
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            launch_templates: s
                .launch_templates
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
        })
    }

    async fn describe_existing(
        &self,
        vpc_id: &str,
        subnet_ids: &[String],
    ) -> CloudResult<(Option<ObservedVpc>, Vec<ObservedSubnet>)> {
        let s = self.lock();
        Ok((
            s.vpcs.get(vpc_id).cloned(),
            subnet_ids
                .iter()
                .filter_map(|id| s.subnets.get(id).cloned())
                .collect(),
        ))
    }

    async fn availability_zones(&self) -> CloudResult<Vec<AvailabilityZone>> {
        // As AWS lists them: an opted-in Local Zone sorts before the zones, and us-east-1e
        // is use1-az3, which EKS refuses for control planes.
        Ok([
            ("us-east-1-bos-1a", "use1-bos1-az1", "local-zone"),
            ("us-east-1a", "use1-az6", "availability-zone"),
            ("us-east-1b", "use1-az1", "availability-zone"),
            ("us-east-1c", "use1-az2", "availability-zone"),
            ("us-east-1d", "use1-az4", "availability-zone"),
            ("us-east-1e", "use1-az3", "availability-zone"),
        ]
        .map(|(name, id, kind)| AvailabilityZone {
            name: name.to_owned(),
            id: id.to_owned(),
            kind: kind.to_owned(),
        })
        .to_vec())
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> CloudResult<String> {
        self.gate("CreateVpc")?;
        let mut s = self.lock();
        let id = s.id("vpc");
        s.vpcs.insert(
            id.clone(),
            ObservedVpc {
                id: id.clone(),
                cidr: cidr.to_owned(),
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateVpc {id}"));
        Ok(id)
    }

    async fn create_subnet(&self, r: &SubnetRequest) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("subnet");
        s.subnets.insert(
            id.clone(),
            ObservedSubnet {
                id: id.clone(),
                vpc_id: r.vpc_id.clone(),
                cidr: r.cidr.clone(),
                availability_zone: r.availability_zone.clone(),
                map_public_ip_on_launch: r.public,
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateSubnet {id}"));
        Ok(id)
    }

    async fn create_internet_gateway(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("igw");
        s.igws.insert(
            id.clone(),
            ObservedInternetGateway {
                id: id.clone(),
                attached_vpc_ids: vec![vpc_id.to_owned()],
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateInternetGateway {id}"));
        Ok(id)
    }

    async fn allocate_address(&self, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("eipalloc");
        s.addresses.insert(
            id.clone(),
            ObservedAddress {
                allocation_id: id.clone(),
                association_id: None,
                public_ip: Some("198.51.100.1".to_owned()),
                tags: tags.clone(),
            },
        );
        s.log(format!("AllocateAddress {id}"));
        Ok(id)
    }

    async fn create_nat_gateway(
        &self,
        subnet_id: &str,
        allocation_id: &str,
        tags: &Tags,
        token: &str,
    ) -> CloudResult<(String, String)> {
        self.gate("CreateNatGateway")?;
        let mut s = self.lock();
        let request = format!("{subnet_id} {allocation_id} {tags:?}");
        if let Some(id) = s.token_used("CreateNatGateway", token, &request)? {
            let state = s.nats.get(&id).map_or("deleted", |n| n.state.as_str());
            return Ok((id, state.to_owned()));
        }
        let id = s.id("nat");
        s.nats.insert(
            id.clone(),
            ObservedNatGateway {
                id: id.clone(),
                subnet_id: subnet_id.to_owned(),
                allocation_ids: vec![allocation_id.to_owned()],
                state: "available".to_owned(),
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateNatGateway {id}"));
        s.tokens.insert(
            ("CreateNatGateway", token.to_owned()),
            (request, id.clone()),
        );
        Ok((id, "available".to_owned()))
    }

    async fn nat_gateway_state(&self, id: &str) -> CloudResult<Option<String>> {
        Ok(self.lock().nats.get(id).map(|n| n.state.clone()))
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("rtb");
        s.route_tables.insert(
            id.clone(),
            ObservedRouteTable {
                id: id.clone(),
                vpc_id: vpc_id.to_owned(),
                default_route: None,
                associations: Vec::new(),
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateRouteTable {id}"));
        Ok(id)
    }

    async fn set_default_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        let table = s
            .route_tables
            .get_mut(route_table_id)
            .ok_or_else(|| not_found("CreateRoute", route_table_id))?;
        table.default_route = Some(target.clone());
        s.log(format!("CreateRoute {route_table_id}"));
        Ok(())
    }

    async fn associate_route_table(
        &self,
        route_table_id: &str,
        subnet_id: &str,
    ) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("rtbassoc");
        let table = s
            .route_tables
            .get_mut(route_table_id)
            .ok_or_else(|| not_found("AssociateRouteTable", route_table_id))?;
        table.associations.push((id.clone(), subnet_id.to_owned()));
        s.log(format!("AssociateRouteTable {route_table_id} {subnet_id}"));
        Ok(id)
    }

    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()> {
        let mut s = self.lock();
        for table in s.route_tables.values_mut() {
            table.associations.retain(|(a, _)| a != association_id);
        }
        s.log(format!("DisassociateRouteTable {association_id}"));
        Ok(())
    }

    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        for id in resource_ids {
            if let Some(v) = s.vpcs.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.subnets.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.igws.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.addresses.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.nats.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.route_tables.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.launch_templates.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.security_groups.get_mut(id) {
                v.tags.extend(tags.clone());
            } else {
                return Err(not_found("CreateTags", id));
            }
        }
        s.log(format!("CreateTags {}", resource_ids.join(",")));
        Ok(())
    }

    async fn create_launch_template(
        &self,
        r: &LaunchTemplateRequest,
    ) -> CloudResult<(String, i64)> {
        let mut s = self.lock();
        let request = format!("{} {:?} {:?}", r.name, r.data, r.tags);
        if let Some(id) = s.token_used("CreateLaunchTemplate", &r.client_token, &request)? {
            let version = s.launch_templates.get(&id).map_or(1, |t| t.latest_version);
            return Ok((id, version));
        }
        let id = s.id("lt");
        s.tokens.insert(
            ("CreateLaunchTemplate", r.client_token.clone()),
            (request, id.clone()),
        );
        s.launch_templates.insert(
            id.clone(),
            ObservedLaunchTemplate {
                id: id.clone(),
                name: r.name.clone(),
                latest_version: 1,
                data: Some(r.data.clone()),
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateLaunchTemplate {id}"));
        Ok((id, 1))
    }

    async fn create_launch_template_version(
        &self,
        id: &str,
        data: &LaunchTemplateData,
        client_token: &str,
    ) -> CloudResult<i64> {
        let mut s = self.lock();
        let request = format!("{id} {data:?}");
        if let Some(version) =
            s.token_used("CreateLaunchTemplateVersion", client_token, &request)?
        {
            return Ok(version.parse().unwrap_or(0));
        }
        let template = s
            .launch_templates
            .get_mut(id)
            .ok_or_else(|| not_found("CreateLaunchTemplateVersion", id))?;
        template.latest_version += 1;
        template.data = Some(data.clone());
        let version = template.latest_version;
        s.tokens.insert(
            ("CreateLaunchTemplateVersion", client_token.to_owned()),
            (request, version.to_string()),
        );
        s.log(format!("CreateLaunchTemplateVersion {id} {version}"));
        Ok(version)
    }

    async fn discover_leftovers(&self, cluster: &str, vpc_id: &str) -> CloudResult<Leftovers> {
        let s = self.lock();
        let made_here =
            |(vpc, tags): &(String, Tags)| vpc == vpc_id && made_by_kubernetes_for(tags, cluster);
        Ok(Leftovers {
            load_balancers: s
                .load_balancers
                .iter()
                .filter(|(_, lb)| made_here(lb))
                .map(|(id, _)| id.clone())
                .collect(),
            target_groups: s
                .target_groups
                .iter()
                .filter(|(_, group)| made_here(group))
                .map(|(arn, _)| arn.clone())
                .collect(),
            security_groups: Vec::new(),
            network_interfaces: Vec::new(),
        })
    }

    async fn security_group(&self, id: &str) -> CloudResult<Option<ObservedSecurityGroup>> {
        Ok(self.lock().security_groups.get(id).cloned())
    }

    async fn delete_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        for id in resource_ids {
            let live = if let Some(v) = s.subnets.get_mut(id) {
                &mut v.tags
            } else if let Some(v) = s.security_groups.get_mut(id) {
                &mut v.tags
            } else {
                return Err(not_found("DeleteTags", id));
            };
            live.retain(|key, value| tags.get(key) != Some(value));
        }
        s.log(format!("DeleteTags {}", resource_ids.join(",")));
        Ok(())
    }

    async fn discover_karpenter_leftovers(&self, cluster: &str) -> CloudResult<KarpenterLeftovers> {
        let s = self.lock();
        let karpenter = |tags: &Tags| {
            tags.get(&crate::naming::kubernetes_cluster_tag(cluster))
                .is_some_and(|v| v == "owned")
                && tags.contains_key(crate::naming::KARPENTER_NODEPOOL_TAG)
        };
        Ok(KarpenterLeftovers {
            instances: s
                .instances
                .iter()
                .filter(|(_, (_, state, tags))| state != "terminated" && karpenter(tags))
                .map(|(id, _)| id.clone())
                .collect(),
            launch_templates: s
                .launch_templates
                .values()
                .filter(|t| karpenter(&t.tags))
                .map(|t| t.id.clone())
                .collect(),
        })
    }

    async fn terminate_instances(&self, ids: &[String]) -> CloudResult<()> {
        self.gate("TerminateInstances")?;
        let mut s = self.lock();
        for id in ids {
            if let Some((_, state, _)) = s.instances.get_mut(id) {
                "terminated".clone_into(state);
            }
        }
        s.log(format!("TerminateInstances {}", ids.join(",")));
        Ok(())
    }

    async fn instances_not_terminated(&self, ids: &[String]) -> CloudResult<Vec<(String, String)>> {
        let s = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let (_, state, _) = s.instances.get(id)?;
                (state != "terminated").then(|| (id.clone(), state.clone()))
            })
            .collect())
    }

    async fn delete_load_balancer(&self, load_balancer: &LoadBalancerRef) -> CloudResult<()> {
        self.gate("DeleteLoadBalancer")?;
        let mut s = self.lock();
        s.load_balancers.remove(load_balancer);
        s.log(format!("DeleteLoadBalancer {load_balancer}"));
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        self.gate("DeleteTargetGroup")?;
        let mut s = self.lock();
        s.target_groups.remove(arn);
        s.log(format!("DeleteTargetGroup {arn}"));
        Ok(())
    }

    async fn delete(&self, kind: Ec2Kind, id: &str) -> CloudResult<()> {
        self.gate("DeleteEc2")?;
        let mut s = self.lock();
        let has_load_balancers =
            |s: &State, vpc_id: &str| s.load_balancers.values().any(|(vpc, _)| vpc == vpc_id);
        let dependency_violation = |operation| CloudError {
            operation,
            resource: id.to_owned(),
            code: Some("DependencyViolation".to_owned()),
            message: format!("{id} has dependencies"),
            kind: ErrorKind::InUse,
        };
        match kind {
            Ec2Kind::Vpc => {
                if s.subnets.values().any(|x| x.vpc_id == id)
                    || s.route_tables.values().any(|x| x.vpc_id == id)
                    || has_load_balancers(&s, id)
                {
                    return Err(dependency_violation("DeleteVpc"));
                }
                s.vpcs.remove(id);
            }
            Ec2Kind::Subnet => {
                let has_instances = s
                    .instances
                    .values()
                    .any(|(subnet, state, _)| subnet == id && state != "terminated");
                if has_instances
                    || s.subnets
                        .get(id)
                        .is_some_and(|subnet| has_load_balancers(&s, &subnet.vpc_id))
                {
                    return Err(dependency_violation("DeleteSubnet"));
                }
                s.subnets.remove(id);
            }
            Ec2Kind::InternetGateway => {
                s.igws.remove(id);
            }
            Ec2Kind::Address => {
                s.addresses.remove(id);
            }
            Ec2Kind::NatGateway => {
                if let Some(nat) = s.nats.get_mut(id) {
                    nat.state = "deleted".to_owned();
                }
            }
            Ec2Kind::RouteTable => {
                s.route_tables.remove(id);
            }
            Ec2Kind::LaunchTemplate => {
                s.launch_templates.remove(id);
            }
            Ec2Kind::SecurityGroup | Ec2Kind::NetworkInterface => {}
        }
        s.log(format!("Delete{kind:?} {id}"));
        Ok(())
    }

    async fn delete_default_route(&self, route_table_id: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(table) = s.route_tables.get_mut(route_table_id) {
            table.default_route = None;
        }
        s.log(format!("DeleteRoute {route_table_id}"));
        Ok(())
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        let mut s = self.lock();
        // AWS: a load balancer's public addresses are mapped through the gateway.
        if s.load_balancers.values().any(|(vpc, _)| vpc == vpc_id) {
            return Err(CloudError {
                operation: "DetachInternetGateway",
                resource: igw_id.to_owned(),
                code: Some("DependencyViolation".to_owned()),
                message: format!(
                    "Network {vpc_id} has some mapped public address(es). Please unmap those \
                     public address(es) before detaching the gateway."
                ),
                kind: ErrorKind::InUse,
            });
        }
        if let Some(igw) = s.igws.get_mut(igw_id) {
            igw.attached_vpc_ids.retain(|v| v != vpc_id);
        }
        s.log(format!("DetachInternetGateway {igw_id}"));
        Ok(())
    }
}

#[async_trait]
impl Identity for MemoryCloud {
    async fn list_roles(&self, path_prefix: &str) -> CloudResult<Vec<ObservedRole>> {
        Ok(self
            .lock()
            .roles
            .values()
            .filter(|r| r.path.starts_with(path_prefix))
            .cloned()
            .collect())
    }

    async fn create_role(&self, r: &RoleRequest) -> CloudResult<String> {
        self.gate("CreateRole")?;
        let mut s = self.lock();
        if s.roles.contains_key(&r.name) {
            return Err(CloudError {
                operation: "CreateRole",
                resource: r.name.clone(),
                code: Some("EntityAlreadyExists".to_owned()),
                message: "role exists".to_owned(),
                kind: ErrorKind::AlreadyExists,
            });
        }
        let arn = format!("arn:aws:iam::{ACCOUNT}:role{}{}", r.path, r.name);
        let created_at = s.tick();
        s.roles.insert(
            r.name.clone(),
            ObservedRole {
                name: r.name.clone(),
                arn: arn.clone(),
                path: r.path.clone(),
                trust_policy: r.trust_policy.clone(),
                tags: r.tags.clone(),
                attached_policies: Vec::new(),
                inline_policies: BTreeMap::new(),
                created_at: Some(created_at),
            },
        );
        s.log(format!("CreateRole {}", r.name));
        Ok(arn)
    }

    async fn update_trust_policy(
        &self,
        role: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        s.roles
            .get_mut(role)
            .ok_or_else(|| not_found("UpdateAssumeRolePolicy", role))?
            .trust_policy = document.clone();
        s.log(format!("UpdateAssumeRolePolicy {role}"));
        Ok(())
    }

    async fn attach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        let r = s
            .roles
            .get_mut(role)
            .ok_or_else(|| not_found("AttachRolePolicy", role))?;
        if !r.attached_policies.iter().any(|p| p == policy_arn) {
            r.attached_policies.push(policy_arn.to_owned());
            r.attached_policies.sort();
        }
        s.log(format!("AttachRolePolicy {role}"));
        Ok(())
    }

    async fn detach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(r) = s.roles.get_mut(role) {
            r.attached_policies.retain(|p| p != policy_arn);
        }
        s.log(format!("DetachRolePolicy {role}"));
        Ok(())
    }

    async fn put_inline_policy(
        &self,
        role: &str,
        name: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        s.roles
            .get_mut(role)
            .ok_or_else(|| not_found("PutRolePolicy", role))?
            .inline_policies
            .insert(name.to_owned(), document.clone());
        s.log(format!("PutRolePolicy {role}"));
        Ok(())
    }

    async fn delete_inline_policy(&self, role: &str, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(r) = s.roles.get_mut(role) {
            r.inline_policies.remove(name);
        }
        s.log(format!("DeleteRolePolicy {role}"));
        Ok(())
    }

    async fn tag_role(&self, role: &str, tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        s.roles
            .get_mut(role)
            .ok_or_else(|| not_found("TagRole", role))?
            .tags
            .extend(tags.clone());
        s.log(format!("TagRole {role}"));
        Ok(())
    }

    async fn role_exists(&self, name: &str) -> CloudResult<bool> {
        let s = self.lock();
        Ok(s.roles.contains_key(name) || s.service_linked_roles.values().any(|r| r == name))
    }

    async fn create_service_linked_role(&self, service: &str) -> CloudResult<()> {
        let mut s = self.lock();
        let name = match service {
            "spot.amazonaws.com" => "AWSServiceRoleForEC2Spot".to_owned(),
            other => format!("AWSServiceRoleFor{other}"),
        };
        s.service_linked_roles.insert(service.to_owned(), name);
        s.log(format!("CreateServiceLinkedRole {service}"));
        Ok(())
    }

    async fn delete_role(&self, role: &str) -> CloudResult<()> {
        let mut s = self.lock();
        // IAM: "Cannot delete entity, must remove roles from instance profile first."
        if s.instance_profiles
            .values()
            .any(|(roles, _)| roles.iter().any(|r| r == role))
        {
            return Err(CloudError {
                operation: "DeleteRole",
                resource: role.to_owned(),
                code: Some("DeleteConflict".to_owned()),
                message: "Cannot delete entity, must remove roles from instance profile first."
                    .to_owned(),
                kind: ErrorKind::InUse,
            });
        }
        s.roles.remove(role);
        s.log(format!("DeleteRole {role}"));
        Ok(())
    }

    async fn karpenter_instance_profiles(
        &self,
        role: &str,
        cluster: &str,
        region: &str,
    ) -> CloudResult<Vec<String>> {
        let s = self.lock();
        Ok(s.instance_profiles
            .iter()
            .filter(|(_, (roles, tags))| {
                roles.iter().any(|r| r == role)
                    && tags
                        .get(&crate::naming::kubernetes_cluster_tag(cluster))
                        .is_some_and(|v| v == "owned")
                    && tags
                        .get(crate::naming::KARPENTER_REGION_TAG)
                        .is_some_and(|v| v == region)
                    && tags.contains_key(crate::naming::KARPENTER_NODE_CLASS_TAG)
            })
            .map(|(name, _)| name.clone())
            .collect())
    }

    async fn delete_instance_profile(&self, profile: &str, role: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some((roles, _)) = s.instance_profiles.get_mut(profile) {
            roles.retain(|r| r != role);
        }
        s.instance_profiles.remove(profile);
        s.log(format!("DeleteInstanceProfile {profile}"));
        Ok(())
    }

    async fn list_oidc_providers(
        &self,
        cluster: &str,
        _issuer: Option<&str>,
    ) -> CloudResult<Vec<ObservedOidcProvider>> {
        Ok(self
            .lock()
            .oidc
            .values()
            .filter(|o| owned_by(&o.tags, cluster))
            .cloned()
            .collect())
    }

    async fn create_oidc_provider(&self, issuer_url: &str, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let url = issuer_url
            .strip_prefix("https://")
            .unwrap_or(issuer_url)
            .to_owned();
        let arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{url}");
        s.oidc.insert(
            arn.clone(),
            ObservedOidcProvider {
                arn: arn.clone(),
                url,
                client_ids: vec!["sts.amazonaws.com".to_owned()],
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateOpenIDConnectProvider {arn}"));
        Ok(arn)
    }

    async fn tag_oidc_provider(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        s.oidc
            .get_mut(arn)
            .ok_or_else(|| not_found("TagOpenIDConnectProvider", arn))?
            .tags
            .extend(tags.clone());
        s.log(format!("TagOpenIDConnectProvider {arn}"));
        Ok(())
    }

    async fn delete_oidc_provider(&self, arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        s.oidc.remove(arn);
        s.log(format!("DeleteOpenIDConnectProvider {arn}"));
        Ok(())
    }

    async fn account_id(&self) -> CloudResult<String> {
        Ok(ACCOUNT.to_owned())
    }

    async fn caller_arn(&self) -> CloudResult<String> {
        self.gate("GetCallerIdentity")?;
        Ok(format!("arn:aws:sts::{ACCOUNT}:assumed-role/memory/test"))
    }
}

#[async_trait]
impl Parameters for MemoryCloud {
    async fn create_parameter(&self, name: &str, value: &str, tags: &Tags) -> CloudResult<bool> {
        // Give other tasks a chance to run between calls, as a network round trip would, so
        // concurrent tests interleave.
        tokio::task::yield_now().await;
        self.gate("PutParameter")?;
        let mut s = self.lock();
        if s.parameters.contains_key(name) {
            return Ok(false);
        }
        s.parameters
            .insert(name.to_owned(), (value.to_owned(), tags.clone()));
        s.log(format!("PutParameter {name}"));
        Ok(true)
    }

    async fn get_parameter(&self, name: &str) -> CloudResult<Option<String>> {
        tokio::task::yield_now().await;
        self.gate("GetParameter")?;
        Ok(self.lock().parameters.get(name).map(|(v, _)| v.clone()))
    }

    async fn overwrite_parameter(&self, name: &str, value: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("PutParameter")?;
        let mut s = self.lock();
        // As in SSM, overwriting a missing parameter creates it, without tags.
        let entry = s.parameters.entry(name.to_owned()).or_default();
        entry.0 = value.to_owned();
        s.log(format!("PutParameter {name}"));
        Ok(())
    }

    async fn delete_parameter(&self, name: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("DeleteParameter")?;
        let mut s = self.lock();
        s.parameters.remove(name);
        s.log(format!("DeleteParameter {name}"));
        Ok(())
    }
}

#[async_trait]
impl ControlPlane for MemoryCloud {
    async fn describe_cluster(&self, name: &str) -> CloudResult<Option<ObservedCluster>> {
        Ok(self.lock().clusters.get(name).cloned())
    }

    async fn create_cluster(&self, r: &ClusterRequest) -> CloudResult<()> {
        self.gate("CreateCluster")?;
        let mut s = self.lock();
        let mut subnets = r.subnet_ids.clone();
        subnets.sort();
        let vpc_id = subnets
            .first()
            .and_then(|id| s.subnets.get(id))
            .map(|subnet| subnet.vpc_id.clone());
        let mut cidrs = r.public_access_cidrs.clone();
        cidrs.sort();
        let mut logs = r.enabled_log_types.clone();
        logs.sort();
        // EKS makes a security group for the cluster, tagged for it.
        let group = s.id("sg");
        s.security_groups.insert(
            group.clone(),
            ObservedSecurityGroup {
                id: group.clone(),
                tags: Tags::from([(
                    crate::naming::kubernetes_cluster_tag(&r.name),
                    "owned".to_owned(),
                )]),
            },
        );
        s.clusters.insert(
            r.name.clone(),
            ObservedCluster {
                name: r.name.clone(),
                arn: format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{}", r.name),
                status: "ACTIVE".to_owned(),
                version: r.version.clone(),
                role_arn: r.role_arn.clone(),
                vpc_id,
                cluster_security_group_id: Some(group),
                subnet_ids: subnets,
                endpoint_public_access: r.endpoint_public_access,
                endpoint_private_access: r.endpoint_private_access,
                public_access_cidrs: cidrs,
                enabled_log_types: logs,
                encryption_key_arn: r.encryption_key_arn.clone(),
                authentication_mode: Some("API_AND_CONFIG_MAP".to_owned()),
                oidc_issuer: Some(format!(
                    "https://oidc.eks.us-east-1.amazonaws.com/id/{}",
                    r.name.to_uppercase()
                )),
                endpoint: Some(format!("https://{}.eks.example", r.name)),
                certificate_authority: Some("LS0t".to_owned()),
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateCluster {}", r.name));
        Ok(())
    }

    async fn update_cluster_config(
        &self,
        name: &str,
        change: &ClusterConfigChange,
    ) -> CloudResult<Option<String>> {
        let mut s = self.lock();
        let c = s
            .clusters
            .get_mut(name)
            .ok_or_else(|| not_found("UpdateClusterConfig", name))?;
        match change {
            ClusterConfigChange::Endpoint {
                public_access,
                private_access,
                public_access_cidrs,
            } => {
                c.endpoint_public_access = *public_access;
                c.endpoint_private_access = *private_access;
                c.public_access_cidrs = public_access_cidrs.clone();
                c.public_access_cidrs.sort();
            }
            ClusterConfigChange::EnableAccessEntries => {
                c.authentication_mode = Some("API_AND_CONFIG_MAP".to_owned());
            }
            ClusterConfigChange::Subnets { subnet_ids } => {
                c.subnet_ids = subnet_ids.clone();
                c.subnet_ids.sort();
            }
            ClusterConfigChange::Logging { enable, disable } => {
                c.enabled_log_types.retain(|l| !disable.contains(l));
                c.enabled_log_types.extend(enable.iter().cloned());
                c.enabled_log_types.sort();
                c.enabled_log_types.dedup();
            }
        }
        s.log(format!("UpdateClusterConfig {name}"));
        Ok(None)
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.gate("TagResource")?;
        let mut s = self.lock();
        let s = &mut *s;
        let target = s
            .clusters
            .values_mut()
            .find(|c| c.arn == arn)
            .map(|c| &mut c.tags)
            .or_else(|| {
                s.node_groups
                    .values_mut()
                    .find(|g| g.arn == arn)
                    .map(|g| &mut g.tags)
            })
            .or_else(|| {
                s.fargate
                    .values_mut()
                    .find(|f| f.arn == arn)
                    .map(|f| &mut f.tags)
            })
            .or_else(|| {
                s.addons
                    .values_mut()
                    .find(|a| a.arn == arn)
                    .map(|a| &mut a.tags)
            })
            .or_else(|| {
                s.access_entries
                    .values_mut()
                    .find(|e| e.arn == arn)
                    .map(|e| &mut e.tags)
            })
            .or_else(|| {
                s.pod_identity
                    .values_mut()
                    .find(|(_, a)| a.association_arn == arn)
                    .map(|(_, a)| &mut a.tags)
            })
            .ok_or_else(|| not_found("TagResource", arn))?;
        target.extend(tags.clone());
        s.log(format!("TagResource {arn}"));
        Ok(())
    }

    async fn update_cluster_version(
        &self,
        name: &str,
        version: &str,
        force: bool,
    ) -> CloudResult<String> {
        self.gate("UpdateClusterVersion")?;
        let mut s = self.lock();
        s.clusters
            .get_mut(name)
            .ok_or_else(|| not_found("UpdateClusterVersion", name))?
            .version = version.to_owned();
        let forced = if force { " force" } else { "" };
        s.log(format!("UpdateClusterVersion {name} {version}{forced}"));
        Ok(s.finished_update())
    }

    async fn associate_encryption_config(&self, name: &str, key_arn: &str) -> CloudResult<String> {
        self.gate("AssociateEncryptionConfig")?;
        let mut s = self.lock();
        s.clusters
            .get_mut(name)
            .ok_or_else(|| not_found("AssociateEncryptionConfig", name))?
            .encryption_key_arn = Some(key_arn.to_owned());
        s.log(format!("AssociateEncryptionConfig {name}"));
        Ok(s.finished_update())
    }

    async fn describe_update(
        &self,
        _cluster: &str,
        _of: UpdateOf<'_>,
        update_id: &str,
    ) -> CloudResult<UpdateStatus> {
        self.lock()
            .updates
            .get(update_id)
            .cloned()
            .ok_or_else(|| not_found("DescribeUpdate", update_id))
    }

    async fn delete_cluster(&self, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        // EKS deletes the security group it made for the cluster.
        if let Some(group) = s
            .clusters
            .remove(name)
            .and_then(|c| c.cluster_security_group_id)
        {
            s.security_groups.remove(&group);
        }
        // Its add-ons and access entries go with it, as on AWS.
        s.addons.retain(|(cluster, _), _| cluster != name);
        s.access_entries.retain(|(cluster, _), _| cluster != name);
        // A cluster's Pod Identity associations go with it.
        s.pod_identity.retain(|_, (cluster, _)| cluster != name);
        s.log(format!("DeleteCluster {name}"));
        Ok(())
    }
}

#[async_trait]
impl NodeGroups for MemoryCloud {
    async fn list_node_groups(&self, cluster: &str) -> CloudResult<Vec<ObservedNodeGroup>> {
        Ok(self
            .lock()
            .node_groups
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, g)| g.clone())
            .collect())
    }

    async fn describe_node_group(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedNodeGroup>> {
        Ok(self
            .lock()
            .node_groups
            .get(&(cluster.to_owned(), name.to_owned()))
            .cloned())
    }

    async fn create_node_group(&self, r: &NodeGroupRequest) -> CloudResult<()> {
        self.gate("CreateNodegroup")?;
        let mut s = self.lock();
        let mut subnets = r.subnet_ids.clone();
        subnets.sort();
        let mut taints = r.taints.clone();
        taints.sort();
        // EKS starts a node group on its cluster's version.
        let version = s.clusters.get(&r.cluster).map(|c| c.version.clone());
        s.node_groups.insert(
            (r.cluster.clone(), r.name.clone()),
            ObservedNodeGroup {
                name: r.name.clone(),
                arn: format!(
                    "arn:aws:eks:us-east-1:{ACCOUNT}:nodegroup/{}/{}/0",
                    r.cluster, r.name
                ),
                status: "ACTIVE".to_owned(),
                instance_types: r.instance_types.clone(),
                capacity_type: r.capacity_type.clone(),
                ami_type: r.ami_type.clone(),
                scaling: r.scaling,
                labels: r.labels.clone(),
                taints,
                subnet_ids: subnets,
                launch_template: Some(r.launch_template.clone()),
                update_budget: Some(r.update_budget),
                version,
                node_role_arn: r.node_role_arn.clone(),
                health_issues: Vec::new(),
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateNodegroup {}", r.name));
        Ok(())
    }

    async fn update_node_group_version(
        &self,
        cluster: &str,
        name: &str,
        version: &str,
    ) -> CloudResult<String> {
        self.gate("UpdateNodegroupVersion")?;
        let mut s = self.lock();
        s.node_groups
            .get_mut(&(cluster.to_owned(), name.to_owned()))
            .ok_or_else(|| not_found("UpdateNodegroupVersion", name))?
            .version = Some(version.to_owned());
        s.log(format!("UpdateNodegroupVersion {name} {version}"));
        Ok(s.finished_update())
    }

    async fn update_node_group_launch_template(
        &self,
        cluster: &str,
        name: &str,
        (id, version): (&str, &str),
    ) -> CloudResult<String> {
        self.gate("UpdateNodegroupVersion")?;
        let mut s = self.lock();
        s.node_groups
            .get_mut(&(cluster.to_owned(), name.to_owned()))
            .ok_or_else(|| not_found("UpdateNodegroupVersion", name))?
            .launch_template = Some((id.to_owned(), version.to_owned()));
        s.log(format!("UpdateNodegroupVersion {name} {id} {version}"));
        Ok(s.finished_update())
    }

    async fn update_node_group_config(
        &self,
        cluster: &str,
        name: &str,
        change: &NodeGroupConfigChange,
    ) -> CloudResult<Option<String>> {
        self.gate("UpdateNodegroupConfig")?;
        let mut s = self.lock();
        let g = s
            .node_groups
            .get_mut(&(cluster.to_owned(), name.to_owned()))
            .ok_or_else(|| not_found("UpdateNodegroupConfig", name))?;
        g.labels.extend(change.add_labels.clone());
        g.labels.retain(|k, _| !change.remove_labels.contains(k));
        g.taints.retain(|t| {
            !change
                .remove_taints
                .iter()
                .any(|r| r.key == t.key && r.effect == t.effect)
        });
        for taint in &change.add_taints {
            g.taints
                .retain(|t| !(t.key == taint.key && t.effect == taint.effect));
            g.taints.push(taint.clone());
        }
        g.taints.sort();
        if let Some(scaling) = change.scaling {
            g.scaling = scaling;
        }
        if let Some(budget) = change.update_budget {
            g.update_budget = Some(budget);
        }
        s.log(format!("UpdateNodegroupConfig {name}"));
        // EKS answers every node group config change with an update to follow.
        Ok(Some(s.finished_update()))
    }

    async fn delete_node_group(&self, cluster: &str, name: &str) -> CloudResult<()> {
        self.gate("DeleteNodegroup")?;
        let mut s = self.lock();
        s.node_groups.remove(&(cluster.to_owned(), name.to_owned()));
        s.log(format!("DeleteNodegroup {name}"));
        Ok(())
    }
}

#[async_trait]
impl FargateProfiles for MemoryCloud {
    async fn list_fargate_profiles(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedFargateProfile>> {
        Ok(self
            .lock()
            .fargate
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, f)| f.clone())
            .collect())
    }

    async fn create_fargate_profile(&self, r: &FargateProfileRequest) -> CloudResult<()> {
        self.gate("CreateFargateProfile")?;
        let mut s = self.lock();
        s.log(format!("CreateFargateProfile {}", r.name));
        if s.fargate.contains_key(&(r.cluster.clone(), r.name.clone())) {
            // As EKS answers a second profile of the same name.
            return Err(CloudError {
                operation: "CreateFargateProfile",
                resource: r.name.clone(),
                code: Some("ResourceInUseException".to_owned()),
                message: "A Fargate Profile already exists with this name in this cluster."
                    .to_owned(),
                kind: ErrorKind::InUse,
            });
        }
        let mut subnets = r.subnet_ids.clone();
        subnets.sort();
        s.fargate.insert(
            (r.cluster.clone(), r.name.clone()),
            ObservedFargateProfile {
                name: r.name.clone(),
                arn: format!(
                    "arn:aws:eks:us-east-1:{ACCOUNT}:fargateprofile/{}/{}/0",
                    r.cluster, r.name
                ),
                status: "ACTIVE".to_owned(),
                health_issues: Vec::new(),
                pod_execution_role_arn: r.pod_execution_role_arn.clone(),
                subnet_ids: subnets,
                selectors: r.selectors.clone(),
                tags: r.tags.clone(),
            },
        );
        Ok(())
    }

    async fn delete_fargate_profile(&self, cluster: &str, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        s.fargate.remove(&(cluster.to_owned(), name.to_owned()));
        s.log(format!("DeleteFargateProfile {name}"));
        Ok(())
    }

    async fn describe_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedFargateProfile>> {
        Ok(self
            .lock()
            .fargate
            .get(&(cluster.to_owned(), name.to_owned()))
            .cloned())
    }
}

#[async_trait]
impl Addons for MemoryCloud {
    async fn list_addons(&self, cluster: &str) -> CloudResult<Vec<ObservedAddon>> {
        let s = self.lock();
        Ok(s.addons
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, a)| s.addon_view(a))
            .collect())
    }

    async fn describe_addon(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedAddon>> {
        let s = self.lock();
        Ok(s.addons
            .get(&(cluster.to_owned(), name.to_owned()))
            .map(|addon| s.addon_view(addon)))
    }

    async fn default_addon_version(
        &self,
        addon: &str,
        kubernetes_version: &str,
    ) -> CloudResult<Option<String>> {
        Ok(KNOWN_ADDONS
            .contains(&addon)
            .then(|| format!("v{kubernetes_version}.0-eksbuild.1")))
    }

    async fn create_addon(&self, r: &AddonRequest) -> CloudResult<()> {
        self.gate("CreateAddon")?;
        let mut s = self.lock();
        let key = (r.cluster.clone(), r.name.clone());
        if s.addons.contains_key(&key) {
            return Err(CloudError {
                operation: "CreateAddon",
                resource: r.name.clone(),
                code: Some("ResourceInUseException".to_owned()),
                message: format!("Addon {} already exists", r.name),
                kind: ErrorKind::AlreadyExists,
            });
        }
        let arn = format!(
            "arn:aws:eks:us-east-1:{ACCOUNT}:addon/{}/{}/0",
            r.cluster, r.name
        );
        if let Some(wanted) = &r.pod_identity_associations {
            s.set_addon_pod_identities("CreateAddon", &r.cluster, &arn, wanted)?;
        }
        s.addons.insert(
            key,
            ObservedAddon {
                name: r.name.clone(),
                arn,
                version: r.version.clone(),
                status: "ACTIVE".to_owned(),
                service_account_role_arn: r.service_account_role_arn.clone(),
                configuration_values: r.configuration_values.clone(),
                health_issues: Vec::new(),
                // Read from the associations (`addon_view`).
                pod_identity_associations: Vec::new(),
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateAddon {}", r.name));
        Ok(())
    }

    async fn update_addon(&self, r: &AddonRequest) -> CloudResult<Option<String>> {
        self.gate("UpdateAddon")?;
        let mut s = self.lock();
        let key = (r.cluster.clone(), r.name.clone());
        let arn = s
            .addons
            .get(&key)
            .map(|addon| addon.arn.clone())
            .ok_or_else(|| not_found("UpdateAddon", &r.name))?;
        // Not sent: the associations stay; an empty list deletes them all.
        if let Some(wanted) = &r.pod_identity_associations {
            s.set_addon_pod_identities("UpdateAddon", &r.cluster, &arn, wanted)?;
        }
        let Some(addon) = s.addons.get_mut(&key) else {
            return Err(not_found("UpdateAddon", &r.name));
        };
        addon.version = r.version.clone();
        // An empty ARN removes the role, as in EKS.
        addon.service_account_role_arn = r
            .service_account_role_arn
            .clone()
            .filter(|arn| !arn.is_empty());
        addon.configuration_values = r.configuration_values.clone();
        s.log(format!("UpdateAddon {}", r.name));
        Ok(Some(s.finished_update()))
    }

    async fn delete_addon(&self, cluster: &str, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(addon) = s.addons.remove(&(cluster.to_owned(), name.to_owned())) {
            // EKS deletes the associations it made for the add-on with it.
            s.pod_identity
                .retain(|_, (_, a)| a.owner_arn.as_deref() != Some(addon.arn.as_str()));
        }
        s.log(format!("DeleteAddon {name}"));
        Ok(())
    }
}

#[async_trait]
impl AccessEntries for MemoryCloud {
    async fn list_access_entries(&self, cluster: &str) -> CloudResult<Vec<ObservedAccessEntry>> {
        Ok(self
            .lock()
            .access_entries
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn describe_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> CloudResult<Option<ObservedAccessEntry>> {
        Ok(self
            .lock()
            .access_entries
            .get(&(cluster.to_owned(), principal_arn.to_owned()))
            .cloned())
    }

    async fn create_access_entry(&self, r: &AccessEntryRequest) -> CloudResult<()> {
        self.gate("CreateAccessEntry")?;
        let mut s = self.lock();
        let key = (r.cluster.clone(), r.principal_arn.clone());
        if s.access_entries.contains_key(&key) {
            // As EKS answers a second entry for the same principal.
            return Err(CloudError {
                operation: "CreateAccessEntry",
                resource: r.principal_arn.clone(),
                code: Some("ResourceInUseException".to_owned()),
                message: "The specified access entry resource is already in use on this cluster."
                    .to_owned(),
                kind: ErrorKind::InUse,
            });
        }
        let mut groups = r.kubernetes_groups.clone();
        groups.sort();
        let created_at = s.tick();
        s.access_entries.insert(
            (r.cluster.clone(), r.principal_arn.clone()),
            ObservedAccessEntry {
                principal_arn: r.principal_arn.clone(),
                arn: format!(
                    "arn:aws:eks:us-east-1:{ACCOUNT}:access-entry/{}/{}",
                    r.cluster, r.principal_arn
                ),
                kubernetes_groups: groups,
                username: Some(
                    r.username
                        .clone()
                        .unwrap_or_else(|| r.principal_arn.clone()),
                ),
                entry_type: r
                    .entry_type
                    .clone()
                    .unwrap_or_else(|| "STANDARD".to_owned()),
                policies: Vec::new(),
                tags: r.tags.clone(),
                created_at: Some(created_at),
            },
        );
        s.log(format!("CreateAccessEntry {}", r.principal_arn));
        Ok(())
    }

    async fn update_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
        kubernetes_groups: &[String],
        username: Option<&str>,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        let entry = s
            .access_entries
            .get_mut(&(cluster.to_owned(), principal_arn.to_owned()))
            .ok_or_else(|| not_found("UpdateAccessEntry", principal_arn))?;
        entry.kubernetes_groups = kubernetes_groups.to_vec();
        entry.kubernetes_groups.sort();
        if let Some(username) = username {
            entry.username = Some(username.to_owned());
        }
        s.log(format!("UpdateAccessEntry {principal_arn}"));
        Ok(())
    }

    async fn delete_access_entry(&self, cluster: &str, principal_arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        s.access_entries
            .remove(&(cluster.to_owned(), principal_arn.to_owned()));
        s.log(format!("DeleteAccessEntry {principal_arn}"));
        Ok(())
    }

    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy: &AccessPolicy,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        let entry = s
            .access_entries
            .get_mut(&(cluster.to_owned(), principal_arn.to_owned()))
            .ok_or_else(|| not_found("AssociateAccessPolicy", principal_arn))?;
        entry.policies.retain(|p| p.policy_arn != policy.policy_arn);
        entry.policies.push(policy.clone());
        entry.policies.sort();
        s.log(format!(
            "AssociateAccessPolicy {principal_arn} {}",
            policy.policy_arn
        ));
        Ok(())
    }

    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(entry) = s
            .access_entries
            .get_mut(&(cluster.to_owned(), principal_arn.to_owned()))
        {
            entry.policies.retain(|p| p.policy_arn != policy_arn);
        }
        s.log(format!(
            "DisassociateAccessPolicy {principal_arn} {policy_arn}"
        ));
        Ok(())
    }
}

const QUEUE_URL_PREFIX: &str = "https://sqs.us-east-1.amazonaws.com/111122223333/";

fn queue_name(url: &str) -> &str {
    url.strip_prefix(QUEUE_URL_PREFIX).unwrap_or(url)
}

fn queue_gone(operation: &'static str, url: &str) -> CloudError {
    CloudError {
        operation,
        resource: format!("queue {}", queue_name(url)),
        code: Some("AWS.SimpleQueueService.NonExistentQueue".to_owned()),
        message: "The specified queue does not exist.".to_owned(),
        kind: ErrorKind::NotFound,
    }
}

#[async_trait]
impl Queues for MemoryCloud {
    async fn list_queues(
        &self,
        prefix: &str,
        _known: &[String],
    ) -> CloudResult<Vec<ObservedQueue>> {
        tokio::task::yield_now().await;
        self.gate("ListQueues")?;
        Ok(self
            .lock()
            .queues
            .values()
            .filter(|q| q.name.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn create_queue(&self, r: &QueueRequest) -> CloudResult<String> {
        tokio::task::yield_now().await;
        self.gate("CreateQueue")?;
        let mut s = self.lock();
        let url = format!("{QUEUE_URL_PREFIX}{}", r.name);
        if let Some(existing) = s.queues.get(&r.name) {
            // As SQS: the same attributes answer the existing queue's URL, others fail.
            let same = existing.policy.as_ref() == Some(&r.attributes.policy)
                && existing.message_retention_seconds
                    == Some(r.attributes.message_retention_seconds)
                && existing.sqs_managed_sse == r.attributes.sqs_managed_sse;
            return if same {
                Ok(url)
            } else {
                Err(CloudError {
                    operation: "CreateQueue",
                    resource: format!("queue {}", r.name),
                    code: Some("QueueAlreadyExists".to_owned()),
                    message: "A queue already exists with the same name and a different value for attribute(s) Policy".to_owned(),
                    kind: ErrorKind::AlreadyExists,
                })
            };
        }
        s.queues.insert(
            r.name.clone(),
            ObservedQueue {
                name: r.name.clone(),
                url: url.clone(),
                arn: format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{}", r.name),
                policy: Some(r.attributes.policy.clone()),
                message_retention_seconds: Some(r.attributes.message_retention_seconds),
                sqs_managed_sse: r.attributes.sqs_managed_sse,
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateQueue {}", r.name));
        Ok(url)
    }

    async fn queue_url(&self, name: &str) -> CloudResult<Option<String>> {
        tokio::task::yield_now().await;
        self.gate("GetQueueUrl")?;
        Ok(self.lock().queues.get(name).map(|q| q.url.clone()))
    }

    async fn queue_tags(&self, url: &str) -> CloudResult<Tags> {
        tokio::task::yield_now().await;
        self.gate("ListQueueTags")?;
        self.lock()
            .queues
            .get(queue_name(url))
            .map(|q| q.tags.clone())
            .ok_or_else(|| queue_gone("ListQueueTags", url))
    }

    async fn set_queue_attributes(
        &self,
        url: &str,
        attributes: &QueueAttributes,
    ) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("SetQueueAttributes")?;
        let mut s = self.lock();
        let queue = s
            .queues
            .get_mut(queue_name(url))
            .ok_or_else(|| queue_gone("SetQueueAttributes", url))?;
        queue.policy = Some(attributes.policy.clone());
        queue.message_retention_seconds = Some(attributes.message_retention_seconds);
        queue.sqs_managed_sse = attributes.sqs_managed_sse;
        s.log(format!("SetQueueAttributes {}", queue_name(url)));
        Ok(())
    }

    async fn tag_queue(&self, url: &str, tags: &Tags) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("TagQueue")?;
        let mut s = self.lock();
        let queue = s
            .queues
            .get_mut(queue_name(url))
            .ok_or_else(|| queue_gone("TagQueue", url))?;
        queue.tags.extend(tags.clone());
        s.log(format!("TagQueue {}", queue_name(url)));
        Ok(())
    }

    async fn delete_queue(&self, url: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("DeleteQueue")?;
        let mut s = self.lock();
        s.queues.remove(queue_name(url));
        s.log(format!("DeleteQueue {}", queue_name(url)));
        Ok(())
    }
}

#[async_trait]
impl EventRules for MemoryCloud {
    async fn list_rules(&self, prefix: &str) -> CloudResult<Vec<ObservedEventRule>> {
        tokio::task::yield_now().await;
        self.gate("ListRules")?;
        Ok(self
            .lock()
            .rules
            .values()
            .filter(|r| r.name.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn put_rule(&self, r: &EventRuleRequest) -> CloudResult<String> {
        tokio::task::yield_now().await;
        self.gate("PutRule")?;
        let mut s = self.lock();
        let arn = format!("arn:aws:events:us-east-1:{ACCOUNT}:rule/{}", r.name);
        // As EventBridge: a new rule takes the tags, a replaced one keeps its own (and its
        // targets).
        let (tags, targets) = s.rules.get(&r.name).map_or_else(
            || (r.tags.clone(), Vec::new()),
            |old| (old.tags.clone(), old.targets.clone()),
        );
        s.rules.insert(
            r.name.clone(),
            ObservedEventRule {
                name: r.name.clone(),
                arn: arn.clone(),
                event_pattern: Some(r.event_pattern.clone()),
                state: "ENABLED".to_owned(),
                targets,
                tags,
            },
        );
        s.log(format!("PutRule {}", r.name));
        Ok(arn)
    }

    async fn put_targets(&self, rule: &str, targets: &[RuleTarget]) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("PutTargets")?;
        let mut s = self.lock();
        let live = s
            .rules
            .get_mut(rule)
            .ok_or_else(|| not_found("PutTargets", &format!("event rule {rule}")))?;
        for target in targets {
            live.targets.retain(|t| t.id != target.id);
            live.targets.push(target.clone());
        }
        live.targets.sort();
        s.log(format!("PutTargets {rule}"));
        Ok(())
    }

    async fn remove_targets(&self, rule: &str, ids: &[String]) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("RemoveTargets")?;
        let mut s = self.lock();
        if let Some(live) = s.rules.get_mut(rule) {
            live.targets.retain(|t| !ids.contains(&t.id));
        }
        s.log(format!("RemoveTargets {rule}"));
        Ok(())
    }

    async fn tag_rule(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("TagResource")?;
        let mut s = self.lock();
        let rule = s
            .rules
            .values_mut()
            .find(|r| r.arn == arn)
            .ok_or_else(|| not_found("TagResource", arn))?;
        rule.tags.extend(tags.clone());
        let name = rule.name.clone();
        s.log(format!("TagResource {name}"));
        Ok(())
    }

    async fn delete_rule(&self, rule: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("DeleteRule")?;
        let mut s = self.lock();
        // As EventBridge: "Before you can delete the rule, you must remove all targets".
        if s.rules.get(rule).is_some_and(|r| !r.targets.is_empty()) {
            return Err(CloudError {
                operation: "DeleteRule",
                resource: format!("event rule {rule}"),
                code: Some("ValidationException".to_owned()),
                message: "Rule can't be deleted since it has targets.".to_owned(),
                kind: ErrorKind::Invalid,
            });
        }
        s.rules.remove(rule);
        s.log(format!("DeleteRule {rule}"));
        Ok(())
    }
}

#[async_trait]
impl PodIdentity for MemoryCloud {
    async fn list_pod_identity_associations(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedPodIdentityAssociation>> {
        let s = self.lock();
        let mut found: Vec<ObservedPodIdentityAssociation> = s
            .pod_identity
            .values()
            .filter(|(c, _)| c == cluster)
            .map(|(_, a)| a.clone())
            .collect();
        found.sort_by(|a, b| {
            (&a.namespace, &a.service_account).cmp(&(&b.namespace, &b.service_account))
        });
        Ok(found)
    }

    async fn create_pod_identity_association(
        &self,
        r: &PodIdentityAssociationRequest,
    ) -> CloudResult<String> {
        const OPERATION: &str = "CreatePodIdentityAssociation";
        self.gate(OPERATION)?;
        let mut s = self.lock();
        if !s.clusters.contains_key(&r.cluster) {
            return Err(CloudError {
                code: Some("ResourceNotFoundException".to_owned()),
                ..not_found(OPERATION, &format!("cluster {}", r.cluster))
            });
        }
        // The same request with the same token answers the association it made (EKS:
        // "A unique, case-sensitive identifier that you provide to ensure the idempotency of
        // the request").
        let request = format!(
            "{} {} {} {} {:?}",
            r.cluster, r.namespace, r.service_account, r.role_arn, r.tags
        );
        let token = (OPERATION, r.client_request_token.clone());
        if let Some((earlier, id)) = s.tokens.get(&token)
            && *earlier == request
            && s.pod_identity.contains_key(id)
        {
            return Ok(id.clone());
        }
        let id = s.add_pod_identity(
            OPERATION,
            &r.cluster,
            ObservedPodIdentityAssociation {
                association_id: String::new(),
                association_arn: String::new(),
                namespace: r.namespace.clone(),
                service_account: r.service_account.clone(),
                role_arn: r.role_arn.clone(),
                owner_arn: None,
                tags: r.tags.clone(),
            },
        )?;
        s.tokens.insert(token, (request, id.clone()));
        s.log(format!("{OPERATION} {}/{}", r.namespace, r.service_account));
        Ok(id)
    }

    async fn update_pod_identity_association(
        &self,
        cluster: &str,
        association_id: &str,
        role_arn: &str,
    ) -> CloudResult<()> {
        const OPERATION: &str = "UpdatePodIdentityAssociation";
        self.gate(OPERATION)?;
        let mut s = self.lock();
        let association = match s.pod_identity.get_mut(association_id) {
            Some((c, association)) if c == cluster => association,
            _ => return Err(not_found(OPERATION, association_id)),
        };
        association.role_arn = role_arn.to_owned();
        s.log(format!("{OPERATION} {association_id}"));
        Ok(())
    }

    async fn delete_pod_identity_association(
        &self,
        cluster: &str,
        association_id: &str,
    ) -> CloudResult<()> {
        const OPERATION: &str = "DeletePodIdentityAssociation";
        self.gate(OPERATION)?;
        let mut s = self.lock();
        if s.pod_identity
            .get(association_id)
            .is_some_and(|(c, _)| c == cluster)
        {
            s.pod_identity.remove(association_id);
        }
        s.log(format!("{OPERATION} {association_id}"));
        Ok(())
    }
}
