//! `-l/--selector` through the real binary: it filters what `render`, `check` and `diff` act
//! on by a kubectl label selector, matched against the final labels, and never adds a label
//! (that is `--label`).

use crate::common::cluster::Cluster;
use crate::common::{run_binary, run_binary_with, Outcome};
use serde_json::Value;

/// Four ConfigMaps: `a` tier=web env=prod, `b` tier=db env=prod, `c` env=dev, `d` no labels.
const INPUT: &str = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: shop, labels: {tier: web, env: prod}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: shop, labels: {tier: db, env: prod}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: shop, labels: {env: dev}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: d, namespace: shop}
data: {k: v}
";

fn render(args: &[&str], stdin: &str) -> Outcome {
    let mut all = vec!["render", "-"];
    all.extend_from_slice(args);
    run_binary_with(&all, &[], Some(stdin))
}

/// The names of the objects of a YAML stream, in order.
fn names(stream: &str) -> Vec<String> {
    nixernetes::yaml::parse_stream(stream)
        .expect("yaml output")
        .into_iter()
        .map(|d| d.value["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn render_filters_by_every_operator() {
    for (selector, want) in [
        ("tier=web", &["a"][..]),
        ("tier==web", &["a"]),
        ("tier!=web", &["b", "c", "d"]),
        ("tier in (web,db)", &["a", "b"]),
        ("tier notin (web)", &["b", "c", "d"]),
        ("tier", &["a", "b"]),
        ("!tier", &["c", "d"]),
        ("env=prod,tier!=web", &["b"]),
        ("env in (prod, dev), !tier", &["c"]),
        ("", &["a", "b", "c", "d"]),
    ] {
        let out = render(&["-l", selector], INPUT);
        assert_eq!(out.status, 0, "{selector}: {}", out.stderr);
        assert_eq!(names(&out.stdout), want, "-l {selector:?}");
        // The long form is the same flag.
        let long = render(&[&format!("--selector={selector}")], INPUT);
        assert_eq!(long.stdout, out.stdout, "--selector {selector:?}");
    }
}

/// Matching is against the labels the output carries: injected ones included.
#[test]
fn render_matches_the_final_labels() {
    let out = render(
        &[
            "--label",
            "team=pay",
            "--inventory",
            "shop",
            "-l",
            "team=pay",
        ],
        INPUT,
    );
    assert_eq!(names(&out.stdout), ["a", "b", "c", "d"], "{}", out.stderr);
    let out = render(
        &[
            "--inventory",
            "shop",
            "-l",
            "nixernetes.io/inventory=shop,!tier",
        ],
        INPUT,
    );
    assert_eq!(names(&out.stdout), ["c", "d"], "{}", out.stderr);
    let out = render(&["-l", "app.kubernetes.io/managed-by=nixernetes"], INPUT);
    assert_eq!(names(&out.stdout).len(), 4, "{}", out.stderr);
    // A module resource's children carry the labels the module gives them.
    let out = run_binary(&[
        "render",
        "examples/kubernetes-core/web-app.yaml",
        "-l",
        "app.kubernetes.io/name=shop-frontend,nixernetes.io/module=core",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let kinds: Vec<String> = nixernetes::yaml::parse_stream(&out.stdout)
        .unwrap()
        .into_iter()
        .map(|d| d.value["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"Deployment".to_string()), "{kinds:?}");
    assert!(!kinds.contains(&"NetworkPolicy".to_string()), "{kinds:?}");
}

/// `-l` used to be `--label`: now it never adds a label, anywhere.
#[test]
fn l_never_adds_a_label() {
    let all = render(&[], INPUT);
    let docs: Vec<&str> = all.stdout.split("\n---\n").collect();
    let selected = render(&["-l", "tier=web"], INPUT);
    assert_eq!(selected.stdout.trim_end(), docs[0].trim_end());
    // A module resource's objects and pod templates: the same bytes as without -l.
    let web = ["render", "examples/kubernetes-core/web-app.yaml"];
    let plain = run_binary(&web);
    let filtered = run_binary(&[web[0], web[1], "-l", "app.kubernetes.io/managed-by"]);
    assert_eq!(filtered.stdout, plain.stdout);
    assert!(!plain.stdout.is_empty());
    // A pod template without the label it is selected by stays without it (the old `-l`
    // stamped it there, rolling every pod).
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, labels: {tier: web}}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx:1.27}]}\n";
    let plain = render(&[], deployment);
    let filtered = render(&["-l", "tier=web"], deployment);
    assert_eq!(filtered.stdout, plain.stdout);
    let template = &nixernetes::yaml::parse_one(&filtered.stdout).unwrap()["spec"]["template"];
    assert!(
        template["metadata"]["labels"].get("tier").is_none(),
        "{template}"
    );
    // Selecting on a label nobody has selects nothing (and says so), adding nothing.
    let out = render(&["-l", "tier=frontend"], INPUT);
    assert_eq!((out.status, out.stdout.as_str()), (0, ""));
    assert!(
        out.stderr.contains(
            "no object matches the selector \"tier=frontend\" (4 rendered); -l/--selector filters the output, --label KEY=VALUE adds labels"
        ),
        "{}",
        out.stderr
    );
    // `--label` adds, `-l` selects by what is added: a value the input wrote wins over
    // `--label`, so `a` and `b` keep their tier and are left out.
    let out = render(&["--label", "tier=frontend", "-l", "tier=frontend"], INPUT);
    assert_eq!(names(&out.stdout), ["c", "d"]);
}

#[test]
fn parse_errors_are_usage_errors() {
    for sub in ["render", "check", "diff"] {
        for (selector, want) in [
            (
                "tier in web",
                "'tier in' takes a parenthesised list of values, as in 'tier in (a,b)': expected '(', found 'web'",
            ),
            ("tier=web,", "expected a label key, found the end"),
            (
                "replicas>2",
                "'replicas > …': the integer comparisons '>' and '<' are not supported",
            ),
            ("tier=-web", "invalid label value \"-web\""),
        ] {
            let out = run_binary_with(&[sub, "-", "-l", selector], &[], Some(INPUT));
            assert_eq!(out.status, 2, "{sub} -l {selector:?}: {}", out.stderr);
            assert!(out.stdout.is_empty(), "{sub}: {}", out.stdout);
            let head = format!("error: invalid value '{selector}' for '--selector <SELECTOR>': ");
            assert!(
                out.stderr.starts_with(&format!("{head}{want}")),
                "{sub} -l {selector:?}: {}",
                out.stderr
            );
        }
    }
    let out = render(&["-l", "a=1", "-l", "b=2"], INPUT);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("cannot be used multiple times"),
        "{}",
        out.stderr
    );
}

/// Under Argo CD a filtered output would prune the rest of the application: refused.
#[test]
fn argocd_refuses_a_selector() {
    let out = run_binary(&[
        "render",
        "--argocd",
        "tests/fixtures/passthrough.yaml",
        "-l",
        "a=b",
    ]);
    assert_eq!(out.status, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("-l/--selector cannot be used with --argocd"),
        "{}",
        out.stderr
    );
}

/// A Service (tier=web) whose pod (tier=db) does not name the port it targets.
const SERVICE_AND_POD: &str = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {tier: web}}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web, tier: db}}
spec: {containers: [{name: c, image: nginx:latest}]}
";

fn check_json(selector: &str) -> (i32, Value) {
    let out = run_binary_with(
        &["check", "-", "-o", "json", "-l", selector],
        &[],
        Some(SERVICE_AND_POD),
    );
    let report = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (out.status, report)
}

/// `check -l` reports on the selected objects only, but the checks see the whole input: the
/// Service is judged against the pod it selects, which the selector leaves out.
#[test]
fn check_reports_the_selected_objects_of_the_whole_set() {
    let (status, report) = check_json("tier=web");
    assert_eq!(status, 1);
    assert_eq!(report["summary"]["objects"], 1);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["object"]["kind"], "Service", "{f}");
    }
    assert!(
        findings
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains(
                "\"http\" is not the name of a containerPort of the pods it selects (Pod \"web\")"
            )),
        "{findings:?}"
    );
    let (_, report) = check_json("tier=db");
    assert_eq!(report["summary"]["objects"], 1);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["check"] == "seccomp-profile"));
    assert!(findings.iter().all(|f| f["object"]["kind"] == "Pod"));
    // Nothing selected: nothing to report, exit 0, and a note.
    let out = run_binary_with(
        &["check", "-", "-l", "tier=api"],
        &[],
        Some(SERVICE_AND_POD),
    );
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert!(out.stdout.contains("0 objects checked"), "{}", out.stdout);
    assert!(out
        .stderr
        .contains("no object matches the selector \"tier=api\" (2 rendered)"));
    // Every operator selects in check as in render.
    for (selector, kinds) in [
        ("tier!=web", &["Pod"][..]),
        ("app in (web)", &["Pod"]),
        ("app notin (web)", &["Service"]),
        ("app", &["Pod"]),
        ("!app", &["Service"]),
        ("tier==web", &["Service"]),
    ] {
        let (_, report) = check_json(selector);
        assert_eq!(report["summary"]["objects"], 1, "{selector}");
        let mut seen: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["object"]["kind"].as_str().unwrap())
            .collect();
        seen.dedup();
        assert_eq!(seen, kinds, "{selector}");
    }
}

const INVENTORY: &str = "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {name: p}\nspec: {inventory: shop}\n---\n";

fn config_map(name: &str, tier: &str, data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default, labels: {{tier: {tier}}}}}\ndata: {{k: {data}}}\n")
}

fn diff_json(c: &Cluster, input: &std::path::Path, args: &[&str]) -> (i32, Vec<String>) {
    let mut all = vec![input.to_str().unwrap(), "-o", "json"];
    all.extend_from_slice(args);
    let out = crate::diff::ours(c, &all, &[]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let ops = report["objects"].as_array().unwrap().iter();
    let ops = ops.map(|o| {
        format!(
            "{} {}",
            o["op"].as_str().unwrap(),
            o["name"].as_str().unwrap()
        )
    });
    (out.status.code().unwrap(), ops.collect())
}

/// `diff -l` diffs the selected objects, and with `--prune` lists only the selected objects of
/// the inventory that left the input (as `kubectl apply --prune -l`); what the selector leaves
/// out of the input is still rendered, so never a prune candidate, even when its live copy
/// matches (`moved` changes tier from web to db).
#[test]
fn diff_acts_on_the_selected_objects_and_prune_candidates() {
    let c = Cluster::new();
    let before = format!(
        "{INVENTORY}{}---\n{}---\n{}---\n{}---\n{}",
        config_map("web", "web", "old"),
        config_map("db", "db", "old"),
        config_map("moved", "web", "old"),
        config_map("gone-web", "web", "old"),
        config_map("gone-db", "db", "old"),
    );
    crate::diff::seed_rendered(&c, "nixernetes", "before", &before);
    let now = format!(
        "{INVENTORY}{}---\n{}---\n{}",
        config_map("web", "web", "new"),
        config_map("db", "db", "new"),
        config_map("moved", "db", "new"),
    );
    let src = c.file("now.yaml", &now);
    let (status, ops) = diff_json(&c, &src, &["--prune"]);
    assert_eq!(status, 1);
    assert_eq!(
        ops,
        [
            "update db",
            "update moved",
            "update web",
            "create shop",
            "delete gone-db",
            "delete gone-web"
        ]
    );
    // The ApplySet parent (the seed made none) is written whatever the selector, as apply
    // writes it.
    let (status, ops) = diff_json(&c, &src, &["--prune", "-l", "tier=web"]);
    assert_eq!(status, 1);
    assert_eq!(ops, ["update web", "create shop", "delete gone-web"]);
    let (_, ops) = diff_json(&c, &src, &["--prune", "-l", "tier notin (web)"]);
    assert_eq!(
        ops,
        ["update db", "update moved", "create shop", "delete gone-db"]
    );
    let (_, ops) = diff_json(&c, &src, &["-l", "tier in (db)"]);
    assert_eq!(ops, ["update db", "update moved", "create shop"]);
    let (_, ops) = diff_json(&c, &src, &["-l", "!tier"]);
    assert_eq!(ops, ["create shop"]);
    // Nothing selected, nothing to prune: only the parent.
    let (status, ops) = diff_json(&c, &src, &["--prune", "-l", "tier=api"]);
    assert_eq!((status, ops), (1, vec!["create shop".to_string()]));
}
