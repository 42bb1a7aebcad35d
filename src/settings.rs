//! Run settings: what the policy checks hold objects to, the platform's default container
//! resources, and the settings given outside the input, which win over the input's
//! `PlatformDefaults`.
//!
//! [`SETTINGS`] is the one table of those settings: each one's name (the KRM function's ConfigMap
//! key and the Argo CD parameter), its flag, its `ARGOCD_ENV_` variable, its `PlatformDefaults`
//! field, what it takes and one parser into [`Overrides`]. The flags, the ConfigMap and the Argo
//! CD environment all go through it, so a setting reads the same everywhere; `PlatformDefaults`
//! reads the same types through serde.
//!
//! Precedence, highest first: flags; Argo CD parameters (`ARGOCD_APP_PARAMETERS`);
//! `ARGOCD_ENV_<NAME>`; the Argo CD build variables (`ARGOCD_APP_NAME` as the inventory,
//! `ARGOCD_APP_NAMESPACE` as the namespace); the KRM function's ConfigMap (the only source in that
//! mode); configuration kinds in the input, `PlatformDefaults` lowest; built-in defaults. Each
//! source is laid over the ones below it with [`Setting::apply`], so a source can only replace what
//! it names; labels and annotations merge key by key.

use crate::finding::Severity;
use crate::resource::type_name;
use crate::types::{AdmissionPolicies, Enforcement, KubernetesVersion, Level, Profile};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What is in force for a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySettings {
    /// Pod Security profile; derived from the level when unset, `baseline` when neither is set.
    pub profile: Option<Profile>,
    pub level: Option<Level>,
    /// Compliance framework in force (from a `ComplianceProfile`).
    pub framework: Option<String>,
    pub enforcement: Enforcement,
    /// Apply the auto-fix mutations to pass-through objects too (`--fix`).
    pub fix_pass_through: bool,
    /// The Kubernetes minor `stable-api-version` judges against: the run's target, which the
    /// engine copies here from its context once that is final.
    pub kubernetes_version: KubernetesVersion,
    /// How this run treats single checks, by check id (`PlatformDefaults.spec.checks`, then
    /// `--disable-check` / `--enable-check`): the policy layer applies it, the engine reports
    /// each entry once.
    pub checks: BTreeMap<String, CheckSetting>,
}

/// How one run treats one check: on or off, at which severity, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSetting {
    /// `Some(false)`: the check does not run. `Some(true)`: it runs even where the profile or
    /// level would not run it (`compliance-labels` without a level). `None`: as the profile
    /// and level say.
    pub enabled: Option<bool>,
    /// The severity of every hit of the check, replacing the one the profile, the level and
    /// the check itself give (audit still reports errors as warnings).
    pub severity: Option<Severity>,
    /// Why, as the user wrote it.
    pub reason: Option<String>,
    /// Where it was set: `PlatformDefaults spec.checks.<id>`, or the setting's name
    /// (`disableCheck`, `enableCheck`) for the flags, the ConfigMap and Argo CD.
    pub source: String,
}

impl CheckSetting {
    /// The reason as reports show it.
    pub fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("no reason given")
    }

    /// What it does, for the run's report: `off`, `on`, `on at severity error`, `at severity
    /// warning`.
    pub fn effect(&self) -> String {
        match (self.enabled, self.severity) {
            (Some(false), _) => "off".into(),
            (Some(true), None) => "on".into(),
            (Some(true), Some(s)) => format!("on at severity {}", s.as_str()),
            (None, Some(s)) => format!("at severity {}", s.as_str()),
            (None, None) => "as the profile and level say".into(),
        }
    }
}

impl PolicySettings {
    /// Replaces what is given (flags, `PlatformDefaults`) and keeps the rest.
    pub fn override_with(
        &mut self,
        profile: Option<Profile>,
        level: Option<Level>,
        enforcement: Option<Enforcement>,
    ) {
        if profile.is_some() {
            self.profile = profile;
        }
        if level.is_some() {
            self.level = level;
        }
        if let Some(e) = enforcement {
            self.enforcement = e;
        }
    }

    /// The Pod Security profile in force.
    pub fn profile(&self) -> Profile {
        self.profile.unwrap_or(match self.level {
            Some(Level::Unrestricted | Level::Low) | None => Profile::Baseline,
            Some(_) => Profile::Restricted,
        })
    }
}

/// Container resources used when a module spec sets none.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultResources {
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

impl Default for DefaultResources {
    fn default() -> Self {
        DefaultResources {
            requests: [("cpu", "100m"), ("memory", "128Mi")]
                .map(|(k, v)| (k.into(), v.into()))
                .into(),
            limits: [("cpu", "500m"), ("memory", "512Mi")]
                .map(|(k, v)| (k.into(), v.into()))
                .into(),
        }
    }
}

/// Settings given outside the input (flags, environment); each `Some` wins over the input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub namespace: Option<String>,
    pub kubernetes_version: Option<KubernetesVersion>,
    pub inventory: Option<String>,
    pub monitoring_namespace: Option<String>,
    pub labels: Map<String, Value>,
    pub annotations: Map<String, Value>,
    pub timestamp: Option<String>,
    /// Leave module children without a namespace when nothing names one (Kustomize modes).
    pub no_namespace_fallback: bool,
    pub profile: Option<Profile>,
    pub level: Option<Level>,
    pub enforcement: Option<Enforcement>,
    /// Apply auto-fixes to pass-through objects too.
    pub fix: bool,
    /// An object with no schema is a `schema` error, not a note.
    pub fail_on_unknown_schema: bool,
    /// Paths of KindDefinitions (files or directories), read when the run starts.
    pub kinds: Vec<String>,
    /// Emit the exported rules as admission policies.
    pub admission_policies: Option<AdmissionPolicies>,
    /// `--disable-check` / `--enable-check` entries in the order given; a later one for the same
    /// check replaces an earlier one (and `PlatformDefaults.spec.checks`) whole.
    pub checks: Vec<(String, CheckSetting)>,
}

/// Parses `KEY=VALUE` pairs.
pub fn parse_pairs<'a>(pairs: impl Iterator<Item = &'a str>) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return Err(format!("{p:?}: expected KEY=VALUE"));
        };
        map.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
    }
    Ok(map)
}

/// A setting given outside the input: one row of [`SETTINGS`].
#[derive(Debug)]
pub struct Setting {
    /// The KRM function's ConfigMap key and the Argo CD parameter (camelCase).
    pub name: &'static str,
    /// The command-line flag(s).
    pub flag: &'static str,
    /// The Argo CD `plugin.env` variable when it is not derived from the name.
    pub env_name: Option<&'static str>,
    /// The `PlatformDefaults` field that sets it in the input, if any.
    pub platform_defaults: Option<&'static str>,
    /// What it takes.
    pub value: &'static str,
    /// One line: what it does.
    pub description: &'static str,
    parse: fn(&mut Overrides, &Value) -> Result<(), String>,
}

impl Setting {
    /// The Argo CD `plugin.env` variable: `ARGOCD_ENV_` and the name in upper snake case.
    pub fn env(&self) -> String {
        if let Some(env) = self.env_name {
            return env.to_string();
        }
        let mut env = String::from("ARGOCD_ENV_");
        for c in self.name.chars() {
            if c.is_ascii_uppercase() {
                env.push('_');
            }
            env.push(c.to_ascii_uppercase());
        }
        env
    }

    /// Lays `value` over `o`. Text sources (ConfigMap, env, a flag) give a string; Argo CD
    /// parameters may also give a map or an array. The error says what was expected; the caller
    /// names where the value came from.
    pub fn apply(&self, o: &mut Overrides, value: &Value) -> Result<(), String> {
        (self.parse)(o, value)
    }
}

pub static NAMESPACE: Setting = Setting {
    name: "namespace",
    flag: "-n, --namespace",
    env_name: None,
    platform_defaults: Some("spec.namespace"),
    value: "a DNS label",
    description: "namespace of objects that name none (module resources default to `default`)",
    parse: |o, v| {
        o.namespace = Some(text(v)?);
        Ok(())
    },
};

pub static INVENTORY: Setting = Setting {
    name: "inventory",
    flag: "--inventory",
    env_name: None,
    platform_defaults: Some("spec.inventory"),
    value: "a label value",
    description: "inventory (apply set) name, stamped as label `nixernetes.io/inventory`",
    parse: |o, v| {
        o.inventory = Some(text(v)?);
        Ok(())
    },
};

pub static MONITORING_NAMESPACE: Setting = Setting {
    name: "monitoringNamespace",
    flag: "--monitoring-namespace",
    env_name: None,
    platform_defaults: Some("spec.monitoring.namespace"),
    value: "a DNS label (default `monitoring`)",
    description: "namespace of the metrics scrapers: the generated NetworkPolicies let it reach the metrics ports",
    parse: |o, v| {
        o.monitoring_namespace = Some(text(v)?);
        Ok(())
    },
};

pub static KUBERNETES_VERSION: Setting = Setting {
    name: "kubernetesVersion",
    flag: "--kubernetes-version",
    env_name: None,
    platform_defaults: Some("spec.kubernetesVersion"),
    value: "`1.31` to `1.37` (default `1.31`); quote it in YAML",
    description: "target Kubernetes minor: the APIs the output uses and what `stable-api-version` judges against",
    parse: |o, v| {
        o.kubernetes_version = Some(typed(v)?);
        Ok(())
    },
};

pub static LABELS: Setting = Setting {
    name: "labels",
    flag: "--label",
    env_name: None,
    platform_defaults: Some("spec.labels"),
    value: "`k=v` pairs, separated by commas or newlines (Argo CD: also a map or a list)",
    description: "labels for every emitted object",
    parse: |o, v| {
        o.labels.extend(pairs(v)?);
        Ok(())
    },
};

pub static ANNOTATIONS: Setting = Setting {
    name: "annotations",
    flag: "--annotation",
    env_name: None,
    platform_defaults: Some("spec.annotations"),
    value: "`k=v` pairs, separated by commas or newlines (Argo CD: also a map or a list)",
    description: "annotations for every emitted object",
    parse: |o, v| {
        o.annotations.extend(pairs(v)?);
        Ok(())
    },
};

pub static PROFILE: Setting = Setting {
    name: "profile",
    flag: "--profile",
    env_name: None,
    platform_defaults: Some("spec.podSecurity"),
    value: "`privileged`, `baseline` or `restricted`",
    description: "Pod Security profile pods are held to (default: from the level, else baseline)",
    parse: |o, v| {
        o.profile = Some(typed(v)?);
        Ok(())
    },
};

pub static LEVEL: Setting = Setting {
    name: "level",
    flag: "--level",
    env_name: None,
    platform_defaults: Some("spec.complianceLevel"),
    value: "`unrestricted`, `low`, `medium`, `high` or `restricted`",
    description: "compliance level; `medium` and above make restricted Pod Security, network policy coverage and compliance labels errors",
    parse: |o, v| {
        o.level = Some(typed(v)?);
        Ok(())
    },
};

pub static ENFORCEMENT: Setting = Setting {
    name: "enforcement",
    flag: "--enforcement, --enforce",
    env_name: None,
    platform_defaults: Some("spec.enforcement"),
    value: "`enforce`, `audit` (default) or `off`",
    description: "what failing checks do: fail the run, report them as warnings, or nothing",
    parse: |o, v| {
        o.enforcement = Some(typed(v)?);
        Ok(())
    },
};

pub static FIX: Setting = Setting {
    name: "fix",
    flag: "--fix",
    env_name: None,
    platform_defaults: None,
    value: "`true` or `false`",
    description: "also apply the safe auto-fixes to pass-through objects",
    parse: |o, v| {
        o.fix = flag(v)?;
        Ok(())
    },
};

pub static FAIL_ON_UNKNOWN_SCHEMA: Setting = Setting {
    name: "failOnUnknownSchema",
    flag: "--fail-on-unknown-schema",
    env_name: None,
    platform_defaults: None,
    value: "`true` or `false`",
    description: "make an object with no schema (a custom resource whose CRD was not given) a `schema` error instead of a note",
    parse: |o, v| {
        o.fail_on_unknown_schema = flag(v)?;
        Ok(())
    },
};

pub static TIMESTAMP: Setting = Setting {
    name: "timestamp",
    flag: "--timestamp",
    env_name: None,
    platform_defaults: None,
    value: "`true` or `false`",
    description:
        "stamp annotation `nixernetes.io/created-at` (from `SOURCE_DATE_EPOCH` when set, else now)",
    parse: |o, v| {
        o.timestamp = if flag(v)? {
            Some(crate::types::time::created_at()?)
        } else {
            None
        };
        Ok(())
    },
};

/// The environment variable that gives [`KINDS`] in every mode (`ARGOCD_ENV_NIXERNETES_KINDS`
/// under Argo CD).
pub const KINDS_ENV: &str = "NIXERNETES_KINDS";

pub static KINDS: Setting = Setting {
    name: "kinds",
    flag: "--kinds",
    env_name: Some("ARGOCD_ENV_NIXERNETES_KINDS"),
    platform_defaults: None,
    value: "paths of files or directories, separated by commas or newlines (Argo CD: also a list); also `NIXERNETES_KINDS`",
    description: "KindDefinitions to load: your own kinds, which the input's instances expand through",
    parse: |o, v| {
        let given = match v {
            Value::Array(items) => items.iter().map(text).collect::<Result<Vec<_>, _>>()?,
            other => text(other)?
                .split([',', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        };
        for path in given {
            if path == "-" {
                return Err("kinds are read from files and directories, not stdin (-): give their path".into());
            }
            if !o.kinds.contains(&path) {
                o.kinds.push(path);
            }
        }
        Ok(())
    },
};

pub static ADMISSION_POLICIES: Setting = Setting {
    name: "admissionPolicies",
    flag: "--admission-policies",
    env_name: None,
    platform_defaults: None,
    value: "`none` (default), `include` or `only`",
    description: "emit each ValidationRule with `spec.admission.export: true` as a ValidatingAdmissionPolicy and binding: beside the output, or as the only output (see docs/rules.md)",
    parse: |o, v| {
        o.admission_policies = Some(typed(v).map_err(|_| {
            format!(
                "{}: expected `none`, `include` or `only`",
                match v {
                    Value::String(s) => format!("{s:?}"),
                    other => type_name(other).to_string(),
                }
            )
        })?);
        Ok(())
    },
};

/// Lays the settings read from the process environment in every mode (`NIXERNETES_KINDS`)
/// over `o`; the error names the variable.
pub fn apply_environment(o: &mut Overrides) -> Result<(), String> {
    match std::env::var(KINDS_ENV) {
        Ok(v) if !v.trim().is_empty() => KINDS
            .apply(o, &Value::String(v))
            .map_err(|e| format!("{KINDS_ENV}: {e}")),
        _ => Ok(()),
    }
}

pub static DISABLE_CHECK: Setting = Setting {
    name: "disableCheck",
    flag: "--disable-check",
    env_name: None,
    platform_defaults: Some("spec.checks.<id>.enabled"),
    value: "check ids, each optionally followed by `: reason`; separated by newlines (or commas when there is no newline)",
    description: "turn checks off for the whole run; each is reported once, with its reason",
    parse: |o, v| toggles(o, v, false, "disableCheck"),
};

pub static ENABLE_CHECK: Setting = Setting {
    name: "enableCheck",
    flag: "--enable-check",
    env_name: None,
    platform_defaults: Some("spec.checks.<id>.severity"),
    value: "check ids, each optionally `=error`, `=warning` or `=info`, then `: reason`; separated like `disableCheck`",
    description: "turn checks on for the whole run (even where the profile or level would not run them), at their own severity or the one given",
    parse: |o, v| toggles(o, v, true, "enableCheck"),
};

/// Every setting given outside the input, in the order the docs list them.
pub static SETTINGS: [&Setting; 16] = [
    &NAMESPACE,
    &INVENTORY,
    &MONITORING_NAMESPACE,
    &KUBERNETES_VERSION,
    &LABELS,
    &ANNOTATIONS,
    &PROFILE,
    &LEVEL,
    &ENFORCEMENT,
    &FIX,
    &FAIL_ON_UNKNOWN_SCHEMA,
    &DISABLE_CHECK,
    &ENABLE_CHECK,
    &TIMESTAMP,
    &KINDS,
    &ADMISSION_POLICIES,
];

/// Environment variables that give input paths, not settings: the rules of `NIXERNETES_RULES`
/// (under Argo CD also `ARGOCD_ENV_NIXERNETES_RULES`) are read like `--rules` paths.
pub const PATH_VARIABLES: &[&str] = &["NIXERNETES_RULES"];

/// The setting called `name` (a ConfigMap key or Argo CD parameter).
pub fn lookup(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().copied().find(|s| s.name == name)
}

/// The setting whose Argo CD env variable is `env` (`ARGOCD_ENV_KUBERNETES_VERSION`).
pub fn lookup_env(env: &str) -> Option<&'static Setting> {
    SETTINGS.iter().copied().find(|s| s.env() == env)
}

/// Why `name`, which is not a setting, is not one, when users reach for it: `selector` is the
/// `-l/--selector` flag of `render`, `check` and `diff`, a filter of what one command acts on.
/// The KRM function's output replaces the resource list and Argo CD prunes what the plugin
/// leaves out, so a filter there would delete objects. Empty for other names.
pub fn not_a_setting(name: &str) -> &'static str {
    match name {
        "selector" | "labelSelector" | "ARGOCD_ENV_SELECTOR" | "ARGOCD_ENV_LABEL_SELECTOR" => {
            " (a selector is only a command-line flag, -l/--selector of render, check and diff: here it would delete what it leaves out; to add labels, use labels)"
        }
        _ => "",
    }
}

/// The names of every setting, for "expected one of" messages.
pub fn names() -> String {
    SETTINGS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table as Markdown, as the README lists it.
pub fn markdown() -> String {
    let mut out = String::from(
        "| ConfigMap key / Argo CD parameter | `plugin.env` | flag | `PlatformDefaults` | value | what it does |\n|---|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} | {} | {} |\n",
            s.name,
            s.env(),
            s.flag,
            s.platform_defaults
                .map_or("—".to_string(), |f| format!("`{f}`")),
            s.value,
            s.description
        ));
    }
    out
}

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("expected a string, found {}", type_name(other))),
    }
}

/// A value of one of the setting types, read as `PlatformDefaults` reads it.
fn typed<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| e.to_string())
}

fn flag(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        Value::String(s) => Err(format!("{s:?}: expected \"true\" or \"false\"")),
        other => Err(format!(
            "expected true or false, found {}",
            type_name(other)
        )),
    }
}

/// Reads `ID[=SEVERITY][: REASON]` entries (a list, or text with one per line, or separated by
/// commas when there is no newline) into `o.checks`. Whether the ids name checks is the
/// engine's to say (this layer does not know the checks).
fn toggles(o: &mut Overrides, v: &Value, on: bool, source: &str) -> Result<(), String> {
    let items: Vec<String> = match v {
        Value::Array(items) => items.iter().map(text).collect::<Result<_, _>>()?,
        Value::String(s) if s.contains('\n') => s.lines().map(str::to_string).collect(),
        Value::String(s) => s.split(',').map(str::to_string).collect(),
        other => return Err(format!("expected check ids, found {}", type_name(other))),
    };
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let (head, reason) = match item.split_once(':') {
            Some((h, r)) if r.trim().is_empty() => {
                return Err(format!(
                    "{h:?}: the reason after `:` is empty: say why, or leave out the `:`"
                ))
            }
            Some((h, r)) => (h.trim(), Some(r.trim().to_string())),
            None => (item, None),
        };
        let (id, severity) = match head.split_once('=') {
            Some((id, _)) if !on => {
                return Err(format!(
                    "{head:?}: a check turned off has no severity: use `--enable-check {}=SEVERITY` to change its severity",
                    id.trim()
                ))
            }
            Some((id, sev)) => match Severity::parse(sev.trim()) {
                Some(s) => (id.trim(), Some(s)),
                None => {
                    return Err(format!(
                        "{head:?}: unknown severity {:?}: expected `error`, `warning` or `info`",
                        sev.trim()
                    ))
                }
            },
            None => (head, None),
        };
        if id.is_empty() {
            return Err(format!(
                "{item:?}: expected a check id before the `=` or `:`"
            ));
        }
        o.checks.push((
            id.to_string(),
            CheckSetting {
                enabled: Some(on),
                severity,
                reason,
                source: source.to_string(),
            },
        ));
    }
    Ok(())
}

/// A map given as a map, as `k=v` text (pairs separated by commas or newlines) or as a list of
/// `k=v` (one pair each, so values may hold commas).
fn pairs(v: &Value) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(m) => Ok(m.clone()),
        Value::String(s) => parse_pairs(
            s.split([',', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty()),
        ),
        Value::Array(items) => {
            let texts = items.iter().map(text).collect::<Result<Vec<_>, _>>()?;
            parse_pairs(texts.iter().map(String::as_str))
        }
        other => Err(format!(
            "expected k=v pairs or a map, found {}",
            type_name(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn applied(s: &Setting, v: Value) -> Result<Overrides, String> {
        let mut o = Overrides::default();
        s.apply(&mut o, &v).map(|()| o)
    }

    #[test]
    fn names_and_env_variables() {
        assert_eq!(KUBERNETES_VERSION.env(), "ARGOCD_ENV_KUBERNETES_VERSION");
        assert_eq!(NAMESPACE.env(), "ARGOCD_ENV_NAMESPACE");
        assert_eq!(lookup_env("ARGOCD_ENV_FIX").map(|s| s.name), Some("fix"));
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(
                !SETTINGS[..i].iter().any(|t| t.name == s.name),
                "{} twice",
                s.name
            );
            assert!(s.flag.starts_with('-'), "{}", s.name);
        }
    }

    #[test]
    fn each_parser_reads_text_and_json() {
        let o = applied(&KUBERNETES_VERSION, json!("1.33")).unwrap();
        assert_eq!(o.kubernetes_version.map(|v| v.minor()), Some(33));
        let o = applied(&KUBERNETES_VERSION, json!(1.33)).unwrap();
        assert_eq!(o.kubernetes_version.map(|v| v.minor()), Some(33));
        assert_eq!(
            applied(&PROFILE, json!("restricted")).unwrap().profile,
            Some(Profile::Restricted)
        );
        assert_eq!(
            applied(&LEVEL, json!("high")).unwrap().level,
            Some(Level::High)
        );
        assert_eq!(
            applied(&ENFORCEMENT, json!("enforce")).unwrap().enforcement,
            Some(Enforcement::Enforce)
        );
        assert!(applied(&FIX, json!("true")).unwrap().fix);
        assert_eq!(
            applied(&ADMISSION_POLICIES, json!("only"))
                .unwrap()
                .admission_policies,
            Some(AdmissionPolicies::Only)
        );
        let e = applied(&ADMISSION_POLICIES, json!("yes")).unwrap_err();
        assert_eq!(e, "\"yes\": expected `none`, `include` or `only`");
        assert!(applied(&FIX, json!(true)).unwrap().fix);
        let o = applied(&LABELS, json!("a=1, b=2\nc=3")).unwrap();
        assert_eq!(o.labels.len(), 3);
        let o = applied(&ANNOTATIONS, json!(["note=x, y", "b=2"])).unwrap();
        assert_eq!(o.annotations.get("note"), Some(&json!("x, y")));
        let o = applied(&ANNOTATIONS, json!({"a": "b"})).unwrap();
        assert_eq!(o.annotations.get("a"), Some(&json!("b")));
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = applied(&KUBERNETES_VERSION, json!("1.30")).unwrap_err();
        assert!(e.contains("1.31 to 1.37"), "{e}");
        let e = applied(&PROFILE, json!("strict")).unwrap_err();
        assert!(e.contains("`restricted`"), "{e}");
        let e = applied(&FIX, json!("yes")).unwrap_err();
        assert!(e.contains("\"true\" or \"false\""), "{e}");
        let e = applied(&NAMESPACE, json!({"a": "b"})).unwrap_err();
        assert_eq!(e, "expected a string, found a mapping");
        let e = applied(&LABELS, json!("nokey")).unwrap_err();
        assert!(e.contains("expected KEY=VALUE"), "{e}");
        assert!(not_a_setting("selector").contains("-l/--selector"));
        assert_eq!(not_a_setting("colour"), "");
        assert!(lookup("selector").is_none());
    }

    #[test]
    fn a_source_replaces_only_what_it_names() {
        let mut o = Overrides::default();
        ENFORCEMENT.apply(&mut o, &json!("enforce")).unwrap();
        LABELS.apply(&mut o, &json!("a=1,b=1")).unwrap();
        // A higher source.
        LABELS.apply(&mut o, &json!("b=2")).unwrap();
        NAMESPACE.apply(&mut o, &json!("shop")).unwrap();
        assert_eq!(o.enforcement, Some(Enforcement::Enforce));
        assert_eq!(o.labels.get("a"), Some(&json!("1")));
        assert_eq!(o.labels.get("b"), Some(&json!("2")));
        assert_eq!(o.namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn check_toggles_read_ids_severities_and_reasons() {
        let o = applied(
            &ENABLE_CHECK,
            json!("image-digest=error: prod pins, compliance-labels"),
        )
        .unwrap();
        assert_eq!(o.checks.len(), 2);
        let (id, c) = &o.checks[0];
        assert_eq!(id, "image-digest");
        assert_eq!(
            (c.enabled, c.severity, c.reason.as_deref()),
            (Some(true), Some(Severity::Error), Some("prod pins"))
        );
        assert_eq!(c.effect(), "on at severity error");
        assert_eq!(o.checks[1].1.reason(), "no reason given");
        // One per line, so a reason may hold a comma; a list likewise.
        let o = applied(
            &DISABLE_CHECK,
            json!(
                "min-replicas: dev, one node
liveness-probe
"
            ),
        )
        .unwrap();
        assert_eq!(o.checks[0].1.reason.as_deref(), Some("dev, one node"));
        assert_eq!(o.checks[1].1.enabled, Some(false));
        let o = applied(&DISABLE_CHECK, json!(["a: x, y", "b"])).unwrap();
        assert_eq!(o.checks.len(), 2);
        assert_eq!(o.checks[0].1.source, "disableCheck");
        for (setting, value, want) in [
            (
                &DISABLE_CHECK,
                "min-replicas=warning",
                "a check turned off has no severity",
            ),
            (
                &ENABLE_CHECK,
                "image-digest=fatal",
                "unknown severity \"fatal\"",
            ),
            (
                &ENABLE_CHECK,
                "image-digest:",
                "the reason after `:` is empty",
            ),
            (&ENABLE_CHECK, "=error", "expected a check id"),
        ] {
            let e = applied(setting, json!(value)).unwrap_err();
            assert!(e.contains(want), "{value}: {e}");
        }
    }

    /// The Argo CD plugin announces every parameter of the table, and no other.
    #[test]
    fn argocd_plugin_announces_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/krm/argocd/plugin.yaml");
        let plugin = std::fs::read_to_string(path).expect("krm/argocd/plugin.yaml");
        let static_params = plugin
            .split("static:")
            .nth(1)
            .expect("plugin.yaml has parameters.static");
        let announced: Vec<&str> = static_params
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- name: "))
            .collect();
        let table: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        assert_eq!(announced, table, "krm/argocd/plugin.yaml parameters.static");
    }

    /// The README lists the table between the `settings` markers; `UPDATE_GOLDEN=1` rewrites it.
    #[test]
    fn readme_lists_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let (begin, end) = ("<!-- settings:begin -->\n", "<!-- settings:end -->");
        let start = readme
            .find(begin)
            .expect("README has <!-- settings:begin -->")
            + begin.len();
        let stop = readme[start..]
            .find(end)
            .expect("README has <!-- settings:end -->")
            + start;
        let want = markdown();
        if readme[start..stop] != want {
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                let updated = format!("{}{want}{}", &readme[..start], &readme[stop..]);
                std::fs::write(path, updated).expect("write README.md");
            } else {
                panic!("the settings table in README.md is stale: run UPDATE_GOLDEN=1 cargo test --lib settings");
            }
        }
    }
}
