//! Auto-fix mutations for the checks whose fix is `yes`: fill fields that are unset, never change
//! a value someone wrote, and report every change as an `info` finding with the field path and
//! the proposed value, so the output stays auditable.
//!
//! Applied to objects the modules emit always, and to pass-through objects only on request
//! (`--fix`), since a pass-through object is someone else's decision.
//!
//! A fix that would break the workload is not made, and a finding says why instead: the pod's
//! `runAsNonRoot: true` is left out when a container's image is known to run as root
//! (`root_images`) and nothing sets `runAsUser`, since the kubelet would refuse to start it.

use super::pod::pod_of;
use crate::finding::Finding;
use crate::resource::Field;
use crate::resource::{child_map, Resource};
use crate::settings::DefaultResources;
use serde_json::{json, Map, Value};

/// One change: (check id, field path, value set).
type Change = (&'static str, String, Value);

/// A fix not made: (check id, field path, why).
type Skipped = (&'static str, String, String);

/// Fills the unset fields the fixable checks want; returns one `info` finding per change.
pub fn fix(obj: &mut Resource, defaults: &DefaultResources) -> Vec<Finding> {
    let Some(pod) = pod_of(obj) else {
        return Vec::new();
    };
    let path = pod.path;
    let mut changes: Vec<Change> = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut spec = pod.spec.clone();
    fix_pod(&mut spec, path, defaults, &mut changes, &mut skipped);
    if changes.is_empty() && skipped.is_empty() {
        return Vec::new();
    }
    if !changes.is_empty() {
        if let Some(slot) = pointer_mut(&mut obj.object, path) {
            *slot = Value::Object(spec);
        }
    }
    let mut findings: Vec<Finding> = changes
        .into_iter()
        .map(|(check, field, value)| {
            let mut f = Finding::info(format!("fixed: set to {value}"))
                .about(obj)
                .field(field);
            f.check = Some(check);
            f.proposed = Some(Box::new(value));
            f
        })
        .collect();
    findings.extend(skipped.into_iter().map(|(check, field, why)| {
        let mut f = Finding::info(format!("not fixed: {why}"))
            .about(obj)
            .field(field);
        f.check = Some(check);
        f
    }));
    findings
}

/// The first container (`containers`, then `initContainers`) whose image runs as root by
/// default and that no `runAsUser` covers: `(field path of the container, image, what to do)`.
fn root_image_without_user(
    spec: &Map<String, Value>,
    path: &str,
) -> Option<(String, String, &'static str)> {
    let pod_user = spec
        .get("securityContext")
        .and_then(|s| s.get("runAsUser"))
        .is_some();
    if pod_user {
        return None;
    }
    ["containers", "initContainers"].iter().find_map(|field| {
        let list = spec.get(*field).and_then(Value::as_array)?;
        list.iter().enumerate().find_map(|(i, c)| {
            let has_user = c
                .get("securityContext")
                .and_then(|s| s.get("runAsUser"))
                .is_some();
            let image = c.get("image").and_then(Value::as_str)?;
            let root = super::root_images::runs_as_root(image).filter(|_| !has_user)?;
            Some((
                format!("{path}.{field}[{i}]"),
                image.to_string(),
                root.instead,
            ))
        })
    })
}

/// The value at a dotted path of map keys, mutably.
pub(crate) fn pointer_mut<'a>(
    map: &'a mut Map<String, Value>,
    path: &str,
) -> Option<&'a mut Value> {
    let mut parts = path.split('.');
    let mut cur = map.get_mut(parts.next()?)?;
    for p in parts {
        cur = cur.as_object_mut()?.get_mut(p)?;
    }
    Some(cur)
}

/// Sets `map[key]` when unset and records the change.
fn set(
    map: &mut Map<String, Value>,
    key: &str,
    value: Value,
    check: &'static str,
    at: String,
    out: &mut Vec<Change>,
) {
    if !map.contains_key(key) {
        map.insert(key.to_string(), value.clone());
        out.push((check, at, value));
    }
}

fn fix_pod(
    spec: &mut Map<String, Value>,
    path: &str,
    defaults: &DefaultResources,
    out: &mut Vec<Change>,
    skipped: &mut Vec<Skipped>,
) {
    let windows = spec
        .field("os")
        .and_then(|o| o.field("name"))
        .and_then(Value::as_str)
        == Some("windows");
    let containers_run_as_root = ["containers", "initContainers"].iter().any(|f| {
        spec.get(*f).and_then(Value::as_array).is_some_and(|cs| {
            cs.iter().any(|c| {
                let sc = c.field("securityContext");
                sc.and_then(|s| s.field("runAsUser"))
                    .and_then(Value::as_i64)
                    == Some(0)
                    || sc
                        .and_then(|s| s.field("runAsNonRoot"))
                        .and_then(Value::as_bool)
                        == Some(false)
            })
        })
    });
    if spec.field("automountServiceAccountToken").is_none() {
        set(
            spec,
            "automountServiceAccountToken",
            json!(false),
            "automount-sa-token",
            format!("{path}.automountServiceAccountToken"),
            out,
        );
    }
    if !windows {
        let sc = child_map(spec, "securityContext");
        if !sc.contains_key("seccompProfile") {
            set(
                sc,
                "seccompProfile",
                json!({"type": "RuntimeDefault"}),
                "seccomp-profile",
                format!("{path}.securityContext.seccompProfile"),
                out,
            );
        }
        if !containers_run_as_root
            && sc.get("runAsUser").and_then(Value::as_i64) != Some(0)
            && !sc.contains_key("runAsNonRoot")
        {
            let field = format!("{path}.securityContext.runAsNonRoot");
            match root_image_without_user(spec, path) {
                Some((container, image, instead)) => skipped.push((
                    "run-as-non-root",
                    field,
                    format!(
                        "runAsNonRoot: true is left out: {container} runs image {image:?}, which runs as root by default, and nothing sets runAsUser, so the kubelet would refuse to start it; {instead}"
                    ),
                )),
                None => {
                    let sc = child_map(spec, "securityContext");
                    set(sc, "runAsNonRoot", json!(true), "run-as-non-root", field, out);
                }
            }
        }
    }
    for field in ["containers", "initContainers"] {
        let Some(Value::Array(list)) = spec.get_mut(field) else {
            continue;
        };
        for (i, c) in list.iter_mut().enumerate() {
            let Some(c) = c.as_object_mut() else { continue };
            let at = format!("{path}.{field}[{i}]");
            fix_container(c, &at, windows, defaults, out);
        }
    }
}

fn fix_container(
    c: &mut Map<String, Value>,
    at: &str,
    windows: bool,
    defaults: &DefaultResources,
    out: &mut Vec<Change>,
) {
    let image = c.field("image").and_then(Value::as_str).unwrap_or("");
    let policy = if crate::validate::image::parts(image).digest.is_some() {
        "IfNotPresent"
    } else {
        "Always"
    };
    set(
        c,
        "imagePullPolicy",
        json!(policy),
        "image-pull-policy",
        format!("{at}.imagePullPolicy"),
        out,
    );

    let resources = child_map(c, "resources");
    for (part, defaults, checks) in [
        (
            "requests",
            &defaults.requests,
            [("cpu", "cpu-requests"), ("memory", "memory-requests")],
        ),
        (
            "limits",
            &defaults.limits,
            [("memory", "memory-limits"), ("", "")],
        ),
    ] {
        for (key, check) in checks {
            let Some(default) = defaults.get(key).filter(|_| !key.is_empty()) else {
                continue;
            };
            let map = child_map(resources, part);
            set(
                map,
                key,
                json!(default),
                check,
                format!("{at}.resources.{part}.{key}"),
                out,
            );
        }
    }
    // A default limit below an explicit request would make the pod invalid: leave it out.
    if let (Some(req), Some(lim)) = (
        resources
            .field("requests")
            .and_then(|r| r.field("memory"))
            .and_then(Value::as_str)
            .and_then(crate::validate::quantity::parse),
        resources
            .field("limits")
            .and_then(|r| r.field("memory"))
            .and_then(Value::as_str)
            .and_then(crate::validate::quantity::parse),
    ) {
        if req > lim {
            if let Some(pos) = out
                .iter()
                .position(|(check, field, _)| *check == "memory-limits" && field.starts_with(at))
            {
                out.remove(pos);
                if let Some(Value::Object(l)) = resources.get_mut("limits") {
                    l.remove("memory");
                }
            }
        }
    }
    if windows {
        return;
    }
    let sc = child_map(c, "securityContext");
    let privileged = sc.field("privileged").and_then(Value::as_bool) == Some(true);
    let adds_sys_admin = sc
        .field("capabilities")
        .and_then(|caps| caps.field("add"))
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|v| {
                v.as_str()
                    .is_some_and(|s| s.trim_start_matches("CAP_") == "SYS_ADMIN")
            })
        });
    // The API server rejects allowPrivilegeEscalation: false next to privileged or CAP_SYS_ADMIN.
    if !privileged && !adds_sys_admin {
        set(
            sc,
            "allowPrivilegeEscalation",
            json!(false),
            "allow-privilege-escalation",
            format!("{at}.securityContext.allowPrivilegeEscalation"),
            out,
        );
    }
    let caps = child_map(sc, "capabilities");
    set(
        caps,
        "drop",
        json!(["ALL"]),
        "drop-all-capabilities",
        format!("{at}.securityContext.capabilities.drop"),
        out,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_only_unset_fields_and_reports_each() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: true\n      containers:\n      - name: c\n        image: registry.example.com/web:1.27\n        imagePullPolicy: IfNotPresent\n        resources: {requests: {memory: 1Gi}}\n        securityContext: {allowPrivilegeEscalation: true}\n";
        let mut r = crate::source::parse_text(yaml, "t.yaml").unwrap().remove(0);
        let findings = fix(&mut r, &DefaultResources::default());
        let fields: Vec<&str> = findings.iter().filter_map(|f| f.field.as_deref()).collect();
        assert_eq!(
            fields,
            vec![
                "spec.template.spec.securityContext.seccompProfile",
                "spec.template.spec.securityContext.runAsNonRoot",
                "spec.template.spec.containers[0].resources.requests.cpu",
                "spec.template.spec.containers[0].securityContext.capabilities.drop",
            ]
        );
        let c = &r.object["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent", "user value kept");
        assert_eq!(
            c["securityContext"]["allowPrivilegeEscalation"], true,
            "user value kept"
        );
        assert!(
            c["resources"]["limits"].field("memory").is_none(),
            "no default limit below the 1Gi request"
        );
        assert_eq!(
            r.object["spec"]["template"]["spec"]["automountServiceAccountToken"],
            true
        );
    }

    #[test]
    fn an_image_known_to_run_as_root_keeps_running() {
        let yaml = |sc: &str| {
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: side\n        image: registry.example.com/side:1\n      - name: db\n        image: docker.io/library/postgres:17\n{sc}")
        };
        let mut r = crate::source::parse_text(&yaml(""), "t.yaml")
            .unwrap()
            .remove(0);
        let findings = fix(&mut r, &DefaultResources::default());
        let pod = &r.object["spec"]["template"]["spec"];
        assert!(pod["securityContext"].get("runAsNonRoot").is_none());
        let note = findings
            .iter()
            .find(|f| f.message.starts_with("not fixed"))
            .expect("a finding says why");
        assert_eq!(note.check, Some("run-as-non-root"));
        assert_eq!(
            note.field.as_deref(),
            Some("spec.template.spec.securityContext.runAsNonRoot")
        );
        assert!(note.message.contains("spec.template.spec.containers[1] runs image \"docker.io/library/postgres:17\", which runs as root by default"), "{}", note.message);
        assert!(note.message.contains("runAsUser: 999"), "{}", note.message);
        // The other fixes are still made.
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        // With a runAsUser on the container, the fix is safe again.
        let with_user = yaml("        securityContext: {runAsUser: 999}\n");
        let mut r = crate::source::parse_text(&with_user, "t.yaml")
            .unwrap()
            .remove(0);
        let findings = fix(&mut r, &DefaultResources::default());
        assert!(!findings.iter().any(|f| f.message.starts_with("not fixed")));
        assert_eq!(
            r.object["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
            true
        );
    }
}
