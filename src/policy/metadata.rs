//! Checks on object identity and metadata: ids 35-36 of the check table (`explicit-namespace`,
//! `stable-api-version`) and our `compliance-labels`. Each reads one object at a time. The
//! compliance label keys are `types::compliance::LABEL_KEYS`, the ones the tool stamps. Whether
//! a missing label is an error is the level gating's business, not this file's.

use super::network::labels_path;
use super::pod::pod_of;
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::{is_cluster_scoped, Resource};
use crate::types::compliance::LABEL_KEYS;
use serde_json::{Map, Value};

pub const EXPLICIT_NAMESPACE: CheckDef = CheckDef {
    id: "explicit-namespace",
    summary: "namespaced objects set metadata.namespace, and not to default",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Yes,
    scope: Scope::Object(explicit_namespace),
};

pub const STABLE_API_VERSION: CheckDef = CheckDef {
    id: "stable-api-version",
    summary: "apiVersion is neither removed nor deprecated in the target Kubernetes version",
    pss: None,
    severity: Severity::Error,
    fix: Fix::Yes,
    scope: Scope::Object(stable_api_version),
};

pub const COMPLIANCE_LABELS: CheckDef = CheckDef {
    id: "compliance-labels",
    summary: "objects and pod templates carry the compliance.nixernetes.io labels",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Yes,
    scope: Scope::Object(compliance_labels),
};

/// This family, in table order (`compliance-labels` is the table's extra row).
pub static CHECKS: &[&CheckDef] = &[&EXPLICIT_NAMESPACE, &STABLE_API_VERSION, &COMPLIANCE_LABELS];

/// The Kubernetes version `stable-api-version` judges against.
pub const TARGET_KUBERNETES: &str = "1.35";

fn explicit_namespace(r: &Resource, out: &mut HitSink) {
    if is_cluster_scoped(r.api_version(), r.kind()) {
        return;
    }
    match r.namespace() {
        None => out.push(
            "metadata.namespace",
            "no namespace set: the object lands in whichever namespace the applying client defaults to",
        ),
        Some("default") => out.push(
            "metadata.namespace",
            "the object is in the default namespace, shared by everything nobody placed: use the application's own",
        ),
        Some(_) => {}
    }
}

/// Pod Security Admission replaces PodSecurityPolicy; there is no apiVersion to move to.
const PSA: &str = "Pod Security Admission (pod-security.kubernetes.io/* namespace labels)";

/// What to use instead of `api_version` for `kind`, and whether the old version is still
/// served (deprecated) rather than removed. `None`: current, or unknown to us.
fn replacement(api_version: &str, kind: &str) -> Option<(&'static str, bool)> {
    let removed = |to| Some((to, false));
    let deprecated = |to| Some((to, true));
    match (api_version, kind) {
        ("extensions/v1beta1", "Deployment" | "DaemonSet" | "ReplicaSet") => removed("apps/v1"),
        ("extensions/v1beta1", "Ingress" | "NetworkPolicy") => removed("networking.k8s.io/v1"),
        ("extensions/v1beta1" | "policy/v1beta1", "PodSecurityPolicy") => removed(PSA),
        ("extensions/v1beta1", _) => removed("the kind's current API group"),
        ("apps/v1beta1" | "apps/v1beta2", _) => removed("apps/v1"),
        ("policy/v1beta1", _) => removed("policy/v1"),
        ("batch/v1beta1" | "batch/v2alpha1", _) => removed("batch/v1"),
        ("autoscaling/v2beta1" | "autoscaling/v2beta2", _) => removed("autoscaling/v2"),
        ("networking.k8s.io/v1beta1", "IPAddress" | "ServiceCIDR") => {
            deprecated("networking.k8s.io/v1")
        }
        ("networking.k8s.io/v1beta1", _) => removed("networking.k8s.io/v1"),
        ("rbac.authorization.k8s.io/v1beta1" | "rbac.authorization.k8s.io/v1alpha1", _) => {
            removed("rbac.authorization.k8s.io/v1")
        }
        // Mutating admission policies have no v1 yet.
        (
            "admissionregistration.k8s.io/v1beta1",
            "MutatingAdmissionPolicy" | "MutatingAdmissionPolicyBinding",
        ) => None,
        ("admissionregistration.k8s.io/v1beta1", _) => removed("admissionregistration.k8s.io/v1"),
        ("apiextensions.k8s.io/v1beta1", _) => removed("apiextensions.k8s.io/v1"),
        ("storage.k8s.io/v1beta1", "VolumeAttributesClass") => deprecated("storage.k8s.io/v1"),
        ("storage.k8s.io/v1beta1", _) => removed("storage.k8s.io/v1"),
        (
            "flowcontrol.apiserver.k8s.io/v1beta1"
            | "flowcontrol.apiserver.k8s.io/v1beta2"
            | "flowcontrol.apiserver.k8s.io/v1beta3",
            _,
        ) => removed("flowcontrol.apiserver.k8s.io/v1"),
        ("discovery.k8s.io/v1beta1", _) => removed("discovery.k8s.io/v1"),
        ("events.k8s.io/v1beta1", _) => removed("events.k8s.io/v1"),
        ("node.k8s.io/v1beta1", _) => removed("node.k8s.io/v1"),
        ("scheduling.k8s.io/v1beta1", _) => removed("scheduling.k8s.io/v1"),
        // LeaseCandidate is still beta; Lease moved to v1.
        ("coordination.k8s.io/v1beta1", "LeaseCandidate") => None,
        ("coordination.k8s.io/v1beta1", _) => removed("coordination.k8s.io/v1"),
        // ClusterTrustBundle and PodCertificateRequest are still beta; CSRs moved to v1.
        ("certificates.k8s.io/v1beta1", "CertificateSigningRequest") => {
            removed("certificates.k8s.io/v1")
        }
        _ => None,
    }
}

fn stable_api_version(r: &Resource, out: &mut HitSink) {
    let (api_version, kind) = (r.api_version(), r.kind());
    let Some((to, served)) = replacement(api_version, kind) else {
        return;
    };
    let status = if served {
        "is deprecated in"
    } else {
        "is not served by"
    };
    out.push(
        "apiVersion",
        format!("{kind} {api_version} {status} Kubernetes {TARGET_KUBERNETES}: use {to}"),
    );
}

fn compliance_labels(r: &Resource, out: &mut HitSink) {
    require_compliance_labels(r.labels(), "metadata.labels".to_string(), out);
    if let Some(pod) = pod_of(r) {
        let path = labels_path(&pod);
        // A bare Pod's labels are the object's, checked above.
        if path != "metadata.labels" {
            require_compliance_labels(pod.labels(), path, out);
        }
    }
}

fn require_compliance_labels(
    labels: Option<&Map<String, Value>>,
    field: String,
    out: &mut HitSink,
) {
    let missing: Vec<&str> = LABEL_KEYS
        .into_iter()
        .filter(|k| {
            labels
                .and_then(|l| l.get(*k))
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .collect();
    if !missing.is_empty() {
        out.push(
            field,
            format!("missing compliance labels: {}", missing.join(", ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hits_of;

    const LABELS: &str = "{compliance.nixernetes.io/framework: SOC2, compliance.nixernetes.io/level: high, compliance.nixernetes.io/owner: team-shop, compliance.nixernetes.io/data-classification: internal}";

    #[test]
    fn explicit_namespace_reports_missing_and_default() {
        let yaml = "apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
";
        assert_eq!(
            hits_of(&EXPLICIT_NAMESPACE, yaml),
            vec![
                (
                    "settings".into(),
                    "metadata.namespace".into(),
                    "no namespace set: the object lands in whichever namespace the applying client defaults to".into()
                ),
                (
                    "web".into(),
                    "metadata.namespace".into(),
                    "the object is in the default namespace, shared by everything nobody placed: use the application's own".into()
                ),
            ]
        );
    }

    #[test]
    fn explicit_namespace_passes_namespaced_and_cluster_scoped() {
        let yaml = "apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: []
";
        assert_eq!(hits_of(&EXPLICIT_NAMESPACE, yaml), vec![]);
    }

    #[test]
    fn stable_api_version_names_the_replacement() {
        let yaml = "apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: web, namespace: shop}
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
---
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: report, namespace: shop}
---
apiVersion: networking.k8s.io/v1beta1
kind: ServiceCIDR
metadata: {name: extra}
";
        assert_eq!(
            hits_of(&STABLE_API_VERSION, yaml),
            vec![
                (
                    "web".into(),
                    "apiVersion".into(),
                    "Ingress extensions/v1beta1 is not served by Kubernetes 1.35: use networking.k8s.io/v1".into()
                ),
                (
                    "restricted".into(),
                    "apiVersion".into(),
                    "PodSecurityPolicy policy/v1beta1 is not served by Kubernetes 1.35: use Pod Security Admission (pod-security.kubernetes.io/* namespace labels)".into()
                ),
                (
                    "report".into(),
                    "apiVersion".into(),
                    "CronJob batch/v1beta1 is not served by Kubernetes 1.35: use batch/v1".into()
                ),
                (
                    "extra".into(),
                    "apiVersion".into(),
                    "ServiceCIDR networking.k8s.io/v1beta1 is deprecated in Kubernetes 1.35: use networking.k8s.io/v1".into()
                ),
            ]
        );
    }

    #[test]
    fn stable_api_version_passes_current_and_beta_only_kinds() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: coordination.k8s.io/v1beta1
kind: LeaseCandidate
metadata: {name: lc, namespace: shop}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: defaults}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web, namespace: shop}
";
        assert_eq!(hits_of(&STABLE_API_VERSION, yaml), vec![]);
    }

    #[test]
    fn compliance_labels_reports_objects_and_templates() {
        let yaml = format!(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {LABELS}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web, compliance.nixernetes.io/framework: SOC2, compliance.nixernetes.io/owner: ''}}
    spec:
      containers: [{{name: web, image: 'web:1.0'}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: debug, namespace: shop}}
spec:
  containers: [{{name: sh, image: 'busybox:1.36'}}]
"
        );
        assert_eq!(
            hits_of(&COMPLIANCE_LABELS, &yaml),
            vec![
                (
                    "web".into(),
                    "spec.template.metadata.labels".into(),
                    "missing compliance labels: compliance.nixernetes.io/level, compliance.nixernetes.io/owner, compliance.nixernetes.io/data-classification".into()
                ),
                (
                    "debug".into(),
                    "metadata.labels".into(),
                    "missing compliance labels: compliance.nixernetes.io/framework, compliance.nixernetes.io/level, compliance.nixernetes.io/owner, compliance.nixernetes.io/data-classification".into()
                ),
            ]
        );
    }

    #[test]
    fn compliance_labels_passes_labelled_objects_and_templates() {
        let yaml = format!(
            "apiVersion: batch/v1
kind: CronJob
metadata: {{name: report, namespace: shop, labels: {LABELS}}}
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        metadata: {{labels: {LABELS}}}
        spec:
          restartPolicy: OnFailure
          containers: [{{name: report, image: 'report:2.1'}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: shop, labels: {LABELS}}}
"
        );
        assert_eq!(hits_of(&COMPLIANCE_LABELS, &yaml), vec![]);
    }
}
