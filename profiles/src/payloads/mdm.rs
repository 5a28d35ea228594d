//! `com.apple.mdm`: enrolls the device in this MDM server.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use serde::{Deserialize, Serialize};

use super::webclip::check_url;
use super::PayloadKind;
use crate::issue::{index_path, key_path, Issue};

/// `com.apple.mdm` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mdm {
    /// `IdentityCertificateUUID`: `PayloadUUID` of the certificate (PKCS#12 or SCEP) payload that
    /// provides the device identity.
    #[serde(rename = "IdentityCertificateUUID")]
    pub identity_certificate_uuid: String,
    /// `Topic`: the APNs topic (`com.apple.mgmt.External.<uuid>`), from the push certificate's
    /// subject. Must not change when the profile is updated.
    #[serde(rename = "Topic")]
    pub topic: String,
    /// `ServerURL`: the https URL of the command endpoint. Must not change on update.
    #[serde(rename = "ServerURL")]
    pub server_url: String,
    /// `ServerURLPinningCertificateUUIDs`: certificate payload UUIDs trusted for `ServerURL`.
    #[serde(rename = "ServerURLPinningCertificateUUIDs", default, skip_serializing_if = "Option::is_none")]
    pub server_url_pinning_certificate_uuids: Option<Vec<String>>,
    /// `CheckInURL`: the https URL of the check-in endpoint (default `ServerURL`).
    #[serde(rename = "CheckInURL", default, skip_serializing_if = "Option::is_none")]
    pub check_in_url: Option<String>,
    /// `CheckInURLPinningCertificateUUIDs`: certificate payload UUIDs trusted for `CheckInURL`.
    #[serde(rename = "CheckInURLPinningCertificateUUIDs", default, skip_serializing_if = "Option::is_none")]
    pub check_in_url_pinning_certificate_uuids: Option<Vec<String>>,
    /// `PinningRevocationCheckRequired` (default false): fail unless revocation checks succeed.
    #[serde(rename = "PinningRevocationCheckRequired", default, skip_serializing_if = "Option::is_none")]
    pub pinning_revocation_check_required: Option<bool>,
    /// `SignMessage` (default false): the device adds an `Mdm-Signature` header to its messages.
    #[serde(rename = "SignMessage", default, skip_serializing_if = "Option::is_none")]
    pub sign_message: Option<bool>,
    /// `AccessRights`: what the server may do.
    #[serde(rename = "AccessRights", default, skip_serializing_if = "Option::is_none")]
    pub access_rights: Option<AccessRights>,
    /// `UseDevelopmentAPNS` (default false): use the APNs sandbox.
    #[serde(rename = "UseDevelopmentAPNS", default, skip_serializing_if = "Option::is_none")]
    pub use_development_apns: Option<bool>,
    /// `ManagedAppleID`: removed in iOS 18 / macOS 15 (profile-driven User Enrollment).
    #[serde(rename = "ManagedAppleID", default, skip_serializing_if = "Option::is_none")]
    pub managed_apple_id: Option<String>,
    /// `AssignedManagedAppleID` (iOS 15+): the Managed Apple Account of account-driven
    /// enrollment.
    #[serde(rename = "AssignedManagedAppleID", default, skip_serializing_if = "Option::is_none")]
    pub assigned_managed_apple_id: Option<String>,
    /// `EnrollmentMode` (iOS 15+): `BYOD` or `ADDE`, for account-driven enrollment.
    #[serde(rename = "EnrollmentMode", default, skip_serializing_if = "Option::is_none")]
    pub enrollment_mode: Option<EnrollmentMode>,
    /// `ServerCapabilities`: what this server supports (a unique list).
    #[serde(rename = "ServerCapabilities", default, skip_serializing_if = "Option::is_none")]
    pub server_capabilities: Option<Vec<ServerCapability>>,
    /// `CheckOutWhenRemoved` (default false): send CheckOut to the check-in URL on removal.
    #[serde(rename = "CheckOutWhenRemoved", default, skip_serializing_if = "Option::is_none")]
    pub check_out_when_removed: Option<bool>,
    /// `RequiredAppIDForMDM` (iOS 15.1+): App Store ID of an app installable without approval
    /// during account-driven enrollment.
    #[serde(rename = "RequiredAppIDForMDM", default, skip_serializing_if = "Option::is_none")]
    pub required_app_id_for_mdm: Option<i64>,
    /// `PromptUserToAllowBootstrapTokenForAuthentication` (macOS 11+, default false).
    #[serde(rename = "PromptUserToAllowBootstrapTokenForAuthentication", default, skip_serializing_if = "Option::is_none")]
    pub prompt_user_to_allow_bootstrap_token_for_authentication: Option<bool>,
}

impl Mdm {
    /// An MDM payload with every access right, `SignMessage` false and `CheckOutWhenRemoved`
    /// true. `identity_uuid` is the `PayloadUUID` of the identity (SCEP or PKCS#12) payload.
    pub fn new(server_url: impl Into<String>, topic: impl Into<String>, identity_uuid: impl Into<String>) -> Mdm {
        Mdm {
            identity_certificate_uuid: identity_uuid.into(),
            topic: topic.into(),
            server_url: server_url.into(),
            server_url_pinning_certificate_uuids: None,
            check_in_url: None,
            check_in_url_pinning_certificate_uuids: None,
            pinning_revocation_check_required: None,
            sign_message: Some(false),
            access_rights: Some(AccessRights::ALL),
            use_development_apns: None,
            managed_apple_id: None,
            assigned_managed_apple_id: None,
            enrollment_mode: None,
            server_capabilities: None,
            check_out_when_removed: Some(true),
            required_app_id_for_mdm: None,
            prompt_user_to_allow_bootstrap_token_for_authentication: None,
        }
    }

    /// Sets `CheckInURL`.
    pub fn with_check_in_url(mut self, url: impl Into<String>) -> Mdm {
        self.check_in_url = Some(url.into());
        self
    }

    /// Sets `ServerCapabilities`.
    pub fn with_capabilities(mut self, caps: impl IntoIterator<Item = ServerCapability>) -> Mdm {
        self.server_capabilities = Some(caps.into_iter().collect());
        self
    }

    /// Sets `AccessRights`.
    pub fn with_access_rights(mut self, rights: AccessRights) -> Mdm {
        self.access_rights = Some(rights);
        self
    }
}

/// `EnrollmentMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EnrollmentMode {
    /// `BYOD`: account-driven User Enrollment.
    #[serde(rename = "BYOD")]
    Byod,
    /// `ADDE`: account-driven Device Enrollment.
    #[serde(rename = "ADDE")]
    Adde,
}

/// One `ServerCapabilities` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServerCapability {
    /// `com.apple.mdm.per-user-connections`: device and user channels (required for Shared iPad
    /// and macOS). Must not be added or removed when the profile is updated.
    #[serde(rename = "com.apple.mdm.per-user-connections")]
    PerUserConnections,
    /// `com.apple.mdm.bootstraptoken`: the server escrows the Bootstrap Token (macOS 11+).
    #[serde(rename = "com.apple.mdm.bootstraptoken")]
    BootstrapToken,
    /// `com.apple.mdm.token`: the server supports the `GetToken` check-in message.
    #[serde(rename = "com.apple.mdm.token")]
    Token,
}

/// `AccessRights`: the bit set of what the MDM server may do. Only values in `1..=8191` (some of
/// Apple's 13 documented bits, not none) exist; other integers are refused when read. Apple's
/// dependency rules between bits ([`AccessRights::RULES`]) are reported by `Mdm::check`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct AccessRights(u16);

/// Why an integer is not an `AccessRights` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessRightsError {
    /// Apple: "Don't set to '0'."
    #[error("AccessRights must not be 0 (Apple: \"Don't set to '0'.\")")]
    Zero,
    /// Bits Apple does not define (anything above 4096, or negative).
    #[error("AccessRights {0} has bits Apple does not define; the largest value is 8191 (all 13 rights)")]
    UnknownBits(i64),
}

/// One of Apple's dependency rules between access rights: if `when` is set, `requires` must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRule {
    /// A stable name for the rule, used in findings.
    pub name: &'static str,
    /// The right that needs another.
    pub when: AccessRights,
    /// The right it needs.
    pub requires: AccessRights,
    /// Apple's wording, from the `AccessRights` description in `com.apple.mdm.yaml`.
    pub apple: &'static str,
}

impl AccessRights {
    /// 1: inspect installed configuration profiles.
    pub const INSPECT_PROFILES: AccessRights = AccessRights(1);
    /// 2: install and remove configuration profiles.
    pub const INSTALL_REMOVE_PROFILES: AccessRights = AccessRights(2);
    /// 4: device lock and passcode removal.
    pub const DEVICE_LOCK_AND_PASSCODE_REMOVAL: AccessRights = AccessRights(4);
    /// 8: device erase.
    pub const DEVICE_ERASE: AccessRights = AccessRights(8);
    /// 16: query device information (capacity, serial number).
    pub const QUERY_DEVICE_INFO: AccessRights = AccessRights(16);
    /// 32: query network information (phone/SIM numbers, MAC addresses).
    pub const QUERY_NETWORK_INFO: AccessRights = AccessRights(32);
    /// 64: inspect installed provisioning profiles.
    pub const INSPECT_PROVISIONING_PROFILES: AccessRights = AccessRights(64);
    /// 128: install and remove provisioning profiles.
    pub const INSTALL_REMOVE_PROVISIONING_PROFILES: AccessRights = AccessRights(128);
    /// 256: inspect installed applications.
    pub const INSPECT_INSTALLED_APPS: AccessRights = AccessRights(256);
    /// 512: restriction-related queries.
    pub const RESTRICTION_QUERIES: AccessRights = AccessRights(512);
    /// 1024: security-related queries.
    pub const SECURITY_QUERIES: AccessRights = AccessRights(1024);
    /// 2048: manipulation of settings.
    pub const MANIPULATE_SETTINGS: AccessRights = AccessRights(2048);
    /// 4096: app management.
    pub const APP_MANAGEMENT: AccessRights = AccessRights(4096);
    /// 8191: every right.
    pub const ALL: AccessRights = AccessRights(8191);

    /// Each documented bit with a short description.
    pub const FLAGS: [(AccessRights, &'static str); 13] = [
        (AccessRights::INSPECT_PROFILES, "inspect configuration profiles"),
        (AccessRights::INSTALL_REMOVE_PROFILES, "install/remove configuration profiles"),
        (AccessRights::DEVICE_LOCK_AND_PASSCODE_REMOVAL, "device lock and passcode removal"),
        (AccessRights::DEVICE_ERASE, "device erase"),
        (AccessRights::QUERY_DEVICE_INFO, "query device information"),
        (AccessRights::QUERY_NETWORK_INFO, "query network information"),
        (AccessRights::INSPECT_PROVISIONING_PROFILES, "inspect provisioning profiles"),
        (AccessRights::INSTALL_REMOVE_PROVISIONING_PROFILES, "install/remove provisioning profiles"),
        (AccessRights::INSPECT_INSTALLED_APPS, "inspect installed applications"),
        (AccessRights::RESTRICTION_QUERIES, "restriction-related queries"),
        (AccessRights::SECURITY_QUERIES, "security-related queries"),
        (AccessRights::MANIPULATE_SETTINGS, "manipulate settings"),
        (AccessRights::APP_MANAGEMENT, "app management"),
    ];

    /// The dependency rules Apple states for `AccessRights`, exactly as its schema words them.
    /// (Apple's "Don't set to '0'" is enforced by the type itself.)
    pub const RULES: [AccessRule; 2] = [
        AccessRule {
            name: "install-profiles-requires-inspect-profiles",
            when: AccessRights::INSTALL_REMOVE_PROFILES,
            requires: AccessRights::INSPECT_PROFILES,
            apple: "Specify '1' if you specify '2'.",
        },
        AccessRule {
            name: "install-provisioning-profiles-requires-inspect-provisioning-profiles",
            when: AccessRights::INSTALL_REMOVE_PROVISIONING_PROFILES,
            requires: AccessRights::INSPECT_PROVISIONING_PROFILES,
            apple: "Specify '64' if you specify '128'.",
        },
    ];

    /// The rights for `bits`: refused when 0 or when bits above 4096 (or negative) are set.
    pub const fn from_bits(bits: i64) -> Result<AccessRights, AccessRightsError> {
        if bits == 0 {
            Err(AccessRightsError::Zero)
        } else if bits < 0 || bits > AccessRights::ALL.0 as i64 {
            Err(AccessRightsError::UnknownBits(bits))
        } else {
            Ok(AccessRights(bits as u16))
        }
    }

    /// The integer Apple reads.
    pub const fn bits(self) -> i64 {
        self.0 as i64
    }

    /// Whether every right in `other` is also in `self`.
    pub const fn contains(self, other: AccessRights) -> bool {
        self.0 & other.0 == other.0
    }

    /// The dependency rules these rights break (empty when fine).
    pub fn violations(self) -> impl Iterator<Item = &'static AccessRule> {
        AccessRights::RULES.iter().filter(move |r| self.contains(r.when) && !self.contains(r.requires))
    }

    /// The descriptions of the rights set, in bit order.
    pub fn names(self) -> Vec<&'static str> {
        AccessRights::FLAGS.iter().filter(|(f, _)| self.contains(*f)).map(|(_, n)| *n).collect()
    }
}

impl BitOr for AccessRights {
    type Output = AccessRights;
    fn bitor(self, rhs: AccessRights) -> AccessRights {
        AccessRights(self.0 | rhs.0)
    }
}

impl BitOrAssign for AccessRights {
    fn bitor_assign(&mut self, rhs: AccessRights) {
        self.0 |= rhs.0;
    }
}

impl TryFrom<i64> for AccessRights {
    type Error = AccessRightsError;
    fn try_from(v: i64) -> Result<AccessRights, AccessRightsError> {
        AccessRights::from_bits(v)
    }
}

impl From<AccessRights> for i64 {
    fn from(r: AccessRights) -> i64 {
        r.bits()
    }
}

impl fmt::Debug for AccessRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessRights({} = {})", self.0, self.names().join(" | "))
    }
}

impl fmt::Display for AccessRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The `Topic` prefix Apple requires.
pub const TOPIC_PREFIX: &str = "com.apple.mgmt.";

/// Apple's format for `IdentityCertificateUUID`: 8-4-4-4-12 letters and digits.
fn is_uuid_like(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl PayloadKind for Mdm {
    const TYPE: &'static str = "com.apple.mdm";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let at = |key: &str| key_path(path, key);
        if self.identity_certificate_uuid.trim().is_empty() {
            out.push(Issue::error(at("IdentityCertificateUUID"), "required: the PayloadUUID of the SCEP or PKCS#12 payload holding the device identity"));
        } else if !is_uuid_like(&self.identity_certificate_uuid) {
            out.push(Issue::error(
                at("IdentityCertificateUUID"),
                format!("{:?} is not a payload UUID (8-4-4-4-12 letters and digits)", self.identity_certificate_uuid),
            ));
        }
        match self.topic.strip_prefix(TOPIC_PREFIX) {
            Some(rest) if !rest.is_empty() => {}
            _ => out.push(Issue::error(at("Topic"), format!("{:?}: the topic must begin with {TOPIC_PREFIX:?} (the push certificate's UID)", self.topic))),
        }
        if let Err(e) = check_url(&self.server_url, &["https"]) {
            out.push(Issue::error(at("ServerURL"), e));
        }
        if let Some(u) = &self.check_in_url {
            if let Err(e) = check_url(u, &["https"]) {
                out.push(Issue::error(at("CheckInURL"), e));
            }
        }
        if let Some(rights) = self.access_rights {
            for rule in rights.violations() {
                let names = |r: AccessRights| r.names().join(", ");
                out.push(Issue::error(
                    at("AccessRights"),
                    format!(
                        "rule {}: {} ({}) requires {} ({}); Apple: \"{}\"",
                        rule.name,
                        rule.when.bits(),
                        names(rule.when),
                        rule.requires.bits(),
                        names(rule.requires),
                        rule.apple
                    ),
                ));
            }
            if self.managed_apple_id.is_some() {
                out.push(Issue::warning(at("AccessRights"), "ignored because ManagedAppleID is set"));
            }
        }
        if self.managed_apple_id.is_some() {
            out.push(Issue::warning(at("ManagedAppleID"), "removed in iOS 18 and macOS 15; use account-driven enrollment"));
        }
        if let Some(caps) = &self.server_capabilities {
            for (i, c) in caps.iter().enumerate() {
                if caps[..i].contains(c) {
                    out.push(Issue::error(index_path(&at("ServerCapabilities"), i), "listed twice; Apple requires a unique array"));
                }
            }
        }
        for (key, list) in [
            ("ServerURLPinningCertificateUUIDs", &self.server_url_pinning_certificate_uuids),
            ("CheckInURLPinningCertificateUUIDs", &self.check_in_url_pinning_certificate_uuids),
        ] {
            for (i, u) in list.iter().flatten().enumerate() {
                if u.trim().is_empty() {
                    out.push(Issue::error(index_path(&at(key), i), "an empty certificate payload UUID"));
                }
            }
        }
        if let Some(id) = self.required_app_id_for_mdm {
            if id <= 0 {
                out.push(Issue::error(at("RequiredAppIDForMDM"), format!("{id} is not an App Store ID")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        let all = AccessRights::FLAGS.iter().fold(AccessRights::INSPECT_PROFILES, |a, (f, _)| a | *f);
        assert_eq!(all, AccessRights::ALL);
        assert_eq!(AccessRights::ALL.bits(), 8191);
        assert_eq!(AccessRights::ALL.violations().count(), 0);
        assert_eq!(AccessRights::from_bits(0), Err(AccessRightsError::Zero));
        assert_eq!(AccessRights::from_bits(8192), Err(AccessRightsError::UnknownBits(8192)));
        assert_eq!(AccessRights::from_bits(-1), Err(AccessRightsError::UnknownBits(-1)));
        let r = AccessRights::from_bits(2 | 128).unwrap();
        let names: Vec<_> = r.violations().map(|r| r.name).collect();
        assert_eq!(names, ["install-profiles-requires-inspect-profiles", "install-provisioning-profiles-requires-inspect-provisioning-profiles"]);
        assert_eq!(
            format!("{:?}", AccessRights::from_bits(3).unwrap()),
            "AccessRights(3 = inspect configuration profiles | install/remove configuration profiles)"
        );
    }

    #[test]
    fn uuid_format() {
        assert!(is_uuid_like("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"));
        assert!(!is_uuid_like("0F1E2D3C-4B5A-6978-8796"));
        assert!(!is_uuid_like("0F1E2D3C_4B5A-6978-8796-A5B4C3D2E1F0"));
    }
}
