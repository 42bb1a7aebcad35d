//! Where pods run: the scheduling settings a `SchedulingProfile` lays over the pod templates of
//! the module workloads it selects (topology spread, anti-affinity, node selector, tolerations,
//! priority class), and the profile as the render context keeps it. The patching itself is
//! `modules::shared::scheduling`'s; this layer only describes and deserializes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Spread of a workload's pods over a topology (zones by default), counting only its own pods.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spread {
    /// The node label whose values are the domains to spread over, e.g.
    /// `topology.kubernetes.io/zone` or `kubernetes.io/hostname`.
    #[serde(default = "zone")]
    pub topology_key: String,
    /// Most pods one domain may have above the emptiest one (at least 1).
    #[serde(default = "one")]
    pub max_skew: i32,
    /// What the scheduler does when no node keeps the skew: schedule anyway (`ScheduleAnyway`,
    /// a preference) or leave the pod pending (`DoNotSchedule`).
    #[serde(default)]
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// Fewest domains to count, even when fewer have nodes yet (with `DoNotSchedule` only).
    pub min_domains: Option<i32>,
}

fn zone() -> String {
    ZONE.into()
}

fn one() -> i32 {
    1
}

/// The well-known zone label.
pub const ZONE: &str = "topology.kubernetes.io/zone";
/// The well-known node name label.
pub const HOSTNAME: &str = "kubernetes.io/hostname";

impl Default for Spread {
    fn default() -> Self {
        Spread {
            topology_key: zone(),
            max_skew: 1,
            when_unsatisfiable: WhenUnsatisfiable::default(),
            min_domains: None,
        }
    }
}

/// What the scheduler does with a pod no node can take within the spread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum WhenUnsatisfiable {
    /// Prefer the spread, schedule regardless.
    #[default]
    ScheduleAnyway,
    /// Keep the pod pending until it can be placed within the spread.
    DoNotSchedule,
}

/// Whether two pods of a workload may share a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AntiAffinity {
    /// Preferably not (the scheduler still places them together when it must).
    Soft,
    /// Never: with more pods than nodes, the extra pods stay pending.
    Hard,
}

/// A taint the pods tolerate.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    /// Taint key; every key when not given (with `Exists`).
    pub key: Option<String>,
    /// `Exists` (any value) or `Equal` (the given `value`).
    #[serde(default)]
    pub operator: TolerationOperator,
    /// Taint value, for `Equal`.
    pub value: Option<String>,
    /// Taint effect; every effect when not given.
    pub effect: Option<TaintEffect>,
    /// With `NoExecute`: how long the pod stays on a node after the taint appears; forever when
    /// not given.
    pub toleration_seconds: Option<i64>,
}

/// How a toleration matches a taint's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TolerationOperator {
    /// Any value.
    #[default]
    Exists,
    /// The value given.
    Equal,
}

/// What a taint does to pods that do not tolerate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

/// The module workloads a profile applies to: those of the listed kinds that carry all the
/// labels (either may be left out, not both).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadSelector {
    /// Module kinds, e.g. `WebApp`, `Worker`, `StatefulService`, `NodeAgent`.
    pub kinds: Vec<String>,
    /// Labels of the module resource (its `metadata.labels` and `spec.labels`, which its
    /// objects carry) or `app.kubernetes.io/name` (the resource's name).
    pub labels: BTreeMap<String, String>,
}

/// The settings a profile lays over pod templates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchedulingRules {
    pub spread: Option<Spread>,
    pub anti_affinity: Option<AntiAffinity>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub priority_class_name: Option<String>,
}

/// A `SchedulingProfile` of the input, as the render context keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledProfile {
    /// `SchedulingProfile/<namespace>/<name>` (or without namespace), for findings.
    pub source: String,
    pub name: String,
    /// The namespace whose workloads it applies to; every namespace when empty.
    pub namespace: String,
    /// Higher wins a setting two profiles make; then the name that sorts first.
    pub precedence: i32,
    pub selector: WorkloadSelector,
    pub rules: SchedulingRules,
}
