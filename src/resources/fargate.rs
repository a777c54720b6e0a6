//! Fargate profiles. EKS cannot update a profile, so any change is a replacement under a new
//! name (spec name plus a hash of its settings), and EKS runs one profile operation at a time
//! per cluster, so the planner chains them.

use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::FargateProfileSpec;

use super::network::subnet_id;
use super::planner::Planning;
use super::{eks_retag, owned_tags, short_hash};

fn physical_name(profile: &FargateProfileSpec, subnets: &[String]) -> String {
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
        if let [current] = live.as_slice()
            && current.name == name
        {
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
        if !live.iter().any(|f| f.name == name) {
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
        }
        let old: Vec<_> = live.iter().filter(|f| f.name != name).collect();
        for previous in &old {
            ops.push(Operation::DeleteFargateProfile {
                cluster: cluster.clone(),
                name: previous.name.clone(),
            });
        }
        let mut after = vec!["cluster".to_owned(), "role/fargate".to_owned()];
        after.extend(keys.iter().cloned());
        let change = match old.first() {
            None => Change::new(&resource, ChangeKind::Create, ops),
            Some(previous) => Change::new(&resource, ChangeKind::Replace, ops)
                .fields(vec![FieldChange::new("selectors", &previous.name, &name)])
                .reason("EKS cannot update a Fargate profile: a new one is created, then the old one deleted"),
        };
        p.push(change.id(&name).after(after));
    }
}
