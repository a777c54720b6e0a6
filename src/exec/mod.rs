//! Runs a plan as a dependency graph: every change whose predecessors are done starts at once;
//! a failure stops only the changes that depend on it; Ctrl-C stops starting new work.

pub mod operation;
pub mod wait;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::cloud::CloudError;
use crate::plan::{Change, ChangeKind, Plan};

pub use operation::Context;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// AWS refused a call.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A resource ended in a failed state.
    #[error("{what}: {reason}")]
    Failed {
        /// The resource.
        what: String,
        /// Why.
        reason: String,
    },
    /// A wait ran out of time.
    #[error("gave up waiting for {what} after {}s (still {state}); run apply again to keep waiting", after.as_secs())]
    Timeout {
        /// The resource.
        what: String,
        /// Its last state.
        state: String,
        /// The timeout.
        after: Duration,
    },
    /// A bug in ekspec.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Progress of a run, for the printer.
#[derive(Debug, Clone)]
pub enum Event {
    /// A change started.
    Started {
        /// Resource.
        resource: String,
        /// Kind.
        kind: ChangeKind,
    },
    /// A change finished.
    Finished {
        /// Resource.
        resource: String,
        /// Kind.
        kind: ChangeKind,
        /// How long it took.
        elapsed: Duration,
    },
    /// A change failed.
    Failed {
        /// Resource.
        resource: String,
        /// The error.
        error: String,
    },
    /// A change did not run.
    Skipped {
        /// Resource.
        resource: String,
        /// Why.
        reason: String,
    },
    /// A running change waits for AWS: sent when a state is first seen, when it changes,
    /// and every [`wait::REPORT_EVERY`] while it lasts.
    Waiting {
        /// Resource.
        resource: String,
        /// What is waited for ("node group workers", "deletion of subnet-...").
        what: String,
        /// AWS's state for it right now.
        state: String,
        /// How long this wait has lasted.
        waited: Duration,
    },
}

impl Event {
    /// The event's name in JSON output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Started { .. } => "started",
            Self::Finished { .. } => "finished",
            Self::Failed { .. } => "failed",
            Self::Skipped { .. } => "skipped",
            Self::Waiting { .. } => "waiting",
        }
    }

    /// The event's fields as JSON.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Self::Started { resource, kind } => {
                serde_json::json!({"resource": resource, "kind": kind})
            }
            Self::Finished {
                resource,
                kind,
                elapsed,
            } => serde_json::json!({
                "resource": resource,
                "kind": kind,
                "seconds": elapsed.as_secs_f64(),
            }),
            Self::Failed { resource, error } => {
                serde_json::json!({"resource": resource, "error": error})
            }
            Self::Skipped { resource, reason } => {
                serde_json::json!({"resource": resource, "reason": reason})
            }
            Self::Waiting {
                resource,
                what,
                state,
                waited,
            } => serde_json::json!({
                "resource": resource,
                "waiting_for": what,
                "state": state,
                "seconds": waited.as_secs_f64(),
            }),
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Changes that finished, with their durations.
    pub done: Vec<(String, ChangeKind, Duration)>,
    /// Changes that failed, with their errors.
    pub failed: Vec<(String, String)>,
    /// Changes not run (dependency failed, or interrupted).
    pub skipped: Vec<(String, String)>,
    /// Whether the run was interrupted.
    pub interrupted: bool,
}

impl Report {
    /// Whether everything ran.
    pub fn success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && !self.interrupted
    }
}

/// Runs `plan`'s changes. `stop` turns true on the first Ctrl-C: nothing new starts, running
/// changes finish.
pub async fn execute(
    plan: &Plan,
    ctx: Arc<Context>,
    mut stop: watch::Receiver<bool>,
    on_event: impl Fn(Event),
) -> Report {
    let changes: Vec<Change> = plan
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Impossible)
        .cloned()
        .collect();
    let in_plan: HashSet<&str> = changes.iter().map(|c| c.resource.as_str()).collect();
    // Only predecessors that are themselves in the plan count; others already exist.
    let mut waiting: HashMap<usize, HashSet<String>> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                i,
                c.after
                    .iter()
                    .filter(|a| in_plan.contains(a.as_str()) && **a != c.resource)
                    .cloned()
                    .collect(),
            )
        })
        .collect();
    let mut report = Report::default();
    let mut running: JoinSet<(usize, Result<(), ExecError>, Duration)> = JoinSet::new();
    let mut done: HashSet<String> = HashSet::new();
    let mut failed: HashSet<String> = HashSet::new();
    let (waits, mut waiting_events) = tokio::sync::mpsc::unbounded_channel();

    loop {
        if !*stop.borrow() {
            let ready: Vec<usize> = waiting
                .iter()
                .filter(|(_, deps)| deps.is_empty())
                .map(|(i, _)| *i)
                .collect();
            for i in ready {
                waiting.remove(&i);
                let change = changes[i].clone();
                on_event(Event::Started {
                    resource: change.resource.clone(),
                    kind: change.kind,
                });
                let ctx = Arc::clone(&ctx);
                let reporter = wait::Reporter {
                    resource: change.resource.clone(),
                    events: waits.clone(),
                };
                running.spawn(reporter.scope(async move {
                    let started = Instant::now();
                    let mut result = Ok(());
                    for op in &change.operations {
                        result = operation::run(&ctx, &change.resource, op).await;
                        if result.is_err() {
                            break;
                        }
                    }
                    (i, result, started.elapsed())
                }));
            }
        }
        if running.is_empty() {
            break;
        }
        let joined = tokio::select! {
            joined = running.join_next() => joined,
            Some(event) = waiting_events.recv() => {
                on_event(event);
                continue;
            }
            _ = stop.changed(), if !*stop.borrow() => continue,
        };
        // A wait reported just before its change ended is shown before the end.
        while let Ok(event) = waiting_events.try_recv() {
            on_event(event);
        }
        let Some(joined) = joined else { break };
        let (i, result, elapsed) = match joined {
            Ok(outcome) => outcome,
            Err(error) => {
                report.failed.push(("(task)".to_owned(), error.to_string()));
                continue;
            }
        };
        let change = &changes[i];
        match result {
            Ok(()) => {
                on_event(Event::Finished {
                    resource: change.resource.clone(),
                    kind: change.kind,
                    elapsed,
                });
                report
                    .done
                    .push((change.resource.clone(), change.kind, elapsed));
                done.insert(change.resource.clone());
                for deps in waiting.values_mut() {
                    deps.remove(&change.resource);
                }
            }
            Err(error) => {
                let text = error.to_string();
                on_event(Event::Failed {
                    resource: change.resource.clone(),
                    error: text.clone(),
                });
                report.failed.push((change.resource.clone(), text));
                failed.insert(change.resource.clone());
                skip_dependents(
                    &changes,
                    &mut waiting,
                    &change.resource,
                    &mut report,
                    &on_event,
                );
            }
        }
    }
    if *stop.borrow() {
        report.interrupted = true;
        for (i, _) in waiting.drain() {
            let resource = changes[i].resource.clone();
            on_event(Event::Skipped {
                resource: resource.clone(),
                reason: "interrupted".to_owned(),
            });
            report.skipped.push((resource, "interrupted".to_owned()));
        }
    }
    report
}

fn skip_dependents(
    changes: &[Change],
    waiting: &mut HashMap<usize, HashSet<String>>,
    failed: &str,
    report: &mut Report,
    on_event: &impl Fn(Event),
) {
    let mut blocked = vec![failed.to_owned()];
    while let Some(resource) = blocked.pop() {
        let dependents: Vec<usize> = waiting
            .iter()
            .filter(|(_, deps)| deps.contains(&resource))
            .map(|(i, _)| *i)
            .collect();
        for i in dependents {
            waiting.remove(&i);
            let name = changes[i].resource.clone();
            let reason = format!("depends on {resource}, which did not complete");
            on_event(Event::Skipped {
                resource: name.clone(),
                reason: reason.clone(),
            });
            report.skipped.push((name.clone(), reason));
            blocked.push(name);
        }
    }
}
