//! The container fields every workload kind shares (image, command, env, Secrets, ports,
//! resources, probes, security, ServiceAccount), with their checks and the `k8s-openapi`
//! objects they build. `workload_spec!` splices them into each workload kind's spec.

use super::defaults;
use crate::kind::{Context, Problems};
use crate::types::{IntOrString, Protocol, Quantity};
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString as K8sIntOrString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Container resources: what the scheduler reserves (`requests`) and the most the container may
/// use (`limits`). Each is merged over the platform's default resources.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ResourcesSpec {
    /// Resources reserved for the container, e.g. `{cpu: 250m, memory: 256Mi}`.
    pub requests: BTreeMap<String, Quantity>,
    /// Most the container may use, e.g. `{cpu: "1", memory: 512Mi}`.
    pub limits: BTreeMap<String, Quantity>,
}

impl ResourcesSpec {
    pub fn check(&self, c: &mut Problems<'_>, field: &str) {
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
        let merge = |defaults: &BTreeMap<String, String>, given: &BTreeMap<String, Quantity>| {
            let mut out: BTreeMap<String, K8sQuantity> = defaults
                .iter()
                .map(|(k, v)| (k.clone(), K8sQuantity(v.clone())))
                .collect();
            for (k, v) in given {
                out.insert(k.clone(), K8sQuantity(v.text()));
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

/// A port the container listens on.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    /// Port name (at most 15 lowercase letters, digits and '-'), referenced by probes and
    /// Services, e.g. `http`.
    pub name: String,
    /// Port number, 1-65535.
    pub port: i64,
    /// Transport protocol.
    #[serde(default)]
    pub protocol: Protocol,
}

/// Checks a port list: valid, unique names and numbers.
pub fn check_ports(ports: &[PortSpec], c: &mut Problems<'_>, field: &str) {
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

/// Service ports for `ports`, each targeting the container port of the same name; the first
/// one listens on `first_port` when given.
pub fn service_ports(ports: &[PortSpec], first_port: Option<i64>) -> Vec<core::ServicePort> {
    ports
        .iter()
        .enumerate()
        .map(|(i, p)| core::ServicePort {
            name: Some(p.name.clone()),
            port: first_port.filter(|_| i == 0).unwrap_or(p.port) as i32,
            target_port: Some(K8sIntOrString::String(p.name.clone())),
            protocol: Some(p.protocol.as_str().into()),
            ..Default::default()
        })
        .collect()
}

/// A health probe: an HTTP GET of `path`, a `command` run in the container, or, with neither, a
/// TCP connection to `port`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbeSpec {
    /// HTTP path to GET, starting with `/`, e.g. `/healthz`.
    pub path: Option<String>,
    /// Port number or name to probe; the first container port when not given.
    pub port: Option<IntOrString>,
    /// Command run in the container instead of an HTTP or TCP check; exit 0 is healthy.
    pub command: Option<Vec<String>>,
    /// Seconds to wait after the container starts before the first probe.
    pub initial_delay_seconds: Option<i32>,
    /// Seconds between probes.
    pub period_seconds: Option<i32>,
    /// Seconds after which a probe times out.
    pub timeout_seconds: Option<i32>,
    /// Failures in a row after which the probe counts as failed.
    pub failure_threshold: Option<i32>,
}

/// Health probes of the container.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbesSpec {
    /// Restarts the container when it fails.
    pub liveness: Option<ProbeSpec>,
    /// Takes the pod out of its Services while it fails.
    pub readiness: Option<ProbeSpec>,
    /// Holds the other probes back until it succeeds once (slow starters).
    pub startup: Option<ProbeSpec>,
}

/// `spec.probes`: the probes declared, or `none` for no probes (and no default ones).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per spec: boxing would only add an allocation
pub enum Probes {
    /// `probes: none`.
    Off,
    /// The probes declared (maybe none of them).
    Declared(ProbesSpec),
}

impl Default for Probes {
    fn default() -> Self {
        Probes::Declared(ProbesSpec::default())
    }
}

/// What a workload kind does when its spec declares no probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeDefault {
    /// Nothing: the container runs without probes.
    #[default]
    Nothing,
    /// A TCP readiness and liveness probe on the first port (WebApp, StatefulService).
    TcpOnFirstPort,
    /// An error at compliance level medium and above (Worker: no port to probe).
    RequiredAtMedium,
}

impl Probes {
    /// The declared probes; `None` for `probes: none`.
    pub fn declared(&self) -> Option<&ProbesSpec> {
        match self {
            Probes::Off => None,
            Probes::Declared(p) => Some(p),
        }
    }

    /// Whether no probe is declared and `none` was not written either.
    pub fn unset(&self) -> bool {
        self.declared()
            .is_some_and(|p| p.each().iter().all(|(_, p)| p.is_none()))
    }

    pub fn check(&self, ports: &[PortSpec], c: &mut Problems<'_>, field: &str) {
        if let Some(p) = self.declared() {
            p.check(ports, c, field);
        }
    }

    /// Builds (liveness, readiness, startup) probes: the declared ones, or with none declared
    /// and `TcpOnFirstPort`, a TCP readiness and liveness probe on the first port.
    pub fn build(&self, ports: &[PortSpec], default: ProbeDefault) -> [Option<core::Probe>; 3] {
        match self.declared() {
            None => [None, None, None],
            Some(_) if self.unset() && default == ProbeDefault::TcpOnFirstPort => {
                match default_probe(ports) {
                    Some(p) => [Some(default_liveness(p.clone())), Some(p), None],
                    None => [None, None, None],
                }
            }
            Some(p) => p.build(ports),
        }
    }
}

/// The default liveness probe: `readiness` (the default probe), but patient: restarting takes
/// six failures 10 s apart, while readiness takes the pod out of rotation after three 5 s apart,
/// so a slow moment takes it out of its Services before it is restarted.
fn default_liveness(readiness: core::Probe) -> core::Probe {
    core::Probe {
        period_seconds: Some(10),
        failure_threshold: Some(6),
        ..readiness
    }
}

/// The default (readiness) probe: a TCP connection to the first port, by name, every 5 s.
pub fn default_probe(ports: &[PortSpec]) -> Option<core::Probe> {
    let first = ports.first()?;
    Some(core::Probe {
        tcp_socket: Some(core::TCPSocketAction {
            port: K8sIntOrString::String(first.name.clone()),
            ..Default::default()
        }),
        period_seconds: Some(5),
        failure_threshold: Some(3),
        ..Default::default()
    })
}

impl<'de> Deserialize<'de> for Probes {
    /// `none`, or a map of `liveness`, `readiness` and `startup` (errors inside it keep their
    /// field paths).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Probes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`none` or a map of liveness, readiness and startup probes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Probes, E> {
                if v == "none" {
                    Ok(Probes::Off)
                } else {
                    Err(E::custom(format!(
                        "unknown value {v:?}: expected `none` or a map of liveness, readiness and startup probes"
                    )))
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Probes, A::Error> {
                ProbesSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Probes::Declared)
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Serialize for Probes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Probes::Off => s.serialize_str("none"),
            Probes::Declared(p) => p.serialize(s),
        }
    }
}

impl JsonSchema for Probes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Probes".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // Inline, so that the CRD form sees two typed alternatives (and takes either).
        let declared = <ProbesSpec as JsonSchema>::json_schema(g);
        schemars::json_schema!({
            "description": "Health probes of the container, or `none` for no probes at all.",
            "anyOf": [
                // Untyped, as `Enforcement`'s `false`: the CRD form keeps only the map's type.
                {"const": "none", "description": "No probes, not even the default ones."},
                declared,
            ]
        })
    }
}

impl ProbesSpec {
    fn each(&self) -> [(&'static str, Option<&ProbeSpec>); 3] {
        [
            ("liveness", self.liveness.as_ref()),
            ("readiness", self.readiness.as_ref()),
            ("startup", self.startup.as_ref()),
        ]
    }

    fn check(&self, ports: &[PortSpec], c: &mut Problems<'_>, field: &str) {
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
                Some(port) => c.check(format!("{f}.port"), port.check_port()),
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
    fn build(&self, ports: &[PortSpec]) -> [Option<core::Probe>; 3] {
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

/// User and group id of non-root pods that set none.
pub const DEFAULT_UID: i64 = 10001;

/// Pod and container hardening. The defaults follow the Pod Security Standards `restricted`
/// profile: non-root as user, group and fsGroup 10001, `RuntimeDefault` seccomp, no privilege
/// escalation, every capability dropped, a read-only root filesystem with an emptyDir `/tmp`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecuritySpec {
    /// User id the container runs as; 10001 when it must not run as root.
    pub run_as_user: Option<i64>,
    /// Group id the container runs as; 10001 when it must not run as root.
    pub run_as_group: Option<i64>,
    /// Group that owns mounted volumes; 10001 when it must not run as root.
    pub fs_group: Option<i64>,
    /// Refuse to start the container as root.
    #[serde(default = "defaults::yes")]
    pub run_as_non_root: bool,
    /// Mount the root filesystem read-only (an emptyDir is mounted at `/tmp`).
    #[serde(default = "defaults::yes")]
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
    pub fn check(&self, c: &mut Problems<'_>, field: &str) {
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

/// A whole ConfigMap or Secret loaded as environment variables.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFromSpec {
    /// ConfigMap to load (give this or `secret`).
    pub config_map: Option<String>,
    /// Secret to load (give this or `configMap`).
    pub secret: Option<String>,
    /// Prefix added to every variable name.
    pub prefix: Option<String>,
}

/// A variable read from a key of a Secret, so no secret value is written in Git.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key within the Secret.
    pub key: String,
}

/// A Secret mounted as read-only files (preferred over environment variables).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretMountSpec {
    /// The Secret's name.
    pub secret: String,
    /// Absolute directory its keys appear in as files.
    pub mount_path: String,
}

/// The ServiceAccount the pods run as.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountSpec {
    /// Create a ServiceAccount for the workload (its token is never mounted).
    #[serde(default = "defaults::yes")]
    pub create: bool,
    /// Its name: the resource's name when created, else an existing account (`default`).
    pub name: Option<String>,
}

impl Default for ServiceAccountSpec {
    fn default() -> Self {
        ServiceAccountSpec {
            create: true,
            name: None,
        }
    }
}

/// Checks an env map: valid variable names.
pub fn check_env(env: &BTreeMap<String, String>, c: &mut Problems<'_>, field: &str) {
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
