//! Which live objects left an ApplySet: the prune candidates `apply --prune` deletes and
//! `diff --prune` shows, found the same way for both.
//!
//! Members are listed by their label `applyset.kubernetes.io/part-of=<id>` in the group-kinds
//! the parent records (and those the input renders), and, for one minor version, by the old
//! label `nixernetes.io/inventory=<name>` without a `part-of` label in every listable kind
//! (objects applied before ApplySets). Only the namespaces the input touches or the parent
//! records count; objects owned by others, members of other ApplySets, objects being deleted and
//! (unless asked) Namespaces are never candidates.

use super::applyset::{self, Recorded};
use super::client::{ApiFailure, Cluster, Kind};
use crate::engine::inject::INVENTORY;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::BTreeSet;

/// What bounds the candidates.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The ApplySet id.
    pub id: String,
    /// The inventory name (the old label's value).
    pub inventory: String,
    /// Group-kinds to list by `part-of` (`Deployment.apps`, `Service`).
    pub group_kinds: BTreeSet<String>,
    /// Group-resources (`deployments.apps`) an older kubectl recorded instead.
    pub group_resources: BTreeSet<String>,
    /// Namespaces whose objects count (cluster-scoped objects always do).
    pub namespaces: BTreeSet<String>,
    /// Whether Namespaces may be candidates.
    pub prune_namespaces: bool,
}

impl Scope {
    /// The scope of `id` for the rendered `objects` and what the live parent records.
    pub fn new(
        id: String,
        inventory: String,
        objects: &[Value],
        recorded: Option<&Recorded>,
        prune_namespaces: bool,
    ) -> Scope {
        let mut scope = Scope {
            id,
            inventory,
            group_kinds: group_kinds(objects),
            group_resources: BTreeSet::new(),
            namespaces: namespaces(objects),
            prune_namespaces,
        };
        if let Some(r) = recorded {
            scope.group_kinds.extend(r.group_kinds.iter().cloned());
            scope.group_resources = r.group_resources.clone();
            scope.namespaces.extend(r.namespaces.iter().cloned());
        }
        scope
    }

    fn records(&self, kind: &Kind) -> bool {
        let r = &kind.resource;
        let gk = applyset::group_kind(&r.api_version, &r.kind);
        let gr = if r.group.is_empty() {
            r.plural.clone()
        } else {
            format!("{}.{}", r.plural, r.group)
        };
        self.group_kinds.contains(&gk) || self.group_resources.contains(&gr)
    }
}

/// The group-kinds of `objects`, as the parent records them.
pub fn group_kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| {
            applyset::group_kind(
                o["apiVersion"].as_str().unwrap_or_default(),
                o["kind"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

/// The namespaces of `objects`.
pub fn namespaces(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .filter_map(|o| o["metadata"]["namespace"].as_str())
        .map(str::to_string)
        .collect()
}

/// The group-kinds and namespaces the parent is written with: those of `rendered` and, unless
/// the set is `shrunk` to exactly the rendered one (after a clean `--prune` of the whole set),
/// those the live parent `recorded` too.
pub fn parent_sets(
    rendered: &[Value],
    recorded: Option<&Recorded>,
    shrunk: bool,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut gks = group_kinds(rendered);
    let mut nss = namespaces(rendered);
    if let (Some(r), false) = (recorded, shrunk) {
        gks.extend(r.group_kinds.iter().cloned());
        nss.extend(r.namespaces.iter().cloned());
    }
    (gks, nss)
}

/// The live members in `scope` that may be pruned (the caller leaves out what the input still
/// renders), sorted by kind, namespace and name, and the listing failures.
pub async fn candidates(
    cluster: &Cluster,
    scope: &Scope,
    concurrency: usize,
) -> (Vec<Value>, Vec<String>) {
    let by_id = format!("{}={}", applyset::PART_OF, scope.id);
    let legacy = format!("{INVENTORY}={},!{}", scope.inventory, applyset::PART_OF);
    let mut queries: Vec<(Kind, String)> = Vec::new();
    for kind in cluster.listable_kinds() {
        if scope.records(kind) {
            queries.push((kind.clone(), by_id.clone()));
        }
        queries.push((kind.clone(), legacy.clone()));
    }
    let lists: Vec<(Kind, Result<Vec<Value>, ApiFailure>)> = stream::iter(queries)
        .map(|(k, selector)| async move {
            let r = cluster.list(&k, &selector).await;
            (k, r)
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for (kind, result) in lists {
        let items = match result {
            Ok(items) => items,
            // Kinds this user may not list cannot hold what we applied.
            Err(e) if matches!(e.code, 403..=405) => continue,
            Err(e) => {
                errors.push(format!(
                    "--prune: listing {} {}: {e}",
                    kind.resource.api_version, kind.resource.plural
                ));
                continue;
            }
        };
        for item in items {
            let meta = &item["metadata"];
            let in_scope = meta["namespace"]
                .as_str()
                .is_none_or(|ns| scope.namespaces.contains(ns));
            let uid = meta["uid"].as_str().unwrap_or_default().to_string();
            if !in_scope
                || applyset::not_prunable(&item, &scope.id, scope.prune_namespaces).is_some()
                || !seen.insert(uid)
            {
                continue;
            }
            found.push(item);
        }
    }
    let sort_key = |o: &Value| {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        (
            s(&o["apiVersion"]),
            s(&o["kind"]),
            s(&o["metadata"]["namespace"]),
            s(&o["metadata"]["name"]),
        )
    };
    found.sort_by_key(sort_key);
    (found, errors)
}
