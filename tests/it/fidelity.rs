//! Pass-through fidelity against kubectl's own YAML reader (goyaml.v2 through
//! `sigs.k8s.io/yaml`): for every object of the corpus in `tests/fixtures/fidelity/`, what
//! `kubectl label --local -o json` reads from our output equals what it reads from the input,
//! but for the labels and annotations the tool injects (`src/engine/inject.rs`), through
//! `render`, `fn` (a ResourceList on stdin) and the legacy Kustomize exec plugin. Documents that
//! kubectl cannot read (`unreadable/`), or reads otherwise than a YAML 1.2 reader
//! (`refused/`), must be errors of ours, located, not passed on.
//!
//! Labels or annotations that are not maps of strings are refused (`tests/it/manifests.rs`);
//! `benches/fidelity.py` runs the same comparison over public manifests.
//!
//! Without kubectl these tests say so and pass, unless `NIXERNETES_REQUIRE_KUBECTL=1` (CI).

use crate::common::kubectl_available;
use nixernetes::engine::inject;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The keys the tool injects into `labels` and `annotations` maps.
const INJECTED: &[&str] = &[
    inject::MANAGED_BY,
    inject::VERSION,
    inject::FRAMEWORK,
    inject::MODULE,
    inject::INVENTORY,
    inject::CREATED_BY,
    inject::CREATED_AT,
    inject::SOURCE,
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fidelity")
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-nixernetes")
}

/// The YAML and JSON files directly in `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    files
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    crate::common::run_binary_raw(args, &[], stdin)
}

/// What kubectl reads from a file: each object as JSON (Lists flattened, as kubectl does), or
/// kubectl's error.
fn kubectl_reads(file: &Path) -> Result<Vec<Value>, String> {
    let out = Command::new("kubectl")
        .args(["label", "--local", "-o", "json", "fidelity-check-", "-f"])
        .arg(file)
        .output()
        .expect("run kubectl");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).expect("kubectl prints UTF-8");
    let mut objects = Vec::new();
    for v in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
        let v = v.expect("kubectl prints JSON");
        match v.get("items").and_then(Value::as_array) {
            Some(items) if v["kind"].as_str().is_some_and(|k| k.ends_with("List")) => {
                objects.extend(items.iter().cloned())
            }
            _ => objects.push(v),
        }
    }
    Ok(objects)
}

/// What kubectl reads from `text` (written to a file in `tmp`).
fn kubectl_reads_text(tmp: &Path, name: &str, text: &[u8]) -> Result<Vec<Value>, String> {
    let path = tmp.join(name);
    std::fs::write(&path, text).expect("write");
    kubectl_reads(&path)
}

/// An object's identity: apiVersion, kind, namespace, name.
fn identity(v: &Value) -> String {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    format!(
        "{}/{}/{}/{}",
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/namespace"),
        s("/metadata/name")
    )
}

/// Removes from `out` what the tool injected where `input` (the same place in the input) has
/// nothing: injected keys of `labels`/`annotations` maps, then maps left empty that the input
/// does not have (a pod template's `metadata` made only for labels).
fn strip_injected(out: &mut Value, input: Option<&Value>) {
    match out {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let inp = input.and_then(|i| i.get(&k));
                let Some(child) = map.get_mut(&k) else {
                    continue;
                };
                if k == "labels" || k == "annotations" {
                    if let Value::Object(inner) = child {
                        inner.retain(|ik, _| {
                            !INJECTED.contains(&ik.as_str())
                                || inp.and_then(|i| i.get(ik)).is_some()
                        });
                    }
                }
                strip_injected(child, inp);
                let empty = matches!(map.get(&k), Some(Value::Object(m)) if m.is_empty());
                if empty && inp.is_none() {
                    map.remove(&k);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                strip_injected(item, input.and_then(|v| v.get(i)));
            }
        }
        _ => {}
    }
}

/// `v` without `labels: null` and `annotations: null` in object metadata (Helm writes the keys
/// with nothing under them): the API server reads them as none, and the tool writes its own
/// there. Elsewhere (under `spec`) a null stays.
fn without_null_metadata(v: &Value, metadata: bool) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, x)| {
                    !(metadata && x.is_null() && (*k == "labels" || *k == "annotations"))
                })
                .map(|(k, x)| (k.clone(), without_null_metadata(x, k == "metadata")))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|x| without_null_metadata(x, false))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The differences between kubectl's reading of the input and of our output (`mode` names the
/// way the output was made); the number of objects compared.
fn differences(
    file: &Path,
    mode: &str,
    before: &[Value],
    after: Vec<Value>,
    diffs: &mut Vec<String>,
) -> usize {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    if after.len() != before.len() {
        diffs.push(format!(
            "{name} ({mode}): kubectl reads {} objects from the input, {} from the output",
            before.len(),
            after.len()
        ));
    }
    let mut compared = 0;
    for b in before {
        let id = identity(b);
        let Some(mut a) = after.iter().find(|a| identity(a) == id).cloned() else {
            diffs.push(format!("{name} ({mode}): {id} is missing from the output"));
            continue;
        };
        let b = &without_null_metadata(b, false);
        a = without_null_metadata(&a, false);
        strip_injected(&mut a, Some(b));
        compared += 1;
        if &a != b {
            diffs.push(format!(
                "{name} ({mode}): {id} differs\n  input:  {}\n  output: {}",
                serde_json::to_string(b).unwrap_or_default(),
                serde_json::to_string(&a).unwrap_or_default()
            ));
        }
    }
    compared
}

/// The documents of a file as the items of a ResourceList, text kept as written: each
/// document's lines indented under `- `, leading comments and `---` markers dropped; a List of
/// any group (written `apiVersion`, `kind: …List`, `items` at column 0) gives its items, as
/// kustomize flattens Lists before it runs a function.
fn resource_list(text: &str) -> String {
    let mut out = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    for doc in text.split("\n---\n") {
        let content: Vec<&str> = doc.lines().skip_while(|l| l.starts_with('#')).collect();
        let list = matches!(&content[..], [api, kind, items, ..]
            if api.starts_with("apiVersion: ") && kind.starts_with("kind: ") && kind.ends_with("List") && *items == "items:");
        if list {
            for line in &content[3..] {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        let mut first = true;
        for line in doc.lines() {
            if first && (line.starts_with('#') || line.trim().is_empty() || line == "---") {
                continue;
            }
            if first {
                out.push_str("- ");
                first = false;
            } else if !line.is_empty() {
                out.push_str("  ");
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A ResourceList's text as a `v1 List` (which kubectl reads as its items).
fn as_list(resource_list: &str) -> String {
    resource_list
        .replacen(
            "apiVersion: config.kubernetes.io/v1\n",
            "apiVersion: v1\n",
            1,
        )
        .replacen("kind: ResourceList\n", "kind: List\n", 1)
}

fn success(out: &Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

#[test]
fn kubectl_reads_every_output_as_it_reads_the_input() {
    if !kubectl_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let config = tmp.path().join("defaults.yaml");
    std::fs::write(
        &config,
        "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata:\n  name: fidelity\nspec: {}\n",
    )
    .expect("write plugin config");
    let corpus = files(&dir());
    assert!(corpus.len() >= 7, "corpus: {corpus:?}");
    let mut diffs = Vec::new();
    let mut compared = std::collections::BTreeMap::<&str, usize>::new();
    for file in &corpus {
        let path = file.display().to_string();
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let before = kubectl_reads(file).unwrap_or_else(|e| panic!("kubectl reads {path}: {e}"));
        assert!(!before.is_empty(), "{path}: no objects");
        let text = std::fs::read_to_string(file).expect("read");

        let rendered = success(&run(&["render", &path], None), &format!("render {path}"));
        let after = kubectl_reads_text(tmp.path(), &format!("render-{name}"), &rendered)
            .unwrap_or_else(|e| panic!("kubectl reads render's output of {path}: {e}"));
        *compared.entry("render").or_default() +=
            differences(file, "render", &before, after, &mut diffs);

        let plugin = success(
            &run(
                &["kustomize-plugin", &config.display().to_string()],
                Some(text.as_bytes()),
            ),
            &format!("legacy plugin on {path}"),
        );
        let after = kubectl_reads_text(tmp.path(), &format!("plugin-{name}"), &plugin)
            .unwrap_or_else(|e| panic!("kubectl reads the plugin's output of {path}: {e}"));
        *compared.entry("legacy plugin").or_default() +=
            differences(file, "legacy plugin", &before, after, &mut diffs);

        let list = resource_list(&text);
        // The ResourceList itself must read as the file does (the test's own wrapping).
        let wrapped =
            kubectl_reads_text(tmp.path(), &format!("in-{name}"), as_list(&list).as_bytes())
                .unwrap_or_else(|e| panic!("kubectl reads the ResourceList made of {path}: {e}"));
        assert_eq!(
            wrapped, before,
            "{path}: the ResourceList wrapping changed it"
        );
        let out = success(
            &run(&["fn"], Some(list.as_bytes())),
            &format!("fn on {path}"),
        );
        let out = String::from_utf8(out).expect("UTF-8");
        let after = kubectl_reads_text(tmp.path(), &format!("fn-{name}"), as_list(&out).as_bytes())
            .unwrap_or_else(|e| panic!("kubectl reads fn's output of {path}: {e}"));
        *compared.entry("fn").or_default() += differences(file, "fn", &before, after, &mut diffs);
    }
    eprintln!(
        "fidelity: {} files, objects compared {compared:?}, {} differences",
        corpus.len(),
        diffs.len()
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(compared.values().all(|&n| n >= 9), "{compared:?}");
}

/// Where each refused document goes wrong, and what the error must say.
const REFUSED: &[(&str, usize, &str)] = &[
    ("cr-only.yaml", 1, "carriage return without a line feed"),
    (
        "duplicate-key.yaml",
        8,
        "kubectl would silently keep the last",
    ),
    ("flow-colon.yaml", 9, "`001:db8::` in a flow collection"),
    (
        "flow-map-colon.yaml",
        9,
        "`2001:db8::` in a flow collection",
    ),
    ("key-octal.yaml", 7, "the key \"493\""),
    ("key-on.yaml", 7, "the key \"true\""),
    ("value-binary-upper.yaml", 7, "the number 5"),
    ("value-hex-upper.yaml", 7, "the number 31"),
    ("value-underscores.yaml", 7, "the number 10"),
    ("flow-question.yaml", 7, "end the text at `?`"),
    ("infinity.yaml", 7, "JSON cannot hold"),
    ("null-key.yaml", 7, "refuse it as a key"),
    ("tab.yaml", 8, "tab"),
];

/// Documents kubectl reads otherwise than YAML 1.2 readers (`refused/`) or cannot read
/// (`unreadable/`): `render` and the legacy plugin refuse them at the right line, with the
/// reason, whichever YAML reader is on, and print nothing on stdout.
#[test]
fn documents_kubectl_reads_otherwise_or_not_at_all_are_errors() {
    let kubectl = kubectl_available();
    let mut seen = 0;
    for (sub, kubectl_fails) in [("refused", false), ("unreadable", true)] {
        for file in files(&dir().join(sub)) {
            let name = file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let (_, line, says) = REFUSED
                .iter()
                .find(|(n, ..)| *n == name)
                .unwrap_or_else(|| panic!("{name}: add it to REFUSED"));
            let path = file.display().to_string();
            for fast in ["1", "0"] {
                let out = Command::new(bin())
                    .args(["render", &path])
                    .env("NIXERNETES_YAML_FAST", fast)
                    .output()
                    .expect("render");
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{path}: {stderr}");
                assert!(out.stdout.is_empty(), "{path}: printed output");
                assert!(
                    stderr.contains(&format!("{path}:{line}: invalid YAML: ")),
                    "{path} (fast reader {fast}): want line {line}:\n{stderr}"
                );
                assert!(stderr.contains(says), "{path}: want {says:?}:\n{stderr}");
                assert!(
                    !stderr.contains("Some(") && !stderr.contains(" { "),
                    "{stderr}"
                );
            }
            let text = std::fs::read(&file).expect("read");
            let out = run(&["kustomize-plugin", "/dev/null"], Some(&text));
            assert_eq!(out.status.code(), Some(1), "legacy plugin on {path}");
            assert!(
                out.stdout.is_empty(),
                "legacy plugin on {path}: printed output"
            );
            if kubectl {
                let read = kubectl_reads(&file);
                assert_eq!(read.is_err(), kubectl_fails, "kubectl on {path}: {read:?}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, REFUSED.len());
}

/// The issue's own examples, as kubectl reads them: what a refusal protects against.
#[test]
fn kubectl_reads_the_refused_examples_as_the_messages_say() {
    if !kubectl_available() {
        return;
    }
    let read = |f: &str| kubectl_reads(&dir().join("refused").join(f)).expect("kubectl reads it");
    assert_eq!(
        read("flow-colon.yaml")[0]["spec"]["addresses"],
        serde_json::json!(["1.2.3.4", "001:db8::"])
    );
    assert_eq!(
        read("flow-map-colon.yaml")[0]["spec"]["endpoints"][0]["address"],
        "2001:db8::"
    );
    assert_eq!(read("key-on.yaml")[0]["data"]["true"], "1");
    assert_eq!(read("key-octal.yaml")[0]["data"]["493"], "1");
    assert_eq!(read("value-hex-upper.yaml")[0]["data"]["port"], 31);
    assert_eq!(read("value-binary-upper.yaml")[0]["data"]["mask"], 5);
    assert_eq!(read("value-underscores.yaml")[0]["data"]["count"], 10);
    assert_eq!(read("duplicate-key.yaml")[0]["data"]["a"], "2");
    assert_eq!(
        read("cr-only.yaml").len(),
        1,
        "kubectl drops the second document"
    );
}
