//! The KRM function wire format: a `ResourceList` (config.kubernetes.io/v1 or v1beta1) or a
//! `v1 List` in, a `config.kubernetes.io/v1` `ResourceList` out.
//!
//! Items keep every field and annotation; their origin comes from the orchestrator's
//! `internal.config.kubernetes.io/path|index` annotations (or the legacy `config.kubernetes.io/*`
//! twins), so results point at the user's files.

use crate::finding::Finding;
use crate::resource::type_name;
use crate::resource::{Origin, Resource};
use crate::yaml;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The parsed input of a KRM function.
#[derive(Debug)]
pub struct ResourceList<T = Resource> {
    pub items: Vec<T>,
    pub function_config: Option<Resource>,
}

fn is_envelope(m: &Map<String, Value>) -> bool {
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
    let api = m.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    (kind == "ResourceList" && api.starts_with("config.kubernetes.io/"))
        || (kind == "List" && api == "v1")
}

/// Origin of an item from the orchestrator's annotations.
fn item_origin(item: &Map<String, Value>, position: usize) -> Origin {
    let ann = item
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object);
    let get = |keys: [&str; 2]| {
        keys.iter().find_map(|k| {
            ann.and_then(|a| a.get(*k))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    };
    match get([
        "internal.config.kubernetes.io/path",
        "config.kubernetes.io/path",
    ]) {
        Some(path) => Origin {
            file: Arc::from(path),
            index: get([
                "internal.config.kubernetes.io/index",
                "config.kubernetes.io/index",
            ])
            .and_then(|i| i.parse().ok())
            .unwrap_or(0),
            line: 0,
        },
        None => Origin {
            file: Arc::from(""),
            index: position,
            line: 0,
        },
    }
}

/// Why the function's stdin was refused, with its items as read (to be given back unchanged;
/// none when the envelope itself could not be read).
#[derive(Debug)]
pub struct Rejected {
    pub items: Vec<Value>,
    pub findings: Vec<Finding>,
    /// Whether the text was a ResourceList (or `v1 List`) envelope: `false` when it is not YAML
    /// or not such an envelope at all.
    pub envelope: bool,
}

impl From<Vec<Finding>> for Rejected {
    /// The envelope could not be read.
    fn from(findings: Vec<Finding>) -> Self {
        Rejected {
            items: Vec::new(),
            findings,
            envelope: false,
        }
    }
}

/// The origin of the `functionConfig`.
fn config_origin() -> Origin {
    Origin {
        file: Arc::from("functionConfig"),
        index: 0,
        line: 0,
    }
}

/// [`parse`], each item turned into a `T` by `convert` as soon as it is read (e.g. frozen,
/// `engine::freeze`). A list laid out as orchestrators write it is read item by item
/// (`yaml::list`), so that its items are never all trees at once; any other list, and any
/// list with a problem (which [`parse`] reports), is read whole.
pub fn parse_as<T>(
    text: &str,
    convert: &dyn Fn(Resource) -> T,
) -> Result<ResourceList<T>, Rejected> {
    if let Some(read) = yaml::list::split(text).and_then(|s| read_split(&s, convert)) {
        return Ok(read);
    }
    let rl = parse(text)?;
    Ok(ResourceList {
        items: rl.items.into_iter().map(convert).collect(),
        function_config: rl.function_config,
    })
}

/// The list of `split`, read item by item; `None` when it is to be read whole: an item the
/// fast reader declines, or anything [`parse`] would report.
fn read_split<T>(
    split: &yaml::list::Split<'_>,
    convert: &dyn Fn(Resource) -> T,
) -> Option<ResourceList<T>> {
    let mut envelope = split.envelope()?;
    if !is_envelope(&envelope) {
        return None;
    }
    let function_config = match envelope.remove("functionConfig") {
        Some(Value::Object(m)) if !m.is_empty() => Some(Resource::new(m, config_origin())),
        None | Some(Value::Null) | Some(Value::Object(_)) => None,
        Some(_) => return None,
    };
    let mut items = Vec::with_capacity(split.len());
    let mut errors = Vec::new();
    for i in 0..split.len() {
        let Value::Object(m) = split.item(i)? else {
            return None;
        };
        let origin = item_origin(&m, i);
        if yaml::over_budget(&m)
            || m.contains_key("items")
            || !crate::source::is_object(&m, "", &origin, &mut errors)
            || !errors.is_empty()
        {
            return None;
        }
        items.push(convert(Resource::new(m, origin)));
    }
    Some(ResourceList {
        items,
        function_config,
    })
}

/// Parses the function's stdin. Items are read by the rules documents are read by
/// ([`crate::source::is_object`]); an item that is itself a list is refused, since the
/// orchestrator flattens lists before a function sees them.
pub fn parse(text: &str) -> Result<ResourceList, Rejected> {
    let stdin = || Origin {
        file: Arc::from("-"),
        index: 0,
        line: 1,
    };
    let value = yaml::parse_list(text).map_err(|e| {
        // KRM results name a file and an index, not a line: the message carries it.
        vec![Finding::error(format!(
            "invalid YAML in the ResourceList on stdin, line {}: {}",
            e.line, e.message
        ))
        .at(Origin {
            line: e.line,
            ..stdin()
        })]
    })?;
    let Value::Object(mut envelope) = value else {
        return Err(vec![Finding::error(format!(
            "expected a ResourceList on stdin, found {}",
            type_name(&value)
        ))
        .at(stdin())]
        .into());
    };
    if !is_envelope(&envelope) {
        return Err(vec![Finding::error(
            "expected kind ResourceList (apiVersion config.kubernetes.io/v1 or v1beta1) or a v1 List on stdin",
        )
        .at(stdin())
        .field("kind")]
        .into());
    }
    let items = match envelope.remove("items") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            return Err(Rejected {
                envelope: true,
                ..vec![
                    Finding::error(format!("items must be a list, found {}", type_name(&other)))
                        .at(stdin())
                        .field("items"),
                ]
                .into()
            })
        }
    };
    let mut errors = Vec::new();
    let mut resources = Vec::with_capacity(items.len());
    // Items refused, by position, kept to be given back.
    let mut refused: Vec<(usize, Value)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("items[{i}]");
        let Value::Object(m) = item else {
            errors.push(
                Finding::error(format!(
                    "expected a Kubernetes object with apiVersion and kind, found {}",
                    type_name(&item)
                ))
                .at(stdin())
                .field(path),
            );
            refused.push((i, item));
            continue;
        };
        let origin = item_origin(&m, i);
        // Errors name the user's file when the orchestrator says which, else stdin.
        let report = if origin.file.is_empty() {
            stdin()
        } else {
            origin.clone()
        };
        if yaml::over_budget(&m) {
            errors.push(
                Finding::error(format!(
                    "the item holds more than {} MiB of text, the most one object may (the API server refuses objects over about 1.5 MiB): keep large data out of the manifest",
                    yaml::MAX_DOCUMENT_SCALAR_BYTES / (1024 * 1024)
                ))
                .at(report)
                .field(path),
            );
            refused.push((i, Value::Object(m)));
        } else if m.contains_key("items") {
            errors.push(
                Finding::error(
                    "an item that is itself a list (it has an items field): orchestrators flatten lists before a function sees them; give its items as items of the ResourceList",
                )
                .at(report)
                .field(format!("{path}.items")),
            );
            refused.push((i, Value::Object(m)));
        } else if crate::source::is_object(&m, &path, &report, &mut errors) {
            resources.push(Resource::new(m, origin));
        } else {
            refused.push((i, Value::Object(m)));
        }
    }
    let function_config = match envelope.remove("functionConfig") {
        Some(Value::Object(m)) if !m.is_empty() => Some(Resource::new(m, config_origin())),
        None | Some(Value::Null) | Some(Value::Object(_)) => None,
        Some(other) => {
            errors.push(
                Finding::error(format!(
                    "functionConfig must be an object, found {}",
                    type_name(&other)
                ))
                .at(stdin())
                .field("functionConfig"),
            );
            None
        }
    };
    if errors.is_empty() {
        return Ok(ResourceList {
            items: resources,
            function_config,
        });
    }
    // Every item back, unchanged and in its place.
    let total = resources.len() + refused.len();
    let mut read = resources.into_iter().map(|r| Value::Object(r.object));
    let mut refused = refused.into_iter().peekable();
    let items = (0..total)
        .map(|i| match refused.next_if(|(at, _)| *at == i) {
            Some((_, v)) => v,
            None => read.next().expect("every item was read or refused"),
        })
        .collect();
    Err(Rejected {
        items,
        findings: errors,
        envelope: true,
    })
}

/// The output envelope.
pub fn write(items: Vec<Resource>, results: Vec<Value>) -> Value {
    write_values(
        items.into_iter().map(|r| Value::Object(r.object)).collect(),
        results,
    )
}

/// Writes the output envelope of `items` (objects, each handed over when it is written) and
/// `results` to `out` a piece at a time, the bytes `yaml::write_document_to` gives for
/// [`write_values`] of them: a large list's items are never all trees at once.
pub fn write_items_to<W: std::io::Write + ?Sized>(
    out: &mut W,
    items: impl ExactSizeIterator<Item = Map<String, Value>>,
    results: Vec<Value>,
) -> std::io::Result<()> {
    if items.len() == 0 {
        return yaml::write_document_to(out, &write_values(Vec::new(), results));
    }
    // What the writer gives for the envelope's first keys: plain keys and values, and a block
    // sequence under `items` at the key's column, each entry as a list of one gives it.
    out.write_all(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n")?;
    for item in items {
        yaml::write_document_to(out, &Value::Array(vec![Value::Object(item)]))?;
    }
    if !results.is_empty() {
        out.write_all(b"results:\n")?;
        yaml::write_document_to(out, &Value::Array(results))?;
    }
    Ok(())
}

/// The output envelope of items as values.
pub fn write_values(items: Vec<Value>, results: Vec<Value>) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("config.kubernetes.io/v1"));
    out.insert("kind".into(), json!("ResourceList"));
    out.insert("items".into(), Value::Array(items));
    if !results.is_empty() {
        out.insert("results".into(), Value::Array(results));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written a piece at a time, a list is the bytes it is written as whole: every list of
    /// the golden cases' output, with and without results.
    #[test]
    fn a_list_written_item_by_item_is_the_list_written_whole() {
        let cases = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
        let mut compared = 0;
        for dir in std::fs::read_dir(cases).expect("tests/cases").flatten() {
            let Ok(text) = std::fs::read_to_string(dir.path().join("stdout")) else {
                continue;
            };
            let Ok(Value::Object(mut list)) = yaml::parse_list(&text) else {
                continue;
            };
            let Some(Value::Array(items)) = list.remove("items") else {
                continue;
            };
            let results = match list.remove("results") {
                Some(Value::Array(r)) => r,
                _ => Vec::new(),
            };
            let objects: Vec<Map<String, Value>> = items
                .iter()
                .filter_map(|i| i.as_object().cloned())
                .collect();
            if objects.len() != items.len() {
                continue;
            }
            for results in [results, Vec::new()] {
                let mut whole = Vec::new();
                yaml::write_document_to(&mut whole, &write_values(items.clone(), results.clone()))
                    .expect("writes");
                let mut pieces = Vec::new();
                write_items_to(&mut pieces, objects.clone().into_iter(), results).expect("writes");
                assert_eq!(
                    String::from_utf8(pieces).unwrap(),
                    String::from_utf8(whole).unwrap()
                );
                compared += 1;
            }
        }
        assert!(compared >= 10, "only {compared} lists compared");
    }

    /// Read item by item or whole, a list gives the same items and config: every ResourceList
    /// of the samples, each also with its items indented, and the lists below.
    #[test]
    fn a_list_read_item_by_item_is_the_list_read_whole() {
        let mut texts: Vec<String> = crate::source::files::sample_files()
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .filter(|t| t.contains("kind: ResourceList"))
            .collect();
        // The function's golden cases, what goes in and what comes out.
        let cases = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
        for dir in std::fs::read_dir(cases).expect("tests/cases").flatten() {
            for file in ["stdin", "stdout"] {
                if let Ok(t) = std::fs::read_to_string(dir.path().join(file)) {
                    if t.contains("kind: ResourceList") {
                        texts.push(t);
                    }
                }
            }
        }
        texts.push(list(1000, "v"));
        let indented: Vec<String> = texts
            .iter()
            .map(|t| {
                let (head, items) = t.split_once("\nitems:\n").unwrap_or((t, ""));
                let items: String = items.lines().map(|l| format!("  {l}\n")).collect();
                format!("{head}\nitems:\n{items}")
            })
            .collect();
        texts.extend(indented);
        let mut cut = 0;
        for text in &texts {
            let whole = parse(text);
            let split = yaml::list::split(text).and_then(|s| read_split(&s, &|r| r));
            let Some(split) = split else { continue };
            cut += 1;
            let whole = whole.expect("what is read item by item reads whole");
            assert_eq!(split.items, whole.items, "{text}");
            assert_eq!(split.function_config, whole.function_config, "{text}");
        }
        assert!(
            cut >= 20,
            "only {cut} of {} lists read item by item",
            texts.len()
        );
    }

    /// The fuzz target `resource_list` found a list whose only `items:` line is inside a
    /// functionConfig annotation's double-quoted scalar that spans lines: read whole it has no
    /// items, and the cut read the lines after it as one. Both readings give no items now.
    #[test]
    fn an_items_line_inside_a_quoted_scalar_is_no_items() {
        let text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  \
            apiVersion: nixernetes.io/v1alpha1\n  kind: PlatformDefaults\n  metadata:\n    \
            name: defaults\n    annotations:\n      note: \"open\nitems:\n- apiVersion: v1\n  \
            kind: Service\n  metadata:\n    name: legacy\nfun   closed: '0'\n      a: b\"\n  \
            spec: {namespace: shop}\n";
        assert!(
            yaml::list::split(text).is_some(),
            "the cut no longer tries it"
        );
        let whole = parse(text).expect("reads");
        assert!(whole.items.is_empty());
        let read = parse_as(text, &|r| r).expect("reads");
        assert_eq!(read.items, whole.items);
        assert_eq!(read.function_config, whole.function_config);
    }

    /// A ResourceList of `n` ConfigMaps, each with `value` as its data.
    fn list(n: usize, value: &str) -> String {
        let mut text =
            String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
        for i in 0..n {
            text.push_str(&format!(
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n  data:\n    k: {value}\n"
            ));
        }
        text
    }

    /// Every object of a KRM run is in one document: a list above the per-document budget
    /// reads, since each of its items is within it.
    #[test]
    fn a_list_larger_than_one_documents_budget_reads() {
        let text = list(120_000, "some-value-of-moderate-length");
        assert!(text.len() > yaml::MAX_DOCUMENT_SCALAR_BYTES);
        let rl = parse(&text).expect("the list reads");
        assert_eq!(rl.items.len(), 120_000);
        assert_eq!(rl.items[119_999].name(), "c119999");
    }

    /// One item over the per-object budget is refused, located, and every item comes back.
    #[test]
    fn an_item_over_the_budget_is_refused_and_the_items_come_back() {
        let big = "x".repeat(yaml::MAX_DOCUMENT_SCALAR_BYTES + 1);
        let mut text = list(2, "small");
        text.push_str(&format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: big\n  data:\n    k: {big}\n"
        ));
        let rejected = parse(&text).expect_err("the big item is refused");
        assert!(rejected.envelope);
        assert_eq!(rejected.items.len(), 3);
        assert_eq!(rejected.findings.len(), 1, "{:?}", rejected.findings);
        let f = &rejected.findings[0];
        assert!(
            f.message.contains("more than 8 MiB of text"),
            "{}",
            f.message
        );
        assert_eq!(f.field.as_deref(), Some("items[2]"));
    }

    /// Text that is not YAML, or YAML that is not an envelope, says so (the CLI's usage error).
    #[test]
    fn what_is_not_an_envelope_says_so() {
        for text in ["a: [", "apiVersion: v1\nkind: ConfigMap\n", "- 1\n"] {
            assert!(!parse(text).expect_err(text).envelope, "{text}");
        }
        let rejected = parse("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: 3\n")
            .expect_err("items is not a list");
        assert!(rejected.envelope);
    }
}
