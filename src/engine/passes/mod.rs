//! Passes over the whole expanded set, before injection: generated NetworkPolicies, identity
//! collisions, and controllers (autoscalers, disruption budgets) that fight over one workload.

pub mod collisions;
pub mod controllers;
pub mod network_policies;
