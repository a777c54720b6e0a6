//! Timelines of an apply or delete: a Gantt chart of the run, one row per change (its start,
//! the AWS waits inside it, its end), failures and retries marked, the critical path
//! highlighted.
//!
//! One model serves both ways of getting one: the NDJSON events of `--output json` (docs/
//! plan-json.md), read back by `ekspec timeline`, and a live `--timeline`, which records the
//! very same event lines while the run goes ([`Recorder`]). Events in, [`Timeline`] out,
//! [`draw`] turns it into SVG or HTML.

mod draw;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::Value;

use crate::plan::chain;

pub use draw::{Format, duration, html, svg};

/// The event lines of a run, kept as `--output json` would print them.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Value>>,
}

impl Recorder {
    /// Keeps one event line.
    pub fn record(&self, line: Value) {
        if let Ok(mut events) = self.events.lock() {
            events.push(line);
        }
    }

    /// The lines kept so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

/// Why an event stream cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// A line is not a JSON object with `event` and `time`.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// No events at all.
    #[error(
        "no events: `ekspec timeline` reads what `ekspec apply --output json` or `ekspec delete --output json` printed"
    )]
    Empty,
}

/// How a change ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It finished.
    Done,
    /// It failed with this error.
    Failed(String),
    /// It did not run, for this reason.
    Skipped(String),
    /// It started and the events stop before its end (a killed run), or it never started.
    Unfinished,
}

/// One AWS wait inside a change: from when it began to when the next began or the change
/// ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// What was waited for ("cluster prod", "deletion of subnet-...").
    pub what: String,
    /// Seconds from the start of the run.
    pub start: f64,
    /// Seconds from the start of the run.
    pub end: f64,
    /// Each state AWS reported, from when it was first seen.
    pub states: Vec<(f64, String)>,
}

/// One change of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The cluster, when the run worked on several.
    pub cluster: Option<String>,
    /// The logical id (`nodegroup/system`).
    pub resource: String,
    /// `create`, `update`, `replace` or `delete`.
    pub kind: String,
    /// The AWS id or name, when the plan had one.
    pub physical_id: Option<String>,
    /// Logical ids that had to finish first.
    pub after: Vec<String>,
    /// Seconds from the start of the run, when it started.
    pub start: Option<f64>,
    /// Seconds from the start of the run, when it ended (finished or failed).
    pub end: Option<f64>,
    /// When it was skipped.
    pub skipped_at: Option<f64>,
    /// Its AWS waits.
    pub waits: Vec<Wait>,
    /// How it ended.
    pub outcome: Outcome,
    /// On the critical path.
    pub critical: bool,
}

impl Row {
    /// How long it ran.
    pub fn duration(&self) -> f64 {
        match (self.start, self.end) {
            (Some(start), Some(end)) => (end - start).max(0.0),
            _ => 0.0,
        }
    }

    /// How long it waited for AWS.
    pub fn waited(&self) -> f64 {
        self.waits.iter().map(|w| (w.end - w.start).max(0.0)).sum()
    }

    /// The row's name: the resource, after its cluster in a fleet run.
    pub fn label(&self) -> String {
        match &self.cluster {
            Some(cluster) => format!("{cluster}: {}", self.resource),
            None => self.resource.clone(),
        }
    }
}

/// A run, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// "cluster demo (us-east-1)", or the clusters of a fleet.
    pub subject: String,
    /// When the run's first change started.
    pub started: Option<SystemTime>,
    /// The changes, in the order they started (those that never did last, in plan order).
    pub rows: Vec<Row>,
    /// Seconds from the first start to the last end.
    pub total: f64,
    /// Seconds along the critical path.
    pub critical: f64,
}

impl Timeline {
    /// Reads NDJSON events (`apply --output json`); blank lines are skipped, events it does
    /// not know (added later within format version 1) are ignored.
    pub fn from_ndjson(text: &str) -> Result<Self, TimelineError> {
        let mut events = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(line).map_err(|e| TimelineError::Line {
                line: i + 1,
                message: format!(
                    "not a JSON event ({e}); `ekspec timeline` reads what `ekspec apply --output json` prints"
                ),
            })?;
            events.push((i + 1, value));
        }
        Self::build(&events)
    }

    /// The timeline of recorded event lines.
    pub fn from_events(events: &[Value]) -> Result<Self, TimelineError> {
        let numbered: Vec<(usize, Value)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (i + 1, e.clone()))
            .collect();
        Self::build(&numbered)
    }

    fn build(events: &[(usize, Value)]) -> Result<Self, TimelineError> {
        let mut parsed = Vec::with_capacity(events.len());
        for (line, value) in events {
            let error = |message: &str| TimelineError::Line {
                line: *line,
                message: message.to_owned(),
            };
            let Some(name) = value.get("event").and_then(Value::as_str) else {
                return Err(error("no `event` field"));
            };
            let Some(time) = value.get("time").and_then(Value::as_str) else {
                return Err(error("no `time` field"));
            };
            let time = humantime::parse_rfc3339_weak(time)
                .map_err(|e| error(&format!("`time` is not an RFC 3339 time: {e}")))?;
            parsed.push((name, time, value));
        }
        // Time 0 is the first change's start; a run in which nothing started (an empty plan,
        // a lock held by another run) still has its plan to show.
        let change_times = parsed
            .iter()
            .filter(|(name, ..)| matches!(*name, "started" | "failed" | "skipped"))
            .map(|(_, time, _)| *time);
        let origin = change_times
            .min()
            .or_else(|| parsed.iter().map(|(_, time, _)| *time).min())
            .ok_or(TimelineError::Empty)?;
        let at = |time: SystemTime| {
            time.duration_since(origin)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        };
        let mut rows = Rows::default();
        let mut subjects: Vec<String> = Vec::new();
        for (name, time, event) in &parsed {
            let cluster = text(event, "cluster");
            let t = at(*time);
            match *name {
                "plan" => {
                    let plan = &event["plan"];
                    let subject = match (text(plan, "cluster"), text(plan, "region")) {
                        (Some(c), Some(r)) => format!("{c} ({r})"),
                        (Some(c), None) => c,
                        _ => continue,
                    };
                    subjects.push(subject);
                    for change in plan["changes"].as_array().into_iter().flatten() {
                        let (Some(resource), Some(kind)) =
                            (text(change, "resource"), text(change, "kind"))
                        else {
                            continue;
                        };
                        if kind == "impossible" {
                            continue;
                        }
                        let row = rows.row(&cluster, &resource, &kind);
                        row.physical_id = text(change, "physicalId");
                        row.after = change["after"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect();
                    }
                }
                "started" | "finished" | "failed" | "skipped" | "waiting" => {
                    let Some(resource) = text(event, "resource") else {
                        continue;
                    };
                    let kind = text(event, "kind").unwrap_or_default();
                    let row = rows.row(&cluster, &resource, &kind);
                    match *name {
                        "started" => row.start = Some(t),
                        "finished" => {
                            let start = *row.start.get_or_insert(t);
                            // `seconds` is measured, `time` only stamped: the end is the start
                            // plus it (exact even when times were stamped to the second).
                            row.end = Some(match event["seconds"].as_f64() {
                                Some(seconds) => start + seconds,
                                None => t,
                            });
                            row.outcome = Outcome::Done;
                        }
                        "failed" => {
                            row.start.get_or_insert(t);
                            row.end = Some(t);
                            row.outcome = Outcome::Failed(text(event, "error").unwrap_or_default());
                        }
                        "skipped" => {
                            row.skipped_at = Some(t);
                            row.outcome =
                                Outcome::Skipped(text(event, "reason").unwrap_or_default());
                        }
                        _ => waiting(row, event, t),
                    }
                }
                _ => {}
            }
        }
        let mut rows = rows.rows;
        for row in &mut rows {
            // A wait lasts until the next wait of its change began, the last one until the
            // change ended.
            let end = row.end;
            let starts: Vec<f64> = row.waits.iter().skip(1).map(|w| w.start).collect();
            for (wait, next) in row
                .waits
                .iter_mut()
                .zip(starts.into_iter().map(Some).chain([end]))
            {
                if let Some(next) = next {
                    wait.end = next.max(wait.start);
                }
            }
        }
        let critical = mark_critical_path(&mut rows);
        let ends = rows.iter().filter_map(|r| r.end.or(r.skipped_at));
        let total = ends.fold(0.0, f64::max);
        // Order of start; those that never started keep plan order, last.
        rows.sort_by(|a, b| match (a.start, b.start) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        Ok(Self {
            subject: if subjects.is_empty() {
                "ekspec run".to_owned()
            } else {
                subjects.join(", ")
            },
            started: Some(origin),
            rows,
            total,
            critical,
        })
    }
}

/// Rows by (cluster, resource), in the order first seen.
#[derive(Default)]
struct Rows {
    rows: Vec<Row>,
    index: HashMap<(Option<String>, String), usize>,
}

impl Rows {
    fn row(&mut self, cluster: &Option<String>, resource: &str, kind: &str) -> &mut Row {
        let key = (cluster.clone(), resource.to_owned());
        let i = *self.index.entry(key).or_insert_with(|| {
            self.rows.push(Row {
                cluster: cluster.clone(),
                resource: resource.to_owned(),
                kind: kind.to_owned(),
                physical_id: None,
                after: Vec::new(),
                start: None,
                end: None,
                skipped_at: None,
                waits: Vec::new(),
                outcome: Outcome::Unfinished,
                critical: false,
            });
            self.rows.len() - 1
        });
        let row = &mut self.rows[i];
        if row.kind.is_empty() {
            row.kind = kind.to_owned();
        }
        row
    }
}

/// A `waiting` event: a new wait, or a new state (or a heartbeat) of the current one.
fn waiting(row: &mut Row, event: &Value, t: f64) {
    let what = text(event, "waiting_for").unwrap_or_default();
    let state = text(event, "state").unwrap_or_default();
    let began = (t - event["seconds"].as_f64().unwrap_or(0.0)).max(row.start.unwrap_or(0.0));
    let same = row
        .waits
        .last()
        .is_some_and(|w| w.what == what && (w.start - began).abs() < 1.5);
    if !same {
        row.waits.push(Wait {
            what,
            start: began,
            end: t,
            states: Vec::new(),
        });
    }
    if let Some(wait) = row.waits.last_mut() {
        wait.end = wait.end.max(t);
        if wait.states.last().is_none_or(|(_, s)| *s != state) {
            wait.states.push((t, state));
        }
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// Marks the critical path of the run: the chain of changes, each waiting for the one before
/// (`after`), whose measured durations add up to the most. Returns its length in seconds.
fn mark_critical_path(rows: &mut [Row]) -> f64 {
    let index: HashMap<(Option<String>, &str), usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.cluster.clone(), r.resource.as_str()), i))
        .collect();
    let after: Vec<Vec<usize>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.after
                .iter()
                .filter_map(|a| index.get(&(r.cluster.clone(), a.as_str())).copied())
                .filter(|&p| p != i)
                .collect()
        })
        .collect();
    let weights: Vec<f64> = rows.iter().map(Row::duration).collect();
    let (chain, length) = heaviest_chain(&weights, &after);
    // A change that never ran adds nothing and is on no path.
    for i in chain {
        rows[i].critical = rows[i].end.is_some();
    }
    length
}

/// The heaviest chain of a dependency graph: node `i` weighs `weights[i]` and comes after the
/// nodes `after[i]`. Returns the chain's nodes, first to last, and its weight (see
/// [`chain::ends`] for cycles).
pub fn heaviest_chain(weights: &[f64], after: &[Vec<usize>]) -> (Vec<usize>, f64) {
    let ends = chain::ends(weights, after);
    // The first of equally heavy chains' ends, so a trailing weightless node is left out.
    let Some((last, length)) =
        ends.iter()
            .enumerate()
            .fold(
                None,
                |heaviest: Option<(usize, f64)>, (i, &(end, _))| match heaviest {
                    Some(h) if h.1 >= end => Some(h),
                    _ => Some((i, end)),
                },
            )
    else {
        return (Vec::new(), 0.0);
    };
    (chain::ending_at(last, &ends), length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heaviest_chain_follows_the_weights_not_the_node_count() {
        // 0 -> 1 -> 2 (1 + 1 + 1) against 0 -> 3 (1 + 5).
        let weights = [1.0, 1.0, 1.0, 5.0];
        let after = vec![vec![], vec![0], vec![1], vec![0]];
        assert_eq!(heaviest_chain(&weights, &after), (vec![0, 3], 6.0));
    }

    #[test]
    fn a_cycle_ends_and_counts_each_node_once() {
        let weights = [2.0, 3.0];
        let after = vec![vec![1], vec![0]];
        let (chain, length) = heaviest_chain(&weights, &after);
        assert_eq!(length, 5.0);
        assert_eq!(chain.len(), 2);
    }
}
