//! `NodeAgent`: one pod per node (log shippers, monitoring agents). A DaemonSet that tolerates
//! every taint by default, with optional host directories, and its ServiceAccount.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::container::PortSpec;
use crate::modules::shared::defaults;
use crate::modules::shared::meta;
use crate::modules::shared::scheduling;
use crate::modules::shared::workload::{workload_spec, PodParts};
use crate::validate;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct NodeAgent;

workload_spec! {
    /// One pod on every node: a DaemonSet.
    pub struct NodeAgentSpec {
        /// Taints the pods tolerate; every taint by default, so the agent runs on every node.
        #[serde(default = "tolerate_all")]
        pub tolerations: Vec<TolerationSpec>,
        /// Host directories mounted into the pods.
        #[serde(default)]
        pub host_paths: Vec<HostPathSpec>,
        /// Run as `system-node-critical` (opt-in: such pods preempt others).
        #[serde(default)]
        pub system_node_critical: bool,
        /// Ports the container listens on.
        #[serde(default)]
        pub ports: Vec<PortSpec>,
    }
}

/// A host directory mounted into the pods.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostPathSpec {
    /// Volume name (a DNS-1123 label).
    pub name: String,
    /// Absolute directory on the node.
    pub path: String,
    /// Absolute directory in the container.
    pub mount_path: String,
    /// Mount it read-only.
    #[serde(default = "defaults::yes")]
    pub read_only: bool,
}

/// A taint the pods tolerate.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TolerationSpec {
    /// Taint key; every key when not given (with `Exists`).
    pub key: Option<String>,
    /// `Exists` (any value) or `Equal` (the given `value`).
    #[serde(default)]
    pub operator: TolerationOperator,
    /// Taint value, for `Equal`.
    pub value: Option<String>,
    /// Taint effect; every effect when not given.
    pub effect: Option<TaintEffect>,
}

/// How a toleration matches a taint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum TolerationOperator {
    #[default]
    Exists,
    Equal,
}

/// What a taint does to pods that do not tolerate it.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

fn tolerate_all() -> Vec<TolerationSpec> {
    vec![TolerationSpec {
        key: None,
        operator: TolerationOperator::Exists,
        value: None,
        effect: None,
    }]
}

impl Kind for NodeAgent {
    const KIND: &'static str = "NodeAgent";
    const SUMMARY: &'static str = "one pod per node: DaemonSet and ServiceAccount";
    const EXAMPLE: Example = crate::example!("examples/kubernetes-core/node-agent.yaml");
    type Spec = NodeAgentSpec;

    fn validate(spec: &NodeAgentSpec, ch: &mut Problems<'_>) {
        meta::check_name_room("", ch);
        spec.workload(&spec.ports).validate(ch);
        for (i, h) in spec.host_paths.iter().enumerate() {
            let f = format!("spec.hostPaths[{i}]");
            ch.check(format!("{f}.name"), validate::dns1123_label(&h.name));
            if spec.host_paths[..i].iter().any(|o| o.name == h.name) || h.name == "tmp" {
                ch.fail(
                    format!("{f}.name"),
                    format!("volume name {:?} is already used", h.name),
                );
            }
            for (k2, p) in [("path", &h.path), ("mountPath", &h.mount_path)] {
                if !p.starts_with('/') {
                    ch.fail(format!("{f}.{k2}"), format!("{k2} {p:?} must be absolute"));
                }
            }
        }
        for (i, t) in spec.tolerations.iter().enumerate() {
            let f = format!("spec.tolerations[{i}]");
            if t.operator == TolerationOperator::Exists && t.value.is_some() {
                ch.fail(format!("{f}.value"), "operator Exists takes no value");
            }
            if t.operator == TolerationOperator::Equal && t.key.is_none() {
                ch.fail(format!("{f}.key"), "operator Equal needs a key");
            }
            if let Some(key) = &t.key {
                ch.check(format!("{f}.key"), validate::label_key(key));
            }
        }
    }
}

impl Generate for NodeAgent {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("apps/v1", "DaemonSet"),
    ];

    fn expand(spec: NodeAgentSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let w = spec.workload(&spec.ports);
        let mut objects = Vec::new();
        let (sa, sa_name) = w.service_account(m);
        objects.extend(sa);
        let volumes = spec
            .host_paths
            .iter()
            .map(|h| core::Volume {
                name: h.name.clone(),
                host_path: Some(core::HostPathVolumeSource {
                    path: h.path.clone(),
                    type_: None,
                }),
                ..Default::default()
            })
            .collect();
        let mounts = spec
            .host_paths
            .iter()
            .map(|h| core::VolumeMount {
                name: h.name.clone(),
                mount_path: h.mount_path.clone(),
                read_only: Some(h.read_only),
                ..Default::default()
            })
            .collect();
        let mut template = w.pod_template(
            m,
            ctx,
            &sa_name,
            PodParts {
                volumes,
                mounts,
                ..Default::default()
            },
        );
        if let Some(pod) = template.spec.as_mut() {
            pod.tolerations = Some(
                spec.tolerations
                    .iter()
                    .map(|t| core::Toleration {
                        key: t.key.clone(),
                        operator: Some(format!("{:?}", t.operator)),
                        value: t.value.clone(),
                        effect: t.effect.map(|e| format!("{e:?}")),
                        ..Default::default()
                    })
                    .collect(),
            );
            if spec.system_node_critical {
                pod.priority_class_name = Some("system-node-critical".into());
            }
        }
        let mut findings = scheduling::apply(
            &mut template,
            m,
            ctx,
            scheduling::Target {
                api_version: "apps/v1",
                kind: "DaemonSet",
                per_node: true,
            },
        );
        findings.extend(w.uses_findings(m, ctx));
        let mut metadata = meta::meta(m.name, &m.namespace, m.name, None);
        metadata.annotations = w.workload_annotations();
        objects.push(meta::to_value(&apps::DaemonSet {
            metadata,
            spec: Some(apps::DaemonSetSpec {
                selector: meta::selector(m.name),
                template,
                ..Default::default()
            }),
            ..Default::default()
        }));
        Expansion {
            objects,
            labels: w.kind_labels(),
            network: vec![w.network(m, false)],
            findings,
            ..Default::default()
        }
    }
}
