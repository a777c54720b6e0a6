//! `ekspec export`: the spec of a live cluster, with what it leaves out on stderr.

use anyhow::{Result, bail};

use super::{ExitStatus, ExportArgs, GlobalOptions, init, session};
use crate::export;
use crate::printer::Printer;
use crate::spec::{self, render};

/// Runs `export`.
pub fn run(args: &ExportArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let Some(region) = global.region.as_deref() else {
        bail!("export needs the cluster's region: --region REGION");
    };
    if let Some(path) = &args.out
        && path.exists()
        && !args.force
    {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    let live = session::runtime()?.block_on(async {
        let cloud = session::cloud(global, region).await?;
        anyhow::Ok(export::read(&cloud, &args.name, region).await?)
    })?;
    let exported = export::describe(&live);
    let yaml = exported.yaml();
    for omission in &exported.omissions {
        printer.diagnostic(format!("{omission}\n"));
    }
    let out_name = args
        .out
        .as_ref()
        .map_or_else(|| "(exported spec)".to_owned(), |p| p.display().to_string());
    // Export should only ever write specs that validate; a live value the spec's rules refuse
    // (a name too long, an unknown add-on setting) can still break that.
    let check = spec::parse_str(&out_name, &yaml);
    for diagnostic in &check.diagnostics {
        printer.diagnostic(render::render(
            &check.file_name,
            &check.source,
            diagnostic,
            printer.color(),
        ));
    }
    if check.has_errors() {
        bail!(
            "the exported spec of cluster `{}` does not validate, so it is not written: the errors above name the live values the spec refuses",
            args.name
        );
    }
    let left_out = exported.omissions.len();
    printer.diagnostic(format!(
        "exported cluster `{}`: {}\n",
        args.name,
        if left_out == 0 {
            "every setting carried over".to_owned()
        } else {
            format!(
                "{left_out} live setting{} left out (above); review them before `ekspec plan`",
                if left_out == 1 { "" } else { "s" }
            )
        }
    ));
    match &args.out {
        None => printer.result(yaml.trim_end()),
        Some(path) => {
            init::write_file(path, &yaml, args.force)?;
            printer.info(format!(
                "wrote {}; next: ekspec plan -f {0}",
                path.display()
            ));
        }
    }
    Ok(ExitStatus::Success)
}
