//! Validation rules: per-object CEL rules written as a `ValidationRule`
//! (`nixernetes.io/v1alpha1`, a ValidatingAdmissionPolicy spec plus `severity`, `fieldPath`,
//! `producedBy` and `params`), or as a `ValidatingAdmissionPolicy` and its binding found in the
//! input. See `docs/rules.md`.
//!
//! This module owns reading rules (every problem located at its field, CEL compile errors with
//! their column), matching them to objects and evaluating them. It reports hits; what a hit
//! weighs under the enforcement in force and whether an annotation exempts it is the policy
//! checker's business (`policy::Checker`), which runs the rules beside the built-in checks.
//! Nothing here runs when the input has no rule: CEL is initialised on the first evaluation.
//!
//! `load` reads and compiles the rules, `eval` runs them on one object, `findings` is what they
//! report; `spec` is the shapes they are read from, `matching` which objects they look at,
//! `cel` the one door to CEL and `versions` which CEL functions each Kubernetes minor has.

pub mod cel;
mod eval;
pub mod export;
mod findings;
mod load;
mod matching;
pub mod spec;
pub mod versions;

pub use findings::{id_of, Hit};
pub use load::take;

use crate::finding::Severity;
use crate::resource::{Identity, Resource, API_VERSION};
use cel::{Expr, RuleEngine};
use kube_cel::cel::Value as CelValue;
use serde_json::{Map, Value};
use spec::Match;
use std::cell::OnceCell;
use std::collections::HashMap;

/// Kind of a validation rule.
pub const VALIDATION_RULE: &str = "ValidationRule";
/// apiVersion of the admission policies evaluated as rules.
pub const ADMISSION_API: &str = "admissionregistration.k8s.io/v1";
/// Kind of an input admission policy.
pub const POLICY: &str = "ValidatingAdmissionPolicy";
/// Kind of its binding.
pub const BINDING: &str = "ValidatingAdmissionPolicyBinding";

/// Whether `res` is a `ValidationRule` (consumed: never emitted).
pub fn is_validation_rule(res: &impl Identity) -> bool {
    res.api_version() == API_VERSION && res.kind() == VALIDATION_RULE
}

fn is_policy(res: &impl Identity) -> bool {
    res.api_version() == ADMISSION_API && res.kind() == POLICY
}

fn is_binding(res: &impl Identity) -> bool {
    res.api_version() == ADMISSION_API && res.kind() == BINDING
}

/// Whether `res` is read by [`take`]: a ValidationRule, a ValidatingAdmissionPolicy or a
/// binding of one.
pub fn is_rule_source(res: &impl Identity) -> bool {
    is_validation_rule(res) || is_policy(res) || is_binding(res)
}

/// The JSON Schema (draft 2020-12) of a `ValidationRule`'s `spec`, for editors and tests.
pub fn spec_schema() -> Value {
    crate::schema::spec_schema(<spec::RuleSpec as schemars::JsonSchema>::json_schema).to_value()
}

/// The rules of a run, compiled once, with what they read from the input (namespaces and
/// parameter objects).
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Namespaces of the input, by name: their labels for `namespaceSelector`, the object for
    /// `namespaceObject`.
    namespaces: HashMap<String, Map<String, Value>>,
    /// Built on the first evaluation.
    engine: OnceCell<RuleEngine>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field(
                "rules",
                &self.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Where a rule came from, for its messages.
#[derive(Debug)]
enum From {
    Rule,
    Policy { binding: String },
}

/// A compiled rule.
#[derive(Debug)]
struct Rule {
    id: &'static str,
    from: From,
    severity: Severity,
    /// All must select the object (a policy's constraints and its binding's resources).
    matches: Vec<Match>,
    /// Evaluation errors are ignored rather than reported (`failurePolicy: Ignore`).
    ignore_errors: bool,
    conditions: Vec<(String, Expr)>,
    variables: Vec<(String, Expr)>,
    validations: Vec<Check>,
    params: Params,
    reads_namespace: bool,
    /// What the rule reads of `object`: only that is bound (see [`cel::Reads`]).
    object: cel::Reads,
    /// Evaluated here: false for a rule that reads `authorizer` (only the API server can
    /// answer it), which is still exported.
    local: bool,
    /// A `ValidationRule` as written and read, for `--admission-policies`.
    export: Option<Box<(Resource, spec::RuleSpec)>>,
}

#[derive(Debug)]
struct Check {
    expr: Expr,
    message: Option<String>,
    message_expr: Option<Expr>,
    field: String,
}

/// What a rule binds as `params`.
#[derive(Debug)]
enum Params {
    None,
    /// Candidate objects (of the parameter kind, in the input), and how to pick among them.
    From {
        candidates: Vec<(Option<String>, Map<String, Value>, CelValue)>,
        name: Option<String>,
        namespace: Option<String>,
        selector: Option<spec::LabelSelector>,
        deny_when_missing: bool,
        what: String,
    },
}

impl RuleSet {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }
}

#[cfg(test)]
mod tests;
