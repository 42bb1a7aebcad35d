//! `kubectl nixernetes diff` against the API-server double.
//!
//! The cross-check scenarios (DIFF-reference §6.3) run our diff (`-o dirs`) and the real
//! `kubectl diff --server-side` (with `KUBECTL_EXTERNAL_DIFF` pointing at a script that copies
//! the LIVE and MERGED directories it is given) against the same double and the same rendered
//! objects, then compare per-object LIVE/MERGED after applying our default normalisation to
//! kubectl's files, plus both exit codes. Secret values are compared masked (kubectl prints
//! `***`, we print a marker with lengths). Other tests assert the request log (no write
//! without dryRun=All, one GET and one PATCH per object, the concurrency bound), per-object
//! failures, and that no output format ever shows a secret byte unless asked.
//!
//! Without kubectl the cross-checks say so and pass, unless `NIXERNETES_REQUIRE_KUBECTL=1`.

use crate::common;
use api_double::{FailureRule, Options, RecordedRequest};
use common::cluster::Cluster;
use common::kubectl_available;
use nixernetes::diff::normalize::Normalizer;
use nixernetes::diff::ObjectId;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-nixernetes");

/// Per object file name: (LIVE, MERGED), `None` for an empty file.
type Dirs = BTreeMap<String, (Option<Value>, Option<Value>)>;

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

/// Runs `kubectl-nixernetes diff --kubeconfig … ARGS`.
pub(crate) fn ours(c: &Cluster, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .arg("diff")
        .arg("--kubeconfig")
        .arg(c.kubeconfig())
        .args(args)
        .env("HOME", c.dir.path())
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .env_remove("KUBECONFIG")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl-nixernetes")
}

/// Writes `yaml` as the input and our rendering of it; returns both paths.
fn input(c: &Cluster, name: &str, yaml: &str) -> (PathBuf, PathBuf) {
    let src = c.file(&format!("{name}.yaml"), yaml);
    let out = Command::new(BIN)
        .arg("render")
        .arg(&src)
        .output()
        .expect("render");
    assert!(out.status.success(), "render: {}", text(&out).1);
    let rendered = c.dir.path().join(format!("{name}.rendered.yaml"));
    std::fs::write(&rendered, &out.stdout).expect("write rendered");
    (src, rendered)
}

/// Server-side applies every document of `yaml` as `manager`.
pub(crate) fn seed(c: &Cluster, manager: &str, yaml: &str) {
    for doc in nixernetes::yaml::parse_stream(yaml).expect("seed yaml") {
        c.double
            .apply(&doc.value, manager, true)
            .unwrap_or_else(|e| panic!("seed {}: {e:?}", doc.value));
    }
}

/// Renders `yaml` and seeds the cluster with the result as `manager` (what an earlier apply
/// of the same input by that manager left behind).
pub(crate) fn seed_rendered(c: &Cluster, manager: &str, name: &str, yaml: &str) {
    let (_, rendered) = input(c, name, yaml);
    seed(c, manager, &std::fs::read_to_string(rendered).unwrap());
}

fn read_dirs(live: &Path, merged: &Path) -> Dirs {
    let mut dirs = Dirs::new();
    let read = |p: PathBuf| {
        let s = std::fs::read_to_string(&p).unwrap_or_default();
        (!s.trim().is_empty()).then(|| nixernetes::yaml::parse_one(&s).expect("object yaml"))
    };
    for entry in std::fs::read_dir(live).into_iter().flatten() {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        dirs.insert(
            name.clone(),
            (read(live.join(&name)), read(merged.join(&name))),
        );
    }
    dirs
}

/// Our normalisation, and Secret values replaced by one marker.
fn canonical(dirs: Dirs) -> Dirs {
    let n = Normalizer::default();
    let fix = |v: Option<Value>| {
        v.map(|mut v| {
            n.apply(&ObjectId::of(&v), &mut v);
            if v["kind"] == "Secret" {
                for field in ["data", "stringData"] {
                    if let Some(Value::Object(m)) = v.get_mut(field) {
                        m.values_mut().for_each(|x| *x = json!("MASKED"));
                    }
                }
            }
            v
        })
    };
    dirs.into_iter()
        .map(|(k, (l, m))| (k, (fix(l), fix(m))))
        .collect()
}

/// `kubectl diff --server-side --field-manager nixernetes -f RENDERED ARGS`: exit code,
/// captured directories, stderr.
fn kubectl_diff(c: &Cluster, rendered: &Path, args: &[&str]) -> (i32, Dirs, String) {
    let capture = tempfile::tempdir_in(c.dir.path()).expect("capture dir");
    let script = executable(
        c,
        "capture.sh",
        "#!/bin/sh\ncp -R \"$1\" \"$CAPTURE/LIVE\" && cp -R \"$2\" \"$CAPTURE/MERGED\" || exit 3\n\
         diff -r -N \"$1\" \"$2\" >/dev/null\n",
    );
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(c.kubeconfig())
        .arg("--cache-dir")
        .arg(c.dir.path().join("cache"))
        .args([
            "diff",
            "--server-side",
            "--field-manager",
            "nixernetes",
            "-f",
        ])
        .arg(rendered)
        .args(args)
        .env("HOME", c.dir.path())
        .env("KUBECTL_EXTERNAL_DIFF", &script)
        .env("CAPTURE", capture.path())
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl");
    let dirs = read_dirs(&capture.path().join("LIVE"), &capture.path().join("MERGED"));
    (code(&out), dirs, text(&out).1)
}

/// Writes an executable script into the cluster's scratch directory.
pub(crate) fn executable(c: &Cluster, name: &str, text: &str) -> PathBuf {
    let path = c.file(name, text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

/// Our diff with `-o dirs`: exit code, directories, stderr.
fn our_dirs(c: &Cluster, src: &Path, args: &[&str]) -> (i32, Dirs, String) {
    let out_dir = tempfile::tempdir_in(c.dir.path()).expect("out dir");
    let mut all = vec![src.to_str().unwrap(), "-o", "dirs", "--output-dir"];
    all.push(out_dir.path().to_str().unwrap());
    all.extend_from_slice(args);
    let out = ours(c, &all, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout.trim(), out_dir.path().to_str().unwrap(), "{stderr}");
    let dirs = read_dirs(&out_dir.path().join("LIVE"), &out_dir.path().join("MERGED"));
    (code(&out), dirs, stderr)
}

/// Runs both tools on `yaml` and insists on the same objects and the given exit codes.
fn cross_check(c: &Cluster, name: &str, yaml: &str, args: &[&str], codes: (i32, i32)) -> Dirs {
    let (src, rendered) = input(c, name, yaml);
    let (k_code, k_dirs, k_err) = kubectl_diff(c, &rendered, args);
    let (o_code, o_dirs, o_err) = our_dirs(c, &src, args);
    assert_eq!(
        (k_code, o_code),
        codes,
        "exit codes (kubectl, ours)\nkubectl: {k_err}\nours: {o_err}"
    );
    let (k, o) = (canonical(k_dirs), canonical(o_dirs));
    if codes.0 <= 1 {
        assert_eq!(k, o, "LIVE/MERGED differ\nkubectl: {k_err}\nours: {o_err}");
    }
    o
}

/// Validates a `-o json` report against the published schema (src/diff/report.schema.json).
fn assert_report_schema(report: &Value) {
    let errors = report_schema_errors(report);
    assert!(
        errors.is_empty(),
        "report schema errors:\n{}",
        errors.join("\n")
    );
}

fn report_schema_errors(report: &Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diff/report.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("schema json");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("compile the report schema");
    validator
        .iter_errors(report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_report_schema_rejects_what_it_does_not_describe() {
    let good = json!({"apiVersion": "nixernetes.io/v1alpha1", "kind": "DiffReport",
        "summary": {"create": 0, "update": 0, "delete": 0, "unchanged": 0, "conflict": 0, "requiresReplace": 0, "error": 0},
        "exitCode": 0, "objects": [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "a", "name": "b",
            "op": "unchanged", "changes": [], "conflicts": [], "message": null, "notes": [], "live": {}, "merged": {}}],
        "errors": []});
    assert_report_schema(&good);
    let mut bad = good.clone();
    bad["objects"][0]["op"] = json!("replace");
    bad["exitCode"] = json!(3);
    assert_eq!(report_schema_errors(&bad).len(), 2);
}

const APP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
  mode: fast
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
"#;

#[test]
fn cross_check_unchanged_changed_and_removed_fields() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    seed_rendered(&c, "nixernetes", "v1", APP);
    // Unchanged: the same input again.
    let dirs = cross_check(&c, "same", APP, &[], (0, 0));
    assert_eq!(dirs.len(), 2);
    assert!(dirs.values().all(|(l, m)| l == m && l.is_some()));
    // A changed field, and a field the same manager applied before that is now gone.
    let changed = APP
        .replace("replicas: 2", "replicas: 3")
        .replace("  mode: fast\n", "");
    let dirs = cross_check(&c, "changed", &changed, &[], (1, 1));
    let (live, merged) = &dirs["apps.v1.Deployment.default.web"];
    assert_eq!(live.as_ref().unwrap()["spec"]["replicas"], 2);
    assert_eq!(merged.as_ref().unwrap()["spec"]["replicas"], 3);
    let (live, merged) = &dirs["v1.ConfigMap.default.web-config"];
    assert_eq!(live.as_ref().unwrap()["data"]["mode"], "fast");
    assert!(merged.as_ref().unwrap()["data"].get("mode").is_none());
    // Server defaults show on both sides and never as a change.
    assert_eq!(merged.as_ref().unwrap()["kind"], "ConfigMap");
    let d = &dirs["apps.v1.Deployment.default.web"].1.as_ref().unwrap()["spec"];
    assert_eq!(d["revisionHistoryLimit"], 10, "{d}");
}

#[test]
fn cross_check_new_objects_cluster_scoped_kinds_and_crds() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    seed(
        &c,
        "nixernetes-seed",
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#,
    );
    seed_rendered(
        &c,
        "nixernetes",
        "old-role",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n",
    );
    let input = format!(
        "{APP}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w1}}\nspec: {{size: 3}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: reader}}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list]\n"
    );
    let dirs = cross_check(&c, "new", &input, &[], (1, 1));
    assert_eq!(dirs["apps.v1.Deployment.default.web"].0, None);
    assert!(dirs["example.com.v1.Widget.default.w1"].1.is_some());
    let (live, merged) = &dirs["rbac.authorization.k8s.io.v1.ClusterRole..reader"];
    assert_eq!(live.as_ref().unwrap()["rules"][0]["verbs"], json!(["get"]));
    assert_eq!(
        merged.as_ref().unwrap()["rules"][0]["verbs"],
        json!(["get", "list"])
    );
}

#[test]
fn cross_check_conflicts_and_force() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    seed_rendered(&c, "nixernetes", "v1", APP);
    // Another manager took over the replicas.
    seed(
        &c,
        "kubectl-scale",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec: {replicas: 5}\n",
    );
    let changed = APP.replace("replicas: 2", "replicas: 3");
    let (src, rendered) = input(&c, "conflict", &changed);
    let (k_code, _, k_err) = kubectl_diff(&c, &rendered, &[]);
    assert!(
        k_code >= 1 && k_err.contains("conflict"),
        "kubectl: {k_code} {k_err}"
    );
    let out = ours(&c, &[src.to_str().unwrap(), "-o", "json"], &[]);
    assert_eq!(code(&out), 2, "{}", text(&out).1);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let web = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(web["op"], "conflict");
    assert_eq!(
        web["conflicts"],
        json!([{"manager": "kubectl-scale", "field": ".spec.replicas"}])
    );
    // The ConfigMap is still diffed: one conflict never stops the others.
    assert_eq!(report["summary"]["unchanged"], 1);
    // Both exit 2 on the conflict.
    assert_eq!(k_code, 2);
    // With --force-conflicts both succeed and agree.
    let dirs = cross_check(&c, "forced", &changed, &["--force-conflicts"], (1, 1));
    let merged = dirs["apps.v1.Deployment.default.web"].1.as_ref().unwrap();
    assert_eq!(merged["spec"]["replicas"], 3);
}

#[test]
fn conflicts_with_kubectls_own_managers_name_the_flag_that_moves_them() {
    for (manager, says) in [
        ("kubectl", "applied with `kubectl apply --server-side` under kubectl's default field manager: `kubectl apply --server-side --field-manager nixernetes --force-conflicts` moves the fields to nixernetes once"),
        ("kubectl-client-side-apply", "applied with client-side `kubectl apply`: `kubectl apply --server-side --field-manager nixernetes --force-conflicts` takes its fields over once"),
        ("helm", "(--force-conflicts takes them over)"),
    ] {
        let c = Cluster::new();
        seed_rendered(&c, "nixernetes", "v1", APP);
        seed(
            &c,
            manager,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec: {replicas: 5}\n",
        );
        let (src, _) = input(&c, manager, &APP.replace("replicas: 2", "replicas: 3"));
        let out = ours(&c, &[src.to_str().unwrap()], &[]);
        assert_eq!(code(&out), 2, "{}", text(&out).1);
        let stderr = text(&out).1;
        assert!(
            stderr.contains(&format!(".spec.replicas owned by {manager:?}")) && stderr.contains(says),
            "{manager}: {stderr}"
        );
    }
}

const SECRET_LIVE: &str = "hunter2-live-value";
const SECRET_NEW: &str = "s3cr3t-new-value";
const SECRET_STRING: &str = "plain-string-data-value";

pub(crate) fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn cross_check_secret_changes_are_masked_by_both() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let secret = |value: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\ntype: Opaque\ndata: {{password: {}, user: {}}}\n", b64(value), b64("admin"))
    };
    seed_rendered(&c, "nixernetes", "v1", &secret(SECRET_LIVE));
    let (src, rendered) = input(&c, "secret", &secret(SECRET_NEW));
    let (k_code, k_dirs, _) = kubectl_diff(&c, &rendered, &[]);
    let (o_code, o_dirs, _) = our_dirs(&c, &src, &[]);
    assert_eq!((k_code, o_code), (1, 1));
    let (kl, km) = &k_dirs["v1.Secret.default.creds"];
    assert_eq!(kl.as_ref().unwrap()["data"]["password"], "*** (before)");
    assert_eq!(km.as_ref().unwrap()["data"]["password"], "*** (after)");
    let (ol, om) = &o_dirs["v1.Secret.default.creds"];
    assert_eq!(
        ol.as_ref().unwrap()["data"]["password"],
        format!("*** (before, {} bytes)", SECRET_LIVE.len())
    );
    assert_eq!(
        om.as_ref().unwrap()["data"]["password"],
        format!("*** (after, {} bytes)", SECRET_NEW.len())
    );
    assert_eq!(om.as_ref().unwrap()["data"]["user"], "*** (5 bytes)");
    assert_eq!(canonical(k_dirs), canonical(o_dirs));
}

#[test]
fn new_namespaces_are_created_not_errors() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let yaml = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop}}\n---\n{}",
        APP.replace(
            "metadata:\n  name:",
            "metadata:\n  namespace: shop\n  name:"
        )
    );
    let (src, rendered) = input(&c, "ns", &yaml);
    let (k_code, _, k_err) = kubectl_diff(&c, &rendered, &[]);
    assert!(
        k_code == 2 && k_err.contains("not found"),
        "kubectl: {k_code} {k_err}"
    );
    let (o_code, dirs, err) = our_dirs(&c, &src, &[]);
    assert_eq!(o_code, 1, "{err}");
    assert_eq!(dirs.len(), 3);
    assert!(dirs.values().all(|(l, m)| l.is_none() && m.is_some()));
    let out = ours(&c, &[src.to_str().unwrap(), "-o", "summary"], &[]);
    let (table, _) = text(&out);
    assert!(
        table.contains("namespace shop is created by this input"),
        "{table}"
    );
    assert!(table.ends_with("3 to create, 0 unchanged\n"), "{table}");
}

#[test]
fn request_log_dry_runs_only_one_get_and_patch_per_object_bounded() {
    let c = Cluster::start(Options {
        latency: Duration::from_millis(15),
        ..Options::default()
    });
    let cms = |n: usize| -> String {
        (0..n)
            .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{k: v{i}}}\n---\n"))
            .collect()
    };
    seed_rendered(&c, "nixernetes", "half", &cms(12));
    let cms = cms(24);
    let (src, _) = input(&c, "all", &cms);
    c.double.clear_requests();
    let out = ours(
        &c,
        &[src.to_str().unwrap(), "--concurrency", "3", "-o", "summary"],
        &[],
    );
    assert_eq!(code(&out), 1, "{}", text(&out).1);
    let requests = c.double.requests();
    let writes: Vec<&RecordedRequest> = requests.iter().filter(|r| r.is_write()).collect();
    assert!(writes.iter().all(|r| r.is_dry_run() && r.method == "PATCH"));
    assert!(writes
        .iter()
        .all(|r| r.query_param("fieldManager").as_deref() == Some("nixernetes")));
    for i in 0..24 {
        let path = format!("/api/v1/namespaces/default/configmaps/cm-{i}");
        let count = |m: &str| {
            requests
                .iter()
                .filter(|r| r.method == m && r.path == path)
                .count()
        };
        assert_eq!((count("GET"), count("PATCH")), (1, 1), "{path}");
    }
    // Three objects at once, each with its GET and dry run in flight together.
    let max = c.double.max_in_flight();
    assert!((4..=6).contains(&max), "max in flight {max}");
    let (table, _) = text(&out);
    assert!(table.ends_with("12 to create, 12 unchanged\n"), "{table}");
}

#[test]
fn failures_stay_with_their_object() {
    let c = Cluster::new();
    seed(
        &c,
        "nixernetes",
        "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: default}\nspec: {clusterIP: 10.0.0.7, ports: [{port: 80}]}\n",
    );
    c.double
        .fail(FailureRule::new("PATCH", "/configmaps/web-config", 500, 1));
    let yaml = format!(
        "{APP}---\napiVersion: v1\nkind: Service\nmetadata: {{name: api}}\nspec: {{clusterIP: 10.0.0.9, ports: [{{port: 80}}]}}\n---\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {{name: g}}\n"
    );
    let (src, _) = input(&c, "mixed", &yaml);
    let out = ours(&c, &[src.to_str().unwrap(), "-o", "json"], &[]);
    assert_eq!(code(&out), 2, "{}", text(&out).1);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_report_schema(&report);
    let ops: Vec<(String, String)> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_string(),
                o["op"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let op = |k: &str| {
        ops.iter()
            .find(|(kind, _)| kind == k)
            .map(|(_, o)| o.as_str())
    };
    assert_eq!(op("ConfigMap"), Some("error"));
    assert_eq!(op("Deployment"), Some("create"));
    assert_eq!(op("Service"), Some("requires-replace"));
    assert_eq!(op("Gadget"), Some("error"));
    assert_eq!(report["exitCode"], 2);
    let gadget = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Gadget")
        .unwrap();
    assert!(gadget["message"]
        .as_str()
        .unwrap()
        .starts_with(
            "no matches for kind \"Gadget\" in version \"example.com/v1\": ensure CRDs are installed first"
        ));
    // Unified mode: the changes on stdout, every failure on stderr.
    let out = ours(&c, &[src.to_str().unwrap()], &[]);
    let (diff, err) = text(&out);
    assert!(
        diff.contains("+++ MERGED/apps.v1.Deployment.default.web"),
        "{diff}"
    );
    assert!(
        err.contains("v1 Service default/api: requires-replace:"),
        "{err}"
    );
    assert!(err.contains("field is immutable"), "{err}");
}

#[test]
fn unreachable_clusters_and_bad_flags_exit_2() {
    let c = Cluster::new();
    let (src, _) = input(&c, "app", APP);
    let url = c.double.url().to_string();
    let bad = c.file(
        "bad.kubeconfig",
        &c.double.kubeconfig().replace(&url, "http://127.0.0.1:1"),
    );
    let out = Command::new(BIN)
        .args(["diff", "--kubeconfig"])
        .arg(&bad)
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("127.0.0.1:1"), "{}", text(&out).1);
    let out = ours(
        &c,
        &[src.to_str().unwrap(), "--ignore", "spec.replicas"],
        &[],
    );
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("JSON pointer"));
    let out = ours(&c, &[src.to_str().unwrap(), "--prune"], &[]);
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("--prune needs an inventory"));
    let broken = c.file(
        "broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [}\n",
    );
    let out = ours(&c, &[broken.to_str().unwrap()], &[]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
}

#[test]
fn ignore_rules_and_server_fields() {
    let c = Cluster::new();
    seed_rendered(&c, "nixernetes", "v1", APP);
    let changed = APP.replace("replicas: 2", "replicas: 3");
    let (src, _) = input(&c, "changed", &changed);
    let s = src.to_str().unwrap();
    assert_eq!(code(&ours(&c, &[s], &[])), 1);
    // kubectl's spelling is accepted (the diff is always server-side).
    assert_eq!(code(&ours(&c, &["--server-side", "-f", s], &[])), 1);
    assert_eq!(
        code(&ours(
            &c,
            &[s, "--ignore", "Deployment/web=/spec/replicas"],
            &[]
        )),
        0
    );
    assert_eq!(
        code(&ours(
            &c,
            &[s, "--ignore", "Deployment/other=/spec/replicas"],
            &[]
        )),
        1
    );
    let out = ours(&c, &[s, "--show-server-fields", "-o", "json"], &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["objects"][0]["live"]["metadata"]["uid"].is_string());
    assert!(report["objects"][0]["live"]["metadata"]
        .get("managedFields")
        .is_none());
}

#[test]
fn prune_lists_what_left_the_inventory() {
    let c = Cluster::new();
    let inventory = "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {name: p}\nspec: {inventory: shop}\n---\n";
    let extra = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: old-team}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone}\ndata: {a: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: old-creds}\nstringData: {token: hunter2-live-value}\n";
    seed_rendered(&c, "nixernetes", "v1", &format!("{inventory}{APP}{extra}"));
    // Same label, but owned by a controller, or in a namespace the input does not touch.
    seed(
        &c,
        "kube-controller-manager",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-123\n  namespace: default\n  labels: {nixernetes.io/inventory: shop, app: web}\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: elsewhere}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: far, namespace: elsewhere, labels: {nixernetes.io/inventory: shop}}\n",
    );
    let (src, _) = input(&c, "now", &format!("{inventory}{APP}"));
    // Namespaces only with --prune-namespaces (as apply --prune deletes them).
    let out = ours(&c, &[src.to_str().unwrap(), "--prune", "-o", "json"], &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["op"] == "delete" && o["kind"] == "Namespace"));
    let out = ours(
        &c,
        &[
            src.to_str().unwrap(),
            "--prune",
            "--prune-namespaces",
            "-o",
            "json",
        ],
        &[],
    );
    assert_eq!(code(&out), 1, "{}", text(&out).1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_report_schema(&report);
    let deletes: Vec<String> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["op"] == "delete")
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        deletes,
        ["ConfigMap/gone", "Namespace/old-team", "Secret/old-creds"]
    );
    let ns = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Namespace")
        .unwrap();
    assert_eq!(
        ns["notes"],
        json!(["deleting a Namespace deletes every object in it"])
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
    // Without --prune nothing is listed (the seed predates ApplySets: the rendered objects
    // only gain their applyset.kubernetes.io/part-of label).
    // The ApplySet parent is new (the seed made none).
    let out = ours(&c, &[src.to_str().unwrap(), "-o", "json"], &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for o in report["objects"].as_array().unwrap() {
        let parent = o["kind"] == "Secret" && o["name"] == "shop";
        assert_eq!(o["op"], if parent { "create" } else { "update" }, "{o}");
    }
}

/// Every output format, with a Secret that changes, one that is new in a new namespace, one
/// that conflicts, one that fails and one pruned: no value, encoded or not, appears anywhere.
#[test]
fn secrets_never_appear_in_any_output() {
    let c = Cluster::new();
    let inventory = "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {name: p}\nspec: {inventory: shop}\n---\n";
    let secret = |name: &str, ns: &str, value: &str| {
        format!("---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\ndata: {{password: {}}}\nstringData: {{extra: {SECRET_STRING}-{name}}}\n", b64(value))
    };
    let before = format!(
        "{inventory}{}{}{}{}",
        secret("changes", "default", SECRET_LIVE),
        secret("conflicts", "default", SECRET_LIVE),
        secret("fails", "default", SECRET_LIVE),
        secret("pruned", "default", SECRET_LIVE)
    );
    seed_rendered(&c, "nixernetes", "before", &before);
    // A Secret applied client-side: its last-applied annotation holds the data in plain text.
    let last_applied = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"annotated\",\"namespace\":\"default\"}},\"stringData\":{{\"password\":\"{SECRET_LIVE}\"}}}}"
    );
    c.double
        .apply(
            &json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "annotated", "namespace": "default",
                    "labels": {"nixernetes.io/inventory": "shop"},
                    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
                "stringData": {"password": SECRET_LIVE}}),
            "kubectl-client-side-apply",
            true,
        )
        .expect("seed annotated");
    seed(
        &c,
        "someone-else",
        &format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: conflicts, namespace: default}}\ndata: {{password: {}}}\n", b64("other-owner-value")),
    );
    // A server error that quotes the value it refused.
    c.double.fail(FailureRule {
        times: None,
        message: format!(
            "Secret \"fails\" is invalid: data[password]: Invalid value: \"{SECRET_NEW}\" ({})",
            b64(SECRET_NEW)
        ),
        ..FailureRule::new("PATCH", "/secrets/fails", 422, 1)
    });
    let after = format!(
        "{inventory}apiVersion: v1\nkind: Namespace\nmetadata: {{name: fresh}}\n{}{}{}{}",
        secret("changes", "default", SECRET_NEW),
        secret("conflicts", "default", SECRET_NEW),
        secret("fails", "default", SECRET_NEW),
        secret("brand-new", "fresh", SECRET_NEW)
    ) + &secret("annotated", "default", SECRET_NEW);
    let (src, _) = input(&c, "after", &after);
    let s = src.to_str().unwrap();
    let mut values: Vec<String> = [SECRET_LIVE, SECRET_NEW, SECRET_STRING, "other-owner-value"]
        .iter()
        .flat_map(|v| [v.to_string(), b64(v)])
        .collect();
    // Base64 of a longer value starts like the bare value's; check distinctive prefixes too.
    values.extend(
        [SECRET_LIVE, SECRET_NEW]
            .iter()
            .map(|v| b64(v)[..12].to_string()),
    );
    let check = |label: &str, bytes: &[u8]| {
        let t = String::from_utf8_lossy(bytes);
        for v in &values {
            assert!(!t.contains(v.as_str()), "{label}: {v:?} leaked:\n{t}");
        }
    };
    let capture = c.dir.path().join("external");
    std::fs::create_dir(&capture).unwrap();
    let script = executable(&c, "external.sh", "#!/bin/sh\ncat \"$1\"/* \"$2\"/*\n");
    let external = script.to_str().unwrap();
    type Run<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let runs: Vec<Run> = vec![
        ("unified", vec![s, "--prune"], vec![]),
        (
            "unified colour",
            vec![s, "--prune", "--color", "always", "-U", "50"],
            vec![],
        ),
        ("summary", vec![s, "--prune", "-o", "summary"], vec![]),
        ("json", vec![s, "--prune", "-o", "json"], vec![]),
        (
            "json server fields",
            vec![s, "--prune", "-o", "json", "--show-server-fields"],
            vec![],
        ),
        (
            "external",
            vec![s, "--prune"],
            vec![("KUBECTL_EXTERNAL_DIFF", external)],
        ),
        ("verbose", vec![s, "--prune", "-v"], vec![]),
    ];
    for (label, args, env) in &runs {
        let out = ours(&c, args, env);
        if std::env::var_os("SHOW").is_some() {
            eprintln!("== {label}\n{}\n{}", text(&out).0, text(&out).1);
        }
        assert_eq!(code(&out), 2, "{label}: {}", text(&out).1);
        check(&format!("{label} stdout"), &out.stdout);
        check(&format!("{label} stderr"), &out.stderr);
        assert!(!out.stdout.is_empty(), "{label}");
        if label.starts_with("json") {
            assert_report_schema(&serde_json::from_slice(&out.stdout).expect("json"));
        }
    }
    let out_dir = c.dir.path().join("dirs");
    let out = ours(
        &c,
        &[
            s,
            "--prune",
            "-o",
            "dirs",
            "--output-dir",
            out_dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code(&out), 2);
    check("dirs stderr", &out.stderr);
    let mut files = 0;
    for sub in ["LIVE", "MERGED"] {
        for f in std::fs::read_dir(out_dir.join(sub)).unwrap() {
            let path = f.unwrap().path();
            check(&path.display().to_string(), &std::fs::read(&path).unwrap());
            files += 1;
        }
    }
    assert!(files >= 8, "{files} files");
    // Asked for, the values are shown.
    let out = ours(&c, &[s, "--show-secrets", "-o", "json"], &[]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains(&b64(SECRET_NEW)), "{t}");
}

/// kubectl's connection rules through kube-rs: `KUBECONFIG`, `--context`, `-n`, bearer tokens
/// and exec credential plugins.
#[test]
fn kubeconfig_contexts_namespaces_and_exec_credentials() {
    let c = Cluster::new();
    seed(
        &c,
        "nixernetes-seed",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n",
    );
    let plugin = executable(
        &c,
        "credential.sh",
        "#!/bin/sh\necho '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"token\": \"from-exec-plugin\"}}'\n",
    );
    let kubeconfig = format!(
        r#"apiVersion: v1
kind: Config
clusters:
- {{name: good, cluster: {{server: "{url}"}}}}
- {{name: dead, cluster: {{server: "http://127.0.0.1:1"}}}}
users:
- name: exec
  user:
    exec: {{apiVersion: client.authentication.k8s.io/v1, command: "{plugin}", interactiveMode: Never}}
- {{name: token, user: {{token: static-token}}}}
contexts:
- {{name: broken, context: {{cluster: dead, user: token}}}}
- {{name: exec, context: {{cluster: good, user: exec, namespace: team}}}}
- {{name: token, context: {{cluster: good, user: token}}}}
current-context: broken
"#,
        url = c.double.url(),
        plugin = plugin.display()
    );
    let config = c.file("multi.kubeconfig", &kubeconfig);
    let (src, _) = input(
        &c,
        "cm",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n",
    );
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("diff")
            .arg(&src)
            .args(["-o", "json"])
            .args(args)
            .env("KUBECONFIG", &config)
            .env("HOME", c.dir.path())
            .output()
            .unwrap()
    };
    // The current context points at a dead server.
    let out = run(&[]);
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("127.0.0.1:1"), "{}", text(&out).1);
    // The exec context: the plugin's token, the context's namespace.
    c.double.clear_requests();
    let out = run(&["--context", "exec"]);
    assert_eq!(code(&out), 1, "{}", text(&out).1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["objects"][0]["namespace"], "team");
    let requests = c.double.requests();
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer from-exec-plugin")));
    // A static token, and -n over the context's namespace.
    c.double.clear_requests();
    let out = run(&["--context", "token", "-n", "team"]);
    assert_eq!(code(&out), 1, "{}", text(&out).1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["objects"][0]["namespace"], "team");
    assert!(c
        .double
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer static-token")));
}

/// Prune, cross-checked: kubectl only prunes objects with a last-applied annotation, so the
/// seed carries one; both tools then list the object that left the input as a deletion.
#[test]
fn cross_check_prune() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let gone = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"gone","namespace":"default"}}"#;
    seed(
        &c,
        "kubectl-client-side-apply",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n  namespace: default\n  labels: {{nixernetes.io/inventory: shop}}\n  annotations: {{kubectl.kubernetes.io/last-applied-configuration: '{gone}'}}\ndata: {{a: b}}\n"
        ),
    );
    let inventory = "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {name: p}\nspec: {inventory: shop}\n---\n";
    let (src, rendered) = input(&c, "now", &format!("{inventory}{APP}"));
    // Ours applies (and so diffs) the members with their ApplySet label: kubectl gets it too.
    let id = nixernetes::cluster::applyset::Parent {
        kind: nixernetes::cluster::applyset::ParentKind::Secret,
        name: "shop".into(),
        namespace: "default".into(),
    }
    .id();
    let docs = nixernetes::yaml::parse_stream(&std::fs::read_to_string(&rendered).unwrap())
        .unwrap()
        .into_iter()
        .map(|mut d| {
            nixernetes::cluster::applyset::label_member(&mut d.value, &id).unwrap();
            d.value
        });
    let mut labelled = Vec::new();
    nixernetes::yaml::write_stream(&mut labelled, docs).unwrap();
    std::fs::write(&rendered, labelled).unwrap();
    let (k_code, k_dirs, k_err) = kubectl_diff(
        &c,
        &rendered,
        &["--prune", "-l", "nixernetes.io/inventory=shop"],
    );
    let (o_code, o_dirs, o_err) = our_dirs(&c, &src, &["--prune"]);
    assert_eq!((k_code, o_code), (1, 1), "kubectl: {k_err}\nours: {o_err}");
    let (k, mut o) = (canonical(k_dirs), canonical(o_dirs));
    // The ApplySet parent is ours to show: kubectl diff knows no ApplySets.
    let (live, merged) = o.remove("v1.Secret.default.shop").expect("the parent");
    assert!(live.is_none() && merged.is_some());
    assert_eq!(k, o);
    let (live, merged) = &o["v1.ConfigMap.default.gone"];
    assert!(live.is_some() && merged.is_none());
}

/// Golden files for what `diff` prints (unified, summary, JSON) on one mixed scenario; run
/// with `UPDATE_GOLDEN=1` to rewrite them after an intended change.
#[test]
fn golden_outputs() {
    let c = Cluster::new();
    seed_rendered(
        &c,
        "nixernetes",
        "v1",
        &format!(
            "{APP}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\ndata: {{password: {}}}\n",
            b64(SECRET_LIVE)
        ),
    );
    let after = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: fresh}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: inside, namespace: fresh}}\ndata: {{a: b}}\n---\n{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\ndata: {{password: {}}}\n",
        APP.replace("replicas: 2", "replicas: 3").replace("  mode: fast\n", ""),
        b64(SECRET_NEW)
    );
    let (src, _) = input(&c, "after", &after);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (name, args) in [
        ("unified.out", vec!["--color", "never"]),
        ("summary.out", vec!["-o", "summary"]),
        ("report.json", vec!["-o", "json"]),
    ] {
        let mut all = vec![src.to_str().unwrap()];
        all.extend(args);
        let out = ours(&c, &all, &[]);
        assert_eq!(code(&out), 1, "{name}: {}", text(&out).1);
        if name.ends_with(".json") {
            assert_report_schema(&serde_json::from_slice(&out.stdout).expect("json"));
        }
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
        } else {
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
            assert_eq!(text(&out).0, want, "{name} differs from {}", path.display());
        }
    }
}

/// A server without aggregated discovery: the legacy per-group discovery is used instead.
#[test]
fn legacy_discovery_servers_work() {
    let c = Cluster::start(Options {
        aggregated_discovery: false,
        ..Options::default()
    });
    let (src, _) = input(&c, "app", APP);
    let out = ours(&c, &[src.to_str().unwrap(), "-o", "summary"], &[]);
    assert_eq!(code(&out), 1, "{}", text(&out).1);
    assert!(text(&out).0.ends_with("2 to create, 0 unchanged\n"));
    let requests = c.double.requests();
    assert!(requests.iter().any(|r| r.path == "/apis/apps/v1"));
}

/// `kubectl nixernetes diff` through kubectl's plugin lookup, with KUBECONFIG from the
/// environment.
#[test]
fn kubectl_runs_diff_as_a_plugin() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let (src, _) = input(&c, "app", APP);
    let bin_dir = c.dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("kubectl-nixernetes")).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("kubectl")
        .args(["nixernetes", "diff", "-o", "summary"])
        .arg(&src)
        .env("PATH", path)
        .env("KUBECONFIG", c.kubeconfig())
        .env("HOME", c.dir.path())
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .output()
        .expect("kubectl");
    assert_eq!(code(&out), 1, "{}", text(&out).1);
    assert!(
        text(&out).0.ends_with("2 to create, 0 unchanged\n"),
        "{}",
        text(&out).0
    );
}

/// A server that does not answer in time: the run ends with exit 2 instead of hanging.
#[test]
fn slow_servers_time_out() {
    let c = Cluster::start(Options {
        latency: Duration::from_secs(3),
        ..Options::default()
    });
    let (src, _) = input(&c, "app", APP);
    let started = std::time::Instant::now();
    let out = ours(
        &c,
        &[src.to_str().unwrap(), "--request-timeout", "200ms"],
        &[],
    );
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("discovery"), "{}", text(&out).1);
    assert!(started.elapsed() < Duration::from_secs(3));
    let out = ours(
        &c,
        &[src.to_str().unwrap(), "--request-timeout", "soon"],
        &[],
    );
    assert_eq!(code(&out), 2);
}

/// HTTPS with a private CA and client certificates (what kind and kubeadm clusters use): the
/// server is verified against `certificate-authority-data` and the client shows
/// `client-certificate-data`; without the certificate, or trusting another CA, the run fails
/// with exit 2. The real kubectl accepts the same kubeconfig.
#[test]
fn tls_with_client_certificates() {
    use crate::common::cluster::{certificate_authority as ca, TlsCluster};
    let TlsCluster {
        cluster: c,
        authority,
        client,
        client_key,
    } = TlsCluster::start("127.0.0.1");
    assert!(c.double.url().starts_with("https://127.0.0.1:"));
    let kubeconfig = |ca_pem: &str, with_client: bool| {
        let user = if with_client {
            format!(
                "{{client-certificate-data: {}, client-key-data: {}}}",
                b64(&client.pem()),
                b64(&client_key.serialize_pem())
            )
        } else {
            "{token: nothing}".to_string()
        };
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- {{name: c, cluster: {{server: \"{}\", certificate-authority-data: {}}}}}\nusers:\n- {{name: u, user: {user}}}\ncontexts:\n- {{name: x, context: {{cluster: c, user: u, namespace: default}}}}\ncurrent-context: x\n",
            c.double.url(),
            b64(ca_pem)
        )
    };
    let (src, _) = input(&c, "app", APP);
    let run = |config: &str| {
        let path = c.file("tls.kubeconfig", config);
        Command::new(BIN)
            .args([
                "diff",
                "-o",
                "summary",
                "--request-timeout",
                "10s",
                "--kubeconfig",
            ])
            .arg(&path)
            .arg(&src)
            .env("HOME", c.dir.path())
            .output()
            .unwrap()
    };
    let good = kubeconfig(&authority.pem(), true);
    let out = run(&good);
    assert_eq!(code(&out), 1, "{}", text(&out).1);
    assert!(text(&out).0.ends_with("2 to create, 0 unchanged\n"));
    let requests = c.double.requests();
    assert!(!requests.is_empty());
    assert!(requests
        .iter()
        .all(|r| r.client_certificate.as_deref() == Some(client.der().as_ref())));
    // No client certificate: the handshake fails.
    let out = run(&kubeconfig(&authority.pem(), false));
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("error:"), "{}", text(&out).1);
    // A server certificate from another CA is not trusted.
    let out = run(&kubeconfig(&ca("someone-else").pem(), true));
    assert_eq!(code(&out), 2);
    assert!(
        text(&out).1.to_lowercase().contains("certificate"),
        "{}",
        text(&out).1
    );
    if kubectl_available() {
        let path = c.file("tls.kubeconfig", &good);
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&path)
            .arg("--cache-dir")
            .arg(c.dir.path().join("cache"))
            .args(["get", "namespaces", "-o", "name"])
            .env("HOME", c.dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        assert!(text(&out).0.contains("namespace/default"));
    }
}
