//! Timelines: `ekspec timeline EVENTS.ndjson -o FILE` on a fixed event file (golden SVG and
//! HTML, well-formed XML), its errors, and `apply` / `delete --timeline` against strict moto,
//! whose charts have one row per change of the plan and equal the chart drawn afterwards from
//! the run's NDJSON events.
//!
//! `EKSPEC_BLESS=1 cargo test --test it timeline` rewrites the golden files; review the diff
//! (and look at the SVG in a browser).

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::e2e::{Emulated, small};
use crate::support::{Ekspec, golden, repo};

const FIXTURE: &str = "tests/fixtures/timeline/events.ndjson";

/// Fails unless `path` is well-formed XML (python3's parser: the AWS tests need python3 anyway).
fn assert_well_formed(path: &Path) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])",
        ])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{} is not well-formed XML: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The resources of a chart's rows, from their tooltips (`<g class="row"><title>KIND RESOURCE`).
fn rows(svg: &str) -> Vec<(String, String)> {
    svg.split("<g class=\"row\"><title>")
        .skip(1)
        .map(|row| {
            let first = row.split(['\n', '<']).next().unwrap_or_default();
            let (kind, rest) = first.split_once(' ').unwrap_or_default();
            let resource = rest.split(" (").next().unwrap_or_default();
            (kind.to_owned(), resource.to_owned())
        })
        .collect()
}

#[test]
fn the_fixed_events_draw_the_golden_svg_and_html() {
    let dir = TempDir::new().unwrap();
    for name in ["expected.svg", "expected.html"] {
        let out = dir.path().join(name);
        let run = Ekspec::new(&["timeline", FIXTURE, "-o", &out.to_string_lossy()])
            .current_dir(&repo())
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout
                .contains("15 changes, 15m 12s total, critical path 15m 12s"),
            "{}",
            run.stdout
        );
        let text = std::fs::read_to_string(&out).unwrap();
        // Self-contained: nothing fetched from anywhere.
        assert!(!text.contains("href") && !text.contains("<script") && !text.contains("@import"));
        if name.ends_with(".svg") {
            assert_well_formed(&out);
        }
        golden(&repo().join("tests/fixtures/timeline").join(name), &text);
    }
}

#[test]
fn the_fixture_chart_marks_the_failure_the_retries_the_skip_and_the_critical_path() {
    let events = std::fs::read_to_string(repo().join(FIXTURE)).unwrap();
    let timeline = ekspec::timeline::Timeline::from_ndjson(&events).unwrap();
    let row = |resource: &str| {
        timeline
            .rows
            .iter()
            .find(|r| r.resource == resource)
            .unwrap_or_else(|| panic!("no row {resource}"))
    };
    let critical: Vec<&str> = timeline
        .rows
        .iter()
        .filter(|r| r.critical)
        .map(|r| r.resource.as_str())
        .collect();
    assert_eq!(
        critical,
        [
            "vpc",
            "subnet/private-us-east-1a",
            "cluster",
            "addon/vpc-cni",
            "nodegroup/batch"
        ]
    );
    assert!((timeline.total - 912.0).abs() < 0.01, "{}", timeline.total);
    assert!(matches!(
        row("nodegroup/batch").outcome,
        ekspec::timeline::Outcome::Failed(_)
    ));
    assert!(matches!(
        row("addon/aws-ebs-csi-driver").outcome,
        ekspec::timeline::Outcome::Skipped(_)
    ));
    // The cluster's two waits: the refused create (a retry), then CREATING until its end.
    let cluster = row("cluster");
    assert_eq!(cluster.waits.len(), 2, "{:?}", cluster.waits);
    assert!((cluster.waits[0].start - 2.7).abs() < 0.01);
    assert!((cluster.waits[1].start - 11.0).abs() < 0.01);
    assert!((cluster.waits[1].end - 584.0).abs() < 0.01);
    assert!(ekspec::exec::wait::is_retry(&cluster.waits[0].states[0].1));
    let svg = ekspec::timeline::svg(&timeline);
    assert_eq!(
        svg.matches("fill=\"#bc4c00\"/>").count(),
        2 + 1,
        "2 retries + legend"
    );
}

#[test]
fn events_that_are_not_ndjson_are_refused_with_the_line() {
    let dir = TempDir::new().unwrap();
    let events = dir.path().join("events.ndjson");
    std::fs::write(
        &events,
        "{\"event\":\"started\",\"time\":\"2026-11-22T23:02:48Z\",\"resource\":\"vpc\",\"kind\":\"create\"}\n\nPlan: 1 to create\n",
    )
    .unwrap();
    let out = dir.path().join("t.svg");
    let run = Ekspec::new(&[
        "timeline",
        &events.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
    ])
    .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("events.ndjson") && run.stderr.contains("line 3: not a JSON event"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());

    let empty = dir.path().join("empty.ndjson");
    std::fs::write(&empty, "\n").unwrap();
    let run = Ekspec::new(&[
        "timeline",
        &empty.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
    ])
    .run();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no events"), "{}", run.stderr);
}

#[test]
fn a_timeline_file_must_be_svg_or_html_in_a_folder_that_exists() {
    let run = Ekspec::new(&["timeline", FIXTURE, "-o", "chart.png"])
        .current_dir(&repo())
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(".svg or .html"), "{}", run.stderr);
    // apply checks before it plans or calls AWS (no credentials here).
    let run = Ekspec::new(&[
        "apply",
        "-f",
        "examples/minimal.yaml",
        "--timeline",
        "no/such/folder/t.svg",
    ])
    .current_dir(&repo())
    .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the folder no/such/folder does not exist"),
        "{}",
        run.stderr
    );
}

#[test]
fn apply_and_delete_write_timelines_of_their_plans_against_strict_moto() {
    let aws = Emulated::start();
    let dir = TempDir::new().unwrap();
    let spec = aws.spec("tl.yaml", &small("tl", "10.40.0.0/16"));
    let live = dir.path().join("apply.svg");
    let apply = aws.expect(
        0,
        &[
            "apply",
            "-f",
            &spec,
            "--auto-approve",
            "--output",
            "json",
            "--timeline",
            &live.to_string_lossy(),
        ],
    );
    // stdout stays pure NDJSON with --timeline.
    let events: Vec<serde_json::Value> = apply
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let plan: Vec<(String, String)> = events[0]["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["resource"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(plan.len() > 10, "{plan:?}");
    let svg = std::fs::read_to_string(&live).unwrap();
    assert_well_formed(&live);
    let mut drawn = rows(&svg);
    let mut planned = plan.clone();
    drawn.sort();
    planned.sort();
    assert_eq!(drawn, planned, "one row per change of the plan");
    assert!(svg.contains("tl (us-east-1): "), "{svg}");
    // The live chart is the chart of the events the run printed.
    let saved = dir.path().join("events.ndjson");
    std::fs::write(&saved, &apply.stdout).unwrap();
    let after = dir.path().join("after.svg");
    aws.expect(
        0,
        &[
            "timeline",
            &saved.to_string_lossy(),
            "-o",
            &after.to_string_lossy(),
        ],
    );
    assert_eq!(std::fs::read_to_string(&after).unwrap(), svg);

    let html = dir.path().join("delete.html");
    let delete = aws.expect(
        0,
        &[
            "delete",
            "-f",
            &spec,
            "--auto-approve",
            "--timeline",
            &html.to_string_lossy(),
        ],
    );
    assert!(
        delete.stdout.contains("Timeline written to"),
        "{}",
        delete.stdout
    );
    let page = std::fs::read_to_string(&html).unwrap();
    let deleted = rows(&page);
    assert!(deleted.len() > 10, "{deleted:?}");
    assert!(
        deleted.iter().all(|(kind, _)| kind == "delete"),
        "{deleted:?}"
    );
    assert!(deleted.iter().any(|(_, r)| r == "cluster"), "{deleted:?}");
    // Every row ran (its events were recorded, not only the plan's): the table says done.
    assert_eq!(
        page.matches("<td>done</td>").count(),
        deleted.len(),
        "{page}"
    );
}
