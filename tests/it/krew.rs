//! The krew plugin manifest `krm/krew/release.sh` writes, held to krew's rules: the structural
//! validation krew runs on every manifest it reads (`internal/index/validation/validate.go`:
//! apiVersion, kind, name, short description, semver version, platforms with uri, sha256, bin,
//! files and an os/arch selector) and what krew-index's `validate-krew-manifest` adds (file
//! named after the plugin, line lengths, each selector matching a platform krew supports, no
//! two selectors matching the same one). Then the archives: the sha256 in the manifest is the
//! archive's, every `files` entry and the `bin` are in it, and the helper in it completes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-nixernetes");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// krew's `constants.CurrentAPIVersion`.
const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
/// Names krew refuses (Windows device names, any case).
const WINDOWS_FORBIDDEN: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
const OSES: &[&str] = &["darwin", "linux", "windows"];
const ARCHES: &[&str] = &["386", "amd64", "arm", "arm64"];

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// k8s.io/apimachinery's `ParseSemantic` after krew's leading-`v` check.
fn is_semver_with_v(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let (core, _build) = rest.split_once('+').unwrap_or((rest, ""));
    let (core, pre) = core.split_once('-').unwrap_or((core, ""));
    let numbers: Vec<&str> = core.split('.').collect();
    let number_ok = |n: &&str| {
        !n.is_empty()
            && n.chars().all(|c| c.is_ascii_digit())
            && (n.len() == 1 || !n.starts_with('0'))
    };
    numbers.len() == 3
        && numbers.iter().all(number_ok)
        && (pre.is_empty() || pre.split('.').all(is_word))
}

/// validate-krew-manifest's `validateLineLength`: a longer line is fine when it is one word.
fn lines_fit(text: &str, max: usize) -> bool {
    text.split('\n')
        .all(|l| l.chars().count() <= max || !l.trim().contains(' '))
}

fn check_keys(object: &Value, allowed: &[&str], at: &str, errors: &mut Vec<String>) {
    if let Some(map) = object.as_object() {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                errors.push(format!("{at}: unknown field {key:?}"));
            }
        }
    }
}

/// Whether the label selector `selector` selects `os`/`arch` (matchLabels and matchExpressions
/// ANDed, as metav1.LabelSelectorAsSelector reads them).
fn selects(selector: &Value, os: &str, arch: &str) -> bool {
    let label = |key: &str| match key {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = selector["matchLabels"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let exprs_ok = selector["matchExpressions"].as_array().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let value = label(e["key"].as_str().unwrap_or_default());
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v)),
                Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

/// Every way the manifest at `path` breaks krew's rules (empty: valid).
fn validate(path: &Path) -> Vec<String> {
    let mut errors = Vec::new();
    let text = std::fs::read_to_string(path).expect("read manifest");
    let m: Value = match serde_saphyr::from_str(&text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or_default();
    let Some(stem) = file.strip_suffix(".yaml") else {
        return vec![format!("manifest file {file} does not end in .yaml")];
    };
    check_keys(
        &m,
        &["apiVersion", "kind", "metadata", "spec"],
        "manifest",
        &mut errors,
    );
    if m["apiVersion"] != API_VERSION {
        errors.push(format!(
            "apiVersion is {}, not {API_VERSION}",
            m["apiVersion"]
        ));
    }
    if m["kind"] != "Plugin" {
        errors.push(format!("kind is {}, not Plugin", m["kind"]));
    }
    let name = m["metadata"]["name"].as_str().unwrap_or_default();
    if !is_word(stem)
        || WINDOWS_FORBIDDEN
            .iter()
            .any(|f| f.eq_ignore_ascii_case(stem))
    {
        errors.push(format!("the plugin name {stem:?} is not allowed"));
    }
    if name != stem {
        errors.push(format!("plugin should be named {stem:?}, not {name:?}"));
    }
    let spec = &m["spec"];
    check_keys(
        spec,
        &[
            "version",
            "homepage",
            "shortDescription",
            "description",
            "caveats",
            "platforms",
        ],
        "spec",
        &mut errors,
    );
    let short = spec["shortDescription"].as_str().unwrap_or_default();
    if short.is_empty() {
        errors.push("should have a short description".into());
    }
    if short.contains(['\r', '\n']) {
        errors.push("should not have line breaks in short description".into());
    }
    if !lines_fit(short, 70) {
        errors.push("line length in shortDescription exceeds 70 characters".into());
    }
    for (field, max) in [("description", 80), ("caveats", 80)] {
        if !lines_fit(spec[field].as_str().unwrap_or_default(), max) {
            errors.push(format!("line length in {field} exceeds {max} characters"));
        }
    }
    let version = spec["version"].as_str().unwrap_or_default();
    if !is_semver_with_v(version) {
        errors.push(format!(
            "version {version:?} is not semver with a leading v"
        ));
    }
    let homepage = spec["homepage"].as_str().unwrap_or_default();
    if !homepage.starts_with("https://") && !homepage.starts_with("http://") {
        errors.push(format!("homepage {homepage:?} is not a URL"));
    }
    let platforms = spec["platforms"].as_array().cloned().unwrap_or_default();
    if platforms.is_empty() {
        errors.push("should have a platform specified".into());
    }
    for (i, p) in platforms.iter().enumerate() {
        let at = format!("spec.platforms[{i}]");
        check_keys(
            p,
            &["uri", "sha256", "bin", "files", "selector"],
            &at,
            &mut errors,
        );
        if p["uri"].as_str().is_none_or(str::is_empty) {
            errors.push(format!("{at}: `uri` has to be set"));
        }
        let sha = p["sha256"].as_str().unwrap_or_default();
        if sha.len() != 64 || !sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
            errors.push(format!("{at}: `sha256` value {sha:?} is not valid"));
        }
        if p["bin"].as_str().is_none_or(str::is_empty) {
            errors.push(format!("{at}: `bin` has to be set"));
        }
        if let Some(files) = p.get("files") {
            match files.as_array() {
                Some(list) if !list.is_empty() => {
                    for f in list {
                        for key in ["from", "to"] {
                            if f[key].as_str().is_none_or(str::is_empty) {
                                errors.push(format!("{at}: `{key}` field has to be set"));
                            }
                        }
                    }
                }
                _ => errors.push(format!("{at}: `files` has to be unspecified or non-empty")),
            }
        }
        let sel = &p["selector"];
        let labels = sel.get("matchLabels").and_then(Value::as_object);
        let exprs = sel.get("matchExpressions").and_then(Value::as_array);
        if sel.is_null() {
            errors.push(format!("{at}: nil selector is not supported"));
        } else if labels.is_none() && exprs.is_none_or(Vec::is_empty) {
            errors.push(format!("{at}: empty selector is not supported"));
        } else {
            let keys = labels
                .into_iter()
                .flat_map(|l| l.keys().map(String::as_str))
                .chain(
                    exprs
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e["key"].as_str()),
                );
            for key in keys {
                if key != "os" && key != "arch" {
                    errors.push(format!("{at}: selector key {key:?} not supported"));
                }
            }
            if labels.is_some_and(|l| l.is_empty()) {
                errors.push(format!("{at}: `matchLabels` specified but empty"));
            }
            if exprs.is_some_and(|e| e.is_empty()) {
                errors.push(format!("{at}: `matchExpressions` specified but empty"));
            }
        }
        let matches_any = OSES
            .iter()
            .any(|os| ARCHES.iter().any(|arch| selects(sel, os, arch)));
        if !sel.is_null() && !matches_any {
            errors.push(format!(
                "{at}: selector doesn't match any supported platforms"
            ));
        }
    }
    for os in OSES {
        for arch in ARCHES {
            let matching: Vec<usize> = platforms
                .iter()
                .enumerate()
                .filter(|(_, p)| !p["selector"].is_null() && selects(&p["selector"], os, arch))
                .map(|(i, _)| i)
                .collect();
            if matching.len() > 1 {
                errors.push(format!(
                    "spec.platforms at {matching:?} have overlapping selectors that select os={os}/arch={arch}"
                ));
            }
        }
    }
    errors
}

/// Runs `krm/krew/release.sh` with `args`.
fn release(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(root().join("krm/krew/release.sh"))
        .args(args)
        .output()
        .expect("release.sh runs")
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

const HOMEPAGE: &str = "https://example.org/nixernetes";
const URL_BASE: &str = "https://example.org/nixernetes/releases/download/v0.1.0";

/// A stand-in for a release binary (the real one is tens of megabytes): a script that runs the
/// binary under test, so the helper in an archive has a plugin to ask.
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("kubectl-nixernetes");
    std::fs::write(&path, format!("#!/bin/sh\nexec '{BIN}' \"$@\"\n")).expect("write");
    Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .expect("chmod");
    path
}

#[test]
fn release_writes_a_manifest_krew_accepts_for_its_archives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("krew");
    let binary = stand_in(dir.path());
    let b = binary.display().to_string();
    let targets = [
        "linux/amd64",
        "linux/arm64",
        "darwin/amd64",
        "darwin/arm64",
        "windows/amd64",
    ];
    let mut args = vec![
        "--homepage".to_string(),
        HOMEPAGE.into(),
        "--url-base".into(),
        format!("{URL_BASE}/"),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(targets.iter().map(|t| format!("{t}={b}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = release(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let manifest = out.join("nixernetes.yaml");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        manifest.display().to_string()
    );
    let errors = validate(&manifest);
    assert!(errors.is_empty(), "{errors:#?}");

    let m: Value = serde_saphyr::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    // The version is Cargo's, with krew's leading v.
    assert_eq!(
        m["spec"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(m["spec"]["homepage"], HOMEPAGE);
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), targets.len());
    for (p, target) in platforms.iter().zip(targets) {
        let (os, arch) = target.split_once('/').unwrap();
        assert_eq!(p["selector"]["matchLabels"]["os"], os);
        assert_eq!(p["selector"]["matchLabels"]["arch"], arch);
        let archive = format!(
            "kubectl-nixernetes-v{}-{os}-{arch}.tar.gz",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(
            p["uri"],
            format!("{URL_BASE}/{archive}"),
            "one slash, the archive's name"
        );
        let path = out.join(&archive);
        assert_eq!(p["sha256"], sha256(&path), "{archive}");
        let listing = Command::new("tar")
            .arg("-tzf")
            .arg(&path)
            .output()
            .expect("tar runs");
        let listing = String::from_utf8_lossy(&listing.stdout);
        let entries: Vec<&str> = listing.lines().collect();
        let files = p["files"].as_array().unwrap();
        for f in files {
            let from = f["from"].as_str().unwrap();
            assert!(
                entries.contains(&from),
                "{archive} lacks {from}: {entries:?}"
            );
            assert_eq!(f["to"], ".");
        }
        let bin = p["bin"].as_str().unwrap();
        let expected_bin = if os == "windows" {
            "kubectl-nixernetes.exe"
        } else {
            "kubectl-nixernetes"
        };
        assert_eq!(bin, expected_bin);
        assert!(
            files.iter().any(|f| f["from"] == bin),
            "{archive}: bin not installed"
        );
        let helper = entries.contains(&"kubectl_complete-nixernetes");
        assert_eq!(helper, os != "windows", "{archive}: {entries:?}");
    }

    // Installed as krew lays a platform out (the files in one directory), the helper in the
    // archive completes through the binary next to it.
    let installed = dir.path().join("installed");
    std::fs::create_dir(&installed).unwrap();
    let archive = out.join(format!(
        "kubectl-nixernetes-v{}-linux-amd64.tar.gz",
        env!("CARGO_PKG_VERSION")
    ));
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&installed)
        .status()
        .unwrap();
    assert!(untar.success());
    let done = Command::new(installed.join("kubectl_complete-nixernetes"))
        .args(["kinds", "-o", ""])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("helper runs");
    assert_eq!(
        String::from_utf8_lossy(&done.stdout),
        "text\tAn aligned table\njson\tA JSON array of `{kind, apiVersion, seedModule, category, role, summary}`\n:4\n"
    );

    // Reproducible (GNU tar): the same inputs give the same archives, so the same manifest.
    let first = std::fs::read_to_string(&manifest).unwrap();
    let again = release(&args);
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), first);
}

/// The validator above finds each kind of mistake krew finds (so a passing manifest means
/// something).
#[test]
fn the_validator_refuses_what_krew_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = r#"apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: nixernetes
spec:
  version: v0.1.0
  homepage: https://example.org/nixernetes
  shortDescription: Render platform modules
  platforms:
  - selector:
      matchLabels:
        os: linux
        arch: amd64
    uri: https://example.org/a.tar.gz
    sha256: 805456e6ec92bfa737648b0223a00014a7eeec121a32e7b0d5ae314bdde80ffb
    bin: kubectl-nixernetes
"#;
    let check = |file: &str, text: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        validate(&path)
    };
    assert_eq!(check("nixernetes.yaml", good), Vec::<String>::new());
    let broken = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        check("nixernetes.yaml", &good.replace(from, to))
    };
    let cases: &[(&str, &str, &str)] = &[
        ("v1alpha2", "v1alpha1", "apiVersion"),
        ("kind: Plugin", "kind: Plugins", "kind is"),
        ("name: nixernetes", "name: nixer", "plugin should be named"),
        ("version: v0.1.0", "version: 0.1.0", "not semver with a leading v"),
        ("version: v0.1.0", "version: v0.1", "not semver with a leading v"),
        ("shortDescription: Render platform modules", "shortDescription: \"\"", "should have a short description"),
        (
            "shortDescription: Render platform modules",
            "shortDescription: Render declarative platform modules into validated, labelled Kubernetes manifests",
            "exceeds 70",
        ),
        ("sha256: 8054", "sha256: 8054X", "`sha256` value"),
        ("bin: kubectl-nixernetes", "bin: \"\"", "`bin` has to be set"),
        ("        os: linux\n", "        os: linux\n        libc: musl\n", "selector key \"libc\""),
        ("        os: linux\n", "        os: plan9\n", "doesn't match any supported platforms"),
        ("    bin: kubectl-nixernetes\n", "    bin: kubectl-nixernetes\n    files: []\n", "`files` has to be unspecified"),
        ("    bin: kubectl-nixernetes\n", "    bin: kubectl-nixernetes\n    binary: x\n", "unknown field \"binary\""),
        (
            "  platforms:\n",
            "  platforms:\n  - selector:\n      matchExpressions:\n      - key: os\n        operator: In\n        values: [linux, darwin]\n    uri: https://example.org/b.tar.gz\n    sha256: 805456e6ec92bfa737648b0223a00014a7eeec121a32e7b0d5ae314bdde80ffb\n    bin: kubectl-nixernetes\n",
            "overlapping selectors that select os=linux/arch=amd64",
        ),
        ("  platforms:\n  - selector:\n      matchLabels:\n        os: linux\n        arch: amd64\n", "  platforms:\n  - selector: {}\n", "empty selector"),
    ];
    for (from, to, expected) in cases {
        let errors = broken(from, to);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{to:?}: expected {expected:?} in {errors:#?}"
        );
    }
    assert!(check("Nixernetes.yaml", good)
        .iter()
        .any(|e| e.contains("should be named \"Nixernetes\"")));
    assert!(
        check("con.yaml", &good.replace("name: nixernetes", "name: con"))
            .iter()
            .any(|e| e.contains("is not allowed"))
    );
    assert!(!check("nixernetes.yml", good).is_empty());
}

#[test]
fn release_refuses_bad_arguments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = stand_in(dir.path());
    let b = binary.display().to_string();
    let out = dir.path().join("out").display().to_string();
    let fails = |args: &[&str], code: i32, message: &str| {
        let run = release(args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{args:?}: expected {message:?} in {stderr}"
        );
    };
    let linux = format!("linux/amd64={b}");
    fails(
        &["--url-base", URL_BASE, &linux],
        2,
        "--homepage is required",
    );
    fails(
        &["--homepage", HOMEPAGE, &linux],
        2,
        "--url-base is required",
    );
    fails(
        &["--homepage", HOMEPAGE, "--url-base", URL_BASE],
        2,
        "name at least one OS/ARCH=BINARY",
    );
    fails(
        &["--homepage", "example.org", "--url-base", URL_BASE, &linux],
        1,
        "example.org is not an http(s) URL",
    );
    fails(
        &[
            "--homepage",
            HOMEPAGE,
            "--url-base",
            URL_BASE,
            "--out",
            &out,
            &format!("linux/ppc64le={b}"),
        ],
        1,
        "ARCH must be amd64, arm64, arm or 386, not ppc64le",
    );
    fails(
        &[
            "--homepage",
            HOMEPAGE,
            "--url-base",
            URL_BASE,
            "--out",
            &out,
            &format!("plan9/amd64={b}"),
        ],
        1,
        "OS must be linux, darwin or windows, not plan9",
    );
    fails(
        &[
            "--homepage",
            HOMEPAGE,
            "--url-base",
            URL_BASE,
            "--out",
            &out,
            "linux/amd64=/nonexistent/kubectl-nixernetes",
        ],
        1,
        "no file /nonexistent/kubectl-nixernetes",
    );
    fails(
        &[
            "--homepage",
            HOMEPAGE,
            "--url-base",
            URL_BASE,
            "--out",
            &out,
            &b,
        ],
        1,
        "is not OS/ARCH=BINARY",
    );
    fails(
        &[
            "--homepage",
            HOMEPAGE,
            "--url-base",
            URL_BASE,
            "--out",
            &out,
            &linux,
            &linux,
        ],
        1,
        "linux/amd64 is named twice",
    );
    fails(
        &[
            "--homepage",
            HOMEPAGE,
            "--url-base",
            URL_BASE,
            "--out",
            &out,
            "--version",
            "0.1.0",
            &linux,
        ],
        1,
        "version 0.1.0 is not semver with a leading v",
    );
    fails(
        &[
            "--homepage",
            HOMEPAGE,
            "--url-base",
            URL_BASE,
            "--bogus",
            &linux,
        ],
        2,
        "unknown flag --bogus",
    );
}
