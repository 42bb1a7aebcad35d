//! The `SchedulingProfile`s of the render laid over the pod template of one module workload:
//! topology spread, pod anti-affinity on the node, node selector, tolerations and priority
//! class. Called by the workload builders once the kind has set what its spec says and before
//! the kind's own defaults (the soft zone and node spread of `scaling::spread`) fill what is
//! left, so a profile overrides a default but never a setting the workload's spec made.
//!
//! Several profiles may select one workload: they are applied best first (higher `precedence`,
//! then the name that sorts first), each setting going to the first that makes it. Every
//! profile applied, and every setting kept from the workload or a better profile, is an `info`
//! finding about the workload object, with the field and the value that was not set.

use super::meta;
use crate::finding::Finding;
use crate::kind::{Context, ModuleResource};
use crate::resource::ObjectRef;
use crate::types::scheduling::{
    AntiAffinity, ScheduledProfile, Spread, Toleration, TolerationOperator, HOSTNAME,
};
use k8s_openapi::api::core::v1 as core;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The pod template of a workload: the object that holds it (`apps/v1`, its kind) and whether
/// its pods run one per node (a DaemonSet: spread and anti-affinity do not apply).
pub struct Target<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub per_node: bool,
}

const POD: &str = "spec.template.spec";

/// Whether `p` selects the module workload `m`.
pub fn selects(p: &ScheduledProfile, m: &ModuleResource<'_>) -> bool {
    if !p.namespace.is_empty() && p.namespace != m.namespace {
        return false;
    }
    let s = &p.selector;
    if !s.kinds.is_empty() && !s.kinds.iter().any(|k| k == m.resource.kind()) {
        return false;
    }
    let own = m.resource.labels().cloned().unwrap_or_default();
    let spec = m.spec_map("labels");
    let app = Value::String(m.name.to_string());
    s.labels.iter().all(|(k, v)| {
        let found = spec
            .get(k)
            .or_else(|| own.get(k))
            .or_else(|| (k == "app.kubernetes.io/name").then_some(&app));
        found.and_then(Value::as_str) == Some(v.as_str())
    })
}

/// Lays the profiles that select `m` over `template`; the findings say what each did.
pub fn apply(
    template: &mut core::PodTemplateSpec,
    m: &ModuleResource<'_>,
    ctx: &Context,
    target: Target<'_>,
) -> Vec<Finding> {
    let mut matched: Vec<&ScheduledProfile> =
        ctx.scheduling.iter().filter(|p| selects(p, m)).collect();
    if matched.is_empty() {
        return Vec::new();
    }
    matched.sort_by(|a, b| {
        b.precedence
            .cmp(&a.precedence)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.namespace.cmp(&b.namespace))
    });
    let about = Arc::new(ObjectRef {
        api_version: target.api_version.to_string(),
        kind: target.kind.to_string(),
        name: m.name.to_string(),
        namespace: (!m.namespace.is_empty()).then(|| m.namespace.clone()),
    });
    let info = |message: String, field: String, proposed: Option<Value>| {
        let mut f = Finding::info(message)
            .object(Arc::clone(&about))
            .at(m.resource.origin.clone())
            .field(field);
        f.proposed = proposed.map(Box::new);
        f
    };
    let pod = template.spec.get_or_insert_with(Default::default);
    // Who set each setting: the workload itself, or the profile that won it.
    let workload = format!("the {}", m.resource.kind());
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for c in pod.topology_spread_constraints.iter().flatten() {
        owner.insert(spread_slot(&c.topology_key), workload.clone());
    }
    if pod
        .affinity
        .as_ref()
        .is_some_and(|a| a.pod_anti_affinity.is_some())
    {
        owner.insert("podAntiAffinity".into(), workload.clone());
    }
    for k in pod.node_selector.iter().flatten().map(|(k, _)| k) {
        owner.insert(format!("nodeSelector.{k}"), workload.clone());
    }
    if pod.priority_class_name.is_some() {
        owner.insert("priorityClassName".into(), workload.clone());
    }
    let mut findings = Vec::new();
    for p in matched {
        let who = if p.precedence == 0 {
            p.source.clone()
        } else {
            format!("{} (precedence {})", p.source, p.precedence)
        };
        // (setting, field, value kept, value not set)
        let mut kept_list: Vec<(String, String, Value, Value)> = Vec::new();
        let mut kept = |slot: &str, field: String, current: Value, wanted: Value| {
            kept_list.push((slot.to_string(), field, current, wanted));
        };
        let mut applied: Vec<String> = Vec::new();
        let r = &p.rules;
        if target.per_node && (r.spread.is_some() || r.anti_affinity.is_some()) {
            findings.push(info(
                format!(
                    "{who}: spread and anti-affinity do not apply to the pods of a {}, which run one per node",
                    target.kind
                ),
                POD.into(),
                None,
            ));
        }
        if let Some(spread) = r.spread.as_ref().filter(|_| !target.per_node) {
            let slot = spread_slot(&spread.topology_key);
            let wanted = spread_constraint(spread, m.name, target.kind);
            let list = pod.topology_spread_constraints.get_or_insert_with(Vec::new);
            match list
                .iter()
                .position(|c| c.topology_key == spread.topology_key)
            {
                Some(i) if list[i] == wanted => {}
                Some(i) => {
                    let field = format!("{POD}.topologySpreadConstraints[{i}]");
                    kept(&slot, field, to_json(&list[i]), to_json(&wanted));
                }
                None => {
                    list.push(wanted);
                    owner.insert(slot, p.source.clone());
                    applied.push(format!(
                        "topologySpreadConstraints ({})",
                        spread.topology_key
                    ));
                }
            }
        }
        if let Some(anti) = r.anti_affinity.filter(|_| !target.per_node) {
            let wanted = anti_affinity(anti, m.name);
            let affinity = pod.affinity.get_or_insert_with(Default::default);
            match &affinity.pod_anti_affinity {
                Some(current) if *current == wanted => {}
                Some(current) => kept(
                    "podAntiAffinity",
                    format!("{POD}.affinity.podAntiAffinity"),
                    to_json(current),
                    to_json(&wanted),
                ),
                None => {
                    affinity.pod_anti_affinity = Some(wanted);
                    owner.insert("podAntiAffinity".into(), p.source.clone());
                    applied.push(format!("podAntiAffinity ({})", anti_name(anti)));
                }
            }
        }
        let mut selector_keys = Vec::new();
        for (k, v) in &r.node_selector {
            let slot = format!("nodeSelector.{k}");
            let ns = pod.node_selector.get_or_insert_with(BTreeMap::new);
            match ns.get(k) {
                Some(current) if current == v => {}
                Some(current) => kept(
                    &slot,
                    format!("{POD}.nodeSelector.{k}"),
                    json!(current),
                    json!(v),
                ),
                None => {
                    ns.insert(k.clone(), v.clone());
                    owner.insert(slot, p.source.clone());
                    selector_keys.push(k.as_str());
                }
            }
        }
        if !selector_keys.is_empty() {
            applied.push(format!("nodeSelector ({})", selector_keys.join(", ")));
        }
        let mut added = 0;
        for t in &r.tolerations {
            let t = toleration(t);
            let list = pod.tolerations.get_or_insert_with(Vec::new);
            if !list.iter().any(|have| *have == t || tolerates_all(have)) {
                list.push(t);
                added += 1;
            }
        }
        if added > 0 {
            applied.push(format!("tolerations ({added})"));
        }
        if let Some(pc) = &r.priority_class_name {
            match &pod.priority_class_name {
                Some(current) if current == pc => {}
                Some(current) => kept(
                    "priorityClassName",
                    format!("{POD}.priorityClassName"),
                    json!(current),
                    json!(pc),
                ),
                None => {
                    pod.priority_class_name = Some(pc.clone());
                    owner.insert("priorityClassName".into(), p.source.clone());
                    applied.push(format!("priorityClassName ({pc})"));
                }
            }
        }
        for (slot, field, current, wanted) in kept_list {
            let by = owner.get(&slot).map_or("the workload", String::as_str);
            findings.push(info(
                format!("kept {slot} {current} that {by} sets; {who} would set {wanted}"),
                field,
                Some(wanted),
            ));
        }
        if !applied.is_empty() {
            findings.push(info(
                format!("{who} set {}", applied.join(", ")),
                POD.into(),
                None,
            ));
        }
    }
    findings
}

fn spread_slot(key: &str) -> String {
    format!("the spread over {key}")
}

fn anti_name(a: AntiAffinity) -> &'static str {
    match a {
        AntiAffinity::Soft => "soft",
        AntiAffinity::Hard => "hard",
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Object(Map::new()))
}

/// The spread of the workload `name`'s own pods. A Deployment's are counted per revision
/// (`pod-template-hash`), so a rolling update is not held up by the old pods' places.
fn spread_constraint(s: &Spread, name: &str, kind: &str) -> core::TopologySpreadConstraint {
    core::TopologySpreadConstraint {
        max_skew: s.max_skew,
        topology_key: s.topology_key.clone(),
        when_unsatisfiable: format!("{:?}", s.when_unsatisfiable),
        label_selector: Some(meta::selector(name)),
        min_domains: s.min_domains,
        match_label_keys: (kind == "Deployment").then(|| vec!["pod-template-hash".to_string()]),
        ..Default::default()
    }
}

/// Keeps the workload `name`'s pods off each other's node: preferred (`soft`, a weighted term
/// wrapping the affinity term) or required (`hard`, a bare term).
fn anti_affinity(a: AntiAffinity, name: &str) -> core::PodAntiAffinity {
    let term = core::PodAffinityTerm {
        label_selector: Some(meta::selector(name)),
        topology_key: HOSTNAME.into(),
        ..Default::default()
    };
    match a {
        AntiAffinity::Soft => core::PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                core::WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: term,
                },
            ]),
            ..Default::default()
        },
        AntiAffinity::Hard => core::PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![term]),
            ..Default::default()
        },
    }
}

fn toleration(t: &Toleration) -> core::Toleration {
    core::Toleration {
        key: t.key.clone(),
        operator: Some(
            match t.operator {
                TolerationOperator::Exists => "Exists",
                TolerationOperator::Equal => "Equal",
            }
            .into(),
        ),
        value: t.value.clone(),
        effect: t.effect.map(|e| format!("{e:?}")),
        toleration_seconds: t.toleration_seconds,
    }
}

/// A toleration of every taint (no key, `Exists`, every effect).
fn tolerates_all(t: &core::Toleration) -> bool {
    t.key.is_none() && t.operator.as_deref() == Some("Exists") && t.effect.is_none()
}
