//! The VPC, subnets, internet gateway, NAT gateways with their Elastic IPs, route tables and
//! default routes; or, with a BYO VPC, only the Kubernetes tags of its subnets.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use crate::cloud::{AvailabilityZone, Ec2Kind, RouteTarget, Tags};
use crate::naming::{KARPENTER_DISCOVERY_TAG, kubernetes_cluster_tag};
use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::{DEFAULT_VPC_CIDR, IpFamily, NatGatewayMode, validate::subnet_prefix};

use super::karpenter::{discovery_tag, untag_change};
use super::planner::Planning;
use super::{owned_tags, tag_drift};

/// Logical id of the subnet of `tier` (`public` / `private`) in `zone`.
pub fn subnet_id(tier: &str, zone: &str) -> String {
    format!("subnet/{tier}-{zone}")
}

/// Zone ids EKS refuses for control planes (`UnsupportedAvailabilityZoneException` at
/// CreateCluster: "Cannot create cluster 'x' because us-east-1e, the targeted availability
/// zone, does not currently have sufficient capacity to support the cluster"), as eksctl
/// avoids them (eksctl pkg/az `zoneIDsToAvoid`; eksctl#817, #905). Ids, not names: a zone's
/// name maps to a different physical zone in each account.
const ZONE_IDS_EKS_REFUSES: [&str; 4] = ["use1-az3", "usw1-az2", "cac1-az3", "cnn1-az4"];

/// The zones a default network may use: availability zones (not the Local or Wavelength
/// Zones the account opted in to, which EKS control planes cannot use) that EKS takes.
pub fn eks_zones(zones: &[AvailabilityZone]) -> Vec<String> {
    zones
        .iter()
        .filter(|z| z.kind == "availability-zone" && !ZONE_IDS_EKS_REFUSES.contains(&z.id.as_str()))
        .map(|z| z.name.clone())
        .collect()
}

/// Tags Kubernetes needs on a subnet to place load balancers.
pub fn kubernetes_subnet_tags(cluster: &str, public: bool) -> Tags {
    let mut tags = Tags::new();
    tags.insert(kubernetes_cluster_tag(cluster), "shared".to_owned());
    let role = if public {
        "kubernetes.io/role/elb"
    } else {
        "kubernetes.io/role/internal-elb"
    };
    tags.insert(role.to_owned(), "1".to_owned());
    tags
}

/// The tags ekspec gives a subnet it makes or uses for nodes: the Kubernetes ones, and on
/// private subnets of a cluster with Karpenter the discovery tag its `EC2NodeClass` selects
/// them by.
pub fn node_subnet_tags(cluster: &str, public: bool, karpenter: bool) -> Tags {
    let mut tags = kubernetes_subnet_tags(cluster, public);
    if karpenter && !public {
        tags.extend(discovery_tag(cluster));
    }
    tags
}

/// Plans the network.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    if let Some(vpc_id) = &file.spec.vpc.id {
        plan_existing(p, vpc_id);
        keep_adopted(p, vpc_id);
        return;
    }
    let cluster = file.metadata.name.clone();
    let karpenter = file.spec.karpenter.is_some();
    let zones = p.zones.clone();
    let cidr_text = file
        .spec
        .vpc
        .cidr
        .clone()
        .unwrap_or_else(|| DEFAULT_VPC_CIDR.to_owned());
    let Ok(cidr) = cidr_text.parse::<Ipv4Net>() else {
        return;
    };
    let no_tags = Tags::new();
    let ipv6 = file.spec.ip_family == IpFamily::Ipv6;

    // VPC: its CIDR can never change.
    let vpc_tags = owned_tags(file, "vpc", &no_tags);
    p.desire("vpc");
    match p.observed.network.vpcs.iter().find(|v| p.owned(&v.tags) == Some("vpc")) {
        None => {
            let mut operations = vec![Operation::CreateVpc {
                cidr: cidr.to_string(),
                tags: vpc_tags,
            }];
            if ipv6 {
                operations.push(Operation::AssociateVpcIpv6Cidr { vpc: Ref::output("vpc", "id") });
            }
            p.push(Change::new("vpc", ChangeKind::Create, operations));
        }
        Some(live) if live.cidr != cidr.to_string() => p.push(
            Change::new("vpc", ChangeKind::Impossible, Vec::new())
                .id(&live.id)
                .fields(vec![FieldChange::new("spec.vpc.cidr", &live.cidr, cidr)])
                .reason("a VPC's CIDR cannot change: keep the old CIDR, or create a new cluster with the new one"),
        ),
        // An IPv6 cluster's VPC without its block (made before spec.ipFamily said ipv6, or a
        // run stopped between the two calls) gets one: AWS adds it in place.
        Some(live) if ipv6 && live.ipv6_cidr.is_none() => {
            let (missing, mut fields) = tag_drift(&live.tags, &vpc_tags);
            let mut operations = Vec::new();
            if !missing.is_empty() {
                operations.push(Operation::TagEc2 { ids: vec![Ref::Value(live.id.clone())], tags: missing });
            }
            operations.push(Operation::AssociateVpcIpv6Cidr { vpc: Ref::Value(live.id.clone()) });
            fields.push(FieldChange { field: "ipv6Cidr".to_owned(), old: None, new: Some(AMAZON_IPV6_BLOCK.to_owned()) });
            p.push(Change::new("vpc", ChangeKind::Update, operations).id(&live.id).fields(fields));
        }
        Some(live) => p.retag("vpc", &live.id, &live.tags, &vpc_tags),
    }

    if ipv6 {
        plan_egress_only_gateway(p, file);
    }

    // Internet gateway, attached to the VPC.
    let igw_tags = owned_tags(file, "internet-gateway", &no_tags);
    p.desire("internet-gateway");
    match p
        .observed
        .network
        .internet_gateways
        .iter()
        .find(|g| p.owned(&g.tags) == Some("internet-gateway"))
    {
        None => p.push(
            Change::new(
                "internet-gateway",
                ChangeKind::Create,
                vec![Operation::CreateInternetGateway {
                    vpc: Ref::output("vpc", "id"),
                    tags: igw_tags,
                }],
            )
            .after(["vpc"]),
        ),
        Some(live) => p.retag("internet-gateway", &live.id, &live.tags, &igw_tags),
    }

    // Subnets: a public and a private one per zone, carved evenly from the VPC.
    let prefix = subnet_prefix(cidr.prefix_len(), zones.len());
    let blocks: Vec<Ipv4Net> = cidr
        .subnets(prefix)
        .map(Iterator::collect)
        .unwrap_or_default();
    for (tier, public, offset) in [("public", true, 0), ("private", false, zones.len())] {
        for (i, zone) in zones.iter().enumerate() {
            let Some(block) = blocks.get(offset + i) else {
                continue;
            };
            let id = subnet_id(tier, zone);
            let table = route_table_id(public, zone);
            p.desire(&id);
            let tags = owned_tags(file, &id, &node_subnet_tags(&cluster, public, karpenter));
            let associate = Operation::AssociateRouteTable {
                table: Ref::output(&table, "id"),
                subnet: Ref::output(&id, "id"),
            };
            // The subnet's IPv6 block: the /64 of the VPC's block with its IPv4 block's number.
            let index = u32::try_from(offset + i).unwrap_or(u32::MAX);
            let enable_ipv6 = |subnet: Ref, has_block: bool| Operation::EnableSubnetIpv6 {
                subnet,
                vpc_block: (!has_block).then(|| Ref::output("vpc", "ipv6-cidr")),
                index,
            };
            match p.observed.network.subnets.iter().find(|s| p.owned(&s.tags) == Some(id.as_str())) {
                None => {
                    let mut operations = vec![Operation::CreateSubnet {
                        vpc: Ref::output("vpc", "id"),
                        cidr: block.to_string(),
                        zone: zone.clone(),
                        public,
                        tags,
                    }];
                    if ipv6 {
                        operations.push(enable_ipv6(Ref::output(&id, "id"), false));
                    }
                    operations.push(associate);
                    p.push(Change::new(&id, ChangeKind::Create, operations).after(["vpc".to_owned(), table]));
                }
                Some(live) if live.cidr != block.to_string() || &live.availability_zone != zone => p.push(
                    Change::new(&id, ChangeKind::Impossible, Vec::new())
                        .id(&live.id)
                        .fields(vec![FieldChange::new("cidr", &live.cidr, block)])
                        .reason("subnets cannot be resized or moved; the VPC CIDR or zones changed: restore them"),
                ),
                Some(live) => {
                    let associated = p.observed.network.route_tables.iter().any(|t| {
                        p.owned(&t.tags) == Some(table.as_str())
                            && t.associations.iter().any(|(_, subnet)| subnet == &live.id)
                    });
                    let (missing, mut fields) = tag_drift(&live.tags, &tags);
                    let mut operations = Vec::new();
                    if !missing.is_empty() {
                        operations.push(Operation::TagEc2 { ids: vec![Ref::Value(live.id.clone())], tags: missing });
                    }
                    if !public && !karpenter
                        && let Some(untag) = untag_change(&id, &live.id, &live.tags, &cluster)
                    {
                        fields.extend(untag.fields);
                        operations.extend(untag.operations);
                    }
                    if !associated {
                        fields.push(FieldChange { field: "routeTable".to_owned(), old: None, new: Some(table.clone()) });
                        operations.push(associate);
                    }
                    if ipv6 && (live.ipv6_cidr.is_none() || !live.assign_ipv6_address_on_creation) {
                        if live.ipv6_cidr.is_none() {
                            fields.push(FieldChange { field: "ipv6Cidr".to_owned(), old: None, new: Some(format!("/64 number {index} of the VPC's block")) });
                        }
                        if !live.assign_ipv6_address_on_creation {
                            fields.push(FieldChange::new("assignIpv6AddressOnCreation", false, true));
                        }
                        operations.push(enable_ipv6(Ref::Value(live.id.clone()), live.ipv6_cidr.is_some()));
                    }
                    if !operations.is_empty() {
                        p.push(Change::new(&id, ChangeKind::Update, operations).id(&live.id).fields(fields).after([table, "vpc".to_owned()]));
                    }
                }
            }
        }
    }

    // NAT gateways (with their Elastic IPs) in public subnets.
    let nat_mode = file.spec.vpc.nat_gateway.unwrap_or_default();
    let nat_zones: Vec<String> = match nat_mode {
        NatGatewayMode::None => Vec::new(),
        NatGatewayMode::Single => zones.iter().take(1).cloned().collect(),
        NatGatewayMode::PerZone => zones.clone(),
    };
    for zone in &nat_zones {
        let eip = format!("eip/{zone}");
        let nat = format!("nat-gateway/{zone}");
        p.desire(&eip);
        p.desire(&nat);
        let eip_tags = owned_tags(file, &eip, &no_tags);
        match p
            .observed
            .network
            .addresses
            .iter()
            .find(|a| p.owned(&a.tags) == Some(eip.as_str()))
        {
            None => p.push(Change::new(
                &eip,
                ChangeKind::Create,
                vec![Operation::AllocateAddress { tags: eip_tags }],
            )),
            Some(live) => p.retag(&eip, &live.allocation_id, &live.tags, &eip_tags),
        }
        let nat_tags = owned_tags(file, &nat, &no_tags);
        // One that is deleting or failed is gone for planning: AWS removes it, and a new one
        // takes its place.
        match p.observed.network.nat_gateways.iter().find(|g| {
            p.owned(&g.tags) == Some(nat.as_str())
                && !matches!(g.state.as_str(), "deleting" | "failed")
        }) {
            None => {
                let public = subnet_id("public", zone);
                p.push(
                    Change::new(
                        &nat,
                        ChangeKind::Create,
                        vec![Operation::CreateNatGateway {
                            subnet: Ref::output(&public, "id"),
                            address: Ref::output(&eip, "id"),
                            tags: nat_tags,
                        }],
                    )
                    .after([public, eip, "internet-gateway".to_owned()]),
                );
            }
            Some(live) => p.retag(&nat, &live.id, &live.tags, &nat_tags),
        }
    }

    // Route tables: one public, one private per zone; default routes are separate changes so
    // that subnets (and so the control plane) never wait for a NAT gateway.
    for public in [true, false] {
        let table_zones: Vec<&String> = if public {
            zones.iter().take(1).collect()
        } else {
            zones.iter().collect()
        };
        for zone in table_zones {
            let table = route_table_id(public, zone);
            p.desire(&table);
            let tags = owned_tags(file, &table, &no_tags);
            let live = p
                .observed
                .network
                .route_tables
                .iter()
                .find(|t| p.owned(&t.tags) == Some(table.as_str()));
            match live {
                None => p.push(
                    Change::new(
                        &table,
                        ChangeKind::Create,
                        vec![Operation::CreateRouteTable {
                            vpc: Ref::output("vpc", "id"),
                            tags,
                        }],
                    )
                    .after(["vpc"]),
                ),
                Some(live) => p.retag(&table, &live.id, &live.tags, &tags),
            }
            if ipv6 {
                plan_ipv6_route(p, &table, public, live);
            }
            let (target, target_resource) = if public {
                (
                    Some(("internet-gateway", true)),
                    "internet-gateway".to_owned(),
                )
            } else {
                match nat_zones.iter().find(|z| *z == zone).or(nat_zones.first()) {
                    Some(nat_zone) => (Some(("", false)), format!("nat-gateway/{nat_zone}")),
                    None => (None, String::new()),
                }
            };
            let route = format!("route/{}", &table["route-table/".len()..]);
            let live_target = live.and_then(|t| t.default_route.clone());
            let Some((_, is_igw)) = target else {
                // natGateway: none. A route left from a deleted NAT gateway would be a blackhole.
                if let (Some(table_live), Some(RouteTarget::NatGateway(old))) = (live, &live_target)
                {
                    p.push(
                        Change::new(
                            &route,
                            ChangeKind::Delete,
                            vec![Operation::DeleteDefaultRoute {
                                table: Ref::Value(table_live.id.clone()),
                            }],
                        )
                        .fields(vec![FieldChange {
                            field: "0.0.0.0/0".to_owned(),
                            old: Some(old.clone()),
                            new: None,
                        }]),
                    );
                }
                continue;
            };
            p.desire(&route);
            let target_id = p.output_of(&target_resource, "id");
            let current = match (&live_target, &target_id) {
                (Some(RouteTarget::InternetGateway(id)), Some(want)) if is_igw => id == want,
                (Some(RouteTarget::NatGateway(id)), Some(want)) if !is_igw => id == want,
                _ => false,
            };
            if current {
                continue;
            }
            let target_ref = Ref::output(&target_resource, "id");
            let operation = Operation::SetDefaultRoute {
                table: Ref::output(&table, "id"),
                internet_gateway: is_igw.then(|| target_ref.clone()),
                nat_gateway: (!is_igw).then_some(target_ref),
            };
            let kind = if live_target.is_some() {
                ChangeKind::Update
            } else {
                ChangeKind::Create
            };
            let old = live_target.map(|t| t.id().to_owned());
            p.push(
                Change::new(&route, kind, vec![operation])
                    .fields(vec![FieldChange {
                        field: "0.0.0.0/0".to_owned(),
                        old,
                        new: Some(target_resource.clone()),
                    }])
                    .after([table, target_resource]),
            );
        }
    }
}

/// What the plan shows for the IPv6 block AWS picks for a VPC.
const AMAZON_IPV6_BLOCK: &str = "Amazon-provided /56";
/// Kind of the change that revokes an adopted security group's rules naming other groups
/// (`security-group-rules/ID`), before the cluster and the groups are deleted.
pub const GROUP_RULES: &str = "security-group-rules";
/// Logical id of the egress-only internet gateway of an IPv6 cluster's VPC.
pub const EGRESS_ONLY_GATEWAY: &str = "egress-only-internet-gateway";

/// The egress-only internet gateway through which private subnets send IPv6 out (the EKS
/// IPv6 guide's VPC: private subnets route ::/0 to one, as IPv6 has no NAT).
fn plan_egress_only_gateway(p: &mut Planning<'_>, file: &crate::spec::ClusterFile) {
    let tags = owned_tags(file, EGRESS_ONLY_GATEWAY, &Tags::new());
    p.desire(EGRESS_ONLY_GATEWAY);
    match p
        .observed
        .network
        .egress_only_internet_gateways
        .iter()
        .find(|g| p.owned(&g.tags) == Some(EGRESS_ONLY_GATEWAY))
    {
        None => p.push(
            Change::new(
                EGRESS_ONLY_GATEWAY,
                ChangeKind::Create,
                vec![Operation::CreateEgressOnlyInternetGateway {
                    vpc: Ref::output("vpc", "id"),
                    tags,
                }],
            )
            .after(["vpc"]),
        ),
        Some(live) => p.retag(EGRESS_ONLY_GATEWAY, &live.id, &live.tags, &tags),
    }
}

/// The IPv6 default route (::/0) of a table: the internet gateway for public subnets, the
/// egress-only internet gateway for private ones.
fn plan_ipv6_route(
    p: &mut Planning<'_>,
    table: &str,
    public: bool,
    live: Option<&crate::cloud::ObservedRouteTable>,
) {
    let route = format!("ipv6-route/{}", &table["route-table/".len()..]);
    let target_resource = if public {
        "internet-gateway"
    } else {
        EGRESS_ONLY_GATEWAY
    };
    p.desire(&route);
    let live_target = live.and_then(|t| t.default_ipv6_route.clone());
    let current = match (&live_target, p.output_of(target_resource, "id")) {
        (Some(RouteTarget::InternetGateway(id)), Some(want)) if public => *id == want,
        (Some(RouteTarget::EgressOnlyInternetGateway(id)), Some(want)) if !public => *id == want,
        _ => false,
    };
    if current {
        return;
    }
    let target = Ref::output(target_resource, "id");
    let kind = if live_target.is_some() {
        ChangeKind::Update
    } else {
        ChangeKind::Create
    };
    p.push(
        Change::new(
            &route,
            kind,
            vec![Operation::SetDefaultIpv6Route {
                table: Ref::output(table, "id"),
                internet_gateway: public.then(|| target.clone()),
                egress_only_internet_gateway: (!public).then_some(target),
            }],
        )
        .fields(vec![FieldChange {
            field: "::/0".to_owned(),
            old: live_target.map(|t| t.id().to_owned()),
            new: Some(target_resource.to_owned()),
        }])
        .after([table, target_resource]),
    );
}

/// Logical id of the route table for public subnets (one) or a zone's private subnet.
pub fn route_table_id(public: bool, zone: &str) -> String {
    if public {
        "route-table/public".to_owned()
    } else {
        format!("route-table/private-{zone}")
    }
}

/// A brought-in VPC this cluster adopted (`--adopt-network`) is kept as it is, with what
/// was adopted in it: the spec describes none of it beyond `vpc.id` and the subnets, and
/// `delete` removes it after the cluster. It gets the spec's tags, not ekspec's `Name` (the
/// one the other tool gave it stays).
fn keep_adopted(p: &mut Planning<'_>, vpc_id: &str) {
    let Some(file) = p.file else {
        return;
    };
    if !p.observed.owns_vpc(&file.metadata.name, vpc_id) {
        return;
    }
    let net = &p.observed.network;
    let live: Vec<(&str, &Tags)> = net
        .vpcs
        .iter()
        .map(|v| (v.id.as_str(), &v.tags))
        .chain(net.subnets.iter().map(|s| (s.id.as_str(), &s.tags)))
        .chain(
            net.internet_gateways
                .iter()
                .map(|g| (g.id.as_str(), &g.tags)),
        )
        .chain(
            net.addresses
                .iter()
                .map(|a| (a.allocation_id.as_str(), &a.tags)),
        )
        .chain(net.nat_gateways.iter().map(|n| (n.id.as_str(), &n.tags)))
        .chain(net.route_tables.iter().map(|t| (t.id.as_str(), &t.tags)))
        .chain(
            net.egress_only_internet_gateways
                .iter()
                .map(|g| (g.id.as_str(), &g.tags)),
        )
        .chain(net.security_groups.iter().map(|g| (g.id.as_str(), &g.tags)))
        .collect();
    for (id, tags) in live {
        let Some(resource) = p
            .owned(tags)
            .filter(|r| super::adopt::is_network_resource(r))
        else {
            continue;
        };
        let resource = resource.to_owned();
        p.desire(&resource);
        let mut desired = owned_tags(file, &resource, &Tags::new());
        desired.remove("Name");
        p.retag(&resource, id, tags, &desired);
    }
}

/// BYO VPC: only the Kubernetes subnet tags are ever written.
fn plan_existing(p: &mut Planning<'_>, vpc_id: &str) {
    let Some(file) = p.file else {
        return;
    };
    if p.observed.existing_vpc.is_none() {
        p.push(
            Change::new("vpc", ChangeKind::Impossible, Vec::new())
                .id(vpc_id)
                .reason(format!(
                    "VPC `{vpc_id}` (spec.vpc.id) does not exist in {}",
                    file.metadata.region
                )),
        );
        return;
    }
    // EKS API reference, KubernetesNetworkConfigRequest.ipFamily: "If you specify ipv6, the
    // VPC and subnets that you specify for cluster creation must have both IPv4 and IPv6 CIDR
    // blocks assigned to them." ekspec never changes a VPC it did not make.
    let ipv6 = file.spec.ip_family == IpFamily::Ipv6;
    if ipv6
        && p.observed
            .existing_vpc
            .as_ref()
            .is_some_and(|vpc| vpc.ipv6_cidr.is_none())
    {
        p.push(
            Change::new("vpc", ChangeKind::Impossible, Vec::new())
                .id(vpc_id)
                .reason(format!(
                    "VPC `{vpc_id}` (spec.vpc.id) has no IPv6 block, which an IPv6 cluster (spec.ipFamily: ipv6) needs: give it one (aws ec2 associate-vpc-cidr-block --vpc-id {vpc_id} --amazon-provided-ipv6-cidr-block) and its subnets a /64 each, or set spec.ipFamily: ipv4"
                )),
        );
    }
    let subnets = file.spec.vpc.subnets.clone().unwrap_or_default();
    let cluster = file.metadata.name.as_str();
    let karpenter = file.spec.karpenter.is_some();
    // Nodes in public subnets need a public address from the subnet: without one EKS fails
    // the node group after about 20 minutes (Ec2SubnetInvalidConfiguration).
    let public_nodes = file
        .spec
        .node_groups
        .iter()
        .position(|g| !g.private_networking)
        .map(|i| (i, &file.spec.node_groups[i].name));
    for (ids, public) in [(&subnets.public, true), (&subnets.private, false)] {
        for (index, id) in ids.iter().enumerate() {
            let resource = format!("existing-subnet/{id}");
            match p.observed.existing_subnets.iter().find(|s| &s.id == id) {
                None => p.push(
                    Change::new(&resource, ChangeKind::Impossible, Vec::new())
                        .id(id)
                        .reason(format!("subnet `{id}` (spec.vpc.subnets) does not exist")),
                ),
                Some(live) if live.vpc_id != vpc_id => p.push(
                    Change::new(&resource, ChangeKind::Impossible, Vec::new())
                        .id(id)
                        .reason(format!(
                            "subnet `{id}` belongs to `{}`, not to spec.vpc.id `{vpc_id}`",
                            live.vpc_id
                        )),
                ),
                Some(live) if ipv6 && live.ipv6_cidr.is_none() => p.push(
                    Change::new(&resource, ChangeKind::Impossible, Vec::new())
                        .id(id)
                        .reason(format!(
                            "subnet `{id}` (spec.vpc.subnets.{}[{index}]) has no IPv6 block, which an IPv6 cluster (spec.ipFamily: ipv6) needs in every subnet: give it a /64 of the VPC's block (aws ec2 associate-subnet-cidr-block --subnet-id {id} --ipv6-cidr-block <a /64 of the VPC's IPv6 block>), or set spec.ipFamily: ipv4",
                            if public { "public" } else { "private" }
                        )),
                ),
                Some(live) if public && !live.map_public_ip_on_launch && public_nodes.is_some() => {
                    let Some((group, name)) = public_nodes else {
                        continue;
                    };
                    p.push(
                        Change::new(&resource, ChangeKind::Impossible, Vec::new())
                            .id(id)
                            .reason(format!(
                                "subnet `{id}` (spec.vpc.subnets.public[{index}]) does not assign public IPv4 addresses on launch, so node group `{name}` (spec.nodeGroups[{group}].privateNetworking: false) would fail with Ec2SubnetInvalidConfiguration: turn on the subnet's MapPublicIpOnLaunch (aws ec2 modify-subnet-attribute --subnet-id {id} --map-public-ip-on-launch) or set privateNetworking: true"
                            )),
                    );
                }
                Some(live) if !public && karpenter && live.tags.get(KARPENTER_DISCOVERY_TAG).is_some_and(|v| v != cluster) => p.push(
                    Change::new(&resource, ChangeKind::Impossible, Vec::new())
                        .id(id)
                        .reason(format!(
                            "subnet `{id}` (spec.vpc.subnets.private[{index}]) is tagged {KARPENTER_DISCOVERY_TAG}={}: another cluster's Karpenter discovers it, and a tag has one value, so ekspec will not take it over for spec.karpenter: remove that tag if that cluster no longer uses the subnet, or give this cluster other subnets",
                            live.tags.get(KARPENTER_DISCOVERY_TAG).map_or("", String::as_str)
                        )),
                ),
                Some(live) => {
                    let wanted = node_subnet_tags(cluster, public, karpenter);
                    let (missing, mut fields) = tag_drift(&live.tags, &wanted);
                    let mut operations = Vec::new();
                    if !missing.is_empty() {
                        operations.push(Operation::TagEc2 {
                            ids: vec![Ref::Value(id.clone())],
                            tags: missing,
                        });
                    }
                    if !public
                        && !karpenter
                        && let Some(untag) = untag_change(&resource, id, &live.tags, cluster)
                    {
                        fields.extend(untag.fields);
                        operations.extend(untag.operations);
                    }
                    if !operations.is_empty() {
                        p.push(
                            Change::new(&resource, ChangeKind::Update, operations)
                                .id(id)
                                .fields(fields),
                        );
                    }
                }
            }
        }
    }
}

/// Logical id of what Kubernetes left in the VPC (see [`leftovers_change`]).
pub const KUBERNETES_LEFTOVERS: &str = "kubernetes-leftovers";

/// Deletes what Kubernetes left in a VPC that is being deleted: load balancers with their
/// target groups and security groups, detached interfaces. Its own change, so that it runs
/// once nothing in the cluster can recreate them and before the subnets and the internet
/// gateway, which a load balancer blocks.
pub fn leftovers_change(p: &Planning<'_>, vpc_id: &str) -> Option<Change> {
    let cluster = p.cluster_name()?;
    let operations = vec![Operation::DeleteLeftovers {
        cluster: cluster.to_owned(),
        vpc_id: vpc_id.to_owned(),
    }];
    Some(Change::new(KUBERNETES_LEFTOVERS, ChangeKind::Delete, operations).id(vpc_id))
}

/// Delete operations for an owned EC2 resource of the given logical id.
pub fn delete_operations(p: &Planning<'_>, resource: &str, id: &str) -> Vec<Operation> {
    let kind = resource.split('/').next().unwrap_or_default();
    match kind {
        "vpc" => {
            let mut ops = Vec::new();
            // Again, for interfaces freed since the leftovers change ran.
            if let Some(cluster) = p.cluster_name() {
                ops.push(Operation::DeleteLeftovers {
                    cluster: cluster.to_owned(),
                    vpc_id: id.to_owned(),
                });
            }
            ops.push(Operation::DeleteEc2 {
                kind: Ec2Kind::Vpc,
                id: id.to_owned(),
            });
            ops
        }
        "subnet" => vec![Operation::DeleteEc2 {
            kind: Ec2Kind::Subnet,
            id: id.to_owned(),
        }],
        "eip" => vec![Operation::DeleteEc2 {
            kind: Ec2Kind::Address,
            id: id.to_owned(),
        }],
        "nat-gateway" => vec![Operation::DeleteEc2 {
            kind: Ec2Kind::NatGateway,
            id: id.to_owned(),
        }],
        "launch-template" => vec![Operation::DeleteEc2 {
            kind: Ec2Kind::LaunchTemplate,
            id: id.to_owned(),
        }],
        EGRESS_ONLY_GATEWAY => vec![Operation::DeleteEc2 {
            kind: Ec2Kind::EgressOnlyInternetGateway,
            id: id.to_owned(),
        }],
        // An adopted security group; its rules naming other groups went first (`GROUP_RULES`).
        "security-group" => vec![Operation::DeleteEc2 {
            kind: Ec2Kind::SecurityGroup,
            id: id.to_owned(),
        }],
        "internet-gateway" => {
            let vpcs: BTreeMap<_, _> = p
                .observed
                .network
                .internet_gateways
                .iter()
                .filter(|g| g.id == id)
                .flat_map(|g| g.attached_vpc_ids.clone())
                .map(|v| (v, ()))
                .collect();
            let mut ops: Vec<Operation> = vpcs
                .into_keys()
                .map(|vpc_id| Operation::DetachInternetGateway {
                    id: id.to_owned(),
                    vpc_id,
                })
                .collect();
            ops.push(Operation::DeleteEc2 {
                kind: Ec2Kind::InternetGateway,
                id: id.to_owned(),
            });
            ops
        }
        "route-table" => {
            let mut ops: Vec<Operation> = p
                .observed
                .network
                .route_tables
                .iter()
                .filter(|t| t.id == id)
                .flat_map(|t| t.associations.clone())
                .map(|(association_id, _)| Operation::DisassociateRouteTable { association_id })
                .collect();
            ops.push(Operation::DeleteEc2 {
                kind: Ec2Kind::RouteTable,
                id: id.to_owned(),
            });
            ops
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, id: &str, kind: &str) -> AvailabilityZone {
        AvailabilityZone {
            name: name.to_owned(),
            id: id.to_owned(),
            kind: kind.to_owned(),
        }
    }

    #[test]
    fn default_zones_are_availability_zones_eks_takes() {
        let zones = [
            zone("us-east-1-bos-1a", "use1-bos1-az1", "local-zone"),
            zone(
                "us-east-1-wl1-bos-wlz-1",
                "use1-wl1-bos-wlz1",
                "wavelength-zone",
            ),
            zone("us-east-1a", "use1-az6", "availability-zone"),
            zone("us-east-1b", "use1-az3", "availability-zone"),
            zone("us-east-1c", "use1-az2", "availability-zone"),
        ];
        assert_eq!(eks_zones(&zones), ["us-east-1a", "us-east-1c"]);
    }
}
