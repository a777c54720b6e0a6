//! `ekspec kubeconfig`: add a context for a live cluster to a kubeconfig, with `ekspec token`
//! as its credential plugin, leaving every other entry alone.

use anyhow::{Context as _, Result, bail};
use serde_json::json;

use super::{ExitStatus, GlobalOptions, KubeconfigArgs, session};
use crate::cloud::ObservedCluster;
use crate::cloud::eks_token::EXEC_API_VERSION;
use crate::kubeconfig::{Change, ClusterAccess, ExecPlugin, Kubeconfig, resolve_path};
use crate::printer::{OutputFormat, Printer};

/// Runs `kubeconfig`.
pub fn run(args: &KubeconfigArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let (cluster, region) = match &args.name {
        Some(name) => match &global.region {
            Some(region) => (name.clone(), region.clone()),
            None => bail!("--name needs --region"),
        },
        None => {
            let mut specs = session::load_specs(&args.specs.all(), global, printer)?;
            if specs.len() != 1 {
                bail!(
                    "kubeconfig writes the context of one cluster; give one spec, not {}",
                    specs.len()
                );
            }
            let file = specs.remove(0).file;
            (file.metadata.name, file.metadata.region)
        }
    };
    let path = resolve_path(
        args.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::home_dir().as_deref(),
    )?;
    // Read the file before calling AWS: a broken kubeconfig fails fast.
    let mut config = Kubeconfig::load(&path)?;

    let observed = session::runtime()?.block_on(async {
        let cloud = session::cloud(global, &region).await?;
        anyhow::Ok(cloud.kubernetes.describe_cluster(&cluster).await?)
    })?;
    let (arn, server, ca) = connection(observed, &cluster, &region)?;
    let access = ClusterAccess {
        context_name: args.context.clone().unwrap_or_else(|| arn.clone()),
        entry_name: arn,
        server,
        certificate_authority_data: ca,
        exec: ExecPlugin {
            api_version: EXEC_API_VERSION.to_owned(),
            command: plugin_command(),
            args: token_args(&cluster, &region, global, args.role_arn.as_deref()),
        },
    };
    let change = config.upsert(&access)?;
    if change != Change::Unchanged {
        config.save()?;
    }

    let shown = path.display();
    let context = &access.context_name;
    if printer.format() == OutputFormat::Json {
        printer.json(&json!({
            "kubeconfig": shown.to_string(),
            "context": context,
            "cluster": access.entry_name,
            "server": access.server,
            "change": match change {
                Change::Added => "added",
                Change::Updated => "updated",
                Change::Unchanged => "unchanged",
            },
        }));
    } else {
        printer.result(match change {
            Change::Added => {
                format!("Added context `{context}` to {shown}; it is the current context.")
            }
            Change::Updated => {
                format!("Updated context `{context}` in {shown}; it is the current context.")
            }
            Change::Unchanged => {
                format!("Context `{context}` in {shown} is up to date and current.")
            }
        });
    }
    Ok(ExitStatus::Success)
}

/// The ARN, API server URL and CA data of a cluster that takes connections, or why it does not.
fn connection(
    observed: Option<ObservedCluster>,
    cluster: &str,
    region: &str,
) -> Result<(String, String, String)> {
    let Some(observed) = observed else {
        bail!(
            "cluster `{cluster}` does not exist in {region}; create it with `ekspec apply`, \
             or check --region and --profile"
        );
    };
    if observed.status != "ACTIVE" {
        bail!(
            "cluster `{cluster}` in {region} is {}, not ACTIVE: it has no API server to connect \
             to yet; run this again once `ekspec get` shows it ACTIVE",
            observed.status
        );
    }
    let server = observed
        .endpoint
        .with_context(|| format!("EKS returned no endpoint for cluster `{cluster}`"))?;
    let ca = observed.certificate_authority.with_context(|| {
        format!("EKS returned no certificate authority for cluster `{cluster}`")
    })?;
    Ok((observed.arn, server, ca))
}

/// The program kubectl runs for a token: this ekspec binary by its full path, so the context
/// works whatever PATH kubectl runs with; `ekspec` when the path is unknown.
fn plugin_command() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.to_str().map(str::to_owned))
        .unwrap_or_else(|| "ekspec".to_owned())
}

/// `token --cluster NAME --region R`, plus the profile and role this run was given.
fn token_args(
    cluster: &str,
    region: &str,
    global: &GlobalOptions,
    role_arn: Option<&str>,
) -> Vec<String> {
    let mut args = vec![
        "token".to_owned(),
        "--cluster".to_owned(),
        cluster.to_owned(),
        "--region".to_owned(),
        region.to_owned(),
    ];
    if let Some(profile) = &global.profile {
        args.extend(["--profile".to_owned(), profile.clone()]);
    }
    if let Some(role_arn) = role_arn {
        args.extend(["--role-arn".to_owned(), role_arn.to_owned()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn cluster(status: &str) -> ObservedCluster {
        ObservedCluster {
            name: "demo".to_owned(),
            arn: "arn:aws:eks:eu-west-1:123456789012:cluster/demo".to_owned(),
            status: status.to_owned(),
            version: "1.31".to_owned(),
            role_arn: String::new(),
            subnet_ids: Vec::new(),
            vpc_id: None,
            cluster_security_group_id: None,
            endpoint_public_access: true,
            endpoint_private_access: true,
            public_access_cidrs: Vec::new(),
            enabled_log_types: Vec::new(),
            encryption_key_arn: None,
            authentication_mode: None,
            oidc_issuer: None,
            endpoint: Some("https://ABC.gr7.eu-west-1.eks.amazonaws.com".to_owned()),
            certificate_authority: Some("Q0E=".to_owned()),
            tags: Default::default(),
            auto_mode: None,
            ip_family: None,
            service_cidr: None,
            ..Default::default()
        }
    }

    fn refusal(observed: Option<ObservedCluster>) -> String {
        connection(observed, "demo", "eu-west-1")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn only_an_active_cluster_with_endpoint_and_ca_gets_a_context() {
        let (arn, server, ca) = connection(Some(cluster("ACTIVE")), "demo", "eu-west-1").unwrap();
        assert_eq!(arn, "arn:aws:eks:eu-west-1:123456789012:cluster/demo");
        assert_eq!(server, "https://ABC.gr7.eu-west-1.eks.amazonaws.com");
        assert_eq!(ca, "Q0E=");

        assert!(
            refusal(None).starts_with("cluster `demo` does not exist in eu-west-1"),
            "{}",
            refusal(None)
        );
        let creating = refusal(Some(cluster("CREATING")));
        assert!(
            creating.starts_with("cluster `demo` in eu-west-1 is CREATING, not ACTIVE"),
            "{creating}"
        );
        let mut no_ca = cluster("ACTIVE");
        no_ca.certificate_authority = None;
        assert_eq!(
            refusal(Some(no_ca)),
            "EKS returned no certificate authority for cluster `demo`"
        );
    }

    #[test]
    fn the_plugin_gets_the_profile_and_role_of_this_run() {
        let mut global = crate::cli::Cli::try_parse_from(["ekspec", "schema"])
            .unwrap()
            .global;
        assert_eq!(
            token_args("demo", "eu-west-1", &global, None),
            ["token", "--cluster", "demo", "--region", "eu-west-1"]
        );
        global.profile = Some("prod".to_owned());
        assert_eq!(
            token_args(
                "demo",
                "eu-west-1",
                &global,
                Some("arn:aws:iam::1:role/admin")
            ),
            [
                "token",
                "--cluster",
                "demo",
                "--region",
                "eu-west-1",
                "--profile",
                "prod",
                "--role-arn",
                "arn:aws:iam::1:role/admin"
            ]
        );
    }
}
