//! Semantic checks of a parsed spec: what a platform engineer would catch in review.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::Value;

use super::FieldPath;
use super::diagnostic::{Diagnostic, Severity};
use super::model::{
    API_VERSION, AccessScope, CapacityReservationPreference, CapacityReservationSpec, CapacityType,
    ClusterFile, DEFAULT_VPC_CIDR, IdentityMechanism, IpFamily, KIND, NatGatewayMode,
    NodeGroupSpec, NodeRepairConfig, POD_IDENTITY_AGENT, Tags,
};
use super::source::Node;
use crate::naming;

/// Oldest Kubernetes minor version ekspec accepts (`1.N`).
pub const OLDEST_MINOR: u32 = 28;
/// Newest Kubernetes minor version this release of ekspec knows (`1.N`). EKS releases a new
/// one about every four months, so a newer one is not an error: `plan` asks EKS whether it
/// offers it (DescribeClusterVersions) and says `impossible` if not.
pub const NEWEST_MINOR: u32 = 35;
/// Newest Kubernetes minor version EKS publishes Amazon Linux 2 AMIs for.
pub const AL2_NEWEST_MINOR: u32 = 32;
/// Longest node group name: EKS allows 63, ekspec appends `-` and 8 characters.
pub const MAX_NODE_GROUP_NAME: usize = 54;
/// Smallest subnet ekspec will carve (EKS needs free addresses in every subnet).
const SMALLEST_SUBNET_PREFIX: u8 = 28;

/// Checks the meaning of `file`, reporting each problem at its field in `tree`.
pub fn validate(file: &ClusterFile, tree: &Node) -> Vec<Diagnostic> {
    let mut check = Checker {
        tree,
        diagnostics: Vec::new(),
    };
    check.header(file);
    check.metadata(file);
    check.version(file);
    check.network(file);
    check.endpoint(file);
    check.logging(file);
    check.encryption(file);
    check.node_groups(file);
    check.fargate_profiles(file);
    check.service_accounts(file);
    check.addons(file);
    check.access_entries(file);
    check.pod_identity(file);
    check.karpenter(file);
    check.auto_mode(file);
    check.ip_family(file);
    check.diagnostics
}

/// Every IAM role name ekspec derives from the cluster name for this spec.
fn derived_roles(file: &ClusterFile) -> Vec<String> {
    let name = &file.metadata.name;
    let mut roles = naming::cluster_roles(name, file.spec.karpenter.is_some());
    if file.spec.auto_mode().is_some() {
        roles.push(naming::auto_mode_node_role(name));
    }
    roles
}

struct Checker<'t> {
    tree: &'t Node,
    diagnostics: Vec<Diagnostic>,
}

fn spec() -> FieldPath {
    FieldPath::root().key("spec")
}

impl Checker<'_> {
    fn report(&mut self, severity: Severity, path: &FieldPath, message: String) -> &mut Diagnostic {
        let (position, _) = self.tree.locate(path);
        let mut diagnostic = Diagnostic::error(position, message).with_path(path.clone());
        diagnostic.severity = severity;
        self.diagnostics.push(diagnostic);
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }

    fn error(&mut self, path: &FieldPath, message: impl Into<String>) -> &mut Diagnostic {
        self.report(Severity::Error, path, message.into())
    }

    fn warn(&mut self, path: &FieldPath, message: impl Into<String>) -> &mut Diagnostic {
        self.report(Severity::Warning, path, message.into())
    }

    fn header(&mut self, file: &ClusterFile) {
        if file.api_version != API_VERSION {
            self.error(
                &FieldPath::root().key("apiVersion"),
                format!(
                    "unsupported apiVersion `{}`, expected `{API_VERSION}`",
                    file.api_version
                ),
            );
        }
        if file.kind != KIND {
            self.error(
                &FieldPath::root().key("kind"),
                format!("unsupported kind `{}`, expected `{KIND}`", file.kind),
            );
        }
    }

    fn metadata(&mut self, file: &ClusterFile) {
        let meta = FieldPath::root().key("metadata");
        let name = &file.metadata.name;
        let name_path = meta.key("name");
        if name.is_empty() || name.len() > 100 {
            self.error(&name_path, "cluster name must be 1 to 100 characters");
        } else if !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            self.error(
                &name_path,
                format!("invalid cluster name `{name}`: use letters, digits and `-`, starting with a letter"),
            );
        } else {
            for role in derived_roles(file) {
                if role.len() > naming::MAX_ROLE_NAME {
                    let room = name.len() - (role.len() - naming::MAX_ROLE_NAME);
                    self.error(
                        &name_path,
                        format!(
                            "cluster name is too long: the IAM role ekspec derives from it, `{role}`, has {} characters and IAM allows {}",
                            role.len(),
                            naming::MAX_ROLE_NAME
                        ),
                    )
                    .hint = Some(format!("use a cluster name of at most {room} characters"));
                    break;
                }
            }
        }
        let region = &file.metadata.region;
        if !is_region(region) {
            self.error(
                &meta.key("region"),
                format!("invalid region `{region}`, expected a region code such as `us-east-1`"),
            );
        }
        self.tags(&meta.key("tags"), &file.metadata.tags);
    }

    fn tags(&mut self, path: &FieldPath, tags: &Tags) {
        if tags.len() > 40 {
            self.error(
                path,
                format!(
                    "{} tags given; at most 40 fit beside the tags ekspec adds (AWS allows 50)",
                    tags.len()
                ),
            );
        }
        for (key, value) in tags {
            let key_path = path.key(key);
            if key.is_empty() || key.chars().count() > 128 {
                self.error(&key_path, "tag keys must be 1 to 128 characters");
            } else if key.to_ascii_lowercase().starts_with("aws:") {
                self.error(
                    &key_path,
                    format!("tag key `{key}` uses the prefix `aws:`, which AWS reserves"),
                );
            } else if key.starts_with(naming::RESERVED_TAG_PREFIX) {
                self.error(
                    &key_path,
                    format!(
                        "tag key `{key}` uses the prefix `{}`, which ekspec sets itself",
                        naming::RESERVED_TAG_PREFIX
                    ),
                );
            }
            if value.chars().count() > 256 {
                self.error(&key_path, "tag values must be at most 256 characters");
            }
        }
    }

    fn version(&mut self, file: &ClusterFile) {
        let path = spec().key("kubernetesVersion");
        let version = &file.spec.kubernetes_version;
        match parse_minor(version) {
            None => {
                self.error(
                    &path,
                    format!(
                        "invalid kubernetesVersion `{version}`, expected `1.N` such as \"1.31\""
                    ),
                );
            }
            Some(minor) if minor < OLDEST_MINOR => {
                self.error(
                    &path,
                    format!("Kubernetes {version} is not supported by EKS; use 1.{OLDEST_MINOR} to 1.{NEWEST_MINOR}"),
                );
            }
            Some(minor) => {
                if minor > NEWEST_MINOR {
                    self.warn(
                        &path,
                        format!("Kubernetes {version} is newer than the versions this release of ekspec knows (1.{OLDEST_MINOR} to 1.{NEWEST_MINOR}): `plan` asks EKS whether it offers it and refuses it if not"),
                    );
                }
                for (i, group) in file.spec.node_groups.iter().enumerate() {
                    if group.ami_type.is_al2() && minor > AL2_NEWEST_MINOR {
                        self.error(
                            &spec().key("nodeGroups").index(i).key("amiType"),
                            format!(
                                "EKS publishes no Amazon Linux 2 AMIs for Kubernetes {version}"
                            ),
                        )
                        .hint = Some("use an AL2023 or Bottlerocket amiType".to_owned());
                    }
                }
            }
        }
    }

    fn network(&mut self, file: &ClusterFile) {
        let vpc = &file.spec.vpc;
        let path = spec().key("vpc");
        if let Some(id) = &vpc.id {
            if !is_aws_id(id, "vpc-") {
                self.error(
                    &path.key("id"),
                    format!(
                        "invalid VPC id `{id}`, expected `vpc-` followed by 8 or 17 hex digits"
                    ),
                );
            }
            for (field, given) in [
                ("cidr", vpc.cidr.is_some()),
                ("availabilityZones", vpc.availability_zones.is_some()),
                ("zoneCount", vpc.zone_count.is_some()),
                ("natGateway", vpc.nat_gateway.is_some()),
            ] {
                if given {
                    self.error(
                        &path.key(field),
                        format!("`{field}` cannot be combined with an existing VPC (`vpc.id`)"),
                    )
                    .hint = Some("ekspec never changes a VPC it did not create; remove this field or remove `id`".to_owned());
                }
            }
            match &vpc.subnets {
                None => {
                    self.error(&path.key("id"), "an existing VPC needs its subnets: set `vpc.subnets.private` (and `public` for internet-facing load balancers)");
                }
                Some(subnets) => {
                    let all: Vec<(FieldPath, &String)> = subnets
                        .private
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (path.key("subnets").key("private").index(i), s))
                        .chain(
                            subnets
                                .public
                                .iter()
                                .enumerate()
                                .map(|(i, s)| (path.key("subnets").key("public").index(i), s)),
                        )
                        .collect();
                    let mut seen = HashMap::new();
                    for (subnet_path, id) in &all {
                        if !is_aws_id(id, "subnet-") {
                            self.error(subnet_path, format!("invalid subnet id `{id}`, expected `subnet-` followed by 8 or 17 hex digits"));
                        } else if seen.insert(id.as_str(), ()).is_some() {
                            self.error(subnet_path, format!("subnet `{id}` is listed twice"));
                        }
                    }
                    if subnets.private.len() + subnets.public.len() < 2 {
                        self.error(
                            &path.key("subnets"),
                            "EKS needs subnets in at least two availability zones: list at least two subnets",
                        );
                    }
                    if subnets.private.is_empty()
                        && file.spec.node_groups.iter().any(|g| g.private_networking)
                    {
                        self.error(
                            &path.key("subnets").key("private"),
                            "node groups use private subnets (`privateNetworking: true`), but none are listed",
                        );
                    }
                }
            }
            return;
        }
        if vpc.subnets.is_some() {
            self.error(&path.key("subnets"), "`subnets` describes an existing VPC: set `vpc.id` too, or remove `subnets` to let ekspec create the network");
        }
        let zones = match (&vpc.availability_zones, vpc.zone_count) {
            (Some(_), Some(_)) => {
                self.error(
                    &path.key("zoneCount"),
                    "set either `availabilityZones` or `zoneCount`, not both",
                );
                return;
            }
            (Some(zones), None) => {
                self.zones(&path.key("availabilityZones"), zones, &file.metadata.region);
                zones.len()
            }
            (None, Some(count)) => {
                if !(2..=6).contains(&count) {
                    self.error(
                        &path.key("zoneCount"),
                        format!("zoneCount must be 2 to 6, got {count}"),
                    );
                    return;
                }
                usize::from(count)
            }
            (None, None) => usize::from(super::model::DEFAULT_ZONE_COUNT),
        };
        let cidr_path = path.key("cidr");
        let cidr_text = vpc.cidr.as_deref().unwrap_or(DEFAULT_VPC_CIDR);
        match cidr_text.parse::<Ipv4Net>() {
            Err(_) => {
                self.error(
                    &cidr_path,
                    format!(
                        "invalid CIDR `{cidr_text}`, expected an IPv4 block such as 10.0.0.0/16"
                    ),
                );
            }
            Ok(net) if net.network() != net.addr() => {
                self.error(&cidr_path, format!("`{cidr_text}` has host bits set"))
                    .hint = Some(format!(
                    "did you mean {}/{}?",
                    net.network(),
                    net.prefix_len()
                ));
            }
            Ok(net) if !(16..=24).contains(&net.prefix_len()) => {
                self.error(
                    &cidr_path,
                    format!("VPC CIDR must be /16 to /24, got /{}", net.prefix_len()),
                );
            }
            Ok(net) => {
                if !is_private(net.network()) {
                    self.warn(
                        &cidr_path,
                        format!("`{net}` is not a private (RFC 1918) range"),
                    );
                }
                let prefix = subnet_prefix(net.prefix_len(), zones);
                if prefix > SMALLEST_SUBNET_PREFIX {
                    self.error(
                        &cidr_path,
                        format!("`{net}` is too small for {zones} zones: each of its {} subnets would be a /{prefix}, smaller than /{SMALLEST_SUBNET_PREFIX}", zones * 2),
                    )
                    .hint = Some("use a larger VPC CIDR or fewer zones".to_owned());
                }
            }
        }
        let nat = vpc.nat_gateway.unwrap_or_default();
        if nat == NatGatewayMode::None {
            if let Some(i) = file
                .spec
                .node_groups
                .iter()
                .position(|g| g.private_networking)
            {
                self.warn(&path.key("natGateway"), "`natGateway: none` leaves private subnets without internet access: nodes cannot pull images or join the cluster unless VPC endpoints provide them")
                    .hint = Some(format!("node group `{}` uses private networking", file.spec.node_groups[i].name));
            } else if !file.spec.fargate_profiles.is_empty() {
                self.warn(&path.key("natGateway"), "`natGateway: none` leaves Fargate pods (private subnets) without internet access");
            }
        }
    }

    fn zones(&mut self, path: &FieldPath, zones: &[String], region: &str) {
        if zones.len() < 2 {
            self.error(path, "EKS needs at least two availability zones");
        }
        if zones.len() > 6 {
            self.error(path, "at most 6 availability zones are supported");
        }
        let mut seen = HashMap::new();
        for (i, zone) in zones.iter().enumerate() {
            let zone_path = path.index(i);
            let suffix = zone.strip_prefix(region);
            let valid =
                suffix.is_some_and(|s| s.len() == 1 && s.chars().all(|c| c.is_ascii_lowercase()));
            if !valid {
                let hint = format!("zones of {region} look like {region}a, {region}b");
                self.error(
                    &zone_path,
                    format!("availability zone `{zone}` is not in region `{region}`"),
                )
                .hint = Some(hint);
            } else if seen.insert(zone.as_str(), ()).is_some() {
                self.error(
                    &zone_path,
                    format!("availability zone `{zone}` is listed twice"),
                );
            }
        }
    }

    fn endpoint(&mut self, file: &ClusterFile) {
        let endpoint = &file.spec.endpoint;
        let path = spec().key("endpoint");
        if !endpoint.public_access && !endpoint.private_access {
            self.error(
                &path.key("publicAccess"),
                "the API server needs public or private access (or both); both are false",
            );
        }
        if endpoint.public_access_cidrs.is_empty() && endpoint.public_access {
            self.error(
                &path.key("publicAccessCidrs"),
                "list at least one CIDR, or set `publicAccess: false`",
            );
        }
        for (i, cidr) in endpoint.public_access_cidrs.iter().enumerate() {
            let cidr_path = path.key("publicAccessCidrs").index(i);
            match cidr.parse::<Ipv4Net>() {
                Err(_) => {
                    self.error(&cidr_path, format!("invalid CIDR `{cidr}`"));
                }
                Ok(net) if net.network() != net.addr() => {
                    self.error(&cidr_path, format!("`{cidr}` has host bits set"))
                        .hint = Some(format!(
                        "did you mean {}/{}?",
                        net.network(),
                        net.prefix_len()
                    ));
                }
                Ok(net) if is_private(net.network()) && net.prefix_len() > 0 => {
                    self.error(&cidr_path, format!("`{cidr}` is a private range; EKS accepts only public CIDRs for the public endpoint"))
                        .hint = Some("private clients reach the API through `privateAccess: true`".to_owned());
                }
                Ok(_) => {}
            }
        }
        let custom_cidrs = endpoint.public_access_cidrs != ["0.0.0.0/0"];
        if !endpoint.public_access && custom_cidrs {
            self.warn(
                &path.key("publicAccessCidrs"),
                "`publicAccessCidrs` has no effect while `publicAccess` is false",
            );
        }
    }

    fn logging(&mut self, file: &ClusterFile) {
        let mut seen = HashMap::new();
        for (i, log) in file.spec.logging.iter().enumerate() {
            if seen.insert(*log, ()).is_some() {
                self.warn(
                    &spec().key("logging").index(i),
                    format!("log type `{}` is listed twice", log.eks_name()),
                );
            }
        }
    }

    fn encryption(&mut self, file: &ClusterFile) {
        let Some(encryption) = &file.spec.secrets_encryption else {
            return;
        };
        let path = spec().key("secretsEncryption").key("keyArn");
        match parse_arn(&encryption.key_arn) {
            Some(arn)
                if arn.service == "kms"
                    && (arn.resource.starts_with("key/") || arn.resource.starts_with("alias/")) =>
            {
                if arn.region != file.metadata.region {
                    self.error(&path, format!("the KMS key is in `{}`, but the cluster is in `{}`; EKS needs a key in the cluster's region", arn.region, file.metadata.region));
                }
            }
            _ => {
                self.error(
                    &path,
                    format!("invalid KMS key ARN `{}`", encryption.key_arn),
                )
                .hint = Some("expected arn:aws:kms:REGION:ACCOUNT:key/KEY-ID".to_owned());
            }
        }
    }

    fn node_groups(&mut self, file: &ClusterFile) {
        let path = spec().key("nodeGroups");
        let mut names = HashMap::new();
        for (i, group) in file.spec.node_groups.iter().enumerate() {
            let group_path = path.index(i);
            self.unique(
                &mut names,
                &group.name,
                &group_path.key("name"),
                "node group",
            );
            if group.name.is_empty()
                || group.name.len() > MAX_NODE_GROUP_NAME
                || !group.name.starts_with(|c: char| c.is_ascii_alphanumeric())
                || !group
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                self.error(&group_path.key("name"), format!("invalid node group name `{}`: 1 to {MAX_NODE_GROUP_NAME} letters, digits, `-` or `_`, starting with a letter or digit", group.name));
            }
            self.node_group(group, &group_path);
            self.node_group_zones(file, group, &group_path);
        }
    }

    /// `availabilityZones`: zones of the cluster's VPC (checked here when the spec lists
    /// them, at plan time otherwise), each once.
    fn node_group_zones(&mut self, file: &ClusterFile, group: &NodeGroupSpec, path: &FieldPath) {
        let zones_path = path.key("availabilityZones");
        let listed = file.spec.vpc.availability_zones.as_deref();
        for (i, zone) in group.availability_zones.iter().enumerate() {
            if group.availability_zones[..i].contains(zone) {
                self.error(
                    &zones_path.index(i),
                    format!("zone `{zone}` is listed twice"),
                );
            } else if let Some(listed) = listed.filter(|l| !l.contains(zone)) {
                self.error(
                    &zones_path.index(i),
                    format!("zone `{zone}` is not one of the VPC's availabilityZones ({})", listed.join(", ")),
                )
                .hint = Some("a node group's nodes can only go in the VPC's subnets: add the zone to spec.vpc.availabilityZones".to_owned());
            }
        }
    }

    /// `capacityType: capacityBlock`, as the EKS user guide ("Create a managed node group with
    /// Capacity Blocks for ML") requires it: a launch template with `InstanceMarketOptions`
    /// `capacity-block`, a `CapacityReservationTarget` naming the Capacity Block's id and one
    /// `InstanceType`; and "only specify the subnet in the same Availability Zone as the
    /// capacity reservation".
    fn capacity_block(&mut self, group: &NodeGroupSpec, path: &FieldPath) {
        if group.capacity_type != CapacityType::CapacityBlock {
            return;
        }
        let id = group
            .capacity_reservation
            .as_ref()
            .and_then(|c| c.id.as_ref());
        if id.is_none() {
            let reservation = group.capacity_reservation.as_ref();
            let at = if reservation.is_some_and(|r| r.resource_group_arn.is_some()) {
                path.key("capacityReservation").key("resourceGroupArn")
            } else if reservation.is_some() {
                path.key("capacityReservation")
            } else {
                path.key("capacityType")
            };
            self.error(
                &at,
                "capacityType capacityBlock needs the Capacity Block's reservation id in `capacityReservation.id`: EKS launches a Capacity Block's nodes only into that reservation (a resource group will not do)",
            )
            .hint = Some("add `capacityReservation: {id: cr-...}` with the id of the Capacity Block you bought".to_owned());
        }
        if group.instance_types.len() > 1 {
            self.error(
                &path.key("instanceTypes"),
                format!(
                    "capacityType capacityBlock takes exactly one instance type, the Capacity Block's; {} are listed",
                    group.instance_types.len()
                ),
            );
        }
        if group.availability_zones.len() != 1 {
            let at = if group.availability_zones.is_empty() {
                path.key("capacityType")
            } else {
                path.key("availabilityZones")
            };
            self.error(
                &at,
                "capacityType capacityBlock needs `availabilityZones` with exactly one zone, the Capacity Block's: EKS must get only the subnets in the reservation's zone",
            )
            .hint = Some("add e.g. `availabilityZones: [us-east-1a]` (the zone `aws ec2 describe-capacity-reservations` shows for the block)".to_owned());
        }
    }

    fn node_group(&mut self, group: &NodeGroupSpec, path: &FieldPath) {
        let types_path = path.key("instanceTypes");
        if group.instance_types.is_empty() {
            self.error(&types_path, "list at least one instance type");
        }
        let mut seen = HashMap::new();
        for (i, instance_type) in group.instance_types.iter().enumerate() {
            let type_path = types_path.index(i);
            if !is_instance_type(instance_type) {
                self.error(
                    &type_path,
                    format!(
                        "invalid instance type `{instance_type}`, expected a name such as m6i.large"
                    ),
                );
            } else if seen.insert(instance_type.as_str(), ()).is_some() {
                self.error(
                    &type_path,
                    format!("instance type `{instance_type}` is listed twice"),
                );
            } else if is_arm_instance(instance_type) != group.ami_type.is_arm() {
                self.error(
                    &type_path,
                    format!(
                        "instance type `{instance_type}` does not match amiType {} ({} AMI)",
                        group.ami_type.eks_name(),
                        if group.ami_type.is_arm() {
                            "an Arm"
                        } else {
                            "an x86-64"
                        }
                    ),
                );
            }
        }
        if group.instance_types.len() > 20 {
            self.error(
                &types_path,
                "EKS accepts at most 20 instance types per node group",
            );
        }
        if group.capacity_type == CapacityType::Spot && group.instance_types.len() == 1 {
            self.warn(&types_path, "a spot node group with a single instance type is interrupted whenever that one spot pool runs dry")
                .hint = Some("list several similar instance types (e.g. m6i.xlarge, m6a.xlarge, m5.xlarge)".to_owned());
        }
        let scaling = group.scaling();
        if scaling.max < 1 {
            self.error(&path.key("maxSize"), "maxSize must be at least 1");
        }
        if scaling.min > scaling.max {
            self.error(
                &path.key("minSize"),
                format!(
                    "minSize ({}) is larger than maxSize ({})",
                    scaling.min, scaling.max
                ),
            );
        } else if !(scaling.min..=scaling.max).contains(&scaling.desired) {
            self.error(
                &path.key("desiredSize"),
                format!(
                    "desiredSize ({}) must be between minSize ({}) and maxSize ({})",
                    scaling.desired, scaling.min, scaling.max
                ),
            );
        }
        if scaling.max > 1000 {
            self.error(
                &path.key("maxSize"),
                "EKS allows at most 1000 nodes per node group",
            );
        }
        if !(8..=16384).contains(&group.disk_size_gib) {
            self.error(
                &path.key("diskSizeGiB"),
                format!(
                    "diskSizeGiB must be 8 to 16384, got {}",
                    group.disk_size_gib
                ),
            );
        }
        match (group.max_unavailable, group.max_unavailable_percentage) {
            (Some(_), Some(_)) => {
                self.error(
                    &path.key("maxUnavailablePercentage"),
                    "set either `maxUnavailable` or `maxUnavailablePercentage`, not both",
                );
            }
            (Some(n), None) if !(1..=100).contains(&n) => {
                self.error(
                    &path.key("maxUnavailable"),
                    format!("maxUnavailable must be 1 to 100, got {n}"),
                );
            }
            (None, Some(p)) if !(1..=100).contains(&p) => {
                self.error(
                    &path.key("maxUnavailablePercentage"),
                    format!("maxUnavailablePercentage must be 1 to 100, got {p}"),
                );
            }
            _ => {}
        }
        if let Some(repair) = &group.node_repair_config {
            self.node_repair(repair, &path.key("nodeRepairConfig"));
        }
        if let Some(reservation) = &group.capacity_reservation {
            self.capacity_reservation(reservation, &path.key("capacityReservation"));
        }
        self.capacity_block(group, path);
        self.labels(&path.key("labels"), &group.labels);
        if group.taints.len() > 50 {
            self.error(
                &path.key("taints"),
                "EKS allows at most 50 taints per node group",
            );
        }
        for (i, taint) in group.taints.iter().enumerate() {
            let taint_path = path.key("taints").index(i);
            if !is_qualified_name(&taint.key) {
                self.error(&taint_path.key("key"), format!("invalid taint key `{}`", taint.key)).hint =
                    Some("a taint key is an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` or `.`".to_owned());
            }
            if let Some(value) = &taint.value
                && !is_label_value(value)
            {
                self.error(
                    &taint_path.key("value"),
                    format!(
                        "invalid taint value `{value}`: up to 63 letters, digits, `-`, `_` or `.`"
                    ),
                );
            }
        }
        self.tags(&path.key("tags"), &group.tags);
        self.custom_ami(group, path);
    }

    /// `amiId` / `amiParameter` and `preBootstrapCommands`: ekspec writes the user data that
    /// joins a custom AMI's nodes, for AL2023 (nodeadm) and Bottlerocket (TOML) only.
    fn custom_ami(&mut self, group: &NodeGroupSpec, path: &FieldPath) {
        if let (Some(_), Some(_)) = (&group.ami_id, &group.ami_parameter) {
            self.error(
                &path.key("amiParameter"),
                "set either `amiId` or `amiParameter`, not both",
            );
        }
        if let Some(id) = &group.ami_id
            && !is_ami_id(id)
        {
            self.error(&path.key("amiId"), format!("invalid AMI id `{id}`"))
                .hint =
                Some("expected ami- and 8 or 17 hex digits, e.g. ami-0123456789abcdef0".to_owned());
        }
        if let Some(name) = &group.ami_parameter
            && !is_ssm_parameter_name(name)
        {
            self.error(
                &path.key("amiParameter"),
                format!("invalid SSM parameter name `{name}`"),
            )
            .hint = Some("a full parameter path such as /aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id".to_owned());
        }
        if group.custom_ami() && !group.ami_type.is_al2023() && !group.ami_type.is_bottlerocket() {
            self.error(
                &path.key("amiType"),
                format!(
                    "amiType {} with a custom AMI: ekspec writes the node bootstrap only for AL2023 (nodeadm) and Bottlerocket AMIs",
                    group.ami_type.eks_name()
                ),
            )
            .hint = Some("set amiType to the custom AMI's family, e.g. AL2023_x86_64_STANDARD or BOTTLEROCKET_x86_64".to_owned());
        }
        let commands = path.key("preBootstrapCommands");
        if !group.pre_bootstrap_commands.is_empty() && group.ami_type.is_bottlerocket() {
            self.error(
                &commands,
                "Bottlerocket has no shell to run preBootstrapCommands",
            )
            .hint = Some("configure Bottlerocket through its settings or a bootstrap container in your own AMI, or use an AL2023 amiType".to_owned());
        }
        for (i, command) in group.pre_bootstrap_commands.iter().enumerate() {
            if command.trim().is_empty() {
                self.error(&commands.index(i), "empty command");
            }
        }
    }

    /// EKS API reference, NodeRepairConfig: each count is "Minimum value of 1", each
    /// percentage "Minimum value of 1. Maximum value of 100", and "When using this, you cannot
    /// also set" the other of the pair.
    fn node_repair(&mut self, repair: &NodeRepairConfig, path: &FieldPath) {
        let pairs = [
            (
                "maxUnhealthyNodeThresholdCount",
                repair.max_unhealthy_node_threshold_count,
                "maxUnhealthyNodeThresholdPercentage",
                repair.max_unhealthy_node_threshold_percentage,
            ),
            (
                "maxParallelNodesRepairedCount",
                repair.max_parallel_nodes_repaired_count,
                "maxParallelNodesRepairedPercentage",
                repair.max_parallel_nodes_repaired_percentage,
            ),
        ];
        for (count_name, count, percentage_name, percentage) in pairs {
            if count.is_some() && percentage.is_some() {
                self.error(
                    &path.key(percentage_name),
                    format!("set either `{count_name}` or `{percentage_name}`, not both (EKS refuses both)"),
                );
            }
            if count == Some(0) {
                self.error(
                    &path.key(count_name),
                    format!("{count_name} must be at least 1, got 0"),
                );
            }
            if let Some(p) = percentage.filter(|p| !(1..=100).contains(p)) {
                self.error(
                    &path.key(percentage_name),
                    format!("{percentage_name} must be 1 to 100, got {p}"),
                );
            }
        }
        let tuned = [
            repair.max_unhealthy_node_threshold_count,
            repair.max_unhealthy_node_threshold_percentage,
            repair.max_parallel_nodes_repaired_count,
            repair.max_parallel_nodes_repaired_percentage,
        ]
        .iter()
        .any(Option::is_some);
        if tuned && !repair.enabled {
            self.warn(
                &path.key("enabled"),
                "the repair thresholds have no effect while node auto repair is off",
            )
            .hint = Some("set `enabled: true`, or drop the thresholds".to_owned());
        }
    }

    /// EC2 API reference: CapacityReservationSpecification, "You can only specify
    /// CapacityReservationPreference and CapacityReservationTarget if the
    /// CapacityReservationPreference is capacity-reservations-only"; CapacityReservationTarget
    /// names one reservation or one resource group, "You can specify only one parameter at a
    /// time".
    fn capacity_reservation(&mut self, reservation: &CapacityReservationSpec, path: &FieldPath) {
        let targeted = reservation.id.is_some() || reservation.resource_group_arn.is_some();
        if reservation.preference.is_none() && !targeted {
            self.error(
                path,
                "say which capacity to use: `preference`, `id` or `resourceGroupArn`",
            );
        }
        if reservation.id.is_some() && reservation.resource_group_arn.is_some() {
            self.error(
                &path.key("resourceGroupArn"),
                "set either `id` or `resourceGroupArn`, not both: EC2 targets one reservation or one resource group",
            );
        }
        if let Some(preference) = reservation.preference
            && targeted
            && preference != CapacityReservationPreference::CapacityReservationsOnly
        {
            self.error(
                &path.key("preference"),
                format!(
                    "preference `{}` cannot be combined with a target (`id` or `resourceGroupArn`): EC2 takes a preference with a target only when it is `capacity-reservations-only`",
                    preference.ec2_name()
                ),
            )
            .hint = Some("drop `preference` to launch into the target when it has room, or use `capacity-reservations-only` to launch only there".to_owned());
        }
        if let Some(id) = &reservation.id
            && !is_aws_id(id, "cr-")
        {
            self.error(
                &path.key("id"),
                format!("invalid Capacity Reservation id `{id}`, expected cr- and 17 hex digits"),
            );
        }
        if let Some(arn) = &reservation.resource_group_arn
            && !parse_arn(arn)
                .is_some_and(|a| a.service == "resource-groups" && a.resource.starts_with("group/"))
        {
            self.error(
                &path.key("resourceGroupArn"),
                format!("invalid resource group ARN `{arn}`, expected arn:aws:resource-groups:REGION:ACCOUNT:group/NAME"),
            );
        }
    }

    fn labels(&mut self, path: &FieldPath, labels: &BTreeMap<String, String>) {
        for (key, value) in labels {
            let label_path = path.key(key);
            if !is_qualified_name(key) {
                self.error(&label_path, format!("invalid label key `{key}`")).hint =
                    Some("a label key is an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` or `.`".to_owned());
            } else if key.starts_with("kubernetes.io/")
                || key.starts_with("k8s.io/")
                || key.contains(".kubernetes.io/") && !key.starts_with("node-role.kubernetes.io/")
            {
                self.error(
                    &label_path,
                    format!("label `{key}` uses a prefix Kubernetes reserves; EKS rejects it"),
                );
            }
            if !is_label_value(value) {
                self.error(&label_path, format!("invalid label value `{value}`: up to 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"));
            }
        }
    }

    fn fargate_profiles(&mut self, file: &ClusterFile) {
        let path = spec().key("fargateProfiles");
        let mut names = HashMap::new();
        for (i, profile) in file.spec.fargate_profiles.iter().enumerate() {
            let profile_path = path.index(i);
            self.unique(
                &mut names,
                &profile.name,
                &profile_path.key("name"),
                "Fargate profile",
            );
            if profile.name.is_empty()
                || profile.name.len() > 63
                || !profile
                    .name
                    .starts_with(|c: char| c.is_ascii_alphanumeric())
                || !profile
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                self.error(
                    &profile_path.key("name"),
                    format!("invalid Fargate profile name `{}`", profile.name),
                );
            }
            if profile.selectors.is_empty() || profile.selectors.len() > 5 {
                self.error(
                    &profile_path.key("selectors"),
                    "a Fargate profile needs 1 to 5 selectors",
                );
            }
            for (j, selector) in profile.selectors.iter().enumerate() {
                let selector_path = profile_path.key("selectors").index(j);
                if !is_dns_label(&selector.namespace) {
                    self.error(
                        &selector_path.key("namespace"),
                        format!("invalid namespace `{}`", selector.namespace),
                    );
                }
                if selector.labels.len() > 5 {
                    self.error(
                        &selector_path.key("labels"),
                        "a Fargate selector matches at most 5 labels",
                    );
                }
                self.labels(&selector_path.key("labels"), &selector.labels);
            }
            self.tags(&profile_path.key("tags"), &profile.tags);
        }
    }

    fn service_accounts(&mut self, file: &ClusterFile) {
        let path = spec().key("serviceAccounts");
        let mut names = HashMap::new();
        let mut roles = HashMap::new();
        for (i, account) in file.spec.service_accounts.iter().enumerate() {
            let account_path = path.index(i);
            let qualified = format!("{}/{}", account.namespace, account.name);
            self.unique(
                &mut names,
                &qualified,
                &account_path.key("name"),
                "service account",
            );
            if !is_dns_subdomain(&account.name) {
                self.error(
                    &account_path.key("name"),
                    format!(
                        "invalid service account name `{}`: lowercase letters, digits, `-` and `.`",
                        account.name
                    ),
                );
            }
            if !is_dns_label(&account.namespace) {
                self.error(
                    &account_path.key("namespace"),
                    format!(
                        "invalid namespace `{}`: up to 63 lowercase letters, digits and `-`",
                        account.namespace
                    ),
                );
            }
            let role = account.role_name.clone().unwrap_or_else(|| {
                naming::irsa_role(&file.metadata.name, &account.namespace, &account.name)
            });
            let role_field = if account.role_name.is_some() {
                "roleName"
            } else {
                "name"
            };
            if !naming::is_valid_role_name(&role) {
                let message = if role.len() > naming::MAX_ROLE_NAME {
                    format!(
                        "the IAM role name `{role}` has {} characters; IAM allows {}",
                        role.len(),
                        naming::MAX_ROLE_NAME
                    )
                } else {
                    format!("invalid IAM role name `{role}`")
                };
                self.error(&account_path.key(role_field), message).hint =
                    Some("set a shorter `roleName` for this service account".to_owned());
            } else if let Some(other) = roles.insert(role.clone(), i) {
                self.error(
                    &account_path.key(role_field),
                    format!("IAM role name `{role}` is also used by serviceAccounts[{other}]"),
                );
            } else if derived_roles(file).contains(&role) {
                self.error(
                    &account_path.key(role_field),
                    format!("IAM role name `{role}` is used by ekspec for the cluster itself"),
                );
            }
            if account.policy_arns.is_empty() && account.inline_policy.is_none() {
                self.warn(&account_path, format!("service account `{qualified}` gets a role with no permissions: add `policyArns` or `inlinePolicy`"));
            }
            if account.policy_arns.len() > 20 {
                self.error(
                    &account_path.key("policyArns"),
                    "IAM attaches at most 20 managed policies to a role",
                );
            }
            for (j, arn) in account.policy_arns.iter().enumerate() {
                if !parse_arn(arn).is_some_and(|a| {
                    a.service == "iam"
                        && a.region.is_empty()
                        && a.resource.starts_with("policy/")
                        && (a.account == "aws" || is_account(a.account))
                }) {
                    self.error(
                        &account_path.key("policyArns").index(j),
                        format!("invalid IAM policy ARN `{arn}`"),
                    )
                    .hint = Some(
                        "expected arn:aws:iam::aws:policy/NAME or arn:aws:iam::ACCOUNT:policy/NAME"
                            .to_owned(),
                    );
                }
            }
            if let Some(policy) = &account.inline_policy {
                for (problem_path, message) in
                    policy_problems(policy, &account_path.key("inlinePolicy"))
                {
                    self.error(&problem_path, message);
                }
            }
        }
    }

    /// What EKS requires of an IPv6 cluster (EKS user guide, "Learn about IPv6 addresses to
    /// clusters, Pods, and services"; EKS API reference, KubernetesNetworkConfigRequest).
    /// Kubernetes 1.21 or later is required too, which every version ekspec takes is.
    fn ip_family(&mut self, file: &ClusterFile) {
        if file.spec.ip_family != IpFamily::Ipv6 {
            return;
        }
        // "You can only specify ipv6 for 1.21 and later clusters that use version 1.10.1 or
        // later of the Amazon VPC CNI add-on."
        for (i, addon) in file.spec.addons.iter().enumerate() {
            let Some(version) = addon.version.as_deref().filter(|_| addon.name == "vpc-cni") else {
                continue;
            };
            if addon_version(version).is_some_and(|v| v < MIN_IPV6_VPC_CNI) {
                let (major, minor, patch) = MIN_IPV6_VPC_CNI;
                self.error(
                    &spec().key("addons").index(i).key("version"),
                    format!("vpc-cni {version} cannot run an IPv6 cluster (spec.ipFamily: ipv6): EKS requires v{major}.{minor}.{patch} or later"),
                )
                .hint = Some("remove the version to get EKS's default for the cluster's version, or pin a newer one".to_owned());
            }
        }
        // "Nitro-based EC2 nodes required: You can only use IPv6 with AWS Nitro-based Amazon
        // EC2 or Fargate nodes."
        for (g, group) in file.spec.node_groups.iter().enumerate() {
            for (i, instance_type) in group.instance_types.iter().enumerate() {
                let family = instance_type.split('.').next().unwrap_or_default();
                if XEN_FAMILIES.contains(&family) {
                    self.error(
                        &spec().key("nodeGroups").index(g).key("instanceTypes").index(i),
                        format!("`{instance_type}` is not built on the AWS Nitro System, and an IPv6 cluster (spec.ipFamily: ipv6) runs only on Nitro instances"),
                    )
                    .hint = Some("pick a current-generation type, e.g. m6i.large or m7g.large".to_owned());
                }
            }
        }
    }

    fn addons(&mut self, file: &ClusterFile) {
        let path = spec().key("addons");
        let mut names = HashMap::new();
        for (i, addon) in file.spec.addons.iter().enumerate() {
            let addon_path = path.index(i);
            self.unique(&mut names, &addon.name, &addon_path.key("name"), "add-on");
            if !is_dns_subdomain(&addon.name) {
                self.error(
                    &addon_path.key("name"),
                    format!("invalid add-on name `{}`", addon.name),
                );
            }
            if let Some(version) = &addon.version
                && !is_addon_version(version)
            {
                self.error(&addon_path.key("version"), format!("invalid add-on version `{version}`, expected a version such as v1.18.3-eksbuild.1"));
            }
            if let Some(account) = &addon.service_account {
                let declared: Vec<&str> = file
                    .spec
                    .service_accounts
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                if !declared.contains(&account.as_str()) {
                    let mut message = format!(
                        "add-on `{}` uses service account `{account}`, which is not declared in spec.serviceAccounts",
                        addon.name
                    );
                    if let Some(best) = super::suggest(account, declared.iter().copied()) {
                        message.push_str(&format!(", did you mean `{best}`?"));
                    }
                    self.error(&addon_path.key("serviceAccount"), message);
                }
            }
            if let Some(values) = &addon.configuration_values
                && !values.is_object()
            {
                self.error(
                    &addon_path.key("configurationValues"),
                    "configurationValues must be a mapping",
                );
            }
        }
    }

    fn access_entries(&mut self, file: &ClusterFile) {
        let path = spec().key("accessEntries");
        let mut principals = HashMap::new();
        for (i, entry) in file.spec.access_entries.iter().enumerate() {
            let entry_path = path.index(i);
            self.unique(
                &mut principals,
                &entry.principal_arn,
                &entry_path.key("principalArn"),
                "access entry for",
            );
            let valid = parse_arn(&entry.principal_arn).is_some_and(|a| {
                a.service == "iam"
                    && is_account(a.account)
                    && (a.resource.starts_with("role/") || a.resource.starts_with("user/"))
            });
            if !valid {
                self.error(
                    &entry_path.key("principalArn"),
                    format!("invalid principal ARN `{}`", entry.principal_arn),
                )
                .hint = Some(
                    "expected arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME"
                        .to_owned(),
                );
            }
            for (j, group) in entry.kubernetes_groups.iter().enumerate() {
                if group.starts_with("system:") {
                    self.error(
                        &entry_path.key("kubernetesGroups").index(j),
                        format!(
                            "EKS rejects Kubernetes groups starting with `system:` (`{group}`)"
                        ),
                    );
                }
            }
            let mut policies = HashMap::new();
            for (j, policy) in entry.policies.iter().enumerate() {
                let policy_path = entry_path.key("policies").index(j);
                self.unique(
                    &mut policies,
                    &policy.policy_arn,
                    &policy_path.key("policyArn"),
                    "access policy",
                );
                if !parse_arn(&policy.policy_arn).is_some_and(|a| {
                    a.service == "eks"
                        && a.account == "aws"
                        && a.resource.starts_with("cluster-access-policy/")
                }) {
                    self.error(&policy_path.key("policyArn"), format!("invalid access policy ARN `{}`", policy.policy_arn)).hint =
                        Some("expected arn:aws:eks::aws:cluster-access-policy/NAME, e.g. AmazonEKSClusterAdminPolicy".to_owned());
                }
                if let AccessScope::Namespaces(scope) = &policy.scope {
                    if scope.namespaces.is_empty() {
                        self.error(
                            &policy_path.key("scope").key("namespaces"),
                            "list at least one namespace, or use `scope: cluster`",
                        );
                    }
                    for (k, namespace) in scope.namespaces.iter().enumerate() {
                        let wildcard = namespace.strip_suffix('*').unwrap_or(namespace);
                        let whole_cluster = namespace == "*";
                        if !whole_cluster && !is_dns_label(wildcard.trim_end_matches('-')) {
                            self.error(
                                &policy_path.key("scope").key("namespaces").index(k),
                                format!("invalid namespace `{namespace}`"),
                            );
                        }
                    }
                }
            }
        }
    }

    /// EKS Pod Identity needs its agent add-on, and Fargate does not run that agent.
    fn pod_identity(&mut self, file: &ClusterFile) {
        let users: Vec<(FieldPath, &str, String)> = file
            .spec
            .service_accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.mechanism == IdentityMechanism::PodIdentity)
            .map(|(i, a)| {
                (
                    spec().key("serviceAccounts").index(i).key("mechanism"),
                    a.namespace.as_str(),
                    format!("service account `{}/{}`", a.namespace, a.name),
                )
            })
            .chain(file.spec.karpenter.iter().map(|k| {
                let path = spec().key("karpenter");
                let path = if k.namespace.is_some() {
                    path.key("namespace")
                } else {
                    path
                };
                (path, k.namespace(), "Karpenter's controller".to_owned())
            }))
            .collect();
        let has_agent = file
            .spec
            .addons
            .iter()
            .any(|a| a.name == POD_IDENTITY_AGENT);
        if let Some((path, _, who)) = users.first()
            && !has_agent
        {
            let path = path.clone();
            let message = format!(
                "{who} uses EKS Pod Identity, which needs the `{POD_IDENTITY_AGENT}` add-on on the nodes"
            );
            self.error(&path, message).hint =
                Some(format!("add `- name: {POD_IDENTITY_AGENT}` to spec.addons"));
        }
        for (path, namespace, who) in &users {
            for (i, profile) in file.spec.fargate_profiles.iter().enumerate() {
                let Some((j, selector)) = profile
                    .selectors
                    .iter()
                    .enumerate()
                    .find(|(_, s)| s.namespace == *namespace)
                else {
                    continue;
                };
                let at = format!("spec.fargateProfiles[{i}].selectors[{j}]");
                if selector.labels.is_empty() {
                    self.error(
                        path,
                        format!(
                            "{who} uses EKS Pod Identity, but Fargate profile `{}` runs every pod of namespace `{namespace}` ({at}) and Fargate does not support Pod Identity",
                            profile.name
                        ),
                    )
                    .hint = Some(if who.starts_with("Karpenter") {
                        "run Karpenter in a namespace no Fargate profile selects (spec.karpenter.namespace), on a node group".to_owned()
                    } else {
                        "use `mechanism: irsa` for this service account, or run its pods on nodes".to_owned()
                    });
                } else {
                    self.warn(
                        path,
                        format!(
                            "{who} uses EKS Pod Identity; pods of namespace `{namespace}` with the labels of Fargate profile `{}` ({at}) run on Fargate, which does not support Pod Identity",
                            profile.name
                        ),
                    );
                }
            }
        }
    }

    fn karpenter(&mut self, file: &ClusterFile) {
        let Some(karpenter) = &file.spec.karpenter else {
            return;
        };
        let path = spec().key("karpenter");
        if karpenter_version(&karpenter.version).is_none() {
            let mut message = format!(
                "invalid Karpenter version `{}`: ekspec makes the AWS side of Karpenter 1.0.0 and newer, written MAJOR.MINOR.PATCH such as `1.8.1`",
                karpenter.version
            );
            if karpenter.version.starts_with('v') {
                message.push_str(" (without the leading `v`)");
            }
            self.error(&path.key("version"), message);
        }
        if karpenter.interruption_queue {
            let cluster = &file.metadata.name;
            let longest = naming::KARPENTER_EVENT_KINDS
                .iter()
                .map(|kind| naming::karpenter_event_rule(cluster, kind))
                .max_by_key(String::len);
            if let Some(rule) = longest.filter(|r| r.len() > naming::MAX_EVENT_RULE_NAME) {
                let room = cluster.len() - (rule.len() - naming::MAX_EVENT_RULE_NAME);
                self.error(
                    &path.key("interruptionQueue"),
                    format!(
                        "the EventBridge rule ekspec names after the cluster for Karpenter's interruption queue, `{rule}`, has {} characters and EventBridge allows {}",
                        rule.len(),
                        naming::MAX_EVENT_RULE_NAME
                    ),
                )
                .hint = Some(format!(
                    "use a cluster name of at most {room} characters, or `interruptionQueue: false`"
                ));
            }
        }
        if !is_dns_label(karpenter.namespace()) {
            self.error(
                &path.key("namespace"),
                format!(
                    "invalid namespace `{}`: up to 63 lowercase letters, digits and `-`",
                    karpenter.namespace()
                ),
            );
        }
        if !is_dns_subdomain(karpenter.service_account()) {
            self.error(
                &path.key("serviceAccount"),
                format!(
                    "invalid service account name `{}`: lowercase letters, digits, `-` and `.`",
                    karpenter.service_account()
                ),
            );
        }
        if let Some(i) = file.spec.service_accounts.iter().position(|a| {
            a.namespace == karpenter.namespace() && a.name == karpenter.service_account()
        }) {
            self.error(
                &spec().key("serviceAccounts").index(i),
                format!(
                    "service account `{}/{}` is Karpenter's controller, which ekspec gives its own role (spec.karpenter)",
                    karpenter.namespace(),
                    karpenter.service_account()
                ),
            )
            .hint = Some("remove this entry, or set spec.karpenter.serviceAccount to another name".to_owned());
        }
        let auto_mode_nodes = file
            .spec
            .auto_mode()
            .is_some_and(|a| !a.node_pools.is_empty());
        if file.spec.node_groups.is_empty() && !auto_mode_nodes {
            self.warn(
                &path,
                "Karpenter's controller needs nodes to run on before it can launch any: add a node group for it (Fargate does not support the Pod Identity it uses)",
            );
        }
    }

    fn auto_mode(&mut self, file: &ClusterFile) {
        let Some(auto_mode) = &file.spec.auto_mode else {
            return;
        };
        let path = spec().key("autoMode");
        let mut seen = HashMap::new();
        for (i, pool) in auto_mode.node_pools.iter().enumerate() {
            if let Some(first) = seen.insert(*pool, i) {
                self.error(
                    &path.key("nodePools").index(i),
                    format!(
                        "node pool `{}` is listed twice (also nodePools[{first}])",
                        pool.eks_name()
                    ),
                )
                .hint = Some("list each built-in node pool once".to_owned());
            }
        }
    }

    fn unique(
        &mut self,
        seen: &mut HashMap<String, FieldPath>,
        name: &str,
        path: &FieldPath,
        what: &str,
    ) {
        if let Some(first) = seen.get(name) {
            let first = first.clone();
            self.error(
                path,
                format!("duplicate {what} `{name}` (first defined at {first})"),
            );
        } else {
            seen.insert(name.to_owned(), path.clone());
        }
    }
}

/// Parses a Karpenter version `MAJOR.MINOR.PATCH` of 1.0.0 or newer.
pub fn karpenter_version(version: &str) -> Option<(u32, u32, u32)> {
    let mut parts = version.split('.').map(|part| {
        (!part.is_empty() && part.len() <= 4 && part.chars().all(|c| c.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    });
    let (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (major >= 1).then_some((major, minor, patch))
}

/// Parses `1.N` into N.
pub fn parse_minor(version: &str) -> Option<u32> {
    let minor = version.strip_prefix("1.")?;
    if minor.is_empty()
        || minor.len() > 3
        || !minor.chars().all(|c| c.is_ascii_digit())
        || minor.starts_with('0')
    {
        return None;
    }
    minor.parse().ok()
}

/// Prefix length of each subnet when a /`vpc_prefix` is split into a public and a private subnet
/// per zone.
pub fn subnet_prefix(vpc_prefix: u8, zones: usize) -> u8 {
    let subnets = (zones.max(1) * 2).next_power_of_two();
    vpc_prefix + subnets.trailing_zeros() as u8
}

fn is_private(addr: Ipv4Addr) -> bool {
    addr.is_private() || (addr.octets()[0] == 100 && (64..128).contains(&addr.octets()[1]))
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    (3..=4).contains(&parts.len())
        && parts[0].len() == 2
        && parts
            .iter()
            .take(parts.len() - 1)
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_aws_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    })
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

/// `ami-` and 8 or 17 lowercase hex digits, as EC2 spells image ids.
fn is_ami_id(id: &str) -> bool {
    id.strip_prefix("ami-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// An SSM parameter name: a path (`/a/b`) or a name without one, of letters, digits, `.`,
/// `-` and `_`, at most 2048 characters (SSM's limit for a name with its path).
fn is_ssm_parameter_name(name: &str) -> bool {
    let path = name.strip_prefix('/');
    let segments: Vec<&str> = path.unwrap_or(name).split('/').collect();
    name.len() <= 2048
        && (path.is_some() || segments.len() == 1)
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        })
}

fn is_instance_type(name: &str) -> bool {
    let Some((family, size)) = name.split_once('.') else {
        return false;
    };
    family.starts_with(|c: char| c.is_ascii_lowercase())
        && family
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !size.is_empty()
        && size
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Graviton families carry a `g` right after the generation digit (m7g, c6gn, r8gd, t4g).
pub fn is_arm_instance(name: &str) -> bool {
    let family = name.split('.').next().unwrap_or_default();
    let Some(digit) = family.find(|c: char| c.is_ascii_digit()) else {
        return false;
    };
    family[digit + 1..].starts_with('g')
        && !family.starts_with('g')
        && !family.starts_with("inf")
        && !family.starts_with("trn")
        || family == "a1"
}

/// The oldest VPC CNI that runs an IPv6 cluster (EKS API reference, KubernetesNetworkConfigRequest).
const MIN_IPV6_VPC_CNI: (u32, u32, u32) = (1, 10, 1);

/// Instance families of the Xen hypervisor, not the Nitro System (Amazon EC2 User Guide,
/// "Instances built on the AWS Nitro System": the previous generation); their `.metal` and
/// later siblings (i3en, p3dn) are Nitro, so i3 and p3 are left out rather than guessed.
const XEN_FAMILIES: [&str; 23] = [
    "c1", "c3", "c4", "cc2", "cr1", "d2", "g2", "g3", "g3s", "h1", "hs1", "i2", "m1", "m2", "m3",
    "m4", "p2", "r3", "r4", "t1", "t2", "x1", "x1e",
];

/// `vMAJOR.MINOR.PATCH...` of an add-on version.
fn addon_version(version: &str) -> Option<(u32, u32, u32)> {
    let core = version.strip_prefix('v')?.split('-').next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

fn is_addon_version(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let core = rest.split('-').next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && rest[core.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty() && name.len() <= 253 && name.split('.').all(is_dns_label)
}

fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    prefix.is_none_or(|p| p.len() <= 253 && p.split('.').all(is_dns_label))
        && !name.is_empty()
        && is_label_value(name)
}

/// The parts of an ARN.
struct Arn<'a> {
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn parse_arn(arn: &str) -> Option<Arn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let partition_ok = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"].contains(&partition);
    (prefix == "arn"
        && partition_ok
        && !service.is_empty()
        && resource.len() > 1
        && !resource.contains(char::is_whitespace))
    .then_some(Arn {
        service,
        region,
        account,
        resource,
    })
}

/// Problems of an IAM identity policy document, each with the path of its field.
fn policy_problems(policy: &Value, path: &FieldPath) -> Vec<(FieldPath, String)> {
    let mut problems = Vec::new();
    let Some(document) = policy.as_object() else {
        return vec![(
            path.clone(),
            "inlinePolicy must be an IAM policy document (a mapping with Version and Statement)"
                .to_owned(),
        )];
    };
    for key in document.keys() {
        if !["Version", "Id", "Statement"].contains(&key.as_str()) {
            problems.push((
                path.key(key),
                format!("unknown policy element `{key}`; a policy has Version, Id and Statement"),
            ));
        }
    }
    match document.get("Version").and_then(Value::as_str) {
        Some("2012-10-17" | "2008-10-17") => {}
        _ => problems.push((
            path.key("Version"),
            "policy Version must be \"2012-10-17\"".to_owned(),
        )),
    }
    let statements: Vec<(FieldPath, &Value)> = match document.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, s)| (path.key("Statement").index(i), s))
            .collect(),
        Some(single @ Value::Object(_)) => vec![(path.key("Statement"), single)],
        _ => {
            problems.push((
                path.key("Statement"),
                "policy needs a non-empty Statement list".to_owned(),
            ));
            Vec::new()
        }
    };
    for (statement_path, statement) in statements {
        let Some(statement) = statement.as_object() else {
            problems.push((
                statement_path,
                "each Statement must be a mapping".to_owned(),
            ));
            continue;
        };
        for key in statement.keys() {
            match key.as_str() {
                "Sid" | "Effect" | "Action" | "NotAction" | "Resource" | "NotResource"
                | "Condition" => {}
                "Principal" | "NotPrincipal" => problems.push((
                    statement_path.key(key),
                    format!("`{key}` belongs in resource policies, not in a role's inline policy"),
                )),
                _ => problems.push((
                    statement_path.key(key),
                    format!("unknown statement element `{key}`"),
                )),
            }
        }
        if !matches!(
            statement.get("Effect").and_then(Value::as_str),
            Some("Allow" | "Deny")
        ) {
            problems.push((
                statement_path.key("Effect"),
                "Effect must be Allow or Deny".to_owned(),
            ));
        }
        let action_key = if statement.contains_key("NotAction") {
            "NotAction"
        } else {
            "Action"
        };
        match statement.get(action_key) {
            Some(actions) => {
                let list: Vec<&Value> = match actions {
                    Value::Array(list) => list.iter().collect(),
                    other => vec![other],
                };
                for action in list {
                    let valid = action.as_str().is_some_and(|a| {
                        a == "*"
                            || a.split_once(':').is_some_and(|(svc, op)| {
                                !svc.is_empty()
                                    && !op.is_empty()
                                    && svc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            })
                    });
                    if !valid {
                        problems.push((statement_path.key(action_key), format!("invalid action {action}: expected `service:Action`, such as \"s3:GetObject\"")));
                    }
                }
            }
            None => problems.push((
                statement_path.clone(),
                "statement needs an Action".to_owned(),
            )),
        }
        if !statement.contains_key("Resource") && !statement.contains_key("NotResource") {
            problems.push((
                statement_path.clone(),
                "statement needs a Resource".to_owned(),
            ));
        }
    }
    if serde_json::to_string(policy).map_or(0, |s| s.len()) > 10_240 {
        problems.push((
            path.clone(),
            "the inline policy is larger than IAM's 10,240 character limit".to_owned(),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_sizes() {
        assert_eq!(subnet_prefix(16, 3), 19);
        assert_eq!(subnet_prefix(16, 2), 18);
        assert_eq!(subnet_prefix(24, 3), 27);
        assert_eq!(subnet_prefix(24, 6), 28);
    }

    #[test]
    fn karpenter_versions_are_one_zero_or_newer() {
        assert_eq!(karpenter_version("1.8.1"), Some((1, 8, 1)));
        assert_eq!(karpenter_version("1.0.0"), Some((1, 0, 0)));
        assert_eq!(karpenter_version("2.10.3"), Some((2, 10, 3)));
        for refused in ["0.37.0", "v1.8.1", "1.8", "1.8.1.2", "1..1", "1.8.x", ""] {
            assert_eq!(karpenter_version(refused), None, "{refused}");
        }
    }

    #[test]
    fn repair_thresholds_while_repair_is_off_are_a_warning() {
        let text = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  nodeGroups:\n    - name: a\n      instanceTypes: [m6i.large]\n      nodeRepairConfig: {enabled: false, maxParallelNodesRepairedCount: 2}\n";
        let report = crate::spec::parse_str("spec.yaml", text);
        let found: Vec<(Severity, String)> = report
            .diagnostics
            .iter()
            .map(|d| (d.severity, d.message.clone()))
            .collect();
        assert_eq!(
            found,
            [(
                Severity::Warning,
                "the repair thresholds have no effect while node auto repair is off".to_owned()
            )]
        );
        let on = text.replace("enabled: false", "enabled: true");
        assert!(
            crate::spec::parse_str("spec.yaml", &on)
                .diagnostics
                .is_empty()
        );
    }

    #[test]
    fn a_version_newer_than_ekspec_knows_is_a_warning_and_an_old_one_an_error() {
        let spec = |version: &str| {
            format!(
                "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {{name: demo, region: us-east-1}}\nspec:\n  kubernetesVersion: \"{version}\"\n"
            )
        };
        let found = |version: &str| -> Vec<(Severity, String)> {
            crate::spec::parse_str("spec.yaml", &spec(version))
                .diagnostics
                .iter()
                .map(|d| (d.severity, d.message.clone()))
                .collect()
        };
        assert!(found(&format!("1.{NEWEST_MINOR}")).is_empty());
        let newer = format!("1.{}", NEWEST_MINOR + 1);
        assert_eq!(
            found(&newer),
            [(
                Severity::Warning,
                format!(
                    "Kubernetes {newer} is newer than the versions this release of ekspec knows (1.{OLDEST_MINOR} to 1.{NEWEST_MINOR}): `plan` asks EKS whether it offers it and refuses it if not"
                )
            )]
        );
        let older = format!("1.{}", OLDEST_MINOR - 1);
        let old = found(&older);
        assert_eq!(old.len(), 1, "{old:?}");
        assert_eq!(old[0].0, Severity::Error);
    }

    #[test]
    fn versions_and_names() {
        assert_eq!(parse_minor("1.31"), Some(31));
        assert_eq!(parse_minor("1.3"), Some(3));
        assert_eq!(parse_minor("1.031"), None);
        assert_eq!(parse_minor("2.1"), None);
        assert!(is_arm_instance("m7g.large"));
        assert!(is_arm_instance("c6gn.xlarge"));
        assert!(!is_arm_instance("m6i.large"));
        assert!(!is_arm_instance("g5.xlarge"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("us-east"));
        assert!(is_qualified_name("node.kubernetes.io/role"));
        assert!(!is_qualified_name("bad key"));
    }

    #[test]
    fn ami_ids_and_ssm_parameter_names() {
        assert!(is_ami_id("ami-0123456789abcdef0"));
        assert!(is_ami_id("ami-12345678"));
        assert!(!is_ami_id("ami-0123456789ABCDEF0"));
        assert!(!is_ami_id("ami-123"));
        assert!(!is_ami_id("0123456789abcdef0"));
        assert!(is_ssm_parameter_name(
            "/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_id"
        ));
        assert!(is_ssm_parameter_name("golden-ami"));
        assert!(!is_ssm_parameter_name("aws/service/eks"));
        assert!(!is_ssm_parameter_name("/aws//service"));
        assert!(!is_ssm_parameter_name("/aws/service/"));
        assert!(!is_ssm_parameter_name("/"));
        assert!(!is_ssm_parameter_name("/a b"));
    }
}
