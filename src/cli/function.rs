//! `kubectl nixernetes fn`: the KRM function (generator, transformer or validator).
//!
//! - Generator: the `functionConfig` is a module resource (kustomize `generators:`); it expands,
//!   and kustomize's echo of it among the items is dropped.
//! - Transformer: `functionConfig` is a `PlatformDefaults`, a `ConfigMap` or absent; module items
//!   expand in place, other items get the platform metadata, every annotation intact.
//! - Validator: a `ConfigMap` with `data.mode: validate` (or the annotation
//!   `fn.nixernetes.io/mode: validate` on any config): items come back unchanged, only `results`.
//!
//! On any error the items come back unchanged, `results` say why, and the exit code is 1; when
//! stdin is not a readable ResourceList at all, there are no items to give back (`items: []`).

use super::{EXIT_INVALID, EXIT_USAGE};
use crate::engine::{self, Mode, Options};
use crate::finding::Finding;
use crate::kind::Role;
use crate::modules;
use crate::report::krm;
use crate::resource::{Identity, Item, Resource};
use crate::settings::{self, Overrides};
use crate::source::{decode, resource_list};
use crate::validate::code;
use serde_json::Value;

/// Annotation selecting the mode on a function config that is not a ConfigMap.
pub const MODE_ANNOTATION: &str = "fn.nixernetes.io/mode";

#[derive(Debug, clap::Args)]
pub struct FnArgs {}

/// Reads a ResourceList from stdin and writes the result. `auto`: entered without arguments,
/// so input that is not a ResourceList is a usage error rather than a KRM failure.
pub fn run_from_stdin(auto: bool) -> i32 {
    let bytes = match super::read_stdin() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: reading stdin: {e}");
            return EXIT_INVALID;
        }
    };
    let text = match decode(bytes, "-") {
        Ok(t) => t,
        Err(f) => return fail(Vec::new(), vec![f]),
    };
    let Some((out, code)) = process_input(&text, auto) else {
        eprintln!(
            "error: no arguments and stdin is not a ResourceList; run `kubectl nixernetes --help` for usage"
        );
        return EXIT_USAGE;
    };
    // The items are all in `out` now: the input text goes before the output is written.
    drop(text);
    let printed = match out {
        Out::List(list) => emit_list(&list),
        Out::Items { items, results } => super::emit_with(|out| {
            let items = items.into_iter().map(|i| i.into_resource().object);
            resource_list::write_items_to(out, items, results)
        }),
    };
    if code != 0 {
        code
    } else {
        printed
    }
}

/// Writes a failed ResourceList (items unchanged) and returns exit code 1.
fn fail(items: Vec<Resource>, findings: Vec<Finding>) -> i32 {
    let results = findings.iter().map(krm::result).collect();
    emit_list(&resource_list::write(items, results));
    EXIT_INVALID
}

/// Writes a ResourceList to stdout as it is laid out, in pieces: the text of a large list is
/// never held whole beside its items.
fn emit_list(list: &Value) -> i32 {
    super::emit_with(|out| crate::yaml::write_document_to(out, list))
}

/// What the function writes: a list, or the objects of one (frozen until written) and its
/// results.
enum Out {
    List(Value),
    Items {
        items: Vec<Item>,
        results: Vec<Value>,
    },
}

/// The function proper: ResourceList text in, ResourceList value and exit code out (the fuzz
/// target `resource_list` drives it).
pub fn process(text: &str) -> (Value, i32) {
    let (out, code) =
        process_input(text, false).expect("only a run entered without arguments declines");
    let list = match out {
        Out::List(list) => list,
        Out::Items { items, results } => resource_list::write(
            items.into_iter().map(Item::into_resource).collect(),
            results,
        ),
    };
    (list, code)
}

/// [`process`]; `auto` (entered without arguments): `None` when the text is not a ResourceList
/// at all, a usage error rather than a KRM failure. The text is read once either way. Objects
/// are held frozen from the read to the output (`engine::freeze`, then every final object):
/// a large list is never all trees at once.
fn process_input(text: &str, auto: bool) -> Option<(Out, i32)> {
    let rl = match resource_list::parse_as(text, &engine::freeze) {
        Ok(rl) => rl,
        Err(rejected) if auto && !rejected.envelope => return None,
        Err(rejected) => {
            let results = rejected.findings.iter().map(krm::result).collect();
            return Some((
                Out::List(resource_list::write_values(rejected.items, results)),
                EXIT_INVALID,
            ));
        }
    };
    // The items as given, for a failed run or a validator, are read again from `text` when
    // needed rather than copied up front: a large list is then held once, not twice.
    // (The text was read as a ResourceList above, so it reads the same again.) They are
    // frozen until written, as the output's objects are.
    let original = |results: Vec<Value>| match resource_list::parse_as(text, &Item::freeze) {
        Ok(rl) => Out::Items {
            items: rl.items,
            results,
        },
        Err(rejected) => Out::List(resource_list::write_values(rejected.items, results)),
    };
    let mut inputs = rl.items;
    let mut overrides = Overrides::default();
    let mut mode = Mode::Render;
    let mut findings = Vec::new();

    if let Some(fc) = rl.function_config {
        if fc.annotation(MODE_ANNOTATION) == Some("validate") {
            mode = Mode::Validate;
        }
        match (fc.api_version(), fc.kind()) {
            ("v1", "ConfigMap") => match config_map(&fc) {
                Ok((o, m)) => {
                    overrides = o;
                    if m == Mode::Validate {
                        mode = m;
                    }
                }
                Err(mut e) => findings.append(&mut e),
            },
            _ if fc.is_module() => match modules::registry().lookup(fc.kind()).map(|d| &d.role) {
                Some(Role::Generate(_)) => {
                    // Generator: kustomize also passes the config itself as an item (marked
                    // local-config); expand it once.
                    let same = |r: &Item| r.kind() == fc.kind() && r.name() == fc.name() && r.is_module();
                    inputs.retain(|r| !same(r));
                    inputs.push(Item::from(fc));
                }
                _ => inputs.insert(0, Item::from(fc)),
            },
            (api, kind) => findings.push(
                Finding::error(format!(
                    "unsupported functionConfig {} ({}): expected a nixernetes.io kind or a v1 ConfigMap",
                    code(kind),
                    code(api)
                ))
                .about(&fc),
            ),
        }
    }
    if crate::finding::has_errors(&findings) {
        let results = findings.iter().map(krm::result).collect();
        drop(inputs);
        return Some((original(results), EXIT_INVALID));
    }
    overrides.no_namespace_fallback = true;
    if let Err(e) = settings::apply_environment(&mut overrides) {
        findings.push(Finding::error(e));
    }
    // Each object frozen as soon as it is final, until it is written.
    let mut objects = Vec::with_capacity(inputs.len());
    let out = engine::run_with(
        inputs,
        &Options {
            overrides,
            mode,
            ..Options::new(crate::modules::registry())
        },
        &mut |obj| objects.push(Item::freeze(obj)),
    );
    crate::finding::append(&mut findings, out.findings);
    let failed = crate::finding::has_errors(&findings);
    let results = findings.iter().map(krm::result).collect();
    if failed || mode == Mode::Validate {
        drop(objects);
        return Some((original(results), if failed { EXIT_INVALID } else { 0 }));
    }
    Some((
        Out::Items {
            items: objects,
            results,
        },
        0,
    ))
}

/// Settings from a ConfigMap function config: the keys of `settings::SETTINGS`, each read by its
/// parser (maps as `k=v` pairs separated by commas or newlines), and `mode` (`render` or
/// `validate`).
fn config_map(fc: &Resource) -> Result<(Overrides, Mode), Vec<Finding>> {
    let mut o = Overrides::default();
    let mut mode = Mode::Render;
    let mut errors = Vec::new();
    let data = fc
        .object
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in &data {
        let field = format!("data.{k}");
        let mut fail =
            |message: String| errors.push(Finding::error(message).about(fc).field(field.clone()));
        let Some(text) = v.as_str() else {
            fail("ConfigMap values must be strings".into());
            continue;
        };
        if k == "mode" {
            match text {
                "render" => mode = Mode::Render,
                "validate" => mode = Mode::Validate,
                other => fail(format!("mode {other:?}: expected render or validate")),
            }
            continue;
        }
        match settings::lookup(k) {
            Some(setting) => {
                if let Err(e) = setting.apply(&mut o, v) {
                    fail(e);
                }
            }
            None => fail(format!(
                "unknown setting {k:?}: expected one of {}, or mode{}",
                settings::names(),
                settings::not_a_setting(k)
            )),
        }
    }
    if errors.is_empty() {
        Ok((o, mode))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzz target resource_list: the functionConfig's apiVersion and kind are the
    /// user's text, quoted (an apiVersion holding `::` read as the message's own words).
    #[test]
    fn an_unsupported_function_config_is_quoted() {
        let (out, code) = process(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1::x\n  kind: ConfigMap\n  metadata: {name: c}\n",
        );
        assert_eq!(code, 1, "{out}");
        let message = out["results"][0]["message"].as_str().expect("a result");
        assert!(
            message.starts_with("unsupported functionConfig `ConfigMap` (`v1::x`): expected"),
            "{message}"
        );
    }
}
