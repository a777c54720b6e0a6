//! Plans as Markdown for pull-request comments: a summary table, each change in a collapsible
//! block, the Mermaid graph; a fleet gets one section per cluster. The whole fits a size
//! limit (GitHub's comment limit by default) by leaving out detail in a stated order.

use std::fmt::Write as _;

use super::estimate::{self, TimeModel};
use super::graph::{self, GraphFormat};
use super::{Change, ChangeKind, Plan, render};

/// GitHub's limit on a comment's body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// One cluster of the comment: its plan, or why it could not be planned.
#[derive(Debug, Clone)]
pub struct Section {
    /// The spec file, as given.
    pub spec: String,
    /// Cluster name.
    pub cluster: String,
    /// Region.
    pub region: String,
    /// The plan, or the error that stopped it.
    pub plan: Result<Plan, String>,
}

/// How much the comment shows; each level leaves out more than the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Detail {
    /// Everything.
    Full,
    /// No Mermaid graphs.
    NoGraphs,
    /// No graphs, no field lists: one line per change.
    NoFields,
    /// The summary table only.
    TableOnly,
}

impl Detail {
    /// What this level leaves out, for the note at the end.
    fn left_out(self) -> &'static str {
        match self {
            Self::Full => "",
            Self::NoGraphs => "the dependency graphs (`ekspec plan --graph mermaid` draws them)",
            Self::NoFields => {
                "the dependency graphs and the changed fields of each change (`ekspec plan` shows them)"
            }
            Self::TableOnly => {
                "the graphs and every change's details: only the counts are shown (`ekspec plan` shows the changes)"
            }
        }
    }
}

/// The sections as one Markdown document of at most `limit` characters: graphs are left out
/// first, then field lists, then the changes, and the document says what it left out.
pub fn render(sections: &[Section], limit: usize) -> String {
    for detail in [
        Detail::Full,
        Detail::NoGraphs,
        Detail::NoFields,
        Detail::TableOnly,
    ] {
        let text = document(sections, detail, limit);
        if text.chars().count() <= limit {
            return text;
        }
    }
    // Even the table is too long (a very large fleet): cut it at a line and say so.
    let note = format!(
        "\n_Cut at {limit} characters (the comment limit): the table is incomplete; `ekspec plan` shows every cluster._\n"
    );
    let text = document(sections, Detail::TableOnly, limit);
    let budget = limit.saturating_sub(note.chars().count());
    let mut cut = String::new();
    for line in text.lines() {
        if cut.chars().count() + line.chars().count() + 1 > budget {
            break;
        }
        cut.push_str(line);
        cut.push('\n');
    }
    cut.push_str(&note);
    cut
}

fn document(sections: &[Section], detail: Detail, limit: usize) -> String {
    // One cluster names itself in the heading, so a fleet's comment collected from one job
    // per cluster reads as a section per cluster.
    let mut out = match sections {
        [one] => format!("## ekspec plan: `{}`\n\n", code(&one.cluster)),
        _ => String::from("## ekspec plan\n\n"),
    };
    table(&mut out, sections);
    if detail < Detail::TableOnly {
        for section in sections {
            cluster(&mut out, section, detail);
        }
    }
    if detail > Detail::Full {
        let _ = write!(
            out,
            "\n_Left out to stay under {limit} characters (the comment limit): {}._\n",
            detail.left_out()
        );
    }
    out
}

/// The counts of every cluster, and their total for a fleet.
fn table(out: &mut String, sections: &[Section]) {
    out.push_str(
        "| Cluster | Region | Create | Update | Replace | Delete | Impossible | Result |\n",
    );
    out.push_str("|---|---|--:|--:|--:|--:|--:|---|\n");
    let mut total = [0usize; 5];
    for section in sections {
        let name = format!("`{}`", code(&section.cluster));
        match &section.plan {
            Ok(plan) => {
                let s = plan.summary();
                let counts = [s.create, s.update, s.replace, s.delete, s.impossible];
                for (sum, n) in total.iter_mut().zip(counts) {
                    *sum += n;
                }
                let result = if s.impossible > 0 {
                    "impossible changes"
                } else if plan.is_empty() {
                    "no changes"
                } else if plan.is_destructive() {
                    "changes (destructive)"
                } else {
                    "changes"
                };
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} | {} | {} | {} | {} | {result} |",
                    cell(&section.region),
                    counts[0],
                    counts[1],
                    counts[2],
                    counts[3],
                    counts[4]
                );
            }
            Err(_) => {
                let _ = writeln!(
                    out,
                    "| {name} | {} | - | - | - | - | - | error |",
                    cell(&section.region)
                );
            }
        }
    }
    if sections.len() > 1 {
        let _ = writeln!(
            out,
            "| **Total** ({} clusters) | | {} | {} | {} | {} | {} | |",
            sections.len(),
            total[0],
            total[1],
            total[2],
            total[3],
            total[4]
        );
    }
}

fn cluster(out: &mut String, section: &Section, detail: Detail) {
    let _ = write!(
        out,
        "\n### `{}` ({})\n\nSpec: `{}`\n\n",
        code(&section.cluster),
        cell(&section.region),
        code(&section.spec)
    );
    let plan = match &section.plan {
        Ok(plan) => plan,
        Err(error) => {
            let _ = writeln!(out, "**Error:** {}", cell(error));
            return;
        }
    };
    if plan.is_empty() {
        out.push_str("No changes.\n");
        return;
    }
    let figures = estimate::critical_path(plan, &TimeModel::real_time(), |_| estimate::CALL);
    let _ = writeln!(
        out,
        "{} Estimated: ~{} min along the critical path (~{} min one after another).\n",
        render::summary_line(plan),
        estimate::minutes(figures.critical),
        estimate::minutes(figures.sequential)
    );
    for change in &plan.changes {
        // A change with nothing more to show (most creates) is one line, not an empty block.
        let bare = change.fields.is_empty() && change.reason.is_none();
        if detail >= Detail::NoFields || bare {
            let _ = write!(out, "- {}", headline(change));
            if let Some(reason) = &change.reason {
                let _ = write!(out, " — {}", cell(reason));
            }
            out.push('\n');
        } else {
            change_block(out, change);
        }
    }
    if detail == Detail::Full {
        let _ = write!(
            out,
            "\n```mermaid\n{}```\n",
            graph::render(&[plan], GraphFormat::Mermaid)
        );
    }
}

/// `<code>+</code> create <code>vpc</code> (vpc-123)`
fn headline(change: &Change) -> String {
    let mut line = format!(
        "<code>{}</code> {} <code>{}</code>",
        html(change.kind.symbol()),
        change.kind.verb(),
        html(&change.resource)
    );
    if let Some(id) = &change.physical_id {
        let _ = write!(line, " ({})", html(id));
    }
    line
}

fn change_block(out: &mut String, change: &Change) {
    let _ = write!(out, "<details><summary>{}</summary>\n\n", headline(change));
    if !change.fields.is_empty() {
        out.push_str("| Field | Old | New |\n|---|---|---|\n");
        for field in &change.fields {
            let show = |value: &Option<String>| match value {
                Some(v) => format!("<code>{}</code>", cell(v)),
                None => "(none)".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(&field.field),
                show(&field.old),
                show(&field.new)
            );
        }
        out.push('\n');
    }
    if let Some(reason) = &change.reason {
        let label = if change.kind == ChangeKind::Impossible {
            "Cannot"
        } else {
            "Why"
        };
        let _ = write!(out, "**{label}:** {}\n\n", cell(reason));
    }
    out.push_str("</details>\n");
}

/// Text safe in HTML (the `<details>` blocks).
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Text safe in a Markdown table cell or paragraph: HTML-escaped, one line, no table pipes,
/// no emphasis or code markers taken as syntax.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in html(text).chars() {
        match c {
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '[' => out.push_str("&#91;"),
            '\n' | '\r' => out.push_str("<br>"),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a Markdown code span: no backticks (which would end it), one line.
fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace(['\n', '\r'], " ")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::FieldChange;

    fn section(cluster: &str, changes: Vec<Change>) -> Section {
        Section {
            spec: format!("clusters/{cluster}.yaml"),
            cluster: cluster.to_owned(),
            region: "us-east-1".to_owned(),
            plan: Ok(Plan {
                cluster: cluster.to_owned(),
                region: "us-east-1".to_owned(),
                changes,
                warnings: Vec::new(),
            }),
        }
    }

    fn changes() -> Vec<Change> {
        vec![
            Change::new("nodegroup/spot", ChangeKind::Replace, Vec::new())
                .id("spot")
                .fields(vec![FieldChange::new("instanceTypes", "[a|b]", "<c>")])
                .reason("AWS cannot change `instanceTypes` in place"),
            Change::new("cluster", ChangeKind::Update, Vec::new()).fields(vec![FieldChange {
                field: "logging".to_owned(),
                old: None,
                new: Some("api\naudit".to_owned()),
            }]),
        ]
    }

    #[test]
    fn a_change_gets_a_collapsible_block_with_its_fields_escaped_and_the_graph() {
        let text = render(&[section("prod", changes())], GITHUB_COMMENT_LIMIT);
        assert!(
            text.contains("| `prod` | us-east-1 | 0 | 1 | 1 | 0 | 0 | changes (destructive) |\n"),
            "{text}"
        );
        assert!(!text.contains("**Total**"), "{text}");
        assert!(text.contains("<details><summary><code>-/+</code> replace <code>nodegroup/spot</code> (spot)</summary>\n\n| Field | Old | New |\n|---|---|---|\n| instanceTypes | <code>&#91;a&#124;b]</code> | <code>&lt;c&gt;</code> |\n\n**Why:** AWS cannot change &#96;instanceTypes&#96; in place\n\n</details>\n"), "{text}");
        assert!(
            text.contains("| logging | (none) | <code>api<br>audit</code> |"),
            "{text}"
        );
        assert!(text.contains("\n```mermaid\n---\ntitle:"), "{text}");
        assert!(!text.contains("Left out"), "{text}");
    }

    #[test]
    fn a_fleet_gets_a_total_and_a_section_per_cluster_errors_included() {
        let mut broken = section("broken", Vec::new());
        broken.plan = Err("cannot read the VPC: AccessDenied".to_owned());
        let sections = [
            section("prod", changes()),
            section("quiet", Vec::new()),
            broken,
        ];
        let text = render(&sections, GITHUB_COMMENT_LIMIT);
        assert!(
            text.contains("| **Total** (3 clusters) | | 0 | 1 | 1 | 0 | 0 | |"),
            "{text}"
        );
        assert!(
            text.contains("| `broken` | us-east-1 | - | - | - | - | - | error |"),
            "{text}"
        );
        assert!(
            text.contains(
                "\n### `quiet` (us-east-1)\n\nSpec: `clusters/quiet.yaml`\n\nNo changes.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("**Error:** cannot read the VPC: AccessDenied"),
            "{text}"
        );
        assert_eq!(text.matches("```mermaid").count(), 1, "{text}");
    }

    #[test]
    fn too_long_comments_leave_out_graphs_then_fields_then_changes_and_say_so() {
        let sections = [section("prod", changes())];
        let full = render(&sections, GITHUB_COMMENT_LIMIT);
        let no_graphs = render(&sections, full.chars().count() - 10);
        assert!(!no_graphs.contains("```mermaid"), "{no_graphs}");
        assert!(no_graphs.contains("<details>"), "{no_graphs}");
        assert!(no_graphs.contains("_Left out to stay under"), "{no_graphs}");
        assert!(
            no_graphs.contains("the dependency graphs (`ekspec plan --graph mermaid` draws them)")
        );
        let no_fields = render(&sections, no_graphs.chars().count() - 10);
        assert!(!no_fields.contains("<details>"), "{no_fields}");
        assert!(
            no_fields.contains(
                "- <code>-/+</code> replace <code>nodegroup/spot</code> (spot) — AWS cannot"
            ),
            "{no_fields}"
        );
        let table = render(&sections, no_fields.chars().count() - 10);
        assert!(!table.contains("nodegroup/spot"), "{table}");
        assert!(table.contains("only the counts are shown"), "{table}");
        for text in [&full, &no_graphs, &no_fields, &table] {
            assert!(text.chars().count() <= GITHUB_COMMENT_LIMIT);
        }
        // Not even the table fits: cut at a line, within the limit, and said.
        let cut = render(&sections, 250);
        assert!(cut.chars().count() <= 250, "{cut}");
        assert!(cut.contains("the table is incomplete"), "{cut}");
    }
}
