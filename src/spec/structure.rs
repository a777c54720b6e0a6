//! Structural checks of the YAML tree against the JSON Schema of the spec types.
//!
//! serde stops at the first problem; this walk reports every unknown field, wrong type and
//! unknown enum value in one run, each at its own position, with a "did you mean" hint. The
//! schema is generated from the same Rust types serde uses, so the two cannot disagree.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::diagnostic::Diagnostic;
use super::model::ClusterFile;
use super::source::{Node, NodeKind, ScalarType, scalar_type};
use super::{FieldPath, Segment, suggest};

/// The JSON Schema of a cluster spec file, as a JSON value.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(ClusterFile).to_value())
}

/// Every structural problem of `root`.
pub fn check(root: &Node) -> Vec<Diagnostic> {
    let schema = schema();
    let mut walk = Walk {
        defs: schema.get("$defs").and_then(Value::as_object),
        problems: Vec::new(),
        root: Some(root),
    };
    walk.node(root, schema, &FieldPath::root());
    walk.problems
}

struct Walk<'s> {
    defs: Option<&'s Map<String, Value>>,
    problems: Vec<Diagnostic>,
    /// The document, to point at a mapping's own key.
    root: Option<&'s Node>,
}

impl<'s> Walk<'s> {
    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        // `$ref`s only point into `$defs`; a bounded loop guards against cycles.
        for _ in 0..16 {
            let Some(name) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            else {
                break;
            };
            match self.defs.and_then(|defs| defs.get(name)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    fn node(&mut self, node: &Node, schema: &'s Value, path: &FieldPath) {
        let schema = self.resolve(schema);
        if matches!(node.kind, NodeKind::Alias) || !schema.is_object() {
            return;
        }
        if let Some(alternatives) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            self.alternatives(node, alternatives, path);
            return;
        }
        let types = type_names(schema);
        if !types.is_empty() && !types.iter().any(|t| matches_type(node, t)) {
            self.type_mismatch(node, &types, path);
            return;
        }
        if let Some(allowed) = enum_values(schema) {
            self.enum_value(node, &allowed, path);
            return;
        }
        match &node.kind {
            NodeKind::Mapping(entries) => self.mapping(node, entries, schema, path),
            NodeKind::Sequence(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.node(item, item_schema, &path.index(i));
                    }
                }
            }
            NodeKind::Scalar { text, .. } => self.range(node, text, schema, path),
            NodeKind::Alias => {}
        }
    }

    fn mapping(
        &mut self,
        node: &Node,
        entries: &[super::source::Entry],
        schema: &'s Value,
        path: &FieldPath,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let mut suggested = Vec::new();
        // `<<: *anchor` merges a mapping that serde resolves; its fields are not listed here.
        let merges = entries.iter().any(|entry| entry.key == "<<");
        for entry in entries.iter().filter(|entry| entry.key != "<<") {
            let field = path.key(&entry.key);
            if let Some(property) = properties.and_then(|p| p.get(&entry.key)) {
                self.node(&entry.value, property, &field);
            } else if let Some(extra) = additional.filter(|a| a.is_object()) {
                self.node(&entry.value, extra, &field);
            } else if properties.is_some() || additional == Some(&Value::Bool(false)) {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let mut message = format!("unknown field `{}`", entry.key);
                let mut diagnostic = Diagnostic::error(entry.key_position, "");
                if let Some((reason, instead)) = refused_by_eks(path, &entry.key) {
                    message.push_str(&format!(": {reason}"));
                    diagnostic = diagnostic.with_hint(instead);
                } else if let Some(best) = suggest(&entry.key, known.iter().copied()) {
                    message.push_str(&format!(", did you mean `{best}`?"));
                    suggested.push(best);
                } else if !known.is_empty() {
                    diagnostic = diagnostic.with_hint(format!(
                        "fields allowed in {}: {}",
                        describe_parent(path),
                        known.join(", ")
                    ));
                }
                diagnostic.message = message;
                self.problems.push(diagnostic.with_path(field));
            }
        }
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            // A misspelt field is reported once, as unknown, not again as missing.
            if !merges
                && !entries.iter().any(|entry| entry.key == required)
                && !suggested.contains(&required)
            {
                // `metadata:` missing `name` points at `metadata`; a list item at its first key.
                let position = match (self.root, path.last_key()) {
                    (Some(root), Some(_)) => root.locate_key(path),
                    _ => node.position,
                };
                self.problems.push(
                    Diagnostic::error(
                        position,
                        format!(
                            "missing required field `{required}` in {}",
                            describe_parent(path)
                        ),
                    )
                    .with_path(path.key(required)),
                );
            }
        }
    }

    fn alternatives(&mut self, node: &Node, alternatives: &'s [Value], path: &FieldPath) {
        let resolved: Vec<&'s Value> = alternatives.iter().map(|a| self.resolve(a)).collect();
        // A plain enum whose variants carry docs: every alternative is a constant.
        let constants: Option<Vec<String>> = resolved
            .iter()
            .map(|alt| enum_values(alt))
            .collect::<Option<Vec<_>>>()
            .map(|lists| lists.concat());
        if let Some(allowed) = constants {
            if !matches!(node.kind, NodeKind::Scalar { .. }) {
                self.type_mismatch(node, &["string".to_owned()], path);
            } else {
                self.enum_value(node, &allowed, path);
            }
            return;
        }
        let fitting: Vec<&'s Value> = resolved
            .iter()
            .copied()
            .filter(|alt| {
                let types = type_names(alt);
                types.is_empty() || types.iter().any(|t| matches_type(node, t))
            })
            .collect();
        match fitting.as_slice() {
            [] => {
                let types: Vec<String> = resolved.iter().flat_map(|alt| type_names(alt)).collect();
                self.type_mismatch(node, &types, path);
            }
            [only] => self.node(node, only, path),
            _ => {}
        }
    }

    fn type_mismatch(&mut self, node: &Node, types: &[String], path: &FieldPath) {
        let expected: Vec<&str> = types
            .iter()
            .filter(|t| *t != "null")
            .map(|t| match t.as_str() {
                "object" => "a mapping",
                "array" => "a list",
                "string" => "a string",
                "integer" => "a whole number",
                "number" => "a number",
                "boolean" => "true or false",
                _ => "a value",
            })
            .collect();
        let field = path
            .last_key()
            .map_or_else(|| path.to_string(), str::to_owned);
        let mut diagnostic = Diagnostic::error(
            node.position,
            format!(
                "`{field}` must be {}, found {}",
                expected.join(" or "),
                node.type_name()
            ),
        )
        .with_path(path.clone());
        if let NodeKind::Scalar {
            text,
            quoted: false,
        } = &node.kind
            && types.iter().any(|t| t == "string")
        {
            diagnostic = diagnostic.with_hint(format!(
                "quote the value so YAML keeps it as text: {field}: \"{text}\""
            ));
        } else if matches!(node.kind, NodeKind::Scalar { ref text, .. } if text.is_empty()) {
            diagnostic = diagnostic.with_hint("give the field a value, or remove it");
        }
        self.problems.push(diagnostic);
    }

    fn enum_value(&mut self, node: &Node, allowed: &[String], path: &FieldPath) {
        let NodeKind::Scalar { text, .. } = &node.kind else {
            return;
        };
        if allowed.iter().any(|a| a == text) {
            return;
        }
        let field = path
            .last_key()
            .map_or_else(|| path.to_string(), str::to_owned);
        let mut message = format!("unknown value `{text}` for `{field}`");
        if let Some(best) = suggest(text, allowed.iter().map(String::as_str)) {
            message.push_str(&format!(", did you mean `{best}`?"));
        }
        self.problems.push(
            Diagnostic::error(node.position, message)
                .with_path(path.clone())
                .with_hint(format!("expected one of: {}", allowed.join(", "))),
        );
    }

    fn range(&mut self, node: &Node, text: &str, schema: &Value, path: &FieldPath) {
        if scalar_type(text, false) != ScalarType::Integer {
            return;
        }
        let Ok(value) = text.parse::<i128>() else {
            return;
        };
        let field = path.last_key().unwrap_or("value");
        let minimum = schema.get("minimum").and_then(Value::as_i64);
        let maximum = schema.get("maximum").and_then(Value::as_u64);
        if let Some(min) = minimum.filter(|min| value < i128::from(*min)) {
            self.problems.push(
                Diagnostic::error(node.position, format!("`{field}` must be at least {min}"))
                    .with_path(path.clone()),
            );
        } else if let Some(max) = maximum.filter(|max| value > i128::from(*max)) {
            self.problems.push(
                Diagnostic::error(node.position, format!("`{field}` must be at most {max}"))
                    .with_path(path.clone()),
            );
        }
    }
}

/// Launch template settings a user may look for on a node group that EKS refuses in a managed
/// node group's launch template: why, and what to write instead. Source: the refusal EKS
/// answers CreateNodegroup with, "InvalidParameterException: Instance market options are not
/// supported with the launch template." (hashicorp/terraform-provider-aws#15118, #18025;
/// aws/aws-cdk#24730).
fn refused_by_eks(parent: &FieldPath, key: &str) -> Option<(&'static str, &'static str)> {
    let segments: Vec<Segment> = parent.segments().collect();
    let in_node_group = matches!(
        segments.as_slice(),
        [Segment::Key(spec), Segment::Key(groups), Segment::Index(_)]
            if spec == "spec" && groups == "nodeGroups"
    );
    let market = [
        "instanceMarketOptions",
        "spotOptions",
        "spotMaxPrice",
        "maxPrice",
        "marketType",
    ];
    (in_node_group && market.contains(&key)).then_some((
        "EKS refuses instance market options (spot options, a maximum price) in a managed node group's launch template (\"Instance market options are not supported with the launch template.\"); only a Capacity Block's market type is taken, and ekspec writes it",
        "write `capacityType: spot` and list several instance types: EKS requests the spot capacity itself and drains nodes before an interruption; for a Capacity Block for ML write `capacityType: capacityBlock` with `capacityReservation.id` and `availabilityZones`",
    ))
}

fn describe_parent(path: &FieldPath) -> String {
    if path.segments().next().is_none() {
        "the document".to_owned()
    } else {
        format!("`{path}`")
    }
}

fn type_names(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn enum_values(schema: &Value) -> Option<Vec<String>> {
    if let Some(constant) = schema.get("const").and_then(Value::as_str) {
        return Some(vec![constant.to_owned()]);
    }
    schema.get("enum").and_then(Value::as_array).map(|values| {
        values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

fn matches_type(node: &Node, json_type: &str) -> bool {
    match &node.kind {
        NodeKind::Alias => true,
        NodeKind::Mapping(_) => json_type == "object",
        NodeKind::Sequence(_) => json_type == "array",
        NodeKind::Scalar { text, quoted } => matches!(
            (scalar_type(text, *quoted), json_type),
            (ScalarType::String, "string")
                | (ScalarType::Integer, "integer" | "number")
                | (ScalarType::Float, "number")
                | (ScalarType::Bool, "boolean")
                | (ScalarType::Null, "null")
        ),
    }
}

/// The tree as a JSON value without the nodes at `bad` paths, so that the rest of a file with
/// structural errors can still be deserialized and checked for meaning.
pub fn repaired_value(node: &Node, bad: &[FieldPath], path: &FieldPath) -> Option<Value> {
    if bad.contains(path) {
        return None;
    }
    Some(match &node.kind {
        NodeKind::Mapping(entries) => Value::Object(
            entries
                .iter()
                .filter_map(|entry| {
                    repaired_value(&entry.value, bad, &path.key(&entry.key))
                        .map(|value| (entry.key.clone(), value))
                })
                .collect(),
        ),
        NodeKind::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| repaired_value(item, bad, &path.index(i)))
                .collect(),
        ),
        NodeKind::Alias => return None,
        NodeKind::Scalar { text, quoted } => match scalar_type(text, *quoted) {
            ScalarType::Null => Value::Null,
            ScalarType::Bool => Value::Bool(text.eq_ignore_ascii_case("true")),
            ScalarType::Integer => text
                .parse::<i64>()
                .map_or_else(|_| Value::String(text.clone()), Value::from),
            ScalarType::Float => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(text.clone()), Value::Number),
            ScalarType::String => Value::String(text.clone()),
        },
    })
}

/// Fills required fields missing from `value` with empty placeholders, so that the rest of the
/// document deserializes; returns their paths so nothing is reported about them.
pub fn fill_required(value: &mut Value) -> Vec<FieldPath> {
    let schema = schema();
    let walk = Walk {
        defs: schema.get("$defs").and_then(Value::as_object),
        problems: Vec::new(),
        root: None,
    };
    let mut filled = Vec::new();
    walk.fill(value, schema, &FieldPath::root(), &mut filled);
    filled
}

impl<'s> Walk<'s> {
    fn fill(
        &self,
        value: &mut Value,
        schema: &'s Value,
        path: &FieldPath,
        filled: &mut Vec<FieldPath>,
    ) {
        let schema = self.resolve(schema);
        if let Some(alternatives) = schema.get("anyOf").and_then(Value::as_array) {
            let objects: Vec<&Value> = alternatives
                .iter()
                .map(|a| self.resolve(a))
                .filter(|a| type_names(a).iter().any(|t| t == "object"))
                .collect();
            if let ([only], Value::Object(_)) = (objects.as_slice(), &*value) {
                self.fill(value, only, path, filled);
            }
            return;
        }
        match value {
            Value::Object(map) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                for required in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !map.contains_key(required) {
                        let property = properties
                            .and_then(|p| p.get(required))
                            .map(|p| self.resolve(p));
                        let placeholder = match property.map(type_names).as_deref() {
                            Some([t, ..]) if t == "array" => Value::Array(Vec::new()),
                            Some([t, ..]) if t == "object" => Value::Object(Map::new()),
                            Some([t, ..]) if t == "integer" || t == "number" => Value::from(0),
                            Some([t, ..]) if t == "boolean" => Value::Bool(false),
                            _ => Value::String(String::new()),
                        };
                        map.insert(required.to_owned(), placeholder);
                        filled.push(path.key(required));
                    }
                }
                if let Some(properties) = properties {
                    for (key, child) in map.iter_mut() {
                        if let Some(property) = properties.get(key) {
                            self.fill(child, property, &path.key(key), filled);
                        }
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter_mut().enumerate() {
                        self.fill(item, item_schema, &path.index(i), filled);
                    }
                }
            }
            _ => {}
        }
    }
}
