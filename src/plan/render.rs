//! Plans for people (text) and programs (JSON).

use serde_json::{Value, json};

use super::{ChangeKind, Plan};

/// The plan as text: one block per change, then the summary line.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        out.push_str("No changes.\n");
        return out;
    }
    out.push_str(&format!("Cluster {} ({}):\n", plan.cluster, plan.region));
    for change in &plan.changes {
        let id = change
            .physical_id
            .as_deref()
            .map(|id| format!(" ({id})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:>3} {} {}{id}\n",
            change.kind.symbol(),
            change.kind.verb(),
            change.resource
        ));
        for field in &change.fields {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
            out.push_str(&format!(
                "        {}: {} -> {}\n",
                field.field,
                show(&field.old),
                show(&field.new)
            ));
        }
        if let Some(reason) = &change.reason {
            out.push_str(&format!(
                "        {}: {reason}\n",
                if change.kind == ChangeKind::Impossible {
                    "cannot"
                } else {
                    "why"
                }
            ));
        }
    }
    out.push_str(&summary_line(plan));
    out.push('\n');
    out
}

/// The plan's warnings, one `warning: cluster `NAME`: ...` line each (for stderr).
pub fn warnings(plan: &Plan) -> String {
    plan.warnings
        .iter()
        .map(|w| format!("warning: cluster `{}`: {w}\n", plan.cluster))
        .collect()
}

/// `Plan: N to create, N to update, N to replace, N to delete.` (or `No changes.`)
pub fn summary_line(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes.".to_owned();
    }
    let s = plan.summary();
    // Adoptions are named only when there are some: every other plan reads as before.
    let adopt = if s.adopt > 0 {
        format!("{} to adopt, ", s.adopt)
    } else {
        String::new()
    };
    let mut line = format!(
        "Plan: {adopt}{} to create, {} to update, {} to replace, {} to delete.",
        s.create, s.update, s.replace, s.delete
    );
    if s.impossible > 0 {
        line.push_str(&format!(
            " {} impossible: nothing will be changed until the spec is fixed.",
            s.impossible
        ));
    }
    line
}

/// The plan as a stable JSON document (`formatVersion` 1, documented in docs/plan-json.md).
pub fn json(plan: &Plan) -> Value {
    json!({
        "formatVersion": 1,
        "cluster": plan.cluster,
        "region": plan.region,
        "changes": plan.changes,
        "summary": plan.summary(),
        "hasChanges": !plan.is_empty(),
        "warnings": plan.warnings,
    })
}
