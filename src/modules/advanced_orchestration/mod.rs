//! Seed module `advanced-orchestration` (category `core`): where pods run and how many of them
//! stay up. The original returned plain records that nothing rendered (with a PDB that always
//! carried `maxUnavailable`, and anti-affinity terms of the wrong shape); these kinds emit the
//! objects the scheduler, the eviction API and the autoscalers read, or patch the pod templates
//! of module workloads. Multi-cluster placement and capacity planning are not here (see
//! MODULES-reference §3.1).

mod autoscaler;
mod disruption_budget;
mod priority_tier;
mod scheduling_profile;

use crate::kind::spec::{configurator, generator};
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "advanced-orchestration",
    category: Category::Core,
    summary: "scheduling, disruption budgets, priorities and autoscaling of workloads",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        configurator::<scheduling_profile::SchedulingProfile>(&MODULE),
        generator::<disruption_budget::DisruptionBudget>(&MODULE),
        generator::<priority_tier::PriorityTier>(&MODULE),
        generator::<autoscaler::Autoscaler>(&MODULE),
    ]
}

#[cfg(test)]
mod tests {
    use crate::engine::Output;
    use crate::finding::Severity;
    use crate::modules::shared::testing::{find, render};
    use serde_json::{json, Value};

    fn pod<'a>(out: &'a Output, kind: &str, name: &str) -> &'a Value {
        &find(out, kind, name).object["spec"]["template"]["spec"]
    }

    fn infos(out: &Output) -> Vec<&str> {
        out.findings
            .iter()
            .filter(|f| f.severity == Severity::Info)
            .map(|f| f.message.as_str())
            .collect()
    }

    const WEB: &str = "apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: web, namespace: shop}
spec: {image: ghcr.io/acme/web:1.0.0, replicas: 3, labels: {tier: fe}}
";

    fn profile(name: &str, ns: Option<&str>, spec: &str) -> String {
        let ns = ns.map(|n| format!(", namespace: {n}")).unwrap_or_default();
        format!("---\napiVersion: nixernetes.io/v1alpha1\nkind: SchedulingProfile\nmetadata: {{name: {name}{ns}}}\nspec: {spec}\n")
    }

    #[test]
    fn profile_spread_replaces_the_default_zone_spread_and_keeps_the_node_one() {
        let yaml = format!(
            "{WEB}{}",
            profile("ha", None, "{selector: {labels: {tier: fe}}, spread: {whenUnsatisfiable: DoNotSchedule}, antiAffinity: hard}")
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let pod = pod(&out, "Deployment", "web");
        let spread = pod["topologySpreadConstraints"].as_array().unwrap();
        assert_eq!(spread.len(), 2);
        assert_eq!(spread[0]["topologyKey"], "topology.kubernetes.io/zone");
        assert_eq!(spread[0]["whenUnsatisfiable"], "DoNotSchedule");
        assert_eq!(spread[0]["matchLabelKeys"], json!(["pod-template-hash"]));
        assert_eq!(spread[1]["topologyKey"], "kubernetes.io/hostname");
        assert_eq!(spread[1]["whenUnsatisfiable"], "ScheduleAnyway");
        // A required term is a bare PodAffinityTerm (no weight).
        assert_eq!(
            pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"],
            json!([{"labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "topologyKey": "kubernetes.io/hostname"}])
        );
        // The profile's report, beside the default probes' fixes.
        let reports: Vec<&str> = infos(&out)
            .into_iter()
            .filter(|m| !m.starts_with("fixed: no probes declared"))
            .collect();
        assert_eq!(reports.len(), 1, "{reports:?}");
    }

    #[test]
    fn profiles_resolve_by_precedence_then_name_and_report_the_loser() {
        // Input order must not matter: b-low comes first but loses on precedence, and a-tie
        // beats z-tie on name.
        let yaml = format!(
            "{WEB}{}{}{}",
            profile(
                "b-low",
                None,
                "{selector: {kinds: [WebApp]}, priorityClassName: low, nodeSelector: {pool: x}}"
            ),
            profile(
                "z-tie",
                Some("shop"),
                "{selector: {kinds: [WebApp]}, precedence: 10, priorityClassName: zed}"
            ),
            profile(
                "a-tie",
                Some("shop"),
                "{selector: {kinds: [WebApp]}, precedence: 10, priorityClassName: high}"
            ),
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let pod = pod(&out, "Deployment", "web");
        assert_eq!(pod["priorityClassName"], "high");
        // The loser's other settings still apply.
        assert_eq!(pod["nodeSelector"], json!({"pool": "x"}));
        let infos = infos(&out);
        assert!(infos.iter().any(|m| m.contains("kept priorityClassName \"high\" that SchedulingProfile/shop/a-tie sets; SchedulingProfile/shop/z-tie (precedence 10) would set \"zed\"")), "{infos:?}");
        assert!(
            infos
                .iter()
                .any(|m| m.contains("SchedulingProfile/b-low would set \"low\"")),
            "{infos:?}"
        );
    }

    #[test]
    fn profile_never_overwrites_the_workload_and_skips_spread_on_a_daemonset() {
        let yaml = format!(
            "apiVersion: nixernetes.io/v1alpha1
kind: NodeAgent
metadata: {{name: logs, namespace: ops}}
spec: {{image: ghcr.io/acme/logs:1.0.0, systemNodeCritical: true}}
{}",
            profile("all", None, "{selector: {kinds: [NodeAgent]}, antiAffinity: soft, priorityClassName: business-critical, tolerations: [{key: spot}]}")
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let pod = pod(&out, "DaemonSet", "logs");
        assert_eq!(pod["priorityClassName"], "system-node-critical");
        assert!(pod.get("affinity").is_none());
        // It already tolerates every taint: nothing to add.
        assert_eq!(pod["tolerations"].as_array().unwrap().len(), 1);
        let infos = infos(&out);
        assert_eq!(infos.len(), 2, "{infos:?}");
        assert!(infos[0].contains("do not apply to the pods of a DaemonSet"));
        assert!(infos[1]
            .contains("kept priorityClassName \"system-node-critical\" that the NodeAgent sets"));
        let f = out
            .findings
            .iter()
            .find(|f| f.message.starts_with("kept"))
            .unwrap();
        assert_eq!(
            f.field.as_deref(),
            Some("spec.template.spec.priorityClassName")
        );
        assert_eq!(f.proposed.as_deref(), Some(&json!("business-critical")));
        assert_eq!(f.object.as_ref().unwrap().to_string(), "DaemonSet/ops/logs");
    }

    #[test]
    fn profile_selects_by_namespace_kind_and_labels() {
        let yaml = format!(
            "{WEB}---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {{name: jobs, namespace: shop}}
spec: {{image: ghcr.io/acme/jobs:1.0.0}}
---
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {{name: web, namespace: other}}
spec: {{image: ghcr.io/acme/web:1.0.0, labels: {{tier: fe}}}}
{}{}",
            profile("shop-fe", Some("shop"), "{selector: {kinds: [WebApp, Worker], labels: {tier: fe}}, nodeSelector: {pool: fe}}"),
            profile("by-name", None, "{selector: {labels: {app.kubernetes.io/name: jobs}}, nodeSelector: {pool: jobs}}"),
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let selected: Vec<String> = out
            .objects
            .iter()
            .filter(|o| o.kind() == "Deployment")
            .map(|o| {
                format!(
                    "{}/{}={}",
                    o.namespace().unwrap_or(""),
                    o.name(),
                    o.object["spec"]["template"]["spec"]["nodeSelector"]["pool"]
                )
            })
            .collect();
        assert_eq!(
            selected,
            ["shop/web=\"fe\"", "shop/jobs=\"jobs\"", "other/web=null"]
        );
    }

    #[test]
    fn many_profiles_but_one_platform_defaults() {
        let yaml = format!(
            "{WEB}{}{}---\napiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {{name: a}}\nspec: {{}}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {{name: b}}\nspec: {{}}\n",
            profile("one", None, "{selector: {kinds: [WebApp]}, nodeSelector: {a: b}}"),
            profile("two", None, "{selector: {kinds: [WebApp]}, nodeSelector: {c: d}}"),
        );
        let out = render(&yaml);
        let errors: Vec<&str> = out
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("only one PlatformDefaults"));
    }

    #[test]
    fn budget_defaults_to_max_unavailable_one_and_writes_only_the_bound_given() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: DisruptionBudget
metadata: {name: a, namespace: x}
spec: {selector: {app: search}}
---
apiVersion: nixernetes.io/v1alpha1
kind: DisruptionBudget
metadata: {name: b, namespace: x}
spec: {selector: {matchLabels: {role: data}}, minAvailable: 50%}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let a = &find(&out, "PodDisruptionBudget", "a").object["spec"];
        assert_eq!(
            *a,
            json!({"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "search"}}, "unhealthyPodEvictionPolicy": "IfHealthyBudget"})
        );
        let b = &find(&out, "PodDisruptionBudget", "b").object["spec"];
        assert_eq!(b["minAvailable"], "50%");
        assert!(b.get("maxUnavailable").is_none());
    }

    #[test]
    fn autoscaler_defaults_and_a_vpa_that_only_recommends_fights_no_hpa() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: Autoscaler
metadata: {name: web, namespace: shop}
spec: {targetRef: {kind: Deployment, name: web}}
---
apiVersion: nixernetes.io/v1alpha1
kind: Autoscaler
metadata: {name: web-vpa, namespace: shop}
spec: {targetRef: {kind: Deployment, name: web}, mode: vpa}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let hpa = &find(&out, "HorizontalPodAutoscaler", "web").object["spec"];
        assert_eq!(hpa["minReplicas"], 1);
        assert_eq!(hpa["maxReplicas"], 10);
        assert_eq!(
            hpa["metrics"][0]["resource"]["target"]["averageUtilization"],
            70
        );
        let vpa = find(&out, "VerticalPodAutoscaler", "web-vpa");
        assert_eq!(vpa.api_version(), "autoscaling.k8s.io/v1");
        assert_eq!(vpa.object["spec"]["updatePolicy"]["updateMode"], "Off");
        assert!(vpa.object["spec"].get("resourcePolicy").is_none());
    }

    #[test]
    fn a_vpa_on_memory_only_fights_no_cpu_hpa() {
        let yaml = "apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: web, namespace: shop}
spec: {image: ghcr.io/acme/web:1.0.0, autoscaling: {min: 2, max: 5}}
---
apiVersion: nixernetes.io/v1alpha1
kind: Autoscaler
metadata: {name: web-vpa, namespace: shop}
spec:
  targetRef: {kind: Deployment, name: web}
  mode: vpa
  vpa: {updateMode: Recreate, controlledResources: [MEM]}
";
        let out = render(&yaml.replace("MEM", "memory"));
        assert!(!out.failed(), "{:?}", out.findings);
        let out = render(&yaml.replace("MEM", "cpu"));
        assert!(out.failed());
    }
}
