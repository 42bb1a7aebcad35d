//! Where pods live in workload objects, and a view over one pod spec and its containers with the
//! field paths findings need. Checks read pods only through this module.

use crate::resource::{field, Resource};
use serde_json::{Map, Value};

/// One pod spec inside an object.
pub struct PodView<'a> {
    pub object: &'a Resource,
    /// Path of the pod spec in the object, e.g. `spec.template.spec`.
    pub path: &'static str,
    pub spec: &'a Map<String, Value>,
    /// The pod's metadata (template metadata for workloads), if any.
    pub metadata: Option<&'a Map<String, Value>>,
    /// Every container, found once: most checks look at all of them.
    containers: Vec<ContainerView<'a>>,
}

/// One container of a pod (a few references: cheap to copy). Its path (e.g.
/// `spec.template.spec.containers[0]`) is only built when a finding needs it: checks look at
/// every container, findings are rare.
#[derive(Clone, Copy)]
pub struct ContainerView<'a> {
    pod_path: &'static str,
    list: &'static str,
    index: usize,
    pub kind: ContainerKind,
    pub spec: &'a Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Regular,
    Init,
    Ephemeral,
}

impl ContainerView<'_> {
    pub fn name(&self) -> &str {
        field(self.spec, "name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `securityContext`, if any.
    pub fn security(&self) -> Option<&Map<String, Value>> {
        obj(field(self.spec, "securityContext"))
    }

    /// The container's path, e.g. `spec.template.spec.containers[0]`.
    pub fn path(&self) -> String {
        format!("{}.{}[{}]", self.pod_path, self.list, self.index)
    }

    /// A field path under this container.
    pub fn at(&self, rest: &str) -> String {
        format!("{}.{}[{}].{rest}", self.pod_path, self.list, self.index)
    }
}

/// The map at `value`, if it is one.
pub fn obj(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value.and_then(Value::as_object)
}

/// Follows a dotted path of map keys.
pub fn get<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    // By bytes (`memchr`): `split('.')` costs a char searcher per call, and the checks call
    // this for every field they read.
    let mut cur = map;
    let mut rest = path;
    loop {
        match memchr::memchr(b'.', rest.as_bytes()) {
            Some(i) => {
                cur = field(cur, &rest[..i])?.as_object()?;
                rest = &rest[i + 1..];
            }
            None => return field(cur, rest),
        }
    }
}

/// The strings of the list at `value`, with their indices (non-strings skipped).
pub fn strings(value: Option<&Value>) -> Vec<(usize, &str)> {
    match value {
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_str().map(|s| (i, s)))
            .collect(),
        _ => Vec::new(),
    }
}

pub fn get_str<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a str> {
    get(map, path).and_then(Value::as_str)
}

pub fn get_bool(map: &Map<String, Value>, path: &str) -> Option<bool> {
    get(map, path).and_then(Value::as_bool)
}

/// The pod spec path of a kind, for the kinds whose template path is known: core workloads and
/// operator resources that embed a pod template (Argo Rollouts, KEDA ScaledJobs).
fn pod_path(api_version: &str, kind: &str) -> Option<&'static str> {
    match (api_version, kind) {
        ("v1", "Pod") => Some("spec"),
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch/v1", "Job")
        | ("v1", "ReplicationController")
        | ("v1", "PodTemplate") => Some("spec.template.spec"),
        ("batch/v1", "CronJob") => Some("spec.jobTemplate.spec.template.spec"),
        // Removed API versions of the same kinds: `stable-api-version` reports the version, and
        // the pod is still checked, so that moving to the served version shows nothing new.
        ("extensions/v1beta1", "Deployment" | "DaemonSet" | "ReplicaSet")
        | ("apps/v1beta1", "Deployment" | "StatefulSet")
        | ("apps/v1beta2", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            Some("spec.template.spec")
        }
        ("batch/v1beta1" | "batch/v2alpha1", "CronJob") => {
            Some("spec.jobTemplate.spec.template.spec")
        }
        // Operator custom resources whose pod template path is known.
        (api, "Rollout") if api.starts_with("argoproj.io/") => Some("spec.template.spec"),
        // OpenShift's DeploymentConfig (deprecated since OpenShift 4.14, still served).
        // ... and as OpenShift 3 wrote it, in its legacy ungrouped `v1` API.
        ("apps.openshift.io/v1" | "v1", "DeploymentConfig") => Some("spec.template.spec"),
        (api, "ScaledJob") if api.starts_with("keda.sh/") => {
            Some("spec.jobTargetRef.template.spec")
        }
        _ => None,
    }
}

/// The pod in `object`, if it carries one.
pub fn pod_of(object: &Resource) -> Option<PodView<'_>> {
    let path = if object.kind() == "PodTemplate" {
        "template.spec"
    } else {
        pod_path(object.api_version(), object.kind())?
    };
    // The pod's template (or the Pod itself): its `spec` and `metadata` side by side.
    let template = match path.strip_suffix(".spec") {
        Some(parent) => get(&object.object, parent)?.as_object()?,
        None => &object.object,
    };
    let spec = field(template, "spec")?.as_object()?;
    let metadata = field(template, "metadata").and_then(Value::as_object);
    Some(PodView {
        object,
        path,
        spec,
        metadata,
        containers: containers_of(spec, path),
    })
}

/// Every container of the pod spec at `path`: regular, then init, then ephemeral.
fn containers_of<'a>(spec: &'a Map<String, Value>, path: &'static str) -> Vec<ContainerView<'a>> {
    let mut out = Vec::new();
    for (list_field, kind) in [
        ("containers", ContainerKind::Regular),
        ("initContainers", ContainerKind::Init),
        ("ephemeralContainers", ContainerKind::Ephemeral),
    ] {
        let Some(Value::Array(list)) = field(spec, list_field) else {
            continue;
        };
        for (i, c) in list.iter().enumerate() {
            if let Some(spec) = c.as_object() {
                out.push(ContainerView {
                    pod_path: path,
                    list: list_field,
                    index: i,
                    kind,
                    spec,
                });
            }
        }
    }
    out
}

impl<'a> PodView<'a> {
    /// Every container: regular, then init, then ephemeral.
    pub fn containers(&self) -> &[ContainerView<'a>] {
        &self.containers
    }

    /// The pod-level `securityContext`.
    pub fn security(&self) -> Option<&'a Map<String, Value>> {
        obj(field(self.spec, "securityContext"))
    }

    /// A field path under the pod spec.
    pub fn at(&self, rest: &str) -> String {
        format!("{}.{rest}", self.path)
    }

    /// Whether the pod declares `spec.os.name: windows` (exempt from Linux-only controls).
    pub fn is_windows(&self) -> bool {
        get_str(self.spec, "os.name") == Some("windows")
    }

    /// Labels of the pod (template labels for workloads).
    pub fn labels(&self) -> Option<&'a Map<String, Value>> {
        self.metadata.and_then(|m| obj(field(m, "labels")))
    }
}
