//! `ekspec plan`: what apply would change.

use anyhow::Result;

use super::{ExitStatus, GlobalOptions, PlanArgs, session};
use crate::plan::render;
use crate::printer::{OutputFormat, Printer};
use crate::resources::{observe, planner};

/// Runs `plan`.
pub fn run(args: &PlanArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let file = session::load_spec(&args.file, global, printer)?;
    let plan = session::runtime()?.block_on(async {
        let cloud = session::cloud(global, &file.metadata.region).await?;
        let observed = observe(&cloud, &file.metadata.name, Some(&file)).await?;
        anyhow::Ok(planner::plan(&file, &observed))
    })?;
    match printer.format() {
        OutputFormat::Json => printer.json(&render::json(&plan)),
        OutputFormat::Text => printer.result(render::text(&plan).trim_end()),
    }
    Ok(if plan.impossible().next().is_some() {
        ExitStatus::Failure
    } else if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
