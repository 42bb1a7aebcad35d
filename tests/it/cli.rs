//! Command-line behaviour outside rendering itself: `version`, `install.sh`, `check` of
//! directories with unreadable files, and empty input.

use crate::common::{run_binary, run_binary_with};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The commit `git` reports for this work tree, when the tests run in one.
fn git_head() -> Option<String> {
    let run = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(ROOT)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let top = run(&["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(ROOT).ok()? {
        return None;
    }
    run(&["rev-parse", "--short", "HEAD"])
}

#[test]
fn version_prints_version_commit_and_kubernetes_minors() {
    let text = run_binary(&["version"]);
    assert_eq!(text.status, 0, "{}", text.stderr);
    let json = run_binary(&["version", "-o", "json"]);
    assert_eq!(json.status, 0, "{}", json.stderr);
    let v: Value = serde_json::from_str(&json.stdout).expect("version -o json");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        v["kubernetesVersions"],
        serde_json::json!(["1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"])
    );
    assert_eq!(v["defaultKubernetesVersion"], "1.31");
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("kubectl-nixernetes {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(lines[2], "Kubernetes: 1.31 to 1.37 (default 1.31)");
    match git_head() {
        // Built from this work tree: build.rs stamped its HEAD.
        Some(head) => {
            assert_eq!(v["gitCommit"], head.as_str());
            assert_eq!(lines[1], format!("git commit: {head}"));
        }
        None => {
            assert!(v["gitCommit"].is_null(), "{v}");
            assert!(lines[1].starts_with("git commit: unknown"), "{}", lines[1]);
        }
    }
    // --version stays clap's one line.
    let short = run_binary(&["--version"]);
    assert_eq!(
        short.stdout,
        format!("kubectl-nixernetes {}\n", env!("CARGO_PKG_VERSION"))
    );
    let bad = run_binary(&["version", "-o", "yaml"]);
    assert_eq!(bad.status, 2);
}

/// Runs `install.sh` with a stand-in `cargo` first on PATH (a release build is too slow for a
/// test): it "builds" into `CARGO_TARGET_DIR` and prints cargo's JSON messages (the shape of a
/// real `cargo build --message-format=json-render-diagnostics`), or, with `FAKE_NO_EXE=1`,
/// none naming the binary.
fn install_with_fake_cargo(
    extra_env: &[(&str, &str)],
) -> (std::process::Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tmp");
    let fake = tmp.path().join("fakebin");
    std::fs::create_dir(&fake).unwrap();
    let cargo = fake.join("cargo");
    std::fs::write(
        &cargo,
        r#"#!/bin/sh
printf '%s\n' "$*" > "$FAKE_CARGO_LOG"
echo "   Compiling nixernetes v0.1.0" >&2
dir="${CARGO_TARGET_DIR:?the test sets CARGO_TARGET_DIR}/release"
mkdir -p "$dir"
printf '#!/bin/sh\necho "kubectl-nixernetes from-target-dir $1"\n' > "$dir/kubectl-nixernetes"
chmod +x "$dir/kubectl-nixernetes"
echo '{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#anyhow@1.0.0","target":{"kind":["lib"],"crate_types":["lib"],"name":"anyhow"},"filenames":["/x/libanyhow.rlib"],"executable":null,"fresh":true}'
if [ -z "$FAKE_NO_EXE" ]; then
  echo '{"reason":"compiler-artifact","package_id":"path+file:///src#nixernetes@0.1.0","target":{"kind":["bin"],"crate_types":["bin"],"name":"kubectl-nixernetes","src_path":"/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"3"},"features":["api-double","default"],"filenames":["'"$dir"'/kubectl-nixernetes"],"executable":"'"$dir"'/kubectl-nixernetes","fresh":false}'
fi
echo '{"reason":"build-finished","success":true}'
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("install.sh"))
        .env("PATH", path)
        .env("PREFIX", tmp.path().join("prefix"))
        .env("CARGO_TARGET_DIR", tmp.path().join("elsewhere"))
        .env("FAKE_CARGO_LOG", tmp.path().join("cargo.log"))
        .env("HOME", tmp.path())
        .envs(extra_env.iter().copied())
        .output()
        .expect("bash install.sh");
    (out, tmp)
}

/// `install.sh` installs the binary cargo built under `CARGO_TARGET_DIR`, not `target/`.
#[test]
fn install_sh_takes_the_binary_from_cargo_target_dir() {
    let (out, tmp) = install_with_fake_cargo(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "install.sh failed:\n{stderr}");
    let installed = tmp.path().join("prefix/bin/kubectl-nixernetes");
    let ran = Command::new(&installed)
        .arg("version")
        .output()
        .expect("installed binary");
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout),
        "kubectl-nixernetes from-target-dir version\n"
    );
    let elsewhere = tmp.path().join("elsewhere/release/kubectl-nixernetes");
    assert!(
        stderr.contains(&format!("(from {})", elsewhere.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("  kubectl-nixernetes from-target-dir version"),
        "{stderr}"
    );
    let log = std::fs::read_to_string(tmp.path().join("cargo.log")).unwrap();
    assert!(log.contains("build --release --locked"), "{log}");
    assert!(
        log.contains("--message-format=json-render-diagnostics"),
        "{log}"
    );
    // A cargo that names no binary: a clear error, nothing installed.
    let (out, tmp) = install_with_fake_cargo(&[("FAKE_NO_EXE", "1")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("did not say where"), "{stderr}");
    assert!(!tmp.path().join("prefix/bin/kubectl-nixernetes").exists());
}

/// A directory with one good, one unparsable and one non-object file.
fn mixed_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "a-pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n",
    );
    write(
        "b-broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [unclosed\n",
    );
    write("c-list.yaml", "# a list, not an object\n- 1\n");
    write(
        "d-pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: worker, namespace: shop}\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: busybox:1.36\n",
    );
    dir
}

/// `check` of a directory reports each unreadable file at its line and still checks the others,
/// in every format, with exit 2; `render` of the same directory outputs nothing.
#[test]
fn check_reports_unreadable_files_and_checks_the_rest() {
    let dir = mixed_dir();
    let d = dir.path().to_str().unwrap();
    let broken = format!("{d}/b-broken.yaml");
    let list = format!("{d}/c-list.yaml");
    let text = run_binary(&["check", d]);
    assert_eq!(text.status, 2, "{}", text.stderr);
    assert!(
        text.stdout
            .contains(&format!("{broken}\n     5  error   -")),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!("{list}\n     2  error")),
        "{}",
        text.stdout
    );
    // Both good files were checked.
    assert!(text.stdout.contains("Pod/shop/web"), "{}", text.stdout);
    assert!(text.stdout.contains("Pod/shop/worker"), "{}", text.stdout);
    assert!(text.stdout.contains("host-namespaces"), "{}", text.stdout);
    assert!(text.stdout.contains("2 objects checked"), "{}", text.stdout);
    assert!(
        text.stderr.contains(&format!(
            "not read, so not checked (errors in the report): {broken}, {list}"
        )),
        "{}",
        text.stderr
    );
    let json = run_binary(&["check", d, "-o", "json"]);
    assert_eq!(json.status, 2);
    let report: Value = serde_json::from_str(&json.stdout).expect("json report");
    let at = |file: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == file)
            .cloned()
            .unwrap_or_else(|| panic!("no finding at {file}: {report}"))
    };
    assert_eq!(at(&broken)["line"], 5);
    assert_eq!(at(&broken)["severity"], "error");
    assert_eq!(at(&list)["line"], 2);
    assert_eq!(report["summary"]["objects"], 2);
    let sarif = run_binary(&["check", d, "-o", "sarif"]);
    assert_eq!(sarif.status, 2);
    assert!(sarif.stdout.contains("\"ruleId\": \"invalid-input\""));
    assert!(sarif.stdout.contains("b-broken.yaml"));
    // Nothing readable at all: the errors alone, exit 2.
    let only = run_binary(&["check", &broken]);
    assert_eq!(only.status, 2);
    assert!(only.stdout.is_empty());
    assert!(
        only.stderr
            .contains(&format!("error: {broken}:5: invalid YAML")),
        "{}",
        only.stderr
    );
    // render refuses partial output.
    let render = run_binary(&["render", d]);
    assert_eq!(render.status, 1);
    assert!(render.stdout.is_empty());
    assert!(
        render.stderr.contains(&format!("{broken}:5")),
        "{}",
        render.stderr
    );
    assert!(
        render.stderr.contains(&format!("{list}:2")),
        "{}",
        render.stderr
    );
}

/// Empty input (stdin, or a directory of comments and empty documents) is an error, as
/// kubectl's `no objects passed to apply`: exit 1 and nothing on stdout, in both formats.
#[test]
fn render_of_empty_input_says_no_objects() {
    for (args, stdin, named) in [
        (vec!["render", "-"], Some(""), "stdin"),
        (
            vec!["render", "-", "-o", "json"],
            Some("# only a comment\n---\n...\n"),
            "stdin",
        ),
    ] {
        let out = run_binary_with(&args, &[], stdin);
        assert_eq!(out.status, 1, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert!(
            out.stderr
                .starts_with(&format!("error: no objects in the input ({named}:")),
            "{args:?}: {}",
            out.stderr
        );
    }
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("empty.yaml"), "# nothing yet\n---\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run_binary(&["render", d]);
    assert_eq!(out.status, 1);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains(&format!("no objects in the input ({d}:")),
        "{}",
        out.stderr
    );
    // One empty file among others is fine.
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
    )
    .unwrap();
    let out = run_binary(&["render", d]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kind: ConfigMap"));
}
