//! ApplySets (KEP-3659), as `kubectl apply --prune --applyset` keeps them: a parent object (a
//! Secret or ConfigMap named after the inventory) labelled `applyset.kubernetes.io/id`, and
//! every member labelled `applyset.kubernetes.io/part-of` with that id. The parent's
//! annotations name the tool that manages the set and the group-kinds and namespaces its members
//! live in, so that pruning lists only those.
//!
//! The id is kubectl's: `applyset-` + base64url (no padding) of the SHA-256 of
//! `<name>.<namespace>.<Kind>.<group>` + `-v1` (`ApplySet.ID` in k8s.io/kubectl's
//! `pkg/cmd/apply/applyset.go`). Annotation values are written as kubectl writes them: sorted,
//! comma-separated.
//!
//! Until the next minor version, objects applied before ApplySets (which carry only the label
//! `nixernetes.io/inventory`) are members too, so that `apply --prune` still finds them.

use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Label of the parent: the applyset's id.
pub const ID: &str = "applyset.kubernetes.io/id";
/// Label of every member: the id of its applyset.
pub const PART_OF: &str = "applyset.kubernetes.io/part-of";
/// Annotation of the parent: `<tool>/<version>` of the tool that manages the set.
pub const TOOLING: &str = "applyset.kubernetes.io/tooling";
/// Annotation of the parent: the members' group-kinds (`Deployment.apps,Service`).
pub const GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
/// Annotation of the parent: the members' namespaces other than the parent's.
pub const NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";
/// Annotation older kubectl versions wrote instead of [`GROUP_KINDS`] (resources, not kinds).
pub const GROUP_RESOURCES: &str = "applyset.kubernetes.io/contains-group-resources";
/// The tool's name in [`TOOLING`].
pub const TOOL: &str = "nixernetes";

/// The kind of the parent object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentKind {
    Secret,
    ConfigMap,
}

impl ParentKind {
    pub fn kind(self) -> &'static str {
        match self {
            ParentKind::Secret => "Secret",
            ParentKind::ConfigMap => "ConfigMap",
        }
    }
}

/// An applyset's parent: which object it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub kind: ParentKind,
    pub name: String,
    pub namespace: String,
}

impl Parent {
    /// The applyset id (kubectl's `ApplySet.ID`): built-in parents are of the core group.
    pub fn id(&self) -> String {
        id(&self.name, &self.namespace, self.kind.kind(), "")
    }

    /// `Secret shop/shop-prod`.
    pub fn describe(&self) -> String {
        format!("{} {}/{}", self.kind.kind(), self.namespace, self.name)
    }

    /// Why the parent cannot be written: its namespace does not exist.
    pub fn missing_namespace(&self) -> String {
        format!(
            "the ApplySet parent {} cannot be written: namespace {} does not exist (create it, or give -n an existing namespace)",
            self.describe(),
            self.namespace
        )
    }

    /// The parent as it is server-side applied: the id label and the annotations for members
    /// of `group_kinds` in `namespaces` (the parent's own namespace left out, as kubectl does).
    pub fn object(&self, group_kinds: &BTreeSet<String>, namespaces: &BTreeSet<String>) -> Value {
        let gks: Vec<&str> = group_kinds.iter().map(String::as_str).collect();
        let nss: Vec<&str> = namespaces
            .iter()
            .map(String::as_str)
            .filter(|ns| *ns != self.namespace)
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": self.kind.kind(),
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {ID: self.id()},
                "annotations": {
                    TOOLING: tooling(),
                    GROUP_KINDS: gks.join(","),
                    NAMESPACES: nss.join(","),
                },
            },
        })
    }
}

/// `nixernetes/v<version>`, the value of [`TOOLING`].
pub fn tooling() -> String {
    format!("{TOOL}/v{}", crate::VERSION)
}

/// kubectl's applyset id of the parent `<name>.<namespace>.<kind>.<group>`.
pub fn id(name: &str, namespace: &str, kind: &str, group: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{name}.{namespace}.{kind}.{group}").as_bytes(),
    );
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
    )
}

/// kubectl's `GroupKind.String()`: `Kind.group`, or `Kind` for the core group.
pub fn group_kind(api_version: &str, kind: &str) -> String {
    match api_version.split_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind.to_string(),
    }
}

/// The tool that manages a live parent (`kubectl` for `kubectl/v1.32.0`), as kubectl reads
/// the annotation: everything before the last `/`.
pub fn tool_of(tooling: &str) -> &str {
    tooling.rsplit_once('/').map_or(tooling, |(tool, _)| tool)
}

/// What a live parent says about its members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Group-kinds of [`GROUP_KINDS`] (or, for parents older kubectl wrote, the resources of
    /// [`GROUP_RESOURCES`] as `plural.group`, matched against kinds by the caller).
    pub group_kinds: BTreeSet<String>,
    /// The parent's namespace and those of [`NAMESPACES`].
    pub namespaces: BTreeSet<String>,
    /// [`GROUP_RESOURCES`] entries (`deployments.apps`).
    pub group_resources: BTreeSet<String>,
}

/// Checks that `live` is this applyset's parent and may be changed by us (KEP-3659: a tool
/// refuses to change an applyset another tool manages, unless the user says to adopt it), and
/// returns what it records. `Ok(None)`: no parent yet.
pub fn check_parent(
    parent: &Parent,
    live: Option<&Value>,
    adopt: bool,
) -> Result<Option<Recorded>, String> {
    let Some(live) = live else { return Ok(None) };
    let meta = &live["metadata"];
    let label = meta["labels"][ID].as_str();
    let what = parent.describe();
    match label {
        None => {
            return Err(format!(
                "{what} exists and is not an ApplySet parent (it has no label {ID}); choose another --inventory, or delete it"
            ))
        }
        Some(l) if l != parent.id() => {
            return Err(format!(
                "{what} exists and has label {ID}={l}, not {} (the id of this ApplySet); choose another --inventory",
                parent.id()
            ))
        }
        Some(_) => {}
    }
    let tooling = meta["annotations"][TOOLING].as_str().unwrap_or_default();
    let tool = tool_of(tooling);
    if tool != TOOL && !adopt {
        let by = if tooling.is_empty() {
            format!("has no annotation {TOOLING}")
        } else {
            format!("is managed by {tooling:?}")
        };
        return Err(format!(
            "ApplySet parent {what} {by}, not by {TOOL}: another tool keeps this set (tools leave each other's ApplySets alone); pass --adopt-applyset to take it over (that tool then refuses it)"
        ));
    }
    let split = |key: &str| -> BTreeSet<String> {
        meta["annotations"][key]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut namespaces = split(NAMESPACES);
    namespaces.insert(parent.namespace.clone());
    Ok(Some(Recorded {
        group_kinds: split(GROUP_KINDS),
        namespaces,
        group_resources: split(GROUP_RESOURCES),
    }))
}

/// Stamps `applyset.kubernetes.io/part-of: <id>` on `object`. A different value the input
/// itself wrote is an error (it would move the object to another set), as in kubectl.
pub fn label_member(object: &mut Value, id: &str) -> Result<(), String> {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Err("the object has no metadata".into());
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if labels.is_null() {
        *labels = Value::Object(Map::new());
    }
    let Some(labels) = labels.as_object_mut() else {
        return Err("metadata.labels is not a map".into());
    };
    match labels.get(PART_OF).and_then(Value::as_str) {
        Some(v) if v != id => Err(format!(
            "metadata.labels.{PART_OF} is {v:?} in the input, but the object belongs to ApplySet {id}: remove the label (the tool sets it)"
        )),
        _ => {
            labels.insert(PART_OF.into(), Value::String(id.to_string()));
            Ok(())
        }
    }
}

/// Why a live object that carries the set's labels is not a prune candidate, if it is not one.
///
/// `legacy` is the inventory name: an object with the old `nixernetes.io/inventory` label and
/// no `part-of` label is a member applied before ApplySets.
pub fn not_prunable(object: &Value, id: &str, prune_namespaces: bool) -> Option<&'static str> {
    let meta = &object["metadata"];
    if meta["ownerReferences"]
        .as_array()
        .is_some_and(|o| !o.is_empty())
    {
        return Some("owned by another object");
    }
    match meta["labels"][PART_OF].as_str() {
        Some(v) if v != id => return Some("member of another ApplySet"),
        _ => {}
    }
    if !meta["deletionTimestamp"].is_null() {
        return Some("being deleted");
    }
    if object["kind"] == "Namespace" && object["apiVersion"] == "v1" && !prune_namespaces {
        return Some("a Namespace (pruned only with --prune-namespaces)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kubectls() {
        // kubectl 1.32 `apply --server-side --applyset=shop -n shop --prune` labelled its
        // Secret parent with this id (tests/it/apply.rs checks it against the real kubectl).
        let p = Parent {
            kind: ParentKind::Secret,
            name: "shop".into(),
            namespace: "shop".into(),
        };
        let expected = {
            let d = ring::digest::digest(&ring::digest::SHA256, b"shop.shop.Secret.");
            format!(
                "applyset-{}-v1",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
            )
        };
        assert_eq!(p.id(), expected);
        assert!(p.id().starts_with("applyset-") && p.id().ends_with("-v1"));
        assert!(!p.id().contains('=') && !p.id().contains('+') && !p.id().contains('/'));
        assert_eq!(p.id().len(), "applyset-".len() + 43 + 3);
        let cm = Parent {
            kind: ParentKind::ConfigMap,
            ..p.clone()
        };
        assert_ne!(cm.id(), p.id());
    }

    #[test]
    fn parent_annotations_are_sorted_and_skip_the_parent_namespace() {
        let p = Parent {
            kind: ParentKind::Secret,
            name: "app".into(),
            namespace: "shop".into(),
        };
        let gks: BTreeSet<String> = ["Service", "Deployment.apps", "Namespace"]
            .map(String::from)
            .into();
        let nss: BTreeSet<String> = ["shop", "web", "api"].map(String::from).into();
        let o = p.object(&gks, &nss);
        let a = &o["metadata"]["annotations"];
        assert_eq!(a[GROUP_KINDS], "Deployment.apps,Namespace,Service");
        assert_eq!(a[NAMESPACES], "api,web");
        assert_eq!(a[TOOLING], format!("nixernetes/v{}", crate::VERSION));
        assert_eq!(o["metadata"]["labels"][ID], p.id());
        assert_eq!(group_kind("apps/v1", "Deployment"), "Deployment.apps");
        assert_eq!(group_kind("v1", "Service"), "Service");
    }

    #[test]
    fn another_tools_parent_is_refused_unless_adopted() {
        let p = Parent {
            kind: ParentKind::Secret,
            name: "app".into(),
            namespace: "shop".into(),
        };
        let live = json!({"metadata": {"labels": {ID: p.id()}, "annotations": {
            TOOLING: "kubectl/v1.32.0", GROUP_KINDS: "Deployment.apps,ConfigMap",
            NAMESPACES: "web"}}});
        let e = check_parent(&p, Some(&live), false).unwrap_err();
        assert!(e.contains("managed by \"kubectl/v1.32.0\""), "{e}");
        assert!(e.contains("--adopt-applyset"), "{e}");
        let r = check_parent(&p, Some(&live), true).unwrap().unwrap();
        assert_eq!(
            r.group_kinds,
            ["ConfigMap", "Deployment.apps"].map(String::from).into()
        );
        assert_eq!(r.namespaces, ["shop", "web"].map(String::from).into());
        let other = json!({"metadata": {"labels": {ID: "applyset-x-v1"}}});
        assert!(check_parent(&p, Some(&other), true)
            .unwrap_err()
            .contains("not applyset-"));
        let plain = json!({"metadata": {"name": "app"}});
        assert!(check_parent(&p, Some(&plain), true)
            .unwrap_err()
            .contains("is not an ApplySet parent"));
        assert_eq!(check_parent(&p, None, false), Ok(None));
        assert_eq!(tool_of("kpt/v1.0.0"), "kpt");
        assert_eq!(tool_of("helm"), "helm");
    }

    #[test]
    fn members_and_candidates() {
        let mut o = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}});
        label_member(&mut o, "applyset-x-v1").unwrap();
        assert_eq!(o["metadata"]["labels"][PART_OF], "applyset-x-v1");
        label_member(&mut o, "applyset-x-v1").unwrap();
        assert!(label_member(&mut o, "applyset-y-v1")
            .unwrap_err()
            .contains("remove the label"));
        assert_eq!(not_prunable(&o, "applyset-x-v1", false), None);
        assert_eq!(
            not_prunable(&o, "applyset-z-v1", false),
            Some("member of another ApplySet")
        );
        let owned = json!({"metadata": {"ownerReferences": [{"kind": "Deployment"}]}});
        assert_eq!(
            not_prunable(&owned, "x", false),
            Some("owned by another object")
        );
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {}});
        assert!(not_prunable(&ns, "x", false).is_some());
        assert_eq!(not_prunable(&ns, "x", true), None);
    }
}
