//! Apple MDM push certificates: parsing .p12 and PEM, topic, expiry.
//!
//! An admin uploads the certificate they got from Apple's Push Certificates Portal together with
//! its private key, either as a PKCS#12 file (what macOS Keychain Access exports) or as PEM. The
//! constructors here find the certificate that belongs to the key, check that it really is an
//! MDM push certificate (subject UID `com.apple.mgmt.External.<uuid>`, the APNs topic) and that
//! it is currently valid, and keep the chain as PEM and the key as PKCS#8 DER — the two things
//! the database stores ([`PushCert::from_stored`] rebuilds the value from them).
//!
//! Every [`PushCertError`] except [`PushCertError::Openssl`] describes a problem with the
//! uploaded file and is meant to be shown to the admin; none of them ever contains key material
//! or the password.

use std::sync::OnceLock;

use crate::identity::cert::{asn1_to_naive, name_line};
use chrono::{NaiveDateTime, TimeDelta};
use openssl::asn1::Asn1TimeRef;
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::provider::Provider;
use openssl::x509::{X509Ref, X509};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Every MDM push topic (the certificate's subject UID) starts with this.
pub const TOPIC_PREFIX: &str = "com.apple.mgmt.External.";

/// How far in the future a certificate's notBefore may lie and still be accepted on upload, to
/// tolerate a server clock that is slightly behind Apple's (a freshly issued certificate is
/// otherwise refused for the first seconds or minutes of its life).
pub const NOT_BEFORE_SKEW: TimeDelta = TimeDelta::minutes(5);

/// `ERR_LIB_PKCS12` from OpenSSL's `err.h` (not exported by `openssl-sys`).
const ERR_LIB_PKCS12: i32 = 35;
/// `PKCS12_R_MAC_VERIFY_FAILURE` from OpenSSL's `pkcs12err.h` (not exported by `openssl-sys`).
const PKCS12_R_MAC_VERIFY_FAILURE: i32 = 113;

/// Why an uploaded or stored push certificate was refused.
///
/// All variants except [`PushCertError::Openssl`] are problems with the input (see
/// [`PushCertError::is_client_error`]); their messages are written for admins.
#[derive(Debug, thiserror::Error)]
pub enum PushCertError {
    /// The PKCS#12 password is wrong (its MAC did not verify).
    #[error("wrong password for the PKCS#12 (.p12) file")]
    WrongPassword,
    /// The bytes are not a PKCS#12 file at all (or it is truncated / corrupt).
    #[error("not a valid PKCS#12 (.p12) file: {0}")]
    InvalidPkcs12(String),
    /// The PKCS#12 structure and password are fine, but its contents could not be decrypted or
    /// read.
    #[error(
        "could not read the contents of the PKCS#12 (.p12) file (corrupt, or encrypted with an \
         algorithm this server cannot decrypt): {0}"
    )]
    Pkcs12Contents(String),
    /// The PEM text is malformed or a certificate in it cannot be read.
    #[error("not a valid PEM file: {0}")]
    InvalidPem(String),
    /// The PEM private key is protected by a passphrase, which is not supported.
    #[error(
        "the private key is encrypted with a passphrase; export it without one, or upload a \
         .p12 file with its password instead"
    )]
    EncryptedKey,
    /// A private key could not be read.
    #[error("the private key could not be read: {0}")]
    InvalidKey(String),
    /// A certificate could not be interpreted (e.g. its validity dates are out of range).
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// The input holds no certificate.
    #[error("no certificate found; the upload must contain the push certificate")]
    NoCertificate,
    /// The input holds no private key.
    #[error("no private key found; the upload must contain the push certificate's private key")]
    NoPrivateKey,
    /// None of the certificates belongs to the private key.
    #[error(
        "the private key does not match the certificate; upload the key that was used to \
         request this push certificate"
    )]
    KeyMismatch,
    /// The certificate is not an Apple MDM push certificate.
    #[error(
        "not an MDM push certificate: {reason} (subject: {subject}). The topic (subject UID) \
         must look like com.apple.mgmt.External.<uuid>; this is likely not the MDM push \
         certificate from Apple's Push Certificates Portal (https://identity.apple.com)"
    )]
    NotPushCert {
        /// The certificate's subject, one line.
        subject: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate has expired.
    #[error(
        "the push certificate expired on {not_after} UTC; renew it at Apple's Push \
         Certificates Portal (https://identity.apple.com) and upload the new one"
    )]
    Expired {
        /// When it expired (UTC).
        not_after: NaiveDateTime,
    },
    /// The certificate's validity period has not started yet.
    #[error("the push certificate is not valid until {not_before} UTC (check the server clock)")]
    NotYetValid {
        /// When it becomes valid (UTC).
        not_before: NaiveDateTime,
    },
    /// OpenSSL failed on an operation that should not fail for valid input (a server error).
    #[error("openssl: {0}")]
    Openssl(#[from] ErrorStack),
}

impl PushCertError {
    /// True when the error is the uploader's fault (answer 4xx with the message), false for
    /// internal failures (answer 5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, PushCertError::Openssl(_))
    }
}

/// An MDM push certificate with its private key, validated.
///
/// The key is kept as PKCS#8 DER, is never printed by `Debug`, and is overwritten with zeros
/// when the value is dropped (best effort: copies made elsewhere are not tracked).
#[derive(Clone)]
pub struct PushCert {
    /// APNs topic: the subject UID, `com.apple.mgmt.External.<uuid>`.
    pub topic: String,
    /// The subject on one line, in certificate order, e.g. `UID=com.apple.mgmt..., CN=APSP:..., C=US`.
    pub subject: String,
    /// Start of validity (UTC).
    pub not_before: NaiveDateTime,
    /// End of validity (UTC).
    pub not_after: NaiveDateTime,
    /// PEM text: the push certificate first, then any other certificates that came with it.
    pub cert_chain_pem: String,
    /// A development push certificate (`mdm init`'s, marked with
    /// [`mdm_pki::DEVELOPMENT_PUSH_OU`]): usable only with `push.development = true`.
    pub development: bool,
    key_pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for PushCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushCert")
            .field("topic", &self.topic)
            .field("subject", &self.subject)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Drop for PushCert {
    fn drop(&mut self) {
        // Best-effort zeroing without an extra crate: overwrite the key, then pass it through
        // black_box so the compiler cannot treat the stores as dead and remove them.
        self.key_pkcs8_der.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&mut self.key_pkcs8_der);
    }
}

impl PushCert {
    /// Parses a PKCS#12 (.p12) file holding the push certificate and its key (plus, optionally,
    /// chain certificates). Both modern (AES-256-CBC/PBKDF2, OpenSSL 3's default) and legacy
    /// (RC2-40 / 3DES, what macOS Keychain exports) encryption are accepted. Refuses expired
    /// and not-yet-valid certificates.
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<PushCert, PushCertError> {
        if der.is_empty() {
            return Err(PushCertError::InvalidPkcs12("the file is empty".into()));
        }
        // The openssl crate turns the password into a CString with unwrap(): a NUL byte would
        // panic. No real password contains one, so it is simply a wrong password.
        if password.contains('\0') {
            return Err(PushCertError::WrongPassword);
        }
        let p12 = Pkcs12::from_der(der).map_err(|e| PushCertError::InvalidPkcs12(brief(&e)))?;
        // The legacy provider is loaded before the first parse rather than only after a failed
        // one: decryption with RC2 happens after the MAC check, so a retry would gain nothing
        // for wrong passwords, and loading first avoids depending on OpenSSL re-fetching an
        // algorithm whose lookup already failed once in this process. If it cannot be loaded,
        // modern files still parse and legacy ones fail with `Pkcs12Contents`.
        legacy_provider_loaded();
        let parsed =
            p12.parse2(password).map_err(|e| if is_mac_failure(&e) { PushCertError::WrongPassword } else { PushCertError::Pkcs12Contents(brief(&e)) })?;
        let mut certs = Vec::new();
        certs.extend(parsed.cert);
        if let Some(ca) = parsed.ca {
            certs.extend(ca);
        }
        let keys: Vec<PKey<Private>> = parsed.pkey.into_iter().collect();
        assemble(keys, certs, Some(now_utc()))
    }

    /// Parses PEM: `cert_pem` holds the certificate (and optionally chain certificates),
    /// `key_pem` the unencrypted private key as PKCS#1 (`RSA PRIVATE KEY`), PKCS#8
    /// (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`). Passphrase-protected keys are refused with
    /// [`PushCertError::EncryptedKey`]. Refuses expired and not-yet-valid certificates.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<PushCert, PushCertError> {
        let certs = pem_certs(&pem_blocks(cert_pem)?)?;
        let keys = pem_keys(&pem_blocks(key_pem)?)?;
        assemble(keys, certs, Some(now_utc()))
    }

    /// Parses one PEM file holding both the certificate(s) and the private key, in any order
    /// (e.g. the output of `openssl pkcs12 -nodes`). Same rules as [`PushCert::from_pem`].
    pub fn from_combined_pem(pem: &[u8]) -> Result<PushCert, PushCertError> {
        let blocks = pem_blocks(pem)?;
        assemble(pem_keys(&blocks)?, pem_certs(&blocks)?, Some(now_utc()))
    }

    /// Parses an upload of unknown format: PEM if it starts with `-----BEGIN` (after
    /// whitespace or a UTF-8 byte order mark), or if it is text with a PEM block after some
    /// leading text such as openssl's `Bag Attributes`; otherwise PKCS#12, with `password`
    /// (`None` means the empty password). For PEM the password is ignored.
    pub fn from_upload(data: &[u8], password: Option<&str>) -> Result<PushCert, PushCertError> {
        if looks_like_pem(data) {
            PushCert::from_combined_pem(data)
        } else {
            PushCert::from_pkcs12(data, password.unwrap_or(""))
        }
    }

    /// Rebuilds the value from what the database keeps ([`PushCert::cert_chain_pem`] and
    /// [`PushCert::key_pkcs8_der`]). Checks that it is a push certificate and that the key
    /// matches, but does not refuse an expired certificate: a stored certificate that has
    /// expired since must still load so it can be reported (see [`PushCert::is_expired`]).
    pub fn from_stored(cert_chain_pem: &str, key_pkcs8_der: &[u8]) -> Result<PushCert, PushCertError> {
        let certs = pem_certs(&pem_blocks(cert_chain_pem.as_bytes())?)?;
        let key = PKey::private_key_from_pkcs8(key_pkcs8_der).map_err(|e| PushCertError::InvalidKey(brief(&e)))?;
        assemble(vec![key], certs, None)
    }

    /// The private key, PKCS#8 DER. Secret: store it encrypted, never log it.
    pub fn key_pkcs8_der(&self) -> &[u8] {
        &self.key_pkcs8_der
    }

    /// Whole days until expiry: floor((not_after - now) / 1 day); negative once expired.
    pub fn days_left(&self, now: NaiveDateTime) -> i64 {
        (self.not_after - now).num_seconds().div_euclid(86_400)
    }

    /// True once `now` is past `not_after`.
    pub fn is_expired(&self, now: NaiveDateTime) -> bool {
        now > self.not_after
    }

    /// The certificate chain (push certificate first) as DER and the key as PKCS#8, ready for
    /// a rustls client configuration (`with_client_auth_cert`).
    #[allow(clippy::type_complexity)]
    pub fn rustls_identity(&self) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), PushCertError> {
        let certs = X509::stack_from_pem(self.cert_chain_pem.as_bytes()).map_err(|e| PushCertError::InvalidPem(brief(&e)))?;
        if certs.is_empty() {
            return Err(PushCertError::NoCertificate);
        }
        let chain = certs.iter().map(|c| c.to_der().map(CertificateDer::from)).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8_der.clone()));
        Ok((chain, key))
    }
}

/// The APNs topic of a push certificate: its subject UID (OID 0.9.2342.19200300.100.1.1),
/// which must be [`TOPIC_PREFIX`] (`com.apple.mgmt.External.`) followed by a UUID.
pub fn topic_of(cert: &X509Ref) -> Result<String, PushCertError> {
    let subject = cert.subject_name();
    let not_push = |reason: String| PushCertError::NotPushCert { subject: name_line(subject), reason };
    let Some(entry) = subject.entries_by_nid(Nid::USERID).next() else {
        return Err(not_push("the subject has no UID".into()));
    };
    let uid = entry.data().to_string().map_err(|_| not_push("the subject UID is not valid text".into()))?;
    match uid.strip_prefix(TOPIC_PREFIX) {
        Some(rest) if rest.len() == 36 && uuid::Uuid::try_parse(rest).is_ok() => Ok(uid),
        _ => Err(not_push(format!("the subject UID {uid:?} is not {TOPIC_PREFIX}<uuid>"))),
    }
}

/// Loads OpenSSL 3's "legacy" provider (RC2, needed for legacy-encrypted .p12 files) once per
/// process; returns whether it is available.
///
/// `try_load(.., retain_fallbacks = true)` keeps the default provider available: loading a
/// provider explicitly would otherwise switch off the implicit loading of the default one.
/// The `Provider` handle lives in a static that is never dropped, i.e. it is deliberately
/// leaked: dropping it would unload the provider and make RC2 unavailable again, and it has to
/// stay loaded for the life of the process anyway. OpenSSL releases it at exit.
fn legacy_provider_loaded() -> bool {
    static LEGACY: OnceLock<Option<Provider>> = OnceLock::new();
    LEGACY
        .get_or_init(|| match Provider::try_load(None, "legacy", true) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "cannot load the OpenSSL legacy provider; legacy-encrypted (RC2) .p12 files cannot be read"
                );
                None
            }
        })
        .is_some()
}

/// True if the error stack says the PKCS#12 MAC did not verify (wrong password).
fn is_mac_failure(e: &ErrorStack) -> bool {
    e.errors()
        .iter()
        .any(|err| (err.library_code() == ERR_LIB_PKCS12 && err.reason_code() == PKCS12_R_MAC_VERIFY_FAILURE) || err.reason() == Some("mac verify failure"))
}

/// A short, admin-readable description of an OpenSSL error (reasons only, no file/line noise).
fn brief(e: &ErrorStack) -> String {
    let mut reasons: Vec<&str> = e.errors().iter().filter_map(|err| err.reason()).collect();
    reasons.dedup();
    if reasons.is_empty() {
        let s = e.to_string();
        if s.is_empty() {
            "unknown error".into()
        } else {
            s
        }
    } else {
        reasons.join("; ")
    }
}

fn now_utc() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Converts an ASN.1 time to UTC.
fn to_naive(t: &Asn1TimeRef) -> Result<NaiveDateTime, PushCertError> {
    asn1_to_naive(t).ok_or_else(|| PushCertError::InvalidCertificate("validity date out of range".into()))
}

fn key_matches(cert: &X509Ref, key: &PKeyRef<Private>) -> bool {
    // A certificate whose public key OpenSSL cannot decode simply does not match.
    cert.public_key().map(|pk| pk.public_eq(key)).unwrap_or(false)
}

/// Picks the leaf (the certificate matching a key; the latest-expiring one if several do),
/// validates it and builds the value. `now` = None skips the validity-period check.
fn assemble(keys: Vec<PKey<Private>>, certs: Vec<X509>, now: Option<NaiveDateTime>) -> Result<PushCert, PushCertError> {
    if certs.is_empty() {
        return Err(PushCertError::NoCertificate);
    }
    if keys.is_empty() {
        return Err(PushCertError::NoPrivateKey);
    }
    let mut found: Option<(&PKey<Private>, usize, NaiveDateTime)> = None;
    for key in &keys {
        for (i, cert) in certs.iter().enumerate() {
            if key_matches(cert, key) {
                let not_after = to_naive(cert.not_after())?;
                if found.as_ref().is_none_or(|(_, _, best)| not_after > *best) {
                    found = Some((key, i, not_after));
                }
            }
        }
        if found.is_some() {
            break;
        }
    }
    let Some((key, leaf_index, not_after)) = found else {
        return Err(PushCertError::KeyMismatch);
    };
    let Some(leaf) = certs.get(leaf_index) else {
        return Err(PushCertError::NoCertificate);
    };
    let topic = topic_of(leaf)?;
    let not_before = to_naive(leaf.not_before())?;
    if let Some(now) = now {
        if not_after < now {
            return Err(PushCertError::Expired { not_after });
        }
        if not_before > now + NOT_BEFORE_SKEW {
            return Err(PushCertError::NotYetValid { not_before });
        }
    }
    let leaf_der = leaf.to_der()?;
    let mut chain_pem = pem_string(leaf)?;
    for cert in &certs {
        // Other certificates for the same key (e.g. an older push certificate renewed with the
        // same key) are alternatives to the leaf, not part of its chain.
        if key_matches(cert, key) || cert.to_der()? == leaf_der {
            continue;
        }
        chain_pem.push_str(&pem_string(cert)?);
    }
    Ok(PushCert {
        topic,
        subject: name_line(leaf.subject_name()),
        not_before,
        not_after,
        cert_chain_pem: chain_pem,
        development: is_development(leaf),
        key_pkcs8_der: key.private_key_to_pkcs8()?,
    })
}

/// Whether the certificate carries the development mark in its subject's OU.
fn is_development(cert: &X509Ref) -> bool {
    cert.subject_name().entries_by_nid(openssl::nid::Nid::ORGANIZATIONALUNITNAME).any(|e| e.data().as_slice() == mdm_pki::DEVELOPMENT_PUSH_OU.as_bytes())
}

fn pem_string(cert: &X509Ref) -> Result<String, PushCertError> {
    String::from_utf8(cert.to_pem()?).map_err(|_| PushCertError::InvalidCertificate("PEM encoding is not text".into()))
}

/// Whether an upload is PEM text rather than DER PKCS#12.
fn looks_like_pem(data: &[u8]) -> bool {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data).trim_ascii_start();
    if data.starts_with(b"-----BEGIN") {
        return true;
    }
    // A DER PKCS#12 starts with a SEQUENCE tag (0x30). Anything else that contains a PEM
    // BEGIN line is PEM with leading text (e.g. "Bag Attributes" from `openssl pkcs12 -nodes`).
    data.first() != Some(&0x30) && find(data, b"-----BEGIN ").is_some()
}

/// One `-----BEGIN label----- ... -----END label-----` block, with its line ending.
struct PemBlock<'a> {
    label: &'a str,
    text: &'a [u8],
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits PEM text into blocks; text outside blocks (comments, bag attributes) is ignored.
fn pem_blocks(data: &[u8]) -> Result<Vec<PemBlock<'_>>, PushCertError> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const DASHES: &[u8] = b"-----";
    let mut blocks = Vec::new();
    let mut pos = 0;
    while let Some(rel) = data.get(pos..).and_then(|rest| find(rest, BEGIN)) {
        let start = pos + rel;
        let label_start = start + BEGIN.len();
        let label = data
            .get(label_start..)
            .and_then(|rest| find(rest, DASHES))
            .and_then(|len| data.get(label_start..label_start + len))
            .and_then(|l| std::str::from_utf8(l).ok())
            .filter(|l| !l.is_empty() && l.len() <= 64 && l.bytes().all(|b| b == b' ' || b.is_ascii_graphic()))
            .ok_or_else(|| PushCertError::InvalidPem("malformed BEGIN line".into()))?;
        let end_marker = format!("-----END {label}-----");
        let mut end = data
            .get(label_start..)
            .and_then(|rest| find(rest, end_marker.as_bytes()))
            .map(|rel_end| label_start + rel_end + end_marker.len())
            .ok_or_else(|| PushCertError::InvalidPem(format!("the {label} block has no END line")))?;
        // Include the line ending: OpenSSL's PEM reader expects complete lines.
        if data.get(end) == Some(&b'\r') {
            end += 1;
        }
        if data.get(end) == Some(&b'\n') {
            end += 1;
        }
        let text = data.get(start..end).ok_or_else(|| PushCertError::InvalidPem("truncated block".into()))?;
        blocks.push(PemBlock { label, text });
        pos = end;
    }
    if blocks.is_empty() {
        return Err(PushCertError::InvalidPem("no PEM blocks (-----BEGIN ...-----) found".into()));
    }
    Ok(blocks)
}

fn pem_certs(blocks: &[PemBlock<'_>]) -> Result<Vec<X509>, PushCertError> {
    let mut certs = Vec::new();
    for block in blocks.iter().filter(|b| matches!(b.label, "CERTIFICATE" | "X509 CERTIFICATE")) {
        let cert = X509::from_pem(&with_newline(block.text))
            .map_err(|e| PushCertError::InvalidPem(format!("certificate {} could not be read: {}", certs.len() + 1, brief(&e))))?;
        certs.push(cert);
    }
    Ok(certs)
}

fn pem_keys(blocks: &[PemBlock<'_>]) -> Result<Vec<PKey<Private>>, PushCertError> {
    let mut keys = Vec::new();
    for block in blocks.iter().filter(|b| b.label.ends_with("PRIVATE KEY")) {
        if block.label == "ENCRYPTED PRIVATE KEY" || find(block.text, b"Proc-Type: 4,ENCRYPTED").is_some() {
            return Err(PushCertError::EncryptedKey);
        }
        // The passphrase variant (with an empty passphrase) guarantees OpenSSL never falls back
        // to prompting on the terminal.
        let mut text = with_newline(block.text);
        let key = PKey::private_key_from_pem_passphrase(&text, b"");
        text.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&mut text);
        keys.push(key.map_err(|e| PushCertError::InvalidKey(brief(&e)))?);
    }
    Ok(keys)
}

/// The block with a final newline (a file may end right after the END line).
fn with_newline(text: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(text.len() + 1);
    v.extend_from_slice(text);
    if !v.ends_with(b"\n") {
        v.push(b'\n');
    }
    v
}

#[cfg(test)]
mod tests;
