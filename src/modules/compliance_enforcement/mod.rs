//! Seed module `compliance-enforcement` (category `security`): verdicts on the rendered set at a
//! compliance level.

mod compliance_check;

use crate::kind::spec::reporter;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "compliance-enforcement",
    category: Category::Security,
    summary: "compliance verdicts on the rendered set",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![reporter::<compliance_check::ComplianceCheck>(&MODULE)]
}
