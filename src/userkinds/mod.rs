//! User-defined kinds: a `KindDefinition` (`nixernetes.io/v1alpha1`) declares a kind in the
//! user's own API group the way a CRD does (an OpenAPI v3 structural schema with `default`s and
//! `x-kubernetes-validations`), and expands its instances through kro-style `resources[]`
//! templates with `${CEL}` (see `docs/kinds-user.md`).
//!
//! This module owns reading definitions (every problem at its field), checking them when they
//! load (CEL compiles, `self.spec.…` reads exist in the schema, unguarded optional reads warn,
//! kind cycles, one synthesized instance renders), and turning one instance into its children:
//! defaults, structural validation, CEL rules, then templates. The engine expands the children
//! as it expands any module resource's, so built-in module kinds and other user kinds in a
//! template compose, and checks, labels and NetworkPolicies apply to what they emit.
//! A run without a `KindDefinition` does no work here beyond looking at each input's kind.

pub mod analysis;
pub mod schema;
pub mod template;

use crate::finding::{has_errors, Finding};
use crate::kind::{Context, Registry};
use crate::resource::{Origin, Resource, API_VERSION, GROUP};
use crate::rules::cel::{self, Expr};
use kube_cel::cel::{Context as CelContext, ExecutionError, Value as CelValue};
use kube_cel::KubeCelExt;
use serde::Deserialize;
use serde_json::Value;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use template::{Node, Problem};

/// Kind of a user kind's definition.
pub const KIND_DEFINITION: &str = "KindDefinition";

/// Most children one instance may have (`forEach` blow-ups stop here).
pub const MAX_CHILDREN: usize = 1000;

/// Whether `res` is a `KindDefinition` (consumed: never emitted).
pub fn is_definition(res: &Resource) -> bool {
    res.api_version() == API_VERSION && res.kind() == KIND_DEFINITION
}

/// The `spec` of a `KindDefinition`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DefinitionSpec {
    /// The kind's API group: your own (e.g. `platform.acme.io`), never `nixernetes.io`.
    pub group: String,
    /// The kind's version, e.g. `v1` or `v1alpha1`.
    pub version: String,
    /// The kind, in PascalCase, e.g. `ShopService`.
    pub kind: String,
    /// Stamped as `nixernetes.io/module` on everything it emits (default `user`).
    #[serde(default)]
    pub category: Option<String>,
    /// One line: what the kind is for.
    #[serde(default)]
    pub summary: Option<String>,
    /// The instance schema, as in a CRD version.
    pub schema: SchemaSpec,
    /// What an instance expands into, in order.
    #[serde(default)]
    pub resources: Vec<ResourceSpec>,
}

/// `spec.schema` of a `KindDefinition`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaSpec {
    /// The OpenAPI v3 structural schema of the whole instance (its `spec` under `properties`).
    #[serde(rename = "openAPIV3Schema")]
    pub open_api_v3_schema: Value,
}

/// One entry of `spec.resources`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceSpec {
    /// Names the entry; later templates read its output as a variable of this name.
    pub id: String,
    /// The object to emit, with `${…}` expressions.
    pub template: Value,
    /// `${…}` conditions; the entry is emitted only when every one is true.
    #[serde(default)]
    pub include_when: Vec<String>,
    /// One entry per iterator, `{name: ${list}}`: one child per element (per combination).
    #[serde(default)]
    pub for_each: Vec<BTreeMap<String, String>>,
}

/// The JSON Schema (draft 2020-12) of a `KindDefinition`'s `spec`, for editors and tests.
pub fn spec_schema() -> Value {
    crate::schema::spec_schema(<DefinitionSpec as schemars::JsonSchema>::json_schema).to_value()
}

/// Keys of kro's resources that only a controller can honour.
const CONTROLLER_ONLY: &[&str] = &["readyWhen", "externalRef"];

/// One template of a compiled kind.
struct Template {
    id: String,
    include_when: Vec<(String, Expr)>,
    for_each: Vec<(String, Expr)>,
    node: Node,
    /// As written, for attributing a child's fields to template nodes.
    raw: Value,
}

/// A compiled user kind.
pub struct UserKind {
    /// The definition's `metadata.name`.
    pub name: String,
    pub api_version: String,
    pub kind: String,
    /// `nixernetes.io/module` of what it emits.
    pub category: &'static str,
    /// Where the definition is.
    pub origin: Origin,
    schema: Value,
    structural: Value,
    rules: kube_cel::CompiledSchema,
    templates: Vec<Template>,
}

/// A definition read but not yet compiled (compiled only when the input uses its kind).
struct Parsed {
    res: Resource,
    spec: DefinitionSpec,
    api_version: String,
}

/// The user kinds of a run.
#[derive(Default)]
pub struct UserKinds {
    kinds: Vec<UserKind>,
    engine: OnceCell<CelContext<'static>>,
    validator: OnceCell<kube_cel::Validator>,
}

impl std::fmt::Debug for UserKinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.kinds.iter().map(|k| &k.kind))
            .finish()
    }
}

/// The CEL context of templates: the Kubernetes libraries and `omit()`.
pub fn engine() -> CelContext<'static> {
    let mut ctx = CelContext::default().with_all();
    ctx.add_function("omit", omit);
    ctx
}

/// `omit()`: the value that removes its field.
fn omit(ftx: &kube_cel::cel::FunctionContext) -> Result<CelValue, ExecutionError> {
    if ftx.this.is_some() || !ftx.args.is_empty() {
        return Err(ftx.error("omit() takes no arguments"));
    }
    Ok(CelValue::String(Arc::new(template::OMIT.into())))
}

/// Interns `s` (a run has a handful of definitions; provenance carries `&'static str`).
fn intern(s: String) -> &'static str {
    static SEEN: std::sync::Mutex<BTreeSet<&'static str>> = std::sync::Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = seen.get(s.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    seen.insert(leaked);
    leaked
}

impl UserKinds {
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The user kind `res` is an instance of.
    pub fn lookup(&self, res: &Resource) -> Option<&UserKind> {
        if self.kinds.is_empty() || res.is_module() {
            return None;
        }
        self.kinds
            .iter()
            .find(|k| k.kind == res.kind() && k.api_version == res.api_version())
    }
}

/// Takes the definitions out of a run's input (they are configuration, never output) and
/// compiles those whose kinds the input uses; `extra` are definitions from `--kinds` paths and
/// `NIXERNETES_KINDS`. Problems are errors in `findings`, each at its field. With no definition
/// anywhere this only looks at each input's kind.
pub fn take(
    inputs: Vec<Resource>,
    extra: &[Resource],
    registry: &Registry,
    findings: &mut Vec<Finding>,
) -> (Vec<Resource>, UserKinds) {
    if extra.is_empty() && !inputs.iter().any(is_definition) {
        return (inputs, UserKinds::default());
    }
    let (defs, inputs): (Vec<Resource>, Vec<Resource>) =
        inputs.into_iter().partition(is_definition);
    let mut sources = defs;
    for r in extra {
        if is_definition(r) {
            sources.push(r.clone());
        } else {
            findings.push(
                Finding::error(format!(
                    "{} is not a KindDefinition: --kinds and NIXERNETES_KINDS read KindDefinition ({API_VERSION}) objects; put other objects in the input",
                    r.kind()
                ))
                .about(r),
            );
        }
    }
    let mut parsed: Vec<Parsed> = Vec::new();
    for res in sources {
        let Some(spec) = read(&res, registry, findings) else {
            continue;
        };
        let api_version = format!("{}/{}", spec.group, spec.version);
        if let Some(first) = parsed
            .iter()
            .find(|p| p.spec.group == spec.group && p.spec.kind == spec.kind)
        {
            findings.push(
                Finding::error(format!(
                    "kind {} of group {} is already defined at {} (KindDefinition/{}); a kind has one definition",
                    spec.kind,
                    spec.group,
                    first.res.origin,
                    first.res.name()
                ))
                .about(&res)
                .field("spec.kind"),
            );
            continue;
        }
        parsed.push(Parsed {
            res,
            spec,
            api_version,
        });
    }
    cycles(&parsed, findings);
    // Compile only what the input uses, and what that emits.
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut todo: Vec<usize> = parsed
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            inputs
                .iter()
                .any(|r| r.kind() == p.spec.kind && r.api_version() == p.api_version)
        })
        .map(|(i, _)| i)
        .collect();
    while let Some(i) = todo.pop() {
        if !used.insert(i) {
            continue;
        }
        for (api, kind) in emitted(&parsed[i].spec) {
            if let Some(j) = parsed
                .iter()
                .position(|p| p.api_version == api && p.spec.kind == kind)
            {
                todo.push(j);
            }
        }
    }
    let mut set = UserKinds::default();
    let engine = set.engine.get_or_init(engine);
    let mut compiled = Vec::new();
    for i in used {
        if let Some(k) = compile(&parsed[i], engine, findings) {
            compiled.push(k);
        }
    }
    set.kinds = compiled;
    // The self-test: one synthesized minimal instance of each kind renders.
    if !has_errors(findings) {
        let mut passed = Vec::with_capacity(set.kinds.len());
        for k in std::mem::take(&mut set.kinds) {
            let before = findings.len();
            k.self_test(&set, findings);
            if !has_errors(&findings[before..]) {
                passed.push(k);
            }
        }
        set.kinds = passed;
    }
    (inputs, set)
}

/// The (apiVersion, kind) pairs a definition's templates emit, where written literally.
fn emitted(spec: &DefinitionSpec) -> Vec<(String, String)> {
    spec.resources
        .iter()
        .filter_map(|r| {
            let api = r.template.get("apiVersion")?.as_str()?;
            let kind = r.template.get("kind")?.as_str()?;
            (!api.contains("${") && !kind.contains("${"))
                .then(|| (api.to_string(), kind.to_string()))
        })
        .collect()
}

/// Reports every cycle of kinds emitting each other (A → B → A) at the definition that starts
/// it, once per cycle.
fn cycles(parsed: &[Parsed], findings: &mut Vec<Finding>) {
    let edges: Vec<Vec<(usize, usize)>> = parsed
        .iter()
        .map(|p| {
            p.spec
                .resources
                .iter()
                .enumerate()
                .filter_map(|(ri, r)| {
                    let api = r.template.get("apiVersion")?.as_str()?;
                    let kind = r.template.get("kind")?.as_str()?;
                    let j = parsed
                        .iter()
                        .position(|q| q.api_version == api && q.spec.kind == kind)?;
                    Some((ri, j))
                })
                .collect()
        })
        .collect();
    let mut reported: BTreeSet<Vec<usize>> = BTreeSet::new();
    for start in 0..parsed.len() {
        // Depth-first, paths of (definition, resource index).
        let mut stack: Vec<(usize, Vec<(usize, usize)>)> = vec![(start, Vec::new())];
        while let Some((at, path)) = stack.pop() {
            for &(ri, next) in &edges[at] {
                let mut path = path.clone();
                path.push((at, ri));
                if next == start {
                    let mut members: Vec<usize> = path.iter().map(|(d, _)| *d).collect();
                    members.sort();
                    if reported.insert(members) {
                        let chain: Vec<&str> = path
                            .iter()
                            .map(|(d, _)| parsed[*d].spec.kind.as_str())
                            .chain([parsed[start].spec.kind.as_str()])
                            .collect();
                        let (_, first_ri) = path[0];
                        findings.push(
                            Finding::error(format!(
                                "kinds emit each other in a cycle ({}): an instance would never finish expanding",
                                chain.join(" → ")
                            ))
                            .about(&parsed[start].res)
                            .field(format!("spec.resources[{first_ri}].template.kind")),
                        );
                    }
                } else if !path.iter().any(|(d, _)| *d == next) && path.len() < 16 {
                    stack.push((next, path));
                }
            }
        }
    }
}

/// The spec of a definition, its header checked; every problem reported at its field.
fn read(
    res: &Resource,
    registry: &Registry,
    findings: &mut Vec<Finding>,
) -> Option<DefinitionSpec> {
    let before = findings.len();
    let err = |field: &str, msg: String| Finding::error(msg).about(res).field(field.to_string());
    for key in res.object.keys() {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            let hint = crate::validate::suggest::did_you_mean(
                key,
                ["apiVersion", "kind", "metadata", "spec"],
            )
            .unwrap_or_else(|| "expected apiVersion, kind, metadata, spec".into());
            findings.push(err(key, format!("unknown field {key:?}: {hint}")));
        }
    }
    let name = res.name();
    if name.is_empty() {
        findings.push(err(
            "metadata.name",
            "required: name the definition `<plural>.<group>`, as a CRD is named (e.g. `shopservices.platform.acme.io`)".into(),
        ));
    } else if let Err(why) = crate::validate::dns1123_subdomain(name) {
        findings.push(err("metadata.name", why));
    }
    let mut spec = match res.object.get("spec") {
        Some(Value::Object(s)) => s.clone(),
        _ => {
            findings.push(err(
                "spec",
                "required: the definition's spec (group, version, kind, schema, resources)".into(),
            ));
            return None;
        }
    };
    // kro keys a controller needs: refused with the reason rather than as unknown.
    if let Some(Value::Array(resources)) = spec.get_mut("resources") {
        for (i, r) in resources.iter_mut().enumerate() {
            if let Value::Object(r) = r {
                for key in CONTROLLER_ONLY {
                    if r.remove(*key).is_some() {
                        findings.push(err(
                            &format!("spec.resources[{i}].{key}"),
                            format!("{key} is not applicable to offline rendering: nothing here waits for a cluster; remove it"),
                        ));
                    }
                }
            }
        }
    }
    let spec_value = Value::Object(spec);
    let spec: DefinitionSpec = match serde_path_to_error::deserialize(&spec_value) {
        Ok(s) => s,
        Err(e) => {
            let schema = spec_schema();
            let problems = crate::schema::validate_at(&schema, &spec_value, "spec");
            if problems.is_empty() {
                findings.push(err(
                    &format!("spec.{}", e.path()),
                    e.into_inner().to_string(),
                ));
            }
            for p in problems {
                findings.push(err(
                    if p.path.is_empty() { "spec" } else { &p.path },
                    p.message,
                ));
            }
            return None;
        }
    };
    if spec.group.is_empty() {
        findings.push(err(
            "spec.group",
            "required: your own API group, e.g. platform.acme.io".into(),
        ));
    } else if spec.group == GROUP || spec.group.ends_with(".nixernetes.io") {
        findings.push(err(
            "spec.group",
            format!(
                "group {} is reserved for the built-in kinds: use your own, e.g. platform.acme.io",
                spec.group
            ),
        ));
    } else if let Err(why) = crate::validate::dns1123_subdomain(&spec.group) {
        findings.push(err("spec.group", why));
    }
    if !valid_version(&spec.version) {
        findings.push(err(
            "spec.version",
            format!(
                "{:?} is not a Kubernetes version: expected v1, v2beta1, v1alpha3 and the like",
                spec.version
            ),
        ));
    }
    let pascal = spec
        .kind
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        && spec.kind.chars().all(|c| c.is_ascii_alphanumeric());
    if !pascal {
        findings.push(err(
            "spec.kind",
            format!(
                "{:?} is not a kind name: PascalCase letters and digits, e.g. ShopService",
                spec.kind
            ),
        ));
    } else if registry.lookup(&spec.kind).is_some() || spec.kind == KIND_DEFINITION {
        findings.push(err(
            "spec.kind",
            format!("{} is a built-in kind: a user kind takes a name of its own, so that the two never mix up in output, docs or errors", spec.kind),
        ));
    }
    if let Some(c) = &spec.category {
        if let Err(why) = crate::validate::label_value(c).and(if c.is_empty() {
            Err("empty".into())
        } else {
            Ok(())
        }) {
            findings.push(err(
                "spec.category",
                format!("the category is stamped as label nixernetes.io/module: {why}"),
            ));
        }
    }
    let mut ids = BTreeSet::new();
    for (i, r) in spec.resources.iter().enumerate() {
        let identifier = r.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && r.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            findings.push(err(&format!("spec.resources[{i}].id"), format!("{:?} is not a CEL identifier (letters, digits and _, starting with a letter): later templates read it as a variable", r.id)));
        } else if ["self", "schema", "platform"].contains(&r.id.as_str()) {
            findings.push(err(
                &format!("spec.resources[{i}].id"),
                format!("{:?} is a variable templates already have", r.id),
            ));
        } else if !ids.insert(r.id.as_str()) {
            findings.push(err(
                &format!("spec.resources[{i}].id"),
                format!("id {:?} is used twice", r.id),
            ));
        }
        if !r.template.is_object() {
            findings.push(err(
                &format!("spec.resources[{i}].template"),
                "a template is an object (apiVersion, kind, metadata, …)".into(),
            ));
        }
    }
    (findings.len() == before).then_some(spec)
}

/// kro's version rule: `v1`, `v1beta2`, `v2alpha1`.
fn valid_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || rest.starts_with('0') {
        return false;
    }
    let tail = &rest[digits..];
    if tail.is_empty() {
        return true;
    }
    let Some(n) = tail
        .strip_prefix("alpha")
        .or_else(|| tail.strip_prefix("beta"))
    else {
        return false;
    };
    !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
}

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
fn compile(
    p: &Parsed,
    engine: &CelContext<'static>,
    findings: &mut Vec<Finding>,
) -> Option<UserKind> {
    let before = findings.len();
    let res = &p.res;
    let err = |field: String, msg: String| Finding::error(msg).about(res).field(field);
    let root = &p.spec.schema.open_api_v3_schema;
    let mut problems = Vec::new();
    schema::check(root, "spec.schema.openAPIV3Schema", &mut problems);
    if root.get("type").and_then(Value::as_str) != Some("object") && problems.is_empty() {
        problems.push((
            "spec.schema.openAPIV3Schema.type".into(),
            "the root of the schema is the whole instance: type object".into(),
        ));
    }
    for (field, msg) in problems {
        findings.push(err(field, msg));
    }
    if findings.len() > before {
        return None;
    }
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
                findings.push(err(field.clone(), format!("`{}`: unknown function {name}(): CEL here has the standard functions and the Kubernetes libraries (strings, lists, sets, regex, URLs, IP/CIDR, quantity, semver, format), plus omit()", e.text)));
            }
        }
        if !at_root {
            continue;
        }
        let reads = analysis::reads(e.program.expression());
        for chain in &reads.chains {
            match analysis::check_chain(root, chain, &reads.guarded, kind) {
                Err(why) => findings.push(err(field.clone(), format!("`{}`: {why}", e.text))),
                Ok(Some(optional)) => findings.push(
                    Finding::warning(format!(
                        "`{}` reads self.{optional}, which is optional with no default: an instance without it fails to render; guard the read (has(self.{optional}) ? … : …) or give the field a default",
                        e.text
                    ))
                    .about(res)
                    .field(field.clone()),
                ),
                Ok(None) => {}
            }
        }
        for (var, first) in &reads.others {
            if ids.contains(&var.as_str()) && first == "status" {
                findings.push(err(field.clone(), format!("`{}`: {var}.status is what a cluster reports, and nothing is applied here: read the sibling's template output (its spec, metadata)", e.text)));
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
                    findings.push(err(format!("spec.resources[{i}]"), format!("`{}` reads {later}, which is not rendered yet: a template reads only the resources listed before it", e.text)));
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
        kind: p.spec.kind.clone(),
        category: intern(p.spec.category.clone().unwrap_or_else(|| "user".into())),
        origin: res.origin.clone(),
        schema: root.clone(),
        structural: schema::structural(root),
        rules,
        templates,
    })
}

/// `at.template.path`.
fn field_of(at: &str, path: &str) -> String {
    if path.is_empty() {
        format!("{at}.template")
    } else if path.starts_with('[') {
        format!("{at}.template{path}")
    } else {
        format!("{at}.template.{path}")
    }
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

/// What an instance expanded into.
pub struct Produced {
    /// The children, in template order.
    pub objects: Vec<Value>,
    /// For each child, the index of the template that made it.
    pub from: Vec<usize>,
}

impl UserKind {
    /// `<group>/<version>` `<Kind>`, as messages name the kind.
    pub fn title(&self) -> String {
        format!("KindDefinition/{}", self.name)
    }

    /// Validates `res` (an instance) and renders its children; every error of the instance in
    /// one go. `namespace` is its resolved namespace.
    pub fn expand(
        &self,
        kinds: &UserKinds,
        res: &Resource,
        namespace: &str,
        ctx: &Context,
    ) -> Result<Produced, Vec<Finding>> {
        let mut defaulted = Value::Object(res.object.clone());
        schema::defaulted(&self.schema, &mut defaulted);
        let mut errors: Vec<Finding> = Vec::new();
        let mut bad: Vec<String> = Vec::new();
        for p in crate::schema::validate_at(&self.structural, &defaulted, "") {
            if p.path.is_empty()
                || p.path == "metadata"
                || p.path.starts_with("metadata.")
                || p.path == "apiVersion"
                || p.path == "kind"
            {
                // The envelope is the engine's to check.
                if p.path.is_empty() {
                    errors.push(Finding::error(p.message).about(res));
                }
                continue;
            }
            bad.push(p.path.clone());
            errors.push(Finding::error(p.message).about(res).field(p.path));
        }
        let mut pattern_problems = Vec::new();
        schema::patterns(&self.schema, &defaulted, "", &mut pattern_problems);
        for (path, message) in pattern_problems {
            if !bad.iter().any(|b| under(&path, b)) {
                bad.push(path.clone());
                errors.push(Finding::error(message).about(res).field(path));
            }
        }
        let validator = kinds.validator.get_or_init(kube_cel::Validator::new);
        if let Err(failed) = validator.validate_compiled(&self.rules, &defaulted, None) {
            for e in failed.into_vec() {
                let path = e.field_path.trim_start_matches('.').to_string();
                // A rule over a field that is already wrong says nothing new.
                if bad
                    .iter()
                    .any(|b| under(&path, b) || !path.is_empty() && under(b, &path))
                {
                    continue;
                }
                let f = Finding::error(e.message).about(res);
                errors.push(if path.is_empty() { f } else { f.field(path) });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut bound = defaulted;
        if !namespace.is_empty() {
            if let Some(meta) = bound.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.entry("namespace")
                    .or_insert_with(|| Value::String(namespace.to_string()));
            }
        }
        self.render(kinds, &bound, namespace, ctx)
            .map_err(|(i, p)| {
                vec![Finding::error(format!(
                    "{} {} (id {}) at {}: {}",
                    self.title(),
                    p.path,
                    self.templates[i].id,
                    self.line_of(&p.path),
                    p.message
                ))
                .about(res)]
            })
    }

    /// The file:line of `field` of the definition.
    fn line_of(&self, field: &str) -> crate::resource::Origin {
        let mut located = [Finding::error("")
            .at(self.origin.clone())
            .field(field.to_string())];
        crate::source::locate::field_lines(&mut located, None, crate::finding::Severity::Info);
        located[0].origin.clone().unwrap_or_default()
    }

    /// Renders the templates for `instance` (defaulted): the children, or the template and
    /// problem that stopped it.
    fn render(
        &self,
        kinds: &UserKinds,
        instance: &Value,
        namespace: &str,
        ctx: &Context,
    ) -> Result<Produced, (usize, Problem)> {
        let engine = kinds.engine.get_or_init(engine);
        let mut scope = engine.new_inner_scope();
        let me = cel::value(instance);
        scope.add_variable_from_value("self", me.clone());
        scope.add_variable_from_value("schema", me);
        let labels: Vec<(&str, CelValue)> = ctx
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), cel::value(v)))
            .collect();
        scope.add_variable_from_value(
            "platform",
            cel::map_of(vec![
                ("namespace", cel::string(namespace)),
                (
                    "kubernetesVersion",
                    cel::string(&ctx.kubernetes_version.to_string()),
                ),
                (
                    "inventory",
                    ctx.inventory
                        .as_deref()
                        .map(cel::string)
                        .unwrap_or(CelValue::Null),
                ),
                ("labels", cel::map_of(labels)),
            ]),
        );
        let mut out = Produced {
            objects: Vec::new(),
            from: Vec::new(),
        };
        for (i, t) in self.templates.iter().enumerate() {
            let at = format!("spec.resources[{i}]");
            let fail = |path: String, message: String| (i, Problem { path, message });
            let mut included = true;
            for (field, cond) in &t.include_when {
                match cel::eval(cond, &scope) {
                    Ok(CelValue::Bool(b)) => included &= b,
                    Ok(other) => {
                        return Err(fail(
                            field.clone(),
                            format!(
                                "`${{{}}}` must be true or false, found {}",
                                cond.text,
                                cel::describe(&other)
                            ),
                        ))
                    }
                    Err(e) => {
                        return Err(fail(field.clone(), format!("`${{{}}}`: {e}", cond.text)))
                    }
                }
            }
            if !included {
                continue;
            }
            // The iterator combinations (one empty one without forEach).
            let mut combos: Vec<Vec<(String, CelValue)>> = vec![Vec::new()];
            for (j, (name, source)) in t.for_each.iter().enumerate() {
                let field = format!("{at}.forEach[{j}].{name}");
                let items = match cel::eval(source, &scope) {
                    Ok(CelValue::List(items)) => items,
                    Ok(other) => {
                        return Err(fail(
                            field,
                            format!(
                                "`${{{}}}` must be a list, found {}",
                                source.text,
                                cel::describe(&other)
                            ),
                        ))
                    }
                    Err(e) => return Err(fail(field, format!("`${{{}}}`: {e}", source.text))),
                };
                let mut next = Vec::with_capacity(combos.len() * items.len());
                for c in &combos {
                    for item in items.iter() {
                        let mut c = c.clone();
                        c.push((name.clone(), item.clone()));
                        next.push(c);
                    }
                }
                combos = next;
                if combos.len() > MAX_CHILDREN {
                    break;
                }
            }
            if out.objects.len() + combos.len() > MAX_CHILDREN {
                return Err(fail(format!("{at}.forEach"), format!("an instance may have at most {MAX_CHILDREN} children, and this one would have {} or more: check the forEach lists", out.objects.len() + combos.len())));
            }
            let mut made = Vec::with_capacity(combos.len());
            for combo in combos {
                let mut inner = scope.new_inner_scope();
                for (name, v) in combo {
                    inner.add_variable_from_value(name, v);
                }
                let rendered = t.node.render(&inner).map_err(|p| {
                    let path = field_of(&at, &p.path);
                    fail(path, p.message)
                })?;
                let Some(child) = rendered else {
                    continue;
                };
                check_child(&child).map_err(|m| fail(format!("{at}.template"), m))?;
                made.push(child);
            }
            // Later templates read this one's output.
            let sibling = if t.for_each.is_empty() {
                made.first().map(cel::value).unwrap_or(CelValue::Null)
            } else {
                CelValue::List(Arc::new(made.iter().map(cel::value).collect()))
            };
            scope.add_variable_from_value(t.id.clone(), sibling);
            for child in made {
                out.objects.push(child);
                out.from.push(i);
            }
        }
        Ok(out)
    }

    /// Renders one synthesized minimal instance, so that template errors show before any user
    /// instance meets them.
    fn self_test(&self, kinds: &UserKinds, findings: &mut Vec<Finding>) {
        let mut sample = schema::minimal(&self.schema);
        if let Some(m) = sample.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
            m.insert("kind".into(), Value::String(self.kind.clone()));
            m.insert(
                "metadata".into(),
                serde_json::json!({"name": "sample", "namespace": "default"}),
            );
        }
        let mut defaulted = sample.clone();
        schema::defaulted(&self.schema, &mut defaulted);
        if let Err((i, p)) = self.render(kinds, &defaulted, "default", &Context::default()) {
            findings.push(
                Finding::error(format!(
                    "(id {}) a minimal instance (spec {}) does not render: {}",
                    self.templates[i].id,
                    serde_json::to_string(sample.get("spec").unwrap_or(&Value::Null))
                        .unwrap_or_default(),
                    p.message
                ))
                .at(self.origin.clone())
                .object(Arc::new(crate::resource::ObjectRef {
                    api_version: API_VERSION.into(),
                    kind: KIND_DEFINITION.into(),
                    name: self.name.clone(),
                    namespace: None,
                }))
                .field(p.path),
            );
        }
    }

    /// Where a child's `field` came from: the deepest node of template `index` that holds it,
    /// as the definition's field, and that field's file:line.
    pub fn produced_by(&self, index: usize, field: &str) -> String {
        let t = &self.templates[index];
        let mut node = &t.raw;
        let mut path = String::new();
        for part in split_path(field) {
            let next = match part {
                PathPart::Key(k) => node.get(k),
                PathPart::Index(i) => node.get(i),
            };
            match next {
                Some(n) => {
                    node = n;
                    match part {
                        PathPart::Key(k) => path = template::join(&path, k),
                        PathPart::Index(i) => path = format!("{path}[{i}]"),
                    }
                }
                None => break,
            }
        }
        let field = field_of(&format!("spec.resources[{index}]"), &path);
        format!(
            "produced by {} {field} (id {}) at {}",
            self.title(),
            t.id,
            self.line_of(&field)
        )
    }
}

/// Whether field `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

enum PathPart<'a> {
    Key(&'a str),
    Index(usize),
}

/// `spec.ports[0].port` as its parts.
fn split_path(field: &str) -> Vec<PathPart<'_>> {
    let mut out = Vec::new();
    for seg in field.split('.') {
        let (key, rest) = seg.split_once('[').map_or((seg, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(PathPart::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(PathPart::Index(i));
            }
        }
    }
    out
}

/// A child must be an object with an apiVersion, a kind and a name.
fn check_child(child: &Value) -> Result<(), String> {
    let Some(map) = child.as_object() else {
        return Err("a template must give an object".into());
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    for key in ["apiVersion", "kind"] {
        if !text(map.get(key)) {
            return Err(format!(
                "the object has no {key}: every template gives apiVersion, kind and metadata.name"
            ));
        }
    }
    let name = map.get("metadata").and_then(|m| m.get("name"));
    if !text(name) {
        return Err("the object has no metadata.name".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
