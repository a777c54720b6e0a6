//! What a launch template's user data says about its nodes: how a custom AMI's nodes join the
//! cluster (which tells its OS family) and the commands they run before they join. Reads what
//! ekspec writes (src/resources/user_data.rs) and what eksctl writes for managed node groups
//! (a nodeadm `NodeConfig` in a MIME archive for AL2023, TOML for Bottlerocket,
//! `/etc/eks/bootstrap.sh` for Amazon Linux 2).

use crate::resources::user_data::SCRIPT_PRELUDE;

/// How a custom AMI's nodes join the cluster, told from their user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    /// nodeadm's `NodeConfig` (`application/node.eks.aws`): Amazon Linux 2023.
    Nodeadm,
    /// `[settings.kubernetes]` TOML: Bottlerocket.
    Bottlerocket,
    /// `/etc/eks/bootstrap.sh`: Amazon Linux 2.
    EksBootstrapSh,
}

/// The way the user data joins a node, when it says.
pub fn bootstrap(user_data: &str) -> Option<Bootstrap> {
    if user_data.contains("application/node.eks.aws") || user_data.contains("kind: NodeConfig") {
        Some(Bootstrap::Nodeadm)
    } else if user_data
        .lines()
        .any(|line| line.trim_start().starts_with("[settings.kubernetes"))
    {
        Some(Bootstrap::Bottlerocket)
    } else if user_data.contains("/etc/eks/bootstrap.sh") {
        Some(Bootstrap::EksBootstrapSh)
    } else {
        None
    }
}

/// The commands of the user data's shell script parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commands {
    /// One per line; a command with blank lines in it stays one, so that ekspec writes the
    /// same script back.
    pub commands: Vec<String>,
    /// Whether a script part was written by another tool (its first lines are not ekspec's):
    /// its commands are then a guess at what the user asked for.
    pub foreign: bool,
}

/// The commands of the shell script parts of a MIME multi-part user data (none when it is not
/// one).
pub fn commands(user_data: &str) -> Commands {
    let mut found = Commands::default();
    let Some(boundary) = mime_boundary(user_data) else {
        return found;
    };
    let (open, close) = (format!("--{boundary}"), format!("--{boundary}--"));
    let mut parts: Vec<Vec<&str>> = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in user_data.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line == open || line == close {
            parts.extend(current.take());
            current = (line == open).then(Vec::new);
        } else if let Some(part) = current.as_mut() {
            part.push(line);
        }
    }
    parts.extend(current);
    for part in parts {
        let blank = part.iter().position(|l| l.is_empty()).unwrap_or(part.len());
        let (headers, body) = part.split_at(blank);
        let script = headers.iter().any(|h| {
            h.to_ascii_lowercase()
                .starts_with("content-type: text/x-shellscript")
        });
        if !script {
            continue;
        }
        let text = body.iter().skip(1).copied().collect::<Vec<_>>().join("\n") + "\n";
        let lines = match text.strip_prefix(SCRIPT_PRELUDE) {
            Some(rest) => rest.to_owned(),
            None => {
                found.foreign = true;
                match text.strip_prefix("#!") {
                    Some(rest) => rest
                        .split_once('\n')
                        .map(|(_, r)| r)
                        .unwrap_or("")
                        .to_owned(),
                    None => text,
                }
            }
        };
        found.commands.extend(grouped(lines.trim_end()));
    }
    found
}

/// Lines as commands: a blank line and the line after it belong to the command before.
fn grouped(script: &str) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    let mut after_blank = false;
    for line in script.lines() {
        match commands.last_mut() {
            Some(last) if after_blank || line.trim().is_empty() => {
                last.push('\n');
                last.push_str(line);
            }
            _ => commands.push(line.to_owned()),
        }
        after_blank = line.trim().is_empty();
    }
    commands
}

/// The boundary a MIME multi-part document declares in its headers.
fn mime_boundary(text: &str) -> Option<&str> {
    let headers = text.split("\n\n").next()?;
    let start = headers.find("boundary=")? + "boundary=".len();
    let rest = &headers[start..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split([';', '\n', '\r', ' ']).next()?,
    };
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::Ref;
    use crate::resources::user_data::{NodeJoin, NodeOs, UserData};

    fn rendered(commands: &[&str], os: Option<NodeOs>) -> String {
        let data = UserData {
            commands: commands.iter().map(|c| (*c).to_owned()).collect(),
            join: os.map(|os| NodeJoin {
                os,
                cluster: "demo".to_owned(),
                endpoint: Ref::Value("https://ABCD.eks.amazonaws.com".to_owned()),
                certificate_authority: Ref::Value("LS0tQ0E=".to_owned()),
                service_cidr: Ref::Value("172.20.0.0/16".to_owned()),
                labels: BTreeMap::from([("role".to_owned(), "gpu".to_owned())]),
                taints: vec!["gpu=true:NoSchedule".to_owned()],
            }),
        };
        data.render(&|r| match r {
            Ref::Value(v) => Some(v.clone()),
            Ref::Output(_) => None,
        })
        .expect("rendered")
    }

    #[test]
    fn ekspec_user_data_reads_back_as_the_commands_and_os_it_was_written_from() {
        let commands = [
            "echo hello > /tmp/hello",
            "sysctl -w vm.max_map_count=262144",
        ];
        // A command of several lines reads back as lines, which ekspec writes back the same.
        let heredoc = [
            "cat <<EOF > /etc/motd\nfirst\n\n  indented after a blank\nEOF",
            "echo done",
        ];
        for os in [None, Some(NodeOs::Al2023)] {
            let text = rendered(&commands, os);
            assert_eq!(super::commands(&text).commands, commands, "{text}");
            assert!(!super::commands(&text).foreign);
            let text = rendered(&heredoc, os);
            let read = super::commands(&text).commands;
            let read: Vec<&str> = read.iter().map(String::as_str).collect();
            assert_eq!(rendered(&read, os), text);
        }
        assert_eq!(
            bootstrap(&rendered(&[], Some(NodeOs::Al2023))),
            Some(Bootstrap::Nodeadm)
        );
        assert_eq!(
            bootstrap(&rendered(&[], Some(NodeOs::Bottlerocket))),
            Some(Bootstrap::Bottlerocket)
        );
        assert_eq!(bootstrap(&rendered(&["echo hi"], None)), None);
        assert_eq!(
            super::commands(&rendered(&[], Some(NodeOs::Bottlerocket))),
            Commands::default()
        );
    }

    #[test]
    fn other_tools_user_data_tells_the_os_and_its_scripts_are_flagged() {
        // eksctl's AL2023 user data for a custom AMI (eksctl docs, "Node bootstrapping").
        let eksctl = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=//\r\n\r\n--//\r\nContent-Type: text/x-shellscript\r\n\r\n#!/bin/bash\r\nset -ex\r\nyum install -y htop\r\n--//\r\nContent-Type: application/node.eks.aws\r\n\r\napiVersion: node.eks.aws/v1alpha1\r\nkind: NodeConfig\r\n--//--\r\n";
        assert_eq!(bootstrap(eksctl), Some(Bootstrap::Nodeadm));
        assert_eq!(
            super::commands(eksctl),
            Commands {
                commands: vec!["set -ex".to_owned(), "yum install -y htop".to_owned()],
                foreign: true,
            }
        );
        let al2 =
            "#!/bin/bash\n/etc/eks/bootstrap.sh shop --kubelet-extra-args '--node-labels=a=b'\n";
        assert_eq!(bootstrap(al2), Some(Bootstrap::EksBootstrapSh));
        assert_eq!(super::commands(al2), Commands::default());
        assert_eq!(bootstrap("echo nothing to tell"), None);
    }
}
