//! SCEP (RFC 8894): PKIMessage parsing and building for both the server side
//! (parse + decrypt requests, answer with signed CertReps) and the client side
//! (build requests, parse CertReps), GetCACaps/GetCACert helpers and, with the
//! default `client` feature, an async HTTP client.
//!
//! All cryptography is OpenSSL's (PKCS#7 via the `openssl` crate, plus a small
//! shim in `ffi.rs` for signed attributes, each unsafe block commented). No function panics on any
//! input; malformed, tampered or undecryptable messages yield a [`ScepError`].

#![warn(missing_docs)]
// Only the FFI module may use `unsafe` (OpenSSL calls the openssl crate does not wrap).
#![deny(unsafe_code)]

mod caps;
mod csr;
mod der;
#[allow(unsafe_code)]
mod ffi;
mod message;

#[cfg(feature = "client")]
pub mod client;

pub use caps::{server_caps, Caps};
pub use csr::{build_csr, challenge_password, self_signed_for, transaction_id_for};
pub use message::{
    degenerate_certs, encode_issuer_and_serial, encode_issuer_and_subject, issuer_and_subject, parse_cert_rep, parse_degenerate_certs, pick_recipient, CertRep,
    PkiMessage, RequestBuilder, Responder,
};

use std::fmt;
use std::sync::OnceLock;

/// Makes OpenSSL 3's "legacy" provider (single DES, RC2, …) available in
/// the default library context, keeping the default provider, once per
/// process. Returns whether it is loaded.
///
/// micromdm's `scepclient` and `scepserver` (≤ 2.1) encrypt with DES-CBC
/// whatever the capabilities say; decryption calls this automatically on
/// the first "unsupported algorithm" failure, so calling it is only needed
/// to avoid that first-use cost. It has a process-wide effect: legacy
/// algorithms become fetchable everywhere in the process.
pub fn enable_legacy_ciphers() -> bool {
    static LEGACY: OnceLock<Option<openssl::provider::Provider>> = OnceLock::new();
    LEGACY
        .get_or_init(|| {
            let p = openssl::provider::Provider::try_load(None, "legacy", true).ok();
            // A failed load leaves errors on the thread's queue; drop them.
            let _ = openssl::error::ErrorStack::get();
            p
        })
        .is_some()
}

/// The SCEP `messageType` attribute values (RFC 8894 §3.2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 3: response to a request (CertRep).
    CertRep,
    /// 17: renewal request, signed with an existing certificate.
    RenewalReq,
    /// 19: certificate enrollment request (PKCSReq).
    PkcsReq,
    /// 20: poll for a pending request (CertPoll, formerly GetCertInitial).
    CertPoll,
    /// 21: retrieve a certificate by issuer and serial (GetCert).
    GetCert,
    /// 22: retrieve a CRL (GetCRL).
    GetCrl,
}

impl MessageType {
    /// The numeric value carried (as a decimal PrintableString) on the wire.
    pub fn code(self) -> u32 {
        match self {
            MessageType::CertRep => 3,
            MessageType::RenewalReq => 17,
            MessageType::PkcsReq => 19,
            MessageType::CertPoll => 20,
            MessageType::GetCert => 21,
            MessageType::GetCrl => 22,
        }
    }

    /// The message type for a numeric value, if known.
    pub fn from_code(code: u32) -> Option<MessageType> {
        Some(match code {
            3 => MessageType::CertRep,
            17 => MessageType::RenewalReq,
            19 => MessageType::PkcsReq,
            20 => MessageType::CertPoll,
            21 => MessageType::GetCert,
            22 => MessageType::GetCrl,
            _ => return None,
        })
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            MessageType::CertRep => "CertRep",
            MessageType::RenewalReq => "RenewalReq",
            MessageType::PkcsReq => "PKCSReq",
            MessageType::CertPoll => "CertPoll",
            MessageType::GetCert => "GetCert",
            MessageType::GetCrl => "GetCRL",
        };
        write!(f, "{name}({})", self.code())
    }
}

/// The SCEP `pkiStatus` attribute values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PkiStatus {
    /// 0: request granted.
    Success,
    /// 2: request rejected (see [`FailInfo`]).
    Failure,
    /// 3: request pending manual approval; poll with CertPoll.
    Pending,
}

impl PkiStatus {
    /// The numeric value on the wire.
    pub fn code(self) -> u32 {
        match self {
            PkiStatus::Success => 0,
            PkiStatus::Failure => 2,
            PkiStatus::Pending => 3,
        }
    }

    /// The status for a numeric value, if known.
    pub fn from_code(code: u32) -> Option<PkiStatus> {
        Some(match code {
            0 => PkiStatus::Success,
            2 => PkiStatus::Failure,
            3 => PkiStatus::Pending,
            _ => return None,
        })
    }
}

/// The SCEP `failInfo` attribute values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailInfo {
    /// 0: unrecognized or unsupported algorithm.
    BadAlg,
    /// 1: integrity check (signature verification) failed.
    BadMessageCheck,
    /// 2: transaction not permitted or supported.
    BadRequest,
    /// 3: signingTime not close enough to the system time.
    BadTime,
    /// 4: no certificate could be identified matching the criteria.
    BadCertId,
}

impl FailInfo {
    /// The numeric value on the wire.
    pub fn code(self) -> u32 {
        match self {
            FailInfo::BadAlg => 0,
            FailInfo::BadMessageCheck => 1,
            FailInfo::BadRequest => 2,
            FailInfo::BadTime => 3,
            FailInfo::BadCertId => 4,
        }
    }

    /// The fail info for a numeric value, if known.
    pub fn from_code(code: u32) -> Option<FailInfo> {
        Some(match code {
            0 => FailInfo::BadAlg,
            1 => FailInfo::BadMessageCheck,
            2 => FailInfo::BadRequest,
            3 => FailInfo::BadTime,
            4 => FailInfo::BadCertId,
            _ => return None,
        })
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum ScepError {
    /// The input is not a well-formed structure of the expected kind.
    #[error("malformed SCEP message: {0}")]
    Malformed(String),
    /// The PKCS#7 signature (or messageDigest) does not verify, or the signer
    /// is not among the expected certificates.
    #[error("SCEP message signature verification failed: {0}")]
    BadSignature(openssl::error::ErrorStack),
    /// A required SCEP signed attribute is absent.
    #[error("SCEP message lacks the {0} attribute")]
    MissingAttribute(&'static str),
    /// A SCEP signed attribute has the wrong type or an unparsable value.
    #[error("invalid SCEP {name} attribute: {reason}")]
    InvalidAttribute {
        /// The attribute's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The messageType value is not one RFC 8894 defines.
    #[error("unknown SCEP messageType {0:?}")]
    UnknownMessageType(String),
    /// The message type is valid but not acceptable here (e.g. a CertRep given
    /// to the request parser).
    #[error("unexpected SCEP message type {0}")]
    UnexpectedMessageType(MessageType),
    /// The signer's digest algorithm is unknown or unsupported.
    #[error("unsupported digest algorithm (NID {0})")]
    UnsupportedDigest(i32),
    /// The enveloped content could not be decrypted with the given
    /// certificate and key (wrong recipient, corrupt data, unsupported cipher).
    #[error("cannot decrypt the SCEP pkcsPKIEnvelope: {0}")]
    Decrypt(openssl::error::ErrorStack),
    /// The decrypted content is not what the message type requires.
    #[error("invalid SCEP message content: {0}")]
    InvalidContent(String),
    /// The CSR's challengePassword attribute is not a readable string.
    #[error("invalid challengePassword attribute: {0}")]
    InvalidChallenge(String),
    /// A CertRep does not belong to our request (transaction ID or nonce).
    #[error("CertRep does not match the request: {0}")]
    Mismatch(String),
    /// Any other OpenSSL failure (allocation, key mismatch, …).
    #[error("OpenSSL error: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    /// HTTP transport failure (client only).
    #[error("SCEP HTTP request failed: {0}")]
    Http(String),
    /// The server answered with an unexpected HTTP status (client only).
    #[error("SCEP server answered HTTP {status}: {body}")]
    HttpStatus {
        /// The HTTP status code.
        status: u16,
        /// The beginning of the response body.
        body: String,
    },
    /// The server's answer is not usable (client only).
    #[error("unusable SCEP server response: {0}")]
    BadResponse(String),
    /// An internal failure that should not happen.
    #[error("internal SCEP error: {0}")]
    Internal(String),
}
