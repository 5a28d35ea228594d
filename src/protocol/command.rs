//! The command envelope a server hands to a device: `{CommandUUID, Command: {RequestType, ...}}`.

use super::{parse_dict, to_xml, ParseError};

/// A command ready to store and deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandEnvelope {
    /// CommandUUID.
    pub uuid: String,
    /// Command.RequestType.
    pub request_type: String,
    /// The whole envelope as an XML plist.
    pub body: Vec<u8>,
}

/// Longest CommandUUID accepted (Apple uses UUIDs; NanoMDM-style clients may use other strings).
const MAX_UUID_LEN: usize = 128;

/// Wraps a `Command` dictionary with a fresh CommandUUID.
pub fn envelope(command: plist::Dictionary) -> Result<CommandEnvelope, ParseError> {
    envelope_with_uuid(uuid::Uuid::new_v4().to_string(), command)
}

/// Wraps a `Command` dictionary with the given CommandUUID (1-128 printable characters).
pub fn envelope_with_uuid(uuid: String, command: plist::Dictionary) -> Result<CommandEnvelope, ParseError> {
    let mut d = plist::Dictionary::new();
    d.insert("CommandUUID".into(), plist::Value::String(uuid));
    d.insert("Command".into(), plist::Value::Dictionary(command));
    from_dict(d)
}

/// Parses a raw command plist from an admin (NanoMDM-compatible enqueue). A missing CommandUUID is
/// generated; `Command.RequestType` is required.
pub fn from_raw(body: &[u8]) -> Result<CommandEnvelope, ParseError> {
    from_dict(parse_dict(body)?)
}

fn from_dict(mut d: plist::Dictionary) -> Result<CommandEnvelope, ParseError> {
    let uuid = match d.get("CommandUUID") {
        None => {
            let u = uuid::Uuid::new_v4().to_string();
            d.insert("CommandUUID".into(), plist::Value::String(u.clone()));
            u
        }
        Some(plist::Value::String(s)) if !s.is_empty() && s.len() <= MAX_UUID_LEN && !s.chars().any(char::is_control) => s.clone(),
        Some(plist::Value::String(_)) => return Err(ParseError::Invalid { key: "CommandUUID", reason: "must be 1-128 printable characters".into() }),
        Some(_) => return Err(ParseError::WrongType { key: "CommandUUID", expected: "<string>" }),
    };
    let command = match d.get("Command") {
        Some(plist::Value::Dictionary(c)) => c,
        Some(_) => return Err(ParseError::WrongType { key: "Command", expected: "<dict>" }),
        None => return Err(ParseError::Missing("Command")),
    };
    let request_type = match command.get("RequestType") {
        Some(plist::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(plist::Value::String(_)) | None => return Err(ParseError::Missing("RequestType")),
        Some(_) => return Err(ParseError::WrongType { key: "RequestType", expected: "<string>" }),
    };
    Ok(CommandEnvelope { uuid, request_type, body: to_xml(&d) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_uuid_when_absent_and_keeps_given_one() {
        let raw = br#"<plist version="1.0"><dict><key>Command</key><dict><key>RequestType</key><string>ProfileList</string></dict></dict></plist>"#;
        let e = from_raw(raw).unwrap();
        assert_eq!(e.request_type, "ProfileList");
        assert_eq!(e.uuid.len(), 36);
        let again = parse_dict(&e.body).unwrap();
        assert_eq!(again.get("CommandUUID").and_then(|v| v.as_string()), Some(e.uuid.as_str()));

        let given = br#"<plist version="1.0"><dict><key>CommandUUID</key><string>abc</string><key>Command</key><dict><key>RequestType</key><string>ProfileList</string></dict></dict></plist>"#;
        assert_eq!(from_raw(given).unwrap().uuid, "abc");
    }

    #[test]
    fn refuses_missing_request_type_and_garbage() {
        let raw = br#"<plist version="1.0"><dict><key>Command</key><dict/></dict></plist>"#;
        assert_eq!(from_raw(raw), Err(ParseError::Missing("RequestType")));
        assert!(matches!(from_raw(b"not a plist"), Err(ParseError::NotPlist(_))));
    }
}
