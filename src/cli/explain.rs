//! `kubectl nixernetes explain KIND[.field.path]`: a kind, or one of its fields, documented as
//! `kubectl explain` documents a resource, from the kind's schema (no cluster needed).
//!
//! Owns the argument (which kind, which field) and the sections kubectl has no slot for; the
//! layout is `schema::explain`'s. Also owns how a kind is named on the command line, for
//! `schema` too: as kubectl names a resource, in any case, or by its plural.
//!
//! Exit codes: 0 printed; 2 an unknown kind or field (with the close names), or bad flags.

use super::{emit, EXIT_USAGE};
use crate::docs;
use crate::kind::KindDef;
use crate::modules;
use crate::schema::{self, explain::explain_with};
use crate::validate::suggest::did_you_mean;

/// Document a kind or one of its fields, as `kubectl explain` does.
///
/// The layout is kubectl's (GROUP, KIND, VERSION, DESCRIPTION, FIELDS, and FIELD for a field
/// path), read from the kind's schema, so no cluster is needed. Two additions kubectl has no
/// slot for: a field's `default:` line after its description, and, for a whole kind, the
/// sections SEED MODULE (the seed module and its category), EMITS (the objects it can emit) and,
/// for a kind apps bind to with `uses`, OUTPUTS (each connection output, whether it is a value
/// or a Secret key, and what it holds), after DESCRIPTION in the same style.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kubectl nixernetes explain webapp\n  \
    kubectl nixernetes explain webapp.spec.ports\n  \
    kubectl nixernetes explain postgresql.spec --recursive")]
pub struct ExplainArgs {
    /// The kind (any case, or its plural), then the field path, dotted.
    ///
    /// Example: kubectl nixernetes explain webapp.spec.probes.readiness
    #[arg(value_name = "KIND[.FIELD.PATH]")]
    pub target: String,
    /// Print the fields below as an indented tree with their types, without descriptions.
    ///
    /// Example: kubectl nixernetes explain webapp.spec --recursive
    #[arg(long)]
    pub recursive: bool,
}

/// The kind `name` names, as kubectl reads a resource name: the kind in any case (`webapp`,
/// `WebApp`), or its plural (`webapps`).
pub fn find_kind(name: &str) -> Option<&'static KindDef> {
    modules::registry()
        .iter()
        .find(|def| def.kind.eq_ignore_ascii_case(name) || schema::crd::plural(def.kind) == name)
}

/// The message for a kind that [`find_kind`] does not know: the close kinds, and where the
/// list is.
pub fn unknown_kind(name: &str) -> String {
    let kinds = modules::registry().iter().map(|def| def.kind);
    let hint = did_you_mean(name, kinds)
        .map(|h| format!(": {h}"))
        .unwrap_or_default();
    format!("error: unknown kind {name:?}{hint} (run `kubectl nixernetes kinds` for the list)")
}

pub fn run(args: &ExplainArgs) -> i32 {
    let mut parts = args.target.split('.');
    let name = parts.next().unwrap_or_default();
    let path: Vec<&str> = parts.collect();
    let Some(def) = find_kind(name) else {
        eprintln!("{}", unknown_kind(name));
        return EXIT_USAGE;
    };
    let sections = if path.is_empty() {
        let mut sections = vec![
            ("seed module", docs::seed_module(def)),
            ("emits", docs::emits(def).join("\n")),
        ];
        if !def.outputs.is_empty() {
            sections.push(("outputs", docs::outputs(def).join("\n")));
        }
        sections
    } else {
        Vec::new()
    };
    match explain_with(
        &def.schema(),
        def.kind,
        schema::API_VERSION,
        &path,
        args.recursive,
        &sections,
    ) {
        Ok(text) => emit(text.as_bytes()),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}
