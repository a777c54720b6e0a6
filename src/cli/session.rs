//! What plan, apply, delete and get share: reading one spec, connecting to AWS, observing.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use super::GlobalOptions;
use super::validate::check_region_flag;
use crate::cloud::Cloud;
use crate::cloud::aws::{ConnectOptions, connect};
use crate::printer::Printer;
use crate::spec::{self, ClusterFile, render};

/// A valid spec and where it came from.
pub struct LoadedSpec {
    /// The file.
    pub path: PathBuf,
    /// Its text, exactly as read (saved plans record its hash).
    pub source: String,
    /// The spec.
    pub file: ClusterFile,
}

/// Reads every spec the paths name (folders: every *.yaml / *.yml inside); prints each
/// file's problems, and fails when any has errors or none is given.
pub fn load_specs(
    paths: &[PathBuf],
    global: &GlobalOptions,
    printer: &Printer,
) -> Result<Vec<LoadedSpec>> {
    if paths.is_empty() {
        bail!("say which specs: -f FILE|DIR (or give them as arguments)");
    }
    let files = spec::expand_paths(paths)?;
    if files.is_empty() {
        bail!("no *.yaml or *.yml spec files in {}", display_all(paths));
    }
    let mut loaded = Vec::new();
    let mut invalid = Vec::new();
    for path in files {
        let mut report = spec::load(&path)?;
        check_region_flag(&mut report, global.region.as_deref());
        for diagnostic in &report.diagnostics {
            printer.diagnostic(render::render(
                &report.file_name,
                &report.source,
                diagnostic,
                printer.color(),
            ));
        }
        match report.spec {
            Some(file) => loaded.push(LoadedSpec {
                path,
                source: report.source,
                file,
            }),
            None => invalid.push(path.display().to_string()),
        }
    }
    if !invalid.is_empty() {
        bail!(
            "{} not a valid spec; fix the errors above (`ekspec validate -f {}`)",
            if invalid.len() == 1 {
                format!("{} is", invalid[0])
            } else {
                format!("{} are", invalid.join(", "))
            },
            invalid.join(" ")
        );
    }
    let mut seen = std::collections::BTreeMap::new();
    for spec in &loaded {
        let key = (&spec.file.metadata.name, &spec.file.metadata.region);
        if let Some(other) = seen.insert(key, &spec.path) {
            bail!(
                "{} and {} both describe cluster `{}` in {}",
                other.display(),
                spec.path.display(),
                key.0,
                key.1
            );
        }
    }
    Ok(loaded)
}

fn display_all(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Connects to AWS in `region`.
pub async fn cloud(global: &GlobalOptions, region: &str) -> Result<Cloud> {
    let options = ConnectOptions {
        region: region.to_owned(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        ..ConnectOptions::default()
    };
    Ok(connect(&options).await?)
}
