//! Seed module `multi-tenancy` (category `core`).

use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "multi-tenancy",
    category: Category::Core,
    summary: "tenants sharing a cluster: isolated namespaces, quotas, limits and member access",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![]
}
