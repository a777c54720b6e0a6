//! `ekspec validate`, `init`, `schema`, `completions` as a user runs them.

use crate::support::Ekspec;

#[test]
fn a_valid_file() {
    let out = Ekspec::new(&["validate", "-f", "examples/minimal.yaml"]).run();
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "examples/minimal.yaml: valid (cluster `minimal` in us-east-1)\n"
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn every_problem_of_a_file_is_reported_with_snippet_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata:\n  name: demo\n  region: us-east-1\nspec:\n  kubernetesVersion: 1.30\n  vpc:\n    cidr: 10.0.0.1/16\n  nodeGroups:\n    - name: system\n      instanceType: [m6i.large]\n      minSize: 3\n      maxSize: 2\n",
    )
    .unwrap();
    let out = Ekspec::new(&["validate", "-f", "bad.yaml"])
        .current_dir(dir.path())
        .run();
    assert_eq!(out.code, 1);
    let headers: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("bad.yaml:"))
        .collect();
    assert_eq!(
        headers,
        [
            "bad.yaml:7:22: error: `kubernetesVersion` must be a string, found a number",
            "bad.yaml:9:11: error: `10.0.0.1/16` has host bits set",
            "bad.yaml:12:7: error: unknown field `instanceType`, did you mean `instanceTypes`?",
            "bad.yaml:13:16: error: minSize (3) is larger than maxSize (2)",
        ]
    );
    assert!(
        out.stderr
            .contains("7 |   kubernetesVersion: 1.30\n  |                      ^^^^\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "= help: quote the value so YAML keeps it as text: kubernetesVersion: \"1.30\""
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("= help: did you mean 10.0.0.0/16?"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "1 file checked: 4 errors, 0 warnings\n");
}

#[test]
fn warnings_pass_unless_strict() {
    let file = "tests/fixtures/valid/spot-single-type.yaml";
    let out = Ekspec::new(&["validate", "-f", file]).run();
    assert_eq!(out.code, 0);
    assert!(
        out.stderr.starts_with(&format!(
            "{file}:12:22: warning: a spot node group with a single instance type"
        )),
        "{}",
        out.stderr
    );
    let strict = Ekspec::new(&["validate", "--strict", "-f", file]).run();
    assert_eq!(strict.code, 1);
    assert!(
        strict
            .stderr
            .starts_with(&format!("{file}:12:22: error: a spot node group")),
        "{}",
        strict.stderr
    );
}

#[test]
fn json_output() {
    let out = Ekspec::new(&[
        "validate",
        "--output",
        "json",
        "-f",
        "tests/fixtures/invalid/min-above-max.yaml",
        "-f",
        "examples/minimal.yaml",
    ])
    .run();
    assert_eq!(out.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["errors"], 1);
    assert_eq!(doc["files"][0]["valid"], false);
    assert_eq!(doc["files"][0]["diagnostics"][0]["line"], 14);
    assert_eq!(
        doc["files"][0]["diagnostics"][0]["path"],
        "spec.nodeGroups[0].minSize"
    );
    assert_eq!(doc["files"][1]["valid"], true);
    assert_eq!(doc["files"][1]["cluster"], "minimal");
}

#[test]
fn missing_file_and_empty_folder() {
    let out = Ekspec::new(&["validate", "-f", "nope.yaml"]).run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("error: cannot read nope.yaml: "),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Ekspec::new(&["validate", "-f", "."])
        .current_dir(dir.path())
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "error: .: no *.yaml or *.yml files in this folder\n"
    );
}

#[test]
fn region_flag_may_not_contradict_the_spec() {
    let out = Ekspec::new(&[
        "validate",
        "--region",
        "eu-west-1",
        "-f",
        "examples/minimal.yaml",
    ])
    .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("examples/minimal.yaml:7:11: error: --region eu-west-1 contradicts metadata.region `us-east-1`"),
        "{}",
        out.stderr
    );
}

#[test]
fn init_writes_a_spec_that_validates_and_never_clobbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = Ekspec::new(&["init", "--name", "web", "--region", "eu-west-1"])
        .current_dir(dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "wrote web.yaml; next: ekspec validate -f web.yaml\n"
    );
    let check = Ekspec::new(&["validate", "-f", "web.yaml"])
        .current_dir(dir.path())
        .run();
    assert_eq!(
        check.stdout,
        "web.yaml: valid (cluster `web` in eu-west-1)\n"
    );
    let again = Ekspec::new(&["init", "--name", "web"])
        .current_dir(dir.path())
        .run();
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stderr,
        "error: web.yaml already exists; pass --force to overwrite it\n"
    );
    let stdout = Ekspec::new(&["init", "--name", "x1", "-f", "-"]).run();
    assert!(stdout.stdout.contains("  name: x1 "), "{}", stdout.stdout);
    let bad = Ekspec::new(&["init", "--name", "bad_name", "-f", "-"]).run();
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("invalid cluster name `bad_name`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn help_version_completions_and_usage_errors() {
    let help = Ekspec::new(&["--help"]).run();
    for command in ["validate", "schema", "init", "completions"] {
        assert!(help.stdout.contains(command), "--help lacks {command}");
    }
    // The version names the commit the binary was built from (build.rs).
    let version = Ekspec::new(&["--version"]).run();
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(crate::support::repo())
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap();
    assert_eq!(
        version.stdout,
        format!("ekspec {} ({})\n", env!("CARGO_PKG_VERSION"), head.trim())
    );
    let completions = Ekspec::new(&["completions", "bash"]).run();
    assert!(
        completions.stdout.contains("_ekspec()"),
        "{}",
        completions.stdout
    );
    // Usage errors exit 1: 2 is `plan --detailed-exitcode`'s "there are changes".
    let unknown = Ekspec::new(&["frobnicate"]).run();
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("frobnicate"), "{}", unknown.stderr);
}

#[test]
fn manual_pages_are_generated_for_every_command() {
    let page = Ekspec::new(&["man"]).run();
    assert_eq!(page.code, 0, "{page:?}");
    assert!(page.stdout.starts_with(".ie"), "{}", page.stdout);
    assert!(page.stdout.contains(".TH ekspec 1"), "{}", page.stdout);
    let dir = tempfile::TempDir::new().unwrap();
    let out = Ekspec::new(&["man", "--out", &dir.path().to_string_lossy()]).run();
    assert_eq!(out.code, 0, "{out:?}");
    for command in [
        "ekspec",
        "ekspec-plan",
        "ekspec-apply",
        "ekspec-delete",
        "ekspec-get",
    ] {
        let page = std::fs::read_to_string(dir.path().join(format!("{command}.1"))).unwrap();
        assert!(page.contains(".SH NAME"), "{command}: {page}");
    }
}
