//! Sealing secrets the database keeps (push certificate private keys): AES-256-GCM under a
//! 32-byte key that lives outside the database (`[secrets] key_file`, written by `mdm init`, or
//! `MDM_SECRETS_KEY`). A stolen database dump alone does not reveal the keys.
//!
//! Sealed format: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The caller passes associated data
//! (e.g. the push topic) so a sealed value cannot be moved to another row unnoticed.

use std::path::Path;

use base64::Engine;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

const VERSION: u8 = 1;
const NONCE: usize = 12;
const TAG: usize = 16;

/// Errors loading the key or sealing/opening a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No key is configured.
    #[error("no secrets key configured: set [secrets] key_file (mdm init writes certs/secrets.key) or MDM_SECRETS_KEY")]
    NotConfigured,
    /// The key file could not be read.
    #[error("cannot read secrets key {path}: {source}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The key is not 32 bytes of base64.
    #[error("secrets key must be 32 bytes, base64-encoded")]
    BadKey,
    /// The sealed value is malformed, or was sealed under another key or for another row.
    #[error("sealed value cannot be opened (wrong secrets key or corrupted data)")]
    Open,
    /// OpenSSL failed while sealing.
    #[error("sealing failed: {0}")]
    Seal(#[from] openssl::error::ErrorStack),
}

/// The sealing key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

impl SecretKey {
    /// Parses base64 text (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<SecretKey, SecretsError> {
        let raw = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| SecretsError::BadKey)?;
        let key: [u8; 32] = raw.as_slice().try_into().map_err(|_| SecretsError::BadKey)?;
        Ok(SecretKey(key))
    }

    /// Reads a key file holding base64 text.
    pub fn load(path: &Path) -> Result<SecretKey, SecretsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretsError::Read { path: path.display().to_string(), source })?;
        SecretKey::from_base64(&text)
    }

    /// A fresh random key as base64 text (what `mdm init` writes).
    pub fn generate_base64() -> Result<String, SecretsError> {
        let mut raw = [0u8; 32];
        openssl::rand::rand_bytes(&mut raw)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// A key for one purpose, derived from this one (HMAC-SHA256 of the purpose's name), so a
    /// MAC made for that purpose says nothing about the sealing key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let tag = ring::hmac::sign(&k, purpose.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Encrypts and authenticates `plaintext`, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let mut nonce = [0u8; NONCE];
        openssl::rand::rand_bytes(&mut nonce)?;
        let mut tag = [0u8; TAG];
        let ct = encrypt_aead(Cipher::aes_256_gcm(), &self.0, Some(&nonce), aad, plaintext, &mut tag)?;
        let mut out = Vec::with_capacity(1 + NONCE + ct.len() + TAG);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens a value made by [`SecretKey::seal`] with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecretsError> {
        if sealed.len() < 1 + NONCE + TAG || sealed[0] != VERSION {
            return Err(SecretsError::Open);
        }
        let (nonce, rest) = sealed[1..].split_at(NONCE);
        let (ct, tag) = rest.split_at(rest.len() - TAG);
        decrypt_aead(Cipher::aes_256_gcm(), &self.0, Some(nonce), aad, ct, tag).map_err(|_| SecretsError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_base64(&SecretKey::generate_base64().unwrap()).unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_binding() {
        let k = key();
        let sealed = k.seal(b"private key bytes", b"topic-a").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(k.open(&sealed, b"topic-a").unwrap(), b"private key bytes");
        assert!(matches!(k.open(&sealed, b"topic-b"), Err(SecretsError::Open)));
        assert!(matches!(key().open(&sealed, b"topic-a"), Err(SecretsError::Open)));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(k.open(&tampered, b"topic-a"), Err(SecretsError::Open)));
        assert!(matches!(k.open(b"\x01short", b"topic-a"), Err(SecretsError::Open)));
    }

    #[test]
    fn bad_keys_are_refused_and_never_printed() {
        assert!(matches!(SecretKey::from_base64("c2hvcnQ="), Err(SecretsError::BadKey)));
        assert!(matches!(SecretKey::from_base64("not base64!"), Err(SecretsError::BadKey)));
        let text = SecretKey::generate_base64().unwrap();
        let k = SecretKey::from_base64(&format!("  {text}\n")).unwrap();
        assert_eq!(format!("{k:?}"), "SecretKey(..)");
    }
}
