//! Shell completion and manual pages through the real binary: the clap_complete scripts load
//! and complete in bash (zsh and fish are syntax-checked when installed), real kubectl completes
//! `kubectl nixernetes …` through `completion/kubectl_complete-nixernetes`, and the man pages
//! render.

use crate::common::{self, run_binary};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-nixernetes");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: {program} not found on PATH");
    }
    found
}

/// Runs `script` in a non-interactive bash; stdout, and fails on a non-zero exit.
fn bash(script: &str) -> String {
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash failed: {}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn script(shell: &str, dir: &Path) -> PathBuf {
    let out = run_binary(&["completion", shell]);
    assert_eq!(out.status, 0, "completion {shell}: {}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let path = dir.join(format!("kubectl-nixernetes.{shell}"));
    std::fs::write(&path, out.stdout).expect("write script");
    path
}

#[test]
fn bash_script_loads_and_completes_subcommand_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script("bash", dir.path());
    let path = path.display();
    bash(&format!("bash -n {path}"));
    let registered = bash(&format!("source {path} && complete -p kubectl-nixernetes"));
    assert_eq!(
        registered.trim(),
        "complete -o bashdefault -o default -o nosort -F _kubectl__nixernetes kubectl-nixernetes"
    );
    // The completion function, called as bash calls it: COMP_WORDS/COMP_CWORD, then
    // (command, current word, previous word).
    let complete = |words: &[&str]| {
        let cword = words.len() - 1;
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        bash(&format!(
            "source {path}; COMP_WORDS=({}); COMP_CWORD={cword}; \
             _kubectl__nixernetes kubectl-nixernetes '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            quoted.join(" "),
            words[cword],
            words[cword - 1],
        ))
    };
    assert_eq!(complete(&["kubectl-nixernetes", "rend"]), "render\n");
    // Past the subcommand (what clap-rs/clap#6421 breaks for a hyphenated name).
    assert_eq!(
        complete(&["kubectl-nixernetes", "render", "--out"]),
        "--output\n"
    );
    assert_eq!(
        complete(&["kubectl-nixernetes", "render", "-o", ""]),
        "yaml\njson\n"
    );
    assert_eq!(
        complete(&["kubectl-nixernetes", "kustomize-plugins", "install", "--d"]),
        "--dir\n"
    );
}

#[test]
fn zsh_fish_and_powershell_scripts() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let path = script(shell, dir.path());
        let text = std::fs::read_to_string(&path).expect("read");
        // Every script names the binary it completes and its subcommands.
        assert!(text.contains("kubectl-nixernetes"), "{shell}");
        assert!(
            text.contains("explain") && text.contains("output"),
            "{shell}"
        );
        assert!(
            !text.contains("__complete"),
            "{shell}: the hidden protocol leaked"
        );
    }
    if have("zsh") {
        let out = Command::new("zsh")
            .args([
                "-n",
                &dir.path()
                    .join("kubectl-nixernetes.zsh")
                    .display()
                    .to_string(),
            ])
            .output()
            .expect("zsh runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if have("fish") {
        let out = Command::new("fish")
            .args([
                "--no-execute",
                &dir.path()
                    .join("kubectl-nixernetes.fish")
                    .display()
                    .to_string(),
            ])
            .output()
            .expect("fish runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn completion_usage_errors() {
    let out = run_binary(&["completion", "tcsh"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("possible values: bash, elvish, fish, powershell, zsh"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let out = run_binary(&["completion"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
}

/// A PATH directory holding the plugin and the helper, as install.sh lays them out.
fn plugin_path() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(BIN, dir.path().join("kubectl-nixernetes")).expect("link");
    std::os::unix::fs::symlink(
        root().join("completion/kubectl_complete-nixernetes"),
        dir.path().join("kubectl_complete-nixernetes"),
    )
    .expect("link");
    dir
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The helper alone, run as kubectl runs it: the words after `nixernetes`, the last one the
/// word being completed.
#[test]
fn the_helper_prints_cobra_completions() {
    let dir = plugin_path();
    let helper = |args: &[&str]| {
        let out = Command::new(dir.path().join("kubectl_complete-nixernetes"))
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("helper runs");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The binary next to the helper answers (PATH has none).
    assert_eq!(
        helper(&["render", "-o", ""]),
        "yaml\tA multi-document YAML stream\njson\tOne `v1 List` JSON document\n:4\n"
    );
    assert_eq!(
        helper(&["expl"]),
        "explain\tDocument a kind or one of its fields, as `kubectl explain` does\n:4\n"
    );
    assert_eq!(
        helper(&["check", "--fail"]),
        "--fail-on\tLowest severity that makes the exit code 1\n--fail-on-unknown-schema\tMake an object with no schema (a custom resource whose CRD was not given) a `schema` error instead of a note\n:4\n"
    );
    // Files for inputs: no candidates, directive 0 (the shell completes file names).
    assert_eq!(helper(&["diff", ""]), ":0\n");
    let fields = helper(&["explain", "webapp.spec.replic"]);
    assert!(
        fields.starts_with("webapp.spec.replicas\t<integer>"),
        "{fields}"
    );
    assert!(fields.ends_with("\n:6\n"), "{fields}");
    // Words that could be flags of the binary itself are only completed.
    assert_eq!(
        helper(&["--help"]),
        "--help\tPrint help (see more with '--help')\n:4\n"
    );
    // After `--` every word is an input.
    assert_eq!(helper(&["render", "--", "-"]), ":0\n");
}

/// What real kubectl offers: `kubectl __complete` is what its shell scripts call.
#[test]
fn kubectl_completes_the_plugin_through_the_helper() {
    if !common::kubectl_available() {
        return;
    }
    let dir = plugin_path();
    let kubectl = |args: &[&str]| {
        let out = Command::new("kubectl")
            .arg("__complete")
            .args(args)
            .env("PATH", path_with(dir.path()))
            .env("KUBECONFIG", dir.path().join("no-kubeconfig"))
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let top = kubectl(&["nixernetes", ""]);
    let names: Vec<&str> = top.lines().map(|l| l.split('\t').next().unwrap()).collect();
    for sub in [
        "render",
        "check",
        "diff",
        "explain",
        "schema",
        "completion",
        "man",
        ":4",
    ] {
        assert!(names.contains(&sub), "{sub} missing from\n{top}");
    }
    assert_eq!(
        kubectl(&["nixernetes", "render", "--profile", "re"]),
        "restricted\n:4\n"
    );
    let kinds = kubectl(&["nixernetes", "schema", "--crd", "postgre"]);
    assert!(kinds.starts_with("postgresql\tPostgreSQL "), "{kinds}");
    assert!(
        kinds.ends_with("\n:4\n") && kinds.lines().count() == 2,
        "{kinds}"
    );
    // And the way a user gets it: kubectl's own bash completion, then TAB.
    let script = Command::new("kubectl")
        .args(["completion", "bash"])
        .output()
        .expect("kubectl runs");
    let path = dir.path().join("kubectl.bash");
    std::fs::write(&path, script.stdout).expect("write");
    let tab = |line: &str| {
        bash(&format!(
            "export PATH='{}' KUBECONFIG=/nonexistent
             # bash-completion's word splitter and compopt, which kubectl's script uses.
             _get_comp_words_by_ref() {{ cur=${{COMP_WORDS[COMP_CWORD]}}; prev=${{COMP_WORDS[COMP_CWORD-1]}}; words=(\"${{COMP_WORDS[@]}}\"); cword=$COMP_CWORD; }}
             compopt() {{ :; }}
             source '{}'
             COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
             read -ra COMP_WORDS <<< \"$COMP_LINE\"
             [[ \"$COMP_LINE\" == *' ' ]] && COMP_WORDS+=('')
             COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
             __start_kubectl kubectl \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path_with(dir.path()),
            path.display()
        ))
    };
    assert_eq!(tab("kubectl nixernetes ren"), "render\n");
    assert_eq!(tab("kubectl nixernetes kinds -o "), "text\njson\n");
    assert_eq!(
        tab("kubectl nixernetes explain webapp.spec.po"),
        "webapp.spec.ports\n"
    );
}

/// Every page renders without a warning, names itself as the root page refers to it, and holds
/// the subcommand's flags.
#[test]
fn manual_pages_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_binary(&["man", "--dir", &dir.path().display().to_string()]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let written: Vec<PathBuf> = out.stdout.lines().map(PathBuf::from).collect();
    let root_page = run_binary(&["man"]).stdout;
    assert_eq!(
        std::fs::read_to_string(&written[0]).expect("read"),
        root_page,
        "--dir writes the page `man` prints"
    );
    let mut subcommands = vec![
        "render",
        "check",
        "diff",
        "fn",
        "apply",
        "kustomize-plugin",
        "kustomize-plugins",
        "kinds",
        "explain",
        "schema",
        "version",
        "completion",
        "man",
    ];
    if cfg!(feature = "api-double") {
        subcommands.push("api-double");
    }
    assert_eq!(written.len(), subcommands.len() + 1, "{written:?}");
    for sub in subcommands {
        let name = format!("kubectl-nixernetes-{sub}");
        let file = dir.path().join(format!("{name}.1"));
        assert!(written.contains(&file), "{name}.1 not written");
        // The root page's SUBCOMMANDS section refers to this page by its name.
        let reference = format!("{}(1)", name.replace('-', "\\-"));
        assert!(
            root_page.contains(&reference),
            "root page lacks {reference}"
        );
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(text.contains(&format!(".TH {name} 1 ")), "{name}: title");
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS"] {
            assert!(text.contains(section), "{name}: {section}");
        }
        assert_eq!(run_binary(&["man", sub]).stdout, text, "man {sub}");
    }
    assert!(!root_page.contains("__complete"));
    if have("groff") {
        for page in &written {
            let out = Command::new("groff")
                // -k: the pages are UTF-8 (…), read through preconv as man reads them.
                .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
                .arg(page)
                .output()
                .expect("groff runs");
            assert!(out.status.success());
            let warnings = String::from_utf8_lossy(&out.stderr);
            assert!(warnings.is_empty(), "{}: {warnings}", page.display());
        }
    }
    if have("man") {
        let out = Command::new("man")
            .arg("-l")
            .arg(dir.path().join("kubectl-nixernetes-render.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("man runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("kubectl nixernetes render"), "{text}");
        assert!(text.contains("--output <OUTPUT>"), "{text}");
        assert!(
            text.contains("Example: -f base/ -f overlays/prod.yaml"),
            "{text}"
        );
    }
}

#[test]
fn man_usage_errors() {
    let out = run_binary(&["man", "rendr"]);
    assert_eq!(out.status, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.starts_with("error: no manual page for \"rendr\" (did you mean `render`?): the subcommands are render, check,"),
        "{}",
        out.stderr
    );
    let out = run_binary(&["man", "render", "--dir", "x"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    // A directory that cannot be made.
    let file = tempfile::NamedTempFile::new().expect("tempfile");
    let under = file.path().join("man1");
    let out = run_binary(&["man", "--dir", &under.display().to_string()]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.starts_with(&format!(
            "error: writing manual pages into {}: ",
            under.display()
        )),
        "{}",
        out.stderr
    );
}
