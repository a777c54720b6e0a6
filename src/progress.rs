//! Progress of an apply or delete, shown the way the place it runs in can read it: a live
//! spinner per running change on a terminal, one timestamped line per state change in CI logs,
//! newline-delimited JSON events for programs, nothing with `-q`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::exec::Event;
use crate::printer::{OutputFormat, Printer};
use crate::timeline::Recorder;

/// Where progress goes.
enum Mode {
    /// Spinners on stderr (a terminal, not verbose).
    Live {
        bars: MultiProgress,
        running: Mutex<HashMap<String, ProgressBar>>,
    },
    /// Timestamped lines on stdout.
    Lines,
    /// One JSON object per line on stdout.
    Events,
    /// `-q`: only the result.
    Quiet,
}

/// Shows executor events.
pub struct Progress {
    printer: Printer,
    mode: Mode,
    /// The cluster, when several are worked on at once.
    cluster: Option<String>,
    /// Keeps every event line (whatever the mode) for `--timeline`.
    recorder: Option<Arc<Recorder>>,
}

impl Progress {
    /// Progress for `printer`'s settings and the terminal it runs on.
    pub fn new(printer: &Printer) -> Self {
        Self::for_cluster(printer, None)
    }

    /// Progress of one cluster of a fleet: lines and events name it, and the live display
    /// gives way to lines (spinners of several clusters would fight over the terminal).
    pub fn for_cluster(printer: &Printer, cluster: Option<String>) -> Self {
        let mode = if printer.format() == OutputFormat::Json {
            Mode::Events
        } else if printer.quiet() {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() && printer.verbose() == 0 && cluster.is_none() {
            Mode::Live {
                bars: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                running: Mutex::new(HashMap::new()),
            }
        } else {
            Mode::Lines
        };
        Self {
            printer: printer.clone(),
            mode,
            cluster,
            recorder: None,
        }
    }

    /// Also keeps every event, as its JSON line, in `recorder` (for `--timeline`).
    pub fn recording(mut self, recorder: Option<Arc<Recorder>>) -> Self {
        self.recorder = recorder;
        self
    }

    /// Emits a JSON event line (printed only in JSON mode; kept when recording), stamped with
    /// the time.
    pub fn json_event(&self, event: &str, body: serde_json::Value) {
        let printed = matches!(self.mode, Mode::Events);
        if !printed && self.recorder.is_none() {
            return;
        }
        let serde_json::Value::Object(fields) = body else {
            return;
        };
        let mut line = serde_json::Map::new();
        line.insert("event".to_owned(), json!(event));
        line.insert("time".to_owned(), json!(event_time()));
        if let Some(cluster) = &self.cluster {
            line.insert("cluster".to_owned(), json!(cluster));
        }
        line.extend(fields);
        let line = serde_json::Value::Object(line);
        if printed {
            self.printer.json_line(&line);
        }
        if let Some(recorder) = &self.recorder {
            recorder.record(line);
        }
    }

    /// Shows one executor event (and keeps it, when recording).
    pub fn event(&self, event: &Event) {
        if self.recorder.is_some() && !matches!(self.mode, Mode::Events) {
            self.json_event(event.name(), event.json());
        }
        match &self.mode {
            Mode::Quiet => {}
            Mode::Events => self.json_event(event.name(), event.json()),
            Mode::Lines => {
                let cluster = self
                    .cluster
                    .as_ref()
                    .map(|c| format!("[{c}] "))
                    .unwrap_or_default();
                self.printer
                    .result(format!("{} {cluster}{}", timestamp(), line(event)));
            }
            Mode::Live { bars, running } => {
                let Ok(mut running) = running.lock() else {
                    return;
                };
                match event {
                    Event::Started { resource, kind } => {
                        let bar = bars.add(ProgressBar::new_spinner());
                        bar.set_style(
                            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        bar.set_message(format!("{} {resource}: {}", kind.symbol(), kind.verb()));
                        bar.enable_steady_tick(Duration::from_millis(120));
                        running.insert(resource.clone(), bar);
                    }
                    Event::Finished { resource, .. }
                    | Event::Failed { resource, .. }
                    | Event::Skipped { resource, .. } => {
                        let text = line(event);
                        if let Some(bar) = running.remove(resource) {
                            bar.finish_and_clear();
                        }
                        // Printed above the spinners, where it stays.
                        let _ = bars.println(text);
                    }
                    Event::Waiting {
                        resource,
                        what,
                        state,
                        ..
                    } => {
                        // The spinner counts the time; its message shows what AWS says now.
                        if let Some(bar) = running.get(resource) {
                            bar.set_message(format!("{resource}: {what}: {state}"));
                        }
                    }
                }
            }
        }
    }

    /// Clears what is left on the terminal.
    pub fn finish(&self) {
        if let Mode::Live { bars, .. } = &self.mode {
            let _ = bars.clear();
        }
    }
}

/// A state change as one line of text.
fn line(event: &Event) -> String {
    match event {
        Event::Started { resource, kind } => {
            format!("{} {resource}: {}...", kind.symbol(), kind.verb())
        }
        Event::Finished {
            resource,
            kind,
            elapsed,
        } => format!(
            "{} {resource}: done ({:.1}s)",
            kind.symbol(),
            elapsed.as_secs_f64()
        ),
        Event::Failed { resource, error } => format!("! {resource}: failed: {error}"),
        Event::Skipped { resource, reason } => format!("- {resource}: skipped: {reason}"),
        Event::Waiting {
            resource,
            what,
            state,
            waited,
        } => format!(
            "  {resource}: waiting for {what}: {state} ({} so far)",
            humantime::format_duration(Duration::from_secs(waited.as_secs()))
        ),
    }
}

/// Now, RFC 3339 in UTC to the second.
fn timestamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Now, RFC 3339 in UTC to the millisecond, for event lines (a timeline of a run whose changes
/// take a second or less needs more than seconds).
fn event_time() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}
