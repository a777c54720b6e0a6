//! A plan: the changes that make live AWS match the spec, with their order.
//!
//! Each [`Change`] is about one logical resource and holds the [`Operation`]s that carry it
//! out, run in sequence. `after` names the resources whose changes must finish first; the
//! executor runs every change whose predecessors are done, concurrently.

pub mod chain;
pub mod estimate;
pub mod graph;
pub mod markdown;
pub mod operation;
pub mod render;
pub mod saved;

use serde::Serialize;

pub use operation::{Operation, Ref};

/// The logical id of a resource within its cluster, e.g. `nodegroup/system`.
pub type ResourceId = String;

/// What a change does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Make a new resource.
    Create,
    /// Change a resource in place.
    Update,
    /// Make a new resource, then delete the old one.
    Replace,
    /// Delete an owned resource no longer in the spec.
    Delete,
    /// The spec asks for something AWS cannot do; nothing will be changed.
    Impossible,
    /// Take ownership of a live resource another tool made (tag it), then bring it to the
    /// spec like any owned one.
    Adopt,
}

impl ChangeKind {
    /// The plan symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Create => "+",
            Self::Update => "~",
            Self::Replace => "-/+",
            Self::Delete => "-",
            Self::Impossible => "!",
            Self::Adopt => "<=",
        }
    }

    /// The verb shown after the symbol.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Replace => "replace",
            Self::Delete => "delete",
            Self::Impossible => "impossible",
            Self::Adopt => "adopt",
        }
    }
}

/// One field that differs between live AWS and the spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The spec field (or AWS attribute) name.
    pub field: String,
    /// The live value (`null` when absent).
    pub old: Option<String>,
    /// The desired value (`null` when removed).
    pub new: Option<String>,
}

impl FieldChange {
    /// A changed field.
    pub fn new(field: impl Into<String>, old: impl ToString, new: impl ToString) -> Self {
        Self {
            field: field.into(),
            old: Some(old.to_string()),
            new: Some(new.to_string()),
        }
    }
}

/// One resource's change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Logical id, e.g. `subnet/private-us-east-1a`.
    pub resource: ResourceId,
    /// Kind of change.
    pub kind: ChangeKind,
    /// The physical id or name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
    /// The fields that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Why (replacements and impossible changes), and what to do instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Resources whose changes must finish first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<ResourceId>,
    /// The AWS operations, run in order.
    #[serde(skip)]
    pub operations: Vec<Operation>,
}

impl Change {
    /// A change with no fields, reason or dependencies yet.
    pub fn new(resource: impl Into<String>, kind: ChangeKind, operations: Vec<Operation>) -> Self {
        Self {
            resource: resource.into(),
            kind,
            physical_id: None,
            fields: Vec::new(),
            reason: None,
            after: Vec::new(),
            operations,
        }
    }

    /// Sets the physical id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.physical_id = Some(id.into());
        self
    }

    /// Adds predecessors.
    pub fn after<I: IntoIterator<Item = S>, S: Into<String>>(mut self, resources: I) -> Self {
        self.after.extend(resources.into_iter().map(Into::into));
        self
    }

    /// Sets the changed fields.
    pub fn fields(mut self, fields: Vec<FieldChange>) -> Self {
        self.fields = fields;
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// Counts of a plan's changes by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Creates.
    pub create: usize,
    /// In-place updates.
    pub update: usize,
    /// Replacements.
    pub replace: usize,
    /// Deletes.
    pub delete: usize,
    /// Impossible changes.
    pub impossible: usize,
    /// Adoptions of resources another tool made (in JSON only when there are some, so
    /// other plans' documents stay as they were).
    #[serde(skip_serializing_if = "is_zero")]
    pub adopt: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Everything that would change for one cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Cluster name.
    pub cluster: String,
    /// Region.
    pub region: String,
    /// The changes, in a stable order.
    pub changes: Vec<Change>,
    /// What the user should know that changes nothing: a version in extended support, EKS's
    /// upgrade insights that are not passing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Plan {
    /// Counts by kind.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.kind {
                ChangeKind::Create => summary.create += 1,
                ChangeKind::Update => summary.update += 1,
                ChangeKind::Replace => summary.replace += 1,
                ChangeKind::Delete => summary.delete += 1,
                ChangeKind::Impossible => summary.impossible += 1,
                ChangeKind::Adopt => summary.adopt += 1,
            }
        }
        summary
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether applying needs confirmation: it deletes or replaces something, or takes over
    /// resources another tool made.
    pub fn is_destructive(&self) -> bool {
        self.changes.iter().any(|c| {
            matches!(
                c.kind,
                ChangeKind::Delete | ChangeKind::Replace | ChangeKind::Adopt
            )
        })
    }

    /// The impossible changes, which block the whole plan.
    pub fn impossible(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Impossible)
    }
}
