//! `PostgreSQL`, rendered for CloudNativePG ≥ 1.26 with the Barman Cloud plugin.
//!
//! Unlike the original (invented `spec.postgresql.version`, `_type: if` leaking into specs, no
//! schedule ever emitted), this emits what the operator reads: a `Cluster` with `imageName`, an
//! `ObjectStore` plus the plugin's WAL archiver, a `ScheduledBackup` with the six-field cron CNPG
//! expects, an optional `Pooler`, and a `PodMonitor` (CNPG deprecated its built-in one). It
//! declares the network access CNPG needs: replication between instances, the operator in
//! `cnpg-system`, the pooler, and HTTPS for backups and the API server.

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

pub struct PostgreSQL;

/// The Barman Cloud plugin's name, as CNPG clusters reference it.
const BARMAN_PLUGIN: &str = "barman-cloud.cloudnative-pg.io";
/// Namespace the CloudNativePG operator runs in by default.
const OPERATOR_NAMESPACE: &str = "cnpg-system";
/// The PostgreSQL port.
const PORT: i64 = 5432;
/// The instances' `metrics` port (CloudNativePG's exporter).
const METRICS_PORT: i64 = 9187;

fn seventeen() -> u32 {
    17
}
fn app() -> String {
    "app".into()
}

/// A persistent volume of each instance.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSpec {
    /// Size of each instance's volume, e.g. `20Gi`.
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

/// How synchronous standbys are chosen.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncMethod {
    /// Any `number` of the standbys confirm (quorum).
    #[default]
    Any,
    /// The first `number` standbys in priority order confirm.
    First,
}

/// Synchronous replication: a commit waits for `number` standbys (on by default with more than
/// one instance: `any`, 1).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SynchronousSpec {
    /// How the standbys that confirm are chosen.
    #[serde(default)]
    pub method: SyncMethod,
    /// Standbys that must confirm each commit (1 to instances - 1).
    #[serde(default = "defaults::int::<1>")]
    pub number: i32,
}

/// S3 credentials held in a Secret the user manages.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Credentials {
    /// Name of the Secret.
    pub secret_ref: String,
    /// Key of the access key id in the Secret.
    #[serde(default = "access_key")]
    pub access_key_id_key: String,
    /// Key of the secret access key in the Secret.
    #[serde(default = "secret_key")]
    pub secret_access_key_key: String,
}

fn access_key() -> String {
    "ACCESS_KEY_ID".into()
}
fn secret_key() -> String {
    "ACCESS_SECRET_KEY".into()
}

/// Where backups and WAL archives go (a Barman Cloud `ObjectStore`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectStoreSpec {
    /// Bucket URL: `s3://…`, `gs://…` or `https://…`.
    pub destination_path: String,
    /// S3-compatible endpoint, for storage other than AWS.
    #[serde(rename = "endpointURL")]
    pub endpoint_url: Option<String>,
    /// The Secret holding the storage credentials.
    pub s3_credentials: S3Credentials,
}

/// Continuous WAL archiving and scheduled base backups to object storage.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupSpec {
    /// Where the backups go.
    #[serde(rename = "objectStore")]
    pub object_store: ObjectStoreSpec,
    /// When base backups run, as a five-field cron schedule (UTC).
    #[serde(default = "nightly")]
    pub schedule: String,
    /// How long backups are kept: days, weeks or months, e.g. `30d`, `4w`, `6m`.
    #[serde(default = "thirty_days")]
    pub retention: String,
}

fn nightly() -> String {
    "0 2 * * *".into()
}
fn thirty_days() -> String {
    "30d".into()
}

/// When PgBouncer returns a server connection to the pool.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    /// When the client disconnects.
    Session,
    /// After each transaction.
    #[default]
    Transaction,
}

/// A PgBouncer `Pooler` in front of the primary, named `<name>-pooler`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolerSpec {
    /// PgBouncer pods (1-10).
    #[serde(default = "defaults::int::<2>")]
    pub instances: i32,
    /// Pooling mode.
    #[serde(default)]
    pub mode: PoolMode,
}

/// A PostgreSQL cluster run by CloudNativePG: a primary and streaming replicas, optional
/// backups to object storage, a connection pooler and monitoring.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PostgreSQLSpec {
    /// PostgreSQL instances: one primary, the rest replicas (1-10).
    #[serde(default = "defaults::int::<3>")]
    pub instances: i32,
    /// PostgreSQL major version; selects the CNPG image tag.
    #[serde(default = "seventeen")]
    pub version: u32,
    /// Full image, overriding `version`.
    pub image_name: Option<String>,
    /// Data volume of each instance.
    #[serde(default)]
    pub storage: StorageSpec,
    /// A separate volume for the write-ahead log.
    pub wal_storage: Option<StorageSpec>,
    /// CPU and memory of each instance, over the platform's defaults.
    pub resources: Option<ResourcesSpec>,
    /// Name of the application database created at bootstrap.
    #[serde(default = "app")]
    pub database: String,
    /// Owner of that database; its credentials are in the Secret `<name>-app`.
    #[serde(default = "app")]
    pub owner: String,
    /// PostgreSQL configuration parameters, e.g. `max_connections: "200"`.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Synchronous replication.
    pub synchronous: Option<SynchronousSpec>,
    /// Backups to object storage.
    pub backup: Option<BackupSpec>,
    /// A PgBouncer connection pooler.
    pub pooler: Option<PoolerSpec>,
    /// Emit a PodMonitor for the instances' metrics.
    #[serde(default = "defaults::yes")]
    pub monitoring: bool,
}

fn validate(spec: &PostgreSQLSpec, ch: &mut Problems<'_>) {
    meta::check_name_room(
        if spec.pooler.is_some() {
            "-pooler"
        } else {
            "-store"
        },
        ch,
    );
    if !(1..=10).contains(&spec.instances) {
        ch.fail(
            "spec.instances",
            format!("instances {} must be between 1 and 10", spec.instances),
        );
    }
    if !(13..=18).contains(&spec.version) {
        ch.fail(
            "spec.version",
            format!(
                "PostgreSQL {} is not supported by CloudNativePG images: expected 13-18",
                spec.version
            ),
        );
    }
    if let Some(img) = &spec.image_name {
        ch.check("spec.imageName", validate::image_reference(img));
    }
    for (field, s) in [
        ("spec.storage", Some(&spec.storage)),
        ("spec.walStorage", spec.wal_storage.as_ref()),
    ] {
        let Some(s) = s else { continue };
        ch.check(format!("{field}.size"), validate::quantity(&s.size.text()));
        if let Some(sc) = &s.storage_class {
            ch.check(
                format!("{field}.storageClass"),
                validate::dns1123_subdomain(sc),
            );
        }
    }
    if let Some(r) = &spec.resources {
        r.check(ch, "spec.resources");
    }
    for (field, v) in [
        ("spec.database", &spec.database),
        ("spec.owner", &spec.owner),
    ] {
        let ok = !v.is_empty()
            && v.len() <= 63
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !v.starts_with(|c: char| c.is_ascii_digit());
        if !ok {
            ch.fail(field, format!("{v:?}: expected a PostgreSQL identifier (lowercase letters, digits, '_', at most 63)"));
        }
    }
    if let Some(s) = &spec.synchronous {
        if spec.instances < 2 {
            ch.fail(
                "spec.synchronous",
                "synchronous replication needs at least 2 instances",
            );
        } else if s.number < 1 || s.number >= spec.instances {
            ch.fail(
                "spec.synchronous.number",
                format!(
                    "number {} must be between 1 and instances - 1 ({})",
                    s.number,
                    spec.instances - 1
                ),
            );
        }
    }
    if let Some(b) = &spec.backup {
        let dp = &b.object_store.destination_path;
        if !(dp.starts_with("s3://") || dp.starts_with("gs://") || dp.starts_with("https://")) {
            ch.fail(
                "spec.backup.objectStore.destinationPath",
                format!("{dp:?}: expected an s3://, gs:// or https:// URL"),
            );
        }
        ch.check(
            "spec.backup.objectStore.s3Credentials.secretRef",
            validate::dns1123_subdomain(&b.object_store.s3_credentials.secret_ref),
        );
        ch.check(
            "spec.backup.schedule",
            validate::cron::schedule(&b.schedule),
        );
        let ok = b
            .retention
            .strip_suffix(['d', 'w', 'm'])
            .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0));
        if !ok {
            ch.fail(
                "spec.backup.retention",
                format!(
                    "{:?}: expected a number of days, weeks or months, e.g. 30d, 4w, 6m",
                    b.retention
                ),
            );
        }
    }
    if let Some(p) = &spec.pooler {
        if !(1..=10).contains(&p.instances) {
            ch.fail(
                "spec.pooler.instances",
                "instances must be between 1 and 10",
            );
        }
    }
}

fn cnpg_meta(name: &str, namespace: &str, cluster: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "labels": {"app.kubernetes.io/name": cluster, "cnpg.io/cluster": cluster},
    })
}

fn storage(s: &StorageSpec) -> Value {
    let mut m = Map::new();
    m.insert("size".into(), json!(s.size.text()));
    if let Some(sc) = &s.storage_class {
        m.insert("storageClass".into(), json!(sc));
    }
    Value::Object(m)
}

/// The pods of the cluster and of its pooler, and the network access CNPG needs.
fn network(spec: &PostgreSQLSpec, m: &ModuleResource<'_>) -> Vec<NetworkTarget> {
    let (name, ns) = (m.name, m.namespace.as_str());
    let ports = vec![Port::tcp(PORT)];
    let one = |key: &str, value: &str| -> Map<String, Value> {
        let mut s = Map::new();
        s.insert(key.into(), json!(value));
        s
    };
    let own = one("cnpg.io/cluster", name);
    let pooler = format!("{name}-pooler");
    let pooler_pods = one("cnpg.io/poolerName", &pooler);
    let mut ingress = vec![
        // Replication and the instance manager between the cluster's own pods.
        json!({"from": [network::pods(&own)]}),
        json!({
            "from": [network::namespace(OPERATOR_NAMESPACE)],
            "ports": [{"protocol": "TCP", "port": 8000}, {"protocol": "TCP", "port": PORT}],
        }),
    ];
    if spec.pooler.is_some() {
        ingress.push(
            json!({"from": [network::pods(&pooler_pods)], "ports": network::port_list(&ports)}),
        );
    }
    let mut targets = vec![NetworkTarget {
        name: name.to_string(),
        namespace: ns.to_string(),
        selector: own.clone(),
        ports: ports.clone(),
        depends_on: Vec::new(),
        exposed: false,
        // The PodMonitor scrapes the instances' `metrics` port.
        metrics: if spec.monitoring {
            vec![Port::tcp(METRICS_PORT)]
        } else {
            Vec::new()
        },
        policies: Policies::Combined {
            name: format!("{name}-cnpg"),
            ingress,
            // Object storage for backups and the Kubernetes API: their addresses are unknown here.
            egress: vec![json!({"to": [network::pods(&own)]}), network::api_egress()],
        },
    }];
    if spec.pooler.is_some() {
        targets.push(NetworkTarget {
            // Dependents name the database; they reach the pooler too.
            name: name.to_string(),
            namespace: ns.to_string(),
            selector: pooler_pods,
            ports: ports.clone(),
            depends_on: Vec::new(),
            exposed: false,
            metrics: Vec::new(),
            policies: Policies::Combined {
                name: pooler,
                ingress: Vec::new(),
                egress: vec![
                    json!({"to": [network::pods(&own)], "ports": network::port_list(&ports)}),
                    network::api_egress(),
                ],
            },
        });
    }
    targets
}

impl Kind for PostgreSQL {
    const KIND: &'static str = "PostgreSQL";
    const SUMMARY: &'static str =
        "PostgreSQL on CloudNativePG: Cluster, ObjectStore, ScheduledBackup, Pooler, PodMonitor";
    const EXAMPLE: Example = crate::example!("examples/database-management/postgresql.yaml");
    type Spec = PostgreSQLSpec;

    fn validate(spec: &PostgreSQLSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

/// A Secret output: a key of CloudNativePG's `<name>-app` Secret.
const fn secret(name: &'static str, description: &'static str) -> OutputDef {
    OutputDef {
        name,
        description,
        secret: true,
    }
}

/// A plain output.
const fn plain(name: &'static str, description: &'static str) -> OutputDef {
    OutputDef {
        name,
        description,
        secret: false,
    }
}

/// The Secret outputs: the keys CloudNativePG writes into `<name>-app` for the owner.
const SECRET_KEYS: [&str; 7] = [
    "username",
    "password",
    "uri",
    "jdbc-uri",
    "fqdn-uri",
    "fqdn-jdbc-uri",
    "pgpass",
];

/// `<service>.<namespace>.svc`, or the bare Service name when no namespace is known yet.
fn service_host(service: &str, ns: &str) -> String {
    if ns.is_empty() {
        service.to_string()
    } else {
        format!("{service}.{ns}.svc")
    }
}

impl Generate for PostgreSQL {
    const OUTPUTS: &'static [OutputDef] = &[
        plain("host", "the primary's Service, `<name>-rw.<ns>.svc`"),
        plain(
            "host-ro",
            "the replicas' read-only Service, `<name>-ro.<ns>.svc`",
        ),
        plain(
            "pooler-host",
            "with `pooler`: its Service, `<name>-pooler.<ns>.svc`",
        ),
        plain("port", "the PostgreSQL port, `5432`"),
        plain("database", "the application database (`database`)"),
        plain("user", "the application database's owner (`owner`)"),
        secret("username", "the owner's user name, in Secret `<name>-app`"),
        secret("password", "the owner's password, in Secret `<name>-app`"),
        secret(
            "uri",
            "`postgresql://…` URI on `<name>-rw`, in `<name>-app`",
        ),
        secret("jdbc-uri", "JDBC URL on `<name>-rw`, in `<name>-app`"),
        secret(
            "fqdn-uri",
            "`uri` with the fully qualified host, in `<name>-app`",
        ),
        secret("fqdn-jdbc-uri", "`jdbc-uri` with the fully qualified host"),
        secret("pgpass", "a `.pgpass` line for the owner, in `<name>-app`"),
    ];

    fn outputs(spec: &PostgreSQLSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let (name, ns) = (m.name, m.namespace.as_str());
        let value = |v: String| OutputValue::Value(v);
        let mut out: OutputValues = vec![
            ("host", value(service_host(&format!("{name}-rw"), ns))),
            ("host-ro", value(service_host(&format!("{name}-ro"), ns))),
        ];
        if spec.pooler.is_some() {
            out.push((
                "pooler-host",
                value(service_host(&format!("{name}-pooler"), ns)),
            ));
        }
        out.push(("port", value(PORT.to_string())));
        out.push(("database", value(spec.database.clone())));
        out.push(("user", value(spec.owner.clone())));
        let app = format!("{name}-app");
        for key in SECRET_KEYS {
            out.push((
                key,
                OutputValue::Secret {
                    name: app.clone(),
                    key: key.to_string(),
                },
            ));
        }
        out
    }

    const EMITS: &'static [Gvk] = &[
        Gvk::new("barmancloud.cnpg.io/v1", "ObjectStore"),
        Gvk::new("postgresql.cnpg.io/v1", "Cluster"),
        Gvk::new("postgresql.cnpg.io/v1", "ScheduledBackup"),
        Gvk::new("postgresql.cnpg.io/v1", "Pooler"),
        Gvk::new("monitoring.coreos.com/v1", "PodMonitor"),
    ];

    fn expand(spec: PostgreSQLSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let store_name = format!("{name}-store");
        let mut objects = Vec::new();

        if let Some(b) = &spec.backup {
            let creds = &b.object_store.s3_credentials;
            let mut configuration = Map::new();
            configuration.insert(
                "destinationPath".into(),
                json!(b.object_store.destination_path),
            );
            if let Some(url) = &b.object_store.endpoint_url {
                configuration.insert("endpointURL".into(), json!(url));
            }
            configuration.insert(
                "s3Credentials".into(),
                json!({
                    "accessKeyId": {"name": creds.secret_ref, "key": creds.access_key_id_key},
                    "secretAccessKey": {"name": creds.secret_ref, "key": creds.secret_access_key_key},
                }),
            );
            configuration.insert("wal".into(), json!({"compression": "gzip"}));
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::BARMAN_OBJECT_STORE),
                "kind": "ObjectStore",
                "metadata": cnpg_meta(&store_name, ns, name),
                "spec": {"configuration": configuration, "retentionPolicy": b.retention},
            }));
        }

        let mut cluster = Map::new();
        cluster.insert("instances".into(), json!(spec.instances));
        let image = spec
            .image_name
            .clone()
            .unwrap_or_else(|| format!("ghcr.io/cloudnative-pg/postgresql:{}", spec.version));
        cluster.insert("imageName".into(), json!(image));
        let mut pg = Map::new();
        if !spec.parameters.is_empty() {
            pg.insert("parameters".into(), json!(spec.parameters));
        }
        let sync = match &spec.synchronous {
            Some(s) => Some((s.method, s.number)),
            None if spec.instances > 1 => Some((Default::default(), 1)),
            None => None,
        };
        if let Some((method, number)) = sync {
            let method = match method {
                SyncMethod::Any => "any",
                SyncMethod::First => "first",
            };
            pg.insert(
                "synchronous".into(),
                json!({"method": method, "number": number}),
            );
        }
        if !pg.is_empty() {
            cluster.insert("postgresql".into(), Value::Object(pg));
        }
        cluster.insert(
            "bootstrap".into(),
            json!({"initdb": {"database": spec.database, "owner": spec.owner}}),
        );
        cluster.insert("storage".into(), storage(&spec.storage));
        if let Some(w) = &spec.wal_storage {
            cluster.insert("walStorage".into(), storage(w));
        }
        if let Some(r) = &spec.resources {
            cluster.insert("resources".into(), meta::to_value(&r.build(ctx)));
        }
        if spec.backup.is_some() {
            cluster.insert(
                "plugins".into(),
                json!([{"name": BARMAN_PLUGIN, "isWALArchiver": true, "parameters": {"barmanObjectName": store_name}}]),
            );
        }
        objects.push(json!({
            "apiVersion": ctx.api_version(&operators::CNPG_CLUSTER),
            "kind": "Cluster",
            "metadata": cnpg_meta(name, ns, name),
            "spec": cluster,
        }));

        if let Some(b) = &spec.backup {
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::CNPG_SCHEDULED_BACKUP),
                "kind": "ScheduledBackup",
                "metadata": cnpg_meta(name, ns, name),
                "spec": {
                    "schedule": validate::cron::with_seconds(&b.schedule),
                    "backupOwnerReference": "self",
                    "cluster": {"name": name},
                    "method": "plugin",
                    "pluginConfiguration": {"name": BARMAN_PLUGIN},
                },
            }));
        }
        if let Some(p) = &spec.pooler {
            let mode = match p.mode {
                PoolMode::Session => "session",
                PoolMode::Transaction => "transaction",
            };
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::CNPG_POOLER),
                "kind": "Pooler",
                "metadata": cnpg_meta(&format!("{name}-pooler"), ns, name),
                "spec": {
                    "cluster": {"name": name},
                    "instances": p.instances,
                    "type": "rw",
                    "pgbouncer": {"poolMode": mode},
                },
            }));
        }
        if spec.monitoring {
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::POD_MONITOR),
                "kind": "PodMonitor",
                "metadata": cnpg_meta(name, ns, name),
                "spec": {
                    "selector": {"matchLabels": {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance"}},
                    "podMetricsEndpoints": [{"port": "metrics"}],
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
