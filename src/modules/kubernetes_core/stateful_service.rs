//! `StatefulService`: a stateful workload with persistent volumes. A StatefulSet with one
//! PersistentVolumeClaim per replica and volume, a headless Service (stable pod names) and a
//! client Service, its ServiceAccount and PDB.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::container::ProbeDefault;
use crate::modules::shared::container::{self, PortSpec};
use crate::modules::shared::defaults;
use crate::modules::shared::meta;
use crate::modules::shared::scaling::{self, PdbSpec};
use crate::modules::shared::scheduling;
use crate::modules::shared::workload::{workload_spec, PodParts};
use crate::types::Quantity;
use crate::validate;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct StatefulService;

workload_spec! {
    /// A stateful workload: a StatefulSet whose pods keep their names and volumes.
    pub struct StatefulServiceSpec {
        /// Pods to run (0-10000).
        #[serde(default = "defaults::int::<1>")]
        pub replicas: i32,
        /// Ports the container listens on, served by both Services.
        #[serde(default)]
        pub ports: Vec<PortSpec>,
        /// Persistent volumes: one PersistentVolumeClaim per pod and volume.
        #[serde(default)]
        pub volume_claims: Vec<VolumeClaimSpec>,
        /// Start pods one after another (`OrderedReady`) or all at once (`Parallel`).
        #[serde(default)]
        pub pod_management_policy: PodManagementPolicy,
        /// The PodDisruptionBudget.
        #[serde(default)]
        pub pdb: PdbSpec,
    }
}

/// A persistent volume of a `StatefulService`: one PVC per replica.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeClaimSpec {
    /// Volume name (a DNS-1123 label), also the claim's name prefix.
    pub name: String,
    /// Requested size, e.g. `10Gi`.
    pub size: Quantity,
    /// StorageClass to provision from; the cluster's default when not given.
    pub storage_class: Option<String>,
    /// Absolute directory the volume is mounted at.
    pub mount_path: String,
    /// How the volume may be mounted.
    #[serde(default = "rwo")]
    pub access_modes: Vec<AccessMode>,
}

fn rwo() -> Vec<AccessMode> {
    vec![AccessMode::ReadWriteOnce]
}

/// How a volume may be mounted.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
// The names are Kubernetes' own.
#[allow(clippy::enum_variant_names)]
pub enum AccessMode {
    /// Read-write by the pods of one node.
    ReadWriteOnce,
    /// Read-only by many nodes.
    ReadOnlyMany,
    /// Read-write by many nodes.
    ReadWriteMany,
    /// Read-write by one pod.
    ReadWriteOncePod,
}

/// How the StatefulSet starts and stops its pods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum PodManagementPolicy {
    #[default]
    OrderedReady,
    Parallel,
}

impl Kind for StatefulService {
    const KIND: &'static str = "StatefulService";
    const SUMMARY: &'static str =
        "stateful workload with volumes: StatefulSet, headless and client Services, ServiceAccount, PDB";
    const EXAMPLE: Example = crate::example!("examples/kubernetes-core/stateful-service.yaml");
    type Spec = StatefulServiceSpec;

    fn validate(spec: &StatefulServiceSpec, ch: &mut Problems<'_>) {
        meta::check_name_room("-headless", ch);
        spec.workload(&spec.ports).validate(ch);
        scaling::check_scaling(spec.replicas, None, &spec.pdb, ch);
        for (i, v) in spec.volume_claims.iter().enumerate() {
            let f = format!("spec.volumeClaims[{i}]");
            ch.check(format!("{f}.name"), validate::dns1123_label(&v.name));
            if spec.volume_claims[..i].iter().any(|w| w.name == v.name) {
                ch.fail(
                    format!("{f}.name"),
                    format!("duplicate volume name {:?}", v.name),
                );
            }
            if v.name == "tmp" && spec.security.read_only_root_filesystem {
                ch.fail(
                    format!("{f}.name"),
                    "the name \"tmp\" is taken by the /tmp volume of a read-only root filesystem",
                );
            }
            ch.check(format!("{f}.size"), validate::quantity(&v.size.text()));
            if let Some(sc) = &v.storage_class {
                ch.check(format!("{f}.storageClass"), validate::dns1123_subdomain(sc));
            }
            if !v.mount_path.starts_with('/') {
                ch.fail(
                    format!("{f}.mountPath"),
                    format!("mountPath {:?} must be absolute", v.mount_path),
                );
            }
            if v.access_modes.is_empty() {
                ch.fail(
                    format!("{f}.accessModes"),
                    "at least one access mode is required",
                );
            }
        }
    }
}

impl Generate for StatefulService {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("apps/v1", "StatefulSet"),
        Gvk::new("v1", "Service"),
        Gvk::new("policy/v1", "PodDisruptionBudget"),
    ];

    fn expand(spec: StatefulServiceSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let mut w = spec.workload(&spec.ports);
        w.probe_default = ProbeDefault::TcpOnFirstPort;
        let mut objects = Vec::new();
        let (sa, sa_name) = w.service_account(m);
        objects.extend(sa);
        let mounts = spec
            .volume_claims
            .iter()
            .map(|v| core::VolumeMount {
                name: v.name.clone(),
                mount_path: v.mount_path.clone(),
                ..Default::default()
            })
            .collect();
        let mut template = w.pod_template(
            m,
            ctx,
            &sa_name,
            PodParts {
                mounts,
                ..Default::default()
            },
        );
        let mut findings = scheduling::apply(
            &mut template,
            m,
            ctx,
            scheduling::Target {
                api_version: "apps/v1",
                kind: "StatefulSet",
                per_node: false,
            },
        );
        findings.extend(w.uses_findings(m, ctx));
        findings.extend(w.probe_findings(m, ctx));
        scaling::spread(&mut template, m.name, spec.replicas);
        let headless = format!("{}-headless", m.name);
        let claims: Vec<core::PersistentVolumeClaim> = spec
            .volume_claims
            .iter()
            .map(|v| core::PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(v.name.clone()),
                    ..Default::default()
                },
                spec: Some(core::PersistentVolumeClaimSpec {
                    access_modes: Some(v.access_modes.iter().map(|a| format!("{a:?}")).collect()),
                    storage_class_name: v.storage_class.clone(),
                    resources: Some(core::VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_string(),
                            K8sQuantity(v.size.text()),
                        )])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        let mut meta = meta::meta(m.name, &m.namespace, m.name, None);
        meta.annotations = w.workload_annotations();
        objects.push(meta::to_value(&apps::StatefulSet {
            metadata: meta,
            spec: Some(apps::StatefulSetSpec {
                replicas: Some(spec.replicas),
                service_name: Some(headless.clone()),
                pod_management_policy: Some(format!("{:?}", spec.pod_management_policy)),
                selector: meta::selector(m.name),
                template,
                volume_claim_templates: (!claims.is_empty()).then_some(claims),
                ..Default::default()
            }),
            ..Default::default()
        }));
        if !spec.ports.is_empty() {
            let ports = container::service_ports(&spec.ports, None);
            objects.push(meta::to_value(&core::Service {
                metadata: meta::meta(&headless, &m.namespace, m.name, None),
                spec: Some(core::ServiceSpec {
                    cluster_ip: Some("None".into()),
                    publish_not_ready_addresses: Some(true),
                    selector: Some(meta::selector_labels(m.name)),
                    ports: Some(ports.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }));
            objects.push(meta::to_value(&core::Service {
                metadata: meta::meta(m.name, &m.namespace, m.name, None),
                spec: Some(core::ServiceSpec {
                    type_: Some("ClusterIP".into()),
                    selector: Some(meta::selector_labels(m.name)),
                    ports: Some(ports),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        objects.extend(scaling::scaling_objects(
            m,
            "StatefulSet",
            spec.replicas,
            None,
            &spec.pdb,
        ));
        Expansion {
            objects,
            labels: w.kind_labels(),
            network: vec![w.network(m, false)],
            findings,
            ..Default::default()
        }
    }
}
