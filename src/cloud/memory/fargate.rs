//! `FargateProfiles` in memory.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl FargateProfiles for MemoryCloud {
    async fn list_fargate_profiles(
        &self,
        cluster: &str,
    ) -> CloudResult<Vec<ObservedFargateProfile>> {
        Ok(self
            .lock()
            .fargate
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, f)| f.clone())
            .collect())
    }

    async fn create_fargate_profile(&self, r: &FargateProfileRequest) -> CloudResult<()> {
        self.gate("CreateFargateProfile")?;
        let mut s = self.lock();
        s.log(format!("CreateFargateProfile {}", r.name));
        if s.fargate.contains_key(&(r.cluster.clone(), r.name.clone())) {
            // As EKS answers a second profile of the same name.
            return Err(CloudError {
                operation: "CreateFargateProfile",
                resource: r.name.clone(),
                code: Some("ResourceInUseException".to_owned()),
                message: "A Fargate Profile already exists with this name in this cluster."
                    .to_owned(),
                kind: ErrorKind::InUse,
            });
        }
        let mut subnets = r.subnet_ids.clone();
        subnets.sort();
        s.fargate.insert(
            (r.cluster.clone(), r.name.clone()),
            ObservedFargateProfile {
                name: r.name.clone(),
                arn: format!(
                    "arn:aws:eks:us-east-1:{ACCOUNT}:fargateprofile/{}/{}/0",
                    r.cluster, r.name
                ),
                status: "ACTIVE".to_owned(),
                health_issues: Vec::new(),
                pod_execution_role_arn: r.pod_execution_role_arn.clone(),
                subnet_ids: subnets,
                selectors: r.selectors.clone(),
                tags: r.tags.clone(),
            },
        );
        Ok(())
    }

    async fn delete_fargate_profile(&self, cluster: &str, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        s.fargate.remove(&(cluster.to_owned(), name.to_owned()));
        s.log(format!("DeleteFargateProfile {name}"));
        Ok(())
    }

    async fn describe_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedFargateProfile>> {
        Ok(self
            .lock()
            .fargate
            .get(&(cluster.to_owned(), name.to_owned()))
            .cloned())
    }
}
