//! Passes over the whole expanded set, before injection: generated NetworkPolicies, the
//! Namespaces of the set (when asked for), identity collisions, and controllers (autoscalers,
//! disruption budgets) that fight over one workload.

pub mod collisions;
pub mod controllers;
pub mod namespaces;
pub mod network_policies;
