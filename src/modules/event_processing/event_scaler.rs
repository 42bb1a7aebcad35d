//! `EventScaler`: event-driven autoscaling of a workload by KEDA: a `ScaledObject` (KEDA creates
//! and owns the HorizontalPodAutoscaler, `keda-hpa-<name>`, and scales to zero itself) and,
//! for triggers that authenticate, a `TriggerAuthentication` whose `secretTargetRef`s point at
//! keys of Secrets you manage: no credential is written in the spec.
//!
//! A workload scaled here must not also have its own `autoscaling` (an HPA): two HPAs on one
//! workload disable each other, and the engine reports the pair.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::container::SecretKeyRef;
use crate::modules::shared::{defaults, meta};
use crate::schema::operators;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct EventScaler;

/// The kind of workload scaled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TargetKind {
    #[default]
    Deployment,
    StatefulSet,
}

/// The workload KEDA scales.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRef {
    /// Its kind.
    #[serde(default)]
    pub kind: TargetKind,
    /// Its name; a module workload's (`Worker`, `WebApp`) Deployment has the workload's name.
    pub name: String,
}

/// Credentials of a trigger, by KEDA parameter name (e.g. `password`, `sasl`, `bearerToken`):
/// each a key of a Secret in this namespace.
pub type AuthSpec = BTreeMap<String, SecretKeyRef>;

fn fifty() -> i64 {
    50
}
fn queue_length() -> RabbitMode {
    RabbitMode::QueueLength
}

/// Scale on the consumer-group lag of a Kafka topic.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaTrigger {
    /// Brokers, `host:port[,host:port…]` (a `KafkaCluster`'s `bootstrap` output).
    pub bootstrap_servers: String,
    /// The consumer group whose lag is measured.
    pub consumer_group: String,
    /// The topic.
    pub topic: String,
    /// Target lag per replica.
    #[serde(default = "fifty")]
    pub lag_threshold: i64,
    /// Credentials: `sasl`, `username`, `password`, `tls`, `ca`, `cert`, `key`, `keyPassword`.
    #[serde(default)]
    pub auth: AuthSpec,
}

/// How a RabbitMQ queue is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RabbitMode {
    /// Messages waiting in the queue.
    QueueLength,
    /// Messages published per second.
    MessageRate,
}

/// Scale on a RabbitMQ queue.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RabbitMQTrigger {
    /// The queue.
    pub queue_name: String,
    /// Target per replica: messages (`QueueLength`) or messages per second (`MessageRate`).
    pub value: i64,
    /// What is measured.
    #[serde(default = "queue_length")]
    pub mode: RabbitMode,
    /// The Secret key holding the AMQP or HTTP URL with its credentials
    /// (`amqp://user:password@host:5672/vhost`).
    pub host: SecretKeyRef,
    /// Further credentials: `username`, `password`, `tls`, `ca`, `cert`, `key`, `keyPassword`.
    #[serde(default)]
    pub auth: AuthSpec,
}

/// Scale on the pending messages of a JetStream consumer.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NatsJetStreamTrigger {
    /// `host:port` of the servers' monitoring endpoint: the headless Service of a clustered
    /// NATS (a `NATSCluster`'s `monitoringEndpoint` output), e.g. `nats-headless.messaging.svc:8222`.
    pub nats_server_monitoring_endpoint: String,
    /// The NATS account of the stream (`$G` without accounts).
    #[serde(default = "global_account")]
    pub account: String,
    /// The stream.
    pub stream: String,
    /// The durable consumer.
    pub consumer: String,
    /// Target pending messages per replica.
    #[serde(default = "fifty")]
    pub lag_threshold: i64,
}

fn global_account() -> String {
    "$G".into()
}

/// Scale on the value of a Prometheus query.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrometheusTrigger {
    /// The Prometheus server, e.g. `http://prometheus.monitoring.svc:9090`.
    pub server_address: String,
    /// A PromQL query returning one value.
    pub query: String,
    /// Target value per replica.
    pub threshold: String,
    /// Credentials: `bearerToken`, `username`, `password`, `ca`, `cert`, `key`.
    #[serde(default)]
    pub auth: AuthSpec,
}

/// Run a fixed number of replicas in a time window.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CronTrigger {
    /// IANA time zone of the schedule, e.g. `Europe/Paris`.
    pub timezone: String,
    /// When the window opens, a five-field cron schedule.
    pub start: String,
    /// When it closes, a five-field cron schedule.
    pub end: String,
    /// Replicas during the window.
    pub desired_replicas: i32,
}

/// One event source; exactly one key.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Trigger {
    /// Kafka consumer-group lag.
    Kafka(KafkaTrigger),
    /// RabbitMQ queue length or message rate.
    #[serde(rename = "rabbitmq")]
    RabbitMQ(RabbitMQTrigger),
    /// NATS JetStream consumer lag.
    NatsJetstream(NatsJetStreamTrigger),
    /// A Prometheus query.
    Prometheus(PrometheusTrigger),
    /// A time window.
    Cron(CronTrigger),
}

impl Trigger {
    /// KEDA's trigger type.
    fn type_name(&self) -> &'static str {
        match self {
            Trigger::Kafka(_) => "kafka",
            Trigger::RabbitMQ(_) => "rabbitmq",
            Trigger::NatsJetstream(_) => "nats-jetstream",
            Trigger::Prometheus(_) => "prometheus",
            Trigger::Cron(_) => "cron",
        }
    }

    /// The parameters KEDA reads from a TriggerAuthentication for this trigger.
    fn auth_parameters(&self) -> &'static [&'static str] {
        match self {
            Trigger::Kafka(_) => &[
                "sasl",
                "username",
                "password",
                "tls",
                "ca",
                "cert",
                "key",
                "keyPassword",
            ],
            Trigger::RabbitMQ(_) => &[
                "username",
                "password",
                "tls",
                "ca",
                "cert",
                "key",
                "keyPassword",
            ],
            Trigger::Prometheus(_) => &["bearerToken", "username", "password", "ca", "cert", "key"],
            Trigger::NatsJetstream(_) | Trigger::Cron(_) => &[],
        }
    }

    /// Its credentials, by parameter (RabbitMQ's `host` first).
    fn auth(&self) -> Vec<(String, &SecretKeyRef)> {
        let extra = match self {
            Trigger::Kafka(t) => Some(&t.auth),
            Trigger::RabbitMQ(t) => Some(&t.auth),
            Trigger::Prometheus(t) => Some(&t.auth),
            Trigger::NatsJetstream(_) | Trigger::Cron(_) => None,
        };
        let mut out = Vec::new();
        if let Trigger::RabbitMQ(t) = self {
            out.push(("host".to_string(), &t.host));
        }
        for (k, v) in extra.into_iter().flatten() {
            out.push((k.clone(), v));
        }
        out
    }

    /// The trigger's `metadata` (every value a string, as KEDA reads it).
    fn metadata(&self) -> Map<String, Value> {
        let pairs: Vec<(&str, String)> = match self {
            Trigger::Kafka(t) => vec![
                ("bootstrapServers", t.bootstrap_servers.clone()),
                ("consumerGroup", t.consumer_group.clone()),
                ("topic", t.topic.clone()),
                ("lagThreshold", t.lag_threshold.to_string()),
            ],
            Trigger::RabbitMQ(t) => vec![
                ("queueName", t.queue_name.clone()),
                (
                    "mode",
                    match t.mode {
                        RabbitMode::QueueLength => "QueueLength",
                        RabbitMode::MessageRate => "MessageRate",
                    }
                    .to_string(),
                ),
                ("value", t.value.to_string()),
            ],
            Trigger::NatsJetstream(t) => vec![
                (
                    "natsServerMonitoringEndpoint",
                    t.nats_server_monitoring_endpoint.clone(),
                ),
                ("account", t.account.clone()),
                ("stream", t.stream.clone()),
                ("consumer", t.consumer.clone()),
                ("lagThreshold", t.lag_threshold.to_string()),
            ],
            Trigger::Prometheus(t) => vec![
                ("serverAddress", t.server_address.clone()),
                ("query", t.query.clone()),
                ("threshold", t.threshold.clone()),
            ],
            Trigger::Cron(t) => vec![
                ("timezone", t.timezone.clone()),
                ("start", t.start.clone()),
                ("end", t.end.clone()),
                ("desiredReplicas", t.desired_replicas.to_string()),
            ],
        };
        pairs
            .into_iter()
            .map(|(k, v)| (k.into(), json!(v)))
            .collect()
    }
}

/// Event-driven autoscaling of a workload by KEDA, down to zero replicas when idle.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventScalerSpec {
    /// The workload to scale.
    pub target_ref: TargetRef,
    /// Fewest replicas; 0 lets KEDA stop every pod while no event waits.
    #[serde(default)]
    pub min: i32,
    /// Most replicas.
    #[serde(default = "defaults::int::<10>")]
    pub max: i32,
    /// Seconds between checks of the triggers; KEDA's default (30) when not given.
    pub polling_interval: Option<i32>,
    /// Seconds after the last active trigger before scaling to `min` 0; KEDA's default (300)
    /// when not given.
    pub cooldown_period: Option<i32>,
    /// The event sources; the workload scales on whichever asks for the most replicas.
    pub triggers: Vec<Trigger>,
}

fn positive(p: &mut Problems<'_>, field: String, v: i64, what: &str) {
    if v < 1 {
        p.fail(field, format!("{what} must be at least 1"));
    }
}

fn validate(spec: &EventScalerSpec, p: &mut Problems<'_>) {
    meta::check_name_room("-prometheus-10", p);
    p.check(
        "spec.targetRef.name",
        validate::dns1123_subdomain(&spec.target_ref.name),
    );
    if spec.min < 0 {
        p.fail("spec.min", "min must not be negative");
    }
    if spec.max < 1 {
        p.fail("spec.max", "max must be at least 1");
    } else if spec.max < spec.min {
        p.fail(
            "spec.max",
            format!("max {} is below min {}", spec.max, spec.min),
        );
    }
    if let Some(v) = spec.polling_interval {
        positive(
            p,
            "spec.pollingInterval".into(),
            v.into(),
            "pollingInterval",
        );
    }
    if spec.cooldown_period.is_some_and(|v| v < 0) {
        p.fail("spec.cooldownPeriod", "cooldownPeriod must not be negative");
    }
    if spec.triggers.is_empty() {
        p.fail("spec.triggers", "give at least one trigger");
    }
    let mut only_cron = !spec.triggers.is_empty();
    for (i, t) in spec.triggers.iter().enumerate() {
        let f = format!("spec.triggers[{i}].{}", t.type_name());
        for (param, r) in t.auth() {
            let at = if param == "host" && matches!(t, Trigger::RabbitMQ(_)) {
                format!("{f}.host")
            } else {
                format!("{f}.auth.{param}")
            };
            if param != "host" && !t.auth_parameters().contains(&param.as_str()) {
                let hint =
                    validate::suggest::did_you_mean(&param, t.auth_parameters().iter().copied())
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                p.fail(
                    &at,
                    format!(
                        "{} does not read a {param:?} credential{hint}: expected one of {}",
                        t.type_name(),
                        t.auth_parameters().join(", ")
                    ),
                );
            }
            p.check(format!("{at}.name"), validate::dns1123_subdomain(&r.name));
        }
        if !matches!(t, Trigger::Cron(_)) {
            only_cron = false;
        }
        match t {
            Trigger::Kafka(k) => {
                positive(
                    p,
                    format!("{f}.lagThreshold"),
                    k.lag_threshold,
                    "lagThreshold",
                );
                if k.bootstrap_servers.split(',').any(|s| !s.contains(':')) {
                    p.fail(
                        format!("{f}.bootstrapServers"),
                        format!("{:?}: expected host:port[,host:port…]", k.bootstrap_servers),
                    );
                }
            }
            Trigger::RabbitMQ(r) => positive(p, format!("{f}.value"), r.value, "value"),
            Trigger::NatsJetstream(n) => {
                positive(
                    p,
                    format!("{f}.lagThreshold"),
                    n.lag_threshold,
                    "lagThreshold",
                );
                let e = &n.nats_server_monitoring_endpoint;
                if e.contains("://") || !e.contains(':') {
                    p.fail(
                        format!("{f}.natsServerMonitoringEndpoint"),
                        format!("{e:?}: expected host:port without a scheme, e.g. nats-headless.messaging.svc:8222"),
                    );
                }
            }
            Trigger::Prometheus(pr) => {
                if !(pr.server_address.starts_with("http://")
                    || pr.server_address.starts_with("https://"))
                {
                    p.fail(
                        format!("{f}.serverAddress"),
                        format!(
                            "{:?}: expected an http:// or https:// URL",
                            pr.server_address
                        ),
                    );
                }
                if pr.threshold.parse::<f64>().map_or(true, |v| v <= 0.0) {
                    p.fail(
                        format!("{f}.threshold"),
                        format!("{:?}: expected a number above 0", pr.threshold),
                    );
                }
            }
            Trigger::Cron(c) => {
                p.check(format!("{f}.start"), validate::cron::schedule(&c.start));
                p.check(format!("{f}.end"), validate::cron::schedule(&c.end));
                if !c.timezone.contains('/') && c.timezone != "UTC" {
                    p.fail(
                        format!("{f}.timezone"),
                        format!(
                            "{:?}: expected an IANA time zone, e.g. Europe/Paris or UTC",
                            c.timezone
                        ),
                    );
                }
                if c.desired_replicas < 1 || c.desired_replicas > spec.max {
                    p.fail(
                        format!("{f}.desiredReplicas"),
                        format!(
                            "desiredReplicas {} must be between 1 and max {}",
                            c.desired_replicas, spec.max
                        ),
                    );
                }
            }
        }
    }
    if only_cron && spec.min == 0 {
        p.warn(
            "spec.min",
            "with only cron triggers and min 0 the workload runs no pod outside its windows",
        );
    }
}

/// The TriggerAuthentication names, one per trigger that authenticates: `<name>-<type>`, then
/// `<name>-<type>-2`… for further triggers of a type.
fn auth_names(spec: &EventScalerSpec, name: &str) -> Vec<Option<String>> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    spec.triggers
        .iter()
        .map(|t| {
            if t.auth().is_empty() {
                return None;
            }
            let n = seen.entry(t.type_name()).or_default();
            *n += 1;
            Some(if *n == 1 {
                format!("{name}-{}", t.type_name())
            } else {
                format!("{name}-{}-{n}", t.type_name())
            })
        })
        .collect()
}

impl Kind for EventScaler {
    const KIND: &'static str = "EventScaler";
    const SUMMARY: &'static str =
        "event-driven autoscaling by KEDA: ScaledObject, TriggerAuthentication";
    const EXAMPLE: Example = crate::example!("examples/event-processing/event-scaler.yaml");
    type Spec = EventScalerSpec;

    fn validate(spec: &EventScalerSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for EventScaler {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("keda.sh/v1alpha1", "TriggerAuthentication"),
        Gvk::new("keda.sh/v1alpha1", "ScaledObject"),
    ];

    fn expand(spec: EventScalerSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let md = |n: &str| json!({"name": n, "namespace": ns, "labels": {"app.kubernetes.io/name": name}});
        let names = auth_names(&spec, name);
        let mut objects = Vec::new();
        let mut triggers = Vec::new();
        for (t, auth) in spec.triggers.iter().zip(&names) {
            let mut tr = Map::new();
            tr.insert("type".into(), json!(t.type_name()));
            tr.insert("metadata".into(), Value::Object(t.metadata()));
            if let Some(a) = auth {
                tr.insert("authenticationRef".into(), json!({"name": a}));
                let refs: Vec<Value> = t
                    .auth()
                    .into_iter()
                    .map(|(param, r)| json!({"parameter": param, "name": r.name, "key": r.key}))
                    .collect();
                objects.push(json!({
                    "apiVersion": ctx.api_version(&operators::KEDA_TRIGGER_AUTHENTICATION),
                    "kind": "TriggerAuthentication",
                    "metadata": md(a),
                    "spec": {"secretTargetRef": refs},
                }));
            }
            triggers.push(Value::Object(tr));
        }
        let kind = match spec.target_ref.kind {
            TargetKind::Deployment => "Deployment",
            TargetKind::StatefulSet => "StatefulSet",
        };
        let mut s = Map::new();
        s.insert(
            "scaleTargetRef".into(),
            json!({"apiVersion": "apps/v1", "kind": kind, "name": spec.target_ref.name}),
        );
        if let Some(v) = spec.polling_interval {
            s.insert("pollingInterval".into(), json!(v));
        }
        if let Some(v) = spec.cooldown_period {
            s.insert("cooldownPeriod".into(), json!(v));
        }
        s.insert("minReplicaCount".into(), json!(spec.min));
        s.insert("maxReplicaCount".into(), json!(spec.max));
        s.insert("triggers".into(), Value::Array(triggers));
        objects.push(json!({
            "apiVersion": ctx.api_version(&operators::KEDA_SCALED_OBJECT),
            "kind": "ScaledObject",
            "metadata": md(name),
            "spec": s,
        }));
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
