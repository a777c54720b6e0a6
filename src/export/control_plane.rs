//! The control plane: version, endpoint access, logging, secrets encryption.

use crate::spec::{EndpointSpec, LogType, SecretsEncryption};

use super::Exporting;

/// Writes `kubernetesVersion` (set already), `endpoint`, `logging` and `secretsEncryption`.
pub fn export(x: &mut Exporting<'_>) {
    let cluster = &x.live.cluster;
    let resource = format!("cluster {}", cluster.name);
    x.spec.endpoint = EndpointSpec {
        public_access: cluster.endpoint_public_access,
        private_access: cluster.endpoint_private_access,
        public_access_cidrs: if cluster.public_access_cidrs.is_empty() {
            EndpointSpec::default().public_access_cidrs
        } else {
            cluster.public_access_cidrs.clone()
        },
    };
    x.spec.logging = LogType::ALL
        .into_iter()
        .filter(|l| cluster.enabled_log_types.iter().any(|e| e == l.eks_name()))
        .collect();
    x.spec.secrets_encryption = cluster
        .encryption_key_arn
        .clone()
        .map(|key_arn| SecretsEncryption { key_arn });
    if cluster.authentication_mode.as_deref() == Some("API") {
        let message = "the cluster takes access entries only (API); ekspec makes clusters with API_AND_CONFIG_MAP and cannot express API";
        x.omit(&resource, "accessConfig.authenticationMode", message);
    }
    if !x.live.owned() {
        let role = cluster.role_arn.clone();
        x.omit(
            &resource,
            "roleArn",
            format!("the cluster uses role {role}; ekspec makes its own cluster role, which the spec does not name"),
        );
    }
}
