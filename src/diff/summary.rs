//! The summary table: one row per object that would change or could not be diffed (unchanged
//! objects are only counted), aligned columns, then a total line.
//!
//! ```text
//! NAMESPACE  KIND        NAME  OP        CHANGES  DETAILS
//! shop       Deployment  web   update    2
//! shop       Service     web   conflict  1        .spec.ports owned by "helm"
//! ```

use super::ansi::{GREEN, RED, RESET, YELLOW};
use super::plan::Plan;
use super::{summary_line, ObjectDiff, Op};

fn details(d: &ObjectDiff) -> String {
    let mut parts: Vec<String> = d
        .conflicts
        .iter()
        .map(|c| format!("{} owned by {:?}", c.field, c.manager))
        .collect();
    if d.conflicts.is_empty() {
        parts.extend(d.message.iter().cloned());
    }
    parts.extend(d.notes.iter().cloned());
    parts.join("; ")
}

/// The table for `plan`.
pub fn render(plan: &Plan, color: bool) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "NAMESPACE".into(),
        "KIND".into(),
        "NAME".into(),
        "OP".into(),
        "CHANGES".into(),
        "DETAILS".into(),
    ]];
    for d in plan.objects.iter().filter(|d| d.op != Op::Unchanged) {
        let changes = if d.op == Op::Update {
            super::json::changes(d.live.as_ref(), d.merged.as_ref())
                .len()
                .to_string()
        } else if d.op == Op::Conflict {
            d.conflicts.len().to_string()
        } else {
            "-".into()
        };
        rows.push([
            d.id.namespace.clone().unwrap_or_default(),
            d.id.kind.clone(),
            d.id.name.clone(),
            d.op.as_str().into(),
            changes,
            details(d),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    if rows.len() > 1 {
        for (r, row) in rows.iter().enumerate() {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let last = c == row.len() - 1;
                let padded = if last {
                    cell.clone()
                } else {
                    format!("{cell:<w$}  ", w = widths[c])
                };
                let code = match (c, r) {
                    (3, r) if r > 0 && color => match cell.as_str() {
                        "create" => GREEN,
                        "delete" | "conflict" | "error" | "requires-replace" => RED,
                        _ => YELLOW,
                    },
                    _ => "",
                };
                if code.is_empty() {
                    line.push_str(&padded);
                } else {
                    line.push_str(&format!("{code}{}{RESET}{}", cell, &padded[cell.len()..]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.push_str(&summary_line(&plan.objects));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Conflict, ObjectId};
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_for_changes_and_failures() {
        let id = |kind: &str, name: &str| {
            ObjectId::of(
                &json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "shop"}}),
            )
        };
        let mut conflict = ObjectDiff::failed(id("Service", "web"), Op::Conflict, "x".into());
        conflict.conflicts.push(Conflict {
            manager: "helm".into(),
            field: ".spec.ports".into(),
        });
        let plan = Plan {
            objects: vec![
                ObjectDiff {
                    op: Op::Update,
                    live: Some(json!({"a": 1, "b": 1})),
                    merged: Some(json!({"a": 2, "b": 2, "c": 3})),
                    ..ObjectDiff::failed(id("ConfigMap", "web"), Op::Update, String::new())
                },
                ObjectDiff {
                    op: Op::Unchanged,
                    ..ObjectDiff::failed(id("ConfigMap", "same"), Op::Unchanged, String::new())
                },
                conflict,
            ],
            errors: vec![],
        };
        let mut plan = plan;
        plan.objects[0].message = None;
        assert_eq!(
            render(&plan, false),
            "NAMESPACE  KIND       NAME  OP        CHANGES  DETAILS\n\
             shop       ConfigMap  web   update    3\n\
             shop       Service    web   conflict  1        .spec.ports owned by \"helm\"\n\
             1 to update, 1 unchanged, 1 conflict\n"
        );
    }
}
