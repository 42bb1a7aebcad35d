//! The Pod Security Standards checks (baseline and restricted), ids 1-15 of the check table.
//! Container fields are checked on regular, init and ephemeral containers alike, as the standard
//! says; Windows pods are exempt from the Linux-only restricted controls.

use super::pod::{get, get_bool, get_str, obj, strings, PodView};
use super::{CheckDef, Fix, HitSink, Pss, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use serde_json::Value;

macro_rules! pss {
    ($name:ident, $id:literal, $pss:ident, $fix:ident, $f:ident, $summary:literal) => {
        pub const $name: CheckDef = CheckDef {
            id: $id,
            summary: $summary,
            pss: Some(Pss::$pss),
            severity: Severity::Error,
            fix: Fix::$fix,
            scope: Scope::Pod($f),
        };
    };
}

pss!(
    HOST_NAMESPACES,
    "host-namespaces",
    Baseline,
    Opt,
    host_namespaces,
    "pods do not share the host's network, PID or IPC namespace"
);
pss!(
    PRIVILEGED_CONTAINER,
    "privileged-container",
    Baseline,
    Opt,
    privileged_container,
    "containers are not privileged"
);
pss!(
    HOST_PROCESS,
    "host-process",
    Baseline,
    No,
    host_process,
    "no Windows HostProcess containers"
);
pss!(
    CAPABILITIES_BASELINE,
    "capabilities-baseline",
    Baseline,
    Opt,
    capabilities_baseline,
    "containers add only capabilities of the baseline list"
);
pss!(
    HOST_PATH_VOLUME,
    "host-path-volume",
    Baseline,
    No,
    host_path_volume,
    "no hostPath volumes"
);
pss!(
    HOST_PORT,
    "host-port",
    Baseline,
    Opt,
    host_port,
    "containers bind no host ports"
);
pss!(
    APPARMOR_PROFILE,
    "apparmor-profile",
    Baseline,
    No,
    apparmor_profile,
    "AppArmor is not disabled (Unconfined)"
);
pss!(
    SELINUX_OPTIONS,
    "selinux-options",
    Baseline,
    No,
    selinux_options,
    "SELinux type is a container type; user and role unset"
);
pss!(
    PROC_MOUNT,
    "proc-mount",
    Baseline,
    Opt,
    proc_mount,
    "containers use the default /proc mount"
);
pss!(
    SECCOMP_PROFILE,
    "seccomp-profile",
    Baseline,
    Yes,
    seccomp_profile,
    "seccomp is never Unconfined; restricted: RuntimeDefault or Localhost is set"
);
pss!(
    UNSAFE_SYSCTLS,
    "unsafe-sysctls",
    Baseline,
    No,
    unsafe_sysctls,
    "only namespaced, safe sysctls"
);
pss!(
    RESTRICTED_VOLUME_TYPES,
    "restricted-volume-types",
    Restricted,
    No,
    restricted_volume_types,
    "volumes are of the types the restricted profile allows"
);
pss!(
    ALLOW_PRIVILEGE_ESCALATION,
    "allow-privilege-escalation",
    Restricted,
    Yes,
    allow_privilege_escalation,
    "containers set allowPrivilegeEscalation: false"
);
pss!(
    RUN_AS_NON_ROOT,
    "run-as-non-root",
    Restricted,
    Yes,
    run_as_non_root,
    "pods run as non-root (runAsNonRoot: true, no runAsUser: 0)"
);
pss!(
    DROP_ALL_CAPABILITIES,
    "drop-all-capabilities",
    Restricted,
    Yes,
    drop_all_capabilities,
    "containers drop ALL capabilities and add at most NET_BIND_SERVICE"
);

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[
    &HOST_NAMESPACES,
    &PRIVILEGED_CONTAINER,
    &HOST_PROCESS,
    &CAPABILITIES_BASELINE,
    &HOST_PATH_VOLUME,
    &HOST_PORT,
    &APPARMOR_PROFILE,
    &SELINUX_OPTIONS,
    &PROC_MOUNT,
    &SECCOMP_PROFILE,
    &UNSAFE_SYSCTLS,
    &RESTRICTED_VOLUME_TYPES,
    &ALLOW_PRIVILEGE_ESCALATION,
    &RUN_AS_NON_ROOT,
    &DROP_ALL_CAPABILITIES,
];

fn host_namespaces(pod: &PodView<'_>, out: &mut HitSink) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if get_bool(pod.spec, field) == Some(true) {
            out.push(
                pod.at(field),
                format!("{field}: true shares the node's namespace with the pod"),
            );
        }
    }
}

fn privileged_container(pod: &PodView<'_>, out: &mut HitSink) {
    for c in pod.containers() {
        if c.security()
            .and_then(|s| s.field("privileged"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            out.push(
                c.at("securityContext.privileged"),
                format!("container {:?} is privileged", c.name()),
            );
        }
    }
}

fn host_process(pod: &PodView<'_>, out: &mut HitSink) {
    if pod
        .security()
        .and_then(|s| get_bool(s, "windowsOptions.hostProcess"))
        == Some(true)
    {
        out.push(
            pod.at("securityContext.windowsOptions.hostProcess"),
            "the pod runs as a Windows HostProcess",
        );
    }
    for c in pod.containers() {
        if c.security()
            .and_then(|s| get_bool(s, "windowsOptions.hostProcess"))
            == Some(true)
        {
            out.push(
                c.at("securityContext.windowsOptions.hostProcess"),
                format!("container {:?} runs as a Windows HostProcess", c.name()),
            );
        }
    }
}

/// Capabilities the baseline profile allows to be added (also the Kyverno presets' list).
pub(crate) const BASELINE_CAPS: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capabilities_baseline(pod: &PodView<'_>, out: &mut HitSink) {
    for c in pod.containers() {
        let added = strings(c.security().and_then(|s| get(s, "capabilities.add")));
        for (i, cap) in added {
            let name = cap.trim_start_matches("CAP_");
            if !BASELINE_CAPS.contains(&name) {
                out.push(
                    c.at(&format!("securityContext.capabilities.add[{i}]")),
                    format!(
                        "container {:?} adds capability {cap}, which the baseline profile forbids",
                        c.name()
                    ),
                );
            }
        }
    }
}

/// Host paths that hand over the node: container runtime sockets and system directories.
const SENSITIVE_HOST_PATHS: [&str; 12] = [
    "/",
    "/etc",
    "/proc",
    "/sys",
    "/boot",
    "/dev",
    "/root",
    "/var/lib/kubelet",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/var/lib/docker",
];

fn host_path_volume(pod: &PodView<'_>, out: &mut HitSink) {
    let Some(Value::Array(volumes)) = pod.spec.field("volumes") else {
        return;
    };
    for (i, v) in volumes.iter().enumerate() {
        let Some(path) = v
            .field("hostPath")
            .and_then(|h| h.field("path"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let name = v.field("name").and_then(Value::as_str).unwrap_or("");
        let trimmed = path.trim_end_matches('/');
        let sensitive =
            SENSITIVE_HOST_PATHS.contains(&if trimmed.is_empty() { "/" } else { trimmed })
                || trimmed.ends_with(".sock");
        let what = if sensitive {
            " (a container runtime socket or system directory: this gives away the node)"
        } else {
            ""
        };
        out.push(
            pod.at(&format!("volumes[{i}].hostPath")),
            format!("volume {name:?} mounts host path {path}{what}"),
        );
    }
}

/// The host ports the containers of `pod` bind, as `(field path, container name, port)`
/// (`hostPort: 0` binds none).
pub(super) fn host_ports<'a>(pod: &PodView<'a>) -> Vec<(String, &'a str, i64)> {
    let mut out = Vec::new();
    for c in pod.containers() {
        let Some(Value::Array(ports)) = c.spec.field("ports") else {
            continue;
        };
        for (i, p) in ports.iter().enumerate() {
            if let Some(hp) = p
                .field("hostPort")
                .and_then(Value::as_i64)
                .filter(|hp| *hp != 0)
            {
                let name = c.spec.field("name").and_then(Value::as_str).unwrap_or("");
                out.push((c.at(&format!("ports[{i}].hostPort")), name, hp));
            }
        }
    }
    out
}

fn host_port(pod: &PodView<'_>, out: &mut HitSink) {
    for (field, container, hp) in host_ports(pod) {
        out.push(
            field,
            format!("container {container:?} binds host port {hp}"),
        );
    }
}

fn apparmor_profile(pod: &PodView<'_>, out: &mut HitSink) {
    let bad = |s: Option<&str>| s.is_some_and(|t| !matches!(t, "RuntimeDefault" | "Localhost"));
    if bad(pod
        .security()
        .and_then(|s| get_str(s, "appArmorProfile.type")))
    {
        out.push(
            pod.at("securityContext.appArmorProfile.type"),
            "the pod's AppArmor profile is Unconfined",
        );
    }
    for c in pod.containers() {
        if bad(c
            .security()
            .and_then(|s| get_str(s, "appArmorProfile.type")))
        {
            out.push(
                c.at("securityContext.appArmorProfile.type"),
                format!("container {:?} runs with AppArmor Unconfined", c.name()),
            );
        }
    }
    let annotations = pod.metadata.and_then(|m| obj(m.field("annotations")));
    for (k, v) in annotations.into_iter().flatten() {
        if !k.starts_with("container.apparmor.security.beta.kubernetes.io/") {
            continue;
        }
        let v = v.as_str().unwrap_or("");
        if v != "runtime/default" && !v.starts_with("localhost/") {
            let meta = pod
                .path
                .strip_suffix(".spec")
                .map(|p| format!("{p}.metadata"))
                .unwrap_or("metadata".into());
            out.push(
                format!("{meta}.annotations.{k}"),
                format!("AppArmor annotation sets {v:?}"),
            );
        }
    }
}

/// SELinux types the baseline profile allows besides none (also the Kyverno presets' list).
pub(crate) const SELINUX_TYPES: [&str; 4] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn selinux_options(pod: &PodView<'_>, out: &mut HitSink) {
    let mut check =
        |sec: Option<&serde_json::Map<String, Value>>, at: &dyn Fn(&str) -> String, who: &str| {
            let Some(opts) = sec.and_then(|s| obj(s.field("seLinuxOptions"))) else {
                return;
            };
            if let Some(t) = opts.field("type").and_then(Value::as_str) {
                if !t.is_empty() && !SELINUX_TYPES.contains(&t) {
                    out.push(
                        at("securityContext.seLinuxOptions.type"),
                        format!("{who} uses SELinux type {t:?}"),
                    );
                }
            }
            for f in ["user", "role"] {
                if opts
                    .get(f)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
                {
                    out.push(
                        at(&format!("securityContext.seLinuxOptions.{f}")),
                        format!("{who} sets an SELinux {f}"),
                    );
                }
            }
        };
    check(pod.security(), &|r| pod.at(r), "the pod");
    for c in pod.containers() {
        check(
            c.security(),
            &|r| c.at(r),
            &format!("container {:?}", c.name()),
        );
    }
}

fn proc_mount(pod: &PodView<'_>, out: &mut HitSink) {
    for c in pod.containers() {
        if let Some(m) = c
            .security()
            .and_then(|s| s.field("procMount"))
            .and_then(Value::as_str)
        {
            if m != "Default" {
                out.push(
                    c.at("securityContext.procMount"),
                    format!("container {:?} uses procMount {m}", c.name()),
                );
            }
        }
    }
}

fn seccomp_profile(pod: &PodView<'_>, out: &mut HitSink) {
    fn kind(sec: Option<&serde_json::Map<String, Value>>) -> Option<&str> {
        sec.and_then(|s| get_str(s, "seccompProfile.type"))
    }
    let pod_type = kind(pod.security());
    if pod_type == Some("Unconfined") {
        out.push(
            pod.at("securityContext.seccompProfile.type"),
            "the pod's seccomp profile is Unconfined",
        );
    }
    let pod_ok = matches!(pod_type, Some("RuntimeDefault" | "Localhost"));
    for c in pod.containers() {
        match kind(c.security()) {
            Some("Unconfined") => out.push(
                c.at("securityContext.seccompProfile.type"),
                format!("container {:?} runs with seccomp Unconfined", c.name()),
            ),
            None if !pod_ok && !pod.is_windows() => out.push_restricted(
                c.at("securityContext.seccompProfile.type"),
                format!(
                    "container {:?} has no seccomp profile: set RuntimeDefault on the pod (spec.securityContext.seccompProfile.type)",
                    c.name()
                ),
            ),
            _ => {}
        }
    }
}

/// Sysctls the baseline profile allows (namespaced and isolated).
pub(crate) const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

fn unsafe_sysctls(pod: &PodView<'_>, out: &mut HitSink) {
    let Some(Value::Array(list)) = pod.security().and_then(|s| s.field("sysctls")) else {
        return;
    };
    for (i, s) in list.iter().enumerate() {
        let name = s.field("name").and_then(Value::as_str).unwrap_or("");
        if !SAFE_SYSCTLS.contains(&name) {
            out.push(
                pod.at(&format!("securityContext.sysctls[{i}].name")),
                format!("sysctl {name:?} is not in the safe set"),
            );
        }
    }
}

/// Volume types the restricted profile allows (also the Kyverno presets' list).
pub(crate) const RESTRICTED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn restricted_volume_types(pod: &PodView<'_>, out: &mut HitSink) {
    let Some(Value::Array(volumes)) = pod.spec.field("volumes") else {
        return;
    };
    for (i, v) in volumes.iter().enumerate() {
        let Some(v) = v.as_object() else { continue };
        for key in v.keys().filter(|k| k.as_str() != "name") {
            if !RESTRICTED_VOLUMES.contains(&key.as_str()) {
                let name = v.field("name").and_then(Value::as_str).unwrap_or("");
                out.push(
                    pod.at(&format!("volumes[{i}].{key}")),
                    format!(
                        "volume {name:?} is of type {key}, which the restricted profile forbids"
                    ),
                );
            }
        }
    }
}

fn allow_privilege_escalation(pod: &PodView<'_>, out: &mut HitSink) {
    if pod.is_windows() {
        return;
    }
    for c in pod.containers() {
        if c.security()
            .and_then(|s| s.field("allowPrivilegeEscalation"))
            .and_then(Value::as_bool)
            != Some(false)
        {
            out.push(
                c.at("securityContext.allowPrivilegeEscalation"),
                format!(
                    "container {:?} must set allowPrivilegeEscalation: false",
                    c.name()
                ),
            );
        }
    }
}

fn run_as_non_root(pod: &PodView<'_>, out: &mut HitSink) {
    let pod_sec = pod.security();
    let pod_non_root = pod_sec
        .and_then(|s| s.field("runAsNonRoot"))
        .and_then(Value::as_bool);
    if pod_non_root == Some(false) {
        out.push(
            pod.at("securityContext.runAsNonRoot"),
            "the pod sets runAsNonRoot: false",
        );
    }
    if pod_sec
        .and_then(|s| s.field("runAsUser"))
        .and_then(Value::as_i64)
        == Some(0)
    {
        out.push(
            pod.at("securityContext.runAsUser"),
            "the pod runs as user 0 (root)",
        );
    }
    for c in pod.containers() {
        let sec = c.security();
        match sec.and_then(|s| s.field("runAsNonRoot")).and_then(Value::as_bool) {
            Some(false) => out.push(c.at("securityContext.runAsNonRoot"), format!("container {:?} sets runAsNonRoot: false", c.name())),
            None if pod_non_root != Some(true) => out.push(
                c.at("securityContext.runAsNonRoot"),
                format!("container {:?} may run as root: set runAsNonRoot: true on the pod or the container", c.name()),
            ),
            _ => {}
        }
        if sec
            .and_then(|s| s.field("runAsUser"))
            .and_then(Value::as_i64)
            == Some(0)
        {
            out.push(
                c.at("securityContext.runAsUser"),
                format!("container {:?} runs as user 0 (root)", c.name()),
            );
        }
    }
}

fn drop_all_capabilities(pod: &PodView<'_>, out: &mut HitSink) {
    if pod.is_windows() {
        return;
    }
    for c in pod.containers() {
        let caps = c.security().and_then(|s| s.field("capabilities"));
        let dropped = strings(caps.and_then(|c| c.field("drop")));
        if !dropped.iter().any(|(_, d)| *d == "ALL") {
            out.push(
                c.at("securityContext.capabilities.drop"),
                format!("container {:?} must drop ALL capabilities", c.name()),
            );
        }
        for (i, cap) in strings(caps.and_then(|c| c.field("add"))) {
            if cap.trim_start_matches("CAP_") != "NET_BIND_SERVICE" {
                out.push(
                    c.at(&format!("securityContext.capabilities.add[{i}]")),
                    format!("container {:?} adds {cap}: the restricted profile allows only NET_BIND_SERVICE", c.name()),
                );
            }
        }
    }
}
