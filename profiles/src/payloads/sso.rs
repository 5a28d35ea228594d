//! `com.apple.extensiblesso`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.extensiblesso` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ExtensibleSso {
    /// Placeholder while the model is written.
    pub extension_identifier: String,
}

impl PayloadKind for ExtensibleSso {
    const TYPE: &'static str = "com.apple.extensiblesso";
}
