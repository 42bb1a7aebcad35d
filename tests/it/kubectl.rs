//! Tests against the real kubectl: its plugin lookup, its embedded kustomize running our legacy
//! exec plugin (as generator and transformer), and its YAML reader on our output.
//!
//! Without kubectl these tests say so and pass, unless `NIXERNETES_REQUIRE_KUBECTL=1` (CI).

use crate::common;
use common::kubectl_available;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-nixernetes")
}

fn check(out: Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stderr}",
        out.status
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it.
fn golden(actual: &str, file: &str) {
    let path = root().join("tests/kubectl").join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "{file} differs (UPDATE_GOLDEN=1 to accept)"
    );
}

/// A plugin home with the symlink tree, made by the binary itself.
fn plugin_home(tmp: &Path) -> PathBuf {
    let home = tmp.join("plugins");
    let out = Command::new(bin())
        .args(["kustomize-plugins", "install", "--dir"])
        .arg(&home)
        .output()
        .expect("install plugins");
    check(out, "kustomize-plugins install");
    home
}

fn kustomize(dir: &Path, home: &Path) -> Output {
    Command::new("kubectl")
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(dir)
        .env("KUSTOMIZE_PLUGIN_HOME", home)
        .output()
        .expect("run kubectl kustomize")
}

#[test]
fn plugin_tree_has_a_link_per_kind() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = plugin_home(tmp.path());
    for (dir, kind) in [
        ("webapp", "WebApp"),
        ("postgresql", "PostgreSQL"),
        ("platformdefaults", "PlatformDefaults"),
    ] {
        let link = home.join("nixernetes.io/v1alpha1").join(dir).join(kind);
        let target =
            std::fs::read_link(&link).unwrap_or_else(|e| panic!("{}: {e}", link.display()));
        assert_eq!(
            target.canonicalize().ok(),
            Path::new(bin()).canonicalize().ok()
        );
    }
    // Installing again repoints the links instead of failing.
    plugin_home(tmp.path());
}

#[test]
fn kubectl_kustomize_runs_the_legacy_plugin_as_generator_and_transformer() {
    if !kubectl_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let home = plugin_home(tmp.path());
    let out = check(
        kustomize(&root().join("krm/legacy-plugin"), &home),
        "kubectl kustomize krm/legacy-plugin",
    );
    golden(&out, "legacy-plugin.yaml");
    assert!(
        out.contains("nixernetes.io/source: WebApp/shop/storefront"),
        "generated children present"
    );
    assert!(
        !out.contains("kind: WebApp"),
        "the module resource is consumed"
    );
}

#[test]
fn kubectl_kustomize_generator_only_and_transformer_only() {
    if !kubectl_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let home = plugin_home(tmp.path());
    let src = root().join("krm/legacy-plugin");

    let gen = tmp.path().join("generator");
    std::fs::create_dir_all(&gen).expect("mkdir");
    std::fs::copy(src.join("webapp.yaml"), gen.join("webapp.yaml")).expect("copy");
    std::fs::write(
        gen.join("kustomization.yaml"),
        "namespace: store\ngenerators: [webapp.yaml]\n",
    )
    .expect("write");
    let out = check(kustomize(&gen, &home), "generator");
    golden(&out, "generator-only.yaml");
    for doc in out.split("\n---\n") {
        assert!(
            doc.contains("\n  namespace: store"),
            "kustomize's namespace: applies to every child:\n{doc}"
        );
    }

    let tr = tmp.path().join("transformer");
    std::fs::create_dir_all(&tr).expect("mkdir");
    for f in ["legacy-service.yaml", "defaults.yaml"] {
        std::fs::copy(src.join(f), tr.join(f)).expect("copy");
    }
    std::fs::copy(
        root().join("examples/kubernetes-core/worker.yaml"),
        tr.join("worker.yaml"),
    )
    .expect("copy");
    std::fs::write(
        tr.join("kustomization.yaml"),
        "resources: [legacy-service.yaml, worker.yaml]\ntransformers: [defaults.yaml]\n",
    )
    .expect("write");
    let out = check(kustomize(&tr, &home), "transformer");
    golden(&out, "transformer-only.yaml");
    assert!(out.contains("name: legacy") && out.contains("nixernetes.io/inventory: shop"));
    assert!(
        out.contains("kind: Deployment") && !out.contains("kind: Worker"),
        "module resources in resources: expand"
    );
}

#[test]
fn kubectl_kustomize_shows_plugin_errors_and_fails() {
    if !kubectl_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let home = plugin_home(tmp.path());
    let dir = tmp.path().join("bad");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("app.yaml"),
        "apiVersion: nixernetes.io/v1alpha1\nkind: WebApp\nmetadata: {name: app}\nspec: {image: \"nginx:1.27\", replicas: -1}\n",
    )
    .expect("write");
    std::fs::write(dir.join("kustomization.yaml"), "generators: [app.yaml]\n").expect("write");
    let out = kustomize(&dir, &home);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec.replicas") && stderr.contains("WebApp/app"),
        "{stderr}"
    );
}

/// The objects of a YAML stream by `Kind/namespace/name`, each once.
fn objects_by_id(yaml: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    for doc in nixernetes::yaml::parse_stream(yaml).expect("YAML output") {
        let v = doc.value;
        let id = format!(
            "{}/{}/{}",
            v["kind"].as_str().unwrap_or_default(),
            v["metadata"]["namespace"].as_str().unwrap_or_default(),
            v["metadata"]["name"].as_str().unwrap_or_default()
        );
        assert!(out.insert(id.clone(), v).is_none(), "{id} twice");
    }
    out
}

const MODULES_WEB_AND_WORKER: &str = "apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: web, namespace: shop}
spec:
  image: ghcr.io/acme/web:1.0.0
  ports: [{name: http, port: 8080}]
  dependsOn: [db]
---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {name: jobs, namespace: shop}
spec: {image: \"ghcr.io/acme/jobs:1.0.0\"}
";

const MODULE_DB: &str =
    "apiVersion: nixernetes.io/v1alpha1\nkind: PostgreSQL\nmetadata: {name: db, namespace: shop}\nspec: {}\n";

/// `kubectl kustomize` of a kustomization in `tmp` whose `generators:` are `apps.yaml` (a
/// WebApp and a Worker) and `db.yaml` (`db`); returns the kustomization's directory too.
fn kustomize_three_generators(tmp: &Path, db: &str) -> (PathBuf, Output) {
    let home = plugin_home(tmp);
    let dir = tmp.join("many");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("apps.yaml"), MODULES_WEB_AND_WORKER).expect("write");
    std::fs::write(dir.join("db.yaml"), db).expect("write");
    std::fs::write(
        dir.join("kustomization.yaml"),
        "generators: [apps.yaml, db.yaml]\n",
    )
    .expect("write");
    let out = kustomize(&dir, &home);
    (dir, out)
}

#[test]
fn kubectl_kustomize_with_many_generators_gives_what_render_gives() {
    if !kubectl_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    // Three module resources of one namespace: two in one file, one in another.
    let (dir, out) = kustomize_three_generators(tmp.path(), MODULE_DB);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let built = check(out, "kubectl kustomize of three module resources");

    let files = [dir.join("apps.yaml"), dir.join("db.yaml")];
    let rendered = Command::new(bin())
        .arg("render")
        .args(&files)
        .output()
        .expect("render");
    let render_stderr = String::from_utf8_lossy(&rendered.stderr).into_owned();
    let rendered = check(rendered, "render of the same files");

    let (built, rendered) = (objects_by_id(&built), objects_by_id(&rendered));
    assert_eq!(
        built.keys().collect::<Vec<_>>(),
        rendered.keys().collect::<Vec<_>>(),
        "the same objects"
    );
    for (id, object) in &built {
        assert_eq!(object, &rendered[id], "{id} as render gives it");
    }
    // The namespace-wide policies once, with the namespace in their source; a policy between
    // modules of different configs (web reaches db).
    assert_eq!(
        built["NetworkPolicy/shop/default-deny"]["metadata"]["annotations"]["nixernetes.io/source"],
        "policy-generation/shop"
    );
    assert!(built.contains_key("NetworkPolicy/shop/web-egress"));
    assert_eq!(built.len(), 12, "{:?}", built.keys());
    // Policy warnings as render prints them (render was given the same absolute paths).
    assert!(
        render_stderr.contains("warning[liveness-probe]"),
        "{render_stderr}"
    );
    assert_eq!(stderr, render_stderr, "the warnings of render, once");
}

#[test]
fn kubectl_kustomize_names_the_users_file_of_a_bad_generator() {
    if !kubectl_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let bad_db = MODULE_DB.replace("spec: {}", "spec: {instances: 0}");
    let (dir, out) = kustomize_three_generators(tmp.path(), &bad_db);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = format!(
        "error: {}:4: PostgreSQL/shop/db: spec.instances: ",
        dir.join("db.yaml").display()
    );
    assert!(stderr.contains(&at), "{at}\nin\n{stderr}");
}

#[test]
fn kubectl_finds_the_plugin_on_path() {
    if !kubectl_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    std::os::unix::fs::symlink(bin(), tmp.path().join("kubectl-nixernetes")).expect("link");
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("kubectl")
        .args(["nixernetes", "version"])
        .env("PATH", path)
        .output()
        .expect("kubectl");
    let stdout = check(out, "kubectl nixernetes version");
    assert!(
        stdout.starts_with(&format!(
            "kubectl-nixernetes {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
    assert!(stdout.contains("\nKubernetes: 1.31 to 1.37"), "{stdout}");
}

/// What kubectl reads from a YAML file: one JSON value per object, in file order.
fn kubectl_reads(file: &Path) -> Vec<serde_json::Value> {
    let out = Command::new("kubectl")
        .args(["label", "--local", "-o", "json", "fidelity=checked", "-f"])
        .arg(file)
        .output()
        .expect("kubectl label");
    let text = check(out, "kubectl label --local");
    serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .collect::<Result<_, _>>()
        .expect("kubectl prints JSON")
}

#[test]
fn kubectl_reads_our_output_as_it_reads_the_input() {
    if !kubectl_available() {
        return;
    }
    let input = root().join("tests/fixtures/fidelity.yaml");
    let tmp = tempfile::tempdir().expect("tmp");
    let rendered = tmp.path().join("out.yaml");
    let out = Command::new(bin())
        .args(["render"])
        .arg(&input)
        .output()
        .expect("render");
    std::fs::write(&rendered, check(out, "render fidelity.yaml")).expect("write");
    let before = kubectl_reads(&input);
    let after = kubectl_reads(&rendered);
    assert_eq!(before.len(), 2);
    assert_eq!(after.len(), 2);
    let (before, after_widget) = (&before[0], &after[1]);
    assert_eq!(
        after[0]["data"], before["data"],
        "ConfigMap data as kubectl reads it"
    );
    assert_eq!(
        after_widget["spec"],
        kubectl_reads(&input)[1]["spec"],
        "custom resource spec as kubectl reads it"
    );
    // The values must really be the tricky ones (not all quoted strings in the fixture).
    assert_eq!(before["data"]["yes-plain"], serde_json::json!(true));
    assert_eq!(before["data"]["octal-plain"], serde_json::json!(493));
    assert_eq!(before["data"]["octal-quoted"], serde_json::json!("0755"));
    assert_eq!(before["data"]["yes-quoted"], serde_json::json!("yes"));
}
