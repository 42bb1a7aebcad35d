//! Seed module `database-management` (category `data`): databases run by their operators, with
//! backups, pooling and monitoring.

mod mongodb;
mod mysql;
mod postgresql;
mod redis;

#[cfg(test)]
mod tests_mysql_mongo;
#[cfg(test)]
mod tests_postgresql;
#[cfg(test)]
mod tests_redis;

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
        generator::<mysql::MySQL>(&MODULE),
        generator::<mongodb::MongoDB>(&MODULE),
        generator::<redis::Redis>(&MODULE),
    ]
}
