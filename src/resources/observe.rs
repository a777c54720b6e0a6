//! Reads everything AWS holds for a cluster, in a handful of batched, concurrent calls.

use crate::cloud::{
    Cloud, CloudResult, ObservedCluster, ObservedFargateProfile, ObservedNetwork,
    ObservedNodeGroup, ObservedOidcProvider, ObservedRole, ObservedSubnet, ObservedVpc,
};
use crate::naming;
use crate::spec::ClusterFile;

use super::owned_id;

/// Live AWS for one cluster.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The caller's account.
    pub account: String,
    /// Zones available in the region, sorted.
    pub zones: Vec<String>,
    /// Owned EC2 resources.
    pub network: ObservedNetwork,
    /// The existing VPC and subnets named by the spec (BYO mode).
    pub existing_vpc: Option<ObservedVpc>,
    /// Existing subnets named by the spec (BYO mode).
    pub existing_subnets: Vec<ObservedSubnet>,
    /// Roles under the cluster's IAM path.
    pub roles: Vec<ObservedRole>,
    /// Owned OIDC providers.
    pub oidc_providers: Vec<ObservedOidcProvider>,
    /// The cluster, if it exists (owned or not).
    pub cluster: Option<ObservedCluster>,
    /// Owned node groups.
    pub node_groups: Vec<ObservedNodeGroup>,
    /// Owned Fargate profiles.
    pub fargate_profiles: Vec<ObservedFargateProfile>,
}

impl Observed {
    /// Whether the cluster exists and carries this cluster's ownership tag.
    pub fn owned_cluster(&self, name: &str) -> Option<&ObservedCluster> {
        self.cluster
            .as_ref()
            .filter(|c| c.tags.get(naming::CLUSTER_TAG).map(String::as_str) == Some(name))
    }
}

/// Reads live AWS for the cluster `name` (the spec, when given, adds its BYO network).
pub async fn observe(
    cloud: &Cloud,
    name: &str,
    file: Option<&ClusterFile>,
) -> CloudResult<Observed> {
    let byo = file.and_then(|f| {
        f.spec.vpc.id.clone().map(|id| {
            let subnets = f.spec.vpc.subnets.clone().unwrap_or_default();
            (id, [subnets.private, subnets.public].concat())
        })
    });
    let wants_zones =
        file.is_some_and(|f| f.spec.vpc.id.is_none() && f.spec.vpc.availability_zones.is_none());
    let iam_path = naming::iam_path(name);
    let (account, zones, network, roles, oidc_providers, cluster, existing) = tokio::try_join!(
        cloud.identity.account_id(),
        async {
            if wants_zones {
                cloud.network.availability_zones().await
            } else {
                Ok(Vec::new())
            }
        },
        cloud.network.discover(name),
        cloud.identity.list_roles(&iam_path),
        cloud.identity.list_oidc_providers(name),
        cloud.kubernetes.describe_cluster(name),
        async {
            match &byo {
                Some((vpc, subnets)) => cloud
                    .network
                    .describe_existing(vpc, subnets)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
    )?;
    let owned = cluster
        .as_ref()
        .is_some_and(|c| c.tags.get(naming::CLUSTER_TAG).map(String::as_str) == Some(name));
    let (node_groups, fargate_profiles) = if owned {
        tokio::try_join!(
            cloud.kubernetes.list_node_groups(name),
            cloud.kubernetes.list_fargate_profiles(name)
        )?
    } else {
        (Vec::new(), Vec::new())
    };
    let (existing_vpc, existing_subnets) = existing.unwrap_or_default();
    Ok(Observed {
        account,
        zones,
        network,
        existing_vpc,
        existing_subnets,
        roles: roles
            .into_iter()
            .filter(|r| owned_id(&r.tags, name).is_some())
            .collect(),
        oidc_providers,
        cluster,
        node_groups: node_groups
            .into_iter()
            .filter(|g| owned_id(&g.tags, name).is_some())
            .collect(),
        fargate_profiles: fargate_profiles
            .into_iter()
            .filter(|p| owned_id(&p.tags, name).is_some())
            .collect(),
    })
}
