//! `NamespaceQuota`: what one namespace may consume, as a ResourceQuota (compute, storage, pod
//! and object counts) and a LimitRange (per-container defaults and maximum). The `quota` and
//! `limits` blocks are also `Tenant`'s, which applies them to each of its namespaces.
//!
//! The LimitRange's default requests and limits default to the platform's (`PlatformDefaults`
//! `defaultResources`), so a container that sets none is admitted under the quota (a quota on
//! `requests.cpu` rejects pods whose containers request no CPU) with the requests every module
//! workload gets. Whether the rendered workloads fit the quota is the `resource-quota-fit`
//! check's business, since only it sees the whole set.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::meta;
use crate::types::Quantity;
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub struct NamespaceQuota;

fn quantity(s: &str) -> Quantity {
    Quantity::String(s.into())
}
fn hundred_cpus() -> Quantity {
    quantity("100")
}
fn memory_256gi() -> Quantity {
    quantity("256Gi")
}
fn storage_1ti() -> Quantity {
    quantity("1Ti")
}
fn five_hundred() -> u32 {
    500
}

/// Object counts: how many of each kind the namespace may hold (unlimited when not given).
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectCounts {
    /// Deployments (`count/deployments.apps`).
    pub deployments: Option<u32>,
    /// StatefulSets (`count/statefulsets.apps`).
    pub statefulsets: Option<u32>,
    /// Jobs (`count/jobs.batch`).
    pub jobs: Option<u32>,
    /// CronJobs (`count/cronjobs.batch`).
    pub cronjobs: Option<u32>,
    /// Services of every type (`services`).
    pub services: Option<u32>,
    /// Services of type LoadBalancer (`services.loadbalancers`): each may cost a cloud load
    /// balancer.
    pub load_balancers: Option<u32>,
    /// Services of type NodePort (`services.nodeports`).
    pub node_ports: Option<u32>,
    /// Ingresses (`count/ingresses.networking.k8s.io`).
    pub ingresses: Option<u32>,
    /// ConfigMaps (`configmaps`).
    pub configmaps: Option<u32>,
    /// Secrets (`secrets`).
    pub secrets: Option<u32>,
    /// PersistentVolumeClaims (`persistentvolumeclaims`).
    pub persistent_volume_claims: Option<u32>,
}

impl ObjectCounts {
    /// `(quota key, count)` of each count given.
    fn hard(&self) -> Vec<(&'static str, u32)> {
        [
            ("count/deployments.apps", self.deployments),
            ("count/statefulsets.apps", self.statefulsets),
            ("count/jobs.batch", self.jobs),
            ("count/cronjobs.batch", self.cronjobs),
            ("services", self.services),
            ("services.loadbalancers", self.load_balancers),
            ("services.nodeports", self.node_ports),
            ("count/ingresses.networking.k8s.io", self.ingresses),
            ("configmaps", self.configmaps),
            ("secrets", self.secrets),
            ("persistentvolumeclaims", self.persistent_volume_claims),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

/// The namespace's budget: the sums over all its pods and claims (a ResourceQuota).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotaSpec {
    /// CPU the pods may request in total (`requests.cpu`), e.g. `"40"` or `40500m`.
    #[serde(default = "hundred_cpus")]
    pub cpu: Quantity,
    /// Memory the pods may request in total (`requests.memory`).
    #[serde(default = "memory_256gi")]
    pub memory: Quantity,
    /// CPU limits of the pods in total (`limits.cpu`); unlimited when not given.
    pub limits_cpu: Option<Quantity>,
    /// Memory limits of the pods in total (`limits.memory`); unlimited when not given.
    pub limits_memory: Option<Quantity>,
    /// Storage the PersistentVolumeClaims may request in total (`requests.storage`).
    #[serde(default = "storage_1ti")]
    pub storage: Quantity,
    /// Local ephemeral storage the pods may request in total
    /// (`requests.ephemeral-storage`); unlimited when not given.
    pub ephemeral_storage: Option<Quantity>,
    /// Pods that may exist at once, not counting finished ones (`pods`).
    #[serde(default = "five_hundred")]
    pub pods: u32,
    /// How many objects of each kind the namespace may hold.
    #[serde(default)]
    pub objects: ObjectCounts,
}

impl Default for QuotaSpec {
    fn default() -> Self {
        QuotaSpec {
            cpu: hundred_cpus(),
            memory: memory_256gi(),
            limits_cpu: None,
            limits_memory: None,
            storage: storage_1ti(),
            ephemeral_storage: None,
            pods: five_hundred(),
            objects: ObjectCounts::default(),
        }
    }
}

impl QuotaSpec {
    /// Checks the quantities at `field` (e.g. `spec.quota`).
    pub fn check(&self, p: &mut Problems<'_>, field: &str) {
        let given = [
            ("cpu", Some(&self.cpu)),
            ("memory", Some(&self.memory)),
            ("limitsCpu", self.limits_cpu.as_ref()),
            ("limitsMemory", self.limits_memory.as_ref()),
            ("storage", Some(&self.storage)),
            ("ephemeralStorage", self.ephemeral_storage.as_ref()),
        ];
        for (name, q) in given {
            let Some(q) = q else { continue };
            let at = format!("{field}.{name}");
            match validate::quantity::parse(&q.text()) {
                None => p.check(&at, validate::quantity(&q.text())),
                Some(v) if v < 0.0 => p.fail(&at, format!("{} is negative", q.text())),
                Some(_) => {}
            }
        }
        for (requests, limits, name) in [
            (&self.cpu, &self.limits_cpu, "limitsCpu"),
            (&self.memory, &self.limits_memory, "limitsMemory"),
        ] {
            let Some(limits) = limits else { continue };
            if let (Some(r), Some(l)) = (
                validate::quantity::parse(&requests.text()),
                validate::quantity::parse(&limits.text()),
            ) {
                if l < r {
                    p.warn(
                        format!("{field}.{name}"),
                        format!("{} is below the requests quota {}: limits are at least the requests, so pods hit this first", limits.text(), requests.text()),
                    );
                }
            }
        }
    }

    /// The `hard` map of the ResourceQuota.
    pub fn hard(&self) -> BTreeMap<String, K8sQuantity> {
        let mut hard = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            hard.insert(k.to_string(), K8sQuantity(v));
        };
        put("requests.cpu", self.cpu.text());
        put("requests.memory", self.memory.text());
        if let Some(q) = &self.limits_cpu {
            put("limits.cpu", q.text());
        }
        if let Some(q) = &self.limits_memory {
            put("limits.memory", q.text());
        }
        put("requests.storage", self.storage.text());
        if let Some(q) = &self.ephemeral_storage {
            put("requests.ephemeral-storage", q.text());
        }
        put("pods", self.pods.to_string());
        for (k, v) in self.objects.hard() {
            put(k, v.to_string());
        }
        hard
    }
}

fn max_cpu_memory() -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".into(), quantity("8")),
        ("memory".into(), quantity("16Gi")),
    ])
}

/// Per-container bounds and defaults (a LimitRange of type Container).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsSpec {
    /// Requests of a container that sets none, e.g. `{cpu: 100m, memory: 128Mi}`; the
    /// platform's default requests (`PlatformDefaults` `defaultResources.requests`) when not
    /// given.
    pub default_request: Option<BTreeMap<String, Quantity>>,
    /// Limits of a container that sets none; the platform's default limits
    /// (`defaultResources.limits`) when not given.
    pub default: Option<BTreeMap<String, Quantity>>,
    /// The most one container may request or be limited to.
    #[serde(default = "max_cpu_memory")]
    pub max: BTreeMap<String, Quantity>,
}

impl Default for LimitsSpec {
    fn default() -> Self {
        LimitsSpec {
            default_request: None,
            default: None,
            max: max_cpu_memory(),
        }
    }
}

/// Resources a LimitRange bounds per container.
const CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

impl LimitsSpec {
    /// Checks the maps at `field` (e.g. `spec.limits`): known resources, valid quantities,
    /// and defaultRequest ≤ default ≤ max.
    pub fn check(&self, p: &mut Problems<'_>, field: &str) {
        let maps = [
            ("defaultRequest", self.default_request.as_ref()),
            ("default", self.default.as_ref()),
            ("max", Some(&self.max)),
        ];
        for (name, map) in maps {
            for (k, v) in map.into_iter().flatten() {
                let at = format!("{field}.{name}.{k}");
                if !CONTAINER_RESOURCES.contains(&k.as_str()) && !k.starts_with("hugepages-") {
                    let hint = validate::did_you_mean(k, CONTAINER_RESOURCES.iter().copied())
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default();
                    p.fail(
                        &at,
                        format!("unknown resource {k:?}{hint} (expected cpu, memory, ephemeral-storage or hugepages-<size>)"),
                    );
                }
                p.check(&at, validate::quantity(&v.text()));
            }
        }
        let value = |m: Option<&BTreeMap<String, Quantity>>, k: &str| {
            m.and_then(|m| m.get(k))
                .and_then(|q| validate::quantity::parse(&q.text()))
        };
        for k in CONTAINER_RESOURCES {
            let request = value(self.default_request.as_ref(), k);
            let limit = value(self.default.as_ref(), k);
            let max = value(Some(&self.max), k);
            if let (Some(r), Some(l)) = (request, limit) {
                if r > l {
                    p.fail(
                        format!("{field}.defaultRequest.{k}"),
                        format!("the default request of {k} is above its default limit"),
                    );
                }
            }
            for (name, v) in [("defaultRequest", request), ("default", limit)] {
                if let (Some(v), Some(max)) = (v, max) {
                    if v > max {
                        p.fail(
                            format!("{field}.{name}.{k}"),
                            format!(
                                "above the max of {k}: the API server refuses such a LimitRange"
                            ),
                        );
                    }
                }
            }
        }
    }

    /// The LimitRange's one item, of type Container, with the platform's defaults filled in
    /// (each capped at `max`, so a platform default above a tenant's max does not make the
    /// LimitRange invalid).
    pub fn item(&self, ctx: &Context) -> core::LimitRangeItem {
        let to_k8s = |m: &BTreeMap<String, Quantity>| -> BTreeMap<String, K8sQuantity> {
            m.iter()
                .map(|(k, v)| (k.clone(), K8sQuantity(v.text())))
                .collect()
        };
        let platform = |m: &BTreeMap<String, String>| -> BTreeMap<String, Quantity> {
            m.iter()
                .map(|(k, v)| {
                    let capped = match (
                        validate::quantity::parse(v),
                        self.max
                            .get(k)
                            .and_then(|q| validate::quantity::parse(&q.text())),
                    ) {
                        (Some(v), Some(max)) if v > max => self.max[k].clone(),
                        _ => Quantity::String(v.clone()),
                    };
                    (k.clone(), capped)
                })
                .collect()
        };
        let request = self
            .default_request
            .clone()
            .unwrap_or_else(|| platform(&ctx.default_resources.requests));
        let limit = self
            .default
            .clone()
            .unwrap_or_else(|| platform(&ctx.default_resources.limits));
        core::LimitRangeItem {
            type_: "Container".into(),
            default_request: Some(to_k8s(&request)),
            default: Some(to_k8s(&limit)),
            max: (!self.max.is_empty()).then(|| to_k8s(&self.max)),
            ..Default::default()
        }
    }
}

/// The ResourceQuota and LimitRange named `name` in `namespace`.
pub fn objects(
    name: &str,
    namespace: &str,
    quota: &QuotaSpec,
    limits: &LimitsSpec,
    ctx: &Context,
) -> [Value; 2] {
    [
        meta::to_value(&core::ResourceQuota {
            metadata: meta::meta(name, namespace, name, None),
            spec: Some(core::ResourceQuotaSpec {
                hard: Some(quota.hard()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        meta::to_value(&core::LimitRange {
            metadata: meta::meta(name, namespace, name, None),
            spec: Some(core::LimitRangeSpec {
                limits: vec![limits.item(ctx)],
            }),
        }),
    ]
}

/// The budget of one namespace: a ResourceQuota and a LimitRange.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceQuotaSpec {
    /// The namespace's budget; the resource's namespace when not given.
    pub namespace: Option<String>,
    /// Sums over all pods and claims of the namespace.
    #[serde(default)]
    pub quota: QuotaSpec,
    /// Per-container defaults and maximum.
    #[serde(default)]
    pub limits: LimitsSpec,
}

impl Kind for NamespaceQuota {
    const KIND: &'static str = "NamespaceQuota";
    const SUMMARY: &'static str =
        "what one namespace may consume: ResourceQuota (compute, storage, pods, object counts) and LimitRange";
    const EXAMPLE: Example = crate::example!("examples/multi-tenancy/namespace-quota.yaml");
    type Spec = NamespaceQuotaSpec;

    fn validate(spec: &NamespaceQuotaSpec, p: &mut Problems<'_>) {
        match &spec.namespace {
            Some(ns) => p.check("spec.namespace", validate::dns1123_label(ns)),
            None if p.module().namespace.is_empty() => p.fail(
                "spec.namespace",
                "no namespace to budget: set spec.namespace or metadata.namespace",
            ),
            None => {}
        }
        spec.quota.check(p, "spec.quota");
        spec.limits.check(p, "spec.limits");
    }
}

impl Generate for NamespaceQuota {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ResourceQuota"),
        Gvk::new("v1", "LimitRange"),
    ];

    fn expand(spec: NamespaceQuotaSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let ns = spec.namespace.as_deref().unwrap_or(&m.namespace);
        Expansion {
            objects: objects(m.name, ns, &spec.quota, &spec.limits, ctx).into(),
            ..Default::default()
        }
    }
}
