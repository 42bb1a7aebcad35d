//! Container hardening outside the Pod Security Standards: user and group IDs, a read-only root
//! filesystem, secrets in the environment and duplicate environment variables (ids 16, 17, 33 and
//! 34 of the check table). Every container kind is checked, init and ephemeral included; Windows
//! pods are exempt from the Linux-only fields (IDs, read-only root).
//!
//! `secret-in-env` reports three things, each at its own field path:
//! - a literal `env[].value` whose variable name looks secret (PASSWORD, SECRET, TOKEN, API_KEY,
//!   PRIVATE_KEY, CREDENTIALS, ..., any case) or whose value is a PEM private key. Names ending in
//!   `_FILE`, `_PATH`, `_DIR` or `_NAME` point at a secret rather than hold one, and a value that is
//!   only a `$(VAR)` reference holds nothing itself: neither is reported;
//! - `env[].valueFrom.secretKeyRef` and `envFrom[].secretRef`: the secret is not written in the
//!   manifest, but environment variables leak into child processes, crash dumps and debug output,
//!   so the table asks to mount the Secret as a volume instead. These are reported (checkov's
//!   CKV_K8S_35, one of the judges the rendered output must pass, fails on them too) with a message
//!   that says the value is already kept in a Secret, so a deliberate use is one exemption
//!   annotation away.

use super::credentials::{pem_private_key, secret_name};
use super::pod::PodView;
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use serde_json::Value;
use std::collections::HashMap;

/// `run-as-high-uid` (#16).
pub const RUN_AS_HIGH_UID: CheckDef = CheckDef {
    id: "run-as-high-uid",
    summary: "containers run with runAsUser and runAsGroup >= 10000; fsGroup and supplementalGroups are not 0 (pods with hostUsers: false are exempt)",
    pss: None,
    severity: Severity::Info,
    fix: Fix::Opt,
    scope: Scope::Pod(run_as_high_uid),
};

/// `read-only-root-fs` (#17).
pub const READ_ONLY_ROOT_FS: CheckDef = CheckDef {
    id: "read-only-root-fs",
    summary: "containers set readOnlyRootFilesystem: true",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Opt,
    scope: Scope::Pod(read_only_root_fs),
};

/// `secret-in-env` (#33).
pub const SECRET_IN_ENV: CheckDef = CheckDef {
    id: "secret-in-env",
    summary: "no literal secrets in env; Secrets are mounted as files rather than exported as env",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Pod(secret_in_env),
};

/// `duplicate-env-var` (#34).
pub const DUPLICATE_ENV_VAR: CheckDef = CheckDef {
    id: "duplicate-env-var",
    summary: "environment variable names are unique per container",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Pod(duplicate_env_var),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[
    &RUN_AS_HIGH_UID,
    &READ_ONLY_ROOT_FS,
    &SECRET_IN_ENV,
    &DUPLICATE_ENV_VAR,
];

/// Lowest user and group ID that cannot collide with the node's system and login accounts.
const MIN_ID: i64 = 10000;

fn run_as_high_uid(pod: &PodView<'_>, out: &mut HitSink) {
    // `hostUsers: false` runs the pod in a user namespace: its IDs map to a range of the node's
    // that no node user has, whatever they are inside.
    if pod.is_windows() || pod.spec.get("hostUsers").and_then(Value::as_bool) == Some(false) {
        return;
    }
    let pod_sec = pod.security();
    let containers = pod.containers();
    for field in ["runAsUser", "runAsGroup"] {
        let pod_value = pod_sec.and_then(|s| s.get(field)).and_then(Value::as_i64);
        let own: Vec<Option<i64>> = containers
            .iter()
            .map(|c| {
                c.security()
                    .and_then(|s| s.get(field))
                    .and_then(Value::as_i64)
            })
            .collect();
        // The pod-level value matters only where a container does not override it.
        if let Some(v) = pod_value.filter(|v| *v < MIN_ID) {
            if own.iter().any(Option::is_none) {
                out.push(
                    pod.at(&format!("securityContext.{field}")),
                    format!("the pod sets {field}: {v}: expected {MIN_ID} or more, above the node's own IDs"),
                );
            }
        }
        for (c, value) in containers.iter().zip(own) {
            let at = c.at(&format!("securityContext.{field}"));
            match (value, pod_value) {
                (Some(v), _) if v < MIN_ID => out.push(
                    at,
                    format!(
                        "container {:?} sets {field}: {v}: expected {MIN_ID} or more, above the node's own IDs",
                        c.name()
                    ),
                ),
                (None, None) => out.push(
                    at,
                    format!(
                        "container {:?} has no {field}, so the image decides: set {field} >= {MIN_ID} on the pod or the container",
                        c.name()
                    ),
                ),
                _ => {}
            }
        }
    }
    if pod_sec
        .and_then(|s| s.field("fsGroup"))
        .and_then(Value::as_i64)
        == Some(0)
    {
        out.push(
            pod.at("securityContext.fsGroup"),
            "the pod sets fsGroup: 0, which makes its volumes owned by the root group: use a non-zero group",
        );
    }
    if let Some(Value::Array(groups)) = pod_sec.and_then(|s| s.field("supplementalGroups")) {
        for (i, g) in groups.iter().enumerate() {
            if g.as_i64() == Some(0) {
                out.push(
                    pod.at(&format!("securityContext.supplementalGroups[{i}]")),
                    "the pod adds supplemental group 0 (root): use non-zero groups only",
                );
            }
        }
    }
}

fn read_only_root_fs(pod: &PodView<'_>, out: &mut HitSink) {
    if pod.is_windows() {
        return;
    }
    for c in pod.containers() {
        if c.security()
            .and_then(|s| s.field("readOnlyRootFilesystem"))
            .and_then(Value::as_bool)
            != Some(true)
        {
            out.push(
                c.at("securityContext.readOnlyRootFilesystem"),
                format!(
                    "container {:?} must set readOnlyRootFilesystem: true (mount an emptyDir where it writes, e.g. /tmp)",
                    c.name()
                ),
            );
        }
    }
}

/// Whether `value` is only a `$(VAR)` expansion of another variable.
fn is_reference(value: &str) -> bool {
    value
        .strip_prefix("$(")
        .and_then(|v| v.strip_suffix(')'))
        .is_some_and(|v| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
}

fn secret_in_env(pod: &PodView<'_>, out: &mut HitSink) {
    for c in pod.containers() {
        if let Some(Value::Array(env)) = c.spec.field("env") {
            for (i, e) in env.iter().enumerate() {
                let name = e.field("name").and_then(Value::as_str).unwrap_or("");
                if let Some(value) = e.field("value").and_then(Value::as_str) {
                    let pem = pem_private_key(value).is_some();
                    if pem || (secret_name(name) && !value.is_empty() && !is_reference(value)) {
                        out.push(
                            c.at(&format!("env[{i}].value")),
                            format!(
                                "container {:?} has a literal secret in env var {name}: keep it in a Secret and mount it as a file",
                                c.name()
                            ),
                        );
                    }
                }
                if let Some(secret) = e.field("valueFrom").and_then(|v| v.field("secretKeyRef")) {
                    let from = secret.field("name").and_then(Value::as_str).unwrap_or("");
                    out.push(
                        c.at(&format!("env[{i}].valueFrom.secretKeyRef")),
                        format!(
                            "container {:?} exports Secret {from:?} as env var {name}: mount the Secret as a volume instead, env leaks into child processes and dumps",
                            c.name()
                        ),
                    );
                }
            }
        }
        if let Some(Value::Array(env_from)) = c.spec.field("envFrom") {
            for (i, e) in env_from.iter().enumerate() {
                if let Some(secret) = e.field("secretRef") {
                    let from = secret.field("name").and_then(Value::as_str).unwrap_or("");
                    out.push(
                        c.at(&format!("envFrom[{i}].secretRef")),
                        format!(
                            "container {:?} exports every key of Secret {from:?} as env: mount the Secret as a volume instead, env leaks into child processes and dumps",
                            c.name()
                        ),
                    );
                }
            }
        }
    }
}

fn duplicate_env_var(pod: &PodView<'_>, out: &mut HitSink) {
    for c in pod.containers() {
        let Some(Value::Array(env)) = c.spec.field("env") else {
            continue;
        };
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, e) in env.iter().enumerate() {
            let Some(name) = e.field("name").and_then(Value::as_str) else {
                continue;
            };
            if let Some(j) = first.get(name) {
                out.push(
                    c.at(&format!("env[{i}].name")),
                    format!(
                        "container {:?} sets env var {name} again (first at env[{j}]): only the last value takes effect, remove one",
                        c.name()
                    ),
                );
            } else {
                first.insert(name, i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{expect_hits as expect, hits_of};

    fn deployment(pod_spec: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  template:\n    spec:\n{pod_spec}"
        )
    }

    const P: &str = "spec.template.spec";

    #[test]
    fn run_as_high_uid_passes_pods_in_a_user_namespace() {
        let isolated = deployment(
            "      hostUsers: false\n      containers:\n      - name: app\n        image: x:1\n",
        );
        expect(&RUN_AS_HIGH_UID, &isolated, &[]);
        let host = isolated.replace("hostUsers: false", "hostUsers: true");
        assert_eq!(hits_of(&RUN_AS_HIGH_UID, &host).len(), 2);
    }

    #[test]
    fn run_as_high_uid_fails_on_low_missing_and_root_group() {
        let yaml = deployment(
            "      securityContext: {runAsUser: 1000, runAsGroup: 20000, fsGroup: 0, supplementalGroups: [5, 0]}\n      containers:\n      - name: app\n        image: x:1\n      - name: side\n        image: y:1\n        securityContext: {runAsUser: 20000, runAsGroup: 999}\n",
        );
        expect(
            &RUN_AS_HIGH_UID,
            &yaml,
            &[
                (
                    "web",
                    &format!("{P}.securityContext.runAsUser"),
                    "the pod sets runAsUser: 1000: expected 10000 or more",
                ),
                (
                    "web",
                    &format!("{P}.containers[1].securityContext.runAsGroup"),
                    "container \"side\" sets runAsGroup: 999",
                ),
                ("web", &format!("{P}.securityContext.fsGroup"), "fsGroup: 0"),
                (
                    "web",
                    &format!("{P}.securityContext.supplementalGroups[1]"),
                    "supplemental group 0",
                ),
            ],
        );
        let unset = deployment("      containers:\n      - name: app\n        image: x:1\n");
        expect(
            &RUN_AS_HIGH_UID,
            &unset,
            &[
                (
                    "web",
                    &format!("{P}.containers[0].securityContext.runAsUser"),
                    "container \"app\" has no runAsUser",
                ),
                (
                    "web",
                    &format!("{P}.containers[0].securityContext.runAsGroup"),
                    "container \"app\" has no runAsGroup",
                ),
            ],
        );
    }

    #[test]
    fn run_as_high_uid_passes_on_high_ids() {
        // The pod's low runAsUser is overridden by the only container: no hit for it.
        let yaml = deployment(
            "      securityContext: {runAsUser: 1000, runAsGroup: 10001, fsGroup: 10001, supplementalGroups: [10002]}\n      containers:\n      - name: app\n        image: x:1\n        securityContext: {runAsUser: 10000}\n",
        );
        expect(&RUN_AS_HIGH_UID, &yaml, &[]);
    }

    #[test]
    fn read_only_root_fs_needs_true() {
        let yaml = deployment(
            "      containers:\n      - name: app\n        image: x:1\n        securityContext: {readOnlyRootFilesystem: false}\n      initContainers:\n      - name: init\n        image: x:1\n",
        );
        expect(
            &READ_ONLY_ROOT_FS,
            &yaml,
            &[
                (
                    "web",
                    &format!("{P}.containers[0].securityContext.readOnlyRootFilesystem"),
                    "container \"app\" must set readOnlyRootFilesystem: true",
                ),
                (
                    "web",
                    &format!("{P}.initContainers[0].securityContext.readOnlyRootFilesystem"),
                    "container \"init\"",
                ),
            ],
        );
        let ok = deployment(
            "      containers:\n      - name: app\n        image: x:1\n        securityContext: {readOnlyRootFilesystem: true}\n",
        );
        expect(&READ_ONLY_ROOT_FS, &ok, &[]);
        let windows = deployment(
            "      os: {name: windows}\n      containers:\n      - name: app\n        image: x:1\n",
        );
        expect(&READ_ONLY_ROOT_FS, &windows, &[]);
    }

    #[test]
    fn secret_in_env_finds_literals_and_secret_env() {
        let yaml = deployment(
            "      containers:\n      - name: app\n        image: x:1\n        env:\n        - {name: db_password, value: hunter2}\n        - {name: API-KEY, value: abc}\n        - name: TOKEN\n          valueFrom: {secretKeyRef: {name: api, key: token}}\n        envFrom:\n        - secretRef: {name: all-keys}\n",
        );
        expect(
            &SECRET_IN_ENV,
            &yaml,
            &[
                (
                    "web",
                    &format!("{P}.containers[0].env[0].value"),
                    "literal secret in env var db_password",
                ),
                (
                    "web",
                    &format!("{P}.containers[0].env[1].value"),
                    "literal secret in env var API-KEY",
                ),
                (
                    "web",
                    &format!("{P}.containers[0].env[2].valueFrom.secretKeyRef"),
                    "exports Secret \"api\" as env var TOKEN: mount the Secret as a volume",
                ),
                (
                    "web",
                    &format!("{P}.containers[0].envFrom[0].secretRef"),
                    "every key of Secret \"all-keys\"",
                ),
            ],
        );
    }

    #[test]
    fn secret_in_env_passes_references_and_plain_values() {
        let yaml = deployment(
            "      containers:\n      - name: app\n        image: x:1\n        env:\n        - {name: DB_PASSWORD_FILE, value: /run/secrets/db/password}\n        - {name: SECRET_NAME, value: db}\n        - {name: TOKEN, value: \"\"}\n        - {name: AUTH_TOKEN, value: $(TOKEN)}\n        - {name: LOG_LEVEL, value: debug}\n        - name: POD_NAME\n          valueFrom: {fieldRef: {fieldPath: metadata.name}}\n",
        );
        expect(&SECRET_IN_ENV, &yaml, &[]);
        let pem = deployment(
            "      containers:\n      - name: app\n        image: x:1\n        env:\n        - {name: TLS, value: \"-----BEGIN RSA PRIVATE KEY-----\\nMIIB\"}\n",
        );
        expect(
            &SECRET_IN_ENV,
            &pem,
            &[(
                "web",
                &format!("{P}.containers[0].env[0].value"),
                "env var TLS",
            )],
        );
    }

    #[test]
    fn duplicate_env_var_reports_the_repeat() {
        let yaml = deployment(
            "      containers:\n      - name: app\n        image: x:1\n        env:\n        - {name: MODE, value: a}\n        - {name: PORT, value: \"80\"}\n        - {name: MODE, value: b}\n      - name: other\n        image: x:1\n        env:\n        - {name: MODE, value: a}\n",
        );
        expect(
            &DUPLICATE_ENV_VAR,
            &yaml,
            &[(
                "web",
                &format!("{P}.containers[0].env[2].name"),
                "container \"app\" sets env var MODE again (first at env[0])",
            )],
        );
        let ok = deployment(
            "      containers:\n      - name: app\n        image: x:1\n        env:\n        - {name: MODE, value: a}\n        - {name: mode, value: b}\n",
        );
        expect(&DUPLICATE_ENV_VAR, &ok, &[]);
    }
}
