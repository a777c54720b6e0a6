//! Paths to fields of a spec, written the way users read them: `spec.nodeGroups[0].minSize`.

use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// The path of a field inside a spec file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The document root.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path followed by a mapping key.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.into()));
        Self(segments)
    }

    /// This path followed by a list index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Self(segments)
    }

    /// This path followed by every step of `rest`.
    pub fn join(&self, rest: &FieldPath) -> Self {
        let mut segments = self.0.clone();
        segments.extend(rest.0.iter().cloned());
        Self(segments)
    }

    /// The steps of the path.
    pub fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        self.0.iter().cloned()
    }

    /// The parent path and the last step (`None` for the root).
    pub fn split_last(&self) -> Option<(FieldPath, Option<Segment>)> {
        let (last, parent) = self.0.split_last()?;
        Some((Self(parent.to_vec()), Some(last.clone())))
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// How many steps the path has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether this is the document root.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The last mapping key of the path, if it ends in one.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(key)) => Some(key),
            _ => None,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) if is_identifier(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_user_writes_it() {
        let path = FieldPath::root()
            .key("spec")
            .key("nodeGroups")
            .index(0)
            .key("labels")
            .key("node.kubernetes.io/role");
        assert_eq!(
            path.to_string(),
            r#"spec.nodeGroups[0].labels["node.kubernetes.io/role"]"#
        );
    }
}
