//! LIVE and MERGED directories in kubectl's layout (one YAML file per object, named
//! `<group.>version.Kind.namespace.name`; an absent side is an empty file), for `-o dirs` and
//! for the programs named by `KUBECTL_EXTERNAL_DIFF`.
//!
//! kubectl runs the program as `PROGRAM LIVE MERGED [ARGS]`: the variable is split on spaces,
//! and of the later words only those matching `^[a-zA-Z0-9-=]+$` are kept, after the two
//! directories. The same happens here, so dyff, colordiff or meld keep working.

use super::plan::Plan;
use super::to_yaml;
use std::path::{Path, PathBuf};

/// Writes `LIVE/` and `MERGED/` under `dir` (which must not already hold them) for every
/// object that has a side to show; returns the two directories.
pub fn write(plan: &Plan, dir: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    let live = dir.join("LIVE");
    let merged = dir.join("MERGED");
    for d in [&live, &merged] {
        if d.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} already exists", d.display()),
            ));
        }
    }
    std::fs::create_dir_all(&live)?;
    std::fs::create_dir_all(&merged)?;
    for d in &plan.objects {
        if d.live.is_none() && d.merged.is_none() {
            continue;
        }
        let name = d.id.file_name();
        std::fs::write(live.join(&name), to_yaml(d.live.as_ref()))?;
        std::fs::write(merged.join(&name), to_yaml(d.merged.as_ref()))?;
    }
    Ok((live, merged))
}

/// The program and arguments `KUBECTL_EXTERNAL_DIFF` asks for, kubectl's way.
pub fn external_command(spec: &str, live: &Path, merged: &Path) -> Option<(String, Vec<String>)> {
    let mut words = spec.split(' ').filter(|w| !w.is_empty());
    let program = words.next()?.to_string();
    let mut args = vec![live.display().to_string(), merged.display().to_string()];
    args.extend(
        words
            .filter(|w| {
                w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '=')
            })
            .map(str::to_string),
    );
    Some((program, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_commands_keep_safe_flags_after_the_dirs() {
        let (p, a) = external_command(
            "dyff between --omit-header --set-exit-code $(rm) a;b",
            Path::new("L"),
            Path::new("M"),
        )
        .unwrap();
        assert_eq!(p, "dyff");
        assert_eq!(a, ["L", "M", "between", "--omit-header", "--set-exit-code"]);
        assert!(external_command("", Path::new("L"), Path::new("M")).is_none());
    }
}
