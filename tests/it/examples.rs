//! Every spec users can copy validates without errors.

use crate::support::{Ekspec, repo, yaml_files};

#[test]
fn every_example_and_cluster_spec_is_valid() {
    for folder in ["examples", "clusters", "tests/fixtures/valid"] {
        let files = yaml_files(folder);
        assert!(!files.is_empty(), "{folder} has no specs");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let report = ekspec::spec::parse_str(&file.display().to_string(), &text);
            assert!(
                !report.has_errors(),
                "{} is invalid: {:#?}",
                file.display(),
                report.diagnostics
            );
        }
    }
}

#[test]
fn examples_validate_through_the_cli() {
    let out = Ekspec::new(&["validate", "-f", "examples", "-f", "clusters"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("examples/production.yaml: valid (cluster `prod` in us-east-1)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("clusters/demo.yaml: valid"),
        "{}",
        out.stdout
    );
}

#[test]
fn checked_in_schema_is_current() {
    let out = Ekspec::new(&["schema"]).run();
    assert_eq!(out.code, 0);
    let checked_in =
        std::fs::read_to_string(crate::support::repo().join("schema/ekspec.schema.json")).unwrap();
    assert!(
        out.stdout == checked_in,
        "schema/ekspec.schema.json is stale: regenerate it with `cargo run -- schema > schema/ekspec.schema.json`"
    );
}

/// The CI examples run commands that exist, with flags that exist.
#[test]
fn the_github_actions_example_uses_real_commands() {
    for example in ["github-actions.yml", "github-actions-fleet.yml"] {
        the_commands_exist(&format!("examples/ci/{example}"));
    }
}

fn the_commands_exist(file: &str) {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let commands: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("run: ").or(Some(l)))
        .filter(|l| l.starts_with("ekspec "))
        .collect();
    assert!(commands.len() >= 2, "{file}: {commands:?}");
    for command in commands {
        let words: Vec<&str> = command
            .split_whitespace()
            .take_while(|w| !w.starts_with('>'))
            .collect();
        let (subcommand, flags) = (words[1], &words[2..]);
        let help = Ekspec::new(&[subcommand, "--help"]).run();
        assert_eq!(help.code, 0, "{command}: {help:?}");
        for flag in flags.iter().filter(|w| w.starts_with("--")) {
            assert!(
                help.stdout.contains(flag),
                "{command}: `{flag}` is not an option of {subcommand}"
            );
        }
    }
}
