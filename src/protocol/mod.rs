//! Apple MDM wire types only: check-in messages, the command envelope and command reports.
//! Nothing here knows about storage or HTTP. Key names follow Apple's device-management schema.

pub mod checkin;
pub(crate) mod command;
pub(crate) mod dict;
pub(crate) mod enrollment;
pub mod report;

/// A body that is not a usable MDM plist. Every variant is the sender's fault (a 4xx).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Not a plist at all.
    #[error("body is not a valid plist: {0}")]
    NotPlist(String),
    /// A plist past one of the document limits (depth, values, sizes).
    #[error("plist refused: {0}")]
    Limit(mdm_profiles::limits::LimitError),
    /// The top level is not a dictionary.
    #[error("plist top level must be a dictionary")]
    NotDictionary,
    /// A required key is absent.
    #[error("missing required key {0}")]
    Missing(&'static str),
    /// A key has the wrong plist type.
    #[error("key {key} must be {expected}")]
    WrongType {
        /// The key.
        key: &'static str,
        /// The plist type Apple specifies.
        expected: &'static str,
    },
    /// MessageType names no check-in message Apple defines.
    #[error("unknown MessageType {0:?}")]
    UnknownMessageType(String),
    /// Status names no command status Apple defines.
    #[error("unknown Status {0:?}")]
    UnknownStatus(String),
    /// Neither UDID nor EnrollmentID identifies the device.
    #[error("message has neither UDID nor EnrollmentID")]
    NoDeviceId,
    /// A value is present but unusable.
    #[error("invalid {key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// Parses a plist body (XML or binary) into its top-level dictionary, within the document
/// limits of [`mdm_profiles::limits`] (checked while the tree is built).
pub fn parse_dict(body: &[u8]) -> Result<plist::Dictionary, ParseError> {
    let value = mdm_profiles::limits::parse_plist(body).map_err(|e| match e {
        mdm_profiles::limits::LimitError::Malformed(why) => ParseError::NotPlist(why),
        limit => ParseError::Limit(limit),
    })?;
    value.into_dictionary().ok_or(ParseError::NotDictionary)
}

pub use mdm_profiles::limits::to_xml;
