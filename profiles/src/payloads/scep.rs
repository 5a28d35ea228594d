//! `com.apple.security.scep`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.security.scep` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Scep {
    /// Placeholder while the model is written.
    pub payload_content: plist::Dictionary,
}

impl PayloadKind for Scep {
    const TYPE: &'static str = "com.apple.security.scep";
}
