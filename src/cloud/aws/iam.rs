//! `Identity` over IAM and STS.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_iam::types::{Role, Tag};
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt, stream};
use percent_encoding::percent_decode_str;

use super::{AwsCloud, AwsContext, OrGone, READ_CONCURRENCY, required};
use crate::cloud::{
    CloudError, CloudResult, ErrorKind, Identity, ObservedOidcProvider, ObservedRole, RoleRequest,
    Tags, trusts_federated,
};
use crate::naming::{
    CLUSTER_TAG, EKS_INSTANCE_PROFILE_PREFIX, KARPENTER_NODE_CLASS_TAG, KARPENTER_REGION_TAG,
    kubernetes_cluster_tag,
};

/// The audience of IRSA tokens.
const STS_AUDIENCE: &str = "sts.amazonaws.com";
/// Thumbprint of the root CA of EKS OIDC issuers. IAM no longer checks it for EKS issuers,
/// but CreateOpenIDConnectProvider still requires one in older API versions.
const EKS_ROOT_CA_THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

fn iam_tags(tags: &Tags, operation: &'static str, about: &str) -> CloudResult<Vec<Tag>> {
    tags.iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .context(operation, about)
        })
        .collect()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
        .collect()
}

/// IAM returns policy documents URL-encoded (RFC 3986); emulators sometimes do not.
fn policy_document(
    encoded: &str,
    operation: &'static str,
    about: &str,
) -> CloudResult<serde_json::Value> {
    let decoded = percent_decode_str(encoded).decode_utf8_lossy();
    serde_json::from_str(&decoded)
        .or_else(|_| serde_json::from_str(encoded))
        .map_err(|error| CloudError {
            operation,
            resource: about.to_owned(),
            code: None,
            message: format!("the policy document is not JSON: {error}"),
            kind: ErrorKind::Other,
        })
}

fn json(document: &serde_json::Value) -> String {
    document.to_string()
}

impl AwsCloud {
    /// The instance profiles holding `role` (none when the role is gone).
    async fn instance_profiles_of(
        &self,
        role: &str,
    ) -> CloudResult<Vec<aws_sdk_iam::types::InstanceProfile>> {
        let about = format!("instance profiles of role {role}");
        Ok(all_items!(
            self.iam.list_instance_profiles_for_role().role_name(role),
            "ListInstanceProfilesForRole",
            &about
        )
        .or_gone()?
        .unwrap_or_default())
    }

    /// Roles read with [`Self::observe_role`] (concurrently), sorted by name; those deleted
    /// meanwhile are left out.
    async fn observe_roles(&self, roles: Vec<Role>) -> CloudResult<Vec<ObservedRole>> {
        let observed: Vec<Option<ObservedRole>> = stream::iter(roles)
            .map(|role| self.observe_role(role))
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        let mut observed: Vec<ObservedRole> = observed.into_iter().flatten().collect();
        observed.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(observed)
    }

    /// A role with its trust policy, tags and policies; `None` if it was deleted meanwhile.
    async fn observe_role(&self, role: Role) -> CloudResult<Option<ObservedRole>> {
        let name = role.role_name();
        let about = format!("role {name}");
        let details = async {
            self.iam
                .get_role()
                .role_name(name)
                .send()
                .await
                .context("GetRole", &about)
        };
        let attached = self.attached_policy_arns(name, &about);
        let inline = self.inline_policies(name, &about);
        let Some((details, attached, inline)) =
            tokio::try_join!(details, attached, inline).or_gone()?
        else {
            return Ok(None);
        };
        let role = details.role().unwrap_or(&role);
        let trust_policy = match role.assume_role_policy_document() {
            Some(document) => policy_document(document, "GetRole", &about)?,
            None => serde_json::Value::Null,
        };
        let mut attached_policies = attached;
        attached_policies.sort();
        Ok(Some(ObservedRole {
            name: role.role_name().to_owned(),
            arn: role.arn().to_owned(),
            path: role.path().to_owned(),
            trust_policy,
            tags: tags_of(role.tags()),
            attached_policies,
            inline_policies: inline,
            created_at: role.create_date().to_millis().ok(),
            description: role.description().map(str::to_owned),
        }))
    }

    async fn inline_policies(
        &self,
        role: &str,
        about: &str,
    ) -> CloudResult<BTreeMap<String, serde_json::Value>> {
        let names = self.inline_policy_names(role, about).await?;
        let policies = names.into_iter().map(|name| async move {
            let output = self
                .iam
                .get_role_policy()
                .role_name(role)
                .policy_name(&name)
                .send()
                .await
                .context("GetRolePolicy", format!("{about} policy {name}"))?;
            let document = policy_document(output.policy_document(), "GetRolePolicy", about)?;
            Ok::<_, CloudError>((name, document))
        });
        Ok(try_join_all(policies).await?.into_iter().collect())
    }

    async fn attached_policy_arns(&self, role: &str, about: &str) -> CloudResult<Vec<String>> {
        let attached: Vec<_> = all_items!(
            self.iam.list_attached_role_policies().role_name(role),
            "ListAttachedRolePolicies",
            about
        )?;
        Ok(attached.into_iter().filter_map(|p| p.policy_arn).collect())
    }

    async fn inline_policy_names(&self, role: &str, about: &str) -> CloudResult<Vec<String>> {
        all_items!(
            self.iam.list_role_policies().role_name(role),
            "ListRolePolicies",
            about
        )
    }

    /// An OIDC provider; `None` if it was deleted meanwhile.
    async fn observe_oidc_provider(
        &self,
        arn: String,
    ) -> CloudResult<Option<ObservedOidcProvider>> {
        let output = self
            .iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await
            .context("GetOpenIDConnectProvider", format!("OIDC provider {arn}"))
            .or_gone()?;
        Ok(output.map(|output| {
            let url = output.url().unwrap_or_default();
            ObservedOidcProvider {
                url: url.strip_prefix("https://").unwrap_or(url).to_owned(),
                client_ids: output.client_id_list().to_vec(),
                tags: tags_of(output.tags()),
                arn,
            }
        }))
    }
}

#[async_trait]
impl Identity for AwsCloud {
    async fn list_roles(&self, path_prefix: &str) -> CloudResult<Vec<ObservedRole>> {
        let roles: Vec<Role> = all_items!(
            self.iam.list_roles().path_prefix(path_prefix),
            "ListRoles",
            format!("roles under {path_prefix}")
        )?;
        self.observe_roles(roles).await
    }

    async fn create_role(&self, request: &RoleRequest) -> CloudResult<String> {
        let about = format!("role {}", request.name);
        let output = self
            .iam
            .create_role()
            .role_name(&request.name)
            .path(&request.path)
            .assume_role_policy_document(json(&request.trust_policy))
            .description(&request.description)
            .set_tags(Some(iam_tags(&request.tags, "CreateRole", &about)?))
            .send()
            .await
            .context("CreateRole", &about)?;
        Ok(required(output.role(), "role", "CreateRole", &about)?
            .arn()
            .to_owned())
    }

    async fn update_trust_policy(
        &self,
        role: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        self.iam
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(json(document))
            .send()
            .await
            .context("UpdateAssumeRolePolicy", format!("role {role}"))
            .map(drop)
    }

    async fn attach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()> {
        self.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .context(
                "AttachRolePolicy",
                format!("role {role} policy {policy_arn}"),
            )
            .map(drop)
    }

    async fn detach_policy(&self, role: &str, policy_arn: &str) -> CloudResult<()> {
        self.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .context(
                "DetachRolePolicy",
                format!("role {role} policy {policy_arn}"),
            )
            .or_gone()
            .map(drop)
    }

    async fn put_inline_policy(
        &self,
        role: &str,
        name: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(json(document))
            .send()
            .await
            .context("PutRolePolicy", format!("role {role} policy {name}"))
            .map(drop)
    }

    async fn delete_inline_policy(&self, role: &str, name: &str) -> CloudResult<()> {
        self.iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .context("DeleteRolePolicy", format!("role {role} policy {name}"))
            .or_gone()
            .map(drop)
    }

    async fn tag_role(&self, role: &str, tags: &Tags) -> CloudResult<()> {
        let about = format!("role {role}");
        self.iam
            .tag_role()
            .role_name(role)
            .set_tags(Some(iam_tags(tags, "TagRole", &about)?))
            .send()
            .await
            .context("TagRole", &about)
            .map(drop)
    }

    async fn role_exists(&self, name: &str) -> CloudResult<bool> {
        let found = self
            .iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .context("GetRole", format!("role {name}"))
            .or_gone()?;
        Ok(found.is_some())
    }

    async fn create_service_linked_role(&self, service: &str) -> CloudResult<()> {
        let created = self
            .iam
            .create_service_linked_role()
            .aws_service_name(service)
            .send()
            .await
            .context(
                "CreateServiceLinkedRole",
                format!("the service-linked role of {service}"),
            );
        match created {
            // IAM's answer when it exists: InvalidInput, "Service role name
            // AWSServiceRoleForEC2Spot has been taken in this account, please try a different
            // suffix." (Karpenter's getting-started step06-add-spot-role.sh).
            Err(error)
                if error.code.as_deref() == Some("InvalidInput")
                    && error.message.contains("has been taken") =>
            {
                Ok(())
            }
            other => other.map(drop),
        }
    }

    async fn delete_role(&self, role: &str) -> CloudResult<()> {
        let about = format!("role {role}");
        // IAM refuses to delete a role that still has policies.
        let Some((attached, inline)) = tokio::try_join!(
            self.attached_policy_arns(role, &about),
            self.inline_policy_names(role, &about),
        )
        .or_gone()?
        else {
            return Ok(());
        };
        try_join_all(
            attached
                .iter()
                .map(|policy_arn| self.detach_policy(role, policy_arn)),
        )
        .await?;
        try_join_all(
            inline
                .iter()
                .map(|name| self.delete_inline_policy(role, name)),
        )
        .await?;
        self.iam
            .delete_role()
            .role_name(role)
            .send()
            .await
            .context("DeleteRole", &about)
            .or_gone()
            .map(drop)
    }

    async fn karpenter_instance_profiles(
        &self,
        role: &str,
        cluster: &str,
        region: &str,
    ) -> CloudResult<Vec<String>> {
        let profiles = self.instance_profiles_of(role).await?;
        // Listing leaves tags out (IAM API reference, ListInstanceProfilesForRole): each
        // profile's are read.
        let tagged: Vec<Option<(String, Tags)>> = stream::iter(profiles)
            .map(|profile| async move {
                let name = profile.instance_profile_name().to_owned();
                let read = self
                    .iam
                    .get_instance_profile()
                    .instance_profile_name(&name)
                    .send()
                    .await
                    .context("GetInstanceProfile", format!("instance profile {name}"))
                    .or_gone()?;
                Ok::<_, CloudError>(read.and_then(|o| {
                    let tags = tags_of(o.instance_profile()?.tags());
                    Some((name, tags))
                }))
            })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        let karpenter = |tags: &Tags| {
            tags.get(&kubernetes_cluster_tag(cluster))
                .is_some_and(|v| v == "owned")
                && tags.get(KARPENTER_REGION_TAG).is_some_and(|v| v == region)
                && tags.contains_key(KARPENTER_NODE_CLASS_TAG)
        };
        let mut names: Vec<String> = tagged
            .into_iter()
            .flatten()
            .filter(|(_, tags)| karpenter(tags))
            .map(|(name, _)| name)
            .collect();
        names.sort();
        Ok(names)
    }

    async fn delete_instance_profile(&self, profile: &str, role: &str) -> CloudResult<()> {
        let about = format!("instance profile {profile}");
        self.iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .context("RemoveRoleFromInstanceProfile", &about)
            .or_gone()?;
        self.iam
            .delete_instance_profile()
            .instance_profile_name(profile)
            .send()
            .await
            .context("DeleteInstanceProfile", &about)
            .or_gone()
            .map(drop)
    }

    async fn eks_instance_profiles(&self, role: &str) -> CloudResult<Vec<String>> {
        let profiles = self.instance_profiles_of(role).await?;
        let mut names: Vec<String> = profiles
            .iter()
            .map(|p| p.instance_profile_name().to_owned())
            .filter(|name| name.starts_with(EKS_INSTANCE_PROFILE_PREFIX))
            .collect();
        names.sort();
        Ok(names)
    }

    async fn describe_oidc_provider(&self, arn: &str) -> CloudResult<Option<ObservedOidcProvider>> {
        self.observe_oidc_provider(arn.to_owned()).await
    }

    async fn list_oidc_providers(
        &self,
        cluster: &str,
        issuer: Option<&str>,
    ) -> CloudResult<Vec<ObservedOidcProvider>> {
        // ListOpenIDConnectProviders is not paginated and returns only ARNs.
        let output = self
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .context("ListOpenIDConnectProviders", "OIDC providers")?;
        let arns: Vec<String> = output
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|entry| entry.arn().map(str::to_owned))
            .collect();
        let owned =
            |p: &ObservedOidcProvider| p.tags.get(CLUSTER_TAG).map(String::as_str) == Some(cluster);
        // A provider's ARN ends with its issuer's host and path.
        let suffix = issuer.map(|i| format!(":oidc-provider/{}", i.trim_start_matches("https://")));
        if let Some(arn) = suffix.and_then(|s| arns.iter().find(|a| a.ends_with(&s)))
            && let Some(provider) = self.observe_oidc_provider(arn.clone()).await?
            && owned(&provider)
        {
            return Ok(vec![provider]);
        }
        let providers: Vec<Option<ObservedOidcProvider>> = stream::iter(arns)
            .map(|arn| self.observe_oidc_provider(arn))
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        let mut providers: Vec<ObservedOidcProvider> = providers
            .into_iter()
            .flatten()
            .filter(|p| owned(p))
            .collect();
        providers.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(providers)
    }

    async fn create_oidc_provider(&self, issuer_url: &str, tags: &Tags) -> CloudResult<String> {
        let about = format!("OIDC provider {issuer_url}");
        let url = if issuer_url.starts_with("https://") {
            issuer_url.to_owned()
        } else {
            format!("https://{issuer_url}")
        };
        let output = self
            .iam
            .create_open_id_connect_provider()
            .url(url)
            .client_id_list(STS_AUDIENCE)
            .thumbprint_list(EKS_ROOT_CA_THUMBPRINT)
            .set_tags(Some(iam_tags(tags, "CreateOpenIDConnectProvider", &about)?))
            .send()
            .await
            .context("CreateOpenIDConnectProvider", &about)?;
        Ok(required(
            output.open_id_connect_provider_arn(),
            "provider ARN",
            "CreateOpenIDConnectProvider",
            &about,
        )?
        .to_owned())
    }

    async fn tag_oidc_provider(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        let about = format!("OIDC provider {arn}");
        self.iam
            .tag_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .set_tags(Some(iam_tags(tags, "TagOpenIDConnectProvider", &about)?))
            .send()
            .await
            .context("TagOpenIDConnectProvider", &about)
            .map(drop)
    }

    async fn delete_oidc_provider(&self, arn: &str) -> CloudResult<()> {
        self.iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .context(
                "DeleteOpenIDConnectProvider",
                format!("OIDC provider {arn}"),
            )
            .or_gone()
            .map(drop)
    }

    async fn account_id(&self) -> CloudResult<String> {
        let output = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .context("GetCallerIdentity", "the caller")?;
        Ok(required(
            output.account(),
            "account",
            "GetCallerIdentity",
            "the caller",
        )?
        .to_owned())
    }

    async fn roles_trusting(&self, provider_arn: &str) -> CloudResult<Vec<ObservedRole>> {
        let about = format!("roles trusting {provider_arn}");
        let roles: Vec<Role> = all_items!(self.iam.list_roles(), "ListRoles", &about)?;
        let mut trusting = Vec::new();
        for role in roles {
            let trust = match role.assume_role_policy_document() {
                Some(document) => policy_document(document, "ListRoles", &about)?,
                None => serde_json::Value::Null,
            };
            if trusts_federated(&trust, provider_arn) {
                trusting.push(role);
            }
        }
        self.observe_roles(trusting).await
    }

    async fn describe_role(&self, name: &str) -> CloudResult<Option<ObservedRole>> {
        let found = self
            .iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .context("GetRole", format!("role {name}"))
            .or_gone()?;
        match found.and_then(|output| output.role().cloned()) {
            Some(role) => self.observe_role(role).await,
            None => Ok(None),
        }
    }

    async fn caller_arn(&self) -> CloudResult<String> {
        let output = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .context("GetCallerIdentity", "the caller")?;
        Ok(required(output.arn(), "arn", "GetCallerIdentity", "the caller")?.to_owned())
    }
}
