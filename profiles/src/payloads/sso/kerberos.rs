//! `ExtensionData` of Apple's built-in Kerberos SSO extension, read strictly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::value::Data;

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
