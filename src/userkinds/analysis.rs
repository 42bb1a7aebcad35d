//! Static checks of the expressions of a `KindDefinition`, on the parsed CEL (there is no CEL
//! type checker): the `self.spec.…` select chains against the kind's schema (an unknown field is
//! an error, an unguarded read of an optional one a warning), reads of a sibling's `.status`,
//! and calls of functions CEL does not have.

use super::schema::{field, Field};
use kube_cel::cel::common::ast::{EntryExpr, Expr};
use kube_cel::cel::IdedExpr;
use serde_json::Value;

/// What one expression reads.
#[derive(Debug, Default)]
pub struct Reads {
    /// Field chains read from `self` (or `schema`), e.g. `["spec", "host"]`.
    pub chains: Vec<Vec<String>>,
    /// Chains tested with `has()`, read with `?.`, or ended with `orValue`: guarded.
    pub guarded: Vec<Vec<String>>,
    /// First fields read from each other variable, e.g. (`web`, `status`).
    pub others: Vec<(String, String)>,
}

/// The chains of `e`.
pub fn reads(e: &IdedExpr) -> Reads {
    let mut r = Reads::default();
    walk(e, &mut r, false);
    r
}

/// `self.a.b` as (`self`, [a, b]); `None` for anything else.
fn chain(e: &IdedExpr) -> Option<(String, Vec<String>)> {
    match &e.expr {
        Expr::Ident(name) => Some((name.clone(), Vec::new())),
        Expr::Select(s) if !s.test => {
            let (root, mut path) = chain(&s.operand)?;
            path.push(s.field.clone());
            Some((root, path))
        }
        // `a.?b`: an optional select.
        Expr::Call(c) if c.func_name == "_?._" && c.args.len() == 2 => {
            let (root, mut path) = chain(&c.args[0])?;
            match &c.args[1].expr {
                Expr::Literal(kube_cel::cel::common::ast::LiteralValue::String(s)) => {
                    path.push(s.inner().to_string());
                    Some((root, path))
                }
                _ => None,
            }
        }
        // `a['b']` with a literal key.
        Expr::Call(c) if c.func_name == "_[_]" && c.args.len() == 2 => {
            let (root, mut path) = chain(&c.args[0])?;
            match &c.args[1].expr {
                Expr::Literal(kube_cel::cel::common::ast::LiteralValue::String(s)) => {
                    path.push(s.inner().to_string());
                    Some((root, path))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn record(root: String, path: Vec<String>, r: &mut Reads, guarded: bool) {
    if root == "self" || root == "schema" {
        if guarded {
            r.guarded.push(path.clone());
        }
        r.chains.push(path);
    } else if let Some(first) = path.into_iter().next() {
        r.others.push((root, first));
    }
}

fn walk(e: &IdedExpr, r: &mut Reads, guarded: bool) {
    if let Some((root, path)) = chain(e) {
        let optional = matches!(&e.expr, Expr::Call(c) if c.func_name == "_?._");
        record(root, path, r, guarded || optional);
        // The operands of an optional select or index may hold other reads.
        if let Expr::Call(c) = &e.expr {
            for a in &c.args[1..] {
                walk(a, r, false);
            }
        }
        return;
    }
    match &e.expr {
        Expr::Select(s) if s.test => {
            // has(self.spec.host): the chain is guarded.
            if let Some((root, mut path)) = chain(&s.operand) {
                path.push(s.field.clone());
                record(root, path, r, true);
            } else {
                walk(&s.operand, r, guarded);
            }
        }
        Expr::Select(s) => walk(&s.operand, r, guarded),
        Expr::Call(c) => {
            let guarding = matches!(c.func_name.as_str(), "orValue" | "hasValue" | "or");
            if let Some(t) = &c.target {
                walk(t, r, guarded || guarding);
            }
            for a in &c.args {
                walk(a, r, guarded);
            }
        }
        Expr::Comprehension(c) => {
            walk(&c.iter_range, r, guarded);
            walk(&c.accu_init, r, guarded);
            walk(&c.loop_cond, r, guarded);
            walk(&c.loop_step, r, guarded);
            walk(&c.result, r, guarded);
        }
        Expr::List(l) => l.elements.iter().for_each(|x| walk(x, r, guarded)),
        Expr::Map(m) => m.entries.iter().for_each(|x| match &x.expr {
            EntryExpr::MapEntry(me) => {
                walk(&me.key, r, guarded);
                walk(&me.value, r, guarded);
            }
            EntryExpr::StructField(f) => walk(&f.value, r, guarded),
        }),
        Expr::Struct(s) => s.entries.iter().for_each(|x| match &x.expr {
            EntryExpr::MapEntry(me) => walk(&me.value, r, guarded),
            EntryExpr::StructField(f) => walk(&f.value, r, guarded),
        }),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// What a chain read from `self` finds: `Err` for an unknown field, `Ok(Some(field))` when it
/// passes through an optional field no guard covers, `Ok(None)` when it is sound.
pub fn check_chain(
    root: &Value,
    chain: &[String],
    guarded: &[Vec<String>],
    kind: &str,
) -> Result<Option<String>, String> {
    // `self.metadata`, `self.apiVersion`, `self.kind` are the envelope: not in the schema.
    if matches!(
        chain.first().map(String::as_str),
        Some("metadata" | "apiVersion" | "kind") | None
    ) {
        return Ok(None);
    }
    let mut node = root;
    let mut unguarded = None;
    for (i, name) in chain.iter().enumerate() {
        match field(node, name, kind) {
            Field::Open => return Ok(unguarded),
            Field::Unknown(why) => return Err(why),
            Field::Declared { schema, optional } => {
                let prefix = &chain[..=i];
                let covered = guarded.iter().any(|g| g.starts_with(prefix));
                if optional && !covered && unguarded.is_none() {
                    unguarded = Some(prefix.join("."));
                }
                node = schema;
            }
        }
    }
    Ok(unguarded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Reads {
        let p = kube_cel::cel::Program::compile(text).unwrap();
        reads(p.expression())
    }

    #[test]
    fn chains_and_guards() {
        let r = parse("has(self.spec.host) ? [self.spec.host] : []");
        assert!(r.chains.contains(&vec!["spec".into(), "host".into()]));
        assert!(r.guarded.contains(&vec!["spec".into(), "host".into()]));
        let r =
            parse("(has(self.spec.host) ? self.spec.host : 'x') + web.status.x + schema.spec['a']");
        assert!(
            r.guarded.contains(&vec!["spec".into(), "host".into()]),
            "{r:?}"
        );
        assert_eq!(r.others, vec![("web".to_string(), "status".to_string())]);
        assert!(r.chains.contains(&vec!["spec".into(), "a".into()]));
        let r = parse("self.spec.items.map(i, i.name + self.spec.x)");
        assert!(r.chains.contains(&vec!["spec".into(), "x".into()]), "{r:?}");
    }

    #[test]
    fn chains_are_checked_against_the_schema() {
        let root = json!({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object", "required": ["image"], "properties": {
            "image": {"type": "string"}, "replicas": {"type": "integer", "default": 2}, "host": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}}});
        let c = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_chain(&root, &c(&["spec", "replicas"]), &[], "K"),
            Ok(None)
        );
        assert_eq!(
            check_chain(&root, &c(&["spec", "image", "size"]), &[], "K"),
            Ok(None)
        );
        assert_eq!(
            check_chain(&root, &c(&["spec", "labels", "a"]), &[], "K").map(|_| ()),
            Ok(())
        );
        assert_eq!(
            check_chain(&root, &c(&["spec", "host"]), &[], "K"),
            Ok(Some("spec.host".into()))
        );
        assert_eq!(
            check_chain(&root, &c(&["spec", "host"]), &[c(&["spec", "host"])], "K"),
            Ok(None)
        );
        let e = check_chain(&root, &c(&["spec", "replica"]), &[], "K").unwrap_err();
        assert!(e.contains("did you mean \"replicas\""), "{e}");
    }
}
