//! Configuration data of a workload: the `config` field (a `<name>-config` ConfigMap loaded as
//! environment and mounted as files), ConfigMap and Secret key and size checks, and a stable
//! content hash for names and checksums.

use super::meta;
use super::workload::PodParts;
use crate::kind::{ModuleResource, Problems};
use k8s_openapi::api::core::v1 as core;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Configuration of the workload: a ConfigMap named `<name>-config`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigSpec {
    /// Key/values exposed as environment variables.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// File name → content, mounted read-only at `mountPath`.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Absolute directory the files are mounted in; `/etc/<name>` when not given.
    pub mount_path: Option<String>,
}

/// FNV-1a 64: a stable content hash for config checksums (same bytes on every platform/release).
pub fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016x}")
}

/// Checks ConfigMap/Secret keys: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn check_config_keys<'a>(
    keys: impl Iterator<Item = &'a String>,
    ch: &mut Problems<'_>,
    field: &str,
) {
    for k in keys {
        let ok = !k.is_empty()
            && k.len() <= 253
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
            && k != "."
            && k != "..";
        if !ok {
            ch.fail(
                format!("{field}.{k}"),
                format!("invalid key {k:?}: expected letters, digits, '-', '_' or '.'"),
            );
        }
    }
}

/// Largest total size of ConfigMap or Secret data the API server stores.
const MAX_CONFIG_BYTES: usize = 1024 * 1024;

pub fn check_config_size<'a>(
    values: impl Iterator<Item = (&'a String, &'a String)>,
    ch: &mut Problems<'_>,
    field: &str,
) {
    let size: usize = values.map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CONFIG_BYTES {
        ch.fail(
            field,
            format!("{size} bytes of data: a ConfigMap or Secret holds at most 1 MiB"),
        );
    }
}

/// The optional `<name>-config` ConfigMap and how the pod consumes it.
pub struct ConfigParts {
    pub object: Option<Value>,
    pub pod: PodParts,
}

pub fn check_config(cfg: Option<&ConfigSpec>, ch: &mut Problems<'_>) {
    let Some(cfg) = cfg else { return };
    check_config_keys(cfg.data.keys(), ch, "spec.config.data");
    check_config_keys(cfg.files.keys(), ch, "spec.config.files");
    for k in cfg.files.keys() {
        if cfg.data.contains_key(k) {
            ch.fail(
                format!("spec.config.files.{k}"),
                format!("{k:?} is also a key of spec.config.data"),
            );
        }
    }
    check_config_size(cfg.data.iter().chain(cfg.files.iter()), ch, "spec.config");
    if let Some(p) = &cfg.mount_path {
        if !p.starts_with('/') {
            ch.fail(
                "spec.config.mountPath",
                format!("mountPath {p:?} must be absolute"),
            );
        }
    }
    if cfg.mount_path.is_some() && cfg.files.is_empty() {
        ch.fail(
            "spec.config.mountPath",
            "mountPath is set but spec.config.files is empty",
        );
    }
}

pub fn config_parts(cfg: Option<&ConfigSpec>, m: &ModuleResource<'_>) -> ConfigParts {
    let mut parts = ConfigParts {
        object: None,
        pod: PodParts::default(),
    };
    let Some(cfg) = cfg.filter(|c| !c.data.is_empty() || !c.files.is_empty()) else {
        return parts;
    };
    let cm_name = format!("{}-config", m.name);
    let mut data = cfg.data.clone();
    data.extend(cfg.files.clone());
    // The pods roll when it changes: the engine hashes what the pod template reads of the
    // ConfigMaps and Secrets of the set (`engine::passes::config_hash`).
    parts.object = Some(meta::to_value(&core::ConfigMap {
        metadata: meta::meta(&cm_name, &m.namespace, m.name, None),
        data: Some(data),
        ..Default::default()
    }));
    if !cfg.data.is_empty() {
        // The `data` keys become environment variables; files are mounted, not exported.
        parts.pod.env_from.push(core::EnvFromSource {
            config_map_ref: Some(core::ConfigMapEnvSource {
                name: cm_name.clone(),
                optional: None,
            }),
            ..Default::default()
        });
    }
    if !cfg.files.is_empty() {
        parts.pod.volumes.push(core::Volume {
            name: "config".into(),
            config_map: Some(core::ConfigMapVolumeSource {
                name: cm_name.clone(),
                items: Some(
                    cfg.files
                        .keys()
                        .map(|k| core::KeyToPath {
                            key: k.clone(),
                            path: k.clone(),
                            mode: None,
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        });
        parts.pod.mounts.push(core::VolumeMount {
            name: "config".into(),
            mount_path: cfg
                .mount_path
                .clone()
                .unwrap_or_else(|| format!("/etc/{}", m.name)),
            read_only: Some(true),
            ..Default::default()
        });
    }
    parts
}
