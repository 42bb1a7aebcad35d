//! Templates of a `KindDefinition`: YAML values whose strings may hold `${CEL}`. A string that is
//! exactly one `${expr}` takes the expression's value with its type (int, bool, map, list); any
//! other string with `${…}` in it interpolates, and each interpolated value must be a string
//! (kro's rule). `omit()` as a value removes the field (or list item) it stands for.
//!
//! A template is compiled once, when its definition loads: every expression is parsed there, so
//! an instance never meets a syntax error.

use crate::rules::cel::{self, Expr};
use kube_cel::cel::objects::Key;
use kube_cel::cel::{Context, Value};
use serde_json::Value as Json;

/// What `omit()` returns: a string no user value can hold (it has a NUL), removed from the
/// output wherever it ends up as a whole value.
pub const OMIT: &str = "\u{0}nixernetes:omit\u{0}";

/// A compiled template value.
#[derive(Debug)]
pub enum Node {
    /// No expression anywhere below: copied as written.
    Literal(Json),
    /// A string that is exactly `${expr}`: the value, typed.
    Whole(Located),
    /// A string with text and `${…}` parts: a string.
    Interpolated(Vec<Part>, String),
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
}

/// An expression and the template field it is at (`spec.replicas`, from the template's root).
#[derive(Debug)]
pub struct Located {
    pub expr: Expr,
    pub path: String,
}

#[derive(Debug)]
pub enum Part {
    Text(String),
    Expr(Located),
}

/// A problem with one expression of a template: where (the template field) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// The `${…}` parts of `s`: `Ok(None)` when it has none; the error says what is unbalanced.
pub fn split(s: &str) -> Result<Option<Vec<Segment<'_>>>, String> {
    if !s.contains("${") {
        return Ok(None);
    }
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let (mut i, mut text_from) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            if text_from < i {
                out.push(Segment::Text(&s[text_from..i]));
            }
            let start = i + 2;
            let end = closing_brace(s, start).ok_or_else(|| {
                format!(
                    "`${{` at character {} has no closing `}}`",
                    s[..i].chars().count() + 1
                )
            })?;
            out.push(Segment::Expr(&s[start..end]));
            i = end + 1;
            text_from = i;
        } else {
            i += 1;
        }
    }
    if text_from < s.len() {
        out.push(Segment::Text(&s[text_from..]));
    }
    Ok(Some(out))
}

/// One piece of a string with `${…}`.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Expr(&'a str),
}

/// The index of the `}` closing an expression that starts at `from`: braces inside CEL map
/// literals nest, and braces inside CEL string literals do not count.
fn closing_brace(s: &str, from: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'{' => depth += 1,
                b'}' if depth == 0 => return Some(i),
                b'}' => depth -= 1,
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Compiles `value`, a template or part of one at `path`; every problem goes to `problems`.
pub fn compile(value: &Json, path: &str, problems: &mut Vec<Problem>) -> Node {
    match value {
        Json::String(s) => match split(s) {
            Ok(None) => Node::Literal(value.clone()),
            Err(why) => {
                problems.push(Problem {
                    path: path.to_string(),
                    message: why,
                });
                Node::Literal(Json::Null)
            }
            Ok(Some(segments)) => {
                let mut compile_one = |text: &str| match cel::compile(text.trim()) {
                    Ok(expr) => Some(Located {
                        expr,
                        path: path.to_string(),
                    }),
                    Err(why) => {
                        problems.push(Problem {
                            path: path.to_string(),
                            message: format!("CEL does not compile: {why}"),
                        });
                        None
                    }
                };
                if let [Segment::Expr(text)] = segments.as_slice() {
                    return compile_one(text)
                        .map(Node::Whole)
                        .unwrap_or(Node::Literal(Json::Null));
                }
                let parts = segments
                    .into_iter()
                    .filter_map(|seg| match seg {
                        Segment::Text(t) => Some(Part::Text(t.to_string())),
                        Segment::Expr(e) => compile_one(e).map(Part::Expr),
                    })
                    .collect();
                Node::Interpolated(parts, path.to_string())
            }
        },
        Json::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            let mut dynamic = false;
            for (k, v) in map {
                if k.contains("${") {
                    problems.push(Problem {
                        path: join(path, k),
                        message: "a key cannot hold an expression: compute the whole map instead (`field: ${{ {\"key\": value} }}`)".into(),
                    });
                }
                let node = compile(v, &join(path, k), problems);
                dynamic |= !matches!(node, Node::Literal(_));
                entries.push((k.clone(), node));
            }
            if dynamic {
                Node::Map(entries)
            } else {
                Node::Literal(value.clone())
            }
        }
        Json::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, v)| compile(v, &format!("{path}[{i}]"), problems))
                .collect();
            if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::List(nodes)
            }
        }
        _ => Node::Literal(value.clone()),
    }
}

/// `path.key`, or `key` at the root.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Node {
    /// Every expression of the template, with its field.
    pub fn expressions<'a>(&'a self, out: &mut Vec<&'a Located>) {
        match self {
            Node::Literal(_) => {}
            Node::Whole(l) => out.push(l),
            Node::Interpolated(parts, _) => out.extend(parts.iter().filter_map(|p| match p {
                Part::Expr(l) => Some(l),
                Part::Text(_) => None,
            })),
            Node::Map(entries) => entries.iter().for_each(|(_, n)| n.expressions(out)),
            Node::List(items) => items.iter().for_each(|n| n.expressions(out)),
        }
    }

    /// The value for one instance (`ctx` binds `self`, `platform`, siblings and iterators);
    /// `Ok(None)` when it is omitted.
    pub fn render(&self, ctx: &Context<'_>) -> Result<Option<Json>, Problem> {
        match self {
            Node::Literal(v) => Ok(Some(v.clone())),
            Node::Whole(l) => {
                let v = cel::eval(&l.expr, ctx).map_err(|e| l.problem(e.to_string()))?;
                to_json(&v).map_err(|why| l.problem(why))
            }
            Node::Interpolated(parts, path) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Expr(l) => {
                            match cel::eval(&l.expr, ctx).map_err(|e| l.problem(e.to_string()))? {
                                Value::String(s) if s.as_str() == OMIT => {
                                    return Err(l.problem(
                                        "omit() must be the whole value of a field, not part of a string".into(),
                                    ))
                                }
                                Value::String(s) => out.push_str(&s),
                                other => {
                                    return Err(Problem {
                                        path: path.clone(),
                                        message: format!(
                                            "`${{{}}}` gives {}, and only strings can be interpolated into text: convert it with string(…), or make the expression the whole value",
                                            l.expr.text,
                                            cel::describe(&other)
                                        ),
                                    })
                                }
                            }
                        }
                    }
                }
                Ok(Some(Json::String(out)))
            }
            Node::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, node) in entries {
                    if let Some(v) = node.render(ctx)? {
                        map.insert(k.clone(), v);
                    }
                }
                Ok(Some(Json::Object(map)))
            }
            Node::List(items) => {
                let mut list = Vec::with_capacity(items.len());
                for node in items {
                    if let Some(v) = node.render(ctx)? {
                        list.push(v);
                    }
                }
                Ok(Some(Json::Array(list)))
            }
        }
    }
}

impl Located {
    fn problem(&self, message: String) -> Problem {
        Problem {
            path: self.path.clone(),
            message: format!("`${{{}}}`: {message}", self.expr.text),
        }
    }
}

/// A CEL value as JSON: `None` for `omit()`. Map keys come out sorted (CEL maps have no order),
/// so the output is the same on every run.
pub fn to_json(v: &Value) -> Result<Option<Json>, String> {
    Ok(Some(match v {
        Value::String(s) if s.as_str() == OMIT => return Ok(None),
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| format!("{f} is not a number JSON can hold"))?,
        Value::String(s) => Json::String(s.to_string()),
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                if let Some(v) = to_json(item)? {
                    out.push(v);
                }
            }
            Json::Array(out)
        }
        Value::Map(map) => {
            let mut entries: Vec<(String, &Value)> = Vec::with_capacity(map.map.len());
            for (k, v) in map.map.iter() {
                let key = match k {
                    Key::String(s) => s.to_string(),
                    Key::Int(i) => i.to_string(),
                    Key::Uint(u) => u.to_string(),
                    Key::Bool(b) => b.to_string(),
                };
                entries.push((key, v));
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = serde_json::Map::with_capacity(entries.len());
            for (k, v) in entries {
                if let Some(v) = to_json(v)? {
                    out.insert(k, v);
                }
            }
            Json::Object(out)
        }
        other => {
            return Err(format!(
                "gives {}, which has no YAML form: convert it with string(…)",
                cel::describe(other)
            ))
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_whole_values_and_interpolation() {
        assert_eq!(split("plain").unwrap(), None);
        assert_eq!(split("${a}").unwrap().unwrap(), vec![Segment::Expr("a")]);
        assert_eq!(
            split("x-${a}-y").unwrap().unwrap(),
            vec![Segment::Text("x-"), Segment::Expr("a"), Segment::Text("-y")]
        );
        // Map literals and braces in strings nest.
        assert_eq!(
            split("${c ? {\"a\": '}'} : omit()}").unwrap().unwrap(),
            vec![Segment::Expr("c ? {\"a\": '}'} : omit()")]
        );
        assert!(split("x ${a").unwrap_err().contains("no closing"));
    }

    fn render(template: Json, bind: Json) -> Result<Option<Json>, Problem> {
        let mut problems = Vec::new();
        let node = compile(&template, "", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let mut base = super::super::engine();
        let mut ctx = base.new_inner_scope();
        ctx.add_variable_from_value("self", cel::value(&bind));
        let out = node.render(&ctx);
        drop(ctx);
        base = super::super::engine();
        drop(base);
        out
    }

    #[test]
    fn whole_values_keep_their_type_and_omit_removes() {
        let out = render(
            json!({"n": "${self.n}", "m": "${self.n > 1 ? {\"b\": 2, \"a\": [1, true]} : omit()}", "gone": "${omit()}", "s": "v-${self.s}"}),
            json!({"n": 4, "s": "x"}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            out,
            json!({"n": 4, "m": {"a": [1, true], "b": 2}, "s": "v-x"})
        );
        let e = render(json!({"s": "v-${self.n}"}), json!({"n": 4})).unwrap_err();
        assert!(
            e.message.contains("only strings can be interpolated"),
            "{e:?}"
        );
        assert_eq!(e.path, "s");
    }
}
