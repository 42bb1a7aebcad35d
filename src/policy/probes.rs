//! Health probes (ids 26-28 of the check table).
//!
//! `liveness-probe` and `readiness-probe` apply to regular containers of long-running pods: init
//! containers finish before the pod is ready, and pods that run to completion (Jobs, CronJobs,
//! `restartPolicy: Never`/`OnFailure`) serve no traffic and are restarted by their controller, not
//! by a probe. `probe-port-valid` applies to every probe that is written, on any container: a probe
//! aimed at a port the container does not declare fails or checks the wrong process, and one
//! aimed at a UDP port always fails (probes connect over TCP). An
//! `httpGet` with its own `host` targets another machine, so its port is not checked.

use super::pod::{get_str, obj, ContainerKind, ContainerView, PodView};
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use serde_json::{Map, Value};

/// `liveness-probe` (#26).
pub const LIVENESS_PROBE: CheckDef = CheckDef {
    id: "liveness-probe",
    summary: "containers of long-running pods set a livenessProbe",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Gen,
    scope: Scope::Pod(liveness_probe),
};

/// `readiness-probe` (#27).
pub const READINESS_PROBE: CheckDef = CheckDef {
    id: "readiness-probe",
    summary:
        "containers of long-running pods set a readinessProbe that differs from the livenessProbe",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Gen,
    scope: Scope::Pod(readiness_probe),
};

/// `probe-port-valid` (#28).
pub const PROBE_PORT_VALID: CheckDef = CheckDef {
    id: "probe-port-valid",
    summary: "probe ports name or number a TCP containerPort of the same container (not a UDP one), in 1-65535",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Pod(probe_port_valid),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&LIVENESS_PROBE, &READINESS_PROBE, &PROBE_PORT_VALID];

/// Whether the pod runs to completion instead of serving.
fn runs_to_completion(pod: &PodView<'_>) -> bool {
    matches!(pod.object.kind(), "Job" | "CronJob")
        || matches!(
            get_str(pod.spec, "restartPolicy"),
            Some("Never" | "OnFailure")
        )
}

/// The regular containers of a long-running pod: the ones that need liveness and readiness.
fn serving<'a>(pod: &PodView<'a>) -> Vec<ContainerView<'a>> {
    if runs_to_completion(pod) {
        return Vec::new();
    }
    pod.containers()
        .iter()
        .copied()
        .filter(|c| c.kind == ContainerKind::Regular)
        .collect()
}

/// The probe `field` of a container, if set.
fn probe<'a>(c: &ContainerView<'a>, field: &str) -> Option<&'a Map<String, Value>> {
    obj(c.spec.get(field))
}

fn liveness_probe(pod: &PodView<'_>, out: &mut HitSink) {
    for c in serving(pod) {
        if probe(&c, "livenessProbe").is_none() {
            out.push(
                c.at("livenessProbe"),
                format!(
                    "container {:?} has no livenessProbe: a hung process is never restarted",
                    c.name()
                ),
            );
        }
    }
}

fn readiness_probe(pod: &PodView<'_>, out: &mut HitSink) {
    for c in serving(pod) {
        match probe(&c, "readinessProbe") {
            None => out.push(
                c.at("readinessProbe"),
                format!(
                    "container {:?} has no readinessProbe: it gets traffic before it is ready",
                    c.name()
                ),
            ),
            Some(r) if probe(&c, "livenessProbe") == Some(r) => out.push(
                c.at("readinessProbe"),
                format!(
                    "container {:?} uses the same probe for readiness and liveness: a slow dependency then restarts it instead of only taking it out of rotation; give readiness its own endpoint or thresholds",
                    c.name()
                ),
            ),
            Some(_) => {}
        }
    }
}

/// The probes a container can carry.
const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];
/// The probe handlers that target a port of the container.
const HANDLERS: [&str; 3] = ["httpGet", "tcpSocket", "grpc"];

fn probe_port_valid(pod: &PodView<'_>, out: &mut HitSink) {
    for c in pod.containers() {
        // (number, name, whether UDP): probes connect over TCP, which a UDP port does not serve.
        let ports: Vec<(Option<i64>, Option<&str>, bool)> = match c.spec.field("ports") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|p| {
                    (
                        p.field("containerPort").and_then(Value::as_i64),
                        p.field("name").and_then(Value::as_str),
                        p.field("protocol").and_then(Value::as_str) == Some("UDP"),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let tcp_number = |n: i64| ports.iter().any(|(p, _, udp)| *p == Some(n) && !udp);
        let udp_number = |n: i64| ports.iter().any(|(p, _, udp)| *p == Some(n) && *udp);
        // Worded only for a probe that misses: nearly every probe names a declared port.
        let declared = || {
            if ports.is_empty() {
                return "it declares none".to_string();
            }
            let list: Vec<String> = ports
                .iter()
                .map(|(n, name, _)| match (n, name) {
                    (Some(n), Some(name)) => format!("{n} ({name})"),
                    (Some(n), None) => n.to_string(),
                    (None, Some(name)) => format!("({name})"),
                    (None, None) => "?".into(),
                })
                .collect();
            format!("declared: {}", list.join(", "))
        };
        for field in PROBES {
            let Some(p) = probe(c, field) else { continue };
            for handler in HANDLERS {
                let Some(h) = obj(p.get(handler)) else {
                    continue;
                };
                if handler == "httpGet" && h.field("host").and_then(Value::as_str).is_some() {
                    continue;
                }
                // Declaring container ports is informational: a probe of an undeclared number
                // works (and upstream installs do it), a name that names no port cannot.
                let mut doubtful = false;
                let mut why = "";
                let problem = match h.field("port") {
                    Some(Value::Number(n)) => match n.as_i64() {
                        Some(n) if crate::validate::port(n).is_err() => {
                            why = ": a port number is 1-65535";
                            format!("targets port {n}, which is no port")
                        }
                        Some(n) if tcp_number(n) => continue,
                        // A process may serve TCP on an undeclared port of the same number.
                        Some(n) if udp_number(n) => {
                            doubtful = true;
                            why = ": probes connect over TCP; probe a TCP port";
                            format!("targets port {n}, which is only a UDP containerPort")
                        }
                        _ => {
                            doubtful = true;
                            format!("targets port {n}, which is not a containerPort")
                        }
                    },
                    Some(Value::String(name)) => {
                        match ports.iter().find(|(_, p, _)| *p == Some(name.as_str())) {
                            Some((_, _, false)) => continue,
                            Some((n, _, true)) => {
                                why = ": probes connect over TCP, so it always fails; probe a TCP port";
                                format!(
                                    "targets port {name:?}{}, which is a UDP containerPort",
                                    n.map(|n| format!(" ({n})")).unwrap_or_default()
                                )
                            }
                            None => format!("targets port {name:?}, which names no containerPort"),
                        }
                    }
                    _ => "has no port".to_string(),
                };
                let at = c.at(&format!("{field}.{handler}.port"));
                let message = format!(
                    "container {:?} {field} {problem} of the container ({}){why}",
                    c.name(),
                    declared()
                );
                if doubtful {
                    out.push_doubtful(at, message);
                } else {
                    out.push(at, message);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::expect_hits as expect;

    /// A Deployment `api` whose pod spec holds `pod` (indented six spaces).
    fn deployment(pod: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  template:\n    spec:\n{pod}"
        )
    }

    const C: &str = "spec.template.spec.containers";

    const PROBED: &str = "      containers:\n      - name: api\n        image: x:1\n        ports: [{name: http, containerPort: 8080}, {name: admin, containerPort: 9901}]\n        livenessProbe: {httpGet: {path: /livez, port: admin}}\n        readinessProbe: {httpGet: {path: /readyz, port: http}}\n        startupProbe: {tcpSocket: {port: 8080}}\n      initContainers:\n      - name: migrate\n        image: x:1\n";

    #[test]
    fn liveness_probe_missing_on_regular_containers_only() {
        let yaml = deployment(
            "      containers:\n      - name: api\n        image: x:1\n      initContainers:\n      - name: migrate\n        image: x:1\n",
        );
        expect(
            &LIVENESS_PROBE,
            &yaml,
            &[(
                "api",
                &format!("{C}[0].livenessProbe"),
                "container \"api\" has no livenessProbe",
            )],
        );
        expect(&LIVENESS_PROBE, &deployment(PROBED), &[]);
    }

    #[test]
    fn probes_are_not_required_of_pods_that_run_to_completion() {
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: x:1\n";
        expect(&LIVENESS_PROBE, job, &[]);
        expect(&READINESS_PROBE, job, &[]);
    }

    #[test]
    fn readiness_probe_missing_or_same_as_liveness() {
        let yaml = deployment(
            "      containers:\n      - name: api\n        image: x:1\n      - name: same\n        image: x:1\n        ports: [{name: http, containerPort: 8080}]\n        livenessProbe: {httpGet: {path: /healthz, port: http}}\n        readinessProbe: {httpGet: {path: /healthz, port: http}}\n",
        );
        expect(
            &READINESS_PROBE,
            &yaml,
            &[
                (
                    "api",
                    &format!("{C}[0].readinessProbe"),
                    "container \"api\" has no readinessProbe",
                ),
                (
                    "api",
                    &format!("{C}[1].readinessProbe"),
                    "container \"same\" uses the same probe for readiness and liveness",
                ),
            ],
        );
        expect(&READINESS_PROBE, &deployment(PROBED), &[]);
    }

    #[test]
    fn probe_port_valid_rejects_undeclared_names_and_numbers() {
        let yaml = deployment(
            "      containers:\n      - name: api\n        image: x:1\n        ports: [{name: http, containerPort: 8080}]\n        livenessProbe: {httpGet: {path: /livez, port: healthz}}\n        readinessProbe: {tcpSocket: {port: 9090}}\n        startupProbe: {grpc: {port: 8080}}\n      - name: bare\n        image: x:1\n        readinessProbe: {httpGet: {path: /, port: 80}}\n",
        );
        expect(
            &PROBE_PORT_VALID,
            &yaml,
            &[
                (
                    "api",
                    &format!("{C}[0].livenessProbe.httpGet.port"),
                    "container \"api\" livenessProbe targets port \"healthz\", which names no containerPort of the container (declared: 8080 (http))",
                ),
                (
                    "api",
                    &format!("{C}[0].readinessProbe.tcpSocket.port"),
                    "readinessProbe targets port 9090, which is not a containerPort",
                ),
                (
                    "api",
                    &format!("{C}[1].readinessProbe.httpGet.port"),
                    "container \"bare\" readinessProbe targets port 80, which is not a containerPort of the container (it declares none)",
                ),
            ],
        );
    }

    #[test]
    fn probe_port_valid_rejects_udp_and_out_of_range_ports() {
        let yaml = deployment(
            "      containers:\n      - name: dns\n        image: x:1\n        ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: metrics, containerPort: 9153}]\n        livenessProbe: {tcpSocket: {port: dns}}\n        readinessProbe: {httpGet: {path: /, port: 70000}}\n        startupProbe: {tcpSocket: {port: 53}}\n      - name: both\n        image: x:1\n        ports: [{containerPort: 53, protocol: UDP}, {containerPort: 53, protocol: TCP}]\n        livenessProbe: {tcpSocket: {port: 53}}\n",
        );
        expect(
            &PROBE_PORT_VALID,
            &yaml,
            &[
                (
                    "api",
                    &format!("{C}[0].livenessProbe.tcpSocket.port"),
                    "container \"dns\" livenessProbe targets port \"dns\" (53), which is a UDP containerPort of the container (declared: 53 (dns), 9153 (metrics)): probes connect over TCP, so it always fails",
                ),
                (
                    "api",
                    &format!("{C}[0].readinessProbe.httpGet.port"),
                    "targets port 70000, which is no port of the container (declared: 53 (dns), 9153 (metrics)): a port number is 1-65535",
                ),
                (
                    "api",
                    &format!("{C}[0].startupProbe.tcpSocket.port"),
                    "targets port 53, which is only a UDP containerPort",
                ),
            ],
        );
        let hits = crate::policy::hits_of(&PROBE_PORT_VALID, &yaml);
        assert_eq!(
            hits.len(),
            3,
            "the TCP port 53 of \"both\" is a valid target"
        );
    }

    #[test]
    fn probe_port_valid_accepts_declared_ports_and_other_hosts() {
        expect(&PROBE_PORT_VALID, &deployment(PROBED), &[]);
        let other_host = deployment(
            "      containers:\n      - name: api\n        image: x:1\n        livenessProbe: {httpGet: {host: 10.0.0.1, path: /, port: 80}}\n        readinessProbe: {exec: {command: [\"true\"]}}\n",
        );
        expect(&PROBE_PORT_VALID, &other_host, &[]);
    }
}
