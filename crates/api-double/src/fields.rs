//! Field paths and field sets, the vocabulary of server-side apply: which fields an object
//! sets, which of them changed between two objects, and the `FieldsV1` encoding stored in
//! `metadata.managedFields`.
//!
//! The double has no OpenAPI schemas for built-in kinds, so "structure" comes from a small
//! table: lists are atomic (owned and replaced whole) except the associative lists named in
//! [`builtin_list_keys`], whose items are identified by key fields, as in the real schemas
//! (`x-kubernetes-list-type: map`). Custom resources use their CRD's structural schema for the
//! same decision. Maps are granular: every key is its own field.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// A map key or struct field: `f:name`.
    Field(String),
    /// An item of an associative list, by its key fields (name, compact JSON value), sorted
    /// by name: `k:{"name":"app"}`.
    Key(Vec<(String, String)>),
    /// An item of a set-list, by value (compact JSON): `v:"x"`. Read from stored managed
    /// fields; the double itself treats such lists as atomic.
    Value(String),
    /// An item of a list by position: `i:0`.
    Index(usize),
}

/// A field path from the object root.
pub type Path = Vec<PathElement>;

/// The upstream text form of a path, as conflict messages print it:
/// `.spec.template.spec.containers[name="app"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    let mut s = String::new();
    for pe in path {
        match pe {
            PathElement::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            PathElement::Key(kv) => {
                s.push('[');
                let parts: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
                s.push_str(&parts.join(","));
                s.push(']');
            }
            PathElement::Value(v) => {
                s.push_str("[=");
                s.push_str(v);
                s.push(']');
            }
            PathElement::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A set of field paths, stored as a tree. A node is a *member* when the path itself is in the
/// set (a leaf value, an atomic list, an empty map, or an associative-list item as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `path`.
    pub fn insert(&mut self, path: &[PathElement]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.member = true;
    }

    /// Whether the set holds `path` or anything under it.
    pub fn touches(&self, path: &[PathElement]) -> bool {
        self.node(path).is_some_and(|n| !n.is_empty())
    }

    fn node(&self, path: &[PathElement]) -> Option<&FieldSet> {
        let mut node = self;
        for pe in path {
            node = node.children.get(pe)?;
        }
        Some(node)
    }

    /// Whether the set has no member at all.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// Members of either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.member |= other.member;
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// Members of `self` that are not members of `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (pe, child) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => child.difference(o),
                None => child.clone(),
            };
            if !d.is_empty() {
                out.children.insert(pe.clone(), d);
            }
        }
        out
    }

    /// Members of both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (pe, child) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = child.intersection(o);
                if !i.is_empty() {
                    out.children.insert(pe.clone(), i);
                }
            }
        }
        out
    }

    /// The set without `path` and everything under it.
    pub fn without(&self, path: &[PathElement]) -> FieldSet {
        let mut out = self.clone();
        out.remove_subtree(path);
        out
    }

    fn remove_subtree(&mut self, path: &[PathElement]) {
        match path {
            [] => *self = FieldSet::new(),
            [last] => {
                self.children.remove(last);
            }
            [first, rest @ ..] => {
                if let Some(child) = self.children.get_mut(first) {
                    child.remove_subtree(rest);
                    if child.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// Every member path, parents before children.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.collect(&mut path, &mut out);
        out
    }

    fn collect(&self, path: &mut Path, out: &mut Vec<Path>) {
        if self.member {
            out.push(path.clone());
        }
        for (pe, child) in &self.children {
            path.push(pe.clone());
            child.collect(path, out);
            path.pop();
        }
    }

    /// The `FieldsV1` JSON form (`{"f:spec":{"f:replicas":{}}}`).
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (pe, child) in &self.children {
            m.insert(encode_element(pe), child.to_fields_v1());
        }
        Value::Object(m)
    }

    /// Reads the `FieldsV1` JSON form.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        let mut set = FieldSet::new();
        let Value::Object(m) = v else {
            return Err("fieldsV1 must be an object".into());
        };
        for (k, child) in m {
            if k == "." {
                set.member = true;
                continue;
            }
            let pe = decode_element(k)?;
            let mut node = FieldSet::from_fields_v1(child)?;
            if child.as_object().is_some_and(Map::is_empty) {
                node.member = true;
            }
            set.children.insert(pe, node);
        }
        Ok(set)
    }
}

fn encode_element(pe: &PathElement) -> String {
    match pe {
        PathElement::Field(f) => format!("f:{f}"),
        PathElement::Key(kv) => {
            let parts: Vec<String> = kv
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                .collect();
            format!("k:{{{}}}", parts.join(","))
        }
        PathElement::Value(v) => format!("v:{v}"),
        PathElement::Index(i) => format!("i:{i}"),
    }
}

fn decode_element(s: &str) -> Result<PathElement, String> {
    let bad = || format!("unknown fieldsV1 key {s:?}");
    let (prefix, rest) = s.split_once(':').ok_or_else(bad)?;
    match prefix {
        "f" => Ok(PathElement::Field(rest.to_string())),
        "k" => {
            let v: Value = serde_json::from_str(rest).map_err(|_| bad())?;
            let Value::Object(m) = v else {
                return Err(bad());
            };
            let mut kv: Vec<(String, String)> =
                m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
            kv.sort();
            Ok(PathElement::Key(kv))
        }
        "v" => {
            let v: Value = serde_json::from_str(rest).map_err(|_| bad())?;
            Ok(PathElement::Value(v.to_string()))
        }
        "i" => rest.parse().map(PathElement::Index).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Where in an object a walk is, for deciding how lists merge.
#[derive(Debug, Clone, Copy)]
pub enum Cursor<'a> {
    /// A built-in kind, or the `metadata` of a custom resource: the built-in list table.
    BuiltIn,
    /// The root of a custom resource with this `openAPIV3Schema`.
    CustomRoot(&'a Value),
    /// Inside a custom resource, at this schema node (`None`: no schema here).
    Schema(Option<&'a Value>),
}

impl<'a> Cursor<'a> {
    /// The cursor for the root of an object of a type with `schema` (`None` for built-ins).
    pub fn root(schema: Option<&'a Value>) -> Self {
        match schema {
            Some(s) => Cursor::CustomRoot(s),
            None => Cursor::BuiltIn,
        }
    }

    /// Descends into map key or struct field `name`.
    pub fn field(self, name: &str) -> Cursor<'a> {
        match self {
            Cursor::BuiltIn => Cursor::BuiltIn,
            Cursor::CustomRoot(_) if name == "metadata" => Cursor::BuiltIn,
            Cursor::CustomRoot(s) | Cursor::Schema(Some(s)) => {
                let prop = s["properties"]
                    .get(name)
                    .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()));
                Cursor::Schema(prop)
            }
            Cursor::Schema(None) => Cursor::Schema(None),
        }
    }

    /// Descends into a list item.
    pub fn item(self) -> Cursor<'a> {
        match self {
            Cursor::BuiltIn => Cursor::BuiltIn,
            Cursor::CustomRoot(s) | Cursor::Schema(Some(s)) => Cursor::Schema(s.get("items")),
            Cursor::Schema(None) => Cursor::Schema(None),
        }
    }

    /// The key fields (with a default for a missing key) of the list reached through field
    /// `name`, or `None` when the list is atomic.
    pub fn list_keys(self, name: Option<&str>, items: &[&Value]) -> Option<Vec<ListKey>> {
        match self {
            Cursor::BuiltIn => builtin_list_keys(name?, items),
            Cursor::Schema(Some(s)) if s["x-kubernetes-list-type"] == "map" => Some(
                s["x-kubernetes-list-map-keys"]
                    .as_array()?
                    .iter()
                    .filter_map(|k| k.as_str())
                    .map(|k| ListKey {
                        name: k.to_string(),
                        default: None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// A key field of an associative list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListKey {
    /// Field name.
    pub name: String,
    /// Value assumed when an item leaves the field out (`protocol` defaults to TCP).
    pub default: Option<Value>,
}

fn keys(names: &[&str]) -> Vec<ListKey> {
    names
        .iter()
        .map(|n| ListKey {
            name: n.to_string(),
            default: (*n == "protocol").then(|| Value::String("TCP".into())),
        })
        .collect()
}

/// Associative lists of the built-in kinds (their `x-kubernetes-list-map-keys`), by the name
/// of the field holding the list. `ports` is keyed by `containerPort` in containers and by
/// `port` in Services, so the items decide.
pub fn builtin_list_keys(name: &str, items: &[&Value]) -> Option<Vec<ListKey>> {
    Some(match name {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => keys(&["name"]),
        "volumeMounts" => keys(&["mountPath"]),
        "volumeDevices" => keys(&["devicePath"]),
        "hostAliases" => keys(&["ip"]),
        "topologySpreadConstraints" => keys(&["topologyKey", "whenUnsatisfiable"]),
        "ownerReferences" => keys(&["uid"]),
        "conditions" => keys(&["type"]),
        "ports" if !items.is_empty() && items.iter().all(|i| i.get("containerPort").is_some()) => {
            keys(&["containerPort", "protocol"])
        }
        "ports" if !items.is_empty() && items.iter().all(|i| i.get("port").is_some()) => {
            keys(&["port", "protocol"])
        }
        _ => return None,
    })
}

/// The path element of a list item under `keys`; `None` when the item lacks a key.
pub fn key_element(item: &Value, keys: &[ListKey]) -> Option<PathElement> {
    let mut kv = Vec::with_capacity(keys.len());
    for k in keys {
        let v = item.get(&k.name).or(k.default.as_ref())?;
        if v.is_object() || v.is_array() {
            return None;
        }
        kv.push((k.name.clone(), v.to_string()));
    }
    kv.sort();
    Some(PathElement::Key(kv))
}

/// The keys of a list when every item (of all the given lists) can be keyed by them.
pub fn keyed_list(
    cursor: Cursor<'_>,
    name: Option<&str>,
    lists: &[&[Value]],
) -> Option<Vec<ListKey>> {
    let items: Vec<&Value> = lists.iter().flat_map(|l| l.iter()).collect();
    let keys = cursor.list_keys(name, &items)?;
    items
        .iter()
        .all(|i| key_element(i, &keys).is_some())
        .then_some(keys)
}

fn last_field(path: &[PathElement]) -> Option<&str> {
    match path.last() {
        Some(PathElement::Field(f)) => Some(f),
        _ => None,
    }
}

/// Adds to `set` every field `value` sets, rooted at `path`.
pub fn value_set(value: &Value, cursor: Cursor<'_>, path: &mut Path, set: &mut FieldSet) {
    match value {
        Value::Object(m) if m.is_empty() => {
            if !path.is_empty() {
                set.insert(path);
            }
        }
        Value::Object(m) => {
            for (k, child) in m {
                path.push(PathElement::Field(k.clone()));
                value_set(child, cursor.field(k), path, set);
                path.pop();
            }
        }
        Value::Array(items) => match keyed_list(cursor, last_field(path), &[items]) {
            Some(keys) => {
                for item in items {
                    if let Some(pe) = key_element(item, &keys) {
                        path.push(pe);
                        set.insert(path);
                        value_set(item, cursor.item(), path, set);
                        path.pop();
                    }
                }
            }
            None => set.insert(path),
        },
        _ => set.insert(path),
    }
}

/// The fields of a whole object.
pub fn fields_of(value: &Value, cursor: Cursor<'_>) -> FieldSet {
    let mut set = FieldSet::new();
    value_set(value, cursor, &mut Vec::new(), &mut set);
    set
}

/// What changed between two versions of an object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Fields in both whose value differs.
    pub modified: FieldSet,
    /// Fields only in the new version.
    pub added: FieldSet,
    /// Fields only in the old version.
    pub removed: FieldSet,
}

/// Compares two versions of an object field by field.
pub fn compare(old: &Value, new: &Value, cursor: Cursor<'_>) -> Comparison {
    let mut c = Comparison::default();
    compare_at(Some(old), Some(new), cursor, &mut Vec::new(), &mut c);
    c
}

fn is_leaf(v: &Value, cursor: Cursor<'_>, path: &[PathElement]) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(items) => keyed_list(cursor, last_field(path), &[items]).is_none(),
        _ => true,
    }
}

fn compare_at(
    old: Option<&Value>,
    new: Option<&Value>,
    cursor: Cursor<'_>,
    path: &mut Path,
    c: &mut Comparison,
) {
    match (old, new) {
        (None, None) => {}
        (Some(o), None) => value_set(o, cursor, path, &mut c.removed),
        (None, Some(n)) => value_set(n, cursor, path, &mut c.added),
        (Some(o), Some(n)) => match (o, n) {
            (Value::Object(om), Value::Object(nm)) if !om.is_empty() && !nm.is_empty() => {
                for (k, ov) in om {
                    path.push(PathElement::Field(k.clone()));
                    compare_at(Some(ov), nm.get(k), cursor.field(k), path, c);
                    path.pop();
                }
                for (k, nv) in nm {
                    if !om.contains_key(k) {
                        path.push(PathElement::Field(k.clone()));
                        compare_at(None, Some(nv), cursor.field(k), path, c);
                        path.pop();
                    }
                }
            }
            (Value::Array(oa), Value::Array(na)) => {
                match keyed_list(cursor, last_field(path), &[oa, na]) {
                    Some(keys) => compare_keyed(oa, na, &keys, cursor.item(), path, c),
                    None => {
                        if o != n {
                            c.modified.insert(path);
                        }
                    }
                }
            }
            _ if o == n => {}
            _ if is_leaf(o, cursor, path) && is_leaf(n, cursor, path) => c.modified.insert(path),
            _ => {
                value_set(o, cursor, path, &mut c.removed);
                value_set(n, cursor, path, &mut c.added);
            }
        },
    }
}

fn compare_keyed(
    old: &[Value],
    new: &[Value],
    keys: &[ListKey],
    item_cursor: Cursor<'_>,
    path: &mut Path,
    c: &mut Comparison,
) {
    let index = |items: &[Value]| -> Vec<(PathElement, usize)> {
        items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| key_element(v, keys).map(|k| (k, i)))
            .collect()
    };
    let oi = index(old);
    let ni = index(new);
    for (k, i) in &oi {
        path.push(k.clone());
        match ni.iter().find(|(nk, _)| nk == k) {
            Some((_, j)) => compare_at(Some(&old[*i]), Some(&new[*j]), item_cursor, path, c),
            None => {
                c.removed.insert(path);
                value_set(&old[*i], item_cursor, path, &mut c.removed);
            }
        }
        path.pop();
    }
    for (k, j) in &ni {
        if !oi.iter().any(|(ok, _)| ok == k) {
            path.push(k.clone());
            c.added.insert(path);
            value_set(&new[*j], item_cursor, path, &mut c.added);
            path.pop();
        }
    }
}

/// Whether a list item matches a key path element.
fn item_matches(item: &Value, pe: &PathElement) -> bool {
    match pe {
        PathElement::Key(kv) => kv.iter().all(|(k, v)| {
            let have = item.get(k).map(Value::to_string);
            match have {
                Some(h) => &h == v,
                // A defaulted key (ports' protocol) matches its default.
                None => k == "protocol" && v == "\"TCP\"",
            }
        }),
        PathElement::Value(v) => &item.to_string() == v,
        _ => false,
    }
}

/// The value at `path`, if any.
pub fn get<'v>(value: &'v Value, path: &[PathElement]) -> Option<&'v Value> {
    let mut v = value;
    for pe in path {
        v = match (pe, v) {
            (PathElement::Field(f), Value::Object(m)) => m.get(f)?,
            (PathElement::Index(i), Value::Array(a)) => a.get(*i)?,
            (_, Value::Array(a)) => a.iter().find(|item| item_matches(item, pe))?,
            _ => return None,
        };
    }
    Some(v)
}

/// Removes the value at `path`; returns whether something was removed.
pub fn remove(value: &mut Value, path: &[PathElement]) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    let Some(parent) = get_mut(value, parent_path) else {
        return false;
    };
    match (last, parent) {
        (PathElement::Field(f), Value::Object(m)) => m.shift_remove(f).is_some(),
        (PathElement::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        (pe, Value::Array(a)) => {
            let before = a.len();
            a.retain(|item| !item_matches(item, pe));
            a.len() != before
        }
        _ => false,
    }
}

/// The value at `path`, mutably.
pub fn get_mut<'v>(value: &'v mut Value, path: &[PathElement]) -> Option<&'v mut Value> {
    let mut v = value;
    for pe in path {
        v = match (pe, v) {
            (PathElement::Field(f), Value::Object(m)) => m.get_mut(f)?,
            (PathElement::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            (_, Value::Array(a)) => a.iter_mut().find(|item| item_matches(item, pe))?,
            _ => return None,
        };
    }
    Some(v)
}

/// Builds a path from dotted field names (test and table helper): `"spec.replicas"`.
pub fn field_path(dotted: &str) -> Path {
    dotted
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| PathElement::Field(s.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(image: &str, extra_env: bool) -> Value {
        let mut env = vec![json!({"name": "A", "value": "1"})];
        if extra_env {
            env.push(json!({"name": "B", "value": "2"}));
        }
        json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "app", "image": image, "env": env,
                 "ports": [{"containerPort": 80}]}
            ]}}}
        })
    }

    #[test]
    fn fields_v1_round_trips_and_keys_items() {
        let set = fields_of(&deployment("nginx", false), Cursor::BuiltIn);
        let v1 = set.to_fields_v1();
        assert_eq!(
            v1["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]["f:ports"]
                ["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"],
            json!({".": {}, "f:containerPort": {}})
        );
        assert_eq!(v1["f:spec"]["f:replicas"], json!({}));
        assert_eq!(FieldSet::from_fields_v1(&v1).unwrap(), set);
    }

    #[test]
    fn compare_reports_leaf_changes_and_new_items() {
        let c = compare(
            &deployment("nginx:1", false),
            &deployment("nginx:2", true),
            Cursor::BuiltIn,
        );
        let modified: Vec<String> = c.modified.paths().iter().map(|p| path_string(p)).collect();
        assert_eq!(
            modified,
            vec![".spec.template.spec.containers[name=\"app\"].image"]
        );
        let added: Vec<String> = c.added.paths().iter().map(|p| path_string(p)).collect();
        assert_eq!(
            added,
            vec![
                ".spec.template.spec.containers[name=\"app\"].env[name=\"B\"]",
                ".spec.template.spec.containers[name=\"app\"].env[name=\"B\"].name",
                ".spec.template.spec.containers[name=\"app\"].env[name=\"B\"].value",
            ]
        );
        assert!(c.removed.is_empty());
    }

    #[test]
    fn set_algebra() {
        let a = fields_of(&json!({"a": 1, "b": {"c": 2, "d": 3}}), Cursor::BuiltIn);
        let b = fields_of(&json!({"b": {"c": 5}}), Cursor::BuiltIn);
        let diff: Vec<String> = a
            .difference(&b)
            .paths()
            .iter()
            .map(|p| path_string(p))
            .collect();
        assert_eq!(diff, vec![".a", ".b.d"]);
        let inter: Vec<String> = a
            .intersection(&b)
            .paths()
            .iter()
            .map(|p| path_string(p))
            .collect();
        assert_eq!(inter, vec![".b.c"]);
        assert!(a.without(&field_path("b")).touches(&field_path("a")));
        assert!(!a.without(&field_path("b")).touches(&field_path("b")));
    }

    #[test]
    fn remove_and_get_follow_keys() {
        let mut d = deployment("nginx", true);
        let set = fields_of(&d, Cursor::BuiltIn);
        let env_b = set
            .paths()
            .into_iter()
            .find(|p| path_string(p).ends_with("env[name=\"B\"]"))
            .unwrap();
        assert_eq!(get(&d, &env_b).unwrap()["value"], "2");
        assert!(remove(&mut d, &env_b));
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "A", "value": "1"}])
        );
    }

    #[test]
    fn custom_resources_use_their_schema_for_lists() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                      "items": {"type": "object"}},
            "containers": {"type": "array", "items": {"type": "object"}}
        }}}});
        let obj = json!({"spec": {"items": [{"id": "a", "v": 1}], "containers": [{"name": "x"}]}});
        let set = fields_of(&obj, Cursor::root(Some(&schema)));
        let paths: Vec<String> = set.paths().iter().map(|p| path_string(p)).collect();
        assert_eq!(
            paths,
            vec![
                ".spec.containers",
                ".spec.items[id=\"a\"]",
                ".spec.items[id=\"a\"].id",
                ".spec.items[id=\"a\"].v"
            ]
        );
    }
}
