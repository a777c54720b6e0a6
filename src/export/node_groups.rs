//! Managed node groups: instance types, capacity, AMI type, scaling, labels, taints, disk,
//! metadata access and update budget.

use serde_json::json;

use crate::cloud::{ObservedNodeGroup, UpdateBudget};
use crate::resources::nodegroup::physical_name;
use crate::spec::{AmiType, CapacityType, NodeGroupSpec, Taint, TaintEffect};

use super::network::{is_public, tier_subnets};
use super::{Exporting, network};

/// The root volume size EKS gives a node group that names none.
const EKS_DEFAULT_DISK_GIB: u32 = 20;

/// Writes `spec.nodeGroups`.
pub fn export(x: &mut Exporting<'_>) {
    let live = x.live;
    let owned_cluster = live.owned();
    for group in &live.contents.node_groups {
        let name = match live.owned_id(&group.tags) {
            Some(id) => match id.strip_prefix("nodegroup/") {
                Some(name) => name.to_owned(),
                None => continue,
            },
            None if owned_cluster => {
                x.omit(
                    format!("nodegroup {}", group.name),
                    "tags",
                    "not made by ekspec (no ekspec.io tags) in a cluster ekspec manages: left alone by plan",
                );
                continue;
            }
            None => group.name.clone(),
        };
        if let Some(spec) = node_group(x, group, name) {
            x.spec.node_groups.push(spec);
        }
    }
    x.spec.node_groups.sort_by(|a, b| a.name.cmp(&b.name));
}

fn node_group(
    x: &mut Exporting<'_>,
    group: &ObservedNodeGroup,
    name: String,
) -> Option<NodeGroupSpec> {
    let live = x.live;
    let resource = format!("nodegroup {}", group.name);
    if group.instance_types.is_empty() {
        x.omit(
            &resource,
            "instanceTypes",
            "set in its launch template, not on the node group: the whole node group is left out; add it by hand",
        );
        return None;
    }
    // The spec's own defaults (and any field added later) as the parser applies them.
    let mut spec: NodeGroupSpec =
        serde_json::from_value(json!({"name": name, "instanceTypes": group.instance_types}))
            .ok()?;
    spec.capacity_type = match group.capacity_type.as_str() {
        "SPOT" => CapacityType::Spot,
        "ON_DEMAND" | "" => CapacityType::OnDemand,
        other => {
            x.omit(
                &resource,
                "capacityType",
                format!("{other} cannot be exported (export does not read a Capacity Block's reservation and zone from the launch template): written as onDemand"),
            );
            CapacityType::OnDemand
        }
    };
    match serde_json::from_value::<AmiType>(json!(group.ami_type)) {
        Ok(ami) => spec.ami_type = ami,
        Err(_) => x.omit(
            &resource,
            "amiType",
            format!("{} cannot be expressed: written as the default {}; the plan would replace the node group", group.ami_type, AmiType::default().eks_name()),
        ),
    }
    let scaling = group.scaling;
    spec.min_size = u32::try_from(scaling.min).ok();
    spec.max_size = u32::try_from(scaling.max).ok();
    spec.desired_size = u32::try_from(scaling.desired).ok();
    // Left out when it is what the spec would start with anyway.
    let defaulted = NodeGroupSpec {
        desired_size: None,
        ..spec.clone()
    };
    if spec.desired_size == Some(defaulted.scaling().desired) {
        spec.desired_size = None;
    }
    spec.labels = group.labels.clone();
    spec.taints = group
        .taints
        .iter()
        .filter_map(|t| {
            let effect = match t.effect.as_str() {
                "NO_SCHEDULE" => TaintEffect::NoSchedule,
                "PREFER_NO_SCHEDULE" => TaintEffect::PreferNoSchedule,
                "NO_EXECUTE" => TaintEffect::NoExecute,
                _ => return None,
            };
            Some(Taint {
                key: t.key.clone(),
                value: (!t.value.is_empty()).then(|| t.value.clone()),
                effect,
            })
        })
        .collect();
    match group.update_budget {
        Some(UpdateBudget::Count(1)) | None => {}
        Some(UpdateBudget::Count(n)) => spec.max_unavailable = u32::try_from(n).ok(),
        Some(UpdateBudget::Percentage(p)) => {
            spec.max_unavailable_percentage = u32::try_from(p).ok()
        }
    }
    match live.launch_templates.get(&group.name) {
        Some(data) => {
            spec.disk_size_gib = data.disk_size_gib;
            spec.pod_imds_access = data.metadata_hop_limit > 1;
        }
        None => {
            let disk = group.disk_size.and_then(|d| u32::try_from(d).ok());
            spec.disk_size_gib = disk.unwrap_or(EKS_DEFAULT_DISK_GIB);
            // Without a launch template EKS sets no hop limit: pods reach the metadata service.
            spec.pod_imds_access = group.launch_template.is_none();
        }
    }
    spec.tags = x.extra_tags(&resource, &group.tags);
    placement(x, group, &mut spec, &resource);
    if !live.owned() || live.owned_id(&group.tags).is_none() {
        if let Some((id, version)) = &group.launch_template {
            x.omit(
                &resource,
                "launchTemplate",
                format!("{id} version {version}: only its disk size and metadata hop limit are carried over (ekspec makes its own launch template)"),
            );
        }
        x.omit(
            &resource,
            "nodeRole",
            format!("{}: ekspec makes its own node role", group.node_role_arn),
        );
    }
    if let Some(version) = &group.version
        && version != &live.cluster.version
    {
        x.omit(
            &resource,
            "version",
            format!("{version}, behind the control plane's {}: ekspec runs node groups on the control plane's version", live.cluster.version),
        );
    }
    if live.owned_id(&group.tags).is_some() && network::owned_vpc(live).is_some() {
        let tier = if spec.private_networking {
            "private"
        } else {
            "public"
        };
        let keys: Vec<String> = zones_of(x, tier);
        let expected = physical_name(&spec, &keys);
        if expected != group.name {
            x.omit(
                &resource,
                "name",
                format!("the settings read give the EKS name {expected}: the plan will show what differs"),
            );
        }
    }
    Some(spec)
}

/// The logical ids of the subnets of a tier, in the order of the spec's zones.
fn zones_of(x: &Exporting<'_>, tier: &str) -> Vec<String> {
    let live = x.live;
    let mut subnets: Vec<(ipnet::Ipv4Net, String)> = live
        .network
        .subnets
        .iter()
        .filter_map(|s| {
            let id = live.owned_id(&s.tags)?;
            id.starts_with(&format!("subnet/{tier}-"))
                .then(|| Some((s.cidr.parse().ok()?, id.to_owned())))?
        })
        .collect();
    subnets.sort();
    subnets.into_iter().map(|(_, id)| id).collect()
}

/// `privateNetworking`, from the tier of the node group's subnets.
fn placement(
    x: &mut Exporting<'_>,
    group: &ObservedNodeGroup,
    spec: &mut NodeGroupSpec,
    resource: &str,
) {
    let live = x.live;
    let tiers: Vec<Option<bool>> = group
        .subnet_ids
        .iter()
        .map(|s| is_public(live, s))
        .collect();
    let public = !tiers.is_empty() && tiers.iter().all(|t| *t == Some(true));
    spec.private_networking = !public;
    let want = tier_subnets(live, public);
    if group.subnet_ids != want {
        x.omit(
            resource,
            "subnets",
            format!(
                "{}: the spec places nodes in every {} subnet of the cluster ({})",
                group.subnet_ids.join(","),
                if public { "public" } else { "private" },
                if want.is_empty() {
                    "none".to_owned()
                } else {
                    want.join(",")
                }
            ),
        );
    }
}
