//! Seed module `database-management` (category `data`): databases run by their operators, with
//! backups, pooling and monitoring.

mod postgresql;
mod redis;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "database-management",
    category: Category::Data,
    summary: "databases run by their operators, with backups, pooling and monitoring",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<postgresql::PostgreSQL>(&MODULE),
        generator::<redis::Redis>(&MODULE),
    ]
}
