//! `com.apple.applicationaccess`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.applicationaccess` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Restrictions {
    /// Placeholder while the model is written.
    pub allow_camera: Option<bool>,
}

impl PayloadKind for Restrictions {
    const TYPE: &'static str = "com.apple.applicationaccess";
}
