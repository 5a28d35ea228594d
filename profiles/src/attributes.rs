//! What a device POSTs to the profile service in phases 2 and 3, both ways: [`sign`] (what a
//! device, or the simulator, sends) and [`read`] (what the server checks). Reading what a device POSTs to the profile service: a CMS SignedData (DER or BER, content
//! attached) around a plist of device attributes. The signature must verify; who the signer is
//! and whether to trust it is the caller's decision (phase 2 vs phase 3).

use crate::cms;
use crate::profile_service::DeviceAttributes;
use openssl::x509::X509;

/// Why a body is not a usable attributes message.
#[derive(Debug, thiserror::Error)]
pub enum AttributesError {
    /// Not CMS, or a plain plist.
    #[error("the body must be a CMS-signed device attributes plist (application/pkcs7-signature): {0}")]
    NotSigned(String),
    /// The signature does not verify.
    #[error("the device attributes' signature does not verify: {0}")]
    BadSignature(String),
    /// Signed, but the content is not the attributes plist.
    #[error("the signed content is not a device attributes plist: {0}")]
    BadContent(String),
}

/// A verified attributes message.
#[derive(Debug)]
pub struct Signed {
    /// The attributes.
    pub attributes: DeviceAttributes,
    /// The signer's certificate.
    pub signer: X509,
    /// The other certificates the message carries (the signer's chain).
    pub chain: Vec<X509>,
}

/// Verifies the signature of `body` and reads the attributes inside.
pub fn read(body: &[u8]) -> Result<Signed, AttributesError> {
    if body.is_empty() {
        return Err(AttributesError::NotSigned("the body is empty".into()));
    }
    if !cms::looks_signed(body) {
        return Err(AttributesError::NotSigned("the body is not DER".into()));
    }
    let unwrapped = cms::unwrap(body, None).map_err(|e| match e {
        cms::CmsError::NotCms(why) => AttributesError::NotSigned(why),
        cms::CmsError::BadSignature(why) => AttributesError::BadSignature(why),
        other => AttributesError::BadSignature(other.to_string()),
    })?;
    let signer = unwrapped.signer.ok_or_else(|| AttributesError::BadSignature("no signer certificate is included".into()))?;
    let signer_der = signer.to_der().unwrap_or_default();
    let chain = unwrapped.certs.into_iter().filter(|c| c.to_der().map(|d| d != signer_der).unwrap_or(true)).collect();
    let attributes = DeviceAttributes::from_plist(&unwrapped.content).map_err(|e| AttributesError::BadContent(e.to_string()))?;
    Ok(Signed { attributes, signer, chain })
}

/// Signs device attributes as iOS does (the simulator's half): SignedData, content attached,
/// signer certificate and `chain` included.
pub fn sign(attributes: &DeviceAttributes, cert: &X509, key: &openssl::pkey::PKeyRef<openssl::pkey::Private>, chain: &[X509]) -> Result<Vec<u8>, String> {
    let xml = attributes.to_xml().map_err(|e| e.to_string())?;
    let signer = cms::Signer::new(cert.clone(), key.to_owned(), chain.to_vec()).map_err(|e| e.to_string())?;
    signer.sign(&xml).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs() -> DeviceAttributes {
        DeviceAttributes { udid: "00008110-ABC".into(), serial: Some("SER1".into()), challenge: Some("c".into()), ..Default::default() }
    }

    #[test]
    fn reads_what_sign_writes_with_its_chain() {
        let ca = mdm_pki::Ca::generate("Device CA").unwrap();
        let dev = ca.issue_device("device").unwrap();
        let body = sign(&attrs(), &dev.cert, &dev.key, std::slice::from_ref(&ca.cert)).unwrap();
        let s = read(&body).unwrap();
        assert_eq!(s.attributes, attrs());
        assert_eq!(s.signer.to_der().unwrap(), dev.cert.to_der().unwrap());
        assert_eq!(s.chain.len(), 1);
    }

    #[test]
    fn refuses_unsigned_truncated_tampered_and_foreign_content() {
        let ca = mdm_pki::Ca::generate("Device CA").unwrap();
        let dev = ca.issue_device("device").unwrap();
        assert!(matches!(read(b""), Err(AttributesError::NotSigned(_))));
        assert!(matches!(read(&attrs().to_xml().unwrap()), Err(AttributesError::NotSigned(_))));
        let body = sign(&attrs(), &dev.cert, &dev.key, &[]).unwrap();
        assert!(read(&body[..body.len() / 2]).is_err(), "truncated");
        let mut tampered = body.clone();
        let at = tampered.windows(4).position(|w| w == b"SER1").unwrap();
        tampered[at] = b'X';
        assert!(matches!(read(&tampered), Err(AttributesError::BadSignature(_))));
        let other = cms::Signer::new(dev.cert.clone(), dev.key.clone(), vec![]).unwrap().sign(b"<plist><array/></plist>").unwrap();
        assert!(matches!(read(&other), Err(AttributesError::BadContent(_))));
    }
}
