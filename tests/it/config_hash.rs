//! Config content hashes (`nixernetes.io/config-hash`): a changed config value changes the hash
//! of exactly the pod templates that read it, through the real binary.

use crate::common;
use nixernetes::resource::Resource;

const FIXTURE: &str = "tests/fixtures/config-hash.yaml";
const ANNOTATION: &str = "nixernetes.io/config-hash";

/// The hash of every Deployment of `text` rendered with `args`, by name (`None`: no hash).
fn hashes(text: &str, args: &[&str]) -> Vec<(String, Option<String>)> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("input.yaml");
    std::fs::write(&path, text).expect("write");
    let mut all = vec!["render", path.to_str().unwrap()];
    all.extend(args);
    let out = common::run_binary(&all);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let objects: Vec<Resource> = nixernetes::source::parse_text(&out.stdout, "out").unwrap();
    let mut found: Vec<(String, Option<String>)> = objects
        .iter()
        .filter(|o| o.kind() == "Deployment")
        .map(|o| {
            let h = o.object["spec"]["template"]["metadata"]["annotations"][ANNOTATION]
                .as_str()
                .map(str::to_string);
            (o.name().to_string(), h)
        })
        .collect();
    found.sort();
    found
}

/// The Deployments whose hash differs between `a` and `b`.
fn changed(a: &[(String, Option<String>)], b: &[(String, Option<String>)]) -> Vec<String> {
    a.iter()
        .zip(b)
        .inspect(|(x, y)| assert_eq!(x.0, y.0))
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, _)| x.0.clone())
        .collect()
}

#[test]
fn changing_one_config_value_rolls_only_the_pods_that_read_it() {
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))
            .expect("fixture");
    let fix = ["--fix"];
    let before = hashes(&text, &fix);
    for (name, h) in &before {
        let h = h
            .as_deref()
            .unwrap_or_else(|| panic!("{name} has no hash: {before:?}"));
        assert!(
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}: {h}"
        );
    }
    // The same input, the same hashes.
    assert_eq!(hashes(&text, &fix), before);
    // A key only `web` reads (all of the AppConfig): only `web` rolls.
    let flag = text.replace(
        "FEATURE_CHECKOUT_V2: \"true\"",
        "FEATURE_CHECKOUT_V2: \"false\"",
    );
    assert_eq!(changed(&before, &hashes(&flag, &fix)), ["web"]);
    // The key `legacy` reads too.
    let currency = text.replace("CURRENCY: EUR", "CURRENCY: USD");
    assert_eq!(
        changed(&before, &hashes(&currency, &fix)),
        ["legacy", "web"]
    );
    // The unrelated ConfigMap: its readers only.
    let color = text.replace("COLOR: blue", "COLOR: red");
    assert_eq!(changed(&before, &hashes(&color, &fix)), ["other", "worker"]);
}

#[test]
fn a_plain_deployment_gets_it_with_fix_and_platform_defaults_turn_it_off() {
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))
            .expect("fixture");
    let plain = hashes(&text, &[]);
    let legacy = plain.iter().find(|(n, _)| n == "legacy").unwrap();
    assert_eq!(
        legacy.1, None,
        "a pass-through object is changed with --fix only"
    );
    assert!(plain
        .iter()
        .filter(|(n, _)| n != "legacy")
        .all(|(_, h)| h.is_some()));
    let off = format!(
        "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {{name: p}}\nspec: {{configHash: false}}\n---\n{text}"
    );
    assert!(hashes(&off, &["--fix"]).iter().all(|(_, h)| h.is_none()));
}

#[test]
fn each_hash_is_reported_as_a_fix_naming_what_was_read_never_a_secret_value() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: a}\nstringData: {password: hunter2, other: x}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: a}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/app:1.0.0\n          env: [{name: P, valueFrom: {secretKeyRef: {name: creds, key: password}}}]\n";
    let out = common::run_binary_with(&["render", "-", "--fix", "-v"], &[], Some(text));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains(ANNOTATION))
        .unwrap_or_else(|| panic!("no finding: {}", out.stderr));
    assert!(
        line.contains("info:") && line.contains("fixed: set to"),
        "{line}"
    );
    assert!(line.contains("Secret creds (keys password)"), "{line}");
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
}
