//! `com.apple.extensiblesso`: an app extension that performs single sign-on, either for URLs
//! (`Redirect`, e.g. Microsoft Enterprise SSO, Okta) or for hosts of a realm (`Credential`,
//! including Apple's built-in Kerberos extension).
//!
//! Keys are spelled as in Apple's schema (`com.apple.extensiblesso.yaml` and
//! `com.apple.extensiblesso(kerberos).yaml`). `ExtensionData` is free-form for third-party
//! extensions ([`ExtensionData::Other`]) and typed for the Kerberos extension
//! ([`KerberosExtensionData`]): a payload whose `ExtensionIdentifier` is
//! [`KERBEROS_EXTENSION_ID`] reads its `ExtensionData` strictly into that struct.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::PayloadKind;
use crate::issue::{index_path, key_path, Issue};
use crate::value::Data;

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

/// `PlatformSSO.AuthenticationMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PlatformSsoMethod {
    /// `Password`.
    Password,
    /// `UserSecureEnclaveKey`.
    UserSecureEnclaveKey,
    /// `SmartCard`.
    SmartCard,
}

/// `PlatformSSO.NewUserAuthorizationMode` / `UserAuthorizationMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthorizationMode {
    /// `Standard`.
    Standard,
    /// `Admin`.
    Admin,
    /// `Groups`.
    Groups,
}

/// A `PlatformSSO.FileVaultPolicy` or `LoginPolicy` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PlatformSsoPolicy {
    /// `AttemptAuthentication`.
    AttemptAuthentication,
    /// `RequireAuthentication`.
    RequireAuthentication,
    /// `AllowOfflineGracePeriod` (needs `OfflineGracePeriod`).
    AllowOfflineGracePeriod,
    /// `AllowAuthenticationGracePeriod` (needs `AuthenticationGracePeriod`).
    AllowAuthenticationGracePeriod,
}

/// A `PlatformSSO.UnlockPolicy` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnlockPolicy {
    /// `AttemptAuthentication`.
    AttemptAuthentication,
    /// `RequireAuthentication`.
    RequireAuthentication,
    /// `AllowOfflineGracePeriod` (needs `OfflineGracePeriod`).
    AllowOfflineGracePeriod,
    /// `AllowAuthenticationGracePeriod` (needs `AuthenticationGracePeriod`).
    AllowAuthenticationGracePeriod,
    /// `AllowTouchIDOrWatchForUnlock`.
    #[serde(rename = "AllowTouchIDOrWatchForUnlock")]
    AllowTouchIdOrWatchForUnlock,
}

/// `PlatformSSO.TokenToUserMapping`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenToUserMapping {
    /// `AccountName`: the claim holding the account name.
    #[serde(rename = "AccountName", default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// `FullName`: the claim holding the full name.
    #[serde(rename = "FullName", default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
}

/// `PlatformSSO` (macOS 14+).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSso {
    /// `AuthenticationMethod`.
    #[serde(rename = "AuthenticationMethod", default, skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<PlatformSsoMethod>,
    /// `UseSharedDeviceKeys`.
    #[serde(rename = "UseSharedDeviceKeys", default, skip_serializing_if = "Option::is_none")]
    pub use_shared_device_keys: Option<bool>,
    /// `AccountDisplayName`.
    #[serde(rename = "AccountDisplayName", default, skip_serializing_if = "Option::is_none")]
    pub account_display_name: Option<String>,
    /// `LoginFrequency` in seconds (at least 3600).
    #[serde(rename = "LoginFrequency", default, skip_serializing_if = "Option::is_none")]
    pub login_frequency: Option<super::vpn::Bounded<3600, { i64::MAX }>>,
    /// `EnableCreateUserAtLogin` (needs `UseSharedDeviceKeys`).
    #[serde(rename = "EnableCreateUserAtLogin", default, skip_serializing_if = "Option::is_none")]
    pub enable_create_user_at_login: Option<bool>,
    /// `EnableAuthorization` (needs `UseSharedDeviceKeys`).
    #[serde(rename = "EnableAuthorization", default, skip_serializing_if = "Option::is_none")]
    pub enable_authorization: Option<bool>,
    /// `TokenToUserMapping`.
    #[serde(rename = "TokenToUserMapping", default, skip_serializing_if = "Option::is_none")]
    pub token_to_user_mapping: Option<TokenToUserMapping>,
    /// `NewUserAuthorizationMode`.
    #[serde(rename = "NewUserAuthorizationMode", default, skip_serializing_if = "Option::is_none")]
    pub new_user_authorization_mode: Option<AuthorizationMode>,
    /// `UserAuthorizationMode`.
    #[serde(rename = "UserAuthorizationMode", default, skip_serializing_if = "Option::is_none")]
    pub user_authorization_mode: Option<AuthorizationMode>,
    /// `AdministratorGroups`.
    #[serde(rename = "AdministratorGroups", default, skip_serializing_if = "Option::is_none")]
    pub administrator_groups: Option<Vec<String>>,
    /// `AdditionalGroups`.
    #[serde(rename = "AdditionalGroups", default, skip_serializing_if = "Option::is_none")]
    pub additional_groups: Option<Vec<String>>,
    /// `AuthorizationGroups`: authorization right → group.
    #[serde(rename = "AuthorizationGroups", default, skip_serializing_if = "Option::is_none")]
    pub authorization_groups: Option<BTreeMap<String, String>>,
    /// `FileVaultPolicy`.
    #[serde(rename = "FileVaultPolicy", default, skip_serializing_if = "Option::is_none")]
    pub file_vault_policy: Option<Vec<PlatformSsoPolicy>>,
    /// `LoginPolicy`.
    #[serde(rename = "LoginPolicy", default, skip_serializing_if = "Option::is_none")]
    pub login_policy: Option<Vec<PlatformSsoPolicy>>,
    /// `UnlockPolicy`.
    #[serde(rename = "UnlockPolicy", default, skip_serializing_if = "Option::is_none")]
    pub unlock_policy: Option<Vec<UnlockPolicy>>,
    /// `OfflineGracePeriod`.
    #[serde(rename = "OfflineGracePeriod", default, skip_serializing_if = "Option::is_none")]
    pub offline_grace_period: Option<i64>,
    /// `AuthenticationGracePeriod`.
    #[serde(rename = "AuthenticationGracePeriod", default, skip_serializing_if = "Option::is_none")]
    pub authentication_grace_period: Option<i64>,
    /// `NonPlatformSSOAccounts`.
    #[serde(rename = "NonPlatformSSOAccounts", default, skip_serializing_if = "Option::is_none")]
    pub non_platform_sso_accounts: Option<Vec<String>>,
}

impl PlatformSso {
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let shared = self.use_shared_device_keys == Some(true);
        for (key, on) in [("EnableCreateUserAtLogin", self.enable_create_user_at_login), ("EnableAuthorization", self.enable_authorization)] {
            if on == Some(true) && !shared {
                out.push(Issue::error(key_path(path, key), format!("{key} requires UseSharedDeviceKeys true")));
            }
        }
        let policies = || {
            let a = self.file_vault_policy.iter().flatten().map(|p| match p {
                PlatformSsoPolicy::AllowOfflineGracePeriod => (true, false),
                PlatformSsoPolicy::AllowAuthenticationGracePeriod => (false, true),
                _ => (false, false),
            });
            let b = self.login_policy.iter().flatten().map(|p| match p {
                PlatformSsoPolicy::AllowOfflineGracePeriod => (true, false),
                PlatformSsoPolicy::AllowAuthenticationGracePeriod => (false, true),
                _ => (false, false),
            });
            let c = self.unlock_policy.iter().flatten().map(|p| match p {
                UnlockPolicy::AllowOfflineGracePeriod => (true, false),
                UnlockPolicy::AllowAuthenticationGracePeriod => (false, true),
                _ => (false, false),
            });
            a.chain(b).chain(c).fold((false, false), |acc, x| (acc.0 || x.0, acc.1 || x.1))
        };
        let (offline, auth) = policies();
        if offline && self.offline_grace_period.is_none() {
            out.push(Issue::error(key_path(path, "OfflineGracePeriod"), "a policy allows the offline grace period, which requires OfflineGracePeriod"));
        }
        if auth && self.authentication_grace_period.is_none() {
            out.push(Issue::error(
                key_path(path, "AuthenticationGracePeriod"),
                "a policy allows the authentication grace period, which requires AuthenticationGracePeriod",
            ));
        }
    }
}

/// `ExtensionData.credentialUseMode` of the Kerberos extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CredentialUseMode {
    /// `always` (the default).
    #[serde(rename = "always")]
    Always,
    /// `whenNotSpecified`.
    #[serde(rename = "whenNotSpecified")]
    WhenNotSpecified,
    /// `kerberosDefault`.
    #[serde(rename = "kerberosDefault")]
    KerberosDefault,
}

/// `ExtensionData` of Apple's Kerberos extension.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KerberosExtensionData {
    /// `cacheName` (deprecated).
    #[serde(rename = "cacheName", default, skip_serializing_if = "Option::is_none")]
    pub cache_name: Option<String>,
    /// `principalName`: the user name, without realm.
    #[serde(rename = "principalName", default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// `siteCode`: the Active Directory site.
    #[serde(rename = "siteCode", default, skip_serializing_if = "Option::is_none")]
    pub site_code: Option<String>,
    /// `certificateUUID`: the `PayloadUUID` of a PKINIT identity.
    #[serde(rename = "certificateUUID", default, skip_serializing_if = "Option::is_none")]
    pub certificate_uuid: Option<String>,
    /// `useSiteAutoDiscovery`.
    #[serde(rename = "useSiteAutoDiscovery", default, skip_serializing_if = "Option::is_none")]
    pub use_site_auto_discovery: Option<bool>,
    /// `credentialBundleIdACL`: apps allowed to use the TGT.
    #[serde(rename = "credentialBundleIdACL", default, skip_serializing_if = "Option::is_none")]
    pub credential_bundle_id_acl: Option<Vec<String>>,
    /// `includeManagedAppsInBundleIdACL`.
    #[serde(rename = "includeManagedAppsInBundleIdACL", default, skip_serializing_if = "Option::is_none")]
    pub include_managed_apps_in_bundle_id_acl: Option<bool>,
    /// `includeKerberosAppsInBundleIdACL` (macOS).
    #[serde(rename = "includeKerberosAppsInBundleIdACL", default, skip_serializing_if = "Option::is_none")]
    pub include_kerberos_apps_in_bundle_id_acl: Option<bool>,
    /// `domainRealmMapping`: realm → DNS suffixes.
    #[serde(rename = "domainRealmMapping", default, skip_serializing_if = "Option::is_none")]
    pub domain_realm_mapping: Option<BTreeMap<String, Vec<String>>>,
    /// `isDefaultRealm`.
    #[serde(rename = "isDefaultRealm", default, skip_serializing_if = "Option::is_none")]
    pub is_default_realm: Option<bool>,
    /// `customUsernameLabel`.
    #[serde(rename = "customUsernameLabel", default, skip_serializing_if = "Option::is_none")]
    pub custom_username_label: Option<String>,
    /// `helpText`.
    #[serde(rename = "helpText", default, skip_serializing_if = "Option::is_none")]
    pub help_text: Option<String>,
    /// `allowPasswordChange` (macOS).
    #[serde(rename = "allowPasswordChange", default, skip_serializing_if = "Option::is_none")]
    pub allow_password_change: Option<bool>,
    /// `allowAutomaticLogin`: allow saving the password in the keychain.
    #[serde(rename = "allowAutomaticLogin", default, skip_serializing_if = "Option::is_none")]
    pub allow_automatic_login: Option<bool>,
    /// `requireUserPresence`.
    #[serde(rename = "requireUserPresence", default, skip_serializing_if = "Option::is_none")]
    pub require_user_presence: Option<bool>,
    /// `pwExpireOverride` (macOS).
    #[serde(rename = "pwExpireOverride", default, skip_serializing_if = "Option::is_none")]
    pub pw_expire_override: Option<i64>,
    /// `pwNotificationDays` (macOS).
    #[serde(rename = "pwNotificationDays", default, skip_serializing_if = "Option::is_none")]
    pub pw_notification_days: Option<i64>,
    /// `pwReqLength` (macOS).
    #[serde(rename = "pwReqLength", default, skip_serializing_if = "Option::is_none")]
    pub pw_req_length: Option<i64>,
    /// `pwReqComplexity` (macOS).
    #[serde(rename = "pwReqComplexity", default, skip_serializing_if = "Option::is_none")]
    pub pw_req_complexity: Option<bool>,
    /// `pwReqMinAge` (macOS).
    #[serde(rename = "pwReqMinAge", default, skip_serializing_if = "Option::is_none")]
    pub pw_req_min_age: Option<i64>,
    /// `pwReqHistory` (macOS).
    #[serde(rename = "pwReqHistory", default, skip_serializing_if = "Option::is_none")]
    pub pw_req_history: Option<i64>,
    /// `pwReqText` (macOS).
    #[serde(rename = "pwReqText", default, skip_serializing_if = "Option::is_none")]
    pub pw_req_text: Option<String>,
    /// `pwReqRTFData` (macOS 15).
    #[serde(rename = "pwReqRTFData", default, skip_serializing_if = "Option::is_none")]
    pub pw_req_rtf_data: Option<Data>,
    /// `pwChangeURL` (macOS).
    #[serde(rename = "pwChangeURL", default, skip_serializing_if = "Option::is_none")]
    pub pw_change_url: Option<String>,
    /// `syncLocalPassword` (macOS).
    #[serde(rename = "syncLocalPassword", default, skip_serializing_if = "Option::is_none")]
    pub sync_local_password: Option<bool>,
    /// `replicationTime` in seconds (macOS).
    #[serde(rename = "replicationTime", default, skip_serializing_if = "Option::is_none")]
    pub replication_time: Option<i64>,
    /// `delayUserSetup` (macOS).
    #[serde(rename = "delayUserSetup", default, skip_serializing_if = "Option::is_none")]
    pub delay_user_setup: Option<bool>,
    /// `monitorCredentialsCache` (macOS).
    #[serde(rename = "monitorCredentialsCache", default, skip_serializing_if = "Option::is_none")]
    pub monitor_credentials_cache: Option<bool>,
    /// `requireTLSForLDAP`.
    #[serde(rename = "requireTLSForLDAP", default, skip_serializing_if = "Option::is_none")]
    pub require_tls_for_ldap: Option<bool>,
    /// `credentialUseMode`.
    #[serde(rename = "credentialUseMode", default, skip_serializing_if = "Option::is_none")]
    pub credential_use_mode: Option<CredentialUseMode>,
    /// `preferredKDCs`: `[protocol/]hostname[:port][/path]`.
    #[serde(rename = "preferredKDCs", default, skip_serializing_if = "Option::is_none")]
    pub preferred_kdcs: Option<Vec<String>>,
    /// `usePlatformSSOTGT` (macOS).
    #[serde(rename = "usePlatformSSOTGT", default, skip_serializing_if = "Option::is_none")]
    pub use_platform_sso_tgt: Option<bool>,
    /// `allowPlatformSSOAuthFallback` (macOS).
    #[serde(rename = "allowPlatformSSOAuthFallback", default, skip_serializing_if = "Option::is_none")]
    pub allow_platform_sso_auth_fallback: Option<bool>,
    /// `performKerberosOnly`.
    #[serde(rename = "performKerberosOnly", default, skip_serializing_if = "Option::is_none")]
    pub perform_kerberos_only: Option<bool>,
    /// `identityIssuerAutoSelectFilter` (macOS 15).
    #[serde(rename = "identityIssuerAutoSelectFilter", default, skip_serializing_if = "Option::is_none")]
    pub identity_issuer_auto_select_filter: Option<String>,
    /// `allowSmartCard` (macOS 15).
    #[serde(rename = "allowSmartCard", default, skip_serializing_if = "Option::is_none")]
    pub allow_smart_card: Option<bool>,
    /// `allowPassword` (macOS 15).
    #[serde(rename = "allowPassword", default, skip_serializing_if = "Option::is_none")]
    pub allow_password: Option<bool>,
    /// `startInSmartCardMode` (macOS 15).
    #[serde(rename = "startInSmartCardMode", default, skip_serializing_if = "Option::is_none")]
    pub start_in_smart_card_mode: Option<bool>,
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
