//! `PodIdentity` in memory: EKS Pod Identity associations.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl PodIdentity for MemoryCloud {
    async fn list_pod_identity_associations(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedPodIdentityAssociation>> {
        let s = self.lock();
        let mut found: Vec<ObservedPodIdentityAssociation> = s
            .pod_identity
            .values()
            .filter(|(c, _)| c == cluster)
            .map(|(_, a)| a.clone())
            .collect();
        found.sort_by(|a, b| {
            (&a.namespace, &a.service_account).cmp(&(&b.namespace, &b.service_account))
        });
        Ok(found)
    }

    async fn create_pod_identity_association(
        &self,
        r: &PodIdentityAssociationRequest,
    ) -> CloudResult<String> {
        const OPERATION: &str = "CreatePodIdentityAssociation";
        self.gate(OPERATION)?;
        let mut s = self.lock();
        if !s.clusters.contains_key(&r.cluster) {
            return Err(CloudError {
                code: Some("ResourceNotFoundException".to_owned()),
                ..not_found(OPERATION, &format!("cluster {}", r.cluster))
            });
        }
        // The same request with the same token answers the association it made (EKS:
        // "A unique, case-sensitive identifier that you provide to ensure the idempotency of
        // the request").
        let request = format!(
            "{} {} {} {} {:?}",
            r.cluster, r.namespace, r.service_account, r.role_arn, r.tags
        );
        let token = (OPERATION, r.client_request_token.clone());
        if let Some((earlier, id)) = s.tokens.get(&token)
            && *earlier == request
            && s.pod_identity.contains_key(id)
        {
            return Ok(id.clone());
        }
        let id = s.add_pod_identity(
            OPERATION,
            &r.cluster,
            ObservedPodIdentityAssociation {
                association_id: String::new(),
                association_arn: String::new(),
                namespace: r.namespace.clone(),
                service_account: r.service_account.clone(),
                role_arn: r.role_arn.clone(),
                owner_arn: None,
                tags: r.tags.clone(),
            },
        )?;
        s.tokens.insert(token, (request, id.clone()));
        s.log(format!("{OPERATION} {}/{}", r.namespace, r.service_account));
        Ok(id)
    }

    async fn update_pod_identity_association(
        &self,
        cluster: &str,
        association_id: &str,
        role_arn: &str,
    ) -> CloudResult<()> {
        const OPERATION: &str = "UpdatePodIdentityAssociation";
        self.gate(OPERATION)?;
        let mut s = self.lock();
        let association = match s.pod_identity.get_mut(association_id) {
            Some((c, association)) if c == cluster => association,
            _ => return Err(not_found(OPERATION, association_id)),
        };
        association.role_arn = role_arn.to_owned();
        s.log(format!("{OPERATION} {association_id}"));
        Ok(())
    }

    async fn delete_pod_identity_association(
        &self,
        cluster: &str,
        association_id: &str,
    ) -> CloudResult<()> {
        const OPERATION: &str = "DeletePodIdentityAssociation";
        self.gate(OPERATION)?;
        let mut s = self.lock();
        if s.pod_identity
            .get(association_id)
            .is_some_and(|(c, _)| c == cluster)
        {
            s.pod_identity.remove(association_id);
        }
        s.log(format!("{OPERATION} {association_id}"));
        Ok(())
    }
}
