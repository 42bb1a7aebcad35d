//! Stable apply order for CLI output: what other objects depend on comes first.

use crate::resource::Resource;

/// Rank of a kind in apply order; unknown kinds (custom resources) go last.
fn rank(api_version: &str, kind: &str) -> u8 {
    let group = crate::resource::group_of(api_version);
    match kind {
        "Namespace" => 0,
        // Policies before what they judge (a parameter object may follow: parameterNotFoundAction
        // applies until it exists).
        "CustomResourceDefinition"
        | "ValidatingAdmissionPolicy"
        | "ValidatingAdmissionPolicyBinding" => 1,
        "PriorityClass" => 2,
        "ResourceQuota" | "LimitRange" => 3,
        "ServiceAccount" => 4,
        "ClusterRole" | "Role" => 5,
        "ClusterRoleBinding" | "RoleBinding" => 6,
        "ConfigMap" | "Secret" => 7,
        "StorageClass" | "PersistentVolume" | "PersistentVolumeClaim" => 8,
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "CronJob"
        | "Pod"
        | "ReplicationController" => 9,
        "Service" => 10,
        "HorizontalPodAutoscaler" | "PodDisruptionBudget" => 11,
        "Ingress" | "IngressClass" => 12,
        "NetworkPolicy" => 13,
        _ if group == "gateway.networking.k8s.io" => 12,
        _ if group.is_empty() || group.ends_with(".k8s.io") || !group.contains('.') => 14,
        _ => 15,
    }
}

/// Where an object goes in apply order: kind rank, namespace, kind, name. Objects with equal
/// keys keep their input order.
pub type Key = (u8, String, String, String);

/// The rank in apply order of `r`: the first part of its [`key`].
pub fn rank_of(r: &Resource) -> u8 {
    rank(r.api_version(), r.kind())
}

/// The apply-order key of `r`.
pub fn key(r: &Resource) -> Key {
    (
        rank_of(r),
        r.namespace().unwrap_or("").to_string(),
        r.kind().to_string(),
        r.name().to_string(),
    )
}

/// Sorts objects into apply order; ties by namespace, kind, name, then input order.
pub fn sort(objects: &mut [Resource]) {
    objects.sort_by_cached_key(key);
}
