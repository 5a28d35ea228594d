//! A serde `Deserializer` over a borrowed `serde_json::Value` that remembers where it is, so an
//! error names the offending place (`Queries[2]`, `Settings[0].DeviceName`) rather than just
//! "invalid type". Unknown fields are reported at the field itself, missing fields at the
//! dictionary that lacks them, type errors at the value.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;

use super::CommandError;

/// A deserialization error with the JSON path where it happened (empty for the payload itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathError {
    /// Where, once known: errors raised by visitors get the path of the value being read.
    path: Option<String>,
    /// What went wrong, in serde's words or ours.
    reason: String,
}

impl PathError {
    /// Attaches `path` unless a deeper path is already known.
    fn at(mut self, path: &str) -> Self {
        if self.path.is_none() {
            self.path = Some(path.to_string());
        }
        self
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path.as_deref() {
            Some(p) if !p.is_empty() => write!(f, "{p}: {}", self.reason),
            _ => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for PathError {}

impl de::Error for PathError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        PathError { path: None, reason: msg.to_string() }
    }
}

impl From<PathError> for CommandError {
    fn from(e: PathError) -> Self {
        CommandError::InvalidPayload { path: e.path.unwrap_or_default(), reason: e.reason }
    }
}

/// Deserializes `value`, which sits at `path` (empty for the payload root), reporting errors
/// with their full path.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value, path: &str) -> Result<T, CommandError> {
    T::deserialize(ValueDe { value, path: path.to_string() }).map_err(|e| e.at(path).into())
}

/// `parent.key`, or `key` at the root.
pub(crate) fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[index]`.
pub(crate) fn join_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// How a JSON value is described to an admin in type errors.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("number `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "a dictionary".into(),
    }
}

struct ValueDe<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> ValueDe<'a> {
    fn expected(&self, what: &str) -> PathError {
        PathError { path: Some(self.path.clone()), reason: format!("expected {what}, found {}", describe(self.value)) }
    }

    fn any<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        let path = self.path;
        let out = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(de::Error::custom(format!("unsupported number `{n}`"))),
            },
            Value::String(s) => visitor.visit_str(s),
            Value::Array(a) => visitor.visit_seq(SeqDe { iter: a.iter().enumerate(), path: path.clone() }),
            Value::Object(m) => visitor.visit_map(MapDe { iter: m.iter(), value: None, path: path.clone() }),
        };
        out.map_err(|e| e.at(&path))
    }
}

impl<'de> de::Deserializer<'de> for ValueDe<'_> {
    type Error = PathError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.any(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.value {
            Value::Bool(_) => self.any(visitor),
            _ => Err(self.expected("a boolean (true or false)")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.value {
            Value::Number(n) if n.is_i64() || n.is_u64() => self.any(visitor),
            _ => Err(self.expected("an integer")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.value {
            Value::String(_) => self.any(visitor),
            _ => Err(self.expected("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.value {
            Value::Array(_) => self.any(visitor),
            _ => Err(self.expected("an array")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.value {
            Value::Object(_) => self.any(visitor),
            _ => Err(self.expected("a dictionary (JSON object)")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, PathError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        let path = self.path.clone();
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| e.at(&path))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, PathError> {
        let path = self.path.clone();
        visitor.visit_newtype_struct(self).map_err(|e| e.at(&path))
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, PathError> {
        match self.value {
            Value::String(s) => {
                let d: de::value::StrDeserializer<'_, PathError> = s.as_str().into_deserializer();
                visitor.visit_enum(d).map_err(|e| e.at(&self.path))
            }
            _ => Err(self.expected("a string")),
        }
    }

    forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        tuple tuple_struct identifier ignored_any
    }
}

struct SeqDe<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: String,
}

impl<'de> SeqAccess<'de> for SeqDe<'_> {
    type Error = PathError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, PathError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, value)) => {
                let path = join_index(&self.path, i);
                seed.deserialize(ValueDe { value, path: path.clone() }).map(Some).map_err(|e| e.at(&path))
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<(&'a Value, String)>,
    path: String,
}

impl<'de> MapAccess<'de> for MapDe<'_> {
    type Error = PathError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, PathError> {
        match self.iter.next() {
            None => Ok(None),
            Some((key, value)) => {
                let path = join_key(&self.path, key);
                let d: de::value::StrDeserializer<'_, PathError> = key.as_str().into_deserializer();
                let k = seed.deserialize(d).map_err(|e| e.at(&path))?;
                self.value = Some((value, path));
                Ok(Some(k))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, PathError> {
        match self.value.take() {
            Some((value, path)) => seed.deserialize(ValueDe { value, path: path.clone() }).map_err(|e| e.at(&path)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Reads `payload` as a JSON object, for builders that look at keys before typed parsing.
pub(crate) fn object<'a>(payload: &'a Value, path: &str) -> Result<&'a serde_json::Map<String, Value>, CommandError> {
    payload.as_object().ok_or_else(|| CommandError::InvalidPayload {
        path: path.to_string(),
        reason: format!("expected a dictionary (JSON object), found {}", describe(payload)),
    })
}
