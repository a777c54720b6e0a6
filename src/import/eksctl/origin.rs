//! Where each field of the imported spec came from in the eksctl file, so that a spec which
//! does not validate is reported at the eksctl line to change, not in a spec never written.
//!
//! List items are named by their key (node group name, `namespace/name` of a service account,
//! ...) while converting and given their index at the end, because converting drops and adds
//! items (Karpenter's Fargate selector, an add-on's service account).

use super::model::{ClusterConfig, ManagedNodeGroup};
use super::{Converter, addon_service_account};
use crate::import::Origin;
use crate::spec::source::Node;
use crate::spec::{ClusterSpec, FieldPath};

/// A list item of the spec, by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// `spec.nodeGroups`, by name.
    NodeGroup(String),
    /// `spec.fargateProfiles`, by name.
    FargateProfile(String),
    /// `spec.serviceAccounts`, by namespace and name.
    ServiceAccount { namespace: String, name: String },
    /// `spec.addons`, by name.
    Addon(String),
    /// `spec.accessEntries`, by principal ARN.
    AccessEntry(String),
}

impl Item {
    /// The item's path in `spec`, if it is there.
    fn path(&self, spec: &ClusterSpec) -> Option<FieldPath> {
        let list = FieldPath::root().key("spec");
        let (list, index) = match self {
            Self::NodeGroup(name) => (
                list.key("nodeGroups"),
                spec.node_groups.iter().position(|g| &g.name == name)?,
            ),
            Self::FargateProfile(name) => (
                list.key("fargateProfiles"),
                spec.fargate_profiles.iter().position(|p| &p.name == name)?,
            ),
            Self::ServiceAccount { namespace, name } => (
                list.key("serviceAccounts"),
                spec.service_accounts
                    .iter()
                    .position(|a| &a.namespace == namespace && &a.name == name)?,
            ),
            Self::Addon(name) => (
                list.key("addons"),
                spec.addons.iter().position(|a| &a.name == name)?,
            ),
            Self::AccessEntry(arn) => (
                list.key("accessEntries"),
                spec.access_entries
                    .iter()
                    .position(|e| &e.principal_arn == arn)?,
            ),
        };
        Some(list.index(index))
    }
}

/// A spec field recorded while converting: `rest` under `item`, or from the root.
#[derive(Debug, Clone)]
pub(super) struct Recorded {
    item: Option<Item>,
    rest: FieldPath,
    eksctl: FieldPath,
}

/// A node group's spec fields and the eksctl fields they come from, in order of preference
/// (the first present in the file is named).
const NODE_GROUP_FIELDS: &[(&str, &[&str])] = &[
    (
        "instanceTypes",
        &[
            "instanceTypes",
            "instanceType",
            "instancesDistribution.instanceTypes",
        ],
    ),
    (
        "capacityType",
        &["spot", "instancesDistribution", "instanceMarketOptions"],
    ),
    ("availabilityZones", &["availabilityZones"]),
    ("capacityReservation", &["capacityReservation"]),
    ("amiType", &["amiFamily"]),
    ("minSize", &["minSize"]),
    ("maxSize", &["maxSize"]),
    ("desiredSize", &["desiredCapacity"]),
    ("diskSizeGiB", &["volumeSize"]),
    ("privateNetworking", &["privateNetworking"]),
    ("labels", &["labels"]),
    ("taints", &["taints"]),
    ("tags", &["tags"]),
    ("maxUnavailable", &["updateConfig.maxUnavailable"]),
    (
        "maxUnavailablePercentage",
        &["updateConfig.maxUnavailablePercentage"],
    ),
    ("podImdsAccess", &["disablePodIMDS"]),
    ("amiId", &["ami"]),
    ("preBootstrapCommands", &["preBootstrapCommands"]),
];

fn dotted(base: &FieldPath, dotted: &str) -> FieldPath {
    dotted
        .split('.')
        .fold(base.clone(), |path, key| path.key(key))
}

impl Converter<'_> {
    /// Records that the spec field `rest` of `item` (or of the root) came from `eksctl`.
    pub(super) fn origin(&mut self, item: Option<Item>, rest: FieldPath, eksctl: &FieldPath) {
        self.recorded.push(Recorded {
            item,
            rest,
            eksctl: eksctl.clone(),
        });
    }

    /// Records a node group and each of its fields (`group` is read from `eksctl`).
    pub(super) fn node_group_origin(&mut self, name: &str, eksctl: &FieldPath) {
        let item = Item::NodeGroup(name.to_owned());
        self.origin(Some(item.clone()), FieldPath::root(), eksctl);
        for (field, candidates) in NODE_GROUP_FIELDS {
            let chosen = candidates
                .iter()
                .map(|c| dotted(eksctl, c))
                .find(|path| self.tree.locate(path).1)
                .unwrap_or_else(|| dotted(eksctl, candidates[0]));
            self.origin(Some(item.clone()), FieldPath::root().key(*field), &chosen);
        }
    }

    /// Records the origins every conversion has, read off the eksctl config.
    pub(super) fn config_origins(&mut self, config: &ClusterConfig) {
        let root = FieldPath::root();
        let spec = root.key("spec");
        let meta = root.key("metadata");
        // The document itself: what the importer writes on its own is reported at the top.
        self.origin(None, root.clone(), &root);
        self.origin(None, meta.clone(), &meta);
        for field in ["name", "region", "tags"] {
            self.origin(None, meta.key(field), &meta.key(field));
        }
        self.origin(None, spec.key("kubernetesVersion"), &meta.key("version"));
        let vpc = root.key("vpc");
        self.origin(None, spec.key("vpc"), &vpc);
        for field in ["id", "cidr", "subnets"] {
            self.origin(None, spec.key("vpc").key(field), &vpc.key(field));
        }
        self.origin(
            None,
            spec.key("vpc").key("availabilityZones"),
            &root.key("availabilityZones"),
        );
        self.origin(None, spec.key("vpc").key("natGateway"), &vpc.key("nat"));
        let subnets = config
            .vpc
            .as_ref()
            .and_then(|v| v.subnets.clone())
            .unwrap_or_default();
        for (side, map) in [("private", subnets.private), ("public", subnets.public)] {
            let spec_side = spec.key("vpc").key("subnets").key(side);
            let eksctl_side = vpc.key("subnets").key(side);
            self.origin(None, spec_side.clone(), &eksctl_side);
            // The importer lists the ids in the map's order, skipping subnets without one.
            let with_id = map
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, s)| s.id.is_some());
            for (i, (key, _)) in with_id.enumerate() {
                self.origin(None, spec_side.index(i), &eksctl_side.key(key).key("id"));
            }
        }
        self.origin(None, spec.key("endpoint"), &vpc.key("clusterEndpoints"));
        for field in ["publicAccess", "privateAccess"] {
            self.origin(
                None,
                spec.key("endpoint").key(field),
                &vpc.key("clusterEndpoints").key(field),
            );
        }
        self.origin(
            None,
            spec.key("endpoint").key("publicAccessCidrs"),
            &vpc.key("publicAccessCIDRs"),
        );
        self.origin(
            None,
            spec.key("logging"),
            &root
                .key("cloudWatch")
                .key("clusterLogging")
                .key("enableTypes"),
        );
        self.origin(
            None,
            spec.key("secretsEncryption"),
            &root.key("secretsEncryption"),
        );
        self.origin(None, spec.key("karpenter"), &root.key("karpenter"));
        self.list_origins(config);
    }

    fn list_origins(&mut self, config: &ClusterConfig) {
        let root = FieldPath::root();
        let groups = root.key("managedNodeGroups");
        for (i, group) in config.managed_node_groups.iter().flatten().enumerate() {
            let ManagedNodeGroup {
                name: Some(name), ..
            } = group
            else {
                continue;
            };
            self.node_group_origin(name, &groups.index(i));
        }
        let profiles = root.key("fargateProfiles");
        for (i, profile) in config.fargate_profiles.iter().flatten().enumerate() {
            if let Some(name) = &profile.name {
                let item = Item::FargateProfile(name.clone());
                self.origin(Some(item), FieldPath::root(), &profiles.index(i));
            }
        }
        let iam = root.key("iam");
        let iam_config = config.iam.clone().unwrap_or_default();
        for (i, account) in iam_config.service_accounts.iter().flatten().enumerate() {
            let Some(meta) = &account.metadata else {
                continue;
            };
            let Some(name) = &meta.name else { continue };
            let path = iam.key("serviceAccounts").index(i);
            let item = Item::ServiceAccount {
                namespace: meta
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".to_owned()),
                name: name.clone(),
            };
            self.origin(Some(item.clone()), FieldPath::root(), &path);
            for (field, eksctl) in [
                ("policyArns", "attachPolicyARNs"),
                ("inlinePolicy", "attachPolicy"),
                ("roleName", "roleName"),
            ] {
                self.origin(
                    Some(item.clone()),
                    FieldPath::root().key(field),
                    &path.key(eksctl),
                );
            }
        }
        for (i, association) in iam_config
            .pod_identity_associations
            .iter()
            .flatten()
            .enumerate()
        {
            let (Some(namespace), Some(name)) =
                (&association.namespace, &association.service_account_name)
            else {
                continue;
            };
            let path = iam.key("podIdentityAssociations").index(i);
            let item = Item::ServiceAccount {
                namespace: namespace.clone(),
                name: name.clone(),
            };
            self.origin(Some(item.clone()), FieldPath::root(), &path);
            for (field, eksctl) in [
                ("policyArns", "permissionPolicyARNs"),
                ("inlinePolicy", "permissionPolicy"),
                ("roleName", "roleName"),
            ] {
                self.origin(
                    Some(item.clone()),
                    FieldPath::root().key(field),
                    &path.key(eksctl),
                );
            }
        }
        let addons = root.key("addons");
        for (i, addon) in config.addons.iter().flatten().enumerate() {
            let Some(name) = &addon.name else { continue };
            let path = addons.index(i);
            let item = Item::Addon(name.clone());
            self.origin(Some(item.clone()), FieldPath::root(), &path);
            for (field, eksctl) in [
                ("version", "version"),
                ("configurationValues", "configurationValues"),
            ] {
                self.origin(
                    Some(item.clone()),
                    FieldPath::root().key(field),
                    &path.key(eksctl),
                );
            }
            if let Some((account, namespace)) = addon_service_account(name) {
                let item = Item::ServiceAccount {
                    namespace: namespace.to_owned(),
                    name: account.to_owned(),
                };
                self.origin(Some(item), FieldPath::root(), &path);
            }
            for (j, association) in addon.pod_identity_associations.iter().flatten().enumerate() {
                let Some(name) = &association.service_account_name else {
                    continue;
                };
                let namespace = association.namespace.clone().unwrap_or_else(|| {
                    addon_service_account(name)
                        .map_or("kube-system", |(_, ns)| ns)
                        .to_owned()
                });
                let item = Item::ServiceAccount {
                    namespace,
                    name: name.clone(),
                };
                let eksctl = path.key("podIdentityAssociations").index(j);
                self.origin(Some(item), FieldPath::root(), &eksctl);
            }
        }
        let entries = root.key("accessConfig").key("accessEntries");
        let access = config.access_config.clone().unwrap_or_default();
        for (i, entry) in access.access_entries.iter().flatten().enumerate() {
            if let Some(arn) = &entry.principal_arn {
                let item = Item::AccessEntry(arn.clone());
                self.origin(Some(item), FieldPath::root(), &entries.index(i));
            }
        }
    }

    /// The recorded origins with the items' indexes in `spec`, positioned in the eksctl file.
    pub(super) fn resolve_origins(&self, spec: &ClusterSpec) -> Vec<Origin> {
        resolve(&self.recorded, spec, self.tree)
    }
}

fn resolve(recorded: &[Recorded], spec: &ClusterSpec, tree: &Node) -> Vec<Origin> {
    let mut origins: Vec<Origin> = Vec::new();
    for record in recorded {
        let base = match &record.item {
            None => FieldPath::root(),
            Some(item) => match item.path(spec) {
                Some(path) => path,
                None => continue,
            },
        };
        let spec_path = base.join(&record.rest);
        // The first record of a spec field wins: it is the field the item was made from.
        if origins.iter().any(|o| o.spec == spec_path) {
            continue;
        }
        let (position, present) = tree.locate(&record.eksctl);
        origins.push(Origin {
            spec: spec_path,
            input: record.eksctl.clone(),
            position,
            present,
        });
    }
    origins
}
