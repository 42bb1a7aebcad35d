//! The shape every workload kind shares: `workload_spec!` splices the documented container
//! fields (image, command, env, Secrets, resources, probes, security, ServiceAccount),
//! `compliance` and `dependsOn` into a kind's spec, and [`Workload`] (borrowed from such a spec)
//! validates them and builds the ServiceAccount, the hardened pod template and the network
//! declaration of the workload's pods.

use super::compliance::ComplianceSpec;
use super::container::{
    self, EnvFromSpec, PortSpec, ProbeDefault, Probes, ResourcesSpec, SecretKeyRef,
    SecretMountSpec, SecuritySpec, ServiceAccountSpec,
};
use super::meta;
use crate::kind::network::{NetworkTarget, Policies, Port};
use crate::kind::{Context, ModuleResource, Problems};
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use std::collections::BTreeMap;

mod uses;
pub use uses::{credentials_dir, Credentials, UseSpec};

/// Declares a workload kind's spec: the fields given, then the fields every workload shares.
/// Generates `fn workload(&self, ports) -> Workload`.
macro_rules! workload_spec {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// Container image, e.g. `ghcr.io/acme/shop:1.4.2`, or pinned by digest
            /// (`…@sha256:…`, then pulled only when missing).
            pub image: String,
            /// Entrypoint, replacing the image's `ENTRYPOINT`.
            pub command: Option<Vec<String>>,
            /// Arguments, replacing the image's `CMD`.
            pub args: Option<Vec<String>>,
            /// Environment variables, name → value (no secrets here: use `secretEnv`).
            #[serde(default)]
            pub env: std::collections::BTreeMap<String, String>,
            /// Environment variables read from Secret keys, name → `{name, key}`.
            #[serde(default)]
            pub secret_env: std::collections::BTreeMap<String, $crate::modules::shared::container::SecretKeyRef>,
            /// Secrets mounted as read-only files (preferred over `secretEnv`).
            #[serde(default)]
            pub secret_mounts: Vec<$crate::modules::shared::container::SecretMountSpec>,
            /// Whole ConfigMaps or Secrets loaded as environment variables.
            #[serde(default)]
            pub env_from: Vec<$crate::modules::shared::container::EnvFromSpec>,
            /// CPU and memory requests and limits, over the platform's defaults.
            #[serde(default)]
            pub resources: $crate::modules::shared::container::ResourcesSpec,
            /// Health probes, or `none`. WebApp and StatefulService pods with ports get a TCP
            /// readiness and liveness probe on their first port when none is declared; a
            /// Worker at compliance level medium and above must declare one.
            #[serde(default)]
            pub probes: $crate::modules::shared::container::Probes,
            /// Pod and container hardening; restricted Pod Security by default.
            #[serde(default)]
            pub security: $crate::modules::shared::container::SecuritySpec,
            /// The ServiceAccount the pods run as.
            #[serde(default)]
            pub service_account: $crate::modules::shared::container::ServiceAccountSpec,
            /// Names of the workloads and databases (in the same namespace) these pods connect
            /// to: recorded as annotation `nixernetes.io/depends-on` and allowed by the
            /// generated NetworkPolicies. For a database or broker rendered with them, `uses`
            /// says the same and also hands the pods its connection details.
            #[serde(default)]
            pub depends_on: Vec<String>,
            /// Module resources of the render (in the same namespace) these pods bind to: a
            /// `PostgreSQL`, a Kafka topic… Each entry's `env` maps variables to the resource's
            /// connection outputs (`kubectl nixernetes explain <Kind>` lists them under
            /// OUTPUTS): a plain output (`host`, `port`) becomes the value; a credential is
            /// never copied: at compliance level medium and above the operator's Secret is
            /// mounted and `<NAME>_FILE` names the key's file, below that `<NAME>` is a
            /// `secretKeyRef` (`credentials` chooses). `mountPath` mounts that Secret as files. Like `dependsOn`, the generated NetworkPolicies let
            /// the pods reach the resource's ports.
            #[serde(default)]
            pub uses: Vec<$crate::modules::shared::workload::UseSpec>,
            /// Compliance the workload is held to: labels on everything it emits.
            pub compliance: Option<$crate::modules::shared::compliance::ComplianceSpec>,
        }

        impl $name {
            /// The shared workload fields, with the container ports `ports`.
            pub fn workload<'a>(
                &'a self,
                ports: &'a [$crate::modules::shared::container::PortSpec],
            ) -> $crate::modules::shared::workload::Workload<'a> {
                $crate::modules::shared::workload::Workload {
                    image: &self.image,
                    command: &self.command,
                    args: &self.args,
                    env: &self.env,
                    secret_env: &self.secret_env,
                    secret_mounts: &self.secret_mounts,
                    env_from: &self.env_from,
                    ports,
                    resources: &self.resources,
                    probes: &self.probes,
                    probe_default: $crate::modules::shared::container::ProbeDefault::Nothing,
                    security: &self.security,
                    service_account: &self.service_account,
                    compliance: self.compliance.as_ref(),
                    depends_on: &self.depends_on,
                    uses: &self.uses,
                }
            }
        }
    };
}
pub(crate) use workload_spec;

/// The fields every workload kind shares, borrowed from its spec.
pub struct Workload<'a> {
    pub image: &'a str,
    pub command: &'a Option<Vec<String>>,
    pub args: &'a Option<Vec<String>>,
    pub env: &'a BTreeMap<String, String>,
    pub secret_env: &'a BTreeMap<String, SecretKeyRef>,
    pub secret_mounts: &'a [SecretMountSpec],
    pub env_from: &'a [EnvFromSpec],
    pub ports: &'a [PortSpec],
    pub resources: &'a ResourcesSpec,
    pub probes: &'a Probes,
    /// What the kind does when no probe is declared.
    pub probe_default: ProbeDefault,
    pub security: &'a SecuritySpec,
    pub service_account: &'a ServiceAccountSpec,
    pub compliance: Option<&'a ComplianceSpec>,
    pub depends_on: &'a [String],
    pub uses: &'a [UseSpec],
}

/// What a kind adds to its pod beyond the container defaults.
#[derive(Default)]
pub struct PodParts {
    pub volumes: Vec<core::Volume>,
    pub mounts: Vec<core::VolumeMount>,
    pub env_from: Vec<core::EnvFromSource>,
    pub annotations: BTreeMap<String, String>,
}

impl Workload<'_> {
    pub fn validate(&self, ch: &mut Problems<'_>) {
        ch.check("spec.image", validate::image_reference(self.image));
        container::check_env(self.env, ch, "spec.env");
        let secret_env: BTreeMap<String, String> = self
            .secret_env
            .keys()
            .map(|k| (k.clone(), String::new()))
            .collect();
        container::check_env(&secret_env, ch, "spec.secretEnv");
        for (k, r) in self.secret_env {
            if self.env.contains_key(k) {
                ch.fail(
                    format!("spec.secretEnv.{k}"),
                    format!("{k} is also set in spec.env"),
                );
            }
            ch.check(
                format!("spec.secretEnv.{k}.name"),
                validate::dns1123_subdomain(&r.name),
            );
            if r.key.is_empty() {
                ch.fail(format!("spec.secretEnv.{k}.key"), "key must not be empty");
            }
        }
        for (i, m) in self.secret_mounts.iter().enumerate() {
            let f = format!("spec.secretMounts[{i}]");
            ch.check(
                format!("{f}.secret"),
                validate::dns1123_subdomain(&m.secret),
            );
            if !m.mount_path.starts_with('/') {
                ch.fail(
                    format!("{f}.mountPath"),
                    format!("mountPath {:?} must be absolute", m.mount_path),
                );
            }
            if self.secret_mounts[..i].iter().any(|o| o.secret == m.secret) {
                ch.fail(
                    format!("{f}.secret"),
                    format!("Secret {:?} is mounted twice", m.secret),
                );
            }
        }
        for (i, e) in self.env_from.iter().enumerate() {
            let f = format!("spec.envFrom[{i}]");
            match (&e.config_map, &e.secret) {
                (Some(n), None) | (None, Some(n)) => ch.check(f, validate::dns1123_subdomain(n)),
                _ => ch.fail(f, "set exactly one of configMap or secret"),
            }
        }
        container::check_ports(self.ports, ch, "spec.ports");
        self.resources.check(ch, "spec.resources");
        self.probes.check(self.ports, ch, "spec.probes");
        self.security.check(ch, "spec.security");
        if let Some(n) = &self.service_account.name {
            ch.check("spec.serviceAccount.name", validate::dns1123_subdomain(n));
        }
        if let Some(comp) = self.compliance {
            comp.check(ch, "spec.compliance");
        }
        for (i, d) in self.depends_on.iter().enumerate() {
            ch.check(format!("spec.dependsOn[{i}]"), validate::dns1035_label(d));
        }
        self.validate_uses(ch);
    }

    /// The ServiceAccount to create, if any, and the name pods run as.
    pub fn service_account(&self, m: &ModuleResource<'_>) -> (Option<Value>, String) {
        let name = self.service_account.name.clone().unwrap_or_else(|| {
            if self.service_account.create {
                m.name.to_string()
            } else {
                "default".to_string()
            }
        });
        let sa = self.service_account.create.then(|| {
            meta::to_value(&core::ServiceAccount {
                metadata: meta::meta(&name, &m.namespace, m.name, None),
                automount_service_account_token: Some(false),
                ..Default::default()
            })
        });
        (sa, name)
    }

    /// The pod template: one hardened container, the extra volumes given.
    pub fn pod_template(
        &self,
        m: &ModuleResource<'_>,
        ctx: &Context,
        sa_name: &str,
        parts: PodParts,
    ) -> core::PodTemplateSpec {
        let PodParts {
            mut volumes,
            mut mounts,
            mut env_from,
            annotations,
        } = parts;
        let bound = self.bind(m, ctx);
        let secret_mounts = self
            .secret_mounts
            .iter()
            .map(|s| (s.secret.clone(), s.mount_path.clone()));
        for (secret, mount_path) in secret_mounts.chain(bound.mounts) {
            let name = secret_volume(&secret);
            volumes.push(core::Volume {
                name: name.clone(),
                secret: Some(core::SecretVolumeSource {
                    secret_name: Some(secret),
                    ..Default::default()
                }),
                ..Default::default()
            });
            mounts.push(core::VolumeMount {
                name,
                mount_path,
                read_only: Some(true),
                ..Default::default()
            });
        }
        if self.security.read_only_root_filesystem {
            volumes.push(core::Volume {
                name: "tmp".into(),
                empty_dir: Some(Default::default()),
                ..Default::default()
            });
            mounts.push(core::VolumeMount {
                name: "tmp".into(),
                mount_path: "/tmp".into(),
                ..Default::default()
            });
        }
        for e in self.env_from {
            env_from.push(core::EnvFromSource {
                config_map_ref: e.config_map.as_ref().map(|n| core::ConfigMapEnvSource {
                    name: n.clone(),
                    optional: None,
                }),
                secret_ref: e.secret.as_ref().map(|n| core::SecretEnvSource {
                    name: n.clone(),
                    optional: None,
                }),
                prefix: e.prefix.clone(),
            });
        }
        let mut env = container::env_vars(self.env).unwrap_or_default();
        for (k, r) in self.secret_env {
            env.push(core::EnvVar {
                name: k.clone(),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: r.name.clone(),
                        key: r.key.clone(),
                        optional: None,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        env.extend(bound.env);
        let [liveness_probe, readiness_probe, startup_probe] =
            self.probes.build(self.ports, self.probe_default);
        let container = core::Container {
            name: m.name.to_string(),
            image: Some(self.image.to_string()),
            // Tags can move; a digest cannot, so only a digest-pinned image may come from cache.
            image_pull_policy: Some(
                if validate::image::parts(self.image).digest.is_some() {
                    "IfNotPresent"
                } else {
                    "Always"
                }
                .into(),
            ),
            command: self.command.clone(),
            args: self.args.clone(),
            ports: container::container_ports(self.ports),
            env: (!env.is_empty()).then_some(env),
            env_from: (!env_from.is_empty()).then_some(env_from),
            resources: Some(self.resources.build(ctx)),
            liveness_probe,
            readiness_probe,
            startup_probe,
            security_context: Some(self.security.container()),
            volume_mounts: (!mounts.is_empty()).then_some(mounts),
            ..Default::default()
        };
        core::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(meta::selector_labels(m.name)),
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..Default::default()
            }),
            spec: Some(core::PodSpec {
                service_account_name: Some(sa_name.to_string()),
                automount_service_account_token: Some(false),
                security_context: Some(self.security.pod()),
                containers: vec![container],
                volumes: (!volumes.is_empty()).then_some(volumes),
                ..Default::default()
            }),
        }
    }

    pub fn kind_labels(&self) -> serde_json::Map<String, Value> {
        self.compliance
            .map(ComplianceSpec::labels)
            .unwrap_or_default()
    }

    /// Annotations of the workload object itself.
    /// What the kind's probe default did, or asks for, when the spec declares no probe: a
    /// `fixed` finding per default probe (`TcpOnFirstPort`), or the error of a kind without a
    /// port to probe at compliance level medium and above (`RequiredAtMedium`; the run's level,
    /// or the workload's own `compliance.level`).
    pub fn probe_findings(
        &self,
        m: &ModuleResource<'_>,
        ctx: &Context,
    ) -> Vec<crate::finding::Finding> {
        if !self.probes.unset() {
            return Vec::new();
        }
        match self.probe_default {
            ProbeDefault::Nothing => Vec::new(),
            ProbeDefault::TcpOnFirstPort => {
                let (Some(probe), Some(port)) =
                    (container::default_probe(self.ports), self.ports.first())
                else {
                    return Vec::new();
                };
                let [liveness, readiness, _] = self.probes.build(self.ports, self.probe_default);
                [
                    ("readiness", "readiness-probe", readiness.unwrap_or(probe.clone())),
                    ("liveness", "liveness-probe", liveness.unwrap_or(probe)),
                ]
                .into_iter()
                .map(|(what, check, probe)| {
                        let value = meta::to_value(&probe);
                        let mut f = crate::finding::Finding::info(format!(
                            "fixed: no probes declared, so the pods get a TCP {what} probe on port {:?} (declare spec.probes.{what} to choose one, or write `probes: none` for none)",
                            port.name
                        ))
                        .about(m.resource)
                        .field("spec.probes");
                        f.check = Some(check);
                        f.proposed = Some(Box::new(value));
                        f
                    })
                    .collect()
            }
            ProbeDefault::RequiredAtMedium => {
                let level = self.compliance.map(|c| c.level).max(ctx.policy.level);
                match level.filter(|l| *l >= crate::types::Level::Medium) {
                    Some(l) => vec![m.error(
                        "spec.probes",
                        format!(
                            "compliance level {} asks every workload for health probes, and a {kind} serves no port to probe by default: declare one that checks the process works, e.g. `probes: {{liveness: {{command: [cat, /tmp/healthy]}}}}` with the process writing /tmp/healthy while it works, or a `port` or `path` it serves; `probes: none` says it has none on purpose",
                            l.as_str(),
                            kind = m.resource.kind()
                        ),
                    )],
                    None => Vec::new(),
                }
            }
        }
    }

    pub fn workload_annotations(&self) -> Option<BTreeMap<String, String>> {
        let mut names: Vec<&str> = self.depends_on.iter().map(String::as_str).collect();
        for u in self.uses {
            if !names.contains(&u.name.as_str()) {
                names.push(&u.name);
            }
        }
        (!names.is_empty())
            .then(|| BTreeMap::from([("nixernetes.io/depends-on".to_string(), names.join(","))]))
    }

    /// The network declaration of the workload's pods: its ports, its dependencies, and whether
    /// something outside the namespace reaches it.
    pub fn network(&self, m: &ModuleResource<'_>, exposed: bool) -> NetworkTarget {
        NetworkTarget {
            name: m.name.to_string(),
            namespace: m.namespace.clone(),
            selector: meta::selector_map(m.name),
            ports: self
                .ports
                .iter()
                .map(|p| Port {
                    port: Value::from(p.port),
                    protocol: p.protocol.as_str().into(),
                })
                .collect(),
            depends_on: self
                .depends_on
                .iter()
                .enumerate()
                .map(|(i, d)| (d.clone(), format!("spec.dependsOn[{i}]")))
                .chain(
                    self.uses
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| !self.depends_on.contains(&u.name))
                        .map(|(i, u)| (u.name.clone(), format!("spec.uses[{i}].name"))),
                )
                .collect(),
            exposed,
            metrics: Vec::new(),
            policies: Policies::Split,
        }
    }
}

/// The objects of a workload run by a Deployment, in the order they are emitted.
pub struct DeploymentObjects {
    /// The ServiceAccount and the `<name>-config` ConfigMap, when there are any.
    pub before: Vec<Value>,
    pub deployment: Value,
    /// Its PodDisruptionBudget and HorizontalPodAutoscaler, when there are any.
    pub scaling: Vec<Value>,
    /// What the `SchedulingProfile`s did to its pod template.
    pub findings: Vec<crate::finding::Finding>,
}

/// A Deployment-based workload: ServiceAccount, config, hardened and spread pods, HPA and PDB.
pub fn deployment(
    w: &Workload<'_>,
    m: &ModuleResource<'_>,
    ctx: &Context,
    replicas: i32,
    autoscaling: Option<&super::scaling::AutoscalingSpec>,
    pdb: &super::scaling::PdbSpec,
    config: Option<&super::config::ConfigSpec>,
) -> DeploymentObjects {
    use k8s_openapi::api::apps::v1 as apps;
    let mut before = Vec::new();
    let (sa, sa_name) = w.service_account(m);
    before.extend(sa);
    let cfg = super::config::config_parts(config, m);
    before.extend(cfg.object);
    let mut template = w.pod_template(m, ctx, &sa_name, cfg.pod);
    let findings = super::scheduling::apply(
        &mut template,
        m,
        ctx,
        super::scheduling::Target {
            api_version: "apps/v1",
            kind: "Deployment",
            per_node: false,
        },
    );
    let mut findings = findings;
    findings.extend(w.uses_findings(m, ctx));
    super::scaling::spread(
        &mut template,
        m.name,
        super::scaling::min_pods(replicas, autoscaling),
    );
    let mut metadata = meta::meta(m.name, &m.namespace, m.name, None);
    metadata.annotations = w.workload_annotations();
    let deployment = meta::to_value(&apps::Deployment {
        metadata,
        spec: Some(apps::DeploymentSpec {
            // With an HPA the replica count belongs to it: re-applying must not reset it.
            replicas: autoscaling.is_none().then_some(replicas),
            selector: meta::selector(m.name),
            template,
            ..Default::default()
        }),
        ..Default::default()
    });
    let scaling = super::scaling::scaling_objects(m, "Deployment", replicas, autoscaling, pdb);
    DeploymentObjects {
        before,
        deployment,
        scaling,
        findings,
    }
}

/// The name of the volume that mounts Secret `secret`: `secret-<name>`, a DNS-1123 label as
/// volume names must be. A Secret name is a subdomain (dots, up to 253 characters): where it
/// has a dot or the label would pass 63 characters, dots become dashes, the name is cut, and
/// eight hex digits of its SHA-256 keep two such Secrets apart.
fn secret_volume(secret: &str) -> String {
    let plain = format!("secret-{secret}");
    if plain.len() <= 63 && !plain.contains('.') {
        return plain;
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    let tag: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut head: String = plain.replace('.', "-").chars().take(63 - 9).collect();
    while head.ends_with('-') {
        head.pop();
    }
    format!("{head}-{tag}")
}

#[cfg(test)]
mod tests {
    use super::secret_volume;

    #[test]
    fn secret_volumes_are_labels() {
        assert_eq!(secret_volume("chat-db-app"), "secret-chat-db-app");
        let long = "a".repeat(200);
        for secret in ["tls.example.com", "tls-example.com", long.as_str()] {
            let v = secret_volume(secret);
            assert!(crate::validate::dns1123_label(&v).is_ok(), "{v}");
            assert!(v.len() <= 63, "{v}");
        }
        assert_ne!(
            secret_volume("tls.example.com"),
            secret_volume("tls-example.com")
        );
        assert!(secret_volume("tls.example.com").starts_with("secret-tls-example-com-"));
    }
}
