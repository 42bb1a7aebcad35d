//! Seed module `advanced-orchestration` (category `core`): where pods run and how many of them
//! stay up. The original returned plain records that nothing rendered (with a PDB that always
//! carried `maxUnavailable`, and anti-affinity terms of the wrong shape); these kinds emit the
//! objects the scheduler, the eviction API and the autoscalers read, or patch the pod templates
//! of module workloads. Multi-cluster placement and capacity planning are not here (see
//! MODULES-reference §3.1).

mod autoscaler;
mod disruption_budget;
mod priority_tier;
mod scheduling_profile;

use crate::kind::spec::{configurator, generator};
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "advanced-orchestration",
    category: Category::Core,
    summary: "scheduling, disruption budgets, priorities and autoscaling of workloads",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        configurator::<scheduling_profile::SchedulingProfile>(&MODULE),
        generator::<disruption_budget::DisruptionBudget>(&MODULE),
        generator::<priority_tier::PriorityTier>(&MODULE),
        generator::<autoscaler::Autoscaler>(&MODULE),
    ]
}
