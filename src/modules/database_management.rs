//! Seed module `database-management` (category `data`): `PostgreSQL`, rendered for
//! CloudNativePG ≥ 1.26 with the Barman Cloud plugin.
//!
//! Unlike the original (invented `spec.postgresql.version`, `_type: if` leaking into specs, no
//! schedule ever emitted), this emits what the operator reads: a `Cluster` with `imageName`, an
//! `ObjectStore` plus the plugin's WAL archiver, a `ScheduledBackup` with the six-field cron CNPG
//! expects, an optional `Pooler`, and a `PodMonitor` (CNPG deprecated its built-in one).

use super::common::{QuantityValue, ResourcesSpec};
use super::{Checks, Expansion, KindDef, Module, Role};
use crate::engine::context::Context;
use crate::report::Finding;
use crate::validate;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const POSTGRESQL: KindDef = KindDef {
    kind: "PostgreSQL",
    framework: "database-management",
    category: "data",
    summary:
        "PostgreSQL on CloudNativePG: Cluster, ObjectStore, ScheduledBackup, Pooler, PodMonitor",
    role: Role::Generate(postgresql),
};

/// The Barman Cloud plugin's name, as CNPG clusters reference it.
const BARMAN_PLUGIN: &str = "barman-cloud.cloudnative-pg.io";

fn three() -> i32 {
    3
}
fn yes() -> bool {
    true
}
fn seventeen() -> u32 {
    17
}
fn app() -> String {
    "app".into()
}

/// `storage: {size, storageClass}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSpec {
    #[serde(default = "default_size")]
    pub size: QuantityValue,
    pub storage_class: Option<String>,
}

fn default_size() -> QuantityValue {
    QuantityValue::String("20Gi".into())
}

impl Default for StorageSpec {
    fn default() -> Self {
        StorageSpec {
            size: default_size(),
            storage_class: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMethod {
    #[default]
    Any,
    First,
}

/// `synchronous: {method, number}` (quorum replication; off with one instance).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynchronousSpec {
    #[serde(default)]
    pub method: SyncMethod,
    #[serde(default = "one")]
    pub number: i32,
}

fn one() -> i32 {
    1
}

/// S3 credentials held in a Secret the user manages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Credentials {
    /// Name of the Secret.
    pub secret_ref: String,
    #[serde(default = "access_key")]
    pub access_key_id_key: String,
    #[serde(default = "secret_key")]
    pub secret_access_key_key: String,
}

fn access_key() -> String {
    "ACCESS_KEY_ID".into()
}
fn secret_key() -> String {
    "ACCESS_SECRET_KEY".into()
}

/// `objectStore: {destinationPath, endpointURL, s3Credentials}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectStoreSpec {
    pub destination_path: String,
    #[serde(rename = "endpointURL")]
    pub endpoint_url: Option<String>,
    pub s3_credentials: S3Credentials,
}

/// `backup: {objectStore, schedule, retention}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSpec {
    #[serde(rename = "objectStore")]
    pub object_store: ObjectStoreSpec,
    #[serde(default = "nightly")]
    pub schedule: String,
    #[serde(default = "thirty_days")]
    pub retention: String,
}

fn nightly() -> String {
    "0 2 * * *".into()
}
fn thirty_days() -> String {
    "30d".into()
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    Session,
    #[default]
    Transaction,
}

/// `pooler: {instances, mode}` → PgBouncer `Pooler`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolerSpec {
    #[serde(default = "two")]
    pub instances: i32,
    #[serde(default)]
    pub mode: PoolMode,
}

fn two() -> i32 {
    2
}

/// The spec of `PostgreSQL`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PostgreSQLSpec {
    #[serde(default = "three")]
    pub instances: i32,
    /// PostgreSQL major version; selects the CNPG image tag.
    #[serde(default = "seventeen")]
    pub version: u32,
    /// Full image, overriding `version`.
    pub image_name: Option<String>,
    #[serde(default)]
    pub storage: StorageSpec,
    pub wal_storage: Option<StorageSpec>,
    pub resources: Option<ResourcesSpec>,
    #[serde(default = "app")]
    pub database: String,
    #[serde(default = "app")]
    pub owner: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    pub synchronous: Option<SynchronousSpec>,
    pub backup: Option<BackupSpec>,
    pub pooler: Option<PoolerSpec>,
    #[serde(default = "yes")]
    pub monitoring: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

fn check(spec: &PostgreSQLSpec, ch: &mut Checks<'_>, name: &str) {
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
        let ok = b.retention.len() > 1
            && b.retention[..b.retention.len() - 1]
                .parse::<u32>()
                .is_ok_and(|n| n > 0)
            && b.retention.ends_with(['d', 'w', 'm']);
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
        crate::modules::common::check_name_room(name, "-pooler", ch);
    }
    for (k, v) in &spec.labels {
        ch.check(
            format!("spec.labels.{k}"),
            validate::label_key(k).and(validate::label_value(v)),
        );
    }
}

fn meta(name: &str, namespace: &str, cluster: &str) -> Value {
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

fn postgresql(m: &Module<'_>, ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: PostgreSQLSpec = m.spec()?;
    let mut ch = Checks::new(m);
    crate::modules::common::check_name_room(m.name, "-store", &mut ch);
    check(&spec, &mut ch, m.name);
    let findings = ch.finish()?;

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
            "apiVersion": ctx.api_version("ObjectStore", "barmancloud.cnpg.io/v1"),
            "kind": "ObjectStore",
            "metadata": meta(&store_name, ns, name),
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
        cluster.insert(
            "resources".into(),
            crate::modules::common::to_value(&r.build(ctx)),
        );
    }
    if spec.backup.is_some() {
        cluster.insert(
            "plugins".into(),
            json!([{"name": BARMAN_PLUGIN, "isWALArchiver": true, "parameters": {"barmanObjectName": store_name}}]),
        );
    }
    objects.push(json!({
        "apiVersion": ctx.api_version("Cluster", "postgresql.cnpg.io/v1"),
        "kind": "Cluster",
        "metadata": meta(name, ns, name),
        "spec": cluster,
    }));

    if let Some(b) = &spec.backup {
        objects.push(json!({
            "apiVersion": ctx.api_version("ScheduledBackup", "postgresql.cnpg.io/v1"),
            "kind": "ScheduledBackup",
            "metadata": meta(name, ns, name),
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
            "apiVersion": ctx.api_version("Pooler", "postgresql.cnpg.io/v1"),
            "kind": "Pooler",
            "metadata": meta(&format!("{name}-pooler"), ns, name),
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
            "apiVersion": ctx.api_version("PodMonitor", "monitoring.coreos.com/v1"),
            "kind": "PodMonitor",
            "metadata": meta(name, ns, name),
            "spec": {
                "selector": {"matchLabels": {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance"}},
                "podMetricsEndpoints": [{"port": "metrics"}],
            },
        }));
    }
    Ok(Expansion {
        objects,
        labels: Map::new(),
        findings,
    })
}
