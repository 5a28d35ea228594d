//! Device payloads: certificates, SCEP, MDM, passcode, restrictions, web clips, Single App Mode
//! and shared-device text. Each typed payload round-trips through a dictionary and a whole
//! profile (staying typed), reads JSON with Apple's key names, passes its own `check`, and
//! validates against Apple's schema with no findings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mdm_profiles::payloads::applock::{AppLock, AppLockOptions, UserEnabledOptions};
use mdm_profiles::payloads::certs::{Pem, Pkcs1, Pkcs12, Root};
use mdm_profiles::payloads::mdm::{AccessRights, AccessRightsError, EnrollmentMode, Mdm, ServerCapability};
use mdm_profiles::payloads::passcode::{CustomRegex, Passcode, Ranged};
use mdm_profiles::payloads::restrictions::{CookiePolicy, RatingRegion, Restrictions};
use mdm_profiles::payloads::scep::{KeySize, KeyType, KeyUsage, OneOrMany, Scep, Subject, SubjectAltName};
use mdm_profiles::payloads::shared_device::SharedDevice;
use mdm_profiles::payloads::webclip::WebClip;
use mdm_profiles::payloads::Raw;
use mdm_profiles::value::Data;
use mdm_profiles::{Issue, Payload, PayloadBody, PayloadKind, Profile, Severity};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};

const TOPIC: &str = "com.apple.mgmt.External.2f3c7e64-0a51-4b1e-9d6f-8c2a4e1b7d90";

fn self_signed(cn: &str, days: u32) -> (X509, PKey<Private>) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("O", "Example Hospital").unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap()).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(days).unwrap()).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (b.build(), key)
}

fn p12(password: &str) -> Vec<u8> {
    let (cert, key) = self_signed("device identity", 365);
    openssl::pkcs12::Pkcs12::builder().name("identity").pkey(&key).cert(&cert).build2(password).unwrap().to_der().unwrap()
}

fn issues_of<T: PayloadKind>(t: &T) -> Vec<Issue> {
    let mut out = Vec::new();
    t.check("PayloadContent[0]", &mut out);
    out
}

/// Round-trips `t` through a dictionary, `PayloadBody::from_dict`, and a whole profile's XML,
/// and validates the profile against Apple's schema. Returns the profile's dictionary.
fn round_trip<T>(t: T) -> plist::Dictionary
where
    T: PayloadKind + Into<PayloadBody>,
{
    let v = plist::to_value(&t).unwrap();
    let dict = v.as_dictionary().unwrap().clone();
    assert_eq!(plist::from_value::<T>(&v).unwrap(), t, "dictionary round trip of {}", T::TYPE);
    let body: PayloadBody = t.clone().into();
    assert_eq!(PayloadBody::from_dict(T::TYPE, dict.clone()), body, "{} read back typed", T::TYPE);
    assert!(PayloadBody::is_typed(T::TYPE));

    let mut profile = Profile::new("org.example.hospital.test", "Test");
    profile.add("payload", t);
    let xml = profile.to_xml().unwrap();
    let back = Profile::from_plist_bytes(&xml).unwrap();
    assert_eq!(back, profile, "{} profile round trip", T::TYPE);
    assert!(!matches!(back.content[0].body, PayloadBody::Raw(_)), "{} became Raw", T::TYPE);
    assert_eq!(back.content[0].body, body);

    let profile_dict = profile.to_dict().unwrap();
    assert_schema_clean(&profile_dict);
    profile_dict
}

fn assert_schema_clean(profile: &plist::Dictionary) {
    let issues = mdm_profiles::schema::validate_profile(profile);
    assert!(issues.is_empty(), "schema findings: {:#?}", issues);
}

// ---------------------------------------------------------------- certificates

#[test]
fn certificate_payloads_round_trip_and_check() {
    let (cert, _) = self_signed("Example Root CA", 3650);
    let der = cert.to_der().unwrap();
    let pem = cert.to_pem().unwrap();

    let root = Root::from_der("root.cer", der.clone());
    assert!(issues_of(&root).is_empty());
    assert_eq!(root.certificates().unwrap()[0].to_der().unwrap(), der);
    round_trip(root);
    let root_pem = Root::from_pem("root.pem", pem.clone());
    assert!(issues_of(&root_pem).is_empty());
    round_trip(root_pem);
    let from_x509 = Root::from_x509("root.cer", &cert).unwrap();
    assert_eq!(from_x509.payload_content.0, der);

    let pkcs1 = Pkcs1::from_der("ca.cer", der.clone());
    assert!(issues_of(&pkcs1).is_empty());
    round_trip(pkcs1);

    let (second, _) = self_signed("Example Intermediate", 3650);
    let mut chain = pem.clone();
    chain.extend(second.to_pem().unwrap());
    let pem_payload = Pem::from_pem("chain.pem", chain);
    assert!(issues_of(&pem_payload).is_empty());
    assert_eq!(pem_payload.certificates().unwrap().len(), 2);
    round_trip(pem_payload);

    let p12_payload = Pkcs12::from_der("device.p12", p12("s3cret"), Some("s3cret".into()));
    assert!(issues_of(&p12_payload).is_empty(), "{:?}", issues_of(&p12_payload));
    round_trip(p12_payload);
    // Without a password the device asks the user; only the structure is checked.
    let no_password = Pkcs12::from_der("device.p12", p12("s3cret"), None);
    assert!(issues_of(&no_password).is_empty());
    round_trip(no_password);
}

#[test]
fn garbage_certificates_fail_with_the_path() {
    let garbage = b"this is not a certificate".to_vec();
    let bodies: Vec<PayloadBody> = vec![
        Root::from_der("root.cer", garbage.clone()).into(),
        Pkcs1::from_der("ca.cer", garbage.clone()).into(),
        Pem::from_pem("ca.pem", garbage.clone()).into(),
        Pkcs12::from_der("id.p12", garbage.clone(), Some("x".into())).into(),
    ];
    for body in bodies {
        let mut profile = Profile::new("org.example.bad", "Bad");
        let (cert, _) = self_signed("fine", 30);
        profile.add("fine", Root::from_der("fine.cer", cert.to_der().unwrap()));
        profile.add("bad", body.clone());
        let issues = profile.check();
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].severity, Severity::Error);
        assert_eq!(issues[0].path, "PayloadContent[1].PayloadContent", "{body:?}");
        assert!(issues[0].to_string().starts_with("error: PayloadContent[1].PayloadContent: "), "{}", issues[0]);
    }
}

#[test]
fn pem_payload_refuses_der_and_private_keys() {
    let (cert, key) = self_signed("x", 30);
    let issues = issues_of(&Pem::from_pem("x.pem", cert.to_der().unwrap()));
    assert_eq!(issues.len(), 1);
    assert!(issues[0].message.contains("com.apple.security.pkcs1"), "{}", issues[0]);

    let mut with_key = cert.to_pem().unwrap();
    with_key.extend(key.private_key_to_pem_pkcs8().unwrap());
    let issues = issues_of(&Pem::from_pem("x.pem", with_key));
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(issues[0].message.contains("private key"));
}

#[test]
fn expired_certificate_warns() {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut b = X509::builder().unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(1_000_000_000).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::from_unix(1_100_000_000).unwrap()).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let issues = issues_of(&Root::from_der("old.cer", b.build().to_der().unwrap()));
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].severity, Severity::Warning);
    assert!(issues[0].message.contains("expired"));
}

#[test]
fn pkcs12_wrong_password_fails_check() {
    let payload = Pkcs12::from_der("id.p12", p12("right"), Some("wrong".into()));
    let issues = issues_of(&payload);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].severity, Severity::Error);
    assert_eq!(issues[0].path, "PayloadContent[0].Password");
    assert!(issues[0].message.contains("Password"), "{}", issues[0]);
}

#[test]
fn certificate_payloads_read_json() {
    let (cert, _) = self_signed("json", 30);
    let der = cert.to_der().unwrap();
    let b64 = base64_encode(&der);
    let root: Root = serde_json::from_value(serde_json::json!({
        "PayloadCertificateFileName": "root.cer",
        "PayloadContent": b64,
    }))
    .unwrap();
    assert_eq!(root.payload_content.0, der);
    let p: Pkcs12 = serde_json::from_value(serde_json::json!({
        "PayloadContent": base64_encode(&p12("pw")),
        "Password": "pw",
        "AllowAllAppsAccess": false,
        "KeyIsExtractable": false,
    }))
    .unwrap();
    assert!(issues_of(&p).is_empty());
    assert!(serde_json::from_value::<Root>(serde_json::json!({"PayloadContent": b64, "Password": "x"})).is_err());
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

// ---------------------------------------------------------------- SCEP

fn full_scep() -> Scep {
    let mut s = Scep::new("https://mdm.example.org/scep")
        .with_name("Example-CA")
        .with_subject(Subject::from_pairs([("O", "Example Hospital"), ("CN", "device")]))
        .with_challenge("one-time-secret")
        .with_ca_fingerprint(vec![0xAB; 20])
        .with_subject_alt_name(SubjectAltName {
            rfc822_name: Some("ipad-17@example.org".into()),
            dns_name: Some("ipad-17.example.org".into()),
            uniform_resource_identifier: Some("urn:example:ipad-17".into()),
            nt_principal_name: Some("ipad-17@EXAMPLE.ORG".into()),
        });
    let c = &mut s.payload_content;
    c.retries = Some(3);
    c.retry_delay = Some(10);
    c.key_is_extractable = Some(false);
    c.allow_all_apps_access = Some(false);
    s
}

#[test]
fn scep_round_trips_with_apple_keys() {
    let s = full_scep();
    assert!(issues_of(&s).is_empty(), "{:?}", issues_of(&s));
    let profile = round_trip(s);
    let payload = profile["PayloadContent"].as_array().unwrap()[0].as_dictionary().unwrap();
    let content = payload["PayloadContent"].as_dictionary().unwrap();
    assert_eq!(content["Key Type"], "RSA".into());
    assert_eq!(content["Key Usage"], plist::Value::Integer(5.into()));
    assert_eq!(content["Keysize"], plist::Value::Integer(2048.into()));
    assert_eq!(content["CAFingerprint"], plist::Value::Data(vec![0xAB; 20]));
    let subject = content["Subject"].as_array().unwrap();
    assert_eq!(subject[1], plist::Value::Array(vec![plist::Value::Array(vec!["CN".into(), "device".into()])]));
    // The minimal form too.
    round_trip(Scep::new("http://ca.example.org/cgi-bin/pkiclient.exe"));
}

#[test]
fn scep_reads_json() {
    let s: Scep = serde_json::from_value(serde_json::json!({
        "PayloadContent": {
            "URL": "https://mdm.example.org/scep",
            "Name": "Example-CA",
            "Subject": [[["O", "Example Hospital"]], [["CN", "device"]]],
            "Challenge": "one-time-secret",
            "Keysize": 4096,
            "Key Type": "RSA",
            "Key Usage": 1,
            "CAFingerprint": base64_encode(&[1u8; 32]),
            "Retries": 5,
            "RetryDelay": 30,
            "SubjectAltName": {"dNSName": ["a.example.org", "b.example.org"]},
        }
    }))
    .unwrap();
    let c = &s.payload_content;
    assert_eq!(c.keysize, Some(KeySize::Bits4096));
    assert_eq!(c.key_type, Some(KeyType::Rsa));
    assert_eq!(c.key_usage, Some(KeyUsage::Signing));
    assert_eq!(c.subject.as_ref().unwrap().to_string(), "/O=Example Hospital/CN=device");
    assert_eq!(c.ca_fingerprint, Some(Data(vec![1; 32])));
    assert_eq!(c.subject_alt_name.as_ref().unwrap().dns_name, Some(OneOrMany::Many(vec!["a.example.org".into(), "b.example.org".into()])));
    assert!(issues_of(&s).is_empty());
    for bad in [
        serde_json::json!({"PayloadContent": {"URL": "https://x", "Keysize": 3072}}),
        serde_json::json!({"PayloadContent": {"URL": "https://x", "Key Usage": 3}}),
        serde_json::json!({"PayloadContent": {"URL": "https://x", "Key Type": "ECSECPrimeRandom"}}),
        serde_json::json!({"PayloadContent": {"URL": "https://x", "Subject": [["CN", "flat"]]}}),
        serde_json::json!({"PayloadContent": {"Name": "no url"}}),
    ] {
        assert!(serde_json::from_value::<Scep>(bad.clone()).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------- MDM

fn full_mdm() -> Mdm {
    let mut m = Mdm::new("https://mdm.example.org/mdm", TOPIC, "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0")
        .with_check_in_url("https://mdm.example.org/checkin")
        .with_capabilities([ServerCapability::PerUserConnections, ServerCapability::BootstrapToken, ServerCapability::Token]);
    m.server_url_pinning_certificate_uuids = Some(vec!["11111111-2222-3333-4444-555555555555".into()]);
    m.check_in_url_pinning_certificate_uuids = Some(vec!["11111111-2222-3333-4444-555555555555".into()]);
    m.pinning_revocation_check_required = Some(false);
    m.use_development_apns = Some(false);
    m.assigned_managed_apple_id = Some("nurse@example.org".into());
    m.enrollment_mode = Some(EnrollmentMode::Adde);
    m.required_app_id_for_mdm = Some(1_234_567_890);
    m.prompt_user_to_allow_bootstrap_token_for_authentication = Some(false);
    m
}

#[test]
fn mdm_defaults_and_round_trip() {
    let m = Mdm::new("https://mdm.example.org/mdm", TOPIC, "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0");
    assert_eq!(m.access_rights, Some(AccessRights::ALL));
    assert_eq!(m.sign_message, Some(false));
    assert_eq!(m.check_out_when_removed, Some(true));
    assert!(issues_of(&m).is_empty());
    let d = plist::to_value(&m).unwrap();
    let d = d.as_dictionary().unwrap();
    assert_eq!(d["AccessRights"], plist::Value::Integer(8191.into()));
    assert_eq!(d["IdentityCertificateUUID"], "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0".into());
    assert!(d.get("CheckInURL").is_none());
    round_trip(m);
    let full = full_mdm();
    assert!(issues_of(&full).is_empty(), "{:?}", issues_of(&full));
    round_trip(full);
}

#[test]
fn mdm_reads_json() {
    let m: Mdm = serde_json::from_value(serde_json::json!({
        "IdentityCertificateUUID": "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
        "Topic": TOPIC,
        "ServerURL": "https://mdm.example.org/mdm",
        "CheckInURL": "https://mdm.example.org/checkin",
        "AccessRights": 8191,
        "SignMessage": true,
        "CheckOutWhenRemoved": true,
        "ServerCapabilities": ["com.apple.mdm.per-user-connections"],
        "EnrollmentMode": "BYOD",
    }))
    .unwrap();
    assert_eq!(m.access_rights, Some(AccessRights::ALL));
    assert_eq!(m.server_capabilities, Some(vec![ServerCapability::PerUserConnections]));
    assert_eq!(m.enrollment_mode, Some(EnrollmentMode::Byod));
    for bad in [
        serde_json::json!({"Topic": TOPIC, "ServerURL": "https://x", "IdentityCertificateUUID": "u", "AccessRights": 0}),
        serde_json::json!({"Topic": TOPIC, "ServerURL": "https://x", "IdentityCertificateUUID": "u", "AccessRights": 8192}),
        serde_json::json!({"Topic": TOPIC, "ServerURL": "https://x", "IdentityCertificateUUID": "u", "EnrollmentMode": "DEP"}),
        serde_json::json!({"Topic": TOPIC, "ServerURL": "https://x", "IdentityCertificateUUID": "u", "ServerCapabilities": ["x"]}),
        serde_json::json!({"Topic": TOPIC, "ServerURL": "https://x"}),
    ] {
        assert!(serde_json::from_value::<Mdm>(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn access_rights_range() {
    assert_eq!(AccessRights::from_bits(0), Err(AccessRightsError::Zero));
    assert_eq!(AccessRights::from_bits(8192), Err(AccessRightsError::UnknownBits(8192)));
    assert_eq!(AccessRights::from_bits(8191), Ok(AccessRights::ALL));
    assert_eq!(AccessRights::from_bits(1).map(AccessRights::bits), Ok(1));
    // A dictionary with a refused value does not read as the typed model.
    for refused in [0, 8192] {
        let mut d = plist::to_value(&full_mdm()).unwrap().into_dictionary().unwrap();
        d.insert("AccessRights".into(), plist::Value::Integer(refused.into()));
        let why = plist::from_value::<Mdm>(&plist::Value::Dictionary(d.clone())).unwrap_err().to_string();
        assert!(why.contains(if refused == 0 { "must not be 0" } else { "largest value is 8191" }), "{why}");
        assert!(matches!(PayloadBody::from_dict("com.apple.mdm", d), PayloadBody::Raw(_)), "{refused}");
    }
    let mut d = plist::to_value(&full_mdm()).unwrap().into_dictionary().unwrap();
    d.insert("AccessRights".into(), plist::Value::Integer(8191.into()));
    assert!(matches!(PayloadBody::from_dict("com.apple.mdm", d), PayloadBody::Mdm(_)));
}

fn mdm_with(bits: i64) -> Vec<Issue> {
    let m = Mdm::new("https://mdm.example.org/mdm", TOPIC, "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0").with_access_rights(AccessRights::from_bits(bits).unwrap());
    issues_of(&m)
}

#[test]
fn access_rights_rule_install_profiles_needs_inspect() {
    let fail = mdm_with(2);
    assert_eq!(fail.len(), 1, "{fail:?}");
    assert_eq!(fail[0].path, "PayloadContent[0].AccessRights");
    assert!(fail[0].message.contains("install-profiles-requires-inspect-profiles"), "{}", fail[0]);
    assert!(fail[0].message.contains("Specify '1' if you specify '2'."));
    assert!(mdm_with(1 | 2).is_empty());
    assert!(mdm_with(8191 & !1 & !2).is_empty(), "removing both is fine");
}

#[test]
fn access_rights_rule_install_provisioning_profiles_needs_inspect() {
    let fail = mdm_with(1 | 128);
    assert_eq!(fail.len(), 1, "{fail:?}");
    assert!(fail[0].message.contains("install-provisioning-profiles-requires-inspect-provisioning-profiles"), "{}", fail[0]);
    assert!(fail[0].message.contains("Specify '64' if you specify '128'."));
    assert!(mdm_with(64 | 128).is_empty());
    let combined = AccessRights::INSPECT_PROVISIONING_PROFILES | AccessRights::INSTALL_REMOVE_PROVISIONING_PROFILES;
    assert_eq!(combined.bits(), 192);
    assert_eq!(mdm_with(8191 & !64).len(), 1);
}

#[test]
fn access_rights_rules_are_exactly_apples() {
    // com.apple.mdm.yaml states two dependencies; app management (4096) without inspecting apps
    // (256) is not one of them.
    assert_eq!(AccessRights::RULES.len(), 2);
    assert!(mdm_with(4096).is_empty());
    assert!(mdm_with(8191).is_empty());
    let both = mdm_with(2 | 128);
    assert_eq!(both.len(), 2);
}

#[test]
fn mdm_check_rules() {
    let mut m = Mdm::new("http://mdm.example.org/mdm", "com.example.push", "");
    m.check_in_url = Some("mdm.example.org/checkin".into());
    m.server_capabilities = Some(vec![ServerCapability::Token, ServerCapability::Token]);
    let issues = issues_of(&m);
    let paths: Vec<_> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "PayloadContent[0].IdentityCertificateUUID",
            "PayloadContent[0].Topic",
            "PayloadContent[0].ServerURL",
            "PayloadContent[0].CheckInURL",
            "PayloadContent[0].ServerCapabilities[1]",
        ]
    );
    assert!(issues.iter().all(|i| i.severity == Severity::Error));
    assert!(issues[1].message.contains("com.apple.mgmt."));
    let m = Mdm::new("https://mdm.example.org/mdm", "com.apple.mgmt.", "not-a-uuid");
    let issues = issues_of(&m);
    assert_eq!(issues.len(), 2, "{issues:?}");
}

// ---------------------------------------------------------------- enrollment profile

#[test]
fn enrollment_profile_builds() {
    let (ca, _) = self_signed("Example Hospital Root CA", 3650);
    let mut profile = Profile::new("org.example.hospital.enroll", "Example Hospital MDM");
    profile.top.payload_organization = Some("Example Hospital".into());
    profile.add("root", Root::from_x509("Example Hospital Root CA.cer", &ca).unwrap());
    let scep_uuid = profile.add(
        "scep",
        Scep::new("https://mdm.example.org/scep")
            .with_subject(Subject::from_pairs([("O", "Example Hospital"), ("CN", "MDM identity")]))
            .with_challenge("enrollment-challenge"),
    );
    profile.push(Payload::new("org.example.hospital.enroll.mdm", Mdm::new("https://mdm.example.org/mdm", TOPIC, scep_uuid.clone())).named("Device management"));
    assert!(profile.check().is_empty(), "{:?}", profile.check());

    let xml = profile.to_xml().unwrap();
    let back = Profile::from_plist_bytes(&xml).unwrap();
    assert_eq!(back, profile);
    assert_eq!(back.content.len(), 3);
    let PayloadBody::Mdm(mdm) = &back.content[2].body else { panic!("MDM payload not typed: {:?}", back.content[2].body) };
    assert_eq!(mdm.identity_certificate_uuid, back.content[1].uuid());
    assert!(matches!(back.content[0].body, PayloadBody::Root(_)));
    assert!(matches!(back.content[1].body, PayloadBody::Scep(_)));
    assert_schema_clean(&profile.to_dict().unwrap());
}

// ---------------------------------------------------------------- passcode

fn full_passcode() -> Passcode {
    Passcode {
        allow_simple: Some(false),
        force_pin: Some(true),
        max_failed_attempts: Some(Ranged::new(10).unwrap()),
        max_inactivity: Some(Ranged::new(5).unwrap()),
        max_pin_age_in_days: Some(Ranged::new(180).unwrap()),
        min_complex_chars: Some(Ranged::new(1).unwrap()),
        min_length: Some(Ranged::new(8).unwrap()),
        require_alphanumeric: Some(true),
        pin_history: Some(Ranged::new(5).unwrap()),
        max_grace_period: Some(1),
        minutes_until_failed_login_reset: Some(15),
        change_at_next_auth: Some(false),
        custom_regex: Some(CustomRegex {
            password_content_regex: "^[A-Za-z0-9]{8,}$".into(),
            password_content_description: Some([("default".to_string(), "At least 8 letters or digits".to_string())].into()),
        }),
    }
}

#[test]
fn passcode_round_trips_and_reads_json() {
    let p = full_passcode();
    assert!(issues_of(&p).is_empty());
    round_trip(p.clone());
    round_trip(Passcode { force_pin: Some(true), ..Passcode::default() });
    let j: Passcode = serde_json::from_value(serde_json::json!({
        "allowSimple": false,
        "forcePIN": true,
        "maxFailedAttempts": 10,
        "maxInactivity": 5,
        "maxPINAgeInDays": 180,
        "minComplexChars": 1,
        "minLength": 8,
        "requireAlphanumeric": true,
        "pinHistory": 5,
        "maxGracePeriod": 1,
        "minutesUntilFailedLoginReset": 15,
        "changeAtNextAuth": false,
        "customRegex": {
            "passwordContentRegex": "^[A-Za-z0-9]{8,}$",
            "passwordContentDescription": {"default": "At least 8 letters or digits"}
        }
    }))
    .unwrap();
    assert_eq!(j, p);
    for bad in [
        serde_json::json!({"maxInactivity": 16}),
        serde_json::json!({"maxPINAgeInDays": 731}),
        serde_json::json!({"minComplexChars": 5}),
        serde_json::json!({"forcePin": true}),
    ] {
        assert!(serde_json::from_value::<Passcode>(bad.clone()).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------- restrictions

#[test]
fn restrictions_round_trip_and_read_json() {
    let mut r = Restrictions::shared_clinical_device();
    r.allow_camera = Some(false);
    r.allow_screen_shot = Some(false);
    r.allow_safari = Some(true);
    r.allow_assistant = Some(false);
    r.allow_assistant_while_locked = Some(false);
    r.allow_usb_restricted_mode = Some(true);
    r.allow_listed_app_bundle_ids = Some(vec!["com.example.ehr".into(), "com.apple.webapp".into()]);
    r.blocked_app_bundle_ids = Some(vec!["com.apple.news".into()]);
    r.rating_region = Some(RatingRegion::Gb);
    r.rating_apps = Some(Ranged::new(300).unwrap());
    r.rating_movies = Some(Ranged::new(200).unwrap());
    r.rating_tv_shows = Some(Ranged::new(600).unwrap());
    r.safari_accept_cookies = Some(CookiePolicy::PreventCrossSiteTracking);
    r.enforced_software_update_delay = Some(Ranged::new(14).unwrap());
    r.force_delayed_software_updates = Some(true);
    assert!(issues_of(&r).is_empty(), "{:?}", issues_of(&r));
    round_trip(r.clone());

    let j: Restrictions = serde_json::from_value(serde_json::json!({
        "allowCamera": false,
        "allowScreenShot": false,
        "allowAppInstallation": false,
        "allowUIAppInstallation": false,
        "allowAppRemoval": false,
        "allowInAppPurchases": false,
        "allowSafari": true,
        "allowExplicitContent": false,
        "allowAirDrop": false,
        "allowCloudBackup": false,
        "allowCloudDocumentSync": false,
        "allowCloudKeychainSync": false,
        "allowCloudPhotoLibrary": false,
        "allowPasscodeModification": false,
        "allowAccountModification": false,
        "allowEraseContentAndSettings": false,
        "allowManagedAppsCloudSync": false,
        "allowOpenFromManagedToUnmanaged": false,
        "allowOpenFromUnmanagedToManaged": true,
        "forceEncryptedBackup": true,
        "allowAutoCorrection": true,
        "allowSpellCheck": true,
        "allowBluetoothModification": false,
        "allowDeviceNameModification": false,
        "allowWallpaperModification": false,
        "allowFindMyDevice": false,
        "allowAssistant": false,
        "allowAssistantWhileLocked": false,
        "allowUSBRestrictedMode": true,
        "forceAutomaticDateAndTime": true,
        "allowDefinitionLookup": false,
        "allowPredictiveKeyboard": true,
        "allowVPNCreation": false,
        "allowNotificationsModification": false,
        "ratingRegion": "us",
        "ratingApps": 1000,
        "ratingMovies": 1000,
        "ratingTVShows": 1000,
        "allowListedAppBundleIDs": ["com.example.ehr"],
        "blockedAppBundleIDs": ["com.apple.news"],
        "safariAcceptCookies": 2,
    }))
    .unwrap();
    assert_eq!(j.allow_vpn_creation, Some(false));
    assert_eq!(j.safari_accept_cookies, Some(CookiePolicy::Default));
    assert!(issues_of(&j).is_empty());
    round_trip(j);
}

#[test]
fn restrictions_with_an_unknown_key_stay_raw() {
    let mut d = plist::to_value(&Restrictions::shared_clinical_device()).unwrap().into_dictionary().unwrap();
    d.insert("allowFutureThing".into(), false.into());
    let body = PayloadBody::from_dict("com.apple.applicationaccess", d.clone());
    assert_eq!(body, PayloadBody::Raw(Raw { payload_type: "com.apple.applicationaccess".into(), content: d }));
}

// ---------------------------------------------------------------- web clip, app lock, shared device

#[test]
fn webclip_round_trips_and_checks_url() {
    let mut w = WebClip::new("Patient Portal", "https://portal.example.org/");
    w.icon = Some(Data(vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]));
    w.is_removable = Some(false);
    w.full_screen = Some(true);
    w.precomposed = Some(true);
    w.ignore_manifest_scope = Some(true);
    w.target_application_bundle_identifier = Some("com.apple.mobilesafari".into());
    assert!(issues_of(&w).is_empty(), "{:?}", issues_of(&w));
    round_trip(w);
    round_trip(WebClip::new("Intranet", "http://intranet.example.org:8080/start"));

    let j: WebClip = serde_json::from_value(serde_json::json!({
        "URL": "https://portal.example.org/",
        "Label": "Patient Portal",
        "Icon": "iVBORw0KGgo=",
        "IsRemovable": false,
        "FullScreen": true,
        "Precomposed": false,
        "IgnoreManifestScope": false,
        "TargetApplicationBundleIdentifier": "com.apple.mobilesafari",
    }))
    .unwrap();
    assert_eq!(j.icon.as_ref().map(|d| d.0.len()), Some(8));
    for url in ["portal.example.org", "javascript:alert(1)", "ftp://files.example.org/", "https://"] {
        let issues = issues_of(&WebClip::new("x", url));
        assert_eq!(issues.len(), 1, "{url}: {issues:?}");
        assert_eq!(issues[0].path, "PayloadContent[0].URL");
    }
    assert!(serde_json::from_value::<WebClip>(serde_json::json!({"URL": "https://x"})).is_err(), "Label is required");
}

#[test]
fn app_lock_round_trips_and_reads_json() {
    let kiosk = AppLock::kiosk("com.example.checkin");
    assert_eq!(kiosk.app.identifier, "com.example.checkin");
    assert!(kiosk.app.options.is_none());
    assert!(issues_of(&kiosk).is_empty());
    round_trip(kiosk);
    let full = AppLock::kiosk("com.example.bedside")
        .with_options(AppLockOptions {
            disable_touch: Some(false),
            disable_device_rotation: Some(true),
            disable_volume_buttons: Some(false),
            disable_ringer_switch: Some(true),
            disable_sleep_wake_button: Some(false),
            disable_auto_lock: Some(true),
            enable_voice_over: Some(false),
            enable_zoom: Some(false),
            enable_invert_colors: Some(false),
            enable_assistive_touch: Some(false),
            enable_speak_selection: Some(false),
            enable_mono_audio: Some(false),
            enable_voice_control: Some(false),
        })
        .with_user_enabled_options(UserEnabledOptions {
            voice_control: Some(true),
            voice_over: Some(true),
            zoom: Some(true),
            invert_colors: Some(true),
            assistive_touch: Some(true),
        });
    round_trip(full.clone());
    let j: AppLock = serde_json::from_value(serde_json::json!({
        "App": {
            "Identifier": "com.example.bedside",
            "Options": {
                "DisableTouch": false, "DisableDeviceRotation": true, "DisableVolumeButtons": false,
                "DisableRingerSwitch": true, "DisableSleepWakeButton": false, "DisableAutoLock": true,
                "EnableVoiceOver": false, "EnableZoom": false, "EnableInvertColors": false,
                "EnableAssistiveTouch": false, "EnableSpeakSelection": false, "EnableMonoAudio": false,
                "EnableVoiceControl": false
            },
            "UserEnabledOptions": {
                "VoiceControl": true, "VoiceOver": true, "Zoom": true, "InvertColors": true, "AssistiveTouch": true
            }
        }
    }))
    .unwrap();
    assert_eq!(j, full);
    assert!(serde_json::from_value::<AppLock>(serde_json::json!({"App": {"Identifier": "x", "Options": {"DisableHome": true}}})).is_err());
}

#[test]
fn shared_device_round_trips_and_reads_json() {
    let s = SharedDevice::footnote("Property of Ward 3, Example Hospital", Some("ASSET-0042".into()));
    assert!(issues_of(&s).is_empty());
    round_trip(s.clone());
    let j: SharedDevice = serde_json::from_value(serde_json::json!({
        "LockScreenFootnote": "Property of Ward 3, Example Hospital",
        "AssetTagInformation": "ASSET-0042",
    }))
    .unwrap();
    assert_eq!(j, s);
    // The Shared iPad settings are MDM Settings-command items, not keys of this payload.
    assert!(serde_json::from_value::<SharedDevice>(serde_json::json!({"ResidentUsers": 8})).is_err());
}

// ---------------------------------------------------------------- all together

#[test]
fn kiosk_profile_with_everything_validates() {
    let (ca, _) = self_signed("Root", 3650);
    let mut profile = Profile::new("org.example.hospital.kiosk", "Kiosk");
    profile.add("root", Root::from_x509("root.cer", &ca).unwrap());
    profile.add("pkcs1", Pkcs1::from_x509("ca.cer", &ca).unwrap());
    profile.add("pem", Pem::from_pem("ca.pem", ca.to_pem().unwrap()));
    let p12_uuid = profile.add("identity", Pkcs12::from_der("id.p12", p12("pw"), Some("pw".into())));
    profile.add("scep", full_scep());
    profile.add("mdm", Mdm::new("https://mdm.example.org/mdm", TOPIC, p12_uuid));
    profile.add("passcode", full_passcode());
    profile.add("restrictions", Restrictions::shared_clinical_device());
    profile.add("webclip", WebClip::new("Portal", "https://portal.example.org"));
    profile.add("applock", AppLock::kiosk("com.example.checkin"));
    profile.add("shared", SharedDevice::footnote("Ward 3", None));
    assert!(profile.check().is_empty(), "{:?}", profile.check());
    let back = Profile::from_plist_bytes(&profile.to_xml().unwrap()).unwrap();
    assert_eq!(back, profile);
    assert!(back.content.iter().all(|p| !matches!(p.body, PayloadBody::Raw(_))));
    assert_schema_clean(&profile.to_dict().unwrap());
}

// ---------------------------------------------------------------- every key Apple documents

/// A sample value for one key of Apple's schema: the first `rangelist` entry, else the default,
/// else the range minimum, else a placeholder of the key's type; dictionaries get every subkey.
fn sample(key: &yaml_rust2::Yaml, overrides: &[(&str, plist::Value)]) -> plist::Value {
    let name = key["key"].as_str().unwrap();
    if let Some((_, v)) = overrides.iter().find(|(k, _)| *k == name) {
        return v.clone();
    }
    let first = key["rangelist"].as_vec().and_then(|l| l.first());
    let default = &key["default"];
    match key["type"].as_str().unwrap() {
        "<boolean>" => plist::Value::Boolean(default.as_bool().unwrap_or(true)),
        "<integer>" => {
            let n = first.and_then(yaml_rust2::Yaml::as_i64).or(default.as_i64()).or(key["range"]["min"].as_i64()).unwrap_or(1);
            plist::Value::Integer(n.into())
        }
        "<real>" => plist::Value::Real(first.and_then(yaml_rust2::Yaml::as_f64).or(default.as_f64()).unwrap_or(1.0)),
        "<string>" => plist::Value::String(first.and_then(yaml_rust2::Yaml::as_str).or(default.as_str()).unwrap_or("sample").into()),
        "<data>" => plist::Value::Data(vec![1, 2, 3]),
        "<array>" => plist::Value::Array(vec![sample(&key["subkeys"][0], overrides)]),
        "<dictionary>" => {
            let mut d = plist::Dictionary::new();
            for sub in key["subkeys"].as_vec().unwrap() {
                let sub_name = sub["key"].as_str().unwrap();
                let sub_name = if sub_name == "ANY" { "default" } else { sub_name };
                d.insert(sub_name.into(), sample(sub, overrides));
            }
            plist::Value::Dictionary(d)
        }
        other => panic!("{name}: no sample for {other}"),
    }
}

/// Every key of the payload type's schema file, with a sample value, reads as the typed model
/// and writes back unchanged; the whole payload validates against the schema.
fn every_documented_key_is_typed(yaml: &str, overrides: &[(&str, plist::Value)]) -> usize {
    let doc = &yaml_rust2::YamlLoader::load_from_str(yaml).unwrap()[0];
    let payload_type = doc["payload"]["payloadtype"].as_str().unwrap();
    let mut content = plist::Dictionary::new();
    let keys = doc["payloadkeys"].as_vec().unwrap();
    for key in keys {
        content.insert(key["key"].as_str().unwrap().into(), sample(key, overrides));
    }
    let body = PayloadBody::from_dict(payload_type, content.clone());
    assert!(!matches!(body, PayloadBody::Raw(_)), "{payload_type}: a dictionary with every documented key stayed Raw");
    assert_eq!(body.to_dict().unwrap(), content, "{payload_type}: a key changed on the way through the model");
    let mut profile = Profile::new("org.example.every", "Every key");
    profile.push(Payload::new("org.example.every.payload", body));
    assert_schema_clean(&profile.to_dict().unwrap());
    keys.len()
}

/// A key name and the sample value to use for it.
type Override = (&'static str, plist::Value);

#[test]
fn every_key_in_apples_schema_reads_typed() {
    let s = |v: &str| plist::Value::String(v.into());
    let uuid = s("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0");
    let urls = [("URL", s("https://example.org/x")), ("ServerURL", s("https://example.org/mdm")), ("CheckInURL", s("https://example.org/checkin"))];
    let subject = plist::Value::Array(vec![plist::Value::Array(vec![plist::Value::Array(vec![s("CN"), s("device")])])]);
    let cases: [(&str, Vec<Override>, usize); 11] = [
        (include_str!("../schema/apple/com.apple.security.root.yaml"), vec![], 2),
        (include_str!("../schema/apple/com.apple.security.pkcs1.yaml"), vec![], 2),
        (include_str!("../schema/apple/com.apple.security.pem.yaml"), vec![], 2),
        (include_str!("../schema/apple/com.apple.security.pkcs12.yaml"), vec![], 5),
        (include_str!("../schema/apple/com.apple.security.scep.yaml"), vec![urls[0].clone(), ("Subject", subject)], 1),
        (
            include_str!("../schema/apple/com.apple.mdm.yaml"),
            vec![urls[1].clone(), urls[2].clone(), ("IdentityCertificateUUID", uuid), ("Topic", s(TOPIC))],
            17,
        ),
        (include_str!("../schema/apple/com.apple.mobiledevice.passwordpolicy.yaml"), vec![], 13),
        (include_str!("../schema/apple/com.apple.applicationaccess.yaml"), vec![], 188),
        (include_str!("../schema/apple/com.apple.webClip.managed.yaml"), vec![urls[0].clone()], 8),
        (include_str!("../schema/apple/com.apple.app.lock.yaml"), vec![], 1),
        (include_str!("../schema/apple/com.apple.shareddeviceconfiguration.yaml"), vec![], 3),
    ];
    for (yaml, overrides, keys) in cases {
        assert_eq!(every_documented_key_is_typed(yaml, &overrides), keys);
    }
}
