//! Seed module `multi-tier-deployment` (category `data`, as MODULES.md files it): applications
//! of several tiers. The original's `unified-api.nix mkMultiTierApp` had fixed frontend,
//! backend, database and cache slots and emitted nothing; here the tiers are any number of
//! `WebApp`, `Worker` and `StatefulService` resources, and their dependency graph drives the
//! generated NetworkPolicies.

mod multi_tier_app;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "multi-tier-deployment",
    category: Category::Data,
    summary: "applications of several tiers wired by their dependency graph",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![generator::<multi_tier_app::MultiTierApp>(&MODULE)]
}
