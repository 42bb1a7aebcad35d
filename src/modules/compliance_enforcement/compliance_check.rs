//! Seed module `compliance-enforcement` (category `security`): `ComplianceCheck`, a report kind.
//! It holds the rendered set to a compliance level and reports, without changing anything:
//!
//! - every object that fails a check at that level (severity at or above `failOn`) as one
//!   finding naming the checks it fails — the original's "failures (Kind/name)";
//! - from level `medium` up: every namespace with pods has a namespace-wide default-deny
//!   NetworkPolicy, and every rendered Namespace's Pod Security Admission `enforce` label is at
//!   least the level's profile;
//! - a summary (`info`): objects checked, compliant, the compliance rate.
//!
//! The per-check findings themselves come from the render's own checks; this kind adds the
//! verdict. Its errors are not softened by `audit`: a ComplianceCheck asks for a verdict.

use crate::finding::{Finding, Severity};
use crate::kind::spec::{Kind, Report};
use crate::kind::{Context, Example, ModuleResource, Problems};
use crate::modules::shared::compliance::{check_level, level_of};
use crate::policy;
use crate::resource::Resource;
use crate::settings::PolicySettings;
use crate::types::{Enforcement, EnvironmentProfile, Framework, Level, Profile};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub struct ComplianceCheck;

/// Tag of the findings this kind adds (SARIF rule id, KRM `tags.check`).
const ID: &str = "compliance-check";

/// Lowest severity of a check finding that makes an object non-compliant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Check errors make an object non-compliant.
    #[default]
    Error,
    /// Check warnings do too.
    Warning,
}

/// A compliance verdict on the rendered set at a level.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComplianceCheckSpec {
    /// Framework the verdict is for (named in the report).
    pub framework: Option<Framework>,
    /// The level to hold the set to; or give `profile`.
    pub level: Option<Level>,
    /// An environment preset standing for a level; or give `level`.
    pub profile: Option<EnvironmentProfile>,
    /// Lowest check severity that makes an object non-compliant.
    #[serde(default)]
    pub fail_on: FailOn,
}

impl Kind for ComplianceCheck {
    const KIND: &'static str = "ComplianceCheck";
    const SUMMARY: &'static str = "compliance verdict on the rendered set at a level: non-compliant objects, namespace isolation, a compliance rate";
    const EXAMPLE: Example =
        crate::example!("examples/compliance-enforcement/compliance-check.yaml");
    type Spec = ComplianceCheckSpec;

    fn validate(spec: &ComplianceCheckSpec, ch: &mut Problems<'_>) {
        check_level(spec.level, spec.profile, ch);
    }
}

impl Report for ComplianceCheck {
    fn report(
        spec: ComplianceCheckSpec,
        m: &ModuleResource<'_>,
        objects: &[&Resource],
        _ctx: &Context,
    ) -> Vec<Finding> {
        let level = level_of(spec.level, spec.profile).unwrap_or_default();
        let framework = spec.framework.map(|f| f.as_str().to_string());
        let settings = PolicySettings {
            level: Some(level),
            framework: framework.clone(),
            enforcement: Enforcement::Enforce,
            ..PolicySettings::default()
        };
        let scope = format!(
            "{}level {}",
            framework
                .as_deref()
                .map(|f| format!("{f} "))
                .unwrap_or_default(),
            format!("{level:?}").to_lowercase()
        );
        let threshold = match spec.fail_on {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
        };
        let verdict = |f: Finding| -> Finding {
            let mut f = f;
            f.check = Some(ID);
            f.severity = Severity::Error;
            f
        };

        // Which checks each object fails.
        let mut failing: BTreeMap<usize, Vec<&'static str>> = BTreeMap::new();
        let index: std::collections::HashMap<crate::resource::ObjectRef, usize> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.object_ref(), i))
            .collect();
        for f in policy::run(objects, &settings) {
            if f.severity < threshold || f.exempted.is_some() {
                continue;
            }
            let Some(obj) = &f.object else { continue };
            let Some(&i) = index.get(&**obj) else {
                continue;
            };
            let checks = failing.entry(i).or_default();
            if let Some(c) = f.check.filter(|c| !checks.contains(c)) {
                checks.push(c);
            }
        }
        let mut out = Vec::new();
        for (&i, checks) in &failing {
            out.push(verdict(
                Finding::error(format!(
                    "not compliant with {scope} (ComplianceCheck {}): fails {}",
                    m.name,
                    checks.join(", ")
                ))
                .about(objects[i]),
            ));
        }
        if level >= Level::Medium {
            out.extend(
                namespace_requirements(objects, &scope, m.name, settings.profile())
                    .into_iter()
                    .map(verdict),
            );
        }
        let total = objects.len();
        let compliant = total - failing.len();
        let rate = if total == 0 {
            100.0
        } else {
            compliant as f64 * 100.0 / total as f64
        };
        let mut summary = Finding::info(format!(
            "{scope}: {compliant} of {total} objects compliant ({rate:.1}%), {} namespace requirement(s) unmet",
            out.len() - failing.len()
        ))
        .about(m.resource);
        summary.check = Some(ID);
        out.push(summary);
        out
    }
}

/// From level medium up: default-deny per namespace with pods, Pod Security labels on rendered
/// Namespaces at least as strict as the level's profile.
fn namespace_requirements(
    objects: &[&Resource],
    scope: &str,
    name: &str,
    profile: Profile,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut first_pod: BTreeMap<&str, &Resource> = BTreeMap::new();
    let mut isolated: Vec<&str> = Vec::new();
    for o in objects {
        let ns = o.namespace().unwrap_or("");
        if policy::pod::pod_of(o).is_some() {
            first_pod.entry(ns).or_insert(o);
        }
        if o.kind() == "NetworkPolicy" && is_default_deny(o) {
            isolated.push(ns);
        }
    }
    for (ns, obj) in &first_pod {
        if !isolated.contains(ns) {
            out.push(
                Finding::error(format!(
                    "{scope} (ComplianceCheck {name}) requires a default-deny NetworkPolicy (empty podSelector, Ingress and Egress) in namespace {ns:?}"
                ))
                .about(obj)
                .field("metadata.namespace"),
            );
        }
    }
    let required = profile.as_str();
    for o in objects
        .iter()
        .filter(|o| o.api_version() == "v1" && o.kind() == "Namespace")
    {
        let enforce = o
            .labels()
            .and_then(|l| l.get("pod-security.kubernetes.io/enforce"))
            .and_then(Value::as_str);
        let strong_enough = matches!(
            (enforce, profile),
            (Some("restricted"), _)
                | (Some("baseline"), Profile::Baseline | Profile::Privileged)
                | (Some("privileged"), Profile::Privileged)
        );
        if !strong_enough {
            out.push(
                Finding::error(format!(
                    "{scope} (ComplianceCheck {name}) requires Pod Security Admission enforce={required} or stricter on this namespace, found {}",
                    enforce.unwrap_or("none")
                ))
                .about(o)
                .field("metadata.labels.pod-security.kubernetes.io/enforce"),
            );
        }
    }
    out
}

/// Whether a NetworkPolicy selects every pod and denies both directions by default.
fn is_default_deny(o: &Resource) -> bool {
    let spec = &o.object["spec"];
    let selects_all = spec["podSelector"].as_object().is_some_and(|s| {
        s.values().all(|v| {
            v.as_object().is_some_and(|m| m.is_empty())
                || v.as_array().is_some_and(|a| a.is_empty())
        })
    });
    let types: Vec<&str> = spec["policyTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    selects_all && types.contains(&"Ingress") && types.contains(&"Egress")
}

#[cfg(test)]
mod tests {
    use crate::engine::{run, Options};
    use crate::finding::Severity;

    const APP: &str = "apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: web, namespace: shop}
spec:
  image: ghcr.io/acme/web:1.0.0
  probes: {liveness: {path: /live}, readiness: {path: /ready}}
  compliance: {framework: SOC2, level: medium, owner: team-shop}
";

    fn verdicts(extra: &str) -> Vec<(Severity, Option<String>, String)> {
        let text = format!("{APP}---\n{extra}");
        let out = run(
            crate::source::parse_text(&text, "t.yaml").unwrap(),
            &Options::new(crate::modules::registry()),
        );
        out.findings
            .into_iter()
            .filter(|f| f.check == Some("compliance-check"))
            .map(|f| (f.severity, f.object.map(|o| o.to_string()), f.message))
            .collect()
    }

    #[test]
    fn module_output_is_compliant_at_medium() {
        let v = verdicts("apiVersion: nixernetes.io/v1alpha1\nkind: ComplianceCheck\nmetadata: {name: audit}\nspec: {framework: SOC2, level: medium, failOn: warning}\n");
        assert_eq!(v.len(), 1, "{v:#?}");
        assert_eq!(v[0].0, Severity::Info);
        assert!(v[0].2.starts_with("SOC2 level medium: "), "{}", v[0].2);
        assert!(v[0].2.contains("objects compliant (100.0%)"), "{}", v[0].2);
    }

    #[test]
    fn plain_objects_are_judged_and_listed() {
        let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: other}\nspec: {containers: [{name: c, image: nginx}]}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: ComplianceCheck\nmetadata: {name: audit}\nspec: {profile: staging}\n";
        let v = verdicts(bad);
        let errors: Vec<_> = v.iter().filter(|x| x.0 == Severity::Error).collect();
        assert!(
            errors
                .iter()
                .any(|e| e.1.as_deref() == Some("Pod/other/p") && e.2.contains("image-tag-pinned")),
            "{v:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.2.contains("default-deny NetworkPolicy") && e.2.contains("\"other\"")),
            "{v:#?}"
        );
        assert!(
            !errors.iter().any(|e| e.2.contains("\"shop\"")),
            "shop has generated policies: {v:#?}"
        );
    }
}
