//! Seed modules `compliance` and `compliance-profiles` (category `security`): the compliance a
//! render is held to, and the `compliance.nixernetes.io/*` labels it stamps.

mod compliance_profile;

use crate::kind::spec::configurator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "compliance",
    category: Category::Security,
    summary: "compliance frameworks, levels and the labels that record them",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![configurator::<compliance_profile::ComplianceProfile>(
        &MODULE,
    )]
}
