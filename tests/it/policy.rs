//! Policy fixtures: `tests/policy/<check-id>/{fail,pass}.yaml`, checked through the real binary
//! at level `medium` (restricted Pod Security, compliance labels required). The failing fixture
//! must raise that check, the passing one must not; the text report of both is a golden file
//! (`fail.out`, `pass.out`; `UPDATE_GOLDEN=1` rewrites them). Also: the SARIF report validates
//! against the SARIF 2.1.0 schema, KRM validator mode leaves items unchanged, and exemptions.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .arg("check")
        .args(args)
        .current_dir(root())
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        out.status.code().unwrap_or(-1),
    )
}

fn fired(path: &Path) -> Vec<String> {
    let p = path.to_string_lossy();
    let (out, code) = check(&["-o", "json", "--level", "medium", &p]);
    assert!(code == 0 || code == 1, "{p}: exit {code}\n{out}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json report");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["exempted"].is_null())
        .filter_map(|f| f["check"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_check_has_a_failing_and_a_passing_fixture() {
    let dir = root().join("tests/policy");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/policy")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let ids: Vec<String> = cases
        .iter()
        .map(|c| c.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for (case, id) in cases.iter().zip(&ids) {
        for (file, should_fire) in [("fail.yaml", true), ("pass.yaml", false)] {
            let path = case.join(file);
            if !path.is_file() {
                failures.push(format!("{id}: {file} is missing"));
                continue;
            }
            let hit = fired(&path).iter().any(|c| c == id);
            if hit != should_fire {
                failures.push(format!(
                    "{id}: {file} {} the check",
                    if hit { "raises" } else { "does not raise" }
                ));
            }
            let rel = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let (text, _) = check(&["--level", "medium", &rel]);
            let golden = case.join(file.replace(".yaml", ".out"));
            if update {
                std::fs::write(&golden, &text).expect("write golden");
            } else if std::fs::read_to_string(&golden).unwrap_or_default() != text {
                failures.push(format!("{id}: {} differs:\n{text}", golden.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_registered_check_has_fixtures() {
    let (out, _) = check(&["-o", "sarif", "tests/fixtures/passthrough.yaml"]);
    assert!(out.contains("\"version\": \"2.1.0\""));
    let listing = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .args(["check", "--list"])
        .output()
        .expect("list");
    let text = String::from_utf8_lossy(&listing.stdout);
    let mut missing = Vec::new();
    for line in text.lines() {
        let id = line.split_whitespace().next().unwrap_or("");
        if !id.is_empty() && !root().join("tests/policy").join(id).is_dir() {
            missing.push(id.to_string());
        }
    }
    assert!(
        text.lines().count() >= 15,
        "check --list lists the checks:\n{text}"
    );
    assert!(missing.is_empty(), "checks without fixtures: {missing:?}");
}

#[test]
fn sarif_report_validates_against_the_sarif_schema() {
    let schemas = std::env::var("NIXERNETES_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("../shared/schemas"));
    let schema_path = schemas.join("sarif/sarif-schema-2.1.0.json");
    if !schema_path.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "SARIF schema missing at {}",
            schema_path.display()
        );
        eprintln!(
            "SKIPPED: SARIF schema not found at {}; set NIXERNETES_SCHEMAS",
            schema_path.display()
        );
        return;
    }
    // One pattern (`run.language`) has a lone `]`: a literal for Python's engine, an error for
    // Rust's. Escape it so both read it the same way (../shared/schemas/README.md mentions it).
    let text = std::fs::read_to_string(&schema_path)
        .expect("read schema")
        .replace("[a-zA-Z]{2}]?$", "[a-zA-Z]{2}\\\\]?$");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema json");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("compile SARIF schema");
    for input in [
        "tests/fixtures/passthrough.yaml",
        "tests/policy",
        // A directory is one platform: each example folder is checked as one.
        "examples/platform",
        "examples/kubernetes-core",
        "examples/database-management",
        "examples/event-processing",
    ] {
        let (out, _) = check(&["-o", "sarif", "--level", "high", input]);
        let report: serde_json::Value = serde_json::from_str(&out).expect("sarif json");
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{input}: SARIF schema errors:\n{}",
            errors.join("\n")
        );
        let results = report["runs"][0]["results"].as_array().expect("results");
        for r in results {
            let line = &r["locations"][0]["physicalLocation"]["region"]["startLine"];
            assert!(line.as_u64().is_some_and(|l| l >= 1), "{r}");
        }
    }
    // An error in what a user kind's template made: located at the instance, the template node
    // a related location with its id and message (as SARIF 2.1.0 asks of one).
    let (out, code) = check(&[
        "-o",
        "sarif",
        "--kinds",
        "tests/userkinds/kinds.yaml",
        "tests/userkinds/site-bad.yaml",
    ]);
    assert_eq!(code, 2, "input that cannot be expanded");
    let report: serde_json::Value = serde_json::from_str(&out).expect("sarif json");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
    let result = &report["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "invalid-input");
    assert_eq!(
        result["locations"][0]["physicalLocation"],
        serde_json::json!({"artifactLocation": {"uri": "tests/userkinds/site-bad.yaml"}, "region": {"startLine": 1}})
    );
    assert_eq!(
        result["relatedLocations"],
        serde_json::json!([{
            "id": 1,
            "physicalLocation": {"artifactLocation": {"uri": "tests/userkinds/kinds.yaml"}, "region": {"startLine": 71}},
            "message": {"text": "produced by KindDefinition/sites.platform.acme.io spec.resources[0].template.spec.ports[0].port (id web)"},
        }])
    );
}

#[test]
fn a_hardened_manifest_set_has_no_findings_even_at_level_restricted() {
    let (out, code) = check(&[
        "-o",
        "json",
        "--level",
        "restricted",
        "tests/fixtures/hardened.yaml",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["findings"], serde_json::json!([]), "{out}");
    assert_eq!(code, 0);
    assert!(report["summary"]["objects"].as_u64().unwrap_or(0) >= 4);
}

#[test]
fn exit_codes_follow_fail_on() {
    let bad = "tests/fixtures/bad-deployment.yaml";
    assert_eq!(check(&[bad]).1, 1, "errors fail by default");
    assert_eq!(
        check(&["--fail-on", "warning", "tests/fixtures/passthrough.yaml"]).1,
        1
    );
    assert_eq!(
        check(&["tests/fixtures/passthrough.yaml"]).1,
        0,
        "warnings alone pass by default"
    );
    assert_eq!(
        check(&["tests/fixtures/bad/malformed.yaml"]).1,
        2,
        "unreadable input"
    );
    assert_eq!(check(&[]).1, 2, "nothing to check");
}

#[test]
fn valid_kubernetes_that_looks_wrong_is_a_warning_at_most() {
    // Undeclared numeric ports and selectors in a namespace with no rendered workload are
    // valid (upstream installs have them); a port name that names nothing is not.
    let file = "tests/fixtures/upstream/ingress-nginx-shape.yaml";
    let (out, code) = check(&["-o", "json", file]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json report");
    let of = |check: &str| -> Vec<(String, String)> {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["check"] == check)
            .map(|f| {
                let field = f["field"].as_str().unwrap_or("").to_string();
                (field, f["severity"].as_str().unwrap_or("").to_string())
            })
            .collect()
    };
    let probes = of("probe-port-valid");
    assert_eq!(probes.len(), 2, "{out}");
    assert!(probes.iter().all(|(_, s)| s == "warning"), "{probes:?}");
    let selectors = of("selector-consistency");
    let warning = |field: &str| selectors.contains(&(field.to_string(), "warning".to_string()));
    assert!(warning("spec.ports[0].targetPort"), "{selectors:?}");
    assert!(warning("spec.selector"), "{selectors:?}");
    assert_eq!(
        selectors.len(),
        3,
        "metrics port, admission Service, PDB: {selectors:?}"
    );
    assert!(
        selectors.iter().all(|(_, s)| s == "warning"),
        "{selectors:?}"
    );
    assert_eq!(code, 0, "no errors: {out}");
    // The same Service next to its workload, targeting a name no container declares: error.
    let named = file.replace(".yaml", "-named.yaml");
    let text = std::fs::read_to_string(root().join(file))
        .unwrap()
        .replace("targetPort: 10254", "targetPort: metrics");
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(Path::new(&named).file_name().unwrap());
    std::fs::write(&path, text).unwrap();
    let (out, code) = check(&["-o", "json", &path.to_string_lossy()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("targetPort \\\"metrics\\\" is not the name of a containerPort"),
        "{out}"
    );
}

#[test]
fn the_platform_checks_have_sarif_rules_at_their_default_level() {
    for (id, level) in [
        ("pdb-blocks-eviction", "error"),
        ("exposed-service", "warning"),
        ("ingress-tls", "warning"),
        ("secret-in-configmap", "warning"),
        ("dangling-ingress-backend", "error"),
        ("dangling-route-backend", "error"),
        ("dangling-env-ref", "error"),
        ("rollout-strategy", "warning"),
        ("cronjob-deadline", "warning"),
        ("anti-affinity", "warning"),
        ("job-restart-policy", "error"),
        ("port-name", "error"),
    ] {
        let fixture = format!("tests/policy/{id}/fail.yaml");
        let (out, _) = check(&["-o", "sarif", "--level", "medium", &fixture]);
        let report: serde_json::Value = serde_json::from_str(&out).expect("sarif json");
        let run = &report["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let rule = rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id}: no SARIF rule in {out}"));
        assert_eq!(rule["defaultConfiguration"]["level"], level, "{id}");
        assert!(
            rule["help"]["text"]
                .as_str()
                .is_some_and(|t| t.contains(&format!("ignore-check.nixernetes.io/{id}"))),
            "{rule}"
        );
        let results: Vec<&serde_json::Value> = run["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|r| r["ruleId"] == id)
            .collect();
        assert!(!results.is_empty(), "{id}: no result");
        for r in results {
            assert_eq!(r["level"], level, "{id}: {r}");
        }
    }
}

#[test]
fn an_exemption_annotation_silences_a_platform_check() {
    let text = std::fs::read_to_string(root().join("tests/policy/secret-in-configmap/fail.yaml"))
        .expect("fixture");
    let exempted = text.replace(
        "  name: api-settings\n  namespace: shop\n",
        "  name: api-settings\n  namespace: shop\n  annotations:\n    ignore-check.nixernetes.io/secret-in-configmap: \"test credentials of the local stack\"\n",
    );
    assert_ne!(text, exempted);
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .args(["check", "-o", "json", "--level", "medium", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(exempted.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run check");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == "secret-in-configmap")
        .collect();
    assert_eq!(findings.len(), 2, "{report}");
    for f in findings {
        assert_eq!(f["severity"], "info");
        assert_eq!(f["exempted"], "test credentials of the local stack");
    }
    assert_eq!(out.status.code(), Some(0));
}
