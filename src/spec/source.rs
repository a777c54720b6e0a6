//! A YAML document as a tree of nodes that remember where they came from.
//!
//! serde gives us typed values; this tree gives every field its line and column, so that
//! structural and semantic problems point at the exact spot in the user's file.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError};

use super::FieldPath;

/// Nesting deeper than this is refused: no real spec comes close, hostile input does.
pub const MAX_DEPTH: usize = 64;
/// Nodes beyond this are refused, whatever the file size.
pub const MAX_NODES: usize = 1_000_000;

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub column: usize,
}

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it starts.
    pub position: Position,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `key: value` pairs, in file order.
    Mapping(Vec<Entry>),
    /// A list.
    Sequence(Vec<Node>),
    /// A scalar and whether it was quoted (quoted scalars are always strings).
    Scalar { text: String, quoted: bool },
    /// `*alias`: resolved by serde, not followed here.
    Alias,
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key's text.
    pub key: String,
    /// Where the key starts.
    pub key_position: Position,
    /// The value.
    pub value: Node,
}

/// A syntax problem found while reading the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where it is.
    pub position: Position,
    /// What is wrong.
    pub message: String,
}

impl Node {
    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries.iter().find(|entry| entry.key == key),
            _ => None,
        }
    }

    /// A short name of the node's YAML type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Mapping(_) => "a mapping",
            NodeKind::Sequence(_) => "a list",
            NodeKind::Alias => "an alias",
            NodeKind::Scalar { text, quoted } => match scalar_type(text, *quoted) {
                ScalarType::Null => "null",
                ScalarType::Bool => "a boolean",
                ScalarType::Integer => "an integer",
                ScalarType::Float => "a number",
                ScalarType::String => "a string",
            },
        }
    }

    /// The position of the node at `path`, or of its nearest ancestor present in the file,
    /// plus whether the exact node was found.
    pub fn locate(&self, path: &FieldPath) -> (Position, bool) {
        let mut node = self;
        let mut position = self.position;
        for segment in path.segments() {
            let next = match (&node.kind, segment) {
                (NodeKind::Mapping(entries), super::Segment::Key(key)) => entries
                    .iter()
                    .find(|entry| entry.key == key)
                    .map(|entry| &entry.value),
                (NodeKind::Sequence(items), super::Segment::Index(index)) => items.get(index),
                _ => None,
            };
            match next {
                Some(child) => {
                    node = child;
                    position = child.position;
                }
                None => return (position, false),
            }
        }
        (position, true)
    }

    /// The path of the deepest node that starts at `position`, as a key or as a value (the
    /// inverse of [`Node::locate`], for diagnostics that carry only a position).
    pub fn path_at(&self, position: Position) -> Option<FieldPath> {
        let children: Vec<(FieldPath, &Node, Option<Position>)> = match &self.kind {
            NodeKind::Mapping(entries) => entries
                .iter()
                .map(|e| {
                    (
                        FieldPath::root().key(e.key.clone()),
                        &e.value,
                        Some(e.key_position),
                    )
                })
                .collect(),
            NodeKind::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (FieldPath::root().index(i), item, None))
                .collect(),
            NodeKind::Scalar { .. } | NodeKind::Alias => Vec::new(),
        };
        for (step, child, key_position) in children {
            if let Some(rest) = child.path_at(position) {
                return Some(step.join(&rest));
            }
            if key_position == Some(position) || child.position == position {
                return Some(step);
            }
        }
        (self.position == position).then(FieldPath::root)
    }

    /// The position of the key of the entry at `path` (falls back like [`Node::locate`]).
    pub fn locate_key(&self, path: &FieldPath) -> Position {
        let Some((parent, Some(super::Segment::Key(key)))) = path.split_last() else {
            return self.locate(path).0;
        };
        let (parent_position, found) = self.locate(&parent);
        if !found {
            return parent_position;
        }
        let mut node = self;
        for segment in parent.segments() {
            node = match (&node.kind, segment) {
                (NodeKind::Mapping(entries), super::Segment::Key(k)) => {
                    match entries.iter().find(|e| e.key == k) {
                        Some(entry) => &entry.value,
                        None => return parent_position,
                    }
                }
                (NodeKind::Sequence(items), super::Segment::Index(i)) => match items.get(i) {
                    Some(item) => item,
                    None => return parent_position,
                },
                _ => return parent_position,
            };
        }
        node.get(&key)
            .map_or(parent_position, |entry| entry.key_position)
    }
}

/// The YAML 1.2 core-schema type of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// `null`, `~` or empty.
    Null,
    /// `true` / `false`.
    Bool,
    /// An integer.
    Integer,
    /// A floating-point number.
    Float,
    /// Anything else, and every quoted scalar.
    String,
}

/// Resolves a scalar the way serde-saphyr does (YAML 1.2 core schema).
pub fn scalar_type(text: &str, quoted: bool) -> ScalarType {
    if quoted {
        return ScalarType::String;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarType::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return ScalarType::Bool,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | ".nan" | ".NaN" | ".NAN" => {
            return ScalarType::Float;
        }
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let is_int = (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        || digits
            .strip_prefix("0x")
            .is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
        || digits
            .strip_prefix("0o")
            .is_some_and(|oct| !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c)));
    if is_int {
        return ScalarType::Integer;
    }
    if digits.parse::<f64>().is_ok()
        && digits
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
    {
        return ScalarType::Float;
    }
    ScalarType::String
}

/// Parses one YAML document into a tree. `Ok(None)` for an empty document.
pub fn parse_tree(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut builder = TreeBuilder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(scan_error)?;
        let position = Position {
            line: span.start.line(),
            column: span.start.col() + 1,
        };
        builder.push(event, position)?;
    }
    Ok(builder.root)
}

fn scan_error(error: ScanError) -> SyntaxError {
    SyntaxError {
        position: Position {
            line: error.marker().line(),
            column: error.marker().col() + 1,
        },
        message: format!("invalid YAML: {}", error.info()),
    }
}

/// A collection being filled while events arrive.
enum Open {
    Mapping {
        position: Position,
        entries: Vec<Entry>,
        pending_key: Option<(String, Position)>,
    },
    Sequence {
        position: Position,
        items: Vec<Node>,
    },
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Open>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
}

impl TreeBuilder {
    fn push(&mut self, event: Event<'_>, position: Position) -> Result<(), SyntaxError> {
        let error = |message: &str| SyntaxError {
            position,
            message: message.to_owned(),
        };
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error(
                        "a spec file holds one cluster: found a second YAML document (`---`); \
                         put each cluster in its own file",
                    ));
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(error(&format!(
                        "nesting deeper than {MAX_DEPTH} levels is not supported"
                    )));
                }
                if let Some(Open::Mapping {
                    pending_key: None, ..
                }) = self.stack.last()
                {
                    return Err(error("mapping keys must be plain strings"));
                }
                self.stack
                    .push(if matches!(event, Event::MappingStart(..)) {
                        Open::Mapping {
                            position,
                            entries: Vec::new(),
                            pending_key: None,
                        }
                    } else {
                        Open::Sequence {
                            position,
                            items: Vec::new(),
                        }
                    });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Mapping {
                        position, entries, ..
                    }) => Node {
                        kind: NodeKind::Mapping(entries),
                        position,
                    },
                    Some(Open::Sequence { position, items }) => Node {
                        kind: NodeKind::Sequence(items),
                        position,
                    },
                    None => return Err(error("unbalanced YAML collection")),
                };
                self.add(node)?;
            }
            Event::Scalar(text, style, ..) => {
                let quoted = !matches!(style, ScalarStyle::Plain);
                if let Some(Open::Mapping {
                    pending_key: pending @ None,
                    ..
                }) = self.stack.last_mut()
                {
                    *pending = Some((text.into_owned(), position));
                    return Ok(());
                }
                self.add(Node {
                    kind: NodeKind::Scalar {
                        text: text.into_owned(),
                        quoted,
                    },
                    position,
                })?;
            }
            Event::Alias(..) | Event::UnresolvedAlias(..) => {
                if let Some(Open::Mapping {
                    pending_key: None, ..
                }) = self.stack.last()
                {
                    return Err(error("mapping keys must be plain strings"));
                }
                self.add(Node {
                    kind: NodeKind::Alias,
                    position,
                })?;
            }
            _ => {}
        }
        Ok(())
    }

    fn add(&mut self, node: Node) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(SyntaxError {
                position: node.position,
                message: format!("the document has more than {MAX_NODES} nodes"),
            });
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Sequence { items, .. }) => items.push(node),
            Some(Open::Mapping {
                entries,
                pending_key,
                ..
            }) => {
                let Some((key, key_position)) = pending_key.take() else {
                    return Err(SyntaxError {
                        position: node.position,
                        message: "mapping keys must be plain strings".to_owned(),
                    });
                };
                if let Some(first) = entries.iter().find(|entry| entry.key == key) {
                    return Err(SyntaxError {
                        position: key_position,
                        message: format!(
                            "duplicate key `{key}` (first set on line {})",
                            first.key_position.line
                        ),
                    });
                }
                entries.push(Entry {
                    key,
                    key_position,
                    value: node,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_at_inverts_locate() {
        let tree = parse_tree("a:\n  b: [x, {c: 1}]\n  d: y\n")
            .unwrap()
            .unwrap();
        let c = FieldPath::root().key("a").key("b").index(1).key("c");
        assert_eq!(tree.path_at(tree.locate(&c).0), Some(c.clone()));
        assert_eq!(tree.path_at(tree.locate_key(&c)), Some(c));
        let d = FieldPath::root().key("a").key("d");
        assert_eq!(tree.path_at(tree.locate_key(&d)), Some(d));
        assert_eq!(tree.path_at(Position { line: 9, column: 1 }), None);
    }

    #[test]
    fn positions_are_one_based() {
        let tree = parse_tree("a:\n  b: [1, x]\n").unwrap().unwrap();
        let path = FieldPath::root().key("a").key("b").index(1);
        assert_eq!(
            tree.locate(&path),
            (
                Position {
                    line: 2,
                    column: 10
                },
                true
            )
        );
        assert_eq!(
            tree.locate_key(&FieldPath::root().key("a").key("b")),
            Position { line: 2, column: 3 }
        );
    }

    #[test]
    fn missing_leaf_falls_back_to_parent() {
        let tree = parse_tree("a:\n  b: 1\n").unwrap().unwrap();
        let (position, found) = tree.locate(&FieldPath::root().key("a").key("zzz"));
        assert!(!found);
        assert_eq!(position, Position { line: 2, column: 3 });
    }

    #[test]
    fn duplicate_keys_and_deep_nesting_are_refused() {
        let err = parse_tree("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.position, Position { line: 3, column: 1 });
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_tree(&deep).unwrap_err().message.contains("nesting"));
        // Far deeper input stops in the parser itself, still without recursion on our side.
        let deeper = "[".repeat(100_000);
        assert!(parse_tree(&deeper).is_err());
    }

    #[test]
    fn scalar_types() {
        assert_eq!(scalar_type("1.30", false), ScalarType::Float);
        assert_eq!(scalar_type("1.30", true), ScalarType::String);
        assert_eq!(scalar_type("12", false), ScalarType::Integer);
        assert_eq!(scalar_type("true", false), ScalarType::Bool);
        assert_eq!(scalar_type("m6i.large", false), ScalarType::String);
        assert_eq!(scalar_type("~", false), ScalarType::Null);
    }
}
