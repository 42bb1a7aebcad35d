//! The stateful heart of the double: objects by resource, namespace and name, and every write
//! path the API server has (create, update, the four patch types, delete), each running the
//! same pipeline as upstream: decode and identity checks, merge or patch, defaulting,
//! admission (NamespaceLifecycle, immutable fields, a little validation), field ownership,
//! metadata (uid, creationTimestamp, resourceVersion, generation), then persist unless dry-run.
//!
//! It speaks values and [`ApiError`]s, never HTTP (that is `server`).

use super::apply::{self, Manager};
use super::defaults;
use super::fields::Cursor;
use super::kinds::{Registry, ResourceType};
use super::patch;
use super::selector::{FieldSelector, LabelSelector};
use super::status::{self, ApiError, Cause};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};

/// `fieldValidation` of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Unknown fields fail the request (400).
    Strict,
    /// Unknown fields are reported in a `Warning` header (the server default).
    #[default]
    Warn,
    /// Unknown fields are dropped silently.
    Ignore,
}

/// The query options of a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: run everything, persist nothing.
    pub dry_run: bool,
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// `force` (apply only; `Some(false)` when sent as false).
    pub force: Option<bool>,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// The request's User-Agent, whose first word names the manager of non-apply writes that
    /// give no `fieldManager`.
    pub user_agent: String,
}

/// A successful write.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The object as stored (or as it would be, on dry-run).
    pub object: Value,
    /// 201 when the write created the object, else 200.
    pub code: u16,
    /// `Warning` header texts.
    pub warnings: Vec<String>,
}

/// Patch types by Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/apply-patch+yaml`.
    Apply,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/json-patch+json`.
    Json,
}

impl PatchType {
    /// The patch type of a Content-Type (parameters ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or_default().trim() {
            "application/apply-patch+yaml" => Some(PatchType::Apply),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/json-patch+json" => Some(PatchType::Json),
            _ => None,
        }
    }

    fn accepted(custom: bool) -> &'static [&'static str] {
        if custom {
            &[
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/apply-patch+yaml",
            ]
        } else {
            &[
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/apply-patch+yaml",
                "application/strategic-merge-patch+json",
            ]
        }
    }
}

/// Namespaces every cluster starts with.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-node-lease", "kube-public", "kube-system"];
/// Namespaces the server refuses to delete.
const UNDELETABLE: &[&str] = &["default", "kube-public", "kube-system"];

type Bucket = BTreeMap<(String, String), Value>;

/// Which page of a list (`limit` and `continue` of the request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Items at most (0: no limit).
    pub limit: usize,
    /// The `continue` token of the previous page.
    pub continue_from: Option<String>,
}

/// A `continue` token: opaque to clients (as the API server's), here the hex of
/// `{"rv": …, "start": [namespace, name]}`, the last key the previous page held.
fn continue_token(rv: u64, key: &(String, String)) -> String {
    let text = json!({"rv": rv, "start": [key.0, key.1]}).to_string();
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The last key of the previous page, from its `continue` token.
fn continue_key(token: &str) -> Option<(String, String)> {
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect();
    let v: Value = serde_json::from_slice(&bytes?).ok()?;
    let start = v["start"].as_array()?;
    match start.as_slice() {
        [Value::String(ns), Value::String(name)] => Some((ns.clone(), name.clone())),
        _ => None,
    }
}

/// The object store and everything that writes to it.
#[derive(Debug)]
pub struct Store {
    /// Served types (built-ins plus registered CRDs).
    pub registry: Registry,
    objects: BTreeMap<(String, String), Bucket>,
    rv: u64,
    next_ip: u32,
    next_node_port: u32,
    /// Fixed clock (seconds since the epoch) for reproducible timestamps; `None`: the system
    /// clock.
    pub fixed_time: Option<i64>,
    uids: std::collections::hash_map::RandomState,
    uid_counter: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(None)
    }
}

fn meta_str<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj["metadata"][key].as_str().unwrap_or_default()
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the body of the request is not UTF-8"))?;
    crate::yaml::parse_one(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// What a write of the status subresource leaves: the live object with `body`'s status (and
/// `body`'s resourceVersion, if any, as the write's precondition). Everything else is ignored.
fn status_written(live: &Value, body: &Value) -> Value {
    let mut n = without_managed_fields(live);
    n["status"] = body.get("status").cloned().unwrap_or(json!({}));
    if let Some(rv) = body["metadata"].get("resourceVersion") {
        n["metadata"]["resourceVersion"] = rv.clone();
    }
    n
}

fn without_managed_fields(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    o
}

/// The part of an object whose change bumps `generation`: `spec` for built-ins, everything but
/// metadata and status for custom resources.
fn generation_relevant(rt: &ResourceType, obj: &Value) -> Value {
    match obj {
        Value::Object(m) if rt.is_custom() || rt.kind == "CustomResourceDefinition" => {
            Value::Object(
                m.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        }
        _ => obj.get("spec").cloned().unwrap_or(Value::Null),
    }
}

fn invalid(rt: &ResourceType, name: &str, field: &str, reason: &str, message: String) -> ApiError {
    ApiError::invalid(
        &rt.group,
        &rt.kind,
        name,
        &[Cause {
            reason: reason.into(),
            message,
            field: field.into(),
        }],
    )
}

fn immutable(rt: &ResourceType, name: &str, field: &str, value: &Value) -> ApiError {
    invalid(
        rt,
        name,
        field,
        "FieldValueInvalid",
        format!("Invalid value: {value}: field is immutable"),
    )
}

impl Store {
    /// An empty cluster with the initial namespaces.
    pub fn new(fixed_time: Option<i64>) -> Self {
        let mut store = Store {
            registry: Registry::default(),
            objects: BTreeMap::new(),
            rv: 0,
            next_ip: 10,
            next_node_port: 30000,
            fixed_time,
            uids: std::collections::hash_map::RandomState::new(),
            uid_counter: 0,
        };
        let ns = store
            .registry
            .by_kind("v1", "Namespace")
            .cloned()
            .expect("built-in Namespace");
        let opts = WriteOptions {
            field_manager: Some("kube-apiserver".into()),
            ..WriteOptions::default()
        };
        for name in INITIAL_NAMESPACES {
            let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            // Creating a fresh namespace in an empty store cannot fail.
            let _ = store.create(&ns, None, body, &opts);
        }
        store
    }

    /// The current resourceVersion (the last one handed out).
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    fn now(&self) -> String {
        let secs = self.fixed_time.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
        crate::time::rfc3339(secs)
    }

    fn new_uid(&mut self) -> String {
        self.uid_counter += 1;
        let mut h1 = self.uids.build_hasher();
        h1.write_u64(self.uid_counter);
        let a = h1.finish();
        let mut h2 = self.uids.build_hasher();
        h2.write_u64(a ^ 0x9e37_79b9_7f4a_7c15);
        let b = h2.finish();
        let bytes: Vec<u8> = a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect();
        let hex: String = bytes
            .iter()
            .enumerate()
            .map(|(i, byte)| match i {
                6 => format!("{:02x}", (byte & 0x0f) | 0x40),
                8 => format!("{:02x}", (byte & 0x3f) | 0x80),
                _ => format!("{byte:02x}"),
            })
            .collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    fn bucket(&self, rt: &ResourceType) -> Option<&Bucket> {
        self.objects.get(&rt.storage_key())
    }

    fn lookup(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.bucket(rt)?
            .get(&(ns.unwrap_or_default().to_string(), name.to_string()))
    }

    /// Whether namespace `name` exists.
    pub fn namespace_exists(&self, name: &str) -> bool {
        self.objects
            .get(&(String::new(), "namespaces".to_string()))
            .is_some_and(|b| b.contains_key(&(String::new(), name.to_string())))
    }

    /// An object as served at `rt`'s version.
    fn present(rt: &ResourceType, obj: &Value) -> Value {
        let mut o = obj.clone();
        if o["apiVersion"] != rt.api_version().as_str() {
            o["apiVersion"] = json!(rt.api_version());
        }
        o
    }

    /// GET one object.
    pub fn get(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        self.lookup(rt, ns, name)
            .map(|o| Self::present(rt, o))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    /// GET a collection (`ns` None: all namespaces, or a cluster-scoped type), whole.
    pub fn list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Value, ApiError> {
        self.list_page(rt, ns, label_selector, field_selector, &Page::default())
    }

    /// GET a collection one page at a time, as the API server chunks a list: at most
    /// `page.limit` items (0: all), in key order (namespace, then name), from where
    /// `page.continue_from` says; `metadata.continue` holds the token for the rest, and
    /// `metadata.remainingItemCount` how many are left when no selector filters them.
    ///
    /// Unlike the API server (which serves every page from the snapshot of the first one), a
    /// later page shows the store as it is now: objects written between pages may show up.
    pub fn list_page(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
        page: &Page,
    ) -> Result<Value, ApiError> {
        let labels = LabelSelector::parse(label_selector.unwrap_or_default())
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(field_selector.unwrap_or_default())
            .map_err(ApiError::bad_request)?;
        let start = match page.continue_from.as_deref() {
            None | Some("") => None,
            Some(token) => Some(continue_key(token).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "continue key is not valid: {token:?} is not a continue token of this server"
                ))
            })?),
        };
        let mut matching = self
            .bucket(rt)
            .into_iter()
            .flat_map(|b| match &start {
                Some(k) => Box::new(b.range((
                    std::ops::Bound::Excluded(k.clone()),
                    std::ops::Bound::Unbounded,
                ))) as Box<dyn Iterator<Item = _>>,
                None => Box::new(b.iter()),
            })
            .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
            .filter(|(_, o)| labels.matches(o) && fields.matches(o));
        let limit = if page.limit == 0 {
            usize::MAX
        } else {
            page.limit
        };
        let mut items = Vec::new();
        let mut last = None;
        for (key, o) in matching.by_ref().take(limit) {
            items.push(Self::present(rt, o));
            last = Some(key.clone());
        }
        let remaining = matching.count();
        let mut metadata = json!({"resourceVersion": self.rv.to_string()});
        if let (true, Some(key)) = (remaining > 0, last) {
            metadata["continue"] = json!(continue_token(self.rv, &key));
            if label_selector.unwrap_or_default().is_empty()
                && field_selector.unwrap_or_default().is_empty()
            {
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        Ok(json!({
            "apiVersion": rt.api_version(),
            "items": items,
            "kind": format!("{}List", rt.kind),
            "metadata": metadata,
        }))
    }

    /// Checks and fills the identity of a request body against the URL.
    fn identity(
        rt: &ResourceType,
        ns: Option<&str>,
        name: Option<&str>,
        body: &mut Value,
    ) -> Result<(), ApiError> {
        let Value::Object(m) = body else {
            return Err(ApiError::bad_request(
                "the object provided is unrecognized (must be a JSON or YAML object)",
            ));
        };
        let expected = rt.api_version();
        match m.get("apiVersion").and_then(Value::as_str) {
            Some(v) if v != expected => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version ({expected})"
                )))
            }
            _ => {}
        }
        match m.get("kind").and_then(Value::as_str) {
            Some(k) if k != rt.kind => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    rt.kind
                )))
            }
            _ => {}
        }
        m.insert("apiVersion".into(), json!(expected));
        m.insert("kind".into(), json!(rt.kind));
        if !m.get("metadata").is_some_and(Value::is_object) {
            m.insert("metadata".into(), json!({}));
        }
        let meta = m["metadata"].as_object_mut().expect("made an object above");
        if let Some(url_name) = name {
            match meta.get("name").and_then(Value::as_str) {
                Some(n) if !n.is_empty() && n != url_name => {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({n}) does not match the name on the URL ({url_name})"
                    )))
                }
                _ => {
                    meta.insert("name".into(), json!(url_name));
                }
            }
        }
        if rt.namespaced {
            let url_ns = ns.unwrap_or_default();
            match meta.get("namespace").and_then(Value::as_str) {
                Some(n) if !n.is_empty() && n != url_ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
                _ => {
                    meta.insert("namespace".into(), json!(url_ns));
                }
            }
        } else {
            meta.remove("namespace");
        }
        Ok(())
    }

    /// Unknown top-level fields of a built-in kind, handled per `fieldValidation`.
    fn validate_fields(
        rt: &ResourceType,
        body: &mut Value,
        mode: FieldValidation,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let (Some(allowed), Value::Object(m)) = (rt.top_fields, &mut *body) else {
            return Ok(());
        };
        let unknown: Vec<String> = m
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .cloned()
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        match mode {
            FieldValidation::Strict => Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                rt.kind,
                rt.version,
                rt.kind,
                unknown
                    .iter()
                    .map(|k| format!("unknown field \"{k}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            FieldValidation::Warn | FieldValidation::Ignore => {
                for k in &unknown {
                    m.shift_remove(k);
                    if mode == FieldValidation::Warn {
                        warnings.push(format!("unknown field \"{k}\""));
                    }
                }
                Ok(())
            }
        }
    }

    fn manager_for_update(opts: &WriteOptions) -> Result<String, ApiError> {
        let name = match &opts.field_manager {
            Some(m) if !m.is_empty() => m.clone(),
            _ => {
                let ua = opts.user_agent.split('/').next().unwrap_or_default();
                ua.chars().take(128).collect()
            }
        };
        Self::check_manager_length(&name)?;
        Ok(name)
    }

    fn check_manager_length(name: &str) -> Result<(), ApiError> {
        if name.chars().count() > 128 {
            return Err(options_invalid(
                "fieldManager",
                "FieldValueTooLong",
                "Too long: may not be more than 128 bytes",
            ));
        }
        Ok(())
    }

    fn cursor(rt: &ResourceType) -> Cursor<'_> {
        Cursor::root(rt.schema.as_ref().filter(|s| !s.is_null()))
    }

    /// POST: creates an object.
    pub fn create(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        mut body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        Self::identity(rt, ns, None, &mut body)?;
        let mut warnings = Vec::new();
        Self::validate_fields(rt, &mut body, opts.field_validation, &mut warnings)?;
        if meta_str(&body, "name").is_empty() {
            let prefix = meta_str(&body, "generateName").to_string();
            if prefix.is_empty() {
                return Err(invalid(
                    rt,
                    "",
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required".into(),
                ));
            }
            let suffix: String = self
                .new_uid()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(5)
                .collect();
            body["metadata"]["name"] = json!(format!("{prefix}{suffix}"));
        }
        let name = meta_str(&body, "name").to_string();
        if self.lookup(rt, ns, &name).is_some() {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        let mut w = self.commit(rt, ns, &name, None, body, None, false, opts)?;
        w.warnings.splice(0..0, warnings);
        Ok(w)
    }

    /// PUT: replaces an object (or its status, for `subresource` "status").
    pub fn replace(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        mut body: Value,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        Self::identity(rt, ns, Some(name), &mut body)?;
        let mut warnings = Vec::new();
        Self::validate_fields(rt, &mut body, opts.field_validation, &mut warnings)?;
        let live = self
            .lookup(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        let new = if subresource == Some("status") {
            status_written(&live, &body)
        } else {
            body
        };
        let status_write = subresource == Some("status");
        let mut w = self.commit(rt, ns, name, Some(live), new, None, status_write, opts)?;
        w.warnings.splice(0..0, warnings);
        Ok(w)
    }

    /// PATCH of any type.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        patch_type: PatchType,
        body: &[u8],
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if patch_type == PatchType::Apply {
            if subresource.is_some() {
                return Err(ApiError::method_not_allowed());
            }
            return self.apply(rt, ns, name, body, opts);
        }
        if opts.force.is_some() {
            return Err(options_invalid(
                "force",
                "FieldValueForbidden",
                "Forbidden: may not be specified for non-apply patch",
            ));
        }
        if patch_type == PatchType::Strategic && rt.is_custom() {
            return Err(ApiError::unsupported_media_type(
                "application/strategic-merge-patch+json",
                PatchType::accepted(true),
            ));
        }
        let live = self
            .lookup(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        let patch_value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
        let mut patched = without_managed_fields(&live);
        match patch_type {
            PatchType::Merge => patch::merge_patch(&mut patched, &patch_value),
            PatchType::Strategic => {
                patch::strategic_merge_patch(&mut patched, &patch_value, Self::cursor(rt))
                    .map_err(ApiError::bad_request)?
            }
            PatchType::Json => patch::json_patch(&mut patched, &patch_value).map_err(|e| {
                ApiError::from_code(
                    422,
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?,
            PatchType::Apply => unreachable!("handled above"),
        }
        if let Some(m) = patched["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
        Self::identity(rt, ns, Some(name), &mut patched)?;
        let mut warnings = Vec::new();
        Self::validate_fields(rt, &mut patched, opts.field_validation, &mut warnings)?;
        let new = if subresource == Some("status") {
            status_written(&live, &patched)
        } else {
            patched
        };
        let status_write = subresource == Some("status");
        let mut w = self.commit(rt, ns, name, Some(live), new, None, status_write, opts)?;
        w.warnings.splice(0..0, warnings);
        Ok(w)
    }

    /// Server-side apply (PATCH with `application/apply-patch+yaml`); creates the object when
    /// it does not exist.
    pub fn apply(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        body: &[u8],
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let manager = match &opts.field_manager {
            Some(m) if !m.is_empty() => m.clone(),
            _ => {
                return Err(options_invalid(
                    "fieldManager",
                    "FieldValueRequired",
                    "Required value: is required for apply patch",
                ))
            }
        };
        Self::check_manager_length(&manager)?;
        let mut config = parse_body(body)?;
        if !config.is_object() {
            return Err(ApiError::bad_request(
                "the object provided is unrecognized (must be a JSON or YAML object)",
            ));
        }
        if config["metadata"]["managedFields"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        apply::drop_nulls(&mut config);
        Self::identity(rt, ns, Some(name), &mut config)?;
        let mut warnings = Vec::new();
        Self::validate_fields(rt, &mut config, opts.field_validation, &mut warnings)?;
        // Server-set metadata in an applied configuration is ignored; a resourceVersion is a
        // precondition, checked in commit.
        let mut precondition = None;
        if let Some(m) = config["metadata"].as_object_mut() {
            for server_set in ["uid", "creationTimestamp", "generation", "managedFields"] {
                m.remove(server_set);
            }
            precondition = m.remove("resourceVersion");
        }
        if rt.status {
            if let Some(m) = config.as_object_mut() {
                m.remove("status");
            }
        }
        let live = self.lookup(rt, ns, name).cloned();
        let live_body = match &live {
            Some(l) => without_managed_fields(l),
            None => {
                let mut base = json!({"apiVersion": rt.api_version(), "kind": rt.kind, "metadata": {"name": name}});
                if let Some(ns) = ns.filter(|_| rt.namespaced) {
                    base["metadata"]["namespace"] = json!(ns);
                }
                base
            }
        };
        let managers = live
            .as_ref()
            .map(apply::decode_managers)
            .unwrap_or_default();
        let now = self.now();
        let ignored = apply::ignored_paths(rt.status);
        let api_version = rt.api_version();
        let req = apply::Request {
            manager: &manager,
            api_version: &api_version,
            force: opts.force.unwrap_or(false),
            now: &now,
            ignored: &ignored,
            cursor: Self::cursor(rt),
        };
        let outcome = apply::apply(&live_body, &config, managers, &req)?;
        let mut new = outcome.object;
        if let Some(rv) = precondition {
            new["metadata"]["resourceVersion"] = rv;
        } else if let Some(l) = &live {
            new["metadata"]["resourceVersion"] = l["metadata"]["resourceVersion"].clone();
        }
        let mut w = self.commit(rt, ns, name, live, new, Some(outcome.managers), false, opts)?;
        w.warnings.splice(0..0, warnings);
        Ok(w)
    }

    /// The common tail of every write: defaulting, admission, ownership, metadata, persist.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        live: Option<Value>,
        mut new: Value,
        managers: Option<Vec<Manager>>,
        status_write: bool,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let ns = if rt.namespaced { ns } else { None };
        if let Some(m) = new["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
        // Precondition: a resourceVersion in the request must match the live one.
        if let Some(l) = &live {
            let sent = meta_str(&new, "resourceVersion");
            if !sent.is_empty() && sent != meta_str(l, "resourceVersion") {
                return Err(ApiError::stale(&rt.group, &rt.plural, name));
            }
        }
        // Main-resource writes never change status of types with a status subresource (a write
        // of the status subresource, `status_written`, changes nothing else).
        if rt.status && !status_write {
            let status = live.as_ref().and_then(|l| l.get("status").cloned());
            if let Some(m) = new.as_object_mut() {
                match status {
                    Some(s) => {
                        m.insert("status".into(), s);
                    }
                    None => {
                        m.remove("status");
                    }
                }
            }
        }
        // Server-set metadata comes from the live object, never from the request.
        let uid = match &live {
            Some(l) => meta_str(l, "uid").to_string(),
            None => self.new_uid(),
        };
        let now = self.now();
        if let Some(m) = new["metadata"].as_object_mut() {
            for key in [
                "uid",
                "creationTimestamp",
                "generation",
                "resourceVersion",
                "selfLink",
            ] {
                m.remove(key);
            }
        }
        if live.is_none() {
            self.prepare_for_create(rt, name, &uid, &mut new);
        }
        defaults::apply(&rt.group, &rt.kind, &mut new);
        self.allocate(rt, live.as_ref(), &mut new, opts.dry_run);
        self.admit(rt, ns, name, live.as_ref(), &new)?;

        // Ownership.
        let live_body = live.as_ref().map(without_managed_fields);
        let old_managers = live
            .as_ref()
            .map(apply::decode_managers)
            .unwrap_or_default();
        let mut managers = match managers {
            Some(m) => m,
            None => {
                let manager = Self::manager_for_update(opts)?;
                let ignored = apply::ignored_paths(rt.status);
                let api_version = rt.api_version();
                let compare_live = live_body.as_ref().map(strip_server_meta);
                let req = apply::Request {
                    manager: &manager,
                    api_version: &api_version,
                    force: true,
                    now: &now,
                    ignored: &ignored,
                    cursor: Self::cursor(rt),
                };
                apply::update(
                    compare_live.as_ref(),
                    &strip_server_meta(&new),
                    old_managers.clone(),
                    &req,
                )
            }
        };
        let changed = live_body
            .as_ref()
            .is_none_or(|l| strip_server_meta(l) != strip_server_meta(&new));
        if !changed {
            apply::keep_times(&mut managers, &old_managers);
        }

        // Metadata, in upstream key order.
        let generation = rt.generation.then(|| match &live {
            None => 1,
            Some(l) => {
                let g = l["metadata"]["generation"].as_i64().unwrap_or(1);
                if generation_relevant(rt, l) != generation_relevant(rt, &new) {
                    g + 1
                } else {
                    g
                }
            }
        });
        let created = live
            .as_ref()
            .map(|l| l["metadata"]["creationTimestamp"].clone())
            .unwrap_or_else(|| json!(now));
        {
            let meta = new["metadata"]
                .as_object_mut()
                .expect("identity made metadata");
            meta.insert("creationTimestamp".into(), created);
            if let Some(g) = generation {
                meta.insert("generation".into(), json!(g));
            }
            if !managers.is_empty() {
                meta.insert("managedFields".into(), apply::encode_managers(&managers));
            }
            meta.insert("uid".into(), json!(uid));
        }
        sort_metadata(&mut new);
        if (rt.group.as_str(), rt.kind.as_str())
            == ("apiextensions.k8s.io", "CustomResourceDefinition")
        {
            self.establish_crd(rt, name, &mut new, opts.dry_run)?;
        }

        if let Some(l) = &live {
            let mut same = new.clone();
            same["metadata"]["resourceVersion"] = l["metadata"]["resourceVersion"].clone();
            sort_metadata(&mut same);
            if &same == l {
                return Ok(Written {
                    object: Self::present(rt, l),
                    code: 200,
                    warnings: Vec::new(),
                });
            }
        }
        if opts.dry_run {
            if let Some(l) = &live {
                new["metadata"]["resourceVersion"] = l["metadata"]["resourceVersion"].clone();
            }
        } else {
            self.rv += 1;
            new["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        }
        sort_metadata(&mut new);
        if !opts.dry_run {
            self.objects.entry(rt.storage_key()).or_default().insert(
                (ns.unwrap_or_default().to_string(), name.to_string()),
                new.clone(),
            );
        }
        Ok(Written {
            object: Self::present(rt, &new),
            code: if live.is_none() { 201 } else { 200 },
            warnings: Vec::new(),
        })
    }

    /// What the API server's create strategies do before defaulting (Job selectors).
    fn prepare_for_create(&self, rt: &ResourceType, name: &str, uid: &str, new: &mut Value) {
        if (rt.group.as_str(), rt.kind.as_str()) == ("batch", "Job")
            && new["spec"]["manualSelector"] != Value::Bool(true)
            && new["spec"].is_object()
        {
            new["spec"]["selector"] =
                json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
            let labels = &mut new["spec"]["template"]["metadata"]["labels"];
            if !labels.is_object() {
                *labels = json!({});
            }
            for (k, v) in [
                ("batch.kubernetes.io/controller-uid", uid),
                ("batch.kubernetes.io/job-name", name),
                ("controller-uid", uid),
                ("job-name", name),
            ] {
                labels[k] = json!(v);
            }
        }
    }

    /// Values the server allocates: Service cluster IPs and node ports (kept across updates).
    fn allocate(
        &mut self,
        rt: &ResourceType,
        live: Option<&Value>,
        new: &mut Value,
        dry_run: bool,
    ) {
        if (rt.group.as_str(), rt.kind.as_str()) != ("", "Service") {
            return;
        }
        let spec = &mut new["spec"];
        if spec["type"] == "ExternalName" {
            return;
        }
        let unset = |v: &Value| v.as_str().is_none_or(str::is_empty);
        if unset(&spec["clusterIP"]) {
            match live.map(|l| &l["spec"]).filter(|s| !unset(&s["clusterIP"])) {
                Some(old) => {
                    spec["clusterIP"] = old["clusterIP"].clone();
                    spec["clusterIPs"] = old["clusterIPs"].clone();
                }
                None => {
                    let n = self.next_ip;
                    if !dry_run {
                        self.next_ip += 1;
                    }
                    spec["clusterIP"] = json!(format!("10.96.{}.{}", n / 256, n % 256));
                }
            }
        }
        if spec.get("clusterIPs").is_none_or(Value::is_null) {
            spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
        }
        if spec["clusterIP"] != "None" {
            if spec.get("ipFamilies").is_none() {
                spec["ipFamilies"] = json!(["IPv4"]);
            }
            if spec.get("ipFamilyPolicy").is_none() {
                spec["ipFamilyPolicy"] = json!("SingleStack");
            }
        }
        if matches!(spec["type"].as_str(), Some("NodePort" | "LoadBalancer")) {
            let old_ports: Vec<Value> = live
                .and_then(|l| l["spec"]["ports"].as_array().cloned())
                .unwrap_or_default();
            if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                for p in ports {
                    if p.get("nodePort").is_some() {
                        continue;
                    }
                    let kept = old_ports
                        .iter()
                        .find(|o| o["port"] == p["port"] && o["protocol"] == p["protocol"])
                        .and_then(|o| o.get("nodePort").cloned());
                    let port = kept.unwrap_or_else(|| {
                        let n = self.next_node_port;
                        if !dry_run {
                            self.next_node_port += 1;
                        }
                        json!(n)
                    });
                    p["nodePort"] = port;
                }
            }
        }
    }

    /// Admission and validation: NamespaceLifecycle, immutable fields, required fields.
    fn admit(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        live: Option<&Value>,
        new: &Value,
    ) -> Result<(), ApiError> {
        if rt.namespaced && live.is_none() {
            let ns = ns.unwrap_or_default();
            if !self.namespace_exists(ns) {
                return Err(ApiError::namespace_not_found(ns));
            }
        }
        let workload = rt.group == "apps"
            && matches!(
                rt.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
            );
        if workload {
            validate_workload(rt, name, new)?;
        }
        let Some(live) = live else {
            return Ok(());
        };
        let same = |path: &str| new.pointer(path) == live.pointer(path);
        let check = |path: &str, field: &str| -> Result<(), ApiError> {
            if same(path) {
                Ok(())
            } else {
                Err(immutable(
                    rt,
                    name,
                    field,
                    new.pointer(path).unwrap_or(&Value::Null),
                ))
            }
        };
        match (rt.group.as_str(), rt.kind.as_str()) {
            ("", "Service")
                if live["spec"]["type"] != "ExternalName"
                    && new["spec"]["type"] != "ExternalName" =>
            {
                check("/spec/clusterIP", "spec.clusterIP")?
            }
            ("batch", "Job") => {
                check("/spec/selector", "spec.selector")?;
                check("/spec/template", "spec.template")?;
                check("/spec/completionMode", "spec.completionMode")?;
            }
            ("apps", "StatefulSet") => {
                check("/spec/selector", "spec.selector")?;
                for (p, f) in [
                    ("/spec/serviceName", "serviceName"),
                    ("/spec/volumeClaimTemplates", "volumeClaimTemplates"),
                    ("/spec/podManagementPolicy", "podManagementPolicy"),
                ] {
                    if !same(p) {
                        return Err(invalid(
                            rt,
                            name,
                            "spec",
                            "FieldValueForbidden",
                            format!("Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden (changed: {f})"),
                        ));
                    }
                }
            }
            _ if workload => check("/spec/selector", "spec.selector")?,
            ("", "ConfigMap" | "Secret") if live["immutable"] == Value::Bool(true) => {
                for f in ["data", "binaryData"] {
                    if !same(&format!("/{f}")) {
                        return Err(invalid(
                            rt,
                            name,
                            f,
                            "FieldValueForbidden",
                            "Forbidden: field is immutable when `immutable` is set".into(),
                        ));
                    }
                }
            }
            ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
                check("/roleRef", "roleRef")?
            }
            _ => {}
        }
        if (rt.group.as_str(), rt.kind.as_str()) == ("", "Secret") {
            check("/type", "type")?;
        }
        Ok(())
    }

    /// Registers a created or updated CRD and fills its status; refuses unusable CRDs.
    fn establish_crd(
        &mut self,
        rt: &ResourceType,
        name: &str,
        crd: &mut Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let mut probe = self.registry.clone();
        probe
            .register_crd(crd)
            .map_err(|e| invalid(rt, name, "spec", "FieldValueInvalid", e))?;
        let names = crd["spec"]["names"].clone();
        let stored: Vec<Value> = crd["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["storage"] == Value::Bool(true))
            .map(|v| v["name"].clone())
            .collect();
        let when = crd["metadata"]["creationTimestamp"].clone();
        crd["status"] = json!({
            "acceptedNames": names,
            "conditions": [
                {"lastTransitionTime": when, "message": "no conflicts found", "reason": "NoConflicts", "status": "True", "type": "NamesAccepted"},
                {"lastTransitionTime": when, "message": "the initial names have been accepted", "reason": "InitialNamesAccepted", "status": "True", "type": "Established"}
            ],
            "storedVersions": stored,
        });
        if !dry_run {
            self.registry = probe;
        }
        Ok(())
    }

    /// DELETE one object; namespaces take their objects with them, CRDs their kind.
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let ns = if rt.namespaced { ns } else { None };
        let live = self
            .lookup(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        if (rt.group.as_str(), rt.kind.as_str()) == ("", "Namespace") && UNDELETABLE.contains(&name)
        {
            return Err(ApiError::from_code(
                403,
                format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"),
            ));
        }
        let done = status::success(&rt.group, &rt.plural, name, meta_str(&live, "uid"));
        if opts.dry_run {
            return Ok(done);
        }
        if let Some(b) = self.objects.get_mut(&rt.storage_key()) {
            b.remove(&(ns.unwrap_or_default().to_string(), name.to_string()));
        }
        match (rt.group.as_str(), rt.kind.as_str()) {
            ("", "Namespace") => {
                for bucket in self.objects.values_mut() {
                    bucket.retain(|(n, _), _| n != name);
                }
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                if let Ok(types) = super::kinds::crd_types(&live) {
                    for t in types {
                        self.objects.remove(&t.storage_key());
                    }
                }
                self.registry.unregister_crd(name);
            }
            _ => {}
        }
        self.rv += 1;
        Ok(done)
    }

    /// DELETE a collection (objects matching the label selector).
    pub fn delete_collection(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        label_selector: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let list = self.list(rt, ns, label_selector, None)?;
        for item in list["items"].as_array().into_iter().flatten() {
            let item_ns = item["metadata"]["namespace"].as_str();
            let item_name = meta_str(item, "name").to_string();
            self.delete(rt, item_ns, &item_name, opts)?;
        }
        Ok(list)
    }

    /// Creates or applies seed objects as `manager` (namespaces and CRDs first; namespaces
    /// that seed objects live in are created when missing).
    pub fn seed(&mut self, objects: &[Value], manager: &str) -> Result<(), ApiError> {
        let rank = |o: &Value| match o["kind"].as_str() {
            Some("Namespace") => 0,
            Some("CustomResourceDefinition") => 1,
            _ => 2,
        };
        let mut sorted: Vec<&Value> = objects
            .iter()
            .flat_map(|o| match (o["kind"].as_str(), o["items"].as_array()) {
                (Some(k), Some(items)) if k.ends_with("List") => items.iter().collect(),
                _ => vec![o],
            })
            .collect();
        sorted.sort_by_key(|o| rank(o));
        let opts = WriteOptions {
            field_manager: Some(manager.to_string()),
            force: Some(true),
            ..WriteOptions::default()
        };
        for obj in sorted {
            let api_version = obj["apiVersion"].as_str().unwrap_or_default();
            let kind = obj["kind"].as_str().unwrap_or_default();
            let rt = self
                .registry
                .by_kind(api_version, kind)
                .cloned()
                .ok_or_else(|| {
                    ApiError::bad_request(format!("seed: no type {api_version} {kind} is served"))
                })?;
            let name = meta_str(obj, "name").to_string();
            let ns = rt.namespaced.then(|| {
                let n = meta_str(obj, "namespace");
                if n.is_empty() { "default" } else { n }.to_string()
            });
            if let Some(n) = &ns {
                if !self.namespace_exists(n) {
                    let ns_type = self
                        .registry
                        .by_kind("v1", "Namespace")
                        .cloned()
                        .expect("built-in");
                    let body =
                        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}});
                    self.create(&ns_type, None, body, &opts)?;
                }
            }
            let body = serde_json::to_vec(obj).expect("JSON values serialize");
            self.apply(&rt, ns.as_deref(), &name, &body, &opts)?;
        }
        Ok(())
    }
}

/// The object without server-set metadata (what Update ownership compares).
fn strip_server_meta(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o["metadata"].as_object_mut() {
        for key in [
            "uid",
            "creationTimestamp",
            "generation",
            "resourceVersion",
            "managedFields",
            "selfLink",
        ] {
            m.remove(key);
        }
    }
    o
}

/// Orders `metadata` keys alphabetically, as the API server's JSON encoding does.
fn sort_metadata(obj: &mut Value) {
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        let mut entries: Vec<(String, Value)> = std::mem::take(meta).into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        *meta = entries.into_iter().collect::<Map<String, Value>>();
    }
}

/// 422 for invalid request options (`PatchOptions.meta.k8s.io "" is invalid: …`).
fn options_invalid(field: &str, reason: &str, message: &str) -> ApiError {
    ApiError::invalid(
        "meta.k8s.io",
        "PatchOptions",
        "",
        &[Cause {
            reason: reason.into(),
            message: message.into(),
            field: field.into(),
        }],
    )
}

/// apps/v1 workloads: a selector that matches the template's labels, containers with images.
fn validate_workload(rt: &ResourceType, name: &str, obj: &Value) -> Result<(), ApiError> {
    let selector = &obj["spec"]["selector"];
    if !selector.is_object() {
        return Err(invalid(
            rt,
            name,
            "spec.selector",
            "FieldValueRequired",
            "Required value".into(),
        ));
    }
    let labels = &obj["spec"]["template"]["metadata"]["labels"];
    if let Some(want) = selector["matchLabels"].as_object() {
        if want.iter().any(|(k, v)| labels.get(k) != Some(v)) {
            return Err(invalid(
                rt,
                name,
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                format!("Invalid value: {labels}: `selector` does not match template `labels`"),
            ));
        }
    }
    let containers = obj["spec"]["template"]["spec"]["containers"].as_array();
    if containers.is_none_or(Vec::is_empty) {
        return Err(invalid(
            rt,
            name,
            "spec.template.spec.containers",
            "FieldValueRequired",
            "Required value".into(),
        ));
    }
    for (i, c) in containers.into_iter().flatten().enumerate() {
        if c["image"].as_str().is_none_or(str::is_empty) {
            return Err(invalid(
                rt,
                name,
                &format!("spec.template.spec.containers[{i}].image"),
                "FieldValueRequired",
                "Required value".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(manager: &str) -> WriteOptions {
        WriteOptions {
            field_manager: Some(manager.into()),
            ..WriteOptions::default()
        }
    }

    fn store() -> (Store, ResourceType, ResourceType) {
        let s = Store::new(Some(1_700_000_000));
        let cm = s.registry.by_kind("v1", "ConfigMap").unwrap().clone();
        let deploy = s.registry.by_kind("apps/v1", "Deployment").unwrap().clone();
        (s, cm, deploy)
    }

    #[test]
    fn lists_come_in_pages() {
        let (mut s, cm, _) = store();
        for (ns, name) in [
            ("default", "c"),
            ("default", "a"),
            ("kube-public", "b"),
            ("default", "b"),
        ] {
            let o = json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": name, "namespace": ns, "labels": {"x": name}}});
            s.create(&cm, Some(ns), o, &opts("t")).unwrap();
        }
        let names = |l: &Value| -> Vec<String> {
            l["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
                .collect()
        };
        let page = |limit, continue_from: Option<&Value>| Page {
            limit,
            continue_from: continue_from.and_then(Value::as_str).map(String::from),
        };
        // Two at a time in the namespace: a, b, then c with no further token.
        let first = s
            .list_page(&cm, Some("default"), None, None, &page(2, None))
            .unwrap();
        assert_eq!(names(&first), ["a", "b"]);
        assert_eq!(first["metadata"]["remainingItemCount"], 1);
        let token = &first["metadata"]["continue"];
        let second = s
            .list_page(&cm, Some("default"), None, None, &page(2, Some(token)))
            .unwrap();
        assert_eq!(names(&second), ["c"]);
        assert!(second["metadata"].get("continue").is_none());
        // Every namespace, with a selector: no remaining count; limit 0 is everything.
        let all = s
            .list_page(&cm, None, Some("x!=a"), None, &page(1, None))
            .unwrap();
        assert_eq!(names(&all), ["b"]);
        assert!(all["metadata"].get("remainingItemCount").is_none());
        let rest = s
            .list_page(
                &cm,
                None,
                Some("x!=a"),
                None,
                &page(0, Some(&all["metadata"]["continue"])),
            )
            .unwrap();
        assert_eq!(names(&rest), ["c", "b"]);
        let e = s
            .list_page(&cm, None, None, None, &page(1, Some(&json!("zz"))))
            .unwrap_err();
        assert_eq!(e.code, 400);
    }

    fn deployment(replicas: i64) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}
        }))
        .unwrap()
    }

    #[test]
    fn create_sets_server_metadata_and_counts_versions() {
        let (mut s, cm, _) = store();
        let before = s.resource_version();
        let w = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "a"}, "data": {"k": "v"}}),
                &opts("t"),
            )
            .unwrap();
        assert_eq!(w.code, 201);
        let m = &w.object["metadata"];
        assert_eq!(m["resourceVersion"], json!((before + 1).to_string()));
        assert_eq!(m["uid"].as_str().unwrap().len(), 36);
        assert_eq!(m["creationTimestamp"], "2023-11-14T22:13:20Z");
        assert!(m.get("generation").is_none());
        assert_eq!(
            m["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:k": {}}})
        );
        let again = s.create(
            &cm,
            Some("default"),
            json!({"metadata": {"name": "a"}}),
            &opts("t"),
        );
        assert_eq!(again.unwrap_err().reason, "AlreadyExists");
    }

    #[test]
    fn dry_run_never_persists_nor_counts() {
        let (mut s, cm, deploy) = store();
        let rv = s.resource_version();
        let dry = WriteOptions {
            dry_run: true,
            ..opts("t")
        };
        let w = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "a"}}),
                &dry,
            )
            .unwrap();
        assert!(w.object["metadata"].get("resourceVersion").is_none());
        assert!(w.object["metadata"]["uid"].is_string());
        assert!(s.get(&cm, Some("default"), "a").is_err());
        assert_eq!(s.resource_version(), rv);

        s.apply(&deploy, Some("default"), "web", &deployment(1), &opts("a"))
            .unwrap();
        let live = s.get(&deploy, Some("default"), "web").unwrap();
        let w = s
            .apply(
                &deploy,
                Some("default"),
                "web",
                &deployment(3),
                &WriteOptions {
                    dry_run: true,
                    ..opts("a")
                },
            )
            .unwrap();
        assert_eq!(w.object["spec"]["replicas"], 3);
        assert_eq!(
            w.object["metadata"]["resourceVersion"],
            live["metadata"]["resourceVersion"]
        );
        assert_eq!(w.object["metadata"]["generation"], 2);
        assert_eq!(s.get(&deploy, Some("default"), "web").unwrap(), live);
    }

    #[test]
    fn apply_defaults_and_is_idempotent() {
        let (mut s, _, deploy) = store();
        let first = s
            .apply(&deploy, Some("default"), "web", &deployment(2), &opts("a"))
            .unwrap();
        assert_eq!(first.code, 201);
        assert_eq!(first.object["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(first.object["metadata"]["generation"], 1);
        let rv = s.resource_version();
        let again = s
            .apply(&deploy, Some("default"), "web", &deployment(2), &opts("a"))
            .unwrap();
        assert_eq!(again.code, 200);
        assert_eq!(again.object, first.object);
        assert_eq!(s.resource_version(), rv);
    }

    #[test]
    fn admission_errors() {
        let (mut s, cm, deploy) = store();
        let e = s
            .create(
                &cm,
                Some("nope"),
                json!({"metadata": {"name": "a"}}),
                &opts("t"),
            )
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (404, "namespaces \"nope\" not found")
        );
        assert_eq!(e.details.unwrap()["kind"], "namespaces");

        s.apply(&deploy, Some("default"), "web", &deployment(1), &opts("a"))
            .unwrap();
        let mut changed: Value = serde_json::from_slice(&deployment(1)).unwrap();
        changed["spec"]["selector"]["matchLabels"]["x"] = json!("y");
        changed["spec"]["template"]["metadata"]["labels"]["x"] = json!("y");
        let e = s
            .apply(
                &deploy,
                Some("default"),
                "web",
                &serde_json::to_vec(&changed).unwrap(),
                &opts("a"),
            )
            .unwrap_err();
        assert_eq!(e.code, 422);
        assert!(
            e.message
                .starts_with("Deployment.apps \"web\" is invalid: spec.selector: Invalid value:"),
            "{}",
            e.message
        );

        let e = s
            .apply(
                &deploy,
                Some("default"),
                "web",
                &deployment(1),
                &WriteOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(e.message, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
    }

    #[test]
    fn service_cluster_ip_is_allocated_kept_and_immutable() {
        let (mut s, _, _) = store();
        let svc = s.registry.by_kind("v1", "Service").unwrap().clone();
        let body = |ip: Option<&str>| {
            let mut v = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
            if let Some(ip) = ip {
                v["spec"]["clusterIP"] = json!(ip);
            }
            serde_json::to_vec(&v).unwrap()
        };
        let w = s
            .apply(&svc, Some("default"), "web", &body(None), &opts("a"))
            .unwrap();
        let ip = w.object["spec"]["clusterIP"].as_str().unwrap().to_string();
        assert!(ip.starts_with("10.96."));
        assert_eq!(w.object["spec"]["ports"][0]["targetPort"], 80);
        let w = s
            .apply(&svc, Some("default"), "web", &body(None), &opts("a"))
            .unwrap();
        assert_eq!(w.object["spec"]["clusterIP"], ip.as_str());
        let e = s
            .apply(
                &svc,
                Some("default"),
                "web",
                &body(Some("10.0.0.9")),
                &opts("a"),
            )
            .unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(e.message, "Service \"web\" is invalid: spec.clusterIP: Invalid value: \"10.0.0.9\": field is immutable");
    }

    #[test]
    fn update_patches_record_update_managers() {
        let (mut s, cm, _) = store();
        s.create(
            &cm,
            Some("default"),
            json!({"metadata": {"name": "a"}, "data": {"k": "v"}}),
            &opts("creator"),
        )
        .unwrap();
        let w = s
            .patch(
                &cm,
                Some("default"),
                "a",
                PatchType::Merge,
                br#"{"data":{"k2":"v2"}}"#,
                None,
                &WriteOptions {
                    user_agent: "kubectl/v1.32.4 (linux/amd64)".into(),
                    ..WriteOptions::default()
                },
            )
            .unwrap();
        let mf = w.object["metadata"]["managedFields"].as_array().unwrap();
        let managers: Vec<&str> = mf.iter().map(|m| m["manager"].as_str().unwrap()).collect();
        assert!(
            managers.contains(&"creator") && managers.contains(&"kubectl"),
            "{managers:?}"
        );
        let e = s
            .patch(
                &cm,
                Some("default"),
                "a",
                PatchType::Merge,
                br#"{"metadata":{"resourceVersion":"1"}}"#,
                None,
                &opts("x"),
            )
            .unwrap_err();
        assert_eq!(e.code, 409);
        let e = s
            .patch(
                &cm,
                Some("default"),
                "a",
                PatchType::Merge,
                b"{}",
                None,
                &WriteOptions {
                    force: Some(true),
                    ..opts("x")
                },
            )
            .unwrap_err();
        assert_eq!(e.code, 422);
    }

    #[test]
    fn status_writes_change_status_only() {
        let (mut s, _, deploy) = store();
        s.apply(&deploy, Some("default"), "web", &deployment(2), &opts("a"))
            .unwrap();
        let live = s.lookup(&deploy, Some("default"), "web").unwrap().clone();
        // PUT of the status subresource: the spec in the body is ignored.
        let mut body = live.clone();
        body["spec"]["replicas"] = json!(9);
        body["status"] = json!({"replicas": 2, "readyReplicas": 1});
        let w = s
            .replace(
                &deploy,
                Some("default"),
                "web",
                body,
                Some("status"),
                &opts("ctl"),
            )
            .unwrap();
        assert_eq!(w.object["spec"]["replicas"], 2);
        assert_eq!(w.object["status"]["readyReplicas"], 1);
        assert_eq!(
            w.object["metadata"]["generation"],
            live["metadata"]["generation"]
        );
        // A merge PATCH of the status subresource, with a stale resourceVersion: refused.
        let stale = br#"{"metadata":{"resourceVersion":"1"},"status":{"readyReplicas":2}}"#;
        let e = s
            .patch(
                &deploy,
                Some("default"),
                "web",
                PatchType::Merge,
                stale,
                Some("status"),
                &opts("ctl"),
            )
            .unwrap_err();
        assert_eq!(e.code, 409);
        let patch = br#"{"spec":{"replicas":5},"status":{"readyReplicas":2}}"#;
        let w = s
            .patch(
                &deploy,
                Some("default"),
                "web",
                PatchType::Merge,
                patch,
                Some("status"),
                &opts("ctl"),
            )
            .unwrap();
        assert_eq!(w.object["spec"]["replicas"], 2);
        assert_eq!(
            w.object["status"],
            json!({"replicas": 2, "readyReplicas": 2})
        );
    }

    #[test]
    fn crd_registers_its_kind_and_delete_removes_it() {
        let (mut s, _, _) = store();
        let crd_type = s
            .registry
            .by_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")
            .unwrap()
            .clone();
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"},
                "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}}]}});
        let w = s.create(&crd_type, None, crd, &opts("t")).unwrap();
        assert_eq!(w.object["status"]["conditions"][1]["type"], "Established");
        let widget = s
            .registry
            .by_kind("example.com/v1", "Widget")
            .unwrap()
            .clone();
        s.apply(&widget, Some("default"), "w", br#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1}}"#, &opts("a"))
            .unwrap();
        assert_eq!(
            s.get(&widget, Some("default"), "w").unwrap()["metadata"]["generation"],
            1
        );
        let e = s
            .patch(
                &widget,
                Some("default"),
                "w",
                PatchType::Strategic,
                b"{}",
                None,
                &opts("a"),
            )
            .unwrap_err();
        assert_eq!(e.code, 415);
        s.delete(&crd_type, None, "widgets.example.com", &opts("t"))
            .unwrap();
        assert!(s.registry.by_kind("example.com/v1", "Widget").is_none());
    }

    #[test]
    fn namespace_delete_takes_its_objects() {
        let (mut s, cm, _) = store();
        let ns = s.registry.by_kind("v1", "Namespace").unwrap().clone();
        s.create(&ns, None, json!({"metadata": {"name": "shop"}}), &opts("t"))
            .unwrap();
        s.create(
            &cm,
            Some("shop"),
            json!({"metadata": {"name": "a"}}),
            &opts("t"),
        )
        .unwrap();
        assert_eq!(
            s.get(&ns, None, "shop").unwrap()["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "shop"
        );
        s.delete(&ns, None, "shop", &opts("t")).unwrap();
        assert!(s.get(&cm, Some("shop"), "a").is_err());
        assert_eq!(
            s.delete(&ns, None, "default", &opts("t")).unwrap_err().code,
            403
        );
    }
}
