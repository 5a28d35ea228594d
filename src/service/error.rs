//! The service's error type; each variant knows its HTTP status (mapped at the edge in `http/`).

use crate::identity::IdentityError;
use crate::protocol::ParseError;
use crate::store::StoreError;

/// Why a device request failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The body is not a valid MDM message.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The device's certificate is missing, malformed or untrusted.
    #[error("{0}")]
    Identity(#[from] IdentityError),
    /// The certificate is not bound to any device (the device must Authenticate first).
    #[error("certificate is not bound to device {device}; the device must enroll (Authenticate) first")]
    CertNotBound {
        /// Device the message claims to be.
        device: String,
    },
    /// The certificate is bound to a different device.
    #[error("certificate does not belong to device {device}")]
    CertNotForDevice {
        /// Device the message claims to be.
        device: String,
    },
    /// An Authenticate's certificate may not take over the device it names.
    #[error("certificate refused for device {device}: {reason}")]
    CertRefused {
        /// Device the message claims to be.
        device: String,
        /// Why.
        reason: crate::identity::binding::Refusal,
    },
    /// The device never enrolled.
    #[error("unknown device or enrollment {0}")]
    UnknownEnrollment(String),
    /// A result for a command that was never queued for this enrollment.
    #[error("command {command} was not queued for {enrollment}")]
    UnknownCommand {
        /// Enrollment.
        enrollment: String,
        /// CommandUUID.
        command: String,
    },
    /// The message type is valid but this server does not serve it (e.g. GetToken).
    #[error("{0} is not supported by this server")]
    Unsupported(&'static str),
    /// UserAuthenticate when user authentication is not configured (Apple: answer 410).
    #[error("user authentication is not configured")]
    UserAuthNotConfigured,
    /// A value sealed at rest could not be sealed or opened (a server problem).
    #[error("sealed value: {0}")]
    Sealed(#[from] crate::secrets::SecretsError),
    /// Storage failed (a server problem: 500/503, never 401).
    #[error("storage: {0}")]
    Store(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownEnrollment(id) => ServiceError::UnknownEnrollment(id),
            StoreError::UnknownCommand { enrollment, command } => ServiceError::UnknownCommand { enrollment, command },
            StoreError::CertBoundElsewhere(_) => ServiceError::Identity(IdentityError::Untrusted("certificate is already bound to another device".into())),
            StoreError::CertRefused { device, reason } => ServiceError::CertRefused { device, reason },
            StoreError::NotBound { device, bound_to: Some(_) } => ServiceError::CertNotForDevice { device },
            StoreError::NotBound { device, bound_to: None } => ServiceError::CertNotBound { device },
            other => ServiceError::Store(other),
        }
    }
}
