//! Tests of `explain`: golden files (byte for byte what kubectl 1.32 prints for the installed
//! CRD, plus the documented additions), errors, cycles, the word wrapper, and a cross-check
//! against the real kubectl reading the CRD form from a scripted API server on loopback.

use super::*;
use crate::schema::test_specs::web_app_schema;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VERSION: &str = "nixernetes.io/v1alpha1";

/// The cases with a golden file in `golden/`: name, path, recursive.
const CASES: [(&str, &[&str], bool); 10] = [
    ("webapp", &[], false),
    ("webapp-recursive", &[], true),
    ("spec", &["spec"], false),
    ("spec-recursive", &["spec"], true),
    ("spec.ports", &["spec", "ports"], false),
    ("spec.ports.protocol", &["spec", "ports", "protocol"], false),
    (
        "spec.probes.readiness",
        &["spec", "probes", "readiness"],
        false,
    ),
    (
        "spec.probes.readiness.port",
        &["spec", "probes", "readiness", "port"],
        false,
    ),
    ("spec.replicas", &["spec", "replicas"], false),
    ("spec.env", &["spec", "env"], false),
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/schema/explain/golden")
}

fn render(path: &[&str], recursive: bool) -> String {
    explain(&web_app_schema(), "WebApp", VERSION, path, recursive).expect("explain")
}

/// Each case equals its golden file byte for byte; `UPDATE_GOLDEN=1` rewrites them.
#[test]
fn explain_matches_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (name, path, recursive) in CASES {
        let actual = render(path, recursive);
        let file = golden_dir().join(format!("{name}.txt"));
        if update {
            std::fs::write(&file, &actual).expect("write golden");
            continue;
        }
        let expected = std::fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(
            actual,
            expected,
            "{} differs (UPDATE_GOLDEN=1 to accept)",
            file.display()
        );
    }
}

/// The shape, spelled out once here so the goldens' form is reviewed in code too.
#[test]
fn a_scalar_field_reads_as_kubectl_prints_it() {
    assert_eq!(
        render(&["spec", "replicas"], false),
        "GROUP:      nixernetes.io\n\
         KIND:       WebApp\n\
         VERSION:    v1alpha1\n\
         \n\
         FIELD: replicas <integer>\n\
         \n\
         \n\
         DESCRIPTION:\n    \
         Number of pods to run.\n    \
         default: 2\n    \
         \n\
         \n"
    );
    assert_eq!(
        render(&["spec", "ports", "protocol"], false),
        "GROUP:      nixernetes.io\n\
         KIND:       WebApp\n\
         VERSION:    v1alpha1\n\
         \n\
         FIELD: protocol <string>\n\
         ENUM:\n    \
         TCP\n    \
         UDP\n\
         \n\
         DESCRIPTION:\n    \
         Protocol of the port.\n    \
         default: TCP\n    \
         \n\
         \n"
    );
}

#[test]
fn field_lists_carry_types_required_enums_and_defaults() {
    let out = render(&["spec", "probes", "readiness"], false);
    assert!(out.contains("FIELD: readiness <Object>\n\n\nDESCRIPTION:\n    Whether the pod is ready to receive traffic.\n    \nFIELDS:\n"), "{out}");
    assert!(
        out.contains("  path\t<string> -required-\n    HTTP path to request.\n\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "  periodSeconds\t<integer>\n    Seconds between two checks.\n    default: 10\n\n"
        ),
        "{out}"
    );
    assert!(out.contains("  port\t<IntOrString> -required-\n"), "{out}");
    let out = render(&["spec"], false);
    assert!(
        out.contains("  enforcement\t<string>\n  enum: enforce, audit, off\n"),
        "{out}"
    );
    assert!(out.contains("  hosts\t<[]string>\n"), "{out}");
    assert!(out.contains("  env\t<map[string]string>\n"), "{out}");
    assert!(out.contains("  ports\t<[]Object>\n"), "{out}");
    assert!(
        !out.contains("default: []") && !out.contains("default: {}"),
        "{out}"
    );
}

#[test]
fn enums_of_more_than_four_values_are_cut_in_field_lists() {
    let schema = json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {
                "level": {"type": "string", "enum": ["", "a", "b", "c", "d"], "description": "Level."},
            }},
        },
    });
    let out = explain(&schema, "X", "v1", &["spec"], false).unwrap();
    assert!(
        out.starts_with("KIND:       X\nVERSION:    v1\n\n"),
        "{out}"
    );
    assert!(
        out.contains("  level\t<string>\n  enum: \"\", a, b, c, ....\n    Level.\n"),
        "{out}"
    );
    let out = explain(&schema, "X", "v1", &["spec", "level"], false).unwrap();
    assert!(
        out.contains("ENUM:\n    \"\"\n    a\n    b\n    c\n    d\n\n"),
        "{out}"
    );
}

#[test]
fn unknown_fields_are_named_with_suggestions() {
    let schema = web_app_schema();
    let err = explain(&schema, "WebApp", VERSION, &["spec", "replica"], false).unwrap_err();
    assert_eq!(
        err,
        ExplainError::UnknownField {
            field: "replica".into(),
            parent: "spec".into(),
            suggestions: vec!["replicas".into()],
        }
    );
    assert_eq!(
        err.to_string(),
        "field \"replica\" does not exist; did you mean \"replicas\"?"
    );
    // Through a list: the fields of its items are the candidates.
    let err = explain(
        &schema,
        "WebApp",
        VERSION,
        &["spec", "ports", "prot"],
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "field \"prot\" does not exist; did you mean \"port\"?"
    );
    let err = explain(&schema, "WebApp", VERSION, &["spec", "image", "tag"], false).unwrap_err();
    assert_eq!(err.to_string(), "field \"tag\" does not exist");
    assert!(matches!(err, ExplainError::UnknownField { parent, .. } if parent == "spec.image"));
    let err = explain(&schema, "WebApp", VERSION, &["Spec"], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "field \"Spec\" does not exist; did you mean \"spec\"?"
    );
}

#[test]
fn recursive_types_stop_where_they_repeat() {
    let schema = json!({
        "type": "object",
        "properties": {"spec": {"$ref": "#/$defs/Node"}},
        "$defs": {"Node": {
            "type": "object",
            "description": "A tree node.",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            },
        }},
    });
    // As kubectl's template: the type explained is not in the history of its own field list,
    // so one level repeats before the cycle is seen.
    let out = explain(&schema, "Tree", "v1", &["spec"], true).unwrap();
    assert_eq!(
        out,
        "KIND:       Tree\nVERSION:    v1\n\nFIELD: spec <Object>\n\n\nDESCRIPTION:\n    A tree node.\n    \n\
         FIELDS:\n  children\t<[]Object>\n    children\t<[]Object>\n    name\t<string>\n  name\t<string>\n\n"
    );
    // A path may still go down the recursion as far as asked.
    let out = explain(
        &schema,
        "Tree",
        "v1",
        &["spec", "children", "children", "name"],
        false,
    );
    assert!(out.unwrap().contains("FIELD: name <string>"));
}

#[test]
fn odd_schemas_never_panic() {
    let schemas = [
        json!(true),
        json!(false),
        json!(null),
        json!({"$ref": "#"}),
        json!({"properties": {"a": {"$ref": "#"}}, "items": {"$ref": "#"}}),
        json!({"additionalProperties": {"$ref": "#"}, "properties": {"spec": {"items": true}}}),
        json!({"properties": {"a": {"anyOf": [{"$ref": "#/properties/a"}, {"type": "null"}]}}}),
        json!({"properties": {"a": {"allOf": [{"$ref": "#/properties/a"}]}}}),
        json!({"properties": 3, "enum": "x", "type": 5, "description": 7, "required": {}}),
        json!({"properties": {"spec": {"enum": [null, {"a": 1}, [1], 1.5]}}}),
    ];
    for schema in &schemas {
        for path in [&[][..], &["a"], &["spec"], &["a", "a", "a"], &["spec", "x"]] {
            for recursive in [false, true] {
                let _ = explain(schema, "K", "g/v", path, recursive);
            }
        }
    }
}

#[test]
fn wrap_is_go_wordwrap() {
    // The cases of go-wordwrap 1.0.1's own test, which kubectl's `wrap` calls.
    let cases = [
        ("foo", "foo", 4),
        ("foobarbaz", "foobarbaz", 4),
        ("foo bar baz", "foo\nbar\nbaz", 4),
        ("foo bars bazzes", "foo\nbars\nbazzes", 4),
        ("fo sop", "fo\nsop", 4),
        ("foo bar\u{a0}baz", "foo\nbar\u{a0}baz", 10),
        ("foo\nb\t r\n baz", "foo\nb\t r\n baz", 4),
        ("foo    \nb   ar   ", "foo\nb\nar", 4),
        ("foo bar baz\n", "foo\nbar\nbaz\n", 4),
        ("\nfoo bar\n\n\nbaz\n", "\nfoo\nbar\n\n\nbaz\n", 4),
        (
            " This is a list: \n\n\t* foo\n\t* bar\n\n\n\t* baz  \nBAM    ",
            " This\nis a\nlist: \n\n\t* foo\n\t* bar\n\n\n\t* baz\nBAM",
            6,
        ),
        (
            "\u{2584} \u{2584} \u{2584} \u{2584} ",
            "\u{2584} \u{2584}\n\u{2584} \u{2584} ",
            4,
        ),
    ];
    for (input, expected, limit) in cases {
        assert_eq!(wrap(input, limit), expected, "wrap({input:?}, {limit})");
    }
}

// ---------------------------------------------------------------------------------------------
// The real kubectl, reading the CRD form from a scripted API server, prints the same text.

/// A one-thread HTTP/1.1 server on loopback answering `GET`s from a fixed table, closing each
/// connection after one answer. It stops with the test process.
fn serve(routes: Vec<(String, Value)>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(match stream.try_clone() {
                Ok(s) => s,
                Err(_) => continue,
            });
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header == "\r\n" || header == "\n" => break,
                    Ok(_) => {}
                }
            }
            let target = request.split_whitespace().nth(1).unwrap_or("");
            let path = target.split('?').next().unwrap_or("");
            let (status, body) = match routes.iter().find(|(p, _)| p == path) {
                Some((_, body)) => ("200 OK", body.to_string()),
                None => ("404 Not Found", "{}".to_string()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
        }
    });
    port
}

/// Discovery and OpenAPI v3 for one namespaced kind, as the API server publishes an installed
/// CRD: `openapi` is the `openAPIV3Schema`.
fn api_server(openapi: Value) -> u16 {
    let gvk = json!({"group": "nixernetes.io", "kind": "WebApp", "version": "v1alpha1"});
    let mut schema = openapi;
    schema["x-kubernetes-group-version-kind"] = json!([gvk]);
    let gv = json!({"groupVersion": "nixernetes.io/v1alpha1", "version": "v1alpha1"});
    serve(vec![
        (
            "/version".into(),
            json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0"}),
        ),
        (
            "/api".into(),
            json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ),
        (
            "/api/v1".into(),
            json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": []}),
        ),
        (
            "/apis".into(),
            json!({"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [{"name": "nixernetes.io", "versions": [gv], "preferredVersion": gv}]}),
        ),
        (
            "/apis/nixernetes.io/v1alpha1".into(),
            json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": "nixernetes.io/v1alpha1",
            "resources": [{"name": "webapps", "singularName": "webapp", "namespaced": true,
                           "kind": "WebApp", "verbs": ["get", "list"]}]}),
        ),
        (
            "/openapi/v3".into(),
            json!({"paths": {"apis/nixernetes.io/v1alpha1":
            {"serverRelativeURL": "/openapi/v3/apis/nixernetes.io/v1alpha1?hash=1"}}}),
        ),
        (
            "/openapi/v3/apis/nixernetes.io/v1alpha1".into(),
            json!({
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": "v1.32.0"},
                "paths": {"/apis/nixernetes.io/v1alpha1/namespaces/{namespace}/webapps":
                    {"get": {"x-kubernetes-group-version-kind": gvk, "responses": {}}}},
                "components": {"schemas": {"io.nixernetes.v1alpha1.WebApp": schema}},
            }),
        ),
    ])
}

fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("NIXERNETES_REQUIRE_KUBECTL").as_deref() == Ok("1") {
            panic!("kubectl is required (NIXERNETES_REQUIRE_KUBECTL=1) but was not found on PATH");
        }
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: kubectl not found on PATH; set NIXERNETES_REQUIRE_KUBECTL=1 to make this a failure"
        );
    }
    ok
}

/// kubectl on the installed CRD prints what `explain` prints, but for the documented additions:
/// the `default:` lines, and `<IntOrString>` where kubectl says `<Object>`.
#[test]
fn kubectl_explain_prints_the_same_for_the_installed_crd() {
    if !kubectl_available() {
        return;
    }
    let kind_schema = web_app_schema();
    let mut openapi = crate::schema::structural(&kind_schema).expect("structural");
    // The envelope as the kind schema states it (a real API server publishes its own
    // ObjectMeta and apiVersion/kind texts, which this test cannot serve).
    for key in ["apiVersion", "kind", "metadata"] {
        openapi["properties"][key] = kind_schema["properties"][key].clone();
    }
    for key in ["apiVersion", "kind"] {
        let c = openapi["properties"][key]["const"].take();
        openapi["properties"][key]["enum"] = json!([c]);
    }
    openapi["required"] = kind_schema["required"].clone();
    let port = api_server(openapi);

    let tmp = tempfile::tempdir().expect("tmp");
    let kubeconfig = tmp.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: double, cluster: {{server: \"http://127.0.0.1:{port}\"}}}}]\n\
             users: [{{name: me, user: {{}}}}]\ncontexts: [{{name: here, context: {{cluster: double, user: me}}}}]\ncurrent-context: here\n"
        ),
    )
    .expect("write kubeconfig");
    for (_, path, recursive) in CASES {
        let resource = std::iter::once("webapps")
            .chain(path.iter().copied())
            .collect::<Vec<_>>()
            .join(".");
        let mut command = Command::new("kubectl");
        command
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(tmp.path().join("cache"))
            .args(["explain", &resource]);
        if recursive {
            command.arg("--recursive");
        }
        let out = command.output().expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl explain {resource}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).expect("utf-8");
        let ours: String = render(path, recursive)
            .split_inclusive('\n')
            .filter(|line| !line.trim_start().starts_with("default: "))
            .collect::<String>()
            .replace("<IntOrString>", "<Object>");
        assert_eq!(ours, theirs, "kubectl explain {resource}");
    }
}

#[test]
fn fields_list_what_recursive_explain_shows() {
    let all = fields(&web_app_schema());
    let paths: Vec<String> = all.iter().map(|f| f.path.join(".")).collect();
    assert_eq!(&paths[..3], ["apiVersion", "kind", "metadata"]);
    let readiness_path = all
        .iter()
        .find(|f| f.path == ["spec", "probes", "readiness", "periodSeconds"])
        .expect("a nested field");
    assert_eq!(readiness_path.type_name, "integer");
    assert_eq!(readiness_path.default.as_deref(), Some("10"));
    assert!(!readiness_path.required);
    let protocol = all
        .iter()
        .find(|f| f.path == ["spec", "ports", "protocol"])
        .expect("a field of list items, as explain paths it");
    assert_eq!(protocol.enum_values, ["TCP", "UDP"]);
    assert!(all
        .iter()
        .any(|f| f.path == ["spec", "image"] && f.required));
    // The same fields, in the same order, as `--recursive` prints them.
    let tree = render(&[], true);
    let (_, listed) = tree.split_once("FIELDS:\n").expect("a field list");
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with("enum:"))
        .map(str::trim)
        .collect();
    let last: Vec<&str> = all
        .iter()
        .map(|f| f.path.last().unwrap().as_str())
        .collect();
    assert_eq!(names, last);
}

#[test]
fn sections_follow_the_description_and_defaults_drop_what_says_nothing() {
    let sections = [("emits", "Deployment (apps/v1)\nService (v1)".to_string())];
    let out = explain_with(&web_app_schema(), "WebApp", VERSION, &[], false, &sections).unwrap();
    assert!(
        out.contains("    \nEMITS:\n    Deployment (apps/v1)\n    Service (v1)\n    \nFIELDS:\n"),
        "{out}"
    );
    assert_eq!(
        explain(&web_app_schema(), "WebApp", VERSION, &["spec"], false).unwrap(),
        explain_with(&web_app_schema(), "WebApp", VERSION, &["spec"], false, &[]).unwrap()
    );
    let shown = |v: Value| default_text(Some(&v));
    assert_eq!(shown(json!({"a": null, "b": {}, "c": []})), None);
    assert_eq!(
        shown(json!({"create": true, "name": null})).as_deref(),
        Some(r#"{"create":true}"#)
    );
    assert_eq!(
        shown(json!([{"port": 80, "x": null}])).as_deref(),
        Some(r#"[{"port":80}]"#)
    );
}
