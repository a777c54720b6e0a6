//! `ekspec timeline`, and the chart `apply --timeline` / `delete --timeline` write: one model
//! (`crate::timeline`) from the same events either way.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::{ExitStatus, TimelineArgs};
use crate::printer::{OutputFormat, Printer};
use crate::timeline::{Format, Timeline, duration};

/// Runs `timeline`: reads the events, writes the chart.
pub fn run(args: &TimelineArgs, printer: &Printer) -> Result<ExitStatus> {
    let name = args.events.display().to_string();
    let text = if name == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the events from stdin")?;
        text
    } else {
        std::fs::read_to_string(&args.events)
            .with_context(|| format!("cannot read the events {name}"))?
    };
    let timeline = Timeline::from_ndjson(&text).with_context(|| name.clone())?;
    write(&args.out, &timeline, printer)?;
    Ok(ExitStatus::Success)
}

/// Writes the chart of a live run from the events it recorded. The run's result stands
/// whatever happens here: a chart that cannot be written is a warning.
pub fn write_recorded(path: &Path, events: &[Value], printer: &Printer) {
    let written = Timeline::from_events(events)
        .map_err(anyhow::Error::from)
        .and_then(|timeline| write(path, &timeline, printer));
    if let Err(error) = written {
        printer.diagnostic(format!(
            "warning: --timeline {}: {error:#}\n",
            path.display()
        ));
    }
}

fn write(path: &Path, timeline: &Timeline, printer: &Printer) -> Result<()> {
    let format = Format::of(path).map_err(anyhow::Error::msg)?;
    std::fs::write(path, format.render(timeline))
        .with_context(|| format!("cannot write {}", path.display()))?;
    if printer.format() == OutputFormat::Json {
        // stdout holds only the events.
        return Ok(());
    }
    printer.info(format!(
        "Timeline written to {}: {} changes, {} total, critical path {}.",
        path.display(),
        timeline.rows.len(),
        duration(timeline.total),
        duration(timeline.critical)
    ));
    Ok(())
}
