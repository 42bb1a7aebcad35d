//! The README's own steps, run as written: the block between `<!-- try-it:begin -->` and
//! `<!-- try-it:end -->` (the API-server double, `kubectl apply` and `diff` of the example
//! platform) is taken from README.md itself, so the test and the README cannot drift.
//!
//! Needs bash and kubectl: without kubectl it says so and passes, unless
//! `NIXERNETES_REQUIRE_KUBECTL=1` (CI).

use crate::common::kubectl_available;
use std::path::Path;
use std::process::Command;

const BEGIN: &str = "<!-- try-it:begin -->";
const END: &str = "<!-- try-it:end -->";

/// The commands of the README's try-it block (the lines inside its ```sh fence).
fn try_it_block() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find(BEGIN)
        .expect("README has the try-it:begin marker")
        + BEGIN.len();
    let len = readme[start..]
        .find(END)
        .expect("README has the try-it:end marker");
    let block = readme[start..start + len].trim();
    let body = block
        .strip_prefix("```sh\n")
        .and_then(|b| b.strip_suffix("```"))
        .expect("the try-it markers hold one ```sh block");
    assert!(
        body.contains("kubectl nixernetes apply") && body.contains("kubectl nixernetes diff"),
        "{body}"
    );
    body.to_string()
}

#[test]
fn the_readme_try_it_commands_work_as_written() {
    if !kubectl_available() {
        return;
    }
    let block = try_it_block();
    // kubectl finds the plugin on PATH, as after install.sh.
    let bin_dir = tempfile::tempdir().expect("tmp");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kubectl-nixernetes"),
        bin_dir.path().join("kubectl-nixernetes"),
    )
    .expect("link");
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Any failing command fails the run; a double left running (a command failed before the
    // block's own `kill`) is stopped on exit.
    let script =
        format!("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{block}\n");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path)
        .env_remove("KUBECONFIG")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the README's try-it block failed ({}):\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    // apply created every object, the Namespace and the operator kinds among them.
    for applied in [
        "v1 Namespace chat created\n",
        "postgresql.cnpg.io/v1 Cluster chat/chat-db created\n",
        " Kafka chat/events created\n",
    ] {
        assert!(stdout.contains(applied), "{applied}\n{stdout}");
    }
    // Then diff found nothing to change (its summary line is on stderr, after render's notes).
    let summary = stderr.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(" unchanged") && !summary.contains(','),
        "diff's summary: {summary}\n{stderr}"
    );
}
