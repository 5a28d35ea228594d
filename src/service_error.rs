//! The error of the services that answer admins (connectors, shared devices, compliance, the
//! device-trust factor): what went wrong in terms the API maps to a status once, at the edge.

use crate::store::StoreError;

/// Why a request to one of those services failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Malformed or invalid input (400).
    #[error("{0}")]
    BadRequest(String),
    /// Something named does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// Not possible in the current state: a name in use, an id two devices share (409).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not act on this (a kiosk token acting for another device) (403).
    #[error("{0}")]
    Forbidden(String),
    /// Storage failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else server-side (sealing, signing).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RequestError> for crate::api::ApiError {
    fn from(e: RequestError) -> Self {
        use crate::api::ApiError;
        match e {
            RequestError::BadRequest(m) => ApiError::BadRequest(m),
            RequestError::NotFound(m) => ApiError::NotFound(m),
            RequestError::Conflict(m) => ApiError::Conflict(m),
            RequestError::Forbidden(m) => ApiError::Forbidden(m),
            RequestError::Store(s) => s.into(),
            RequestError::Internal(m) => ApiError::Internal(m),
        }
    }
}
