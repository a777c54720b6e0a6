//! `AccessEntries` over EKS access entries.

use async_trait::async_trait;
use aws_sdk_eks::types::{AccessScope, AccessScopeType};

use super::{describe_each, sorted, string_map, tags_of};
use crate::cloud::aws::{AwsCloud, AwsContext, OrGone, string};
use crate::cloud::{
    AccessEntries, AccessEntryRequest, AccessPolicy, CloudResult, ObservedAccessEntry,
};

/// How an access entry is named in errors.
fn access_entry(cluster: &str, principal_arn: &str) -> String {
    format!("access entry {principal_arn} of cluster {cluster}")
}

impl AwsCloud {
    /// One access entry with its access policies, or `None` when it is gone.
    async fn access_entry_with_policies(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> CloudResult<Option<ObservedAccessEntry>> {
        let resource = access_entry(cluster, principal_arn);
        let describe = async {
            self.eks
                .describe_access_entry()
                .cluster_name(cluster)
                .principal_arn(principal_arn)
                .send()
                .await
                .context("DescribeAccessEntry", &resource)
                .or_gone()
        };
        let policies = async {
            let policies: CloudResult<Vec<_>> = all_items!(
                self.eks
                    .list_associated_access_policies()
                    .cluster_name(cluster)
                    .principal_arn(principal_arn),
                "ListAssociatedAccessPolicies",
                &resource
            );
            policies.or_gone()
        };
        let (output, policies) = tokio::try_join!(describe, policies)?;
        let (Some(entry), Some(policies)) = (output.and_then(|o| o.access_entry), policies) else {
            return Ok(None);
        };
        let mut policies: Vec<AccessPolicy> = policies
            .iter()
            .map(|p| AccessPolicy {
                policy_arn: string(p.policy_arn()),
                namespaces: p.access_scope().and_then(|scope| {
                    (scope.r#type() == Some(&AccessScopeType::Namespace)).then(|| {
                        let mut namespaces = scope.namespaces().to_vec();
                        namespaces.sort();
                        namespaces
                    })
                }),
            })
            .collect();
        policies.sort();
        Ok(Some(ObservedAccessEntry {
            principal_arn: string(entry.principal_arn()),
            arn: string(entry.access_entry_arn()),
            kubernetes_groups: sorted(entry.kubernetes_groups()),
            username: entry.username().map(str::to_owned),
            entry_type: string(entry.r#type()),
            policies,
            tags: tags_of(entry.tags()),
            created_at: entry.created_at().and_then(|t| t.to_millis().ok()),
        }))
    }
}

#[async_trait]
impl AccessEntries for AwsCloud {
    async fn list_access_entries(&self, cluster: &str) -> CloudResult<Vec<ObservedAccessEntry>> {
        let principals: Vec<String> = all_items!(
            self.eks.list_access_entries().cluster_name(cluster),
            "ListAccessEntries",
            format!("cluster {cluster}")
        )?;
        describe_each(
            principals,
            |principal| async move { self.access_entry_with_policies(cluster, &principal).await },
            |entry: &ObservedAccessEntry| entry.principal_arn.clone(),
        )
        .await
    }

    async fn describe_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> CloudResult<Option<ObservedAccessEntry>> {
        self.access_entry_with_policies(cluster, principal_arn)
            .await
    }

    async fn create_access_entry(&self, request: &AccessEntryRequest) -> CloudResult<()> {
        self.eks
            .create_access_entry()
            .cluster_name(&request.cluster)
            .principal_arn(&request.principal_arn)
            .set_kubernetes_groups(
                (!request.kubernetes_groups.is_empty()).then(|| request.kubernetes_groups.clone()),
            )
            .set_username(request.username.clone())
            .set_type(request.entry_type.clone())
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context(
                "CreateAccessEntry",
                access_entry(&request.cluster, &request.principal_arn),
            )
            .map(drop)
    }

    async fn update_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
        kubernetes_groups: &[String],
        username: Option<&str>,
    ) -> CloudResult<()> {
        self.eks
            .update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            // Always sent, so an empty list removes every group.
            .set_kubernetes_groups(Some(kubernetes_groups.to_vec()))
            .set_username(username.map(str::to_owned))
            .send()
            .await
            .context("UpdateAccessEntry", access_entry(cluster, principal_arn))
            .map(drop)
    }

    async fn delete_access_entry(&self, cluster: &str, principal_arn: &str) -> CloudResult<()> {
        self.eks
            .delete_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .send()
            .await
            .context("DeleteAccessEntry", access_entry(cluster, principal_arn))
            .or_gone()
            .map(drop)
    }

    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy: &AccessPolicy,
    ) -> CloudResult<()> {
        let scope = match &policy.namespaces {
            None => AccessScope::builder().r#type(AccessScopeType::Cluster),
            Some(namespaces) => AccessScope::builder()
                .r#type(AccessScopeType::Namespace)
                .set_namespaces(Some(namespaces.clone())),
        };
        self.eks
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .policy_arn(&policy.policy_arn)
            .access_scope(scope.build())
            .send()
            .await
            .context(
                "AssociateAccessPolicy",
                format!(
                    "{} on {}",
                    policy.policy_arn,
                    access_entry(cluster, principal_arn)
                ),
            )
            .map(drop)
    }

    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> CloudResult<()> {
        self.eks
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .policy_arn(policy_arn)
            .send()
            .await
            .context(
                "DisassociateAccessPolicy",
                format!("{policy_arn} on {}", access_entry(cluster, principal_arn)),
            )
            .or_gone()
            .map(drop)
    }
}
