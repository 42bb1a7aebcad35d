//! Spec fragments and object builders shared by the workload kinds (ports, resources, probes,
//! security, compliance), so each kind's file holds only what is particular to it.
//! Core objects are built from `k8s-openapi` types so field names are checked by the compiler.

use super::Checks;
use crate::engine::context::Context;
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString as K8sIntOrString;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A number or a name (ports, `minAvailable`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}

impl IntOrString {
    pub fn to_k8s(&self) -> K8sIntOrString {
        match self {
            IntOrString::Int(i) => K8sIntOrString::Int(*i as i32),
            IntOrString::String(s) => K8sIntOrString::String(s.clone()),
        }
    }
}

/// A quantity written as a string (`500m`) or a bare number (`2`, `0.5`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum QuantityValue {
    Number(serde_json::Number),
    String(String),
}

impl QuantityValue {
    pub fn text(&self) -> String {
        match self {
            QuantityValue::Number(n) => n.to_string(),
            QuantityValue::String(s) => s.clone(),
        }
    }
}

/// `resources: {requests: {cpu, memory, …}, limits: {…}}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSpec {
    #[serde(default)]
    pub requests: BTreeMap<String, QuantityValue>,
    #[serde(default)]
    pub limits: BTreeMap<String, QuantityValue>,
}

impl ResourcesSpec {
    pub fn check(&self, c: &mut Checks<'_>, field: &str) {
        for (part, map) in [("requests", &self.requests), ("limits", &self.limits)] {
            for (k, v) in map {
                c.check(format!("{field}.{part}.{k}"), validate::quantity(&v.text()));
            }
        }
        for (k, req) in &self.requests {
            let Some(lim) = self.limits.get(k) else {
                continue;
            };
            let (r, l) = (
                validate::quantity::parse(&req.text()),
                validate::quantity::parse(&lim.text()),
            );
            if let (Some(r), Some(l)) = (r, l) {
                if r > l {
                    c.fail(
                        format!("{field}.requests.{k}"),
                        format!("request {} is above the limit {}", req.text(), lim.text()),
                    );
                }
            }
        }
    }

    /// The container resources: the spec's values over the platform defaults.
    pub fn build(&self, ctx: &Context) -> core::ResourceRequirements {
        let merge = |defaults: &BTreeMap<String, String>,
                     given: &BTreeMap<String, QuantityValue>| {
            let mut out: BTreeMap<String, Quantity> = defaults
                .iter()
                .map(|(k, v)| (k.clone(), Quantity(v.clone())))
                .collect();
            for (k, v) in given {
                out.insert(k.clone(), Quantity(v.text()));
            }
            out
        };
        let requests = merge(&ctx.default_resources.requests, &self.requests);
        let mut limits = merge(&ctx.default_resources.limits, &self.limits);
        // A default limit below an explicit request would make the pod invalid: lift it.
        for (k, req) in &requests {
            if self.limits.contains_key(k) {
                continue;
            }
            if let Some(lim) = limits.get_mut(k) {
                let (r, l) = (
                    validate::quantity::parse(&req.0),
                    validate::quantity::parse(&lim.0),
                );
                if let (Some(r), Some(l)) = (r, l) {
                    if r > l {
                        *lim = req.clone();
                    }
                }
            }
        }
        core::ResourceRequirements {
            requests: Some(requests),
            limits: Some(limits),
            ..Default::default()
        }
    }
}

/// Transport protocol of a port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub enum Protocol {
    #[default]
    TCP,
    UDP,
    SCTP,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::TCP => "TCP",
            Protocol::UDP => "UDP",
            Protocol::SCTP => "SCTP",
        }
    }
}

/// A container port: `{name, port, protocol}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    pub name: String,
    pub port: i64,
    #[serde(default)]
    pub protocol: Protocol,
}

/// Checks a port list: valid, unique names and numbers.
pub fn check_ports(ports: &[PortSpec], c: &mut Checks<'_>, field: &str) {
    for (i, p) in ports.iter().enumerate() {
        c.check(format!("{field}[{i}].name"), validate::port_name(&p.name));
        c.check(format!("{field}[{i}].port"), validate::port(p.port));
        if ports[..i].iter().any(|q| q.name == p.name) {
            c.fail(
                format!("{field}[{i}].name"),
                format!("duplicate port name {:?}", p.name),
            );
        }
        if ports[..i]
            .iter()
            .any(|q| q.port == p.port && q.protocol == p.protocol)
        {
            c.fail(
                format!("{field}[{i}].port"),
                format!("duplicate port {}/{}", p.port, p.protocol.as_str()),
            );
        }
    }
}

pub fn container_ports(ports: &[PortSpec]) -> Option<Vec<core::ContainerPort>> {
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|p| core::ContainerPort {
                name: Some(p.name.clone()),
                container_port: p.port as i32,
                protocol: Some(p.protocol.as_str().into()),
                ..Default::default()
            })
            .collect()
    })
}

/// A health probe: HTTP `path`, `command` (exec) or, with neither, a TCP check of `port`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbeSpec {
    pub path: Option<String>,
    pub port: Option<IntOrString>,
    pub command: Option<Vec<String>>,
    pub initial_delay_seconds: Option<i32>,
    pub period_seconds: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub failure_threshold: Option<i32>,
}

/// `probes: {liveness, readiness, startup}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbesSpec {
    pub liveness: Option<ProbeSpec>,
    pub readiness: Option<ProbeSpec>,
    pub startup: Option<ProbeSpec>,
}

impl ProbesSpec {
    fn each(&self) -> [(&'static str, Option<&ProbeSpec>); 3] {
        [
            ("liveness", self.liveness.as_ref()),
            ("readiness", self.readiness.as_ref()),
            ("startup", self.startup.as_ref()),
        ]
    }

    pub fn check(&self, ports: &[PortSpec], c: &mut Checks<'_>, field: &str) {
        for (name, probe) in self.each() {
            let Some(p) = probe else { continue };
            let f = format!("{field}.{name}");
            if p.path.is_some() && p.command.is_some() {
                c.fail(&f, "set either path (HTTP) or command (exec), not both");
            }
            if let Some(path) = &p.path {
                if !path.starts_with('/') {
                    c.fail(
                        format!("{f}.path"),
                        format!("path {path:?} must start with '/'"),
                    );
                }
            }
            if p.command.as_ref().is_some_and(|c| c.is_empty()) {
                c.fail(format!("{f}.command"), "command must not be empty");
            }
            match &p.port {
                Some(IntOrString::String(n)) if !ports.iter().any(|q| &q.name == n) => c.fail(
                    format!("{f}.port"),
                    format!(
                        "no container port is named {n:?}: expected one of the names in spec.ports"
                    ),
                ),
                Some(port) => c.check(format!("{f}.port"), validate::int_or_string_port(port)),
                None if p.command.is_none() && ports.is_empty() => c.fail(
                    format!("{f}.port"),
                    "a port is required when the workload declares no ports",
                ),
                None => {}
            }
            for (k, v) in [
                ("initialDelaySeconds", p.initial_delay_seconds),
                ("periodSeconds", p.period_seconds),
                ("timeoutSeconds", p.timeout_seconds),
                ("failureThreshold", p.failure_threshold),
            ] {
                if v.is_some_and(|v| v < 0 || (k != "initialDelaySeconds" && v == 0)) {
                    c.fail(format!("{f}.{k}"), format!("{k} must be positive"));
                }
            }
        }
    }

    /// Builds (liveness, readiness, startup) probes; the default port is the first port.
    pub fn build(&self, ports: &[PortSpec]) -> [Option<core::Probe>; 3] {
        self.each().map(|(_, p)| {
            p.map(|p| {
                let port = p
                    .port
                    .as_ref()
                    .map(IntOrString::to_k8s)
                    .or_else(|| {
                        ports
                            .first()
                            .map(|q| K8sIntOrString::String(q.name.clone()))
                    })
                    .unwrap_or(K8sIntOrString::Int(80));
                let mut probe = core::Probe {
                    initial_delay_seconds: p.initial_delay_seconds,
                    period_seconds: p.period_seconds,
                    timeout_seconds: p.timeout_seconds,
                    failure_threshold: p.failure_threshold,
                    ..Default::default()
                };
                if let Some(cmd) = &p.command {
                    probe.exec = Some(core::ExecAction {
                        command: Some(cmd.clone()),
                    });
                } else if let Some(path) = &p.path {
                    probe.http_get = Some(core::HTTPGetAction {
                        path: Some(path.clone()),
                        port,
                        ..Default::default()
                    });
                } else {
                    probe.tcp_socket = Some(core::TCPSocketAction {
                        port,
                        ..Default::default()
                    });
                }
                probe
            })
        })
    }
}

fn yes() -> bool {
    true
}

/// User and group id of non-root pods that set none.
pub const DEFAULT_UID: i64 = 10001;

/// Pod and container hardening. Defaults follow the Pod Security Standards `restricted` profile,
/// with user, group and fsGroup 10001 unless given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecuritySpec {
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub fs_group: Option<i64>,
    #[serde(default = "yes")]
    pub run_as_non_root: bool,
    #[serde(default = "yes")]
    pub read_only_root_filesystem: bool,
}

impl Default for SecuritySpec {
    fn default() -> Self {
        SecuritySpec {
            run_as_user: None,
            run_as_group: None,
            fs_group: None,
            run_as_non_root: true,
            read_only_root_filesystem: true,
        }
    }
}

impl SecuritySpec {
    pub fn check(&self, c: &mut Checks<'_>, field: &str) {
        if self.run_as_non_root && self.run_as_user == Some(0) {
            c.fail(
                format!("{field}.runAsUser"),
                "runAsUser 0 (root) contradicts runAsNonRoot: true",
            );
        }
        for (k, v) in [
            ("runAsUser", self.run_as_user),
            ("runAsGroup", self.run_as_group),
            ("fsGroup", self.fs_group),
        ] {
            if v.is_some_and(|v| !(0..=i64::from(i32::MAX)).contains(&v)) {
                c.fail(
                    format!("{field}.{k}"),
                    format!("{k} must be between 0 and 2147483647"),
                );
            }
        }
    }

    /// User, group and fsGroup of a non-root pod that names none: a high id, clear of the host's
    /// users (ids below 10000 may collide with node accounts).
    fn default_id(&self) -> Option<i64> {
        self.run_as_non_root.then_some(DEFAULT_UID)
    }

    pub fn pod(&self) -> core::PodSecurityContext {
        core::PodSecurityContext {
            run_as_non_root: Some(self.run_as_non_root),
            run_as_user: self.run_as_user.or(self.default_id()),
            run_as_group: self.run_as_group.or(self.default_id()),
            fs_group: self.fs_group.or(self.default_id()),
            seccomp_profile: Some(core::SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn container(&self) -> core::SecurityContext {
        core::SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(self.read_only_root_filesystem),
            capabilities: Some(core::Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// Compliance frameworks of the original's unified API.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub enum Framework {
    SOC2,
    #[serde(rename = "PCI-DSS")]
    PciDss,
    HIPAA,
    GDPR,
    ISO27001,
    NIST,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::SOC2 => "SOC2",
            Framework::PciDss => "PCI-DSS",
            Framework::HIPAA => "HIPAA",
            Framework::GDPR => "GDPR",
            Framework::ISO27001 => "ISO27001",
            Framework::NIST => "NIST",
        }
    }
}

/// Compliance levels, lowest first.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Unrestricted,
    Low,
    #[default]
    Medium,
    High,
    Restricted,
}

/// Data classification of what a workload handles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataClassification {
    Public,
    #[default]
    Internal,
    Confidential,
    Restricted,
}

fn lower<T: std::fmt::Debug>(v: T) -> String {
    format!("{v:?}").to_lowercase()
}

/// `compliance: {framework, level, owner, dataClassification}` of the unified API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComplianceSpec {
    pub framework: Framework,
    #[serde(default)]
    pub level: Level,
    pub owner: String,
    #[serde(default)]
    pub data_classification: DataClassification,
}

impl ComplianceSpec {
    pub fn check(&self, c: &mut Checks<'_>, field: &str) {
        if self.owner.is_empty() {
            c.fail(format!("{field}.owner"), "owner must not be empty");
        } else {
            c.check(format!("{field}.owner"), validate::label_value(&self.owner));
        }
    }

    /// The `compliance.nixernetes.io/*` labels.
    pub fn labels(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "compliance.nixernetes.io/framework".into(),
            self.framework.as_str().into(),
        );
        m.insert(
            "compliance.nixernetes.io/level".into(),
            lower(self.level).into(),
        );
        m.insert(
            "compliance.nixernetes.io/owner".into(),
            self.owner.clone().into(),
        );
        m.insert(
            "compliance.nixernetes.io/data-classification".into(),
            lower(self.data_classification).into(),
        );
        m
    }
}

/// Checks an env map: valid variable names.
pub fn check_env(env: &BTreeMap<String, String>, c: &mut Checks<'_>, field: &str) {
    for k in env.keys() {
        let ok = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && !k.starts_with(|ch: char| ch.is_ascii_digit());
        if !ok {
            c.fail(
                format!("{field}.{k}"),
                format!("invalid variable name {k:?}: expected letters, digits, '_', '-' or '.', not starting with a digit"),
            );
        }
    }
}

/// Container env from a name → value map (sorted by name: deterministic).
pub fn env_vars(env: &BTreeMap<String, String>) -> Option<Vec<core::EnvVar>> {
    (!env.is_empty()).then(|| {
        env.iter()
            .map(|(k, v)| core::EnvVar {
                name: k.clone(),
                value: Some(v.clone()),
                ..Default::default()
            })
            .collect()
    })
}

/// The selector labels of a workload: `app.kubernetes.io/name: <name>`.
pub fn selector_labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_string(), name.to_string())])
}

pub fn selector(name: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(name)),
        ..Default::default()
    }
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

/// Checks that `name` plus the longest suffix a kind appends still makes a valid object name.
pub fn check_name_room(name: &str, suffix: &str, c: &mut Checks<'_>) {
    let full = format!("{name}{suffix}");
    if full.len() > 63 {
        c.fail(
            "metadata.name",
            format!("name is too long: {full:?} (derived from it) must stay within 63 characters"),
        );
    }
    c.check("metadata.name", validate::dns1035_label(name));
}
