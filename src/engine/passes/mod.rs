//! Passes over the whole expanded set, before injection: generated NetworkPolicies and identity
//! collisions.

pub mod collisions;
pub mod network_policies;
