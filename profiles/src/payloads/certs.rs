//! Certificate payloads: `com.apple.security.root`, `com.apple.security.pkcs1`,
//! `com.apple.security.pem` (certificates without private keys) and `com.apple.security.pkcs12`
//! (a password-protected identity).
//!
//! `check` parses the content with OpenSSL, so a profile carrying a truncated or mislabelled
//! certificate is caught before a device refuses it.

use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

use super::PayloadKind;
use crate::issue::{key_path, Issue};
use crate::value::Data;

/// How the certificate bytes of a payload are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// DER, or PEM (`-----BEGIN CERTIFICATE-----` blocks).
    DerOrPem,
    /// PEM only.
    Pem,
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN")
}

/// Parses certificate bytes: one DER certificate, or one or more PEM certificates.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<X509>, String> {
    if bytes.is_empty() {
        return Err("the certificate data is empty".into());
    }
    if looks_like_pem(bytes) {
        let certs = X509::stack_from_pem(bytes).map_err(|e| format!("not a PEM certificate: {e}"))?;
        if certs.is_empty() {
            return Err("the PEM data holds no CERTIFICATE block".into());
        }
        return Ok(certs);
    }
    X509::from_der(bytes).map(|c| vec![c]).map_err(|e| format!("not a DER or PEM certificate: {e}"))
}

fn check_certificates(bytes: &[u8], encoding: Encoding, path: &str, out: &mut Vec<Issue>) {
    let at = key_path(path, "PayloadContent");
    if encoding == Encoding::Pem && !bytes.is_empty() && !looks_like_pem(bytes) {
        let hint = if X509::from_der(bytes).is_ok() { "; this is a DER certificate: use com.apple.security.pkcs1" } else { "" };
        out.push(Issue::error(at, format!("not PEM data (-----BEGIN CERTIFICATE-----){hint}")));
        return;
    }
    if looks_like_pem(bytes) && bytes.windows(11).any(|w| w == b"PRIVATE KEY") {
        out.push(Issue::error(at.clone(), "holds a private key; certificate payloads must not (use com.apple.security.pkcs12 for an identity)"));
    }
    match parse_certificates(bytes) {
        Ok(certs) => {
            for c in &certs {
                warn_if_expired(c, &at, out);
            }
        }
        Err(e) => out.push(Issue::error(at, e)),
    }
}

fn warn_if_expired(cert: &X509, path: &str, out: &mut Vec<Issue>) {
    let Ok(now) = Asn1Time::days_from_now(0) else { return };
    if cert.not_after() < now {
        let subject = cert.subject_name().entries().filter_map(|e| e.data().to_string().ok()).collect::<Vec<_>>().join(", ");
        out.push(Issue::warning(path, format!("the certificate {subject:?} expired on {}", cert.not_after())));
    }
}

macro_rules! cert_payload {
    ($(#[$doc:meta])* $name:ident, $ty:expr, $encoding:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// `PayloadCertificateFileName`: the certificate's file name.
            #[serde(rename = "PayloadCertificateFileName", default, skip_serializing_if = "Option::is_none")]
            pub payload_certificate_file_name: Option<String>,
            /// `PayloadContent`: the certificate bytes.
            #[serde(rename = "PayloadContent")]
            pub payload_content: Data,
        }

        impl $name {
            /// The certificates in `PayloadContent`.
            pub fn certificates(&self) -> Result<Vec<X509>, String> {
                parse_certificates(&self.payload_content.0)
            }
        }

        impl PayloadKind for $name {
            const TYPE: &'static str = $ty;

            fn check(&self, path: &str, out: &mut Vec<Issue>) {
                check_certificates(&self.payload_content.0, $encoding, path, out);
            }
        }
    };
}

cert_payload!(
    /// `com.apple.security.root` payload: a (root) certificate the device trusts. Apple documents
    /// it as an alias of `com.apple.security.pkcs1`; DER and PEM content are both read.
    Root,
    "com.apple.security.root",
    Encoding::DerOrPem
);
cert_payload!(
    /// `com.apple.security.pkcs1` payload: a DER-encoded certificate without private key.
    Pkcs1,
    "com.apple.security.pkcs1",
    Encoding::DerOrPem
);
cert_payload!(
    /// `com.apple.security.pem` payload: PEM-encoded certificates without private key.
    Pem,
    "com.apple.security.pem",
    Encoding::Pem
);

impl Root {
    /// A root payload holding DER bytes, with `PayloadCertificateFileName` `name`.
    pub fn from_der(name: impl Into<String>, der: impl Into<Vec<u8>>) -> Root {
        Root { payload_certificate_file_name: Some(name.into()), payload_content: Data(der.into()) }
    }

    /// A root payload holding PEM text.
    pub fn from_pem(name: impl Into<String>, pem: impl Into<Vec<u8>>) -> Root {
        Root { payload_certificate_file_name: Some(name.into()), payload_content: Data(pem.into()) }
    }

    /// A root payload for an OpenSSL certificate (stored as DER).
    pub fn from_x509(name: impl Into<String>, cert: &X509) -> Result<Root, openssl::error::ErrorStack> {
        Ok(Root::from_der(name, cert.to_der()?))
    }
}

impl Pkcs1 {
    /// A PKCS#1 payload holding DER bytes.
    pub fn from_der(name: impl Into<String>, der: impl Into<Vec<u8>>) -> Pkcs1 {
        Pkcs1 { payload_certificate_file_name: Some(name.into()), payload_content: Data(der.into()) }
    }

    /// A PKCS#1 payload for an OpenSSL certificate (stored as DER).
    pub fn from_x509(name: impl Into<String>, cert: &X509) -> Result<Pkcs1, openssl::error::ErrorStack> {
        Ok(Pkcs1::from_der(name, cert.to_der()?))
    }
}

impl Pem {
    /// A PEM payload holding PEM text (one or more certificates).
    pub fn from_pem(name: impl Into<String>, pem: impl Into<Vec<u8>>) -> Pem {
        Pem { payload_certificate_file_name: Some(name.into()), payload_content: Data(pem.into()) }
    }
}

/// `com.apple.security.pkcs12` payload: an identity (certificate and private key) protected by a
/// password. Without `Password` the device asks the user for it at installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs12 {
    /// `PayloadCertificateFileName`: the file name of the identity.
    #[serde(rename = "PayloadCertificateFileName", default, skip_serializing_if = "Option::is_none")]
    pub payload_certificate_file_name: Option<String>,
    /// `PayloadContent`: the PKCS#12 (DER) bytes.
    #[serde(rename = "PayloadContent")]
    pub payload_content: Data,
    /// `Password`: the PKCS#12 password.
    #[serde(rename = "Password", default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `AllowAllAppsAccess` (macOS, default false): if true, apps may use the private key.
    #[serde(rename = "AllowAllAppsAccess", default, skip_serializing_if = "Option::is_none")]
    pub allow_all_apps_access: Option<bool>,
    /// `KeyIsExtractable` (macOS, default true): if false, the key isn't marked extractable.
    #[serde(rename = "KeyIsExtractable", default, skip_serializing_if = "Option::is_none")]
    pub key_is_extractable: Option<bool>,
}

impl Pkcs12 {
    /// A PKCS#12 payload holding `der`, with `Password` when given.
    pub fn from_der(name: impl Into<String>, der: impl Into<Vec<u8>>, password: Option<String>) -> Pkcs12 {
        Pkcs12 {
            payload_certificate_file_name: Some(name.into()),
            payload_content: Data(der.into()),
            password,
            allow_all_apps_access: None,
            key_is_extractable: None,
        }
    }
}

impl PayloadKind for Pkcs12 {
    const TYPE: &'static str = "com.apple.security.pkcs12";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let at = key_path(path, "PayloadContent");
        let p12 = match openssl::pkcs12::Pkcs12::from_der(&self.payload_content.0) {
            Ok(p) => p,
            Err(e) => {
                out.push(Issue::error(at, format!("not PKCS#12 (DER) data: {e}")));
                return;
            }
        };
        let Some(password) = &self.password else { return };
        match p12.parse2(password) {
            Ok(parsed) => {
                match &parsed.cert {
                    Some(c) => warn_if_expired(c, &at, out),
                    None => out.push(Issue::error(at.clone(), "the PKCS#12 holds no certificate")),
                }
                if parsed.pkey.is_none() {
                    out.push(Issue::error(at, "the PKCS#12 holds no private key; an identity needs one"));
                }
            }
            Err(e) => {
                let text = e.to_string();
                let why = if text.contains("mac verify failure") {
                    "the Password is wrong (MAC verification failed)".to_string()
                } else {
                    format!("the PKCS#12 data could not be decrypted with Password (wrong password, or an algorithm this OpenSSL build can't read): {text}")
                };
                out.push(Issue::error(key_path(path, "Password"), why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_reported_at_the_content_path() {
        for body in [
            crate::PayloadBody::from(Root::from_der("x.cer", b"garbage".to_vec())),
            Pkcs1::from_der("x.cer", Vec::new()).into(),
            Pem::from_pem("x.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec()).into(),
            Pem::from_pem("x.pem", b"garbage".to_vec()).into(),
            Pkcs12::from_der("x.p12", b"garbage".to_vec(), None).into(),
        ] {
            let mut out = Vec::new();
            body.check("PayloadContent[4]", &mut out);
            assert_eq!(out.len(), 1, "{body:?}: {out:?}");
            assert_eq!(out[0].path, "PayloadContent[4].PayloadContent");
            assert_eq!(out[0].severity, crate::Severity::Error);
        }
    }
}
