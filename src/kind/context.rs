//! The render context: platform-wide settings (`PlatformDefaults`) merged with CLI overrides.
//!
//! Precedence, lowest first: built-in defaults, configuration kinds in the input (or the KRM
//! function config) in their declared precedence, then the settings given outside the input
//! (`settings::Overrides`, layered as `settings` documents). Kinds read the context; only the
//! engine and configuration kinds change it.

use super::outputs::{OutputDef, OutputValues};
use crate::schema::operators::OperatorKind;
use crate::settings::{DefaultResources, Overrides, PolicySettings};
use crate::types::compliance::ComplianceLabels;
use crate::types::scheduling::ScheduledProfile;
use crate::types::KubernetesVersion;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Everything the engine and modules need to know about the platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Namespace for module resources without one; also set on pass-through objects without one
    /// when given explicitly (flag, `PlatformDefaults`, Argo CD).
    pub namespace: Option<String>,
    /// Target Kubernetes minor: the APIs the output may use (`schema::served`).
    pub kubernetes_version: KubernetesVersion,
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
    pub policy: PolicySettings,
    /// Generate default-deny and dependency NetworkPolicies for module workloads.
    pub network_policies: bool,
    /// Annotate pod templates with a content hash of the ConfigMaps and Secrets of the set
    /// they read (`engine::passes::config_hash`).
    pub config_hash: bool,
    /// Compliance labels and the objects that get them (from a `ComplianceProfile`).
    pub compliance: Option<ComplianceLabels>,
    /// The `SchedulingProfile`s of the input, for the pod templates of module workloads.
    pub scheduling: Vec<ScheduledProfile>,
    /// Namespace the metrics scrapers (Prometheus) run in: the generated NetworkPolicies let it
    /// reach the metrics ports kinds declare.
    pub monitoring_namespace: String,
    /// The connection outputs of every module resource of the input, computed before any is
    /// expanded, for `uses`.
    pub outputs: Published,
    /// Emit a Namespace for every namespace the rendered objects use, when a configuration kind
    /// asked for it (`PlatformDefaults.spec.createNamespaces`).
    pub create_namespaces: Option<NamespacesRequest>,
}

/// The configuration kind that asked for the Namespaces of the rendered objects: the emitted
/// Namespaces trace back to it (`nixernetes.io/source`, its seed module, its place).
#[derive(Debug, Clone, PartialEq)]
pub struct NamespacesRequest {
    /// Its kind, for its seed module and category.
    pub kind: String,
    /// `Kind/name` (or `Kind/namespace/name`) of the module resource.
    pub source: String,
    pub origin: crate::resource::Origin,
}

/// What the module resources of a render publish, keyed by (namespace, name).
pub type Published = BTreeMap<(String, String), Vec<Publisher>>;

/// A module resource of a generating kind, as `uses` sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Publisher {
    /// Its kind.
    pub kind: &'static str,
    /// The outputs its kind publishes (empty for most kinds).
    pub defs: &'static [OutputDef],
    /// Their values; `None` when its spec has errors (reported where it is expanded).
    pub values: Option<OutputValues>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            namespace: None,
            kubernetes_version: KubernetesVersion::DEFAULT,
            inventory: None,
            labels: Map::new(),
            annotations: Map::new(),
            default_resources: DefaultResources::default(),
            api_versions: BTreeMap::new(),
            timestamp: None,
            namespace_fallback: Some("default".into()),
            policy: PolicySettings::default(),
            network_policies: true,
            config_hash: true,
            compliance: None,
            scheduling: Vec::new(),
            monitoring_namespace: "monitoring".into(),
            outputs: BTreeMap::new(),
            create_namespaces: None,
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

    /// apiVersion of an operator kind: the `PlatformDefaults.spec.apiVersions` override if
    /// any, else the kind's default.
    pub fn api_version(&self, kind: &OperatorKind) -> String {
        self.api_versions
            .get(&kind.key())
            .cloned()
            .unwrap_or_else(|| kind.api_version())
    }
}

impl Context {
    /// Lays `o`, the settings given outside the input, over this context.
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(ns) = &o.namespace {
            self.namespace = Some(ns.clone());
        }
        if let Some(v) = o.kubernetes_version {
            self.kubernetes_version = v;
        }
        if let Some(i) = &o.inventory {
            self.inventory = Some(i.clone());
        }
        if let Some(ns) = &o.monitoring_namespace {
            self.monitoring_namespace = ns.clone();
        }
        for (k, v) in &o.labels {
            self.labels.insert(k.clone(), v.clone());
        }
        for (k, v) in &o.annotations {
            self.annotations.insert(k.clone(), v.clone());
        }
        if let Some(t) = &o.timestamp {
            self.timestamp = Some(t.clone());
        }
        if o.no_namespace_fallback {
            self.namespace_fallback = None;
        }
        self.policy.override_with(o.profile, o.level, o.enforcement);
        if o.fix {
            self.policy.fix_pass_through = true;
        }
        for (id, setting) in &o.checks {
            self.policy.checks.insert(id.clone(), setting.clone());
        }
    }
}
