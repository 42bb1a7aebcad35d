//! Unit tests of reading and evaluating rules; the acceptance tests through the binary are in
//! `tests/it/rules.rs`, the parity table in `tests/it/rules_parity.rs`.
#![cfg(test)]

use super::*;

fn parse(yaml: &str) -> Vec<Resource> {
    crate::source::parse_text(yaml, "rules.yaml").expect("test YAML parses")
}

/// `(object, id, field, message)` of each hit.
type Hits = Vec<(String, String, String, String)>;

/// Loads the rules of `yaml` and evaluates them on its other objects: `(object, id, field,
/// message)` of each hit, and the load findings' messages.
fn run(yaml: &str) -> (Hits, Vec<String>) {
    let mut findings = Vec::new();
    let (objects, set) = take(parse(yaml), &[], &mut findings);
    let mut hits = Vec::new();
    for obj in &objects {
        let mut out = Vec::new();
        set.evaluate(obj, &mut out);
        hits.extend(
            out.into_iter()
                .map(|h| (obj.name().to_string(), h.id.to_string(), h.field, h.message)),
        );
    }
    let said = findings
        .iter()
        .map(|f| format!("{}: {}", f.field.as_deref().unwrap_or("-"), f.message))
        .collect();
    (hits, said)
}

const MAX_REPLICAS: &str = r#"apiVersion: nixernetes.io/v1alpha1
kind: ValidationRule
metadata: {name: max-replicas}
spec:
  match:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE, UPDATE]}
  variables:
    - name: replicas
      expression: "has(object.spec.replicas) ? object.spec.replicas : 1"
  validations:
    - expression: "variables.replicas <= 10"
      message: at most 10 replicas are allowed
      messageExpression: "'replicas is ' + string(variables.replicas) + '; at most 10 are allowed'"
      fieldPath: .spec.replicas
"#;

fn deployment(name: &str, replicas: i64) -> String {
    format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec: {{replicas: {replicas}}}\n")
}

#[test]
fn a_rule_reports_with_its_message_expression_and_field() {
    let yaml = format!(
        "{MAX_REPLICAS}{}{}",
        deployment("big", 12),
        deployment("small", 3)
    );
    let (hits, said) = run(&yaml);
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(
        hits,
        vec![(
            "big".to_string(),
            "rule.max-replicas".to_string(),
            "spec.replicas".to_string(),
            "replicas is 12; at most 10 are allowed".to_string()
        )]
    );
}

#[test]
fn validation_rules_are_consumed_and_policies_kept() {
    let yaml = format!("{MAX_REPLICAS}{}", deployment("d", 1));
    let mut findings = Vec::new();
    let (objects, set) = take(parse(&yaml), &[], &mut findings);
    assert_eq!(set.len(), 1);
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].kind(), "Deployment");
}

#[test]
fn no_rules_cost_nothing() {
    let mut findings = Vec::new();
    let (objects, set) = take(parse(&deployment("d", 1)), &[], &mut findings);
    assert!(set.is_empty() && findings.is_empty() && objects.len() == 1);
    assert!(
        set.engine.get().is_none(),
        "CEL was initialised without a rule"
    );
}

#[test]
fn bad_rules_are_reported_at_their_fields() {
    let yaml = MAX_REPLICAS
        .replace("variables.replicas <= 10", "variables.replicas <= ")
        .replace(
            "operations: [CREATE, UPDATE]}",
            "operations: [CREATE, UPDATE], verbs: [x]}",
        )
        .replace("has(object.spec.replicas)", "has(self.spec.replicas)");
    let (hits, said) = run(&yaml);
    assert!(hits.is_empty());
    assert!(
        said.iter()
            .any(|s| s.starts_with("spec.match.resourceRules[0].verbs: ")),
        "{said:?}"
    );
    // The spec did not deserialize: the CEL is not looked at until it does.
    let yaml = MAX_REPLICAS
        .replace("variables.replicas <= 10", "variables.replicas <= ")
        .replace("has(object.spec.replicas)", "has(self.spec.replicas)");
    let (_, said) = run(&yaml);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].starts_with("spec.variables[0].expression: `self` is not bound"),
        "{said:?}"
    );
    assert!(
        said[1].starts_with("spec.validations[0].expression: CEL does not compile: col "),
        "{said:?}"
    );
}

#[test]
fn names_are_unique() {
    let yaml = format!("{MAX_REPLICAS}---\n{MAX_REPLICAS}");
    let (_, said) = run(&yaml);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("already defined at rules.yaml:1"),
        "{said:?}"
    );
}

const POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}
  validations:
    - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
      messageExpression: "'at most ' + params.data.maxReplicas + ' replicas in ' + namespaceObject.metadata.name"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-prod}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: limits, namespace: config, parameterNotFoundAction: Deny}
  matchResources:
    namespaceSelector: {matchLabels: {env: prod}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: limits, namespace: config}
data: {maxReplicas: "5"}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
"#;

#[test]
fn input_policies_are_evaluated_with_params_and_namespaces() {
    let yaml = format!(
        "{POLICY}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: big, namespace: prod}}\nspec: {{replicas: 6}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: dev, namespace: dev}}\nspec: {{replicas: 6}}\n"
    );
    let (hits, said) = run(&yaml);
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].0, "big");
    assert_eq!(hits[0].1, "rule.replica-limit");
    assert_eq!(
        hits[0].3,
        "at most 5 replicas in prod (binding replica-limit-prod)"
    );
}

#[test]
fn authorizer_rules_warn_and_are_skipped() {
    let yaml = POLICY.replace(
        "object.spec.replicas <= int(params.data.maxReplicas)",
        "authorizer.group('apps').resource('deployments').check('create').allowed()",
    );
    let yaml = format!("{yaml}{}", deployment("d", 1));
    let mut findings = Vec::new();
    let (_, set) = take(parse(&yaml), &[], &mut findings);
    assert!(set.is_empty());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(findings[0].message.contains("authorizer"));
}

#[test]
fn missing_params_deny() {
    let yaml = POLICY.replace("paramRef: {name: limits", "paramRef: {name: absent");
    let yaml = format!(
        "{yaml}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: big, namespace: prod}}\nspec: {{replicas: 1}}\n"
    );
    let (hits, _) = run(&yaml);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(
        hits[0]
            .3
            .starts_with("no parameter object v1 ConfigMap/absent"),
        "{hits:?}"
    );
}

#[test]
fn match_conditions_and_evaluation_errors() {
    let yaml = MAX_REPLICAS.replace(
        "  variables:",
        "  matchConditions:\n    - name: not-exempt\n      expression: \"!('skip' in object.metadata.labels)\"\n  variables:",
    );
    let labelled = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: skipped, labels: {skip: 'yes'}}\nspec: {replicas: 50}\n";
    let unlabelled = deployment("unlabelled", 50);
    let (hits, _) = run(&format!("{yaml}{labelled}{unlabelled}"));
    // `object.metadata.labels` is absent on the second: the condition errors, as it would at
    // admission (failurePolicy Fail).
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].0, "unlabelled");
    assert!(
        hits[0]
            .3
            .starts_with("matchCondition 'not-exempt' resulted in error"),
        "{hits:?}"
    );
}

mod export {
    use super::*;
    use crate::rules::export::{validation_actions, Target};
    use crate::types::Enforcement;

    const PRODUCED: &str = r#"apiVersion: nixernetes.io/v1alpha1
kind: ValidationRule
metadata: {name: web-replicas}
spec:
  match:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}
    producedBy: [{kind: WebApp}]
  validations:
    - expression: "object.spec.replicas <= 10"
      message: at most 10
      fieldPath: spec.replicas
  admission: {export: true}
"#;

    fn deployment(name: &str, meta: &str) -> String {
        format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop{meta}}}\nspec: {{replicas: 12}}\n")
    }

    fn target() -> Target<'static> {
        Target {
            minor: 31,
            enforcement: Enforcement::Enforce,
            inventory: None,
            only: false,
        }
    }

    /// `(object, message)` of the hits of `set` on `objects`.
    fn judged(set: &RuleSet, objects: &[Resource]) -> Vec<(String, String)> {
        let mut hits = Vec::new();
        for obj in objects {
            let mut out = Vec::new();
            set.evaluate(obj, &mut out);
            hits.extend(out.into_iter().map(|h| {
                let m = h
                    .message
                    .split(" (binding")
                    .next()
                    .unwrap_or("")
                    .to_string();
                (obj.name().to_string(), m)
            }));
        }
        hits
    }

    #[test]
    fn the_exported_policy_judges_as_the_rule_does() {
        let managed = ", labels: {app.kubernetes.io/managed-by: nixernetes}";
        let objects = parse(&[
            deployment("made", &format!("{managed}, annotations: {{nixernetes.io/source: WebApp/shop/made}}")),
            deployment("worker", &format!("{managed}, annotations: {{nixernetes.io/source: Worker/shop/worker}}")),
            deployment("plain", managed),
            deployment("exempt", &format!("{managed}, annotations: {{nixernetes.io/source: WebApp/shop/exempt, ignore-check.nixernetes.io/rule.web-replicas: why}}")),
            deployment("all-off", &format!("{managed}, annotations: {{nixernetes.io/source: WebApp/shop/all-off, nixernetes.io/ignore-all: why}}")),
            deployment("unmanaged", ", annotations: {nixernetes.io/source: WebApp/shop/unmanaged}"),
        ].concat());
        let mut findings = Vec::new();
        let (_, rules) = take(parse(PRODUCED), &[], &mut findings);
        let exported = rules.export(&target(), &mut findings);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(exported.objects.len(), 2);
        let (_, policies) = take(exported.objects, &[], &mut findings);
        assert!(findings.is_empty(), "{findings:?}");
        // The rule: producedBy selects; exemptions are the policy checker's (info), so the hit
        // is there. The policy: the match conditions leave exempted and unmanaged objects out.
        assert_eq!(
            judged(&rules, &objects),
            [
                ("made", "at most 10"),
                ("exempt", "at most 10"),
                ("all-off", "at most 10"),
                ("unmanaged", "at most 10")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(
            judged(&policies, &objects),
            [("made".to_string(), "at most 10".to_string())]
        );
    }

    #[test]
    fn actions_follow_severity_and_enforcement() {
        use crate::rules::spec::RuleSeverity::*;
        assert_eq!(validation_actions(Error, Enforcement::Enforce), ["Deny"]);
        assert_eq!(
            validation_actions(Error, Enforcement::Audit),
            ["Warn", "Audit"]
        );
        assert_eq!(validation_actions(Error, Enforcement::Off), ["Audit"]);
        assert_eq!(validation_actions(Warning, Enforcement::Enforce), ["Warn"]);
        assert_eq!(validation_actions(Info, Enforcement::Enforce), ["Audit"]);
    }

    #[test]
    fn an_authorizer_rule_is_exported_but_not_evaluated() {
        let yaml = PRODUCED.replace(
            "object.spec.replicas <= 10",
            "authorizer.group('apps').resource('deployments').check('scale').allowed()",
        );
        let mut findings = Vec::new();
        let (_, rules) = take(parse(&yaml), &[], &mut findings);
        assert!(findings
            .iter()
            .any(|f| f.message.contains("reads `authorizer`")));
        let objects = parse(&deployment(
            "made",
            ", annotations: {nixernetes.io/source: WebApp/shop/made}",
        ));
        assert!(judged(&rules, &objects).is_empty());
        let mut findings = Vec::new();
        let exported = rules.export(&target(), &mut findings);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(exported.objects.len(), 2);
    }

    #[test]
    fn a_contradicting_selector_and_a_taken_condition_name_are_refused() {
        let yaml = PRODUCED
            .replace(
                "    producedBy: [{kind: WebApp}]\n",
                "    objectSelector: {matchLabels: {app.kubernetes.io/managed-by: helm}}\n",
            )
            .replace(
                "  validations:",
                "  matchConditions: [{name: nixernetes-exemption, expression: 'true'}]\n  validations:",
            );
        let mut findings = Vec::new();
        let (_, rules) = take(parse(&yaml), &[], &mut findings);
        assert!(findings.is_empty(), "{findings:?}");
        let exported = rules.export(&target(), &mut findings);
        assert!(exported.objects.is_empty());
        let said: Vec<String> = findings
            .iter()
            .map(|f| format!("{}: {}", f.field.as_deref().unwrap_or("-"), f.message))
            .collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].starts_with("spec.match.objectSelector.matchLabels: objectSelector.matchLabels app.kubernetes.io/managed-by: helm contradicts"), "{said:?}");
        assert!(
            said[1].starts_with(
                "spec.matchConditions[0].name: the match condition name \"nixernetes-exemption\""
            ),
            "{said:?}"
        );
    }
}

/// Every program is compiled once, when its rule loads, however many objects it judges; the CEL
/// context is built only when some rule matches an object.
#[test]
fn programs_compile_once_and_cel_starts_only_when_a_rule_matches() {
    let before = cel::compiled();
    let mut findings = Vec::new();
    let (_, set) = take(parse(MAX_REPLICAS), &[], &mut findings);
    // The variable, the validation and its messageExpression.
    assert_eq!(cel::compiled() - before, 3);
    let services: Vec<Resource> = (0..200)
        .flat_map(|i| {
            parse(&format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\n"
            ))
        })
        .collect();
    let mut out = Vec::new();
    for s in &services {
        set.evaluate(s, &mut out);
    }
    assert!(out.is_empty());
    assert!(
        set.engine.get().is_none(),
        "CEL was initialised for objects no rule matches"
    );
    for i in 0..200 {
        set.evaluate(&parse(&deployment(&format!("d{i}"), 12))[0], &mut out);
    }
    assert_eq!(out.len(), 200);
    assert!(set.engine.get().is_some());
    assert_eq!(cel::compiled() - before, 3, "a program was compiled again");
}

/// What loading and running rules costs (debug build figures; run with `--ignored
/// --nocapture`): compiling 10 rules, building the CEL context, judging objects.
#[test]
#[ignore]
fn rule_costs() {
    let rules: String = (0..10)
        .map(|i| {
            MAX_REPLICAS.replace("name: max-replicas", &format!("name: max-replicas-{i}")) + "---\n"
        })
        .collect();
    let docs = parse(&rules);
    let t = std::time::Instant::now();
    cel::compile("1 + 1 == 2").unwrap();
    let first = t.elapsed();
    let t = std::time::Instant::now();
    for _ in 0..30 {
        cel::compile("has(object.spec.replicas) ? object.spec.replicas : 1").unwrap();
    }
    eprintln!("first compile {first:?}; 30 more in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut findings = Vec::new();
    let (_, set) = take(docs, &[], &mut findings);
    let load = t.elapsed();
    let t = std::time::Instant::now();
    let _ = RuleEngine::default();
    let engine = t.elapsed();
    let objects: Vec<Resource> = (0..1000)
        .flat_map(|i| parse(&deployment(&format!("d{i}"), i % 20)))
        .collect();
    let t = std::time::Instant::now();
    let mut out = Vec::new();
    for o in &objects {
        set.evaluate(o, &mut out);
    }
    let eval = t.elapsed();
    eprintln!(
        "10 rules (30 programs) loaded in {load:?}; CEL context in {engine:?}; 1000 objects x 10 rules in {eval:?} ({:?} per object)",
        eval / 1000
    );
}
