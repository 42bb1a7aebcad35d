//! `NIXERNETES_YAML_FAST=0`: with the fast YAML reader (and the field-line readers that follow its
//! rules) off, every sample file gives the same bytes, stderr and exit code as with it on.

use crate::common::run_binary_raw;
use std::path::{Path, PathBuf};

const OFF: &[(&str, &str)] = &[("NIXERNETES_YAML_FAST", "0")];

/// One run of the binary, the same with the fast reader on and off.
struct Run {
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
}

/// The runs for one file: `render` and `check` of it (their findings carry field lines, and
/// `--level high` finds the most), `fn` when it is a ResourceList; a golden case's stdin goes to `render -` and `fn`.
fn runs(file: &Path) -> Vec<Run> {
    let bytes = std::fs::read(file).expect("sample file is readable");
    let resource_list = String::from_utf8_lossy(&bytes).contains("kind: ResourceList");
    let path = file.display().to_string();
    let arg = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if file.file_name().is_some_and(|n| n == "stdin") {
        return vec![
            Run {
                args: arg(&["render", "-"]),
                stdin: Some(bytes.clone()),
            },
            Run {
                args: arg(&["fn"]),
                stdin: Some(bytes),
            },
        ];
    }
    let mut runs = vec![
        Run {
            args: arg(&["render", "-v", &path]),
            stdin: None,
        },
        Run {
            args: arg(&["check", "--level", "high", &path]),
            stdin: None,
        },
    ];
    if resource_list {
        runs.push(Run {
            args: arg(&["fn"]),
            stdin: Some(bytes),
        });
    }
    runs
}

/// Every example, test input and Kustomize file, malformed ones included, and the stdin of
/// every golden case.
fn samples() -> Vec<PathBuf> {
    let mut files = nixernetes::source::files::crate_manifests(&["examples", "tests", "krm"]);
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    for case in std::fs::read_dir(cases).expect("tests/cases") {
        let stdin = case.expect("case").path().join("stdin");
        if stdin.is_file() {
            files.push(stdin);
        }
    }
    files.sort();
    files
}

#[test]
fn every_sample_reads_the_same_without_the_fast_reader() {
    let files = samples();
    assert!(files.len() > 200, "only {} sample files", files.len());
    let all: Vec<Run> = files.iter().flat_map(|f| runs(f)).collect();
    let mut failed = Vec::new();
    // Runs that printed something, per subcommand: the comparison is not of empty outputs.
    let mut printed = std::collections::BTreeMap::<String, usize>::new();
    // Two workers: the machine is shared, and each run is a process of its own.
    let compare = |part: &[Run]| -> Vec<_> {
        part.iter()
            .map(|r| {
                let args: Vec<&str> = r.args.iter().map(String::as_str).collect();
                let on = run_binary_raw(&args, &[], r.stdin.as_deref());
                let off = run_binary_raw(&args, OFF, r.stdin.as_deref());
                (r.args.join(" "), on, off)
            })
            .collect()
    };
    // Two workers: the machine is shared, and each run is a process of its own.
    let (a, b) = all.split_at(all.len() / 2);
    let results: Vec<_> = std::thread::scope(|s| {
        let other = s.spawn(|| compare(b));
        let mut v = compare(a);
        v.extend(other.join().expect("worker"));
        v
    });
    for (what, on, off) in results {
        let subcommand = what.split(' ').next().unwrap_or("").to_string();
        let usage = String::from_utf8_lossy(&on.stderr).contains("Usage: kubectl nixernetes");
        assert!(!usage, "{what}: a usage error, not a comparison");
        if !on.stdout.is_empty() {
            *printed.entry(subcommand).or_default() += 1;
        }
        for (stream, a, b) in [
            ("stdout", &on.stdout, &off.stdout),
            ("stderr", &on.stderr, &off.stderr),
        ] {
            if a != b {
                failed.push(format!(
                    "{what}: {stream} differs with NIXERNETES_YAML_FAST=0\n--- on\n{}\n--- off\n{}",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                ));
            }
        }
        if on.status.code() != off.status.code() {
            failed.push(format!(
                "{what}: exit {:?} with the fast reader, {:?} without",
                on.status.code(),
                off.status.code()
            ));
        }
    }
    eprintln!(
        "{} runs over {} files; runs that printed, per subcommand: {printed:?}",
        all.len(),
        files.len()
    );
    for (subcommand, least) in [("render", 150), ("check", 150), ("fn", 10)] {
        let n = printed.get(subcommand).copied().unwrap_or(0);
        assert!(n >= least, "only {n} `{subcommand}` runs printed anything");
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn a_switch_that_is_neither_0_nor_1_is_refused_in_every_mode() {
    for args in [&["render", "examples"][..], &["fn"], &["version"]] {
        let out = run_binary_raw(args, &[("NIXERNETES_YAML_FAST", "false")], Some(b""));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "error: NIXERNETES_YAML_FAST is \"false\": set it to 0 to read YAML without the fast reader, or to 1 (the default) to use it\n",
            "{args:?}"
        );
    }
    for value in ["0", "1", ""] {
        let out = run_binary_raw(&["version"], &[("NIXERNETES_YAML_FAST", value)], None);
        assert_eq!(out.status.code(), Some(0), "NIXERNETES_YAML_FAST={value:?}");
    }
}
