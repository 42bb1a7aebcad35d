//! Findings as KRM function `results` (functions spec: message, severity, resourceRef, field, file).

use crate::finding::Finding;
use serde_json::{json, Map, Value};

/// The `results` entry for one finding.
pub fn result(f: &Finding) -> Value {
    let mut r = Map::new();
    r.insert("message".into(), json!(f.message));
    r.insert("severity".into(), json!(f.severity.as_str()));
    if let Some(obj) = &f.object {
        let mut rr = Map::new();
        rr.insert("apiVersion".into(), json!(obj.api_version));
        rr.insert("kind".into(), json!(obj.kind));
        rr.insert("name".into(), json!(obj.name));
        if let Some(ns) = &obj.namespace {
            rr.insert("namespace".into(), json!(ns));
        }
        r.insert("resourceRef".into(), Value::Object(rr));
    }
    // Also without an object: an input error names where in stdin's ResourceList it is.
    if let Some(path) = f.field.as_deref().filter(|p| !p.is_empty()) {
        let mut field = Map::new();
        field.insert("path".into(), json!(path));
        if let Some(v) = &f.proposed {
            field.insert("proposedValue".into(), (**v).clone());
        }
        r.insert("field".into(), Value::Object(field));
    }
    if let Some(check) = f.check {
        let mut tags = Map::new();
        tags.insert("check".into(), json!(check));
        if let Some(reason) = &f.configured {
            tags.insert("configured".into(), json!(reason));
        }
        r.insert("tags".into(), Value::Object(tags));
    }
    if let Some(o) = &f.origin {
        if !o.file.is_empty() {
            r.insert("file".into(), json!({ "path": &*o.file, "index": o.index }));
        }
    }
    Value::Object(r)
}
