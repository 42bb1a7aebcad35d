//! Spec fragments and object builders shared by the kinds, so each kind's file holds only what
//! is particular to it. Core objects are built from `k8s-openapi` types, so field names are
//! checked by the compiler.

pub mod compliance;
pub mod config;
pub mod container;
pub mod defaults;
pub mod meta;
pub mod rbac;
pub mod scaling;
pub mod scheduling;
pub mod storage;
#[cfg(test)]
pub mod testing;
pub mod workload;
