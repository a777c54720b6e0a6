//! `ekspec export`: the spec that describes a live cluster, whoever made it.
//!
//! [`read`] gathers what AWS holds for the cluster through the cloud traits (the readers `plan`
//! uses, plus the few a cluster made by another tool needs); [`describe`] turns that into a
//! [`ClusterFile`] without further I/O, one file per resource area. What the spec cannot
//! express becomes an [`Omission`] naming the resource and the field: nothing is dropped
//! silently.

mod access;
mod addons;
mod control_plane;
mod fargate;
mod identity;
mod karpenter;
mod network;
mod node_groups;
mod user_data;

use std::collections::BTreeMap;
use std::fmt;

use futures::future::try_join_all;

use crate::cloud::{
    Cloud, CloudError, LaunchTemplateData, ObservedCluster, ObservedNetwork, ObservedQueue,
    ObservedRole, ObservedRouteTable, ObservedSubnet, Tags,
};
use crate::naming;
use crate::resources::{ClusterContents, cluster_contents, owned_id, partition_and_account};
use crate::spec::{API_VERSION, ClusterFile, ClusterSpec, KIND, Metadata, emit};

/// Why a cluster could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No cluster of that name in the region.
    #[error(
        "no EKS cluster named `{name}` in {region}: check --name and --region (`aws eks list-clusters --region {region}`)"
    )]
    NotFound {
        /// The name asked for.
        name: String,
        /// The region asked in.
        region: String,
    },
    /// The cluster is being deleted or its creation failed: there is nothing to describe.
    #[error("cluster `{name}` is {status}: there is no cluster to export")]
    Unusable {
        /// The cluster.
        name: String,
        /// Its status.
        status: String,
    },
    /// The caller's ARN could not be read as an ARN.
    #[error("the caller's ARN `{0}` is not an ARN")]
    Caller(String),
    /// An AWS call failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// Everything AWS holds for one cluster that the spec can describe.
#[derive(Debug, Clone)]
pub struct Live {
    /// The cluster's region.
    pub region: String,
    /// The caller's partition (`aws`, `aws-cn`, ...).
    pub partition: String,
    /// The caller's account.
    pub account: String,
    /// The cluster.
    pub cluster: ObservedCluster,
    /// EC2 resources ekspec made for the cluster (empty for another tool's).
    pub network: ObservedNetwork,
    /// The subnets the cluster, its node groups and Fargate profiles use, when ekspec did not
    /// make the VPC.
    pub subnets: Vec<ObservedSubnet>,
    /// The route tables of the cluster's VPC, when ekspec did not make it.
    pub route_tables: Vec<ObservedRouteTable>,
    /// Roles ekspec made for the cluster, the roles its OIDC provider is trusted by, and the
    /// roles of its Pod Identity associations.
    pub roles: Vec<ObservedRole>,
    /// Node groups, Fargate profiles, add-ons, access entries and associations.
    pub contents: ClusterContents,
    /// The settings of the launch template version each node group uses, by node group name.
    pub launch_templates: BTreeMap<String, LaunchTemplateData>,
    /// Karpenter's interruption queue, read when ekspec made Karpenter's roles.
    pub queues: Vec<ObservedQueue>,
}

impl Live {
    /// Whether ekspec made the cluster (it carries the cluster's ownership tag).
    pub fn owned(&self) -> bool {
        self.cluster.tags.get(naming::CLUSTER_TAG) == Some(&self.cluster.name)
    }

    /// The logical id of a resource of this cluster, when ekspec made it.
    pub fn owned_id<'t>(&self, tags: &'t Tags) -> Option<&'t str> {
        owned_id(tags, &self.cluster.name)
    }

    /// The ARN of the IAM OIDC provider of the cluster's issuer (whether or not it exists).
    pub fn oidc_provider_arn(&self) -> Option<String> {
        let issuer = self.cluster.oidc_issuer.as_deref()?;
        let host = issuer.strip_prefix("https://").unwrap_or(issuer);
        Some(format!(
            "arn:{}:iam::{}:oidc-provider/{host}",
            self.partition, self.account
        ))
    }
}

/// Reads the live cluster `name`: the cluster first (to fail fast when it is missing), then
/// everything else concurrently.
pub async fn read(cloud: &Cloud, name: &str, region: &str) -> Result<Live, ExportError> {
    let (cluster, caller) = tokio::try_join!(
        cloud.kubernetes.describe_cluster(name),
        cloud.identity.caller_arn()
    )?;
    let Some(cluster) = cluster else {
        return Err(ExportError::NotFound {
            name: name.to_owned(),
            region: region.to_owned(),
        });
    };
    if matches!(cluster.status.as_str(), "DELETING" | "FAILED") {
        return Err(ExportError::Unusable {
            name: name.to_owned(),
            status: cluster.status.clone(),
        });
    }
    let (partition, account) =
        partition_and_account(&caller).ok_or_else(|| ExportError::Caller(caller.clone()))?;
    let mut live = Live {
        region: region.to_owned(),
        partition: partition.to_owned(),
        account: account.to_owned(),
        cluster,
        network: ObservedNetwork::default(),
        subnets: Vec::new(),
        route_tables: Vec::new(),
        roles: Vec::new(),
        contents: ClusterContents::default(),
        launch_templates: BTreeMap::new(),
        queues: Vec::new(),
    };
    let irsa_roles = async {
        match live.oidc_provider_arn() {
            Some(provider) => cloud.identity.roles_trusting(&provider).await,
            None => Ok(Vec::new()),
        }
    };
    let iam_path = naming::iam_path(name);
    let (network, owned_roles, irsa_roles, contents) = tokio::try_join!(
        cloud.network.discover(name),
        cloud.identity.list_roles(&iam_path),
        irsa_roles,
        cluster_contents(cloud, name),
    )?;
    live.network = network;
    live.contents = contents;
    live.roles = owned_roles;
    for role in irsa_roles {
        if !live.roles.iter().any(|r| r.name == role.name) {
            live.roles.push(role);
        }
    }
    let (subnets, route_tables, association_roles, launch_templates) = tokio::try_join!(
        existing_subnets(cloud, &live),
        async {
            match (&live.cluster.vpc_id, network::owned_vpc(&live)) {
                (Some(vpc), None) => cloud.network.vpc_route_tables(vpc).await,
                _ => Ok(Vec::new()),
            }
        },
        association_roles(cloud, &live),
        launch_templates(cloud, &live),
    )?;
    live.subnets = subnets;
    live.route_tables = route_tables;
    live.roles.extend(association_roles);
    live.roles.sort_by(|a, b| a.name.cmp(&b.name));
    live.launch_templates = launch_templates;
    if live
        .roles
        .iter()
        .any(|r| live.owned_id(&r.tags) == Some(crate::resources::karpenter::CONTROLLER_ROLE))
    {
        let queue = naming::karpenter_queue(name);
        live.queues = cloud
            .queues
            .list_queues(&queue, std::slice::from_ref(&queue))
            .await?;
    }
    Ok(live)
}

/// The subnets of a VPC ekspec did not make that the cluster and its compute use.
async fn existing_subnets(cloud: &Cloud, live: &Live) -> Result<Vec<ObservedSubnet>, CloudError> {
    let Some(vpc) = live.cluster.vpc_id.as_deref() else {
        return Ok(Vec::new());
    };
    if network::owned_vpc(live).is_some() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = live.cluster.subnet_ids.clone();
    ids.extend(
        live.contents
            .node_groups
            .iter()
            .flat_map(|g| g.subnet_ids.iter().cloned()),
    );
    ids.extend(
        live.contents
            .fargate_profiles
            .iter()
            .flat_map(|p| p.subnet_ids.iter().cloned()),
    );
    ids.sort();
    ids.dedup();
    let (_, subnets) = cloud.network.describe_existing(vpc, &ids).await?;
    Ok(subnets)
}

/// The roles of Pod Identity associations not read already.
async fn association_roles(cloud: &Cloud, live: &Live) -> Result<Vec<ObservedRole>, CloudError> {
    let mut names: Vec<&str> = live
        .contents
        .pod_identity_associations
        .iter()
        .filter(|a| !live.roles.iter().any(|r| r.arn == a.role_arn))
        .filter_map(|a| a.role_arn.rsplit('/').next())
        .collect();
    names.sort_unstable();
    names.dedup();
    let roles = try_join_all(names.into_iter().map(|n| cloud.identity.describe_role(n))).await?;
    Ok(roles.into_iter().flatten().collect())
}

/// The launch template version each node group uses.
async fn launch_templates(
    cloud: &Cloud,
    live: &Live,
) -> Result<BTreeMap<String, LaunchTemplateData>, CloudError> {
    let reads = live.contents.node_groups.iter().filter_map(|group| {
        let (id, version) = group.launch_template.clone()?;
        Some(async move {
            let data = cloud.network.launch_template_version(&id, &version).await?;
            Ok::<_, CloudError>(data.map(|d| (group.name.clone(), d)))
        })
    });
    Ok(try_join_all(reads).await?.into_iter().flatten().collect())
}

/// One thing of the live cluster the spec does not carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Omission {
    /// The live resource, e.g. `nodegroup ng-1` or `role app-role`.
    pub resource: String,
    /// Its field, e.g. `launchTemplate`.
    pub field: String,
    /// What it is and what that means for the spec.
    pub message: String,
}

impl fmt::Display for Omission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "left out: {} {}: {}",
            self.resource, self.field, self.message
        )
    }
}

/// The spec of a live cluster, what it leaves out, and what it inferred.
#[derive(Debug, Clone)]
pub struct Export {
    /// The spec.
    pub file: ClusterFile,
    /// What the spec cannot express, one per resource and field.
    pub omissions: Vec<Omission>,
    /// Values that were inferred rather than read one-to-one, written as comments.
    pub inferred: Vec<String>,
}

impl Export {
    /// The spec as YAML, with a header saying where it came from and what was inferred.
    pub fn yaml(&self) -> String {
        let mut out = format!(
            "# Exported by `ekspec export` from cluster `{}` in {}.\n",
            self.file.metadata.name, self.file.metadata.region
        );
        for line in &self.inferred {
            out.push_str(&format!("# Inferred: {line}\n"));
        }
        if !self.omissions.is_empty() {
            out.push_str(&format!(
                "# {} live setting{} not expressible in the spec {} left out (listed on stderr).\n",
                self.omissions.len(),
                if self.omissions.len() == 1 { "" } else { "s" },
                if self.omissions.len() == 1 {
                    "was"
                } else {
                    "were"
                },
            ));
        }
        out.push_str(&emit::to_yaml(&self.file));
        out
    }
}

/// What the per-area exporters add to.
pub struct Exporting<'a> {
    /// The live cluster.
    pub live: &'a Live,
    /// The spec being written.
    pub spec: ClusterSpec,
    /// The cluster's tags, as `metadata.tags`.
    pub tags: Tags,
    /// What the spec cannot express.
    pub omissions: Vec<Omission>,
    /// What was inferred.
    pub inferred: Vec<String>,
}

impl Exporting<'_> {
    /// Records a live setting the spec cannot carry.
    pub fn omit(
        &mut self,
        resource: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.omissions.push(Omission {
            resource: resource.into(),
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records a value that was inferred.
    pub fn infer(&mut self, text: impl Into<String>) {
        self.inferred.push(text.into());
    }

    /// A resource's own tags: those beyond `metadata.tags` and the ones AWS, ekspec and eksctl
    /// keep for themselves (each of those left out of a cluster another tool made is listed).
    pub fn extra_tags(&mut self, resource: &str, tags: &Tags) -> Tags {
        let own = self.user_tags(resource, tags);
        own.into_iter()
            .filter(|(k, v)| self.tags.get(k) != Some(v))
            .collect()
    }

    /// Tags without the ones AWS, ekspec and eksctl keep for themselves.
    fn user_tags(&mut self, resource: &str, tags: &Tags) -> Tags {
        let mut kept = Tags::new();
        for (key, value) in tags {
            if key == "Name" && self.live.owned() {
                // ekspec names what it makes.
                continue;
            }
            if key.starts_with(naming::RESERVED_TAG_PREFIX) {
                continue;
            }
            if let Some(owner) = reserved_by(key) {
                self.omit(
                    resource,
                    format!("tags.{key}"),
                    format!("a tag {owner} keeps for itself ({value})"),
                );
                continue;
            }
            kept.insert(key.clone(), value.clone());
        }
        kept
    }
}

/// Who keeps a tag key for itself, when someone does: AWS (`aws:` prefix, which users may not
/// set), eksctl (its stack and cluster bookkeeping) and Kubernetes (cluster ownership).
fn reserved_by(key: &str) -> Option<&'static str> {
    if key.starts_with("aws:") {
        Some("AWS")
    } else if key.starts_with("alpha.eksctl.io/") || key.starts_with("eksctl.cluster.k8s.io/") {
        Some("eksctl")
    } else if key.starts_with("kubernetes.io/cluster/") {
        Some("Kubernetes")
    } else {
        None
    }
}

/// The spec that describes `live`. Pure: every read happened in [`read`].
pub fn describe(live: &Live) -> Export {
    let mut x = Exporting {
        live,
        spec: ClusterSpec {
            kubernetes_version: live.cluster.version.clone(),
            ..Default::default()
        },
        tags: Tags::new(),
        omissions: Vec::new(),
        inferred: Vec::new(),
    };
    let cluster_tags = live.cluster.tags.clone();
    x.tags = x.user_tags(&format!("cluster {}", live.cluster.name), &cluster_tags);
    control_plane::export(&mut x);
    network::export(&mut x);
    node_groups::export(&mut x);
    fargate::export(&mut x);
    identity::export(&mut x);
    addons::export(&mut x);
    access::export(&mut x);
    karpenter::export(&mut x);
    network::order_brought_in(&mut x);
    Export {
        file: ClusterFile {
            api_version: API_VERSION.to_owned(),
            kind: KIND.to_owned(),
            metadata: Metadata {
                name: live.cluster.name.clone(),
                region: live.region.clone(),
                tags: x.tags,
            },
            spec: x.spec,
        },
        omissions: x.omissions,
        inferred: x.inferred,
    }
}

#[cfg(test)]
mod tests;
