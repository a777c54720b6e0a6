//! The user data of a node group's launch template.
//!
//! EKS merges its own bootstrap into the user data of a launch template without an AMI, but
//! adds nothing when the template names one ("When specifying an AMI, Amazon EKS doesn't merge
//! any user data", EKS User Guide, Customize managed nodes with launch templates): a custom
//! AMI's nodes join through the user data written here, from the cluster's live endpoint,
//! certificate authority and service CIDR. AL2023 reads a nodeadm `NodeConfig` part of a MIME
//! multi-part archive; Bottlerocket reads TOML settings.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::plan::Ref;

/// The MIME boundary of the AL2023 archive.
pub const BOUNDARY: &str = "//";

/// The first lines of the pre-bootstrap commands' script part: a shell that stops at the
/// first failing command.
pub const SCRIPT_PRELUDE: &str = "#!/bin/bash\nset -o errexit -o nounset -o pipefail\n";

/// What a node group's launch template user data is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserData {
    /// Shell commands run before the node joins: a script part of the MIME archive, which
    /// cloud-init runs before nodeadm starts the kubelet.
    pub commands: Vec<String>,
    /// How a custom AMI's nodes join the cluster; `None` on EKS's AMIs, where EKS adds it.
    pub join: Option<NodeJoin>,
}

/// The operating system a custom AMI's nodes run, which says how they read their settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NodeOs {
    /// Amazon Linux 2023: nodeadm's `NodeConfig`.
    Al2023,
    /// Bottlerocket: `[settings.kubernetes]` TOML.
    Bottlerocket,
}

/// The settings a custom AMI's node needs to join the cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeJoin {
    /// How the node reads them.
    pub os: NodeOs,
    /// The cluster's name.
    pub cluster: String,
    /// The API server URL (`cluster.endpoint` once the cluster exists).
    pub endpoint: Ref,
    /// The base64 CA bundle (`cluster.certificate-authority`).
    pub certificate_authority: Ref,
    /// The Kubernetes service CIDR (`cluster.service-cidr`).
    pub service_cidr: Ref,
    /// Node labels the kubelet registers with: the group's and those EKS puts on its own AMIs'
    /// nodes (`eks.amazonaws.com/nodegroup`, `.../nodegroup-image`, `.../capacityType`).
    pub labels: BTreeMap<String, String>,
    /// Taints the kubelet registers with, `key=value:Effect`: EKS applies a custom AMI's
    /// taints only after the node joined.
    pub taints: Vec<String>,
}

/// The cluster's settings a node joins with, resolved.
struct Cluster {
    endpoint: String,
    certificate_authority: String,
    service_cidr: String,
}

impl UserData {
    /// The user data text, or `None` while the cluster's endpoint, certificate authority or
    /// service CIDR is unknown (`resolve` gives a reference's value when known).
    pub fn render(&self, resolve: &dyn Fn(&Ref) -> Option<String>) -> Option<String> {
        let cluster = match &self.join {
            Some(join) => Some(Cluster {
                endpoint: resolve(&join.endpoint)?,
                certificate_authority: resolve(&join.certificate_authority)?,
                service_cidr: resolve(&join.service_cidr)?,
            }),
            None => None,
        };
        Some(match (&self.join, cluster) {
            (Some(join), Some(cluster)) if join.os == NodeOs::Bottlerocket => {
                bottlerocket(join, &cluster)
            }
            (join, cluster) => mime(&self.commands, join.as_ref().zip(cluster.as_ref())),
        })
    }
}

/// A quoted scalar, valid in YAML and as a TOML basic string (labels, taints, names and
/// URLs are validated ASCII).
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// The AL2023 MIME multi-part archive: the commands' script, then the `NodeConfig`.
fn mime(commands: &[String], join: Option<(&NodeJoin, &Cluster)>) -> String {
    let mut out =
        format!("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\n\n");
    if !commands.is_empty() {
        out.push_str(&format!(
            "--{BOUNDARY}\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n{SCRIPT_PRELUDE}"
        ));
        for command in commands {
            out.push_str(command.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    if let Some((join, cluster)) = join {
        out.push_str(&format!(
            "--{BOUNDARY}\nContent-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: {}\n    apiServerEndpoint: {}\n    certificateAuthority: {}\n    cidr: {}\n",
            quoted(&join.cluster),
            quoted(&cluster.endpoint),
            quoted(&cluster.certificate_authority),
            quoted(&cluster.service_cidr),
        ));
        let flags = kubelet_flags(join);
        if !flags.is_empty() {
            out.push_str("  kubelet:\n    flags:\n");
            for flag in flags {
                out.push_str(&format!("      - {}\n", quoted(&flag)));
            }
        }
        out.push('\n');
    }
    out.push_str(&format!("--{BOUNDARY}--\n"));
    out
}

/// `--node-labels` and `--register-with-taints`, when there are any.
fn kubelet_flags(join: &NodeJoin) -> Vec<String> {
    let mut flags = Vec::new();
    if !join.labels.is_empty() {
        let labels: Vec<String> = join
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        flags.push(format!("--node-labels={}", labels.join(",")));
    }
    if !join.taints.is_empty() {
        flags.push(format!("--register-with-taints={}", join.taints.join(",")));
    }
    flags
}

/// Bottlerocket's `[settings.kubernetes]`, with the labels and taints in its own tables.
fn bottlerocket(join: &NodeJoin, cluster: &Cluster) -> String {
    let mut out = format!(
        "[settings.kubernetes]\ncluster-name = {}\napi-server = {}\ncluster-certificate = {}\n",
        quoted(&join.cluster),
        quoted(&cluster.endpoint),
        quoted(&cluster.certificate_authority),
    );
    if let Some(dns) = cluster_dns_ip(&cluster.service_cidr) {
        out.push_str(&format!("cluster-dns-ip = {}\n", quoted(&dns)));
    }
    if !join.labels.is_empty() {
        out.push_str("\n[settings.kubernetes.node-labels]\n");
        for (key, value) in &join.labels {
            out.push_str(&format!("{} = {}\n", quoted(key), quoted(value)));
        }
    }
    if !join.taints.is_empty() {
        // Bottlerocket takes each key's `value:Effect` list.
        let mut by_key: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for taint in &join.taints {
            let (key, rest) = taint.split_once('=').unwrap_or((taint, ""));
            by_key.entry(key).or_default().push(quoted(rest));
        }
        out.push_str("\n[settings.kubernetes.node-taints]\n");
        for (key, values) in by_key {
            out.push_str(&format!("{} = [{}]\n", quoted(key), values.join(", ")));
        }
    }
    out
}

/// The cluster DNS service's address: the tenth of the service CIDR (`10.100.0.10` for
/// `10.100.0.0/16`, as the EKS User Guide's "Specifying an AMI" derives it; `fd..::a` on IPv6).
pub fn cluster_dns_ip(service_cidr: &str) -> Option<String> {
    let net: IpNet = service_cidr.parse().ok()?;
    Some(match net.network() {
        IpAddr::V4(ip) => IpAddr::from(u32::from(ip).checked_add(10)?.to_be_bytes()).to_string(),
        IpAddr::V6(ip) => IpAddr::from(u128::from(ip).checked_add(10)?.to_be_bytes()).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(os: NodeOs) -> NodeJoin {
        NodeJoin {
            os,
            cluster: "demo".to_owned(),
            endpoint: Ref::output("cluster", "endpoint"),
            certificate_authority: Ref::output("cluster", "certificate-authority"),
            service_cidr: Ref::output("cluster", "service-cidr"),
            labels: BTreeMap::from([
                (
                    "eks.amazonaws.com/nodegroup".to_owned(),
                    "gpu-1a2b3c4d".to_owned(),
                ),
                ("role".to_owned(), "gpu".to_owned()),
            ]),
            taints: vec![
                "nvidia.com/gpu=true:NoSchedule".to_owned(),
                "nvidia.com/gpu=true:NoExecute".to_owned(),
            ],
        }
    }

    fn live(r: &Ref) -> Option<String> {
        match r {
            Ref::Output(name) => match name.as_str() {
                "cluster.endpoint" => Some("https://ABCD.gr7.us-east-1.eks.amazonaws.com".into()),
                "cluster.certificate-authority" => Some("LS0tQ0E=".into()),
                "cluster.service-cidr" => Some("172.20.0.0/16".into()),
                _ => None,
            },
            Ref::Value(v) => Some(v.clone()),
        }
    }

    #[test]
    fn al2023_is_a_mime_archive_with_the_commands_before_the_node_config() {
        let data = UserData {
            commands: vec![
                "echo hello > /tmp/hello".into(),
                "sysctl -w vm.max_map_count=262144".into(),
            ],
            join: Some(join(NodeOs::Al2023)),
        };
        let golden = r#"MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="//"

--//
Content-Type: text/x-shellscript; charset="us-ascii"

#!/bin/bash
set -o errexit -o nounset -o pipefail
echo hello > /tmp/hello
sysctl -w vm.max_map_count=262144

--//
Content-Type: application/node.eks.aws

---
apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: "demo"
    apiServerEndpoint: "https://ABCD.gr7.us-east-1.eks.amazonaws.com"
    certificateAuthority: "LS0tQ0E="
    cidr: "172.20.0.0/16"
  kubelet:
    flags:
      - "--node-labels=eks.amazonaws.com/nodegroup=gpu-1a2b3c4d,role=gpu"
      - "--register-with-taints=nvidia.com/gpu=true:NoSchedule,nvidia.com/gpu=true:NoExecute"

--//--
"#;
        assert_eq!(data.render(&live).as_deref(), Some(golden));
    }

    #[test]
    fn al2023_without_commands_labels_or_taints_is_the_node_config_alone() {
        let mut bare = join(NodeOs::Al2023);
        bare.labels.clear();
        bare.taints.clear();
        let data = UserData {
            commands: Vec::new(),
            join: Some(bare),
        };
        let golden = r#"MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="//"

--//
Content-Type: application/node.eks.aws

---
apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: "demo"
    apiServerEndpoint: "https://ABCD.gr7.us-east-1.eks.amazonaws.com"
    certificateAuthority: "LS0tQ0E="
    cidr: "172.20.0.0/16"

--//--
"#;
        assert_eq!(data.render(&live).as_deref(), Some(golden));
    }

    #[test]
    fn commands_on_an_eks_ami_are_a_script_part_for_eks_to_merge() {
        let data = UserData {
            commands: vec!["echo hi".into()],
            join: None,
        };
        let golden = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\nset -o errexit -o nounset -o pipefail\necho hi\n\n--//--\n";
        // Nothing of the cluster is needed: it renders before the cluster exists.
        assert_eq!(data.render(&|_| None).as_deref(), Some(golden));
    }

    #[test]
    fn bottlerocket_is_toml_settings_with_labels_and_taints_by_key() {
        let data = UserData {
            commands: Vec::new(),
            join: Some(join(NodeOs::Bottlerocket)),
        };
        let golden = r#"[settings.kubernetes]
cluster-name = "demo"
api-server = "https://ABCD.gr7.us-east-1.eks.amazonaws.com"
cluster-certificate = "LS0tQ0E="
cluster-dns-ip = "172.20.0.10"

[settings.kubernetes.node-labels]
"eks.amazonaws.com/nodegroup" = "gpu-1a2b3c4d"
"role" = "gpu"

[settings.kubernetes.node-taints]
"nvidia.com/gpu" = ["true:NoSchedule", "true:NoExecute"]
"#;
        assert_eq!(data.render(&live).as_deref(), Some(golden));
    }

    #[test]
    fn the_node_config_is_yaml_nodeadm_can_read() {
        let data = UserData {
            commands: Vec::new(),
            join: Some(join(NodeOs::Al2023)),
        };
        let text = data.render(&live).expect("rendered");
        let part = text
            .split("Content-Type: application/node.eks.aws\n\n")
            .nth(1)
            .and_then(|rest| rest.split("\n--//--").next())
            .expect("a NodeConfig part");
        let config: serde_json::Value = serde_saphyr::from_str(part).expect("valid YAML");
        assert_eq!(config["apiVersion"].as_str(), Some("node.eks.aws/v1alpha1"));
        assert_eq!(
            config["spec"]["cluster"]["cidr"].as_str(),
            Some("172.20.0.0/16")
        );
        assert_eq!(
            config["spec"]["kubelet"]["flags"][1].as_str(),
            Some(
                "--register-with-taints=nvidia.com/gpu=true:NoSchedule,nvidia.com/gpu=true:NoExecute"
            )
        );
    }

    #[test]
    fn nothing_renders_until_the_cluster_is_known() {
        let data = UserData {
            commands: Vec::new(),
            join: Some(join(NodeOs::Al2023)),
        };
        assert_eq!(data.render(&|_| None), None);
    }

    #[test]
    fn the_cluster_dns_ip_is_the_tenth_address_of_the_service_cidr() {
        assert_eq!(
            cluster_dns_ip("10.100.0.0/16").as_deref(),
            Some("10.100.0.10")
        );
        assert_eq!(
            cluster_dns_ip("172.20.0.0/16").as_deref(),
            Some("172.20.0.10")
        );
        assert_eq!(
            cluster_dns_ip("fd30:1c53:5f8a::/108").as_deref(),
            Some("fd30:1c53:5f8a::a")
        );
        assert_eq!(cluster_dns_ip("not a cidr"), None);
    }
}
