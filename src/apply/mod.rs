//! `apply`: server-side apply of the rendered objects, object by object, with ApplySet pruning.
//!
//! Order: Namespaces and CustomResourceDefinitions first; then the ApplySet parent is brought to
//! the superset of what it recorded and what is being applied (so an interrupted run leaks
//! nothing); then the CRDs are waited for until `Established` and every other object is applied;
//! then, with `--prune`, the members that left the set are deleted and the parent records
//! exactly the new set. The live state of each batch is read before it is applied (to tell
//! created, configured and unchanged apart, as `diff` does): one LIST per kind and namespace
//! that holds two or more of its objects, a GET for the others and wherever the LIST is
//! refused; objects in a namespace the run created are known to be new. Then every object is
//! applied and the object the server returns is compared with the live one; `concurrency`
//! requests are in flight at once. A failure is
//! recorded on its object and the others go on; failures of the set itself (its parent) stop
//! the objects that have not been applied yet.

pub mod json;
pub mod rollout;

use crate::cluster::applyset::{self, Parent, Recorded};
use crate::cluster::client::{ApiFailure, Cluster, Kind};
use crate::cluster::prune;
use crate::diff::normalize::Normalizer;
use crate::diff::plan::{self, Target};
use crate::diff::{ObjectDiff, ObjectId, Op};
use crate::policy::network::selects;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// `--dry-run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// Apply for real.
    None,
    /// Every write with `dryRun=All`: the server validates, nothing persists.
    Server,
    /// No writes at all: objects are only read (created when absent, else applied unverified).
    Client,
}

/// The ApplySet of a run.
#[derive(Debug, Clone)]
pub struct Set {
    pub parent: Parent,
    /// The inventory name (its old label is read for migration).
    pub inventory: String,
    /// Take over a parent another tool manages.
    pub adopt: bool,
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct Settings {
    pub manager: String,
    pub force_conflicts: bool,
    pub dry_run: DryRun,
    /// Requests in flight at once (the LISTs of the live state, then one apply per object).
    pub concurrency: usize,
    /// `-l/--selector`: only the objects it selects are applied and pruned.
    pub selector: Option<serde_json::Map<String, Value>>,
    /// The ApplySet (none without an inventory).
    pub set: Option<Set>,
    /// Delete the members that left the set.
    pub prune: bool,
    /// Namespaces may be pruned.
    pub prune_namespaces: bool,
    /// How long CRDs may take to become established.
    pub crd_timeout: Duration,
}

/// One object's result: [`Op`] as `diff` names it (create, update, unchanged, delete for a
/// pruned object, conflict, requires-replace, error).
pub type Outcome = ObjectDiff;

/// Everything a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One per input object (in input order), then the pruned objects.
    pub objects: Vec<Outcome>,
    /// Failures that belong to no single object (the parent, listing for prune).
    pub errors: Vec<String>,
    /// The objects applied, for `--wait`: (kind, namespace, name).
    pub applied: Vec<rollout::Applied>,
}

/// Applies `objects` (rendered, in apply order) to `cluster`.
pub async fn run(cluster: &Cluster, objects: Vec<Value>, settings: &Settings) -> Report {
    let mut report = Report::default();
    let selected: Vec<bool> = objects
        .iter()
        .map(|o| {
            settings
                .selector
                .as_ref()
                .is_none_or(|s| selects(s, o["metadata"]["labels"].as_object()))
        })
        .collect();
    let mut slots: Vec<Option<Outcome>> = Vec::new();
    let mut first = Vec::new();
    let mut rest = Vec::new();
    let mut all_rendered = Vec::new();
    let id = settings.set.as_ref().map(|s| s.parent.id());
    for (i, r) in plan::resolve(cluster, objects).into_iter().enumerate() {
        slots.push(None);
        match r {
            Err(d) if selected[i] => slots[i] = Some(d),
            Err(_) => {}
            Ok(mut t) => {
                if let Some(id) = &id {
                    if let Err(e) = applyset::label_member(&mut t.object, id) {
                        if selected[i] {
                            slots[i] = Some(ObjectDiff::failed(t.id, Op::Error, e));
                        }
                        continue;
                    }
                }
                all_rendered.push(t.object.clone());
                if !selected[i] {
                    continue;
                }
                if plan::is_namespace(&t.id) || t.id.kind == "CustomResourceDefinition" {
                    first.push((i, t));
                } else {
                    rest.push((i, t));
                }
            }
        }
    }
    let rendered: BTreeSet<_> = all_rendered
        .iter()
        .map(|o| plan::key(&ObjectId::of(o)))
        .collect();

    // The parent as it is: this set's, and ours to change?
    let mut recorded: Option<Recorded> = None;
    let mut parent_kind = None;
    if let Some(set) = &settings.set {
        match parent_state(cluster, set).await {
            Ok((kind, r)) => {
                parent_kind = Some(kind);
                recorded = r;
            }
            Err(e) => {
                report.errors.push(e.clone());
                return not_applied(report, slots, first.into_iter().chain(rest), &e);
            }
        }
    }

    let mut crd_objects: BTreeMap<String, Value> = first
        .iter()
        .filter(|(_, t)| t.id.kind == "CustomResourceDefinition")
        .map(|(_, t)| (t.id.name.clone(), t.object.clone()))
        .collect();
    let live = read_live(cluster, &first, &BTreeSet::new(), settings.concurrency).await;
    let done = apply_all(cluster, first, settings, &live).await;
    let mut new_namespaces = BTreeSet::new();
    let mut crd_results = Vec::new();
    for (i, d, applied) in done {
        if plan::is_namespace(&d.id) && d.op == Op::Create {
            new_namespaces.insert(d.id.name.clone());
        }
        if d.id.kind == "CustomResourceDefinition" {
            if let Some(o) = crd_objects.remove(&d.id.name) {
                crd_results.push((o, !d.op.is_failure()));
            }
        }
        report.applied.extend(applied);
        slots[i] = Some(d);
    }

    if let (Some(set), Some(kind)) = (&settings.set, &parent_kind) {
        let (gks, nss) = prune::parent_sets(&all_rendered, recorded.as_ref(), false);
        if let Err(e) = write_parent(cluster, set, kind, &gks, &nss, settings).await {
            report.errors.push(e.clone());
            return not_applied(report, slots, rest, &e);
        }
    }

    // CRDs of the input: established before objects of their kinds are applied.
    let mut defined: BTreeMap<(String, String), Result<Kind, String>> = BTreeMap::new();
    if settings.dry_run == DryRun::None {
        let established = stream::iter(crd_results)
            .map(|(crd, ok)| async move {
                let name = crd["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let result = if ok {
                    wait_established(cluster, &name, settings.crd_timeout).await
                } else {
                    Err(format!(
                        "its CustomResourceDefinition {name} was not applied"
                    ))
                };
                (crd, result)
            })
            .buffer_unordered(settings.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        for (crd, result) in established {
            let live = result.as_ref().unwrap_or(&crd);
            for version in live["spec"]["versions"].as_array().into_iter().flatten() {
                let v = version["name"].as_str().unwrap_or_default();
                let Some(k) = Kind::of_crd(live, v) else {
                    continue;
                };
                let key = (k.resource.api_version.clone(), k.resource.kind.clone());
                defined.insert(
                    key,
                    result.as_ref().map(|_| k.clone()).map_err(Clone::clone),
                );
            }
        }
    }
    let mut pending = Vec::new();
    for (i, mut t) in rest {
        if t.kind.is_none() {
            match defined.get(&(t.id.api_version.clone(), t.id.kind.clone())) {
                Some(Ok(k)) => {
                    t.kind = Some(k.clone());
                    t.new_because = None;
                }
                Some(Err(e)) => {
                    slots[i] = Some(ObjectDiff::failed(
                        t.id,
                        Op::Error,
                        format!("not applied: {e}"),
                    ));
                    continue;
                }
                None => {}
            }
        }
        if settings.dry_run != DryRun::None {
            if let Some(ns) =
                t.id.namespace
                    .as_ref()
                    .filter(|ns| new_namespaces.contains(*ns))
            {
                t.new_because = Some(format!(
                    "namespace {ns} is created by this input: not sent in a dry run"
                ));
            }
        } else if t.kind.is_some() {
            t.new_because = None;
        }
        pending.push((i, t));
    }
    // Nothing was in a namespace this run created.
    let created = if settings.dry_run == DryRun::None {
        new_namespaces
    } else {
        BTreeSet::new()
    };
    let live = read_live(cluster, &pending, &created, settings.concurrency).await;
    for (i, d, applied) in apply_all(cluster, pending, settings, &live).await {
        report.applied.extend(applied);
        slots[i] = Some(d);
    }
    report.objects = slots.into_iter().flatten().collect();

    if let (Some(set), Some(kind), true) = (&settings.set, &parent_kind, settings.prune) {
        let scope = prune::Scope::new(
            set.parent.id(),
            set.inventory.clone(),
            &all_rendered,
            recorded.as_ref(),
            settings.prune_namespaces,
        );
        let (found, errors) = prune::candidates(cluster, &scope, settings.concurrency).await;
        let mut clean = errors.is_empty();
        report.errors.extend(errors);
        let candidates: Vec<Value> = found
            .into_iter()
            .filter(|o| !rendered.contains(&plan::key(&ObjectId::of(o))))
            .filter(|o| {
                settings
                    .selector
                    .as_ref()
                    .is_none_or(|s| selects(s, o["metadata"]["labels"].as_object()))
            })
            .collect();
        let deleted: Vec<Outcome> = stream::iter(candidates)
            .map(|o| delete_one(cluster, o, settings))
            .buffered(settings.concurrency.max(1))
            .collect()
            .await;
        clean &= deleted.iter().all(|d| !d.op.is_failure());
        report.objects.extend(deleted);
        // With -l, the set is more than what was selected: keep the superset.
        if clean && settings.selector.is_none() {
            let (gks, nss) = prune::parent_sets(&all_rendered, recorded.as_ref(), true);
            if let Err(e) = write_parent(cluster, set, kind, &gks, &nss, settings).await {
                report.errors.push(format!("applied and pruned, but {e}"));
            }
        }
    }
    report
}

/// Marks every object of `left` as not applied because of the set's failure `why`.
fn not_applied(
    mut report: Report,
    mut slots: Vec<Option<Outcome>>,
    left: impl IntoIterator<Item = (usize, Target)>,
    why: &str,
) -> Report {
    for (i, t) in left {
        slots[i] = Some(ObjectDiff::failed(
            t.id,
            Op::Error,
            format!("not applied: {why}"),
        ));
    }
    report.objects = slots.into_iter().flatten().collect();
    report
}

/// The served kind of the parent and what the live parent records (checked: it is this set's
/// and ours, or adopted).
async fn parent_state(cluster: &Cluster, set: &Set) -> Result<(Kind, Option<Recorded>), String> {
    let p = &set.parent;
    let kind = cluster.kind("v1", p.kind.kind()).cloned().ok_or_else(|| {
        format!(
            "the server does not serve v1 {}, the ApplySet parent's kind",
            p.kind.kind()
        )
    })?;
    let live = cluster
        .get(&kind, Some(&p.namespace), &p.name)
        .await
        .map_err(|e| format!("reading the ApplySet parent {}: {e}", p.describe()))?;
    let recorded = applyset::check_parent(p, live.as_ref(), set.adopt)?;
    Ok((kind, recorded))
}

/// Server-side applies the parent for `group_kinds` in `namespaces` (forced on a conflict, as
/// kubectl does: the set's own fields are the tool's).
async fn write_parent(
    cluster: &Cluster,
    set: &Set,
    kind: &Kind,
    group_kinds: &BTreeSet<String>,
    namespaces: &BTreeSet<String>,
    settings: &Settings,
) -> Result<(), String> {
    if settings.dry_run == DryRun::Client {
        return Ok(());
    }
    let p = &set.parent;
    let object = p.object(group_kinds, namespaces);
    let dry = settings.dry_run == DryRun::Server;
    let ns = Some(p.namespace.as_str());
    let result = match cluster
        .apply(
            kind,
            ns,
            &p.name,
            &object,
            &settings.manager,
            set.adopt,
            dry,
        )
        .await
    {
        Err(e) if e.code == 409 => {
            cluster
                .apply(kind, ns, &p.name, &object, &settings.manager, true, dry)
                .await
        }
        other => other,
    };
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code == 404 && e.details_kind == "namespaces" => Err(p.missing_namespace()),
        Err(e) if dry && e.code == 404 => Ok(()),
        Err(e) => Err(format!("writing the ApplySet parent {}: {e}", p.describe())),
    }
}

/// Polls the CRD `name` until its `Established` condition is true; the live CRD.
async fn wait_established(
    cluster: &Cluster,
    name: &str,
    timeout: Duration,
) -> Result<Value, String> {
    let Some(kind) = cluster
        .kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        .cloned()
    else {
        return Err("the server does not serve apiextensions.k8s.io/v1".into());
    };
    let start = Instant::now();
    loop {
        let last = match cluster.get(&kind, None, name).await {
            Ok(Some(crd)) => {
                let established = crd["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Established" && c["status"] == "True");
                if established {
                    return Ok(crd);
                }
                "is not established yet".to_string()
            }
            Ok(None) => "does not exist".to_string(),
            Err(e) => format!("cannot be read: {e}"),
        };
        if start.elapsed() >= timeout {
            return Err(format!(
                "CustomResourceDefinition {name} {last} after {}s",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

type Done = (usize, Outcome, Option<rollout::Applied>);

/// Which objects one LIST reads: apiVersion, plural, namespace (`None`: cluster-scoped).
type Group = (String, String, Option<String>);

/// The live objects of a batch, read before it is applied.
#[derive(Debug, Default)]
struct Live {
    /// The groups read by a LIST: name → live object (absent: no such object).
    listed: BTreeMap<Group, BTreeMap<String, Value>>,
    /// Namespaces this run created: nothing was in them.
    created: BTreeSet<String>,
}

impl Live {
    fn group(kind: &Kind, id: &ObjectId) -> Group {
        let r = &kind.resource;
        let ns = id.namespace.clone().filter(|_| kind.namespaced);
        (r.api_version.clone(), r.plural.clone(), ns)
    }

    /// The live object, when known without a request of its own (`Some(None)`: absent).
    fn known(&self, kind: &Kind, id: &ObjectId) -> Option<Option<Value>> {
        if kind.namespaced
            && id
                .namespace
                .as_ref()
                .is_some_and(|ns| self.created.contains(ns))
        {
            return Some(None);
        }
        self.listed
            .get(&Self::group(kind, id))
            .map(|objects| objects.get(&id.name).cloned())
    }
}

/// Reads the live state of `targets` (those that will be sent) the way kubectl reads a
/// collection: one LIST, in pages, per kind and namespace that holds two or more of them
/// (cluster-scoped kinds once). Groups of one object, kinds that cannot be listed and lists
/// that fail (a user may be allowed to get but not list) are left to a GET per object.
async fn read_live(
    cluster: &Cluster,
    targets: &[(usize, Target)],
    created: &BTreeSet<String>,
    concurrency: usize,
) -> Live {
    let mut live = Live {
        created: created.clone(),
        ..Live::default()
    };
    let mut groups: BTreeMap<Group, (Kind, usize)> = BTreeMap::new();
    for (_, t) in targets {
        let (Some(kind), None) = (&t.kind, &t.new_because) else {
            continue;
        };
        if !kind.listable || live.known(kind, &t.id).is_some() {
            continue;
        }
        groups
            .entry(Live::group(kind, &t.id))
            .or_insert_with(|| (kind.clone(), 0))
            .1 += 1;
    }
    let lists: Vec<(Group, Option<Vec<Value>>)> = stream::iter(groups)
        .filter(|(_, (_, n))| futures::future::ready(*n > 1))
        .map(|(group, (kind, _))| async move {
            let items = cluster.list_in(&kind, group.2.as_deref(), "").await.ok();
            (group, items)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (group, items) in lists {
        let Some(items) = items else { continue };
        let by_name = items
            .into_iter()
            .filter_map(|o| Some((o["metadata"]["name"].as_str()?.to_string(), o)))
            .collect();
        live.listed.insert(group, by_name);
    }
    live
}

async fn apply_all(
    cluster: &Cluster,
    targets: Vec<(usize, Target)>,
    settings: &Settings,
    live: &Live,
) -> Vec<Done> {
    stream::iter(targets)
        .map(|(i, t)| async move {
            let (d, applied) = apply_one(cluster, t, settings, live).await;
            (i, d, applied)
        })
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await
}

/// Applies one object, its live state read before (from `live`, else by a GET).
async fn apply_one(
    cluster: &Cluster,
    t: Target,
    settings: &Settings,
    live: &Live,
) -> (Outcome, Option<rollout::Applied>) {
    let kind = match (&t.kind, t.new_because) {
        (Some(kind), None) => kind.clone(),
        (_, reason) => {
            // A dry run of an object whose namespace or kind the input only creates.
            let mut d = ObjectDiff::failed(t.id, Op::Create, String::new());
            d.message = None;
            d.notes.extend(reason);
            return (d, None);
        }
    };
    let ns = t.id.namespace.clone();
    let read = match live.known(&kind, &t.id) {
        Some(known) => Ok(known),
        None => cluster.get(&kind, ns.as_deref(), &t.id.name).await,
    };
    let live = match read {
        Ok(l) => l,
        Err(e) => {
            return (
                ObjectDiff::failed(t.id, Op::Error, format!("reading the live object: {e}")),
                None,
            )
        }
    };
    let mut d = ObjectDiff::failed(t.id.clone(), Op::Create, String::new());
    d.message = None;
    if settings.dry_run == DryRun::Client {
        if live.is_some() {
            d.op = Op::Update;
            d.notes.push(
                "client dry run: not compared with the live object (--dry-run=server or diff shows the change)".into(),
            );
        }
        return (d, None);
    }
    let applied = cluster
        .apply(
            &kind,
            ns.as_deref(),
            &t.id.name,
            &t.object,
            &settings.manager,
            settings.force_conflicts,
            settings.dry_run == DryRun::Server,
        )
        .await;
    match applied {
        Ok(after) => {
            d.op = compare(&t.id, live, after);
            let wait = (settings.dry_run == DryRun::None).then(|| (kind, ns, t.id.name.clone()));
            (d, wait)
        }
        Err(e) => (
            plan::failure_of("server-side apply", t.id, &e, &plan::new_namespace_hint(&e)),
            None,
        ),
    }
}

/// Created, configured or unchanged, by the live object before and after (normalised as
/// `diff` compares them).
fn compare(id: &ObjectId, live: Option<Value>, after: Value) -> Op {
    let Some(mut before) = live else {
        return Op::Create;
    };
    let mut after = after;
    let n = Normalizer::default();
    n.apply(id, &mut before);
    n.apply(id, &mut after);
    if before == after {
        Op::Unchanged
    } else {
        Op::Update
    }
}

async fn delete_one(cluster: &Cluster, object: Value, settings: &Settings) -> Outcome {
    let id = ObjectId::of(&object);
    let mut d = ObjectDiff::failed(id.clone(), Op::Delete, String::new());
    d.message = None;
    if plan::is_namespace(&id) {
        d.notes
            .push("deleting a Namespace deletes every object in it".into());
    }
    if settings.dry_run == DryRun::Client {
        return d;
    }
    let Some(kind) = cluster.kind(&id.api_version, &id.kind).cloned() else {
        return ObjectDiff::failed(
            id,
            Op::Error,
            "pruning: its kind is no longer served".into(),
        );
    };
    match cluster
        .delete(
            &kind,
            id.namespace.as_deref(),
            &id.name,
            settings.dry_run == DryRun::Server,
        )
        .await
    {
        Ok(()) => d,
        Err(e) => ObjectDiff::failed(id, Op::Error, format!("pruning: {}", failure_text(&e))),
    }
}

fn failure_text(e: &ApiFailure) -> String {
    e.to_string()
}
