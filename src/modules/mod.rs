//! The built-in kinds: one folder per seed module of the original framework, one file per kind
//! (`KINDS.md` §1.3 of the design). Each seed module's `mod.rs` names its `SeedModule` and lists
//! its kinds, one line each; this file lists the seed modules, one line each. `registry()` is the
//! value the CLI hands to the engine.

pub mod shared;

mod compliance;
mod compliance_enforcement;
mod database_management;
mod kubernetes_core;
mod security_policies;
mod unified_api;

use crate::kind::Registry;
use std::sync::LazyLock;

/// Every built-in kind, in documentation order (seed modules, then their kinds).
pub fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
        Registry::new(
            [
                unified_api::kinds(),
                compliance::kinds(),
                compliance_enforcement::kinds(),
                kubernetes_core::kinds(),
                database_management::kinds(),
                security_policies::kinds(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        )
    });
    &REGISTRY
}
