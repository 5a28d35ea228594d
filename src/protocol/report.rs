//! What a device PUTs to the command (ServerURL) endpoint: `Status` plus, for results, the
//! `CommandUUID` and any result keys.

use super::dict::DictExt;
use super::enrollment::{resolve, EnrollmentRef};
use super::ParseError;

/// The `Status` a device reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Ready for the next command.
    Idle,
    /// The command succeeded.
    Acknowledged,
    /// The command failed (ErrorChain explains).
    Error,
    /// The command was malformed.
    CommandFormatError,
    /// The device cannot run it now; resend later.
    NotNow,
}

impl Status {
    /// Apple's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Idle => "Idle",
            Status::Acknowledged => "Acknowledged",
            Status::Error => "Error",
            Status::CommandFormatError => "CommandFormatError",
            Status::NotNow => "NotNow",
        }
    }
}

/// A parsed report.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandReport {
    /// Who sent it.
    pub enrollment: EnrollmentRef,
    /// Status.
    pub status: Status,
    /// CommandUUID (required for every status but Idle).
    pub command_uuid: Option<String>,
}

/// Parses a command report dictionary (one that has `Status`).
pub fn parse(d: &plist::Dictionary) -> Result<CommandReport, ParseError> {
    let status = match d.req_str("Status")?.as_str() {
        "Idle" => Status::Idle,
        "Acknowledged" => Status::Acknowledged,
        "Error" => Status::Error,
        "CommandFormatError" => Status::CommandFormatError,
        "NotNow" => Status::NotNow,
        other => return Err(ParseError::UnknownStatus(other.to_string())),
    };
    let command_uuid = d.opt_str("CommandUUID")?.filter(|s| !s.is_empty());
    if status != Status::Idle && command_uuid.is_none() {
        return Err(ParseError::Missing("CommandUUID"));
    }
    Ok(CommandReport { enrollment: resolve(d)?, status, command_uuid })
}

/// The first ErrorChain entry's description, or the status.
pub fn error_text(report: &plist::Dictionary) -> String {
    let first = report.get("ErrorChain").and_then(|v| v.as_array()).and_then(|a| a.first()).and_then(|e| e.as_dictionary());
    match first {
        Some(e) => {
            let text = e.get("USEnglishDescription").or_else(|| e.get("LocalizedDescription")).and_then(|v| v.as_string()).unwrap_or("no description");
            let domain = e.get("ErrorDomain").and_then(|v| v.as_string()).unwrap_or("?");
            let code = e.get("ErrorCode").and_then(|v| v.as_signed_integer()).unwrap_or(0);
            format!("{text} ({domain} {code})")
        }
        None => report.get("Status").and_then(|v| v.as_string()).unwrap_or("Error").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::parse_dict;

    #[test]
    fn parses_idle_and_results() {
        let idle = br#"<plist version="1.0"><dict><key>Status</key><string>Idle</string><key>UDID</key><string>U</string></dict></plist>"#;
        let r = parse(&parse_dict(idle).unwrap()).unwrap();
        assert_eq!((r.status, r.command_uuid), (Status::Idle, None));
        let ack = br#"<plist version="1.0"><dict><key>Status</key><string>Acknowledged</string><key>CommandUUID</key><string>C</string><key>UDID</key><string>U</string></dict></plist>"#;
        assert_eq!(parse(&parse_dict(ack).unwrap()).unwrap().command_uuid.as_deref(), Some("C"));
    }

    #[test]
    fn refuses_result_without_uuid_and_unknown_status() {
        let no_uuid = br#"<plist version="1.0"><dict><key>Status</key><string>Acknowledged</string><key>UDID</key><string>U</string></dict></plist>"#;
        assert_eq!(parse(&parse_dict(no_uuid).unwrap()), Err(ParseError::Missing("CommandUUID")));
        let odd = br#"<plist version="1.0"><dict><key>Status</key><string>Maybe</string><key>UDID</key><string>U</string></dict></plist>"#;
        assert_eq!(parse(&parse_dict(odd).unwrap()), Err(ParseError::UnknownStatus("Maybe".into())));
    }
}
