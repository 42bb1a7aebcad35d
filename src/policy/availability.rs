//! The availability check, id 37 of the check table: replicated Deployments and StatefulSets
//! survive voluntary disruption (a PodDisruptionBudget selects their pods) and the loss of one
//! node (podAntiAffinity or topologySpreadConstraints spread them). Advisory only: a single
//! replica has nothing to spread, and what counts as "available" is the operator's call.

use super::network::{selects, Selectors};
use super::pod::{get, get_str, obj, pod_of};
use super::{CheckDef, Fix, Scope, SetHits};
use crate::finding::Severity;
use crate::resource::Resource;
use serde_json::Value;
use std::collections::HashMap;

pub const AVAILABILITY: CheckDef = CheckDef {
    id: "availability",
    summary: "replicated Deployments and StatefulSets have a PodDisruptionBudget and are spread across nodes",
    pss: None,
    severity: Severity::Info,
    fix: Fix::Gen,
    scope: Scope::Set(availability),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&AVAILABILITY];

fn availability(objects: &[&Resource], out: &mut SetHits) {
    let mut budgets: Vec<&Resource> = Vec::new();
    let mut budget_index = Selectors::default();
    // minReplicas of each HPA target, by (namespace, kind, name).
    let mut scaled: HashMap<(Option<&str>, &str, &str), i64> = HashMap::new();
    for &r in objects {
        match (r.group(), r.kind()) {
            ("policy", "PodDisruptionBudget") => {
                budget_index.add(
                    r.namespace(),
                    obj(r.object.get("spec")).and_then(|s| obj(s.get("selector"))),
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
        if r.group() != "apps" || !matches!(r.kind(), "Deployment" | "StatefulSet") {
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
                obj(b.object.get("spec"))
                    .and_then(|s| obj(s.get("selector")))
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
            && !non_empty(pod.spec.get("topologySpreadConstraints"))
        {
            out.push(
                i,
                pod.at("topologySpreadConstraints"),
                format!("{count}, but neither podAntiAffinity nor topologySpreadConstraints spreads them: one node may hold all of them"),
            );
        }
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
