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
        return Err("bootstrap token Secrets are cluster credentials: manage them with kubeadm, not here".into());
    }
    Ok(())
}

/// Checks the keys (and, for labels, the values) of a label or annotation map.
fn check_string_map(map: &BTreeMap<String, String>, field: &str, labels: bool, p: &mut Problems<'_>) {
    for (k, v) in map {
        p.check(format!("{field}.{k}"), validate::label_key(k));
        if labels {
            p.check(format!("{field}.{k}"), validate::label_value(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{run, Options, Output};
    use crate::finding::Severity;
    use serde_json::{json, Value};

    fn render(yaml: &str) -> Output {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        run(
            inputs,
            &Options {
                skip_checks: true,
                ..Options::new(crate::modules::registry())
            },
        )
    }

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
}
