//! Asks the cluster what applying would do, object by object.
//!
//! Namespaces and CustomResourceDefinitions go first, so that objects in a namespace the input
//! creates (and custom objects of a kind it defines) are known to be new: they are shown as
//! written, without asking the server, instead of failing as `kubectl diff` does. Every other
//! object gets one GET (live) and one server-side-apply dry run (merged), issued together;
//! `concurrency` objects are in flight at once, so at most twice as many requests. A failure is recorded on its object and
//! the run goes on.

use super::mask::{self, Scrubber};
use super::normalize::Normalizer;
use super::{Conflict, ObjectDiff, ObjectId, Op};
use crate::cluster::client::{ApiFailure, Cluster, Kind};
use crate::policy::network::selects;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How to diff.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Field manager of the dry-run apply.
    pub manager: String,
    /// Take over fields other managers own instead of reporting a conflict.
    pub force_conflicts: bool,
    /// What both sides lose before comparing.
    pub normalizer: Normalizer,
    /// Print Secret values.
    pub show_secrets: bool,
    /// The inventory's ApplySet: its members get the `part-of` label, as `apply` gives it, and
    /// the parent is diffed as `apply` would write it.
    pub set: Option<(crate::cluster::applyset::Parent, String)>,
    /// `--adopt-applyset`: the parent may be another tool's (else that is an error, as for
    /// `apply`).
    pub adopt_applyset: bool,
    /// `--prune`: list the members of the set that left the input as deletions.
    pub prune: bool,
    /// `--prune-namespaces`: Namespaces may be among them.
    pub prune_namespaces: bool,
    /// Objects diffed at once (each sends its GET and dry run together; the cluster's
    /// request bound is twice this).
    pub concurrency: usize,
    /// `-l/--selector`, as a `LabelSelector`: only the objects it selects are diffed, and only
    /// the prune candidates it selects are listed. The objects it leaves out still count as
    /// rendered (they are never prune candidates) and their namespaces as touched.
    pub selector: Option<serde_json::Map<String, Value>>,
}

impl Settings {
    /// Whether `-l/--selector` (if any) selects `object`.
    fn selects(&self, object: &Value) -> bool {
        self.selector
            .as_ref()
            .is_none_or(|s| selects(s, object["metadata"]["labels"].as_object()))
    }
}

/// Everything a run found.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// One result per input object (in input order), then the prune candidates.
    pub objects: Vec<ObjectDiff>,
    /// Failures that belong to no single object (listing for prune).
    pub errors: Vec<String>,
}

/// One input object, resolved against the cluster.
pub(crate) struct Target {
    pub(crate) id: ObjectId,
    pub(crate) object: Value,
    pub(crate) kind: Option<Kind>,
    /// Why no request is made: the object is new because the input creates its namespace or
    /// its kind.
    pub(crate) new_because: Option<String>,
}

/// Kinds the input's CustomResourceDefinitions define: (group, kind) → (versions, namespaced).
pub(crate) fn input_crds(objects: &[Value]) -> BTreeMap<(String, String), (Vec<String>, bool)> {
    objects
        .iter()
        .filter(|o| {
            o["kind"] == "CustomResourceDefinition"
                && o["apiVersion"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("apiextensions.k8s.io/"))
        })
        .filter_map(|o| {
            let spec = &o["spec"];
            let group = spec["group"].as_str()?.to_string();
            let kind = spec["names"]["kind"].as_str()?.to_string();
            let versions = spec["versions"]
                .as_array()
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| v["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Some(((group, kind), (versions, spec["scope"] != "Cluster")))
        })
        .collect()
}

/// Why an object of a kind the server does not serve cannot be diffed, in kubectl's words
/// (`no matches for kind … ensure CRDs are installed first`), with who serves the kind when it
/// is one the tool emits.
fn no_matches(api_version: &str, kind: &str) -> String {
    let mut text = format!(
        "no matches for kind {kind:?} in version {api_version:?}: ensure CRDs are installed first (the server does not serve it, and no CustomResourceDefinition in the input defines it)"
    );
    if let Some(o) = crate::schema::operators::of(api_version, kind) {
        text.push_str(&format!("; {kind} comes with {}", o.operator));
    }
    text
}

/// Resolves every object: its served kind, its namespace (the default one when it names
/// none), or the error that keeps it from being diffed.
pub(crate) fn resolve(cluster: &Cluster, objects: Vec<Value>) -> Vec<Result<Target, ObjectDiff>> {
    let crds = input_crds(&objects);
    objects
        .into_iter()
        .map(|mut object| {
            let mut id = ObjectId::of(&object);
            if id.name.is_empty() {
                return Err(ObjectDiff::failed(
                    id,
                    Op::Error,
                    "the object has no metadata.name".into(),
                ));
            }
            let kind = cluster.kind(&id.api_version, &id.kind).cloned();
            let defined = crds.get(&(id.group().to_string(), id.kind.clone()));
            let version = id.api_version.rsplit('/').next().unwrap_or_default();
            let namespaced = match (&kind, defined) {
                (Some(k), _) => k.namespaced,
                (None, Some((versions, namespaced))) if versions.iter().any(|v| v == version) => {
                    *namespaced
                }
                _ => {
                    return Err(ObjectDiff::failed(
                        id.clone(),
                        Op::Error,
                        no_matches(&id.api_version, &id.kind),
                    ))
                }
            };
            let meta = object
                .as_object_mut()
                .and_then(|o| o.get_mut("metadata"))
                .and_then(Value::as_object_mut);
            if let Some(meta) = meta {
                if namespaced {
                    let ns = id
                        .namespace
                        .clone()
                        .unwrap_or_else(|| cluster.default_namespace().to_string());
                    meta.insert("namespace".into(), Value::String(ns.clone()));
                    id.namespace = Some(ns);
                } else {
                    meta.shift_remove("namespace");
                    id.namespace = None;
                }
            }
            let new_because = kind.is_none().then(|| {
                "its kind is defined by a CustomResourceDefinition in the input: shown as written, not validated by the server".to_string()
            });
            Ok(Target {
                id,
                object,
                kind,
                new_because,
            })
        })
        .collect()
}

/// Diffs `objects` (rendered, in apply order) against `cluster`: those `settings.selector`
/// selects; the others only bound the prune and the ApplySet parent. With an inventory, the
/// parent follows the input's objects, then the prune candidates.
pub async fn run(cluster: &Cluster, objects: Vec<Value>, settings: &Settings) -> Plan {
    let mut slots: Vec<Option<ObjectDiff>> = Vec::new();
    let mut first = Vec::new();
    let mut rest = Vec::new();
    let mut left_out = Vec::new();
    let selected: Vec<bool> = objects.iter().map(|o| settings.selects(o)).collect();
    let id = settings.set.as_ref().map(|(p, _)| p.id());
    for (i, mut r) in resolve(cluster, objects).into_iter().enumerate() {
        slots.push(None);
        if let (Ok(t), Some(id)) = (&mut r, &id) {
            if let Err(e) = crate::cluster::applyset::label_member(&mut t.object, id) {
                r = Err(ObjectDiff::failed(t.id.clone(), Op::Error, e));
            }
        }
        match r {
            Ok(t) if !selected[i] => left_out.push(t),
            Err(_) if !selected[i] => {}
            Err(d) => slots[i] = Some(d),
            Ok(t) if is_namespace(&t.id) || t.id.kind == "CustomResourceDefinition" => {
                first.push((i, t))
            }
            Ok(t) => rest.push((i, t)),
        }
    }
    let all = || first.iter().chain(&rest).map(|(_, t)| t).chain(&left_out);
    let rendered: BTreeSet<(String, String, Option<String>, String)> =
        all().map(|t| key(&t.id)).collect();
    let rendered_objects: Vec<Value> = if settings.set.is_some() {
        all().map(|t| t.object.clone()).collect()
    } else {
        Vec::new()
    };

    let done = diff_all(cluster, first, settings).await;
    let new_namespaces: BTreeSet<String> = done
        .iter()
        .filter(|(_, d)| is_namespace(&d.id) && d.op == Op::Create)
        .map(|(_, d)| d.id.name.clone())
        .collect();
    for (i, d) in done {
        slots[i] = Some(d);
    }
    for (_, t) in rest.iter_mut() {
        if let Some(ns) =
            t.id.namespace
                .as_ref()
                .filter(|ns| new_namespaces.contains(*ns))
        {
            t.new_because = Some(format!(
                "namespace {ns} is created by this input: shown as written, without server defaults"
            ));
        }
    }
    for (i, d) in diff_all(cluster, rest, settings).await {
        slots[i] = Some(d);
    }
    let mut plan = Plan {
        objects: slots.into_iter().flatten().collect(),
        errors: Vec::new(),
    };
    if let Some((parent, inventory)) = &settings.set {
        let live = read_parent(cluster, parent).await;
        // What the live parent records widens the prune search (read only: whoever manages
        // it); the parent's own entry says whether apply may change it.
        let recorded = live.as_ref().ok().and_then(|l| {
            crate::cluster::applyset::check_parent(parent, l.as_ref(), true)
                .ok()
                .flatten()
        });
        let d = parent_diff(
            cluster,
            (parent, inventory),
            live,
            &rendered_objects,
            recorded.as_ref(),
            &new_namespaces,
            settings,
        )
        .await;
        plan.objects.push(d);
        if settings.prune {
            prune(
                cluster,
                parent,
                inventory,
                &rendered_objects,
                recorded.as_ref(),
                &rendered,
                settings,
                &mut plan,
            )
            .await;
        }
    }
    plan
}

/// The live ApplySet parent (`None`: none yet, or its kind is not served).
async fn read_parent(
    cluster: &Cluster,
    parent: &crate::cluster::applyset::Parent,
) -> Result<Option<Value>, String> {
    let Some(kind) = cluster.kind("v1", parent.kind.kind()) else {
        return Ok(None);
    };
    cluster
        .get(kind, Some(&parent.namespace), &parent.name)
        .await
        .map_err(|e| format!("reading the ApplySet parent {}: {e}", parent.describe()))
}

/// The ApplySet parent as `apply` would write it once done: the group-kinds and namespaces of
/// the whole rendered set, plus what the live parent records unless a `--prune` of the whole
/// set (no `-l`) shrinks it to the rendered set; or why `apply` would refuse to write it.
async fn parent_diff(
    cluster: &Cluster,
    (parent, inventory): (&crate::cluster::applyset::Parent, &str),
    live: Result<Option<Value>, String>,
    rendered: &[Value],
    recorded: Option<&crate::cluster::applyset::Recorded>,
    new_namespaces: &BTreeSet<String>,
    settings: &Settings,
) -> ObjectDiff {
    use crate::cluster::{applyset, prune};
    let shrunk = settings.prune && settings.selector.is_none();
    let (gks, nss) = prune::parent_sets(rendered, recorded, shrunk);
    let object = parent.object(&gks, &nss);
    let id = ObjectId::of(&object);
    let live = match live {
        Ok(l) => l,
        Err(e) => return ObjectDiff::failed(id, Op::Error, e),
    };
    if let Err(e) = applyset::check_parent(parent, live.as_ref(), settings.adopt_applyset) {
        return ObjectDiff::failed(id, Op::Error, e);
    }
    let note = format!("the ApplySet parent of inventory {inventory}");
    let Some(kind) = cluster.kind("v1", parent.kind.kind()) else {
        return ObjectDiff::failed(
            id,
            Op::Error,
            format!(
                "the server does not serve v1 {}, the ApplySet parent's kind",
                parent.kind.kind()
            ),
        );
    };
    if new_namespaces.contains(&parent.namespace) {
        let mut d = finish(id, None, Some(object), settings);
        d.notes.push(note);
        d.notes.push(format!(
            "namespace {} is created by this input: shown as written, without server defaults",
            parent.namespace
        ));
        return d;
    }
    // Forced, as apply writes its own parent.
    let merged = cluster
        .apply_dry_run(
            kind,
            Some(&parent.namespace),
            &parent.name,
            &object,
            &settings.manager,
            true,
        )
        .await;
    match merged {
        Ok(m) => {
            let mut d = finish(id, live, Some(m), settings);
            d.notes.push(note);
            d
        }
        Err(e) if e.code == 404 && e.details_kind == "namespaces" => {
            ObjectDiff::failed(id, Op::Error, parent.missing_namespace())
        }
        Err(e) => failure(id, &e, ""),
    }
}

pub(crate) fn is_namespace(id: &ObjectId) -> bool {
    id.kind == "Namespace" && id.api_version == "v1"
}

/// Identity across versions: group, kind, namespace, name.
pub(crate) fn key(id: &ObjectId) -> (String, String, Option<String>, String) {
    (
        id.group().to_string(),
        id.kind.clone(),
        id.namespace.clone(),
        id.name.clone(),
    )
}

async fn diff_all(
    cluster: &Cluster,
    targets: Vec<(usize, Target)>,
    settings: &Settings,
) -> Vec<(usize, ObjectDiff)> {
    // `concurrency` objects at once, each with its two requests in flight; completion order
    // does not matter (results carry their input index).
    stream::iter(targets)
        .map(|(i, t)| async move { (i, diff_one(cluster, t, settings).await) })
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await
}

async fn diff_one(cluster: &Cluster, t: Target, settings: &Settings) -> ObjectDiff {
    let mut scrubber = Scrubber::default();
    scrubber.add(&t.object);
    let kind = match (&t.kind, t.new_because) {
        (Some(kind), None) => kind,
        (_, reason) => {
            let mut d = finish(t.id, None, Some(t.object), settings);
            d.notes.extend(reason);
            return d;
        }
    };
    let ns = t.id.namespace.as_deref();
    let (live, merged) = futures::join!(
        cluster.get(kind, ns, &t.id.name),
        cluster.apply_dry_run(
            kind,
            ns,
            &t.id.name,
            &t.object,
            &settings.manager,
            settings.force_conflicts
        )
    );
    let live = match live {
        Ok(l) => l,
        Err(e) => {
            let msg = format!("reading the live object: {e}");
            return ObjectDiff::failed(t.id, Op::Error, scrubber.scrub(&msg));
        }
    };
    let deleting = live
        .as_ref()
        .is_some_and(|l| !l["metadata"]["deletionTimestamp"].is_null());
    if let Some(l) = &live {
        scrubber.add(l);
    }
    match merged {
        Ok(m) => {
            scrubber.add(&m);
            let mut d = finish(t.id, live, Some(m), settings);
            if deleting {
                d.notes.push(
                    "the live object is being deleted (it has a deletionTimestamp): applying now may recreate it or fail".into(),
                );
            }
            d
        }
        Err(e) => {
            let mut d = failure(t.id, &e, &new_namespace_hint(&e));
            d.message = d.message.map(|m| scrubber.scrub(&m));
            if d.op != Op::Error {
                // Show what is live next to the conflict or replacement.
                d.live = live.map(|mut l| {
                    settings.normalizer.apply(&d.id, &mut l);
                    if !settings.show_secrets {
                        mask::mask_pair(Some(&mut l), None);
                    }
                    l
                });
            }
            d
        }
    }
}

pub(crate) fn new_namespace_hint(e: &ApiFailure) -> String {
    if e.code == 404 && e.details_kind == "namespaces" {
        format!(
            " (namespace {} does not exist and the input does not create it)",
            e.details_name
        )
    } else {
        String::new()
    }
}

/// Classifies a failed dry run.
fn failure(id: ObjectId, e: &ApiFailure, hint: &str) -> ObjectDiff {
    failure_of("server-side apply dry run", id, e, hint)
}

/// Classifies a failed server-side apply (`what`: the request, for the error's message):
/// a conflict, a required replacement, or an error.
pub(crate) fn failure_of(what: &str, id: ObjectId, e: &ApiFailure, hint: &str) -> ObjectDiff {
    if e.code == 409 && e.reason == "Conflict" {
        let conflicts: Vec<Conflict> = e
            .causes
            .iter()
            .filter(|(reason, _, _)| reason == "FieldManagerConflict")
            .map(|(_, field, message)| Conflict {
                manager: quoted(message).unwrap_or_else(|| message.clone()),
                field: field.clone(),
            })
            .collect();
        if !conflicts.is_empty() {
            let mut d = ObjectDiff::failed(id, Op::Conflict, e.message.clone());
            d.conflicts = conflicts;
            return d;
        }
    }
    let immutable = |s: &str| s.contains("field is immutable");
    if e.code == 422 && (immutable(&e.message) || e.causes.iter().any(|c| immutable(&c.2))) {
        return ObjectDiff::failed(id, Op::RequiresReplace, e.message.clone());
    }
    ObjectDiff::failed(id, Op::Error, format!("{what}: {e}{hint}"))
}

/// The first `"quoted"` word of `s`.
fn quoted(s: &str) -> Option<String> {
    let start = s.find('"')? + 1;
    let len = s[start..].find('"')?;
    Some(s[start..start + len].to_string())
}

/// Normalises, compares and masks.
fn finish(
    id: ObjectId,
    live: Option<Value>,
    merged: Option<Value>,
    settings: &Settings,
) -> ObjectDiff {
    let (mut live, mut merged) = (live, merged);
    for v in live.iter_mut().chain(merged.iter_mut()) {
        settings.normalizer.apply(&id, v);
    }
    let op = match (&live, &merged) {
        (None, Some(_)) => Op::Create,
        (Some(_), None) => Op::Delete,
        (l, m) if l == m => Op::Unchanged,
        _ => Op::Update,
    };
    if !settings.show_secrets {
        mask::mask_pair(live.as_mut(), merged.as_mut());
    }
    ObjectDiff {
        id,
        op,
        live,
        merged,
        conflicts: Vec::new(),
        message: None,
        notes: Vec::new(),
    }
}

/// Lists the ApplySet's members that the input no longer renders, as `apply --prune` finds
/// them (`cluster::prune`).
#[allow(clippy::too_many_arguments)]
async fn prune(
    cluster: &Cluster,
    parent: &crate::cluster::applyset::Parent,
    inventory: &str,
    objects: &[Value],
    recorded: Option<&crate::cluster::applyset::Recorded>,
    rendered: &BTreeSet<(String, String, Option<String>, String)>,
    settings: &Settings,
    plan: &mut Plan,
) {
    use crate::cluster::prune;
    let scope = prune::Scope::new(
        parent.id(),
        inventory.to_string(),
        objects,
        recorded,
        settings.prune_namespaces,
    );
    let (found, errors) = prune::candidates(cluster, &scope, settings.concurrency).await;
    plan.errors.extend(errors);
    for item in found {
        let id = ObjectId::of(&item);
        if rendered.contains(&key(&id)) || !settings.selects(&item) {
            continue;
        }
        let namespace = is_namespace(&id);
        let mut d = finish(id, Some(item), None, settings);
        if namespace {
            d.notes
                .push("deleting a Namespace deletes every object in it".into());
        }
        plan.objects.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conflicts_name_their_managers() {
        let e = ApiFailure {
            code: 409,
            reason: "Conflict".into(),
            message: "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas".into(),
            details_kind: "deployments".into(),
            details_name: "web".into(),
            causes: vec![(
                "FieldManagerConflict".into(),
                ".spec.replicas".into(),
                "conflict with \"kubectl-edit\" using apps/v1".into(),
            )],
        };
        let d = failure(ObjectId::of(&json!({})), &e, "");
        assert_eq!(d.op, Op::Conflict);
        assert_eq!(
            d.conflicts,
            vec![Conflict {
                manager: "kubectl-edit".into(),
                field: ".spec.replicas".into()
            }]
        );
        let immutable = ApiFailure {
            code: 422,
            reason: "Invalid".into(),
            message: "Service \"web\" is invalid: spec.clusterIP: Invalid value: \"10.0.0.1\": field is immutable".into(),
            ..e.clone()
        };
        assert_eq!(
            failure(ObjectId::of(&json!({})), &immutable, "").op,
            Op::RequiresReplace
        );
        let other = ApiFailure {
            code: 500,
            reason: "InternalError".into(),
            causes: vec![],
            ..e
        };
        let d = failure(ObjectId::of(&json!({})), &other, "");
        assert_eq!(d.op, Op::Error);
        assert!(d
            .message
            .unwrap()
            .starts_with("server-side apply dry run: InternalError (500)"));
    }

    #[test]
    fn crds_in_the_input_define_kinds() {
        let crds = input_crds(&[json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget"},
                     "versions": [{"name": "v1"}, {"name": "v2"}]}
        })]);
        assert_eq!(
            crds[&("example.com".to_string(), "Widget".to_string())],
            (vec!["v1".to_string(), "v2".to_string()], false)
        );
    }
}
