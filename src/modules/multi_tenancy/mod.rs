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

#[cfg(test)]
mod tests {
    use crate::engine::{run, Options, Output};
    use crate::finding::Severity;
    use crate::resource::Resource;
    use serde_json::json;

    fn render_with(yaml: &str, skip_checks: bool) -> Output {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        run(
            inputs,
            &Options {
                skip_checks,
                ..Options::new(crate::modules::registry())
            },
        )
    }

    fn render(yaml: &str) -> Output {
        render_with(yaml, true)
    }

    fn all<'a>(out: &'a Output, kind: &str) -> Vec<&'a Resource> {
        out.objects.iter().filter(|o| o.kind() == kind).collect()
    }

    fn fields(out: &Output, severity: Severity) -> Vec<String> {
        out.findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.field.clone().unwrap_or_default())
            .collect()
    }

    /// The golden input of MODULES-reference §5 (WP2).
    const PAYMENTS: &str = "apiVersion: nixernetes.io/v1alpha1
kind: Tenant
metadata: {name: team-payments}
spec:
  quota: {cpu: \"40\", memory: 128Gi, pods: 200}
  podSecurity: restricted
  members: {admins: [group:payments-leads], developers: [group:payments-devs]}
  allowedRegistries: [ghcr.io/acme/]
";

    #[test]
    fn the_reference_tenant_renders_built_in_objects() {
        let out = render(PAYMENTS);
        assert!(!out.failed(), "{:?}", out.findings);
        let ns = all(&out, "Namespace");
        assert_eq!(ns.len(), 1);
        assert_eq!(ns[0].name(), "team-payments");
        let labels = ns[0].labels().unwrap();
        for mode in ["enforce", "audit", "warn"] {
            assert_eq!(
                labels[&format!("pod-security.kubernetes.io/{mode}")],
                "restricted"
            );
        }
        let bindings = all(&out, "RoleBinding");
        let refs: Vec<(&str, &str, &str)> = bindings
            .iter()
            .map(|b| {
                (
                    b.name(),
                    b.object["roleRef"]["kind"].as_str().unwrap(),
                    b.object["roleRef"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            refs,
            [
                ("team-payments-admins", "ClusterRole", "admin"),
                ("team-payments-developers", "ClusterRole", "edit")
            ]
        );
        let quota = &all(&out, "ResourceQuota")[0].object["spec"]["hard"];
        assert_eq!(quota["requests.cpu"], "40");
        assert_eq!(quota["requests.memory"], "128Gi");
        assert_eq!(quota["pods"], "200");
        assert_eq!(quota["requests.storage"], "1Ti");
        let policy = &all(&out, "ClusterPolicy")[0].object;
        assert_eq!(policy["apiVersion"], "kyverno.io/v1");
        assert!(policy["spec"].get("validationFailureAction").is_none());
        let rule = &policy["spec"]["rules"][0];
        assert_eq!(rule["validate"]["failureAction"], "Enforce");
        assert_eq!(
            rule["match"]["any"][0]["resources"]["kinds"],
            json!(["Pod"])
        );
        assert_eq!(
            rule["validate"]["pattern"]["spec"]["containers"][0]["image"],
            "ghcr.io/acme/*"
        );
        let policies: Vec<&str> = all(&out, "NetworkPolicy")
            .iter()
            .map(|p| p.name())
            .collect();
        assert_eq!(policies, ["default-deny", "allow-dns", "same-tenant"]);
        let dns = &all(&out, "NetworkPolicy")[1].object["spec"]["egress"][0]["ports"];
        assert_eq!(
            *dns,
            json!([{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}])
        );
        // LimitRange defaults come from the platform (100m/128Mi, 500m/512Mi), below the max.
        let item = &all(&out, "LimitRange")[0].object["spec"]["limits"][0];
        assert_eq!(
            item["defaultRequest"],
            json!({"cpu": "100m", "memory": "128Mi"})
        );
        assert_eq!(item["default"], json!({"cpu": "500m", "memory": "512Mi"}));
        assert_eq!(item["max"], json!({"cpu": "8", "memory": "16Gi"}));
    }

    #[test]
    fn tenant_namespaces_reach_each_other_and_only_the_allowed_others() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: Tenant
metadata: {name: acme}
spec:
  namespaces: [acme-web, acme-data]
  network: {allowFromNamespaces: [ingress-nginx], allowEgressCIDRs: [10.20.0.0/16]}
  members: {viewers: ['serviceaccount:monitoring:grafana']}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let same = out
            .objects
            .iter()
            .find(|o| o.name() == "same-tenant" && o.namespace() == Some("acme-data"))
            .unwrap();
        let own = json!({"namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["acme-web", "acme-data"]}
        ]}});
        assert_eq!(same.object["spec"]["ingress"], json!([{"from": [own]}]));
        assert_eq!(same.object["spec"]["egress"], json!([{"to": [own]}]));
        let names: Vec<String> = all(&out, "NetworkPolicy")
            .iter()
            .filter(|p| p.namespace() == Some("acme-web"))
            .map(|p| p.name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "default-deny",
                "allow-dns",
                "same-tenant",
                "allow-from-namespaces",
                "allow-egress-cidrs"
            ]
        );
        let viewer = &all(&out, "RoleBinding")[0].object["subjects"][0];
        assert_eq!(
            *viewer,
            json!({"kind": "ServiceAccount", "name": "grafana", "namespace": "monitoring"})
        );
    }

    #[test]
    fn a_workload_in_a_tenant_is_isolated_once_and_its_quota_is_checked() {
        let yaml = format!(
            "{PAYMENTS}---
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {{name: api, namespace: team-payments}}
spec:
  image: ghcr.io/acme/api:1.0.0
  replicas: 3
  resources: {{requests: {{cpu: '15'}}, limits: {{cpu: '15'}}}}
"
        );
        let out = render_with(&yaml, false);
        let denies = out
            .objects
            .iter()
            .filter(|o| o.name() == "default-deny")
            .count();
        assert_eq!(denies, 1);
        assert!(
            !out.findings
                .iter()
                .any(|f| f.message.contains("emitted twice")),
            "{:?}",
            out.findings
        );
        let quota: Vec<&str> = out
            .findings
            .iter()
            .filter(|f| f.check == Some("resource-quota-fit"))
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(quota.len(), 1, "{quota:?}");
        assert!(
            quota[0].contains("need 45 requests.cpu, above the quota's 40: Deployment/api 3 × 15"),
            "{}",
            quota[0]
        );
    }

    #[test]
    fn capsule_backend_emits_one_capsule_tenant() {
        let out = render(&format!(
            "{PAYMENTS}  backend: capsule\n  maxNamespaces: 5\n"
        ));
        assert!(!out.failed(), "{:?}", out.findings);
        let kinds: Vec<&str> = out.objects.iter().map(|o| o.kind()).collect();
        assert_eq!(kinds, ["Tenant", "ClusterPolicy"]);
        let t = &out.objects[0].object;
        assert_eq!(t["apiVersion"], "capsule.clastix.io/v1beta2");
        assert_eq!(
            t["spec"]["owners"],
            json!([{"kind": "Group", "name": "payments-leads"}])
        );
        assert_eq!(
            t["spec"]["additionalRoleBindings"][0]["clusterRoleName"],
            "edit"
        );
        assert_eq!(t["spec"]["namespaceOptions"]["quota"], 5);
        assert_eq!(t["spec"]["resourceQuotas"]["scope"], "Namespace");
        assert_eq!(
            t["spec"]["networkPolicies"]["items"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let rule = &out.objects[1].object["spec"]["rules"][0];
        assert_eq!(
            rule["match"]["any"][0]["resources"]["namespaceSelector"],
            json!({"matchLabels": {"capsule.clastix.io/tenant": "team-payments"}})
        );

        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: Tenant
metadata: {name: t}
spec:
  backend: capsule
  namespaces: [a]
  backup: {}
",
        );
        assert_eq!(
            fields(&out, Severity::Error),
            ["spec.namespaces", "spec.members.admins", "spec.backup"]
        );
    }

    #[test]
    fn tenant_errors_are_collected() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: Tenant
metadata: {name: t}
spec:
  namespaces: [a, a, kube-system]
  maxNamespaces: 3
  quota: {cpu: lots, limitsMemory: 1Gi}
  limits: {defaultRequest: {cpu: '2', gpu: '1'}, max: {cpu: '1'}}
  network: {isolation: false, allowEgressCIDRs: [10.0.0.1/8]}
  members: {admins: [payments-leads]}
  allowedRegistries: ['https://ghcr.io', 'ghcr.io/*']
  backup: {schedule: nightly, ttl: 30d}
  costCenter: 'cost center'
",
        );
        assert_eq!(
            fields(&out, Severity::Error),
            [
                "spec.namespaces[1]",
                "spec.namespaces[2]",
                "spec.maxNamespaces",
                "spec.quota.cpu",
                "spec.limits.defaultRequest.gpu",
                "spec.limits.defaultRequest.cpu",
                "spec.network.allowEgressCIDRs[0]",
                "spec.network.isolation",
                "spec.members.admins[0]",
                "spec.allowedRegistries[0]",
                "spec.allowedRegistries[1]",
                "spec.backup.schedule",
                "spec.backup.ttl",
                "spec.costCenter",
            ]
        );
        assert!(out.objects.is_empty());
    }

    #[test]
    fn namespace_quota_caps_platform_defaults_at_its_max() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PlatformDefaults
metadata: {name: platform}
spec: {defaultResources: {limits: {cpu: '2', memory: 4Gi}}}
---
apiVersion: nixernetes.io/v1alpha1
kind: NamespaceQuota
metadata: {name: small, namespace: ci}
spec:
  quota: {pods: 10, objects: {deployments: 5}}
  limits: {max: {cpu: '1', memory: 8Gi}}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let item = &all(&out, "LimitRange")[0].object["spec"]["limits"][0];
        assert_eq!(item["default"], json!({"cpu": "1", "memory": "4Gi"}));
        let hard = &all(&out, "ResourceQuota")[0].object["spec"]["hard"];
        assert_eq!(hard["count/deployments.apps"], "5");
        assert_eq!(hard["requests.cpu"], "100");
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: NamespaceQuota
metadata: {name: q, namespace: ci}
spec: {namespace: CI, quota: {cpu: '1', limitsCpu: 500m}}
",
        );
        assert_eq!(fields(&out, Severity::Error), ["spec.namespace"]);
        assert_eq!(fields(&out, Severity::Warning), ["spec.quota.limitsCpu"]);
    }
}
