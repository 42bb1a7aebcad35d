//! `Redis`, rendered for the OT-Container-Kit (Opstree) redis-operator ≥ 0.22.
//!
//! The original emitted an invented `redis.redis.io/v1alpha1 Redis`. This emits the operator's
//! own kinds, one per mode: `Redis` (standalone), `RedisReplication` (a master and replicas),
//! `RedisReplication` plus `RedisSentinel` (automatic failover), or `RedisCluster` (sharded
//! leaders and followers). Eviction and persistence go into the ConfigMap the operator includes
//! into `redis.conf` (`redisConfig.additionalRedisConfig`, key `redis-additional.conf`), as real
//! `redis.conf` lines; the password stays in a Secret the user names (`redisSecret`). The
//! operator creates no ServiceMonitor for its exporter sidecar, so a PodMonitor is emitted.
//!
//! What the operator does, read from its source (v0.22, the release of the CRDs checked
//! against): its pods carry `app: <statefulset>`, `redis_setup_type: <mode>`, `role: <role>`
//! (cluster pods also `cluster: <name>`); its Services are `<name>` (standalone), `<name>` and
//! `<name>-master` (replication), `<name>-sentinel` (sentinel, port 26379) and `<name>-leader`
//! (cluster); the exporter listens on 9121 (port name `redis-exporter`); the operator itself
//! connects to the pods to set up replication and the cluster.

use crate::kind::network::{self, NetworkTarget, Policies, Port};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{
    Context, Example, Expansion, Gvk, ModuleResource, OutputDef, OutputValue, OutputValues,
    Problems,
};
use crate::modules::shared::container::ResourcesSpec;
use crate::modules::shared::meta;
use crate::schema::operators;
use crate::types::Quantity;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub struct Redis;

/// Namespace the operator runs in when installed as its documentation shows
/// (`helm install redis-operator ot-helm/redis-operator --namespace ot-operators`).
pub const OPERATOR_NAMESPACE: &str = "ot-operators";
/// The Redis client port.
pub const PORT: i64 = 6379;
/// The Redis Cluster bus port (client port + 10000).
pub const BUS_PORT: i64 = 16379;
/// The Sentinel port.
pub const SENTINEL_PORT: i64 = 26379;
/// The port of the operator's redis-exporter sidecar.
pub const EXPORTER_PORT: i64 = 9121;
/// The master group the operator's Sentinels monitor by default.
pub const MASTER_GROUP: &str = "myMaster";
/// The key of the additional-config ConfigMap the operator includes into `redis.conf`.
pub const CONFIG_KEY: &str = "redis-additional.conf";

/// The images the operator documents (its Helm charts and examples), pinned.
const REDIS_IMAGE: &str = "quay.io/opstree/redis:v7.0.15";
const REDIS_SENTINEL_IMAGE: &str = "quay.io/opstree/redis-sentinel:v7.0.15";
const EXPORTER_IMAGE: &str = "quay.io/opstree/redis-exporter:v1.44.0";
/// Valkey's own image (BSD-licensed Redis 7.2 fork); it carries the `redis-server`,
/// `redis-sentinel` and `redis-cli` names the operator runs.
const VALKEY_IMAGE: &str = "docker.io/valkey/valkey:8.1.4";

/// How the servers are arranged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One server (operator kind `Redis`).
    Standalone,
    /// A master and `replicas - 1` replicas (`RedisReplication`); the operator promotes a
    /// replica when the master is lost.
    #[default]
    Replication,
    /// Replication watched by Sentinels that fail over and tell clients the master
    /// (`RedisReplication` + `RedisSentinel`).
    Sentinel,
    /// Data sharded over `replicas` leaders, each with followers (`RedisCluster`); clients must
    /// speak the cluster protocol.
    Cluster,
}

/// Which server image runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// The operator's own Redis 7.0 images (`quay.io/opstree/redis`, `…/redis-sentinel`),
    /// whose entrypoint writes `redis.conf` from the operator's settings.
    #[default]
    Redis,
    /// Valkey 8.1 (`valkey/valkey`). Its image has no Opstree entrypoint, so the operator must
    /// write the configuration itself: run it with the feature gate
    /// `GenerateConfigInInitContainer=true`.
    Valkey,
}

/// Data persistence on each server's volume.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Persistence {
    /// Point-in-time snapshots (`save 3600 1 300 100 60 10000`, `appendonly no`).
    #[default]
    Rdb,
    /// An append-only file fsynced every second (`appendonly yes`, `appendfsync everysec`).
    Aof,
    /// Nothing on disk: no volume, no snapshots (a pure cache).
    None,
}

/// What Redis evicts when it reaches `maxmemory` (75% of the container's memory limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MaxmemoryPolicy {
    /// Any key, least recently used first.
    #[default]
    AllkeysLru,
    /// Any key, least frequently used first.
    AllkeysLfu,
    /// Any key, at random.
    AllkeysRandom,
    /// Keys with an expiry, least recently used first.
    VolatileLru,
    /// Keys with an expiry, least frequently used first.
    VolatileLfu,
    /// Keys with an expiry, at random.
    VolatileRandom,
    /// Keys with an expiry, nearest expiry first.
    VolatileTtl,
    /// Nothing: writes fail when memory is full.
    Noeviction,
}

impl MaxmemoryPolicy {
    fn as_str(self) -> &'static str {
        match self {
            MaxmemoryPolicy::AllkeysLru => "allkeys-lru",
            MaxmemoryPolicy::AllkeysLfu => "allkeys-lfu",
            MaxmemoryPolicy::AllkeysRandom => "allkeys-random",
            MaxmemoryPolicy::VolatileLru => "volatile-lru",
            MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
            MaxmemoryPolicy::VolatileRandom => "volatile-random",
            MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
            MaxmemoryPolicy::Noeviction => "noeviction",
        }
    }
}

/// The persistent volume of each server (the operator's `storage.volumeClaimTemplate`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSpec {
    /// Size of each server's volume, e.g. `8Gi`.
    #[serde(default = "default_size")]
    pub size: Quantity,
    /// StorageClass to provision from; the cluster's default when not given.
    pub storage_class: Option<String>,
}

fn default_size() -> Quantity {
    Quantity::String("8Gi".into())
}

impl Default for StorageSpec {
    fn default() -> Self {
        StorageSpec {
            size: default_size(),
            storage_class: None,
        }
    }
}

/// A key of a Secret the user manages.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Name of the Secret, in the resource's namespace.
    pub name: String,
    /// Key holding the password.
    #[serde(default = "password")]
    pub key: String,
}

fn password() -> String {
    "password".into()
}

/// Password authentication (`requirepass`/`masterauth`), from a Secret; never a password here.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthSpec {
    /// The Secret key holding the password (the operator's `redisSecret`).
    pub secret_ref: SecretKeyRef,
}

/// The Sentinels of `mode: sentinel`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentinelSpec {
    /// Sentinel pods; an odd number of at least 3 keeps a majority through one loss.
    #[serde(default = "three")]
    pub replicas: i32,
    /// Sentinels that must agree the master is down before a failover (at most `replicas`).
    #[serde(default = "two")]
    pub quorum: i32,
}

impl Default for SentinelSpec {
    fn default() -> Self {
        SentinelSpec {
            replicas: three(),
            quorum: two(),
        }
    }
}

fn three() -> i32 {
    3
}
fn two() -> i32 {
    2
}

/// The shards of `mode: cluster`: `replicas` leaders, and their followers.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Follower pods in all (the operator's `redisFollower.replicas`); one per leader when not
    /// given.
    pub followers: Option<i32>,
}

/// Redis (or Valkey) run by the OT-Container-Kit redis-operator: standalone, replicated,
/// replicated with Sentinel failover, or sharded as a Redis Cluster; with eviction, persistence,
/// password authentication from a Secret and Prometheus metrics.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedisSpec {
    /// How the servers are arranged.
    #[serde(default)]
    pub mode: Mode,
    /// Which server image runs.
    #[serde(default)]
    pub image: Engine,
    /// Servers: 1 in standalone mode; master plus replicas in replication and sentinel mode
    /// (1-10, default 3); leaders in cluster mode (3-10, default 3).
    pub replicas: Option<i32>,
    /// Followers of cluster mode.
    pub cluster: Option<ClusterSpec>,
    /// Sentinels of sentinel mode (3 Sentinels, quorum 2, when not given).
    pub sentinel: Option<SentinelSpec>,
    /// Volume of each server (8Gi when not given); none with `persistence: none`.
    pub storage: Option<StorageSpec>,
    /// CPU and memory of each server, over the platform's defaults; `maxmemory` is 75% of the
    /// memory limit.
    pub resources: Option<ResourcesSpec>,
    /// What is evicted when memory is full.
    #[serde(default)]
    pub maxmemory_policy: MaxmemoryPolicy,
    /// Data persistence.
    #[serde(default)]
    pub persistence: Persistence,
    /// Password authentication.
    pub auth: Option<AuthSpec>,
    /// Run the operator's redis-exporter sidecar (port 9121) and a PodMonitor for it.
    #[serde(default = "crate::modules::shared::defaults::yes")]
    pub exporter: bool,
}

impl RedisSpec {
    fn replicas(&self) -> i32 {
        self.replicas
            .unwrap_or(if self.mode == Mode::Standalone { 1 } else { 3 })
    }
}

fn validate(spec: &RedisSpec, p: &mut Problems<'_>) {
    meta::check_name_room(
        match spec.mode {
            Mode::Cluster => "-follower-additional",
            Mode::Sentinel => "-sentinel-additional",
            _ => "-additional",
        },
        p,
    );
    let n = spec.replicas();
    match spec.mode {
        Mode::Standalone if n != 1 => p.fail(
            "spec.replicas",
            format!("standalone runs one server, not {n}: use mode replication or sentinel for replicas"),
        ),
        Mode::Replication | Mode::Sentinel if !(1..=10).contains(&n) => {
            p.fail("spec.replicas", format!("replicas {n} must be between 1 and 10"))
        }
        Mode::Sentinel if n < 2 => p.fail(
            "spec.replicas",
            "sentinel mode needs at least 2 servers: a master and a replica to fail over to",
        ),
        Mode::Cluster if !(3..=10).contains(&n) => p.fail(
            "spec.replicas",
            format!("a Redis Cluster needs 3 to 10 leaders, not {n}"),
        ),
        _ => {}
    }
    if let Some(c) = &spec.cluster {
        if spec.mode != Mode::Cluster {
            p.fail("spec.cluster", "cluster is only for mode cluster");
        } else if let Some(f) = c.followers {
            if f < 0 || f > 5 * n {
                p.fail(
                    "spec.cluster.followers",
                    format!(
                        "followers {f} must be between 0 and 5 per leader ({})",
                        5 * n
                    ),
                );
            }
        }
    }
    if let Some(s) = &spec.sentinel {
        if spec.mode != Mode::Sentinel {
            p.fail("spec.sentinel", "sentinel is only for mode sentinel");
        } else {
            if s.replicas < 3 || s.replicas % 2 == 0 {
                p.fail(
                    "spec.sentinel.replicas",
                    format!(
                        "{} Sentinels cannot keep a majority: use an odd number of at least 3",
                        s.replicas
                    ),
                );
            }
            if s.quorum < 1 || s.quorum > s.replicas {
                p.fail(
                    "spec.sentinel.quorum",
                    format!(
                        "quorum {} must be between 1 and the Sentinels ({})",
                        s.quorum, s.replicas
                    ),
                );
            }
        }
    }
    if let Some(s) = &spec.storage {
        if spec.persistence == Persistence::None {
            p.fail(
                "spec.storage",
                "persistence none keeps nothing on disk: remove storage or choose rdb or aof",
            );
        }
        p.check("spec.storage.size", validate::quantity(&s.size.text()));
        if let Some(sc) = &s.storage_class {
            p.check("spec.storage.storageClass", validate::dns1123_subdomain(sc));
        }
    }
    if let Some(r) = &spec.resources {
        r.check(p, "spec.resources");
    }
    if let Some(a) = &spec.auth {
        p.check(
            "spec.auth.secretRef.name",
            validate::dns1123_subdomain(&a.secret_ref.name),
        );
        let k = &a.secret_ref.key;
        let ok = !k.is_empty()
            && k.len() <= 253
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            p.fail(
                "spec.auth.secretRef.key",
                format!("{k:?}: expected a Secret key (letters, digits, '-', '_', '.')"),
            );
        }
    }
    if spec.image == Engine::Valkey {
        p.warn(
            "spec.image",
            "valkey images need the redis-operator to run with the feature gate GenerateConfigInInitContainer=true (the Opstree entrypoint that otherwise writes redis.conf is not in them)",
        );
    }
}

fn cr_meta(name: &str, namespace: &str, app: &str, component: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "labels": {"app.kubernetes.io/name": app, "app.kubernetes.io/component": component},
    })
}

/// `maxmemory` in bytes: 75% of the memory limit, leaving room for replication buffers and the
/// copy-on-write of snapshots.
fn maxmemory(resources: &Value) -> Option<u64> {
    let limit = resources.pointer("/limits/memory")?.as_str()?;
    let bytes = validate::quantity::parse(limit)?;
    Some((bytes * 0.75) as u64)
}

/// The `redis.conf` lines the operator includes after its own.
fn redis_conf(spec: &RedisSpec, name: &str, resources: &Value) -> String {
    let mut lines = vec![format!(
        "# {name}: included by the redis-operator after the settings it writes"
    )];
    if let Some(bytes) = maxmemory(resources) {
        lines.push(format!("maxmemory {bytes}"));
    }
    lines.push(format!(
        "maxmemory-policy {}",
        spec.maxmemory_policy.as_str()
    ));
    // The image turns on both snapshots and AOF when it has a volume: say exactly what is kept.
    // `save ""` clears the snapshot points set before it.
    lines.push("save \"\"".into());
    match spec.persistence {
        Persistence::Rdb => {
            lines.push("save 3600 1 300 100 60 10000".into());
            lines.push("appendonly no".into());
        }
        Persistence::Aof => {
            lines.push("appendonly yes".into());
            lines.push("appendfsync everysec".into());
        }
        Persistence::None => lines.push("appendonly no".into()),
    }
    lines.join("\n") + "\n"
}

fn pod_security() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "fsGroup": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

fn container_security() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

fn volume_claim(size: &Quantity, class: Option<&String>) -> Value {
    json!({"spec": crate::modules::shared::storage::claim_spec(size, class)})
}

/// Operator labels on the server pods of `name` in `mode`.
pub fn server_labels(name: &str, mode: Mode) -> Map<String, Value> {
    let pairs: Vec<(&str, String)> = match mode {
        Mode::Standalone => vec![
            ("app", name.into()),
            ("redis_setup_type", "standalone".into()),
            ("role", "standalone".into()),
        ],
        Mode::Replication | Mode::Sentinel => vec![
            ("app", name.into()),
            ("redis_setup_type", "replication".into()),
            ("role", "replication".into()),
        ],
        // Leaders and followers: the operator's common `cluster` label.
        Mode::Cluster => vec![
            ("cluster", name.into()),
            ("redis_setup_type", "cluster".into()),
        ],
    };
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect()
}

/// Labels on the Sentinel pods of the `RedisSentinel` `name`: the operator's own, and the
/// `app.kubernetes.io/name` it copies from the custom resource (which names the resource, so
/// that checks see whose pods they are).
pub fn sentinel_labels(name: &str) -> Map<String, Value> {
    [
        ("app.kubernetes.io/name", name.to_string()),
        ("app", format!("{name}-sentinel")),
        ("redis_setup_type", "sentinel".into()),
        ("role", "sentinel".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Value::String(v)))
    .collect()
}

/// The server pods and, in sentinel mode, the Sentinel pods, with the fixed peers they need:
/// replication (and the cluster bus) among the servers, the Sentinels, and the operator.
fn network(spec: &RedisSpec, m: &ModuleResource<'_>) -> Vec<NetworkTarget> {
    let (name, ns) = (m.name, m.namespace.as_str());
    let own = server_labels(name, spec.mode);
    let peer_ports = if spec.mode == Mode::Cluster {
        vec![Port::tcp(PORT), Port::tcp(BUS_PORT)]
    } else {
        vec![Port::tcp(PORT)]
    };
    let mut ingress = vec![
        json!({"from": [network::pods(&own)], "ports": network::port_list(&peer_ports)}),
        // The operator sets up replication, failover and the cluster through redis-cli.
        json!({"from": [network::namespace(OPERATOR_NAMESPACE)], "ports": network::port_list(&[Port::tcp(PORT)])}),
    ];
    let sentinels = sentinel_labels(name);
    if spec.mode == Mode::Sentinel {
        ingress.push(json!({"from": [network::pods(&sentinels)], "ports": network::port_list(&[Port::tcp(PORT)])}));
    }
    let mut targets = vec![NetworkTarget {
        name: name.to_string(),
        namespace: ns.to_string(),
        selector: own.clone(),
        ports: vec![Port::tcp(PORT)],
        depends_on: Vec::new(),
        exposed: false,
        metrics: if spec.exporter {
            vec![Port::tcp(EXPORTER_PORT)]
        } else {
            Vec::new()
        },
        policies: Policies::Combined {
            name: format!("{name}-redis"),
            ingress,
            egress: vec![
                json!({"to": [network::pods(&own)], "ports": network::port_list(&peer_ports)}),
            ],
        },
    }];
    if spec.mode == Mode::Sentinel {
        let sentinel_port = vec![Port::tcp(SENTINEL_PORT)];
        targets.push(NetworkTarget {
            // Dependents name the resource; they reach the Sentinels too, to find the master.
            name: name.to_string(),
            namespace: ns.to_string(),
            selector: sentinels.clone(),
            ports: sentinel_port.clone(),
            depends_on: Vec::new(),
            exposed: false,
            metrics: Vec::new(),
            policies: Policies::Combined {
                name: format!("{name}-sentinel"),
                ingress: vec![
                    json!({"from": [network::pods(&sentinels)], "ports": network::port_list(&sentinel_port)}),
                    json!({"from": [network::namespace(OPERATOR_NAMESPACE)], "ports": network::port_list(&sentinel_port)}),
                ],
                egress: vec![
                    json!({"to": [network::pods(&own)], "ports": network::port_list(&[Port::tcp(PORT)])}),
                    json!({"to": [network::pods(&sentinels)], "ports": network::port_list(&sentinel_port)}),
                ],
            },
        });
    }
    targets
}

impl Kind for Redis {
    const KIND: &'static str = "Redis";
    const SUMMARY: &'static str =
        "Redis or Valkey on the OT-Container-Kit redis-operator: Redis, RedisReplication, RedisSentinel, RedisCluster, ConfigMap, PodMonitor";
    const EXAMPLE: Example = crate::example!("examples/database-management/redis.yaml");
    type Spec = RedisSpec;

    fn validate(spec: &RedisSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for Redis {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ConfigMap"),
        Gvk::new("redis.redis.opstreelabs.in/v1beta2", "Redis"),
        Gvk::new("redis.redis.opstreelabs.in/v1beta2", "RedisReplication"),
        Gvk::new("redis.redis.opstreelabs.in/v1beta2", "RedisSentinel"),
        Gvk::new("redis.redis.opstreelabs.in/v1beta2", "RedisCluster"),
        Gvk::new("monitoring.coreos.com/v1", "PodMonitor"),
    ];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "host",
            description: "the Service that reaches the master: `<name>` (standalone), `<name>-master` (replication, sentinel), `<name>-leader` (cluster: a seed for cluster-aware clients)",
            secret: false,
        },
        OutputDef {
            name: "port",
            description: "the Redis port, 6379",
            secret: false,
        },
        OutputDef {
            name: "password",
            description: "the password's Secret key (`auth.secretRef`); only with auth",
            secret: true,
        },
        OutputDef {
            name: "sentinelHost",
            description: "the Sentinels' Service `<name>-sentinel`; only in sentinel mode",
            secret: false,
        },
        OutputDef {
            name: "sentinelPort",
            description: "the Sentinel port, 26379; only in sentinel mode",
            secret: false,
        },
        OutputDef {
            name: "masterName",
            description: "the master group the Sentinels monitor, `myMaster`; only in sentinel mode",
            secret: false,
        },
    ];

    fn outputs(spec: &RedisSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let (name, ns) = (m.name, m.namespace.as_str());
        let service = match spec.mode {
            Mode::Standalone => name.to_string(),
            Mode::Replication | Mode::Sentinel => format!("{name}-master"),
            Mode::Cluster => format!("{name}-leader"),
        };
        let mut out: OutputValues = vec![
            ("host", OutputValue::Value(format!("{service}.{ns}.svc"))),
            ("port", OutputValue::Value(PORT.to_string())),
        ];
        if let Some(a) = &spec.auth {
            out.push((
                "password",
                OutputValue::Secret {
                    name: a.secret_ref.name.clone(),
                    key: a.secret_ref.key.clone(),
                },
            ));
        }
        if spec.mode == Mode::Sentinel {
            out.push((
                "sentinelHost",
                OutputValue::Value(format!("{name}-sentinel.{ns}.svc")),
            ));
            out.push((
                "sentinelPort",
                OutputValue::Value(SENTINEL_PORT.to_string()),
            ));
            out.push(("masterName", OutputValue::Value(MASTER_GROUP.into())));
        }
        out
    }

    fn expand(spec: RedisSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let config_name = format!("{name}-config");
        let resources = meta::to_value(&spec.resources.clone().unwrap_or_default().build(ctx));
        let mut objects = vec![json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": cr_meta(&config_name, ns, name, "config"),
            "data": {CONFIG_KEY: redis_conf(&spec, name, &resources)},
        })];

        let (image, sentinel_image) = match spec.image {
            Engine::Redis => (REDIS_IMAGE, REDIS_SENTINEL_IMAGE),
            Engine::Valkey => (VALKEY_IMAGE, VALKEY_IMAGE),
        };
        let mut kubernetes = Map::new();
        kubernetes.insert("image".into(), json!(image));
        kubernetes.insert("imagePullPolicy".into(), json!("IfNotPresent"));
        kubernetes.insert("resources".into(), resources.clone());
        if let Some(a) = &spec.auth {
            kubernetes.insert(
                "redisSecret".into(),
                json!({"name": a.secret_ref.name, "key": a.secret_ref.key}),
            );
        }
        let redis_config = json!({"additionalRedisConfig": config_name});
        // The exporter and the Sentinels are small: the platform's default resources.
        let default_resources = meta::to_value(&ResourcesSpec::default().build(ctx));
        let exporter = json!({
            "enabled": true,
            "image": EXPORTER_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "port": EXPORTER_PORT,
            "resources": default_resources,
            "securityContext": container_security(),
        });
        let persistent = spec.persistence != Persistence::None;
        let default_storage = StorageSpec::default();
        let storage = spec.storage.as_ref().unwrap_or(&default_storage);
        let n = spec.replicas();

        let mut cr = Map::new();
        if spec.mode != Mode::Standalone {
            cr.insert("clusterSize".into(), json!(n));
        }
        if spec.mode == Mode::Cluster {
            cr.insert("clusterVersion".into(), json!("v7"));
            cr.insert("persistenceEnabled".into(), json!(persistent));
        }
        cr.insert("kubernetesConfig".into(), Value::Object(kubernetes.clone()));
        cr.insert("podSecurityContext".into(), pod_security());
        if spec.mode == Mode::Cluster {
            let followers = spec.cluster.as_ref().and_then(|c| c.followers).unwrap_or(n);
            let role = |replicas: i32| {
                let mut r = Map::new();
                r.insert("replicas".into(), json!(replicas));
                r.insert("redisConfig".into(), redis_config.clone());
                r.insert("securityContext".into(), container_security());
                if replicas > 1 {
                    r.insert("pdb".into(), json!({"enabled": true, "maxUnavailable": 1}));
                }
                Value::Object(r)
            };
            cr.insert("redisLeader".into(), role(n));
            cr.insert("redisFollower".into(), role(followers));
        } else {
            cr.insert("securityContext".into(), container_security());
            cr.insert("redisConfig".into(), redis_config.clone());
            if spec.mode != Mode::Standalone && n > 1 {
                cr.insert("pdb".into(), json!({"enabled": true, "maxUnavailable": 1}));
            }
        }
        if spec.exporter {
            cr.insert("redisExporter".into(), exporter);
        }
        if persistent {
            let mut s = Map::new();
            s.insert(
                "volumeClaimTemplate".into(),
                volume_claim(&storage.size, storage.storage_class.as_ref()),
            );
            if spec.mode == Mode::Cluster {
                // nodes.conf, the cluster's view of its members, survives restarts.
                s.insert("nodeConfVolume".into(), json!(true));
                s.insert(
                    "nodeConfVolumeClaimTemplate".into(),
                    volume_claim(
                        &Quantity::String("1Gi".into()),
                        storage.storage_class.as_ref(),
                    ),
                );
            }
            cr.insert("storage".into(), Value::Object(s));
        }
        let (op, component) = match spec.mode {
            Mode::Standalone => (&operators::REDIS, "standalone"),
            Mode::Replication | Mode::Sentinel => (&operators::REDIS_REPLICATION, "replication"),
            Mode::Cluster => (&operators::REDIS_CLUSTER, "cluster"),
        };
        objects.push(json!({
            "apiVersion": ctx.api_version(op),
            "kind": op.kind,
            "metadata": cr_meta(name, ns, name, component),
            "spec": cr,
        }));

        if spec.mode == Mode::Sentinel {
            let s = spec.sentinel.as_ref();
            let (replicas, quorum) = s.map_or((3, 2), |s| (s.replicas, s.quorum));
            let mut k = kubernetes.clone();
            k.insert("image".into(), json!(sentinel_image));
            k.insert("resources".into(), default_resources.clone());
            k.remove("redisSecret");
            let mut config = Map::new();
            config.insert("redisReplicationName".into(), json!(name));
            config.insert("masterGroupName".into(), json!(MASTER_GROUP));
            config.insert("quorum".into(), json!(quorum.to_string()));
            if let Some(a) = &spec.auth {
                config.insert(
                    "redisReplicationPassword".into(),
                    json!({"secretKeyRef": {"name": a.secret_ref.name, "key": a.secret_ref.key}}),
                );
            }
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::REDIS_SENTINEL),
                "kind": "RedisSentinel",
                "metadata": cr_meta(name, ns, name, "sentinel"),
                "spec": {
                    "clusterSize": replicas,
                    "kubernetesConfig": k,
                    "podSecurityContext": pod_security(),
                    "securityContext": container_security(),
                    "pdb": {"enabled": true, "maxUnavailable": 1},
                    "redisSentinelConfig": config,
                },
            }));
        }

        if spec.exporter {
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::POD_MONITOR),
                "kind": "PodMonitor",
                "metadata": cr_meta(name, ns, name, "metrics"),
                "spec": {
                    "selector": {"matchLabels": server_labels(name, spec.mode)},
                    "podMetricsEndpoints": [{"port": "redis-exporter"}],
                },
            }));
        }
        Expansion {
            network: network(&spec, m),
            objects,
            ..Default::default()
        }
    }
}
