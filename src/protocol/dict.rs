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

/// The longest value Apple's devices send for a string key, in bytes: names people give (a
/// device or user name of 255 characters, up to 4 bytes each), then everything else.
fn max_string(key: &str) -> usize {
    match key {
        "DeviceName" | "UserShortName" | "UserLongName" => 1024,
        "DigestResponse" => 4096,
        _ => 256,
    }
}

/// The longest value accepted for a data key, in bytes (APNs tokens are 32 bytes today and
/// documented up to 100; escrow tokens are a few KB; declarative status reports are JSON).
fn max_data(key: &str) -> usize {
    match key {
        "Token" => 256,
        "UnlockToken" | "BootstrapToken" => 16 * 1024,
        "Data" => 2 << 20,
        _ => 64 * 1024,
    }
}

fn too_long(key: &'static str, max: usize) -> ParseError {
    ParseError::Invalid { key, reason: format!("longer than {max} bytes") }
}

impl DictExt for plist::Dictionary {
    fn opt_str(&self, key: &'static str) -> Result<Option<String>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(plist::Value::String(s)) if s.len() > max_string(key) => Err(too_long(key, max_string(key))),
            // Devices send none; they could not be stored in PostgreSQL (NUL) or shown safely.
            Some(plist::Value::String(s)) if s.chars().any(char::is_control) => Err(ParseError::Invalid { key, reason: "contains control characters".into() }),
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
            Some(plist::Value::Data(d)) if d.len() > max_data(key) => Err(too_long(key, max_data(key))),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(key: &str, v: plist::Value) -> plist::Dictionary {
        std::iter::once((key.to_string(), v)).collect()
    }

    #[test]
    fn device_strings_are_capped_and_printable() {
        let name = |s: String| dict("DeviceName", plist::Value::String(s)).opt_str("DeviceName");
        assert_eq!(name("iPhone de Zoë 📱".into()).unwrap().as_deref(), Some("iPhone de Zoë 📱"));
        assert!(name("x".repeat(1024)).is_ok());
        assert!(matches!(name("x".repeat(1025)), Err(ParseError::Invalid { key: "DeviceName", .. })));
        assert!(matches!(dict("Topic", "a\u{0}b".into()).opt_str("Topic"), Err(ParseError::Invalid { key: "Topic", .. })));
        assert!(matches!(dict("PushMagic", "a\nb".into()).opt_str("PushMagic"), Err(ParseError::Invalid { .. })));
        assert!(dict("Topic", "x".repeat(257).into()).opt_str("Topic").is_err());
        assert!(dict("Token", plist::Value::Data(vec![0; 257])).opt_data("Token").is_err());
        assert!(dict("Token", plist::Value::Data(vec![0; 32])).opt_data("Token").is_ok());
    }
}
