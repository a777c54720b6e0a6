//! The first YAML document of a kubeconfig as a tree whose nodes know the bytes they came
//! from, so an edit can replace exactly the bytes it means to and leave every other byte (and
//! so every other value, comment and anchor) as it was written.

use std::collections::BTreeSet;

use granit_parser::{Event, Marker, Options, Parser, ScalarStyle, StructureStyle};

/// A node of the document.
#[derive(Debug)]
pub struct Node {
    /// Where the node starts, its anchor or tag included.
    pub start: usize,
    /// Where its content starts (a block sequence: its first `-`; a block mapping: its first
    /// key; a block scalar: its `|` or `>` indicator).
    pub content: usize,
    /// Where its content ends (a block scalar's trailing line breaks excluded).
    pub end: usize,
    /// The anchor defined on it, if any: (id, name).
    pub anchor: Option<(usize, String)>,
    /// A flow collection (`[...]`, `{...}`), or a node inside one.
    pub flow: bool,
    /// What it is.
    pub kind: Kind,
}

/// What a node is.
#[derive(Debug)]
pub enum Kind {
    /// A scalar: its value after escapes and folding, its style, whether it has a tag.
    Scalar {
        /// The value.
        value: String,
        /// Plain, quoted or block.
        style: ScalarStyle,
        /// An explicit tag (`!!str`, `!foo`) changes how it reads.
        tagged: bool,
    },
    /// `*name`: the anchor id it refers to.
    Alias,
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, as its pairs in order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.pair(key).map(|(_, value)| value)
    }

    /// The pair of `key` in a mapping.
    pub fn pair(&self, key: &str) -> Option<&(Node, Node)> {
        self.pairs().iter().find(|(k, _)| k.scalar() == Some(key))
    }

    /// A mapping's pairs (none for anything else).
    pub fn pairs(&self) -> &[(Node, Node)] {
        match &self.kind {
            Kind::Map(pairs) => pairs,
            _ => &[],
        }
    }

    /// A sequence's items (none for anything else).
    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    /// A scalar's value, whatever its style.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The scalar's value when every YAML reader, YAML 1.1 ones like kubectl's included, reads
    /// it as that string: quoted or block, or plain and unambiguous.
    pub fn string(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar {
                value,
                style,
                tagged: false,
            } if *style != ScalarStyle::Plain || super::scalar::plain_is_safe(value) => Some(value),
            _ => None,
        }
    }

    /// `key:` with nothing after it (YAML reads null), or an explicit null.
    pub fn is_null(&self) -> bool {
        match &self.kind {
            Kind::Scalar {
                value,
                style: ScalarStyle::Plain,
                tagged: false,
            } => self.start == self.end || ["~", "null", "Null", "NULL"].contains(&value.as_str()),
            _ => false,
        }
    }

    /// The anchors defined in the node and below it.
    pub fn anchors(&self) -> Vec<&(usize, String)> {
        let mut found: Vec<&(usize, String)> = self.anchor.iter().collect();
        match &self.kind {
            Kind::Seq(items) => items.iter().for_each(|i| found.extend(i.anchors())),
            Kind::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                found.extend(k.anchors());
                found.extend(v.anchors());
            }),
            Kind::Scalar { .. } | Kind::Alias => {}
        }
        found
    }
}

/// The first document of a YAML stream.
#[derive(Debug)]
pub struct Document {
    /// Its root node; none for an empty document or a stream of comments.
    pub root: Option<Node>,
    /// Anchor ids that an alias in the document refers to.
    pub aliased: BTreeSet<usize>,
    /// Whether another document follows the first.
    pub more_documents: bool,
}

/// A YAML syntax error: the message and the 1-based line and column.
#[derive(Debug)]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

/// A collection being read.
struct Open {
    start: usize,
    content: usize,
    anchor: Option<(usize, String)>,
    flow: bool,
    inside_flow: bool,
    map: bool,
    children: Vec<Node>,
}

impl Document {
    /// Reads the first document of `text` (kubectl reads only the first).
    pub fn parse(text: &str) -> Result<Self, SyntaxError> {
        let mut options = Options::default();
        options.emit_anchor_events = true;
        let mut parser = Parser::new_from_str_with_options(text, options);
        let byte = |m: Marker| {
            m.byte_offset()
                .unwrap_or_else(|| char_to_byte(text, m.index()))
        };
        let mut stack: Vec<Open> = Vec::new();
        let mut root: Option<Node> = None;
        let mut aliased = BTreeSet::new();
        // Where the last event ended: a block scalar's indicator comes after it.
        let mut last_end = 0;
        let mut documents = 0;
        // The last event opened a collection (an anchor event then belongs to it).
        let mut opened = false;
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|error| SyntaxError {
                message: error.info(),
                line: error.marker().line(),
                column: error.marker().col() + 1,
            })?;
            let inside_flow = stack
                .last()
                .is_some_and(|open| open.flow || open.inside_flow);
            let start = span.tag_start.map_or(byte(span.start), byte);
            let node = match event {
                Event::DocumentStart(..) => {
                    documents += 1;
                    if documents > 1 {
                        return Ok(Self {
                            root: root.filter(|r| r.start < r.end),
                            aliased,
                            more_documents: true,
                        });
                    }
                    None
                }
                Event::StreamEnd => break,
                Event::Anchor(id, name) => {
                    let anchor = Some((id, name.into_owned()));
                    let at = byte(span.start);
                    let target = if opened {
                        stack
                            .last_mut()
                            .map(|open| (&mut open.start, &mut open.anchor))
                    } else {
                        match stack.last_mut() {
                            Some(open) => open.children.last_mut(),
                            None => root.as_mut(),
                        }
                        .map(|node| (&mut node.start, &mut node.anchor))
                    };
                    if let Some((start, slot)) = target {
                        *start = (*start).min(at);
                        *slot = anchor;
                    }
                    continue;
                }
                Event::Scalar(value, style, _, tag) => {
                    let mut content = byte(span.start);
                    let mut end = byte(span.end);
                    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                        // The span covers the lines of text; the node starts at `|` or `>`
                        // and ends with its last line, not with the line breaks after it.
                        let from = last_end.max(start.min(content));
                        if let Some(at) = text[from..content].find(['|', '>']) {
                            content = from + at;
                        }
                        end = content.max(text[..end].trim_end().len());
                    }
                    Some(Node {
                        start: start.min(content),
                        content,
                        end,
                        anchor: None,
                        flow: inside_flow,
                        kind: Kind::Scalar {
                            value: value.into_owned(),
                            style,
                            tagged: tag.is_some(),
                        },
                    })
                }
                Event::Alias(id) => {
                    aliased.insert(id);
                    Some(Node {
                        start: byte(span.start),
                        content: byte(span.start),
                        end: byte(span.end),
                        anchor: None,
                        flow: inside_flow,
                        kind: Kind::Alias,
                    })
                }
                Event::SequenceStart(style, ..) | Event::MappingStart(style, ..) => {
                    let content = byte(span.start);
                    stack.push(Open {
                        start: start.min(content),
                        content,
                        anchor: None,
                        flow: style == StructureStyle::Flow,
                        inside_flow,
                        map: matches!(event, Event::MappingStart(..)),
                        children: Vec::new(),
                    });
                    opened = true;
                    last_end = byte(span.end);
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(open) = stack.pop() else { continue };
                    let end = if open.flow {
                        byte(span.end)
                    } else {
                        open.children.last().map_or(open.content, |c| c.end)
                    };
                    let kind = if open.map {
                        let mut pairs = Vec::new();
                        let mut children = open.children.into_iter();
                        while let (Some(key), Some(value)) = (children.next(), children.next()) {
                            pairs.push((key, value));
                        }
                        Kind::Map(pairs)
                    } else {
                        Kind::Seq(open.children)
                    };
                    Some(Node {
                        start: open.start,
                        content: open.content,
                        end,
                        anchor: open.anchor,
                        flow: open.flow || open.inside_flow,
                        kind,
                    })
                }
                _ => None,
            };
            opened = false;
            last_end = last_end.max(byte(span.end));
            if let Some(node) = node {
                match stack.last_mut() {
                    Some(open) => open.children.push(node),
                    None => root = Some(node),
                }
            }
        }
        // An empty document reads as a null of no width.
        Ok(Self {
            root: root.filter(|r| r.start < r.end),
            aliased,
            more_documents: false,
        })
    }
}

/// The byte offset of the `index`th character.
fn char_to_byte(text: &str, index: usize) -> usize {
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(at, _)| at)
}

/// The column (in characters) of the byte offset `at`.
pub fn column(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].chars().count()
}

/// The end of the line that `at` is on (before its line break), when only blanks and a
/// comment follow `at` there; else `at`.
pub fn line_end(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let line = &rest[..rest.find(['\r', '\n']).unwrap_or(rest.len())];
    let trimmed = line.trim_start_matches([' ', '\t']);
    if trimmed.is_empty() || trimmed.starts_with('#') {
        at + line.len()
    } else {
        at
    }
}
