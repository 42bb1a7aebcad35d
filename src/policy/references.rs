//! `dangling-env-ref`: the ConfigMaps and Secrets a pod reads (`env[].valueFrom.configMapKeyRef`
//! and `secretKeyRef`, `envFrom[]`, `configMap`/`secret` volumes and projected sources, their
//! `items[].key`) are in the rendered set, with the keys the pod names. A missing one keeps the
//! pod from starting (`CreateContainerConfigError`, or a volume that never mounts).
//!
//! Judged only where the set speaks for the namespace, as the dangling backend checks are: a
//! ConfigMap reference where the set holds a ConfigMap of that namespace, a Secret reference where
//! it holds a Secret (or an `ExternalSecret` or `SealedSecret`, which make one) and no custom
//! resource of an operator (operators such as CloudNativePG or Strimzi create the Secrets their
//! clients read). References marked `optional: true` are not judged, nor `kube-root-ca.crt`
//! (every namespace has it). Keys are checked against `data` and `binaryData` of a ConfigMap,
//! `data` and `stringData` of a Secret; not for Secrets the set only makes through an operator,
//! nor for service-account-token Secrets, whose keys the token controller fills in.

use super::network::{in_namespace, is_custom_group};
use super::pod::{get_bool, get_str, obj, pod_of, PodView};
use super::{CheckDef, Fix, Scope, SetHits, SetInput};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::{Identity, Resource};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

pub const DANGLING_ENV_REF: CheckDef = CheckDef {
    id: "dangling-env-ref",
    summary: "ConfigMaps and Secrets that pods read (env, envFrom, volumes) and their keys are in the rendered set (where the set holds the namespace's ConfigMaps or Secrets)",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Set(dangling_env_ref),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&DANGLING_ENV_REF];

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    ConfigMap,
    Secret,
}

impl Source {
    fn kind(self) -> &'static str {
        match self {
            Source::ConfigMap => "ConfigMap",
            Source::Secret => "Secret",
        }
    }
}

/// One reference of a pod: where it is written, what it names, and the key it needs if any.
struct Reference<'a> {
    field: String,
    source: Source,
    name: &'a str,
    key: Option<(String, &'a str)>,
    /// Only its key is judged (a volume's `items[]`: the source is judged by its own entry).
    key_only: bool,
}

/// Every reference of `pod` that is not `optional: true`.
fn references<'a>(pod: &PodView<'a>) -> Vec<Reference<'a>> {
    let mut out = Vec::new();
    let needed = |m: &Map<String, Value>| get_bool(m, "optional") != Some(true);
    // A volume source (or projected source) and the `items[].key`s it maps.
    let from_volume =
        |out: &mut Vec<Reference<'a>>, at: String, source: Source, m: &'a Map<String, Value>| {
            let name_field = match source {
                Source::Secret if m.contains_key("secretName") => "secretName",
                _ => "name",
            };
            let Some(name) = get_str(m, name_field).filter(|_| needed(m)) else {
                return;
            };
            out.push(Reference {
                field: format!("{at}.{name_field}"),
                source,
                name,
                key: None,
                key_only: false,
            });
            if let Some(Value::Array(items)) = m.field("items") {
                for (k, item) in items.iter().enumerate() {
                    if let Some(key) = item.field("key").and_then(Value::as_str) {
                        out.push(Reference {
                            field: format!("{at}.items[{k}].key"),
                            source,
                            name,
                            key: Some((format!("{at}.items[{k}].key"), key)),
                            key_only: true,
                        });
                    }
                }
            }
        };
    if let Some(Value::Array(volumes)) = pod.spec.field("volumes") {
        for (i, v) in volumes.iter().enumerate() {
            let Some(v) = v.as_object() else { continue };
            for (field, source) in [("configMap", Source::ConfigMap), ("secret", Source::Secret)] {
                if let Some(m) = obj(v.get(field)) {
                    from_volume(
                        &mut out,
                        pod.at(&format!("volumes[{i}].{field}")),
                        source,
                        m,
                    );
                }
            }
            let sources = obj(v.field("projected")).and_then(|p| p.field("sources"));
            if let Some(Value::Array(sources)) = sources {
                for (j, src) in sources.iter().enumerate() {
                    for (field, source) in
                        [("configMap", Source::ConfigMap), ("secret", Source::Secret)]
                    {
                        if let Some(m) = obj(src.get(field)) {
                            let at =
                                pod.at(&format!("volumes[{i}].projected.sources[{j}].{field}"));
                            from_volume(&mut out, at, source, m);
                        }
                    }
                }
            }
        }
    }
    for c in pod.containers() {
        if let Some(Value::Array(env)) = c.spec.field("env") {
            for (i, e) in env.iter().enumerate() {
                let Some(from) = obj(e.field("valueFrom")) else {
                    continue;
                };
                for (field, source) in [
                    ("configMapKeyRef", Source::ConfigMap),
                    ("secretKeyRef", Source::Secret),
                ] {
                    let Some(r) = obj(from.get(field)).filter(|r| needed(r)) else {
                        continue;
                    };
                    let Some(name) = get_str(r, "name") else {
                        continue;
                    };
                    let at = c.at(&format!("env[{i}].valueFrom.{field}"));
                    out.push(Reference {
                        field: format!("{at}.name"),
                        source,
                        name,
                        key: get_str(r, "key").map(|k| (format!("{at}.key"), k)),
                        key_only: false,
                    });
                }
            }
        }
        if let Some(Value::Array(from)) = c.spec.field("envFrom") {
            for (i, e) in from.iter().enumerate() {
                for (field, source) in [
                    ("configMapRef", Source::ConfigMap),
                    ("secretRef", Source::Secret),
                ] {
                    let Some(r) = obj(e.get(field)).filter(|r| needed(r)) else {
                        continue;
                    };
                    if let Some(name) = get_str(r, "name") {
                        out.push(Reference {
                            field: c.at(&format!("envFrom[{i}].{field}.name")),
                            source,
                            name,
                            key: None,
                            key_only: false,
                        });
                    }
                }
            }
        }
    }
    out
}

/// What the set defines of one source: its keys, or `None` when they are not known (a Secret
/// made by an operator or filled in by a controller).
type Defined<'a> = HashMap<(Source, Option<&'a str>, &'a str), Option<HashSet<&'a str>>>;

/// The keys of `r`'s `fields` (maps), in order.
fn keys_of<'a>(r: &'a Resource, fields: &[&str]) -> Vec<&'a str> {
    fields
        .iter()
        .filter_map(|f| r.object.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.keys().map(String::as_str))
        .collect()
}

/// Adds a definition: keys that any definer does not know stay unknown; else the keys of every
/// definer count (whatever the order of the objects).
fn define<'a>(
    defined: &mut Defined<'a>,
    at: (Source, Option<&'a str>, &'a str),
    keys: Option<HashSet<&'a str>>,
) {
    match defined.entry(at) {
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(keys);
        }
        std::collections::hash_map::Entry::Occupied(mut e) => match (e.get_mut(), keys) {
            (Some(have), Some(more)) => have.extend(more),
            (have, _) => *have = None,
        },
    }
}

/// The core ConfigMaps and Secrets of a set as this check reads them: namespace, name and key
/// names (never values). The whole-set checks get these instead of the objects or their
/// skeletons: a ConfigMap's skeleton is a tree of about a KiB, its entry here about 40 bytes,
/// and a large set is mostly ConfigMaps and Secrets.
#[derive(Default)]
pub struct Sources {
    /// Each entry's namespace (if it has one), name, and key count and keys (unless its keys
    /// are unknown), one after the other, each as its length in decimal, `:`, and itself.
    text: String,
    entries: Vec<Entry>,
}

/// One ConfigMap or Secret, from byte `at` of [`Sources::text`].
struct Entry {
    at: usize,
    source: Source,
    namespace: bool,
    /// `false` for a service-account-token Secret, whose keys the token controller fills in.
    keys: bool,
}

/// One ConfigMap or Secret as read back.
struct Read<'a> {
    source: Source,
    namespace: Option<&'a str>,
    name: &'a str,
    /// Its keys, from here in [`Sources::text`], when known.
    keys: Option<usize>,
}

impl Sources {
    /// The source `r` is: a core ConfigMap or Secret.
    fn source_of(r: &impl Identity) -> Option<Source> {
        match (r.group(), r.kind()) {
            ("", "ConfigMap") => Some(Source::ConfigMap),
            ("", "Secret") => Some(Source::Secret),
            _ => None,
        }
    }

    /// Whether [`Sources::add`] takes `r`.
    pub fn takes(r: &impl Identity) -> bool {
        Sources::source_of(r).is_some()
    }

    /// Makes room for `n` more entries.
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve_exact(n);
    }

    /// Takes `r` when it is a core ConfigMap or Secret (the whole-set checks read nothing else
    /// of it); `false` for any other object.
    pub fn add(&mut self, r: &Resource) -> bool {
        let Some(source) = Sources::source_of(r) else {
            return false;
        };
        let token = source == Source::Secret
            && r.object.field("type").and_then(Value::as_str)
                == Some("kubernetes.io/service-account-token");
        let fields: &[&str] = match source {
            Source::ConfigMap => &["data", "binaryData"],
            Source::Secret => &["data", "stringData"],
        };
        let at = self.text.len();
        if let Some(ns) = r.namespace() {
            self.push(ns);
        }
        self.push(r.name());
        if !token {
            let keys = keys_of(r, fields);
            self.push_len(keys.len());
            for key in keys {
                self.push(key);
            }
        }
        self.entries.push(Entry {
            at,
            source,
            namespace: r.namespace().is_some(),
            keys: !token,
        });
        true
    }

    /// How many ConfigMaps and Secrets it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Everything it holds of them, one after the other (namespaces, names, keys).
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    fn push_len(&mut self, n: usize) {
        use std::fmt::Write;
        let _ = write!(self.text, "{n}:");
    }

    fn push(&mut self, s: &str) {
        self.push_len(s.len());
        self.text.push_str(s);
    }

    /// The length written at `at`, and where what follows it starts.
    fn len_at(&self, at: usize) -> (usize, usize) {
        let digits = self.text[at..].find(':').unwrap_or(0);
        let n = self.text[at..at + digits].parse().unwrap_or(0);
        (n, at + digits + 1)
    }

    /// The string written at `at`, and where what follows it starts.
    fn str_at(&self, at: usize) -> (&str, usize) {
        let (n, at) = self.len_at(at);
        (&self.text[at..at + n], at + n)
    }

    fn read(&self, e: &Entry) -> Read<'_> {
        let (namespace, at) = match e.namespace {
            true => {
                let (ns, at) = self.str_at(e.at);
                (Some(ns), at)
            }
            false => (None, e.at),
        };
        let (name, at) = self.str_at(at);
        Read {
            source: e.source,
            namespace,
            name,
            keys: e.keys.then_some(at),
        }
    }

    /// The keys written from `at`.
    fn keys_at(&self, at: usize) -> HashSet<&str> {
        let (n, mut at) = self.len_at(at);
        (0..n)
            .map(|_| {
                let (key, next) = self.str_at(at);
                at = next;
                key
            })
            .collect()
    }

    /// The namespaces that have a ConfigMap, and those that have a Secret.
    fn spoken(&self) -> impl Iterator<Item = (Source, Option<&str>)> {
        self.entries.iter().map(|e| {
            let r = self.read(e);
            (r.source, r.namespace)
        })
    }

    /// Adds to `defined` the sources of `wanted`, with their keys.
    fn define<'a>(
        &'a self,
        wanted: &HashSet<(Source, Option<&str>, &str)>,
        defined: &mut Defined<'a>,
    ) {
        for e in &self.entries {
            let r = self.read(e);
            let at = (r.source, r.namespace, r.name);
            if wanted.contains(&at) {
                define(defined, at, r.keys.map(|k| self.keys_at(k)));
            }
        }
    }
}

fn dangling_env_ref(set: &SetInput<'_>, out: &mut SetHits) {
    let (objects, sources) = (set.objects, set.sources);
    // Made by operators' resources (the core ConfigMaps and Secrets are in `sources`).
    let mut defined: Defined = HashMap::new();
    // Namespaces the set speaks for, per source; and those with an operator's resources.
    let mut spoken: HashSet<(Source, Option<&str>)> = sources.spoken().collect();
    let mut operated: HashSet<Option<&str>> = HashSet::new();
    for r in objects {
        let ns = r.namespace();
        match (r.group(), r.kind()) {
            ("bitnami.com", "SealedSecret") => {
                define(&mut defined, (Source::Secret, ns, r.name()), None);
                spoken.insert((Source::Secret, ns));
            }
            ("external-secrets.io", "ExternalSecret") => {
                let target = obj(r.object.field("spec")).and_then(|s| obj(s.field("target")));
                let policy = target
                    .and_then(|t| get_str(t, "creationPolicy"))
                    .unwrap_or("Owner");
                if matches!(policy, "Owner" | "Orphan") {
                    let name = target
                        .and_then(|t| get_str(t, "name"))
                        .filter(|n| !n.is_empty())
                        .unwrap_or(r.name());
                    define(&mut defined, (Source::Secret, ns, name), None);
                }
                spoken.insert((Source::Secret, ns));
                operated.insert(ns);
            }
            (group, _) if is_custom_group(group) => {
                operated.insert(ns);
            }
            _ => {}
        }
    }
    if spoken.is_empty() {
        return;
    }
    // The references first: only the sources they name are looked up.
    let mut judged = Vec::new();
    for (i, r) in objects.iter().enumerate() {
        let Some(pod) = pod_of(r) else { continue };
        let ns = r.namespace();
        for reference in references(&pod) {
            if spoken.contains(&(reference.source, ns)) && reference.name != "kube-root-ca.crt" {
                judged.push((i, ns, reference));
            }
        }
    }
    let wanted: HashSet<(Source, Option<&str>, &str)> = judged
        .iter()
        .map(|(_, ns, r)| (r.source, *ns, r.name))
        .collect();
    sources.define(&wanted, &mut defined);
    for (i, ns, reference) in judged {
        let Reference {
            field,
            source,
            name,
            key,
            key_only,
        } = reference;
        let kind = source.kind();
        match defined.get(&(source, ns, name)) {
            None if source == Source::Secret && operated.contains(&ns) => {}
            // Reported once, at the source's name, not again for each of its keys.
            None if key_only => {}
            None => {
                out.push(
                    i,
                    field,
                    format!(
                        "{kind} {name:?} is not in the rendered set, which holds the {kind}s {}: the pod will not start until it exists; render it, fix the name, or mark the reference optional: true",
                        in_namespace(ns)
                    ),
                );
            }
            Some(None) => {}
            Some(Some(keys)) => {
                let Some((at, key)) = key else { continue };
                if !keys.contains(key) {
                    let mut have: Vec<&str> = keys.iter().copied().collect();
                    have.sort_unstable();
                    let have = if have.is_empty() {
                        "it has no keys".to_string()
                    } else {
                        format!("its keys: {}", have.join(", "))
                    };
                    out.push(
                        i,
                        at,
                        format!(
                            "{kind} {name:?} has no key {key:?} ({have}): the pod will not start"
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{expect_hits as expect, hits_of};

    const SET: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {LOG_LEVEL: info, app.toml: 'x = 1'}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: hunter2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: api
        image: api:1
        env:
        - name: LOG_LEVEL
          valueFrom: {configMapKeyRef: {name: settings, key: LOG_LEVEL}}
        - name: MODE
          valueFrom: {configMapKeyRef: {name: settings, key: MODE}}
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
        - name: DB_USER
          valueFrom: {secretKeyRef: {name: db, key: user, optional: true}}
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        envFrom:
        - configMapRef: {name: extra}
        - secretRef: {name: api-keys}
      volumes:
      - name: config
        configMap:
          name: settings
          items: [{key: app.toml, path: app.toml}, {key: missing.toml, path: m.toml}]
      - name: ca
        projected:
          sources:
          - configMap: {name: kube-root-ca.crt}
          - secret: {name: tls}
      - name: certs
        secret: {secretName: certs, optional: true}
";

    #[test]
    fn missing_sources_and_keys_are_reported_where_the_set_speaks() {
        let c = "spec.template.spec.containers[0]";
        expect(
            &DANGLING_ENV_REF,
            SET,
            &[
                ("api", "spec.template.spec.volumes[0].configMap.items[1].key", "has no key \"missing.toml\" (its keys: LOG_LEVEL, app.toml)"),
                ("api", "spec.template.spec.volumes[1].projected.sources[1].secret.name", "Secret \"tls\" is not in the rendered set"),
                ("api", &format!("{c}.env[1].valueFrom.configMapKeyRef.key"), "no key \"MODE\""),
                ("api", &format!("{c}.envFrom[0].configMapRef.name"), "ConfigMap \"extra\" is not in the rendered set, which holds the ConfigMaps in namespace \"shop\""),
                ("api", &format!("{c}.envFrom[1].secretRef.name"), "Secret \"api-keys\""),
            ],
        );
    }

    #[test]
    fn namespaces_the_set_does_not_speak_for_are_not_judged() {
        // No ConfigMap nor Secret rendered: the pod's sources come from elsewhere.
        let alone = SET.split("---\n").nth(2).expect("deployment");
        assert!(hits_of(&DANGLING_ENV_REF, alone).is_empty());
        // An operator in the namespace may make the Secrets; ConfigMaps are still judged.
        let operated = format!(
            "{SET}---\napiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {{name: pg, namespace: shop}}\nspec: {{instances: 1}}\n"
        );
        let hits = hits_of(&DANGLING_ENV_REF, &operated);
        assert_eq!(hits.len(), 3, "{hits:#?}");
        assert!(hits.iter().all(|h| !h.2.contains("Secret \"")), "{hits:#?}");
    }

    #[test]
    fn secrets_made_by_external_and_sealed_secrets_count() {
        let made = format!(
            "{SET}---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: keys, namespace: shop}}\nspec:\n  target: {{name: api-keys}}\n---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: tls, namespace: shop}}\nspec: {{encryptedData: {{tls.crt: AgB}}}}\n"
        );
        let hits = hits_of(&DANGLING_ENV_REF, &made);
        // ExternalSecret is an operator's resource: every Secret of the namespace is its to make.
        assert!(hits.iter().all(|h| !h.2.contains("Secret \"")), "{hits:#?}");
        assert_eq!(hits.len(), 3, "{hits:#?}");
    }

    /// A Secret written beside the SealedSecret that makes it: its keys are the controller's to
    /// fill in, whichever of the two comes first. A ConfigMap written twice (the collision
    /// check's to report) has the keys of both, in any order.
    #[test]
    fn what_two_definers_define_does_not_hang_on_their_order() {
        let mut docs = SET.split("---\n");
        let (config, secret) = (
            docs.next().expect("ConfigMap"),
            docs.next().expect("Secret"),
        );
        let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: shop}\nspec: {encryptedData: {user: AgB}}\n";
        let again = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {MODE: fast}\n";
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: c:1\n    env:\n    - {name: U, valueFrom: {secretKeyRef: {name: db, key: user}}}\n    - {name: M, valueFrom: {configMapKeyRef: {name: settings, key: MODE}}}\n";
        for order in [
            [config, again, secret, sealed, pod],
            [sealed, pod, again, secret, config],
        ] {
            let text = order.join("---\n");
            assert_eq!(hits_of(&DANGLING_ENV_REF, &text), [], "{text}");
        }
        // Each on its own is judged.
        let hits = hits_of(&DANGLING_ENV_REF, &[config, secret, pod].join("---\n"));
        let fields: Vec<&str> = hits.iter().map(|h| h.1.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.containers[0].env[0].valueFrom.secretKeyRef.key",
                "spec.containers[0].env[1].valueFrom.configMapKeyRef.key"
            ],
            "{hits:#?}"
        );
    }

    /// Names and keys read back as written, whatever they hold (digits, `:`, nothing, other
    /// scripts), with no namespace or no keys known, and never a value.
    #[test]
    fn sources_read_back_what_was_added() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '1:2', namespace: '3:'}\ndata: {'': a, '4:5': b, 'ключ': c}\nbinaryData: {bin: AA==}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/service-account-token\ndata: {token: c2VjcmV0}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: ns}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n";
        let objects = crate::source::parse_text(yaml, "t.yaml").expect("reads");
        let mut sources = Sources::default();
        let taken: Vec<bool> = objects.iter().map(|r| sources.add(r)).collect();
        assert_eq!(taken, [true, true, true, false]);
        type Row<'a> = (Option<&'a str>, &'a str, Option<Vec<&'a str>>);
        let read: Vec<Row> = sources
            .entries
            .iter()
            .map(|e| {
                let r = sources.read(e);
                let keys = r.keys.map(|k| {
                    let mut keys: Vec<&str> = sources.keys_at(k).into_iter().collect();
                    keys.sort_unstable();
                    keys
                });
                (r.namespace, r.name, keys)
            })
            .collect();
        assert_eq!(
            read,
            [
                (Some("3:"), "1:2", Some(vec!["", "4:5", "bin", "ключ"])),
                (None, "s", None),
                (Some("ns"), "t", Some(vec![])),
            ]
        );
        assert!(!sources.text().contains("c2VjcmV0") && !sources.text().contains("AA=="));
    }
}
