//! Seed module `policy-generation` (category `operations`): the NetworkPolicies generated for
//! the pods module resources run, so that every module pod is isolated by default and can still
//! reach what it declares.
//!
//! Kinds declare their pods (`kind::NetworkTarget`): labels, ports, dependencies, exposure and
//! any fixed peers. This pass adds what crosses kinds. For each namespace with targets:
//! `default-deny` (all pods, ingress and egress) and `allow-dns` (egress to kube-system on UDP
//! and TCP 53). For each target with `Policies::Split`: `<name>-ingress` (its ports from
//! anywhere when exposed, and from the pods of every target that depends on it) and
//! `<name>-egress` (to each dependency's pods on the dependency's ports); with
//! `Policies::Combined`, one policy of the kind's fixed rules plus the same dependents and
//! dependencies. Each target's metrics ports (`NetworkTarget::metrics`) are open to the
//! monitoring namespace (`PlatformDefaults.spec.monitoring.namespace`, default `monitoring`),
//! where the scrapers of the kinds' PodMonitors and ServiceMonitors run. A NetworkPolicy of the same name already in the namespace (the user's own, or
//! one a `NetworkIsolation` emits) is kept, and the generated one left out (by the engine).
//! Off with `PlatformDefaults.spec.networkPolicies: none`. This pass knows no operator.

use crate::engine::inject::Provenance;
use crate::finding::Finding;
use crate::kind::network::{self, port_list, NetworkTarget, Policies};
use crate::resource::{ObjectRef, Origin};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A declared target with the module resource that declared it.
pub struct Declared {
    pub target: NetworkTarget,
    /// The provenance of the declaring module resource's children.
    pub provenance: Arc<Provenance>,
    /// The module resource, for findings about its `dependsOn`.
    pub about: Arc<ObjectRef>,
    pub origin: Origin,
}

/// Whom a generated policy serves: one declaration (by index), or every declaration of a
/// namespace.
#[derive(Debug, Clone, PartialEq)]
pub enum For {
    Target(usize),
    Namespace(Vec<usize>),
}

/// The generated policies with whom they serve, plus warnings for dependencies that are not in
/// the set. The pods of namespace `monitoring` (the metrics scrapers) may reach every target's
/// metrics ports.
pub fn generate(declared: &[Declared], monitoring: &str) -> (Vec<(Value, For)>, Vec<Finding>) {
    let targets: Vec<&NetworkTarget> = declared.iter().map(|d| &d.target).collect();
    let mut out = Vec::new();
    let mut findings = Vec::new();
    // Indexed once, so that a render of many namespaces or many targets stays linear.
    let mut namespaces: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut by_name: HashMap<(&str, &str), Vec<&NetworkTarget>> = HashMap::new();
    for (i, t) in targets.iter().enumerate() {
        namespaces.entry(t.namespace.as_str()).or_default().push(i);
        by_name
            .entry((t.namespace.as_str(), t.name.as_str()))
            .or_default()
            .push(t);
    }
    for (ns, members) in &namespaces {
        out.push((network::default_deny(ns), For::Namespace(members.clone())));
        out.push((network::allow_dns(ns), For::Namespace(members.clone())));
    }

    // What a dependency name resolves to: every target of that name in the namespace.
    let none = Vec::new();
    let resolve = |ns, name| by_name.get(&(ns, name)).unwrap_or(&none);
    let mut dependents: BTreeMap<(&str, &str), Vec<&NetworkTarget>> = BTreeMap::new();
    for t in &targets {
        for (dep, _) in &t.depends_on {
            dependents
                .entry((t.namespace.as_str(), dep.as_str()))
                .or_default()
                .push(t);
        }
    }

    for (i, t) in targets.iter().enumerate() {
        let from_dependents = dependents
            .get(&(t.namespace.as_str(), t.name.as_str()))
            .into_iter()
            .flatten()
            // Pods that serve no port are reached by nobody (an empty `ports` would open every
            // port), and a target never depends on itself: a `uses` of a pod-less resource that
            // shares the app's own name (a Worker `notifier` using the KafkaUser `notifier`).
            .filter(|d| !t.ports.is_empty() && !std::ptr::eq(**d, *t))
            .map(|d| json!({"from": [network::pods(&d.selector)], "ports": port_list(&t.ports)}));
        let mut egress_rules = Vec::new();
        for (dep, field) in &t.depends_on {
            let found: Vec<&NetworkTarget> = resolve(t.namespace.as_str(), dep.as_str())
                .iter()
                .copied()
                .filter(|d| !std::ptr::eq(*d, *t))
                .collect();
            // A `uses` entry names a resource the render has (its kind checked that), which may
            // run no pods of its own (a Kafka user, a topic): nothing to reach.
            if found.is_empty() && from_uses(field) {
                continue;
            }
            if found.is_empty() {
                findings.push(
                    Finding::warning(format!(
                        "dependsOn {dep:?}: nothing of that name is rendered in namespace {}; allowing egress to pods labelled app.kubernetes.io/name={dep} on any port",
                        t.namespace
                    ))
                    .at(declared[i].origin.clone())
                    .object(declared[i].about.clone())
                    .field(field.clone()),
                );
                egress_rules.push(json!({"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": dep}}}]}));
            }
            for d in found.iter().filter(|d| !d.ports.is_empty()) {
                egress_rules.push(
                    json!({"to": [network::pods(&d.selector)], "ports": port_list(&d.ports)}),
                );
            }
        }
        // The metrics scraper reads the endpoints of the kind's PodMonitor or ServiceMonitor.
        let scrape = (!t.metrics.is_empty()).then(
            || json!({"from": [network::namespace(monitoring)], "ports": port_list(&t.metrics)}),
        );
        let own = network::match_labels(&t.selector);
        let serves = For::Target(i);
        match &t.policies {
            Policies::Combined {
                name,
                ingress,
                egress,
            } => {
                let mut spec = Map::new();
                spec.insert("policyTypes".into(), json!(["Ingress", "Egress"]));
                let ingress: Vec<Value> = ingress
                    .iter()
                    .cloned()
                    .chain(from_dependents)
                    .chain(scrape)
                    .collect();
                spec.insert("ingress".into(), Value::Array(ingress));
                let egress: Vec<Value> = egress.iter().cloned().chain(egress_rules).collect();
                spec.insert("egress".into(), Value::Array(egress));
                out.push((network::policy(name, &t.namespace, own, spec), serves));
            }
            Policies::Split => {
                let mut ingress = Vec::new();
                if t.exposed && !t.ports.is_empty() {
                    ingress.push(json!({"ports": port_list(&t.ports)}));
                }
                ingress.extend(from_dependents);
                ingress.extend(scrape);
                if !ingress.is_empty() {
                    let mut spec = Map::new();
                    spec.insert("policyTypes".into(), json!(["Ingress"]));
                    spec.insert("ingress".into(), Value::Array(ingress));
                    let name = format!("{}-ingress", t.name);
                    out.push((
                        network::policy(&name, &t.namespace, own.clone(), spec),
                        serves.clone(),
                    ));
                }
                if !egress_rules.is_empty() {
                    let mut spec = Map::new();
                    spec.insert("policyTypes".into(), json!(["Egress"]));
                    spec.insert("egress".into(), Value::Array(egress_rules));
                    let name = format!("{}-egress", t.name);
                    out.push((network::policy(&name, &t.namespace, own, spec), serves));
                }
            }
        }
    }
    (out, findings)
}

/// Whether a dependency was written as a workload's `uses` entry (`spec.uses[0].name`, or a
/// parent's field holding it) rather than in `dependsOn`.
fn from_uses(field: &str) -> bool {
    field.contains("uses[")
}

#[cfg(test)]
mod tests {
    use crate::engine::{run, Options};
    use serde_json::Value;

    /// (policy name, ingress peers, egress peers) with peers as `label=value:port` strings.
    fn policies(yaml: &str) -> Vec<(String, Vec<String>, Vec<String>)> {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let out = run(inputs, &Options::new(crate::modules::registry()));
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
        let got = policies(include_str!("../../../tests/fixtures/three-tier.yaml"));
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
