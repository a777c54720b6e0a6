//! Fargate profiles. EKS cannot update a profile, so any change is a replacement under a new
//! name (spec name plus a hash of its settings), and EKS runs one profile operation at a time
//! per cluster, so the planner chains them. A generation is current only when EKS made it
//! ACTIVE: a failed one is made again, and old generations go only once the new one is ACTIVE.

use crate::cloud::ObservedFargateProfile;
use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::FargateProfileSpec;

use super::network::subnet_id;
use super::planner::Planning;
use super::{eks_retag, owned_tags, short_hash};

/// The EKS name of a Fargate profile generation.
pub fn physical_name(profile: &FargateProfileSpec, subnets: &[String]) -> String {
    let selectors: Vec<String> = profile
        .selectors
        .iter()
        .map(|s| format!("{}:{:?}", s.namespace, s.labels))
        .collect();
    format!(
        "{}-{}",
        profile.name,
        short_hash(&[&selectors.join(";"), &subnets.join(",")])
    )
}

/// Plans every Fargate profile.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let cluster = file.metadata.name.clone();
    let (subnets, keys): (Vec<Ref>, Vec<String>) = match (&file.spec.vpc.id, &file.spec.vpc.subnets)
    {
        (Some(_), Some(s)) => (
            s.private.iter().cloned().map(Ref::Value).collect(),
            s.private.clone(),
        ),
        _ => {
            let keys: Vec<String> = p.zones.iter().map(|z| subnet_id("private", z)).collect();
            (keys.iter().map(|k| Ref::output(k, "id")).collect(), keys)
        }
    };
    for profile in &file.spec.fargate_profiles {
        let resource = format!("fargate-profile/{}", profile.name);
        p.desire(&resource);
        let name = physical_name(profile, &keys);
        let live: Vec<_> = p
            .observed
            .fargate_profiles
            .iter()
            .filter(|f| p.owned(&f.tags) == Some(resource.as_str()))
            .cloned()
            .collect();
        let current = live.iter().find(|f| f.name == name);
        let old: Vec<_> = live.iter().filter(|f| f.name != name).collect();
        // A generation of the current settings that EKS failed (or is deleting) is made
        // again; it never counts as the one that replaces the old generations.
        let broken = current.filter(|c| needs_recreating(&c.status));
        if let (Some(current), true, None) = (current, old.is_empty(), broken) {
            let tags = owned_tags(file, &resource, &profile.tags);
            if let Some((op, fields)) = eks_retag(&current.arn, &current.tags, &tags) {
                p.push(
                    Change::new(&resource, ChangeKind::Update, vec![op])
                        .id(&name)
                        .fields(fields),
                );
            }
            continue;
        }
        let mut ops = Vec::new();
        if let Some(broken) = broken {
            ops.push(Operation::DeleteFargateProfile {
                cluster: cluster.clone(),
                name: broken.name.clone(),
            });
        }
        // Also when the current generation exists but old ones remain (a replacement that
        // was interrupted): EKS answers "already exists" and the create waits for it to be
        // ACTIVE, so the old generations are deleted only once it is.
        ops.push(Operation::CreateFargateProfile {
            cluster: cluster.clone(),
            name: name.clone(),
            role: Ref::output("role/fargate", "arn"),
            subnets: subnets.clone(),
            selectors: profile
                .selectors
                .iter()
                .map(|s| (s.namespace.clone(), s.labels.clone()))
                .collect(),
            tags: owned_tags(file, &resource, &profile.tags),
        });
        for previous in &old {
            ops.push(Operation::DeleteFargateProfile {
                cluster: cluster.clone(),
                name: previous.name.clone(),
            });
        }
        let mut after = vec!["cluster".to_owned(), "role/fargate".to_owned()];
        after.extend(keys.iter().cloned());
        let change = match (broken, old.first()) {
            (None, None) => Change::new(&resource, ChangeKind::Create, ops),
            (Some(broken), _) => Change::new(&resource, ChangeKind::Replace, ops)
                .fields(vec![FieldChange::new("status", &broken.status, "ACTIVE")])
                .reason(format!(
                    "EKS reports Fargate profile {} {}{}: it is deleted and created again{}",
                    broken.name,
                    broken.status,
                    issues(&broken.health_issues),
                    if old.is_empty() {
                        String::new()
                    } else {
                        format!(", then the older generation ({}) deleted", names(&old))
                    }
                )),
            (None, Some(previous)) => {
                let reason = if current.is_some() {
                    format!(
                        "a replacement was interrupted: {name} is {}; it is waited for, then the older generation ({}) deleted",
                        current.map_or("", |c| c.status.as_str()),
                        names(&old)
                    )
                } else {
                    "EKS cannot update a Fargate profile: a new one is created, then the old one deleted".to_owned()
                };
                Change::new(&resource, ChangeKind::Replace, ops)
                    .fields(vec![FieldChange::new("selectors", &previous.name, &name)])
                    .reason(reason)
            }
        };
        p.push(change.id(&name).after(after));
    }
}

/// Whether a profile of the wanted settings must be deleted and made again: EKS failed it, or
/// it is on its way out.
fn needs_recreating(status: &str) -> bool {
    matches!(status, "CREATE_FAILED" | "DELETE_FAILED" | "DELETING")
}

fn issues(health_issues: &[String]) -> String {
    if health_issues.is_empty() {
        String::new()
    } else {
        format!(" ({})", health_issues.join("; "))
    }
}

fn names(profiles: &[&ObservedFargateProfile]) -> String {
    profiles
        .iter()
        .map(|f| format!("{} {}", f.name, f.status))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::planner::plan as plan_cluster;
    use crate::resources::{Observed, owned_tags};
    use crate::spec::ClusterFile;

    const SPEC: &str = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  vpc: {availabilityZones: [us-east-1a, us-east-1b], natGateway: single}\n  fargateProfiles: [{name: batch, selectors: [{namespace: batch}]}]\n";

    fn file() -> ClusterFile {
        let report = crate::spec::parse_str("t.yaml", SPEC);
        report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics))
    }

    /// The name the spec's profile gets now.
    fn wanted(file: &ClusterFile) -> String {
        let keys: Vec<String> = ["us-east-1a", "us-east-1b"]
            .iter()
            .map(|z| subnet_id("private", z))
            .collect();
        physical_name(&file.spec.fargate_profiles[0], &keys)
    }

    fn generation(file: &ClusterFile, name: &str, status: &str) -> ObservedFargateProfile {
        ObservedFargateProfile {
            name: name.to_owned(),
            arn: format!("arn:aws:eks:us-east-1:1:fargateprofile/demo/{name}/1"),
            status: status.to_owned(),
            health_issues: if status.ends_with("FAILED") {
                vec!["AccessDenied: the pod execution role cannot be assumed".to_owned()]
            } else {
                Vec::new()
            },
            pod_execution_role_arn: "arn:aws:iam::1:role/ekspec/demo/demo-fargate".to_owned(),
            subnet_ids: Vec::new(),
            selectors: Vec::new(),
            tags: owned_tags(file, "fargate-profile/batch", &Default::default()),
        }
    }

    /// The operations of the profile's change, as `Create x` / `Delete x`.
    fn steps(
        file: &ClusterFile,
        live: Vec<ObservedFargateProfile>,
    ) -> Option<(Change, Vec<String>)> {
        let observed = Observed {
            fargate_profiles: live,
            ..Observed::default()
        };
        let plan = plan_cluster(file, &observed);
        let change = plan
            .changes
            .into_iter()
            .find(|c| c.resource == "fargate-profile/batch")?;
        let steps = change
            .operations
            .iter()
            .map(|op| match op {
                Operation::CreateFargateProfile { name, .. } => format!("Create {name}"),
                Operation::DeleteFargateProfile { name, .. } => format!("Delete {name}"),
                other => format!("{other:?}"),
            })
            .collect();
        Some((change, steps))
    }

    #[test]
    fn an_active_current_generation_needs_nothing() {
        let file = file();
        let name = wanted(&file);
        assert!(steps(&file, vec![generation(&file, &name, "ACTIVE")]).is_none());
    }

    #[test]
    fn a_failed_generation_shows_in_the_plan_and_is_made_again() {
        let file = file();
        let name = wanted(&file);
        let (change, steps) =
            steps(&file, vec![generation(&file, &name, "CREATE_FAILED")]).unwrap();
        assert_eq!(change.kind, ChangeKind::Replace);
        assert_eq!(steps, [format!("Delete {name}"), format!("Create {name}")]);
        let reason = change.reason.unwrap_or_default();
        assert!(
            reason.contains("CREATE_FAILED") && reason.contains("AccessDenied"),
            "{reason}"
        );
    }

    #[test]
    fn an_interrupted_replacement_never_deletes_the_only_active_generation_first() {
        let file = file();
        let name = wanted(&file);
        let old = generation(&file, "batch-0ld0ld00", "ACTIVE");
        // The new generation failed: made again, and the old one goes only after that.
        let (_, failed) = steps(
            &file,
            vec![old.clone(), generation(&file, &name, "CREATE_FAILED")],
        )
        .unwrap();
        assert_eq!(
            failed,
            [
                format!("Delete {name}"),
                format!("Create {name}"),
                "Delete batch-0ld0ld00".to_owned()
            ]
        );
        // The new generation is still CREATING: waited for (its create answers "already
        // exists" and waits for ACTIVE), then the old one goes.
        let (change, creating) =
            steps(&file, vec![old, generation(&file, &name, "CREATING")]).unwrap();
        assert_eq!(
            creating,
            [format!("Create {name}"), "Delete batch-0ld0ld00".to_owned()]
        );
        assert!(
            change.reason.unwrap_or_default().contains("interrupted"),
            "the plan says why"
        );
    }
}
