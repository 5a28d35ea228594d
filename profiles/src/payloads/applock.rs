//! `com.apple.app.lock`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.app.lock` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AppLock {
    /// Placeholder while the model is written.
    pub app: plist::Dictionary,
}

impl PayloadKind for AppLock {
    const TYPE: &'static str = "com.apple.app.lock";
}
