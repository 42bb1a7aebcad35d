//! `PolicyBundle`: a preset of Kyverno's published policies (pod-security, best-practices),
//! one ClusterPolicy per policy with Kyverno's own names, patterns and messages, or, with
//! `engine: vap`, the same rules as the API server's ValidatingAdmissionPolicies and their
//! bindings, for clusters without Kyverno. Every rule that refuses what a built-in check
//! finds is declared (`Expansion::admission`), so the findings of that check name the policy
//! that admission will use. The rules are in `presets`.

use super::common::{self, FailureAction, PolicyMatch};
use super::presets::{self, Params, PresetPolicy, VARIABLES, WORKLOAD_KINDS};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Admission, Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::schema::operators;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub struct PolicyBundle;

/// A preset: a set of Kyverno's published policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Pod Security baseline essentials (host namespaces, privileged, capabilities, hostPath,
    /// host ports), run as non-root, and CPU/memory requests with memory limits.
    SecurityBaseline,
    /// The Pod Security Standards restricted controls: the baseline ones plus procMount,
    /// privilege escalation, run as non-root, drop ALL capabilities, seccomp, volume types.
    PssRestricted,
    /// No `latest` or missing tags, requests and limits, read-only root filesystems.
    BestPractices,
    /// Requests and limits (what capacity and cost are computed from) and the labels that
    /// attribute cost (`params.requiredLabels`, required).
    CostHygiene,
}

impl Preset {
    fn as_str(self) -> &'static str {
        match self {
            Preset::SecurityBaseline => "security-baseline",
            Preset::PssRestricted => "pss-restricted",
            Preset::BestPractices => "best-practices",
            Preset::CostHygiene => "cost-hygiene",
        }
    }
}

/// Which admission controller enforces the bundle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Kyverno `kyverno.io/v1` ClusterPolicies.
    #[default]
    Kyverno,
    /// The API server's `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy and
    /// ValidatingAdmissionPolicyBinding (no Kyverno needed).
    Vap,
}

/// Parameters of the preset's optional policies.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BundleParams {
    /// Registry prefixes images must start with (e.g. `ghcr.io/acme/`); adds
    /// `restrict-image-registries`.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Labels every Pod and pod controller must carry; adds `require-labels`.
    #[serde(default)]
    pub required_labels: Vec<String>,
}

/// A bundle of admission policies from a preset of Kyverno's published policies.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyBundleSpec {
    /// The preset: `security-baseline` (host namespaces, privileged, capabilities, hostPath,
    /// host ports, run as non-root, requests and limits), `pss-restricted` (the Pod Security
    /// Standards restricted controls), `best-practices` (pinned tags, requests and limits,
    /// read-only root filesystems) or `cost-hygiene` (requests and limits, cost labels). Each
    /// adds `restrict-image-registries` and `require-labels` when their params are given.
    pub preset: Preset,
    /// `Audit` reports violations (and, with `engine: vap`, warns the client); `Enforce`
    /// denies them.
    #[serde(default)]
    pub failure_action: FailureAction,
    /// Parameters of the optional policies.
    #[serde(default)]
    pub params: BundleParams,
    /// `kyverno` (ClusterPolicies) or `vap` (ValidatingAdmissionPolicies).
    #[serde(default)]
    pub engine: Engine,
}

impl Kind for PolicyBundle {
    const KIND: &'static str = "PolicyBundle";
    const SUMMARY: &'static str =
        "a preset of Kyverno's published policies as ClusterPolicies or ValidatingAdmissionPolicies";
    const EXAMPLE: Example = crate::example!("examples/kyverno/policy-bundle.yaml");
    type Spec = PolicyBundleSpec;

    fn validate(spec: &PolicyBundleSpec, p: &mut Problems<'_>) {
        for (i, r) in spec.params.allowed_registries.iter().enumerate() {
            let field = format!("spec.params.allowedRegistries[{i}]");
            if r.is_empty()
                || r.contains(|c: char| {
                    c.is_whitespace() || matches!(c, '*' | '?' | '|' | '\'' | '"' | '!' | '\\')
                })
            {
                p.fail(
                    &field,
                    format!("{r:?} is no registry prefix: write it as an image reference starts, e.g. ghcr.io/acme/ (no wildcards)"),
                );
            } else if !r.ends_with('/') {
                p.warn(
                    &field,
                    format!("{r:?} does not end in /: it also admits {r}-other/… and {r}.evil.example/…; write {r}/"),
                );
            }
            if spec.params.allowed_registries[..i].contains(r) {
                p.fail(&field, format!("duplicate registry {r:?}"));
            }
        }
        for (i, l) in spec.params.required_labels.iter().enumerate() {
            let field = format!("spec.params.requiredLabels[{i}]");
            p.check(&field, validate::label_key(l));
            if spec.params.required_labels[..i].contains(l) {
                p.fail(&field, format!("duplicate label {l:?}"));
            }
        }
        if spec.preset == Preset::CostHygiene && spec.params.required_labels.is_empty() {
            p.fail(
                "spec.params.requiredLabels",
                "cost-hygiene attributes cost by labels: name them, e.g. [team, cost-center]",
            );
        }
        let name_room = 63usize.saturating_sub(p.module().name.len());
        let longest = presets::policies(spec.preset.as_str(), &params(spec))
            .iter()
            .map(|pp| pp.name.len() + 1)
            .max()
            .unwrap_or(0);
        if longest > name_room {
            p.fail(
                "metadata.name",
                format!(
                    "too long: the policies are named <name>-<policy> and the longest policy name takes {longest} of the 63 characters a name may have"
                ),
            );
        }
    }
}

fn params(spec: &PolicyBundleSpec) -> Params {
    Params {
        allowed_registries: spec.params.allowed_registries.clone(),
        required_labels: spec.params.required_labels.clone(),
    }
}

/// The ClusterPolicy of one preset policy.
fn cluster_policy(
    ctx: &Context,
    name: &str,
    policy: &PresetPolicy,
    p: &Params,
    action: FailureAction,
) -> Value {
    let rules: Vec<Value> = policy
        .rules
        .iter()
        .map(|rule| {
            let mut validate = json!({
                "message": (rule.message)(p),
                "failureAction": action,
            });
            let body = (rule.kyverno)(p);
            let needs_precondition = body.get("deny").is_some() || body.get("foreach").is_some();
            for (k, v) in body.as_object().into_iter().flatten() {
                validate[k] = v.clone();
            }
            let mut r = json!({
                "name": rule.name,
                // Kyverno extends a Pod rule to the pod controllers itself (autogen).
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "validate": validate,
            });
            if needs_precondition {
                // As Kyverno's published policies: conditions over the object, never on DELETE.
                r["preconditions"] = json!({"all": [{
                    "key": "{{ request.operation || 'BACKGROUND' }}",
                    "operator": "NotEquals",
                    "value": "DELETE",
                }]});
            }
            r
        })
        .collect();
    let row = &operators::KYVERNO_CLUSTER_POLICY;
    json!({
        "apiVersion": ctx.api_version(row),
        "kind": row.kind,
        "metadata": {
            "name": name,
            "annotations": {
                "policies.kyverno.io/title": policy.title,
                "policies.kyverno.io/category": policy.category,
                "policies.kyverno.io/subject": "Pod",
            },
        },
        "spec": {"background": true, "rules": rules},
    })
}

/// The ValidatingAdmissionPolicy and binding of one preset policy.
fn admission_policy(
    name: &str,
    policy: &PresetPolicy,
    p: &Params,
    action: FailureAction,
) -> [Value; 2] {
    let kinds: Vec<String> = WORKLOAD_KINDS.iter().map(|k| k.to_string()).collect();
    let vars: Vec<(String, String)> = VARIABLES
        .iter()
        .map(|(n, e)| (n.to_string(), e.to_string()))
        .collect();
    let validations: Vec<Value> = policy
        .rules
        .iter()
        .flat_map(|rule| {
            let message = (rule.message)(p);
            (rule.cel)(p)
                .into_iter()
                .map(move |e| json!({"expression": e, "message": message}))
        })
        .collect();
    common::admission_policy(
        name,
        &PolicyMatch {
            kinds: &kinds,
            namespaces: &[],
            selector: None,
            exclude_kinds: &[],
            exclude_namespaces: &[],
        },
        &vars,
        &validations,
        action,
    )
}

impl Generate for PolicyBundle {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("kyverno.io/v1", "ClusterPolicy"),
        Gvk::new(
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicy",
        ),
        Gvk::new(
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicyBinding",
        ),
    ];

    fn expand(spec: PolicyBundleSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let p = params(&spec);
        let mut out = Expansion::default();
        for policy in presets::policies(spec.preset.as_str(), &p) {
            let name = format!("{}-{}", m.name, policy.name);
            let kind = match spec.engine {
                Engine::Kyverno => {
                    out.objects
                        .push(cluster_policy(ctx, &name, policy, &p, spec.failure_action));
                    "ClusterPolicy"
                }
                Engine::Vap => {
                    out.objects
                        .extend(admission_policy(&name, policy, &p, spec.failure_action));
                    "ValidatingAdmissionPolicy"
                }
            };
            for rule in policy.rules {
                for check in rule.checks {
                    let cited = match spec.engine {
                        Engine::Kyverno => format!("{kind}/{name} rule {}", rule.name),
                        Engine::Vap => format!("{kind}/{name}"),
                    };
                    out.admission.push(Admission {
                        check,
                        rule: cited,
                        denies: spec.failure_action == FailureAction::Enforce,
                    });
                }
            }
        }
        out
    }
}
