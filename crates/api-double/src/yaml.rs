//! The double's YAML: request bodies sent as `application/yaml` and the kubeconfig it writes.
//!
//! A shim over serde-saphyr with the options of the main crate's `src/yaml.rs` that change what
//! a body means (legacy octal numbers, so `defaultMode: 0644` is 420 as the API server reads it;
//! duplicate keys are errors) and its budgets. It does not have that module's fast reader or
//! per-document line tracking: bodies are small, and this crate must not depend on the product.

use serde_json::Value;

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 50_000_000;
    budget.max_nodes = 20_000_000;
    budget.max_total_scalar_bytes = 8 * 1024 * 1024;
    budget.max_depth = 100;
    budget.max_reader_input_bytes = None;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.legacy_octal_numbers = true;
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    opts.with_snippet = false;
    opts
}

/// Parses exactly one YAML value; `null` when the text holds no document. Errors read
/// `line L, column C: message`.
pub fn parse_one(text: &str) -> Result<Value, String> {
    let mut values: Vec<Value> = serde_saphyr::from_str_multiple_with_options(text, options())
        .map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((1, 0));
            let text = e.without_snippet().to_string();
            let text = text.split(" at line ").next().unwrap_or_default();
            let first = text.lines().next().unwrap_or("invalid YAML").trim();
            format!("line {line}, column {column}: {first}")
        })?;
    match values.len() {
        0 => Ok(Value::Null),
        1 => Ok(values.pop().unwrap_or(Value::Null)),
        _ => Err("expected one document, found several".into()),
    }
}

/// Writes one value as a YAML document (no `---`), ending in a newline.
pub fn to_string(value: &Value) -> String {
    // Serializing a `serde_json::Value` cannot fail: keys are strings and floats are finite.
    serde_saphyr::to_string(value).unwrap_or_else(|e| format!("# unserializable value: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_as_go_readers_do() {
        let v = parse_one("mode: 0644\nflag: yes\nn: 1_000\n").unwrap();
        assert_eq!(v, json!({"mode": 420, "flag": true, "n": 1000}));
        assert_eq!(parse_one("# nothing\n").unwrap(), Value::Null);
        assert_eq!(parse_one("---\na: 1\n").unwrap(), json!({"a": 1}));
    }

    #[test]
    fn refuses_what_the_main_reader_refuses() {
        let e = parse_one("a: 1\na: 2\n").unwrap_err();
        assert!(e.starts_with("line 2, column "), "{e}");
        assert!(parse_one("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn writes_strings_go_readers_would_retype_quoted() {
        let text = to_string(&json!({"a": "yes", "b": "0644"}));
        assert_eq!(parse_one(&text).unwrap(), json!({"a": "yes", "b": "0644"}));
    }
}
