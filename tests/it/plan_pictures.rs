//! `plan --graph dot|mermaid` and `plan --output markdown` through the real binary against
//! strict moto: goldens of the production example's plan (the comment with the example
//! policies' findings), a fleet folder in one comment, and
//! the pictures checked by the tools that draw them (Graphviz, Mermaid's own parser).
//!
//! `EKSPEC_BLESS=1` rewrites the goldens (tests/fixtures/golden/) from this run's output.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

use crate::e2e::{Emulated, small};
use crate::support::repo;

fn golden(name: &str) -> PathBuf {
    repo().join("tests/fixtures/golden").join(name)
}

/// Compares `actual` with the golden `name` (or rewrites it under `EKSPEC_BLESS=1`).
fn check_golden(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("EKSPEC_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} differs from this run's output (EKSPEC_BLESS=1 rewrites it after a deliberate change):\n{actual}",
        path.display()
    );
}

#[test]
fn the_production_plan_graphs_and_markdown_match_their_goldens() {
    let aws = Emulated::start();
    let spec = "examples/production.yaml";
    let dot = aws.expect(
        2,
        &["plan", "-f", spec, "--graph", "dot", "--detailed-exitcode"],
    );
    check_golden("production.dot", &dot.stdout);
    let mermaid = aws.expect(0, &["plan", "-f", spec, "--graph", "mermaid"]);
    check_golden("production.mmd", &mermaid.stdout);
    // With two of the example policies (not the date-dependent ones): the spot pool is not
    // labelled for batch work and has unapproved instance types, so the plan is denied (exit 1)
    // and the comment says so.
    let markdown = aws.expect(
        1,
        &[
            "plan",
            "-f",
            spec,
            "--output",
            "markdown",
            "--policy",
            "examples/policies/spot_batch.rego",
            "--policy",
            "examples/policies/instance_types.rego",
        ],
    );
    check_golden("production.md", &markdown.stdout);
    // The comment's graph is the same picture `--graph mermaid` prints.
    assert!(
        markdown
            .stdout
            .contains(&format!("```mermaid\n{}```", mermaid.stdout)),
        "{}",
        markdown.stdout
    );
}

#[test]
fn a_fleet_folder_is_one_comment_and_one_picture_with_a_section_per_cluster() {
    let aws = Emulated::start();
    let fleet = TempDir::new().unwrap();
    std::fs::write(
        fleet.path().join("blue.yaml"),
        small("blue", "10.10.0.0/16"),
    )
    .unwrap();
    std::fs::write(
        fleet.path().join("green.yaml"),
        small("green", "10.20.0.0/16"),
    )
    .unwrap();
    let blue = fleet
        .path()
        .join("blue.yaml")
        .to_string_lossy()
        .into_owned();
    aws.expect(0, &["apply", "-f", &blue, "--auto-approve"]);
    let dir = fleet.path().to_string_lossy().into_owned();

    let markdown = aws.expect(
        2,
        &["plan", &dir, "--output", "markdown", "--detailed-exitcode"],
    );
    let text = &markdown.stdout;
    assert!(
        text.contains("| `blue` | us-east-1 | 0 | 0 | 0 | 0 | 0 | no changes |"),
        "{text}"
    );
    assert!(text.contains("| **Total** (2 clusters) |"), "{text}");
    assert!(text.contains("\n### `blue` (us-east-1)\n"), "{text}");
    assert!(text.contains("\n### `green` (us-east-1)\n"), "{text}");
    assert!(
        text.contains("<code>+</code> create <code>cluster</code>"),
        "{text}"
    );
    assert_eq!(text.matches("```mermaid").count(), 1, "{text}");
    // No text plan, no fleet table around the comment.
    assert!(!text.contains("CLUSTER"), "{text}");

    let dot = aws.expect(0, &["plan", &dir, "--graph", "dot"]);
    assert!(dot.stdout.starts_with("digraph plan {\n"), "{}", dot.stdout);
    assert!(
        dot.stdout.contains("label=\"Fleet of 2 clusters\""),
        "{}",
        dot.stdout
    );
    assert!(
        dot.stdout
            .contains("label=\"blue (us-east-1): No changes.\";"),
        "{}",
        dot.stdout
    );
    assert_eq!(
        dot.stdout.matches("subgraph cluster_").count(),
        2,
        "{}",
        dot.stdout
    );

    // A share of one comment, as a matrix job gets it: the graphs go first, and it says so.
    let share = aws.expect(
        0,
        &[
            "plan",
            &dir,
            "--output",
            "markdown",
            "--markdown-limit",
            "3000",
        ],
    );
    assert!(share.stdout.chars().count() <= 3000, "{}", share.stdout);
    assert!(
        share
            .stdout
            .contains("_Left out to stay under 3000 characters"),
        "{}",
        share.stdout
    );
}

#[test]
fn pictures_and_markdown_refuse_what_they_cannot_print() {
    let aws = Emulated::start();
    let spec = "examples/minimal.yaml";
    let both = aws.expect(
        1,
        &["plan", "-f", spec, "--graph", "dot", "--output", "json"],
    );
    assert!(
        both.stderr.contains("--graph prints a picture"),
        "{}",
        both.stderr
    );
    let apply = aws.expect(1, &["apply", "-f", spec, "--output", "markdown"]);
    assert!(
        apply
            .stderr
            .contains("--output markdown is for `ekspec plan`"),
        "{}",
        apply.stderr
    );
}

/// Prints one line and returns false when `program` is not installed.
fn have(program: &str, install: &str) -> bool {
    let found = Command::new(program).arg("-V").output().is_ok();
    if !found {
        println!("skipped: `{program}` is not installed ({install})");
    }
    found
}

#[test]
fn the_golden_dot_renders_with_graphviz() {
    if !have("dot", "apt-get install graphviz") {
        return;
    }
    let out = Command::new("dot")
        .args(["-Tsvg"])
        .arg(golden("production.dot"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    // Every change is a node of the picture, and Graphviz warned about nothing.
    assert!(svg.contains("+ create cluster"), "{svg}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_golden_mermaid_parses_with_mermaid() {
    // Mermaid's parser runs in node with the npm packages mermaid and jsdom installed under
    // EKSPEC_MERMAID_MODULES (scripts/mermaid-parse.mjs says how).
    let Some(modules) = std::env::var_os("EKSPEC_MERMAID_MODULES") else {
        println!(
            "skipped: EKSPEC_MERMAID_MODULES is not set (npm install --prefix DIR mermaid@11 jsdom; EKSPEC_MERMAID_MODULES=DIR/node_modules)"
        );
        return;
    };
    if !have("node", "apt-get install nodejs") {
        return;
    }
    let out = Command::new("node")
        .arg(repo().join("scripts/mermaid-parse.mjs"))
        .arg(modules)
        .arg(golden("production.mmd"))
        .arg(golden("production.md"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("mermaid: 2 diagram(s) parse"), "{stdout}");
}
