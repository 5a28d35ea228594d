//! Typed accessors over a plist dictionary that insist on Apple's exact value types.

use super::ParseError;

/// Reads typed values out of a plist dictionary.
pub trait DictExt {
    /// An optional `<string>`.
    fn opt_str(&self, key: &'static str) -> Result<Option<String>, ParseError>;
    /// A required `<string>`.
    fn req_str(&self, key: &'static str) -> Result<String, ParseError>;
    /// An optional `<data>`.
    fn opt_data(&self, key: &'static str) -> Result<Option<Vec<u8>>, ParseError>;
    /// An optional `<true/>`/`<false/>`.
    fn opt_bool(&self, key: &'static str) -> Result<Option<bool>, ParseError>;
}

impl DictExt for plist::Dictionary {
    fn opt_str(&self, key: &'static str) -> Result<Option<String>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(plist::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ParseError::WrongType { key, expected: "<string>" }),
        }
    }

    fn req_str(&self, key: &'static str) -> Result<String, ParseError> {
        match self.opt_str(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ParseError::Missing(key)),
        }
    }

    fn opt_data(&self, key: &'static str) -> Result<Option<Vec<u8>>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(plist::Value::Data(d)) => Ok(Some(d.clone())),
            Some(_) => Err(ParseError::WrongType { key, expected: "<data>" }),
        }
    }

    fn opt_bool(&self, key: &'static str) -> Result<Option<bool>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(plist::Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(ParseError::WrongType { key, expected: "<boolean>" }),
        }
    }
}
