//! `Expansion`: what a generating kind returns. Besides its child objects it declares the facts
//! other passes need about them (the network access its pods need), so no pass has to
//! rediscover them from the objects. The same goes for the admission rules its policies put in
//! force.

use super::admission::Admission;
use super::network::NetworkTarget;
use crate::finding::Finding;
use serde_json::{Map, Value};

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
    /// Admission rules its objects put in force that refuse what a built-in check finds; the
    /// check findings cite them (`admission::cite`).
    pub admission: Vec<Admission>,
}
