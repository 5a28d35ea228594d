//! IKEv2 settings and their algorithms.

use super::*;

/// `IKEv2.AuthenticationMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IkeAuthMethod {
    /// `None`: with `ExtendedAuthEnabled` 1, EAP-only authentication.
    None,
    /// `SharedSecret`.
    SharedSecret,
    /// `Certificate` (identity from `PayloadCertificateUUID`).
    Certificate,
}

/// `IKEv2.CertificateType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IkeCertificateType {
    /// `RSA`.
    #[serde(rename = "RSA")]
    Rsa,
    /// `ECDSA256`.
    #[serde(rename = "ECDSA256")]
    Ecdsa256,
    /// `ECDSA384`.
    #[serde(rename = "ECDSA384")]
    Ecdsa384,
    /// `ECDSA521`.
    #[serde(rename = "ECDSA521")]
    Ecdsa521,
    /// `RSA-PSS`.
    #[serde(rename = "RSA-PSS")]
    RsaPss,
}

/// `IKEv2.DeadPeerDetectionRate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeadPeerDetectionRate {
    /// `None`: no keepalive.
    None,
    /// `Low`: every 30 minutes.
    Low,
    /// `Medium`: every 10 minutes.
    Medium,
    /// `High`: every minute.
    High,
}

/// `IKEv2.TLSMinimumVersion` / `TLSMaximumVersion` (EAP-TLS inside IKEv2): 1.0 to 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IkeTlsVersion {
    /// `1.0`.
    #[serde(rename = "1.0")]
    V1_0,
    /// `1.1`.
    #[serde(rename = "1.1")]
    V1_1,
    /// `1.2`.
    #[serde(rename = "1.2")]
    V1_2,
}

/// Security association `EncryptionAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EncryptionAlgorithm {
    /// `DES`.
    #[serde(rename = "DES")]
    Des,
    /// `3DES`.
    #[serde(rename = "3DES")]
    TripleDes,
    /// `AES-128`.
    #[serde(rename = "AES-128")]
    Aes128,
    /// `AES-256` (default).
    #[serde(rename = "AES-256")]
    Aes256,
    /// `AES-128-GCM`.
    #[serde(rename = "AES-128-GCM")]
    Aes128Gcm,
    /// `AES-256-GCM`.
    #[serde(rename = "AES-256-GCM")]
    Aes256Gcm,
    /// `ChaCha20Poly1305`.
    #[serde(rename = "ChaCha20Poly1305")]
    ChaCha20Poly1305,
}

/// Security association `IntegrityAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntegrityAlgorithm {
    /// `SHA1-96`.
    #[serde(rename = "SHA1-96")]
    Sha1_96,
    /// `SHA1-160`.
    #[serde(rename = "SHA1-160")]
    Sha1_160,
    /// `SHA2-256` (default).
    #[serde(rename = "SHA2-256")]
    Sha2_256,
    /// `SHA2-384`.
    #[serde(rename = "SHA2-384")]
    Sha2_384,
    /// `SHA2-512`.
    #[serde(rename = "SHA2-512")]
    Sha2_512,
}

int_enum! {
    /// Security association `DiffieHellmanGroup`: one of Apple's listed groups.
    pub enum DiffieHellmanGroup {
        /// 1.
        G1 = 1,
        /// 2.
        G2 = 2,
        /// 5.
        G5 = 5,
        /// 14 (default; the minimum for Always On VPN).
        G14 = 14,
        /// 15.
        G15 = 15,
        /// 16.
        G16 = 16,
        /// 17.
        G17 = 17,
        /// 18.
        G18 = 18,
        /// 19.
        G19 = 19,
        /// 20.
        G20 = 20,
        /// 21.
        G21 = 21,
        /// 31.
        G31 = 31,
        /// 32.
        G32 = 32,
    }
}

/// `IKESecurityAssociationParameters` / `ChildSecurityAssociationParameters`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityAssociationParameters {
    /// `EncryptionAlgorithm`.
    #[serde(rename = "EncryptionAlgorithm", default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// `IntegrityAlgorithm`.
    #[serde(rename = "IntegrityAlgorithm", default, skip_serializing_if = "Option::is_none")]
    pub integrity_algorithm: Option<IntegrityAlgorithm>,
    /// `DiffieHellmanGroup`.
    #[serde(rename = "DiffieHellmanGroup", default, skip_serializing_if = "Option::is_none")]
    pub diffie_hellman_group: Option<DiffieHellmanGroup>,
    /// `LifeTimeInMinutes`: 10 to 1440.
    #[serde(rename = "LifeTimeInMinutes", default, skip_serializing_if = "Option::is_none")]
    pub lifetime_in_minutes: Option<LifetimeMinutes>,
}

/// `IKEv2`: settings for IKEv2 (and the tunnels of Always On VPN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IkeV2 {
    /// `RemoteAddress`: the server's address or host name.
    #[serde(rename = "RemoteAddress")]
    pub remote_address: String,
    /// `LocalIdentifier`.
    #[serde(rename = "LocalIdentifier")]
    pub local_identifier: String,
    /// `RemoteIdentifier`.
    #[serde(rename = "RemoteIdentifier")]
    pub remote_identifier: String,
    /// `AuthenticationMethod`.
    #[serde(rename = "AuthenticationMethod")]
    pub authentication_method: IkeAuthMethod,
    /// `CertificateType` (default `RSA`); needs `ServerCertificateIssuerCommonName`.
    #[serde(rename = "CertificateType", default, skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<IkeCertificateType>,
    /// `PayloadCertificateUUID`: the identity payload (machine authentication or EAP-TLS).
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
    /// `SharedSecret` (a string here, unlike IPSec's `<data>`).
    #[serde(rename = "SharedSecret", default, skip_serializing_if = "Option::is_none")]
    pub shared_secret: Option<String>,
    /// `ExtendedAuthEnabled`: EAP authentication.
    #[serde(rename = "ExtendedAuthEnabled", default, skip_serializing_if = "Option::is_none")]
    pub extended_auth_enabled: Option<IntBool>,
    /// `AuthName`.
    #[serde(rename = "AuthName", default, skip_serializing_if = "Option::is_none")]
    pub auth_name: Option<String>,
    /// `AuthPassword`.
    #[serde(rename = "AuthPassword", default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<String>,
    /// `OnDemandEnabled`.
    #[serde(rename = "OnDemandEnabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_enabled: Option<IntBool>,
    /// `OnDemandUserOverrideDisabled`.
    #[serde(rename = "OnDemandUserOverrideDisabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_user_override_disabled: Option<IntBool>,
    /// `OnDemandRules`.
    #[serde(rename = "OnDemandRules", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_rules: Option<Vec<OnDemandRule>>,
    /// `DeadPeerDetectionRate` (default `Medium`).
    #[serde(rename = "DeadPeerDetectionRate", default, skip_serializing_if = "Option::is_none")]
    pub dead_peer_detection_rate: Option<DeadPeerDetectionRate>,
    /// `ServerCertificateIssuerCommonName`.
    #[serde(rename = "ServerCertificateIssuerCommonName", default, skip_serializing_if = "Option::is_none")]
    pub server_certificate_issuer_common_name: Option<String>,
    /// `ServerCertificateCommonName`.
    #[serde(rename = "ServerCertificateCommonName", default, skip_serializing_if = "Option::is_none")]
    pub server_certificate_common_name: Option<String>,
    /// `TLSMinimumVersion`.
    #[serde(rename = "TLSMinimumVersion", default, skip_serializing_if = "Option::is_none")]
    pub tls_minimum_version: Option<IkeTlsVersion>,
    /// `TLSMaximumVersion`.
    #[serde(rename = "TLSMaximumVersion", default, skip_serializing_if = "Option::is_none")]
    pub tls_maximum_version: Option<IkeTlsVersion>,
    /// `UseConfigurationAttributeInternalIPSubnet`.
    #[serde(rename = "UseConfigurationAttributeInternalIPSubnet", default, skip_serializing_if = "Option::is_none")]
    pub use_configuration_attribute_internal_ip_subnet: Option<IntBool>,
    /// `DisableMOBIKE`.
    #[serde(rename = "DisableMOBIKE", default, skip_serializing_if = "Option::is_none")]
    pub disable_mobike: Option<IntBool>,
    /// `DisableRedirect`.
    #[serde(rename = "DisableRedirect", default, skip_serializing_if = "Option::is_none")]
    pub disable_redirect: Option<IntBool>,
    /// `DisconnectOnIdle`.
    #[serde(rename = "DisconnectOnIdle", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle: Option<IntBool>,
    /// `DisconnectOnIdleTimer` in seconds.
    #[serde(rename = "DisconnectOnIdleTimer", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_idle_timer: Option<i64>,
    /// `NATKeepAliveOffloadEnable`.
    #[serde(rename = "NATKeepAliveOffloadEnable", default, skip_serializing_if = "Option::is_none")]
    pub nat_keep_alive_offload_enable: Option<IntBool>,
    /// `NATKeepAliveInterval` in seconds.
    #[serde(rename = "NATKeepAliveInterval", default, skip_serializing_if = "Option::is_none")]
    pub nat_keep_alive_interval: Option<i64>,
    /// `EnablePFS`.
    #[serde(rename = "EnablePFS", default, skip_serializing_if = "Option::is_none")]
    pub enable_pfs: Option<IntBool>,
    /// `EnableCertificateRevocationCheck`.
    #[serde(rename = "EnableCertificateRevocationCheck", default, skip_serializing_if = "Option::is_none")]
    pub enable_certificate_revocation_check: Option<IntBool>,
    /// `EnableFallback`.
    #[serde(rename = "EnableFallback", default, skip_serializing_if = "Option::is_none")]
    pub enable_fallback: Option<IntBool>,
    /// `MTU`: 1280 to 1400.
    #[serde(rename = "MTU", default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Mtu>,
    /// `ProviderType`.
    #[serde(rename = "ProviderType", default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<ProviderType>,
    /// `IncludeAllNetworks`.
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
    /// `PPK`: post-quantum pre-shared key (RFC 8784); needs `PPKIdentifier`.
    #[serde(rename = "PPK", default, skip_serializing_if = "Option::is_none")]
    pub ppk: Option<Data>,
    /// `PPKIdentifier`; needs `PPK`.
    #[serde(rename = "PPKIdentifier", default, skip_serializing_if = "Option::is_none")]
    pub ppk_identifier: Option<String>,
    /// `PPKMandatory`.
    #[serde(rename = "PPKMandatory", default, skip_serializing_if = "Option::is_none")]
    pub ppk_mandatory: Option<IntBool>,
    /// `IKESecurityAssociationParameters`.
    #[serde(rename = "IKESecurityAssociationParameters", default, skip_serializing_if = "Option::is_none")]
    pub ike_security_association_parameters: Option<SecurityAssociationParameters>,
    /// `ChildSecurityAssociationParameters`.
    #[serde(rename = "ChildSecurityAssociationParameters", default, skip_serializing_if = "Option::is_none")]
    pub child_security_association_parameters: Option<SecurityAssociationParameters>,
}

impl IkeV2 {
    /// IKEv2 settings with the four required keys and nothing else.
    pub fn new(
        remote_address: impl Into<String>,
        local_identifier: impl Into<String>,
        remote_identifier: impl Into<String>,
        authentication_method: IkeAuthMethod,
    ) -> IkeV2 {
        IkeV2 {
            remote_address: remote_address.into(),
            local_identifier: local_identifier.into(),
            remote_identifier: remote_identifier.into(),
            authentication_method,
            certificate_type: None,
            payload_certificate_uuid: None,
            password: None,
            provider_bundle_identifier: None,
            provider_designated_requirement: None,
            shared_secret: None,
            extended_auth_enabled: None,
            auth_name: None,
            auth_password: None,
            on_demand_enabled: None,
            on_demand_user_override_disabled: None,
            on_demand_rules: None,
            dead_peer_detection_rate: None,
            server_certificate_issuer_common_name: None,
            server_certificate_common_name: None,
            tls_minimum_version: None,
            tls_maximum_version: None,
            use_configuration_attribute_internal_ip_subnet: None,
            disable_mobike: None,
            disable_redirect: None,
            disconnect_on_idle: None,
            disconnect_on_idle_timer: None,
            nat_keep_alive_offload_enable: None,
            nat_keep_alive_interval: None,
            enable_pfs: None,
            enable_certificate_revocation_check: None,
            enable_fallback: None,
            mtu: None,
            provider_type: None,
            include_all_networks: None,
            enforce_routes: None,
            exclude_local_networks: None,
            exclude_cellular_services: None,
            exclude_apns: None,
            exclude_device_communication: None,
            ppk: None,
            ppk_identifier: None,
            ppk_mandatory: None,
            ike_security_association_parameters: None,
            child_security_association_parameters: None,
        }
    }

    /// Certificate (machine) authentication with the identity payload `identity_payload_uuid`.
    pub fn certificate(
        remote_address: impl Into<String>,
        local_identifier: impl Into<String>,
        remote_identifier: impl Into<String>,
        identity_payload_uuid: impl Into<String>,
    ) -> IkeV2 {
        let mut v = IkeV2::new(remote_address, local_identifier, remote_identifier, IkeAuthMethod::Certificate);
        v.payload_certificate_uuid = Some(identity_payload_uuid.into());
        v
    }

    pub(super) fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.authentication_method == IkeAuthMethod::Certificate && self.payload_certificate_uuid.is_none() {
            out.push(Issue::error(
                key_path(path, "PayloadCertificateUUID"),
                "AuthenticationMethod is Certificate: name the identity payload in PayloadCertificateUUID",
            ));
        }
        if self.certificate_type.is_some() && self.server_certificate_issuer_common_name.is_none() {
            out.push(Issue::error(
                key_path(path, "ServerCertificateIssuerCommonName"),
                "CertificateType is set, which requires ServerCertificateIssuerCommonName",
            ));
        }
        match (&self.ppk, &self.ppk_identifier) {
            (Some(_), None) => out.push(Issue::error(key_path(path, "PPKIdentifier"), "PPK is set, which requires PPKIdentifier")),
            (None, Some(_)) => out.push(Issue::error(key_path(path, "PPK"), "PPKIdentifier is set, which requires PPK")),
            _ => {}
        }
        if let (Some(min), Some(max)) = (self.tls_minimum_version, self.tls_maximum_version) {
            if min > max {
                out.push(Issue::error(key_path(path, "TLSMinimumVersion"), "TLSMinimumVersion is above TLSMaximumVersion; no TLS version would be allowed"));
            }
        }
        check_on_demand_rules(self.on_demand_rules.as_deref(), path, out);
    }
}
