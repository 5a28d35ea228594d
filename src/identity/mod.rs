//! Who is talking: the device's identity certificate, taken from mTLS, from a TLS-terminating
//! proxy's header, or from the `Mdm-Signature` header, and checked against the trusted CAs.
//! Binding a certificate to an enrollment happens in the service, on Authenticate.

pub mod access;
pub(crate) mod binding;
pub mod cert;
pub mod source;
pub(crate) mod trust;

pub use cert::DeviceCert;
pub use source::{extract, IdentityInputs, TlsPeer};
pub use trust::TrustPolicy;

/// Why a request's identity was refused. Never a server fault.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// No certificate in mTLS, the proxy header or Mdm-Signature.
    #[error("no device certificate: present a client certificate, the proxy header or Mdm-Signature")]
    NoCertificate,
    /// The Mdm-Signature header is not a valid detached CMS signature over this body.
    #[error("invalid Mdm-Signature: {0}")]
    BadSignature(String),
    /// The proxy's certificate header could not be parsed.
    #[error("invalid client certificate header: {0}")]
    BadHeader(String),
    /// A certificate could not be parsed.
    #[error("invalid certificate: {0}")]
    BadCertificate(String),
    /// The certificate does not chain to a trusted CA (or is expired).
    #[error("device certificate not trusted: {0}")]
    Untrusted(String),
    /// Two sources carried different certificates.
    #[error("client certificate and Mdm-Signature signer differ")]
    Conflict,
}
