//! ServiceAccount checks, ids 29-30 of the check table: whether pods mount an API token, and
//! whether they run under a dedicated ServiceAccount that the rendered set provides. Both look
//! at the whole set, because the answer depends on the ServiceAccount objects next to the pod.

use super::network::in_namespace;
use super::pod::{get_bool, get_str, pod_of, PodView};
use super::{CheckDef, Fix, Scope, SetHits, SetInput};
use crate::finding::Severity;
use crate::resource::Resource;
use std::collections::{HashMap, HashSet};

pub const AUTOMOUNT_SA_TOKEN: CheckDef = CheckDef {
    id: "automount-sa-token",
    summary: "pods do not mount an API token (automountServiceAccountToken: false on the pod or its ServiceAccount)",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Yes,
    scope: Scope::Set(automount_sa_token),
};

pub const DEDICATED_SERVICE_ACCOUNT: CheckDef = CheckDef {
    id: "dedicated-service-account",
    summary: "pods run under a ServiceAccount of their own, rendered with them",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Gen,
    scope: Scope::Set(dedicated_service_account),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&AUTOMOUNT_SA_TOKEN, &DEDICATED_SERVICE_ACCOUNT];

/// The rendered ServiceAccounts by `(namespace, name)`.
fn service_accounts<'a>(
    objects: &[&'a Resource],
) -> HashMap<(Option<&'a str>, &'a str), &'a Resource> {
    objects
        .iter()
        .filter(|r| r.api_version() == "v1" && r.kind() == "ServiceAccount")
        .map(|r| ((r.namespace(), r.name()), *r))
        .collect()
}

/// The ServiceAccount a pod names, with the field naming it (`serviceAccount` is the deprecated
/// alias the API server still honours).
fn named_account<'a>(pod: &PodView<'a>) -> Option<(&'static str, &'a str)> {
    ["serviceAccountName", "serviceAccount"]
        .into_iter()
        .find_map(|f| {
            get_str(pod.spec, f)
                .filter(|n| !n.is_empty())
                .map(|n| (f, n))
        })
}

fn automount_sa_token(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let accounts = service_accounts(objects);
    for (i, r) in objects.iter().enumerate() {
        let Some(pod) = pod_of(r) else { continue };
        let field = pod.at("automountServiceAccountToken");
        match get_bool(pod.spec, "automountServiceAccountToken") {
            Some(false) => continue,
            Some(true) => {
                out.push(
                    i,
                    field,
                    "the pod sets automountServiceAccountToken: true, so every container gets an API token",
                );
                continue;
            }
            None => {}
        }
        let name = named_account(&pod).map_or("default", |(_, n)| n);
        let why = match accounts.get(&(r.namespace(), name)) {
            Some(sa) if get_bool(&sa.object, "automountServiceAccountToken") == Some(false) => {
                continue
            }
            Some(_) => format!("ServiceAccount {name:?} does not opt out either"),
            None => format!("ServiceAccount {name:?} is not rendered, so nothing opts out"),
        };
        out.push(
            i,
            field,
            format!("the pod mounts an API token ({why}): set automountServiceAccountToken: false on the pod or its ServiceAccount"),
        );
    }
}

fn dedicated_service_account(set: &SetInput<'_>, out: &mut SetHits) {
    let objects = set.objects;
    let accounts = service_accounts(objects);
    let namespaces_with_accounts: HashSet<Option<&str>> =
        accounts.keys().map(|(ns, _)| *ns).collect();
    for (i, r) in objects.iter().enumerate() {
        let Some(pod) = pod_of(r) else { continue };
        let ns = r.namespace();
        match named_account(&pod) {
            None => out.push(
                i,
                pod.at("serviceAccountName"),
                "the pod runs as the namespace's default ServiceAccount: set serviceAccountName to one of its own",
            ),
            Some((field, "default")) => out.push(
                i,
                pod.at(field),
                format!("{field} is \"default\", which every pod in the namespace shares: use a dedicated ServiceAccount"),
            ),
            Some((field, name)) if !accounts.contains_key(&(ns, name)) => {
                let context = if namespaces_with_accounts.contains(&ns) {
                    String::new()
                } else {
                    " (the set renders no ServiceAccount there at all)".to_string()
                };
                out.push(
                    i,
                    pod.at(field),
                    format!(
                        "ServiceAccount {name:?} is not rendered {}{context}: the pod cannot start until it exists",
                        in_namespace(ns)
                    ),
                );
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hits_of;

    fn deployment(name: &str, pod_fields: &str) -> String {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
{pod_fields}      containers: [{{name: app, image: 'app:1.0'}}]
"
        )
    }

    const SA_OFF: &str = "apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: shop}
automountServiceAccountToken: false
";

    #[test]
    fn automount_sa_token_reports_mounted_tokens() {
        let yaml = [
            deployment("plain", ""),
            deployment(
                "token-on",
                "      automountServiceAccountToken: true\n      serviceAccountName: api\n",
            ),
            deployment("mounting-sa", "      serviceAccountName: web\n"),
            SA_OFF.to_string(),
            SA_OFF
                .replace("name: api", "name: web")
                .replace("false", "true"),
        ]
        .join("---\n");
        let hits = hits_of(&AUTOMOUNT_SA_TOKEN, &yaml);
        assert_eq!(
            hits,
            vec![
                (
                    "plain".into(),
                    "spec.template.spec.automountServiceAccountToken".into(),
                    "the pod mounts an API token (ServiceAccount \"default\" is not rendered, so nothing opts out): set automountServiceAccountToken: false on the pod or its ServiceAccount".into()
                ),
                (
                    "token-on".into(),
                    "spec.template.spec.automountServiceAccountToken".into(),
                    "the pod sets automountServiceAccountToken: true, so every container gets an API token".into()
                ),
                (
                    "mounting-sa".into(),
                    "spec.template.spec.automountServiceAccountToken".into(),
                    "the pod mounts an API token (ServiceAccount \"web\" does not opt out either): set automountServiceAccountToken: false on the pod or its ServiceAccount".into()
                ),
            ]
        );
    }

    #[test]
    fn automount_sa_token_passes_when_pod_or_account_opts_out() {
        let yaml = [
            deployment("pod-off", "      automountServiceAccountToken: false\n"),
            deployment("sa-off", "      serviceAccountName: api\n"),
            SA_OFF.to_string(),
        ]
        .join("---\n");
        assert_eq!(hits_of(&AUTOMOUNT_SA_TOKEN, &yaml), vec![]);
        // The ServiceAccount must be in the pod's namespace.
        let elsewhere = yaml.replace(
            "{name: api, namespace: shop}",
            "{name: api, namespace: other}",
        );
        assert_eq!(hits_of(&AUTOMOUNT_SA_TOKEN, &elsewhere).len(), 1);
    }

    #[test]
    fn dedicated_service_account_reports_default_and_missing_accounts() {
        let yaml = [
            deployment("unset", ""),
            deployment("default", "      serviceAccountName: default\n"),
            deployment("missing", "      serviceAccountName: worker\n"),
        ]
        .join("---\n");
        let hits = hits_of(&DEDICATED_SERVICE_ACCOUNT, &yaml);
        assert_eq!(
            hits,
            vec![
                (
                    "unset".into(),
                    "spec.template.spec.serviceAccountName".into(),
                    "the pod runs as the namespace's default ServiceAccount: set serviceAccountName to one of its own".into()
                ),
                (
                    "default".into(),
                    "spec.template.spec.serviceAccountName".into(),
                    "serviceAccountName is \"default\", which every pod in the namespace shares: use a dedicated ServiceAccount".into()
                ),
                (
                    "missing".into(),
                    "spec.template.spec.serviceAccountName".into(),
                    "ServiceAccount \"worker\" is not rendered in namespace \"shop\" (the set renders no ServiceAccount there at all): the pod cannot start until it exists".into()
                ),
            ]
        );
        // With another ServiceAccount in the namespace, the missing one is still named.
        let with_other = format!("{yaml}---\n{SA_OFF}");
        let hits = hits_of(&DEDICATED_SERVICE_ACCOUNT, &with_other);
        assert_eq!(
            hits[2].2,
            "ServiceAccount \"worker\" is not rendered in namespace \"shop\": the pod cannot start until it exists"
        );
    }

    #[test]
    fn dedicated_service_account_passes_a_rendered_account() {
        let yaml = [
            deployment("api", "      serviceAccountName: api\n"),
            SA_OFF.to_string(),
        ]
        .join("---\n");
        assert_eq!(hits_of(&DEDICATED_SERVICE_ACCOUNT, &yaml), vec![]);
    }
}
