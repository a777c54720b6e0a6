//! Adoption: ekspec takes ownership of live resources another tool made (eksctl, Terraform,
//! the console) when the user asks for it (`ekspec adopt`, `plan`/`apply --adopt`).
//!
//! Matching is explicit: the cluster by `metadata.name`; node groups and Fargate profiles by
//! the spec's name; standalone Pod Identity associations by namespace and service account;
//! roles by what the live resources use (the cluster's role, the adopted node groups' and
//! Fargate profiles' roles, a service account's role by its `roleName`, its IRSA trust or its
//! binding); the OIDC provider of the cluster's issuer. Declared add-ons and access entries
//! are taken over by their planners (they live inside an owned cluster).
//!
//! With `--adopt-network` the brought-in VPC (`spec.vpc.id`) is taken over too, with what is
//! in it: the subnets the spec lists, the internet gateway, NAT gateways and their Elastic
//! IPs, route tables (not the main one), egress-only internet gateways and security groups
//! (not the default one, the one EKS made for the cluster, or Kubernetes'). Refused: a subnet
//! in the VPC the spec does not list, and an instance that is not a node of this cluster (they
//! would keep the VPC from being deleted with the cluster). An adopted network is kept as it
//! is by the normal plan and deleted after the cluster by `delete`.
//!
//! A matched resource gets the ownership tags in [`Observed`] only (virtual tags), so the
//! normal planner diffs it as owned; [`merge`] then puts the tag call first in that
//! resource's change, kind `adopt`. A run stopped after the tag call leaves a resource that is
//! simply owned. A matched resource that carries another ekspec cluster's tag is never
//! adopted: the plan has an impossible change naming both clusters.

use crate::cloud::{Tags, VpcContents};
use crate::naming::{AUTO_MODE_CLUSTER_TAG, CLUSTER_TAG, RESOURCE_TAG, made_by_kubernetes_for};
use crate::plan::Ref;
use crate::plan::{Change, ChangeKind, FieldChange, Operation};
use crate::spec::{ClusterFile, IdentityMechanism};

use super::iam::trusts_oidc;
use super::{Observed, access, addon, pod_identity};

/// What the user asked to adopt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AdoptMode {
    /// Nothing (`plan`, `apply`).
    #[default]
    Off,
    /// The cluster and what the spec matches in it (`--adopt`, `ekspec adopt`).
    Cluster,
    /// That, and the brought-in VPC with what is in it (`--adopt-network`).
    Network,
}

impl AdoptMode {
    /// From the command line's flags: `--adopt-network` implies `--adopt`.
    pub fn new(adopt: bool, network: bool) -> Self {
        match (adopt, network) {
            (_, true) => Self::Network,
            (true, false) => Self::Cluster,
            (false, false) => Self::Off,
        }
    }

    /// Whether anything is to be adopted.
    pub fn any(self) -> bool {
        self != Self::Off
    }

    /// Whether the network is to be adopted.
    pub fn network(self) -> bool {
        self == Self::Network
    }
}

/// A live resource that stops an adoption: the plan shows it impossible with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// The logical id it has (or would have).
    pub resource: String,
    /// Its id.
    pub physical_id: String,
    /// Why, and what to do.
    pub reason: String,
}

/// A live resource the spec matches that no ekspec cluster owns: it is tagged, then owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    /// The logical id it gets, e.g. `nodegroup/ng-1`.
    pub resource: String,
    /// Its name or ARN.
    pub physical_id: String,
    /// The call that adds the ownership tags.
    pub tag: Operation,
    /// How it matched the spec, for the plan's `why`.
    pub matched: String,
}

/// A live resource the spec matches that another ekspec cluster owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The logical id it would get.
    pub resource: String,
    /// Its name or ARN.
    pub physical_id: String,
    /// The ekspec cluster its `ekspec.io/cluster` tag names.
    pub owner: String,
}

/// Who a live resource belongs to, by its tags.
enum Claim {
    /// This cluster already.
    Ours,
    /// No ekspec cluster.
    Free,
    /// Another ekspec cluster.
    Theirs(String),
}

fn claim(tags: &Tags, cluster: &str) -> Claim {
    match tags.get(CLUSTER_TAG) {
        None => Claim::Free,
        Some(owner) if owner == cluster => Claim::Ours,
        Some(owner) => Claim::Theirs(owner.clone()),
    }
}

/// The tags that make a resource `resource` of `cluster`.
pub fn ownership(cluster: &str, resource: &str) -> Tags {
    Tags::from([
        (CLUSTER_TAG.to_owned(), cluster.to_owned()),
        (RESOURCE_TAG.to_owned(), resource.to_owned()),
    ])
}

/// What `claim_matches` found, and records on `Observed`.
#[derive(Default)]
struct Found {
    adoptions: Vec<Adoption>,
    refusals: Vec<Refusal>,
}

impl Found {
    /// Claims one live resource for `resource`: ours stays, free gets virtual tags and an
    /// adoption, theirs is refused. Returns whether it is (now) this cluster's.
    fn take(
        &mut self,
        cluster: &str,
        resource: &str,
        physical_id: &str,
        tags: &mut Tags,
        tag: impl FnOnce(Tags) -> Operation,
        matched: String,
    ) -> bool {
        match claim(tags, cluster) {
            Claim::Ours => true,
            Claim::Theirs(owner) => {
                self.refusals.push(Refusal {
                    resource: resource.to_owned(),
                    physical_id: physical_id.to_owned(),
                    owner,
                });
                false
            }
            Claim::Free => {
                let owned = ownership(cluster, resource);
                tags.extend(owned.clone());
                self.adoptions.push(Adoption {
                    resource: resource.to_owned(),
                    physical_id: physical_id.to_owned(),
                    tag: tag(owned),
                    matched,
                });
                true
            }
        }
    }
}

/// The name of a role from its ARN (`arn:aws:iam::1:role/some/path/name` -> `name`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Matches the spec against live resources no ekspec cluster owns (unfiltered lists in
/// `observed`), gives the matches virtual ownership tags and records the adoptions and
/// refusals. Called only when the user asked for adoption and the cluster exists.
pub fn claim_matches(observed: &mut Observed, file: &ClusterFile) {
    let cluster = file.metadata.name.as_str();
    let mut found = Found::default();
    let Some(live) = observed.cluster.as_mut() else {
        return;
    };
    let (arn, name) = (live.arn.clone(), live.name.clone());
    let cluster_ours = found.take(
        cluster,
        "cluster",
        &name,
        &mut live.tags,
        |tags| Operation::TagEks {
            arn: arn.clone(),
            tags,
        },
        "the EKS cluster of the spec's metadata.name".to_owned(),
    );
    if !cluster_ours {
        // Another cluster's: nothing inside it is adopted either.
        observed.refusals.extend(found.refusals);
        return;
    }
    let cluster_role = live.role_arn.clone();

    let mut node_role = None;
    for group in &file.spec.node_groups {
        let resource = format!("nodegroup/{}", group.name);
        if let Some(live) = observed
            .node_groups
            .iter_mut()
            .find(|g| g.name == group.name)
        {
            let arn = live.arn.clone();
            let adopted = found.take(
                cluster,
                &resource,
                &live.name,
                &mut live.tags,
                |tags| Operation::TagEks { arn, tags },
                format!("the node group named `{}` in the spec", group.name),
            );
            if adopted && node_role.is_none() {
                node_role = Some(live.node_role_arn.clone());
            }
        }
    }
    let mut fargate_role = None;
    for profile in &file.spec.fargate_profiles {
        let resource = format!("fargate-profile/{}", profile.name);
        if let Some(live) = observed
            .fargate_profiles
            .iter_mut()
            .find(|f| f.name == profile.name)
        {
            let arn = live.arn.clone();
            let adopted = found.take(
                cluster,
                &resource,
                &live.name,
                &mut live.tags,
                |tags| Operation::TagEks { arn, tags },
                format!("the Fargate profile named `{}` in the spec", profile.name),
            );
            if adopted && fargate_role.is_none() {
                fargate_role = Some(live.pod_execution_role_arn.clone());
            }
        }
    }
    for want in pod_identity::desired(file) {
        let resource = pod_identity::resource_id(&want.namespace, &want.service_account);
        if let Some(live) = observed.pod_identity_associations.iter_mut().find(|a| {
            a.owner_arn.is_none()
                && a.namespace == want.namespace
                && a.service_account == want.service_account
        }) {
            let arn = live.association_arn.clone();
            found.take(
                cluster,
                &resource,
                &live.association_id,
                &mut live.tags,
                |tags| Operation::TagEks { arn, tags },
                format!(
                    "the Pod Identity association of {}/{}",
                    want.namespace, want.service_account
                ),
            );
        }
    }

    // Roles, by what the live resources use.
    let mut roles: Vec<(String, String, String)> = vec![(
        "role/cluster".to_owned(),
        role_name(&cluster_role).to_owned(),
        "the role the cluster uses (EKS cannot change it)".to_owned(),
    )];
    if let Some(arn) = node_role {
        roles.push((
            "role/node".to_owned(),
            role_name(&arn).to_owned(),
            "the node role of the adopted node groups".to_owned(),
        ));
    }
    if let Some(arn) = fargate_role {
        roles.push((
            "role/fargate".to_owned(),
            role_name(&arn).to_owned(),
            "the pod execution role of the adopted Fargate profiles".to_owned(),
        ));
    }
    for account in &file.spec.service_accounts {
        if let Some(name) = account_role(observed, file, account) {
            roles.push((
                pod_identity::role_resource(account),
                name,
                format!(
                    "the role of service account {}/{}",
                    account.namespace, account.name
                ),
            ));
        }
    }
    let mut taken: Vec<String> = Vec::new();
    for (resource, name, matched) in roles {
        if taken.contains(&name) {
            continue;
        }
        if let Some(live) = observed.roles.iter_mut().find(|r| r.name == name) {
            let role = live.name.clone();
            found.take(
                cluster,
                &resource,
                &role.clone(),
                &mut live.tags,
                |tags| Operation::TagRole { role, tags },
                matched,
            );
            taken.push(name);
        }
    }

    // The OIDC provider of the cluster's issuer, when the spec has IRSA accounts (otherwise
    // the plan would delete it as owned and unwanted).
    let wants_provider = file
        .spec
        .service_accounts
        .iter()
        .any(|a| a.mechanism == IdentityMechanism::Irsa);
    if wants_provider && let Some(live) = observed.oidc_providers.first_mut() {
        let arn = live.arn.clone();
        found.take(
            cluster,
            "oidc-provider",
            &arn.clone(),
            &mut live.tags,
            |tags| Operation::TagOidcProvider { arn, tags },
            "the IAM OIDC provider of the cluster's issuer".to_owned(),
        );
    }
    observed.adoptions.extend(found.adoptions);
    observed.refusals.extend(found.refusals);
}

/// The EC2 kinds an adopted network holds, with the logical id of each (`KIND/ID`).
const NETWORK_KINDS: [&str; 7] = [
    "subnet",
    "internet-gateway",
    "nat-gateway",
    "eip",
    "route-table",
    super::network::EGRESS_ONLY_GATEWAY,
    "security-group",
];

/// `--adopt-network`: claims the spec's brought-in VPC and what is in it (`contents`, read
/// whoever made it) for the cluster, and records what stops that (see the module's doc).
/// Called once the cluster is (being made) this cluster's.
pub fn claim_network(observed: &mut Observed, file: &ClusterFile, contents: VpcContents) {
    let cluster = file.metadata.name.as_str();
    let Some(vpc_id) = file.spec.vpc.id.as_deref() else {
        return;
    };
    let subnets = file.spec.vpc.subnets.clone().unwrap_or_default();
    let listed: Vec<&String> = subnets.private.iter().chain(&subnets.public).collect();
    let mut found = Found::default();
    let mut blocked = Vec::new();
    let VpcContents {
        network: mut live,
        instances,
    } = contents;
    let tag = |id: &str| {
        let id = id.to_owned();
        move |tags: Tags| Operation::TagEc2 {
            ids: vec![Ref::Value(id)],
            tags,
        }
    };
    let eks_group = observed
        .cluster
        .as_ref()
        .and_then(|c| c.cluster_security_group_id.clone());
    let net = &mut observed.network;
    let Some(vpc) = live.vpcs.first_mut() else {
        return;
    };
    let vpc_id_live = vpc.id.clone();
    let known = net.vpcs.iter().any(|v| v.id == vpc_id_live);
    if !found.take(
        cluster,
        "vpc",
        &vpc_id_live,
        &mut vpc.tags,
        tag(&vpc_id_live),
        format!("the VPC of spec.vpc.id (`{vpc_id}`, adopted with --adopt-network)"),
    ) {
        // Another cluster's: nothing in it is adopted either.
        observed.refusals.extend(found.refusals);
        return;
    }
    if !known {
        net.vpcs.push(vpc.clone());
    }
    macro_rules! claim {
        ($list:ident, $id:ident, $kind:expr, $what:expr, $keep:expr) => {
            for item in &mut live.$list {
                let id = item.$id.clone();
                let keep: bool = $keep(&*item);
                if !keep || net.$list.iter().any(|known| known.$id == id) {
                    continue;
                }
                if found.take(
                    cluster,
                    &format!("{}/{id}", $kind),
                    &id,
                    &mut item.tags,
                    tag(&id),
                    format!("{} in the VPC of spec.vpc.id", $what),
                ) {
                    net.$list.push(item.clone());
                }
            }
        };
    }
    for subnet in &live.subnets {
        if !listed.contains(&&subnet.id) {
            blocked.push(Blocker {
                resource: format!("subnet/{}", subnet.id),
                physical_id: subnet.id.clone(),
                reason: format!(
                    "subnet {} ({}, {}) is in VPC {vpc_id} but not in spec.vpc.subnets: adopting the VPC makes `ekspec delete` delete it with the cluster, and so whatever uses this subnet; list it in spec.vpc.subnets (private or public) to adopt it too, or adopt without --adopt-network (the VPC then stays brought-in, never deleted)",
                    subnet.id, subnet.cidr, subnet.availability_zone
                ),
            });
        }
    }
    claim!(
        subnets,
        id,
        "subnet",
        "a subnet the spec lists",
        |s: &crate::cloud::ObservedSubnet| listed.contains(&&s.id)
    );
    claim!(
        internet_gateways,
        id,
        "internet-gateway",
        "the internet gateway",
        |_: &_| true
    );
    claim!(
        nat_gateways,
        id,
        "nat-gateway",
        "a NAT gateway",
        |n: &crate::cloud::ObservedNatGateway| n.state != "deleting"
    );
    claim!(
        addresses,
        allocation_id,
        "eip",
        "the Elastic IP of a NAT gateway",
        |_: &_| true
    );
    claim!(
        route_tables,
        id,
        "route-table",
        "a route table (not the main one, which goes with the VPC)",
        |t: &crate::cloud::ObservedRouteTable| !t.main
    );
    claim!(
        egress_only_internet_gateways,
        id,
        super::network::EGRESS_ONLY_GATEWAY,
        "the egress-only internet gateway",
        |_: &_| true
    );
    // EKS deletes its cluster security group with the cluster, Kubernetes' go with the
    // Kubernetes leftovers (see `network::leftovers_change`).
    claim!(
        security_groups,
        id,
        "security-group",
        "a security group",
        |g: &crate::cloud::ObservedSecurityGroup| {
            Some(&g.id) != eks_group.as_ref() && !made_by_kubernetes_for(&g.tags, cluster)
        }
    );
    for instance in &instances {
        let node = instance
            .tags
            .get("eks:cluster-name")
            .is_some_and(|c| c == cluster)
            || instance
                .tags
                .get(AUTO_MODE_CLUSTER_TAG)
                .is_some_and(|c| c == cluster)
            || instance
                .tags
                .contains_key(&crate::naming::kubernetes_cluster_tag(cluster));
        if !node {
            blocked.push(Blocker {
                resource: "vpc".to_owned(),
                physical_id: instance.id.clone(),
                reason: format!(
                    "instance {} ({}) is in VPC {vpc_id} and is not a node of cluster {cluster}: adopting the VPC makes `ekspec delete` delete it with the cluster, which EC2 refuses while the instance is there; move or terminate the instance first, or adopt without --adopt-network (the VPC then stays brought-in, never deleted)",
                    instance.id, instance.state
                ),
            });
        }
    }
    observed.adoptions.extend(found.adoptions);
    observed.refusals.extend(found.refusals);
    observed.blocked.extend(blocked);
}

/// Whether `resource` is a kind an adopted network holds (see [`claim_network`]).
pub fn is_network_resource(resource: &str) -> bool {
    resource == "vpc"
        || resource
            .split_once('/')
            .is_some_and(|(kind, _)| NETWORK_KINDS.contains(&kind))
}

/// The name of the live role a service account's role matches: its `roleName`; else the
/// role its add-on or Pod Identity association uses; else (IRSA) the role whose trust lets
/// exactly this service account in through the cluster's OIDC provider.
fn account_role(
    observed: &Observed,
    file: &ClusterFile,
    account: &crate::spec::ServiceAccountSpec,
) -> Option<String> {
    if let Some(name) = &account.role_name {
        return Some(name.clone());
    }
    if let Some(spec) = pod_identity::addon_of(file, account).or_else(|| {
        file.spec
            .addons
            .iter()
            .find(|a| addon::account_of(file, a).is_some_and(|s| s.name == account.name))
    }) && let Some(live) = observed.addons.iter().find(|a| a.name == spec.name)
        && let Some(arn) = live
            .service_account_role_arn
            .as_deref()
            .filter(|a| !a.is_empty())
    {
        return Some(role_name(arn).to_owned());
    }
    if let Some(live) = observed
        .pod_identity_associations
        .iter()
        .find(|a| a.namespace == account.namespace && a.service_account == account.name)
    {
        return Some(role_name(&live.role_arn).to_owned());
    }
    let subject = format!(
        "system:serviceaccount:{}:{}",
        account.namespace, account.name
    );
    let provider = observed.oidc_providers.first()?;
    observed
        .roles
        .iter()
        .find(|r| {
            trusts_oidc(&r.trust_policy) && {
                let text = r.trust_policy.to_string();
                text.contains(&provider.arn) && text.contains(&format!("\"{subject}\""))
            }
        })
        .map(|r| r.name.clone())
}

/// Declared add-ons and access entries that another ekspec cluster's tag marks: refused like
/// any other match (their planners take over untagged ones).
pub fn refuse_foreign_contents(observed: &mut Observed, file: &ClusterFile) {
    let cluster = &file.metadata.name;
    for spec in &file.spec.addons {
        if let Some(live) = observed.addons.iter().find(|a| a.name == spec.name)
            && let Claim::Theirs(owner) = claim(&live.tags, cluster)
        {
            observed.refusals.push(Refusal {
                resource: addon::resource_id(&spec.name),
                physical_id: live.name.clone(),
                owner,
            });
        }
    }
    for entry in &file.spec.access_entries {
        if let Some(live) = observed
            .access_entries
            .iter()
            .find(|e| e.principal_arn == entry.principal_arn)
            && let Claim::Theirs(owner) = claim(&live.tags, cluster)
        {
            observed.refusals.push(Refusal {
                resource: access::resource_id(&entry.principal_arn),
                physical_id: live.principal_arn.clone(),
                owner,
            });
        }
    }
}

/// Of what adoption would take in an owned cluster, what stops a plan without `--adopt`:
/// node groups, Fargate profiles, the roles they and the cluster use, and what is in an
/// adopted VPC. (A Pod Identity
/// association in the way is already impossible, see `pod_identity`; a role the spec names
/// that someone else made fails its create.)
pub fn left_to_adopt(adoptions: Vec<Adoption>) -> Vec<Adoption> {
    adoptions
        .into_iter()
        .filter(|a| {
            a.resource.starts_with("nodegroup/")
                || a.resource.starts_with("fargate-profile/")
                || is_network_resource(&a.resource)
                || ["role/cluster", "role/node", "role/fargate"].contains(&a.resource.as_str())
        })
        .collect()
}

/// The ownership tag fields an adoption adds.
fn tag_fields(adoption: &Adoption) -> Vec<FieldChange> {
    let tags = match &adoption.tag {
        Operation::TagEks { tags, .. }
        | Operation::TagRole { tags, .. }
        | Operation::TagOidcProvider { tags, .. }
        | Operation::TagEc2 { tags, .. } => tags.clone(),
        _ => Tags::new(),
    };
    tags.into_iter()
        .map(|(key, value)| FieldChange {
            field: format!("tags.{key}"),
            old: None,
            new: Some(value),
        })
        .collect()
}

/// Whether `op` tags the same thing as `tag`, and so can be folded into it.
fn same_target(tag: &Operation, op: &Operation) -> bool {
    match (tag, op) {
        (Operation::TagEks { arn: a, .. }, Operation::TagEks { arn: b, .. })
        | (Operation::TagOidcProvider { arn: a, .. }, Operation::TagOidcProvider { arn: b, .. }) => {
            a == b
        }
        (Operation::TagRole { role: a, .. }, Operation::TagRole { role: b, .. }) => a == b,
        (Operation::TagEc2 { ids: a, .. }, Operation::TagEc2 { ids: b, .. }) => a == b,
        _ => false,
    }
}

/// Adds the tags of `op` to the tag call `tag`.
fn fold(tag: &mut Operation, op: Operation) {
    let more = match op {
        Operation::TagEks { tags, .. }
        | Operation::TagRole { tags, .. }
        | Operation::TagOidcProvider { tags, .. }
        | Operation::TagEc2 { tags, .. } => tags,
        _ => return,
    };
    if let Operation::TagEks { tags, .. }
    | Operation::TagRole { tags, .. }
    | Operation::TagOidcProvider { tags, .. }
    | Operation::TagEc2 { tags, .. } = tag
    {
        tags.extend(more);
    }
}

/// Makes each adoption one change with the planner's change for the same resource: the tag
/// call first (with whatever other tags the planner adds), then the update or replacement
/// that follows. Refusals replace the planner's change for their resource.
pub fn merge(changes: &mut Vec<Change>, cluster: &str, observed: &Observed) {
    for adoption in &observed.adoptions {
        let mut tag = adoption.tag.clone();
        let fields = tag_fields(adoption);
        match changes.iter_mut().find(|c| c.resource == adoption.resource) {
            Some(change) if change.kind != ChangeKind::Impossible => {
                let ops = std::mem::take(&mut change.operations);
                let mut rest = Vec::new();
                for op in ops {
                    if same_target(&tag, &op) {
                        fold(&mut tag, op);
                    } else {
                        rest.push(op);
                    }
                }
                change.operations = std::iter::once(tag).chain(rest).collect();
                change
                    .fields
                    .retain(|f| !fields.iter().any(|o| o.field == f.field));
                change.fields.splice(0..0, fields);
                let then = match change.kind {
                    ChangeKind::Replace => change
                        .reason
                        .as_deref()
                        .map(|r| format!("; then replaced: {r}"))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                change.reason = Some(format!(
                    "not made by ekspec: {}, so ekspec tags it and owns it from now on{then}",
                    adoption.matched
                ));
                change.kind = ChangeKind::Adopt;
            }
            Some(_) => {}
            None => changes.push(
                Change::new(&adoption.resource, ChangeKind::Adopt, vec![tag])
                    .id(&adoption.physical_id)
                    .fields(fields)
                    .reason(format!(
                        "not made by ekspec: {}, so ekspec tags it and owns it from now on",
                        adoption.matched
                    )),
            ),
        }
    }
    for left in &observed.unadopted {
        changes.retain(|c| c.resource != left.resource);
        let flag = if is_network_resource(&left.resource) {
            " --adopt-network"
        } else {
            ""
        };
        changes.push(
            Change::new(&left.resource, ChangeKind::Impossible, Vec::new())
                .id(&left.physical_id)
                .reason(format!(
                    "{} is {} but carries no ekspec tags (an interrupted adopt, or made outside ekspec); ekspec takes it over only when told: `ekspec adopt{flag} -f SPEC` (`ekspec plan{flag} -f SPEC` shows what that does)",
                    left.physical_id, left.matched
                )),
        );
    }
    for blocker in &observed.blocked {
        changes.retain(|c| c.resource != blocker.resource || c.kind == ChangeKind::Impossible);
        changes.push(
            Change::new(&blocker.resource, ChangeKind::Impossible, Vec::new())
                .id(&blocker.physical_id)
                .reason(&blocker.reason),
        );
    }
    for refusal in &observed.refusals {
        changes.retain(|c| c.resource != refusal.resource);
        changes.push(
            Change::new(&refusal.resource, ChangeKind::Impossible, Vec::new())
                .id(&refusal.physical_id)
                .reason(format!(
                    "{} belongs to ekspec cluster `{}` (its tag {CLUSTER_TAG} says so), not to `{cluster}`; ekspec never adopts another cluster's resources: manage it from the spec of `{}`, or remove it from this spec",
                    refusal.physical_id, refusal.owner, refusal.owner
                )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adoption(resource: &str, role: &str) -> Adoption {
        Adoption {
            resource: resource.to_owned(),
            physical_id: role.to_owned(),
            tag: Operation::TagRole {
                role: role.to_owned(),
                tags: ownership("shop", resource),
            },
            matched: "the role the cluster uses".to_owned(),
        }
    }

    fn observed(adoptions: Vec<Adoption>, refusals: Vec<Refusal>) -> Observed {
        Observed {
            adoptions,
            refusals,
            ..Observed::default()
        }
    }

    #[test]
    fn the_tag_call_goes_first_and_takes_the_planners_other_tags() {
        let mut changes = vec![
            Change::new(
                "role/cluster",
                ChangeKind::Update,
                vec![
                    Operation::AttachPolicy {
                        role: "eksctl-role".to_owned(),
                        policy_arn: "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy".to_owned(),
                    },
                    Operation::TagRole {
                        role: "eksctl-role".to_owned(),
                        tags: Tags::from([("Name".to_owned(), "shop/role/cluster".to_owned())]),
                    },
                ],
            )
            .fields(vec![FieldChange::new("tags.Name", "", "shop/role/cluster")]),
        ];
        let live = observed(vec![adoption("role/cluster", "eksctl-role")], Vec::new());
        merge(&mut changes, "shop", &live);
        let [change] = changes.as_slice() else {
            panic!("{changes:#?}");
        };
        assert_eq!(change.kind, ChangeKind::Adopt);
        assert_eq!(change.operations.len(), 2, "{:#?}", change.operations);
        let Operation::TagRole { role, tags } = &change.operations[0] else {
            panic!("{:#?}", change.operations);
        };
        assert_eq!(role, "eksctl-role");
        assert_eq!(
            tags.keys().collect::<Vec<_>>(),
            ["Name", CLUSTER_TAG, RESOURCE_TAG]
        );
        assert!(matches!(
            change.operations[1],
            Operation::AttachPolicy { .. }
        ));
        assert_eq!(change.fields[0].field, format!("tags.{CLUSTER_TAG}"));
        assert!(
            change
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("the role the cluster uses"))
        );
    }

    #[test]
    fn an_adoption_with_nothing_else_to_change_is_its_own_change_and_a_replacement_keeps_its_reason()
     {
        let mut changes = vec![
            Change::new("nodegroup/ng-1", ChangeKind::Replace, Vec::new())
                .reason("EKS cannot change these fields in place"),
        ];
        let mut group = adoption("nodegroup/ng-1", "ng-1");
        group.tag = Operation::TagEks {
            arn: "arn:ng-1".to_owned(),
            tags: ownership("shop", "nodegroup/ng-1"),
        };
        let live = observed(vec![adoption("role/node", "node-role"), group], Vec::new());
        merge(&mut changes, "shop", &live);
        let replaced = &changes[0];
        assert_eq!(replaced.kind, ChangeKind::Adopt);
        assert!(matches!(replaced.operations[0], Operation::TagEks { .. }));
        assert!(
            replaced.reason.as_deref().is_some_and(
                |r| r.ends_with("; then replaced: EKS cannot change these fields in place")
            ),
            "{replaced:#?}"
        );
        let role = &changes[1];
        assert_eq!(
            (role.resource.as_str(), role.kind, role.operations.len()),
            ("role/node", ChangeKind::Adopt, 1)
        );
    }

    #[test]
    fn another_clusters_resource_is_impossible_and_named_with_both_clusters() {
        let mut changes = vec![Change::new(
            "role/node",
            ChangeKind::Update,
            vec![Operation::TagRole {
                role: "node-role".to_owned(),
                tags: Tags::new(),
            }],
        )];
        let live = observed(
            Vec::new(),
            vec![Refusal {
                resource: "role/node".to_owned(),
                physical_id: "node-role".to_owned(),
                owner: "web".to_owned(),
            }],
        );
        merge(&mut changes, "shop", &live);
        let [change] = changes.as_slice() else {
            panic!("{changes:#?}");
        };
        assert_eq!(change.kind, ChangeKind::Impossible);
        assert!(change.operations.is_empty());
        let reason = change.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("node-role belongs to ekspec cluster `web`")
                && reason.contains("not to `shop`"),
            "{reason}"
        );
    }
}
