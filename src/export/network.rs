//! The VPC: the one ekspec made (`cidr`, zones, `natGateway`) or a brought-in one (`id` and
//! its subnets, told public or private by their route tables).

use ipnet::Ipv4Net;

use crate::cloud::{ObservedVpc, RouteTarget};
use crate::resources::{fargate, nodegroup};
use crate::spec::{DEFAULT_VPC_CIDR, DEFAULT_ZONE_COUNT, ExistingSubnets, NatGatewayMode};

use super::{Exporting, Live};

/// The VPC ekspec made for the cluster, when the cluster runs in it.
pub fn owned_vpc(live: &Live) -> Option<&ObservedVpc> {
    live.network.vpcs.iter().find(|v| {
        live.owned_id(&v.tags) == Some("vpc") && live.cluster.vpc_id.as_ref() == Some(&v.id)
    })
}

/// The subnet tag that makes Kubernetes put internet-facing load balancers there.
const ELB_ROLE_TAG: &str = "kubernetes.io/role/elb";
/// The subnet tag that makes Kubernetes put internal load balancers there.
const INTERNAL_ELB_ROLE_TAG: &str = "kubernetes.io/role/internal-elb";
/// Subnet lists up to this long are searched for the order the spec listed them in.
const MAX_ORDERED_SUBNETS: usize = 7;

/// Whether a subnet is public: for ekspec's own by its logical id; otherwise by its
/// Kubernetes role tag, else by its route table (its own, else the VPC's main one) having a
/// default route to an internet gateway. `None` when the subnet was not read.
pub fn is_public(live: &Live, subnet: &str) -> Option<bool> {
    if owned_vpc(live).is_some() {
        let owned = live.network.subnets.iter().find(|s| s.id == subnet)?;
        return live
            .owned_id(&owned.tags)
            .map(|id| id.starts_with("subnet/public-"));
    }
    let read = live.subnets.iter().find(|s| s.id == subnet)?;
    // The role tags Kubernetes places load balancers by, which ekspec (and eksctl) put on
    // the subnets they use, say what the subnet is for.
    if read.tags.contains_key(ELB_ROLE_TAG) {
        return Some(true);
    }
    if read.tags.contains_key(INTERNAL_ELB_ROLE_TAG) {
        return Some(false);
    }
    let table = live
        .route_tables
        .iter()
        .find(|t| t.associations.iter().any(|(_, s)| s == subnet))
        .or_else(|| live.route_tables.iter().find(|t| t.main));
    Some(matches!(
        table.and_then(|t| t.default_route.as_ref()),
        Some(RouteTarget::InternetGateway(_))
    ))
}

/// The subnets the spec puts nodes of a tier in: every subnet of that tier ekspec made, or
/// the cluster's subnets of that tier in a brought-in VPC.
pub fn tier_subnets(live: &Live, public: bool) -> Vec<String> {
    let mut ids: Vec<String> = if owned_vpc(live).is_some() {
        live.network
            .subnets
            .iter()
            .filter(|s| {
                live.owned_id(&s.tags).is_some_and(|id| {
                    id.starts_with(if public {
                        "subnet/public-"
                    } else {
                        "subnet/private-"
                    })
                })
            })
            .map(|s| s.id.clone())
            .collect()
    } else {
        live.cluster
            .subnet_ids
            .iter()
            .filter(|s| is_public(live, s) == Some(public))
            .cloned()
            .collect()
    };
    ids.sort();
    ids
}

/// Writes `spec.vpc`.
pub fn export(x: &mut Exporting<'_>) {
    let live = x.live;
    match owned_vpc(live) {
        Some(vpc) => own(x, vpc),
        None => brought_in(x),
    }
}

/// A VPC ekspec made: its CIDR, its zones in the order their subnets were carved, its NAT.
fn own(x: &mut Exporting<'_>, vpc: &ObservedVpc) {
    let live = x.live;
    let mut public: Vec<(Ipv4Net, String)> = live
        .network
        .subnets
        .iter()
        .filter(|s| {
            live.owned_id(&s.tags)
                .is_some_and(|id| id.starts_with("subnet/public-"))
        })
        .filter_map(|s| Some((s.cidr.parse().ok()?, s.availability_zone.clone())))
        .collect();
    public.sort();
    let zones: Vec<String> = public.into_iter().map(|(_, zone)| zone).collect();
    if vpc.cidr != DEFAULT_VPC_CIDR {
        x.spec.vpc.cidr = Some(vpc.cidr.clone());
    }
    let mut by_name = zones.clone();
    by_name.sort();
    if by_name != zones {
        // Subnets were carved in this order: the spec must list the zones the same way.
        x.spec.vpc.availability_zones = Some(zones.clone());
    } else if zones.len() != usize::from(DEFAULT_ZONE_COUNT) {
        x.spec.vpc.zone_count = u8::try_from(zones.len()).ok();
    }
    let nat_gateways = live
        .network
        .nat_gateways
        .iter()
        .filter(|n| {
            live.owned_id(&n.tags)
                .is_some_and(|id| id.starts_with("nat-gateway/"))
                && !matches!(n.state.as_str(), "deleting" | "deleted" | "failed")
        })
        .count();
    x.spec.vpc.nat_gateway = match nat_gateways {
        0 => Some(NatGatewayMode::None),
        1 => None,
        _ => Some(NatGatewayMode::PerZone),
    };
}

/// A VPC ekspec did not make: brought in by id, with the cluster's subnets.
fn brought_in(x: &mut Exporting<'_>) {
    let live = x.live;
    let Some(vpc) = live.cluster.vpc_id.clone() else {
        return;
    };
    let mut subnets = ExistingSubnets::default();
    for id in &live.cluster.subnet_ids {
        match is_public(live, id) {
            Some(true) => subnets.public.push(id.clone()),
            Some(false) => subnets.private.push(id.clone()),
            None => {
                subnets.private.push(id.clone());
                x.omit(
                    format!("subnet {id}"),
                    "routeTable",
                    "the subnet could not be read; listed as private",
                );
            }
        }
    }
    x.infer(format!(
        "VPC {vpc} is brought in (ekspec did not make it, and never changes or deletes it); its subnets are public when tagged kubernetes.io/role/elb, private when tagged kubernetes.io/role/internal-elb, and otherwise public when their route table sends 0.0.0.0/0 to an internet gateway"
    ));
    x.spec.vpc.id = Some(vpc);
    x.spec.vpc.subnets = Some(subnets);
}

/// In a brought-in VPC of a cluster ekspec made, lists the subnets in the order the spec had
/// them: the EKS names of node groups and Fargate profiles hash their subnets in that order,
/// and another order would replace them. The order is found by trying each (short lists
/// only); run after node groups and Fargate profiles are written.
pub fn order_brought_in(x: &mut Exporting<'_>) {
    let live = x.live;
    if !live.owned() || owned_vpc(live).is_some() {
        return;
    }
    let Some(mut subnets) = x.spec.vpc.subnets.clone() else {
        return;
    };
    for public in [false, true] {
        let list = if public {
            &mut subnets.public
        } else {
            &mut subnets.private
        };
        let matches = |order: &[String]| names_match(x, public, order);
        if list.len() > MAX_ORDERED_SUBNETS || matches(list) {
            continue;
        }
        let mut order = list.clone();
        order.sort();
        let mut found = None;
        loop {
            if matches(&order) {
                found = Some(order.clone());
                break;
            }
            if !next_permutation(&mut order) {
                break;
            }
        }
        match found {
            Some(order) => *list = order,
            None => x.infer(format!(
                "no order of the {} subnets gives the EKS names of the node groups and Fargate profiles: the plan will show what differs",
                if public { "public" } else { "private" }
            )),
        }
    }
    x.spec.vpc.subnets = Some(subnets);
}

/// Whether the owned node groups (of a tier) and Fargate profiles (private) have the EKS
/// names the spec gives them with the tier's subnets in `order`.
fn names_match(x: &Exporting<'_>, public: bool, order: &[String]) -> bool {
    let live = x.live;
    let has = |resource: &str, name: &str| {
        let groups = live.contents.node_groups.iter().map(|g| (&g.tags, &g.name));
        let profiles = live
            .contents
            .fargate_profiles
            .iter()
            .map(|p| (&p.tags, &p.name));
        groups
            .chain(profiles)
            .any(|(tags, live_name)| live.owned_id(tags) == Some(resource) && live_name == name)
    };
    let groups = x
        .spec
        .node_groups
        .iter()
        .filter(|g| g.private_networking != public)
        .all(|g| {
            has(
                &format!("nodegroup/{}", g.name),
                &nodegroup::physical_name(g, order),
            )
        });
    let profiles = public
        || x.spec.fargate_profiles.iter().all(|p| {
            has(
                &format!("fargate-profile/{}", p.name),
                &fargate::physical_name(p, order),
            )
        });
    groups && profiles
}

/// Steps `items` to the next permutation in lexicographic order; false after the last.
fn next_permutation(items: &mut [String]) -> bool {
    let Some(i) = items.windows(2).rposition(|w| w[0] < w[1]) else {
        return false;
    };
    let Some(j) = items.iter().rposition(|item| item > &items[i]) else {
        return false;
    };
    items.swap(i, j);
    items[i + 1..].reverse();
    true
}
