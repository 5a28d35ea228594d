//! `com.apple.wifi.managed`: a Wi-Fi network, personal (password) or enterprise (802.1X through
//! [`EapClientConfiguration`]), with Hotspot 2.0 and proxy settings.
//!
//! Keys are spelled as in Apple's schema (`profiles/schema/apple/com.apple.wifi.managed.yaml`).
//! Apple's `EncryptionType` has no separate "enterprise" value: an enterprise network is a WPA
//! family (or `Any`) network with an `EAPClientConfiguration`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;
use crate::issue::{key_path, Issue};
use crate::value::int_enum;

/// `EncryptionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EncryptionType {
    /// `WEP`.
    #[serde(rename = "WEP")]
    Wep,
    /// `WPA`: WPA or WPA2 networks (iOS 16+).
    #[serde(rename = "WPA")]
    Wpa,
    /// `WPA2`: WPA2 or WPA3 networks (iOS 16+).
    #[serde(rename = "WPA2")]
    Wpa2,
    /// `WPA3`: WPA3 networks only.
    #[serde(rename = "WPA3")]
    Wpa3,
    /// `Any` (the default).
    Any,
    /// `None`: an open network.
    None,
}

/// `ProxyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProxyType {
    /// `None`.
    None,
    /// `Manual`: `ProxyServer` and `ProxyServerPort`.
    Manual,
    /// `Auto`: `ProxyPACURL`, or proxy auto-discovery without it.
    Auto,
}

/// `SetupModes` entry (macOS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SetupMode {
    /// `System`.
    System,
    /// `Loginwindow`.
    Loginwindow,
}

/// `QoSMarkingPolicy`: which apps may use L2/L3 QoS marking on a Cisco fast-lane network.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QosMarkingPolicy {
    /// `QoSMarkingAllowListAppIdentifiers`: the allowed apps' bundle identifiers.
    #[serde(rename = "QoSMarkingAllowListAppIdentifiers", default, skip_serializing_if = "Option::is_none")]
    pub allow_list_app_identifiers: Option<Vec<String>>,
    /// `QoSMarkingWhitelistedAppIdentifiers` (deprecated name of the allow list).
    #[serde(rename = "QoSMarkingWhitelistedAppIdentifiers", default, skip_serializing_if = "Option::is_none")]
    pub whitelisted_app_identifiers: Option<Vec<String>>,
    /// `QoSMarkingAppleAudioVideoCalls`: add FaceTime and Wi-Fi Calling to the allow list.
    #[serde(rename = "QoSMarkingAppleAudioVideoCalls", default, skip_serializing_if = "Option::is_none")]
    pub apple_audio_video_calls: Option<bool>,
    /// `QoSMarkingEnabled`.
    #[serde(rename = "QoSMarkingEnabled", default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

int_enum! {
    /// An `AcceptEAPTypes` entry: one of the EAP methods Apple lists.
    pub enum EapType {
        /// 13: EAP-TLS (client certificate; needs the profile's `PayloadCertificateUUID`).
        Tls = 13,
        /// 17: LEAP.
        Leap = 17,
        /// 18: EAP-SIM.
        Sim = 18,
        /// 21: EAP-TTLS.
        Ttls = 21,
        /// 23: EAP-AKA.
        Aka = 23,
        /// 25: PEAP (v0/v1).
        Peap = 25,
        /// 43: EAP-FAST.
        Fast = 43,
    }
}

int_enum! {
    /// `EAPSIMNumberOfRANDs`: 2 or 3.
    pub enum EapSimRands {
        /// 2.
        Two = 2,
        /// 3 (the default).
        Three = 3,
    }
}

/// `TTLSInnerAuthentication`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TtlsInnerAuthentication {
    /// `PAP`.
    #[serde(rename = "PAP")]
    Pap,
    /// `EAP`.
    #[serde(rename = "EAP")]
    Eap,
    /// `CHAP`.
    #[serde(rename = "CHAP")]
    Chap,
    /// `MSCHAP`.
    #[serde(rename = "MSCHAP")]
    MsChap,
    /// `MSCHAPv2` (the default).
    #[serde(rename = "MSCHAPv2")]
    MsChapV2,
}

/// `TLSMinimumVersion` / `TLSMaximumVersion` for EAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    /// `1.0`.
    #[serde(rename = "1.0")]
    V1_0,
    /// `1.1`.
    #[serde(rename = "1.1")]
    V1_1,
    /// `1.2`.
    #[serde(rename = "1.2")]
    V1_2,
    /// `1.3`.
    #[serde(rename = "1.3")]
    V1_3,
}

/// `EAPClientConfiguration`: the 802.1X settings of an enterprise network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EapClientConfiguration {
    /// `AcceptEAPTypes`.
    #[serde(rename = "AcceptEAPTypes")]
    pub accept_eap_types: Vec<EapType>,
    /// `UserName` (prompted when absent).
    #[serde(rename = "UserName", default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// `UserPassword` (prompted when absent).
    #[serde(rename = "UserPassword", default, skip_serializing_if = "Option::is_none")]
    pub user_password: Option<String>,
    /// `PayloadCertificateAnchorUUID`: certificate payloads in this profile trusted for the
    /// server.
    #[serde(rename = "PayloadCertificateAnchorUUID", default, skip_serializing_if = "Option::is_none")]
    pub payload_certificate_anchor_uuid: Option<Vec<String>>,
    /// `TLSTrustedCertificates`.
    #[serde(rename = "TLSTrustedCertificates", default, skip_serializing_if = "Option::is_none")]
    pub tls_trusted_certificates: Option<Vec<String>>,
    /// `TLSTrustedServerNames`: accepted server certificate common names (wildcards allowed).
    #[serde(rename = "TLSTrustedServerNames", default, skip_serializing_if = "Option::is_none")]
    pub tls_trusted_server_names: Option<Vec<String>>,
    /// `TLSAllowTrustExceptions` (no longer supported on iOS 8+).
    #[serde(rename = "TLSAllowTrustExceptions", default, skip_serializing_if = "Option::is_none")]
    pub tls_allow_trust_exceptions: Option<bool>,
    /// `TLSCertificateIsRequired`.
    #[serde(rename = "TLSCertificateIsRequired", default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate_is_required: Option<bool>,
    /// `TTLSInnerAuthentication`.
    #[serde(rename = "TTLSInnerAuthentication", default, skip_serializing_if = "Option::is_none")]
    pub ttls_inner_authentication: Option<TtlsInnerAuthentication>,
    /// `TLSMinimumVersion`.
    #[serde(rename = "TLSMinimumVersion", default, skip_serializing_if = "Option::is_none")]
    pub tls_minimum_version: Option<TlsVersion>,
    /// `TLSMaximumVersion`.
    #[serde(rename = "TLSMaximumVersion", default, skip_serializing_if = "Option::is_none")]
    pub tls_maximum_version: Option<TlsVersion>,
    /// `OuterIdentity`: the name sent outside the tunnel (TTLS, PEAP, EAP-FAST).
    #[serde(rename = "OuterIdentity", default, skip_serializing_if = "Option::is_none")]
    pub outer_identity: Option<String>,
    /// `EAPFASTUsePAC`.
    #[serde(rename = "EAPFASTUsePAC", default, skip_serializing_if = "Option::is_none")]
    pub eap_fast_use_pac: Option<bool>,
    /// `EAPFASTProvisionPAC`.
    #[serde(rename = "EAPFASTProvisionPAC", default, skip_serializing_if = "Option::is_none")]
    pub eap_fast_provision_pac: Option<bool>,
    /// `EAPFASTProvisionPACAnonymously`.
    #[serde(rename = "EAPFASTProvisionPACAnonymously", default, skip_serializing_if = "Option::is_none")]
    pub eap_fast_provision_pac_anonymously: Option<bool>,
    /// `EAPSIMNumberOfRANDs`.
    #[serde(rename = "EAPSIMNumberOfRANDs", default, skip_serializing_if = "Option::is_none")]
    pub eap_sim_number_of_rands: Option<EapSimRands>,
    /// `SystemModeCredentialsSource` (`ActiveDirectory`, macOS).
    #[serde(rename = "SystemModeCredentialsSource", default, skip_serializing_if = "Option::is_none")]
    pub system_mode_credentials_source: Option<String>,
    /// `SystemModeUseOpenDirectoryCredentials` (macOS).
    #[serde(rename = "SystemModeUseOpenDirectoryCredentials", default, skip_serializing_if = "Option::is_none")]
    pub system_mode_use_open_directory_credentials: Option<bool>,
    /// `OneTimeUserPassword`: prompt for the password on every connection.
    #[serde(rename = "OneTimeUserPassword", default, skip_serializing_if = "Option::is_none")]
    pub one_time_user_password: Option<bool>,
}

impl EapClientConfiguration {
    /// A configuration accepting `types` and nothing else set.
    pub fn new(types: Vec<EapType>) -> EapClientConfiguration {
        EapClientConfiguration {
            accept_eap_types: types,
            user_name: None,
            user_password: None,
            payload_certificate_anchor_uuid: None,
            tls_trusted_certificates: None,
            tls_trusted_server_names: None,
            tls_allow_trust_exceptions: None,
            tls_certificate_is_required: None,
            ttls_inner_authentication: None,
            tls_minimum_version: None,
            tls_maximum_version: None,
            outer_identity: None,
            eap_fast_use_pac: None,
            eap_fast_provision_pac: None,
            eap_fast_provision_pac_anonymously: None,
            eap_sim_number_of_rands: None,
            system_mode_credentials_source: None,
            system_mode_use_open_directory_credentials: None,
            one_time_user_password: None,
        }
    }

    /// Whether `t` is accepted.
    pub fn accepts(&self, t: EapType) -> bool {
        self.accept_eap_types.contains(&t)
    }

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.accept_eap_types.is_empty() {
            out.push(Issue::error(key_path(path, "AcceptEAPTypes"), "name at least one EAP type"));
        }
        if self.tls_minimum_version == Some(TlsVersion::V1_3) && self.outer_identity.is_none() {
            out.push(Issue::error(key_path(path, "OuterIdentity"), "TLSMinimumVersion 1.3 requires OuterIdentity"));
        }
        if let (Some(min), Some(max)) = (self.tls_minimum_version, self.tls_maximum_version) {
            if min > max {
                out.push(Issue::error(key_path(path, "TLSMinimumVersion"), "TLSMinimumVersion is above TLSMaximumVersion; no TLS version would be allowed"));
            }
        }
        if self.system_mode_credentials_source.is_some() && self.system_mode_use_open_directory_credentials.is_some() {
            out.push(Issue::error(
                key_path(path, "SystemModeUseOpenDirectoryCredentials"),
                "SystemModeCredentialsSource and SystemModeUseOpenDirectoryCredentials exclude each other",
            ));
        }
        if self.eap_fast_provision_pac == Some(true) && self.eap_fast_use_pac != Some(true) {
            out.push(Issue::warning(key_path(path, "EAPFASTProvisionPAC"), "EAPFASTProvisionPAC only applies when EAPFASTUsePAC is true"));
        }
    }
}

/// `com.apple.wifi.managed` payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wifi {
    /// `SSID_STR`: the network name (optional only for Hotspot 2.0 networks with `DomainName`).
    #[serde(rename = "SSID_STR", default, skip_serializing_if = "Option::is_none")]
    pub ssid: Option<String>,
    /// `HIDDEN_NETWORK`: the network does not broadcast its SSID.
    #[serde(rename = "HIDDEN_NETWORK", default, skip_serializing_if = "Option::is_none")]
    pub hidden_network: Option<bool>,
    /// `AutoJoin` (default true).
    #[serde(rename = "AutoJoin", default, skip_serializing_if = "Option::is_none")]
    pub auto_join: Option<bool>,
    /// `EncryptionType` (default `Any`).
    #[serde(rename = "EncryptionType", default, skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<EncryptionType>,
    /// `Password`: the pre-shared key. When absent on a protected personal network, the user is
    /// asked for it.
    #[serde(rename = "Password", default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `PayloadCertificateUUID`: the identity payload (SCEP, ACME or PKCS#12) used as the EAP
    /// client credential.
    #[serde(rename = "PayloadCertificateUUID", default, skip_serializing_if = "Option::is_none")]
    pub payload_certificate_uuid: Option<String>,
    /// `EAPClientConfiguration`: 802.1X settings.
    #[serde(rename = "EAPClientConfiguration", default, skip_serializing_if = "Option::is_none")]
    pub eap_client_configuration: Option<EapClientConfiguration>,
    /// `IsHotspot`: a Hotspot 2.0 network.
    #[serde(rename = "IsHotspot", default, skip_serializing_if = "Option::is_none")]
    pub is_hotspot: Option<bool>,
    /// `DomainName`: the Hotspot 2.0 domain.
    #[serde(rename = "DomainName", default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// `ServiceProviderRoamingEnabled`.
    #[serde(rename = "ServiceProviderRoamingEnabled", default, skip_serializing_if = "Option::is_none")]
    pub service_provider_roaming_enabled: Option<bool>,
    /// `RoamingConsortiumOIs`.
    #[serde(rename = "RoamingConsortiumOIs", default, skip_serializing_if = "Option::is_none")]
    pub roaming_consortium_ois: Option<Vec<String>>,
    /// `NAIRealmNames`.
    #[serde(rename = "NAIRealmNames", default, skip_serializing_if = "Option::is_none")]
    pub nai_realm_names: Option<Vec<String>>,
    /// `MCCAndMNCs`: six-digit MCC/MNC pairs.
    #[serde(rename = "MCCAndMNCs", default, skip_serializing_if = "Option::is_none")]
    pub mcc_and_mncs: Option<Vec<String>>,
    /// `DisplayedOperatorName`.
    #[serde(rename = "DisplayedOperatorName", default, skip_serializing_if = "Option::is_none")]
    pub displayed_operator_name: Option<String>,
    /// `HESSID`.
    #[serde(rename = "HESSID", default, skip_serializing_if = "Option::is_none")]
    pub hessid: Option<String>,
    /// `CaptiveBypass`: skip captive network detection.
    #[serde(rename = "CaptiveBypass", default, skip_serializing_if = "Option::is_none")]
    pub captive_bypass: Option<bool>,
    /// `QoSMarkingPolicy`.
    #[serde(rename = "QoSMarkingPolicy", default, skip_serializing_if = "Option::is_none")]
    pub qos_marking_policy: Option<QosMarkingPolicy>,
    /// `SetupModes` (macOS).
    #[serde(rename = "SetupModes", default, skip_serializing_if = "Option::is_none")]
    pub setup_modes: Option<Vec<SetupMode>>,
    /// `EnableIPv6`.
    #[serde(rename = "EnableIPv6", default, skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    /// `TLSCertificateRequired`.
    #[serde(rename = "TLSCertificateRequired", default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate_required: Option<bool>,
    /// `ProxyType`.
    #[serde(rename = "ProxyType", default, skip_serializing_if = "Option::is_none")]
    pub proxy_type: Option<ProxyType>,
    /// `ProxyServer`.
    #[serde(rename = "ProxyServer", default, skip_serializing_if = "Option::is_none")]
    pub proxy_server: Option<String>,
    /// `ProxyServerPort` (0 to 65535).
    #[serde(rename = "ProxyServerPort", default, skip_serializing_if = "Option::is_none")]
    pub proxy_server_port: Option<u16>,
    /// `ProxyUsername`.
    #[serde(rename = "ProxyUsername", default, skip_serializing_if = "Option::is_none")]
    pub proxy_username: Option<String>,
    /// `ProxyPassword`.
    #[serde(rename = "ProxyPassword", default, skip_serializing_if = "Option::is_none")]
    pub proxy_password: Option<String>,
    /// `ProxyPACURL`.
    #[serde(rename = "ProxyPACURL", default, skip_serializing_if = "Option::is_none")]
    pub proxy_pac_url: Option<String>,
    /// `ProxyPACFallbackAllowed`: connect directly when the PAC file is unreachable.
    #[serde(rename = "ProxyPACFallbackAllowed", default, skip_serializing_if = "Option::is_none")]
    pub proxy_pac_fallback_allowed: Option<bool>,
    /// `DisableAssociationMACRandomization`.
    #[serde(rename = "DisableAssociationMACRandomization", default, skip_serializing_if = "Option::is_none")]
    pub disable_association_mac_randomization: Option<bool>,
}

impl Wifi {
    /// A network with this SSID, joined automatically, nothing else set.
    pub fn new(ssid: impl Into<String>) -> Wifi {
        Wifi { ssid: Some(ssid.into()), auto_join: Some(true), ..Wifi::default() }
    }

    /// An open network (`EncryptionType` `None`).
    pub fn open(ssid: impl Into<String>) -> Wifi {
        Wifi { encryption_type: Some(EncryptionType::None), ..Wifi::new(ssid) }
    }

    /// A WPA2 (or WPA3) personal network with a pre-shared key.
    pub fn wpa2_personal(ssid: impl Into<String>, password: impl Into<String>) -> Wifi {
        Wifi { encryption_type: Some(EncryptionType::Wpa2), password: Some(password.into()), ..Wifi::new(ssid) }
    }

    /// A WPA3-only personal network with a pre-shared key.
    pub fn wpa3_personal(ssid: impl Into<String>, password: impl Into<String>) -> Wifi {
        Wifi { encryption_type: Some(EncryptionType::Wpa3), password: Some(password.into()), ..Wifi::new(ssid) }
    }

    /// A WPA2 enterprise network using EAP-TLS: the device authenticates with the identity of
    /// the payload `identity_payload_uuid` (SCEP, ACME or PKCS#12) and trusts RADIUS servers
    /// whose certificates carry one of `trusted_server_names`.
    pub fn eap_tls(ssid: impl Into<String>, identity_payload_uuid: impl Into<String>, trusted_server_names: Vec<String>) -> Wifi {
        let mut eap = EapClientConfiguration::new(vec![EapType::Tls]);
        if !trusted_server_names.is_empty() {
            eap.tls_trusted_server_names = Some(trusted_server_names);
        }
        Wifi {
            encryption_type: Some(EncryptionType::Wpa2),
            payload_certificate_uuid: Some(identity_payload_uuid.into()),
            eap_client_configuration: Some(eap),
            ..Wifi::new(ssid)
        }
    }

    /// A WPA2 enterprise network using PEAP (MSCHAPv2 inside): the user is asked for name and
    /// password unless set with [`Wifi::with_eap_credentials`]; RADIUS servers are trusted by
    /// `trusted_server_names`.
    pub fn peap(ssid: impl Into<String>, trusted_server_names: Vec<String>) -> Wifi {
        let mut eap = EapClientConfiguration::new(vec![EapType::Peap]);
        if !trusted_server_names.is_empty() {
            eap.tls_trusted_server_names = Some(trusted_server_names);
        }
        Wifi { encryption_type: Some(EncryptionType::Wpa2), eap_client_configuration: Some(eap), ..Wifi::new(ssid) }
    }

    /// Sets the EAP `UserName` (and `UserPassword` if given). No effect without
    /// `EAPClientConfiguration`.
    pub fn with_eap_credentials(mut self, user_name: impl Into<String>, user_password: Option<String>) -> Wifi {
        if let Some(eap) = &mut self.eap_client_configuration {
            eap.user_name = Some(user_name.into());
            eap.user_password = user_password;
        }
        self
    }

    /// Adds certificate payloads (root or intermediate CAs in this profile) trusted for the
    /// RADIUS server. No effect without `EAPClientConfiguration`.
    pub fn with_anchor_uuids(mut self, anchor_payload_uuids: Vec<String>) -> Wifi {
        if let Some(eap) = &mut self.eap_client_configuration {
            eap.payload_certificate_anchor_uuid = Some(anchor_payload_uuids);
        }
        self
    }

    /// A manual proxy.
    pub fn with_manual_proxy(mut self, server: impl Into<String>, port: u16) -> Wifi {
        self.proxy_type = Some(ProxyType::Manual);
        self.proxy_server = Some(server.into());
        self.proxy_server_port = Some(port);
        self
    }

    /// Whether the network is an 802.1X (enterprise) network.
    pub fn is_enterprise(&self) -> bool {
        self.eap_client_configuration.is_some()
    }
}

impl PayloadKind for Wifi {
    const TYPE: &'static str = "com.apple.wifi.managed";

    /// Apple's prose rules: an SSID unless a Hotspot 2.0 `DomainName` is given; no credentials
    /// on an open network; EAP-TLS needs the identity in `PayloadCertificateUUID`, and that
    /// identity is only used with `EAPClientConfiguration`; EAP's own rules (TLS 1.3 needs
    /// `OuterIdentity`, ...); a manual proxy needs server and port. A personal network without
    /// `Password` is fine: the user is asked for it.
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.ssid.as_deref().is_none_or(str::is_empty) && self.domain_name.is_none() {
            out.push(Issue::error(key_path(path, "SSID_STR"), "name the network: SSID_STR (optional only for Hotspot 2.0 networks with DomainName)"));
        }
        if self.encryption_type == Some(EncryptionType::None) {
            for (key, present) in [
                ("Password", self.password.is_some()),
                ("PayloadCertificateUUID", self.payload_certificate_uuid.is_some()),
                ("EAPClientConfiguration", self.eap_client_configuration.is_some()),
            ] {
                if present {
                    out.push(Issue::error(key_path(path, key), format!("EncryptionType None is an open network; {key} is only for protected networks")));
                }
            }
        }
        match &self.eap_client_configuration {
            Some(eap) => {
                if eap.accepts(EapType::Tls) && self.payload_certificate_uuid.is_none() {
                    out.push(Issue::error(
                        key_path(path, "PayloadCertificateUUID"),
                        "EAP-TLS (13) authenticates with a client certificate: name the identity payload (SCEP, ACME or PKCS#12) in PayloadCertificateUUID",
                    ));
                }
                if self.encryption_type == Some(EncryptionType::Wep) {
                    out.push(Issue::warning(key_path(path, "EncryptionType"), "802.1X with WEP (dynamic WEP) is obsolete; use WPA2 or WPA3"));
                }
                eap.check(&key_path(path, "EAPClientConfiguration"), out);
            }
            None => {
                if self.payload_certificate_uuid.is_some() && self.encryption_type != Some(EncryptionType::None) {
                    out.push(Issue::error(
                        key_path(path, "EAPClientConfiguration"),
                        "PayloadCertificateUUID is the client identity of an enterprise (802.1X) network, which needs EAPClientConfiguration",
                    ));
                }
            }
        }
        if self.proxy_type == Some(ProxyType::Manual) {
            if self.proxy_server.is_none() {
                out.push(Issue::error(key_path(path, "ProxyServer"), "ProxyType Manual needs ProxyServer"));
            }
            if self.proxy_server_port.is_none() {
                out.push(Issue::error(key_path(path, "ProxyServerPort"), "ProxyType Manual needs ProxyServerPort"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(w: &Wifi) -> Vec<Issue> {
        let mut out = Vec::new();
        w.check("P", &mut out);
        out
    }

    #[test]
    fn constructors_pass_their_own_checks() {
        assert!(issues(&Wifi::wpa2_personal("Ward", "secret")).is_empty());
        assert!(issues(&Wifi::wpa3_personal("Ward", "secret")).is_empty());
        assert!(issues(&Wifi::open("Guest")).is_empty());
        assert!(issues(&Wifi::eap_tls("Staff", "A-B", vec!["radius.example.org".into()])).is_empty());
        assert!(issues(&Wifi::peap("Staff", vec![]).with_eap_credentials("nurse", None)).is_empty());
        // A personal network may omit the password: the device asks for it.
        let mut prompt = Wifi::wpa2_personal("Ward", "x");
        prompt.password = None;
        assert!(issues(&prompt).is_empty());
    }

    #[test]
    fn eap_types_are_integers_and_closed() {
        let v = plist::to_value(&vec![EapType::Tls, EapType::Peap]).unwrap();
        assert_eq!(v, plist::Value::Array(vec![plist::Value::Integer(13.into()), plist::Value::Integer(25.into())]));
        assert!(plist::from_value::<EapType>(&plist::Value::Integer(50.into())).is_err());
        assert!(plist::from_value::<EapSimRands>(&plist::Value::Integer(4.into())).is_err());
    }

    #[test]
    fn eap_rules() {
        let mut w = Wifi::peap("Staff", vec![]);
        if let Some(eap) = &mut w.eap_client_configuration {
            eap.tls_minimum_version = Some(TlsVersion::V1_3);
            eap.tls_maximum_version = Some(TlsVersion::V1_2);
            eap.system_mode_credentials_source = Some("ActiveDirectory".into());
            eap.system_mode_use_open_directory_credentials = Some(true);
            eap.eap_fast_provision_pac = Some(true);
            eap.accept_eap_types.clear();
        }
        let paths: Vec<String> = issues(&w).into_iter().map(|i| i.path).collect();
        assert_eq!(
            paths,
            [
                "P.EAPClientConfiguration.AcceptEAPTypes",
                "P.EAPClientConfiguration.OuterIdentity",
                "P.EAPClientConfiguration.TLSMinimumVersion",
                "P.EAPClientConfiguration.SystemModeUseOpenDirectoryCredentials",
                "P.EAPClientConfiguration.EAPFASTProvisionPAC",
            ]
        );
    }
}
