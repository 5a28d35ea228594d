//! `com.apple.shareddeviceconfiguration`: text on the login window and Lock Screen of shared
//! devices (asset tag, "if found, return to ...").
//!
//! Apple's schema for this payload has only the three keys below. The Shared iPad settings
//! (`ResidentUsers`, `QuotaSize`, `UserSessionTimeout`, `TemporarySessionOnly`,
//! `TemporarySessionTimeout`) are not profile keys: they are sent with the MDM `Settings`
//! command's `SharedDeviceConfiguration` item.

use serde::{Deserialize, Serialize};

use super::PayloadKind;
use crate::issue::{key_path, Issue};

/// `com.apple.shareddeviceconfiguration` payload (supervised iOS 9.3+).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedDevice {
    /// `AssetTagInformation`: the asset tag shown in the login window and on the Lock Screen.
    #[serde(rename = "AssetTagInformation", default, skip_serializing_if = "Option::is_none")]
    pub asset_tag_information: Option<String>,
    /// `LockScreenFootnote` (iOS 9.3.1+): the footnote shown in the login window and on the
    /// Lock Screen.
    #[serde(rename = "LockScreenFootnote", default, skip_serializing_if = "Option::is_none")]
    pub lock_screen_footnote: Option<String>,
    /// `IfLostReturnToMessage`: deprecated; use `LockScreenFootnote`.
    #[serde(rename = "IfLostReturnToMessage", default, skip_serializing_if = "Option::is_none")]
    pub if_lost_return_to_message: Option<String>,
}

impl SharedDevice {
    /// A payload showing `footnote` on the Lock Screen and, when given, the asset tag.
    pub fn footnote(footnote: impl Into<String>, asset_tag: Option<String>) -> SharedDevice {
        SharedDevice { asset_tag_information: asset_tag, lock_screen_footnote: Some(footnote.into()), if_lost_return_to_message: None }
    }
}

impl PayloadKind for SharedDevice {
    const TYPE: &'static str = "com.apple.shareddeviceconfiguration";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.if_lost_return_to_message.is_some() {
            out.push(Issue::warning(key_path(path, "IfLostReturnToMessage"), "deprecated; use LockScreenFootnote instead"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_key_warns() {
        let s = SharedDevice { if_lost_return_to_message: Some("Ward 3".into()), ..SharedDevice::default() };
        let mut out = Vec::new();
        s.check("P", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].path, "P.IfLostReturnToMessage");
        let mut out = Vec::new();
        SharedDevice::footnote("Property of Ward 3", Some("A-1234".into())).check("P", &mut out);
        assert!(out.is_empty());
    }
}
