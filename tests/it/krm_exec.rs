//! The `krm/exec-function` example driven the way kustomize ≥ 5 drives exec KRM functions
//! (`kustomize build --enable-alpha-plugins --enable-exec`, which is not installed here):
//! generators first (items: only the function config, marked local-config), then the
//! transformer over every resource (each carrying a `kustomize.config.k8s.io/id`), then the
//! validator over the result, which must come back unchanged.

use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("krm/exec-function")
}

/// Runs the function on a ResourceList; returns the output list and the exit code.
fn run_fn(list: &Value) -> (Value, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .arg("fn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(list).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("fn");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    (
        nixernetes::yaml::parse_one(&text).expect("ResourceList out"),
        out.status.code().unwrap_or(-1),
    )
}

fn with_annotation(mut obj: Value, key: &str, value: &str) -> Value {
    obj["metadata"]["annotations"][key] = json!(value);
    obj
}

fn kustomize_id(obj: &Value) -> String {
    let (group, version) = match obj["apiVersion"].as_str().unwrap().rsplit_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (
            String::new(),
            obj["apiVersion"].as_str().unwrap().to_string(),
        ),
    };
    let mut id = String::new();
    if !group.is_empty() {
        id.push_str(&format!("group: {group}\n"));
    }
    id.push_str(&format!(
        "kind: {}\nname: {}\n",
        obj["kind"].as_str().unwrap(),
        obj["metadata"]["name"].as_str().unwrap()
    ));
    if let Some(ns) = obj["metadata"]["namespace"].as_str() {
        id.push_str(&format!("namespace: {ns}\n"));
    }
    id.push_str(&format!("version: {version}\n"));
    id
}

#[test]
fn generator_then_transformer_then_validator() {
    let file = |f: &str| {
        nixernetes::yaml::parse_one(&std::fs::read_to_string(dir().join(f)).unwrap()).unwrap()
    };
    // 1. Generator: the config is the WebApp; kustomize echoes it as the only item, local-config.
    let webapp = file("webapp.yaml");
    let (generated, code) = run_fn(&json!({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "functionConfig": webapp,
        "items": [with_annotation(webapp.clone(), "config.kubernetes.io/local-config", "true")],
    }));
    assert_eq!(code, 0, "{generated}");
    let generated = generated["items"].as_array().unwrap().clone();
    let kinds: Vec<&str> = generated
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"Deployment") && kinds.contains(&"Service") && !kinds.contains(&"WebApp"),
        "{kinds:?}"
    );
    for o in &generated {
        let ann = &o["metadata"]["annotations"];
        assert!(
            ann.get("config.kubernetes.io/local-config").is_none(),
            "children are not local-config: {o}"
        );
        assert!(
            ann.get("config.kubernetes.io/function").is_none(),
            "children do not declare the function: {o}"
        );
    }

    // 2. Transformer: resources + generated, each with a kustomize id; config is PlatformDefaults.
    let mut items: Vec<Value> = vec![file("legacy-service.yaml"), file("worker.yaml")];
    items.extend(generated);
    let items: Vec<Value> = items
        .into_iter()
        .map(|o| {
            let id = kustomize_id(&o);
            with_annotation(o, "kustomize.config.k8s.io/id", &id)
        })
        .collect();
    let (transformed, code) = run_fn(&json!({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "functionConfig": file("defaults.yaml"), "items": items,
    }));
    assert_eq!(code, 0, "{transformed}");
    let out = transformed["items"].as_array().unwrap();
    let legacy = out
        .iter()
        .find(|o| o["metadata"]["name"] == "legacy")
        .expect("legacy kept");
    assert_eq!(
        legacy["metadata"]["annotations"]["kustomize.config.k8s.io/id"],
        json!(kustomize_id(&file("legacy-service.yaml"))),
        "id kept"
    );
    assert_eq!(legacy["metadata"]["namespace"], "shop");
    assert_eq!(
        legacy["metadata"]["labels"]["nixernetes.io/inventory"],
        "shop"
    );
    assert!(
        out.iter()
            .any(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "mailer"),
        "Worker expanded in place"
    );
    assert!(!out.iter().any(|o| o["kind"] == "Worker"));
    for o in out.iter().filter(|o| o["metadata"]["name"] == "mailer") {
        assert!(
            o["metadata"]["annotations"]
                .get("kustomize.config.k8s.io/id")
                .is_none(),
            "children never copy the module's id: {o}"
        );
    }

    // 3. Validator: same items back, unchanged.
    let (validated, code) = run_fn(&json!({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "functionConfig": file("validate.yaml"), "items": out,
    }));
    assert_eq!(code, 0, "{validated}");
    assert_eq!(
        &validated["items"], &transformed["items"],
        "a validator must not change items"
    );
}
