//! Field types shared by the payloads: [`Data`] (`<data>`, or a base64 string in JSON) and
//! [`Date`] (`<date>`, or an RFC 3339 string in JSON), both always written in plist form;
//! [`IntBool`] (Apple's 0/1 integer switch), [`Bounded`] (an integer Apple restricts to a range)
//! and `int_enum!` (an enum written as one of Apple's allowed integers).

use std::fmt;

use base64::Engine;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// Binary data: `<data>` in a plist; a base64 string (whitespace ignored) is accepted too.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Data(pub Vec<u8>);

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Data({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Data {
    fn from(v: Vec<u8>) -> Data {
        Data(v)
    }
}

/// Decodes base64 with any whitespace (line-wrapped PEM bodies, pasted text) removed.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Data;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("data or a base64 string")
            }
            fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Data, E> {
                Ok(Data(b.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, b: Vec<u8>) -> Result<Data, E> {
                Ok(Data(b))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Data, E> {
                decode_base64(s).map(Data).map_err(|e| E::custom(format!("expected base64-encoded data: {e}")))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

/// A point in time: `<date>` in a plist; an RFC 3339 string is accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub std::time::SystemTime);

impl Date {
    /// Parses an RFC 3339 / ISO 8601 timestamp (`2027-01-31T12:00:00Z`).
    pub fn parse(s: &str) -> Result<Date, String> {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Date(std::time::SystemTime::from(t)))
            .map_err(|e| format!("expected an RFC 3339 date such as 2027-01-31T12:00:00Z: {e}"))
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match plist::Value::deserialize(d)? {
            plist::Value::Date(t) => Ok(Date(t.into())),
            plist::Value::String(s) => Date::parse(&s).map_err(de::Error::custom),
            other => Err(de::Error::custom(format!("expected a date, found {}", kind(&other)))),
        }
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        plist::Date::from(self.0).serialize(s)
    }
}

/// Apple's name for the type of a plist value (`<string>`, `<integer>`, ...), as the schema
/// files spell it.
pub fn kind(v: &plist::Value) -> &'static str {
    match v {
        plist::Value::Array(_) => "<array>",
        plist::Value::Dictionary(_) => "<dictionary>",
        plist::Value::Boolean(_) => "<boolean>",
        plist::Value::Data(_) => "<data>",
        plist::Value::Date(_) => "<date>",
        plist::Value::Real(_) => "<real>",
        plist::Value::Integer(_) => "<integer>",
        plist::Value::String(_) => "<string>",
        _ => "<unknown>",
    }
}

/// Apple's integer switch: `<integer>` restricted to `0` (off) or `1` (on). Any other integer, or a
/// `<boolean>`, is refused when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IntBool(pub bool);

impl IntBool {
    /// `1`.
    pub const ON: IntBool = IntBool(true);
    /// `0`.
    pub const OFF: IntBool = IntBool(false);

    /// Whether the switch is `1`.
    pub fn is_on(self) -> bool {
        self.0
    }
}

impl From<bool> for IntBool {
    fn from(b: bool) -> IntBool {
        IntBool(b)
    }
}

impl Serialize for IntBool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(i64::from(self.0))
    }
}

impl<'de> Deserialize<'de> for IntBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match i64::deserialize(d)? {
            0 => Ok(IntBool(false)),
            1 => Ok(IntBool(true)),
            v => Err(de::Error::custom(format!("{v} is not allowed here; the value is 0 or 1"))),
        }
    }
}

/// An `<integer>` Apple restricts to `MIN..=MAX`; other values are refused when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    /// The value, if it lies in `MIN..=MAX`.
    pub fn new(v: i64) -> Result<Self, String> {
        if (MIN..=MAX).contains(&v) {
            Ok(Bounded(v))
        } else if MAX == i64::MAX {
            Err(format!("{v} is out of range; the minimum is {MIN}"))
        } else {
            Err(format!("{v} is out of range; allowed values are {MIN} to {MAX}"))
        }
    }

    /// The integer.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> Serialize for Bounded<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Bounded::new(i64::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// Declares an enum written as one of Apple's allowed integers.
macro_rules! int_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $var:ident = $val:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vm])* $var,)+
        }

        impl $name {
            /// The integer Apple writes for this value.
            pub fn value(self) -> i64 {
                match self {
                    $($name::$var => $val,)+
                }
            }

            /// The value for one of Apple's allowed integers.
            pub fn from_value(v: i64) -> Option<$name> {
                match v {
                    $($val => Some($name::$var),)+
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.value())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <i64 as serde::Deserialize>::deserialize(d)?;
                $name::from_value(v).ok_or_else(|| {
                    serde::de::Error::custom(format!("{v} is not allowed here; allowed values are {:?}", [$($val),+]))
                })
            }
        }
    };
}
pub(crate) use int_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
    struct T {
        d: Data,
        t: Date,
    }

    #[test]
    fn data_and_date_read_json_and_write_plist() {
        let j = serde_json::json!({"d": "AQID\n BA==", "t": "2027-01-31T12:00:00Z"});
        let t: T = serde_json::from_value(j).unwrap();
        assert_eq!(t.d.0, vec![1, 2, 3, 4]);
        let v = plist::to_value(&t).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(d["d"], plist::Value::Data(vec![1, 2, 3, 4]));
        assert!(matches!(d["t"], plist::Value::Date(_)));
        let back: T = plist::from_value(&v).unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_value::<T>(serde_json::json!({"d": "!!", "t": "2027-01-31T12:00:00Z"})).is_err());
        assert!(serde_json::from_value::<T>(serde_json::json!({"d": "", "t": "yesterday"})).is_err());
    }
}
