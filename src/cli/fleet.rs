//! Several clusters at once: work on every spec concurrently (with a bound), then one summary
//! table, and exit codes combined the way CI reads them.

use std::future::Future;

use futures::{StreamExt, stream};
use serde_json::json;

use super::ExitStatus;
use crate::printer::{OutputFormat, Printer};

/// How many clusters are worked on at once.
pub const CONCURRENCY: usize = 4;

/// Runs `work` for every item, at most [`CONCURRENCY`] at a time; results in input order.
pub async fn each<T, R, F, Fut>(items: Vec<T>, work: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R>,
{
    stream::iter(items)
        .map(work)
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// What happened to one cluster.
pub struct Outcome {
    /// Cluster name.
    pub cluster: String,
    /// Region.
    pub region: String,
    /// The plan's summary line, or what was done.
    pub changes: String,
    /// `ok`, `changes` or the error.
    pub result: String,
    /// Its exit status.
    pub status: ExitStatus,
}

/// The exit status of a fleet: any failure fails it; otherwise any change shows.
pub fn combine(outcomes: &[Outcome]) -> ExitStatus {
    if outcomes.iter().any(|o| o.status == ExitStatus::Failure) {
        ExitStatus::Failure
    } else if outcomes.iter().any(|o| o.status == ExitStatus::Changes) {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

/// Prints the summary table (text) or document (JSON).
pub fn summary(printer: &Printer, outcomes: &[Outcome]) {
    if printer.format() == OutputFormat::Json {
        printer.json(&json!({
            "clusters": outcomes
                .iter()
                .map(|o| json!({
                    "cluster": o.cluster,
                    "region": o.region,
                    "changes": o.changes,
                    "result": o.result,
                    "exitCode": o.status.code(),
                }))
                .collect::<Vec<_>>(),
        }));
        return;
    }
    let width = |column: fn(&Outcome) -> &str, title: &str| {
        outcomes
            .iter()
            .map(|o| column(o).len())
            .chain([title.len()])
            .max()
            .unwrap_or_default()
    };
    let (w1, w2, w3) = (
        width(|o| &o.cluster, "CLUSTER"),
        width(|o| &o.region, "REGION"),
        width(|o| &o.changes, "CHANGES"),
    );
    printer.result("");
    printer.result(format!(
        "{:<w1$}  {:<w2$}  {:<w3$}  RESULT",
        "CLUSTER", "REGION", "CHANGES"
    ));
    for o in outcomes {
        printer.result(format!(
            "{:<w1$}  {:<w2$}  {:<w3$}  {}",
            o.cluster, o.region, o.changes, o.result
        ));
    }
}
