//! The compliance labels (`compliance.nixernetes.io/*`) and the selector that says which emitted
//! objects get them. `ComplianceProfile` fills them in, `engine::inject` stamps them and the
//! `compliance-labels` check requires them: all three read the keys from here.

use super::{DataClassification, Framework, Level};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The four label keys, in the order they are stamped.
pub const LABEL_KEYS: [&str; 4] = [
    "compliance.nixernetes.io/framework",
    "compliance.nixernetes.io/level",
    "compliance.nixernetes.io/owner",
    "compliance.nixernetes.io/data-classification",
];

/// The `compliance.nixernetes.io/*` labels of a workload or a profile.
pub fn labels(
    framework: Framework,
    level: Level,
    owner: &str,
    data_classification: DataClassification,
) -> Map<String, Value> {
    let values = [
        framework.as_str(),
        level.as_str(),
        owner,
        data_classification.as_str(),
    ];
    LABEL_KEYS
        .iter()
        .zip(values)
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect()
}

/// Which emitted objects get the compliance labels. Every list that is given must match; an
/// empty selector matches every object the tool emits.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectSelector {
    /// Kinds of emitted objects, e.g. `Deployment` (not module kinds: those never reach the output).
    pub kinds: Vec<String>,
    /// Objects in these namespaces, and the Namespace objects of these names.
    pub namespaces: Vec<String>,
    /// Labels the object carries (as written or injected), all of them.
    pub labels: BTreeMap<String, String>,
}

impl ObjectSelector {
    /// Whether an object of `kind` named `name` in `namespace` (`None`: cluster-scoped) matches.
    /// `labels` are the object's label maps, most authoritative first (what the user wrote, then
    /// what the tool injects).
    pub fn matches(
        &self,
        kind: &str,
        name: &str,
        namespace: Option<&str>,
        labels: &[&Map<String, Value>],
    ) -> bool {
        let listed = |ns: &str| self.namespaces.iter().any(|n| n == ns);
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
            && (self.namespaces.is_empty()
                || match namespace {
                    Some(ns) => listed(ns),
                    None => kind == "Namespace" && listed(name),
                })
            && self.labels.iter().all(|(k, v)| {
                labels.iter().find_map(|m| m.get(k)).and_then(Value::as_str) == Some(v.as_str())
            })
    }
}

/// What a `ComplianceProfile` leaves in the context for `engine::inject`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceLabels {
    /// The `compliance.nixernetes.io/*` labels.
    pub labels: Map<String, Value>,
    /// The objects that get them.
    pub selector: ObjectSelector,
}
