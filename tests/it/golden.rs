//! Golden tests: every case under `tests/cases/<name>/` runs the real binary and compares
//! stdout, stderr and the exit status byte for byte.
//!
//! A case directory holds `cmd` (arguments, whitespace-separated, one invocation; `#` lines are
//! comments), optionally `stdin` and `env` (`KEY=VALUE` lines), and the expected `stdout`,
//! `stderr` and `status`. The binary runs in the crate root with a clean environment.
//! `UPDATE_GOLDEN=1 cargo test --test it golden` rewrites the expected files; review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

struct Outcome {
    stdout: String,
    stderr: String,
    status: i32,
}

fn run_case(dir: &Path) -> Outcome {
    let cmd = read(&dir.join("cmd")).expect("cmd file");
    let args: Vec<&str> = cmd
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect();
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"));
    c.args(&args).current_dir(root()).env_clear();
    c.env("PATH", std::env::var("PATH").unwrap_or_default());
    if let Some(env) = read(&dir.join("env")) {
        for line in env
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (k, v) = line.split_once('=').expect("env lines are KEY=VALUE");
            c.env(k, v);
        }
    }
    let stdin = std::fs::read(dir.join("stdin")).ok();
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn binary");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin pipe");
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let out = child.wait_with_output().expect("binary runs");
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/cases"))
        .expect("tests/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("cmd").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 20,
        "expected the golden cases, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let got = run_case(dir);
        assert!(
            !got.stderr.contains("panicked"),
            "{name}: the binary panicked:\n{}",
            got.stderr
        );
        let status = format!("{}\n", got.status);
        for (file, actual) in [
            ("stdout", &got.stdout),
            ("stderr", &got.stderr),
            ("status", &status),
        ] {
            let path = dir.join(file);
            if update {
                std::fs::write(&path, actual).expect("write golden");
                continue;
            }
            let expected = read(&path).unwrap_or_default();
            if &expected != actual {
                failures.push(format!(
                    "{name}/{file} differs:\n--- expected\n{expected}\n--- actual\n{actual}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
