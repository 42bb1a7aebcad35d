//! What is generated from the kinds, checked (STYLE.md 11):
//!
//! - the committed `docs/kinds/*.md`, `schemas/*.json` and the README's kinds table are what
//!   `nixernetes::docs` makes of the registry now (`UPDATE_GOLDEN=1` rewrites them and removes
//!   files of kinds that are gone), and `schemas/<Kind>.json` is what the binary prints for
//!   `schema KIND`;
//! - every kind's JSON Schema accepts its example and every module resource of that kind under
//!   `examples/`, and rejects its negative input `tests/kinds/<Kind>/invalid.yaml`;
//! - the CustomResourceDefinitions of `schema --crd` are accepted by the real kubectl against
//!   the API-server double (server-side dry run, then applied: discovery serves every kind).
//!   Without kubectl that test says so and passes, unless `NIXERNETES_REQUIRE_KUBECTL=1`.

use crate::common;

use common::cluster::Cluster;
use nixernetes::kind::KindDef;
use nixernetes::modules::registry;
use nixernetes::schema::crd::plural;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn update() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some()
}

/// The first line where `a` and `b` differ, for a short failure message.
fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for n in 1.. {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => return "only line endings differ".into(),
            (x, y) => {
                return format!(
                    "line {n}: committed {:?}, generated {:?}",
                    x.unwrap_or("<end>"),
                    y.unwrap_or("<end>")
                )
            }
        }
    }
    unreachable!()
}

#[test]
fn generated_files_are_current() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let artifacts = nixernetes::docs::artifacts(registry(), &readme).expect("generate");
    let mut failures = Vec::new();
    for a in &artifacts {
        let path = root().join(&a.path);
        if update() {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
            std::fs::write(&path, &a.text).expect("write");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == a.text => {}
            Ok(committed) => failures.push(format!(
                "{} is stale ({})",
                a.path,
                first_difference(&committed, &a.text)
            )),
            Err(_) => failures.push(format!("{} is missing", a.path)),
        }
    }
    // Files of kinds that are gone.
    let made: BTreeSet<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    for dir in ["docs/kinds", "schemas"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("generated dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let rel = format!("{dir}/{name}");
            if made.contains(rel.as_str()) {
                continue;
            }
            if update() {
                std::fs::remove_file(root().join(&rel)).expect("remove stale file");
            } else {
                failures.push(format!("{rel} is generated from no kind"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nrun `{}` and review the diff",
        failures.join("\n"),
        nixernetes::docs::REGENERATE
    );
}

/// `schemas/<Kind>.json` is what the binary prints: `schema KIND` is how users get it.
#[test]
fn the_binary_prints_the_committed_schemas() {
    for def in registry().iter() {
        let out = common::run_binary(&["schema", &def.kind.to_ascii_lowercase()]);
        assert_eq!(out.status, 0, "{}: {}", def.kind, out.stderr);
        assert_eq!(
            out.stdout,
            nixernetes::docs::schema_text(def),
            "schema {}",
            def.kind
        );
    }
    let all = common::run_binary(&["schema"]);
    let all: Value = serde_json::from_str(&all.stdout).expect("a JSON array");
    let titles: Vec<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["title"].as_str())
        .collect();
    let kinds: Vec<&str> = registry().iter().map(|d| d.kind).collect();
    assert_eq!(titles, kinds);
}

/// The module resources (`apiVersion: nixernetes.io/v1alpha1`) of a YAML file.
fn module_documents(path: &Path) -> Vec<(usize, Value)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    nixernetes::yaml::parse_stream(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .filter(|d| d.value["apiVersion"] == nixernetes::schema::API_VERSION)
        .map(|d| (d.line, d.value))
        .collect()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

fn validator(def: &KindDef) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&def.schema())
        .unwrap_or_else(|e| panic!("{}: the schema does not compile: {e}", def.kind))
}

fn problems(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// What editors and validators are given must agree with the engine: every kind's schema
/// accepts every module resource of that kind in its example and under `examples/`, and
/// rejects its negative input (some module resource of `invalid.yaml` fails it).
#[test]
fn schemas_accept_the_examples_and_reject_the_negative_inputs() {
    let validators: Vec<(&KindDef, jsonschema::Validator)> =
        registry().iter().map(|d| (d, validator(d))).collect();
    let of = |kind: &str| {
        validators
            .iter()
            .find(|(d, _)| d.kind == kind)
            .map(|(_, v)| v)
    };
    let mut files = vec![];
    yaml_files(&root().join("examples"), &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut accepted: BTreeSet<&str> = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(root()).expect("under root").display();
        for (line, doc) in module_documents(file) {
            let kind = doc["kind"].as_str().unwrap_or_default();
            if kind == nixernetes::rules::VALIDATION_RULE {
                // Configuration read by the rules, not a registered kind: its own schema.
                let schema = nixernetes::rules::spec_schema();
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&schema)
                    .expect("the rule schema compiles");
                let found = problems(&v, &doc["spec"]);
                if !found.is_empty() {
                    failures.push(format!("{rel}:{line}: {kind} refused: {found:?}"));
                }
                continue;
            }
            if kind == nixernetes::userkinds::KIND_DEFINITION {
                // Likewise, read by the user kinds: the schema of its spec.
                let schema = nixernetes::userkinds::spec_schema();
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&schema)
                    .expect("the definition schema compiles");
                let found = problems(&v, &doc["spec"]);
                if !found.is_empty() {
                    failures.push(format!("{rel}:{line}: {kind} refused: {found:?}"));
                }
                continue;
            }
            let Some(v) = of(kind) else {
                failures.push(format!("{rel}:{line}: {kind} is no registered kind"));
                continue;
            };
            let found = problems(v, &doc);
            if found.is_empty() {
                accepted.extend(registry().lookup(kind).map(|d| d.kind));
            } else {
                failures.push(format!("{rel}:{line}: {kind} refused: {found:?}"));
            }
        }
    }
    for (def, v) in &validators {
        // The example is compiled in; it is one of the files above, read here as compiled.
        let docs = nixernetes::yaml::parse_stream(def.example.text).expect("example parses");
        let own: Vec<&Value> = docs
            .iter()
            .map(|d| &d.value)
            .filter(|d| d["kind"] == def.kind)
            .collect();
        if own.is_empty() {
            failures.push(format!("{}: its example has no {0}", def.kind));
        }
        for doc in own {
            let found = problems(v, doc);
            if !found.is_empty() {
                failures.push(format!("{}: example refused: {found:?}", def.kind));
            }
        }
        if !accepted.contains(def.kind) {
            failures.push(format!(
                "{}: no example under examples/ was checked",
                def.kind
            ));
        }
        let invalid = root()
            .join("tests/kinds")
            .join(def.kind)
            .join("invalid.yaml");
        let negative: Vec<(usize, Value)> = module_documents(&invalid)
            .into_iter()
            .filter(|(_, d)| d["kind"] == def.kind)
            .collect();
        if !negative.iter().any(|(_, d)| !v.is_valid(d)) {
            failures.push(format!(
                "{}: the schema accepts every document of tests/kinds/{0}/invalid.yaml: add one \
                 with the mistakes a schema catches (misspelled field, wrong type, bad value)",
                def.kind
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The CRDs are what a real API server takes: kubectl (client-side checks and a server-side
/// dry run) accepts them, and once applied, discovery serves every kind under its plural.
#[test]
fn kubectl_accepts_the_crds() {
    if !common::kubectl_available() {
        return;
    }
    let out = common::run_binary(&["schema", "--crd", "-o", "yaml"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let cluster = Cluster::new();
    let file = cluster.file("crds.yaml", &out.stdout);
    let file = file.to_str().expect("utf-8 path");
    let dry = cluster.ok(&["apply", "--server-side", "--dry-run=server", "-f", file]);
    for def in registry().iter() {
        let line = format!(
            "customresourcedefinition.apiextensions.k8s.io/{}.nixernetes.io serverside-applied (server dry run)",
            plural(def.kind)
        );
        assert!(dry.lines().any(|l| l == line), "{line} not in:\n{dry}");
    }
    cluster.ok(&["apply", "--server-side", "-f", file]);
    let served = cluster.ok(&[
        "api-resources",
        "--api-group=nixernetes.io",
        "--no-headers",
        "-o",
        "name",
    ]);
    let mut served: Vec<&str> = served.lines().collect();
    served.sort();
    let mut expected: Vec<String> = registry()
        .iter()
        .map(|d| format!("{}.nixernetes.io", plural(d.kind)))
        .collect();
    expected.sort();
    assert_eq!(served, expected);
    // kubectl now maps each kind to its resource: the example module resources dry-run apply.
    let mut stream = String::new();
    for def in registry().iter() {
        for doc in nixernetes::yaml::parse_stream(def.example.text).expect("example") {
            let mut doc = doc.value;
            if doc["kind"] == def.kind {
                // Into `default`: the double has only the namespaces the test creates.
                if let Some(meta) = doc["metadata"].as_object_mut() {
                    meta.remove("namespace");
                }
                stream.push_str("---\n");
                stream.push_str(&nixernetes::yaml::to_string(&doc));
            }
        }
    }
    let examples = cluster.file("examples.yaml", &stream);
    let applied = cluster.ok(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-n",
        "default",
        "-f",
        examples.to_str().expect("utf-8 path"),
    ]);
    for def in registry().iter() {
        let prefix = format!("{}.nixernetes.io/", def.kind.to_ascii_lowercase());
        assert!(
            applied.lines().any(|l| l.starts_with(&prefix)),
            "no {prefix}… in:\n{applied}"
        );
    }
}
