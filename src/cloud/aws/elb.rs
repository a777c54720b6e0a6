//! The load balancers Kubernetes puts in a cluster's VPC, over ELB (classic) and ELBv2.
//! None of the describes filters by VPC or tag: they list the region's load balancers, keep
//! those in the VPC and read their tags in batches.

use std::future::Future;

use aws_sdk_elasticloadbalancing::types::LoadBalancerDescription as Classic;
use aws_sdk_elasticloadbalancingv2::types::{LoadBalancer as V2, TargetGroup as Group};
use futures::{StreamExt, TryStreamExt, stream};

use super::{AwsCloud, AwsContext, OrGone, READ_CONCURRENCY, string};
use crate::cloud::{CloudResult, LoadBalancerRef, Tags};
use crate::naming::made_by_kubernetes_for;

/// The largest page DescribeLoadBalancers (both APIs) and DescribeTargetGroups accept.
const PAGE: i32 = 400;
/// DescribeTags takes at most 20 ARNs (ELBv2) or names (classic) per call.
const TAGS_PER_CALL: usize = 20;

/// Load balancers and target groups of one cluster in one VPC.
pub(super) struct KubernetesLoadBalancers {
    /// Classic, then ELBv2, each sorted.
    pub load_balancers: Vec<LoadBalancerRef>,
    /// Target group ARNs, sorted.
    pub target_groups: Vec<String>,
}

impl AwsCloud {
    /// Load balancers and target groups in `vpc_id` that Kubernetes made for `cluster`.
    pub(super) async fn kubernetes_load_balancers(
        &self,
        cluster: &str,
        vpc_id: &str,
    ) -> CloudResult<KubernetesLoadBalancers> {
        let about = format!("load balancers in VPC {vpc_id}");
        let (v2, groups, classic) = tokio::try_join!(
            async {
                all_items!(
                    self.elbv2.describe_load_balancers().page_size(PAGE),
                    "DescribeLoadBalancers",
                    &about
                )
            },
            async {
                all_items!(
                    self.elbv2.describe_target_groups().page_size(PAGE),
                    "DescribeTargetGroups",
                    &about
                )
            },
            async {
                all_items!(
                    self.elb.describe_load_balancers().page_size(PAGE),
                    "DescribeLoadBalancers",
                    &about
                )
            },
        )?;
        let v2 = ids_in_vpc(&v2, vpc_id, V2::vpc_id, V2::load_balancer_arn);
        let groups = ids_in_vpc(&groups, vpc_id, Group::vpc_id, Group::target_group_arn);
        let classic = ids_in_vpc(
            &classic,
            vpc_id,
            Classic::vpc_id,
            Classic::load_balancer_name,
        );
        let (v2, target_groups, classic) = tokio::try_join!(
            self.owned_v2(cluster, v2, &about),
            self.owned_v2(cluster, groups, &about),
            self.owned_classic(cluster, classic, &about),
        )?;
        let load_balancers = classic
            .into_iter()
            .map(LoadBalancerRef::Classic)
            .chain(v2.into_iter().map(LoadBalancerRef::V2))
            .collect();
        Ok(KubernetesLoadBalancers {
            load_balancers,
            target_groups,
        })
    }

    /// The ELBv2 resources among `arns` (load balancers or target groups) that Kubernetes
    /// made for `cluster`, sorted.
    async fn owned_v2(
        &self,
        cluster: &str,
        arns: Vec<String>,
        about: &str,
    ) -> CloudResult<Vec<String>> {
        let tags = tags_in_batches(&arns, |batch| async move {
            let output = self
                .elbv2
                .describe_tags()
                .set_resource_arns(Some(batch))
                .send()
                .await
                .context("DescribeTags", about)?;
            Ok(output
                .tag_descriptions()
                .iter()
                .filter_map(|description| {
                    let tags = description
                        .tags()
                        .iter()
                        .filter_map(|tag| Some((tag.key()?.to_owned(), string(tag.value()))))
                        .collect();
                    Some((description.resource_arn()?.to_owned(), tags))
                })
                .collect())
        })
        .await?;
        Ok(owned(tags, cluster))
    }

    /// The classic load balancers among `names` that Kubernetes made for `cluster`, sorted.
    async fn owned_classic(
        &self,
        cluster: &str,
        names: Vec<String>,
        about: &str,
    ) -> CloudResult<Vec<String>> {
        let tags = tags_in_batches(&names, |batch| async move {
            let output = self
                .elb
                .describe_tags()
                .set_load_balancer_names(Some(batch))
                .send()
                .await
                .context("DescribeTags", about)?;
            Ok(output
                .tag_descriptions()
                .iter()
                .filter_map(|description| {
                    let tags = description
                        .tags()
                        .iter()
                        .map(|tag| (tag.key().to_owned(), string(tag.value())))
                        .collect();
                    Some((description.load_balancer_name()?.to_owned(), tags))
                })
                .collect())
        })
        .await?;
        Ok(owned(tags, cluster))
    }

    /// Deletes a load balancer; one that is already gone counts as deleted.
    pub(super) async fn delete_load_balancer_ref(
        &self,
        load_balancer: &LoadBalancerRef,
    ) -> CloudResult<()> {
        let about = load_balancer.to_string();
        let deleted = match load_balancer {
            LoadBalancerRef::Classic(name) => self
                .elb
                .delete_load_balancer()
                .load_balancer_name(name)
                .send()
                .await
                .map(drop)
                .context("DeleteLoadBalancer", &about),
            LoadBalancerRef::V2(arn) => self
                .elbv2
                .delete_load_balancer()
                .load_balancer_arn(arn)
                .send()
                .await
                .map(drop)
                .context("DeleteLoadBalancer", &about),
        };
        deleted.or_gone().map(drop)
    }

    /// Deletes a target group; one that is already gone counts as deleted.
    pub(super) async fn delete_target_group_arn(&self, arn: &str) -> CloudResult<()> {
        self.elbv2
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .context("DeleteTargetGroup", format!("target group {arn}"))
            .or_gone()
            .map(drop)
    }
}

/// The ids (`id`) of the `items` whose VPC (`vpc`) is `vpc_id`.
fn ids_in_vpc<T>(
    items: &[T],
    vpc_id: &str,
    vpc: impl Fn(&T) -> Option<&str>,
    id: impl Fn(&T) -> Option<&str>,
) -> Vec<String> {
    items
        .iter()
        .filter(|item| vpc(item) == Some(vpc_id))
        .filter_map(|item| id(item).map(str::to_owned))
        .collect()
}

/// Reads the tags of `ids` with `read`, at most 20 ids a call, a few calls at once.
async fn tags_in_batches<F, Fut>(ids: &[String], read: F) -> CloudResult<Vec<(String, Tags)>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = CloudResult<Vec<(String, Tags)>>>,
{
    // Owned batches: a stream of borrowed slices makes the future not `Send`.
    let batches: Vec<Vec<String>> = ids.chunks(TAGS_PER_CALL).map(<[String]>::to_vec).collect();
    let batches: Vec<Vec<(String, Tags)>> = stream::iter(batches)
        .map(read)
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(batches.into_iter().flatten().collect())
}

/// The ids whose tags say Kubernetes made them for `cluster`, sorted.
fn owned(tags: Vec<(String, Tags)>, cluster: &str) -> Vec<String> {
    let mut ids: Vec<String> = tags
        .into_iter()
        .filter(|(_, tags)| made_by_kubernetes_for(tags, cluster))
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    ids
}
