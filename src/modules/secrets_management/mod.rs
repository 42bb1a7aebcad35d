//! Seed module `secrets-management` (category `security`): Secrets that are never written in
//! Git in plaintext, either synced from a secret store by the External Secrets Operator
//! (`ExternalSecret`, through a `SecretStore`) or sealed for the cluster by `kubeseal`
//! (`SealedSecret`).

mod external_secret;
mod sealed_secret;
mod secret_store;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, Problems, SeedModule};
use crate::validate;
use std::collections::BTreeMap;

pub static MODULE: SeedModule = SeedModule {
    name: "secrets-management",
    category: Category::Security,
    summary: "Secrets synced from a secret store or sealed for the cluster, never plaintext in Git",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<external_secret::ExternalSecret>(&MODULE),
        generator::<secret_store::SecretStore>(&MODULE),
        generator::<sealed_secret::SealedSecret>(&MODULE),
    ]
}

/// A Secret type as written in `type`: e.g. `Opaque` or `kubernetes.io/tls`.
fn secret_type(t: &str) -> Result<(), String> {
    if t.is_empty() || t.len() > 253 || t.contains(char::is_whitespace) {
        return Err(format!(
            "{t:?}: expected a Secret type, e.g. Opaque, kubernetes.io/tls, kubernetes.io/dockerconfigjson"
        ));
    }
    if t == "bootstrap.kubernetes.io/token" {
        return Err(
            "bootstrap token Secrets are cluster credentials: manage them with kubeadm, not here"
                .into(),
        );
    }
    Ok(())
}

/// Checks the keys (and, for labels, the values) of a label or annotation map.
fn check_string_map(
    map: &BTreeMap<String, String>,
    field: &str,
    labels: bool,
    p: &mut Problems<'_>,
) {
    for (k, v) in map {
        p.check(format!("{field}.{k}"), validate::label_key(k));
        if labels {
            p.check(format!("{field}.{k}"), validate::label_value(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::Output;
    use crate::finding::Severity;
    use crate::modules::shared::testing::render;
    use serde_json::{json, Value};

    fn errors(out: &Output) -> Vec<(String, String)> {
        out.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.field.clone().unwrap_or_default(), f.message.clone()))
            .collect()
    }

    fn spec_of(out: &Output, kind: &str) -> Value {
        let o = out.objects.iter().find(|o| o.kind() == kind).unwrap();
        o.object["spec"].clone()
    }

    /// A value of the shape kubeseal writes for a 4096-bit key.
    fn sealed() -> String {
        use base64::Engine;
        let mut b = vec![2u8, 0];
        b.extend(std::iter::repeat_n(9u8, 512 + 16 + 8));
        base64::engine::general_purpose::STANDARD.encode(&b)
    }

    #[test]
    fn external_secret_defaults() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: ExternalSecret
metadata: {name: db, namespace: pay}
spec:
  storeRef: {name: vault}
  dataFrom: [{extract: {key: pay/db}}]
",
        );
        assert_eq!(errors(&out), []);
        let spec = spec_of(&out, "ExternalSecret");
        assert_eq!(
            spec["secretStoreRef"],
            json!({"name": "vault", "kind": "ClusterSecretStore"})
        );
        assert_eq!(spec["refreshInterval"], "1h");
        assert_eq!(
            spec["target"],
            json!({"name": "db", "creationPolicy": "Owner"})
        );
        assert_eq!(spec["dataFrom"], json!([{"extract": {"key": "pay/db"}}]));
        assert!(spec.get("data").is_none());
    }

    #[test]
    fn secret_store_scope_and_provider_keys() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: SecretStore
metadata: {name: gcp, namespace: pay}
spec:
  provider:
    gcp: {projectID: acme-prod, auth: {workloadIdentity: {serviceAccountRef: {name: eso}}}}
---
apiVersion: nixernetes.io/v1alpha1
kind: SecretStore
metadata: {name: azure, namespace: pay}
spec:
  scope: Cluster
  provider:
    azure: {vaultUrl: https://acme.vault.azure.net}
",
        );
        assert_eq!(errors(&out), []);
        let store = out
            .objects
            .iter()
            .find(|o| o.kind() == "SecretStore")
            .unwrap();
        assert_eq!(store.namespace(), Some("pay"));
        assert_eq!(
            store.object["spec"]["provider"],
            json!({"gcpsm": {"projectID": "acme-prod", "auth": {"workloadIdentity": {"serviceAccountRef": {"name": "eso"}}}}})
        );
        let cluster = out
            .objects
            .iter()
            .find(|o| o.kind() == "ClusterSecretStore")
            .unwrap();
        assert_eq!(cluster.namespace(), None);
        // ESO's own default is ServicePrincipal: the keyless default is written out.
        assert_eq!(
            cluster.object["spec"]["provider"],
            json!({"azurekv": {"vaultUrl": "https://acme.vault.azure.net", "authType": "WorkloadIdentity"}})
        );
    }

    #[test]
    fn sealed_secret_scope_annotations_and_ciphertext_shape() {
        use super::sealed_secret::sealed_value;
        let out = render(&format!(
            "apiVersion: nixernetes.io/v1alpha1
kind: SealedSecret
metadata: {{name: api, namespace: pay}}
spec:
  scope: namespace-wide
  encryptedData: {{token: {}}}
",
            sealed()
        ));
        assert_eq!(errors(&out), []);
        let o = out
            .objects
            .iter()
            .find(|o| o.kind() == "SealedSecret")
            .unwrap();
        let want = Some("true");
        assert_eq!(
            o.annotation("sealedsecrets.bitnami.com/namespace-wide"),
            want
        );
        assert_eq!(
            o.object["spec"]["template"]["metadata"]["annotations"],
            json!({"sealedsecrets.bitnami.com/namespace-wide": "true"})
        );
        assert_eq!(o.object["spec"]["template"]["type"], "Opaque");
        // 2-byte length 0x0100 (a 2048-bit key), 256 bytes of RSA, 16 of GCM tag: the least.
        let mut b = vec![1u8, 0];
        b.extend(std::iter::repeat_n(7u8, 256 + 16));
        use base64::Engine;
        let least = base64::engine::general_purpose::STANDARD.encode(&b);
        assert!(sealed_value(&least).is_ok());
        assert!(sealed_value(&least[..least.len() - 4]).is_err());
        // A length prefix that claims more than is there.
        b[0] = 2;
        let lying = base64::engine::general_purpose::STANDARD.encode(&b);
        assert!(sealed_value(&lying).is_err());
        let plain = sealed_value("hunter2").unwrap_err();
        assert!(
            plain.contains("kubeseal") && !plain.contains("hunter2"),
            "{plain}"
        );
    }

    #[test]
    fn external_secret_policies_and_store_providers_are_checked_together() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: ExternalSecret
metadata: {name: db, namespace: pay}
spec:
  storeRef: {name: vault}
  refreshInterval: \"-1h\"
  data: [{secretKey: a, remoteRef: {key: k}}]
  target: {creationPolicy: None, deletionPolicy: Delete}
",
        );
        let fields: Vec<String> = errors(&out).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["spec.refreshInterval", "spec.target.deletionPolicy"]
        );
    }
}
