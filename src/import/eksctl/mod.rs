//! `ekspec import eksctl`: an eksctl `ClusterConfig` (`eksctl.io/v1alpha5`) as an ekspec spec.
//!
//! Pure: text in, spec text and findings out. Where eksctl's defaults differ from ekspec's
//! (VPC CIDR, private endpoint access, node volume size, public node subnets), eksctl's value
//! is written out, so the imported cluster is the cluster the eksctl file described.

pub mod model;
mod origin;
mod self_managed;
mod unsupported;
mod version;
mod well_known;

use std::collections::BTreeMap;

use serde_json::Value;

use self::model::{ClusterConfig, ManagedNodeGroup, Other, Taints};
use super::{Conversion, Finding, FindingKind};
use crate::naming;
use crate::spec::model::{AutoModeNodePool, AutoModeSpec};
use crate::spec::model::{ControlPlaneScalingTier, SupportType};
use crate::spec::source::{self, Node, NodeKind};
use crate::spec::{
    self, AccessEntrySpec, AccessPolicySpec, AccessScope, AddonSpec, AmiType,
    CapacityReservationPreference, CapacityReservationSpec, CapacityType, ClusterFile, ClusterSpec,
    Diagnostic, EndpointSpec, ExistingSubnets, FargateProfileSpec, FargateSelector, FieldPath,
    IdentityMechanism, IpFamily, KarpenterSpec, LogType, Metadata, NamespaceScope, NatGatewayMode,
    NodeGroupSpec, NodeRepairConfig, POD_IDENTITY_AGENT, Position, SecretsEncryption,
    ServiceAccountSpec, Taint, TaintEffect, VpcSpec,
};
use unsupported::Section;

/// The only eksctl API version there is.
pub const API_VERSION: &str = "eksctl.io/v1alpha5";
/// The kind of an eksctl cluster config.
pub const KIND: &str = "ClusterConfig";

/// eksctl's VPC CIDR when `vpc.cidr` is not set.
const EKSCTL_VPC_CIDR: &str = "192.168.0.0/16";
/// eksctl's node root volume size in GiB.
const EKSCTL_VOLUME_SIZE: u32 = 80;
/// eksctl's instance type when a node group names none.
const EKSCTL_INSTANCE_TYPE: &str = "m5.large";

/// Why an eksctl file could not be converted at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{}: {message}", position.line, position.column)]
pub struct ImportError {
    /// Where the problem is in the eksctl file.
    pub position: Position,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl ImportError {
    fn new(position: Position, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
            hint: None,
        }
    }

    fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The error as a diagnostic, to render with the file's source line.
    pub fn diagnostic(&self) -> Diagnostic {
        let diagnostic = Diagnostic::error(self.position, self.message.clone());
        match &self.hint {
            Some(hint) => diagnostic.with_hint(hint.clone()),
            None => diagnostic,
        }
    }
}

/// Converts the eksctl config `source` (read from `file_name`, named in the header comment).
pub fn convert(file_name: &str, source: &str) -> Result<Conversion, ImportError> {
    let start = Position { line: 1, column: 1 };
    if source.len() > spec::MAX_FILE_BYTES {
        return Err(ImportError::new(
            start,
            format!(
                "the file is {} bytes; files are limited to {}",
                source.len(),
                spec::MAX_FILE_BYTES
            ),
        ));
    }
    let tree = match source::parse_tree(source) {
        Ok(Some(tree)) => tree,
        Ok(None) => return Err(ImportError::new(start, "the file is empty")),
        Err(error) => return Err(ImportError::new(error.position, error.message)),
    };
    check_header(&tree)?;
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let value: Value = serde_saphyr::from_str_with_options(source, options).map_err(|error| {
        let position = error.location().map_or(start, |location| Position {
            line: location.line() as usize,
            column: location.column() as usize,
        });
        let text = error.without_snippet().to_string();
        let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
        ImportError::new(position, text)
    })?;
    let config: ClusterConfig = serde_path_to_error::deserialize(value).map_err(|error| {
        let path = field_path(error.path());
        let (position, _) = tree.locate(&path);
        let message = format!("{path}: {}", error.inner());
        let expects_text = message.ends_with("expected a string");
        let error = ImportError::new(position, message);
        if expects_text {
            // `version: 1.30` is the number 1.3 to YAML; eksctl rejects it the same way.
            error.with_hint("quote the value, e.g. \"1.30\"")
        } else {
            error
        }
    })?;
    let mut converter = Converter {
        tree: &tree,
        findings: Vec::new(),
        pod_identity_origin: None,
        recorded: Vec::new(),
        partition: well_known::partition(
            config
                .metadata
                .as_ref()
                .and_then(|m| m.region.as_deref())
                .unwrap_or_default(),
        ),
    };
    converter.config_origins(&config);
    let file = converter.cluster(&config)?;
    let origins = converter.resolve_origins(&file.spec);
    let mut findings = converter.findings;
    findings.sort_by_key(|finding| finding.position);
    let spec_yaml = format!(
        "# Imported from {file_name} by `ekspec import eksctl`.\n\
         # Review the import report (fields not carried over, defaults assumed) before `ekspec plan`.\n{}",
        spec::emit::to_yaml(&file)
    );
    Ok(Conversion {
        spec_yaml,
        cluster: file.metadata.name,
        findings,
        origins,
    })
}

/// Refuses anything but an eksctl `ClusterConfig`, before looking at its fields.
fn check_header(tree: &Node) -> Result<(), ImportError> {
    let hint =
        format!("an eksctl config starts with `apiVersion: {API_VERSION}` and `kind: {KIND}`");
    if !matches!(tree.kind, NodeKind::Mapping(_)) {
        return Err(ImportError::new(
            tree.position,
            format!(
                "not an eksctl ClusterConfig: the document is {}",
                tree.type_name()
            ),
        )
        .with_hint(hint));
    }
    for (field, expected) in [("kind", KIND), ("apiVersion", API_VERSION)] {
        match tree.get(field) {
            None => {
                return Err(ImportError::new(
                    tree.position,
                    format!("not an eksctl ClusterConfig: `{field}` is missing"),
                )
                .with_hint(hint));
            }
            Some(entry) => {
                let text = match &entry.value.kind {
                    NodeKind::Scalar { text, .. } => text.as_str(),
                    _ => "",
                };
                if text != expected {
                    let mut error = ImportError::new(
                        entry.value.position,
                        format!(
                            "not an eksctl ClusterConfig: {field} is `{text}`, expected `{expected}`"
                        ),
                    );
                    error.hint = Some(if text == spec::KIND || text == spec::API_VERSION {
                        "this is already an ekspec spec: check it with `ekspec validate -f`"
                            .to_owned()
                    } else {
                        hint.clone()
                    });
                    return Err(error);
                }
            }
        }
    }
    Ok(())
}

fn field_path(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    path.iter()
        .fold(FieldPath::root(), |path, segment| match segment {
            S::Seq { index } => path.index(*index),
            S::Map { key } => path.key(key.clone()),
            S::Enum { variant } => path.key(variant.clone()),
            S::Unknown => path,
        })
}

/// The CPU and accelerator a node group's instance types share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hardware {
    X86,
    Arm,
    NvidiaX86,
    NvidiaArm,
    Neuron,
}

impl Hardware {
    fn of(instance_type: &str) -> Self {
        let family = instance_type.split('.').next().unwrap_or_default();
        let gpu = (family.starts_with('p') || family.starts_with('g'))
            && family[1..].starts_with(|c: char| c.is_ascii_digit());
        if family.starts_with("inf") || family.starts_with("trn") {
            Self::Neuron
        } else if gpu && family.ends_with('g') {
            Self::NvidiaArm
        } else if gpu {
            Self::NvidiaX86
        } else if spec::validate::is_arm_instance(instance_type) {
            Self::Arm
        } else {
            Self::X86
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::X86 => "x86-64",
            Self::Arm => "Arm",
            Self::NvidiaX86 => "NVIDIA GPU (x86-64)",
            Self::NvidiaArm => "NVIDIA GPU (Arm)",
            Self::Neuron => "Inferentia/Trainium",
        }
    }
}

/// The EKS AMI type for an eksctl AMI family on this hardware, if EKS has one.
fn ami_type(family: &str, hardware: Hardware) -> Option<AmiType> {
    use AmiType as A;
    use Hardware as H;
    Some(match (family, hardware) {
        ("AmazonLinux2023", H::X86) => A::AL2023_x86_64_STANDARD,
        ("AmazonLinux2023", H::Arm) => A::AL2023_ARM_64_STANDARD,
        ("AmazonLinux2023", H::NvidiaX86) => A::AL2023_x86_64_NVIDIA,
        ("AmazonLinux2023", H::Neuron) => A::AL2023_x86_64_NEURON,
        ("AmazonLinux2", H::X86) => A::AL2_x86_64,
        ("AmazonLinux2", H::Arm) => A::AL2_ARM_64,
        ("AmazonLinux2", H::NvidiaX86 | H::Neuron) => A::AL2_x86_64_GPU,
        ("Bottlerocket", H::X86) => A::BOTTLEROCKET_x86_64,
        ("Bottlerocket", H::Arm) => A::BOTTLEROCKET_ARM_64,
        ("Bottlerocket", H::NvidiaX86) => A::BOTTLEROCKET_x86_64_NVIDIA,
        ("Bottlerocket", H::NvidiaArm) => A::BOTTLEROCKET_ARM_64_NVIDIA,
        _ => return None,
    })
}

/// Add-ons whose IRSA role eksctl binds to a known service account: name, namespace.
fn addon_service_account(addon: &str) -> Option<(&'static str, &'static str)> {
    Some(match addon {
        "vpc-cni" => ("aws-node", "kube-system"),
        "aws-ebs-csi-driver" => ("ebs-csi-controller-sa", "kube-system"),
        "aws-efs-csi-driver" => ("efs-csi-controller-sa", "kube-system"),
        "aws-mountpoint-s3-csi-driver" => ("s3-csi-driver-sa", "kube-system"),
        "amazon-cloudwatch-observability" => ("cloudwatch-agent", "amazon-cloudwatch"),
        _ => return None,
    })
}

/// Why the Pod Identity associations eksctl looks up for add-ons are not carried over.
const RECOMMENDED_POLICIES: &str = "eksctl asks EKS (DescribeAddonConfiguration) for the recommended Pod Identity policies when it creates the add-on; ekspec needs them written out: add podIdentityAssociations with permissionPolicyARNs to the add-on (`aws eks describe-addon-configuration --addon-name NAME --addon-version VERSION` lists them under podIdentityConfiguration)";

/// Whether a value turns a feature off (or says nothing): `false`, `null`, empty, or only such.
fn is_off(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.values().all(is_off),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

struct Converter<'t> {
    tree: &'t Node,
    findings: Vec<Finding>,
    /// The field the first `podIdentity` service account came from.
    pod_identity_origin: Option<FieldPath>,
    /// Which eksctl field each spec field came from (see `origin`).
    recorded: Vec<origin::Recorded>,
    /// The partition of the cluster's region, for the ARNs the importer writes.
    partition: &'static str,
}

impl Converter<'_> {
    fn position(&self, path: &FieldPath) -> Position {
        match path.split_last() {
            Some((_, Some(spec::Segment::Key(_)))) => self.tree.locate_key(path),
            _ => self.tree.locate(path).0,
        }
    }

    fn find(&mut self, kind: FindingKind, path: &FieldPath, message: impl Into<String>) {
        self.findings.push(Finding {
            kind,
            path: path.clone(),
            position: self.position(path),
            message: message.into(),
        });
    }

    fn lost(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.find(FindingKind::NotCarriedOver, path, message);
    }

    fn assumed(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.find(FindingKind::Assumed, path, message);
    }

    /// A field ekspec needs and eksctl requires too.
    fn required<T: Clone>(&self, value: &Option<T>, path: &FieldPath) -> Result<T, ImportError> {
        value.clone().ok_or_else(|| {
            ImportError::new(
                self.position(path),
                format!("{path} is required (eksctl requires it too)"),
            )
        })
    }

    /// Reports every field a struct did not model.
    fn others(&mut self, path: &FieldPath, other: &Other, section: Section) {
        for (key, value) in other {
            let field = path.key(key.clone());
            match unsupported::reason(section, key) {
                Some(reason) if unsupported::harmless(section, key) => {
                    self.assumed(&field, format!("ignored: {reason}"));
                }
                Some(reason) if is_off(value) => self.assumed(
                    &field,
                    format!("ignored: it is off or empty, and ekspec has no such setting ({reason})"),
                ),
                Some(reason) => self.lost(&field, reason),
                None => self.lost(
                    &field,
                    "not a field of eksctl.io/v1alpha5 that ekspec knows (a typo, or newer than this importer)",
                ),
            }
        }
    }

    fn cluster(&mut self, config: &ClusterConfig) -> Result<ClusterFile, ImportError> {
        let root = FieldPath::root();
        let meta_path = root.key("metadata");
        let meta = self.required(&config.metadata, &meta_path)?;
        let name = self.required(&meta.name, &meta_path.key("name"))?;
        let region = self.required(&meta.region, &meta_path.key("region"))?;
        let version = match &meta.version {
            Some(version) => {
                self.supported_version(version, &meta_path.key("version"))?;
                version.clone()
            }
            // Chosen by `default_version` once the node groups' AMIs are known.
            None => String::new(),
        };
        self.others(&meta_path, &meta.other, Section::Metadata);
        self.others(&root, &config.other, Section::Top);
        let mut spec = ClusterSpec {
            kubernetes_version: version,
            vpc: VpcSpec::default(),
            endpoint: EndpointSpec::default(),
            logging: Vec::new(),
            secrets_encryption: None,
            node_groups: Vec::new(),
            fargate_profiles: Vec::new(),
            service_accounts: Vec::new(),
            addons: Vec::new(),
            access_entries: Vec::new(),
            karpenter: None,
            auto_mode: None,
            upgrade_policy: Default::default(),
            deletion_protection: false,
            zonal_shift: false,
            control_plane_scaling_tier: Default::default(),
            ip_family: IpFamily::default(),
        };
        self.kubernetes_network(config, &mut spec);
        self.network(config, &region, &mut spec);
        self.node_groups(config, &mut spec)?;
        if meta.version.is_none() {
            self.default_version(&mut spec);
        }
        self.logging(config, &mut spec);
        if let Some(encryption) = &config.secrets_encryption {
            let path = root.key("secretsEncryption");
            spec.secrets_encryption = Some(SecretsEncryption {
                key_arn: self.required(&encryption.key_arn, &path.key("keyARN"))?,
            });
            self.others(&path, &encryption.other, Section::SecretsEncryption);
        }
        self.cluster_settings(config, &mut spec);
        self.fargate_profiles(config, &mut spec)?;
        self.service_accounts(config, &mut spec)?;
        self.addons(config, &mut spec)?;
        self.access(config, &mut spec)?;
        let mut tags = meta.tags.clone().unwrap_or_default();
        self.karpenter(config, &name, &mut spec, &mut tags)?;
        self.auto_mode(config, &name, &mut spec);
        self.pod_identity_agent(&mut spec);
        self.oidc(config, &spec);
        Ok(ClusterFile {
            api_version: spec::API_VERSION.to_owned(),
            kind: spec::KIND.to_owned(),
            metadata: Metadata { name, region, tags },
            spec,
        })
    }

    /// `kubernetesNetworkConfig`: the IP family carries over; the service CIDR does not.
    fn kubernetes_network(&mut self, config: &ClusterConfig, spec: &mut ClusterSpec) {
        let Some(network) = &config.kubernetes_network_config else {
            return;
        };
        let path = FieldPath::root().key("kubernetesNetworkConfig");
        if let Some(family) = &network.ip_family {
            match family.to_ascii_lowercase().as_str() {
                "ipv4" => {}
                "ipv6" => spec.ip_family = IpFamily::Ipv6,
                _ => self.lost(
                    &path.key("ipFamily"),
                    format!("unknown IP family `{family}`: eksctl takes IPv4 or IPv6"),
                ),
            }
        }
        let mut other = network.other.clone();
        if let Some(cidr) = &network.service_ipv4_cidr {
            other.insert("serviceIPv4CIDR".to_owned(), Value::String(cidr.clone()));
        }
        self.others(&path, &other, Section::KubernetesNetworkConfig);
    }

    fn network(&mut self, config: &ClusterConfig, region: &str, spec: &mut ClusterSpec) {
        let path = FieldPath::root().key("vpc");
        let vpc = config.vpc.clone().unwrap_or_default();
        let subnets = vpc.subnets.clone().unwrap_or_default();
        let private = subnets.private.clone().unwrap_or_default();
        let public = subnets.public.clone().unwrap_or_default();
        let subnets_path = path.key("subnets");
        let any_subnet_id = private
            .values()
            .chain(public.values())
            .any(|s| s.id.is_some());
        let zones_path = FieldPath::root().key("availabilityZones");

        if vpc.id.is_some() || any_subnet_id {
            spec.vpc.id = vpc.id.clone();
            if vpc.id.is_none() {
                self.lost(&path, "`vpc.id` is not set: eksctl finds the VPC from its subnets, ekspec needs its id: add `vpc.id` to the eksctl file");
            }
            let mut described = false;
            let mut ids = |side: &str, map: &BTreeMap<String, model::Subnet>, this: &mut Self| {
                let mut out = Vec::new();
                for (key, subnet) in map {
                    let subnet_path = subnets_path.key(side).key(key.clone());
                    match &subnet.id {
                        Some(id) => out.push(id.clone()),
                        None => this.lost(&subnet_path, "no `id`: ekspec uses existing subnets by id only, it does not create subnets in a VPC it does not own"),
                    }
                    described |= subnet.cidr.is_some() || subnet.az.is_some();
                    this.others(&subnet_path, &subnet.other, Section::Subnet);
                }
                out
            };
            let private_ids = ids("private", &private, self);
            let public_ids = ids("public", &public, self);
            spec.vpc.subnets = Some(ExistingSubnets {
                private: private_ids,
                public: public_ids,
            });
            if described {
                self.assumed(&subnets_path, "the `cidr` and `az` of existing subnets only describe them; ekspec reads them from AWS by `id`");
            }
            if vpc.cidr.is_some() {
                self.assumed(
                    &path.key("cidr"),
                    "describes the existing VPC; ekspec reads its CIDR from AWS",
                );
            }
            if vpc.nat.is_some() {
                self.lost(&path.key("nat"), "ekspec never adds NAT gateways to a VPC it did not create; the existing VPC's routing stays as it is");
            }
            if config.availability_zones.is_some() {
                self.assumed(
                    &zones_path,
                    "with an existing VPC the zones are those of the listed subnets",
                );
            }
        } else {
            match &vpc.cidr {
                Some(cidr) => spec.vpc.cidr = Some(cidr.clone()),
                None => {
                    spec.vpc.cidr = Some(EKSCTL_VPC_CIDR.to_owned());
                    self.assumed(&path.key("cidr"), format!("not set: eksctl's default {EKSCTL_VPC_CIDR} is written out (ekspec's own default is {})", spec::DEFAULT_VPC_CIDR));
                }
            }
            spec.vpc.availability_zones = config.availability_zones.clone();
            if !private.is_empty() || !public.is_empty() {
                self.lost(&subnets_path, "ekspec carves one private and one public subnet per zone out of `vpc.cidr` itself; subnet CIDRs cannot be chosen");
                if spec.vpc.availability_zones.is_none() {
                    let mut zones: Vec<String> = private
                        .iter()
                        .chain(&public)
                        .map(|(key, subnet)| subnet.az.clone().unwrap_or_else(|| key.clone()))
                        .filter(|zone| zone.starts_with(region))
                        .collect();
                    zones.sort();
                    zones.dedup();
                    if zones.len() >= 2 {
                        self.assumed(
                            &subnets_path,
                            format!(
                                "availability zones taken from the subnets: {}",
                                zones.join(", ")
                            ),
                        );
                        spec.vpc.availability_zones = Some(zones);
                    }
                }
            }
            if let Some(nat) = &vpc.nat {
                let nat_path = path.key("nat");
                match nat.gateway.as_deref() {
                    None => {}
                    Some("Single") => spec.vpc.nat_gateway = Some(NatGatewayMode::Single),
                    Some("HighlyAvailable") => spec.vpc.nat_gateway = Some(NatGatewayMode::PerZone),
                    Some("Disable") => spec.vpc.nat_gateway = Some(NatGatewayMode::None),
                    Some(other) => self.lost(&nat_path.key("gateway"), format!("unknown NAT mode `{other}` (eksctl has Single, HighlyAvailable and Disable); ekspec's default `single` applies")),
                }
                self.others(&nat_path, &nat.other, Section::Nat);
            }
        }

        let endpoints = vpc.cluster_endpoints.clone().unwrap_or_default();
        let endpoints_path = path.key("clusterEndpoints");
        spec.endpoint.public_access = endpoints.public_access.unwrap_or(true);
        match endpoints.private_access {
            Some(private) => spec.endpoint.private_access = private,
            None => {
                spec.endpoint.private_access = false;
                self.assumed(&endpoints_path.key("privateAccess"), "not set: eksctl's default `false` is written out (ekspec's own default is true: nodes reach the API server inside the VPC)");
            }
        }
        self.others(&endpoints_path, &endpoints.other, Section::Endpoints);
        if let Some(cidrs) = &vpc.public_access_cidrs {
            spec.endpoint.public_access_cidrs = cidrs.clone();
        }
        self.others(&subnets_path, &subnets.other, Section::Subnets);
        self.others(&path, &vpc.other, Section::Vpc);
    }

    fn node_groups(
        &mut self,
        config: &ClusterConfig,
        spec: &mut ClusterSpec,
    ) -> Result<(), ImportError> {
        let root = FieldPath::root();
        let path = root.key("managedNodeGroups");
        for (i, group) in config.managed_node_groups.iter().flatten().enumerate() {
            let converted = self.node_group(group, &path.index(i))?;
            spec.node_groups.push(converted);
        }
        let self_managed = config.node_groups.clone().unwrap_or_default();
        self.self_managed_node_groups(&self_managed, spec)
    }

    fn node_group(
        &mut self,
        group: &ManagedNodeGroup,
        path: &FieldPath,
    ) -> Result<NodeGroupSpec, ImportError> {
        let name = self.required(&group.name, &path.key("name"))?;
        let instance_types = match (&group.instance_type, &group.instance_types) {
            (_, Some(types)) if !types.is_empty() => {
                if group.instance_type.is_some() {
                    self.lost(&path.key("instanceType"), "eksctl rejects `instanceType` next to `instanceTypes`; `instanceTypes` is used");
                }
                types.clone()
            }
            (Some(one), _) => vec![one.clone()],
            _ => {
                self.assumed(
                    &path.key("instanceType"),
                    format!("not set: eksctl's default {EKSCTL_INSTANCE_TYPE} is written out"),
                );
                vec![EKSCTL_INSTANCE_TYPE.to_owned()]
            }
        };
        let ami_type = self.ami(group, &instance_types, path);
        let mut converted = NodeGroupSpec {
            name,
            instance_types,
            capacity_type: if group.spot == Some(true) {
                CapacityType::Spot
            } else {
                CapacityType::OnDemand
            },
            ami_type,
            min_size: group.min_size,
            max_size: group.max_size,
            desired_size: group.desired_capacity,
            disk_size_gib: group.volume_size.unwrap_or(EKSCTL_VOLUME_SIZE),
            private_networking: group.private_networking.unwrap_or(false),
            labels: group.labels.clone().unwrap_or_default(),
            taints: Vec::new(),
            max_unavailable: None,
            max_unavailable_percentage: None,
            pod_imds_access: false,
            tags: group.tags.clone().unwrap_or_default(),
            ami_id: None,
            ami_parameter: None,
            pre_bootstrap_commands: Vec::new(),
            node_repair_config: None,
            update_strategy: None,
            capacity_reservation: None,
            availability_zones: Vec::new(),
        };
        let sizes = [group.min_size, group.max_size, group.desired_capacity];
        if sizes.iter().any(Option::is_some) && sizes.iter().any(Option::is_none) {
            let scaling = converted.scaling();
            self.assumed(
                path,
                format!(
                    "not every size is set: ekspec derives minSize {}, maxSize {}, desiredSize {} (eksctl's derivation may differ; write all three to be sure)",
                    scaling.min, scaling.max, scaling.desired
                ),
            );
        }
        if group.volume_size.is_none() {
            self.assumed(&path.key("volumeSize"), format!("not set: eksctl's default of {EKSCTL_VOLUME_SIZE} GiB is written out as diskSizeGiB (ekspec's own default is 20)"));
        }
        match group.volume_type.as_deref() {
            None | Some("gp3") => {}
            Some(other) => self.lost(
                &path.key("volumeType"),
                format!("ekspec's root volumes are encrypted gp3, not {other}"),
            ),
        }
        if group.private_networking.is_none() {
            self.assumed(&path.key("privateNetworking"), "not set: eksctl's default `false` (nodes in public subnets) is written out; ekspec's own default is true");
        }
        if let Some(taints) = &group.taints {
            converted.taints = self.taints(taints, &path.key("taints"));
        }
        if let Some(update) = &group.update_config {
            converted.max_unavailable = update.max_unavailable;
            converted.max_unavailable_percentage = update.max_unavailable_percentage;
            self.others(
                &path.key("updateConfig"),
                &update.other,
                Section::UpdateConfig,
            );
        }
        if let Some(repair) = &group.node_repair_config {
            converted.node_repair_config = self.node_repair(repair, &path.key("nodeRepairConfig"));
        }
        if let Some(reservation) = &group.capacity_reservation {
            converted.capacity_reservation =
                self.capacity_reservation(reservation, &path.key("capacityReservation"));
        }
        converted.availability_zones = group.availability_zones.clone().unwrap_or_default();
        if let Some(market) = &group.instance_market_options {
            let market_path = path.key("instanceMarketOptions");
            self.others(&market_path, &market.other, Section::InstanceMarketOptions);
            match market.market_type.as_deref() {
                // eksctl's Capacity Blocks for ML (eksctl-io/eksctl#8207): the market type
                // beside a reservation target and the block's zone.
                Some("capacity-block") => converted.capacity_type = CapacityType::CapacityBlock,
                other => self.lost(
                    &market_path.key("marketType"),
                    format!(
                        "{}: EKS takes only a Capacity Block's market type (`capacity-block`) in a managed node group's launch template (use spot: true for spot)",
                        other.map_or("not set".to_owned(), |o| format!("`{o}`"))
                    ),
                ),
            }
        }
        if group.disable_imdsv1 != Some(true) {
            self.assumed(&path.key("disableIMDSv1"), "ekspec always requires IMDSv2 on nodes (IMDSv1 off), as `disableIMDSv1: true` does");
        }
        if group.disable_pod_imds != Some(true) {
            self.assumed(&path.key("disablePodIMDS"), "eksctl lets pods reach the instance metadata service; ekspec does not (podImdsAccess: false): set `podImdsAccess: true` if pods rely on the node's IAM role");
        }
        self.custom_ami(group, &mut converted, path);
        self.others(path, &group.other, Section::ManagedNodeGroup);
        Ok(converted)
    }

    /// `ami` and `preBootstrapCommands`: a custom AMI of an AL2023 or Bottlerocket family, for
    /// which ekspec writes the bootstrap as eksctl does.
    fn custom_ami(
        &mut self,
        group: &ManagedNodeGroup,
        converted: &mut NodeGroupSpec,
        path: &FieldPath,
    ) {
        match group.ami.as_deref() {
            None => {}
            Some("auto-ssm" | "auto" | "static") => self.assumed(
                &path.key("ami"),
                "EKS's own AMI of amiType, which ekspec uses when no amiId is set",
            ),
            Some(ami)
                if ami.starts_with("ami-")
                    && (converted.ami_type.is_al2023() || converted.ami_type.is_bottlerocket()) =>
            {
                converted.ami_id = Some(ami.to_owned());
            }
            Some(ami) if ami.starts_with("ami-") => self.lost(
                &path.key("ami"),
                format!(
                    "ekspec writes a custom AMI's bootstrap only for AL2023 and Bottlerocket, not {}: the node group uses EKS's AMI",
                    converted.ami_type.eks_name()
                ),
            ),
            Some(other) => self.lost(
                &path.key("ami"),
                format!("`{other}` is not an AMI id: the node group uses EKS's AMI of amiType"),
            ),
        }
        let Some(commands) = &group.pre_bootstrap_commands else {
            return;
        };
        if converted.ami_type.is_bottlerocket() {
            self.lost(
                &path.key("preBootstrapCommands"),
                "Bottlerocket has no shell to run them",
            );
        } else {
            converted.pre_bootstrap_commands = commands.clone();
        }
    }

    fn node_repair(
        &mut self,
        repair: &model::NodeRepairConfig,
        path: &FieldPath,
    ) -> Option<NodeRepairConfig> {
        self.others(path, &repair.other, Section::NodeRepairConfig);
        let enabled = match repair.enabled {
            Some(enabled) => enabled,
            None => {
                self.assumed(
                    &path.key("enabled"),
                    "not set: written as `enabled: false`, EKS's default (node auto repair off)",
                );
                false
            }
        };
        Some(NodeRepairConfig {
            enabled,
            max_unhealthy_node_threshold_count: repair.max_unhealthy_node_threshold_count,
            max_unhealthy_node_threshold_percentage: repair.max_unhealthy_node_threshold_percentage,
            max_parallel_nodes_repaired_count: repair.max_parallel_nodes_repaired_count,
            max_parallel_nodes_repaired_percentage: repair.max_parallel_nodes_repaired_percentage,
        })
    }

    fn capacity_reservation(
        &mut self,
        reservation: &model::CapacityReservation,
        path: &FieldPath,
    ) -> Option<CapacityReservationSpec> {
        self.others(path, &reservation.other, Section::CapacityReservation);
        let preference_path = path.key("capacityReservationPreference");
        let preference = match reservation.capacity_reservation_preference.as_deref() {
            None => None,
            Some("open") => Some(CapacityReservationPreference::Open),
            Some("none") => Some(CapacityReservationPreference::None),
            Some("capacity-reservations-only") => {
                Some(CapacityReservationPreference::CapacityReservationsOnly)
            }
            Some(other) => {
                self.lost(
                    &preference_path,
                    format!("`{other}` is not an EC2 Capacity Reservation preference (open, none, capacity-reservations-only)"),
                );
                None
            }
        };
        let target = reservation.capacity_reservation_target.as_ref();
        if let Some(target) = target {
            self.others(
                &path.key("capacityReservationTarget"),
                &target.other,
                Section::CapacityReservationTarget,
            );
        }
        let converted = CapacityReservationSpec {
            preference,
            id: target.and_then(|t| t.capacity_reservation_id.clone()),
            resource_group_arn: target
                .and_then(|t| t.capacity_reservation_resource_group_arn.clone()),
        };
        (converted.preference.is_some()
            || converted.id.is_some()
            || converted.resource_group_arn.is_some())
        .then_some(converted)
    }

    fn ami(&mut self, group: &ManagedNodeGroup, types: &[String], path: &FieldPath) -> AmiType {
        let family_path = path.key("amiFamily");
        let family = match &group.ami_family {
            Some(family) => family.clone(),
            None => {
                self.assumed(&family_path, "not set: AmazonLinux2023, the default of current eksctl releases (older ones defaulted to AmazonLinux2)");
                "AmazonLinux2023".to_owned()
            }
        };
        let mut hardware: Vec<Hardware> = types.iter().map(|t| Hardware::of(t)).collect();
        hardware.sort();
        hardware.dedup();
        let [hardware] = hardware[..] else {
            let names: Vec<&str> = hardware.iter().map(|h| h.name()).collect();
            self.lost(&family_path, format!("the instance types mix {}: no single AMI type fits; ekspec's default AL2023_x86_64_STANDARD is written, split the node group", names.join(" and ")));
            return AmiType::default();
        };
        match ami_type(&family, hardware) {
            Some(ami) => ami,
            None => {
                let fallback = ami_type("AmazonLinux2023", hardware).unwrap_or_default();
                self.lost(&family_path, format!("EKS managed node groups in ekspec support AmazonLinux2023, AmazonLinux2 and Bottlerocket, not {family} on {} instances: {} is written instead", hardware.name(), fallback.eks_name()));
                fallback
            }
        }
    }

    fn taints(&mut self, taints: &Taints, path: &FieldPath) -> Vec<Taint> {
        let mut out = Vec::new();
        match taints {
            Taints::List(entries) => {
                for (i, entry) in entries.iter().enumerate() {
                    let taint_path = path.index(i);
                    self.others(&taint_path, &entry.other, Section::Taint);
                    let Some(key) = &entry.key else {
                        self.lost(&taint_path, "a taint without `key` (eksctl rejects it too)");
                        continue;
                    };
                    let Some(effect) =
                        self.taint_effect(entry.effect.as_deref(), &taint_path.key("effect"))
                    else {
                        continue;
                    };
                    out.push(Taint {
                        key: key.clone(),
                        value: entry.value.clone().filter(|v| !v.is_empty()),
                        effect,
                    });
                }
            }
            Taints::Map(map) => {
                self.assumed(
                    path,
                    "the older `key: value:Effect` map form is written as a list",
                );
                for (key, text) in map {
                    let (value, effect) = match text.rsplit_once(':') {
                        Some((value, effect)) => (value, Some(effect)),
                        None => (text.as_str(), None),
                    };
                    let Some(effect) = self.taint_effect(effect, &path.key(key.clone())) else {
                        continue;
                    };
                    out.push(Taint {
                        key: key.clone(),
                        value: Some(value.to_owned()).filter(|v| !v.is_empty()),
                        effect,
                    });
                }
            }
        }
        out
    }

    fn taint_effect(&mut self, effect: Option<&str>, path: &FieldPath) -> Option<TaintEffect> {
        match effect {
            Some("NoSchedule" | "NO_SCHEDULE") => Some(TaintEffect::NoSchedule),
            Some("PreferNoSchedule" | "PREFER_NO_SCHEDULE") => Some(TaintEffect::PreferNoSchedule),
            Some("NoExecute" | "NO_EXECUTE") => Some(TaintEffect::NoExecute),
            Some(other) => {
                self.lost(path, format!("unknown taint effect `{other}` (NoSchedule, PreferNoSchedule or NoExecute); the taint is not carried over"));
                None
            }
            None => {
                self.lost(path, "a taint without an effect (eksctl rejects it too); the taint is not carried over");
                None
            }
        }
    }

    fn logging(&mut self, config: &ClusterConfig, spec: &mut ClusterSpec) {
        let Some(cloud_watch) = &config.cloud_watch else {
            return;
        };
        let path = FieldPath::root().key("cloudWatch");
        self.others(&path, &cloud_watch.other, Section::CloudWatch);
        let Some(logging) = &cloud_watch.cluster_logging else {
            return;
        };
        let logging_path = path.key("clusterLogging");
        self.others(&logging_path, &logging.other, Section::ClusterLogging);
        let types = logging.enable_types.clone().unwrap_or_default();
        if matches!(types.as_slice(), [all] if all == "*" || all == "all") {
            spec.logging = LogType::ALL.to_vec();
            return;
        }
        for (i, name) in types.iter().enumerate() {
            match LogType::ALL.iter().find(|t| t.eks_name() == name) {
                Some(log_type) if !spec.logging.contains(log_type) => spec.logging.push(*log_type),
                Some(_) => {}
                None => self.lost(
                    &logging_path.key("enableTypes").index(i),
                    format!("unknown log type `{name}` (api, audit, authenticator, controllerManager, scheduler, or \"*\")"),
                ),
            }
        }
    }

    /// `upgradePolicy`, `zonalShiftConfig` and `controlPlaneScalingConfig`. eksctl has no
    /// deletion protection.
    fn cluster_settings(&mut self, config: &ClusterConfig, spec: &mut ClusterSpec) {
        let root = FieldPath::root();
        let path = root.key("upgradePolicy");
        let policy = config.upgrade_policy.clone().unwrap_or_default();
        self.others(&path, &policy.other, Section::UpgradePolicy);
        match policy.support_type.as_deref() {
            Some("STANDARD") => spec.upgrade_policy.support_type = SupportType::Standard,
            Some("EXTENDED") => spec.upgrade_policy.support_type = SupportType::Extended,
            Some(other) => self.lost(
                &path.key("supportType"),
                format!("unknown support type `{other}` (STANDARD or EXTENDED)"),
            ),
            // eksctl's DefaultSupportType is EXTENDED: the cluster it made is billed for
            // extended support once its version leaves standard support.
            None => {
                spec.upgrade_policy.support_type = SupportType::Extended;
                self.assumed(&path.key("supportType"), "not set: eksctl's default EXTENDED is written out (the cluster enters extended support, billed per cluster hour, when its version leaves standard support); ekspec's own default is STANDARD");
            }
        }
        if let Some(zonal) = &config.zonal_shift_config {
            let path = root.key("zonalShiftConfig");
            self.others(&path, &zonal.other, Section::ZonalShiftConfig);
            spec.zonal_shift = zonal.enabled.unwrap_or(false);
        }
        if let Some(scaling) = &config.control_plane_scaling_config {
            let path = root.key("controlPlaneScalingConfig");
            self.others(&path, &scaling.other, Section::ControlPlaneScalingConfig);
            if let Some(tier) = &scaling.tier {
                let known = [
                    ControlPlaneScalingTier::Standard,
                    ControlPlaneScalingTier::TierXl,
                    ControlPlaneScalingTier::Tier2xl,
                    ControlPlaneScalingTier::Tier4xl,
                    ControlPlaneScalingTier::Tier8xl,
                ];
                match known.iter().find(|t| t.eks_name() == tier) {
                    Some(found) => spec.control_plane_scaling_tier = *found,
                    None => self.lost(
                        &path.key("tier"),
                        format!("unknown tier `{tier}` (standard, tier-xl, tier-2xl, tier-4xl or tier-8xl)"),
                    ),
                }
            }
        }
    }

    fn fargate_profiles(
        &mut self,
        config: &ClusterConfig,
        spec: &mut ClusterSpec,
    ) -> Result<(), ImportError> {
        let path = FieldPath::root().key("fargateProfiles");
        for (i, profile) in config.fargate_profiles.iter().flatten().enumerate() {
            let profile_path = path.index(i);
            let name = self.required(&profile.name, &profile_path.key("name"))?;
            let mut selectors = Vec::new();
            for (j, selector) in profile.selectors.iter().flatten().enumerate() {
                let selector_path = profile_path.key("selectors").index(j);
                selectors.push(FargateSelector {
                    namespace: self
                        .required(&selector.namespace, &selector_path.key("namespace"))?,
                    labels: selector.labels.clone().unwrap_or_default(),
                });
                self.others(&selector_path, &selector.other, Section::FargateSelector);
            }
            self.others(&profile_path, &profile.other, Section::FargateProfile);
            spec.fargate_profiles.push(FargateProfileSpec {
                name,
                selectors,
                tags: profile.tags.clone().unwrap_or_default(),
            });
        }
        Ok(())
    }

    fn service_accounts(
        &mut self,
        config: &ClusterConfig,
        spec: &mut ClusterSpec,
    ) -> Result<(), ImportError> {
        let Some(iam) = &config.iam else {
            return Ok(());
        };
        let path = FieldPath::root().key("iam");
        self.others(&path, &iam.other, Section::Iam);
        let accounts = iam.service_accounts.clone().unwrap_or_default();
        let accounts_path = path.key("serviceAccounts");
        let mut creates_service_accounts = false;
        for (i, account) in accounts.iter().enumerate() {
            let account_path = accounts_path.index(i);
            let meta_path = account_path.key("metadata");
            let meta = self.required(&account.metadata, &meta_path)?;
            let name = self.required(&meta.name, &meta_path.key("name"))?;
            let namespace = match &meta.namespace {
                Some(namespace) => namespace.clone(),
                None => {
                    self.assumed(
                        &meta_path.key("namespace"),
                        "not set: eksctl's default namespace `default` is written out",
                    );
                    "default".to_owned()
                }
            };
            self.others(&meta_path, &meta.other, Section::ServiceAccountMeta);
            let role_only = account.other.get("roleOnly") == Some(&Value::Bool(true));
            creates_service_accounts |= !role_only;
            self.others(&account_path, &account.other, Section::ServiceAccount);
            spec.service_accounts.push(ServiceAccountSpec {
                name,
                namespace,
                mechanism: IdentityMechanism::Irsa,
                policy_arns: account.attach_policy_arns.clone().unwrap_or_default(),
                inline_policy: account.attach_policy.clone(),
                role_name: account.role_name.clone(),
            });
            if let Some(converted) = spec.service_accounts.last_mut() {
                self.well_known_policies(
                    account.well_known_policies.as_ref(),
                    &account_path.key("wellKnownPolicies"),
                    converted,
                );
            }
        }
        if creates_service_accounts {
            self.assumed(&accounts_path, "eksctl also creates the Kubernetes service accounts, annotated with their role; ekspec creates only the IAM roles: annotate the service accounts (`eks.amazonaws.com/role-arn`) where you deploy them");
        }
        let associations_path = path.key("podIdentityAssociations");
        for (i, association) in iam.pod_identity_associations.iter().flatten().enumerate() {
            let association_path = associations_path.index(i);
            if let Some(account) =
                self.pod_identity_account(association, &association_path, None, spec)?
            {
                self.add_account(spec, account, &association_path);
            }
        }
        Ok(())
    }

    /// What `iam.withOIDC` did in eksctl, said once every service account is converted.
    fn oidc(&mut self, config: &ClusterConfig, spec: &ClusterSpec) {
        if config.iam.as_ref().and_then(|iam| iam.with_oidc) != Some(true) {
            return;
        }
        let path = FieldPath::root().key("iam").key("withOIDC");
        let irsa = spec
            .service_accounts
            .iter()
            .filter(|a| a.mechanism == IdentityMechanism::Irsa)
            .count();
        let message = if irsa > 0 {
            "ekspec creates the cluster's OIDC provider for spec.serviceAccounts by itself"
        } else if spec.service_accounts.is_empty() && spec.karpenter.is_none() {
            "ekspec creates the cluster's OIDC provider only for spec.serviceAccounts, and there are none"
        } else {
            "ekspec creates the cluster's OIDC provider only for IRSA service accounts, and there are none: Pod Identity needs no OIDC provider"
        };
        self.assumed(&path, message);
        let has_vpc_cni = config
            .addons
            .iter()
            .flatten()
            .any(|a| a.name.as_deref() == Some("vpc-cni"));
        if !has_vpc_cni {
            self.assumed(&path, "eksctl would also give kube-system/aws-node an IRSA role with AmazonEKS_CNI_Policy; ekspec leaves that policy on the node role");
        }
    }

    /// The Fargate profile that runs every pod of `namespace`, if one does.
    fn fargate_profile_of<'s>(spec: &'s ClusterSpec, namespace: &str) -> Option<&'s str> {
        spec.fargate_profiles
            .iter()
            .find(|profile| {
                profile
                    .selectors
                    .iter()
                    .any(|s| s.namespace == namespace && s.labels.is_empty())
            })
            .map(|profile| profile.name.as_str())
    }

    /// A Pod Identity association (of `iam` or of an add-on, whose namespace is
    /// `addon_namespace`) as a `podIdentity` service account; `None` when it binds an existing
    /// role, which ekspec cannot use.
    fn pod_identity_account(
        &mut self,
        association: &model::PodIdentityAssociation,
        path: &FieldPath,
        addon_namespace: Option<&str>,
        spec: &ClusterSpec,
    ) -> Result<Option<ServiceAccountSpec>, ImportError> {
        let name = self.required(
            &association.service_account_name,
            &path.key("serviceAccountName"),
        )?;
        let namespace = match (&association.namespace, addon_namespace) {
            (Some(namespace), _) => namespace.clone(),
            (None, Some(namespace)) => {
                self.assumed(
                    &path.key("namespace"),
                    format!("not set (eksctl requires it): the add-on's namespace `{namespace}` is written"),
                );
                namespace.to_owned()
            }
            (None, None) => self.required(&association.namespace, &path.key("namespace"))?,
        };
        self.others(path, &association.other, Section::PodIdentityAssociation);
        if association.create_service_account == Some(true) {
            self.assumed(
                &path.key("createServiceAccount"),
                format!("eksctl also creates the Kubernetes service account; ekspec makes only its role and association: create `{namespace}/{name}` where you deploy its pods (Pod Identity needs no annotation)"),
            );
        }
        if association
            .role_arn
            .as_deref()
            .is_some_and(|arn| !arn.is_empty())
        {
            self.lost(
                &path.key("roleARN"),
                format!("ekspec makes and owns the roles of Pod Identity associations and cannot bind an existing one, so `{namespace}/{name}` is not carried over: list that role's policies in permissionPolicyARNs (or permissionPolicy) instead"),
            );
            return Ok(None);
        }
        let mechanism = match Self::fargate_profile_of(spec, &namespace) {
            Some(profile) => {
                self.assumed(
                    path,
                    format!("Fargate profile `{profile}` runs every pod of namespace `{namespace}`, and Fargate does not support EKS Pod Identity: `{namespace}/{name}` is written as an IRSA service account (mechanism irsa) so its pods get the role"),
                );
                IdentityMechanism::Irsa
            }
            None => IdentityMechanism::PodIdentity,
        };
        let mut account = ServiceAccountSpec {
            name,
            namespace,
            mechanism,
            policy_arns: association
                .permission_policy_arns
                .clone()
                .unwrap_or_default(),
            inline_policy: association.permission_policy.clone(),
            role_name: association
                .role_name
                .clone()
                .filter(|name| !name.is_empty()),
        };
        self.well_known_policies(
            association.well_known_policies.as_ref(),
            &path.key("wellKnownPolicies"),
            &mut account,
        );
        Ok(Some(account))
    }

    /// Adds a service account unless one of the same namespace and name is there already (EKS
    /// binds one role to a service account); says whether it was added.
    fn add_account(
        &mut self,
        spec: &mut ClusterSpec,
        account: ServiceAccountSpec,
        path: &FieldPath,
    ) -> bool {
        let taken = spec
            .service_accounts
            .iter()
            .find(|a| a.name == account.name && a.namespace == account.namespace);
        if let Some(existing) = taken {
            let by = match existing.mechanism {
                IdentityMechanism::Irsa => {
                    "an IRSA role (iam.serviceAccounts or an add-on's attachPolicyARNs)"
                }
                IdentityMechanism::PodIdentity => "an earlier Pod Identity association",
            };
            self.lost(
                path,
                format!("service account `{}/{}` already gets {by}, and a service account has one role: this association is not carried over (eksctl fails on it too)", account.namespace, account.name),
            );
            return false;
        }
        if account.mechanism == IdentityMechanism::PodIdentity && self.pod_identity_origin.is_none()
        {
            self.pod_identity_origin = Some(path.clone());
        }
        spec.service_accounts.push(account);
        true
    }

    fn addons(
        &mut self,
        config: &ClusterConfig,
        spec: &mut ClusterSpec,
    ) -> Result<(), ImportError> {
        let path = FieldPath::root().key("addons");
        for (i, addon) in config.addons.iter().flatten().enumerate() {
            let addon_path = path.index(i);
            let name = self.required(&addon.name, &addon_path.key("name"))?;
            let version = match addon.version.as_deref() {
                None | Some("") => None,
                Some("latest") => {
                    self.assumed(&addon_path.key("version"), "`latest`: ekspec installs EKS's default version for the cluster's Kubernetes version instead; pin a version to choose another");
                    None
                }
                Some(version) => Some(version.to_owned()),
            };
            let mut converted = AddonSpec {
                name: name.clone(),
                version,
                service_account: None,
                configuration_values: None,
            };
            if addon.service_account_role_arn.is_some() {
                self.lost(&addon_path.key("serviceAccountRoleARN"), "ekspec creates and owns add-on roles itself and cannot use an existing one: list its policies in attachPolicyARNs (or spec.serviceAccounts) instead");
            }
            if addon.attach_policy_arns.is_some() || addon.attach_policy.is_some() {
                match addon_service_account(&name) {
                    Some((account, namespace)) => {
                        converted.service_account = Some(account.to_owned());
                        self.addon_role(spec, account, namespace, addon, &addon_path);
                    }
                    None => self.lost(
                        &addon_path,
                        format!("ekspec does not know the service account of add-on `{name}`, so its IRSA role (attachPolicyARNs/attachPolicy) is not carried over: declare it in spec.serviceAccounts and set `serviceAccount` on the add-on"),
                    ),
                }
            }
            if addon.well_known_policies.is_some() {
                self.addon_well_known_policies(spec, addon, &mut converted, &addon_path);
            }
            if let Some(values) = &addon.configuration_values {
                converted.configuration_values =
                    self.configuration_values(values, &addon_path.key("configurationValues"));
            }
            for (j, association) in addon.pod_identity_associations.iter().flatten().enumerate() {
                let association_path = addon_path.key("podIdentityAssociations").index(j);
                let namespace = addon_service_account(&name).map_or("kube-system", |(_, ns)| ns);
                let Some(account) = self.pod_identity_account(
                    association,
                    &association_path,
                    Some(namespace),
                    spec,
                )?
                else {
                    continue;
                };
                let (account_name, namespace) = (account.name.clone(), account.namespace.clone());
                let first = converted.service_account.is_none();
                if !self.add_account(spec, account, &association_path) {
                    continue;
                }
                if first {
                    converted.service_account = Some(account_name.clone());
                    self.assumed(
                        &association_path,
                        format!("written as spec.serviceAccounts entry `{account_name}` ({namespace}), which the add-on uses"),
                    );
                } else {
                    let used = converted.service_account.clone().unwrap_or_default();
                    self.assumed(
                        &association_path,
                        format!("an ekspec add-on uses one service account (`{used}`): `{namespace}/{account_name}` is written as a service account of its own, whose association ekspec makes directly rather than through the add-on"),
                    );
                }
            }
            if addon.use_default_pod_identity_associations == Some(true) {
                self.lost(
                    &addon_path.key("useDefaultPodIdentityAssociations"),
                    format!("{RECOMMENDED_POLICIES} for `{name}`"),
                );
            }
            self.others(&addon_path, &addon.other, Section::Addon);
            spec.addons.push(converted);
        }
        if let Some(addons_config) = &config.addons_config {
            let path = FieldPath::root().key("addonsConfig");
            if addons_config.auto_apply_pod_identity_associations == Some(true) {
                self.lost(
                    &path.key("autoApplyPodIdentityAssociations"),
                    format!("{RECOMMENDED_POLICIES} for every add-on that needs AWS permissions and has none configured"),
                );
            }
            self.others(&path, &addons_config.other, Section::AddonsConfig);
        }
        Ok(())
    }

    /// Gives an add-on's policies to a spec.serviceAccounts entry, made for it if need be.
    fn addon_role(
        &mut self,
        spec: &mut ClusterSpec,
        account: &str,
        namespace: &str,
        addon: &model::Addon,
        path: &FieldPath,
    ) {
        let arns = addon.attach_policy_arns.clone().unwrap_or_default();
        let existing = spec
            .service_accounts
            .iter_mut()
            .find(|s| s.name == account && s.namespace == namespace);
        let message = match existing {
            Some(existing) => {
                for arn in arns {
                    if !existing.policy_arns.contains(&arn) {
                        existing.policy_arns.push(arn);
                    }
                }
                if existing.inline_policy.is_none() {
                    existing.inline_policy = addon.attach_policy.clone();
                } else if addon.attach_policy.is_some() {
                    self.lost(&path.key("attachPolicy"), format!("service account `{account}` already has an inline policy from iam.serviceAccounts; this one is not merged into it"));
                }
                format!(
                    "the add-on's IRSA policies are added to service account `{namespace}/{account}` from iam.serviceAccounts, which the add-on uses"
                )
            }
            None => {
                spec.service_accounts.push(ServiceAccountSpec {
                    name: account.to_owned(),
                    namespace: namespace.to_owned(),
                    mechanism: IdentityMechanism::Irsa,
                    policy_arns: arns,
                    inline_policy: addon.attach_policy.clone(),
                    role_name: None,
                });
                format!(
                    "the add-on's IRSA role is written as spec.serviceAccounts entry `{account}` ({namespace}), which the add-on uses"
                )
            }
        };
        self.assumed(path, message);
    }

    /// `karpenter`: eksctl installs Karpenter with an IRSA role; ekspec makes its AWS side and
    /// binds the controller by Pod Identity.
    fn karpenter(
        &mut self,
        config: &ClusterConfig,
        cluster: &str,
        spec: &mut ClusterSpec,
        tags: &mut model::StringMap,
    ) -> Result<(), ImportError> {
        let Some(karpenter) = &config.karpenter else {
            return Ok(());
        };
        let path = FieldPath::root().key("karpenter");
        let given = self.required(&karpenter.version, &path.key("version"))?;
        let version = given.strip_prefix('v').unwrap_or(&given).to_owned();
        if spec::validate::karpenter_version(&version).is_none() {
            self.lost(
                &path,
                format!("Karpenter {given}: ekspec makes the AWS side of Karpenter 1.0.0 and newer only (version 1 changed its IAM policy and its APIs), so nothing of `karpenter` is carried over: move to Karpenter 1.x (its v1 migration guide) and set spec.karpenter.version"),
            );
            self.others(&path, &karpenter.other, Section::Karpenter);
            return Ok(());
        }
        if version != given {
            self.assumed(
                &path.key("version"),
                format!("written as \"{version}\", without the leading `v`"),
            );
        }
        let interruption_queue = match karpenter.with_spot_interruption_queue {
            Some(queue) => queue,
            None => {
                self.assumed(&path.key("withSpotInterruptionQueue"), "not set: eksctl's default `false` (no interruption queue) is written out; ekspec's own default is true: Karpenter then drains nodes before spot interruptions, rebalances and scheduled maintenance");
                false
            }
        };
        self.others(&path, &karpenter.other, Section::Karpenter);
        let queue = if interruption_queue {
            ", the interruption queue and its EventBridge rules"
        } else {
            ""
        };
        self.assumed(
            &path,
            format!("eksctl installs Karpenter's Helm chart and gives its controller an IRSA role; ekspec makes the AWS side only (the controller and node roles, the node role's access entry{queue}, discovery tags) and binds the controller `karpenter/karpenter` by EKS Pod Identity: install the chart with the values `ekspec karpenter values -f SPEC` prints. Karpenter's nodes get the role `{}` (eksctl's was eksctl-KarpenterNodeRole-{cluster}): name it in your EC2NodeClass `role`", naming::karpenter_node_role(cluster)),
        );
        let karpenter = KarpenterSpec {
            version,
            namespace: None,
            service_account: None,
            interruption_queue,
        };
        self.karpenter_discovery_tag(cluster, tags);
        self.karpenter_off_fargate(karpenter.namespace(), spec);
        if let Some(i) = spec.service_accounts.iter().position(|a| {
            a.namespace == karpenter.namespace() && a.name == karpenter.service_account()
        }) {
            let account = spec.service_accounts.remove(i);
            self.lost(
                &path,
                format!("service account `{}/{}` is Karpenter's controller, which ekspec gives its own role (spec.karpenter): its entry from iam is not carried over", account.namespace, account.name),
            );
        }
        spec.karpenter = Some(karpenter);
        Ok(())
    }

    /// `autoModeConfig`: on or off, and the built-in node pools; ekspec makes the node role.
    fn auto_mode(&mut self, config: &ClusterConfig, cluster: &str, spec: &mut ClusterSpec) {
        let Some(auto_mode) = &config.auto_mode_config else {
            return;
        };
        let path = FieldPath::root().key("autoModeConfig");
        self.others(&path, &auto_mode.other, Section::AutoMode);
        if auto_mode.enabled != Some(true) {
            // eksctl's default: off, and nothing else may be set then.
            return;
        }
        let mut node_pools = Vec::new();
        let pools_given = auto_mode.node_pools.clone();
        for (i, pool) in pools_given.iter().flatten().enumerate() {
            match pool.as_str() {
                "general-purpose" => node_pools.push(AutoModeNodePool::GeneralPurpose),
                "system" => node_pools.push(AutoModeNodePool::System),
                other => self.lost(
                    &path.key("nodePools").index(i),
                    format!("`{other}` is not a built-in node pool of EKS Auto Mode (general-purpose, system): left out"),
                ),
            }
        }
        if pools_given.is_none() {
            node_pools = vec![AutoModeNodePool::GeneralPurpose, AutoModeNodePool::System];
        }
        if let Some(role) = &auto_mode.node_role_arn {
            self.lost(
                &path.key("nodeRoleARN"),
                format!("ekspec makes the Auto Mode node role itself, `{}` (trusted by EC2; AmazonEKSWorkerNodeMinimalPolicy and AmazonEC2ContainerRegistryPullOnly), instead of `{role}`: give it what `{role}` has beyond those", naming::auto_mode_node_role(cluster)),
            );
        }
        if auto_mode.permissions_boundary_arn.is_some() {
            self.lost(
                &path.key("permissionsBoundaryARN"),
                "ekspec sets no permissions boundary on the roles it makes",
            );
        }
        spec.auto_mode = Some(AutoModeSpec {
            enabled: true,
            node_pools,
        });
    }

    /// ekspec puts Karpenter's discovery tag on the node subnets and the cluster security group
    /// itself; in `metadata.tags` it would be on every resource.
    fn karpenter_discovery_tag(&mut self, cluster: &str, tags: &mut model::StringMap) {
        let Some(value) = tags.remove(naming::KARPENTER_DISCOVERY_TAG) else {
            return;
        };
        let path = FieldPath::root()
            .key("metadata")
            .key("tags")
            .key(naming::KARPENTER_DISCOVERY_TAG);
        let why = "ekspec tags the node subnets and the cluster security group with it for Karpenter's EC2NodeClass selectors; in metadata.tags it would go on every resource, public subnets and every security group included";
        if value == cluster {
            self.assumed(&path, format!("left out: {why}"));
        } else {
            self.lost(
                &path,
                format!("{why}, and its value is the cluster name: select `{}: {cluster}` in your EC2NodeClass instead of `{value}`", naming::KARPENTER_DISCOVERY_TAG),
            );
        }
    }

    /// Takes Karpenter's namespace off Fargate, which does not run the Pod Identity agent its
    /// controller's credentials come from (eksctl's IRSA role worked there).
    fn karpenter_off_fargate(&mut self, namespace: &str, spec: &mut ClusterSpec) {
        let path = FieldPath::root().key("fargateProfiles");
        let profiles = std::mem::take(&mut spec.fargate_profiles);
        for (i, mut profile) in profiles.into_iter().enumerate() {
            let before = profile.selectors.len();
            profile
                .selectors
                .retain(|s| !(s.namespace == namespace && s.labels.is_empty()));
            if profile.selectors.len() != before {
                let consequence = if profile.selectors.is_empty() {
                    format!(
                        "Fargate profile `{}` is not carried over, as it selected nothing else",
                        profile.name
                    )
                } else {
                    format!("its selector of namespace `{namespace}` is not carried over")
                };
                self.lost(
                    &path.index(i),
                    format!("ekspec binds Karpenter's controller by EKS Pod Identity, which Fargate does not support, so the controller runs on the node groups: {consequence}"),
                );
            }
            if !profile.selectors.is_empty() {
                spec.fargate_profiles.push(profile);
            }
        }
    }

    /// EKS Pod Identity needs the `eks-pod-identity-agent` add-on on the nodes.
    fn pod_identity_agent(&mut self, spec: &mut ClusterSpec) {
        if spec.addons.iter().any(|a| a.name == POD_IDENTITY_AGENT) {
            return;
        }
        let (path, who) = match (&self.pod_identity_origin, &spec.karpenter) {
            (_, Some(_)) => (
                FieldPath::root().key("karpenter"),
                "Karpenter's controller gets its role through EKS Pod Identity in ekspec",
            ),
            (Some(path), None) => (
                path.clone(),
                "eksctl refuses Pod Identity associations without it",
            ),
            (None, None) => return,
        };
        spec.addons.push(AddonSpec {
            name: POD_IDENTITY_AGENT.to_owned(),
            version: None,
            service_account: None,
            configuration_values: None,
        });
        self.assumed(
            &path,
            format!("the `{POD_IDENTITY_AGENT}` add-on is added to spec.addons: {who}, and its pods get credentials from that agent"),
        );
    }

    /// eksctl takes configuration values as a JSON or YAML string; ekspec as YAML.
    fn configuration_values(&mut self, values: &Value, path: &FieldPath) -> Option<Value> {
        let parsed = match values {
            Value::String(text) if text.trim().is_empty() => return None,
            Value::String(text) => serde_saphyr::from_str::<Value>(text).map_err(|e| {
                let text = e.without_snippet().to_string();
                text.lines().next().unwrap_or_default().to_owned()
            }),
            other => Ok(other.clone()),
        };
        match parsed {
            Ok(value @ Value::Object(_)) => Some(value),
            Ok(_) => {
                self.lost(path, "not a mapping of settings, which EKS expects");
                None
            }
            Err(error) => {
                self.lost(path, format!("not valid JSON or YAML ({error})"));
                None
            }
        }
    }

    fn access(
        &mut self,
        config: &ClusterConfig,
        spec: &mut ClusterSpec,
    ) -> Result<(), ImportError> {
        let Some(access) = &config.access_config else {
            return Ok(());
        };
        let path = FieldPath::root().key("accessConfig");
        match access.authentication_mode.as_deref() {
            None | Some("API_AND_CONFIG_MAP") => {}
            Some("API") => self.assumed(&path.key("authenticationMode"), "ekspec creates clusters with API_AND_CONFIG_MAP: access entries work as with API, and the aws-auth ConfigMap is also read"),
            Some(other) => self.lost(&path.key("authenticationMode"), format!("ekspec creates clusters with API_AND_CONFIG_MAP, not {other}")),
        }
        if access.bootstrap_cluster_creator_admin_permissions == Some(false) {
            self.lost(&path.key("bootstrapClusterCreatorAdminPermissions"), "EKS gives the cluster's creator admin access and ekspec keeps that default: remove the creator's access entry after apply if it should not have it");
        }
        self.others(&path, &access.other, Section::AccessConfig);
        for (i, entry) in access.access_entries.iter().flatten().enumerate() {
            let entry_path = path.key("accessEntries").index(i);
            let principal_arn =
                self.required(&entry.principal_arn, &entry_path.key("principalARN"))?;
            if let Some(kind) = entry.entry_type.as_deref().filter(|t| *t != "STANDARD") {
                self.lost(&entry_path, format!("access entries of type {kind} are not supported by ekspec (it makes the entries its node groups need itself); the entry is not carried over"));
                continue;
            }
            self.others(&entry_path, &entry.other, Section::AccessEntry);
            let mut policies = Vec::new();
            for (j, policy) in entry.access_policies.iter().flatten().enumerate() {
                let policy_path = entry_path.key("accessPolicies").index(j);
                let policy_arn =
                    self.required(&policy.policy_arn, &policy_path.key("policyARN"))?;
                self.others(&policy_path, &policy.other, Section::AccessPolicy);
                let scope_path = policy_path.key("accessScope");
                let scope = match &policy.access_scope {
                    None => {
                        self.assumed(&scope_path, "not set: the whole cluster");
                        AccessScope::Cluster
                    }
                    Some(scope) => {
                        self.others(&scope_path, &scope.other, Section::AccessScope);
                        match scope.scope_type.as_deref() {
                            Some("cluster") | None => AccessScope::Cluster,
                            Some("namespace") => AccessScope::Namespaces(NamespaceScope {
                                namespaces: scope.namespaces.clone().unwrap_or_default(),
                            }),
                            Some(other) => {
                                self.lost(&scope_path.key("type"), format!("unknown scope type `{other}` (cluster or namespace); the policy is not carried over"));
                                continue;
                            }
                        }
                    }
                };
                policies.push(AccessPolicySpec { policy_arn, scope });
            }
            spec.access_entries.push(AccessEntrySpec {
                principal_arn,
                kubernetes_groups: entry.kubernetes_groups.clone().unwrap_or_default(),
                username: entry.kubernetes_username.clone(),
                policies,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_carry_over;
