//! `ekspec import eksctl`: an eksctl ClusterConfig as an ekspec spec, with a report of what
//! did not carry over.

use anyhow::{Result, bail};

use super::{ExitStatus, ImportEksctlArgs, init};
use crate::import::eksctl;
use crate::printer::Printer;
use crate::spec::{self, render};

/// Runs `import eksctl`.
pub fn run_eksctl(args: &ImportEksctlArgs, printer: &Printer) -> Result<ExitStatus> {
    let file_name = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).map_err(|source| spec::LoadError::Read {
        path: args.file.clone(),
        source,
    })?;
    let Ok(source) = String::from_utf8(bytes) else {
        bail!(spec::LoadError::NotUtf8 {
            path: args.file.clone()
        });
    };
    let conversion = match eksctl::convert(&file_name, &source) {
        Ok(conversion) => conversion,
        Err(error) => {
            printer.diagnostic(render::render(
                &file_name,
                &source,
                &error.diagnostic(),
                printer.color(),
            ));
            return Ok(ExitStatus::Failure);
        }
    };
    // The importer should only ever write specs that validate; values carried over from the
    // eksctl file (an unsupported version, a bad ARN) can still break that.
    let out_name = args
        .out
        .as_ref()
        .map_or_else(|| "(imported spec)".to_owned(), |p| p.display().to_string());
    let check = spec::parse_str(&out_name, &conversion.spec_yaml);
    printer.diagnostic(conversion.report(&file_name));
    // Warnings (a role left with no permissions, say) are worth seeing right away too.
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
            "the imported spec does not validate, so it is not written: fix the errors above in the eksctl file"
        );
    }
    match &args.out {
        None => printer.result(conversion.spec_yaml.trim_end()),
        Some(path) => init::write_file(path, &conversion.spec_yaml, args.force)?,
    }
    if let Some(path) = &args.out {
        printer.info(format!(
            "wrote {}; next: ekspec validate -f {0}",
            path.display()
        ));
    }
    Ok(ExitStatus::Success)
}
