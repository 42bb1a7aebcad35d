//! Properties every mode must keep whatever the input: bad input gives a located error, a
//! non-zero exit, an empty stdout and no panic; identical input gives identical bytes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("KUSTOMIZE_PLUGIN_CONFIG_STRING")
        .env_remove("SOURCE_DATE_EPOCH");
    c
}

fn run_stdin(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut pipe = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

/// Asserts the failure contract and returns stderr.
fn assert_rejected(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: exit code; stderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: stdout must be empty, got {} bytes",
        out.stdout.len()
    );
    assert!(!stderr.contains("panicked"), "{what}: panic:\n{stderr}");
    assert!(
        stderr.starts_with("error: "),
        "{what}: stderr should start with an error:\n{stderr}"
    );
    stderr
}

#[test]
fn a_20_mb_scalar_is_refused_with_a_location() {
    let mut doc =
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: ".to_vec();
    doc.extend(std::iter::repeat_n(b'x', 20 * 1024 * 1024));
    doc.push(b'\n');
    let out = run_stdin(&["render", "-"], doc);
    let stderr = assert_rejected(&out, "20 MB scalar");
    assert!(stderr.contains("error: -:"), "located in stdin: {stderr}");
    assert!(
        stderr.contains("MiB of text"),
        "says what the limit is: {stderr}"
    );
}

#[test]
fn binary_garbage_on_stdin_is_refused_in_every_mode() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let out = run_stdin(&["render", "-"], garbage.clone());
    assert_rejected(&out, "render");
    let out = run_stdin(
        &["kustomize-plugin", "tests/fixtures/plugin-defaults.yaml"],
        garbage.clone(),
    );
    assert_rejected(&out, "legacy plugin");
    // The KRM function reports failures in `results` on stdout, with exit 1.
    let out = run_stdin(&["fn"], garbage);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("severity: error") && stdout.contains("UTF-8"),
        "{stdout}"
    );
}

#[test]
fn one_bad_document_means_no_output_at_all() {
    let mut input = std::fs::read("examples/kubernetes-core/web-app.yaml").expect("example");
    input.extend_from_slice(b"---\napiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {name: w}\nspec: {image: \"x\", replicas: -3}\n");
    let out = run_stdin(&["render", "-"], input);
    let stderr = assert_rejected(&out, "mixed good and bad");
    assert!(stderr.contains("spec.replicas"), "{stderr}");
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let out = bin()
        .args(["render", "tests/kinds/WebApp/invalid.yaml"])
        .output()
        .expect("run");
    let stderr = assert_rejected(&out, "many errors");
    assert!(
        stderr.lines().count() >= 6,
        "expected all errors:\n{stderr}"
    );
}

#[test]
fn output_is_byte_identical_across_runs() {
    let run = |args: &[&str]| bin().args(args).output().expect("run").stdout;
    for args in [
        &[
            "render",
            "examples/kubernetes-core/web-app.yaml",
            "examples/database-management/postgresql.yaml",
            "examples/kubernetes-core/stateful-service.yaml",
        ][..],
        &["render", "-o", "json", "examples/platform"][..],
    ] {
        let first = run(args);
        assert!(!first.is_empty(), "{args:?} produced output");
        for _ in 0..3 {
            assert_eq!(run(args), first, "{args:?} differs between runs");
        }
    }
}

#[test]
fn a_closed_stdout_is_a_clean_exit() {
    let mut child = bin()
        .args(["render", "examples/platform"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// The KRM function writes its ResourceList in pieces; a list longer than one piece still comes
/// out whole: on a late error every item as given (no injected labels) and the result, exit 1;
/// without it every item rendered, exit 0.
#[test]
fn a_long_resource_list_comes_out_whole_with_or_without_a_late_error() {
    let n = 3_000;
    let mut list =
        String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    for i in 0..n {
        list.push_str(&format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n    namespace: b\n  data: {{k: v}}\n"
        ));
    }
    let bad = "- apiVersion: nixernetes.io/v1alpha1\n  kind: Worker\n  metadata: {name: w, namespace: b}\n  spec: {image: \"x\", replicas: -3}\n";
    for (late_error, code) in [(true, 1), (false, 0)] {
        let input = if late_error {
            format!("{list}{bad}")
        } else {
            list.clone()
        };
        let out = run_stdin(&["fn"], input.into_bytes());
        let stdout = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(out.status.code(), Some(code), "late error {late_error}");
        assert!(stdout.len() > 256 * 1024, "{} bytes", stdout.len());
        let value = nixernetes::yaml::parse_one(&stdout).expect("one ResourceList");
        let items = value["items"].as_array().expect("items");
        assert_eq!(items.len(), n + usize::from(late_error));
        for (i, item) in items.iter().take(n).enumerate() {
            assert_eq!(item["metadata"]["name"], format!("c{i}"));
            // Items come back as given on failure, rendered otherwise.
            assert_eq!(item["metadata"]["labels"].is_null(), late_error, "{item}");
        }
        let results = value["results"].as_array().map_or(0, Vec::len);
        if late_error {
            assert!(stdout.contains("spec.replicas"), "the error is reported");
            assert!(results >= 1);
        }
        assert!(stdout.ends_with('\n'));
    }
}
