//! `com.apple.mdm`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.mdm` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Mdm {
    /// Placeholder while the model is written.
    #[serde(rename = "ServerURL")] pub server_url: String,
}

impl PayloadKind for Mdm {
    const TYPE: &'static str = "com.apple.mdm";
}
