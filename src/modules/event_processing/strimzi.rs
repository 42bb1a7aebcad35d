//! What the Strimzi kinds (`KafkaCluster`, `KafkaTopic`, `KafkaUser`) share: the labels Strimzi
//! reads and puts on its pods, the names it derives from a cluster's name, and the value type of
//! Kafka's flat, dotted configuration keys (`retention.ms: 604800000` stays one key).

use crate::kind::Problems;
use crate::validate;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The label that ties a Strimzi resource (node pool, topic, user) to its `Kafka`.
pub const CLUSTER_LABEL: &str = "strimzi.io/cluster";

/// The labels Strimzi puts on every node pod of `cluster`, and selects them by.
pub fn node_selector(cluster: &str) -> serde_json::Map<String, Value> {
    let mut s = serde_json::Map::new();
    s.insert(CLUSTER_LABEL.into(), json!(cluster));
    s.insert("strimzi.io/kind".into(), json!("Kafka"));
    s.insert("strimzi.io/name".into(), json!(format!("{cluster}-kafka")));
    s
}

/// The labels of the entity operator's pod.
pub fn entity_operator_selector(cluster: &str) -> serde_json::Map<String, Value> {
    let mut s = serde_json::Map::new();
    s.insert(CLUSTER_LABEL.into(), json!(cluster));
    s.insert("strimzi.io/kind".into(), json!("Kafka"));
    s.insert(
        "strimzi.io/name".into(),
        json!(format!("{cluster}-entity-operator")),
    );
    s
}

/// The value of one Kafka configuration key: a string, a number or a boolean, as Kafka's own
/// `server.properties` / topic configs take them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

impl ConfigValue {
    /// The value as Kafka reads it in a properties file.
    pub fn text(&self) -> String {
        match self {
            ConfigValue::Bool(b) => b.to_string(),
            ConfigValue::Number(n) => n.to_string(),
            ConfigValue::String(s) => s.clone(),
        }
    }

    /// The value as an integer, if it is one (written as a number or a string of digits).
    pub fn int(&self) -> Option<i64> {
        match self {
            ConfigValue::Number(n) => n.as_i64(),
            ConfigValue::String(s) => s.trim().parse().ok(),
            ConfigValue::Bool(_) => None,
        }
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("scalars serialize")
    }
}

impl JsonSchema for ConfigValue {
    fn schema_name() -> Cow<'static, str> {
        "KafkaConfigValue".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        })
    }
}

/// Flat Kafka configuration: dotted keys (`min.insync.replicas`) to scalar values.
pub type Config = BTreeMap<String, ConfigValue>;

/// Checks that every key of `config` is a Kafka property name (lowercase words joined by dots
/// or dashes), so that a nested map or a typo'd key is caught here.
pub fn check_config_keys(config: &Config, field: &str, p: &mut Problems<'_>) {
    for k in config.keys() {
        let ok = !k.is_empty()
            && k.split('.').all(|w| {
                !w.is_empty()
                    && w.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    })
            });
        if !ok {
            p.fail(
                format!("{field}.{k}"),
                format!("{k:?} is not a Kafka property name (lowercase words joined by dots, e.g. retention.ms)"),
            );
        }
    }
}

/// Checks that `value` of `key` is an integer of at least `min`; returns it.
pub fn check_int(
    config: &Config,
    key: &str,
    min: i64,
    field: &str,
    p: &mut Problems<'_>,
) -> Option<i64> {
    let v = config.get(key)?;
    match v.int() {
        Some(n) if n >= min => Some(n),
        _ => {
            p.fail(
                format!("{field}.{key}"),
                format!(
                    "{key} must be an integer of at least {min}, not {:?}",
                    v.text()
                ),
            );
            None
        }
    }
}

/// Checks the name of the KafkaCluster a topic or user belongs to.
pub fn check_cluster(cluster: &str, p: &mut Problems<'_>) {
    p.check("spec.cluster", validate::dns1123_label(cluster));
}

/// Metadata of a Strimzi resource of `cluster`: its name, namespace, the app label and
/// `strimzi.io/cluster`.
pub fn metadata(name: &str, namespace: &str, app: &str, cluster: Option<&str>) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert("app.kubernetes.io/name".into(), json!(app));
    if let Some(c) = cluster {
        labels.insert(CLUSTER_LABEL.into(), json!(c));
    }
    json!({"name": name, "namespace": namespace, "labels": labels})
}
