//! Evaluating rules on one object: matching (no CEL), then, for each rule that matches, the
//! parts of the object the rule reads converted to a CEL value (see `cel::Reads`), `params`
//! bound, match conditions, variables in order, validations and their messages, as the API
//! server evaluates a CREATE.

use super::{cel, matching, Check, From, Hit, Params, Rule, RuleEngine, RuleSet};
use crate::resource::Resource;
use kube_cel::cel::Value as CelValue;
use serde_json::Value;

impl RuleSet {
    /// Evaluates every rule that matches `obj`; hits go to `out` in rule order. Only what a
    /// matching rule reads of the object is converted to a CEL value.
    pub fn evaluate(&self, obj: &Resource, out: &mut Vec<Hit>) {
        if self.rules.is_empty() {
            return;
        }
        let namespace = obj
            .namespace()
            .filter(|_| !crate::resource::is_cluster_scoped(obj.api_version(), obj.kind()));
        let ns_object = namespace.and_then(|n| self.namespaces.get(n));
        let ns_labels = ns_object
            .and_then(|o| o.get("metadata"))
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object);
        let target = matching::Target::of(obj, ns_labels);
        let matched: Vec<(usize, &Rule)> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.local && r.matches.iter().all(|m| matching::matches(m, &target)))
            .collect();
        if matched.is_empty() {
            return;
        }
        let engine = self.engine.get_or_init(RuleEngine::default);
        let mut scope = engine.scope();
        scope.add_variable_from_value("oldObject", CelValue::Null);
        scope.add_variable_from_value("request", request(obj, &target));
        if matched.iter().any(|(_, r)| r.reads_namespace) {
            let ns = ns_object.map(cel::object).unwrap_or(CelValue::Null);
            scope.add_variable_from_value("namespaceObject", ns);
        }
        for (at, rule) in matched {
            let hit = |field: &str, message: String| Hit {
                rule: at,
                id: rule.id,
                severity: rule.severity,
                field: field.to_string(),
                message: match &rule.from {
                    From::Rule => message,
                    From::Policy { binding } => format!("{message} (binding {binding})"),
                },
            };
            let params = match rule.params(obj.namespace()) {
                Ok(p) => p,
                Err(Some(why)) => {
                    out.push(hit("", why));
                    continue;
                }
                Err(None) => continue,
            };
            let mut rule_scope = scope.new_inner_scope();
            rule_scope.add_variable_from_value("object", rule.object.prune(&obj.object));
            for param in params {
                let mut ctx = rule_scope.new_inner_scope();
                ctx.add_variable_from_value("params", param);
                rule.run(&mut ctx, &mut |field, message| {
                    out.push(hit(field, message))
                });
            }
        }
    }
}

impl Rule {
    /// The `params` values to evaluate the rule with (one evaluation each, all must pass):
    /// `Err(Some(why))` when a required parameter object is missing (under failurePolicy
    /// Fail), `Err(None)` when the rule is to be skipped.
    fn params(&self, namespace: Option<&str>) -> Result<Vec<CelValue>, Option<String>> {
        let Params::From {
            candidates,
            name,
            namespace: wanted_ns,
            selector,
            deny_when_missing,
            what,
        } = &self.params
        else {
            return Ok(vec![CelValue::Null]);
        };
        let ns = wanted_ns.as_deref().or(namespace);
        let found: Vec<CelValue> = candidates
            .iter()
            .filter(|(cns, _, _)| cns.is_none() || cns.as_deref() == ns)
            .filter(|(_, obj, _)| {
                let meta = obj.get("metadata");
                let n = meta.and_then(|m| m.get("name")).and_then(Value::as_str);
                let labels = meta
                    .and_then(|m| m.get("labels"))
                    .and_then(Value::as_object);
                name.as_deref().is_none_or(|want| n == Some(want))
                    && selector
                        .as_ref()
                        .is_none_or(|s| matching::selects(s, labels))
            })
            .map(|(_, _, v)| v.clone())
            .collect();
        if !found.is_empty() {
            Ok(found)
        } else if *deny_when_missing && !self.ignore_errors {
            Err(Some(format!(
                "no parameter object {what} in the input (parameterNotFoundAction: Deny)"
            )))
        } else {
            Err(None)
        }
    }

    /// Evaluates the rule in `ctx` (object, request, params bound), reporting each failure.
    fn run(&self, ctx: &mut kube_cel::cel::Context<'_>, report: &mut dyn FnMut(&str, String)) {
        // Any false condition skips the rule, whatever errors the others give; otherwise an
        // error fails the rule (failurePolicy Fail), as the API server does.
        let mut error = None;
        for (name, cond) in &self.conditions {
            match cel::eval(cond, ctx) {
                Ok(CelValue::Bool(true)) => {}
                Ok(CelValue::Bool(false)) => return,
                Ok(other) => {
                    error.get_or_insert_with(|| {
                        format!(
                            "matchCondition '{name}' must evaluate to a boolean, found {}",
                            cel::describe(&other)
                        )
                    });
                }
                Err(e) => {
                    error.get_or_insert_with(|| {
                        format!("matchCondition '{name}' resulted in error: {e}")
                    });
                }
            }
        }
        if let Some(why) = error {
            if !self.ignore_errors {
                report("", why);
            }
            return;
        }
        // In order, each seeing the ones before; a failing one is reported only where used.
        let mut values: Vec<(&str, CelValue)> = Vec::new();
        let mut failed: Vec<(&str, String)> = Vec::new();
        for (name, expr) in &self.variables {
            ctx.add_variable_from_value("variables", cel::map_of(values.clone()));
            match cel::eval(expr, ctx) {
                Ok(v) => values.push((name, v)),
                Err(e) => failed.push((name, e.to_string())),
            }
        }
        if !self.variables.is_empty() {
            ctx.add_variable_from_value("variables", cel::map_of(values));
        }
        for check in &self.validations {
            let error = match cel::eval(&check.expr, ctx) {
                Ok(CelValue::Bool(true)) => continue,
                Ok(CelValue::Bool(false)) => {
                    report(&check.field, check.message(ctx));
                    continue;
                }
                Ok(other) => format!(
                    "expression '{}' must evaluate to a boolean, found {}",
                    check.expr.text,
                    cel::describe(&other)
                ),
                Err(e) => match failed
                    .iter()
                    .find(|(n, _)| check.expr.text.contains(&format!("variables.{n}")))
                {
                    Some((n, why)) => format!("variable '{n}' resulted in error: {why}"),
                    None => format!("expression '{}' resulted in error: {e}", check.expr.text),
                },
            };
            if !self.ignore_errors {
                report(&check.field, error);
            }
        }
    }
}

impl Check {
    /// The message of a failed check: `messageExpression` when it gives a one-line string,
    /// else `message`, else what the API server says.
    fn message(&self, ctx: &kube_cel::cel::Context<'_>) -> String {
        if let Some(expr) = &self.message_expr {
            if let Ok(CelValue::String(s)) = cel::eval(expr, ctx) {
                let s = s.trim();
                if !s.is_empty() && !s.contains('\n') {
                    return s.to_string();
                }
            }
        }
        match &self.message {
            Some(m) if !m.trim().is_empty() => m.clone(),
            _ => format!("failed expression: {}", self.expr.text),
        }
    }
}

/// The `request` of a CREATE of `obj`, as admission would see it.
fn request(obj: &Resource, t: &matching::Target<'_>) -> CelValue {
    cel::map_of(vec![
        ("operation", cel::string("CREATE")),
        ("name", cel::string(obj.name())),
        ("namespace", cel::string(obj.namespace().unwrap_or(""))),
        ("dryRun", CelValue::Bool(false)),
        (
            "kind",
            cel::map_of(vec![
                ("group", cel::string(t.group)),
                ("version", cel::string(t.version)),
                ("kind", cel::string(obj.kind())),
            ]),
        ),
        (
            "resource",
            cel::map_of(vec![
                ("group", cel::string(t.group)),
                ("version", cel::string(t.version)),
                ("resource", cel::string(&t.resource)),
            ]),
        ),
    ])
}
