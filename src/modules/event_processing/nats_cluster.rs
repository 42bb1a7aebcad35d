//! `NATSCluster`: a NATS server cluster with JetStream, written as the official `nats` Helm
//! chart (nats-io/k8s, chart 2.14) renders it, by hand: a StatefulSet (the server and the
//! config reloader), a headless Service for the routes, a client Service, the `nats.conf`
//! ConfigMap, a PodDisruptionBudget and a ServiceAccount. The legacy nats-operator (`nats.io`
//! `NatsCluster`) is deprecated and is not used; streams are `NATSStream`s, run by NACK.
//!
//! Unlike the chart's defaults, the pods are hardened (non-root, read-only root filesystem,
//! `RuntimeDefault` seccomp, no capabilities) and the service account token is not mounted.

use crate::kind::network::{self, NetworkTarget, Policies, Port};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{
    Context, Example, Expansion, Gvk, ModuleResource, OutputDef, OutputValue, OutputValues,
    Problems,
};
use crate::modules::shared::container::{ResourcesSpec, SecuritySpec};
use crate::modules::shared::scaling::{self, PdbSpec};
use crate::modules::shared::{defaults, meta};
use crate::types::{IntOrString, Quantity};
use crate::validate;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString as K8sIntOrString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub struct NATSCluster;

/// Client port.
pub const CLIENT_PORT: i64 = 4222;
/// Route (cluster) port.
pub const CLUSTER_PORT: i64 = 6222;
/// HTTP monitoring port (`/healthz`, `/varz`, `/jsz`).
pub const MONITOR_PORT: i64 = 8222;
/// Where JetStream keeps its files (the chart's `config.jetstream.fileStore.dir`).
const STORE_DIR: &str = "/data";
/// Where the auth include Secret is mounted; `nats.conf` includes it relative to its own
/// directory, `/etc/nats-config`.
const AUTH_DIR: &str = "/etc/nats-auth";
/// Where the client TLS Secret is mounted (the chart's `config.nats.tls.dir`).
const TLS_DIR: &str = "/etc/nats-certs/nats";

fn nats_image() -> String {
    "nats:2.14.2-alpine".into()
}
fn reloader_image() -> String {
    "natsio/nats-server-config-reloader:0.23.0".into()
}
fn auth_key() -> String {
    "auth.conf".into()
}
fn nack_namespace() -> String {
    "nack".into()
}
fn keda_namespace() -> String {
    "keda".into()
}
fn ten_gi() -> Quantity {
    Quantity::String("10Gi".into())
}
fn one_gi() -> Quantity {
    Quantity::String("1Gi".into())
}

/// JetStream persistence: a volume per server for the file store, and the memory store's cap.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JetStreamSpec {
    /// Size of each server's file-store volume; also its `max_file_store`, e.g. `10Gi`.
    #[serde(default = "ten_gi")]
    pub file_storage: Quantity,
    /// Most memory each server gives memory-backed streams (`max_memory_store`), e.g. `1Gi`;
    /// `0` disables memory storage.
    #[serde(default = "one_gi")]
    pub memory: Quantity,
    /// StorageClass of the file-store volumes; the cluster's default when not given.
    pub storage_class: Option<String>,
}

impl Default for JetStreamSpec {
    fn default() -> Self {
        JetStreamSpec {
            file_storage: ten_gi(),
            memory: one_gi(),
            storage_class: None,
        }
    }
}

/// Client authentication and authorization, kept in a Secret you manage: its key holds a NATS
/// config fragment (`authorization { … }` or `accounts { … }`) that `nats.conf` includes. No
/// credential is written here.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthSpec {
    /// Name of the Secret holding the auth config.
    pub secret_ref: String,
    /// Key of the config fragment in the Secret.
    #[serde(default = "auth_key")]
    pub key: String,
}

/// TLS for client connections, from a `kubernetes.io/tls` Secret (e.g. cert-manager's).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSpec {
    /// Name of the Secret with `tls.crt` and `tls.key`.
    pub secret_name: String,
}

/// Who else reaches the servers: the NACK controller (it creates streams and consumers over
/// the client port) and KEDA (its `nats-jetstream` scaler reads the monitoring port).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControllersSpec {
    /// Namespace the NACK JetStream controller runs in: allowed on the client port.
    #[serde(default = "nack_namespace")]
    pub nack_namespace: String,
    /// Namespace KEDA runs in: allowed on the monitoring port.
    #[serde(default = "keda_namespace")]
    pub keda_namespace: String,
}

impl Default for ControllersSpec {
    fn default() -> Self {
        ControllersSpec {
            nack_namespace: nack_namespace(),
            keda_namespace: keda_namespace(),
        }
    }
}

/// A NATS server cluster with JetStream, as the official NATS Helm chart runs it: a StatefulSet
/// whose servers route to each other through a headless Service, a client Service, and the
/// `nats.conf` in a ConfigMap.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NATSClusterSpec {
    /// NATS servers (1-9); JetStream replicates over a quorum, so an odd number of at least 3
    /// survives the loss of a server.
    #[serde(default = "defaults::int::<3>")]
    pub replicas: i32,
    /// The NATS server image (pinned).
    #[serde(default = "nats_image")]
    pub image: String,
    /// JetStream storage.
    #[serde(default)]
    pub jetstream: JetStreamSpec,
    /// Client authentication from a Secret's config include.
    pub auth: Option<AuthSpec>,
    /// TLS for client connections.
    pub tls: Option<TlsSpec>,
    /// Run `nats-server-config-reloader` beside each server, so config changes (and renewed
    /// certificates) apply without a restart (the pod template then says
    /// `nixernetes.io/config-hash: "off"`). Off by default: the pod template then carries a
    /// hash of `nats.conf`, so a config change rolls the servers one by one (the reloader
    /// sidecar has no health endpoint, so it runs without probes).
    #[serde(default)]
    pub reloader: bool,
    /// The config reloader's image (pinned).
    #[serde(default = "reloader_image")]
    pub reloader_image: String,
    /// CPU and memory of each server, over the platform's defaults; the memory limit should
    /// leave room above `jetstream.memory`.
    pub resources: Option<ResourcesSpec>,
    /// The controllers that reach the servers.
    #[serde(default)]
    pub controllers: ControllersSpec,
}

/// Whether `q` is a size NATS and Kubernetes read alike: a whole number with an optional
/// `K`/`M`/`G`/`T` (decimal) or `Ki`/`Mi`/`Gi`/`Ti` (binary) suffix.
fn nats_size(q: &str) -> Result<(), String> {
    let digits = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
    let ok = digits > 0 && ["", "K", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"].contains(&&q[digits..]);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{q:?}: expected a whole size NATS reads too, e.g. 10Gi, 512Mi or 1G"
        ))
    }
}

fn validate(spec: &NATSClusterSpec, p: &mut Problems<'_>) {
    meta::check_name_room("-headless", p);
    if !(1..=9).contains(&spec.replicas) {
        p.fail(
            "spec.replicas",
            format!("replicas {} must be between 1 and 9", spec.replicas),
        );
    } else if spec.replicas % 2 == 0 {
        p.warn(
            "spec.replicas",
            format!(
                "{} servers tolerate no more failures than {}: JetStream needs a majority, use an odd number",
                spec.replicas,
                spec.replicas - 1
            ),
        );
    }
    p.check("spec.image", validate::image_reference(&spec.image));
    p.check(
        "spec.reloaderImage",
        validate::image_reference(&spec.reloader_image),
    );
    let js = &spec.jetstream;
    p.check(
        "spec.jetstream.fileStorage",
        nats_size(&js.file_storage.text()),
    );
    if js.file_storage.text().trim_start_matches('0').is_empty() {
        p.fail(
            "spec.jetstream.fileStorage",
            "the file store needs a volume: give a size above 0",
        );
    }
    p.check("spec.jetstream.memory", nats_size(&js.memory.text()));
    if let Some(sc) = &js.storage_class {
        p.check(
            "spec.jetstream.storageClass",
            validate::dns1123_subdomain(sc),
        );
    }
    if let Some(a) = &spec.auth {
        p.check(
            "spec.auth.secretRef",
            validate::dns1123_subdomain(&a.secret_ref),
        );
        p.check("spec.auth.key", config_key(&a.key));
    }
    if let Some(t) = &spec.tls {
        p.check(
            "spec.tls.secretName",
            validate::dns1123_subdomain(&t.secret_name),
        );
    }
    if let Some(r) = &spec.resources {
        r.check(p, "spec.resources");
        let limit = r
            .limits
            .get("memory")
            .and_then(|l| validate::quantity::parse(&l.text()));
        let store = validate::quantity::parse(&js.memory.text());
        if let (Some(limit), Some(store)) = (limit, store) {
            if limit <= store {
                p.warn(
                    "spec.resources.limits.memory",
                    format!(
                        "the memory limit {} is not above jetstream.memory {}: a full memory store gets the server OOM-killed",
                        r.limits["memory"].text(),
                        js.memory.text()
                    ),
                );
            }
        }
    }
    for (f, ns) in [
        (
            "spec.controllers.nackNamespace",
            &spec.controllers.nack_namespace,
        ),
        (
            "spec.controllers.kedaNamespace",
            &spec.controllers.keda_namespace,
        ),
    ] {
        p.check(f, validate::dns1123_label(ns));
    }
}

/// A Secret key: letters, digits, `-`, `_`, `.`.
fn config_key(k: &str) -> Result<(), String> {
    let ok = !k.is_empty()
        && k.len() <= 253
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{k:?} is not a Secret key (letters, digits, '-', '_', '.')"
        ))
    }
}

/// `nats.conf`, as the chart writes it for these values.
pub fn nats_conf(spec: &NATSClusterSpec, name: &str) -> String {
    let mut c = String::new();
    c.push_str("server_name: $SERVER_NAME\n");
    c.push_str("lame_duck_grace_period: 10s\nlame_duck_duration: 30s\n");
    c.push_str("pid_file: /var/run/nats/nats.pid\n\n");
    c.push_str(&format!("port: {CLIENT_PORT}\n"));
    if spec.tls.is_some() {
        c.push_str(&format!(
            "tls {{\n  cert_file: \"{TLS_DIR}/tls.crt\"\n  key_file: \"{TLS_DIR}/tls.key\"\n}}\n"
        ));
    }
    c.push_str(&format!("http_port: {MONITOR_PORT}\n"));
    if spec.replicas > 1 {
        c.push_str(&format!(
            "\ncluster {{\n  name: {name}\n  port: {CLUSTER_PORT}\n  no_advertise: true\n  routes: [\n"
        ));
        for i in 0..spec.replicas {
            c.push_str(&format!(
                "    nats://{name}-{i}.{name}-headless:{CLUSTER_PORT}\n"
            ));
        }
        c.push_str("  ]\n}\n");
    }
    let js = &spec.jetstream;
    c.push_str(&format!(
        "\njetstream {{\n  store_dir: {STORE_DIR}\n  max_memory_store: {}\n  max_file_store: {}\n}}\n",
        js.memory.text(),
        js.file_storage.text()
    ));
    if let Some(a) = &spec.auth {
        c.push_str(&format!("\ninclude ../nats-auth/{};\n", a.key));
    }
    c
}

fn port(name: &str, port: i64) -> core::ContainerPort {
    core::ContainerPort {
        name: Some(name.into()),
        container_port: port as i32,
        ..Default::default()
    }
}

fn probe(path: &str, period: i32, failures: i32) -> core::Probe {
    core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(path.into()),
            port: K8sIntOrString::String("monitor".into()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(10),
        timeout_seconds: Some(5),
        period_seconds: Some(period),
        success_threshold: Some(1),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

fn mount(name: &str, path: &str) -> core::VolumeMount {
    core::VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: (name != "pid" && !name.ends_with("-js")).then_some(true),
        ..Default::default()
    }
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, K8sQuantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), K8sQuantity(v.to_string())))
        .collect()
}

fn service_port(name: &str, port: i64, app_protocol: &str) -> core::ServicePort {
    core::ServicePort {
        name: Some(name.into()),
        port: port as i32,
        target_port: Some(K8sIntOrString::String(name.into())),
        app_protocol: Some(app_protocol.into()),
        ..Default::default()
    }
}

fn statefulset(spec: &NATSClusterSpec, m: &ModuleResource<'_>, ctx: &Context) -> Value {
    let (name, ns) = (m.name, m.namespace.as_str());
    let pvc = format!("{name}-js");
    let security = SecuritySpec::default();
    let mut mounts = vec![
        mount("config", "/etc/nats-config"),
        mount("pid", "/var/run/nats"),
        mount(&pvc, STORE_DIR),
    ];
    let mut volumes = vec![
        core::Volume {
            name: "config".into(),
            config_map: Some(core::ConfigMapVolumeSource {
                name: format!("{name}-config"),
                ..Default::default()
            }),
            ..Default::default()
        },
        core::Volume {
            name: "pid".into(),
            empty_dir: Some(Default::default()),
            ..Default::default()
        },
    ];
    let secret_volume = |volume: &str, secret: &str| core::Volume {
        name: volume.into(),
        secret: Some(core::SecretVolumeSource {
            secret_name: Some(secret.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut reloaded = vec!["/etc/nats-config/nats.conf".to_string()];
    if let Some(a) = &spec.auth {
        mounts.push(mount("auth", AUTH_DIR));
        volumes.push(secret_volume("auth", &a.secret_ref));
        reloaded.push(format!("{AUTH_DIR}/{}", a.key));
    }
    if let Some(t) = &spec.tls {
        mounts.push(mount("tls", TLS_DIR));
        volumes.push(secret_volume("tls", &t.secret_name));
        reloaded.push(format!("{TLS_DIR}/tls.crt"));
        reloaded.push(format!("{TLS_DIR}/tls.key"));
    }
    let nats = core::Container {
        name: "nats".into(),
        image: Some(spec.image.clone()),
        args: Some(vec!["--config".into(), "/etc/nats-config/nats.conf".into()]),
        ports: Some(vec![
            port("nats", CLIENT_PORT),
            port("cluster", CLUSTER_PORT),
            port("monitor", MONITOR_PORT),
        ]),
        env: Some(vec![
            core::EnvVar {
                name: "POD_NAME".into(),
                value_from: Some(core::EnvVarSource {
                    field_ref: Some(core::ObjectFieldSelector {
                        field_path: "metadata.name".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            core::EnvVar {
                name: "SERVER_NAME".into(),
                value: Some("$(POD_NAME)".into()),
                ..Default::default()
            },
        ]),
        lifecycle: Some(core::Lifecycle {
            pre_stop: Some(core::LifecycleHandler {
                exec: Some(core::ExecAction {
                    command: Some(vec![
                        "nats-server".into(),
                        "-sl=ldm=/var/run/nats/nats.pid".into(),
                    ]),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        startup_probe: Some(probe("/healthz", 10, 90)),
        readiness_probe: Some(probe("/healthz?js-server-only=true", 10, 3)),
        liveness_probe: Some(probe("/healthz?js-enabled-only=true", 30, 3)),
        resources: Some(spec.resources.clone().unwrap_or_default().build(ctx)),
        security_context: Some(security.container()),
        volume_mounts: Some(mounts.clone()),
        ..Default::default()
    };
    let mut containers = vec![nats];
    if spec.reloader {
        let mut args = vec!["-pid".to_string(), "/var/run/nats/nats.pid".to_string()];
        for f in &reloaded {
            args.push("-config".into());
            args.push(f.clone());
        }
        containers.push(core::Container {
            name: "reloader".into(),
            image: Some(spec.reloader_image.clone()),
            args: Some(args),
            resources: Some(core::ResourceRequirements {
                requests: Some(quantities(&[("cpu", "10m"), ("memory", "32Mi")])),
                limits: Some(quantities(&[("cpu", "100m"), ("memory", "64Mi")])),
                ..Default::default()
            }),
            security_context: Some(security.container()),
            // The server's mounts under /etc/ (as the chart's natsVolumeMountPrefixes), and the PID.
            volume_mounts: Some(
                mounts
                    .into_iter()
                    .filter(|v| v.mount_path.starts_with("/etc/") || v.name == "pid")
                    .collect(),
            ),
            ..Default::default()
        });
    }
    let labels = meta::meta(name, ns, name, Some("nats")).labels;
    let mut template = core::PodTemplateSpec {
        metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            labels: labels.clone(),
            // Without the reloader, a changed nats.conf rolls the pods (the engine's content
            // hash of what they read); with it, the servers reload it in place.
            annotations: spec.reloader.then(|| {
                BTreeMap::from([(
                    crate::kind::CONFIG_HASH.to_string(),
                    crate::kind::CONFIG_HASH_OFF.to_string(),
                )])
            }),
            ..Default::default()
        }),
        spec: Some(core::PodSpec {
            containers,
            // Service discovery is DNS; no Service environment variables.
            enable_service_links: Some(false),
            service_account_name: Some(name.into()),
            automount_service_account_token: Some(false),
            // The reloader signals the server's process.
            share_process_namespace: spec.reloader.then_some(true),
            security_context: Some(security.pod()),
            volumes: Some(volumes),
            // At least lame_duck_grace_period + lame_duck_duration + 20s.
            termination_grace_period_seconds: Some(60),
            ..Default::default()
        }),
    };
    scaling::spread(&mut template, name, spec.replicas);
    let js = &spec.jetstream;
    let claim = core::PersistentVolumeClaim {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(pvc),
            ..Default::default()
        },
        spec: Some(core::PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(core::VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    K8sQuantity(js.file_storage.text()),
                )])),
                ..Default::default()
            }),
            storage_class_name: js.storage_class.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    meta::to_value(&apps::StatefulSet {
        metadata: meta::meta(name, ns, name, Some("nats")),
        spec: Some(apps::StatefulSetSpec {
            replicas: Some(spec.replicas),
            selector: meta::selector(name),
            service_name: Some(format!("{name}-headless")),
            pod_management_policy: Some("Parallel".into()),
            template,
            volume_claim_templates: Some(vec![claim]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The server pods, their clients, their routes to each other, and the controllers.
fn network_target(spec: &NATSClusterSpec, m: &ModuleResource<'_>) -> NetworkTarget {
    let own = meta::selector_map(m.name);
    let route = [Port::tcp(CLUSTER_PORT)];
    NetworkTarget {
        name: m.name.to_string(),
        namespace: m.namespace.clone(),
        selector: own.clone(),
        ports: vec![Port::tcp(CLIENT_PORT)],
        depends_on: Vec::new(),
        exposed: false,
        metrics: vec![Port::tcp(MONITOR_PORT)],
        policies: Policies::Combined {
            name: format!("{}-nats", m.name),
            ingress: vec![
                // Routes between the servers.
                json!({"from": [network::pods(&own)], "ports": network::port_list(&route)}),
                json!({
                    "from": [network::namespace(&spec.controllers.nack_namespace)],
                    "ports": network::port_list(&[Port::tcp(CLIENT_PORT)]),
                }),
                json!({
                    "from": [network::namespace(&spec.controllers.keda_namespace)],
                    "ports": network::port_list(&[Port::tcp(MONITOR_PORT)]),
                }),
            ],
            egress: vec![json!({"to": [network::pods(&own)], "ports": network::port_list(&route)})],
        },
    }
}

/// `host`: the client Service's name in the cluster's DNS.
fn host(m: &ModuleResource<'_>) -> String {
    format!("{}.{}.svc", m.name, m.namespace)
}

/// The client URL of the cluster named `name` in `namespace` (`tls://` with client TLS).
pub fn url(name: &str, namespace: &str, tls: bool) -> String {
    let scheme = if tls { "tls" } else { "nats" };
    format!("{scheme}://{name}.{namespace}.svc:{CLIENT_PORT}")
}

impl Kind for NATSCluster {
    const KIND: &'static str = "NATSCluster";
    const SUMMARY: &'static str =
        "NATS with JetStream as the official chart runs it: StatefulSet, Services, nats.conf, PDB";
    const EXAMPLE: Example = crate::example!("examples/event-processing/nats-cluster.yaml");
    type Spec = NATSClusterSpec;

    fn validate(spec: &NATSClusterSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for NATSCluster {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("v1", "ConfigMap"),
        Gvk::new("v1", "Service"),
        Gvk::new("apps/v1", "StatefulSet"),
        Gvk::new("policy/v1", "PodDisruptionBudget"),
    ];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "url",
            description: "client URL, `nats://<name>.<namespace>.svc:4222` (`tls://` with TLS)",
            secret: false,
        },
        OutputDef {
            name: "host",
            description: "the client Service's host, `<name>.<namespace>.svc`",
            secret: false,
        },
        OutputDef {
            name: "port",
            description: "the client port, 4222",
            secret: false,
        },
        OutputDef {
            name: "monitoringEndpoint",
            description: "`host:port` of the servers' monitoring endpoint through the headless Service (KEDA's `natsServerMonitoringEndpoint`)",
            secret: false,
        },
    ];

    fn outputs(spec: &NATSClusterSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        vec![
            (
                "url",
                OutputValue::Value(url(m.name, &m.namespace, spec.tls.is_some())),
            ),
            ("host", OutputValue::Value(host(m))),
            ("port", OutputValue::Value(CLIENT_PORT.to_string())),
            (
                "monitoringEndpoint",
                OutputValue::Value(format!(
                    "{}-headless.{}.svc:{MONITOR_PORT}",
                    m.name, m.namespace
                )),
            ),
        ]
    }

    fn expand(spec: NATSClusterSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let mut objects = vec![meta::to_value(&core::ServiceAccount {
            metadata: meta::meta(name, ns, name, Some("nats")),
            automount_service_account_token: Some(false),
            ..Default::default()
        })];
        objects.push(meta::to_value(&core::ConfigMap {
            metadata: meta::meta(&format!("{name}-config"), ns, name, Some("nats")),
            data: Some(BTreeMap::from([(
                "nats.conf".to_string(),
                nats_conf(&spec, name),
            )])),
            ..Default::default()
        }));
        let client_protocol = if spec.tls.is_some() { "tls" } else { "tcp" };
        objects.push(meta::to_value(&core::Service {
            metadata: meta::meta(&format!("{name}-headless"), ns, name, Some("nats")),
            spec: Some(core::ServiceSpec {
                selector: Some(meta::selector_labels(name)),
                cluster_ip: Some("None".into()),
                publish_not_ready_addresses: Some(true),
                ports: Some(vec![
                    service_port("nats", CLIENT_PORT, client_protocol),
                    service_port("cluster", CLUSTER_PORT, "tcp"),
                    service_port("monitor", MONITOR_PORT, "http"),
                ]),
                ..Default::default()
            }),
            ..Default::default()
        }));
        objects.push(meta::to_value(&core::Service {
            metadata: meta::meta(name, ns, name, Some("nats")),
            spec: Some(core::ServiceSpec {
                selector: Some(meta::selector_labels(name)),
                ports: Some(vec![service_port("nats", CLIENT_PORT, client_protocol)]),
                ..Default::default()
            }),
            ..Default::default()
        }));
        objects.push(statefulset(&spec, m, ctx));
        // The chart's budget: one server down at a time keeps the JetStream quorum.
        let pdb = PdbSpec {
            enabled: None,
            min_available: None,
            max_unavailable: Some(IntOrString::Int(1)),
        };
        objects.extend(scaling::scaling_objects(
            m,
            "StatefulSet",
            spec.replicas,
            None,
            &pdb,
        ));
        let mut findings = Vec::new();
        if let Some(f) = memory_warning(&spec, m, ctx) {
            findings.push(f);
        }
        Expansion {
            network: vec![network_target(&spec, m)],
            objects,
            findings,
            ..Default::default()
        }
    }
}

/// A warning when the platform's default memory limit (no `resources.limits.memory` given) is
/// not above the memory store.
fn memory_warning(
    spec: &NATSClusterSpec,
    m: &ModuleResource<'_>,
    ctx: &Context,
) -> Option<crate::finding::Finding> {
    if spec
        .resources
        .as_ref()
        .is_some_and(|r| r.limits.contains_key("memory"))
    {
        return None;
    }
    let limit = ctx.default_resources.limits.get("memory")?;
    let store = spec.jetstream.memory.text();
    let (l, s) = (
        validate::quantity::parse(limit)?,
        validate::quantity::parse(&store)?,
    );
    (s > 0.0 && l <= s).then(|| {
        m.warning(
            "spec.jetstream.memory",
            format!(
                "the default memory limit {limit} is not above jetstream.memory {store}: set resources.limits.memory above it, or the server is OOM-killed when the memory store fills"
            ),
        )
    })
}
