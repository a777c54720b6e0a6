//! Hostile input ends in a clear error, quickly, without a panic.

use ekspec::spec::parse_str;

#[test]
fn alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        text.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    let report = parse_str("bomb.yaml", &text);
    assert!(report.has_errors());
    assert!(report.spec.is_none());
}

#[test]
fn deep_nesting_and_huge_files_are_refused() {
    let deep = format!("spec: {}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(parse_str("deep.yaml", &deep).has_errors());
    let huge = "#".repeat(5 * 1024 * 1024);
    let report = parse_str("huge.yaml", &huge);
    assert!(
        report.diagnostics[0].message.contains("limited to"),
        "{:?}",
        report.diagnostics
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "\u{feff}",
        "- - - -",
        "{",
        "]",
        "a: !!binary x",
        "? [a]\n: b",
        "a: *nope",
        "%YAML 1.1\n---\n",
        "\t",
        "a:\n\t- b",
    ] {
        let _ = parse_str("garbage.yaml", text);
    }
}
