//! The plan's dependency graph as pictures: Graphviz DOT and Mermaid.
//!
//! One node per change (kind symbol, resource, physical id), coloured by kind; an edge from
//! each change to the changes that wait for it (the graph `apply` runs); the critical path
//! under [`estimate::TimeModel`] drawn thick, with the estimate in the legend.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::estimate::{self, TimeModel};
use super::{Change, ChangeKind, Plan};

/// Which picture to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// Mermaid flowchart (renders in GitHub comments and READMEs).
    Mermaid,
}

/// The plans' graph in `format`: one plan's changes, or a fleet's with one box per cluster.
pub fn render(plans: &[&Plan], format: GraphFormat) -> String {
    let graphs: Vec<_> = plans.iter().map(|plan| PlanGraph::new(plan)).collect();
    match format {
        GraphFormat::Dot => dot(&graphs),
        GraphFormat::Mermaid => mermaid(&graphs),
    }
}

/// What both pictures draw: the changes, the edges between them and the critical path.
struct PlanGraph<'a> {
    plan: &'a Plan,
    /// `(from, to)` plan positions: `to` waits for `from`.
    edges: Vec<(usize, usize)>,
    /// The critical path's plan positions, first to last.
    path: Vec<usize>,
    legend: String,
}

impl<'a> PlanGraph<'a> {
    fn new(plan: &'a Plan) -> Self {
        let index: HashMap<&str, usize> = plan
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.resource.as_str(), i))
            .collect();
        let mut edges = Vec::new();
        for (to, change) in plan.changes.iter().enumerate() {
            let mut seen = HashSet::new();
            for before in &change.after {
                if let Some(&from) = index.get(before.as_str())
                    && from != to
                    && seen.insert(from)
                {
                    edges.push((from, to));
                }
            }
        }
        let figures = estimate::critical_path(plan, &TimeModel::real_time(), |_| estimate::CALL);
        let path = figures
            .path
            .iter()
            .filter_map(|r| index.get(r.as_str()).copied())
            .collect();
        let legend = if plan.is_empty() {
            format!("{} ({}): No changes.", plan.cluster, plan.region)
        } else {
            format!(
                "{} ({}): {} Critical path (thick) ~{} min; one after another ~{} min.",
                plan.cluster,
                plan.region,
                super::render::summary_line(plan),
                estimate::minutes(figures.critical),
                estimate::minutes(figures.sequential)
            )
        };
        Self {
            plan,
            edges,
            path,
            legend,
        }
    }

    /// Whether the edge runs along the critical path (one step of it).
    fn critical_edge(&self, (from, to): (usize, usize)) -> bool {
        self.path.windows(2).any(|w| w[0] == from && w[1] == to)
    }

    /// Whether the change at `i` is on the critical path.
    fn critical_node(&self, i: usize) -> bool {
        self.path.contains(&i)
    }
}

/// Fill and border colour of a kind.
fn colours(kind: ChangeKind) -> (&'static str, &'static str) {
    match kind {
        ChangeKind::Create => ("#c8e6c9", "#2e7d32"),
        ChangeKind::Update => ("#fff59d", "#f9a825"),
        ChangeKind::Replace => ("#ffcc80", "#e65100"),
        ChangeKind::Delete => ("#ef9a9a", "#c62828"),
        ChangeKind::Impossible => ("#e0e0e0", "#c62828"),
        ChangeKind::Adopt => ("#bbdefb", "#1565c0"),
    }
}

/// The lines of a node's label: `+ create vpc`, then the physical id when known.
fn label_lines(change: &Change) -> Vec<String> {
    let mut lines = vec![format!(
        "{} {} {}",
        change.kind.symbol(),
        change.kind.verb(),
        change.resource
    )];
    if let Some(id) = &change.physical_id {
        lines.push(id.clone());
    }
    lines
}

/// A DOT double-quoted string's content.
fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

fn dot(graphs: &[PlanGraph]) -> String {
    let mut out = String::new();
    out.push_str("digraph plan {\n");
    let fleet = graphs.len() > 1;
    let title = match graphs {
        [graph] => graph.legend.clone(),
        _ => format!("Fleet of {} clusters", graphs.len()),
    };
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label=\"{}\"];",
        dot_escape(&title)
    );
    out.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
    for (c, graph) in graphs.iter().enumerate() {
        let indent = if fleet { "    " } else { "  " };
        if fleet {
            let _ = writeln!(
                out,
                "  subgraph cluster_{c} {{\n    label=\"{}\";",
                dot_escape(&graph.legend)
            );
        }
        if graph.plan.is_empty() {
            let _ = writeln!(
                out,
                "{indent}c{c}none [shape=plaintext, style=\"\", label=\"No changes.\"];"
            );
        }
        for (i, change) in graph.plan.changes.iter().enumerate() {
            let (fill, border) = colours(change.kind);
            let mut attrs = format!(
                "label=\"{}\", fillcolor=\"{fill}\", color=\"{border}\"",
                dot_escape(&label_lines(change).join("\n"))
            );
            if change.kind == ChangeKind::Impossible {
                attrs.push_str(", style=\"rounded,filled,dashed\"");
            }
            if graph.critical_node(i) {
                attrs.push_str(", penwidth=3");
            }
            let _ = writeln!(out, "{indent}c{c}n{i} [{attrs}];");
        }
        for &(from, to) in &graph.edges {
            if graph.critical_edge((from, to)) {
                let _ = writeln!(
                    out,
                    "{indent}c{c}n{from} -> c{c}n{to} [penwidth=3, color=\"#c62828\"];"
                );
            } else {
                let _ = writeln!(out, "{indent}c{c}n{from} -> c{c}n{to};");
            }
        }
        if fleet {
            out.push_str("  }\n");
        }
    }
    out.push_str("}\n");
    out
}

/// Text safe inside a Mermaid `["..."]` label: Mermaid's entity codes for what its parser or
/// the HTML label would take as syntax.
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn mermaid(graphs: &[PlanGraph]) -> String {
    let mut out = String::new();
    let fleet = graphs.len() > 1;
    let title = match graphs {
        [graph] => graph.legend.clone(),
        _ => format!("Fleet of {} clusters", graphs.len()),
    };
    // The legend as the diagram's title (front matter, a YAML double-quoted string).
    let title = title.replace('\\', "\\\\").replace('"', "\\\"");
    let _ = writeln!(out, "---\ntitle: \"{title}\"\n---");
    out.push_str("flowchart LR\n");
    let mut thick = Vec::new();
    let mut critical = Vec::new();
    let mut links = 0;
    for (c, graph) in graphs.iter().enumerate() {
        let indent = if fleet { "    " } else { "  " };
        if fleet {
            let _ = writeln!(
                out,
                "  subgraph c{c}[\"{}\"]",
                mermaid_escape(&graph.legend)
            );
        }
        if graph.plan.is_empty() {
            let _ = writeln!(out, "{indent}c{c}none[\"No changes.\"]");
        }
        for (i, change) in graph.plan.changes.iter().enumerate() {
            let label = label_lines(change)
                .iter()
                .map(|line| mermaid_escape(line))
                .collect::<Vec<_>>()
                .join("<br/>");
            let _ = writeln!(
                out,
                "{indent}c{c}n{i}[\"{label}\"]:::{}",
                change.kind.verb()
            );
            if graph.critical_node(i) {
                critical.push(format!("c{c}n{i}"));
            }
        }
        for &(from, to) in &graph.edges {
            let _ = writeln!(out, "{indent}c{c}n{from} --> c{c}n{to}");
            if graph.critical_edge((from, to)) {
                thick.push(links.to_string());
            }
            links += 1;
        }
        if fleet {
            out.push_str("  end\n");
        }
    }
    let kinds = [
        ChangeKind::Create,
        ChangeKind::Update,
        ChangeKind::Replace,
        ChangeKind::Delete,
        ChangeKind::Impossible,
        ChangeKind::Adopt,
    ];
    for kind in kinds {
        let (fill, border) = colours(kind);
        let dashed = if kind == ChangeKind::Impossible {
            ",stroke-dasharray:5 5"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  classDef {} fill:{fill},stroke:{border},color:#000{dashed}",
            kind.verb()
        );
    }
    for node in critical {
        let _ = writeln!(out, "  style {node} stroke-width:4px");
    }
    if !thick.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:#c62828,stroke-width:4px",
            thick.join(",")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Operation;

    /// A cluster created after its role, a node group after the cluster, a role alone.
    fn plan() -> Plan {
        let cluster = Change::new(
            "cluster",
            ChangeKind::Create,
            vec![Operation::DeleteCluster {
                name: "c".to_owned(),
            }],
        )
        .after(["role/cluster", "cluster"]);
        let group = Change::new("nodegroup/a\"b", ChangeKind::Replace, Vec::new())
            .id("ng<1>#")
            .after(["cluster", "not-in-plan"]);
        let role = Change::new("role/cluster", ChangeKind::Update, Vec::new());
        let lonely = Change::new("role/old", ChangeKind::Delete, Vec::new()).id("old\\role");
        Plan {
            cluster: "c".to_owned(),
            region: "eu-west-1".to_owned(),
            changes: vec![cluster, group, role, lonely],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn dot_marks_the_critical_path_colours_kinds_and_escapes_labels() {
        let dot = render(&[&plan()], GraphFormat::Dot);
        // Edges from what runs first to what waits; self and out-of-plan edges dropped.
        assert!(
            dot.contains("  c0n2 -> c0n0 [penwidth=3, color=\"#c62828\"];"),
            "{dot}"
        );
        assert!(dot.contains("  c0n0 -> c0n1 [penwidth=3"), "{dot}");
        assert!(!dot.contains("c0n0 -> c0n0"), "{dot}");
        assert_eq!(dot.matches(" -> ").count(), 2, "{dot}");
        assert!(
            dot.contains(
                r##"c0n1 [label="-/+ replace nodegroup/a\"b\nng<1>#", fillcolor="#ffcc80""##
            ),
            "{dot}"
        );
        assert!(dot.contains(r##"c0n3 [label="- delete role/old\nold\\role", fillcolor="#ef9a9a", color="#c62828"];"##), "{dot}");
        // The deleted role is not on the path: no thick border.
        assert!(dot.contains("c0n0 [label=\"+ create cluster\", fillcolor=\"#c8e6c9\", color=\"#2e7d32\", penwidth=3];"), "{dot}");
        // Deleting a control plane is 9 minutes, plus two calls.
        assert!(
            dot.contains("Critical path (thick) ~9 min; one after another ~9 min."),
            "{dot}"
        );
    }

    #[test]
    fn mermaid_escapes_labels_and_styles_critical_links_by_number() {
        let mermaid = render(&[&plan()], GraphFormat::Mermaid);
        assert!(
            mermaid.starts_with("---\ntitle: \"c (eu-west-1): Plan: 1 to create"),
            "{mermaid}"
        );
        assert!(
            mermaid.contains(
                "  c0n1[\"-/+ replace nodegroup/a#quot;b<br/>ng#lt;1#gt;#35;\"]:::replace\n"
            ),
            "{mermaid}"
        );
        // Links in order of the waiting change: n2 --> n0 (0), n0 --> n1 (1); both on the path.
        assert!(
            mermaid.contains("  c0n2 --> c0n0\n  c0n0 --> c0n1\n"),
            "{mermaid}"
        );
        assert!(
            mermaid.contains("  linkStyle 0,1 stroke:#c62828,stroke-width:4px"),
            "{mermaid}"
        );
        assert!(
            mermaid.contains("  style c0n0 stroke-width:4px"),
            "{mermaid}"
        );
        assert!(!mermaid.contains("style c0n3 "), "{mermaid}");
    }

    #[test]
    fn fleets_get_one_box_per_cluster_and_empty_plans_say_so() {
        let empty = Plan {
            cluster: "quiet".to_owned(),
            region: "us-east-1".to_owned(),
            changes: Vec::new(),
            warnings: Vec::new(),
        };
        let dot = render(&[&plan(), &empty], GraphFormat::Dot);
        assert!(dot.contains("label=\"Fleet of 2 clusters\""), "{dot}");
        assert!(dot.contains("  subgraph cluster_1 {\n    label=\"quiet (us-east-1): No changes.\";\n    c1none [shape=plaintext"), "{dot}");
        let mermaid = render(&[&empty, &plan()], GraphFormat::Mermaid);
        assert!(mermaid.contains("  subgraph c0[\"quiet (us-east-1): No changes.\"]\n    c0none[\"No changes.\"]\n  end\n"), "{mermaid}");
        // Link numbers run across the clusters.
        assert!(mermaid.contains("    c1n0 --> c1n1\n"), "{mermaid}");
        assert!(mermaid.contains("linkStyle 0,1 "), "{mermaid}");
        let alone = render(&[&empty], GraphFormat::Mermaid);
        assert!(alone.starts_with("---\ntitle: \"quiet (us-east-1): No changes.\"\n---\nflowchart LR\n  c0none[\"No changes.\"]\n  classDef"), "{alone}");
    }
}
