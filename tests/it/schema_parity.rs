//! The built-in `schema` check agrees with `../shared/schemas/validate.py` on every object of
//! every fixture and example: both call it valid, both invalid, or both find no schema.
//!
//! Our side is the library the check runs (`schema::resources::Schemas`, with the custom
//! resource schemas of `$NIXERNETES_SCHEMAS/crds` given as `--crd` would give them), for
//! Kubernetes 1.35 (validate.py's default). validate.py's side is its own lookup, loader and
//! validator, driven over all files in one Python process. Plain-object files (test fixtures,
//! policy cases, rules) are compared as written; examples (module resources) through what
//! `render -o json` makes of them, which must also be valid (our own output). Files either
//! side cannot read as YAML are skipped (their errors are tested elsewhere).
//!
//! Skipped loudly when the schema folder or Python's jsonschema/pyyaml is missing (failing
//! under `CI=true`, as the other schema tests do).

use nixernetes::schema::resources::{Outcome, Schemas};
use nixernetes::types::KubernetesVersion;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Prints, for each file named on stdin (one per line): `FILE <path>`, then `OK`, `FAIL` or
/// `UNKNOWN` per object in document order (`ERROR` once for an unreadable file).
const DRIVER: &str = r#"
import sys, yaml
sys.path.insert(0, sys.argv[1])
import validate as v
schemas = v.Schemas(sys.argv[1], "1.35")
for path in sys.stdin.read().splitlines():
    print("FILE " + path)
    try:
        with open(path, encoding="utf-8") as f:
            docs = list(yaml.load_all(f, Loader=v.KubeLoader))
    except Exception:
        print("ERROR")
        continue
    for doc in docs:
        if doc is None:
            continue
        for obj in v._objects(v._jsonify(doc)):
            if not isinstance(obj, dict) or not obj.get("kind") or not obj.get("apiVersion"):
                print("FAIL")
                continue
            val = schemas.lookup(obj.get("apiVersion"), obj.get("kind"))
            if val is None:
                print("UNKNOWN")
            else:
                core = val.schema.get("$schema") is not None
                # A CRD may constrain only metadata.name and generateName; the API server keeps
                # every other ObjectMeta field (so does the schema check). The catalog closes a
                # few such metadata schemas (InnoDBCluster): that error is not counted.
                errs = [e for e in val.iter_errors(obj)
                        if core or not (e.json_path == "$.metadata" and e.validator == "additionalProperties")]
                print("FAIL" if errs else "OK")
"#;

/// Files that validate.py reads otherwise than Kubernetes' readers (and ours) do, so that the
/// two validators are not given the same objects: not compared (their rendered output is).
const READER_DIFFERENCES: &[(&str, &str)] = &[
    (
        "tests/fixtures/fidelity/crd.yaml",
        "`maximum: 1e3` is a number to Go's YAML reader and ours, a string to PyYAML (YAML 1.1 wants `1.0e3`)",
    ),
    (
        "tests/fixtures/fidelity/group-lists.yaml",
        "a `RoleList`: kubectl reads the items of a List of any group, validate.py only those of `kind: List`",
    ),
];

/// A KRM ResourceList: we read its items, validate.py the list itself (which has no schema).
fn is_resource_list(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains("kind: ResourceList"))
}

fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn skip(msg: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
    assert!(!ci, "{msg} (CI=true: failing instead of skipping)");
    loud(&format!(
        "\n!!!!!!!!!!\n!!! SKIPPED schema parity: {msg}\n!!!!!!!!!!\n"
    ));
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// What `render -o json --kubernetes-version 1.35 FILE` emits, as a JSON file in `dir`.
fn rendered(file: &Path, dir: &Path, n: usize) -> Option<PathBuf> {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .args(["render", "-o", "json", "--kubernetes-version", "1.35"])
        .arg(file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let path = dir.join(format!("rendered-{n}.yaml"));
    std::fs::write(&path, &out.stdout).ok()?;
    Some(path)
}

fn ours(schemas: &Schemas, path: &Path) -> Option<Vec<&'static str>> {
    let text = std::fs::read_to_string(path).ok()?;
    let objects = nixernetes::source::parse_text(&text, &path.to_string_lossy()).ok()?;
    let minor = KubernetesVersion::from_minor(35).expect("1.35 is supported");
    Some(
        objects
            .iter()
            .map(|r| match schemas.validate(&r.object, minor) {
                Outcome::Checked(v) if v.is_empty() => "OK",
                Outcome::Checked(_) => "FAIL",
                Outcome::NoSchema => "UNKNOWN",
            })
            .collect(),
    )
}

/// The Python that runs validate.py: `NIXERNETES_PYTHON` (.ci/run installs one with its
/// packages), else `python3` from PATH.
fn python() -> std::ffi::OsString {
    std::env::var_os("NIXERNETES_PYTHON")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "python3".into())
}

#[test]
fn schema_check_agrees_with_validate_py() {
    let root = match std::env::var_os("NIXERNETES_SCHEMAS").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas"),
    };
    if !root.join("validate.py").is_file() {
        return skip(&format!(
            "no validate.py in {}; set NIXERNETES_SCHEMAS",
            root.display()
        ));
    }
    let probe = Command::new(python())
        .args(["-c", "import jsonschema, yaml, referencing"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        return skip(
            "python3 with jsonschema and pyyaml is needed (pip install jsonschema pyyaml)",
        );
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for dir in [
        "tests/fixtures",
        "tests/policy",
        "tests/rules",
        "tests/cases",
    ] {
        yaml_files(&base.join(dir), &mut files);
    }
    let mut examples = Vec::new();
    yaml_files(&base.join("examples"), &mut examples);
    examples.sort();
    let mut rendered_files = Vec::new();
    for (n, e) in examples.iter().enumerate() {
        if let Some(p) = rendered(e, tmp.path(), n) {
            rendered_files.push((p, e.clone()));
        }
    }
    assert!(
        rendered_files.len() > 20,
        "too few examples rendered: {}",
        rendered_files.len()
    );
    files.sort();
    let all: Vec<(PathBuf, String)> = files
        .iter()
        .map(|p| {
            (
                p.clone(),
                p.strip_prefix(base).unwrap_or(p).display().to_string(),
            )
        })
        .chain(rendered_files.iter().map(|(p, e)| {
            (
                p.clone(),
                format!("render {}", e.strip_prefix(base).unwrap_or(e).display()),
            )
        }))
        .collect();

    let crd_sources = nixernetes::source::crds::read(&[root.join("crds").display().to_string()])
        .expect("the schema folder's crds/ reads as --crd");
    let mut schemas = Schemas::new();
    for s in &crd_sources {
        schemas.add(s);
    }
    // Our verdicts first: a file our reader refuses (an alias bomb, broken YAML) is not handed
    // to PyYAML, which would expand the bomb.
    let total = all.len();
    let (all, verdicts): (Vec<(PathBuf, String)>, Vec<Vec<&str>>) = all
        .into_iter()
        .filter(|(p, _)| !is_resource_list(p))
        .filter(|(p, _)| !READER_DIFFERENCES.iter().any(|(f, _)| p.ends_with(f)))
        .filter_map(|(p, l)| {
            let v = ours(&schemas, &p)?;
            Some(((p, l), v))
        })
        .unzip();
    let mut skipped = total - all.len();

    let mut child = Command::new(python())
        .args(["-c", DRIVER])
        .arg(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let list: String = all
        .iter()
        .map(|(p, _)| format!("{}\n", p.display()))
        .collect();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(list.as_bytes())
        .expect("write file list");
    let out = child.wait_with_output().expect("validate.py driver");
    assert!(out.status.success(), "validate.py driver failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut theirs: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("FILE ") {
            theirs.push(Vec::new());
        } else if let Some(last) = theirs.last_mut() {
            last.push(line);
        }
    }
    assert_eq!(
        theirs.len(),
        all.len(),
        "validate.py driver answered for every file"
    );

    let (mut objects, mut invalid) = (0, 0);
    let mut disagreements = Vec::new();
    for (((_, label), py), rs) in all.iter().zip(&theirs).zip(&verdicts) {
        if py.first() == Some(&"ERROR") {
            skipped += 1;
            continue;
        }
        if rs.len() != py.len() {
            disagreements.push(format!(
                "{label}: {} objects for us, {} for validate.py",
                rs.len(),
                py.len()
            ));
            continue;
        }
        for (i, (a, b)) in rs.iter().zip(py).enumerate() {
            objects += 1;
            invalid += usize::from(*b == "FAIL");
            if a != b {
                disagreements.push(format!("{label}: object {i}: ours {a}, validate.py {b}"));
            }
            if label.starts_with("render ") && *a == "FAIL" {
                disagreements.push(format!(
                    "{label}: object {i}: our own output fails its schema"
                ));
            }
        }
    }
    loud(&format!(
        "schema parity: {objects} objects in {} files compared with validate.py ({invalid} invalid); {skipped} files unreadable as YAML skipped",
        total - skipped
    ));
    assert!(objects > 500, "too few objects compared: {objects}");
    assert!(
        invalid > 0,
        "no invalid object among the fixtures: the comparison proves nothing"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
