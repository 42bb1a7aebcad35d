//! `ClusterAccess`: a ClusterRole and who holds it. The role has rules, or collects the rules
//! of other ClusterRoles (`aggregateFrom`, an `aggregationRule`), and can add its rules to the
//! built-in `view`, `edit` and `admin` roles (`aggregateTo`, the
//! `rbac.authorization.k8s.io/aggregate-to-*` labels). Its subjects get a ClusterRoleBinding,
//! or, with `namespaces`, a RoleBinding in each of those namespaces only.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::meta;
use crate::modules::shared::rbac::{self as shared, RuleSpec};
use crate::validate;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct ClusterAccess;

/// A built-in user-facing ClusterRole that aggregates the rules of labelled ClusterRoles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// Read access (`rbac.authorization.k8s.io/aggregate-to-view`).
    View,
    /// Read and write access, no RBAC (`aggregate-to-edit`).
    Edit,
    /// Namespace administration (`aggregate-to-admin`).
    Admin,
}

impl Aggregate {
    fn as_str(self) -> &'static str {
        match self {
            Aggregate::View => "view",
            Aggregate::Edit => "edit",
            Aggregate::Admin => "admin",
        }
    }
}

/// A ClusterRole, with its rules or the ClusterRoles it aggregates, and its bindings.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterAccessSpec {
    /// The role's rules (required unless `aggregateFrom` is given).
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Add these rules to the built-in `view`, `edit` and/or `admin` ClusterRoles, so that
    /// whoever holds those (in any namespace) gets them too: the usual way to grant access to
    /// a custom resource.
    #[serde(default)]
    pub aggregate_to: Vec<Aggregate>,
    /// Labels of other ClusterRoles whose rules this role collects (an `aggregationRule`; the
    /// controller fills in the rules, so `rules` must be empty).
    #[serde(default)]
    pub aggregate_from: BTreeMap<String, String>,
    /// Subjects granted the role: `user:<name>`, `group:<name>` or
    /// `serviceaccount:<namespace>:<name>`. None: the role is only defined.
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Grant the role only in these namespaces (a RoleBinding in each) instead of
    /// cluster-wide (a ClusterRoleBinding).
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// Prefix of the labels that aggregate a ClusterRole into a built-in one.
const AGGREGATE_TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

impl Kind for ClusterAccess {
    const KIND: &'static str = "ClusterAccess";
    const SUMMARY: &'static str =
        "a ClusterRole (rules, or aggregated into or from other roles) and its ClusterRoleBinding or per-namespace RoleBindings";
    const EXAMPLE: Example = crate::example!("examples/rbac/cluster-access.yaml");
    type Spec = ClusterAccessSpec;

    fn validate(spec: &ClusterAccessSpec, p: &mut Problems<'_>) {
        let from = !spec.aggregate_from.is_empty();
        match (spec.rules.is_empty(), from) {
            (true, false) => p.fail(
                "spec.rules",
                "a ClusterRole needs rules, or aggregateFrom to collect those of other ClusterRoles",
            ),
            (false, true) => p.fail(
                "spec.rules",
                "with aggregateFrom the controller writes the rules (and overwrites any given): leave rules out",
            ),
            _ => {}
        }
        if from && !spec.aggregate_to.is_empty() {
            p.fail(
                "spec.aggregateTo",
                "an aggregated role adds no rules of its own to view, edit or admin: label the roles it collects instead",
            );
        }
        for (k, v) in &spec.aggregate_from {
            p.check(format!("spec.aggregateFrom.{k}"), validate::label_key(k));
            p.check(format!("spec.aggregateFrom.{k}"), validate::label_value(v));
        }
        for (i, a) in spec.aggregate_to.iter().enumerate() {
            if spec.aggregate_to[..i].contains(a) {
                p.fail(
                    format!("spec.aggregateTo[{i}]"),
                    format!("duplicate {}", a.as_str()),
                );
            }
        }
        for (i, r) in spec.rules.iter().enumerate() {
            let field = format!("spec.rules[{i}]");
            r.check(p, &field, true);
            r.warn_broad(p, &field);
            if !spec.aggregate_to.is_empty()
                && r.verbs
                    .iter()
                    .any(|v| matches!(v.as_str(), "bind" | "escalate" | "impersonate" | "*"))
            {
                p.warn(
                    &field,
                    "aggregated into built-in roles, this rule reaches every holder of them in every namespace",
                );
            }
        }
        shared::check_subjects(&spec.subjects, None, p, "spec.subjects");
        for (i, ns) in spec.namespaces.iter().enumerate() {
            let field = format!("spec.namespaces[{i}]");
            p.check(&field, validate::dns1123_label(ns));
            if spec.namespaces[..i].contains(ns) {
                p.fail(&field, format!("duplicate namespace {ns:?}"));
            }
        }
        if !spec.namespaces.is_empty() && spec.subjects.is_empty() {
            p.fail(
                "spec.namespaces",
                "namespaces say where the subjects hold the role: list subjects",
            );
        }
        if spec.subjects.is_empty() && spec.aggregate_to.is_empty() {
            p.warn(
                "spec.subjects",
                "no subjects: the ClusterRole grants nothing until something binds it",
            );
        }
    }
}

impl Generate for ClusterAccess {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("rbac.authorization.k8s.io/v1", "ClusterRole"),
        Gvk::new("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        Gvk::new("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ];

    fn expand(spec: ClusterAccessSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let name = m.name;
        let mut labels = meta::selector_labels(name);
        for a in &spec.aggregate_to {
            labels.insert(format!("{AGGREGATE_TO}{}", a.as_str()), "true".into());
        }
        let cluster_meta = |labels: BTreeMap<String, String>| ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels),
            ..Default::default()
        };
        let aggregated = !spec.aggregate_from.is_empty();
        let mut objects = vec![meta::to_value(&rbac::ClusterRole {
            metadata: cluster_meta(labels),
            aggregation_rule: aggregated.then(|| rbac::AggregationRule {
                cluster_role_selectors: Some(vec![LabelSelector {
                    match_labels: Some(spec.aggregate_from.clone()),
                    ..Default::default()
                }]),
            }),
            rules: (!aggregated).then(|| spec.rules.iter().map(RuleSpec::build).collect()),
        })];
        let subjects = shared::subjects(&spec.subjects, None);
        if !subjects.is_empty() {
            if spec.namespaces.is_empty() {
                objects.push(meta::to_value(&rbac::ClusterRoleBinding {
                    metadata: cluster_meta(meta::selector_labels(name)),
                    role_ref: shared::role_ref("ClusterRole", name),
                    subjects: Some(subjects),
                }));
            } else {
                for ns in &spec.namespaces {
                    objects.push(meta::to_value(&rbac::RoleBinding {
                        metadata: meta::meta(name, ns, name, None),
                        role_ref: shared::role_ref("ClusterRole", name),
                        subjects: Some(subjects.clone()),
                    }));
                }
            }
        }
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
