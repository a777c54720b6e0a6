//! The EKS control plane.

use crate::cloud::{ClusterConfigChange, Tags};
use crate::plan::{Change, ChangeKind, FieldChange, Operation, Ref};
use crate::spec::model::LogType;
use crate::spec::validate::parse_minor;

use super::auto_mode;
use super::network::subnet_id;
use super::planner::Planning;
use super::{eks_retag, owned_tags};

/// The subnets of the control plane (and their logical ids when ekspec owns them).
pub fn cluster_subnets(p: &Planning<'_>) -> (Vec<Ref>, Vec<String>) {
    let Some(file) = p.file else {
        return (Vec::new(), Vec::new());
    };
    if let Some(subnets) = &file.spec.vpc.subnets
        && file.spec.vpc.id.is_some()
    {
        let ids: Vec<String> = subnets
            .private
            .iter()
            .chain(&subnets.public)
            .cloned()
            .collect();
        return (ids.iter().cloned().map(Ref::Value).collect(), Vec::new());
    }
    let resources: Vec<String> = ["private", "public"]
        .iter()
        .flat_map(|tier| p.zones.iter().map(move |zone| subnet_id(tier, zone)))
        .collect();
    (
        resources.iter().map(|r| Ref::output(r, "id")).collect(),
        resources,
    )
}

/// Plans the control plane.
pub fn plan(p: &mut Planning<'_>) {
    let Some(file) = p.file else {
        return;
    };
    let spec = &file.spec;
    let name = file.metadata.name.clone();
    p.desire("cluster");
    let mut logging: Vec<String> = spec
        .logging
        .iter()
        .map(|l| l.eks_name().to_owned())
        .collect();
    logging.sort();
    logging.dedup();
    let mut cidrs = spec.endpoint.public_access_cidrs.clone();
    cidrs.sort();
    let (subnets, subnet_resources) = cluster_subnets(p);
    let auto_mode = auto_mode::desired(p);
    warn_support(p);
    let Some(live) = p.observed.cluster.clone() else {
        if let Some(reason) = not_offered(p.observed.version_support.as_ref()) {
            p.push(
                Change::new("cluster", ChangeKind::Impossible, Vec::new())
                    .id(name)
                    .fields(vec![FieldChange {
                        field: "spec.kubernetesVersion".to_owned(),
                        old: None,
                        new: Some(spec.kubernetes_version.clone()),
                    }])
                    .reason(reason),
            );
            return;
        }
        let mut after = vec!["role/cluster".to_owned()];
        after.extend(subnet_resources);
        if auto_mode.is_some() {
            after.push(auto_mode::NODE_ROLE.to_owned());
        }
        p.push(
            Change::new(
                "cluster",
                ChangeKind::Create,
                vec![Operation::CreateCluster {
                    name: name.clone(),
                    version: spec.kubernetes_version.clone(),
                    role: Ref::output("role/cluster", "arn"),
                    subnets,
                    endpoint_public_access: spec.endpoint.public_access,
                    endpoint_private_access: spec.endpoint.private_access,
                    public_access_cidrs: cidrs,
                    logging,
                    encryption_key_arn: spec.secrets_encryption.as_ref().map(|e| e.key_arn.clone()),
                    tags: owned_tags(file, "cluster", &Tags::new()),
                    auto_mode,
                    support_type: spec.upgrade_policy.support_type.eks_name().to_owned(),
                    deletion_protection: spec.deletion_protection,
                    zonal_shift: spec.zonal_shift,
                    scaling_tier: spec.control_plane_scaling_tier.eks_name().to_owned(),
                    // Sent only for IPv6: an IPv4 cluster's create stays as it was.
                    ip_family: (!spec.ip_family.is_ipv4())
                        .then(|| spec.ip_family.eks_name().to_owned()),
                }],
            )
            .id(name)
            .after(after),
        );
        return;
    };
    let impossible = |reason: String, fields: Vec<FieldChange>| {
        Change::new("cluster", ChangeKind::Impossible, Vec::new())
            .id(&live.name)
            .fields(fields)
            .reason(reason)
    };
    if p.observed.owned_cluster(&name).is_none() {
        let reason = match live.tags.get(crate::naming::CLUSTER_TAG) {
            Some(owner) => format!(
                "an EKS cluster named `{name}` already exists and belongs to ekspec cluster `{owner}` (its tag {} says so), not to `{name}`; ekspec never adopts another cluster's resources: pick another metadata.name",
                crate::naming::CLUSTER_TAG
            ),
            None => format!(
                "an EKS cluster named `{name}` already exists but was not created by ekspec; ekspec changes it only when told to take it over: `ekspec adopt -f SPEC` (`ekspec plan --adopt -f SPEC` shows what that does), or pick another metadata.name"
            ),
        };
        p.push(impossible(reason, Vec::new()));
        return;
    }
    if matches!(live.status.as_str(), "DELETING" | "FAILED") {
        p.push(impossible(
            format!(
                "the cluster is {}; wait for it to finish, or delete it",
                live.status
            ),
            Vec::new(),
        ));
        return;
    }
    if let Some(reason) = not_offered(p.observed.target_version_support.as_ref()) {
        p.push(impossible(
            reason,
            vec![FieldChange::new(
                "spec.kubernetesVersion",
                &live.version,
                &spec.kubernetes_version,
            )],
        ));
        return;
    }
    // EKS API reference, KubernetesNetworkConfigRequest.ipFamily: "You can only specify an IP
    // family when you create a cluster and can't change this value once the cluster is
    // created." A cluster that does not report one is IPv4 (EKS's default).
    let live_family = live.ip_family.as_deref().unwrap_or("ipv4");
    if live_family != spec.ip_family.eks_name() {
        p.push(impossible(
            format!(
                "EKS cannot change a cluster's IP family: the cluster `{name}` was created with {live_family}; keep spec.ipFamily: {live_family}, or create a new cluster for {}",
                spec.ip_family.eks_name()
            ),
            vec![FieldChange::new("spec.ipFamily", live_family, spec.ip_family.eks_name())],
        ));
        return;
    }
    // Subnets of the cluster: compare only when every desired subnet already exists.
    let desired_subnets: Option<Vec<String>> = subnets
        .iter()
        .map(|r| match r {
            Ref::Value(v) => Some(v.clone()),
            Ref::Output(key) => {
                let (resource, output) = key.rsplit_once('.')?;
                p.output_of(resource, output)
            }
        })
        .collect();
    let mut subnet_move = None;
    match desired_subnets {
        Some(mut want) => {
            want.sort();
            if want != live.subnet_ids {
                let field = FieldChange::new(
                    if spec.vpc.id.is_some() {
                        "spec.vpc.subnets"
                    } else {
                        "subnets"
                    },
                    live.subnet_ids.join(","),
                    want.join(","),
                );
                if let Err(reason) = subnets_eks_takes(p, &live, &want) {
                    p.push(impossible(reason, vec![field]));
                    return;
                }
                subnet_move = Some((field, want));
            }
        }
        None => {
            p.push(impossible(
                "the cluster's subnets would change (new subnets are planned); EKS cannot move a control plane: restore the zones/VPC settings".to_owned(),
                Vec::new(),
            ));
            return;
        }
    }
    match (
        parse_minor(&live.version),
        parse_minor(&spec.kubernetes_version),
    ) {
        (Some(have), Some(want)) if want < have => {
            p.push(impossible(
                format!(
                    "EKS cannot downgrade Kubernetes: the cluster runs {}",
                    live.version
                ),
                vec![FieldChange::new(
                    "spec.kubernetesVersion",
                    &live.version,
                    &spec.kubernetes_version,
                )],
            ));
            return;
        }
        // An upgrade is planned step by step in `upgrade`.
        _ => {}
    }
    let want_key = spec.secrets_encryption.as_ref().map(|e| e.key_arn.clone());
    let mut ops = Vec::new();
    let mut fields = Vec::new();
    if let Some((field, subnet_ids)) = subnet_move {
        fields.push(field);
        ops.push(Operation::UpdateClusterConfig {
            name: name.clone(),
            change: ClusterConfigChange::Subnets { subnet_ids },
        });
    }
    let key_field = FieldChange {
        field: "spec.secretsEncryption.keyArn".to_owned(),
        old: live.encryption_key_arn.clone(),
        new: want_key.clone(),
    };
    match (&live.encryption_key_arn, &want_key) {
        (have, want) if have == want => {}
        (None, Some(key)) => {
            fields.push(key_field);
            ops.push(Operation::AssociateEncryptionConfig {
                name: name.clone(),
                key_arn: key.clone(),
            });
        }
        _ => {
            p.push(impossible(
                "EKS cannot remove or change the secrets encryption key of a cluster: restore spec.secretsEncryption.keyArn".to_owned(),
                vec![key_field],
            ));
            return;
        }
    }
    if !spec.access_entries.is_empty() && live.authentication_mode.as_deref() == Some("CONFIG_MAP")
    {
        fields.push(FieldChange::new(
            "authenticationMode",
            "CONFIG_MAP",
            "API_AND_CONFIG_MAP",
        ));
        ops.push(Operation::UpdateClusterConfig {
            name: name.clone(),
            change: ClusterConfigChange::EnableAccessEntries,
        });
    }
    let endpoint_changed = live.endpoint_public_access != spec.endpoint.public_access
        || live.endpoint_private_access != spec.endpoint.private_access
        || (spec.endpoint.public_access && live.public_access_cidrs != cidrs);
    if endpoint_changed {
        if live.endpoint_public_access != spec.endpoint.public_access {
            fields.push(FieldChange::new(
                "spec.endpoint.publicAccess",
                live.endpoint_public_access,
                spec.endpoint.public_access,
            ));
        }
        if live.endpoint_private_access != spec.endpoint.private_access {
            fields.push(FieldChange::new(
                "spec.endpoint.privateAccess",
                live.endpoint_private_access,
                spec.endpoint.private_access,
            ));
        }
        if spec.endpoint.public_access && live.public_access_cidrs != cidrs {
            fields.push(FieldChange::new(
                "spec.endpoint.publicAccessCidrs",
                live.public_access_cidrs.join(","),
                cidrs.join(","),
            ));
        }
        ops.push(Operation::UpdateClusterConfig {
            name: name.clone(),
            change: ClusterConfigChange::Endpoint {
                public_access: spec.endpoint.public_access,
                private_access: spec.endpoint.private_access,
                public_access_cidrs: cidrs.clone(),
            },
        });
    }
    if live.enabled_log_types != logging {
        fields.push(FieldChange::new(
            "spec.logging",
            live.enabled_log_types.join(","),
            logging.join(","),
        ));
        ops.push(Operation::UpdateClusterConfig {
            name: name.clone(),
            // The whole wanted state, every type on or off: AWS keeps types a call leaves
            // out, but a call that names them all means the same whatever was there.
            change: ClusterConfigChange::Logging {
                enable: logging.clone(),
                disable: LogType::ALL
                    .iter()
                    .map(|t| t.eks_name().to_owned())
                    .filter(|l| !logging.contains(l))
                    .collect(),
            },
        });
    }
    let mut after = Vec::new();
    match auto_mode::update(&live, auto_mode.as_ref()) {
        Ok(None) => {}
        Ok(Some((op, field))) => {
            // Turned on: the roles get Auto Mode's policies first.
            if auto_mode.is_some() {
                after.extend(["role/cluster".to_owned(), auto_mode::NODE_ROLE.to_owned()]);
            }
            fields.push(field);
            ops.push(op);
        }
        Err((reason, field)) => {
            p.push(impossible(reason, vec![field]));
            return;
        }
    }
    settings(p, &live, &mut ops, &mut fields);
    if let Some((op, tag_fields)) = eks_retag(
        &live.arn,
        &live.tags,
        &owned_tags(file, "cluster", &Tags::new()),
    ) {
        ops.push(op);
        fields.extend(tag_fields);
    }
    if !ops.is_empty() {
        p.push(
            Change::new("cluster", ChangeKind::Update, ops)
                .id(&live.name)
                .fields(fields)
                .after(after),
        );
    }
}

/// Whether EKS can move the control plane of `live` to the subnets `want` in place
/// (UpdateClusterConfig `subnetIds`): subnets of the cluster's VPC, in at least two zones, all
/// of them zones the cluster already uses ("All subnets that you add must be in the same set
/// of AZs as originally provided when you created the cluster", EKS user guide, VPC and
/// subnet requirements). Subnets ekspec has not read are left to EKS to judge.
fn subnets_eks_takes(
    p: &Planning<'_>,
    live: &crate::cloud::ObservedCluster,
    want: &[String],
) -> Result<(), String> {
    let known = |id: &String| {
        p.observed
            .existing_subnets
            .iter()
            .chain(&p.observed.network.subnets)
            .find(|s| &s.id == id)
    };
    let have_zones: std::collections::BTreeSet<&str> = live
        .subnet_ids
        .iter()
        .filter_map(known)
        .map(|s| s.availability_zone.as_str())
        .collect();
    let mut zones = std::collections::BTreeSet::new();
    for subnet in want.iter().filter_map(known) {
        if let Some(vpc) = live.vpc_id.as_deref()
            && subnet.vpc_id != vpc
        {
            return Err(format!(
                "EKS cannot move a control plane to another VPC: subnet {} is in {}, the cluster in {vpc}; restore spec.vpc, or create a new cluster",
                subnet.id, subnet.vpc_id
            ));
        }
        if !have_zones.is_empty() && !have_zones.contains(subnet.availability_zone.as_str()) {
            return Err(format!(
                "EKS moves a control plane only to subnets in the zones it was created in ({}); subnet {} is in {}: pick subnets in those zones, or create a new cluster",
                have_zones.iter().copied().collect::<Vec<_>>().join(", "),
                subnet.id,
                subnet.availability_zone
            ));
        }
        zones.insert(subnet.availability_zone.as_str());
    }
    if zones.len() == 1 {
        return Err(
            "EKS needs the control plane's subnets in at least two zones: list subnets of two or more zones".to_owned(),
        );
    }
    Ok(())
}

/// Why EKS would refuse to create a cluster on (or upgrade one to) the version, if it would:
/// CreateCluster answers InvalidParameterException "unsupported Kubernetes version" for a
/// version past extended support or not offered yet, after the network is made.
pub fn not_offered(support: Option<&crate::cloud::VersionSupport>) -> Option<String> {
    let support = support.filter(|s| !s.offered())?;
    let version = &support.version;
    Some(
        if support.status == crate::cloud::VersionSupport::NOT_LISTED {
            format!(
                "EKS does not offer Kubernetes {version} (DescribeClusterVersions does not list it): set spec.kubernetesVersion to a version EKS lists (`aws eks describe-cluster-versions`)"
            )
        } else {
            format!(
                "EKS no longer offers Kubernetes {version}: its extended support ended {}; set spec.kubernetesVersion to a version in standard support (`aws eks describe-cluster-versions --version-status STANDARD_SUPPORT`)",
                support
                    .end_of_extended_support
                    .as_deref()
                    .unwrap_or("already")
            )
        },
    )
}

/// Warns about the cluster's version in extended support (billed per cluster hour) and about
/// each of EKS's upgrade insights for the next upgrade step that is not passing.
fn warn_support(p: &mut Planning<'_>) {
    if let Some(support) = p.observed.version_support.clone()
        && support.status == "UNSUPPORTED"
        && p.observed.cluster.is_some()
    {
        // EKS user guide, "Understand the Kubernetes version lifecycle on EKS": "If you
        // haven't updated your cluster before the extended support period ends, your cluster
        // is auto-upgraded to the oldest currently supported extended version."
        p.warn(format!(
            "Kubernetes {} is past the end of EKS extended support ({}): EKS upgrades the control plane on its own to the oldest version it still supports; upgrade spec.kubernetesVersion first",
            support.version,
            support.end_of_extended_support.as_deref().unwrap_or("already"),
        ));
    }
    if let Some(support) = p.observed.version_support.clone()
        && support.status == "EXTENDED_SUPPORT"
    {
        p.warn(format!(
            "Kubernetes {} is in EKS extended support (standard support ended {}; extended support ends {}): the cluster is billed at the extended-support rate per hour; upgrade spec.kubernetesVersion to a version in standard support",
            support.version,
            support.end_of_standard_support.as_deref().unwrap_or("already"),
            support.end_of_extended_support.as_deref().unwrap_or("(unknown)"),
        ));
    }
    for insight in p.observed.upgrade_insights.clone() {
        let mut text = format!(
            "EKS upgrade insight for Kubernetes {}: {} is {}",
            insight.kubernetes_version.as_deref().unwrap_or("?"),
            insight.name,
            insight.status
        );
        if !insight.reason.is_empty() {
            text.push_str(&format!(": {}", insight.reason));
        }
        if let Some(recommendation) = &insight.recommendation {
            text.push_str(&format!(" (recommendation: {recommendation})"));
        }
        if insight.status == "ERROR" {
            text.push_str("; apply refuses this upgrade until it passes, unless --force-upgrade");
        }
        p.warn(text);
    }
}

/// In-place settings of the cluster, each its own UpdateClusterConfig (EKS takes one kind of
/// change per call): support policy, deletion protection, zonal shift, control plane tier.
fn settings(
    p: &mut Planning<'_>,
    live: &crate::cloud::ObservedCluster,
    ops: &mut Vec<Operation>,
    fields: &mut Vec<FieldChange>,
) {
    let Some(file) = p.file else {
        return;
    };
    let spec = &file.spec;
    let name = live.name.clone();
    let want_support = spec.upgrade_policy.support_type.eks_name();
    if let Some(have) = live.support_type.as_deref()
        && have != want_support
    {
        let in_extended = p
            .observed
            .version_support
            .as_ref()
            .is_some_and(|s| s.status == "EXTENDED_SUPPORT");
        if want_support == "STANDARD" && in_extended {
            // EKS user guide, "Disable EKS extended support": "You cannot disable extended
            // support once your cluster has entered it."
            p.warn(format!(
                "spec.upgradePolicy.supportType stays {have} for now: EKS cannot turn extended support off while Kubernetes {} is in it; the apply after an upgrade to a version in standard support sets STANDARD",
                live.version
            ));
        } else {
            fields.push(FieldChange::new(
                "spec.upgradePolicy.supportType",
                have,
                want_support,
            ));
            ops.push(Operation::UpdateClusterConfig {
                name: name.clone(),
                change: ClusterConfigChange::UpgradePolicy {
                    support_type: want_support.to_owned(),
                },
            });
        }
    }
    if live.deletion_protection != spec.deletion_protection {
        fields.push(FieldChange::new(
            "spec.deletionProtection",
            live.deletion_protection,
            spec.deletion_protection,
        ));
        ops.push(Operation::UpdateClusterConfig {
            name: name.clone(),
            change: ClusterConfigChange::DeletionProtection {
                enabled: spec.deletion_protection,
            },
        });
    }
    if live.zonal_shift != spec.zonal_shift {
        fields.push(FieldChange::new(
            "spec.zonalShift",
            live.zonal_shift,
            spec.zonal_shift,
        ));
        ops.push(Operation::UpdateClusterConfig {
            name: name.clone(),
            change: ClusterConfigChange::ZonalShift {
                enabled: spec.zonal_shift,
            },
        });
    }
    let have_tier = live.scaling_tier.as_deref().unwrap_or("standard");
    let want_tier = spec.control_plane_scaling_tier.eks_name();
    if have_tier != want_tier {
        fields.push(FieldChange::new(
            "spec.controlPlaneScalingTier",
            have_tier,
            want_tier,
        ));
        ops.push(Operation::UpdateClusterConfig {
            name,
            change: ClusterConfigChange::ScalingTier {
                tier: want_tier.to_owned(),
            },
        });
    }
}
