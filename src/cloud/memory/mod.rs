//! An in-memory AWS: the cloud traits over plain maps. Resources settle at once (as on moto).
//! Used by tests of the planner and executor and by benchmarks; it validates little, so
//! rejection paths are tested elsewhere.
//!
//! One file per service area, as in `aws`; this one holds the account's state, the handle and
//! the helpers the areas share.

mod access_entries;
mod addons;
mod control_plane;
mod event_rules;
mod fargate;
mod identity;
mod network;
mod node_groups;
mod parameters;
mod pod_identity;
mod queues;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::*;
use crate::naming::CLUSTER_TAG;

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
    eigws: BTreeMap<String, ObservedEgressOnlyInternetGateway>,
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
    /// EKS's upgrade insights by cluster, seeded by tests.
    insights: BTreeMap<String, Vec<ObservedInsight>>,
    /// Where Kubernetes versions are in EKS's support lifecycle, seeded by tests.
    version_support: BTreeMap<String, VersionSupport>,
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

    /// EKS finds `insight` about the next upgrade of `cluster` (ListInsights).
    pub fn seed_insight(&self, cluster: &str, insight: ObservedInsight) {
        self.lock()
            .insights
            .entry(cluster.to_owned())
            .or_default()
            .push(insight);
    }

    /// EKS reports `support` for its version (DescribeClusterVersions).
    pub fn seed_version_support(&self, support: VersionSupport) {
        self.lock()
            .version_support
            .insert(support.version.clone(), support);
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
            + s.eigws.len()
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
