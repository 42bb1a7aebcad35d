//! The render context: platform-wide settings (`PlatformDefaults`) merged with CLI overrides.
//!
//! Precedence, lowest first: built-in defaults, `PlatformDefaults` objects in the input (or the
//! KRM function config), then flags and environment (CLI, Argo CD). Modules read the context; only
//! the engine builds it.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Kubernetes minors whose APIs the output must be valid for.
pub const SUPPORTED_KUBERNETES: [&str; 3] = ["1.35", "1.36", "1.37"];

/// Container resources used when a module spec sets none.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultResources {
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

impl Default for DefaultResources {
    fn default() -> Self {
        DefaultResources {
            requests: [("cpu", "100m"), ("memory", "128Mi")]
                .map(|(k, v)| (k.into(), v.into()))
                .into(),
            limits: [("cpu", "500m"), ("memory", "512Mi")]
                .map(|(k, v)| (k.into(), v.into()))
                .into(),
        }
    }
}

/// Everything the engine and modules need to know about the platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Namespace for module resources without one; also set on pass-through objects without one
    /// when given explicitly (flag, `PlatformDefaults`, Argo CD).
    pub namespace: Option<String>,
    /// Target Kubernetes minor, one of `SUPPORTED_KUBERNETES`.
    pub kubernetes_version: String,
    /// Inventory (apply set) name, stamped as label `nixernetes.io/inventory`.
    pub inventory: Option<String>,
    /// Labels for every emitted object.
    pub labels: Map<String, Value>,
    /// Annotations for every emitted object.
    pub annotations: Map<String, Value>,
    pub default_resources: DefaultResources,
    /// apiVersion overrides for operator kinds, keyed `Kind.group`.
    pub api_versions: BTreeMap<String, String>,
    /// `nixernetes.io/created-at` value, when timestamps were asked for.
    pub timestamp: Option<String>,
    /// Namespace of module resources when nothing names one: `default` on the CLI; none under
    /// Kustomize, whose own `namespace:` (or a later transformer) decides.
    pub namespace_fallback: Option<String>,
    /// Pod Security profile, compliance level and enforcement for the policy checks.
    pub policy: crate::policy::Settings,
    /// Generate default-deny and dependency NetworkPolicies for module workloads.
    pub network_policies: bool,
    /// Compliance labels and the objects that get them (from a `ComplianceProfile`).
    pub compliance: Option<crate::modules::compliance::ComplianceLabels>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            namespace: None,
            kubernetes_version: SUPPORTED_KUBERNETES[0].to_string(),
            inventory: None,
            labels: Map::new(),
            annotations: Map::new(),
            default_resources: DefaultResources::default(),
            api_versions: BTreeMap::new(),
            timestamp: None,
            namespace_fallback: Some("default".into()),
            policy: crate::policy::Settings::default(),
            network_policies: true,
            compliance: None,
        }
    }
}

impl Context {
    /// Namespace for a module resource that names none; empty when there is none to give.
    pub fn module_namespace(&self) -> &str {
        self.namespace
            .as_deref()
            .or(self.namespace_fallback.as_deref())
            .unwrap_or("")
    }

    /// apiVersion of an operator kind: the override if any, else `default`.
    pub fn api_version(&self, kind: &str, default: &str) -> String {
        let group = crate::resource::group_of(default);
        self.api_versions
            .get(&format!("{kind}.{group}"))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }
}

/// Settings given outside the input (flags, environment); each `Some` wins over the input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub namespace: Option<String>,
    pub kubernetes_version: Option<String>,
    pub inventory: Option<String>,
    pub labels: Map<String, Value>,
    pub annotations: Map<String, Value>,
    pub timestamp: Option<String>,
    /// Leave module children without a namespace when nothing names one (Kustomize modes).
    pub no_namespace_fallback: bool,
    pub profile: Option<crate::policy::Profile>,
    pub level: Option<crate::modules::common::Level>,
    pub enforcement: Option<crate::policy::Enforcement>,
    /// Apply auto-fixes to pass-through objects too.
    pub fix: bool,
}

impl Overrides {
    /// Applies these overrides on top of `ctx`.
    pub fn apply(&self, ctx: &mut Context) {
        if let Some(ns) = &self.namespace {
            ctx.namespace = Some(ns.clone());
        }
        if let Some(v) = &self.kubernetes_version {
            ctx.kubernetes_version = v.clone();
        }
        if let Some(i) = &self.inventory {
            ctx.inventory = Some(i.clone());
        }
        for (k, v) in &self.labels {
            ctx.labels.insert(k.clone(), v.clone());
        }
        for (k, v) in &self.annotations {
            ctx.annotations.insert(k.clone(), v.clone());
        }
        if let Some(t) = &self.timestamp {
            ctx.timestamp = Some(t.clone());
        }
        if self.no_namespace_fallback {
            ctx.namespace_fallback = None;
        }
        ctx.policy
            .override_with(self.profile, self.level, self.enforcement);
        if self.fix {
            ctx.policy.fix_pass_through = true;
        }
    }
}
