//! Strings as YAML scalars that every reader reads back as the same string.
//!
//! kubectl reads kubeconfigs with a YAML 1.1 parser: there `no`, `on`, `y`, `0755` (octal),
//! `1_000`, `0x1F`, `1:20`, `~` and `2001-12-14` are not strings, and a number or boolean where
//! kubectl's Go type wants a string fails the whole file. YAML 1.2 emitters write several of
//! these unquoted. So a string stays plain only in a form no YAML version reads as anything
//! else; every other string is double-quoted with escapes both versions share.

use std::fmt::Write as _;

/// Whether `value` can be written as a plain scalar that YAML 1.1 and 1.2 both read as this
/// string: it starts with a letter or `/` (or `-` and a letter or `-`, as `--region`), holds
/// only letters, digits and `-_./:@+=%~`, does not end with `:`, and is no YAML 1.1 boolean or
/// null word. Conservative: a string it refuses is quoted, which is always right.
pub fn plain_is_safe(value: &str) -> bool {
    let mut chars = value.chars();
    let first_ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '/' => true,
        Some('-') => chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '-'),
        _ => false,
    };
    first_ok
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+=%~".contains(c))
        && !value.ends_with(':')
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null"
        )
}

/// `value` as a double-quoted scalar: `"` and `\` escaped, everything outside printable ASCII
/// as `\uXXXX` or `\UXXXXXXXX` (YAML 1.1 counts some Unicode line separators as line breaks).
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// `value` as a scalar for block context: plain when that is safe, else double-quoted.
pub fn block(value: &str) -> String {
    if plain_is_safe(value) {
        value.to_owned()
    } else {
        quoted(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_other_yaml_versions_read_differently_are_quoted() {
        for value in [
            "no",
            "No",
            "NO",
            "y",
            "n",
            "on",
            "Off",
            "yes",
            "true",
            "null",
            "~",
            "0755",
            "1_000",
            "0x1F",
            "1:20",
            "1e3",
            ".inf",
            "-.5",
            "+12",
            "2001-12-14",
            "007",
            "",
            " x",
            "a: b",
            "a #b",
            "x:",
            "-",
            "-1",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "[x]",
            "{x}",
            "a,b",
            "=",
            "<<",
            "?",
            "|",
            ">",
            "'x'",
            "\"x\"",
            "é",
            "a\u{2028}b",
            "tab\t",
        ] {
            assert!(!plain_is_safe(value), "{value:?} must be quoted");
            assert!(block(value).starts_with('"'), "{value:?}");
        }
        for value in [
            "token",
            "--cluster",
            "-i",
            "eu-west-1",
            "arn:aws:eks:eu-west-1:123456789012:cluster/demo",
            "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
            "/usr/local/bin/ekspec",
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=",
            "client.authentication.k8s.io/v1beta1",
            "Never",
            "nothing",
            "yesterday",
        ] {
            assert!(plain_is_safe(value), "{value:?} can stay plain");
        }
    }

    #[test]
    fn quoting_escapes_what_yaml_would_fold_or_unescape() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quoted("é\u{2028}\n😀"), r#""\u00E9\u2028\u000A\U0001F600""#);
    }
}

#[cfg(test)]
mod properties {
    use granit_parser::{Event, Parser};
    use proptest::prelude::*;

    use super::*;

    /// The scalar values in a YAML text.
    fn scalars(text: &str) -> Vec<String> {
        Parser::new_from_str(text)
            .filter_map(|event| match event.map(|(event, _)| event) {
                Ok(Event::Scalar(value, ..)) => Some(value.into_owned()),
                Ok(_) => None,
                Err(error) => panic!("{text:?}: {error}"),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn every_string_reads_back_as_written(
            value in prop_oneof![any::<String>(), "[a-z0-9 :#'\"\\\\/.,{}\\[\\]~&*!|>%@`=+_-]{0,12}"]
        ) {
            prop_assert_eq!(scalars(&format!("k: {}\n", block(&value))), ["k".to_owned(), value.clone()]);
            prop_assert_eq!(scalars(&format!("- {}\n", block(&value))), [value.clone()]);
            prop_assert_eq!(scalars(&format!("{{k: [{}]}}\n", quoted(&value))), ["k".to_owned(), value]);
        }
    }
}
