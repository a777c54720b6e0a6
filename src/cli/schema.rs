//! `ekspec schema`: the JSON Schema of the spec format.

use anyhow::Result;

use super::ExitStatus;
use crate::printer::Printer;

/// The schema as published in `schema/ekspec.schema.json`.
pub fn schema_text() -> String {
    let text = serde_json::to_string_pretty(crate::spec::structure::schema())
        .unwrap_or_else(|_| "{}".to_owned());
    format!("{text}\n")
}

/// Runs `schema`.
pub fn run(printer: &Printer) -> Result<ExitStatus> {
    printer.result(schema_text().trim_end());
    Ok(ExitStatus::Success)
}
