//! Reading rules: `ValidationRule`s, and input ValidatingAdmissionPolicies with their
//! bindings, compiled once when the run starts; every problem is an error at its field (CEL
//! compile errors with their column), whatever the enforcement.

use super::findings::{authorizer_warning, claim};
use super::spec::{self, Match, NotFound, RuleSeverity, RuleSpec, ValidationAction, VapSpec};
use super::{
    cel::{self, Reads},
    id_of, is_binding, is_policy, is_validation_rule, Check, Expr, From, Params, Rule, RuleSet,
    ADMISSION_API, BINDING, POLICY,
};
use crate::finding::{Finding, Severity};
use crate::resource::{Resource, API_VERSION};
use kube_cel::cel::Value as CelValue;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Takes the rules out of a run's input: `ValidationRule`s are removed from `inputs` (they are
/// configuration, never output), input ValidatingAdmissionPolicies and bindings stay (they are
/// the user's objects) and are evaluated too; `extra` are rules from `--rules` paths. Problems
/// with the rules are errors in `findings`, each at its field. With no rule anywhere this only
/// looks at each input's kind.
pub fn take(
    inputs: Vec<Resource>,
    extra: &[Resource],
    findings: &mut Vec<Finding>,
) -> (Vec<Resource>, RuleSet) {
    let any = |r: &Resource| is_validation_rule(r) || is_policy(r) || is_binding(r);
    if extra.is_empty() && !inputs.iter().any(any) {
        return (inputs, RuleSet::default());
    }
    let (rules, inputs): (Vec<Resource>, Vec<Resource>) =
        inputs.into_iter().partition(is_validation_rule);
    let mut sources: Vec<&Resource> = Vec::new();
    for r in extra {
        if any(r) {
            sources.push(r);
        } else {
            findings.push(
                Finding::error(format!(
                    "{} is not a rule: --rules reads ValidationRule ({API_VERSION}), {POLICY} and {BINDING} ({ADMISSION_API}) objects; put other objects in the input",
                    r.kind()
                ))
                .about(r),
            );
        }
    }
    sources.extend(rules.iter());
    sources.extend(inputs.iter().filter(|r| is_policy(r) || is_binding(r)));
    let set = load(&sources, &inputs, findings);
    (inputs, set)
}

/// Compiles `sources` (ValidationRules, policies and bindings); `inputs` are the objects that
/// parameters and namespaces are read from.
fn load(sources: &[&Resource], inputs: &[Resource], findings: &mut Vec<Finding>) -> RuleSet {
    let mut set = RuleSet::default();
    let mut names: HashMap<&'static str, &Resource> = HashMap::new();
    let policies: Vec<&Resource> = sources.iter().copied().filter(is_policy).collect();
    let bindings: Vec<&Resource> = sources.iter().copied().filter(is_binding).collect();
    for res in sources.iter().copied().filter(is_validation_rule) {
        if let Some(rule) = read_rule(res, inputs, findings) {
            if claim(&mut names, rule.id, res, findings) {
                set.rules.push(rule);
            }
        }
    }
    let mut bound: BTreeSet<&str> = BTreeSet::new();
    // Policies already reported broken: a second binding would report them again.
    let mut broken: BTreeSet<&str> = BTreeSet::new();
    for binding in &bindings {
        let Some(spec) = read_spec::<spec::BindingSpec>(binding, findings) else {
            continue;
        };
        let Some(policy) = policies.iter().find(|p| p.name() == spec.policy_name) else {
            findings.push(
                Finding::info(format!(
                    "binds {POLICY} {:?}, which is not in the input: not evaluated here",
                    spec.policy_name
                ))
                .about(binding)
                .field("spec.policyName"),
            );
            continue;
        };
        bound.insert(policy.name());
        if broken.contains(policy.name()) {
            continue;
        }
        let before = findings.len();
        let rule = read_policy(policy, binding, spec, inputs, findings);
        if crate::finding::has_errors(&findings[before..]) {
            broken.insert(policy.name());
        }
        if let Some(rule) = rule {
            if !crate::finding::has_errors(&findings[before..]) {
                let first = !set.rules.iter().any(|r| r.id == rule.id);
                if !first || claim(&mut names, rule.id, policy, findings) {
                    set.rules.push(rule);
                }
            }
        }
    }
    for policy in policies.iter().filter(|p| !bound.contains(p.name())) {
        // Still read, so that its mistakes are reported.
        if let Some(spec) = read_spec::<VapSpec>(policy, findings) {
            let _ = compile_policy_parts(policy, &spec, findings);
        }
        findings.push(
            Finding::info(format!(
                "no {BINDING} in the input binds this policy: not evaluated here"
            ))
            .about(policy),
        );
    }
    if !set.rules.is_empty() {
        for ns in inputs
            .iter()
            .filter(|r| r.api_version() == "v1" && r.kind() == "Namespace")
        {
            set.namespaces
                .insert(ns.name().to_string(), ns.object.clone());
        }
    }
    set
}

/// The spec of `res` as `T`; every structural problem reported at its field.
fn read_spec<T: DeserializeOwned + schemars::JsonSchema>(
    res: &Resource,
    findings: &mut Vec<Finding>,
) -> Option<T> {
    let mut ok = true;
    for key in res.object.keys() {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            let hint = crate::validate::suggest::did_you_mean(
                key,
                ["apiVersion", "kind", "metadata", "spec"],
            )
            .unwrap_or_else(|| "expected apiVersion, kind, metadata, spec".into());
            findings.push(
                Finding::error(format!("unknown field {key:?}: {hint}"))
                    .about(res)
                    .field(key.clone()),
            );
            ok = false;
        }
    }
    let name = res.name();
    if name.is_empty() {
        findings.push(
            Finding::error("required: name the rule (a DNS-1123 subdomain such as `max-replicas`)")
                .about(res)
                .field("metadata.name"),
        );
        ok = false;
    } else if let Err(why) = crate::validate::dns1123_subdomain(name) {
        findings.push(Finding::error(why).about(res).field("metadata.name"));
        ok = false;
    } else if name.len() > 58 {
        findings.push(
            Finding::error(format!(
                "at most 58 characters, found {}: the exemption annotation ignore-check.nixernetes.io/rule.{name} must fit a 63-character key",
                name.len()
            ))
            .about(res)
            .field("metadata.name"),
        );
        ok = false;
    }
    let spec = res.object.get("spec").cloned().unwrap_or(Value::Null);
    if spec.is_null() {
        findings.push(
            Finding::error("required: the rule's spec")
                .about(res)
                .field("spec"),
        );
        return None;
    }
    match crate::schema::strict::deserialize::<T>(&spec) {
        Ok(t) => ok.then_some(t),
        Err(e) => {
            let schema = crate::schema::spec_schema(T::json_schema).to_value();
            // (For a ValidationRule, this is `spec_schema()`.)
            let problems = crate::schema::validate_at(&schema, &spec, "spec");
            if problems.is_empty() {
                let path = e.path().to_string();
                let field = if path == "." {
                    "spec".to_string()
                } else {
                    format!("spec.{path}")
                };
                findings.push(
                    Finding::error(e.into_inner().to_string())
                        .about(res)
                        .field(field),
                );
            }
            for p in problems {
                let field = if p.path.is_empty() {
                    "spec".to_string()
                } else {
                    p.path
                };
                findings.push(Finding::error(p.message).about(res).field(field));
            }
            None
        }
    }
}

/// Compiles one expression at `field`, checking the variables it reads.
fn compile_at(
    res: &Resource,
    field: &str,
    text: &str,
    findings: &mut Vec<Finding>,
) -> Option<Expr> {
    match cel::compile(text) {
        Ok(expr) => {
            if expr.reads("self") {
                findings.push(
                    Finding::error(
                        "`self` is not bound in a rule: use `object`, as in ValidatingAdmissionPolicy",
                    )
                    .about(res)
                    .field(field.to_string()),
                );
                return None;
            }
            Some(expr)
        }
        Err(why) => {
            findings.push(
                Finding::error(format!("CEL does not compile: {why}"))
                    .about(res)
                    .field(field.to_string()),
            );
            None
        }
    }
}

/// The compiled parts every rule has, at their fields in `res`.
struct Parts {
    conditions: Vec<(String, Expr)>,
    variables: Vec<(String, Expr)>,
    validations: Vec<Check>,
    /// Whether an expression reads `authorizer` (unavailable offline).
    authorizer: bool,
    reads_namespace: bool,
    /// What the expressions read of `object`.
    object: Reads,
}

fn compile_parts(
    res: &Resource,
    conditions: &[spec::Named],
    variables: &[spec::Named],
    validations: &[spec::Validation],
    audit: &[spec::AuditAnnotation],
    findings: &mut Vec<Finding>,
) -> Option<Parts> {
    let before = findings.len();
    let mut parts = Parts {
        conditions: Vec::new(),
        variables: Vec::new(),
        validations: Vec::new(),
        authorizer: false,
        reads_namespace: false,
        object: Reads::default(),
    };
    let note = |e: &Expr, parts: &mut Parts| {
        parts.authorizer |= e.reads("authorizer");
        parts.reads_namespace |= e.reads("namespaceObject");
        parts.object.merge(&e.reads_of("object"));
    };
    let mut seen = BTreeSet::new();
    for (i, c) in conditions.iter().enumerate() {
        if !seen.insert(c.name.as_str()) {
            findings.push(
                Finding::error(format!("matchCondition name {:?} is used twice", c.name))
                    .about(res)
                    .field(format!("spec.matchConditions[{i}].name")),
            );
        }
        if let Some(e) = compile_at(
            res,
            &format!("spec.matchConditions[{i}].expression"),
            &c.expression,
            findings,
        ) {
            note(&e, &mut parts);
            parts.conditions.push((c.name.clone(), e));
        }
    }
    let mut seen = BTreeSet::new();
    for (i, v) in variables.iter().enumerate() {
        let identifier = v
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && v.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            findings.push(
                Finding::error(format!(
                    "variable name {:?} is not a CEL identifier (letters, digits and _, not starting with a digit)",
                    v.name
                ))
                .about(res)
                .field(format!("spec.variables[{i}].name")),
            );
        } else if !seen.insert(v.name.as_str()) {
            findings.push(
                Finding::error(format!("variable name {:?} is used twice", v.name))
                    .about(res)
                    .field(format!("spec.variables[{i}].name")),
            );
        }
        if let Some(e) = compile_at(
            res,
            &format!("spec.variables[{i}].expression"),
            &v.expression,
            findings,
        ) {
            note(&e, &mut parts);
            parts.variables.push((v.name.clone(), e));
        }
    }
    if validations.is_empty() {
        findings.push(
            Finding::error("required: at least one validation (an expression that must be true)")
                .about(res)
                .field("spec.validations"),
        );
    }
    for (i, v) in validations.iter().enumerate() {
        let (message, field_path) = (v.message.as_deref(), v.field_path.as_deref());
        let expr = compile_at(
            res,
            &format!("spec.validations[{i}].expression"),
            &v.expression,
            findings,
        );
        let message_expr = v.message_expression.as_deref().and_then(|m| {
            compile_at(
                res,
                &format!("spec.validations[{i}].messageExpression"),
                m,
                findings,
            )
        });
        if message.is_some_and(|m| m.contains('\n')) {
            findings.push(
                Finding::error("a message must be one line")
                    .about(res)
                    .field(format!("spec.validations[{i}].message")),
            );
        }
        if let Some(expr) = expr {
            note(&expr, &mut parts);
            if let Some(m) = &message_expr {
                note(m, &mut parts);
            }
            parts.validations.push(Check {
                expr,
                message: message.map(str::to_string),
                message_expr,
                field: field_path
                    .map(|f| f.trim_start_matches('.').to_string())
                    .unwrap_or_default(),
            });
        }
    }
    for (i, a) in audit.iter().enumerate() {
        if let Some(e) = compile_at(
            res,
            &format!("spec.auditAnnotations[{i}].valueExpression"),
            &a.value_expression,
            findings,
        ) {
            note(&e, &mut parts);
        }
    }
    (!crate::finding::has_errors(&findings[before..])).then_some(parts)
}

/// The match constraints must name resources, as the API server requires.
fn check_match(res: &Resource, m: &Match, field: &str, findings: &mut Vec<Finding>) {
    if m.resource_rules.is_empty() {
        findings.push(
            Finding::error("required: at least one resource rule (apiGroups, apiVersions, resources, operations)")
                .about(res)
                .field(format!("{field}.resourceRules")),
        );
    }
    if !m.modules.is_empty() {
        findings.push(
            Finding::error("match.modules (rules on module resources themselves) is not supported yet: match what they produce with producedBy")
                .about(res)
                .field(format!("{field}.modules")),
        );
    }
}

fn read_rule(res: &Resource, inputs: &[Resource], findings: &mut Vec<Finding>) -> Option<Rule> {
    let spec: RuleSpec = read_spec(res, findings)?;
    let before = findings.len();
    check_match(res, &spec.matches, "spec.match", findings);
    let parts = compile_parts(
        res,
        &spec.match_conditions,
        &spec.variables,
        &spec.validations,
        &spec.audit_annotations,
        findings,
    );
    if crate::finding::has_errors(&findings[before..]) {
        return None;
    }
    let parts = parts?;
    if parts.authorizer {
        authorizer_warning(res, findings);
    }
    let params = match &spec.params {
        None => Params::None,
        Some(p) => Params::From {
            candidates: candidates(inputs, &p.api_version, &p.kind),
            name: Some(p.name.clone()),
            namespace: p.namespace.clone(),
            selector: None,
            deny_when_missing: p.parameter_not_found_action != Some(NotFound::Allow),
            what: format!("{} {}/{}", p.api_version, p.kind, p.name),
        },
    };
    let ignore_errors =
        spec.admission.as_ref().and_then(|a| a.failure_policy) == Some(spec::FailurePolicy::Ignore);
    Some(Rule {
        id: id_of(res.name()),
        from: From::Rule,
        severity: match spec.severity {
            RuleSeverity::Error => Severity::Error,
            RuleSeverity::Warning => Severity::Warning,
            RuleSeverity::Info => Severity::Info,
        },
        matches: vec![spec.matches.clone()],
        ignore_errors,
        conditions: parts.conditions,
        variables: parts.variables,
        validations: parts.validations,
        params,
        reads_namespace: parts.reads_namespace,
        object: parts.object,
        local: !parts.authorizer,
        export: Some(Box::new((res.clone(), spec))),
    })
}

/// The objects of `api_version`/`kind` in the input, as parameter candidates.
fn candidates(
    inputs: &[Resource],
    api_version: &str,
    kind: &str,
) -> Vec<(Option<String>, Map<String, Value>, CelValue)> {
    inputs
        .iter()
        .filter(|r| r.api_version() == api_version && r.kind() == kind)
        .map(|r| {
            (
                r.namespace().map(str::to_string),
                r.object.clone(),
                cel::object(&r.object),
            )
        })
        .collect()
}

fn compile_policy_parts(
    res: &Resource,
    spec: &VapSpec,
    findings: &mut Vec<Finding>,
) -> Option<Parts> {
    // A policy's validations are a rule's without fieldPath.
    let validations: Vec<spec::Validation> = spec
        .validations
        .iter()
        .map(|v| spec::Validation {
            expression: v.expression.clone(),
            message: v.message.clone(),
            message_expression: v.message_expression.clone(),
            reason: v.reason,
            field_path: None,
        })
        .collect();
    match &spec.match_constraints {
        Some(m) => check_match(res, m, "spec.matchConstraints", findings),
        None => findings.push(
            Finding::error("required: matchConstraints with at least one resource rule")
                .about(res)
                .field("spec.matchConstraints"),
        ),
    }
    compile_parts(
        res,
        &spec.match_conditions,
        &spec.variables,
        &validations,
        &spec.audit_annotations,
        findings,
    )
}

fn read_policy(
    policy: &Resource,
    binding: &Resource,
    bspec: spec::BindingSpec,
    inputs: &[Resource],
    findings: &mut Vec<Finding>,
) -> Option<Rule> {
    let spec: VapSpec = read_spec(policy, findings)?;
    let parts = compile_policy_parts(policy, &spec, findings)?;
    if parts.authorizer {
        authorizer_warning(policy, findings);
        return None;
    }
    if bspec.validation_actions.is_empty() {
        findings.push(
            Finding::error("required: validationActions (Deny, Warn and/or Audit)")
                .about(binding)
                .field("spec.validationActions"),
        );
        return None;
    }
    let severity = if bspec.validation_actions.contains(&ValidationAction::Deny) {
        Severity::Error
    } else if bspec.validation_actions.contains(&ValidationAction::Warn) {
        Severity::Warning
    } else {
        Severity::Info
    };
    let params = match (&spec.param_kind, &bspec.param_ref) {
        (None, _) => Params::None,
        (Some(kind), None) => {
            findings.push(
                Finding::error(format!(
                    "the policy has paramKind {} {}: the binding needs a paramRef",
                    kind.api_version, kind.kind
                ))
                .about(binding)
                .field("spec.paramRef"),
            );
            return None;
        }
        (Some(kind), Some(r)) => {
            if r.name.is_some() == r.selector.is_some() {
                findings.push(
                    Finding::error("paramRef needs exactly one of name and selector")
                        .about(binding)
                        .field("spec.paramRef"),
                );
                return None;
            }
            Params::From {
                candidates: candidates(inputs, &kind.api_version, &kind.kind),
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                selector: r.selector.clone(),
                // Required by the API; when left out, fail closed.
                deny_when_missing: r.parameter_not_found_action != Some(NotFound::Allow),
                what: format!(
                    "{} {}{}",
                    kind.api_version,
                    kind.kind,
                    r.name
                        .as_deref()
                        .map(|n| format!("/{n}"))
                        .unwrap_or_default()
                ),
            }
        }
    };
    let mut matches = vec![spec.match_constraints?];
    if let Some(m) = bspec.match_resources {
        if !m.modules.is_empty() || !m.produced_by.is_empty() {
            findings.push(
                Finding::error("matchResources takes the ValidatingAdmissionPolicy fields only")
                    .about(binding)
                    .field("spec.matchResources"),
            );
            return None;
        }
        matches.push(m);
    }
    Some(Rule {
        id: id_of(policy.name()),
        from: From::Policy {
            binding: binding.name().to_string(),
        },
        severity,
        matches,
        ignore_errors: spec.failure_policy == Some(spec::FailurePolicy::Ignore),
        conditions: parts.conditions,
        variables: parts.variables,
        validations: parts.validations,
        params,
        reads_namespace: parts.reads_namespace,
        object: parts.object,
        local: true,
        export: None,
    })
}
