//! `mdm-profiles`: Apple configuration profiles as typed Rust values.
//!
//! - [`Profile`] / [`Payload`]: the top level and typed payloads ([`payloads`]), written to and
//!   read from plists with Apple's key spelling; unknown payload types pass through as
//!   [`payloads::Raw`].
//! - [`schema`]: validation against Apple's published profile schema, with a path for each finding.
//! - [`cms`]: signing (CMS SignedData) and per-device encryption (`EncryptedPayloadContent`).
//! - [`limits`]: depth, size and count limits for every plist and JSON document read from outside.
//! - [`vars`]: `{DeviceSerialNumber}`-style variables substituted per device.
#![forbid(unsafe_code)]

pub mod attributes;
pub mod cms;
pub mod issue;
pub mod limits;
pub mod payloads;
pub mod profile;
pub mod profile_service;
pub mod schema;
pub mod value;
pub mod vars;

pub use issue::{Issue, Severity};
pub use payloads::{PayloadBody, PayloadKind};
pub use profile::{Common, Payload, Profile, TopLevel};

/// Why a profile could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Not a plist.
    #[error("not a property list: {0}")]
    Plist(String),
    /// A plist, but not shaped like a profile.
    #[error("{0}")]
    Shape(String),
    /// A value could not be written as a plist.
    #[error("could not encode the profile: {0}")]
    Encode(String),
}
