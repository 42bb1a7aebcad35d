//! Structural validation of a module resource against its kind schema, reporting every problem.
//!
//! Owns the wording of structural errors: what was expected and what was found, in the terms of
//! the YAML the user wrote ("an integer", "a list", "a mapping with the fields …", "one of
//! `enforce`, `audit`, `off`"), never serde's or Rust's (`u32`, `sequence`, `struct X`). One cause
//! gives one message: a value of the wrong type is not also searched for missing fields, a
//! misspelt required field is reported as unknown (with the suggestion) and not also as missing,
//! and of the alternatives of an `anyOf` only the best-fitting one speaks.
//!
//! Understands what schemars (draft 2020-12) emits for specs: `type` (also as a list, for
//! `Option`), `properties`/`required`/`additionalProperties` (`false` for `deny_unknown_fields`,
//! a schema for maps), `items`/`prefixItems`, `enum`, `const`, `anyOf`/`oneOf`/`allOf`, `$ref`
//! into `$defs`, `minimum`/`maximum` (exclusive too) and the integer `format`s (`int32`,
//! `uint16`, …, whose ranges schemars leaves implicit), `multipleOf`, `minLength`/`maxLength`,
//! `minItems`/`maxItems`, and OpenAPI's `nullable`. It does not check `pattern` or string
//! `format`s (field newtypes check those with `crate::validate`), nor
//! `patternProperties` (keys it would govern are accepted). `oneOf` is read as `anyOf`, as
//! serde's untagged enums take the first variant that fits.

use super::{is_null_branch, type_admits, Node, Resolved};
use crate::validate::suggest::{did_you_mean_with, suggest};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// Deepest nesting of schema nodes followed for one value (YAML input stops at 100 levels).
const MAX_DEPTH: usize = 256;
/// Fields named at most when a message lists the fields of a mapping.
const MAX_LISTED_FIELDS: usize = 12;
/// Longest string quoted in a message, in characters.
const MAX_QUOTED_CHARS: usize = 60;

/// One structural problem of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: the dotted field path from the document root, `spec.ports[1].port`; map keys are
    /// appended after a dot as written, dots and all (`spec.labels.app.kubernetes.io/name`).
    /// Empty for the document itself.
    pub path: String,
    /// What is wrong there: what was expected and what was found.
    pub message: String,
}

/// Every structural problem of `value` against `schema` (a kind schema from
/// [`kind_schema`](super::kind_schema), or any draft 2020-12 schema whose `$ref`s point into
/// itself), with paths from the document root; empty when `value` fits.
pub fn validate(schema: &Value, value: &Value) -> Vec<Problem> {
    validate_at(schema, value, "")
}

/// As [`validate`], for a `value` found at `path` of its document (such as a spec checked
/// against its spec schema at `spec`): every reported path starts with `path`.
pub fn validate_at(schema: &Value, value: &Value, path: &str) -> Vec<Problem> {
    let mut checker = Checker {
        root: schema,
        out: Vec::new(),
        depth: 0,
    };
    let mut path = path.to_string();
    checker.check(schema, value, &mut path);
    let mut problems: Vec<Problem> = Vec::with_capacity(checker.out.len());
    for p in checker.out {
        if !problems.contains(&p) {
            problems.push(p);
        }
    }
    problems
}

/// One validation run: the schema document `$ref`s resolve in, and the problems so far.
struct Checker<'a> {
    root: &'a Value,
    out: Vec<Problem>,
    depth: usize,
}

impl<'a> Checker<'a> {
    fn push(&mut self, path: &str, message: String) {
        self.out.push(Problem {
            path: path.to_string(),
            message,
        });
    }

    fn check(&mut self, schema: &'a Value, value: &Value, path: &mut String) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        let node = match Node::resolve(self.root, schema) {
            Resolved::Any => return,
            Resolved::Nothing => {
                self.push(path, "no value is allowed here".to_string());
                return;
            }
            Resolved::Node(node) => node,
        };
        self.depth += 1;
        self.check_node(&node, value, path);
        self.depth -= 1;
    }

    /// The problems `schema` finds in `value`, kept apart from the run's own.
    fn trial(&mut self, schema: &'a Value, value: &Value, path: &mut String) -> Vec<Problem> {
        let saved = std::mem::take(&mut self.out);
        self.check(schema, value, path);
        std::mem::replace(&mut self.out, saved)
    }

    fn check_node(&mut self, node: &Node<'a>, value: &Value, path: &mut String) {
        let kw = Keywords::of(node);
        if value.is_null() && kw.nullable == Some(&Value::Bool(true)) {
            return;
        }
        let alternatives: Vec<&'a Value> = [kw.any_of, kw.one_of]
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .collect();
        if !alternatives.is_empty() && !self.check_alternatives(&alternatives, value, path) {
            return;
        }
        if let Some(Value::Array(all)) = kw.all_of {
            for schema in all {
                self.check(schema, value, path);
            }
        }
        if kw.ty.and_then(|t| types_admit(t, value)) == Some(false) {
            let message = mismatch(&describe_node(self.root, node, value, 0), value);
            self.push(path, message);
            return;
        }
        if let Some(expected) = kw.const_ {
            if expected != value {
                let message = mismatch(&[render(expected)], value);
                self.push(path, message);
                return;
            }
        }
        if let Some(Value::Array(allowed)) = kw.enum_ {
            if !allowed.contains(value) {
                let message = enum_mismatch(allowed, value);
                self.push(path, message);
                return;
            }
        }
        match value {
            Value::Object(map) => self.check_object(&kw, map, path),
            Value::Array(items) => self.check_array(&kw, items, path),
            Value::Number(n) => self.check_number(&kw, n, path),
            Value::String(s) => self.check_string(&kw, s, path),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// `anyOf`/`oneOf`: passes when one branch fits; otherwise reports for the branch that fits
    /// best, or once for all of them when none fits the value's type. Returns whether it passed.
    fn check_alternatives(
        &mut self,
        branches: &[&'a Value],
        value: &Value,
        path: &mut String,
    ) -> bool {
        let root = self.root;
        let relevant: Vec<&'a Value> = branches
            .iter()
            .copied()
            .filter(|b| !is_null_branch(root, b))
            .collect();
        if value.is_null() && relevant.len() < branches.len() {
            return true;
        }
        if relevant.is_empty() {
            // Only `null` is allowed here.
            self.push(path, mismatch(&["an empty value".to_string()], value));
            return false;
        }
        if let Some(allowed) = literals(root, &relevant) {
            if allowed.contains(&value) {
                return true;
            }
            let allowed: Vec<Value> = allowed.into_iter().cloned().collect();
            self.push(path, enum_mismatch(&allowed, value));
            return false;
        }
        let mut tried: Vec<Vec<Problem>> = Vec::new();
        for branch in &relevant {
            if !admits_kind(root, branch, value, 0) {
                continue;
            }
            let problems = self.trial(branch, value, path);
            if problems.is_empty() {
                return true;
            }
            tried.push(problems);
        }
        match tried.into_iter().min_by_key(Vec::len) {
            Some(best) => self.out.extend(best),
            None => {
                let expected: Vec<String> = relevant
                    .iter()
                    .flat_map(|b| describe(root, b, value, 0))
                    .collect();
                self.push(path, mismatch(&expected, value));
            }
        }
        false
    }

    fn check_object(&mut self, kw: &Keywords<'a>, map: &Map<String, Value>, path: &mut String) {
        let properties = kw.properties.and_then(Value::as_object);
        let additional = kw.additional;
        let closed = (additional == Some(&Value::Bool(false))
            || kw.unevaluated == Some(&Value::Bool(false)))
            && kw.pattern_properties.is_none();
        let known: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let missing: Vec<&str> = kw
            .required
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|name| !map.contains_key(*name))
            .collect();
        // A misspelt required field is one problem, reported where the misspelling is.
        let mut claimed: Vec<&str> = Vec::new();
        let unknown_messages: Vec<Option<String>> = map
            .keys()
            .map(|key| {
                let is_unknown = closed
                    && !properties.is_some_and(|p| p.contains_key(key))
                    && !additional.is_some_and(Value::is_object);
                if !is_unknown {
                    return None;
                }
                let close = suggest(key, known.iter().copied());
                if let Some(first) = close.iter().find(|c| missing.contains(c)) {
                    claimed.push(first);
                }
                Some(unknown_field(key, &close, &known))
            })
            .collect();
        for ((key, item), unknown) in map.iter().zip(unknown_messages) {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            if let Some(message) = unknown {
                self.push(path, message);
            } else if let Some(schema) = properties.and_then(|p| p.get(key)) {
                self.check(schema, item, path);
            } else if let Some(schema) = additional.filter(|a| a.is_object()) {
                self.check(schema, item, path);
            }
            path.truncate(len);
        }
        for name in missing {
            if claimed.contains(&name) {
                continue;
            }
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(name);
            self.push(path, "required field is missing".to_string());
            path.truncate(len);
        }
        self.check_count(
            path,
            Counted::Entries,
            map.len(),
            kw.min_properties,
            kw.max_properties,
        );
    }

    fn check_array(&mut self, kw: &Keywords<'a>, items: &[Value], path: &mut String) {
        let prefix = kw.prefix_items.and_then(Value::as_array);
        let rest = kw.items;
        // Draft 7 tuples: `items` as a list.
        let tuple = rest.and_then(Value::as_array).or(prefix);
        let rest = rest.filter(|r| !r.is_array());
        for (i, item) in items.iter().enumerate() {
            let schema = match tuple.and_then(|t| t.get(i)) {
                Some(s) => Some(s),
                None if tuple.is_some_and(|t| i >= t.len()) && prefix.is_none() => {
                    kw.additional_items
                }
                None => rest,
            };
            if let Some(schema) = schema {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                self.check(schema, item, path);
                path.truncate(len);
            }
        }
        self.check_count(
            path,
            Counted::Items,
            items.len(),
            kw.min_items,
            kw.max_items,
        );
    }

    fn check_number(&mut self, kw: &Keywords<'a>, n: &Number, path: &str) {
        let value = Num::of(n);
        let (lower, upper) = bounds(kw);
        let below = lower.is_some_and(|(b, exclusive)| match value.compare(b) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => exclusive,
            _ => false,
        });
        let above = upper.is_some_and(|(b, exclusive)| match value.compare(b) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => exclusive,
            _ => false,
        });
        if below || above {
            let integer = match kw.ty {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
                _ => false,
            };
            let noun = if integer { "an integer" } else { "a number" };
            let message = format!(
                "expected {noun} {}, found `{n}`",
                range_phrase(lower, upper)
            );
            self.push(path, message);
            return;
        }
        if let Some(step) = kw.multiple_of.and_then(Value::as_f64) {
            let v = value.as_f64();
            if step > 0.0 && v.is_finite() {
                let ratio = v / step;
                if (ratio - ratio.round()).abs() > 1e-9 {
                    let message = format!("expected a multiple of {}, found `{n}`", step);
                    self.push(path, message);
                }
            }
        }
    }

    fn check_string(&mut self, kw: &Keywords<'a>, s: &str, path: &str) {
        let count = s.chars().count();
        self.check_count(
            path,
            Counted::Characters,
            count,
            kw.min_length,
            kw.max_length,
        );
    }

    /// `minItems`/`maxItems`, `minProperties`/`maxProperties`, `minLength`/`maxLength`.
    fn check_count(
        &mut self,
        path: &str,
        what: Counted,
        count: usize,
        min: Option<&Value>,
        max: Option<&Value>,
    ) {
        let (container, one, many, empty) = match what {
            Counted::Items => ("a list", "item", "items", "an empty list"),
            Counted::Entries => ("a mapping", "entry", "entries", "an empty mapping"),
            Counted::Characters => ("a string", "character", "characters", "an empty string"),
        };
        let count = count as u64;
        let found = if count == 0 {
            empty.to_string()
        } else {
            plural(count, one, many)
        };
        if let Some(min) = min.and_then(Value::as_u64).filter(|min| count < *min) {
            let message = format!(
                "expected {container} of at least {}, found {found}",
                plural(min, one, many)
            );
            self.push(path, message);
        }
        if let Some(max) = max.and_then(Value::as_u64).filter(|max| count > *max) {
            let message = format!(
                "expected {container} of at most {}, found {found}",
                plural(max, one, many)
            );
            self.push(path, message);
        }
    }
}

/// What a length limit counts.
#[derive(Clone, Copy)]
enum Counted {
    Items,
    Entries,
    Characters,
}

/// The keywords the checks read, gathered in one pass over a node's layers (the first layer
/// that has one wins, as in [`Node::get`]): one walk over a few entries instead of a hash lookup
/// per keyword, most of which would miss.
#[derive(Default)]
struct Keywords<'a> {
    nullable: Option<&'a Value>,
    any_of: Option<&'a Value>,
    one_of: Option<&'a Value>,
    all_of: Option<&'a Value>,
    ty: Option<&'a Value>,
    const_: Option<&'a Value>,
    enum_: Option<&'a Value>,
    properties: Option<&'a Value>,
    additional: Option<&'a Value>,
    unevaluated: Option<&'a Value>,
    pattern_properties: Option<&'a Value>,
    required: Option<&'a Value>,
    min_properties: Option<&'a Value>,
    max_properties: Option<&'a Value>,
    prefix_items: Option<&'a Value>,
    items: Option<&'a Value>,
    additional_items: Option<&'a Value>,
    min_items: Option<&'a Value>,
    max_items: Option<&'a Value>,
    minimum: Option<&'a Value>,
    maximum: Option<&'a Value>,
    exclusive_minimum: Option<&'a Value>,
    exclusive_maximum: Option<&'a Value>,
    format: Option<&'a Value>,
    multiple_of: Option<&'a Value>,
    min_length: Option<&'a Value>,
    max_length: Option<&'a Value>,
}

impl<'a> Keywords<'a> {
    fn of(node: &Node<'a>) -> Keywords<'a> {
        let mut kw = Keywords::default();
        for layer in node.layers() {
            for (key, value) in layer {
                let slot = match key.as_str() {
                    "nullable" => &mut kw.nullable,
                    "anyOf" => &mut kw.any_of,
                    "oneOf" => &mut kw.one_of,
                    "allOf" => &mut kw.all_of,
                    "type" => &mut kw.ty,
                    "const" => &mut kw.const_,
                    "enum" => &mut kw.enum_,
                    "properties" => &mut kw.properties,
                    "additionalProperties" => &mut kw.additional,
                    "unevaluatedProperties" => &mut kw.unevaluated,
                    "patternProperties" => &mut kw.pattern_properties,
                    "required" => &mut kw.required,
                    "minProperties" => &mut kw.min_properties,
                    "maxProperties" => &mut kw.max_properties,
                    "prefixItems" => &mut kw.prefix_items,
                    "items" => &mut kw.items,
                    "additionalItems" => &mut kw.additional_items,
                    "minItems" => &mut kw.min_items,
                    "maxItems" => &mut kw.max_items,
                    "minimum" => &mut kw.minimum,
                    "maximum" => &mut kw.maximum,
                    "exclusiveMinimum" => &mut kw.exclusive_minimum,
                    "exclusiveMaximum" => &mut kw.exclusive_maximum,
                    "format" => &mut kw.format,
                    "multipleOf" => &mut kw.multiple_of,
                    "minLength" => &mut kw.min_length,
                    "maxLength" => &mut kw.max_length,
                    _ => continue,
                };
                slot.get_or_insert(value);
            }
        }
        kw
    }
}

/// Whether the `type` keyword `ty` (a name or a list of names) admits `value`; `None` when it
/// names no type at all.
fn types_admit(ty: &Value, value: &Value) -> Option<bool> {
    match ty {
        Value::String(t) => Some(type_admits(t, value)),
        Value::Array(ts) => {
            let mut names = ts.iter().filter_map(Value::as_str).peekable();
            names.peek()?;
            Some(names.any(|t| type_admits(t, value)))
        }
        _ => None,
    }
}

/// The values of `branches` when each one is a literal (`const` or `enum`), as schemars writes
/// a unit enum whose variants have docs; `None` otherwise.
fn literals<'a>(root: &'a Value, branches: &[&'a Value]) -> Option<Vec<&'a Value>> {
    if branches.is_empty() {
        return None;
    }
    let mut values = Vec::new();
    for branch in branches {
        let Resolved::Node(node) = Node::resolve(root, branch) else {
            return None;
        };
        if !node.alternatives().is_empty() {
            return None;
        }
        if let Some(c) = node.get("const") {
            values.push(c);
        } else if let Some(Value::Array(e)) = node.get("enum") {
            values.extend(e.iter());
        } else {
            return None;
        }
    }
    Some(values)
}

/// Whether `schema` could take a value of `value`'s kind at all (its type, or the kinds of its
/// literals), so that an alternative of another kind does not speak for it.
fn admits_kind(root: &Value, schema: &Value, value: &Value, depth: usize) -> bool {
    let node = match Node::resolve(root, schema) {
        Resolved::Any => return true,
        Resolved::Nothing => return false,
        Resolved::Node(node) => node,
    };
    let alternatives = node.alternatives();
    if !alternatives.is_empty() && depth < 8 {
        return alternatives
            .iter()
            .any(|b| admits_kind(root, b, value, depth + 1));
    }
    let types = node.types();
    if !types.is_empty() {
        return types.iter().any(|t| type_admits(t, value));
    }
    if let Some(c) = node.get("const") {
        return same_kind(c, value);
    }
    if let Some(Value::Array(e)) = node.get("enum") {
        return e.iter().any(|v| same_kind(v, value));
    }
    if node.properties().is_some() {
        return value.is_object();
    }
    true
}

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// What `schema` expects, as phrases to be joined with "or" ("an integer", "a string", …).
fn describe(root: &Value, schema: &Value, value: &Value, depth: usize) -> Vec<String> {
    match Node::resolve(root, schema) {
        Resolved::Node(node) => describe_node(root, &node, value, depth),
        Resolved::Any | Resolved::Nothing => Vec::new(),
    }
}

fn describe_node(root: &Value, node: &Node<'_>, value: &Value, depth: usize) -> Vec<String> {
    let alternatives = node.alternatives();
    if !alternatives.is_empty() && depth < 8 {
        let relevant: Vec<&Value> = alternatives
            .iter()
            .copied()
            .filter(|b| !is_null_branch(root, b))
            .collect();
        if let Some(values) = literals(root, &relevant) {
            let values: Vec<Value> = values.into_iter().cloned().collect();
            return vec![one_of(&values, value)];
        }
        return relevant
            .iter()
            .flat_map(|b| describe(root, b, value, depth + 1))
            .collect();
    }
    if let Some(c) = node.get("const") {
        return vec![one_of(std::slice::from_ref(c), value)];
    }
    if let Some(Value::Array(e)) = node.get("enum") {
        return vec![one_of(e, value)];
    }
    let types = node.types();
    let mut shown: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    if shown.is_empty() {
        shown = types;
    }
    if shown.is_empty() && node.properties().is_some() {
        shown.push("object");
    }
    shown
        .into_iter()
        .map(|t| type_phrase(root, node, t, value))
        .collect()
}

/// "a string", "an integer", "a list of strings", "a mapping with the fields a, b", …
fn type_phrase(root: &Value, node: &Node<'_>, ty: &str, value: &Value) -> String {
    match ty {
        "string" => format!("a string{}", quote_hint(value)),
        "integer" => "an integer".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "true or false".to_string(),
        "null" => "an empty value".to_string(),
        "array" => match element_noun(root, node.get("items")) {
            Some(noun) => format!("a list of {noun}"),
            None => "a list".to_string(),
        },
        "object" => {
            let fields: Vec<&str> = node
                .properties()
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            if !fields.is_empty() {
                return format!("a mapping with the fields {}", list_names(&fields, false));
            }
            match element_noun(root, node.get("additionalProperties")) {
                Some(noun) => format!("a mapping of keys to {noun}"),
                None => "a mapping".to_string(),
            }
        }
        other => format!("a value of type {other}"),
    }
}

/// "strings", "integers", … for the schema of a list's items or a map's values, when it has
/// one plain type.
fn element_noun(root: &Value, schema: Option<&Value>) -> Option<&'static str> {
    match Node::resolve(root, schema?) {
        Resolved::Node(element) => match element.types().as_slice() {
            [t] => plural_noun(t),
            _ => None,
        },
        _ => None,
    }
}

fn plural_noun(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "string" => "strings",
        "integer" => "integers",
        "number" => "numbers",
        "boolean" => "true or false values",
        "array" => "lists",
        "object" => "mappings",
        _ => return None,
    })
}

/// For a number or a boolean where a string is wanted: how to make YAML read it as one.
fn quote_hint(value: &Value) -> String {
    match value {
        Value::Number(n) => format!(" (quote it: `\"{n}\"`)"),
        Value::Bool(true) => " (quote it: YAML reads unquoted yes, on, y and true as true)".into(),
        Value::Bool(false) => {
            " (quote it: YAML reads unquoted no, off, n and false as false)".into()
        }
        _ => String::new(),
    }
}

/// "`a`" for one literal, "one of `a`, `b`" for more, with the quoting hint when the value the
/// user wrote would match once quoted.
fn one_of(values: &[Value], value: &Value) -> String {
    let shown: Vec<String> = values.iter().filter(|v| !v.is_null()).map(render).collect();
    // YAML reads `1.32` as a number and `on` as true: when an allowed string is spelt like
    // that, the user most likely wrote it unquoted.
    let spellings = yaml_spellings(value);
    let hint = values
        .iter()
        .filter_map(Value::as_str)
        .find(|s| spellings.iter().any(|w| w == s))
        .map(|s| format!(" (quote it: `\"{s}\"`)"))
        .unwrap_or_default();
    match shown.as_slice() {
        [] => format!("an empty value{hint}"),
        [one] => format!("{one}{hint}"),
        _ => format!("one of {}{hint}", shown.join(", ")),
    }
}

/// The unquoted YAML 1.1 scalars that read as `value`, for a number or a boolean.
fn yaml_spellings(value: &Value) -> Vec<String> {
    let words: &[&str] = match value {
        Value::Number(n) => return vec![n.to_string()],
        Value::Bool(true) => &["true", "yes", "on", "y"],
        Value::Bool(false) => &["false", "no", "off", "n"],
        _ => return Vec::new(),
    };
    words
        .iter()
        .flat_map(|w| {
            let mut title = w.to_string();
            title[..1].make_ascii_uppercase();
            [w.to_string(), title, w.to_ascii_uppercase()]
        })
        .collect()
}

/// "expected … or …, found …".
fn mismatch(expected: &[String], value: &Value) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for e in expected {
        if !unique.contains(&e.as_str()) {
            unique.push(e);
        }
    }
    let expected = match unique.as_slice() {
        [] => "another value".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    format!("expected {expected}, found {}", found(value))
}

/// A value outside an enumeration: the allowed values, and the close ones.
fn enum_mismatch(allowed: &[Value], value: &Value) -> String {
    let mut message = mismatch(&[one_of(allowed, value)], value);
    if let Value::String(s) = value {
        let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        let close = suggest(s, names.iter().copied());
        // Suggesting every allowed value would only repeat the list.
        if close.len() == names.len() {
            return message;
        }
        if let Some(hint) = did_you_mean(&close) {
            message.push_str(": ");
            message.push_str(&hint);
        }
    }
    message
}

/// The message for an unknown field `key` of a mapping whose fields are `known`.
fn unknown_field(key: &str, close: &[&str], known: &[&str]) -> String {
    let key = render_str(key);
    match did_you_mean(close) {
        Some(hint) => format!("unknown field {key}: {hint}"),
        None if known.is_empty() => format!("unknown field {key}: this mapping has no fields"),
        None => format!(
            "unknown field {key}: expected one of {}",
            list_names(known, true)
        ),
    }
}

/// "did you mean `a`?", "did you mean `a` or `b`?", with names shown as [`render_str`] does.
fn did_you_mean(close: &[&str]) -> Option<String> {
    did_you_mean_with(close, render_str)
}

/// `a, b, c` (or with backticks), cut after [`MAX_LISTED_FIELDS`] names.
fn list_names(names: &[&str], backticks: bool) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(MAX_LISTED_FIELDS)
        .map(|n| {
            if backticks {
                render_str(n)
            } else {
                (*n).to_string()
            }
        })
        .collect();
    if names.len() > MAX_LISTED_FIELDS {
        shown.push(format!("and {} more", names.len() - MAX_LISTED_FIELDS));
    }
    shown.join(", ")
}

/// What was found, as a YAML author sees it.
fn found(value: &Value) -> String {
    match value {
        Value::Null => "an empty value".to_string(),
        Value::Array(a) if a.is_empty() => "an empty list".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(m) if m.is_empty() => "an empty mapping".to_string(),
        Value::Object(_) => "a mapping".to_string(),
        scalar => render(scalar),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A scalar in backticks as YAML would show it: strings bare unless YAML would read them as
/// something else (then double-quoted), long strings shortened; other values as JSON.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => render_str(s),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
        other => format!("`{other}`"),
    }
}

fn render_str(s: &str) -> String {
    let short: String = if s.chars().count() > MAX_QUOTED_CHARS {
        let mut cut: String = s.chars().take(MAX_QUOTED_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        s.to_string()
    };
    if short.contains('`') {
        crate::validate::code(&short)
    } else if needs_quotes(s) {
        format!("`{}`", Value::String(short))
    } else {
        format!("`{short}`")
    }
}

/// Whether YAML would read `s` unquoted as something other than this string.
fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s || s.contains(['\n', '`', '#', '"']) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    ) || s.parse::<f64>().is_ok()
        || lower.starts_with("0x")
        || lower.starts_with("0o")
        || lower.starts_with("0b")
        || lower.starts_with(".inf")
        || lower.starts_with("-.inf")
        || lower == ".nan"
}

/// A number as schemas and values hold it: exact for integers, floating otherwise.
#[derive(Clone, Copy, Debug)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn of(n: &Number) -> Num {
        if let Some(i) = n.as_i64() {
            Num::Int(i128::from(i))
        } else if let Some(u) = n.as_u64() {
            Num::Int(i128::from(u))
        } else {
            Num::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn compare(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            _ => self.as_f64().partial_cmp(&other.as_f64()),
        }
    }

    fn text(self) -> String {
        match self {
            Num::Int(i) => i.to_string(),
            Num::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Num::Float(f) => f.to_string(),
        }
    }
}

/// A bound and whether it is exclusive.
type Bound = Option<(Num, bool)>;

/// The range `node` allows: `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum` (as
/// numbers, draft 2020-12, or as flags on the inclusive bound, OpenAPI 3.0), and the range of an
/// integer `format`, whichever is tighter.
fn bounds(kw: &Keywords<'_>) -> (Bound, Bound) {
    let number = |v: Option<&Value>| v.and_then(Value::as_number).map(Num::of);
    let flag = |v: Option<&Value>| v == Some(&Value::Bool(true));
    let (format_low, format_high) = kw
        .format
        .and_then(Value::as_str)
        .and_then(format_range)
        .map_or((None, None), |(l, h)| {
            (Some(Num::Int(l)), Some(Num::Int(h)))
        });
    let lower = tightest(
        [
            number(kw.minimum).map(|m| (m, flag(kw.exclusive_minimum))),
            number(kw.exclusive_minimum).map(|m| (m, true)),
            format_low.map(|m| (m, false)),
        ],
        Ordering::Greater,
    );
    let upper = tightest(
        [
            number(kw.maximum).map(|m| (m, flag(kw.exclusive_maximum))),
            number(kw.exclusive_maximum).map(|m| (m, true)),
            format_high.map(|m| (m, false)),
        ],
        Ordering::Less,
    );
    (lower, upper)
}

/// The tightest of `candidates`: the one furthest in the direction `inward` (`Greater` for lower
/// bounds), exclusive when an equal candidate is.
fn tightest(candidates: [Bound; 3], inward: Ordering) -> Bound {
    let mut best: Bound = None;
    for (b, exclusive) in candidates.into_iter().flatten() {
        best = match best {
            None => Some((b, exclusive)),
            Some((cur, cur_exclusive)) => match b.compare(cur) {
                Some(o) if o == inward => Some((b, exclusive)),
                Some(Ordering::Equal) => Some((cur, cur_exclusive || exclusive)),
                _ => Some((cur, cur_exclusive)),
            },
        };
    }
    best
}

/// The range of the integer formats schemars writes (`int32` for `i32`, `uint16` for `u16`, …).
fn format_range(format: &str) -> Option<(i128, i128)> {
    Some(match format {
        "int8" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "int16" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "int32" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "int64" | "int" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        "uint8" => (0, i128::from(u8::MAX)),
        "uint16" => (0, i128::from(u16::MAX)),
        "uint32" => (0, i128::from(u32::MAX)),
        "uint64" | "uint" => (0, i128::from(u64::MAX)),
        _ => return None,
    })
}

/// "from 1 to 100", "at least 0", "greater than 0 and at most 1", …
fn range_phrase(lower: Bound, upper: Bound) -> String {
    match (lower, upper) {
        (Some((l, false)), Some((u, false))) => format!("from {} to {}", l.text(), u.text()),
        _ => {
            let mut parts = Vec::new();
            if let Some((l, exclusive)) = lower {
                let word = if exclusive {
                    "greater than"
                } else {
                    "at least"
                };
                parts.push(format!("{word} {}", l.text()));
            }
            if let Some((u, exclusive)) = upper {
                let word = if exclusive { "less than" } else { "at most" };
                parts.push(format!("{word} {}", u.text()));
            }
            parts.join(" and ")
        }
    }
}

#[cfg(test)]
mod tests;
