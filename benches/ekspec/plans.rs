//! Cheap plans: AWS read calls and wall time of no-op plans as a cluster grows, and a fleet
//! of specs planned at once under AWS-like throttling.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Result, bail};
use ekspec::cloud::{CloudError, ErrorKind};
use ekspec::plan::Plan;
use ekspec::printer::Printer;
use ekspec::resources::{observe, planner};
use ekspec::spec::ClusterFile;
use futures::{StreamExt, stream};
use tokio::time::Instant;

use crate::apply::{apply, ensure_success, waiter};
use crate::sim::{Limit, Stats};
use crate::{Aws, Options, generated_spec, parse_spec, seconds};

/// How many clusters the CLI works on at once (`cli::fleet::CONCURRENCY`).
const FLEET_CONCURRENCY: usize = 4;

/// What `ekspec plan` does for one spec: connect, read live AWS, diff.
async fn plan(aws: &Aws, file: &ClusterFile) -> Result<Plan> {
    let cloud = aws.cloud().await?;
    let observed = observe(&cloud, &file.metadata.name, Some(file)).await?;
    Ok(planner::plan(file, &observed))
}

/// A timed no-op plan; fails if the plan is not empty.
async fn timed_noop(aws: &Aws, file: &ClusterFile) -> Result<(Duration, Stats)> {
    aws.sim.stats(true);
    let started = Instant::now();
    let plan = plan(aws, file).await?;
    let wall = started.elapsed();
    if !plan.is_empty() {
        bail!(
            "{}: the plan after apply is not empty: {}",
            file.metadata.name,
            ekspec::plan::render::summary_line(&plan)
        );
    }
    Ok((wall, aws.sim.stats(true)))
}

/// Read calls of no-op plans for clusters of growing size.
pub async fn noop_section(printer: &Printer, aws: &Aws, options: &Options) -> Result<()> {
    let cases: &[(usize, usize)] = if options.smoke {
        &[(1, 10)]
    } else {
        &[(1, 10), (20, 100), (100, 500)]
    };
    printer.result("");
    printer.result(format!(
        "== No-op plan: AWS read calls and wall time (moto as is, then {} ms added per call) ==",
        options.plan_latency.as_millis()
    ));
    printer.result(format!(
        "{:>11} {:>16} {:>6} {:>12} {:>10} {:>13} {:>16}",
        "node groups",
        "service accounts",
        "reads",
        "per resource",
        "wall",
        "wall + lat.",
        "sequential + lat."
    ));
    let mut largest = None;
    for (i, &(node_groups, service_accounts)) in cases.iter().enumerate() {
        let name = format!("reads-{node_groups}-{service_accounts}");
        let text = generated_spec(
            &name,
            &format!("10.{}.0.0/16", 100 + i),
            node_groups,
            service_accounts,
        );
        let file = parse_spec(&format!("{name}.yaml"), &text)?;
        // Grown in steps of at most 20 node groups and 100 roles: the executor starts every
        // ready change at once, and moto (one Python process) times out connections when
        // hundreds of calls arrive together.
        let steps = node_groups.div_ceil(20).max(service_accounts.div_ceil(100));
        for step in 1..=steps {
            let partial = generated_spec(
                &name,
                &format!("10.{}.0.0/16", 100 + i),
                node_groups * step / steps,
                service_accounts * step / steps,
            );
            let partial = parse_spec(&format!("{name}.yaml"), &partial)?;
            let created = apply(aws, &partial, false, waiter(None)).await?;
            ensure_success(&name, &created)?;
        }
        let (wall, stats) = timed_noop(aws, &file).await?;
        aws.sim.set_latency(options.plan_latency);
        let latent = timed_noop(aws, &file).await;
        aws.sim.set_latency(Duration::ZERO);
        let (latent_wall, _) = latent?;
        let resources = node_groups + service_accounts;
        printer.result(format!(
            "{node_groups:>11} {service_accounts:>16} {:>6} {:>12.2} {:>10} {:>13} {:>16}",
            stats.reads,
            stats.reads as f64 / resources as f64,
            seconds(wall),
            seconds(latent_wall),
            seconds(options.plan_latency * u32::try_from(stats.calls()).unwrap_or(u32::MAX)),
        ));
        largest = Some((name, stats));
    }
    if let Some((name, stats)) = largest {
        printer.result(format!("reads of {name}, by operation:"));
        for (operation, count) in &stats.by_operation {
            printer.result(format!("  {operation:<32} {count:>5}"));
        }
    }
    printer.result(
        "per resource = reads / (node groups + service accounts); sequential + lat. = the \
         added latency alone if the calls ran one at a time",
    );
    Ok(())
}

/// AWS-like request rates per service: EC2's documented bucket for describe calls; the
/// others are our estimates of the per-account limits.
fn aws_limits() -> HashMap<String, Limit> {
    let limit = |capacity, per_second| Limit {
        capacity,
        per_second,
    };
    HashMap::from([
        ("ec2".to_owned(), limit(100.0, 20.0)),
        ("iam".to_owned(), limit(20.0, 10.0)),
        ("eks".to_owned(), limit(20.0, 10.0)),
        ("sts".to_owned(), limit(20.0, 10.0)),
        ("elasticloadbalancing".to_owned(), limit(20.0, 10.0)),
    ])
}

/// Many specs planned at once, as `ekspec plan clusters/` does, under throttling.
pub async fn fleet_section(printer: &Printer, aws: &Aws, options: &Options) -> Result<()> {
    let count = if options.smoke { 3 } else { 50 };
    printer.result("");
    printer.result(format!(
        "== Fleet: no-op plan of {count} cluster specs at once ({FLEET_CONCURRENCY} clusters \
         at a time, as the CLI), each 1 node group and 2 service accounts, against moto \
         throttled like AWS =="
    ));
    let files: Vec<ClusterFile> = (1..=count)
        .map(|i| {
            let name = format!("fleet-{i:02}");
            parse_spec(
                &format!("{name}.yaml"),
                &generated_spec(&name, &format!("10.{i}.0.0/16"), 1, 2),
            )
        })
        .collect::<Result<_>>()?;
    let setup: Vec<Result<()>> = stream::iter(&files)
        .map(|file| async move {
            let created = apply(aws, file, false, waiter(None)).await?;
            ensure_success(&file.metadata.name, &created)
        })
        .buffered(FLEET_CONCURRENCY)
        .collect()
        .await;
    setup.into_iter().collect::<Result<Vec<()>>>()?;

    printer.result(format!(
        "{:<18} {:>10} {:>6} {:>15} {:>17} {:>13}",
        "AWS", "wall", "calls", "throttled calls", "throttling errors", "other errors"
    ));
    let mut failed = Vec::new();
    let mut changed = 0;
    for (label, limits) in [
        ("moto as is", HashMap::new()),
        ("throttled like AWS", aws_limits()),
    ] {
        aws.sim.set_limits(limits);
        aws.sim.stats(true);
        let started = Instant::now();
        let plans: Vec<Result<Plan>> = stream::iter(&files)
            .map(|file| plan(aws, file))
            .buffered(FLEET_CONCURRENCY)
            .collect()
            .await;
        let wall = started.elapsed();
        let stats = aws.sim.stats(true);
        aws.sim.set_limits(HashMap::new());
        let escaped = plans
            .iter()
            .filter(|p| {
                p.as_ref().is_err_and(|e| {
                    e.downcast_ref::<CloudError>()
                        .is_some_and(|e| e.kind == ErrorKind::Throttled)
                })
            })
            .count();
        let errors: Vec<String> = plans
            .iter()
            .filter_map(|p| p.as_ref().err().map(|e| format!("{e:#}")))
            .collect();
        changed += plans
            .iter()
            .filter(|p| p.as_ref().is_ok_and(|p| !p.is_empty()))
            .count();
        printer.result(format!(
            "{label:<18} {:>10} {:>6} {:>15} {:>17} {:>13}",
            seconds(wall),
            stats.calls(),
            stats.throttled,
            escaped,
            errors.len() - escaped
        ));
        failed.extend(errors);
    }
    printer.result(
        "throttled calls = throttling errors the simulated AWS answered (the SDK's retry layer \
         retried them); throttling errors = those that reached ekspec",
    );
    if let Some(first) = failed.first() {
        bail!("{} of {count} plans failed; first: {first}", failed.len());
    }
    if changed > 0 {
        bail!("{changed} of {count} plans were not empty after apply");
    }
    Ok(())
}
