//! `Autoscaler`: scales a workload the kind does not emit itself, or one whose module kind has no
//! `autoscaling` field. `mode: hpa` writes an autoscaling/v2 HorizontalPodAutoscaler (replicas
//! on CPU and memory utilisation); `mode: vpa` a VerticalPodAutoscaler of the Kubernetes
//! autoscaler project (requests and limits), which by default only recommends
//! (`updateMode: "Off"`, where the original defaulted to `Auto` and restarted pods).
//!
//! An HPA and an acting VPA on the same resource of the same target fight (the VPA raises
//! requests, which lowers the utilisation the HPA scales on); two HPAs on one target are both
//! disabled by the HPA controller. Both are judged over the rendered set by the engine's
//! controller pass, which also sees a module workload's own `autoscaling`.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::defaults;
use crate::modules::shared::meta;
use crate::schema::operators;
use crate::types::Quantity;
use crate::validate;
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct Autoscaler;

/// A HorizontalPodAutoscaler (more or fewer pods) or a VerticalPodAutoscaler (bigger or smaller
/// pods) for one workload.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoscalerSpec {
    /// The workload to scale, in the autoscaler's namespace.
    pub target_ref: TargetRef,
    /// `hpa` scales the number of pods, `vpa` their CPU and memory.
    #[serde(default)]
    pub mode: Mode,
    /// The HorizontalPodAutoscaler (with `mode: hpa`).
    pub hpa: Option<HpaSpec>,
    /// The VerticalPodAutoscaler (with `mode: vpa`).
    pub vpa: Option<VpaSpec>,
}

/// The workload an autoscaler acts on: an object the render (or the cluster) has, such as the
/// Deployment a `WebApp` emits.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetRef {
    /// Its kind, e.g. `Deployment` or `StatefulSet` (not a module kind: name what it emits).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its apiVersion.
    #[serde(default = "apps_v1")]
    pub api_version: String,
}

fn apps_v1() -> String {
    "apps/v1".into()
}

/// What an autoscaler scales.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The number of pods: a HorizontalPodAutoscaler.
    #[default]
    Hpa,
    /// The CPU and memory of each pod: a VerticalPodAutoscaler.
    Vpa,
}

/// Replicas between `min` and `max`, on average CPU (and memory) utilisation of the requests.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaSpec {
    /// Fewest pods.
    #[serde(default = "defaults::int::<1>")]
    pub min: i32,
    /// Most pods.
    #[serde(default = "defaults::int::<10>")]
    pub max: i32,
    /// Target average CPU utilisation, percent of the requests (1-1000).
    #[serde(default = "defaults::int::<70>")]
    pub cpu: i32,
    /// Target average memory utilisation, percent of the requests (1-1000).
    pub memory: Option<i32>,
    /// How fast it scales up and down; Kubernetes' defaults when not given (up at once, down
    /// after 5 minutes of lower load).
    pub behavior: Option<BehaviorSpec>,
}

impl Default for HpaSpec {
    fn default() -> Self {
        HpaSpec {
            min: 1,
            max: 10,
            cpu: 70,
            memory: None,
            behavior: None,
        }
    }
}

/// Scaling speed, per direction.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BehaviorSpec {
    /// Scaling up.
    pub scale_up: Option<ScalingRules>,
    /// Scaling down.
    pub scale_down: Option<ScalingRules>,
}

/// How one direction scales.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalingRules {
    /// Seconds of past recommendations considered, so that a short spike or dip does not scale
    /// (0-3600).
    pub stabilization_window_seconds: Option<i32>,
    /// Which policy wins when several allow a change: the largest change (`Max`), the smallest
    /// (`Min`), or no scaling in this direction at all (`Disabled`).
    pub select_policy: Option<SelectPolicy>,
    /// How much may change per period.
    #[serde(default)]
    pub policies: Vec<ScalingPolicy>,
}

/// Which scaling policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

/// At most `value` pods (or percent of the current pods) per `periodSeconds`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalingPolicy {
    /// `Pods` (a count) or `Percent` (of the current pods).
    #[serde(rename = "type")]
    pub type_: PolicyType,
    /// How many pods, or percent (at least 1).
    pub value: i32,
    /// Over how many seconds (1-1800).
    pub period_seconds: i32,
}

/// The unit of a scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum PolicyType {
    Pods,
    Percent,
}

/// Requests (and limits, in proportion) set from observed usage, within bounds.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VpaSpec {
    /// What the VPA does with its recommendations: `Off` only records them (read them with
    /// `kubectl describe vpa`), `Initial` sets them on new pods, `Recreate` also evicts running
    /// pods to apply them, `InPlaceOrRecreate` resizes running pods in place where the cluster
    /// allows it (VPA 1.4 and Kubernetes 1.33 or later), else evicts.
    #[serde(default)]
    pub update_mode: UpdateMode,
    /// Lowest recommendation per resource, e.g. `{cpu: 100m, memory: 128Mi}`.
    #[serde(default)]
    pub min_allowed: BTreeMap<String, Quantity>,
    /// Highest recommendation per resource, e.g. `{cpu: "4", memory: 8Gi}`.
    #[serde(default)]
    pub max_allowed: BTreeMap<String, Quantity>,
    /// Resources it controls; both when not given.
    pub controlled_resources: Option<Vec<VpaResource>>,
}

/// When a VerticalPodAutoscaler applies its recommendations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum UpdateMode {
    /// Never: recommendations only.
    #[default]
    Off,
    /// When a pod is created.
    Initial,
    /// When a pod is created, and by evicting running pods.
    Recreate,
    /// By resizing running pods in place, evicting when that is not possible.
    InPlaceOrRecreate,
    /// What the VPA release takes it to mean (`Recreate` today).
    Auto,
}

/// A resource a VerticalPodAutoscaler controls.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VpaResource {
    Cpu,
    Memory,
}

impl VpaResource {
    fn as_str(self) -> &'static str {
        match self {
            VpaResource::Cpu => "cpu",
            VpaResource::Memory => "memory",
        }
    }
}

/// Kinds with a scale subresource an HPA can drive.
const SCALABLE: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

impl Kind for Autoscaler {
    const KIND: &'static str = "Autoscaler";
    const SUMMARY: &'static str =
        "scale a workload: HorizontalPodAutoscaler, or VerticalPodAutoscaler (recommendations by default)";
    const EXAMPLE: Example = crate::example!("examples/advanced-orchestration/autoscaler.yaml");
    type Spec = AutoscalerSpec;

    fn validate(spec: &AutoscalerSpec, p: &mut Problems<'_>) {
        check_target(&spec.target_ref, spec.mode, p);
        match spec.mode {
            Mode::Hpa => {
                if spec.vpa.is_some() {
                    p.fail(
                        "spec.vpa",
                        "vpa is set but mode is hpa: set mode: vpa, or drop vpa",
                    );
                }
                check_hpa(spec.hpa.as_ref().unwrap_or(&HpaSpec::default()), p);
            }
            Mode::Vpa => {
                if spec.hpa.is_some() {
                    p.fail("spec.hpa", "hpa is set but mode is vpa: set mode: hpa, or drop hpa (one Autoscaler writes one autoscaler)");
                }
                if let Some(v) = &spec.vpa {
                    check_vpa(v, p);
                }
            }
        }
    }
}

fn check_target(t: &TargetRef, mode: Mode, p: &mut Problems<'_>) {
    let well_formed = t.kind.starts_with(|c: char| c.is_ascii_uppercase())
        && t.kind.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        p.fail(
            "spec.targetRef.kind",
            format!(
                "invalid kind {:?}: expected a Kubernetes kind such as Deployment",
                t.kind
            ),
        );
    } else if crate::modules::registry().lookup(&t.kind).is_some() {
        p.fail(
            "spec.targetRef.kind",
            format!("{} is a module kind, which never reaches the cluster: target the object it emits (e.g. kind: Deployment, name: {})", t.kind, t.name),
        );
    } else if mode == Mode::Hpa
        && t.api_version == "apps/v1"
        && !SCALABLE.contains(&t.kind.as_str())
    {
        p.fail(
            "spec.targetRef.kind",
            format!("a HorizontalPodAutoscaler cannot scale a {} (it has no replica count): target a Deployment, StatefulSet or ReplicaSet", t.kind),
        );
    }
    p.check("spec.targetRef.name", validate::dns1123_subdomain(&t.name));
    let version_ok = match t.api_version.split_once('/') {
        Some((group, version)) => {
            validate::dns1123_subdomain(group).is_ok() && validate::dns1123_label(version).is_ok()
        }
        None => validate::dns1123_label(&t.api_version).is_ok(),
    };
    if !version_ok {
        p.fail(
            "spec.targetRef.apiVersion",
            format!(
                "invalid apiVersion {:?}: expected group/version such as apps/v1",
                t.api_version
            ),
        );
    }
}

fn check_hpa(h: &HpaSpec, p: &mut Problems<'_>) {
    if h.min < 1 {
        p.fail("spec.hpa.min", "min must be at least 1");
    }
    if h.max < h.min.max(1) {
        p.fail(
            "spec.hpa.max",
            format!("max {} is below min {}", h.max, h.min),
        );
    }
    for (k, v) in [("cpu", Some(h.cpu)), ("memory", h.memory)] {
        if v.is_some_and(|v| !(1..=1000).contains(&v)) {
            p.fail(
                format!("spec.hpa.{k}"),
                format!("{k} target must be 1-1000 percent"),
            );
        }
    }
    let Some(b) = &h.behavior else { return };
    for (dir, rules) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
        let Some(r) = rules else { continue };
        let f = format!("spec.hpa.behavior.{dir}");
        if r.stabilization_window_seconds
            .is_some_and(|s| !(0..=3600).contains(&s))
        {
            p.fail(
                format!("{f}.stabilizationWindowSeconds"),
                "stabilizationWindowSeconds must be 0-3600",
            );
        }
        for (i, pol) in r.policies.iter().enumerate() {
            if pol.value < 1 {
                p.fail(
                    format!("{f}.policies[{i}].value"),
                    "value must be at least 1",
                );
            }
            if !(1..=1800).contains(&pol.period_seconds) {
                p.fail(
                    format!("{f}.policies[{i}].periodSeconds"),
                    "periodSeconds must be 1-1800",
                );
            }
        }
        if r.policies.is_empty()
            && r.select_policy != Some(SelectPolicy::Disabled)
            && r.select_policy.is_some()
        {
            p.fail(
                format!("{f}.policies"),
                "selectPolicy needs policies to choose from (or selectPolicy: Disabled)",
            );
        }
    }
}

fn check_vpa(v: &VpaSpec, p: &mut Problems<'_>) {
    for (part, map) in [
        ("minAllowed", &v.min_allowed),
        ("maxAllowed", &v.max_allowed),
    ] {
        for (k, q) in map {
            let f = format!("spec.vpa.{part}.{k}");
            if !matches!(k.as_str(), "cpu" | "memory") {
                p.fail(
                    &f,
                    format!("{k:?}: a VerticalPodAutoscaler recommends cpu and memory only"),
                );
            }
            p.check(&f, validate::quantity(&q.text()));
        }
    }
    for (k, max) in &v.max_allowed {
        let (Some(min), Some(max)) = (
            v.min_allowed
                .get(k)
                .and_then(|q| validate::quantity::parse(&q.text())),
            validate::quantity::parse(&max.text()),
        ) else {
            continue;
        };
        if max < min {
            p.fail(
                format!("spec.vpa.maxAllowed.{k}"),
                format!(
                    "maxAllowed.{k} {} is below minAllowed.{k} {}",
                    v.max_allowed[k].text(),
                    v.min_allowed[k].text()
                ),
            );
        }
    }
    if let Some(list) = &v.controlled_resources {
        if list.is_empty() {
            p.fail(
                "spec.vpa.controlledResources",
                "controlledResources must not be empty: leave it out for cpu and memory",
            );
        }
        for (i, r) in list.iter().enumerate() {
            if list[..i].contains(r) {
                p.fail(
                    format!("spec.vpa.controlledResources[{i}]"),
                    format!("{} is listed twice", r.as_str()),
                );
            }
        }
    }
    if v.update_mode == UpdateMode::Auto {
        p.warn(
            "spec.vpa.updateMode",
            "Auto means what the VPA release running makes of it (Recreate today, which evicts pods): say Recreate or InPlaceOrRecreate",
        );
    }
}

impl Generate for Autoscaler {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("autoscaling/v2", "HorizontalPodAutoscaler"),
        Gvk::new("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"),
    ];

    fn expand(spec: AutoscalerSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let object = match spec.mode {
            Mode::Hpa => hpa(&spec.target_ref, spec.hpa.unwrap_or_default(), m),
            Mode::Vpa => vpa(&spec.target_ref, spec.vpa.unwrap_or_default(), m, ctx),
        };
        Expansion {
            objects: vec![object],
            ..Default::default()
        }
    }
}

fn hpa(t: &TargetRef, h: HpaSpec, m: &ModuleResource<'_>) -> Value {
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
    let mut metrics = vec![metric("cpu", h.cpu)];
    metrics.extend(h.memory.map(|mem| metric("memory", mem)));
    let rules = |r: ScalingRules| autoscaling::HPAScalingRules {
        stabilization_window_seconds: r.stabilization_window_seconds,
        select_policy: r.select_policy.map(|s| format!("{s:?}")),
        policies: (!r.policies.is_empty()).then(|| {
            r.policies
                .iter()
                .map(|p| autoscaling::HPAScalingPolicy {
                    type_: format!("{:?}", p.type_),
                    value: p.value,
                    period_seconds: p.period_seconds,
                })
                .collect()
        }),
        ..Default::default()
    };
    meta::to_value(&autoscaling::HorizontalPodAutoscaler {
        metadata: meta::meta(m.name, &m.namespace, &t.name, None),
        spec: Some(autoscaling::HorizontalPodAutoscalerSpec {
            scale_target_ref: autoscaling::CrossVersionObjectReference {
                api_version: Some(t.api_version.clone()),
                kind: t.kind.clone(),
                name: t.name.clone(),
            },
            min_replicas: Some(h.min),
            max_replicas: h.max,
            metrics: Some(metrics),
            behavior: h
                .behavior
                .map(|b| autoscaling::HorizontalPodAutoscalerBehavior {
                    scale_up: b.scale_up.map(rules),
                    scale_down: b.scale_down.map(rules),
                }),
        }),
        ..Default::default()
    })
}

fn vpa(t: &TargetRef, v: VpaSpec, m: &ModuleResource<'_>, ctx: &Context) -> Value {
    let quantities = |map: &BTreeMap<String, Quantity>| -> Map<String, Value> {
        map.iter()
            .map(|(k, q)| (k.clone(), json!(q.text())))
            .collect()
    };
    let mut policy = Map::new();
    policy.insert("containerName".into(), json!("*"));
    if let Some(list) = &v.controlled_resources {
        policy.insert(
            "controlledResources".into(),
            json!(list.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
        );
    }
    if !v.min_allowed.is_empty() {
        policy.insert(
            "minAllowed".into(),
            Value::Object(quantities(&v.min_allowed)),
        );
    }
    if !v.max_allowed.is_empty() {
        policy.insert(
            "maxAllowed".into(),
            Value::Object(quantities(&v.max_allowed)),
        );
    }
    let mut spec = Map::new();
    spec.insert(
        "targetRef".into(),
        json!({"apiVersion": t.api_version, "kind": t.kind, "name": t.name}),
    );
    spec.insert(
        "updatePolicy".into(),
        json!({"updateMode": format!("{:?}", v.update_mode)}),
    );
    // A policy with nothing but the container name says nothing.
    if policy.len() > 1 {
        spec.insert(
            "resourcePolicy".into(),
            json!({"containerPolicies": [policy]}),
        );
    }
    json!({
        "apiVersion": ctx.api_version(&operators::VPA),
        "kind": "VerticalPodAutoscaler",
        "metadata": {
            "name": m.name,
            "namespace": m.namespace,
            "labels": {"app.kubernetes.io/name": t.name},
        },
        "spec": spec,
    })
}
