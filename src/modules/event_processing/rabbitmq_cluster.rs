//! `RabbitMQCluster`, rendered for the RabbitMQ Cluster Operator as a `rabbitmq.com/v1beta1`
//! `RabbitmqCluster`, with a `PodMonitor` for the metrics the operator always enables (the
//! `rabbitmq_prometheus` plugin, port 15692).
//!
//! What the operator does not do by itself and this kind adds: a pod template override that
//! states the Pod Security `restricted` context (the operator sets the same from 2.17 on; the
//! override makes older operators comply too), resources merged over the operator's own
//! defaults (a partial `resources` would otherwise replace them, leaving no limits), and the
//! network access the pods need: clustering among themselves (epmd 4369, distribution 25672,
//! CLI tools 35672-35682, stream replication 6000-6500 with streams), the management API from
//! the operators' namespace `rabbitmq-system`, the Kubernetes API for peer discovery, and the
//! client ports for the workloads that depend on it.

use crate::kind::network::{self, NetworkTarget, Policies, Port};
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
use std::collections::BTreeMap;

pub struct RabbitMQCluster;

/// Namespace the RabbitMQ Cluster Operator and the Messaging Topology Operator are installed in
/// by their release manifests; both call the management API.
pub const OPERATOR_NAMESPACE: &str = "rabbitmq-system";
/// AMQP 0-9-1 and 1.0, plain and over TLS.
pub const AMQP: i64 = 5672;
pub const AMQPS: i64 = 5671;
/// The management (HTTP) API, plain and over TLS.
const MANAGEMENT: i64 = 15672;
const MANAGEMENT_TLS: i64 = 15671;
/// The `rabbitmq_prometheus` endpoint, plain and over TLS.
const PROMETHEUS: i64 = 15692;
const PROMETHEUS_TLS: i64 = 15691;
/// Plugins the operator always enables; listing them again changes nothing.
const ESSENTIAL_PLUGINS: [&str; 3] = [
    "rabbitmq_management",
    "rabbitmq_prometheus",
    "rabbitmq_peer_discovery_k8s",
];
/// Plugins that serve a client protocol: (plugin, port, TLS port), as the operator opens them.
const PROTOCOL_PLUGINS: [(&str, i64, i64); 6] = [
    ("rabbitmq_stream", 5552, 5551),
    ("rabbitmq_stream_management", 5552, 5551),
    ("rabbitmq_mqtt", 1883, 8883),
    ("rabbitmq_stomp", 61613, 61614),
    ("rabbitmq_web_mqtt", 15675, 15676),
    ("rabbitmq_web_stomp", 15674, 15673),
];
/// The operator's default resources (its CRD's default for `spec.resources`): its baseline for
/// production, memory request equal to the limit.
const DEFAULT_REQUESTS: [(&str, &str); 2] = [("cpu", "1000m"), ("memory", "2Gi")];
const DEFAULT_LIMITS: [(&str, &str); 2] = [("cpu", "2000m"), ("memory", "2Gi")];

/// The persistent volume of each node (the operator's `persistence`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PersistenceSpec {
    /// Size of each node's volume, e.g. `10Gi`.
    #[serde(default = "ten_gi")]
    pub storage: Quantity,
    /// StorageClass to provision from; the cluster's default when not given.
    pub storage_class_name: Option<String>,
}

fn ten_gi() -> Quantity {
    Quantity::String("10Gi".into())
}

impl Default for PersistenceSpec {
    fn default() -> Self {
        PersistenceSpec {
            storage: ten_gi(),
            storage_class_name: None,
        }
    }
}

/// CPU and memory of each RabbitMQ container, over the operator's defaults (requests
/// `{cpu: 1000m, memory: 2Gi}`, limits `{cpu: 2000m, memory: 2Gi}`): a key given here replaces
/// that key only.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RabbitResources {
    /// Resources reserved for each node, e.g. `{cpu: "2", memory: 4Gi}`.
    pub requests: BTreeMap<String, Quantity>,
    /// Most each node may use; keep the memory limit equal to the request (RabbitMQ sizes its
    /// memory watermark from the limit).
    pub limits: BTreeMap<String, Quantity>,
}

/// The RabbitMQ server itself: plugins and `rabbitmq.conf` settings.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct RabbitmqSpec {
    /// Plugins to enable besides the ones the operator always enables (`rabbitmq_management`,
    /// `rabbitmq_prometheus`, `rabbitmq_peer_discovery_k8s`), e.g. `rabbitmq_shovel`,
    /// `rabbitmq_stream`, `rabbitmq_mqtt`. A protocol plugin's port is opened to dependents.
    pub additional_plugins: Vec<String>,
    /// Lines appended to `rabbitmq.conf` (sysctl format, `key = value`), e.g.
    /// `vm_memory_high_watermark.relative = 0.7`. Credentials (`default_user`, `default_pass`)
    /// never go here: the operator generates them into the Secret `<name>-default-user`.
    pub additional_config: Option<String>,
}

/// TLS for client and management connections, from Secrets the user (or cert-manager) keeps.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSpec {
    /// A `kubernetes.io/tls` Secret with the server certificate (`tls.crt`, `tls.key`); it
    /// must name `<name>.<namespace>.svc` and `*.<name>-nodes.<namespace>.svc`.
    pub secret_name: String,
    /// A Secret whose `ca.crt` verifies client certificates (mutual TLS); none when not given.
    pub ca_secret_name: Option<String>,
    /// Serve AMQP, management and metrics over TLS only (5671, 15671, 15691): no plain ports.
    #[serde(default, rename = "disableNonTLSListeners")]
    pub disable_non_tls_listeners: bool,
}

/// A RabbitMQ cluster run by the RabbitMQ Cluster Operator: its nodes, storage, plugins,
/// configuration and TLS. The operator generates the administrator's credentials into the
/// Secret `<name>-default-user`; give applications their own users with `RabbitMQQueue`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RabbitMQClusterSpec {
    /// RabbitMQ nodes (1-9). Keep it odd: quorum queues need a majority of nodes up, so 4
    /// nodes survive no more failures than 3. The operator tests 1, 3 and 5.
    #[serde(default = "defaults::int::<3>")]
    pub replicas: i32,
    /// The RabbitMQ image, e.g. `rabbitmq:4.1.4-management`; the operator's default image of its
    /// release when not given (pin one to control upgrades).
    pub image: Option<String>,
    /// The persistent volume of each node.
    #[serde(default)]
    pub persistence: PersistenceSpec,
    /// CPU and memory of each node, over the operator's defaults.
    pub resources: Option<RabbitResources>,
    /// Plugins and `rabbitmq.conf` settings.
    #[serde(default)]
    pub rabbitmq: RabbitmqSpec,
    /// TLS for clients, management and metrics.
    pub tls: Option<TlsSpec>,
    /// Emit a PodMonitor for the nodes' Prometheus metrics (aggregated, and per queue).
    #[serde(default = "defaults::yes")]
    pub monitoring: bool,
}

fn validate(spec: &RabbitMQClusterSpec, p: &mut Problems<'_>) {
    // The operator's StatefulSet is `<name>-server`; its pods carry the label
    // `controller-revision-hash: <name>-server-<10-character hash>`, the longest derived name.
    meta::check_name_room("-server-7d9f8c6b5d", p);
    if !(1..=9).contains(&spec.replicas) {
        p.fail(
            "spec.replicas",
            format!("replicas {} must be between 1 and 9", spec.replicas),
        );
    } else if spec.replicas % 2 == 0 {
        p.warn(
            "spec.replicas",
            format!(
                "{} nodes tolerate no more failures than {}: quorum queues need a majority; use an odd number",
                spec.replicas,
                spec.replicas - 1
            ),
        );
    }
    if let Some(image) = &spec.image {
        p.check("spec.image", validate::image_reference(image));
    }
    p.check(
        "spec.persistence.storage",
        validate::quantity(&spec.persistence.storage.text()),
    );
    if let Some(sc) = &spec.persistence.storage_class_name {
        p.check(
            "spec.persistence.storageClassName",
            validate::dns1123_subdomain(sc),
        );
    }
    if let Some(r) = &spec.resources {
        let merged = merged_resources(Some(r));
        merged.check(p, "spec.resources");
        if let (Some(req), Some(lim)) = (merged.requests.get("memory"), merged.limits.get("memory"))
        {
            let (rq, lm) = (
                validate::quantity::parse(&req.text()),
                validate::quantity::parse(&lim.text()),
            );
            // Above the limit is an error `check` already reported.
            if rq.is_some() && lm.is_some() && rq < lm {
                p.warn(
                    "spec.resources",
                    format!(
                        "memory request {} is below the limit {}: the operator recommends them equal (RabbitMQ sizes its memory watermark from the limit, and a node over its request is evicted first)",
                        req.text(),
                        lim.text()
                    ),
                );
            }
        }
    }
    let mut seen = Vec::new();
    for (i, plugin) in spec.rabbitmq.additional_plugins.iter().enumerate() {
        let field = format!("spec.rabbitmq.additionalPlugins[{i}]");
        let word = !plugin.is_empty()
            && plugin.len() <= 100
            && plugin
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !word {
            p.fail(
                &field,
                format!("{plugin:?}: expected a plugin name (letters, digits and '_'), e.g. rabbitmq_shovel"),
            );
        } else if seen.contains(&plugin) {
            p.fail(&field, format!("plugin {plugin} is listed twice"));
        } else if ESSENTIAL_PLUGINS.contains(&plugin.as_str()) {
            p.warn(
                &field,
                format!("{plugin} is always enabled by the operator: leave it out"),
            );
        }
        seen.push(plugin);
    }
    if let Some(conf) = &spec.rabbitmq.additional_config {
        for (n, line) in conf.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let field = "spec.rabbitmq.additionalConfig";
            let Some((key, value)) = line.split_once('=') else {
                p.fail(
                    field,
                    format!("line {}: {line:?} is not `key = value`", n + 1),
                );
                continue;
            };
            let key = key.trim();
            if key.is_empty() || value.trim().is_empty() {
                p.fail(
                    field,
                    format!("line {}: {line:?} is not `key = value`", n + 1),
                );
            } else if matches!(key, "default_user" | "default_pass") {
                p.fail(
                    field,
                    format!(
                        "line {}: {key} would put a credential in the spec: the operator generates the administrator into the Secret `<name>-default-user`",
                        n + 1
                    ),
                );
            }
        }
    }
    if let Some(tls) = &spec.tls {
        p.check(
            "spec.tls.secretName",
            validate::dns1123_subdomain(&tls.secret_name),
        );
        if let Some(ca) = &tls.ca_secret_name {
            p.check("spec.tls.caSecretName", validate::dns1123_subdomain(ca));
        }
    }
}

/// The requested resources over the operator's defaults.
fn merged_resources(r: Option<&RabbitResources>) -> ResourcesSpec {
    let base = |pairs: [(&str, &str); 2]| -> BTreeMap<String, Quantity> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity::String(v.to_string())))
            .collect()
    };
    let mut out = ResourcesSpec {
        requests: base(DEFAULT_REQUESTS),
        limits: base(DEFAULT_LIMITS),
    };
    if let Some(r) = r {
        out.requests.extend(r.requests.clone());
        out.limits.extend(r.limits.clone());
    }
    out
}

fn quantities(map: &BTreeMap<String, Quantity>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), json!(v.text())))
            .collect(),
    )
}

/// Whether `plugin` is among the additional plugins.
fn has_plugin(spec: &RabbitMQClusterSpec, plugin: &str) -> bool {
    spec.rabbitmq.additional_plugins.iter().any(|p| p == plugin)
}

/// Whether the nodes replicate streams (the operator opens the stream port for these).
fn streams(spec: &RabbitMQClusterSpec) -> bool {
    [
        "rabbitmq_stream",
        "rabbitmq_stream_management",
        "rabbitmq_multi_dc_replication",
    ]
    .iter()
    .any(|p| has_plugin(spec, p))
}

/// Whether the plain (non-TLS) listeners are open.
fn plain(spec: &RabbitMQClusterSpec) -> bool {
    !spec
        .tls
        .as_ref()
        .is_some_and(|t| t.disable_non_tls_listeners)
}

/// The labels the operator puts on the cluster's pods that select exactly them.
pub fn pod_labels(name: &str) -> Map<String, Value> {
    let mut s = Map::new();
    s.insert("app.kubernetes.io/name".into(), json!(name));
    s.insert("app.kubernetes.io/component".into(), json!("rabbitmq"));
    s
}

/// The client ports: AMQP (plain unless TLS-only, TLS with `tls`) and each protocol plugin's.
pub fn client_ports(spec: &RabbitMQClusterSpec) -> Vec<Port> {
    let tls = spec.tls.is_some();
    let mut ports = Vec::new();
    let mut add = |n: i64| {
        if !ports.iter().any(|p: &Port| p.port == json!(n)) {
            ports.push(Port::tcp(n));
        }
    };
    if tls {
        add(AMQPS);
    }
    if plain(spec) {
        add(AMQP);
    }
    for (plugin, port, tls_port) in PROTOCOL_PLUGINS {
        if has_plugin(spec, plugin) {
            if tls {
                add(tls_port);
            }
            if plain(spec) {
                add(port);
            }
        }
    }
    ports
}

/// The ports the nodes talk to each other on, as NetworkPolicy ports.
fn inter_node_ports(spec: &RabbitMQClusterSpec) -> Value {
    let mut ports = vec![
        json!({"protocol": "TCP", "port": 4369}),
        json!({"protocol": "TCP", "port": 25672}),
        json!({"protocol": "TCP", "port": 35672, "endPort": 35682}),
    ];
    if streams(spec) {
        ports.push(json!({"protocol": "TCP", "port": 6000, "endPort": 6500}));
    }
    Value::Array(ports)
}

fn network(spec: &RabbitMQClusterSpec, m: &ModuleResource<'_>) -> Vec<NetworkTarget> {
    let (name, ns) = (m.name, m.namespace.as_str());
    let own = pod_labels(name);
    let mut management = Vec::new();
    if plain(spec) {
        management.push(Port::tcp(MANAGEMENT));
    }
    if spec.tls.is_some() {
        management.push(Port::tcp(MANAGEMENT_TLS));
    }
    let metrics = if !spec.monitoring {
        Vec::new()
    } else if plain(spec) {
        vec![Port::tcp(PROMETHEUS)]
    } else {
        vec![Port::tcp(PROMETHEUS_TLS)]
    };
    vec![NetworkTarget {
        name: name.to_string(),
        namespace: ns.to_string(),
        selector: own.clone(),
        ports: client_ports(spec),
        depends_on: Vec::new(),
        exposed: false,
        metrics,
        policies: Policies::Combined {
            name: format!("{name}-rabbitmq"),
            ingress: vec![
                // Clustering: epmd, Erlang distribution, CLI tools (and stream replication).
                json!({"from": [network::pods(&own)], "ports": inter_node_ports(spec)}),
                // The cluster operator and the topology operator call the management API.
                json!({
                    "from": [network::namespace(OPERATOR_NAMESPACE)],
                    "ports": network::port_list(&management),
                }),
            ],
            egress: vec![
                json!({"to": [network::pods(&own)], "ports": inter_node_ports(spec)}),
                // Peer discovery lists the cluster's pods from the Kubernetes API.
                network::api_egress(),
            ],
        },
    }]
}

/// The pod template override: the Pod Security `restricted` context for the pod, the
/// `rabbitmq` container and the `setup-container` init container (what the operator sets
/// itself from 2.17 on; a strategic merge of the same values changes nothing there).
fn restricted_override() -> Value {
    let container = json!({
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "privileged": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"},
    });
    json!({"statefulSet": {"spec": {"template": {"spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "rabbitmq", "securityContext": container}],
        "initContainers": [{"name": "setup-container", "securityContext": container}],
    }}}}})
}

fn pod_monitor(spec: &RabbitMQClusterSpec, name: &str, ns: &str, ctx: &Context) -> Value {
    let (port, scheme) = if plain(spec) {
        ("prometheus", "http")
    } else {
        ("prometheus-tls", "https")
    };
    let endpoint = |extra: Value| -> Value {
        let mut e =
            json!({"port": port, "scheme": scheme, "interval": "15s", "scrapeTimeout": "14s"});
        if let Some(tls) = spec.tls.as_ref().filter(|_| scheme == "https") {
            let ca = tls.ca_secret_name.as_deref().unwrap_or(&tls.secret_name);
            e["tlsConfig"] = json!({
                "ca": {"secret": {"name": ca, "key": "ca.crt"}},
                "serverName": format!("{name}.{ns}.svc"),
            });
        }
        if let (Value::Object(e), Value::Object(extra)) = (&mut e, extra) {
            e.extend(extra);
        }
        e
    };
    json!({
        "apiVersion": ctx.api_version(&operators::POD_MONITOR),
        "kind": "PodMonitor",
        "metadata": {"name": name, "namespace": ns, "labels": pod_labels(name)},
        "spec": {
            "selector": {"matchLabels": pod_labels(name)},
            "podMetricsEndpoints": [
                // Cluster-wide aggregates (the plugin's default endpoint).
                endpoint(json!({})),
                // Per-queue metrics, which the default endpoint aggregates away.
                endpoint(json!({
                    "path": "/metrics/detailed",
                    "params": {"family": ["queue_coarse_metrics", "queue_metrics"]},
                })),
            ],
        },
    })
}

impl Kind for RabbitMQCluster {
    const KIND: &'static str = "RabbitMQCluster";
    const SUMMARY: &'static str =
        "RabbitMQ cluster on the RabbitMQ Cluster Operator: RabbitmqCluster, PodMonitor";
    const EXAMPLE: Example = crate::example!("examples/event-processing/rabbitmq-cluster.yaml");
    type Spec = RabbitMQClusterSpec;

    fn validate(spec: &RabbitMQClusterSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

/// The Secret the operator writes the administrator's credentials into.
pub fn default_user_secret(name: &str) -> String {
    format!("{name}-default-user")
}

impl Generate for RabbitMQCluster {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("rabbitmq.com/v1beta1", "RabbitmqCluster"),
        Gvk::new("monitoring.coreos.com/v1", "PodMonitor"),
    ];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "host",
            description: "the client Service, `<name>.<namespace>.svc`",
            secret: false,
        },
        OutputDef {
            name: "port",
            description: "the AMQP port: 5671 with TLS, else 5672",
            secret: false,
        },
        OutputDef {
            name: "username",
            description: "the administrator's username (key `username` of `<name>-default-user`); prefer a RabbitMQQueue user for applications",
            secret: true,
        },
        OutputDef {
            name: "password",
            description: "the administrator's password (key `password` of `<name>-default-user`)",
            secret: true,
        },
        OutputDef {
            name: "connection_string",
            description: "`amqp[s]://user:password@host:port/` for the administrator (key `connection_string` of `<name>-default-user`)",
            secret: true,
        },
    ];

    fn outputs(spec: &RabbitMQClusterSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let secret = default_user_secret(m.name);
        let key = |k: &str| OutputValue::Secret {
            name: secret.clone(),
            key: k.into(),
        };
        let port = if spec.tls.is_some() { AMQPS } else { AMQP };
        vec![
            (
                "host",
                OutputValue::Value(format!("{}.{}.svc", m.name, m.namespace)),
            ),
            ("port", OutputValue::Value(port.to_string())),
            ("username", key("username")),
            ("password", key("password")),
            ("connection_string", key("connection_string")),
        ]
    }

    fn expand(spec: RabbitMQClusterSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let mut s = Map::new();
        s.insert("replicas".into(), json!(spec.replicas));
        if let Some(image) = &spec.image {
            s.insert("image".into(), json!(image));
        }
        let mut persistence = Map::new();
        persistence.insert("storage".into(), json!(spec.persistence.storage.text()));
        if let Some(sc) = &spec.persistence.storage_class_name {
            persistence.insert("storageClassName".into(), json!(sc));
        }
        s.insert("persistence".into(), Value::Object(persistence));
        if let Some(r) = &spec.resources {
            let r = merged_resources(Some(r));
            s.insert(
                "resources".into(),
                json!({"requests": quantities(&r.requests), "limits": quantities(&r.limits)}),
            );
        }
        let mut rabbitmq = Map::new();
        if !spec.rabbitmq.additional_plugins.is_empty() {
            rabbitmq.insert(
                "additionalPlugins".into(),
                json!(spec.rabbitmq.additional_plugins),
            );
        }
        if let Some(conf) = &spec.rabbitmq.additional_config {
            rabbitmq.insert("additionalConfig".into(), json!(conf));
        }
        if !rabbitmq.is_empty() {
            s.insert("rabbitmq".into(), Value::Object(rabbitmq));
        }
        if let Some(tls) = &spec.tls {
            let mut t = Map::new();
            t.insert("secretName".into(), json!(tls.secret_name));
            if let Some(ca) = &tls.ca_secret_name {
                t.insert("caSecretName".into(), json!(ca));
            }
            if tls.disable_non_tls_listeners {
                t.insert("disableNonTLSListeners".into(), json!(true));
            }
            s.insert("tls".into(), Value::Object(t));
        }
        s.insert("override".into(), restricted_override());

        let mut objects = vec![json!({
            "apiVersion": ctx.api_version(&operators::RABBITMQ_CLUSTER),
            "kind": "RabbitmqCluster",
            "metadata": {"name": name, "namespace": ns},
            "spec": s,
        })];
        if spec.monitoring {
            objects.push(pod_monitor(&spec, name, ns, ctx));
        }
        Expansion {
            network: network(&spec, m),
            objects,
            ..Default::default()
        }
    }
}
