//! `PodSecurityProfile`: Pod Security Admission in place of the removed PodSecurityPolicy. One v1
//! Namespace per namespace, labelled `pod-security.kubernetes.io/{enforce,audit,warn}` and their
//! `-version`s. A Namespace of the same name written in the input would be a second copy of the
//! object; the engine reports that collision, since only it sees the whole set.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::meta;
use crate::types::Profile;
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct PodSecurityProfile;

fn restricted() -> Profile {
    Profile::Restricted
}

/// Pod Security Admission for namespaces: each gets a Namespace labelled with the levels pods
/// are held to.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSecurityProfileSpec {
    /// The level pods must meet to be admitted (`enforce`).
    #[serde(default = "restricted")]
    pub level: Profile,
    /// The level whose violations are recorded in the audit log; `level` when not given.
    pub audit: Option<Profile>,
    /// The level whose violations are returned as warnings; `level` when not given.
    pub warn: Option<Profile>,
    /// Pod Security Standards version: `latest` (default) or `v1.NN`.
    pub version: Option<String>,
    /// Namespaces to label; the module resource's namespace when not given.
    pub namespaces: Option<Vec<String>>,
}

/// Label prefix of Pod Security Admission.
const PSA: &str = "pod-security.kubernetes.io/";

fn check_version(v: &str) -> Result<(), String> {
    let minor = v.strip_prefix("v1.");
    let ok = v == "latest"
        || minor.is_some_and(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid version {v:?}: expected latest or a Kubernetes minor such as v1.35"
        ))
    }
}

/// The namespaces to label (an error in `p` when there are none).
fn namespaces(spec: &PodSecurityProfileSpec, p: &mut Problems<'_>) -> Vec<String> {
    match &spec.namespaces {
        Some(list) => {
            if list.is_empty() {
                p.fail(
                    "spec.namespaces",
                    "namespaces must not be empty: leave it out to label the module's namespace",
                );
            }
            list.clone()
        }
        None if p.module().namespace.is_empty() => {
            p.fail(
                "spec.namespaces",
                "no namespace to label: set spec.namespaces or metadata.namespace",
            );
            Vec::new()
        }
        None => vec![p.module().namespace.clone()],
    }
}

impl Kind for PodSecurityProfile {
    const KIND: &'static str = "PodSecurityProfile";
    const SUMMARY: &'static str =
        "Pod Security Admission: Namespaces labelled with enforce, audit and warn levels";
    const EXAMPLE: Example =
        crate::example!("examples/security-policies/pod-security-profile.yaml");
    type Spec = PodSecurityProfileSpec;

    fn validate(spec: &PodSecurityProfileSpec, ch: &mut Problems<'_>) {
        let version = spec.version.as_deref().unwrap_or("latest");
        ch.check("spec.version", check_version(version));
        let namespaces = namespaces(spec, ch);
        for (i, ns) in namespaces.iter().enumerate() {
            let field = format!("spec.namespaces[{i}]");
            ch.check(&field, validate::dns1123_label(ns));
            if namespaces[..i].contains(ns) {
                ch.fail(&field, format!("duplicate namespace {ns:?}"));
            }
            if ns.starts_with("kube-") && spec.level != Profile::Privileged {
                ch.warn(
                    &field,
                    format!("{ns} runs the cluster's own pods, which often need privileges: enforcing {} there may keep them from starting", spec.level.as_str()),
                );
            }
        }
        let audit = spec.audit.unwrap_or(spec.level);
        let warn = spec.warn.unwrap_or(spec.level);
        for (field, mode, level) in [("spec.audit", "audit", audit), ("spec.warn", "warn", warn)] {
            if level < spec.level {
                ch.warn(
                    field,
                    format!("{mode} {} is below the enforced level {}: pods it would flag are rejected anyway", level.as_str(), spec.level.as_str()),
                );
            }
        }
    }
}

impl Generate for PodSecurityProfile {
    const EMITS: &'static [Gvk] = &[Gvk::new("v1", "Namespace")];

    fn expand(spec: PodSecurityProfileSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let version = spec.version.as_deref().unwrap_or("latest");
        let audit = spec.audit.unwrap_or(spec.level);
        let warn = spec.warn.unwrap_or(spec.level);
        let namespaces = spec
            .namespaces
            .clone()
            .unwrap_or_else(|| vec![m.namespace.clone()]);
        let mut labels = BTreeMap::new();
        for (mode, level) in [("enforce", spec.level), ("audit", audit), ("warn", warn)] {
            labels.insert(format!("{PSA}{mode}"), level.as_str().to_string());
            labels.insert(format!("{PSA}{mode}-version"), version.to_string());
        }
        let objects = namespaces
            .iter()
            .map(|ns| {
                meta::to_value(&core::Namespace {
                    metadata: ObjectMeta {
                        name: Some(ns.clone()),
                        labels: Some(labels.clone()),
                        ..Default::default()
                    },
                    ..Default::default()
                })
            })
            .collect();
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
