//! Two controllers of one thing: the set must not hold two HorizontalPodAutoscalers for one
//! workload (the HPA controller then disables both, `AmbiguousSelector`; a KEDA `ScaledObject`
//! counts as one, since KEDA makes an HPA of it), nor an HPA and an
//! acting VerticalPodAutoscaler on the same resource of one workload (the VPA raises the requests
//! the HPA's utilisation is measured against, and the two chase each other); and it should not
//! hold two PodDisruptionBudgets over the pods of one workload (the eviction API refuses to evict
//! a pod that more than one budget covers, so node drains stall). Only pairs with an object the
//! tool emitted are reported: two objects of the user's are the user's (as in `collisions`).

use super::collisions::emitted_namespace;
use crate::engine::inject::Provenance;
use crate::finding::Finding;
use crate::kind::Context;
use crate::resource::{Field, Identity, Item};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The object of `item`, of a kind this pass reads: those are never frozen (`engine::freeze`;
/// a frozen one would read as empty).
fn object(item: &Item) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match item.tree() {
        Some(r) => &r.object,
        None => EMPTY.get_or_init(Map::new),
    }
}

/// The objects that act on one workload, by (namespace, kind, name) of the workload.
type ByTarget<'a> = BTreeMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>;

/// Reports autoscalers and disruption budgets that fight over one workload.
pub fn check_controllers(
    objects: &[Item],
    produced: &[Option<Arc<Provenance>>],
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    let ns = |i: usize| emitted_namespace(&objects[i], produced[i].as_deref(), ctx);
    let emitted = |i: usize| produced[i].is_some();
    let source = |i: usize| match produced[i].as_deref() {
        Some(p) => format!("{} ({})", objects[i].name(), p.source),
        None => format!(
            "{} (written in the input at {})",
            objects[i].name(),
            objects[i].origin()
        ),
    };
    let hpa_source = |i: usize| {
        if objects[i].kind() == "ScaledObject" {
            format!("the ScaledObject {}", source(i))
        } else {
            source(i)
        }
    };
    let mut hpas: ByTarget = BTreeMap::new();
    let mut vpas: ByTarget = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        let target_key = |path: &str| {
            let t = object(o).field("spec").and_then(|s| s.get(path))?;
            Some((
                ns(i),
                t.field("kind")?.as_str()?,
                t.field("name")?.as_str()?,
            ))
        };
        match (o.group(), o.kind()) {
            ("autoscaling", "HorizontalPodAutoscaler") => {
                if let Some(k) = target_key("scaleTargetRef") {
                    hpas.entry(k).or_default().push(i);
                }
            }
            // KEDA makes an HPA of each ScaledObject; its target's kind defaults to Deployment.
            ("keda.sh", "ScaledObject") => {
                let t = object(o)
                    .field("spec")
                    .and_then(|s| s.field("scaleTargetRef"));
                let kind = t
                    .and_then(|t| t.field("kind"))
                    .and_then(Value::as_str)
                    .unwrap_or("Deployment");
                if let Some(name) = t.and_then(|t| t.field("name")).and_then(Value::as_str) {
                    hpas.entry((ns(i), kind, name)).or_default().push(i);
                }
            }
            ("autoscaling.k8s.io", "VerticalPodAutoscaler") => {
                if let Some(k) = target_key("targetRef") {
                    vpas.entry(k).or_default().push(i);
                }
            }
            _ => {}
        }
    }
    for ((namespace, kind, name), list) in &hpas {
        let what = workload(*namespace, kind, name);
        for pair in list.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if emitted(a) || emitted(b) {
                findings.push(
                    Finding::error(format!(
                        "two HorizontalPodAutoscalers scale {what}: {} and {}; the HPA controller disables both: keep one (a module workload's own is its `autoscaling`{})",
                        hpa_source(a),
                        hpa_source(b),
                        if [a, b].iter().any(|&i| objects[i].kind() == "ScaledObject") {
                            "; KEDA makes an HPA of a ScaledObject, an EventScaler's too"
                        } else {
                            ""
                        }
                    ))
                    .about(&objects[b]),
                );
            }
        }
        for &v in vpas.get(&(*namespace, *kind, *name)).into_iter().flatten() {
            let shared: Vec<&str> = vpa_resources(&objects[v])
                .into_iter()
                .filter(|r| {
                    list.iter()
                        .any(|&h| hpa_resources(&objects[h]).iter().any(|x| x == r))
                })
                .collect();
            let hpa = list[0];
            if shared.is_empty() || !(emitted(v) || emitted(hpa)) {
                continue;
            }
            findings.push(
                Finding::error(format!(
                    "the VerticalPodAutoscaler {} changes the {} requests of {what} that the HorizontalPodAutoscaler {} scales on: they fight; leave the VPA's updateMode \"Off\" (recommendations only), or let it control only what the HPA does not scale on (controlledResources)",
                    source(v),
                    shared.join(" and "),
                    source(hpa)
                ))
                .about(&objects[v]),
            );
        }
    }
    check_budgets(objects, produced, ctx, findings);
}

fn workload(namespace: Option<&str>, kind: &str, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The resources an HPA scales on (`Resource` and `ContainerResource` metrics).
fn hpa_resources(o: &Item) -> Vec<String> {
    if o.kind() == "ScaledObject" {
        // KEDA's HPA scales on resources only through `cpu` and `memory` triggers.
        return object(o)
            .field("spec")
            .and_then(|s| s.field("triggers"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.field("type").and_then(Value::as_str))
            .filter(|t| matches!(*t, "cpu" | "memory"))
            .map(str::to_string)
            .collect();
    }
    let metrics = object(o)
        .field("spec")
        .and_then(|s| s.field("metrics"))
        .and_then(Value::as_array);
    let Some(metrics) = metrics else {
        // Without metrics an HPA scales on CPU.
        return vec!["cpu".into()];
    };
    metrics
        .iter()
        .filter_map(|m| {
            m.field("resource")
                .or_else(|| m.field("containerResource"))
                .and_then(|r| r.field("name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// The resources a VPA changes on running or new pods: none with `updateMode: "Off"` (its CRD
/// default is `Auto`), else the `controlledResources` of its container policies that are not
/// `Off` (cpu and memory by default).
fn vpa_resources(o: &Item) -> Vec<&'static str> {
    let spec = object(o).field("spec");
    let mode = spec
        .and_then(|s| s.field("updatePolicy"))
        .and_then(|u| u.field("updateMode"))
        .and_then(Value::as_str)
        .unwrap_or("Auto");
    if mode == "Off" {
        return Vec::new();
    }
    let policies = spec
        .and_then(|s| s.field("resourcePolicy"))
        .and_then(|r| r.field("containerPolicies"))
        .and_then(Value::as_array);
    let mut out = Vec::new();
    let all = ["cpu", "memory"];
    match policies {
        None => out.extend(all),
        Some(list) if list.is_empty() => out.extend(all),
        Some(list) => {
            for p in list {
                if p.field("mode").and_then(Value::as_str) == Some("Off") {
                    continue;
                }
                match p.field("controlledResources").and_then(Value::as_array) {
                    None => out.extend(all),
                    Some(rs) => out.extend(
                        all.iter()
                            .filter(|a| rs.iter().any(|r| r.as_str() == Some(a))),
                    ),
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Warns when two PodDisruptionBudgets select the pods of one workload.
fn check_budgets(
    objects: &[Item],
    produced: &[Option<Arc<Provenance>>],
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    let budgets: Vec<usize> = (0..objects.len())
        .filter(|&i| objects[i].group() == "policy" && objects[i].kind() == "PodDisruptionBudget")
        .collect();
    if budgets.len() < 2 {
        return;
    }
    // Candidate budgets by namespace and by one of their matchLabels pairs (a budget selects
    // only pods that carry all of them), or in `always` when they have none: each workload then
    // tests the few budgets that can select it, not every budget of the set.
    let mut by_label: HashMap<(Option<&str>, &str, &str), Vec<usize>> = HashMap::new();
    let mut always: HashMap<Option<&str>, Vec<usize>> = HashMap::new();
    for &b in &budgets {
        let ns = emitted_namespace(&objects[b], produced[b].as_deref(), ctx);
        let first = object(&objects[b])
            .field("spec")
            .and_then(|s| s.field("selector"))
            .and_then(|s| s.field("matchLabels"))
            .and_then(Value::as_object)
            .and_then(|m| m.iter().find_map(|(k, v)| Some((k.as_str(), v.as_str()?))));
        match first {
            Some((k, v)) => by_label.entry((ns, k, v)).or_default().push(b),
            None => always.entry(ns).or_default().push(b),
        }
    }
    for (i, o) in objects.iter().enumerate() {
        if o.group() != "apps" || !matches!(o.kind(), "Deployment" | "StatefulSet" | "ReplicaSet") {
            continue;
        }
        let ns = emitted_namespace(o, produced[i].as_deref(), ctx);
        // The pod labels once injected: the template's, and the module resource's own labels.
        let mut labels: Map<String, Value> = object(o)
            .field("spec")
            .and_then(|s| s.field("template"))
            .and_then(|t| t.field("metadata"))
            .and_then(|m| m.field("labels"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(p) = produced[i].as_deref() {
            for (k, v) in &p.labels {
                labels.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let mut candidates: Vec<usize> = always.get(&ns).cloned().unwrap_or_default();
        for (k, v) in &labels {
            if let Some(list) = v.as_str().and_then(|v| by_label.get(&(ns, k.as_str(), v))) {
                candidates.extend(list);
            }
        }
        if candidates.len() < 2 {
            continue;
        }
        candidates.sort_unstable();
        candidates.dedup();
        let covering: Vec<usize> = candidates
            .into_iter()
            .filter(|&b| {
                object(&objects[b])
                    .field("spec")
                    .and_then(|s| s.field("selector"))
                    .and_then(Value::as_object)
                    .is_some_and(|s| crate::policy::network::selects(s, Some(&labels)))
            })
            .collect();
        if covering.len() < 2 || !covering.iter().any(|&b| produced[b].is_some()) {
            continue;
        }
        let names: Vec<String> = covering
            .iter()
            .map(|&b| match produced[b].as_deref() {
                Some(p) => format!("{} ({})", objects[b].name(), p.source),
                None => format!("{} (written in the input)", objects[b].name()),
            })
            .collect();
        findings.push(
            Finding::warning(format!(
                "{} PodDisruptionBudgets select the pods of {}: {}; the eviction API refuses to evict a pod more than one budget covers, so node drains stall: keep one (a module workload's own is its `pdb`, `pdb: {{enabled: false}}` drops it)",
                covering.len(),
                workload(ns, o.kind(), o.name()),
                names.join(", ")
            ))
            .about(&objects[covering[covering.len() - 1]]),
        );
    }
}
