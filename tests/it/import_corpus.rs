//! `ekspec import eksctl` over eksctl's own examples (its repository's `examples/`, copied into
//! tests/fixtures/eksctl-examples, Apache-2.0, see NOTICE): the configs a migrating team
//! brings. Each one imports to a spec that validates, or is refused at a line of the eksctl
//! file; and the fields not carried over may only become fewer.

use std::collections::BTreeMap;

use crate::support::{Ekspec, yaml_files};

const CORPUS: &str = "tests/fixtures/eksctl-examples";

/// Fields of the corpus not carried over, summed over the imported examples. Only lower it.
const NOT_CARRIED_OVER: usize = 78;

/// The examples refused, with why: versions EKS dropped (1.14 to 1.22) and placeholder ids.
const REFUSED: &[&str] = &[
    "23-kubeflow-spot-instance.yaml",
    "25-addons.yaml",
    "29-cluster-with-karpenter.yaml",
    "30-vpc-with-ip-family.yaml",
    "31-override-bootstrap-command-unmanaged-nodegroup.yaml",
    "36-outposts-vpc.yaml",
    "37-outposts-fully-private.yaml",
];

/// `FILE:LINE:COL: error: ` at the start of a line naming `file`, with a line inside it.
fn names_a_line_of(stderr: &str, file: &str, lines: usize) -> bool {
    stderr.lines().any(|line| {
        let Some(rest) = line.strip_prefix(&format!("{file}:")) else {
            return false;
        };
        let mut parts = rest.splitn(3, ':');
        let (Some(line), Some(column), Some(tail)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let in_file = line
            .parse::<usize>()
            .is_ok_and(|l| (1..=lines).contains(&l));
        in_file && column.parse::<usize>().is_ok() && tail.starts_with(" error: ")
    })
}

/// The field of a `not carried over` report line, list indexes left out.
fn lost_field(line: &str) -> Option<String> {
    let (_, rest) = line.split_once(": not carried over: ")?;
    let field = rest.split(": ").next()?;
    let mut out = String::new();
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            c if !in_index => out.push(c),
            _ => {}
        }
    }
    Some(out)
}

#[test]
fn every_eksctl_example_imports_and_validates_or_is_refused_at_an_eksctl_line() {
    let files = yaml_files(CORPUS);
    assert_eq!(files.len(), 49, "eksctl has 49 examples");
    let mut refused = Vec::new();
    let mut lost: BTreeMap<String, usize> = BTreeMap::new();
    let mut total = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = format!("{CORPUS}/{name}");
        let lines = std::fs::read_to_string(path).unwrap().lines().count();
        let out = Ekspec::new(&["import", "eksctl", &input]).run();
        assert!(
            !out.stderr.contains("(imported spec)"),
            "{input}: a message points at the spec, which is never written:\n{}",
            out.stderr
        );
        match out.code {
            0 => {
                let report = ekspec::spec::parse_str(&input, &out.stdout);
                assert!(
                    !report.has_errors(),
                    "{input}: the imported spec does not validate: {:#?}",
                    report.diagnostics
                );
                for field in out.stderr.lines().filter_map(lost_field) {
                    total += 1;
                    *lost.entry(field).or_default() += 1;
                }
            }
            1 => {
                assert!(
                    names_a_line_of(&out.stderr, &input, lines),
                    "{input}: refused without naming a line of it:\n{}",
                    out.stderr
                );
                assert!(out.stdout.is_empty(), "{input}: {}", out.stdout);
                refused.push(name);
            }
            code => panic!("{input}: exit {code}:\n{}", out.stderr),
        }
    }
    let mut common: Vec<(&String, &usize)> = lost.iter().collect();
    common.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let common: Vec<String> = common
        .iter()
        .take(10)
        .map(|(field, n)| format!("{n} {field}"))
        .collect();
    eprintln!(
        "{} of {} examples import, {} fields not carried over; most common:\n  {}",
        files.len() - refused.len(),
        files.len(),
        total,
        common.join("\n  ")
    );
    assert_eq!(refused, REFUSED, "the examples refused changed");
    assert!(
        total <= NOT_CARRIED_OVER,
        "{total} fields of eksctl's examples are not carried over, more than the {NOT_CARRIED_OVER} before: an import lost something it carried"
    );
    assert!(
        total == NOT_CARRIED_OVER,
        "{total} fields of eksctl's examples are not carried over, fewer than {NOT_CARRIED_OVER}: lower NOT_CARRIED_OVER to {total}"
    );
}
