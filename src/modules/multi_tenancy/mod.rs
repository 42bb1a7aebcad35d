//! Seed module `multi-tenancy` (category `core`): teams sharing a cluster. The original returned
//! records that nothing rendered; these kinds render Kubernetes' own tenancy objects (or a Capsule
//! Tenant). Billing rates are not kept: no controller reads them (a cost center is, as a label).

mod namespace_quota;
mod tenant;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "multi-tenancy",
    category: Category::Core,
    summary: "tenants sharing a cluster: isolated namespaces, quotas, limits and member access",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<tenant::Tenant>(&MODULE),
        generator::<namespace_quota::NamespaceQuota>(&MODULE),
    ]
}
