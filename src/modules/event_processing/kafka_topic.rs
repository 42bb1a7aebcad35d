//! `KafkaTopic`: a topic of a `KafkaCluster`, reconciled by Strimzi's topic operator, and
//! optionally its dead-letter topic.
//!
//! Unlike the original (`replication.factor` turned into a nested `replication: {factor}` map, a
//! `strimzi.io/cluster` label that defaulted to null, a dead-letter "ConfigMap" nothing reads),
//! this writes `replicas`, flat dotted `config` keys and the cluster label, and a dead-letter
//! queue is a second `KafkaTopic`.

use super::strimzi::{self, Config, ConfigValue};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{
    Context, Example, Expansion, Gvk, ModuleResource, OutputDef, OutputValue, OutputValues,
    Problems,
};
use crate::modules::shared::defaults;
use crate::schema::operators;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub struct KafkaTopic;

/// A dead-letter topic next to the topic, for messages its consumers cannot process.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DlqSpec {
    /// Emit the dead-letter topic.
    #[serde(default)]
    pub enabled: bool,
    /// Appended to the topic's name (and to the resource's) to name it.
    #[serde(default = "dlq_suffix")]
    pub suffix: String,
}

fn dlq_suffix() -> String {
    ".dlq".into()
}

impl Default for DlqSpec {
    fn default() -> Self {
        DlqSpec {
            enabled: false,
            suffix: dlq_suffix(),
        }
    }
}

/// A Kafka topic managed by Strimzi's topic operator (the `KafkaCluster`'s entity operator).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaTopicSpec {
    /// Name of the `KafkaCluster` (Strimzi `Kafka`) in the same namespace the topic belongs to.
    pub cluster: String,
    /// The topic's name in Kafka when it differs from the resource's (names with `_` or
    /// capitals, which Kubernetes names cannot hold).
    pub topic_name: Option<String>,
    /// Partitions (at least 1; Kafka can add partitions, never remove them).
    #[serde(default = "defaults::int::<3>")]
    pub partitions: i32,
    /// Copies of each partition (1-32767; at most the number of brokers).
    #[serde(default = "defaults::int::<3>")]
    pub replicas: i32,
    /// Topic configuration as flat, dotted Kafka keys, e.g. `retention.ms: 604800000`,
    /// `compression.type: zstd`, `min.insync.replicas: 2`; `cleanup.policy` is `delete` unless
    /// given.
    #[serde(default)]
    pub config: Config,
    /// The dead-letter topic.
    #[serde(default)]
    pub dlq: DlqSpec,
}

impl KafkaTopicSpec {
    /// The topic's name in Kafka.
    fn topic<'a>(&'a self, m: &'a ModuleResource<'_>) -> &'a str {
        self.topic_name.as_deref().unwrap_or(m.name)
    }

    /// The configuration written: `cleanup.policy: delete` under the spec's keys.
    fn effective_config(&self) -> Config {
        let mut c = Config::new();
        c.insert(
            "cleanup.policy".into(),
            ConfigValue::String("delete".into()),
        );
        c.extend(self.config.clone());
        c
    }
}

const COMPRESSION: [&str; 6] = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

/// Whether `name` is a Kafka topic name: 1-249 of letters, digits, `.`, `_` and `-`.
fn topic_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn validate(spec: &KafkaTopicSpec, p: &mut Problems<'_>) {
    strimzi::check_cluster(&spec.cluster, p);
    if let Some(t) = &spec.topic_name {
        if !topic_name_ok(t) {
            p.fail(
                "spec.topicName",
                format!("{t:?}: expected 1-249 letters, digits, '.', '_' or '-'"),
            );
        }
    }
    if spec.partitions < 1 {
        p.fail("spec.partitions", "partitions must be at least 1");
    }
    if !(1..=32767).contains(&spec.replicas) {
        p.fail("spec.replicas", "replicas must be between 1 and 32767");
    }
    strimzi::check_config_keys(&spec.config, "spec.config", p);
    if spec.config.contains_key("replication.factor") {
        p.fail(
            "spec.config.replication.factor",
            "the replication factor is spec.replicas, not a config key",
        );
    }
    if let Some(v) = spec.config.get("cleanup.policy") {
        let mut parts: Vec<String> = v.text().split(',').map(|s| s.trim().to_string()).collect();
        parts.sort();
        parts.dedup();
        if parts.is_empty() || !parts.iter().all(|s| s == "delete" || s == "compact") {
            p.fail(
                "spec.config.cleanup.policy",
                format!("{:?}: expected delete, compact or compact,delete", v.text()),
            );
        }
    }
    if let Some(v) = spec.config.get("compression.type") {
        if !COMPRESSION.contains(&v.text().as_str()) {
            p.fail(
                "spec.config.compression.type",
                format!("{:?}: expected one of {}", v.text(), COMPRESSION.join(", ")),
            );
        }
    }
    if let Some(v) = spec.config.get("retention.ms") {
        if v.int().is_none_or(|n| n < -1) {
            p.fail(
                "spec.config.retention.ms",
                format!(
                    "{:?}: expected milliseconds, or -1 for no time limit",
                    v.text()
                ),
            );
        }
    }
    if let Some(isr) = strimzi::check_int(&spec.config, "min.insync.replicas", 1, "spec.config", p)
    {
        if isr > i64::from(spec.replicas) {
            p.fail(
                "spec.config.min.insync.replicas",
                format!(
                    "min.insync.replicas {isr} is more than the {} replicas: no write could succeed",
                    spec.replicas
                ),
            );
        }
    }
    if spec.dlq.enabled {
        let ok =
            !spec.dlq.suffix.is_empty()
                && spec.dlq.suffix.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-')
                });
        if !ok {
            p.fail(
                "spec.dlq.suffix",
                format!(
                    "{:?}: expected lowercase letters, digits, '.' or '-' (it also names a Kubernetes object)",
                    spec.dlq.suffix
                ),
            );
        } else {
            let name = format!("{}{}", p.module().name, spec.dlq.suffix);
            p.check("spec.dlq.suffix", validate::dns1123_subdomain(&name));
        }
    }
}

fn topic(
    name: &str,
    topic_name: Option<&str>,
    spec: &KafkaTopicSpec,
    m: &ModuleResource<'_>,
    ctx: &Context,
) -> Value {
    let mut s = Map::new();
    if let Some(t) = topic_name {
        s.insert("topicName".into(), json!(t));
    }
    s.insert("partitions".into(), json!(spec.partitions));
    s.insert("replicas".into(), json!(spec.replicas));
    let config: Map<String, Value> = spec
        .effective_config()
        .iter()
        .map(|(k, v)| (k.clone(), v.to_value()))
        .collect();
    s.insert("config".into(), Value::Object(config));
    json!({
        "apiVersion": ctx.api_version(&operators::STRIMZI_TOPIC),
        "kind": "KafkaTopic",
        "metadata": strimzi::metadata(name, &m.namespace, m.name, Some(&spec.cluster)),
        "spec": s,
    })
}

impl Kind for KafkaTopic {
    const KIND: &'static str = "KafkaTopic";
    const SUMMARY: &'static str =
        "Kafka topic on Strimzi's topic operator: KafkaTopic, optional dead-letter KafkaTopic";
    const EXAMPLE: Example = crate::example!("examples/event-processing/kafka-topic.yaml");
    type Spec = KafkaTopicSpec;

    fn validate(spec: &KafkaTopicSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for KafkaTopic {
    const EMITS: &'static [Gvk] = &[Gvk::new("kafka.strimzi.io/v1", "KafkaTopic")];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "topic",
            description: "the topic's name in Kafka",
            secret: false,
        },
        OutputDef {
            name: "dlq-topic",
            description: "the dead-letter topic's name in Kafka (with dlq.enabled)",
            secret: false,
        },
    ];

    fn outputs(spec: &KafkaTopicSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let topic = spec.topic(m).to_string();
        let mut out = vec![("topic", OutputValue::Value(topic.clone()))];
        if spec.dlq.enabled {
            out.push((
                "dlq-topic",
                OutputValue::Value(format!("{topic}{}", spec.dlq.suffix)),
            ));
        }
        out
    }

    fn expand(spec: KafkaTopicSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let mut objects = vec![topic(m.name, spec.topic_name.as_deref(), &spec, m, ctx)];
        if spec.dlq.enabled {
            let dlq_name = format!("{}{}", m.name, spec.dlq.suffix);
            let dlq_topic = spec
                .topic_name
                .as_ref()
                .map(|t| format!("{t}{}", spec.dlq.suffix));
            objects.push(topic(&dlq_name, dlq_topic.as_deref(), &spec, m, ctx));
        }
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
