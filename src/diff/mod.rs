//! `diff`: what applying the rendered objects would change in a live cluster.
//!
//! [`plan`] asks the cluster (through [`crate::cluster::client`]) for the live object and a
//! server-side-apply dry run of each rendered object, [`normalize`] strips what the server owns
//! and what the user chose to ignore from both sides, [`mask`] hides Secret values, and the
//! outputs ([`unified`], [`summary`], [`json`], [`dirs`]) print the result. Every object gets
//! one [`ObjectDiff`]; a failing object never stops the others.
//!
//! Exit codes (documented in the README): 0 no changes, 1 changes, 2 any error, conflict or
//! required replacement (after everything was printed).

pub mod dirs;
pub mod json;
pub mod mask;
pub mod normalize;
pub mod plan;
pub mod summary;
pub mod unified;

use serde_json::Value;

/// ANSI colours of the terminal outputs.
mod ansi {
    pub const RED: &str = "\x1b[31m";
    pub const GREEN: &str = "\x1b[32m";
    pub const YELLOW: &str = "\x1b[33m";
    pub const CYAN: &str = "\x1b[36m";
    pub const BOLD: &str = "\x1b[1m";
    pub const RESET: &str = "\x1b[0m";
}

/// Which object: kubectl's identity of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// `apiVersion` (`v1`, `apps/v1`, …).
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectId {
    /// The identity of `object` (namespace as written).
    pub fn of(object: &Value) -> ObjectId {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        ObjectId {
            api_version: s(&object["apiVersion"]),
            kind: s(&object["kind"]),
            namespace: object["metadata"]["namespace"].as_str().map(str::to_string),
            name: s(&object["metadata"]["name"]),
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .split_once('/')
            .map(|(g, _)| g)
            .unwrap_or_default()
    }

    /// kubectl's file name in the LIVE and MERGED directories:
    /// `<group.>version.Kind.namespace.name` (namespace empty when cluster-scoped).
    pub fn file_name(&self) -> String {
        let version = self
            .api_version
            .split_once('/')
            .map(|(_, v)| v)
            .unwrap_or(&self.api_version);
        let group = self.group();
        let group = if group.is_empty() {
            String::new()
        } else {
            format!("{group}.")
        };
        format!(
            "{group}{version}.{}.{}.{}",
            self.kind,
            self.namespace.as_deref().unwrap_or_default(),
            self.name
        )
    }
}

impl std::fmt::Display for ObjectId {
    /// `apps/v1 Deployment shop/web` or `v1 Namespace shop`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ", self.api_version, self.kind)?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        write!(f, "{}", self.name)
    }
}

/// What applying would do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// Live and merged are equal after normalisation.
    Unchanged,
    /// The object does not exist yet.
    Create,
    /// The object exists and would change.
    Update,
    /// `--prune`: the object carries the inventory label but is no longer rendered.
    Delete,
    /// Another field manager owns fields this apply would change (`--force-conflicts` takes
    /// them over).
    Conflict,
    /// The change touches an immutable field: the object must be deleted and recreated.
    RequiresReplace,
    /// The object could not be diffed (the message says why).
    Error,
}

impl Op {
    /// Lower-case name used in every output (`requires-replace` with a dash).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Unchanged => "unchanged",
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Conflict => "conflict",
            Op::RequiresReplace => "requires-replace",
            Op::Error => "error",
        }
    }

    /// Whether applying would change the cluster.
    pub fn is_change(self) -> bool {
        matches!(self, Op::Create | Op::Update | Op::Delete)
    }

    /// Whether the object makes the run fail (exit 2).
    pub fn is_failure(self) -> bool {
        matches!(self, Op::Conflict | Op::RequiresReplace | Op::Error)
    }

    /// Every op, in report order.
    pub const ALL: [Op; 7] = [
        Op::Create,
        Op::Update,
        Op::Delete,
        Op::Unchanged,
        Op::Conflict,
        Op::RequiresReplace,
        Op::Error,
    ];
}

/// A field another manager owns (from the server's conflict answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The owning field manager.
    pub manager: String,
    /// The field, as the server wrote it (`.spec.replicas`).
    pub field: String,
}

/// The result for one object. `live` and `merged` are normalised and masked: safe to print.
#[derive(Debug, Clone)]
pub struct ObjectDiff {
    /// Which object.
    pub id: ObjectId,
    /// What would happen.
    pub op: Op,
    /// The live object (`None`: absent, or unknown after an error).
    pub live: Option<Value>,
    /// The object after the apply (`None`: deleted, or unknown after an error).
    pub merged: Option<Value>,
    /// Fields owned by other managers (op `conflict`).
    pub conflicts: Vec<Conflict>,
    /// Why the object is an error, a conflict or needs replacing (secret values scrubbed).
    pub message: Option<String>,
    /// Remarks that qualify the result (e.g. merged computed locally).
    pub notes: Vec<String>,
}

impl ObjectDiff {
    /// A result without objects (errors).
    pub fn failed(id: ObjectId, op: Op, message: String) -> ObjectDiff {
        ObjectDiff {
            id,
            op,
            live: None,
            merged: None,
            conflicts: Vec::new(),
            message: Some(message),
            notes: Vec::new(),
        }
    }
}

/// Counts per op, in [`Op::ALL`] order.
pub fn counts(diffs: &[ObjectDiff]) -> Vec<(Op, usize)> {
    Op::ALL
        .iter()
        .map(|&op| (op, diffs.iter().filter(|d| d.op == op).count()))
        .collect()
}

/// One line: `2 to create, 1 to update, 3 unchanged, 1 conflict`.
pub fn summary_line(diffs: &[ObjectDiff]) -> String {
    let parts: Vec<String> = counts(diffs)
        .into_iter()
        .filter(|&(op, n)| n > 0 || op == Op::Unchanged)
        .map(|(op, n)| match op {
            Op::Create | Op::Update | Op::Delete => format!("{n} to {}", op.as_str()),
            Op::Unchanged => format!("{n} unchanged"),
            Op::Conflict => format!("{n} conflict{}", if n == 1 { "" } else { "s" }),
            Op::RequiresReplace => format!("{n} requiring replacement"),
            Op::Error => format!("{n} error{}", if n == 1 { "" } else { "s" }),
        })
        .collect();
    parts.join(", ")
}

/// The exit code of a run: 2 when any object failed, else 1 when anything would change, else 0.
pub fn exit_code(diffs: &[ObjectDiff]) -> i32 {
    if diffs.iter().any(|d| d.op.is_failure()) {
        2
    } else if diffs.iter().any(|d| d.op.is_change()) {
        1
    } else {
        0
    }
}

/// A copy of `v` with every map's keys sorted (how kubectl prints objects).
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// An object as printed in diffs and LIVE/MERGED files: YAML with sorted keys; empty for none.
pub fn to_yaml(v: Option<&Value>) -> String {
    v.map(|v| crate::yaml::to_string(&sorted(v)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_names_follow_kubectl() {
        let d = ObjectId::of(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}),
        );
        assert_eq!(d.file_name(), "apps.v1.Deployment.shop.web");
        let ns = ObjectId::of(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        );
        assert_eq!(ns.file_name(), "v1.Namespace..shop");
        assert_eq!(ns.to_string(), "v1 Namespace shop");
        assert_eq!(d.to_string(), "apps/v1 Deployment shop/web");
    }

    #[test]
    fn exit_codes() {
        let id = ObjectId::of(&json!({}));
        let mk = |op| ObjectDiff {
            op,
            ..ObjectDiff::failed(id.clone(), op, String::new())
        };
        assert_eq!(exit_code(&[mk(Op::Unchanged)]), 0);
        assert_eq!(exit_code(&[mk(Op::Unchanged), mk(Op::Create)]), 1);
        assert_eq!(exit_code(&[mk(Op::Update), mk(Op::Conflict)]), 2);
        assert_eq!(exit_code(&[mk(Op::RequiresReplace)]), 2);
        assert_eq!(
            summary_line(&[mk(Op::Create), mk(Op::Error), mk(Op::Error)]),
            "1 to create, 0 unchanged, 2 errors"
        );
    }
}
