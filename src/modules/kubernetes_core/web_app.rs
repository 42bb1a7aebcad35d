//! `WebApp`: an HTTP service. A Deployment of hardened pods, its Service, ServiceAccount,
//! optional `<name>-config` ConfigMap, HPA, PDB (more than one pod), and an Ingress or a Gateway
//! API HTTPRoute. It is also the unified API's one-declaration application: `compliance` stamps
//! the compliance labels on everything it emits, `dependsOn` says what it talks to.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::config::{self, ConfigSpec};
use crate::modules::shared::container::ProbeDefault;
use crate::modules::shared::container::{self, PortSpec};
use crate::modules::shared::defaults;
use crate::modules::shared::meta;
use crate::modules::shared::scaling::{self, AutoscalingSpec, PdbSpec};
use crate::modules::shared::workload::{self, workload_spec};
use crate::schema::operators;
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as networking;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

pub struct WebApp;

workload_spec! {
    /// An HTTP service: a Deployment of hardened pods behind a Service, optionally exposed by an
    /// Ingress or a Gateway API HTTPRoute.
    pub struct WebAppSpec {
        /// Pods to run (0-10000); with `autoscaling`, the autoscaler's minimum by default.
        #[serde(default = "defaults::int::<2>")]
        pub replicas: i32,
        /// Ports the container listens on; the Service forwards to the first one.
        #[serde(default = "http_ports")]
        pub ports: Vec<PortSpec>,
        /// The Service in front of the pods.
        #[serde(default)]
        pub service: ServiceSpec,
        /// An Ingress for `host` (give this or `route`).
        pub ingress: Option<IngressSpec>,
        /// A Gateway API HTTPRoute attached to a Gateway (give this or `ingress`).
        pub route: Option<RouteSpec>,
        /// Horizontal autoscaling on CPU (and memory) utilisation.
        pub autoscaling: Option<AutoscalingSpec>,
        /// The PodDisruptionBudget.
        #[serde(default)]
        pub pdb: PdbSpec,
        /// Configuration as a `<name>-config` ConfigMap: `data` as environment, `files` mounted.
        pub config: Option<ConfigSpec>,
    }
}

fn http_ports() -> Vec<PortSpec> {
    vec![PortSpec {
        name: "http".into(),
        port: 8080,
        protocol: Default::default(),
    }]
}

/// The Service in front of the pods.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Emit the Service.
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
    /// How the Service is reached.
    #[serde(default, rename = "type")]
    pub type_: ServiceType,
    /// Port the Service listens on; it forwards to the first container port.
    #[serde(default = "service_port")]
    pub port: i64,
}

fn service_port() -> i64 {
    80
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            enabled: true,
            type_: ServiceType::default(),
            port: service_port(),
        }
    }
}

/// How a Service is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum ServiceType {
    /// Inside the cluster only.
    #[default]
    ClusterIP,
    /// On a port of every node.
    NodePort,
    /// Through the cloud's load balancer.
    LoadBalancer,
}

/// A networking.k8s.io/v1 Ingress routing `host` and `path` to the Service.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressSpec {
    /// Host name, e.g. `shop.example.com` (a leading `*.` for a wildcard).
    pub host: String,
    /// Path prefix routed to the Service.
    #[serde(default = "defaults::root_path")]
    pub path: String,
    /// IngressClass to use; the cluster's default when not given.
    pub class_name: Option<String>,
    /// TLS for `host`; `{}` uses the Secret `<name>-tls`.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
}

/// TLS of an Ingress.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSpec {
    /// Secret holding the certificate; `<name>-tls` when not given.
    pub secret_name: Option<String>,
}

/// A Gateway API HTTPRoute attaching the Service to a Gateway.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteSpec {
    /// The Gateway to attach to.
    pub gateway_ref: GatewayRef,
    /// Host names the route answers; every host of the Gateway when empty.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Path prefix routed to the Service.
    #[serde(default = "defaults::root_path")]
    pub path: String,
}

/// A reference to a Gateway.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayRef {
    /// The Gateway's name.
    pub name: String,
    /// Its namespace; the route's own when not given.
    pub namespace: Option<String>,
    /// The listener to attach to; every listener when not given.
    pub section_name: Option<String>,
}

impl WebAppSpec {
    /// Whether something outside the namespace reaches the pods.
    fn exposed(&self) -> bool {
        self.ingress.is_some()
            || self.route.is_some()
            || (self.service.enabled
                && !self.ports.is_empty()
                && matches!(
                    self.service.type_,
                    ServiceType::NodePort | ServiceType::LoadBalancer
                ))
    }
}

impl Kind for WebApp {
    const KIND: &'static str = "WebApp";
    const SUMMARY: &'static str =
        "HTTP service: Deployment, Service, ServiceAccount, optional ConfigMap, HPA, PDB, Ingress or HTTPRoute";
    const EXAMPLE: Example = crate::example!("examples/kubernetes-core/web-app.yaml");
    type Spec = WebAppSpec;

    fn validate(spec: &WebAppSpec, ch: &mut Problems<'_>) {
        meta::check_name_room("-config", ch);
        spec.workload(&spec.ports).validate(ch);
        config::check_config(spec.config.as_ref(), ch);
        scaling::check_scaling(spec.replicas, spec.autoscaling.as_ref(), &spec.pdb, ch);
        ch.check("spec.service.port", validate::port(spec.service.port));
        let exposed = spec.ingress.is_some() || spec.route.is_some();
        if spec.ingress.is_some() && spec.route.is_some() {
            ch.fail("spec.route", "set either ingress or route, not both");
        }
        if exposed && (!spec.service.enabled || spec.ports.is_empty()) {
            ch.fail(
                "spec.service.enabled",
                "ingress and route need the Service: enable it and declare a port",
            );
        }
        if spec.service.enabled && spec.ports.is_empty() {
            ch.fail(
                "spec.ports",
                "a WebApp with a Service needs at least one port (or set service.enabled: false)",
            );
        }
        if let Some(ing) = &spec.ingress {
            ch.check(
                "spec.ingress.host",
                validate::dns1123_subdomain(ing.host.trim_start_matches("*.")),
            );
            if !ing.path.starts_with('/') {
                ch.fail("spec.ingress.path", "path must start with '/'");
            }
            if let Some(s) = ing.tls.as_ref().and_then(|t| t.secret_name.as_ref()) {
                ch.check(
                    "spec.ingress.tls.secretName",
                    validate::dns1123_subdomain(s),
                );
            }
        }
        if let Some(r) = &spec.route {
            ch.check(
                "spec.route.gatewayRef.name",
                validate::dns1123_subdomain(&r.gateway_ref.name),
            );
            if let Some(ns) = &r.gateway_ref.namespace {
                ch.check(
                    "spec.route.gatewayRef.namespace",
                    validate::dns1123_label(ns),
                );
            }
            for (i, h) in r.hostnames.iter().enumerate() {
                ch.check(
                    format!("spec.route.hostnames[{i}]"),
                    validate::dns1123_subdomain(h.trim_start_matches("*.")),
                );
            }
            if !r.path.starts_with('/') {
                ch.fail("spec.route.path", "path must start with '/'");
            }
        }
    }
}

impl Generate for WebApp {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("v1", "ConfigMap"),
        Gvk::new("apps/v1", "Deployment"),
        Gvk::new("v1", "Service"),
        Gvk::new("policy/v1", "PodDisruptionBudget"),
        Gvk::new("autoscaling/v2", "HorizontalPodAutoscaler"),
        Gvk::new("networking.k8s.io/v1", "Ingress"),
        Gvk::new("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ];

    fn expand(spec: WebAppSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let mut w = spec.workload(&spec.ports);
        w.probe_default = ProbeDefault::TcpOnFirstPort;
        let parts = workload::deployment(
            &w,
            m,
            ctx,
            spec.replicas,
            spec.autoscaling.as_ref(),
            &spec.pdb,
            spec.config.as_ref(),
        );
        let mut objects = parts.before;
        objects.push(parts.deployment);
        if spec.service.enabled && !spec.ports.is_empty() {
            objects.push(meta::to_value(&core::Service {
                metadata: meta::meta(m.name, &m.namespace, m.name, None),
                spec: Some(core::ServiceSpec {
                    type_: Some(format!("{:?}", spec.service.type_)),
                    selector: Some(meta::selector_labels(m.name)),
                    ports: Some(container::service_ports(
                        &spec.ports,
                        Some(spec.service.port),
                    )),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        objects.extend(parts.scaling);
        if let Some(ing) = &spec.ingress {
            objects.push(ingress(ing, spec.service.port, m));
        }
        if let Some(r) = &spec.route {
            objects.push(route(r, spec.service.port, m, ctx));
        }
        Expansion {
            objects,
            labels: w.kind_labels(),
            network: vec![w.network(m, spec.exposed())],
            findings: parts
                .findings
                .into_iter()
                .chain(w.probe_findings(m, ctx))
                .collect(),
            ..Default::default()
        }
    }
}

fn ingress(ing: &IngressSpec, port: i64, m: &ModuleResource<'_>) -> serde_json::Value {
    let backend = networking::IngressBackend {
        service: Some(networking::IngressServiceBackend {
            name: m.name.to_string(),
            port: Some(networking::ServiceBackendPort {
                number: Some(port as i32),
                name: None,
            }),
        }),
        ..Default::default()
    };
    meta::to_value(&networking::Ingress {
        metadata: meta::meta(m.name, &m.namespace, m.name, None),
        spec: Some(networking::IngressSpec {
            ingress_class_name: ing.class_name.clone(),
            rules: Some(vec![networking::IngressRule {
                host: Some(ing.host.clone()),
                http: Some(networking::HTTPIngressRuleValue {
                    paths: vec![networking::HTTPIngressPath {
                        path: Some(ing.path.clone()),
                        path_type: "Prefix".into(),
                        backend,
                    }],
                }),
            }]),
            tls: ing.tls.as_ref().map(|t| {
                vec![networking::IngressTLS {
                    hosts: Some(vec![ing.host.clone()]),
                    secret_name: Some(
                        t.secret_name
                            .clone()
                            .unwrap_or_else(|| format!("{}-tls", m.name)),
                    ),
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn route(r: &RouteSpec, port: i64, m: &ModuleResource<'_>, ctx: &Context) -> serde_json::Value {
    let mut parent = Map::new();
    parent.insert("name".into(), json!(r.gateway_ref.name));
    if let Some(ns) = &r.gateway_ref.namespace {
        parent.insert("namespace".into(), json!(ns));
    }
    if let Some(s) = &r.gateway_ref.section_name {
        parent.insert("sectionName".into(), json!(s));
    }
    let mut route_spec = Map::new();
    route_spec.insert("parentRefs".into(), json!([parent]));
    if !r.hostnames.is_empty() {
        route_spec.insert("hostnames".into(), json!(r.hostnames));
    }
    route_spec.insert(
        "rules".into(),
        json!([{
            "matches": [{"path": {"type": "PathPrefix", "value": r.path}}],
            "backendRefs": [{"name": m.name, "port": port}],
        }]),
    );
    json!({
        "apiVersion": ctx.api_version(&operators::HTTP_ROUTE),
        "kind": "HTTPRoute",
        "metadata": meta::to_value(&meta::meta(m.name, &m.namespace, m.name, None)),
        "spec": route_spec,
    })
}
