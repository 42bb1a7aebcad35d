//! `DisruptionBudget`: a policy/v1 PodDisruptionBudget for pods the kind does not emit itself
//! (pods of a pass-through Deployment, of an operator, of a Helm chart). Exactly one of
//! `minAvailable` and `maxUnavailable` reaches the object (the original always wrote
//! `maxUnavailable: 1`, so a user who set `minAvailable` got both, which policy/v1 refuses).
//! Module workloads emit their own budget (`pdb`); a second budget over the same pods makes the
//! eviction API refuse every eviction of them, which the engine's controller pass reports.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::meta;
use crate::modules::shared::scaling::is_percent;
use crate::types::IntOrString;
use crate::validate;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct DisruptionBudget;

/// A PodDisruptionBudget: how many of the selected pods voluntary disruptions (node drains,
/// cluster upgrades) may take down at once.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DisruptionBudgetSpec {
    /// The pods the budget protects, in the budget's namespace.
    pub selector: BudgetSelector,
    /// Pods that must stay available, a number or a percentage such as `"50%"` (give this or
    /// `maxUnavailable`, not both).
    pub min_available: Option<IntOrString>,
    /// Pods that may be unavailable at once, a number or a percentage; `1` when neither this
    /// nor `minAvailable` is given.
    pub max_unavailable: Option<IntOrString>,
    /// Whether pods that are running but not ready may be evicted while the budget is
    /// exhausted: `IfHealthyBudget` only when the healthy pods are within budget,
    /// `AlwaysAllow` always (lets drains proceed past crash-looping pods).
    #[serde(default)]
    pub unhealthy_pod_eviction_policy: UnhealthyPodEvictionPolicy,
}

/// Which pods a budget protects: give `app` or `matchLabels`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BudgetSelector {
    /// The pods labelled `app.kubernetes.io/name: <app>` (what module workloads and most charts
    /// label their pods with).
    pub app: Option<String>,
    /// The pods carrying all of these labels.
    pub match_labels: Option<BTreeMap<String, String>>,
}

/// When running pods that are not ready may be evicted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum UnhealthyPodEvictionPolicy {
    /// Only while the ready pods are within the budget.
    #[default]
    IfHealthyBudget,
    /// Always: not-ready pods never hold up a drain.
    AlwaysAllow,
}

impl BudgetSelector {
    /// The selector labels.
    fn labels(&self) -> BTreeMap<String, String> {
        match (&self.app, &self.match_labels) {
            (Some(app), _) => meta::selector_labels(app),
            (None, Some(l)) => l.clone(),
            (None, None) => BTreeMap::new(),
        }
    }
}

impl Kind for DisruptionBudget {
    const KIND: &'static str = "DisruptionBudget";
    const SUMMARY: &'static str =
        "how many pods voluntary disruptions may take down: PodDisruptionBudget";
    const EXAMPLE: Example =
        crate::example!("examples/advanced-orchestration/disruption-budget.yaml");
    type Spec = DisruptionBudgetSpec;

    fn validate(spec: &DisruptionBudgetSpec, p: &mut Problems<'_>) {
        let s = &spec.selector;
        match (&s.app, &s.match_labels) {
            (Some(_), Some(_)) => p.fail(
                "spec.selector",
                "give app or matchLabels, not both (app stands for matchLabels {app.kubernetes.io/name: <app>})",
            ),
            (None, None) => p.fail(
                "spec.selector",
                "required: app (the pods' app.kubernetes.io/name) or matchLabels",
            ),
            (Some(app), None) => p.check("spec.selector.app", validate::label_value(app)),
            (None, Some(labels)) => {
                if labels.is_empty() {
                    p.fail(
                        "spec.selector.matchLabels",
                        "matchLabels must not be empty: an empty selector protects every pod of the namespace",
                    );
                }
                for (k, v) in labels {
                    let field = format!("spec.selector.matchLabels.{k}");
                    p.check(&field, validate::label_key(k));
                    p.check(&field, validate::label_value(v));
                }
            }
        }
        if s.app.as_deref() == Some("") {
            p.fail("spec.selector.app", "app must not be empty");
        }
        if spec.min_available.is_some() && spec.max_unavailable.is_some() {
            p.fail(
                "spec.maxUnavailable",
                "give minAvailable or maxUnavailable, not both: policy/v1 refuses a budget with both",
            );
        }
        for (k, v) in [
            ("minAvailable", &spec.min_available),
            ("maxUnavailable", &spec.max_unavailable),
        ] {
            let field = format!("spec.{k}");
            match v {
                Some(IntOrString::Int(i)) if !(0..=i64::from(i32::MAX)).contains(i) => p.fail(
                    field,
                    format!("{k} {i} must be a number from 0 or a percentage"),
                ),
                Some(IntOrString::String(s)) if !is_percent(s) => p.fail(
                    field,
                    format!("{k} {s:?} must be a number or a percentage from \"0%\" to \"100%\""),
                ),
                _ => {}
            }
        }
        let zero = |v: &IntOrString| {
            matches!(v, IntOrString::Int(0)) || matches!(v, IntOrString::String(s) if s == "0%")
        };
        if spec.max_unavailable.as_ref().is_some_and(zero)
            || matches!(&spec.min_available, Some(IntOrString::String(s)) if s == "100%")
        {
            let k = if spec.max_unavailable.is_some() {
                "spec.maxUnavailable"
            } else {
                "spec.minAvailable"
            };
            p.warn(
                k,
                "this budget allows no voluntary disruption: node drains and cluster upgrades wait on these pods forever",
            );
        }
        if spec.min_available.as_ref().is_some_and(zero) {
            p.warn(
                "spec.minAvailable",
                "minAvailable 0 protects nothing: every pod may be evicted at once",
            );
        }
    }
}

impl Generate for DisruptionBudget {
    const EMITS: &'static [Gvk] = &[Gvk::new("policy/v1", "PodDisruptionBudget")];

    fn expand(spec: DisruptionBudgetSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let max_unavailable = match (&spec.min_available, &spec.max_unavailable) {
            (None, None) => Some(IntOrString::Int(1)),
            (_, max) => max.clone(),
        };
        let app = spec.selector.app.as_deref().unwrap_or(m.name);
        let budget = policy::PodDisruptionBudget {
            metadata: meta::meta(m.name, &m.namespace, app, None),
            spec: Some(policy::PodDisruptionBudgetSpec {
                selector: Some(LabelSelector {
                    match_labels: Some(spec.selector.labels()),
                    ..Default::default()
                }),
                min_available: spec.min_available.as_ref().map(IntOrString::to_k8s),
                max_unavailable: max_unavailable.as_ref().map(IntOrString::to_k8s),
                unhealthy_pod_eviction_policy: Some(format!(
                    "{:?}",
                    spec.unhealthy_pod_eviction_policy
                )),
            }),
            ..Default::default()
        };
        Expansion {
            objects: vec![meta::to_value(&budget)],
            ..Default::default()
        }
    }
}
