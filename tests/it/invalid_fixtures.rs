//! Each invalid fixture's first diagnostic is exactly the one its `# expect:` line names.

use crate::support::{Ekspec, yaml_files};

#[test]
fn first_diagnostic_of_every_invalid_fixture() {
    let files = yaml_files("tests/fixtures/invalid");
    assert!(files.len() >= 45, "only {} invalid fixtures", files.len());
    let mut mismatches = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks an `# expect:` first line", file.display()));
        let relative = file
            .strip_prefix(crate::support::repo())
            .unwrap()
            .display()
            .to_string();
        let out = Ekspec::new(&["validate", "-f", &relative]).run();
        let first = out.stderr.lines().next().unwrap_or_default();
        let wanted = format!("{relative}:{expected}");
        if out.code != 1 || first != wanted {
            mismatches.push(format!(
                "{relative}\n  expected (exit 1): {wanted}\n  got (exit {}): {first}",
                out.code
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
