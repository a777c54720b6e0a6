//! Reads everything AWS holds for a cluster, in a handful of batched, concurrent calls.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt, stream};

use crate::cloud::{
    Cloud, CloudError, CloudResult, ErrorKind, ObservedAccessEntry, ObservedAddon, ObservedCluster,
    ObservedEventRule, ObservedFargateProfile, ObservedInsight, ObservedNetwork, ObservedNodeGroup,
    ObservedOidcProvider, ObservedPodIdentityAssociation, ObservedQueue, ObservedRole,
    ObservedSecurityGroup, ObservedSubnet, ObservedVpc, VersionSupport,
};
use crate::naming;
use crate::spec::ClusterFile;
use crate::spec::validate::parse_minor;

use super::adopt::AdoptMode;
use super::owned_id;

/// Live AWS for one cluster.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The caller's account.
    pub account: String,
    /// The caller's partition (`aws`, `aws-cn`, `aws-us-gov`, ...), from its ARN; empty when
    /// not read (then `aws`, see [`Observed::partition`]).
    pub caller_partition: String,
    /// Zones of the region a default network may use (availability zones EKS takes), sorted.
    pub zones: Vec<String>,
    /// Owned EC2 resources.
    pub network: ObservedNetwork,
    /// The existing VPC and subnets named by the spec (BYO mode).
    pub existing_vpc: Option<ObservedVpc>,
    /// Existing subnets named by the spec (BYO mode), and the cluster's own when the spec
    /// names others (their zones say where EKS can move the control plane).
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
    /// Every add-on of the owned cluster (owned or not: declared ones are adopted).
    pub addons: Vec<ObservedAddon>,
    /// Every access entry of the owned cluster (owned or not: declared ones are adopted).
    pub access_entries: Vec<ObservedAccessEntry>,
    /// The security group EKS made for the owned cluster, read when Karpenter may have to be
    /// discovered through it (or no longer).
    pub cluster_security_group: Option<ObservedSecurityGroup>,
    /// Whether the account has EC2 Spot's service-linked role; read (`Some`) only for a spec
    /// with Karpenter, whose first spot launch needs it.
    pub spot_service_linked_role: Option<bool>,
    /// Every Pod Identity association of the owned cluster: standalone ones (owned or not:
    /// EKS allows one per service account) and add-ons' (their service accounts and roles).
    pub pod_identity_associations: Vec<ObservedPodIdentityAssociation>,
    /// SQS queues named like Karpenter's interruption queue of the cluster (owned or not: a
    /// name taken by someone else's is shown in the plan).
    pub queues: Vec<ObservedQueue>,
    /// EventBridge rules named like the cluster's Karpenter rules (owned or not).
    pub event_rules: Vec<ObservedEventRule>,
    /// Default add-on versions, keyed `(add-on, Kubernetes version)`: for the spec's version
    /// and every step of an upgrade, for add-ons without a pinned version.
    pub addon_defaults: BTreeMap<(String, String), Option<String>>,
    /// EKS's upgrade insights that are not passing, for the next step of an upgrade the spec
    /// asks for (read only then).
    pub upgrade_insights: Vec<ObservedInsight>,
    /// Where the cluster's Kubernetes version (the spec's before the cluster exists) is in
    /// EKS's support lifecycle, when EKS lists it.
    pub version_support: Option<VersionSupport>,
    /// The AMI ids the spec's `amiParameter`s hold, by parameter name (`None`: no such
    /// parameter), read at plan time.
    pub ami_parameters: BTreeMap<String, Option<String>>,
    /// Where the spec's Kubernetes version is in EKS's support lifecycle when the spec asks
    /// for an upgrade to it (read only then): EKS refuses to upgrade to a version it does not
    /// offer.
    pub target_version_support: Option<VersionSupport>,
    /// Live resources another tool made that the spec matches and the user asked to adopt
    /// (`--adopt`); they carry virtual ownership tags in the lists above.
    pub adoptions: Vec<super::adopt::Adoption>,
    /// Live resources the spec matches that another ekspec cluster owns: never adopted.
    pub refusals: Vec<super::adopt::Refusal>,
    /// Live resources that stop an adoption of the network (`--adopt-network`).
    pub blocked: Vec<super::adopt::Blocker>,
    /// Without `--adopt`: live resources of the owned cluster that only adoption would take
    /// (an interrupted adopt, or made by hand); the plan stops and says how.
    pub unadopted: Vec<super::adopt::Adoption>,
}

impl Observed {
    /// The caller's partition, `aws` when not read: managed policy ARNs are in it.
    pub fn partition(&self) -> &str {
        if self.caller_partition.is_empty() {
            "aws"
        } else {
            &self.caller_partition
        }
    }

    /// Whether the VPC `id` is the cluster `name`'s VPC: made by ekspec, or a brought-in one
    /// adopted with `--adopt-network`.
    pub fn owns_vpc(&self, name: &str, id: &str) -> bool {
        self.network
            .vpcs
            .iter()
            .any(|v| v.id == id && owned_id(&v.tags, name) == Some("vpc"))
    }

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
    observe_adopting(cloud, name, file, AdoptMode::Off).await
}

/// Reads live AWS like [`observe`]; when `mode` adopts (and there is a spec), the live
/// resources another tool made that the spec matches are claimed for adoption (see `adopt`),
/// the cluster's contents read even when the cluster is not ekspec's yet.
pub async fn observe_adopting(
    cloud: &Cloud,
    name: &str,
    file: Option<&ClusterFile>,
    mode: AdoptMode,
) -> CloudResult<Observed> {
    let adopt = mode.any() && file.is_some();
    let byo = file.and_then(|f| {
        f.spec.vpc.id.clone().map(|id| {
            let subnets = f.spec.vpc.subnets.clone().unwrap_or_default();
            (id, [subnets.private, subnets.public].concat())
        })
    });
    let wants_zones =
        file.is_some_and(|f| f.spec.vpc.id.is_none() && f.spec.vpc.availability_zones.is_none());
    let iam_path = naming::iam_path(name);
    // The OIDC provider read waits for the cluster's issuer: with it, one provider is read
    // instead of every provider in the account (a fleet's plans would grow quadratically).
    let cluster_and_providers = async {
        let cluster = cloud.kubernetes.describe_cluster(name).await?;
        let issuer = cluster.as_ref().and_then(|c| c.oidc_issuer.as_deref());
        let providers = cloud.identity.list_oidc_providers(name, issuer).await?;
        Ok((cluster, providers))
    };
    // Read whether or not the spec has Karpenter: owned ones no longer wanted are deleted.
    // The queue is also looked up by name: SQS may not list a queue made moments ago.
    let queue = naming::karpenter_queue(name);
    let rule_prefix = naming::karpenter_event_rule(name, "");
    let (caller, zones, network, roles, (cluster, oidc_providers), existing, queues, event_rules) =
        tokio::try_join!(
            cloud.identity.caller_arn(),
            async {
                if wants_zones {
                    let zones = cloud.network.availability_zones().await?;
                    Ok(super::network::eks_zones(&zones))
                } else {
                    Ok(Vec::new())
                }
            },
            cloud.network.discover(name),
            cloud.identity.list_roles(&iam_path),
            cluster_and_providers,
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
            cloud
                .queues
                .list_queues(&queue, std::slice::from_ref(&queue)),
            cloud.events.list_rules(&rule_prefix),
        )?;
    // By name, so plans list them (and their order) the same way every time.
    let (mut queues, mut event_rules) = (queues, event_rules);
    queues.sort_by(|a, b| a.name.cmp(&b.name));
    event_rules.sort_by(|a, b| a.name.cmp(&b.name));
    let owned = cluster
        .as_ref()
        .is_some_and(|c| c.tags.get(naming::CLUSTER_TAG).map(String::as_str) == Some(name));
    // A cluster no ekspec cluster owns is read through when it is to be adopted.
    let adopting = adopt
        && cluster
            .as_ref()
            .is_some_and(|c| !c.tags.contains_key(naming::CLUSTER_TAG));
    let owned = owned || adopting;
    let (partition, account) = super::partition_and_account(&caller).ok_or_else(|| CloudError {
        operation: "GetCallerIdentity",
        resource: "the caller".to_owned(),
        code: None,
        message: format!("the caller's ARN `{caller}` is not an ARN"),
        kind: ErrorKind::Other,
    })?;
    let (contents, addon_defaults) = if owned {
        tokio::try_join!(
            cluster_contents(cloud, name),
            addon_defaults(cloud, file, cluster.as_ref().map(|c| c.version.as_str())),
        )?
    } else {
        let defaults = addon_defaults(cloud, file, None).await?;
        (ClusterContents::default(), defaults)
    };
    let provider_arn = cluster
        .as_ref()
        .and_then(|c| c.oidc_issuer.as_deref())
        .map(|issuer| {
            format!(
                "arn:{partition}:iam::{account}:oidc-provider/{}",
                issuer.trim_start_matches("https://")
            )
        });
    let mut roles = roles;
    let mut oidc_providers = oidc_providers;
    if let (Some(live), true) = (&cluster, owned) {
        let used = used_roles(
            cloud,
            file,
            live,
            &contents,
            &roles,
            provider_arn.as_deref(),
        );
        let provider = async {
            match &provider_arn {
                Some(arn) if adopt && oidc_providers.is_empty() => {
                    cloud.identity.describe_oidc_provider(arn).await
                }
                _ => Ok(None),
            }
        };
        let (used, provider) = tokio::try_join!(used, provider)?;
        roles.extend(used);
        oidc_providers.extend(provider);
    }
    let ClusterContents {
        node_groups,
        fargate_profiles,
        addons,
        access_entries,
        pod_identity_associations,
    } = contents;
    let (existing_vpc, mut existing_subnets) = existing.unwrap_or_default();
    if let (Some((vpc, _)), Some(cluster)) = (&byo, &cluster) {
        let unread: Vec<String> = cluster
            .subnet_ids
            .iter()
            .filter(|id| !existing_subnets.iter().any(|s| &s.id == *id))
            .cloned()
            .collect();
        if !unread.is_empty() {
            let (_, subnets) = cloud.network.describe_existing(vpc, &unread).await?;
            existing_subnets.extend(subnets);
        }
    }
    // The cluster security group's tags matter only while Karpenter is (or was) there.
    let karpenter = file.is_some_and(|f| f.spec.karpenter.is_some())
        || roles
            .iter()
            .any(|r| owned_id(&r.tags, name) == Some(super::karpenter::NODE_ROLE));
    let cluster_security_group = match cluster
        .as_ref()
        .filter(|_| owned && karpenter)
        .and_then(|c| c.cluster_security_group_id.as_deref())
    {
        Some(id) => cloud.network.security_group(id).await?,
        None => None,
    };
    let spot_service_linked_role = if file.is_some_and(|f| f.spec.karpenter.is_some()) {
        Some(
            cloud
                .identity
                .role_exists(naming::SPOT_SERVICE_LINKED_ROLE)
                .await?,
        )
    } else {
        None
    };
    let (upgrade_insights, version_support, target_version_support) =
        support_and_insights(cloud, name, file, cluster.as_ref().filter(|_| owned)).await?;
    let ami_parameters = ami_parameters(cloud, file).await?;
    let mut observed = Observed {
        account: account.to_owned(),
        caller_partition: partition.to_owned(),
        zones,
        network,
        existing_vpc,
        existing_subnets,
        roles,
        oidc_providers,
        cluster,
        node_groups,
        fargate_profiles,
        addons,
        access_entries,
        pod_identity_associations,
        queues,
        event_rules,
        addon_defaults,
        cluster_security_group,
        spot_service_linked_role,
        ami_parameters,
        upgrade_insights,
        version_support,
        target_version_support,
        adoptions: Vec::new(),
        refusals: Vec::new(),
        blocked: Vec::new(),
        unadopted: Vec::new(),
    };
    if let Some(file) = file {
        // The spec's brought-in VPC once adopted: what is in it and not yet (an interrupted
        // `--adopt-network`) stops a plan without it, as the cluster's contents do.
        let adopted_vpc = file
            .spec
            .vpc
            .id
            .as_deref()
            .filter(|id| observed.owns_vpc(name, id));
        let network_read = file
            .spec
            .vpc
            .id
            .as_deref()
            .filter(|_| adopt && mode.network());
        let contents = match network_read.or(adopted_vpc.filter(|_| owned)) {
            Some(vpc) => Some(cloud.network.vpc_contents(vpc).await?),
            None => None,
        };
        if adopt {
            super::adopt::claim_matches(&mut observed, file);
            // Not in a cluster another ekspec cluster owns (refused above); a cluster still to
            // be made is made in the adopted VPC.
            let cluster_ours = observed.cluster.is_none() || observed.owned_cluster(name).is_some();
            if let (Some(contents), true) = (contents, mode.network() && cluster_ours) {
                super::adopt::claim_network(&mut observed, file, contents);
            }
        } else if owned {
            let mut probe = observed.clone();
            super::adopt::claim_matches(&mut probe, file);
            if let Some(contents) = contents {
                super::adopt::claim_network(&mut probe, file, contents);
            }
            observed.unadopted = super::adopt::left_to_adopt(probe.adoptions);
            observed.refusals.extend(probe.refusals);
        }
        if owned {
            super::adopt::refuse_foreign_contents(&mut observed, file);
        }
    }
    // From here on only what this cluster owns (or adopts) counts.
    observed.roles.retain(|r| owned_id(&r.tags, name).is_some());
    observed
        .oidc_providers
        .retain(|o| owned_id(&o.tags, name).is_some());
    observed
        .node_groups
        .retain(|g| owned_id(&g.tags, name).is_some());
    observed
        .fargate_profiles
        .retain(|p| owned_id(&p.tags, name).is_some());
    Ok(observed)
}

/// Roles outside the cluster's IAM path that its live resources use or the spec names by
/// `roleName`: adopted roles keep their name and path, so they are found this way on every
/// plan (the caller keeps the owned ones, or those to adopt).
async fn used_roles(
    cloud: &Cloud,
    file: Option<&ClusterFile>,
    cluster: &ObservedCluster,
    contents: &ClusterContents,
    listed: &[ObservedRole],
    provider_arn: Option<&str>,
) -> CloudResult<Vec<ObservedRole>> {
    let role_name = super::adopt::role_name;
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    names.insert(role_name(&cluster.role_arn).to_owned());
    names.extend(
        contents
            .node_groups
            .iter()
            .map(|g| role_name(&g.node_role_arn).to_owned()),
    );
    names.extend(
        contents
            .fargate_profiles
            .iter()
            .map(|f| role_name(&f.pod_execution_role_arn).to_owned()),
    );
    names.extend(
        contents
            .pod_identity_associations
            .iter()
            .map(|a| role_name(&a.role_arn).to_owned()),
    );
    names.extend(
        contents
            .addons
            .iter()
            .filter_map(|a| a.service_account_role_arn.as_deref())
            .map(|arn| role_name(arn).to_owned()),
    );
    names.extend(
        file.iter()
            .flat_map(|f| &f.spec.service_accounts)
            .filter_map(|a| a.role_name.clone()),
    );
    names.retain(|n| !n.is_empty() && !listed.iter().any(|r| &r.name == n));
    let mut roles: Vec<ObservedRole> = stream::iter(names)
        .map(|name| async move { cloud.identity.describe_role(&name).await })
        .buffer_unordered(4)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    // IRSA roles no EKS resource names are found by their trust in the cluster's provider
    // (ListRoles over the account): for a delete, whose adopted IRSA roles go too, and for
    // an IRSA account without `roleName` whose ekspec-named role is not there (adopted, or
    // to be). A cluster ekspec made needs neither.
    let unnamed_elsewhere = file.is_some_and(|f| {
        f.spec.service_accounts.iter().any(|a| {
            a.mechanism == crate::spec::IdentityMechanism::Irsa
                && a.role_name.is_none()
                && !listed
                    .iter()
                    .any(|r| r.name == naming::irsa_role(&f.metadata.name, &a.namespace, &a.name))
        })
    });
    if (file.is_none() || unnamed_elsewhere)
        && let Some(provider) = provider_arn
    {
        for role in cloud.identity.roles_trusting(provider).await? {
            if !roles.iter().chain(listed).any(|r| r.name == role.name) {
                roles.push(role);
            }
        }
    }
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(roles)
}

/// What EKS holds inside one cluster, owned by ekspec or not.
#[derive(Debug, Clone, Default)]
pub struct ClusterContents {
    /// Node groups.
    pub node_groups: Vec<ObservedNodeGroup>,
    /// Fargate profiles.
    pub fargate_profiles: Vec<ObservedFargateProfile>,
    /// Add-ons.
    pub addons: Vec<ObservedAddon>,
    /// Access entries with their policies.
    pub access_entries: Vec<ObservedAccessEntry>,
    /// Pod Identity associations, standalone and add-ons'.
    pub pod_identity_associations: Vec<ObservedPodIdentityAssociation>,
}

/// Everything EKS holds inside the cluster `name`, unfiltered (each list read concurrently):
/// `observe` keeps what ekspec owns, `export` reads clusters any tool made.
pub async fn cluster_contents(cloud: &Cloud, name: &str) -> CloudResult<ClusterContents> {
    let (node_groups, fargate_profiles, addons, access_entries, pod_identity_associations) = tokio::try_join!(
        // A cluster whose delete finished since it was described holds nothing (a delete
        // resumed after a crash reads its DELETING cluster so).
        none_when_unsupported(cloud.kubernetes.list_node_groups(name)),
        none_when_unsupported(cloud.kubernetes.list_fargate_profiles(name)),
        // Always: owned add-ons no longer declared are deleted.
        none_when_unsupported(cloud.kubernetes.list_addons(name)),
        // Always: owned entries no longer declared are deleted.
        none_when_unsupported(none_in_config_map_mode(
            cloud.kubernetes.list_access_entries(name)
        )),
        // Always: owned associations no longer wanted are deleted.
        none_when_unsupported(cloud.pod_identity.list_pod_identity_associations(name)),
    )?;
    Ok(ClusterContents {
        node_groups,
        fargate_profiles,
        addons,
        access_entries,
        pod_identity_associations,
    })
}

/// The upgrade insights about the next step of the upgrade the spec asks for (none without
/// one), the support state of the cluster's version (the spec's before it exists) and, for an
/// upgrade, that of the spec's version.
async fn support_and_insights(
    cloud: &Cloud,
    name: &str,
    file: Option<&ClusterFile>,
    owned_cluster: Option<&ObservedCluster>,
) -> CloudResult<(
    Vec<ObservedInsight>,
    Option<VersionSupport>,
    Option<VersionSupport>,
)> {
    let Some(file) = file else {
        return Ok((Vec::new(), None, None));
    };
    let want = &file.spec.kubernetes_version;
    let live = owned_cluster.map(|c| c.version.as_str());
    let next_step = live
        .filter(|live| parse_minor(want) > parse_minor(live))
        .and_then(|live| upgrade_steps(Some(live), want).into_iter().next());
    let version = live.unwrap_or(want).to_owned();
    let insights = async {
        match &next_step {
            Some(step) => {
                none_when_unsupported(cloud.kubernetes.upgrade_insights(name, step)).await
            }
            None => Ok(Vec::new()),
        }
    };
    let support = |version: String| async move {
        match cloud.kubernetes.version_support(&version).await {
            Err(error) if error.is_not_found() => {
                tracing::debug!(%error, "no version support data");
                Ok(None)
            }
            other => other,
        }
    };
    let target = async {
        match next_step {
            Some(_) => support(want.clone()).await,
            None => Ok(None),
        }
    };
    tokio::try_join!(insights, support(version), target)
}

/// Reads the SSM parameters the spec's node groups take their AMI from, concurrently.
async fn ami_parameters(
    cloud: &Cloud,
    file: Option<&ClusterFile>,
) -> CloudResult<BTreeMap<String, Option<String>>> {
    let names: std::collections::BTreeSet<&str> = file
        .iter()
        .flat_map(|f| &f.spec.node_groups)
        .filter_map(|g| g.ami_parameter.as_deref())
        .collect();
    stream::iter(names)
        .map(|name| async move {
            let value = cloud.parameters.get_parameter(name).await?;
            Ok::<_, CloudError>((name.to_owned(), value))
        })
        .buffer_unordered(4)
        .try_collect()
        .await
}

/// The list, or nothing when the endpoint answers "not found" for a cluster just described:
/// the cluster is gone since (its delete finished), or an emulator lacks the API (AWS itself
/// always answers for an existing cluster).
async fn none_when_unsupported<T>(
    list: impl Future<Output = CloudResult<Vec<T>>>,
) -> CloudResult<Vec<T>> {
    match list.await {
        Err(error) if error.is_not_found() => {
            tracing::debug!(%error, "treated as an empty list");
            Ok(Vec::new())
        }
        other => other,
    }
}

/// The access entries, or none for a cluster in the `CONFIG_MAP` authentication mode (made
/// before access entries, or by a tool that asked for it), which has none: EKS refuses to list
/// them there ("InvalidRequestException: The cluster's authentication mode must be set to one
/// of [API, API_AND_CONFIG_MAP] to perform this operation.", as tests/moto/eks_lifecycle.py
/// answers).
async fn none_in_config_map_mode<T>(
    list: impl Future<Output = CloudResult<Vec<T>>>,
) -> CloudResult<Vec<T>> {
    match list.await {
        Err(error)
            if error.code.as_deref() == Some("InvalidRequestException")
                && error.message.contains("authentication mode") =>
        {
            tracing::debug!(%error, "a CONFIG_MAP cluster: no access entries");
            Ok(Vec::new())
        }
        other => other,
    }
}

/// Looks up the default version of every add-on the spec does not pin, for each Kubernetes
/// version the plan may need: from the live one (exclusive) up to the spec's.
async fn addon_defaults(
    cloud: &Cloud,
    file: Option<&ClusterFile>,
    live_version: Option<&str>,
) -> CloudResult<BTreeMap<(String, String), Option<String>>> {
    let Some(file) = file else {
        return Ok(BTreeMap::new());
    };
    let want = &file.spec.kubernetes_version;
    let versions = upgrade_steps(live_version, want);
    let lookups: Vec<(String, String)> = file
        .spec
        .addons
        .iter()
        .filter(|a| a.version.is_none())
        .flat_map(|a| versions.iter().map(|v| (a.name.clone(), v.clone())))
        .collect();
    stream::iter(lookups)
        .map(|(addon, version)| async move {
            let default = cloud
                .kubernetes
                .default_addon_version(&addon, &version)
                .await?;
            Ok(((addon, version), default))
        })
        .buffer_unordered(8)
        .try_collect()
        .await
}

/// The Kubernetes versions an upgrade from `live` to `want` passes through, one minor at a
/// time, ending with `want`; just `want` when there is no upgrade (or no cluster yet).
pub fn upgrade_steps(live: Option<&str>, want: &str) -> Vec<String> {
    match (live.and_then(parse_minor), parse_minor(want)) {
        (Some(have), Some(target)) if target > have => (have + 1..=target)
            .map(|minor| format!("1.{minor}"))
            .collect(),
        _ => vec![want.to_owned()],
    }
}
