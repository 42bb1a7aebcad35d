//! `kubectl explain` for module kinds: the text kubectl 1.32 prints for a resource or one of its
//! fields, computed from the kind schema instead of a cluster's OpenAPI document.
//!
//! Owns the layout, which follows kubectl's `pkg/explain/v2/templates/plaintext.tmpl` line by
//! line: the `GROUP:`/`KIND:`/`VERSION:` header, `FIELD: name <type>` for a field path,
//! `DESCRIPTION:` word-wrapped at 76 columns as kubectl's wrapper (go-wordwrap) does, `FIELDS:`
//! sorted by name with `-required-` and `enum: a, b, c, d, ....` lines, and `--recursive` as
//! the indented field tree. The schema is read as kubectl would read the CRD form of the kind
//! once installed: `$ref`s inlined (the field's own description wins over its type's), the
//! `null` half of an `Option` dropped. Three deliberate differences, each adding what kubectl
//! cannot know: a `default: …` line after a field's description (kubectl prints none); `<IntOrString>`
//! for a string-or-integer field (kubectl shows `<Object>` for a CRD's
//! `x-kubernetes-int-or-string`); and an unknown field's error names the element that is
//! unknown (kubectl names the path's last one) and suggests the close names. Callers may add
//! sections after `DESCRIPTION:` in its style ([`explain_with`]); [`fields`] hands the same
//! reading of every field to generated documentation.

use super::{is_int_or_string, is_null_branch, Node, Resolved};
use crate::validate::suggest::{did_you_mean_with, suggest};
use serde_json::Value;

/// Column width of descriptions, as in kubectl's template (`wrap 76` under `DESCRIPTION:`,
/// `wrap (sub 78 indent)` in field lists).
const DESCRIPTION_WIDTH: usize = 76;
const FIELD_WIDTH: usize = 78;
/// Enum values shown in a field list before `, ....` (kubectl's `limit 4`).
const ENUM_LIMIT: usize = 4;
/// Deepest field tree printed by `--recursive`, whatever the schema (cycles stop earlier).
const MAX_TREE_DEPTH: usize = 32;

/// Why a kind schema cannot be explained at a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// An element of the path names no field at that point.
    #[error("field \"{field}\" does not exist{}", hint(.suggestions))]
    UnknownField {
        /// The element that names no field.
        field: String,
        /// The path before it, dotted (`spec.probes`); empty at the top.
        parent: String,
        /// Field names close to `field`, closest first.
        suggestions: Vec<String>,
    },
}

fn hint(suggestions: &[String]) -> String {
    let close: Vec<&str> = suggestions.iter().map(String::as_str).collect();
    did_you_mean_with(&close, |c| format!("\"{c}\""))
        .map(|h| format!("; {h}"))
        .unwrap_or_default()
}

/// The `kubectl explain` text for `kind` (schema `schema`, a [`kind_schema`](super::kind_schema)
/// document) at the field `path` (`&["spec", "probes"]`; empty for the resource itself), in API
/// version `version` (`nixernetes.io/v1alpha1`: group and version, as kubectl's header shows
/// them). With `recursive`, the fields below are listed as a tree without descriptions, as
/// `kubectl explain --recursive` does.
pub fn explain(
    schema: &Value,
    kind: &str,
    version: &str,
    path: &[&str],
    recursive: bool,
) -> Result<String, ExplainError> {
    explain_with(schema, kind, version, path, recursive, &[])
}

/// [`explain`], with `sections` (title, text) printed after `DESCRIPTION:` in its style: the
/// title as `TITLE:`, the text wrapped at 76 columns and indented by four. kubectl's template
/// has no slot for what a cluster cannot know (what a module kind emits, its seed module);
/// this is where `kubectl nixernetes explain` puts it.
pub fn explain_with(
    schema: &Value,
    kind: &str,
    version: &str,
    path: &[&str],
    recursive: bool,
    sections: &[(&str, String)],
) -> Result<String, ExplainError> {
    let (group, version) = match version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", version),
    };
    let mut out = String::new();
    if !group.is_empty() {
        out.push_str(&format!("GROUP:      {group}\n"));
    }
    out.push_str(&format!("KIND:       {kind}\n"));
    out.push_str(&format!("VERSION:    {version}\n"));
    out.push('\n');

    let explainer = Explainer { root: schema };
    let mut current = explainer.view(schema, 0);
    for (i, name) in path.iter().enumerate() {
        // As kubectl: a field of the schema itself, else of its list items or map values.
        let mut holder = current;
        let mut hops = 0;
        let field = loop {
            if let Some((_, s)) = holder.properties.iter().find(|(n, _)| n == name) {
                break Some(*s);
            }
            let next = holder.items.or(holder.additional);
            match next {
                Some(next) if hops < MAX_TREE_DEPTH => {
                    holder = explainer.view(next, 0);
                    hops += 1;
                }
                _ => break None,
            }
        };
        let Some(field) = field else {
            let names: Vec<&str> = holder.properties.iter().map(|(n, _)| *n).collect();
            return Err(ExplainError::UnknownField {
                field: (*name).to_string(),
                parent: path[..i].join("."),
                suggestions: suggest(name, names).into_iter().map(String::from).collect(),
            });
        };
        current = explainer.view(field, 0);
        if i + 1 == path.len() {
            out.push_str(&format!("FIELD: {name} <{}>\n", current.type_name));
            if !current.enum_values.is_empty() {
                out.push_str("ENUM:");
                for v in &current.enum_values {
                    out.push_str("\n    ");
                    out.push_str(&enum_text(v));
                }
            }
            out.push_str("\n\n");
        }
    }

    out.push_str("DESCRIPTION:\n");
    let description = explainer.description(&current, 0);
    let description = if description.is_empty() {
        "<empty>".to_string()
    } else {
        description
    };
    out.push_str(&indent(&wrap(&description, DESCRIPTION_WIDTH), 4));
    out.push('\n');
    for (title, text) in sections {
        out.push_str(&format!("{}:\n", title.to_ascii_uppercase()));
        out.push_str(&indent(&wrap(&format!("{text}\n"), DESCRIPTION_WIDTH), 4));
        out.push('\n');
    }
    let mut fields = String::new();
    explainer.field_list(&current, 1, recursive, &mut Vec::new(), &mut fields);
    if !fields.is_empty() {
        out.push_str("FIELDS:\n");
        out.push_str(&fields);
    }
    out.push('\n');
    Ok(out)
}

/// Reads a kind schema as kubectl reads a structural schema.
struct Explainer<'a> {
    root: &'a Value,
}

/// One schema node as kubectl's template sees it after inlining.
#[derive(Clone)]
struct View<'a> {
    description: Option<&'a str>,
    default: Option<&'a Value>,
    type_name: String,
    enum_values: Vec<&'a Value>,
    /// Sorted by name, as Go templates range over maps.
    properties: Vec<(&'a str, &'a Value)>,
    required: Vec<&'a str>,
    items: Option<&'a Value>,
    /// `additionalProperties` when it is a schema (a map's values), not a boolean.
    additional: Option<&'a Value>,
    /// The `$ref`s followed to reach this node, for cycle detection.
    refs: Vec<&'a str>,
}

impl<'a> Explainer<'a> {
    fn view(&self, schema: &'a Value, depth: usize) -> View<'a> {
        let mut view = View {
            description: None,
            default: None,
            type_name: "Object".to_string(),
            enum_values: Vec::new(),
            properties: Vec::new(),
            required: Vec::new(),
            items: None,
            additional: None,
            refs: Vec::new(),
        };
        let Resolved::Node(first) = Node::resolve(self.root, schema) else {
            return view;
        };
        // The node, then the single non-null alternative of an `Option` (or of a one-branch
        // `anyOf`/`oneOf`/`allOf`), as inlining and kube-core's rewriter flatten them.
        let mut layers = vec![first];
        while layers.len() < 8 {
            let Some(last) = layers.last() else { break };
            let alternatives = last.alternatives();
            let mut inner: Vec<&Value> = alternatives
                .iter()
                .copied()
                .filter(|b| !is_null_branch(self.root, b))
                .collect();
            if alternatives.is_empty() && last.properties().is_none() {
                if let Some(Value::Array(all)) = last.get("allOf") {
                    inner = all.iter().collect();
                }
            }
            let [only] = inner.as_slice() else { break };
            let Resolved::Node(next) = Node::resolve(self.root, only) else {
                break;
            };
            layers.push(next);
        }
        let get = |key: &str| layers.iter().find_map(|l| l.get(key));
        let inner = layers[layers.len() - 1];
        for layer in &layers {
            view.refs.extend(layer.refs());
        }
        view.description = get("description").and_then(Value::as_str);
        view.default = get("default");
        view.items = get("items").filter(|i| !i.is_array());
        view.additional = get("additionalProperties").filter(|a| a.is_object());

        // Fields: the node's own, else those of its object alternatives merged (kube-core hoists
        // an untagged enum's variants into one object); `required` only from the node's own.
        if let Some(props) = get("properties").and_then(Value::as_object) {
            view.properties = props.iter().map(|(k, v)| (k.as_str(), v)).collect();
            view.required = layers
                .iter()
                .find(|l| l.properties().is_some())
                .map(|l| l.required())
                .unwrap_or_default();
        } else {
            for branch in inner.alternatives() {
                if let Resolved::Node(b) = Node::resolve(self.root, branch) {
                    for (k, v) in b.properties().into_iter().flatten() {
                        if !view.properties.iter().any(|(n, _)| n == k) {
                            view.properties.push((k.as_str(), v));
                        }
                    }
                }
            }
        }
        view.properties.sort_by(|a, b| a.0.cmp(b.0));

        // Enum values: `enum`, `const`, or literal alternatives (a unit enum with documented
        // variants); `null` is never listed.
        let literal_branches: Vec<Node<'a>> = inner
            .alternatives()
            .into_iter()
            .filter(|b| !is_null_branch(self.root, b))
            .filter_map(|b| match Node::resolve(self.root, b) {
                Resolved::Node(n) => Some(n),
                _ => None,
            })
            .collect();
        let literals = !literal_branches.is_empty()
            && literal_branches
                .iter()
                .all(|b| b.get("const").is_some() || b.get("enum").is_some());
        if let Some(Value::Array(values)) = get("enum") {
            view.enum_values = values.iter().collect();
        } else if let Some(c) = get("const") {
            view.enum_values = vec![c];
        } else if literals {
            for b in &literal_branches {
                match (b.get("const"), b.get("enum")) {
                    (Some(c), _) => view.enum_values.push(c),
                    (None, Some(Value::Array(values))) => view.enum_values.extend(values.iter()),
                    _ => {}
                }
            }
        }
        view.enum_values.retain(|v| !v.is_null());

        // The type, as kubectl's `typeGuess`: lists and maps first, then `type`.
        view.type_name = if let Some(items) = view.items {
            if depth < MAX_TREE_DEPTH {
                format!("[]{}", self.view(items, depth + 1).type_name)
            } else {
                "[]Object".to_string()
            }
        } else if get("items").is_some_and(Value::is_boolean) {
            "[]Object".to_string()
        } else if let Some(values) = view.additional {
            if depth < MAX_TREE_DEPTH {
                format!("map[string]{}", self.view(values, depth + 1).type_name)
            } else {
                "map[string]Object".to_string()
            }
        } else if is_int_or_string(self.root, &inner) {
            "IntOrString".to_string()
        } else {
            let mut types: Vec<&str> = layers
                .iter()
                .map(Node::types)
                .find(|t| !t.is_empty())
                .unwrap_or_default();
            if types.is_empty() {
                types = literal_branches
                    .iter()
                    .flat_map(Node::types)
                    .take(1)
                    .collect();
            }
            match types.into_iter().find(|t| *t != "null") {
                None | Some("object") => "Object".to_string(),
                Some(t) => t.to_string(),
            }
        };
        view
    }

    /// kubectl's `description` template: the node's description, then (for a list or map) its
    /// items' or values', each on its own line; plus the `default:` line.
    fn description(&self, view: &View<'a>, depth: usize) -> String {
        let mut text = String::new();
        if let Some(d) = view.description {
            text.push_str(d);
            text.push('\n');
        }
        if depth == 0 {
            if let Some(default) = default_text(view.default) {
                text.push_str(&format!("default: {default}\n"));
            }
        }
        if depth < MAX_TREE_DEPTH {
            if let Some(items) = view.items {
                text.push_str(&self.description(&self.view(items, 0), depth + 1));
            }
            if let Some(values) = view.additional {
                text.push_str(&self.description(&self.view(values, 0), depth + 1));
            }
        }
        text
    }

    /// kubectl's `fieldList` template.
    fn field_list(
        &self,
        view: &View<'a>,
        level: usize,
        recursive: bool,
        history: &mut Vec<&'a str>,
        out: &mut String,
    ) {
        self.walk(
            view,
            level,
            recursive,
            history,
            &mut |name, field, required, level| {
                field_detail(name, field, required, recursive, level, out)
            },
        );
    }

    /// The fields of `view` in `fieldList` order, each given to `visit` with whether it is
    /// required and its level (1 for the fields of `view`); with `recursive`, each field's own
    /// fields follow it. A list's items and a map's values add no level, as in kubectl.
    fn walk(
        &self,
        view: &View<'a>,
        level: usize,
        recursive: bool,
        history: &mut Vec<&'a str>,
        visit: &mut dyn FnMut(&str, &View<'a>, bool, usize),
    ) {
        if level > MAX_TREE_DEPTH {
            return;
        }
        for (name, schema) in &view.properties {
            let field = self.view(schema, 0);
            visit(name, &field, view.required.contains(name), level);
            if recursive {
                // A type met again on the way down is a cycle: kubectl stops there too.
                if field.refs.iter().any(|r| history.contains(r)) {
                    continue;
                }
                let mark = history.len();
                history.extend(field.refs.iter().copied());
                self.walk(&field, level + 1, recursive, history, visit);
                history.truncate(mark);
            }
        }
        for next in [view.items, view.additional].into_iter().flatten() {
            let inner = self.view(next, 0);
            if inner.refs.iter().any(|r| history.contains(r)) {
                continue;
            }
            let mark = history.len();
            history.extend(inner.refs.iter().copied());
            self.walk(&inner, level, recursive, history, visit);
            history.truncate(mark);
        }
    }
}

/// One field of a kind schema, as `explain` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its path from the document's root as `explain` takes it (`["spec", "ports",
    /// "protocol"]`: list items and map values add no element).
    pub path: Vec<String>,
    /// The type as `explain` names it: `string`, `integer`, `Object`, `[]Object`,
    /// `map[string]string`, `IntOrString`, …
    pub type_name: String,
    /// Whether its parent requires it.
    pub required: bool,
    /// Its description, as written (not wrapped).
    pub description: Option<String>,
    /// Its default as `explain` prints it (members that say nothing left out); `None` for none,
    /// and for a default that says nothing (`null`, `[]`, `{}`, objects of only those).
    pub default: Option<String>,
    /// The values it allows, as `explain` prints them (`null` never listed).
    pub enum_values: Vec<String>,
}

/// Every field of `schema` (a [`kind_schema`](super::kind_schema) document), in the order and
/// with the types of `explain --recursive`, each with what `explain` shows of it: the reader
/// of generated documentation.
pub fn fields(schema: &Value) -> Vec<Field> {
    let explainer = Explainer { root: schema };
    let root = explainer.view(schema, 0);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    explainer.walk(
        &root,
        1,
        true,
        &mut Vec::new(),
        &mut |name, field, required, level| {
            path.truncate(level - 1);
            path.push(name.to_string());
            out.push(Field {
                path: path.clone(),
                type_name: field.type_name.clone(),
                required,
                description: field.description.map(str::to_string),
                default: default_text(field.default),
                enum_values: field.enum_values.iter().map(|v| enum_text(v)).collect(),
            });
        },
    );
    out
}

/// kubectl's `fieldDetail` template, plus the `default:` line.
fn field_detail(
    name: &str,
    field: &View<'_>,
    required: bool,
    short: bool,
    level: usize,
    out: &mut String,
) {
    let pad = " ".repeat(level * 2);
    out.push_str(&format!("{pad}{name}\t<{}>", field.type_name));
    if required {
        out.push_str(" -required-");
    }
    if !field.enum_values.is_empty() {
        out.push('\n');
        out.push_str(&pad);
        out.push_str("enum: ");
        for (i, v) in field.enum_values.iter().enumerate() {
            if i >= ENUM_LIMIT {
                out.push_str(", ....");
                break;
            }
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&enum_text(v));
        }
    }
    out.push('\n');
    if !short {
        let description = field.description.unwrap_or("<no description>");
        let width = FIELD_WIDTH.saturating_sub(level * 2);
        out.push_str(&indent(&wrap(description, width), level * 2 + 2));
        out.push('\n');
        if let Some(default) = default_text(field.default) {
            out.push_str(&format!("{pad}  default: {default}\n"));
        }
        out.push('\n');
    }
}

/// An enum value as Go's template prints it: strings bare (`""` for the empty one), other
/// values as JSON.
fn enum_text(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A default worth showing, without the members of objects that say nothing (`null`, `[]`,
/// `{}`: an `Option` or an empty collection of the spec's `Default`); `None` when nothing is
/// left.
fn default_text(default: Option<&Value>) -> Option<String> {
    meaningful(default?).map(|v| enum_text(&v))
}

/// `value` without what says nothing, as [`default_text`] shows it.
fn meaningful(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .map(|v| meaningful(v).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(m) => {
            let kept: serde_json::Map<String, Value> = m
                .iter()
                .filter_map(|(k, v)| meaningful(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other.clone()),
    }
}

/// kubectl's `indent`: `amount` spaces before the text and after every newline in it.
fn indent(text: &str, amount: usize) -> String {
    let pad = " ".repeat(amount);
    format!("{pad}{}", text.replace('\n', &format!("\n{pad}")))
}

/// go-wordwrap 1.0.1's `WrapString`, which kubectl's `wrap` uses: breaks only at white space,
/// counts characters, keeps existing newlines, and lets a word longer than `limit` overflow.
fn wrap(text: &str, limit: usize) -> String {
    /// Moves a pending run (of spaces or of word characters) to the output.
    fn flush(out: &mut String, run: &mut String, len: &mut usize) {
        out.push_str(run);
        run.clear();
        *len = 0;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut current = 0usize;
    let (mut word, mut word_len) = (String::new(), 0usize);
    let (mut space, mut space_len) = (String::new(), 0usize);
    for ch in text.chars() {
        if ch == '\n' {
            if !word.is_empty() || current + space_len <= limit {
                flush(&mut out, &mut space, &mut space_len);
            }
            flush(&mut out, &mut word, &mut word_len);
            space.clear();
            space_len = 0;
            out.push(ch);
            current = 0;
        } else if ch.is_whitespace() && ch != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                flush(&mut out, &mut space, &mut space_len);
                flush(&mut out, &mut word, &mut word_len);
            }
            space.push(ch);
            space_len += 1;
        } else {
            word.push(ch);
            word_len += 1;
            if current + word_len + space_len > limit && word_len < limit {
                out.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if !word.is_empty() || current + space_len <= limit {
        out.push_str(&space);
    }
    out.push_str(&word);
    out
}

#[cfg(test)]
mod tests;
