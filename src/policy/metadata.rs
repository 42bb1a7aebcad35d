//! Checks on object identity and metadata: ids 35-36 of the check table (`explicit-namespace`,
//! `stable-api-version`) and our `compliance-labels`. Each reads one object at a time;
//! `stable-api-version` judges it against the served-API table (`schema::served`) of the run's
//! target minor. The compliance label keys are `types::compliance::LABEL_KEYS`, the ones the
//! tool stamps. Whether a missing label is an error is the level gating's business, not this
//! file's.

use super::network::labels_path;
use super::pod::pod_of;
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::{is_cluster_scoped, Resource};
use crate::schema::served::{self, Verdict};
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

/// Judges the apiVersion against the served-API table of the run's target minor.
fn stable_api_version(r: &Resource, out: &mut HitSink) {
    let (api_version, kind) = (r.api_version(), r.kind());
    let target = out.kubernetes_version();
    // Nothing is formatted for a current apiVersion (nearly every object).
    let message = match served::verdict(api_version, kind, target) {
        Verdict::Current | Verdict::Unknown => return,
        Verdict::Deprecated { instead: Some(to) } => {
            format!("{kind} {api_version} is deprecated in Kubernetes {target}: use {to}")
        }
        Verdict::Deprecated { instead: None } => format!("{kind} {api_version} is deprecated in Kubernetes {target}"),
        Verdict::Removed { instead: Some(to), .. } => {
            format!("{kind} {api_version} is not served by Kubernetes {target}: use {to}")
        }
        Verdict::Removed { instead: None, removed } => {
            format!("{kind} {api_version} is not served by Kubernetes {target} (removed in 1.{removed})")
        }
        Verdict::NotYet { since, instead: Some(to) } => {
            format!("{kind} {api_version} is not served by Kubernetes {target}, only from 1.{since}: use {to}")
        }
        Verdict::NotYet { since, instead: None } => format!(
            "{kind} {api_version} is not served by Kubernetes {target}, only from 1.{since}, and no other version of {kind} is: leave it out or target 1.{since} or later (kubernetesVersion)"
        ),
    };
    out.push("apiVersion", message);
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
    use crate::policy::{hits_at, hits_of};
    use crate::types::KubernetesVersion;

    fn minor(m: u8) -> KubernetesVersion {
        KubernetesVersion::from_minor(m).unwrap()
    }

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
            hits_at(&STABLE_API_VERSION, yaml, minor(35)),
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
        assert_eq!(hits_at(&STABLE_API_VERSION, yaml, minor(35)), vec![]);
    }

    #[test]
    fn stable_api_version_judges_against_the_target_minor() {
        let flow = "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata: {name: fs}
";
        let msg = |yaml, m| {
            hits_at(&STABLE_API_VERSION, yaml, minor(m))
                .into_iter()
                .map(|(_, _, msg)| msg)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            msg(flow, 31),
            ["FlowSchema flowcontrol.apiserver.k8s.io/v1beta3 is deprecated in Kubernetes 1.31: use flowcontrol.apiserver.k8s.io/v1"]
        );
        assert_eq!(
            msg(flow, 32),
            ["FlowSchema flowcontrol.apiserver.k8s.io/v1beta3 is not served by Kubernetes 1.32: use flowcontrol.apiserver.k8s.io/v1"]
        );
        // Too new for the target: the older version it serves, or nothing to use.
        let cidr = "apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: extra}
";
        assert_eq!(
            msg(cidr, 31),
            ["ServiceCIDR networking.k8s.io/v1 is not served by Kubernetes 1.31, only from 1.33: use networking.k8s.io/v1beta1"]
        );
        assert!(msg(cidr, 33).is_empty());
        let map = "apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: defaults}
";
        assert_eq!(
            msg(map, 33),
            ["MutatingAdmissionPolicy admissionregistration.k8s.io/v1 is not served by Kubernetes 1.33, only from 1.36, and no other version of MutatingAdmissionPolicy is: leave it out or target 1.36 or later (kubernetesVersion)"]
        );
        assert_eq!(
            msg(map, 35),
            ["MutatingAdmissionPolicy admissionregistration.k8s.io/v1 is not served by Kubernetes 1.35, only from 1.36: use admissionregistration.k8s.io/v1beta1"]
        );
        // The default target is the oldest supported minor.
        assert_eq!(hits_of(&STABLE_API_VERSION, cidr).len(), 1);
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
