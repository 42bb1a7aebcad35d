//! Sources: turn files, directories, stdin and protocol envelopes into `Resource`s with origins.
//!
//! Everything that reads user input as Kubernetes objects goes through `parse_text`, so every
//! mode shares one set of rules: lists flattened as kubectl flattens them, empty documents ignored, non-object
//! documents rejected with a located error. This module must not interpret module kinds.

pub mod argocd;
pub mod crds;
pub mod files;
pub mod locate;
pub mod resource_list;

use crate::finding::Finding;
use crate::resource::{field, type_name, Origin, Resource};
use crate::yaml;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Parses a YAML/JSON stream read from `file` into resources.
pub fn parse_text(text: &str, file: &str) -> Result<Vec<Resource>, Vec<Finding>> {
    parse_text_as(text, file, &|r| r)
}

/// [`parse_text`], each object turned into a `T` by `convert` as soon as its document is read
/// (e.g. frozen, `engine::freeze`): the objects of a large file are never all trees at once.
pub fn parse_text_as<T>(
    text: &str,
    file: &str,
    convert: &dyn Fn(Resource) -> T,
) -> Result<Vec<T>, Vec<Finding>> {
    let file: Arc<str> = Arc::from(file);
    let invalid = |e: yaml::YamlError| {
        vec![
            Finding::error(format!("invalid YAML: {}", e.message)).at(Origin {
                file: file.clone(),
                index: e.index,
                line: e.line,
            }),
        ]
    };
    // Document by document: the documents are never all held beside their objects.
    let docs = yaml::documents(text).map_err(invalid)?;
    let mut out = Vec::with_capacity(docs.size_hint().1.unwrap_or(0));
    let mut errors = Vec::new();
    for doc in docs {
        let doc = doc.map_err(invalid)?;
        let origin = Origin {
            file: file.clone(),
            index: doc.index,
            line: doc.line,
        };
        let mut objects = Vec::new();
        flatten(doc.value, origin, "", &mut objects, &mut errors);
        out.extend(objects.into_iter().map(convert));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Adds `value` (an object, or a list of objects) to `out`, or reports why it is not one.
///
/// Lists are read as kubectl reads them (apimachinery's `UnstructuredJSONScheme` and the
/// resource builder's `FlattenListVisitor`): any object with an `items` field is a list, whatever
/// its kind and group (`v1 List`, `RoleList`, …), and stands for its items; an item that names
/// neither `apiVersion` nor `kind` gets the list's `apiVersion` and its kind less `List`. What
/// kubectl refuses is refused here, located: `items` that is not a list, a list inside a list.
/// `path` is where `value` is in its document (`""` for the document itself).
pub fn flatten(
    value: Value,
    origin: Origin,
    path: &str,
    out: &mut Vec<Resource>,
    errors: &mut Vec<Finding>,
) {
    flatten_in(value, origin, path, None, out, errors);
}

/// [`flatten`] of `value`, an item of the list of `list` (apiVersion, kind) when `Some`.
fn flatten_in(
    value: Value,
    origin: Origin,
    path: &str,
    list: Option<(&str, &str)>,
    out: &mut Vec<Resource>,
    errors: &mut Vec<Finding>,
) {
    let at = |field: &str| {
        if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
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
    if let Some(items) = field(&map, "items") {
        let why = match (items, list) {
            (_, Some(_)) => Some(
                "a list inside a list, which kubectl refuses (\"not a list: no Items field\"): move its items into the outer list".to_string(),
            ),
            (Value::Array(_), None) => None,
            (Value::Null, None) => Some(
                "items is null: kubectl reads any object with an items field as a list, and this one as an empty list that applies nothing; remove items, or list the objects under it".to_string(),
            ),
            (other, None) => Some(format!(
                "items must be a list of objects, found {}: kubectl reads any object with an items field as a list of the objects under it",
                type_name(other)
            )),
        };
        if let Some(why) = why {
            errors.push(Finding::error(why).at(origin).field(at("items")));
            return;
        }
        let text = |key| {
            field(&map, key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if let Some(Value::Array(items)) = map.remove("items") {
            for (i, item) in items.into_iter().enumerate() {
                flatten_in(
                    item,
                    origin.clone(),
                    &at(&format!("items[{i}]")),
                    Some((&api_version, &kind)),
                    out,
                    errors,
                );
            }
        }
        return;
    }
    if let Some((api_version, kind)) = list {
        let item_kind = kind.strip_suffix("List").unwrap_or(kind);
        // Only when neither is written at all: a `kind: 5` is the user's, and an error.
        let unwritten = |key| field(&map, key).is_none_or(|v| v.is_null() || v == "");
        if unwritten("apiVersion") && unwritten("kind") && !item_kind.is_empty() {
            // As kubectl reads a typed list (a `RoleList` of `Role`s written without kinds).
            let mut typed = Map::with_capacity(map.len() + 2);
            typed.insert("apiVersion".into(), Value::String(api_version.to_string()));
            typed.insert("kind".into(), Value::String(item_kind.to_string()));
            typed.extend(
                map.into_iter()
                    .filter(|(k, _)| k != "apiVersion" && k != "kind"),
            );
            map = typed;
        }
    }
    if is_object(&map, path, &origin, errors) {
        out.push(Resource::new(map, origin));
    }
}

/// Whether `map` (at `path` in its document) can be read as one Kubernetes object; reports
/// why not to `errors`. Every reader of objects applies it (documents, list items, KRM items).
pub fn is_object(
    map: &Map<String, Value>,
    path: &str,
    origin: &Origin,
    errors: &mut Vec<Finding>,
) -> bool {
    let at = |field: &str| {
        if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
    let missing: Vec<&str> = ["apiVersion", "kind"]
        .into_iter()
        .filter(|k| !named(map, k))
        .collect();
    if !missing.is_empty() {
        errors.push(
            Finding::error(format!(
                "missing {} (every object needs apiVersion and kind)",
                missing.join(" and ")
            ))
            .at(origin.clone())
            .field(at(missing[0])),
        );
        return false;
    }
    let Some(metadata) = field(map, "metadata") else {
        return true;
    };
    let Some(metadata) = metadata.as_object() else {
        errors.push(
            Finding::error(format!(
                "metadata must be a mapping, found {}",
                type_name(metadata)
            ))
            .at(origin.clone())
            .field(at("metadata")),
        );
        return false;
    };
    if let Some(name) = field(metadata, "name").filter(|n| !n.is_string()) {
        errors.push(
            Finding::error(format!(
                "metadata.name must be a string, found {}; quote it",
                type_name(name)
            ))
            .at(origin.clone())
            .field(at("metadata.name")),
        );
        return false;
    }
    // `namespace: y` or `namespace: 5` is no namespace to kubectl, which refuses the file.
    if let Some(ns) = field(metadata, "namespace").filter(|n| !n.is_string() && !n.is_null()) {
        errors.push(
            Finding::error(format!(
                "metadata.namespace must be a string, found {}; quote it (unquoted, `y`, `on` or `true` are booleans and `5` a number to kubectl, which refuses them)",
                type_name(ns)
            ))
            .at(origin.clone())
            .field(at("metadata.namespace")),
        );
        return false;
    }
    // Module resources' envelopes are checked with the rest of them (`engine::module_identity`),
    // so that one run reports every error of one.
    let module = field(map, "apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|a| crate::resource::group_of(a) == crate::resource::GROUP);
    let before = errors.len();
    if !module {
        string_map(metadata, "labels", &at, origin, errors);
        string_map(metadata, "annotations", &at, origin, errors);
    }
    errors.len() == before
}

/// Whether `map` has `key` as a non-empty string.
fn named(map: &Map<String, Value>, key: &str) -> bool {
    field(map, key)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

/// Reports `metadata.<key>` (labels or annotations) unless it is a mapping of strings, as the
/// API server reads it (`map[string]string`): anything else would be refused by kubectl, or
/// replaced by the tool's own labels.
fn string_map(
    metadata: &Map<String, Value>,
    key: &str,
    at: &dyn Fn(&str) -> String,
    origin: &Origin,
    errors: &mut Vec<Finding>,
) {
    let what = if key == "labels" {
        "label"
    } else {
        "annotation"
    };
    match field(metadata, key) {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                if matches!(v, Value::String(_) | Value::Null) {
                    continue;
                }
                errors.push(
                    Finding::error(format!(
                        "{what} value must be a string, found {}; quote it (kubectl refuses it unquoted)",
                        type_name(v)
                    ))
                    .at(origin.clone())
                    .field(at(&format!("metadata.{key}.{k}"))),
                );
            }
        }
        Some(other) => errors.push(
            Finding::error(format!(
                "metadata.{key} must be a mapping of keys to string values, found {}; write each {what} as `key: value` on its own line",
                type_name(other)
            ))
            .at(origin.clone())
            .field(at(&format!("metadata.{key}"))),
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Resource>, Vec<Finding>> {
        parse_text(text, "t.yaml")
    }

    fn messages(text: &str) -> Vec<String> {
        read(text)
            .expect_err("refused")
            .iter()
            .map(|f| format!("{}: {}", f.field.as_deref().unwrap_or(""), f.message))
            .collect()
    }

    #[test]
    fn any_object_with_items_is_a_list_of_them() {
        let text = "\
apiVersion: example.com/v1
kind: WidgetList
items:
  - {apiVersion: example.com/v1, kind: Widget, metadata: {name: a}}
  - metadata: {name: b}
    spec: {size: 1}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: d}
items: []
";
        let objects = read(text).expect("read");
        let got: Vec<String> = objects
            .iter()
            .map(|r| format!("{} {} {}", r.api_version(), r.kind(), r.name()))
            .collect();
        assert_eq!(
            got,
            [
                "example.com/v1 Widget a",
                "example.com/v1 Widget b",
                "v1 ConfigMap c"
            ]
        );
        // The kind given to an item that named none comes first, as written ones do.
        let keys: Vec<&str> = objects[1].object.keys().map(String::as_str).collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
        assert!(objects.iter().all(|r| r.origin.line == 1));
    }

    #[test]
    fn what_kubectl_refuses_about_lists_is_refused() {
        assert_eq!(
            messages("apiVersion: v1\nkind: List\nitems:\n  - {kind: List, apiVersion: v1, items: []}\n"),
            ["items[0].items: a list inside a list, which kubectl refuses (\"not a list: no Items field\"): move its items into the outer list"]
        );
        assert!(messages("kind: X\napiVersion: v1\nitems: 3\n")[0]
            .starts_with("items: items must be a list of objects, found a number"));
        assert!(
            messages("kind: X\napiVersion: v1\nitems: ~\n")[0].starts_with("items: items is null")
        );
        // A kind written (even wrongly) is never replaced by the list's.
        assert_eq!(
            messages("apiVersion: x.io/v1\nkind: WidgetList\nitems:\n  - {kind: 5, metadata: {name: a}}\n"),
            ["items[0].apiVersion: missing apiVersion and kind (every object needs apiVersion and kind)"]
        );
        // A `v1 List`'s items have no kind to take: they must name theirs.
        assert_eq!(
            messages("apiVersion: v1\nkind: List\nitems:\n  - metadata: {name: a}\n"),
            ["items[0].apiVersion: missing apiVersion and kind (every object needs apiVersion and kind)"]
        );
    }

    #[test]
    fn labels_and_annotations_are_maps_of_strings() {
        assert_eq!(
            messages(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: x\n  annotations: {a: [1], b: '2', c: 3.5}\n"
            ),
            [
                "metadata.labels: metadata.labels must be a mapping of keys to string values, found a string; write each label as `key: value` on its own line",
                "metadata.annotations.a: annotation value must be a string, found a list; quote it (kubectl refuses it unquoted)",
                "metadata.annotations.c: annotation value must be a string, found a number; quote it (kubectl refuses it unquoted)",
            ]
        );
        // Empty (null) maps and values are what the API server reads as none and "".
        assert!(read("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n  annotations: {a: }\n").is_ok());
        // A module resource's envelope is left to the engine, which reports it with the rest.
        assert!(read(
            "apiVersion: nixernetes.io/v1alpha1\nkind: WebApp\nmetadata: {name: a, labels: [x]}\n"
        )
        .is_ok());
    }
}
