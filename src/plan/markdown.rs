//! Plans as Markdown for pull-request comments: a summary table, what the policy gate said,
//! each change in a collapsible block, the Mermaid graph; a fleet gets one section per
//! cluster, and a plan the policies deny is marked at the top. The whole fits a size limit
//! (GitHub's comment limit by default) by leaving out detail in a stated order; the policies'
//! findings go last.

use std::fmt::Write as _;

use super::estimate::{self, TimeModel};
use super::graph::{self, GraphFormat};
use super::{Change, ChangeKind, Plan, render};
use crate::policy::{Finding, Level};

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
    /// What the policy gate (`--policy`) said of the plan, denials first.
    pub findings: Vec<Finding>,
}

impl Section {
    /// Whether a policy denied this cluster's plan.
    fn denied(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Deny)
    }
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
    /// What this level leaves out, for the note at the end; `findings`: the policies'
    /// findings are still shown.
    fn left_out(self, findings: bool) -> &'static str {
        match self {
            Self::Full => "",
            Self::NoGraphs => "the dependency graphs (`ekspec plan --graph mermaid` draws them)",
            Self::NoFields => {
                "the dependency graphs and the changed fields of each change (`ekspec plan` shows them)"
            }
            Self::TableOnly if findings => {
                "the graphs and every change's details: only the counts and the policies' findings are shown (`ekspec plan` shows the changes)"
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
    // Even the table and the findings are too long (a very large fleet): cut at a line and
    // say so.
    let note = format!(
        "\n_Cut at {limit} characters (the comment limit): the comment is incomplete; `ekspec plan` shows every cluster._\n"
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
    denial(&mut out, sections);
    table(&mut out, sections);
    for section in sections {
        if detail < Detail::TableOnly {
            cluster(&mut out, section, detail);
        } else if !section.findings.is_empty() {
            // The findings are what a reviewer must act on: they stay when changes go.
            heading(&mut out, section);
            findings(&mut out, &section.findings);
        }
    }
    if detail > Detail::Full {
        let findings = sections.iter().any(|s| !s.findings.is_empty());
        let _ = write!(
            out,
            "\n_Left out to stay under {limit} characters (the comment limit): {}._\n",
            detail.left_out(findings)
        );
    }
    out
}

/// The mark at the top of a comment whose plans a policy denies (a GitHub alert).
fn denial(out: &mut String, sections: &[Section]) {
    let denied: Vec<String> = sections
        .iter()
        .filter(|s| s.denied())
        .map(|s| format!("`{}`", code(&s.cluster)))
        .collect();
    let whose = match denied.as_slice() {
        [] => return,
        [one] => format!("the plan of {one}"),
        many => format!("the plans of {} clusters: {}", many.len(), many.join(", ")),
    };
    let _ = write!(
        out,
        "> [!CAUTION]\n> **Denied by policy:** the policies deny {whose}; `ekspec apply` refuses it until the spec or the policies change (findings below).\n\n"
    );
}

/// Every finding of the policies on one cluster's plan, denials first.
fn findings(out: &mut String, findings: &[Finding]) {
    let denials = findings.iter().filter(|f| f.level == Level::Deny).count();
    let warnings = findings.len() - denials;
    let verdict = if denials > 0 { "denied" } else { "passed" };
    let _ = write!(
        out,
        "#### Policy: {verdict} ({denials} {}, {warnings} {})\n\n| Level | Rule | Resource | Message |\n|---|---|---|---|\n",
        if denials == 1 { "denial" } else { "denials" },
        if warnings == 1 { "warning" } else { "warnings" },
    );
    for finding in findings {
        let level = match finding.level {
            Level::Deny => "**deny**",
            Level::Warn => "warn",
        };
        let resource = finding
            .resource
            .as_deref()
            .map_or_else(|| "-".to_owned(), |r| format!("`{}`", code(r)));
        let _ = writeln!(
            out,
            "| {level} | `{}` (`{}`) | {resource} | {} |",
            code(&finding.rule),
            code(&finding.file.display().to_string()),
            cell(&finding.message)
        );
    }
    out.push('\n');
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
                let result = if section.denied() {
                    format!("{result}, **denied by policy**")
                } else {
                    result.to_owned()
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

/// `### \`prod\` (us-east-1)` and the spec file.
fn heading(out: &mut String, section: &Section) {
    let _ = write!(
        out,
        "\n### `{}` ({})\n\nSpec: `{}`\n\n",
        code(&section.cluster),
        cell(&section.region),
        code(&section.spec)
    );
}

fn cluster(out: &mut String, section: &Section, detail: Detail) {
    heading(out, section);
    if !section.findings.is_empty() {
        findings(out, &section.findings);
    }
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
            findings: Vec::new(),
        }
    }

    fn finding(level: Level, rule: &str, resource: Option<&str>, message: &str) -> Finding {
        Finding {
            level,
            file: "policies/main.rego".into(),
            rule: rule.to_owned(),
            resource: resource.map(str::to_owned),
            message: message.to_owned(),
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
        assert!(cut.contains("the comment is incomplete"), "{cut}");
    }

    #[test]
    fn a_denied_plan_is_marked_at_the_top_and_each_cluster_lists_its_findings() {
        let mut prod = section("prod", changes());
        prod.findings = vec![
            finding(
                Level::Deny,
                "deny_public_endpoint",
                Some("cluster"),
                "public endpoint open to 0.0.0.0/0 | *everyone*",
            ),
            finding(Level::Warn, "warn_spot", None, "spot without a batch label"),
        ];
        let mut quiet = section("quiet", Vec::new());
        quiet.findings = vec![finding(Level::Warn, "warn_version", None, "1.31 ends soon")];
        let sections = [prod, quiet, section("plain", Vec::new())];
        let text = render(&sections, GITHUB_COMMENT_LIMIT);
        assert!(
            text.starts_with("## ekspec plan\n\n> [!CAUTION]\n> **Denied by policy:** the policies deny the plan of `prod`;"),
            "{text}"
        );
        assert!(
            text.contains("| `prod` | us-east-1 | 0 | 1 | 1 | 0 | 0 | changes (destructive), **denied by policy** |"),
            "{text}"
        );
        assert!(
            text.contains("| `quiet` | us-east-1 | 0 | 0 | 0 | 0 | 0 | no changes |"),
            "{text}"
        );
        assert!(text.contains("\n### `prod` (us-east-1)\n\nSpec: `clusters/prod.yaml`\n\n#### Policy: denied (1 denial, 1 warning)\n\n| Level | Rule | Resource | Message |\n|---|---|---|---|\n| **deny** | `deny_public_endpoint` (`policies/main.rego`) | `cluster` | public endpoint open to 0.0.0.0/0 &#124; &#42;everyone&#42; |\n| warn | `warn_spot` (`policies/main.rego`) | - | spot without a batch label |\n\n"), "{text}");
        assert!(
            text.contains("#### Policy: passed (0 denials, 1 warning)"),
            "{text}"
        );
        assert_eq!(text.matches("#### Policy").count(), 2, "{text}");

        // The findings stay when the changes are left out.
        let no_graphs = render(&sections, text.chars().count() - 10);
        let no_fields = render(&sections, no_graphs.chars().count() - 10);
        let table = render(&sections, no_fields.chars().count() - 10);
        assert!(
            table.contains("only the counts and the policies' findings are shown"),
            "{table}"
        );
        assert!(!table.contains("nodegroup/spot"), "{table}");
        assert!(table.contains("> **Denied by policy:**"), "{table}");
        assert!(
            table.contains("| **deny** | `deny_public_endpoint`"),
            "{table}"
        );
        assert!(table.contains("\n### `quiet` (us-east-1)\n"), "{table}");
        assert!(!table.contains("\n### `plain`"), "{table}");

        let many = [section("a", Vec::new()), section("b", Vec::new())].map(|mut s| {
            s.findings = vec![finding(Level::Deny, "deny", None, "no")];
            s
        });
        let text = render(&many, GITHUB_COMMENT_LIMIT);
        assert!(
            text.contains("the policies deny the plans of 2 clusters: `a`, `b`;"),
            "{text}"
        );
    }
}
