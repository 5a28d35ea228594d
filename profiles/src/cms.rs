//! Signing and per-device encryption of profiles with OpenSSL's CMS.
//!
//! - [`Signer::sign`]: CMS SignedData with the content attached and the signer's chain included,
//!   DER — what iOS shows as "Verified" when the chain is trusted.
//! - [`encrypt_payload_content`]: replaces `PayloadContent` by `EncryptedPayloadContent`, the
//!   content array as a plist inside CMS EnvelopedData (AES-256-CBC) to one device's certificate.
//! - [`unwrap`]: reads an uploaded `.mobileconfig`, signed or not; a signed one must verify.
//! - [`decrypt_payload_content`]: the device side of encryption (the simulator uses it).

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::store::X509StoreRef;
use openssl::x509::{X509Ref, X509};

use crate::profile::to_xml;

/// Why signing, encryption or verification failed.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    /// The signing key does not belong to the signing certificate.
    #[error("the signing key does not match the signing certificate")]
    KeyMismatch,
    /// Certificate or key material could not be read.
    #[error("could not read {what}: {detail}")]
    Material {
        /// Which input.
        what: &'static str,
        /// OpenSSL's reason.
        detail: String,
    },
    /// The bytes are not CMS/PKCS#7 at all.
    #[error("not a signed profile (CMS/PKCS#7 SignedData): {0}")]
    NotCms(String),
    /// The signature does not verify: the content was changed or the signer is not trusted.
    #[error("the profile's signature does not verify: {0}")]
    BadSignature(String),
    /// The profile has nothing to encrypt or decrypt.
    #[error("{0}")]
    Shape(String),
    /// OpenSSL failed while signing, encrypting or decrypting.
    #[error("{op} failed: {detail}")]
    Openssl {
        /// What was being done.
        op: &'static str,
        /// OpenSSL's reason.
        detail: String,
    },
}

fn ossl(op: &'static str) -> impl Fn(openssl::error::ErrorStack) -> CmsError {
    move |e| CmsError::Openssl { op, detail: brief(&e) }
}

/// OpenSSL's first reason, without the error-queue noise.
fn brief(e: &openssl::error::ErrorStack) -> String {
    e.errors().first().and_then(|x| x.reason().map(str::to_string)).unwrap_or_else(|| e.to_string())
}

/// A signing identity: certificate, key and the chain sent along with each signature.
pub struct Signer {
    cert: X509,
    key: PKey<Private>,
    chain: Stack<X509>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed.
        f.debug_struct("Signer").field("subject", &crate::cms::subject_line(&self.cert)).finish_non_exhaustive()
    }
}

impl Signer {
    /// Builds a signer; `chain` are the intermediates (and optionally the root) to include.
    pub fn new(cert: X509, key: PKey<Private>, chain: Vec<X509>) -> Result<Signer, CmsError> {
        let matches = cert.public_key().map(|p| p.public_eq(&key)).unwrap_or(false);
        if !matches {
            return Err(CmsError::KeyMismatch);
        }
        let mut stack = Stack::new().map_err(ossl("allocating a certificate stack"))?;
        for c in chain {
            stack.push(c).map_err(ossl("building the chain"))?;
        }
        Ok(Signer { cert, key, chain: stack })
    }

    /// Builds a signer from PEM: the certificate (a file holding a chain — leaf first, as TLS
    /// servers keep it — contributes the rest to the chain), the private key (PKCS#1 or PKCS#8)
    /// and any number of further chain certificates (may be empty). Duplicates are sent once.
    pub fn from_pem(cert: &[u8], key: &[u8], chain: &[u8]) -> Result<Signer, CmsError> {
        let material = |what| move |e: openssl::error::ErrorStack| CmsError::Material { what, detail: brief(&e) };
        let mut certs = X509::stack_from_pem(cert).map_err(material("the signing certificate"))?.into_iter();
        let leaf = certs.next().ok_or(CmsError::Material { what: "the signing certificate", detail: "no certificate in the file".into() })?;
        let key = PKey::private_key_from_pem(key).map_err(material("the signing key"))?;
        let mut all: Vec<X509> = certs.collect();
        if !chain.iter().all(u8::is_ascii_whitespace) {
            all.extend(X509::stack_from_pem(chain).map_err(material("the chain"))?);
        }
        let mut seen = std::collections::HashSet::new();
        let leaf_der = leaf.to_der().unwrap_or_default();
        all.retain(|c| c.to_der().map(|d| d != leaf_der && seen.insert(d)).unwrap_or(false));
        Signer::new(leaf, key, all)
    }

    /// The signing certificate.
    pub fn cert(&self) -> &X509Ref {
        &self.cert
    }

    /// Signs `content` (attached) and returns DER SignedData.
    pub fn sign(&self, content: &[u8]) -> Result<Vec<u8>, CmsError> {
        let cms = CmsContentInfo::sign(Some(&self.cert), Some(&self.key), Some(&self.chain), Some(content), CMSOptions::BINARY).map_err(ossl("signing"))?;
        cms.to_der().map_err(ossl("encoding the signature"))
    }
}

/// The certificate's subject as `CN=..., O=...`.
pub fn subject_line(cert: &X509Ref) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let k = e.object().nid().short_name().unwrap_or("?");
            let v = e.data().to_string().map(|s| s.to_string()).unwrap_or_default();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Encrypts the profile's `PayloadContent` to `recipient`: the array is written as an XML plist,
/// wrapped in CMS EnvelopedData (AES-256-CBC) and stored as `EncryptedPayloadContent`;
/// `IsEncrypted` is set. The top-level keys stay readable, as Apple requires.
pub fn encrypt_payload_content(profile: &mut plist::Dictionary, recipient: &X509Ref) -> Result<(), CmsError> {
    let content = profile.remove("PayloadContent").ok_or_else(|| CmsError::Shape("the profile has no PayloadContent to encrypt".into()))?;
    let xml = to_xml(&content).map_err(|e| CmsError::Shape(e.to_string()))?;
    let mut certs = Stack::new().map_err(ossl("allocating a certificate stack"))?;
    certs.push(recipient.to_owned()).map_err(ossl("adding the recipient"))?;
    let env = CmsContentInfo::encrypt(&certs, &xml, Cipher::aes_256_cbc(), CMSOptions::BINARY).map_err(ossl("encrypting"))?;
    let der = env.to_der().map_err(ossl("encoding the envelope"))?;
    profile.insert("EncryptedPayloadContent".into(), plist::Value::Data(der));
    profile.insert("IsEncrypted".into(), plist::Value::Boolean(true));
    profile.sort_keys();
    Ok(())
}

/// Reverses [`encrypt_payload_content`] with the device's certificate and key.
pub fn decrypt_payload_content(profile: &mut plist::Dictionary, cert: &X509Ref, key: &PKeyRef<Private>) -> Result<(), CmsError> {
    let Some(plist::Value::Data(der)) = profile.remove("EncryptedPayloadContent") else {
        return Err(CmsError::Shape("the profile has no EncryptedPayloadContent".into()));
    };
    let env = CmsContentInfo::from_der(&der).map_err(|e| CmsError::NotCms(brief(&e)))?;
    let cert = cert.to_owned();
    let xml = env.decrypt(key, &cert).map_err(ossl("decrypting"))?;
    let content = crate::limits::parse_plist(&xml).map_err(|e| CmsError::Shape(format!("the decrypted content is not a plist: {e}")))?;
    if !matches!(content, plist::Value::Array(_)) {
        return Err(CmsError::Shape("the decrypted content is not a payload array".into()));
    }
    profile.insert("PayloadContent".into(), content);
    profile.remove("IsEncrypted");
    profile.sort_keys();
    Ok(())
}

/// An uploaded profile after [`unwrap`].
#[derive(Debug)]
pub struct Unwrapped {
    /// The plist bytes inside.
    pub content: Vec<u8>,
    /// The signer's certificate, when the profile was signed.
    pub signer: Option<X509>,
    /// Every certificate the SignedData carries (the signer's chain, for checking it against
    /// trust anchors).
    pub certs: Vec<X509>,
}

/// True when `bytes` look like DER (a signed profile) rather than an XML or binary plist.
pub fn looks_signed(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30)
}

/// Reads a `.mobileconfig`: a plain plist is returned as is; a signed one must verify — its
/// content unchanged since signing. With `trust`, the signer's chain must also lead to one of
/// its certificates; without, any signer is accepted (the signature still has to match).
pub fn unwrap(bytes: &[u8], trust: Option<&X509StoreRef>) -> Result<Unwrapped, CmsError> {
    if !looks_signed(bytes) {
        return Ok(Unwrapped { content: bytes.to_vec(), signer: None, certs: Vec::new() });
    }
    let mut cms = CmsContentInfo::from_der(bytes).map_err(|e| CmsError::NotCms(brief(&e)))?;
    let mut flags = CMSOptions::BINARY;
    if trust.is_none() {
        flags |= CMSOptions::NO_SIGNER_CERT_VERIFY;
    }
    let mut out = Vec::new();
    cms.verify(None, trust, None, Some(&mut out), flags).map_err(|e| CmsError::BadSignature(brief(&e)))?;
    let (signer, certs) = signer_and_certs(&cms).unwrap_or((None, Vec::new()));
    Ok(Unwrapped { content: out, signer, certs })
}

/// The signer's certificate (`None` when no carried certificate matches the signer info) and
/// every certificate carried.
fn signer_and_certs(cms: &CmsContentInfo) -> Option<(Option<X509>, Vec<X509>)> {
    // The openssl crate exposes no signer accessor; the PKCS#7 view of the same DER does.
    let der = cms.to_der().ok()?;
    let p7 = openssl::pkcs7::Pkcs7::from_der(&der).ok()?;
    let certs: Vec<X509> = p7.signed()?.certificates()?.iter().map(|c| c.to_owned()).collect();
    let empty = Stack::new().ok()?;
    let signer = p7.signers(&empty, openssl::pkcs7::Pkcs7Flags::empty()).ok().and_then(|s| s.iter().next().map(|c| c.to_owned()));
    Some((signer, certs))
}

/// Signs, optionally after encrypting to `recipient`: the one call the server makes per device.
pub fn seal(profile: &mut plist::Dictionary, recipient: Option<&X509Ref>, signer: Option<&Signer>) -> Result<Vec<u8>, CmsError> {
    if let Some(r) = recipient {
        encrypt_payload_content(profile, r)?;
    }
    let xml = to_xml(&plist::Value::Dictionary(profile.clone())).map_err(|e| CmsError::Shape(e.to_string()))?;
    match signer {
        Some(s) => s.sign(&xml),
        None => Ok(xml),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::rsa::Rsa;
    use openssl::x509::extension::BasicConstraints;
    use openssl::x509::{X509Builder, X509NameBuilder};

    /// A self-signed certificate (CA when `ca`) and its key.
    pub(crate) fn cert(cn: &str, ca: bool, issuer: Option<(&X509, &PKey<Private>)>) -> (X509, PKey<Private>) {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(rand_serial()).unwrap().to_asn1_integer().unwrap()).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(issuer.map(|(c, _)| c.subject_name()).unwrap_or(&name)).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
        if ca {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        }
        b.sign(issuer.map(|(_, k)| k).unwrap_or(&key), MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }

    fn rand_serial() -> u32 {
        u32::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..4].try_into().unwrap()) >> 1
    }

    fn profile() -> plist::Dictionary {
        let mut p = crate::Profile::new("org.example.p", "P");
        let mut content = plist::Dictionary::new();
        content.insert("URL".into(), "https://example.org".into());
        content.insert("Label".into(), "Intranet".into());
        p.add("clip", crate::PayloadBody::Raw(crate::payloads::Raw { payload_type: "com.apple.webClip.managed".into(), content }));
        p.to_dict().unwrap()
    }

    #[test]
    fn sign_then_unwrap_and_tamper() {
        let (ca, ca_key) = cert("Profile CA", true, None);
        let (leaf, leaf_key) = cert("Profile Signer", false, Some((&ca, &ca_key)));
        let signer = Signer::new(leaf.clone(), leaf_key, vec![ca.clone()]).unwrap();
        let xml = to_xml(&plist::Value::Dictionary(profile())).unwrap();
        let signed = signer.sign(&xml).unwrap();
        assert!(looks_signed(&signed));
        let u = unwrap(&signed, None).unwrap();
        assert_eq!(u.content, xml);
        assert_eq!(u.signer.unwrap().to_der().unwrap(), leaf.to_der().unwrap());

        // Trusted chain: verifies against the CA; a foreign CA does not.
        let mut store = openssl::x509::store::X509StoreBuilder::new().unwrap();
        store.add_cert(ca).unwrap();
        let store = store.build();
        assert!(unwrap(&signed, Some(&store)).is_ok());
        let (other, _) = cert("Other CA", true, None);
        let mut s2 = openssl::x509::store::X509StoreBuilder::new().unwrap();
        s2.add_cert(other).unwrap();
        assert!(matches!(unwrap(&signed, Some(&s2.build())), Err(CmsError::BadSignature(_))));

        // One changed byte of content: refused.
        let pos = signed.windows(8).position(|w| w == b"Intranet").unwrap();
        let mut tampered = signed.clone();
        tampered[pos] = b'X';
        let err = unwrap(&tampered, None).unwrap_err();
        assert!(matches!(err, CmsError::BadSignature(_)), "{err}");
        assert!(err.to_string().contains("does not verify"));

        // Plain plists pass through; DER garbage is refused clearly.
        assert_eq!(unwrap(&xml, None).unwrap().content, xml);
        assert!(matches!(unwrap(&[0x30, 0x03, 0x01, 0x02], None), Err(CmsError::NotCms(_))));
    }

    #[test]
    fn encrypt_for_one_device_then_decrypt() {
        let (dev, dev_key) = cert("device", false, None);
        let mut p = profile();
        let plain = p.clone();
        encrypt_payload_content(&mut p, &dev).unwrap();
        assert!(!p.contains_key("PayloadContent"));
        assert_eq!(p["IsEncrypted"], true.into());
        assert_eq!(p["PayloadIdentifier"], plain["PayloadIdentifier"]);
        let (other, other_key) = cert("other", false, None);
        assert!(decrypt_payload_content(&mut p.clone(), &other, &other_key).is_err());
        decrypt_payload_content(&mut p, &dev, &dev_key).unwrap();
        assert_eq!(p, plain);
        assert!(matches!(encrypt_payload_content(&mut plist::Dictionary::new(), &dev), Err(CmsError::Shape(_))));
    }

    #[test]
    fn signer_refuses_a_foreign_key_and_hides_its_key() {
        let (a, _) = cert("a", false, None);
        let (_, kb) = cert("b", false, None);
        assert!(matches!(Signer::new(a.clone(), kb, vec![]), Err(CmsError::KeyMismatch)));
        let (c, kc) = cert("c", false, None);
        let pem_key = kc.private_key_to_pem_pkcs8().unwrap();
        let s = Signer::from_pem(&c.to_pem().unwrap(), &pem_key, b"").unwrap();
        let dbg = format!("{s:?}");
        assert!(dbg.contains("CN=c") && !dbg.contains("PRIVATE"), "{dbg}");
        assert!(matches!(Signer::from_pem(b"junk", &pem_key, b""), Err(CmsError::Material { .. })));

        // A certificate file holding leaf + CA, and the CA again as chain: the CA is sent once.
        let (ca, ca_key) = cert("CA", true, None);
        let (leaf, leaf_key) = cert("leaf", false, Some((&ca, &ca_key)));
        let mut file = leaf.to_pem().unwrap();
        file.extend(ca.to_pem().unwrap());
        let s = Signer::from_pem(&file, &leaf_key.private_key_to_pem_pkcs8().unwrap(), &ca.to_pem().unwrap()).unwrap();
        assert_eq!(s.chain.len(), 1);
        assert_eq!(s.cert().to_der().unwrap(), leaf.to_der().unwrap());
    }
}
