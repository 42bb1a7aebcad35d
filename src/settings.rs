//! Run settings: what the policy checks hold objects to, the platform's default container
//! resources, and the settings given outside the input (flags, the KRM function config, Argo CD
//! parameters), which win over the input's `PlatformDefaults`. Readers of each source parse into
//! these types; the engine merges them into its context.

use crate::types::{Enforcement, Level, Profile};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What is in force for a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySettings {
    /// Pod Security profile; derived from the level when unset, `baseline` when neither is set.
    pub profile: Option<Profile>,
    pub level: Option<Level>,
    /// Compliance framework in force (from a `ComplianceProfile`).
    pub framework: Option<String>,
    pub enforcement: Enforcement,
    /// Apply the auto-fix mutations to pass-through objects too (`--fix`).
    pub fix_pass_through: bool,
}

impl PolicySettings {
    /// Replaces what is given (flags, `PlatformDefaults`) and keeps the rest.
    pub fn override_with(
        &mut self,
        profile: Option<Profile>,
        level: Option<Level>,
        enforcement: Option<Enforcement>,
    ) {
        if profile.is_some() {
            self.profile = profile;
        }
        if level.is_some() {
            self.level = level;
        }
        if let Some(e) = enforcement {
            self.enforcement = e;
        }
    }

    /// The Pod Security profile in force.
    pub fn profile(&self) -> Profile {
        self.profile.unwrap_or(match self.level {
            Some(Level::Unrestricted | Level::Low) | None => Profile::Baseline,
            Some(_) => Profile::Restricted,
        })
    }
}

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
    pub profile: Option<Profile>,
    pub level: Option<Level>,
    pub enforcement: Option<Enforcement>,
    /// Apply auto-fixes to pass-through objects too.
    pub fix: bool,
}

/// Parses `KEY=VALUE` pairs.
pub fn parse_pairs<'a>(pairs: impl Iterator<Item = &'a str>) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return Err(format!("{p:?}: expected KEY=VALUE"));
        };
        map.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
    }
    Ok(map)
}
