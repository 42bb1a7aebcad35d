//! Argo CD config-management plugin environment → render overrides.
//!
//! Read: `ARGOCD_APP_NAME` (inventory name), `ARGOCD_APP_NAMESPACE` (default namespace),
//! `ARGOCD_ENV_<NAME>` from the Application's `plugin.env`, and the `ARGOCD_APP_PARAMETERS` JSON
//! from `plugin.parameters` (parsed as JSON, never through the mangled `PARAM_*` copies). Every
//! setting is a row of `settings::SETTINGS` and read by its parser. Parameters win over env, env
//! over the build variables; the caller lays its flags over the result.

use crate::finding::Finding;
use crate::settings::{self, Overrides};
use serde_json::Value;

/// Builds overrides from an environment (given as pairs, so tests need not touch the process).
pub fn overrides(env: &[(String, String)]) -> (Overrides, Vec<Finding>) {
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut o = Overrides::default();
    let mut findings = Vec::new();
    let mut set = |setting: &settings::Setting, value: &Value, field: String| {
        setting
            .apply(&mut o, value)
            .err()
            .map(|e| Finding::error(e).field(field))
    };

    // Build variables: the Application's name and destination namespace.
    for (var, setting) in [
        ("ARGOCD_APP_NAME", &settings::INVENTORY),
        ("ARGOCD_APP_NAMESPACE", &settings::NAMESPACE),
    ] {
        if let Some(v) = get(var).filter(|s| !s.is_empty()) {
            findings.extend(set(setting, &Value::String(v.to_string()), var.to_string()));
        }
    }

    for (name, value) in env {
        let Some(short) = name.strip_prefix("ARGOCD_ENV_") else {
            continue;
        };
        // Input paths (`ARGOCD_ENV_NIXERNETES_RULES`), which `render --argocd` reads itself.
        if settings::PATH_VARIABLES.contains(&short) {
            continue;
        }
        match settings::lookup_env(name) {
            Some(setting) => {
                findings.extend(set(setting, &Value::String(value.clone()), name.clone()))
            }
            None => findings.push(
                Finding::warning(format!(
                    "not a setting of this plugin, ignored; known: {}{}",
                    settings::SETTINGS
                        .iter()
                        .map(|s| s.env())
                        .collect::<Vec<_>>()
                        .join(", "),
                    settings::not_a_setting(name)
                ))
                .field(name.clone()),
            ),
        }
    }

    let mut params = Vec::new();
    if let Some(json) = get("ARGOCD_APP_PARAMETERS").filter(|s| !s.trim().is_empty()) {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Array(list)) => params = list,
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
        // Argo CD sends `null` for parameters an ApplicationSet left empty (argo-cd#11900).
        let Some(value) = value.filter(|v| !v.is_null()) else {
            continue;
        };
        match settings::lookup(name) {
            Some(setting) => findings.extend(set(setting, value, format!("{field} ({name})"))),
            None => findings.push(
                Finding::error(format!(
                    "unknown parameter {name:?}: expected one of {}{}",
                    settings::names(),
                    settings::not_a_setting(name)
                ))
                .field(format!("{field} ({name})")),
            ),
        }
    }
    (o, findings)
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

    #[test]
    fn every_setting_of_the_table_is_a_parameter_and_an_env_entry() {
        use crate::types::{Enforcement, Level, Profile};
        let (o, f) = overrides(&env(&[
            ("ARGOCD_ENV_PROFILE", "restricted"),
            ("ARGOCD_ENV_FIX", "true"),
            ("ARGOCD_ENV_KUBERNETES_VERSION", "1.32"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"level","string":"high"},{"name":"enforcement","string":"enforce"},{"name":"kubernetesVersion","string":"1.34"},{"name":"labels","array":["a=1","b=x,y"]}]"#,
            ),
        ]));
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(o.profile, Some(Profile::Restricted));
        assert_eq!(o.level, Some(Level::High));
        assert_eq!(o.enforcement, Some(Enforcement::Enforce));
        assert!(o.fix);
        // The parameter wins over the env entry.
        assert_eq!(o.kubernetes_version.map(|v| v.minor()), Some(34));
        assert_eq!(o.labels.get("b").and_then(Value::as_str), Some("x,y"));
    }

    #[test]
    fn unknown_names_list_the_table() {
        let (_, f) = overrides(&env(&[
            ("ARGOCD_ENV_COLOUR", "blue"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"colour","string":"x"}]"#,
            ),
        ]));
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f[0].message.contains("ARGOCD_ENV_TIMESTAMP"),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message.ends_with(&crate::settings::names()),
            "{}",
            f[1].message
        );
    }

    /// A selector is a command-line filter, not a setting: both spellings say why.
    #[test]
    fn a_selector_is_not_a_setting() {
        let (o, f) = overrides(&env(&[
            ("ARGOCD_ENV_SELECTOR", "app=web"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"selector","string":"app=web"}]"#,
            ),
        ]));
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].severity, crate::finding::Severity::Warning);
        assert_eq!(f[1].severity, crate::finding::Severity::Error);
        for finding in &f {
            assert!(
                finding
                    .message
                    .contains("only a command-line flag, -l/--selector"),
                "{}",
                finding.message
            );
        }
        assert!(o.labels.is_empty());
    }
}
