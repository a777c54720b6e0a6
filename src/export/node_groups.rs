//! Managed node groups: instance types, capacity, AMI type (or a custom AMI), scaling,
//! labels, taints, disk, metadata access, update budget and strategy, node repair, Capacity
//! Reservations and pre-bootstrap commands.

use serde_json::json;

use crate::cloud::{LaunchTemplateData, NodeRepair, ObservedNodeGroup, UpdateBudget};
use crate::resources::nodegroup::{CUSTOM_AMI_TYPE, physical_name};
use crate::spec::validate::{AL2_NEWEST_MINOR, is_arm_instance, parse_minor};
use crate::spec::{
    AmiType, CapacityReservationSpec, CapacityType, NodeGroupSpec, NodeRepairConfig, Taint,
    TaintEffect, UpdateStrategy,
};

use super::network::{is_public, tier_subnets};
use super::user_data::{self, Bootstrap};
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
    let template = live.launch_templates.get(&group.name);
    // What an AMI type the spec cannot express is written as: EKS's AL2023 on the instance
    // types' architecture (validation refuses an AMI of another).
    spec.ami_type = if group.instance_types.iter().all(|t| is_arm_instance(t)) {
        AmiType::AL2023_ARM_64_STANDARD
    } else {
        AmiType::AL2023_x86_64_STANDARD
    };
    // The AMI types a custom AMI's group may have been written with (its EKS name tells).
    let mut custom_candidates = Vec::new();
    if group.ami_type == CUSTOM_AMI_TYPE {
        custom_candidates = custom_ami(x, group, template, &mut spec, &resource);
    } else if let Ok(ami) = serde_json::from_value::<AmiType>(json!(group.ami_type)) {
        let minor = parse_minor(&live.cluster.version);
        if ami.is_al2() && minor.is_some_and(|m| m > AL2_NEWEST_MINOR) {
            // A group left behind a control plane upgrade: it cannot follow on AL2.
            let message = format!(
                "{} under a Kubernetes {} control plane: EKS publishes no Amazon Linux 2 AMIs after 1.{AL2_NEWEST_MINOR}: written as {}; the plan would replace the node group",
                group.ami_type,
                live.cluster.version,
                spec.ami_type.eks_name()
            );
            x.omit(&resource, "amiType", message);
        } else {
            spec.ami_type = ami;
        }
    } else {
        let message = format!(
            "{} cannot be expressed: written as {}; the plan would replace the node group",
            group.ami_type,
            spec.ami_type.eks_name()
        );
        x.omit(&resource, "amiType", message);
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
    spec.update_strategy = match group.update_strategy.as_deref() {
        Some("MINIMAL") => Some(UpdateStrategy::Minimal),
        Some("DEFAULT") | None => None,
        Some(other) => {
            x.omit(
                &resource,
                "updateConfig.updateStrategy",
                format!("{other} is not a strategy the spec knows: written as EKS's default"),
            );
            None
        }
    };
    spec.node_repair_config = group
        .node_repair
        .filter(|r| *r != NodeRepair::default())
        .map(|r| NodeRepairConfig {
            enabled: r.enabled,
            max_unhealthy_node_threshold_count: count(r.max_unhealthy_node_threshold_count),
            max_unhealthy_node_threshold_percentage: count(
                r.max_unhealthy_node_threshold_percentage,
            ),
            max_parallel_nodes_repaired_count: count(r.max_parallel_nodes_repaired_count),
            max_parallel_nodes_repaired_percentage: count(r.max_parallel_nodes_repaired_percentage),
        });
    match template {
        Some(data) => {
            spec.disk_size_gib = data.disk_size_gib;
            if data.disk_size_gib == 0 {
                // No volume mapped: the AMI's own size applies.
                spec.disk_size_gib = EKS_DEFAULT_DISK_GIB;
                x.infer(format!(
                    "nodegroup {} diskSizeGiB {EKS_DEFAULT_DISK_GIB}: its launch template maps no volume, so its nodes get the AMI's size ({EKS_DEFAULT_DISK_GIB} GiB on EKS's AMIs)",
                    spec.name
                ));
            }
            spec.pod_imds_access = data.metadata_hop_limit > 1;
            spec.capacity_reservation = capacity_reservation(x, data, &resource);
            pre_bootstrap_commands(x, group, data, &mut spec, &resource);
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
    let mut by_name = false;
    if live.owned_id(&group.tags).is_some() && network::owned_vpc(live).is_some() {
        let tier = if spec.private_networking {
            "private"
        } else {
            "public"
        };
        let keys: Vec<String> = zones_of(x, tier);
        let mut expected = physical_name(&spec, &keys);
        // The AMI type a custom AMI's group was written with is the one that gives its name.
        if let Some(ami_type) = custom_candidates.iter().copied().find(|&ami_type| {
            physical_name(
                &NodeGroupSpec {
                    ami_type,
                    ..spec.clone()
                },
                &keys,
            ) == group.name
        }) {
            spec.ami_type = ami_type;
            expected = group.name.clone();
            by_name = true;
        }
        if expected != group.name {
            x.omit(
                &resource,
                "name",
                format!("the settings read give the EKS name {expected}: the plan will show what differs"),
            );
        }
    }
    infer_custom_ami(x, &spec, by_name);
    Some(spec)
}

fn count(n: Option<i32>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

/// The AMI types of one OS family whose architecture is the instance types', the standard one
/// first.
fn family(bootstrap: Bootstrap, arm: bool) -> Vec<AmiType> {
    let all: &[AmiType] = match bootstrap {
        Bootstrap::Nodeadm => &[
            AmiType::AL2023_x86_64_STANDARD,
            AmiType::AL2023_ARM_64_STANDARD,
            AmiType::AL2023_x86_64_NVIDIA,
            AmiType::AL2023_x86_64_NEURON,
        ],
        Bootstrap::Bottlerocket => &[
            AmiType::BOTTLEROCKET_x86_64,
            AmiType::BOTTLEROCKET_ARM_64,
            AmiType::BOTTLEROCKET_x86_64_NVIDIA,
            AmiType::BOTTLEROCKET_ARM_64_NVIDIA,
        ],
        Bootstrap::EksBootstrapSh => &[],
    };
    all.iter().copied().filter(|a| a.is_arm() == arm).collect()
}

/// A group on a custom AMI (EKS's `amiType` CUSTOM): `amiId` from its launch template, and
/// `amiType` the OS family its user data joins nodes with, on the instance types'
/// architecture. Returns the AMI types of that family (the group's EKS name tells which one
/// ekspec wrote).
fn custom_ami(
    x: &mut Exporting<'_>,
    group: &ObservedNodeGroup,
    template: Option<&LaunchTemplateData>,
    spec: &mut NodeGroupSpec,
    resource: &str,
) -> Vec<AmiType> {
    let image = template.and_then(|t| t.image_id.clone());
    let bootstrap = template
        .and_then(|t| t.user_data.as_deref())
        .and_then(user_data::bootstrap);
    let arm = group.instance_types.iter().all(|t| is_arm_instance(t));
    let candidates = bootstrap.map(|b| family(b, arm)).unwrap_or_default();
    let (Some(image), Some(&ami_type)) = (image.clone(), candidates.first()) else {
        let why = match (image, bootstrap) {
            (None, _) => "its launch template names no AMI".to_owned(),
            (Some(image), Some(Bootstrap::EksBootstrapSh)) => format!(
                "{image} joins nodes with Amazon Linux 2's /etc/eks/bootstrap.sh; ekspec writes the bootstrap of AL2023 (nodeadm) and Bottlerocket AMIs only"
            ),
            (Some(image), _) => format!(
                "{image}: its user data says neither nodeadm (AL2023) nor Bottlerocket, so its OS family cannot be told"
            ),
        };
        x.omit(
            resource,
            "amiType",
            format!(
                "CUSTOM, {why}: written on EKS's {} AMI; the plan would replace the node group",
                spec.ami_type.eks_name()
            ),
        );
        return Vec::new();
    };
    spec.ami_type = ami_type;
    spec.ami_id = Some(image);
    candidates
}

/// The comment saying where a custom AMI group's `amiId` and `amiType` came from.
fn infer_custom_ami(x: &mut Exporting<'_>, spec: &NodeGroupSpec, by_name: bool) {
    let Some(image) = &spec.ami_id else {
        return;
    };
    let os = if spec.ami_type.is_bottlerocket() {
        "Bottlerocket TOML settings"
    } else {
        "a nodeadm NodeConfig"
    };
    let variant = if by_name {
        "its EKS name"
    } else {
        "the instance types' architecture (an NVIDIA or Neuron AMI needs its own amiType)"
    };
    x.infer(format!(
        "nodegroup {} runs the custom AMI {image} of its launch template (`amiId`; an `amiParameter` naming it would follow new releases); amiType {}: the OS family from its user data ({os}), the variant from {variant}",
        spec.name,
        spec.ami_type.eks_name(),
    ));
}

/// `capacityReservation`, from the launch template (EC2's default, `open` without a target,
/// is left out).
fn capacity_reservation(
    x: &mut Exporting<'_>,
    data: &LaunchTemplateData,
    resource: &str,
) -> Option<CapacityReservationSpec> {
    let live = data.capacity_reservation.as_ref()?;
    let preference = match live.preference.as_deref() {
        None => None,
        Some(name) => match serde_json::from_value(json!(name)) {
            Ok(preference) => Some(preference),
            Err(_) => {
                x.omit(
                    resource,
                    "capacityReservationSpecification",
                    format!("preference {name} is not one the spec knows"),
                );
                None
            }
        },
    };
    let spec = CapacityReservationSpec {
        preference,
        id: live.id.clone(),
        resource_group_arn: live.resource_group_arn.clone(),
    };
    let default = spec.id.is_none()
        && spec.resource_group_arn.is_none()
        && matches!(
            spec.preference,
            None | Some(crate::spec::CapacityReservationPreference::Open)
        );
    (!default).then_some(spec)
}

/// `preBootstrapCommands`: the shell script parts of the launch template's user data. User
/// data another tool wrote is listed with what was carried over from it.
fn pre_bootstrap_commands(
    x: &mut Exporting<'_>,
    group: &ObservedNodeGroup,
    data: &LaunchTemplateData,
    spec: &mut NodeGroupSpec,
    resource: &str,
) {
    let Some(text) = data.user_data.as_deref() else {
        return;
    };
    let read = user_data::commands(text);
    // Amazon Linux 2's bootstrap is not a command the spec's AMIs (AL2023) can run.
    let (bootstrap, commands): (Vec<String>, Vec<String>) = read
        .commands
        .into_iter()
        .partition(|c| c.contains("/etc/eks/bootstrap.sh"));
    if !spec.ami_type.is_bottlerocket() {
        spec.pre_bootstrap_commands = commands;
    }
    let ekspec_made = x.live.owned_id(&group.tags).is_some();
    if ekspec_made && !read.foreign {
        return;
    }
    let mut carried = Vec::new();
    if spec.ami_id.is_some() {
        carried.push(format!("the OS family ({})", spec.ami_type.eks_name()));
    }
    if !spec.pre_bootstrap_commands.is_empty() {
        carried.push(format!(
            "{} shell line(s) as preBootstrapCommands",
            spec.pre_bootstrap_commands.len()
        ));
    }
    if !bootstrap.is_empty() {
        carried.push("not its /etc/eks/bootstrap.sh call (Amazon Linux 2)".to_owned());
    }
    x.omit(
        resource,
        "userData",
        format!(
            "ekspec writes its own user data; carried over from this one: {}",
            if carried.is_empty() {
                "nothing".to_owned()
            } else {
                carried.join(", ")
            }
        ),
    );
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
