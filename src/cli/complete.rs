//! `kubectl nixernetes __complete WORD... CURRENT` (hidden, no clap subcommand): the completion candidates for a
//! command line, in the protocol kubectl (≥ 1.26) speaks with a plugin's completion helper.
//!
//! kubectl completes `kubectl nixernetes …<TAB>` by running `kubectl_complete-nixernetes` (found
//! on PATH) with the words after `nixernetes`, the last one being the word under the cursor
//! (empty when a new word starts), and reads stdout as cobra's `__complete` output: one
//! candidate a line, optionally `candidate<TAB>description`, then `:<directive>` on the last
//! line (`staging/src/k8s.io/kubectl/pkg/cmd/plugin/plugin_completion.go`). The helper shipped
//! in `completion/` runs this subcommand. The directive is cobra's `ShellCompDirective` bit set:
//! [`NO_SPACE`], [`NO_FILE_COMP`], [`FILTER_DIRS`]; 0 lets the shell complete file names.
//!
//! Candidates come from the clap definitions (subcommands, flags, the values of enum flags) and
//! from the registry (kinds and their field paths for `explain` and `schema`). Only candidates
//! that start with the current word are printed, as cobra does: shells filter again anyway.
//!
//! Exit code: always 0 (a completion that finds nothing prints only the directive).

use super::Cli;
use crate::modules;
use crate::schema;
use clap::{Arg, CommandFactory};
use std::ffi::OsString;

/// cobra's `ShellCompDirectiveNoSpace`: no space after the completion.
pub const NO_SPACE: u32 = 2;
/// cobra's `ShellCompDirectiveNoFileComp`: no file names when there are no candidates.
pub const NO_FILE_COMP: u32 = 4;
/// cobra's `ShellCompDirectiveFilterDirs`: complete directory names only.
pub const FILTER_DIRS: u32 = 16;

/// The first argument that asks for completion candidates (cobra's name), taken before clap
/// parses anything.
pub const SUBCOMMAND: &str = "__complete";

/// What to offer for the word under the cursor.
#[derive(Debug, PartialEq, Eq)]
pub struct Completion {
    /// Candidates, each with an optional one-line description.
    pub candidates: Vec<(String, String)>,
    /// cobra's directive bits.
    pub directive: u32,
}

impl Completion {
    fn none(directive: u32) -> Self {
        Completion {
            candidates: Vec::new(),
            directive,
        }
    }

    /// The cobra `__complete` text: `value[\tdescription]` lines, then `:<directive>`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (value, description) in &self.candidates {
            out.push_str(value);
            if !description.is_empty() {
                out.push('\t');
                out.push_str(description);
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

/// Prints the completion of `words` (the arguments after `__complete`).
pub fn run(words: &[OsString]) -> i32 {
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    super::emit(complete(&words).to_text().as_bytes())
}

/// The completion of `words` (the words after `kubectl nixernetes`; the last one is the word
/// being completed, and no words at all means an empty one).
pub fn complete(words: &[String]) -> Completion {
    let (current, done) = match words.split_last() {
        Some((current, done)) => (current.as_str(), done),
        None => ("", &[][..]),
    };
    let mut root = Cli::command();
    root.build();
    let mut cmd = &root;
    // The flag whose value the next word is.
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0usize;
    let mut after_dashes = false;
    let mut used: Vec<&str> = Vec::new();
    // The values given to flags so far, by the flag's id.
    let mut given: Vec<(&str, &str)> = Vec::new();
    for word in done {
        if let Some(arg) = pending.take() {
            given.push((arg.get_id().as_str(), word));
            continue;
        }
        if after_dashes || word == "-" || !word.starts_with('-') {
            let sub = (!after_dashes && positionals == 0)
                .then(|| cmd.find_subcommand(word))
                .flatten();
            match sub {
                Some(sub) => {
                    cmd = sub;
                    used.clear();
                }
                None => positionals += 1,
            }
        } else if word == "--" {
            after_dashes = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            if let Some(arg) = find_long(cmd, name) {
                used.push(arg.get_id().as_str());
                match value {
                    Some(value) => given.push((arg.get_id().as_str(), value)),
                    None if takes_value(arg) => pending = Some(arg),
                    None => {}
                }
            }
        } else {
            // A cluster of short flags (`-vn`); a value-taking one ends it, its value attached
            // (`-ojson`) or the next word.
            let shorts = &word[1..];
            for (at, c) in shorts.char_indices() {
                let Some(arg) = cmd.get_arguments().find(|a| a.get_short() == Some(c)) else {
                    break;
                };
                used.push(arg.get_id().as_str());
                if takes_value(arg) {
                    let attached = &shorts[at + c.len_utf8()..];
                    if attached.is_empty() {
                        pending = Some(arg);
                    } else {
                        given.push((arg.get_id().as_str(), attached));
                    }
                    break;
                }
            }
        }
    }
    if let Some(arg) = pending {
        return values(cmd, arg, current, "", &given);
    }
    // A lone `-` may be stdin, but completing it lists the flags, as cobra does.
    if !after_dashes && current.starts_with('-') {
        if let Some((flag, value)) = current.split_once('=') {
            return match flag
                .strip_prefix("--")
                .and_then(|name| find_long(cmd, name))
            {
                Some(arg) if takes_value(arg) => {
                    values(cmd, arg, value, &format!("{flag}="), &given)
                }
                _ => Completion::none(NO_FILE_COMP),
            };
        }
        return flags(cmd, current, &used);
    }
    let has_subcommands = cmd.get_subcommands().any(|s| !s.is_hide_set());
    if has_subcommands && positionals == 0 && !after_dashes {
        let candidates = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name().starts_with(current))
            .map(|s| (s.get_name().to_string(), about(s)))
            .collect();
        return Completion {
            candidates,
            directive: NO_FILE_COMP,
        };
    }
    let mut positional: Vec<&Arg> = cmd.get_positionals().collect();
    positional.retain(|a| !a.is_hide_set());
    // The positional this word fills; the last one when it takes many values.
    let arg = positional
        .get(positionals)
        .or_else(|| positional.last().filter(|a| takes_many(a)));
    match arg {
        Some(arg) => values(cmd, arg, current, "", &given),
        None => Completion::none(NO_FILE_COMP),
    }
}

/// The argument of `cmd` with the long flag (or alias) `name`.
fn find_long<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|l| l.contains(&name))
    })
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

fn takes_many(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.max_values() > 1)
}

/// Whether a flag may be given again (a list, or a count).
fn repeatable(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        clap::ArgAction::Append | clap::ArgAction::Count
    )
}

/// The flags of `cmd` that start with `current`: long ones for `--…`, both forms for `-`
/// alone… (as cobra lists them), without the ones already given once.
fn flags(cmd: &clap::Command, current: &str, used: &[&str]) -> Completion {
    let mut candidates = Vec::new();
    for arg in cmd.get_arguments() {
        if arg.is_hide_set() || arg.is_positional() {
            continue;
        }
        if used.contains(&arg.get_id().as_str()) && !repeatable(arg) {
            continue;
        }
        let help = first_line(arg.get_help().map(|h| h.to_string()));
        if let Some(long) = arg.get_long() {
            let flag = format!("--{long}");
            if flag.starts_with(current) {
                candidates.push((flag, help.clone()));
            }
        }
        if let Some(short) = arg.get_short() {
            let flag = format!("-{short}");
            if flag.starts_with(current) {
                candidates.push((flag, help));
            }
        }
    }
    Completion {
        candidates,
        directive: NO_FILE_COMP,
    }
}

/// The values `arg` of `cmd` may take that start with `current`, each written after `prefix`
/// (`--output=` for a value given in the same word); `given` are the values of the flags given
/// before (`--kinds PATH` adds the user kinds there to the kinds completed).
fn values(
    cmd: &clap::Command,
    arg: &Arg,
    current: &str,
    prefix: &str,
    given: &[(&str, &str)],
) -> Completion {
    let id = arg.get_id().as_str();
    let mut done = match (cmd.get_name(), id) {
        ("explain", "target") => kind_or_field(current, &known(given)),
        ("schema", "kinds") => kinds(current, &known(given)),
        ("man", "subcommand") => Completion {
            candidates: super::man::subcommands()
                .into_iter()
                .filter(|s| s.starts_with(current))
                .map(|s| (s, String::new()))
                .collect(),
            directive: NO_FILE_COMP,
        },
        _ => {
            let possible = arg.get_possible_values();
            if !possible.is_empty() {
                let candidates = possible
                    .iter()
                    .filter(|v| !v.is_hide_set() && v.get_name().starts_with(current))
                    .map(|v| {
                        let help = first_line(v.get_help().map(|h| h.to_string()));
                        (v.get_name().to_string(), help)
                    })
                    .collect();
                Completion {
                    candidates,
                    directive: NO_FILE_COMP,
                }
            } else {
                Completion::none(path_directive(arg))
            }
        }
    };
    if !prefix.is_empty() {
        for (value, _) in &mut done.candidates {
            value.insert_str(0, prefix);
        }
    }
    done
}

/// What the shell completes for a free-form value: file names for a file or path, directory
/// names for a directory, nothing for the rest (names, counts, KEY=VALUE…). Read from the value
/// hint (clap gives a `PathBuf` one for any path) and the value's name in the usage (`FILE`,
/// `PATH`, `DIR`).
fn path_directive(arg: &Arg) -> u32 {
    use clap::ValueHint;
    let names = arg.get_value_names().unwrap_or_default();
    let name = names.first().map(|n| n.as_str());
    match arg.get_value_hint() {
        ValueHint::DirPath => FILTER_DIRS,
        _ if name == Some("DIR") => FILTER_DIRS,
        ValueHint::FilePath | ValueHint::AnyPath | ValueHint::ExecutablePath => 0,
        ValueHint::Unknown if matches!(name, Some("FILE" | "PATH")) => 0,
        _ => NO_FILE_COMP,
    }
}

/// The kinds the command line knows: the user kinds of its `--kinds` and `-f` paths (and
/// `NIXERNETES_KINDS`) besides the built-in ones, read without a word on any problem.
fn known(given: &[(&str, &str)]) -> super::explain::Known {
    let of = |id: &str| {
        given
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, v)| v.to_string())
            .collect()
    };
    super::explain::Known::quiet(&super::explain::DefinitionArgs {
        kind_paths: of("kind_paths"),
        files: of("files"),
    })
}

/// Kinds as the command line names them ([`super::explain::Known::find`]): for each kind the
/// first of its lower-case name, its name and its plural that starts with `current` (shells
/// match case-sensitively). The built-in kinds, KindDefinition and ValidationRule, then the
/// user kinds of `known`.
fn kinds(current: &str, known: &super::explain::Known) -> Completion {
    let extension = crate::userkinds::describe::EXTENSION_KINDS
        .iter()
        .map(|e| (e.kind, e.summary));
    let user = known
        .user
        .iter()
        .map(|k| (k.kind.as_str(), k.summary.as_deref().unwrap_or_default()));
    let candidates = modules::registry()
        .iter()
        .map(|def| (def.kind, def.summary))
        .chain(extension)
        .chain(user)
        .filter_map(|(kind, summary)| {
            let forms = [
                kind.to_ascii_lowercase(),
                kind.to_string(),
                schema::crd::plural(kind),
            ];
            let form = forms.into_iter().find(|f| f.starts_with(current))?;
            Some((form, summary.to_string()))
        })
        .collect();
    Completion {
        candidates,
        directive: NO_FILE_COMP,
    }
}

/// For `explain`: a kind, or once the word holds a dot, the fields one level below the path
/// before the last dot (`webapp.spec.po` → `webapp.spec.ports`, `webapp.spec.probes`), with no
/// space after them so the path can go on.
fn kind_or_field(current: &str, known: &super::explain::Known) -> Completion {
    let Some((path, last)) = current.rsplit_once('.') else {
        return kinds(current, known);
    };
    let mut parts = path.split('.');
    let kind = parts.next().unwrap_or_default();
    let parent: Vec<&str> = parts.collect();
    let Some(found) = known.find(kind) else {
        return Completion::none(NO_FILE_COMP);
    };
    let candidates = schema::explain::fields(&found.schema())
        .into_iter()
        .filter(|f| {
            f.path.len() == parent.len() + 1
                && f.path.iter().zip(&parent).all(|(a, b)| a == b)
                && f.path[parent.len()].starts_with(last)
        })
        .map(|f| {
            let name = &f.path[parent.len()];
            let help = first_line(f.description);
            let help = if help.is_empty() {
                format!("<{}>", f.type_name)
            } else {
                format!("<{}> {help}", f.type_name)
            };
            (format!("{path}.{name}"), help)
        })
        .collect();
    Completion {
        candidates,
        directive: NO_SPACE | NO_FILE_COMP,
    }
}

/// A subcommand's one line.
fn about(cmd: &clap::Command) -> String {
    first_line(cmd.get_about().map(|a| a.to_string()))
}

/// The first line of a help text, without its final period (as cobra's short descriptions).
fn first_line(text: Option<String>) -> String {
    let text = text.unwrap_or_default();
    let line = text.lines().next().unwrap_or_default().trim();
    line.strip_suffix('.').unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: &[&str]) -> Completion {
        complete(&line.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    fn values_of(c: &Completion) -> Vec<&str> {
        c.candidates.iter().map(|(v, _)| v.as_str()).collect()
    }

    #[test]
    fn subcommands_at_the_top_without_hidden_ones() {
        let c = at(&[""]);
        let v = values_of(&c);
        for sub in ["render", "check", "diff", "explain", "completion", "man"] {
            assert!(v.contains(&sub), "{sub} missing from {v:?}");
        }
        assert!(!v.contains(&SUBCOMMAND));
        assert_eq!(c.directive, NO_FILE_COMP);
        assert_eq!(values_of(&at(&["re"])), ["render"]);
        assert_eq!(at(&[]), at(&[""]));
        let render = c.candidates.iter().find(|(v, _)| v == "render").unwrap();
        assert!(render.1.starts_with("Render files"), "{render:?}");
    }

    #[test]
    fn flags_and_enum_values() {
        let v = at(&["render", "--o"]);
        assert_eq!(values_of(&v), ["--output"]);
        assert_eq!(values_of(&at(&["render", "-o", ""])), ["yaml", "json"]);
        assert_eq!(values_of(&at(&["render", "--output", "j"])), ["json"]);
        assert_eq!(values_of(&at(&["render", "--output=y"])), ["--output=yaml"]);
        assert_eq!(
            values_of(&at(&["check", "-o", ""])),
            ["text", "json", "sarif"]
        );
        assert!(values_of(&at(&["render", "--profile", ""])).contains(&"restricted"));
        // A flag given once is not offered again; a list flag is.
        let again = at(&["render", "--inventory", "x", "--"]);
        assert!(!values_of(&again).contains(&"--inventory"));
        assert!(values_of(&at(&["render", "--label", "a=b", "--"])).contains(&"--label"));
        // Both forms for a lone dash.
        let dash = at(&["render", "-"]);
        assert!(values_of(&dash).contains(&"-o") && values_of(&dash).contains(&"--output"));
    }

    #[test]
    fn files_names_and_directories() {
        // Inputs are files: the shell completes file names.
        assert_eq!(at(&["render", ""]).directive, 0);
        assert_eq!(at(&["render", "-f", ""]).directive, 0);
        // Names complete to nothing, not to file names.
        assert_eq!(
            at(&["render", "--inventory", ""]),
            Completion::none(NO_FILE_COMP)
        );
        assert_eq!(at(&["render", "-n", ""]).directive, NO_FILE_COMP);
        // After a flag's value, positionals again.
        assert_eq!(at(&["render", "-o", "json", ""]).directive, 0);
        assert_eq!(at(&["render", "-ojson", ""]).directive, 0);
    }

    /// The kinds of the definitions a command line gives complete too, with their fields;
    /// broken definitions only leave them out.
    #[test]
    fn user_kinds_from_the_definitions_given() {
        let shop = format!(
            "{}/examples/extending/kinds/shop.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        assert!(values_of(&at(&["explain", "shop"])).is_empty());
        let (long, short) = (format!("--kinds={shop}"), format!("-f{shop}"));
        let forms = [
            vec!["explain", "--kinds", &shop, "shop"],
            vec!["explain", &long, "shop"],
            vec!["schema", "-f", &shop, "shop"],
            vec!["schema", &short, "webapp", "shop"],
        ];
        for words in forms {
            assert_eq!(values_of(&at(&words)), ["shopservice"], "{words:?}");
        }
        let fields = at(&["explain", "--kinds", &shop, "shopservice.spec.da"]);
        assert_eq!(values_of(&fields), ["shopservice.spec.database"]);
        let broken =
            std::env::temp_dir().join(format!("complete-broken-{}.yaml", std::process::id()));
        std::fs::write(&broken, "apiVersion: nixernetes.io/v1alpha1\nkind: KindDefinition\nmetadata: {name: x}\nspec: {}\n").unwrap();
        let words = ["explain", "--kinds", broken.to_str().unwrap(), "web"];
        assert_eq!(values_of(&at(&words)), ["webapp"]);
        std::fs::remove_file(&broken).unwrap();
    }

    #[test]
    fn kinds_and_fields_for_explain_and_schema() {
        let v = at(&["explain", "webap"]);
        assert_eq!(values_of(&v), ["webapp"]);
        assert_eq!(values_of(&at(&["explain", "WebA"])), ["WebApp"]);
        assert_eq!(values_of(&at(&["schema", "webapps"])), ["webapps"]);
        // schema takes many kinds.
        assert_eq!(values_of(&at(&["schema", "webapp", "webap"])), ["webapp"]);
        let fields = at(&["explain", "webapp.spec.po"]);
        let names = values_of(&fields);
        assert!(names.contains(&"webapp.spec.ports"), "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("webapp.spec.po")));
        assert_eq!(fields.directive, NO_SPACE | NO_FILE_COMP);
        assert!(values_of(&at(&["explain", "nosuch.sp"])).is_empty());
        // explain takes one target.
        assert_eq!(
            at(&["explain", "webapp", ""]),
            Completion::none(NO_FILE_COMP)
        );
    }

    #[test]
    fn man_pages_of_subcommands() {
        assert_eq!(
            values_of(&at(&["man", "ku"])),
            ["kustomize-plugin", "kustomize-plugins"]
        );
        assert_eq!(at(&["man", "--dir", ""]).directive, FILTER_DIRS);
    }

    #[test]
    fn completion_shells_and_text() {
        assert_eq!(
            values_of(&at(&["completion", ""])),
            ["bash", "elvish", "fish", "powershell", "zsh"]
        );
        assert_eq!(at(&["completion", "f"]).to_text(), "fish\n:4\n");
        let described = at(&["render", "-o", "j"]).to_text();
        assert_eq!(described, "json\tOne `v1 List` JSON document\n:4\n");
    }
}
