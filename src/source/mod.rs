//! Sources: turn files, directories, stdin and protocol envelopes into `Resource`s with origins.
//!
//! Everything that reads user input as Kubernetes objects goes through `parse_text`, so every
//! mode shares one set of rules: `v1 List` flattening, empty documents ignored, non-object
//! documents rejected with a located error. This module must not interpret module kinds.

pub mod argocd;
pub mod files;
pub mod locate;
pub mod resource_list;

use crate::finding::Finding;
use crate::resource::{field, type_name, Origin, Resource};
use crate::yaml;
use serde_json::Value;
use std::sync::Arc;

/// Parses a YAML/JSON stream read from `file` into resources.
pub fn parse_text(text: &str, file: &str) -> Result<Vec<Resource>, Vec<Finding>> {
    let file: Arc<str> = Arc::from(file);
    let docs = yaml::parse_stream(text).map_err(|e| {
        vec![
            Finding::error(format!("invalid YAML: {}", e.message)).at(Origin {
                file: file.clone(),
                index: e.index,
                line: e.line,
            }),
        ]
    })?;
    let mut out = Vec::with_capacity(docs.len());
    let mut errors = Vec::new();
    for doc in docs {
        let origin = Origin {
            file: file.clone(),
            index: doc.index,
            line: doc.line,
        };
        flatten(doc.value, origin, "", &mut out, &mut errors);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Adds `value` (an object, or a `List` of objects) to `out`, or reports why it is not one.
pub fn flatten(
    value: Value,
    origin: Origin,
    path: &str,
    out: &mut Vec<Resource>,
    errors: &mut Vec<Finding>,
) {
    let Value::Object(mut map) = value else {
        errors.push(
            Finding::error(format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                type_name(&value)
            ))
            .at(origin)
            .field(if path.is_empty() {
                "<document>".to_string()
            } else {
                path.to_string()
            }),
        );
        return;
    };
    let kind = field(&map, "kind").and_then(Value::as_str).unwrap_or("");
    let api_version = field(&map, "apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if kind.ends_with("List")
        && api_version == "v1"
        && field(&map, "items").is_some_and(Value::is_array)
    {
        if let Some(Value::Array(items)) = map.remove("items") {
            for (i, item) in items.into_iter().enumerate() {
                flatten(
                    item,
                    origin.clone(),
                    &format!("{path}items[{i}]"),
                    out,
                    errors,
                );
            }
        }
        return;
    }
    let missing: Vec<&str> = ["apiVersion", "kind"]
        .into_iter()
        .filter(|k| {
            field(&map, k)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .collect();
    if !missing.is_empty() {
        errors.push(
            Finding::error(format!(
                "missing {} (every object needs apiVersion and kind)",
                missing.join(" and ")
            ))
            .at(origin)
            .field(if path.is_empty() {
                missing[0].to_string()
            } else {
                format!("{path}.{}", missing[0])
            }),
        );
        return;
    }
    if let Some(name) = field(&map, "metadata")
        .and_then(Value::as_object)
        .and_then(|m| field(m, "name"))
        .filter(|n| !n.is_string())
    {
        errors.push(
            Finding::error(format!(
                "metadata.name must be a string, found {}; quote it",
                type_name(name)
            ))
            .at(origin)
            .field(format!(
                "{path}{}metadata.name",
                if path.is_empty() { "" } else { "." }
            )),
        );
        return;
    }
    if let Some(m) = field(&map, "metadata") {
        if !m.is_object() {
            errors.push(
                Finding::error(format!(
                    "metadata must be a mapping, found {}",
                    type_name(m)
                ))
                .at(origin)
                .field("metadata"),
            );
            return;
        }
    }
    out.push(Resource::new(map, origin));
}

/// Decodes input bytes as UTF-8 text, with a located error for binary data.
pub fn decode(bytes: Vec<u8>, file: &str) -> Result<String, Finding> {
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        Finding::error(format!(
            "not UTF-8 text (invalid byte at offset {}); is this a binary file?",
            e.utf8_error().valid_up_to()
        ))
        .at(Origin {
            file: Arc::from(file),
            index: 0,
            line,
        })
    })
}
