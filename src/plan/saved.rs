//! Plans saved by `plan --out` and applied by `apply PLAN.json`: the plan, plus what it was
//! made from, so apply can refuse when the spec or the live state moved since.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Plan, render};
use crate::resources::adopt::AdoptMode;

/// What `plan --out` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedPlan {
    /// Always `ekspec-saved-plan`.
    pub kind: String,
    /// `1`.
    pub format_version: u32,
    /// The spec file, as given to `plan`.
    pub spec_file: String,
    /// SHA-256 of the spec file's text.
    pub spec_sha256: String,
    /// The plan document (docs/plan-json.md).
    pub plan: Value,
    /// Made with `--adopt`: applying it adopts what it shows.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
    /// Made with `--adopt-network`: applying it adopts the network too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt_network: bool,
}

/// The `kind` of a saved plan.
pub const KIND: &str = "ekspec-saved-plan";

/// Hex SHA-256 of a spec's text.
pub fn spec_hash(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SavedPlan {
    /// Saves `plan`, made from `spec_file` whose text is `source`.
    pub fn new(plan: &Plan, spec_file: &str, source: &str) -> Self {
        Self {
            kind: KIND.to_owned(),
            format_version: 1,
            spec_file: spec_file.to_owned(),
            spec_sha256: spec_hash(source),
            plan: render::json(plan),
            adopt: false,
            adopt_network: false,
        }
    }

    /// Records what the plan was made to adopt (`--adopt`, `--adopt-network`).
    pub fn adopting(mut self, mode: AdoptMode) -> Self {
        self.adopt = mode.any();
        self.adopt_network = mode.network();
        self
    }

    /// What the plan was made to adopt.
    pub fn adopt_mode(&self) -> AdoptMode {
        AdoptMode::new(self.adopt, self.adopt_network)
    }

    /// How `current` (planned now) differs from the saved plan, one line per resource; empty
    /// when they are the same.
    pub fn differences(&self, current: &Plan) -> Vec<String> {
        let changes = |plan: &Value| -> Vec<(String, Value)> {
            plan["changes"]
                .as_array()
                .map(|changes| {
                    changes
                        .iter()
                        .map(|c| {
                            (
                                c["resource"].as_str().unwrap_or_default().to_owned(),
                                c.clone(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let saved = changes(&self.plan);
        let now = changes(&render::json(current));
        let mut differences = Vec::new();
        for (resource, change) in &saved {
            match now.iter().find(|(r, _)| r == resource) {
                None => differences.push(format!("{resource}: no longer needs a change")),
                Some((_, other)) if other != change => differences.push(format!(
                    "{resource}: was `{}`, now `{}`",
                    summary(change),
                    summary(other)
                )),
                Some(_) => {}
            }
        }
        for (resource, change) in &now {
            if !saved.iter().any(|(r, _)| r == resource) {
                differences.push(format!("{resource}: new change `{}`", summary(change)));
            }
        }
        differences
    }
}

/// A change in a few words: its kind and changed fields.
fn summary(change: &Value) -> String {
    let fields: Vec<String> = change["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| {
                    format!(
                        "{} -> {}",
                        f["field"].as_str().unwrap_or_default(),
                        f["new"].as_str().unwrap_or("(none)")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let kind = change["kind"].as_str().unwrap_or_default();
    if fields.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} {}", fields.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Change, ChangeKind, FieldChange};

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            cluster: "demo".to_owned(),
            region: "us-east-1".to_owned(),
            changes,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn the_same_plan_has_no_differences_and_a_moved_one_says_what_moved() {
        let scale = |max: u32| {
            Change::new("nodegroup/system", ChangeKind::Update, Vec::new())
                .fields(vec![FieldChange::new("maxSize", 3, max)])
        };
        let saved = SavedPlan::new(&plan(vec![scale(5)]), "demo.yaml", "text");
        assert!(saved.differences(&plan(vec![scale(5)])).is_empty());
        assert_eq!(
            saved.differences(&plan(vec![scale(6)])),
            ["nodegroup/system: was `update maxSize -> 5`, now `update maxSize -> 6`"]
        );
        assert_eq!(
            saved.differences(&plan(Vec::new())),
            ["nodegroup/system: no longer needs a change"]
        );
        let extra = Change::new("role/node", ChangeKind::Create, Vec::new());
        assert_eq!(
            saved.differences(&plan(vec![scale(5), extra])),
            ["role/node: new change `create`"]
        );
    }

    #[test]
    fn the_spec_hash_is_sha256() {
        assert_eq!(
            spec_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
