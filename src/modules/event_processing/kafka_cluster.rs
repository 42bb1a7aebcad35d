//! `KafkaCluster`, rendered for Strimzi ≥ 0.49 (`kafka.strimzi.io/v1`): KRaft only, nodes in
//! `KafkaNodePool`s.
//!
//! Unlike the original (a ZooKeeper cluster in `v1beta2`, no `listeners` so the CR was refused,
//! dotted config keys turned into nested maps, an invented `metrics` list, no entity operator),
//! this emits what Strimzi reads: a `Kafka` with listeners, flat `config` keys, `authorization`,
//! `metricsConfig` pointing at a JMX Prometheus exporter ConfigMap and the entity operator; one
//! `KafkaNodePool` of controllers and one of brokers (or one of both roles); and a `PodMonitor`.
//! It declares the network access Strimzi needs: KRaft (9090) and replication (9091) among the
//! nodes, the cluster operator (9091, 8443) and the entity operator (9091), the client ports to
//! dependents, and the metrics port.

use super::strimzi::{self, entity_operator_selector, node_selector, Config, ConfigValue};
use crate::kind::network::{NetworkTarget, Policies, Port};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{
    Context, Example, Expansion, Gvk, ModuleResource, OutputDef, OutputValue, OutputValues,
    Problems,
};
use crate::modules::shared::container::ResourcesSpec;
use crate::modules::shared::{defaults, meta};
use crate::schema::operators;
use crate::types::Quantity;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

mod access;
mod validation;

use access::network;
use validation::validate;

pub struct KafkaCluster;

/// Namespace the Strimzi cluster operator runs in when it has one of its own (Strimzi's Helm
/// chart installs into the release namespace; `strimzi` is the usual one). An operator running
/// in the cluster's own namespace (the quickstart's layout) is allowed too. No platform setting
/// names operator namespaces yet: a different one needs a NetworkPolicy of the user's.
pub const OPERATOR_NAMESPACE: &str = "strimzi";
/// KRaft control plane listener (controllers; brokers connect to it).
pub const CONTROLPLANE_PORT: i64 = 9090;
/// Replication listener: brokers, the cluster and entity operators, Cruise Control.
pub const REPLICATION_PORT: i64 = 9091;
/// The Kafka agent: the cluster operator reads broker state on it.
pub const AGENT_PORT: i64 = 8443;
/// The JMX Prometheus exporter's port (container port `tcp-prometheus`).
pub const METRICS_PORT: i64 = 9404;
/// Key of the exporter rules in the metrics ConfigMap.
const METRICS_KEY: &str = "kafka-metrics-config.yml";
/// Ports Strimzi keeps for itself; listeners may not use them.
const RESERVED_PORTS: [i64; 5] = [
    CONTROLPLANE_PORT,
    REPLICATION_PORT,
    AGENT_PORT,
    METRICS_PORT,
    9999,
];

/// How a listener is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ListenerType {
    /// Inside the cluster, through `<name>-kafka-bootstrap` and per-broker headless names.
    #[default]
    Internal,
    /// Inside the cluster, through per-broker ClusterIP Services.
    ClusterIp,
    /// Outside the cluster, on node ports.
    Nodeport,
    /// Outside the cluster, through load balancers.
    Loadbalancer,
    /// Outside the cluster, through an Ingress controller with TLS passthrough (needs `tls`).
    Ingress,
    /// Outside the cluster, through OpenShift Routes (needs `tls`).
    Route,
}

impl ListenerType {
    fn as_str(self) -> &'static str {
        match self {
            ListenerType::Internal => "internal",
            ListenerType::ClusterIp => "cluster-ip",
            ListenerType::Nodeport => "nodeport",
            ListenerType::Loadbalancer => "loadbalancer",
            ListenerType::Ingress => "ingress",
            ListenerType::Route => "route",
        }
    }

    /// Whether clients outside the cluster reach it.
    fn external(self) -> bool {
        !matches!(self, ListenerType::Internal | ListenerType::ClusterIp)
    }
}

/// How clients of a listener authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Authentication {
    /// SASL SCRAM-SHA-512: a `KafkaUser` with `authentication: scram-sha-512` gets a password.
    #[default]
    #[serde(rename = "scram-sha-512")]
    ScramSha512,
    /// Mutual TLS: a `KafkaUser` with `authentication: tls` gets a client certificate (the
    /// listener must use TLS).
    Tls,
    /// None: every client is `ANONYMOUS`.
    None,
}

impl Authentication {
    fn strimzi(self) -> Option<&'static str> {
        match self {
            Authentication::ScramSha512 => Some("scram-sha-512"),
            Authentication::Tls => Some("tls"),
            Authentication::None => None,
        }
    }
}

/// How the brokers authorize what authenticated clients do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Authorization {
    /// Kafka's ACLs, which `KafkaUser`s' `acls` manage.
    Simple,
    /// None: every client may do everything.
    None,
}

/// A listener clients connect to.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListenerSpec {
    /// Its name: lowercase letters and digits, at most 11.
    pub name: String,
    /// Its port (9092 or above; 9090, 9091, 9404, 8443 and 9999 are Strimzi's own).
    pub port: i64,
    /// How it is reached.
    #[serde(default, rename = "type")]
    pub type_: ListenerType,
    /// Encrypt connections with TLS (certificates from the cluster CA).
    #[serde(default)]
    pub tls: bool,
    /// How its clients authenticate; `spec.authentication` when not given.
    pub authentication: Option<Authentication>,
}

fn default_listeners() -> Vec<ListenerSpec> {
    vec![
        ListenerSpec {
            name: "plain".into(),
            port: 9092,
            type_: ListenerType::Internal,
            tls: false,
            authentication: None,
        },
        ListenerSpec {
            name: "tls".into(),
            port: 9093,
            type_: ListenerType::Internal,
            tls: true,
            authentication: None,
        },
    ]
}

/// The persistent volume of each node (one JBOD volume that also holds the KRaft metadata).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSpec {
    /// Size of each node's volume, e.g. `100Gi`.
    #[serde(default = "default_size")]
    pub size: Quantity,
    /// StorageClass to provision from; the cluster's default when not given.
    pub class: Option<String>,
    /// Delete the volumes when the cluster is deleted.
    #[serde(default)]
    pub delete_claim: bool,
}

fn default_size() -> Quantity {
    Quantity::String("100Gi".into())
}

impl Default for StorageSpec {
    fn default() -> Self {
        StorageSpec {
            size: default_size(),
            class: None,
            delete_claim: false,
        }
    }
}

/// A Kafka cluster run by Strimzi in KRaft mode: controller and broker node pools (or one pool
/// of nodes with both roles), listeners with authentication, ACL authorization, the entity
/// operator that reconciles `KafkaTopic`s and `KafkaUser`s, and Prometheus metrics. One
/// `KafkaCluster` per namespace: its node pools are named `controller` and `broker` (or
/// `dual-role`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaClusterSpec {
    /// Kafka version, e.g. `4.1.0`; the operator's default when not given (pin it in production:
    /// an operator upgrade then does not upgrade Kafka).
    pub version: Option<String>,
    /// Broker nodes (1-100).
    #[serde(default = "defaults::int::<3>")]
    pub brokers: i32,
    /// Dedicated KRaft controller nodes (1-9, odd for a majority); 3 when not given. Not with
    /// `combined`.
    pub controllers: Option<i32>,
    /// Run the controller role on the broker nodes (one `dual-role` pool of `brokers` nodes)
    /// instead of dedicated controllers: fewer pods, for small clusters.
    #[serde(default)]
    pub combined: bool,
    /// Each node's volume.
    #[serde(default)]
    pub storage: StorageSpec,
    /// Each dedicated controller's volume; `storage` when not given (controllers keep only
    /// the metadata log: a few Gi are enough).
    pub controller_storage: Option<StorageSpec>,
    /// The listeners clients connect to.
    #[serde(default = "default_listeners")]
    pub listeners: Vec<ListenerSpec>,
    /// How clients authenticate on listeners that do not say.
    #[serde(default)]
    pub authentication: Authentication,
    /// ACL authorization; `simple` when a listener authenticates clients, else `none`.
    pub authorization: Option<Authorization>,
    /// Broker configuration as flat, dotted Kafka keys, e.g. `log.retention.hours: 168`. Over
    /// the defaults `default.replication.factor` 3, `min.insync.replicas` 2,
    /// `offsets.topic.replication.factor` 3, `transaction.state.log.replication.factor` 3 and
    /// `transaction.state.log.min.isr` 2 (lowered to the number of brokers below 3).
    #[serde(default)]
    pub config: Config,
    /// CPU and memory of each broker and controller (none set when not given).
    pub resources: Option<ResourcesSpec>,
    /// Export JMX metrics in the Prometheus format (a `<name>-kafka-metrics` ConfigMap of
    /// exporter rules) and scrape them with a PodMonitor.
    #[serde(default = "defaults::yes")]
    pub metrics: bool,
    /// Run the entity operator, whose topic and user operators reconcile `KafkaTopic`s and
    /// `KafkaUser`s of this cluster.
    #[serde(default = "defaults::yes")]
    pub entity_operator: bool,
}

impl KafkaClusterSpec {
    /// The authentication of `l`.
    fn auth_of(&self, l: &ListenerSpec) -> Authentication {
        l.authentication.unwrap_or(self.authentication)
    }

    /// The effective authorization.
    fn authorization(&self) -> Authorization {
        self.authorization.unwrap_or_else(|| {
            if self
                .listeners
                .iter()
                .any(|l| self.auth_of(l) != Authentication::None)
            {
                Authorization::Simple
            } else {
                Authorization::None
            }
        })
    }

    /// The broker configuration: the defaults (scaled to the brokers), then the spec's keys.
    pub fn effective_config(&self) -> Config {
        let rf = i64::from(self.brokers.clamp(1, 3));
        let isr = (rf - 1).max(1);
        let mut out = Config::new();
        for (k, v) in [
            ("default.replication.factor", rf),
            ("min.insync.replicas", isr),
            ("offsets.topic.replication.factor", rf),
            ("transaction.state.log.replication.factor", rf),
            ("transaction.state.log.min.isr", isr),
        ] {
            out.insert(k.into(), ConfigValue::Number(v.into()));
        }
        out.extend(self.config.clone());
        out
    }

    /// The first internal listener with (`tls`) or without TLS: the address apps use.
    fn internal(&self, tls: bool) -> Option<&ListenerSpec> {
        self.listeners
            .iter()
            .find(|l| l.type_ == ListenerType::Internal && l.tls == tls)
    }
}

/// Keys Strimzi sets itself and refuses or ignores in `spec.kafka.config`.
const MANAGED_KEYS: &[&str] = &[
    "listeners",
    "advertised.",
    "listener.",
    "inter.broker.listener.name",
    "sasl.",
    "security.",
    "password.",
    "log.dir",
    "zookeeper.",
    "authorizer.",
    "super.user",
    "node.id",
    "broker.id",
    "process.roles",
    "metadata.log.dir",
    "controller.listener.names",
    "controller.quorum.voters",
    "principal.builder.class",
];

fn storage(s: &StorageSpec) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(0));
    v.insert("type".into(), json!("persistent-claim"));
    v.insert("size".into(), json!(s.size.text()));
    if let Some(c) = &s.class {
        v.insert("class".into(), json!(c));
    }
    v.insert("deleteClaim".into(), json!(s.delete_claim));
    v.insert("kraftMetadata".into(), json!("shared"));
    json!({"type": "jbod", "volumes": [v]})
}

fn node_pool(
    pool: &str,
    replicas: i32,
    roles: &[&str],
    s: &StorageSpec,
    spec: &KafkaClusterSpec,
    m: &ModuleResource<'_>,
    ctx: &Context,
) -> Value {
    let mut p = Map::new();
    p.insert("replicas".into(), json!(replicas));
    p.insert("roles".into(), json!(roles));
    p.insert("storage".into(), storage(s));
    // In v1 resources are per node pool (`spec.kafka.resources` is gone).
    if let Some(r) = &spec.resources {
        p.insert("resources".into(), meta::to_value(&r.build(ctx)));
    }
    json!({
        "apiVersion": ctx.api_version(&operators::STRIMZI_NODE_POOL),
        "kind": "KafkaNodePool",
        "metadata": strimzi::metadata(pool, &m.namespace, m.name, Some(m.name)),
        "spec": p,
    })
}

/// The JMX Prometheus exporter rules: Kafka's MBeans as Prometheus metrics, in the shape
/// Strimzi's Grafana dashboards and alerts read (after Strimzi's `kafka-metrics.yaml` example).
const EXPORTER_RULES: &str = include_str!("kafka_cluster/metrics.yaml");

impl Kind for KafkaCluster {
    const KIND: &'static str = "KafkaCluster";
    const SUMMARY: &'static str =
        "Kafka on Strimzi (KRaft): Kafka, KafkaNodePools, JMX exporter ConfigMap, PodMonitor";
    const EXAMPLE: Example = crate::example!("examples/event-processing/kafka-cluster.yaml");
    type Spec = KafkaClusterSpec;

    fn validate(spec: &KafkaClusterSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for KafkaCluster {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ConfigMap"),
        Gvk::new("kafka.strimzi.io/v1", "KafkaNodePool"),
        Gvk::new("kafka.strimzi.io/v1", "Kafka"),
        Gvk::new("monitoring.coreos.com/v1", "PodMonitor"),
    ];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "bootstrap",
            description: "bootstrap address of the first internal listener without TLS, host:port",
            secret: false,
        },
        OutputDef {
            name: "bootstrap-tls",
            description: "bootstrap address of the first internal TLS listener, host:port",
            secret: false,
        },
        OutputDef {
            name: "host",
            description: "the bootstrap Service's host, <name>-kafka-bootstrap.<namespace>.svc",
            secret: false,
        },
        OutputDef {
            name: "port",
            description: "the port of `bootstrap` (of `bootstrap-tls` when there is no plain listener)",
            secret: false,
        },
        OutputDef {
            name: "ca-secret",
            description: "name of the Secret holding the cluster CA certificate clients trust (keys ca.crt, ca.p12, ca.password)",
            secret: false,
        },
        OutputDef {
            name: "ca.crt",
            description: "the cluster CA certificate (PEM), for TLS listeners",
            secret: true,
        },
    ];

    fn outputs(spec: &KafkaClusterSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let host = format!("{}-kafka-bootstrap.{}.svc", m.name, m.namespace);
        let ca = format!("{}-cluster-ca-cert", m.name);
        let plain = spec.internal(false);
        let tls = spec.internal(true);
        let mut out: OutputValues = Vec::new();
        if let Some(l) = plain {
            out.push((
                "bootstrap",
                OutputValue::Value(format!("{host}:{}", l.port)),
            ));
        }
        if let Some(l) = tls {
            out.push((
                "bootstrap-tls",
                OutputValue::Value(format!("{host}:{}", l.port)),
            ));
        }
        out.push(("host", OutputValue::Value(host.clone())));
        if let Some(l) = plain.or(tls) {
            out.push(("port", OutputValue::Value(l.port.to_string())));
        }
        out.push(("ca-secret", OutputValue::Value(ca.clone())));
        out.push((
            "ca.crt",
            OutputValue::Secret {
                name: ca,
                key: "ca.crt".into(),
            },
        ));
        out
    }

    fn expand(spec: KafkaClusterSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let metrics_cm = format!("{name}-kafka-metrics");
        let mut objects = Vec::new();
        if spec.metrics {
            objects.push(json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": strimzi::metadata(&metrics_cm, ns, name, None),
                "data": {METRICS_KEY: EXPORTER_RULES},
            }));
        }
        if spec.combined {
            objects.push(node_pool(
                "dual-role",
                spec.brokers,
                &["controller", "broker"],
                &spec.storage,
                &spec,
                m,
                ctx,
            ));
        } else {
            objects.push(node_pool(
                "controller",
                spec.controllers.unwrap_or(3),
                &["controller"],
                spec.controller_storage.as_ref().unwrap_or(&spec.storage),
                &spec,
                m,
                ctx,
            ));
            objects.push(node_pool(
                "broker",
                spec.brokers,
                &["broker"],
                &spec.storage,
                &spec,
                m,
                ctx,
            ));
        }

        let mut kafka = Map::new();
        if let Some(v) = &spec.version {
            kafka.insert("version".into(), json!(v));
        }
        let listeners: Vec<Value> = spec
            .listeners
            .iter()
            .map(|l| {
                let mut o = Map::new();
                o.insert("name".into(), json!(l.name));
                o.insert("port".into(), json!(l.port));
                o.insert("type".into(), json!(l.type_.as_str()));
                o.insert("tls".into(), json!(l.tls));
                if let Some(a) = spec.auth_of(l).strimzi() {
                    o.insert("authentication".into(), json!({"type": a}));
                }
                Value::Object(o)
            })
            .collect();
        kafka.insert("listeners".into(), Value::Array(listeners));
        if spec.authorization() == Authorization::Simple {
            kafka.insert("authorization".into(), json!({"type": "simple"}));
        }
        let config: Map<String, Value> = spec
            .effective_config()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_value()))
            .collect();
        kafka.insert("config".into(), Value::Object(config));
        if spec.metrics {
            kafka.insert(
                "metricsConfig".into(),
                json!({
                    "type": "jmxPrometheusExporter",
                    "valueFrom": {"configMapKeyRef": {"name": metrics_cm, "key": METRICS_KEY}},
                }),
            );
        }
        let mut kspec = Map::new();
        kspec.insert("kafka".into(), Value::Object(kafka));
        if spec.entity_operator {
            kspec.insert(
                "entityOperator".into(),
                json!({"topicOperator": {}, "userOperator": {}}),
            );
        }
        objects.push(json!({
            "apiVersion": ctx.api_version(&operators::STRIMZI_KAFKA),
            "kind": "Kafka",
            "metadata": strimzi::metadata(name, ns, name, None),
            "spec": kspec,
        }));
        if spec.metrics {
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::POD_MONITOR),
                "kind": "PodMonitor",
                "metadata": strimzi::metadata(&format!("{name}-kafka"), ns, name, None),
                "spec": {
                    "selector": {"matchLabels": node_selector(name)},
                    "podMetricsEndpoints": [{"port": "tcp-prometheus", "path": "/metrics"}],
                },
            }));
        }
        let mut findings = Vec::new();
        if !spec.entity_operator {
            findings.push(m.warning(
                "spec.entityOperator",
                "without the entity operator, KafkaTopics and KafkaUsers of this cluster are never reconciled",
            ));
        }
        Expansion {
            network: network(&spec, m),
            objects,
            findings,
            ..Default::default()
        }
    }
}
