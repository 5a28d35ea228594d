//! `com.apple.wifi.managed`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.wifi.managed` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Wifi {
    /// Placeholder while the model is written.
    #[serde(rename = "SSID_STR")] pub ssid: String,
}

impl PayloadKind for Wifi {
    const TYPE: &'static str = "com.apple.wifi.managed";
}
