//! User-defined kinds: a `KindDefinition` (`nixernetes.io/v1alpha1`) declares a kind in the
//! user's own API group the way a CRD does (an OpenAPI v3 structural schema with `default`s and
//! `x-kubernetes-validations`), and expands its instances through kro-style `resources[]`
//! templates with `${CEL}` (see `docs/kinds-user.md`).
//!
//! This module owns reading definitions (every problem at its field), checking them when they
//! load (CEL compiles, `self.spec.…` reads exist in the schema, unguarded optional reads warn,
//! kind cycles, one synthesized instance renders), and turning one instance into its children:
//! defaults, structural validation, CEL rules, then templates. The engine expands the children
//! as it expands any module resource's, so built-in module kinds and other user kinds in a
//! template compose, and checks, labels and NetworkPolicies apply to what they emit.
//! A run without a `KindDefinition` does no work here beyond looking at each input's kind.

pub mod analysis;
pub mod schema;
pub mod template;

use crate::finding::{has_errors, Finding};
use crate::kind::{Context, Registry};
use crate::resource::{Identity, Origin, Resource, API_VERSION, GROUP};
use crate::rules::cel::{self, Expr};
use kube_cel::cel::{Context as CelContext, ExecutionError, Value as CelValue};
use kube_cel::KubeCelExt;
use serde::Deserialize;
use serde_json::Value;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use template::{Node, Problem};

/// Kind of a user kind's definition.
pub const KIND_DEFINITION: &str = "KindDefinition";

/// `nixernetes.io/framework` of everything user kinds emit: they belong to no seed module, and
/// a label value cannot name the definition (`shopservices.platform.acme.io` may be longer than
/// 63 characters). `kinds` shows it as their seed module.
pub const FRAMEWORK: &str = "user-kinds";

/// Most children one instance may have (`forEach` blow-ups stop here).
pub const MAX_CHILDREN: usize = 1000;

/// Whether `res` is a `KindDefinition` (consumed: never emitted).
pub fn is_definition(res: &impl Identity) -> bool {
    res.api_version() == API_VERSION && res.kind() == KIND_DEFINITION
}

/// The `spec` of a `KindDefinition`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DefinitionSpec {
    /// The kind's API group: your own (e.g. `platform.acme.io`), never `nixernetes.io`.
    pub group: String,
    /// The kind's version, e.g. `v1` or `v1alpha1`.
    pub version: String,
    /// The kind, in PascalCase, e.g. `ShopService`.
    pub kind: String,
    /// Stamped as `nixernetes.io/module` on everything it emits (default `user`).
    #[serde(default)]
    pub category: Option<String>,
    /// One line: what the kind is for.
    #[serde(default)]
    pub summary: Option<String>,
    /// The instance schema, as in a CRD version.
    pub schema: SchemaSpec,
    /// What an instance expands into, in order.
    #[serde(default)]
    pub resources: Vec<ResourceSpec>,
}

/// `spec.schema` of a `KindDefinition`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaSpec {
    /// The OpenAPI v3 structural schema of the whole instance (its `spec` under `properties`).
    #[serde(rename = "openAPIV3Schema")]
    pub open_api_v3_schema: Value,
}

/// One entry of `spec.resources`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceSpec {
    /// Names the entry; later templates read its output as a variable of this name.
    pub id: String,
    /// The object to emit, with `${…}` expressions.
    pub template: Value,
    /// `${…}` conditions; the entry is emitted only when every one is true.
    #[serde(default)]
    pub include_when: Vec<String>,
    /// One entry per iterator, `{name: ${list}}`: one child per element (per combination).
    #[serde(default)]
    pub for_each: Vec<BTreeMap<String, String>>,
}

/// The JSON Schema (draft 2020-12) of a `KindDefinition`'s `spec`, for editors and tests.
pub fn spec_schema() -> Value {
    crate::schema::spec_schema(<DefinitionSpec as schemars::JsonSchema>::json_schema).to_value()
}

/// One template of a compiled kind.
struct Template {
    id: String,
    include_when: Vec<(String, Expr)>,
    for_each: Vec<(String, Expr)>,
    node: Node,
    /// As written, for attributing a child's fields to template nodes.
    raw: Value,
}

/// A compiled user kind.
pub struct UserKind {
    /// The definition's `metadata.name`.
    pub name: String,
    pub api_version: String,
    /// The API group and version of `api_version`.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// `spec.summary` of the definition.
    pub summary: Option<String>,
    /// `nixernetes.io/module` of what it emits.
    pub category: &'static str,
    /// Where the definition is.
    pub origin: Origin,
    schema: Value,
    structural: Value,
    rules: kube_cel::CompiledSchema,
    templates: Vec<Template>,
}

/// A definition read but not yet compiled (compiled only when the input uses its kind).
struct Parsed {
    res: Resource,
    spec: DefinitionSpec,
    api_version: String,
}

/// The user kinds of a run.
#[derive(Default)]
pub struct UserKinds {
    kinds: Vec<UserKind>,
    engine: OnceCell<CelContext<'static>>,
    validator: OnceCell<kube_cel::Validator>,
}

impl std::fmt::Debug for UserKinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.kinds.iter().map(|k| &k.kind))
            .finish()
    }
}

/// The CEL context of templates: the Kubernetes libraries and `omit()`.
pub fn engine() -> CelContext<'static> {
    let mut ctx = CelContext::default().with_all();
    ctx.add_function("omit", omit);
    ctx
}

/// `omit()`: the value that removes its field.
fn omit(ftx: &kube_cel::cel::FunctionContext) -> Result<CelValue, ExecutionError> {
    if ftx.this.is_some() || !ftx.args.is_empty() {
        return Err(ftx.error("omit() takes no arguments"));
    }
    Ok(CelValue::String(Arc::new(template::OMIT.into())))
}

/// Interns `s` (a run has a handful of definitions; provenance carries `&'static str`).
fn intern(s: String) -> &'static str {
    static SEEN: std::sync::Mutex<BTreeSet<&'static str>> = std::sync::Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = seen.get(s.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    seen.insert(leaked);
    leaked
}

impl UserKinds {
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The user kind `res` is an instance of.
    pub fn lookup(&self, res: &Resource) -> Option<&UserKind> {
        if self.kinds.is_empty() || res.is_module() {
            return None;
        }
        self.kinds
            .iter()
            .find(|k| k.kind == res.kind() && k.api_version == res.api_version())
    }
}

/// `at.template.path`.
fn field_of(at: &str, path: &str) -> String {
    if path.is_empty() {
        format!("{at}.template")
    } else if path.starts_with('[') {
        format!("{at}.template{path}")
    } else {
        format!("{at}.template.{path}")
    }
}

mod compile;
pub mod describe;
mod load;
mod render;

pub use load::{load, take};
pub use render::Produced;

#[cfg(test)]
mod tests;
