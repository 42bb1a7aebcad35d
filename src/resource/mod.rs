//! `Resource`: an untyped KRM object plus where it came from.
//!
//! Objects stay `serde_json::Value` maps with their key order, so a pass-through object comes out
//! with every field the user wrote. This module owns the accessors for identity (GVK, name,
//! namespace) and metadata maps; it must not decide *what* to inject (that is `engine::inject`).

mod item;

pub use item::{Frozen, Identity, Item};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// API group of module resources.
pub const GROUP: &str = "nixernetes.io";
/// apiVersion of module resources.
pub const API_VERSION: &str = "nixernetes.io/v1alpha1";

/// Where an object came from: enough to point a user at the text they wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// File path as given on the command line (`-` for stdin), or a KRM `path` annotation.
    pub file: Arc<str>,
    /// Position of the document in its file, from 0.
    pub index: usize,
    /// 1-based line the document starts on; 0 when unknown (e.g. KRM items).
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{} (document {})", self.file, self.index)
        }
    }
}

/// A Kubernetes object (or a module resource) with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The object itself; always a JSON object.
    pub object: Map<String, Value>,
    /// Where it was read from.
    pub origin: Origin,
}

/// Identity of an object as KRM results and findings print it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Maps up to this size are searched by comparing keys rather than by hashing.
const SCAN_UP_TO: usize = 8;

/// [`field`] as a method of maps and values, for the checks' many one-key lookups:
/// `obj.field("spec")` where `obj.get("spec")` would hash the key (`Value::field` is `None`
/// when the value is not a map, as `Value::get` is).
pub trait Field {
    fn field(&self, key: &str) -> Option<&Value>;
}

impl Field for Map<String, Value> {
    fn field(&self, key: &str) -> Option<&Value> {
        field(self, key)
    }
}

impl Field for Value {
    fn field(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| field(m, key))
    }
}

/// `map.get(key)`, tuned for the small maps Kubernetes objects are made of: comparing a few
/// keys is cheaper than hashing one (SipHash), and lookups are much of what checks do.
#[inline]
pub fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= SCAN_UP_TO {
        // Length and first byte rule out most keys without a call to memcmp.
        let first = key.as_bytes().first();
        map.iter().find_map(|(k, v)| {
            (k.len() == key.len() && k.as_bytes().first() == first && k == key).then_some(v)
        })
    } else {
        map.get(key)
    }
}

fn str_at<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    field(map, key).and_then(Value::as_str).unwrap_or("")
}

impl Resource {
    pub fn new(object: Map<String, Value>, origin: Origin) -> Self {
        Resource { object, origin }
    }

    pub fn api_version(&self) -> &str {
        str_at(&self.object, "apiVersion")
    }

    pub fn kind(&self) -> &str {
        str_at(&self.object, "kind")
    }

    /// API group: the part of apiVersion before `/`, empty for the core group.
    pub fn group(&self) -> &str {
        group_of(self.api_version())
    }

    fn metadata(&self) -> Option<&Map<String, Value>> {
        field(&self.object, "metadata").and_then(Value::as_object)
    }

    pub fn name(&self) -> &str {
        self.metadata().map(|m| str_at(m, "name")).unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata()
            .and_then(|m| field(m, "namespace"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Whether this is a module resource (group `nixernetes.io`).
    pub fn is_module(&self) -> bool {
        self.group() == GROUP
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version().to_string(),
            kind: self.kind().to_string(),
            name: self.name().to_string(),
            namespace: self.namespace().map(str::to_string),
        }
    }

    /// `metadata.labels` as a map, if present and a map.
    pub fn labels(&self) -> Option<&Map<String, Value>> {
        self.metadata()
            .and_then(|m| field(m, "labels"))
            .and_then(Value::as_object)
    }

    /// `metadata.annotations` as a map, if present and a map.
    pub fn annotations(&self) -> Option<&Map<String, Value>> {
        self.metadata()
            .and_then(|m| field(m, "annotations"))
            .and_then(Value::as_object)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations()
            .and_then(|a| field(a, key))
            .and_then(Value::as_str)
    }

    /// `metadata`, created when missing.
    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        child_map(&mut self.object, "metadata")
    }

    /// Whether the object is marked for client tools only (`config.kubernetes.io/local-config`).
    pub fn is_local_config(&self) -> bool {
        self.annotation("config.kubernetes.io/local-config") == Some("true")
    }
}

/// Gives back the spare capacity maps and lists grew while being built: a large render holds
/// every object at once, and the slack is a fifth to a third of its memory.
pub fn compact(value: &mut Value) {
    match value {
        Value::Object(map) => compact_map(map),
        Value::Array(items) => {
            items.shrink_to_fit();
            items.iter_mut().for_each(compact);
        }
        _ => {}
    }
}

/// `compact` for a map (e.g. a whole object).
pub fn compact_map(map: &mut Map<String, Value>) {
    // serde_json's Map has no shrink_to_fit; collecting rebuilds it at its exact size.
    *map = std::mem::take(map).into_iter().collect();
    map.values_mut().for_each(compact);
}

/// API group of an apiVersion string.
pub fn group_of(api_version: &str) -> &str {
    // Bytes, not `rsplit_once('/')`: a char searcher backwards is slow, and this runs for
    // every check of every object.
    match memchr::memrchr(b'/', api_version.as_bytes()) {
        Some(i) => &api_version[..i],
        None => "",
    }
}

/// The map under `key`, created (or replaced, if it is not a map) when missing.
pub fn child_map<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("slot was just made an object"),
    }
}

/// Kinds that are not namespaced, for the groups we know. Anything else is assumed namespaced.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    let group = group_of(api_version);
    matches!(
        (group, kind),
        (
            "",
            "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus"
        ) | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | (
                "rbac.authorization.k8s.io",
                "ClusterRole" | "ClusterRoleBinding"
            )
            | ("scheduling.k8s.io", "PriorityClass")
            | (
                "storage.k8s.io",
                "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment"
            )
            | (
                "networking.k8s.io",
                "IngressClass" | "IPAddress" | "ServiceCIDR"
            )
            | ("node.k8s.io", "RuntimeClass")
            | ("admissionregistration.k8s.io", _)
            | ("certificates.k8s.io", "CertificateSigningRequest")
            | ("flowcontrol.apiserver.k8s.io", _)
            | ("gateway.networking.k8s.io", "GatewayClass")
            | ("cert-manager.io", "ClusterIssuer")
            | ("kyverno.io", "ClusterPolicy" | "ClusterCleanupPolicy")
            // Kyverno's CEL policies; their namespaced twins are `Namespaced*`.
            | (
                "policies.kyverno.io",
                "ValidatingPolicy"
                    | "ImageValidatingPolicy"
                    | "MutatingPolicy"
                    | "GeneratingPolicy"
                    | "DeletingPolicy"
            )
            | (
                "external-secrets.io",
                "ClusterSecretStore" | "ClusterExternalSecret"
            )
            | ("capsule.clastix.io", "Tenant")
            | ("kueue.x-k8s.io", "ClusterQueue" | "ResourceFlavor")
    )
}

/// A short name of a JSON value's type for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The items of `list` in order, its memory given back as they go: a loop that turns a large
/// list into another (documents into objects, objects into output) would otherwise hold every
/// item's slot (a hundred bytes an object) to its end, beside what it builds.
pub fn shrinking<T>(mut list: Vec<T>) -> impl Iterator<Item = T> {
    list.reverse();
    std::iter::from_fn(move || {
        let item = list.pop()?;
        if list.capacity() > 4096 && list.len() < list.capacity() / 4 {
            list.shrink_to(list.len() * 2);
        }
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::{is_cluster_scoped, shrinking};

    #[test]
    fn kyvernos_cel_policies_are_cluster_scoped_and_their_namespaced_twins_are_not() {
        assert!(is_cluster_scoped(
            "policies.kyverno.io/v1",
            "ValidatingPolicy"
        ));
        assert!(is_cluster_scoped(
            "policies.kyverno.io/v1alpha1",
            "ImageValidatingPolicy"
        ));
        assert!(!is_cluster_scoped(
            "policies.kyverno.io/v1",
            "NamespacedValidatingPolicy"
        ));
        assert!(is_cluster_scoped("kyverno.io/v1", "ClusterPolicy"));
        assert!(!is_cluster_scoped("kyverno.io/v1", "Policy"));
    }

    /// A shrinking list hands over every item once, in order, as it shrinks.
    #[test]
    fn a_shrinking_list_yields_its_items_in_order() {
        for n in [0, 1, 4097, 100_000] {
            let got: Vec<String> = shrinking((0..n).map(|i| i.to_string()).collect()).collect();
            assert_eq!(got, (0..n).map(|i| i.to_string()).collect::<Vec<_>>());
        }
    }
}
