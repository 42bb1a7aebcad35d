//! `SchedulingProfile`: where the pods of module workloads run, set once for many of them. A
//! configuration kind: it emits nothing, it leaves itself in the render context, and the
//! workload builders (`modules::shared::scheduling`) lay it over the pod template of every module
//! workload it selects (by module kind and/or labels, in its namespace or, without one, in all):
//! a topology spread of the workload's own pods, pod anti-affinity on the node, a node selector,
//! tolerations and a priority class.
//!
//! It never overwrites what a workload's spec sets (a `NodeAgent`'s tolerations or its
//! `system-node-critical` priority): such a setting is kept and reported as an `info` finding,
//! as every profile applied is. It does replace the soft zone and node spread the workload kinds
//! add by default. Several profiles may select one workload: higher `precedence` wins a
//! setting, then the name that sorts first, and the settings of the others that lost are
//! reported. The original's HA helper wrote anti-affinity terms of the wrong shape (`weight` in a
//! required term, a preferred term without `podAffinityTerm`); these are the API's shapes.

use crate::kind::spec::{Configure, Kind};
use crate::kind::{Context, Example, ModuleResource, Problems};
use crate::types::scheduling::{
    AntiAffinity, ScheduledProfile, SchedulingRules, Spread, Toleration, TolerationOperator,
    WhenUnsatisfiable, WorkloadSelector,
};
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct SchedulingProfile;

/// Scheduling settings for the pods of the module workloads it selects.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulingProfileSpec {
    /// The module workloads it applies to, in the profile's namespace (every namespace when the
    /// profile has none).
    pub selector: WorkloadSelector,
    /// When several profiles select a workload, the higher precedence wins each setting both
    /// make; at equal precedence, the profile whose name sorts first (0-1000).
    #[serde(default)]
    pub precedence: i32,
    /// Spread the workload's pods over a topology, counting its own pods only.
    pub spread: Option<Spread>,
    /// Keep the workload's pods off each other's node: `soft` (preferred) or `hard` (required;
    /// with more pods than nodes, the extra ones stay pending).
    pub anti_affinity: Option<AntiAffinity>,
    /// Node labels the pods require, e.g. `{node.kubernetes.io/instance-type: m7i.xlarge}`.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Taints the pods tolerate, added to those the workload has.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    /// The PriorityClass of the pods (e.g. one a `PriorityTier` emits).
    pub priority_class_name: Option<String>,
}

/// Module kinds whose pods a profile reaches: those built by the shared workload builder.
pub const WORKLOAD_KINDS: &[&str] = &["WebApp", "Worker", "StatefulService", "NodeAgent"];

impl Kind for SchedulingProfile {
    const KIND: &'static str = "SchedulingProfile";
    const SUMMARY: &'static str = "spread, anti-affinity, node selector, tolerations and priority for the pods of selected module workloads (emits nothing)";
    const EXAMPLE: Example =
        crate::example!("examples/advanced-orchestration/scheduling-profile.yaml");
    type Spec = SchedulingProfileSpec;

    fn validate(spec: &SchedulingProfileSpec, p: &mut Problems<'_>) {
        let s = &spec.selector;
        if s.kinds.is_empty() && s.labels.is_empty() {
            p.fail(
                "spec.selector",
                format!(
                    "select workloads by kinds ({}) or labels, or both",
                    WORKLOAD_KINDS.join(", ")
                ),
            );
        }
        for (i, kind) in s.kinds.iter().enumerate() {
            let field = format!("spec.selector.kinds[{i}]");
            if WORKLOAD_KINDS.contains(&kind.as_str()) {
                if s.kinds[..i].contains(kind) {
                    p.fail(field, format!("{kind} is listed twice"));
                }
                continue;
            }
            let hint = validate::suggest::did_you_mean(kind, WORKLOAD_KINDS.iter().copied())
                .map(|d| format!(" {d}"))
                .unwrap_or_default();
            let why = if crate::modules::registry().lookup(kind).is_some() {
                format!(
                    "{kind} runs no pods of its own: a profile applies to the module workloads {}",
                    WORKLOAD_KINDS.join(", ")
                )
            } else {
                format!("{kind:?} is not a module workload kind (a profile patches module workloads such as WebApp, not emitted objects such as Deployment):{hint}")
            };
            p.fail(field, why.trim_end_matches(':').to_string());
        }
        for (k, v) in &s.labels {
            let field = format!("spec.selector.labels.{k}");
            p.check(&field, validate::label_key(k));
            p.check(&field, validate::label_value(v));
        }
        if !(0..=1000).contains(&spec.precedence) {
            p.fail("spec.precedence", "precedence must be 0-1000");
        }
        if let Some(sp) = &spec.spread {
            p.check(
                "spec.spread.topologyKey",
                validate::label_key(&sp.topology_key),
            );
            if sp.max_skew < 1 {
                p.fail("spec.spread.maxSkew", "maxSkew must be at least 1");
            }
            match sp.min_domains {
                Some(_) if sp.when_unsatisfiable != WhenUnsatisfiable::DoNotSchedule => p.fail(
                    "spec.spread.minDomains",
                    "minDomains needs whenUnsatisfiable: DoNotSchedule (the API refuses it otherwise)",
                ),
                Some(d) if d < 1 => p.fail("spec.spread.minDomains", "minDomains must be at least 1"),
                _ => {}
            }
        }
        for (k, v) in &spec.node_selector {
            let field = format!("spec.nodeSelector.{k}");
            p.check(&field, validate::label_key(k));
            p.check(&field, validate::label_value(v));
        }
        for (i, t) in spec.tolerations.iter().enumerate() {
            let f = format!("spec.tolerations[{i}]");
            match (&t.key, t.operator, &t.value) {
                (None, TolerationOperator::Equal, _) => {
                    p.fail(format!("{f}.key"), "operator Equal needs a key")
                }
                (_, TolerationOperator::Exists, Some(_)) => p.fail(
                    format!("{f}.value"),
                    "operator Exists matches any value: drop value, or use operator: Equal",
                ),
                _ => {}
            }
            if let Some(k) = &t.key {
                p.check(format!("{f}.key"), validate::label_key(k));
            }
            if t.toleration_seconds.is_some()
                && t.effect != Some(crate::types::scheduling::TaintEffect::NoExecute)
            {
                p.fail(
                    format!("{f}.tolerationSeconds"),
                    "tolerationSeconds applies to effect NoExecute only",
                );
            }
            if spec.tolerations[..i].contains(t) {
                p.fail(f, "the same toleration is listed twice");
            }
        }
        if let Some(pc) = &spec.priority_class_name {
            p.check("spec.priorityClassName", validate::dns1123_subdomain(pc));
        }
        let nothing = spec.spread.is_none()
            && spec.anti_affinity.is_none()
            && spec.node_selector.is_empty()
            && spec.tolerations.is_empty()
            && spec.priority_class_name.is_none();
        if nothing {
            p.fail(
                "spec",
                "the profile sets nothing: give spread, antiAffinity, nodeSelector, tolerations or priorityClassName",
            );
        }
    }
}

impl Configure for SchedulingProfile {
    /// After `PlatformDefaults` and `ComplianceProfile`; it touches nothing they set.
    const PRECEDENCE: u8 = 30;
    /// Each profile is about its own workloads.
    const SINGLE: bool = false;

    fn configure(spec: SchedulingProfileSpec, m: &ModuleResource<'_>, ctx: &mut Context) {
        let source = if m.namespace.is_empty() {
            format!("SchedulingProfile/{}", m.name)
        } else {
            format!("SchedulingProfile/{}/{}", m.namespace, m.name)
        };
        ctx.scheduling.push(ScheduledProfile {
            source,
            name: m.name.to_string(),
            namespace: m.namespace.clone(),
            precedence: spec.precedence,
            selector: spec.selector,
            rules: SchedulingRules {
                spread: spec.spread,
                anti_affinity: spec.anti_affinity,
                node_selector: spec.node_selector,
                tolerations: spec.tolerations,
                priority_class_name: spec.priority_class_name,
            },
        });
    }
}
