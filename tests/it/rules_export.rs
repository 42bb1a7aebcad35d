//! Exporting rules as admission policies through the real binary (acceptance test 8 of the
//! extensibility design, and the settings and environment that reach it): the exact policies
//! and bindings, `include` and `only`, refusals for functions the target minor lacks, the round
//! trip (the exported policies, evaluated as input, give the rules' verdicts), the KRM function
//! config, Argo CD, and rules from `NIXERNETES_RULES`. Schema validity of the exported objects
//! is `schemas::exported_admission_policies_match_schemas`.

use super::common::{golden, run_binary, run_binary_with};
use std::collections::BTreeSet;
use std::path::Path;

const RULES: &str = "examples/extending/rules/workloads.yaml";
const APPS: &str = "examples/extending/rules/apps.yaml";
const PLAIN: &str = "tests/rules/manifests.yaml";

#[test]
fn exported_policies_are_exact() {
    let mut failures = Vec::new();
    for (enforcement, file) in [
        ("enforce", "exported-enforce.yaml"),
        ("audit", "exported-audit.yaml"),
    ] {
        let out = run_binary(&[
            "render",
            "--admission-policies=only",
            "--enforcement",
            enforcement,
            RULES,
        ]);
        assert_eq!(out.status, 0, "{}", out.stderr);
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/rules")
            .join(file);
        golden(&path, &out.stdout, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let enforce = run_binary(&["render", "--admission-policies=only", "--enforce", RULES]);
    assert_eq!(
        enforce
            .stdout
            .matches("validationActions:\n  - Deny\n")
            .count(),
        2
    );
    let audit = run_binary(&["render", "--admission-policies=only", RULES]);
    assert_eq!(
        audit
            .stdout
            .matches("validationActions:\n  - Warn\n  - Audit\n")
            .count(),
        2
    );
    // The text evaluated is the text exported; fieldPath is ours and dropped.
    assert!(enforce
        .stdout
        .contains("  - expression: variables.replicas <= 10\n"));
    assert!(!enforce.stdout.contains("fieldPath"), "{}", enforce.stdout);
    assert!(!enforce.stdout.contains("kind: ValidationRule"));
}

#[test]
fn include_puts_the_policies_before_the_workloads() {
    let out = run_binary(&["render", "--admission-policies=include", RULES, APPS]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let policy = out
        .stdout
        .find("kind: ValidatingAdmissionPolicy\n")
        .expect("a policy");
    let deployment = out.stdout.find("kind: Deployment\n").expect("a deployment");
    assert!(policy < deployment, "{}", out.stdout);
    let without = run_binary(&["render", RULES, APPS]);
    assert!(!without.stdout.contains("ValidatingAdmissionPolicy"));
    // Everything else is the same output.
    let docs = |s: &str| -> BTreeSet<String> {
        s.split("\n---\n")
            .filter(|d| !d.contains("kind: ValidatingAdmissionPolicy"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(docs(&out.stdout), docs(&without.stdout));
}

/// Writes `yaml` (one rule whose validation is `expression`) into a temp file.
fn rule_file(dir: &Path, name: &str, expression: &str) -> String {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!("apiVersion: nixernetes.io/v1alpha1\nkind: ValidationRule\nmetadata: {{name: {name}}}\nspec:\n  match:\n    resourceRules: [{{apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}}]\n  validations:\n    - expression: \"{expression}\"\n  admission: {{export: true}}\n"),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn export_is_refused_for_functions_the_target_lacks() {
    let dir = tempfile::tempdir().unwrap();
    for (name, expression, why) in [
        (
            "abs",
            "math.abs(object.spec.replicas) < 10",
            "math.abs is not in the API server's CEL environment (in no Kubernetes version)",
        ),
        (
            "b64",
            "base64.decode(object.metadata.name).size() > 0",
            "base64.decode is not in the API server's CEL environment",
        ),
        (
            "bind",
            "cel.bind(r, object.spec.replicas, r < 10)",
            "cel.bind is not in the API server's CEL environment",
        ),
    ] {
        let file = rule_file(dir.path(), name, expression);
        let out = run_binary(&[
            "render",
            "--admission-policies=only",
            "--kubernetes-version",
            "1.37",
            &file,
        ]);
        assert_eq!(out.status, 1, "{name}: {}", out.stdout);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        let want = format!(
            ":8: ValidationRule/{name}: spec.validations[0].expression: cannot be exported as a ValidatingAdmissionPolicy for Kubernetes 1.37: {why}"
        );
        assert!(out.stderr.contains(&want), "{name}: {}", out.stderr);
        // Without export asked for, the rule still runs here.
        let local = run_binary(&["render", &file]);
        assert!(
            !local.stderr.contains("cannot be exported"),
            "{}",
            local.stderr
        );
    }
    let file = rule_file(dir.path(), "incl", "[1, 2].includes(1)");
    let old = run_binary(&[
        "render",
        "--admission-policies=only",
        "--kubernetes-version",
        "1.35",
        &file,
    ]);
    assert_eq!(old.status, 1);
    assert!(
        old.stderr.contains("for Kubernetes 1.35: includes (Kubernetes lists v1) is available from Kubernetes 1.37; the target is 1.35"),
        "{}",
        old.stderr
    );
    let new = run_binary(&[
        "render",
        "--admission-policies=only",
        "--kubernetes-version",
        "1.37",
        &file,
    ]);
    assert_eq!(new.status, 0, "{}", new.stderr);
    assert!(new.stdout.contains("[1, 2].includes(1)"));
}

#[test]
fn only_without_an_exported_rule_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(RULES))
        .unwrap()
        .replace("export: true", "export: false");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    let out = run_binary(&["render", "--admission-policies=only", &path, APPS]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("no ValidationRule has spec.admission.export: true"),
        "{}",
        out.stderr
    );
    let include = run_binary(&["render", "--admission-policies=include", &path, APPS]);
    assert_eq!(include.status, 0);
    assert!(
        include
            .stderr
            .contains("warning: admission policies asked for, but no ValidationRule"),
        "{}",
        include.stderr
    );
}

/// `(object, rule, message)` of the error findings of rules in a `check -o json` report; a
/// policy's id and binding note are taken off, so that exported and original compare.
fn verdicts(json: &str) -> BTreeSet<(String, String, String)> {
    let report: serde_json::Value = serde_json::from_str(json).expect("check JSON");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| {
            let id = f["check"].as_str()?.strip_prefix("rule.")?;
            let rule = id.strip_prefix("nixernetes.").unwrap_or(id).to_string();
            let message = f["message"].as_str()?;
            let message = match message.rfind(" (binding ") {
                Some(at) => &message[..at],
                None => message,
            };
            Some((
                f["object"]["name"].as_str()?.to_string(),
                rule,
                message.to_string(),
            ))
        })
        .collect()
}

#[test]
fn exported_policies_give_the_rules_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    // What would be applied: the rendered modules and the plain objects (labels injected).
    let rendered = run_binary(&["render", APPS, PLAIN]);
    assert_eq!(rendered.status, 0, "{}", rendered.stderr);
    let objects = dir.path().join("objects.yaml");
    std::fs::write(&objects, &rendered.stdout).unwrap();
    let policies = run_binary(&["render", "--admission-policies=only", "--enforce", RULES]);
    assert_eq!(policies.status, 0, "{}", policies.stderr);
    let vaps = dir.path().join("policies.yaml");
    std::fs::write(&vaps, &policies.stdout).unwrap();
    let (objects, vaps) = (objects.display().to_string(), vaps.display().to_string());

    let by_rules = run_binary(&["check", "-o", "json", "--rules", RULES, &objects]);
    let by_policies = run_binary(&["check", "-o", "json", &objects, &vaps]);
    let (want, got) = (verdicts(&by_rules.stdout), verdicts(&by_policies.stdout));
    // Two over the limit (one more is exempted, by annotation locally and by the match
    // condition at admission), and no image from elsewhere that is not exempted.
    assert_eq!(
        want.iter()
            .map(|(o, r, _)| format!("{o} {r}"))
            .collect::<Vec<_>>(),
        ["big max-replicas", "search max-replicas"]
    );
    assert_eq!(got, want);
}

#[test]
fn the_setting_reaches_the_krm_function_and_argo_cd() {
    let rules = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(RULES)).unwrap();
    let items: String = rules
        .split("\n---\n")
        .map(|doc| {
            let body: Vec<&str> = doc.lines().filter(|l| !l.starts_with('#')).collect();
            let mut item = String::new();
            for (i, line) in body.iter().enumerate() {
                item.push_str(if i == 0 { "- " } else { "  " });
                item.push_str(line);
                item.push('\n');
            }
            item
        })
        .collect();
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: cfg}}\n  data: {{admissionPolicies: only, enforcement: enforce}}\n"
    );
    let out = run_binary_with(&["fn"], &[], Some(&list));
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert_eq!(
        out.stdout
            .matches("kind: ValidatingAdmissionPolicy\n")
            .count(),
        2,
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout
            .matches("kind: ValidatingAdmissionPolicyBinding\n")
            .count(),
        2
    );
    assert!(!out.stdout.contains("kind: ValidationRule"));

    let argo = run_binary_with(
        &["render", "--argocd", RULES],
        &[
            ("ARGOCD_ENV_ADMISSION_POLICIES", "only"),
            ("ARGOCD_APP_NAME", "shop"),
        ],
        None,
    );
    assert_eq!(argo.status, 0, "{}", argo.stderr);
    assert!(
        argo.stdout.contains("name: nixernetes.shop.max-replicas\n"),
        "{}",
        argo.stdout
    );
    assert!(argo.stdout.contains("nixernetes.io/inventory: shop\n"));
    let bad = run_binary_with(
        &["render", "--argocd", RULES],
        &[("ARGOCD_ENV_ADMISSION_POLICIES", "all")],
        None,
    );
    assert_eq!(bad.status, 1);
    assert!(
        bad.stderr
            .contains("\"all\": expected `none`, `include` or `only`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn rules_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let other = rule_file(dir.path(), "named", "object.metadata.name != 'search'");
    let list = format!(
        "{}:{other}",
        Path::new(env!("CARGO_MANIFEST_DIR")).join(RULES).display()
    );
    let out = run_binary_with(
        &["render", "--enforce", APPS],
        &[("NIXERNETES_RULES", &list)],
        None,
    );
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[rule.max-replicas]:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("error[rule.named]:"), "{}", out.stderr);
    let check = run_binary_with(&["check", PLAIN], &[("NIXERNETES_RULES", &list)], None);
    assert!(
        check.stdout.contains("rule.max-replicas"),
        "{}",
        check.stdout
    );
    // Under Argo CD, from the Application's plugin.env; not a setting, so no warning.
    let argo = run_binary_with(
        &["render", "--argocd", "--enforce", APPS],
        &[("ARGOCD_ENV_NIXERNETES_RULES", RULES)],
        None,
    );
    assert_eq!(argo.status, 1, "{}", argo.stderr);
    assert!(
        argo.stderr.contains("error[rule.max-replicas]:"),
        "{}",
        argo.stderr
    );
    assert!(!argo.stderr.contains("not a setting"), "{}", argo.stderr);
    let missing = run_binary_with(
        &["render", APPS],
        &[("NIXERNETES_RULES", "no/such/rules")],
        None,
    );
    assert_eq!(missing.status, 1);
    assert!(
        missing
            .stderr
            .contains("NIXERNETES_RULES: no/such/rules: no such file or directory"),
        "{}",
        missing.stderr
    );
}
