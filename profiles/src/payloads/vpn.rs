//! `com.apple.vpn.managed` ([`Vpn`]), `com.apple.vpn.managed.applayer` ([`AppLayerVpn`], per-app
//! VPN) and `com.apple.vpn.managed.appmapping` ([`AppMapping`], macOS app-to-VPN mapping).
//!
//! Keys are spelled as in Apple's schema (`profiles/schema/apple/com.apple.vpn.managed*.yaml`).
//! Closed string sets are enums; Apple's `0`/`1` integer switches are [`IntBool`]; integers with a
//! documented range or value list are typed ([`Bounded`], [`DiffieHellmanGroup`]) and refuse any
//! other value when read, so a payload that does not fit stays raw and the schema validator
//! reports it.
//!
//! The per-app payload reuses [`Vpn`] by composition: [`AppLayerVpn`] is a [`Vpn`] plus the
//! [`AppLayerSettings`] keys (`VPNUUID`, `SafariDomains`, ...), written side by side in one
//! dictionary.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::PayloadKind;
use crate::issue::{index_path, key_path, Issue};
use crate::value::Data;

// ---------------------------------------------------------------------------------------------
// Small typed values shared by the network payloads.
// ---------------------------------------------------------------------------------------------

/// Apple's integer switch: `<integer>` restricted to `0` (off) or `1` (on). Any other integer, or a
/// `<boolean>`, is refused when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IntBool(pub bool);

impl IntBool {
    /// `1`.
    pub const ON: IntBool = IntBool(true);
    /// `0`.
    pub const OFF: IntBool = IntBool(false);

    /// Whether the switch is `1`.
    pub fn is_on(self) -> bool {
        self.0
    }
}

impl From<bool> for IntBool {
    fn from(b: bool) -> IntBool {
        IntBool(b)
    }
}

impl Serialize for IntBool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(i64::from(self.0))
    }
}

impl<'de> Deserialize<'de> for IntBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match i64::deserialize(d)? {
            0 => Ok(IntBool(false)),
            1 => Ok(IntBool(true)),
            v => Err(de::Error::custom(format!("{v} is not allowed here; the value is 0 or 1"))),
        }
    }
}

/// An `<integer>` Apple restricts to `MIN..=MAX`; other values are refused when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    /// The value, if it lies in `MIN..=MAX`.
    pub fn new(v: i64) -> Result<Self, String> {
        if (MIN..=MAX).contains(&v) {
            Ok(Bounded(v))
        } else if MAX == i64::MAX {
            Err(format!("{v} is out of range; the minimum is {MIN}"))
        } else {
            Err(format!("{v} is out of range; allowed values are {MIN} to {MAX}"))
        }
    }

    /// The integer.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> Serialize for Bounded<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Bounded::new(i64::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// IKEv2 `MTU`: 1280 to 1400 bytes.
pub type Mtu = Bounded<1280, 1400>;
/// Security association `LifeTimeInMinutes`: 10 to 1440.
pub type LifetimeMinutes = Bounded<10, 1440>;

/// Declares an enum written as one of Apple's allowed integers.
macro_rules! int_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $var:ident = $val:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vm])* $var,)+
        }

        impl $name {
            /// The integer Apple writes for this value.
            pub fn value(self) -> i64 {
                match self {
                    $($name::$var => $val,)+
                }
            }

            /// The value for one of Apple's allowed integers.
            pub fn from_value(v: i64) -> Option<$name> {
                match v {
                    $($val => Some($name::$var),)+
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.value())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <i64 as serde::Deserialize>::deserialize(d)?;
                $name::from_value(v).ok_or_else(|| {
                    serde::de::Error::custom(format!("{v} is not allowed here; allowed values are {:?}", [$($val),+]))
                })
            }
        }
    };
}
pub(crate) use int_enum;

// ---------------------------------------------------------------------------------------------
// com.apple.vpn.managed
// ---------------------------------------------------------------------------------------------

/// `VPNType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VpnType {
    /// `VPN`: a network-extension provider app (`VPNSubType` names it), settings in [`VpnProvider`].
    #[serde(rename = "VPN")]
    Vpn,
    /// `L2TP` (settings in [`Ppp`] and [`IpSec`]).
    #[serde(rename = "L2TP")]
    L2tp,
    /// `IPSec`: Cisco IPSec (settings in [`IpSec`]).
    #[serde(rename = "IPSec")]
    IpSec,
    /// `IKEv2` (settings in [`IkeV2`]).
    #[serde(rename = "IKEv2")]
    IkeV2,
    /// `AlwaysOn`: supervised iOS always-on IKEv2 (settings in [`AlwaysOn`]).
    #[serde(rename = "AlwaysOn")]
    AlwaysOn,
    /// `TransparentProxy` (macOS 14+, settings in [`TransparentProxy`]).
    #[serde(rename = "TransparentProxy")]
    TransparentProxy,
}

/// `com.apple.vpn.managed` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vpn {
    /// `UserDefinedName`: the connection's name on the device.
    #[serde(rename = "UserDefinedName")]
    pub user_defined_name: String,
    /// `VPNType`.
    #[serde(rename = "VPNType")]
    pub vpn_type: VpnType,
    /// `VPNSubType`: for `VPN` and `TransparentProxy`, the bundle identifier of the provider app;
    /// for `IKEv2`, empty if present.
    #[serde(rename = "VPNSubType", default, skip_serializing_if = "Option::is_none")]
    pub vpn_sub_type: Option<String>,
    /// `VendorConfig`: free-form settings handed to the provider. This crate keeps Device Traffic
    /// Rules under `DeviceTrafficRules` here (see [`crate::payloads::traffic`]).
    #[serde(rename = "VendorConfig", default, skip_serializing_if = "Option::is_none")]
    pub vendor_config: Option<plist::Dictionary>,
    /// `VPN`: settings for `VPNType` `VPN`.
    #[serde(rename = "VPN", default, skip_serializing_if = "Option::is_none")]
    pub vpn: Option<VpnProvider>,
    /// `IPv4`.
    #[serde(rename = "IPv4", default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Ipv4>,
    /// `PPP`: settings for `L2TP`.
    #[serde(rename = "PPP", default, skip_serializing_if = "Option::is_none")]
    pub ppp: Option<Ppp>,
    /// `IPSec`: settings for `IPSec` and `L2TP`.
    #[serde(rename = "IPSec", default, skip_serializing_if = "Option::is_none")]
    pub ipsec: Option<IpSec>,
    /// `IKEv2`: settings for `IKEv2`.
    #[serde(rename = "IKEv2", default, skip_serializing_if = "Option::is_none")]
    pub ikev2: Option<IkeV2>,
    /// `DNS`: resolver settings for any VPN type.
    #[serde(rename = "DNS", default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Dns>,
    /// `Proxies`.
    #[serde(rename = "Proxies", default, skip_serializing_if = "Option::is_none")]
    pub proxies: Option<Proxies>,
    /// `AlwaysOn`: settings for `AlwaysOn`.
    #[serde(rename = "AlwaysOn", default, skip_serializing_if = "Option::is_none")]
    pub always_on: Option<AlwaysOn>,
    /// `TransparentProxy`: settings for `TransparentProxy`.
    #[serde(rename = "TransparentProxy", default, skip_serializing_if = "Option::is_none")]
    pub transparent_proxy: Option<TransparentProxy>,
}

impl Vpn {
    /// A VPN of `vpn_type` named `user_defined_name` with no settings yet.
    pub fn new(user_defined_name: impl Into<String>, vpn_type: VpnType) -> Vpn {
        Vpn {
            user_defined_name: user_defined_name.into(),
            vpn_type,
            vpn_sub_type: None,
            vendor_config: None,
            vpn: None,
            ipv4: None,
            ppp: None,
            ipsec: None,
            ikev2: None,
            dns: None,
            proxies: None,
            always_on: None,
            transparent_proxy: None,
        }
    }

    /// A network-extension provider VPN (`VPNType` `VPN`): `VPNSubType` is the provider app's
    /// bundle identifier, `VPN.ProviderBundleIdentifier` the provider extension's.
    pub fn provider(
        user_defined_name: impl Into<String>,
        app_bundle_id: impl Into<String>,
        provider_bundle_id: impl Into<String>,
        provider_type: ProviderType,
    ) -> Vpn {
        let mut v = Vpn::new(user_defined_name, VpnType::Vpn);
        v.vpn_sub_type = Some(app_bundle_id.into());
        v.vpn = Some(VpnProvider { provider_bundle_identifier: Some(provider_bundle_id.into()), provider_type: Some(provider_type), ..VpnProvider::default() });
        v
    }

    /// An IKEv2 VPN with the given settings.
    pub fn ikev2(user_defined_name: impl Into<String>, settings: IkeV2) -> Vpn {
        let mut v = Vpn::new(user_defined_name, VpnType::IkeV2);
        v.ikev2 = Some(settings);
        v
    }

    /// The rules of [`PayloadKind::check`] for the VPN keys, shared with [`AppLayerVpn`].
    fn check_vpn(&self, path: &str, out: &mut Vec<Issue>) {
        let sub = self.vpn_sub_type.as_deref().unwrap_or("");
        match self.vpn_type {
            VpnType::Vpn | VpnType::TransparentProxy if sub.is_empty() => out.push(Issue::error(
                key_path(path, "VPNSubType"),
                "VPNType VPN and TransparentProxy need VPNSubType: the bundle identifier of the VPN provider app",
            )),
            VpnType::IkeV2 if !sub.is_empty() => {
                out.push(Issue::error(key_path(path, "VPNSubType"), "for VPNType IKEv2, VPNSubType is reserved and must be an empty string if present"))
            }
            VpnType::IkeV2 if self.ikev2.is_none() => {
                out.push(Issue::error(key_path(path, "IKEv2"), "VPNType IKEv2 needs the IKEv2 dictionary (server address, identifiers, authentication)"))
            }
            VpnType::AlwaysOn if self.always_on.is_none() => {
                out.push(Issue::error(key_path(path, "AlwaysOn"), "VPNType AlwaysOn needs the AlwaysOn dictionary with TunnelConfigurations"))
            }
            _ => {}
        }
        if let Some(vc) = &self.vendor_config {
            if vc.contains_key(super::traffic::VENDOR_CONFIG_KEY) {
                if let Err(e) = super::traffic::TrafficRules::from_vendor_config(vc) {
                    let at = key_path(&key_path(path, "VendorConfig"), super::traffic::VENDOR_CONFIG_KEY);
                    let at = if e.path.is_empty() { at } else { key_path(&at, &e.path) };
                    out.push(Issue::error(at, e.message));
                }
            }
        }
        if let Some(v) = &self.vpn {
            v.check(&key_path(path, "VPN"), out);
        }
        if let Some(v) = &self.ipsec {
            v.check(&key_path(path, "IPSec"), out);
        }
        if let Some(v) = &self.ikev2 {
            v.check(&key_path(path, "IKEv2"), out);
        }
        if let Some(v) = &self.dns {
            v.check(&key_path(path, "DNS"), out);
        }
        if let Some(v) = &self.proxies {
            v.check(&key_path(path, "Proxies"), out);
        }
        if let Some(v) = &self.transparent_proxy {
            v.check(&key_path(path, "TransparentProxy"), out);
        }
    }
}

impl PayloadKind for Vpn {
    const TYPE: &'static str = "com.apple.vpn.managed";

    /// Apple's prose rules: `VPNSubType` for `VPN`/`TransparentProxy` (empty for `IKEv2`), the
    /// type's settings dictionary, a certificate when the authentication method is
    /// `Certificate`, `CertificateType` with `ServerCertificateIssuerCommonName`, `PPK` with
    /// `PPKIdentifier`, on-demand `ActionParameters` only with `EvaluateConnection`, proxy ports
    /// with proxy hosts, the DNS server URL or name its protocol needs, and well-formed Device
    /// Traffic Rules in `VendorConfig`.
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        self.check_vpn(path, out);
    }
}

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
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
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
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.authentication_method == Some(IpSecAuthMethod::Certificate) && self.payload_certificate_uuid.is_none() {
            out.push(Issue::error(
                key_path(path, "PayloadCertificateUUID"),
                "AuthenticationMethod is Certificate: name the identity payload in PayloadCertificateUUID",
            ));
        }
        check_on_demand_rules(self.on_demand_rules.as_deref(), path, out);
    }
}

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

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
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

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
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
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
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
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
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

// ---------------------------------------------------------------------------------------------
// On-demand rules
// ---------------------------------------------------------------------------------------------

/// `OnDemandRules[].Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OnDemandAction {
    /// `Allow` (deprecated): allow on-demand connection if triggered.
    Allow,
    /// `Connect`: connect on the next network attempt.
    Connect,
    /// `Disconnect`: tear down and do not reconnect while the rule matches.
    Disconnect,
    /// `EvaluateConnection`: evaluate `ActionParameters` per connection.
    EvaluateConnection,
    /// `Ignore`: leave the VPN as is, do not reconnect on demand.
    Ignore,
}

/// `OnDemandRules[].InterfaceTypeMatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InterfaceType {
    /// `Ethernet`.
    Ethernet,
    /// `WiFi`.
    WiFi,
    /// `Cellular`.
    Cellular,
}

/// `ActionParameters[].DomainAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DomainAction {
    /// `ConnectIfNeeded`: connect when the domain does not resolve.
    ConnectIfNeeded,
    /// `NeverConnect`.
    NeverConnect,
}

/// An `ActionParameters` entry of an `EvaluateConnection` rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionParameter {
    /// `Domains`.
    #[serde(rename = "Domains")]
    pub domains: Vec<String>,
    /// `DomainAction`.
    #[serde(rename = "DomainAction")]
    pub domain_action: DomainAction,
    /// `RequiredDNSServers` (only with `ConnectIfNeeded`).
    #[serde(rename = "RequiredDNSServers", default, skip_serializing_if = "Option::is_none")]
    pub required_dns_servers: Option<Vec<String>>,
    /// `RequiredURLStringProbe` (only with `ConnectIfNeeded`).
    #[serde(rename = "RequiredURLStringProbe", default, skip_serializing_if = "Option::is_none")]
    pub required_url_string_probe: Option<String>,
}

/// An `OnDemandRules` entry: match conditions (all given ones must match) and an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnDemandRule {
    /// `Action`.
    #[serde(rename = "Action")]
    pub action: OnDemandAction,
    /// `ActionParameters` (only with `EvaluateConnection`).
    #[serde(rename = "ActionParameters", default, skip_serializing_if = "Option::is_none")]
    pub action_parameters: Option<Vec<ActionParameter>>,
    /// `DNSDomainMatch`: search domains, `*` prefix allowed.
    #[serde(rename = "DNSDomainMatch", default, skip_serializing_if = "Option::is_none")]
    pub dns_domain_match: Option<Vec<String>>,
    /// `DNSServerAddressMatch`: DNS server addresses, one trailing `*` allowed.
    #[serde(rename = "DNSServerAddressMatch", default, skip_serializing_if = "Option::is_none")]
    pub dns_server_address_match: Option<Vec<String>>,
    /// `InterfaceTypeMatch`.
    #[serde(rename = "InterfaceTypeMatch", default, skip_serializing_if = "Option::is_none")]
    pub interface_type_match: Option<InterfaceType>,
    /// `SSIDMatch`.
    #[serde(rename = "SSIDMatch", default, skip_serializing_if = "Option::is_none")]
    pub ssid_match: Option<Vec<String>>,
    /// `URLStringProbe`: matches when this URL answers 200 without redirect.
    #[serde(rename = "URLStringProbe", default, skip_serializing_if = "Option::is_none")]
    pub url_string_probe: Option<String>,
}

impl OnDemandRule {
    /// A rule with `action` and no match conditions (matches every network).
    pub fn new(action: OnDemandAction) -> OnDemandRule {
        OnDemandRule {
            action,
            action_parameters: None,
            dns_domain_match: None,
            dns_server_address_match: None,
            interface_type_match: None,
            ssid_match: None,
            url_string_probe: None,
        }
    }

    /// `Connect` always: the common "on demand, everywhere" rule.
    pub fn connect() -> OnDemandRule {
        OnDemandRule::new(OnDemandAction::Connect)
    }

    /// `Disconnect` on the given Wi-Fi networks (e.g. the hospital's own SSIDs).
    pub fn disconnect_on_ssids(ssids: Vec<String>) -> OnDemandRule {
        let mut r = OnDemandRule::new(OnDemandAction::Disconnect);
        r.interface_type_match = Some(InterfaceType::WiFi);
        r.ssid_match = Some(ssids);
        r
    }
}

/// Apple's rules for on-demand rule lists, at `path.OnDemandRules[i]`.
fn check_on_demand_rules(rules: Option<&[OnDemandRule]>, path: &str, out: &mut Vec<Issue>) {
    let Some(rules) = rules else { return };
    let base = key_path(path, "OnDemandRules");
    for (i, r) in rules.iter().enumerate() {
        let rp = index_path(&base, i);
        match (r.action, &r.action_parameters) {
            (OnDemandAction::EvaluateConnection, None) => {
                out.push(Issue::error(key_path(&rp, "ActionParameters"), "Action EvaluateConnection evaluates ActionParameters, which are missing"))
            }
            (OnDemandAction::EvaluateConnection, Some(_)) => {}
            (_, Some(_)) => out.push(Issue::error(key_path(&rp, "ActionParameters"), "ActionParameters are only used with Action EvaluateConnection")),
            (_, None) => {}
        }
        if r.action == OnDemandAction::Allow {
            out.push(Issue::warning(key_path(&rp, "Action"), "Action Allow is deprecated; use Connect or EvaluateConnection"));
        }
        for (j, p) in r.action_parameters.iter().flatten().enumerate() {
            let pp = index_path(&key_path(&rp, "ActionParameters"), j);
            if p.domain_action == DomainAction::NeverConnect {
                if p.required_dns_servers.is_some() {
                    out.push(Issue::error(key_path(&pp, "RequiredDNSServers"), "RequiredDNSServers is only valid with DomainAction ConnectIfNeeded"));
                }
                if p.required_url_string_probe.is_some() {
                    out.push(Issue::error(key_path(&pp, "RequiredURLStringProbe"), "RequiredURLStringProbe is only valid with DomainAction ConnectIfNeeded"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// com.apple.vpn.managed.applayer
// ---------------------------------------------------------------------------------------------

/// The keys a per-app VPN payload adds to the VPN payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLayerSettings {
    /// `VPNUUID`: the identifier apps (and Mail, Safari, ...) use to select this VPN; an app is
    /// associated by giving it this value as its `VPNUUID` attribute.
    #[serde(rename = "VPNUUID")]
    pub vpn_uuid: String,
    /// `CellularSliceUUID` (iOS 18+).
    #[serde(rename = "CellularSliceUUID", default, skip_serializing_if = "Option::is_none")]
    pub cellular_slice_uuid: Option<String>,
    /// `SafariDomains`: domains that trigger the VPN in Safari.
    #[serde(rename = "SafariDomains", default, skip_serializing_if = "Option::is_none")]
    pub safari_domains: Option<Vec<String>>,
    /// `MailDomains` (deprecated on iOS 13.4+).
    #[serde(rename = "MailDomains", default, skip_serializing_if = "Option::is_none")]
    pub mail_domains: Option<Vec<String>>,
    /// `CalendarDomains` (deprecated on iOS 13.4+).
    #[serde(rename = "CalendarDomains", default, skip_serializing_if = "Option::is_none")]
    pub calendar_domains: Option<Vec<String>>,
    /// `ContactsDomains` (deprecated on iOS 13.4+).
    #[serde(rename = "ContactsDomains", default, skip_serializing_if = "Option::is_none")]
    pub contacts_domains: Option<Vec<String>>,
    /// `AssociatedDomains`.
    #[serde(rename = "AssociatedDomains", default, skip_serializing_if = "Option::is_none")]
    pub associated_domains: Option<Vec<String>>,
    /// `ExcludedDomains`.
    #[serde(rename = "ExcludedDomains", default, skip_serializing_if = "Option::is_none")]
    pub excluded_domains: Option<Vec<String>>,
    /// `OnDemandMatchAppEnabled`: connect automatically when an associated app needs the network.
    #[serde(rename = "OnDemandMatchAppEnabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_match_app_enabled: Option<bool>,
    /// `SMBDomains`.
    #[serde(rename = "SMBDomains", default, skip_serializing_if = "Option::is_none")]
    pub smb_domains: Option<Vec<String>>,
}

impl AppLayerSettings {
    /// Settings with only `VPNUUID`.
    pub fn new(vpn_uuid: impl Into<String>) -> AppLayerSettings {
        AppLayerSettings {
            vpn_uuid: vpn_uuid.into(),
            cellular_slice_uuid: None,
            safari_domains: None,
            mail_domains: None,
            calendar_domains: None,
            contacts_domains: None,
            associated_domains: None,
            excluded_domains: None,
            on_demand_match_app_enabled: None,
            smb_domains: None,
        }
    }
}

/// The top-level keys of [`AppLayerSettings`], which [`AppLayerVpn`] separates from the VPN keys
/// when reading.
pub const APP_LAYER_KEYS: [&str; 10] = [
    "VPNUUID",
    "CellularSliceUUID",
    "SafariDomains",
    "MailDomains",
    "CalendarDomains",
    "ContactsDomains",
    "AssociatedDomains",
    "ExcludedDomains",
    "OnDemandMatchAppEnabled",
    "SMBDomains",
];

/// `com.apple.vpn.managed.applayer` payload (per-app VPN): a [`Vpn`] plus [`AppLayerSettings`],
/// written as one dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct AppLayerVpn {
    /// The VPN keys (`VPNType`, `VPN`, `VendorConfig`, ...).
    pub vpn: Vpn,
    /// The per-app keys (`VPNUUID`, `SafariDomains`, ...).
    pub app_layer: AppLayerSettings,
}

impl Serialize for AppLayerVpn {
    /// Both parts merged into one dictionary. (Serde's `flatten` would write optional values
    /// through the plist serializer as `{Some: ...}`, so the parts are encoded separately.)
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut d = match plist::to_value(&self.vpn).map_err(serde::ser::Error::custom)? {
            plist::Value::Dictionary(d) => d,
            _ => return Err(serde::ser::Error::custom("the VPN keys did not encode as a dictionary")),
        };
        if let plist::Value::Dictionary(app) = plist::to_value(&self.app_layer).map_err(serde::ser::Error::custom)? {
            for (k, v) in app {
                d.insert(k, v);
            }
        }
        d.serialize(s)
    }
}

impl AppLayerVpn {
    /// The per-app form of `vpn`, selected by apps through `vpn_uuid`.
    pub fn new(vpn: Vpn, vpn_uuid: impl Into<String>) -> AppLayerVpn {
        AppLayerVpn { vpn, app_layer: AppLayerSettings::new(vpn_uuid) }
    }

    /// `VPNUUID`.
    pub fn vpn_uuid(&self) -> &str {
        &self.app_layer.vpn_uuid
    }
}

impl<'de> Deserialize<'de> for AppLayerVpn {
    /// Splits the dictionary into the per-app keys and the VPN keys and reads each strictly, so
    /// an unknown key anywhere is refused (serde cannot combine `flatten` with
    /// `deny_unknown_fields`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let all = plist::Dictionary::deserialize(d)?;
        let mut app = plist::Dictionary::new();
        let mut rest = plist::Dictionary::new();
        for (k, v) in all {
            if APP_LAYER_KEYS.contains(&k.as_str()) {
                app.insert(k, v);
            } else {
                rest.insert(k, v);
            }
        }
        let vpn: Vpn = plist::from_value(&plist::Value::Dictionary(rest)).map_err(de::Error::custom)?;
        let app_layer: AppLayerSettings = plist::from_value(&plist::Value::Dictionary(app)).map_err(de::Error::custom)?;
        Ok(AppLayerVpn { vpn, app_layer })
    }
}

impl PayloadKind for AppLayerVpn {
    const TYPE: &'static str = "com.apple.vpn.managed.applayer";

    /// The VPN rules, plus a non-empty `VPNUUID`.
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        self.vpn.check_vpn(path, out);
        if self.app_layer.vpn_uuid.trim().is_empty() {
            out.push(Issue::error(key_path(path, "VPNUUID"), "VPNUUID must not be empty; apps select the VPN by it"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// com.apple.vpn.managed.appmapping
// ---------------------------------------------------------------------------------------------

/// A `MatchTools` entry: a helper tool of the app whose traffic the rule matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchTool {
    /// `DesignatedRequirement` of the tool.
    #[serde(rename = "DesignatedRequirement")]
    pub designated_requirement: String,
    /// `SigningIdentifier` of the tool.
    #[serde(rename = "SigningIdentifier")]
    pub signing_identifier: String,
    /// `Path` of the tool.
    #[serde(rename = "Path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// An `AppLayerVPNMapping` entry: one app and the per-app VPN it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppMappingItem {
    /// `Identifier`: the app's bundle identifier.
    #[serde(rename = "Identifier")]
    pub identifier: String,
    /// `VPNUUID` of the [`AppLayerVpn`] the app uses.
    #[serde(rename = "VPNUUID")]
    pub vpn_uuid: String,
    /// `DesignatedRequirement`: the app's code-signing designated requirement.
    #[serde(rename = "DesignatedRequirement")]
    pub designated_requirement: String,
    /// `SigningIdentifier`: the app's code-signing identifier.
    #[serde(rename = "SigningIdentifier")]
    pub signing_identifier: String,
    /// `Path` of the app's executable.
    #[serde(rename = "Path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `MatchTools`: limit the rule to these helper tools.
    #[serde(rename = "MatchTools", default, skip_serializing_if = "Option::is_none")]
    pub match_tools: Option<Vec<MatchTool>>,
}

impl AppMappingItem {
    /// A mapping for an app signed with its bundle identifier as signing identifier. The
    /// designated requirement is `identifier "<bundle id>" and anchor apple generic` (any
    /// Apple-issued signing certificate); supply the app's real requirement
    /// (`codesign -d -r- App.app`) when it is known.
    pub fn for_bundle(bundle_id: impl Into<String>, vpn_uuid: impl Into<String>) -> AppMappingItem {
        let id = bundle_id.into();
        AppMappingItem {
            designated_requirement: format!("identifier \"{id}\" and anchor apple generic"),
            signing_identifier: id.clone(),
            identifier: id,
            vpn_uuid: vpn_uuid.into(),
            path: None,
            match_tools: None,
        }
    }
}

/// `com.apple.vpn.managed.appmapping` payload (macOS): which apps use which per-app VPN. iOS has
/// no such payload; there an app is associated by its `VPNUUID` attribute when installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppMapping {
    /// `AppLayerVPNMapping`.
    #[serde(rename = "AppLayerVPNMapping")]
    pub mapping: Vec<AppMappingItem>,
}

impl AppMapping {
    /// A mapping of each bundle identifier to the per-app VPN `vpn_uuid` (see
    /// [`AppMappingItem::for_bundle`]).
    pub fn for_bundles<I, S>(bundle_ids: I, vpn_uuid: &str) -> AppMapping
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AppMapping { mapping: bundle_ids.into_iter().map(|b| AppMappingItem::for_bundle(b, vpn_uuid)).collect() }
    }
}

impl PayloadKind for AppMapping {
    const TYPE: &'static str = "com.apple.vpn.managed.appmapping";

    /// No empty identifiers, and one entry per app.
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let base = key_path(path, "AppLayerVPNMapping");
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.mapping.iter().enumerate() {
            let p = index_path(&base, i);
            for (key, v) in [
                ("Identifier", &m.identifier),
                ("VPNUUID", &m.vpn_uuid),
                ("DesignatedRequirement", &m.designated_requirement),
                ("SigningIdentifier", &m.signing_identifier),
            ] {
                if v.trim().is_empty() {
                    out.push(Issue::error(key_path(&p, key), format!("{key} must not be empty")));
                }
            }
            if !seen.insert(m.identifier.as_str()) {
                out.push(Issue::error(key_path(&p, "Identifier"), format!("{} is mapped more than once; an app uses one per-app VPN", m.identifier)));
            }
        }
    }
}

impl fmt::Display for VpnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VpnType::Vpn => "VPN",
            VpnType::L2tp => "L2TP",
            VpnType::IpSec => "IPSec",
            VpnType::IkeV2 => "IKEv2",
            VpnType::AlwaysOn => "AlwaysOn",
            VpnType::TransparentProxy => "TransparentProxy",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(v: &impl Serialize) -> plist::Dictionary {
        match plist::to_value(v).unwrap() {
            plist::Value::Dictionary(d) => d,
            other => panic!("not a dictionary: {other:?}"),
        }
    }

    #[test]
    fn int_bool_and_ranges_refuse_other_values() {
        assert_eq!(plist::to_value(&IntBool::ON).unwrap(), plist::Value::Integer(1.into()));
        assert!(plist::from_value::<IntBool>(&plist::Value::Integer(2.into())).is_err());
        assert!(plist::from_value::<IntBool>(&plist::Value::Boolean(true)).is_err());
        assert_eq!(plist::from_value::<IntBool>(&plist::Value::Integer(0.into())).unwrap(), IntBool::OFF);
        assert!(Mtu::new(1279).is_err());
        assert_eq!(Mtu::new(1400).unwrap().get(), 1400);
        assert!(plist::from_value::<LifetimeMinutes>(&plist::Value::Integer(5.into())).is_err());
        assert_eq!(DiffieHellmanGroup::from_value(14), Some(DiffieHellmanGroup::G14));
        assert!(plist::from_value::<DiffieHellmanGroup>(&plist::Value::Integer(3.into())).is_err());
        assert_eq!(plist::to_value(&DiffieHellmanGroup::G19).unwrap(), plist::Value::Integer(19.into()));
    }

    #[test]
    fn app_layer_keys_match_the_struct() {
        let mut s = AppLayerSettings::new("U");
        s.cellular_slice_uuid = Some("x".into());
        s.safari_domains = Some(vec![]);
        s.mail_domains = Some(vec![]);
        s.calendar_domains = Some(vec![]);
        s.contacts_domains = Some(vec![]);
        s.associated_domains = Some(vec![]);
        s.excluded_domains = Some(vec![]);
        s.on_demand_match_app_enabled = Some(true);
        s.smb_domains = Some(vec![]);
        let d = dict(&s);
        let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = APP_LAYER_KEYS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want);
    }

    #[test]
    fn app_layer_vpn_refuses_unknown_keys() {
        let v = AppLayerVpn::new(Vpn::provider("X", "com.example.vpn", "com.example.vpn.tunnel", ProviderType::PacketTunnel), "U");
        let mut d = dict(&v);
        let back: AppLayerVpn = plist::from_value(&plist::Value::Dictionary(d.clone())).unwrap();
        assert_eq!(back, v);
        d.insert("Bogus".into(), true.into());
        assert!(plist::from_value::<AppLayerVpn>(&plist::Value::Dictionary(d)).is_err());
    }

    #[test]
    fn on_demand_rule_checks() {
        let mut ike = IkeV2::new("vpn.example.org", "client", "vpn.example.org", IkeAuthMethod::SharedSecret);
        let mut eval = OnDemandRule::new(OnDemandAction::EvaluateConnection);
        eval.action_parameters = Some(vec![ActionParameter {
            domains: vec!["intranet.example.org".into()],
            domain_action: DomainAction::NeverConnect,
            required_dns_servers: Some(vec!["10.0.0.53".into()]),
            required_url_string_probe: None,
        }]);
        let mut connect = OnDemandRule::connect();
        connect.action_parameters = Some(vec![]);
        ike.on_demand_rules = Some(vec![OnDemandRule::new(OnDemandAction::EvaluateConnection), eval, connect]);
        let mut out = Vec::new();
        ike.check("P", &mut out);
        let paths: Vec<&str> = out.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            ["P.OnDemandRules[0].ActionParameters", "P.OnDemandRules[1].ActionParameters[0].RequiredDNSServers", "P.OnDemandRules[2].ActionParameters"]
        );
    }
}
