//! Kubernetes version upgrades, one minor version at a time. Each step upgrades the control
//! plane (`cluster/version-1.N`), then the add-ons that follow EKS's default version
//! (`addon/NAME/version-1.N`; on the last step the add-on's own change does it), then every
//! node group (`nodegroup/NAME/version-1.N`). The next step starts when the previous one is
//! done. Node groups left behind by an interrupted upgrade catch up the same way. EKS refuses a
//! step while any node group is behind the control plane, so a replacement makes its new
//! generation after the first step, and generations and groups on their way out are gone
//! before the second.

use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::validate::parse_minor;

use super::addon::{desired_version, resource_id as addon_id};
use super::planner::Planning;
use super::upgrade_steps;

/// Plans the upgrade chain (nothing when versions already match).
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let name = file.metadata.name.clone();
    let Some(live) = p.observed.owned_cluster(&name).cloned() else {
        return;
    };
    if p.changes()
        .iter()
        .any(|c| c.resource == "cluster" && c.kind == ChangeKind::Impossible)
    {
        return;
    }
    let want = file.spec.kubernetes_version.clone();
    let upgrading = parse_minor(&want) > parse_minor(&live.version);
    let steps = if upgrading {
        upgrade_steps(Some(&live.version), &want)
    } else {
        vec![live.version.clone()]
    };

    // Node groups that get a new generation in this plan (a replacement, or a failed or
    // deleting generation made again), with the new generation's name.
    let renewed: Vec<(String, String)> = p
        .changes()
        .iter()
        .filter(|c| c.resource.starts_with("nodegroup/") && c.kind == ChangeKind::Replace)
        .filter(|c| {
            c.operations
                .iter()
                .any(|op| matches!(op, Operation::CreateNodeGroup { .. }))
        })
        .map(|c| {
            (
                c.resource.clone(),
                c.physical_id.clone().unwrap_or_default(),
            )
        })
        .collect();
    let deleted: Vec<&str> = p
        .changes()
        .iter()
        .flat_map(|c| &c.operations)
        .filter_map(|op| match op {
            Operation::DeleteNodeGroup { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    // EKS refuses a control plane step while any node group, even one being replaced or
    // removed, is behind the control plane ("Nodegroups ... must be updated to match cluster
    // version"): the changes that delete generations, and the deletes of removed groups,
    // finish before the second step.
    let mut removing: Vec<String> = p
        .changes()
        .iter()
        .filter(|c| c.resource.starts_with("nodegroup/") && !c.resource.contains("/version-"))
        .filter(|c| {
            c.operations
                .iter()
                .any(|op| matches!(op, Operation::DeleteNodeGroup { .. }))
        })
        .map(|c| c.resource.clone())
        .collect();
    removing.extend(
        p.observed
            .node_groups
            .iter()
            .filter_map(|g| p.owned(&g.tags))
            .filter(|r| r.starts_with("nodegroup/") && !p.is_desired(r))
            .map(str::to_owned),
    );
    // Node groups that keep their generation through this plan.
    let mut groups: Vec<(String, String, Option<u32>)> = p
        .observed
        .node_groups
        .iter()
        .filter(|g| !deleted.contains(&g.name.as_str()))
        .filter(|g| !matches!(g.status.as_str(), "CREATE_FAILED" | "DELETING"))
        // A custom AMI's Kubernetes version is the AMI's: EKS refuses `version` for it ("The
        // following fields can't be set in the API if you specify an AMI ID", EKS User
        // Guide); a new amiId rolls it through a launch template version.
        .filter(|g| g.ami_type != super::nodegroup::CUSTOM_AMI_TYPE)
        .filter_map(|g| {
            let resource = p.owned(&g.tags)?.to_owned();
            let renewing = renewed.iter().any(|(r, _)| *r == resource);
            (p.is_desired(&resource) && !renewing).then(|| {
                let minor = g.version.as_deref().and_then(parse_minor);
                (resource, g.name.clone(), minor)
            })
        })
        .collect();
    groups.sort();
    // Live add-on versions, advanced step by step.
    let mut addon_versions: Vec<(String, String)> = p
        .observed
        .addons
        .iter()
        .filter(|a| {
            file.spec
                .addons
                .iter()
                .any(|s| s.name == a.name && s.version.is_none())
        })
        .map(|a| (a.name.clone(), a.version.clone()))
        .collect();

    let mut previous: Vec<String> = p
        .changes()
        .iter()
        .filter(|c| c.resource == "cluster")
        .map(|c| c.resource.clone())
        .collect();
    let mut from = live.version.clone();
    for (index, version) in steps.iter().enumerate() {
        let last = index + 1 == steps.len();
        let mut step: Vec<String> = Vec::new();
        let mut control_plane = previous.clone();
        if upgrading {
            let resource = format!("cluster/version-{version}");
            p.push(
                Change::new(
                    &resource,
                    ChangeKind::Update,
                    vec![Operation::UpdateClusterVersion {
                        name: name.clone(),
                        version: version.clone(),
                    }],
                )
                .id(&name)
                .fields(vec![FieldChange::new("kubernetesVersion", &from, version)])
                .after(previous.clone()),
            );
            control_plane = vec![resource];
        }
        // Add-ons compatible with this step.
        let mut addons = Vec::new();
        if upgrading && !last {
            for (addon_name, current) in &mut addon_versions {
                let Some(spec) = file.spec.addons.iter().find(|a| &a.name == addon_name) else {
                    continue;
                };
                let Some(target) = desired_version(p, spec, version) else {
                    continue;
                };
                if *current == target {
                    continue;
                }
                let live_addon = p.observed.addons.iter().find(|a| &a.name == addon_name);
                let resource = format!("{}/version-{version}", addon_id(addon_name));
                p.push(
                    Change::new(
                        &resource,
                        ChangeKind::Update,
                        vec![Operation::UpdateAddon {
                            cluster: name.clone(),
                            name: addon_name.clone(),
                            version: target.clone(),
                            role: live_addon
                                .and_then(|a| a.service_account_role_arn.clone())
                                .map(Ref::Value),
                            configuration: live_addon.and_then(|a| a.configuration_values.clone()),
                            pod_identity: None,
                        }],
                    )
                    .id(addon_name.as_str())
                    .fields(vec![FieldChange::new("version", &*current, &target)])
                    .after(control_plane.clone()),
                );
                *current = target;
                addons.push(resource);
            }
        } else if upgrading {
            // The last step: each add-on's own change moves it to the spec's version, from
            // where the earlier steps left it (nothing left to do when they got it there).
            let finals: Vec<String> = file.spec.addons.iter().map(|a| addon_id(&a.name)).collect();
            for change in p
                .changes_mut()
                .iter_mut()
                .filter(|c| finals.contains(&c.resource))
            {
                let reached = addon_versions
                    .iter()
                    .find(|(addon, _)| addon_id(addon) == change.resource)
                    .map(|(_, version)| version.clone());
                if let Some(reached) = reached {
                    for field in change.fields.iter_mut().filter(|f| f.field == "version") {
                        field.old = Some(reached.clone());
                    }
                    change
                        .fields
                        .retain(|f| f.field != "version" || f.old != f.new);
                    let addon_fields = [
                        "version",
                        "serviceAccountRoleArn",
                        "podIdentityAssociations",
                        "configurationValues",
                    ];
                    let nothing_to_update = !change
                        .fields
                        .iter()
                        .any(|f| addon_fields.contains(&f.field.as_str()));
                    if nothing_to_update && change.reason.is_none() {
                        change
                            .operations
                            .retain(|op| !matches!(op, Operation::UpdateAddon { .. }));
                    }
                }
                if !change.operations.is_empty() {
                    change.after.extend(control_plane.iter().cloned());
                    addons.push(change.resource.clone());
                }
            }
            p.retain(|c| !(finals.contains(&c.resource) && c.operations.is_empty()));
        }
        // Node groups, after the control plane and the add-ons of this step.
        let minor = parse_minor(version);
        for (resource, group, group_minor) in &mut groups {
            if group_minor.is_none() || *group_minor >= minor {
                continue;
            }
            // EKS User Guide, "Create a managed node group with Capacity Blocks for ML": "When
            // upgrading managed node groups with Capacity Blocks, make sure that the desired
            // size of the node group is set to 0."
            if let Some(live) = p.observed.node_groups.iter().find(|g| {
                &g.name == group && g.capacity_type == "CAPACITY_BLOCK" && g.scaling.desired > 0
            }) {
                p.warn(format!(
                    "node group `{group}` runs on a Capacity Block with desiredSize {}: the EKS user guide asks for desired size 0 before such a group is upgraded (a block has no spare instances for the new nodes); set minSize and desiredSize to 0 and apply first",
                    live.scaling.desired
                ));
            }
            let change_id = format!("{resource}/version-{version}");
            let mut after = control_plane.clone();
            after.extend(addons.iter().cloned());
            // One node group update at a time: its config change first.
            after.push(resource.clone());
            p.push(
                Change::new(
                    &change_id,
                    ChangeKind::Update,
                    vec![Operation::UpdateNodeGroupVersion {
                        cluster: name.clone(),
                        name: group.clone(),
                        version: version.clone(),
                    }],
                )
                .id(group.as_str())
                .fields(vec![FieldChange::new(
                    "version",
                    format!("1.{}", group_minor.unwrap_or_default()),
                    version,
                )])
                .after(after),
            );
            *group_minor = minor;
            step.push(change_id);
        }
        if upgrading && index == 0 && !last {
            // New generations are made on this step's version, before the next step, and
            // upgraded with the others from there.
            step.extend(removing.iter().cloned());
            for (resource, group) in &renewed {
                groups.push((resource.clone(), group.clone(), minor));
                if !step.contains(resource) {
                    step.push(resource.clone());
                }
            }
            groups.sort();
        }
        step.extend(control_plane);
        step.extend(addons);
        previous = step;
        from = version.clone();
    }
    if upgrading {
        // New node groups start on the new version: after the last control plane step. New
        // generations of existing ones come after the first (see above).
        let first = format!("cluster/version-{}", steps[0]);
        let last = format!("cluster/version-{want}");
        for change in p
            .changes_mut()
            .iter_mut()
            .filter(|c| c.resource.starts_with("nodegroup/") && !c.resource.contains("/version-"))
        {
            if renewed.iter().any(|(r, _)| *r == change.resource) {
                change.after.push(first.clone());
            } else if change.kind == ChangeKind::Create {
                change.after.push(last.clone());
            }
        }
        // EKS takes no Fargate profile or access entry while the control plane is UPDATING
        // ("Cluster 'x' is not in ACTIVE status"): those wait for the upgrade too.
        for change in p.changes_mut().iter_mut().filter(|c| {
            (c.resource.starts_with("fargate-profile/") || c.resource.starts_with("access-entry/"))
                && matches!(
                    c.kind,
                    ChangeKind::Create | ChangeKind::Replace | ChangeKind::Update
                )
        }) {
            change.after.push(last.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cloud::{
        NodeScaling, ObservedCluster, ObservedNodeGroup, ObservedSubnet, ObservedVpc, Tags,
    };
    use crate::naming::{CLUSTER_TAG, RESOURCE_TAG};
    use crate::plan::{Change, ChangeKind, Operation, Plan};
    use crate::resources::nodegroup::physical_name;
    use crate::resources::{Observed, planner};

    const SPEC: &str = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {id: vpc-0123abcd, subnets: {private: [subnet-0123abcd, subnet-4567abcd]}}\n  nodeGroups: [{name: system, instanceTypes: [m6i.xlarge], minSize: 1, maxSize: 3}]\n";

    fn owned(resource: &str) -> Tags {
        Tags::from([
            (CLUSTER_TAG.to_owned(), "demo".to_owned()),
            (RESOURCE_TAG.to_owned(), resource.to_owned()),
        ])
    }

    fn group(name: &str, resource: &str, status: &str, version: &str) -> ObservedNodeGroup {
        ObservedNodeGroup {
            name: name.into(),
            arn: format!("arn:aws:eks:us-east-1:1:nodegroup/demo/{name}/1"),
            status: status.into(),
            instance_types: vec!["m6i.large".into()],
            capacity_type: "ON_DEMAND".into(),
            ami_type: "AL2023_x86_64_STANDARD".into(),
            scaling: NodeScaling {
                min: 1,
                max: 3,
                desired: 1,
            },
            labels: Default::default(),
            taints: Vec::new(),
            subnet_ids: vec!["subnet-0123abcd".into(), "subnet-4567abcd".into()],
            launch_template: None,
            update_budget: None,
            version: Some(version.into()),
            node_role_arn: String::new(),
            health_issues: Vec::new(),
            tags: owned(resource),
            update_strategy: None,
            node_repair: None,
            disk_size: None,
        }
    }

    fn observed(version: &str, node_groups: Vec<ObservedNodeGroup>) -> Observed {
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
        Observed {
            cluster: Some(ObservedCluster {
                name: "demo".into(),
                arn: "arn:aws:eks:us-east-1:1:cluster/demo".into(),
                status: "ACTIVE".into(),
                version: version.into(),
                role_arn: String::new(),
                subnet_ids: vec!["subnet-0123abcd".into(), "subnet-4567abcd".into()],
                vpc_id: Some("vpc-0123abcd".into()),
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
            node_groups,
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
        }
    }

    fn change<'p>(plan: &'p Plan, resource: &str) -> &'p Change {
        plan.changes
            .iter()
            .find(|c| c.resource == resource)
            .unwrap_or_else(|| {
                panic!(
                    "no {resource} in {:#?}",
                    plan.changes
                        .iter()
                        .map(|c| (&c.resource, c.kind, &c.after))
                        .collect::<Vec<_>>()
                )
            })
    }

    fn file() -> crate::spec::ClusterFile {
        crate::spec::parse_str("t.yaml", SPEC).spec.unwrap()
    }

    fn spec_name(file: &crate::spec::ClusterFile) -> String {
        let subnets = ["subnet-0123abcd".to_owned(), "subnet-4567abcd".to_owned()];
        physical_name(&file.spec.node_groups[0], &subnets)
    }

    #[test]
    fn upgrading_a_capacity_block_group_with_nodes_warns_as_the_user_guide_asks() {
        let text = SPEC.replace(
            "{name: system, instanceTypes: [m6i.xlarge], minSize: 1, maxSize: 3}",
            "{name: gpu, instanceTypes: [p5.48xlarge], capacityType: capacityBlock, capacityReservation: {id: cr-0123456789abcdef0}, availabilityZones: [us-east-1b], minSize: 0, maxSize: 2}",
        );
        let file = crate::spec::parse_str("t.yaml", &text).spec.unwrap();
        let name = physical_name(&file.spec.node_groups[0], &["subnet-4567abcd".to_owned()]);
        let mut live = group(&name, "nodegroup/gpu", "ACTIVE", "1.30");
        live.capacity_type = "CAPACITY_BLOCK".into();
        live.instance_types = Vec::new();
        live.subnet_ids = vec!["subnet-4567abcd".into()];
        live.scaling = NodeScaling {
            min: 0,
            max: 2,
            desired: 1,
        };
        let plan = planner::plan(&file, &observed("1.30", vec![live.clone()]));
        change(&plan, "nodegroup/gpu/version-1.31");
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.contains("`gpu-") && w.contains("Capacity Block with desiredSize 1")),
            "{:?}",
            plan.warnings
        );
        live.scaling.desired = 0;
        let plan = planner::plan(&file, &observed("1.30", vec![live]));
        assert!(
            !plan.warnings.iter().any(|w| w.contains("Capacity Block")),
            "{:?}",
            plan.warnings
        );
    }

    #[test]
    fn a_second_control_plane_step_waits_for_replaced_and_removed_node_groups() {
        let file = file();
        let new = spec_name(&file);
        let plan = planner::plan(
            &file,
            &observed(
                "1.29",
                vec![
                    group("system-old", "nodegroup/system", "ACTIVE", "1.29"),
                    group("batch-1", "nodegroup/batch", "ACTIVE", "1.29"),
                ],
            ),
        );
        // The new generation is made on 1.30, before 1.31, and the old one goes with it.
        let replace = change(&plan, "nodegroup/system");
        assert_eq!(replace.kind, ChangeKind::Replace);
        assert!(replace.after.contains(&"cluster/version-1.30".to_owned()));
        assert!(!replace.after.contains(&"cluster/version-1.31".to_owned()));
        let step = change(&plan, "cluster/version-1.31");
        for before in ["nodegroup/system", "nodegroup/batch"] {
            assert!(step.after.contains(&before.to_owned()), "{:?}", step.after);
        }
        // No upgrade of generations on their way out; the new one follows the last step.
        assert!(
            !plan
                .changes
                .iter()
                .any(|c| c.resource.starts_with("nodegroup/batch/version-")
                    || c.resource == "nodegroup/system/version-1.30")
        );
        let upgrade = change(&plan, "nodegroup/system/version-1.31");
        assert_eq!(
            upgrade.operations,
            [Operation::UpdateNodeGroupVersion {
                cluster: "demo".into(),
                name: new,
                version: "1.31".into(),
            }]
        );
        assert!(upgrade.after.contains(&"cluster/version-1.31".to_owned()));
    }

    #[test]
    fn a_failed_generation_is_made_again_and_the_active_one_goes_only_after_it() {
        let file = file();
        let new = spec_name(&file);
        let mut failed = group(&new, "nodegroup/system", "CREATE_FAILED", "1.31");
        failed.instance_types = vec!["m6i.xlarge".into()];
        failed.health_issues = vec!["AsgInstanceLaunchFailures: no capacity".into()];
        let plan = planner::plan(
            &file,
            &observed(
                "1.31",
                vec![
                    group("system-old", "nodegroup/system", "ACTIVE", "1.31"),
                    failed,
                ],
            ),
        );
        let replace = change(&plan, "nodegroup/system");
        assert_eq!(replace.kind, ChangeKind::Replace);
        let reason = replace.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("CREATE_FAILED: AsgInstanceLaunchFailures: no capacity"),
            "{reason}"
        );
        match &replace.operations[..] {
            [
                Operation::DeleteNodeGroup {
                    name: first,
                    replaced_by: None,
                    ..
                },
                Operation::CreateNodeGroup { name: made, .. },
                Operation::DeleteNodeGroup {
                    name: old,
                    replaced_by: Some(by),
                    ..
                },
            ] => {
                assert_eq!((first, made, by), (&new, &new, &new));
                assert_eq!(old, "system-old");
            }
            other => panic!("{other:#?}"),
        }
    }

    #[test]
    fn a_custom_ami_node_group_gets_no_version_update() {
        // EKS refuses `version` for a node group whose launch template names the AMI.
        let source = SPEC.replace(
            "minSize: 1, maxSize: 3}",
            "minSize: 1, maxSize: 3, amiId: ami-0123456789abcdef0}",
        );
        let file = crate::spec::parse_str("t.yaml", &source).spec.unwrap();
        let mut live = group(&spec_name(&file), "nodegroup/system", "ACTIVE", "1.30");
        live.instance_types = vec!["m6i.xlarge".into()];
        live.ami_type = "CUSTOM".into();
        let plan = planner::plan(&file, &observed("1.30", vec![live]));
        change(&plan, "cluster/version-1.31");
        assert!(
            !plan
                .changes
                .iter()
                .any(|c| c.resource.starts_with("nodegroup/system/version-")),
            "{:#?}",
            plan.changes
        );
    }
}
