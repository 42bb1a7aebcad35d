//! Cross-object network and selector checks, ids 31-32 of the check table: whether every pod is
//! isolated by NetworkPolicies in both directions, and whether the selectors and references of
//! workloads, Services, PodDisruptionBudgets, NetworkPolicies and HPAs hit something rendered.
//!
//! This file also owns the label-selector semantics the set checks share (`selects`,
//! `map_selects`) and the index of rendered pods by namespace: other families use these rather
//! than matching labels themselves. Namespaces are compared as written; an object without
//! `metadata.namespace` is only compared with others without one. Pods an operator creates
//! from a custom resource (a CloudNativePG `Cluster`, say) exist only at run time: a selector
//! that names such a resource is given the benefit of the doubt rather than called dangling.

use super::pod::{get_str, obj, pod_of, strings, PodView};
use super::{CheckDef, Fix, Scope, SetHits, SetInput};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use crate::validate::code;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

pub const NETWORK_POLICY_COVERAGE: CheckDef = CheckDef {
    id: "network-policy-coverage",
    summary: "every pod is selected by NetworkPolicies restricting both Ingress and Egress",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Gen,
    scope: Scope::Set(network_policy_coverage),
};

pub const SELECTOR_CONSISTENCY: CheckDef = CheckDef {
    id: "selector-consistency",
    summary: "selectors match their templates and hit rendered pods; target ports and scale targets exist",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Set(selector_consistency),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&NETWORK_POLICY_COVERAGE, &SELECTOR_CONSISTENCY];

/// The rendered pods (bare pods and workload templates) of one namespace, with their object
/// index, and a posting list per label pair so that a selector is matched against the few pods
/// that carry its first label rather than against every pod (sets of 50,000 objects stay linear).
#[derive(Default)]
pub(super) struct Pods<'a> {
    pub(super) list: Vec<(usize, PodView<'a>)>,
    by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Pods<'a> {
    fn push(&mut self, i: usize, pod: PodView<'a>) {
        let at = self.list.len();
        for (k, v) in pod.labels().into_iter().flatten() {
            if let Some(v) = v.as_str() {
                self.by_label.entry((k.as_str(), v)).or_default().push(at);
            }
        }
        self.list.push((i, pod));
    }

    /// Pods that may match a selector whose equality part is `pairs`: those carrying its first
    /// pair, or every pod when it has none (the caller still applies the whole selector).
    pub(super) fn candidates(
        &self,
        pairs: Option<&Map<String, Value>>,
    ) -> Vec<&(usize, PodView<'a>)> {
        match pairs.and_then(|m| m.iter().next()) {
            Some((k, Value::String(v))) => self
                .by_label
                .get(&(k.as_str(), v.as_str()))
                .into_iter()
                .flatten()
                .map(|&at| &self.list[at])
                .collect(),
            Some(_) => Vec::new(),
            None => self.list.iter().collect(),
        }
    }
}

/// Rendered pods by namespace.
pub(super) type PodIndex<'a> = HashMap<Option<&'a str>, Pods<'a>>;

/// Indexes the pods of `objects` by namespace.
pub(super) fn pods_by_namespace<'a>(objects: &[&'a Resource]) -> PodIndex<'a> {
    let mut index: PodIndex<'a> = HashMap::new();
    for (i, r) in objects.iter().enumerate() {
        if let Some(pod) = pod_of(r) {
            index.entry(r.namespace()).or_default().push(i, pod);
        }
    }
    index
}

/// Label selectors (of NetworkPolicies, PodDisruptionBudgets…) by namespace, filed under their
/// first `matchLabels` pair, so that the selectors that may select a pod are found from the
/// pod's own labels.
#[derive(Default)]
pub(super) struct Selectors<'a> {
    /// Selectors without a `matchLabels` pair: they may select any pod.
    always: HashMap<Option<&'a str>, Vec<usize>>,
    by_label: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>,
}

impl<'a> Selectors<'a> {
    /// Files selector number `at` of namespace `ns`.
    pub(super) fn add(
        &mut self,
        ns: Option<&'a str>,
        selector: Option<&'a Map<String, Value>>,
        at: usize,
    ) {
        match selector
            .and_then(|s| obj(s.field("matchLabels")))
            .and_then(|m| m.iter().next())
        {
            Some((k, Value::String(v))) => self
                .by_label
                .entry((ns, k.as_str(), v.as_str()))
                .or_default()
                .push(at),
            Some(_) => {}
            None => self.always.entry(ns).or_default().push(at),
        }
    }

    /// Numbers of the selectors of `ns` that may select a pod with `labels`, in filing order.
    pub(super) fn candidates(
        &self,
        ns: Option<&'a str>,
        labels: Option<&Map<String, Value>>,
    ) -> Vec<usize> {
        let mut out: Vec<usize> = self.always.get(&ns).cloned().unwrap_or_default();
        for (k, v) in labels.into_iter().flatten() {
            let Some(v) = v.as_str() else { continue };
            if let Some(list) = self.by_label.get(&(ns, k.as_str(), v)) {
                out.extend(list);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Whether a `LabelSelector` selects `labels`: every `matchLabels` pair and every
/// `matchExpressions` requirement holds. An empty selector selects everything.
pub(crate) fn selects(selector: &Map<String, Value>, labels: Option<&Map<String, Value>>) -> bool {
    let matched = obj(selector.field("matchLabels")).is_none_or(|ml| {
        ml.iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    });
    matched
        && match selector.field("matchExpressions") {
            Some(Value::Array(exprs)) => exprs.iter().all(|e| requirement_holds(e, labels)),
            _ => true,
        }
}

/// Whether one `matchExpressions` entry holds for `labels`; unknown operators never hold.
fn requirement_holds(requirement: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let Some(req) = requirement.as_object() else {
        return false;
    };
    let key = get_str(req, "key").unwrap_or("");
    let value = labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    let values: Vec<&str> = strings(req.field("values"))
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    match get_str(req, "operator") {
        Some("In") => value.is_some_and(|v| values.contains(&v)),
        Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
        Some("Exists") => value.is_some(),
        Some("DoesNotExist") => value.is_none(),
        _ => false,
    }
}

/// Whether a `LabelSelector` has no requirement at all (and so selects everything).
pub(super) fn is_empty_selector(selector: &Map<String, Value>) -> bool {
    let empty = |key| match selector.get(key) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => true,
    };
    empty("matchLabels") && empty("matchExpressions")
}

/// Whether a plain map selector (Service, ReplicationController) selects `labels`.
pub(super) fn map_selects(
    selector: &Map<String, Value>,
    labels: Option<&Map<String, Value>>,
) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// Path of a pod's labels: `metadata.labels` of a Pod, the template's labels of a workload.
pub(super) fn labels_path(pod: &PodView<'_>) -> String {
    match pod.path.strip_suffix(".spec") {
        Some(template) => format!("{template}.metadata.labels"),
        None => "metadata.labels".to_string(),
    }
}

/// `in namespace "x"`, for messages about what a namespace holds.
pub(super) fn in_namespace(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("in namespace {ns:?}"),
        None => "in its (unset) namespace".to_string(),
    }
}

/// A label or selector value as a message shows it.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_network_policy(r: &Resource) -> bool {
    r.group() == "networking.k8s.io" && r.kind() == "NetworkPolicy"
}

/// `spec.podSelector` of a NetworkPolicy; absent counts as empty (all pods).
fn pod_selector(policy: &Resource) -> Option<&Map<String, Value>> {
    obj(policy.object.field("spec")).and_then(|s| obj(s.field("podSelector")))
}

/// Which directions a NetworkPolicy isolates, `(ingress, egress)`. Without `policyTypes` the API
/// server assumes Ingress, plus Egress when the policy has egress rules.
fn policy_types(policy: &Resource) -> (bool, bool) {
    let spec = obj(policy.object.field("spec"));
    let types = strings(spec.and_then(|s| s.field("policyTypes")));
    if types.is_empty() {
        let egress_rules =
            matches!(spec.and_then(|s| s.field("egress")), Some(Value::Array(a)) if !a.is_empty());
        return (true, egress_rules);
    }
    let has = |t: &str| types.iter().any(|(_, v)| *v == t);
    (has("Ingress"), has("Egress"))
}

fn network_policy_coverage(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let policies: Vec<&Resource> = objects
        .iter()
        .copied()
        .filter(|r| is_network_policy(r))
        .collect();
    let mut index = Selectors::default();
    for (at, p) in policies.iter().enumerate() {
        index.add(p.namespace(), pod_selector(p), at);
    }
    for (i, r) in objects.iter().enumerate() {
        let Some(pod) = pod_of(r) else { continue };
        let labels = pod.labels();
        let matching: Vec<&Resource> = index
            .candidates(r.namespace(), labels)
            .into_iter()
            .map(|at| policies[at])
            .filter(|p| pod_selector(p).is_none_or(|s| selects(s, labels)))
            .collect();
        if matching.is_empty() {
            out.push(
                i,
                labels_path(&pod),
                format!(
                    "no NetworkPolicy {} selects this pod: its ingress and egress are unrestricted",
                    in_namespace(r.namespace())
                ),
            );
            continue;
        }
        let (ingress, egress) = matching.iter().fold((false, false), |(i, e), p| {
            let (pi, pe) = policy_types(p);
            (i || pi, e || pe)
        });
        let missing = match (ingress, egress) {
            (true, true) => continue,
            (true, false) => "Egress",
            (false, true) => "Ingress",
            (false, false) => "Ingress or Egress",
        };
        let names: Vec<String> = matching.iter().map(|p| format!("{:?}", p.name())).collect();
        out.push(
            i,
            labels_path(&pod),
            format!(
                "NetworkPolicy {} selects this pod but none restricts {missing}: add {missing} to policyTypes",
                names.join(", ")
            ),
        );
    }
}

fn selector_consistency(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let pods = pods_by_namespace(objects);
    let rendered: HashSet<(Option<&str>, &str, &str)> = objects
        .iter()
        .map(|r| (r.namespace(), r.kind(), r.name()))
        .collect();
    let mut custom: HashMap<Option<&str>, Vec<&Resource>> = HashMap::new();
    // Custom resources whose pod template is read (Argo Rollouts, DeploymentConfigs) run those
    // pods, which are indexed: they hide none.
    for &r in objects
        .iter()
        .filter(|r| is_custom_group(r.group()) && pod_of(r).is_none())
    {
        custom.entry(r.namespace()).or_default().push(r);
    }
    for (i, r) in objects.iter().enumerate() {
        let Some(spec) = obj(r.object.field("spec")) else {
            continue;
        };
        let ns = r.namespace();
        let here = Namespace {
            name: ns,
            pods: pods.get(&ns),
            custom: custom.get(&ns).map(Vec::as_slice).unwrap_or_default(),
        };
        match (r.group(), r.kind()) {
            ("", "Service") => service_targets(i, spec, &here, out),
            ("policy", "PodDisruptionBudget") => selector_hits_pod(i, spec, "selector", &here, out),
            ("networking.k8s.io", "NetworkPolicy") => {
                selector_hits_pod(i, spec, "podSelector", &here, out)
            }
            ("autoscaling", "HorizontalPodAutoscaler") => {
                let Some(target) = obj(spec.field("scaleTargetRef")) else {
                    continue;
                };
                let kind = get_str(target, "kind").unwrap_or("");
                let name = get_str(target, "name").unwrap_or("");
                if !rendered.contains(&(ns, kind, name)) {
                    out.push(
                        i,
                        "spec.scaleTargetRef.name",
                        format!(
                            "scaleTargetRef names {kind} {name:?}, which is not rendered {}",
                            in_namespace(ns)
                        ),
                    );
                }
            }
            _ => {
                if let Some(pod) = pod_of(r) {
                    template_matches_selector(i, r, spec, &pod, out);
                }
            }
        }
    }
}

/// A workload's `spec.selector` must select its own template, or it can never own its pods.
fn template_matches_selector(
    i: usize,
    r: &Resource,
    spec: &Map<String, Value>,
    pod: &PodView<'_>,
    out: &mut SetHits,
) {
    let Some(selector) = obj(spec.field("selector")) else {
        return;
    };
    let labels = pod.labels();
    let mismatch = |field: String, key: &str, want: &Value| {
        let have = match labels.and_then(|l| l.get(key)) {
            Some(v) => code(&format!("{key}={}", text(v))),
            None => format!("no label {}", code(key)),
        };
        (
            field,
            format!(
                "the selector requires {} but the pod template has {have}",
                code(&format!("{key}={}", text(want)))
            ),
        )
    };
    let mut hits = Vec::new();
    // ReplicationControllers and OpenShift DeploymentConfigs select by a plain label map.
    if matches!(
        (r.group(), r.kind()),
        ("", "ReplicationController") | ("apps.openshift.io", "DeploymentConfig")
    ) {
        for (k, v) in selector {
            if labels.and_then(|l| l.get(k)) != Some(v) {
                hits.push(mismatch(format!("spec.selector.{k}"), k, v));
            }
        }
    } else {
        if let Some(ml) = obj(selector.field("matchLabels")) {
            for (k, v) in ml {
                if labels.and_then(|l| l.get(k)) != Some(v) {
                    hits.push(mismatch(format!("spec.selector.matchLabels.{k}"), k, v));
                }
            }
        }
        if let Some(Value::Array(exprs)) = selector.field("matchExpressions") {
            for (j, e) in exprs.iter().enumerate() {
                if !requirement_holds(e, labels) {
                    hits.push((
                        format!("spec.selector.matchExpressions[{j}]"),
                        "the selector expression does not hold for the pod template's labels"
                            .to_string(),
                    ));
                }
            }
        }
    }
    for (field, message) in hits {
        out.push(i, field, message);
    }
}

/// What selectors in one namespace can hit.
struct Namespace<'a, 'p> {
    name: Option<&'a str>,
    pods: Option<&'p Pods<'a>>,
    /// Custom resources, whose operators may run pods the set does not show.
    custom: &'p [&'a Resource],
}

impl Namespace<'_, '_> {
    /// Whether an operator may run pods that a selector selects: the selector names a custom
    /// resource of the namespace (a label value equal to its name, as in `cnpg.io/cluster: db`)
    /// or matches its labels. Such pods only exist at run time, so they cannot be held against
    /// the selector.
    fn operator_may_select(
        &self,
        values: &[&str],
        matches: impl Fn(Option<&Map<String, Value>>) -> bool,
    ) -> bool {
        operator_may_select(self.custom, values, matches)
    }
}

/// Whether an operator may run pods that a selector selects, given the custom resources of its
/// namespace (`Namespace::operator_may_select`), `values` (the selector's label values) and
/// whether the selector `matches` a set of labels.
pub(super) fn operator_may_select(
    custom: &[&Resource],
    values: &[&str],
    matches: impl Fn(Option<&Map<String, Value>>) -> bool,
) -> bool {
    custom
        .iter()
        .any(|c| values.contains(&c.name()) || matches(c.labels()))
}

/// The label values a `LabelSelector` names: of `matchLabels` and of `matchExpressions`.
pub(super) fn selector_values(selector: &Map<String, Value>) -> Vec<&str> {
    let mut values: Vec<&str> = obj(selector.field("matchLabels"))
        .into_iter()
        .flat_map(|ml| ml.values().filter_map(Value::as_str))
        .collect();
    if let Some(Value::Array(exprs)) = selector.field("matchExpressions") {
        for e in exprs {
            values.extend(strings(e.field("values")).into_iter().map(|(_, v)| v));
        }
    }
    values
}

/// Whether a group is defined by a CustomResourceDefinition rather than built into Kubernetes.
pub(super) fn is_custom_group(group: &str) -> bool {
    group.contains('.') && !group.ends_with(".k8s.io") && group != crate::resource::GROUP
}

/// A non-empty `spec.<field>` label selector must select at least one rendered pod.
fn selector_hits_pod(
    i: usize,
    spec: &Map<String, Value>,
    field: &str,
    ns: &Namespace<'_, '_>,
    out: &mut SetHits,
) {
    let Some(selector) = obj(spec.get(field)).filter(|s| !is_empty_selector(s)) else {
        return;
    };
    let candidates = ns
        .pods
        .map(|p| p.candidates(obj(selector.field("matchLabels"))))
        .unwrap_or_default();
    if candidates
        .iter()
        .any(|(_, p)| selects(selector, p.labels()))
    {
        return;
    }
    let values = selector_values(selector);
    if ns.operator_may_select(&values, |labels| selects(selector, labels)) {
        return;
    }
    let message = format!("{field} selects no rendered pod {}", in_namespace(ns.name));
    // With no pod rendered in the namespace, the pods are deployed by something else.
    if ns.pods.is_none() {
        out.push_doubtful(i, format!("spec.{field}"), message);
    } else {
        out.push(i, format!("spec.{field}"), message);
    }
}

/// A Service's selector must select rendered pods that declare the ports it targets.
fn service_targets(i: usize, spec: &Map<String, Value>, ns: &Namespace<'_, '_>, out: &mut SetHits) {
    if get_str(spec, "type") == Some("ExternalName") {
        return;
    }
    let Some(selector) = obj(spec.field("selector")).filter(|s| !s.is_empty()) else {
        return;
    };
    let selected: Vec<&PodView<'_>> = ns
        .pods
        .map(|p| p.candidates(Some(selector)))
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, p)| map_selects(selector, p.labels()))
        .map(|(_, p)| p)
        .collect();
    if selected.is_empty() {
        let values: Vec<&str> = selector.values().filter_map(Value::as_str).collect();
        if ns.operator_may_select(&values, |labels| map_selects(selector, labels)) {
            return;
        }
        let pairs: Vec<String> = selector
            .iter()
            .map(|(k, v)| format!("{k}={}", text(v)))
            .collect();
        let message = format!(
            "selector {} selects no rendered pod {}",
            code(&pairs.join(",")),
            in_namespace(ns.name)
        );
        // With no pod rendered in the namespace, the pods are deployed by something else.
        if ns.pods.is_none() {
            out.push_doubtful(i, "spec.selector", message);
        } else {
            out.push(i, "spec.selector", message);
        }
        return;
    }
    let Some(Value::Array(ports)) = spec.field("ports") else {
        return;
    };
    let owners: Vec<String> = selected
        .iter()
        .map(|p| format!("{} {:?}", p.object.kind(), p.object.name()))
        .collect();
    for (j, port) in ports.iter().enumerate() {
        let Some(port) = port.as_object() else {
            continue;
        };
        // Without targetPort, traffic goes to the same number as `port`.
        let (field, target, what) = match (port.field("targetPort"), port.field("port")) {
            (Some(t), _) => ("targetPort", t, "targetPort"),
            (None, Some(p)) => ("port", p, "port (the default targetPort)"),
            (None, None) => continue,
        };
        if selected.iter().any(|p| declares_port(p, target)) {
            continue;
        }
        let message = match target {
            Value::String(name) => format!(
                "{what} {name:?} is not the name of a containerPort of the pods it selects ({})",
                owners.join(", ")
            ),
            other => format!(
                "{what} {other} is not a containerPort of the pods it selects ({})",
                owners.join(", ")
            ),
        };
        // Traffic reaches an undeclared number (declaring ports is informational); it never
        // reaches a name no container declares.
        if target.is_string() {
            out.push(i, format!("spec.ports[{j}].{field}"), message);
        } else {
            out.push_doubtful(i, format!("spec.ports[{j}].{field}"), message);
        }
    }
}

/// Whether a container of `pod` declares `target`: a port name (string) or number.
fn declares_port(pod: &PodView<'_>, target: &Value) -> bool {
    pod.containers().iter().any(|c| {
        let Some(Value::Array(ports)) = c.spec.field("ports") else {
            return false;
        };
        ports
            .iter()
            .filter_map(Value::as_object)
            .any(|p| match target {
                Value::String(name) => get_str(p, "name") == Some(name),
                number => p.field("containerPort").and_then(Value::as_i64) == number.as_i64(),
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hits_of;

    const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: web
        image: web:1.0
        ports: [{name: http, containerPort: 8080}]
";

    fn with(extra: &str) -> String {
        format!("{WEB}---\n{extra}")
    }

    #[test]
    fn selectors_follow_label_selector_semantics() {
        let labels: Map<String, Value> =
            serde_json::from_str(r#"{"app": "web", "tier": "front"}"#).unwrap();
        let sel = |s: &str| serde_json::from_str::<Map<String, Value>>(s).unwrap();
        assert!(selects(&sel("{}"), Some(&labels)));
        assert!(selects(
            &sel(r#"{"matchLabels": {"app": "web"}}"#),
            Some(&labels)
        ));
        assert!(!selects(
            &sel(r#"{"matchLabels": {"app": "api"}}"#),
            Some(&labels)
        ));
        let expr = |op: &str, values: &str| {
            sel(&format!(
                r#"{{"matchExpressions": [{{"key": "tier", "operator": "{op}", "values": {values}}}]}}"#
            ))
        };
        assert!(selects(&expr("In", r#"["front", "back"]"#), Some(&labels)));
        assert!(!selects(&expr("NotIn", r#"["front"]"#), Some(&labels)));
        assert!(selects(&expr("Exists", "[]"), Some(&labels)));
        assert!(!selects(&expr("DoesNotExist", "[]"), Some(&labels)));
        assert!(selects(&expr("DoesNotExist", "[]"), None));
        assert!(!selects(&expr("Bogus", "[]"), Some(&labels)));
        assert!(selects(
            &sel(
                r#"{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}"#
            ),
            Some(&labels)
        ));
    }

    #[test]
    fn network_policy_coverage_needs_both_directions() {
        let hits = hits_of(&NETWORK_POLICY_COVERAGE, WEB);
        assert_eq!(
            hits,
            vec![(
                "web".into(),
                "spec.template.metadata.labels".into(),
                "no NetworkPolicy in namespace \"shop\" selects this pod: its ingress and egress are unrestricted".into()
            )]
        );
        // Defaults: no policyTypes and no egress rules means Ingress only.
        let ingress_only = with(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{}]
",
        );
        let hits = hits_of(&NETWORK_POLICY_COVERAGE, &ingress_only);
        assert_eq!(
            hits,
            vec![(
                "web".into(),
                "spec.template.metadata.labels".into(),
                "NetworkPolicy \"web-in\" selects this pod but none restricts Egress: add Egress to policyTypes".into()
            )]
        );
        // A policy in another namespace does not count.
        let elsewhere = with(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all, namespace: other}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
",
        );
        assert_eq!(hits_of(&NETWORK_POLICY_COVERAGE, &elsewhere).len(), 1);
    }

    #[test]
    fn network_policy_coverage_passes_when_policies_combine() {
        let yaml = with(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector:
    matchExpressions: [{key: tier, operator: In, values: [front]}]
  ingress: [{}]
",
        );
        assert!(hits_of(&NETWORK_POLICY_COVERAGE, &yaml).is_empty());
        let egress_rules = with(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{}]
  egress: [{to: [{podSelector: {}}]}]
",
        );
        assert!(hits_of(&NETWORK_POLICY_COVERAGE, &egress_rules).is_empty());
    }

    #[test]
    fn selector_consistency_reads_deployment_config_selectors_as_label_maps() {
        let config = |name: &str, labels: &str| {
            format!("apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{app: {name}}}\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {{containers: [{{name: a, image: a:1}}]}}\n---\n")
        };
        let yaml = format!("{}{}", config("bad", "{}"), config("good", "{app: good}"));
        crate::policy::expect_hits(
            &SELECTOR_CONSISTENCY,
            &yaml,
            &[(
                "bad",
                "spec.selector.app",
                "the selector requires `app=bad` but the pod template has no label `app`",
            )],
        );
    }

    /// Label keys and values are the user's text, shown quoted (the fuzz target
    /// `resource_list` found `app.2001:db8::.io/name` shown bare, where it reads as a path).
    #[test]
    fn selector_messages_quote_the_labels() {
        let yaml = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: shop}
spec:
  selector: {matchLabels: {"x.2001:db8::.io/name": a}}
  template:
    metadata: {labels: {}}
    spec: {containers: [{name: a, image: a:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: shop}
spec: {selector: {"x.2001:db8::.io/name": s}, ports: [{port: 80}]}
"#;
        crate::policy::expect_hits(
            &SELECTOR_CONSISTENCY,
            yaml,
            &[
                (
                    "a",
                    "spec.selector.matchLabels.x.2001:db8::.io/name",
                    "the selector requires `x.2001:db8::.io/name=a` but the pod template has no \
                     label `x.2001:db8::.io/name`",
                ),
                (
                    "s",
                    "spec.selector",
                    "selector `x.2001:db8::.io/name=s` selects no rendered pod",
                ),
            ],
        );
    }

    #[test]
    fn selector_consistency_finds_dangling_selectors() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector:
    matchLabels: {app: website}
    matchExpressions: [{key: tier, operator: In, values: [back]}]
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: web
        image: web:1.0
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: web}
  - {port: 81, targetPort: 9090}
  - {port: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {type: ExternalName, externalName: db.example.com}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: other}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec: {podSelector: {matchLabels: {app: api}}, policyTypes: [Ingress]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}
  minReplicas: 2
  maxReplicas: 4
";
        let hits = hits_of(&SELECTOR_CONSISTENCY, yaml);
        let got: Vec<(&str, &str)> = hits
            .iter()
            .map(|(n, f, _)| (n.as_str(), f.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("web", "spec.selector.matchLabels.app"),
                ("web", "spec.selector.matchExpressions[0]"),
                ("web", "spec.ports[0].targetPort"),
                ("web", "spec.ports[1].targetPort"),
                ("api", "spec.selector"),
                ("web", "spec.selector"),
                ("api", "spec.podSelector"),
                ("web", "spec.scaleTargetRef.name"),
            ]
        );
        assert_eq!(
            hits[0].2,
            "the selector requires `app=website` but the pod template has `app=web`"
        );
        assert_eq!(
            hits[2].2,
            "targetPort \"web\" is not the name of a containerPort of the pods it selects (Deployment \"web\")"
        );
        assert_eq!(
            hits[3].2,
            "targetPort 9090 is not a containerPort of the pods it selects (Deployment \"web\")"
        );
        assert_eq!(
            hits[4].2,
            "selector `app=api` selects no rendered pod in namespace \"shop\""
        );
        assert_eq!(
            hits[5].2,
            "selector selects no rendered pod in namespace \"other\""
        );
        assert_eq!(
            hits[7].2,
            "scaleTargetRef names StatefulSet \"web\", which is not rendered in namespace \"shop\""
        );
    }

    #[test]
    fn selector_consistency_passes_a_consistent_set() {
        let yaml = with(
            "apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}, {port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: headless-external, namespace: shop}
spec: {ports: [{port: 5432}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 4
---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: db, namespace: shop}
spec: {instances: 2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {cnpg.io/cluster: db}}
  policyTypes: [Ingress]
---
apiVersion: v1
kind: Service
metadata: {name: db-metrics, namespace: shop}
spec:
  selector: {cnpg.io/cluster: db}
  ports: [{port: 9187}]
",
        );
        assert_eq!(hits_of(&SELECTOR_CONSISTENCY, &yaml), vec![]);
    }
}
