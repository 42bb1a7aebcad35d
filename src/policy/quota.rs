//! The quota check, id 39 of the check table: the rendered workloads of a namespace fit the
//! ResourceQuotas rendered for it (whether a `Tenant` or `NamespaceQuota` wrote them or a user
//! did), so that no rollout stalls on `exceeded quota`. A whole-set check: it needs every
//! workload of the namespace, its LimitRanges and its quotas at once.
//!
//! What a namespace's pods need is computed as the quota admission controller charges it:
//!
//! - per pod, the sum over its containers, or the largest init container if that is more
//!   (init containers run one at a time before the others; sidecars, init containers with
//!   `restartPolicy: Always`, keep running and are added to both);
//! - a container's request is its own, else its limit (the API server copies it), else the
//!   default request of a LimitRange of the namespace; its limit is its own, else the LimitRange
//!   default (which itself defaults to the LimitRange max);
//! - times the replicas: `spec.replicas` (1 when absent), an autoscaler's `maxReplicas` when
//!   one scales the workload (the quota must let it grow), a Job's `parallelism`. DaemonSets are
//!   left out (their count is the number of nodes) and so are quotas with `scopes` or a
//!   `scopeSelector` (they charge only some pods);
//! - `requests.storage`: the PersistentVolumeClaims and, per replica, the StatefulSets'
//!   `volumeClaimTemplates`.
//!
//! Keys checked: `requests.cpu` (or `cpu`), `requests.memory` (or `memory`),
//! `requests.ephemeral-storage` (or `ephemeral-storage`), `limits.cpu`, `limits.memory`,
//! `limits.ephemeral-storage`, `requests.storage` and `pods`. Besides a sum above the hard
//! limit, it reports containers that set no value for a compute key the quota tracks when no
//! LimitRange supplies one: the API server refuses such pods outright. Rolling updates need room
//! for their surge pods on top of this; the check does not count them.

use super::pod::{get, get_str, obj, pod_of};
use super::{CheckDef, Fix, Scope, SetHits, SetInput};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use crate::validate::quantity::parse;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const RESOURCE_QUOTA_FIT: CheckDef = CheckDef {
    id: "resource-quota-fit",
    summary: "the requests and limits of a namespace's rendered workloads fit its ResourceQuotas, and every container sets what a quota tracks",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Set(resource_quota_fit),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&RESOURCE_QUOTA_FIT];

/// A compute key of a quota: `(requests or limits, resource)`.
fn compute_key(key: &str) -> Option<(Part, &str)> {
    let (part, resource) = match key.split_once('.') {
        Some(("requests", r)) => (Part::Requests, r),
        Some(("limits", r)) => (Part::Limits, r),
        None => (Part::Requests, key),
        _ => return None,
    };
    matches!(resource, "cpu" | "memory" | "ephemeral-storage").then_some((part, resource))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Requests,
    Limits,
}

/// The defaults a namespace's LimitRanges give containers: `(requests, limits)` by resource.
#[derive(Default)]
struct Defaults {
    requests: HashMap<String, f64>,
    limits: HashMap<String, f64>,
}

impl Defaults {
    /// Adds the Container items of a LimitRange (the first default of a resource wins).
    fn add(&mut self, limit_range: &Resource) {
        let items = get(&limit_range.object, "spec.limits").and_then(Value::as_array);
        for item in items.into_iter().flatten().filter_map(Value::as_object) {
            if item.field("type").and_then(Value::as_str) != Some("Container") {
                continue;
            }
            let values = |key: &str| -> Vec<(String, f64)> {
                obj(item.get(key))
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.clone(), quantity(v)?)))
                    .collect()
            };
            // The API server defaults `default` to `max`, and `defaultRequest` to `default`.
            let mut limits = values("max");
            limits.extend(values("default"));
            let mut requests = limits.clone();
            requests.extend(values("defaultRequest"));
            for (k, v) in limits {
                self.limits.entry(k).or_insert(v);
            }
            for (k, v) in requests {
                self.requests.entry(k).or_insert(v);
            }
        }
    }
}

fn quantity(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => parse(s),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// A container's value of `resource` under `part`, after defaulting; `None` when it has none.
fn container_value(
    c: &Map<String, Value>,
    part: Part,
    resource: &str,
    defaults: Option<&Defaults>,
) -> Option<f64> {
    let own = |p: &str| {
        obj(c.field("resources"))
            .and_then(|r| obj(r.get(p)))
            .and_then(|m| m.get(resource))
            .and_then(quantity)
    };
    match part {
        Part::Requests => own("requests")
            .or_else(|| own("limits"))
            .or_else(|| defaults.and_then(|d| d.requests.get(resource).copied())),
        Part::Limits => {
            own("limits").or_else(|| defaults.and_then(|d| d.limits.get(resource).copied()))
        }
    }
}

/// What one pod is charged for `(part, resource)`, and whether some container has no value.
fn pod_value(
    spec: &Map<String, Value>,
    part: Part,
    resource: &str,
    defaults: Option<&Defaults>,
) -> (f64, bool) {
    let mut missing = false;
    let mut value = |c: &Value| -> f64 {
        let Some(c) = c.as_object() else { return 0.0 };
        container_value(c, part, resource, defaults).unwrap_or_else(|| {
            missing = true;
            0.0
        })
    };
    let list = |key: &str| {
        spec.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    let regular: f64 = list("containers").map(&mut value).sum();
    let (mut sidecars, mut init_peak) = (0.0f64, 0.0f64);
    for c in list("initContainers") {
        let v = value(c);
        if get_str(c.as_object().unwrap_or(&Map::new()), "restartPolicy") == Some("Always") {
            sidecars += v;
            init_peak = init_peak.max(sidecars);
        } else {
            init_peak = init_peak.max(sidecars + v);
        }
    }
    ((regular + sidecars).max(init_peak), missing)
}

fn int_at(r: &Resource, path: &str) -> Option<f64> {
    get(&r.object, path)
        .and_then(Value::as_i64)
        .map(|n| n as f64)
}

/// How many pods of `r` run at once, and how that was counted (for the message); `None` for
/// objects whose count is not known (DaemonSets) or that run no pods (PodTemplates).
fn replicas(
    r: &Resource,
    scaled: &HashMap<(Option<&str>, &str, &str), f64>,
) -> Option<(f64, String)> {
    match (r.group(), r.kind()) {
        ("apps", "DaemonSet") | ("", "PodTemplate") => None,
        ("", "Pod") => Some((1.0, String::new())),
        ("batch", "Job") => {
            let n = int_at(r, "spec.parallelism").unwrap_or(1.0);
            Some((n, String::new()))
        }
        ("batch", "CronJob") => {
            let n = int_at(r, "spec.jobTemplate.spec.parallelism").unwrap_or(1.0);
            Some((n, String::new()))
        }
        _ => match scaled.get(&(r.namespace(), r.kind(), r.name())) {
            Some(&max) => Some((max, " at its autoscaler's maximum".into())),
            None => Some((int_at(r, "spec.replicas").unwrap_or(1.0), String::new())),
        },
    }
}

/// The storage a claim template or claim requests.
fn claim_storage(claim: &Value) -> f64 {
    claim
        .as_object()
        .and_then(|c| get(c, "spec.resources.requests.storage"))
        .and_then(quantity)
        .unwrap_or(0.0)
}

/// A quantity as a person reads it: cores or millicores for CPU, binary units for bytes.
fn show(resource: &str, v: f64) -> String {
    if resource == "cpu" {
        let milli = (v * 1000.0).round() as i64;
        return if milli % 1000 == 0 {
            (milli / 1000).to_string()
        } else {
            format!("{milli}m")
        };
    }
    if resource == "pods" {
        return format!("{}", v.round() as i64);
    }
    let units = [
        ("Ti", 1024f64.powi(4)),
        ("Gi", 1024f64.powi(3)),
        ("Mi", 1024f64.powi(2)),
        ("Ki", 1024.0),
    ];
    let fits = units.iter().filter(|(_, size)| v >= *size);
    // The largest unit that gives a whole number, else the largest with one decimal.
    if let Some((unit, size)) = fits
        .clone()
        .find(|(_, size)| ((v / size) - (v / size).round()).abs() < 1e-9)
    {
        return format!("{}{unit}", (v / size).round() as i64);
    }
    if let Some((unit, size)) = fits.clone().next() {
        return format!("{:.1}{unit}", v / size);
    }
    format!("{}", v.round() as i64)
}

/// One workload's share of a key: `(object index, "Deployment/web", replicas, per pod, note)`.
struct Share {
    label: String,
    replicas: f64,
    per_pod: f64,
    note: String,
}

fn resource_quota_fit(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let mut defaults: HashMap<Option<&str>, Defaults> = HashMap::new();
    let mut scaled: HashMap<(Option<&str>, &str, &str), f64> = HashMap::new();
    let mut quotas: Vec<usize> = Vec::new();
    for (i, r) in objects.iter().enumerate() {
        match (r.group(), r.kind()) {
            ("", "LimitRange") => defaults.entry(r.namespace()).or_default().add(r),
            ("", "ResourceQuota") => quotas.push(i),
            ("autoscaling", "HorizontalPodAutoscaler") => {
                let kind = get_str(&r.object, "spec.scaleTargetRef.kind").unwrap_or("");
                let name = get_str(&r.object, "spec.scaleTargetRef.name").unwrap_or("");
                if let Some(max) = int_at(r, "spec.maxReplicas") {
                    scaled.insert((r.namespace(), kind, name), max);
                }
            }
            _ => {}
        }
    }
    for q in quotas {
        let quota = objects[q];
        let spec = obj(quota.object.field("spec"));
        let scoped = spec.is_some_and(|s| {
            matches!(s.field("scopes"), Some(Value::Array(a)) if !a.is_empty())
                || s.field("scopeSelector").is_some_and(|v| !v.is_null())
        });
        let Some(hard) = spec.and_then(|s| obj(s.field("hard"))) else {
            continue;
        };
        if scoped {
            continue;
        }
        let ns = quota.namespace();
        let ns_defaults = defaults.get(&ns);
        let mut keys: Vec<(&String, f64)> = hard
            .iter()
            .filter_map(|(k, v)| Some((k, quantity(v)?)))
            .collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (key, limit) in keys {
            let mut shares: Vec<Share> = Vec::new();
            let mut missing: Vec<String> = Vec::new();
            let resource = match compute_key(key) {
                Some((_, r)) => r,
                None if key == "pods" || key == "requests.storage" => key.as_str(),
                None => continue,
            };
            for r in objects.iter().filter(|r| r.namespace() == ns) {
                let label = format!("{}/{}", r.kind(), r.name());
                if key == "requests.storage" {
                    let per_pod: f64 = match r.kind() {
                        "PersistentVolumeClaim" if r.group().is_empty() => {
                            let v = claim_storage(&Value::Object(r.object.clone()));
                            if v > 0.0 {
                                shares.push(Share {
                                    label,
                                    replicas: 1.0,
                                    per_pod: v,
                                    note: String::new(),
                                });
                            }
                            continue;
                        }
                        "StatefulSet" if r.group() == "apps" => {
                            get(&r.object, "spec.volumeClaimTemplates")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .map(claim_storage)
                                .sum()
                        }
                        _ => continue,
                    };
                    if per_pod > 0.0 {
                        if let Some((n, note)) = replicas(r, &scaled) {
                            shares.push(Share {
                                label,
                                replicas: n,
                                per_pod,
                                note,
                            });
                        }
                    }
                    continue;
                }
                let Some(pod) = pod_of(r) else { continue };
                let Some((n, note)) = replicas(r, &scaled) else {
                    continue;
                };
                let (per_pod, lacks) = match compute_key(key) {
                    Some((part, res)) => pod_value(pod.spec, part, res, ns_defaults),
                    None => (1.0, false),
                };
                if lacks {
                    missing.push(label.clone());
                }
                if per_pod > 0.0 && n > 0.0 {
                    shares.push(Share {
                        label,
                        replicas: n,
                        per_pod,
                        note,
                    });
                }
            }
            let field = format!("spec.hard.{key}");
            if !missing.is_empty() {
                let (part, res) = compute_key(key).expect("only compute keys lack values");
                let part = if part == Part::Requests {
                    "request"
                } else {
                    "limit"
                };
                out.push(
                    q,
                    field.clone(),
                    format!(
                        "the quota tracks {key}, but containers of {} set no {res} {part} and no LimitRange of the namespace gives a default: the API server refuses their pods",
                        missing.join(", ")
                    ),
                );
            }
            let total: f64 = shares.iter().map(|s| s.replicas * s.per_pod).sum();
            if total > limit * (1.0 + 1e-9) {
                let parts: Vec<String> = shares
                    .iter()
                    .map(|s| {
                        if key == "pods" {
                            format!("{} {}{}", s.label, show("pods", s.replicas), s.note)
                        } else {
                            format!(
                                "{} {} × {}{}",
                                s.label,
                                show("pods", s.replicas),
                                show(resource, s.per_pod),
                                s.note
                            )
                        }
                    })
                    .collect();
                let namespace = ns
                    .map(|n| format!("namespace {n}"))
                    .unwrap_or("the namespace".into());
                out.push(
                    q,
                    field,
                    format!(
                        "the workloads of {namespace} need {} {key}, above the quota's {}: {}; pods beyond the quota are refused",
                        show(resource, total),
                        show(resource, limit),
                        parts.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{expect_hits, hits_of};

    fn deployment(name: &str, replicas: u32, containers: &str) -> String {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: team}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
{containers}
---
"
        )
    }

    const QUOTA: &str = "apiVersion: v1
kind: ResourceQuota
metadata: {name: budget, namespace: team}
spec:
  hard: {requests.cpu: '2', limits.memory: 4Gi, pods: '6', cpu: 2500m}
";

    #[test]
    fn sums_replicas_times_pods_and_names_the_workloads() {
        let web = deployment(
            "web",
            5,
            "      containers:
      - {name: a, image: a, resources: {requests: {cpu: 300m}, limits: {memory: 1Gi}}}
      - {name: b, image: b, resources: {limits: {cpu: 200m, memory: 256Mi}}}",
        );
        let yaml = format!("{web}{QUOTA}");
        expect_hits(
            &RESOURCE_QUOTA_FIT,
            &yaml,
            &[
                (
                    "budget",
                    "spec.hard.limits.memory",
                    "the workloads of namespace team need 6400Mi limits.memory, above the quota's 4Gi: Deployment/web 5 × 1280Mi; pods beyond the quota are refused",
                ),
                (
                    "budget",
                    "spec.hard.requests.cpu",
                    "need 2500m requests.cpu, above the quota's 2: Deployment/web 5 × 500m",
                ),
            ],
        );
    }

    #[test]
    fn init_containers_count_as_their_maximum_and_sidecars_add_up() {
        // Regular 100m; init 1 and 800m one after the other: the pod needs 800m, not 1900m.
        let job = "apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: team}
spec:
  parallelism: 3
  template:
    spec:
      initContainers:
      - {name: i1, image: i, resources: {requests: {cpu: '1'}}}
      - {name: i2, image: i, resources: {requests: {cpu: 800m}}}
      containers:
      - {name: c, image: c, resources: {requests: {cpu: 100m}}}
---
";
        let quota = "apiVersion: v1
kind: ResourceQuota
metadata: {name: budget, namespace: team}
spec: {hard: {requests.cpu: 2900m}}
";
        expect_hits(
            &RESOURCE_QUOTA_FIT,
            &format!("{job}{quota}"),
            &[(
                "budget",
                "spec.hard.requests.cpu",
                "need 3 requests.cpu, above the quota's 2900m: Job/migrate 3 × 1",
            )],
        );
        // A sidecar (restartPolicy: Always) runs beside the regular containers.
        let sidecar = job.replace(
            "- {name: i2, image: i, resources: {requests: {cpu: 800m}}}",
            "- {name: i2, image: i, restartPolicy: Always, resources: {requests: {cpu: 800m}}}",
        );
        // Peak: max(i1 1000m, i2 800m, regular 100m + sidecar 800m) = 1000m: still 3 × 1.
        let quota = quota.replace("2900m", "3");
        assert_eq!(
            hits_of(&RESOURCE_QUOTA_FIT, &format!("{sidecar}{quota}")),
            vec![]
        );
        let heavier = sidecar.replace("cpu: 100m", "cpu: 300m");
        expect_hits(
            &RESOURCE_QUOTA_FIT,
            &format!("{heavier}{quota}"),
            &[("budget", "spec.hard.requests.cpu", "Job/migrate 3 × 1100m")],
        );
    }

    #[test]
    fn limit_range_defaults_fill_in_and_missing_values_are_refusals() {
        let bare = deployment("bare", 2, "      containers: [{name: c, image: c}]");
        let quota = "apiVersion: v1
kind: ResourceQuota
metadata: {name: budget, namespace: team}
spec: {hard: {requests.memory: 1Gi, pods: '1'}}
";
        expect_hits(
            &RESOURCE_QUOTA_FIT,
            &format!("{bare}{quota}"),
            &[
                (
                    "budget",
                    "spec.hard.pods",
                    "need 2 pods, above the quota's 1: Deployment/bare 2",
                ),
                (
                    "budget",
                    "spec.hard.requests.memory",
                    "containers of Deployment/bare set no memory request and no LimitRange",
                ),
            ],
        );
        let limits = "apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: team}
spec: {limits: [{type: Container, max: {memory: 768Mi}}]}
---
";
        // The max is the default limit, and so the default request.
        expect_hits(
            &RESOURCE_QUOTA_FIT,
            &format!("{limits}{bare}{}", quota.replace("pods: '1'", "pods: '2'")),
            &[(
                "budget",
                "spec.hard.requests.memory",
                "need 1536Mi requests.memory, above the quota's 1Gi: Deployment/bare 2 × 768Mi",
            )],
        );
    }

    #[test]
    fn autoscaler_maximum_storage_and_other_namespaces() {
        let web = deployment(
            "web",
            2,
            "      containers: [{name: c, image: c, resources: {requests: {cpu: '1'}}}]",
        );
        let hpa = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: team}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 5}
---
";
        let other = web
            .replace("namespace: team", "namespace: elsewhere")
            .replace("name: web", "name: far");
        let db = "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team}
spec:
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: c, resources: {requests: {cpu: 100m}}}]}
  volumeClaimTemplates:
  - {metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared, namespace: team}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 5Gi}}}
---
";
        let quota = "apiVersion: v1
kind: ResourceQuota
metadata: {name: budget, namespace: team}
spec: {hard: {requests.cpu: '4', requests.storage: 30Gi}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: scoped, namespace: team}
spec: {hard: {requests.cpu: '1'}, scopes: [BestEffort]}
";
        expect_hits(
            &RESOURCE_QUOTA_FIT,
            &format!("{web}{hpa}{other}{db}{quota}"),
            &[
                ("budget", "spec.hard.requests.cpu", "need 5300m requests.cpu, above the quota's 4: Deployment/web 5 × 1 at its autoscaler's maximum, StatefulSet/db 3 × 100m"),
                ("budget", "spec.hard.requests.storage", "need 35Gi requests.storage, above the quota's 30Gi: StatefulSet/db 3 × 10Gi, PersistentVolumeClaim/shared 1 × 5Gi"),
            ],
        );
    }

    #[test]
    fn fitting_workloads_pass() {
        let web = deployment(
            "web",
            2,
            "      containers: [{name: c, image: c, resources: {requests: {cpu: 500m}, limits: {memory: 1Gi}}}]",
        );
        assert_eq!(
            hits_of(&RESOURCE_QUOTA_FIT, &format!("{web}{QUOTA}")),
            vec![]
        );
        assert_eq!(show("cpu", 1.5), "1500m");
        assert_eq!(show("memory", 3.0 * 1024f64.powi(3)), "3Gi");
    }
}
