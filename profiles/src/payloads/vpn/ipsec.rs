//! IPv4, PPP (L2TP) and IPSec (Cisco) settings.

use super::*;

/// `IPv4`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipv4 {
    /// `OverridePrimary`: send all traffic over the VPN (Cisco IPSec and L2TP).
    #[serde(rename = "OverridePrimary", default, skip_serializing_if = "Option::is_none")]
    pub override_primary: Option<IntBool>,
}

/// A `PPP.AuthEAPPlugins` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EapPlugin {
    /// `EAP-RSA` (RSA SecurID).
    #[serde(rename = "EAP-RSA")]
    Rsa,
    /// `EAP-TLS`.
    #[serde(rename = "EAP-TLS")]
    Tls,
    /// `EAP-KRB`.
    #[serde(rename = "EAP-KRB")]
    Kerberos,
}

/// A `PPP.AuthProtocol` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PppAuthProtocol {
    /// `EAP`.
    #[serde(rename = "EAP")]
    Eap,
}

/// `PPP`: settings for L2TP.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ppp {
    /// `AuthName`.
    #[serde(rename = "AuthName", default, skip_serializing_if = "Option::is_none")]
    pub auth_name: Option<String>,
    /// `AuthPassword`.
    #[serde(rename = "AuthPassword", default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<String>,
    /// `TokenCard`.
    #[serde(rename = "TokenCard", default, skip_serializing_if = "Option::is_none")]
    pub token_card: Option<IntBool>,
    /// `CommRemoteAddress`: the server.
    #[serde(rename = "CommRemoteAddress", default, skip_serializing_if = "Option::is_none")]
    pub comm_remote_address: Option<String>,
    /// `AuthEAPPlugins`.
    #[serde(rename = "AuthEAPPlugins", default, skip_serializing_if = "Option::is_none")]
    pub auth_eap_plugins: Option<Vec<EapPlugin>>,
    /// `AuthProtocol`.
    #[serde(rename = "AuthProtocol", default, skip_serializing_if = "Option::is_none")]
    pub auth_protocol: Option<Vec<PppAuthProtocol>>,
    /// `CCPMPPE40Enabled`.
    #[serde(rename = "CCPMPPE40Enabled", default, skip_serializing_if = "Option::is_none")]
    pub ccp_mppe40_enabled: Option<IntBool>,
    /// `CCPMPPE128Enabled`.
    #[serde(rename = "CCPMPPE128Enabled", default, skip_serializing_if = "Option::is_none")]
    pub ccp_mppe128_enabled: Option<IntBool>,
    /// `CCPEnabled`.
    #[serde(rename = "CCPEnabled", default, skip_serializing_if = "Option::is_none")]
    pub ccp_enabled: Option<IntBool>,
    /// `DisconnectOnIdle`.
    #[serde(rename = "DisconnectOnIdle", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle: Option<IntBool>,
    /// `DisconnectOnIdleTimer` in seconds.
    #[serde(rename = "DisconnectOnIdleTimer", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle_timer: Option<i64>,
}

/// `IPSec.AuthenticationMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpSecAuthMethod {
    /// `SharedSecret`.
    SharedSecret,
    /// `Certificate`.
    Certificate,
}

/// `IPSec.XAuthPasswordEncryption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum XAuthPasswordEncryption {
    /// `Prompt`.
    Prompt,
}

/// `IPSec.LocalIdentifierType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LocalIdentifierType {
    /// `KeyID`.
    #[serde(rename = "KeyID")]
    KeyId,
}

/// `IPSec`: settings for Cisco IPSec and L2TP.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpSec {
    /// `RemoteAddress`.
    #[serde(rename = "RemoteAddress", default, skip_serializing_if = "Option::is_none")]
    pub remote_address: Option<String>,
    /// `AuthenticationMethod` (default `SharedSecret`).
    #[serde(rename = "AuthenticationMethod", default, skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<IpSecAuthMethod>,
    /// `XAuthName`.
    #[serde(rename = "XAuthName", default, skip_serializing_if = "Option::is_none")]
    pub xauth_name: Option<String>,
    /// `XAuthPassword`.
    #[serde(rename = "XAuthPassword", default, skip_serializing_if = "Option::is_none")]
    pub xauth_password: Option<String>,
    /// `XAuthEnabled`.
    #[serde(rename = "XAuthEnabled", default, skip_serializing_if = "Option::is_none")]
    pub xauth_enabled: Option<IntBool>,
    /// `XAuthPasswordEncryption`.
    #[serde(rename = "XAuthPasswordEncryption", default, skip_serializing_if = "Option::is_none")]
    pub xauth_password_encryption: Option<XAuthPasswordEncryption>,
    /// `LocalIdentifier`: the group name.
    #[serde(rename = "LocalIdentifier", default, skip_serializing_if = "Option::is_none")]
    pub local_identifier: Option<String>,
    /// `LocalIdentifierType`.
    #[serde(rename = "LocalIdentifierType", default, skip_serializing_if = "Option::is_none")]
    pub local_identifier_type: Option<LocalIdentifierType>,
    /// `SharedSecret` (`<data>`).
    #[serde(rename = "SharedSecret", default, skip_serializing_if = "Option::is_none")]
    pub shared_secret: Option<Data>,
    /// `PayloadCertificateUUID`.
    #[serde(rename = "PayloadCertificateUUID", default, skip_serializing_if = "Option::is_none")]
    pub payload_certificate_uuid: Option<String>,
    /// `PromptForVPNPIN`.
    #[serde(rename = "PromptForVPNPIN", default, skip_serializing_if = "Option::is_none")]
    pub prompt_for_vpn_pin: Option<bool>,
    /// `DisconnectOnIdle`.
    #[serde(rename = "DisconnectOnIdle", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle: Option<IntBool>,
    /// `DisconnectOnIdleTimer` in seconds.
    #[serde(rename = "DisconnectOnIdleTimer", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle_timer: Option<i64>,
    /// `OnDemandEnabled`.
    #[serde(rename = "OnDemandEnabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_enabled: Option<IntBool>,
    /// `OnDemandMatchDomainsAlways` (deprecated).
    #[serde(rename = "OnDemandMatchDomainsAlways", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_match_domains_always: Option<Vec<String>>,
    /// `OnDemandMatchDomainsNever` (deprecated).
    #[serde(rename = "OnDemandMatchDomainsNever", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_match_domains_never: Option<Vec<String>>,
    /// `OnDemandMatchDomainsOnRetry` (deprecated).
    #[serde(rename = "OnDemandMatchDomainsOnRetry", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_match_domains_on_retry: Option<Vec<String>>,
    /// `OnDemandRules`.
    #[serde(rename = "OnDemandRules", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_rules: Option<Vec<OnDemandRule>>,
}

impl IpSec {
    pub(super) fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.authentication_method == Some(IpSecAuthMethod::Certificate) && self.payload_certificate_uuid.is_none() {
            out.push(Issue::error(
                key_path(path, "PayloadCertificateUUID"),
                "AuthenticationMethod is Certificate: name the identity payload in PayloadCertificateUUID",
            ));
        }
        check_on_demand_rules(self.on_demand_rules.as_deref(), path, out);
    }
}
