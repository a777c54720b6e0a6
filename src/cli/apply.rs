//! `ekspec apply` and `ekspec delete`: show the plan, confirm, run it, report each step.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use anyhow::{Result, bail};
use tokio::sync::watch;

use super::{ApplyArgs, DeleteArgs, ExitStatus, GlobalOptions, session};
use crate::exec::{self, Context, wait::Waiter};
use crate::plan::{Plan, render};
use crate::printer::{OutputFormat, Printer};
use crate::progress::Progress;
use crate::resources::{observe, planner};
use serde_json::json;

/// Runs `apply`.
pub fn run_apply(
    args: &ApplyArgs,
    global: &GlobalOptions,
    printer: &Printer,
) -> Result<ExitStatus> {
    let file = session::load_spec(&args.file, global, printer)?;
    session::runtime()?.block_on(async {
        let cloud = session::cloud(global, &file.metadata.region).await?;
        let observed = observe(&cloud, &file.metadata.name, Some(&file)).await?;
        let plan = planner::plan(&file, &observed);
        let ctx = Context::new(
            cloud,
            &observed,
            &file.metadata.name,
            &file.metadata.region,
            waiter(args.timeout),
        );
        run_plan(plan, ctx, args.auto_approve, "Apply", printer).await
    })
}

/// Runs `delete`.
pub fn run_delete(
    args: &DeleteArgs,
    global: &GlobalOptions,
    printer: &Printer,
) -> Result<ExitStatus> {
    let (name, region) = match (&args.file, &args.name) {
        (Some(path), _) => {
            let file = session::load_spec(path, global, printer)?;
            (file.metadata.name, file.metadata.region)
        }
        (None, Some(name)) => match &global.region {
            Some(region) => (name.clone(), region.clone()),
            None => bail!("--name needs --region"),
        },
        (None, None) => bail!("say which cluster: -f FILE, or --name NAME --region REGION"),
    };
    session::runtime()?.block_on(async {
        let cloud = session::cloud(global, &region).await?;
        let observed = observe(&cloud, &name, None).await?;
        let plan = planner::plan_delete(&name, &region, &observed);
        let ctx = Context::new(cloud, &observed, &name, &region, waiter(args.timeout));
        run_plan(plan, ctx, args.auto_approve, "Delete", printer).await
    })
}

fn waiter(timeout_minutes: u64) -> Waiter {
    Waiter {
        timeout: std::time::Duration::from_secs(timeout_minutes * 60),
        ..Waiter::default()
    }
}

async fn run_plan(
    plan: Plan,
    ctx: Context,
    auto_approve: bool,
    what: &str,
    printer: &Printer,
) -> Result<ExitStatus> {
    let progress = Progress::new(printer);
    match printer.format() {
        OutputFormat::Text => printer.info(render::text(&plan).trim_end()),
        OutputFormat::Json => progress.json_event("plan", json!({"plan": render::json(&plan)})),
    }
    if plan.impossible().next().is_some() {
        bail!("the plan has impossible changes (marked `!` above); no change was made");
    }
    if plan.is_empty() {
        progress.json_event("result", json!({"success": true, "done": 0}));
        return Ok(ExitStatus::Success);
    }
    if plan.is_destructive() && !auto_approve {
        if !std::io::stdin().is_terminal() {
            bail!(
                "the plan deletes or replaces resources and there is no terminal to confirm it; re-run with --auto-approve"
            );
        }
        printer.diagnostic("Type `yes` to apply this plan (it deletes or replaces resources): ");
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            bail!("not confirmed; nothing was changed");
        }
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
            tracing::warn!(
                "stopping: running steps finish, nothing new starts (Ctrl-C again to abort)"
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let report = exec::execute(&plan, Arc::new(ctx), stop_rx, |event| {
        progress.event(&event)
    })
    .await;
    progress.finish();
    progress.json_event(
        "result",
        json!({
            "success": report.success(),
            "interrupted": report.interrupted,
            "done": report.done.len(),
            "failed": report.failed.iter().map(|(r, e)| json!({"resource": r, "error": e})).collect::<Vec<_>>(),
            "skipped": report.skipped.iter().map(|(r, e)| json!({"resource": r, "reason": e})).collect::<Vec<_>>(),
        }),
    );
    if report.success() {
        if printer.format() == OutputFormat::Text {
            printer.result(format!("{what} complete: {} changes.", report.done.len()));
        }
        Ok(ExitStatus::Success)
    } else if report.interrupted {
        bail!(
            "interrupted: {} changes done, {} not started; run the same command again to continue",
            report.done.len(),
            report.skipped.len()
        );
    } else {
        bail!(
            "{} change(s) failed, {} skipped; fix the cause and run the same command again (it continues from live state)",
            report.failed.len(),
            report.skipped.len()
        );
    }
}
