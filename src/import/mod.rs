//! Converting other tools' cluster configs into ekspec specs.
//!
//! A conversion never drops anything silently: every input field it cannot carry over, and
//! every default it had to assume, becomes a [`Finding`] naming the field's path.

pub mod eksctl;

use std::fmt::Write as _;

use crate::spec::{Diagnostic, FieldPath, Position};

/// What a finding says about a field of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingKind {
    /// The field (and what it does) is not in the output.
    NotCarriedOver,
    /// The output relies on a default or a judgement; nothing is lost, but worth a look.
    Assumed,
}

impl FindingKind {
    /// How the report labels it.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotCarriedOver => "not carried over",
            Self::Assumed => "assumed",
        }
    }
}

/// One field of the input that did not convert one-to-one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Lost, or assumed.
    pub kind: FindingKind,
    /// The field in the input file.
    pub path: FieldPath,
    /// Where the field (or its nearest present parent) is in the input file.
    pub position: Position,
    /// What happened and what to do about it.
    pub message: String,
}

/// The result of a conversion: the spec as YAML, and what did not convert one-to-one.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The ekspec spec, ready to write (with a header comment).
    pub spec_yaml: String,
    /// The cluster's name (for messages).
    pub cluster: String,
    /// Findings in file order.
    pub findings: Vec<Finding>,
    /// Where fields of the spec came from in the input, most specific last per prefix.
    pub origins: Vec<Origin>,
}

/// A field of the imported spec and the input field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The spec field (`spec.nodeGroups[2]`).
    pub spec: FieldPath,
    /// The input field (`managedNodeGroups[0]`).
    pub input: FieldPath,
    /// Where the input field (or its nearest present parent) is in the input file.
    pub position: Position,
    /// Whether the input field is in the file (false: the importer wrote a default for it).
    pub present: bool,
}

impl Conversion {
    /// Number of findings of a kind.
    pub fn count(&self, kind: FindingKind) -> usize {
        self.findings.iter().filter(|f| f.kind == kind).count()
    }

    /// The input field `path` of the spec came from: the origin whose spec field is the
    /// longest prefix of `path` (the first recorded among equals).
    pub fn origin_of(&self, path: &FieldPath) -> Option<&Origin> {
        let mut best: Option<&Origin> = None;
        for origin in &self.origins {
            if path.starts_with(&origin.spec)
                && best.is_none_or(|b| origin.spec.len() > b.spec.len())
            {
                best = Some(origin);
            }
        }
        best
    }

    /// A diagnostic about the spec field `path` of the imported spec, moved to the input field
    /// it came from and saying which spec field it concerns.
    pub fn at_origin(&self, diagnostic: &Diagnostic, path: Option<&FieldPath>) -> Diagnostic {
        let mut moved = diagnostic.clone();
        let origin = path.and_then(|path| self.origin_of(path));
        let concerns = path.map_or_else(|| "the imported spec".to_owned(), ToString::to_string);
        moved.message = match origin {
            Some(origin) if origin.input.is_empty() => {
                format!(
                    "{concerns} (written by the importer): {}",
                    diagnostic.message
                )
            }
            Some(origin) if !origin.present => format!(
                "{concerns} (from {}, not set: the importer's default): {}",
                origin.input, diagnostic.message
            ),
            Some(origin) => format!("{concerns} (from {}): {}", origin.input, diagnostic.message),
            None => format!("{concerns}: {}", diagnostic.message),
        };
        moved.position = origin.map_or(Position { line: 1, column: 1 }, |o| o.position);
        moved.path = origin.map(|o| o.input.clone());
        moved
    }

    /// The report for people: one `FILE:LINE:COL: KIND: PATH: MESSAGE` line per finding,
    /// then a summary line.
    pub fn report(&self, file_name: &str) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            let _ = writeln!(
                out,
                "{file_name}:{}:{}: {}: {}: {}",
                finding.position.line,
                finding.position.column,
                finding.kind.label(),
                finding.path,
                finding.message
            );
        }
        let lost = self.count(FindingKind::NotCarriedOver);
        let assumed = self.count(FindingKind::Assumed);
        let _ = if lost + assumed == 0 {
            writeln!(
                out,
                "imported cluster `{}`: every field carried over",
                self.cluster
            )
        } else {
            writeln!(
                out,
                "imported cluster `{}`: {lost} field{} not carried over, {assumed} assumption{}; review them before `ekspec plan`",
                self.cluster,
                if lost == 1 { "" } else { "s" },
                if assumed == 1 { "" } else { "s" },
            )
        };
        out
    }
}
