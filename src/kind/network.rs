//! The network access a kind's pods need, as the kind declares it (`NetworkTarget`), and the
//! builders of the NetworkPolicy objects that both the generation pass (`engine::passes`) and
//! `NetworkIsolation` emit, so the two always write the same objects.
//!
//! A kind knows its own pods: their labels, ports, what they depend on, whether something
//! outside the cluster reaches them, and any fixed peers (its operator's namespace, its own
//! replicas). The pass adds only what crosses kinds: which pods depend on which.

use serde_json::{json, Map, Value};

/// Label that selects a namespace by name (set by Kubernetes on every namespace).
pub const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// A port a pod group serves: number (or name) and protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub port: Value,
    pub protocol: String,
}

impl Port {
    pub fn tcp(port: i64) -> Port {
        Port {
            port: json!(port),
            protocol: "TCP".into(),
        }
    }
}

/// A group of pods one module resource runs, and the network access they need.
#[derive(Debug, Clone)]
pub struct NetworkTarget {
    /// The name other workloads' `dependsOn` use to reach these pods.
    pub name: String,
    /// Namespace the pods run in (empty: left to the orchestrator).
    pub namespace: String,
    /// Pod labels that select exactly these pods.
    pub selector: Map<String, Value>,
    /// Ports they serve.
    pub ports: Vec<Port>,
    /// Names (of other targets in the namespace) they open connections to, as the user wrote
    /// them, with the field path each was written at.
    pub depends_on: Vec<(String, String)>,
    /// Reached from outside the namespace (an Ingress, an HTTPRoute, a LoadBalancer or
    /// NodePort Service): ingress on its ports from anywhere.
    pub exposed: bool,
    /// Ports a metrics scraper reads (the endpoints of the PodMonitor or ServiceMonitor the
    /// kind emits): ingress on them from the monitoring namespace.
    pub metrics: Vec<Port>,
    /// The policies that isolate them.
    pub policies: Policies,
}

/// The NetworkPolicies a target gets.
#[derive(Debug, Clone)]
pub enum Policies {
    /// `<name>-ingress` (exposure and dependents) and `<name>-egress` (dependencies), each only
    /// when it has a rule.
    Split,
    /// One policy for both directions, always emitted: `ingress` then the dependents' rules,
    /// and `egress` then the dependencies' rules.
    Combined {
        name: String,
        ingress: Vec<Value>,
        egress: Vec<Value>,
    },
}

/// `ports` as NetworkPolicy ports.
pub fn port_list(ports: &[Port]) -> Value {
    Value::Array(
        ports
            .iter()
            .map(|p| json!({"protocol": p.protocol, "port": p.port}))
            .collect(),
    )
}

/// A networking.k8s.io/v1 NetworkPolicy selecting `selector` (a LabelSelector) with `spec`.
pub fn policy(name: &str, namespace: &str, selector: Value, spec: Map<String, Value>) -> Value {
    let mut s = Map::new();
    s.insert("podSelector".into(), selector);
    s.extend(spec);
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": s,
    })
}

/// A LabelSelector of exactly `labels`.
pub fn match_labels(labels: &Map<String, Value>) -> Value {
    json!({"matchLabels": labels})
}

/// A peer: the pods selected by `labels`.
pub fn pods(labels: &Map<String, Value>) -> Value {
    json!({"podSelector": match_labels(labels)})
}

/// A peer: every pod of the namespace named `namespace`.
pub fn namespace(namespace: &str) -> Value {
    json!({"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: namespace}}})
}

/// Egress to the Kubernetes API and HTTPS endpoints, whose addresses are unknown here.
pub fn api_egress() -> Value {
    json!({"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]})
}

/// `default-deny`: every pod of `namespace` is isolated for ingress and egress.
pub fn default_deny(namespace: &str) -> Value {
    let mut deny = Map::new();
    deny.insert("policyTypes".into(), json!(["Ingress", "Egress"]));
    policy("default-deny", namespace, json!({}), deny)
}

/// `allow-dns`: every pod of `namespace` may reach kube-system on UDP and TCP 53.
pub fn allow_dns(namespace: &str) -> Value {
    let mut dns = Map::new();
    dns.insert("policyTypes".into(), json!(["Egress"]));
    dns.insert(
        "egress".into(),
        json!([{
            "to": [self::namespace("kube-system")],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]),
    );
    policy("allow-dns", namespace, json!({}), dns)
}
