//! `SchemaRegistry`: a schema registry for Kafka clients, storing its schemas in Kafka itself.
//! Apicurio Registry 3 (Apache-2.0) by default, or Confluent Schema Registry (under the
//! Confluent Community License, which forbids offering it as a competing SaaS). Its pods are
//! ordinary hardened workloads: a Deployment, its ServiceAccount, a `<name>-config` ConfigMap of
//! the registry's settings, a Service, a PodDisruptionBudget. The original only wrote a
//! ConfigMap of Confluent variables that nothing ran.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{
    Context, Example, Expansion, Gvk, ModuleResource, OutputDef, OutputValue, OutputValues,
    Problems,
};
use crate::modules::shared::config::ConfigSpec;
use crate::modules::shared::container::{
    self, PortSpec, ProbeDefault, ProbeSpec, Probes, ProbesSpec, ResourcesSpec, SecretKeyRef,
    SecuritySpec, ServiceAccountSpec,
};
use crate::modules::shared::scaling::{self, PdbSpec};
use crate::modules::shared::workload::{self, Workload};
use crate::modules::shared::{defaults, meta};
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub struct SchemaRegistry;

/// Apicurio Registry's image when `image` is not given.
const APICURIO_IMAGE: &str = "quay.io/apicurio/apicurio-registry:3.0.6";
/// Confluent Schema Registry's image when `image` is not given.
const CONFLUENT_IMAGE: &str = "confluentinc/cp-schema-registry:7.9.0";

/// Which registry runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Apicurio Registry 3 (Apache-2.0): its own API at `/apis/registry/v3` and a
    /// Confluent-compatible one at `/apis/ccompat/v7`.
    #[default]
    Apicurio,
    /// Confluent Schema Registry (Confluent Community License: free to run, not to offer as a
    /// hosted service competing with Confluent).
    Confluent,
}

impl Flavor {
    fn port(self) -> i64 {
        match self {
            Flavor::Apicurio => 8080,
            Flavor::Confluent => 8081,
        }
    }
}

/// The compatibility rule new schema versions are checked against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compatibility {
    /// Readers of the new schema read data written with the previous one.
    #[default]
    Backward,
    /// … with every earlier one.
    BackwardTransitive,
    /// Readers of the previous schema read data written with the new one.
    Forward,
    /// … every earlier schema's readers do.
    ForwardTransitive,
    /// Both backward and forward.
    Full,
    /// Both, against every earlier version.
    FullTransitive,
    /// No check.
    None,
}

impl Compatibility {
    fn as_str(self) -> &'static str {
        match self {
            Compatibility::Backward => "BACKWARD",
            Compatibility::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Compatibility::Forward => "FORWARD",
            Compatibility::ForwardTransitive => "FORWARD_TRANSITIVE",
            Compatibility::Full => "FULL",
            Compatibility::FullTransitive => "FULL_TRANSITIVE",
            Compatibility::None => "NONE",
        }
    }
}

/// Where the registry keeps its schemas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// In a Kafka topic of the cluster it serves (Apicurio's `kafkasql`, Confluent's
    /// `_schemas`): nothing else to run or back up.
    #[default]
    Kafkasql,
}

/// A schema registry for the Kafka clients of a cluster: Apicurio Registry or Confluent Schema
/// Registry, storing schemas in Kafka.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchemaRegistrySpec {
    /// The Kafka to store schemas in: `host:port`, or the name of a `KafkaCluster` in the same
    /// namespace (its plain bootstrap address; its pods then accept the registry's).
    pub kafka_bootstrap: String,
    /// Which registry runs.
    #[serde(default)]
    pub flavor: Flavor,
    /// Image overriding the flavor's default (Apicurio 3.x or Confluent cp-schema-registry).
    pub image: Option<String>,
    /// Registry pods (1-10).
    #[serde(default = "defaults::int::<2>")]
    pub replicas: i32,
    /// The global compatibility rule.
    #[serde(default)]
    pub compatibility: Compatibility,
    /// Where schemas are stored.
    #[serde(default)]
    pub storage: Storage,
    /// A SCRAM-SHA-512 `KafkaUser` whose Secret (`sasl.jaas.config`) the registry
    /// authenticates to Kafka with; none when the listener needs no authentication. The
    /// registry reads it from an environment variable (a `secretKeyRef`, never the value), which
    /// the `secret-in-env` check and checkov's CKV_K8S_35 report.
    pub kafka_user: Option<String>,
    /// CPU and memory requests and limits, over the platform's defaults.
    #[serde(default)]
    pub resources: ResourcesSpec,
    /// Pod and container hardening; restricted Pod Security by default.
    #[serde(default)]
    pub security: SecuritySpec,
    /// The PodDisruptionBudget.
    #[serde(default)]
    pub pdb: PdbSpec,
}

impl SchemaRegistrySpec {
    /// The KafkaCluster named, when `kafkaBootstrap` is a name rather than an address.
    fn cluster(&self) -> Option<&str> {
        (!self.kafka_bootstrap.contains(':')).then_some(self.kafka_bootstrap.as_str())
    }

    /// The bootstrap address.
    fn bootstrap(&self, namespace: &str) -> String {
        match self.cluster() {
            Some(c) => format!("{c}-kafka-bootstrap.{namespace}.svc:9092"),
            None => self.kafka_bootstrap.clone(),
        }
    }

    fn image(&self) -> String {
        self.image.clone().unwrap_or_else(|| {
            match self.flavor {
                Flavor::Apicurio => APICURIO_IMAGE,
                Flavor::Confluent => CONFLUENT_IMAGE,
            }
            .into()
        })
    }

    fn ports(&self) -> Vec<PortSpec> {
        vec![PortSpec {
            name: "http".into(),
            port: self.flavor.port(),
            protocol: Default::default(),
        }]
    }

    /// The registry's settings (the `<name>-config` ConfigMap).
    fn settings(&self, m: &ModuleResource<'_>) -> BTreeMap<String, String> {
        let bootstrap = self.bootstrap(&m.namespace);
        let mut env = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            env.insert(k.to_string(), v);
        };
        match self.flavor {
            Flavor::Apicurio => {
                set("APICURIO_STORAGE_KIND", "kafkasql".into());
                set("APICURIO_KAFKASQL_BOOTSTRAP_SERVERS", bootstrap);
                set(
                    "APICURIO_RULES_GLOBAL_COMPATIBILITY",
                    self.compatibility.as_str().into(),
                );
                if self.kafka_user.is_some() {
                    set(
                        "APICURIO_KAFKA_COMMON_SECURITY_PROTOCOL",
                        "SASL_PLAINTEXT".into(),
                    );
                    set(
                        "APICURIO_KAFKA_COMMON_SASL_MECHANISM",
                        "SCRAM-SHA-512".into(),
                    );
                }
            }
            Flavor::Confluent => {
                set("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", bootstrap);
                set(
                    "SCHEMA_REGISTRY_LISTENERS",
                    format!("http://0.0.0.0:{}", self.flavor.port()),
                );
                set(
                    "SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL",
                    self.compatibility.as_str().to_lowercase(),
                );
                if self.kafka_user.is_some() {
                    set(
                        "SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL",
                        "SASL_PLAINTEXT".into(),
                    );
                    set(
                        "SCHEMA_REGISTRY_KAFKASTORE_SASL_MECHANISM",
                        "SCRAM-SHA-512".into(),
                    );
                }
            }
        }
        env
    }

    fn secret_env(&self) -> BTreeMap<String, SecretKeyRef> {
        let Some(user) = &self.kafka_user else {
            return BTreeMap::new();
        };
        let key = match self.flavor {
            Flavor::Apicurio => "APICURIO_KAFKA_COMMON_SASL_JAAS_CONFIG",
            Flavor::Confluent => "SCHEMA_REGISTRY_KAFKASTORE_SASL_JAAS_CONFIG",
        };
        BTreeMap::from([(
            key.to_string(),
            SecretKeyRef {
                name: user.clone(),
                key: "sasl.jaas.config".into(),
            },
        )])
    }

    fn probes(&self) -> ProbesSpec {
        let (live, ready) = match self.flavor {
            Flavor::Apicurio => ("/health/live", "/health/ready"),
            Flavor::Confluent => ("/", "/"),
        };
        let probe = |path: &str| ProbeSpec {
            path: Some(path.into()),
            ..Default::default()
        };
        ProbesSpec {
            liveness: Some(ProbeSpec {
                initial_delay_seconds: Some(30),
                ..probe(live)
            }),
            readiness: Some(probe(ready)),
            startup: None,
        }
    }
}

/// The parts of the spec the shared workload builders read.
struct Parts {
    image: String,
    ports: Vec<PortSpec>,
    secret_env: BTreeMap<String, SecretKeyRef>,
    probes: Probes,
    depends_on: Vec<String>,
    none: Option<Vec<String>>,
    env: BTreeMap<String, String>,
    service_account: ServiceAccountSpec,
}

impl Parts {
    fn new(spec: &SchemaRegistrySpec) -> Parts {
        Parts {
            image: spec.image(),
            ports: spec.ports(),
            secret_env: spec.secret_env(),
            probes: Probes::Declared(spec.probes()),
            depends_on: spec.cluster().map(str::to_string).into_iter().collect(),
            none: None,
            env: BTreeMap::new(),
            service_account: ServiceAccountSpec::default(),
        }
    }

    fn workload<'a>(&'a self, spec: &'a SchemaRegistrySpec) -> Workload<'a> {
        Workload {
            image: &self.image,
            command: &self.none,
            args: &self.none,
            env: &self.env,
            secret_env: &self.secret_env,
            secret_mounts: &[],
            env_from: &[],
            ports: &self.ports,
            resources: &spec.resources,
            probes: &self.probes,
            probe_default: ProbeDefault::Nothing,
            security: &spec.security,
            service_account: &self.service_account,
            compliance: None,
            depends_on: &self.depends_on,
            uses: &[],
        }
    }
}

fn validate(spec: &SchemaRegistrySpec, p: &mut Problems<'_>) {
    meta::check_name_room("-config", p);
    match spec.cluster() {
        Some(c) => p.check("spec.kafkaBootstrap", validate::dns1035_label(c)),
        None => {
            for (i, addr) in spec.kafka_bootstrap.split(',').enumerate() {
                let ok = addr.rsplit_once(':').is_some_and(|(h, port)| {
                    validate::dns1123_subdomain(h).is_ok()
                        && port.parse::<i64>().is_ok_and(|n| validate::port(n).is_ok())
                });
                if !ok {
                    p.fail(
                        "spec.kafkaBootstrap",
                        format!("address {} ({addr:?}): expected host:port, e.g. events-kafka-bootstrap.kafka.svc:9092, or the name of a KafkaCluster", i + 1),
                    );
                }
            }
        }
    }
    if let Some(img) = &spec.image {
        p.check("spec.image", validate::image_reference(img));
    }
    if !(1..=10).contains(&spec.replicas) {
        p.fail("spec.replicas", "replicas must be between 1 and 10");
    }
    if let Some(u) = &spec.kafka_user {
        p.check("spec.kafkaUser", validate::dns1123_subdomain(u));
    }
    let parts = Parts::new(spec);
    let w = parts.workload(spec);
    spec.resources.check(p, "spec.resources");
    spec.security.check(p, "spec.security");
    container::check_ports(w.ports, p, "spec.ports");
    scaling::check_scaling(spec.replicas, None, &spec.pdb, p);
}

impl Kind for SchemaRegistry {
    const KIND: &'static str = "SchemaRegistry";
    const SUMMARY: &'static str =
        "schema registry on Kafka (Apicurio or Confluent): Deployment, Service, ConfigMap, PDB";
    const EXAMPLE: Example = crate::example!("examples/event-processing/schema-registry.yaml");
    type Spec = SchemaRegistrySpec;

    fn validate(spec: &SchemaRegistrySpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for SchemaRegistry {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("v1", "ConfigMap"),
        Gvk::new("apps/v1", "Deployment"),
        Gvk::new("v1", "Service"),
        Gvk::new("policy/v1", "PodDisruptionBudget"),
    ];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "url",
            description: "the registry's API for its clients' serdes (Apicurio: /apis/registry/v3; Confluent: the root)",
            secret: false,
        },
        OutputDef {
            name: "ccompat-url",
            description: "the Confluent-compatible API (Confluent clients on Apicurio: /apis/ccompat/v7; Confluent: the root)",
            secret: false,
        },
        OutputDef {
            name: "host",
            description: "the Service's host, <name>.<namespace>.svc",
            secret: false,
        },
        OutputDef {
            name: "port",
            description: "the Service's port",
            secret: false,
        },
    ];

    fn outputs(spec: &SchemaRegistrySpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let host = format!("{}.{}.svc", m.name, m.namespace);
        let port = spec.flavor.port();
        let base = format!("http://{host}:{port}");
        let (url, ccompat) = match spec.flavor {
            Flavor::Apicurio => (
                format!("{base}/apis/registry/v3"),
                format!("{base}/apis/ccompat/v7"),
            ),
            Flavor::Confluent => (base.clone(), base),
        };
        vec![
            ("url", OutputValue::Value(url)),
            ("ccompat-url", OutputValue::Value(ccompat)),
            ("host", OutputValue::Value(host)),
            ("port", OutputValue::Value(port.to_string())),
        ]
    }

    fn expand(spec: SchemaRegistrySpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let parts = Parts::new(&spec);
        let w = parts.workload(&spec);
        let config = ConfigSpec {
            data: spec.settings(m),
            ..Default::default()
        };
        let mut d = workload::deployment(&w, m, ctx, spec.replicas, None, &spec.pdb, Some(&config));
        if spec.flavor == Flavor::Confluent {
            confluent_pod(&mut d.deployment);
        }
        let mut objects = d.before;
        objects.push(d.deployment);
        objects.push(meta::to_value(&core::Service {
            metadata: meta::meta(m.name, &m.namespace, m.name, None),
            spec: Some(core::ServiceSpec {
                selector: Some(meta::selector_labels(m.name)),
                ports: Some(container::service_ports(&parts.ports, None)),
                ..Default::default()
            }),
            ..Default::default()
        }));
        objects.extend(d.scaling);
        let mut network = w.network(m, false);
        network.depends_on = spec
            .cluster()
            .map(|c| vec![(c.to_string(), "spec.kafkaBootstrap".to_string())])
            .unwrap_or_default();
        let mut targets = vec![network];
        if spec.cluster().is_none() {
            // A Kafka elsewhere: egress to its port, wherever its address leads.
            let ports: Vec<Value> = spec
                .kafka_bootstrap
                .split(',')
                .filter_map(|a| a.rsplit_once(':'))
                .filter_map(|(_, p)| p.parse::<i64>().ok())
                .map(|p| json!({"protocol": "TCP", "port": p}))
                .collect();
            let t = &mut targets[0];
            t.policies = crate::kind::network::Policies::Combined {
                name: format!("{}-kafka", m.name),
                ingress: Vec::new(),
                egress: vec![json!({"ports": ports})],
            };
        }
        Expansion {
            objects,
            network: targets,
            findings: d.findings,
            ..Default::default()
        }
    }
}

/// Confluent's image writes its properties file under `/etc/schema-registry` at start, and
/// advertises `SCHEMA_REGISTRY_HOST_NAME` to the other replicas (which forward writes to the
/// leader there): an emptyDir for the first, the pod's IP for the second.
fn confluent_pod(deployment: &mut Value) {
    let pod = &mut deployment["spec"]["template"]["spec"];
    let volumes = pod["volumes"].as_array_mut();
    let volume = json!({"name": "etc", "emptyDir": {}});
    match volumes {
        Some(v) => v.push(volume),
        None => pod["volumes"] = json!([volume]),
    }
    let c = &mut pod["containers"][0];
    let mount = json!({"name": "etc", "mountPath": "/etc/schema-registry"});
    match c["volumeMounts"].as_array_mut() {
        Some(v) => v.push(mount),
        None => c["volumeMounts"] = json!([mount]),
    }
    let host = json!({
        "name": "SCHEMA_REGISTRY_HOST_NAME",
        "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
    });
    match c["env"].as_array_mut() {
        Some(v) => v.insert(0, host),
        None => c["env"] = json!([host]),
    }
}
