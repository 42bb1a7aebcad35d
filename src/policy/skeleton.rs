//! What the whole-set checks (`Scope::Set`) read of an object, and nothing else.
//!
//! A render streams: each object is checked on its own as soon as it is final and then leaves
//! memory (as output text). Only the checks that compare objects with each other (does a
//! NetworkPolicy select this pod, does a Service's selector find a pod that declares its port…)
//! need the whole set at once, and they get these skeletons: identity, exemption annotations,
//! selectors, replica counts and the few pod fields they compare. A 50,000-object render keeps
//! a skeleton of a Deployment instead of the Deployment.
//!
//! A set check that reads a field not kept here must add it here. The unit tests of every set
//! check run it on whole objects and on skeletons and require the same hits
//! (`policy::hits_of`), and so does a test over every golden case.

use super::network::is_custom_group;
use super::pod::pod_of;
use super::{IGNORE_ALL, IGNORE_PREFIX};
use crate::resource::{child_map, field, Resource};
use serde_json::{Map, Value};

/// Top-level fields kept (a ServiceAccount's opt-out of API tokens).
const TOP: &[&str] = &["apiVersion", "kind", "automountServiceAccountToken"];
/// `spec` fields kept: selectors, Service type and ports, replica counts, autoscaler targets,
/// NetworkPolicy types and egress rules.
const SPEC: &[&str] = &[
    "selector",
    "podSelector",
    "policyTypes",
    "egress",
    "type",
    "ports",
    "scaleTargetRef",
    "minReplicas",
    "replicas",
];
/// Pod spec fields kept: the ServiceAccount and token settings, and how the pods are spread.
const POD: &[&str] = &[
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "affinity",
    "topologySpreadConstraints",
];
/// Container lists of a pod spec; of each container only its `ports` are kept.
const CONTAINERS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// The part of `r` the whole-set checks read.
pub fn skeleton(r: &Resource) -> Resource {
    let mut out = Map::new();
    copy(&r.object, &mut out, TOP);
    if let Some(meta) = field(&r.object, "metadata").and_then(Value::as_object) {
        let mut m = Map::new();
        copy(meta, &mut m, &["name", "namespace"]);
        // Labels of the object itself are read for custom resources (whose operators may run
        // the pods a selector names) and for bare Pods (whose labels are the pod's).
        if is_custom_group(r.group()) || r.kind() == "Pod" {
            copy(meta, &mut m, &["labels"]);
        }
        if let Some(Value::Object(annotations)) = field(meta, "annotations") {
            let kept: Map<String, Value> = annotations
                .iter()
                .filter(|(k, _)| {
                    k.starts_with(IGNORE_PREFIX)
                        || *k == IGNORE_ALL
                        || *k == "config.kubernetes.io/local-config"
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !kept.is_empty() {
                m.insert("annotations".into(), Value::Object(kept));
            }
        }
        out.insert("metadata".into(), Value::Object(m));
    }
    if let Some(spec) = field(&r.object, "spec").and_then(Value::as_object) {
        let mut s = Map::new();
        copy(spec, &mut s, SPEC);
        out.insert("spec".into(), Value::Object(s));
    }
    if let Some(pod) = pod_of(r) {
        let mut spec = Map::new();
        copy(pod.spec, &mut spec, POD);
        for list in CONTAINERS {
            if let Some(Value::Array(containers)) = field(pod.spec, list) {
                let ports: Vec<Value> = containers
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|c| {
                        let mut kept = Map::new();
                        copy(c, &mut kept, &["ports"]);
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

/// The map at a dotted `path` of `map`, made on the way where missing.
fn path_map<'a>(map: &'a mut Map<String, Value>, path: &str) -> &'a mut Map<String, Value> {
    path.split('.').fold(map, |m, k| child_map(m, k))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        env: [{name: A, value: b}]
        ports: [{name: http, containerPort: 8080}]
      volumes: [{name: v, emptyDir: {}}]
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
                        "containers": [{"ports": [{"name": "http", "containerPort": 8080}]}]
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
