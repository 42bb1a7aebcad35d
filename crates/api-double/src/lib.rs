//! The API-server double: an in-memory, stateful Kubernetes API server on loopback HTTP that
//! the real kubectl and Nixernetes' own cluster code both accept, so that `diff` and friends can
//! be tested without a cluster (`DIFF-reference.md` §6).
//!
//! It serves discovery (aggregated and legacy), a minimal OpenAPI v3, and CRUD plus the four
//! patch types for a table of built-in kinds and for kinds registered by CRDs, with the server
//! behaviours that make diffs realistic: server-side apply with field ownership and conflicts,
//! dry-run, defaulting, NamespaceLifecycle and immutable-field admission. Tests drive it
//! in-process through [`Double`]; `kubectl nixernetes api-double` starts one by hand.
//!
//! It is a test double, not a cluster: no watch, no controllers (nothing reconciles, status
//! stays as written), no authentication, no schemas for built-in kinds (list merge keys come
//! from a table), and no conversion between versions of a CRD.
//!
//! This crate is test and development tooling beside the `nixernetes` package, which uses it
//! only behind its `api-double` feature (the subcommand) and in its tests. It must not depend on
//! `nixernetes`: it has its own YAML shim (`yaml`, serde-saphyr read as the product reads it)
//! and clock formatting (`time`).
//!
//! ```no_run
//! use api_double::{Double, Options};
//! let double = Double::start(Options::default()).unwrap();
//! std::fs::write("/tmp/kubeconfig", double.kubeconfig()).unwrap();
//! // kubectl --kubeconfig /tmp/kubeconfig apply --server-side -f app.yaml
//! let writes = double.requests().iter().filter(|r| r.method == "PATCH").count();
//! # let _ = writes;
//! double.stop();
//! ```

// `ApiError` (a `metav1.Status`) is the error of every request path; it is large, and an error
// answers one request. (Allowed crate-wide before the move too, by the main crate's root.)
#![allow(clippy::result_large_err)]

mod apply;
mod defaults;
mod discovery;
mod fields;
mod kinds;
mod patch;
mod selector;
mod server;
mod status;
mod store;
mod time;
mod yaml;

pub use kinds::{Registry, ResourceType};
pub use status::{ApiError, Cause};
pub use store::{FieldValidation, Page, PatchType, Store, WriteOptions, Written};

use serde::Serialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to start a double.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Delay added to every API request (not to `/__double/…`).
    pub latency: Duration,
    /// Objects the cluster starts with, applied in order (Namespaces and CRDs first; missing
    /// namespaces are created). `List` objects are unpacked.
    pub seed: Vec<Value>,
    /// Field manager that owns the seed objects (server-side apply, forced).
    pub seed_manager: String,
    /// Answer aggregated discovery (`apidiscovery.k8s.io/v2`) when asked; off, `/api` and
    /// `/apis` always answer in the legacy form and clients fall back to per-group requests.
    pub aggregated_discovery: bool,
    /// Serve `/openapi/v3` (off: 404, as for `/openapi/v2` always).
    pub openapi_v3: bool,
    /// `gitVersion` of `/version`. The kubectl dispatcher on this machine runs the client of
    /// the same minor when it has one, else its default (1.32).
    pub server_version: String,
    /// Fixed clock in seconds since the epoch for `creationTimestamp` and managed-fields
    /// times; `None`: the system clock.
    pub fixed_time: Option<i64>,
    /// Serve HTTPS instead of plain HTTP.
    pub tls: Option<TlsOptions>,
}

/// The double's TLS identity, and whether it asks clients for certificates.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// PEM certificate chain of the server (its SANs must name the address clients dial).
    pub cert_pem: String,
    /// PEM private key of the server certificate.
    pub key_pem: String,
    /// PEM CA certificates: when set, every client must show a certificate they signed (as an
    /// API server with `--client-ca-file`); the request log records it.
    pub client_ca_pem: Option<String>,
}

impl TlsOptions {
    fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, String> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let certs = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("server certificate: {e}"))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| format!("server key: {e}"))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = match &self.client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for ca in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    let ca = ca.map_err(|e| format!("client CA: {e}"))?;
                    roots.add(ca).map_err(|e| format!("client CA: {e}"))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| format!("client CA: {e}"))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| format!("server certificate: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: Duration::ZERO,
            seed: Vec::new(),
            seed_manager: "nixernetes-seed".into(),
            aggregated_discovery: true,
            openapi_v3: true,
            server_version: "v1.35.0".into(),
            fixed_time: None,
            tls: None,
        }
    }
}

/// One request as the double received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string (still percent-encoded).
    pub query: String,
    /// Headers in arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body, as text (lossy for binary bodies).
    pub body: String,
    /// Status code of the answer (0 while in flight).
    pub status: u16,
    /// The DER certificate the client showed over TLS, if any.
    #[serde(skip)]
    pub client_certificate: Option<Vec<u8>>,
}

impl RecordedRequest {
    /// A decoded query parameter.
    pub fn query_param(&self, key: &str) -> Option<String> {
        server::query_pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A header value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request changes (or, with `dryRun=All`, would change) state.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }

    /// Whether the request is a write that persisted nothing by asking for a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.query_param("dryRun").as_deref() == Some("All")
    }
}

/// A scripted failure: requests whose method and path match get `status` instead of an
/// answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRule {
    /// Method to match (`None`: any).
    pub method: Option<String>,
    /// Substring the path must contain.
    pub path_contains: String,
    /// The path must end with `path_contains` (so that `/namespaces/shop/configmaps` is the
    /// collection, not the objects in it).
    pub path_ends: bool,
    /// HTTP status to answer with (the `metav1.Status` reason follows from it).
    pub status: u16,
    /// How many requests fail before the rule is spent (`None`: forever).
    pub times: Option<u32>,
    /// Message of the error.
    pub message: String,
}

impl FailureRule {
    /// Fails `times` requests with `method` on paths containing `path_contains`.
    pub fn new(method: &str, path_contains: &str, status: u16, times: u32) -> Self {
        FailureRule {
            method: Some(method.to_string()),
            path_contains: path_contains.to_string(),
            path_ends: false,
            status,
            times: Some(times),
            message: format!("injected failure ({status})"),
        }
    }

    /// Fails `times` LISTs of the collection whose path ends with `collection` (e.g.
    /// `/namespaces/shop/configmaps`), not the GETs of its objects: a user who may get but not
    /// list, with status 403.
    pub fn list(collection: &str, status: u16, times: u32) -> Self {
        FailureRule {
            path_ends: true,
            ..FailureRule::new("GET", collection, status, times)
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && if self.path_ends {
                path.ends_with(&self.path_contains)
            } else {
                path.contains(&self.path_contains)
            }
    }
}

/// Why a double did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The async runtime or the server thread could not be created.
    #[error("cannot start the server thread")]
    Runtime(#[source] std::io::Error),
    /// A seed object was refused.
    #[error("seed object refused")]
    Seed(#[source] ApiError),
    /// The TLS identity could not be used.
    #[error("TLS: {0}")]
    Tls(String),
}

/// A running double. Dropping it stops the server.
#[derive(Debug)]
pub struct Double {
    url: String,
    addr: SocketAddr,
    shared: server::Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Double {
    /// Starts a double on its own thread (a current-thread tokio runtime), seeded and ready
    /// when this returns.
    pub fn start(options: Options) -> Result<Double, StartError> {
        let mut store = Store::new(options.fixed_time);
        store
            .seed(&options.seed, &options.seed_manager)
            .map_err(StartError::Seed)?;
        let tls = match &options.tls {
            Some(t) => Some(t.acceptor().map_err(StartError::Tls)?),
            None => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener =
            std::net::TcpListener::bind(options.listen).map_err(|source| StartError::Bind {
                addr: options.listen,
                source,
            })?;
        let bind_err = |source| StartError::Bind {
            addr: options.listen,
            source,
        };
        listener.set_nonblocking(true).map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let shared: server::Shared = Arc::new(Mutex::new(server::State {
            store,
            requests: Vec::new(),
            failures: Vec::new(),
            latency: options.latency,
            in_flight: 0,
            max_in_flight: 0,
            config: server::Config {
                aggregated_discovery: options.aggregated_discovery,
                openapi_v3: options.openapi_v3,
                server_version: options.server_version.clone(),
                address: addr.to_string(),
            },
        }));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(StartError::Runtime)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("api-double-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => {
                            tokio::spawn(server::serve(l, serving, tls));
                            let _ = rx.await;
                        }
                        Err(e) => eprintln!("api-double: cannot listen: {e}"),
                    }
                });
                // Dropping the runtime here cancels open connections.
            })
            .map_err(StartError::Runtime)?;
        Ok(Double {
            url: format!("{scheme}://{addr}"),
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kubeconfig whose current context points at the double (namespace `default`, a
    /// bearer token the double ignores).
    pub fn kubeconfig(&self) -> String {
        kubeconfig(&self.url)
    }

    /// Every API request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        server::lock(&self.shared).requests.clone()
    }

    /// Forgets the recorded requests and the in-flight high-water mark.
    pub fn clear_requests(&self) {
        let mut st = server::lock(&self.shared);
        st.requests.clear();
        st.max_in_flight = st.in_flight;
    }

    /// The most API requests the double was answering at the same time (since the start or
    /// the last [`Double::clear_requests`]).
    pub fn max_in_flight(&self) -> usize {
        server::lock(&self.shared).max_in_flight
    }

    /// Changes the injected latency.
    pub fn set_latency(&self, latency: Duration) {
        server::lock(&self.shared).latency = latency;
    }

    /// Adds a scripted failure.
    pub fn fail(&self, rule: FailureRule) {
        server::lock(&self.shared).failures.push(rule);
    }

    /// Runs `f` on the store under the server's lock (seeding, inspection).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut server::lock(&self.shared).store)
    }

    /// The stored object, if any (`namespace` ignored for cluster-scoped kinds).
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        self.with_store(|s| {
            let rt = s.registry.by_kind(api_version, kind)?.clone();
            let ns = if rt.namespaced {
                namespace.or(Some("default"))
            } else {
                None
            };
            s.get(&rt, ns, name).ok()
        })
    }

    /// Server-side applies `object` as `manager` (e.g. to make another manager own fields).
    pub fn apply(&self, object: &Value, manager: &str, force: bool) -> Result<Value, ApiError> {
        self.with_store(|s| {
            let api_version = object["apiVersion"].as_str().unwrap_or_default();
            let kind = object["kind"].as_str().unwrap_or_default();
            let rt = s
                .registry
                .by_kind(api_version, kind)
                .cloned()
                .ok_or_else(|| {
                    ApiError::bad_request(format!("no type {api_version} {kind} is served"))
                })?;
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let ns = rt.namespaced.then(|| {
                object["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_string()
            });
            let opts = WriteOptions {
                field_manager: Some(manager.to_string()),
                force: Some(force),
                ..WriteOptions::default()
            };
            let body = serde_json::to_vec(object).expect("JSON values serialize");
            s.apply(&rt, ns.as_deref(), &name, &body, &opts)
                .map(|w| w.object)
        })
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// A kubeconfig for a server at `url`: cluster, user (token) and context, all named
/// `nixernetes-double`.
pub fn kubeconfig(url: &str) -> String {
    let name = "nixernetes-double";
    crate::yaml::to_string(&json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url, "insecure-skip-tls-verify": true}}],
        "users": [{"name": name, "user": {"token": "nixernetes-double-token"}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    }))
}
