//! `ExternalSecret`, rendered for the External Secrets Operator as an `external-secrets.io/v1`
//! `ExternalSecret`: ESO reads the named keys from a secret store and keeps a Secret of them
//! in the namespace, so no secret value is ever written in Git.
//!
//! Unlike the original (`external-secrets.io/v1beta1`, which ESO stopped serving in 0.17, and a
//! `secretFromExternal` helper that emitted an empty Secret fighting ESO for ownership), this
//! emits only the `ExternalSecret`; the Secret is ESO's to create.

use super::{check_string_map, secret_type};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::config::check_config_keys;
use crate::schema::operators;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct ExternalSecret;

/// The kind of store an `ExternalSecret` reads from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum StoreKind {
    /// A `SecretStore` of the ExternalSecret's own namespace.
    SecretStore,
    /// A `ClusterSecretStore`, shared by every namespace it allows.
    #[default]
    ClusterSecretStore,
}

impl StoreKind {
    fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

/// The store the values are read from (ESO's `secretStoreRef`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreRef {
    /// Name of the `SecretStore` or `ClusterSecretStore` (the `SecretStore` kind's
    /// `metadata.name`).
    pub name: String,
    /// Whether it is a namespaced `SecretStore` or a `ClusterSecretStore`.
    #[serde(default)]
    pub kind: StoreKind,
}

/// Where one value lives in the store.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteRef {
    /// The secret's key or path in the store, e.g. `payments/db` (Vault), the secret name
    /// (AWS, GCP, Azure).
    pub key: String,
    /// A field of a structured (JSON, or Vault KV) secret, e.g. `password`; the whole value
    /// when not given.
    pub property: Option<String>,
    /// A version of the secret, as the provider names versions; the current one when not
    /// given.
    pub version: Option<String>,
}

/// One key of the Secret, read from one value of the store.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DataItem {
    /// The key in the Secret (letters, digits, `-`, `_`, `.`).
    pub secret_key: String,
    /// The value in the store.
    pub remote_ref: RemoteRef,
}

/// Secrets whose names match, in `find`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindName {
    /// A regular expression the secret's name matches.
    pub regexp: String,
}

/// Every secret of the store that matches, each becoming keys of the Secret.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Find {
    /// Look only under this path (providers with paths, e.g. Vault).
    pub path: Option<String>,
    /// Secrets whose name matches.
    pub name: Option<FindName>,
    /// Secrets carrying all these tags (providers with tags, e.g. AWS, Azure).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Many keys at once (ESO's `dataFrom`): give `extract` or `find`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataFromItem {
    /// Every field of one structured secret becomes a key of the Secret.
    pub extract: Option<RemoteRef>,
    /// Every secret that matches becomes a key of the Secret.
    pub find: Option<Find>,
}

/// Who owns the Secret (ESO's `creationPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum CreationPolicy {
    /// ESO creates the Secret and owns it: it goes when the ExternalSecret goes.
    #[default]
    Owner,
    /// ESO creates the Secret but does not own it: it stays when the ExternalSecret goes.
    Orphan,
    /// ESO only merges keys into a Secret that something else creates.
    Merge,
    /// ESO creates and updates nothing (for checks only).
    None,
}

impl CreationPolicy {
    fn as_str(self) -> &'static str {
        match self {
            CreationPolicy::Owner => "Owner",
            CreationPolicy::Orphan => "Orphan",
            CreationPolicy::Merge => "Merge",
            CreationPolicy::None => "None",
        }
    }

    /// Whether ESO itself creates the Secret.
    pub fn creates(self) -> bool {
        matches!(self, CreationPolicy::Owner | CreationPolicy::Orphan)
    }
}

/// What happens to the Secret when the values disappear from the store (ESO's
/// `deletionPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum DeletionPolicy {
    /// Keep the Secret with its last values (ESO's default).
    Retain,
    /// Delete the Secret (only with creationPolicy `Owner` or `Orphan`).
    Delete,
    /// Remove the vanished keys, keep the Secret (not with creationPolicy `None`).
    Merge,
}

impl DeletionPolicy {
    fn as_str(self) -> &'static str {
        match self {
            DeletionPolicy::Retain => "Retain",
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::Merge => "Merge",
        }
    }
}

/// Labels and annotations of the Secret.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateMetadata {
    /// Labels of the Secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations of the Secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The shape of the Secret ESO writes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Secret type, e.g. `Opaque`, `kubernetes.io/dockerconfigjson`, `kubernetes.io/tls`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Keys of the Secret built from the fetched values with ESO's Go templates, e.g.
    /// `url: "postgres://app:{{ .password }}@db:5432/app"`. Fetched keys not named here are
    /// left out of the Secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// Labels and annotations of the Secret.
    #[serde(default)]
    pub metadata: TemplateMetadata,
}

/// The Secret ESO keeps.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    /// Name of the Secret; the ExternalSecret's own name when not given. Workloads of the same
    /// render may name it in `secretMounts`/`secretEnv`.
    pub name: Option<String>,
    /// Who creates and owns the Secret.
    #[serde(default)]
    pub creation_policy: CreationPolicy,
    /// What happens to the Secret when its values disappear from the store; ESO's `Retain`
    /// when not given.
    pub deletion_policy: Option<DeletionPolicy>,
    /// Make the Secret immutable (each change then needs a new Secret name).
    #[serde(default)]
    pub immutable: bool,
    /// The Secret's type, templated keys, labels and annotations.
    pub template: Option<Template>,
}

/// How often ESO refreshes the Secret (ESO's `refreshPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RefreshPolicy {
    /// Every `refreshInterval` (ESO's default).
    Periodic,
    /// Once, when the Secret is created; never refreshed.
    CreatedOnce,
    /// Only when the ExternalSecret changes.
    OnChange,
}

impl RefreshPolicy {
    fn as_str(self) -> &'static str {
        match self {
            RefreshPolicy::Periodic => "Periodic",
            RefreshPolicy::CreatedOnce => "CreatedOnce",
            RefreshPolicy::OnChange => "OnChange",
        }
    }
}

fn one_hour() -> String {
    "1h".into()
}

/// A Secret kept in sync by the External Secrets Operator from a secret store (Vault, AWS
/// Secrets Manager, GCP Secret Manager, Azure Key Vault…): the values stay in the store, Git
/// holds only where they are.
///
/// The operator needs: ESO ≥ 0.16 installed (its CRDs serve `external-secrets.io/v1`), the
/// store named by `storeRef` (see the `SecretStore` kind), and network access from the ESO
/// controller (in its own namespace, usually `external-secrets`) to the store's endpoint and
/// to the Kubernetes API. Those pods are the operator's: this kind emits no NetworkPolicy, and
/// the ExternalSecret's namespace needs none for it.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    /// The store the values are read from.
    pub store_ref: StoreRef,
    /// Keys of the Secret, one value each (give this, `dataFrom`, or both).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<DataItem>,
    /// Many keys at once, from one structured secret or every secret that matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_from: Vec<DataFromItem>,
    /// How often ESO re-reads the store, as a Go duration (`1h`, `15m`, `1h30m`); `0` reads
    /// it once.
    #[serde(default = "one_hour")]
    pub refresh_interval: String,
    /// When ESO refreshes; every `refreshInterval` when not given.
    pub refresh_policy: Option<RefreshPolicy>,
    /// The Secret ESO keeps.
    #[serde(default)]
    pub target: Target,
}

impl ExternalSecretSpec {
    /// The name of the Secret the ExternalSecret keeps.
    pub fn target_name<'a>(&'a self, m: &'a ModuleResource<'_>) -> &'a str {
        self.target.name.as_deref().unwrap_or(m.name)
    }
}

fn check_remote_ref(r: &RemoteRef, field: &str, p: &mut Problems<'_>) {
    if r.key.trim().is_empty() {
        p.fail(format!("{field}.key"), "key must not be empty");
    }
    if r.property.as_deref().is_some_and(|s| s.trim().is_empty()) {
        p.fail(
            format!("{field}.property"),
            "property must not be empty: leave it out for the whole value",
        );
    }
    if r.version.as_deref().is_some_and(|s| s.trim().is_empty()) {
        p.fail(
            format!("{field}.version"),
            "version must not be empty: leave it out for the current one",
        );
    }
}

fn validate(spec: &ExternalSecretSpec, p: &mut Problems<'_>) {
    p.check(
        "spec.storeRef.name",
        validate::dns1123_subdomain(&spec.store_ref.name),
    );
    if spec.data.is_empty() && spec.data_from.is_empty() {
        p.fail(
            "spec.data",
            "give data, dataFrom or both: ESO refuses an ExternalSecret that reads nothing",
        );
    }
    let keys: Vec<String> = spec.data.iter().map(|d| d.secret_key.clone()).collect();
    for (i, d) in spec.data.iter().enumerate() {
        let field = format!("spec.data[{i}]");
        check_config_keys(
            std::iter::once(&d.secret_key),
            p,
            &format!("{field}.secretKey"),
        );
        if keys[..i].contains(&d.secret_key) {
            p.fail(
                format!("{field}.secretKey"),
                format!("secretKey {:?} is given twice", d.secret_key),
            );
        }
        check_remote_ref(&d.remote_ref, &format!("{field}.remoteRef"), p);
    }
    for (i, d) in spec.data_from.iter().enumerate() {
        let field = format!("spec.dataFrom[{i}]");
        match (&d.extract, &d.find) {
            (Some(e), None) => check_remote_ref(e, &format!("{field}.extract"), p),
            (None, Some(f)) => {
                if f.name.is_none() && f.tags.is_empty() && f.path.is_none() {
                    p.fail(
                        format!("{field}.find"),
                        "find needs name, tags or path: an empty find would copy the whole store",
                    );
                }
                if let Some(n) = &f.name {
                    if n.regexp.is_empty() {
                        p.fail(
                            format!("{field}.find.name.regexp"),
                            "regexp must not be empty",
                        );
                    }
                }
            }
            _ => p.fail(field, "set exactly one of extract or find"),
        }
    }
    p.check(
        "spec.refreshInterval",
        validate::go_duration(&spec.refresh_interval),
    );
    let t = &spec.target;
    if let Some(name) = &t.name {
        p.check("spec.target.name", validate::dns1123_subdomain(name));
    }
    match (t.deletion_policy, t.creation_policy) {
        (Some(DeletionPolicy::Delete), c) if !c.creates() => p.fail(
            "spec.target.deletionPolicy",
            format!(
                "deletionPolicy Delete needs a Secret ESO owns: with creationPolicy {} it would delete a Secret it did not create; use creationPolicy Owner",
                c.as_str()
            ),
        ),
        (Some(DeletionPolicy::Merge), CreationPolicy::None) => p.fail(
            "spec.target.deletionPolicy",
            "deletionPolicy Merge does nothing with creationPolicy None: there is no Secret to merge into",
        ),
        _ => {}
    }
    if let Some(tpl) = &t.template {
        if let Some(ty) = &tpl.type_ {
            p.check("spec.target.template.type", secret_type(ty));
            if ty == "kubernetes.io/service-account-token"
                && tpl
                    .metadata
                    .annotations
                    .contains_key("kubernetes.io/service-account.name")
            {
                p.fail(
                    "spec.target.template.type",
                    "ESO refuses a service-account-token Secret bound to a ServiceAccount: it would mint a long-lived token",
                );
            }
        }
        check_config_keys(tpl.data.keys(), p, "spec.target.template.data");
        check_string_map(
            &tpl.metadata.labels,
            "spec.target.template.metadata.labels",
            true,
            p,
        );
        check_string_map(
            &tpl.metadata.annotations,
            "spec.target.template.metadata.annotations",
            false,
            p,
        );
    }
}

impl Kind for ExternalSecret {
    const KIND: &'static str = "ExternalSecret";
    const SUMMARY: &'static str =
        "a Secret synced from a secret store by the External Secrets Operator: ExternalSecret";
    const EXAMPLE: Example = crate::example!("examples/secrets-management/external-secret.yaml");
    type Spec = ExternalSecretSpec;

    fn validate(spec: &ExternalSecretSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

fn remote_ref(r: &RemoteRef) -> Value {
    let mut m = Map::new();
    m.insert("key".into(), json!(r.key));
    if let Some(p) = &r.property {
        m.insert("property".into(), json!(p));
    }
    if let Some(v) = &r.version {
        m.insert("version".into(), json!(v));
    }
    Value::Object(m)
}

impl Generate for ExternalSecret {
    const EMITS: &'static [Gvk] = &[Gvk::new("external-secrets.io/v1", "ExternalSecret")];

    fn expand(spec: ExternalSecretSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let mut s = Map::new();
        s.insert(
            "secretStoreRef".into(),
            json!({"name": spec.store_ref.name, "kind": spec.store_ref.kind.as_str()}),
        );
        s.insert("refreshInterval".into(), json!(spec.refresh_interval));
        if let Some(rp) = spec.refresh_policy {
            s.insert("refreshPolicy".into(), json!(rp.as_str()));
        }
        let mut target = Map::new();
        target.insert("name".into(), json!(spec.target_name(m)));
        target.insert(
            "creationPolicy".into(),
            json!(spec.target.creation_policy.as_str()),
        );
        if let Some(d) = spec.target.deletion_policy {
            target.insert("deletionPolicy".into(), json!(d.as_str()));
        }
        if spec.target.immutable {
            target.insert("immutable".into(), json!(true));
        }
        if let Some(tpl) = &spec.target.template {
            let mut t = Map::new();
            if let Some(ty) = &tpl.type_ {
                t.insert("type".into(), json!(ty));
            }
            // ESO's template language; written out so that it is not ESO's default by accident.
            t.insert("engineVersion".into(), json!("v2"));
            if !tpl.data.is_empty() {
                t.insert("data".into(), json!(tpl.data));
            }
            let mut md = Map::new();
            if !tpl.metadata.labels.is_empty() {
                md.insert("labels".into(), json!(tpl.metadata.labels));
            }
            if !tpl.metadata.annotations.is_empty() {
                md.insert("annotations".into(), json!(tpl.metadata.annotations));
            }
            if !md.is_empty() {
                t.insert("metadata".into(), Value::Object(md));
            }
            target.insert("template".into(), Value::Object(t));
        }
        s.insert("target".into(), Value::Object(target));
        if !spec.data.is_empty() {
            let data: Vec<Value> = spec
                .data
                .iter()
                .map(|d| json!({"secretKey": d.secret_key, "remoteRef": remote_ref(&d.remote_ref)}))
                .collect();
            s.insert("data".into(), json!(data));
        }
        if !spec.data_from.is_empty() {
            let from: Vec<Value> = spec
                .data_from
                .iter()
                .filter_map(|d| match (&d.extract, &d.find) {
                    (Some(e), _) => Some(json!({"extract": remote_ref(e)})),
                    (None, Some(f)) => {
                        let mut fm = Map::new();
                        if let Some(p) = &f.path {
                            fm.insert("path".into(), json!(p));
                        }
                        if let Some(n) = &f.name {
                            fm.insert("name".into(), json!({"regexp": n.regexp}));
                        }
                        if !f.tags.is_empty() {
                            fm.insert("tags".into(), json!(f.tags));
                        }
                        Some(json!({"find": fm}))
                    }
                    // Refused by validation.
                    (None, None) => None,
                })
                .collect();
            s.insert("dataFrom".into(), json!(from));
        }
        Expansion {
            objects: vec![json!({
                "apiVersion": ctx.api_version(&operators::EXTERNAL_SECRET),
                "kind": "ExternalSecret",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": {"app.kubernetes.io/name": name},
                },
                "spec": s,
            })],
            ..Default::default()
        }
    }
}
