//! The target Kubernetes minor of a run: which APIs the output uses and what the checks judge it
//! against. One type for every place the version is written (flag, `PlatformDefaults`, the KRM
//! function's ConfigMap, Argo CD parameters), so each reads it the same way.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A Kubernetes minor from [`KubernetesVersion::OLDEST`] to [`KubernetesVersion::NEWEST`], written
/// `1.35`. It reads a string (`"1.35"`) and an unquoted YAML number (`1.35`) alike: YAML makes
/// the unquoted form a float, which is the same version as long as the minor does not end in 0
/// (an unquoted `1.30` is the number 1.3, so the error for it says to quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubernetesVersion(u8);

impl KubernetesVersion {
    /// The oldest supported minor, 1.31.
    pub const OLDEST: KubernetesVersion = KubernetesVersion(31);
    /// The newest supported minor, 1.37.
    pub const NEWEST: KubernetesVersion = KubernetesVersion(37);
    /// Every supported minor, oldest first.
    pub const ALL: [KubernetesVersion; 7] = [
        KubernetesVersion(31),
        KubernetesVersion(32),
        KubernetesVersion(33),
        KubernetesVersion(34),
        KubernetesVersion(35),
        KubernetesVersion(36),
        KubernetesVersion(37),
    ];

    /// The target when nothing names one: the oldest supported minor. Every API the tool emits
    /// is served by it and still served by the newest (see `schema::served`), so output rendered
    /// without a target applies to every supported cluster; naming the cluster's minor lets
    /// `stable-api-version` judge against that minor instead.
    pub const DEFAULT: KubernetesVersion = KubernetesVersion::OLDEST;

    /// The version 1.`minor`, if supported.
    pub fn from_minor(minor: u8) -> Option<KubernetesVersion> {
        (Self::OLDEST.0..=Self::NEWEST.0)
            .contains(&minor)
            .then_some(KubernetesVersion(minor))
    }

    /// The minor number (35 for 1.35).
    pub fn minor(self) -> u8 {
        self.0
    }

    /// Parses `1.35`.
    pub fn parse(text: &str) -> Result<KubernetesVersion, String> {
        let minor = text
            .trim()
            .strip_prefix("1.")
            .filter(|m| !m.is_empty() && m.len() <= 2 && m.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|m| m.parse::<u8>().ok());
        minor
            .and_then(Self::from_minor)
            .ok_or_else(|| unsupported(&format!("{text:?}")))
    }

    /// Reads an unquoted YAML number: `1.35` is 1.35; `1.3` was most likely an unquoted `1.30`.
    fn from_number(n: f64) -> Result<KubernetesVersion, String> {
        let text = n.to_string();
        Self::parse(&text).map_err(|_| {
            let mut e = unsupported(&text);
            if text.len() == 3 && text.starts_with("1.") {
                e.push_str(&format!(
                    " (an unquoted {text}0 is the number {text}: quote the version)"
                ));
            }
            e
        })
    }

    /// Every supported minor, as written, for messages.
    pub fn range() -> String {
        format!("{} to {}", Self::OLDEST, Self::NEWEST)
    }
}

fn unsupported(found: &str) -> String {
    format!(
        "unsupported Kubernetes version {found}: expected a minor from {}, e.g. \"1.35\"",
        KubernetesVersion::range()
    )
}

impl Default for KubernetesVersion {
    fn default() -> Self {
        KubernetesVersion::DEFAULT
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.0)
    }
}

impl std::str::FromStr for KubernetesVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KubernetesVersion::parse(s)
    }
}

impl Serialize for KubernetesVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KubernetesVersion {
    /// `"1.35"` or an unquoted `1.35`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = KubernetesVersion;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a Kubernetes minor from {}, e.g. \"1.35\"",
                    KubernetesVersion::range()
                )
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                KubernetesVersion::parse(v).map_err(E::custom)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                KubernetesVersion::from_number(v).map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Err(E::custom(unsupported(&v.to_string())))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Err(E::custom(unsupported(&v.to_string())))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl JsonSchema for KubernetesVersion {
    fn schema_name() -> Cow<'static, str> {
        "KubernetesVersion".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let text: Vec<String> = KubernetesVersion::ALL
            .iter()
            .map(|v| v.to_string())
            .collect();
        // An unquoted version is a YAML number: any number passes the schema, and the type's
        // own message says which are versions (and why an unquoted 1.30 is not).
        json_schema!({
            "description": format!(
                "Target Kubernetes minor, {}: a string such as \"1.35\"; an unquoted 1.35 (a YAML number) means the same",
                KubernetesVersion::range()
            ),
            "anyOf": [
                {"type": "string", "enum": text},
                {"type": "number"},
            ],
        })
    }
}

impl clap::ValueEnum for KubernetesVersion {
    fn value_variants<'a>() -> &'a [Self] {
        &KubernetesVersion::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        // clap keeps `&'static str` names.
        const NAMES: [&str; 7] = ["1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"];
        let name = NAMES.get(usize::from(self.0 - Self::OLDEST.0))?;
        Some(clap::builder::PossibleValue::new(*name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> Result<KubernetesVersion, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_strings_and_unquoted_numbers() {
        assert_eq!(read(json!("1.35")).unwrap().minor(), 35);
        assert_eq!(read(json!(1.35)).unwrap().minor(), 35);
        assert_eq!(read(json!(1.31)).unwrap(), KubernetesVersion::OLDEST);
        assert_eq!(read(json!("1.37")).unwrap(), KubernetesVersion::NEWEST);
        // Through YAML as a user writes it.
        let v: serde_json::Value = serde_saphyr::from_str("v: 1.36").unwrap();
        assert_eq!(read(v["v"].clone()).unwrap().to_string(), "1.36");
    }

    #[test]
    fn refuses_other_versions_naming_the_range() {
        for bad in [
            json!("1.30"),
            json!("1.38"),
            json!("v1.35"),
            json!("1.35.2"),
            json!(""),
            json!(1),
            json!(2.5),
            json!(true),
            json!(["1.35"]),
        ] {
            let e = read(bad.clone()).unwrap_err();
            assert!(e.contains("1.31 to 1.37"), "{bad}: {e}");
        }
        let e = read(json!(1.3)).unwrap_err();
        assert!(e.contains("quote the version"), "{e}");
    }

    #[test]
    fn flag_values_are_the_displayed_ones() {
        use clap::ValueEnum;
        for v in KubernetesVersion::ALL {
            let pv = v.to_possible_value().unwrap();
            assert_eq!(pv.get_name(), v.to_string());
            assert_eq!(
                <KubernetesVersion as ValueEnum>::from_str(&v.to_string(), false),
                Ok(v)
            );
        }
    }

    #[test]
    fn display_and_schema_agree() {
        let all: Vec<String> = KubernetesVersion::ALL
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(all.first().map(String::as_str), Some("1.31"));
        assert_eq!(all.last().map(String::as_str), Some("1.37"));
        let schema = serde_json::to_value(schemars::schema_for!(KubernetesVersion)).unwrap();
        assert_eq!(schema["anyOf"][0]["enum"], json!(all));
        assert_eq!(schema["anyOf"][1], json!({"type": "number"}));
        for v in KubernetesVersion::ALL {
            assert_eq!(read(json!(v.to_string())).unwrap(), v);
            assert_eq!(read(serde_json::to_value(v).unwrap()).unwrap(), v);
        }
    }
}
