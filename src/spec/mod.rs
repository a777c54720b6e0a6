//! The cluster spec: its typed model, how a file becomes one, and what is checked.
//!
//! `parse_str` is the whole pipeline: YAML tree with positions -> structural checks against
//! the schema -> serde into [`ClusterFile`] -> semantic validation. It never panics and
//! reports every problem it can find in one run.

pub mod diagnostic;
pub mod emit;
pub mod model;
mod path;
pub mod render;
pub mod source;
pub mod structure;
pub mod validate;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
pub use path::{FieldPath, Segment};
pub use source::Position;

/// Spec files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// The outcome of reading one spec file: the spec if it is usable, and every problem found.
#[derive(Debug, Clone)]
pub struct SpecReport {
    /// The file name used in messages.
    pub file_name: String,
    /// The file's text.
    pub source: String,
    /// The spec, when it has no errors (warnings allowed).
    pub spec: Option<ClusterFile>,
    /// Problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl SpecReport {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Number of problems of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

/// Parses and validates a spec held in memory.
pub fn parse_str(file_name: &str, source: &str) -> SpecReport {
    let mut report = SpecReport {
        file_name: file_name.to_owned(),
        source: source.to_owned(),
        spec: None,
        diagnostics: Vec::new(),
    };
    let start = Position { line: 1, column: 1 };
    if source.len() > MAX_FILE_BYTES {
        report.diagnostics.push(Diagnostic::error(
            start,
            format!(
                "the file is {} bytes; spec files are limited to {MAX_FILE_BYTES}",
                source.len()
            ),
        ));
        return report;
    }
    let tree = match source::parse_tree(source) {
        Ok(Some(tree)) => tree,
        Ok(None) => {
            report.diagnostics.push(
                Diagnostic::error(start, "the file is empty")
                    .with_hint("run `ekspec init` to write a starter spec"),
            );
            return report;
        }
        Err(error) => {
            report
                .diagnostics
                .push(Diagnostic::error(error.position, error.message));
            return report;
        }
    };
    if !matches!(tree.kind, source::NodeKind::Mapping(_)) {
        report.diagnostics.push(
            Diagnostic::error(
                tree.position,
                format!("a spec must be a mapping, found {}", tree.type_name()),
            )
            .with_hint("a spec starts with `apiVersion: ekspec/v1alpha1` and `kind: Cluster`"),
        );
        return report;
    }
    report.diagnostics = structure::check(&tree);
    if report.has_errors() {
        check_rest(&tree, &mut report.diagnostics);
        sort(&mut report.diagnostics);
        return report;
    }
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    match serde_saphyr::from_str_with_options::<ClusterFile>(source, options) {
        Ok(file) => {
            report.diagnostics = validate::validate(&file, &tree);
            sort(&mut report.diagnostics);
            if !report.has_errors() {
                report.spec = Some(file);
            }
        }
        Err(error) => {
            let position = error.location().map_or(start, |location| Position {
                line: location.line() as usize,
                column: location.column() as usize,
            });
            report
                .diagnostics
                .push(Diagnostic::error(position, serde_message(&error)));
        }
    }
    report
}

/// After structural errors, checks the meaning of whatever else deserializes, skipping fields
/// already reported.
fn check_rest(tree: &source::Node, diagnostics: &mut Vec<Diagnostic>) {
    let bad: Vec<FieldPath> = diagnostics.iter().filter_map(|d| d.path.clone()).collect();
    let Some(mut value) = structure::repaired_value(tree, &bad, &FieldPath::root()) else {
        return;
    };
    let mut bad = bad;
    bad.extend(structure::fill_required(&mut value));
    let Ok(file) = serde_json::from_value::<ClusterFile>(value) else {
        return;
    };
    let reported: Vec<String> = bad.iter().map(ToString::to_string).collect();
    for diagnostic in validate::validate(&file, tree) {
        let path = diagnostic.path.as_ref().map(ToString::to_string);
        let already = path.as_ref().is_some_and(|p| {
            reported.iter().any(|r| {
                p == r || p.starts_with(&format!("{r}.")) || p.starts_with(&format!("{r}["))
            })
        });
        if !already {
            diagnostics.push(diagnostic);
        }
    }
}

fn serde_message(error: &serde_saphyr::Error) -> String {
    let text = error.without_snippet().to_string();
    // serde-saphyr appends the location, which our own header already shows.
    let text = text.split(" at line ").next().unwrap_or(&text);
    text.lines().next().unwrap_or(text).trim().to_owned()
}

fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| d.position);
}

/// Why a spec could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error("{path}: the file is not valid UTF-8 text")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A folder held no spec files.
    #[error("{path}: no *.yaml or *.yml files in this folder")]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },
}

/// Reads and checks a spec file.
pub fn load(path: &Path) -> Result<SpecReport, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 {
        path: path.to_owned(),
    })?;
    Ok(parse_str(&path.display().to_string(), &text))
}

/// Expands files and folders (every `*.yaml` / `*.yml` directly inside) into spec files, sorted.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|source| LoadError::Read {
                path: path.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|ext| ext == "yaml" || ext == "yml")
                })
                .collect();
            if found.is_empty() {
                return Err(LoadError::EmptyFolder { path: path.clone() });
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&lowered, &candidate.to_ascii_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, candidate)| {
            let longest = input.chars().count().max(candidate.chars().count());
            *distance <= (longest / 3).max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["instanceTypes", "minSize", "maxSize"];
        assert_eq!(suggest("instanceType", fields), Some("instanceTypes"));
        assert_eq!(suggest("minsize", fields), Some("minSize"));
        assert_eq!(suggest("color", fields), None);
    }
}
