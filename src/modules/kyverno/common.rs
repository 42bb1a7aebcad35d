//! What the kyverno seed module's kinds share: the failure action, kind strings and the
//! admission resource rules they name, the checks of Kyverno variables and CEL text, and the
//! builders of CEL policies (Kyverno's ValidatingPolicy, the API server's
//! ValidatingAdmissionPolicy and its binding).

use crate::kind::{Context, Problems};
use crate::schema::operators;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What a violation does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum FailureAction {
    /// Allow the request and record the violation in a policy report.
    #[default]
    Audit,
    /// Deny the request.
    Enforce,
}

/// Kinds written without a group that Kyverno resolves: their group and version, for the
/// resource rules of CEL policies.
const CORE_KINDS: &[(&str, &str, &str)] = &[
    ("Pod", "", "v1"),
    ("Service", "", "v1"),
    ("ConfigMap", "", "v1"),
    ("Secret", "", "v1"),
    ("Namespace", "", "v1"),
    ("ServiceAccount", "", "v1"),
    ("PersistentVolumeClaim", "", "v1"),
    ("Deployment", "apps", "v1"),
    ("StatefulSet", "apps", "v1"),
    ("DaemonSet", "apps", "v1"),
    ("ReplicaSet", "apps", "v1"),
    ("Job", "batch", "v1"),
    ("CronJob", "batch", "v1"),
    ("Ingress", "networking.k8s.io", "v1"),
    ("NetworkPolicy", "networking.k8s.io", "v1"),
    ("Role", "rbac.authorization.k8s.io", "v1"),
    ("RoleBinding", "rbac.authorization.k8s.io", "v1"),
    ("ClusterRole", "rbac.authorization.k8s.io", "v1"),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io", "v1"),
];

/// A kind string as Kyverno reads it: `Kind`, `version/Kind` or `group/version/Kind`, or `*`.
pub fn check_kind(k: &str) -> Result<(), String> {
    let parts: Vec<&str> = k.split('/').collect();
    let kind = parts[parts.len() - 1];
    let kind_ok = kind == "*"
        || (kind.starts_with(|c: char| c.is_ascii_uppercase())
            && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '*'));
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) || !kind_ok {
        return Err(format!(
            "{k:?} is no kind: write Kind, version/Kind or group/version/Kind (e.g. Pod, apps/v1/Deployment)"
        ));
    }
    Ok(())
}

/// An admission resource rule (`apiGroups`, `apiVersions`, `resources`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRule {
    pub group: String,
    pub version: String,
    pub resource: String,
}

impl ResourceRule {
    /// The rule of kind string `k`; an error when its group cannot be known.
    pub fn of(k: &str) -> Result<ResourceRule, String> {
        let parts: Vec<&str> = k.split('/').collect();
        let (group, version, kind) = match parts.as_slice() {
            [kind] => match CORE_KINDS.iter().find(|(n, _, _)| n == kind) {
                Some((_, g, v)) => (g.to_string(), v.to_string(), *kind),
                None => {
                    return Err(format!(
                        "a CEL policy names resources by group: write {k:?} as group/version/{k}"
                    ))
                }
            },
            ["v1", kind] => (String::new(), "v1".to_string(), *kind),
            [_, _] => {
                return Err(format!(
                    "a CEL policy names resources by group: write {k:?} as group/version/Kind"
                ))
            }
            [g, v, kind] => (g.to_string(), v.to_string(), *kind),
            _ => return Err(format!("{k:?} is no kind")),
        };
        if kind.contains('*') {
            return Err(format!(
                "{k:?}: a CEL policy needs exact kinds, not wildcards"
            ));
        }
        Ok(ResourceRule {
            group,
            version,
            resource: resource_name(kind),
        })
    }
}

/// The resource (plural) of `kind`: `NetworkPolicy` → `networkpolicies`, `Ingress` →
/// `ingresses`.
pub fn resource_name(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// Roots of Kyverno variables, which are written `{{ root.… }}`.
const VARIABLE_ROOTS: &[&str] = &[
    "request.",
    "element.",
    "elementIndex",
    "serviceAccountName",
    "serviceAccountNamespace",
    "images.",
    "target.",
];

/// Finds Kyverno variables written with single braces (`{request.object…}`, as the original
/// did) in every string of `v`; `at` is the field of `v`.
pub fn check_variables_in(v: &Value, at: &str, p: &mut Problems<'_>) {
    let mut bad = Vec::new();
    walk_strings(v, at, &mut |field, s| {
        let b = s.as_bytes();
        for (i, _) in s.match_indices('{') {
            let doubled = (i > 0 && b[i - 1] == b'{') || b.get(i + 1) == Some(&b'{');
            let rest = s[i + 1..].trim_start();
            if !doubled && VARIABLE_ROOTS.iter().any(|r| rest.starts_with(r)) {
                bad.push((field.to_string(), s.to_string()));
                break;
            }
        }
    });
    for (field, s) in bad {
        p.fail(
            field,
            format!("{s:?} writes a Kyverno variable with single braces: write {{{{ request.object.… }}}}"),
        );
    }
}

fn walk_strings(v: &Value, at: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(at, s),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_strings(x, &format!("{at}[{i}]"), f);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                walk_strings(x, &format!("{at}.{k}"), f);
            }
        }
        _ => {}
    }
}

/// A Pod Security Standards version Kyverno's CRD accepts: `latest` or `v1.19` … `v1.32`.
pub fn check_pss_version(v: &str) -> Result<(), String> {
    let minor = v.strip_prefix("v1.").and_then(|m| m.parse::<u32>().ok());
    match minor {
        _ if v == "latest" => Ok(()),
        Some(m) if (19..=32).contains(&m) && !v.ends_with(".0") => Ok(()),
        _ => Err(format!(
            "invalid version {v:?}: Kyverno accepts latest or v1.19 to v1.32"
        )),
    }
}

/// A plausibility check of CEL text, short of a CEL compiler: balanced brackets and quotes,
/// and it reads the request (`object`, `oldObject`, `request`, `params`, `variables`,
/// `namespaceObject`).
pub fn check_cel(expr: &str) -> Result<(), String> {
    if expr.trim().is_empty() {
        return Err("empty CEL expression".into());
    }
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(open) {
                    return Err(format!("unbalanced {c:?} in CEL expression"));
                }
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Err("unterminated string in CEL expression".into());
    }
    if let Some(open) = stack.pop() {
        return Err(format!("unclosed {open:?} in CEL expression"));
    }
    let reads = [
        "object",
        "oldObject",
        "request",
        "params",
        "variables",
        "namespaceObject",
    ];
    let reads_input = expr
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| reads.contains(&w));
    if !reads_input {
        return Err(
            "the expression reads nothing of the request: refer to object (the object admitted)"
                .into(),
        );
    }
    Ok(())
}

/// What a CEL policy selects.
pub struct PolicyMatch<'a> {
    pub kinds: &'a [String],
    pub namespaces: &'a [String],
    pub selector: Option<&'a BTreeMap<String, String>>,
    pub exclude_kinds: &'a [String],
    pub exclude_namespaces: &'a [String],
}

fn resource_rules(kinds: &[String]) -> Vec<Value> {
    // One rule per (group, version), as an administrator writes them.
    let mut grouped: Vec<(String, String, Vec<String>)> = Vec::new();
    for rule in kinds.iter().filter_map(|k| ResourceRule::of(k).ok()) {
        match grouped
            .iter_mut()
            .find(|(g, v, _)| *g == rule.group && *v == rule.version)
        {
            Some((_, _, rs)) if !rs.contains(&rule.resource) => rs.push(rule.resource),
            Some(_) => {}
            None => grouped.push((rule.group, rule.version, vec![rule.resource])),
        }
    }
    grouped
        .into_iter()
        .map(|(g, v, rs)| {
            json!({
                "apiGroups": [g],
                "apiVersions": [v],
                "operations": ["CREATE", "UPDATE"],
                "resources": rs,
            })
        })
        .collect()
}

/// `matchConstraints` of a CEL policy.
pub fn match_constraints(m: &PolicyMatch<'_>) -> Value {
    let mut out = Map::new();
    out.insert("resourceRules".into(), json!(resource_rules(m.kinds)));
    // Excluded kinds *in* excluded namespaces is a match condition (`exclude_condition`).
    let both = !m.exclude_kinds.is_empty() && !m.exclude_namespaces.is_empty();
    if !m.exclude_kinds.is_empty() && !both {
        out.insert(
            "excludeResourceRules".into(),
            json!(resource_rules(m.exclude_kinds)),
        );
    }
    let mut exprs = Vec::new();
    if !m.namespaces.is_empty() {
        exprs.push(
            json!({"key": "kubernetes.io/metadata.name", "operator": "In", "values": m.namespaces}),
        );
    }
    if !m.exclude_namespaces.is_empty() && !both {
        exprs.push(json!({"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": m.exclude_namespaces}));
    }
    if !exprs.is_empty() {
        out.insert(
            "namespaceSelector".into(),
            json!({ "matchExpressions": exprs }),
        );
    }
    if let Some(sel) = m.selector {
        out.insert("objectSelector".into(), json!({ "matchLabels": sel }));
    }
    Value::Object(out)
}

/// The match condition of an exclusion of kinds in namespaces (both given): Kyverno excludes
/// an object only when it is of an excluded kind *and* in an excluded namespace.
fn exclude_condition(m: &PolicyMatch<'_>) -> Option<Value> {
    if m.exclude_kinds.is_empty() || m.exclude_namespaces.is_empty() {
        return None;
    }
    let quote = |xs: Vec<String>| {
        xs.iter()
            .map(|x| format!("'{x}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let resources: Vec<String> = m
        .exclude_kinds
        .iter()
        .filter_map(|k| ResourceRule::of(k).ok())
        .map(|r| r.resource)
        .collect();
    Some(json!({
        "name": "exclude",
        "expression": format!(
            "!(request.namespace in [{}] && request.resource.resource in [{}])",
            quote(m.exclude_namespaces.to_vec()),
            quote(resources)
        ),
    }))
}

fn variables(vars: &[(String, String)]) -> Vec<Value> {
    vars.iter()
        .map(|(name, expression)| json!({"name": name, "expression": expression}))
        .collect()
}

/// A Kyverno `policies.kyverno.io` ValidatingPolicy.
pub fn validating_policy(
    ctx: &Context,
    name: &str,
    m: &PolicyMatch<'_>,
    vars: &[(String, String)],
    validations: &[Value],
    action: FailureAction,
    background: bool,
) -> Value {
    let row = &operators::KYVERNO_VALIDATING_POLICY;
    let mut spec = json!({
        "validationActions": match action {
            FailureAction::Enforce => json!(["Deny"]),
            FailureAction::Audit => json!(["Audit"]),
        },
        "evaluation": {"background": {"enabled": background}},
        "matchConstraints": match_constraints(m),
        "validations": validations,
    });
    if !vars.is_empty() {
        spec["variables"] = json!(variables(vars));
    }
    if let Some(c) = exclude_condition(m) {
        spec["matchConditions"] = json!([c]);
    }
    json!({
        "apiVersion": ctx.api_version(row),
        "kind": row.kind,
        "metadata": {"name": name},
        "spec": spec,
    })
}

/// The API server's own ValidatingAdmissionPolicy and the binding that puts it in force:
/// `Enforce` denies, `Audit` records in the audit log and warns the client.
pub fn admission_policy(
    name: &str,
    m: &PolicyMatch<'_>,
    vars: &[(String, String)],
    validations: &[Value],
    action: FailureAction,
) -> [Value; 2] {
    let mut spec = json!({
        "failurePolicy": "Fail",
        "matchConstraints": match_constraints(m),
        "validations": validations,
    });
    if !vars.is_empty() {
        spec["variables"] = json!(variables(vars));
    }
    if let Some(c) = exclude_condition(m) {
        spec["matchConditions"] = json!([c]);
    }
    let policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": spec,
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": match action {
                FailureAction::Enforce => json!(["Deny"]),
                FailureAction::Audit => json!(["Audit", "Warn"]),
            },
        },
    });
    [policy, binding]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_resources() {
        assert!(check_kind("Pod").is_ok());
        assert!(check_kind("apps/v1/Deployment").is_ok());
        assert!(check_kind("*").is_ok());
        assert!(check_kind("pod").is_err());
        assert!(check_kind("a/b/c/Pod").is_err());
        assert!(check_kind("apps//Deployment").is_err());
        assert_eq!(resource_name("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_name("Ingress"), "ingresses");
        assert_eq!(resource_name("Gateway"), "gateways");
        assert_eq!(resource_name("Pod"), "pods");
        let r = ResourceRule::of("Deployment").unwrap();
        assert_eq!(
            (r.group.as_str(), r.resource.as_str()),
            ("apps", "deployments")
        );
        assert!(ResourceRule::of("Widget").is_err());
        assert_eq!(
            ResourceRule::of("acme.io/v1/Widget").unwrap().resource,
            "widgets"
        );
    }

    #[test]
    fn cel_plausibility() {
        assert!(check_cel("object.spec.containers.all(c, has(c.image))").is_ok());
        assert!(check_cel("variables.x == 'a(b'").is_ok());
        assert!(check_cel("object.spec.containers.all(c, has(c.image)").is_err());
        assert!(check_cel("'abc").is_err());
        assert!(check_cel("1 == 1").is_err());
        assert!(check_cel("objects.x").is_err());
    }

    #[test]
    fn pss_versions() {
        assert!(check_pss_version("latest").is_ok());
        assert!(check_pss_version("v1.32").is_ok());
        assert!(check_pss_version("v1.33").is_err());
        assert!(check_pss_version("1.30").is_err());
    }
}
