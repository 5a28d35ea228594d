//! Certificate material made by the server itself: the development CA written by `mdm init`,
//! the TLS server certificate, and device identity certificates for simulated devices.
//! Key sizes and lifetimes are named constants here, in one place.

use std::path::Path;

use base64::Engine;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;
use openssl::stack::Stack;
use openssl::x509::extension::{AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, SubjectKeyIdentifier};
use openssl::x509::{X509Builder, X509NameBuilder, X509};

/// RSA modulus size for the CA and the TLS server key.
pub const RSA_BITS: u32 = 2048;
/// Lifetime of the development CA.
pub const CA_DAYS: u32 = 3650;
/// Lifetime of the TLS server certificate (Apple clients refuse server certs valid > 825 days).
pub const SERVER_DAYS: u32 = 397;
/// Lifetime of device identity certificates issued here.
pub const DEVICE_DAYS: u32 = 365;
/// The organizational unit that marks a development push certificate (made by `mdm init`, not
/// by Apple).
pub const DEVELOPMENT_PUSH_OU: &str = "mdm development push certificate (not from Apple)";

/// Errors creating or loading certificate material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// OpenSSL failed.
    #[error("openssl: {0}")]
    Ssl(#[from] openssl::error::ErrorStack),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// A certificate authority: certificate and private key.
#[derive(Clone)]
pub struct Ca {
    /// CA certificate.
    pub cert: X509,
    /// CA private key.
    pub key: PKey<Private>,
}

/// A certificate issued by a [`Ca`] together with its private key.
#[derive(Clone)]
pub struct Issued {
    /// The certificate.
    pub cert: X509,
    /// Its private key.
    pub key: PKey<Private>,
}

fn serial() -> Result<openssl::asn1::Asn1Integer, PkiError> {
    let mut bn = BigNum::new()?;
    bn.rand(127, openssl::bn::MsbOption::MAYBE_ZERO, false)?;
    Ok(bn.to_asn1_integer()?)
}

fn name(cn: &str, org: &str) -> Result<openssl::x509::X509Name, PkiError> {
    let mut b = X509NameBuilder::new()?;
    b.append_entry_by_nid(Nid::ORGANIZATIONNAME, org)?;
    b.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    Ok(b.build())
}

fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    std::fs::read(path).map_err(|source| PkiError::Io { path: path.display().to_string(), source })
}

/// Generates an RSA key of [`RSA_BITS`].
pub fn rsa_key() -> Result<PKey<Private>, PkiError> {
    Ok(PKey::from_rsa(Rsa::generate(RSA_BITS)?)?)
}

/// Generates an EC P-256 key (fast; used for simulated devices).
pub fn ec_key() -> Result<PKey<Private>, PkiError> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

impl Ca {
    /// Generates a self-signed CA with an RSA key of [`RSA_BITS`].
    pub fn generate(common_name: &str) -> Result<Ca, PkiError> {
        Ca::generate_rsa(common_name, RSA_BITS)
    }

    /// Generates a self-signed CA with an RSA key of `bits` (2048 or 4096 for SCEP).
    pub fn generate_rsa(common_name: &str, bits: u32) -> Result<Ca, PkiError> {
        let key = PKey::from_rsa(Rsa::generate(bits)?)?;
        let subject = name(common_name, "MDM")?;
        let mut b = X509Builder::new()?;
        b.set_version(2)?;
        b.set_serial_number(serial()?.as_ref())?;
        b.set_subject_name(&subject)?;
        b.set_issuer_name(&subject)?;
        b.set_pubkey(&key)?;
        b.set_not_before(Asn1Time::days_from_now(0)?.as_ref())?;
        b.set_not_after(Asn1Time::days_from_now(CA_DAYS)?.as_ref())?;
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build()?)?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
        b.append_extension(ski)?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok(Ca { cert: b.build(), key })
    }

    /// Loads a CA from PEM files.
    pub fn load(cert: &Path, key: &Path) -> Result<Ca, PkiError> {
        Ok(Ca { cert: X509::from_pem(&read(cert)?)?, key: PKey::private_key_from_pem(&read(key)?)? })
    }

    fn issue(&self, subject_cn: &str, key: PKey<Private>, days: u32, server_names: &[String]) -> Result<Issued, PkiError> {
        let mut b = X509Builder::new()?;
        b.set_version(2)?;
        b.set_serial_number(serial()?.as_ref())?;
        b.set_subject_name(name(subject_cn, "MDM")?.as_ref())?;
        b.set_issuer_name(self.cert.subject_name())?;
        b.set_pubkey(&key)?;
        b.set_not_before(Asn1Time::days_from_now(0)?.as_ref())?;
        b.set_not_after(Asn1Time::days_from_now(days)?.as_ref())?;
        b.append_extension(BasicConstraints::new().build()?)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().key_encipherment().build()?)?;
        if server_names.is_empty() {
            b.append_extension(ExtendedKeyUsage::new().client_auth().build()?)?;
        } else {
            b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
            let mut san = SubjectAlternativeName::new();
            for n in server_names {
                if n.parse::<std::net::IpAddr>().is_ok() {
                    san.ip(n);
                } else {
                    san.dns(n);
                }
            }
            let ext = san.build(&b.x509v3_context(Some(&self.cert), None))?;
            b.append_extension(ext)?;
        }
        let aki = AuthorityKeyIdentifier::new().keyid(false).build(&b.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(aki)?;
        b.sign(&self.key, MessageDigest::sha256())?;
        Ok(Issued { cert: b.build(), key })
    }

    /// Issues a TLS server certificate for `names` (DNS names or IP addresses).
    pub fn issue_server(&self, names: &[String]) -> Result<Issued, PkiError> {
        let cn = names.first().map(String::as_str).unwrap_or("localhost");
        self.issue(cn, rsa_key()?, SERVER_DAYS, names)
    }

    /// Issues a certificate shaped like Apple's MDM push certificate (subject
    /// `UID=<topic>, CN=APSP:<topic suffix>`, clientAuth, RSA key), valid from two days ago until
    /// `days_left` days from now (negative = already expired). Used by the mock APNs, tests and
    /// benchmarks; real push certificates come from Apple.
    pub fn issue_push_cert(&self, topic: &str, days_left: i64) -> Result<Issued, PkiError> {
        self.push_cert(topic, days_left, None)
    }

    /// Issues a development push certificate: like [`Ca::issue_push_cert`], with
    /// [`DEVELOPMENT_PUSH_OU`] in its subject so that the server accepts it only in development
    /// mode (pushes to a mock APNs on the same machine).
    pub fn issue_development_push_cert(&self, topic: &str, days_left: i64) -> Result<Issued, PkiError> {
        self.push_cert(topic, days_left, Some(DEVELOPMENT_PUSH_OU))
    }

    fn push_cert(&self, topic: &str, days_left: i64, unit: Option<&str>) -> Result<Issued, PkiError> {
        let key = rsa_key()?;
        let now = chrono::Utc::now().timestamp();
        let suffix = topic.rsplit('.').next().unwrap_or(topic);
        let mut subject = X509NameBuilder::new()?;
        subject.append_entry_by_nid(Nid::USERID, topic)?;
        subject.append_entry_by_text("CN", &format!("APSP:{suffix}"))?;
        if let Some(unit) = unit {
            subject.append_entry_by_nid(Nid::ORGANIZATIONALUNITNAME, unit)?;
        }
        subject.append_entry_by_nid(Nid::COUNTRYNAME, "US")?;
        let mut b = X509Builder::new()?;
        b.set_version(2)?;
        b.set_serial_number(serial()?.as_ref())?;
        b.set_subject_name(subject.build().as_ref())?;
        b.set_issuer_name(self.cert.subject_name())?;
        b.set_pubkey(&key)?;
        b.set_not_before(Asn1Time::from_unix(now - 2 * 86_400)?.as_ref())?;
        b.set_not_after(Asn1Time::from_unix(now + days_left * 86_400)?.as_ref())?;
        b.append_extension(BasicConstraints::new().build()?)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
        b.append_extension(ExtendedKeyUsage::new().client_auth().build()?)?;
        b.sign(&self.key, MessageDigest::sha256())?;
        Ok(Issued { cert: b.build(), key })
    }

    /// Issues a client identity certificate for a certificate request; see
    /// [`RequestIssuer::issue`] (which keeps its extensions between calls).
    pub fn issue_for_request(&self, csr: &openssl::x509::X509ReqRef, validity: std::time::Duration) -> Result<X509, PkiError> {
        RequestIssuer::new(self.clone())?.issue(csr, validity)
    }

    /// Issues a device identity certificate (clientAuth) with an EC P-256 key.
    pub fn issue_device(&self, common_name: &str) -> Result<Issued, PkiError> {
        self.issue(common_name, ec_key()?, DEVICE_DAYS, &[])
    }
}

/// Issues client identity certificates for certificate requests (SCEP) with one CA. The
/// extensions every such certificate carries are built once: in OpenSSL 3 building them per
/// certificate costs about as much as the signature.
pub struct RequestIssuer {
    /// The issuing CA.
    pub ca: Ca,
    fixed: Vec<openssl::x509::X509Extension>,
}

impl RequestIssuer {
    /// Prepares the fixed extensions: basicConstraints CA:FALSE, keyUsage digitalSignature +
    /// keyEncipherment, extendedKeyUsage clientAuth, authorityKeyIdentifier of the CA.
    pub fn new(ca: Ca) -> Result<RequestIssuer, PkiError> {
        let ctx_builder = X509Builder::new()?;
        let aki = AuthorityKeyIdentifier::new().keyid(false).build(&ctx_builder.x509v3_context(Some(&ca.cert), None))?;
        let fixed = vec![
            BasicConstraints::new().critical().build()?,
            KeyUsage::new().critical().digital_signature().key_encipherment().build()?,
            ExtendedKeyUsage::new().client_auth().build()?,
            aki,
        ];
        Ok(RequestIssuer { ca, fixed })
    }

    /// Issues a certificate for `csr`: the request's subject and public key, valid from one
    /// minute ago (clock skew) for `validity`, a random 127-bit serial, the fixed extensions
    /// and a subjectKeyIdentifier. The caller has checked the request's signature and
    /// authorisation.
    pub fn issue(&self, csr: &openssl::x509::X509ReqRef, validity: std::time::Duration) -> Result<X509, PkiError> {
        let key = encodable_public_key(csr.public_key()?)?;
        let now = chrono::Utc::now().timestamp();
        let secs = i64::try_from(validity.as_secs()).unwrap_or(i64::MAX / 2);
        let mut b = X509Builder::new()?;
        b.set_version(2)?;
        b.set_serial_number(serial()?.as_ref())?;
        b.set_subject_name(csr.subject_name())?;
        b.set_issuer_name(self.ca.cert.subject_name())?;
        b.set_pubkey(&key)?;
        b.set_not_before(Asn1Time::from_unix(now - 60)?.as_ref())?;
        b.set_not_after(Asn1Time::from_unix(now.saturating_add(secs))?.as_ref())?;
        for e in &self.fixed {
            b.append_extension2(e)?;
        }
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(&self.ca.cert), None))?;
        b.append_extension(ski)?;
        b.sign(&self.ca.key, MessageDigest::sha256())?;
        Ok(b.build())
    }
}

/// The same public key in a form OpenSSL 3.0 encodes cheaply. A key decoded from DER is a
/// provider key, and writing one into a certificate looks its encoder up among every provider's
/// (docs/BENCHMARKS.md, "OpenSSL"); an RSA key rebuilt from its modulus and exponent is encoded
/// directly. Other key types are returned as they are.
fn encodable_public_key(key: PKey<Public>) -> Result<PKey<Public>, PkiError> {
    if key.id() != openssl::pkey::Id::RSA {
        return Ok(key);
    }
    let rsa = key.rsa()?;
    Ok(PKey::from_rsa(Rsa::from_public_components(rsa.n().to_owned()?, rsa.e().to_owned()?)?)?)
}

/// Signs `body` the way a device does when SignMessage=true: detached CMS SignedData including
/// the signer certificate, DER, base64 — the value of the `Mdm-Signature` header.
pub fn mdm_signature(identity: &Issued, body: &[u8]) -> Result<String, PkiError> {
    let certs = Stack::new()?;
    let p7 = Pkcs7::sign(&identity.cert, &identity.key, &certs, body, Pkcs7Flags::DETACHED | Pkcs7Flags::BINARY)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(p7.to_der()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::x509::{X509NameBuilder, X509ReqBuilder};

    fn csr_for(key: &PKey<Private>) -> openssl::x509::X509Req {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "device-1").unwrap();
        let mut b = X509ReqBuilder::new().unwrap();
        b.set_subject_name(&name.build()).unwrap();
        b.set_pubkey(key).unwrap();
        b.sign(key, MessageDigest::sha256()).unwrap();
        // Decoded again, as a request arrives (a provider key, not the one built here).
        openssl::x509::X509Req::from_der(&b.build().to_der().unwrap()).unwrap()
    }

    /// RSA keys take the cheap encoding path; RSA and EC keys both end up in the certificate
    /// unchanged, under a certificate the CA's signature covers.
    #[test]
    fn issued_certificates_carry_the_requested_key() {
        let ca = Ca::generate_rsa("Issuer", 2048).unwrap();
        let issuer = RequestIssuer::new(ca.clone()).unwrap();
        let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        for key in [rsa, ec_key().unwrap()] {
            let cert = issuer.issue(&csr_for(&key), std::time::Duration::from_secs(3600)).unwrap();
            let again = X509::from_der(&cert.to_der().unwrap()).unwrap();
            assert!(again.public_key().unwrap().public_eq(&key));
            assert!(again.verify(&ca.cert.public_key().unwrap()).unwrap());
            assert_eq!(again.subject_name().entries().next().unwrap().data().as_slice(), b"device-1");
        }
    }
}
