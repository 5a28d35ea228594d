//! `com.apple.webClip.managed`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;

/// `com.apple.webClip.managed` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct WebClip {
    /// Placeholder while the model is written.
    #[serde(rename = "URL")] pub url: String,
}

impl PayloadKind for WebClip {
    const TYPE: &'static str = "com.apple.webClip.managed";
}
