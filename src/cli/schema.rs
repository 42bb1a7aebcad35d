//! `kubectl nixernetes schema [KIND...] [--crd] [-o json|yaml]`: the JSON Schema of kinds (for
//! editors and validators), or their CustomResourceDefinitions (for clusters and the tools that
//! read CRDs).
//!
//! Owns the choice of documents and how several are put together; the schemas are
//! `KindDef::schema`, the CRDs `schema::crd`, and one JSON Schema printed alone is byte for byte
//! the committed `schemas/<Kind>.json` (`docs::schema_text`).
//!
//! Exit codes: 0 printed; 1 a definition given has errors, or a kind without a structural CRD
//! form (a bug: tests cover every built-in kind); 2 an unknown kind, or bad flags.

use super::explain::{DefinitionArgs, Found, Known};
use super::{emit, emit_stream, EXIT_INVALID, EXIT_USAGE};
use crate::docs::json_text;
use crate::modules;
use crate::schema::crd::{crd, plural};
use clap::ValueEnum;
use serde_json::{json, Value};

/// Output formats of `schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SchemaFormat {
    /// Pretty JSON: one document, or for several a JSON array (a `v1 List` of CRDs).
    #[default]
    Json,
    /// YAML: one document, or for several a stream separated by `---`.
    Yaml,
}

/// Print the JSON Schema of kinds, or their CustomResourceDefinitions.
///
/// Without --crd: the JSON Schema (draft 2020-12) of each kind's documents, the one
/// `schemas/<Kind>.json` holds. yaml-language-server (VS Code's YAML extension, Neovim, Helix…)
/// checks and completes a file whose first line is
/// `# yaml-language-server: $schema=<path relative to the file, or URL>`.
///
/// With --crd: the structural apiextensions.k8s.io/v1 CustomResourceDefinition of each kind
/// (`<plural>.nixernetes.io`, namespaced, version v1alpha1), for tools that read CRDs
/// (`kubectl explain` on a cluster, kubeconform, GitOps dashboards). nixernetes expands module
/// resources itself: a cluster needs these CRDs only to store module resources as objects.
///
/// Your own kinds too (KindDefinitions given with --kinds, NIXERNETES_KINDS or -f): the JSON
/// Schema of an instance, from the definition's schema (descriptions, defaults, enums,
/// required; unknown fields refused, as render refuses them), and a CRD
/// `<plural>.<your group>` whose openAPIV3Schema is the definition's, its CEL rules included.
/// KindDefinition and ValidationRule have schemas too, for editors.
///
/// One kind named: that document alone. Several, or none (every built-in kind and every user
/// kind given): a YAML stream, or in JSON an array of schemas or a `v1 List` of CRDs.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kubectl nixernetes schema WebApp > schemas/WebApp.json\n  \
    kubectl nixernetes schema -o yaml\n  \
    kubectl nixernetes schema --crd | kubectl apply --server-side -f -\n  \
    kubectl nixernetes schema --crd shopservice --kinds examples/extending/kinds/ -o yaml")]
pub struct SchemaArgs {
    /// Kinds to print (any case, or the plural); every kind when none is given.
    ///
    /// Example: kubectl nixernetes schema webapp worker
    #[arg(value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Print CustomResourceDefinitions instead of JSON Schemas.
    ///
    /// Example: kubectl nixernetes schema --crd postgresql -o yaml
    #[arg(long)]
    pub crd: bool,
    /// Output format.
    ///
    /// Example: -o yaml
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: SchemaFormat,
    #[command(flatten)]
    pub definitions: DefinitionArgs,
}

pub fn run(args: &SchemaArgs) -> i32 {
    let known = match Known::load(&args.definitions) {
        Ok(k) => k,
        Err(code) => return code,
    };
    let found: Vec<Found> = if args.kinds.is_empty() {
        let builtin = modules::registry().iter().map(Found::BuiltIn);
        builtin.chain(known.user.iter().map(Found::User)).collect()
    } else {
        let mut found: Vec<Found> = Vec::new();
        let mut unknown = false;
        for name in &args.kinds {
            match known.find(name) {
                Some(f) if !found.iter().any(|d| d.kind() == f.kind()) => found.push(f),
                Some(_) => {}
                None => {
                    eprintln!("{}", known.unknown(name));
                    unknown = true;
                }
            }
        }
        if unknown {
            return EXIT_USAGE;
        }
        found
    };
    let alone = !args.kinds.is_empty() && found.len() == 1;

    if !args.crd {
        return match (args.output, alone) {
            (SchemaFormat::Json, true) => emit(json_text(&found[0].schema()).as_bytes()),
            (SchemaFormat::Json, false) => {
                let all: Vec<Value> = found.iter().map(Found::schema).collect();
                emit(json_text(&Value::Array(all)).as_bytes())
            }
            (SchemaFormat::Yaml, _) => emit_stream(found.iter().map(Found::schema)),
        };
    }

    let mut crds = Vec::with_capacity(found.len());
    for f in &found {
        let made = match f {
            Found::User(k) => Ok(k.crd()),
            other => crd(other.kind(), &plural(other.kind()), &other.schema()),
        };
        match made {
            Ok(c) => crds.push(c),
            Err(e) => {
                eprintln!("error: {}: {e}", f.kind());
                return EXIT_INVALID;
            }
        }
    }
    match (args.output, alone) {
        (SchemaFormat::Json, true) => emit(json_text(&crds[0]).as_bytes()),
        (SchemaFormat::Json, false) => {
            let list = json!({"apiVersion": "v1", "kind": "List", "items": crds});
            emit(json_text(&list).as_bytes())
        }
        (SchemaFormat::Yaml, _) => emit_stream(crds),
    }
}
