//! Seed module `kubernetes-core` (category `core`): `WebApp`, `Worker`, `StatefulService`,
//! `NodeAgent`, `AppConfig`.
//!
//! `WebApp` is also the unified API's one-declaration application: `compliance` stamps the
//! compliance labels on everything it emits, `dependsOn` records what it talks to. Every pod is
//! hardened by default (restricted Pod Security), gets its own ServiceAccount without a mounted
//! token, and platform default resources unless the spec sets them.

use super::common::{
    self as c, ComplianceSpec, IntOrString, PortSpec, ProbesSpec, ResourcesSpec, SecuritySpec,
};
use super::{Checks, Expansion, KindDef, Module, Role};
use crate::engine::context::Context;
use crate::report::Finding;
use crate::validate;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const FRAMEWORK: &str = "kubernetes-core";
const CATEGORY: &str = "core";

pub const WEB_APP: KindDef = KindDef {
    kind: "WebApp",
    framework: FRAMEWORK,
    category: CATEGORY,
    summary: "HTTP service: Deployment, Service, ServiceAccount, optional ConfigMap, HPA, PDB, Ingress or HTTPRoute",
    role: Role::Generate(web_app),
};
pub const WORKER: KindDef = KindDef {
    kind: "Worker",
    framework: FRAMEWORK,
    category: CATEGORY,
    summary: "background process without a Service: Deployment, ServiceAccount, optional HPA, PDB",
    role: Role::Generate(worker),
};
pub const STATEFUL_SERVICE: KindDef = KindDef {
    kind: "StatefulService",
    framework: FRAMEWORK,
    category: CATEGORY,
    summary: "stateful workload with volumes: StatefulSet, headless and client Services, ServiceAccount, PDB",
    role: Role::Generate(stateful_service),
};
pub const NODE_AGENT: KindDef = KindDef {
    kind: "NodeAgent",
    framework: FRAMEWORK,
    category: CATEGORY,
    summary: "one pod per node: DaemonSet and ServiceAccount",
    role: Role::Generate(node_agent),
};
pub const APP_CONFIG: KindDef = KindDef {
    kind: "AppConfig",
    framework: FRAMEWORK,
    category: CATEGORY,
    summary: "configuration data: ConfigMap, and a Secret only with allowPlainSecrets",
    role: Role::Generate(app_config),
};

fn one() -> i32 {
    1
}
fn two() -> i32 {
    2
}
fn yes() -> bool {
    true
}
fn http_ports() -> Vec<PortSpec> {
    vec![PortSpec {
        name: "http".into(),
        port: 8080,
        protocol: Default::default(),
    }]
}

/// `envFrom` entry: a whole ConfigMap or Secret as environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFromSpec {
    pub config_map: Option<String>,
    pub secret: Option<String>,
    pub prefix: Option<String>,
}

/// `secretEnv: {VAR: {name, key}}`: a variable read from a Secret key (no plaintext in Git).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// `secretMounts: [{secret, mountPath}]`: a Secret as read-only files (preferred over env).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretMountSpec {
    pub secret: String,
    pub mount_path: String,
}

/// `serviceAccount: {create, name}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountSpec {
    #[serde(default = "yes")]
    pub create: bool,
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

/// `autoscaling: {min, max, cpu, memory}` → HorizontalPodAutoscaler (autoscaling/v2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingSpec {
    pub min: Option<i32>,
    pub max: i32,
    /// Target average CPU utilisation, percent of requests.
    #[serde(default = "cpu_target")]
    pub cpu: i32,
    /// Target average memory utilisation, percent of requests.
    pub memory: Option<i32>,
}

fn cpu_target() -> i32 {
    80
}

/// `pdb: {enabled, minAvailable, maxUnavailable}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PdbSpec {
    pub enabled: Option<bool>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
}

/// `config: {data, files, mountPath}` → a ConfigMap named `<name>-config`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigSpec {
    /// Key/values exposed as environment variables.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// File name → content, mounted read-only at `mountPath`.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    pub mount_path: Option<String>,
}

/// `service: {enabled, type, port}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, rename = "type")]
    pub type_: ServiceType,
    /// Port the Service listens on; it forwards to the first container port.
    #[serde(default = "service_port")]
    pub port: i64,
}

fn service_port() -> i64 {
    80
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            enabled: true,
            type_: ServiceType::default(),
            port: 80,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

/// `ingress: {host, path, className, tls}` → networking.k8s.io/v1 Ingress.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressSpec {
    pub host: String,
    #[serde(default = "root_path")]
    pub path: String,
    pub class_name: Option<String>,
    #[serde(default)]
    pub tls: Option<TlsSpec>,
}

/// `tls: {secretName}`; `{}` uses `<name>-tls`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSpec {
    pub secret_name: Option<String>,
}

fn root_path() -> String {
    "/".into()
}

/// `route: {gatewayRef, hostnames, path}` → Gateway API HTTPRoute.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteSpec {
    pub gateway_ref: GatewayRef,
    #[serde(default)]
    pub hostnames: Vec<String>,
    #[serde(default = "root_path")]
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayRef {
    pub name: String,
    pub namespace: Option<String>,
    pub section_name: Option<String>,
}

/// The spec of `WebApp`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebAppSpec {
    pub image: String,
    #[serde(default = "two")]
    pub replicas: i32,
    #[serde(default = "http_ports")]
    pub ports: Vec<PortSpec>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretKeyRef>,
    #[serde(default)]
    pub secret_mounts: Vec<SecretMountSpec>,
    #[serde(default)]
    pub env_from: Vec<EnvFromSpec>,
    #[serde(default)]
    pub resources: ResourcesSpec,
    #[serde(default)]
    pub probes: ProbesSpec,
    #[serde(default)]
    pub security: SecuritySpec,
    #[serde(default)]
    pub service: ServiceSpec,
    pub ingress: Option<IngressSpec>,
    pub route: Option<RouteSpec>,
    pub autoscaling: Option<AutoscalingSpec>,
    #[serde(default)]
    pub pdb: PdbSpec,
    #[serde(default)]
    pub service_account: ServiceAccountSpec,
    pub config: Option<ConfigSpec>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub compliance: Option<ComplianceSpec>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// The spec of `Worker`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkerSpec {
    pub image: String,
    #[serde(default = "one")]
    pub replicas: i32,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretKeyRef>,
    #[serde(default)]
    pub secret_mounts: Vec<SecretMountSpec>,
    #[serde(default)]
    pub env_from: Vec<EnvFromSpec>,
    #[serde(default)]
    pub resources: ResourcesSpec,
    #[serde(default)]
    pub probes: ProbesSpec,
    #[serde(default)]
    pub security: SecuritySpec,
    pub autoscaling: Option<AutoscalingSpec>,
    #[serde(default)]
    pub pdb: PdbSpec,
    #[serde(default)]
    pub service_account: ServiceAccountSpec,
    pub config: Option<ConfigSpec>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub compliance: Option<ComplianceSpec>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A persistent volume of a `StatefulService`: one PVC per replica.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeClaimSpec {
    pub name: String,
    pub size: c::QuantityValue,
    pub storage_class: Option<String>,
    pub mount_path: String,
    #[serde(default = "rwo")]
    pub access_modes: Vec<AccessMode>,
}

fn rwo() -> Vec<AccessMode> {
    vec![AccessMode::ReadWriteOnce]
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadOnlyMany,
    ReadWriteMany,
    ReadWriteOncePod,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub enum PodManagementPolicy {
    #[default]
    OrderedReady,
    Parallel,
}

/// The spec of `StatefulService`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatefulServiceSpec {
    pub image: String,
    #[serde(default = "one")]
    pub replicas: i32,
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    #[serde(default)]
    pub volume_claims: Vec<VolumeClaimSpec>,
    #[serde(default)]
    pub pod_management_policy: PodManagementPolicy,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretKeyRef>,
    #[serde(default)]
    pub secret_mounts: Vec<SecretMountSpec>,
    #[serde(default)]
    pub env_from: Vec<EnvFromSpec>,
    #[serde(default)]
    pub resources: ResourcesSpec,
    #[serde(default)]
    pub probes: ProbesSpec,
    #[serde(default)]
    pub security: SecuritySpec,
    #[serde(default)]
    pub pdb: PdbSpec,
    #[serde(default)]
    pub service_account: ServiceAccountSpec,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub compliance: Option<ComplianceSpec>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A host directory mounted into a `NodeAgent`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostPathSpec {
    pub name: String,
    pub path: String,
    pub mount_path: String,
    #[serde(default = "yes")]
    pub read_only: bool,
}

/// A toleration, as in a pod spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TolerationSpec {
    pub key: Option<String>,
    #[serde(default)]
    pub operator: TolerationOperator,
    pub value: Option<String>,
    pub effect: Option<TaintEffect>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub enum TolerationOperator {
    #[default]
    Exists,
    Equal,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

fn tolerate_all() -> Vec<TolerationSpec> {
    vec![TolerationSpec {
        key: None,
        operator: TolerationOperator::Exists,
        value: None,
        effect: None,
    }]
}

/// The spec of `NodeAgent`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeAgentSpec {
    pub image: String,
    #[serde(default = "tolerate_all")]
    pub tolerations: Vec<TolerationSpec>,
    #[serde(default)]
    pub host_paths: Vec<HostPathSpec>,
    /// Run as `system-node-critical` (opt-in: such pods preempt others).
    #[serde(default)]
    pub system_node_critical: bool,
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretKeyRef>,
    #[serde(default)]
    pub secret_mounts: Vec<SecretMountSpec>,
    #[serde(default)]
    pub env_from: Vec<EnvFromSpec>,
    #[serde(default)]
    pub resources: ResourcesSpec,
    #[serde(default)]
    pub probes: ProbesSpec,
    #[serde(default)]
    pub security: SecuritySpec,
    #[serde(default)]
    pub service_account: ServiceAccountSpec,
    pub compliance: Option<ComplianceSpec>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// The spec of `AppConfig`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppConfigSpec {
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Plaintext secret values. Refused unless `allowPlainSecrets: true`.
    #[serde(default)]
    pub secret_data: BTreeMap<String, String>,
    #[serde(default)]
    pub allow_plain_secrets: bool,
    #[serde(default)]
    pub immutable: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// The container-level parts every workload kind shares, borrowed from its spec.
struct Container<'a> {
    image: &'a str,
    command: &'a Option<Vec<String>>,
    args: &'a Option<Vec<String>>,
    env: &'a BTreeMap<String, String>,
    secret_env: &'a BTreeMap<String, SecretKeyRef>,
    secret_mounts: &'a [SecretMountSpec],
    env_from: &'a [EnvFromSpec],
    ports: &'a [PortSpec],
    resources: &'a ResourcesSpec,
    probes: &'a ProbesSpec,
    security: &'a SecuritySpec,
    service_account: &'a ServiceAccountSpec,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    compliance: Option<&'a ComplianceSpec>,
    depends_on: &'a [String],
}

impl Container<'_> {
    fn check(&self, ch: &mut Checks<'_>) {
        ch.check("spec.image", validate::image_reference(self.image));
        c::check_env(self.env, ch, "spec.env");
        let secret_env: BTreeMap<String, String> = self
            .secret_env
            .keys()
            .map(|k| (k.clone(), String::new()))
            .collect();
        c::check_env(&secret_env, ch, "spec.secretEnv");
        for (k, r) in self.secret_env {
            if self.env.contains_key(k) {
                ch.fail(
                    format!("spec.secretEnv.{k}"),
                    format!("{k} is also set in spec.env"),
                );
            }
            ch.check(
                format!("spec.secretEnv.{k}.name"),
                validate::dns1123_subdomain(&r.name),
            );
            if r.key.is_empty() {
                ch.fail(format!("spec.secretEnv.{k}.key"), "key must not be empty");
            }
        }
        for (i, m) in self.secret_mounts.iter().enumerate() {
            let f = format!("spec.secretMounts[{i}]");
            ch.check(
                format!("{f}.secret"),
                validate::dns1123_subdomain(&m.secret),
            );
            if !m.mount_path.starts_with('/') {
                ch.fail(
                    format!("{f}.mountPath"),
                    format!("mountPath {:?} must be absolute", m.mount_path),
                );
            }
            if self.secret_mounts[..i].iter().any(|o| o.secret == m.secret) {
                ch.fail(
                    format!("{f}.secret"),
                    format!("Secret {:?} is mounted twice", m.secret),
                );
            }
        }
        for (i, e) in self.env_from.iter().enumerate() {
            let f = format!("spec.envFrom[{i}]");
            match (&e.config_map, &e.secret) {
                (Some(n), None) | (None, Some(n)) => ch.check(f, validate::dns1123_subdomain(n)),
                _ => ch.fail(f, "set exactly one of configMap or secret"),
            }
        }
        c::check_ports(self.ports, ch, "spec.ports");
        self.resources.check(ch, "spec.resources");
        self.probes.check(self.ports, ch, "spec.probes");
        self.security.check(ch, "spec.security");
        if let Some(n) = &self.service_account.name {
            ch.check("spec.serviceAccount.name", validate::dns1123_subdomain(n));
        }
        for (field, map) in [
            ("spec.labels", self.labels),
            ("spec.annotations", self.annotations),
        ] {
            for (k, v) in map {
                ch.check(format!("{field}.{k}"), validate::label_key(k));
                if field == "spec.labels" {
                    ch.check(format!("{field}.{k}"), validate::label_value(v));
                }
            }
        }
        if let Some(comp) = self.compliance {
            comp.check(ch, "spec.compliance");
        }
        for (i, d) in self.depends_on.iter().enumerate() {
            ch.check(format!("spec.dependsOn[{i}]"), validate::dns1035_label(d));
        }
    }

    /// The ServiceAccount to create, if any, and the name pods run as.
    fn service_account(&self, m: &Module<'_>) -> (Option<Value>, String) {
        let name = self.service_account.name.clone().unwrap_or_else(|| {
            if self.service_account.create {
                m.name.to_string()
            } else {
                "default".to_string()
            }
        });
        let sa = self.service_account.create.then(|| {
            c::to_value(&core::ServiceAccount {
                metadata: c::meta(&name, &m.namespace, m.name, None),
                automount_service_account_token: Some(false),
                ..Default::default()
            })
        });
        (sa, name)
    }

    /// The pod template: one hardened container, the extra volumes given.
    fn pod_template(
        &self,
        m: &Module<'_>,
        ctx: &Context,
        sa_name: &str,
        parts: PodParts,
    ) -> core::PodTemplateSpec {
        let PodParts {
            mut volumes,
            mut mounts,
            mut env_from,
            annotations,
        } = parts;
        for m in self.secret_mounts {
            let name = format!("secret-{}", m.secret);
            volumes.push(core::Volume {
                name: name.clone(),
                secret: Some(core::SecretVolumeSource {
                    secret_name: Some(m.secret.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            });
            mounts.push(core::VolumeMount {
                name,
                mount_path: m.mount_path.clone(),
                read_only: Some(true),
                ..Default::default()
            });
        }
        if self.security.read_only_root_filesystem {
            volumes.push(core::Volume {
                name: "tmp".into(),
                empty_dir: Some(Default::default()),
                ..Default::default()
            });
            mounts.push(core::VolumeMount {
                name: "tmp".into(),
                mount_path: "/tmp".into(),
                ..Default::default()
            });
        }
        for e in self.env_from {
            env_from.push(core::EnvFromSource {
                config_map_ref: e.config_map.as_ref().map(|n| core::ConfigMapEnvSource {
                    name: n.clone(),
                    optional: None,
                }),
                secret_ref: e.secret.as_ref().map(|n| core::SecretEnvSource {
                    name: n.clone(),
                    optional: None,
                }),
                prefix: e.prefix.clone(),
            });
        }
        let mut env = c::env_vars(self.env).unwrap_or_default();
        for (k, r) in self.secret_env {
            env.push(core::EnvVar {
                name: k.clone(),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: r.name.clone(),
                        key: r.key.clone(),
                        optional: None,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let [liveness_probe, readiness_probe, startup_probe] = self.probes.build(self.ports);
        let container = core::Container {
            name: m.name.to_string(),
            image: Some(self.image.to_string()),
            // Tags can move; a digest cannot, so only a digest-pinned image may come from cache.
            image_pull_policy: Some(
                if validate::image::parts(self.image).digest.is_some() {
                    "IfNotPresent"
                } else {
                    "Always"
                }
                .into(),
            ),
            command: self.command.clone(),
            args: self.args.clone(),
            ports: c::container_ports(self.ports),
            env: (!env.is_empty()).then_some(env),
            env_from: (!env_from.is_empty()).then_some(env_from),
            resources: Some(self.resources.build(ctx)),
            liveness_probe,
            readiness_probe,
            startup_probe,
            security_context: Some(self.security.container()),
            volume_mounts: (!mounts.is_empty()).then_some(mounts),
            ..Default::default()
        };
        core::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(c::selector_labels(m.name)),
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..Default::default()
            }),
            spec: Some(core::PodSpec {
                service_account_name: Some(sa_name.to_string()),
                automount_service_account_token: Some(false),
                security_context: Some(self.security.pod()),
                containers: vec![container],
                volumes: (!volumes.is_empty()).then_some(volumes),
                ..Default::default()
            }),
        }
    }

    fn kind_labels(&self) -> serde_json::Map<String, Value> {
        self.compliance
            .map(ComplianceSpec::labels)
            .unwrap_or_default()
    }

    /// Annotations of the workload object itself.
    fn workload_annotations(&self) -> Option<BTreeMap<String, String>> {
        (!self.depends_on.is_empty()).then(|| {
            BTreeMap::from([(
                "nixernetes.io/depends-on".to_string(),
                self.depends_on.join(","),
            )])
        })
    }
}

/// FNV-1a 64: a stable content hash for config checksums (same bytes on every platform/release).
fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016x}")
}

/// Checks ConfigMap/Secret keys: `[-._a-zA-Z0-9]+`, at most 253 characters.
fn check_config_keys<'a>(keys: impl Iterator<Item = &'a String>, ch: &mut Checks<'_>, field: &str) {
    for k in keys {
        let ok = !k.is_empty()
            && k.len() <= 253
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
            && k != "."
            && k != "..";
        if !ok {
            ch.fail(
                format!("{field}.{k}"),
                format!("invalid key {k:?}: expected letters, digits, '-', '_' or '.'"),
            );
        }
    }
}

/// Largest total size of ConfigMap or Secret data the API server stores.
const MAX_CONFIG_BYTES: usize = 1024 * 1024;

fn check_config_size<'a>(
    values: impl Iterator<Item = (&'a String, &'a String)>,
    ch: &mut Checks<'_>,
    field: &str,
) {
    let size: usize = values.map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CONFIG_BYTES {
        ch.fail(
            field,
            format!("{size} bytes of data: a ConfigMap or Secret holds at most 1 MiB"),
        );
    }
}

/// What a kind adds to its pod beyond the container defaults.
#[derive(Default)]
struct PodParts {
    volumes: Vec<core::Volume>,
    mounts: Vec<core::VolumeMount>,
    env_from: Vec<core::EnvFromSource>,
    annotations: BTreeMap<String, String>,
}

/// The optional `<name>-config` ConfigMap and how the pod consumes it.
struct ConfigParts {
    object: Option<Value>,
    pod: PodParts,
}

fn check_config(cfg: Option<&ConfigSpec>, ch: &mut Checks<'_>) {
    let Some(cfg) = cfg else { return };
    check_config_keys(cfg.data.keys(), ch, "spec.config.data");
    check_config_keys(cfg.files.keys(), ch, "spec.config.files");
    for k in cfg.files.keys() {
        if cfg.data.contains_key(k) {
            ch.fail(
                format!("spec.config.files.{k}"),
                format!("{k:?} is also a key of spec.config.data"),
            );
        }
    }
    check_config_size(cfg.data.iter().chain(cfg.files.iter()), ch, "spec.config");
    if let Some(p) = &cfg.mount_path {
        if !p.starts_with('/') {
            ch.fail(
                "spec.config.mountPath",
                format!("mountPath {p:?} must be absolute"),
            );
        }
    }
    if cfg.mount_path.is_some() && cfg.files.is_empty() {
        ch.fail(
            "spec.config.mountPath",
            "mountPath is set but spec.config.files is empty",
        );
    }
}

fn config_parts(cfg: Option<&ConfigSpec>, m: &Module<'_>) -> ConfigParts {
    let mut parts = ConfigParts {
        object: None,
        pod: PodParts::default(),
    };
    let Some(cfg) = cfg.filter(|c| !c.data.is_empty() || !c.files.is_empty()) else {
        return parts;
    };
    let cm_name = format!("{}-config", m.name);
    let mut data = cfg.data.clone();
    data.extend(cfg.files.clone());
    let flat: Vec<&str> = data
        .iter()
        .flat_map(|(k, v)| [k.as_str(), v.as_str()])
        .collect();
    // A content hash on the pod template rolls the pods when the configuration changes.
    parts
        .pod
        .annotations
        .insert("nixernetes.io/config-hash".into(), fnv1a(&flat));
    parts.object = Some(c::to_value(&core::ConfigMap {
        metadata: c::meta(&cm_name, &m.namespace, m.name, None),
        data: Some(data),
        ..Default::default()
    }));
    if !cfg.data.is_empty() {
        // The `data` keys become environment variables; files are mounted, not exported.
        parts.pod.env_from.push(core::EnvFromSource {
            config_map_ref: Some(core::ConfigMapEnvSource {
                name: cm_name.clone(),
                optional: None,
            }),
            ..Default::default()
        });
    }
    if !cfg.files.is_empty() {
        parts.pod.volumes.push(core::Volume {
            name: "config".into(),
            config_map: Some(core::ConfigMapVolumeSource {
                name: cm_name.clone(),
                items: Some(
                    cfg.files
                        .keys()
                        .map(|k| core::KeyToPath {
                            key: k.clone(),
                            path: k.clone(),
                            mode: None,
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        });
        parts.pod.mounts.push(core::VolumeMount {
            name: "config".into(),
            mount_path: cfg
                .mount_path
                .clone()
                .unwrap_or_else(|| format!("/etc/{}", m.name)),
            read_only: Some(true),
            ..Default::default()
        });
    }
    parts
}

fn check_scaling(
    replicas: i32,
    autoscaling: Option<&AutoscalingSpec>,
    pdb: &PdbSpec,
    ch: &mut Checks<'_>,
) {
    if !(0..=10_000).contains(&replicas) {
        ch.fail(
            "spec.replicas",
            format!("replicas {replicas} must be between 0 and 10000"),
        );
    }
    if let Some(a) = autoscaling {
        let min = a.min.unwrap_or(replicas);
        if min < 1 {
            ch.fail("spec.autoscaling.min", "min must be at least 1");
        }
        if a.max < min {
            ch.fail(
                "spec.autoscaling.max",
                format!("max {} is below min {min}", a.max),
            );
        }
        if a.min.is_some_and(|m| m < replicas) {
            ch.fail(
                "spec.autoscaling.min",
                format!(
                    "min {} is below spec.replicas {replicas}: raise min or lower replicas",
                    a.min.unwrap_or(0)
                ),
            );
        }
        for (k, v) in [("cpu", Some(a.cpu)), ("memory", a.memory)] {
            if v.is_some_and(|v| !(1..=1000).contains(&v)) {
                ch.fail(
                    format!("spec.autoscaling.{k}"),
                    format!("{k} target must be 1-1000 percent"),
                );
            }
        }
    }
    if pdb.min_available.is_some() && pdb.max_unavailable.is_some() {
        ch.fail("spec.pdb", "set minAvailable or maxUnavailable, not both");
    }
    for (k, v) in [
        ("minAvailable", &pdb.min_available),
        ("maxUnavailable", &pdb.max_unavailable),
    ] {
        match v {
            Some(IntOrString::Int(i)) if *i < 0 => {
                ch.fail(format!("spec.pdb.{k}"), format!("{k} must not be negative"))
            }
            Some(IntOrString::String(s)) if !is_percent(s) => ch.fail(
                format!("spec.pdb.{k}"),
                format!("{k} {s:?} must be a number or a percentage like \"50%\""),
            ),
            _ => {}
        }
    }
}

fn is_percent(s: &str) -> bool {
    s.strip_suffix('%')
        .is_some_and(|n| n.parse::<u8>().is_ok_and(|n| n <= 100))
}

/// Spreads the pods of a workload that runs more than one over zones and nodes (soft: a
/// single-zone cluster still schedules them), so one failure does not take them all.
fn spread(template: &mut core::PodTemplateSpec, name: &str, min_pods: i32) {
    let Some(pod) = template.spec.as_mut().filter(|_| min_pods > 1) else {
        return;
    };
    let constraint = |key: &str| core::TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(c::selector(name)),
        ..Default::default()
    };
    pod.topology_spread_constraints = Some(vec![
        constraint("topology.kubernetes.io/zone"),
        constraint("kubernetes.io/hostname"),
    ]);
}

/// Fewest pods a workload runs: the autoscaler's minimum, else its replicas.
fn min_pods(replicas: i32, autoscaling: Option<&AutoscalingSpec>) -> i32 {
    autoscaling
        .map(|a| a.min.unwrap_or(replicas))
        .unwrap_or(replicas)
}

/// HPA when autoscaling is set; PDB when more than one pod runs (unless disabled).
fn scaling_objects(
    m: &Module<'_>,
    target_kind: &str,
    replicas: i32,
    autoscaling: Option<&AutoscalingSpec>,
    pdb: &PdbSpec,
) -> Vec<Value> {
    let mut out = Vec::new();
    let min_pods = autoscaling
        .map(|a| a.min.unwrap_or(replicas))
        .unwrap_or(replicas);
    if pdb.enabled.unwrap_or(min_pods > 1) {
        let min_available = match (&pdb.min_available, &pdb.max_unavailable) {
            (None, None) => Some(IntOrString::Int(1)),
            (m, _) => m.clone(),
        };
        out.push(c::to_value(&policy::PodDisruptionBudget {
            metadata: c::meta(m.name, &m.namespace, m.name, None),
            spec: Some(policy::PodDisruptionBudgetSpec {
                selector: Some(c::selector(m.name)),
                min_available: min_available.as_ref().map(IntOrString::to_k8s),
                max_unavailable: pdb.max_unavailable.as_ref().map(IntOrString::to_k8s),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    if let Some(a) = autoscaling {
        let metric = |resource: &str, target: i32| autoscaling::MetricSpec {
            type_: "Resource".into(),
            resource: Some(autoscaling::ResourceMetricSource {
                name: resource.into(),
                target: autoscaling::MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(target),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let mut metrics = vec![metric("cpu", a.cpu)];
        if let Some(mem) = a.memory {
            metrics.push(metric("memory", mem));
        }
        out.push(c::to_value(&autoscaling::HorizontalPodAutoscaler {
            metadata: c::meta(m.name, &m.namespace, m.name, None),
            spec: Some(autoscaling::HorizontalPodAutoscalerSpec {
                scale_target_ref: autoscaling::CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: target_kind.into(),
                    name: m.name.to_string(),
                },
                min_replicas: Some(a.min.unwrap_or(replicas)),
                max_replicas: a.max,
                metrics: Some(metrics),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    out
}

fn finish(ch: Checks<'_>) -> Result<Vec<Finding>, Vec<Finding>> {
    ch.finish()
}

fn web_app(m: &Module<'_>, ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: WebAppSpec = m.spec()?;
    let k = Container {
        image: &spec.image,
        command: &spec.command,
        args: &spec.args,
        env: &spec.env,
        secret_env: &spec.secret_env,
        secret_mounts: &spec.secret_mounts,
        env_from: &spec.env_from,
        ports: &spec.ports,
        resources: &spec.resources,
        probes: &spec.probes,
        security: &spec.security,
        service_account: &spec.service_account,
        labels: &spec.labels,
        annotations: &spec.annotations,
        compliance: spec.compliance.as_ref(),
        depends_on: &spec.depends_on,
    };
    let mut ch = Checks::new(m);
    c::check_name_room(m.name, "-config", &mut ch);
    k.check(&mut ch);
    check_config(spec.config.as_ref(), &mut ch);
    check_scaling(spec.replicas, spec.autoscaling.as_ref(), &spec.pdb, &mut ch);
    ch.check("spec.service.port", validate::port(spec.service.port));
    let exposed = spec.ingress.is_some() || spec.route.is_some();
    if spec.ingress.is_some() && spec.route.is_some() {
        ch.fail("spec.route", "set either ingress or route, not both");
    }
    if exposed && (!spec.service.enabled || spec.ports.is_empty()) {
        ch.fail(
            "spec.service.enabled",
            "ingress and route need the Service: enable it and declare a port",
        );
    }
    if spec.service.enabled && spec.ports.is_empty() {
        ch.fail(
            "spec.ports",
            "a WebApp with a Service needs at least one port (or set service.enabled: false)",
        );
    }
    if let Some(ing) = &spec.ingress {
        ch.check(
            "spec.ingress.host",
            validate::dns1123_subdomain(ing.host.trim_start_matches("*.")),
        );
        if !ing.path.starts_with('/') {
            ch.fail("spec.ingress.path", "path must start with '/'");
        }
        if let Some(s) = ing.tls.as_ref().and_then(|t| t.secret_name.as_ref()) {
            ch.check(
                "spec.ingress.tls.secretName",
                validate::dns1123_subdomain(s),
            );
        }
    }
    if let Some(r) = &spec.route {
        ch.check(
            "spec.route.gatewayRef.name",
            validate::dns1123_subdomain(&r.gateway_ref.name),
        );
        if let Some(ns) = &r.gateway_ref.namespace {
            ch.check(
                "spec.route.gatewayRef.namespace",
                validate::dns1123_label(ns),
            );
        }
        for (i, h) in r.hostnames.iter().enumerate() {
            ch.check(
                format!("spec.route.hostnames[{i}]"),
                validate::dns1123_subdomain(h.trim_start_matches("*.")),
            );
        }
        if !r.path.starts_with('/') {
            ch.fail("spec.route.path", "path must start with '/'");
        }
    }
    let findings = finish(ch)?;

    let mut objects = Vec::new();
    let (sa, sa_name) = k.service_account(m);
    objects.extend(sa);
    let cfg = config_parts(spec.config.as_ref(), m);
    objects.extend(cfg.object);
    let mut template = k.pod_template(m, ctx, &sa_name, cfg.pod);
    spread(
        &mut template,
        m.name,
        min_pods(spec.replicas, spec.autoscaling.as_ref()),
    );
    let mut meta = c::meta(m.name, &m.namespace, m.name, None);
    meta.annotations = k.workload_annotations();
    objects.push(c::to_value(&apps::Deployment {
        metadata: meta,
        spec: Some(apps::DeploymentSpec {
            // With an HPA the replica count belongs to it: re-applying must not reset it.
            replicas: spec.autoscaling.is_none().then_some(spec.replicas),
            selector: c::selector(m.name),
            template,
            ..Default::default()
        }),
        ..Default::default()
    }));
    if spec.service.enabled && !spec.ports.is_empty() {
        let first = &spec.ports[0];
        let mut ports = vec![core::ServicePort {
            name: Some(first.name.clone()),
            port: spec.service.port as i32,
            target_port: Some(
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                    first.name.clone(),
                ),
            ),
            protocol: Some(first.protocol.as_str().into()),
            ..Default::default()
        }];
        for p in &spec.ports[1..] {
            ports.push(core::ServicePort {
                name: Some(p.name.clone()),
                port: p.port as i32,
                target_port: Some(
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                        p.name.clone(),
                    ),
                ),
                protocol: Some(p.protocol.as_str().into()),
                ..Default::default()
            });
        }
        objects.push(c::to_value(&core::Service {
            metadata: c::meta(m.name, &m.namespace, m.name, None),
            spec: Some(core::ServiceSpec {
                type_: Some(format!("{:?}", spec.service.type_)),
                selector: Some(c::selector_labels(m.name)),
                ports: Some(ports),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    objects.extend(scaling_objects(
        m,
        "Deployment",
        spec.replicas,
        spec.autoscaling.as_ref(),
        &spec.pdb,
    ));
    if let Some(ing) = &spec.ingress {
        let backend = networking::IngressBackend {
            service: Some(networking::IngressServiceBackend {
                name: m.name.to_string(),
                port: Some(networking::ServiceBackendPort {
                    number: Some(spec.service.port as i32),
                    name: None,
                }),
            }),
            ..Default::default()
        };
        objects.push(c::to_value(&networking::Ingress {
            metadata: c::meta(m.name, &m.namespace, m.name, None),
            spec: Some(networking::IngressSpec {
                ingress_class_name: ing.class_name.clone(),
                rules: Some(vec![networking::IngressRule {
                    host: Some(ing.host.clone()),
                    http: Some(networking::HTTPIngressRuleValue {
                        paths: vec![networking::HTTPIngressPath {
                            path: Some(ing.path.clone()),
                            path_type: "Prefix".into(),
                            backend,
                        }],
                    }),
                }]),
                tls: ing.tls.as_ref().map(|t| {
                    vec![networking::IngressTLS {
                        hosts: Some(vec![ing.host.clone()]),
                        secret_name: Some(
                            t.secret_name
                                .clone()
                                .unwrap_or_else(|| format!("{}-tls", m.name)),
                        ),
                    }]
                }),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    if let Some(r) = &spec.route {
        let mut parent = serde_json::Map::new();
        parent.insert("name".into(), json!(r.gateway_ref.name));
        if let Some(ns) = &r.gateway_ref.namespace {
            parent.insert("namespace".into(), json!(ns));
        }
        if let Some(s) = &r.gateway_ref.section_name {
            parent.insert("sectionName".into(), json!(s));
        }
        let mut route_spec = serde_json::Map::new();
        route_spec.insert("parentRefs".into(), json!([parent]));
        if !r.hostnames.is_empty() {
            route_spec.insert("hostnames".into(), json!(r.hostnames));
        }
        route_spec.insert(
            "rules".into(),
            json!([{
                "matches": [{"path": {"type": "PathPrefix", "value": r.path}}],
                "backendRefs": [{"name": m.name, "port": spec.service.port}],
            }]),
        );
        objects.push(json!({
            "apiVersion": ctx.api_version("HTTPRoute", "gateway.networking.k8s.io/v1"),
            "kind": "HTTPRoute",
            "metadata": c::to_value(&c::meta(m.name, &m.namespace, m.name, None)),
            "spec": route_spec,
        }));
    }
    Ok(Expansion {
        objects,
        labels: k.kind_labels(),
        findings,
    })
}

fn worker(m: &Module<'_>, ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: WorkerSpec = m.spec()?;
    let k = Container {
        image: &spec.image,
        command: &spec.command,
        args: &spec.args,
        env: &spec.env,
        secret_env: &spec.secret_env,
        secret_mounts: &spec.secret_mounts,
        env_from: &spec.env_from,
        ports: &[],
        resources: &spec.resources,
        probes: &spec.probes,
        security: &spec.security,
        service_account: &spec.service_account,
        labels: &spec.labels,
        annotations: &spec.annotations,
        compliance: spec.compliance.as_ref(),
        depends_on: &spec.depends_on,
    };
    let mut ch = Checks::new(m);
    c::check_name_room(m.name, "-config", &mut ch);
    k.check(&mut ch);
    check_config(spec.config.as_ref(), &mut ch);
    check_scaling(spec.replicas, spec.autoscaling.as_ref(), &spec.pdb, &mut ch);
    let findings = finish(ch)?;

    let mut objects = Vec::new();
    let (sa, sa_name) = k.service_account(m);
    objects.extend(sa);
    let cfg = config_parts(spec.config.as_ref(), m);
    objects.extend(cfg.object);
    let mut template = k.pod_template(m, ctx, &sa_name, cfg.pod);
    spread(
        &mut template,
        m.name,
        min_pods(spec.replicas, spec.autoscaling.as_ref()),
    );
    let mut meta = c::meta(m.name, &m.namespace, m.name, None);
    meta.annotations = k.workload_annotations();
    objects.push(c::to_value(&apps::Deployment {
        metadata: meta,
        spec: Some(apps::DeploymentSpec {
            replicas: spec.autoscaling.is_none().then_some(spec.replicas),
            selector: c::selector(m.name),
            template,
            ..Default::default()
        }),
        ..Default::default()
    }));
    objects.extend(scaling_objects(
        m,
        "Deployment",
        spec.replicas,
        spec.autoscaling.as_ref(),
        &spec.pdb,
    ));
    Ok(Expansion {
        objects,
        labels: k.kind_labels(),
        findings,
    })
}

fn stateful_service(m: &Module<'_>, ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: StatefulServiceSpec = m.spec()?;
    let k = Container {
        image: &spec.image,
        command: &spec.command,
        args: &spec.args,
        env: &spec.env,
        secret_env: &spec.secret_env,
        secret_mounts: &spec.secret_mounts,
        env_from: &spec.env_from,
        ports: &spec.ports,
        resources: &spec.resources,
        probes: &spec.probes,
        security: &spec.security,
        service_account: &spec.service_account,
        labels: &spec.labels,
        annotations: &spec.annotations,
        compliance: spec.compliance.as_ref(),
        depends_on: &spec.depends_on,
    };
    let mut ch = Checks::new(m);
    c::check_name_room(m.name, "-headless", &mut ch);
    k.check(&mut ch);
    check_scaling(spec.replicas, None, &spec.pdb, &mut ch);
    for (i, v) in spec.volume_claims.iter().enumerate() {
        let f = format!("spec.volumeClaims[{i}]");
        ch.check(format!("{f}.name"), validate::dns1123_label(&v.name));
        if spec.volume_claims[..i].iter().any(|w| w.name == v.name) {
            ch.fail(
                format!("{f}.name"),
                format!("duplicate volume name {:?}", v.name),
            );
        }
        if v.name == "tmp" && spec.security.read_only_root_filesystem {
            ch.fail(
                format!("{f}.name"),
                "the name \"tmp\" is taken by the /tmp volume of a read-only root filesystem",
            );
        }
        ch.check(format!("{f}.size"), validate::quantity(&v.size.text()));
        if let Some(sc) = &v.storage_class {
            ch.check(format!("{f}.storageClass"), validate::dns1123_subdomain(sc));
        }
        if !v.mount_path.starts_with('/') {
            ch.fail(
                format!("{f}.mountPath"),
                format!("mountPath {:?} must be absolute", v.mount_path),
            );
        }
        if v.access_modes.is_empty() {
            ch.fail(
                format!("{f}.accessModes"),
                "at least one access mode is required",
            );
        }
    }
    let findings = finish(ch)?;

    let mut objects = Vec::new();
    let (sa, sa_name) = k.service_account(m);
    objects.extend(sa);
    let mounts = spec
        .volume_claims
        .iter()
        .map(|v| core::VolumeMount {
            name: v.name.clone(),
            mount_path: v.mount_path.clone(),
            ..Default::default()
        })
        .collect();
    let mut template = k.pod_template(
        m,
        ctx,
        &sa_name,
        PodParts {
            mounts,
            ..Default::default()
        },
    );
    spread(&mut template, m.name, spec.replicas);
    let headless = format!("{}-headless", m.name);
    let claims: Vec<core::PersistentVolumeClaim> = spec
        .volume_claims
        .iter()
        .map(|v| core::PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(v.name.clone()),
                ..Default::default()
            },
            spec: Some(core::PersistentVolumeClaimSpec {
                access_modes: Some(v.access_modes.iter().map(|a| format!("{a:?}")).collect()),
                storage_class_name: v.storage_class.clone(),
                resources: Some(core::VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_string(),
                        Quantity(v.size.text()),
                    )])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let mut meta = c::meta(m.name, &m.namespace, m.name, None);
    meta.annotations = k.workload_annotations();
    objects.push(c::to_value(&apps::StatefulSet {
        metadata: meta,
        spec: Some(apps::StatefulSetSpec {
            replicas: Some(spec.replicas),
            service_name: Some(headless.clone()),
            pod_management_policy: Some(format!("{:?}", spec.pod_management_policy)),
            selector: c::selector(m.name),
            template,
            volume_claim_templates: (!claims.is_empty()).then_some(claims),
            ..Default::default()
        }),
        ..Default::default()
    }));
    if !spec.ports.is_empty() {
        let ports: Vec<core::ServicePort> = spec
            .ports
            .iter()
            .map(|p| core::ServicePort {
                name: Some(p.name.clone()),
                port: p.port as i32,
                target_port: Some(
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                        p.name.clone(),
                    ),
                ),
                protocol: Some(p.protocol.as_str().into()),
                ..Default::default()
            })
            .collect();
        objects.push(c::to_value(&core::Service {
            metadata: c::meta(&headless, &m.namespace, m.name, None),
            spec: Some(core::ServiceSpec {
                cluster_ip: Some("None".into()),
                publish_not_ready_addresses: Some(true),
                selector: Some(c::selector_labels(m.name)),
                ports: Some(ports.clone()),
                ..Default::default()
            }),
            ..Default::default()
        }));
        objects.push(c::to_value(&core::Service {
            metadata: c::meta(m.name, &m.namespace, m.name, None),
            spec: Some(core::ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(c::selector_labels(m.name)),
                ports: Some(ports),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    objects.extend(scaling_objects(
        m,
        "StatefulSet",
        spec.replicas,
        None,
        &spec.pdb,
    ));
    Ok(Expansion {
        objects,
        labels: k.kind_labels(),
        findings,
    })
}

fn node_agent(m: &Module<'_>, ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: NodeAgentSpec = m.spec()?;
    let k = Container {
        image: &spec.image,
        command: &spec.command,
        args: &spec.args,
        env: &spec.env,
        secret_env: &spec.secret_env,
        secret_mounts: &spec.secret_mounts,
        env_from: &spec.env_from,
        ports: &spec.ports,
        resources: &spec.resources,
        probes: &spec.probes,
        security: &spec.security,
        service_account: &spec.service_account,
        labels: &spec.labels,
        annotations: &spec.annotations,
        compliance: spec.compliance.as_ref(),
        depends_on: &[],
    };
    let mut ch = Checks::new(m);
    c::check_name_room(m.name, "", &mut ch);
    k.check(&mut ch);
    for (i, h) in spec.host_paths.iter().enumerate() {
        let f = format!("spec.hostPaths[{i}]");
        ch.check(format!("{f}.name"), validate::dns1123_label(&h.name));
        if spec.host_paths[..i].iter().any(|o| o.name == h.name) || h.name == "tmp" {
            ch.fail(
                format!("{f}.name"),
                format!("volume name {:?} is already used", h.name),
            );
        }
        for (k2, p) in [("path", &h.path), ("mountPath", &h.mount_path)] {
            if !p.starts_with('/') {
                ch.fail(format!("{f}.{k2}"), format!("{k2} {p:?} must be absolute"));
            }
        }
    }
    for (i, t) in spec.tolerations.iter().enumerate() {
        let f = format!("spec.tolerations[{i}]");
        if t.operator == TolerationOperator::Exists && t.value.is_some() {
            ch.fail(format!("{f}.value"), "operator Exists takes no value");
        }
        if t.operator == TolerationOperator::Equal && t.key.is_none() {
            ch.fail(format!("{f}.key"), "operator Equal needs a key");
        }
        if let Some(key) = &t.key {
            ch.check(format!("{f}.key"), validate::label_key(key));
        }
    }
    let findings = finish(ch)?;

    let mut objects = Vec::new();
    let (sa, sa_name) = k.service_account(m);
    objects.extend(sa);
    let volumes = spec
        .host_paths
        .iter()
        .map(|h| core::Volume {
            name: h.name.clone(),
            host_path: Some(core::HostPathVolumeSource {
                path: h.path.clone(),
                type_: None,
            }),
            ..Default::default()
        })
        .collect();
    let mounts = spec
        .host_paths
        .iter()
        .map(|h| core::VolumeMount {
            name: h.name.clone(),
            mount_path: h.mount_path.clone(),
            read_only: Some(h.read_only),
            ..Default::default()
        })
        .collect();
    let mut template = k.pod_template(
        m,
        ctx,
        &sa_name,
        PodParts {
            volumes,
            mounts,
            ..Default::default()
        },
    );
    if let Some(pod) = template.spec.as_mut() {
        pod.tolerations = Some(
            spec.tolerations
                .iter()
                .map(|t| core::Toleration {
                    key: t.key.clone(),
                    operator: Some(format!("{:?}", t.operator)),
                    value: t.value.clone(),
                    effect: t.effect.map(|e| format!("{e:?}")),
                    ..Default::default()
                })
                .collect(),
        );
        if spec.system_node_critical {
            pod.priority_class_name = Some("system-node-critical".into());
        }
    }
    objects.push(c::to_value(&apps::DaemonSet {
        metadata: c::meta(m.name, &m.namespace, m.name, None),
        spec: Some(apps::DaemonSetSpec {
            selector: c::selector(m.name),
            template,
            ..Default::default()
        }),
        ..Default::default()
    }));
    Ok(Expansion {
        objects,
        labels: k.kind_labels(),
        findings,
    })
}

fn app_config(m: &Module<'_>, _ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: AppConfigSpec = m.spec()?;
    let mut ch = Checks::new(m);
    ch.check("metadata.name", validate::dns1123_subdomain(m.name));
    check_config_keys(spec.data.keys(), &mut ch, "spec.data");
    check_config_keys(spec.files.keys(), &mut ch, "spec.files");
    check_config_keys(spec.secret_data.keys(), &mut ch, "spec.secretData");
    for k in spec.files.keys() {
        if spec.data.contains_key(k) {
            ch.fail(
                format!("spec.files.{k}"),
                format!("{k:?} is also a key of spec.data"),
            );
        }
    }
    check_config_size(spec.data.iter().chain(spec.files.iter()), &mut ch, "spec");
    check_config_size(spec.secret_data.iter(), &mut ch, "spec.secretData");
    for (k, v) in &spec.labels {
        ch.check(
            format!("spec.labels.{k}"),
            validate::label_key(k).and(validate::label_value(v)),
        );
    }
    if !spec.secret_data.is_empty() && !spec.allow_plain_secrets {
        ch.fail(
            "spec.secretData",
            "plaintext secret values are refused: reference the secret instead (ExternalSecret, SealedSecret, \
             or a Secret created outside Git), or set spec.allowPlainSecrets: true to write them anyway",
        );
    }
    if spec.data.is_empty() && spec.files.is_empty() && spec.secret_data.is_empty() {
        ch.fail("spec", "nothing to emit: set data, files or secretData");
    }
    let mut findings = finish(ch)?;

    let mut objects = Vec::new();
    if !spec.data.is_empty() || !spec.files.is_empty() {
        let mut data = spec.data.clone();
        data.extend(spec.files.clone());
        objects.push(c::to_value(&core::ConfigMap {
            metadata: c::meta(m.name, &m.namespace, m.name, None),
            data: Some(data),
            immutable: spec.immutable.then_some(true),
            ..Default::default()
        }));
    }
    if !spec.secret_data.is_empty() {
        findings.push(m.warning(
            "spec.secretData",
            "writing plaintext secret values into a Secret (allowPlainSecrets: true); keep this output out of Git",
        ));
        objects.push(c::to_value(&core::Secret {
            metadata: c::meta(m.name, &m.namespace, m.name, None),
            type_: Some("Opaque".into()),
            string_data: Some(spec.secret_data.clone()),
            immutable: spec.immutable.then_some(true),
            ..Default::default()
        }));
    }
    Ok(Expansion {
        objects,
        labels: Default::default(),
        findings,
    })
}
