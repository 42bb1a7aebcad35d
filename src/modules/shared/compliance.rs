//! `compliance`, the unified API's one-declaration compliance of a workload: framework, level,
//! owner and data classification, stamped as the `compliance.nixernetes.io/*` labels on
//! everything the workload emits.

use crate::kind::Problems;
use crate::types::{DataClassification, EnvironmentProfile, Framework, Level};
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The compliance the workload is held to; its labels go on every object it emits.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComplianceSpec {
    /// Compliance framework.
    pub framework: Framework,
    /// Compliance level.
    #[serde(default)]
    pub level: Level,
    /// Team or person accountable, as a label value.
    pub owner: String,
    /// How sensitive the data the workload handles is.
    #[serde(default)]
    pub data_classification: DataClassification,
}

impl ComplianceSpec {
    pub fn check(&self, c: &mut Problems<'_>, field: &str) {
        if self.owner.is_empty() {
            c.fail(format!("{field}.owner"), "owner must not be empty");
        } else {
            c.check(format!("{field}.owner"), validate::label_value(&self.owner));
        }
    }

    /// The `compliance.nixernetes.io/*` labels.
    pub fn labels(&self) -> Map<String, Value> {
        crate::types::compliance::labels(
            self.framework,
            self.level,
            &self.owner,
            self.data_classification,
        )
    }
}

/// The level given as `level` or as an environment `profile`; `None` unless exactly one is
/// given (then `check_level` has said why).
pub fn level_of(level: Option<Level>, profile: Option<EnvironmentProfile>) -> Option<Level> {
    match (level, profile) {
        (Some(level), None) => Some(level),
        (None, Some(profile)) => Some(profile.level()),
        _ => None,
    }
}

/// Checks that exactly one of `spec.level` and `spec.profile` is given.
pub fn check_level(
    level: Option<Level>,
    profile: Option<EnvironmentProfile>,
    p: &mut Problems<'_>,
) {
    match (level, profile) {
        (Some(_), Some(_)) => p.fail(
            "spec.profile",
            "set either level or profile, not both (a profile stands for a level: development=low, staging=medium, production=high, regulated=restricted)",
        ),
        (None, None) => p.fail(
            "spec.level",
            "set level (unrestricted, low, medium, high, restricted) or profile (development, staging, production, regulated)",
        ),
        _ => {}
    }
}
