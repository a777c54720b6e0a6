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
    // eksctl file (an unsupported version, a bad ARN) can still break that. The spec is not
    // written then, so each problem is shown at the eksctl field it came from.
    let check = spec::parse_str("(imported spec)", &conversion.spec_yaml);
    printer.diagnostic(conversion.report(&file_name));
    // Warnings (a role left with no permissions, say) are worth seeing right away too.
    let spec_tree = spec::source::parse_tree(&conversion.spec_yaml)
        .ok()
        .flatten();
    for diagnostic in &check.diagnostics {
        let path = diagnostic.path.clone().or_else(|| {
            spec_tree
                .as_ref()
                .and_then(|tree| tree.path_at(diagnostic.position))
        });
        printer.diagnostic(render::render(
            &file_name,
            &source,
            &conversion.at_origin(diagnostic, path.as_ref()),
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
