//! A parsed device certificate and the facts the server keeps about it.

use openssl::x509::X509;

use super::IdentityError;

/// A device identity certificate with its chain as presented.
#[derive(Clone)]
pub struct DeviceCert {
    /// The leaf certificate.
    pub cert: X509,
    /// Intermediates presented with it (may be empty).
    pub chain: Vec<X509>,
    /// Hex SHA-256 of the leaf's DER: the binding key.
    pub hash: String,
}

impl std::fmt::Debug for DeviceCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCert").field("subject", &self.subject()).field("hash", &self.hash).finish()
    }
}

impl DeviceCert {
    /// Wraps a leaf certificate and its presented chain.
    pub fn new(cert: X509, chain: Vec<X509>) -> Result<DeviceCert, IdentityError> {
        let der = cert.to_der().map_err(|e| IdentityError::BadCertificate(e.to_string()))?;
        Ok(DeviceCert { hash: sha256_hex(&der), cert, chain })
    }

    /// Parses a DER leaf.
    pub fn from_der(der: &[u8]) -> Result<DeviceCert, IdentityError> {
        let cert = X509::from_der(der).map_err(|e| IdentityError::BadCertificate(e.to_string()))?;
        DeviceCert::new(cert, Vec::new())
    }

    /// Subject as one line (`CN=..., O=...`).
    pub fn subject(&self) -> String {
        name_line(self.cert.subject_name())
    }

    /// Issuer as one line.
    pub fn issuer(&self) -> String {
        name_line(self.cert.issuer_name())
    }

    /// notAfter as a UTC timestamp.
    pub fn not_after(&self) -> Option<chrono::NaiveDateTime> {
        asn1_to_naive(self.cert.not_after())
    }
}

pub use mdm_pki::x509::{asn1_to_naive, name_line, sha256, sha256_hex, verify_chain, verify_chain_until};
