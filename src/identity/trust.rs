//! Which device certificates are trusted: those chaining to the configured CAs, or (explicit
//! development option) any certificate at all.

use std::path::PathBuf;

use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::X509;

use super::{DeviceCert, IdentityError};

/// The configured trust decision.
#[derive(Clone)]
pub enum TrustPolicy {
    /// Certificates must chain (with any presented intermediates) to one of these roots.
    Ca(std::sync::Arc<X509Store>),
    /// Any certificate is accepted (it is still bound to one device on Authenticate).
    Any,
}

impl std::fmt::Debug for TrustPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustPolicy::Ca(_) => f.write_str("TrustPolicy::Ca"),
            TrustPolicy::Any => f.write_str("TrustPolicy::Any"),
        }
    }
}

/// A trust store could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot load trusted CA {path}: {message}")]
pub struct TrustLoadError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl TrustPolicy {
    /// Builds a CA policy from PEM files (each may hold several certificates).
    pub fn from_pem_files(files: &[PathBuf]) -> Result<TrustPolicy, TrustLoadError> {
        let mut pems = Vec::new();
        for path in files {
            let pem = std::fs::read(path).map_err(|e| TrustLoadError { path: path.clone(), message: e.to_string() })?;
            pems.push((path.clone(), pem));
        }
        let mut builder = X509StoreBuilder::new().map_err(|e| TrustLoadError { path: PathBuf::new(), message: e.to_string() })?;
        for (path, pem) in pems {
            let certs = X509::stack_from_pem(&pem).map_err(|e| TrustLoadError { path: path.clone(), message: e.to_string() })?;
            if certs.is_empty() {
                return Err(TrustLoadError { path, message: "no certificate in file".into() });
            }
            for c in certs {
                builder.add_cert(c).map_err(|e| TrustLoadError { path: path.clone(), message: e.to_string() })?;
            }
        }
        Ok(TrustPolicy::Ca(std::sync::Arc::new(builder.build())))
    }

    /// Checks a presented certificate; `Ok` means it may be used as a device identity, and says
    /// until when that holds for this certificate and chain (`None`: unknown, ask again). Under
    /// [`TrustPolicy::Any`] that is the leaf's notAfter.
    pub fn check(&self, cert: &DeviceCert) -> Result<Option<chrono::NaiveDateTime>, IdentityError> {
        let TrustPolicy::Ca(store) = self else { return Ok(cert.not_after()) };
        super::cert::verify_chain_until(store, &cert.cert, &cert.chain).map_err(IdentityError::Untrusted)
    }
}
