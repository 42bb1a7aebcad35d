//! `MySQL`, rendered for the Oracle MySQL Operator for Kubernetes as an `InnoDBCluster`.
//!
//! Unlike the original (an invented `MySQLCluster` kind with invented `replication`/`template`
//! fields), this emits the operator's real `InnoDBCluster` (`mysql.oracle.com/v2`): group
//! replication `instances`, MySQL Router pods in front of them, the root credentials as a
//! reference to a Secret (never a password), TLS, the data volume template, and scheduled
//! dumps through `backupProfiles` + `backupSchedules`. Metrics come from the operator's own
//! sidecar and ServiceMonitor (`spec.metrics`), so no PodMonitor is emitted here. It declares
//! the network access the operator's pods need: group replication among the instances, the
//! router to the instances, the operator's namespace to the instances, the backup jobs to the
//! instances, and the Kubernetes API for the instances' sidecar and the backup jobs.

use crate::kind::network::{self, NetworkTarget, Policies, Port};
use crate::kind::outputs::{OutputDef, OutputValue, OutputValues};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::meta;
use crate::schema::operators;
use crate::types::Quantity;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub struct MySQL;

/// The label the operator puts on every pod of a cluster.
pub(super) const CLUSTER_LABEL: &str = "mysql.oracle.com/cluster";
/// MySQL classic protocol, X protocol and group replication (XCom) ports of the instances.
pub(super) const MYSQL_PORT: i64 = 3306;
pub(super) const MYSQLX_PORT: i64 = 33060;
pub(super) const GR_PORT: i64 = 33061;
/// The router's read-write, read-only, X read-write, X read-only and read-write-split ports
/// (the targets of the `<name>` Service's ports).
pub(super) const ROUTER_PORTS: [i64; 5] = [6446, 6447, 6448, 6449, 6450];
/// The port of the operator's metrics sidecar.
pub(super) const METRICS_PORT: i64 = 9104;

fn lts() -> String {
    "8.4.9".into()
}
fn operator_namespace() -> String {
    "mysql-operator".into()
}
fn nightly() -> String {
    "0 2 * * *".into()
}

/// The data volume of each instance (the `datadirVolumeClaimTemplate`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSpec {
    /// Size of each instance's data volume, e.g. `50Gi`.
    #[serde(default = "default_size")]
    pub size: Quantity,
    /// StorageClass to provision from; the cluster's default when not given.
    pub storage_class: Option<String>,
}

fn default_size() -> Quantity {
    Quantity::String("20Gi".into())
}

impl Default for StorageSpec {
    fn default() -> Self {
        StorageSpec {
            size: default_size(),
            storage_class: None,
        }
    }
}

/// MySQL Router, which clients connect to: it routes read-write traffic to the primary and
/// read-only traffic to the secondaries.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// Router pods (at least 1: clients reach the cluster through them).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 16))]
    pub instances: i32,
}

fn one() -> i32 {
    1
}

impl Default for RouterSpec {
    fn default() -> Self {
        RouterSpec { instances: one() }
    }
}

/// Certificates you provide instead of self-signed ones.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSpec {
    /// Secret of type `kubernetes.io/tls` with the server certificate and key (e.g. one
    /// cert-manager issues).
    pub secret_name: String,
    /// Secret holding the CA certificate under `ca.pem`.
    pub ca_secret_name: String,
}

/// A `persistentVolumeClaim` to dump to.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PvcTarget {
    /// Name of an existing PersistentVolumeClaim in the namespace.
    pub claim_name: String,
}

/// An S3 (or S3-compatible) bucket to dump to.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Target {
    /// The bucket.
    pub bucket_name: String,
    /// Path in the bucket under which each dump's directory is written.
    pub prefix: Option<String>,
    /// Secret with the AWS-style `credentials` and `config` files the operator mounts.
    pub config: String,
    /// Endpoint URL, for S3-compatible storage other than AWS.
    pub endpoint: Option<String>,
    /// Profile in those files (`default` when not given).
    pub profile: Option<String>,
}

/// Scheduled MySQL Shell dumps of the cluster (`dumpInstance`), to a volume or to S3.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackupSpec {
    /// When dumps run, as a five-field cron schedule.
    #[serde(default = "nightly")]
    pub schedule: String,
    /// Time zone of the schedule (an IANA name such as `Europe/Berlin`); the controller
    /// manager's (usually UTC) when not given.
    pub time_zone: Option<String>,
    /// Dump to this PersistentVolumeClaim (exactly one of `pvc` and `s3`).
    pub pvc: Option<PvcTarget>,
    /// Dump to this bucket (exactly one of `pvc` and `s3`).
    pub s3: Option<S3Target>,
}

/// Metrics from the operator's `mysqld_exporter` sidecar, with the ServiceMonitor the operator
/// creates for it.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsSpec {
    /// The exporter image, e.g. `prom/mysqld-exporter:v0.16.0`.
    pub image: String,
}

/// A MySQL InnoDB Cluster run by the Oracle MySQL Operator: group replication instances,
/// MySQL Router in front of them, TLS, and optional scheduled dumps.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MySQLSpec {
    /// Group replication members (1-9; 3 or more tolerate a failure).
    #[serde(default = "defaults_instances")]
    #[schemars(range(min = 1, max = 9))]
    pub instances: i32,
    /// MySQL Server release, in full (`x.y.z`); the operator must be at least this release.
    /// Defaults to the 8.4 LTS.
    #[serde(default = "lts")]
    pub version: String,
    /// Name of the Secret holding the root account (keys `rootUser`, `rootHost`,
    /// `rootPassword`): a Secret you manage or the target of an ExternalSecret.
    pub secret_name: String,
    /// MySQL Router, the clients' endpoint (the Service `<name>`).
    #[serde(default)]
    pub router: RouterSpec,
    /// Data volume of each instance.
    #[serde(default)]
    pub storage: StorageSpec,
    /// Let the operator issue self-signed certificates. Defaults to `true` without `tls`;
    /// must not be `true` with it.
    pub tls_use_self_signed: Option<bool>,
    /// Certificates you provide.
    pub tls: Option<TlsSpec>,
    /// Scheduled dumps.
    pub backup: Option<BackupSpec>,
    /// Metrics from the operator's exporter sidecar.
    pub metrics: Option<MetricsSpec>,
    /// Namespace the operator runs in, which reaches the instances.
    #[serde(default = "operator_namespace")]
    pub operator_namespace: String,
}

fn defaults_instances() -> i32 {
    3
}

/// Whether `v` is a full `x.y.z` release of MySQL 8.0.27 or later (the operator's minimum).
fn supported_version(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.split('.').collect();
    let nums: Option<Vec<u32>> = (parts.len() == 3)
        .then(|| parts.iter().map(|p| p.parse().ok()).collect())
        .flatten();
    match nums.as_deref() {
        None => Err(format!(
            "{v:?}: expected a full MySQL release such as 8.4.9 (major.minor.patch)"
        )),
        Some([maj, min, patch]) if (*maj, *min, *patch) < (8, 0, 27) => Err(format!(
            "MySQL {v} is older than 8.0.27, the oldest release the operator runs"
        )),
        Some(_) => Ok(()),
    }
}

fn validate(spec: &MySQLSpec, p: &mut Problems<'_>) {
    // The longest derived name: the router Deployment's pods, `<name>-router-<hash>-<id>`,
    // stay within 63 with `-router`; the StatefulSet's pod names take `-<ordinal>`.
    meta::check_name_room("-instances", p);
    // The operator's CRD caps the InnoDBCluster name (it derives its pods' hostnames).
    let name = p.module().name;
    if name.len() > 40 {
        p.fail(
            "metadata.name",
            format!("name is too long: the operator accepts InnoDBCluster names of at most 40 characters, {name:?} has {}", name.len()),
        );
    }
    if !(1..=9).contains(&spec.instances) {
        p.fail(
            "spec.instances",
            format!("instances {} must be between 1 and 9", spec.instances),
        );
    } else if spec.instances == 2 {
        p.warn(
            "spec.instances",
            "2 instances tolerate no failure (a group needs a majority): use 3",
        );
    }
    p.check("spec.version", supported_version(&spec.version));
    p.check(
        "spec.secretName",
        validate::dns1123_subdomain(&spec.secret_name),
    );
    if !(1..=16).contains(&spec.router.instances) {
        p.fail(
            "spec.router.instances",
            "router instances must be between 1 and 16",
        );
    }
    p.check(
        "spec.storage.size",
        validate::quantity(&spec.storage.size.text()),
    );
    if let Some(sc) = &spec.storage.storage_class {
        p.check("spec.storage.storageClass", validate::dns1123_subdomain(sc));
    }
    if let Some(t) = &spec.tls {
        if spec.tls_use_self_signed == Some(true) {
            p.fail(
                "spec.tlsUseSelfSigned",
                "tlsUseSelfSigned and tls are mutually exclusive: drop one",
            );
        }
        p.check(
            "spec.tls.secretName",
            validate::dns1123_subdomain(&t.secret_name),
        );
        p.check(
            "spec.tls.caSecretName",
            validate::dns1123_subdomain(&t.ca_secret_name),
        );
    }
    if let Some(b) = &spec.backup {
        p.check(
            "spec.backup.schedule",
            validate::cron::schedule(&b.schedule),
        );
        if let Some(tz) = &b.time_zone {
            let ok = !tz.is_empty()
                && tz
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
            if !ok {
                p.fail(
                    "spec.backup.timeZone",
                    format!("{tz:?}: expected an IANA time zone such as Europe/Berlin"),
                );
            }
        }
        match (&b.pvc, &b.s3) {
            (Some(_), Some(_)) => p.fail(
                "spec.backup",
                "pvc and s3 are mutually exclusive: give one backup target",
            ),
            (None, None) => p.fail(
                "spec.backup",
                "a backup needs a target: pvc {claimName} or s3 {bucketName, config}",
            ),
            _ => {}
        }
        if let Some(pvc) = &b.pvc {
            p.check(
                "spec.backup.pvc.claimName",
                validate::dns1123_subdomain(&pvc.claim_name),
            );
        }
        if let Some(s3) = &b.s3 {
            p.check(
                "spec.backup.s3.config",
                validate::dns1123_subdomain(&s3.config),
            );
            if s3.bucket_name.is_empty() {
                p.fail("spec.backup.s3.bucketName", "bucketName must not be empty");
            }
            if let Some(e) = &s3.endpoint {
                if !(e.starts_with("https://") || e.starts_with("http://")) {
                    p.fail(
                        "spec.backup.s3.endpoint",
                        format!("{e:?}: expected an http:// or https:// URL"),
                    );
                }
            }
        }
    }
    if let Some(m) = &spec.metrics {
        p.check("spec.metrics.image", validate::image_reference(&m.image));
    }
    p.check(
        "spec.operatorNamespace",
        validate::dns1123_label(&spec.operator_namespace),
    );
}

fn one_label(key: &str, value: &str) -> Map<String, Value> {
    let mut s = Map::new();
    s.insert(key.into(), json!(value));
    s
}

fn labels(name: &str, component: &str) -> Map<String, Value> {
    let mut s = one_label(CLUSTER_LABEL, name);
    s.insert("component".into(), json!(component));
    s
}

/// The labels this kind puts on the backup pods (through the profile's `podLabels`), so that
/// a NetworkPolicy can select them.
fn backup_labels(name: &str) -> Map<String, Value> {
    let mut s = one_label(CLUSTER_LABEL, name);
    s.insert("app.kubernetes.io/component".into(), json!("backup"));
    s
}

fn tcp(ports: &[i64]) -> Vec<Port> {
    ports.iter().map(|p| Port::tcp(*p)).collect()
}

/// The instances, the routers and the backup jobs, and the network access each needs.
fn network(spec: &MySQLSpec, m: &ModuleResource<'_>) -> Vec<NetworkTarget> {
    let (name, ns) = (m.name, m.namespace.as_str());
    let instances = labels(name, "mysqld");
    let routers = labels(name, "mysqlrouter");
    let backups = backup_labels(name);
    let member_ports = network::port_list(&tcp(&[MYSQL_PORT, MYSQLX_PORT, GR_PORT]));
    let client_ports = network::port_list(&tcp(&[MYSQL_PORT, MYSQLX_PORT]));
    let mut ingress = vec![
        // Group replication and distributed recovery between the members.
        json!({"from": [network::pods(&instances)], "ports": member_ports}),
        json!({"from": [network::pods(&routers)], "ports": client_ports}),
        // The operator configures the group through MySQL Shell.
        json!({"from": [network::namespace(&spec.operator_namespace)], "ports": client_ports}),
    ];
    if spec.backup.is_some() {
        ingress.push(json!({"from": [network::pods(&backups)], "ports": client_ports}));
    }
    let mut targets = vec![
        NetworkTarget {
            // Dependents name the cluster: they reach the router, never the members directly.
            name: name.to_string(),
            namespace: ns.to_string(),
            selector: routers.clone(),
            ports: tcp(&ROUTER_PORTS),
            depends_on: Vec::new(),
            exposed: false,
            metrics: Vec::new(),
            policies: Policies::Combined {
                name: format!("{name}-router"),
                ingress: Vec::new(),
                egress: vec![json!({"to": [network::pods(&instances)], "ports": client_ports})],
            },
        },
        NetworkTarget {
            // The operator's headless Service of the members: `dependsOn: [<name>-instances]`
            // for the rare client that must bypass the router.
            name: format!("{name}-instances"),
            namespace: ns.to_string(),
            selector: instances.clone(),
            ports: tcp(&[MYSQL_PORT, MYSQLX_PORT]),
            depends_on: Vec::new(),
            exposed: false,
            metrics: if spec.metrics.is_some() {
                tcp(&[METRICS_PORT])
            } else {
                Vec::new()
            },
            policies: Policies::Combined {
                name: format!("{name}-mysql"),
                ingress,
                // The sidecar watches the cluster through the Kubernetes API.
                egress: vec![
                    json!({"to": [network::pods(&instances)], "ports": member_ports}),
                    network::api_egress(),
                ],
            },
        },
    ];
    if spec.backup.is_some() {
        targets.push(NetworkTarget {
            name: format!("{name}-backup"),
            namespace: ns.to_string(),
            selector: backups,
            ports: Vec::new(),
            depends_on: Vec::new(),
            exposed: false,
            metrics: Vec::new(),
            policies: Policies::Combined {
                name: format!("{name}-backup"),
                ingress: Vec::new(),
                // A dump reads a member; the job reads its profile from the API and writes to
                // S3 over HTTPS.
                egress: vec![
                    json!({"to": [network::pods(&instances)], "ports": client_ports}),
                    network::api_egress(),
                ],
            },
        });
    }
    targets
}

fn storage_template(s: &StorageSpec) -> Value {
    Value::Object(crate::modules::shared::storage::claim_spec(
        &s.size,
        s.storage_class.as_ref(),
    ))
}

fn backup_storage(b: &BackupSpec) -> Value {
    if let Some(pvc) = &b.pvc {
        return json!({"persistentVolumeClaim": {"claimName": pvc.claim_name}});
    }
    let Some(s3) = &b.s3 else {
        return json!({});
    };
    let mut m = Map::new();
    m.insert("bucketName".into(), json!(s3.bucket_name));
    m.insert("config".into(), json!(s3.config));
    for (k, v) in [
        ("prefix", &s3.prefix),
        ("endpoint", &s3.endpoint),
        ("profile", &s3.profile),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    json!({"s3": m})
}

/// `<name>.<namespace>.svc`, or `<name>` when the namespace is left to the orchestrator.
pub(super) fn service_host(service: &str, ns: &str) -> String {
    if ns.is_empty() {
        service.to_string()
    } else {
        format!("{service}.{ns}.svc")
    }
}

impl Kind for MySQL {
    const KIND: &'static str = "MySQL";
    const SUMMARY: &'static str =
        "MySQL InnoDB Cluster on the Oracle MySQL Operator: InnoDBCluster with router, TLS and scheduled dumps";
    const EXAMPLE: Example = crate::example!("examples/database-management/mysql.yaml");
    type Spec = MySQLSpec;

    fn validate(spec: &MySQLSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for MySQL {
    const EMITS: &'static [Gvk] = &[Gvk::new("mysql.oracle.com/v2", "InnoDBCluster")];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "host",
            description: "the MySQL Router Service, `<name>.<namespace>.svc`",
            secret: false,
        },
        OutputDef {
            name: "port",
            description: "the router's read-write classic protocol port (3306)",
            secret: false,
        },
        OutputDef {
            name: "readOnlyPort",
            description: "the router's read-only classic protocol port (6447)",
            secret: false,
        },
        OutputDef {
            name: "xPort",
            description: "the router's read-write X protocol port (33060)",
            secret: false,
        },
        OutputDef {
            name: "username",
            description: "key `rootUser` of the credentials Secret `spec.secretName`",
            secret: true,
        },
        OutputDef {
            name: "password",
            description: "key `rootPassword` of the credentials Secret `spec.secretName`",
            secret: true,
        },
    ];

    fn outputs(spec: &MySQLSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let secret = |key: &str| OutputValue::Secret {
            name: spec.secret_name.clone(),
            key: key.into(),
        };
        vec![
            (
                "host",
                OutputValue::Value(service_host(m.name, &m.namespace)),
            ),
            ("port", OutputValue::Value(MYSQL_PORT.to_string())),
            ("readOnlyPort", OutputValue::Value("6447".into())),
            ("xPort", OutputValue::Value(MYSQLX_PORT.to_string())),
            ("username", secret("rootUser")),
            ("password", secret("rootPassword")),
        ]
    }

    fn expand(spec: MySQLSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let mut c = Map::new();
        c.insert("instances".into(), json!(spec.instances));
        c.insert("version".into(), json!(spec.version));
        c.insert("secretName".into(), json!(spec.secret_name));
        c.insert("router".into(), json!({"instances": spec.router.instances}));
        c.insert(
            "datadirVolumeClaimTemplate".into(),
            storage_template(&spec.storage),
        );
        c.insert(
            "tlsUseSelfSigned".into(),
            json!(spec.tls_use_self_signed.unwrap_or(spec.tls.is_none())),
        );
        if let Some(t) = &spec.tls {
            c.insert("tlsSecretName".into(), json!(t.secret_name));
            c.insert("tlsCASecretName".into(), json!(t.ca_secret_name));
        }
        if let Some(b) = &spec.backup {
            let profile = "dump";
            c.insert(
                "backupProfiles".into(),
                json!([{
                    "name": profile,
                    "podLabels": backup_labels(name),
                    "dumpInstance": {"storage": backup_storage(b)},
                }]),
            );
            let mut schedule = Map::new();
            schedule.insert("name".into(), json!("scheduled"));
            schedule.insert("schedule".into(), json!(b.schedule));
            if let Some(tz) = &b.time_zone {
                schedule.insert("timeZone".into(), json!(tz));
            }
            schedule.insert("backupProfileName".into(), json!(profile));
            schedule.insert("enabled".into(), json!(true));
            schedule.insert("deleteBackupData".into(), json!(false));
            c.insert("backupSchedules".into(), json!([schedule]));
        }
        if let Some(metrics) = &spec.metrics {
            c.insert(
                "metrics".into(),
                json!({"enable": true, "image": metrics.image, "monitor": true}),
            );
        }
        let cluster = json!({
            "apiVersion": ctx.api_version(&operators::MYSQL_INNODB_CLUSTER),
            "kind": "InnoDBCluster",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {"app.kubernetes.io/name": name},
            },
            "spec": c,
        });
        Expansion {
            network: network(&spec, m),
            objects: vec![cluster],
            ..Default::default()
        }
    }
}
