//! The `apply -o json|yaml` report: the per-object outcomes in the shapes of the `diff -o json`
//! report (`diff::json`: the same `summary`, and each object's identity, `op`, `conflicts`,
//! `message` and `notes`), documented by the JSON Schema `report.schema.json` beside this file,
//! which refers to the diff report's schema for those shapes (the tests validate every report
//! against both):
//!
//! ```json
//! {"apiVersion": "nixernetes.io/v1alpha1", "kind": "ApplyReport", "dryRun": "none",
//!  "summary": {"create": 1, "update": 0, "delete": 0, "unchanged": 4,
//!              "conflict": 0, "requiresReplace": 0, "error": 0},
//!  "exitCode": 0,
//!  "objects": [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
//!               "name": "web", "op": "create", "conflicts": [], "message": null,
//!               "notes": []}],
//!  "errors": [],
//!  "rollout": null}
//! ```
//!
//! `op` is the diff's (`create` is kubectl's "created", `update` "configured", `delete`
//! "pruned"). `rollout` is `null` without `--wait` (or when nothing was waited for because
//! something failed), else `{"total", "ready", "notReady": [{identity, "state": "waiting" |
//! "failed", "message"}]}`. `exitCode` is the process's.

use super::rollout::{State, Waited};
use super::{DryRun, Report};
use crate::diff::json::{outcome, summary};
use serde_json::{json, Value};

/// What `--wait` saw: how many objects it waited for, and those that did not roll out.
pub struct Rollout<'a> {
    pub total: usize,
    pub not_ready: &'a [Waited],
}

/// The report as a JSON value.
pub fn report(report: &Report, dry_run: DryRun, exit_code: i32, rollout: Option<Rollout>) -> Value {
    let objects: Vec<Value> = report
        .objects
        .iter()
        .map(|d| Value::Object(outcome(d)))
        .collect();
    let rollout = rollout.map(|r| {
        let not_ready: Vec<Value> = r
            .not_ready
            .iter()
            .map(|w| {
                let (state, message) = match &w.state {
                    State::Waiting(why) => ("waiting", why.as_str()),
                    State::Failed(why) => ("failed", why.as_str()),
                    State::Ready => ("ready", ""),
                };
                json!({
                    "apiVersion": w.id.api_version,
                    "kind": w.id.kind,
                    "namespace": w.id.namespace,
                    "name": w.id.name,
                    "state": state,
                    "message": message,
                })
            })
            .collect();
        json!({
            "total": r.total,
            "ready": r.total - not_ready.len(),
            "notReady": not_ready,
        })
    });
    json!({
        "apiVersion": "nixernetes.io/v1alpha1",
        "kind": "ApplyReport",
        "dryRun": match dry_run {
            DryRun::None => "none",
            DryRun::Server => "server",
            DryRun::Client => "client",
        },
        "summary": summary(&report.objects),
        "exitCode": exit_code,
        "objects": objects,
        "errors": report.errors,
        "rollout": rollout,
    })
}
