//! Converting other tools' cluster configs into ekspec specs.
//!
//! A conversion never drops anything silently: every input field it cannot carry over, and
//! every default it had to assume, becomes a [`Finding`] naming the field's path.

pub mod eksctl;

use std::fmt::Write as _;

use crate::spec::{FieldPath, Position};

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
}

impl Conversion {
    /// Number of findings of a kind.
    pub fn count(&self, kind: FindingKind) -> usize {
        self.findings.iter().filter(|f| f.kind == kind).count()
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
