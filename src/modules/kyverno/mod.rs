//! Seed module `kyverno` (category `security`): Kyverno policies in Kyverno's own schema (the
//! original's builders wrote rule keys, kinds and variables Kyverno rejects), policy bundles
//! built on Kyverno's published pod-security and best-practices policies (as Kyverno
//! ClusterPolicies or as the API server's ValidatingAdmissionPolicies), and image signature
//! verification.

mod common;
mod image_trust_policy;
mod kyverno_policy;
mod policy_bundle;
mod presets;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "kyverno",
    category: Category::Security,
    summary: "Kyverno policies, policy bundles and image signature verification",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<kyverno_policy::KyvernoPolicy>(&MODULE),
        generator::<policy_bundle::PolicyBundle>(&MODULE),
        generator::<image_trust_policy::ImageTrustPolicy>(&MODULE),
    ]
}
