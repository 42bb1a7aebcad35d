//! `ModuleResource`, the module resource a kind is handed (its object and resolved identity),
//! and `Problems`, where a kind's validation collects every error before the run stops.

use crate::finding::{has_errors, Finding};
use crate::resource::Resource;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The fields of `spec` that the engine owns for every kind (copied to every child): they are
/// validated once and never reach a kind's typed spec.
pub const ENVELOPE_SPEC_FIELDS: [&str; 2] = ["labels", "annotations"];

/// A module resource being expanded: the resource and its resolved identity.
pub struct ModuleResource<'a> {
    pub resource: &'a Resource,
    pub name: &'a str,
    /// The resource's namespace, or the context's default (empty when there is none to give).
    pub namespace: String,
}

impl ModuleResource<'_> {
    /// An error about `field` (a path relative to the object, e.g. `spec.replicas`).
    pub fn error(&self, field: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::error(message).about(self.resource).field(field)
    }

    /// A warning about `field`.
    pub fn warning(&self, field: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::warning(message).about(self.resource).field(field)
    }

    /// `spec` without the fields the engine owns (`labels`, `annotations`); `{}` when absent.
    /// Borrowed when there is nothing to leave out (the common case: no copy).
    pub fn kind_spec(&self) -> Cow<'_, Value> {
        static EMPTY: std::sync::LazyLock<Value> =
            std::sync::LazyLock::new(|| Value::Object(Map::new()));
        match self.resource.object.get("spec") {
            Some(Value::Object(spec))
                if ENVELOPE_SPEC_FIELDS.iter().any(|f| spec.contains_key(*f)) =>
            {
                Cow::Owned(Value::Object(
                    spec.iter()
                        .filter(|(k, _)| !ENVELOPE_SPEC_FIELDS.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ))
            }
            None | Some(Value::Null) => Cow::Borrowed(&*EMPTY),
            Some(spec) => Cow::Borrowed(spec),
        }
    }

    /// A map the engine owns in `spec` (`labels` or `annotations`), as written; empty when absent.
    pub fn spec_map(&self, field: &str) -> Map<String, Value> {
        self.resource
            .object
            .get("spec")
            .and_then(|s| s.get(field))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// Deserializes the kind's part of `spec` into its typed spec `T`, whose JSON Schema
    /// `schema` builds. When it does not deserialize, the spec is validated against that schema
    /// so that every structural problem is reported (unknown fields with a suggestion, wrong
    /// types, missing fields, bad values), each at its field path and in YAML's words; the
    /// schema is built only then, so a valid spec costs nothing more.
    pub fn spec<T: DeserializeOwned>(
        &self,
        schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    ) -> Result<T, Vec<Finding>> {
        let value = self.kind_spec();
        let e = match crate::schema::strict::deserialize(&value) {
            Ok(spec) => return Ok(spec),
            Err(e) => e,
        };
        let schema = crate::schema::spec_schema(schema).to_value();
        let problems = crate::schema::validate_at(&schema, &value, "spec");
        if !problems.is_empty() {
            return Err(problems
                .into_iter()
                .map(|p| {
                    let field = if p.path.is_empty() {
                        "spec".to_string()
                    } else {
                        p.path
                    };
                    self.error(field, p.message)
                })
                .collect());
        }
        // The schema accepts what serde refused (a rule only the type knows): serde's word.
        let path = e.path().to_string();
        let field = if path == "." {
            "spec".to_string()
        } else {
            format!("spec.{path}")
        };
        Err(vec![self.error(field, e.into_inner().to_string())])
    }
}

/// Collects what a kind's validation finds: check everything, then fail once with every error.
pub struct Problems<'a> {
    module: &'a ModuleResource<'a>,
    pub findings: Vec<Finding>,
}

impl<'a> Problems<'a> {
    pub fn new(module: &'a ModuleResource<'a>) -> Self {
        Problems {
            module,
            findings: Vec::new(),
        }
    }

    /// The module resource being validated.
    pub fn module(&self) -> &ModuleResource<'a> {
        self.module
    }

    /// Records `result`'s error, if any, at `field`.
    pub fn check(&mut self, field: impl Into<String>, result: Result<(), String>) {
        if let Err(why) = result {
            self.fail(field, why);
        }
    }

    /// Records an error at `field`.
    pub fn fail(&mut self, field: impl Into<String>, why: impl Into<String>) {
        self.findings.push(self.module.error(field, why));
    }

    /// Records a warning at `field`.
    pub fn warn(&mut self, field: impl Into<String>, why: impl Into<String>) {
        self.findings.push(self.module.warning(field, why));
    }

    /// Ok with the non-error findings, or every finding when any is an error.
    pub fn finish(self) -> Result<Vec<Finding>, Vec<Finding>> {
        if has_errors(&self.findings) {
            Err(self.findings)
        } else {
            Ok(self.findings)
        }
    }
}
