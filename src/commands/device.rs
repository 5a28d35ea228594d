//! Device actions: DeviceLock, EraseDevice, RestartDevice and ClearPasscode.

use serde::{Deserialize, Serialize};

use super::convert::{Data, Text};
use super::{de, CommandError};

/// The Find My PIN of DeviceLock and EraseDevice (macOS): exactly six characters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String")]
pub(crate) struct Pin(pub String);

impl TryFrom<String> for Pin {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.chars().count() {
            6 => Ok(Pin(s)),
            n => Err(format!("the PIN must be exactly six characters, not {n}")),
        }
    }
}

/// `DeviceLock` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct DeviceLock {
    /// Find My PIN (macOS).
    #[serde(rename = "PIN")]
    pub pin: Option<Pin>,
    /// Text shown on the Lock screen.
    pub message: Option<String>,
    /// Phone number shown on the Lock screen.
    pub phone_number: Option<String>,
}

/// `EraseDevice` fallback when Erase All Content and Settings cannot run (macOS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) enum ObliterationBehavior {
    /// Error if EACS preflight fails, then erase anyway.
    Default,
    /// Never fall back to obliteration.
    DoNotObliterate,
    /// Acknowledge and obliterate if EACS cannot run.
    ObliterateWithWarning,
    /// Always obliterate.
    Always,
}

/// `EraseDevice.ReturnToService`: re-enroll by itself after the erase (iOS 17, tvOS 18).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct ReturnToService {
    /// Turn Return to Service on.
    pub enabled: bool,
    /// Wi-Fi profile to install after the erase (base64).
    pub wi_fi_profile_data: Option<Data>,
    /// MDM enrollment profile to install after the erase (base64).
    #[serde(rename = "MDMProfileData")]
    pub mdm_profile_data: Option<Data>,
}

/// `EraseDevice` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct EraseDevice {
    /// Find My PIN (macOS).
    #[serde(rename = "PIN")]
    pub pin: Option<Pin>,
    /// Keep the cellular data plan (iOS 11+).
    pub preserve_data_plan: Option<bool>,
    /// Turn off Proximity Setup on the next Setup Assistant run.
    pub disallow_proximity_setup: Option<bool>,
    /// What to do when EACS cannot run (macOS 12+).
    pub obliteration_behavior: Option<ObliterationBehavior>,
    /// Return to Service settings.
    pub return_to_service: Option<ReturnToService>,
}

/// `RestartDevice` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RestartDevice {
    /// Ask the user to restart at their convenience instead of forcing it (macOS 11.3+).
    pub notify_user: Option<bool>,
    /// Rebuild the kernel cache on restart (macOS 11+).
    pub rebuild_kernel_cache: Option<bool>,
    /// Kernel extensions to add to the cache (macOS 11+).
    pub kext_paths: Option<Vec<Text>>,
}

/// `ClearPasscode` payload as the admin sends it: nothing; the token is the enrollment's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClearPasscode {}

/// Builds `ClearPasscode` without its `UnlockToken`, which [`super::with_unlock_token`] adds per
/// enrollment from the escrowed token.
pub(crate) fn clear_passcode(payload: &serde_json::Value) -> Result<plist::Dictionary, CommandError> {
    if de::object(payload, "")?.contains_key("UnlockToken") {
        return Err(CommandError::invalid("UnlockToken", "is filled in from the token each device escrowed at enrollment; leave it out"));
    }
    let _: ClearPasscode = de::from_value(payload, "")?;
    Ok(plist::Dictionary::new())
}

#[cfg(test)]
mod tests {
    use super::super::convert::encode;
    use super::*;

    #[test]
    fn return_to_service_keys_are_spelled_like_apple() {
        let p = serde_json::json!({"ReturnToService": {"Enabled": true, "WiFiProfileData": "AAE=", "MDMProfileData": "AAI="}});
        let d = encode(&de::from_value::<EraseDevice>(&p, "").unwrap()).unwrap();
        let rts = d.get("ReturnToService").and_then(|v| v.as_dictionary()).unwrap();
        assert_eq!(rts.get("WiFiProfileData").and_then(|v| v.as_data()), Some(&[0u8, 1][..]));
        assert_eq!(rts.get("MDMProfileData").and_then(|v| v.as_data()), Some(&[0u8, 2][..]));
        assert_eq!(rts.get("Enabled").and_then(|v| v.as_boolean()), Some(true));
    }
}
