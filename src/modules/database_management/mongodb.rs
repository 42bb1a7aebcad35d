//! `MongoDB`, rendered for the MongoDB Community Operator (and its successor, MongoDB
//! Controllers for Kubernetes) as a `MongoDBCommunity` replica set.
//!
//! Unlike the original (no `type`, no `users`, a `6.0` that is no release, TLS enabled without
//! certificates, the stock `mongo` image that breaks the agent), this emits what the operator
//! requires: `type: ReplicaSet`, a full `version`, SCRAM users whose passwords are Secret
//! references, TLS only with a certificate Secret and a CA ConfigMap, the data volume through
//! the `statefulSet` override the operator documents, and the operator's own images. With
//! `metrics`, the agent's Prometheus endpoint and a ServiceMonitor that reads it. It declares the
//! network access the pods need: the members among themselves and the Kubernetes API (the
//! agent and its readiness probe read and annotate through it; the operator itself never
//! connects to `mongod`).

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

pub struct MongoDB;

/// The port of `mongod`.
pub(super) const PORT: i64 = 27017;
/// The port of the agent's Prometheus endpoint.
pub(super) const METRICS_PORT: i64 = 9216;

fn admin() -> String {
    "admin".into()
}
fn password() -> String {
    "password".into()
}

/// A Secret key holding a password.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRef {
    /// Name of the Secret (yours, or the target of an ExternalSecret).
    pub name: String,
    /// Key of the password in it.
    #[serde(default = "password")]
    pub key: String,
}

/// A role granted on a database.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRef {
    /// The role, e.g. `readWrite`, `dbOwner`, `clusterAdmin`.
    pub name: String,
    /// The database it applies to.
    pub db: String,
}

/// A SCRAM user the operator creates, and whose connection strings it publishes in the
/// Secret `<name>-<db>-<user>`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserSpec {
    /// The user name.
    pub name: String,
    /// The database the user authenticates against.
    #[serde(default = "admin")]
    pub db: String,
    /// The Secret key holding the user's password (read once, to derive the SCRAM credentials).
    pub password_secret_ref: PasswordRef,
    /// Roles granted to the user (at least one).
    pub roles: Vec<RoleRef>,
    /// Prefix of the Secret where the operator stores the user's SCRAM credentials
    /// (`<prefix>-scram-credentials`); `<name>-<user>` when not given.
    pub scram_credentials_secret_name: Option<String>,
    /// Name of the Secret with the user's connection strings; `<name>-<db>-<user>` when not
    /// given.
    pub connection_string_secret_name: Option<String>,
}

/// The data volume of each member (the operator's `data-volume` claim).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSpec {
    /// Size of each member's data volume, e.g. `50Gi`.
    #[serde(default = "default_size")]
    pub size: Quantity,
    /// StorageClass to provision from; the cluster's default when not given.
    pub storage_class: Option<String>,
}

fn default_size() -> Quantity {
    Quantity::String("10Gi".into())
}

impl Default for StorageSpec {
    fn default() -> Self {
        StorageSpec {
            size: default_size(),
            storage_class: None,
        }
    }
}

/// TLS for client and member connections, with certificates you provide (e.g. from
/// cert-manager).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSpec {
    /// Secret of type `kubernetes.io/tls` with the members' certificate and key; it must name
    /// `*.<name>-svc.<namespace>.svc.cluster.local`.
    pub cert_secret_ref: String,
    /// ConfigMap holding the CA certificate under `ca.crt`.
    pub ca_config_map_ref: String,
    /// Accept clients without TLS as well (while migrating to TLS).
    #[serde(default)]
    pub optional: bool,
}

/// A SCRAM mechanism the replica set accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum AuthMode {
    /// SCRAM-SHA-256 (the operator's name for its default).
    #[serde(rename = "SCRAM")]
    Scram,
    /// SCRAM-SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM-SHA-1, for old drivers.
    #[serde(rename = "SCRAM-SHA-1")]
    ScramSha1,
}

impl AuthMode {
    fn as_str(self) -> &'static str {
        match self {
            AuthMode::Scram => "SCRAM",
            AuthMode::ScramSha256 => "SCRAM-SHA-256",
            AuthMode::ScramSha1 => "SCRAM-SHA-1",
        }
    }
}

fn scram() -> Vec<AuthMode> {
    vec![AuthMode::Scram]
}

/// The agent's Prometheus endpoint (basic auth) and a ServiceMonitor that scrapes it.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsSpec {
    /// Secret holding the endpoint's basic-auth `username` and `password` keys: the operator
    /// reads the password, the ServiceMonitor both.
    pub secret_name: String,
    /// The user name, as stored under `username` in that Secret.
    pub username: String,
}

/// A MongoDB replica set run by the MongoDB Community Operator, with SCRAM users whose
/// passwords come from Secrets, optional TLS and metrics.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MongoDBSpec {
    /// Replica-set members (1-50; an odd number of at least 3 tolerates a failure).
    #[serde(default = "three")]
    #[schemars(range(min = 1, max = 50))]
    pub members: i32,
    /// MongoDB release, in full (`x.y.z`, e.g. `8.0.12`): the image tag the operator runs.
    pub version: String,
    /// Feature compatibility version (`major.minor`), pinned during upgrades; the operator
    /// derives it from `version` when not given.
    pub feature_compatibility_version: Option<String>,
    /// The users the operator creates (at least one).
    pub users: Vec<UserSpec>,
    /// Data volume of each member.
    #[serde(default)]
    pub storage: StorageSpec,
    /// The SCRAM mechanisms accepted (`SCRAM` is SCRAM-SHA-256).
    #[serde(default = "scram")]
    pub auth_modes: Vec<AuthMode>,
    /// TLS with your certificates.
    pub tls: Option<TlsSpec>,
    /// Prometheus metrics from the agents.
    pub metrics: Option<MetricsSpec>,
}

fn three() -> i32 {
    3
}

/// The operator's name for the Secret `<resource>-<db>-<user>`: RFC 1123, lowercased, other
/// characters as `-` (as the operator's `normalizeName` does).
pub(super) fn normalize(name: &str) -> String {
    if validate::dns1123_subdomain(name).is_ok() {
        return name.to_string();
    }
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let mut out = out.trim_matches('-').to_string();
    out.truncate(253);
    out
}

/// The connection-string Secret of `user`.
pub(super) fn connection_secret(resource: &str, user: &UserSpec) -> String {
    user.connection_string_secret_name
        .clone()
        .unwrap_or_else(|| normalize(&format!("{resource}-{}-{}", user.db, user.name)))
}

fn full_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.parse::<u32>().is_ok())
}

fn validate(spec: &MongoDBSpec, p: &mut Problems<'_>) {
    // `<name>-svc` and the members' `<name>-<ordinal>` hostnames.
    meta::check_name_room("-svc", p);
    if !(1..=50).contains(&spec.members) {
        p.fail(
            "spec.members",
            format!("members {} must be between 1 and 50", spec.members),
        );
    } else if spec.members % 2 == 0 {
        p.warn(
            "spec.members",
            format!(
                "{} members tolerate no more failures than {} do: use an odd number",
                spec.members,
                spec.members - 1
            ),
        );
    }
    if !full_version(&spec.version) {
        p.fail(
            "spec.version",
            format!(
                "{:?}: expected a full MongoDB release such as 8.0.12 (major.minor.patch)",
                spec.version
            ),
        );
    }
    if let Some(fcv) = &spec.feature_compatibility_version {
        let parts: Vec<&str> = fcv.split('.').collect();
        let ok = parts.len() == 2 && parts.iter().all(|p| p.parse::<u32>().is_ok());
        if !ok {
            p.fail(
                "spec.featureCompatibilityVersion",
                format!("{fcv:?}: expected major.minor, e.g. 7.0"),
            );
        }
    }
    if spec.users.is_empty() {
        p.fail(
            "spec.users",
            "at least one user is needed: the operator enables authentication",
        );
    }
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (i, u) in spec.users.iter().enumerate() {
        let at = format!("spec.users[{i}]");
        if u.name.is_empty() {
            p.fail(format!("{at}.name"), "name must not be empty");
        }
        if u.db.is_empty() || u.db.contains(['/', '\\', '.', ' ', '"', '$']) {
            p.fail(
                format!("{at}.db"),
                format!("{:?}: expected a database name", u.db),
            );
        }
        if seen.contains(&(u.name.as_str(), u.db.as_str())) {
            p.fail(
                format!("{at}.name"),
                format!("user {:?} of database {:?} is listed twice", u.name, u.db),
            );
        }
        seen.push((&u.name, &u.db));
        p.check(
            format!("{at}.passwordSecretRef.name"),
            validate::dns1123_subdomain(&u.password_secret_ref.name),
        );
        if u.roles.is_empty() {
            p.fail(format!("{at}.roles"), "a user needs at least one role");
        }
        for (j, r) in u.roles.iter().enumerate() {
            if r.name.is_empty() || r.db.is_empty() {
                p.fail(format!("{at}.roles[{j}]"), "a role needs a name and a db");
            }
        }
        for (field, v) in [
            (
                "scramCredentialsSecretName",
                &u.scram_credentials_secret_name,
            ),
            (
                "connectionStringSecretName",
                &u.connection_string_secret_name,
            ),
        ] {
            if let Some(v) = v {
                p.check(format!("{at}.{field}"), validate::dns1123_subdomain(v));
            }
        }
    }
    p.check(
        "spec.storage.size",
        validate::quantity(&spec.storage.size.text()),
    );
    if let Some(sc) = &spec.storage.storage_class {
        p.check("spec.storage.storageClass", validate::dns1123_subdomain(sc));
    }
    if spec.auth_modes.is_empty() {
        p.fail("spec.authModes", "at least one SCRAM mechanism is needed");
    }
    if let Some(t) = &spec.tls {
        p.check(
            "spec.tls.certSecretRef",
            validate::dns1123_subdomain(&t.cert_secret_ref),
        );
        p.check(
            "spec.tls.caConfigMapRef",
            validate::dns1123_subdomain(&t.ca_config_map_ref),
        );
    }
    if let Some(m) = &spec.metrics {
        p.check(
            "spec.metrics.secretName",
            validate::dns1123_subdomain(&m.secret_name),
        );
        if m.username.is_empty() {
            p.fail("spec.metrics.username", "username must not be empty");
        }
    }
}

/// The labels the operator puts on the members' pods (`app: <name>-svc`).
pub(super) fn member_labels(name: &str) -> Map<String, Value> {
    let mut s = Map::new();
    s.insert("app".into(), json!(format!("{name}-svc")));
    s
}

fn network(spec: &MongoDBSpec, m: &ModuleResource<'_>) -> Vec<NetworkTarget> {
    let (name, ns) = (m.name, m.namespace.as_str());
    let own = member_labels(name);
    let ports = vec![Port::tcp(PORT)];
    vec![NetworkTarget {
        name: name.to_string(),
        namespace: ns.to_string(),
        selector: own.clone(),
        ports: ports.clone(),
        depends_on: Vec::new(),
        exposed: false,
        metrics: if spec.metrics.is_some() {
            vec![Port::tcp(METRICS_PORT)]
        } else {
            Vec::new()
        },
        policies: Policies::Combined {
            name: format!("{name}-mongodb"),
            // Replication and the agents' automation between the members.
            ingress: vec![
                json!({"from": [network::pods(&own)], "ports": network::port_list(&ports)}),
            ],
            egress: vec![
                json!({"to": [network::pods(&own)], "ports": network::port_list(&ports)}),
                network::api_egress(),
            ],
        },
    }]
}

impl Kind for MongoDB {
    const KIND: &'static str = "MongoDB";
    const SUMMARY: &'static str =
        "MongoDB replica set on the MongoDB Community Operator: MongoDBCommunity, ServiceMonitor";
    const EXAMPLE: Example = crate::example!("examples/database-management/mongodb.yaml");
    type Spec = MongoDBSpec;

    fn validate(spec: &MongoDBSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for MongoDB {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"),
        Gvk::new("monitoring.coreos.com/v1", "ServiceMonitor"),
    ];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "host",
            description:
                "the members' headless Service, `<name>-svc.<namespace>.svc` (also the SRV name)",
            secret: false,
        },
        OutputDef {
            name: "port",
            description: "the mongod port (27017)",
            secret: false,
        },
        OutputDef {
            name: "replicaSet",
            description: "the replica set's name (the resource name)",
            secret: false,
        },
        OutputDef {
            name: "uri",
            description:
                "key `connectionString.standard` of the first user's Secret `<name>-<db>-<user>`",
            secret: true,
        },
        OutputDef {
            name: "uriSrv",
            description: "key `connectionString.standardSrv` of that Secret",
            secret: true,
        },
        OutputDef {
            name: "username",
            description: "key `username` of that Secret",
            secret: true,
        },
        OutputDef {
            name: "password",
            description: "key `password` of that Secret",
            secret: true,
        },
    ];

    fn outputs(spec: &MongoDBSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let service = format!("{}-svc", m.name);
        let mut out = vec![
            (
                "host",
                OutputValue::Value(super::mysql::service_host(&service, &m.namespace)),
            ),
            ("port", OutputValue::Value(PORT.to_string())),
            ("replicaSet", OutputValue::Value(m.name.to_string())),
        ];
        if let Some(user) = spec.users.first() {
            let name = connection_secret(m.name, user);
            for (output, key) in [
                ("uri", "connectionString.standard"),
                ("uriSrv", "connectionString.standardSrv"),
                ("username", "username"),
                ("password", "password"),
            ] {
                out.push((
                    output,
                    OutputValue::Secret {
                        name: name.clone(),
                        key: key.into(),
                    },
                ));
            }
        }
        out
    }

    fn expand(spec: MongoDBSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let users: Vec<Value> = spec
            .users
            .iter()
            .map(|u| {
                let mut o = Map::new();
                o.insert("name".into(), json!(u.name));
                o.insert("db".into(), json!(u.db));
                o.insert(
                    "passwordSecretRef".into(),
                    json!({"name": u.password_secret_ref.name, "key": u.password_secret_ref.key}),
                );
                o.insert(
                    "roles".into(),
                    Value::Array(
                        u.roles
                            .iter()
                            .map(|r| json!({"name": r.name, "db": r.db}))
                            .collect(),
                    ),
                );
                let scram = u
                    .scram_credentials_secret_name
                    .clone()
                    .unwrap_or_else(|| normalize(&format!("{name}-{}", u.name)));
                o.insert("scramCredentialsSecretName".into(), json!(scram));
                if let Some(c) = &u.connection_string_secret_name {
                    o.insert("connectionStringSecretName".into(), json!(c));
                }
                Value::Object(o)
            })
            .collect();
        let modes: Vec<&str> = spec.auth_modes.iter().map(|m| m.as_str()).collect();
        let mut security = Map::new();
        security.insert("authentication".into(), json!({"modes": modes}));
        if let Some(t) = &spec.tls {
            security.insert(
                "tls".into(),
                json!({
                    "enabled": true,
                    "optional": t.optional,
                    "certificateKeySecretRef": {"name": t.cert_secret_ref},
                    "caConfigMapRef": {"name": t.ca_config_map_ref},
                }),
            );
        }
        let pvc = crate::modules::shared::storage::claim_spec(
            &spec.storage.size,
            spec.storage.storage_class.as_ref(),
        );
        let mut c = Map::new();
        c.insert("type".into(), json!("ReplicaSet"));
        c.insert("members".into(), json!(spec.members));
        c.insert("version".into(), json!(spec.version));
        if let Some(fcv) = &spec.feature_compatibility_version {
            c.insert("featureCompatibilityVersion".into(), json!(fcv));
        }
        c.insert("security".into(), Value::Object(security));
        c.insert("users".into(), Value::Array(users));
        if let Some(mt) = &spec.metrics {
            c.insert(
                "prometheus".into(),
                json!({
                    "username": mt.username,
                    "passwordSecretRef": {"name": mt.secret_name, "key": "password"},
                }),
            );
        }
        c.insert(
            "statefulSet".into(),
            json!({"spec": {"volumeClaimTemplates": [
                {"metadata": {"name": "data-volume"}, "spec": pvc}
            ]}}),
        );
        // The CR carries the label the operator gives its pods, so that what selects the pods
        // (the NetworkPolicy, the ServiceMonitor) is traceable to it.
        let mut labels = member_labels(name);
        labels.insert("app.kubernetes.io/name".into(), json!(name));
        let metadata = json!({"name": name, "namespace": ns, "labels": labels});
        let mut objects = vec![json!({
            "apiVersion": ctx.api_version(&operators::MONGODB_COMMUNITY),
            "kind": "MongoDBCommunity",
            "metadata": metadata,
            "spec": c,
        })];
        if let Some(mt) = &spec.metrics {
            // The operator adds the `prometheus` port to the members' Service `<name>-svc`
            // (labelled like the pods); the pods do not declare it, so a PodMonitor could not
            // find it: a ServiceMonitor, as the operator documents.
            objects.push(json!({
                "apiVersion": ctx.api_version(&operators::SERVICE_MONITOR),
                "kind": "ServiceMonitor",
                "metadata": metadata,
                "spec": {
                    "selector": {"matchLabels": member_labels(name)},
                    "endpoints": [{
                        "port": "prometheus",
                        "scheme": "http",
                        "basicAuth": {
                            "username": {"name": mt.secret_name, "key": "username"},
                            "password": {"name": mt.secret_name, "key": "password"},
                        },
                    }],
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
