//! Support shared by the integration tests (each test binary uses a part of it).
#![allow(dead_code)]

pub mod cluster;

use std::process::{Command, Stdio};

/// Whether kubectl is usable. Without it the caller's test says so and passes, unless
/// `NIXERNETES_REQUIRE_KUBECTL=1` (CI), which makes it a failure.
pub fn kubectl_available() -> bool {
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
        eprintln!("SKIPPED: kubectl not found on PATH; set NIXERNETES_REQUIRE_KUBECTL=1 to make this a failure");
    }
    ok
}

/// What a run of the binary printed.
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Runs the binary in the crate root with `args`, a clean environment (PATH kept) and no stdin.
pub fn run_binary(args: &[&str]) -> Outcome {
    run_binary_with(args, &[], None)
}

/// [`run_binary`] with environment variables `env` and, when given, `stdin` as standard input.
pub fn run_binary_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Outcome {
    let out = run_binary_raw(args, env, stdin.map(str::as_bytes));
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

/// [`run_binary_with`], giving the bytes printed as they are.
pub fn run_binary_raw(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let bytes = bytes.to_owned();
        // Written from a thread: a large input must not deadlock against a full stdout pipe.
        std::thread::spawn(move || pipe.write_all(&bytes).expect("write stdin"));
    }
    child.wait_with_output().expect("the binary runs")
}

/// Compares `actual` with the golden file at `path` (a missing file reads as empty), or with
/// `UPDATE_GOLDEN=1` writes it (an empty one is removed). Mismatches go to `failures`.
pub fn golden(path: &std::path::Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if actual.is_empty() {
            let _ = std::fs::remove_file(path);
        } else {
            std::fs::write(path, actual).expect("write golden");
        }
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs:\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
}
