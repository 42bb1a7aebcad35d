//! `SealedSecret`, rendered for the Sealed Secrets controller as a `bitnami.com/v1alpha1`
//! `SealedSecret`: values encrypted with the controller's public key (by `kubeseal`), which only
//! the controller in the cluster can decrypt into a Secret.
//!
//! Only pre-sealed values are accepted: the tool has no controller certificate and never sees a
//! plaintext. Each value is checked to have the shape `kubeseal` writes (base64 of a 2-byte
//! length, an RSA-OAEP-wrapped session key of at least 2048 bits and an AES-GCM ciphertext), so
//! a plaintext or a merely base64-encoded value pasted by mistake is refused before it reaches
//! Git. The original only recorded settings and emitted nothing.

use super::{check_string_map, secret_type};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::config::check_config_keys;
use crate::schema::operators;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct SealedSecret;

/// The annotation that makes a SealedSecret decryptable under any name in its namespace.
pub const NAMESPACE_WIDE: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// The annotation that makes a SealedSecret decryptable under any name and namespace.
pub const CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";

/// Smallest RSA ciphertext `kubeseal` writes (a 2048-bit key).
const MIN_RSA_BYTES: usize = 256;
/// The AES-GCM authentication tag.
const GCM_TAG_BYTES: usize = 16;

/// What the values were sealed for: it must be the scope given to `kubeseal --scope`, or the
/// controller cannot decrypt them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SealingScope {
    /// Only this name in this namespace (kubeseal's default).
    #[default]
    Strict,
    /// Any name in this namespace.
    NamespaceWide,
    /// Any name in any namespace.
    ClusterWide,
}

/// The shape of the Secret the controller creates.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Secret type, e.g. `Opaque`, `kubernetes.io/tls`, `kubernetes.io/dockerconfigjson`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Make the Secret immutable.
    #[serde(default)]
    pub immutable: bool,
    /// Labels of the Secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations of the Secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A Secret kept in Git encrypted, as `kubeseal` writes it: the Sealed Secrets controller in
/// the cluster decrypts it into a Secret of the same name and namespace.
///
/// Seal each value with `kubeseal --raw --scope <scope> --namespace <ns> --name <name>` (or
/// seal a whole Secret with `kubeseal -o yaml` and copy its `encryptedData`), then paste the
/// ciphertexts here; the tool never encrypts, and refuses plaintext. Workloads of the same
/// render may name the Secret in `secretMounts`/`secretEnv`.
///
/// The operator needs: the Sealed Secrets controller installed (usually `kube-system` or
/// `sealed-secrets`), holding the private key the values were sealed for, with access to the
/// Kubernetes API. Its pod is the operator's: this kind emits no NetworkPolicy.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SealedSecretSpec {
    /// Key → sealed value, each the base64 ciphertext `kubeseal` printed for it.
    pub encrypted_data: BTreeMap<String, String>,
    /// What the values were sealed for (`kubeseal --scope`).
    #[serde(default)]
    pub scope: SealingScope,
    /// Type, labels and annotations of the Secret.
    #[serde(default)]
    pub template: Template,
}

/// Whether `value` has the shape of a value `kubeseal` sealed; why not otherwise.
pub fn sealed_value(value: &str) -> Result<(), String> {
    let advice = "seal it with `kubeseal --raw` (or `kubeseal -o yaml`) and paste the ciphertext: plaintext must never reach Git";
    let bytes = match base64::engine::general_purpose::STANDARD.decode(value.trim()) {
        Ok(b) => b,
        Err(_) => {
            return Err(format!(
                "this value is not sealed (not base64 ciphertext): {advice}"
            ))
        }
    };
    let rsa = match bytes.get(..2) {
        Some(n) => usize::from(u16::from_be_bytes([n[0], n[1]])),
        None => 0,
    };
    if rsa < MIN_RSA_BYTES || bytes.len() < 2 + rsa + GCM_TAG_BYTES {
        return Err(format!(
            "this value is too short to be sealed ({} bytes; kubeseal writes at least {}), so it is plaintext or only base64-encoded: {advice}",
            bytes.len(),
            2 + MIN_RSA_BYTES + GCM_TAG_BYTES
        ));
    }
    Ok(())
}

fn validate(spec: &SealedSecretSpec, p: &mut Problems<'_>) {
    if spec.encrypted_data.is_empty() {
        p.fail(
            "spec.encryptedData",
            "encryptedData must hold at least one sealed value",
        );
    }
    check_config_keys(spec.encrypted_data.keys(), p, "spec.encryptedData");
    for (k, v) in &spec.encrypted_data {
        // The message never repeats the value: it may be a plaintext secret.
        p.check(format!("spec.encryptedData.{k}"), sealed_value(v));
    }
    if let Some(ty) = &spec.template.type_ {
        p.check("spec.template.type", secret_type(ty));
    }
    check_string_map(&spec.template.labels, "spec.template.labels", true, p);
    check_string_map(
        &spec.template.annotations,
        "spec.template.annotations",
        false,
        p,
    );
    for key in [NAMESPACE_WIDE, CLUSTER_WIDE] {
        if spec.template.annotations.contains_key(key) {
            p.fail(
                format!("spec.template.annotations.{key}"),
                "set the scope with `scope`, not with this annotation",
            );
        }
    }
}

impl Kind for SealedSecret {
    const KIND: &'static str = "SealedSecret";
    const SUMMARY: &'static str =
        "a Secret kept in Git sealed by kubeseal, decrypted by the Sealed Secrets controller: SealedSecret";
    const EXAMPLE: Example = crate::example!("examples/secrets-management/sealed-secret.yaml");
    type Spec = SealedSecretSpec;

    fn validate(spec: &SealedSecretSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for SealedSecret {
    const EMITS: &'static [Gvk] = &[Gvk::new("bitnami.com/v1alpha1", "SealedSecret")];

    fn expand(spec: SealedSecretSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let (name, ns) = (m.name, m.namespace.as_str());
        let scope = match spec.scope {
            SealingScope::Strict => None,
            SealingScope::NamespaceWide => Some(NAMESPACE_WIDE),
            SealingScope::ClusterWide => Some(CLUSTER_WIDE),
        };
        // As kubeseal writes it: the scope on the SealedSecret (which the controller decrypts
        // by) and on its template.
        let mut annotations = Map::new();
        if let Some(a) = scope {
            annotations.insert(a.into(), json!("true"));
        }
        let mut metadata = Map::new();
        metadata.insert("name".into(), json!(name));
        metadata.insert("namespace".into(), json!(ns));
        metadata.insert("labels".into(), json!({"app.kubernetes.io/name": name}));
        if !annotations.is_empty() {
            metadata.insert("annotations".into(), Value::Object(annotations.clone()));
        }
        let mut tmeta = Map::new();
        tmeta.insert("name".into(), json!(name));
        tmeta.insert("namespace".into(), json!(ns));
        if !spec.template.labels.is_empty() {
            tmeta.insert("labels".into(), json!(spec.template.labels));
        }
        for (k, v) in &spec.template.annotations {
            annotations.insert(k.clone(), json!(v));
        }
        if !annotations.is_empty() {
            tmeta.insert("annotations".into(), Value::Object(annotations));
        }
        let mut template = Map::new();
        template.insert("metadata".into(), Value::Object(tmeta));
        template.insert(
            "type".into(),
            json!(spec.template.type_.as_deref().unwrap_or("Opaque")),
        );
        if spec.template.immutable {
            template.insert("immutable".into(), json!(true));
        }
        Expansion {
            objects: vec![json!({
                "apiVersion": ctx.api_version(&operators::SEALED_SECRET),
                "kind": "SealedSecret",
                "metadata": metadata,
                "spec": {"encryptedData": spec.encrypted_data, "template": template},
            })],
            ..Default::default()
        }
    }
}
