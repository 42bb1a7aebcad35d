//! Seed module `unified-api` (category `observability`): the platform-wide defaults every other
//! kind reads. (The unified API's one-declaration application is `WebApp` with `compliance` and
//! `dependsOn`.)

mod platform_defaults;

use crate::kind::spec::configurator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "unified-api",
    category: Category::Observability,
    summary: "platform-wide defaults every other kind reads",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![configurator::<platform_defaults::PlatformDefaults>(&MODULE)]
}
