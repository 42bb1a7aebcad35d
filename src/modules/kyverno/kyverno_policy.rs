//! `KyvernoPolicy`: one Kyverno policy written as typed rules, emitted in Kyverno's own schema
//! (what the original's builders got wrong): rule bodies under `validate`/`mutate`/`generate`,
//! `match.any[].resources.kinds` as strings, the failure action per rule under
//! `validate.failureAction` (spec-level `validationFailureAction` is deprecated since Kyverno
//! 1.13), and variables written `{{ … }}`. `engine: cel` emits one `policies.kyverno.io/v1`
//! ValidatingPolicy per rule instead, for rules written as CEL.

use super::common::{self, FailureAction, ResourceRule};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::defaults;
use crate::schema::operators;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct KyvernoPolicy;

/// Where the policy applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Scope {
    /// A ClusterPolicy: every namespace (and cluster-scoped objects).
    #[default]
    Cluster,
    /// A Policy in the module resource's namespace: only objects of that namespace.
    Namespace,
}

/// Which Kyverno policy type to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// `kyverno.io/v1` ClusterPolicy or Policy.
    #[default]
    Kyverno,
    /// `policies.kyverno.io/v1` ValidatingPolicy, one per rule (Kyverno >= 1.17); every rule
    /// must be a `validate.cel` rule.
    Cel,
}

/// A Kyverno policy: rules that validate, mutate or generate objects at admission (and, with
/// `background`, report on existing ones).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KyvernoPolicySpec {
    /// `Cluster` writes a ClusterPolicy; `Namespace` a Policy in the module's namespace.
    #[serde(default)]
    pub scope: Scope,
    /// `kyverno` (ClusterPolicy/Policy) or `cel` (ValidatingPolicy per rule).
    #[serde(default)]
    pub engine: Engine,
    /// Also apply the rules to existing objects and report violations (policy reports).
    #[serde(default = "defaults::yes")]
    pub background: bool,
    /// The rules, applied in order.
    pub rules: Vec<Rule>,
}

/// One rule: what it matches and exactly one of `validate`, `mutate`, `generate`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    /// Rule name, unique in the policy (a DNS-1123 label; Kyverno allows at most 63 characters).
    pub name: String,
    /// The objects the rule applies to.
    #[serde(rename = "match")]
    pub match_: Match,
    /// Objects the rule leaves alone even when they match.
    pub exclude: Option<Match>,
    /// Check objects; violations are audited or denied (`failureAction`).
    pub validate: Option<Validate>,
    /// Change objects as they are admitted.
    pub mutate: Option<Mutate>,
    /// Create an object when a matching one is created.
    pub generate: Option<GenerateRule>,
}

/// Which objects a rule selects (Kyverno `match.any[].resources`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Match {
    /// Kinds as strings: `Pod`, `apps/v1/Deployment`, `v1/ConfigMap`, or `*`. Kyverno applies a
    /// Pod rule to the pod controllers (Deployment, CronJob, …) as well.
    pub kinds: Vec<String>,
    /// Only objects in these namespaces (ClusterPolicy only; a Policy sees its own namespace).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Only objects carrying all these labels.
    pub selector: Option<BTreeMap<String, String>>,
}

/// A validation; give exactly one of `pattern`, `anyPattern`, `deny`, `podSecurity`, `cel`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Validate {
    /// An overlay pattern the object must match (Kyverno pattern syntax: `=(field)`, `?*`, …).
    pub pattern: Option<Map<String, Value>>,
    /// Patterns of which the object must match at least one.
    pub any_pattern: Option<Vec<Map<String, Value>>>,
    /// Deny when these conditions hold: `{conditions: {any|all: [{key, operator, value}]}}`.
    pub deny: Option<Map<String, Value>>,
    /// Hold pods to a Pod Security Standards level (Kyverno's built-in `podSecurity` subrule).
    pub pod_security: Option<PodSecurity>,
    /// CEL expressions over `object` (and `variables`); every one must be true.
    pub cel: Option<Cel>,
    /// Message shown when the validation fails (required with `pattern` and `anyPattern`).
    pub message: Option<String>,
    /// `Audit` reports violations; `Enforce` denies the request.
    #[serde(default)]
    pub failure_action: FailureAction,
}

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    Baseline,
    Restricted,
}

/// Kyverno's `podSecurity` subrule.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSecurity {
    /// The level pods must meet.
    pub level: PssLevel,
    /// Standards version: `latest` or `v1.19` … `v1.32` (the versions Kyverno's CRD accepts).
    #[serde(default = "latest")]
    pub version: String,
    /// Controls to exempt, as Kyverno writes them (`{controlName, images, restrictedField, values}`).
    #[serde(default)]
    pub exclude: Vec<Map<String, Value>>,
}

fn latest() -> String {
    "latest".into()
}

/// CEL validation.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cel {
    /// Named CEL values the expressions can read as `variables.<name>`.
    #[serde(default)]
    pub variables: Vec<CelVariable>,
    /// Expressions that must all be true.
    pub expressions: Vec<CelExpression>,
}

/// A named CEL value.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CelVariable {
    /// Name, read as `variables.<name>`.
    pub name: String,
    /// CEL expression.
    pub expression: String,
}

/// A CEL expression and its message.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CelExpression {
    /// CEL expression over `object`, true when the object is acceptable.
    pub expression: String,
    /// Message when it is false.
    pub message: Option<String>,
}

/// A mutation; give exactly one of `patchStrategicMerge`, `patchesJson6902`, `foreach`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mutate {
    /// A strategic-merge patch (with Kyverno anchors such as `+(field)` to add only when absent).
    pub patch_strategic_merge: Option<Map<String, Value>>,
    /// An RFC 6902 JSON patch, as the YAML text Kyverno expects.
    pub patches_json6902: Option<String>,
    /// Patches applied per element of a list (`{list, patchStrategicMerge|patchesJson6902}`).
    pub foreach: Option<Vec<Map<String, Value>>>,
}

/// An object to create when a matching object is created.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenerateRule {
    /// apiVersion of the generated object.
    pub api_version: String,
    /// kind of the generated object.
    pub kind: String,
    /// Its name (may use variables, e.g. `{{ request.object.metadata.name }}-quota`).
    pub name: String,
    /// Its namespace (e.g. `{{ request.object.metadata.name }}` for a generated-per-namespace
    /// object); leave out for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// The object's content (everything but apiVersion, kind and metadata name/namespace).
    pub data: Option<Map<String, Value>>,
    /// Copy an existing object instead of `data`.
    pub clone: Option<CloneSource>,
    /// Keep the generated object in step with the rule (and re-create it when deleted).
    #[serde(default = "defaults::yes")]
    pub synchronize: bool,
}

/// The object a generate rule copies.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloneSource {
    /// Namespace of the source object.
    pub namespace: String,
    /// Name of the source object.
    pub name: String,
}

impl Kind for KyvernoPolicy {
    const KIND: &'static str = "KyvernoPolicy";
    const SUMMARY: &'static str =
        "a Kyverno ClusterPolicy or Policy (or CEL ValidatingPolicies) from typed rules";
    const EXAMPLE: Example = crate::example!("examples/kyverno/kyverno-policy.yaml");
    type Spec = KyvernoPolicySpec;

    fn validate(spec: &KyvernoPolicySpec, p: &mut Problems<'_>) {
        if spec.rules.is_empty() {
            p.fail("spec.rules", "a policy needs at least one rule");
        }
        if spec.scope == Scope::Namespace && p.module().namespace.is_empty() {
            p.fail(
                "spec.scope",
                "a Namespace policy needs a namespace: set metadata.namespace",
            );
        }
        let ns = p.module().namespace.clone();
        for (i, rule) in spec.rules.iter().enumerate() {
            let at = format!("spec.rules[{i}]");
            p.check(format!("{at}.name"), validate::dns1123_label(&rule.name));
            if spec.rules[..i].iter().any(|r| r.name == rule.name) {
                p.fail(
                    format!("{at}.name"),
                    format!("duplicate rule name {:?}", rule.name),
                );
            }
            check_match(&rule.match_, &format!("{at}.match"), spec, p);
            if let Some(ex) = &rule.exclude {
                check_match(ex, &format!("{at}.exclude"), spec, p);
            }
            let bodies = [
                rule.validate.is_some(),
                rule.mutate.is_some(),
                rule.generate.is_some(),
            ];
            match bodies.iter().filter(|b| **b).count() {
                0 => p.fail(&at, "give one of validate, mutate or generate"),
                1 => {}
                _ => p.fail(
                    &at,
                    "give only one of validate, mutate or generate: write one rule per action",
                ),
            }
            if let Some(v) = &rule.validate {
                check_validate(v, &format!("{at}.validate"), p);
                if spec.engine == Engine::Cel && v.cel.is_none() {
                    p.fail(
                        format!("{at}.validate"),
                        "engine cel writes ValidatingPolicies: the rule must be a validate.cel rule",
                    );
                }
            }
            if spec.engine == Engine::Cel && (rule.mutate.is_some() || rule.generate.is_some()) {
                p.fail(
                    &at,
                    "engine cel writes ValidatingPolicies, which only validate: use engine kyverno for mutate and generate rules",
                );
            }
            if let Some(m) = &rule.mutate {
                let at = format!("{at}.mutate");
                let n = [
                    m.patch_strategic_merge.is_some(),
                    m.patches_json6902.is_some(),
                    m.foreach.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if n != 1 {
                    p.fail(
                        &at,
                        "give exactly one of patchStrategicMerge, patchesJson6902, foreach",
                    );
                }
                if let Some(j) = &m.patches_json6902 {
                    check_json_patch(j, &format!("{at}.patchesJson6902"), p);
                }
                common::check_variables_in(&json!(m), &at, p);
            }
            if let Some(g) = &rule.generate {
                let at = format!("{at}.generate");
                match (&g.data, &g.clone) {
                    (Some(_), Some(_)) => p.fail(&at, "give data or clone, not both"),
                    (None, None) => p.fail(&at, "give data (the object's content) or clone"),
                    _ => {}
                }
                if !g.api_version.contains('/') && g.api_version != "v1" {
                    p.fail(
                        format!("{at}.apiVersion"),
                        format!(
                            "{:?} is no apiVersion: write group/version, or v1",
                            g.api_version
                        ),
                    );
                }
                if let Some(d) = &g.data {
                    for key in ["apiVersion", "kind"] {
                        if d.contains_key(key) {
                            p.fail(
                                format!("{at}.data.{key}"),
                                format!("{key} is set by generate.{key}, not inside data"),
                            );
                        }
                    }
                }
                if spec.scope == Scope::Namespace {
                    if let Some(gns) = &g.namespace {
                        if *gns != ns && !gns.contains("{{") {
                            p.fail(
                                format!("{at}.namespace"),
                                format!("a namespaced Policy can only generate into its own namespace {ns:?}"),
                            );
                        }
                    }
                }
                common::check_variables_in(&json!(g), &at, p);
                p.warn(
                    format!("{at}.kind"),
                    format!(
                        "Kyverno's background controller creates the {}: grant it create, update and delete on it (a ClusterRole labelled rbac.kyverno.io/aggregate-to-background-controller: \"true\"), or the rule fails at run time",
                        g.kind
                    ),
                );
            }
        }
    }
}

fn check_match(m: &Match, at: &str, spec: &KyvernoPolicySpec, p: &mut Problems<'_>) {
    if m.kinds.is_empty() {
        p.fail(
            format!("{at}.kinds"),
            "name at least one kind, e.g. Pod or apps/v1/Deployment",
        );
    }
    for (i, k) in m.kinds.iter().enumerate() {
        let field = format!("{at}.kinds[{i}]");
        p.check(&field, common::check_kind(k));
        if spec.engine == Engine::Cel {
            if let Err(why) = ResourceRule::of(k) {
                p.fail(&field, why);
            }
        }
    }
    if !m.namespaces.is_empty() && spec.scope == Scope::Namespace {
        p.fail(
            format!("{at}.namespaces"),
            "a namespaced Policy sees only its own namespace: leave namespaces out or use scope Cluster",
        );
    }
    for (i, ns) in m.namespaces.iter().enumerate() {
        // Kyverno accepts wildcards here (`team-*`).
        let plain = ns.replace(['*', '?'], "x");
        p.check(
            format!("{at}.namespaces[{i}]"),
            validate::dns1123_label(&plain),
        );
    }
    for (k, v) in m.selector.iter().flatten() {
        let field = format!("{at}.selector.{k}");
        p.check(&field, validate::label_key(k));
        p.check(&field, validate::label_value(v));
    }
}

fn check_validate(v: &Validate, at: &str, p: &mut Problems<'_>) {
    let given: Vec<&str> = [
        ("pattern", v.pattern.is_some()),
        ("anyPattern", v.any_pattern.is_some()),
        ("deny", v.deny.is_some()),
        ("podSecurity", v.pod_security.is_some()),
        ("cel", v.cel.is_some()),
    ]
    .into_iter()
    .filter_map(|(n, g)| g.then_some(n))
    .collect();
    match given.len() {
        0 => p.fail(
            at,
            "give one of pattern, anyPattern, deny, podSecurity, cel",
        ),
        1 => {}
        _ => p.fail(
            at,
            format!("give only one of {}: write one rule each", given.join(", ")),
        ),
    }
    if (v.pattern.is_some() || v.any_pattern.is_some() || v.deny.is_some())
        && v.message.as_deref().is_none_or(|m| m.trim().is_empty())
    {
        p.fail(
            format!("{at}.message"),
            "say what is wrong and how to fix it: the message is all a refused user sees",
        );
    }
    if let Some(list) = &v.any_pattern {
        if list.is_empty() {
            p.fail(format!("{at}.anyPattern"), "give at least one pattern");
        }
    }
    if let Some(deny) = &v.deny {
        let conds = deny.get("conditions");
        let ok = conds
            .and_then(Value::as_object)
            .is_some_and(|c| c.keys().all(|k| k == "any" || k == "all") && !c.is_empty());
        if !ok {
            p.fail(
                format!("{at}.deny"),
                "write deny as {conditions: {any: [...]}} or {conditions: {all: [...]}}",
            );
        }
    }
    if let Some(ps) = &v.pod_security {
        p.check(
            format!("{at}.podSecurity.version"),
            common::check_pss_version(&ps.version),
        );
    }
    if let Some(cel) = &v.cel {
        if cel.expressions.is_empty() {
            p.fail(
                format!("{at}.cel.expressions"),
                "give at least one expression",
            );
        }
        for (i, var) in cel.variables.iter().enumerate() {
            p.check(
                format!("{at}.cel.variables[{i}].expression"),
                common::check_cel(&var.expression),
            );
        }
        for (i, e) in cel.expressions.iter().enumerate() {
            p.check(
                format!("{at}.cel.expressions[{i}].expression"),
                common::check_cel(&e.expression),
            );
        }
    }
    common::check_variables_in(&json!(v), at, p);
}

fn check_json_patch(text: &str, at: &str, p: &mut Problems<'_>) {
    let ops: Result<Vec<Map<String, Value>>, _> = serde_saphyr::from_str(text);
    match ops {
        Ok(ops) if !ops.is_empty() => {
            for (i, op) in ops.iter().enumerate() {
                let name = op.get("op").and_then(Value::as_str).unwrap_or("");
                if !["add", "remove", "replace", "move", "copy", "test"].contains(&name)
                    || op.get("path").and_then(Value::as_str).is_none()
                {
                    p.fail(
                        at,
                        format!("operation {i}: each needs op (add, remove, replace, move, copy, test) and path"),
                    );
                }
            }
        }
        _ => p.fail(
            at,
            "expected a YAML list of JSON patch operations, e.g. \"- op: add\\n  path: /metadata/labels/team\\n  value: x\"",
        ),
    }
}

/// `match`/`exclude` as Kyverno writes it.
fn kyverno_match(m: &Match) -> Value {
    let mut resources = Map::new();
    resources.insert("kinds".into(), json!(m.kinds));
    if !m.namespaces.is_empty() {
        resources.insert("namespaces".into(), json!(m.namespaces));
    }
    if let Some(sel) = &m.selector {
        resources.insert("selector".into(), json!({ "matchLabels": sel }));
    }
    json!({ "any": [{ "resources": resources }] })
}

fn kyverno_rule(rule: &Rule) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(rule.name));
    out.insert("match".into(), kyverno_match(&rule.match_));
    if let Some(ex) = &rule.exclude {
        out.insert("exclude".into(), kyverno_match(ex));
    }
    if let Some(v) = &rule.validate {
        let mut body = Map::new();
        if let Some(m) = &v.message {
            body.insert("message".into(), json!(m));
        }
        body.insert("failureAction".into(), json!(v.failure_action));
        if let Some(x) = &v.pattern {
            body.insert("pattern".into(), json!(x));
        }
        if let Some(x) = &v.any_pattern {
            body.insert("anyPattern".into(), json!(x));
        }
        if let Some(x) = &v.deny {
            body.insert("deny".into(), json!(x));
        }
        if let Some(ps) = &v.pod_security {
            let mut x = json!({"level": ps.level, "version": ps.version});
            if !ps.exclude.is_empty() {
                x["exclude"] = json!(ps.exclude);
            }
            body.insert("podSecurity".into(), x);
        }
        if let Some(cel) = &v.cel {
            let mut x = json!({ "expressions": cel_expressions(cel) });
            if !cel.variables.is_empty() {
                x["variables"] = json!(cel.variables);
            }
            body.insert("cel".into(), x);
        }
        out.insert("validate".into(), Value::Object(body));
    }
    if let Some(m) = &rule.mutate {
        out.insert("mutate".into(), json!(m));
    }
    if let Some(g) = &rule.generate {
        let mut x = json!({
            "apiVersion": g.api_version,
            "kind": g.kind,
            "name": g.name,
            "synchronize": g.synchronize,
        });
        if let Some(ns) = &g.namespace {
            x["namespace"] = json!(ns);
        }
        if let Some(d) = &g.data {
            x["data"] = json!(d);
        }
        if let Some(c) = &g.clone {
            x["clone"] = json!(c);
        }
        out.insert("generate".into(), x);
    }
    strip_nulls(Value::Object(out))
}

fn cel_expressions(cel: &Cel) -> Vec<Value> {
    cel.expressions
        .iter()
        .map(|e| {
            let mut x = json!({ "expression": e.expression });
            if let Some(m) = &e.message {
                x["message"] = json!(m);
            }
            x
        })
        .collect()
}

/// `v` without `null` members (the typed parts serialize absent options as null).
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

impl Generate for KyvernoPolicy {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("kyverno.io/v1", "ClusterPolicy"),
        Gvk::new("kyverno.io/v1", "Policy"),
        Gvk::new("policies.kyverno.io/v1", "ValidatingPolicy"),
    ];

    fn expand(spec: KyvernoPolicySpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let objects = match spec.engine {
            Engine::Kyverno => {
                let (row, namespace) = match spec.scope {
                    Scope::Cluster => (&operators::KYVERNO_CLUSTER_POLICY, None),
                    Scope::Namespace => (&operators::KYVERNO_POLICY, Some(&m.namespace)),
                };
                let mut metadata = json!({ "name": m.name });
                if let Some(ns) = namespace {
                    metadata["namespace"] = json!(ns);
                }
                vec![json!({
                    "apiVersion": ctx.api_version(row),
                    "kind": row.kind,
                    "metadata": metadata,
                    "spec": {
                        "background": spec.background,
                        "rules": spec.rules.iter().map(kyverno_rule).collect::<Vec<_>>(),
                    },
                })]
            }
            Engine::Cel => spec
                .rules
                .iter()
                .filter_map(|rule| {
                    let v = rule.validate.as_ref()?;
                    let cel = v.cel.as_ref()?;
                    let namespaces = match spec.scope {
                        Scope::Namespace => vec![m.namespace.clone()],
                        Scope::Cluster => rule.match_.namespaces.clone(),
                    };
                    let exclude = rule.exclude.as_ref();
                    Some(common::validating_policy(
                        ctx,
                        &format!("{}-{}", m.name, rule.name),
                        &common::PolicyMatch {
                            kinds: &rule.match_.kinds,
                            namespaces: &namespaces,
                            selector: rule.match_.selector.as_ref(),
                            exclude_kinds: exclude.map(|e| e.kinds.as_slice()).unwrap_or(&[]),
                            exclude_namespaces: exclude
                                .map(|e| e.namespaces.as_slice())
                                .unwrap_or(&[]),
                        },
                        &cel.variables
                            .iter()
                            .map(|v| (v.name.clone(), v.expression.clone()))
                            .collect::<Vec<_>>(),
                        &cel_expressions(cel),
                        v.failure_action,
                        spec.background,
                    ))
                })
                .collect(),
        };
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
