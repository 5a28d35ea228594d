//! Over-the-air enrollment end to end: enrollment tokens and users, the page, profile service
//! phases 1-3 with a simulated iPhone, SCEP-issued identities, blueprints on the first
//! TokenUpdate, the direct enrollment profile, and every refusal.

use base64::Engine;
use mdm_profiles::profile_service::{DeviceAttributes, ProfileServicePayload};
use mdm_profiles::schema::validate_profile;
use mdm_profiles::Severity;
use mdm_sim::ota::{Login, OtaEnroller};

use crate::both;
use crate::harness::{Db, Harness, Opts};

fn schema_errors(d: &plist::Dictionary) -> Vec<String> {
    validate_profile(d).into_iter().filter(|i| i.severity == Severity::Error).map(|i| format!("{}: {}", i.path, i.message)).collect()
}

fn open(bytes: &[u8]) -> plist::Dictionary {
    let u = mdm_profiles::cms::unwrap(bytes, None).expect("signed");
    assert!(u.signer.is_some(), "served profiles are signed");
    mdm::protocol::parse_dict(&u.content).expect("plist")
}

/// `openssl cms -verify` against the test CA: the signature and the signer's chain.
fn openssl_verifies(h: &Harness, bytes: &[u8], name: &str) {
    let path = h.pki.path(name);
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-purpose", "any", "-out", "/dev/null", "-in"])
        .arg(&path)
        .arg("-CAfile")
        .arg(h.pki.path("ca.pem"))
        .output()
        .expect("openssl");
    assert!(out.status.success(), "openssl cms -verify {name}: {}", String::from_utf8_lossy(&out.stderr));
}

async fn token(h: &Harness, body: serde_json::Value) -> String {
    let (s, t) = h.post_json("/v1/enrollment-tokens", body).await;
    assert_eq!(s, 201, "{t}");
    t["token"].as_str().unwrap().to_string()
}

fn enroller(h: &Harness) -> OtaEnroller {
    OtaEnroller::new(&h.base, Some(h.pki.ca_pem.clone()), h.pki.device_ca.clone()).unwrap()
}

/// Runs connection loops until the device has nothing left; returns every request type handled.
async fn drain(d: &mut mdm_sim::SimDevice) -> Vec<String> {
    let mut all = Vec::new();
    for _ in 0..5 {
        let handled = d.connect().await.expect("connect");
        if handled.is_empty() {
            break;
        }
        assert!(handled.iter().all(|c| c.status == "Acknowledged"), "{handled:?}");
        all.extend(handled.into_iter().map(|c| c.request_type));
    }
    all
}

both!(ota_with_a_token);
async fn ota_with_a_token(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    assert_eq!(h.post_json("/v1/groups", serde_json::json!({"name": "ward-3"})).await.0, 201);
    let profile = serde_json::json!({
        "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": "org.example.ward3",
        "PayloadUUID": "6A1C2F7E-0000-4000-8000-0000000000A1", "PayloadDisplayName": "Ward 3",
        "PayloadContent": [{ "PayloadType": "com.apple.webClip.managed", "PayloadVersion": 1, "PayloadIdentifier": "org.example.ward3.clip",
            "PayloadUUID": "6A1C2F7E-0000-4000-8000-0000000000A2", "Label": "Rounds", "URL": "https://rounds.example.org/{EnrollmentUser}" }]
    });
    let (s, p) = h.post_json("/v1/profiles", profile).await;
    assert_eq!(s, 201, "{p}");
    let pid = p["profile"]["id"].as_str().unwrap().to_string();
    assert_eq!(h.post_json(&format!("/v1/profiles/{pid}/assign"), serde_json::json!({"groups": ["ward-3"]})).await.0, 200);
    let rover = serde_json::json!({"name": "Rover", "bundle_id": "com.epic.rover", "preset": {"name": "epic"},
        "config": {"user": {"type": "string", "value": "{EnrollmentUser}"}, "mail": {"type": "string", "value": "{EnrollmentUserEmail}"}}});
    assert_eq!(h.post_json("/v1/apps", rover).await.0, 201);
    assert_eq!(h.post_json("/v1/apps/com.epic.rover/assign", serde_json::json!({"groups": ["ward-3"]})).await.0, 200);
    let (s, b) = h.put_json("/v1/blueprints/ward", serde_json::json!({"device_name": "Ward3-{DeviceSerialNumber}"})).await;
    assert_eq!(s, 201, "{b}");
    let (s, u) = h.post_json("/v1/users", serde_json::json!({"username": "nurse.jane", "password": "correct horse", "email": "jane@example.org"})).await;
    assert_eq!(s, 201, "{u}");
    assert!(u.get("password_hash").is_none() && !u.to_string().contains("argon2"), "no hash in the API: {u}");

    let (s, t) =
        h.post_json("/v1/enrollment-tokens", serde_json::json!({"user": "nurse.jane", "group": "ward-3", "blueprint": "ward", "note": "ward 3 phones"})).await;
    assert_eq!(s, 201, "{t}");
    let value = t["token"].as_str().unwrap().to_string();
    assert_eq!(t["url"].as_str().unwrap(), format!("{}/enroll?token={value}", h.base));
    assert_eq!(t["max_uses"], 1);
    let png = base64::engine::general_purpose::STANDARD.decode(t["qr_png"].as_str().unwrap()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (_, listed) = h.get("/v1/enrollment-tokens").await;
    assert!(!listed.to_string().contains(&value), "token values are shown once only");

    let mut ota = enroller(&h);
    ota.awaiting_configuration = true;
    let mut e = ota.enroll(0, &Login::Token(value.clone())).await.expect("OTA enrollment");

    // Phase 1: a signed profile-service profile.
    let p1 = open(&e.phase1);
    let service = ProfileServicePayload::from_dict(&p1).unwrap();
    assert!(service.check().is_empty(), "{:?}", service.check());
    assert_eq!(service.url, format!("{}/enroll/device", h.base));
    assert_eq!(service.device_attributes, ["UDID", "VERSION", "PRODUCT", "SERIAL", "IMEI", "MEID", "DEVICE_NAME"]);
    openssl_verifies(&h, &e.phase1, "phase1.der");
    // Phase 2: a SCEP payload with a one-time challenge.
    let p2 = open(&e.phase2);
    assert_eq!(schema_errors(&p2), Vec::<String>::new());
    let scep = p2["PayloadContent"].as_array().unwrap()[0].as_dictionary().unwrap();
    assert_eq!(scep["PayloadType"].as_string(), Some("com.apple.security.scep"));
    assert_ne!(scep["PayloadContent"].as_dictionary().unwrap()["Challenge"].as_string(), Some(crate::harness::SCEP_CHALLENGE));
    openssl_verifies(&h, &e.phase2, "phase2.der");
    // Phase 3: encrypted to the enrollment identity only.
    let mut p3 = open(&e.phase3);
    assert!(p3.contains_key("EncryptedPayloadContent") && !p3.contains_key("PayloadContent"));
    openssl_verifies(&h, &e.phase3, "phase3.der");
    let stranger = mdm::pki::Ca::generate("Other").unwrap();
    let mut copy = p3.clone();
    assert!(mdm_profiles::cms::decrypt_payload_content(&mut copy, &stranger.cert, &stranger.key).is_err(), "another key cannot decrypt");
    mdm_profiles::cms::decrypt_payload_content(&mut p3, &e.enrollment_identity.cert, &e.enrollment_identity.key).unwrap();
    assert_eq!(p3, e.enrollment_profile);
    assert_eq!(schema_errors(&p3), Vec::<String>::new());
    let types: Vec<&str> = p3["PayloadContent"].as_array().unwrap().iter().map(|p| p.as_dictionary().unwrap()["PayloadType"].as_string().unwrap()).collect();
    assert_eq!(types, ["com.apple.security.root", "com.apple.security.scep", "com.apple.mdm"]);
    let mdm_payload = p3["PayloadContent"].as_array().unwrap()[2].as_dictionary().unwrap();
    assert_eq!(mdm_payload["Topic"].as_string(), Some(crate::harness::TOPIC));
    assert_eq!(mdm_payload["ServerURL"].as_string().unwrap(), format!("{}/mdm/connect", h.base));
    assert_eq!(mdm_payload["AccessRights"].as_signed_integer(), Some(8191));
    assert_eq!(mdm_payload["SignMessage"].as_boolean(), Some(true));
    assert_eq!(mdm_payload["CheckOutWhenRemoved"].as_boolean(), Some(true));

    // Enrolled with the SCEP-issued MDM identity, bound, with its user and group.
    let udid = e.device.udid.clone();
    let (_, dev) = h.get(&format!("/v1/devices/{udid}")).await;
    assert_eq!(dev["enrolled_by"]["enrolled_user"], "nurse.jane", "{dev}");
    assert_eq!(dev["serial_number"].as_str(), Some(e.device.serial.as_str()));
    let (_, certs) = h.get("/v1/scep/certs").await;
    let mine: Vec<&serde_json::Value> = certs.as_array().unwrap().iter().filter(|c| c["device_id"] == udid.as_str()).collect();
    assert_eq!(mine.len(), 1, "the MDM identity is bound: {certs}");
    assert_eq!(mine[0]["requester"], "one-time-challenge");
    assert_eq!(mine[0]["cert_hash"].as_str().unwrap(), mdm::identity::cert::sha256_hex(&e.device.identity.cert.to_der().unwrap()));
    let (_, group) = h.get("/v1/groups/ward-3").await;
    assert!(group.to_string().contains(&udid), "{group}");

    // The blueprint's commands arrive in order and are acknowledged; the profile library then
    // checks the installed profile with its own ProfileList.
    let handled = drain(&mut e.device).await;
    assert_eq!(
        handled,
        [
            "DeviceInformation",
            "SecurityInfo",
            "ProfileList",
            "InstalledApplicationList",
            "InstallProfile",
            "InstallApplication",
            "Settings",
            "DeviceConfigured",
            "ProfileList"
        ]
    );
    let rover = e.device.app("com.epic.rover").expect("the group's app").configuration.clone().unwrap();
    assert_eq!(rover["EpicMobileDeviceID"].as_string(), Some(e.device.serial.as_str()));
    assert_eq!(rover["user"].as_string(), Some("nurse.jane"));
    assert_eq!(rover["mail"].as_string(), Some("jane@example.org"));
    assert_eq!(e.device.device_name, format!("Ward3-{}", e.device.serial));
    assert!(!e.device.awaiting_configuration);
    let clip = &e.device.profiles["org.example.ward3"];
    assert!(clip.was_encrypted);
    assert!(plist::Value::Dictionary(clip.content.clone()).as_dictionary().unwrap()["PayloadContent"].as_array().unwrap()[0].as_dictionary().unwrap()["URL"]
        .as_string()
        .unwrap()
        .ends_with("/nurse.jane"));

    // The single-use token is spent: the page refuses it and nothing more enrolls.
    let again = ota.enroll(1, &Login::Token(value)).await.unwrap_err().to_string();
    assert!(again.contains("403") && again.contains("used up"), "{again}");
    let (_, devices) = h.get("/v1/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 1);
}

both!(ota_with_a_password);
async fn ota_with_a_password(db: Db) {
    let opts = Opts { tweak: Some(|c| c.enroll.login_attempts = 3), ..Opts::apns() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    h.import_push_cert().await;
    assert_eq!(h.post_json("/v1/users", serde_json::json!({"username": "tech", "password": "short"})).await.0, 400);
    assert_eq!(h.post_json("/v1/users", serde_json::json!({"username": "tech", "password": "long enough", "group": "nope"})).await.0, 404);
    assert_eq!(h.post_json("/v1/users", serde_json::json!({"username": "tech", "password": "long enough"})).await.0, 201);
    assert_eq!(h.post_json("/v1/users", serde_json::json!({"username": "tech", "password": "long enough"})).await.0, 409);

    let ota = enroller(&h);
    let login = Login::Password { username: "tech".into(), password: "long enough".into() };
    let mut e = ota.enroll(0, &login).await.expect("OTA enrollment with a password");
    let (_, dev) = h.get(&format!("/v1/devices/{}", e.device.udid)).await;
    assert_eq!(dev["enrolled_by"]["enrolled_user"], "tech");
    // The default blueprint: inventory, no naming, no DeviceConfigured (not awaited).
    assert_eq!(drain(&mut e.device).await, ["DeviceInformation", "SecurityInfo", "ProfileList", "InstalledApplicationList"]);

    // Wrong passwords: the page says so, nothing is issued; then the client is held off.
    let page = format!("{}/enroll", h.base);
    let client = h.api.clone();
    for (user, pw) in [("tech", "wrong password"), ("nobody", "long enough"), ("tech", "")] {
        let r = client.post(&page).form(&[("username", user), ("password", pw)]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("wrong username or password"));
    }
    let r = client.post(&page).form(&[("username", "tech"), ("password", "long enough")]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429, "rate-limited even with the right password");
    assert!(r.headers().contains_key("retry-after"));
    let (_, sessions_devices) = h.get("/v1/devices").await;
    assert_eq!(sessions_devices.as_array().unwrap().len(), 1);
}

both!(ota_refusals);
async fn ota_refusals(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let url = format!("{}/enroll/device", h.base);
    let post = |body: Vec<u8>| {
        let c = h.api.clone();
        let url = url.clone();
        async move {
            let r = c.post(url).header("content-type", "application/pkcs7-signature").body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let device = h.pki.device_ca.issue_device("00008110-REFUSALS").unwrap();
    let attrs = |challenge: Option<String>| DeviceAttributes { udid: "00008110-REFUSALS".into(), serial: Some("SERX".into()), challenge, ..Default::default() };
    let sign = |a: &DeviceAttributes, id: &mdm::pki::Issued| mdm::enroll::attributes::sign(a, &id.cert, &id.key, &[]).unwrap();

    // Unsigned, empty, truncated, garbage.
    let (s, m) = post(attrs(None).to_xml().unwrap()).await;
    assert_eq!(s, 400, "{m}");
    assert!(m.contains("CMS-signed"), "{m}");
    assert_eq!(post(Vec::new()).await.0, 400);
    let good = sign(&attrs(Some("x".into())), &device);
    assert_eq!(post(good[..good.len() / 3].to_vec()).await.0, 400);
    assert_eq!(post(b"\x30\x03garbage".to_vec()).await.0, 400);

    // A real challenge from phase 1.
    let ota = enroller(&h);
    let t = token(&h, serde_json::json!({"max_uses": 5})).await;
    let p1 = ota.phase1(&Login::Token(t.clone())).await.unwrap();
    let challenge = ProfileServicePayload::from_dict(&open(&p1)).unwrap().challenge.unwrap();

    // Signed by a CA the server does not trust for devices.
    let rogue = mdm::pki::Ca::generate("Rogue").unwrap().issue_device("x").unwrap();
    let (s, m) = post(sign(&attrs(Some(challenge.clone())), &rogue)).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("not signed by a trusted device certificate"), "{m}");
    // Unknown challenge, then the right one, then its replay.
    assert_eq!(post(sign(&attrs(Some("made-up".into())), &device)).await.0, 403);
    let (s, m) = post(sign(&attrs(None), &device)).await;
    assert_eq!((s, m.contains("CHALLENGE")), (403, true), "{m}");
    let (s, body) = {
        let r =
            h.api.post(&url).header("content-type", "application/pkcs7-signature").body(sign(&attrs(Some(challenge.clone())), &device)).send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    };
    assert_eq!(s, 200);
    let identity_profile = open(&body);
    let (s, m) = post(sign(&attrs(Some(challenge.clone())), &device)).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("already used"), "{m}");

    // Phase 3 signed by a certificate of our CA that no session issued.
    let ours = h.pki.ca.issue_device("00008110-REFUSALS").unwrap();
    let (s, m) = post(sign(&attrs(None), &ours)).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("not issued for an enrollment session"), "{m}");
    // The real enrollment identity with another UDID.
    let scep = identity_profile["PayloadContent"].as_array().unwrap()[0].as_dictionary().unwrap()["PayloadContent"].as_dictionary().unwrap().clone();
    let enroller = mdm_sim::scep::ScepEnroller::new(scep["URL"].as_string().unwrap(), h.api.clone()).await.unwrap();
    let id = enroller.identity("Enrollment", scep["Challenge"].as_string().unwrap()).await.unwrap();
    let mut other = attrs(None);
    other.udid = "00008110-SOMEONE-ELSE".into();
    let (s, m) = post(sign(&other, &id)).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("UDID differs"), "{m}");
    // The right one works. A device that lost the answer may ask again: it gets a new MDM
    // challenge and the first stops working. Once the MDM identity is issued, phase 3 is over.
    let phase3 = |id: &mdm::pki::Issued| {
        let body = sign(&attrs(None), id);
        let c = h.api.clone();
        let url = url.clone();
        let id = mdm::pki::Issued { cert: id.cert.clone(), key: id.key.clone() };
        async move {
            let r = c.post(url).header("content-type", "application/pkcs7-signature").body(body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let mut p = open(&r.bytes().await.unwrap());
            mdm_profiles::cms::decrypt_payload_content(&mut p, &id.cert, &id.key).unwrap();
            let scep = p["PayloadContent"].as_array().unwrap()[1].as_dictionary().unwrap()["PayloadContent"].as_dictionary().unwrap().clone();
            scep["Challenge"].as_string().unwrap().to_string()
        }
    };
    let first = phase3(&id).await;
    let second = phase3(&id).await;
    assert_ne!(first, second);
    assert!(enroller.identity("UDID", &first).await.is_err(), "the replaced challenge no longer works");
    enroller.identity("UDID", &second).await.unwrap();
    let (s, m) = post(sign(&attrs(None), &id)).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("already issued"), "{m}");

    // Tokens: unknown, revoked, expired; the page says why.
    let page = |t: String| {
        let c = h.api.clone();
        let url = format!("{}/enroll", h.base);
        async move {
            let r = c.get(url).query(&[("token", t)]).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(page("nope".into()).await.0, 403);
    let (_, list) = h.get("/v1/enrollment-tokens").await;
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(h.delete(&format!("/v1/enrollment-tokens/{id}")).await.0, 204);
    let (s, m) = page(t.clone()).await;
    assert_eq!(s, 403);
    assert!(m.contains("revoked"), "{m}");
    let short = token(&h, serde_json::json!({"expires_in": "1s"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (s, m) = page(short.clone()).await;
    assert_eq!(s, 403);
    assert!(m.contains("expired"), "{m}");
    let r = h.api.get(format!("{}/mdm/enroll", h.base)).query(&[("token", short)]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(h.api.get(format!("{}/mdm/enroll", h.base)).send().await.unwrap().status().as_u16(), 403);
    // Bad admin input.
    assert_eq!(h.post_json("/v1/enrollment-tokens", serde_json::json!({"group": "missing"})).await.0, 404);
    assert_eq!(h.post_json("/v1/enrollment-tokens", serde_json::json!({"max_uses": 0})).await.0, 400);
    assert_eq!(h.post_json("/v1/enrollment-tokens", serde_json::json!({"colour": "red"})).await.0, 400);
    let (s, m) = h.put_json("/v1/blueprints/x", serde_json::json!({"device_name": "{Nope}"})).await;
    assert_eq!(s, 400, "{m}");
    assert!(m.to_string().contains("unknown variable {Nope}"), "{m}");

    // Nothing enrolled through all of this (the MDM identity above was never used to check in).
    let (_, devices) = h.get("/v1/devices").await;
    assert_eq!(devices, serde_json::json!([]));
}

both!(direct_enrollment_profile);
async fn direct_enrollment_profile(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    // Without a push certificate there is no topic to give: refused, clearly, not a 500.
    let t = token(&h, serde_json::json!({"unlimited": true})).await;
    let r = h.api.get(format!("{}/mdm/enroll", h.base)).query(&[("token", &t)]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().await.unwrap().contains("push certificate"));
    h.import_push_cert().await;

    for i in 0..2 {
        let r = h.api.get(format!("{}/mdm/enroll", h.base)).query(&[("token", &t)]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "application/x-apple-aspen-config");
        let bytes = r.bytes().await.unwrap().to_vec();
        openssl_verifies(&h, &bytes, "direct.der");
        let p = open(&bytes);
        assert_eq!(schema_errors(&p), Vec::<String>::new());
        let content = p["PayloadContent"].as_array().unwrap();
        let scep = content[1].as_dictionary().unwrap()["PayloadContent"].as_dictionary().unwrap();
        // Like Apple Configurator would: SCEP with the profile's challenge, then check in.
        let enroller = mdm_sim::scep::ScepEnroller::new(scep["URL"].as_string().unwrap(), h.api.clone()).await.unwrap();
        let d = enroller.identity("direct", scep["Challenge"].as_string().unwrap()).await.unwrap();
        let ep = h.endpoint(mdm_sim::Transport::Signature);
        let mut dev = mdm_sim::SimDevice::with_identity(format!("00008110-DIRECT{i}"), d, ep.clone(), &ep.client(None).unwrap()).unwrap();
        dev.enroll().await.unwrap();
        assert_eq!(drain(&mut dev).await, ["DeviceInformation", "SecurityInfo", "ProfileList", "InstalledApplicationList"]);
        // The challenge was single-use: a second device cannot use the same profile.
        assert!(enroller.identity("again", scep["Challenge"].as_string().unwrap()).await.is_err());
    }
    let (_, list) = h.get("/v1/enrollment-tokens").await;
    assert_eq!(list[0]["uses"], 2);
}

both!(one_token_many_devices_at_once);
async fn one_token_many_devices_at_once(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let t = token(&h, serde_json::json!({"max_uses": 6})).await;
    let ota = enroller(&h);
    let (fleet, stats) = ota.enroll_fleet(6, 6, &Login::Token(t.clone())).await;
    assert_eq!((stats.ok, stats.errors), (6, 0), "{:?}", stats.first_error);
    assert_eq!(fleet.devices.len(), 6);
    let (_, list) = h.get("/v1/enrollment-tokens").await;
    assert_eq!(list[0]["uses"], 6);
    let err = ota.enroll(7, &Login::Token(t)).await.unwrap_err().to_string();
    assert!(err.contains("used up"), "{err}");
}
