//! Check-in messages (`MessageType`), parsed from the plist a device PUTs to the check-in URL.

use super::dict::DictExt;
use super::enrollment::{resolve, EnrollmentRef};
use super::ParseError;

/// Authenticate: the device starts (or restarts) an enrollment.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticate {
    /// APNs topic.
    pub topic: String,
    /// BuildVersion.
    pub build_version: Option<String>,
    /// DeviceName.
    pub device_name: Option<String>,
    /// IMEI.
    pub imei: Option<String>,
    /// MEID.
    pub meid: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// ModelName.
    pub model_name: Option<String>,
    /// OSVersion.
    pub os_version: Option<String>,
    /// ProductName.
    pub product_name: Option<String>,
    /// SerialNumber.
    pub serial_number: Option<String>,
}

/// TokenUpdate: new push token / PushMagic (sent many times).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenUpdate {
    /// APNs topic.
    pub topic: String,
    /// APNs device token (`<data>`).
    pub token: Vec<u8>,
    /// PushMagic (`<string>`).
    pub push_magic: String,
    /// UnlockToken (`<data>`), device channel only.
    pub unlock_token: Option<Vec<u8>>,
    /// AwaitingConfiguration: the device waits for DeviceConfigured.
    pub awaiting_configuration: bool,
    /// UserShortName (user channel).
    pub user_short_name: Option<String>,
    /// UserLongName (user channel).
    pub user_long_name: Option<String>,
}

/// DeclarativeManagement check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclarativeManagement {
    /// Endpoint (tokens, declaration-items, status, declaration/...).
    pub endpoint: String,
    /// Data (`<data>`), when present.
    pub data: Option<Vec<u8>>,
}

/// The kinds of check-in message.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckinKind {
    /// Authenticate.
    Authenticate(Authenticate),
    /// TokenUpdate.
    TokenUpdate(TokenUpdate),
    /// CheckOut.
    CheckOut,
    /// UserAuthenticate (DigestChallenge present on the second round).
    UserAuthenticate {
        /// DigestResponse, on the second message.
        digest_response: Option<String>,
    },
    /// SetBootstrapToken (absent token = clear it).
    SetBootstrapToken {
        /// BootstrapToken.
        token: Option<Vec<u8>>,
    },
    /// GetBootstrapToken.
    GetBootstrapToken,
    /// DeclarativeManagement.
    DeclarativeManagement(DeclarativeManagement),
    /// GetToken.
    GetToken {
        /// TokenServiceType.
        service_type: Option<String>,
    },
}

/// A parsed check-in message with the enrollment it speaks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkin {
    /// Who sent it.
    pub enrollment: EnrollmentRef,
    /// What it says.
    pub kind: CheckinKind,
}

impl CheckinKind {
    /// The MessageType name.
    pub fn name(&self) -> &'static str {
        match self {
            CheckinKind::Authenticate(_) => "Authenticate",
            CheckinKind::TokenUpdate(_) => "TokenUpdate",
            CheckinKind::CheckOut => "CheckOut",
            CheckinKind::UserAuthenticate { .. } => "UserAuthenticate",
            CheckinKind::SetBootstrapToken { .. } => "SetBootstrapToken",
            CheckinKind::GetBootstrapToken => "GetBootstrapToken",
            CheckinKind::DeclarativeManagement(_) => "DeclarativeManagement",
            CheckinKind::GetToken { .. } => "GetToken",
        }
    }
}

/// Parses a check-in dictionary (one that has `MessageType`).
pub fn parse(d: &plist::Dictionary) -> Result<Checkin, ParseError> {
    let message_type = d.req_str("MessageType")?;
    let kind = match message_type.as_str() {
        "Authenticate" => CheckinKind::Authenticate(Authenticate {
            topic: d.req_str("Topic")?,
            build_version: d.opt_str("BuildVersion")?,
            device_name: d.opt_str("DeviceName")?,
            imei: d.opt_str("IMEI")?,
            meid: d.opt_str("MEID")?,
            model: d.opt_str("Model")?,
            model_name: d.opt_str("ModelName")?,
            os_version: d.opt_str("OSVersion")?,
            product_name: d.opt_str("ProductName")?,
            serial_number: d.opt_str("SerialNumber")?,
        }),
        "TokenUpdate" => CheckinKind::TokenUpdate(TokenUpdate {
            topic: d.req_str("Topic")?,
            token: d.opt_data("Token")?.filter(|t| !t.is_empty()).ok_or(ParseError::Missing("Token"))?,
            push_magic: d.req_str("PushMagic")?,
            unlock_token: d.opt_data("UnlockToken")?,
            awaiting_configuration: d.opt_bool("AwaitingConfiguration")?.unwrap_or(false),
            user_short_name: d.opt_str("UserShortName")?,
            user_long_name: d.opt_str("UserLongName")?,
        }),
        "CheckOut" => CheckinKind::CheckOut,
        "UserAuthenticate" => CheckinKind::UserAuthenticate { digest_response: d.opt_str("DigestResponse")? },
        "SetBootstrapToken" => CheckinKind::SetBootstrapToken { token: d.opt_data("BootstrapToken")? },
        "GetBootstrapToken" => CheckinKind::GetBootstrapToken,
        "DeclarativeManagement" => CheckinKind::DeclarativeManagement(DeclarativeManagement { endpoint: d.req_str("Endpoint")?, data: d.opt_data("Data")? }),
        "GetToken" => CheckinKind::GetToken { service_type: d.opt_str("TokenServiceType")? },
        other => return Err(ParseError::UnknownMessageType(other.to_string())),
    };
    Ok(Checkin { enrollment: resolve(d)?, kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::parse_dict;

    const AUTH: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>BuildVersion</key><string>22A3354</string>
  <key>DeviceName</key><string>Ward 3 iPhone</string>
  <key>MessageType</key><string>Authenticate</string>
  <key>Model</key><string>MQ3D2LL/A</string>
  <key>ModelName</key><string>iPhone</string>
  <key>OSVersion</key><string>18.1</string>
  <key>ProductName</key><string>iPhone15,2</string>
  <key>SerialNumber</key><string>F2LXK0ABCDEF</string>
  <key>Topic</key><string>com.apple.mgmt.External.8a1b2c3d-0000-4000-8000-000000000001</string>
  <key>UDID</key><string>00008110-000A1B2C3D4E5F60</string>
</dict></plist>"#;

    const TOKEN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
  <key>AwaitingConfiguration</key><true/>
  <key>MessageType</key><string>TokenUpdate</string>
  <key>PushMagic</key><string>2C0A7E3B-6C0D-4E5E-9D8A-6B1E0F1D2A3B</string>
  <key>Token</key><data>3q2+7w==</data>
  <key>Topic</key><string>com.apple.mgmt.External.8a1b2c3d-0000-4000-8000-000000000001</string>
  <key>UDID</key><string>00008110-000A1B2C3D4E5F60</string>
  <key>UnlockToken</key><data>AAECAw==</data>
</dict></plist>"#;

    #[test]
    fn parses_authenticate() {
        let c = parse(&parse_dict(AUTH.as_bytes()).unwrap()).unwrap();
        assert_eq!(c.enrollment.id, "00008110-000A1B2C3D4E5F60");
        let CheckinKind::Authenticate(a) = c.kind else { panic!("not Authenticate") };
        assert_eq!(a.serial_number.as_deref(), Some("F2LXK0ABCDEF"));
        assert_eq!(a.model_name.as_deref(), Some("iPhone"));
    }

    #[test]
    fn parses_token_update_with_exact_types() {
        let c = parse(&parse_dict(TOKEN.as_bytes()).unwrap()).unwrap();
        let CheckinKind::TokenUpdate(t) = c.kind else { panic!("not TokenUpdate") };
        assert_eq!(t.token, vec![0xde, 0xad, 0xbe, 0xef]);
        assert!(t.awaiting_configuration);
        assert_eq!(t.unlock_token, Some(vec![0, 1, 2, 3]));
        // Token sent as a string instead of <data> is refused.
        let bad = TOKEN.replace("<data>3q2+7w==</data>", "<string>deadbeef</string>");
        assert_eq!(parse(&parse_dict(bad.as_bytes()).unwrap()), Err(ParseError::WrongType { key: "Token", expected: "<data>" }));
    }

    #[test]
    fn refuses_unknown_message_type_and_missing_udid() {
        let bad = AUTH.replace("<string>Authenticate</string>", "<string>Hello</string>");
        assert_eq!(parse(&parse_dict(bad.as_bytes()).unwrap()), Err(ParseError::UnknownMessageType("Hello".into())));
        let no_udid = AUTH.replace("<key>UDID</key><string>00008110-000A1B2C3D4E5F60</string>", "");
        assert_eq!(parse(&parse_dict(no_udid.as_bytes()).unwrap()), Err(ParseError::NoDeviceId));
    }
}
