//! The rules of `PolicyBundle`'s presets, each written twice from one entry: as the Kyverno
//! rule Kyverno publishes (kyverno/policies `pod-security/` and `best-practices/`: the same
//! names, patterns and messages) and as the CEL that implements it for a
//! ValidatingAdmissionPolicy (after kyverno/policies `pod-security-cel/` and
//! `best-practices-cel/`, written with `has()` and reading the pod spec of Pods and of the pod
//! controllers alike, since the API server has no Kyverno autogen). Each rule also names the
//! built-in checks (`src/policy/`) that mean the same thing, so that their findings can say
//! what admission will do.

use crate::policy::pod_security::{BASELINE_CAPS, RESTRICTED_VOLUMES, SAFE_SYSCTLS, SELINUX_TYPES};
use serde_json::{json, Value};

/// The parameters of a bundle.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pub allowed_registries: Vec<String>,
    pub required_labels: Vec<String>,
}

/// One Kyverno rule of a preset policy.
pub struct PresetRule {
    /// The rule's name in the ClusterPolicy (Kyverno's own).
    pub name: &'static str,
    /// The built-in checks that find what this rule refuses.
    pub checks: &'static [&'static str],
    /// The message of a violation.
    pub message: fn(&Params) -> String,
    /// The Kyverno `validate` body, without message and failure action.
    pub kyverno: fn(&Params) -> Value,
    /// CEL expressions (over `object` and the `variables` of [`VARIABLES`]) that are all true
    /// exactly when the rule is met.
    pub cel: fn(&Params) -> Vec<String>,
}

/// A preset policy: one ClusterPolicy, or one ValidatingAdmissionPolicy and its binding.
pub struct PresetPolicy {
    /// The policy's name, Kyverno's own (prefixed with the bundle's name when emitted).
    pub name: &'static str,
    /// `policies.kyverno.io/title`.
    pub title: &'static str,
    /// `policies.kyverno.io/category`.
    pub category: &'static str,
    pub rules: &'static [PresetRule],
}

/// Kinds an admission policy matches: Pods and the pod controllers, whose pod templates it
/// reads (the API server has no Kyverno autogen); a ClusterPolicy matches Pods and Kyverno
/// extends its rules to the controllers.
pub const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "apps/v1/Deployment",
    "apps/v1/StatefulSet",
    "apps/v1/DaemonSet",
    "apps/v1/ReplicaSet",
    "batch/v1/Job",
    "batch/v1/CronJob",
];

/// The variables every admission policy of a pod rule defines: the pod spec of a Pod or of a
/// controller's template, and all of its containers.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "podSpec",
        "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
    ),
    (
        "containers",
        "variables.podSpec.containers + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])",
    ),
];

/// `true` when container `c` sets `securityContext.<field>`.
fn sets(field: &str) -> String {
    format!("has(c.securityContext) && has(c.securityContext.{field})")
}

fn quoted(items: &[impl AsRef<str>]) -> String {
    items
        .iter()
        .map(|s| format!("'{}'", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A pattern over every container list of a pod spec (`containers` required, the others
/// optional), each container matching `container`.
fn all_containers(container: Value) -> Value {
    json!({"spec": {
        "=(ephemeralContainers)": [container.clone()],
        "=(initContainers)": [container.clone()],
        "containers": [container],
    }})
}

pub static HOST_NAMESPACES: PresetPolicy = PresetPolicy {
    name: "disallow-host-namespaces",
    title: "Disallow Host Namespaces",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "host-namespaces",
        checks: &["host-namespaces"],
        message: |_| {
            "Sharing the host namespaces is disallowed. The fields spec.hostNetwork, spec.hostIPC, and spec.hostPID must be unset or set to `false`.".into()
        },
        kyverno: |_| {
            json!({"pattern": {"spec": {
            "=(hostPID)": "false", "=(hostIPC)": "false", "=(hostNetwork)": "false"}}})
        },
        cel: |_| {
            vec![["hostNetwork", "hostIPC", "hostPID"]
                .iter()
                .map(|f| format!("!(has(variables.podSpec.{f}) && variables.podSpec.{f})"))
                .collect::<Vec<_>>()
                .join(" && ")]
        },
    }],
};

pub static PRIVILEGED: PresetPolicy = PresetPolicy {
    name: "disallow-privileged-containers",
    title: "Disallow Privileged Containers",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "privileged-containers",
        checks: &["privileged-container"],
        message: |_| {
            "Privileged mode is disallowed. The fields spec.containers[*].securityContext.privileged, spec.initContainers[*].securityContext.privileged, and spec.ephemeralContainers[*].securityContext.privileged must be unset or set to `false`.".into()
        },
        kyverno: |_| json!({"pattern": all_containers(json!({"=(securityContext)": {"=(privileged)": "false"}}))}),
        cel: |_| {
            vec![format!(
                "variables.containers.all(c, !({} && c.securityContext.privileged))",
                sets("privileged")
            )]
        },
    }],
};

pub static CAPABILITIES: PresetPolicy = PresetPolicy {
    name: "disallow-capabilities",
    title: "Disallow Capabilities",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "adding-capabilities",
        checks: &["capabilities-baseline"],
        message: |_| {
            "Any capabilities added beyond the allowed list (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT) are disallowed.".into()
        },
        kyverno: |_| {
            json!({"deny": {"conditions": {"all": [{
                "key": "{{ request.object.spec.[ephemeralContainers, initContainers, containers][].securityContext.capabilities.add[] }}",
                "operator": "AnyNotIn",
                "value": BASELINE_CAPS,
            }]}}})
        },
        cel: |_| {
            vec![format!(
            "variables.containers.all(c, !({} && has(c.securityContext.capabilities.add)) || c.securityContext.capabilities.add.all(cap, cap in [{}]))",
            sets("capabilities"),
            quoted(&BASELINE_CAPS)
        )]
        },
    }],
};

pub static HOST_PATH: PresetPolicy = PresetPolicy {
    name: "disallow-host-path",
    title: "Disallow hostPath",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "host-path",
        checks: &["host-path-volume"],
        message: |_| {
            "HostPath volumes are forbidden. The field spec.volumes[*].hostPath must be unset."
                .into()
        },
        kyverno: |_| json!({"pattern": {"spec": {"=(volumes)": [{"X(hostPath)": "null"}]}}}),
        cel: |_| {
            vec!["!has(variables.podSpec.volumes) || variables.podSpec.volumes.all(v, !has(v.hostPath))".into()]
        },
    }],
};

pub static HOST_PORTS: PresetPolicy = PresetPolicy {
    name: "disallow-host-ports",
    title: "Disallow hostPorts",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "host-ports-none",
        checks: &["host-port"],
        message: |_| {
            "Use of host ports is disallowed. The fields spec.containers[*].ports[*].hostPort, spec.initContainers[*].ports[*].hostPort, and spec.ephemeralContainers[*].ports[*].hostPort must either be unset or set to `0`.".into()
        },
        kyverno: |_| json!({"pattern": all_containers(json!({"=(ports)": [{"=(hostPort)": 0}]}))}),
        cel: |_| {
            vec!["variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))".into()]
        },
    }],
};

pub static PROC_MOUNT: PresetPolicy = PresetPolicy {
    name: "disallow-proc-mount",
    title: "Disallow procMount",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "check-proc-mount",
        checks: &["proc-mount"],
        message: |_| {
            "Changing the proc mount from the default is not allowed. The fields spec.containers[*].securityContext.procMount, spec.initContainers[*].securityContext.procMount, and spec.ephemeralContainers[*].securityContext.procMount must be unset or set to `Default`.".into()
        },
        kyverno: |_| json!({"pattern": all_containers(json!({"=(securityContext)": {"=(procMount)": "Default"}}))}),
        cel: |_| {
            vec![format!(
                "variables.containers.all(c, !({}) || c.securityContext.procMount == 'Default')",
                sets("procMount")
            )]
        },
    }],
};

/// The pod's `securityContext.<path>` is set (each element of `path` checked in turn).
fn pod_sets(path: &str) -> String {
    let mut at = "variables.podSpec".to_string();
    let mut parts = vec![];
    for step in std::iter::once("securityContext").chain(path.split('.')) {
        at = format!("{at}.{step}");
        parts.push(format!("has({at})"));
    }
    parts.join(" && ")
}

/// Container `c`'s `securityContext.<path>` is set.
fn container_sets(path: &str) -> String {
    let mut at = "c.securityContext".to_string();
    let mut parts = vec!["has(c.securityContext)".to_string()];
    for step in path.split('.') {
        at = format!("{at}.{step}");
        parts.push(format!("has({at})"));
    }
    parts.join(" && ")
}

pub static HOST_PROCESS: PresetPolicy = PresetPolicy {
    name: "disallow-host-process",
    title: "Disallow hostProcess",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "host-process-containers",
        checks: &["host-process"],
        message: |_| {
            "HostProcess containers are disallowed. The field spec.securityContext.windowsOptions.hostProcess, spec.containers[*].securityContext.windowsOptions.hostProcess, spec.initContainers[*].securityContext.windowsOptions.hostProcess, and spec.ephemeralContainers[*].securityContext.windowsOptions.hostProcess must either be undefined or set to `false`.".into()
        },
        kyverno: |_| {
            let mut pattern = all_containers(
                json!({"=(securityContext)": {"=(windowsOptions)": {"=(hostProcess)": "false"}}}),
            );
            pattern["spec"]["=(securityContext)"] =
                json!({"=(windowsOptions)": {"=(hostProcess)": "false"}});
            json!({"pattern": pattern})
        },
        cel: |_| {
            vec![[
                format!(
                    "!({}) || variables.podSpec.securityContext.windowsOptions.hostProcess == false",
                    pod_sets("windowsOptions.hostProcess")
                ),
                format!(
                    "variables.containers.all(c, !({}) || c.securityContext.windowsOptions.hostProcess == false)",
                    container_sets("windowsOptions.hostProcess")
                ),
            ]
            .map(|e| format!("({e})"))
            .join(" && ")]
        },
    }],
};

pub static APPARMOR: PresetPolicy = PresetPolicy {
    name: "restrict-apparmor-profiles",
    title: "Restrict AppArmor",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "app-armor",
        checks: &["apparmor-profile"],
        message: |_| {
            "Specifying other AppArmor profiles is disallowed. The fields spec.securityContext.appArmorProfile.type, spec.containers[*].securityContext.appArmorProfile.type, spec.initContainers[*].securityContext.appArmorProfile.type, and spec.ephemeralContainers[*].securityContext.appArmorProfile.type must either be unset or set to `RuntimeDefault` or `Localhost`.".into()
        },
        kyverno: |_| {
            let allowed = "RuntimeDefault | Localhost";
            let mut pattern = all_containers(
                json!({"=(securityContext)": {"=(appArmorProfile)": {"=(type)": allowed}}}),
            );
            pattern["spec"]["=(securityContext)"] =
                json!({"=(appArmorProfile)": {"=(type)": allowed}});
            json!({"pattern": pattern})
        },
        cel: |_| {
            vec![[
                format!(
                    "!({}) || variables.podSpec.securityContext.appArmorProfile.type in ['RuntimeDefault', 'Localhost']",
                    pod_sets("appArmorProfile.type")
                ),
                format!(
                    "variables.containers.all(c, !({}) || c.securityContext.appArmorProfile.type in ['RuntimeDefault', 'Localhost'])",
                    container_sets("appArmorProfile.type")
                ),
            ]
            .map(|e| format!("({e})"))
            .join(" && ")]
        },
    }],
};

pub static SELINUX: PresetPolicy = PresetPolicy {
    name: "disallow-selinux",
    title: "Disallow SELinux",
    category: "Pod Security Standards (Baseline)",
    rules: &[
        PresetRule {
            name: "selinux-type",
            checks: &["selinux-options"],
            message: |_| {
                "Setting the SELinux type is restricted. The fields spec.securityContext.seLinuxOptions.type, spec.containers[*].securityContext.seLinuxOptions.type, spec.initContainers[*].securityContext.seLinuxOptions, and spec.ephemeralContainers[*].securityContext.seLinuxOptions.type must either be unset or set to one of the allowed values (container_t, container_init_t, container_kvm_t, or container_engine_t).".into()
            },
            kyverno: |_| {
                let allowed = SELINUX_TYPES.join(" | ");
                let mut pattern = all_containers(
                    json!({"=(securityContext)": {"=(seLinuxOptions)": {"=(type)": allowed}}}),
                );
                pattern["spec"]["=(securityContext)"] =
                    json!({"=(seLinuxOptions)": {"=(type)": allowed}});
                json!({"pattern": pattern})
            },
            cel: |_| {
                let allowed = quoted(&SELINUX_TYPES);
                vec![[
                    format!(
                        "!({}) || variables.podSpec.securityContext.seLinuxOptions.type in [{allowed}]",
                        pod_sets("seLinuxOptions.type")
                    ),
                    format!(
                        "variables.containers.all(c, !({}) || c.securityContext.seLinuxOptions.type in [{allowed}])",
                        container_sets("seLinuxOptions.type")
                    ),
                ]
                .map(|e| format!("({e})"))
                .join(" && ")]
            },
        },
        PresetRule {
            name: "selinux-user-role",
            checks: &["selinux-options"],
            message: |_| {
                "Setting the SELinux user or role is forbidden. The fields spec.securityContext.seLinuxOptions.user, spec.securityContext.seLinuxOptions.role, spec.containers[*].securityContext.seLinuxOptions.user, spec.containers[*].securityContext.seLinuxOptions.role, spec.initContainers[*].securityContext.seLinuxOptions.user, spec.initContainers[*].securityContext.seLinuxOptions.role, spec.ephemeralContainers[*].securityContext.seLinuxOptions.user, and spec.ephemeralContainers[*].securityContext.seLinuxOptions.role must be unset.".into()
            },
            kyverno: |_| {
                let unset = json!({"=(seLinuxOptions)": {"X(user)": "null", "X(role)": "null"}});
                let mut pattern = all_containers(json!({"=(securityContext)": unset.clone()}));
                pattern["spec"]["=(securityContext)"] = unset;
                json!({"pattern": pattern})
            },
            cel: |_| {
                vec![[
                    format!(
                        "!({}) || !(has(variables.podSpec.securityContext.seLinuxOptions.user) || has(variables.podSpec.securityContext.seLinuxOptions.role))",
                        pod_sets("seLinuxOptions")
                    ),
                    format!(
                        "variables.containers.all(c, !({}) || !(has(c.securityContext.seLinuxOptions.user) || has(c.securityContext.seLinuxOptions.role)))",
                        container_sets("seLinuxOptions")
                    ),
                ]
                .map(|e| format!("({e})"))
                .join(" && ")]
            },
        },
    ],
};

pub static SYSCTLS: PresetPolicy = PresetPolicy {
    name: "restrict-sysctls",
    title: "Restrict sysctls",
    category: "Pod Security Standards (Baseline)",
    rules: &[PresetRule {
        name: "check-sysctls",
        checks: &["unsafe-sysctls"],
        message: |_| {
            format!(
                "Setting additional sysctls above the allowed type is disallowed. The field spec.securityContext.sysctls must be unset or not use any other names than {}.",
                SAFE_SYSCTLS.join(", ")
            )
        },
        kyverno: |_| {
            json!({"pattern": {"spec": {"=(securityContext)": {"=(sysctls)": [
                {"=(name)": SAFE_SYSCTLS.join(" | ")}
            ]}}}})
        },
        cel: |_| {
            vec![format!(
                "!({}) || variables.podSpec.securityContext.sysctls.all(s, s.name in [{}])",
                pod_sets("sysctls"),
                quoted(&SAFE_SYSCTLS)
            )]
        },
    }],
};

pub static PRIVILEGE_ESCALATION: PresetPolicy = PresetPolicy {
    name: "disallow-privilege-escalation",
    title: "Disallow Privilege Escalation",
    category: "Pod Security Standards (Restricted)",
    rules: &[PresetRule {
        name: "privilege-escalation",
        checks: &["allow-privilege-escalation"],
        message: |_| {
            "Privilege escalation is disallowed. The fields spec.containers[*].securityContext.allowPrivilegeEscalation, spec.initContainers[*].securityContext.allowPrivilegeEscalation, and spec.ephemeralContainers[*].securityContext.allowPrivilegeEscalation must be set to `false`.".into()
        },
        kyverno: |_| json!({"pattern": all_containers(json!({"securityContext": {"allowPrivilegeEscalation": "false"}}))}),
        cel: |_| {
            vec![format!("variables.containers.all(c, {} && c.securityContext.allowPrivilegeEscalation == false)", sets("allowPrivilegeEscalation"))]
        },
    }],
};

pub static RUN_AS_NON_ROOT: PresetPolicy = PresetPolicy {
    name: "require-run-as-nonroot",
    title: "Require runAsNonRoot",
    category: "Pod Security Standards (Restricted)",
    rules: &[PresetRule {
        name: "run-as-non-root",
        checks: &["run-as-non-root"],
        message: |_| {
            "Running as root is not allowed. Either the field spec.securityContext.runAsNonRoot must be set to `true`, or the fields spec.containers[*].securityContext.runAsNonRoot, spec.initContainers[*].securityContext.runAsNonRoot, and spec.ephemeralContainers[*].securityContext.runAsNonRoot must be set to `true`.".into()
        },
        kyverno: |_| {
            let opt = json!({"=(securityContext)": {"=(runAsNonRoot)": "true"}});
            let req = json!({"securityContext": {"runAsNonRoot": "true"}});
            let mut pod_level = all_containers(opt);
            pod_level["spec"]["securityContext"] = json!({"runAsNonRoot": "true"});
            json!({"anyPattern": [pod_level, all_containers(req)]})
        },
        cel: |_| {
            vec![format!(
            "variables.containers.all(c, ({}) ? c.securityContext.runAsNonRoot : (has(variables.podSpec.securityContext) && has(variables.podSpec.securityContext.runAsNonRoot) && variables.podSpec.securityContext.runAsNonRoot))",
            sets("runAsNonRoot")
        )]
        },
    }],
};

pub static CAPABILITIES_STRICT: PresetPolicy = PresetPolicy {
    name: "disallow-capabilities-strict",
    title: "Disallow Capabilities (Strict)",
    category: "Pod Security Standards (Restricted)",
    rules: &[
        PresetRule {
            name: "require-drop-all",
            checks: &["drop-all-capabilities"],
            message: |_| "Containers must drop `ALL` capabilities.".into(),
            kyverno: |_| {
                json!({"foreach": [{
                    "list": "request.object.spec.[ephemeralContainers, initContainers, containers][]",
                    "deny": {"conditions": {"all": [{
                        "key": "ALL",
                        "operator": "AnyNotIn",
                        "value": "{{ element.securityContext.capabilities.drop[] || `[]` }}",
                    }]}},
                }]})
            },
            cel: |_| {
                vec![format!(
                "variables.containers.all(c, {} && has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop)",
                sets("capabilities")
            )]
            },
        },
        PresetRule {
            name: "adding-capabilities-strict",
            checks: &["drop-all-capabilities"],
            message: |_| {
                "Any capabilities added other than NET_BIND_SERVICE are disallowed.".into()
            },
            kyverno: |_| {
                json!({"foreach": [{
                    "list": "request.object.spec.[ephemeralContainers, initContainers, containers][]",
                    "deny": {"conditions": {"all": [{
                        "key": "{{ element.securityContext.capabilities.add[] || `[]` }}",
                        "operator": "AnyNotIn",
                        "value": ["NET_BIND_SERVICE", ""],
                    }]}},
                }]})
            },
            cel: |_| {
                vec![format!(
                "variables.containers.all(c, !({} && has(c.securityContext.capabilities.add)) || c.securityContext.capabilities.add.all(cap, cap == 'NET_BIND_SERVICE'))",
                sets("capabilities")
            )]
            },
        },
    ],
};

pub static SECCOMP_STRICT: PresetPolicy = PresetPolicy {
    name: "restrict-seccomp-strict",
    title: "Restrict Seccomp (Strict)",
    category: "Pod Security Standards (Restricted)",
    rules: &[PresetRule {
        name: "check-seccomp-strict",
        checks: &["seccomp-profile"],
        message: |_| {
            "Use of custom Seccomp profiles is disallowed. The fields spec.securityContext.seccompProfile.type, spec.containers[*].securityContext.seccompProfile.type, spec.initContainers[*].securityContext.seccompProfile.type, and spec.ephemeralContainers[*].securityContext.seccompProfile.type must be set to `RuntimeDefault` or `Localhost`.".into()
        },
        kyverno: |_| {
            let types = "RuntimeDefault | Localhost";
            let opt = json!({"=(securityContext)": {"=(seccompProfile)": {"=(type)": types}}});
            let req = json!({"securityContext": {"seccompProfile": {"type": types}}});
            let mut pod_level = all_containers(opt);
            pod_level["spec"]["securityContext"] = json!({"seccompProfile": {"type": types}});
            json!({"anyPattern": [pod_level, all_containers(req)]})
        },
        cel: |_| {
            vec![format!(
            "variables.containers.all(c, ({}) ? c.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost'] : (has(variables.podSpec.securityContext) && has(variables.podSpec.securityContext.seccompProfile) && variables.podSpec.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost']))",
            sets("seccompProfile")
        )]
        },
    }],
};

pub static RESTRICTED_VOLUMES_POLICY: PresetPolicy = PresetPolicy {
    name: "restrict-volume-types",
    title: "Restrict Volume Types",
    category: "Pod Security Standards (Restricted)",
    rules: &[PresetRule {
        name: "restricted-volumes",
        checks: &["restricted-volume-types"],
        message: |_| {
            "Only the following types of volumes may be used: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, and secret.".into()
        },
        kyverno: |_| {
            let mut allowed = vec!["name"];
            allowed.extend(RESTRICTED_VOLUMES);
            allowed.push("");
            json!({"deny": {"conditions": {"all": [{
                "key": "{{ request.object.spec.volumes[].keys(@)[] || '' }}",
                "operator": "AnyNotIn",
                "value": allowed,
            }]}}})
        },
        cel: |_| {
            vec![format!(
                "!has(variables.podSpec.volumes) || variables.podSpec.volumes.all(v, {})",
                RESTRICTED_VOLUMES
                    .iter()
                    .map(|t| format!("has(v.{t})"))
                    .collect::<Vec<_>>()
                    .join(" || ")
            )]
        },
    }],
};

pub static REQUESTS_LIMITS: PresetPolicy = PresetPolicy {
    name: "require-requests-limits",
    title: "Require Limits and Requests",
    category: "Best Practices, EKS Best Practices",
    rules: &[PresetRule {
        name: "validate-resources",
        checks: &["cpu-requests", "memory-requests", "memory-limits"],
        message: |_| {
            "CPU and memory resource requests and memory limits are required for containers.".into()
        },
        kyverno: |_| {
            // Ephemeral containers may not set resources, so they are not held to this.
            let c = json!({"resources": {
                "requests": {"memory": "?*", "cpu": "?*"},
                "limits": {"memory": "?*"},
            }});
            json!({"pattern": {"spec": {"containers": [c.clone()], "=(initContainers)": [c]}}})
        },
        cel: |_| {
            vec!["(variables.podSpec.containers + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])).all(c, has(c.resources) && has(c.resources.requests) && has(c.resources.requests.cpu) && has(c.resources.requests.memory) && has(c.resources.limits) && has(c.resources.limits.memory))".into()]
        },
    }],
};

pub static LATEST_TAG: PresetPolicy = PresetPolicy {
    name: "disallow-latest-tag",
    title: "Disallow Latest Tag",
    category: "Best Practices",
    rules: &[
        PresetRule {
            name: "require-image-tag",
            checks: &["image-tag-pinned"],
            message: |_| "An image tag is required.".into(),
            kyverno: |_| json!({"pattern": all_containers(json!({"image": "*:*"}))}),
            cel: |_| vec!["variables.containers.all(c, c.image.contains(':'))".into()],
        },
        PresetRule {
            name: "validate-image-tag",
            checks: &["image-tag-pinned"],
            message: |_| "Using a mutable image tag e.g. 'latest' is not allowed.".into(),
            kyverno: |_| json!({"pattern": all_containers(json!({"image": "!*:latest"}))}),
            cel: |_| vec!["variables.containers.all(c, !c.image.endsWith(':latest'))".into()],
        },
    ],
};

pub static RO_ROOTFS: PresetPolicy = PresetPolicy {
    name: "require-ro-rootfs",
    title: "Require Read-Only Root Filesystem",
    category: "Best Practices, EKS Best Practices, PSP Migration",
    rules: &[PresetRule {
        name: "validate-readonly-rootfilesystem",
        checks: &["read-only-root-fs"],
        message: |_| "Root filesystem must be read-only.".into(),
        kyverno: |_| {
            json!({"pattern": {"spec": {"containers": [
            {"securityContext": {"readOnlyRootFilesystem": true}}]}}})
        },
        cel: |_| {
            vec!["variables.podSpec.containers.all(c, has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem == true)".into()]
        },
    }],
};

pub static REGISTRIES: PresetPolicy = PresetPolicy {
    name: "restrict-image-registries",
    title: "Restrict Image Registries",
    category: "Best Practices, EKS Best Practices",
    rules: &[PresetRule {
        name: "validate-registries",
        checks: &[],
        message: |p| {
            format!(
                "Unknown image registry: images must come from {}.",
                p.allowed_registries.join(", ")
            )
        },
        kyverno: |p| {
            let alternatives = p
                .allowed_registries
                .iter()
                .map(|r| format!("{r}*"))
                .collect::<Vec<_>>()
                .join(" | ");
            json!({"pattern": all_containers(json!({"image": alternatives}))})
        },
        cel: |p| {
            vec![format!(
                "variables.containers.all(c, {})",
                p.allowed_registries
                    .iter()
                    .map(|r| format!("c.image.startsWith('{r}')"))
                    .collect::<Vec<_>>()
                    .join(" || ")
            )]
        },
    }],
};

pub static LABELS: PresetPolicy = PresetPolicy {
    name: "require-labels",
    title: "Require Labels",
    category: "Best Practices",
    rules: &[PresetRule {
        name: "check-for-labels",
        checks: &[],
        message: |p| {
            format!(
                "The labels {} are required.",
                p.required_labels
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        kyverno: |p| {
            let labels: serde_json::Map<String, Value> = p
                .required_labels
                .iter()
                .map(|l| (l.clone(), json!("?*")))
                .collect();
            json!({"pattern": {"metadata": {"labels": labels}}})
        },
        cel: |p| {
            // The pod's labels: a Pod's own, a controller's pod template's (as Kyverno's autogen
            // reads them), since the pods a controller creates carry only those.
            let keys = quoted(&p.required_labels);
            let has_all = |m: &str| {
                format!(
                    "[{keys}].all(l, has({m}.labels) && l in {m}.labels && {m}.labels[l] != '')"
                )
            };
            let job = "object.spec.jobTemplate.spec.template.metadata";
            let template = "object.spec.template.metadata";
            vec![format!(
                "object.kind == 'Pod' ? {} : (object.kind == 'CronJob' ? (has({job}) && {}) : (has({template}) && {}))",
                has_all("object.metadata"),
                has_all(job),
                has_all(template)
            )]
        },
    }],
};

/// The policies of a preset, given its parameters (the registry and label policies only when
/// their parameter is given).
pub fn policies(preset: &str, p: &Params) -> Vec<&'static PresetPolicy> {
    let mut out: Vec<&'static PresetPolicy> = match preset {
        "security-baseline" => vec![
            &HOST_NAMESPACES,
            &PRIVILEGED,
            &CAPABILITIES,
            &HOST_PATH,
            &HOST_PORTS,
            &RUN_AS_NON_ROOT,
            &REQUESTS_LIMITS,
        ],
        "pss-restricted" => vec![
            &HOST_PROCESS,
            &HOST_NAMESPACES,
            &PRIVILEGED,
            &CAPABILITIES,
            &HOST_PATH,
            &HOST_PORTS,
            &APPARMOR,
            &SELINUX,
            &PROC_MOUNT,
            &SYSCTLS,
            &PRIVILEGE_ESCALATION,
            &RUN_AS_NON_ROOT,
            &CAPABILITIES_STRICT,
            &SECCOMP_STRICT,
            &RESTRICTED_VOLUMES_POLICY,
        ],
        "best-practices" => vec![&LATEST_TAG, &REQUESTS_LIMITS, &RO_ROOTFS],
        "cost-hygiene" => vec![&REQUESTS_LIMITS],
        _ => vec![],
    };
    if !p.allowed_registries.is_empty() {
        out.push(&REGISTRIES);
    }
    if !p.required_labels.is_empty() {
        out.push(&LABELS);
    }
    out
}
