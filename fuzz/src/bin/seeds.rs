//! Writes the seed corpora (`corpus/<target>/`) and the fixed identities the SCEP CertRep target
//! decrypts with (`fixtures/`): `cargo run --bin seeds` from `fuzz/`. The outputs are checked in;
//! run it again only to change them.

use std::path::Path;

use openssl::pkey::PKey;

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    std::fs::write(dir.join(name), data).expect("seed");
}

fn xml(pairs: &[(&str, plist::Value)]) -> Vec<u8> {
    let d: plist::Dictionary = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    mdm::protocol::to_xml(&d)
}

fn binary(bytes: &[u8]) -> Vec<u8> {
    let v = plist::Value::from_reader(std::io::Cursor::new(bytes)).expect("plist");
    let mut out = Vec::new();
    v.to_writer_binary(&mut out).expect("binary");
    out
}

fn s(v: &str) -> plist::Value {
    plist::Value::String(v.into())
}

fn main() {
    let udid = ("UDID", s("00008110-000A1C2E3E5C801E"));
    let topic = ("Topic", s("com.apple.mgmt.External.2f4d6b8a-1c3e-4a5b-9d7f-0e1a2b3c4d5e"));
    let auth = xml(&[("MessageType", s("Authenticate")), udid.clone(), topic.clone(), ("DeviceName", s("Ward 3 iPhone")), ("SerialNumber", s("F2LXK0AAHG7F"))]);
    let token = xml(&[
        ("MessageType", s("TokenUpdate")),
        udid.clone(),
        topic.clone(),
        ("Token", plist::Value::Data(vec![7; 32])),
        ("PushMagic", s("5A2B1E7C-0000-4000-8000-000000000000")),
        ("UnlockToken", plist::Value::Data(vec![9; 64])),
        ("AwaitingConfiguration", plist::Value::Boolean(false)),
    ]);
    let user = xml(&[
        ("MessageType", s("TokenUpdate")),
        udid.clone(),
        ("UserID", s("A1B2")),
        topic.clone(),
        ("Token", plist::Value::Data(vec![1; 32])),
        ("PushMagic", s("m")),
    ]);
    let ddm = xml(&[
        ("MessageType", s("DeclarativeManagement")),
        udid.clone(),
        ("Endpoint", s("status")),
        ("Data", plist::Value::Data(b"{\"StatusItems\":{}}".to_vec())),
    ]);
    for (i, m) in [&auth, &token, &user, &ddm].into_iter().enumerate() {
        write("checkin", &format!("xml-{i}"), m);
        write("checkin", &format!("binary-{i}"), &binary(m));
    }

    let idle = xml(&[("Status", s("Idle")), udid.clone()]);
    let mut profile = plist::Dictionary::new();
    profile.insert("PayloadIdentifier".into(), s("org.example.ward"));
    profile.insert("PayloadUUID".into(), s("6A1C2F7E-0000-4000-8000-000000000001"));
    let list = xml(&[
        ("Status", s("Acknowledged")),
        udid.clone(),
        ("CommandUUID", s("profile-list-1")),
        ("ProfileList", plist::Value::Array(vec![plist::Value::Dictionary(profile)])),
    ]);
    let mut err = plist::Dictionary::new();
    err.insert("ErrorCode".into(), plist::Value::Integer(12021.into()));
    err.insert("ErrorDomain".into(), s("MCMDMErrorDomain"));
    err.insert("USEnglishDescription".into(), s("Unknown command"));
    let error =
        xml(&[("Status", s("Error")), udid.clone(), ("CommandUUID", s("c-2")), ("ErrorChain", plist::Value::Array(vec![plist::Value::Dictionary(err)]))]);
    for (i, m) in [&idle, &list, &error].into_iter().enumerate() {
        write("report", &format!("xml-{i}"), m);
        write("report", &format!("binary-{i}"), &binary(m));
    }

    let ca = mdm::pki::Ca::generate("Seed CA").expect("ca");
    let dev = ca.issue_device("00008110-000A1C2E3E5C801E").expect("device");
    let sig = mdm::pki::mdm_signature(&dev, &idle).expect("signature");
    write("mdm_signature", "signed-idle", &[sig.as_bytes(), b"\n", &idle].concat());

    let der = dev.cert.to_der().expect("der");
    let pem = String::from_utf8(dev.cert.to_pem().expect("pem")).expect("utf8");
    write("proxy_header", "rfc9440", format!(":{}:", openssl::base64::encode_block(&der)).as_bytes());
    let escaped: String = pem.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    write("proxy_header", "nginx-escaped", escaped.as_bytes());
    write("proxy_header", "folded-pem", pem.replace('\n', " ").as_bytes());

    // SCEP: a PKCSReq to a fixed responder, and that responder's CertRep to a fixed client.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::create_dir_all(&fixtures).expect("fixtures dir");
    let responder = mdm::pki::Ca::generate("Fuzz SCEP CA").expect("responder");
    let client_key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).expect("rsa")).expect("key");
    let mut name = openssl::x509::X509Name::builder().expect("name");
    name.append_entry_by_text("CN", "fuzz-client").expect("cn");
    let name = name.build();
    let client_cert = scep::self_signed_for(&client_key, &name).expect("self-signed");
    std::fs::write(fixtures.join("responder.pem"), responder.cert.to_pem().expect("pem")).expect("write");
    std::fs::write(fixtures.join("responder.key"), responder.key.private_key_to_pem_pkcs8().expect("pem")).expect("write");
    std::fs::write(fixtures.join("client.pem"), client_cert.to_pem().expect("pem")).expect("write");
    std::fs::write(fixtures.join("client.key"), client_key.private_key_to_pem_pkcs8().expect("pem")).expect("write");
    let csr = scep::build_csr(&client_key, &name, Some("challenge")).expect("csr");
    let (req, _) = scep::RequestBuilder {
        message_type: scep::MessageType::PkcsReq,
        csr: &csr,
        signer_cert: &client_cert,
        signer_key: &client_key,
        recipient: &responder.cert,
        cipher: openssl::symm::Cipher::aes_256_cbc(),
        digest: openssl::hash::MessageDigest::sha256(),
        transaction_id: scep::transaction_id_for(&client_key).expect("tid"),
    }
    .build()
    .expect("request");
    write("scep_request", "pkcsreq", &req);
    let parsed = scep::PkiMessage::parse(&req).expect("parse");
    let issued = responder.issue_device("fuzz-client").expect("issued");
    let r = scep::Responder { signer_cert: &responder.cert, signer_key: &responder.key, cipher: openssl::symm::Cipher::aes_256_cbc() };
    write("scep_cert_rep", "success", &r.success(&parsed, &issued.cert, &[]).expect("success"));
    write("scep_cert_rep", "failure", &r.failure(&parsed, scep::FailInfo::BadRequest).expect("failure"));
    write("scep_cert_rep", "pending", &r.pending(&parsed).expect("pending"));

    let attrs = mdm_profiles::profile_service::DeviceAttributes {
        udid: "00008110-000A1C2E3E5C801E".into(),
        serial: Some("F2LXK0AAHG7F".into()),
        challenge: Some("c".into()),
        ..Default::default()
    };
    write("enroll_attributes", "signed", &mdm::enroll::attributes::sign(&attrs, &dev.cert, &dev.key, std::slice::from_ref(&ca.cert)).expect("sign"));

    let json = br#"{"PayloadType":"Configuration","PayloadVersion":1,"PayloadIdentifier":"org.example.ward","PayloadUUID":"6A1C2F7E-0000-4000-8000-000000000001","PayloadDisplayName":"Ward","PayloadContent":[{"PayloadType":"com.apple.webClip.managed","PayloadVersion":1,"PayloadIdentifier":"org.example.ward.clip","PayloadUUID":"6A1C2F7E-0000-4000-8000-000000000002","Label":"Rounds","URL":"https://rounds.example.org/{DeviceSerialNumber}"}]}"#;
    write("profile_upload", "json", &[&[1u8][..], json].concat());
    let v: serde_json::Value = serde_json::from_slice(json).expect("json");
    let submitted = mdm::profiles::input::from_json(&v).expect("profile");
    let xml_profile = mdm::protocol::to_xml(&submitted.dict);
    write("profile_upload", "mobileconfig", &[&[0u8][..], &xml_profile].concat());
    let signer = mdm_profiles::cms::Signer::new(dev.cert.clone(), dev.key.clone(), vec![]).expect("signer");
    write("profile_upload", "signed", &[&[0u8][..], &signer.sign(&xml_profile).expect("signed")].concat());

    write("templates", "okta", br#"{"managementHint":"{Secret.okta}","UDID":"{DeviceUDID}","SerialNumber":"{DeviceSerialNumber}","n":3,"on":true}"#);
    write("templates", "epic", br#"{"EpicMobileDeviceID":"{DeviceSerialNumber}","EpicMobileDeviceIDAppName":true}"#);
    println!("seeds written");
}
