//! Stamps the git commit the binary is built from (`kubectl nixernetes version`) as
//! `NIXERNETES_GIT_COMMIT`: `NIXERNETES_GIT_COMMIT` from the environment when set (packagers
//! building from a tarball), else `git rev-parse --short HEAD` when this package is the top of a
//! git work tree, else nothing. A build without git or without `.git` never fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NIXERNETES_GIT_COMMIT");
    let commit = match std::env::var("NIXERNETES_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => Some(c.trim().to_string()),
        _ => from_git(),
    };
    if let Some(c) = commit {
        println!("cargo:rustc-env=NIXERNETES_GIT_COMMIT={c}");
    }
}

/// `git` run in the package directory; `None` when it fails or is missing.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn from_git() -> Option<String> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    // A source tree unpacked inside another repository must not take that repository's commit.
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(&dir).ok()? {
        return None;
    }
    // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs (`--git-path`
    // resolves worktrees). Only existing files: a missing one would rerun this every build.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(&dir, &["rev-parse", "--short", "HEAD"])
}
