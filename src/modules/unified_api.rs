//! Seed module `unified-api` (category `observability`): `PlatformDefaults`, the platform-wide
//! defaults every other kind reads (namespace, Kubernetes version, default resources, labels and
//! annotations to inject, inventory name, operator apiVersions). It emits nothing.

use super::common::QuantityValue;
use super::{Checks, KindDef, Module, Role};
use crate::engine::context::{Context, SUPPORTED_KUBERNETES};
use crate::report::Finding;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const PLATFORM_DEFAULTS: KindDef = KindDef {
    kind: "PlatformDefaults",
    framework: "unified-api",
    category: "observability",
    summary: "platform-wide defaults: namespace, Kubernetes version, default resources, labels, inventory",
    role: Role::Configure(platform_defaults),
};

/// `defaultResources: {requests: {…}, limits: {…}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultResourcesSpec {
    pub requests: Option<BTreeMap<String, QuantityValue>>,
    pub limits: Option<BTreeMap<String, QuantityValue>>,
}

/// The spec of `PlatformDefaults`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlatformDefaultsSpec {
    pub namespace: Option<String>,
    pub kubernetes_version: Option<String>,
    pub inventory: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub default_resources: DefaultResourcesSpec,
    /// apiVersion per operator kind, keyed `Kind.group`, e.g. `Cluster.postgresql.cnpg.io`.
    #[serde(default)]
    pub api_versions: BTreeMap<String, String>,
    /// Pod Security profile the checks hold pods to: privileged, baseline or restricted.
    pub pod_security: Option<crate::policy::Profile>,
    /// Compliance level: unrestricted, low, medium, high or restricted.
    pub compliance_level: Option<crate::modules::common::Level>,
    /// What failing checks do: enforce (fail the run), audit (report) or off.
    pub enforcement: Option<crate::policy::Enforcement>,
    /// `generate` (default): default-deny and dependency NetworkPolicies for module workloads;
    /// `none`: leave network policy to you.
    pub network_policies: Option<NetworkPolicies>,
}

/// Whether NetworkPolicies are generated for module workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkPolicies {
    Generate,
    None,
}

fn platform_defaults(m: &Module<'_>, ctx: &mut Context) -> Result<(), Vec<Finding>> {
    let spec: PlatformDefaultsSpec = m.spec()?;
    let mut ch = Checks::new(m);
    if let Some(ns) = &spec.namespace {
        ch.check("spec.namespace", validate::dns1123_label(ns));
    }
    if let Some(v) = &spec.kubernetes_version {
        if !SUPPORTED_KUBERNETES.contains(&v.as_str()) {
            ch.fail(
                "spec.kubernetesVersion",
                format!(
                    "unsupported Kubernetes version {v:?}: expected one of {}",
                    SUPPORTED_KUBERNETES.join(", ")
                ),
            );
        }
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
    for (field, map) in [
        ("spec.labels", &spec.labels),
        ("spec.annotations", &spec.annotations),
    ] {
        for (k, v) in map {
            ch.check(format!("{field}.{k}"), validate::label_key(k));
            if field == "spec.labels" {
                ch.check(format!("{field}.{k}"), validate::label_value(v));
            }
        }
    }
    if let Some(i) = &spec.inventory {
        ch.check("spec.inventory", validate::label_value(i));
    }
    for (k, v) in &spec.api_versions {
        let ok = k.split_once('.').is_some_and(|(kind, group)| {
            !kind.is_empty() && crate::resource::group_of(v) == group && v.len() > group.len() + 1
        });
        if !ok {
            ch.fail(
                format!("spec.apiVersions.{k}"),
                format!("expected `Kind.group: group/version` (e.g. Cluster.postgresql.cnpg.io: postgresql.cnpg.io/v1), found {k}: {v}"),
            );
        }
    }
    ch.finish()?;

    if let Some(ns) = spec.namespace {
        ctx.namespace = Some(ns);
    }
    if let Some(v) = spec.kubernetes_version {
        ctx.kubernetes_version = v;
    }
    if let Some(i) = spec.inventory {
        ctx.inventory = Some(i);
    }
    ctx.labels
        .extend(spec.labels.into_iter().map(|(k, v)| (k, Value::String(v))));
    ctx.annotations.extend(
        spec.annotations
            .into_iter()
            .map(|(k, v)| (k, Value::String(v))),
    );
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
    Ok(())
}
