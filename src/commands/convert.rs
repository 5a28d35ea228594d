//! Field types shared by the command payloads, and the JSON → plist conversions: base64 strings
//! become `<data>`, JSON integers `<integer>`, other numbers `<real>`.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

use super::CommandError;

/// Binary data: a base64 string in JSON (whitespace ignored, so wrapped base64 works), `<data>`
/// in the plist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Data(pub Vec<u8>);

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Data;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Data, E> {
                mdm_profiles::value::decode_base64(s).map(Data).map_err(|e| E::custom(format!("expected base64-encoded data: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

/// A string that must not be empty (identifiers, names).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(try_from = "String")]
pub(crate) struct Text(pub String);

impl TryFrom<String> for Text {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.trim().is_empty() {
            Err("must not be empty")
        } else {
            Ok(Text(s))
        }
    }
}

/// Declares an integer newtype limited to the values Apple documents, with a readable error.
macro_rules! ranged_int {
    ($(#[$doc:meta])* $name:ident, [$($v:expr),+], $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
        #[serde(try_from = "i64")]
        pub(crate) struct $name(pub i64);

        impl TryFrom<i64> for $name {
            type Error = String;
            fn try_from(v: i64) -> Result<Self, String> {
                if [$($v),+].contains(&v) {
                    Ok($name(v))
                } else {
                    Err(format!("{v} is not allowed; use {}", $what))
                }
            }
        }
    };
}
pub(crate) use ranged_int;

/// Any JSON value as a plist value: integers → `<integer>`, other numbers → `<real>`, strings,
/// booleans, arrays and objects as such. `null` has no plist form and is refused at its path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlistValue(pub plist::Value);

/// A JSON object as a plist dictionary, converted like [`PlistValue`].
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct PlistDict(pub plist::Dictionary);

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = plist::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, array or dictionary")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<plist::Value, E> {
        Ok(plist::Value::Boolean(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<plist::Value, E> {
        Ok(plist::Value::Integer(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<plist::Value, E> {
        Ok(plist::Value::Integer(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<plist::Value, E> {
        Ok(plist::Value::Real(f))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<plist::Value, E> {
        Ok(plist::Value::String(s.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<plist::Value, E> {
        Err(E::custom("null has no plist equivalent; omit the key instead"))
    }
    fn visit_none<E: de::Error>(self) -> Result<plist::Value, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<plist::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(PlistValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(plist::Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<plist::Value, A::Error> {
        DictVisitor.visit_map(map).map(plist::Value::Dictionary)
    }
}

struct DictVisitor;

impl<'de> Visitor<'de> for DictVisitor {
    type Value = plist::Dictionary;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dictionary")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<plist::Dictionary, A::Error> {
        let mut out = plist::Dictionary::new();
        while let Some(k) = map.next_key::<String>()? {
            let PlistValue(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(out)
    }
}

impl<'de> Deserialize<'de> for PlistValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(PlistValue)
    }
}

impl<'de> Deserialize<'de> for PlistDict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(DictVisitor).map(PlistDict)
    }
}

impl Serialize for PlistValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Serialize for PlistDict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Converts any JSON value to a plist value: integers become `<integer>`, other numbers
/// `<real>`, strings `<string>`, booleans `<true/>`/`<false/>`, arrays and objects `<array>` and
/// `<dict>`. JSON has no binary or date type, so nothing becomes `<data>` or `<date>`. `null` is
/// refused with its path (e.g. `Config.Servers[1]`).
pub fn json_to_plist(value: &serde_json::Value) -> Result<plist::Value, CommandError> {
    super::de::from_value::<PlistValue>(value, "").map(|v| v.0)
}

/// Serializes a typed payload into the command's dictionary.
pub(crate) fn encode<T: Serialize>(payload: &T) -> Result<plist::Dictionary, CommandError> {
    match plist::to_value(payload) {
        Ok(plist::Value::Dictionary(d)) => Ok(d),
        Ok(other) => Err(CommandError::Encode(format!("payload encoded as {other:?}, not a dictionary"))),
        Err(e) => Err(CommandError::Encode(e.to_string())),
    }
}
