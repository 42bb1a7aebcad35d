//! Determinism (issue 15, item 5): the same input gives the same bytes whatever the order of
//! the files on the command line, whatever the names that order a directory scan, in every run,
//! and `render -o yaml` read back by `render -` gives itself again (a fixpoint: what the tool
//! injects is only ever added where missing, so a second pass adds nothing).
//!
//! Where order matters by design: the documents of one file are read in their order, and
//! findings follow the objects in that order (a report reads like the file); the objects
//! written do not depend on it (apply order, then namespace, kind and name).

use crate::common::{run_binary, run_binary_with, Outcome};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files that make one platform together: module resources of several kinds and pass-through
/// objects (with findings, so that the order of findings is tested too).
fn platform_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("examples/kubernetes-core"))
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            p.strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files.push("tests/fixtures/fidelity.yaml".into());
    assert!(files.len() >= 5, "{files:?}");
    files
}

/// Everything a run printed, to compare runs by.
fn everything(out: &Outcome) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.status, out.stdout, out.stderr
    )
}

/// The subcommands and formats whose bytes are compared.
const RUNS: [&[&str]; 6] = [
    &["render"],
    &["render", "-o", "json"],
    &["render", "-v", "--label", "team=web", "--inventory", "shop"],
    &["check"],
    &["check", "-o", "json"],
    &["check", "-o", "sarif"],
];

fn run_with_files(run: &[&str], files: &[String]) -> Outcome {
    let mut args: Vec<&str> = run.to_vec();
    args.extend(files.iter().map(String::as_str));
    run_binary(&args)
}

#[test]
fn the_order_of_files_on_the_command_line_changes_nothing() {
    let files = platform_files();
    let mut reversed = files.clone();
    reversed.reverse();
    let mut rotated = files.clone();
    rotated.rotate_left(2);
    let mut shuffled = files.clone();
    // A fixed interleaving: odd positions first.
    shuffled.sort_by_key(|f| {
        let i = files.iter().position(|g| g == f).unwrap();
        (i % 2 == 0, i)
    });
    // Given as -f flags and mixed with stdin.
    for run in RUNS {
        let expected = everything(&run_with_files(run, &files));
        assert!(
            expected.contains("Deployment"),
            "{run:?} renders the platform:\n{expected}"
        );
        for order in [&reversed, &rotated, &shuffled] {
            assert_eq!(
                everything(&run_with_files(run, order)),
                expected,
                "{run:?} with the files in the order {order:?}"
            );
        }
        let mut flags: Vec<&str> = run.to_vec();
        for f in reversed.iter() {
            flags.extend(["-f", f.as_str()]);
        }
        assert_eq!(everything(&run_binary(&flags)), expected, "{run:?} with -f");
    }
}

#[test]
fn the_names_that_order_a_directory_scan_change_no_object() {
    let files = platform_files();
    let tmp = tempfile::tempdir().expect("tmp");
    // The same files under names that sort them one way, then the opposite way.
    let scan = |dir: &str, name: &dyn Fn(usize) -> String| -> PathBuf {
        let dir = tmp.path().join(dir);
        std::fs::create_dir_all(dir.join("nested")).expect("mkdir");
        for (i, f) in files.iter().enumerate() {
            let at = if i % 3 == 0 {
                dir.join("nested")
            } else {
                dir.clone()
            };
            std::fs::copy(root().join(f), at.join(name(i))).expect("copy");
        }
        dir
    };
    let n = files.len();
    let forward = scan("forward", &|i| format!("{i:02}.yaml"));
    let backward = scan("backward", &|i| format!("{:02}.yaml", n - i));
    for run in [
        &["render"][..],
        &["render", "-o", "json"],
        &["render", "--label", "a=b"],
    ] {
        let out = |dir: &Path| {
            let mut args = run.to_vec();
            let dir = dir.to_string_lossy().into_owned();
            args.push(&dir);
            let out = run_binary(&args);
            assert_eq!(out.status, 0, "{run:?}: {}", out.stderr);
            out.stdout
        };
        assert_eq!(out(&forward), out(&backward), "{run:?}");
    }
}

#[test]
fn every_run_gives_the_same_bytes() {
    let files = platform_files();
    for run in RUNS {
        let first = everything(&run_with_files(run, &files));
        for _ in 0..2 {
            assert_eq!(everything(&run_with_files(run, &files)), first, "{run:?}");
        }
    }
    // A timestamp taken from SOURCE_DATE_EPOCH is the same in every run too.
    let stamped = |_: usize| {
        run_binary_with(
            &["render", "--timestamp", "examples/platform"],
            &[("SOURCE_DATE_EPOCH", "1700000000")],
            None,
        )
    };
    let first = everything(&stamped(0));
    assert!(first.contains("nixernetes.io/created-at"), "{first}");
    assert_eq!(everything(&stamped(1)), first);
}

#[test]
fn the_documents_of_one_file_are_read_in_their_order_and_the_output_does_not_depend_on_it() {
    // One stream of many documents (every file of the platform), then the same documents in
    // the opposite order.
    let docs: Vec<String> = platform_files()
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(root().join(f)).expect("read");
            text.split("\n---\n")
                .filter(|d| d.lines().any(|l| l.starts_with("kind:")))
                .map(|d| {
                    format!(
                        "---\n{}\n",
                        d.trim_matches('\n').trim_start_matches("---\n")
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(docs.len() > 5, "several documents");
    let text: String = docs.concat();
    let reversed: String = docs.iter().rev().map(String::as_str).collect();
    let render = |text: &str| run_binary_with(&["render", "-", "-o", "json"], &[], Some(text));
    let (a, b) = (render(&text), render(&reversed));
    assert_eq!(a.status, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout, "objects are written in apply order");
    // Findings follow the documents: stable for one order, in every run.
    let check = |text: &str| everything(&run_binary_with(&["check", "-"], &[], Some(text)));
    assert_eq!(check(&reversed), check(&reversed));
}

/// Every example folder (one platform each), with and without settings.
fn example_platforms() -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .map(|p| format!("examples/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn rendered_output_read_back_renders_to_itself() {
    let settings: [&[&str]; 2] = [
        &[],
        &["--label", "team=web", "--inventory", "shop", "-n", "apps"],
    ];
    let mut checked = 0;
    for dir in example_platforms() {
        for extra in settings {
            for format in ["yaml", "json"] {
                let mut first: Vec<&str> = vec!["render", &dir, "-o", format];
                first.extend_from_slice(extra);
                let once = run_binary(&first);
                assert_eq!(once.status, 0, "{first:?}: {}", once.stderr);
                let mut again: Vec<&str> = vec!["render", "-", "-o", format];
                again.extend_from_slice(extra);
                let twice = run_binary_with(&again, &[], Some(&once.stdout));
                assert_eq!(twice.status, 0, "{again:?} of {dir}: {}", twice.stderr);
                assert!(
                    once.stdout == twice.stdout,
                    "{first:?} then {again:?}: the second pass changed the output"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} renders checked");
}
