//! Server-side apply and field ownership: the essentials of structured-merge-diff's
//! `Updater` (merge, prune, conflicts) over the field sets of [`super::fields`], and the
//! `metadata.managedFields` entries that record them.
//!
//! Apply merges the applied configuration into the live object, gives the manager exactly the
//! fields it applied, removes fields it applied before and no longer does (unless another
//! manager owns them), and fails with a conflict when it would change a field another manager
//! owns, unless forced (then ownership moves). Any other write records an `Update` entry that
//! owns what that write changed, taking those fields from everyone else without conflict.
//! Defaulting and admission are the caller's business: this module sees values, not kinds.

use super::fields::{self, path_string, Comparison, Cursor, FieldSet, Path, PathElement};
use super::status::{ApiError, Cause};
use serde_json::{json, Map, Value};

/// `managedFields[].operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write (create, update, non-apply patch).
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Manager {
    /// The field manager's name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// apiVersion of the request that last wrote these fields.
    pub api_version: String,
    /// RFC 3339 time of that write.
    pub time: String,
    /// `status` for status-subresource writes, else empty.
    pub subresource: String,
    /// The owned fields.
    pub fields: FieldSet,
}

impl Manager {
    /// Whether `self` and `other` are the same manager as upstream keys them: name,
    /// operation, subresource, and (for Update only) apiVersion.
    pub fn same_identity(&self, other: &Manager) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == Operation::Apply || self.api_version == other.api_version)
    }

    /// How conflict messages name the manager: `"kubectl"`, or for Update entries
    /// `"kubectl-edit" using apps/v1 at 2024-01-01T00:00:00Z`.
    pub fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {}", self.api_version));
            if !self.time.is_empty() {
                s.push_str(&format!(" at {}", self.time));
            }
        }
        s
    }
}

/// Reads `metadata.managedFields`; entries that cannot be read are dropped (the server
/// resets unreadable managed fields rather than failing writes).
pub fn decode_managers(object: &Value) -> Vec<Manager> {
    let Some(entries) = object["metadata"]["managedFields"].as_array() else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let operation = match e["operation"].as_str()? {
                "Apply" => Operation::Apply,
                "Update" => Operation::Update,
                _ => return None,
            };
            Some(Manager {
                manager: e["manager"].as_str()?.to_string(),
                operation,
                api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
                time: e["time"].as_str().unwrap_or_default().to_string(),
                subresource: e["subresource"].as_str().unwrap_or_default().to_string(),
                fields: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&json!({}))).ok()?,
            })
        })
        .collect()
}

/// Writes `metadata.managedFields` in upstream order (Apply before Update, then by time,
/// manager, apiVersion, subresource).
pub fn encode_managers(managers: &[Manager]) -> Value {
    let mut sorted: Vec<&Manager> = managers.iter().collect();
    sorted.sort_by(|a, b| {
        (
            a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    Value::Array(
        sorted
            .into_iter()
            .map(|m| {
                let mut e = Map::new();
                e.insert("apiVersion".into(), json!(m.api_version));
                e.insert("fieldsType".into(), json!("FieldsV1"));
                e.insert("fieldsV1".into(), m.fields.to_fields_v1());
                e.insert("manager".into(), json!(m.manager));
                e.insert("operation".into(), json!(m.operation.as_str()));
                if !m.subresource.is_empty() {
                    e.insert("subresource".into(), json!(m.subresource));
                }
                if !m.time.is_empty() {
                    e.insert("time".into(), json!(m.time));
                }
                Value::Object(e)
            })
            .collect(),
    )
}

/// Fields no manager ever owns: identity and server-set metadata, and `status` for types whose
/// status is a subresource.
pub fn ignored_paths(status_subresource: bool) -> Vec<Path> {
    let mut paths: Vec<Path> = [
        "apiVersion",
        "kind",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "metadata.resourceVersion",
        "metadata.generation",
        "metadata.creationTimestamp",
        "metadata.managedFields",
        "metadata.selfLink",
        "metadata.deletionTimestamp",
        "metadata.deletionGracePeriodSeconds",
    ]
    .iter()
    .map(|p| fields::field_path(p))
    .collect();
    if status_subresource {
        paths.push(fields::field_path("status"));
    }
    paths
}

fn strip(mut set: FieldSet, ignored: &[Path]) -> FieldSet {
    for p in ignored {
        set = set.without(p);
    }
    set
}

fn strip_comparison(c: Comparison, ignored: &[Path]) -> Comparison {
    Comparison {
        modified: strip(c.modified, ignored),
        added: strip(c.added, ignored),
        removed: strip(c.removed, ignored),
    }
}

/// Merges an applied configuration into a live object: maps key by key, associative lists
/// item by item (in structured-merge-diff's interleaved order), everything else replaced.
pub fn merge(live: &Value, config: &Value, cursor: Cursor<'_>, name: Option<&str>) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if !(l.is_empty() && c.is_empty()) => {
            let mut out = l.clone();
            for (k, cv) in c {
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, cv, cursor.field(k), Some(k)),
                    None => cv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) if !(l.is_empty() && c.is_empty()) => {
            match fields::keyed_list(cursor, name, &[l, c]) {
                Some(keys) => Value::Array(merge_keyed(l, c, &keys, cursor.item())),
                None => config.clone(),
            }
        }
        _ => config.clone(),
    }
}

fn merge_keyed(
    lhs: &[Value],
    rhs: &[Value],
    keys: &[fields::ListKey],
    item: Cursor<'_>,
) -> Vec<Value> {
    let index = |items: &[Value]| -> Vec<(PathElement, usize)> {
        let mut seen: Vec<(PathElement, usize)> = Vec::new();
        for (i, v) in items.iter().enumerate() {
            if let Some(pe) = fields::key_element(v, keys) {
                if !seen.iter().any(|(p, _)| *p == pe) {
                    seen.push((pe, i));
                }
            }
        }
        seen
    };
    let lo = index(lhs);
    let ro = index(rhs);
    let find = |order: &[(PathElement, usize)], pe: &PathElement| {
        order.iter().find(|(p, _)| p == pe).map(|(_, i)| *i)
    };
    let mut shared = ro
        .iter()
        .filter(|(pe, _)| find(&lo, pe).is_some())
        .map(|(pe, _)| pe.clone());
    let mut next_shared = shared.next();
    let mut out = Vec::with_capacity(lo.len().max(ro.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lo.len() || ri < ro.len() {
        if li < lo.len() && ri < ro.len() {
            let pe = &lo[li].0;
            if *pe == ro[ri].0 {
                out.push(merge(&lhs[lo[li].1], &rhs[ro[ri].1], item, None));
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if find(&ro, pe).is_some() && next_shared.as_ref().is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < lo.len() {
            let pe = &lo[li].0;
            if find(&ro, pe).is_none() {
                out.push(lhs[lo[li].1].clone());
                li += 1;
                continue;
            }
        }
        if ri < ro.len() {
            let pe = &ro[ri].0;
            let r = &rhs[ro[ri].1];
            out.push(match find(&lo, pe) {
                Some(l) => merge(&lhs[l], r, item, None),
                None => r.clone(),
            });
            ri += 1;
            if next_shared.as_ref() == Some(pe) {
                next_shared = shared.next();
            }
        }
    }
    out
}

/// Drops `null` map values from an applied configuration (a typed decode reads them as unset).
pub fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// What one apply or update asks of the field manager.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The field manager making the request.
    pub manager: &'a str,
    /// apiVersion of the request.
    pub api_version: &'a str,
    /// `force=true` (apply only).
    pub force: bool,
    /// Now, RFC 3339.
    pub now: &'a str,
    /// Fields nobody owns (see [`ignored_paths`]).
    pub ignored: &'a [Path],
    /// How lists merge for this type.
    pub cursor: Cursor<'a>,
}

/// The result of an apply or update before defaulting and admission.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The new object (without `managedFields`).
    pub object: Value,
    /// The new managed fields.
    pub managers: Vec<Manager>,
}

/// Server-side apply of `config` onto `live` (both without `managedFields`; `live` is the bare
/// identity of the object when it does not exist yet).
pub fn apply(
    live: &Value,
    config: &Value,
    mut managers: Vec<Manager>,
    req: &Request<'_>,
) -> Result<Outcome, ApiError> {
    let merged = merge(live, config, req.cursor, None);
    let applied = strip(fields::fields_of(config, req.cursor), req.ignored);
    let me = Manager {
        manager: req.manager.to_string(),
        operation: Operation::Apply,
        api_version: req.api_version.to_string(),
        time: req.now.to_string(),
        subresource: String::new(),
        fields: applied.clone(),
    };
    let last = match managers.iter().position(|m| m.same_identity(&me)) {
        Some(i) => managers.remove(i).fields,
        None => FieldSet::new(),
    };
    let others = managers
        .iter()
        .fold(FieldSet::new(), |acc, m| acc.union(&m.fields));
    let pruned = prune(merged, &last, &applied, &others);

    let c = strip_comparison(fields::compare(live, &pruned, req.cursor), req.ignored);
    let changed = c.modified.union(&c.added);
    let conflicts: Vec<(usize, FieldSet)> = managers
        .iter()
        .enumerate()
        .map(|(i, m)| (i, m.fields.intersection(&changed)))
        .filter(|(_, set)| !set.is_empty())
        .collect();
    if !conflicts.is_empty() && !req.force {
        return Err(conflict_error(&managers, &conflicts));
    }
    for (i, set) in &conflicts {
        managers[*i].fields = managers[*i].fields.difference(set);
    }
    for m in &mut managers {
        m.fields = m.fields.difference(&c.removed);
    }
    managers.retain(|m| !m.fields.is_empty());
    managers.push(me);
    Ok(Outcome {
        object: pruned,
        managers,
    })
}

/// Removes what the applier owned before and no longer applies, unless someone (the applier
/// included) still owns it or something under it; then removes containers that this left
/// empty and that only the applier had owned things in.
fn prune(mut merged: Value, last: &FieldSet, applied: &FieldSet, others: &FieldSet) -> Value {
    let gone = last.difference(applied).difference(others);
    for path in gone.paths() {
        if others.touches(&path) || applied.touches(&path) {
            continue;
        }
        if !fields::remove(&mut merged, &path) {
            continue;
        }
        let mut parent: &[PathElement] = &path[..path.len() - 1];
        while !parent.is_empty() {
            let empty = match fields::get(&merged, parent) {
                Some(Value::Object(m)) => m.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                _ => false,
            };
            if !empty || applied.touches(parent) || others.touches(parent) {
                break;
            }
            fields::remove(&mut merged, parent);
            parent = &parent[..parent.len() - 1];
        }
    }
    merged
}

fn conflict_error(managers: &[Manager], conflicts: &[(usize, FieldSet)]) -> ApiError {
    let mut causes = Vec::new();
    let mut per_manager: Vec<(String, Vec<String>)> = Vec::new();
    for (i, set) in conflicts {
        let who = managers[*i].describe();
        let paths: Vec<String> = set.paths().iter().map(|p| path_string(p)).collect();
        for p in &paths {
            causes.push(Cause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with {who}"),
                field: p.clone(),
            });
        }
        per_manager.push((who, paths));
    }
    let message = if causes.len() == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            per_manager[0].0, per_manager[0].1[0]
        )
    } else {
        per_manager.sort();
        let mut lines = Vec::new();
        for (who, paths) in &per_manager {
            lines.push(format!("conflicts with {who}:"));
            lines.extend(paths.iter().map(|p| format!("- {p}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            causes.len(),
            lines.join("\n")
        )
    };
    ApiError::apply_conflict(message, &causes)
}

/// Ownership after a non-apply write from `live` (`None` on create) to `new` (both without
/// `managedFields`): the writer's Update entry gains what changed, everyone loses it.
pub fn update(
    live: Option<&Value>,
    new: &Value,
    mut managers: Vec<Manager>,
    req: &Request<'_>,
) -> Vec<Manager> {
    let empty = json!({});
    let c = strip_comparison(
        fields::compare(live.unwrap_or(&empty), new, req.cursor),
        req.ignored,
    );
    let me = Manager {
        manager: req.manager.to_string(),
        operation: Operation::Update,
        api_version: req.api_version.to_string(),
        time: req.now.to_string(),
        subresource: String::new(),
        fields: FieldSet::new(),
    };
    let mine = match managers.iter().position(|m| m.same_identity(&me)) {
        Some(i) => managers.remove(i).fields,
        None => FieldSet::new(),
    };
    let changed = c.modified.union(&c.added);
    let lost = c.modified.union(&c.removed);
    for m in &mut managers {
        m.fields = m.fields.difference(&lost);
    }
    managers.retain(|m| !m.fields.is_empty());
    let fields = mine.difference(&c.removed).union(&changed);
    if !fields.is_empty() {
        managers.push(Manager { fields, ..me });
    }
    managers
}

/// Keeps the previous time of every entry: for a write that changed nothing, upstream
/// leaves the times alone (only a manager whose write changed the object gets a new time).
pub fn keep_times(new: &mut [Manager], old: &[Manager]) {
    for m in new {
        if let Some(o) = old.iter().find(|o| o.same_identity(m)) {
            m.time = o.time.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2025-01-01T00:00:00Z";

    fn req<'a>(manager: &'a str, force: bool, ignored: &'a [Path]) -> Request<'a> {
        Request {
            manager,
            api_version: "apps/v1",
            force,
            now: NOW,
            ignored,
            cursor: Cursor::BuiltIn,
        }
    }

    /// The result of manager "a" applying `config` to a new object.
    fn created_by_a(config: &Value, ignored: &[Path]) -> Outcome {
        apply(&base(), config, vec![], &req("a", false, ignored)).unwrap()
    }

    fn base() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}})
    }

    fn config(replicas: i64, image: &str, label: Option<&str>) -> Value {
        let mut c = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
        });
        if let Some(l) = label {
            c["metadata"]["labels"] = json!({"tier": l});
        }
        c
    }

    fn owned(managers: &[Manager], name: &str) -> Vec<String> {
        managers
            .iter()
            .find(|m| m.manager == name)
            .map(|m| m.fields.paths().iter().map(|p| path_string(p)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn apply_creates_and_owns_exactly_what_it_applied() {
        let ignored = ignored_paths(true);
        let out = created_by_a(&config(2, "nginx", None), &ignored);
        assert_eq!(out.object["spec"]["replicas"], 2);
        assert_eq!(
            owned(&out.managers, "a"),
            vec![
                ".spec.replicas",
                ".spec.template.spec.containers[name=\"app\"]",
                ".spec.template.spec.containers[name=\"app\"].image",
                ".spec.template.spec.containers[name=\"app\"].name",
            ]
        );
        assert_eq!(out.managers[0].operation, Operation::Apply);
    }

    #[test]
    fn reapply_removes_fields_only_this_manager_owned() {
        let ignored = ignored_paths(true);
        let first = created_by_a(&config(2, "nginx", Some("web")), &ignored);
        assert_eq!(first.object["metadata"]["labels"]["tier"], "web");
        let second = apply(
            &first.object,
            &config(2, "nginx", None),
            first.managers,
            &req("a", false, &ignored),
        )
        .unwrap();
        assert!(
            second.object["metadata"].get("labels").is_none(),
            "{}",
            second.object
        );
    }

    #[test]
    fn fields_co_owned_by_another_manager_survive() {
        let ignored = ignored_paths(true);
        let a = created_by_a(&config(2, "nginx", Some("web")), &ignored);
        let b = apply(
            &a.object,
            &config(2, "nginx", Some("web")),
            a.managers,
            &req("b", false, &ignored),
        )
        .unwrap();
        let a2 = apply(
            &b.object,
            &config(2, "nginx", None),
            b.managers,
            &req("a", false, &ignored),
        )
        .unwrap();
        assert_eq!(a2.object["metadata"]["labels"]["tier"], "web");
        assert!(owned(&a2.managers, "b").contains(&".metadata.labels.tier".to_string()));
        assert!(!owned(&a2.managers, "a").contains(&".metadata.labels.tier".to_string()));
    }

    #[test]
    fn changing_another_managers_field_conflicts_unless_forced() {
        let ignored = ignored_paths(true);
        let a = created_by_a(&config(2, "nginx", None), &ignored);
        let err = apply(
            &a.object,
            &config(3, "nginx", None),
            a.managers.clone(),
            &req("b", false, &ignored),
        )
        .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"a\": .spec.replicas"
        );
        let causes = &err.details.as_ref().unwrap()["causes"];
        assert_eq!(causes[0]["reason"], "FieldManagerConflict");
        assert_eq!(causes[0]["field"], ".spec.replicas");

        let forced = apply(
            &a.object,
            &config(3, "nginx", None),
            a.managers,
            &req("b", true, &ignored),
        )
        .unwrap();
        assert_eq!(forced.object["spec"]["replicas"], 3);
        assert!(!owned(&forced.managers, "a").contains(&".spec.replicas".to_string()));
        assert!(owned(&forced.managers, "b").contains(&".spec.replicas".to_string()));
        // The image was applied with the same value by both: shared, no conflict.
        assert!(owned(&forced.managers, "a")
            .contains(&".spec.template.spec.containers[name=\"app\"].image".to_string()));
    }

    #[test]
    fn several_conflicts_are_listed_per_manager() {
        let ignored = ignored_paths(true);
        let a = created_by_a(&config(2, "nginx", None), &ignored);
        let err = apply(
            &a.object,
            &config(3, "httpd", None),
            a.managers,
            &req("b", false, &ignored),
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 2 conflicts: conflicts with \"a\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"app\"].image"
        );
    }

    #[test]
    fn updates_take_ownership_without_conflict_and_conflict_with_appliers_later() {
        let ignored = ignored_paths(true);
        let a = created_by_a(&config(2, "nginx", None), &ignored);
        let mut edited = a.object.clone();
        edited["spec"]["replicas"] = json!(5);
        let managers = update(
            Some(&a.object),
            &edited,
            a.managers,
            &req("kubectl-edit", false, &ignored),
        );
        assert_eq!(owned(&managers, "kubectl-edit"), vec![".spec.replicas"]);
        assert!(!owned(&managers, "a").contains(&".spec.replicas".to_string()));
        let err = apply(
            &edited,
            &config(2, "nginx", None),
            managers,
            &req("a", false, &ignored),
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            format!("Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1 at {NOW}: .spec.replicas")
        );
    }

    #[test]
    fn merge_keeps_live_items_and_orders_like_structured_merge_diff() {
        let live = json!({"containers": [{"name": "a", "image": "1"}, {"name": "sidecar", "image": "s"}, {"name": "b", "image": "2"}]});
        let cfg = json!({"containers": [{"name": "b", "image": "3"}, {"name": "a"}, {"name": "c", "image": "4"}]});
        let out = merge(&live, &cfg, Cursor::BuiltIn, None);
        let names: Vec<&str> = out["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["sidecar", "b", "a", "c"]);
        assert_eq!(out["containers"][1]["image"], "3");
        assert_eq!(out["containers"][2]["image"], "1");
    }

    #[test]
    fn removed_container_goes_with_its_defaulted_fields() {
        let ignored = ignored_paths(true);
        let two = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}});
        let one = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        let first = apply(&base(), &two, vec![], &req("a", false, &ignored)).unwrap();
        let mut live = first.object.clone();
        live["spec"]["template"]["spec"]["containers"][1]["imagePullPolicy"] =
            json!("IfNotPresent");
        let second = apply(&live, &one, first.managers, &req("a", false, &ignored)).unwrap();
        assert_eq!(
            second.object["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn managed_fields_round_trip_in_upstream_order() {
        let ignored = ignored_paths(true);
        let a = created_by_a(&config(2, "nginx", None), &ignored);
        let mut edited = a.object.clone();
        edited["spec"]["paused"] = json!(true);
        let managers = update(
            Some(&a.object),
            &edited,
            a.managers,
            &req("ctl", false, &ignored),
        );
        let encoded = encode_managers(&managers);
        assert_eq!(encoded[0]["operation"], "Apply");
        assert_eq!(encoded[1]["manager"], "ctl");
        assert_eq!(encoded[1]["fieldsV1"], json!({"f:spec": {"f:paused": {}}}));
        let mut obj = edited;
        obj["metadata"]["managedFields"] = encoded;
        assert_eq!(decode_managers(&obj), managers);
    }
}
