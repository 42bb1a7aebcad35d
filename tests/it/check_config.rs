//! Check configuration for a whole run: `PlatformDefaults.spec.checks`, `--disable-check` and
//! `--enable-check` (and the KRM ConfigMap's `disableCheck`/`enableCheck`) turn checks off, on
//! or to a severity of their own; every report shows the reason; exemptions still apply.

use crate::common::run_binary_with;
use serde_json::Value;

const PLATFORM: &str = "apiVersion: nixernetes.io/v1alpha1
kind: PlatformDefaults
metadata: {name: platform}
spec:
  checks:
    min-replicas: {enabled: false, reason: the dev cluster has one node}
    image-digest: {severity: error, reason: production runs pinned images only}
    compliance-labels: {enabled: true, reason: every object is owned}
";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27}
";

fn input(deployment: &str) -> String {
    format!("{PLATFORM}---\n{deployment}")
}

fn json_report(args: &[&str], stdin: &str) -> (Value, i32) {
    let mut all = vec!["check", "-", "-o", "json"];
    all.extend(args);
    let out = run_binary_with(&all, &[], Some(stdin));
    let report = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (report, out.status)
}

fn findings<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

#[test]
fn platform_defaults_configure_the_checks_of_a_run() {
    let (report, status) = json_report(&[], &input(DEPLOYMENT));
    // image-digest is an error now, so check fails.
    assert_eq!(status, 1, "{report:#}");
    assert_eq!(
        report["settings"]["checks"]["min-replicas"]["reason"],
        "the dev cluster has one node"
    );
    let min = findings(&report, "min-replicas");
    assert_eq!(min.len(), 1, "only the run's note: {min:#?}");
    assert_eq!(
        min[0]["message"],
        "check min-replicas is off for this run (PlatformDefaults spec.checks.min-replicas): the dev cluster has one node"
    );
    let digest = findings(&report, "image-digest");
    let hit = digest.iter().find(|f| !f["object"].is_null()).unwrap();
    assert_eq!(hit["severity"], "error");
    assert_eq!(hit["configured"], "production runs pinned images only");
    assert!(hit["message"]
        .as_str()
        .unwrap()
        .ends_with("(severity error for this run, PlatformDefaults spec.checks.image-digest: production runs pinned images only)"));
    // compliance-labels does not run without a level, unless it is turned on.
    assert!(findings(&report, "compliance-labels")
        .iter()
        .any(|f| f["severity"] == "warning"));
}

#[test]
fn flags_replace_the_platform_defaults_entry() {
    let (report, status) = json_report(
        &[
            "--enable-check",
            "min-replicas=error: staging, like production",
            "--disable-check",
            "image-digest",
        ],
        &input(DEPLOYMENT),
    );
    assert_eq!(status, 1);
    assert!(findings(&report, "image-digest")
        .iter()
        .all(|f| f["object"].is_null()));
    let note = findings(&report, "image-digest")[0]["message"].clone();
    assert_eq!(
        note,
        "check image-digest is off for this run (--disable-check): no reason given"
    );
    let min = findings(&report, "min-replicas");
    let hit = min.iter().find(|f| !f["object"].is_null()).unwrap();
    assert_eq!(hit["severity"], "error");
    assert_eq!(hit["configured"], "staging, like production");
}

#[test]
fn exemptions_still_apply_to_a_configured_check() {
    let exempted = DEPLOYMENT.replace(
        "metadata: {name: web, namespace: shop}",
        "metadata: {name: web, namespace: shop, annotations: {ignore-check.nixernetes.io/image-digest: built from a tag by CI}}",
    );
    let (report, status) = json_report(&[], &input(&exempted));
    assert_eq!(status, 0, "{report:#}");
    let digest = findings(&report, "image-digest");
    let hit = digest.iter().find(|f| !f["object"].is_null()).unwrap();
    assert_eq!(hit["severity"], "info");
    assert_eq!(hit["exempted"], "built from a tag by CI");
}

#[test]
fn unknown_check_ids_are_errors_that_suggest() {
    let out = run_binary_with(
        &["check", "-", "--disable-check", "min-replica"],
        &[],
        Some(DEPLOYMENT),
    );
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "--disable-check: unknown check \"min-replica\": did you mean `min-replicas`?"
        ),
        "{}",
        out.stderr
    );
    let bad = PLATFORM.replace("image-digest:", "image-digests:");
    let out = run_binary_with(&["render", "-"], &[], Some(&bad));
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains(
        "-:7: PlatformDefaults/platform: spec.checks.image-digests: unknown check \"image-digests\": did you mean `image-digest`?"
    ), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn sarif_and_krm_results_carry_the_reason() {
    let out = run_binary_with(
        &["check", "-", "-o", "sarif"],
        &[],
        Some(&input(DEPLOYMENT)),
    );
    let sarif: Value = serde_json::from_str(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "image-digest"
        && r["level"] == "error"
        && r["properties"]["configured"] == "production runs pinned images only"));
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: cfg}}\n  data:\n    enableCheck: \"image-digest=error: prod pins\"\nitems:\n{}",
        DEPLOYMENT
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 { format!("- {l}\n") } else { format!("  {l}\n") })
            .collect::<String>()
    );
    let out = run_binary_with(&["fn"], &[], Some(&list));
    let rl = nixernetes::yaml::parse_one(&out.stdout).expect("the ResourceList parses");
    let results = rl["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["tags"]["check"] == "image-digest"
        && r["tags"]["configured"] == "prod pins"
        && r["resourceRef"]["name"] == "web"));
}
