//! Every PodMonitor and ServiceMonitor a kind emits can scrape through the NetworkPolicies the
//! same render emits, and those policies open nothing else to the scrapers: each kind's example
//! (found through the kind registry: no list of kinds here) is rendered with the generated
//! NetworkPolicies on, and the flows are evaluated with `nixernetes::policy::netpol`.
//!
//! The monitored pods are the pod templates of the set the monitor selects, or, for the pods an
//! operator runs from a custom resource, a pod with the monitor's (or its Service's) selector
//! labels, whose named ports are the operator's (`OPERATOR_PORTS`, from the operators' docs).

use crate::common;
use nixernetes::modules::registry;
use nixernetes::policy::netpol::{Endpoint, Policies};
use nixernetes::resource::Resource;
use serde_json::{Map, Value};

/// Named container ports of the pods operators run, as the operators name them: `(port name,
/// number)`. CloudNativePG `metrics` 9187; the OT redis-operator's exporter sidecar
/// `redis-exporter` 9121; Strimzi's `tcp-prometheus` 9404; the RabbitMQ cluster operator's
/// `prometheus` 15692; the MongoDB Community operator's Service port `prometheus` 9216.
const OPERATOR_PORTS: &[(&str, &str, u16)] = &[
    ("cnpg.io/cluster", "metrics", 9187),
    ("redis_setup_type", "redis-exporter", 9121),
    ("strimzi.io/cluster", "tcp-prometheus", 9404),
    ("app.kubernetes.io/component", "prometheus", 15692),
    ("app", "prometheus", 9216),
];

/// Ports tried besides every port the set's NetworkPolicies and the pods name: none of them may
/// be open to the scrapers.
const OTHER_PORTS: &[u16] = &[22, 80, 443, 3306, 5432, 6379, 8080, 9090, 9092, 27017];

fn render(path: &str, extra: &[&str]) -> Vec<Resource> {
    let mut args = vec!["render", path];
    args.extend(extra);
    let out = common::run_binary(&args);
    assert_eq!(out.status, 0, "render {path}: {}", out.stderr);
    nixernetes::source::parse_text(&out.stdout, path).expect("render output parses")
}

fn match_labels(v: &Value) -> Map<String, Value> {
    v.get("matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn subset(want: &Map<String, Value>, of: &Map<String, Value>) -> bool {
    !want.is_empty() && want.iter().all(|(k, v)| of.get(k) == Some(v))
}

/// A scraped target: the pods, and the port numbers it scrapes.
struct Target {
    what: String,
    pods: Endpoint,
    ports: Vec<u16>,
}

/// The pods with `labels` in `namespace`: a pod template of the set whose labels include them,
/// else the operator's pods with exactly them.
fn pods_with(
    p: &Policies<'_>,
    objects: &[Resource],
    namespace: &str,
    labels: &Map<String, Value>,
) -> Endpoint {
    for o in objects {
        let Some(Endpoint::Pod {
            namespace: ns,
            labels: l,
            ..
        }) = p.pod_of(o)
        else {
            continue;
        };
        if ns == namespace && subset(labels, &l) {
            return p.pod_of(o).unwrap();
        }
    }
    let pairs: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    p.pod(namespace, &refs)
}

/// The number of port `port` (a number, or a name) of `pods`.
fn number(port: &Value, pods: &Endpoint, what: &str) -> u16 {
    if let Some(n) = port.as_u64() {
        return n as u16;
    }
    let name = port
        .as_str()
        .unwrap_or_else(|| panic!("{what}: port {port}"));
    let Endpoint::Pod { ports, labels, .. } = pods else {
        unreachable!()
    };
    if let Some((_, n, _)) = ports.iter().find(|(n, _, _)| n == name) {
        return *n;
    }
    OPERATOR_PORTS
        .iter()
        .find(|(label, n, _)| *n == name && labels.contains_key(*label))
        .map(|(_, _, n)| *n)
        .unwrap_or_else(|| {
            panic!("{what}: no pod of the set names port {name:?}, nor does OPERATOR_PORTS for pods labelled {labels:?}: add the operator's port there, from its docs")
        })
}

/// What `monitor` scrapes.
fn targets(p: &Policies<'_>, objects: &[Resource], monitor: &Resource) -> Vec<Target> {
    let ns = monitor.namespace().unwrap_or("default");
    let spec = &monitor.object["spec"];
    let names = spec["namespaceSelector"]["matchNames"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_else(|| vec![ns.to_string()]);
    let selector = match_labels(&spec["selector"]);
    let what = format!("{}/{ns}/{}", monitor.kind(), monitor.name());
    let mut out = Vec::new();
    for ns in &names {
        match monitor.kind() {
            "PodMonitor" => {
                let pods = pods_with(p, objects, ns, &selector);
                let ports = spec["podMetricsEndpoints"]
                    .as_array()
                    .expect("podMetricsEndpoints")
                    .iter()
                    .map(|e| {
                        let port = e
                            .get("portNumber")
                            .or(e.get("port"))
                            .or(e.get("targetPort"));
                        number(port.expect("a port"), &pods, &what)
                    })
                    .collect();
                out.push(Target {
                    what: what.clone(),
                    pods,
                    ports,
                });
            }
            _ => {
                // The Services it selects: those of the set, else the operator's, which select
                // the pods by the same labels (the MongoDB Community operator's `<name>-svc`).
                let services: Vec<&Resource> = objects
                    .iter()
                    .filter(|o| o.kind() == "Service" && o.namespace() == Some(ns.as_str()))
                    .filter(|o| subset(&selector, o.labels().unwrap_or(&Map::new())))
                    .collect();
                let endpoints = spec["endpoints"].as_array().expect("endpoints");
                if services.is_empty() {
                    let pods = pods_with(p, objects, ns, &selector);
                    let ports = endpoints
                        .iter()
                        .map(|e| {
                            number(
                                e.get("targetPort").or(e.get("port")).expect("a port"),
                                &pods,
                                &what,
                            )
                        })
                        .collect();
                    out.push(Target {
                        what: what.clone(),
                        pods,
                        ports,
                    });
                }
                for svc in services {
                    let pods = pods_with(
                        p,
                        objects,
                        ns,
                        svc.object["spec"]["selector"]
                            .as_object()
                            .unwrap_or(&Map::new()),
                    );
                    let svc_ports = svc.object["spec"]["ports"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    let ports = endpoints
                        .iter()
                        .map(|e| {
                            let target = match (e.get("targetPort"), e.get("port")) {
                                (Some(t), _) => t.clone(),
                                (None, Some(name)) => svc_ports
                                    .iter()
                                    .find(|sp| sp["name"] == *name)
                                    .map(|sp| sp.get("targetPort").unwrap_or(&sp["port"]).clone())
                                    .unwrap_or_else(|| {
                                        panic!("{what}: Service {} has no port {name}", svc.name())
                                    }),
                                _ => panic!("{what}: an endpoint without a port"),
                            };
                            number(&target, &pods, &what)
                        })
                        .collect();
                    out.push(Target {
                        what: format!("{what} via Service {}", svc.name()),
                        pods,
                        ports,
                    });
                }
            }
        }
    }
    out
}

/// Every port number the set's NetworkPolicies name, and the pods' own.
fn candidate_ports(objects: &[Resource], pods: &Endpoint) -> Vec<u16> {
    let mut ports: Vec<u16> = OTHER_PORTS.to_vec();
    fn walk(v: &Value, out: &mut Vec<u16>) {
        match v {
            Value::Object(m) => {
                if let Some(n) = m.get("port").and_then(Value::as_u64) {
                    out.push(n as u16);
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    for o in objects.iter().filter(|o| o.kind() == "NetworkPolicy") {
        walk(&o.object["spec"], &mut ports);
    }
    if let Endpoint::Pod { ports: named, .. } = pods {
        ports.extend(named.iter().map(|(_, n, _)| *n));
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Checks every monitor of `objects` against its NetworkPolicies with the scrapers in
/// `monitoring`; returns how many targets it checked.
fn check(path: &str, objects: &[Resource], monitoring: &str, failures: &mut Vec<String>) -> usize {
    let p = Policies::new(objects);
    let scraper = p.pod(monitoring, &[("app.kubernetes.io/name", "prometheus")]);
    let stranger = p.pod("elsewhere", &[("app.kubernetes.io/name", "prometheus")]);
    let mut checked = 0;
    for monitor in objects
        .iter()
        .filter(|o| matches!(o.kind(), "PodMonitor" | "ServiceMonitor"))
    {
        for t in targets(&p, objects, monitor) {
            checked += 1;
            for port in &t.ports {
                let v = p.allows(&scraper, &t.pods, *port, "TCP");
                if !v.allowed() {
                    failures.push(format!(
                        "{path}: {}: {monitoring} cannot scrape port {port}: {v:?}",
                        t.what
                    ));
                }
                if p.allows(&stranger, &t.pods, *port, "TCP").allowed() {
                    failures.push(format!(
                        "{path}: {}: namespace elsewhere reaches the metrics port {port}",
                        t.what
                    ));
                }
            }
            // The pods are isolated at all (else "allowed" proves nothing).
            if p.allows(&stranger, &t.pods, 1, "TCP").allowed() {
                failures.push(format!(
                    "{path}: {}: no NetworkPolicy isolates the pods",
                    t.what
                ));
            }
            for port in candidate_ports(objects, &t.pods) {
                if !t.ports.contains(&port) && p.allows(&scraper, &t.pods, port, "TCP").allowed() {
                    failures.push(format!(
                        "{path}: {}: {monitoring} reaches port {port}, which it does not scrape",
                        t.what
                    ));
                }
            }
        }
    }
    checked
}

#[test]
fn every_monitor_a_kind_emits_can_scrape_and_nothing_else_opens() {
    let mut failures = Vec::new();
    let mut kinds = Vec::new();
    // The kinds that say they can emit a monitor (`KindDef::emits`, which their docs list).
    let monitoring = registry().iter().filter(|d| {
        d.emits
            .iter()
            .any(|g| matches!(g.kind, "PodMonitor" | "ServiceMonitor"))
    });
    for def in monitoring {
        let path = def.example.path;
        let objects = render(path, &[]);
        // The kind's own monitors: a multi-kind example's other monitors are their kinds'.
        let own = objects.iter().any(|o| {
            matches!(o.kind(), "PodMonitor" | "ServiceMonitor")
                && o.annotations()
                    .and_then(|a| a.get("nixernetes.io/source"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.starts_with(&format!("{}/", def.kind)))
        });
        assert!(
            own,
            "{path}: {} can emit a monitor, but its example renders none: turn its metrics on in the example, so that this test judges it",
            def.kind
        );
        assert!(
            objects.iter().any(|o| o.kind() == "NetworkPolicy"),
            "{path}: renders monitors but no NetworkPolicy"
        );
        let n = check(path, &objects, "monitoring", &mut failures);
        assert!(n > 0, "{path}: no target checked");
        // The scrapers' namespace is a setting: there, and only there.
        let moved = render(path, &["--monitoring-namespace", "observability"]);
        check(path, &moved, "observability", &mut failures);
        let p = Policies::new(&moved);
        let old = p.pod("monitoring", &[("app.kubernetes.io/name", "prometheus")]);
        for monitor in moved
            .iter()
            .filter(|o| matches!(o.kind(), "PodMonitor" | "ServiceMonitor"))
        {
            for t in targets(&p, &moved, monitor) {
                for port in &t.ports {
                    if p.allows(&old, &t.pods, *port, "TCP").allowed() {
                        failures.push(format!("{path}: {}: namespace monitoring still reaches port {port} with --monitoring-namespace observability", t.what));
                    }
                }
            }
        }
        kinds.push(def.kind);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The registry has kinds with monitors: an empty run proves nothing.
    assert!(kinds.len() >= 5, "kinds with monitors: {kinds:?}");
}
