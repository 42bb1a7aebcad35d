//! `AppConfig`: configuration data as a ConfigMap. A Secret only with `allowPlainSecrets: true`:
//! plaintext secret values are refused otherwise, since this output usually lands in Git.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::config::{check_config_keys, check_config_size};
use crate::modules::shared::meta;
use k8s_openapi::api::core::v1 as core;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct AppConfig;

/// Configuration data: a ConfigMap of `data` and `files`, and a Secret of `secretData` only when
/// plaintext secrets are allowed.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppConfigSpec {
    /// Key/values of the ConfigMap.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// File name → content, also keys of the ConfigMap.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Plaintext secret values for a Secret. Refused unless `allowPlainSecrets: true`.
    #[serde(default)]
    pub secret_data: BTreeMap<String, String>,
    /// Write `secretData` into a Secret even though it is plaintext.
    #[serde(default)]
    pub allow_plain_secrets: bool,
    /// Mark the ConfigMap (and Secret) immutable.
    #[serde(default)]
    pub immutable: bool,
}

impl Kind for AppConfig {
    const KIND: &'static str = "AppConfig";
    const SUMMARY: &'static str =
        "configuration data: ConfigMap, and a Secret only with allowPlainSecrets";
    const EXAMPLE: Example = crate::example!("examples/kubernetes-core/app-config.yaml");
    type Spec = AppConfigSpec;

    fn validate(spec: &AppConfigSpec, ch: &mut Problems<'_>) {
        check_config_keys(spec.data.keys(), ch, "spec.data");
        check_config_keys(spec.files.keys(), ch, "spec.files");
        check_config_keys(spec.secret_data.keys(), ch, "spec.secretData");
        for k in spec.files.keys() {
            if spec.data.contains_key(k) {
                ch.fail(
                    format!("spec.files.{k}"),
                    format!("{k:?} is also a key of spec.data"),
                );
            }
        }
        check_config_size(spec.data.iter().chain(spec.files.iter()), ch, "spec");
        check_config_size(spec.secret_data.iter(), ch, "spec.secretData");
        if !spec.secret_data.is_empty() && !spec.allow_plain_secrets {
            ch.fail(
                "spec.secretData",
                "plaintext secret values are refused: reference the secret instead (ExternalSecret, SealedSecret, \
                 or a Secret created outside Git), or set spec.allowPlainSecrets: true to write them anyway",
            );
        }
        if spec.data.is_empty() && spec.files.is_empty() && spec.secret_data.is_empty() {
            ch.fail("spec", "nothing to emit: set data, files or secretData");
        }
    }
}

impl Generate for AppConfig {
    const EMITS: &'static [Gvk] = &[Gvk::new("v1", "ConfigMap"), Gvk::new("v1", "Secret")];

    fn expand(spec: AppConfigSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let mut findings = Vec::new();
        let mut objects = Vec::new();
        if !spec.data.is_empty() || !spec.files.is_empty() {
            let mut data = spec.data.clone();
            data.extend(spec.files.clone());
            objects.push(meta::to_value(&core::ConfigMap {
                metadata: meta::meta(m.name, &m.namespace, m.name, None),
                data: Some(data),
                immutable: spec.immutable.then_some(true),
                ..Default::default()
            }));
        }
        if !spec.secret_data.is_empty() {
            findings.push(m.warning(
                "spec.secretData",
                "writing plaintext secret values into a Secret (allowPlainSecrets: true); keep this output out of Git",
            ));
            objects.push(meta::to_value(&core::Secret {
                metadata: meta::meta(m.name, &m.namespace, m.name, None),
                type_: Some("Opaque".into()),
                string_data: Some(spec.secret_data.clone()),
                immutable: spec.immutable.then_some(true),
                ..Default::default()
            }));
        }
        Expansion {
            objects,
            findings,
            ..Default::default()
        }
    }
}
