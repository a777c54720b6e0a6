//! Apply against the critical path: the production example created, updated, upgraded and
//! deleted against moto under the simulated AWS time model, each apply's wall time set
//! against the critical path of its plan under the same model.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use ekspec::cloud::aws::{ConnectOptions, connect};
use ekspec::exec::{self, Context, Report, wait::Waiter};
use ekspec::plan::Plan;
use ekspec::printer::Printer;
use ekspec::resources::{observe, planner};
use ekspec::spec::ClusterFile;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::sim::{Limit, Stats};
use crate::{Aws, Options, edit, parse_spec};
use ekspec::plan::estimate::{PathFigures, TimeModel, critical_path};

/// One apply (or delete) and what it cost.
pub struct Applied {
    /// What was run.
    pub plan: Plan,
    /// How it went.
    pub report: Report,
    /// Wall time of the executor.
    pub wall: Duration,
    /// The calls it made.
    pub stats: Stats,
    /// When each change finished, from the start of the run.
    pub ends: HashMap<String, Duration>,
}

/// The executor's waits at the model's time scale: AWS-sized pauses shrink with the minute.
pub fn waiter(model: Option<&TimeModel>) -> Waiter {
    let aws = Waiter::default();
    match model {
        Some(model) => {
            let scale = model.minute.as_secs_f64() / 60.0;
            Waiter {
                initial: aws.initial.mul_f64(scale),
                max: aws.max.mul_f64(scale),
                timeout: aws.timeout.mul_f64(scale).max(Duration::from_secs(120)),
                scale_rollouts: false,
            }
        }
        // moto's own timing: everything is settled at once.
        None => Waiter {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(50),
            timeout: Duration::from_secs(120),
            scale_rollouts: false,
        },
    }
}

/// Plans `file` (or the deletion of its cluster) against live state and runs the plan.
pub async fn apply(aws: &Aws, file: &ClusterFile, delete: bool, waiter: Waiter) -> Result<Applied> {
    apply_with(aws, &aws.options(), file, delete, waiter, HashMap::new()).await
}

/// [`apply`], connecting with `options` (e.g. another cap on requests in flight), with the
/// simulator throttling the services in `limits` while the plan runs (not while it is made).
pub async fn apply_with(
    aws: &Aws,
    options: &ConnectOptions,
    file: &ClusterFile,
    delete: bool,
    waiter: Waiter,
    limits: HashMap<String, Limit>,
) -> Result<Applied> {
    let cloud = connect(options).await?;
    let (name, region) = (&file.metadata.name, &file.metadata.region);
    let observed = observe(&cloud, name, (!delete).then_some(file)).await?;
    let plan = if delete {
        planner::plan_delete(name, region, &observed)
    } else {
        planner::plan(file, &observed)
    };
    if let Some(change) = plan.impossible().next() {
        bail!(
            "{name}: impossible change to {}: {}",
            change.resource,
            change.reason.clone().unwrap_or_default()
        );
    }
    let ctx = Arc::new(Context::new(cloud, &observed, name, region, waiter));
    // The sender stays alive for the run: a dropped one would read as Ctrl-C.
    let (_stop, stopped) = watch::channel(false);
    let throttled = !limits.is_empty();
    if throttled {
        aws.sim.set_limits(limits);
    }
    aws.sim.stats(true);
    let started = Instant::now();
    let ends = Mutex::new(HashMap::new());
    let report = exec::execute(&plan, ctx, stopped, |event| {
        if let exec::Event::Finished { resource, .. } = event {
            let mut ends = ends.lock().unwrap_or_else(|e| e.into_inner());
            ends.insert(resource, started.elapsed());
        }
    })
    .await;
    let wall = started.elapsed();
    if throttled {
        aws.sim.set_limits(HashMap::new());
    }
    Ok(Applied {
        plan,
        report,
        wall,
        stats: aws.sim.stats(true),
        ends: ends.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// Fails unless the run did everything.
pub fn ensure_success(what: &str, applied: &Applied) -> Result<()> {
    if applied.report.success() {
        return Ok(());
    }
    let first = applied
        .report
        .failed
        .first()
        .map(|(resource, error)| format!("{resource}: {error}"))
        .unwrap_or_else(|| "interrupted or skipped".to_owned());
    bail!(
        "{what}: {} failed, {} skipped; first: {first}",
        applied.report.failed.len(),
        applied.report.skipped.len()
    )
}

/// The example the section applies: the production example without add-ons and access
/// entries, which moto has no API for.
fn production() -> Result<String> {
    let text = std::fs::read_to_string(crate::support::repo().join("examples/production.yaml"))?;
    // One minor below the example's, so the upgrade scenario has a version to go to.
    let text = edit(
        &text,
        "kubernetesVersion: \"1.35\"",
        "kubernetesVersion: \"1.34\"",
    )?;
    match text.find("  addons:\n") {
        Some(end) => Ok(text[..end].to_owned()),
        None => bail!("examples/production.yaml has no `addons:` section to cut"),
    }
}

/// Scale a node group, add a node group and an IRSA role.
fn updated(text: &str) -> Result<String> {
    let text = edit(
        text,
        "minSize: 0\n      maxSize: 20",
        "minSize: 1\n      maxSize: 30",
    )?;
    edit(
        &text,
        "  serviceAccounts:\n",
        "    - name: gpu-spot\n      capacityType: spot\n      \
         instanceTypes: [g5.xlarge, g5.2xlarge]\n      minSize: 0\n      maxSize: 4\n  \
         serviceAccounts:\n    - name: karpenter\n      namespace: karpenter\n      \
         policyArns: [arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess]\n",
    )
}

/// One minor version up.
fn upgraded(text: &str) -> Result<String> {
    edit(
        text,
        "kubernetesVersion: \"1.34\"",
        "kubernetesVersion: \"1.35\"",
    )
}

/// Checks the simulator's answers to the upgrade calls moto lacks, straight through the SDK
/// (ekspec's AWS layer may not make these calls yet): the control plane is UPDATING and its
/// update InProgress for the model's time, then ACTIVE and Successful.
async fn check_upgrade_simulation(aws: &Aws) -> Result<()> {
    // 9 simulated minutes = 0.9 s: long enough for two reads on a busy machine.
    let model = TimeModel::aws(Duration::from_millis(100));
    let options = aws.options();
    let config = aws_sdk_eks::Config::builder()
        .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
        .region(aws_sdk_eks::config::Region::new(options.region.clone()))
        .endpoint_url(options.endpoint_url.clone().unwrap_or_default())
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            "testing", "testing", None, None, "bench",
        ))
        .http_client(aws.sim.client())
        .build();
    let eks = aws_sdk_eks::Client::from_conf(config);
    let name = "upgrade-check";
    eks.create_cluster()
        .name(name)
        .version("1.34")
        .role_arn("arn:aws:iam::123456789012:role/upgrade-check")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-1")
                .build(),
        )
        .send()
        .await?;
    aws.sim.set_model(Some(model));
    let update = eks
        .update_cluster_version()
        .name(name)
        .version("1.35")
        .send()
        .await?;
    let id = update
        .update()
        .and_then(|u| u.id())
        .unwrap_or_default()
        .to_owned();
    let look = || async {
        let update = eks
            .describe_update()
            .name(name)
            .update_id(&id)
            .send()
            .await?;
        let cluster = eks.describe_cluster().name(name).send().await?;
        anyhow::Ok((
            update
                .update()
                .and_then(|u| u.status())
                .map(|s| s.as_str().to_owned()),
            cluster
                .cluster()
                .and_then(|c| c.status())
                .map(|s| s.as_str().to_owned()),
        ))
    };
    let during = look().await?;
    tokio::time::sleep(model.real(model.cluster_version)).await;
    let after = look().await?;
    aws.sim.set_model(None);
    eks.delete_cluster().name(name).send().await?;
    let want = (
        (Some("InProgress".to_owned()), Some("UPDATING".to_owned())),
        (Some("Successful".to_owned()), Some("ACTIVE".to_owned())),
    );
    if (during.clone(), after.clone()) != want {
        bail!("the simulated upgrade went {during:?} then {after:?}, not {want:?}");
    }
    Ok(())
}

/// A run of a scenario set against its plan's critical path.
struct Measured {
    applied: Applied,
    figures: PathFigures,
    /// Wall time over critical path.
    ratio: f64,
}

impl Measured {
    fn new(applied: Applied, model: &TimeModel) -> Self {
        // Each call on the path costs what a call of its kind cost in this run: the modeled
        // latency plus moto's own time.
        let figures = critical_path(&applied.plan, model, |name| applied.stats.mean_of(name));
        let ratio = applied.wall.as_secs_f64() / figures.critical.as_secs_f64().max(f64::EPSILON);
        Self {
            applied,
            figures,
            ratio,
        }
    }

    /// Where the apply fell behind the model: each change on the critical path with when it
    /// ended in the run and under the model, then the changes that ended last in the run,
    /// wherever they are in the graph.
    fn breakdown(&self, model: &TimeModel) -> String {
        let ended = |resource: &String, ran: Option<&Duration>| {
            let ran = ran.map_or_else(|| "?".to_owned(), |d| format!("{:.2}", model.minutes(*d)));
            let modeled = self.figures.ends.get(resource).copied().unwrap_or_default();
            format!("{resource} {ran}/{:.2}", model.minutes(modeled))
        };
        let path: Vec<String> = self
            .figures
            .path
            .iter()
            .map(|resource| ended(resource, self.applied.ends.get(resource)))
            .collect();
        let mut last: Vec<(&String, &Duration)> = self.applied.ends.iter().collect();
        last.sort_by_key(|(_, ended)| std::cmp::Reverse(**ended));
        let last: Vec<String> = last
            .into_iter()
            .take(3)
            .map(|(resource, ran)| ended(resource, Some(ran)))
            .collect();
        format!("{}; last: {}", path.join(" -> "), last.join(", "))
    }
}

/// One row of the table.
struct Row {
    scenario: &'static str,
    outcome: Result<Applied>,
}

/// Creates, updates, upgrades and deletes the example under `model`.
async fn scenarios(aws: &Aws, model: &TimeModel, latency: Duration) -> Result<Vec<Row>> {
    aws.sim.set_latency(latency);
    aws.sim.set_model(Some(*model));
    let v1 = production()?;
    let create = parse_spec("prod.yaml", &v1)?;
    let update = parse_spec("prod.yaml", &updated(&v1)?)?;
    let upgrade = parse_spec("prod.yaml", &upgraded(&updated(&v1)?)?)?;
    let wait = waiter(Some(model));

    let mut rows = Vec::new();
    let created = apply(aws, &create, false, wait).await?;
    ensure_success("create", &created)?;
    let again = apply(aws, &create, false, wait).await?;
    if !again.plan.is_empty() {
        bail!(
            "the plan after create is not empty: {}",
            ekspec::plan::render::summary_line(&again.plan)
        );
    }
    rows.push(Row {
        scenario: "create",
        outcome: Ok(created),
    });
    let outcome = apply(aws, &update, false, wait).await?;
    ensure_success("update", &outcome)?;
    rows.push(Row {
        scenario: "update",
        outcome: Ok(outcome),
    });
    // Reported rather than fatal: the AWS layer's upgrade calls may not be there yet.
    let outcome = apply(aws, &upgrade, false, wait).await?;
    let failed = ensure_success("upgrade", &outcome).err();
    rows.push(Row {
        scenario: "upgrade",
        outcome: match failed {
            Some(error) => Err(error),
            None => Ok(outcome),
        },
    });
    let deleted = apply(aws, &create, true, wait).await?;
    ensure_success("delete", &deleted)?;
    rows.push(Row {
        scenario: "delete",
        outcome: Ok(deleted),
    });
    aws.sim.set_model(None);
    aws.sim.set_latency(Duration::ZERO);
    Ok(rows)
}

/// Runs the scenarios at each time scale and prints the table.
pub async fn section(printer: &Printer, aws: &Aws, options: &Options) -> Result<()> {
    check_upgrade_simulation(aws).await?;
    // moto loads a service's backend on its first call (about 0.25 s here), which at 100 ms
    // per simulated minute would read as 2.5 minutes of the first delete: a cost of the
    // emulator, not of AWS. The delete's reads of ELB, security groups and network
    // interfaces are made once before anything is timed.
    aws.cloud()
        .await?
        .network
        .discover_leftovers("warm-up", "vpc-00000000000000000")
        .await?;
    printer.result("");
    printer.result(format!(
        "== Apply vs critical path: examples/production.yaml without add-ons and access entries \
         (moto has no API for them); {} ms per call (simulated) + moto's own time ==",
        options.call_latency.as_millis(),
    ));
    printer.result(format!(
        "{:>7} {:<8} {:>7} {:>6} {:>8} {:>10} {:>11} {:>6} {:>6} {:>11} {:>10}",
        "1 min =",
        "scenario",
        "changes",
        "calls",
        "per call",
        "apply",
        "crit. path",
        "ratio",
        "worst",
        "sequential",
        "seq./apply"
    ));
    let mut paths = Vec::new();
    let mut breakdown = Vec::new();
    for minute in &options.minutes {
        let model = TimeModel::aws(*minute);
        let latency = options.call_latency.mul_f64(minute.as_secs_f64() / 60.0);
        // Each scenario's runs, in the scenarios' order.
        let mut runs: Vec<(&'static str, Vec<Result<Measured>>)> = Vec::new();
        for _ in 0..options.repeats {
            for row in scenarios(aws, &model, latency).await? {
                let measured = row.outcome.map(|applied| Measured::new(applied, &model));
                match runs
                    .iter_mut()
                    .find(|(scenario, _)| *scenario == row.scenario)
                {
                    Some((_, results)) => results.push(measured),
                    None => runs.push((row.scenario, vec![measured])),
                }
            }
        }
        let scale = format!("{} ms", minute.as_millis());
        for (scenario, results) in runs {
            let mut measured = Vec::new();
            let mut failed = None;
            for result in results {
                match result {
                    Ok(run) => measured.push(run),
                    Err(error) => {
                        failed.get_or_insert(error);
                    }
                }
            }
            if let Some(error) = failed {
                printer.result(format!("{scale:>7} {scenario:<8} a run failed: {error:#}"));
            }
            measured.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
            // The median run is shown (the upper one of an even count), with the worst ratio.
            let Some(median) = measured.get(measured.len() / 2) else {
                continue;
            };
            let worst = measured.last().map_or(median.ratio, |m| m.ratio);
            let (applied, figures) = (&median.applied, &median.figures);
            let minutes = |d: Duration| format!("{:.2} min", model.minutes(d));
            printer.result(format!(
                "{scale:>7} {scenario:<8} {:>7} {:>6} {:>8} {:>10} {:>11} {:>6.3} {:>6.3} {:>11} {:>10.2}",
                applied.plan.changes.len(),
                applied.stats.calls(),
                format!("{:.1} ms", applied.stats.mean_call().as_secs_f64() * 1000.0),
                minutes(applied.wall),
                minutes(figures.critical),
                median.ratio,
                worst,
                minutes(figures.sequential),
                figures.sequential.as_secs_f64() / applied.wall.as_secs_f64().max(f64::EPSILON),
            ));
            breakdown.push(format!(
                "{scale:>7} {scenario:<8} {}",
                median.breakdown(&model)
            ));
            if Some(minute) == options.minutes.first() {
                paths.push((scenario, figures.path.clone()));
            }
        }
    }
    printer.result(
        "ratio = apply wall / critical path (target <= 1.05) of the median run, worst = the \
         highest ratio of the runs; sequential = the same model's \
         time for one change at a time; calls = AWS calls made, polls included; per call = \
         mean round trip (real time)",
    );
    for (scenario, path) in paths {
        printer.result(format!(
            "critical path of {scenario}: {}",
            path.join(" -> ")
        ));
    }
    printer.result(
        "the median runs' critical paths, each change with when it ended: run/model \
         (simulated min); last = the changes that ended last in the run",
    );
    for line in breakdown {
        printer.result(line);
    }
    Ok(())
}
