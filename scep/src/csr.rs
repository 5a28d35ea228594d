//! CSR helpers: challengePassword, CSR construction, the client's temporary
//! self-signed certificate and transaction IDs.

use std::time::{SystemTime, UNIX_EPOCH};

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::{hash, MessageDigest};
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509NameRef, X509Req, X509ReqBuilder, X509ReqRef, X509};

use crate::der;
use crate::ffi::{self, ChallengeEncoding};
use crate::ScepError;

/// `V_ASN1_*` tags of the string types we accept for a challengePassword.
const STRING_TAGS: &[i32] = &[
    12, // UTF8String
    19, // PrintableString
    20, // T61String (TeletexString)
    22, // IA5String
    26, // VisibleString
];

/// Extracts the challengePassword attribute (OID 1.2.840.113549.1.9.7) from
/// a CSR, if any. Accepts PrintableString, UTF8String and the other 8-bit
/// string types, and tolerates clients that wrap the string in an extra SET.
pub fn challenge_password(csr: &X509ReqRef) -> Result<Option<String>, ScepError> {
    let Some(v) = ffi::challenge_attr(csr) else {
        return Ok(None);
    };
    let bytes = if STRING_TAGS.contains(&v.tag) {
        v.bytes
    } else if v.tag == 17 || v.tag == 16 {
        // SET/SEQUENCE: OpenSSL keeps the whole encoding; look inside for a
        // single string value.
        let (outer, _) = der::read_tlv(&v.bytes).map_err(|e| ScepError::InvalidChallenge(format!("bad wrapped value: {e}")))?;
        let (inner, _) = der::read_tlv(outer.content).map_err(|e| ScepError::InvalidChallenge(format!("bad wrapped value: {e}")))?;
        if !STRING_TAGS.contains(&i32::from(inner.tag)) {
            return Err(ScepError::InvalidChallenge(format!("wrapped value has ASN.1 tag {:#04x}, not a string", inner.tag)));
        }
        inner.content.to_vec()
    } else {
        return Err(ScepError::InvalidChallenge(format!("value has ASN.1 type {}, not a string", v.tag)));
    };
    String::from_utf8(bytes).map(Some).map_err(|_| ScepError::InvalidChallenge("value is not valid UTF-8".into()))
}

fn is_printable(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

/// Builds a CSR for `key` with `subject`, carrying `challenge` as a
/// challengePassword attribute (PrintableString when the password fits that
/// alphabet, UTF8String otherwise), signed with SHA-256.
pub fn build_csr(key: &PKey<Private>, subject: &X509NameRef, challenge: Option<&str>) -> Result<X509Req, ScepError> {
    let mut b = X509ReqBuilder::new()?;
    b.set_version(0)?;
    b.set_subject_name(subject)?;
    b.set_pubkey(key)?;
    let mut req = b.build();
    let challenge = challenge.map(|c| {
        let enc = if is_printable(c) { ChallengeEncoding::Printable } else { ChallengeEncoding::Utf8 };
        (c, enc)
    });
    ffi::add_challenge_and_sign(&mut req, challenge, key, MessageDigest::sha256())?;
    Ok(req)
}

/// The temporary self-signed certificate a client signs its PKCSReq with:
/// subject = issuer = `subject`, random serial, valid from one hour ago for
/// 7 days, SHA-256.
pub fn self_signed_for(csr_key: &PKey<Private>, subject: &X509NameRef) -> Result<X509, ScepError> {
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(63, MsbOption::MAYBE_ZERO, false)?;
    let serial = Asn1Integer::from_bn(&serial)?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(subject)?;
    b.set_issuer_name(subject)?;
    b.set_pubkey(csr_key)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let now = i64::try_from(now).unwrap_or(i64::MAX / 2);
    let not_before = Asn1Time::from_unix((now - 3600) as _)?;
    let not_after = Asn1Time::from_unix((now + 7 * 86400) as _)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.sign(csr_key, MessageDigest::sha256())?;
    Ok(b.build())
}

/// The transaction ID for a key: lowercase hex SHA-256 of the DER
/// SubjectPublicKeyInfo (RFC 8894 §3.2.1.1 suggests a hash of the key).
pub fn transaction_id_for(key: &PKey<Private>) -> Result<String, ScepError> {
    let spki = key.public_key_to_der()?;
    let digest = hash(MessageDigest::sha256(), &spki)?;
    Ok(hex::encode(digest))
}
