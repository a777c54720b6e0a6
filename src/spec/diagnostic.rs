//! Problems found in a spec file, with where they are and how to fix them.

use serde::Serialize;

use super::FieldPath;
use super::source::Position;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; fails only under `--strict`.
    Warning,
    /// The spec cannot be used.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One problem in a spec file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Line and column of the offending text.
    #[serde(flatten)]
    pub position: Position,
    /// The field it concerns, when there is one.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "path_string"
    )]
    pub path: Option<FieldPath>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we can tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

fn path_string<S: serde::Serializer>(path: &Option<FieldPath>, s: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => s.serialize_str(&path.to_string()),
        None => s.serialize_none(),
    }
}

impl Diagnostic {
    /// An error at a position.
    pub fn error(position: Position, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            position,
            path: None,
            message: message.into(),
            hint: None,
        }
    }

    /// Names the field the problem is about.
    pub fn with_path(mut self, path: FieldPath) -> Self {
        self.path = Some(path);
        self
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl Serialize for Position {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = s.serialize_struct("Position", 2)?;
        state.serialize_field("line", &self.line)?;
        state.serialize_field("column", &self.column)?;
        state.end()
    }
}
