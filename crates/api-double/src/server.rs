//! HTTP/1.1 front of the double: routing of API paths to discovery and the store, the request
//! log, injected latency and failures. Plain HTTP on loopback (or HTTPS, optionally asking for
//! client certificates), one current-thread runtime.

use super::discovery;
use super::kinds::ResourceType;
use super::status::ApiError;
use super::store::{FieldValidation, Page, PatchType, Store, WriteOptions, Written};
use super::{FailureRule, RecordedRequest};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Largest request body accepted (the API server's limit is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub aggregated_discovery: bool,
    pub openapi_v3: bool,
    pub server_version: String,
    pub address: String,
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct State {
    pub store: Store,
    pub requests: Vec<RecordedRequest>,
    pub failures: Vec<FailureRule>,
    pub latency: Duration,
    pub config: Config,
    /// API requests being answered now, and the most there ever were at once.
    pub in_flight: usize,
    pub max_in_flight: usize,
}

pub(crate) type Shared = Arc<Mutex<State>>;

/// Locks the state; a handler that panicked while holding it leaves usable data behind.
pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// An answer before it becomes an HTTP response.
struct Reply {
    code: u16,
    content_type: &'static str,
    body: Vec<u8>,
    warnings: Vec<String>,
}

impl Reply {
    fn json(code: u16, v: &Value) -> Self {
        Reply {
            code,
            content_type: "application/json",
            body: serde_json::to_vec(v).expect("JSON values serialize"),
            warnings: Vec::new(),
        }
    }

    fn error(e: &ApiError) -> Self {
        Self::json(e.code, &e.to_status())
    }

    fn written(w: Written) -> Self {
        let mut r = Self::json(w.code, &w.object);
        r.warnings = w.warnings;
        r
    }

    fn from(result: Result<Value, ApiError>) -> Self {
        match result {
            Ok(v) => Self::json(200, &v),
            Err(e) => Self::error(&e),
        }
    }
}

/// Accepts connections until the runtime is dropped.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Shared,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(_) => {
                // Out of descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let Some(acceptor) = tls else {
                return connection(stream, shared, None).await;
            };
            // A failed handshake (no or untrusted client certificate) just closes the
            // connection, as an API server does.
            if let Ok(stream) = acceptor.accept(stream).await {
                let client = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| Arc::new(c.as_ref().to_vec()));
                connection(stream, shared, client).await;
            }
        });
    }
}

/// Serves HTTP/1.1 on one connection; `client` is the DER certificate the TLS client showed.
async fn connection<S>(stream: S, shared: Shared, client: Option<Arc<Vec<u8>>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |req| handle(shared.clone(), client.clone(), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

async fn handle(
    shared: Shared,
    client: Option<Arc<Vec<u8>>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = ApiError::from_code(413, "the request body is too large");
            return Ok(respond(Reply::error(&e)));
        }
    };
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let internal = path.starts_with("/__double/");

    let (index, latency, injected) = {
        let mut st = lock(&shared);
        let index = (!internal).then(|| {
            st.requests.push(RecordedRequest {
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                headers: headers.clone(),
                body: String::from_utf8_lossy(&body).into_owned(),
                status: 0,
                client_certificate: client.as_deref().cloned(),
            });
            st.in_flight += 1;
            st.max_in_flight = st.max_in_flight.max(st.in_flight);
            st.requests.len() - 1
        });
        let injected = if internal {
            None
        } else {
            st.failures
                .iter_mut()
                .find(|f| f.matches(&method, &path))
                .map(|f| {
                    if let Some(n) = f.times.as_mut() {
                        *n -= 1;
                    }
                    ApiError::from_code(f.status, f.message.clone())
                })
        };
        st.failures.retain(|f| f.times != Some(0));
        (index, st.latency, injected)
    };
    if !latency.is_zero() && !internal {
        tokio::time::sleep(latency).await;
    }
    let reply = match injected {
        Some(e) => Reply::error(&e),
        None => {
            let mut st = lock(&shared);
            route(&mut st, &method, &path, &query, &headers, &body)
        }
    };
    if let Some(i) = index {
        let mut st = lock(&shared);
        if let Some(r) = st.requests.get_mut(i) {
            r.status = reply.code;
        }
        st.in_flight -= 1;
    }
    Ok(respond(reply))
}

fn respond(reply: Reply) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(reply.code)
        .header("content-type", reply.content_type)
        .header("cache-control", "no-cache, private");
    for w in &reply.warnings {
        builder = builder.header("warning", format!("299 - {w:?}"));
    }
    builder
        .body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Decodes `%XX` escapes and `+` in a query component.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded `key=value` pairs of a query string.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn write_options(
    pairs: &[(String, String)],
    headers: &[(String, String)],
) -> Result<WriteOptions, ApiError> {
    let dry_run = match param(pairs, "dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: {other:?}: supported values: \"All\""
            )))
        }
    };
    let force = match param(pairs, "force") {
        None => None,
        Some("true") | Some("1") => Some(true),
        Some("false") | Some("0") | Some("") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "force: invalid boolean {other:?}"
            )))
        }
    };
    let field_validation = match param(pairs, "fieldValidation") {
        None | Some("") | Some("Warn") => FieldValidation::Warn,
        Some("Strict") => FieldValidation::Strict,
        Some("Ignore") => FieldValidation::Ignore,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            )))
        }
    };
    Ok(WriteOptions {
        dry_run,
        field_manager: param(pairs, "fieldManager").map(String::from),
        force,
        field_validation,
        user_agent: header(headers, "user-agent").to_string(),
    })
}

fn route(
    st: &mut State,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Reply {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let accept = header(headers, "accept");
    let get = method == "GET";
    let not_found = || Reply::error(&ApiError::no_route());
    match segments.as_slice() {
        ["version"] if get => Reply::json(200, &discovery::version(&st.config.server_version)),
        ["healthz"] | ["readyz"] | ["livez"] if get => Reply {
            code: 200,
            content_type: "text/plain; charset=utf-8",
            body: b"ok".to_vec(),
            warnings: Vec::new(),
        },
        ["api"] | ["apis"] if get => {
            let core = segments[0] == "api";
            if st.config.aggregated_discovery && discovery::wants_aggregated(accept) {
                let mut r = Reply::json(200, &discovery::aggregated(&st.store.registry, core));
                r.content_type = discovery::AGGREGATED_CONTENT_TYPE;
                r
            } else if core {
                Reply::json(200, &discovery::legacy_core(&st.config.address))
            } else {
                Reply::json(200, &discovery::legacy_groups(&st.store.registry))
            }
        }
        ["api", v] if get => discovery::resource_list(&st.store.registry, "", v)
            .map(|d| Reply::json(200, &d))
            .unwrap_or_else(not_found),
        ["apis", g] if get => discovery::legacy_group(&st.store.registry, g)
            .map(|d| Reply::json(200, &d))
            .unwrap_or_else(not_found),
        ["apis", g, v] if get => discovery::resource_list(&st.store.registry, g, v)
            .map(|d| Reply::json(200, &d))
            .unwrap_or_else(not_found),
        ["openapi", "v3"] if get && st.config.openapi_v3 => {
            Reply::json(200, &discovery::openapi_index(&st.store.registry))
        }
        ["openapi", "v3", rest @ ..] if get && st.config.openapi_v3 => {
            discovery::openapi_document(&st.store.registry, &rest.join("/"))
                .map(|d| Reply::json(200, &d))
                .unwrap_or_else(not_found)
        }
        ["__double", "requests"] if get => Reply::json(
            200,
            &serde_json::to_value(&st.requests).unwrap_or(Value::Null),
        ),
        ["__double", "requests"] if method == "DELETE" => {
            st.requests.clear();
            Reply::json(200, &json!({}))
        }
        ["api", version, rest @ ..] => {
            resource(st, method, "", version, rest, query, headers, body)
        }
        ["apis", group, version, rest @ ..] => {
            resource(st, method, group, version, rest, query, headers, body)
        }
        _ => not_found(),
    }
}

/// Which object or collection a resource path names.
struct Target {
    rt: ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn resolve(st: &State, group: &str, version: &str, rest: &[&str]) -> Option<Target> {
    let reg = &st.store.registry;
    let find = |plural: &str| reg.by_resource(group, version, plural).cloned();
    let namespaced_form =
        rest.len() >= 3 && rest[0] == "namespaces" && find(rest[2]).is_some_and(|t| t.namespaced);
    let (namespace, tail) = if namespaced_form {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, sub) = match tail {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return None,
    };
    let rt = find(plural)?;
    // A namespaced type is reachable without a namespace only as an all-namespaces list.
    if rt.namespaced && namespace.is_none() && name.is_some() {
        return None;
    }
    if sub.as_deref().is_some_and(|s| s != "status" || !rt.status) {
        return None;
    }
    Some(Target {
        rt,
        namespace,
        name,
        subresource: sub,
    })
}

#[allow(clippy::too_many_arguments)]
fn resource(
    st: &mut State,
    method: &str,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Reply {
    let Some(t) = resolve(st, group, version, rest) else {
        return Reply::error(&ApiError::no_route());
    };
    let pairs = query_pairs(query);
    let mut opts = match write_options(&pairs, headers) {
        Ok(o) => o,
        Err(e) => return Reply::error(&e),
    };
    // A DELETE may carry its options as a DeleteOptions body (client-go and kube-rs send
    // `{"dryRun": ["All"], "propagationPolicy": …}` there); the API server reads both.
    if method == "DELETE" && !body.is_empty() {
        match serde_json::from_slice::<Value>(body) {
            Ok(o) => match o["dryRun"].as_array().map(|a| a.as_slice()) {
                None | Some([]) => {}
                Some([v]) if v == "All" => opts.dry_run = true,
                Some(other) => {
                    return Reply::error(&ApiError::bad_request(format!(
                        "dryRun: Unsupported value: {other:?}: supported values: \"All\""
                    )))
                }
            },
            Err(e) => {
                return Reply::error(&ApiError::bad_request(format!(
                    "the DeleteOptions body is not JSON: {e}"
                )))
            }
        }
    }
    let ns = t.namespace.as_deref();
    let store = &mut st.store;
    let sub = t.subresource.as_deref();
    if matches!(param(&pairs, "watch"), Some("true" | "1")) {
        return Reply::error(&ApiError::from_code(
            405,
            "watch is not supported by the API-server double",
        ));
    }
    let content_type = header(headers, "content-type");
    let parse = |body: &[u8]| -> Result<Value, ApiError> {
        // Typed clients send protobuf first; a 415 makes client-go fall back to JSON.
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if !matches!(media, "" | "application/json" | "application/yaml") {
            return Err(ApiError::unsupported_media_type(
                media,
                &["application/json", "application/yaml"],
            ));
        }
        serde_json::from_slice(body)
            .or_else(|_| {
                std::str::from_utf8(body)
                    .map_err(|e| e.to_string())
                    .and_then(crate::yaml::parse_one)
            })
            .map_err(|e| ApiError::bad_request(format!("the object provided is unrecognized: {e}")))
    };
    match (method, t.name.as_deref()) {
        ("GET", None) => {
            let limit = match param(&pairs, "limit").filter(|l| !l.is_empty()) {
                None => 0,
                Some(l) => match l.parse::<i64>() {
                    Ok(n) => usize::try_from(n).unwrap_or(0),
                    Err(_) => {
                        return Reply::error(&ApiError::bad_request(format!(
                            "limit: invalid value {l:?}: must be an integer"
                        )))
                    }
                },
            };
            let page = Page {
                limit,
                continue_from: param(&pairs, "continue").map(String::from),
            };
            Reply::from(store.list_page(
                &t.rt,
                ns,
                param(&pairs, "labelSelector"),
                param(&pairs, "fieldSelector"),
                &page,
            ))
        }
        ("POST", None) if t.rt.namespaced == ns.is_some() => match parse(body) {
            Ok(v) => store
                .create(&t.rt, ns, v, &opts)
                .map_or_else(|e| Reply::error(&e), Reply::written),
            Err(e) => Reply::error(&e),
        },
        ("DELETE", None) if t.rt.namespaced == ns.is_some() => {
            Reply::from(store.delete_collection(&t.rt, ns, param(&pairs, "labelSelector"), &opts))
        }
        ("GET", Some(name)) => Reply::from(store.get(&t.rt, ns, name)),
        ("PUT", Some(name)) => match parse(body) {
            Ok(v) => store
                .replace(&t.rt, ns, name, v, sub, &opts)
                .map_or_else(|e| Reply::error(&e), Reply::written),
            Err(e) => Reply::error(&e),
        },
        ("PATCH", Some(name)) => {
            let ct = header(headers, "content-type");
            match PatchType::from_content_type(ct) {
                Some(pt) => store
                    .patch(&t.rt, ns, name, pt, body, sub, &opts)
                    .map_or_else(|e| Reply::error(&e), Reply::written),
                None => Reply::error(&ApiError::unsupported_media_type(
                    ct,
                    &[
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/apply-patch+yaml",
                        "application/strategic-merge-patch+json",
                    ],
                )),
            }
        }
        ("DELETE", Some(name)) if sub.is_none() => {
            Reply::from(store.delete(&t.rt, ns, name, &opts))
        }
        _ => Reply::error(&ApiError::method_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let p = query_pairs("labelSelector=app%3Dweb%2Ctier+in+%28a%29&dryRun=All&x");
        assert_eq!(param(&p, "labelSelector"), Some("app=web,tier in (a)"));
        assert_eq!(param(&p, "dryRun"), Some("All"));
        assert_eq!(param(&p, "x"), Some(""));
        assert_eq!(percent_decode("100%"), "100%");
    }
}
