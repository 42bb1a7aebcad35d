//! Seed module `multi-tier-deployment` (category `data`, as MODULES.md files it): applications
//! of several tiers. The original's `unified-api.nix mkMultiTierApp` had fixed frontend,
//! backend, database and cache slots and emitted nothing; here the tiers are any number of
//! `WebApp`, `Worker` and `StatefulService` resources, and their dependency graph drives the
//! generated NetworkPolicies.

mod multi_tier_app;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "multi-tier-deployment",
    category: Category::Data,
    summary: "applications of several tiers wired by their dependency graph",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![generator::<multi_tier_app::MultiTierApp>(&MODULE)]
}

#[cfg(test)]
mod tests {
    use crate::engine::Output;
    use crate::finding::Severity;
    use crate::modules::shared::testing::render;
    use serde_json::Value;

    /// The WP1 input of MODULES-reference §5, as written there.
    const CHAT: &str = "apiVersion: nixernetes.io/v1alpha1
kind: MultiTierApp
metadata: {name: chat, namespace: chat}
spec:
  exposure: {tier: web, host: chat.example.com}
  tiers:
    - {name: web, kind: WebApp, spec: {image: nginx:1.27-alpine, replicas: 2}, dependsOn: [api]}
    - {name: api, kind: WebApp, spec: {image: ghcr.io/acme/chat-api:2.0.0, ports: [{name: http, port: 3000}]}, dependsOn: [cache]}
    - {name: cache, kind: StatefulService, spec: {image: valkey/valkey:8, ports: [{name: redis, port: 6379}]}}
";

    /// `(field, message)` of every error.
    fn errors(yaml: &str) -> Vec<(String, String)> {
        let out = render(yaml);
        assert!(out.objects.is_empty() || !out.failed());
        out.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.field.clone().unwrap_or_default(), f.message.clone()))
            .collect()
    }

    /// An app of the tiers `(name, kind, dependsOn)`, each with a minimal spec.
    fn app(tiers: &[(&str, &str, &[&str])]) -> String {
        let mut s = String::from(
            "apiVersion: nixernetes.io/v1alpha1\nkind: MultiTierApp\nmetadata: {name: app, namespace: ns}\nspec:\n  tiers:\n",
        );
        for (name, kind, deps) in tiers {
            s.push_str(&format!(
                "    - {{name: {name}, kind: {kind}, spec: {{image: ghcr.io/acme/{name}:1.0}}, dependsOn: [{}]}}\n",
                deps.join(", ")
            ));
        }
        s
    }

    /// `(name, ingress rules, egress rules)` of every NetworkPolicy, each rule as
    /// `peer-labels:ports`.
    fn policies(out: &Output) -> Vec<(String, Vec<String>, Vec<String>)> {
        let rules = |spec: &Value, dir: &str, peer: &str| -> Vec<String> {
            spec[dir]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    let peers = r[peer].as_array().map_or("anywhere".into(), |ps| {
                        ps.iter()
                            .map(|p| {
                                let sel = p.get("podSelector").or(p.get("namespaceSelector"));
                                sel.map_or(String::new(), |s| s["matchLabels"].to_string())
                            })
                            .collect::<Vec<_>>()
                            .join(",")
                    });
                    let ports: Vec<String> = r["ports"].as_array().map_or(vec!["*".into()], |ps| {
                        ps.iter()
                            .map(|p| format!("{}/{}", p["protocol"].as_str().unwrap(), p["port"]))
                            .collect()
                    });
                    format!("{peers}:{}", ports.join(","))
                })
                .collect()
        };
        out.objects
            .iter()
            .filter(|o| o.kind() == "NetworkPolicy")
            .map(|o| {
                let spec = &o.object["spec"];
                (
                    o.name().to_string(),
                    rules(spec, "ingress", "from"),
                    rules(spec, "egress", "to"),
                )
            })
            .collect()
    }

    #[test]
    fn the_three_tier_app_gets_exactly_the_policies_of_its_graph() {
        let out = render(CHAT);
        assert!(!out.failed(), "{:?}", out.findings);
        let mut got = policies(&out);
        got.sort();
        let pod = |n: &str| format!(r#"{{"app.kubernetes.io/name":"chat-{n}"}}"#);
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut want = vec![
            ("default-deny".to_string(), vec![], vec![]),
            (
                "allow-dns".into(),
                vec![],
                s(&[r#"{"kubernetes.io/metadata.name":"kube-system"}:UDP/53,TCP/53"#]),
            ),
            // The exposed tier: reached through its Ingress, on its own port only.
            ("chat-web-ingress".into(), s(&["anywhere:TCP/8080"]), vec![]),
            (
                "chat-web-egress".into(),
                vec![],
                vec![format!("{}:TCP/3000", pod("api"))],
            ),
            (
                "chat-api-ingress".into(),
                vec![format!("{}:TCP/3000", pod("web"))],
                vec![],
            ),
            (
                "chat-api-egress".into(),
                vec![],
                vec![format!("{}:TCP/6379", pod("cache"))],
            ),
            (
                "chat-cache-ingress".into(),
                vec![format!("{}:TCP/6379", pod("api"))],
                vec![],
            ),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    /// The flows the policies let through, as a conforming network plugin would enforce them.
    #[test]
    fn the_three_tier_app_allows_its_edges_and_denies_the_rest() {
        use crate::policy::netpol::Policies;
        let out = render(CHAT);
        assert!(!out.failed(), "{:?}", out.findings);
        let policies = Policies::new(&out.objects);
        let pod = |name: &str| {
            let w = out
                .objects
                .iter()
                .find(|o| matches!(o.kind(), "Deployment" | "StatefulSet") && o.name() == name)
                .unwrap();
            policies.pod_of(w).unwrap()
        };
        let (web, api, cache) = (pod("chat-web"), pod("chat-api"), pod("chat-cache"));
        assert!(policies.allows(&web, &api, 3000, "TCP").allowed());
        assert!(policies.allows(&api, &cache, 6379, "TCP").allowed());
        assert!(!policies.allows(&web, &cache, 6379, "TCP").allowed());
        assert!(!policies.allows(&api, &web, 8080, "TCP").allowed());
        assert!(!policies.allows(&cache, &api, 3000, "TCP").allowed());
        assert!(!policies.allows(&web, &api, 8080, "TCP").allowed());
        // Every tier resolves names; the ingress controller reaches the exposed tier only.
        let dns = policies.pod("kube-system", &[("k8s-app", "kube-dns")]);
        for tier in [&web, &api, &cache] {
            assert!(policies.allows(tier, &dns, 53, "UDP").allowed());
            assert!(policies.allows(tier, &dns, 53, "TCP").allowed());
        }
        let controller = policies.pod(
            "ingress-nginx",
            &[("app.kubernetes.io/name", "ingress-nginx")],
        );
        assert!(policies.allows(&controller, &web, 8080, "TCP").allowed());
        assert!(!policies.allows(&controller, &api, 3000, "TCP").allowed());
        assert!(!policies.allows(&controller, &cache, 6379, "TCP").allowed());
    }

    #[test]
    fn the_three_tier_app_keeps_the_reference_assertions() {
        let out = render(CHAT);
        let of = |kind: &str| -> Vec<&crate::resource::Resource> {
            out.objects.iter().filter(|o| o.kind() == kind).collect()
        };
        // Each tier is its kind's expansion, named <app>-<tier>.
        let workloads: Vec<String> = of("Deployment")
            .into_iter()
            .chain(of("StatefulSet"))
            .map(|o| o.name().to_string())
            .collect();
        assert_eq!(workloads, ["chat-web", "chat-api", "chat-cache"]);
        // PDB iff replicas > 1: web (2) and api (default 2), not cache (1).
        let pdbs: Vec<&str> = of("PodDisruptionBudget").iter().map(|o| o.name()).collect();
        assert_eq!(pdbs, ["chat-web", "chat-api"]);
        for w in of("Deployment").into_iter().chain(of("StatefulSet")) {
            let replicas = w.object["spec"]["replicas"].as_i64().unwrap();
            assert_eq!(pdbs.contains(&w.name()), replicas > 1, "{}", w.name());
        }
        // Only the exposed tier has an Ingress, to its Service.
        let ingresses = of("Ingress");
        assert_eq!(ingresses.len(), 1);
        assert_eq!(
            ingresses[0].object["spec"]["rules"][0]["host"],
            "chat.example.com"
        );
        assert_eq!(
            ingresses[0].object["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
                ["name"],
            "chat-web"
        );
        // Everything of a tier carries app.kubernetes.io/* labels: part-of and component.
        for o in &out.objects {
            let labels = o.labels().unwrap();
            assert_eq!(labels["app.kubernetes.io/part-of"], "chat", "{}", o.name());
            assert!(labels
                .keys()
                .all(|k| !k.starts_with("app:") && k != "app" && k != "tier"));
            if let Some(tier) = ["web", "api", "cache"]
                .into_iter()
                .find(|t| o.name().starts_with(&format!("chat-{t}")))
            {
                assert_eq!(
                    labels.get("app.kubernetes.io/component"),
                    Some(&tier.into()),
                    "{} {labels:?}",
                    o.name()
                );
                let object = Value::Object(o.object.clone());
                let template = &object["spec"]["template"]["metadata"]["labels"];
                if !template.is_null() {
                    assert_eq!(template["app.kubernetes.io/component"], tier);
                    assert_eq!(template["app.kubernetes.io/part-of"], "chat");
                }
            }
        }
        // The tier edges become the children's dependsOn.
        let web = of("Deployment")[0];
        assert_eq!(web.annotation("nixernetes.io/depends-on"), Some("chat-api"));
    }

    #[test]
    fn hpa_minimum_follows_the_tier_replicas() {
        let yaml = CHAT.replace("replicas: 2}", "replicas: 3, autoscaling: {max: 6}}");
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let hpa = out
            .objects
            .iter()
            .find(|o| o.kind() == "HorizontalPodAutoscaler")
            .unwrap();
        assert_eq!(hpa.name(), "chat-web");
        assert!(hpa.object["spec"]["minReplicas"].as_i64().unwrap() >= 3);
        // A minimum below the replicas is refused, at the tier's field.
        let refused = errors(&CHAT.replace(
            "replicas: 2}",
            "replicas: 3, autoscaling: {min: 2, max: 6}}",
        ));
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].0, "spec.tiers[0].spec.autoscaling.min");
    }

    #[test]
    fn a_cycle_is_named_once_at_the_entry_that_closes_it() {
        let got = errors(&app(&[
            ("a", "WebApp", &["b"]),
            ("b", "WebApp", &["c"]),
            ("c", "Worker", &["a"]),
            ("d", "Worker", &["c"]),
        ]));
        assert_eq!(
            got,
            [(
                "spec.tiers[2].dependsOn[0]".to_string(),
                "dependency cycle: a → b → c → a".to_string()
            )]
        );
        let two = errors(&app(&[("a", "WebApp", &["b"]), ("b", "WebApp", &["a"])]));
        assert_eq!(two.len(), 1);
        assert_eq!(two[0].1, "dependency cycle: a → b → a");
        // A diamond is no cycle.
        let diamond = app(&[
            ("a", "WebApp", &["b", "c"]),
            ("b", "WebApp", &["d"]),
            ("c", "WebApp", &["d"]),
            ("d", "StatefulService", &[]),
        ]);
        assert_eq!(errors(&diamond), []);
    }

    #[test]
    fn unknown_duplicate_and_self_dependencies_are_refused() {
        let got = errors(&app(&[
            ("web", "WebApp", &["web", "ap"]),
            ("api", "WebApp", &["cache", "web"]),
            ("api", "Worker", &[]),
        ]));
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.tiers[2].name",
                "spec.tiers[0].dependsOn[0]",
                "spec.tiers[0].dependsOn[1]",
                "spec.tiers[1].dependsOn[0]",
            ],
            "{got:?}"
        );
        assert!(got[0].1.contains("duplicate tier name \"api\""));
        assert_eq!(got[1].1, "tier \"web\" depends on itself");
        assert_eq!(got[2].1, "no tier is named \"ap\": did you mean `api`?");
        assert_eq!(
            got[3].1,
            "no tier is named \"cache\"; the tiers are api, web"
        );
    }

    #[test]
    fn only_a_web_app_tier_can_be_exposed() {
        for (kind, why) in [
            ("Worker", "serves no port"),
            ("StatefulService", "gets no Ingress"),
        ] {
            let yaml = app(&[("web", "WebApp", &["back"]), ("back", kind, &[])]).replace(
                "  tiers:\n",
                "  exposure: {tier: back, host: a.example.com}\n  tiers:\n",
            );
            let got = errors(&yaml);
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0].0, "spec.exposure.tier");
            assert!(got[0].1.contains(why), "{}", got[0].1);
        }
    }

    #[test]
    fn tier_errors_point_into_the_tier_spec_with_the_app_valid_or_not() {
        let bad_tier =
            "    - {name: bad, kind: Worker, spec: {image: ghcr.io/acme/x:1.0, replicsa: 1}}\n";
        let valid = format!("{}{bad_tier}", app(&[("web", "WebApp", &[])]));
        // The app is sound: the tier's own kind refuses it when it expands.
        assert_eq!(
            errors(&valid),
            [(
                "spec.tiers[1].spec.replicsa".to_string(),
                "unknown field `replicsa`: did you mean `replicas`?".to_string()
            )]
        );
        // The app is refused too: the tier is still checked, in the same run.
        let invalid = format!("{}{bad_tier}", app(&[("web", "WebApp", &["nope"])]));
        let fields: Vec<String> = errors(&invalid).into_iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            ["spec.tiers[0].dependsOn[0]", "spec.tiers[1].spec.replicsa"]
        );
        // A finding about the tier names the app, not the child no one wrote.
        let out = render(&valid);
        let f = out
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .unwrap();
        assert_eq!(f.object.as_ref().unwrap().kind, "MultiTierApp");
    }

    #[test]
    fn network_policy_none_leaves_the_tiers_without_policies() {
        let yaml = CHAT.replace(
            "spec:\n  exposure",
            "spec:\n  networkPolicy: none\n  exposure",
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        assert!(!out.objects.iter().any(|o| o.kind() == "NetworkPolicy"));
        assert!(out.objects.iter().any(|o| o.kind() == "Deployment"));
    }

    #[test]
    fn a_tier_depends_on_workloads_outside_the_app_through_its_own_spec() {
        let yaml = format!(
            "{}---\napiVersion: nixernetes.io/v1alpha1\nkind: PostgreSQL\nmetadata: {{name: db, namespace: chat}}\nspec: {{instances: 2}}\n",
            CHAT.replace(
                "ports: [{name: http, port: 3000}]}",
                "ports: [{name: http, port: 3000}], dependsOn: [db]}"
            )
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let api = out
            .objects
            .iter()
            .find(|o| o.kind() == "Deployment" && o.name() == "chat-api")
            .unwrap();
        assert_eq!(
            api.annotation("nixernetes.io/depends-on"),
            Some("db,chat-cache")
        );
        let egress = policies(&out)
            .into_iter()
            .find(|p| p.0 == "chat-api-egress")
            .unwrap()
            .2;
        assert_eq!(egress.len(), 2, "{egress:?}");
        assert!(egress[0].contains("cnpg.io/cluster") && egress[1].contains("chat-cache"));
        // Naming a tier there is refused: it would be looked for under its bare name.
        let got = errors(&CHAT.replace(
            "ports: [{name: http, port: 3000}]}",
            "ports: [{name: http, port: 3000}], dependsOn: [cache]}",
        ));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "spec.tiers[1].spec.dependsOn[0]");
    }

    #[test]
    fn shared_compliance_goes_to_every_tier_and_a_tier_own_wins() {
        let yaml = CHAT
            .replace(
                "spec:\n  exposure",
                "spec:\n  compliance: {framework: SOC2, owner: team-chat}\n  exposure",
            )
            .replace(
                "image: valkey/valkey:8,",
                "image: valkey/valkey:8, compliance: {framework: PCI-DSS, owner: team-pay},",
            );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let framework = |name: &str, kind: &str| {
            out.objects
                .iter()
                .find(|o| o.kind() == kind && o.name() == name)
                .unwrap()
                .labels()
                .unwrap()["compliance.nixernetes.io/framework"]
                .clone()
        };
        assert_eq!(framework("chat-web", "Deployment"), "SOC2");
        assert_eq!(framework("chat-api", "Service"), "SOC2");
        assert_eq!(framework("chat-cache", "StatefulSet"), "PCI-DSS");
    }

    /// The kind's EMITS is what its tier kinds emit.
    #[test]
    fn emits_what_the_tier_kinds_emit() {
        let reg = crate::modules::registry();
        let emits = |k: &str| reg.lookup(k).unwrap().emits;
        let mut union: Vec<_> = ["WebApp", "Worker", "StatefulService"]
            .into_iter()
            .flat_map(emits)
            .map(|g| (g.api_version, g.kind))
            .collect();
        union.sort();
        union.dedup();
        let mut own: Vec<_> = emits("MultiTierApp")
            .iter()
            .map(|g| (g.api_version, g.kind))
            .collect();
        own.sort();
        assert_eq!(own, union);
    }
}
