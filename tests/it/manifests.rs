//! What running public manifests through `render`, `check` and `fn` found (issue 15, item 7),
//! kept as regression tests through the binary: lists of any group, labels and annotations that
//! are not maps of strings, StatefulSet claim templates, and `fn` reading items as `render`
//! reads documents.

use crate::common::{self, kubectl_available, run_binary, run_binary_with};
use serde_json::{json, Value};
use std::process::Command;

/// Renders `text` from stdin with `args` after `render -`.
fn render(text: &str, args: &[&str]) -> common::Outcome {
    let mut all = vec!["render", "-"];
    all.extend_from_slice(args);
    run_binary_with(&all, &[], Some(text))
}

/// The objects of a YAML stream, each as a value.
fn objects(stream: &str) -> Vec<Value> {
    nixernetes::yaml::parse_stream(stream)
        .expect("a YAML stream")
        .into_iter()
        .map(|d| d.value)
        .collect()
}

const ROLE_LIST: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleList
metadata: {}
items:
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata:
      name: reader
      namespace: shop
    rules: []
  # Written without apiVersion and kind: kubectl reads a Role of the list's group.
  - metadata:
      name: writer
      namespace: shop
    rules: []
  - apiVersion: v1
    kind: Pod
    metadata:
      name: web
      namespace: shop
    spec:
      containers:
        - name: web
          image: nginx:latest
";

#[test]
fn lists_of_any_group_stand_for_their_items() {
    let out = render(ROLE_LIST, &["--enforcement=off"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let objects = objects(&out.stdout);
    let names: Vec<(&str, &str, &str)> = objects
        .iter()
        .map(|o| {
            (
                o["apiVersion"].as_str().unwrap(),
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("rbac.authorization.k8s.io/v1", "Role", "reader"),
            ("rbac.authorization.k8s.io/v1", "Role", "writer"),
            ("v1", "Pod", "web"),
        ],
        "the items, in apply order, and never the list itself:\n{}",
        out.stdout
    );
    for o in &objects {
        assert_eq!(
            o["metadata"]["labels"]["app.kubernetes.io/managed-by"], "nixernetes",
            "every item is labelled: {o}"
        );
    }
    // The items are checked, and the findings name the item's lines.
    let check = run_binary_with(&["check", "-"], &[], Some(ROLE_LIST));
    assert_eq!(check.status, 1, "the latest tag fails:\n{}", check.stdout);
    let image = check
        .stdout
        .lines()
        .find(|l| l.contains("image-tag-pinned"))
        .unwrap_or_else(|| panic!("no image finding:\n{}", check.stdout));
    assert!(
        image.trim_start().starts_with("24 "),
        "the finding is on the image's line (24): {image}"
    );
}

#[test]
fn kubectl_reads_the_rendered_json_of_a_role_list() {
    if !kubectl_available() {
        return;
    }
    let out = render(ROLE_LIST, &["--enforcement=off", "-o", "json"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let tmp = tempfile::tempdir().expect("tmp");
    let (input, rendered) = (tmp.path().join("in.yaml"), tmp.path().join("out.json"));
    std::fs::write(&input, ROLE_LIST).expect("write");
    std::fs::write(&rendered, &out.stdout).expect("write");
    let read = |file: &std::path::Path| -> Vec<Value> {
        let out = Command::new("kubectl")
            .args(["label", "--local", "-o", "json", "read=yes", "-f"])
            .arg(file)
            .output()
            .expect("kubectl");
        assert!(
            out.status.success(),
            "kubectl refuses {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut objects: Vec<Value> = serde_json::Deserializer::from_slice(&out.stdout)
            .into_iter::<Value>()
            .map(|v| v.expect("JSON"))
            .flat_map(|v| match v.get("items") {
                Some(Value::Array(items)) => items.clone(),
                _ => vec![v],
            })
            .collect();
        objects.sort_by_key(|o| o["metadata"]["name"].to_string());
        objects
    };
    let (ours, theirs) = (read(&rendered), read(&input));
    assert_eq!(ours.len(), 3, "kubectl reads three objects from our JSON");
    // What kubectl reads from our output is what it reads from the input, plus our metadata.
    for (mut o, t) in ours.into_iter().zip(theirs) {
        let meta = o["metadata"].as_object_mut().unwrap();
        meta.remove("annotations");
        let labels = meta["labels"].as_object_mut().unwrap();
        labels.retain(|k, _| k == "read");
        assert_eq!(o, t);
    }
}

#[test]
fn what_kubectl_refuses_in_a_list_is_an_error_at_its_line() {
    let cases = [
        (
            "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: List\n    items:\n      - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n",
            "-:6: items[0].items: a list inside a list",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nitems: null\n",
            "-:5: items: items is null",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nitems: {a: b}\n",
            "-:5: items: items must be a list of objects, found a mapping",
        ),
        (
            "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n  - rules: []\n",
            "-:6: items[1].apiVersion: missing apiVersion and kind",
        ),
    ];
    for (text, expected) in cases {
        let out = render(text, &[]);
        assert_eq!(out.status, 1, "{text}: {}", out.stdout);
        assert!(out.stdout.is_empty(), "no partial output for {text}");
        assert!(
            out.stderr.contains(&format!("error: {expected}")),
            "{text}: expected {expected:?} in:\n{}",
            out.stderr
        );
    }
}

const BAD_METADATA: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: listed
  labels: [team, web]
  annotations: just text
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unquoted
  labels:
    tier: 1
    canary: true
    empty:
  annotations:
    replicas: 3
";

#[test]
fn labels_and_annotations_that_are_not_maps_of_strings_are_errors_at_their_lines() {
    let expected = [
        "error: -:5: metadata.labels: metadata.labels must be a mapping of keys to string values, found a list",
        "error: -:6: metadata.annotations: metadata.annotations must be a mapping of keys to string values, found a string",
        "error: -:13: metadata.labels.tier: label value must be a string, found a number; quote it",
        "error: -:14: metadata.labels.canary: label value must be a string, found a boolean; quote it",
        "error: -:17: metadata.annotations.replicas: annotation value must be a string, found a number; quote it",
    ];
    let out = render(BAD_METADATA, &[]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(out.stdout.is_empty(), "no partial output");
    for e in expected {
        assert!(out.stderr.contains(e), "{e:?} not in:\n{}", out.stderr);
    }
    // A label written empty (null) is the empty string to the API server: accepted.
    assert!(!out.stderr.contains("labels.empty"), "{}", out.stderr);
    // check reports them as input it cannot read (exit 2), the same way.
    let out = run_binary_with(&["check", "-"], &[], Some(BAD_METADATA));
    assert_eq!(out.status, 2, "{}{}", out.stdout, out.stderr);
    for e in expected {
        assert!(
            out.stderr.contains(e),
            "check: {e:?} not in:\n{}",
            out.stderr
        );
    }
    // Inside a list, the path names the item.
    let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: a\n      labels: {count: 5}\n";
    let out = render(list, &[]);
    assert!(
        out.stderr
            .contains("error: -:8: items[0].metadata.labels.count: label value must be a string"),
        "{}",
        out.stderr
    );
    // Module resources' envelopes are held to the same rule.
    let module = "apiVersion: nixernetes.io/v1alpha1\nkind: WebApp\nmetadata:\n  name: web\n  labels: [a]\nspec: {image: nginx:1.27}\n";
    let out = render(module, &[]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("metadata.labels: expected a mapping, found a list"),
        "{}",
        out.stderr
    );
}

const STATEFUL_SET: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: data
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: postgres:16.4
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: logs
        labels: {app: db}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
    - spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
";

/// Settings that change between renders: labels, an inventory.
const SETTINGS: [&str; 5] = [
    "--enforcement=off",
    "--label",
    "team=web",
    "--inventory",
    "shop",
];

#[test]
fn claim_templates_of_a_pass_through_stateful_set_are_never_changed() {
    let input = &objects(STATEFUL_SET)[0];
    let out = render(STATEFUL_SET, &SETTINGS);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let rendered = &objects(&out.stdout)[0];
    assert_eq!(
        rendered["spec"]["volumeClaimTemplates"], input["spec"]["volumeClaimTemplates"],
        "the API server refuses any change to them on a live StatefulSet"
    );
    // The pod template still gets the labels.
    assert_eq!(
        rendered["spec"]["template"]["metadata"]["labels"]["team"],
        "web"
    );
}

#[test]
fn claim_templates_of_a_module_stateful_set_get_only_release_stable_labels() {
    let mut args = vec!["render", "examples/kubernetes-core/stateful-service.yaml"];
    args.extend(SETTINGS);
    let out = run_binary(&args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let objects = objects(&out.stdout);
    let sts = objects
        .iter()
        .find(|o| o["kind"] == "StatefulSet")
        .expect("a StatefulSet");
    let claims = sts["spec"]["volumeClaimTemplates"].as_array().unwrap();
    assert!(!claims.is_empty());
    for claim in claims {
        assert_eq!(
            claim["metadata"]["labels"],
            json!({
                "app.kubernetes.io/managed-by": "nixernetes",
                "nixernetes.io/framework": "kubernetes-core",
                "nixernetes.io/module": "core",
            }),
            "not the version, the inventory or user labels, which may change: {claim}"
        );
    }
    assert_eq!(sts["metadata"]["labels"]["team"], "web");
    assert_eq!(
        sts["spec"]["template"]["metadata"]["labels"]["nixernetes.io/inventory"],
        "shop"
    );
}

/// A ResourceList of `items` (JSON text).
fn resource_list(items: Value) -> String {
    json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items})
        .to_string()
}

#[test]
fn fn_reads_items_as_render_reads_documents_and_gives_them_back_unchanged() {
    let items = json!([
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fine"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 5,
            "annotations": {"config.kubernetes.io/path": "cm.yaml", "config.kubernetes.io/index": "1"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "labelled", "labels": ["a"]}},
        "text",
        {"apiVersion": "v1", "kind": "List", "items": []},
    ]);
    let out = run_binary_with(&["fn"], &[], Some(&resource_list(items.clone())));
    assert_eq!(out.status, 1, "{}", out.stdout);
    let list = nixernetes::yaml::parse_one(&out.stdout).expect("a ResourceList");
    assert_eq!(
        list["items"], items,
        "every item back, unchanged, in its place"
    );
    let results = list["results"].as_array().unwrap();
    let said: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["field"]["path"].as_str().unwrap_or(""),
                r["file"]["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("items[1].metadata.name", "cm.yaml"),
            ("items[2].metadata.labels", "-"),
            ("items[3]", "-"),
            ("items[4].items", "-"),
        ],
        "{}",
        out.stdout
    );
    assert!(results[0]["message"]
        .as_str()
        .unwrap()
        .contains("metadata.name must be a string, found a number; quote it"));
    assert_eq!(results[0]["file"]["index"], 1);
    // render refuses the same object.
    let out = render(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 5\n",
        &[],
    );
    assert!(
        out.stderr
            .contains("error: -:4: metadata.name: metadata.name must be a string"),
        "{}",
        out.stderr
    );
    // A namespace kubectl reads as a boolean (`y`) or a number is refused too; null is none.
    for (value, found) in [("y", "a boolean"), ("5", "a number")] {
        let out = render(
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: {value}\n"
            ),
            &[],
        );
        assert_eq!(out.status, 1, "{}", out.stderr);
        assert!(out.stdout.is_empty());
        assert!(
            out.stderr.contains(&format!(
                "error: -:5: metadata.namespace: metadata.namespace must be a string, found {found}; quote it"
            )),
            "{}",
            out.stderr
        );
    }
    let out = render(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: null\n",
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
}

#[test]
fn a_yaml_error_in_the_resource_list_names_its_line() {
    let text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: [unclosed\n";
    let out = run_binary_with(&["fn"], &[], Some(text));
    assert_eq!(out.status, 1);
    let list = nixernetes::yaml::parse_one(&out.stdout).expect("a ResourceList");
    assert_eq!(
        list["items"],
        json!([]),
        "nothing could be read to give back"
    );
    let result = &list["results"][0];
    let message = result["message"].as_str().unwrap();
    assert!(
        message.starts_with("invalid YAML in the ResourceList on stdin, line "),
        "{message}"
    );
    let line: usize = message
        .trim_start_matches("invalid YAML in the ResourceList on stdin, line ")
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("a line number");
    assert!((7..=8).contains(&line), "{message}");
    assert_eq!(result["file"], json!({"path": "-", "index": 0}));
}
