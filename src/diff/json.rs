//! The JSON report (`-o json`): stable, documented in the README and by the JSON Schema
//! `report.schema.json` beside this file (the tests validate every report against it):
//!
//! ```json
//! {"apiVersion": "nixernetes.io/v1alpha1", "kind": "DiffReport",
//!  "summary": {"create": 1, "update": 1, "delete": 0, "unchanged": 4,
//!              "conflict": 0, "requiresReplace": 0, "error": 0},
//!  "exitCode": 1,
//!  "objects": [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
//!               "name": "web", "op": "update",
//!               "changes": [{"path": "/spec/replicas", "live": 2, "merged": 3}],
//!               "conflicts": [], "message": null, "notes": [],
//!               "live": {…}, "merged": {…}}],
//!  "errors": []}
//! ```
//!
//! `op` is one of `unchanged|create|update|delete|conflict|requires-replace|error`. `changes`
//! lists the fields of an `update` (empty for other ops: a created object is all in `merged`,
//! a deleted one in `live`); a change's `path` is a JSON pointer, and its `live` or `merged` is
//! left out when that side has no value there. `live` and `merged` objects are normalised and
//! masked exactly as in the unified diff. Objects come in input order, then the ApplySet parent
//! (with an inventory), prune candidates last.

use super::plan::Plan;
use super::{counts, exit_code, ObjectDiff, Op};
use serde_json::{json, Map, Value};

/// One changed field.
pub struct Change {
    /// JSON pointer.
    pub path: String,
    /// Live value (`None`: absent).
    pub live: Option<Value>,
    /// Merged value (`None`: absent).
    pub merged: Option<Value>,
}

/// The fields that differ between `live` and `merged`, leaves first-to-last in key order.
pub fn changes(live: Option<&Value>, merged: Option<&Value>) -> Vec<Change> {
    let mut out = Vec::new();
    walk(String::new(), live, merged, &mut out);
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(format!("{path}/{}", escape(k)), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                walk(format!("{path}/{i}"), x.get(i), y.get(i), out);
            }
        }
        (x, y) if x == y => {}
        (x, y) => out.push(Change {
            path,
            live: x.cloned(),
            merged: y.cloned(),
        }),
    }
}

/// `summary`: objects per op (`requiresReplace` camel-cased), every op present. Shared with
/// the `apply` report.
pub fn summary(objects: &[ObjectDiff]) -> Value {
    let summary: Map<String, Value> = counts(objects)
        .into_iter()
        .map(|(op, n)| {
            let key = if op == Op::RequiresReplace {
                "requiresReplace".to_string()
            } else {
                op.as_str().to_string()
            };
            (key, json!(n))
        })
        .collect();
    Value::Object(summary)
}

/// An object's identity and outcome, the fields every report entry has (`apply`'s entries
/// are exactly these): apiVersion, kind, namespace, name, op, conflicts, message, notes.
pub fn outcome(d: &ObjectDiff) -> Map<String, Value> {
    let v = json!({
        "apiVersion": d.id.api_version,
        "kind": d.id.kind,
        "namespace": d.id.namespace,
        "name": d.id.name,
        "op": d.op.as_str(),
        "conflicts": d.conflicts.iter().map(|c| json!({"manager": c.manager, "field": c.field})).collect::<Vec<_>>(),
        "message": d.message,
        "notes": d.notes,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The report as a JSON value.
pub fn report(plan: &Plan) -> Value {
    let summary = summary(&plan.objects);
    let objects: Vec<Value> = plan
        .objects
        .iter()
        .map(|d| {
            let changes: Vec<Value> = if d.op == Op::Update {
                changes(d.live.as_ref(), d.merged.as_ref())
                    .into_iter()
                    .map(|c| {
                        let mut m = Map::new();
                        m.insert("path".into(), Value::String(c.path));
                        if let Some(v) = c.live {
                            m.insert("live".into(), v);
                        }
                        if let Some(v) = c.merged {
                            m.insert("merged".into(), v);
                        }
                        Value::Object(m)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            // The documented order: the outcome's fields with `changes` after `op`.
            let mut o = Map::new();
            let mut changes = Some(changes);
            for (k, v) in outcome(d) {
                let after_op = k == "op";
                o.insert(k, v);
                if after_op {
                    o.insert(
                        "changes".into(),
                        Value::Array(changes.take().unwrap_or_default()),
                    );
                }
            }
            o.insert("live".into(), json!(d.live.as_ref().map(super::sorted)));
            o.insert("merged".into(), json!(d.merged.as_ref().map(super::sorted)));
            Value::Object(o)
        })
        .collect();
    let code = if plan.errors.is_empty() {
        exit_code(&plan.objects)
    } else {
        2
    };
    json!({
        "apiVersion": "nixernetes.io/v1alpha1",
        "kind": "DiffReport",
        "summary": summary,
        "exitCode": code,
        "objects": objects,
        "errors": plan.errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_json_pointers() {
        let a = json!({"spec": {"replicas": 2, "ports": [1, 2], "a/b": 1}, "x": 1});
        let b = json!({"spec": {"replicas": 3, "ports": [1], "a/b": 2}, "y": 1});
        let c: Vec<(String, Option<Value>, Option<Value>)> = changes(Some(&a), Some(&b))
            .into_iter()
            .map(|c| (c.path, c.live, c.merged))
            .collect();
        assert_eq!(
            c,
            vec![
                ("/spec/a~1b".into(), Some(json!(1)), Some(json!(2))),
                ("/spec/ports/1".into(), Some(json!(2)), None),
                ("/spec/replicas".into(), Some(json!(2)), Some(json!(3))),
                ("/x".into(), Some(json!(1)), None),
                ("/y".into(), None, Some(json!(1))),
            ]
        );
        assert_eq!(changes(None, Some(&a)).len(), 1);
        assert_eq!(changes(None, Some(&a))[0].path, "");
    }
}
