//! Backends that routes send traffic to: `dangling-ingress-backend` (an Ingress's
//! `defaultBackend` and `rules[].http.paths[].backend`) and `dangling-route-backend` (a Gateway
//! API HTTPRoute's or GRPCRoute's `rules[].backendRefs[]` of kind Service) must name a Service of
//! the rendered set, and a port that Service has (`port.number` or `port.name` of an Ingress,
//! `port` of a route, against the Service's `ports[].port` and `ports[].name`). An Ingress of the
//! removed extensions/v1beta1 or networking.k8s.io/v1beta1 is read in its own terms
//! (`spec.backend`, `serviceName`, `servicePort`).
//!
//! Only judged where the set holds at least one Service of the backend's namespace: a set that
//! renders an Ingress alone, whose Services come from elsewhere, says nothing about them. A
//! route's `backendRefs[].namespace` names the namespace to look in (the route's by default);
//! references to other kinds (a resource backend, an `InferencePool`) are not judged.

use super::pod::{get, get_str, obj};
use super::{CheckDef, Fix, Scope, SetHits, SetInput};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

pub const DANGLING_INGRESS_BACKEND: CheckDef = CheckDef {
    id: "dangling-ingress-backend",
    summary: "Ingress backends name a rendered Service and one of its ports (where the set holds the namespace's Services)",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Set(dangling_ingress_backend),
};

pub const DANGLING_ROUTE_BACKEND: CheckDef = CheckDef {
    id: "dangling-route-backend",
    summary: "HTTPRoute and GRPCRoute backendRefs name a rendered Service and one of its ports (where the set holds the namespace's Services)",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Set(dangling_route_backend),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&DANGLING_INGRESS_BACKEND, &DANGLING_ROUTE_BACKEND];

/// The rendered Services by namespace, each by name with its `spec` (if any).
type Services<'a> = HashMap<Option<&'a str>, BTreeMap<&'a str, Option<&'a Map<String, Value>>>>;

fn services<'a>(objects: &[&'a Resource]) -> Services<'a> {
    let mut out: Services<'a> = HashMap::new();
    for r in objects {
        if r.group() == "" && r.kind() == "Service" {
            out.entry(r.namespace())
                .or_default()
                .insert(r.name(), obj(r.object.field("spec")));
        }
    }
    out
}

/// A backend's port: a number or a name.
enum Port<'a> {
    Number(i64),
    Name(&'a str),
}

/// What is wrong with a backend naming Service `name` (and `port`) in `namespace`, as
/// `(field under the backend, message)`; `None` when it is fine or cannot be judged.
fn judge(
    services: &Services<'_>,
    namespace: Option<&str>,
    name: &str,
    port: Option<Port<'_>>,
) -> Option<(&'static str, String)> {
    let here = services.get(&namespace)?;
    let Some(spec) = here.get(name) else {
        let mut names: Vec<String> = here.keys().take(5).map(|n| format!("{n:?}")).collect();
        if here.len() > names.len() {
            names.push(format!("and {} more", here.len() - names.len()));
        }
        return Some((
            "name",
            format!(
                "backend Service {name:?} is not rendered {} (it holds {}): requests routed here would fail; name one of those or render the Service",
                super::network::in_namespace(namespace),
                names.join(", ")
            ),
        ));
    };
    let ports: Vec<&Map<String, Value>> = match spec.and_then(|s| s.field("ports")) {
        Some(Value::Array(ports)) => ports.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    // An ExternalName Service without ports forwards whatever port it is asked for.
    if ports.is_empty() && spec.and_then(|s| get_str(s, "type")) == Some("ExternalName") {
        return None;
    }
    let listed = || {
        let list: Vec<String> = ports
            .iter()
            .map(|p| {
                let number = p.field("port").map(Value::to_string).unwrap_or_default();
                match get_str(p, "name") {
                    Some(n) => format!("{number} ({n})"),
                    None => number,
                }
            })
            .collect();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    match port? {
        Port::Number(n) if !ports.iter().any(|p| p.field("port").and_then(Value::as_i64) == Some(n)) => Some((
            "port",
            format!("backend Service {name:?} has no port {n} (its ports: {}): use one of its ports (the Service's port, not the container's)", listed()),
        )),
        Port::Name(n) if !ports.iter().any(|p| get_str(p, "name") == Some(n)) => Some((
            "port",
            format!("backend Service {name:?} has no port named {n:?} (its ports: {})", listed()),
        )),
        _ => None,
    }
}

fn dangling_ingress_backend(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let services = services(objects);
    if services.is_empty() {
        return;
    }
    for (i, r) in objects.iter().enumerate() {
        // extensions/v1beta1 and networking.k8s.io/v1beta1 (removed in 1.22, reported by
        // `stable-api-version`) name the backend `serviceName` and `servicePort`, and the
        // default one `spec.backend`.
        let beta = matches!(
            r.api_version(),
            "extensions/v1beta1" | "networking.k8s.io/v1beta1"
        );
        if r.kind() != "Ingress" || !(r.group() == "networking.k8s.io" || beta) {
            continue;
        }
        let Some(spec) = obj(r.object.field("spec")) else {
            continue;
        };
        // (path of the backend, the backend)
        let mut backends: Vec<(String, &Map<String, Value>)> = Vec::new();
        let (default, under) = if beta {
            ("backend", "")
        } else {
            ("defaultBackend", ".service")
        };
        fn of(b: &Value, beta: bool) -> Option<&Map<String, Value>> {
            if beta {
                b.as_object()
            } else {
                b.field("service").and_then(Value::as_object)
            }
        }
        if let Some(b) = spec.field(default).and_then(|b| of(b, beta)) {
            backends.push((format!("spec.{default}{under}"), b));
        }
        if let Some(Value::Array(rules)) = spec.field("rules") {
            for (ri, rule) in rules.iter().enumerate() {
                let Some(Value::Array(paths)) = rule.field("http").and_then(|h| h.field("paths"))
                else {
                    continue;
                };
                for (pi, path) in paths.iter().enumerate() {
                    if let Some(b) = path.field("backend").and_then(|b| of(b, beta)) {
                        backends.push((
                            format!("spec.rules[{ri}].http.paths[{pi}].backend{under}"),
                            b,
                        ));
                    }
                }
            }
        }
        for (at, backend) in backends {
            let (name, number, port_name) = if beta {
                let port = backend.field("servicePort");
                (
                    get_str(backend, "serviceName"),
                    port.filter(|p| p.is_number()),
                    port.and_then(Value::as_str),
                )
            } else {
                (
                    get_str(backend, "name"),
                    get(backend, "port.number"),
                    get_str(backend, "port.name"),
                )
            };
            let Some(name) = name else {
                continue;
            };
            let (port, port_field) = match (number, port_name) {
                (Some(n), _) => (n.as_i64().map(Port::Number), "port.number"),
                (None, Some(n)) => (Some(Port::Name(n)), "port.name"),
                (None, None) => (None, "port"),
            };
            let port_field = if beta { "servicePort" } else { port_field };
            if let Some((field, message)) = judge(&services, r.namespace(), name, port) {
                let field = match field {
                    "port" => port_field,
                    "name" if beta => "serviceName",
                    other => other,
                };
                out.push(i, format!("{at}.{field}"), message);
            }
        }
    }
}

fn dangling_route_backend(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let services = services(objects);
    if services.is_empty() {
        return;
    }
    for (i, r) in objects.iter().enumerate() {
        if r.group() != "gateway.networking.k8s.io"
            || !matches!(r.kind(), "HTTPRoute" | "GRPCRoute")
        {
            continue;
        }
        let Some(Value::Array(rules)) = get(&r.object, "spec.rules") else {
            continue;
        };
        for (ri, rule) in rules.iter().enumerate() {
            let Some(Value::Array(refs)) = rule.field("backendRefs") else {
                continue;
            };
            for (bi, backend) in refs.iter().enumerate() {
                let Some(backend) = backend.as_object() else {
                    continue;
                };
                let group = get_str(backend, "group").unwrap_or("");
                let kind = get_str(backend, "kind").unwrap_or("Service");
                let Some(name) = get_str(backend, "name") else {
                    continue;
                };
                if !group.is_empty() || kind != "Service" {
                    continue;
                }
                let namespace = get_str(backend, "namespace").or(r.namespace());
                let port = backend
                    .field("port")
                    .and_then(Value::as_i64)
                    .map(Port::Number);
                if let Some((field, message)) = judge(&services, namespace, name, port) {
                    out.push(
                        i,
                        format!("spec.rules[{ri}].backendRefs[{bi}].{field}"),
                        message,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::expect_hits as expect;

    const SERVICES: &str = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: search, namespace: shop}
spec: {type: ExternalName, externalName: search.example.com}
";

    fn ingress(backends: &str) -> String {
        format!(
            "{SERVICES}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web, namespace: shop}}
spec:
{backends}"
        )
    }

    #[test]
    fn dangling_ingress_backend_finds_missing_services_and_ports() {
        let yaml = ingress(
            "  defaultBackend: {service: {name: fallback, port: {number: 80}}}
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {name: grpc}}}}
      - {path: /ok, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /search, pathType: Prefix, backend: {service: {name: search, port: {number: 443}}}}
      - {path: /static, pathType: Prefix, backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: static}}}
",
        );
        expect(
            &DANGLING_INGRESS_BACKEND,
            &yaml,
            &[
                (
                    "web",
                    "spec.defaultBackend.service.name",
                    "backend Service \"fallback\" is not rendered in namespace \"shop\" (it holds \"search\", \"web\"): requests routed here would fail",
                ),
                (
                    "web",
                    "spec.rules[0].http.paths[0].backend.service.port.number",
                    "backend Service \"web\" has no port 8080 (its ports: 80 (http)): use one of its ports (the Service's port, not the container's)",
                ),
                (
                    "web",
                    "spec.rules[0].http.paths[1].backend.service.port.name",
                    "backend Service \"web\" has no port named \"grpc\" (its ports: 80 (http))",
                ),
            ],
        );
    }

    #[test]
    fn dangling_ingress_backend_reads_the_v1beta1_backend_fields() {
        let yaml = format!(
            "{SERVICES}---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {{name: old, namespace: shop}}
spec:
  backend: {{serviceName: fallback, servicePort: 80}}
  rules:
  - http:
      paths:
      - {{path: /, backend: {{serviceName: web, servicePort: 80}}}}
      - {{path: /api, backend: {{serviceName: web, servicePort: grpc}}}}
      - {{path: /ok, backend: {{serviceName: web, servicePort: http}}}}
"
        );
        expect(
            &DANGLING_INGRESS_BACKEND,
            &yaml,
            &[
                (
                    "old",
                    "spec.backend.serviceName",
                    "backend Service \"fallback\" is not rendered in namespace \"shop\"",
                ),
                (
                    "old",
                    "spec.rules[0].http.paths[1].backend.servicePort",
                    "backend Service \"web\" has no port named \"grpc\"",
                ),
            ],
        );
        // networking.k8s.io/v1 does not have these fields: `schema` reports them there.
        let v1 = yaml.replace("extensions/v1beta1", "networking.k8s.io/v1");
        expect(&DANGLING_INGRESS_BACKEND, &v1, &[]);
    }

    #[test]
    fn dangling_ingress_backend_needs_the_namespaces_services() {
        let yaml = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
";
        expect(&DANGLING_INGRESS_BACKEND, yaml, &[]);
        // Services of another namespace do not count.
        let elsewhere = format!(
            "{}---\n{yaml}",
            SERVICES.replace("namespace: shop", "namespace: other")
        );
        expect(&DANGLING_INGRESS_BACKEND, &elsewhere, &[]);
        let fine = ingress("  rules:\n  - http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}\n");
        expect(&DANGLING_INGRESS_BACKEND, &fine, &[]);
    }

    fn route(refs: &str) -> String {
        format!(
            "{SERVICES}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: shop}}
spec:
  parentRefs: [{{name: edge}}]
  rules:
  - backendRefs:
{refs}"
        )
    }

    #[test]
    fn dangling_route_backend_finds_missing_services_and_ports() {
        let yaml = route(
            "    - {name: web, port: 80}
    - {name: web, port: 8080}
    - {name: api, port: 80}
    - {name: web, namespace: other, port: 80}
    - {group: inference.networking.k8s.io, kind: InferencePool, name: llm}
",
        );
        expect(
            &DANGLING_ROUTE_BACKEND,
            &yaml,
            &[
                (
                    "web",
                    "spec.rules[0].backendRefs[1].port",
                    "backend Service \"web\" has no port 8080 (its ports: 80 (http))",
                ),
                (
                    "web",
                    "spec.rules[0].backendRefs[2].name",
                    "backend Service \"api\" is not rendered in namespace \"shop\"",
                ),
            ],
        );
    }

    #[test]
    fn dangling_route_backend_passes_rendered_backends() {
        let yaml = route("    - {name: web, port: 80, weight: 90}\n    - {kind: Service, name: search, port: 443, weight: 10}\n");
        expect(&DANGLING_ROUTE_BACKEND, &yaml, &[]);
        let cross = format!(
            "{}---\n{}",
            SERVICES.replace("namespace: shop", "namespace: other"),
            route("    - {name: web, namespace: other, port: 80}\n")
                .split_once("---\napiVersion: gateway")
                .map(|(_, r)| format!("apiVersion: gateway{r}"))
                .unwrap()
        );
        expect(&DANGLING_ROUTE_BACKEND, &cross, &[]);
    }
}
