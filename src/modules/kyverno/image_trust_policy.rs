//! `ImageTrustPolicy`: only signed images run. A Kyverno ClusterPolicy with one `verifyImages`
//! rule (Kyverno's own shape: `attestors[].entries[].keyless|keys`, the failure action per
//! rule), verifying Sigstore keyless signatures (issuer and subject of the signing identity) or
//! signatures by public keys, and pinning verified images to their digest. As Kyverno's own
//! samples do, it runs at admission only (no background scan) with a 30-second webhook timeout,
//! since verification fetches signatures from the registry.

use super::common::FailureAction;
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::defaults;
use crate::schema::operators;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub struct ImageTrustPolicy;

fn enforce() -> FailureAction {
    FailureAction::Enforce
}

/// Which images must be signed, and by whom.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageTrustPolicySpec {
    /// Image reference patterns to verify, with `*` wildcards, e.g. `ghcr.io/acme/*`.
    pub image_references: Vec<String>,
    /// Sigstore keyless signatures: the identity that signed (give this or `publicKeys`).
    pub keyless: Option<Keyless>,
    /// PEM public keys (`-----BEGIN PUBLIC KEY-----`); an image signed by any one of them is
    /// trusted (give this or `keyless`).
    pub public_keys: Option<Vec<String>>,
    /// Replace the tag of a verified image by its digest, so what runs is what was verified.
    #[serde(default = "defaults::yes")]
    pub mutate_digest: bool,
    /// Require verified images to be referenced by digest.
    #[serde(default = "defaults::yes")]
    pub verify_digest: bool,
    /// `Enforce` refuses pods with unsigned images; `Audit` only reports them.
    #[serde(default = "enforce")]
    pub failure_action: FailureAction,
}

/// The identity of a Sigstore keyless signature.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Keyless {
    /// The OIDC issuer of the signing certificate, e.g.
    /// `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// The signer's identity (a workflow URL or an e-mail address; `*` wildcards allowed), e.g.
    /// `https://github.com/acme/*/.github/workflows/release.yaml@refs/tags/*`.
    pub subject: String,
    /// The transparency log; the public Rekor instance when not given.
    pub rekor: Option<Rekor>,
}

/// A Rekor transparency log.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rekor {
    /// Its address, e.g. `https://rekor.sigstore.dev`.
    pub url: String,
}

/// Checks that `pem` is one PEM public key: the armour lines and a base64 body.
fn check_pem(pem: &str) -> Result<(), String> {
    let lines: Vec<&str> = pem
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return Err("empty: paste the key's PEM text".into());
    };
    if *first != "-----BEGIN PUBLIC KEY-----" || *last != "-----END PUBLIC KEY-----" {
        let hint = if first.contains("PRIVATE KEY") {
            "this is a private key: never put it in a manifest; give the public key (cosign public-key)"
        } else if first.contains("CERTIFICATE") {
            "this is a certificate, not a public key: give the key (cosign public-key)"
        } else {
            "expected a PEM public key between -----BEGIN PUBLIC KEY----- and -----END PUBLIC KEY-----"
        };
        return Err(hint.into());
    }
    let body = &lines[1..lines.len() - 1];
    let base64 = |l: &&str| {
        l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    let len: usize = body.iter().map(|l| l.len()).sum();
    if body.is_empty() || !body.iter().all(base64) || !len.is_multiple_of(4) {
        return Err("the key's body is not base64: paste the PEM text unchanged".into());
    }
    Ok(())
}

/// Checks an image reference pattern.
fn check_reference(r: &str) -> Result<Option<String>, String> {
    if r.is_empty() || r.contains(char::is_whitespace) {
        return Err(format!("{r:?} is no image reference pattern"));
    }
    if r.contains("://") {
        return Err(format!(
            "{r:?}: image references have no scheme: write e.g. ghcr.io/acme/*"
        ));
    }
    let registry = r.split('/').next().unwrap_or("");
    if r.chars().any(|c| c.is_ascii_uppercase()) && !registry.contains('*') {
        return Err(format!("{r:?}: image repositories are lowercase"));
    }
    if r == "*" {
        return Ok(Some(
            "* verifies every image, the cluster's own included: name your registries".into(),
        ));
    }
    if !r.contains('*') && !r.contains(':') && !r.contains('@') {
        return Ok(Some(format!(
            "{r:?} matches only that exact reference, not its tags: write {r}:* or {r}*"
        )));
    }
    Ok(None)
}

fn check_https(url: &str, field: &str, p: &mut Problems<'_>) {
    if !url.starts_with("https://") || url.len() <= "https://".len() {
        p.fail(field, format!("{url:?}: expected an https:// URL"));
    }
}

impl Kind for ImageTrustPolicy {
    const KIND: &'static str = "ImageTrustPolicy";
    const SUMMARY: &'static str =
        "only signed images run: a Kyverno verifyImages ClusterPolicy (keyless or public keys)";
    const EXAMPLE: Example = crate::example!("examples/kyverno/image-trust-policy.yaml");
    type Spec = ImageTrustPolicySpec;

    fn validate(spec: &ImageTrustPolicySpec, p: &mut Problems<'_>) {
        if spec.image_references.is_empty() {
            p.fail(
                "spec.imageReferences",
                "name the images to verify, e.g. [ghcr.io/acme/*]",
            );
        }
        for (i, r) in spec.image_references.iter().enumerate() {
            let field = format!("spec.imageReferences[{i}]");
            match check_reference(r) {
                Err(why) => p.fail(&field, why),
                Ok(Some(why)) => p.warn(&field, why),
                Ok(None) => {}
            }
            if spec.image_references[..i].contains(r) {
                p.fail(&field, format!("duplicate reference {r:?}"));
            }
        }
        match (&spec.keyless, &spec.public_keys) {
            (Some(_), Some(_)) => p.fail(
                "spec",
                "give keyless or publicKeys, not both: write one ImageTrustPolicy per signer",
            ),
            (None, None) => p.fail(
                "spec",
                "say who signs the images: give keyless {issuer, subject} or publicKeys",
            ),
            _ => {}
        }
        if let Some(k) = &spec.keyless {
            check_https(&k.issuer, "spec.keyless.issuer", p);
            if k.subject.trim().is_empty() {
                p.fail("spec.keyless.subject", "name the signing identity");
            } else if k.subject.trim() == "*" {
                p.fail(
                    "spec.keyless.subject",
                    "* trusts anyone the issuer has signed for: name the identity (a workflow URL or an e-mail address)",
                );
            }
            if let Some(r) = &k.rekor {
                check_https(&r.url, "spec.keyless.rekor.url", p);
            }
        }
        if let Some(keys) = &spec.public_keys {
            if keys.is_empty() {
                p.fail("spec.publicKeys", "give at least one PEM public key");
            }
            for (i, k) in keys.iter().enumerate() {
                p.check(format!("spec.publicKeys[{i}]"), check_pem(k));
            }
        }
        if spec.mutate_digest && spec.failure_action == FailureAction::Audit {
            p.fail(
                "spec.mutateDigest",
                "Kyverno mutates digests only when it enforces: set failureAction: Enforce, or mutateDigest: false to audit",
            );
        }
    }
}

impl Generate for ImageTrustPolicy {
    const EMITS: &'static [Gvk] = &[Gvk::new("kyverno.io/v1", "ClusterPolicy")];

    fn expand(spec: ImageTrustPolicySpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let entries: Vec<Value> = match (&spec.keyless, &spec.public_keys) {
            (Some(k), _) => {
                let mut keyless = json!({"issuer": k.issuer, "subject": k.subject});
                if let Some(r) = &k.rekor {
                    keyless["rekor"] = json!({"url": r.url});
                }
                vec![json!({ "keyless": keyless })]
            }
            (None, Some(keys)) => keys
                .iter()
                .map(|k| json!({"keys": {"publicKeys": format!("{}\n", k.trim())}}))
                .collect(),
            (None, None) => Vec::new(),
        };
        let mut attestor = json!({ "entries": entries });
        if entries_len(&attestor) > 1 {
            // Any one of the keys: Kyverno requires every entry unless a count is given.
            attestor["count"] = json!(1);
        }
        let row = &operators::KYVERNO_CLUSTER_POLICY;
        let policy = json!({
            "apiVersion": ctx.api_version(row),
            "kind": row.kind,
            "metadata": {"name": m.name},
            "spec": {
                "background": false,
                "webhookTimeoutSeconds": 30,
                "failurePolicy": "Fail",
                "rules": [{
                    "name": "verify-signatures",
                    "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                    "verifyImages": [{
                        "imageReferences": spec.image_references,
                        "failureAction": spec.failure_action,
                        "mutateDigest": spec.mutate_digest,
                        "verifyDigest": spec.verify_digest,
                        "required": true,
                        "attestors": [attestor],
                    }],
                }],
            },
        });
        Expansion {
            objects: vec![policy],
            ..Default::default()
        }
    }
}

fn entries_len(attestor: &Value) -> usize {
    attestor["entries"].as_array().map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\n5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==\n-----END PUBLIC KEY-----\n";

    #[test]
    fn pem_shape() {
        assert_eq!(check_pem(KEY), Ok(()));
        assert!(check_pem(&KEY.replace("PUBLIC KEY", "PRIVATE KEY"))
            .unwrap_err()
            .contains("private key"));
        assert!(check_pem(&KEY.replace("MFkw", "MF!w")).is_err());
        assert!(check_pem(&KEY.replace("ZA==", "ZA=")).is_err());
        assert!(check_pem("").is_err());
        assert!(check_pem("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----").is_err());
    }

    #[test]
    fn references_are_patterns() {
        assert_eq!(check_reference("ghcr.io/acme/*"), Ok(None));
        assert_eq!(check_reference("ghcr.io/acme/app:*"), Ok(None));
        assert!(check_reference("ghcr.io/acme/app").unwrap().is_some());
        assert!(check_reference("*").unwrap().is_some());
        assert!(check_reference("https://ghcr.io/acme/*").is_err());
        assert!(check_reference("ghcr.io/Acme/*").is_err());
        assert!(check_reference("ghcr.io/acme /*").is_err());
    }
}
