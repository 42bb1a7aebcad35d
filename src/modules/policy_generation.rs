//! Seed module `policy-generation` (category `operations`): NetworkPolicies generated for the
//! workloads the modules emit, so that every module pod is isolated by default and can still
//! reach what it declares.
//!
//! For each namespace with module workloads: `default-deny` (all pods, ingress and egress) and
//! `allow-dns` (egress to kube-system on UDP and TCP 53, selected by
//! `kubernetes.io/metadata.name`). For each workload: `<name>-ingress` (its ports, from anywhere
//! when an Ingress, HTTPRoute or LoadBalancer/NodePort Service exposes it, and from the pods of
//! every workload that `dependsOn` it) and `<name>-egress` (to each dependency's pods on the
//! dependency's ports). CloudNativePG clusters get `<name>-cnpg`: replication between instances,
//! the operator, the pooler, and HTTPS egress for backups and the API server.
//! A NetworkPolicy of the same name already in the namespace (the user's own, or one a
//! `NetworkIsolation` emits) is kept, and the generated one left out.
//! Off with `PlatformDefaults.spec.networkPolicies: none`.

use crate::engine::inject::Provenance;
use crate::report::Finding;
use crate::resource::Resource;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Label that selects a namespace by name (set by Kubernetes on every namespace).
pub(crate) const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";
/// Namespace the CloudNativePG operator runs in by default.
const CNPG_OPERATOR_NAMESPACE: &str = "cnpg-system";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    Workload,
    Database,
    Pooler,
}

/// A pod group the policies talk about.
#[derive(Debug, Clone)]
struct Target {
    name: String,
    namespace: String,
    /// Pod labels that select it.
    selector: Map<String, Value>,
    /// (port, protocol) it serves.
    ports: Vec<(Value, String)>,
    depends_on: Vec<String>,
    exposed: bool,
    /// The module name dependents use, when it differs from `name` (a database's pooler).
    alias: Option<String>,
    kind: TargetKind,
    /// Index of the object it came from (for findings).
    object: usize,
    /// Provenance of that object.
    source: usize,
}

fn ports_of(pod_spec: &Value) -> Vec<(Value, String)> {
    let mut out = Vec::new();
    for c in pod_spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for p in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = p.get("containerPort") {
                let proto = p
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP")
                    .to_string();
                out.push((n.clone(), proto));
            }
        }
    }
    out
}

fn port_list(ports: &[(Value, String)]) -> Value {
    Value::Array(
        ports
            .iter()
            .map(|(p, proto)| json!({"protocol": proto, "port": p}))
            .collect(),
    )
}

/// The module workloads and database clusters in the rendered set.
fn targets(objects: &[(&Resource, Option<&Provenance>)]) -> Vec<Target> {
    let mut out = Vec::new();
    for (i, (obj, prov)) in objects.iter().enumerate() {
        let Some(prov) = prov else { continue };
        let ns = obj.namespace().unwrap_or(&prov.namespace).to_string();
        match (obj.api_version(), obj.kind()) {
            ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet") => {
                let selector = obj.object["spec"]["selector"]["matchLabels"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let depends_on = obj
                    .annotation("nixernetes.io/depends-on")
                    .map(|d| {
                        d.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Target {
                    name: obj.name().to_string(),
                    namespace: ns,
                    selector,
                    ports: ports_of(&obj.object["spec"]["template"]["spec"]),
                    depends_on,
                    exposed: false,
                    alias: None,
                    kind: TargetKind::Workload,
                    object: i,
                    source: i,
                });
            }
            (api, kind @ ("Cluster" | "Pooler")) if api.starts_with("postgresql.cnpg.io/") => {
                let (label, alias, kind) = match kind {
                    "Cluster" => ("cnpg.io/cluster", None, TargetKind::Database),
                    _ => (
                        "cnpg.io/poolerName",
                        obj.object["spec"]["cluster"]["name"]
                            .as_str()
                            .map(str::to_string),
                        TargetKind::Pooler,
                    ),
                };
                let mut selector = Map::new();
                selector.insert(label.into(), json!(obj.name()));
                out.push(Target {
                    name: obj.name().to_string(),
                    namespace: ns,
                    selector,
                    ports: vec![(json!(5432), "TCP".into())],
                    depends_on: Vec::new(),
                    exposed: false,
                    alias,
                    kind,
                    object: i,
                    source: i,
                });
            }
            _ => {}
        }
    }
    // Exposure: an Ingress, HTTPRoute or externally reachable Service from the same module.
    for (obj, prov) in objects {
        let Some(prov) = prov else { continue };
        let exposing = match obj.kind() {
            "Ingress" | "HTTPRoute" => true,
            "Service" => matches!(
                obj.object["spec"]["type"].as_str(),
                Some("LoadBalancer" | "NodePort")
            ),
            _ => false,
        };
        if exposing {
            for t in out.iter_mut() {
                if objects[t.object].1.is_some_and(|p| p.source == prov.source) {
                    t.exposed = true;
                }
            }
        }
    }
    out
}

/// A networking.k8s.io/v1 NetworkPolicy selecting `selector` (a LabelSelector) with `spec`.
pub(crate) fn policy(
    name: &str,
    namespace: &str,
    selector: Value,
    spec: Map<String, Value>,
) -> Value {
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
pub(crate) fn match_labels(labels: &Map<String, Value>) -> Value {
    json!({"matchLabels": labels})
}

/// `default-deny`: every pod of `namespace` is isolated for ingress and egress.
pub(crate) fn default_deny(namespace: &str) -> Value {
    let mut deny = Map::new();
    deny.insert("policyTypes".into(), json!(["Ingress", "Egress"]));
    policy("default-deny", namespace, json!({}), deny)
}

/// `allow-dns`: every pod of `namespace` may reach kube-system on UDP and TCP 53.
pub(crate) fn allow_dns(namespace: &str) -> Value {
    let mut dns = Map::new();
    dns.insert("policyTypes".into(), json!(["Egress"]));
    dns.insert(
        "egress".into(),
        json!([{
            "to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: "kube-system"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]),
    );
    policy("allow-dns", namespace, json!({}), dns)
}

/// Whom a generated policy serves: one workload (by object index), or every module workload of
/// a namespace.
#[derive(Debug, Clone, PartialEq)]
pub enum For {
    Workload(usize),
    Namespace(Vec<usize>),
}

/// The generated policies with whom they serve, plus warnings for dependencies that are not in
/// the set.
pub fn generate(
    objects: &[Resource],
    produced: &[Option<std::sync::Arc<Provenance>>],
) -> (Vec<(Value, For)>, Vec<Finding>) {
    let objects: Vec<(&Resource, Option<&Provenance>)> = objects
        .iter()
        .zip(produced.iter().map(Option::as_deref))
        .collect();
    let targets = targets(&objects);
    let mut out = Vec::new();
    let mut findings = Vec::new();
    let namespaces: BTreeSet<&str> = targets.iter().map(|t| t.namespace.as_str()).collect();
    for ns in &namespaces {
        let members = || {
            For::Namespace(
                targets
                    .iter()
                    .filter(|t| t.namespace == *ns)
                    .map(|t| t.source)
                    .collect(),
            )
        };
        out.push((default_deny(ns), members()));
        out.push((allow_dns(ns), members()));
    }

    // What a dependency name resolves to: workloads by name, a database by name (its pooler too).
    let resolve = |ns: &str, name: &str| -> Vec<&Target> {
        targets
            .iter()
            .filter(|t| t.namespace == ns && (t.name == name || t.alias.as_deref() == Some(name)))
            .collect()
    };
    let mut dependents: BTreeMap<(String, String), Vec<&Target>> = BTreeMap::new();
    for t in &targets {
        for dep in &t.depends_on {
            dependents
                .entry((t.namespace.clone(), dep.clone()))
                .or_default()
                .push(t);
        }
    }
    let poolers_of = |t: &Target| -> Vec<&Target> {
        targets
            .iter()
            .filter(|p| {
                p.kind == TargetKind::Pooler
                    && p.namespace == t.namespace
                    && p.alias.as_deref() == Some(&t.name)
            })
            .collect()
    };
    let api_egress =
        json!({"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]});

    for t in &targets {
        let key = (
            t.namespace.clone(),
            t.alias.clone().unwrap_or_else(|| t.name.clone()),
        );
        let from_dependents: Vec<Value> = dependents
            .get(&key)
            .into_iter()
            .flatten()
            .map(|d| json!({"from": [{"podSelector": match_labels(&d.selector)}], "ports": port_list(&t.ports)}))
            .collect();
        let own = match_labels(&t.selector);
        match t.kind {
            TargetKind::Database => {
                let mut ingress = vec![
                    // Replication and the instance manager between the cluster's own pods.
                    json!({"from": [{"podSelector": own.clone()}]}),
                    json!({
                        "from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: CNPG_OPERATOR_NAMESPACE}}}],
                        "ports": [{"protocol": "TCP", "port": 8000}, {"protocol": "TCP", "port": 5432}],
                    }),
                ];
                for p in poolers_of(t) {
                    ingress.push(json!({"from": [{"podSelector": match_labels(&p.selector)}], "ports": port_list(&t.ports)}));
                }
                ingress.extend(from_dependents);
                let mut spec = Map::new();
                spec.insert("policyTypes".into(), json!(["Ingress", "Egress"]));
                spec.insert("ingress".into(), Value::Array(ingress));
                // Object storage for backups and the Kubernetes API: their addresses are unknown here.
                spec.insert(
                    "egress".into(),
                    json!([{"to": [{"podSelector": own.clone()}]}, api_egress.clone()]),
                );
                out.push((
                    policy(&format!("{}-cnpg", t.name), &t.namespace, own, spec),
                    For::Workload(t.source),
                ));
            }
            TargetKind::Pooler => {
                let cluster = t.alias.clone().unwrap_or_default();
                let mut spec = Map::new();
                spec.insert("policyTypes".into(), json!(["Ingress", "Egress"]));
                spec.insert("ingress".into(), Value::Array(from_dependents));
                spec.insert(
                    "egress".into(),
                    json!([{"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": cluster}}}], "ports": port_list(&t.ports)}, api_egress.clone()]),
                );
                out.push((
                    policy(&t.name, &t.namespace, own, spec),
                    For::Workload(t.source),
                ));
            }
            TargetKind::Workload => {
                let mut ingress = Vec::new();
                if t.exposed && !t.ports.is_empty() {
                    ingress.push(json!({"ports": port_list(&t.ports)}));
                }
                ingress.extend(from_dependents);
                if !ingress.is_empty() {
                    let mut spec = Map::new();
                    spec.insert("policyTypes".into(), json!(["Ingress"]));
                    spec.insert("ingress".into(), Value::Array(ingress));
                    out.push((
                        policy(
                            &format!("{}-ingress", t.name),
                            &t.namespace,
                            own.clone(),
                            spec,
                        ),
                        For::Workload(t.source),
                    ));
                }
                let mut egress = Vec::new();
                for dep in &t.depends_on {
                    let found = resolve(&t.namespace, dep);
                    if found.is_empty() {
                        findings.push(
                            Finding::warning(format!(
                                "dependsOn {dep:?}: nothing of that name is rendered in namespace {}; allowing egress to pods labelled app.kubernetes.io/name={dep} on any port",
                                t.namespace
                            ))
                            .about(objects[t.object].0)
                            .field("metadata.annotations.nixernetes.io/depends-on"),
                        );
                        egress.push(json!({"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": dep}}}]}));
                    }
                    for d in found {
                        egress.push(json!({"to": [{"podSelector": match_labels(&d.selector)}], "ports": port_list(&d.ports)}));
                    }
                }
                if !egress.is_empty() {
                    let mut spec = Map::new();
                    spec.insert("policyTypes".into(), json!(["Egress"]));
                    spec.insert("egress".into(), Value::Array(egress));
                    out.push((
                        policy(&format!("{}-egress", t.name), &t.namespace, own, spec),
                        For::Workload(t.source),
                    ));
                }
            }
        }
    }
    (out, findings)
}

#[cfg(test)]
mod tests {
    use crate::engine::{run, Options};
    use serde_json::Value;

    /// (policy name, ingress peers, egress peers) with peers as `label=value:port` strings.
    fn policies(yaml: &str) -> Vec<(String, Vec<String>, Vec<String>)> {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let out = run(inputs, &Options::default());
        assert!(!out.failed(), "{:?}", out.findings);
        let peer = |rule: &Value, dir: &str| -> Vec<String> {
            let ports: Vec<String> = rule["ports"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_else(|| vec!["*".into()]);
            let peers: Vec<String> = rule[dir]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| serde_json::to_string(p).unwrap())
                        .collect()
                })
                .unwrap_or_else(|| vec!["anywhere".into()]);
            peers
                .iter()
                .flat_map(|p| ports.iter().map(move |port| format!("{p}:{port}")))
                .collect()
        };
        out.objects
            .iter()
            .filter(|o| o.kind() == "NetworkPolicy")
            .map(|o| {
                let spec = &o.object["spec"];
                let ing = spec["ingress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| peer(r, "from"))
                    .collect();
                let eg = spec["egress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| peer(r, "to"))
                    .collect();
                (o.name().to_string(), ing, eg)
            })
            .collect()
    }

    #[test]
    fn three_tier_chain_allows_exactly_its_edges() {
        let got = policies(include_str!("../../tests/fixtures/three-tier.yaml"));
        let find = |n: &str| {
            got.iter()
                .find(|p| p.0 == n)
                .unwrap_or_else(|| panic!("{n} in {got:?}"))
        };
        let names: Vec<&str> = got.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "default-deny",
                "allow-dns",
                "web-ingress",
                "web-egress",
                "api-ingress",
                "api-egress",
                "db-cnpg",
                "db-pooler"
            ]
        );
        assert!(find("default-deny").1.is_empty() && find("default-deny").2.is_empty());
        assert_eq!(
            find("allow-dns").2,
            [
                r#"{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}}}:53/UDP"#,
                r#"{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}}}:53/TCP"#
            ]
        );
        // web is exposed by its Ingress; only web may reach api, only api may reach db.
        assert_eq!(find("web-ingress").1, ["anywhere:8080/TCP"]);
        assert_eq!(
            find("web-egress").2,
            [r#"{"podSelector":{"matchLabels":{"app.kubernetes.io/name":"api"}}}:3000/TCP"#]
        );
        assert_eq!(
            find("api-ingress").1,
            [r#"{"podSelector":{"matchLabels":{"app.kubernetes.io/name":"web"}}}:3000/TCP"#]
        );
        assert_eq!(
            find("api-egress").2,
            [
                r#"{"podSelector":{"matchLabels":{"cnpg.io/cluster":"db"}}}:5432/TCP"#,
                r#"{"podSelector":{"matchLabels":{"cnpg.io/poolerName":"db-pooler"}}}:5432/TCP"#
            ]
        );
        let db = find("db-cnpg");
        assert!(db.1.contains(
            &r#"{"podSelector":{"matchLabels":{"app.kubernetes.io/name":"api"}}}:5432/TCP"#
                .to_string()
        ));
        assert!(
            !db.1.iter().any(|p| p.contains("\"web\"")),
            "web cannot reach the database"
        );
        assert!(find("db-pooler").1.iter().all(|p| p.contains("\"api\"")));
    }
}
