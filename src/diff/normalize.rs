//! The same normalisation for both sides of a diff: what the server owns goes (always
//! `managedFields`; unless `--show-server-fields` also `resourceVersion`, `generation`, `uid`,
//! `creationTimestamp`, `selfLink`, `status` and the last-applied annotation), then the user's
//! ignore rules remove their fields.
//!
//! Ignore rules (`--ignore`): `POINTER` for every object, or `SELECTOR=POINTER` where the
//! selector is `KIND/NAME` or `KIND/NAMESPACE/NAME`, `KIND` may carry its group (`Kind.group`),
//! and every part may use the globs `*` and `?`. The pointer is an RFC 6901 JSON pointer
//! (`/spec/replicas`, `/metadata/annotations/deployment.kubernetes.io~1revision`); a `*`
//! segment matches every key or index.

use super::ObjectId;
use serde_json::Value;

/// `kubectl.kubernetes.io/last-applied-configuration`: the client-side apply record, which for
/// Secrets holds their data in plain text.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata fields the server owns.
const SERVER_METADATA: [&str; 5] = [
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
];

/// One `--ignore` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    pointer: Vec<String>,
}

impl IgnoreRule {
    /// Parses `[SELECTOR=]POINTER`.
    pub fn parse(text: &str) -> Result<IgnoreRule, String> {
        let (selector, pointer) = match text.find("=/") {
            Some(i) => (Some(&text[..i]), &text[i + 1..]),
            None => (None, text),
        };
        if !pointer.starts_with('/') {
            return Err(format!(
                "--ignore {text:?}: expected a JSON pointer such as /spec/replicas, optionally after KIND/NAME= or KIND/NAMESPACE/NAME="
            ));
        }
        let pointer = pointer[1..]
            .split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let (kind, namespace, name) = match selector {
            None => (None, None, None),
            Some(sel) => {
                let parts: Vec<&str> = sel.split('/').collect();
                match parts.as_slice() {
                    [k, n] if !k.is_empty() && !n.is_empty() => {
                        (Some(k.to_string()), None, Some(n.to_string()))
                    }
                    [k, ns, n] if !k.is_empty() && !ns.is_empty() && !n.is_empty() => (
                        Some(k.to_string()),
                        Some(ns.to_string()),
                        Some(n.to_string()),
                    ),
                    _ => {
                        return Err(format!(
                            "--ignore {text:?}: the selector {sel:?} must be KIND/NAME or KIND/NAMESPACE/NAME"
                        ))
                    }
                }
            }
        };
        Ok(IgnoreRule {
            kind,
            namespace,
            name,
            pointer,
        })
    }

    /// Whether the rule applies to `id`.
    pub fn matches(&self, id: &ObjectId) -> bool {
        let kind_ok = self.kind.as_deref().is_none_or(|k| {
            let (kind, group) = k.split_once('.').unwrap_or((k, ""));
            glob(kind, &id.kind) && (group.is_empty() || glob(group, id.group()))
        });
        let ns_ok = self
            .namespace
            .as_deref()
            .is_none_or(|n| glob(n, id.namespace.as_deref().unwrap_or_default()));
        let name_ok = self.name.as_deref().is_none_or(|n| glob(n, &id.name));
        kind_ok && ns_ok && name_ok
    }
}

/// What normalisation keeps.
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    /// Keep server-owned metadata, `status` and the last-applied annotation.
    pub show_server_fields: bool,
    /// Fields to drop.
    pub ignore: Vec<IgnoreRule>,
}

impl Normalizer {
    /// Normalises one side of `id`'s diff in place.
    pub fn apply(&self, id: &ObjectId, v: &mut Value) {
        let Value::Object(obj) = v else { return };
        if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
            meta.shift_remove("managedFields");
            if !self.show_server_fields {
                for k in SERVER_METADATA {
                    meta.shift_remove(k);
                }
                if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
                    ann.shift_remove(LAST_APPLIED);
                    if ann.is_empty() {
                        meta.shift_remove("annotations");
                    }
                }
            }
        }
        if !self.show_server_fields {
            obj.shift_remove("status");
        }
        for rule in self.ignore.iter().filter(|r| r.matches(id)) {
            remove_pointer(v, &rule.pointer);
        }
    }
}

/// Removes what `pointer` names (`*` segments match every child).
fn remove_pointer(v: &mut Value, pointer: &[String]) {
    let Some((first, rest)) = pointer.split_first() else {
        return;
    };
    match v {
        Value::Object(m) if rest.is_empty() => {
            if first == "*" {
                m.clear();
            } else {
                m.shift_remove(first.as_str());
            }
        }
        Value::Object(m) => {
            if first == "*" {
                m.values_mut().for_each(|c| remove_pointer(c, rest));
            } else if let Some(c) = m.get_mut(first.as_str()) {
                remove_pointer(c, rest);
            }
        }
        Value::Array(a) if rest.is_empty() => {
            if first == "*" {
                a.clear();
            } else if let Ok(i) = first.parse::<usize>() {
                if i < a.len() {
                    a.remove(i);
                }
            }
        }
        Value::Array(a) => {
            if first == "*" {
                a.iter_mut().for_each(|c| remove_pointer(c, rest));
            } else if let Some(c) = first.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                remove_pointer(c, rest);
            }
        }
        _ => {}
    }
}

/// Shell-style glob with `*` and `?`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(kind: &str, api: &str, ns: Option<&str>, name: &str) -> ObjectId {
        ObjectId {
            api_version: api.into(),
            kind: kind.into(),
            namespace: ns.map(str::to_string),
            name: name.into(),
        }
    }

    #[test]
    fn globs() {
        assert!(glob("web-*", "web-1"));
        assert!(glob("*", ""));
        assert!(glob("w?b", "web"));
        assert!(!glob("web", "webs"));
        assert!(glob("*-db-*", "shop-db-0"));
        assert!(!glob("*-db", "shop-db-0"));
    }

    #[test]
    fn server_fields_and_rules() {
        let mut v = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u", "resourceVersion": "3",
                "generation": 2, "creationTimestamp": "t", "managedFields": [],
                "annotations": {LAST_APPLIED: "{}"}, "labels": {"a": "b"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i"}, {"name": "d"}]}}},
            "status": {"replicas": 2}
        });
        let n = Normalizer {
            show_server_fields: false,
            ignore: vec![
                IgnoreRule::parse("Deployment.apps/shop/web*=/spec/replicas").unwrap(),
                IgnoreRule::parse("/spec/template/spec/containers/*/image").unwrap(),
                IgnoreRule::parse("Service/web=/spec").unwrap(),
            ],
        };
        n.apply(&id("Deployment", "apps/v1", Some("shop"), "web"), &mut v);
        assert_eq!(
            v,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "labels": {"a": "b"}},
                "spec": {"template": {"spec": {"containers": [{"name": "c"}, {"name": "d"}]}}}})
        );
        let mut w = json!({"metadata": {"uid": "u", "managedFields": []}, "status": {}});
        Normalizer {
            show_server_fields: true,
            ignore: vec![],
        }
        .apply(&id("X", "v1", None, "x"), &mut w);
        assert_eq!(w, json!({"metadata": {"uid": "u"}, "status": {}}));
    }

    #[test]
    fn bad_rules_are_explained() {
        assert!(IgnoreRule::parse("spec.replicas")
            .unwrap_err()
            .contains("JSON pointer"));
        assert!(IgnoreRule::parse("a/b/c/d=/x")
            .unwrap_err()
            .contains("KIND/NAME"));
        let r = IgnoreRule::parse("/metadata/annotations/a~1b").unwrap();
        assert_eq!(r.pointer, vec!["metadata", "annotations", "a/b"]);
        assert!(!IgnoreRule::parse("Deployment.apps/web=/x")
            .unwrap()
            .matches(&id("Deployment", "extensions/v1beta1", None, "web")));
    }
}
