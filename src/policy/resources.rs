//! Resource requests and limits (ids 18-22 of the check table): every regular and init container
//! states what it needs and may use. Ephemeral containers are skipped: the API forbids resources
//! on them. A value set in the pod-level `spec.resources` (Kubernetes 1.32+) covers the containers
//! that leave it unset, as the kubelet then sizes them out of the pod's budget.
//!
//! Only presence is checked here, and a memory limit below its request when both parse; whether a
//! quantity is well-formed is input validation (`crate::validate::quantity`), not a policy.

use super::pod::{ContainerKind, ContainerView, PodView};
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use crate::validate::quantity;
use serde_json::Value;

/// `cpu-requests` (#18).
pub const CPU_REQUESTS: CheckDef = CheckDef {
    id: "cpu-requests",
    summary: "containers set resources.requests.cpu",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Yes,
    scope: Scope::Pod(cpu_requests),
};

/// `memory-requests` (#19).
pub const MEMORY_REQUESTS: CheckDef = CheckDef {
    id: "memory-requests",
    summary: "containers set resources.requests.memory",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Yes,
    scope: Scope::Pod(memory_requests),
};

/// `memory-limits` (#20).
pub const MEMORY_LIMITS: CheckDef = CheckDef {
    id: "memory-limits",
    summary: "containers set resources.limits.memory, at least their memory request",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Yes,
    scope: Scope::Pod(memory_limits),
};

/// `cpu-limits` (#21).
pub const CPU_LIMITS: CheckDef = CheckDef {
    id: "cpu-limits",
    summary: "containers set resources.limits.cpu",
    pss: None,
    severity: Severity::Info,
    fix: Fix::Opt,
    scope: Scope::Pod(cpu_limits),
};

/// `ephemeral-storage` (#22).
pub const EPHEMERAL_STORAGE: CheckDef = CheckDef {
    id: "ephemeral-storage",
    summary: "containers set an ephemeral-storage request and limit",
    pss: None,
    severity: Severity::Info,
    fix: Fix::Opt,
    scope: Scope::Pod(ephemeral_storage),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[
    &CPU_REQUESTS,
    &MEMORY_REQUESTS,
    &MEMORY_LIMITS,
    &CPU_LIMITS,
    &EPHEMERAL_STORAGE,
];

/// `resources.<section>.<resource>` of a resources owner (container or pod), if set to something.
fn value<'a>(
    owner: &'a serde_json::Map<String, Value>,
    section: &str,
    resource: &str,
) -> Option<&'a Value> {
    owner
        .field("resources")
        .and_then(|r| r.field(section))
        .and_then(|s| s.field(resource))
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
}

/// Reports every sized container (regular and init) that leaves `resources.<section>.<resource>`
/// unset while the pod-level resources do too; `why` completes the message.
fn require(pod: &PodView<'_>, out: &mut HitSink, section: &str, resource: &str, why: &str) {
    if value(pod.spec, section, resource).is_some() {
        return;
    }
    let what = match section {
        "requests" => "request",
        _ => "limit",
    };
    for c in sized(pod) {
        if value(c.spec, section, resource).is_none() {
            out.push(
                c.at(&format!("resources.{section}.{resource}")),
                format!(
                    "container {:?} has no {resource} {what}: set resources.{section}.{resource} {why}",
                    c.name()
                ),
            );
        }
    }
}

/// The containers that can carry resources: ephemeral containers cannot.
fn sized<'p, 'a>(pod: &'p PodView<'a>) -> impl Iterator<Item = ContainerView<'a>> + 'p {
    pod.containers()
        .iter()
        .copied()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
}

fn cpu_requests(pod: &PodView<'_>, out: &mut HitSink) {
    require(
        pod,
        out,
        "requests",
        "cpu",
        "so the scheduler reserves CPU for it",
    );
}

fn memory_requests(pod: &PodView<'_>, out: &mut HitSink) {
    require(
        pod,
        out,
        "requests",
        "memory",
        "so the scheduler reserves memory for it",
    );
}

/// A quantity as written (string or bare number) and its value.
fn parsed(v: &Value) -> Option<(String, f64)> {
    match v {
        Value::String(s) => quantity::parse(s).map(|q| (s.clone(), q)),
        Value::Number(n) => n.as_f64().map(|q| (n.to_string(), q)),
        _ => None,
    }
}

fn memory_limits(pod: &PodView<'_>, out: &mut HitSink) {
    require(
        pod,
        out,
        "limits",
        "memory",
        "so a leak cannot exhaust the node's memory",
    );
    for c in sized(pod) {
        let limit = value(c.spec, "limits", "memory").and_then(parsed);
        let request = value(c.spec, "requests", "memory").and_then(parsed);
        if let (Some((limit, l)), Some((request, r))) = (limit, request) {
            if l < r {
                out.push(
                    c.at("resources.limits.memory"),
                    format!(
                        "container {:?} limits memory to {limit}, below its request of {request}: the API server rejects a limit under the request",
                        c.name()
                    ),
                );
            }
        }
    }
}

fn cpu_limits(pod: &PodView<'_>, out: &mut HitSink) {
    require(pod, out, "limits", "cpu", "to cap the CPU it can take");
}

fn ephemeral_storage(pod: &PodView<'_>, out: &mut HitSink) {
    require(
        pod,
        out,
        "requests",
        "ephemeral-storage",
        "so the scheduler reserves local disk for it",
    );
    require(
        pod,
        out,
        "limits",
        "ephemeral-storage",
        "so logs and scratch files cannot fill the node's disk",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::expect_hits as expect;

    /// A StatefulSet `db` with a regular, an init and an ephemeral container, with these resources
    /// on the regular one and none on the others.
    fn statefulset(resources: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: db\n        image: x:1\n        resources: {resources}\n      initContainers:\n      - name: init\n        image: x:1\n        resources: {resources}\n      ephemeralContainers:\n      - name: debug\n        image: x:1\n"
        )
    }

    const FULL: &str = "{requests: {cpu: 100m, memory: 128Mi, ephemeral-storage: 1Gi}, limits: {cpu: 500m, memory: 256Mi, ephemeral-storage: 2Gi}}";
    const C: &str = "spec.template.spec.containers[0]";
    const I: &str = "spec.template.spec.initContainers[0]";

    #[test]
    fn every_check_passes_a_fully_sized_pod() {
        for check in CHECKS {
            expect(check, &statefulset(FULL), &[]);
        }
    }

    #[test]
    fn cpu_requests_missing() {
        expect(
            &CPU_REQUESTS,
            &statefulset("{limits: {cpu: 500m}}"),
            &[
                (
                    "db",
                    &format!("{C}.resources.requests.cpu"),
                    "container \"db\" has no cpu request: set resources.requests.cpu",
                ),
                (
                    "db",
                    &format!("{I}.resources.requests.cpu"),
                    "container \"init\" has no cpu request",
                ),
            ],
        );
    }

    #[test]
    fn memory_requests_missing() {
        expect(
            &MEMORY_REQUESTS,
            &statefulset("{requests: {cpu: 100m}}"),
            &[
                (
                    "db",
                    &format!("{C}.resources.requests.memory"),
                    "container \"db\" has no memory request",
                ),
                (
                    "db",
                    &format!("{I}.resources.requests.memory"),
                    "container \"init\" has no memory request",
                ),
            ],
        );
    }

    #[test]
    fn memory_limits_missing_or_below_request() {
        expect(
            &MEMORY_LIMITS,
            &statefulset("{}"),
            &[
                (
                    "db",
                    &format!("{C}.resources.limits.memory"),
                    "container \"db\" has no memory limit",
                ),
                (
                    "db",
                    &format!("{I}.resources.limits.memory"),
                    "container \"init\" has no memory limit",
                ),
            ],
        );
        expect(
            &MEMORY_LIMITS,
            &statefulset("{requests: {memory: 1Gi}, limits: {memory: 512Mi}}"),
            &[
                (
                    "db",
                    &format!("{C}.resources.limits.memory"),
                    "container \"db\" limits memory to 512Mi, below its request of 1Gi",
                ),
                (
                    "db",
                    &format!("{I}.resources.limits.memory"),
                    "container \"init\" limits memory to 512Mi",
                ),
            ],
        );
        // Equal is fine, and so is an unparsable pair (input validation reports it).
        expect(
            &MEMORY_LIMITS,
            &statefulset("{requests: {memory: 1Gi}, limits: {memory: 1024Mi}}"),
            &[],
        );
        expect(
            &MEMORY_LIMITS,
            &statefulset("{requests: {memory: 1GB}, limits: {memory: 1Mi}}"),
            &[],
        );
    }

    #[test]
    fn cpu_limits_missing() {
        expect(
            &CPU_LIMITS,
            &statefulset("{requests: {cpu: 1}}"),
            &[
                (
                    "db",
                    &format!("{C}.resources.limits.cpu"),
                    "container \"db\" has no cpu limit",
                ),
                (
                    "db",
                    &format!("{I}.resources.limits.cpu"),
                    "container \"init\" has no cpu limit",
                ),
            ],
        );
    }

    #[test]
    fn ephemeral_storage_needs_request_and_limit() {
        expect(
            &EPHEMERAL_STORAGE,
            &statefulset("{requests: {ephemeral-storage: 1Gi}}"),
            &[
                (
                    "db",
                    &format!("{C}.resources.limits.ephemeral-storage"),
                    "container \"db\" has no ephemeral-storage limit",
                ),
                (
                    "db",
                    &format!("{I}.resources.limits.ephemeral-storage"),
                    "container \"init\" has no ephemeral-storage limit",
                ),
            ],
        );
    }

    #[test]
    fn pod_level_resources_cover_containers() {
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  resources: {requests: {cpu: 1}}\n  containers:\n  - name: a\n    image: x:1\n";
        expect(&CPU_REQUESTS, yaml, &[]);
        expect(
            &MEMORY_REQUESTS,
            yaml,
            &[(
                "p",
                "spec.containers[0].resources.requests.memory",
                "container \"a\"",
            )],
        );
    }
}
