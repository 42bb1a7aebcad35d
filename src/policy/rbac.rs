//! The RBAC check, id 38 of the check table: Roles and ClusterRoles grant no wildcards and none
//! of the permissions that amount to more than they say (creating or exec-ing into pods,
//! the kubelet proxy, bind/escalate/impersonate, reading every Secret, writing admission webhook
//! configurations, approving certificate requests), and no binding hands out
//! cluster-admin. It reads each object on its own; what a binding's subjects end up with across
//! roles is out of its reach.

use super::pod::get_str;
use super::pod::strings;
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use serde_json::Value;

pub const RBAC_LEAST_PRIVILEGE: CheckDef = CheckDef {
    id: "rbac-least-privilege",
    summary: "roles grant no wildcards, pod creation or exec, kubelet proxy, bind/escalate/impersonate, read of all Secrets, admission webhook writes or certificate approval; nothing binds cluster-admin",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Object(rbac_least_privilege),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&RBAC_LEAST_PRIVILEGE];

fn rbac_least_privilege(r: &Resource, out: &mut HitSink) {
    if r.group() != "rbac.authorization.k8s.io" {
        return;
    }
    match r.kind() {
        "Role" | "ClusterRole" => rules(r, out),
        "RoleBinding" | "ClusterRoleBinding"
            if get_str(&r.object, "roleRef.kind") == Some("ClusterRole")
                && get_str(&r.object, "roleRef.name") == Some("cluster-admin") =>
        {
            out.push(
                "roleRef.name",
                "binds ClusterRole cluster-admin, which allows everything: bind a role with only the permissions needed",
            );
        }
        _ => {}
    }
}

/// What a verb that escalates privilege lets the subject do.
fn escalating_verb(verb: &str) -> Option<&'static str> {
    match verb {
        "bind" => Some("bind roles with permissions it does not hold"),
        "escalate" => Some("edit roles to grant permissions it does not hold"),
        "impersonate" => Some("act as other users, groups or ServiceAccounts"),
        _ => None,
    }
}

fn rules(r: &Resource, out: &mut HitSink) {
    let Some(Value::Array(rules)) = r.object.field("rules") else {
        return;
    };
    // Approving a CertificateSigningRequest takes update on its approval subresource and approve
    // on the signer, in any rules of the role: (rule of each, if granted).
    let mut approval: Option<usize> = None;
    let mut signer: Option<usize> = None;
    for (i, rule) in rules.iter().enumerate() {
        let Some(rule) = rule.as_object() else {
            continue;
        };
        let groups = strings(rule.field("apiGroups"));
        let resources = strings(rule.field("resources"));
        let verbs = strings(rule.field("verbs"));
        let in_group = |group: &str| groups.iter().any(|(_, g)| *g == "*" || *g == group);
        let has_verb = |wanted: &[&str]| verbs.iter().any(|(_, v)| *v == "*" || wanted.contains(v));
        let has_resource = |wanted: &[&str]| {
            resources
                .iter()
                .any(|(_, x)| *x == "*" || wanted.contains(x))
        };
        // A rule of wildcard resources and verbs is reported as such already.
        let all = has_resource(&[]) && has_verb(&[]);
        if in_group("certificates.k8s.io") && !all {
            if has_resource(&["certificatesigningrequests/approval", "*/approval"])
                && has_verb(&["update", "patch"])
            {
                approval.get_or_insert(i);
            }
            if has_resource(&["signers"]) && has_verb(&["approve"]) {
                signer.get_or_insert(i);
            }
        }
        if in_group("admissionregistration.k8s.io") && has_verb(&["create", "update", "patch"]) {
            for (j, resource) in &resources {
                if matches!(
                    *resource,
                    "mutatingwebhookconfigurations" | "validatingwebhookconfigurations"
                ) {
                    out.push(
                        format!("rules[{i}].resources[{j}]"),
                        format!("writing {resource} lets the subject send every matching API request to a webhook of its choice, which can read it and reject or (mutating) rewrite it"),
                    );
                }
            }
        }
        for (field, list, grants) in [
            ("apiGroups", &groups, "every API group"),
            ("resources", &resources, "every resource"),
            ("verbs", &verbs, "every verb"),
        ] {
            for (j, _) in list.iter().filter(|(_, v)| *v == "*") {
                out.push(
                    format!("rules[{i}].{field}[{j}]"),
                    format!("the wildcard grants {grants}, including ones added later: list what is needed"),
                );
            }
        }
        for (j, verb) in &verbs {
            if let Some(does) = escalating_verb(verb) {
                out.push(
                    format!("rules[{i}].verbs[{j}]"),
                    format!("verb {verb} lets the subject {does}"),
                );
            }
        }
        // The resources below are in the core group.
        if !groups.iter().any(|(_, g)| g.is_empty() || *g == "*") {
            continue;
        }
        let grants = |wanted: &[&str]| verbs.iter().any(|(_, v)| *v == "*" || wanted.contains(v));
        let named = matches!(rule.field("resourceNames"), Some(Value::Array(a)) if !a.is_empty());
        for (j, resource) in &resources {
            let problem = match *resource {
                "pods" if grants(&["create"]) => {
                    "create on pods lets the subject run any image under any ServiceAccount of the namespace, and so take over its permissions".to_string()
                }
                "pods/exec" | "pods/attach" if grants(&["create"]) => format!(
                    "create on {resource} lets the subject run commands in running pods and read what they hold"
                ),
                "nodes/proxy" if !verbs.is_empty() => {
                    "nodes/proxy reaches the kubelet API, which runs commands in every pod on the node".to_string()
                }
                "secrets" if !named && grants(&["get", "list", "watch"]) => {
                    "reading secrets without resourceNames exposes every Secret in reach: name the ones needed".to_string()
                }
                _ => continue,
            };
            out.push(format!("rules[{i}].resources[{j}]"), problem);
        }
    }
    if let (Some(i), Some(_)) = (approval, signer) {
        out.push(
            format!("rules[{i}]"),
            "update on certificatesigningrequests/approval with approve on signers lets the subject approve certificate requests, and so issue itself credentials of any user or group a signer accepts",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hits_of;

    #[test]
    fn rbac_least_privilege_reports_broad_rules_and_cluster_admin() {
        let yaml = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
rules:
- apiGroups: ['*']
  resources: [deployments, '*']
  verbs: [get, '*']
- apiGroups: ['']
  resources: [pods, pods/exec, nodes/proxy, secrets, configmaps]
  verbs: [get, create]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind, escalate]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: ops, namespace: ops}]
";
        let hits = hits_of(&RBAC_LEAST_PRIVILEGE, yaml);
        let got: Vec<(&str, &str)> = hits
            .iter()
            .map(|(n, f, _)| (n.as_str(), f.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ops", "rules[0].apiGroups[0]"),
                ("ops", "rules[0].resources[1]"),
                ("ops", "rules[0].verbs[1]"),
                ("ops", "rules[1].resources[0]"),
                ("ops", "rules[1].resources[1]"),
                ("ops", "rules[1].resources[2]"),
                ("ops", "rules[1].resources[3]"),
                ("ops", "rules[2].verbs[0]"),
                ("ops", "rules[2].verbs[1]"),
                ("ops-admin", "roleRef.name"),
            ]
        );
        assert_eq!(
            hits[0].2,
            "the wildcard grants every API group, including ones added later: list what is needed"
        );
        assert_eq!(
            hits[6].2,
            "reading secrets without resourceNames exposes every Secret in reach: name the ones needed"
        );
        assert_eq!(
            hits[7].2,
            "verb bind lets the subject bind roles with permissions it does not hold"
        );
        assert_eq!(
            hits[9].2,
            "binds ClusterRole cluster-admin, which allows everything: bind a role with only the permissions needed"
        );
    }

    #[test]
    fn rbac_least_privilege_reports_webhook_writes_and_certificate_approval() {
        let yaml = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: hooks}
rules:
- apiGroups: [admissionregistration.k8s.io]
  resources: [mutatingwebhookconfigurations, validatingwebhookconfigurations]
  verbs: [get, patch]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval]
  verbs: [update]
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [kubernetes.io/kube-apiserver-client]
  verbs: [approve]
";
        let hits = hits_of(&RBAC_LEAST_PRIVILEGE, yaml);
        let got: Vec<&str> = hits.iter().map(|(_, f, _)| f.as_str()).collect();
        assert_eq!(
            got,
            ["rules[0].resources[0]", "rules[0].resources[1]", "rules[1]"]
        );
        assert!(hits[0].2.starts_with("writing mutatingwebhookconfigurations lets the subject send every matching API request to a webhook"));
        assert!(hits[2]
            .2
            .starts_with("update on certificatesigningrequests/approval with approve on signers"));
        // Reading webhook configurations, or only one half of an approval, grants neither.
        let narrow = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: viewer}
rules:
- apiGroups: [admissionregistration.k8s.io]
  resources: [validatingwebhookconfigurations]
  verbs: [get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  verbs: [approve]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [get, update]
";
        assert_eq!(hits_of(&RBAC_LEAST_PRIVILEGE, narrow), vec![]);
    }

    #[test]
    fn rbac_least_privilege_passes_narrow_roles() {
        let yaml = "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules:
- apiGroups: ['']
  resources: [pods, configmaps]
  verbs: [get, list, watch]
- apiGroups: ['']
  resources: [secrets]
  resourceNames: [web-tls]
  verbs: [get]
- apiGroups: [apps]
  resources: [pods]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]
";
        assert_eq!(hits_of(&RBAC_LEAST_PRIVILEGE, yaml), vec![]);
    }
}
