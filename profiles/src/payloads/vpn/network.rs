//! DNS, proxies, always-on tunnels, exceptions and the transparent proxy.

use super::*;

/// `DNS.DNSProtocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DnsProtocol {
    /// `Cleartext`.
    Cleartext,
    /// `HTTPS`: DNS over HTTPS (needs `ServerURL`).
    #[serde(rename = "HTTPS")]
    Https,
    /// `TLS`: DNS over TLS (needs `ServerName`).
    #[serde(rename = "TLS")]
    Tls,
}

/// `DNS`: resolver settings for the tunnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// `DNSProtocol`.
    #[serde(rename = "DNSProtocol")]
    pub dns_protocol: DnsProtocol,
    /// `ServerURL`: the DNS-over-HTTPS URI template (`https://`).
    #[serde(rename = "ServerURL", default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// `ServerName`: the DNS-over-TLS server name.
    #[serde(rename = "ServerName", default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// `ServerAddresses`: IPv4 and IPv6 addresses.
    #[serde(rename = "ServerAddresses")]
    pub server_addresses: Vec<String>,
    /// `SearchDomains`.
    #[serde(rename = "SearchDomains", default, skip_serializing_if = "Option::is_none")]
    pub search_domains: Option<Vec<String>>,
    /// `DomainName`.
    #[serde(rename = "DomainName", default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// `SupplementalMatchDomains`: split DNS.
    #[serde(rename = "SupplementalMatchDomains", default, skip_serializing_if = "Option::is_none")]
    pub supplemental_match_domains: Option<Vec<String>>,
    /// `SupplementalMatchDomainsNoSearch`.
    #[serde(rename = "SupplementalMatchDomainsNoSearch", default, skip_serializing_if = "Option::is_none")]
    pub supplemental_match_domains_no_search: Option<IntBool>,
    /// `PayloadCertificateUUID`: identity for authenticating to the resolver.
    #[serde(rename = "PayloadCertificateUUID", default, skip_serializing_if = "Option::is_none")]
    pub payload_certificate_uuid: Option<String>,
}

impl Dns {
    /// Cleartext DNS through the given servers.
    pub fn cleartext(server_addresses: Vec<String>) -> Dns {
        Dns {
            dns_protocol: DnsProtocol::Cleartext,
            server_url: None,
            server_name: None,
            server_addresses,
            search_domains: None,
            domain_name: None,
            supplemental_match_domains: None,
            supplemental_match_domains_no_search: None,
            payload_certificate_uuid: None,
        }
    }

    pub(super) fn check(&self, path: &str, out: &mut Vec<Issue>) {
        match self.dns_protocol {
            DnsProtocol::Https => match self.server_url.as_deref() {
                None => out.push(Issue::error(key_path(path, "ServerURL"), "DNSProtocol HTTPS requires ServerURL")),
                Some(u) if !u.to_ascii_lowercase().starts_with("https://") => {
                    out.push(Issue::error(key_path(path, "ServerURL"), "the DNS-over-HTTPS URL must use the https:// scheme"))
                }
                Some(_) => {}
            },
            DnsProtocol::Tls if self.server_name.is_none() => out.push(Issue::error(key_path(path, "ServerName"), "DNSProtocol TLS requires ServerName")),
            _ => {}
        }
    }
}

/// `Proxies`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proxies {
    /// `ProxyAutoConfigEnable`.
    #[serde(rename = "ProxyAutoConfigEnable", default, skip_serializing_if = "Option::is_none")]
    pub proxy_auto_config_enable: Option<IntBool>,
    /// `ProxyAutoDiscoveryEnable`.
    #[serde(rename = "ProxyAutoDiscoveryEnable", default, skip_serializing_if = "Option::is_none")]
    pub proxy_auto_discovery_enable: Option<IntBool>,
    /// `ProxyAutoConfigURLString`: the PAC file URL.
    #[serde(rename = "ProxyAutoConfigURLString", default, skip_serializing_if = "Option::is_none")]
    pub proxy_auto_config_url_string: Option<String>,
    /// `SupplementalMatchDomains`.
    #[serde(rename = "SupplementalMatchDomains", default, skip_serializing_if = "Option::is_none")]
    pub supplemental_match_domains: Option<Vec<String>>,
    /// `HTTPEnable`.
    #[serde(rename = "HTTPEnable", default, skip_serializing_if = "Option::is_none")]
    pub http_enable: Option<IntBool>,
    /// `HTTPProxy`: host name.
    #[serde(rename = "HTTPProxy", default, skip_serializing_if = "Option::is_none")]
    pub http_proxy: Option<String>,
    /// `HTTPPort`.
    #[serde(rename = "HTTPPort", default, skip_serializing_if = "Option::is_none")]
    pub http_port: Option<u16>,
    /// `HTTPProxyUsername`.
    #[serde(rename = "HTTPProxyUsername", default, skip_serializing_if = "Option::is_none")]
    pub http_proxy_username: Option<String>,
    /// `HTTPProxyPassword`.
    #[serde(rename = "HTTPProxyPassword", default, skip_serializing_if = "Option::is_none")]
    pub http_proxy_password: Option<String>,
    /// `HTTPSEnable`.
    #[serde(rename = "HTTPSEnable", default, skip_serializing_if = "Option::is_none")]
    pub https_enable: Option<IntBool>,
    /// `HTTPSProxy`: host name.
    #[serde(rename = "HTTPSProxy", default, skip_serializing_if = "Option::is_none")]
    pub https_proxy: Option<String>,
    /// `HTTPSPort`.
    #[serde(rename = "HTTPSPort", default, skip_serializing_if = "Option::is_none")]
    pub https_port: Option<u16>,
}

impl Proxies {
    pub(super) fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.http_proxy.is_some() && self.http_port.is_none() {
            out.push(Issue::error(key_path(path, "HTTPPort"), "HTTPProxy is set, which requires HTTPPort"));
        }
        if self.https_proxy.is_some() && self.https_port.is_none() {
            out.push(Issue::error(key_path(path, "HTTPSPort"), "HTTPSProxy is set, which requires HTTPSPort"));
        }
    }
}

/// `AlwaysOn.TunnelConfigurations[].ProtocolType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TunnelProtocol {
    /// `IKEv2`.
    #[serde(rename = "IKEv2")]
    IkeV2,
}

/// `AlwaysOn.TunnelConfigurations[].Interfaces[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TunnelInterface {
    /// `Cellular`.
    Cellular,
    /// `WiFi`.
    WiFi,
}

/// An `AlwaysOn.TunnelConfigurations` entry, with the keys the vendored schema lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelConfiguration {
    /// `ProtocolType`.
    #[serde(rename = "ProtocolType")]
    pub protocol_type: TunnelProtocol,
    /// `Interfaces`.
    #[serde(rename = "Interfaces", default, skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<Vec<TunnelInterface>>,
}

/// `AlwaysOn.ServiceExceptions[].ServiceName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExemptService {
    /// `VoiceMail`.
    VoiceMail,
    /// `AirPrint`.
    AirPrint,
    /// `CellularServices`.
    CellularServices,
    /// `DeviceCommunication`.
    DeviceCommunication,
}

/// `AlwaysOn.ServiceExceptions[].Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServiceExceptionAction {
    /// `Allow`.
    Allow,
    /// `Drop`.
    Drop,
}

/// An `AlwaysOn.ServiceExceptions` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceException {
    /// `ServiceName`.
    #[serde(rename = "ServiceName")]
    pub service_name: ExemptService,
    /// `Action`.
    #[serde(rename = "Action")]
    pub action: ServiceExceptionAction,
}

/// `AlwaysOn.ApplicationExceptions[].LimitToProtocols[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LimitToProtocol {
    /// `UDP`.
    #[serde(rename = "UDP")]
    Udp,
}

/// An `AlwaysOn.ApplicationExceptions` entry: an app whose traffic leaves outside the VPN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationException {
    /// `BundleIdentifier`.
    #[serde(rename = "BundleIdentifier")]
    pub bundle_identifier: String,
    /// `LimitToProtocols`.
    #[serde(rename = "LimitToProtocols", default, skip_serializing_if = "Option::is_none")]
    pub limit_to_protocols: Option<Vec<LimitToProtocol>>,
}

/// An `AlwaysOn.AllowedCaptiveNetworkPlugins` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptiveNetworkPlugin {
    /// `BundleIdentifier`.
    #[serde(rename = "BundleIdentifier")]
    pub bundle_identifier: String,
}

/// `AlwaysOn`: settings for `VPNType` `AlwaysOn` (supervised iOS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlwaysOn {
    /// `UIToggleEnabled`.
    #[serde(rename = "UIToggleEnabled", default, skip_serializing_if = "Option::is_none")]
    pub ui_toggle_enabled: Option<IntBool>,
    /// `TunnelConfigurations`.
    #[serde(rename = "TunnelConfigurations")]
    pub tunnel_configurations: Vec<TunnelConfiguration>,
    /// `ServiceExceptions`.
    #[serde(rename = "ServiceExceptions", default, skip_serializing_if = "Option::is_none")]
    pub service_exceptions: Option<Vec<ServiceException>>,
    /// `ApplicationExceptions`.
    #[serde(rename = "ApplicationExceptions", default, skip_serializing_if = "Option::is_none")]
    pub application_exceptions: Option<Vec<ApplicationException>>,
    /// `AllowCaptiveWebSheet`.
    #[serde(rename = "AllowCaptiveWebSheet", default, skip_serializing_if = "Option::is_none")]
    pub allow_captive_web_sheet: Option<IntBool>,
    /// `AllowAllCaptiveNetworkPlugins`.
    #[serde(rename = "AllowAllCaptiveNetworkPlugins", default, skip_serializing_if = "Option::is_none")]
    pub allow_all_captive_network_plugins: Option<IntBool>,
    /// `AllowedCaptiveNetworkPlugins`.
    #[serde(rename = "AllowedCaptiveNetworkPlugins", default, skip_serializing_if = "Option::is_none")]
    pub allowed_captive_network_plugins: Option<Vec<CaptiveNetworkPlugin>>,
}

/// `TransparentProxy`: settings for `VPNType` `TransparentProxy` (macOS 14+).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransparentProxy {
    /// `AuthenticationMethod`.
    #[serde(rename = "AuthenticationMethod", default, skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<ProviderAuthMethod>,
    /// `DisconnectOnIdle`.
    #[serde(rename = "DisconnectOnIdle", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle: Option<IntBool>,
    /// `DisconnectOnIdleTimer` in seconds.
    #[serde(rename = "DisconnectOnIdleTimer", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle_timer: Option<i64>,
    /// `EnforceRoutes`.
    #[serde(rename = "EnforceRoutes", default, skip_serializing_if = "Option::is_none")]
    pub enforce_routes: Option<IntBool>,
    /// `OnDemandEnabled`.
    #[serde(rename = "OnDemandEnabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_enabled: Option<IntBool>,
    /// `OnDemandRules`.
    #[serde(rename = "OnDemandRules", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_rules: Option<Vec<OnDemandRule>>,
    /// `PayloadCertificateUUID`.
    #[serde(rename = "PayloadCertificateUUID", default, skip_serializing_if = "Option::is_none")]
    pub payload_certificate_uuid: Option<String>,
    /// `Password`.
    #[serde(rename = "Password", default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `ProviderBundleIdentifier`.
    #[serde(rename = "ProviderBundleIdentifier", default, skip_serializing_if = "Option::is_none")]
    pub provider_bundle_identifier: Option<String>,
    /// `ProviderDesignatedRequirement`.
    #[serde(rename = "ProviderDesignatedRequirement", default, skip_serializing_if = "Option::is_none")]
    pub provider_designated_requirement: Option<String>,
    /// `ProviderType`.
    #[serde(rename = "ProviderType", default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<ProviderType>,
    /// `Order`: a positive integer.
    #[serde(rename = "Order", default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
}

impl TransparentProxy {
    pub(super) fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if matches!(self.authentication_method, Some(ProviderAuthMethod::Certificate | ProviderAuthMethod::PasswordAndCertificate))
            && self.payload_certificate_uuid.is_none()
        {
            out.push(Issue::error(
                key_path(path, "PayloadCertificateUUID"),
                "AuthenticationMethod uses a certificate: name the identity payload in PayloadCertificateUUID",
            ));
        }
        if let Some(o) = self.order {
            if o <= 0 {
                out.push(Issue::error(key_path(path, "Order"), "Order is a positive integer"));
            }
        }
        check_on_demand_rules(self.on_demand_rules.as_deref(), path, out);
    }
}
