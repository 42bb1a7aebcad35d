//! The availability checks: `availability` (id 37 of the check table): replicated Deployments,
//! StatefulSets and OpenShift DeploymentConfigs survive voluntary disruption (a PodDisruptionBudget selects their pods) and
//! the loss of one node (podAntiAffinity or topologySpreadConstraints spread them). Advisory
//! only: a single replica has nothing to spread, and what counts as "available" is the
//! operator's call.
//!
//! `pdb-blocks-eviction`: a PodDisruptionBudget that can never allow an eviction, so that every
//! node drain (and so every cluster upgrade) hangs on its pods. `maxUnavailable: 0` (or `"0%"`)
//! always does; `minAvailable` does when it is at least the number of pods it selects, counted
//! as the Kubernetes disruption controller counts them (a percentage of that number, rounded
//! up). The pods are those of the rendered workloads whose template it selects: `spec.replicas`
//! (default 1) of Deployments, StatefulSets, ReplicaSets, ReplicationControllers, OpenShift
//! DeploymentConfigs and Argo Rollouts, the `maxReplicas` of an autoscaler that scales one of them, 1 for a bare Pod. When
//! it also selects pods whose number the set does not tell (a DaemonSet's, a Job's, an
//! operator's), or selects none, nothing is reported.

use super::network::{operator_may_select, pods_by_namespace, selector_values, selects, Selectors};
use super::pod::{get, get_str, obj, pod_of};
use super::{CheckDef, Fix, Scope, SetHits, SetInput};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use serde_json::Value;
use std::collections::HashMap;

pub const AVAILABILITY: CheckDef = CheckDef {
    id: "availability",
    summary: "replicated Deployments, StatefulSets and DeploymentConfigs have a PodDisruptionBudget and are spread across nodes",
    pss: None,
    severity: Severity::Info,
    fix: Fix::Gen,
    scope: Scope::Set(availability),
};

pub const PDB_BLOCKS_EVICTION: CheckDef = CheckDef {
    id: "pdb-blocks-eviction",
    summary: "PodDisruptionBudgets allow at least one eviction: maxUnavailable is not 0, minAvailable is below the pods they select",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Set(pdb_blocks_eviction),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&AVAILABILITY, &PDB_BLOCKS_EVICTION];

fn availability(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let mut budgets: Vec<&Resource> = Vec::new();
    let mut budget_index = Selectors::default();
    // minReplicas of each HPA target, by (namespace, kind, name).
    let mut scaled: HashMap<(Option<&str>, &str, &str), i64> = HashMap::new();
    for &r in objects {
        match (r.group(), r.kind()) {
            ("policy", "PodDisruptionBudget") => {
                budget_index.add(
                    r.namespace(),
                    obj(r.object.field("spec")).and_then(|s| obj(s.field("selector"))),
                    budgets.len(),
                );
                budgets.push(r);
            }
            ("autoscaling", "HorizontalPodAutoscaler") => {
                let kind = get_str(&r.object, "spec.scaleTargetRef.kind").unwrap_or("");
                let name = get_str(&r.object, "spec.scaleTargetRef.name").unwrap_or("");
                let min = get(&r.object, "spec.minReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                scaled.insert((r.namespace(), kind, name), min);
            }
            _ => {}
        }
    }
    for (i, r) in objects.iter().enumerate() {
        if !matches!(
            (r.group(), r.kind()),
            ("apps", "Deployment" | "StatefulSet") | ("apps.openshift.io", "DeploymentConfig")
        ) {
            continue;
        }
        let Some(pod) = pod_of(r) else { continue };
        let replicas = get(&r.object, "spec.replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let count = match scaled.get(&(r.namespace(), r.kind(), r.name())) {
            Some(&min) if min >= 2 => format!("an autoscaler keeps at least {min} replicas"),
            _ if replicas >= 2 => format!("{replicas} replicas"),
            _ => continue,
        };
        let labels = pod.labels();
        let budgeted = budget_index
            .candidates(r.namespace(), labels)
            .into_iter()
            .map(|at| budgets[at])
            .any(|b| {
                obj(b.object.field("spec"))
                    .and_then(|s| obj(s.field("selector")))
                    .is_some_and(|s| selects(s, labels))
            });
        if !budgeted {
            out.push(
                i,
                "spec.replicas",
                format!("{count}, but no PodDisruptionBudget selects these pods: a node drain may evict all of them at once"),
            );
        }
        let non_empty = |v: Option<&Value>| match v {
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(m)) => m
                .values()
                .any(|v| matches!(v, Value::Array(a) if !a.is_empty())),
            _ => false,
        };
        if !non_empty(get(pod.spec, "affinity.podAntiAffinity"))
            && !non_empty(pod.spec.field("topologySpreadConstraints"))
        {
            out.push(
                i,
                pod.at("topologySpreadConstraints"),
                format!("{count}, but neither podAntiAffinity nor topologySpreadConstraints spreads them: one node may hold all of them"),
            );
        }
    }
}

/// A PodDisruptionBudget bound: an integer or a percentage (`"50%"`); `None` for anything else.
pub(super) enum Bound {
    Count(i64),
    Percent(i64),
}

pub(super) fn bound(value: Option<&Value>) -> Option<Bound> {
    match value? {
        Value::Number(n) => n.as_i64().map(Bound::Count),
        Value::String(s) => s
            .strip_suffix('%')
            .and_then(|p| p.parse().ok())
            .map(Bound::Percent),
        _ => None,
    }
}

/// How many pods a rendered workload runs at most, with the words that say so; `None` when the
/// set does not tell.
fn pod_count(
    r: &Resource,
    scaled: &HashMap<(Option<&str>, &str, &str), Option<i64>>,
) -> Option<(i64, String)> {
    let replicated = matches!(
        (r.group(), r.kind()),
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet")
            | ("", "ReplicationController")
            | ("apps.openshift.io", "DeploymentConfig")
            | ("argoproj.io", "Rollout")
    );
    if r.group() == "" && r.kind() == "Pod" {
        return Some((1, format!("Pod {}", r.name())));
    }
    if !replicated {
        return None;
    }
    if let Some(max) = scaled.get(&(r.namespace(), r.kind(), r.name())) {
        let max = (*max)?;
        return Some((
            max,
            format!(
                "{} {}: at most {max} {} (its autoscaler's maxReplicas)",
                r.kind(),
                r.name(),
                replicas_word(max)
            ),
        ));
    }
    let replicas = match get(&r.object, "spec.replicas") {
        None => 1,
        Some(v) => v.as_i64()?,
    };
    Some((
        replicas,
        format!(
            "{} {}: {replicas} {}",
            r.kind(),
            r.name(),
            replicas_word(replicas)
        ),
    ))
}

fn replicas_word(n: i64) -> &'static str {
    if n == 1 {
        "replica"
    } else {
        "replicas"
    }
}

fn pdb_blocks_eviction(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let is_budget = |r: &Resource| (r.group(), r.kind()) == ("policy", "PodDisruptionBudget");
    // Most sets hold no budget: do not index their pods for nothing.
    if !objects.iter().any(|r| is_budget(r)) {
        return;
    }
    let pods = pods_by_namespace(objects);
    // maxReplicas of each HPA target, by (namespace, kind, name).
    let mut scaled: HashMap<(Option<&str>, &str, &str), Option<i64>> = HashMap::new();
    let mut custom: HashMap<Option<&str>, Vec<&Resource>> = HashMap::new();
    for &r in objects {
        if (r.group(), r.kind()) == ("autoscaling", "HorizontalPodAutoscaler") {
            let kind = get_str(&r.object, "spec.scaleTargetRef.kind").unwrap_or("");
            let name = get_str(&r.object, "spec.scaleTargetRef.name").unwrap_or("");
            let max = get(&r.object, "spec.maxReplicas").and_then(Value::as_i64);
            scaled.insert((r.namespace(), kind, name), max);
        } else if super::network::is_custom_group(r.group()) && pod_of(r).is_none() {
            // A custom resource whose pod template is read (an Argo Rollout, a
            // DeploymentConfig) runs those pods and no others the set cannot count.
            custom.entry(r.namespace()).or_default().push(r);
        }
    }
    for (i, r) in objects.iter().enumerate() {
        if !is_budget(r) {
            continue;
        }
        let Some(spec) = obj(r.object.field("spec")) else {
            continue;
        };
        if let Some(Bound::Count(0) | Bound::Percent(0)) = bound(spec.field("maxUnavailable")) {
            out.push(
                i,
                "spec.maxUnavailable",
                "maxUnavailable: 0 never allows an eviction: every node drain and cluster upgrade waits on these pods forever; allow at least one (maxUnavailable: 1)",
            );
            continue;
        }
        let Some(min) = bound(spec.field("minAvailable")) else {
            continue;
        };
        let Some(selector) = obj(spec.field("selector")) else {
            continue;
        };
        let ns = r.namespace();
        let selected: Vec<_> = pods
            .get(&ns)
            .map(|p| p.candidates(obj(selector.field("matchLabels"))))
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, p)| selects(selector, p.labels()))
            .collect();
        if selected.is_empty() {
            continue;
        }
        let custom = custom.get(&ns).map(Vec::as_slice).unwrap_or_default();
        if operator_may_select(custom, &selector_values(selector), |labels| {
            selects(selector, labels)
        }) {
            continue;
        }
        let counts: Option<Vec<(i64, String)>> = selected
            .iter()
            .map(|(_, p)| pod_count(p.object, &scaled))
            .collect();
        let Some(counts) = counts else { continue };
        let total: i64 = counts.iter().map(|(n, _)| n).sum();
        if total <= 0 {
            continue;
        }
        let of: Vec<&str> = counts.iter().map(|(_, w)| w.as_str()).collect();
        let of = of.join("; ");
        let noun = if total == 1 { "pod" } else { "pods" };
        let said = match min {
            Bound::Count(m) if m >= total => {
                format!("minAvailable {m} is not below the {total} {noun} it selects ({of})")
            }
            // The disruption controller rounds a percentage up.
            Bound::Percent(p) if (p * total + 99) / 100 >= total => format!(
                "minAvailable \"{p}%\" of the {total} {noun} it selects ({of}) is {}, rounded up",
                (p * total + 99) / 100
            ),
            _ => continue,
        };
        let instead = if total == 1 {
            "one pod cannot stay available while it is evicted: run 2 or more replicas, or use maxUnavailable: 1".to_string()
        } else {
            format!(
                "set minAvailable to at most {} or use maxUnavailable: 1",
                total - 1
            )
        };
        out.push(
            i,
            "spec.minAvailable",
            format!("{said}: no pod may ever be evicted, so node drains hang; {instead}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hits_of;

    const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: 'web:1.0'}]
";

    const PDB: &str = "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
";

    const SPREAD: &str = "      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}
";

    #[test]
    fn availability_reports_unprotected_replicas() {
        let hits = hits_of(&AVAILABILITY, WEB);
        assert_eq!(
            hits,
            vec![
                (
                    "web".into(),
                    "spec.replicas".into(),
                    "3 replicas, but no PodDisruptionBudget selects these pods: a node drain may evict all of them at once".into()
                ),
                (
                    "web".into(),
                    "spec.template.spec.topologySpreadConstraints".into(),
                    "3 replicas, but neither podAntiAffinity nor topologySpreadConstraints spreads them: one node may hold all of them".into()
                ),
            ]
        );
        // One replica, but an autoscaler that never goes below two.
        let hpa = format!(
            "{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: shop}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  minReplicas: 2\n  maxReplicas: 5\n---\n{PDB}",
            WEB.replace("replicas: 3", "replicas: 1")
        );
        let hits = hits_of(&AVAILABILITY, &hpa);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].1, "spec.template.spec.topologySpreadConstraints");
        assert!(hits[0]
            .2
            .starts_with("an autoscaler keeps at least 2 replicas"));
    }

    #[test]
    fn availability_reads_deployment_configs() {
        let config = WEB
            .replace("apiVersion: apps/v1", "apiVersion: apps.openshift.io/v1")
            .replace("kind: Deployment", "kind: DeploymentConfig")
            .replace(
                "selector: {matchLabels: {app: web}}",
                "selector: {app: web}",
            );
        let hits = hits_of(&AVAILABILITY, &config);
        assert_eq!(hits.len(), 2, "{hits:#?}");
        assert_eq!(hits[0].1, "spec.replicas");
        assert_eq!(hits[1].1, "spec.template.spec.topologySpreadConstraints");
        let protected = format!("{config}{SPREAD}---\n{PDB}");
        assert_eq!(hits_of(&AVAILABILITY, &protected), vec![]);
        // Its replicas count for a budget over its pods.
        let blocking = format!(
            "{config}---\n{}",
            PDB.replace("maxUnavailable: 1", "minAvailable: 3")
        );
        let hits = hits_of(&PDB_BLOCKS_EVICTION, &blocking);
        assert_eq!(hits.len(), 1, "{hits:#?}");
        assert!(hits[0].2.contains("(DeploymentConfig web: 3 replicas)"));
    }

    #[test]
    fn availability_passes_protected_or_single_replicas() {
        let protected = format!("{WEB}{SPREAD}---\n{PDB}");
        assert_eq!(hits_of(&AVAILABILITY, &protected), vec![]);
        let anti_affinity = format!(
            "{WEB}      affinity:\n        podAntiAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n          - weight: 100\n            podAffinityTerm: {{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: web}}}}}}\n---\n{PDB}"
        );
        assert_eq!(hits_of(&AVAILABILITY, &anti_affinity), vec![]);
        let single = WEB.replace("replicas: 3", "replicas: 1");
        assert_eq!(hits_of(&AVAILABILITY, &single), vec![]);
    }
}

#[cfg(test)]
mod pdb_tests {
    use super::*;
    use crate::policy::expect_hits as expect;

    fn set(replicas: &str, pdb_spec: &str) -> String {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
{replicas}  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: 'web:1.0'}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: web, namespace: shop}}
spec: {{selector: {{matchLabels: {{app: web}}}}, {pdb_spec}}}
"
        )
    }

    #[test]
    fn pdb_blocks_eviction_reports_budgets_that_never_allow_one() {
        expect(
            &PDB_BLOCKS_EVICTION,
            &set("  replicas: 3\n", "maxUnavailable: 0"),
            &[(
                "web",
                "spec.maxUnavailable",
                "maxUnavailable: 0 never allows an eviction",
            )],
        );
        expect(
            &PDB_BLOCKS_EVICTION,
            &set("  replicas: 3\n", "maxUnavailable: '0%'"),
            &[(
                "web",
                "spec.maxUnavailable",
                "maxUnavailable: 0 never allows",
            )],
        );
        expect(
            &PDB_BLOCKS_EVICTION,
            &set("  replicas: 3\n", "minAvailable: 3"),
            &[(
                "web",
                "spec.minAvailable",
                "minAvailable 3 is not below the 3 pods it selects (Deployment web: 3 replicas): no pod may ever be evicted, so node drains hang; set minAvailable to at most 2 or use maxUnavailable: 1",
            )],
        );
        // No replicas: one pod.
        expect(
            &PDB_BLOCKS_EVICTION,
            &set("", "minAvailable: 1"),
            &[("web", "spec.minAvailable", "minAvailable 1 is not below the 1 pod it selects (Deployment web: 1 replica): no pod may ever be evicted, so node drains hang; one pod cannot stay available")],
        );
        // 67% of 3 is 2.01, rounded up to 3.
        expect(
            &PDB_BLOCKS_EVICTION,
            &set("  replicas: 3\n", "minAvailable: '67%'"),
            &[("web", "spec.minAvailable", "minAvailable \"67%\" of the 3 pods it selects (Deployment web: 3 replicas) is 3, rounded up")],
        );
        // An autoscaler that never goes above two, and a bare Pod with the same labels.
        let scaled = format!(
            "{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: shop}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  minReplicas: 1\n  maxReplicas: 2\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: debug, namespace: shop, labels: {{app: web}}}}\nspec: {{containers: [{{name: c, image: 'c:1'}}]}}\n",
            set("", "minAvailable: 3")
        );
        expect(
            &PDB_BLOCKS_EVICTION,
            &scaled,
            &[(
                "web",
                "spec.minAvailable",
                "(Deployment web: at most 2 replicas (its autoscaler's maxReplicas); Pod debug)",
            )],
        );
    }

    #[test]
    fn pdb_blocks_eviction_passes_budgets_that_allow_one() {
        for (replicas, pdb) in [
            ("  replicas: 3\n", "minAvailable: 2"),
            ("  replicas: 3\n", "minAvailable: '66%'"),
            ("  replicas: 3\n", "maxUnavailable: 1"),
            ("  replicas: 3\n", "maxUnavailable: '10%'"),
            ("  replicas: 0\n", "minAvailable: 1"),
        ] {
            expect(&PDB_BLOCKS_EVICTION, &set(replicas, pdb), &[]);
        }
        // A budget in another namespace, or over pods the set cannot count (a DaemonSet's), or
        // over an operator's pods, says nothing about the Deployment.
        let elsewhere = set("", "minAvailable: 1").replace(
            "kind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}",
            "kind: PodDisruptionBudget\nmetadata: {name: web, namespace: other}",
        );
        expect(&PDB_BLOCKS_EVICTION, &elsewhere, &[]);
        let daemon_set = format!(
            "{}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: shop}}\nspec:\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: 'c:1'}}]}}\n",
            set("", "minAvailable: 1")
        );
        expect(&PDB_BLOCKS_EVICTION, &daemon_set, &[]);
        let operator = format!(
            "{}---\napiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {{name: web, namespace: shop}}\nspec: {{instances: 3}}\n",
            set("", "minAvailable: 1")
        );
        expect(&PDB_BLOCKS_EVICTION, &operator, &[]);
    }

    #[test]
    fn pdb_blocks_eviction_is_exempted_on_skeletons_too() {
        let yaml = set("  replicas: 2\n", "minAvailable: 2").replace(
            "metadata: {name: web, namespace: shop}\nspec: {selector",
            "metadata: {name: web, namespace: shop, annotations: {ignore-check.nixernetes.io/pdb-blocks-eviction: drained by hand in the maintenance window}}\nspec: {selector",
        );
        let found = crate::policy::findings_of("pdb-blocks-eviction", &yaml);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(found[0]
            .message
            .starts_with("exempted (drained by hand in the maintenance window): minAvailable 2"));
    }
}
