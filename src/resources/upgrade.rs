//! Kubernetes version upgrades, one minor version at a time. Each step upgrades the control
//! plane (`cluster/version-1.N`), then the add-ons that follow EKS's default version
//! (`addon/NAME/version-1.N`; on the last step the add-on's own change does it), then every
//! node group (`nodegroup/NAME/version-1.N`). The next step starts when the previous one is
//! done. Node groups left behind by an interrupted upgrade catch up the same way.

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

    // Node groups that keep their generation through this plan.
    let replaced: Vec<String> = p
        .changes()
        .iter()
        .filter(|c| c.resource.starts_with("nodegroup/") && c.kind == ChangeKind::Replace)
        .map(|c| c.resource.clone())
        .collect();
    let mut groups: Vec<(String, String, Option<u32>)> = p
        .observed
        .node_groups
        .iter()
        .filter_map(|g| {
            let resource = p.owned(&g.tags)?.to_owned();
            (p.is_desired(&resource) && !replaced.contains(&resource)).then(|| {
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
                    let addon_fields = ["version", "serviceAccountRoleArn", "configurationValues"];
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
        step.extend(control_plane);
        step.extend(addons);
        previous = step;
        from = version.clone();
    }
    if upgrading {
        // New node groups start on the new version: after the last control plane step. EKS
        // takes no Fargate profile or access entry while the control plane is UPDATING
        // ("Cluster 'x' is not in ACTIVE status"): those wait for the upgrade too.
        let last = format!("cluster/version-{want}");
        for change in p.changes_mut().iter_mut().filter(|c| {
            (c.resource.starts_with("nodegroup/")
                && !c.resource.contains("/version-")
                && matches!(c.kind, ChangeKind::Create | ChangeKind::Replace))
                || ((c.resource.starts_with("fargate-profile/")
                    || c.resource.starts_with("access-entry/"))
                    && matches!(
                        c.kind,
                        ChangeKind::Create | ChangeKind::Replace | ChangeKind::Update
                    ))
        }) {
            change.after.push(last.clone());
        }
    }
}
