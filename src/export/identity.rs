//! Service accounts: IRSA roles (trusted by the cluster's OIDC provider for one service
//! account) and Pod Identity associations, each with its role's policies.

use serde_json::{Value, json};

use crate::cloud::{ObservedRole, trusts_federated};
use crate::naming;
use crate::resources::iam::{INLINE_POLICY_NAME, issuer_host, trusts_oidc, trusts_pod_identity};
use crate::spec::{IdentityMechanism, ServiceAccountSpec};

use super::Exporting;

/// Writes `spec.serviceAccounts`.
pub fn export(x: &mut Exporting<'_>) {
    if x.live.owned() {
        owned(x);
    } else {
        irsa(x);
        pod_identity(x);
    }
    x.spec
        .service_accounts
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
}

/// The service account roles ekspec made (logical id `role/irsa/NAMESPACE/NAME`).
fn owned(x: &mut Exporting<'_>) {
    let live = x.live;
    for role in &live.roles {
        let Some((namespace, name)) = live
            .owned_id(&role.tags)
            .and_then(|id| id.strip_prefix("role/irsa/"))
            .and_then(|rest| rest.split_once('/'))
        else {
            continue;
        };
        let mechanism =
            if !trusts_oidc(&role.trust_policy) && trusts_pod_identity(&role.trust_policy) {
                IdentityMechanism::PodIdentity
            } else {
                IdentityMechanism::Irsa
            };
        let account = account(x, role, namespace, name, mechanism);
        x.spec.service_accounts.push(account);
    }
    for association in &live.contents.pod_identity_associations {
        if association.owner_arn.is_none() && live.owned_id(&association.tags).is_none() {
            x.omit(
                format!("pod-identity-association {}", association.association_id),
                "tags",
                format!(
                    "{}/{} -> {}: not made by ekspec (no ekspec.io tags) in a cluster ekspec manages: left alone by plan",
                    association.namespace, association.service_account, association.role_arn
                ),
            );
        }
    }
}

/// A service account for `role`, with its policies.
fn account(
    x: &mut Exporting<'_>,
    role: &ObservedRole,
    namespace: &str,
    name: &str,
    mechanism: IdentityMechanism,
) -> ServiceAccountSpec {
    let resource = format!("role {}", role.name);
    let default_name = naming::irsa_role(&x.live.cluster.name, namespace, name);
    let inline_policy = if x.live.owned_id(&role.tags).is_some() {
        for other in role
            .inline_policies
            .keys()
            .filter(|n| *n != INLINE_POLICY_NAME)
        {
            x.omit(
                &resource,
                format!("inlinePolicies.{other}"),
                "not made by ekspec: the plan deletes it",
            );
        }
        role.inline_policies.get(INLINE_POLICY_NAME).cloned()
    } else {
        merged(x, role)
    };
    if x.live.owned_id(&role.tags).is_none() && role.path != "/" {
        x.omit(
            &resource,
            "path",
            format!(
                "{}: ekspec makes service account roles under {}",
                role.path,
                naming::iam_path(&x.live.cluster.name)
            ),
        );
    }
    ServiceAccountSpec {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        mechanism,
        policy_arns: role.attached_policies.clone(),
        inline_policy,
        role_name: (role.name != default_name).then(|| role.name.clone()),
    }
}

/// A role's inline policies as one document: each statement of each policy, in name order
/// (a role's permissions are the union of its policies' statements).
fn merged(x: &mut Exporting<'_>, role: &ObservedRole) -> Option<Value> {
    match role.inline_policies.len() {
        0 => None,
        1 => role.inline_policies.values().next().cloned(),
        _ => {
            let names: Vec<&str> = role.inline_policies.keys().map(String::as_str).collect();
            x.infer(format!(
                "the inline policies {} of role {} are merged into one inlinePolicy",
                names.join(", "),
                role.name
            ));
            let statements: Vec<Value> = role
                .inline_policies
                .values()
                .flat_map(|document| match document.get("Statement") {
                    Some(Value::Array(list)) => list.clone(),
                    Some(one) => vec![one.clone()],
                    None => Vec::new(),
                })
                .collect();
            Some(json!({"Version": "2012-10-17", "Statement": statements}))
        }
    }
}

/// Roles another tool made that the cluster's OIDC provider is trusted by.
fn irsa(x: &mut Exporting<'_>) {
    let live = x.live;
    let (Some(provider), Some(issuer)) = (
        live.oidc_provider_arn(),
        live.cluster.oidc_issuer.as_deref(),
    ) else {
        return;
    };
    let sub = format!("{}:sub", issuer_host(issuer));
    for role in &live.roles {
        if !trusts_federated(&role.trust_policy, &provider) {
            continue;
        }
        let subjects = subjects(&role.trust_policy, &provider, &sub);
        let one = match subjects.as_slice() {
            [one] => one
                .strip_prefix("system:serviceaccount:")
                .and_then(|rest| rest.split_once(':'))
                .filter(|(ns, name)| !format!("{ns}{name}").contains(['*', '?'])),
            _ => None,
        };
        let Some((namespace, name)) = one else {
            x.omit(
                format!("role {}", role.name),
                "trustPolicy",
                format!(
                    "trusts the cluster's OIDC provider for {}: not one service account, which is what the spec describes",
                    if subjects.is_empty() { "any subject".to_owned() } else { subjects.join(", ") }
                ),
            );
            continue;
        };
        if trusts_pod_identity(&role.trust_policy) {
            x.omit(
                format!("role {}", role.name),
                "trustPolicy",
                "also trusts EKS Pod Identity: exported as IRSA",
            );
        }
        let account = account(x, role, namespace, name, IdentityMechanism::Irsa);
        x.spec.service_accounts.push(account);
    }
}

/// The `sub` values the statements trusting `provider` allow.
fn subjects(trust: &Value, provider: &str, sub: &str) -> Vec<String> {
    let statements: Vec<&Value> = match trust.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let mut found = Vec::new();
    for statement in statements {
        if !trusts_federated(&json!({"Statement": [statement]}), provider) {
            continue;
        }
        for operator in ["StringEquals", "StringLike"] {
            match statement
                .pointer(&format!("/Condition/{operator}"))
                .and_then(|c| c.get(sub))
            {
                Some(Value::String(one)) => found.push(one.clone()),
                Some(Value::Array(many)) => {
                    found.extend(many.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                _ => {}
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Pod Identity associations of a cluster another tool made, standalone and add-ons'.
fn pod_identity(x: &mut Exporting<'_>) {
    let live = x.live;
    for association in &live.contents.pod_identity_associations {
        let resource = format!("pod-identity-association {}", association.association_id);
        let Some(role) = live.roles.iter().find(|r| r.arn == association.role_arn) else {
            x.omit(
                &resource,
                "roleArn",
                format!("{}: the role could not be read", association.role_arn),
            );
            continue;
        };
        let taken =
            x.spec.service_accounts.iter().any(|a| {
                a.namespace == association.namespace && a.name == association.service_account
            });
        if taken {
            x.omit(
                &resource,
                "serviceAccount",
                format!(
                    "{}/{} is also bound through IRSA: the spec gives an account one mechanism",
                    association.namespace, association.service_account
                ),
            );
            continue;
        }
        let account = account(
            x,
            role,
            &association.namespace,
            &association.service_account,
            IdentityMechanism::PodIdentity,
        );
        x.spec.service_accounts.push(account);
    }
}
