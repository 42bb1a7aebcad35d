//! Seed module `security-policies` (category `security`): the zero-trust defaults of the
//! original's policies.nix and policy-generation.nix, with its defects fixed.

mod network_isolation;
mod pod_security_profile;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "security-policies",
    category: Category::Security,
    summary: "network isolation and Pod Security Admission for namespaces",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<network_isolation::NetworkIsolation>(&MODULE),
        generator::<pod_security_profile::PodSecurityProfile>(&MODULE),
    ]
}

#[cfg(test)]
mod tests {
    use crate::engine::Output;
    use crate::finding::Severity;
    use crate::modules::shared::testing::render;
    use crate::resource::Resource;
    use serde_json::json;

    fn names(out: &Output, kind: &str) -> Vec<String> {
        out.objects
            .iter()
            .filter(|o| o.kind() == kind)
            .map(|o| format!("{}/{}", o.namespace().unwrap_or("-"), o.name()))
            .collect()
    }

    fn find<'a>(out: &'a Output, name: &str) -> &'a Resource {
        out.objects.iter().find(|o| o.name() == name).unwrap()
    }

    fn errors(out: &Output) -> Vec<(String, String)> {
        out.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.field.clone().unwrap_or_default(), f.message.clone()))
            .collect()
    }

    const ISOLATION: &str = "apiVersion: nixernetes.io/v1alpha1
kind: NetworkIsolation
metadata: {name: shop, namespace: shop}
spec:
  rules:
  - name: web
    podSelector: {app: web}
    ingressFrom: [{namespace: ingress-nginx}]
    ports: [{port: 8080}]
  - name: api
    podSelector: {app: api}
    ingressFrom: [{podSelector: {app: web}}]
    egressTo: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}, {podSelector: {}}]
    ports: [{port: http}, {port: 5353, protocol: UDP}]
";

    #[test]
    fn network_isolation_emits_default_policies_and_one_per_rule() {
        let out = render(ISOLATION);
        assert!(!out.failed(), "{:?}", out.findings);
        assert_eq!(
            names(&out, "NetworkPolicy"),
            [
                "shop/default-deny",
                "shop/allow-dns",
                "shop/shop-web",
                "shop/shop-api"
            ]
        );
        let web = &find(&out, "shop-web").object["spec"];
        assert_eq!(
            *web,
            json!({
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
                    "ports": [{"protocol": "TCP", "port": 8080}],
                }],
            })
        );
        let api = &find(&out, "shop-api").object["spec"];
        assert_eq!(api["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(
            api["egress"][0]["to"],
            json!([{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}}, {"podSelector": {}}])
        );
        assert_eq!(
            api["ingress"][0]["ports"],
            json!([{"protocol": "TCP", "port": "http"}, {"protocol": "UDP", "port": 5353}])
        );
        let src = find(&out, "default-deny").annotation("nixernetes.io/source");
        assert_eq!(src, Some("NetworkIsolation/shop/shop"));
    }

    #[test]
    fn default_policies_are_those_policy_generation_writes_and_are_not_doubled() {
        let with_app = format!(
            "{ISOLATION}---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {{name: jobs, namespace: shop}}
spec: {{image: ghcr.io/acme/jobs:1.0.0}}
"
        );
        let out = render(&with_app);
        assert!(!out.failed(), "{:?}", out.findings);
        let policies = names(&out, "NetworkPolicy");
        assert_eq!(
            policies
                .iter()
                .filter(|n| *n == "shop/default-deny")
                .count(),
            1
        );
        assert_eq!(
            policies.iter().filter(|n| *n == "shop/allow-dns").count(),
            1
        );
        let generated = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {name: jobs, namespace: shop}
spec: {image: ghcr.io/acme/jobs:1.0.0}
",
        );
        for name in ["default-deny", "allow-dns"] {
            assert_eq!(
                find(&out, name).object["spec"],
                find(&generated, name).object["spec"]
            );
        }
    }

    #[test]
    fn a_users_own_policy_wins_over_the_generated_one() {
        let out = render(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {name: jobs, namespace: shop}
spec: {image: ghcr.io/acme/jobs:1.0.0}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let denies: Vec<&Resource> = out
            .objects
            .iter()
            .filter(|o| o.name() == "default-deny")
            .collect();
        assert_eq!(denies.len(), 1);
        assert_eq!(denies[0].object["spec"]["policyTypes"], json!(["Ingress"]));
    }

    #[test]
    fn two_isolations_of_one_namespace_collide() {
        let second =
            ISOLATION.replace("name: shop, namespace: shop", "name: more, namespace: shop");
        let out = render(&format!("{ISOLATION}---\n{second}"));
        let errs = errors(&out);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].1.starts_with("NetworkPolicy \"default-deny\" in namespace \"shop\" is emitted twice: by NetworkIsolation/shop/shop (t.yaml:1) and by NetworkIsolation/shop/more"),
            "{}",
            errs[0].1
        );
    }

    #[test]
    fn network_isolation_errors_are_collected() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: NetworkIsolation
metadata: {name: default, namespace: shop}
spec:
  rules:
  - name: deny
    podSelector: {}
    ingressFrom:
    - {namespace: a, cidr: 10.0.0.0/8}
    - {cidr: 10.0.0.1/8}
    - {cidr: 10.0.0.0/8, except: [11.0.0.0/16, 10.0.0.0/8]}
    - {podSelector: {app: x}, except: [10.0.0.0/8]}
    ports: [{port: 0}, {port: 80}, {port: 80}]
  - name: deny
    podSelector: {app: x}
",
        );
        let fields: Vec<String> = errors(&out).into_iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            [
                "spec.rules[0].podSelector",
                "spec.rules[0].ingressFrom[0]",
                "spec.rules[0].ingressFrom[1].cidr",
                "spec.rules[0].ingressFrom[2].except[0]",
                "spec.rules[0].ingressFrom[2].except[1]",
                "spec.rules[0].ingressFrom[3].except",
                "spec.rules[0].ports[0].port",
                "spec.rules[0].ports[2].port",
                "spec.rules[0].name",
                "spec.rules[1]",
                "spec.rules[1].name",
                "spec.rules[1].name",
            ]
        );
        assert!(out.objects.is_empty());
    }

    #[test]
    fn pod_security_profile_labels_namespaces() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss, namespace: shop}
spec: {level: baseline, audit: restricted, version: v1.35}
---
apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: teams}
spec: {namespaces: [team-a, team-b]}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        assert_eq!(names(&out, "Namespace"), ["-/shop", "-/team-a", "-/team-b"]);
        let shop = find(&out, "shop").labels().unwrap();
        for (k, v) in [
            ("enforce", "baseline"),
            ("enforce-version", "v1.35"),
            ("audit", "restricted"),
            ("audit-version", "v1.35"),
            ("warn", "baseline"),
            ("warn-version", "v1.35"),
        ] {
            assert_eq!(shop[&format!("pod-security.kubernetes.io/{k}")], v);
        }
        let team = find(&out, "team-a").labels().unwrap();
        assert_eq!(team["pod-security.kubernetes.io/warn"], "restricted");
        assert_eq!(team["pod-security.kubernetes.io/enforce-version"], "latest");
        assert_eq!(team["app.kubernetes.io/managed-by"], "nixernetes");
    }

    #[test]
    fn pod_security_profile_errors_and_warnings() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss}
spec: {level: strict, version: '1.35'}
",
        );
        assert_eq!(errors(&out)[0].0, "spec.level");
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss}
spec: {version: v1.035, namespaces: [ok, Bad, ok]}
",
        );
        let fields: Vec<String> = errors(&out).into_iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            ["spec.version", "spec.namespaces[1]", "spec.namespaces[2]"]
        );
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss}
spec: {warn: baseline, namespaces: [kube-system]}
",
        );
        assert!(!out.failed());
        let warned: Vec<&str> = out
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .filter_map(|f| f.field.as_deref())
            .collect();
        assert_eq!(warned, ["spec.namespaces[0]", "spec.warn"]);
    }

    #[test]
    fn a_namespace_written_in_the_input_collides() {
        let out = render(
            "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss, namespace: shop}
",
        );
        let errs = errors(&out);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0]
                .1
                .contains("pod-security.kubernetes.io/enforce=restricted")
                && errs[0].1.contains("t.yaml:1"),
            "{}",
            errs[0].1
        );
    }
}
