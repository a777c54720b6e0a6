//! What plan, apply, delete and get share: reading one spec, connecting to AWS, observing.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};

use super::GlobalOptions;
use super::validate::check_region_flag;
use crate::cloud::Cloud;
use crate::cloud::aws::{ConnectOptions, connect};
use crate::printer::Printer;
use crate::spec::{self, ClusterFile, render};

/// Reads one spec file; prints its problems and fails when it has errors.
pub fn load_spec(path: &Path, global: &GlobalOptions, printer: &Printer) -> Result<ClusterFile> {
    let files = spec::expand_paths(&[path.to_owned()])?;
    let [file] = files.as_slice() else {
        bail!(
            "{}: expected one spec file, found {} (fleets of specs are not supported yet)",
            path.display(),
            files.len()
        );
    };
    let mut report = spec::load(file)?;
    check_region_flag(&mut report, global.region.as_deref());
    for diagnostic in &report.diagnostics {
        printer.diagnostic(render::render(
            &report.file_name,
            &report.source,
            diagnostic,
            printer.color(),
        ));
    }
    report.spec.ok_or_else(|| {
        anyhow!(
            "{} is not a valid spec; fix the errors above (`ekspec validate -f {0}`)",
            file.display()
        )
    })
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
