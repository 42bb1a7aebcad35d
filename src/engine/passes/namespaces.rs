//! The Namespaces of the rendered set, for `PlatformDefaults.spec.createNamespaces`: one v1
//! Namespace for every namespace an object of the set is emitted in, so that a fresh cluster
//! accepts the set in one apply. Each is labelled for Pod Security Admission with the profile
//! the checks hold pods to, so the cluster admits what the checks passed and nothing weaker.
//! A namespace every cluster has (`default`, `kube-*`) or one the set already defines (a
//! Namespace of the user's, a `Tenant`'s or a `PodSecurityProfile`'s) gets none. Off by
//! default.

use super::collisions::emitted_namespace;
use crate::engine::inject::Provenance;
use crate::kind::{Context, Registry};
use crate::resource::{Identity, Item, Resource};
use serde_json::{json, Map};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Namespaces that exist in every cluster: created by the API server, not by the set.
const BUILT_IN: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Label prefix of Pod Security Admission.
const PSA: &str = "pod-security.kubernetes.io/";

/// Appends the Namespaces the set uses and does not define, in name order, when the context
/// asks for them.
pub fn add_namespaces(
    reg: &Registry,
    objects: &mut Vec<Item>,
    produced: &mut Vec<Option<Arc<Provenance>>>,
    ctx: &Context,
) {
    let Some(request) = &ctx.create_namespaces else {
        return;
    };
    let defined: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o.api_version() == "v1" && o.kind() == "Namespace")
        .map(|o| o.name())
        .collect();
    let used: BTreeSet<String> = objects
        .iter()
        .zip(produced.iter())
        .filter_map(|(o, p)| emitted_namespace(o, p.as_deref(), ctx))
        .filter(|ns| !BUILT_IN.contains(ns) && !defined.contains(ns))
        .map(str::to_string)
        .collect();
    if used.is_empty() {
        return;
    }
    let (framework, category) = reg
        .lookup(&request.kind)
        .map(|d| (d.module.name, d.module.category.as_str()))
        .unwrap_or(("unified-api", "observability"));
    let prov = Arc::new(Provenance {
        source: request.source.clone(),
        framework,
        category,
        user: false,
        namespace: String::new(),
        labels: Map::new(),
        annotations: Map::new(),
    });
    let profile = ctx.policy.profile().as_str();
    for ns in used {
        let mut labels = Map::new();
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(format!("{PSA}{mode}"), json!(profile));
            labels.insert(format!("{PSA}{mode}-version"), json!("latest"));
        }
        let mut map = Map::new();
        map.insert("apiVersion".into(), json!("v1"));
        map.insert("kind".into(), json!("Namespace"));
        map.insert("metadata".into(), json!({"name": ns, "labels": labels}));
        objects.push(Item::from(Resource::new(map, request.origin.clone())));
        produced.push(Some(prov.clone()));
    }
}
