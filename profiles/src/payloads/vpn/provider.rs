//! VPN provider settings (`VendorConfig` aside): the app or plugin that implements the tunnel.

use super::*;

/// `AuthenticationMethod` of the `VPN` and `TransparentProxy` dictionaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderAuthMethod {
    /// `Password`.
    Password,
    /// `Certificate` (identity from `PayloadCertificateUUID`).
    Certificate,
    /// `Password+Certificate`.
    #[serde(rename = "Password+Certificate")]
    PasswordAndCertificate,
}

/// `ProviderType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderType {
    /// `packet-tunnel`: tunnels at the IP layer.
    #[serde(rename = "packet-tunnel")]
    PacketTunnel,
    /// `app-proxy`: tunnels at the app (flow) layer.
    #[serde(rename = "app-proxy")]
    AppProxy,
}

/// The `VPN` dictionary, used when `VPNType` is `VPN` (a network-extension provider).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnProvider {
    /// `RemoteAddress`: the server's address or host name. In Apple's current schema; absent
    /// from the vendored schema release, whose validator may flag it.
    #[serde(rename = "RemoteAddress", default, skip_serializing_if = "Option::is_none")]
    pub remote_address: Option<String>,
    /// `AuthName`: the account user name. In Apple's current schema; absent from the vendored
    /// schema release.
    #[serde(rename = "AuthName", default, skip_serializing_if = "Option::is_none")]
    pub auth_name: Option<String>,
    /// `AuthPassword`: the account password. In Apple's current schema; absent from the vendored
    /// schema release.
    #[serde(rename = "AuthPassword", default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<String>,
    /// `AuthenticationMethod` (default `Password`).
    #[serde(rename = "AuthenticationMethod", default, skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<ProviderAuthMethod>,
    /// `PayloadCertificateUUID`: the identity payload for certificate authentication.
    #[serde(rename = "PayloadCertificateUUID", default, skip_serializing_if = "Option::is_none")]
    pub payload_certificate_uuid: Option<String>,
    /// `Password`: the account password.
    #[serde(rename = "Password", default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `ProviderBundleIdentifier`: the provider extension's bundle identifier.
    #[serde(rename = "ProviderBundleIdentifier", default, skip_serializing_if = "Option::is_none")]
    pub provider_bundle_identifier: Option<String>,
    /// `ProviderDesignatedRequirement` (macOS system extensions).
    #[serde(rename = "ProviderDesignatedRequirement", default, skip_serializing_if = "Option::is_none")]
    pub provider_designated_requirement: Option<String>,
    /// `DisconnectOnIdle`.
    #[serde(rename = "DisconnectOnIdle", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle: Option<IntBool>,
    /// `DisconnectOnIdleTimer` in seconds.
    #[serde(rename = "DisconnectOnIdleTimer", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle_timer: Option<i64>,
    /// `ProviderType` (default `packet-tunnel`).
    #[serde(rename = "ProviderType", default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<ProviderType>,
    /// `IncludeAllNetworks`: route all traffic through the VPN.
    #[serde(rename = "IncludeAllNetworks", default, skip_serializing_if = "Option::is_none")]
    pub include_all_networks: Option<IntBool>,
    /// `EnforceRoutes`.
    #[serde(rename = "EnforceRoutes", default, skip_serializing_if = "Option::is_none")]
    pub enforce_routes: Option<IntBool>,
    /// `ExcludeLocalNetworks`.
    #[serde(rename = "ExcludeLocalNetworks", default, skip_serializing_if = "Option::is_none")]
    pub exclude_local_networks: Option<IntBool>,
    /// `ExcludeCellularServices`.
    #[serde(rename = "ExcludeCellularServices", default, skip_serializing_if = "Option::is_none")]
    pub exclude_cellular_services: Option<IntBool>,
    /// `ExcludeAPNs`.
    #[serde(rename = "ExcludeAPNs", default, skip_serializing_if = "Option::is_none")]
    pub exclude_apns: Option<IntBool>,
    /// `ExcludeDeviceCommunication`.
    #[serde(rename = "ExcludeDeviceCommunication", default, skip_serializing_if = "Option::is_none")]
    pub exclude_device_communication: Option<IntBool>,
    /// `OnDemandEnabled`.
    #[serde(rename = "OnDemandEnabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_enabled: Option<IntBool>,
    /// `OnDemandUserOverrideDisabled`.
    #[serde(rename = "OnDemandUserOverrideDisabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_user_override_disabled: Option<IntBool>,
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

impl VpnProvider {
    pub(super) fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if matches!(self.authentication_method, Some(ProviderAuthMethod::Certificate | ProviderAuthMethod::PasswordAndCertificate))
            && self.payload_certificate_uuid.is_none()
        {
            out.push(Issue::error(
                key_path(path, "PayloadCertificateUUID"),
                "AuthenticationMethod uses a certificate: name the identity payload in PayloadCertificateUUID",
            ));
        }
        check_on_demand_rules(self.on_demand_rules.as_deref(), path, out);
    }
}
