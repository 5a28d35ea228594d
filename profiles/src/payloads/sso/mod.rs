//! `com.apple.extensiblesso`: an app extension that performs single sign-on, either for URLs
//! (`Redirect`, e.g. Microsoft Enterprise SSO, Okta) or for hosts of a realm (`Credential`,
//! including Apple's built-in Kerberos extension).
//!
//! Keys are spelled as in Apple's schema (`com.apple.extensiblesso.yaml` and
//! `com.apple.extensiblesso(kerberos).yaml`). `ExtensionData` is free-form for third-party
//! extensions ([`ExtensionData::Other`]) and typed for the Kerberos extension
//! ([`KerberosExtensionData`]): a payload whose `ExtensionIdentifier` is
//! [`KERBEROS_EXTENSION_ID`] reads its `ExtensionData` strictly into that struct.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::PayloadKind;
use crate::issue::{index_path, key_path, Issue};

mod kerberos;
mod platform;

pub use kerberos::*;
pub use platform::*;

/// The bundle identifier of Apple's built-in Kerberos SSO extension.
pub const KERBEROS_EXTENSION_ID: &str = "com.apple.AppSSOKerberos.KerberosExtension";
/// The `TeamIdentifier` Apple's own extensions use.
pub const APPLE_TEAM_ID: &str = "apple";

/// `Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SsoType {
    /// `Redirect`: the extension handles the identity provider's `URLs`.
    Redirect,
    /// `Credential`: the extension answers authentication challenges for `Hosts` in `Realm`.
    Credential,
}

/// `ScreenLockedBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScreenLockedBehavior {
    /// `Cancel` (the default): cancel requests while the screen is locked.
    Cancel,
    /// `DoNotHandle`: continue without SSO.
    DoNotHandle,
}

/// Top-level `AuthenticationMethod` (macOS 13 Platform SSO; deprecated in macOS 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LegacyPlatformSsoMethod {
    /// `Password`.
    Password,
    /// `UserSecureEnclaveKey`.
    UserSecureEnclaveKey,
}

/// `ExtensionData`: typed for the Kerberos extension, free-form otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExtensionData {
    /// The Kerberos extension's settings.
    Kerberos(Box<KerberosExtensionData>),
    /// Any other extension's settings, passed through.
    Other(plist::Dictionary),
}

impl<'de> Deserialize<'de> for ExtensionData {
    /// Reads the dictionary as is; [`ExtensibleSso`] types it when the extension is Kerberos.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        plist::Dictionary::deserialize(d).map(ExtensionData::Other)
    }
}

/// `com.apple.extensiblesso` payload.
///
/// (De)serialized with Apple's key names (`ExtensionIdentifier`, `TeamIdentifier`, `Type`,
/// `Realm`, `ExtensionData`, `URLs`, `Hosts`, ...), strictly: an unknown key is refused. Reading
/// types `ExtensionData` as [`KerberosExtensionData`] when `ExtensionIdentifier` is
/// [`KERBEROS_EXTENSION_ID`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensibleSso {
    /// `ExtensionIdentifier`: the SSO extension's bundle identifier.
    pub extension_identifier: String,
    /// `TeamIdentifier`: the extension's team (required on macOS, ignored on iOS; `apple` for
    /// Apple's extensions).
    pub team_identifier: Option<String>,
    /// `Type`.
    pub sso_type: SsoType,
    /// `Realm` (`Credential`): properly capitalized, e.g. `EXAMPLE.ORG`.
    pub realm: Option<String>,
    /// `ExtensionData`.
    pub extension_data: Option<ExtensionData>,
    /// `URLs` (`Redirect`): `http(s)://` prefixes of the identity provider, without query or
    /// fragment.
    pub urls: Option<Vec<String>>,
    /// `Hosts` (`Credential`): host names, or domains with a leading `.`.
    pub hosts: Option<Vec<String>>,
    /// `ScreenLockedBehavior`.
    pub screen_locked_behavior: Option<ScreenLockedBehavior>,
    /// `DeniedBundleIdentifiers`: apps that must not use this extension.
    pub denied_bundle_identifiers: Option<Vec<String>>,
    /// `AuthenticationMethod` (macOS 13 Platform SSO, deprecated).
    pub authentication_method: Option<LegacyPlatformSsoMethod>,
    /// `RegistrationToken` (macOS Platform SSO).
    pub registration_token: Option<String>,
    /// `PlatformSSO` (macOS 14+).
    pub platform_sso: Option<PlatformSso>,
}

/// The keys of [`ExtensibleSso`] as Apple spells them, read strictly. (A private remote
/// description, so the typed `ExtensionData` fix-up cannot be bypassed.)
#[derive(Serialize, Deserialize)]
#[serde(remote = "ExtensibleSso", deny_unknown_fields)]
struct Wire {
    #[serde(rename = "ExtensionIdentifier")]
    extension_identifier: String,
    #[serde(rename = "TeamIdentifier", default, skip_serializing_if = "Option::is_none")]
    team_identifier: Option<String>,
    #[serde(rename = "Type")]
    sso_type: SsoType,
    #[serde(rename = "Realm", default, skip_serializing_if = "Option::is_none")]
    realm: Option<String>,
    #[serde(rename = "ExtensionData", default, skip_serializing_if = "Option::is_none")]
    extension_data: Option<ExtensionData>,
    #[serde(rename = "URLs", default, skip_serializing_if = "Option::is_none")]
    urls: Option<Vec<String>>,
    #[serde(rename = "Hosts", default, skip_serializing_if = "Option::is_none")]
    hosts: Option<Vec<String>>,
    #[serde(rename = "ScreenLockedBehavior", default, skip_serializing_if = "Option::is_none")]
    screen_locked_behavior: Option<ScreenLockedBehavior>,
    #[serde(rename = "DeniedBundleIdentifiers", default, skip_serializing_if = "Option::is_none")]
    denied_bundle_identifiers: Option<Vec<String>>,
    #[serde(rename = "AuthenticationMethod", default, skip_serializing_if = "Option::is_none")]
    authentication_method: Option<LegacyPlatformSsoMethod>,
    #[serde(rename = "RegistrationToken", default, skip_serializing_if = "Option::is_none")]
    registration_token: Option<String>,
    #[serde(rename = "PlatformSSO", default, skip_serializing_if = "Option::is_none")]
    platform_sso: Option<PlatformSso>,
}

impl Serialize for ExtensibleSso {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for ExtensibleSso {
    /// Reads the keys strictly, then types `ExtensionData` when the extension is Kerberos (an
    /// `ExtensionData` with keys the Kerberos extension does not document is refused).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut sso = Wire::deserialize(d)?;
        if sso.is_kerberos() {
            if let Some(ExtensionData::Other(dict)) = sso.extension_data.take() {
                let k: KerberosExtensionData = plist::from_value(&plist::Value::Dictionary(dict))
                    .map_err(|e| de::Error::custom(format!("ExtensionData of the Kerberos extension: {e}")))?;
                sso.extension_data = Some(ExtensionData::Kerberos(Box::new(k)));
            }
        }
        Ok(sso)
    }
}

impl ExtensibleSso {
    /// A payload with the required keys only.
    pub fn new(extension_identifier: impl Into<String>, sso_type: SsoType) -> ExtensibleSso {
        ExtensibleSso {
            extension_identifier: extension_identifier.into(),
            team_identifier: None,
            sso_type,
            realm: None,
            extension_data: None,
            urls: None,
            hosts: None,
            screen_locked_behavior: None,
            denied_bundle_identifiers: None,
            authentication_method: None,
            registration_token: None,
            platform_sso: None,
        }
    }

    /// A `Redirect` extension handling the identity provider `urls` (e.g. Microsoft Enterprise
    /// SSO: `com.microsoft.azureauthenticator.ssoextension`, team `SGGM6D27TK`,
    /// `https://login.microsoftonline.com`, ...).
    pub fn redirect(extension_identifier: impl Into<String>, team_identifier: impl Into<String>, urls: Vec<String>) -> ExtensibleSso {
        let mut s = ExtensibleSso::new(extension_identifier, SsoType::Redirect);
        s.team_identifier = Some(team_identifier.into());
        s.urls = Some(urls);
        s
    }

    /// A `Credential` extension for `hosts` in `realm`.
    pub fn credential(
        extension_identifier: impl Into<String>,
        team_identifier: impl Into<String>,
        realm: impl Into<String>,
        hosts: Vec<String>,
    ) -> ExtensibleSso {
        let mut s = ExtensibleSso::new(extension_identifier, SsoType::Credential);
        s.team_identifier = Some(team_identifier.into());
        s.realm = Some(realm.into());
        s.hosts = Some(hosts);
        s
    }

    /// Apple's Kerberos extension for `realm` (e.g. `HOSPITAL.EXAMPLE.ORG`) and `hosts`
    /// (`.hospital.example.org` for the whole domain).
    pub fn kerberos(realm: impl Into<String>, hosts: Vec<String>, data: KerberosExtensionData) -> ExtensibleSso {
        let mut s = ExtensibleSso::credential(KERBEROS_EXTENSION_ID, APPLE_TEAM_ID, realm, hosts);
        s.extension_data = Some(ExtensionData::Kerberos(Box::new(data)));
        s
    }

    /// Passes `data` to a third-party extension as `ExtensionData`.
    pub fn with_extension_data(mut self, data: plist::Dictionary) -> ExtensibleSso {
        self.extension_data = Some(ExtensionData::Other(data));
        self
    }

    /// Whether this configures Apple's Kerberos extension.
    pub fn is_kerberos(&self) -> bool {
        self.extension_identifier == KERBEROS_EXTENSION_ID
    }

    /// The Kerberos settings, when this is the Kerberos extension with `ExtensionData`.
    pub fn kerberos_data(&self) -> Option<&KerberosExtensionData> {
        match &self.extension_data {
            Some(ExtensionData::Kerberos(k)) => Some(k),
            _ => None,
        }
    }
}

impl PayloadKind for ExtensibleSso {
    const TYPE: &'static str = "com.apple.extensiblesso";

    /// Apple's prose rules: `Redirect` needs `URLs` (http/https, no query or fragment);
    /// `Credential` needs `Realm` and `Hosts`; the Kerberos extension needs `Realm`, `Type`
    /// `Credential` and `TeamIdentifier` `apple`; a third-party extension without
    /// `TeamIdentifier` is flagged as a warning (macOS requires it, iOS ignores it); Platform
    /// SSO's dependent keys.
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let non_empty = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
        match self.sso_type {
            SsoType::Redirect => {
                if !non_empty(&self.urls) {
                    out.push(Issue::error(key_path(path, "URLs"), "a Redirect extension needs URLs: the identity provider's http(s) URL prefixes"));
                }
                for (i, u) in self.urls.iter().flatten().enumerate() {
                    let lower = u.to_ascii_lowercase();
                    let p = index_path(&key_path(path, "URLs"), i);
                    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                        out.push(Issue::error(p, format!("{u:?} must begin with https:// or http://")));
                    } else if u.contains('?') || u.contains('#') {
                        out.push(Issue::error(p, format!("{u:?}: query parameters and fragments are not allowed")));
                    }
                }
            }
            SsoType::Credential => {
                if self.realm.as_deref().is_none_or(str::is_empty) {
                    out.push(Issue::error(key_path(path, "Realm"), "a Credential extension needs Realm"));
                }
                if !non_empty(&self.hosts) {
                    out.push(Issue::error(key_path(path, "Hosts"), "a Credential extension needs Hosts: host names, or domains with a leading dot"));
                }
            }
        }
        if self.is_kerberos() {
            if self.sso_type != SsoType::Credential {
                out.push(Issue::error(key_path(path, "Type"), "the Kerberos extension is of Type Credential"));
            }
            if self.team_identifier.as_deref() != Some(APPLE_TEAM_ID) {
                out.push(Issue::error(key_path(path, "TeamIdentifier"), "set TeamIdentifier to apple for the Kerberos extension"));
            }
            if matches!(self.extension_data, Some(ExtensionData::Other(_))) {
                out.push(Issue::error(key_path(path, "ExtensionData"), "the Kerberos extension's ExtensionData must use the typed Kerberos settings"));
            }
        } else {
            if self.team_identifier.is_none() && !self.extension_identifier.starts_with("com.apple.") {
                out.push(Issue::warning(key_path(path, "TeamIdentifier"), "TeamIdentifier is missing: macOS requires it for this extension (iOS ignores it)"));
            }
            if matches!(self.extension_data, Some(ExtensionData::Kerberos(_))) {
                out.push(Issue::error(
                    key_path(path, "ExtensionData"),
                    format!("Kerberos settings given to {}, which is not the Kerberos extension", self.extension_identifier),
                ));
            }
        }
        if self.registration_token.is_some()
            && self.platform_sso.as_ref().and_then(|p| p.authentication_method).is_none()
            && self.authentication_method.is_none()
        {
            out.push(Issue::error(key_path(path, "RegistrationToken"), "RegistrationToken requires a Platform SSO AuthenticationMethod"));
        }
        if let Some(p) = &self.platform_sso {
            p.check(&key_path(path, "PlatformSSO"), out);
        }
    }
}

#[cfg(test)]
mod tests;
