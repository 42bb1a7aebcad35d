//! The one place that knows which labels and annotations the tool adds, and where.
//!
//! Labels go to `metadata.labels` and to pod templates (Deployment, ReplicaSet, StatefulSet,
//! DaemonSet, Job, ReplicationController, CronJob job templates). Selectors are never touched:
//! they are immutable on live objects; so are StatefulSet volumeClaimTemplates, which keep what
//! the user wrote and get, on a module's StatefulSet only, the tool's release-stable labels.
//! `nixernetes.io/version` stays off templates, so upgrading the tool does not roll every pod.
//! A value the user wrote always wins over an injected one; so do a module's own labels (e.g. its
//! `spec.compliance`) over a `ComplianceProfile`'s, which go only to the objects its selector
//! matches and never to local-config objects.

use crate::kind::{Context, KindDef};
use crate::resource::Field;
use crate::resource::{child_map, is_cluster_scoped, Resource};
use serde_json::{Map, Value};

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const VERSION: &str = "nixernetes.io/version";
pub const FRAMEWORK: &str = "nixernetes.io/framework";
pub const MODULE: &str = "nixernetes.io/module";
pub const INVENTORY: &str = "nixernetes.io/inventory";
pub const CREATED_BY: &str = "nixernetes.io/created-by";
pub const CREATED_AT: &str = "nixernetes.io/created-at";
pub const SOURCE: &str = "nixernetes.io/source";
/// `nixernetes.io/framework` of what user kinds (KindDefinitions) emit: they belong to no seed
/// module, and a label value cannot name the definition (`shopservices.platform.acme.io` may be
/// longer than 63 characters); `nixernetes.io/module` carries its category and
/// `nixernetes.io/source` the instance.
pub const USER_FRAMEWORK: &str = crate::userkinds::FRAMEWORK;

/// Which module resource produced an object, and what it passes on to its children.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// `<Kind>/<namespace>/<name>` of the outermost module resource.
    pub source: String,
    pub framework: &'static str,
    pub category: &'static str,
    /// Whether the outermost module resource is an instance of a user kind: then everything
    /// it expands into, built-in kinds and all, is that kind's.
    pub user: bool,
    pub namespace: String,
    /// User labels (module metadata and `spec.labels`) plus labels the kind adds.
    pub labels: Map<String, Value>,
    /// User annotations (module metadata and `spec.annotations`).
    pub annotations: Map<String, Value>,
}

impl Provenance {
    /// The provenance of children of `res`, a module resource of kind `def`.
    pub fn of(
        res: &Resource,
        def: &KindDef,
        namespace: &str,
        kind_labels: Map<String, Value>,
        parent: Option<&Provenance>,
    ) -> Provenance {
        let mut labels = super::inheritable(res.labels());
        let mut annotations = super::inheritable(res.annotations());
        let spec = res.object.field("spec");
        for (target, field) in [(&mut labels, "labels"), (&mut annotations, "annotations")] {
            if let Some(Value::Object(m)) = spec.and_then(|s| s.get(field)) {
                for (k, v) in m {
                    target.insert(k.clone(), v.clone());
                }
            }
        }
        for (k, v) in kind_labels {
            labels.insert(k, v);
        }
        Provenance {
            source: match parent {
                Some(p) => p.source.clone(),
                None if namespace.is_empty() => format!("{}/{}", res.kind(), res.name()),
                None => format!("{}/{}/{}", res.kind(), namespace, res.name()),
            },
            // What a user kind's instance expands into is that kind's, built-in kinds and all.
            framework: match parent {
                Some(p) if p.user => p.framework,
                _ => def.module.name,
            },
            category: match parent {
                Some(p) if p.user => p.category,
                _ => def.module.category.as_str(),
            },
            user: parent.is_some_and(|p| p.user),
            namespace: namespace.to_string(),
            labels,
            annotations,
        }
    }

    /// The provenance of children of `res`, an instance of a user kind: its metadata labels and
    /// annotations go to them (its spec is the user kind's own, with no envelope).
    pub fn of_user(
        res: &Resource,
        category: &'static str,
        namespace: &str,
        parent: Option<&Provenance>,
    ) -> Provenance {
        Provenance {
            source: match parent {
                Some(p) => p.source.clone(),
                None if namespace.is_empty() => format!("{}/{}", res.kind(), res.name()),
                None => format!("{}/{}/{}", res.kind(), namespace, res.name()),
            },
            framework: USER_FRAMEWORK,
            category,
            user: true,
            namespace: namespace.to_string(),
            labels: super::inheritable(res.labels()),
            annotations: super::inheritable(res.annotations()),
        }
    }

    /// Provenance of an object the tool generates itself (seed module `policy-generation`), on
    /// behalf of `parent` when it serves one module's workload.
    pub fn generated(namespace: &str, parent: Option<&Provenance>) -> Provenance {
        Provenance {
            source: parent
                .map(|p| p.source.clone())
                .unwrap_or_else(|| format!("policy-generation/{namespace}")),
            framework: "policy-generation",
            category: "operations",
            user: false,
            namespace: namespace.to_string(),
            labels: parent.map(|p| p.labels.clone()).unwrap_or_default(),
            annotations: parent.map(|p| p.annotations.clone()).unwrap_or_default(),
        }
    }

    /// Provenance of an object generated for every module workload of a namespace: it carries
    /// the labels (e.g. compliance labels) that all of them agree on.
    pub fn shared(namespace: &str, members: &[&Provenance]) -> Provenance {
        let mut p = Provenance::generated(namespace, None);
        if let Some((first, rest)) = members.split_first() {
            p.labels = first
                .labels
                .iter()
                .filter(|(k, v)| rest.iter().all(|o| o.labels.get(*k) == Some(*v)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
        p
    }

    /// Gives a nested module resource this provenance's namespace, labels and annotations.
    pub fn pass_down(&self, child: &mut Resource) {
        let ns = self.namespace.clone();
        let meta = child.metadata_mut();
        if !ns.is_empty() {
            meta.entry("namespace").or_insert(Value::String(ns));
        }
        add_missing(child_map(meta, "labels"), &self.labels);
        add_missing(child_map(meta, "annotations"), &self.annotations);
    }
}

/// Inserts every entry of `add` whose key `map` lacks.
fn add_missing(map: &mut Map<String, Value>, add: &Map<String, Value>) {
    for (k, v) in add {
        // One lookup (a key is hashed once), not `contains_key` then `insert`.
        map.entry(k.as_str()).or_insert_with(|| v.clone());
    }
}

fn add(map: &mut Map<String, Value>, key: &str, value: &str) {
    map.entry(key)
        .or_insert_with(|| Value::String(value.to_string()));
}

/// Adds the tool's metadata to one emitted object.
pub fn inject(obj: &mut Resource, ctx: &Context, prov: Option<&Provenance>) {
    let namespaced = !is_cluster_scoped(obj.api_version(), obj.kind());
    let local_config = obj.is_local_config();
    let (api_version, kind) = (obj.api_version().to_string(), obj.kind().to_string());
    let meta = obj.metadata_mut();

    if namespaced
        && meta
            .field("namespace")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        let ns = prov
            .map(|p| p.namespace.as_str())
            .filter(|s| !s.is_empty())
            .or(ctx.namespace.as_deref());
        match ns {
            Some(ns) => {
                meta.insert("namespace".into(), Value::String(ns.to_string()));
            }
            // A child with no namespace to give: leave it to the orchestrator.
            None if prov.is_some() => {
                meta.remove("namespace");
            }
            None => {}
        }
    }

    let mut pod_labels = Map::new();
    add(&mut pod_labels, MANAGED_BY, "nixernetes");
    if let Some(p) = prov {
        add(&mut pod_labels, FRAMEWORK, p.framework);
        add(&mut pod_labels, MODULE, p.category);
    }
    if let Some(inv) = &ctx.inventory {
        add(&mut pod_labels, INVENTORY, inv);
    }
    add_missing(&mut pod_labels, &ctx.labels);
    if let Some(p) = prov {
        add_missing(&mut pod_labels, &p.labels);
    }
    if let Some(c) = ctx.compliance.as_ref().filter(|_| !local_config) {
        let empty = Map::new();
        let own = meta
            .field("labels")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let name = meta.field("name").and_then(Value::as_str).unwrap_or("");
        let ns = meta
            .field("namespace")
            .and_then(Value::as_str)
            .filter(|s| namespaced && !s.is_empty());
        if c.selector.matches(&kind, name, ns, &[own, &pod_labels]) {
            add_missing(&mut pod_labels, &c.labels);
        }
    }

    let labels = child_map(meta, "labels");
    add_missing(labels, &pod_labels);
    add(labels, VERSION, crate::VERSION);

    let annotations = child_map(meta, "annotations");
    add(annotations, CREATED_BY, "nixernetes");
    if let Some(p) = prov {
        add(annotations, SOURCE, &p.source);
        add_missing(annotations, &p.annotations);
    }
    add_missing(annotations, &ctx.annotations);
    if let Some(t) = &ctx.timestamp {
        add(annotations, CREATED_AT, t);
    }

    // A StatefulSet's claim templates cannot change once it exists (the API server refuses any
    // update to them), so they get only what never changes between renders and releases: the
    // tool's own labels of a module's StatefulSet. Pass-through claims are left as written.
    let claim_labels: Map<String, Value> = if prov.is_some() {
        STABLE
            .iter()
            .filter_map(|k| Some((k.to_string(), pod_labels.get(*k)?.clone())))
            .collect()
    } else {
        Map::new()
    };
    let with_claims = !claim_labels.is_empty();
    let (templates, claims) = template_metadata(&mut obj.object, &api_version, &kind, with_claims);
    for template in templates {
        add_missing(child_map(template, "labels"), &pod_labels);
    }
    for claim in claims {
        add_missing(child_map(claim, "labels"), &claim_labels);
    }
}

/// The labels a module's StatefulSet gives its claim templates: the same for a kind in every
/// render and every release (unlike `nixernetes.io/version`, the inventory or user labels,
/// which may change while the StatefulSet lives).
const STABLE: [&str; 3] = [MANAGED_BY, FRAMEWORK, MODULE];

/// Embedded `metadata` maps (created where missing).
type Templates<'a> = Vec<&'a mut Map<String, Value>>;

/// The embedded `metadata` maps that carry the object's labels: pod templates and CronJob job
/// templates; and apart, when `with_claims`, StatefulSet volumeClaimTemplates (else they are
/// not touched at all, not even given an empty `metadata`).
fn template_metadata<'a>(
    obj: &'a mut Map<String, Value>,
    api_version: &str,
    kind: &str,
    with_claims: bool,
) -> (Templates<'a>, Templates<'a>) {
    let mut out = Vec::new();
    let mut claims_out = Vec::new();
    let Some(Value::Object(spec)) = obj.get_mut("spec") else {
        return (out, claims_out);
    };
    match (api_version, kind) {
        ("apps/v1", "Deployment" | "ReplicaSet" | "DaemonSet")
        | ("batch/v1", "Job")
        | ("v1", "ReplicationController") => {
            if let Some(Value::Object(t)) = spec.get_mut("template") {
                out.push(child_map(t, "metadata"));
            }
        }
        ("apps/v1", "StatefulSet") => {
            let (template, claims) = split_two(spec, "template", "volumeClaimTemplates");
            if let Some(Value::Object(t)) = template {
                out.push(child_map(t, "metadata"));
            }
            if let Some(Value::Array(claims)) = claims.filter(|_| with_claims) {
                for c in claims.iter_mut().filter_map(Value::as_object_mut) {
                    claims_out.push(child_map(c, "metadata"));
                }
            }
        }
        ("batch/v1", "CronJob") => {
            if let Some(Value::Object(jt)) = spec.get_mut("jobTemplate") {
                let (meta, jspec) = split_two(jt, "metadata", "spec");
                if let Some(m) = meta.and_then(Value::as_object_mut) {
                    out.push(m);
                }
                if let Some(Value::Object(js)) = jspec {
                    if let Some(Value::Object(t)) = js.get_mut("template") {
                        out.push(child_map(t, "metadata"));
                    }
                }
            }
        }
        _ => {}
    }
    (out, claims_out)
}

/// Mutable access to two different keys of one map at once.
fn split_two<'a>(
    map: &'a mut Map<String, Value>,
    a: &str,
    b: &str,
) -> (Option<&'a mut Value>, Option<&'a mut Value>) {
    let mut first = None;
    let mut second = None;
    for (k, v) in map.iter_mut() {
        if k == a {
            first = Some(v);
        } else if k == b {
            second = Some(v);
        }
    }
    (first, second)
}
