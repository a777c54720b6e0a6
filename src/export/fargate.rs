//! Fargate profiles: name, selectors, tags.

use crate::spec::{FargateProfileSpec, FargateSelector};

use super::Exporting;
use super::network::tier_subnets;

/// Writes `spec.fargateProfiles`.
pub fn export(x: &mut Exporting<'_>) {
    let live = x.live;
    for profile in &live.contents.fargate_profiles {
        let resource = format!("fargate-profile {}", profile.name);
        let name = match live.owned_id(&profile.tags) {
            Some(id) => match id.strip_prefix("fargate-profile/") {
                Some(name) => name.to_owned(),
                None => continue,
            },
            None if live.owned() => {
                x.omit(
                    &resource,
                    "tags",
                    "not made by ekspec (no ekspec.io tags) in a cluster ekspec manages: left alone by plan",
                );
                continue;
            }
            None => profile.name.clone(),
        };
        let tags = x.extra_tags(&resource, &profile.tags);
        let private = tier_subnets(live, false);
        if profile.subnet_ids != private {
            x.omit(
                &resource,
                "subnets",
                format!(
                    "{}: the spec runs Fargate pods in every private subnet of the cluster ({})",
                    profile.subnet_ids.join(","),
                    private.join(",")
                ),
            );
        }
        if live.owned_id(&profile.tags).is_none() {
            x.omit(
                &resource,
                "podExecutionRoleArn",
                format!(
                    "{}: ekspec makes its own pod execution role",
                    profile.pod_execution_role_arn
                ),
            );
        }
        x.spec.fargate_profiles.push(FargateProfileSpec {
            name,
            selectors: profile
                .selectors
                .iter()
                .map(|(namespace, labels)| FargateSelector {
                    namespace: namespace.clone(),
                    labels: labels.clone(),
                })
                .collect(),
            tags,
        });
    }
    x.spec.fargate_profiles.sort_by(|a, b| a.name.cmp(&b.name));
}
