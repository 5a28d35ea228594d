//! Interop with the `openssl` command line: what the crate signs verifies with
//! `openssl cms -verify`, and what it encrypts to a device decrypts with `openssl cms -decrypt`
//! and the device's key. The Makefile installs openssl; without it these tests fail in CI and
//! skip (with a message) elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use mdm_profiles::cms::{self, Signer};
use mdm_profiles::payloads::{scep::Scep, webclip::WebClip, wifi::Wifi};
use mdm_profiles::{schema, Profile};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509Builder, X509NameBuilder, X509};

fn have_openssl() -> bool {
    let ok = Command::new("openssl").arg("version").output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        assert!(std::env::var("CI").is_err(), "the openssl command is required in CI (make deps installs it)");
        eprintln!("skipping: no openssl command");
    }
    ok
}

fn cert(cn: &str, serial: u32, issuer: Option<(&X509, &PKey<Private>)>) -> (X509, PKey<Private>) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(serial).unwrap().to_asn1_integer().unwrap()).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(issuer.map(|(c, _)| c.subject_name()).unwrap_or(&name)).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
    if issuer.is_none() {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
    }
    b.sign(issuer.map(|(_, k)| k).unwrap_or(&key), MessageDigest::sha256()).unwrap();
    (b.build(), key)
}

/// A Wi-Fi EAP-TLS profile whose identity comes from a SCEP payload, plus a web clip.
fn profile() -> Profile {
    let mut p = Profile::new("org.example.ward.wifi", "Ward Wi-Fi");
    let scep = p.add("scep", Scep::new("https://mdm.example.org/scep").with_challenge("one-time"));
    p.add("wifi", Wifi::eap_tls("WardNet", scep, vec!["radius.example.org".into()]));
    p.add("clip", WebClip::new("Rounds", "https://rounds.example.org/{DeviceSerialNumber}"));
    p
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("openssl").current_dir(dir).args(args).output().unwrap()
}

#[test]
fn signed_profile_verifies_with_openssl_and_tampering_is_caught() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ca, ca_key) = cert("Profile CA", 1, None);
    let (leaf, leaf_key) = cert("mdm.example.org", 2, Some((&ca, &ca_key)));
    std::fs::write(dir.path().join("ca.pem"), ca.to_pem().unwrap()).unwrap();
    let p = profile();
    let dict = p.to_dict().unwrap();
    assert_eq!(schema::validate_profile(&dict), vec![], "the profile validates against Apple's schema");
    let xml = p.to_xml().unwrap();
    let signed = Signer::new(leaf, leaf_key, vec![ca]).unwrap().sign(&xml).unwrap();
    std::fs::write(dir.path().join("p.mobileconfig"), &signed).unwrap();
    let out = run(dir.path(), &["cms", "-verify", "-inform", "DER", "-in", "p.mobileconfig", "-CAfile", "ca.pem", "-purpose", "any", "-out", "content.xml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(dir.path().join("content.xml")).unwrap(), xml);
    // The older smime front end reads it too (what many admins use).
    let out = run(dir.path(), &["smime", "-verify", "-inform", "DER", "-in", "p.mobileconfig", "-CAfile", "ca.pem", "-purpose", "any", "-out", "content2.xml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut tampered = signed.clone();
    let at = tampered.windows(7).position(|w| w == b"WardNet").unwrap();
    tampered[at] = b'X';
    std::fs::write(dir.path().join("t.mobileconfig"), &tampered).unwrap();
    let out = run(dir.path(), &["cms", "-verify", "-inform", "DER", "-in", "t.mobileconfig", "-CAfile", "ca.pem", "-purpose", "any", "-out", "t.xml"]);
    assert!(!out.status.success(), "openssl accepted a tampered profile");
    assert!(matches!(cms::unwrap(&tampered, None), Err(cms::CmsError::BadSignature(_))));
}

#[test]
fn encrypted_payloads_decrypt_with_the_device_key_only() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (device, device_key) = cert("device-00008030", 7, None);
    let (other, other_key) = cert("another-device", 8, None);
    std::fs::write(dir.path().join("dev.pem"), device.to_pem().unwrap()).unwrap();
    std::fs::write(dir.path().join("dev.key"), device_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(dir.path().join("other.pem"), other.to_pem().unwrap()).unwrap();
    std::fs::write(dir.path().join("other.key"), other_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let plain = profile().to_dict().unwrap();
    let mut enc = plain.clone();
    cms::encrypt_payload_content(&mut enc, &device).unwrap();
    assert_eq!(schema::validate_profile(&enc), vec![], "an encrypted profile validates too");
    let Some(plist::Value::Data(envelope)) = enc.get("EncryptedPayloadContent") else { panic!("no EncryptedPayloadContent") };
    std::fs::write(dir.path().join("enc.der"), envelope).unwrap();
    let out = run(dir.path(), &["cms", "-decrypt", "-inform", "DER", "-in", "enc.der", "-recip", "dev.pem", "-inkey", "dev.key", "-out", "content.plist"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let content = plist::Value::from_file(dir.path().join("content.plist")).unwrap();
    assert_eq!(Some(&content), plain.get("PayloadContent"));
    let out = run(dir.path(), &["cms", "-decrypt", "-inform", "DER", "-in", "enc.der", "-recip", "other.pem", "-inkey", "other.key", "-out", "x.plist"]);
    assert!(!out.status.success(), "another device's key decrypted the profile");
}
