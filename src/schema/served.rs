//! The served-API table: which built-in `apiVersion`/kind pairs each Kubernetes minor from 1.31
//! to 1.37 serves, which of them are deprecated, and what replaces those it does not serve. The
//! `stable-api-version` check judges objects against the target minor of the run with it.
//!
//! One row per API, like Pluto's `versions.yaml` (`deprecated-in`, `removed-in`,
//! `replacement-api`): the table of one minor is [`served`]`(minor)`, the rows whose range holds
//! it. GA and beta APIs only: alpha APIs are off unless a cluster turns them on, and a kind we do
//! not know is not judged. Beta APIs added since 1.24 are also off by default; "served" here
//! means the minor can serve them.
//!
//! Sources: the rows for 1.31-1.37 are the top-level kinds of the strict schemas of each minor
//! (`../shared/schemas/kubernetes/v1.3x`, from the Kubernetes OpenAPI via kubernetes-validate;
//! `tests/it/schemas.rs` checks the table against them whenever they are present). A beta version is
//! deprecated from the first minor that also serves a GA version of its kind (the Kubernetes
//! deprecation policy). The rows removed before 1.31 and their replacements are the "Removed APIs
//! by release" of the Deprecated API Migration Guide
//! (<https://kubernetes.io/docs/reference/using-api/deprecation-guide/>), which also gives the
//! one removal inside the range: `flowcontrol.apiserver.k8s.io/v1beta3` in 1.32.

use crate::types::KubernetesVersion;

/// A built-in API: one kind at one `apiVersion`, and the minors that serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    pub api_version: &'static str,
    /// The kind; `*` stands for every kind of `api_version` without a row of its own.
    pub kind: &'static str,
    /// The first minor that serves it; 31 means 1.31 or earlier, 0 an API removed before 1.31.
    pub since: u8,
    /// The first minor that no longer serves it; `None` while the newest still does.
    pub removed: Option<u8>,
    /// The first minor that serves it deprecated.
    pub deprecated: Option<u8>,
    /// What to use instead, when it is not another version of the same kind in this table
    /// (the kind moved group, or its API was dropped for something else).
    pub replacement: Option<&'static str>,
}

/// A row served by every minor from `since` until before `removed`.
const fn row(api_version: &'static str, kind: &'static str, since: u8, removed: Option<u8>) -> Api {
    Api {
        api_version,
        kind,
        since,
        removed,
        deprecated: None,
        replacement: None,
    }
}

/// A row for an API that 1.`removed` stopped serving, before the supported range.
const fn gone(api_version: &'static str, kind: &'static str, removed: u8) -> Api {
    row(api_version, kind, 0, Some(removed))
}

impl Api {
    const fn deprecated(self, minor: u8) -> Api {
        Api {
            deprecated: Some(minor),
            ..self
        }
    }

    const fn instead(self, replacement: &'static str) -> Api {
        Api {
            replacement: Some(replacement),
            ..self
        }
    }

    /// Whether 1.`minor` serves it.
    pub fn served_by(&self, minor: KubernetesVersion) -> bool {
        let m = minor.minor();
        self.since <= m && self.removed.is_none_or(|r| m < r)
    }

    /// Whether 1.`minor` serves it deprecated.
    pub fn deprecated_in(&self, minor: KubernetesVersion) -> bool {
        self.served_by(minor) && self.deprecated.is_some_and(|d| d <= minor.minor())
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &'static str {
        group_of(self.api_version)
    }
}

/// Pod Security Admission replaces PodSecurityPolicy; there is no apiVersion to move to.
const PSA: &str = "Pod Security Admission (pod-security.kubernetes.io/* namespace labels)";

/// Every row: GA and beta APIs of 1.31-1.37, then the APIs removed before 1.31.
#[rustfmt::skip]
pub static TABLE: &[Api] = &[
    // GA and beta APIs of 1.31-1.37 (the strict schemas of each minor).
    // core
    row("v1", "Binding", 31, None),
    row("v1", "ComponentStatus", 31, None),
    row("v1", "ConfigMap", 31, None),
    row("v1", "Endpoints", 31, None),
    row("v1", "Event", 31, None),
    row("v1", "LimitRange", 31, None),
    row("v1", "Namespace", 31, None),
    row("v1", "Node", 31, None),
    row("v1", "PersistentVolume", 31, None),
    row("v1", "PersistentVolumeClaim", 31, None),
    row("v1", "Pod", 31, None),
    row("v1", "PodTemplate", 31, None),
    row("v1", "ReplicationController", 31, None),
    row("v1", "ResourceQuota", 31, None),
    row("v1", "Secret", 31, None),
    row("v1", "Service", 31, None),
    row("v1", "ServiceAccount", 31, None),
    // admissionregistration.k8s.io
    row("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy", 36, None),
    row("admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicy", 34, None).deprecated(36),
    row("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding", 36, None),
    row("admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicyBinding", 34, None).deprecated(36),
    row("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", 31, None),
    row("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", 31, None),
    row("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicy", 31, Some(34)).deprecated(31),
    row("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", 31, None),
    row("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicyBinding", 31, Some(34)).deprecated(31),
    row("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", 31, None),
    // apiextensions.k8s.io
    row("apiextensions.k8s.io/v1", "CustomResourceDefinition", 31, None),
    // apiregistration.k8s.io
    row("apiregistration.k8s.io/v1", "APIService", 31, None),
    // apps
    row("apps/v1", "ControllerRevision", 31, None),
    row("apps/v1", "DaemonSet", 31, None),
    row("apps/v1", "Deployment", 31, None),
    row("apps/v1", "ReplicaSet", 31, None),
    row("apps/v1", "StatefulSet", 31, None),
    // authentication.k8s.io
    row("authentication.k8s.io/v1", "SelfSubjectReview", 31, None),
    row("authentication.k8s.io/v1beta1", "SelfSubjectReview", 31, Some(33)).deprecated(31),
    row("authentication.k8s.io/v1", "TokenRequest", 31, None),
    row("authentication.k8s.io/v1", "TokenReview", 31, None),
    // authorization.k8s.io
    row("authorization.k8s.io/v1", "LocalSubjectAccessReview", 31, None),
    row("authorization.k8s.io/v1", "SelfSubjectAccessReview", 31, None),
    row("authorization.k8s.io/v1", "SelfSubjectRulesReview", 31, None),
    row("authorization.k8s.io/v1", "SubjectAccessReview", 31, None),
    // autoscaling
    row("autoscaling/v1", "HorizontalPodAutoscaler", 31, None),
    row("autoscaling/v2", "HorizontalPodAutoscaler", 31, None),
    row("autoscaling/v1", "Scale", 31, None),
    // batch
    row("batch/v1", "CronJob", 31, None),
    row("batch/v1", "Job", 31, None),
    // certificates.k8s.io
    row("certificates.k8s.io/v1", "CertificateSigningRequest", 31, None),
    row("certificates.k8s.io/v1", "ClusterTrustBundle", 37, None),
    row("certificates.k8s.io/v1beta1", "ClusterTrustBundle", 33, None).deprecated(37),
    row("certificates.k8s.io/v1", "PodCertificateRequest", 37, None),
    row("certificates.k8s.io/v1beta1", "PodCertificateRequest", 35, None).deprecated(37),
    // coordination.k8s.io
    row("coordination.k8s.io/v1", "Lease", 31, None),
    row("coordination.k8s.io/v1beta1", "LeaseCandidate", 33, None),
    // discovery.k8s.io
    row("discovery.k8s.io/v1", "EndpointSlice", 31, None),
    // events.k8s.io
    row("events.k8s.io/v1", "Event", 31, None),
    // flowcontrol.apiserver.k8s.io
    row("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", 31, None),
    row("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", 31, Some(32)).deprecated(31),
    row("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration", 31, None),
    row("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", 31, Some(32)).deprecated(31),
    // networking.k8s.io
    row("networking.k8s.io/v1", "IPAddress", 33, None),
    row("networking.k8s.io/v1beta1", "IPAddress", 31, Some(37)).deprecated(33),
    row("networking.k8s.io/v1", "Ingress", 31, None),
    row("networking.k8s.io/v1", "IngressClass", 31, None),
    row("networking.k8s.io/v1", "NetworkPolicy", 31, None),
    row("networking.k8s.io/v1", "ServiceCIDR", 33, None),
    row("networking.k8s.io/v1beta1", "ServiceCIDR", 31, Some(37)).deprecated(33),
    // node.k8s.io
    row("node.k8s.io/v1", "RuntimeClass", 31, None),
    // policy
    row("policy/v1", "Eviction", 31, None),
    row("policy/v1", "PodDisruptionBudget", 31, None),
    // rbac.authorization.k8s.io
    row("rbac.authorization.k8s.io/v1", "ClusterRole", 31, None),
    row("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", 31, None),
    row("rbac.authorization.k8s.io/v1", "Role", 31, None),
    row("rbac.authorization.k8s.io/v1", "RoleBinding", 31, None),
    // resource.k8s.io
    row("resource.k8s.io/v1", "DeviceClass", 34, None),
    row("resource.k8s.io/v1beta1", "DeviceClass", 32, None).deprecated(34),
    row("resource.k8s.io/v1beta2", "DeviceClass", 33, None).deprecated(34),
    row("resource.k8s.io/v1", "DeviceTaintRule", 37, None),
    row("resource.k8s.io/v1beta2", "DeviceTaintRule", 36, None).deprecated(37),
    row("resource.k8s.io/v1", "ResourceClaim", 34, None),
    row("resource.k8s.io/v1beta1", "ResourceClaim", 32, None).deprecated(34),
    row("resource.k8s.io/v1beta2", "ResourceClaim", 33, None).deprecated(34),
    row("resource.k8s.io/v1", "ResourceClaimTemplate", 34, None),
    row("resource.k8s.io/v1beta1", "ResourceClaimTemplate", 32, None).deprecated(34),
    row("resource.k8s.io/v1beta2", "ResourceClaimTemplate", 33, None).deprecated(34),
    row("resource.k8s.io/v1", "ResourceSlice", 34, None),
    row("resource.k8s.io/v1beta1", "ResourceSlice", 32, None).deprecated(34),
    row("resource.k8s.io/v1beta2", "ResourceSlice", 33, None).deprecated(34),
    // scheduling.k8s.io
    row("scheduling.k8s.io/v1beta1", "PodGroup", 37, None),
    row("scheduling.k8s.io/v1", "PriorityClass", 31, None),
    row("scheduling.k8s.io/v1beta1", "Workload", 37, None),
    // storage.k8s.io
    row("storage.k8s.io/v1", "CSIDriver", 31, None),
    row("storage.k8s.io/v1", "CSINode", 31, None),
    row("storage.k8s.io/v1", "CSIStorageCapacity", 31, None),
    row("storage.k8s.io/v1", "StorageClass", 31, None),
    row("storage.k8s.io/v1", "VolumeAttachment", 31, None),
    row("storage.k8s.io/v1", "VolumeAttributesClass", 34, None),
    row("storage.k8s.io/v1beta1", "VolumeAttributesClass", 31, Some(37)).deprecated(34),
    // storagemigration.k8s.io
    row("storagemigration.k8s.io/v1", "StorageVersionMigration", 37, None),
    row("storagemigration.k8s.io/v1beta1", "StorageVersionMigration", 35, None).deprecated(37),
    // Removed before 1.31 (Deprecated API Migration Guide). A kind row wins over the `*` row of
    // its apiVersion, so the beta kinds still served above keep their own status.
    gone("extensions/v1beta1", "Deployment", 16).instead("apps/v1"),
    gone("extensions/v1beta1", "DaemonSet", 16).instead("apps/v1"),
    gone("extensions/v1beta1", "ReplicaSet", 16).instead("apps/v1"),
    gone("extensions/v1beta1", "NetworkPolicy", 16).instead("networking.k8s.io/v1"),
    gone("extensions/v1beta1", "PodSecurityPolicy", 16).instead(PSA),
    gone("extensions/v1beta1", "Ingress", 22).instead("networking.k8s.io/v1"),
    gone("extensions/v1beta1", "*", 22).instead("the kind's current API group"),
    gone("apps/v1beta1", "*", 16).instead("apps/v1"),
    gone("apps/v1beta2", "*", 16).instead("apps/v1"),
    gone("admissionregistration.k8s.io/v1beta1", "*", 22).instead("admissionregistration.k8s.io/v1"),
    gone("apiextensions.k8s.io/v1beta1", "*", 22).instead("apiextensions.k8s.io/v1"),
    gone("apiregistration.k8s.io/v1beta1", "*", 22).instead("apiregistration.k8s.io/v1"),
    gone("authentication.k8s.io/v1beta1", "*", 22).instead("authentication.k8s.io/v1"),
    gone("authorization.k8s.io/v1beta1", "*", 22).instead("authorization.k8s.io/v1"),
    gone("certificates.k8s.io/v1beta1", "CertificateSigningRequest", 22),
    gone("coordination.k8s.io/v1beta1", "*", 22).instead("coordination.k8s.io/v1"),
    gone("networking.k8s.io/v1beta1", "*", 22).instead("networking.k8s.io/v1"),
    gone("rbac.authorization.k8s.io/v1beta1", "*", 22).instead("rbac.authorization.k8s.io/v1"),
    // Alpha, not in the guide: gone by 1.23 at the latest; the exact minor matters to no target.
    gone("rbac.authorization.k8s.io/v1alpha1", "*", 22).instead("rbac.authorization.k8s.io/v1"),
    gone("scheduling.k8s.io/v1beta1", "*", 22).instead("scheduling.k8s.io/v1"),
    gone("storage.k8s.io/v1beta1", "*", 22).instead("storage.k8s.io/v1"),
    gone("storage.k8s.io/v1beta1", "CSIStorageCapacity", 27),
    // Alpha, not in the guide (CronJob went GA in 1.21).
    gone("batch/v2alpha1", "*", 21).instead("batch/v1"),
    gone("batch/v1beta1", "*", 25).instead("batch/v1"),
    gone("discovery.k8s.io/v1beta1", "*", 25).instead("discovery.k8s.io/v1"),
    gone("events.k8s.io/v1beta1", "*", 25).instead("events.k8s.io/v1"),
    gone("node.k8s.io/v1beta1", "*", 25).instead("node.k8s.io/v1"),
    gone("policy/v1beta1", "PodSecurityPolicy", 25).instead(PSA),
    gone("policy/v1beta1", "*", 25).instead("policy/v1"),
    gone("autoscaling/v2beta1", "*", 25).instead("autoscaling/v2"),
    gone("autoscaling/v2beta2", "*", 26).instead("autoscaling/v2"),
    gone("flowcontrol.apiserver.k8s.io/v1beta1", "*", 26).instead("flowcontrol.apiserver.k8s.io/v1"),
    gone("flowcontrol.apiserver.k8s.io/v1beta2", "*", 29).instead("flowcontrol.apiserver.k8s.io/v1"),
];

/// What a minor makes of an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Served and not deprecated.
    Current,
    /// Served, deprecated; `instead` is the API to move to.
    Deprecated { instead: Option<&'static str> },
    /// Not served any more: the minor 1.`removed` dropped it.
    Removed {
        removed: u8,
        instead: Option<&'static str>,
    },
    /// Not served yet: 1.`since` is the first minor that serves it.
    NotYet {
        since: u8,
        instead: Option<&'static str>,
    },
    /// Not in the table (a custom resource, an alpha API, a kind we do not know).
    Unknown,
}

/// The group of an `apiVersion` (`""` for `v1`).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The row of (`api_version`, `kind`): its own, else the `*` row of its apiVersion.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static Api> {
    let of = |k: &str| {
        TABLE
            .iter()
            .find(|a| a.api_version == api_version && a.kind == k)
    };
    of(kind).or_else(|| of("*"))
}

/// What 1.`minor` makes of `kind` at `api_version`.
pub fn verdict(api_version: &str, kind: &str, minor: KubernetesVersion) -> Verdict {
    let Some(api) = lookup(api_version, kind) else {
        return Verdict::Unknown;
    };
    let instead = || api.replacement.or_else(|| successor(api, kind, minor));
    if api.served_by(minor) {
        if api.deprecated_in(minor) {
            Verdict::Deprecated { instead: instead() }
        } else {
            Verdict::Current
        }
    } else if api.since > minor.minor() {
        Verdict::NotYet {
            since: api.since,
            instead: instead(),
        }
    } else {
        Verdict::Removed {
            removed: api.removed.unwrap_or(0),
            instead: instead(),
        }
    }
}

/// The apiVersion to use for `kind` of `api`'s group in 1.`minor`: the most stable version
/// served and not deprecated there (GA before beta, then the highest version).
fn successor(api: &Api, kind: &str, minor: KubernetesVersion) -> Option<&'static str> {
    TABLE
        .iter()
        .filter(|a| a.kind == kind && a.group() == api.group() && a.api_version != api.api_version)
        .filter(|a| a.served_by(minor) && !a.deprecated_in(minor))
        .max_by_key(|a| version_rank(a.api_version))
        .map(|a| a.api_version)
}

/// Orders Kubernetes API versions: `v1alpha1` < `v1beta1` < `v1beta2` < `v1` < `v2beta1` < `v2`.
fn version_rank(api_version: &str) -> (u32, u8, u32) {
    let version = api_version.rsplit('/').next().unwrap_or(api_version);
    let digits = |s: &str| s.parse::<u32>().unwrap_or(0);
    let v = version.trim_start_matches('v');
    for (word, level) in [("alpha", 0), ("beta", 1)] {
        if let Some((major, minor)) = v.split_once(word) {
            return (digits(major), level, digits(minor));
        }
    }
    (digits(v), 2, 0)
}

/// The table of 1.`minor`: every (apiVersion, kind) it serves (no `*` rows), and whether
/// deprecated.
pub fn served(minor: KubernetesVersion) -> impl Iterator<Item = (&'static Api, bool)> {
    TABLE
        .iter()
        .filter(move |a| a.kind != "*" && a.served_by(minor))
        .map(move |a| (a, a.deprecated_in(minor)))
}

/// The minors this table describes, oldest first: the supported minors that serve at least
/// the core API (`kubectl nixernetes version` lists them).
pub fn minors() -> impl Iterator<Item = KubernetesVersion> {
    KubernetesVersion::ALL
        .into_iter()
        .filter(|&m| served(m).any(|(a, _)| a.api_version == "v1" && a.kind == "Pod"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_describes_every_supported_minor() {
        assert_eq!(minors().collect::<Vec<_>>(), KubernetesVersion::ALL);
    }

    fn at(minor: u8) -> KubernetesVersion {
        KubernetesVersion::from_minor(minor).unwrap()
    }

    #[test]
    fn flowcontrol_v1beta3_is_served_by_1_31_only() {
        assert_eq!(
            verdict("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", at(31)),
            Verdict::Deprecated {
                instead: Some("flowcontrol.apiserver.k8s.io/v1")
            }
        );
        assert_eq!(
            verdict("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", at(32)),
            Verdict::Removed {
                removed: 32,
                instead: Some("flowcontrol.apiserver.k8s.io/v1")
            }
        );
    }

    #[test]
    fn beta_apis_turn_deprecated_when_their_ga_comes() {
        let cidr = |m| verdict("networking.k8s.io/v1beta1", "ServiceCIDR", at(m));
        assert_eq!(cidr(32), Verdict::Current);
        assert_eq!(
            cidr(33),
            Verdict::Deprecated {
                instead: Some("networking.k8s.io/v1")
            }
        );
        assert_eq!(
            cidr(37),
            Verdict::Removed {
                removed: 37,
                instead: Some("networking.k8s.io/v1")
            }
        );
        // The GA version is not there yet in 1.31: the beta one is what to use.
        assert_eq!(
            verdict("networking.k8s.io/v1", "ServiceCIDR", at(31)),
            Verdict::NotYet {
                since: 33,
                instead: Some("networking.k8s.io/v1beta1")
            }
        );
        // Beta-only kinds are current.
        assert_eq!(
            verdict("coordination.k8s.io/v1beta1", "LeaseCandidate", at(35)),
            Verdict::Current
        );
        assert_eq!(
            verdict(
                "admissionregistration.k8s.io/v1beta1",
                "MutatingAdmissionPolicy",
                at(35)
            ),
            Verdict::Current
        );
    }

    #[test]
    fn old_apis_name_their_replacement() {
        for (av, kind, to) in [
            ("extensions/v1beta1", "Deployment", "apps/v1"),
            ("extensions/v1beta1", "Ingress", "networking.k8s.io/v1"),
            ("policy/v1beta1", "PodDisruptionBudget", "policy/v1"),
            ("policy/v1beta1", "PodSecurityPolicy", PSA),
            ("batch/v1beta1", "CronJob", "batch/v1"),
            ("apps/v1beta2", "StatefulSet", "apps/v1"),
            (
                "certificates.k8s.io/v1beta1",
                "CertificateSigningRequest",
                "certificates.k8s.io/v1",
            ),
            (
                "storage.k8s.io/v1beta1",
                "CSIStorageCapacity",
                "storage.k8s.io/v1",
            ),
            (
                "coordination.k8s.io/v1beta1",
                "Lease",
                "coordination.k8s.io/v1",
            ),
        ] {
            for m in KubernetesVersion::ALL {
                match verdict(av, kind, m) {
                    Verdict::Removed { instead, .. } => {
                        assert_eq!(instead, Some(to), "{kind} {av}")
                    }
                    other => panic!("{kind} {av} in {m}: {other:?}"),
                }
            }
        }
        assert_eq!(
            verdict("cert-manager.io/v1", "Certificate", at(35)),
            Verdict::Unknown
        );
        assert_eq!(verdict("v1", "Gadget", at(35)), Verdict::Unknown);
    }

    #[test]
    fn every_ga_api_of_the_oldest_minor_is_served_by_every_minor() {
        // What makes the oldest minor a safe default target.
        for (api, _) in served(KubernetesVersion::OLDEST) {
            if version_rank(api.api_version).1 == 2 {
                assert!(
                    KubernetesVersion::ALL.iter().all(|m| api.served_by(*m)),
                    "{} {}",
                    api.kind,
                    api.api_version
                );
            }
        }
    }

    #[test]
    fn rows_are_unique_and_ranges_sound() {
        for (i, a) in TABLE.iter().enumerate() {
            assert!(
                !TABLE[..i]
                    .iter()
                    .any(|b| b.api_version == a.api_version && b.kind == a.kind),
                "{} {} twice",
                a.kind,
                a.api_version
            );
            if let Some(r) = a.removed {
                assert!(a.since < r, "{} {}", a.kind, a.api_version);
            }
            if let Some(d) = a.deprecated {
                assert!(
                    d >= a.since && a.removed.is_none_or(|r| d < r),
                    "{} {}",
                    a.kind,
                    a.api_version
                );
            }
            assert!(a.since == 0 || (31..=37).contains(&a.since));
        }
    }

    #[test]
    fn versions_order_by_stability() {
        let mut v =
            ["v1", "v1beta2", "v2", "v1alpha1", "v2beta1", "v1beta1"].map(|s| (version_rank(s), s));
        v.sort();
        assert_eq!(
            v.map(|(_, s)| s),
            ["v1alpha1", "v1beta1", "v1beta2", "v1", "v2beta1", "v2"]
        );
    }
}
