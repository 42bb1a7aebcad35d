//! How workloads run and roll out: `min-replicas` and `hpa-min-replicas` (one pod is an outage
//! at every restart), `rollout-strategy` (a change that takes every pod down, or never rolls
//! out), `cronjob-deadline` (a run missed during an outage starts however late),
//! `job-restart-policy` and `port-name` (what the API server refuses).
//!
//! The replica checks are advice below compliance level `medium` (a development namespace runs
//! one pod on purpose) and warnings from `medium` up. A workload an autoscaler scales (a
//! HorizontalPodAutoscaler, or a KEDA ScaledObject, which makes one) is judged by its
//! autoscaler's `minReplicas`, not by `spec.replicas`; `replicas: 0` is a workload parked on
//! purpose and not judged.
//!
//! `job-restart-policy` and `port-name` report what the API server's validation
//! (`pkg/apis/core/validation`, `pkg/apis/batch/validation`) refuses, so that the mistake shows at
//! its line instead of at apply time: a Job's pods must set `restartPolicy` to `Never` or
//! `OnFailure` (the default, `Always`, is refused), a controller's pods may only restart
//! `Always`; container port names are IANA service names (at most 15 characters) unique within
//! their container, Service port names DNS labels unique within the Service and required as
//! soon as it has two ports; port numbers are 1-65535 (`hostPort`, `nodePort` and `targetPort`
//! may be 0, which means unset), a named `targetPort` an IANA service name.

use super::availability::{bound, Bound};
use super::pod::{get, get_str, obj, pod_of};
use super::{CheckDef, Fix, HitSink, Scope, SetHits, SetInput};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

pub const MIN_REPLICAS: CheckDef = CheckDef {
    id: "min-replicas",
    summary: "Deployments and StatefulSets run at least 2 replicas, or are scaled by an autoscaler (advice below level medium)",
    pss: None,
    severity: Severity::Info,
    fix: Fix::No,
    scope: Scope::Set(min_replicas),
};

pub const HPA_MIN_REPLICAS: CheckDef = CheckDef {
    id: "hpa-min-replicas",
    summary: "HorizontalPodAutoscalers keep minReplicas at 2 or more (advice below level medium)",
    pss: None,
    severity: Severity::Info,
    fix: Fix::No,
    scope: Scope::Object(hpa_min_replicas),
};

pub const ROLLOUT_STRATEGY: CheckDef = CheckDef {
    id: "rollout-strategy",
    summary: "Deployments and DeploymentConfigs roll out without taking every pod down (no Recreate or unknown strategy type, maxUnavailable below the replicas); DaemonSets and StatefulSets roll out (no OnDelete)",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Object(rollout_strategy),
};

pub const CRONJOB_DEADLINE: CheckDef = CheckDef {
    id: "cronjob-deadline",
    summary: "CronJobs set startingDeadlineSeconds, so a run that missed its time is skipped rather than started however late",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Object(cronjob_deadline),
};

pub const ANTI_AFFINITY: CheckDef = CheckDef {
    id: "anti-affinity",
    summary: "pod anti-affinity of replicated workloads can work: every term has a topologyKey, and one term selects the workload's own pods",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Object(anti_affinity),
};

pub const JOB_RESTART_POLICY: CheckDef = CheckDef {
    id: "job-restart-policy",
    summary: "Job and CronJob pods set restartPolicy Never or OnFailure; pods of Deployments, StatefulSets, DaemonSets and ReplicaSets restart Always",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Object(job_restart_policy),
};

pub const PORT_NAME: CheckDef = CheckDef {
    id: "port-name",
    summary: "container port names are IANA service names unique per container, with a containerPort; Service port names are DNS labels, unique, and given when there are two ports or more; port numbers (containerPort, hostPort, port, targetPort, nodePort) are 1-65535",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Object(port_name),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[
    &MIN_REPLICAS,
    &HPA_MIN_REPLICAS,
    &ROLLOUT_STRATEGY,
    &CRONJOB_DEADLINE,
    &ANTI_AFFINITY,
    &JOB_RESTART_POLICY,
    &PORT_NAME,
];

/// The fewest replicas that survive the loss of one pod.
const MIN: i64 = 2;

fn min_replicas(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    // What the autoscalers of the set scale, by (namespace, kind, name).
    let mut scaled: HashSet<(Option<&str>, &str, &str)> = HashSet::new();
    for r in objects {
        let default_kind = match (r.group(), r.kind()) {
            ("autoscaling", "HorizontalPodAutoscaler") => "",
            // KEDA's scaleTargetRef.kind defaults to Deployment.
            ("keda.sh", "ScaledObject") => "Deployment",
            _ => continue,
        };
        let kind = get_str(&r.object, "spec.scaleTargetRef.kind").unwrap_or(default_kind);
        if let Some(name) = get_str(&r.object, "spec.scaleTargetRef.name") {
            scaled.insert((r.namespace(), kind, name));
        }
    }
    for (i, r) in objects.iter().enumerate() {
        if r.group() != "apps" || !matches!(r.kind(), "Deployment" | "StatefulSet") {
            continue;
        }
        if scaled.contains(&(r.namespace(), r.kind(), r.name())) {
            continue;
        }
        let replicas = get(&r.object, "spec.replicas");
        let count = match replicas {
            None => 1,
            Some(v) => match v.as_i64() {
                Some(n) => n,
                None => continue,
            },
        };
        if count == 0 || count >= MIN {
            continue;
        }
        let written = if replicas.is_some() {
            "1 replica"
        } else {
            "no spec.replicas, so 1 replica"
        };
        out.push(
            i,
            "spec.replicas",
            format!("{written}: while its pod restarts, is evicted or rolls out, nothing serves: run at least {MIN} (or scale it with an autoscaler whose minReplicas is {MIN} or more)"),
        );
    }
}

fn hpa_min_replicas(r: &Resource, out: &mut HitSink) {
    if (r.group(), r.kind()) != ("autoscaling", "HorizontalPodAutoscaler") {
        return;
    }
    let Some(spec) = obj(r.object.field("spec")) else {
        return;
    };
    let min = match spec.field("minReplicas") {
        None => 1,
        Some(v) => match v.as_i64() {
            Some(n) => n,
            None => return,
        },
    };
    if min >= MIN {
        return;
    }
    let written = if spec.contains_key("minReplicas") {
        format!("minReplicas {min}")
    } else {
        "no minReplicas (the default is 1)".to_string()
    };
    out.push(
        "spec.minReplicas",
        format!("{written}: at low load the autoscaler scales down to {}, and then a restart or an eviction is an outage: set minReplicas: {MIN}", if min <= 0 { "no pod at all".to_string() } else { "one pod".to_string() }),
    );
}

const RECREATE: &str = "strategy Recreate stops every pod before the new ones start, so each rollout is an outage: use RollingUpdate (keep Recreate only if two versions cannot run side by side, e.g. pods sharing one ReadWriteOnce volume, and exempt it saying so)";

fn rollout_strategy(r: &Resource, out: &mut HitSink) {
    let Some(spec) = obj(r.object.field("spec")) else {
        return;
    };
    if (r.group(), r.kind()) == ("apps.openshift.io", "DeploymentConfig") {
        // OpenShift's strategies: Rolling (the default), Recreate, Custom.
        match get_str(spec, "strategy.type") {
            Some("Recreate") => out.push("spec.strategy.type", RECREATE.replace("RollingUpdate", "Rolling")),
            Some(other) if !matches!(other, "Rolling" | "Custom") => out.push_error(
                "spec.strategy.type",
                format!("strategy type {other:?} is not one of Rolling, Recreate or Custom: the API server refuses it; use Rolling"),
            ),
            _ => {}
        }
        return;
    }
    if r.group() != "apps" {
        return;
    }
    match r.kind() {
        "Deployment" => {
            let strategy = obj(spec.field("strategy"));
            let kind = strategy.and_then(|s| get_str(s, "type"));
            match kind {
                Some("Recreate") => {
                    out.push("spec.strategy.type", RECREATE);
                    return;
                }
                Some(other) if other != "RollingUpdate" => {
                    out.push_error(
                        "spec.strategy.type",
                        format!("strategy type {other:?} is neither RollingUpdate nor Recreate: the API server refuses it; use RollingUpdate"),
                    );
                    return;
                }
                _ => {}
            }
            let Some(rolling) = strategy.and_then(|s| obj(s.field("rollingUpdate"))) else {
                return;
            };
            let replicas = spec
                .field("replicas")
                .map_or(Some(1), Value::as_i64)
                .unwrap_or(1);
            let unavailable = rolling.field("maxUnavailable");
            let surge = rolling.field("maxSurge");
            let zero = |v: Option<&Value>| {
                matches!(bound(v), Some(Bound::Count(0)) | Some(Bound::Percent(0)))
            };
            if unavailable.is_some() && surge.is_some() && zero(unavailable) && zero(surge) {
                out.push_error(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    "maxUnavailable and maxSurge are both 0, so no rollout could ever make progress: the API server refuses it; set maxSurge: 1 (or maxUnavailable: 1)",
                );
                return;
            }
            let all = match bound(unavailable) {
                Some(Bound::Percent(p)) => p >= 100,
                Some(Bound::Count(n)) => replicas > 0 && n >= replicas,
                None => false,
            };
            if all {
                let value = match unavailable {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => String::new(),
                };
                out.push(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    format!("maxUnavailable {value} lets a rollout take all {replicas} pod(s) down at once: keep it below the replica count (the default is 25%)"),
                );
            }
        }
        "DaemonSet" | "StatefulSet" if get_str(spec, "updateStrategy.type") == Some("OnDelete") => {
            out.push(
                "spec.updateStrategy.type",
                format!("updateStrategy OnDelete changes a pod of the {} only when someone deletes it, so a changed template never rolls out by itself: use RollingUpdate", r.kind()),
            );
        }
        _ => {}
    }
}

fn cronjob_deadline(r: &Resource, out: &mut HitSink) {
    if (r.group(), r.kind()) != ("batch", "CronJob") {
        return;
    }
    let Some(spec) = obj(r.object.field("spec")) else {
        return;
    };
    if spec.contains_key("startingDeadlineSeconds") {
        return;
    }
    out.push(
        "spec.startingDeadlineSeconds",
        "no startingDeadlineSeconds: a run missed while the controller was down or the cluster was full starts whenever it can, however late (a nightly job at noon): set startingDeadlineSeconds to how late a run may still start, e.g. 300",
    );
}

fn anti_affinity(r: &Resource, out: &mut HitSink) {
    let Some(pod) = pod_of(r) else { return };
    let Some(anti) = get(pod.spec, "affinity.podAntiAffinity").and_then(Value::as_object) else {
        return;
    };
    // (field of the term, the term): required terms are the term itself, preferred ones wrap it.
    let mut terms: Vec<(String, &serde_json::Map<String, Value>)> = Vec::new();
    for (list, inner) in [
        ("requiredDuringSchedulingIgnoredDuringExecution", false),
        ("preferredDuringSchedulingIgnoredDuringExecution", true),
    ] {
        let Some(Value::Array(items)) = anti.get(list) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let (field, term) = if inner {
                (
                    format!("affinity.podAntiAffinity.{list}[{i}].podAffinityTerm"),
                    item.field("podAffinityTerm").and_then(Value::as_object),
                )
            } else {
                (
                    format!("affinity.podAntiAffinity.{list}[{i}]"),
                    item.as_object(),
                )
            };
            if let Some(term) = term {
                terms.push((pod.at(&field), term));
            }
        }
    }
    if terms.is_empty() {
        return;
    }
    for (field, term) in &terms {
        if get_str(term, "topologyKey").is_none_or(str::is_empty) {
            out.push_error(
                format!("{field}.topologyKey"),
                "a pod anti-affinity term without topologyKey is refused by the API server: set topologyKey: kubernetes.io/hostname (one pod per node) or topology.kubernetes.io/zone",
            );
        }
    }
    // A workload of one pod has nothing of its own to spread.
    let replicas = match r.kind() {
        "Deployment"
        | "StatefulSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "DeploymentConfig"
        | "Rollout" => get(&r.object, "spec.replicas").map_or(Some(1), Value::as_i64),
        _ => None,
    };
    if replicas.is_none_or(|n| n < 2) {
        return;
    }
    let namespace = r.namespace();
    let own = terms.iter().any(|(_, term)| {
        let in_namespace = term.contains_key("namespaceSelector")
            || match term.field("namespaces") {
                Some(Value::Array(list)) if !list.is_empty() => {
                    list.iter().any(|n| n.as_str() == namespace)
                }
                _ => true,
            };
        in_namespace
            && term
                .field("labelSelector")
                .and_then(Value::as_object)
                .is_some_and(|s| super::network::selects(s, pod.labels()))
    });
    if !own {
        out.push(
            terms[0].0.clone(),
            "podAntiAffinity is set, but no term's labelSelector selects this workload's own pods, so its replicas may still share a node: add a term whose labelSelector matches the pod template's labels",
        );
    }
}

fn job_restart_policy(r: &Resource, out: &mut HitSink) {
    let job = match (r.group(), r.kind()) {
        ("batch", "Job" | "CronJob") => true,
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("", "ReplicationController") => false,
        _ => return,
    };
    let Some(pod) = pod_of(r) else { return };
    let policy = pod.spec.field("restartPolicy");
    let field = pod.at("restartPolicy");
    let written = policy.and_then(Value::as_str);
    if job {
        match written {
            Some("Never" | "OnFailure") => {}
            Some(other) => out.push(
                field,
                format!("restartPolicy {other:?}: the API server accepts only Never or OnFailure for a Job's pods: use OnFailure to retry in the same pod, Never to retry in a new one"),
            ),
            None => out.push(
                field,
                "no restartPolicy: a Job's pods must set Never or OnFailure (the pod default, Always, is refused by the API server): add restartPolicy: OnFailure or Never",
            ),
        }
    } else if let Some(other) = written.filter(|p| *p != "Always") {
        out.push(
            field,
            format!("restartPolicy {other:?}: the API server accepts only Always for the pods of a {}: remove it, or run the work as a Job", r.kind()),
        );
    }
}

fn port_name(r: &Resource, out: &mut HitSink) {
    if (r.group(), r.kind()) == ("", "Service") {
        service_ports(r, out);
        return;
    }
    let Some(pod) = pod_of(r) else { return };
    for c in pod.containers() {
        let Some(Value::Array(ports)) = c.spec.field("ports") else {
            continue;
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in ports.iter().enumerate() {
            let Some(p) = p.as_object() else { continue };
            let at = |f: &str| c.at(&format!("ports[{i}].{f}"));
            if let Some(name) = p.field("name").and_then(Value::as_str) {
                if let Err(e) = crate::validate::port_name(name) {
                    out.push(
                        at("name"),
                        format!("container {:?}: {e} (an IANA service name; the API server refuses others)", c.name()),
                    );
                } else if let Some(first) = seen.insert(name, i) {
                    out.push(
                        at("name"),
                        format!("container {:?}: port name {name:?} is also ports[{first}]'s: names are unique within a container (probes and Services naming it could not tell which)", c.name()),
                    );
                }
            }
            match p.field("containerPort") {
                None => out.push(
                    at("containerPort"),
                    format!("container {:?}: a port without containerPort is refused by the API server: give the port number", c.name()),
                ),
                Some(v) => {
                    if let Some(Err(e)) = v.as_i64().map(crate::validate::port) {
                        out.push(at("containerPort"), format!("container {:?}: {e}", c.name()));
                    }
                }
            }
            // 0 (or none) binds no host port.
            if let Some(n) = p.field("hostPort").and_then(Value::as_i64) {
                if n != 0 && crate::validate::port(n).is_err() {
                    out.push(at("hostPort"), format!("container {:?}: hostPort {n} is out of range: expected 1-65535, or 0 for none", c.name()));
                }
            }
        }
    }
}

fn service_ports(r: &Resource, out: &mut HitSink) {
    let Some(Value::Array(ports)) = get(&r.object, "spec.ports") else {
        return;
    };
    let several = ports.len() > 1;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, p) in ports.iter().enumerate() {
        let Some(p) = p.as_object() else { continue };
        service_port_numbers(p, i, out);
        let field = format!("spec.ports[{i}].name");
        match p.field("name").and_then(Value::as_str) {
            None | Some("") if several => {
                let port = p
                    .field("port")
                    .map(|v| format!(" (port {v})"))
                    .unwrap_or_default();
                out.push(
                    field,
                    format!("a Service with {} ports must name each of them, and this one{port} has no name: the API server refuses it; add a name such as \"http\"", ports.len()),
                );
            }
            None | Some("") => {}
            Some(name) => {
                if let Err(e) = crate::validate::dns1123_label(name) {
                    out.push(
                        field,
                        format!("port name {name:?}: {e} (the API server refuses others)"),
                    );
                } else if let Some(first) = seen.insert(name, i) {
                    out.push(
                        field,
                        format!("port name {name:?} is also spec.ports[{first}]'s: the API server refuses a Service with two ports of one name"),
                    );
                }
            }
        }
    }
}

/// A Service port's `port`, `targetPort` (a number or a container port's IANA name; 0 means
/// `port`) and `nodePort` (0 means allocate one) as the API server validates them.
fn service_port_numbers(p: &serde_json::Map<String, Value>, i: usize, out: &mut HitSink) {
    let at = |f: &str| format!("spec.ports[{i}].{f}");
    if let Some(Err(e)) = p
        .field("port")
        .and_then(Value::as_i64)
        .map(crate::validate::port)
    {
        out.push(at("port"), e);
    }
    match p.field("targetPort") {
        Some(Value::Number(n)) => {
            if let Some(n) = n
                .as_i64()
                .filter(|n| *n != 0 && crate::validate::port(*n).is_err())
            {
                out.push(at("targetPort"), format!("targetPort {n} is out of range: expected 1-65535 or a container port's name"));
            }
        }
        Some(Value::String(name)) if !name.is_empty() => {
            if let Err(e) = crate::validate::port_name(name) {
                out.push(
                    at("targetPort"),
                    format!("targetPort: {e}, or a port number (the API server refuses others)"),
                );
            }
        }
        _ => {}
    }
    if let Some(n) = p.field("nodePort").and_then(Value::as_i64) {
        if n != 0 && crate::validate::port(n).is_err() {
            out.push(
                at("nodePort"),
                format!(
                    "nodePort {n} is out of range: expected 1-65535, or 0 to have one allocated"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{expect_hits as expect, hits_of};

    fn deployment(name: &str, spec: &str) -> String {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n{spec}  template:\n    spec:\n      containers: [{{name: app, image: app:1.0}}]\n---\n")
    }

    #[test]
    fn min_replicas_counts_the_default_and_skips_what_an_autoscaler_scales() {
        let yaml = format!(
            "{}{}{}{}{}{}apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: scaled, namespace: shop}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: scaled}}
  minReplicas: 1
  maxReplicas: 4
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: keda, namespace: shop}}
spec:
  scaleTargetRef: {{name: keda}}
",
            deployment("one", "  replicas: 1\n"),
            deployment("default", ""),
            deployment("two", "  replicas: 2\n"),
            deployment("parked", "  replicas: 0\n"),
            deployment("scaled", "  replicas: 1\n"),
            deployment("keda", ""),
        );
        expect(
            &MIN_REPLICAS,
            &yaml,
            &[
                ("one", "spec.replicas", "1 replica: while its pod restarts"),
                ("default", "spec.replicas", "no spec.replicas, so 1 replica"),
            ],
        );
        // The autoscaler's own minimum is the other check's.
        expect(
            &HPA_MIN_REPLICAS,
            &yaml,
            &[("scaled", "spec.minReplicas", "minReplicas 1")],
        );
    }

    #[test]
    fn hpa_min_replicas_reads_the_default() {
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 5\n";
        expect(
            &HPA_MIN_REPLICAS,
            hpa,
            &[("h", "spec.minReplicas", "no minReplicas (the default is 1)")],
        );
        let two = hpa.replace("maxReplicas: 5", "maxReplicas: 5\n  minReplicas: 2");
        assert!(hits_of(&HPA_MIN_REPLICAS, &two).is_empty());
    }

    #[test]
    fn rollout_strategy_finds_outages_and_rollouts_that_never_happen() {
        let yaml = format!(
            "{}{}{}{}{}apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  updateStrategy: {{type: OnDelete}}
  template: {{spec: {{containers: [{{name: a, image: a:1}}]}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  updateStrategy: {{type: RollingUpdate}}
  template: {{spec: {{containers: [{{name: a, image: a:1}}]}}}}
",
            deployment("recreate", "  strategy: {type: Recreate}\n"),
            deployment(
                "all",
                "  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: 3}}\n"
            ),
            deployment(
                "percent",
                "  strategy: {rollingUpdate: {maxUnavailable: \"100%\"}}\n"
            ),
            deployment(
                "stuck",
                "  strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: \"0%\"}}\n"
            ),
            deployment(
                "fine",
                "  replicas: 4\n  strategy: {rollingUpdate: {maxUnavailable: 1, maxSurge: 0}}\n"
            ),
        );
        expect(
            &ROLLOUT_STRATEGY,
            &yaml,
            &[
                (
                    "recreate",
                    "spec.strategy.type",
                    "each rollout is an outage",
                ),
                (
                    "all",
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    "maxUnavailable 3 lets a rollout take all 3 pod(s) down",
                ),
                (
                    "percent",
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    "maxUnavailable 100%",
                ),
                (
                    "stuck",
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    "the API server refuses it",
                ),
                ("agent", "spec.updateStrategy.type", "never rolls out"),
            ],
        );
    }

    #[test]
    fn rollout_strategy_reads_unknown_types_and_deployment_configs() {
        let config = |name: &str, strategy: &str| {
            format!("apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  replicas: 2\n  strategy: {{type: {strategy}}}\n  template: {{spec: {{containers: [{{name: a, image: a:1}}]}}}}\n---\n")
        };
        let yaml = format!(
            "{}{}{}{}{}{}",
            deployment("other", "  strategy: {type: Other}\n"),
            deployment("rolling", "  strategy: {type: RollingUpdate}\n"),
            config("dc-recreate", "Recreate"),
            config("dc-other", "Other"),
            config("dc-rolling", "Rolling"),
            config("dc-custom", "Custom"),
        );
        expect(
            &ROLLOUT_STRATEGY,
            &yaml,
            &[
                (
                    "other",
                    "spec.strategy.type",
                    "strategy type \"Other\" is neither RollingUpdate nor Recreate: the API server refuses it",
                ),
                (
                    "dc-recreate",
                    "spec.strategy.type",
                    "each rollout is an outage: use Rolling ",
                ),
                (
                    "dc-other",
                    "spec.strategy.type",
                    "strategy type \"Other\" is not one of Rolling, Recreate or Custom",
                ),
            ],
        );
        let severities: Vec<_> = crate::policy::findings_of("rollout-strategy", &yaml)
            .into_iter()
            .map(|f| f.severity)
            .collect();
        assert_eq!(
            severities,
            [Severity::Error, Severity::Warning, Severity::Error]
        );
    }

    #[test]
    fn cronjob_deadline_and_job_restart_policy() {
        let cron = "apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: c, image: c:1}]
";
        expect(
            &CRONJOB_DEADLINE,
            cron,
            &[("nightly", "spec.startingDeadlineSeconds", "however late")],
        );
        let with = cron.replace(
            "spec:\n  schedule",
            "spec:\n  startingDeadlineSeconds: 300\n  schedule",
        );
        assert!(hits_of(&CRONJOB_DEADLINE, &with).is_empty());
        expect(
            &JOB_RESTART_POLICY,
            cron,
            &[(
                "nightly",
                "spec.jobTemplate.spec.template.spec.restartPolicy",
                "no restartPolicy",
            )],
        );
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec:\n      restartPolicy: Always\n      containers: [{name: c, image: c:1}]\n";
        expect(
            &JOB_RESTART_POLICY,
            job,
            &[(
                "once",
                "spec.template.spec.restartPolicy",
                "restartPolicy \"Always\"",
            )],
        );
        assert!(hits_of(&JOB_RESTART_POLICY, &job.replace("Always", "OnFailure")).is_empty());
        let deploy =
            deployment("web", "").replace("    spec:\n", "    spec:\n      restartPolicy: Never\n");
        expect(
            &JOB_RESTART_POLICY,
            &deploy,
            &[("web", "spec.template.spec.restartPolicy", "only Always")],
        );
        assert!(hits_of(&JOB_RESTART_POLICY, &deployment("web", "")).is_empty());
    }

    #[test]
    fn anti_affinity_must_spread_the_workload_itself() {
        let spec = |terms: &str| {
            format!(
                "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  replicas: 3
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      affinity:
        podAntiAffinity:
{terms}      containers: [{{name: app, image: app:1}}]
"
            )
        };
        let own = "          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector: {matchLabels: {app: web}}
";
        let other = "          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: kubernetes.io/hostname
            labelSelector: {matchLabels: {app: db}}
";
        let keyless = "          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
";
        assert!(hits_of(&ANTI_AFFINITY, &spec(own)).is_empty());
        assert!(hits_of(&ANTI_AFFINITY, &spec(&format!("{other}{own}"))).is_empty());
        expect(
            &ANTI_AFFINITY,
            &spec(other),
            &[(
                "web",
                "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]",
                "no term's labelSelector selects this workload's own pods",
            )],
        );
        expect(
            &ANTI_AFFINITY,
            &spec(keyless),
            &[(
                "web",
                "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
                "without topologyKey",
            )],
        );
        // Its own pods, but in another namespace only.
        let elsewhere = own.replace(
            "topologyKey: kubernetes.io/hostname\n",
            "topologyKey: kubernetes.io/hostname\n              namespaces: [other]\n",
        );
        assert_eq!(hits_of(&ANTI_AFFINITY, &spec(&elsewhere)).len(), 1);
        // One replica has nothing of its own to spread.
        let single = spec(other).replace("replicas: 3", "replicas: 1");
        assert!(hits_of(&ANTI_AFFINITY, &single).is_empty());
    }

    #[test]
    fn port_name_follows_the_api_server() {
        let pod = "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: app:1
    ports:
    - {name: http, containerPort: 8080}
    - {name: http, containerPort: 8081}
    - {name: metrics-endpoint-x, containerPort: 9090}
    - {name: Admin, containerPort: 9091}
    - {name: grpc}
    - {containerPort: 70000}
  - name: side
    image: side:1
    ports: [{name: http, containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports:
  - {name: http, port: 80}
  - {port: 81}
  - {name: http, port: 82}
  - {name: Bad_Name, port: 83}
---
apiVersion: v1
kind: Service
metadata: {name: single}
spec:
  ports: [{port: 80}]
";
        expect(
            &PORT_NAME,
            pod,
            &[
                (
                    "p",
                    "spec.containers[0].ports[1].name",
                    "is also ports[0]'s",
                ),
                (
                    "p",
                    "spec.containers[0].ports[2].name",
                    "invalid port name \"metrics-endpoint-x\"",
                ),
                (
                    "p",
                    "spec.containers[0].ports[3].name",
                    "invalid port name \"Admin\"",
                ),
                (
                    "p",
                    "spec.containers[0].ports[4].containerPort",
                    "without containerPort",
                ),
                ("p", "spec.containers[0].ports[5].containerPort", "70000"),
                (
                    "s",
                    "spec.ports[1].name",
                    "must name each of them, and this one (port 81)",
                ),
                ("s", "spec.ports[2].name", "is also spec.ports[0]'s"),
                ("s", "spec.ports[3].name", "port name \"Bad_Name\""),
            ],
        );
    }

    #[test]
    fn port_numbers_are_in_range() {
        let yaml = "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: app:1
    ports:
    - {containerPort: 80, hostPort: 0}
    - {containerPort: 81, hostPort: 65536}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: NodePort
  ports:
  - {name: a, port: 0, targetPort: 0, nodePort: 0}
  - {name: b, port: 80, targetPort: 70000, nodePort: -1}
  - {name: c, port: 81, targetPort: Web_Port}
  - {name: d, port: 82, targetPort: http, nodePort: 30080}
";
        expect(
            &PORT_NAME,
            yaml,
            &[
                (
                    "p",
                    "spec.containers[0].ports[1].hostPort",
                    "hostPort 65536 is out of range",
                ),
                ("s", "spec.ports[0].port", "port 0 is out of range"),
                (
                    "s",
                    "spec.ports[1].targetPort",
                    "targetPort 70000 is out of range",
                ),
                ("s", "spec.ports[1].nodePort", "nodePort -1 is out of range"),
                (
                    "s",
                    "spec.ports[2].targetPort",
                    "invalid port name \"Web_Port\"",
                ),
            ],
        );
    }
}
