//! The chart: a self-contained SVG (no scripts, no fonts or images to fetch), and an HTML page
//! that wraps it with a table of the same rows. Coordinates are written to 0.1 px, so the same
//! events always give the same bytes.

use std::fmt::Write as _;
use std::path::Path;

use super::{Outcome, Row, Timeline};
use crate::exec::wait::is_retry;

/// What `--timeline` / `-o` writes, by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.svg`
    Svg,
    /// `.html` / `.htm`
    Html,
}

impl Format {
    /// The format a path asks for, or an error saying which extensions there are.
    pub fn of(path: &Path) -> Result<Self, String> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Self::Svg),
            Some("html" | "htm") => Ok(Self::Html),
            _ => Err(format!(
                "{}: a timeline is written as .svg or .html; name the file FILE.svg or FILE.html",
                path.display()
            )),
        }
    }

    /// The document for `timeline`.
    pub fn render(self, timeline: &Timeline) -> String {
        match self {
            Self::Svg => svg(timeline),
            Self::Html => html(timeline),
        }
    }
}

const WIDTH: f64 = 1200.0;
const LABELS: f64 = 340.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 84.0;
const ROW: f64 = 22.0;
const BAR: f64 = 12.0;
const LEGEND: f64 = 48.0;
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
/// Characters of a row label before it is cut (the full label is its tooltip).
const LABEL_CHARS: usize = 48;

/// The fill of a change kind: the strong colours of `plan --graph` (its borders).
fn colour(kind: &str) -> &'static str {
    match kind {
        "create" => "#2e7d32",
        "update" => "#f9a825",
        "replace" => "#e65100",
        "delete" => "#c62828",
        "adopt" => "#1565c0",
        _ => "#8c959f",
    }
}

/// `text` safe inside XML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0, even escaped.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Seconds as people read a duration: `0.8s`, `42s`, `3m 5s`, `1h 2m`.
pub fn duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0);
    if seconds < 10.0 && seconds.fract() != 0.0 {
        format!("{seconds:.1}s")
    } else if seconds < 60.0 {
        format!("{seconds:.0}s")
    } else if seconds < 3600.0 {
        let s = seconds.round() as u64;
        match s % 60 {
            0 => format!("{}m", s / 60),
            rest => format!("{}m {rest}s", s / 60),
        }
    } else {
        let m = (seconds / 60.0).round() as u64;
        match m % 60 {
            0 => format!("{}h", m / 60),
            rest => format!("{}h {rest}m", m / 60),
        }
    }
}

/// The axis step: the smallest of a readable set that gives at most 10 ticks.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 18] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
        3600.0, 7200.0, 21600.0,
    ];
    STEPS
        .into_iter()
        .find(|step| span / step <= 10.0)
        .unwrap_or(span / 10.0)
}

fn cut(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        let head: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{head}…")
    }
}

fn headline(timeline: &Timeline) -> String {
    format!(
        "{}: {} total, critical path {}",
        timeline.subject,
        duration(timeline.total),
        duration(timeline.critical)
    )
}

fn counts(timeline: &Timeline) -> String {
    let count = |f: fn(&Outcome) -> bool| timeline.rows.iter().filter(|r| f(&r.outcome)).count();
    let done = count(|o| *o == Outcome::Done);
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    let unfinished = count(|o| *o == Outcome::Unfinished);
    let retries: usize = timeline.rows.iter().map(retries).sum();
    let mut text = format!("{done} done");
    for (n, what) in [
        (failed, "failed"),
        (skipped, "skipped"),
        (unfinished, "without an end"),
        (retries, "retried"),
    ] {
        if n > 0 {
            let _ = write!(text, ", {n} {what}");
        }
    }
    text
}

/// How many times a change was refused and tried again.
fn retries(row: &Row) -> usize {
    row.waits
        .iter()
        .flat_map(|w| &w.states)
        .filter(|(_, state)| is_retry(state))
        .count()
}

/// What a row's tooltip says.
fn tooltip(row: &Row) -> String {
    let mut text = format!("{} {}", row.kind, row.label());
    if let Some(id) = &row.physical_id {
        let _ = write!(text, " ({id})");
    }
    if let Some(start) = row.start {
        let _ = write!(text, "\nstarted at {}", duration(start));
    }
    if row.end.is_some() {
        let _ = write!(text, ", took {}", duration(row.duration()));
    }
    for wait in &row.waits {
        let states: Vec<&str> = wait.states.iter().map(|(_, s)| s.as_str()).collect();
        let _ = write!(
            text,
            "\nwaited {} for {}: {}",
            duration(wait.end - wait.start),
            wait.what,
            states.join(" → ")
        );
    }
    match &row.outcome {
        Outcome::Done => {}
        Outcome::Failed(error) => {
            let _ = write!(text, "\nFAILED: {error}");
        }
        Outcome::Skipped(reason) => {
            let _ = write!(text, "\nskipped: {reason}");
        }
        Outcome::Unfinished => text.push_str("\nno end in the events (the run stopped)"),
    }
    if row.critical {
        text.push_str("\non the critical path");
    }
    text
}

/// The chart as a standalone SVG document.
pub fn svg(timeline: &Timeline) -> String {
    let rows = timeline.rows.len() as f64;
    let height = TOP + rows * ROW + 16.0 + LEGEND;
    let chart = WIDTH - LABELS - RIGHT;
    let span = if timeline.total > 0.0 {
        timeline.total
    } else {
        1.0
    };
    let x = |t: f64| LABELS + t.clamp(0.0, span) / span * chart;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="{}" font-size="12">"#,
        escape(FONT)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&headline(timeline)));
    out.push_str(concat!(
        "<defs><pattern id=\"wait\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" ",
        "patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#ffffff\" ",
        "fill-opacity=\"0.6\"/></pattern></defs>\n"
    ));
    let _ = writeln!(
        out,
        r##"<rect width="{WIDTH}" height="{height:.0}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r##"<text x="16" y="28" font-size="17" font-weight="bold" fill="#1f2328">{}</text>"##,
        escape(&headline(timeline))
    );
    let started = timeline
        .started
        .map(|t| format!(" · started {}", humantime::format_rfc3339_seconds(t)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        r##"<text x="16" y="50" fill="#57606a">{}{}</text>"##,
        escape(&counts(timeline)),
        escape(&started)
    );
    // Axis: a grid line and a label per tick.
    let step = tick_step(span);
    let bottom = TOP + rows * ROW;
    let mut tick = 0.0;
    while tick <= span + step * 1e-6 {
        let tx = x(tick);
        let _ = writeln!(
            out,
            r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="#d0d7de" stroke-width="1"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#57606a" font-size="11">{}</text>"##,
            TOP - 6.0,
            TOP - 10.0,
            duration(tick)
        );
        tick += step;
    }
    for (i, row) in timeline.rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        draw_row(&mut out, row, y, &x, i);
    }
    legend(&mut out, bottom + 16.0);
    out.push_str("</svg>\n");
    out
}

fn draw_row(out: &mut String, row: &Row, y: f64, x: &impl Fn(f64) -> f64, i: usize) {
    let tip = escape(&tooltip(row));
    let _ = writeln!(out, "<g class=\"row\"><title>{tip}</title>");
    if i % 2 == 1 {
        let _ = writeln!(
            out,
            r##"<rect x="0" y="{y:.1}" width="{WIDTH}" height="{ROW}" fill="#f6f8fa"/>"##
        );
    }
    let mid = y + ROW / 2.0;
    let failed = matches!(row.outcome, Outcome::Failed(_));
    let (weight, fill) = match (row.critical, failed) {
        (_, true) => ("normal", "#cf222e"),
        (true, false) => ("bold", "#1f2328"),
        (false, false) => ("normal", "#1f2328"),
    };
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="{weight}" fill="{fill}">{}</text>"#,
        LABELS - 10.0,
        mid + 4.0,
        escape(&cut(&row.label()))
    );
    let top = mid - BAR / 2.0;
    if let Some(start) = row.start {
        let end = row.end.unwrap_or(f64::INFINITY);
        let (x0, x1) = (x(start), x(end));
        let width = (x1 - x0).max(2.0);
        let stroke = if row.critical {
            r##" stroke="#1f2328" stroke-width="2""##
        } else if row.outcome == Outcome::Unfinished {
            r##" stroke="#57606a" stroke-width="1" stroke-dasharray="3 2""##
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<rect class="bar" x="{x0:.1}" y="{top:.1}" width="{width:.1}" height="{BAR}" rx="2" fill="{}"{stroke}/>"#,
            colour(&row.kind)
        );
        for wait in &row.waits {
            let (w0, w1) = (x(wait.start), x(wait.end));
            if w1 - w0 >= 0.5 {
                let _ = writeln!(
                    out,
                    r#"<rect x="{w0:.1}" y="{top:.1}" width="{:.1}" height="{BAR}" fill="url(#wait)"/>"#,
                    w1 - w0
                );
            }
            for (t, state) in &wait.states {
                if is_retry(state) {
                    let tx = x(*t);
                    let _ = writeln!(
                        out,
                        r##"<path d="M{tx:.1} {:.1} l-4 6 h8 z" fill="#bc4c00"/>"##,
                        top + BAR + 1.0
                    );
                }
            }
        }
        if failed {
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" fill="#cf222e" font-weight="bold" font-size="14">✕</text>"##,
                x0 + width + 3.0,
                mid + 5.0
            );
        } else if row.end.is_some() {
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" fill="#57606a" font-size="10">{}</text>"##,
                x0 + width + 4.0,
                mid + 4.0,
                duration(row.duration())
            );
        }
    } else {
        let at = x(row.skipped_at.unwrap_or(0.0));
        let what = match &row.outcome {
            Outcome::Skipped(_) => "skipped",
            _ => "not started",
        };
        // Right of the moment it was skipped, or left of it near the chart's end.
        let (tx, anchor, text) = if at > LABELS + (WIDTH - LABELS - RIGHT) * 0.8 {
            (at - 2.0, "end", format!("{what} –"))
        } else {
            (at + 2.0, "start", format!("– {what}"))
        };
        let _ = writeln!(
            out,
            r##"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" fill="#8c959f" font-style="italic">{text}</text>"##,
            mid + 4.0
        );
    }
    out.push_str("</g>\n");
}

fn legend(out: &mut String, y: f64) {
    let mut x = 16.0;
    for kind in ["create", "update", "replace", "delete"] {
        let _ = writeln!(
            out,
            r##"<rect x="{x:.1}" y="{y:.1}" width="14" height="{BAR}" rx="2" fill="{}"/><text x="{:.1}" y="{:.1}" fill="#1f2328">{kind}</text>"##,
            colour(kind),
            x + 19.0,
            y + 10.5
        );
        x += 90.0;
    }
    let items = [
        (
            r##"<rect x="{x}" y="{y}" width="28" height="12" fill="#8c959f"/><rect x="{x}" y="{y}" width="28" height="12" fill="url(#wait)"/>"##,
            "waiting for AWS",
            150.0,
        ),
        (
            r##"<rect x="{x}" y="{y}" width="28" height="12" fill="#ffffff" stroke="#1f2328" stroke-width="2"/>"##,
            "critical path",
            130.0,
        ),
        (
            r##"<path d="M{cx} {y} l-4 6 h8 z" fill="#bc4c00"/>"##,
            "retried (AWS refused, tried again)",
            250.0,
        ),
        (
            r##"<text x="{x}" y="{ty}" fill="#cf222e" font-weight="bold" font-size="14">✕</text>"##,
            "failed",
            80.0,
        ),
    ];
    for (shape, text, advance) in items {
        let shape = shape
            .replace("{x}", &format!("{x:.1}"))
            .replace("{cx}", &format!("{:.1}", x + 6.0))
            .replace("{ty}", &format!("{:.1}", y + 11.0))
            .replace("{y}", &format!("{y:.1}"));
        let _ = writeln!(
            out,
            r##"{shape}<text x="{:.1}" y="{:.1}" fill="#1f2328">{text}</text>"##,
            x + 34.0,
            y + 10.5
        );
        x += advance;
    }
}

/// The chart in an HTML page, with a table of the rows under it; self-contained.
pub fn html(timeline: &Timeline) -> String {
    let title = escape(&headline(timeline));
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\nbody {{ font-family: {FONT}; margin: 16px; color: #1f2328; }}\n.row:hover rect.bar {{ opacity: 0.75; }}\ntable {{ border-collapse: collapse; margin-top: 16px; font-size: 13px; }}\nth, td {{ text-align: left; padding: 3px 10px; border-bottom: 1px solid #d0d7de; }}\ntd.n {{ text-align: right; white-space: nowrap; }}\ntr.critical td:first-child {{ font-weight: bold; }}\ntr.failed td {{ color: #cf222e; }}\n</style>\n</head>\n<body>\n"
    );
    out.push_str(&svg(timeline));
    out.push_str("<table>\n<thead><tr><th>change</th><th>kind</th><th>start</th><th>took</th><th>waiting for AWS</th><th>result</th></tr></thead>\n<tbody>\n");
    for row in &timeline.rows {
        let class = match (&row.outcome, row.critical) {
            (Outcome::Failed(_), _) => " class=\"failed\"",
            (_, true) => " class=\"critical\"",
            _ => "",
        };
        let result = match &row.outcome {
            Outcome::Done => "done".to_owned(),
            Outcome::Failed(error) => format!("failed: {error}"),
            Outcome::Skipped(reason) => format!("skipped: {reason}"),
            Outcome::Unfinished => "no end in the events".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&row.label()),
            escape(&row.kind),
            row.start.map(duration).unwrap_or_default(),
            if row.end.is_some() {
                duration(row.duration())
            } else {
                String::new()
            },
            if row.waits.is_empty() {
                String::new()
            } else {
                duration(row.waited())
            },
            escape(&result)
        );
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0.84), "0.8s");
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(185.0), "3m 5s");
        assert_eq!(duration(600.0), "10m");
        assert_eq!(duration(3720.0), "1h 2m");
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{7}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt; "
        );
    }
}
