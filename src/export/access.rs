//! Access entries and their access policies.

use crate::cloud::default_access_entry_username;
use crate::spec::{AccessEntrySpec, AccessPolicySpec, AccessScope, NamespaceScope};

use super::Exporting;

/// Writes `spec.accessEntries`.
pub fn export(x: &mut Exporting<'_>) {
    let live = x.live;
    for entry in &live.contents.access_entries {
        let resource = format!("access-entry {}", entry.principal_arn);
        let own_role = live
            .roles
            .iter()
            .any(|r| r.arn == entry.principal_arn && live.owned_id(&r.tags).is_some());
        if entry.entry_type != "STANDARD" && own_role {
            // EKS (or ekspec, for Karpenter's nodes) makes it for a role of the spec.
            continue;
        }
        if entry.entry_type != "STANDARD" {
            // EKS makes these for the roles of node groups and Fargate profiles; ekspec makes
            // its own roles, and EKS their entries.
            x.omit(
                &resource,
                "type",
                format!(
                    "{}: EKS makes such entries for node and Fargate roles",
                    entry.entry_type
                ),
            );
            continue;
        }
        if live.owned() && live.owned_id(&entry.tags).is_none() {
            x.omit(
                &resource,
                "tags",
                "not made by ekspec (no ekspec.io tags) in a cluster ekspec manages (the cluster creator's entry is one): left alone by plan unless declared",
            );
            continue;
        }
        for (key, value) in x.extra_tags(&resource, &entry.tags) {
            x.omit(
                &resource,
                format!("tags.{key}"),
                format!("{value}: access entries carry only metadata.tags"),
            );
        }
        let username = entry
            .username
            .clone()
            .filter(|u| Some(u) != default_access_entry_username(&entry.principal_arn).as_ref());
        x.spec.access_entries.push(AccessEntrySpec {
            principal_arn: entry.principal_arn.clone(),
            kubernetes_groups: entry.kubernetes_groups.clone(),
            username,
            policies: entry
                .policies
                .iter()
                .map(|p| AccessPolicySpec {
                    policy_arn: p.policy_arn.clone(),
                    scope: match &p.namespaces {
                        None => AccessScope::Cluster,
                        Some(namespaces) => AccessScope::Namespaces(NamespaceScope {
                            namespaces: namespaces.clone(),
                        }),
                    },
                })
                .collect(),
        });
    }
    x.spec
        .access_entries
        .sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
}
