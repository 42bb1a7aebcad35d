//! RBAC fragments shared by the kinds that grant access (`AccessRole`, `ClusterAccess`,
//! `Tenant`): policy rules as a spec fragment with their validation, subjects written as
//! `user:<name>`, `group:<name>` or `serviceaccount:[<namespace>:]<name>` (kubectl's own forms),
//! and the binding builder, whose `roleRef` always names the role it binds (the original's
//! bindings named themselves and added an unknown `roleRef.role`).

use crate::kind::Problems;
use crate::validate;
use k8s_openapi::api::rbac::v1 as rbac;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The API group of RBAC.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Verbs the API server authorizes on resources.
const RESOURCE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "bind",
    "escalate",
    "impersonate",
    "approve",
    "sign",
    "use",
    "*",
];
/// Verbs of non-resource URLs (the HTTP methods, lowercase).
const URL_VERBS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "*",
];

/// One permission: the verbs allowed on the resources of the API groups (or on non-resource
/// URLs, for cluster roles).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    /// API groups of the resources: `""` is the core group (pods, services, configmaps…),
    /// `apps` has deployments, `batch` jobs.
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// Resources, lowercase plural, with subresources as `pods/log`.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Only these objects of the resources, by name.
    #[serde(default)]
    pub resource_names: Vec<String>,
    /// Verbs allowed: get, list, watch, create, update, patch, delete, deletecollection, and
    /// the special bind, escalate, impersonate, approve, sign, use.
    pub verbs: Vec<String>,
    /// Non-resource URLs such as `/healthz` or `/metrics` (cluster roles only, without
    /// apiGroups and resources).
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

/// What a rule grants that amounts to more than it says, for a warning.
fn escalating(verb: &str) -> Option<&'static str> {
    match verb {
        "bind" => Some("binding roles with permissions the subject does not hold"),
        "escalate" => Some("editing roles to grant permissions the subject does not hold"),
        "impersonate" => Some("acting as other users, groups or ServiceAccounts"),
        _ => None,
    }
}

impl RuleSpec {
    /// Checks the rule at `field`: known verbs, non-empty groups and resources (or URLs when
    /// `urls_allowed`), and warns on wildcards and escalating verbs.
    pub fn check(&self, p: &mut Problems<'_>, field: &str, urls_allowed: bool) {
        if self.verbs.is_empty() {
            p.fail(
                format!("{field}.verbs"),
                "verbs must name at least one verb",
            );
        }
        let urls = !self.non_resource_urls.is_empty();
        if urls && !urls_allowed {
            p.fail(
                format!("{field}.nonResourceURLs"),
                "nonResourceURLs are cluster-wide: grant them with a ClusterAccess",
            );
        }
        if urls {
            if !self.api_groups.is_empty() || !self.resources.is_empty() {
                p.fail(
                    field,
                    "a rule grants either resources (apiGroups and resources) or nonResourceURLs, not both: split it",
                );
            }
            if !self.resource_names.is_empty() {
                p.fail(
                    format!("{field}.resourceNames"),
                    "resourceNames name objects of resources, not URLs",
                );
            }
            for (i, u) in self.non_resource_urls.iter().enumerate() {
                let ok = u.starts_with('/') && (!u.contains('*') || u.ends_with('*'));
                if !ok {
                    p.fail(
                        format!("{field}.nonResourceURLs[{i}]"),
                        format!("{u:?}: expected a path such as /healthz, a '*' only at its end"),
                    );
                }
            }
        } else {
            if self.api_groups.is_empty() {
                p.fail(
                    format!("{field}.apiGroups"),
                    "apiGroups must name at least one group: \"\" for the core group (pods, services, configmaps), apps, batch…",
                );
            }
            if self.resources.is_empty() {
                p.fail(
                    format!("{field}.resources"),
                    "resources must name at least one resource, e.g. pods, deployments, pods/log",
                );
            }
            for (i, r) in self.resources.iter().enumerate() {
                let ok = r == "*"
                    || r.split('/').count() <= 2
                        && r.split('/').all(|part| {
                            part == "*"
                                || !part.is_empty()
                                    && part.bytes().all(|b| {
                                        b.is_ascii_lowercase()
                                            || b.is_ascii_digit()
                                            || b == b'-'
                                            || b == b'.'
                                    })
                        });
                if !ok {
                    p.fail(
                        format!("{field}.resources[{i}]"),
                        format!("{r:?}: expected a lowercase plural resource such as deployments, or a subresource such as pods/log"),
                    );
                }
            }
            for (i, g) in self.api_groups.iter().enumerate() {
                if !g.is_empty() && g != "*" {
                    if g == "v1" || g.contains('/') {
                        p.fail(
                            format!("{field}.apiGroups[{i}]"),
                            format!("{g:?} is an apiVersion, not an API group: the core group is \"\", apps/v1's is apps"),
                        );
                    } else {
                        p.check(
                            format!("{field}.apiGroups[{i}]"),
                            validate::dns1123_subdomain(g),
                        );
                    }
                }
            }
        }
        let known = if urls { URL_VERBS } else { RESOURCE_VERBS };
        for (i, v) in self.verbs.iter().enumerate() {
            if !known.contains(&v.as_str()) {
                let hint = validate::did_you_mean(v, known.iter().copied())
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                p.fail(
                    format!("{field}.verbs[{i}]"),
                    format!(
                        "unknown verb {v:?}{hint} (expected one of {})",
                        known.join(", ")
                    ),
                );
            }
        }
    }

    /// Warnings for what the rule grants beyond what it names: wildcards, escalating verbs.
    pub fn warn_broad(&self, p: &mut Problems<'_>, field: &str) {
        for (list, name, grants) in [
            (&self.api_groups, "apiGroups", "every API group"),
            (&self.resources, "resources", "every resource"),
            (&self.verbs, "verbs", "every verb"),
        ] {
            for (i, _) in list.iter().enumerate().filter(|(_, v)| *v == "*") {
                p.warn(
                    format!("{field}.{name}[{i}]"),
                    format!("the wildcard grants {grants}, including ones added later: list what is needed"),
                );
            }
        }
        for (i, v) in self.verbs.iter().enumerate() {
            if let Some(does) = escalating(v) {
                p.warn(
                    format!("{field}.verbs[{i}]"),
                    format!("verb {v} allows {does}"),
                );
            }
        }
    }

    /// The rule as a Kubernetes PolicyRule.
    pub fn build(&self) -> rbac::PolicyRule {
        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        rbac::PolicyRule {
            api_groups: if self.non_resource_urls.is_empty() {
                Some(self.api_groups.clone())
            } else {
                None
            },
            resources: some(&self.resources),
            resource_names: some(&self.resource_names),
            non_resource_urls: some(&self.non_resource_urls),
            verbs: self.verbs.clone(),
        }
    }
}

/// A rule of a built-in preset.
pub fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> rbac::PolicyRule {
    let own = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    rbac::PolicyRule {
        api_groups: Some(own(groups)),
        resources: Some(own(resources)),
        verbs: own(verbs),
        ..Default::default()
    }
}

/// Parses a subject written `user:<name>`, `group:<name>` or
/// `serviceaccount:[<namespace>:]<name>`; a ServiceAccount without a namespace is in
/// `default_namespace`, or an error when there is none.
pub fn subject(text: &str, default_namespace: Option<&str>) -> Result<rbac::Subject, String> {
    const FORMS: &str = "user:<name>, group:<name> or serviceaccount:<namespace>:<name>";
    let Some((kind, rest)) = text.split_once(':') else {
        return Err(format!(
            "{text:?}: say whom it names: {FORMS} (e.g. group:{text})"
        ));
    };
    if rest.is_empty() {
        return Err(format!("{text:?}: the name is missing ({FORMS})"));
    }
    let named = |kind: &str| rbac::Subject {
        api_group: Some(RBAC_GROUP.into()),
        kind: kind.into(),
        name: rest.into(),
        namespace: None,
    };
    match kind {
        "user" => Ok(named("User")),
        "group" => Ok(named("Group")),
        "serviceaccount" => {
            let (ns, name) = match rest.split_once(':') {
                Some((ns, name)) => (ns, name),
                None => match default_namespace {
                    Some(ns) => (ns, rest),
                    None => {
                        return Err(format!(
                            "{text:?}: a ServiceAccount is in a namespace: serviceaccount:<namespace>:{rest}"
                        ))
                    }
                },
            };
            validate::dns1123_label(ns).map_err(|e| format!("{text:?}: namespace {e}"))?;
            validate::dns1123_subdomain(name).map_err(|e| format!("{text:?}: name {e}"))?;
            Ok(rbac::Subject {
                api_group: None,
                kind: "ServiceAccount".into(),
                name: name.into(),
                namespace: Some(ns.into()),
            })
        }
        other => {
            let hint = validate::did_you_mean(other, ["user", "group", "serviceaccount"])
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            Err(format!(
                "{text:?}: unknown subject kind {other:?}{hint} (expected {FORMS})"
            ))
        }
    }
}

/// Checks a list of subjects at `field`: each parses, none twice.
pub fn check_subjects(
    subjects: &[String],
    default_namespace: Option<&str>,
    p: &mut Problems<'_>,
    field: &str,
) {
    for (i, s) in subjects.iter().enumerate() {
        let at = format!("{field}[{i}]");
        p.check(&at, subject(s, default_namespace).map(|_| ()));
        if subjects[..i].contains(s) {
            p.fail(&at, format!("duplicate subject {s:?}"));
        }
    }
}

/// The subjects of a list that [`check_subjects`] accepted.
pub fn subjects(list: &[String], default_namespace: Option<&str>) -> Vec<rbac::Subject> {
    list.iter()
        .filter_map(|s| subject(s, default_namespace).ok())
        .collect()
}

/// The `roleRef` to `kind` (`Role` or `ClusterRole`) `name`: the role the binding grants.
pub fn role_ref(kind: &str, name: &str) -> rbac::RoleRef {
    rbac::RoleRef {
        api_group: RBAC_GROUP.into(),
        kind: kind.into(),
        name: name.into(),
    }
}
