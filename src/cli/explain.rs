//! `kubectl nixernetes explain KIND[.field.path]`: a kind, or one of its fields, documented as
//! `kubectl explain` documents a resource, from the kind's schema (no cluster needed).
//!
//! Owns the argument (which kind, which field) and the sections kubectl has no slot for; the
//! layout is `schema::explain`'s. Also owns how a kind is named on the command line, for
//! `schema` too: as kubectl names a resource, in any case, or by its plural.
//!
//! The kinds are the built-in ones, `KindDefinition` and `ValidationRule`, and the user kinds of
//! the definitions given (`--kinds`, `NIXERNETES_KINDS`, `-f`), loaded and checked as `render`
//! loads them ([`Known`]).
//!
//! Exit codes: 0 printed; 1 a definition given has errors (printed, located); 2 an unknown kind
//! or field (with the close names), or bad flags.

use super::{emit, print_findings, EXIT_INVALID, EXIT_USAGE};
use crate::docs;
use crate::finding::{has_errors, Finding, Severity};
use crate::kind::KindDef;
use crate::modules;
use crate::schema::{self, explain::explain_with};
use crate::settings::{self, Overrides};
use crate::source::files;
use crate::userkinds::describe::{extension_kind, names, ExtensionKind, EXTENSION_KINDS};
use crate::userkinds::{self, UserKind, UserKinds};
use crate::validate::suggest::did_you_mean;
use serde_json::Value;

/// Document a kind or one of its fields, as `kubectl explain` does.
///
/// The layout is kubectl's (GROUP, KIND, VERSION, DESCRIPTION, FIELDS, and FIELD for a field
/// path), read from the kind's schema, so no cluster is needed. Two additions kubectl has no
/// slot for: a field's `default:` line after its description, and, for a whole kind, the
/// sections SEED MODULE (the seed module and its category), EMITS (the objects it can emit) and,
/// for a kind apps bind to with `uses`, OUTPUTS (each connection output, whether it is a value
/// or a Secret key, and what it holds), after DESCRIPTION in the same style.
///
/// Your own kinds too: give their KindDefinitions with --kinds (or NIXERNETES_KINDS, or -f for
/// input that holds them) and explain one as a built-in kind, its group and version, the
/// descriptions, defaults and enums of its schema; for the whole kind, DEFINITION (where it is
/// declared) and EMITS (each template) instead of SEED MODULE. KindDefinition and
/// ValidationRule themselves are explained too.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kubectl nixernetes explain webapp\n  \
    kubectl nixernetes explain webapp.spec.ports\n  \
    kubectl nixernetes explain postgresql.spec --recursive\n  \
    kubectl nixernetes explain shopservice.spec --kinds examples/extending/kinds/")]
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
    #[command(flatten)]
    pub definitions: DefinitionArgs,
}

/// Where `kinds`, `explain` and `schema` find user kinds (KindDefinitions), besides the
/// built-in ones.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DefinitionArgs {
    /// KindDefinitions (your own kinds) to include: a file or a directory; repeatable. Also
    /// read from NIXERNETES_KINDS (paths separated by commas).
    ///
    /// Example: --kinds kinds/
    #[arg(long = "kinds", value_name = "PATH")]
    pub kind_paths: Vec<String>,
    /// Input files or directories (as render reads them, - for stdin) whose KindDefinitions to
    /// include; their other objects are left alone; repeatable.
    ///
    /// Example: -f examples/extending/
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<String>,
}

/// A kind named on the command line.
pub enum Found<'a> {
    /// A built-in kind of the registry.
    BuiltIn(&'static KindDef),
    /// `KindDefinition` or `ValidationRule`.
    Extension(&'static ExtensionKind),
    /// A user kind of the definitions given.
    User(&'a UserKind),
}

impl Found<'_> {
    pub fn kind(&self) -> &str {
        match self {
            Found::BuiltIn(d) => d.kind,
            Found::Extension(e) => e.kind,
            Found::User(k) => &k.kind,
        }
    }

    /// The published JSON Schema of the kind's documents.
    pub fn schema(&self) -> Value {
        match self {
            Found::BuiltIn(d) => d.schema(),
            Found::Extension(e) => e.schema(),
            Found::User(k) => k.schema(),
        }
    }
}

/// The kinds a command knows: the built-in ones, `KindDefinition` and `ValidationRule`, and the
/// user kinds of the definitions given.
pub struct Known {
    pub user: UserKinds,
}

impl Known {
    /// The built-in kinds and the user kinds of `args` (and `NIXERNETES_KINDS`), every
    /// definition checked as `render` checks it. Problems are printed, with the exit code.
    pub fn load(args: &DefinitionArgs) -> Result<Known, i32> {
        let (user, mut findings) = match Self::read(args, &mut std::io::stdin().lock()) {
            Ok(read) => read,
            Err(e) => {
                eprintln!("error: {e}");
                return Err(EXIT_USAGE);
            }
        };
        crate::source::locate::field_lines(&mut findings, None, Severity::Info);
        let shown: Vec<Finding> = findings
            .into_iter()
            .filter(|f| f.severity > Severity::Info)
            .collect();
        print_findings(&shown);
        if has_errors(&shown) {
            return Err(EXIT_INVALID);
        }
        Ok(Known { user })
    }

    /// [`Known::load`] for shell completion: nothing printed, stdin not read, and only the
    /// built-in kinds when the definitions have errors.
    pub fn quiet(args: &DefinitionArgs) -> Known {
        let args = DefinitionArgs {
            kind_paths: args.kind_paths.clone(),
            files: args.files.iter().filter(|f| *f != "-").cloned().collect(),
        };
        match Self::read(&args, &mut std::io::empty()) {
            Ok((user, findings)) if !has_errors(&findings) => Known { user },
            _ => Known {
                user: UserKinds::default(),
            },
        }
    }

    /// The user kinds of `args` and what reading them found; `Err` for a setting that cannot
    /// be read (`NIXERNETES_KINDS`).
    fn read(
        args: &DefinitionArgs,
        stdin: &mut dyn std::io::Read,
    ) -> Result<(UserKinds, Vec<Finding>), String> {
        let mut paths = Overrides::default();
        let given = Value::Array(args.kind_paths.iter().cloned().map(Value::String).collect());
        settings::KINDS
            .apply(&mut paths, &given)
            .and_then(|_| settings::apply_environment(&mut paths))
            .map_err(|e| e.to_string())?;
        let mut findings = Vec::new();
        if paths.kinds.is_empty() && args.files.is_empty() {
            return Ok((UserKinds::default(), findings));
        }
        let extra = files::read_all(&paths.kinds, &mut std::io::empty()).unwrap_or_else(|e| {
            findings.extend(e);
            Vec::new()
        });
        let inputs = files::read_all(&args.files, stdin).unwrap_or_else(|e| {
            findings.extend(e);
            Vec::new()
        });
        let user = if has_errors(&findings) {
            UserKinds::default()
        } else {
            userkinds::load(inputs, &extra, modules::registry(), &mut findings)
        };
        Ok((user, findings))
    }

    /// The kind `name` names, as kubectl reads a resource name: the kind in any case
    /// (`webapp`, `WebApp`), or its plural (`webapps`).
    pub fn find(&self, name: &str) -> Option<Found<'_>> {
        if let Some(def) = modules::registry().iter().find(|d| names(d.kind, name)) {
            return Some(Found::BuiltIn(def));
        }
        if let Some(e) = extension_kind(name) {
            return Some(Found::Extension(e));
        }
        self.user.find(name).map(Found::User)
    }

    /// The message for a kind that [`Known::find`] does not know: the close kinds, and where
    /// the list is.
    pub fn unknown(&self, name: &str) -> String {
        let kinds = modules::registry()
            .iter()
            .map(|def| def.kind)
            .chain(EXTENSION_KINDS.iter().map(|e| e.kind))
            .chain(self.user.iter().map(|k| k.kind.as_str()));
        let hint = did_you_mean(name, kinds)
            .map(|h| format!(": {h}"))
            .unwrap_or_default();
        // A kind of the user's own is known only from its definition.
        let own = if self.user.iter().next().is_none() {
            "; for a kind of your own, give its KindDefinition with --kinds PATH or -f FILE"
        } else {
            ""
        };
        format!(
            "error: unknown kind {name:?}{hint} (run `kubectl nixernetes kinds` for the list){own}"
        )
    }
}

pub fn run(args: &ExplainArgs) -> i32 {
    let known = match Known::load(&args.definitions) {
        Ok(k) => k,
        Err(code) => return code,
    };
    let mut parts = args.target.split('.');
    let name = parts.next().unwrap_or_default();
    let path: Vec<&str> = parts.collect();
    let Some(found) = known.find(name) else {
        eprintln!("{}", known.unknown(name));
        return EXIT_USAGE;
    };
    let whole = path.is_empty();
    let (sections, api_version) = match &found {
        Found::BuiltIn(def) => {
            let mut sections = vec![
                ("seed module", docs::seed_module(def)),
                ("emits", docs::emits(def).join("\n")),
            ];
            if !def.outputs.is_empty() {
                sections.push(("outputs", docs::outputs(def).join("\n")));
            }
            (sections, schema::API_VERSION)
        }
        Found::Extension(e) => (vec![("emits", e.emits.to_string())], schema::API_VERSION),
        Found::User(k) => (
            vec![
                ("definition", k.declared_by()),
                ("emits", k.emits().join("\n")),
            ],
            k.api_version.as_str(),
        ),
    };
    let sections = if whole { sections } else { Vec::new() };
    match explain_with(
        &found.schema(),
        found.kind(),
        api_version,
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
