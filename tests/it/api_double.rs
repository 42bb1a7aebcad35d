//! The API-server double against the real kubectl: discovery in both forms, server-side apply
//! with defaults and managed fields, server-side diff exit codes, field-manager conflicts,
//! NamespaceLifecycle, CRDs, dry-run, injected failures, and the hand-started subcommand.
//!
//! Each test starts its own double and gives kubectl its own kubeconfig and discovery cache
//! (`--cache-dir`: kubectl caches discovery per host:port for hours). Without kubectl the
//! kubectl tests say so and pass, unless `NIXERNETES_REQUIRE_KUBECTL=1` (CI). The raw-HTTP
//! tests need nothing.

use crate::common;
use api_double::{Double, FailureRule, Options, RecordedRequest};
use common::cluster::Cluster;
use common::kubectl_available;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const APP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
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
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"#;

fn managers(obj: &Value) -> Vec<(String, String)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or_default().to_string(),
                m["operation"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn writes(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.is_write()).collect()
}

#[test]
fn kubectl_version_and_get_namespaces() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let v: Value = serde_json::from_str(&c.ok(&["version", "-o", "json"])).expect("version json");
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.35.0");
    assert_eq!(v["serverVersion"]["minor"], "35");

    let out = c.ok(&["get", "ns"]);
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        assert!(out.contains(ns), "{ns} listed:\n{out}");
    }
    let ns = c.get_json(&["ns", "default"]);
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "default"
    );
}

#[test]
fn server_side_apply_then_get_shows_managed_fields_and_defaults() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let app = c.file("app.yaml", APP);
    let out = c.ok(&["apply", "--server-side", "-f", &app.to_string_lossy()]);
    assert_eq!(
        out,
        "configmap/web-config serverside-applied\ndeployment.apps/web serverside-applied\nservice/web serverside-applied\n"
    );

    // kubectl checked field-validation support in OpenAPI v3, then applied strictly.
    let requests = c.double.requests();
    assert!(requests
        .iter()
        .any(|r| r.path == "/openapi/v3/apis/apps/v1"));
    let patches = writes(&requests);
    assert_eq!(patches.len(), 3);
    for p in &patches {
        assert_eq!(p.method, "PATCH");
        assert_eq!(
            p.header("content-type"),
            Some("application/apply-patch+yaml")
        );
        assert_eq!(p.query_param("fieldManager").as_deref(), Some("kubectl"));
        assert_eq!(p.query_param("fieldValidation").as_deref(), Some("Strict"));
        assert_eq!(p.status, 201);
    }

    let d = c.get_json(&["deployment", "web"]);
    assert_eq!(
        managers(&d),
        vec![("kubectl".to_string(), "Apply".to_string())]
    );
    let fields = &d["metadata"]["managedFields"][0]["fieldsV1"];
    assert_eq!(fields["f:spec"]["f:replicas"], json!({}));
    assert!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:image"]
            .is_object()
    );
    assert!(
        fields["f:spec"].get("f:revisionHistoryLimit").is_none(),
        "defaults are owned by nobody"
    );
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
    assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");

    let svc = c.get_json(&["service", "web"]);
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
    assert!(svc["spec"]["clusterIP"]
        .as_str()
        .unwrap()
        .starts_with("10.96."));

    // Label selectors and the all-namespaces form of a list.
    let selected = c.ok(&["get", "deploy,svc,cm", "-A", "-l", "app=web", "-o", "name"]);
    assert_eq!(selected, "deployment.apps/web\n");

    let yaml = c.ok(&["get", "configmap", "web-config", "-o", "yaml"]);
    assert!(yaml.contains("greeting: hello"), "{yaml}");
    assert!(
        !yaml.contains("managedFields"),
        "kubectl hides managed fields by default"
    );

    // Every object carries a distinct, increasing resourceVersion.
    let rvs: Vec<u64> = [&d, &svc]
        .iter()
        .map(|o| {
            o["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(rvs[0] < rvs[1], "{rvs:?}");
}

#[test]
fn server_side_diff_exit_codes() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let app = c.file("app.yaml", APP);
    c.ok(&["apply", "--server-side", "-f", &app.to_string_lossy()]);
    let live_before = c
        .double
        .get("apps/v1", "Deployment", Some("default"), "web")
        .unwrap();
    c.double.clear_requests();

    let same = c.kubectl(&["diff", "--server-side", "-f", &app.to_string_lossy()]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "unchanged: {}{}",
        stdout(&same),
        stderr(&same)
    );
    assert_eq!(stdout(&same), "");

    let changed = c.file("changed.yaml", &APP.replace("replicas: 2", "replicas: 3"));
    let out = c.kubectl(&["diff", "--server-side", "-f", &changed.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "changed: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("-  replicas: 2\n+  replicas: 3\n"), "{text}");
    assert!(
        text.contains("-  generation: 1\n+  generation: 2\n"),
        "{text}"
    );
    assert!(
        !text.contains("resourceVersion"),
        "a dry-run update keeps the live resourceVersion:\n{text}"
    );
    assert!(text.contains("apps.v1.Deployment.default.web"), "{text}");
    assert!(
        !text.contains("ConfigMap"),
        "unchanged objects do not show:\n{text}"
    );

    // A field the manager applied before and no longer applies is removed.
    let unlabelled = c.file(
        "unlabelled.yaml",
        &APP.replace("  name: web\n  labels: {app: web}\n", "  name: web\n"),
    );
    let out = c.kubectl(&["diff", "--server-side", "-f", &unlabelled.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("-  labels:\n-    app: web\n"), "{text}");
    assert!(
        !text.contains("+  generation"),
        "metadata changes leave generation alone:\n{text}"
    );

    // Nothing was written: every write was a dry run, and the live object is untouched.
    let requests = c.double.requests();
    let w = writes(&requests);
    assert_eq!(w.len(), 9, "one dry-run apply per object per diff");
    assert!(w
        .iter()
        .all(|r| r.is_dry_run() && r.query_param("force").as_deref() == Some("false")));
    assert_eq!(
        c.double
            .get("apps/v1", "Deployment", Some("default"), "web")
            .unwrap(),
        live_before
    );
}

#[test]
fn conflicting_field_managers_need_force() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let app = c.file("app.yaml", APP);
    c.ok(&[
        "apply",
        "--server-side",
        "--field-manager",
        "alice",
        "-f",
        &app.to_string_lossy(),
    ]);
    let changed = c.file("changed.yaml", &APP.replace("replicas: 2", "replicas: 4"));
    let changed = changed.to_string_lossy();

    let out = c.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager",
        "bob",
        "-f",
        &changed,
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas"),
        "{err}"
    );
    assert!(
        err.contains("--force-conflicts"),
        "kubectl recognised a conflict:\n{err}"
    );
    assert_eq!(c.get_json(&["deployment", "web"])["spec"]["replicas"], 2);

    // A server-side diff reports the conflict as an error (exit > 1), not as a change.
    let diff = c.kubectl(&[
        "diff",
        "--server-side",
        "--field-manager",
        "bob",
        "-f",
        &changed,
    ]);
    assert_eq!(diff.status.code(), Some(2), "{}", stderr(&diff));

    c.ok(&[
        "apply",
        "--server-side",
        "--field-manager",
        "bob",
        "--force-conflicts",
        "-f",
        &changed,
    ]);
    let d = c.get_json(&["deployment", "web"]);
    assert_eq!(d["spec"]["replicas"], 4);
    let owners: Vec<(String, Value)> = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap().to_string(),
                m["fieldsV1"]["f:spec"]["f:replicas"].clone(),
            )
        })
        .collect();
    assert!(
        owners.contains(&("bob".to_string(), json!({}))),
        "{owners:?}"
    );
    assert!(
        owners.contains(&("alice".to_string(), Value::Null)),
        "alice lost replicas: {owners:?}"
    );

    // A non-apply write takes ownership without conflict, then conflicts with appliers.
    c.ok(&[
        "patch",
        "deployment",
        "web",
        "-p",
        r#"{"spec":{"replicas":5}}"#,
    ]);
    let out = c.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager",
        "bob",
        "-f",
        &changed,
    ]);
    let err = stderr(&out);
    assert!(
        err.contains("conflict with \"kubectl-patch\" using apps/v1"),
        "{err}"
    );
    assert!(managers(&c.get_json(&["deployment", "web"]))
        .contains(&("kubectl-patch".into(), "Update".into())));
}

#[test]
fn apply_into_a_missing_namespace_is_refused() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let app = c.file(
        "shop.yaml",
        &APP.replace(
            "metadata:\n  name:",
            "metadata:\n  namespace: shop\n  name:",
        ),
    );
    let out = c.kubectl(&["apply", "--server-side", "-f", &app.to_string_lossy()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Error from server (NotFound): namespaces \"shop\" not found"),
        "{}",
        stderr(&out)
    );
    let diff = c.kubectl(&["diff", "--server-side", "-f", &app.to_string_lossy()]);
    assert_eq!(diff.status.code(), Some(2), "{}", stderr(&diff));

    // `kubectl create namespace` would send protobuf, which the double does not read (415).
    let ns = c.file(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    c.ok(&["create", "-f", &ns.to_string_lossy()]);
    c.ok(&["apply", "--server-side", "-f", &app.to_string_lossy()]);
    assert_eq!(
        c.ok(&[
            "get",
            "cm",
            "web-config",
            "-n",
            "shop",
            "-o",
            "jsonpath={.data.greeting}"
        ]),
        "hello"
    );
    c.ok(&["delete", "namespace", "shop"]);
    let gone = c.kubectl(&["get", "cm", "web-config", "-n", "shop"]);
    assert!(
        !gone.status.success(),
        "deleting the namespace deleted its objects"
    );
}

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

#[test]
fn a_created_crd_serves_its_kind() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    // Discovery is cached before the CRD exists: kubectl must refresh it on "no matches".
    c.ok(&["get", "ns"]);
    let crd = c.file("crd.yaml", CRD);
    c.ok(&["apply", "--server-side", "-f", &crd.to_string_lossy()]);
    let widget = c.file(
        "widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n",
    );
    let out = c.ok(&["apply", "--server-side", "-f", &widget.to_string_lossy()]);
    assert_eq!(out, "widget.example.com/w1 serverside-applied\n");
    let w = c.get_json(&["wd", "w1"]);
    assert_eq!(w["spec"]["size"], 3);
    assert_eq!(w["metadata"]["generation"], 1);
    assert!(c
        .ok(&["api-resources", "--api-group", "example.com"])
        .contains("widgets"));
    let crd_obj = c.get_json(&["crd", "widgets.example.com"]);
    assert_eq!(crd_obj["status"]["conditions"][1]["type"], "Established");

    let changed = c.file(
        "widget2.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 4}\n",
    );
    let diff = c.kubectl(&["diff", "--server-side", "-f", &changed.to_string_lossy()]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert!(stdout(&diff).contains("+  size: 4"), "{}", stdout(&diff));

    c.ok(&["delete", "crd", "widgets.example.com"]);
    assert!(c
        .double
        .get("example.com/v1", "Widget", Some("default"), "w1")
        .is_none());
}

#[test]
fn dry_run_never_persists() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let app = c.file("app.yaml", APP);
    let rv = c.double.with_store(|s| s.resource_version());
    let out = c.ok(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        &app.to_string_lossy(),
    ]);
    assert!(
        out.contains("deployment.apps/web serverside-applied (server dry run)"),
        "{out}"
    );
    let out = c.ok(&["create", "--dry-run=server", "-f", &app.to_string_lossy()]);
    assert!(
        out.contains("configmap/web-config created (server dry run)"),
        "{out}"
    );

    let requests = c.double.requests();
    let w = writes(&requests);
    assert_eq!(w.len(), 6);
    assert!(
        w.iter().all(|r| r.is_dry_run()),
        "every write asked for a dry run"
    );
    assert!(w
        .iter()
        .filter(|r| r.method == "POST")
        .all(|r| r.status == 201));
    assert_eq!(
        c.double.with_store(|s| s.resource_version()),
        rv,
        "no resourceVersion was spent"
    );
    let get = c.kubectl(&["get", "deployment", "web"]);
    assert!(!get.status.success());
    assert!(
        stderr(&get).contains("deployments.apps \"web\" not found"),
        "{}",
        stderr(&get)
    );
}

#[test]
fn both_discovery_forms_work() {
    if !kubectl_available() {
        return;
    }
    for aggregated in [true, false] {
        let c = Cluster::start(Options {
            aggregated_discovery: aggregated,
            ..Options::default()
        });
        let app = c.file("app.yaml", APP);
        c.ok(&["apply", "--server-side", "-f", &app.to_string_lossy()]);
        assert!(c.ok(&["get", "deploy", "web"]).contains("web"));
        let requests = c.double.requests();
        let per_group = requests
            .iter()
            .any(|r| r.method == "GET" && r.path == "/apis/apps/v1");
        let api = requests
            .iter()
            .find(|r| r.path == "/api")
            .expect("/api requested");
        assert!(
            api.header("accept")
                .unwrap_or_default()
                .contains("as=APIGroupDiscoveryList"),
            "kubectl asks for aggregated discovery"
        );
        // Legacy answers make kubectl fetch every group-version; aggregated ones do not.
        assert_eq!(per_group, !aggregated, "aggregated={aggregated}");
    }
}

#[test]
fn injected_failures_and_latency() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    c.double.fail(FailureRule::new(
        "GET",
        "/namespaces/default/configmaps",
        500,
        1,
    ));
    let out = c.kubectl(&["get", "configmaps"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Error from server (InternalError)"),
        "{}",
        stderr(&out)
    );
    c.ok(&["get", "configmaps"]);

    c.double.set_latency(std::time::Duration::from_millis(100));
    let start = std::time::Instant::now();
    c.ok(&["get", "configmaps"]);
    assert!(start.elapsed() >= std::time::Duration::from_millis(100));
}

#[test]
fn seeded_objects_belong_to_the_seed_manager() {
    if !kubectl_available() {
        return;
    }
    let seed: Vec<Value> = nixernetes::yaml::parse_stream(APP)
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect();
    let c = Cluster::start(Options {
        seed,
        seed_manager: "platform-team".into(),
        ..Options::default()
    });
    assert_eq!(
        managers(&c.get_json(&["cm", "web-config"])),
        vec![("platform-team".to_string(), "Apply".to_string())]
    );
    let changed = c.file(
        "changed.yaml",
        &APP.replace("greeting: hello", "greeting: hi"),
    );
    let out = c.kubectl(&["apply", "--server-side", "-f", &changed.to_string_lossy()]);
    assert!(
        stderr(&out).contains("conflict with \"platform-team\": .data.greeting"),
        "{}",
        stderr(&out)
    );
}

/// One HTTP/1.1 request over a fresh connection; returns (status, content-type, body).
fn http(
    double: &Double,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String, Value) {
    let mut s = std::net::TcpStream::connect(double.addr()).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").expect("http response");
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let ct = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(String::from)
        })
        .unwrap_or_default();
    (code, ct, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn errors_are_statuses_with_upstream_codes() {
    let d = Double::start(Options::default()).expect("start");
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#;
    let base = "/api/v1/namespaces/default/configmaps";

    let (code, _, v) = http(&d, "GET", &format!("{base}/a"), "", "");
    assert_eq!((code, v["reason"].as_str()), (404, Some("NotFound")));
    assert_eq!(v["message"], "configmaps \"a\" not found");
    assert_eq!(v["kind"], "Status");

    let (code, _, _) = http(&d, "POST", base, "application/json", cm);
    assert_eq!(code, 201);
    let (code, _, v) = http(&d, "POST", base, "application/json", cm);
    assert_eq!((code, v["reason"].as_str()), (409, Some("AlreadyExists")));

    let (code, _, v) = http(&d, "PATCH", &format!("{base}/a"), "application/foo", "{}");
    assert_eq!(
        (code, v["reason"].as_str()),
        (415, Some("UnsupportedMediaType"))
    );
    let (code, _, v) = http(&d, "POST", &format!("{base}/a"), "application/json", cm);
    assert_eq!(
        (code, v["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    let (code, _, v) = http(
        &d,
        "PATCH",
        &format!("{base}/a"),
        "application/apply-patch+yaml",
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n",
    );
    assert_eq!((code, v["reason"].as_str()), (422, Some("Invalid")), "{v}");
    assert_eq!(v["details"]["causes"][0]["field"], "fieldManager");
    let (code, _, v) = http(
        &d,
        "PUT",
        &format!("{base}/a"),
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}"#,
    );
    assert_eq!((code, v["reason"].as_str()), (400, Some("BadRequest")));
    assert_eq!(
        v["message"],
        "the name of the object (b) does not match the name on the URL (a)"
    );
    let (code, _, v) = http(
        &d,
        "POST",
        "/api/v1/namespaces/nope/configmaps",
        "application/json",
        cm,
    );
    assert_eq!(
        (code, v["details"]["kind"].as_str()),
        (404, Some("namespaces"))
    );
    assert_eq!(v["message"], "namespaces \"nope\" not found");

    let (code, _, _) = http(&d, "GET", "/openapi/v2", "", "");
    assert_eq!(code, 404);
    let (code, ct, v) = http(&d, "GET", "/__double/requests", "", "");
    assert_eq!((code, ct.as_str()), (200, "application/json"));
    assert_eq!(
        v.as_array().unwrap().len(),
        9,
        "the log does not record its own reads"
    );
    assert_eq!(v[1]["status"], 201);
    d.stop();
}

#[test]
fn aggregated_discovery_answers_with_its_content_type() {
    let d = Double::start(Options::default()).expect("start");
    let mut s = std::net::TcpStream::connect(d.addr()).expect("connect");
    write!(s, "GET /apis HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.contains("content-type: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList\r\n"), "{text}");
    assert!(text.contains("\"kind\":\"APIGroupDiscoveryList\""));
    let (_, ct, v) = http(&d, "GET", "/apis", "", "");
    assert_eq!(ct, "application/json");
    assert_eq!(v["kind"], "APIGroupList");
}

#[test]
#[cfg_attr(
    not(feature = "api-double"),
    ignore = "built without the `api-double` feature: the binary has no such subcommand"
)]
fn hand_started_double_prints_a_working_kubeconfig() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let seed = dir.path().join("seed");
    std::fs::create_dir(&seed).unwrap();
    std::fs::write(
        seed.join("app.yaml"),
        APP.replace(
            "metadata:\n  name:",
            "metadata:\n  namespace: shop\n  name:",
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .args(["api-double", "--latency", "1ms", "--seed"])
        .arg(&seed)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start api-double");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).expect("serving line");
    assert!(
        line.starts_with("API-server double serving on http://127.0.0.1:"),
        "{line}"
    );
    // The kubeconfig was flushed before the serving line.
    let mut config = vec![0u8; 4096];
    let n = child.stdout.as_mut().unwrap().read(&mut config).unwrap();
    let config = String::from_utf8_lossy(&config[..n]).into_owned();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, &config).unwrap();
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .args([
            "get",
            "deployment",
            "web",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .output()
        .expect("kubectl");
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.status.success(), "{}\n{config}", stderr(&out));
    assert_eq!(stdout(&out), "2");
}

#[test]
fn kubeconfig_names_the_server() {
    let d = Double::start(Options::default()).expect("start");
    let config = nixernetes::yaml::parse_one(&d.kubeconfig()).expect("yaml");
    assert_eq!(config["clusters"][0]["cluster"]["server"], d.url());
    assert_eq!(config["current-context"], "nixernetes-double");
    assert_eq!(config["contexts"][0]["context"]["namespace"], "default");
}

#[test]
fn immutable_fields_are_refused() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let job = |image: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: migrate}}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{{name: m, image: \"{image}\"}}]\n"
        )
    };
    let v1 = c.file("job1.yaml", &job("migrate:1"));
    c.ok(&["apply", "--server-side", "-f", &v1.to_string_lossy()]);
    let live = c.get_json(&["job", "migrate"]);
    let uid = live["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        live["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
        uid
    );
    assert_eq!(live["spec"]["backoffLimit"], 6);
    // Re-applying the same manifest keeps the server-generated selector and labels.
    c.ok(&["apply", "--server-side", "-f", &v1.to_string_lossy()]);
    assert_eq!(
        c.get_json(&["job", "migrate"])["metadata"]["resourceVersion"],
        live["metadata"]["resourceVersion"]
    );

    let v2 = c.file("job2.yaml", &job("migrate:2"));
    let out = c.kubectl(&["apply", "--server-side", "-f", &v2.to_string_lossy()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("The Job \"migrate\" is invalid: spec.template: Invalid value:"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("field is immutable"),
        "{}",
        stderr(&out)
    );
    let diff = c.kubectl(&["diff", "--server-side", "-f", &v2.to_string_lossy()]);
    assert_eq!(
        diff.status.code(),
        Some(2),
        "an immutable change aborts kubectl diff"
    );

    let svc = c.file("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: 10.96.9.9\n  ports: [{port: 5432}]\n");
    c.ok(&["apply", "--server-side", "-f", &svc.to_string_lossy()]);
    let moved = c.file("svc2.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: 10.96.9.10\n  ports: [{port: 5432}]\n");
    let out = c.kubectl(&["apply", "--server-side", "-f", &moved.to_string_lossy()]);
    assert!(
        stderr(&out).contains("The Service \"db\" is invalid: spec.clusterIP: Invalid value: \"10.96.9.10\": field is immutable"),
        "{}",
        stderr(&out)
    );
}
