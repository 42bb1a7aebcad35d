//! Findings as the stable JSON report of `check -o json`.
//!
//! Schema (version 1; fields are only ever added):
//!
//! ```text
//! { "version": 1,
//!   "tool": {"name": "nixernetes", "version": "<semver>"},
//!   "settings": {"profile": "baseline|restricted|privileged", "level": null|"<level>"},
//!   "summary": {"objects": N, "error": N, "warning": N, "info": N},
//!   "findings": [ { "severity": "error|warning|info", "check": null|"<id>",
//!                   "message": "...", "object": null|{apiVersion, kind, name, namespace?},
//!                   "field": null|"spec...", "file": null|"<path>", "line": N, "index": N,
//!                   "exempted": null|"<reason>", "proposedValue"?: <value set by a fix> } ] }
//! ```

use super::{Finding, Severity};
use serde_json::{json, Map, Value};

/// The report for `findings` over `objects` checked objects.
pub fn report(findings: &[Finding], objects: usize, settings: &crate::policy::Settings) -> Value {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let list: Vec<Value> = findings.iter().map(finding).collect();
    json!({
        "version": 1,
        "tool": {"name": "nixernetes", "version": crate::VERSION},
        "settings": {
            "profile": format!("{:?}", settings.profile()).to_lowercase(),
            "level": settings.level.map(|l| format!("{l:?}").to_lowercase()),
        },
        "summary": {"objects": objects, "error": count(Severity::Error), "warning": count(Severity::Warning), "info": count(Severity::Info)},
        "findings": list,
    })
}

fn finding(f: &Finding) -> Value {
    let mut m = Map::new();
    m.insert("severity".into(), json!(f.severity.as_str()));
    m.insert("check".into(), json!(f.check));
    m.insert("message".into(), json!(f.message));
    m.insert(
        "object".into(),
        match &f.object {
            Some(o) => {
                let mut obj = Map::new();
                obj.insert("apiVersion".into(), json!(o.api_version));
                obj.insert("kind".into(), json!(o.kind));
                obj.insert("name".into(), json!(o.name));
                if let Some(ns) = &o.namespace {
                    obj.insert("namespace".into(), json!(ns));
                }
                Value::Object(obj)
            }
            None => Value::Null,
        },
    );
    m.insert("field".into(), json!(f.field));
    m.insert(
        "file".into(),
        json!(f.origin.as_ref().map(|o| o.file.to_string())),
    );
    m.insert("line".into(), json!(f.origin.as_ref().map(|o| o.line)));
    m.insert("index".into(), json!(f.origin.as_ref().map(|o| o.index)));
    m.insert("exempted".into(), json!(f.exempted));
    if let Some(v) = &f.proposed {
        m.insert("proposedValue".into(), v.clone());
    }
    Value::Object(m)
}
