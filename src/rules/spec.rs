//! The shapes of what a rule is read from: a `ValidationRule`'s spec (a
//! ValidatingAdmissionPolicy spec, field for field, plus our `severity`, `fieldPath`,
//! `match.producedBy`, `params` and `admission`), and the spec of an input
//! `ValidatingAdmissionPolicy` and its binding. Unknown fields are errors, as in the built-in
//! kinds. Only the shapes: what they mean is in `matching` and `compile`.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The spec of a `ValidationRule` (`nixernetes.io/v1alpha1`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    /// One line: what the rule requires.
    #[serde(default)]
    pub description: Option<String>,
    /// How bad a violation is: error (the default), warning or info. Under `enforcement: audit`
    /// errors are reported as warnings; under `off` no rule runs.
    #[serde(default)]
    pub severity: RuleSeverity,
    /// Which objects the rule looks at (VAP `matchConstraints`, plus `producedBy`).
    #[serde(rename = "match")]
    pub matches: Match,
    /// CEL conditions that must all be true for the rule to apply (VAP `matchConditions`).
    #[serde(default)]
    pub match_conditions: Vec<Named>,
    /// Named CEL values, evaluated in order, read as `variables.<name>` (VAP `variables`).
    #[serde(default)]
    pub variables: Vec<Named>,
    /// The checks: each CEL expression must be true (VAP `validations`, plus `fieldPath`).
    pub validations: Vec<Validation>,
    /// VAP `auditAnnotations`: compiled, and exported with the rule; not evaluated offline
    /// (there is no audit log to write to).
    #[serde(default)]
    pub audit_annotations: Vec<AuditAnnotation>,
    /// The object bound as `params`, found in the input (VAP `paramKind` + `paramRef`).
    #[serde(default)]
    pub params: Option<Params>,
    /// Export settings: with `export: true` and `--admission-policies`, the rule is emitted as a
    /// ValidatingAdmissionPolicy and its binding (see docs/rules.md).
    #[serde(default)]
    pub admission: Option<Admission>,
}

/// A rule's severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    #[default]
    Error,
    Warning,
    Info,
}

/// VAP `matchConstraints` (and binding `matchResources`), plus `producedBy` and `modules`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Match {
    /// Resources the rule applies to; an object matches when any rule matches it.
    #[serde(default)]
    pub resource_rules: Vec<ResourceRule>,
    /// Resources left out even when a resource rule matches them.
    #[serde(default)]
    pub exclude_resource_rules: Vec<ResourceRule>,
    /// The object's namespace must carry these labels (read from the Namespace in the input;
    /// `kubernetes.io/metadata.name` is always set, as the API server sets it).
    #[serde(default)]
    pub namespace_selector: Option<LabelSelector>,
    /// The object must carry these labels.
    #[serde(default)]
    pub object_selector: Option<LabelSelector>,
    /// Exact or Equivalent; offline, objects are matched by what they are (Exact).
    #[serde(default)]
    pub match_policy: Option<MatchPolicy>,
    /// Only objects produced by these module kinds (read from `nixernetes.io/source`).
    #[serde(default)]
    pub produced_by: Vec<GroupKind>,
    /// The module resources themselves (render time only): not supported yet.
    #[serde(default)]
    pub modules: Vec<GroupKind>,
}

/// `Exact` or `Equivalent`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum MatchPolicy {
    Exact,
    Equivalent,
}

/// One VAP `resourceRules` entry.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceRule {
    /// API groups (`""` is the core group, `*` any).
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// API versions (`*` any).
    #[serde(default)]
    pub api_versions: Vec<String>,
    /// Resources, plural and lowercase (`deployments`, `*`; `deployments/scale` is a
    /// subresource, which a rendered object never is).
    #[serde(default)]
    pub resources: Vec<String>,
    /// CREATE, UPDATE, DELETE, CONNECT or `*`. A rendered object is a CREATE.
    #[serde(default)]
    pub operations: Vec<String>,
    /// Only objects of these names.
    #[serde(default)]
    pub resource_names: Vec<String>,
    /// Cluster, Namespaced or `*` (the default).
    #[serde(default)]
    pub scope: Option<String>,
}

/// A Kubernetes `LabelSelector`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default)]
    pub values: Vec<String>,
}

/// A `matchExpressions` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A module kind, as `producedBy` names it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GroupKind {
    /// `nixernetes.io` for the built-in kinds (the default).
    #[serde(default)]
    pub group: Option<String>,
    pub kind: String,
}

/// A named CEL expression (a match condition or a variable).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Named {
    pub name: String,
    pub expression: String,
}

/// One check of a rule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Validation {
    /// CEL that must evaluate to true.
    pub expression: String,
    /// The finding's message when the expression is false.
    #[serde(default)]
    pub message: Option<String>,
    /// CEL giving the message (a string); `message` is used when it fails.
    #[serde(default)]
    pub message_expression: Option<String>,
    /// Unauthorized, Forbidden, Invalid or RequestEntityTooLarge (what admission answers).
    #[serde(default)]
    pub reason: Option<Reason>,
    /// Where in the object the finding points, e.g. `spec.replicas` (nixernetes; not
    /// exported: VAP has no such field).
    #[serde(default)]
    pub field_path: Option<String>,
}

/// What admission answers for a failed validation.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum Reason {
    Unauthorized,
    Forbidden,
    Invalid,
    RequestEntityTooLarge,
}

/// A VAP `auditAnnotations` entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuditAnnotation {
    pub key: String,
    pub value_expression: String,
}

/// The object a rule binds as `params`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// e.g. `v1`.
    pub api_version: String,
    /// e.g. `ConfigMap`.
    pub kind: String,
    pub name: String,
    /// For a namespaced kind: the object's namespace when absent.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Deny (the default: a finding on every matched object) or Allow (the rule is skipped).
    #[serde(default)]
    pub parameter_not_found_action: Option<NotFound>,
}

/// What to do when the `params` object is not in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum NotFound {
    Deny,
    Allow,
}

/// `admission:` export settings of a `ValidationRule`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Admission {
    /// Whether `--admission-policies` exports the rule (default false).
    #[serde(default)]
    pub export: bool,
    /// The policy's `failurePolicy`: Fail (the default) refuses a request when the CEL errors,
    /// Ignore lets it through.
    #[serde(default)]
    pub failure_policy: Option<FailurePolicy>,
    /// The binding's `validationActions`; by default from the severity and the enforcement
    /// (an error under enforce is `[Deny]`, under audit `[Warn, Audit]`).
    #[serde(default)]
    pub validation_actions: Vec<ValidationAction>,
    /// managed (the default: objects this tool manages) or all.
    #[serde(default)]
    pub scope: Option<String>,
}

/// VAP `failurePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum FailurePolicy {
    Fail,
    Ignore,
}

/// A binding's `validationActions` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ValidationAction {
    Deny,
    Warn,
    Audit,
}

/// The spec of an input `admissionregistration.k8s.io/v1` `ValidatingAdmissionPolicy`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VapSpec {
    #[serde(default)]
    pub failure_policy: Option<FailurePolicy>,
    #[serde(default)]
    pub param_kind: Option<ParamKind>,
    #[serde(default)]
    pub match_constraints: Option<Match>,
    #[serde(default)]
    pub validations: Vec<VapValidation>,
    #[serde(default)]
    pub audit_annotations: Vec<AuditAnnotation>,
    #[serde(default)]
    pub match_conditions: Vec<Named>,
    #[serde(default)]
    pub variables: Vec<Named>,
}

/// A VAP `validations` entry (no `fieldPath`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VapValidation {
    pub expression: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub message_expression: Option<String>,
    #[serde(default)]
    pub reason: Option<Reason>,
}

/// VAP `paramKind`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParamKind {
    pub api_version: String,
    pub kind: String,
}

/// The spec of an input `ValidatingAdmissionPolicyBinding`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BindingSpec {
    pub policy_name: String,
    #[serde(default)]
    pub param_ref: Option<ParamRef>,
    #[serde(default)]
    pub match_resources: Option<Match>,
    #[serde(default)]
    pub validation_actions: Vec<ValidationAction>,
}

/// A binding's `paramRef`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParamRef {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    #[serde(default)]
    pub parameter_not_found_action: Option<NotFound>,
}
