//! Policy gates: Rego policies, written the way conftest reads them, judge a plan and its spec
//! before anything is changed (`plan --policy DIR`, `apply --policy DIR`).
//!
//! Conventions carried over from conftest, so policies teams already wrote keep working:
//! - every `*.rego` file under the given files and folders is loaded, except tests
//!   (`*_test.rego`);
//! - rules are looked up in one package, `main` unless `--namespace` names another;
//! - `deny`, `violation`, `warn` and the same names with a `_suffix` are the rules; each value
//!   is a message, or an object with `msg` (and, if it wants, `resource`, the logical id of
//!   the change it is about);
//! - Rego v1 syntax, with or without `import rego.v1`; policies still in v0 syntax (no `if`,
//!   no `contains`) are read as v0 when v1 refuses them.
//!
//! A `deny` or `violation` fails the gate; a `warn` is printed and passes. The input document
//! is described in docs/policy.md and versioned like the JSON plan.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use regorus::{Engine, Value as RegoValue};
use serde_json::{Value, json};

use crate::plan::{Plan, render};
use crate::spec::ClusterFile;

/// The version of the input document policies read (`input.formatVersion`).
pub const INPUT_FORMAT_VERSION: u32 = 1;

/// The package policies are read from unless told otherwise (conftest's default).
pub const DEFAULT_NAMESPACE: &str = "main";

/// One policy file, parsed.
#[derive(Debug)]
struct PolicyFile {
    path: PathBuf,
    source: String,
    /// `package` of the file, e.g. `main` or `lib.tags`.
    package: String,
    /// Read as Rego v0 (v1 refused it).
    v0: bool,
}

/// The policies of a gate, loaded and checked for syntax.
#[derive(Debug)]
pub struct PolicySet {
    files: Vec<PolicyFile>,
    namespace: String,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Printed; the gate passes.
    Warn,
    /// The gate fails.
    Deny,
}

/// One message a rule returned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// Deny (`deny*`, `violation*`) or warn (`warn*`).
    pub level: Level,
    /// The policy file the rule is in.
    pub file: PathBuf,
    /// The rule, e.g. `deny_public_endpoint`.
    pub rule: String,
    /// The change it names (`resource` of an object message), if any.
    pub resource: Option<String>,
    /// The message.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Deny => "denied",
            Level::Warn => "warning",
        };
        write!(f, "policy {level}: {} ({})", self.file.display(), self.rule)?;
        if let Some(resource) = &self.resource {
            write!(f, " {resource}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What the gate said of one plan.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Every finding, denials first.
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// Whether any rule denied the plan.
    pub fn denied(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Deny)
    }
}

/// The rule family of a rule name: `deny`, `deny_x`, `violation`, `violation_x`, `warn`,
/// `warn_x` (conftest's names); `None` for other rules (helpers).
fn level_of(rule: &str) -> Option<Level> {
    let family = |name: &str| rule == name || rule.starts_with(&format!("{name}_"));
    if family("deny") || family("violation") {
        Some(Level::Deny)
    } else if family("warn") {
        Some(Level::Warn)
    } else {
        None
    }
}

/// Every `*.rego` file of `path` (a file, or a folder searched recursively), tests left out,
/// in a stable order.
fn rego_files(path: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the policy path {}", path.display()))?;
    if meta.is_file() {
        found.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot read the policy folder {}", path.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read the policy folder {}", path.display()))?;
    entries.sort();
    for entry in entries {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if entry.is_dir() {
            rego_files(&entry, found)?;
        } else if name.ends_with(".rego") && !name.ends_with("_test.rego") {
            found.push(entry);
        }
    }
    Ok(())
}

/// The `package` line of a Rego file.
fn package_of(source: &str) -> Option<String> {
    source.lines().find_map(|line| {
        let line = line.trim();
        line.strip_prefix("package ")
            .map(|rest| rest.split('#').next().unwrap_or(rest).trim().to_owned())
    })
}

/// A new engine, strict about Rego v1 unless `v0`.
fn engine(v0: bool) -> Engine {
    let mut engine = Engine::new();
    engine.set_rego_v0(v0);
    engine.set_strict_builtin_errors(false);
    engine
}

/// regorus's message for a file it refused, first line only.
fn first_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join("\n  ")
}

impl PolicySet {
    /// Loads every policy under `paths`; rules are read from package `namespace`.
    pub fn load(paths: &[PathBuf], namespace: &str) -> Result<Self> {
        let mut found = Vec::new();
        for path in paths {
            rego_files(path, &mut found)?;
        }
        if found.is_empty() {
            bail!(
                "no policies (*.rego) in {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let mut files = Vec::new();
        for path in found {
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the policy {}", path.display()))?;
            let Some(package) = package_of(&source) else {
                bail!("{}: a Rego file starts with `package NAME`", path.display());
            };
            let name = path.display().to_string();
            let v0 = match engine(false).add_policy(name.clone(), source.clone()) {
                Ok(_) => false,
                Err(v1_error) => {
                    if engine(true).add_policy(name, source.clone()).is_err() {
                        bail!(
                            "{}: not valid Rego: {}",
                            path.display(),
                            first_line(&v1_error)
                        );
                    }
                    true
                }
            };
            files.push(PolicyFile {
                path,
                source,
                package,
                v0,
            });
        }
        if !files.iter().any(|f| f.package == namespace) {
            bail!(
                "no policy is in package `{namespace}` (packages found: {}); pass `--namespace` to read another",
                files
                    .iter()
                    .map(|f| f.package.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(Self {
            files,
            namespace: namespace.to_owned(),
        })
    }

    /// The files loaded.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.path.as_path())
    }

    /// Judges `input` (see [`input`]). Each file of the namespace is evaluated with the files
    /// of the other packages (libraries it may import), so each finding names its file.
    pub fn evaluate(&self, input: &Value) -> Result<Verdict> {
        let input = RegoValue::from_json_str(&input.to_string())
            .context("the policy input is not a JSON document")?;
        let mut findings = Vec::new();
        for file in self.files.iter().filter(|f| f.package == self.namespace) {
            let mut engine = engine(file.v0);
            for other in self
                .files
                .iter()
                .filter(|f| f.package != self.namespace && f.v0 == file.v0)
            {
                engine
                    .add_policy(other.path.display().to_string(), other.source.clone())
                    .with_context(|| format!("cannot load {}", other.path.display()))?;
            }
            engine
                .add_policy(file.path.display().to_string(), file.source.clone())
                .with_context(|| format!("cannot load {}", file.path.display()))?;
            engine.set_input(input.clone());
            let results = engine
                .eval_query(format!("data.{}", self.namespace), false)
                .with_context(|| format!("{}: evaluation failed", file.path.display()))?;
            let Some(package) = results
                .result
                .first()
                .and_then(|r| r.expressions.first())
                .map(|e| e.value.clone())
            else {
                continue;
            };
            let Ok(rules) = package.as_object() else {
                continue;
            };
            for (rule, value) in rules.iter() {
                let Ok(rule) = rule.as_string() else {
                    continue;
                };
                let Some(level) = level_of(rule) else {
                    continue;
                };
                for message in messages(value) {
                    findings.push(Finding {
                        level,
                        file: file.path.clone(),
                        rule: rule.to_string(),
                        resource: message.resource,
                        message: message.text,
                    });
                }
            }
        }
        findings.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.cmp(b)));
        Ok(Verdict { findings })
    }
}

/// A message of a rule: text, and the change it names.
struct Message {
    text: String,
    resource: Option<String>,
}

/// The messages of a rule's value: a set or array of strings or `{msg, resource}` objects; a
/// single string or object; `true` (a boolean rule) as the rule's own name.
fn messages(value: &RegoValue) -> Vec<Message> {
    let one = |item: &RegoValue| -> Option<Message> {
        if let Ok(text) = item.as_string() {
            return Some(Message {
                text: text.to_string(),
                resource: None,
            });
        }
        let object = item.as_object().ok()?;
        let field = |name: &str| {
            object
                .get(&RegoValue::from(name))
                .and_then(|v| v.as_string().ok().map(|s| s.to_string()))
        };
        Some(Message {
            text: field("msg").unwrap_or_else(|| item.to_string()),
            resource: field("resource"),
        })
    };
    if let Ok(set) = value.as_set() {
        return set.iter().filter_map(one).collect();
    }
    if let Ok(array) = value.as_array() {
        return array.iter().filter_map(one).collect();
    }
    if value.as_bool().is_ok_and(|b| *b) {
        return vec![Message {
            text: "the rule holds".to_owned(),
            resource: None,
        }];
    }
    one(value).into_iter().collect()
}

/// The input document policies read: the plan as `ekspec plan --output json` prints it, the
/// spec (every field, defaults filled in) and where it came from (`null` for `delete --name`),
/// the parameters given with `--policy-param`, and the time of the evaluation (RFC 3339).
pub fn input(
    plan: &Plan,
    spec: Option<(&ClusterFile, &Path)>,
    params: &BTreeMap<String, String>,
    now: &str,
) -> Value {
    json!({
        "formatVersion": INPUT_FORMAT_VERSION,
        "plan": render::json(plan),
        "spec": spec.map(|(file, _)| file),
        "specFile": spec.map(|(_, path)| path.display().to_string()),
        "params": params,
        "now": now,
    })
}

/// A loaded policy set with the parameters of this run: what `plan` and `apply` judge each
/// plan with.
pub struct Gate {
    /// The policies.
    pub policies: PolicySet,
    /// `--policy-param KEY=VALUE`, read as `input.params`.
    pub params: BTreeMap<String, String>,
}

impl Gate {
    /// Judges `plan`, made from the spec at `spec` (none for `delete --name`), now.
    pub fn judge(&self, plan: &Plan, spec: Option<(&ClusterFile, &Path)>) -> Result<Verdict> {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        self.policies
            .evaluate(&input(plan, spec, &self.params, &now))
    }
}

/// `KEY=VALUE` of `--policy-param`.
pub fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(dir: &tempfile::TempDir, files: &[(&str, &str)]) -> Result<PolicySet> {
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        PolicySet::load(&[dir.path().to_owned()], DEFAULT_NAMESPACE)
    }

    #[test]
    fn conftest_rule_names_and_message_shapes_are_read() {
        let dir = tempfile::TempDir::new().unwrap();
        let policies = set(
            &dir,
            &[
                (
                    "a.rego",
                    "package main\nimport rego.v1\n\ndeny contains msg if {\n  input.x > 1\n  msg := \"x is too big\"\n}\n\nwarn_small contains {\"msg\": \"x is small\", \"resource\": \"vpc\"} if input.x < 5\n\nhelper := 3\n",
                ),
                (
                    "b.rego",
                    "package main\n\nviolation_old[msg] {\n  input.x == 2\n  msg := \"v0 syntax still works\"\n}\n",
                ),
                ("b_test.rego", "package main\nthis is not rego\n"),
            ],
        )
        .unwrap();
        let verdict = policies.evaluate(&json!({"x": 2})).unwrap();
        assert!(verdict.denied());
        let seen: Vec<(Level, &str, Option<&str>, &str)> = verdict
            .findings
            .iter()
            .map(|f| {
                (
                    f.level,
                    f.rule.as_str(),
                    f.resource.as_deref(),
                    f.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Level::Deny, "deny", None, "x is too big"),
                (Level::Deny, "violation_old", None, "v0 syntax still works"),
                (Level::Warn, "warn_small", Some("vpc"), "x is small"),
            ]
        );
        assert!(verdict.findings[1].file.ends_with("b.rego"));
        // Only a warning: the gate passes.
        let warned = policies.evaluate(&json!({"x": 1})).unwrap();
        assert!(!warned.denied());
        assert_eq!(warned.findings.len(), 1, "{:?}", warned.findings);
        assert_eq!(warned.findings[0].level, Level::Warn);
    }

    #[test]
    fn libraries_of_other_packages_are_available_and_other_namespaces_chosen() {
        let dir = tempfile::TempDir::new().unwrap();
        set(
            &dir,
            &[
                ("lib/tags.rego", "package lib.tags\n\nrequired := {\"team\"}\n"),
                (
                    "tags.rego",
                    "package ekspec.tags\nimport data.lib.tags\n\ndeny contains sprintf(\"missing tag %s\", [t]) if {\n  some t in tags.required\n  not input.tags[t]\n}\n",
                ),
            ],
        )
        .unwrap_err();
        let policies =
            PolicySet::load(&[dir.path().to_owned()], "ekspec.tags").expect("the namespace");
        let verdict = policies.evaluate(&json!({"tags": {}})).unwrap();
        assert_eq!(verdict.findings.len(), 1);
        assert_eq!(verdict.findings[0].message, "missing tag team");
    }

    #[test]
    fn unreadable_policies_are_refused_naming_the_file() {
        let dir = tempfile::TempDir::new().unwrap();
        let error = set(&dir, &[("bad.rego", "package main\ndeny contains if {\n")])
            .err()
            .unwrap();
        assert!(
            format!("{error:#}").contains("bad.rego: not valid Rego"),
            "{error:#}"
        );
        let empty = tempfile::TempDir::new().unwrap();
        let error = PolicySet::load(&[empty.path().to_owned()], DEFAULT_NAMESPACE)
            .err()
            .unwrap();
        assert!(format!("{error:#}").contains("no policies"), "{error:#}");
    }

    #[test]
    fn params_are_key_value() {
        assert_eq!(
            parse_param("allowClusterDelete=true"),
            Ok(("allowClusterDelete".to_owned(), "true".to_owned()))
        );
        assert!(parse_param("novalue").is_err());
    }
}
