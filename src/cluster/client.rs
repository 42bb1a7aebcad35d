//! A live cluster as `diff` and `apply` see it: a kube-rs client from the kubeconfig (kubectl's
//! `--kubeconfig`, `--context`, `-n`; `KUBECONFIG` honoured; tokens, client certificates and
//! exec credential plugins through kube-rs), discovery of the served kinds, and the calls they
//! make: GET an object, server-side apply (or its dry run), LIST (by label or
//! a whole namespace, in pages), DELETE.
//!
//! Objects travel as `serde_json::Value`; nothing here interprets them beyond their identity.
//! Every request waits for a permit of one shared semaphore, which bounds the requests in
//! flight (discovery and prune listing included).

use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GetParams, ListParams, Patch, PatchParams,
    PropagationPolicy,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{GroupVersionKind, Request, Resource};
use kube::discovery::{verbs, Discovery, Scope};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// How to reach the cluster (kubectl's connection flags).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`; else `KUBECONFIG` (a path list, merged; missing files skipped, as
    /// kubectl does), else `~/.kube/config` (none at all is fine with `--server`).
    pub kubeconfig: Option<PathBuf>,
    /// `--context`, `--cluster`, `--user`, `--server`, `--token`, … over the kubeconfig.
    pub overrides: super::kubeconfig::Overrides,
    /// `-n`; else the context's namespace, else `default`.
    pub namespace: Option<String>,
    /// Requests in flight at most (at least 1).
    pub max_requests: usize,
    /// How long one request may take to answer (`None`: forever).
    pub request_timeout: Option<std::time::Duration>,
}

/// A served kind: where it lives and whether it is namespaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Kind {
    /// Group, version, kind and plural.
    pub resource: ApiResource,
    /// Namespaced (else cluster-scoped).
    pub namespaced: bool,
    /// Whether `list` is served (prune needs it).
    pub listable: bool,
}

impl Kind {
    /// The kind version `version` of a CustomResourceDefinition serves (`None`: the definition
    /// lacks its group, names or that version).
    pub fn of_crd(crd: &Value, version: &str) -> Option<Kind> {
        let spec = &crd["spec"];
        let group = spec["group"].as_str()?;
        let served = spec["versions"]
            .as_array()?
            .iter()
            .any(|v| v["name"] == version && v["served"] != false);
        if !served {
            return None;
        }
        let gvk = GroupVersionKind::gvk(group, version, spec["names"]["kind"].as_str()?);
        Some(Kind {
            resource: ApiResource::from_gvk_with_plural(&gvk, spec["names"]["plural"].as_str()?),
            namespaced: spec["scope"] != "Cluster",
            listable: true,
        })
    }
}

/// An error answer of the API server (a `metav1.Status`), or a failure to get one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status code; 0 when no answer came (connection, TLS, decoding).
    pub code: u16,
    /// `reason` of the Status (`NotFound`, `Conflict`, `Invalid`, …).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `details.kind` of the Status (e.g. `namespaces` for a missing namespace).
    pub details_kind: String,
    /// `details.name`.
    pub details_name: String,
    /// `details.causes`: (reason/type, field, message).
    pub causes: Vec<(String, String, String)>,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.code == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} ({}): {}", self.reason, self.code, self.message)
        }
    }
}

impl From<kube::Error> for ApiFailure {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(status) => {
                let (details_kind, details_name, causes) = match status.details {
                    Some(d) => (
                        d.kind,
                        d.name,
                        d.causes
                            .into_iter()
                            .map(|c| (c.reason, c.field, c.message))
                            .collect(),
                    ),
                    None => Default::default(),
                };
                ApiFailure {
                    code: status.code,
                    reason: status.reason,
                    message: status.message,
                    details_kind,
                    details_name,
                    causes,
                }
            }
            other => ApiFailure {
                code: 0,
                reason: String::new(),
                message: error_chain(&other),
                details_kind: String::new(),
                details_name: String::new(),
                causes: Vec::new(),
            },
        }
    }
}

/// `e` and its sources, joined by `: `.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// A connected cluster with its discovered kinds.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    namespace: String,
    server: String,
    kinds: Arc<BTreeMap<(String, String, String), Kind>>,
    /// The preferred version of each group, for listing every kind once.
    preferred: Arc<Vec<Kind>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .field("kinds", &self.kinds.len())
            .finish()
    }
}

impl Cluster {
    /// Loads the kubeconfig, builds the client and runs discovery (aggregated; legacy
    /// per-group discovery when the server does not aggregate).
    pub async fn connect(opts: &ConnectOptions) -> Result<Cluster, String> {
        let kubeconfig = load_kubeconfig(opts.kubeconfig.as_deref(), &opts.overrides)?;
        let kubeconfig = super::kubeconfig::resolve(&kubeconfig, &opts.overrides)
            .map_err(|e| format!("kubeconfig: {e}"))?;
        let mut config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| format!("kubeconfig: {}", kubeconfig_error(&e)))?;
        if let Some(ns) = &opts.namespace {
            config.default_namespace = ns.clone();
        }
        if let Some(t) = opts.request_timeout {
            config.read_timeout = Some(t);
            config.write_timeout = Some(t);
        }
        let server = config.cluster_url.to_string();
        let namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config).map_err(|e| match &e {
            kube::Error::InferKubeconfig(k) => {
                format!("connecting to {server}: {}", kubeconfig_error(k))
            }
            _ => format!("connecting to {server}: {}", error_chain(&e)),
        })?;
        let permits = Arc::new(Semaphore::new(opts.max_requests.max(1)));
        let discovery = {
            let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
            // A server without aggregated discovery may answer with a legacy list that parses
            // as an empty aggregated one: no core group means the legacy walk is needed.
            match Discovery::new(client.clone()).run_aggregated().await {
                Ok(d) if d.has_group("") => d,
                _ => Discovery::new(client.clone())
                    .run()
                    .await
                    .map_err(|e| format!("discovery at {server}: {}", error_chain(&e)))?,
            }
        };
        let mut kinds = BTreeMap::new();
        let mut preferred = Vec::new();
        for group in discovery.groups() {
            let best = group.preferred_version_or_latest().to_string();
            for version in group.versions() {
                for (ar, caps) in group.versioned_resources(version) {
                    let kind = Kind {
                        namespaced: caps.scope == Scope::Namespaced,
                        listable: caps.supports_operation(verbs::LIST),
                        resource: ar,
                    };
                    if version == best {
                        preferred.push(kind.clone());
                    }
                    kinds.insert(
                        (
                            kind.resource.group.clone(),
                            kind.resource.version.clone(),
                            kind.resource.kind.clone(),
                        ),
                        kind,
                    );
                }
            }
        }
        Ok(Cluster {
            client,
            namespace,
            server,
            kinds: Arc::new(kinds),
            preferred: Arc::new(preferred),
            permits,
        })
    }

    /// The namespace for objects that name none.
    pub fn default_namespace(&self) -> &str {
        &self.namespace
    }

    /// The served kind of `apiVersion` + `kind`, if any.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<&Kind> {
        let gvk = gvk(api_version, kind);
        self.kinds.get(&(gvk.group, gvk.version, gvk.kind))
    }

    /// Every listable kind, once per group (its preferred version).
    pub fn listable_kinds(&self) -> impl Iterator<Item = &Kind> {
        self.preferred.iter().filter(|k| k.listable)
    }

    fn request(&self, kind: &Kind, namespace: Option<&str>) -> Request {
        let ns = if kind.namespaced { namespace } else { None };
        Request::new(DynamicObject::url_path(&kind.resource, ns))
    }

    async fn send(
        &self,
        req: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    ) -> Result<Value, ApiFailure> {
        let req = req.map_err(|e| ApiFailure::from(kube::Error::BuildRequest(e)))?;
        let _permit = self.permits.acquire().await.map_err(|e| ApiFailure {
            code: 0,
            reason: String::new(),
            message: e.to_string(),
            details_kind: String::new(),
            details_name: String::new(),
            causes: Vec::new(),
        })?;
        self.client
            .request::<Value>(req)
            .await
            .map_err(ApiFailure::from)
    }

    /// The live object, `None` when it does not exist.
    pub async fn get(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, ApiFailure> {
        let req = self
            .request(kind, namespace)
            .get(name, &GetParams::default());
        // Reads skip admission: an object in a missing namespace is simply not found.
        match self.send(req).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// What the server would store after a server-side apply of `object` by `manager`
    /// (`dryRun=All`: nothing persists).
    pub async fn apply_dry_run(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApiFailure> {
        self.apply(kind, namespace, name, object, manager, force, true)
            .await
    }

    /// Server-side applies `object` as `manager` (with `dry_run`, `dryRun=All`: nothing
    /// persists); the object as stored.
    #[allow(clippy::too_many_arguments)]
    pub async fn apply(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
        manager: &str,
        force: bool,
        dry_run: bool,
    ) -> Result<Value, ApiFailure> {
        let mut params = PatchParams::apply(manager);
        if dry_run {
            params = params.dry_run();
        }
        if force {
            params = params.force();
        }
        let req = self
            .request(kind, namespace)
            .patch(name, &params, &Patch::Apply(object));
        self.send(req).await
    }

    /// Deletes an object (background propagation, as `kubectl apply --prune`; with `dry_run`,
    /// `dryRun=All`). An object already gone is not an error.
    pub async fn delete(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        name: &str,
        dry_run: bool,
    ) -> Result<(), ApiFailure> {
        let params = DeleteParams {
            dry_run,
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        let req = self.request(kind, namespace).delete(name, &params);
        match self.send(req).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Objects of `kind` in all namespaces (or cluster-wide) that match `selector`.
    pub async fn list(&self, kind: &Kind, selector: &str) -> Result<Vec<Value>, ApiFailure> {
        self.list_in(kind, None, selector).await
    }

    /// Objects of `kind` in `namespace` (`None`: all namespaces, or cluster-wide for a
    /// cluster-scoped kind) that match `selector` (empty: all), read in pages of
    /// [`LIST_CHUNK`] items as kubectl reads lists (`limit`, then `continue` until the server
    /// gives no token). Items carry `apiVersion` and `kind`, which lists leave off.
    pub async fn list_in(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Value>, ApiFailure> {
        let ns = if kind.namespaced { namespace } else { None };
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = ListParams::default().limit(LIST_CHUNK);
            if !selector.is_empty() {
                params = params.labels(selector);
            }
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let req = Request::new(DynamicObject::url_path(&kind.resource, ns)).list(&params);
            let mut page = self.send(req).await?;
            if let Some(Value::Array(mut page_items)) = page.get_mut("items").map(Value::take) {
                items.append(&mut page_items);
            }
            token = page["metadata"]["continue"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        for item in &mut items {
            if let Value::Object(m) = item {
                m.entry("apiVersion")
                    .or_insert_with(|| Value::String(kind.resource.api_version.clone()));
                m.entry("kind")
                    .or_insert_with(|| Value::String(kind.resource.kind.clone()));
            }
        }
        Ok(items)
    }
}

/// Items per page of a list: kubectl's default `--chunk-size`.
pub const LIST_CHUNK: u32 = 500;

/// The kubeconfig as kubectl finds it: `--kubeconfig` (must exist), else the files of
/// `KUBECONFIG` that exist, merged, else `~/.kube/config`. No file at all is an empty kubeconfig
/// when `--server` names the cluster, else an error that says where it looked.
fn load_kubeconfig(
    explicit: Option<&std::path::Path>,
    overrides: &super::kubeconfig::Overrides,
) -> Result<Kubeconfig, String> {
    let read = |path: &std::path::Path| {
        Kubeconfig::read_from(path).map_err(|e| {
            format!(
                "reading kubeconfig {}: {}",
                path.display(),
                kubeconfig_error(&e)
            )
        })
    };
    if let Some(path) = explicit {
        return read(path);
    }
    let (paths, looked): (Vec<PathBuf>, String) = match std::env::var_os("KUBECONFIG") {
        Some(v) if !v.is_empty() => {
            let paths: Vec<PathBuf> = std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            let looked = format!(
                "none of the files of KUBECONFIG={} exists",
                v.to_string_lossy()
            );
            (paths, looked)
        }
        _ => match std::env::var_os("HOME") {
            Some(home) => {
                let p = PathBuf::from(home).join(".kube").join("config");
                let looked = format!("{} does not exist", p.display());
                (vec![p], looked)
            }
            None => (
                Vec::new(),
                "HOME is unset, so there is no ~/.kube/config".to_string(),
            ),
        },
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in paths.iter().filter(|p| p.exists()) {
        let next = read(path)?;
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(|e| {
                format!(
                    "merging kubeconfig {}: {}",
                    path.display(),
                    kubeconfig_error(&e)
                )
            })?,
        });
    }
    match merged {
        Some(k) => Ok(k),
        None if overrides.server.is_some() => Ok(Kubeconfig::default()),
        None => Err(format!(
            "no kubeconfig: {looked}; give --kubeconfig FILE, set KUBECONFIG, or name the cluster with --server"
        )),
    }
}

/// A kubeconfig error in words, with its causes; kube's read error quotes a debug-printed path
/// (`'"~/.kube/config"'`), so that one is worded here.
fn kubeconfig_error(e: &kube::config::KubeconfigError) -> String {
    use kube::config::{KubeconfigError, LoadDataError};
    let data = |what: &str, d: &LoadDataError| match d {
        LoadDataError::ReadFile(io, path) => format!("reading {what} {}: {io}", path.display()),
        other => format!("{what}: {}", error_chain(other)),
    };
    match e {
        KubeconfigError::ReadConfig(io, _) => io.to_string(),
        KubeconfigError::ParseClusterUrl(e) => format!("the server is not a URL: {e}"),
        KubeconfigError::LoadCertificateAuthority(d) => data("certificate authority", d),
        KubeconfigError::LoadClientCertificate(d) => data("client certificate", d),
        KubeconfigError::LoadClientKey(d) => data("client key", d),
        other => error_chain(other),
    }
}

/// Splits `apiVersion` into group and version.
pub fn gvk(api_version: &str, kind: &str) -> GroupVersionKind {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(group, version, kind)
}
