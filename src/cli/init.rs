//! `ekspec init`: a commented starter spec that validates as written.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{ExitStatus, GlobalOptions, InitArgs};
use crate::printer::Printer;
use crate::spec::{self, render};

const DEFAULT_REGION: &str = "us-east-1";

/// The starter spec for a cluster `name` in `region`.
pub fn starter_spec(name: &str, region: &str) -> String {
    format!(
        r#"# yaml-language-server: $schema=https://raw.githubusercontent.com/ekspec/ekspec/main/schema/ekspec.schema.json
# An ekspec cluster spec. `ekspec plan -f THIS_FILE` shows what would change in AWS,
# `ekspec apply -f THIS_FILE` makes the account match it. Reference: docs/spec.md
apiVersion: ekspec/v1alpha1
kind: Cluster
metadata:
  name: {name}                    # EKS cluster name
  region: {region}
  tags:                          # added to every resource ekspec creates
    managed-by: ekspec
spec:
  kubernetesVersion: "{version}"       # quoted: 1.30 unquoted would be the number 1.3
  vpc:
    cidr: 10.0.0.0/16            # immutable once created
    zoneCount: 3                 # or availabilityZones: [...]
    natGateway: single           # single | perZone | none
  endpoint:
    publicAccess: true
    privateAccess: true
    publicAccessCidrs: [0.0.0.0/0]   # narrow this to your office / CI ranges
  logging: [api, audit, authenticator]
  nodeGroups:
    - name: default
      instanceTypes: [m6i.large]
      capacityType: onDemand     # onDemand | spot
      minSize: 2
      maxSize: 4
      desiredSize: 2             # used at creation; the autoscaler owns it afterwards
      diskSizeGiB: 50
      labels: {{role: general}}
  # serviceAccounts:             # IAM roles for service accounts (IRSA)
  #   - name: external-dns
  #     namespace: kube-system
  #     policyArns: [arn:aws:iam::aws:policy/AmazonRoute53FullAccess]
  # addons:
  #   - name: vpc-cni
  #   - name: coredns
  #   - name: kube-proxy
"#,
        // The newest EKS offers: the longest in standard support (an older one may already
        // be in extended support, billed extra per cluster hour).
        version = format_args!("1.{}", spec::validate::NEWEST_MINOR),
    )
}

/// Writes `text` to a new file; an existing one only with `force`.
pub fn write_file(path: &Path, text: &str, force: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(path) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            )
        }
        other => other.with_context(|| format!("cannot create {}", path.display()))?,
    };
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `init`.
pub fn run(args: &InitArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let region = global.region.as_deref().unwrap_or(DEFAULT_REGION);
    let text = starter_spec(&args.name, region);
    let report = spec::parse_str("(starter spec)", &text);
    if report.has_errors() {
        for diagnostic in report.diagnostics.iter().filter(|d| d.is_error()) {
            printer.diagnostic(render::render(
                &report.file_name,
                &report.source,
                diagnostic,
                printer.color(),
            ));
        }
        bail!(
            "cannot write a starter spec for cluster `{}` in {region}: fix the name or region above",
            args.name
        );
    }
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.yaml", args.name)));
    if path.as_os_str() == "-" {
        printer.result(text.trim_end());
        return Ok(ExitStatus::Success);
    }
    write_file(&path, &text, args.force)?;
    printer.info(format!(
        "wrote {}; next: ekspec validate -f {0}",
        path.display()
    ));
    Ok(ExitStatus::Success)
}
