//! Argo CD config-management plugin environment → render overrides.
//!
//! Read: `ARGOCD_APP_NAME` (inventory name), `ARGOCD_APP_NAMESPACE` (default namespace),
//! `ARGOCD_ENV_<NAME>` from the Application's `plugin.env`, and the `ARGOCD_APP_PARAMETERS` JSON
//! from `plugin.parameters` (parsed as JSON, never through the mangled `PARAM_*` copies).
//! Parameters win over env, env over the build variables.

use crate::finding::Finding;
use crate::settings::Overrides;
use serde_json::Value;

/// Settings the plugin accepts, as parameter name and `ARGOCD_ENV_` suffix.
pub const SETTINGS: [(&str, &str); 5] = [
    ("namespace", "NAMESPACE"),
    ("inventory", "INVENTORY"),
    ("kubernetesVersion", "KUBERNETES_VERSION"),
    ("labels", "LABELS"),
    ("annotations", "ANNOTATIONS"),
];

/// Builds overrides from an environment (given as pairs, so tests need not touch the process).
pub fn overrides(env: &[(String, String)]) -> (Overrides, Vec<Finding>) {
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut o = Overrides::default();
    let mut findings = Vec::new();
    o.inventory = get("ARGOCD_APP_NAME")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    o.namespace = get("ARGOCD_APP_NAMESPACE")
        .filter(|s| !s.is_empty())
        .map(str::to_string);

    for (name, value) in env {
        let Some(suffix) = name.strip_prefix("ARGOCD_ENV_") else {
            continue;
        };
        match SETTINGS.iter().find(|(_, s)| *s == suffix) {
            Some((param, _)) => {
                if let Err(e) = set(&mut o, param, &Value::String(value.clone()), name) {
                    findings.push(e);
                }
            }
            None => findings.push(
                Finding::warning(format!(
                    "{name} is not a setting of this plugin and is ignored; known: {}",
                    SETTINGS
                        .iter()
                        .map(|(_, s)| format!("ARGOCD_ENV_{s}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .field(name.clone()),
            ),
        }
    }

    if let Some(json) = get("ARGOCD_APP_PARAMETERS").filter(|s| !s.trim().is_empty()) {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Array(params)) => {
                for (i, p) in params.iter().enumerate() {
                    let field = format!("ARGOCD_APP_PARAMETERS[{i}]");
                    let Some(name) = p.get("name").and_then(Value::as_str) else {
                        findings.push(Finding::error("parameter without a name").field(field));
                        continue;
                    };
                    let value = p
                        .get("string")
                        .or_else(|| p.get("map"))
                        .or_else(|| p.get("array"));
                    let Some(value) = value.filter(|v| !v.is_null()) else {
                        continue;
                    };
                    if let Err(e) = set(&mut o, name, value, &format!("{field} ({name})")) {
                        findings.push(e);
                    }
                }
            }
            Ok(_) => findings.push(
                Finding::error("ARGOCD_APP_PARAMETERS must be a JSON array")
                    .field("ARGOCD_APP_PARAMETERS"),
            ),
            Err(e) => findings.push(
                Finding::error(format!("ARGOCD_APP_PARAMETERS is not valid JSON: {e}"))
                    .field("ARGOCD_APP_PARAMETERS"),
            ),
        }
    }
    (o, findings)
}

/// Applies one setting; maps accept a JSON object or `k=v,k=v` text.
fn set(o: &mut Overrides, name: &str, value: &Value, field: &str) -> Result<(), Finding> {
    let text = || -> Result<String, Finding> {
        value.as_str().map(str::to_string).ok_or_else(|| {
            Finding::error(format!("{name} must be a string")).field(field.to_string())
        })
    };
    match name {
        "namespace" => o.namespace = Some(text()?),
        "inventory" => o.inventory = Some(text()?),
        "kubernetesVersion" => o.kubernetes_version = Some(text()?),
        "labels" | "annotations" => {
            let map = match value {
                Value::Object(m) => m.clone(),
                Value::String(s) => crate::settings::parse_pairs(
                    s.split(',').map(str::trim).filter(|p| !p.is_empty()),
                )
                .map_err(|e| Finding::error(e).field(field.to_string()))?,
                _ => {
                    return Err(
                        Finding::error(format!("{name} must be a map or k=v,k=v text"))
                            .field(field.to_string()),
                    )
                }
            };
            let target = if name == "labels" {
                &mut o.labels
            } else {
                &mut o.annotations
            };
            target.extend(map);
        }
        other => {
            return Err(Finding::error(format!(
                "unknown parameter {other:?}: expected one of {}",
                SETTINGS
                    .iter()
                    .map(|(p, _)| *p)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .field(field.to_string()))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_win_over_env() {
        let (o, f) = overrides(&env(&[
            ("ARGOCD_APP_NAME", "shop"),
            ("ARGOCD_APP_NAMESPACE", "shop-prod"),
            ("ARGOCD_ENV_NAMESPACE", "from-env"),
            ("ARGOCD_ENV_LABELS", "team=web, tier=front"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"namespace","string":"from-param"},{"name":"annotations","map":{"a":"b"}}]"#,
            ),
        ]));
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(o.inventory.as_deref(), Some("shop"));
        assert_eq!(o.namespace.as_deref(), Some("from-param"));
        assert_eq!(o.labels.get("tier").and_then(Value::as_str), Some("front"));
        assert_eq!(o.annotations.get("a").and_then(Value::as_str), Some("b"));
    }

    #[test]
    fn bad_parameters_are_errors() {
        let (_, f) = overrides(&env(&[("ARGOCD_APP_PARAMETERS", "[{")]));
        assert_eq!(f.len(), 1);
        let (_, f) = overrides(&env(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"colour","string":"x"}]"#,
        )]));
        assert!(f[0].message.contains("unknown parameter"), "{f:?}");
    }
}
