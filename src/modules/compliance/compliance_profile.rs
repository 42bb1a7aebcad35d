//! Seed modules `compliance` and `compliance-profiles` (category `security`):
//! `ComplianceProfile`, the configuration kind that declares which compliance framework and level
//! a render is held to, who owns it and how sensitive its data is.
//!
//! It emits nothing. It sets the compliance level and framework of the policy checks (and the
//! enforcement, when given); flags still win over it. It makes the engine stamp the four
//! `compliance.nixernetes.io/*` labels of [`ComplianceSpec::labels`] on every emitted object its
//! selector matches and on their pod templates. The labelling itself is `engine::inject`'s job,
//! not this file's: a value the user wrote, or a module's own `spec.compliance`, wins.
//! Local-config objects never get the labels.

use crate::kind::spec::{Configure, Kind};
use crate::kind::{Context, Example, ModuleResource, Problems};
use crate::modules::shared::compliance::{check_level, level_of, ComplianceSpec};
use crate::types::compliance::{ComplianceLabels, ObjectSelector};
use crate::types::{DataClassification, EnvironmentProfile, Framework, Level};
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct ComplianceProfile;

/// The compliance framework and level a render is held to, who owns it and how sensitive its
/// data is.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComplianceProfileSpec {
    /// Compliance framework.
    pub framework: Framework,
    /// The compliance level; or give `profile`.
    pub level: Option<Level>,
    /// An environment preset standing for a level; or give `level`.
    pub profile: Option<EnvironmentProfile>,
    /// Team or person accountable, as a label value.
    pub owner: String,
    /// How sensitive the data is.
    #[serde(default)]
    pub data_classification: DataClassification,
    /// What failing checks do; unchanged when not given.
    pub enforcement: Option<crate::types::Enforcement>,
    /// The emitted objects that get the compliance labels; every one when empty.
    #[serde(default)]
    pub selector: ObjectSelector,
}

impl ComplianceProfileSpec {
    /// The workload-level compliance it stands for.
    fn compliance(&self) -> ComplianceSpec {
        ComplianceSpec {
            framework: self.framework,
            level: level_of(self.level, self.profile).unwrap_or_default(),
            owner: self.owner.clone(),
            data_classification: self.data_classification,
        }
    }
}

impl Kind for ComplianceProfile {
    const KIND: &'static str = "ComplianceProfile";
    const SUMMARY: &'static str = "compliance framework, level and owner: compliance labels on emitted objects, level and enforcement of the checks";
    const EXAMPLE: Example = crate::example!("examples/compliance/compliance-profile.yaml");
    type Spec = ComplianceProfileSpec;

    fn validate(spec: &ComplianceProfileSpec, ch: &mut Problems<'_>) {
        check_level(spec.level, spec.profile, ch);
        spec.compliance().check(ch, "spec");
        check_selector(&spec.selector, ch);
    }
}

impl Configure for ComplianceProfile {
    /// Over `PlatformDefaults`.
    const PRECEDENCE: u8 = 20;

    fn configure(spec: ComplianceProfileSpec, _m: &ModuleResource<'_>, ctx: &mut Context) {
        let compliance = spec.compliance();
        ctx.policy.level = Some(compliance.level);
        ctx.policy.framework = Some(spec.framework.as_str().to_string());
        if let Some(e) = spec.enforcement {
            ctx.policy.enforcement = e;
        }
        ctx.compliance = Some(ComplianceLabels {
            labels: compliance.labels(),
            selector: spec.selector,
        });
    }
}

fn check_selector(s: &ObjectSelector, ch: &mut Problems<'_>) {
    for (i, kind) in s.kinds.iter().enumerate() {
        let field = format!("spec.selector.kinds[{i}]");
        let well_formed = kind.starts_with(|c: char| c.is_ascii_uppercase())
            && kind.bytes().all(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            ch.fail(
                field,
                format!("invalid kind {kind:?}: expected a Kubernetes kind such as Deployment"),
            );
        } else if crate::modules::registry().lookup(kind).is_some() {
            ch.fail(
                field,
                format!("{kind} is a module kind, which never reaches the output: select the kinds it emits (e.g. Deployment) or a label its objects carry"),
            );
        }
    }
    for (i, ns) in s.namespaces.iter().enumerate() {
        ch.check(
            format!("spec.selector.namespaces[{i}]"),
            validate::dns1123_label(ns),
        );
    }
    for (k, v) in &s.labels {
        let field = format!("spec.selector.labels.{k}");
        ch.check(&field, validate::label_key(k));
        ch.check(&field, validate::label_value(v));
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{run, Options};
    use crate::modules::shared::testing::{find, render};
    use crate::resource::Resource;
    use crate::types::Level;

    const PROFILE: &str = "apiVersion: nixernetes.io/v1alpha1
kind: ComplianceProfile
metadata: {name: soc2}
spec: {framework: SOC2, profile: production, owner: team-shop}
";

    fn label<'a>(o: &'a Resource, key: &str) -> Option<&'a str> {
        o.labels()?.get(key)?.as_str()
    }

    #[test]
    fn profile_sets_level_framework_and_labels_everything() {
        let yaml = format!(
            "{PROFILE}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: plain, namespace: shop}}
---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {{name: jobs, namespace: shop}}
spec: {{image: ghcr.io/acme/jobs:1.0.0, probes: {{liveness: {{command: [cat, /tmp/healthy]}}}}}}
"
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        assert_eq!(out.policy.level, Some(Level::High));
        assert_eq!(out.policy.framework.as_deref(), Some("SOC2"));
        for o in &out.objects {
            assert_eq!(
                label(o, "compliance.nixernetes.io/level"),
                Some("high"),
                "{}",
                o.name()
            );
            assert_eq!(
                label(o, "compliance.nixernetes.io/owner"),
                Some("team-shop")
            );
            assert_eq!(
                label(o, "compliance.nixernetes.io/data-classification"),
                Some("internal")
            );
        }
        let deploy = find(&out, "Deployment", "jobs");
        let template = &deploy.object["spec"]["template"]["metadata"]["labels"];
        assert_eq!(template["compliance.nixernetes.io/framework"], "SOC2");
        // Selectors are never touched.
        assert!(deploy.object["spec"]["selector"]["matchLabels"]
            .get("compliance.nixernetes.io/framework")
            .is_none());
    }

    #[test]
    fn module_compliance_and_user_labels_win() {
        let yaml = format!(
            "{PROFILE}---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {{name: pci, namespace: shop}}
spec:
  image: ghcr.io/acme/pay:1.0.0
  probes: {{liveness: {{command: [cat, /tmp/healthy]}}}}
  compliance: {{framework: PCI-DSS, level: restricted, owner: team-pay}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: mine
  namespace: shop
  labels: {{compliance.nixernetes.io/owner: someone-else}}
"
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let deploy = find(&out, "Deployment", "pci");
        assert_eq!(
            label(deploy, "compliance.nixernetes.io/framework"),
            Some("PCI-DSS")
        );
        assert_eq!(
            label(deploy, "compliance.nixernetes.io/level"),
            Some("restricted")
        );
        let template = &deploy.object["spec"]["template"]["metadata"]["labels"];
        assert_eq!(template["compliance.nixernetes.io/owner"], "team-pay");
        let mine = find(&out, "ConfigMap", "mine");
        assert_eq!(
            label(mine, "compliance.nixernetes.io/owner"),
            Some("someone-else")
        );
        assert_eq!(
            label(mine, "compliance.nixernetes.io/framework"),
            Some("SOC2")
        );
    }

    #[test]
    fn selector_narrows_and_local_config_is_skipped() {
        let yaml = "apiVersion: nixernetes.io/v1alpha1
kind: ComplianceProfile
metadata: {name: gdpr}
spec:
  framework: GDPR
  level: medium
  owner: team-data
  selector: {kinds: [Deployment, ConfigMap, Namespace], namespaces: [data], labels: {tier: backend}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: in-data, namespace: data, labels: {tier: backend}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other-ns, namespace: web, labels: {tier: backend}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: no-label, namespace: data}
---
apiVersion: v1
kind: Secret
metadata: {name: wrong-kind, namespace: data, labels: {tier: backend}}
---
apiVersion: v1
kind: Namespace
metadata: {name: data, labels: {tier: backend}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local
  namespace: data
  labels: {tier: backend}
  annotations: {config.kubernetes.io/local-config: 'true'}
---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {name: etl, namespace: data}
spec: {image: ghcr.io/acme/etl:1.0.0, labels: {tier: backend}, probes: {liveness: {command: [cat, /tmp/healthy]}}}
";
        let out = render(yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let labelled: Vec<String> = out
            .objects
            .iter()
            .filter(|o| label(o, "compliance.nixernetes.io/framework") == Some("GDPR"))
            .map(|o| format!("{}/{}", o.kind(), o.name()))
            .collect();
        // The Worker's labels come from spec.labels (injected), and still select it.
        assert_eq!(
            labelled,
            ["ConfigMap/in-data", "Namespace/data", "Deployment/etl"]
        );
    }

    #[test]
    fn flags_win_and_registry_order_decides_between_kinds() {
        // PlatformDefaults comes after the profile in the input but is applied first.
        let yaml = format!(
            "{PROFILE}---
apiVersion: nixernetes.io/v1alpha1
kind: PlatformDefaults
metadata: {{name: p}}
spec: {{complianceLevel: low, enforcement: enforce}}
"
        );
        let out = render(&yaml);
        assert_eq!(out.policy.level, Some(Level::High));
        let inputs = crate::source::parse_text(&yaml, "t.yaml").unwrap();
        let mut options = Options::new(crate::modules::registry());
        options.overrides.level = Some(Level::Restricted);
        let out = run(inputs, &options);
        assert_eq!(out.policy.level, Some(Level::Restricted));
        assert_eq!(out.policy.enforcement, crate::types::Enforcement::Enforce);
    }

    #[test]
    fn errors_are_collected_with_field_paths() {
        let yaml = "apiVersion: nixernetes.io/v1alpha1
kind: ComplianceProfile
metadata: {name: bad}
spec:
  framework: HIPAA
  level: high
  profile: staging
  owner: Team Health
  selector: {kinds: [WebApp, deployment], namespaces: [Bad_NS], labels: {tier: 'a b'}}
";
        let out = render(yaml);
        let fields: Vec<&str> = out
            .findings
            .iter()
            .filter_map(|f| f.field.as_deref())
            .collect();
        assert_eq!(
            fields,
            [
                "spec.profile",
                "spec.owner",
                "spec.selector.kinds[0]",
                "spec.selector.kinds[1]",
                "spec.selector.namespaces[0]",
                "spec.selector.labels.tier"
            ]
        );
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1\nkind: ComplianceProfile\nmetadata: {name: x}\nspec: {framework: SOC3, level: low, owner: a}\n",
        );
        assert_eq!(out.findings[0].field.as_deref(), Some("spec.framework"));
    }
}
