//! The built-in kinds: one folder per seed module of the original framework, one file per kind
//! (`KINDS.md` §1.3 of the design). Each seed module's `mod.rs` names its `SeedModule` and lists
//! its kinds, one line each; this file lists the seed modules, one line each. `registry()` is the
//! value the CLI hands to the engine.

pub mod shared;

mod advanced_orchestration;
mod compliance;
mod compliance_enforcement;
mod database_management;
mod event_processing;
mod kubernetes_core;
mod kyverno;
mod multi_tenancy;
mod multi_tier_deployment;
mod rbac;
mod secrets_management;
mod security_policies;
mod unified_api;

use crate::kind::Registry;
use std::sync::LazyLock;

/// Every built-in kind, in documentation order (seed modules, then their kinds).
pub fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
        Registry::new(
            [
                unified_api::kinds(),
                compliance::kinds(),
                compliance_enforcement::kinds(),
                kubernetes_core::kinds(),
                multi_tier_deployment::kinds(),
                database_management::kinds(),
                event_processing::kinds(),
                security_policies::kinds(),
                advanced_orchestration::kinds(),
                rbac::kinds(),
                multi_tenancy::kinds(),
                secrets_management::kinds(),
                kyverno::kinds(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        )
    });
    &REGISTRY
}

#[cfg(test)]
mod tests {
    use super::registry;
    use crate::schema::operators;

    /// Groups the Kubernetes API server itself serves.
    const BUILT_IN_GROUPS: &[&str] = &[
        "",
        "apps",
        "batch",
        "policy",
        "autoscaling",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
        "node.k8s.io",
        "discovery.k8s.io",
    ];

    /// Kinds write operator apiVersions from the table, never literally: every custom kind a
    /// kind emits is a row (with the same default), and every row is emitted by some kind.
    #[test]
    fn emitted_custom_kinds_are_the_operator_table() {
        let mut used = Vec::new();
        for def in registry().iter() {
            for gvk in def.emits {
                let group = gvk.api_version.rsplit_once('/').map_or("", |(g, _)| g);
                if BUILT_IN_GROUPS.contains(&group) {
                    continue;
                }
                let row = operators::of(gvk.api_version, gvk.kind).unwrap_or_else(|| {
                    panic!(
                        "{} emits {} {}, which is not in schema::operators",
                        def.kind, gvk.api_version, gvk.kind
                    )
                });
                assert_eq!(row.api_version(), gvk.api_version, "{}", def.kind);
                used.push(row.key());
            }
        }
        for row in operators::ALL {
            assert!(
                used.contains(&row.key()),
                "{} is emitted by no kind",
                row.key()
            );
        }
    }

    /// Every kind has a CustomResourceDefinition (`schema --crd`) that follows the structural
    /// rules and validates against the strict Kubernetes schema of CRDs, under a plural that
    /// is a DNS-1035 label no other kind has.
    #[test]
    fn every_kind_has_a_structural_crd() {
        use crate::schema::crd::tests::{kubernetes_crd_validator, structural_problems};
        use crate::schema::crd::{crd, plural};
        let validator = kubernetes_crd_validator();
        let mut plurals = Vec::new();
        for def in registry().iter() {
            let plural = plural(def.kind);
            assert!(
                crate::validate::names::dns1035_label(&plural).is_ok(),
                "{}: plural {plural:?} is no DNS-1035 label",
                def.kind
            );
            assert!(
                !plurals.contains(&plural),
                "{}: plural {plural} taken",
                def.kind
            );
            plurals.push(plural.clone());
            let crd = crd(def.kind, &plural, &def.schema())
                .unwrap_or_else(|e| panic!("{}: {e}", def.kind));
            let root = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
            let mut problems = Vec::new();
            structural_problems(root, "openAPIV3Schema", false, &mut problems);
            let text = root.to_string();
            if text.contains("\"uniqueItems\":true") {
                problems.push("uniqueItems: true (the API server forbids it)".into());
            }
            assert_eq!(problems, Vec::<String>::new(), "{}", def.kind);
            if let Some(v) = &validator {
                let errors: Vec<String> = v
                    .iter_errors(&crd)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                assert_eq!(errors, Vec::<String>::new(), "{}", def.kind);
            }
        }
        assert_eq!(plural("PlatformDefaults"), "platformdefaults");
        assert_eq!(plural("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural("Gateway"), "gateways");
        assert_eq!(plural("WebApp"), "webapps");
    }

    /// Configuration kinds have distinct precedences, so which one wins never depends on order.
    #[test]
    fn configuration_precedences_are_distinct() {
        let mut seen = Vec::new();
        for def in registry().iter() {
            if let crate::kind::Role::Configure { precedence, .. } = def.role {
                assert!(
                    !seen.contains(&precedence),
                    "{} shares precedence {precedence}",
                    def.kind
                );
                seen.push(precedence);
            }
        }
        assert!(seen.len() >= 2);
    }
}
