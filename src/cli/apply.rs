//! `ekspec apply` and `ekspec delete`: show the plans, confirm, run them, report each step.
//! Several specs run concurrently and end with one summary table; a saved plan is applied
//! only if planning now gives exactly the same plan.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use tokio::sync::watch;

use super::fleet::{self, Outcome};
use super::plan::plan_spec;
use super::session::{self, LoadedSpec};
use super::timeline;
use super::{ApplyArgs, DeleteArgs, ExitStatus, GlobalOptions};
use crate::exec::{self, Context, Report, wait::Waiter};
use crate::lock::{ClusterLock, Holder, Released};
use crate::plan::saved::{self, SavedPlan};
use crate::plan::{Plan, render};
use crate::policy::Gate;
use crate::printer::{OutputFormat, Printer};
use crate::progress::Progress;
use crate::resources::adopt::AdoptMode;
use crate::resources::{Observed, observe, observe_adopting, planner};
use crate::spec::ClusterFile;
use crate::timeline::Recorder;

/// A cluster's plan, ready to run.
struct Prepared {
    cluster: String,
    region: String,
    plan: Plan,
    ctx: Context,
    target: Target,
    /// The policy gate denied the plan (its findings are printed with the plan).
    denied: bool,
    /// What the policies said, printed after the plan.
    findings: Vec<crate::policy::Finding>,
}

/// What a plan was made from, so it can be made again once the cluster lock is held.
enum Target {
    /// The spec, and what adoption was asked for.
    Apply(Box<ClusterFile>, AdoptMode),
    Delete,
}

impl Target {
    fn file(&self) -> Option<&ClusterFile> {
        match self {
            Self::Apply(file, _) => Some(&**file),
            Self::Delete => None,
        }
    }

    fn plan(&self, cluster: &str, region: &str, observed: &Observed) -> Plan {
        match self {
            Self::Apply(file, _) => planner::plan(file, observed),
            Self::Delete => planner::plan_delete(cluster, region, observed),
        }
    }

    /// The command, as the lock names it.
    fn command(&self) -> &'static str {
        match self {
            Self::Apply(_, AdoptMode::Off) => "apply",
            Self::Apply(_, _) => "adopt",
            Self::Delete => "delete",
        }
    }

    /// What adoption was asked for.
    fn adopt(&self) -> AdoptMode {
        match self {
            Self::Apply(_, mode) => *mode,
            Self::Delete => AdoptMode::Off,
        }
    }
}

/// How `run` goes about it.
#[derive(Clone, Copy)]
struct RunOptions<'a> {
    auto_approve: bool,
    break_lock: bool,
    /// `Apply` or `Delete`, for the result line.
    what: &'static str,
    /// `--timeline`: where the chart of the run goes.
    timeline: Option<&'a Path>,
}

/// A cluster that could not be planned.
struct Unprepared {
    cluster: String,
    region: String,
    error: anyhow::Error,
}

/// The waiter for `--timeout`: when given, it bounds every wait; when not, waits get the
/// default bound and node group rollouts longer ones as their size needs.
fn waiter(timeout: Option<std::time::Duration>) -> Waiter {
    match timeout {
        Some(timeout) => Waiter {
            timeout,
            scale_rollouts: false,
            ..Waiter::default()
        },
        None => Waiter::default(),
    }
}

async fn prepare_apply(
    global: &GlobalOptions,
    spec: &LoadedSpec,
    args: &ApplyArgs,
    adopt: AdoptMode,
    gate: Option<&Gate>,
) -> Result<Prepared, Unprepared> {
    let file = &spec.file;
    let (cluster, region) = (file.metadata.name.clone(), file.metadata.region.clone());
    let prepared = async {
        super::plan::check_adopt_network(spec, adopt)?;
        let cloud = session::cloud(global, &region).await?;
        let observed = observe_adopting(&cloud, &cluster, Some(file), adopt).await?;
        let plan = planner::plan(file, &observed);
        if !args.force_upgrade {
            refuse_blocked_upgrade(&plan, &observed)?;
        }
        // The gate judges the plan before the first call that changes anything.
        let verdict = match gate {
            Some(gate) => gate
                .judge(&plan, Some((file, &spec.path)))
                .with_context(|| format!("the policies could not judge {}", spec.path.display()))?,
            None => crate::policy::Verdict::default(),
        };
        let ctx = Context::new(cloud, &observed, &cluster, &region, waiter(args.timeout))
            .force_upgrade(args.force_upgrade);
        anyhow::Ok((plan, ctx, verdict))
    };
    match prepared.await {
        Ok((plan, ctx, verdict)) => Ok(Prepared {
            cluster,
            region,
            plan,
            ctx,
            target: Target::Apply(Box::new(file.clone()), adopt),
            denied: verdict.denied(),
            findings: verdict.findings,
        }),
        Err(error) => Err(Unprepared {
            cluster,
            region,
            error,
        }),
    }
}

/// Stops before anything changes when the plan upgrades Kubernetes and EKS's upgrade insights
/// have an ERROR for the next version (EKS would refuse UpdateClusterVersion without `force`).
fn refuse_blocked_upgrade(plan: &Plan, observed: &Observed) -> Result<()> {
    let upgrading = plan.changes.iter().any(|c| {
        c.operations
            .iter()
            .any(|op| matches!(op, crate::plan::Operation::UpdateClusterVersion { .. }))
    });
    let errors: Vec<String> = observed
        .upgrade_insights
        .iter()
        .filter(|i| i.status == "ERROR")
        .map(|i| {
            let version = i.kubernetes_version.as_deref().unwrap_or("?");
            format!("{} (Kubernetes {version}): {}", i.name, i.reason)
        })
        .collect();
    if upgrading && !errors.is_empty() {
        bail!(
            "EKS upgrade insights report issues that block this upgrade:\n  {}\nnothing was changed: fix them (`aws eks list-insights --cluster-name {}`), or run `ekspec apply --force-upgrade` to upgrade anyway",
            errors.join("\n  "),
            plan.cluster
        );
    }
    Ok(())
}

async fn prepare_delete(
    global: &GlobalOptions,
    target: DeleteTarget,
    timeout: Option<std::time::Duration>,
    gate: Option<&Gate>,
) -> Result<Prepared, Unprepared> {
    let (cluster, region) = (target.cluster.clone(), target.region.clone());
    let prepared = async {
        let cloud = session::cloud(global, &region).await?;
        let observed = observe(&cloud, &cluster, None).await?;
        let plan = planner::plan_delete(&cluster, &region, &observed);
        let spec = target.spec.as_ref().map(|s| (&s.file, s.path.as_path()));
        let verdict = match gate {
            Some(gate) => gate.judge(&plan, spec).with_context(|| {
                format!("the policies could not judge the deletion of {cluster}")
            })?,
            None => crate::policy::Verdict::default(),
        };
        let ctx = Context::new(cloud, &observed, &cluster, &region, waiter(timeout));
        anyhow::Ok((plan, ctx, verdict))
    };
    match prepared.await {
        Ok((plan, ctx, verdict)) => Ok(Prepared {
            cluster,
            region,
            plan,
            ctx,
            target: Target::Delete,
            denied: verdict.denied(),
            findings: verdict.findings,
        }),
        Err(error) => Err(Unprepared {
            cluster,
            region,
            error,
        }),
    }
}

/// Runs `apply` (`adopt`: `apply --adopt` and `ekspec adopt`, with `--adopt-network`).
pub fn run_apply(
    args: &ApplyArgs,
    adopt: AdoptMode,
    global: &GlobalOptions,
    printer: &Printer,
) -> Result<ExitStatus> {
    let paths = args.specs.all();
    if let [path] = paths.as_slice()
        && is_saved_plan(path)
    {
        return apply_saved(path, args, global, printer);
    }
    let gate = args.policy.gate()?;
    let gate = gate.as_ref();
    let specs = session::load_specs(&paths, global, printer)?;
    session::runtime()?.block_on(async {
        let prepared = fleet::each(specs, |spec| async move {
            prepare_apply(global, &spec, args, adopt, gate).await
        })
        .await;
        run(prepared, apply_options(args), printer).await
    })
}

fn apply_options(args: &ApplyArgs) -> RunOptions<'_> {
    RunOptions {
        auto_approve: args.auto_approve,
        break_lock: args.break_lock,
        what: "Apply",
        timeline: args.timeline.as_deref(),
    }
}

/// A cluster `delete` removes, and the spec that named it (none with `--name`).
struct DeleteTarget {
    cluster: String,
    region: String,
    spec: Option<LoadedSpec>,
}

/// Runs `delete`.
pub fn run_delete(
    args: &DeleteArgs,
    global: &GlobalOptions,
    printer: &Printer,
) -> Result<ExitStatus> {
    let gate = args.policy.gate()?;
    let gate = gate.as_ref();
    let clusters: Vec<DeleteTarget> = match &args.name {
        Some(name) => match &global.region {
            Some(region) => vec![DeleteTarget {
                cluster: name.clone(),
                region: region.clone(),
                spec: None,
            }],
            None => bail!("--name needs --region"),
        },
        None => session::load_specs(&args.specs.all(), global, printer)?
            .into_iter()
            .map(|s| DeleteTarget {
                cluster: s.file.metadata.name.clone(),
                region: s.file.metadata.region.clone(),
                spec: Some(s),
            })
            .collect(),
    };
    session::runtime()?.block_on(async {
        let prepared = fleet::each(clusters, |target| async move {
            prepare_delete(global, target, args.timeout, gate).await
        })
        .await;
        let options = RunOptions {
            auto_approve: args.auto_approve,
            break_lock: args.break_lock,
            what: "Delete",
            timeline: args.timeline.as_deref(),
        };
        run(prepared, options, printer).await
    })
}

fn is_saved_plan(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json") && path.is_file()
}

/// `apply PLAN.json`: the saved plan, if the spec and live AWS still give exactly it.
fn apply_saved(
    path: &Path,
    args: &ApplyArgs,
    global: &GlobalOptions,
    printer: &Printer,
) -> Result<ExitStatus> {
    let gate = args.policy.gate()?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the saved plan {}", path.display()))?;
    let saved: SavedPlan = serde_json::from_str(&text)
        .ok()
        .filter(|s: &SavedPlan| s.kind == saved::KIND)
        .with_context(|| {
            format!(
                "{} is not a plan saved by `ekspec plan --out`",
                path.display()
            )
        })?;
    let spec_path = PathBuf::from(&saved.spec_file);
    let specs = session::load_specs(std::slice::from_ref(&spec_path), global, printer)?;
    let [spec] = specs.as_slice() else {
        bail!("{} names more than one spec", path.display());
    };
    if saved::spec_hash(&spec.source) != saved.spec_sha256 {
        bail!(
            "{} changed since the plan {} was made; run `ekspec plan -f {0} --out {1}` again",
            spec_path.display(),
            path.display()
        );
    }
    session::runtime()?.block_on(async {
        let current = plan_spec(global, spec, saved.adopt_mode()).await?;
        let differences = saved.differences(&current);
        if !differences.is_empty() {
            bail!(
                "live AWS changed since the plan {} was made, so it is not applied:\n  {}\nrun `ekspec plan -f {} --out {0}` again",
                path.display(),
                differences.join("\n  "),
                spec_path.display()
            );
        }
        let prepared =
            prepare_apply(global, spec, args, saved.adopt_mode(), gate.as_ref()).await;
        run(vec![prepared], apply_options(args), printer).await
    })
}

/// Shows every plan, asks once when anything is deleted or replaced, runs the plans
/// concurrently, and reports.
async fn run(
    prepared: Vec<Result<Prepared, Unprepared>>,
    options: RunOptions<'_>,
    printer: &Printer,
) -> Result<ExitStatus> {
    let single = prepared.len() == 1;
    let recorder = options.timeline.map(|_| Arc::new(Recorder::default()));
    let mut ready = Vec::new();
    let mut outcomes = Vec::new();
    for item in prepared {
        match item {
            Ok(p) if p.denied => {
                show(printer, &p, single, None);
                if single {
                    bail!("the policies deny this plan (see above); no change was made");
                }
                outcomes.push(outcome(
                    &p.cluster,
                    &p.region,
                    &p.plan,
                    "denied by policy; nothing done",
                    ExitStatus::Failure,
                ));
            }
            Ok(p) if p.plan.impossible().next().is_some() => {
                show(printer, &p, single, None);
                if single {
                    bail!("the plan has impossible changes (marked `!` above); no change was made");
                }
                outcomes.push(outcome(
                    &p.cluster,
                    &p.region,
                    &p.plan,
                    "impossible changes; nothing done",
                    ExitStatus::Failure,
                ));
            }
            Ok(p) => {
                show(printer, &p, single, recorder.clone());
                ready.push(p);
            }
            Err(u) if single => return Err(u.error),
            Err(u) => {
                printer.diagnostic(format!("error: {}: {:#}\n", u.cluster, u.error));
                outcomes.push(Outcome {
                    cluster: u.cluster,
                    region: u.region,
                    changes: "-".to_owned(),
                    result: format!("error: {}", u.error),
                    status: ExitStatus::Failure,
                });
            }
        }
    }
    confirm(&ready, options.auto_approve, printer)?;
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
    let results = fleet::each(ready, |p| {
        let stop = stop_rx.clone();
        let recorder = recorder.clone();
        async move {
            let progress = Progress::for_cluster(printer, (!single).then(|| p.cluster.clone()))
                .recording(recorder);
            let (cluster, region, plan) = (p.cluster.clone(), p.region.clone(), p.plan.clone());
            let report = run_locked(p, stop, options.break_lock, printer, &progress).await;
            progress.finish();
            if let Ok(report) = &report {
                progress.json_event("result", result_json(report));
            }
            (cluster, region, plan, report)
        }
    })
    .await;
    if let (Some(path), Some(recorder)) = (options.timeline, &recorder) {
        timeline::write_recorded(path, &recorder.events(), printer);
    }
    for (cluster, region, plan, report) in results {
        if single {
            return single_result(&plan, &report?, options.what, printer);
        }
        let report = match report {
            Ok(report) => report,
            Err(error) => {
                printer.diagnostic(format!("error: {cluster}: {error:#}\n"));
                outcomes.push(outcome(
                    &cluster,
                    &region,
                    &plan,
                    &format!("error: {error}"),
                    ExitStatus::Failure,
                ));
                continue;
            }
        };
        let (result, status) = if report.success() {
            ("ok".to_owned(), ExitStatus::Success)
        } else if report.interrupted {
            ("interrupted".to_owned(), ExitStatus::Failure)
        } else {
            (
                format!(
                    "{} failed, {} skipped",
                    report.failed.len(),
                    report.skipped.len()
                ),
                ExitStatus::Failure,
            )
        };
        outcomes.push(outcome(&cluster, &region, &plan, &result, status));
    }
    if !single {
        fleet::summary(printer, &outcomes);
    }
    Ok(fleet::combine(&outcomes))
}

/// Runs one cluster's plan holding the cluster's lock (see `crate::lock`), which is taken
/// only now, after the plan was confirmed, and released whatever happened. An empty plan
/// changes nothing and takes no lock, except for `delete` when a lock is left (the lock is
/// the cluster's, so delete removes it) and with `--break-lock`.
async fn run_locked(
    prepared: Prepared,
    stop: watch::Receiver<bool>,
    break_lock: bool,
    printer: &Printer,
    progress: &Progress,
) -> Result<Report> {
    let Prepared {
        cluster,
        region,
        plan,
        ctx,
        target,
        ..
    } = prepared;
    let ctx = Arc::new(ctx);
    let lock = ClusterLock::new(ctx.cloud.parameters.as_ref(), &cluster);
    let lock_left = matches!(target, Target::Delete) && !matches!(lock.describe().await, Ok(None));
    if plan.is_empty() && !break_lock && !lock_left {
        return Ok(Report::default());
    }
    let holder = Holder::this_process(ctx.cloud.identity.caller_arn().await?, target.command());
    let acquired = lock.acquire(&holder, break_lock).await?;
    if let Some(broken) = &acquired.broken {
        printer.diagnostic(format!(
            "warning: cluster `{cluster}`: --break-lock removed {broken}\n"
        ));
    }
    if let Some(expired) = &acquired.took_over {
        printer.diagnostic(format!(
            "warning: cluster `{cluster}`: took over the expired lock of {} (since {}, expired {})\n",
            expired.who(),
            expired.started,
            expired.expires
        ));
    }
    let work = async {
        // Another run may have changed the cluster between planning and now: run only what
        // the confirmed plan holds. AWS finishing work already under way (a deletion that
        // completed) only removes changes, so a plan that shrank is still the one confirmed.
        let observed =
            observe_adopting(&ctx.cloud, &cluster, target.file(), target.adopt()).await?;
        let now = target.plan(&cluster, &region, &observed);
        if !within(&now, &plan) {
            bail!(
                "cluster `{cluster}` changed since the plan above was made (another run?); nothing was changed: run the same command again to see the new plan"
            );
        }
        let plan = now;
        ctx.reseed(&observed, &cluster);
        if plan.is_empty() {
            return Ok(Report::default());
        }
        anyhow::Ok(
            exec::execute(&plan, Arc::clone(&ctx), stop, |event| {
                progress.event(&event);
            })
            .await,
        )
    };
    let report = lock.hold_while(&acquired.info, work).await;
    match lock.release(&acquired.info).await {
        Ok(Released::Released) => {}
        Ok(Released::HeldByOther(other)) => printer.diagnostic(format!(
            "warning: cluster `{cluster}`: the lock was taken by {} during this run; left to it\n",
            other.who()
        )),
        Ok(Released::AlreadyGone) => printer.diagnostic(format!(
            "warning: cluster `{cluster}`: the lock was removed (--break-lock) during this run\n"
        )),
        Err(error) => printer.diagnostic(format!(
            "warning: cluster `{cluster}`: cannot release the lock: {error}; it expires at {} (or pass --break-lock)\n",
            acquired.info.expires
        )),
    }
    report
}

fn outcome(cluster: &str, region: &str, plan: &Plan, result: &str, status: ExitStatus) -> Outcome {
    Outcome {
        cluster: cluster.to_owned(),
        region: region.to_owned(),
        changes: render::summary_line(plan),
        result: result.to_owned(),
        status,
    }
}

/// Shows a plan: its warnings, then as text, or as the `plan` event (which a timeline also
/// keeps).
fn show(printer: &Printer, prepared: &Prepared, single: bool, recorder: Option<Arc<Recorder>>) {
    printer.diagnostic(render::warnings(&prepared.plan));
    if matches!(
        printer.format(),
        OutputFormat::Text | OutputFormat::Markdown
    ) {
        printer.info(render::text(&prepared.plan).trim_end());
    }
    Progress::for_cluster(printer, (!single).then(|| prepared.cluster.clone()))
        .recording(recorder)
        .json_event("plan", json!({"plan": render::json(&prepared.plan)}));
    for finding in &prepared.findings {
        let cluster = if single {
            String::new()
        } else {
            format!("{}: ", prepared.cluster)
        };
        printer.diagnostic(format!("{cluster}{finding}\n"));
    }
}

/// Asks once before anything is deleted or replaced, unless `--auto-approve`.
fn confirm(ready: &[Prepared], auto_approve: bool, printer: &Printer) -> Result<()> {
    if auto_approve || !ready.iter().any(|p| p.plan.is_destructive()) {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "the plan deletes, replaces or adopts resources and there is no terminal to confirm it; re-run with --auto-approve"
        );
    }
    printer.diagnostic("Type `yes` to apply (the plan deletes, replaces or adopts resources): ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("not confirmed; nothing was changed");
    }
    Ok(())
}

fn result_json(report: &Report) -> serde_json::Value {
    json!({
        "success": report.success(),
        "interrupted": report.interrupted,
        "done": report.done.len(),
        "failed": report.failed.iter().map(|(r, e)| json!({"resource": r, "error": e})).collect::<Vec<_>>(),
        "skipped": report.skipped.iter().map(|(r, e)| json!({"resource": r, "reason": e})).collect::<Vec<_>>(),
    })
}

/// The end of a one-cluster run: the result line, or an error that says how to continue.
fn single_result(
    plan: &Plan,
    report: &Report,
    what: &str,
    printer: &Printer,
) -> Result<ExitStatus> {
    if report.success() {
        if printer.format() == OutputFormat::Text && !plan.is_empty() {
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

/// Whether `now` is the `confirmed` plan, less deletions AWS finished meanwhile: every change
/// of `now` was confirmed, and every confirmed change is still there unless it was a delete
/// (ordering aside: it follows what is still there).
fn within(now: &Plan, confirmed: &Plan) -> bool {
    let key = |change: &crate::plan::Change| {
        let mut value = serde_json::to_value(change).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            fields.remove("after");
        }
        value
    };
    let current: Vec<serde_json::Value> = now.changes.iter().map(key).collect();
    let shown: Vec<serde_json::Value> = confirmed.changes.iter().map(key).collect();
    current.iter().all(|change| shown.contains(change))
        && confirmed.changes.iter().zip(&shown).all(|(change, value)| {
            change.kind == crate::plan::ChangeKind::Delete || current.contains(value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_timeout_bounds_rollouts_too() {
        let chosen = waiter(Some(std::time::Duration::from_secs(90)));
        assert_eq!(chosen.rollout(300, 1).timeout.as_secs(), 90);
        let default = waiter(None);
        assert_eq!(default.timeout.as_secs(), 40 * 60);
        assert_eq!(default.rollout(300, 1).timeout.as_secs(), 300 * 20 * 60);
    }
}
