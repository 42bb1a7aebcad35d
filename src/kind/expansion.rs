//! `Expansion`: what a generating kind returns. Besides its child objects it declares the facts
//! other passes need about them (the network access its pods need), so no pass has to
//! rediscover them from the objects. The same goes for the admission rules its policies put in
//! force.

use super::admission::Admission;
use super::network::NetworkTarget;
use crate::finding::Finding;
use crate::resource::ObjectRef;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The pod template annotation holding the content hash of the ConfigMaps and Secrets of the
/// set the pods read (`engine::passes::config_hash` writes it).
pub const CONFIG_HASH: &str = "nixernetes.io/config-hash";

/// The [`CONFIG_HASH`] value of a pod template that gets no hash: a kind whose pods reload their
/// configuration themselves writes it, and so may a user.
pub const CONFIG_HASH_OFF: &str = "off";

/// What a generating kind produced.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Child objects (Kubernetes objects or further module resources).
    pub objects: Vec<Value>,
    /// Extra labels for every child and its pod templates (e.g. compliance labels).
    pub labels: Map<String, Value>,
    /// Non-fatal findings (warnings, info).
    pub findings: Vec<Finding>,
    /// The pod groups it runs and the network access they need; the NetworkPolicy pass reads
    /// these.
    pub network: Vec<NetworkTarget>,
    /// The module resources among `objects` that the kind wrote from parts of its own spec
    /// (a `MultiTierApp`'s tiers): what the engine finds about them is reported at those parts.
    pub nested: Vec<Nested>,
    /// Admission rules its objects put in force that refuse what a built-in check finds; the
    /// check findings cite them (`admission::cite`).
    pub admission: Vec<Admission>,
}

/// A child module resource written from part of its parent's spec.
#[derive(Debug, Clone)]
pub struct Nested {
    /// Its index in [`Expansion::objects`].
    pub index: usize,
    /// The parent's field the child comes from, e.g. `spec.tiers[0]`: findings about the
    /// child's identity (name, kind) point here.
    pub entry: String,
    /// The parent's field holding the child's `spec`, e.g. `spec.tiers[0].spec`: a finding at
    /// the child's `spec.replicas` points at `spec.tiers[0].spec.replicas`.
    pub spec: String,
    /// Whether the child's pods (and its own nested children's) get the generated
    /// NetworkPolicies; `false` leaves their network policy to the user.
    pub network_policies: bool,
}

impl Nested {
    /// The parent's field for `field`, a field of the child.
    pub fn field(&self, field: &str) -> String {
        match field.strip_prefix("spec") {
            Some("") => self.spec.clone(),
            Some(rest) if rest.starts_with(['.', '[']) => format!("{}{rest}", self.spec),
            _ => self.entry.clone(),
        }
    }

    /// Moves `finding`, when it is about `child`, onto `parent` at the field it came from.
    pub fn relocate(&self, finding: &mut Finding, child: &ObjectRef, parent: &Arc<ObjectRef>) {
        if finding.object.as_deref() != Some(child) {
            return;
        }
        finding.object = Some(Arc::clone(parent));
        finding.field = Some(match finding.field.as_deref() {
            Some(f) => self.field(f),
            None => self.entry.clone(),
        });
    }
}
