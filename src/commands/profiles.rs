//! Configuration profiles: InstallProfile and RemoveProfile.

use serde::{Deserialize, Serialize};

use super::convert::{encode, Data, Text};
use super::{de, CommandError};

/// `InstallProfile` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct InstallProfile {
    /// The profile (`.mobileconfig`, plain or signed), base64 in JSON, `<data>` in the command.
    pub payload: Data,
}

/// Builds `InstallProfile`, refusing an empty profile.
pub(crate) fn install_profile(payload: &serde_json::Value) -> Result<plist::Dictionary, CommandError> {
    let p: InstallProfile = de::from_value(payload, "")?;
    if p.payload.0.is_empty() {
        return Err(CommandError::invalid("Payload", "the profile is empty"));
    }
    encode(&p)
}

/// `RemoveProfile` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RemoveProfile {
    /// The `PayloadIdentifier` of the profile to remove.
    pub identifier: Text,
}
