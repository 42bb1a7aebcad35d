//! Validation rules through the real binary (acceptance tests 7, 10 and part of 12 of the
//! extensibility design): `ValidationRule`s in `render` under each enforcement, in `check
//! --rules` on plain YAML in text, JSON and SARIF, exemptions, located errors for bad rules,
//! input ValidatingAdmissionPolicies with their bindings, params and namespaces, and rules as
//! KRM items or function config. Fixtures: `examples/extending/rules/`, `tests/rules/`.

use super::common::{run_binary, run_binary_with};

const RULES: &str = "examples/extending/rules/workloads.yaml";
const APPS: &str = "examples/extending/rules/apps.yaml";
const PLAIN: &str = "tests/rules/manifests.yaml";

const OVER: &str = "error[rule.max-replicas]: examples/extending/rules/apps.yaml:14: Deployment/shop/search: spec.replicas: replicas is 12; at most 10 are allowed\n";

#[test]
fn render_enforces_rules_under_enforce() {
    let out = run_binary(&["render", "--enforce", "--rules", RULES, APPS]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "partial output: {}", out.stdout);
    assert!(out.stderr.contains(OVER), "{}", out.stderr);
    // The exempted one is info: not shown without -v.
    assert!(!out.stderr.contains("rule.acme-registry"), "{}", out.stderr);
}

#[test]
fn render_warns_under_audit_and_skips_under_off() {
    let out = run_binary(&["render", "--rules", RULES, APPS]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning[rule.max-replicas]: examples/extending/rules/apps.yaml:14: Deployment/shop/search: spec.replicas: replicas is 12; at most 10 are allowed (audit: enforce to fail)"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("ValidationRule"), "a rule was emitted");
    let off = run_binary(&["render", "--enforcement", "off", "--rules", RULES, APPS]);
    assert_eq!(off.status, 0);
    assert!(!off.stderr.contains("rule."), "{}", off.stderr);
    assert_eq!(off.stdout, out.stdout, "rules change no object");
}

#[test]
fn rules_in_the_input_are_read_and_never_emitted() {
    // The same as --rules: the rules are in the input (a directory holds both files).
    let out = run_binary(&["render", "--enforce", "examples/extending/rules/"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains(OVER), "{}", out.stderr);
    let out = run_binary(&["render", "examples/extending/rules/"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        !out.stdout.contains("kind: ValidationRule"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("kind: Deployment"));
}

#[test]
fn check_reports_rules_on_plain_yaml_in_every_format() {
    let text = run_binary(&["check", "--rules", RULES, PLAIN]);
    assert_eq!(text.status, 1, "{}", text.stderr);
    assert!(
        text.stdout.contains("     7  error   rule.max-replicas           spec.replicas: replicas is 12; at most 10 are allowed\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("info    rule.max-replicas           spec.replicas: exempted (a batch fan-out, capped by its queue): replicas is 40; at most 10 are allowed"),
        "{}",
        text.stdout
    );
    let json = run_binary(&["check", "-o", "json", "--rules", RULES, PLAIN]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let rule: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "rule.max-replicas")
        .collect();
    assert_eq!(rule.len(), 2, "{rule:?}");
    assert_eq!(rule[0]["severity"], "error");
    assert_eq!(rule[0]["field"], "spec.replicas");
    assert_eq!(rule[0]["line"], 7);
    assert_eq!(rule[0]["object"]["name"], "big");
    assert_eq!(rule[1]["severity"], "info");
    assert_eq!(rule[1]["exempted"], "a batch fan-out, capped by its queue");
    let sarif = run_binary(&["check", "-o", "sarif", "--rules", RULES, PLAIN]);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    let run = &log["runs"][0];
    assert!(run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "rule.max-replicas"));
    let results: Vec<&serde_json::Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "rule.max-replicas")
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["level"], "error");
    assert_eq!(
        results[1]["suppressions"][0]["justification"],
        "a batch fan-out, capped by its queue"
    );
}

#[test]
fn bad_rules_are_errors_at_their_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(RULES)
        .unwrap()
        .replace("\"variables.replicas <= 10\"", "\"variables.replicas <= \"")
        .replace(
            "      reason: Invalid\n",
            "      reason: Invalid\n      fieldpath: spec\n",
        );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, &text).unwrap();
    let bad = bad.to_str().unwrap();
    let out = run_binary(&["render", "--rules", bad, APPS]);
    assert_eq!(out.status, 1);
    assert!(out.stdout.is_empty());
    let line = text.lines().position(|l| l.contains("fieldpath")).unwrap() + 1;
    assert!(
        out.stderr.contains(&format!("error: {bad}:{line}: ValidationRule/max-replicas: spec.validations[0].fieldpath: unknown field `fieldpath`: did you mean `fieldPath`?")),
        "{}",
        out.stderr
    );
    // Fixed the field, the CEL error shows with its column.
    let text = text.replace("      fieldpath: spec\n", "");
    std::fs::write(dir.path().join("bad.yaml"), &text).unwrap();
    let out = run_binary(&["check", "--rules", bad, APPS]);
    assert_eq!(out.status, 2, "{}", out.stdout);
    let line = text
        .lines()
        .position(|l| l.contains("variables.replicas <= \""))
        .unwrap()
        + 1;
    assert!(
        out.stderr.contains(&format!("error: {bad}:{line}: ValidationRule/max-replicas: spec.validations[0].expression: CEL does not compile: col 24: ")),
        "{}",
        out.stderr
    );
    // A rule named twice names both places.
    let twice = run_binary(&["check", "--rules", RULES, "--rules", RULES, APPS]);
    assert_eq!(twice.status, 2);
    assert!(twice.stderr.contains("a rule named \"max-replicas\" is already defined at examples/extending/rules/workloads.yaml:12"), "{}", twice.stderr);
    // Something that is not a rule in --rules.
    let not = run_binary(&["check", "--rules", PLAIN, APPS]);
    assert_eq!(not.status, 2);
    assert!(
        not.stderr
            .contains("Deployment is not a rule: --rules reads ValidationRule"),
        "{}",
        not.stderr
    );
}

#[test]
fn input_admission_policies_are_evaluated_and_emitted() {
    let out = run_binary(&["render", "--enforce", "tests/rules/third-party.yaml"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[rule.replica-limit.example.com]: tests/rules/third-party.yaml:42: Deployment/shop/web: object.spec.replicas must be no greater than 3 in shop (binding replica-limit-prod.example.com)\n"),
        "{}",
        out.stderr
    );
    // The sandbox namespace is not prod: the binding does not match there.
    assert!(
        !out.stderr.contains("Deployment/sandbox/web: object.spec"),
        "{}",
        out.stderr
    );
    // authorizer: a warning, not a verdict.
    assert!(
        out.stderr.contains("warning: tests/rules/third-party.yaml:64: ValidatingAdmissionPolicy/only-admins.example.com: reads `authorizer`"),
        "{}",
        out.stderr
    );
    let audit = run_binary(&["render", "tests/rules/third-party.yaml"]);
    assert_eq!(audit.status, 0, "{}", audit.stderr);
    // The policies and bindings are the user's objects: emitted as written.
    assert_eq!(
        audit
            .stdout
            .matches("kind: ValidatingAdmissionPolicy\n")
            .count(),
        2,
        "{}",
        audit.stdout
    );
    assert_eq!(
        audit
            .stdout
            .matches("kind: ValidatingAdmissionPolicyBinding\n")
            .count(),
        2
    );
}

fn resource_list(items: &str, config: &str) -> String {
    format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}{config}")
}

const KRM_RULE: &str = "- apiVersion: nixernetes.io/v1alpha1\n  kind: ValidationRule\n  metadata: {name: max-replicas}\n  spec:\n    match:\n      resourceRules: [{apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}]\n    validations:\n    - {expression: 'object.spec.replicas <= 10', message: at most 10 replicas, fieldPath: spec.replicas}\n";
const KRM_DEPLOYMENT: &str = "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: big, namespace: shop}\n  spec: {replicas: 12}\n";

fn results(stdout: &str) -> Vec<serde_json::Value> {
    let rl: serde_json::Value = serde_json::to_value(
        serde_saphyr::from_str::<serde_json::Value>(stdout).expect("ResourceList YAML"),
    )
    .unwrap();
    rl["results"].as_array().cloned().unwrap_or_default()
}

#[test]
fn krm_function_reads_rules_from_items_and_config() {
    let config = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cfg}\n  data: {enforcement: enforce}\n";
    let out = run_binary_with(
        &["fn"],
        &[],
        Some(&resource_list(
            &format!("{KRM_RULE}{KRM_DEPLOYMENT}"),
            config,
        )),
    );
    assert_eq!(out.status, 1, "{}", out.stdout);
    let found: Vec<serde_json::Value> = results(&out.stdout)
        .into_iter()
        .filter(|r| r["tags"]["check"] == "rule.max-replicas")
        .collect();
    assert_eq!(found.len(), 1, "{}", out.stdout);
    assert_eq!(found[0]["severity"], "error");
    assert_eq!(found[0]["message"], "at most 10 replicas");
    assert_eq!(found[0]["field"]["path"], "spec.replicas");
    assert_eq!(found[0]["resourceRef"]["name"], "big");
    // The rule as the function config.
    let rule_config = format!("functionConfig:\n{}", KRM_RULE.replacen("- ", "  ", 1));
    let out = run_binary_with(
        &["fn"],
        &[],
        Some(&resource_list(KRM_DEPLOYMENT, &rule_config)),
    );
    assert_eq!(out.status, 0, "{}", out.stdout);
    let found: Vec<serde_json::Value> = results(&out.stdout)
        .into_iter()
        .filter(|r| r["tags"]["check"] == "rule.max-replicas")
        .collect();
    assert_eq!(found.len(), 1, "{}", out.stdout);
    assert_eq!(found[0]["severity"], "warning");
    assert!(
        !out.stdout.contains("kind: ValidationRule"),
        "{}",
        out.stdout
    );
}
