//! What a workload opens to the outside, and how: `exposed-service` (NodePort and LoadBalancer
//! Services, container host ports) and `ingress-tls` (Ingresses and Gateway listeners that serve
//! plain HTTP).
//!
//! `exposed-service` overlaps with the Pod Security check `host-port` on purpose: that one says a
//! host port breaks the baseline standard, this one says the pod is reachable on every node's
//! address and what to use instead; each is exempted on its own.
//!
//! `ingress-tls` reads an Ingress's `spec.tls[].hosts` against its `spec.rules[].host`: a
//! wildcard TLS host (`*.example.com`) covers one label below it, a TLS entry without hosts
//! covers every host (the controller's default certificate), and a rule without a host is
//! covered by any TLS entry. A Gateway listener with `protocol: HTTP` is reported even when the
//! Gateway also has an HTTPS listener: if it only redirects to HTTPS, say so in an exemption.

use super::pod::{get_str, obj, pod_of, strings};
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use serde_json::Value;

pub const EXPOSED_SERVICE: CheckDef = CheckDef {
    id: "exposed-service",
    summary: "no NodePort or LoadBalancer Services and no container host ports: traffic enters through an Ingress or Gateway",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Object(exposed_service),
};

pub const INGRESS_TLS: CheckDef = CheckDef {
    id: "ingress-tls",
    summary: "Ingresses have spec.tls for every host; Gateway listeners use HTTPS or TLS, not HTTP",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Object(ingress_tls),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&EXPOSED_SERVICE, &INGRESS_TLS];

fn exposed_service(r: &Resource, out: &mut HitSink) {
    if r.group() == "" && r.kind() == "Service" {
        let Some(spec) = obj(r.object.field("spec")) else {
            return;
        };
        let node_ports: Vec<String> = match spec.field("ports") {
            Some(Value::Array(ports)) => ports
                .iter()
                .filter_map(|p| p.field("nodePort").and_then(Value::as_i64))
                .map(|p| p.to_string())
                .collect(),
            _ => Vec::new(),
        };
        let on = if node_ports.is_empty() {
            "a port".to_string()
        } else {
            format!("port {}", node_ports.join(", "))
        };
        match get_str(spec, "type") {
            Some("NodePort") => out.push(
                "spec.type",
                format!("Service type NodePort opens {on} on every node's address, around any Ingress, Gateway or firewall in front of the cluster: use type ClusterIP and route to it through an Ingress or Gateway"),
            ),
            Some("LoadBalancer") => {
                let restricted = matches!(spec.field("loadBalancerSourceRanges"), Some(Value::Array(a)) if !a.is_empty());
                let how = if restricted {
                    "spec.loadBalancerSourceRanges limits who may connect"
                } else {
                    "anyone who can reach it may connect"
                };
                let node_ports = if spec.field("allocateLoadBalancerNodePorts") == Some(&Value::Bool(false)) {
                    String::new()
                } else {
                    format!(" and also opens {on} on every node")
                };
                out.push(
                    "spec.type",
                    format!("Service type LoadBalancer asks for an external load balancer{node_ports} ({how}): use type ClusterIP behind an Ingress or Gateway, or make it internal with your cloud's annotation and exempt it"),
                );
            }
            _ => {}
        }
        return;
    }
    let Some(pod) = pod_of(r) else { return };
    for (field, container, hp) in super::pod_security::host_ports(&pod) {
        out.push(
            field,
            format!("container {container:?} publishes host port {hp} on the address of every node it runs on (and only one such pod fits per node): remove hostPort and reach it through a ClusterIP Service"),
        );
    }
}

/// Whether TLS host `tls` (possibly `*.domain`) covers rule host `host`.
fn covers(tls: &str, host: &str) -> bool {
    if tls.eq_ignore_ascii_case(host) {
        return true;
    }
    match (tls.strip_prefix("*."), host.split_once('.')) {
        (Some(domain), Some((_, rest))) => domain.eq_ignore_ascii_case(rest),
        _ => false,
    }
}

fn ingress_tls(r: &Resource, out: &mut HitSink) {
    let Some(spec) = obj(r.object.field("spec")) else {
        return;
    };
    match (r.group(), r.kind()) {
        ("networking.k8s.io" | "extensions", "Ingress") => {
            let tls: Vec<&Value> = match spec.field("tls") {
                Some(Value::Array(entries)) => entries.iter().collect(),
                _ => Vec::new(),
            };
            if tls.is_empty() {
                out.push(
                    "spec.tls",
                    "the Ingress has no spec.tls, so it serves plain HTTP: add a tls entry with its hosts and a certificate Secret (cert-manager can issue one)",
                );
                return;
            }
            if tls.iter().any(|t| strings(t.field("hosts")).is_empty()) {
                return;
            }
            let tls_hosts: Vec<&str> = tls
                .iter()
                .flat_map(|t| strings(t.field("hosts")))
                .map(|(_, h)| h)
                .collect();
            let Some(Value::Array(rules)) = spec.field("rules") else {
                return;
            };
            for (i, rule) in rules.iter().enumerate() {
                let Some(host) = rule.field("host").and_then(Value::as_str) else {
                    continue;
                };
                if !tls_hosts.iter().any(|t| covers(t, host)) {
                    out.push(
                        format!("spec.rules[{i}].host"),
                        format!("host {host:?} is in no spec.tls[].hosts, so it is served over plain HTTP: add it to a tls entry whose certificate covers it"),
                    );
                }
            }
        }
        ("gateway.networking.k8s.io", "Gateway") => {
            let Some(Value::Array(listeners)) = spec.field("listeners") else {
                return;
            };
            for (i, l) in listeners.iter().enumerate() {
                if l.field("protocol").and_then(Value::as_str) != Some("HTTP") {
                    continue;
                }
                let name = l.field("name").and_then(Value::as_str).unwrap_or("");
                out.push(
                    format!("spec.listeners[{i}].protocol"),
                    format!("listener {name:?} serves plain HTTP: use protocol HTTPS with tls.certificateRefs (if it only redirects to HTTPS, exempt it and say so)"),
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::expect_hits as expect;

    const SERVICE: &str = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
";

    #[test]
    fn exposed_service_reports_node_ports_load_balancers_and_host_ports() {
        let yaml = format!(
            "{}---\n{}---\napiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: shop}}
spec:
  template:
    spec:
      containers:
      - name: agent
        image: agent:1.0
        ports: [{{containerPort: 9100, hostPort: 9100}}, {{containerPort: 80, hostPort: 0}}]
",
            SERVICE
                .replace("ports:", "type: NodePort\n  ports:")
                .replace("port: 80,", "port: 80, nodePort: 30080,"),
            SERVICE.replace("name: web", "name: lb").replace(
                "ports:",
                "type: LoadBalancer\n  loadBalancerSourceRanges: [10.0.0.0/8]\n  ports:"
            ),
        );
        expect(
            &EXPOSED_SERVICE,
            &yaml,
            &[
                ("web", "spec.type", "Service type NodePort opens port 30080 on every node's address"),
                ("lb", "spec.type", "asks for an external load balancer and also opens a port on every node (spec.loadBalancerSourceRanges limits who may connect)"),
                ("agent", "spec.template.spec.containers[0].ports[0].hostPort", "container \"agent\" publishes host port 9100"),
            ],
        );
    }

    #[test]
    fn exposed_service_passes_cluster_ip_and_headless_services() {
        let yaml = format!(
            "{SERVICE}---\n{}---\n{}",
            SERVICE
                .replace("name: web", "name: plain")
                .replace("ports:", "type: ClusterIP\n  ports:"),
            SERVICE
                .replace("name: web", "name: db")
                .replace("ports:", "clusterIP: None\n  ports:"),
        );
        expect(&EXPOSED_SERVICE, &yaml, &[]);
    }

    const INGRESS: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
  - host: api.shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
";

    #[test]
    fn ingress_tls_reports_plain_http_ingresses_and_listeners() {
        expect(
            &INGRESS_TLS,
            INGRESS,
            &[(
                "web",
                "spec.tls",
                "the Ingress has no spec.tls, so it serves plain HTTP",
            )],
        );
        let partial =
            format!("{INGRESS}  tls: [{{hosts: [shop.example.com], secretName: shop-tls}}]\n");
        expect(
            &INGRESS_TLS,
            &partial,
            &[(
                "web",
                "spec.rules[1].host",
                "host \"api.shop.example.com\" is in no spec.tls[].hosts",
            )],
        );
        let gateway = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: shop-tls}]}}
";
        expect(
            &INGRESS_TLS,
            gateway,
            &[(
                "edge",
                "spec.listeners[0].protocol",
                "listener \"http\" serves plain HTTP",
            )],
        );
    }

    #[test]
    fn ingress_tls_passes_covered_hosts() {
        let wildcard = format!(
            "{INGRESS}  tls: [{{hosts: [shop.example.com, '*.shop.example.com'], secretName: shop-tls}}]\n"
        );
        expect(&INGRESS_TLS, &wildcard, &[]);
        let default_certificate = format!("{INGRESS}  tls: [{{secretName: shop-tls}}]\n");
        expect(&INGRESS_TLS, &default_certificate, &[]);
        assert!(covers("*.example.com", "a.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        let gateway = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  listeners:
  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: shop-tls}]}}
  - {name: tls, protocol: TLS, port: 8443, tls: {mode: Passthrough}}
";
        expect(&INGRESS_TLS, gateway, &[]);
    }
}
