//! The one door to CEL (`kube-cel`, through its `cel` re-export: never a second `cel`
//! crate). It compiles expressions with located errors, converts an object to a CEL value
//! (only the parts a rule reads, see `Reads`) and holds the base context with
//! the Kubernetes libraries, which is built only when a rule is first evaluated: a run
//! without rules never initialises CEL.

use kube_cel::cel::common::ast::{EntryExpr, Expr as AstExpr};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::IdedExpr;
use kube_cel::cel::{Context, ExecutionError, Program, Value};
use kube_cel::KubeCelExt;
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled CEL expression and its text.
pub struct Expr {
    pub program: Program,
    pub text: String,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.text)
    }
}

impl Expr {
    /// The variables the expression reads (`object`, `variables`, …).
    pub fn reads(&self, variable: &str) -> bool {
        self.program.references().has_variable(variable)
    }

    /// What the expression reads of the variable `name` (see [`Reads`]).
    pub fn reads_of(&self, name: &str) -> Reads {
        let mut out = Reads::default();
        collect_reads(self.program.expression(), name, &mut out);
        out
    }

    /// The functions and methods the expression calls, as the API server names them: a call on
    /// a namespace is qualified (`math.abs`, `format.dns1123Label`, `cel.bind`), a
    /// two-variable comprehension is `all/3` or `exists/3`, operators (`_+_`, `@in`) are left
    /// out. Sorted, each once.
    pub fn calls(&self) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        walk(self.program.expression(), &mut Vec::new(), &mut out);
        out.into_iter().collect()
    }

    /// The functions and methods the expression calls.
    pub fn functions(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .program
            .references()
            .functions()
            .into_iter()
            .map(str::to_string)
            .collect();
        out.sort();
        out
    }
}

/// Identifiers a call can be qualified by: the CEL extension and Kubernetes library
/// namespaces.
const NAMESPACES: &[&str] = &[
    "math",
    "base64",
    "cel",
    "format",
    "optional",
    "sets",
    "lists",
    "strings",
    "ip",
    "jsonpatch",
];

/// Collects the calls of `e` into `out`; `bound` are the comprehension variables in scope (an
/// iteration variable called `ip` is not the `ip` namespace).
fn walk(e: &IdedExpr, bound: &mut Vec<String>, out: &mut std::collections::BTreeSet<String>) {
    match &e.expr {
        AstExpr::Call(call) => {
            let name = &call.func_name;
            let operator = name.starts_with('_') || name.starts_with('@') || name.ends_with('_');
            match call.target.as_deref() {
                Some(IdedExpr {
                    expr: AstExpr::Ident(ns),
                    ..
                }) if NAMESPACES.contains(&ns.as_str()) && !bound.contains(ns) => {
                    out.insert(format!("{ns}.{name}"));
                }
                Some(target) => {
                    if (name == "all" || name == "exists") && call.args.len() == 3 {
                        out.insert(format!("{name}/3"));
                    } else if !operator {
                        out.insert(name.clone());
                    }
                    walk(target, bound, out);
                }
                None if !operator => {
                    out.insert(name.clone());
                }
                None => {}
            }
            for a in &call.args {
                walk(a, bound, out);
            }
        }
        AstExpr::Comprehension(c) => {
            walk(&c.iter_range, bound, out);
            walk(&c.accu_init, bound, out);
            let before = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            for part in [&c.loop_cond, &c.loop_step, &c.result] {
                walk(part, bound, out);
            }
            bound.truncate(before);
        }
        AstExpr::List(l) => l.elements.iter().for_each(|x| walk(x, bound, out)),
        AstExpr::Map(m) => m
            .entries
            .iter()
            .for_each(|x| walk_entry(&x.expr, bound, out)),
        AstExpr::Struct(s) => s
            .entries
            .iter()
            .for_each(|x| walk_entry(&x.expr, bound, out)),
        AstExpr::Select(s) => walk(&s.operand, bound, out),
        AstExpr::Ident(_) | AstExpr::Literal(_) | AstExpr::Unspecified => {}
    }
}

fn walk_entry(
    e: &EntryExpr,
    bound: &mut Vec<String>,
    out: &mut std::collections::BTreeSet<String>,
) {
    match e {
        EntryExpr::StructField(f) => walk(&f.value, bound, out),
        EntryExpr::MapEntry(m) => {
            walk(&m.key, bound, out);
            walk(&m.value, bound, out);
        }
    }
}

/// The parts of a variable that expressions read: every chain of field selections from it
/// (`object.spec.replicas`, `has(object.metadata.labels)`), as a tree of field names, or the
/// whole value where it is used otherwise (passed to a function, indexed, compared). A list
/// that a macro iterates (`containers.all(c, c.image …)`) whose items the loop only selects
/// fields of keeps every item, each with only those fields.
/// A rule binds only these parts of the object: the CEL interpreter copies a map on each field
/// selection, so a rule that reads one field of a large object would otherwise copy most of it
/// several times. Every path a rule can read is kept whole below its last selection, so the
/// rule sees exactly what it would see of the whole object.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Reads {
    whole: bool,
    fields: std::collections::BTreeMap<String, Reads>,
    /// What is read of each item, for a list iterated by a loop.
    items: Option<Box<Reads>>,
}

impl Reads {
    /// Also what `other` reads.
    pub fn merge(&mut self, other: &Reads) {
        if self.whole {
            return;
        }
        if other.whole {
            *self = Reads::whole();
            return;
        }
        for (k, v) in &other.fields {
            self.fields.entry(k.clone()).or_default().merge(v);
        }
        if let Some(items) = &other.items {
            self.items.get_or_insert_with(Default::default).merge(items);
        }
    }

    fn whole() -> Reads {
        Reads {
            whole: true,
            ..Reads::default()
        }
    }

    /// The node at the chain `path` (outermost field last), or `None` below a whole one.
    fn at(&mut self, path: &[&str]) -> Option<&mut Reads> {
        let mut at = self;
        for field in path {
            if at.whole {
                return None;
            }
            at = at.fields.entry((*field).to_string()).or_default();
        }
        (!at.whole).then_some(at)
    }

    /// Marks the chain `path` as read whole below its end.
    fn insert(&mut self, path: &[&str]) {
        if let Some(at) = self.at(path) {
            *at = Reads::whole();
        }
    }

    /// Marks the chain `path` as a list iterated by a loop that reads `item` of each item.
    fn insert_items(&mut self, path: &[&str], item: &Reads) {
        if let Some(at) = self.at(path) {
            at.items.get_or_insert_with(Default::default).merge(item);
        }
    }

    /// The parts of `map` that are read, as a CEL value: maps keep only the selected keys that
    /// exist; anything else, and everything below a chain's end, is kept whole.
    pub fn prune(&self, map: &serde_json::Map<String, serde_json::Value>) -> Value {
        if self.whole {
            return object(map);
        }
        // A map that a loop iterates: its keys are the items.
        if self.items.is_some() {
            return object(map);
        }
        let mut out = HashMap::with_capacity(self.fields.len());
        for (k, reads) in &self.fields {
            if let Some(v) = map.get(k) {
                out.insert(Key::String(Arc::new(k.clone())), reads.prune_value(v));
            }
        }
        Value::Map(Map { map: Arc::new(out) })
    }

    fn prune_value(&self, v: &serde_json::Value) -> Value {
        match (v, &self.items) {
            (serde_json::Value::Object(m), _) => self.prune(m),
            (serde_json::Value::Array(list), Some(item)) if !self.whole => {
                Value::List(Arc::new(list.iter().map(|x| item.prune_value(x)).collect()))
            }
            (other, _) => value(other),
        }
    }
}

/// The fields of the chain of selections `e` makes from the variable `name`, outermost last.
fn chain<'e>(e: &'e IdedExpr, name: &str) -> Option<Vec<&'e str>> {
    let mut path = Vec::new();
    let mut at = e;
    while let AstExpr::Select(s) = &at.expr {
        if s.test {
            return None;
        }
        path.push(s.field.as_str());
        at = &s.operand;
    }
    match &at.expr {
        AstExpr::Ident(n) if n == name => {
            path.reverse();
            Some(path)
        }
        _ => None,
    }
}

/// Collects into `out` what `e` reads of the variable `name`. A name bound by a comprehension
/// inside `e` is counted as the variable too, which only reads more than needed.
fn collect_reads(e: &IdedExpr, name: &str, out: &mut Reads) {
    match &e.expr {
        AstExpr::Select(_) => {
            let mut path = Vec::new();
            let mut at = e;
            while let AstExpr::Select(s) = &at.expr {
                path.push(s.field.as_str());
                at = &s.operand;
            }
            match &at.expr {
                AstExpr::Ident(n) if n == name => {
                    path.reverse();
                    out.insert(&path);
                }
                _ => collect_reads(at, name, out),
            }
        }
        AstExpr::Ident(n) if n == name => out.insert(&[]),
        AstExpr::Call(call) => {
            if let Some(t) = call.target.as_deref() {
                collect_reads(t, name, out);
            }
            call.args.iter().for_each(|a| collect_reads(a, name, out));
        }
        AstExpr::Comprehension(c) => {
            let body = [&c.loop_cond, &c.loop_step, &c.result];
            match chain(&c.iter_range, name) {
                // A loop over a list of `name`: what it reads of each item.
                Some(path) if c.iter_var2.is_none() && c.iter_var != name => {
                    let mut item = Reads::default();
                    for part in body {
                        collect_reads(part, &c.iter_var, &mut item);
                    }
                    if item.fields.is_empty() && !item.whole {
                        item.whole = true;
                    }
                    out.insert_items(&path, &item);
                }
                _ => collect_reads(&c.iter_range, name, out),
            }
            collect_reads(&c.accu_init, name, out);
            for part in body {
                collect_reads(part, name, out);
            }
        }
        AstExpr::List(l) => l.elements.iter().for_each(|x| collect_reads(x, name, out)),
        AstExpr::Map(m) => m
            .entries
            .iter()
            .for_each(|x| entry_reads(&x.expr, name, out)),
        AstExpr::Struct(s) => s
            .entries
            .iter()
            .for_each(|x| entry_reads(&x.expr, name, out)),
        AstExpr::Ident(_) | AstExpr::Literal(_) | AstExpr::Unspecified => {}
    }
}

fn entry_reads(e: &EntryExpr, name: &str, out: &mut Reads) {
    match e {
        EntryExpr::StructField(f) => collect_reads(&f.value, name, out),
        EntryExpr::MapEntry(m) => {
            collect_reads(&m.key, name, out);
            collect_reads(&m.value, name, out);
        }
    }
}

thread_local! {
    /// How many expressions this thread compiled: the test that every program is compiled
    /// once, when its rule loads, reads it.
    static COMPILED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many expressions this thread has compiled so far.
pub fn compiled() -> usize {
    COMPILED.with(std::cell::Cell::get)
}

/// Compiles `text`. The error says where in the expression (`col C`, or `line L col C` in a
/// multi-line expression) and what is wrong.
pub fn compile(text: &str) -> Result<Expr, String> {
    COMPILED.with(|c| c.set(c.get() + 1));
    match Program::compile(text) {
        Ok(program) => Ok(Expr {
            program,
            text: text.to_string(),
        }),
        Err(errors) => {
            let multiline = text.trim_end().contains('\n');
            let said: Vec<String> = errors
                .errors
                .iter()
                .map(|e| {
                    let (line, col) = e.pos;
                    let at = if multiline {
                        format!("line {line} col {}", col + 1)
                    } else {
                        format!("col {}", col + 1)
                    };
                    format!("{at}: {}", e.msg)
                })
                .collect();
            Err(if said.is_empty() {
                "the expression does not parse".to_string()
            } else {
                said.join("; ")
            })
        }
    }
}

/// The context every evaluation starts from: CEL's standard functions plus the Kubernetes
/// libraries.
pub struct RuleEngine {
    base: Context<'static>,
}

impl std::fmt::Debug for RuleEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RuleEngine")
    }
}

impl Default for RuleEngine {
    fn default() -> Self {
        RuleEngine {
            base: Context::default().with_all(),
        }
    }
}

impl RuleEngine {
    /// A scope over the base context to bind one evaluation's variables in.
    pub fn scope(&self) -> Context<'_> {
        self.base.new_inner_scope()
    }
}

/// Evaluates `expr` in `ctx`.
pub fn eval(expr: &Expr, ctx: &Context<'_>) -> Result<Value, ExecutionError> {
    expr.program.execute(ctx)
}

/// `value` as CEL sees an object in admission: maps with the object's own keys (no escaping:
/// the API server binds the unstructured object), integers as `int`.
pub fn value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(self::value).collect()))
        }
        serde_json::Value::Object(map) => object(map),
    }
}

/// A JSON map as a CEL map.
pub fn object(map: &serde_json::Map<String, serde_json::Value>) -> Value {
    let mut out = HashMap::with_capacity(map.len());
    for (k, v) in map {
        out.insert(Key::String(Arc::new(k.clone())), value(v));
    }
    Value::Map(Map { map: Arc::new(out) })
}

/// A CEL map of string keys.
pub fn map_of(entries: Vec<(&str, Value)>) -> Value {
    let map: HashMap<Key, Value> = entries
        .into_iter()
        .map(|(k, v)| (Key::String(Arc::new(k.to_string())), v))
        .collect();
    Value::Map(Map { map: Arc::new(map) })
}

/// A CEL string.
pub fn string(s: &str) -> Value {
    Value::String(Arc::new(s.to_string()))
}

/// How a result reads in a message: strings bare, the rest as CEL writes them.
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => format!("{u}u"),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::List(_) => "a list".into(),
        Value::Map(_) => "a map".into(),
        _ => "a value of another type".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, object: serde_json::Value) -> Result<Value, String> {
        let engine = RuleEngine::default();
        let mut ctx = engine.scope();
        ctx.add_variable_from_value("object", value(&object));
        let e = compile(text)?;
        eval(&e, &ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn objects_keep_their_keys() {
        let obj = serde_json::json!({"metadata": {"namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}}});
        assert_eq!(
            run(
                "object.metadata.labels['app.kubernetes.io/name'] == 'web'",
                obj.clone()
            ),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("object.metadata.namespace", obj), Ok(string("shop")));
    }

    /// Evaluating with only the parts an expression reads gives what evaluating with the whole
    /// object gives, errors included.
    #[test]
    fn pruned_objects_read_as_whole_ones() {
        let obj = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "tier": "fe"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {
                    "hostNetwork": false,
                    "containers": [
                        {"name": "a", "image": "ghcr.io/acme/a:1", "resources": {"limits": {"memory": "1Gi"}}},
                        {"name": "b", "image": "nginx"}
                    ]
                }}
            }
        });
        let map = obj.as_object().unwrap();
        let cases = [
            "object.spec.replicas <= 10",
            "!has(object.spec.replicas) || object.spec.replicas <= 2",
            "has(object.spec.paused)",
            "has(object.metadata.labels.app) && object.metadata.labels['tier'] == 'fe'",
            "object.spec.template.spec.containers.all(c, c.image.startsWith('ghcr.io/'))",
            "object.spec.template.spec.containers.exists(c, has(c.resources) && has(c.resources.limits.memory))",
            "object.spec.template.spec.containers[1].image",
            "size(object.metadata) == 3 && size(object.metadata.labels) == 2",
            "object.metadata.labels.all(k, k.size() < 5)",
            "object.spec.missing.deeper == 1",
            "object.kind == 'Deployment' && object.spec.selector.matchLabels == object.metadata.labels",
            "object == object",
            "cel.bind(m, object.metadata, m.name + '/' + m.namespace)",
            "object.spec.template.spec.hostNetwork.foo",
            "object.spec.replicas in [1, 3] && 'app' in object.metadata.labels",
            "[object.metadata.name, {'k': object.spec.replicas}.k] == ['web', 3]",
            "object.spec.template.spec.containers.map(c, c.name).join(',')",
            "object.metadata.labels.app.size() + object.metadata.name.size()",
            "object.spec.template.spec.containers.filter(c, c.name == 'b')[0].image == 'nginx'",
            "object.spec.template.spec.containers.exists_one(c, c.image == 'nginx')",
            "object.spec.template.spec.containers.all(c, c.resources.limits.all(k, k != 'cpu'))",
            "object.metadata.labels.exists(k, object.metadata.labels[k] == 'web')",
            "object.spec.template.spec.containers.all(c, c.image != '') && size(object.spec.template.spec.containers) == 2",
            "object.spec.template.spec.containers.all(c, object.spec.replicas > 1 && c.name != '')",
            "object.spec.template.spec.containers.all(object, object.name != '')",
            "object.spec.template.spec.containers.all(c, true)",
        ];
        for text in cases {
            let e = compile(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let engine = RuleEngine::default();
            let mut whole = engine.scope();
            whole.add_variable_from_value("object", object(map));
            let mut pruned = engine.scope();
            pruned.add_variable_from_value("object", e.reads_of("object").prune(map));
            let a = eval(&e, &whole).map_err(|e| e.to_string());
            let b = eval(&e, &pruned).map_err(|e| e.to_string());
            assert_eq!(a, b, "{text}");
        }
        // What is read: the chains, whole below their ends, and nothing else.
        let reads = |t: &str| compile(t).unwrap().reads_of("object");
        let pruned = reads("object.spec.replicas > 1 && has(object.metadata.labels)").prune(map);
        let Value::Map(m) = &pruned else {
            panic!("{pruned:?}")
        };
        let mut keys: Vec<String> = m.map.keys().map(|k| format!("{k:?}")).collect();
        keys.sort();
        assert_eq!(keys.len(), 2, "{keys:?}");
        // A loop keeps every item, with the fields it reads.
        let pruned = reads("object.spec.template.spec.containers.all(c, c.image != '')").prune(map);
        let json = format!("{pruned:?}");
        assert!(
            json.contains("ghcr.io/acme/a:1") && json.contains("nginx"),
            "{json}"
        );
        assert!(
            !json.contains("1Gi") && !json.contains("hostNetwork"),
            "{json}"
        );
        assert_eq!(reads("object == object"), Reads::whole());
        assert_eq!(reads("params.x == 1"), Reads::default());
    }

    #[test]
    fn compile_errors_give_the_column() {
        let e = compile("object.spec.replicas <= ").unwrap_err();
        assert!(e.starts_with("col "), "{e}");
        let e = compile("object.spec.x &&\n  )").unwrap_err();
        assert!(e.starts_with("line 2 col "), "{e}");
    }

    /// CEL comes only through kube-cel's `cel` re-export: one `cel` in the lock file, and no
    /// direct dependency on it.
    #[test]
    fn there_is_one_cel_crate() {
        let root = env!("CARGO_MANIFEST_DIR");
        let lock = std::fs::read_to_string(format!("{root}/Cargo.lock")).expect("Cargo.lock");
        let cels: Vec<&str> = lock
            .split("[[package]]")
            .filter(|p| p.contains("\nname = \"cel\"\n"))
            .collect();
        assert_eq!(cels.len(), 1, "{cels:?}");
        let manifest = std::fs::read_to_string(format!("{root}/Cargo.toml")).expect("Cargo.toml");
        assert!(
            !manifest
                .lines()
                .any(|l| l.trim_start().starts_with("cel ") || l.trim_start().starts_with("cel=")),
            "a direct cel dependency"
        );
    }

    #[test]
    fn calls_are_named_as_the_api_server_names_them() {
        let calls = |t: &str| compile(t).unwrap().calls();
        assert_eq!(
            calls("math.abs(1) + base64.decode('x').size() + cel.bind(x, 1, x)"),
            ["base64.decode", "cel.bind", "math.abs", "size"]
        );
        assert_eq!(
            calls("format.dns1123Label().validate(object.metadata.name).hasValue()"),
            ["format.dns1123Label", "hasValue", "validate"]
        );
        // Macros are expanded; a two-variable comprehension is not a macro here.
        assert_eq!(
            calls(
                "object.l.all(c, c.startsWith('a')) && has(object.x) && object.m.all(k, v, v > 1)"
            ),
            ["all/3", "startsWith"]
        );
        // An iteration variable named like a namespace is a variable.
        assert_eq!(
            calls("object.ips.all(ip, ip.family() == 4) && ip.isCanonical('::1')"),
            ["family", "ip.isCanonical"]
        );
        assert_eq!(calls("{'a': [size(x)]}.a[0] > -1 ? 'y' : 'n'"), ["size"]);
    }

    #[test]
    fn references_name_variables_and_functions() {
        let e = compile("object.spec.containers.all(c, c.image.startsWith('ghcr.io/'))").unwrap();
        assert!(e.reads("object"));
        assert!(!e.reads("self"));
        assert!(
            e.functions().contains(&"startsWith".to_string()),
            "{:?}",
            e.functions()
        );
    }
}
