//! `AccessRole`: access to one namespace for a ServiceAccount and any other subjects. A
//! ServiceAccount (its token not mounted by default), a Role of a preset or of the user's own
//! rules, and a RoleBinding whose `roleRef` is that Role (the original's bindings pointed at
//! themselves and carried an unknown `roleRef.role`, so they granted nothing).

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::defaults;
use crate::modules::shared::meta;
use crate::modules::shared::rbac::{self as shared, RuleSpec};
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::rbac::v1 as rbac;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct AccessRole;

/// The permissions of the Role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// get, list and watch the namespace's workloads, pods and their logs, services,
    /// configmaps, PVCs and events (not Secrets).
    #[default]
    ReadOnly,
    /// read-only, plus create, update, patch and delete of workloads, services, configmaps,
    /// PVCs, jobs and autoscalers (not pods themselves, pod exec or Secrets).
    Edit,
    /// Exactly the `rules` given.
    Custom,
}

/// The ServiceAccount the Role is granted to.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountSpec {
    /// Create the ServiceAccount (with `automountServiceAccountToken: false`: pods that need
    /// the token opt in). When false, an existing one is bound if `name` is given.
    #[serde(default = "defaults::yes")]
    pub create: bool,
    /// Its name; the resource's name when not given.
    pub name: Option<String>,
}

impl Default for ServiceAccountSpec {
    fn default() -> Self {
        ServiceAccountSpec {
            create: true,
            name: None,
        }
    }
}

/// Access to the resource's namespace: a ServiceAccount, a Role and the RoleBinding that
/// grants it to the ServiceAccount and any other subjects.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessRoleSpec {
    /// The ServiceAccount the Role is granted to.
    #[serde(default)]
    pub service_account: ServiceAccountSpec,
    /// The permissions: a preset, or `custom` with `rules`.
    #[serde(default)]
    pub preset: Preset,
    /// The Role's rules (with `preset: custom` only).
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// More subjects granted the Role: `user:<name>`, `group:<name>`,
    /// `serviceaccount:<name>` (this namespace) or `serviceaccount:<namespace>:<name>`.
    #[serde(default)]
    pub subjects: Vec<String>,
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// The rules of a preset (none for `custom`).
pub fn preset_rules(preset: Preset) -> Vec<rbac::PolicyRule> {
    let rule = shared::rule;
    match preset {
        Preset::ReadOnly => vec![
            rule(
                &[""],
                &[
                    "pods",
                    "pods/log",
                    "services",
                    "endpoints",
                    "configmaps",
                    "persistentvolumeclaims",
                    "events",
                ],
                READ,
            ),
            rule(
                &["apps"],
                &["deployments", "replicasets", "statefulsets", "daemonsets"],
                READ,
            ),
            rule(&["batch"], &["jobs", "cronjobs"], READ),
        ],
        Preset::Edit => vec![
            rule(&[""], &["pods", "pods/log", "endpoints", "events"], READ),
            rule(
                &[""],
                &["services", "configmaps", "persistentvolumeclaims"],
                WRITE,
            ),
            rule(
                &["apps"],
                &["deployments", "replicasets", "statefulsets", "daemonsets"],
                WRITE,
            ),
            rule(
                &["apps"],
                &["deployments/scale", "statefulsets/scale"],
                &["get", "update", "patch"],
            ),
            rule(&["batch"], &["jobs", "cronjobs"], WRITE),
            rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
            rule(&["policy"], &["poddisruptionbudgets"], WRITE),
        ],
        Preset::Custom => Vec::new(),
    }
}

impl AccessRoleSpec {
    /// The ServiceAccount bound, if any.
    fn account<'a>(&'a self, m: &'a ModuleResource<'_>) -> Option<&'a str> {
        match (&self.service_account.name, self.service_account.create) {
            (Some(n), _) => Some(n),
            (None, true) => Some(m.name),
            (None, false) => None,
        }
    }
}

impl Kind for AccessRole {
    const KIND: &'static str = "AccessRole";
    const SUMMARY: &'static str =
        "access to a namespace: ServiceAccount, Role (read-only, edit or custom rules) and its RoleBinding";
    const EXAMPLE: Example = crate::example!("examples/rbac/access-role.yaml");
    type Spec = AccessRoleSpec;

    fn validate(spec: &AccessRoleSpec, p: &mut Problems<'_>) {
        if let Some(n) = &spec.service_account.name {
            p.check("spec.serviceAccount.name", validate::dns1123_subdomain(n));
        }
        match (spec.preset, spec.rules.is_empty()) {
            (Preset::Custom, true) => p.fail(
                "spec.rules",
                "preset custom grants exactly the rules given: list at least one",
            ),
            (Preset::ReadOnly | Preset::Edit, false) => p.fail(
                "spec.rules",
                format!(
                    "rules are for preset custom; preset {} has its own (set preset: custom to write them all)",
                    if spec.preset == Preset::Edit { "edit" } else { "read-only" }
                ),
            ),
            _ => {}
        }
        for (i, r) in spec.rules.iter().enumerate() {
            let field = format!("spec.rules[{i}]");
            r.check(p, &field, false);
            r.warn_broad(p, &field);
        }
        let ns = p.module().namespace.clone();
        shared::check_subjects(&spec.subjects, Some(&ns), p, "spec.subjects");
        let m = p.module();
        if spec.account(m).is_none() && spec.subjects.is_empty() {
            p.fail(
                "spec",
                "the Role is granted to nobody: create or name a serviceAccount, or list subjects",
            );
        }
    }
}

impl Generate for AccessRole {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("rbac.authorization.k8s.io/v1", "Role"),
        Gvk::new("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ];

    fn expand(spec: AccessRoleSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let ns = m.namespace.as_str();
        let mut objects = Vec::new();
        let account = spec.account(m).map(str::to_string);
        if let (true, Some(name)) = (spec.service_account.create, &account) {
            objects.push(meta::to_value(&core::ServiceAccount {
                metadata: meta::meta(name, ns, m.name, None),
                automount_service_account_token: Some(false),
                ..Default::default()
            }));
        }
        let rules = match spec.preset {
            Preset::Custom => spec.rules.iter().map(RuleSpec::build).collect(),
            preset => preset_rules(preset),
        };
        objects.push(meta::to_value(&rbac::Role {
            metadata: meta::meta(m.name, ns, m.name, None),
            rules: Some(rules),
        }));
        let mut subjects: Vec<rbac::Subject> = account
            .iter()
            .map(|name| rbac::Subject {
                kind: "ServiceAccount".into(),
                name: name.clone(),
                namespace: Some(ns.into()),
                api_group: None,
            })
            .collect();
        subjects.extend(shared::subjects(&spec.subjects, Some(ns)));
        objects.push(meta::to_value(&rbac::RoleBinding {
            metadata: meta::meta(m.name, ns, m.name, None),
            role_ref: shared::role_ref("Role", m.name),
            subjects: Some(subjects),
        }));
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
