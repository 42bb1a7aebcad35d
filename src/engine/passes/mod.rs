//! Passes over the whole expanded set, before injection: generated NetworkPolicies, the
//! Namespaces of the set (when asked for), identity collisions, controllers (autoscalers,
//! disruption budgets) that fight over one workload, and the config content hashes of pod
//! templates.

pub mod collisions;
pub mod config_hash;
pub mod controllers;
pub mod namespaces;
pub mod network_policies;
