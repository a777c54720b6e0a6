//! `Kubernetes` over EKS, one file per area (`control_plane`, `node_groups`, `fargate`, `addons`,
//! `access_entries`), and the helpers they and `pod_identity` share.

mod access_entries;
mod addons;
mod control_plane;
mod fargate;
mod node_groups;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_eks::types::Update;
use futures::{StreamExt, TryStreamExt, stream};

use super::{READ_CONCURRENCY, required};
use crate::cloud::{CloudResult, Tags};

fn sorted(values: &[String]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values
}

pub(super) fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Tags or labels as EKS takes them; `None` when empty (EKS rejects empty maps).
pub(super) fn string_map(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// One of EKS's health issues of a node group, Fargate profile or add-on: `CODE: message`.
fn issue_text(code: Option<&str>, message: Option<&str>) -> String {
    format!(
        "{}: {}",
        code.unwrap_or("Unknown"),
        message.unwrap_or_default()
    )
}

/// Describes each listed name concurrently (a few at a time: EKS rate-limits per account),
/// leaving out what is gone meanwhile, ordered by `key`.
pub(super) async fn describe_each<T, K, Fut>(
    names: Vec<String>,
    describe: impl Fn(String) -> Fut,
    key: impl Fn(&T) -> K,
) -> CloudResult<Vec<T>>
where
    K: Ord,
    Fut: std::future::Future<Output = CloudResult<Option<T>>>,
{
    let found: Vec<Option<T>> = stream::iter(names)
        .map(describe)
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    let mut found: Vec<T> = found.into_iter().flatten().collect();
    found.sort_by_key(|item| key(item));
    Ok(found)
}

/// The id of an update EKS started; every update call returns one.
fn update_id(
    update: Option<&Update>,
    operation: &'static str,
    resource: &str,
) -> CloudResult<String> {
    required(
        update.and_then(|u| u.id()).map(str::to_owned),
        "update id",
        operation,
        resource,
    )
}
