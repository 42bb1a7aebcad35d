//! Which objects a rule looks at: VAP `matchConstraints` (resource rules, exclusions,
//! namespace and object selectors) and our `producedBy`, judged on a rendered object as the
//! API server would judge its CREATE request. Matching needs no CEL, so an object that no
//! rule matches is never converted to a CEL value.

use super::spec::{LabelSelector, Match, Operator, ResourceRule};
use crate::resource::Resource;
use serde_json::{Map, Value};

/// What matching needs to know about an object.
pub struct Target<'a> {
    pub group: &'a str,
    pub version: &'a str,
    /// The plural resource name (`deployments`).
    pub resource: String,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub cluster_scoped: bool,
    pub labels: Option<&'a Map<String, Value>>,
    /// Labels of the object's namespace (from the input), if it is namespaced.
    pub namespace_labels: Option<&'a Map<String, Value>>,
    /// The kind of the module resource that produced it (`nixernetes.io/source`).
    pub produced_by: Option<&'a str>,
    /// Whether the object is itself a Namespace.
    pub is_namespace: bool,
}

impl<'a> Target<'a> {
    pub fn of(obj: &'a Resource, namespace_labels: Option<&'a Map<String, Value>>) -> Self {
        let api_version = obj.api_version();
        let version = api_version.rsplit('/').next().unwrap_or("");
        let cluster_scoped = crate::resource::is_cluster_scoped(api_version, obj.kind());
        Target {
            group: obj.group(),
            version,
            resource: resource_of(obj.kind()),
            name: obj.name(),
            namespace: obj.namespace(),
            cluster_scoped,
            labels: obj.labels(),
            namespace_labels,
            produced_by: obj
                .annotation("nixernetes.io/source")
                .and_then(|s| s.split('/').next()),
            is_namespace: api_version == "v1" && obj.kind() == "Namespace",
        }
    }
}

/// The resource of a kind, as the API server's RESTMapper guesses it (lowercase, plural:
/// `k8s.io/apimachinery/pkg/api/meta.UnsafeGuessKindToResource`).
pub fn resource_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if let Some(stem) = lower.strip_suffix('s') {
        return format!("{stem}ses");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        return format!("{stem}ies");
    }
    format!("{lower}s")
}

/// Whether `m` selects `t`.
pub fn matches(m: &Match, t: &Target<'_>) -> bool {
    // A binding's matchResources without resource rules leaves the policy's in force; a
    // policy's own constraints must have some (checked when it loads).
    (m.resource_rules.is_empty() || m.resource_rules.iter().any(|r| rule_matches(r, t)))
        && !m.exclude_resource_rules.iter().any(|r| rule_matches(r, t))
        && m.object_selector
            .as_ref()
            .is_none_or(|s| selects(s, t.labels))
        && m.namespace_selector
            .as_ref()
            .is_none_or(|s| namespace_selected(s, t))
        && (m.produced_by.is_empty()
            || m.produced_by
                .iter()
                .any(|g| t.produced_by == Some(g.kind.as_str())))
}

fn any_or(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

fn rule_matches(r: &ResourceRule, t: &Target<'_>) -> bool {
    let resource = r.resources.iter().any(|x| {
        // A rendered object is never a subresource: `*/*` and `*` match it, `deployments/scale`
        // does not.
        x == "*" || x == "*/*" || *x == t.resource
    });
    let scope = match r.scope.as_deref() {
        Some("Cluster") => t.cluster_scoped,
        Some("Namespaced") => !t.cluster_scoped,
        _ => true,
    };
    any_or(&r.api_groups, t.group)
        && any_or(&r.api_versions, t.version)
        && resource
        && any_or(&r.operations, "CREATE")
        && (r.resource_names.is_empty() || r.resource_names.iter().any(|n| n == t.name))
        && scope
}

/// The API server applies a namespace selector to the namespace of a namespaced object, to a
/// Namespace's own labels, and lets every other cluster-scoped object through.
fn namespace_selected(s: &LabelSelector, t: &Target<'_>) -> bool {
    if t.is_namespace {
        return selects_with_name(s, t.labels, t.name);
    }
    if t.cluster_scoped {
        return true;
    }
    selects_with_name(s, t.namespace_labels, t.namespace.unwrap_or("default"))
}

/// `selects` over a namespace's labels plus `kubernetes.io/metadata.name`, which the API
/// server sets on every namespace.
fn selects_with_name(s: &LabelSelector, labels: Option<&Map<String, Value>>, name: &str) -> bool {
    let mut all = labels.cloned().unwrap_or_default();
    all.entry("kubernetes.io/metadata.name")
        .or_insert_with(|| Value::String(name.to_string()));
    selects(s, Some(&all))
}

/// Whether a label selector selects `labels`.
pub fn selects(s: &LabelSelector, labels: Option<&Map<String, Value>>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    s.match_labels
        .iter()
        .all(|(k, v)| get(k) == Some(v.as_str()))
        && s.match_expressions.iter().all(|r| {
            let value = get(&r.key);
            match r.operator {
                Operator::In => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                Operator::NotIn => value.is_none_or(|v| !r.values.iter().any(|x| x == v)),
                Operator::Exists => value.is_some(),
                Operator::DoesNotExist => value.is_none(),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_guessed_as_the_api_server_guesses() {
        assert_eq!(resource_of("Deployment"), "deployments");
        assert_eq!(resource_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_of("Ingress"), "ingresses");
        assert_eq!(resource_of("Endpoints"), "endpoints");
        assert_eq!(resource_of("ConfigMap"), "configmaps");
    }

    fn rule(yaml: &str) -> Match {
        serde_json::from_value(crate::yaml::parse_one(yaml).unwrap()).unwrap()
    }

    fn object(yaml: &str) -> Resource {
        crate::source::parse_text(yaml, "t.yaml").unwrap().remove(0)
    }

    #[test]
    fn resource_rules_selectors_and_producers() {
        let m = rule("resourceRules: [{apiGroups: [apps], apiVersions: ['*'], resources: [deployments], operations: [CREATE]}]\nobjectSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}\nnamespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}");
        let d = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: shop, labels: {tier: web}}");
        assert!(matches(&m, &Target::of(&d, None)));
        let other_ns =
            object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: other}");
        assert!(!matches(&m, &Target::of(&other_ns, None)));
        let db = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: shop, labels: {tier: db}}");
        assert!(!matches(&m, &Target::of(&db, None)));
        let sts =
            object("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: a, namespace: shop}");
        assert!(!matches(&m, &Target::of(&sts, None)));
        let only_updates = rule("resourceRules: [{apiGroups: [apps], apiVersions: ['*'], resources: [deployments], operations: [UPDATE]}]");
        assert!(!matches(&only_updates, &Target::of(&d, None)));
        let scale = rule("resourceRules: [{apiGroups: ['*'], apiVersions: ['*'], resources: [deployments/scale], operations: ['*']}]");
        assert!(!matches(&scale, &Target::of(&d, None)));
        let produced = rule("resourceRules: [{apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], operations: ['*']}]\nproducedBy: [{kind: WebApp}]");
        assert!(!matches(&produced, &Target::of(&d, None)));
        let made = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, annotations: {nixernetes.io/source: WebApp/shop/a}}");
        assert!(matches(&produced, &Target::of(&made, None)));
    }
}
