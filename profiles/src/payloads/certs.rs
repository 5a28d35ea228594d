//! Certificate payloads: `com.apple.security.root`, `pkcs1`, `pem`, `pkcs12`.

use serde::{Deserialize, Serialize};

use super::PayloadKind;
use crate::value::Data;

macro_rules! cert_payload {
    ($name:ident, $ty:expr) => {
        #[doc = concat!("`", $ty, "` payload.")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase", deny_unknown_fields)]
        pub struct $name {
            /// Placeholder while the model is written.
            pub payload_content: Data,
        }

        impl PayloadKind for $name {
            const TYPE: &'static str = $ty;
        }
    };
}

cert_payload!(Root, "com.apple.security.root");
cert_payload!(Pkcs1, "com.apple.security.pkcs1");
cert_payload!(Pem, "com.apple.security.pem");
cert_payload!(Pkcs12, "com.apple.security.pkcs12");
