//! `kubectl nixernetes schema [KIND...] [--crd] [-o json|yaml]`: the JSON Schema of kinds (for
//! editors and validators), or their CustomResourceDefinitions (for clusters and the tools that
//! read CRDs).
//!
//! Owns the choice of documents and how several are put together; the schemas are
//! `KindDef::schema`, the CRDs `schema::crd`, and one JSON Schema printed alone is byte for byte
//! the committed `schemas/<Kind>.json` (`docs::schema_text`).
//!
//! Exit codes: 0 printed; 1 a kind without a structural CRD form (a bug: tests cover every
//! kind); 2 an unknown kind, or bad flags.

use super::explain::{find_kind, unknown_kind};
use super::{emit, emit_stream, EXIT_INVALID, EXIT_USAGE};
use crate::docs::{self, json_text};
use crate::kind::KindDef;
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
/// One kind named: that document alone. Several, or none (every kind): a YAML stream, or in
/// JSON an array of schemas or a `v1 List` of CRDs.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kubectl nixernetes schema WebApp > schemas/WebApp.json\n  \
    kubectl nixernetes schema -o yaml\n  \
    kubectl nixernetes schema --crd | kubectl apply --server-side -f -")]
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
}

pub fn run(args: &SchemaArgs) -> i32 {
    let defs: Vec<&KindDef> = if args.kinds.is_empty() {
        modules::registry().iter().collect()
    } else {
        let mut defs: Vec<&KindDef> = Vec::new();
        let mut unknown = false;
        for name in &args.kinds {
            match find_kind(name) {
                Some(def) if !defs.iter().any(|d| d.kind == def.kind) => defs.push(def),
                Some(_) => {}
                None => {
                    eprintln!("{}", unknown_kind(name));
                    unknown = true;
                }
            }
        }
        if unknown {
            return EXIT_USAGE;
        }
        defs
    };
    let alone = !args.kinds.is_empty() && defs.len() == 1;

    if !args.crd {
        return match (args.output, alone) {
            (SchemaFormat::Json, true) => emit(docs::schema_text(defs[0]).as_bytes()),
            (SchemaFormat::Json, false) => {
                let all: Vec<Value> = defs.iter().map(|d| d.schema()).collect();
                emit(json_text(&Value::Array(all)).as_bytes())
            }
            (SchemaFormat::Yaml, _) => emit_stream(defs.iter().map(|d| d.schema())),
        };
    }

    let mut crds = Vec::with_capacity(defs.len());
    for def in &defs {
        match crd(def.kind, &plural(def.kind), &def.schema()) {
            Ok(c) => crds.push(c),
            Err(e) => {
                eprintln!("error: {}: {e}", def.kind);
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
