//! Test-only specs shaped like the real ones (KINDS.md §1.2): `deny_unknown_fields`, camelCase,
//! `///` docs on types and fields, serde defaults, `Option`s, a nested probes struct, an
//! untagged int-or-string enum, unit enums with renames (one with documented variants, which
//! schemars writes as `oneOf`), a string map, a list of structs and a range attribute.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Runs a stateless web application: a Deployment behind a Service.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebAppSpec {
    /// Container image, for example `nginx:1.27`.
    pub image: String,
    /// Number of pods to run.
    #[serde(default = "two")]
    pub replicas: u32,
    /// Ports the container listens on.
    #[serde(default)]
    pub ports: Vec<Port>,
    /// Health checks of the container.
    pub probes: Option<Probes>,
    /// How policy checks are enforced for this application.
    #[serde(default)]
    pub enforcement: Enforcement,
    /// Environment variables of the container.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Host names the application is served on.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Kubernetes minor version the manifests target, for example "1.35".
    pub kubernetes_version: Option<String>,
    /// Horizontal autoscaling; without it the replica count is fixed.
    pub scaling: Option<Scaling>,
    /// Expose the application outside the cluster.
    #[serde(default)]
    pub expose: bool,
}

fn two() -> u32 {
    2
}

/// A port the container listens on.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Port {
    /// Name of the port, referenced by probes and Services.
    pub name: Option<String>,
    /// Port number.
    pub port: u16,
    /// Protocol of the port.
    #[serde(default)]
    pub protocol: Protocol,
}

/// Network protocol of a port.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
pub enum Protocol {
    /// Transmission Control Protocol.
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    /// User Datagram Protocol.
    #[serde(rename = "UDP")]
    Udp,
}

/// How policy checks are enforced.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    #[default]
    Enforce,
    Audit,
    Off,
}

/// Health checks of the container.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probes {
    /// Whether the pod is ready to receive traffic.
    pub readiness: Option<Probe>,
    /// Whether the container is alive; failing it restarts the container.
    pub liveness: Option<Probe>,
    /// Whether the container has started; the other probes wait for it.
    pub startup: Option<Probe>,
}

/// An HTTP GET health check.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    /// HTTP path to request.
    pub path: String,
    /// Port number or name to request.
    pub port: IntOrString,
    /// Seconds between two checks.
    #[serde(default = "ten")]
    pub period_seconds: i32,
}

fn ten() -> i32 {
    10
}

/// A port number or a port name.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i32),
    String(String),
}

/// Horizontal autoscaling on CPU use.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scaling {
    /// Fewest pods.
    pub min_replicas: u32,
    /// Most pods.
    pub max_replicas: u32,
    /// Average CPU use to aim for, in percent of the request.
    #[serde(default = "eighty")]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_percent: u8,
}

fn eighty() -> u8 {
    80
}

/// The document schema of the test kind `WebApp`.
pub fn web_app_schema() -> Value {
    super::kind_schema(
        "WebApp",
        "Runs a stateless web application.",
        super::spec_schema(WebAppSpec::json_schema),
    )
}
