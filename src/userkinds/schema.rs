//! The schema of a user kind: the CRD structural subset of OpenAPI v3 (`spec.schema.openAPIV3Schema`
//! of a `KindDefinition`). This file checks the schema itself, translates it for the structural
//! validator (`crate::schema::validate`, which owns the wording of structural errors), checks
//! `pattern`s, answers which fields exist for the load-time checks of `self.spec.…` reads, and
//! synthesizes the minimal instance the self-test renders.
//!
//! Unlike a CRD, unknown instance fields are errors rather than pruned: that keeps the built-in
//! kinds' behaviour (`deny_unknown_fields`).

use crate::validate::suggest::did_you_mean;
use serde_json::{json, Map, Value};

/// The keywords of the structural subset.
const KEYWORDS: &[&str] = &[
    "type",
    "description",
    "properties",
    "required",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "items",
    "additionalProperties",
    "nullable",
    "default",
    "format",
    "title",
    "example",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations",
];

const TYPES: &[&str] = &["object", "array", "string", "integer", "number", "boolean"];

/// Every problem of the schema `s` at `path` (`spec.schema.openAPIV3Schema…`), as (field,
/// message).
pub fn check(s: &Value, path: &str, out: &mut Vec<(String, String)>) {
    let Some(map) = s.as_object() else {
        out.push((path.into(), "a schema must be a mapping".into()));
        return;
    };
    for (k, v) in map {
        let at = format!("{path}.{k}");
        if !KEYWORDS.contains(&k.as_str()) {
            let hint = match k.as_str() {
                "$ref" | "allOf" | "anyOf" | "oneOf" | "not" => {
                    "a structural schema declares every field in place (no $ref or allOf/anyOf/oneOf/not, as in a CRD)".to_string()
                }
                _ => did_you_mean(k, KEYWORDS.iter().copied())
                    .unwrap_or_else(|| "not a keyword of the CRD structural schema".into()),
            };
            out.push((at, format!("unknown keyword {k:?}: {hint}")));
            continue;
        }
        match k.as_str() {
            "type" => match v.as_str() {
                Some(t) if TYPES.contains(&t) => {}
                _ => out.push((
                    at,
                    format!("type must be one of {}, found {v}", TYPES.join(", ")),
                )),
            },
            "properties" => match v.as_object() {
                Some(props) => {
                    for (name, sub) in props {
                        check(sub, &format!("{at}.{name}"), out);
                    }
                }
                None => out.push((at, "properties must map field names to schemas".into())),
            },
            "items" => check(v, &at, out),
            "additionalProperties" if !v.is_boolean() => check(v, &at, out),
            "required" => {
                let props = map.get("properties").and_then(Value::as_object);
                match v.as_array() {
                    Some(names) => {
                        for (i, n) in names.iter().enumerate() {
                            match n.as_str() {
                                Some(n) if props.is_some_and(|p| p.contains_key(n)) => {}
                                Some(n) => out.push((
                                    format!("{at}[{i}]"),
                                    format!(
                                        "required field {n:?} is not among the properties{}",
                                        props
                                            .and_then(|p| did_you_mean(
                                                n,
                                                p.keys().map(String::as_str)
                                            ))
                                            .map(|d| format!(": {d}"))
                                            .unwrap_or_default()
                                    ),
                                )),
                                None => {
                                    out.push((format!("{at}[{i}]"), "a field name (string)".into()))
                                }
                            }
                        }
                    }
                    None => out.push((at, "required must be a list of field names".into())),
                }
            }
            "pattern" => match v.as_str().map(regex::Regex::new) {
                Some(Ok(_)) => {}
                Some(Err(e)) => out.push((at, format!("not a regular expression: {e}"))),
                None => out.push((at, "pattern must be a string".into())),
            },
            "x-kubernetes-validations" => match v.as_array() {
                Some(rules) => {
                    for (i, r) in rules.iter().enumerate() {
                        let at = format!("{at}[{i}]");
                        let Some(r) = r.as_object() else {
                            out.push((at, "a rule is a mapping with rule and message".into()));
                            continue;
                        };
                        if !r.get("rule").is_some_and(Value::is_string) {
                            out.push((
                                format!("{at}.rule"),
                                "required: the CEL expression (a string)".into(),
                            ));
                        }
                        for key in r.keys() {
                            let known = [
                                "rule",
                                "message",
                                "messageExpression",
                                "reason",
                                "fieldPath",
                                "optionalOldSelf",
                            ];
                            if !known.contains(&key.as_str()) {
                                let hint = did_you_mean(key, known).unwrap_or_else(|| {
                                    format!("expected one of {}", known.join(", "))
                                });
                                out.push((
                                    format!("{at}.{key}"),
                                    format!("unknown field {key:?}: {hint}"),
                                ));
                            }
                        }
                    }
                }
                None => out.push((at, "a list of rules".into())),
            },
            _ => {}
        }
    }
    if map.get("type").is_none()
        && !map.contains_key("x-kubernetes-int-or-string")
        && !map.contains_key("x-kubernetes-preserve-unknown-fields")
    {
        out.push((
            format!("{path}.type"),
            "required: every schema node has a type (object, array, string, integer, number or boolean), as in a CRD".into(),
        ));
    }
}

/// The schema as draft 2020-12 for the structural validator: objects with properties allow no
/// other fields (unless they preserve unknown fields), int-or-string is either, `x-` keywords
/// and defaults are gone. The root also has `apiVersion`, `kind` and `metadata`.
pub fn structural(root: &Value) -> Value {
    let mut out = translate(root);
    if let Some(props) = out
        .as_object_mut()
        .and_then(|m| m.entry("properties").or_insert(json!({})).as_object_mut())
    {
        props.insert("apiVersion".into(), json!({"type": "string"}));
        props.insert("kind".into(), json!({"type": "string"}));
        props.insert("metadata".into(), json!({"type": "object"}));
    }
    out
}

fn translate(s: &Value) -> Value {
    rewrite(s, &|k, v, _nullable, out| match k {
        "type"
        | "required"
        | "enum"
        | "minimum"
        | "maximum"
        | "exclusiveMinimum"
        | "exclusiveMaximum"
        | "minLength"
        | "maxLength"
        | "minItems"
        | "maxItems"
        | "additionalProperties"
        | "nullable"
        | "description" => {
            out.insert(k.to_string(), v.clone());
        }
        _ => {}
    })
}

/// The schema as published for editors and `explain` (draft 2020-12, what `schema KIND`
/// prints): descriptions, defaults, enums, ranges, patterns and formats kept; `nullable` as a
/// `null` type; int-or-string as either; objects refuse unknown fields, as instances do; the
/// `x-kubernetes-validations` rules (CEL, which JSON Schema has no place for) left out.
pub fn published(s: &Value) -> Value {
    rewrite(s, &|k, v, nullable, out| match k {
        "type" if nullable => {
            out.insert(k.to_string(), json!([v, "null"]));
        }
        "enum" if nullable => {
            let mut values = v.as_array().cloned().unwrap_or_default();
            values.push(Value::Null);
            out.insert(k.to_string(), Value::Array(values));
        }
        "example" => {
            out.insert("examples".into(), json!([v]));
        }
        "nullable" => {}
        _ if k.starts_with("x-") => {}
        _ => {
            out.insert(k.to_string(), v.clone());
        }
    })
}

/// What [`rewrite`] does with a keyword other than the structure: its name, its value, whether
/// the node is `nullable`, and the node being written.
type Keyword = dyn Fn(&str, &Value, bool, &mut Map<String, Value>);

/// What [`translate`] and [`published`] share: int-or-string as either type, the same rewrite
/// of `properties`, `items` and schema-valued `additionalProperties`, objects closed to unknown
/// fields unless they preserve them; every other keyword goes to `keyword` (its name, value,
/// whether the node is `nullable`, the node being written).
fn rewrite(s: &Value, keyword: &Keyword) -> Value {
    let Some(map) = s.as_object() else {
        return json!({});
    };
    let flag = |k: &str| map.get(k).and_then(Value::as_bool) == Some(true);
    let (nullable, preserve) = (
        flag("nullable"),
        flag("x-kubernetes-preserve-unknown-fields"),
    );
    let mut out = Map::new();
    if flag("x-kubernetes-int-or-string") {
        out.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    for (k, v) in map {
        match k.as_str() {
            "properties" => {
                let props: Map<String, Value> = v
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, sub)| (name.clone(), rewrite(sub, keyword)))
                    .collect();
                out.insert(k.clone(), Value::Object(props));
            }
            "items" => {
                out.insert(k.clone(), rewrite(v, keyword));
            }
            "additionalProperties" if v.is_object() => {
                out.insert(k.clone(), rewrite(v, keyword));
            }
            _ => keyword(k, v, nullable, &mut out),
        }
    }
    let object = map.get("type").and_then(Value::as_str) == Some("object");
    if object && !preserve && !map.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// Every value of `value` that a `pattern` of `schema` refuses, as (field, message); `path` is
/// the value's field.
pub fn patterns(schema: &Value, value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    if let (Some(p), Some(s)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) {
        if let Ok(re) = regex::Regex::new(p) {
            if !re.is_match(s) {
                out.push((
                    path.to_string(),
                    format!("{s:?} does not match the pattern {p:?}"),
                ));
            }
        }
    }
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map {
                let sub = props.and_then(|p| p.get(k)).or(extra);
                if let Some(sub) = sub {
                    patterns(sub, v, &super::template::join(path, k), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    patterns(sub, v, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// What a read of one field finds in the schema.
#[derive(Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// Declared; `optional` when neither required nor defaulted (a read may find nothing).
    Declared { schema: &'a Value, optional: bool },
    /// Not declared: the message says so, with "did you mean".
    Unknown(String),
    /// Below a node that takes any field (a map, preserve-unknown, int-or-string, a scalar's
    /// methods): not checked further.
    Open,
}

/// The field `name` of the object schema `parent`.
pub fn field<'a>(parent: &'a Value, name: &str, kind: &str) -> Field<'a> {
    let preserve = parent
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    if parent.get("type").and_then(Value::as_str) != Some("object") || preserve {
        return Field::Open;
    }
    let props = parent.get("properties").and_then(Value::as_object);
    match props.and_then(|p| p.get(name)) {
        Some(schema) => {
            let required = parent
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|n| n == name));
            Field::Declared {
                schema,
                optional: !required && schema.get("default").is_none(),
            }
        }
        None if parent
            .get("additionalProperties")
            .is_some_and(|a| a.is_object() || a == true) =>
        {
            Field::Open
        }
        None => {
            let hint = props
                .and_then(|p| did_you_mean(name, p.keys().map(String::as_str)))
                .map(|d| format!(" ({})", d.replace('`', "\"")))
                .unwrap_or_default();
            Field::Unknown(format!("no field {name:?} in the {kind} schema{hint}"))
        }
    }
}

/// `value` with the schema's `default`s filled in, top-down as the API server does: a default
/// that fills a missing object is itself defaulted below.
pub fn defaulted(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    if !map.contains_key(name) {
                        if let Some(d) = sub.get("default") {
                            map.insert(name.clone(), d.clone());
                        }
                    }
                }
                for (name, v) in map.iter_mut() {
                    if let Some(sub) = props.get(name) {
                        defaulted(sub, v);
                    }
                }
            } else if let Some(sub) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                map.values_mut().for_each(|v| defaulted(sub, v));
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                items.iter_mut().for_each(|v| defaulted(sub, v));
            }
        }
        _ => {}
    }
}

/// The smallest instance spec the schema admits, before defaults: each required field with the
/// first value its type and enum allow.
pub fn minimal(s: &Value) -> Value {
    if let Some(d) = s.get("default") {
        return d.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        return json!(1);
    }
    match s.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut out = Map::new();
            let props = s.get("properties").and_then(Value::as_object);
            for name in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = name.as_str() else { continue };
                if let Some(sub) = props.and_then(|p| p.get(name)) {
                    out.insert(name.to_string(), minimal(sub));
                }
            }
            Value::Object(out)
        }
        Some("array") => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = s.get("items").map(minimal).unwrap_or(Value::Null);
            Value::Array((0..min).map(|_| item.clone()).collect())
        }
        Some("integer") | Some("number") => {
            let min = s.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            json!(min
                .max(1)
                .min(s.get("maximum").and_then(Value::as_i64).unwrap_or(i64::MAX)))
        }
        Some("boolean") => json!(false),
        Some("string") => {
            let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
            Value::String("x".repeat(min.max(1)))
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["spec"],
            "properties": {"spec": {"type": "object", "required": ["image"], "properties": {
                "image": {"type": "string", "pattern": "^ghcr"},
                "replicas": {"type": "integer", "default": 2, "minimum": 1},
                "host": {"type": "string"},
                "port": {"x-kubernetes-int-or-string": true}
            }}}
        })
    }

    #[test]
    fn a_schema_with_unknown_keywords_is_refused() {
        let mut out = Vec::new();
        check(&json!({"type": "object", "propertes": {}}), "s", &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].1.contains("did you mean `properties`"), "{out:?}");
        let mut out = Vec::new();
        check(
            &json!({"type": "object", "required": ["a"], "properties": {"b": {"type": "string"}}}),
            "s",
            &mut out,
        );
        assert_eq!(out[0].0, "s.required[0]");
        let mut out = Vec::new();
        check(&schema(), "s", &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn unknown_fields_and_types_are_errors() {
        let s = structural(&schema());
        let problems = crate::schema::validate(
            &s,
            &json!({"apiVersion": "a/v1", "kind": "K", "metadata": {}, "spec": {"image": "x", "replica": 3, "port": "http", "host": 5}}),
        );
        let text: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        assert!(
            text.iter()
                .any(|t| t.starts_with("spec.replica:") && t.contains("replicas")),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.starts_with("spec.host:")), "{text:?}");
        assert_eq!(text.len(), 2, "{text:?}");
    }

    #[test]
    fn patterns_fields_and_minimal_instances() {
        let mut out = Vec::new();
        patterns(
            &schema(),
            &json!({"spec": {"image": "docker.io/x"}}),
            "",
            &mut out,
        );
        assert_eq!(out[0].0, "spec.image");
        let spec = &schema()["properties"]["spec"];
        assert!(matches!(
            field(spec, "host", "K"),
            Field::Declared { optional: true, .. }
        ));
        assert!(matches!(
            field(spec, "replicas", "K"),
            Field::Declared {
                optional: false,
                ..
            }
        ));
        match field(spec, "replica", "K") {
            Field::Unknown(m) => assert!(m.contains("did you mean \"replicas\""), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(minimal(&schema()), json!({"spec": {"image": "x"}}));
        let nested = json!({"type": "object", "properties": {"db": {"type": "object", "default": {}, "properties": {
            "on": {"type": "boolean", "default": true}, "size": {"type": "string", "default": "1Gi"}}}}});
        let mut v = json!({});
        defaulted(&nested, &mut v);
        assert_eq!(v, json!({"db": {"on": true, "size": "1Gi"}}));
        let mut v = json!({"db": {"size": "2Gi"}});
        defaulted(&nested, &mut v);
        assert_eq!(v, json!({"db": {"on": true, "size": "2Gi"}}));
    }
}
