//! Desired resources from the spec, observed resources from AWS, and the diff between them.
//!
//! One file per resource area. Each `plan_*` function compares what the spec wants with what
//! AWS has (found by the `ekspec.io/resource` tag) and returns the changes; `planner` orders
//! deletions. A new resource kind is a new file here plus its operations in `plan::operation`
//! and `exec::operation`.

pub mod access;
pub mod addon;
pub mod adopt;
pub mod auto_mode;
pub mod cluster;
pub mod fargate;
pub mod generations;
pub mod iam;
pub mod karpenter;
pub mod karpenter_interruption;
pub mod network;
pub mod nodegroup;
mod observe;
pub mod planner;
pub mod pod_identity;
pub mod upgrade;
pub mod user_data;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

pub use observe::{
    ClusterContents, Observed, cluster_contents, observe, observe_adopting, upgrade_steps,
};

use crate::cloud::Tags;
use crate::naming::{CLUSTER_TAG, RESOURCE_TAG};
use crate::plan::{FieldChange, Operation};
use crate::spec::ClusterFile;

/// Tags of a resource ekspec creates: the spec's tags, ownership, and a `Name`.
pub fn owned_tags(file: &ClusterFile, resource: &str, extra: &Tags) -> Tags {
    let cluster = &file.metadata.name;
    let mut tags = file.metadata.tags.clone();
    tags.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    tags.insert("Name".to_owned(), format!("{cluster}/{resource}"));
    tags.insert(CLUSTER_TAG.to_owned(), cluster.clone());
    tags.insert(RESOURCE_TAG.to_owned(), resource.to_owned());
    tags
}

/// The logical id a resource carries, if it belongs to `cluster`.
pub fn owned_id<'t>(tags: &'t Tags, cluster: &str) -> Option<&'t str> {
    (tags.get(CLUSTER_TAG).map(String::as_str) == Some(cluster))
        .then(|| tags.get(RESOURCE_TAG).map(String::as_str))
        .flatten()
}

/// Desired tags missing from or different on a live resource (extra live tags are kept).
pub fn tag_drift(live: &Tags, desired: &Tags) -> (Tags, Vec<FieldChange>) {
    let mut missing = BTreeMap::new();
    let mut fields = Vec::new();
    for (key, value) in desired {
        if live.get(key) != Some(value) {
            missing.insert(key.clone(), value.clone());
            fields.push(FieldChange {
                field: format!("tags.{key}"),
                old: live.get(key).cloned(),
                new: Some(value.clone()),
            });
        }
    }
    (missing, fields)
}

/// The operation and field changes that bring an EKS resource's tags up to date, if any.
pub fn eks_retag(arn: &str, live: &Tags, desired: &Tags) -> Option<(Operation, Vec<FieldChange>)> {
    let (missing, fields) = tag_drift(live, desired);
    (!missing.is_empty()).then(|| {
        (
            Operation::TagEks {
                arn: arn.to_owned(),
                tags: missing,
            },
            fields,
        )
    })
}

/// A short, stable hash of `parts` (8 hex digits) for names that change on replacement.
pub fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The partition and account of the caller's ARN (`arn:aws-cn:sts::111122223333:...` ->
/// `("aws-cn", "111122223333")`): AWS names the partition there, for every partition there is
/// or will be, where a list of region prefixes would go stale.
pub fn partition_and_account(caller_arn: &str) -> Option<(&str, &str)> {
    let mut parts = caller_arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(_service), Some(_region), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (!partition.is_empty() && !account.is_empty()).then_some((partition, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_and_account_come_from_the_callers_arn() {
        assert_eq!(
            partition_and_account("arn:aws-cn:sts::111122223333:assumed-role/ci/gha"),
            Some(("aws-cn", "111122223333"))
        );
        assert_eq!(
            partition_and_account("arn:aws-us-gov:iam::111122223333:user/ops"),
            Some(("aws-us-gov", "111122223333"))
        );
        assert_eq!(partition_and_account("not an arn"), None);
        assert_eq!(partition_and_account("arn::sts::1:x"), None);
    }
}
