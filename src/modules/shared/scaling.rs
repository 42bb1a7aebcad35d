//! Availability and scale of a workload: the `autoscaling` field (a HorizontalPodAutoscaler),
//! the `pdb` field (a PodDisruptionBudget, on by default with more than one pod), and the soft
//! spread of its pods over zones and nodes.

use super::meta;
use crate::kind::{ModuleResource, Problems};
use crate::types::IntOrString;
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1 as policy;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Horizontal autoscaling of the pods (an autoscaling/v2 HorizontalPodAutoscaler); the
/// autoscaler then owns the replica count.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingSpec {
    /// Fewest pods; `replicas` when not given.
    pub min: Option<i32>,
    /// Most pods.
    pub max: i32,
    /// Target average CPU utilisation, percent of requests.
    #[serde(default = "super::defaults::int::<80>")]
    pub cpu: i32,
    /// Target average memory utilisation, percent of requests.
    pub memory: Option<i32>,
}

/// The PodDisruptionBudget that keeps pods running through node drains.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PdbSpec {
    /// Emit the budget; by default only when more than one pod runs.
    pub enabled: Option<bool>,
    /// Pods that must stay available (a number or a percentage like `"50%"`); 1 when neither
    /// this nor `maxUnavailable` is given.
    pub min_available: Option<IntOrString>,
    /// Pods that may be unavailable at once (a number or a percentage).
    pub max_unavailable: Option<IntOrString>,
}

pub fn check_scaling(
    replicas: i32,
    autoscaling: Option<&AutoscalingSpec>,
    pdb: &PdbSpec,
    ch: &mut Problems<'_>,
) {
    if !(0..=10_000).contains(&replicas) {
        ch.fail(
            "spec.replicas",
            format!("replicas {replicas} must be between 0 and 10000"),
        );
    }
    if let Some(a) = autoscaling {
        let min = a.min.unwrap_or(replicas);
        if min < 1 {
            ch.fail("spec.autoscaling.min", "min must be at least 1");
        }
        if a.max < min {
            ch.fail(
                "spec.autoscaling.max",
                format!("max {} is below min {min}", a.max),
            );
        }
        if a.min.is_some_and(|m| m < replicas) {
            ch.fail(
                "spec.autoscaling.min",
                format!(
                    "min {} is below spec.replicas {replicas}: raise min or lower replicas",
                    a.min.unwrap_or(0)
                ),
            );
        }
        for (k, v) in [("cpu", Some(a.cpu)), ("memory", a.memory)] {
            if v.is_some_and(|v| !(1..=1000).contains(&v)) {
                ch.fail(
                    format!("spec.autoscaling.{k}"),
                    format!("{k} target must be 1-1000 percent"),
                );
            }
        }
    }
    if pdb.min_available.is_some() && pdb.max_unavailable.is_some() {
        ch.fail("spec.pdb", "set minAvailable or maxUnavailable, not both");
    }
    for (k, v) in [
        ("minAvailable", &pdb.min_available),
        ("maxUnavailable", &pdb.max_unavailable),
    ] {
        match v {
            Some(IntOrString::Int(i)) if *i < 0 => {
                ch.fail(format!("spec.pdb.{k}"), format!("{k} must not be negative"))
            }
            Some(IntOrString::String(s)) if !is_percent(s) => ch.fail(
                format!("spec.pdb.{k}"),
                format!("{k} {s:?} must be a number or a percentage like \"50%\""),
            ),
            _ => {}
        }
    }
}

/// Whether `s` is a whole percentage from 0% to 100%.
pub fn is_percent(s: &str) -> bool {
    s.strip_suffix('%')
        .is_some_and(|n| n.parse::<u8>().is_ok_and(|n| n <= 100))
}

/// Spreads the pods of a workload that runs more than one over zones and nodes (soft: a
/// single-zone cluster still schedules them), so one failure does not take them all. Run after
/// `scheduling::apply`: a profile's spread over a topology replaces this default one.
pub fn spread(template: &mut core::PodTemplateSpec, name: &str, min_pods: i32) {
    let Some(pod) = template.spec.as_mut().filter(|_| min_pods > 1) else {
        return;
    };
    let constraint = |key: &str| core::TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(meta::selector(name)),
        ..Default::default()
    };
    // A topology a `SchedulingProfile` already spreads over is its call.
    let list = pod.topology_spread_constraints.get_or_insert_with(Vec::new);
    for key in ["topology.kubernetes.io/zone", "kubernetes.io/hostname"] {
        if !list.iter().any(|c| c.topology_key == key) {
            list.push(constraint(key));
        }
    }
}

/// Fewest pods a workload runs: the autoscaler's minimum, else its replicas.
pub fn min_pods(replicas: i32, autoscaling: Option<&AutoscalingSpec>) -> i32 {
    autoscaling
        .map(|a| a.min.unwrap_or(replicas))
        .unwrap_or(replicas)
}

/// HPA when autoscaling is set; PDB when more than one pod runs (unless disabled).
pub fn scaling_objects(
    m: &ModuleResource<'_>,
    target_kind: &str,
    replicas: i32,
    autoscaling: Option<&AutoscalingSpec>,
    pdb: &PdbSpec,
) -> Vec<Value> {
    let mut out = Vec::new();
    let min_pods = autoscaling
        .map(|a| a.min.unwrap_or(replicas))
        .unwrap_or(replicas);
    if pdb.enabled.unwrap_or(min_pods > 1) {
        let min_available = match (&pdb.min_available, &pdb.max_unavailable) {
            (None, None) => Some(IntOrString::Int(1)),
            (m, _) => m.clone(),
        };
        out.push(meta::to_value(&policy::PodDisruptionBudget {
            metadata: meta::meta(m.name, &m.namespace, m.name, None),
            spec: Some(policy::PodDisruptionBudgetSpec {
                selector: Some(meta::selector(m.name)),
                min_available: min_available.as_ref().map(IntOrString::to_k8s),
                max_unavailable: pdb.max_unavailable.as_ref().map(IntOrString::to_k8s),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    if let Some(a) = autoscaling {
        let metric = |resource: &str, target: i32| autoscaling::MetricSpec {
            type_: "Resource".into(),
            resource: Some(autoscaling::ResourceMetricSource {
                name: resource.into(),
                target: autoscaling::MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(target),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let mut metrics = vec![metric("cpu", a.cpu)];
        if let Some(mem) = a.memory {
            metrics.push(metric("memory", mem));
        }
        out.push(meta::to_value(&autoscaling::HorizontalPodAutoscaler {
            metadata: meta::meta(m.name, &m.namespace, m.name, None),
            spec: Some(autoscaling::HorizontalPodAutoscalerSpec {
                scale_target_ref: autoscaling::CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: target_kind.into(),
                    name: m.name.to_string(),
                },
                min_replicas: Some(a.min.unwrap_or(replicas)),
                max_replicas: a.max,
                metrics: Some(metrics),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    out
}
