//! Seed module `rbac` (category `security`): Roles, ClusterRoles and their bindings, with the
//! original's defect fixed (its bindings' `roleRef` named the binding itself, so they granted
//! nothing) and its rules validated.

mod access_role;
mod cluster_access;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "rbac",
    category: Category::Security,
    summary: "least-privilege access: Roles, ClusterRoles and the bindings that grant them",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<access_role::AccessRole>(&MODULE),
        generator::<cluster_access::ClusterAccess>(&MODULE),
    ]
}

#[cfg(test)]
mod tests {
    use super::access_role::{preset_rules, Preset};
    use crate::engine::Output;
    use crate::finding::Severity;
    use crate::modules::shared::testing::render;
    use crate::resource::Resource;
    use serde_json::json;

    fn find<'a>(out: &'a Output, kind: &str) -> Vec<&'a Resource> {
        out.objects.iter().filter(|o| o.kind() == kind).collect()
    }

    fn fields(out: &Output, severity: Severity) -> Vec<String> {
        out.findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.field.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn presets_have_no_wildcards_and_no_escalation() {
        for preset in [Preset::ReadOnly, Preset::Edit] {
            let rules = preset_rules(preset);
            assert!(!rules.is_empty());
            for r in rules {
                let all = r
                    .api_groups
                    .iter()
                    .flatten()
                    .chain(r.resources.iter().flatten())
                    .chain(&r.verbs);
                for v in all {
                    assert!(
                        !v.contains('*')
                            && !["bind", "escalate", "impersonate", "secrets", "pods/exec"]
                                .contains(&v.as_str()),
                        "{preset:?}: {v}"
                    );
                }
            }
        }
        let read_only = preset_rules(Preset::ReadOnly);
        assert!(read_only
            .iter()
            .all(|r| r.verbs == ["get", "list", "watch"]));
    }

    #[test]
    fn the_binding_grants_the_role_it_is_named_after() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: AccessRole
metadata: {name: ci-deployer, namespace: shop}
spec:
  preset: edit
  subjects: [group:shop-devs, serviceaccount:argocd:argocd-application-controller, serviceaccount:web]
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let binding = find(&out, "RoleBinding")[0];
        assert_eq!(
            binding.object["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ci-deployer"})
        );
        assert_eq!(find(&out, "Role")[0].name(), "ci-deployer");
        assert_eq!(
            binding.object["subjects"],
            json!([
                {"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "shop"},
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "shop-devs"},
                {"kind": "ServiceAccount", "name": "argocd-application-controller", "namespace": "argocd"},
                {"kind": "ServiceAccount", "name": "web", "namespace": "shop"},
            ])
        );
        let sa = find(&out, "ServiceAccount")[0];
        assert_eq!(sa.object["automountServiceAccountToken"], json!(false));
    }

    #[test]
    fn an_existing_service_account_is_bound_not_created() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: AccessRole
metadata: {name: reader, namespace: shop}
spec: {serviceAccount: {create: false, name: web}}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        assert!(find(&out, "ServiceAccount").is_empty());
        assert_eq!(
            find(&out, "RoleBinding")[0].object["subjects"][0]["name"],
            "web"
        );
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: AccessRole
metadata: {name: reader, namespace: shop}
spec: {serviceAccount: {create: false}}
",
        );
        assert_eq!(fields(&out, Severity::Error), ["spec"]);
    }

    #[test]
    fn custom_rules_are_validated_and_broad_ones_warned() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: AccessRole
metadata: {name: ops, namespace: shop}
spec:
  preset: custom
  rules:
  - {apiGroups: [''], resources: ['*'], verbs: [get, impersonate]}
  - {apiGroups: [apps], resources: [deployments], verbs: ['*']}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        assert_eq!(
            fields(&out, Severity::Warning),
            [
                "spec.rules[0].resources[0]",
                "spec.rules[0].verbs[1]",
                "spec.rules[1].verbs[0]"
            ]
        );
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: AccessRole
metadata: {name: ops, namespace: shop}
spec:
  rules:
  - {apiGroups: [v1], resources: [], verbs: [gets]}
  - {nonResourceURLs: [/metrics], verbs: [get]}
  subjects: [alice, 'group:']
",
        );
        assert_eq!(
            fields(&out, Severity::Error),
            [
                "spec.rules",
                "spec.rules[0].resources",
                "spec.rules[0].apiGroups[0]",
                "spec.rules[0].verbs[0]",
                "spec.rules[1].nonResourceURLs",
                "spec.subjects[0]",
                "spec.subjects[1]",
            ]
        );
        let msgs: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("did you mean `get`?")),
            "{msgs:?}"
        );
    }

    #[test]
    fn cluster_access_aggregates_and_binds() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: ClusterAccess
metadata: {name: widgets-view}
spec:
  rules: [{apiGroups: [acme.io], resources: [widgets], verbs: [get, list, watch]}]
  aggregateTo: [view, edit]
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        assert!(find(&out, "ClusterRoleBinding").is_empty());
        let role = find(&out, "ClusterRole")[0];
        let labels = role.labels().unwrap();
        assert_eq!(
            labels["rbac.authorization.k8s.io/aggregate-to-view"],
            "true"
        );
        assert_eq!(
            labels["rbac.authorization.k8s.io/aggregate-to-edit"],
            "true"
        );
        assert!(role.namespace().is_none());
        assert!(out.findings.is_empty(), "{:?}", out.findings);

        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: ClusterAccess
metadata: {name: monitoring}
spec:
  aggregateFrom: {acme.io/aggregate-to-monitoring: 'true'}
  subjects: [group:sre]
---
apiVersion: nixernetes.io/v1alpha1
kind: ClusterAccess
metadata: {name: metrics-reader}
spec:
  rules: [{nonResourceURLs: [/metrics], verbs: [get]}]
  subjects: [serviceaccount:monitoring:prometheus]
  namespaces: [shop, payments]
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let roles = find(&out, "ClusterRole");
        assert_eq!(
            roles[0].object["aggregationRule"],
            json!({"clusterRoleSelectors": [{"matchLabels": {"acme.io/aggregate-to-monitoring": "true"}}]})
        );
        assert!(roles[0].object.get("rules").is_none());
        let crb = find(&out, "ClusterRoleBinding");
        assert_eq!(crb.len(), 1);
        assert_eq!(crb[0].object["roleRef"]["name"], "monitoring");
        let rbs = find(&out, "RoleBinding");
        assert_eq!(rbs.len(), 2);
        assert_eq!(
            rbs[1].object["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "metrics-reader"})
        );
        assert_eq!(rbs[1].namespace(), Some("payments"));
    }

    #[test]
    fn cluster_access_errors() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: ClusterAccess
metadata: {name: bad}
spec:
  rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]
  aggregateFrom: {team: a}
  aggregateTo: [view, view]
  subjects: [serviceaccount:prometheus]
",
        );
        assert_eq!(
            fields(&out, Severity::Error),
            [
                "spec.rules",
                "spec.aggregateTo",
                "spec.aggregateTo[1]",
                "spec.subjects[0]"
            ]
        );
    }
}
