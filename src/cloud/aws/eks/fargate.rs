//! `FargateProfiles` over EKS.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_eks::types::{FargateProfile, FargateProfileSelector};

use super::{describe_each, issue_text, sorted, string_map, tags_of};
use crate::cloud::aws::{AwsCloud, AwsContext, OrGone, string};
use crate::cloud::{CloudResult, FargateProfileRequest, FargateProfiles, ObservedFargateProfile};

fn selectors(selectors: &[(String, BTreeMap<String, String>)]) -> Vec<FargateProfileSelector> {
    selectors
        .iter()
        .map(|(namespace, labels)| {
            FargateProfileSelector::builder()
                .namespace(namespace)
                .set_labels(string_map(labels))
                .build()
        })
        .collect()
}

fn observed_fargate_profile(profile: &FargateProfile) -> ObservedFargateProfile {
    ObservedFargateProfile {
        name: string(profile.fargate_profile_name()),
        arn: string(profile.fargate_profile_arn()),
        status: profile
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        health_issues: profile
            .health()
            .map(|h| h.issues())
            .unwrap_or_default()
            .iter()
            .map(|issue| issue_text(issue.code().map(|c| c.as_str()), issue.message()))
            .collect(),
        pod_execution_role_arn: string(profile.pod_execution_role_arn()),
        subnet_ids: sorted(profile.subnets()),
        selectors: profile
            .selectors()
            .iter()
            .map(|s| (string(s.namespace()), tags_of(s.labels())))
            .collect(),
        tags: tags_of(profile.tags()),
    }
}

impl AwsCloud {
    async fn fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<FargateProfile>> {
        let output = self
            .eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await
            .context(
                "DescribeFargateProfile",
                format!("Fargate profile {cluster}/{name}"),
            )
            .or_gone()?;
        Ok(output.and_then(|o| o.fargate_profile))
    }
}

#[async_trait]
impl FargateProfiles for AwsCloud {
    async fn list_fargate_profiles(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedFargateProfile>> {
        let names: Vec<String> = all_items!(
            self.eks.list_fargate_profiles().cluster_name(cluster),
            "ListFargateProfiles",
            format!("cluster {cluster}")
        )?;
        describe_each(
            names,
            |name| async move {
                let profile = self.fargate_profile(cluster, &name).await?;
                Ok(profile.as_ref().map(observed_fargate_profile))
            },
            |profile: &ObservedFargateProfile| profile.name.clone(),
        )
        .await
    }

    async fn create_fargate_profile(&self, request: &FargateProfileRequest) -> CloudResult<()> {
        self.eks
            .create_fargate_profile()
            .cluster_name(&request.cluster)
            .fargate_profile_name(&request.name)
            .pod_execution_role_arn(&request.pod_execution_role_arn)
            .set_subnets(Some(request.subnet_ids.clone()))
            .set_selectors(Some(selectors(&request.selectors)))
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context(
                "CreateFargateProfile",
                format!("Fargate profile {}/{}", request.cluster, request.name),
            )
            .map(drop)
    }

    async fn delete_fargate_profile(&self, cluster: &str, name: &str) -> CloudResult<()> {
        self.eks
            .delete_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await
            .context(
                "DeleteFargateProfile",
                format!("Fargate profile {cluster}/{name}"),
            )
            .or_gone()
            .map(drop)
    }

    async fn describe_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedFargateProfile>> {
        let profile = self.fargate_profile(cluster, name).await?;
        Ok(profile.as_ref().map(observed_fargate_profile))
    }
}
