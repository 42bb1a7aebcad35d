//! User kinds described as the built-in kinds are (for `kinds`, `explain` and `schema`): the
//! published JSON Schema of an instance, its CustomResourceDefinition and what it emits; and
//! the two kinds that extend the tool, `KindDefinition` and `ValidationRule`, which are not in
//! the registry (they configure a run and are never expanded) but have schemas generated from
//! their types as the built-in kinds do.

use super::*;
use crate::schema::{described, envelope, envelope_in};
use serde_json::json;

/// A `nixernetes.io/v1alpha1` kind that extends the tool: read before anything expands, never
/// emitted.
pub struct ExtensionKind {
    pub kind: &'static str,
    /// One line, in the style of the built-in kinds' summaries.
    pub summary: &'static str,
    /// What it emits (nothing), and what it does instead.
    pub emits: &'static str,
    /// Where it is documented.
    pub docs: &'static str,
    spec_schema: fn() -> Value,
}

impl ExtensionKind {
    /// The JSON Schema (draft 2020-12) of its documents: the envelope around the spec schema
    /// generated from its type, with the summary as description.
    pub fn schema(&self) -> Value {
        described(envelope(self.kind, (self.spec_schema)()), self.summary)
    }
}

/// `KindDefinition` and `ValidationRule`.
pub static EXTENSION_KINDS: [ExtensionKind; 2] = [
    ExtensionKind {
        kind: KIND_DEFINITION,
        summary: "your own kind, in your own API group: its schema (defaults, CEL rules) and the templates its instances expand into",
        emits: "nothing: a configuration kind, it declares a kind that instances in the input expand through (see docs/kinds-user.md)",
        docs: "docs/kinds-user.md",
        spec_schema,
    },
    ExtensionKind {
        kind: crate::rules::VALIDATION_RULE,
        summary: "your own check: a CEL rule on objects, with a ValidatingAdmissionPolicy's spec, exportable as one",
        emits: "nothing: a configuration kind, it checks what is rendered; with --admission-policies an exported rule is emitted as a ValidatingAdmissionPolicy and its binding (see docs/rules.md)",
        docs: "docs/rules.md",
        spec_schema: crate::rules::spec_schema,
    },
];

/// The extension kind `name` names (any case, or its plural).
pub fn extension_kind(name: &str) -> Option<&'static ExtensionKind> {
    EXTENSION_KINDS.iter().find(|k| names(k.kind, name))
}

/// Whether `name` names `kind` as kubectl reads a resource name: the kind in any case, or its
/// plural.
pub fn names(kind: &str, name: &str) -> bool {
    kind.eq_ignore_ascii_case(name) || crate::schema::crd::plural(kind) == name
}

impl UserKinds {
    /// The kinds, in the order their definitions were read.
    pub fn iter(&self) -> impl Iterator<Item = &UserKind> {
        self.kinds.iter()
    }

    /// The kind `name` names (any case, or its plural).
    pub fn find(&self, name: &str) -> Option<&UserKind> {
        self.kinds
            .iter()
            .find(|k| names(&k.kind, name) || k.plural() == name)
    }
}

impl UserKind {
    /// `spec.summary`, else the schema's description, else what declares the kind.
    pub fn summary(&self) -> String {
        self.summary
            .clone()
            .or_else(|| {
                self.schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| format!("a kind of {}", self.title()))
    }

    /// The resource name: `metadata.name` of the definition before `.<group>`, as a CRD is
    /// named; else the kind's plural.
    pub fn plural(&self) -> String {
        self.name
            .strip_suffix(&format!(".{}", self.group))
            .filter(|p| crate::validate::dns1123_label(p).is_ok())
            .map(str::to_string)
            .unwrap_or_else(|| crate::schema::crd::plural(&self.kind))
    }

    /// The published JSON Schema (draft 2020-12) of an instance: the envelope (apiVersion and
    /// kind as constants, metadata) around the definition's schema
    /// ([`schema::published`](super::schema::published)).
    pub fn schema(&self) -> Value {
        let root = schema::published(&self.schema);
        let spec = root
            .pointer("/properties/spec")
            .cloned()
            .unwrap_or_else(|| json!({"type": "object"}));
        let mut doc = envelope_in(&self.api_version, &self.kind, spec);
        let envelope_keys = ["apiVersion", "kind", "metadata", "spec"];
        if let (Some(Value::Object(own)), Some(Value::Object(props))) =
            (root.get("properties"), doc.get_mut("properties"))
        {
            for (k, v) in own {
                if !envelope_keys.contains(&k.as_str()) {
                    props.insert(k.clone(), v.clone());
                }
            }
        }
        let mut required = vec![json!("apiVersion"), json!("kind"), json!("metadata")];
        if let Some(Value::Array(own)) = root.get("required") {
            required.extend(
                own.iter()
                    .filter(|r| !envelope_keys[..3].iter().any(|k| *r == k))
                    .cloned(),
            );
        }
        doc["required"] = Value::Array(required);
        described(doc, &self.summary())
    }

    /// The CustomResourceDefinition of the kind: the definition's schema as written (a CRD
    /// schema, `x-kubernetes-validations` included, so the API server holds instances to the
    /// same rules), the summary as its description when it has none.
    pub fn crd(&self) -> Value {
        let mut open_api = self.schema.clone();
        if let Some(root) = open_api.as_object_mut() {
            if !root.contains_key("description") {
                let mut ordered = serde_json::Map::new();
                ordered.insert("description".into(), Value::String(self.summary()));
                ordered.extend(std::mem::take(root));
                *root = ordered;
            }
        }
        crate::schema::crd::definition(
            &self.group,
            &self.version,
            &self.kind,
            &self.plural(),
            open_api,
        )
    }

    /// What the kind emits, one template a line: `Kind (apiVersion)` (or how it is computed),
    /// then the template's id and conditions.
    pub fn emits(&self) -> Vec<String> {
        self.templates
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let literal = |key: &str| {
                    t.raw
                        .get(key)
                        .and_then(Value::as_str)
                        .filter(|s| !s.contains("${"))
                };
                let what = match (literal("kind"), literal("apiVersion")) {
                    (Some(kind), Some(api)) => format!("{kind} ({api})"),
                    _ => format!("an object computed by spec.resources[{i}].template"),
                };
                let mut how = vec![format!("id {}", t.id)];
                for (_, e) in &t.include_when {
                    how.push(format!("when ${{{}}}", e.text));
                }
                for (name, e) in &t.for_each {
                    how.push(format!("one per {name} in ${{{}}}", e.text));
                }
                format!("{what}: {}", how.join(", "))
            })
            .collect()
    }

    /// The definition, its place and category, as `explain` shows them.
    pub fn declared_by(&self) -> String {
        format!(
            "{} (category {}) at {}",
            self.title(),
            self.category,
            self.origin
        )
    }
}
