//! The resource types the double serves: a built-in table of core kinds plus the kinds that
//! created CustomResourceDefinitions register. Discovery, routing and the store all read this
//! one registry; it knows names and scopes, not behaviour (defaulting lives in `defaults`).

use serde_json::Value;

/// One served resource type (one group/version/resource).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group, empty for the core group.
    pub group: String,
    /// API version within the group, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Resource (plural) name as it appears in paths, e.g. `deployments`.
    pub plural: String,
    /// Singular name, e.g. `deployment`.
    pub singular: String,
    /// Short names for kubectl, e.g. `deploy`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Whether the type has a `status` subresource (then writes to the main resource leave
    /// `status` alone and apply does not own it).
    pub status: bool,
    /// Whether the server keeps `metadata.generation`.
    pub generation: bool,
    /// Top-level fields a built-in kind declares (for `fieldValidation`); `None` for custom
    /// resources.
    pub top_fields: Option<&'static [&'static str]>,
    /// For custom resources: the version's `openAPIV3Schema` (`Value::Null` when it has none).
    pub schema: Option<Value>,
    /// For custom resources: the name of the CRD that registered the type.
    pub crd: Option<String>,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this is a custom resource (registered by a CRD).
    pub fn is_custom(&self) -> bool {
        self.crd.is_some()
    }

    /// The storage key shared by every version of the same resource.
    pub fn storage_key(&self) -> (String, String) {
        (self.group.clone(), self.plural.clone())
    }
}

const SPEC_STATUS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];
const SPEC_ONLY: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const CONFIGMAP: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "data",
    "binaryData",
    "immutable",
];
const SECRET: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "data",
    "stringData",
    "type",
    "immutable",
];
const SERVICE_ACCOUNT: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "secrets",
    "imagePullSecrets",
    "automountServiceAccountToken",
];
const ROLE: &[&str] = &["apiVersion", "kind", "metadata", "rules"];
const CLUSTER_ROLE: &[&str] = &["apiVersion", "kind", "metadata", "rules", "aggregationRule"];
const BINDING: &[&str] = &["apiVersion", "kind", "metadata", "subjects", "roleRef"];
const PRIORITY_CLASS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "value",
    "globalDefault",
    "description",
    "preemptionPolicy",
];
const STORAGE_CLASS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "provisioner",
    "parameters",
    "reclaimPolicy",
    "mountOptions",
    "allowVolumeExpansion",
    "volumeBindingMode",
    "allowedTopologies",
];

const ENDPOINTS: &[&str] = &["apiVersion", "kind", "metadata", "subsets"];

/// Built-in table. Columns: apiVersion, kind, resource (plural), short names, namespaced,
/// status subresource, generation, categories, top-level fields.
#[rustfmt::skip]
#[allow(clippy::type_complexity)]
const BUILT_IN: &[(&str, &str, &str, &[&str], bool, bool, bool, &[&str], &[&str])] = &[
    ("v1",                            "Namespace",                 "namespaces",                 &["ns"],           false,  true,   false,  &[],                  SPEC_STATUS),
    ("v1",                            "ConfigMap",                 "configmaps",                 &["cm"],           true,   false,  false,  &[],                  CONFIGMAP),
    ("v1",                            "Secret",                    "secrets",                    &[],               true,   false,  false,  &[],                  SECRET),
    ("v1",                            "Service",                   "services",                   &["svc"],          true,   true,   false,  &["all"],             SPEC_STATUS),
    ("v1",                            "ServiceAccount",            "serviceaccounts",            &["sa"],           true,   false,  false,  &[],                  SERVICE_ACCOUNT),
    ("v1",                            "Pod",                       "pods",                       &["po"],           true,   true,   false,  &["all"],             SPEC_STATUS),
    ("v1",                            "PersistentVolumeClaim",     "persistentvolumeclaims",     &["pvc"],          true,   true,   false,  &[],                  SPEC_STATUS),
    ("v1",                            "Endpoints",                 "endpoints",                  &["ep"],           true,   false,  false,  &[],                  ENDPOINTS),
    ("v1",                            "ReplicationController",     "replicationcontrollers",     &["rc"],           true,   true,   true,   &["all"],             SPEC_STATUS),
    ("v1",                            "PersistentVolume",          "persistentvolumes",          &["pv"],           false,  true,   false,  &[],                  SPEC_STATUS),
    ("v1",                            "ResourceQuota",             "resourcequotas",             &["quota"],        true,   true,   false,  &[],                  SPEC_STATUS),
    ("v1",                            "LimitRange",                "limitranges",                &["limits"],       true,   false,  false,  &[],                  SPEC_ONLY),
    ("apps/v1",                       "Deployment",                "deployments",                &["deploy"],       true,   true,   true,   &["all"],             SPEC_STATUS),
    ("apps/v1",                       "StatefulSet",               "statefulsets",               &["sts"],          true,   true,   true,   &["all"],             SPEC_STATUS),
    ("apps/v1",                       "DaemonSet",                 "daemonsets",                 &["ds"],           true,   true,   true,   &["all"],             SPEC_STATUS),
    ("apps/v1",                       "ReplicaSet",                "replicasets",                &["rs"],           true,   true,   true,   &["all"],             SPEC_STATUS),
    ("batch/v1",                      "Job",                       "jobs",                       &[],               true,   true,   true,   &["all"],             SPEC_STATUS),
    ("batch/v1",                      "CronJob",                   "cronjobs",                   &["cj"],           true,   true,   true,   &["all"],             SPEC_STATUS),
    ("networking.k8s.io/v1",          "NetworkPolicy",             "networkpolicies",            &["netpol"],       true,   false,  true,   &[],                  SPEC_ONLY),
    ("networking.k8s.io/v1",          "Ingress",                   "ingresses",                  &["ing"],          true,   true,   true,   &[],                  SPEC_STATUS),
    ("networking.k8s.io/v1",          "IngressClass",              "ingressclasses",             &[],               false,  false,  false,  &[],                  SPEC_ONLY),
    ("policy/v1",                     "PodDisruptionBudget",       "poddisruptionbudgets",       &["pdb"],          true,   true,   true,   &[],                  SPEC_STATUS),
    ("autoscaling/v2",                "HorizontalPodAutoscaler",   "horizontalpodautoscalers",   &["hpa"],          true,   true,   false,  &["all"],             SPEC_STATUS),
    ("rbac.authorization.k8s.io/v1",  "Role",                      "roles",                      &[],               true,   false,  false,  &[],                  ROLE),
    ("rbac.authorization.k8s.io/v1",  "RoleBinding",               "rolebindings",               &[],               true,   false,  false,  &[],                  BINDING),
    ("rbac.authorization.k8s.io/v1",  "ClusterRole",               "clusterroles",               &[],               false,  false,  false,  &[],                  CLUSTER_ROLE),
    ("rbac.authorization.k8s.io/v1",  "ClusterRoleBinding",        "clusterrolebindings",        &[],               false,  false,  false,  &[],                  BINDING),
    ("scheduling.k8s.io/v1",          "PriorityClass",             "priorityclasses",            &["pc"],           false,  false,  false,  &[],                  PRIORITY_CLASS),
    ("storage.k8s.io/v1",             "StorageClass",              "storageclasses",             &["sc"],           false,  false,  false,  &[],                  STORAGE_CLASS),
    ("apiextensions.k8s.io/v1",       "CustomResourceDefinition",  "customresourcedefinitions",  &["crd", "crds"],  false,  true,   true,   &["api-extensions"],  SPEC_STATUS),
];

/// Everything the double serves, in discovery order.
#[derive(Debug, Clone)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Default for Registry {
    fn default() -> Self {
        let types = BUILT_IN
            .iter()
            .map(
                |&(api_version, kind, plural, short, namespaced, status, generation, cats, top)| {
                    let (group, version) = match api_version.split_once('/') {
                        Some((g, v)) => (g.to_string(), v.to_string()),
                        None => (String::new(), api_version.to_string()),
                    };
                    ResourceType {
                        group,
                        version,
                        kind: kind.into(),
                        plural: plural.into(),
                        singular: kind.to_ascii_lowercase(),
                        short_names: short.iter().map(|s| s.to_string()).collect(),
                        categories: cats.iter().map(|s| s.to_string()).collect(),
                        namespaced,
                        status,
                        generation,
                        top_fields: Some(top),
                        schema: None,
                        crd: None,
                    }
                },
            )
            .collect();
        Registry { types }
    }
}

/// A group and its served versions, preferred first.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Group name, empty for the core group.
    pub name: String,
    /// Served versions, preferred first.
    pub versions: Vec<String>,
}

impl Registry {
    /// Every served type.
    pub fn types(&self) -> &[ResourceType] {
        &self.types
    }

    /// The type served at `group/version` under `plural`.
    pub fn by_resource(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// The type of `apiVersion`/`kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.kind == kind && t.api_version() == api_version)
    }

    /// Groups in discovery order (core first, as `""`), each with its versions, preferred
    /// first.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        for t in &self.types {
            match groups.iter_mut().find(|g| g.name == t.group) {
                Some(g) if !g.versions.contains(&t.version) => g.versions.push(t.version.clone()),
                Some(_) => {}
                None => groups.push(Group {
                    name: t.group.clone(),
                    versions: vec![t.version.clone()],
                }),
            }
        }
        for g in &mut groups {
            g.versions
                .sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        }
        groups
    }

    /// Types served at `group/version`.
    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceType> + 'a {
        self.types
            .iter()
            .filter(move |t| t.group == group && t.version == version)
    }

    /// Registers (or re-registers) the types a CRD serves; returns an error message when the
    /// CRD is unusable.
    pub fn register_crd(&mut self, crd: &Value) -> Result<(), String> {
        let types = crd_types(crd)?;
        let name = crd["metadata"]["name"].as_str().unwrap_or_default();
        self.unregister_crd(name);
        if let Some(clash) = types.iter().find(|t| {
            self.types
                .iter()
                .any(|o| o.group == t.group && o.version == t.version && o.plural == t.plural)
        }) {
            return Err(format!(
                "{}/{} {} is already served",
                clash.group, clash.version, clash.plural
            ));
        }
        self.types.extend(types);
        Ok(())
    }

    /// Removes the types a CRD registered.
    pub fn unregister_crd(&mut self, name: &str) {
        self.types.retain(|t| t.crd.as_deref() != Some(name));
    }
}

/// The types a CRD object describes (one per served version).
pub fn crd_types(crd: &Value) -> Result<Vec<ResourceType>, String> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let names = &spec["names"];
    let kind = names["kind"].as_str().unwrap_or_default();
    let plural = names["plural"].as_str().unwrap_or_default();
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return Err("spec.group, spec.names.kind and spec.names.plural are required".into());
    }
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    if name != format!("{plural}.{group}") {
        return Err(format!(
            "metadata.name: Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"
        ));
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let singular = names["singular"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let mut out = Vec::new();
    for v in spec["versions"].as_array().into_iter().flatten() {
        if v["served"] == Value::Bool(false) {
            continue;
        }
        let Some(version) = v["name"].as_str() else {
            continue;
        };
        out.push(ResourceType {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: singular.clone(),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            namespaced: spec["scope"].as_str() != Some("Cluster"),
            status: v["subresources"]["status"].is_object(),
            generation: true,
            top_fields: None,
            schema: Some(v["schema"]["openAPIV3Schema"].clone()),
            crd: Some(name.to_string()),
        });
    }
    if out.is_empty() {
        return Err("spec.versions: Required value: must have at least one served version".into());
    }
    Ok(out)
}

/// Kubernetes version priority: GA over beta over alpha, then higher numbers first; other
/// strings last.
pub fn version_priority(v: &str) -> (u8, u64, u64) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u64>() else {
        return (0, 0, 0);
    };
    let tail = &rest[digits.len()..];
    let (level, rest) = if tail.is_empty() {
        return (3, major, 0);
    } else if let Some(r) = tail.strip_prefix("beta") {
        (2, r)
    } else if let Some(r) = tail.strip_prefix("alpha") {
        (1, r)
    } else {
        return (0, 0, 0);
    };
    match rest.parse::<u64>() {
        Ok(minor) => (level, major, minor),
        Err(_) => (0, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn built_ins_resolve_both_ways() {
        let r = Registry::default();
        let d = r.by_resource("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert!(d.namespaced && d.status && d.generation);
        assert_eq!(r.by_kind("v1", "Namespace").unwrap().plural, "namespaces");
        assert_eq!(r.groups()[0].name, "");
    }

    #[test]
    fn a_crd_registers_its_served_versions() {
        let mut r = Registry::default();
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
                    {"name": "v1alpha1", "served": false}
                ]}
        });
        r.register_crd(&crd).unwrap();
        let g = r
            .groups()
            .into_iter()
            .find(|g| g.name == "example.com")
            .unwrap();
        assert_eq!(g.versions, vec!["v1", "v1beta1"]);
        assert!(r.by_kind("example.com/v1", "Widget").unwrap().status);
        r.unregister_crd("widgets.example.com");
        assert!(r.by_kind("example.com/v1", "Widget").is_none());
    }

    #[test]
    fn version_priority_orders_like_kubernetes() {
        let mut v = vec!["v1alpha1", "v2", "v1beta2", "v1", "v1beta1", "foo"];
        v.sort_by_key(|s| std::cmp::Reverse(version_priority(s)));
        assert_eq!(v, vec!["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }
}
