//! PKIMessage: parsing/verifying/decrypting requests and CertReps, building
//! requests and CertReps, certs-only SignedData and the small content
//! structures (IssuerAndSubject, IssuerAndSerialNumber).

use std::ffi::c_int;

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509KeyUsage, X509Name, X509NameRef, X509Ref, X509Req, X509};

use crate::der;
use crate::ffi::{self, AttrKind, AttrValue};
use crate::{FailInfo, MessageType, PkiStatus, ScepError};

/// Length of the nonces we generate (RFC 8894: 16 bytes).
const NONCE_LEN: usize = 16;

/// ASN.1 universal tags we accept for "PrintableString" attributes; some
/// clients send UTF8String or IA5String instead, which is harmless.
const TEXT_TAGS: &[c_int] = &[19, 12, 22, 26];
/// OCTET STRING.
const OCTET_STRING: c_int = 4;

/// A verified, parsed PKIMessage as the server receives it: the signature is
/// checked against the signer certificate embedded in the message. That
/// certificate is self-signed for PKCSReq or a previously issued one for
/// RenewalReq — the caller decides whether to trust it.
#[derive(Clone)]
pub struct PkiMessage {
    /// The request type (never [`MessageType::CertRep`]).
    pub message_type: MessageType,
    /// The transactionID attribute.
    pub transaction_id: String,
    /// The senderNonce attribute (echoed as recipientNonce in the answer).
    pub sender_nonce: Vec<u8>,
    /// The certificate that signed the message (the response is encrypted
    /// to it).
    pub signer_cert: X509,
    /// The signer's digest algorithm, to answer with the same.
    pub digest: MessageDigest,
    /// DER of the encapsulated pkcsPKIEnvelope (a ContentInfo holding
    /// EnvelopedData); empty if the message carries no content.
    pub encrypted_content: Vec<u8>,
}

impl std::fmt::Debug for PkiMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkiMessage")
            .field("message_type", &self.message_type)
            .field("transaction_id", &self.transaction_id)
            .field("sender_nonce", &hex::encode(&self.sender_nonce))
            .field("signer_cert", &self.signer_cert.subject_name())
            .field("digest", &self.digest.type_().long_name().unwrap_or("?"))
            .field("encrypted_content_len", &self.encrypted_content.len())
            .finish()
    }
}

/// The outcome of verifying a SignedData.
struct Verified {
    signer: X509,
    digest_nid: c_int,
    /// Attribute values in [`AttrIdx`] order.
    attrs: Vec<Option<AttrValue>>,
    content: Vec<u8>,
}

/// Indices into [`Verified::attrs`].
#[derive(Clone, Copy)]
enum AttrIdx {
    MessageType = 0,
    PkiStatus = 1,
    FailInfo = 2,
    SenderNonce = 3,
    RecipientNonce = 4,
    TransactionId = 5,
}

impl Verified {
    fn attr(&self, idx: AttrIdx) -> Option<&AttrValue> {
        self.attrs.get(idx as usize).and_then(Option::as_ref)
    }

    fn text(&self, idx: AttrIdx, name: &'static str) -> Result<Option<String>, ScepError> {
        let Some(v) = self.attr(idx) else {
            return Ok(None);
        };
        if !TEXT_TAGS.contains(&v.tag) {
            return Err(ScepError::InvalidAttribute { name, reason: format!("expected PrintableString, found ASN.1 type {}", v.tag) });
        }
        String::from_utf8(v.bytes.clone()).map(Some).map_err(|_| ScepError::InvalidAttribute { name, reason: "not valid text".into() })
    }

    fn required_text(&self, idx: AttrIdx, name: &'static str) -> Result<String, ScepError> {
        self.text(idx, name)?.ok_or(ScepError::MissingAttribute(name))
    }

    fn number(&self, idx: AttrIdx, name: &'static str) -> Result<Option<(String, Option<u32>)>, ScepError> {
        Ok(self.text(idx, name)?.map(|s| {
            let n = s.trim().parse::<u32>().ok();
            (s, n)
        }))
    }

    fn octets(&self, idx: AttrIdx, name: &'static str) -> Result<Option<Vec<u8>>, ScepError> {
        let Some(v) = self.attr(idx) else {
            return Ok(None);
        };
        if v.tag != OCTET_STRING {
            return Err(ScepError::InvalidAttribute { name, reason: format!("expected OCTET STRING, found ASN.1 type {}", v.tag) });
        }
        Ok(Some(v.bytes.clone()))
    }

    fn message_type(&self) -> Result<MessageType, ScepError> {
        let (text, code) = self.number(AttrIdx::MessageType, "messageType")?.ok_or(ScepError::MissingAttribute("messageType"))?;
        code.and_then(MessageType::from_code).ok_or(ScepError::UnknownMessageType(text))
    }

    fn transaction_id(&self) -> Result<String, ScepError> {
        let id = self.required_text(AttrIdx::TransactionId, "transactionID")?;
        if id.is_empty() {
            return Err(ScepError::InvalidAttribute { name: "transactionID", reason: "empty".into() });
        }
        Ok(id)
    }
}

/// Parses a BER/DER ContentInfo holding SignedData and verifies its
/// signature. With `trusted`, the signer must be one of those certificates
/// (certificates inside the message are ignored); without, the signer
/// certificate is taken from the message itself.
fn verify_signed(input: &[u8], trusted: Option<&[X509]>) -> Result<Verified, ScepError> {
    if input.is_empty() {
        return Err(ScepError::Malformed("empty input".into()));
    }
    let p7 = Pkcs7::from_der(input).map_err(|e| ScepError::Malformed(format!("not a PKCS#7 ContentInfo: {e}")))?;
    if p7.type_().map(|t| t.nid()) != Some(Nid::PKCS7_SIGNED) {
        return Err(ScepError::Malformed("ContentInfo is not SignedData".into()));
    }
    let mut certs = Stack::<X509>::new()?;
    let mut flags = Pkcs7Flags::empty();
    if let Some(trusted) = trusted {
        for c in trusted {
            certs.push(c.clone())?;
        }
        flags |= Pkcs7Flags::NOINTERN;
    }
    let signers = p7.signers(&certs, flags).map_err(ScepError::BadSignature)?;
    let signer = signers.iter().next().map(|c| c.to_owned()).ok_or_else(|| ScepError::Malformed("SignedData has no signer".into()))?;
    let detached = ffi::is_detached(&p7);
    // NOVERIFY: no chain building — trust decisions belong to the caller; the
    // store is therefore never consulted but the API requires one.
    let store = X509StoreBuilder::new()?.build();
    let mut content = Vec::new();
    let indata: Option<&[u8]> = if detached { Some(&[]) } else { None };
    p7.verify(&certs, &store, indata, Some(&mut content), flags | Pkcs7Flags::NOVERIFY | Pkcs7Flags::BINARY).map_err(ScepError::BadSignature)?;
    let n = ffi::scep_nids()?;
    let view = ffi::first_signer(&p7, &[n.message_type, n.pki_status, n.fail_info, n.sender_nonce, n.recipient_nonce, n.transaction_id])?;
    Ok(Verified { signer, digest_nid: view.digest_nid, attrs: view.attrs, content })
}

impl PkiMessage {
    /// Parses and verifies a request PKIMessage (DER; BER such as
    /// indefinite lengths is accepted too). Fails on anything malformed, on a
    /// bad signature, on an unknown messageType, on a CertRep, and when the
    /// transactionID or senderNonce is missing.
    pub fn parse(der_or_ber: &[u8]) -> Result<PkiMessage, ScepError> {
        let v = verify_signed(der_or_ber, None)?;
        let message_type = v.message_type()?;
        if message_type == MessageType::CertRep {
            return Err(ScepError::UnexpectedMessageType(message_type));
        }
        let transaction_id = v.transaction_id()?;
        let sender_nonce = v.octets(AttrIdx::SenderNonce, "senderNonce")?.ok_or(ScepError::MissingAttribute("senderNonce"))?;
        if sender_nonce.is_empty() {
            return Err(ScepError::InvalidAttribute { name: "senderNonce", reason: "empty".into() });
        }
        let digest = ffi::digest_from_nid(v.digest_nid).ok_or(ScepError::UnsupportedDigest(v.digest_nid))?;
        Ok(PkiMessage { message_type, transaction_id, sender_nonce, signer_cert: v.signer, digest, encrypted_content: v.content })
    }

    /// Decrypts the pkcsPKIEnvelope with the recipient's (CA's or RA's)
    /// certificate and key, returning the inner content: the CSR DER for
    /// PKCSReq/RenewalReq, IssuerAndSubject DER for CertPoll,
    /// IssuerAndSerialNumber DER for GetCert/GetCRL.
    pub fn decrypt(&self, recipient_cert: &X509, recipient_key: &PKey<Private>) -> Result<Vec<u8>, ScepError> {
        decrypt_envelope(&self.encrypted_content, recipient_cert, recipient_key)
    }

    /// Decrypts the content and parses it as a CSR whose self-signature is
    /// checked.
    pub fn csr(&self, recipient_cert: &X509, recipient_key: &PKey<Private>) -> Result<X509Req, ScepError> {
        let der = self.decrypt(recipient_cert, recipient_key)?;
        let req = X509Req::from_der(&der).map_err(|e| ScepError::InvalidContent(format!("not a PKCS#10 CSR: {e}")))?;
        let key = req.public_key().map_err(|e| ScepError::InvalidContent(format!("CSR public key unreadable: {e}")))?;
        match req.verify(&key) {
            Ok(true) => Ok(req),
            Ok(false) => Err(ScepError::InvalidContent("CSR signature does not verify".into())),
            Err(e) => Err(ScepError::InvalidContent(format!("CSR signature does not verify: {e}"))),
        }
    }
}

fn decrypt_envelope(der: &[u8], cert: &X509, key: &PKey<Private>) -> Result<Vec<u8>, ScepError> {
    if der.is_empty() {
        return Err(ScepError::InvalidContent("message has no pkcsPKIEnvelope".into()));
    }
    let env = Pkcs7::from_der(der).map_err(|e| ScepError::InvalidContent(format!("pkcsPKIEnvelope is not PKCS#7: {e}")))?;
    if env.type_().map(|t| t.nid()) != Some(Nid::PKCS7_ENVELOPED) {
        return Err(ScepError::InvalidContent("pkcsPKIEnvelope is not EnvelopedData".into()));
    }
    match env.decrypt(key, cert, Pkcs7Flags::BINARY) {
        Ok(plain) => Ok(plain),
        // Single DES (what micromdm's scepclient/scepserver use) lives in
        // OpenSSL 3's legacy provider: load it once on demand and retry.
        Err(e) if is_unsupported_algorithm(&e) && crate::enable_legacy_ciphers() => env.decrypt(key, cert, Pkcs7Flags::BINARY).map_err(ScepError::Decrypt),
        Err(e) => Err(ScepError::Decrypt(e)),
    }
}

/// True when OpenSSL failed because an algorithm is not available (e.g.
/// DES-CBC without the legacy provider).
fn is_unsupported_algorithm(e: &openssl::error::ErrorStack) -> bool {
    e.errors().iter().any(|x| x.reason().is_some_and(|r| r.contains("unsupported")))
}

fn encrypt_to(recipient: &X509, content: &[u8], cipher: Cipher) -> Result<Vec<u8>, ScepError> {
    let mut certs = Stack::<X509>::new()?;
    certs.push(recipient.clone())?;
    let env = Pkcs7::encrypt(&certs, content, cipher, Pkcs7Flags::BINARY)?;
    Ok(env.to_der()?)
}

fn nonce() -> Result<Vec<u8>, ScepError> {
    let mut n = vec![0u8; NONCE_LEN];
    openssl::rand::rand_bytes(&mut n)?;
    Ok(n)
}

/// Builds server responses (CertRep), signed by a CA or RA.
#[derive(Clone, Copy)]
pub struct Responder<'a> {
    /// The certificate the CertRep is signed with (CA or RA).
    pub signer_cert: &'a X509,
    /// Its private key.
    pub signer_key: &'a PKey<Private>,
    /// Content encryption for SUCCESS responses (AES-256-CBC is a good
    /// default; AES-128-CBC and DES-EDE3-CBC work for older clients).
    pub cipher: Cipher,
}

impl Responder<'_> {
    /// SUCCESS: the issued certificate (plus `chain`) as a certs-only
    /// SignedData, encrypted to the request's signer certificate.
    pub fn success(&self, req: &PkiMessage, issued: &X509, chain: &[X509]) -> Result<Vec<u8>, ScepError> {
        let mut certs = Vec::with_capacity(1 + chain.len());
        certs.push(issued.clone());
        certs.extend(chain.iter().cloned());
        let degenerate = degenerate_certs(&certs)?;
        let envelope = encrypt_to(&req.signer_cert, &degenerate, self.cipher)?;
        self.respond(req, PkiStatus::Success, None, Some(&envelope))
    }

    /// SUCCESS carrying a ready certs-only SignedData (e.g. a GetCRL answer
    /// or a stored certificate for GetCert), encrypted to the requester.
    pub fn success_with_content(&self, req: &PkiMessage, degenerate: &[u8]) -> Result<Vec<u8>, ScepError> {
        let envelope = encrypt_to(&req.signer_cert, degenerate, self.cipher)?;
        self.respond(req, PkiStatus::Success, None, Some(&envelope))
    }

    /// FAILURE with `info`; no content.
    pub fn failure(&self, req: &PkiMessage, info: FailInfo) -> Result<Vec<u8>, ScepError> {
        self.respond(req, PkiStatus::Failure, Some(info), None)
    }

    /// PENDING; no content.
    pub fn pending(&self, req: &PkiMessage) -> Result<Vec<u8>, ScepError> {
        self.respond(req, PkiStatus::Pending, None, None)
    }

    fn respond(&self, req: &PkiMessage, status: PkiStatus, fail: Option<FailInfo>, content: Option<&[u8]>) -> Result<Vec<u8>, ScepError> {
        let n = ffi::scep_nids()?;
        let message_type = MessageType::CertRep.code().to_string();
        let status_s = status.code().to_string();
        let fail_s = fail.map(|f| f.code().to_string());
        let sender_nonce = nonce()?;
        let mut attrs: Vec<(c_int, AttrKind, &[u8])> = vec![
            (n.transaction_id, AttrKind::Printable, req.transaction_id.as_bytes()),
            (n.message_type, AttrKind::Printable, message_type.as_bytes()),
            (n.pki_status, AttrKind::Printable, status_s.as_bytes()),
            (n.recipient_nonce, AttrKind::Octets, &req.sender_nonce),
            (n.sender_nonce, AttrKind::Octets, &sender_nonce),
        ];
        if let Some(f) = &fail_s {
            attrs.push((n.fail_info, AttrKind::Printable, f.as_bytes()));
        }
        let p7 = ffi::sign_with_attributes(self.signer_cert, self.signer_key, req.digest, content, &attrs)?;
        Ok(p7.to_der()?)
    }
}

/// A certs-only ("degenerate") PKCS#7 SignedData in DER, as served by
/// GetCACert when there is an RA (RA and CA certificates) and used inside
/// SUCCESS CertReps.
pub fn degenerate_certs(certs: &[X509]) -> Result<Vec<u8>, ScepError> {
    Ok(ffi::certs_only(certs)?.to_der()?)
}

/// The certificates of a certs-only (or any) PKCS#7 SignedData.
pub fn parse_degenerate_certs(der: &[u8]) -> Result<Vec<X509>, ScepError> {
    if der.is_empty() {
        return Err(ScepError::Malformed("empty input".into()));
    }
    let p7 = Pkcs7::from_der(der).map_err(|e| ScepError::Malformed(format!("not a PKCS#7 ContentInfo: {e}")))?;
    let signed = p7.signed().ok_or_else(|| ScepError::Malformed("ContentInfo is not SignedData".into()))?;
    Ok(signed.certificates().map(|s| s.iter().map(|c| c.to_owned()).collect()).unwrap_or_default())
}

/// Encodes IssuerAndSubject (RFC 8894 §3.3.3), the CertPoll content.
pub fn encode_issuer_and_subject(issuer: &X509NameRef, subject: &X509NameRef) -> Result<Vec<u8>, ScepError> {
    let mut content = issuer.to_der()?;
    content.extend_from_slice(&subject.to_der()?);
    Ok(der::tlv(der::SEQUENCE, &content))
}

/// Parses IssuerAndSubject (the CertPoll content) into (issuer, subject).
pub fn issuer_and_subject(der: &[u8]) -> Result<(X509Name, X509Name), ScepError> {
    let bad = |e: String| ScepError::InvalidContent(format!("IssuerAndSubject: {e}"));
    let (seq, rest) = der::read_tlv(der).map_err(|e| bad(e.to_string()))?;
    if seq.tag != der::SEQUENCE || !rest.is_empty() {
        return Err(bad("not a single SEQUENCE".into()));
    }
    let (issuer, rest) = der::read_tlv(seq.content).map_err(|e| bad(e.to_string()))?;
    let (subject, rest) = der::read_tlv(rest).map_err(|e| bad(e.to_string()))?;
    if issuer.tag != der::SEQUENCE || subject.tag != der::SEQUENCE || !rest.is_empty() {
        return Err(bad("expected two Names".into()));
    }
    let issuer = X509Name::from_der(issuer.raw).map_err(|e| bad(e.to_string()))?;
    let subject = X509Name::from_der(subject.raw).map_err(|e| bad(e.to_string()))?;
    Ok((issuer, subject))
}

/// Encodes the IssuerAndSerialNumber of `cert` (the GetCert/GetCRL content).
pub fn encode_issuer_and_serial(cert: &X509Ref) -> Result<Vec<u8>, ScepError> {
    let serial = cert.serial_number().to_bn()?;
    if serial.is_negative() {
        return Err(ScepError::InvalidContent("negative certificate serial number".into()));
    }
    let mut content = cert.issuer_name().to_der()?;
    content.extend_from_slice(&der::unsigned_integer(&serial.to_vec()));
    Ok(der::tlv(der::SEQUENCE, &content))
}

/// Picks the certificate requests are encrypted to: when the server sent
/// several, the RA (a non-CA certificate, preferably with keyEncipherment);
/// otherwise the (first) CA certificate.
pub fn pick_recipient(certs: &[X509]) -> Option<&X509> {
    if certs.len() > 1 {
        let key_enc = |c: &X509| c.key_usage().map(|ku| ku.contains(X509KeyUsage::KEY_ENCIPHERMENT)).unwrap_or(true);
        if let Some(ra) = certs.iter().find(|c| !ffi::is_ca(c) && key_enc(c)) {
            return Some(ra);
        }
        if let Some(ra) = certs.iter().find(|c| !ffi::is_ca(c)) {
            return Some(ra);
        }
    }
    certs.first()
}

/// Builds a client request PKIMessage.
pub struct RequestBuilder<'a> {
    /// PKCSReq, RenewalReq, CertPoll, GetCert or GetCrl.
    pub message_type: MessageType,
    /// The CSR: the content of PKCSReq/RenewalReq; for CertPoll its subject
    /// goes into IssuerAndSubject.
    pub csr: &'a X509Req,
    /// The signing certificate: self-signed for PKCSReq (see
    /// [`crate::self_signed_for`]), the existing certificate for RenewalReq.
    pub signer_cert: &'a X509,
    /// Its private key.
    pub signer_key: &'a PKey<Private>,
    /// The certificate the content is encrypted to (RA or CA).
    pub recipient: &'a X509,
    /// Content encryption cipher.
    pub cipher: Cipher,
    /// Signing digest.
    pub digest: MessageDigest,
    /// The transactionID (see [`crate::transaction_id_for`]).
    pub transaction_id: String,
}

impl RequestBuilder<'_> {
    /// Builds the request: returns its DER and the senderNonce it carries.
    ///
    /// Content by type: the CSR for PKCSReq/RenewalReq; IssuerAndSubject
    /// (issuer = the recipient's issuer, i.e. the CA, subject = the CSR's) for
    /// CertPoll; the signer certificate's IssuerAndSerialNumber for
    /// GetCert/GetCRL (use [`RequestBuilder::build_with_content`] for another).
    pub fn build(&self) -> Result<(Vec<u8>, Vec<u8>), ScepError> {
        let content = match self.message_type {
            MessageType::PkcsReq | MessageType::RenewalReq => self.csr.to_der()?,
            MessageType::CertPoll => encode_issuer_and_subject(self.recipient.issuer_name(), self.csr.subject_name())?,
            MessageType::GetCert | MessageType::GetCrl => encode_issuer_and_serial(self.signer_cert)?,
            MessageType::CertRep => return Err(ScepError::UnexpectedMessageType(MessageType::CertRep)),
        };
        self.build_with_content(&content)
    }

    /// Builds the request with an explicit inner content (encrypted to the
    /// recipient); returns its DER and the senderNonce.
    pub fn build_with_content(&self, content: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ScepError> {
        if self.message_type == MessageType::CertRep {
            return Err(ScepError::UnexpectedMessageType(MessageType::CertRep));
        }
        let n = ffi::scep_nids()?;
        let envelope = encrypt_to(self.recipient, content, self.cipher)?;
        let sender_nonce = nonce()?;
        let message_type = self.message_type.code().to_string();
        let attrs: [(c_int, AttrKind, &[u8]); 3] = [
            (n.transaction_id, AttrKind::Printable, self.transaction_id.as_bytes()),
            (n.message_type, AttrKind::Printable, message_type.as_bytes()),
            (n.sender_nonce, AttrKind::Octets, &sender_nonce),
        ];
        let p7 = ffi::sign_with_attributes(self.signer_cert, self.signer_key, self.digest, Some(&envelope), &attrs)?;
        Ok((p7.to_der()?, sender_nonce))
    }
}

/// A parsed, verified and (on SUCCESS) decrypted CertRep.
#[derive(Debug, Clone)]
pub struct CertRep {
    /// pkiStatus.
    pub status: PkiStatus,
    /// failInfo (FAILURE only; `None` if the server sent none).
    pub fail_info: Option<FailInfo>,
    /// transactionID (should equal the request's).
    pub transaction_id: String,
    /// recipientNonce (should equal the request's senderNonce).
    pub recipient_nonce: Vec<u8>,
    /// The certificates of a SUCCESS answer (issued certificate first, as
    /// the server ordered them); empty otherwise.
    pub certs: Vec<X509>,
}

/// Parses a CertRep: verifies that it is signed by one of `verify_with` (CA
/// or RA certificates), reads its attributes and, on SUCCESS, decrypts the
/// content with `my_cert`/`my_key` (the request's signer) and returns the
/// certificates in it.
pub fn parse_cert_rep(der: &[u8], verify_with: &[X509], my_cert: &X509, my_key: &PKey<Private>) -> Result<CertRep, ScepError> {
    let v = verify_signed(der, Some(verify_with))?;
    let message_type = v.message_type()?;
    if message_type != MessageType::CertRep {
        return Err(ScepError::UnexpectedMessageType(message_type));
    }
    let (text, code) = v.number(AttrIdx::PkiStatus, "pkiStatus")?.ok_or(ScepError::MissingAttribute("pkiStatus"))?;
    let status =
        code.and_then(PkiStatus::from_code).ok_or_else(|| ScepError::InvalidAttribute { name: "pkiStatus", reason: format!("unknown value {text:?}") })?;
    let transaction_id = v.transaction_id()?;
    let recipient_nonce = v.octets(AttrIdx::RecipientNonce, "recipientNonce")?.ok_or(ScepError::MissingAttribute("recipientNonce"))?;
    let fail_info = if status == PkiStatus::Failure {
        match v.number(AttrIdx::FailInfo, "failInfo")? {
            None => None,
            Some((text, code)) => Some(
                code.and_then(FailInfo::from_code)
                    .ok_or_else(|| ScepError::InvalidAttribute { name: "failInfo", reason: format!("unknown value {text:?}") })?,
            ),
        }
    } else {
        None
    };
    let certs = if status == PkiStatus::Success {
        let inner = decrypt_envelope(&v.content, my_cert, my_key)?;
        parse_degenerate_certs(&inner)?
    } else {
        Vec::new()
    };
    Ok(CertRep { status, fail_info, transaction_id, recipient_nonce, certs })
}

#[cfg(test)]
mod tests;
