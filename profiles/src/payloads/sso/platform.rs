//! `PlatformSSO`: the macOS Platform SSO settings of an extensible SSO payload.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::issue::{key_path, Issue};

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
    pub login_frequency: Option<crate::value::Bounded<3600, { i64::MAX }>>,
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
    pub(super) fn check(&self, path: &str, out: &mut Vec<Issue>) {
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
