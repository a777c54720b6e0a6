//! `Addons` in memory: EKS add-ons.

use async_trait::async_trait;

use super::*;

/// Add-ons the fake knows; each has the version `v<kubernetes version>.0-eksbuild.1` by default.
const KNOWN_ADDONS: &[&str] = &[
    "vpc-cni",
    "kube-proxy",
    "coredns",
    "aws-ebs-csi-driver",
    "aws-efs-csi-driver",
    "eks-pod-identity-agent",
    "snapshot-controller",
    "metrics-server",
];

#[async_trait]
impl Addons for MemoryCloud {
    async fn list_addons(&self, cluster: &str) -> CloudResult<Vec<ObservedAddon>> {
        let s = self.lock();
        Ok(s.addons
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, a)| s.addon_view(a))
            .collect())
    }

    async fn describe_addon(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedAddon>> {
        let s = self.lock();
        Ok(s.addons
            .get(&(cluster.to_owned(), name.to_owned()))
            .map(|addon| s.addon_view(addon)))
    }

    async fn default_addon_version(
        &self,
        addon: &str,
        kubernetes_version: &str,
    ) -> CloudResult<Option<String>> {
        Ok(KNOWN_ADDONS
            .contains(&addon)
            .then(|| format!("v{kubernetes_version}.0-eksbuild.1")))
    }

    async fn create_addon(&self, r: &AddonRequest) -> CloudResult<()> {
        self.gate("CreateAddon")?;
        let mut s = self.lock();
        let key = (r.cluster.clone(), r.name.clone());
        if s.addons.contains_key(&key) {
            return Err(CloudError {
                operation: "CreateAddon",
                resource: r.name.clone(),
                code: Some("ResourceInUseException".to_owned()),
                message: format!("Addon {} already exists", r.name),
                kind: ErrorKind::AlreadyExists,
            });
        }
        let arn = format!(
            "arn:aws:eks:us-east-1:{ACCOUNT}:addon/{}/{}/0",
            r.cluster, r.name
        );
        if let Some(wanted) = &r.pod_identity_associations {
            s.set_addon_pod_identities("CreateAddon", &r.cluster, &arn, wanted)?;
        }
        s.addons.insert(
            key,
            ObservedAddon {
                name: r.name.clone(),
                arn,
                version: r.version.clone(),
                status: "ACTIVE".to_owned(),
                service_account_role_arn: r.service_account_role_arn.clone(),
                configuration_values: r.configuration_values.clone(),
                health_issues: Vec::new(),
                // Read from the associations (`addon_view`).
                pod_identity_associations: Vec::new(),
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateAddon {}", r.name));
        Ok(())
    }

    async fn update_addon(&self, r: &AddonRequest) -> CloudResult<Option<String>> {
        self.gate("UpdateAddon")?;
        let mut s = self.lock();
        let key = (r.cluster.clone(), r.name.clone());
        let arn = s
            .addons
            .get(&key)
            .map(|addon| addon.arn.clone())
            .ok_or_else(|| not_found("UpdateAddon", &r.name))?;
        // Not sent: the associations stay; an empty list deletes them all.
        if let Some(wanted) = &r.pod_identity_associations {
            s.set_addon_pod_identities("UpdateAddon", &r.cluster, &arn, wanted)?;
        }
        let Some(addon) = s.addons.get_mut(&key) else {
            return Err(not_found("UpdateAddon", &r.name));
        };
        addon.version = r.version.clone();
        // An empty ARN removes the role, as in EKS.
        addon.service_account_role_arn = r
            .service_account_role_arn
            .clone()
            .filter(|arn| !arn.is_empty());
        addon.configuration_values = r.configuration_values.clone();
        s.log(format!("UpdateAddon {}", r.name));
        Ok(Some(s.finished_update()))
    }

    async fn delete_addon(&self, cluster: &str, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(addon) = s.addons.remove(&(cluster.to_owned(), name.to_owned())) {
            // EKS deletes the associations it made for the add-on with it.
            s.pod_identity
                .retain(|_, (_, a)| a.owner_arn.as_deref() != Some(addon.arn.as_str()));
        }
        s.log(format!("DeleteAddon {name}"));
        Ok(())
    }
}
