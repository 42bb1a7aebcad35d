//! Nixernetes: declarative Kubernetes platform modules, rendered by one engine for four callers
//! (kubectl plugin, Kustomize KRM function, legacy Kustomize exec plugin, Argo CD plugin).
//!
//! Data flow: `source` (files, stdin, ResourceList, env) → `engine` (configure, expand through a
//! `kind::Registry`, generated companions, inject metadata, checks) → `engine::order` → output
//! written by `cli`, with diagnostics as `finding::Finding`s rendered by `report`. All YAML goes
//! through `yaml`.
//!
//! Layers, lowest first (a module imports only from lower ones; `tests/it/layers.rs` checks it):
//! `validate`, `resource` · `yaml` · `types`, `finding` · `settings`, `schema` · `source`,
//! `kind` (the contract between the engine and the kinds) · `policy` · `modules` (the built-in
//! kinds, one file each) · `engine` · `report`, `cluster` · `diff` · `apply` · `cli`.

// `Finding` is the error type of validation paths; it is large, and those paths are cold.
#![allow(clippy::result_large_err)]

pub mod apply;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod docs;
pub mod engine;
pub mod finding;
pub mod kind;
pub mod modules;
pub mod policy;
pub mod report;
pub mod resource;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod source;
pub mod types;
pub mod userkinds;
pub mod validate;
pub mod yaml;

/// The tool's version, stamped as `nixernetes.io/version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
