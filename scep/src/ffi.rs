//! The one place with `unsafe`: a small shim over `openssl-sys` for what the
//! safe `openssl` crate does not offer — SCEP OID registration, PKCS#7 signed
//! attributes, signing with custom attributes and a chosen digest, certs-only
//! SignedData, CSR attributes and a couple of certificate flags.
//!
//! Conventions used below:
//! * Every pointer that we own is wrapped in its safe `openssl` owner type
//!   (`Pkcs7`, `X509Req`, …) or in a small RAII guard immediately after it is
//!   created, so every early return frees it exactly once.
//! * Pointers obtained by "get0"-style functions are borrowed from a structure
//!   that the caller keeps alive for the whole call (we never let them escape:
//!   values are copied into Rust-owned `Vec`s before returning).

use std::ffi::{c_char, c_int, c_long, c_void, CString};
use std::ptr;
use std::sync::OnceLock;

use foreign_types::{ForeignType, ForeignTypeRef};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs7::{Pkcs7, Pkcs7Ref};
use openssl::pkey::{PKeyRef, Private};
use openssl::stack::Stack;
use openssl::x509::{X509Ref, X509ReqRef, X509};
use openssl_sys as sys;

use crate::ScepError;

// Functions that OpenSSL 3.0 exports but openssl-sys 0.9 does not declare.
// Signatures copied from <openssl/pkcs7.h> and <openssl/objects.h>.
extern "C" {
    fn PKCS7_sign_add_signer(
        p7: *mut sys::PKCS7,
        signcert: *mut sys::X509,
        pkey: *mut sys::EVP_PKEY,
        md: *const sys::EVP_MD,
        flags: c_int,
    ) -> *mut sys::PKCS7_SIGNER_INFO;
    fn PKCS7_final(p7: *mut sys::PKCS7, data: *mut sys::BIO, flags: c_int) -> c_int;
    fn PKCS7_ctrl(p7: *mut sys::PKCS7, cmd: c_int, larg: c_long, parg: *mut c_char) -> c_long;
    fn OBJ_txt2nid(s: *const c_char) -> c_int;
}

/// `PKCS7_OP_GET_DETACHED_SIGNATURE` from <openssl/pkcs7.h>.
const PKCS7_OP_GET_DETACHED_SIGNATURE: c_int = 2;
/// `V_ASN1_BOOLEAN`, `V_ASN1_NULL`, `V_ASN1_OBJECT`: ASN1_TYPE variants whose
/// value is not an `ASN1_STRING`.
const V_ASN1_BOOLEAN: c_int = 1;
const V_ASN1_NULL: c_int = 5;
const V_ASN1_OBJECT: c_int = 6;
/// `V_ASN1_UNDEF`: no value.
pub(crate) const V_ASN1_UNDEF: c_int = -1;

/// NIDs of the SCEP signed attributes (RFC 8894 §3.2.1), registered once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScepNids {
    pub message_type: c_int,
    pub pki_status: c_int,
    pub fail_info: c_int,
    pub sender_nonce: c_int,
    pub recipient_nonce: c_int,
    pub transaction_id: c_int,
}

static NIDS: OnceLock<Option<ScepNids>> = OnceLock::new();

/// Looks up (registering with `OBJ_create` if OpenSSL does not know it) the
/// NID of one OID.
fn nid_for(oid: &str, short: &str) -> Option<c_int> {
    let c_oid = CString::new(oid).ok()?;
    let c_sn = CString::new(short).ok()?;
    // SAFETY: both arguments are valid NUL-terminated strings that outlive the
    // calls; OBJ_txt2nid only reads them, OBJ_create copies them into the
    // object table (it does not keep our pointers).
    let nid = unsafe { OBJ_txt2nid(c_oid.as_ptr()) };
    if nid != sys::NID_undef {
        return Some(nid);
    }
    // OBJ_txt2nid may leave an error on the queue for an unknown name; it is
    // harmless but would be confusing in later error reports.
    let _ = openssl::error::ErrorStack::get();
    // SAFETY: see above.
    let nid = unsafe { sys::OBJ_create(c_oid.as_ptr(), c_sn.as_ptr(), c_sn.as_ptr()) };
    if nid == sys::NID_undef {
        let _ = openssl::error::ErrorStack::get();
        None
    } else {
        Some(nid)
    }
}

/// The SCEP attribute NIDs, registering the OIDs on first use.
pub(crate) fn scep_nids() -> Result<ScepNids, ScepError> {
    let nids = NIDS.get_or_init(|| {
        // Idempotent; makes sure OpenSSL is initialised before raw calls.
        sys::init();
        Some(ScepNids {
            message_type: nid_for("2.16.840.1.113733.1.9.2", "scep-messageType")?,
            pki_status: nid_for("2.16.840.1.113733.1.9.3", "scep-pkiStatus")?,
            fail_info: nid_for("2.16.840.1.113733.1.9.4", "scep-failInfo")?,
            sender_nonce: nid_for("2.16.840.1.113733.1.9.5", "scep-senderNonce")?,
            recipient_nonce: nid_for("2.16.840.1.113733.1.9.6", "scep-recipientNonce")?,
            transaction_id: nid_for("2.16.840.1.113733.1.9.7", "scep-transactionID")?,
        })
    });
    nids.ok_or_else(|| ScepError::Internal("cannot register the SCEP OIDs with OpenSSL".into()))
}

/// A value of an ASN.1 attribute as OpenSSL decoded it: the universal tag
/// number (`V_ASN1_*`) and the content bytes (for SET/SEQUENCE/other: the
/// whole encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrValue {
    pub tag: c_int,
    pub bytes: Vec<u8>,
}

/// Copies the value out of an `ASN1_TYPE`.
///
/// # Safety
/// `t` must be null or point to a valid `ASN1_TYPE` that stays alive during
/// the call.
unsafe fn copy_asn1_type(t: *const sys::ASN1_TYPE) -> Option<AttrValue> {
    if t.is_null() {
        return None;
    }
    let tag = (*t).type_;
    if tag == V_ASN1_BOOLEAN || tag == V_ASN1_NULL || tag == V_ASN1_OBJECT {
        return Some(AttrValue { tag, bytes: Vec::new() });
    }
    // For every other type the union holds an ASN1_STRING (OpenSSL's
    // ASN1_TYPE invariant; SET/SEQUENCE/OTHER keep their whole encoding in it).
    let s = (*t).value.asn1_string;
    if s.is_null() {
        return Some(AttrValue { tag, bytes: Vec::new() });
    }
    let len = usize::try_from(sys::ASN1_STRING_length(s)).unwrap_or(0);
    let data = sys::ASN1_STRING_get0_data(s);
    let bytes = if data.is_null() || len == 0 {
        Vec::new()
    } else {
        // The string owns `len` bytes at `data`; we copy them out.
        std::slice::from_raw_parts(data, len).to_vec()
    };
    Some(AttrValue { tag, bytes })
}

/// What the first SignerInfo of a SignedData tells us.
#[derive(Debug)]
pub(crate) struct SignerView {
    /// NID of the digest algorithm.
    pub digest_nid: c_int,
    /// Signed attribute values, in the order of the requested NIDs.
    pub attrs: Vec<Option<AttrValue>>,
}

/// Reads the digest algorithm and the requested signed attributes of the
/// first SignerInfo of `p7` (which must be a SignedData).
pub(crate) fn first_signer(p7: &Pkcs7Ref, nids: &[c_int]) -> Result<SignerView, ScepError> {
    // SAFETY: `p7` is a valid PKCS7 borrowed for the whole function.
    // PKCS7_get_signer_info returns a stack owned by `p7` (or NULL when `p7`
    // is not SignedData or has no content); we only read from it while `p7` is
    // borrowed. The SignerInfo and its attributes/algorithms are likewise owned
    // by `p7`; every value is copied out before returning.
    unsafe {
        let sk = sys::PKCS7_get_signer_info(p7.as_ptr());
        if sk.is_null() {
            return Err(ScepError::Malformed("SignedData has no signerInfos".into()));
        }
        let sk = sk as *const sys::OPENSSL_STACK;
        if sys::OPENSSL_sk_num(sk) < 1 {
            return Err(ScepError::Malformed("SignedData has no signerInfos".into()));
        }
        let si = sys::OPENSSL_sk_value(sk, 0) as *mut sys::PKCS7_SIGNER_INFO;
        if si.is_null() {
            return Err(ScepError::Malformed("SignedData has no signerInfos".into()));
        }
        let mut dig: *mut sys::X509_ALGOR = ptr::null_mut();
        sys::PKCS7_SIGNER_INFO_get0_algs(si, ptr::null_mut(), &mut dig, ptr::null_mut());
        let mut digest_nid = sys::NID_undef;
        if !dig.is_null() {
            let mut obj: *const sys::ASN1_OBJECT = ptr::null();
            sys::X509_ALGOR_get0(&mut obj, ptr::null_mut(), ptr::null_mut(), dig);
            if !obj.is_null() {
                digest_nid = sys::OBJ_obj2nid(obj);
            }
        }
        let attrs = nids.iter().map(|&nid| copy_asn1_type(sys::PKCS7_get_signed_attribute(si, nid))).collect();
        Ok(SignerView { digest_nid, attrs })
    }
}

/// Maps a digest (or, leniently, a signature algorithm) NID to a digest.
pub(crate) fn digest_from_nid(nid: c_int) -> Option<MessageDigest> {
    if let Some(md) = MessageDigest::from_nid(Nid::from_raw(nid)) {
        return Some(md);
    }
    let mut dig = sys::NID_undef;
    let mut pkey = sys::NID_undef;
    // SAFETY: the out-pointers are valid local ints; the function only writes them.
    let ok = unsafe { sys::OBJ_find_sigid_algs(nid, &mut dig, &mut pkey) };
    if ok == 1 {
        MessageDigest::from_nid(Nid::from_raw(dig))
    } else {
        None
    }
}

/// True when a SignedData carries no encapsulated content (a "detached"
/// signature, as used by FAILURE/PENDING CertReps and certs-only messages).
pub(crate) fn is_detached(p7: &Pkcs7Ref) -> bool {
    if p7.type_().map(|t| t.nid()) != Some(Nid::PKCS7_SIGNED) {
        return false;
    }
    // SAFETY: `p7` is a valid SignedData (checked above; d2i guarantees the
    // mandatory `contents` field is present). PKCS7_ctrl with
    // GET_DETACHED_SIGNATURE only inspects it (and caches the answer in
    // p7->detached, which is interior bookkeeping of the object we borrow).
    unsafe { PKCS7_ctrl(p7.as_ptr(), PKCS7_OP_GET_DETACHED_SIGNATURE, 0, ptr::null_mut()) == 1 }
}

/// Owns a BIO and frees it on drop.
struct Bio(*mut sys::BIO);

impl Drop for Bio {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BIO_new_mem_buf, is non-null and is
        // freed exactly once here.
        unsafe { sys::BIO_free_all(self.0) };
    }
}

/// The kind of value of a signed attribute we add.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AttrKind {
    /// PrintableString.
    Printable,
    /// OCTET STRING.
    Octets,
}

/// Creates a SignedData over `content`, signed by `cert`/`key` with `md`,
/// carrying `cert` in its certificates, a contentType attribute (added by
/// OpenSSL), signingTime, messageDigest and the given extra attributes.
/// With `None`, the eContent is absent (the messageDigest is that of the
/// empty string, which is what verifiers assume for absent content).
pub(crate) fn sign_with_attributes(
    cert: &X509Ref,
    key: &PKeyRef<Private>,
    md: MessageDigest,
    content: Option<&[u8]>,
    attrs: &[(c_int, AttrKind, &[u8])],
) -> Result<Pkcs7, ScepError> {
    let mut flags = sys::PKCS7_PARTIAL | sys::PKCS7_BINARY | sys::PKCS7_NOSMIMECAP;
    if content.is_none() {
        flags |= sys::PKCS7_DETACHED;
    }
    let content = content.unwrap_or(&[]);
    let len = c_int::try_from(content.len()).map_err(|_| ScepError::Internal("content too large".into()))?;
    // SAFETY: PKCS7_sign with NULL signer/key/certs/data and PKCS7_PARTIAL
    // only allocates an empty SignedData (type data content) and returns it
    // without finalising; we take ownership at once via Pkcs7::from_ptr.
    let p7 = unsafe {
        let raw = sys::PKCS7_sign(ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), flags);
        if raw.is_null() {
            return Err(openssl::error::ErrorStack::get().into());
        }
        Pkcs7::from_ptr(raw)
    };
    // SAFETY: `p7`, `cert` and `key` are valid for the call. PKCS7_sign_add_signer
    // takes its own references (X509_up_ref / EVP_PKEY_up_ref) to the cert and
    // key it stores, so our borrows stay ours. The returned SignerInfo is
    // owned by `p7`, which outlives every use of `si` below.
    let si = unsafe { PKCS7_sign_add_signer(p7.as_ptr(), cert.as_ptr(), key.as_ptr(), md.as_ptr(), flags) };
    if si.is_null() {
        return Err(openssl::error::ErrorStack::get().into());
    }
    for &(nid, kind, value) in attrs {
        let ty = match kind {
            AttrKind::Printable => sys::V_ASN1_PRINTABLESTRING,
            AttrKind::Octets => sys::V_ASN1_OCTET_STRING,
        };
        let vlen = c_int::try_from(value.len()).map_err(|_| ScepError::Internal("attribute too large".into()))?;
        // SAFETY: ASN1_STRING_type_new returns a fresh string we own;
        // ASN1_STRING_set copies `vlen` bytes from `value`. On success
        // PKCS7_add_signed_attribute takes ownership of the string (it is set
        // into a new ASN1_TYPE owned by the attribute); on failure it has not
        // stored it anywhere (X509_ATTRIBUTE_create stores the value only as
        // its final, infallible step), so we free it ourselves.
        unsafe {
            let s = sys::ASN1_STRING_type_new(ty);
            if s.is_null() {
                return Err(openssl::error::ErrorStack::get().into());
            }
            if sys::ASN1_STRING_set(s, value.as_ptr() as *const c_void, vlen) != 1 {
                sys::ASN1_STRING_free(s);
                return Err(openssl::error::ErrorStack::get().into());
            }
            if sys::PKCS7_add_signed_attribute(si, nid, ty, s as *mut c_void) != 1 {
                sys::ASN1_STRING_free(s);
                return Err(openssl::error::ErrorStack::get().into());
            }
        }
    }
    // SAFETY: BIO_new_mem_buf creates a read-only BIO over `content`, which
    // outlives the BIO (the guard frees it before this function returns).
    // PKCS7_final reads the BIO, computes the digest, adds signingTime and
    // messageDigest and signs with the key referenced by the SignerInfo.
    unsafe {
        let raw = sys::BIO_new_mem_buf(content.as_ptr() as *const c_void, len);
        if raw.is_null() {
            return Err(openssl::error::ErrorStack::get().into());
        }
        let bio = Bio(raw);
        if PKCS7_final(p7.as_ptr(), bio.0, flags) != 1 {
            return Err(openssl::error::ErrorStack::get().into());
        }
    }
    Ok(p7)
}

/// Builds a certs-only ("degenerate") SignedData holding `certs`.
pub(crate) fn certs_only(certs: &[X509]) -> Result<Pkcs7, ScepError> {
    let mut stack = Stack::<X509>::new()?;
    for c in certs {
        stack.push(c.clone())?;
    }
    // SAFETY: with NULL signer and key and PKCS7_PARTIAL, PKCS7_sign builds an
    // unsigned SignedData, adds each certificate of `stack` with
    // PKCS7_add_certificate (which takes its own reference, so `stack` keeps
    // and later frees its own), marks the content detached (absent) and
    // returns without finalising. We own the result via Pkcs7::from_ptr.
    unsafe {
        let raw =
            sys::PKCS7_sign(ptr::null_mut(), ptr::null_mut(), stack.as_ptr(), ptr::null_mut(), sys::PKCS7_PARTIAL | sys::PKCS7_DETACHED | sys::PKCS7_BINARY);
        if raw.is_null() {
            return Err(openssl::error::ErrorStack::get().into());
        }
        Ok(Pkcs7::from_ptr(raw))
    }
}

/// Value types for the challengePassword attribute.
pub(crate) enum ChallengeEncoding {
    /// PrintableString (the historical, most compatible choice).
    Printable,
    /// UTF8String, for passwords outside the PrintableString alphabet.
    Utf8,
    /// The bytes are the encoding of a value of this `V_ASN1_*` type (tests
    /// use it to build odd CSRs, e.g. a SET-wrapped password).
    #[cfg(test)]
    Raw(c_int),
}

/// Adds a challengePassword attribute to an unsigned CSR and signs it.
pub(crate) fn add_challenge_and_sign(
    req: &mut X509ReqRef,
    challenge: Option<(&str, ChallengeEncoding)>,
    key: &PKeyRef<Private>,
    md: MessageDigest,
) -> Result<(), ScepError> {
    if let Some((pw, enc)) = challenge {
        let len = c_int::try_from(pw.len()).map_err(|_| ScepError::Internal("challenge too long".into()))?;
        let ty = match enc {
            ChallengeEncoding::Printable => sys::V_ASN1_PRINTABLESTRING,
            ChallengeEncoding::Utf8 => sys::MBSTRING_UTF8,
            #[cfg(test)]
            ChallengeEncoding::Raw(t) => t,
        };
        // SAFETY: `req` is exclusively borrowed (we are its only user); the
        // function copies `len` bytes from `pw` into a new attribute owned by
        // the request ("add1").
        let ok = unsafe { sys::X509_REQ_add1_attr_by_NID(req.as_ptr(), sys::NID_pkcs9_challengePassword, ty, pw.as_ptr(), len) };
        if ok != 1 {
            return Err(openssl::error::ErrorStack::get().into());
        }
    }
    // SAFETY: `req` is exclusively borrowed; X509_REQ_sign re-encodes and signs
    // it in place with `key` (only read) and `md`.
    let ok = unsafe { sys::X509_REQ_sign(req.as_ptr(), key.as_ptr(), md.as_ptr()) };
    if ok <= 0 {
        return Err(openssl::error::ErrorStack::get().into());
    }
    Ok(())
}

/// All values of the challengePassword attribute's first value, if present.
pub(crate) fn challenge_attr(req: &X509ReqRef) -> Option<AttrValue> {
    // SAFETY: `req` is borrowed for the whole call; the attribute and its
    // ASN1_TYPE are owned by `req` and copied out by copy_asn1_type.
    unsafe {
        let loc = sys::X509_REQ_get_attr_by_NID(req.as_ptr(), sys::NID_pkcs9_challengePassword, -1);
        if loc < 0 {
            return None;
        }
        let attr = sys::X509_REQ_get_attr(req.as_ptr(), loc);
        if attr.is_null() {
            return None;
        }
        let t = sys::X509_ATTRIBUTE_get0_type(attr, 0);
        copy_asn1_type(t).or(Some(AttrValue { tag: V_ASN1_UNDEF, bytes: Vec::new() }))
    }
}

/// True when the certificate is a CA (basicConstraints cA=TRUE, or a v1
/// self-signed certificate, as OpenSSL's extension cache reports).
pub(crate) fn is_ca(cert: &X509Ref) -> bool {
    // SAFETY: `cert` is valid for the call; X509_get_extension_flags only
    // computes (under OpenSSL's own lock) and reads the cached extension flags.
    let flags = unsafe { sys::X509_get_extension_flags(cert.as_ptr()) };
    flags & sys::EXFLAG_CA != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509Name, X509ReqBuilder};

    fn csr_with(challenge: (&str, ChallengeEncoding)) -> openssl::x509::X509Req {
        let k = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut n = X509Name::builder().unwrap();
        n.append_entry_by_text("CN", "x").unwrap();
        let n = n.build();
        let mut b = X509ReqBuilder::new().unwrap();
        b.set_subject_name(&n).unwrap();
        b.set_pubkey(&k).unwrap();
        let mut req = b.build();
        add_challenge_and_sign(&mut req, Some(challenge), &k, MessageDigest::sha256()).unwrap();
        // Round-trip through DER so we test what a server would receive.
        openssl::x509::X509Req::from_der(&req.to_der().unwrap()).unwrap()
    }

    #[test]
    fn nids_are_registered_once_and_resolve() {
        let a = scep_nids().unwrap();
        let b = scep_nids().unwrap();
        assert_eq!(a.message_type, b.message_type);
        let obj = openssl::asn1::Asn1Object::from_str("2.16.840.1.113733.1.9.7").unwrap();
        assert_eq!(obj.nid().as_raw(), a.transaction_id);
        let all = [a.message_type, a.pki_status, a.fail_info, a.sender_nonce, a.recipient_nonce, a.transaction_id];
        for (i, x) in all.iter().enumerate() {
            assert_ne!(*x, sys::NID_undef);
            assert!(all[i + 1..].iter().all(|y| y != x));
        }
    }

    #[test]
    fn challenge_encodings() {
        let p = csr_with(("abc", ChallengeEncoding::Printable));
        assert_eq!(challenge_attr(&p).unwrap(), AttrValue { tag: sys::V_ASN1_PRINTABLESTRING, bytes: b"abc".to_vec() });
        let u = csr_with(("ä", ChallengeEncoding::Utf8));
        assert_eq!(challenge_attr(&u).unwrap(), AttrValue { tag: sys::V_ASN1_UTF8STRING, bytes: "ä".as_bytes().to_vec() });
        // A SET-wrapped PrintableString, as some clients send.
        let wrapped = [0x31, 0x05, 0x13, 0x03, b'x', b'y', b'z'];
        let w = csr_with((std::str::from_utf8(&wrapped).unwrap(), ChallengeEncoding::Raw(sys::V_ASN1_SET)));
        assert_eq!(crate::challenge_password(&w).unwrap().as_deref(), Some("xyz"));
        // An INTEGER is not a password.
        let i = csr_with(("\x05", ChallengeEncoding::Raw(2)));
        assert!(crate::challenge_password(&i).is_err());
    }

    #[test]
    fn digest_from_signature_nid() {
        let md = digest_from_nid(Nid::SHA256WITHRSAENCRYPTION.as_raw()).unwrap();
        assert_eq!(md.type_(), MessageDigest::sha256().type_());
        assert!(digest_from_nid(Nid::RSAENCRYPTION.as_raw()).is_none());
    }
}
