//! `NATSStream`: a JetStream stream and its durable consumers, as NACK (the NATS JetStream
//! controller) reads them: a `Stream` and one `Consumer` per consumer, `jetstream.nats.io/v1beta2`.
//! Each names the servers it is created on (`spec.servers`, which NACK honours per resource
//! in control-loop mode and with `--crd-connect` in legacy mode), so a stream lands on the
//! `NATSCluster` it names.
//!
//! The rules the server enforces at creation time are checked here instead: subjects are valid
//! and every consumer filters within them; a work-queue stream's consumers ack explicitly,
//! deliver everything and do not overlap.

use super::nats_cluster;
use crate::kind::spec::{Generate, Kind};
use crate::kind::{
    Context, Example, Expansion, Gvk, ModuleResource, OutputDef, OutputValue, OutputValues,
    Problems,
};
use crate::modules::shared::{defaults, meta};
use crate::schema::operators;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub struct NATSStream;

fn week() -> String {
    "168h".into()
}

/// Where messages are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// On disk (the servers' JetStream volumes).
    #[default]
    File,
    /// In memory: lost when every replica restarts.
    Memory,
}

/// When messages are removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Retention {
    /// When a limit (age, size, count) is reached.
    #[default]
    Limits,
    /// Once every consumer has acknowledged them.
    Interest,
    /// Once one consumer has acknowledged them (a work queue).
    Workqueue,
}

/// How a consumer acknowledges messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AckPolicy {
    /// Each message is acknowledged.
    #[default]
    Explicit,
    /// Acknowledging a message acknowledges every earlier one.
    All,
    /// No acknowledgement.
    None,
}

/// Where a consumer starts reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliverPolicy {
    /// From the first message kept.
    #[default]
    All,
    /// From the last message.
    Last,
    /// From messages published after the consumer is created.
    New,
}

/// A durable pull consumer of the stream (a NACK `Consumer` named `<name>-<durableName>`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumerSpec {
    /// The consumer's durable name (lowercase letters, digits and '-', so that it can name the
    /// `Consumer` object too).
    pub durable_name: String,
    /// Only messages on this subject (it may use `*` and `>`); within the stream's subjects.
    pub filter_subject: Option<String>,
    /// How messages are acknowledged.
    #[serde(default)]
    pub ack_policy: AckPolicy,
    /// Where reading starts.
    #[serde(default)]
    pub deliver_policy: DeliverPolicy,
    /// Most delivery attempts of one message; unlimited when not given.
    pub max_deliver: Option<i64>,
    /// How long the server waits for an acknowledgement before redelivering (a Go duration,
    /// e.g. `30s`); the server's default (30s) when not given.
    pub ack_wait: Option<String>,
}

/// A JetStream stream on a NATS cluster, with its durable consumers.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NATSStreamSpec {
    /// The `NATSCluster` (in this namespace) the stream lives on (give this or `servers`).
    pub cluster: Option<String>,
    /// URLs of the NATS servers the stream lives on, e.g. `nats://nats.messaging.svc:4222`
    /// (give this or `cluster`).
    #[serde(default)]
    pub servers: Vec<String>,
    /// The stream's name in JetStream; the resource's name when not given.
    pub stream_name: Option<String>,
    /// Subjects the stream captures, e.g. `orders.>` (`*` matches one token, `>` the rest).
    pub subjects: Vec<String>,
    /// Where messages are kept.
    #[serde(default)]
    pub storage: Storage,
    /// Copies of each message (1-5); at most the servers of the cluster.
    #[serde(default = "defaults::int::<3>")]
    pub replicas: i32,
    /// When messages are removed.
    #[serde(default)]
    pub retention: Retention,
    /// Oldest message kept, a Go duration (`168h`, `30m`); `0` keeps them regardless of age.
    #[serde(default = "week")]
    pub max_age: String,
    /// Most bytes the stream keeps; unlimited when not given.
    pub max_bytes: Option<i64>,
    /// Durable consumers of the stream.
    #[serde(default)]
    pub consumers: Vec<ConsumerSpec>,
}

/// Whether `s` is a valid subject (a filter when `wildcards`): dot-separated non-empty tokens
/// without whitespace; `*` as a whole token, `>` as the last.
fn subject(s: &str, wildcards: bool) -> Result<(), String> {
    let tokens: Vec<&str> = s.split('.').collect();
    for (i, t) in tokens.iter().enumerate() {
        if t.is_empty() || t.contains(char::is_whitespace) {
            return Err(format!(
                "{s:?} is not a subject: expected dot-separated tokens without spaces, e.g. orders.created"
            ));
        }
        let wild = *t == "*" || *t == ">";
        if (t.contains('*') || t.contains('>')) && !wild {
            return Err(format!(
                "{s:?}: '*' and '>' must be whole tokens, e.g. orders.* or orders.>"
            ));
        }
        if wild && !wildcards {
            return Err(format!("{s:?}: no wildcards here"));
        }
        if *t == ">" && i + 1 != tokens.len() {
            return Err(format!("{s:?}: '>' must be the last token"));
        }
    }
    Ok(())
}

/// Whether every subject `filter` matches is one `pattern` matches.
pub fn within(filter: &str, pattern: &str) -> bool {
    let (f, p): (Vec<&str>, Vec<&str>) =
        (filter.split('.').collect(), pattern.split('.').collect());
    for (i, pt) in p.iter().enumerate() {
        if *pt == ">" {
            return f.len() > i;
        }
        let Some(ft) = f.get(i) else { return false };
        match (*pt, *ft) {
            (_, ">") => return false,
            ("*", _) => {}
            (a, b) if a == b => {}
            _ => return false,
        }
    }
    f.len() == p.len()
}

/// Whether some subject matches both `a` and `b`.
pub fn overlap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(&">"), Some(_)) | (Some(_), Some(&">")) => return true,
            (Some(x), Some(y)) if *x == "*" || *y == "*" || x == y => {}
            _ => return false,
        }
    }
    true
}

fn stream_name(spec: &NATSStreamSpec, m: &ModuleResource<'_>) -> String {
    spec.stream_name
        .clone()
        .unwrap_or_else(|| m.name.to_string())
}

fn validate(spec: &NATSStreamSpec, p: &mut Problems<'_>) {
    match (&spec.cluster, spec.servers.is_empty()) {
        (None, true) => p.fail(
            "spec",
            "name the NATSCluster the stream lives on (cluster) or its servers (servers)",
        ),
        (Some(_), false) => p.fail("spec.servers", "give cluster or servers, not both"),
        (Some(c), true) => p.check("spec.cluster", validate::dns1035_label(c)),
        (None, false) => {}
    }
    for (i, s) in spec.servers.iter().enumerate() {
        let ok = ["nats://", "tls://"].iter().any(|scheme| {
            s.strip_prefix(scheme)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
        });
        if !ok {
            p.fail(
                format!("spec.servers[{i}]"),
                format!(
                    "{s:?}: expected a nats:// or tls:// URL, e.g. nats://nats.messaging.svc:4222"
                ),
            );
        }
    }
    if let Some(n) = &spec.stream_name {
        let bad = n.is_empty()
            || n.len() > 255
            || n.contains(|c: char| c.is_whitespace() || matches!(c, '.' | '*' | '>' | '/' | '\\'));
        if bad {
            p.fail(
                "spec.streamName",
                format!("{n:?}: a stream name has no spaces, '.', '*', '>', '/' or '\\'"),
            );
        }
    }
    if spec.subjects.is_empty() {
        p.fail("spec.subjects", "a stream captures at least one subject");
    }
    for (i, s) in spec.subjects.iter().enumerate() {
        p.check(format!("spec.subjects[{i}]"), subject(s, true));
        for (j, t) in spec.subjects.iter().enumerate().take(i) {
            if overlap(s, t) {
                p.fail(
                    format!("spec.subjects[{i}]"),
                    format!("{s:?} overlaps subjects[{j}] {t:?}: the server refuses overlapping subjects"),
                );
            }
        }
    }
    if !(1..=5).contains(&spec.replicas) {
        p.fail(
            "spec.replicas",
            format!("replicas {} must be between 1 and 5", spec.replicas),
        );
    }
    p.check("spec.maxAge", validate::go_duration(&spec.max_age));
    if spec.max_bytes.is_some_and(|b| b < 1) {
        p.fail(
            "spec.maxBytes",
            "maxBytes must be positive (leave it out for no limit)",
        );
    }
    meta::check_name_room("", p);
    let name_len = p.module().name.len();
    let workqueue = spec.retention == Retention::Workqueue;
    for (i, c) in spec.consumers.iter().enumerate() {
        let f = format!("spec.consumers[{i}]");
        p.check(
            format!("{f}.durableName"),
            validate::dns1123_label(&c.durable_name),
        );
        if name_len + 1 + c.durable_name.len() > 253 {
            p.fail(
                format!("{f}.durableName"),
                "the Consumer's name <name>-<durableName> is longer than 253 characters",
            );
        }
        if spec.consumers[..i]
            .iter()
            .any(|o| o.durable_name == c.durable_name)
        {
            p.fail(
                format!("{f}.durableName"),
                format!("durable name {:?} is used twice", c.durable_name),
            );
        }
        if let Some(fs) = &c.filter_subject {
            match subject(fs, true) {
                Err(e) => p.fail(format!("{f}.filterSubject"), e),
                Ok(()) if !spec.subjects.iter().any(|s| within(fs, s)) => p.fail(
                    format!("{f}.filterSubject"),
                    format!(
                        "{fs:?} is not within the stream's subjects [{}]: the consumer would never get a message",
                        spec.subjects.join(", ")
                    ),
                ),
                Ok(()) => {}
            }
        }
        if c.max_deliver.is_some_and(|n| n < 1 && n != -1) {
            p.fail(
                format!("{f}.maxDeliver"),
                "maxDeliver must be at least 1 (or -1 for unlimited)",
            );
        }
        if let Some(w) = &c.ack_wait {
            p.check(format!("{f}.ackWait"), validate::go_duration(w));
        }
        if workqueue {
            if c.ack_policy != AckPolicy::Explicit {
                p.fail(
                    format!("{f}.ackPolicy"),
                    "a workqueue stream's consumers must ack explicitly",
                );
            }
            if c.deliver_policy != DeliverPolicy::All {
                p.fail(
                    format!("{f}.deliverPolicy"),
                    "a workqueue stream's consumers must deliver all",
                );
            }
            for (j, o) in spec.consumers.iter().enumerate().take(i) {
                let clash = match (&c.filter_subject, &o.filter_subject) {
                    (Some(a), Some(b)) => overlap(a, b),
                    _ => true,
                };
                if clash {
                    p.fail(
                        format!("{f}.filterSubject"),
                        format!(
                            "overlaps consumers[{j}] ({}): on a workqueue stream each message goes to one consumer, so their filters must not overlap",
                            o.durable_name
                        ),
                    );
                }
            }
        }
    }
}

fn servers(spec: &NATSStreamSpec, m: &ModuleResource<'_>) -> Vec<String> {
    match &spec.cluster {
        Some(c) => vec![nats_cluster::url(c, &m.namespace, false)],
        None => spec.servers.clone(),
    }
}

fn labels(m: &ModuleResource<'_>) -> Value {
    let mut l = Map::new();
    l.insert("app.kubernetes.io/name".into(), json!(m.name));
    json!(l)
}

impl Kind for NATSStream {
    const KIND: &'static str = "NATSStream";
    const SUMMARY: &'static str =
        "a JetStream stream and its durable consumers on NACK: Stream, Consumer";
    const EXAMPLE: Example = crate::example!("examples/event-processing/nats-stream.yaml");
    type Spec = NATSStreamSpec;

    fn validate(spec: &NATSStreamSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for NATSStream {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("jetstream.nats.io/v1beta2", "Stream"),
        Gvk::new("jetstream.nats.io/v1beta2", "Consumer"),
    ];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "stream",
            description: "the stream's name in JetStream",
            secret: false,
        },
        OutputDef {
            name: "subjects",
            description: "the subjects it captures, comma-separated",
            secret: false,
        },
        OutputDef {
            name: "url",
            description: "the servers' URLs, comma-separated",
            secret: false,
        },
    ];

    fn outputs(spec: &NATSStreamSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        vec![
            ("stream", OutputValue::Value(stream_name(spec, m))),
            ("subjects", OutputValue::Value(spec.subjects.join(","))),
            ("url", OutputValue::Value(servers(spec, m).join(","))),
        ]
    }

    fn expand(spec: NATSStreamSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let stream = stream_name(&spec, m);
        let servers = servers(&spec, m);
        let mut s = Map::new();
        s.insert("name".into(), json!(stream));
        s.insert("subjects".into(), json!(spec.subjects));
        s.insert("storage".into(), json!(spec.storage));
        s.insert("replicas".into(), json!(spec.replicas));
        s.insert("retention".into(), json!(spec.retention));
        s.insert("maxAge".into(), json!(spec.max_age));
        if let Some(b) = spec.max_bytes {
            s.insert("maxBytes".into(), json!(b));
        }
        s.insert("servers".into(), json!(servers));
        let mut objects = vec![json!({
            "apiVersion": ctx.api_version(&operators::NACK_STREAM),
            "kind": "Stream",
            "metadata": {"name": name, "namespace": ns, "labels": labels(m)},
            "spec": s,
        })];
        for c in &spec.consumers {
            let mut cs = Map::new();
            cs.insert("streamName".into(), json!(stream));
            cs.insert("durableName".into(), json!(c.durable_name));
            if let Some(f) = &c.filter_subject {
                cs.insert("filterSubject".into(), json!(f));
            }
            cs.insert("ackPolicy".into(), json!(c.ack_policy));
            cs.insert("deliverPolicy".into(), json!(c.deliver_policy));
            if let Some(n) = c.max_deliver {
                cs.insert("maxDeliver".into(), json!(n));
            }
            if let Some(w) = &c.ack_wait {
                cs.insert("ackWait".into(), json!(w));
            }
            cs.insert("servers".into(), json!(servers));
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::NACK_CONSUMER),
                "kind": "Consumer",
                "metadata": {
                    "name": format!("{name}-{}", c.durable_name),
                    "namespace": ns,
                    "labels": labels(m),
                },
                "spec": cs,
            }));
        }
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
