//! `com.apple.mobiledevice.passwordpolicy`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.mobiledevice.passwordpolicy` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Passcode {
    /// Placeholder while the model is written.
    pub min_length: Option<i64>,
}

impl PayloadKind for Passcode {
    const TYPE: &'static str = "com.apple.mobiledevice.passwordpolicy";
}
