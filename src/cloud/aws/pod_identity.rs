//! `PodIdentity` over EKS Pod Identity associations.

use async_trait::async_trait;
use aws_sdk_eks::types::{PodIdentityAssociation, PodIdentityAssociationSummary};

use super::eks::{describe_each, string_map, tags_of};
use super::{AwsCloud, AwsContext, OrGone, required, string};
use crate::cloud::{
    CloudResult, ObservedPodIdentityAssociation, PodIdentity, PodIdentityAssociationRequest,
};

/// How an association is named in errors: `pod identity association web/app of cluster demo`.
fn association(cluster: &str, namespace: &str, service_account: &str) -> String {
    format!("pod identity association {namespace}/{service_account} of cluster {cluster}")
}

/// How an association known only by its id is named in errors.
fn association_by_id(cluster: &str, id: &str) -> String {
    format!("pod identity association {id} of cluster {cluster}")
}

fn observed(association: &PodIdentityAssociation) -> ObservedPodIdentityAssociation {
    ObservedPodIdentityAssociation {
        association_id: string(association.association_id()),
        association_arn: string(association.association_arn()),
        namespace: string(association.namespace()),
        service_account: string(association.service_account()),
        role_arn: string(association.role_arn()),
        owner_arn: association
            .owner_arn()
            .filter(|arn| !arn.is_empty())
            .map(str::to_owned),
        tags: tags_of(association.tags()),
    }
}

impl AwsCloud {
    /// One association, described (with its tags), or `None` when it is gone.
    async fn describe_pod_identity_association(
        &self,
        cluster: &str,
        id: &str,
    ) -> CloudResult<Option<ObservedPodIdentityAssociation>> {
        let output = self
            .eks
            .describe_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
            .context(
                "DescribePodIdentityAssociation",
                association_by_id(cluster, id),
            )
            .or_gone()?;
        Ok(output.and_then(|o| o.association().map(observed)))
    }
}

#[async_trait]
impl PodIdentity for AwsCloud {
    async fn list_pod_identity_associations(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedPodIdentityAssociation>> {
        // The list gives summaries without the role and tags: each is described.
        let summaries: Vec<PodIdentityAssociationSummary> = all_items!(
            self.eks
                .list_pod_identity_associations()
                .cluster_name(cluster),
            "ListPodIdentityAssociations",
            format!("cluster {cluster}")
        )?;
        let ids = summaries
            .iter()
            .filter_map(|s| s.association_id().map(str::to_owned))
            .collect();
        describe_each(
            ids,
            |id| async move { self.describe_pod_identity_association(cluster, &id).await },
            |a: &ObservedPodIdentityAssociation| {
                (
                    a.namespace.clone(),
                    a.service_account.clone(),
                    a.association_id.clone(),
                )
            },
        )
        .await
    }

    async fn create_pod_identity_association(
        &self,
        request: &PodIdentityAssociationRequest,
    ) -> CloudResult<String> {
        let resource = association(
            &request.cluster,
            &request.namespace,
            &request.service_account,
        );
        let output = self
            .eks
            .create_pod_identity_association()
            .cluster_name(&request.cluster)
            .namespace(&request.namespace)
            .service_account(&request.service_account)
            .role_arn(&request.role_arn)
            .set_tags(string_map(&request.tags))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .context("CreatePodIdentityAssociation", &resource)?;
        required(
            output
                .association()
                .and_then(|a| a.association_id())
                .map(str::to_owned),
            "association id",
            "CreatePodIdentityAssociation",
            &resource,
        )
    }

    async fn update_pod_identity_association(
        &self,
        cluster: &str,
        id: &str,
        role_arn: &str,
    ) -> CloudResult<()> {
        self.eks
            .update_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .role_arn(role_arn)
            .send()
            .await
            .context(
                "UpdatePodIdentityAssociation",
                association_by_id(cluster, id),
            )
            .map(drop)
    }

    async fn delete_pod_identity_association(&self, cluster: &str, id: &str) -> CloudResult<()> {
        self.eks
            .delete_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
            .context(
                "DeletePodIdentityAssociation",
                association_by_id(cluster, id),
            )
            .or_gone()
            .map(drop)
    }
}
