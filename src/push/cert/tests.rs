use super::*;
use crate::pki::{Ca, Issued};
use chrono::DateTime;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::{X509Builder, X509NameBuilder};
use std::sync::OnceLock;

const TOPIC: &str = "com.apple.mgmt.External.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

fn ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| Ca::generate("Test Apple CA").unwrap())
}

fn push_cert(days: i64) -> Issued {
    ca().issue_push_cert(TOPIC, days).unwrap()
}

fn ca_stack() -> Stack<X509> {
    let mut s = Stack::new().unwrap();
    s.push(ca().cert.clone()).unwrap();
    s
}

fn pem(c: &X509) -> String {
    String::from_utf8(c.to_pem().unwrap()).unwrap()
}

fn legacy_p12(issued: &Issued, password: &str) -> Vec<u8> {
    assert!(legacy_provider_loaded(), "legacy provider needed to build an RC2 .p12");
    Pkcs12::builder()
        .name("push")
        .pkey(&issued.key)
        .cert(&issued.cert)
        .ca(ca_stack())
        .key_algorithm(Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC)
        .cert_algorithm(Nid::PBE_WITHSHA1AND40BITRC2_CBC)
        .mac_md(MessageDigest::sha1())
        .build2(password)
        .unwrap()
        .to_der()
        .unwrap()
}

fn modern_p12(issued: &Issued, password: &str) -> Vec<u8> {
    Pkcs12::builder().name("push").pkey(&issued.key).cert(&issued.cert).ca(ca_stack()).build2(password).unwrap().to_der().unwrap()
}

/// A certificate with an arbitrary (or no) UID and validity offsets in days from now.
fn custom_cert(uid: Option<&str>, from_days: i64, to_days: i64) -> Issued {
    let key = crate::pki::rsa_key().unwrap();
    let now = chrono::Utc::now().timestamp();
    let mut name = X509NameBuilder::new().unwrap();
    if let Some(uid) = uid {
        name.append_entry_by_nid(Nid::USERID, uid).unwrap();
    }
    name.append_entry_by_text("CN", "APSP:test").unwrap();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(name.build().as_ref()).unwrap();
    b.set_issuer_name(ca().cert.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(Asn1Time::from_unix(now + from_days * 86_400).unwrap().as_ref()).unwrap();
    b.set_not_after(Asn1Time::from_unix(now + to_days * 86_400).unwrap().as_ref()).unwrap();
    b.sign(&ca().key, MessageDigest::sha256()).unwrap();
    Issued { cert: b.build(), key }
}

fn assert_matches_issued(pc: &PushCert, issued: &Issued, chain_len: usize) {
    assert_eq!(pc.topic, TOPIC);
    assert_eq!(pc.subject, format!("UID={TOPIC}, CN=APSP:{}, C=US", TOPIC.rsplit('.').next().unwrap()));
    let chain = X509::stack_from_pem(pc.cert_chain_pem.as_bytes()).unwrap();
    assert_eq!(chain.len(), chain_len);
    assert_eq!(chain[0].to_der().unwrap(), issued.cert.to_der().unwrap(), "leaf first");
    if chain_len > 1 {
        assert_eq!(chain[1].to_der().unwrap(), ca().cert.to_der().unwrap());
    }
    let key = PKey::private_key_from_pkcs8(pc.key_pkcs8_der()).unwrap();
    assert!(key.public_eq(&issued.key));
    assert_eq!(pc.not_before, to_naive(issued.cert.not_before()).unwrap());
    assert_eq!(pc.not_after, to_naive(issued.cert.not_after()).unwrap());
}

#[test]
fn modern_pkcs12_round_trip() {
    let issued = push_cert(300);
    let der = modern_p12(&issued, "s3cret");
    let pc = PushCert::from_pkcs12(&der, "s3cret").unwrap();
    assert_matches_issued(&pc, &issued, 2);
    let pc = PushCert::from_upload(&der, Some("s3cret")).unwrap();
    assert_matches_issued(&pc, &issued, 2);
}

#[test]
fn modern_pkcs12_with_empty_password() {
    let issued = push_cert(300);
    let der = modern_p12(&issued, "");
    let pc = PushCert::from_upload(&der, None).unwrap();
    assert_matches_issued(&pc, &issued, 2);
}

#[test]
fn legacy_pkcs12_round_trip() {
    let issued = push_cert(300);
    let der = legacy_p12(&issued, "s3cret");
    let pc = PushCert::from_pkcs12(&der, "s3cret").unwrap();
    assert_matches_issued(&pc, &issued, 2);
}

#[test]
fn cli_legacy_pkcs12_parses() {
    let issued = push_cert(300);
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let chain = dir.path().join("ca.pem");
    let out = dir.path().join("push.p12");
    std::fs::write(&cert, issued.cert.to_pem().unwrap()).unwrap();
    std::fs::write(&key, issued.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(&chain, ca().cert.to_pem().unwrap()).unwrap();
    let status = std::process::Command::new("/usr/bin/openssl")
        .args(["pkcs12", "-export", "-legacy", "-passout", "pass:cli-pass"])
        .arg("-in")
        .arg(&cert)
        .arg("-inkey")
        .arg(&key)
        .arg("-certfile")
        .arg(&chain)
        .arg("-out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    // Make sure the fixture really is legacy-encrypted (RC2 for the certificates).
    let info = std::process::Command::new("/usr/bin/openssl")
        .args(["pkcs12", "-info", "-noout", "-legacy", "-passin", "pass:cli-pass", "-in"])
        .arg(&out)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&info.stdout), String::from_utf8_lossy(&info.stderr));
    assert!(text.contains("RC2"), "not RC2-encrypted: {text}");
    let der = std::fs::read(&out).unwrap();
    let pc = PushCert::from_upload(&der, Some("cli-pass")).unwrap();
    assert_matches_issued(&pc, &issued, 2);
    assert!(matches!(PushCert::from_pkcs12(&der, "nope"), Err(PushCertError::WrongPassword)));
}

#[test]
fn wrong_password() {
    let issued = push_cert(300);
    for der in [modern_p12(&issued, "right"), legacy_p12(&issued, "right")] {
        let err = PushCert::from_pkcs12(&der, "wrong-pass-xyz").unwrap_err();
        assert!(matches!(err, PushCertError::WrongPassword), "{err:?}");
        assert!(err.is_client_error());
        assert!(!err.to_string().contains("wrong-pass-xyz"));
        assert!(!format!("{err:?}").contains("wrong-pass-xyz"));
        assert!(matches!(PushCert::from_upload(&der, None), Err(PushCertError::WrongPassword)));
        // A NUL byte must not panic inside the openssl crate.
        assert!(matches!(PushCert::from_pkcs12(&der, "a\0b"), Err(PushCertError::WrongPassword)));
    }
}

#[test]
fn garbage_bytes() {
    for data in [&b"\x00\x01garbage bytes"[..], b"\x30\x82\x01\x00truncated", b""] {
        let err = PushCert::from_pkcs12(data, "x").unwrap_err();
        assert!(matches!(err, PushCertError::InvalidPkcs12(_)), "{err:?}");
        assert!(matches!(PushCert::from_upload(data, Some("x")), Err(PushCertError::InvalidPkcs12(_))));
    }
    let err = PushCert::from_upload(b"  -----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n", None).unwrap_err();
    assert!(matches!(err, PushCertError::InvalidPem(_)), "{err:?}");
    let err = PushCert::from_combined_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err();
    assert!(matches!(err, PushCertError::InvalidPem(_)), "{err:?}");
    let err = PushCert::from_combined_pem(b"hello").unwrap_err();
    assert!(matches!(err, PushCertError::InvalidPem(_)), "{err:?}");
}

#[test]
fn pem_with_pkcs1_key() {
    let issued = push_cert(300);
    let key_pem = issued.key.rsa().unwrap().private_key_to_pem().unwrap();
    assert!(String::from_utf8_lossy(&key_pem).contains("BEGIN RSA PRIVATE KEY"));
    let pc = PushCert::from_pem(&issued.cert.to_pem().unwrap(), &key_pem).unwrap();
    assert_matches_issued(&pc, &issued, 1);
}

#[test]
fn pem_with_pkcs8_key() {
    let issued = push_cert(300);
    let key_pem = issued.key.private_key_to_pem_pkcs8().unwrap();
    assert!(String::from_utf8_lossy(&key_pem).contains("BEGIN PRIVATE KEY"));
    let certs = format!("{}{}", pem(&issued.cert), pem(&ca().cert));
    let pc = PushCert::from_pem(certs.as_bytes(), &key_pem).unwrap();
    assert_matches_issued(&pc, &issued, 2);
}

#[test]
fn pem_missing_parts() {
    let issued = push_cert(300);
    let key_pem = issued.key.private_key_to_pem_pkcs8().unwrap();
    let cert_pem = issued.cert.to_pem().unwrap();
    assert!(matches!(PushCert::from_pem(&key_pem, &key_pem), Err(PushCertError::NoCertificate)));
    assert!(matches!(PushCert::from_pem(&cert_pem, &cert_pem), Err(PushCertError::NoPrivateKey)));
    assert!(matches!(PushCert::from_combined_pem(&cert_pem), Err(PushCertError::NoPrivateKey)));
    assert!(matches!(PushCert::from_upload(&key_pem, None), Err(PushCertError::NoCertificate)));
}

#[test]
fn encrypted_pem_key_is_refused() {
    let issued = push_cert(300);
    let cert_pem = issued.cert.to_pem().unwrap();
    let pkcs8 = issued.key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), b"pw").unwrap();
    let pkcs1 = issued.key.rsa().unwrap().private_key_to_pem_passphrase(Cipher::aes_256_cbc(), b"pw").unwrap();
    for key in [pkcs8, pkcs1] {
        let err = PushCert::from_pem(&cert_pem, &key).unwrap_err();
        assert!(matches!(err, PushCertError::EncryptedKey), "{err:?}");
    }
}

#[test]
fn combined_pem_both_orders() {
    let issued = push_cert(300);
    let key = String::from_utf8(issued.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let leaf = pem(&issued.cert);
    let chain = pem(&ca().cert);
    // Key last; key first with the CA certificate before the leaf; no trailing newline.
    let orders = [format!("{leaf}{chain}{key}"), format!("\n\n  {key}{chain}{leaf}"), format!("{key}\r\n{chain}{leaf}").trim_end().to_string()];
    for text in orders {
        let pc = PushCert::from_combined_pem(text.as_bytes()).unwrap();
        assert_matches_issued(&pc, &issued, 2);
        let pc = PushCert::from_upload(text.as_bytes(), Some("ignored")).unwrap();
        assert_matches_issued(&pc, &issued, 2);
    }
}

#[test]
fn upload_detects_pem_with_bag_attributes() {
    let issued = push_cert(300);
    let text = format!(
        "Bag Attributes\n    localKeyID: 01 02 03\nsubject=UID = {TOPIC}\n{}Bag Attributes\n    localKeyID: 01 02 03\nKey Attributes: <No Attributes>\n{}",
        pem(&issued.cert),
        String::from_utf8(issued.key.private_key_to_pem_pkcs8().unwrap()).unwrap()
    );
    let pc = PushCert::from_upload(text.as_bytes(), None).unwrap();
    assert_matches_issued(&pc, &issued, 1);
}

#[test]
fn mismatched_key() {
    let issued = push_cert(300);
    let other = push_cert(300);
    let key_pem = other.key.private_key_to_pem_pkcs8().unwrap();
    let err = PushCert::from_pem(&issued.cert.to_pem().unwrap(), &key_pem).unwrap_err();
    assert!(matches!(err, PushCertError::KeyMismatch), "{err:?}");
    let err = PushCert::from_stored(&pem(&issued.cert), &other.key.private_key_to_pkcs8().unwrap()).unwrap_err();
    assert!(matches!(err, PushCertError::KeyMismatch), "{err:?}");
}

#[test]
fn device_cert_without_uid_is_not_push_cert() {
    let device = ca().issue_device("x").unwrap();
    // EC key in SEC1 form ("EC PRIVATE KEY").
    let key_pem = device.key.ec_key().unwrap().private_key_to_pem().unwrap();
    assert!(String::from_utf8_lossy(&key_pem).contains("BEGIN EC PRIVATE KEY"));
    let err = PushCert::from_pem(&device.cert.to_pem().unwrap(), &key_pem).unwrap_err();
    match &err {
        PushCertError::NotPushCert { subject, reason } => {
            assert_eq!(subject, "O=MDM, CN=x");
            assert!(reason.contains("no UID"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("com.apple.mgmt.External.<uuid>"));
    assert!(err.to_string().contains("Push Certificates Portal"));
    assert!(matches!(topic_of(&device.cert), Err(PushCertError::NotPushCert { .. })));
}

#[test]
fn foreign_uid_is_not_push_cert() {
    let issued = custom_cert(Some("com.example.foo"), -1, 300);
    let der = modern_p12(&issued, "pw");
    let err = PushCert::from_pkcs12(&der, "pw").unwrap_err();
    assert!(matches!(err, PushCertError::NotPushCert { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("com.example.foo"), "{msg}");
    assert!(msg.contains("com.apple.mgmt.External.<uuid>"), "{msg}");
    for bad in [
        "com.apple.mgmt.",
        "com.apple.mgmt.External.",
        "com.apple.mgmt.External.a b",
        "com.apple.mgmt.External.a\nb",
        "com.apple.mgmt.XServer.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "com.apple.mgmt.External.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 ",
    ] {
        let cert = custom_cert(Some(bad), -1, 1).cert;
        assert!(matches!(topic_of(&cert), Err(PushCertError::NotPushCert { .. })), "{bad:?}");
    }
    assert_eq!(topic_of(&push_cert(1).cert).unwrap(), TOPIC);
}

#[test]
fn expired() {
    let issued = push_cert(-1);
    let der = modern_p12(&issued, "pw");
    let err = PushCert::from_pkcs12(&der, "pw").unwrap_err();
    let PushCertError::Expired { not_after } = err else { panic!("unexpected {err:?}") };
    assert_eq!(not_after, to_naive(issued.cert.not_after()).unwrap());
    assert!(err_string(&der).contains(&not_after.date().to_string()));
    // What the database already holds still loads, and reports itself expired.
    let stored = PushCert::from_stored(&pem(&issued.cert), &issued.key.private_key_to_pkcs8().unwrap()).unwrap();
    assert!(stored.is_expired(now_utc()));
    // One day ago to the second when issued; a second boundary may pass since.
    let days = stored.days_left(now_utc());
    assert!(days == -1 || days == -2, "{days}");
}

fn err_string(der: &[u8]) -> String {
    PushCert::from_pkcs12(der, "pw").unwrap_err().to_string()
}

#[test]
fn not_yet_valid() {
    let issued = custom_cert(Some(TOPIC), 2, 300);
    let der = modern_p12(&issued, "pw");
    let err = PushCert::from_pkcs12(&der, "pw").unwrap_err();
    assert!(matches!(err, PushCertError::NotYetValid { .. }), "{err:?}");
}

#[test]
fn days_left_and_expiry() {
    let issued = push_cert(300);
    let pc = PushCert::from_pem(&issued.cert.to_pem().unwrap(), &issued.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let now = now_utc();
    let days = pc.days_left(now);
    assert!(days == 299 || days == 300, "{days}");
    assert!(!pc.is_expired(now));
    assert!(!pc.is_expired(pc.not_after));
    let later = pc.not_after + TimeDelta::seconds(1);
    assert!(pc.is_expired(later));
    assert_eq!(pc.days_left(later), -1, "floor, not truncation");
    assert_eq!(pc.days_left(pc.not_after - TimeDelta::hours(36)), 1);
}

#[test]
fn asn1_time_conversion() {
    let t = Asn1Time::from_unix(1_700_000_123).unwrap();
    assert_eq!(to_naive(&t).unwrap(), DateTime::from_timestamp(1_700_000_123, 0).unwrap().naive_utc());
    let t = Asn1Time::from_unix(-86_400 - 5).unwrap();
    assert_eq!(to_naive(&t).unwrap(), DateTime::from_timestamp(-86_405, 0).unwrap().naive_utc());
}

#[test]
fn rustls_identity_returns_chain_and_pkcs8_key() {
    let issued = push_cert(300);
    let pc = PushCert::from_pkcs12(&modern_p12(&issued, "pw"), "pw").unwrap();
    let (chain, key) = pc.rustls_identity().unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0].as_ref(), issued.cert.to_der().unwrap().as_slice());
    assert_eq!(chain[1].as_ref(), ca().cert.to_der().unwrap().as_slice());
    let PrivateKeyDer::Pkcs8(ref pkcs8) = key else { panic!("not PKCS#8") };
    assert_eq!(pkcs8.secret_pkcs8_der(), pc.key_pkcs8_der());
    assert!(rustls::crypto::ring::sign::any_supported_type(&key).is_ok());
}

#[test]
fn from_stored_round_trip() {
    let issued = push_cert(300);
    let pc = PushCert::from_pkcs12(&legacy_p12(&issued, "pw"), "pw").unwrap();
    let back = PushCert::from_stored(&pc.cert_chain_pem, pc.key_pkcs8_der()).unwrap();
    assert_eq!(back.topic, pc.topic);
    assert_eq!(back.subject, pc.subject);
    assert_eq!(back.not_before, pc.not_before);
    assert_eq!(back.not_after, pc.not_after);
    assert_eq!(back.cert_chain_pem, pc.cert_chain_pem);
    assert_eq!(back.key_pkcs8_der(), pc.key_pkcs8_der());
    assert!(matches!(PushCert::from_stored(&pc.cert_chain_pem, b"junk"), Err(PushCertError::InvalidKey(_))));
    assert!(matches!(PushCert::from_stored("", pc.key_pkcs8_der()), Err(PushCertError::InvalidPem(_))));
}

#[test]
fn debug_does_not_print_key() {
    let issued = push_cert(300);
    let pc = PushCert::from_pkcs12(&modern_p12(&issued, "pw"), "pw").unwrap();
    let dbg = format!("{pc:?}");
    assert!(dbg.contains(TOPIC));
    assert!(dbg.contains("<redacted>"));
    let der = pc.key_pkcs8_der();
    assert!(!dbg.contains(&hex::encode(der)));
    assert!(!dbg.contains(&format!("{der:?}")));
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);
    assert!(!dbg.contains(&b64[..40]));
    assert!(!dbg.contains("PRIVATE KEY"));
    assert!(!dbg.contains("cert_chain_pem"));
}
