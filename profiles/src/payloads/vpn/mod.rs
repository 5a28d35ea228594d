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

pub(crate) use crate::value::int_enum;
pub use crate::value::{Bounded, IntBool};

/// IKEv2 `MTU`: 1280 to 1400 bytes.
pub type Mtu = Bounded<1280, 1400>;
/// Security association `LifeTimeInMinutes`: 10 to 1440.
pub type LifetimeMinutes = Bounded<10, 1440>;

mod ikev2;
mod ipsec;
mod network;
mod on_demand;
mod per_app;
mod provider;

pub use ikev2::*;
pub use ipsec::*;
pub use network::*;
pub use on_demand::*;
pub use per_app::*;
pub use provider::*;

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
mod tests;
