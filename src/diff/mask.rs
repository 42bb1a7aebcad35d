//! Secret masking: no secret byte reaches any output unless `--show-secrets` asks for it.
//!
//! For `v1` Secrets every value of `data` and `stringData` becomes a marker that keeps the key,
//! whether the value changed and its length in bytes (decoded for `data`):
//! `*** (12 bytes)` when equal on both sides or present on one side only, and
//! `*** (before, 12 bytes)` / `*** (after, 14 bytes)` when it changed. The last-applied
//! annotation (which holds the data of client-side-applied Secrets in plain text) becomes
//! `***`. Messages about a Secret (server errors) are scrubbed of every value it holds.

use super::normalize::LAST_APPLIED;
use base64::Engine;
use serde_json::{Map, Value};

/// The marker that replaces a whole masked value.
pub const MARK: &str = "***";

/// Whether `object` is a Secret whose values must be masked.
pub fn is_secret(object: &Value) -> bool {
    object["kind"] == "Secret" && object["apiVersion"] == "v1"
}

/// Masks both sides of a Secret's diff in place (no-op for other kinds).
pub fn mask_pair(live: Option<&mut Value>, merged: Option<&mut Value>) {
    let secret = live.as_deref().is_some_and(is_secret) || merged.as_deref().is_some_and(is_secret);
    if !secret {
        return;
    }
    let (mut live, mut merged) = (live, merged);
    for (field, encoded) in [("data", true), ("stringData", false)] {
        let before = live.as_deref().map(|v| v[field].clone());
        let after = merged.as_deref().map(|v| v[field].clone());
        let empty = Value::Null;
        let b = before.as_ref().unwrap_or(&empty);
        let a = after.as_ref().unwrap_or(&empty);
        if let Some(v) = live.as_deref_mut() {
            mask_map(v, field, a, encoded, "before");
        }
        if let Some(v) = merged.as_deref_mut() {
            mask_map(v, field, b, encoded, "after");
        }
    }
    for v in [live, merged].into_iter().flatten() {
        if let Some(Value::Object(ann)) = v.pointer_mut("/metadata/annotations") {
            if let Some(a) = ann.get_mut(LAST_APPLIED) {
                *a = Value::String(MARK.into());
            }
        }
    }
}

/// Replaces the values of `object[field]`, comparing each with the same key of `other`.
fn mask_map(object: &mut Value, field: &str, other: &Value, encoded: bool, side: &str) {
    let Some(Value::Object(map)) = object.get_mut(field) else {
        return;
    };
    let masked: Map<String, Value> = map
        .iter()
        .map(|(k, v)| {
            let len = byte_len(v, encoded);
            let changed = other.get(k).is_some_and(|o| o != v);
            let mark = if changed {
                format!("{MARK} ({side}, {len} bytes)")
            } else {
                format!("{MARK} ({len} bytes)")
            };
            (k.clone(), Value::String(mark))
        })
        .collect();
    *map = masked;
}

/// The length of a secret value in bytes (decoded when it is base64 `data`).
fn byte_len(v: &Value, encoded: bool) -> usize {
    match v {
        Value::String(s) if encoded => base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(|b| b.len())
            .unwrap_or(s.len()),
        Value::String(s) => s.len(),
        Value::Null => 0,
        other => other.to_string().len(),
    }
}

/// The secret strings of some Secrets, for scrubbing messages.
#[derive(Debug, Default, Clone)]
pub struct Scrubber {
    values: Vec<String>,
}

impl Scrubber {
    /// Remembers every value of `object` if it is a Secret: `data` (encoded and decoded),
    /// `stringData` (as written and encoded), and the last-applied annotation.
    pub fn add(&mut self, object: &Value) {
        if !is_secret(object) {
            return;
        }
        for field in ["data", "stringData"] {
            if let Some(Value::Object(m)) = object.get(field) {
                for v in m.values() {
                    let Some(s) = v.as_str() else { continue };
                    self.values.push(s.to_string());
                    let b64 = &base64::engine::general_purpose::STANDARD;
                    if field == "data" {
                        if let Ok(bytes) = b64.decode(s) {
                            self.values
                                .push(String::from_utf8_lossy(&bytes).into_owned());
                        }
                    } else {
                        // The API server stores `stringData` in `data`, encoded: its messages
                        // quote that form.
                        self.values.push(b64.encode(s));
                    }
                }
            }
        }
        if let Some(s) = object["metadata"]["annotations"][LAST_APPLIED].as_str() {
            self.values.push(s.to_string());
        }
        self.values.retain(|s| !s.is_empty());
        // Longest first, so that a value containing another is replaced whole.
        self.values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.values.dedup();
    }

    /// `text` with every remembered value replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MARK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_keys_changes_and_lengths() {
        let mut live = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "annotations": {LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
            "data": {"password": "aHVudGVyMg==", "user": "YWRtaW4=", "old": "eA=="}});
        let mut merged = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"password": "czNjcjN0LXBhc3M=", "user": "YWRtaW4=", "new": "eHl6"},
            "stringData": {"token": "abc"}});
        mask_pair(Some(&mut live), Some(&mut merged));
        assert_eq!(
            live["data"],
            json!({"password": "*** (before, 7 bytes)", "user": "*** (5 bytes)", "old": "*** (1 bytes)"})
        );
        assert_eq!(
            merged["data"],
            json!({"password": "*** (after, 11 bytes)", "user": "*** (5 bytes)", "new": "*** (3 bytes)"})
        );
        assert_eq!(merged["stringData"], json!({"token": "*** (3 bytes)"}));
        assert_eq!(live["metadata"]["annotations"][LAST_APPLIED], "***");
        let text = format!("{live}{merged}");
        for secret in [
            "aHVudGVyMg",
            "hunter2",
            "YWRtaW4",
            "czNjcjN0",
            "s3cr3t",
            "abc\"",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn other_kinds_untouched_and_one_side_masked() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}});
        let before = cm.clone();
        mask_pair(Some(&mut cm), None);
        assert_eq!(cm, before);
        let mut new = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "plain"}});
        mask_pair(None, Some(&mut new));
        assert_eq!(new["stringData"]["k"], "*** (5 bytes)");
    }

    #[test]
    fn scrubs_messages() {
        let mut s = Scrubber::default();
        s.add(&json!({"apiVersion": "v1", "kind": "Secret", "data": {"p": "aHVudGVyMg=="}, "stringData": {"t": "tok-123"}}));
        s.add(&json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"p": "visible"}}));
        assert_eq!(
            s.scrub("Invalid value: \"hunter2\" (aHVudGVyMg==) tok-123 (dG9rLTEyMw==) visible"),
            "Invalid value: \"***\" (***) *** (***) visible"
        );
    }
}
