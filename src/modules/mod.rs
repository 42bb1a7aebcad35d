//! The registry of module kinds: `kind → (seed module, category, role)`.
//!
//! Each seed module of the original framework is one file here and contributes its kinds to
//! `REGISTRY`. A kind either *generates* child objects from its typed spec or *configures* the
//! render context. The engine looks kinds up here and nowhere else.

pub mod common;
pub mod compliance;
pub mod compliance_enforcement;
pub mod database_management;
pub mod kubernetes_core;
pub mod policy_generation;
pub mod security_policies;
pub mod unified_api;

use crate::engine::context::Context;
use crate::report::Finding;
use crate::resource::Resource;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A report kind's function: findings about the rendered set (or its spec errors).
pub type ReportFn = fn(&Module<'_>, &[&Resource], &Context) -> Result<Vec<Finding>, Vec<Finding>>;

/// What a kind does with its resource.
pub enum Role {
    /// Expands the resource into child objects.
    Generate(fn(&Module<'_>, &Context) -> Result<Expansion, Vec<Finding>>),
    /// Changes the render context; emits nothing.
    Configure(fn(&Module<'_>, &mut Context) -> Result<(), Vec<Finding>>),
    /// Looks at the rendered set once it is complete and adds findings (KRM `results`); emits
    /// nothing, so it never reaches a cluster.
    Report(ReportFn),
}

/// A registered kind.
pub struct KindDef {
    pub kind: &'static str,
    /// Seed module of the original framework, stamped as `nixernetes.io/framework`.
    pub framework: &'static str,
    /// Category, stamped as `nixernetes.io/module`.
    pub category: &'static str,
    /// One line for `--help`, README and errors.
    pub summary: &'static str,
    pub role: Role,
}

/// Every kind, in documentation order. Configuration kinds are applied in this order too, so a
/// later one (e.g. `ComplianceProfile`) wins over an earlier one (`PlatformDefaults`) for a
/// setting both make, whatever the input order.
pub static REGISTRY: &[KindDef] = &[
    unified_api::PLATFORM_DEFAULTS,
    compliance::COMPLIANCE_PROFILE,
    compliance_enforcement::COMPLIANCE_CHECK,
    kubernetes_core::WEB_APP,
    kubernetes_core::WORKER,
    kubernetes_core::STATEFUL_SERVICE,
    kubernetes_core::NODE_AGENT,
    kubernetes_core::APP_CONFIG,
    database_management::POSTGRESQL,
    security_policies::NETWORK_ISOLATION,
    security_policies::POD_SECURITY_PROFILE,
];

/// The kind registered under `kind`, if any.
pub fn lookup(kind: &str) -> Option<&'static KindDef> {
    REGISTRY.iter().find(|k| k.kind == kind)
}

/// Names of every registered kind, for error messages.
pub fn known_kinds() -> String {
    REGISTRY
        .iter()
        .map(|k| k.kind)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a generating kind produced.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Child objects (Kubernetes objects or further module resources).
    pub objects: Vec<Value>,
    /// Extra labels for every child and its pod templates (e.g. compliance labels).
    pub labels: Map<String, Value>,
    /// Non-fatal findings (warnings, info).
    pub findings: Vec<Finding>,
}

/// A module resource being expanded: the resource and its resolved identity.
pub struct Module<'a> {
    pub resource: &'a Resource,
    pub name: &'a str,
    /// The resource's namespace, or the context's default.
    pub namespace: String,
}

impl<'a> Module<'a> {
    /// An error about `field` (a path relative to the object, e.g. `spec.replicas`).
    pub fn error(&self, field: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::error(message).about(self.resource).field(field)
    }

    /// A warning about `field`.
    pub fn warning(&self, field: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::warning(message).about(self.resource).field(field)
    }

    /// Deserializes `spec` into the kind's typed spec. Unknown fields and wrong types are
    /// errors located by field path; a missing spec reads as `{}`.
    pub fn spec<T: DeserializeOwned>(&self) -> Result<T, Vec<Finding>> {
        let empty = Value::Object(Map::new());
        let spec = match self.resource.object.get("spec") {
            None | Some(Value::Null) => &empty,
            Some(v) => v,
        };
        serde_path_to_error::deserialize(spec).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "spec".to_string()
            } else {
                format!("spec.{path}")
            };
            vec![self.error(field, e.into_inner().to_string())]
        })
    }
}

/// Collects findings from validation steps, for the common "check everything, then fail once".
pub struct Checks<'a> {
    module: &'a Module<'a>,
    pub findings: Vec<Finding>,
}

impl<'a> Checks<'a> {
    pub fn new(module: &'a Module<'a>) -> Self {
        Checks {
            module,
            findings: Vec::new(),
        }
    }

    /// Records `result`'s error, if any, at `field`.
    pub fn check(&mut self, field: impl Into<String>, result: Result<(), String>) {
        if let Err(why) = result {
            self.fail(field, why);
        }
    }

    /// Records an error at `field`.
    pub fn fail(&mut self, field: impl Into<String>, why: impl Into<String>) {
        self.findings.push(self.module.error(field, why));
    }

    /// Records a warning at `field`.
    pub fn warn(&mut self, field: impl Into<String>, why: impl Into<String>) {
        self.findings.push(self.module.warning(field, why));
    }

    /// Ok with the non-error findings, or every finding when any is an error.
    pub fn finish(self) -> Result<Vec<Finding>, Vec<Finding>> {
        if crate::report::has_errors(&self.findings) {
            Err(self.findings)
        } else {
            Ok(self.findings)
        }
    }
}
