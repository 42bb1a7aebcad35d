//! Identity of emitted objects: metadata, app selector labels, and the conversion of typed
//! `k8s-openapi` objects into the JSON values the engine handles, in the conventional key order.

use crate::kind::Problems;
use crate::validate;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The selector labels of a workload: `app.kubernetes.io/name: <name>`.
pub fn selector_labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_string(), name.to_string())])
}

/// The label selector of a workload's pods.
pub fn selector(name: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(name)),
        ..Default::default()
    }
}

/// The selector labels as a JSON map (for NetworkPolicy targets).
pub fn selector_map(name: &str) -> Map<String, Value> {
    selector_labels(name)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

/// Metadata of a child object: name, namespace and the app labels.
pub fn meta(name: &str, namespace: &str, app: &str, component: Option<&str>) -> ObjectMeta {
    let mut labels = selector_labels(app);
    if let Some(c) = component {
        labels.insert("app.kubernetes.io/component".into(), c.into());
    }
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(namespace.into()),
        labels: Some(labels),
        ..Default::default()
    }
}

/// Serializes a typed object into the JSON value the engine handles, with the conventional key
/// order (`apiVersion`, `kind`, `metadata` first; `name`, `namespace` first in metadata).
pub fn to_value<T: serde::Serialize>(obj: &T) -> Value {
    let value = serde_json::to_value(obj).expect("k8s-openapi objects always serialize");
    match value {
        Value::Object(map) => Value::Object(front(map, &["apiVersion", "kind", "metadata"])),
        other => other,
    }
}

/// `map` with `keys` moved to the front (in that order); `metadata` gets the same treatment.
fn front(mut map: Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = map.remove(*k) {
            let v = match (k, v) {
                (&"metadata", Value::Object(m)) => {
                    Value::Object(front(m, &["name", "namespace", "labels", "annotations"]))
                }
                (_, v) => v,
            };
            out.insert((*k).to_string(), v);
        }
    }
    out.extend(map);
    out
}

/// Checks that the resource's name plus the longest suffix its kind appends still makes a
/// valid object name, and that it can name a Service (a DNS-1035 label: it starts with a
/// letter). The engine has already said when the name is missing or not a DNS-1123 label; one
/// cause gives one error.
pub fn check_name_room(suffix: &str, p: &mut Problems<'_>) {
    let name = p.module().name;
    if name.is_empty() || validate::dns1123_label(name).is_err() {
        return;
    }
    let full = format!("{name}{suffix}");
    if full.len() > 63 {
        p.fail(
            "metadata.name",
            format!("name is too long: {full:?} (derived from it) must stay within 63 characters"),
        );
    }
    p.check("metadata.name", validate::dns1035_label(name));
}
