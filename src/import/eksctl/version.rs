//! The Kubernetes version of an imported cluster: eksctl's, refused when EKS no longer runs
//! it, or, when the file names none, one that every node group's AMI exists for.

use super::{Converter, ImportError};
use crate::spec::validate::{AL2_NEWEST_MINOR, NEWEST_MINOR, OLDEST_MINOR, parse_minor};
use crate::spec::{ClusterSpec, FieldPath};

/// The version written when the eksctl file names none and no AMI limits it: eksctl's own
/// default trails the newest release, so ekspec stays two behind as well.
const DEFAULT_MINOR: u32 = NEWEST_MINOR - 2;

impl Converter<'_> {
    /// Refuses versions EKS no longer creates clusters with (eksctl examples use 1.14 to
    /// 1.22): carrying one over would only move the error into a spec that is never written.
    pub(super) fn supported_version(
        &self,
        version: &str,
        path: &FieldPath,
    ) -> Result<(), ImportError> {
        match parse_minor(version) {
            Some(minor) if minor < OLDEST_MINOR => Err(ImportError::new(
                self.tree.locate(path).0,
                format!("metadata.version: Kubernetes {version} is no longer supported by EKS, which creates clusters of 1.{OLDEST_MINOR} to 1.{NEWEST_MINOR}; the cluster cannot be made as written"),
            )
            .with_hint(format!("set `version: \"1.{OLDEST_MINOR}\"`, the oldest version EKS supports, after checking the workloads against the Kubernetes changes since {version}"))),
            // Newer than ekspec knows, or malformed: ekspec's validation says so at this line.
            _ => Ok(()),
        }
    }

    /// Without `metadata.version`: the newest version (at most [`DEFAULT_MINOR`]) for which
    /// every node group's AMI type is published, said as an assumption.
    pub(super) fn default_version(&mut self, spec: &mut ClusterSpec) {
        let path = FieldPath::root().key("metadata").key("version");
        let al2: Vec<&str> = spec
            .node_groups
            .iter()
            .filter(|g| g.ami_type.is_al2())
            .map(|g| g.name.as_str())
            .collect();
        let minor = if al2.is_empty() {
            DEFAULT_MINOR
        } else {
            DEFAULT_MINOR.min(AL2_NEWEST_MINOR)
        };
        let version = format!("1.{minor}");
        let why = if minor < DEFAULT_MINOR {
            format!(
                "the newest Kubernetes version EKS publishes Amazon Linux 2 AMIs for, which node group{} {} use{} (move {} to AmazonLinux2023 to run a newer version)",
                if al2.len() == 1 { "" } else { "s" },
                al2.join(", "),
                if al2.len() == 1 { "s" } else { "" },
                if al2.len() == 1 { "it" } else { "them" },
            )
        } else {
            "set the version the cluster should run".to_owned()
        };
        self.assumed(
            &path,
            format!("not set: eksctl creates its own default version; ekspec needs one, so \"{version}\" is written: {why}"),
        );
        spec.kubernetes_version = version;
    }
}
