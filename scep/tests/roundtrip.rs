//! Client-built requests parsed by the server side, server responses parsed
//! by the client side, and hostile inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::OnceLock;

use common::{ca, der, issue, key, name, Ca};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::symm::Cipher;
use openssl::x509::{X509Req, X509};
use scep::{
    build_csr, challenge_password, degenerate_certs, issuer_and_subject, parse_cert_rep, parse_degenerate_certs, self_signed_for, transaction_id_for, FailInfo,
    MessageType, PkiMessage, PkiStatus, RequestBuilder, Responder, ScepError,
};

struct Fixture {
    ca: Ca,
    other_ca: Ca,
    client_key: PKey<Private>,
    csr: X509Req,
    self_signed: X509,
}

fn fx() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let client_key = key();
        let subject = name("device-1");
        let csr = build_csr(&client_key, &subject, Some("secret")).unwrap();
        let self_signed = self_signed_for(&client_key, &subject).unwrap();
        Fixture { ca: ca("Test CA"), other_ca: ca("Other CA"), client_key, csr, self_signed }
    })
}

fn builder<'a>(f: &'a Fixture, t: MessageType) -> RequestBuilder<'a> {
    RequestBuilder {
        message_type: t,
        csr: &f.csr,
        signer_cert: &f.self_signed,
        signer_key: &f.client_key,
        recipient: &f.ca.cert,
        cipher: Cipher::aes_256_cbc(),
        digest: MessageDigest::sha256(),
        transaction_id: transaction_id_for(&f.client_key).unwrap(),
    }
}

fn responder(f: &Fixture) -> Responder<'_> {
    Responder { signer_cert: &f.ca.cert, signer_key: &f.ca.key, cipher: Cipher::aes_256_cbc() }
}

#[test]
fn pkcs_req_round_trip() {
    let f = fx();
    let b = builder(f, MessageType::PkcsReq);
    let (msg, nonce) = b.build().unwrap();
    assert_eq!(nonce.len(), 16);
    let m = PkiMessage::parse(&msg).unwrap();
    assert_eq!(m.message_type, MessageType::PkcsReq);
    assert_eq!(m.transaction_id, b.transaction_id);
    assert_eq!(m.sender_nonce, nonce);
    assert_eq!(der(&m.signer_cert), der(&f.self_signed));
    assert_eq!(m.digest.type_(), MessageDigest::sha256().type_());
    let csr = m.csr(&f.ca.cert, &f.ca.key).unwrap();
    assert_eq!(csr.to_der().unwrap(), f.csr.to_der().unwrap());
    assert_eq!(challenge_password(&csr).unwrap().as_deref(), Some("secret"));
    assert!(csr.public_key().unwrap().public_eq(&f.client_key));
    // Each build has a fresh nonce.
    let (_, nonce2) = b.build().unwrap();
    assert_ne!(nonce, nonce2);
}

#[test]
fn renewal_req_round_trip() {
    let f = fx();
    let existing = issue(&f.ca, &f.csr, 7);
    let new_key = key();
    let csr = build_csr(&new_key, &name("device-1"), None).unwrap();
    let b = RequestBuilder {
        message_type: MessageType::RenewalReq,
        csr: &csr,
        signer_cert: &existing,
        signer_key: &f.client_key,
        recipient: &f.ca.cert,
        cipher: Cipher::aes_128_cbc(),
        digest: MessageDigest::sha256(),
        transaction_id: transaction_id_for(&new_key).unwrap(),
    };
    let (msg, nonce) = b.build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    assert_eq!(m.message_type, MessageType::RenewalReq);
    assert_eq!(m.sender_nonce, nonce);
    assert_eq!(der(&m.signer_cert), der(&existing));
    let got = m.csr(&f.ca.cert, &f.ca.key).unwrap();
    assert!(got.public_key().unwrap().public_eq(&new_key));
    assert_eq!(challenge_password(&got).unwrap(), None);
    // The answer is encrypted to the existing certificate.
    let issued = issue(&f.ca, &got, 8);
    let rep = responder(f).success(&m, &issued, &[]).unwrap();
    let r = parse_cert_rep(&rep, std::slice::from_ref(&f.ca.cert), &existing, &f.client_key).unwrap();
    assert_eq!(r.status, PkiStatus::Success);
    assert_eq!(der(&r.certs[0]), der(&issued));
}

#[test]
fn cert_poll_round_trip() {
    let f = fx();
    let (msg, nonce) = builder(f, MessageType::CertPoll).build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    assert_eq!(m.message_type, MessageType::CertPoll);
    assert_eq!(m.sender_nonce, nonce);
    let content = m.decrypt(&f.ca.cert, &f.ca.key).unwrap();
    let (issuer, subject) = issuer_and_subject(&content).unwrap();
    assert_eq!(issuer.to_der().unwrap(), f.ca.cert.subject_name().to_der().unwrap());
    assert_eq!(subject.to_der().unwrap(), f.csr.subject_name().to_der().unwrap());
    // Not a CSR.
    assert!(m.csr(&f.ca.cert, &f.ca.key).is_err());
    // Pending then success answers to a poll.
    let pend = responder(f).pending(&m).unwrap();
    let r = parse_cert_rep(&pend, std::slice::from_ref(&f.ca.cert), &f.self_signed, &f.client_key).unwrap();
    assert_eq!(r.status, PkiStatus::Pending);
    assert_eq!(r.recipient_nonce, nonce);
}

#[test]
fn get_cert_and_get_crl_round_trip() {
    let f = fx();
    let existing = issue(&f.ca, &f.csr, 0x80_00_01);
    for t in [MessageType::GetCert, MessageType::GetCrl] {
        let mut b = builder(f, t);
        b.signer_cert = &existing;
        let (msg, _) = b.build().unwrap();
        let m = PkiMessage::parse(&msg).unwrap();
        assert_eq!(m.message_type, t);
        let content = m.decrypt(&f.ca.cert, &f.ca.key).unwrap();
        assert_eq!(content, scep::encode_issuer_and_serial(&existing).unwrap());
        // SEQUENCE { issuer Name, INTEGER 0x00800001 }
        let issuer = f.ca.cert.subject_name().to_der().unwrap();
        assert_eq!(&content[2..2 + issuer.len()], &issuer[..]);
        assert_eq!(&content[2 + issuer.len()..], &[2, 4, 0, 0x80, 0, 1]);
    }
    // CertRep is not a request type.
    assert!(builder(f, MessageType::CertRep).build().is_err());
}

#[test]
fn success_response_round_trip() {
    let f = fx();
    let b = builder(f, MessageType::PkcsReq);
    let (msg, nonce) = b.build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    let csr = m.csr(&f.ca.cert, &f.ca.key).unwrap();
    let issued = issue(&f.ca, &csr, 42);
    for cipher in [Cipher::aes_256_cbc(), Cipher::aes_128_cbc(), Cipher::des_ede3_cbc()] {
        let r = Responder { cipher, ..responder(f) };
        let rep = r.success(&m, &issued, std::slice::from_ref(&f.ca.cert)).unwrap();
        let c = parse_cert_rep(&rep, std::slice::from_ref(&f.ca.cert), &f.self_signed, &f.client_key).unwrap();
        assert_eq!(c.status, PkiStatus::Success);
        assert_eq!(c.fail_info, None);
        assert_eq!(c.transaction_id, b.transaction_id);
        assert_eq!(c.recipient_nonce, nonce);
        assert_eq!(c.certs.len(), 2);
        assert_eq!(der(&c.certs[0]), der(&issued));
        assert_eq!(der(&c.certs[1]), der(&f.ca.cert));
        // Only the requester can read it.
        let stranger = key();
        let stranger_cert = self_signed_for(&stranger, &name("x")).unwrap();
        assert!(matches!(parse_cert_rep(&rep, std::slice::from_ref(&f.ca.cert), &stranger_cert, &stranger), Err(ScepError::Decrypt(_))));
        // Must be signed by one of verify_with.
        assert!(matches!(parse_cert_rep(&rep, std::slice::from_ref(&f.other_ca.cert), &f.self_signed, &f.client_key), Err(ScepError::BadSignature(_))));
        assert!(parse_cert_rep(&rep, &[], &f.self_signed, &f.client_key).is_err());
        // A CertRep is not a request.
        assert!(matches!(PkiMessage::parse(&rep), Err(ScepError::UnexpectedMessageType(MessageType::CertRep))));
    }
}

#[test]
fn failure_and_pending_responses() {
    let f = fx();
    let (msg, nonce) = builder(f, MessageType::PkcsReq).build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    for info in [FailInfo::BadAlg, FailInfo::BadMessageCheck, FailInfo::BadRequest, FailInfo::BadTime, FailInfo::BadCertId] {
        let rep = responder(f).failure(&m, info).unwrap();
        let c = parse_cert_rep(&rep, std::slice::from_ref(&f.ca.cert), &f.self_signed, &f.client_key).unwrap();
        assert_eq!(c.status, PkiStatus::Failure);
        assert_eq!(c.fail_info, Some(info));
        assert_eq!(c.transaction_id, m.transaction_id);
        assert_eq!(c.recipient_nonce, nonce);
        assert!(c.certs.is_empty());
    }
    let rep = responder(f).pending(&m).unwrap();
    let c = parse_cert_rep(&rep, std::slice::from_ref(&f.ca.cert), &f.self_signed, &f.client_key).unwrap();
    assert_eq!(c.status, PkiStatus::Pending);
    assert_eq!(c.fail_info, None);
    assert_eq!(c.recipient_nonce, nonce);
    // The request is not a CertRep.
    assert!(matches!(
        parse_cert_rep(&msg, std::slice::from_ref(&f.self_signed), &f.self_signed, &f.client_key),
        Err(ScepError::UnexpectedMessageType(MessageType::PkcsReq))
    ));
}

#[test]
fn response_signed_by_ra() {
    let f = fx();
    // An RA certificate issued by the CA signs the answer; the client trusts [RA, CA].
    let ra_key = key();
    let ra_csr = build_csr(&ra_key, &name("Test RA"), None).unwrap();
    let ra = issue(&f.ca, &ra_csr, 99);
    // GetCACert with RA + CA: requests go to the RA, whatever the order.
    let both = [f.ca.cert.clone(), ra.clone()];
    assert_eq!(der(scep::pick_recipient(&both).unwrap()), der(&ra));
    let both = [ra.clone(), f.ca.cert.clone()];
    assert_eq!(der(scep::pick_recipient(&both).unwrap()), der(&ra));
    assert_eq!(der(scep::pick_recipient(std::slice::from_ref(&f.ca.cert)).unwrap()), der(&f.ca.cert));
    assert!(scep::pick_recipient(&[]).is_none());
    let mut b = builder(f, MessageType::PkcsReq);
    b.recipient = &ra;
    let (msg, _) = b.build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    assert!(m.decrypt(&f.ca.cert, &f.ca.key).is_err());
    let csr = m.csr(&ra, &ra_key).unwrap();
    let issued = issue(&f.ca, &csr, 100);
    let r = Responder { signer_cert: &ra, signer_key: &ra_key, cipher: Cipher::aes_256_cbc() };
    let rep = r.success(&m, &issued, &[]).unwrap();
    let c = parse_cert_rep(&rep, &[ra.clone(), f.ca.cert.clone()], &f.self_signed, &f.client_key).unwrap();
    assert_eq!(der(&c.certs[0]), der(&issued));
    // The RA key does not match the CA certificate: signing must fail, not produce garbage.
    let bad = Responder { signer_cert: &f.ca.cert, signer_key: &ra_key, cipher: Cipher::aes_256_cbc() };
    assert!(bad.pending(&m).is_err());
}

#[test]
fn legacy_sha1_des3_request_answered_with_sha1() {
    let f = fx();
    let mut b = builder(f, MessageType::PkcsReq);
    b.cipher = Cipher::des_ede3_cbc();
    b.digest = MessageDigest::sha1();
    let (msg, nonce) = b.build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    assert_eq!(m.digest.type_(), MessageDigest::sha1().type_());
    let csr = m.csr(&f.ca.cert, &f.ca.key).unwrap();
    let issued = issue(&f.ca, &csr, 5);
    let r = Responder { cipher: Cipher::des_ede3_cbc(), ..responder(f) };
    let rep = r.success(&m, &issued, &[]).unwrap();
    assert_eq!(signer_digest_oid(&rep), SHA1_OID);
    let c = parse_cert_rep(&rep, std::slice::from_ref(&f.ca.cert), &f.self_signed, &f.client_key).unwrap();
    assert_eq!(c.recipient_nonce, nonce);
    assert_eq!(der(&c.certs[0]), der(&issued));
    // And a SHA-256 request gets a SHA-256 answer.
    let (msg, _) = builder(f, MessageType::PkcsReq).build().unwrap();
    assert_eq!(signer_digest_oid(&msg), SHA256_OID);
    let m = PkiMessage::parse(&msg).unwrap();
    let rep = responder(f).failure(&m, FailInfo::BadRequest).unwrap();
    assert_eq!(signer_digest_oid(&rep), SHA256_OID);
}

/// DER of the OID values (no tag/length) of SHA-1 and SHA-256.
const SHA1_OID: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const SHA256_OID: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// The digest algorithm OID in SignedData.digestAlgorithms, found by
/// walking the DER: ContentInfo { oid, [0] { SignedData { version, SET { AlgId { oid ...
fn signer_digest_oid(msg: &[u8]) -> Vec<u8> {
    let (ci, _) = tlv(msg);
    let (_oid, rest) = tlv(ci);
    let (explicit, _) = tlv(rest);
    let (signed, _) = tlv(explicit);
    let (_version, rest) = tlv(signed);
    let (algs, _) = tlv(rest);
    let (alg, _) = tlv(algs);
    let (oid, _) = tlv(alg);
    oid.to_vec()
}

/// (content, rest) of the definite-length TLV at the start of `d`.
fn tlv(d: &[u8]) -> (&[u8], &[u8]) {
    let (len, hl) = if d[1] < 0x80 {
        (d[1] as usize, 2)
    } else {
        let n = (d[1] & 0x7f) as usize;
        (d[2..2 + n].iter().fold(0usize, |a, &b| (a << 8) | b as usize), 2 + n)
    };
    (&d[hl..hl + len], &d[hl + len..])
}

/// Re-encodes the outermost SEQUENCE and the `[0]` EXPLICIT tag of a
/// ContentInfo with indefinite lengths (BER), as some clients send.
fn to_indefinite(msg: &[u8]) -> Vec<u8> {
    let (ci, rest) = tlv(msg);
    assert!(rest.is_empty());
    assert_eq!(msg[0], 0x30);
    let (oid_content, after_oid) = tlv(ci);
    let oid_tlv = &ci[..ci.len() - after_oid.len()];
    assert_eq!(oid_tlv.len(), oid_content.len() + 2);
    assert_eq!(after_oid[0], 0xa0);
    let (inner, rest) = tlv(after_oid);
    assert!(rest.is_empty());
    let mut out = vec![0x30, 0x80];
    out.extend_from_slice(oid_tlv);
    out.extend_from_slice(&[0xa0, 0x80]);
    out.extend_from_slice(inner);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

#[test]
fn ber_indefinite_length_request_parses() {
    let f = fx();
    let (msg, nonce) = builder(f, MessageType::PkcsReq).build().unwrap();
    let ber = to_indefinite(&msg);
    assert_ne!(ber, msg);
    assert_eq!(&ber[..2], &[0x30, 0x80]);
    let m = PkiMessage::parse(&ber).unwrap();
    assert_eq!(m.sender_nonce, nonce);
    assert!(m.csr(&f.ca.cert, &f.ca.key).is_ok());
    // The same for a CertRep.
    let issued = issue(&f.ca, &f.csr, 3);
    let rep = responder(f).success(&m, &issued, &[]).unwrap();
    let c = parse_cert_rep(&to_indefinite(&rep), std::slice::from_ref(&f.ca.cert), &f.self_signed, &f.client_key).unwrap();
    assert_eq!(der(&c.certs[0]), der(&issued));
    // A missing end-of-contents is an error, not a panic.
    assert!(PkiMessage::parse(&ber[..ber.len() - 2]).is_err());
}

#[test]
fn tampered_messages_are_rejected() {
    let f = fx();
    let (msg, _) = builder(f, MessageType::PkcsReq).build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    // The signature is the last element of the (only) SignerInfo.
    let mut t = msg.clone();
    let last = t.len() - 1;
    t[last] ^= 1;
    assert!(matches!(PkiMessage::parse(&t), Err(ScepError::BadSignature(_))), "{:?}", PkiMessage::parse(&t));
    // A byte of the signed content (inside the encrypted envelope).
    let pos = msg.windows(m.encrypted_content.len()).position(|w| w == &m.encrypted_content[..]).unwrap();
    let mut t = msg.clone();
    t[pos + m.encrypted_content.len() - 5] ^= 0x40;
    assert!(matches!(PkiMessage::parse(&t), Err(ScepError::BadSignature(_))));
    // Same for a response.
    let rep = responder(f).pending(&m).unwrap();
    let mut t = rep.clone();
    let last = t.len() - 1;
    t[last] ^= 0x80;
    assert!(parse_cert_rep(&t, std::slice::from_ref(&f.ca.cert), &f.self_signed, &f.client_key).is_err());
}

#[test]
fn wrong_recipient_cannot_decrypt() {
    let f = fx();
    let (msg, _) = builder(f, MessageType::PkcsReq).build().unwrap();
    let m = PkiMessage::parse(&msg).unwrap();
    assert!(matches!(m.decrypt(&f.other_ca.cert, &f.other_ca.key), Err(ScepError::Decrypt(_))));
    // Right certificate, wrong key: OpenSSL refuses the mismatched pair.
    assert!(m.decrypt(&f.ca.cert, &f.other_ca.key).is_err());
    assert!(m.csr(&f.other_ca.cert, &f.other_ca.key).is_err());
    // Empty / garbage content.
    let mut empty = m.clone();
    empty.encrypted_content.clear();
    assert!(matches!(empty.decrypt(&f.ca.cert, &f.ca.key), Err(ScepError::InvalidContent(_))));
    empty.encrypted_content = vec![0x30, 0x03, 1, 2, 3];
    assert!(empty.decrypt(&f.ca.cert, &f.ca.key).is_err());
}

#[test]
fn garbage_empty_and_truncated_inputs_are_errors() {
    let f = fx();
    let ca = [f.ca.cert.clone()];
    for input in [&b""[..], b"\x00", b"\x30", b"\x30\x80", b"\x30\x82\xff\xff", b"hello world", &[0xffu8; 64]] {
        assert!(PkiMessage::parse(input).is_err());
        assert!(parse_cert_rep(input, &ca, &f.self_signed, &f.client_key).is_err());
        assert!(parse_degenerate_certs(input).is_err());
        assert!(issuer_and_subject(input).is_err());
    }
    let (msg, _) = builder(f, MessageType::PkcsReq).build().unwrap();
    for n in 0..msg.len() {
        assert!(PkiMessage::parse(&msg[..n]).is_err(), "truncated to {n} bytes parsed");
    }
    let m = PkiMessage::parse(&msg).unwrap();
    let rep = responder(f).failure(&m, FailInfo::BadTime).unwrap();
    for n in (0..rep.len()).step_by(7) {
        assert!(parse_cert_rep(&rep[..n], &ca, &f.self_signed, &f.client_key).is_err());
    }
    // Single-byte corruption anywhere: an error or (in bytes the signature
    // does not cover, e.g. the embedded certificate's own signature) a
    // message — never a panic or crash.
    for i in (0..msg.len()).step_by(3) {
        let mut t = msg.clone();
        t[i] ^= 0x5a;
        if let Ok(m) = PkiMessage::parse(&t) {
            let _ = m.csr(&f.ca.cert, &f.ca.key);
        }
    }
    // Degenerate PKCS#7 is not a PKIMessage (no signer).
    let deg = degenerate_certs(&ca).unwrap();
    assert!(PkiMessage::parse(&deg).is_err());
    // An EnvelopedData is not a PKIMessage.
    assert!(PkiMessage::parse(&m.encrypted_content).is_err());
}

#[test]
fn degenerate_certs_round_trip() {
    let f = fx();
    let issued = issue(&f.ca, &f.csr, 11);
    let d = degenerate_certs(&[f.ca.cert.clone(), issued.clone()]).unwrap();
    let certs = parse_degenerate_certs(&d).unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(der(&certs[0]), der(&f.ca.cert));
    assert_eq!(der(&certs[1]), der(&issued));
    let single = degenerate_certs(std::slice::from_ref(&issued)).unwrap();
    assert_eq!(parse_degenerate_certs(&single).unwrap().len(), 1);
    assert!(parse_degenerate_certs(&degenerate_certs(&[]).unwrap()).unwrap().is_empty());
    // OpenSSL's own CLI reads it as a certs-only PKCS#7 with absent content.
    let p7 = openssl::pkcs7::Pkcs7::from_der(&d).unwrap();
    assert_eq!(p7.type_().unwrap().nid(), openssl::nid::Nid::PKCS7_SIGNED);
}

#[test]
fn challenge_password_extraction() {
    let k = key();
    let n = name("c");
    let csr = build_csr(&k, &n, Some("s3cret-Pass")).unwrap();
    assert_eq!(challenge_password(&csr).unwrap().as_deref(), Some("s3cret-Pass"));
    // Non-PrintableString characters go as UTF8String.
    let csr = build_csr(&k, &n, Some("pässwörd_!*")).unwrap();
    assert_eq!(challenge_password(&csr).unwrap().as_deref(), Some("pässwörd_!*"));
    let csr = build_csr(&k, &n, None).unwrap();
    assert_eq!(challenge_password(&csr).unwrap(), None);
    // CSRs made by the openssl CLI (PrintableString / UTF8String).
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("k.pem");
    std::fs::write(&key_path, k.private_key_to_pem_pkcs8().unwrap()).unwrap();
    for (cfg_extra, pw) in [("", "cli-secret"), ("string_mask = utf8only\n", "cli-secret")] {
        let cfg = format!("[req]\nprompt = no\ndistinguished_name = dn\nattributes = attrs\n{cfg_extra}[dn]\nCN = x\n[attrs]\nchallengePassword = {pw}\n");
        let cfg_path = dir.path().join("req.cnf");
        std::fs::write(&cfg_path, cfg).unwrap();
        let out = std::process::Command::new("openssl").args(["req", "-new", "-outform", "DER", "-key"]).arg(&key_path).arg("-config").arg(&cfg_path).output();
        let Ok(out) = out else {
            eprintln!("openssl CLI not available; skipping the CLI-made CSR check");
            return;
        };
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let csr = X509Req::from_der(&out.stdout).unwrap();
        assert_eq!(challenge_password(&csr).unwrap().as_deref(), Some(pw));
    }
}

#[test]
fn transaction_ids_and_self_signed() {
    let f = fx();
    let a = transaction_id_for(&f.client_key).unwrap();
    assert_eq!(a, transaction_id_for(&f.client_key).unwrap());
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    let expected = openssl::hash::hash(MessageDigest::sha256(), &f.client_key.public_key_to_der().unwrap()).unwrap();
    assert_eq!(a, hex::encode(expected));
    assert_ne!(a, transaction_id_for(&f.ca.key).unwrap());
    let s = &f.self_signed;
    assert_eq!(s.subject_name().to_der().unwrap(), name("device-1").to_der().unwrap());
    assert_eq!(s.issuer_name().to_der().unwrap(), s.subject_name().to_der().unwrap());
    assert!(s.verify(&f.client_key).unwrap());
    assert!(!s.verify(&f.ca.key).unwrap());
}

#[test]
fn message_type_codes() {
    for t in [MessageType::CertRep, MessageType::RenewalReq, MessageType::PkcsReq, MessageType::CertPoll, MessageType::GetCert, MessageType::GetCrl] {
        assert_eq!(MessageType::from_code(t.code()), Some(t));
    }
    assert_eq!(MessageType::PkcsReq.code(), 19);
    assert_eq!(MessageType::CertPoll.code(), 20);
    assert_eq!(MessageType::from_code(99), None);
    assert_eq!(PkiStatus::from_code(1), None);
    assert_eq!(FailInfo::from_code(4), Some(FailInfo::BadCertId));
    assert_eq!(FailInfo::from_code(5), None);
}
