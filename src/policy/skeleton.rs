//! What the whole-set checks (`Scope::Set`) read of an object, and nothing else.
//!
//! A render streams: each object is checked on its own as soon as it is final and then leaves
//! memory (as output text). Only the checks that compare objects with each other (does a
//! NetworkPolicy select this pod, does a Service's selector find a pod that declares its port…)
//! need the whole set at once, and they get these skeletons: identity, exemption annotations,
//! selectors, replica counts and the few pod fields they compare. A 50,000-object render keeps
//! a skeleton of a Deployment instead of the Deployment.
//!
//! The core ConfigMaps and Secrets get no skeleton: only `dangling-env-ref` reads them, and only
//! their names and keys, which it gets packed (`references::Sources`, a tenth of a skeleton).
//!
//! A set check that reads a field not kept here must add it here. The unit tests of every set
//! check run it on whole objects and on skeletons and require the same hits
//! (`policy::hits_of`), and so does a test over the rendered objects of every example, policy
//! test case and fixture (`set_checks_agree_on_skeletons_over_every_example`).

use super::network::is_custom_group;
use super::pod::pod_of;
use super::{IGNORE_ALL, IGNORE_PREFIX};
use crate::resource::{child_map, field, Resource};
use serde_json::{Map, Value};

/// Top-level fields kept (a ServiceAccount's opt-out of API tokens).
const TOP: &[&str] = &["apiVersion", "kind", "automountServiceAccountToken"];
/// `spec` fields kept whole: selectors, Service type, replica counts, NetworkPolicy types,
/// quota limits and scopes, LimitRange items, PodDisruptionBudget bounds.
const SPEC: &[&str] = &[
    "selector",
    "podSelector",
    "policyTypes",
    "type",
    "minReplicas",
    "maxReplicas",
    "replicas",
    "parallelism",
    "hard",
    "scopes",
    "scopeSelector",
    "minAvailable",
    "maxUnavailable",
];
/// Pod spec fields kept whole: the ServiceAccount and token settings.
const POD: &[&str] = &[
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
];
/// Container lists of a pod spec; of a container only its `ports`, `resources`, `restartPolicy`
/// (a sidecar's `Always`) and the ConfigMaps and Secrets it reads (`env[].valueFrom`, `envFrom`)
/// are read.
const CONTAINERS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// The part of `r` the whole-set checks read.
pub fn skeleton(r: &Resource) -> Resource {
    let mut out = Map::new();
    copy(&r.object, &mut out, TOP);
    if let Some(meta) = field(&r.object, "metadata").and_then(Value::as_object) {
        // Labels of the object itself are read for custom resources (whose operators may run
        // the pods a selector names) and for bare Pods (whose labels are the pod's).
        let own_labels = is_custom_group(r.group()) || r.kind() == "Pod";
        let kept: Option<Map<String, Value>> = match field(meta, "annotations") {
            Some(Value::Object(annotations)) => Some(
                annotations
                    .iter()
                    .filter(|(k, _)| {
                        k.starts_with(IGNORE_PREFIX)
                            || *k == IGNORE_ALL
                            || *k == "config.kubernetes.io/local-config"
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => None,
        };
        let kept = kept.filter(|k| !k.is_empty());
        // Built at its size: a skeleton is kept to the end of the run for every object, and a
        // map grown by inserts has room for a third entry after two (112 bytes each).
        let keys: &[&str] = if own_labels {
            &["name", "namespace", "labels"]
        } else {
            &["name", "namespace"]
        };
        let size = keys.iter().filter(|k| field(meta, k).is_some()).count();
        let mut m = Map::with_capacity(size + usize::from(kept.is_some()));
        copy(meta, &mut m, keys);
        if let Some(kept) = kept {
            m.insert("annotations".into(), Value::Object(kept));
        }
        out.insert("metadata".into(), Value::Object(m));
    }
    if let Some(spec) = field(&r.object, "spec").and_then(Value::as_object) {
        let mut s = Map::new();
        copy(spec, &mut s, SPEC);
        // What an ExternalSecret makes.
        if r.kind() == "ExternalSecret" {
            copy(spec, &mut s, &["target"]);
        }
        // What an autoscaler scales, the port numbers a Service targets, and whether a
        // NetworkPolicy has egress rules at all.
        if let Some(Value::Object(target)) = field(spec, "scaleTargetRef") {
            let mut t = Map::new();
            copy(target, &mut t, &["kind", "name"]);
            s.insert("scaleTargetRef".into(), Value::Object(t));
        }
        if let Some(ports) = field(spec, "ports") {
            s.insert(
                "ports".into(),
                entries(ports, &["name", "port", "targetPort"]),
            );
        }
        if let Some(egress) = field(spec, "egress") {
            s.insert("egress".into(), lengths(egress));
        }
        // What the quota check charges: LimitRange defaults, claimed storage (of a claim, of
        // a StatefulSet's claim templates), a CronJob's job parallelism.
        if r.kind() == "LimitRange" {
            copy(spec, &mut s, &["limits"]);
        }
        if r.kind() == "PersistentVolumeClaim" {
            copy(spec, &mut s, &["resources"]);
        }
        // Where routes send traffic: an Ingress's and a Gateway API route's backends (their
        // rules whole: a set holds few of them).
        if matches!(r.kind(), "Ingress" | "HTTPRoute" | "GRPCRoute") {
            copy(spec, &mut s, &["rules", "defaultBackend", "backend"]);
        }
        if let Some(Value::Array(templates)) = field(spec, "volumeClaimTemplates") {
            let kept = templates
                .iter()
                .map(|t| {
                    let mut k = Map::new();
                    if let Some(storage) = t
                        .as_object()
                        .and_then(|t| super::pod::get(t, "spec.resources.requests.storage"))
                    {
                        path_map(&mut k, "spec.resources.requests")
                            .insert("storage".into(), storage.clone());
                    }
                    Value::Object(k)
                })
                .collect();
            s.insert("volumeClaimTemplates".into(), Value::Array(kept));
        }
        if let Some(p) = super::pod::get(spec, "jobTemplate.spec.parallelism") {
            path_map(&mut s, "jobTemplate.spec").insert("parallelism".into(), p.clone());
        }
        out.insert("spec".into(), Value::Object(s));
    }
    if let Some(pod) = pod_of(r) {
        let mut spec = Map::new();
        copy(pod.spec, &mut spec, POD);
        // Whether the pods are spread: only whether these lists have entries is read.
        if let Some(Value::Object(affinity)) = field(pod.spec, "affinity") {
            if let Some(anti) = field(affinity, "podAntiAffinity") {
                let mut a = Map::new();
                a.insert("podAntiAffinity".into(), lengths(anti));
                spec.insert("affinity".into(), Value::Object(a));
            }
        }
        if let Some(volumes) = field(pod.spec, "volumes") {
            spec.insert(
                "volumes".into(),
                entries(volumes, &["configMap", "secret", "projected"]),
            );
        }
        if let Some(spread) = field(pod.spec, "topologySpreadConstraints") {
            spec.insert("topologySpreadConstraints".into(), lengths(spread));
        }
        for list in CONTAINERS {
            if let Some(containers) = field(pod.spec, list) {
                let ports: Vec<Value> = containers
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .map(|c| {
                        let mut kept = Map::new();
                        if let Some(ports) = field(c, "ports") {
                            kept.insert("ports".into(), entries(ports, &["name", "containerPort"]));
                        }
                        copy(c, &mut kept, &["resources", "restartPolicy", "envFrom"]);
                        // The ConfigMaps and Secrets it reads (never a literal value).
                        if let Some(env) = field(c, "env") {
                            kept.insert("env".into(), entries(env, &["valueFrom"]));
                        }
                        Value::Object(kept)
                    })
                    .collect();
                spec.insert((*list).into(), Value::Array(ports));
            }
        }
        // The pod's labels: its template's, or (a bare Pod) the object's, kept above.
        let at = match pod.path.strip_suffix(".spec") {
            Some(template) => {
                let template = path_map(&mut out, template);
                if let Some(labels) = pod.labels() {
                    child_map(template, "metadata")
                        .insert("labels".into(), Value::Object(labels.clone()));
                }
                template
            }
            None => &mut out,
        };
        child_map(at, "spec").extend(spec);
    }
    Resource::new(out, r.origin.clone())
}

/// Copies the `keys` that `from` has into `to`.
fn copy(from: &Map<String, Value>, to: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = field(from, k) {
            to.insert((*k).to_string(), v.clone());
        }
    }
}

/// A list of mappings with only their `keys`; entries that are not mappings become null.
/// Anything else is kept as it is.
fn entries(list: &Value, keys: &[&str]) -> Value {
    match list {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| match item {
                    Value::Object(m) => {
                        let mut kept = Map::new();
                        copy(m, &mut kept, keys);
                        Value::Object(kept)
                    }
                    _ => Value::Null,
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `value` with every list's entries replaced by nulls: for fields of which only whether a
/// list has entries is read.
fn lengths(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(vec![Value::Null; items.len()]),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), lengths(v))).collect()),
        _ => Value::Null,
    }
}

/// The map at a dotted `path` of `map`, made on the way where missing.
fn path_map<'a>(map: &'a mut Map<String, Value>, path: &str) -> &'a mut Map<String, Value> {
    path.split('.').fold(map, |m, k| child_map(m, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{checks, Scope, SetHits, SetInput};

    /// Every whole-set check finds the same on skeletons as on whole objects, over the rendered
    /// objects of every example and policy test file.
    #[test]
    fn set_checks_agree_on_skeletons_over_every_example() {
        let files = crate::source::files::sample_files();
        let (mut compared, mut hits) = (0, 0);
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let Ok(inputs) = crate::source::parse_text(&text, &file.to_string_lossy()) else {
                continue;
            };
            let out = crate::engine::run(
                inputs,
                &crate::engine::Options::new(crate::modules::registry()),
            );
            let all: Vec<&Resource> = out.objects.iter().filter(|r| !r.is_module()).collect();
            // The core ConfigMaps and Secrets are read as sources, never as skeletons.
            let (whole, _, sources) = crate::policy::split_set(&all);
            let skeletons: Vec<Resource> = whole.iter().map(|r| skeleton(r)).collect();
            let skeletons: Vec<&Resource> = skeletons.iter().collect();
            for check in checks() {
                let Scope::Set(f) = check.scope else { continue };
                let (mut a, mut b) = (SetHits::default(), SetHits::default());
                let set = |objects| SetInput {
                    objects,
                    sources: &sources,
                };
                f(&set(&whole), &mut a);
                f(&set(&skeletons), &mut b);
                let key = |h: &crate::policy::Hit| (h.object, h.field.clone(), h.message.clone());
                let (a, b): (Vec<_>, Vec<_>) = (
                    a.list.iter().map(key).collect(),
                    b.list.iter().map(key).collect(),
                );
                assert_eq!(a, b, "{} on {}", check.id, file.display());
                hits += a.len();
            }
            compared += 1;
        }
        assert!(compared >= 40, "only {compared} files compared");
        assert!(hits >= 20, "only {hits} set-check hits compared");
    }

    #[test]
    fn a_deployment_keeps_what_set_checks_compare() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {note: long text, ignore-check.nixernetes.io/availability: one replica is fine}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {a: b}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: web:1
        env: [{name: A, value: b}, {name: C, valueFrom: {configMapKeyRef: {name: cfg, key: c}}}]
        ports: [{name: http, containerPort: 8080}]
      volumes: [{name: v, emptyDir: {}}, {name: s, secret: {secretName: tls}}]
";
        let r = crate::source::parse_text(yaml, "t.yaml").unwrap().remove(0);
        let want = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "annotations": {"ignore-check.nixernetes.io/availability": "one replica is fine"}
            },
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "replicas": 2,
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "serviceAccountName": "web",
                        // Which ConfigMaps and Secrets it reads, at their indices; no value.
                        "volumes": [{}, {"secret": {"secretName": "tls"}}],
                        "containers": [{
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "env": [{}, {"valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "c"}}}]
                        }]
                    }
                }
            }
        });
        assert_eq!(Value::Object(skeleton(&r).object), want);
    }

    #[test]
    fn a_bare_pod_keeps_its_labels_and_spec_fields() {
        let yaml = "apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: p}}
spec:
  automountServiceAccountToken: false
  containers: [{name: c, image: c, ports: [{containerPort: 80}]}]
";
        let r = crate::source::parse_text(yaml, "t.yaml").unwrap().remove(0);
        let want = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "labels": {"app": "p"}},
            "spec": {
                "automountServiceAccountToken": false,
                "containers": [{"ports": [{"containerPort": 80}]}]
            }
        });
        assert_eq!(Value::Object(skeleton(&r).object), want);
    }
}
