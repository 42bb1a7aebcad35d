//! Compiling a definition: its schema checked, every CEL expression compiled and checked
//! statically (functions exist, `self.spec.…` reads are in the schema, siblings are read after
//! they render), templates parsed into nodes.

use super::*;
use crate::validate::code;

/// Whether `function` is one CEL knows here: probed by calling it with no arguments, which
/// fails on the arguments for a function that exists and on the name for one that does not.
fn known_function(engine: &CelContext<'static>, target: Option<&str>, function: &str) -> bool {
    let text = match target {
        Some(t) => format!("{t}.{function}()"),
        None => format!("{function}()"),
    };
    let Ok(p) = kube_cel::cel::Program::compile(&text) else {
        return true;
    };
    let scope = engine.new_inner_scope();
    match p.execute(&scope) {
        Err(ExecutionError::UndeclaredReference(name)) => {
            let qualified = target.map(|t| format!("{t}.{function}"));
            name.as_str() != function && Some(name.as_str()) != qualified.as_deref()
        }
        _ => true,
    }
}

/// The calls of `e`: (target identifier, function name).
fn calls(e: &kube_cel::cel::IdedExpr, out: &mut Vec<(Option<String>, String)>) {
    use kube_cel::cel::common::ast::{EntryExpr, Expr as E};
    match &e.expr {
        E::Call(c) => {
            let plain = c
                .func_name
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_alphabetic());
            if plain {
                let target = c.target.as_ref().and_then(|t| match &t.expr {
                    E::Ident(n) => Some(n.clone()),
                    _ => None,
                });
                out.push((target, c.func_name.clone()));
            }
            if let Some(t) = &c.target {
                calls(t, out);
            }
            c.args.iter().for_each(|a| calls(a, out));
        }
        E::Select(s) => calls(&s.operand, out),
        E::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                calls(x, out);
            }
        }
        E::List(l) => l.elements.iter().for_each(|x| calls(x, out)),
        E::Map(m) => m.entries.iter().for_each(|x| match &x.expr {
            EntryExpr::MapEntry(me) => {
                calls(&me.key, out);
                calls(&me.value, out);
            }
            EntryExpr::StructField(f) => calls(&f.value, out),
        }),
        E::Struct(s) => s.entries.iter().for_each(|x| match &x.expr {
            EntryExpr::MapEntry(me) => calls(&me.value, out),
            EntryExpr::StructField(f) => calls(&f.value, out),
        }),
        E::Ident(_) | E::Literal(_) | E::Unspecified => {}
    }
}

/// Compiles one `${…}` condition or iterator source, written as a whole `${expr}`.
fn compile_whole(text: &str) -> Result<Expr, String> {
    match template::split(text)? {
        Some(segments) => match segments.as_slice() {
            [template::Segment::Expr(e)] => {
                cel::compile(e.trim()).map_err(|why| format!("CEL does not compile: {why}"))
            }
            _ => Err(format!("expected one `${{…}}` expression, found {text:?}")),
        },
        None => Err(format!("expected a `${{…}}` expression, found {text:?}")),
    }
}

/// Compiles a parsed definition and checks every expression; `None` when it has errors.
pub(super) fn compile(
    p: &Parsed,
    engine: &CelContext<'static>,
    findings: &mut Vec<Finding>,
) -> Option<UserKind> {
    let before = findings.len();
    let res = &p.res;
    let err = |field: String, msg: String| Finding::error(msg).about(res).field(field);
    // Structurally checked when read (`load::read`).
    let root = &p.spec.schema.open_api_v3_schema;
    // The schema's own rules (compiled by kube-cel once, for every instance).
    let rules = kube_cel::compile_schema(root);
    let mut rule_texts = Vec::new();
    rule_exprs(root, "spec.schema.openAPIV3Schema", &mut rule_texts);
    let kind = p.spec.kind.as_str();
    // Every expression, with its field: (field, expression, whether it reads the whole
    // instance as `self`).
    let mut exprs: Vec<(String, Expr, bool)> = Vec::new();
    for (field, text, at_root) in rule_texts {
        match cel::compile(&text) {
            Ok(e) => exprs.push((field, e, at_root)),
            Err(why) => findings.push(err(field, format!("CEL does not compile: {why}"))),
        }
    }
    let mut templates = Vec::new();
    for (i, r) in p.spec.resources.iter().enumerate() {
        let at = format!("spec.resources[{i}]");
        let mut include = Vec::new();
        for (j, text) in r.include_when.iter().enumerate() {
            match compile_whole(text) {
                Ok(e) => {
                    exprs.push((format!("{at}.includeWhen[{j}]"), e.clone_expr(), true));
                    include.push((format!("{at}.includeWhen[{j}]"), e));
                }
                Err(why) => findings.push(err(format!("{at}.includeWhen[{j}]"), why)),
            }
        }
        let mut for_each = Vec::new();
        for (j, entry) in r.for_each.iter().enumerate() {
            if entry.len() != 1 {
                findings.push(err(
                    format!("{at}.forEach[{j}]"),
                    "each forEach entry names one iterator: `- name: ${list}`".into(),
                ));
                continue;
            }
            for (name, text) in entry {
                match compile_whole(text) {
                    Ok(e) => {
                        exprs.push((format!("{at}.forEach[{j}].{name}"), e.clone_expr(), true));
                        for_each.push((name.clone(), e));
                    }
                    Err(why) => findings.push(err(format!("{at}.forEach[{j}].{name}"), why)),
                }
            }
        }
        let mut tproblems = Vec::new();
        let node = template::compile(&r.template, "", &mut tproblems);
        for pr in tproblems {
            findings.push(err(field_of(&at, &pr.path), pr.message));
        }
        let mut located = Vec::new();
        node.expressions(&mut located);
        for l in located {
            exprs.push((field_of(&at, &l.path), l.expr.clone_expr(), true));
        }
        templates.push(Template {
            id: r.id.clone(),
            include_when: include,
            for_each,
            node,
            raw: r.template.clone(),
        });
    }
    // The static checks of every expression.
    let ids: Vec<&str> = p.spec.resources.iter().map(|r| r.id.as_str()).collect();
    for (field, e, at_root) in &exprs {
        let mut c = Vec::new();
        calls(e.program.expression(), &mut c);
        for (target, f) in c {
            if !known_function(engine, target.as_deref(), &f) {
                let name = match &target {
                    Some(t) => format!("{t}.{f}"),
                    None => f.clone(),
                };
                findings.push(err(field.clone(), format!("{}: unknown function {name}(): CEL here has the standard functions and the Kubernetes libraries (strings, lists, sets, regex, URLs, IP/CIDR, quantity, semver, format), plus omit()", code(&e.text))));
            }
        }
        if !at_root {
            continue;
        }
        let reads = analysis::reads(e.program.expression());
        for chain in &reads.chains {
            match analysis::check_chain(root, chain, &reads.guarded, kind) {
                Err(why) => findings.push(err(field.clone(), format!("{}: {why}", code(&e.text)))),
                Ok(Some(optional)) => findings.push(
                    Finding::warning(format!(
                        "{} reads self.{optional}, which is optional with no default: an instance without it fails to render; guard the read (has(self.{optional}) ? … : …) or give the field a default",
                        code(&e.text)
                    ))
                    .about(res)
                    .field(field.clone()),
                ),
                Ok(None) => {}
            }
        }
        for (var, first) in &reads.others {
            if ids.contains(&var.as_str()) && first == "status" {
                findings.push(err(field.clone(), format!("{}: {var}.status is what a cluster reports, and nothing is applied here: read the sibling's template output (its spec, metadata)", code(&e.text))));
            }
        }
    }
    // Siblings read before they are rendered.
    for (i, t) in templates.iter().enumerate() {
        let mut located = Vec::new();
        t.node.expressions(&mut located);
        let texts: Vec<&Expr> = located
            .iter()
            .map(|l| &l.expr)
            .chain(t.include_when.iter().map(|(_, e)| e))
            .chain(t.for_each.iter().map(|(_, e)| e))
            .collect();
        for e in texts {
            for later in &ids[i..] {
                if e.reads(later) {
                    findings.push(err(format!("spec.resources[{i}]"), format!("{} reads {later}, which is not rendered yet: a template reads only the resources listed before it", code(&e.text))));
                }
            }
        }
    }
    if has_errors(&findings[before..]) {
        return None;
    }
    Some(UserKind {
        name: res.name().to_string(),
        api_version: p.api_version.clone(),
        group: p.spec.group.clone(),
        version: p.spec.version.clone(),
        kind: p.spec.kind.clone(),
        summary: p.spec.summary.clone(),
        category: intern(p.spec.category.clone().unwrap_or_else(|| "user".into())),
        origin: res.origin.clone(),
        schema: root.clone(),
        structural: schema::structural(root),
        rules,
        templates,
    })
}

/// Every `x-kubernetes-validations` rule of the schema: (field, rule, whether `self` is the
/// whole instance).
fn rule_exprs(s: &Value, path: &str, out: &mut Vec<(String, String, bool)>) {
    let root = path == "spec.schema.openAPIV3Schema";
    if let Some(rules) = s.get("x-kubernetes-validations").and_then(Value::as_array) {
        for (i, r) in rules.iter().enumerate() {
            if let Some(text) = r.get("rule").and_then(Value::as_str) {
                out.push((
                    format!("{path}.x-kubernetes-validations[{i}].rule"),
                    text.to_string(),
                    root,
                ));
            }
        }
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (k, sub) in props {
            rule_exprs(sub, &format!("{path}.properties.{k}"), out);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = s.get(key).filter(|v| v.is_object()) {
            rule_exprs(sub, &format!("{path}.{key}"), out);
        }
    }
}

trait CloneExpr {
    fn clone_expr(&self) -> Expr;
}

impl CloneExpr for Expr {
    /// A second compiled copy (a `Program` is not `Clone`); only used at load time.
    fn clone_expr(&self) -> Expr {
        cel::compile(&self.text).expect("compiled once already")
    }
}
