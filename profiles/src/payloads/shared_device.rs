//! `com.apple.shareddeviceconfiguration`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.shareddeviceconfiguration` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SharedDevice {
    /// Placeholder while the model is written.
    pub lock_screen_footnote: Option<String>,
}

impl PayloadKind for SharedDevice {
    const TYPE: &'static str = "com.apple.shareddeviceconfiguration";
}
