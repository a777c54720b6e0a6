//! Builds a [`Plan`]: every area's changes, then deletes of owned resources the spec no longer
//! has, ordered so nothing is deleted while something still uses it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::cloud::{ObservedNatGateway, Tags};
use crate::plan::{Change, ChangeKind, Operation, Plan, Ref};
use crate::spec::{ClusterFile, DEFAULT_ZONE_COUNT};

use super::auto_mode;
use super::karpenter::{self, KARPENTER_LEFTOVERS};
use super::network::KUBERNETES_LEFTOVERS;
use super::{
    Observed, access, addon, adopt, cluster, fargate, iam, karpenter_interruption, network,
    nodegroup, owned_id, pod_identity, tag_drift, upgrade,
};

/// Working state while planning one cluster.
pub struct Planning<'a> {
    /// The spec; `None` when planning a full delete.
    pub file: Option<&'a ClusterFile>,
    /// Live AWS.
    pub observed: &'a Observed,
    /// Availability zones the network uses.
    pub zones: Vec<String>,
    cluster: String,
    changes: Vec<Change>,
    desired: BTreeSet<String>,
    outputs: HashMap<String, String>,
    /// Service account roles whose change moves the account's binding (a switch of mechanism,
    /// a renamed role): the association and add-on planners leave that binding to it.
    rebinding: BTreeSet<String>,
    /// Warnings for the user (see [`Plan::warnings`]).
    warnings: Vec<String>,
}

impl<'a> Planning<'a> {
    /// Records that the spec wants `resource` (so it is not deleted).
    pub fn desire(&mut self, resource: &str) {
        self.desired.insert(resource.to_owned());
    }

    /// Adds a warning that changes nothing.
    pub fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Adds a change.
    pub fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// The changes planned so far.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The changes planned so far, to add ordering.
    pub fn changes_mut(&mut self) -> &mut [Change] {
        &mut self.changes
    }

    /// Keeps only the changes `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Change) -> bool) {
        self.changes.retain(keep);
    }

    /// Records that the change of the service account role `role` moves the account's binding.
    pub fn rebind_in_role_change(&mut self, role: &str) {
        self.rebinding.insert(role.to_owned());
    }

    /// Whether the change of the service account role `role` moves the account's binding.
    pub fn is_rebinding(&self, role: &str) -> bool {
        self.rebinding.contains(role)
    }

    /// Whether the spec wants `resource`.
    pub fn is_desired(&self, resource: &str) -> bool {
        self.desired.contains(resource)
    }

    /// The logical id of a resource this cluster owns.
    pub fn owned<'t>(&self, tags: &'t Tags) -> Option<&'t str> {
        owned_id(tags, &self.cluster)
    }

    /// The cluster's name.
    pub fn cluster_name(&self) -> Option<&str> {
        Some(self.cluster.as_str())
    }

    /// An output of an existing resource (e.g. the id of `nat-gateway/us-east-1a`).
    pub fn output_of(&self, resource: &str, name: &str) -> Option<String> {
        self.outputs.get(&format!("{resource}.{name}")).cloned()
    }

    /// Adds an update when a live EC2 resource lacks some desired tags.
    pub fn retag(&mut self, resource: &str, id: &str, live: &Tags, desired: &Tags) {
        let (missing, fields) = tag_drift(live, desired);
        if !missing.is_empty() {
            self.push(
                Change::new(
                    resource,
                    ChangeKind::Update,
                    vec![Operation::TagEc2 {
                        ids: vec![Ref::Value(id.to_owned())],
                        tags: missing,
                    }],
                )
                .id(id)
                .fields(fields),
            );
        }
    }
}

/// Outputs (ids, ARNs) of the resources that already exist, keyed `resource.name`.
pub fn existing_outputs(observed: &Observed, cluster: &str) -> HashMap<String, String> {
    let mut outputs = HashMap::new();
    let mut put = |resource: Option<&str>, name: &str, value: &str| {
        if let Some(resource) = resource {
            outputs.insert(format!("{resource}.{name}"), value.to_owned());
        }
    };
    let net = &observed.network;
    for v in &net.vpcs {
        put(owned_id(&v.tags, cluster), "id", &v.id);
        if let Some(block) = &v.ipv6_cidr {
            put(owned_id(&v.tags, cluster), "ipv6-cidr", block);
        }
    }
    for g in &net.egress_only_internet_gateways {
        put(owned_id(&g.tags, cluster), "id", &g.id);
    }
    for s in &net.subnets {
        put(owned_id(&s.tags, cluster), "id", &s.id);
    }
    for g in &net.internet_gateways {
        put(owned_id(&g.tags, cluster), "id", &g.id);
    }
    for a in &net.addresses {
        put(owned_id(&a.tags, cluster), "id", &a.allocation_id);
    }
    for n in net
        .nat_gateways
        .iter()
        .filter(|n| n.state != "deleting" && n.state != "failed")
    {
        put(owned_id(&n.tags, cluster), "id", &n.id);
    }
    for t in &net.route_tables {
        put(owned_id(&t.tags, cluster), "id", &t.id);
    }
    for t in &net.launch_templates {
        put(owned_id(&t.tags, cluster), "id", &t.id);
        put(
            owned_id(&t.tags, cluster),
            "version",
            &t.latest_version.to_string(),
        );
    }
    for r in &observed.roles {
        put(owned_id(&r.tags, cluster), "arn", &r.arn);
    }
    for o in &observed.oidc_providers {
        put(owned_id(&o.tags, cluster), "arn", &o.arn);
    }
    for a in observed
        .pod_identity_associations
        .iter()
        .filter(|a| a.owner_arn.is_none())
    {
        put(owned_id(&a.tags, cluster), "id", &a.association_id);
    }
    if let Some(c) = observed.owned_cluster(cluster) {
        put(Some("cluster"), "arn", &c.arn);
        if let Some(issuer) = &c.oidc_issuer {
            put(Some("cluster"), "issuer", issuer);
        }
        if let Some(group) = &c.cluster_security_group_id {
            put(Some("cluster"), "security-group", group);
        }
        // What a custom AMI's nodes join with (their launch template's user data).
        for (name, value) in [
            ("endpoint", &c.endpoint),
            ("certificate-authority", &c.certificate_authority),
            ("service-cidr", &c.service_cidr),
        ] {
            if let Some(value) = value {
                put(Some("cluster"), name, value);
            }
        }
    }
    outputs
}

/// The plan that makes AWS match `file`.
pub fn plan(file: &ClusterFile, observed: &Observed) -> Plan {
    let zones = match &file.spec.vpc.availability_zones {
        Some(zones) => zones.clone(),
        None => {
            let count = usize::from(file.spec.vpc.zone_count.unwrap_or(DEFAULT_ZONE_COUNT));
            // Zones already in use keep their place, so a plan never moves subnets.
            let mut used: Vec<String> = observed
                .network
                .subnets
                .iter()
                .filter(|s| owned_id(&s.tags, &file.metadata.name).is_some())
                .map(|s| s.availability_zone.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            for zone in &observed.zones {
                if used.len() >= count {
                    break;
                }
                if !used.contains(zone) {
                    used.push(zone.clone());
                }
            }
            used.sort();
            used
        }
    };
    let mut p = Planning {
        file: Some(file),
        observed,
        zones,
        cluster: file.metadata.name.clone(),
        changes: Vec::new(),
        desired: BTreeSet::new(),
        outputs: existing_outputs(observed, &file.metadata.name),
        rebinding: BTreeSet::new(),
        warnings: Vec::new(),
    };
    network::plan(&mut p);
    iam::plan(&mut p);
    cluster::plan(&mut p);
    karpenter::plan(&mut p);
    nodegroup::plan(&mut p);
    fargate::plan(&mut p);
    iam::plan_service_accounts(&mut p);
    addon::plan(&mut p);
    pod_identity::plan(&mut p);
    access::plan(&mut p);
    access::plan_role_entries(&mut p);
    karpenter_interruption::plan(&mut p);
    upgrade::plan(&mut p);
    addon::order(&mut p.changes);
    pod_identity::order(&mut p);
    adopt::merge(&mut p.changes, &file.metadata.name, observed);
    finish(p, &file.metadata.region)
}

/// The plan that deletes everything the cluster `name` owns.
pub fn plan_delete(name: &str, region: &str, observed: &Observed) -> Plan {
    let p = Planning {
        file: None,
        observed,
        zones: Vec::new(),
        cluster: name.to_owned(),
        changes: Vec::new(),
        desired: BTreeSet::new(),
        outputs: existing_outputs(observed, name),
        rebinding: BTreeSet::new(),
        warnings: Vec::new(),
    };
    if let Some(live) = observed
        .owned_cluster(name)
        .filter(|c| c.deletion_protection)
    {
        // EKS refuses DeleteCluster while protection is on; deleting the rest first would
        // leave a cluster without its network and roles.
        let mut p = p;
        p.push(
            Change::new("cluster", ChangeKind::Impossible, Vec::new())
                .id(&live.name)
                .reason(format!(
                    "deletion protection is on for cluster {name}: nothing was deleted; set `deletionProtection: false` in the spec, run `ekspec apply`, then delete again"
                )),
        );
        return Plan {
            cluster: p.cluster,
            region: region.to_owned(),
            changes: p.changes,
            warnings: p.warnings,
        };
    }
    finish(p, region)
}

fn finish(mut p: Planning<'_>, region: &str) -> Plan {
    plan_deletes(&mut p, region);
    order_deletes(&mut p.changes);
    let mut changes = p.changes;
    changes.sort_by_key(|c| (rank(&c.resource), c.resource.clone()));
    // EKS runs one Fargate profile operation at a time per cluster.
    let mut previous: Option<String> = None;
    for change in changes
        .iter_mut()
        .filter(|c| c.resource.starts_with("fargate-profile/"))
    {
        if let Some(previous) = previous.replace(change.resource.clone()) {
            change.after.push(previous);
        }
    }
    Plan {
        cluster: p.cluster,
        region: region.to_owned(),
        changes,
        warnings: p.warnings,
    }
}

/// Deletes of owned resources that the spec no longer wants.
fn plan_deletes(p: &mut Planning<'_>, region: &str) {
    let mut deletes: Vec<Change> = Vec::new();
    let observed = p.observed;
    let mut ec2 = |resource: Option<&str>, id: &str, p: &Planning<'_>| {
        if let Some(resource) = resource.filter(|r| !p.desired.contains(*r)) {
            deletes.push(
                Change::new(
                    resource,
                    ChangeKind::Delete,
                    network::delete_operations(p, resource, id),
                )
                .id(id),
            );
        }
    };
    let net = &observed.network;
    for v in &net.vpcs {
        ec2(p.owned(&v.tags), &v.id, p);
    }
    for s in &net.subnets {
        ec2(p.owned(&s.tags), &s.id, p);
    }
    for g in &net.internet_gateways {
        ec2(p.owned(&g.tags), &g.id, p);
    }
    for a in &net.addresses {
        ec2(p.owned(&a.tags), &a.allocation_id, p);
    }
    for t in &net.route_tables {
        ec2(p.owned(&t.tags), &t.id, p);
    }
    for t in &net.launch_templates {
        ec2(p.owned(&t.tags), &t.id, p);
    }
    for g in &net.egress_only_internet_gateways {
        ec2(p.owned(&g.tags), &g.id, p);
    }
    for g in &net.security_groups {
        ec2(p.owned(&g.tags), &g.id, p);
    }
    // NAT gateways: a failed one goes with the live one of its name (or alone), so a deleted
    // cluster leaves none behind (AWS would remove it itself only within the hour).
    let mut nats: BTreeMap<&str, Vec<&ObservedNatGateway>> = BTreeMap::new();
    for n in net.nat_gateways.iter().filter(|n| n.state != "deleting") {
        if let Some(resource) = p.owned(&n.tags).filter(|r| !p.desired.contains(*r)) {
            nats.entry(resource).or_default().push(n);
        }
    }
    // An adopted security group's rules that name other groups go before the cluster: they
    // would keep EKS from deleting its cluster security group, and the groups they name.
    for g in &net.security_groups {
        if let Some(resource) = p.owned(&g.tags).filter(|r| !p.desired.contains(*r))
            && !g.group_rules.is_empty()
        {
            let rules =
                resource.replacen("security-group/", &format!("{}/", network::GROUP_RULES), 1);
            deletes.push(
                Change::new(
                    &rules,
                    ChangeKind::Delete,
                    vec![Operation::RevokeGroupRules {
                        group: g.id.clone(),
                        rules: g.group_rules.clone(),
                    }],
                )
                .id(&g.id)
                .fields(
                    g.group_rules
                        .iter()
                        .map(|r| crate::plan::FieldChange {
                            field: format!(
                                "{} {}",
                                if r.ingress {
                                    "ingress from"
                                } else {
                                    "egress to"
                                },
                                r.group_id
                            ),
                            old: Some(match (r.protocol.as_str(), r.from_port, r.to_port) {
                                ("-1", _, _) => "all traffic".to_owned(),
                                (protocol, Some(from), Some(to)) if from != to => {
                                    format!("{protocol} {from}-{to}")
                                }
                                (protocol, Some(port), _) => format!("{protocol} {port}"),
                                (protocol, None, _) => protocol.to_owned(),
                            }),
                            new: None,
                        })
                        .collect(),
                ),
            );
        }
    }
    for (resource, mut gateways) in nats {
        gateways.sort_by_key(|n| n.state == "failed");
        let operations = gateways
            .iter()
            .flat_map(|n| network::delete_operations(p, resource, &n.id))
            .collect();
        deletes.push(Change::new(resource, ChangeKind::Delete, operations).id(&gateways[0].id));
    }
    for role in &observed.roles {
        if let Some(resource) = p.owned(&role.tags).filter(|r| !p.desired.contains(*r)) {
            let mut operations = Vec::new();
            // EKS leaves the node role in the instance profiles Auto Mode made for it, after
            // the cluster is gone too (aws/containers-roadmap#2531).
            if resource == auto_mode::NODE_ROLE {
                operations.push(Operation::DeleteAutoModeInstanceProfiles {
                    role: role.name.clone(),
                });
            }
            operations.push(Operation::DeleteRole {
                name: role.name.clone(),
            });
            deletes.push(Change::new(resource, ChangeKind::Delete, operations).id(&role.name));
        }
    }
    for provider in &observed.oidc_providers {
        if let Some(resource) = p.owned(&provider.tags).filter(|r| !p.desired.contains(*r)) {
            deletes.push(
                Change::new(
                    resource,
                    ChangeKind::Delete,
                    vec![Operation::DeleteOidcProvider {
                        arn: provider.arn.clone(),
                    }],
                )
                .id(&provider.arn),
            );
        }
    }
    for group in &observed.node_groups {
        if let Some(resource) = p.owned(&group.tags).filter(|r| !p.desired.contains(*r)) {
            deletes.push(
                Change::new(
                    resource,
                    ChangeKind::Delete,
                    vec![Operation::DeleteNodeGroup {
                        cluster: p.cluster.clone(),
                        name: group.name.clone(),
                        replaced_by: None,
                    }],
                )
                .id(&group.name),
            );
        }
    }
    for profile in &observed.fargate_profiles {
        if let Some(resource) = p.owned(&profile.tags).filter(|r| !p.desired.contains(*r)) {
            deletes.push(
                Change::new(
                    resource,
                    ChangeKind::Delete,
                    vec![Operation::DeleteFargateProfile {
                        cluster: p.cluster.clone(),
                        name: profile.name.clone(),
                    }],
                )
                .id(&profile.name),
            );
        }
    }
    // Add-ons, Pod Identity associations and access entries go with the cluster when it is
    // deleted.
    if p.file.is_some() {
        for addon in &observed.addons {
            if let Some(resource) = p.owned(&addon.tags).filter(|r| !p.desired.contains(*r)) {
                deletes.push(
                    Change::new(
                        resource,
                        ChangeKind::Delete,
                        vec![Operation::DeleteAddon {
                            cluster: p.cluster.clone(),
                            name: addon.name.clone(),
                        }],
                    )
                    .id(&addon.name),
                );
            }
        }
        for association in observed
            .pod_identity_associations
            .iter()
            .filter(|a| a.owner_arn.is_none())
        {
            let Some(resource) = p
                .owned(&association.tags)
                .filter(|r| !p.desired.contains(*r))
            else {
                continue;
            };
            // An account moving back to IRSA: its role's change deletes the association
            // between its trust updates.
            let role = resource.replacen("pod-identity/", "role/irsa/", 1);
            if p.is_rebinding(&role) {
                continue;
            }
            deletes.push(
                Change::new(
                    resource,
                    ChangeKind::Delete,
                    vec![Operation::DeletePodIdentityAssociation {
                        cluster: p.cluster.clone(),
                        association_id: association.association_id.clone(),
                    }],
                )
                .id(&association.association_id),
            );
        }
        for entry in &observed.access_entries {
            if let Some(resource) = p.owned(&entry.tags).filter(|r| !p.desired.contains(*r)) {
                deletes.push(
                    Change::new(
                        resource,
                        ChangeKind::Delete,
                        vec![Operation::DeleteAccessEntry {
                            cluster: p.cluster.clone(),
                            principal: entry.principal_arn.clone(),
                        }],
                    )
                    .id(&entry.principal_arn),
                );
            }
        }
    }
    if let Some(cluster) = observed.owned_cluster(&p.cluster)
        && !p.desired.contains("cluster")
    {
        deletes.push(
            Change::new(
                "cluster",
                ChangeKind::Delete,
                vec![Operation::DeleteCluster {
                    name: cluster.name.clone(),
                }],
            )
            .id(&cluster.name),
        );
    }
    deletes.extend(karpenter_interruption::deletes(p));
    // Node groups replaced by a newer generation are deleted by their replace change.
    deletes.retain(|d| !p.changes.iter().any(|c| c.resource == d.resource));
    let leftovers: Vec<Change> = deletes
        .iter()
        .filter(|d| d.resource == "vpc")
        .filter_map(|d| network::leftovers_change(p, d.physical_id.as_deref()?))
        .collect();
    // Karpenter's instances go once its controller can no longer launch more (its role's
    // policies are gone), before what they block.
    let karpenter_leftovers = karpenter::leftovers_change(p, region).map(|change| {
        let controller = deletes
            .iter()
            .filter(|d| d.resource == karpenter::CONTROLLER_ROLE)
            .map(|d| d.resource.clone());
        change.after(controller)
    });
    p.changes.extend(deletes);
    p.changes.extend(leftovers);
    p.changes.extend(karpenter_leftovers);
}

/// The kinds whose deletes (and replacements) must finish before a kind can be deleted.
fn delete_after(resource: &str) -> &'static [&'static str] {
    let kind = resource.split('/').next().unwrap_or_default();
    match kind {
        "launch-template" => &["nodegroup"],
        // Karpenter's instances use the cluster security group EKS deletes with the cluster.
        "cluster" => &[
            "nodegroup",
            "fargate-profile",
            KARPENTER_LEFTOVERS,
            network::GROUP_RULES,
        ],
        network::GROUP_RULES => &["nodegroup", "fargate-profile"],
        // Instances and the control plane's interfaces use it until they are gone.
        "security-group" => &[
            "cluster",
            "nodegroup",
            "fargate-profile",
            KUBERNETES_LEFTOVERS,
            KARPENTER_LEFTOVERS,
            network::GROUP_RULES,
        ],
        "role" if resource == "role/cluster" => &["cluster"],
        // Karpenter's instance profiles hold the role until they are deleted.
        "role" if resource == karpenter::NODE_ROLE => &[KARPENTER_LEFTOVERS],
        "role" if resource == "role/node" => &["nodegroup"],
        // Auto Mode's instances use the role until the cluster's update (or delete) is done.
        "role" if resource == auto_mode::NODE_ROLE => &["cluster"],
        "role" if resource == "role/fargate" => &["fargate-profile"],
        // An add-on or an association may still use the role (until deleted or updated).
        "role" if resource.starts_with("role/irsa/") => &["addon", "pod-identity"],
        "role" => &["pod-identity"],
        // The roles' trust updates that stop using the provider come first: a switch to Pod
        // Identity still names it in its first step (trust both), and IRSA pods keep using it
        // until the association is made.
        "oidc-provider" => &["role"],
        // Nodes and Fargate pods need the NAT gateway until they are gone; the control plane's
        // deletion does not, so both take their minutes at once.
        "nat-gateway" => &["nodegroup", "fargate-profile", "route"],
        "eip" => &["nat-gateway"],
        "route-table" => &["route", "nat-gateway"],
        // Nothing in the cluster may recreate a load balancer once it is deleted.
        KUBERNETES_LEFTOVERS => &["cluster", "nodegroup", "fargate-profile"],
        // EventBridge would keep sending to a deleted queue: the rules go first.
        "queue" => &["event-rule"],
        // A load balancer's interfaces block its subnets.
        "subnet" => &[
            "cluster",
            "nodegroup",
            "fargate-profile",
            "nat-gateway",
            "route-table",
            KUBERNETES_LEFTOVERS,
            KARPENTER_LEFTOVERS,
        ],
        // Not after the Kubernetes leftovers: their load balancers' addresses block the
        // detach until AWS removes their interfaces, minutes after the delete, so the detach
        // is retried anyway; the gateway goes while they are read and deleted.
        "internet-gateway" => &["nat-gateway", "eip", "cluster", "nodegroup"],
        // Nodes and Fargate pods send IPv6 out through it until they are gone; the routes to
        // it go with their tables.
        "egress-only-internet-gateway" => &["nodegroup", "fargate-profile", "route-table"],
        "vpc" => &[
            KUBERNETES_LEFTOVERS,
            KARPENTER_LEFTOVERS,
            "subnet",
            "internet-gateway",
            "route-table",
            "nat-gateway",
            "eip",
            "cluster",
            "nodegroup",
            "fargate-profile",
            "egress-only-internet-gateway",
            "security-group",
        ],
        _ => &[],
    }
}

fn order_deletes(changes: &mut [Change]) {
    let deleting: Vec<(String, ChangeKind)> = changes
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                ChangeKind::Delete | ChangeKind::Replace | ChangeKind::Update
            )
        })
        .map(|c| (c.resource.clone(), c.kind))
        .collect();
    for change in changes.iter_mut().filter(|c| c.kind == ChangeKind::Delete) {
        let before = delete_after(&change.resource);
        for (resource, kind) in &deleting {
            let resource_kind = resource.split('/').next().unwrap_or_default();
            // Route updates (re-pointing away from a NAT), add-on updates (releasing a role)
            // and role updates (trusts dropping the OIDC provider) count; others do not.
            // So does the cluster's update turning Auto Mode off, for Auto Mode's node role.
            let relevant = *kind != ChangeKind::Update
                || matches!(resource_kind, "route" | "addon" | "role")
                || (resource_kind == "cluster" && change.resource == auto_mode::NODE_ROLE);
            if relevant
                && resource != &change.resource
                && before.contains(&resource_kind)
                && !change.after.contains(resource)
            {
                change.after.push(resource.clone());
            }
        }
    }
}

/// Display order: network, IAM, control plane, compute, IRSA.
fn rank(resource: &str) -> u8 {
    match resource.split('/').next().unwrap_or_default() {
        "vpc" | "existing-subnet" | KUBERNETES_LEFTOVERS | KARPENTER_LEFTOVERS => 0,
        "internet-gateway" => 1,
        "subnet" => 2,
        "eip" => 3,
        "nat-gateway" => 4,
        "route-table" => 5,
        "route" | "egress-only-internet-gateway" | "ipv6-route" | "security-group" => 6,
        network::GROUP_RULES => 6,
        "role" if resource.starts_with("role/irsa/") => 13,
        "role" => 7,
        "cluster" => 8,
        "oidc-provider" => 9,
        "launch-template" => 10,
        "nodegroup" => 11,
        "fargate-profile" => 12,
        "addon" => 14,
        "pod-identity" => 15,
        "access-entry" => 16,
        "queue" => 17,
        "event-rule" => 18,
        _ => 19,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{ObservedNetwork, ObservedVpc};
    use crate::naming::{CLUSTER_TAG, RESOURCE_TAG};
    use crate::plan::ChangeKind;

    fn spec(text: &str) -> ClusterFile {
        let report = crate::spec::parse_str("t.yaml", text);
        report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics))
    }

    const DEMO: &str = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {availabilityZones: [us-east-1a, us-east-1b], natGateway: single}\n  nodeGroups: [{name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}]\n  serviceAccounts: [{name: dns, namespace: kube-system, policyArns: ['arn:aws:iam::aws:policy/AmazonRoute53FullAccess']}]\n";

    fn owned(resource: &str) -> Tags {
        Tags::from([
            (CLUSTER_TAG.to_owned(), "demo".to_owned()),
            (RESOURCE_TAG.to_owned(), resource.to_owned()),
        ])
    }

    #[test]
    fn a_new_cluster_is_all_creates_and_the_control_plane_never_waits_for_nat() {
        let plan = plan(&spec(DEMO), &Observed::default());
        let resources: Vec<&str> = plan.changes.iter().map(|c| c.resource.as_str()).collect();
        for expected in [
            "vpc",
            "internet-gateway",
            "subnet/public-us-east-1a",
            "subnet/private-us-east-1b",
            "eip/us-east-1a",
            "nat-gateway/us-east-1a",
            "route-table/public",
            "route-table/private-us-east-1b",
            "route/private-us-east-1b",
            "role/cluster",
            "role/node",
            "cluster",
            "nodegroup/system",
            "oidc-provider",
            "role/irsa/kube-system/dns",
        ] {
            assert!(
                resources.contains(&expected),
                "missing {expected} in {resources:?}"
            );
        }
        assert!(plan.changes.iter().all(|c| c.kind == ChangeKind::Create));
        let cluster = plan
            .changes
            .iter()
            .find(|c| c.resource == "cluster")
            .unwrap();
        assert!(
            !cluster
                .after
                .iter()
                .any(|a| a.starts_with("nat-gateway") || a.starts_with("route/")),
            "{:?}",
            cluster.after
        );
        let group = plan
            .changes
            .iter()
            .find(|c| c.resource == "nodegroup/system")
            .unwrap();
        assert!(
            group.after.contains(&"route/private-us-east-1a".to_owned()),
            "{:?}",
            group.after
        );
        // Both private tables route through the single NAT gateway.
        let route = plan
            .changes
            .iter()
            .find(|c| c.resource == "route/private-us-east-1b")
            .unwrap();
        assert!(route.after.contains(&"nat-gateway/us-east-1a".to_owned()));
    }

    #[test]
    fn an_ipv6_cluster_gets_a_dual_stack_network_and_the_cni_ipv6_policy() {
        let file = spec(&DEMO.replace("  vpc:", "  ipFamily: ipv6\n  vpc:"));
        let plan = plan(&file, &Observed::default());
        let change = |resource: &str| {
            plan.changes
                .iter()
                .find(|c| c.resource == resource)
                .unwrap_or_else(|| panic!("no {resource}"))
        };
        assert!(matches!(
            change("vpc").operations[..],
            [
                Operation::CreateVpc { .. },
                Operation::AssociateVpcIpv6Cidr { .. }
            ]
        ));
        // The subnet's /64 is numbered as its IPv4 block: private ones after the public ones.
        assert!(change("subnet/private-us-east-1b").operations.iter().any(|op| matches!(
            op,
            Operation::EnableSubnetIpv6 { vpc_block: Some(Ref::Output(block)), index: 3, .. }
                if block == "vpc.ipv6-cidr"
        )));
        assert!(matches!(
            change("ipv6-route/private-us-east-1a").operations[..],
            [Operation::SetDefaultIpv6Route {
                egress_only_internet_gateway: Some(_),
                ..
            }]
        ));
        assert!(matches!(
            change("ipv6-route/public").operations[..],
            [Operation::SetDefaultIpv6Route {
                internet_gateway: Some(_),
                ..
            }]
        ));
        assert!(
            change("nodegroup/system")
                .after
                .contains(&"ipv6-route/private-us-east-1a".to_owned())
        );
        assert!(matches!(
            &change("cluster").operations[..],
            [Operation::CreateCluster { ip_family: Some(family), .. }] if family == "ipv6"
        ));
        let [
            Operation::CreateRole {
                policies,
                inline: Some(inline),
                ..
            },
        ] = &change("role/node").operations[..]
        else {
            panic!("{:?}", change("role/node").operations);
        };
        assert!(
            !policies
                .iter()
                .any(|p| p.ends_with("/AmazonEKS_CNI_Policy")),
            "{policies:?}"
        );
        assert!(inline.to_string().contains("ec2:AssignIpv6Addresses"));
        // An IPv4 cluster's create is as before: no IP family sent, no IPv6 pieces.
        let plan4 = super::plan(&spec(DEMO), &Observed::default());
        assert!(
            plan4
                .changes
                .iter()
                .all(|c| !c.resource.contains("ipv6")
                    && c.resource != "egress-only-internet-gateway")
        );
        assert!(plan4.changes.iter().any(|c| matches!(
            &c.operations[..],
            [Operation::CreateCluster {
                ip_family: None,
                ..
            }]
        )));
    }

    #[test]
    fn nat_gateways_are_deleted_with_the_control_plane_after_the_nodes() {
        let delete = |resource: &str| Change::new(resource, ChangeKind::Delete, Vec::new());
        let mut changes = vec![
            delete("nat-gateway/us-east-1a"),
            delete("cluster"),
            delete("nodegroup/system"),
            delete("fargate-profile/batch"),
            delete("subnet/private-us-east-1a"),
        ];
        order_deletes(&mut changes);
        let after = |resource: &str| {
            changes
                .iter()
                .find(|c| c.resource == resource)
                .map(|c| c.after.clone())
                .unwrap()
        };
        assert_eq!(
            after("nat-gateway/us-east-1a"),
            ["nodegroup/system", "fargate-profile/batch"]
        );
        assert_eq!(
            after("cluster"),
            ["nodegroup/system", "fargate-profile/batch"]
        );
        // The subnets still go last.
        for before in ["nat-gateway/us-east-1a", "cluster", "nodegroup/system"] {
            assert!(after("subnet/private-us-east-1a").contains(&before.to_owned()));
        }
    }

    #[test]
    fn a_changed_vpc_cidr_is_impossible() {
        let observed = Observed {
            network: ObservedNetwork {
                vpcs: vec![ObservedVpc {
                    id: "vpc-1".into(),
                    cidr: "10.9.0.0/16".into(),
                    tags: owned("vpc"),
                    ipv6_cidr: None,
                }],
                ..ObservedNetwork::default()
            },
            ..Observed::default()
        };
        let plan = plan(&spec(DEMO), &observed);
        let vpc = plan.changes.iter().find(|c| c.resource == "vpc").unwrap();
        assert_eq!(vpc.kind, ChangeKind::Impossible);
        assert_eq!(vpc.fields[0].old.as_deref(), Some("10.9.0.0/16"));
    }

    #[test]
    fn delete_waits_for_dependents() {
        let observed = Observed {
            network: ObservedNetwork {
                vpcs: vec![ObservedVpc {
                    id: "vpc-1".into(),
                    cidr: "10.0.0.0/16".into(),
                    tags: owned("vpc"),
                    ipv6_cidr: None,
                }],
                subnets: vec![crate::cloud::ObservedSubnet {
                    id: "subnet-1".into(),
                    vpc_id: "vpc-1".into(),
                    cidr: "10.0.0.0/18".into(),
                    availability_zone: "us-east-1a".into(),
                    map_public_ip_on_launch: true,
                    tags: owned("subnet/public-us-east-1a"),
                    ipv6_cidr: None,
                    assign_ipv6_address_on_creation: false,
                }],
                ..ObservedNetwork::default()
            },
            ..Observed::default()
        };
        let plan = plan_delete("demo", "us-east-1", &observed);
        assert_eq!(plan.summary().delete, 3);
        let vpc = plan.changes.iter().find(|c| c.resource == "vpc").unwrap();
        assert!(vpc.after.contains(&"subnet/public-us-east-1a".to_owned()));
        let subnet = plan
            .changes
            .iter()
            .find(|c| c.resource == "subnet/public-us-east-1a")
            .unwrap();
        assert_eq!(subnet.after, [KUBERNETES_LEFTOVERS]);
        let leftovers = plan
            .changes
            .iter()
            .find(|c| c.resource == KUBERNETES_LEFTOVERS)
            .unwrap();
        assert_eq!(leftovers.physical_id.as_deref(), Some("vpc-1"));
        assert!(leftovers.after.is_empty());
    }

    #[test]
    fn an_upgrade_does_not_repeat_an_add_on_version_an_earlier_step_reached() {
        let file = spec(
            &DEMO
                .replace(
                    "{availabilityZones: [us-east-1a, us-east-1b], natGateway: single}",
                    "{id: vpc-0123abcd, subnets: {private: [subnet-0123abcd, subnet-4567abcd]}}",
                )
                .replace(
                    "  serviceAccounts",
                    "  addons: [{name: vpc-cni}]\n  serviceAccounts",
                ),
        );
        let subnet = |id: &str, zone: &str| crate::cloud::ObservedSubnet {
            id: id.into(),
            vpc_id: "vpc-0123abcd".into(),
            cidr: "10.0.0.0/18".into(),
            availability_zone: zone.into(),
            map_public_ip_on_launch: false,
            tags: Tags::new(),
            ipv6_cidr: None,
            assign_ipv6_address_on_creation: false,
        };
        let observed = Observed {
            cluster: Some(crate::cloud::ObservedCluster {
                name: "demo".into(),
                arn: "arn:aws:eks:us-east-1:1:cluster/demo".into(),
                status: "ACTIVE".into(),
                version: "1.29".into(),
                role_arn: String::new(),
                subnet_ids: vec!["subnet-0123abcd".into(), "subnet-4567abcd".into()],
                vpc_id: None,
                cluster_security_group_id: None,
                endpoint_public_access: true,
                endpoint_private_access: true,
                public_access_cidrs: Vec::new(),
                enabled_log_types: Vec::new(),
                encryption_key_arn: None,
                authentication_mode: Some("API_AND_CONFIG_MAP".into()),
                oidc_issuer: None,
                endpoint: None,
                certificate_authority: None,
                tags: owned("cluster"),
                auto_mode: None,
                ip_family: None,
                service_cidr: None,
                ..Default::default()
            }),
            addons: vec![crate::cloud::ObservedAddon {
                name: "vpc-cni".into(),
                arn: "arn:aws:eks:us-east-1:1:addon/demo/vpc-cni/1".into(),
                version: "v1.18.3-eksbuild.1".into(),
                status: "ACTIVE".into(),
                service_account_role_arn: None,
                configuration_values: None,
                health_issues: Vec::new(),
                pod_identity_associations: Vec::new(),
                tags: owned("addon/vpc-cni"),
            }],
            existing_vpc: Some(ObservedVpc {
                id: "vpc-0123abcd".into(),
                cidr: "10.0.0.0/16".into(),
                tags: Tags::new(),
                ipv6_cidr: None,
            }),
            existing_subnets: vec![
                subnet("subnet-0123abcd", "us-east-1a"),
                subnet("subnet-4567abcd", "us-east-1b"),
            ],
            // EKS's default is the same for 1.30 and 1.31.
            addon_defaults: [
                ("1.29", "v1.18.3-eksbuild.1"),
                ("1.30", "v1.19.0-eksbuild.1"),
                ("1.31", "v1.19.0-eksbuild.1"),
            ]
            .into_iter()
            .map(|(k8s, v)| (("vpc-cni".to_owned(), k8s.to_owned()), Some(v.to_owned())))
            .collect(),
            ..Observed::default()
        };
        let plan = plan(&file, &observed);
        let step = plan
            .changes
            .iter()
            .find(|c| c.resource == "addon/vpc-cni/version-1.30")
            .unwrap_or_else(|| {
                panic!(
                    "{:#?}",
                    plan.changes
                        .iter()
                        .map(|c| (&c.resource, c.kind, &c.reason))
                        .collect::<Vec<_>>()
                )
            });
        assert_eq!(step.fields[0].new.as_deref(), Some("v1.19.0-eksbuild.1"));
        // The add-on's own change only retags it: the version is already there.
        let last = plan
            .changes
            .iter()
            .find(|c| c.resource == "addon/vpc-cni")
            .unwrap();
        assert!(
            last.fields.iter().all(|f| f.field.starts_with("tags."))
                && last
                    .operations
                    .iter()
                    .all(|op| matches!(op, Operation::TagEks { .. })),
            "{last:#?}"
        );
    }
}
