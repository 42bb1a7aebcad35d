//! The network access of a Strimzi Kafka cluster: KRaft and replication among the nodes, the
//! cluster and entity operators, the clients of the listeners, and the metrics port.

use super::*;
use crate::kind::network;

/// The cluster operator's pods: in its own namespace, or in the cluster's.
fn operator_peers() -> Vec<Value> {
    let pods = json!({"matchLabels": {"strimzi.io/kind": "cluster-operator"}});
    vec![
        json!({
            "namespaceSelector": {"matchLabels": {network::NAMESPACE_NAME: OPERATOR_NAMESPACE}},
            "podSelector": pods,
        }),
        json!({"podSelector": pods}),
    ]
}

fn tcp(ports: &[i64]) -> Value {
    Value::Array(
        ports
            .iter()
            .map(|p| json!({"protocol": "TCP", "port": p}))
            .collect(),
    )
}

/// The node pods and the entity operator, and the network access Strimzi needs.
pub(super) fn network(spec: &KafkaClusterSpec, m: &ModuleResource<'_>) -> Vec<NetworkTarget> {
    let (name, ns) = (m.name, m.namespace.as_str());
    let nodes = node_selector(name);
    let eo = entity_operator_selector(name);
    let client_ports: Vec<Port> = spec.listeners.iter().map(|l| Port::tcp(l.port)).collect();
    let mut ingress = vec![
        json!({"from": [network::pods(&nodes)], "ports": tcp(&[CONTROLPLANE_PORT, REPLICATION_PORT])}),
        json!({"from": operator_peers(), "ports": tcp(&[REPLICATION_PORT, AGENT_PORT])}),
    ];
    if spec.entity_operator {
        ingress.push(json!({"from": [network::pods(&eo)], "ports": tcp(&[REPLICATION_PORT])}));
    }
    let external: Vec<i64> = spec
        .listeners
        .iter()
        .filter(|l| l.type_.external())
        .map(|l| l.port)
        .collect();
    if !external.is_empty() {
        ingress.push(json!({"ports": tcp(&external)}));
    }
    let mut targets = vec![NetworkTarget {
        name: name.to_string(),
        namespace: ns.to_string(),
        selector: nodes.clone(),
        ports: client_ports,
        depends_on: Vec::new(),
        exposed: false,
        metrics: if spec.metrics {
            vec![Port::tcp(METRICS_PORT)]
        } else {
            Vec::new()
        },
        policies: Policies::Combined {
            name: format!("{name}-kafka-nodes"),
            ingress,
            egress: vec![
                json!({"to": [network::pods(&nodes)], "ports": tcp(&[CONTROLPLANE_PORT, REPLICATION_PORT])}),
            ],
        },
    }];
    if spec.entity_operator {
        targets.push(NetworkTarget {
            name: format!("{name}-entity-operator"),
            namespace: ns.to_string(),
            selector: eo,
            ports: Vec::new(),
            depends_on: Vec::new(),
            exposed: false,
            metrics: Vec::new(),
            policies: Policies::Combined {
                name: format!("{name}-entity-operator"),
                ingress: Vec::new(),
                // The brokers' replication listener, and the Kubernetes API it watches.
                egress: vec![
                    json!({"to": [network::pods(&nodes)], "ports": tcp(&[REPLICATION_PORT])}),
                    network::api_egress(),
                ],
            },
        });
    }
    targets
}
