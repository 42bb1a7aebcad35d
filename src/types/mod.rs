//! Value types shared by the kinds, the policy checks and the engine: compliance levels and
//! frameworks, Pod Security profiles, enforcement, ports, quantities and the target Kubernetes
//! minor. Each deserializes the way a user writes it in YAML and describes itself as a JSON
//! Schema (for `explain`, editors and the structural validation of specs). Checks of their
//! content call `crate::validate`; this layer knows nothing of kinds, objects or findings.

pub mod compliance;
pub mod kubernetes;
pub mod scheduling;
pub mod time;

pub use kubernetes::KubernetesVersion;

use crate::validate::code;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString as K8sIntOrString;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A number or a name (ports, `minAvailable`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}

impl IntOrString {
    pub fn to_k8s(&self) -> K8sIntOrString {
        match self {
            IntOrString::Int(i) => K8sIntOrString::Int(*i as i32),
            IntOrString::String(s) => K8sIntOrString::String(s.clone()),
        }
    }

    /// Checks a port reference: a number 1-65535 or a port name.
    pub fn check_port(&self) -> Result<(), String> {
        match self {
            IntOrString::Int(i) => crate::validate::port(*i),
            IntOrString::String(s) => crate::validate::port_name(s),
        }
    }
}

impl JsonSchema for IntOrString {
    fn schema_name() -> Cow<'static, str> {
        "IntOrString".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": true,
        })
    }
}

/// A quantity written as a string (`500m`, `128Mi`) or a bare number (`2`, `0.5`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Quantity {
    Number(serde_json::Number),
    String(String),
}

impl Quantity {
    /// The quantity as Kubernetes writes it.
    pub fn text(&self) -> String {
        match self {
            Quantity::Number(n) => n.to_string(),
            Quantity::String(s) => s.clone(),
        }
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [{"type": "number"}, {"type": "string"}],
            "x-kubernetes-int-or-string": true,
        })
    }
}

/// Transport protocol of a port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum Protocol {
    #[default]
    TCP,
    UDP,
    SCTP,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::TCP => "TCP",
            Protocol::UDP => "UDP",
            Protocol::SCTP => "SCTP",
        }
    }
}

/// Compliance frameworks of the original's unified API.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum Framework {
    SOC2,
    #[serde(rename = "PCI-DSS")]
    PciDss,
    HIPAA,
    GDPR,
    ISO27001,
    NIST,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::SOC2 => "SOC2",
            Framework::PciDss => "PCI-DSS",
            Framework::HIPAA => "HIPAA",
            Framework::GDPR => "GDPR",
            Framework::ISO27001 => "ISO27001",
            Framework::NIST => "NIST",
        }
    }
}

/// Compliance levels, lowest first.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Deserialize,
    Serialize,
    JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Unrestricted,
    Low,
    #[default]
    Medium,
    High,
    Restricted,
}

impl Level {
    /// The level's name, as it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Unrestricted => "unrestricted",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Restricted => "restricted",
        }
    }
}

/// Data classification of what a workload handles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataClassification {
    Public,
    #[default]
    Internal,
    Confidential,
    Restricted,
}

impl DataClassification {
    /// The classification's name, as it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClassification::Public => "public",
            DataClassification::Internal => "internal",
            DataClassification::Confidential => "confidential",
            DataClassification::Restricted => "restricted",
        }
    }
}

/// Environment presets of the original's compliance-profiles module, by the level they require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentProfile {
    /// `low`: RBAC and audit, baseline Pod Security.
    Development,
    /// `medium`: restricted Pod Security, NetworkPolicies, compliance labels.
    Staging,
    /// `high`: as staging, plus encryption and mutual TLS.
    Production,
    /// `restricted`: as production, plus image scanning and digest-pinned images.
    Regulated,
}

impl EnvironmentProfile {
    /// The compliance level the environment requires.
    pub fn level(self) -> Level {
        match self {
            EnvironmentProfile::Development => Level::Low,
            EnvironmentProfile::Staging => Level::Medium,
            EnvironmentProfile::Production => Level::High,
            EnvironmentProfile::Regulated => Level::Restricted,
        }
    }
}

/// Pod Security profile in force.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    Deserialize,
    Serialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Privileged,
    Baseline,
    Restricted,
}

impl Profile {
    /// The level's name, as Pod Security Admission labels spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Privileged => "privileged",
            Profile::Baseline => "baseline",
            Profile::Restricted => "restricted",
        }
    }
}

/// Whether `render` emits the exported `ValidationRule`s as ValidatingAdmissionPolicies and
/// bindings (`--admission-policies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AdmissionPolicies {
    /// No policies (the default).
    #[default]
    None,
    /// The policies beside the rendered objects.
    Include,
    /// Only the policies (and their parameter objects), for the platform team's repository.
    Only,
}

impl AdmissionPolicies {
    /// The value's name, as it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            AdmissionPolicies::None => "none",
            AdmissionPolicies::Include => "include",
            AdmissionPolicies::Only => "only",
        }
    }
}

/// What a failing check does to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// Errors fail the run.
    Enforce,
    /// Errors are reported as warnings; the output is still produced.
    #[default]
    Audit,
    /// No checks run.
    Off,
}

impl Enforcement {
    /// Every value, as written.
    pub const NAMES: [&'static str; 3] = ["enforce", "audit", "off"];

    /// The value's name, as it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Enforce => "enforce",
            Enforcement::Audit => "audit",
            Enforcement::Off => "off",
        }
    }

    /// Parses a written value.
    pub fn parse(text: &str) -> Option<Enforcement> {
        match text {
            "enforce" => Some(Enforcement::Enforce),
            "audit" => Some(Enforcement::Audit),
            "off" => Some(Enforcement::Off),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Enforcement {
    /// `enforce`, `audit` or `off`; an unquoted `off` (a YAML 1.1 boolean `false`) means `off`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Flag(bool),
        }
        let expected = "one of `enforce`, `audit`, `off`";
        match Raw::deserialize(d)? {
            Raw::Flag(false) => Ok(Enforcement::Off),
            Raw::Flag(true) => Err(serde::de::Error::custom(format!(
                "`on`/`true` is not an enforcement: expected {expected}"
            ))),
            Raw::Text(t) => Enforcement::parse(&t).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown enforcement {}: expected {expected}",
                    code(&t)
                ))
            }),
        }
    }
}

impl JsonSchema for Enforcement {
    fn schema_name() -> Cow<'static, str> {
        "Enforcement".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // An unquoted `off` is read as `false` by YAML 1.1 readers: accept it as `off`.
        json_schema!({
            "anyOf": [
                {"type": "string", "enum": Enforcement::NAMES},
                {"const": false},
            ],
        })
    }
}
