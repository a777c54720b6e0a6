//! Throttling at scale: 500 IRSA roles added to a cluster while IAM throttles like AWS, with
//! and without ekspec's cap on requests in flight per service (`InFlight`).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use ekspec::cloud::aws::{ConnectOptions, InFlight};
use ekspec::printer::Printer;

use crate::apply::{Applied, apply, apply_with, ensure_success, waiter};
use crate::sim::Limit;
use crate::{Aws, Options, generated_spec, parse_spec, seconds};

/// Applies of one variant until its plan is empty, at most this many (a run that loses calls
/// to throttling is run again, as a user would).
const MAX_RUNS: usize = 3;

/// What one variant cost until the roles were all there.
struct Converged {
    runs: usize,
    wall: Duration,
    calls: usize,
    throttled: usize,
    /// Changes that failed, over all runs.
    failed: usize,
    first_error: Option<String>,
    /// Whether the last plan was empty.
    done: bool,
}

/// Adds `roles` service accounts to a one-node-group cluster under IAM throttling, once
/// without a cap and once with ekspec's, and prints both.
pub async fn section(printer: &Printer, aws: &Aws, options: &Options) -> Result<()> {
    // IAM publishes no rate: the estimate the fleet section uses (burst 20, +10/s). The smoke
    // run only checks that things run: a few roles, no throttling.
    let (roles, iam, latency) = if options.smoke {
        (4, limit(100.0, 100.0), Duration::from_millis(1))
    } else {
        (500, limit(20.0, 10.0), Duration::from_millis(100))
    };
    let name = format!("irsa-{roles}");
    let base = parse_spec(
        &format!("{name}.yaml"),
        &generated_spec(&name, "10.200.0.0/16", 1, 0),
    )?;
    let full = parse_spec(
        &format!("{name}.yaml"),
        &generated_spec(&name, "10.200.0.0/16", 1, roles),
    )?;
    let created = apply(aws, &base, false, waiter(None)).await?;
    ensure_success(&name, &created)?;

    printer.result("");
    printer.result(format!(
        "== Throttling at scale: {roles} IRSA roles (a role and a policy attachment each) added \
         to a cluster, IAM throttled like AWS (burst {:.0}, +{:.0}/s), {} ms per call ==",
        iam.capacity,
        iam.per_second,
        latency.as_millis()
    ));
    printer.result(format!(
        "{:<22} {:>4} {:>10} {:>6} {:>9} {:>13} {:>6}",
        "IAM requests in flight", "runs", "wall", "calls", "throttled", "failed changes", "done"
    ));
    // Each variant connects anew: its clients have their own retry quota and adaptive rate
    // (`retry_partition`), as each CLI run does.
    let mut variants: Vec<(String, InFlight)> = options
        .iam_in_flight
        .iter()
        .map(|&iam| {
            let ekspec = InFlight::default();
            let label = if iam == ekspec.iam {
                format!("{iam} (ekspec)")
            } else {
                iam.to_string()
            };
            (label, InFlight { iam, ..ekspec })
        })
        .collect();
    variants.push(("no cap".to_owned(), InFlight::unlimited()));
    // moto, one Python process, stalls when many IAM deletes of a large account come at
    // once: the clean-up between variants goes a few at a time.
    let gentle = ConnectOptions {
        in_flight: InFlight {
            iam: 4,
            ..InFlight::default()
        },
        ..aws.options()
    };
    let mut errors = Vec::new();
    for (label, in_flight) in variants {
        let connect = ConnectOptions {
            in_flight,
            ..aws.options()
        };
        aws.sim.set_latency(latency);
        let outcome = converge(aws, &connect, &full, iam).await;
        aws.sim.set_latency(Duration::ZERO);
        let converged = outcome?;
        printer.result(format!(
            "{label:<22} {:>4} {:>10} {:>6} {:>9} {:>13} {:>6}",
            converged.runs,
            seconds(converged.wall),
            converged.calls,
            converged.throttled,
            converged.failed,
            if converged.done { "yes" } else { "no" },
        ));
        if let Some(error) = converged.first_error {
            printer.result(format!("  first error: {error}"));
            errors.push(format!("{label}: {error}"));
        }
        // Back to the cluster without roles for the next variant.
        let removed = apply_with(aws, &gentle, &base, false, waiter(None), HashMap::new()).await?;
        ensure_success(&name, &removed)?;
    }
    printer.result(
        "runs = applies until the plan was empty (a run whose changes failed is run again, \
         at most 3); wall = their executor time summed; throttled = throttling errors the \
         simulated IAM answered (the SDK retried them); failed changes = changes whose error \
         reached ekspec",
    );
    for error in errors {
        printer.result(format!("first error, {error}"));
    }
    let deleted = apply_with(aws, &gentle, &base, true, waiter(None), HashMap::new()).await?;
    ensure_success(&name, &deleted)
}

/// Applies `file` with `options` until its plan is empty or after [`MAX_RUNS`].
async fn converge(
    aws: &Aws,
    options: &ConnectOptions,
    file: &ekspec::spec::ClusterFile,
    iam: Limit,
) -> Result<Converged> {
    let mut converged = Converged {
        runs: 0,
        wall: Duration::ZERO,
        calls: 0,
        throttled: 0,
        failed: 0,
        first_error: None,
        done: false,
    };
    while converged.runs < MAX_RUNS {
        let Applied {
            plan,
            report,
            wall,
            stats,
            ..
        } = apply_with(
            aws,
            options,
            file,
            false,
            waiter(None),
            HashMap::from([("iam".to_owned(), iam)]),
        )
        .await?;
        if plan.is_empty() {
            converged.done = true;
            break;
        }
        converged.runs += 1;
        converged.wall += wall;
        converged.calls += stats.calls();
        converged.throttled += stats.throttled;
        converged.failed += report.failed.len();
        if converged.first_error.is_none() {
            converged.first_error = report.failed.first().map(|(_, error)| error.clone());
        }
    }
    if !converged.done {
        let last = apply_with(aws, options, file, false, waiter(None), HashMap::new()).await?;
        converged.done = last.plan.is_empty();
    }
    Ok(converged)
}

fn limit(capacity: f64, per_second: f64) -> Limit {
    Limit {
        capacity,
        per_second,
    }
}
