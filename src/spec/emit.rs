//! Writes a [`ClusterFile`] as YAML in the style of `examples/*.yaml`: fields in the model's
//! order, defaults left out, short lists and small label maps on one line.
//!
//! Reading the output back with [`super::parse_str`] gives the same [`ClusterFile`].

use serde_json::{Map, Value};

use super::model::{AmiType, CapacityType, ClusterFile, EndpointSpec};
use super::source::{ScalarType, scalar_type};

/// Lines longer than this are written in block style instead of flow style.
const MAX_LINE: usize = 100;
/// Maps under these keys are written on one line when they have at most two entries.
const FLOW_MAP_KEYS: [&str; 3] = ["labels", "tags", "scope"];
/// Lists of small maps under these keys are written on one line when they fit.
const FLOW_LIST_KEYS: [&str; 1] = ["taints"];

/// The spec as YAML text (ending in a newline), without fields that only repeat a default.
pub fn to_yaml(file: &ClusterFile) -> String {
    let mut value = serde_json::to_value(file).unwrap_or(Value::Null);
    if let Some(spec) = value.get_mut("spec").and_then(Value::as_object_mut) {
        prune_spec(spec);
    }
    let mut out = String::new();
    if let Value::Object(map) = &value {
        write_map(&mut out, map, 0);
    }
    out
}

/// Drops fields equal to what the parser would fill in, so the output reads like a person wrote it.
fn prune_spec(spec: &mut Map<String, Value>) {
    if let Some(Value::Object(endpoint)) = spec.get_mut("endpoint") {
        let defaults = serde_json::to_value(EndpointSpec::default()).unwrap_or(Value::Null);
        endpoint.retain(|key, value| defaults.get(key) != Some(value));
    }
    if let Some(Value::Object(karpenter)) = spec.get_mut("karpenter")
        && karpenter.get("interruptionQueue") == Some(&Value::Bool(true))
    {
        karpenter.remove("interruptionQueue");
    }
    spec.retain(|_, value| !matches!(value, Value::Object(map) if map.is_empty()));
    let node_group_defaults = [
        (
            "capacityType",
            serde_json::to_value(CapacityType::default()).unwrap_or(Value::Null),
        ),
        (
            "amiType",
            serde_json::to_value(AmiType::default()).unwrap_or(Value::Null),
        ),
        ("diskSizeGiB", Value::from(20)),
        ("privateNetworking", Value::Bool(true)),
        ("podImdsAccess", Value::Bool(false)),
    ];
    if let Some(Value::Array(groups)) = spec.get_mut("nodeGroups") {
        for group in groups.iter_mut().filter_map(Value::as_object_mut) {
            group.retain(|key, value| {
                !node_group_defaults
                    .iter()
                    .any(|(default_key, default)| key == default_key && value == default)
            });
        }
    }
}

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        write_entry(out, key, value, indent, &" ".repeat(indent));
    }
}

/// Writes `key: value` starting with `lead` (the indentation, or `- ` for a list item's first key).
fn write_entry(out: &mut String, key: &str, value: &Value, indent: usize, lead: &str) {
    let head = format!("{lead}{}:", scalar(&Value::String(key.to_owned()), false));
    match value {
        Value::Object(map) if map.is_empty() => out.push_str(&format!("{head} {{}}\n")),
        Value::Array(items) if items.is_empty() => out.push_str(&format!("{head} []\n")),
        Value::Object(map) => {
            let flow = FLOW_MAP_KEYS.contains(&key) && map.len() <= 2;
            match flow.then(|| flow_text(value)).flatten() {
                Some(text) if head.len() + 1 + text.len() <= MAX_LINE => {
                    out.push_str(&format!("{head} {text}\n"));
                }
                _ => {
                    out.push_str(&head);
                    out.push('\n');
                    write_map(out, map, indent + 2);
                }
            }
        }
        Value::Array(items) => {
            let flow = items.iter().all(is_scalar) || FLOW_LIST_KEYS.contains(&key);
            match flow.then(|| flow_text(value)).flatten() {
                Some(text) if head.len() + 1 + text.len() <= MAX_LINE => {
                    out.push_str(&format!("{head} {text}\n"));
                }
                _ => {
                    out.push_str(&head);
                    out.push('\n');
                    write_items(out, items, indent + 2);
                }
            }
        }
        scalar_value => out.push_str(&format!("{head} {}\n", scalar(scalar_value, false))),
    }
}

fn write_items(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(map) if !map.is_empty() => {
                for (i, (key, value)) in map.iter().enumerate() {
                    let lead = if i == 0 {
                        format!("{pad}- ")
                    } else {
                        " ".repeat(indent + 2)
                    };
                    write_entry(out, key, value, indent + 2, &lead);
                }
            }
            Value::Array(inner) if !inner.is_empty() => match flow_text(item) {
                Some(text) => out.push_str(&format!("{pad}- {text}\n")),
                None => {
                    out.push_str(&format!("{pad}-\n"));
                    write_items(out, inner, indent + 2);
                }
            },
            other => match flow_text(other) {
                Some(text) => out.push_str(&format!("{pad}- {text}\n")),
                None => out.push_str(&format!("{pad}- {}\n", scalar(other, false))),
            },
        }
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Object(_) | Value::Array(_))
}

/// The one-line form of a value, for values nested at most two levels deep.
fn flow_text(value: &Value) -> Option<String> {
    flow(value, 0)
}

fn flow(value: &Value, depth: usize) -> Option<String> {
    if depth > 2 {
        return None;
    }
    Some(match value {
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(|v| flow(v, depth + 1)).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Object(map) => {
            let parts: Option<Vec<String>> = map
                .iter()
                .map(|(k, v)| {
                    Some(format!(
                        "{}: {}",
                        scalar(&Value::String(k.clone()), true),
                        flow(v, depth + 1)?
                    ))
                })
                .collect();
            format!("{{{}}}", parts?.join(", "))
        }
        other => scalar(other, true),
    })
}

/// A scalar, quoted when plain text would read as something else (a number, a boolean, YAML
/// syntax). `in_flow`: inside `[...]` or `{...}`, where `,[]{}` also need quotes.
fn scalar(value: &Value, in_flow: bool) -> String {
    match value {
        Value::String(text) if needs_quotes(text, in_flow) => {
            serde_json::to_string(text).unwrap_or_default()
        }
        Value::String(text) => text.clone(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

fn needs_quotes(text: &str, in_flow: bool) -> bool {
    // YAML 1.1 readers (and people) take these for booleans.
    const BOOLEAN_LIKE: [&str; 8] = ["y", "n", "yes", "no", "on", "off", "true", "false"];
    let Some(first) = text.chars().next() else {
        return true;
    };
    scalar_type(text, false) != ScalarType::String
        || BOOLEAN_LIKE.contains(&text.to_ascii_lowercase().as_str())
        || text.trim() != text
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || text.chars().any(char::is_control)
        || looks_like_date(text)
        || (in_flow && text.contains([',', '[', ']', '{', '}']))
}

/// `2012-10-17` is a timestamp to YAML 1.1 readers; policy versions must stay strings.
fn looks_like_date(text: &str) -> bool {
    let mut parts = text.splitn(3, '-');
    let (Some(year), Some(month), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let day: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
    };
    digits(year, 4..=4) && digits(month, 1..=2) && digits(&day, 1..=2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_str;

    #[test]
    fn examples_round_trip() {
        for name in ["minimal", "production", "existing-vpc", "fargate-only"] {
            let path = format!("{}/examples/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let Some(spec) = parse_str(&path, &text).spec else {
                panic!("{path} does not validate");
            };
            let written = to_yaml(&spec);
            let again = parse_str("written", &written);
            assert_eq!(again.spec.as_ref(), Some(&spec), "{written}");
        }
    }

    #[test]
    fn minimal_example_is_written_as_a_person_would() {
        let path = format!("{}/examples/minimal.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Some(spec) = parse_str(&path, &text).spec else {
            panic!("{path} does not validate");
        };
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(to_yaml(&spec), body);
    }

    #[test]
    fn quotes_what_would_change_meaning() {
        let cases = [
            ("1.31", "\"1.31\""),
            ("4711", "\"4711\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("*", "\"*\""),
            ("2012-10-17", "\"2012-10-17\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("arn:aws:iam::aws:policy/X", "arn:aws:iam::aws:policy/X"),
            (
                "k8s.io/cluster-autoscaler/prod",
                "k8s.io/cluster-autoscaler/prod",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(scalar(&Value::String(text.to_owned()), false), expected);
        }
        assert_eq!(scalar(&Value::String("a,b".to_owned()), true), "\"a,b\"");
    }
}
