//! EKS managed node groups and their launch templates.
//!
//! A node group's EKS name is its spec name plus a hash of the fields EKS cannot change in
//! place. Changing one of them yields a new name: the new group is created and becomes ACTIVE
//! before the old one is deleted, so capacity never drops, and a crash halfway leaves two
//! generations that the next plan sorts out by name.

use std::collections::BTreeMap;

use crate::cloud::{
    CapacityReservationTargeting, LaunchTemplateData, NodeGroupConfigChange, NodeRepair,
    NodeScaling, NodeTaint, ObservedNodeGroup, Tags, UpdateBudget,
};
use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::{CapacityReservationPreference, CapacityType, NodeGroupSpec, UpdateStrategy};

use super::generations::{self, Generation, Generational};
use super::network::{route_table_id, subnet_id};
use super::planner::Planning;
use super::user_data::{NodeJoin, NodeOs, UserData};
use super::{eks_retag, owned_tags, short_hash, tag_drift};

/// The EKS name of a node group generation.
pub fn physical_name(group: &NodeGroupSpec, subnets: &[String]) -> String {
    let types = group.instance_types.join(",");
    let disk = group.disk_size_gib.to_string();
    let imds = hop_limit(group).to_string();
    let subnets = subnets.join(",");
    let mut parts = vec![
        types.as_str(),
        group.capacity_type.eks_name(),
        group.ami_type.eks_name(),
        &disk,
        &imds,
        &subnets,
    ];
    // EKS cannot move a node group between its AMIs and a custom one ("You must create a new
    // node group to switch between specifying an AMI ID in a launch template and not", EKS
    // User Guide); a new custom AMI is only a new launch template version.
    if group.custom_ami() {
        parts.push(CUSTOM_AMI_TYPE);
    }
    let hash = short_hash(&parts);
    format!("{}-{hash}", group.name)
}

/// The `amiType` EKS reports (and is sent) for a node group whose launch template names the
/// AMI.
pub const CUSTOM_AMI_TYPE: &str = "CUSTOM";

/// The `amiType` EKS gets for a node group.
fn eks_ami_type(group: &NodeGroupSpec) -> &'static str {
    if group.custom_ami() {
        CUSTOM_AMI_TYPE
    } else {
        group.ami_type.eks_name()
    }
}

/// The custom AMI a node group wants: `Ok(None)` for EKS's AMIs, `Err` naming an
/// `amiParameter` SSM does not have.
fn custom_ami<'a>(
    group: &'a NodeGroupSpec,
    observed: &'a super::Observed,
) -> Result<Option<&'a str>, &'a str> {
    match (&group.ami_id, &group.ami_parameter) {
        (Some(id), _) => Ok(Some(id)),
        (None, Some(name)) => match observed.ami_parameters.get(name) {
            Some(Some(id)) => Ok(Some(id)),
            _ => Err(name),
        },
        (None, None) => Ok(None),
    }
}

/// The user data of a node group's launch template: a custom AMI's bootstrap (EKS merges
/// none in) and the pre-bootstrap commands.
fn user_data(
    cluster: &str,
    name: &str,
    group: &NodeGroupSpec,
    ami: Option<&str>,
) -> Option<UserData> {
    let join = ami.map(|ami| {
        let mut labels = group.labels.clone();
        // The labels EKS puts on its own AMIs' nodes, which it cannot add here.
        labels.insert("eks.amazonaws.com/nodegroup".to_owned(), name.to_owned());
        labels.insert(
            "eks.amazonaws.com/nodegroup-image".to_owned(),
            ami.to_owned(),
        );
        labels.insert(
            "eks.amazonaws.com/capacityType".to_owned(),
            group.capacity_type.eks_name().to_owned(),
        );
        NodeJoin {
            os: if group.ami_type.is_bottlerocket() {
                NodeOs::Bottlerocket
            } else {
                NodeOs::Al2023
            },
            cluster: cluster.to_owned(),
            endpoint: Ref::output("cluster", "endpoint"),
            certificate_authority: Ref::output("cluster", "certificate-authority"),
            service_cidr: Ref::output("cluster", "service-cidr"),
            labels,
            taints: group
                .taints
                .iter()
                .map(|t| {
                    format!(
                        "{}={}:{}",
                        t.key,
                        t.value.as_deref().unwrap_or_default(),
                        t.effect.kubernetes_name()
                    )
                })
                .collect(),
        }
    });
    (join.is_some() || !group.pre_bootstrap_commands.is_empty()).then(|| UserData {
        commands: group.pre_bootstrap_commands.clone(),
        join,
    })
}

fn hop_limit(group: &NodeGroupSpec) -> u32 {
    if group.pod_imds_access { 2 } else { 1 }
}

fn taints(group: &NodeGroupSpec) -> Vec<NodeTaint> {
    let mut taints: Vec<NodeTaint> = group
        .taints
        .iter()
        .map(|t| NodeTaint {
            key: t.key.clone(),
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.eks_name().to_owned(),
        })
        .collect();
    taints.sort();
    taints
}

fn budget(group: &NodeGroupSpec) -> UpdateBudget {
    match (group.max_unavailable, group.max_unavailable_percentage) {
        (None, Some(p)) => UpdateBudget::Percentage(i32::try_from(p).unwrap_or(100)),
        (n, _) => UpdateBudget::Count(i32::try_from(n.unwrap_or(1)).unwrap_or(1)),
    }
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The node auto repair settings the spec asks for (`None`: not sent at create).
fn node_repair(group: &NodeGroupSpec) -> Option<NodeRepair> {
    group.node_repair_config.map(|r| NodeRepair {
        enabled: r.enabled,
        max_unhealthy_node_threshold_count: r.max_unhealthy_node_threshold_count.map(to_i32),
        max_unhealthy_node_threshold_percentage: r
            .max_unhealthy_node_threshold_percentage
            .map(to_i32),
        max_parallel_nodes_repaired_count: r.max_parallel_nodes_repaired_count.map(to_i32),
        max_parallel_nodes_repaired_percentage: r
            .max_parallel_nodes_repaired_percentage
            .map(to_i32),
    })
}

/// "enabled, maxUnhealthyNodeThresholdCount 3, ..." for a plan.
fn repair_text(repair: Option<&NodeRepair>) -> String {
    let Some(r) = repair.filter(|r| **r != NodeRepair::default()) else {
        return "disabled".to_owned();
    };
    let mut parts = vec![if r.enabled { "enabled" } else { "disabled" }.to_owned()];
    for (name, value) in [
        (
            "maxUnhealthyNodeThresholdCount",
            r.max_unhealthy_node_threshold_count,
        ),
        (
            "maxUnhealthyNodeThresholdPercentage",
            r.max_unhealthy_node_threshold_percentage,
        ),
        (
            "maxParallelNodesRepairedCount",
            r.max_parallel_nodes_repaired_count,
        ),
        (
            "maxParallelNodesRepairedPercentage",
            r.max_parallel_nodes_repaired_percentage,
        ),
    ] {
        if let Some(value) = value {
            parts.push(format!("{name} {value}"));
        }
    }
    parts.join(", ")
}

/// The Capacity Reservation targeting the spec asks for (`None`: EC2's default, `open`).
fn capacity_reservation(group: &NodeGroupSpec) -> Option<CapacityReservationTargeting> {
    group
        .capacity_reservation
        .as_ref()
        .map(|c| CapacityReservationTargeting {
            preference: c
                .preference
                .map(CapacityReservationPreference::ec2_name)
                .map(str::to_owned),
            id: c.id.clone(),
            resource_group_arn: c.resource_group_arn.clone(),
        })
}

/// A targeting with EC2's default (`open`, no target) read as none at all, so a template
/// that spells the default out and one that leaves it out compare equal.
fn effective_reservation(
    targeting: Option<&CapacityReservationTargeting>,
) -> Option<&CapacityReservationTargeting> {
    targeting.filter(|t| {
        t.id.is_some()
            || t.resource_group_arn.is_some()
            || t.preference.as_deref().is_some_and(|p| p != "open")
    })
}

fn reservation_text(targeting: Option<&CapacityReservationTargeting>) -> String {
    let Some(t) = effective_reservation(targeting) else {
        return "open".to_owned();
    };
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(t.preference.as_deref());
    parts.extend(t.id.as_deref());
    parts.extend(t.resource_group_arn.as_deref());
    parts.join(" ")
}

/// Plans every node group.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = file.metadata.name.clone();
    for group in &file.spec.node_groups {
        let resource = format!("nodegroup/{}", group.name);
        p.desire(&resource);
        let (subnets, subnet_keys, mut after) = match subnets_of(p, group) {
            Ok(subnets) => subnets,
            Err(reason) => {
                p.push(Change::new(&resource, ChangeKind::Impossible, Vec::new()).reason(reason));
                continue;
            }
        };
        let name = physical_name(group, &subnet_keys);
        let template = format!("launch-template/{name}");
        p.desire(&template);
        let scaling = group.scaling();
        let generations: Vec<ObservedNodeGroup> = p
            .observed
            .node_groups
            .iter()
            .filter(|g| p.owned(&g.tags) == Some(resource.as_str()))
            .cloned()
            .collect();

        // A custom AMI from an SSM parameter that does not exist: nothing can be launched.
        let ami = match custom_ami(group, p.observed) {
            Ok(ami) => ami.map(str::to_owned),
            Err(parameter) => {
                p.push(
                    Change::new(&resource, ChangeKind::Impossible, Vec::new())
                        .id(&name)
                        .reason(format!(
                            "the SSM parameter `{parameter}` (amiParameter) does not exist in {} or cannot be read",
                            file.metadata.region
                        )),
                );
                continue;
            }
        };
        let user_data = user_data(&cluster, &name, group, ami.as_deref());
        // The launch template of the current generation; a change of its settings (tags for
        // instances and volumes, the disk mapping, the AMI and user data) is a new version the
        // node group rolls to.
        let mut data = template_data(file, group);
        data.image_id = ami.clone();
        data.user_data = user_data
            .as_ref()
            .and_then(|u| u.render(&|r| resolve_now(p, r)));
        let live_template = p
            .observed
            .network
            .launch_templates
            .iter()
            .find(|t| p.owned(&t.tags) == Some(template.as_str()))
            .cloned();
        let mut new_version = false;
        if let Some(live) = &live_template {
            let tags = owned_tags(file, &template, &group.tags);
            let (missing, mut fields) = tag_drift(&live.tags, &tags);
            let mut ops = Vec::new();
            if !missing.is_empty() {
                ops.push(Operation::TagEc2 {
                    ids: vec![Ref::Value(live.id.clone())],
                    tags: missing,
                });
            }
            if let Some(changed) = live.data.as_ref().and_then(|old| {
                // User data that cannot be written yet (no cluster) is not a difference.
                let mut want = data.clone();
                if want.user_data.is_none() && user_data.is_some() {
                    want.user_data.clone_from(&old.user_data);
                }
                template_fields(old, &want)
            }) {
                new_version = true;
                fields.extend(changed);
                ops.push(Operation::CreateLaunchTemplateVersion {
                    id: live.id.clone(),
                    data: data.clone(),
                    user_data: user_data.clone(),
                });
            }
            if !ops.is_empty() {
                p.push(
                    Change::new(&template, ChangeKind::Update, ops)
                        .id(&live.id)
                        .fields(fields)
                        .after(joins_cluster(user_data.as_ref())),
                );
            }
        } else {
            // The plan shows the AMI a custom one resolved to.
            let fields = ami
                .iter()
                .map(|ami| FieldChange {
                    field: "amiId".to_owned(),
                    old: None,
                    new: Some(ami.clone()),
                })
                .collect();
            p.push(
                Change::new(
                    &template,
                    ChangeKind::Create,
                    vec![Operation::CreateLaunchTemplate {
                        name: format!("ekspec-{cluster}-{name}"),
                        data,
                        tags: owned_tags(file, &template, &group.tags),
                        user_data: user_data.clone(),
                    }],
                )
                .id(format!("ekspec-{cluster}-{name}"))
                .fields(fields)
                .after(joins_cluster(user_data.as_ref())),
            );
        }
        let create = Operation::CreateNodeGroup {
            cluster: cluster.clone(),
            name: name.clone(),
            node_role: Ref::output("role/node", "arn"),
            subnets,
            instance_types: request_instance_types(group),
            capacity_type: group.capacity_type.eks_name().to_owned(),
            ami_type: eks_ami_type(group).to_owned(),
            scaling: NodeScaling {
                min: to_i32(scaling.min),
                max: to_i32(scaling.max),
                desired: to_i32(scaling.desired),
            },
            labels: group.labels.clone(),
            taints: taints(group),
            launch_template: Ref::output(&template, "id"),
            update_budget: budget(group),
            tags: owned_tags(file, &resource, &group.tags),
            update_strategy: group.update_strategy.map(|s| s.eks_name().to_owned()),
            node_repair: node_repair(group),
        };
        after.extend([
            "cluster".to_owned(),
            "role/node".to_owned(),
            template.clone(),
        ]);
        let plan = generations::sort(&name, &generations);
        let delete =
            |g: &ObservedNodeGroup, replaced_by: Option<&str>| Operation::DeleteNodeGroup {
                cluster: cluster.clone(),
                name: g.name.clone(),
                replaced_by: replaced_by.map(str::to_owned),
            };
        // Generations that are not the spec's: deleted once the spec's is ACTIVE.
        let delete_old: Vec<Operation> = plan.old.iter().map(|g| delete(g, Some(&name))).collect();
        match plan.current {
            Generation::Missing if plan.old.is_empty() => p.push(
                Change::new(&resource, ChangeKind::Create, vec![create])
                    .id(&name)
                    .after(after),
            ),
            Generation::Missing => {
                let previous = plan.old[0];
                let fields = replace_fields(p, group, previous, &subnet_keys);
                let mut ops = vec![create];
                ops.extend(delete_old);
                p.push(
                    Change::new(&resource, ChangeKind::Replace, ops)
                        .id(&name)
                        .fields(fields)
                        .reason(format!(
                            "EKS cannot change these fields in place: node group `{name}` is created and becomes ACTIVE before `{}` is deleted",
                            previous.name
                        ))
                        .after(after),
                );
            }
            // EKS keeps a failed generation until it is deleted, and a deleting one blocks its
            // name: it goes first, then the spec's generation is made again under that name.
            Generation::Unusable(live) => {
                let mut ops = vec![delete(live, None), create];
                ops.extend(delete_old);
                let mut reason = match live.status.as_str() {
                    "DELETING" => format!("node group `{name}` is still being deleted"),
                    status => format!("EKS reports node group `{name}` {status}: {}", health(live)),
                };
                reason.push_str("; it is deleted and created again");
                if !plan.old.is_empty() {
                    reason.push_str(&format!(
                        ", and {} only once it is ACTIVE",
                        names(&plan.old, "is deleted", "are deleted")
                    ));
                }
                p.push(
                    Change::new(&resource, ChangeKind::Replace, ops)
                        .id(&name)
                        .fields(vec![FieldChange::new("status", &live.status, "ACTIVE")])
                        .reason(reason)
                        .after(after),
                );
            }
            Generation::Usable(live) => {
                let (change, mut fields) = in_place(group, live);
                let mut ops = Vec::new();
                if let Some(change) = change {
                    ops.push(Operation::UpdateNodeGroup {
                        cluster: cluster.clone(),
                        name: name.clone(),
                        change,
                    });
                }
                if let Some((op, field)) = roll_to_template(
                    &cluster,
                    live,
                    live_template.as_ref(),
                    &template,
                    new_version,
                ) {
                    ops.push(op);
                    fields.push(field);
                }
                let tags = owned_tags(file, &resource, &group.tags);
                if let Some((op, tag_fields)) = eks_retag(&live.arn, &live.tags, &tags) {
                    ops.push(op);
                    fields.extend(tag_fields);
                }
                let finishing = !delete_old.is_empty();
                ops.extend(delete_old);
                if !ops.is_empty() {
                    let mut reasons = Vec::new();
                    if finishing {
                        reasons.push(format!(
                            "finishing an interrupted replacement: {} once `{name}` is ACTIVE",
                            names(&plan.old, "is deleted", "are deleted")
                        ));
                    }
                    if live.status == "DEGRADED" {
                        reasons.push(format!("EKS reports `{name}` DEGRADED: {}", health(live)));
                    }
                    let mut change = Change::new(
                        &resource,
                        if finishing {
                            ChangeKind::Replace
                        } else {
                            ChangeKind::Update
                        },
                        ops,
                    )
                    .id(&name)
                    .fields(fields)
                    .after(["cluster".to_owned(), template.clone()]);
                    if !reasons.is_empty() {
                        change = change.reason(reasons.join("; "));
                    }
                    p.push(change);
                }
            }
        }
    }
}

/// The device `diskSizeGiB` sizes on Bottlerocket: its data volume (`/dev/xvda` is the OS).
const BOTTLEROCKET_DATA_DEVICE: &str = "/dev/xvdb";
/// The root volume of Amazon Linux and the OS volume of Bottlerocket.
const ROOT_DEVICE: &str = "/dev/xvda";

/// The launch template settings of a node group.
fn template_data(file: &crate::spec::ClusterFile, group: &NodeGroupSpec) -> LaunchTemplateData {
    let mut instance_tags: Tags = file.metadata.tags.clone();
    instance_tags.extend(group.tags.clone());
    instance_tags.insert(
        "Name".to_owned(),
        format!("{}-{}", file.metadata.name, group.name),
    );
    let bottlerocket = group.ami_type.eks_name().starts_with("BOTTLEROCKET");
    LaunchTemplateData {
        disk_device: if bottlerocket {
            BOTTLEROCKET_DATA_DEVICE
        } else {
            ROOT_DEVICE
        }
        .to_owned(),
        disk_size_gib: group.disk_size_gib,
        os_device: bottlerocket.then(|| ROOT_DEVICE.to_owned()),
        metadata_hop_limit: hop_limit(group),
        metadata_tokens_required: true,
        instance_tags,
        image_id: None,
        user_data: None,
        capacity_reservation: capacity_reservation(group),
        // A Capacity Block's instance type and market go in the launch template (EKS user
        // guide, "Create a managed node group with Capacity Blocks for ML").
        instance_type: capacity_block(group)
            .then(|| group.instance_types.first().cloned())
            .flatten(),
        market_type: capacity_block(group).then(|| CAPACITY_BLOCK_MARKET.to_owned()),
    }
}

/// The launch template's `InstanceMarketOptions.MarketType` of a Capacity Block.
pub const CAPACITY_BLOCK_MARKET: &str = "capacity-block";

fn capacity_block(group: &NodeGroupSpec) -> bool {
    group.capacity_type == CapacityType::CapacityBlock
}

/// The instance types the CreateNodegroup request names: none for a Capacity Block, whose
/// launch template names its one ("Cannot specify instance types in launch template and API
/// Request", EKS's refusal of both, terraform-aws-modules/terraform-aws-eks#1386).
fn request_instance_types(group: &NodeGroupSpec) -> Vec<String> {
    if capacity_block(group) {
        Vec::new()
    } else {
        group.instance_types.clone()
    }
}

/// What differs between a template's newest version and the settings wanted (`None` when
/// nothing does).
fn template_fields(
    live: &LaunchTemplateData,
    want: &LaunchTemplateData,
) -> Option<Vec<FieldChange>> {
    let mut fields = Vec::new();
    let keys: std::collections::BTreeSet<&String> = live
        .instance_tags
        .keys()
        .chain(want.instance_tags.keys())
        .collect();
    for key in keys {
        let (old, new) = (live.instance_tags.get(key), want.instance_tags.get(key));
        if old != new {
            fields.push(FieldChange {
                field: format!("instanceTags.{key}"),
                old: old.cloned(),
                new: new.cloned(),
            });
        }
    }
    if (&live.disk_device, &live.os_device) != (&want.disk_device, &want.os_device) {
        fields.push(FieldChange::new(
            "diskSizeGiB device",
            &live.disk_device,
            &want.disk_device,
        ));
    }
    if live.image_id != want.image_id {
        fields.push(FieldChange {
            field: "amiId".to_owned(),
            old: live.image_id.clone(),
            new: want.image_id.clone(),
        });
    }
    // Labels, taints, commands or the cluster's endpoint: the whole text is rewritten.
    if live.user_data != want.user_data {
        fields.push(FieldChange {
            field: "userData".to_owned(),
            old: live.user_data.as_ref().map(|_| "previous".to_owned()),
            new: want.user_data.as_ref().map(|_| "rewritten".to_owned()),
        });
    }
    // Both change only with the capacity type, which makes a new node group; a template
    // edited by hand is put back.
    if (&live.instance_type, &live.market_type) != (&want.instance_type, &want.market_type) {
        fields.push(FieldChange {
            field: "instanceType/marketType".to_owned(),
            old: Some(format!("{:?}/{:?}", live.instance_type, live.market_type)),
            new: Some(format!("{:?}/{:?}", want.instance_type, want.market_type)),
        });
    }
    let (live_reservation, want_reservation) = (
        effective_reservation(live.capacity_reservation.as_ref()),
        effective_reservation(want.capacity_reservation.as_ref()),
    );
    if live_reservation != want_reservation {
        fields.push(FieldChange::new(
            "capacityReservation",
            reservation_text(live_reservation),
            reservation_text(want_reservation),
        ));
    }
    let same_but_defaults = live_reservation == want_reservation
        && LaunchTemplateData {
            capacity_reservation: None,
            ..live.clone()
        } == LaunchTemplateData {
            capacity_reservation: None,
            ..want.clone()
        };
    if fields.is_empty() && !same_but_defaults {
        fields.push(FieldChange::new(
            "launchTemplate",
            "other settings",
            "the spec's",
        ));
    }
    (!fields.is_empty()).then_some(fields)
}

/// The value of a reference known at plan time (an existing resource's output).
fn resolve_now(p: &Planning<'_>, r: &Ref) -> Option<String> {
    match r {
        Ref::Value(value) => Some(value.clone()),
        Ref::Output(key) => {
            let (resource, name) = key.rsplit_once('.')?;
            p.output_of(resource, name)
        }
    }
}

/// A launch template whose user data joins a custom AMI's nodes waits for the cluster.
fn joins_cluster(user_data: Option<&UserData>) -> Vec<String> {
    user_data
        .filter(|u| u.join.is_some())
        .map(|_| vec!["cluster".to_owned()])
        .unwrap_or_default()
}

/// Rolls the node group to the template's newest version when it runs an older one (or a new
/// version is planned).
fn roll_to_template(
    cluster: &str,
    live: &ObservedNodeGroup,
    template: Option<&crate::cloud::ObservedLaunchTemplate>,
    resource: &str,
    new_version: bool,
) -> Option<(Operation, FieldChange)> {
    let template = template?;
    let (id, running) = live.launch_template.as_ref()?;
    if id != &template.id || (!new_version && running == &template.latest_version.to_string()) {
        return None;
    }
    Some((
        Operation::UpdateNodeGroupLaunchTemplate {
            cluster: cluster.to_owned(),
            name: live.name.clone(),
            launch_template: id.clone(),
            version: Ref::output(resource, "version"),
        },
        FieldChange::new(
            "launchTemplate version",
            running,
            if new_version {
                "a new version".to_owned()
            } else {
                template.latest_version.to_string()
            },
        ),
    ))
}

impl Generational for ObservedNodeGroup {
    fn generation_name(&self) -> &str {
        &self.name
    }

    fn generation_status(&self) -> &str {
        &self.status
    }
}

/// EKS's health issues of a node group, for a message.
pub fn health(group: &ObservedNodeGroup) -> String {
    if group.health_issues.is_empty() {
        "no health issues reported".to_owned()
    } else {
        group.health_issues.join("; ")
    }
}

/// "`a` is deleted" / "`a`, `b` are deleted".
fn names(groups: &[&ObservedNodeGroup], one: &str, many: &str) -> String {
    let list: Vec<String> = groups.iter().map(|g| format!("`{}`", g.name)).collect();
    format!(
        "{} {}",
        list.join(", "),
        if list.len() == 1 { one } else { many }
    )
}

/// Subnet refs, their stable keys (for the name hash) and the changes nodes must wait for;
/// `Err` says why the group's `availabilityZones` have no subnet.
type Subnets = (Vec<Ref>, Vec<String>, Vec<String>);

fn subnets_of(p: &Planning<'_>, group: &NodeGroupSpec) -> Result<Subnets, String> {
    let Some(file) = p.file else {
        return Ok((Vec::new(), Vec::new(), Vec::new()));
    };
    let private = group.private_networking;
    let wanted = |zone: &str| {
        group.availability_zones.is_empty() || group.availability_zones.iter().any(|z| z == zone)
    };
    let tier = if private { "private" } else { "public" };
    if let (Some(_), Some(subnets)) = (&file.spec.vpc.id, &file.spec.vpc.subnets) {
        let ids = if private {
            &subnets.private
        } else {
            &subnets.public
        };
        let zone_of = |id: &String| {
            p.observed
                .existing_subnets
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.availability_zone.as_str())
        };
        let ids: Vec<String> = ids
            .iter()
            .filter(|id| group.availability_zones.is_empty() || zone_of(id).is_some_and(wanted))
            .cloned()
            .collect();
        let missing: Vec<&str> = group
            .availability_zones
            .iter()
            .filter(|z| !ids.iter().any(|id| zone_of(id) == Some(z.as_str())))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "none of the spec's {tier} subnets (spec.vpc.subnets.{tier}) is in {} (availabilityZones)",
                missing.join(", ")
            ));
        }
        return Ok((
            ids.iter().cloned().map(Ref::Value).collect(),
            ids,
            Vec::new(),
        ));
    }
    let missing: Vec<&str> = group
        .availability_zones
        .iter()
        .filter(|z| !p.zones.contains(z))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the VPC has no subnet in {} (availabilityZones); its zones are {}",
            missing.join(", "),
            p.zones.join(", ")
        ));
    }
    let zones: Vec<&String> = p.zones.iter().filter(|z| wanted(z)).collect();
    let resources: Vec<String> = zones.iter().map(|z| subnet_id(tier, z)).collect();
    // Nodes in private subnets need their NAT route before they can join the cluster.
    let mut after = resources.clone();
    for zone in &zones {
        let table = route_table_id(!private, zone);
        after.push(format!("route/{}", &table["route-table/".len()..]));
        // And, in an IPv6 cluster, their IPv6 route (no change of that name otherwise).
        after.push(format!("ipv6-route/{}", &table["route-table/".len()..]));
        if !private {
            break;
        }
    }
    Ok((
        resources.iter().map(|r| Ref::output(r, "id")).collect(),
        resources,
        after,
    ))
}

/// What an in-place update must change, if anything.
fn in_place(
    group: &NodeGroupSpec,
    live: &ObservedNodeGroup,
) -> (Option<NodeGroupConfigChange>, Vec<FieldChange>) {
    let mut change = NodeGroupConfigChange::default();
    let mut fields = Vec::new();
    for (key, value) in &group.labels {
        if live.labels.get(key) != Some(value) {
            change.add_labels.insert(key.clone(), value.clone());
            fields.push(FieldChange {
                field: format!("labels.{key}"),
                old: live.labels.get(key).cloned(),
                new: Some(value.clone()),
            });
        }
    }
    for (key, value) in &live.labels {
        if !group.labels.contains_key(key) {
            change.remove_labels.push(key.clone());
            fields.push(FieldChange {
                field: format!("labels.{key}"),
                old: Some(value.clone()),
                new: None,
            });
        }
    }
    let want_taints = taints(group);
    let taint_text = |t: &NodeTaint| format!("{}={}:{}", t.key, t.value, t.effect);
    for taint in want_taints.iter().filter(|t| !live.taints.contains(t)) {
        change.add_taints.push(taint.clone());
        fields.push(FieldChange {
            field: "taints".to_owned(),
            old: None,
            new: Some(taint_text(taint)),
        });
    }
    for taint in live.taints.iter().filter(|t| {
        !want_taints
            .iter()
            .any(|w| w.key == t.key && w.effect == t.effect)
    }) {
        change.remove_taints.push(taint.clone());
        fields.push(FieldChange {
            field: "taints".to_owned(),
            old: Some(taint_text(taint)),
            new: None,
        });
    }
    let scaling = group.scaling();
    let (min, max) = (to_i32(scaling.min), to_i32(scaling.max));
    // The autoscaler owns desiredSize after creation; it is only pulled back into range.
    let desired = live.scaling.desired.clamp(min, max.max(min));
    if live.scaling.min != min || live.scaling.max != max || live.scaling.desired != desired {
        if live.scaling.min != min {
            fields.push(FieldChange::new("minSize", live.scaling.min, min));
        }
        if live.scaling.max != max {
            fields.push(FieldChange::new("maxSize", live.scaling.max, max));
        }
        if live.scaling.desired != desired {
            fields.push(FieldChange::new(
                "desiredSize",
                live.scaling.desired,
                desired,
            ));
        }
        change.scaling = Some(NodeScaling { min, max, desired });
    }
    let want_budget = budget(group);
    // A node group without an update config updates one node at a time, as EKS documents.
    let live_budget = live.update_budget.unwrap_or(UpdateBudget::Count(1));
    // No strategy in the spec is EKS's default; so is none reported (EKS leaves
    // `updateStrategy` out of a group created without one, eksctl-io/eksctl#8512).
    let want_strategy = group.update_strategy.unwrap_or_default().eks_name();
    let live_strategy = live
        .update_strategy
        .as_deref()
        .unwrap_or(UpdateStrategy::Default.eks_name());
    if live_budget != want_budget {
        let text = |b: UpdateBudget| match b {
            UpdateBudget::Count(n) => format!("maxUnavailable {n}"),
            UpdateBudget::Percentage(n) => format!("maxUnavailablePercentage {n}"),
        };
        fields.push(FieldChange::new(
            "updateConfig",
            text(live_budget),
            text(want_budget),
        ));
        change.update_budget = Some(want_budget);
    }
    if live_strategy != want_strategy {
        fields.push(FieldChange::new(
            "updateStrategy",
            live_strategy,
            want_strategy,
        ));
        // EKS's updateConfig needs a budget beside the strategy.
        change.update_budget = Some(want_budget);
    }
    if change.update_budget.is_some()
        && (group.update_strategy.is_some() || live_strategy != want_strategy)
    {
        change.update_strategy = Some(want_strategy.to_owned());
    }
    // No repair block in the spec is EKS's default, repair off: a group repairing its nodes
    // is turned off, one that does not is left alone. EKS reports back the fields it was sent
    // and no others (DescribeNodegroup output quoted in eksctl-io/eksctl#8512), so the whole
    // block is compared.
    let want_repair = node_repair(group).unwrap_or_default();
    let live_repair = live.node_repair.unwrap_or_default();
    let differs = if group.node_repair_config.is_some() {
        want_repair != live_repair
    } else {
        live_repair.enabled
    };
    if differs {
        fields.push(FieldChange::new(
            "nodeRepairConfig",
            repair_text(Some(&live_repair)),
            repair_text(Some(&want_repair)),
        ));
        change.node_repair = Some(want_repair);
    }
    let empty = change == NodeGroupConfigChange::default();
    ((!empty).then_some(change), fields)
}

/// The replace-only fields that differ between the previous generation and the spec.
fn replace_fields(
    p: &Planning<'_>,
    group: &NodeGroupSpec,
    previous: &ObservedNodeGroup,
    subnet_keys: &[String],
) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut want_types = group.instance_types.clone();
    let mut have_types = previous.instance_types.clone();
    want_types.sort();
    have_types.sort();
    if want_types != have_types {
        fields.push(FieldChange::new(
            "instanceTypes",
            have_types.join(","),
            want_types.join(","),
        ));
    }
    if previous.capacity_type != group.capacity_type.eks_name() {
        fields.push(FieldChange::new(
            "capacityType",
            &previous.capacity_type,
            group.capacity_type.eks_name(),
        ));
    }
    if previous.ami_type != eks_ami_type(group) {
        fields.push(FieldChange::new(
            "amiType",
            &previous.ami_type,
            eks_ami_type(group),
        ));
    }
    let template: Option<&LaunchTemplateData> =
        previous.launch_template.as_ref().and_then(|(id, _)| {
            p.observed
                .network
                .launch_templates
                .iter()
                .find(|t| &t.id == id)
                .and_then(|t| t.data.as_ref())
        });
    if let Some(data) = template {
        if data.disk_size_gib != group.disk_size_gib {
            fields.push(FieldChange::new(
                "diskSizeGiB",
                data.disk_size_gib,
                group.disk_size_gib,
            ));
        }
        if data.metadata_hop_limit != hop_limit(group) {
            fields.push(FieldChange::new(
                "podImdsAccess",
                data.metadata_hop_limit == 2,
                group.pod_imds_access,
            ));
        }
    }
    let have_subnets: BTreeMap<&str, ()> = previous
        .subnet_ids
        .iter()
        .map(|s| (s.as_str(), ()))
        .collect();
    let want_subnets: Vec<String> = subnet_keys
        .iter()
        .filter_map(|k| {
            p.output_of(k, "id")
                .or_else(|| k.starts_with("subnet-").then(|| k.clone()))
        })
        .collect();
    if !want_subnets.is_empty()
        && want_subnets
            .iter()
            .any(|s| !have_subnets.contains_key(s.as_str()))
    {
        fields.push(FieldChange::new(
            "privateNetworking/subnets",
            previous.subnet_ids.join(","),
            want_subnets.join(","),
        ));
    }
    if fields.is_empty() {
        fields.push(FieldChange::new(
            "launchTemplate",
            &previous.name,
            physical_name(group, subnet_keys),
        ));
    }
    fields
}

#[cfg(test)]
mod tests {
    use crate::cloud::{ObservedSubnet, ObservedVpc, Tags};
    use crate::plan::{Change, Operation, Plan};
    use crate::resources::{Observed, planner};

    const SPEC: &str = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {id: vpc-0123abcd, subnets: {private: [subnet-0123abcd, subnet-4567abcd]}}\n  nodeGroups: [{name: system, instanceTypes: [m6i.xlarge], GROUP}]\n";

    /// A new cluster in an existing VPC.
    fn plan(group: &str) -> Plan {
        let source = SPEC.replace("GROUP", group);
        let file = crate::spec::parse_str("t.yaml", &source).spec.unwrap();
        let subnet = |id: &str, zone: &str| ObservedSubnet {
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
            ..Observed::default()
        };
        planner::plan(&file, &observed)
    }

    fn change<'p>(plan: &'p Plan, prefix: &str) -> &'p Change {
        plan.changes
            .iter()
            .find(|c| c.resource.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {:#?}", plan.changes))
    }

    #[test]
    fn commands_on_an_eks_ami_are_user_data_eks_merges_without_waiting_for_the_cluster() {
        let plan = plan("preBootstrapCommands: [echo hi]");
        let template = change(&plan, "launch-template/");
        let Operation::CreateLaunchTemplate {
            data, user_data, ..
        } = &template.operations[0]
        else {
            panic!("{template:#?}")
        };
        assert_eq!(data.image_id, None);
        let user_data = user_data.as_ref().expect("user data");
        assert!(user_data.join.is_none());
        assert!(data.user_data.as_deref().unwrap().contains("echo hi"));
        assert!(!template.after.contains(&"cluster".to_owned()));
        let group = change(&plan, "nodegroup/");
        assert!(matches!(
            &group.operations[0],
            Operation::CreateNodeGroup { ami_type, .. } if ami_type == "AL2023_x86_64_STANDARD"
        ));
    }

    #[test]
    fn a_custom_ami_is_in_the_template_made_after_the_cluster_and_eks_gets_custom() {
        let plan = plan("amiId: ami-0123456789abcdef0");
        let template = change(&plan, "launch-template/");
        let Operation::CreateLaunchTemplate {
            data, user_data, ..
        } = &template.operations[0]
        else {
            panic!("{template:#?}")
        };
        assert_eq!(data.image_id.as_deref(), Some("ami-0123456789abcdef0"));
        // Written when the cluster's endpoint is known, at apply.
        assert_eq!(data.user_data, None);
        assert!(user_data.as_ref().unwrap().join.is_some());
        assert!(template.after.contains(&"cluster".to_owned()));
        assert_eq!(
            template.fields[0].new.as_deref(),
            Some("ami-0123456789abcdef0")
        );
        let group = change(&plan, "nodegroup/");
        assert!(matches!(
            &group.operations[0],
            Operation::CreateNodeGroup { ami_type, .. } if ami_type == "CUSTOM"
        ));
    }

    #[test]
    fn a_custom_ami_is_a_generation_of_its_own() {
        let source = SPEC.replace("GROUP", "amiId: ami-0123456789abcdef0");
        let file = crate::spec::parse_str("t.yaml", &source).spec.unwrap();
        let mut group = file.spec.node_groups[0].clone();
        let subnets = ["subnet-0123abcd".to_owned()];
        let custom = super::physical_name(&group, &subnets);
        group.ami_id = Some("ami-0fedcba9876543210".to_owned());
        // Another AMI is a new template version of the same group; EKS's AMI is a new group.
        assert_eq!(super::physical_name(&group, &subnets), custom);
        group.ami_id = None;
        assert_ne!(super::physical_name(&group, &subnets), custom);
    }
}
