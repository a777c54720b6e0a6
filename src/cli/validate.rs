//! `ekspec validate`: check spec files and report every problem.

use anyhow::Result;
use serde_json::json;

use super::{ExitStatus, GlobalOptions, ValidateArgs};
use crate::printer::{OutputFormat, Printer};
use crate::spec::{self, Diagnostic, FieldPath, Severity, SpecReport, render};

/// Runs `validate`.
pub fn run(args: &ValidateArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let files = spec::expand_paths(&args.files)?;
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        let mut report = spec::load(file)?;
        check_region_flag(&mut report, global.region.as_deref());
        reports.push(report);
    }
    let failed = reports
        .iter()
        .filter(|r| r.has_errors() || (args.strict && r.count(Severity::Warning) > 0))
        .count();
    match printer.format() {
        OutputFormat::Json => printer.json(&json!({
            "files": reports.iter().map(|r| json!({
                "file": r.file_name,
                "valid": !(r.has_errors() || args.strict && r.count(Severity::Warning) > 0),
                "cluster": r.spec.as_ref().map(|s| &s.metadata.name),
                "region": r.spec.as_ref().map(|s| &s.metadata.region),
                "diagnostics": r.diagnostics,
            })).collect::<Vec<_>>(),
            "errors": reports.iter().map(|r| r.count(Severity::Error)).sum::<usize>(),
            "warnings": reports.iter().map(|r| r.count(Severity::Warning)).sum::<usize>(),
        })),
        OutputFormat::Text | OutputFormat::Markdown => print_text(&reports, args.strict, printer),
    }
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn print_text(reports: &[SpecReport], strict: bool, printer: &Printer) {
    for report in reports {
        for diagnostic in &report.diagnostics {
            let mut shown = diagnostic.clone();
            if strict {
                shown.severity = Severity::Error;
            }
            printer.diagnostic(render::render(
                &report.file_name,
                &report.source,
                &shown,
                printer.color(),
            ));
        }
        if let Some(spec) = &report.spec
            && !(strict && report.count(Severity::Warning) > 0)
        {
            printer.info(format!(
                "{}: valid (cluster `{}` in {})",
                report.file_name, spec.metadata.name, spec.metadata.region
            ));
        }
    }
    let errors: usize = reports.iter().map(|r| r.count(Severity::Error)).sum();
    let warnings: usize = reports.iter().map(|r| r.count(Severity::Warning)).sum();
    if errors + warnings > 0 || reports.len() > 1 {
        printer.info(format!(
            "{} checked: {} error{}, {} warning{}",
            plural(reports.len(), "file"),
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" },
        ));
    }
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `--region` may not contradict `metadata.region`: that is a problem of the spec.
pub fn check_region_flag(report: &mut SpecReport, region: Option<&str>) {
    let (Some(flag), Some(spec)) = (region, &report.spec) else {
        return;
    };
    if spec.metadata.region == flag {
        return;
    }
    let path = FieldPath::root().key("metadata").key("region");
    let position = spec::source::parse_tree(&report.source)
        .ok()
        .flatten()
        .map(|tree| tree.locate(&path).0)
        .unwrap_or_default();
    report.diagnostics.push(
        Diagnostic::error(
            position,
            format!(
                "--region {flag} contradicts metadata.region `{}`",
                spec.metadata.region
            ),
        )
        .with_path(path)
        .with_hint("drop --region, or change metadata.region in the spec"),
    );
    report.spec = None;
}
