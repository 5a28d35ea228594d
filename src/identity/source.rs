//! Extracting the device certificate from a request: mTLS peer certificate, a proxy header
//! (nginx `$ssl_client_escaped_cert` URL-escaped PEM, or RFC 9440 `Client-Cert: :base64:`), or
//! the `Mdm-Signature` header (base64 detached CMS over the raw body).

use base64::Engine;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;

use super::{DeviceCert, IdentityError};

/// The peer certificate chain (DER, leaf first) from the TLS handshake, put into each request's
/// extensions by the TLS listener.
#[derive(Debug, Clone)]
pub struct TlsPeer(pub Vec<Vec<u8>>);

/// Everything a request offers about its identity.
#[derive(Debug, Default)]
pub struct IdentityInputs<'a> {
    /// mTLS peer chain, if any.
    pub tls_peer: Option<&'a TlsPeer>,
    /// Value of the configured proxy header, if configured and present.
    pub proxy_header: Option<&'a str>,
    /// Value of `Mdm-Signature`, if accepted and present.
    pub mdm_signature: Option<&'a str>,
    /// The raw body (what Mdm-Signature signs).
    pub body: &'a [u8],
}

/// Picks the device certificate. A present Mdm-Signature is always verified against the body;
/// when both a transport certificate and a signature are present they must agree.
pub fn extract(inputs: &IdentityInputs<'_>) -> Result<DeviceCert, IdentityError> {
    let signed = match inputs.mdm_signature {
        Some(sig) => Some(from_mdm_signature(sig, inputs.body)?),
        None => None,
    };
    let transport = match (inputs.tls_peer, inputs.proxy_header) {
        (Some(peer), _) if !peer.0.is_empty() => Some(from_tls(peer)?),
        (_, Some(h)) if !h.trim().is_empty() => Some(from_proxy_header(h)?),
        _ => None,
    };
    match (transport, signed) {
        (Some(t), Some(s)) if t.hash != s.hash => Err(IdentityError::Conflict),
        (Some(t), _) => Ok(t),
        (None, Some(s)) => Ok(s),
        (None, None) => Err(IdentityError::NoCertificate),
    }
}

fn from_tls(peer: &TlsPeer) -> Result<DeviceCert, IdentityError> {
    let mut certs = peer.0.iter().map(|d| X509::from_der(d).map_err(|e| IdentityError::BadCertificate(e.to_string())));
    let leaf = certs.next().ok_or(IdentityError::NoCertificate)??;
    let chain = certs.collect::<Result<Vec<_>, _>>()?;
    DeviceCert::new(leaf, chain)
}

/// Parses a proxy header value in any of the common encodings.
pub fn from_proxy_header(value: &str) -> Result<DeviceCert, IdentityError> {
    let v = value.trim();
    // RFC 9440: a structured-field byte sequence, `:base64:`.
    if let Some(inner) = v.strip_prefix(':').and_then(|s| s.strip_suffix(':')) {
        let der = base64::engine::general_purpose::STANDARD.decode(inner).map_err(|e| IdentityError::BadHeader(format!("Client-Cert is not base64: {e}")))?;
        return DeviceCert::from_der(&der);
    }
    // nginx $ssl_client_escaped_cert and similar: URL-escaped PEM.
    let decoded = percent_encoding::percent_decode_str(v).decode_utf8().map_err(|e| IdentityError::BadHeader(format!("not URL-escaped UTF-8: {e}")))?;
    if decoded.contains("-----BEGIN CERTIFICATE-----") {
        // Some proxies fold the PEM onto one line with spaces or tabs; restore line breaks.
        let pem = normalise_pem(&decoded);
        let mut certs = X509::stack_from_pem(pem.as_bytes()).map_err(|e| IdentityError::BadHeader(format!("bad PEM: {e}")))?;
        if certs.is_empty() {
            return Err(IdentityError::BadHeader("no certificate in PEM".into()));
        }
        let leaf = certs.remove(0);
        return DeviceCert::new(leaf, certs);
    }
    // Bare base64 DER.
    let der = base64::engine::general_purpose::STANDARD
        .decode(decoded.as_bytes())
        .map_err(|_| IdentityError::BadHeader("neither PEM, RFC 9440 nor base64 DER".into()))?;
    DeviceCert::from_der(&der)
}

fn normalise_pem(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 64);
    for block in s.split("-----END CERTIFICATE-----") {
        let Some((_, body)) = block.split_once("-----BEGIN CERTIFICATE-----") else { continue };
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// Verifies `Mdm-Signature` (base64 DER CMS SignedData, detached, over `body`) and returns the
/// signer's certificate. Trust in the signer is decided separately by the trust policy.
pub fn from_mdm_signature(header: &str, body: &[u8]) -> Result<DeviceCert, IdentityError> {
    let compact: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()).map_err(|e| IdentityError::BadSignature(format!("not base64: {e}")))?;
    let p7 = Pkcs7::from_der(&der).map_err(|_| IdentityError::BadSignature("not a DER CMS/PKCS#7 structure".into()))?;
    let none = Stack::<X509>::new().map_err(|e| IdentityError::BadSignature(e.to_string()))?;
    let store = X509StoreBuilder::new().map_err(|e| IdentityError::BadSignature(e.to_string()))?.build();
    p7.verify(&none, &store, Some(body), None, Pkcs7Flags::NOVERIFY | Pkcs7Flags::BINARY | Pkcs7Flags::DETACHED)
        .map_err(|_| IdentityError::BadSignature("signature does not match the body".into()))?;
    let signers = p7.signers(&none, Pkcs7Flags::empty()).map_err(|_| IdentityError::BadSignature("signer certificate not included".into()))?;
    let leaf = signers.iter().next().ok_or_else(|| IdentityError::BadSignature("no signer".into()))?.to_owned();
    let leaf_der = leaf.to_der().map_err(|e| IdentityError::BadSignature(e.to_string()))?;
    let chain = p7
        .signed()
        .and_then(|s| s.certificates())
        .map(|cs| cs.iter().filter(|c| c.to_der().map(|d| d != leaf_der).unwrap_or(false)).map(|c| c.to_owned()).collect())
        .unwrap_or_default();
    DeviceCert::new(leaf, chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki;

    fn device() -> (pki::Issued, pki::Ca) {
        let ca = pki::Ca::generate("Test CA").unwrap();
        let dev = ca.issue_device("DEVICE-1").unwrap();
        (dev, ca)
    }

    #[test]
    fn reads_rfc9440_and_nginx_escaped_headers() {
        let (dev, _) = device();
        let der = dev.cert.to_der().unwrap();
        let want = hex::encode(openssl::sha::sha256(&der));
        let rfc = format!(":{}:", base64::engine::general_purpose::STANDARD.encode(&der));
        assert_eq!(from_proxy_header(&rfc).unwrap().hash, want);
        let pem = String::from_utf8(dev.cert.to_pem().unwrap()).unwrap();
        let escaped = percent_encoding::utf8_percent_encode(&pem, percent_encoding::NON_ALPHANUMERIC).to_string();
        assert_eq!(from_proxy_header(&escaped).unwrap().hash, want);
        let folded = pem.replace('\n', " ");
        assert_eq!(from_proxy_header(&folded).unwrap().hash, want);
        assert!(matches!(from_proxy_header("garbage!"), Err(IdentityError::BadHeader(_))));
    }

    #[test]
    fn verifies_mdm_signature_over_the_body() {
        let (dev, _) = device();
        let body = b"<plist><dict/></plist>";
        let sig = pki::mdm_signature(&dev, body).unwrap();
        let got = from_mdm_signature(&sig, body).unwrap();
        assert_eq!(got.hash, hex::encode(openssl::sha::sha256(&dev.cert.to_der().unwrap())));
        assert!(matches!(from_mdm_signature(&sig, b"other body"), Err(IdentityError::BadSignature(_))));
        assert!(matches!(from_mdm_signature("!!!", body), Err(IdentityError::BadSignature(_))));
        assert!(matches!(from_mdm_signature("aGVsbG8=", body), Err(IdentityError::BadSignature(_))));
    }

    #[test]
    fn trust_policy_refuses_foreign_ca() {
        let (dev, ca) = device();
        let other = pki::Ca::generate("Other CA").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, ca.cert.to_pem().unwrap()).unwrap();
        let policy = crate::identity::TrustPolicy::from_pem_files(&[path]).unwrap();
        let good = DeviceCert::new(dev.cert.clone(), vec![]).unwrap();
        policy.check(&good).unwrap();
        let foreign = other.issue_device("X").unwrap();
        let bad = DeviceCert::new(foreign.cert, vec![]).unwrap();
        assert!(matches!(policy.check(&bad), Err(IdentityError::Untrusted(_))));
        crate::identity::TrustPolicy::Any.check(&bad).unwrap();
    }
}
