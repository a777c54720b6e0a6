//! The control plane: version, endpoint access, logging, secrets encryption, Auto Mode, the
//! support policy, deletion protection, zonal shift, the scaling tier and the IP family.

use serde::de::DeserializeOwned;
use serde_json::json;

use crate::resources::auto_mode;
use crate::spec::{
    AutoModeNodePool, AutoModeSpec, EndpointSpec, LogType, SecretsEncryption, UpgradePolicy,
};

use super::Exporting;

/// Writes `kubernetesVersion` (set already), `endpoint`, `logging`, `secretsEncryption` and
/// the cluster settings.
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
    match cluster.authentication_mode.as_deref() {
        Some("API") => {
            let message = "the cluster takes access entries only (API); ekspec makes clusters with API_AND_CONFIG_MAP and cannot express API";
            x.omit(&resource, "accessConfig.authenticationMode", message);
        }
        Some("CONFIG_MAP") => {
            let message = "the cluster takes the aws-auth ConfigMap only (CONFIG_MAP), which export does not read; ekspec's access entries need API_AND_CONFIG_MAP (`aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP`, one way only)";
            x.omit(&resource, "accessConfig.authenticationMode", message);
        }
        _ => {}
    }
    if !x.live.owned() {
        let role = cluster.role_arn.clone();
        x.omit(
            &resource,
            "roleArn",
            format!("the cluster uses role {role}; ekspec makes its own cluster role, which the spec does not name"),
        );
    }
    settings(x);
}

/// A value EKS reports, in the spec's type (whose names are EKS's): `None` when the spec has
/// no such value.
fn parse<T: DeserializeOwned>(eks_name: &str) -> Option<T> {
    serde_json::from_value(json!(eks_name)).ok()
}

/// Auto Mode, `upgradePolicy`, `deletionProtection`, `zonalShift`, `controlPlaneScalingTier`
/// and `ipFamily`: each left out of the spec at its default, as `ekspec` writes specs.
fn settings(x: &mut Exporting<'_>) {
    let cluster = &x.live.cluster;
    let resource = format!("cluster {}", cluster.name);
    if let Some(live) = &cluster.auto_mode {
        let mut node_pools = Vec::new();
        for pool in &live.node_pools {
            match parse::<AutoModeNodePool>(pool) {
                Some(pool) => node_pools.push(pool),
                None => x.omit(
                    &resource,
                    "computeConfig.nodePools",
                    format!("`{pool}` is not a built-in node pool the spec knows"),
                ),
            }
        }
        x.spec.auto_mode = Some(AutoModeSpec {
            enabled: true,
            node_pools,
        });
        let own_role = x
            .live
            .roles
            .iter()
            .any(|r| x.live.owned_id(&r.tags) == Some(auto_mode::NODE_ROLE));
        if let Some(role) = live.node_role_arn.clone().filter(|_| !own_role) {
            x.omit(
                &resource,
                "computeConfig.nodeRoleArn",
                format!("Auto Mode's nodes use role {role}; ekspec makes its own Auto Mode node role, which the spec does not name"),
            );
        }
    }
    if let Some(support) = cluster.support_type.as_deref() {
        match parse(support) {
            Some(support_type) => x.spec.upgrade_policy = UpgradePolicy { support_type },
            None => x.omit(
                &resource,
                "upgradePolicy.supportType",
                format!("{support} is not a support type the spec knows: written as the default STANDARD"),
            ),
        }
    }
    x.spec.deletion_protection = cluster.deletion_protection;
    x.spec.zonal_shift = cluster.zonal_shift;
    if let Some(tier) = cluster.scaling_tier.as_deref() {
        match parse(tier) {
            Some(tier) => x.spec.control_plane_scaling_tier = tier,
            None => x.omit(
                &resource,
                "controlPlaneScalingConfig.tier",
                format!("{tier} is not a tier the spec knows: written as the default standard"),
            ),
        }
    }
    if let Some(family) = cluster.ip_family.as_deref() {
        match parse(family) {
            Some(family) => x.spec.ip_family = family,
            None => x.omit(
                &resource,
                "kubernetesNetworkConfig.ipFamily",
                format!("{family} is not an IP family the spec knows: written as the default ipv4"),
            ),
        }
    }
}
