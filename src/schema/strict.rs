//! Typed specs read from a `serde_json::Value` as YAML means them: a struct from a mapping
//! only. serde_json's own `Value` deserializer also reads a struct from a list, field by
//! position, so `defaultResources: [{cpu: 1}, {memory: 1Gi}]` became requests and limits, and
//! `spec: []` a spec of defaults, without a word (found by the fuzz target kind_specs).
//! [`Strict`] is that deserializer with the one difference: a list where a struct is expected
//! is an invalid type, at its path (through `serde_path_to_error`), and then the schema
//! validation the callers fall back to says it in YAML's words. Everything else reads as
//! serde_json reads it (numbers, strings, options, newtypes, enums).

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde_json::Value;

/// A deserializer of `&Value` that reads structs from mappings only (see the module).
pub struct Strict<'a>(pub &'a Value);

/// `T` from `value` with [`Strict`], the error at its path.
pub fn deserialize<T: de::DeserializeOwned>(
    value: &Value,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(Strict(value))
}

impl<'de> Deserializer<'de> for Strict<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    // Finite by construction: serde_json numbers are never NaN or infinite.
                    visitor.visit_f64(n.as_f64().unwrap_or_default())
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Seq(items.iter())),
            Value::Object(map) => visitor.visit_map(Entries {
                iter: map.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            // A unit variant, as most enums of the specs are.
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            // `{variant: content}`, as serde_json reads it but for a unit variant, which is its
            // name only (serde_json also takes `{kafkasql: null}` for `kafkasql`, which the
            // kind's schema refuses: found by the fuzz target kind_specs).
            Value::Object(map) if map.len() == 1 => {
                let Some((variant, content)) = map.iter().next() else {
                    return Err(de::Error::invalid_length(0, &"one entry"));
                };
                visitor.visit_enum(Tagged { variant, content })
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// An enum written `{variant: content}`: its content read with [`Strict`], and none for a unit
/// variant.
struct Tagged<'a> {
    variant: &'a String,
    content: &'a Value,
}

impl<'de> de::EnumAccess<'de> for Tagged<'de> {
    type Error = serde_json::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), Self::Error> {
        let variant = seed.deserialize(self.variant.as_str().into_deserializer())?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Tagged<'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        Err(de::Error::invalid_type(
            Unexpected::Map,
            &"its name alone, a string",
        ))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(Strict(self.content))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.content {
            Value::Array(items) => visitor.visit_seq(Seq(items.iter())),
            _ => Err(de::Error::invalid_type(Unexpected::Map, &visitor)),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Strict(self.content).deserialize_struct("", fields, visitor)
    }
}

/// The items of a list, each read with [`Strict`].
struct Seq<'a>(std::slice::Iter<'a, Value>);

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Strict(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The entries of a mapping, each value read with [`Strict`].
struct Entries<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(Strict(v)),
            None => Err(de::Error::custom("a value without its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Resources {
        requests: Option<BTreeMap<String, String>>,
        limits: Option<BTreeMap<String, String>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        On,
        Off,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum IntOrText {
        Int(i64),
        Text(String),
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Spec {
        #[serde(default)]
        resources: Resources,
        replicas: Option<u16>,
        ratio: Option<f64>,
        mode: Option<Mode>,
        port: Option<IntOrText>,
        names: Option<Vec<String>>,
        ports: Option<Vec<u16>>,
        #[serde(default)]
        extra: BTreeMap<String, Value>,
    }

    /// What serde_json's deserializer reads, this one reads alike.
    #[test]
    fn reads_what_serde_json_reads() {
        for v in [
            json!({}),
            json!({"resources": {"requests": {"cpu": "1"}}, "replicas": 3, "ratio": 0.5}),
            json!({"mode": "on", "port": 8080, "names": ["a", "b"], "ports": [80, 443]}),
            json!({"port": "http", "extra": {"a": [1, {"b": null}], "c": -2}, "replicas": null}),
        ] {
            let ours: Spec = deserialize(&v).expect("reads");
            let theirs: Spec = serde_json::from_value(v.clone()).expect("reads");
            assert_eq!(ours, theirs, "{v}");
        }
        // And refuses what it refuses, at the same path.
        for v in [
            json!({"replicas": 70000}),
            json!({"replicas": -1}),
            json!({"replicas": 1.5}),
            json!({"mode": "maybe"}),
            json!({"names": "a"}),
            json!({"unknown": 1}),
            json!({"resources": {"requests": {"cpu": 1}}}),
        ] {
            let ours = deserialize::<Spec>(&v).expect_err("refused");
            let theirs = serde_path_to_error::deserialize::<_, Spec>(&v).expect_err("refused");
            assert_eq!(ours.path().to_string(), theirs.path().to_string(), "{v}");
        }
    }

    /// A list where a struct goes is refused at its path; serde_json read it by position.
    #[test]
    fn a_struct_is_read_from_a_mapping_only() {
        let v = json!({"resources": [{"cpu": "1"}, {"memory": "1Gi"}]});
        let positional: Spec = serde_json::from_value(v.clone()).expect("serde_json reads it");
        assert_eq!(
            positional.resources.limits,
            Some(BTreeMap::from([("memory".to_string(), "1Gi".to_string())]))
        );
        let e = deserialize::<Spec>(&v).expect_err("refused");
        assert_eq!(e.path().to_string(), "resources");
        assert!(
            e.inner().to_string().contains("invalid type: sequence"),
            "{e}"
        );
        let e = deserialize::<Spec>(&json!([])).expect_err("refused");
        assert_eq!(e.path().to_string(), ".");
    }

    /// An enum's unit variant is its name; serde_json also took `{name: null}`, which the kinds'
    /// schemas refuse. Variants with content still read from `{name: content}`.
    #[test]
    fn a_unit_variant_is_its_name_only() {
        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(rename_all = "lowercase")]
        enum Tagged {
            Plain,
            Sized(u16),
            Pair(u16, u16),
            Named { size: u16 },
        }
        let loose: Spec = serde_json::from_value(json!({"mode": {"on": null}})).expect("reads");
        assert_eq!(loose.mode, Some(Mode::On));
        for v in [json!({"mode": {"on": null}}), json!({"mode": {"on": {}}})] {
            let e = deserialize::<Spec>(&v).expect_err("refused");
            assert_eq!(e.path().to_string(), "mode.on", "{v}");
            assert!(e.inner().to_string().contains("invalid type: map"), "{e}");
        }
        for (v, want) in [
            (json!("plain"), Tagged::Plain),
            (json!({"sized": 3}), Tagged::Sized(3)),
            (json!({"pair": [1, 2]}), Tagged::Pair(1, 2)),
            (json!({"named": {"size": 4}}), Tagged::Named { size: 4 }),
        ] {
            assert_eq!(deserialize::<Tagged>(&v).expect("reads"), want, "{v}");
        }
        for v in [
            json!({"plain": null}),
            json!({"named": [4]}),
            json!({"sized": 3, "pair": [1, 2]}),
            json!({}),
        ] {
            assert!(deserialize::<Tagged>(&v).is_err(), "{v}");
        }
    }
}
