//! The CustomResourceDefinition form of a kind schema (`kubectl nixernetes schema --crd`), so a
//! cluster (and `kubectl explain`, editors, kubeconform) can know module resources.
//!
//! Owns only the steps kube-core cannot take from a draft 2020-12 document: inlining the
//! `$ref`s (CRDs have no `$defs`), marking the string-or-integer pattern as
//! `x-kubernetes-int-or-string`, and reducing the envelope to what the API server allows at the
//! root. The structural rewrite itself is the one `#[derive(CustomResource)]` runs: schemars'
//! OpenAPI 3 transforms (`nullable`, `const` → `enum`, …), then kube-core's `AddNullable`,
//! `StructuralSchemaRewriter`, `OptionalEnum` and `OptionalIntOrString`, in kube-derive's order.
//! A few leftovers the API server rejects are cleaned afterwards (`tidy`).

use super::{GROUP, VERSION};
use kube_core::schema::{OptionalEnum, OptionalIntOrString, StructuralSchemaRewriter};
use schemars::generate::SchemaSettings;
use schemars::transform::{AddNullable, Transform};
use schemars::Schema;
use serde_json::{json, Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Deepest schema nesting inlined; deeper (or recursive) references become open objects.
const MAX_INLINE_DEPTH: usize = 64;

/// Why a kind schema has no structural form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrdError {
    /// kube-core's rewriter refused the schema: alternatives (`anyOf`/`oneOf`) that declare the
    /// same field with different schemas, or enum variants of different types.
    #[error("the schema has no structural form: {reason}")]
    NotStructural {
        /// kube-core's explanation.
        reason: String,
    },
}

/// The `apiextensions.k8s.io/v1` CustomResourceDefinition of `kind` (plural `plural`, such as
/// `webapps`) in group `nixernetes.io`, version `v1alpha1` (served and stored), namespaced,
/// with [`structural`]`(schema)` as its `openAPIV3Schema`.
pub fn crd(kind: &str, plural: &str, schema: &Value) -> Result<Value, CrdError> {
    Ok(definition(
        GROUP,
        VERSION,
        kind,
        plural,
        structural(schema)?,
    ))
}

/// The `apiextensions.k8s.io/v1` CustomResourceDefinition `<plural>.<group>` of `kind`, one
/// version (served and stored), namespaced, with `open_api` (already structural) as its
/// `openAPIV3Schema`.
pub fn definition(group: &str, version: &str, kind: &str, plural: &str, open_api: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": format!("{kind}List"),
                "plural": plural,
                "singular": kind.to_ascii_lowercase(),
            },
            "scope": "Namespaced",
            "versions": [{
                "name": version,
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": open_api},
            }],
        },
    })
}

/// The resource name (plural) of `kind`, as in `webapps.nixernetes.io`: the lowercase kind plus
/// `s`, `y` after a consonant becoming `ies` (`NetworkPolicy` → `networkpolicies`); a kind that
/// already ends in `s` is a plural noun and stays as it is (`PlatformDefaults` →
/// `platformdefaults`, as Kubernetes' own `endpoints` does for `Endpoints`).
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with('s') {
        return lower;
    }
    if let Some(stem) = lower.strip_suffix('y') {
        if stem.ends_with(|c: char| !"aeiou".contains(c)) {
            return format!("{stem}ies");
        }
    }
    format!("{lower}s")
}

/// The structural OpenAPI v3 schema of a kind schema (a [`kind_schema`](super::kind_schema)
/// document): no `$ref`, `$defs` or `$schema`; every node typed (or int-or-string, or
/// preserving unknown fields); `Option`s as `nullable`; no `additionalProperties: false`.
pub fn structural(schema: &Value) -> Result<Value, CrdError> {
    let mut value = inline(schema, schema, &mut Vec::new(), 0);
    if let Value::Object(root) = &mut value {
        root.remove("$schema");
        root.remove("$defs");
        envelope_root(root);
    }
    mark_int_or_string(&mut value);

    let mut schema = match Schema::try_from(value) {
        Ok(schema) if schema.as_object().is_some() => schema,
        _ => {
            return Err(CrdError::NotStructural {
                reason: "the kind schema is not a JSON Schema object".to_string(),
            })
        }
    };
    let rewritten = catch_unwind(AssertUnwindSafe(move || {
        for transform in SchemaSettings::openapi3().transforms.iter_mut() {
            transform.transform(&mut schema);
        }
        AddNullable::default().transform(&mut schema);
        StructuralSchemaRewriter.transform(&mut schema);
        OptionalEnum.transform(&mut schema);
        OptionalIntOrString.transform(&mut schema);
        schema
    }));
    let schema = rewritten.map_err(|panic| CrdError::NotStructural {
        reason: panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "kube-core's rewriter failed".to_string()),
    })?;
    let mut value = schema.to_value();
    tidy(&mut value, true);
    Ok(value)
}

/// The keywords whose values are one subschema, a list of them, or a map of them.
const ONE: [&str; 9] = [
    "additionalProperties",
    "items",
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedProperties",
];
const LIST: [&str; 4] = ["anyOf", "oneOf", "allOf", "prefixItems"];
const MAP: [&str; 3] = ["properties", "patternProperties", "dependentSchemas"];

/// `schema` with every `$ref` replaced by what it points to in `root`, the reference's siblings
/// (`description`, `default`) winning as when schemars inlines. A reference met again below
/// itself (a recursive type) or unresolvable becomes an object that keeps unknown fields.
fn inline(schema: &Value, root: &Value, stack: &mut Vec<String>, depth: usize) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer));
        let recursive = stack.iter().any(|r| r == reference) || depth >= MAX_INLINE_DEPTH;
        match target {
            Some(target @ Value::Object(_)) if !recursive => {
                stack.push(reference.to_string());
                if let Value::Object(t) = inline(target, root, stack, depth + 1) {
                    out = t;
                }
                stack.pop();
            }
            _ => {
                out.insert("type".into(), json!("object"));
                out.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
            }
        }
    }
    for (key, value) in map {
        if key == "$ref" {
            continue;
        }
        let inlined = if ONE.contains(&key.as_str()) {
            inline(value, root, stack, depth + 1)
        } else if LIST.contains(&key.as_str()) {
            match value {
                Value::Array(list) => Value::Array(
                    list.iter()
                        .map(|s| inline(s, root, stack, depth + 1))
                        .collect(),
                ),
                other => other.clone(),
            }
        } else if MAP.contains(&key.as_str()) {
            match value {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .map(|(k, s)| (k.clone(), inline(s, root, stack, depth + 1)))
                        .collect(),
                ),
                other => other.clone(),
            }
        } else {
            value.clone()
        };
        out.insert(key.clone(), inlined);
    }
    // The field's own description wins over its type's: without this, kube-core's
    // `OptionalEnum` would copy the type's description over it.
    if out.contains_key("description") {
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = out.get_mut(key) {
                for branch in branches.iter_mut().filter_map(Value::as_object_mut) {
                    branch.remove("description");
                }
            }
        }
    }
    Value::Object(out)
}

/// The root as the API server wants it: `apiVersion` and `kind` plain strings, `metadata` a
/// bare object (the server owns its schema), and only `spec` ever required.
fn envelope_root(root: &mut Map<String, Value>) {
    if let Some(Value::Object(properties)) = root.get_mut("properties") {
        for key in ["apiVersion", "kind"] {
            if let Some(Value::Object(p)) = properties.get_mut(key) {
                p.retain(|k, _| k == "description");
                p.insert("type".into(), json!("string"));
            }
        }
        if properties.contains_key("metadata") {
            properties.insert("metadata".into(), json!({"type": "object"}));
        }
    }
    if let Some(Value::Array(required)) = root.get_mut("required") {
        required.retain(|r| r == "spec");
        if required.is_empty() {
            root.remove("required");
        }
    }
}

/// Replaces every `anyOf` of exactly an integer and a string (schemars' untagged
/// `enum { Int(i32), Str(String) }`) with `x-kubernetes-int-or-string: true`, the one
/// string-or-integer form structural schemas allow, before kube-core strips the branch types.
fn mark_int_or_string(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    let int_or_string = match map.get("anyOf") {
        Some(Value::Array(branches)) if branches.len() == 2 => {
            let ty = |b: &Value| b.get("type").and_then(Value::as_str).map(str::to_string);
            let mut types: Vec<Option<String>> = branches.iter().map(ty).collect();
            types.sort();
            let plain = branches.iter().all(|b| {
                b.as_object()
                    .is_some_and(|b| b.keys().all(|k| matches!(k.as_str(), "type" | "format")))
            });
            plain && types == [Some("integer".into()), Some("string".into())]
        }
        _ => false,
    };
    if int_or_string {
        map.remove("anyOf");
        map.insert("x-kubernetes-int-or-string".into(), json!(true));
    }
    for (key, value) in map.iter_mut() {
        if ONE.contains(&key.as_str()) {
            mark_int_or_string(value);
        } else if LIST.contains(&key.as_str()) {
            if let Value::Array(list) = value {
                list.iter_mut().for_each(mark_int_or_string);
            }
        } else if MAP.contains(&key.as_str()) {
            if let Value::Object(m) = value {
                m.values_mut().for_each(mark_int_or_string);
            }
        }
    }
}

/// Cleans what kube-core leaves and the API server rejects or ignores: `additionalProperties:
/// false` (pruning already drops unknown fields), `default: null`, and untyped nodes (a
/// `serde_json::Value` field), which become objects that keep unknown fields. `typed` says
/// whether this node must carry a type (the branches of `anyOf`/`oneOf`/`allOf`/`not` must not).
fn tidy(schema: &mut Value, typed: bool) {
    let Value::Object(map) = schema else { return };
    if map.get("additionalProperties") == Some(&Value::Bool(false)) {
        map.remove("additionalProperties");
    }
    if map.get("default") == Some(&Value::Null) {
        map.remove("default");
    }
    let untyped = !map.contains_key("type")
        && !map.contains_key("x-kubernetes-int-or-string")
        && !map.contains_key("x-kubernetes-preserve-unknown-fields");
    if typed && untyped {
        // Alternatives of different types (a string enum or `false`, as YAML 1.1 reads an
        // unquoted `off`): a structural schema has types only outside its alternatives, so the
        // branches keep their values without their types and the node takes any type.
        let typed_branches = ["anyOf", "oneOf"].iter().any(|k| {
            map.get(*k)
                .and_then(Value::as_array)
                .is_some_and(|bs| bs.iter().any(|b| b.get("type").is_some()))
        });
        if typed_branches {
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = map.get_mut(key) {
                    for branch in branches.iter_mut().filter_map(Value::as_object_mut) {
                        branch.remove("type");
                    }
                }
            }
        } else {
            map.insert("type".into(), json!("object"));
        }
        map.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "additionalProperties" | "items" => tidy(value, true),
            "not" => tidy(value, false),
            "anyOf" | "oneOf" | "allOf" => {
                if let Value::Array(list) = value {
                    list.iter_mut().for_each(|s| tidy(s, false));
                }
            }
            "properties" => {
                if let Value::Object(m) = value {
                    m.values_mut().for_each(|s| tidy(s, true));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
