//! `Identity` in memory: IAM roles, instance profiles, OIDC providers, and STS.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl Identity for MemoryCloud {
    async fn list_roles(&self, path_prefix: &str) -> CloudResult<Vec<ObservedRole>> {
        Ok(self
            .lock()
            .roles
            .values()
            .filter(|r| r.path.starts_with(path_prefix))
            .cloned()
            .collect())
    }

    async fn create_role(&self, r: &RoleRequest) -> CloudResult<String> {
        self.gate("CreateRole")?;
        let mut s = self.lock();
        if s.roles.contains_key(&r.name) {
            return Err(CloudError {
                operation: "CreateRole",
                resource: r.name.clone(),
                code: Some("EntityAlreadyExists".to_owned()),
                message: "role exists".to_owned(),
                kind: ErrorKind::AlreadyExists,
            });
        }
        let arn = format!("arn:aws:iam::{ACCOUNT}:role{}{}", r.path, r.name);
        let created_at = s.tick();
        s.roles.insert(
            r.name.clone(),
            ObservedRole {
                name: r.name.clone(),
                arn: arn.clone(),
                path: r.path.clone(),
                trust_policy: r.trust_policy.clone(),
                tags: r.tags.clone(),
                attached_policies: Vec::new(),
                inline_policies: BTreeMap::new(),
                created_at: Some(created_at),
                description: Some(r.description.clone()),
            },
        );
        s.log(format!("CreateRole {}", r.name));
        Ok(arn)
    }

    async fn update_trust_policy(
        &self,
        role: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        s.roles
            .get_mut(role)
            .ok_or_else(|| not_found("UpdateAssumeRolePolicy", role))?
            .trust_policy = document.clone();
        s.log(format!("UpdateAssumeRolePolicy {role}"));
        Ok(())
    }

    async fn attach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        let r = s
            .roles
            .get_mut(role)
            .ok_or_else(|| not_found("AttachRolePolicy", role))?;
        if !r.attached_policies.iter().any(|p| p == policy_arn) {
            r.attached_policies.push(policy_arn.to_owned());
            r.attached_policies.sort();
        }
        s.log(format!("AttachRolePolicy {role}"));
        Ok(())
    }

    async fn detach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(r) = s.roles.get_mut(role) {
            r.attached_policies.retain(|p| p != policy_arn);
        }
        s.log(format!("DetachRolePolicy {role}"));
        Ok(())
    }

    async fn put_inline_policy(
        &self,
        role: &str,
        name: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        s.roles
            .get_mut(role)
            .ok_or_else(|| not_found("PutRolePolicy", role))?
            .inline_policies
            .insert(name.to_owned(), document.clone());
        s.log(format!("PutRolePolicy {role}"));
        Ok(())
    }

    async fn delete_inline_policy(&self, role: &str, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(r) = s.roles.get_mut(role) {
            r.inline_policies.remove(name);
        }
        s.log(format!("DeleteRolePolicy {role}"));
        Ok(())
    }

    async fn tag_role(&self, role: &str, tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        s.roles
            .get_mut(role)
            .ok_or_else(|| not_found("TagRole", role))?
            .tags
            .extend(tags.clone());
        s.log(format!("TagRole {role}"));
        Ok(())
    }

    async fn roles_trusting(&self, provider_arn: &str) -> CloudResult<Vec<ObservedRole>> {
        Ok(self
            .lock()
            .roles
            .values()
            .filter(|r| trusts_federated(&r.trust_policy, provider_arn))
            .cloned()
            .collect())
    }

    async fn describe_role(&self, name: &str) -> CloudResult<Option<ObservedRole>> {
        Ok(self.lock().roles.get(name).cloned())
    }

    async fn role_exists(&self, name: &str) -> CloudResult<bool> {
        let s = self.lock();
        Ok(s.roles.contains_key(name) || s.service_linked_roles.values().any(|r| r == name))
    }

    async fn create_service_linked_role(&self, service: &str) -> CloudResult<()> {
        let mut s = self.lock();
        let name = match service {
            "spot.amazonaws.com" => "AWSServiceRoleForEC2Spot".to_owned(),
            other => format!("AWSServiceRoleFor{other}"),
        };
        s.service_linked_roles.insert(service.to_owned(), name);
        s.log(format!("CreateServiceLinkedRole {service}"));
        Ok(())
    }

    async fn delete_role(&self, role: &str) -> CloudResult<()> {
        let mut s = self.lock();
        // IAM: "Cannot delete entity, must remove roles from instance profile first."
        if s.instance_profiles
            .values()
            .any(|(roles, _)| roles.iter().any(|r| r == role))
        {
            return Err(CloudError {
                operation: "DeleteRole",
                resource: role.to_owned(),
                code: Some("DeleteConflict".to_owned()),
                message: "Cannot delete entity, must remove roles from instance profile first."
                    .to_owned(),
                kind: ErrorKind::InUse,
            });
        }
        s.roles.remove(role);
        s.log(format!("DeleteRole {role}"));
        Ok(())
    }

    async fn karpenter_instance_profiles(
        &self,
        role: &str,
        cluster: &str,
        region: &str,
    ) -> CloudResult<Vec<String>> {
        let s = self.lock();
        Ok(s.instance_profiles
            .iter()
            .filter(|(_, (roles, tags))| {
                roles.iter().any(|r| r == role)
                    && tags
                        .get(&crate::naming::kubernetes_cluster_tag(cluster))
                        .is_some_and(|v| v == "owned")
                    && tags
                        .get(crate::naming::KARPENTER_REGION_TAG)
                        .is_some_and(|v| v == region)
                    && tags.contains_key(crate::naming::KARPENTER_NODE_CLASS_TAG)
            })
            .map(|(name, _)| name.clone())
            .collect())
    }

    async fn delete_instance_profile(&self, profile: &str, role: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some((roles, _)) = s.instance_profiles.get_mut(profile) {
            roles.retain(|r| r != role);
        }
        s.instance_profiles.remove(profile);
        s.log(format!("DeleteInstanceProfile {profile}"));
        Ok(())
    }

    async fn eks_instance_profiles(&self, role: &str) -> CloudResult<Vec<String>> {
        let s = self.lock();
        Ok(s.instance_profiles
            .iter()
            .filter(|(name, (roles, _))| {
                name.starts_with(crate::naming::EKS_INSTANCE_PROFILE_PREFIX)
                    && roles.iter().any(|r| r == role)
            })
            .map(|(name, _)| name.clone())
            .collect())
    }

    async fn describe_oidc_provider(&self, arn: &str) -> CloudResult<Option<ObservedOidcProvider>> {
        Ok(self.lock().oidc.get(arn).cloned())
    }

    async fn list_oidc_providers(
        &self,
        cluster: &str,
        _issuer: Option<&str>,
    ) -> CloudResult<Vec<ObservedOidcProvider>> {
        Ok(self
            .lock()
            .oidc
            .values()
            .filter(|o| owned_by(&o.tags, cluster))
            .cloned()
            .collect())
    }

    async fn create_oidc_provider(&self, issuer_url: &str, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let url = issuer_url
            .strip_prefix("https://")
            .unwrap_or(issuer_url)
            .to_owned();
        let arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{url}");
        s.oidc.insert(
            arn.clone(),
            ObservedOidcProvider {
                arn: arn.clone(),
                url,
                client_ids: vec!["sts.amazonaws.com".to_owned()],
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateOpenIDConnectProvider {arn}"));
        Ok(arn)
    }

    async fn tag_oidc_provider(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        s.oidc
            .get_mut(arn)
            .ok_or_else(|| not_found("TagOpenIDConnectProvider", arn))?
            .tags
            .extend(tags.clone());
        s.log(format!("TagOpenIDConnectProvider {arn}"));
        Ok(())
    }

    async fn delete_oidc_provider(&self, arn: &str) -> CloudResult<()> {
        let mut s = self.lock();
        s.oidc.remove(arn);
        s.log(format!("DeleteOpenIDConnectProvider {arn}"));
        Ok(())
    }

    async fn account_id(&self) -> CloudResult<String> {
        Ok(ACCOUNT.to_owned())
    }

    async fn caller_arn(&self) -> CloudResult<String> {
        self.gate("GetCallerIdentity")?;
        Ok(format!("arn:aws:sts::{ACCOUNT}:assumed-role/memory/test"))
    }
}
