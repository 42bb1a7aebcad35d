//! Exporting rules as admission policies (`--admission-policies`, §2.6 of the extensibility
//! design): each `ValidationRule` with `spec.admission.export: true` becomes a
//! `ValidatingAdmissionPolicy` and a `ValidatingAdmissionPolicyBinding` that hold the text we
//! evaluated. What the rule writes in VAP vocabulary is copied as written; what is ours becomes
//! VAP: `fieldPath` is dropped, `producedBy` and the exemption annotation become match
//! conditions, the default scope an object selector, `severity` under the enforcement the
//! binding's `validationActions`, `params` a `paramKind` and `paramRef`. A rule that calls a
//! function the target Kubernetes minor's API server lacks is refused, at the expression.

use super::spec::{FailurePolicy, NotFound, RuleSeverity, RuleSpec, ValidationAction};
use super::{cel, versions, RuleSet, ADMISSION_API, BINDING, POLICY};
use crate::finding::Finding;
use crate::resource::Resource;
use crate::types::Enforcement;
use serde_json::{json, Map, Value};

/// What an export is for.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The Kubernetes minor the policies are created on (`1.<minor>`).
    pub minor: u32,
    pub enforcement: Enforcement,
    pub inventory: Option<&'a str>,
    /// The policies are the whole output (`--admission-policies=only`): having none is an
    /// error (an empty output, synced, would delete everything).
    pub only: bool,
}

/// The policies of a run, and the input objects they bind as parameters (emitted with them).
#[derive(Debug, Default)]
pub struct Exported {
    pub objects: Vec<Resource>,
    /// `(apiVersion, kind, name, namespace)` of each parameter object (namespace `None`: any).
    pub params: Vec<(String, String, String, Option<String>)>,
}

impl Exported {
    /// Whether `obj` is a parameter object of an exported policy.
    pub fn is_param(&self, obj: &Resource) -> bool {
        self.params.iter().any(|(a, k, n, ns)| {
            obj.api_version() == a
                && obj.kind() == k
                && obj.name() == n
                && ns.as_deref().is_none_or(|ns| obj.namespace() == Some(ns))
        })
    }
}

/// The label that names the rule a policy was exported from.
pub const RULE_LABEL: &str = "nixernetes.io/rule";
/// The name of the match condition that carries the exemption annotation.
pub const EXEMPTION_CONDITION: &str = "nixernetes-exemption";
/// The name of the match condition that carries `producedBy`.
pub const PRODUCED_BY_CONDITION: &str = "nixernetes-produced-by";

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The policy checker's exemption annotations (`policy::IGNORE_PREFIX`, `policy::IGNORE_ALL`;
/// a test there keeps them equal: rules sit below policy and cannot import it).
pub const IGNORE_PREFIX: &str = "ignore-check.nixernetes.io/";
pub const IGNORE_ALL: &str = "nixernetes.io/ignore-all";
const INVENTORY: &str = "nixernetes.io/inventory";

impl RuleSet {
    /// The policy and binding of every exported rule; every reason a rule cannot be exported
    /// is an error in `findings`, at its field. Rules without `spec.admission.export: true`
    /// are noted (info).
    pub fn export(&self, target: &Target<'_>, findings: &mut Vec<Finding>) -> Exported {
        let mut out = Exported::default();
        let mut any = false;
        for rule in &self.rules {
            let Some(source) = &rule.export else { continue };
            let (res, spec) = (&source.0, &source.1);
            if !spec.admission.as_ref().is_some_and(|a| a.export) {
                findings.push(
                    Finding::info(
                        "not exported as a ValidatingAdmissionPolicy: spec.admission.export is not true",
                    )
                    .about(res)
                    .field("spec.admission.export"),
                );
                continue;
            }
            any = true;
            if let Some((policy, binding)) = export_rule(res, spec, target, findings) {
                out.objects.push(policy);
                out.objects.push(binding);
                if let Some(p) = &spec.params {
                    out.params.push((
                        p.api_version.clone(),
                        p.kind.clone(),
                        p.name.clone(),
                        p.namespace.clone(),
                    ));
                }
            }
        }
        if !any {
            let message = "admission policies asked for, but no ValidationRule has spec.admission.export: true: no policy to emit";
            findings.push(if target.only {
                Finding::error(format!(
                    "{message} (and with `only`, nothing else is emitted)"
                ))
            } else {
                Finding::warning(message)
            });
        }
        out
    }
}

/// The name of the policy and binding of rule `name`.
pub fn policy_name(name: &str, inventory: Option<&str>) -> String {
    match inventory {
        Some(inv) => format!("nixernetes.{inv}.{name}"),
        None => format!("nixernetes.{name}"),
    }
}

/// The binding's `validationActions` for a rule of `severity` under `enforcement`.
pub fn validation_actions(severity: RuleSeverity, enforcement: Enforcement) -> Vec<&'static str> {
    match (severity, enforcement) {
        (RuleSeverity::Error, Enforcement::Enforce) => vec!["Deny"],
        (RuleSeverity::Error, Enforcement::Audit) => vec!["Warn", "Audit"],
        (RuleSeverity::Warning, _) => vec!["Warn"],
        // Nothing is reported locally under `off`, and info never fails: record only.
        (RuleSeverity::Error, Enforcement::Off) | (RuleSeverity::Info, _) => vec!["Audit"],
    }
}

/// The exemption match condition of rule `name`: an object that carries the rule's exemption
/// annotation (or `nixernetes.io/ignore-all`) is not judged, as at render time.
pub fn exemption_condition(name: &str) -> String {
    format!(
        "!has(object.metadata.annotations) || !('{}rule.{name}' in object.metadata.annotations || '{}' in object.metadata.annotations)",
        IGNORE_PREFIX, IGNORE_ALL
    )
}

/// The `producedBy` match condition: the object's `nixernetes.io/source` names one of `kinds`.
fn produced_by_condition(kinds: &[&str]) -> String {
    let list: Vec<String> = kinds.iter().map(|k| format!("'{k}/'")).collect();
    format!(
        "has(object.metadata.annotations) && 'nixernetes.io/source' in object.metadata.annotations && [{}].exists(k, object.metadata.annotations['nixernetes.io/source'].startsWith(k))",
        list.join(", ")
    )
}

/// The rule's spec as written (`res`), and its field `key`.
fn written<'a>(res: &'a Resource, key: &str) -> Option<&'a Value> {
    res.object.get("spec").and_then(|s| s.get(key))
}

/// Refuses every expression that calls a function the target lacks.
fn check_functions(res: &Resource, spec: &RuleSpec, minor: u32, findings: &mut Vec<Finding>) {
    let mut exprs: Vec<(String, &str)> = Vec::new();
    for (i, c) in spec.match_conditions.iter().enumerate() {
        exprs.push((
            format!("spec.matchConditions[{i}].expression"),
            &c.expression,
        ));
    }
    for (i, v) in spec.variables.iter().enumerate() {
        exprs.push((format!("spec.variables[{i}].expression"), &v.expression));
    }
    for (i, v) in spec.validations.iter().enumerate() {
        exprs.push((format!("spec.validations[{i}].expression"), &v.expression));
        if let Some(m) = &v.message_expression {
            exprs.push((format!("spec.validations[{i}].messageExpression"), m));
        }
    }
    for (i, a) in spec.audit_annotations.iter().enumerate() {
        exprs.push((
            format!("spec.auditAnnotations[{i}].valueExpression"),
            &a.value_expression,
        ));
    }
    for (field, text) in exprs {
        // Compiled when the rule loaded.
        let Ok(expr) = cel::compile(text) else {
            continue;
        };
        let missing: Vec<String> = expr
            .calls()
            .iter()
            .filter_map(|call| versions::unavailable(call, minor))
            .collect();
        if !missing.is_empty() {
            findings.push(
                Finding::error(format!(
                    "cannot be exported as a ValidatingAdmissionPolicy for Kubernetes 1.{minor}: {}",
                    missing.join("; ")
                ))
                .about(res)
                .field(field),
            );
        }
    }
}

/// The policy and binding of one rule, or `None` with the reasons in `findings`.
fn export_rule(
    res: &Resource,
    spec: &RuleSpec,
    target: &Target<'_>,
    findings: &mut Vec<Finding>,
) -> Option<(Resource, Resource)> {
    let before = findings.len();
    let admission = spec
        .admission
        .clone()
        .unwrap_or_else(|| super::spec::Admission {
            export: true,
            failure_policy: None,
            validation_actions: Vec::new(),
            scope: None,
        });
    let name = res.name();
    let err = |message: String, field: &str| Finding::error(message).about(res).field(field);
    check_functions(res, spec, target.minor, findings);
    if !spec.matches.modules.is_empty() {
        findings.push(err(
            "match.modules cannot be exported: module resources never reach the cluster".into(),
            "spec.match.modules",
        ));
    }
    let managed = match admission.scope.as_deref() {
        None | Some("managed") => true,
        Some("all") => false,
        Some(other) => {
            findings.push(err(
                format!("unknown scope {other:?}: expected `managed` (the default: objects this tool manages) or `all`"),
                "spec.admission.scope",
            ));
            false
        }
    };
    let actions = &admission.validation_actions;
    if actions.contains(&ValidationAction::Deny) && actions.contains(&ValidationAction::Warn) {
        findings.push(err(
            "Deny and Warn cannot be used together (the API server refuses the binding): Deny already tells the client".into(),
            "spec.admission.validationActions",
        ));
    }
    let full_name = policy_name(name, target.inventory);
    if let Err(why) = crate::validate::dns1123_subdomain(&full_name) {
        findings.push(err(
            format!("the policy name {full_name:?} is not a DNS-1123 subdomain: {why}"),
            "metadata.name",
        ));
    }

    // matchConstraints: the rule's match as written, without our fields, plus the scope.
    let mut constraints = written(res, "match")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    constraints.remove("producedBy");
    constraints.remove("modules");
    if managed {
        let selector = constraints
            .entry("objectSelector")
            .or_insert_with(|| json!({}));
        let labels = selector
            .as_object_mut()
            .map(|s| s.entry("matchLabels").or_insert_with(|| json!({})));
        let mut wanted = vec![(MANAGED_BY, "nixernetes")];
        if let Some(inv) = target.inventory {
            wanted.push((INVENTORY, inv));
        }
        if let Some(Value::Object(labels)) = labels {
            for (k, v) in wanted {
                match labels.get(k).and_then(Value::as_str) {
                    Some(had) if had != v => findings.push(err(
                        format!("objectSelector.matchLabels {k}: {had} contradicts the managed scope ({k}: {v}); set spec.admission.scope: all to keep your selector alone"),
                        "spec.match.objectSelector.matchLabels",
                    )),
                    _ => {
                        labels.insert(k.to_string(), Value::String(v.to_string()));
                    }
                }
            }
        }
    }

    // matchConditions: the exemption, producedBy, then the rule's own.
    let mut conditions = vec![json!({
        "name": EXEMPTION_CONDITION,
        "expression": exemption_condition(name),
    })];
    if !spec.matches.produced_by.is_empty() {
        let kinds: Vec<&str> = spec
            .matches
            .produced_by
            .iter()
            .map(|g| g.kind.as_str())
            .collect();
        conditions.push(json!({
            "name": PRODUCED_BY_CONDITION,
            "expression": produced_by_condition(&kinds),
        }));
    }
    for (i, c) in spec.match_conditions.iter().enumerate() {
        if c.name == EXEMPTION_CONDITION || c.name == PRODUCED_BY_CONDITION {
            findings.push(err(
                format!(
                    "the match condition name {:?} is the one the export adds: rename it",
                    c.name
                ),
                &format!("spec.matchConditions[{i}].name"),
            ));
        }
    }
    if let Some(Value::Array(own)) = written(res, "matchConditions") {
        conditions.extend(own.iter().cloned());
    }

    // validations as written, without fieldPath.
    let validations: Vec<Value> = match written(res, "validations") {
        Some(Value::Array(v)) => v
            .iter()
            .map(|v| {
                let mut v = v.clone();
                if let Value::Object(m) = &mut v {
                    m.remove("fieldPath");
                }
                v
            })
            .collect(),
        _ => Vec::new(),
    };

    if crate::finding::has_errors(&findings[before..]) {
        return None;
    }

    let labels = json!({MANAGED_BY: "nixernetes", RULE_LABEL: name});
    let mut pspec = Map::new();
    let failure = match admission.failure_policy {
        Some(FailurePolicy::Ignore) => "Ignore",
        _ => "Fail",
    };
    pspec.insert("failurePolicy".into(), json!(failure));
    if let Some(p) = &spec.params {
        pspec.insert(
            "paramKind".into(),
            json!({"apiVersion": p.api_version, "kind": p.kind}),
        );
    }
    pspec.insert("matchConstraints".into(), Value::Object(constraints));
    pspec.insert("matchConditions".into(), Value::Array(conditions));
    for key in ["variables"] {
        if let Some(v) = written(res, key).filter(|v| v.as_array().is_some_and(|a| !a.is_empty())) {
            pspec.insert(key.into(), v.clone());
        }
    }
    pspec.insert("validations".into(), Value::Array(validations));
    if let Some(v) =
        written(res, "auditAnnotations").filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        pspec.insert("auditAnnotations".into(), v.clone());
    }
    let policy = json!({
        "apiVersion": ADMISSION_API,
        "kind": POLICY,
        "metadata": {
            "name": full_name,
            "labels": labels,
            "annotations": {"nixernetes.io/source": format!("ValidationRule/{name}")},
        },
        "spec": pspec,
    });

    let actions: Vec<String> = if admission.validation_actions.is_empty() {
        validation_actions(spec.severity, target.enforcement)
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        admission
            .validation_actions
            .iter()
            .map(|a| {
                match a {
                    ValidationAction::Deny => "Deny",
                    ValidationAction::Warn => "Warn",
                    ValidationAction::Audit => "Audit",
                }
                .to_string()
            })
            .collect()
    };
    let mut bspec = Map::new();
    bspec.insert("policyName".into(), json!(full_name));
    if let Some(p) = &spec.params {
        let mut r = Map::new();
        r.insert("name".into(), json!(p.name));
        if let Some(ns) = &p.namespace {
            r.insert("namespace".into(), json!(ns));
        }
        let action = match p.parameter_not_found_action {
            Some(NotFound::Allow) => "Allow",
            _ => "Deny",
        };
        r.insert("parameterNotFoundAction".into(), json!(action));
        bspec.insert("paramRef".into(), Value::Object(r));
    }
    bspec.insert("validationActions".into(), json!(actions));
    let binding = json!({
        "apiVersion": ADMISSION_API,
        "kind": BINDING,
        "metadata": {"name": full_name, "labels": labels},
        "spec": bspec,
    });
    let object = |v: Value| {
        let Value::Object(m) = v else {
            return Resource::new(Map::new(), res.origin.clone());
        };
        Resource::new(m, res.origin.clone())
    };
    Some((object(policy), object(binding)))
}
