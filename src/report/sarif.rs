//! Findings as SARIF 2.1.0 for code scanning: one run, a rule for every check that fired (plus
//! `invalid-input` for validation errors), results located at the object's real start line.
//! Exempted findings are kept, as `suppressions` with the annotation's reason. An error in what
//! a user kind's template made is located at the instance, with the template node as a
//! `relatedLocations` entry.

use crate::finding::{Finding, Severity};
use crate::policy;
use serde_json::{json, Map, Value};

/// Rule id of findings that come from input validation rather than a check.
const INVALID_INPUT: &str = "invalid-input";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A repo-relative URI for a path as the user gave it.
fn uri(path: &str) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    let encoded: String = p
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn rule(id: &str) -> Value {
    let (summary, pss, default, security) = match policy::lookup(id) {
        Some(c) => (c.summary, c.pss, c.severity, true),
        None if id == INVALID_INPUT => (
            "input is valid: parses, has known kinds and valid module specs",
            None,
            Severity::Error,
            false,
        ),
        None if id == "compliance-check" => (
            "objects comply with the level a ComplianceCheck holds them to",
            None,
            Severity::Error,
            true,
        ),
        None if id.starts_with("rule.") => (
            "objects satisfy a ValidationRule (or ValidatingAdmissionPolicy) of the input",
            None,
            Severity::Error,
            true,
        ),
        None => ("a finding of a report kind", None, Severity::Warning, false),
    };
    let mut tags = vec!["kubernetes"];
    if security {
        tags.push("security");
    }
    if let Some(p) = pss {
        tags.push(match p {
            policy::Pss::Baseline => "pss-baseline",
            policy::Pss::Restricted => "pss-restricted",
        });
    }
    let security_severity = match (pss, default) {
        (Some(policy::Pss::Baseline), _) => "8.0",
        (Some(policy::Pss::Restricted), _) => "6.0",
        (None, Severity::Error) => "5.0",
        (None, Severity::Warning) => "3.0",
        (None, Severity::Info) => "1.0",
    };
    json!({
        "id": id,
        "name": id,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": summary},
        "help": {"text": format!("{summary}. Exempt one object with the annotation ignore-check.nixernetes.io/{id}: \"<reason>\".")},
        "defaultConfiguration": {"level": level(default)},
        "properties": {"tags": tags, "security-severity": security_severity},
    })
}

/// The finding's related places (the template node that made a user kind's child), each with
/// the `id` and `message` SARIF 2.1.0 asks of a related location (§3.28.2, §3.28.5), ids from 1.
fn related_locations(f: &Finding) -> Value {
    let list: Vec<Value> = f
        .related()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut location = Map::new();
            location.insert("id".into(), json!(i + 1));
            if !r.origin.file.is_empty() {
                location.insert(
                    "physicalLocation".into(),
                    json!({"artifactLocation": {"uri": uri(&r.origin.file)}, "region": {"startLine": r.origin.line.max(1)}}),
                );
            }
            location.insert("message".into(), json!({"text": r.message}));
            Value::Object(location)
        })
        .collect();
    Value::Array(list)
}

/// The SARIF log for `findings`.
pub fn report(findings: &[Finding]) -> Value {
    let mut rule_ids: Vec<&str> = Vec::new();
    for f in findings {
        let id = f.check.unwrap_or(INVALID_INPUT);
        if !rule_ids.contains(&id) {
            rule_ids.push(id);
        }
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let id = f.check.unwrap_or(INVALID_INPUT);
            let mut r = Map::new();
            r.insert("ruleId".into(), json!(id));
            r.insert("ruleIndex".into(), json!(rule_ids.iter().position(|r| *r == id).unwrap_or(0)));
            r.insert("level".into(), json!(level(f.severity)));
            let text = match &f.field {
                Some(p) => format!("{p}: {}", f.message),
                None => f.message.clone(),
            };
            r.insert("message".into(), json!({"text": text}));
            let mut location = Map::new();
            if let Some(o) = f.origin.as_ref().filter(|o| !o.file.is_empty()) {
                location.insert(
                    "physicalLocation".into(),
                    json!({"artifactLocation": {"uri": uri(&o.file)}, "region": {"startLine": o.line.max(1)}}),
                );
            }
            if let Some(obj) = &f.object {
                location.insert(
                    "logicalLocations".into(),
                    json!([{"fullyQualifiedName": obj.to_string(), "kind": "resource"}]),
                );
            }
            if !location.is_empty() {
                r.insert("locations".into(), json!([location]));
            }
            if !f.related().is_empty() {
                r.insert("relatedLocations".into(), related_locations(f));
            }
            if let Some(reason) = &f.configured {
                r.insert("properties".into(), json!({"configured": reason}));
            }
            if let Some(reason) = &f.exempted {
                r.insert("suppressions".into(), json!([{"kind": "inSource", "justification": reason}]));
            }
            Value::Object(r)
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "nixernetes",
                "version": crate::VERSION,
                "semanticVersion": crate::VERSION,
                "rules": rule_ids.iter().map(|id| rule(id)).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
