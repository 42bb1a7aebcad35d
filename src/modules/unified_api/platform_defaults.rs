//! Seed module `unified-api` (category `observability`): `PlatformDefaults`, the platform-wide
//! defaults every other kind reads (namespace, Kubernetes version, default resources, labels and
//! annotations to inject, inventory name, operator apiVersions, which checks run and how
//! severely: `spec.checks`). It emits nothing itself; with
//! `createNamespaces` the engine emits the Namespaces of the rendered objects for it.

use crate::finding::Severity;
use crate::kind::spec::{Configure, Kind};
use crate::kind::{Context, Example, ModuleResource, NamespacesRequest, Problems};
use crate::schema::operators;
use crate::settings::CheckSetting;
use crate::types::{Enforcement, KubernetesVersion, Level, Profile, Quantity};
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct PlatformDefaults;

/// Container resources every module workload gets unless its spec sets them.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultResourcesSpec {
    /// Requests, replacing the built-in `{cpu: 100m, memory: 128Mi}`.
    pub requests: Option<BTreeMap<String, Quantity>>,
    /// Limits, replacing the built-in `{cpu: 500m, memory: 512Mi}`.
    pub limits: Option<BTreeMap<String, Quantity>>,
}

/// Platform-wide defaults every other kind reads; `spec.labels` and `spec.annotations` go on
/// every emitted object.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlatformDefaultsSpec {
    /// Namespace of module resources and objects that name none.
    pub namespace: Option<String>,
    /// Target Kubernetes minor, 1.31 to 1.37 (default 1.31, which every supported cluster
    /// serves): the APIs the output uses and what `stable-api-version` judges against. Write
    /// `"1.35"`; an unquoted `1.35` means the same, but quote it (an unquoted `1.30` would be 1.3).
    pub kubernetes_version: Option<KubernetesVersion>,
    /// Inventory (apply set) name, stamped as label `nixernetes.io/inventory`.
    pub inventory: Option<String>,
    /// Container resources of workloads whose spec sets none.
    #[serde(default)]
    pub default_resources: DefaultResourcesSpec,
    /// apiVersion per operator kind, keyed `Kind.group`, e.g. `Cluster.postgresql.cnpg.io`.
    #[serde(default)]
    pub api_versions: BTreeMap<String, String>,
    /// Pod Security profile the checks hold pods to: privileged, baseline or restricted.
    pub pod_security: Option<Profile>,
    /// Compliance level: unrestricted, low, medium, high or restricted.
    pub compliance_level: Option<Level>,
    /// What failing checks do: enforce (fail the run), audit (report) or off.
    pub enforcement: Option<Enforcement>,
    /// `generate` (default): default-deny and dependency NetworkPolicies for module workloads;
    /// `none`: leave network policy to you.
    pub network_policies: Option<NetworkPolicies>,
    /// `true` (default): a pod template that reads a ConfigMap or Secret of the rendered set
    /// (`envFrom`, `valueFrom`, a volume) gets annotation `nixernetes.io/config-hash`, a
    /// SHA-256 of what it reads, so that changing it rolls the pods (the modules' always,
    /// yours with `--fix`). `false`: none, e.g. when a reloader restarts the pods instead.
    pub config_hash: Option<bool>,
    /// Where the metrics scrapers run.
    #[serde(default)]
    pub monitoring: MonitoringSpec,
    /// Also emit a Namespace for every namespace the rendered objects use (except `default`,
    /// `kube-system`, `kube-public` and `kube-node-lease`, which every cluster has, and those
    /// the input already defines), labelled `pod-security.kubernetes.io/{enforce,audit,warn}` with the Pod
    /// Security profile in force (`podSecurity`, else the one the compliance level implies)
    /// and `-version: latest`. Default false: the namespaces are someone else's to create.
    pub create_namespaces: Option<bool>,
    /// How every run of this platform treats single checks, keyed by check id (`check
    /// --list`): off, on where the profile or level would not run it, or at a severity of
    /// its own. Each entry needs a reason; reports show it once per run and on every finding
    /// whose severity it set. `--disable-check` and `--enable-check` replace an entry whole.
    /// Per-object exemptions (`ignore-check.nixernetes.io/<id>` annotations) still apply.
    #[serde(default)]
    pub checks: BTreeMap<String, CheckConfig>,
}

/// How the runs of a platform treat one check.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// `false`: the check does not run. `true`: it runs even where the profile or level would
    /// not run it (`compliance-labels` without a compliance level). Unset: as they say.
    pub enabled: Option<bool>,
    /// Severity of every finding of the check (`error`, `warning` or `info`), replacing the
    /// one the profile and level give; under `audit` errors are still reported as warnings.
    pub severity: Option<Severity>,
    /// Why (required): shown in every report beside the check's findings.
    pub reason: String,
}

/// Where the metrics scrapers (Prometheus) run.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSpec {
    /// Namespace of the metrics scrapers (default `monitoring`): the generated NetworkPolicies
    /// let its pods reach the metrics ports of the pods the modules run (the endpoints of
    /// their PodMonitors and ServiceMonitors), and nothing else.
    pub namespace: Option<String>,
}

/// Whether NetworkPolicies are generated for module workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkPolicies {
    /// Default-deny and dependency NetworkPolicies for module workloads.
    Generate,
    /// None: network policy is left to you.
    None,
}

impl Kind for PlatformDefaults {
    const KIND: &'static str = "PlatformDefaults";
    const SUMMARY: &'static str = "platform-wide defaults: namespace, Kubernetes version, default resources, labels, inventory";
    const EXAMPLE: Example = crate::example!("examples/platform/defaults.yaml");
    type Spec = PlatformDefaultsSpec;

    fn validate(spec: &PlatformDefaultsSpec, ch: &mut Problems<'_>) {
        if let Some(ns) = &spec.namespace {
            ch.check("spec.namespace", validate::dns1123_label(ns));
        }
        if let Some(ns) = &spec.monitoring.namespace {
            ch.check("spec.monitoring.namespace", validate::dns1123_label(ns));
        }
        for (part, map) in [
            ("requests", &spec.default_resources.requests),
            ("limits", &spec.default_resources.limits),
        ] {
            for (k, v) in map.iter().flatten() {
                ch.check(
                    format!("spec.defaultResources.{part}.{k}"),
                    validate::quantity(&v.text()),
                );
            }
        }
        if let Some(i) = &spec.inventory {
            ch.check("spec.inventory", validate::inventory_name(i));
        }
        for (id, c) in &spec.checks {
            let field = format!("spec.checks.{id}");
            if let Some(why) = crate::policy::unknown_check(id) {
                ch.fail(field.clone(), why);
            }
            if c.reason.trim().is_empty() {
                ch.fail(
                    format!("{field}.reason"),
                    "a reason is required: say why the check is configured so (reports show it)",
                );
            }
            match (c.enabled, c.severity) {
                (None, None) => ch.fail(
                    field,
                    "says nothing: set `enabled` (true or false) or `severity` (error, warning or info)",
                ),
                (Some(false), Some(_)) => ch.fail(
                    format!("{field}.severity"),
                    "a check that is off has no severity: drop `severity`, or `enabled: false`",
                ),
                _ => {}
            }
        }
        for (k, v) in &spec.api_versions {
            let field = format!("spec.apiVersions.{k}");
            match operators::lookup(k) {
                None => {
                    let same_kind: Vec<String> = operators::ALL
                        .iter()
                        .filter(|o| o.kind == k.as_str())
                        .map(|o| format!("`{}`", o.key()))
                        .collect();
                    let hint = if same_kind.is_empty() {
                        format!(
                            "expected `Kind.group` of one of {}",
                            operators::ALL
                                .iter()
                                .map(|o| o.key())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        format!(
                            "keys are `Kind.group`: did you mean {}?",
                            same_kind.join(" or ")
                        )
                    };
                    ch.fail(field, format!("unknown operator kind {k:?}: {hint}"));
                }
                Some(o) => {
                    let version = v.strip_prefix(o.group).and_then(|r| r.strip_prefix('/'));
                    if !version.is_some_and(|v| !v.is_empty() && !v.contains('/')) {
                        ch.fail(
                            field,
                            format!(
                                "expected `{}/<version>` (e.g. {}), found {v:?}",
                                o.group,
                                o.api_version()
                            ),
                        );
                    }
                }
            }
        }
    }
}

impl Configure for PlatformDefaults {
    /// The lowest: every other configuration kind wins over it.
    const PRECEDENCE: u8 = 10;

    fn configure(spec: PlatformDefaultsSpec, m: &ModuleResource<'_>, ctx: &mut Context) {
        if let Some(ns) = spec.namespace {
            ctx.namespace = Some(ns);
        }
        if let Some(v) = spec.kubernetes_version {
            ctx.kubernetes_version = v;
        }
        if let Some(i) = spec.inventory {
            ctx.inventory = Some(i);
        }
        ctx.labels.extend(m.spec_map("labels"));
        ctx.annotations.extend(m.spec_map("annotations"));
        if let Some(r) = spec.default_resources.requests {
            ctx.default_resources.requests = r.into_iter().map(|(k, v)| (k, v.text())).collect();
        }
        if let Some(l) = spec.default_resources.limits {
            ctx.default_resources.limits = l.into_iter().map(|(k, v)| (k, v.text())).collect();
        }
        ctx.api_versions.extend(spec.api_versions);
        ctx.policy
            .override_with(spec.pod_security, spec.compliance_level, spec.enforcement);
        if let Some(n) = spec.network_policies {
            ctx.network_policies = n == NetworkPolicies::Generate;
        }
        if let Some(ns) = spec.monitoring.namespace {
            ctx.monitoring_namespace = ns;
        }
        if let Some(on) = spec.config_hash {
            ctx.config_hash = on;
        }
        for (id, c) in spec.checks {
            let setting = CheckSetting {
                enabled: c.enabled,
                severity: c.severity,
                reason: Some(c.reason),
                source: format!("{} spec.checks.{id}", m.resource.kind()),
            };
            ctx.policy.checks.insert(id, setting);
        }
        if let Some(create) = spec.create_namespaces {
            ctx.create_namespaces = create.then(|| NamespacesRequest {
                kind: m.resource.kind().to_string(),
                source: m.resource.object_ref().to_string(),
                origin: m.resource.origin.clone(),
            });
        }
    }
}
