//! `com.apple.vpn.managed`, `com.apple.vpn.managed.applayer` and `com.apple.vpn.managed.appmapping`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.vpn.managed` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Vpn {
    /// Placeholder while the model is written.
    #[serde(rename = "VPNType")]
    pub vpn_type: String,
}

impl PayloadKind for Vpn {
    const TYPE: &'static str = "com.apple.vpn.managed";
}

/// `com.apple.vpn.managed.applayer` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AppLayerVpn {
    /// Placeholder while the model is written.
    #[serde(rename = "VPNUUID")]
    pub vpn_uuid: String,
}

impl PayloadKind for AppLayerVpn {
    const TYPE: &'static str = "com.apple.vpn.managed.applayer";
}

/// `com.apple.vpn.managed.appmapping` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AppMapping {
    /// Placeholder while the model is written.
    #[serde(rename = "AppLayerVPNMapping")]
    pub mapping: Vec<plist::Dictionary>,
}

impl PayloadKind for AppMapping {
    const TYPE: &'static str = "com.apple.vpn.managed.appmapping";
}
