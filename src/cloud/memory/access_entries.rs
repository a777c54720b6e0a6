//! `AccessEntries` in memory: EKS access entries and their access policies.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl AccessEntries for MemoryCloud {
    async fn list_access_entries(&self, cluster: &str) -> CloudResult<Vec<ObservedAccessEntry>> {
        Ok(self
            .lock()
            .access_entries
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn describe_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> CloudResult<Option<ObservedAccessEntry>> {
        Ok(self
            .lock()
            .access_entries
            .get(&(cluster.to_owned(), principal_arn.to_owned()))
            .cloned())
    }

    async fn create_access_entry(&self, r: &AccessEntryRequest) -> CloudResult<()> {
        self.gate("CreateAccessEntry")?;
        let mut s = self.lock();
        let key = (r.cluster.clone(), r.principal_arn.clone());
        if s.access_entries.contains_key(&key) {
            // As EKS answers a second entry for the same principal.
            return Err(CloudError {
                operation: "CreateAccessEntry",
                resource: r.principal_arn.clone(),
                code: Some("ResourceInUseException".to_owned()),
                message: "The specified access entry resource is already in use on this cluster."
                    .to_owned(),
                kind: ErrorKind::InUse,
            });
        }
        let mut groups = r.kubernetes_groups.clone();
        groups.sort();
        let created_at = s.tick();
        s.access_entries.insert(
            (r.cluster.clone(), r.principal_arn.clone()),
            ObservedAccessEntry {
                principal_arn: r.principal_arn.clone(),
                arn: format!(
                    "arn:aws:eks:us-east-1:{ACCOUNT}:access-entry/{}/{}",
                    r.cluster, r.principal_arn
                ),
                kubernetes_groups: groups,
                username: Some(r.username.clone().unwrap_or_else(|| {
                    default_access_entry_username(&r.principal_arn)
                        .unwrap_or_else(|| r.principal_arn.clone())
                })),
                entry_type: r
                    .entry_type
                    .clone()
                    .unwrap_or_else(|| "STANDARD".to_owned()),
                policies: Vec::new(),
                tags: r.tags.clone(),
                created_at: Some(created_at),
            },
        );
        s.log(format!("CreateAccessEntry {}", r.principal_arn));
        Ok(())
    }

    async fn update_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
        kubernetes_groups: &[String],
        username: Option<&str>,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        let entry = s
            .access_entries
            .get_mut(&(cluster.to_owned(), principal_arn.to_owned()))
            .ok_or_else(|| not_found("UpdateAccessEntry", principal_arn))?;
        entry.kubernetes_groups = kubernetes_groups.to_vec();
        entry.kubernetes_groups.sort();
        if let Some(username) = username {
            entry.username = Some(username.to_owned());
        }
        s.log(format!("UpdateAccessEntry {principal_arn}"));
        Ok(())
    }

    async fn delete_access_entry(&self, cluster: &str, principal_arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        s.access_entries
            .remove(&(cluster.to_owned(), principal_arn.to_owned()));
        s.log(format!("DeleteAccessEntry {principal_arn}"));
        Ok(())
    }

    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy: &AccessPolicy,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        let entry = s
            .access_entries
            .get_mut(&(cluster.to_owned(), principal_arn.to_owned()))
            .ok_or_else(|| not_found("AssociateAccessPolicy", principal_arn))?;
        entry.policies.retain(|p| p.policy_arn != policy.policy_arn);
        entry.policies.push(policy.clone());
        entry.policies.sort();
        s.log(format!(
            "AssociateAccessPolicy {principal_arn} {}",
            policy.policy_arn
        ));
        Ok(())
    }

    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(entry) = s
            .access_entries
            .get_mut(&(cluster.to_owned(), principal_arn.to_owned()))
        {
            entry.policies.retain(|p| p.policy_arn != policy_arn);
        }
        s.log(format!(
            "DisassociateAccessPolicy {principal_arn} {policy_arn}"
        ));
        Ok(())
    }
}
