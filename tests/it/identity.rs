//! Device identity end to end: binding on Authenticate, wrong certificate, certificate reuse,
//! untrusted issuers, and the three ways a certificate arrives (mTLS, Mdm-Signature, proxy header).

use mdm_sim::{SimError, Transport};

use crate::both;
use crate::harness::{Db, Harness, Opts};

fn status_of(r: Result<impl std::fmt::Debug, SimError>) -> u16 {
    match r {
        Err(SimError::Status { status, .. }) => status,
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

async fn wrong_cert_and_reuse_are_refused(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut a = h.enrolled(0).await;
    let mut b = h.enrolled(1).await;
    let (_, queued) = h.command("DeviceInformation", std::slice::from_ref(&a.udid), serde_json::json!({"Queries": ["UDID"]})).await;
    let uuid = queued["command_uuid"].as_str().unwrap().to_string();
    // B presents A's UDID with its own (bound to B) certificate: refused.
    let mut impostor = h.device(2).await;
    impostor.udid = a.udid.clone();
    impostor.set_identity(b.identity.clone()).unwrap();
    assert_eq!(status_of(impostor.token_update().await), 403);
    assert_eq!(status_of(impostor.connect().await), 403);
    // ... and a forged answer to A's command with it is refused too.
    let mut forged = plist::Dictionary::new();
    forged.insert("Status".into(), "Acknowledged".into());
    forged.insert("CommandUUID".into(), uuid.clone().into());
    assert_eq!(status_of(impostor.report(forged.clone()).await), 403);
    // A fresh, trusted but unbound certificate for A's UDID: refused outside Authenticate.
    let mut stranger = h.device(3).await;
    stranger.udid = a.udid.clone();
    assert_eq!(status_of(stranger.connect().await), 403);
    assert_eq!(status_of(stranger.report(forged).await), 403);
    // None of that touched A's queue: the command was never handed out nor answered.
    let (_, cmd) = h.get(&format!("/v1/commands/{uuid}")).await;
    assert_eq!((cmd["targets"][0]["status"].as_str(), cmd["targets"][0]["deliveries"].as_i64()), (Some("queued"), Some(0)), "{cmd}");
    assert_eq!(cmd["targets"][0]["results"].as_array().map(Vec::len), Some(0), "{cmd}");
    let got = a.connect().await.unwrap();
    assert_eq!((got.len(), got[0].status.as_str()), (1, "Acknowledged"));
    // Reusing A's certificate to Authenticate another device: refused, nothing changed.
    let mut thief = h.device(4).await;
    thief.set_identity(a.identity.clone()).unwrap();
    assert_eq!(status_of(thief.authenticate().await), 403);
    let (s, _) = h.get(&format!("/v1/devices/{}", thief.udid)).await;
    assert_eq!(s, 404, "refused Authenticate must not create a device");
    // A certificate from the same CA that is not a renewal of B's: refused (docs/SECURITY.md).
    let b_cert = b.identity.clone();
    b.set_identity(h.pki.ca.issue_device(&b.udid).unwrap()).unwrap();
    assert_eq!(status_of(b.authenticate().await), 403);
    b.set_identity(b_cert).unwrap();
    assert!(b.connect().await.unwrap().is_empty(), "B keeps working");
    // A still works with its own certificate.
    a.token_update().await.unwrap();
}
both!(wrong_cert_and_reuse_are_refused);

async fn untrusted_issuer_is_refused(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let other = mdm::pki::Ca::generate("Rogue CA").unwrap();
    let mut d = h.device(0).await;
    d.set_identity(other.issue_device(&d.udid).unwrap()).unwrap();
    assert_eq!(status_of(d.authenticate().await), 403);
    let (_, list) = h.get("/v1/devices").await;
    assert!(list.as_array().unwrap().is_empty());
}
both!(untrusted_issuer_is_refused);

async fn mdm_signature_transport(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.device_with(0, Transport::Signature).await;
    d.enroll().await.unwrap();
    let (s, _) = h.command("ProfileList", &[d.udid.clone()], serde_json::json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(d.connect().await.unwrap().len(), 1);
}
both!(mdm_signature_transport);

async fn proxy_header_transport(db: Db) {
    let opts = Opts { plain_http: true, header: Some("X-Client-Cert".into()), ..Opts::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let mut d = h.enrolled(0).await;
    let (s, _) = h.command("ProfileList", &[d.udid.clone()], serde_json::json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(d.connect().await.unwrap().len(), 1);
    // Without the header (and no signature) the device is refused with 403, never 401.
    let bare = h.device_with(1, Transport::Mtls).await;
    assert_eq!(status_of(bare.authenticate().await), 403);
}
both!(proxy_header_transport);

/// The direct enrollment profile's one-time SCEP challenge, as anyone holding the link gets it.
async fn link_identity(h: &Harness, token: &str, cn: &str) -> mdm::pki::Issued {
    let r = h.api.get(h.url("/mdm/enroll")).query(&[("token", token)]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let u = mdm_profiles::cms::unwrap(&r.bytes().await.unwrap(), None).unwrap();
    let p = mdm::protocol::parse_dict(&u.content).unwrap();
    let scep = p["PayloadContent"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_dictionary())
        .find(|d| d["PayloadType"].as_string() == Some("com.apple.security.scep"))
        .unwrap()["PayloadContent"]
        .as_dictionary()
        .unwrap()
        .clone();
    let enroller = mdm_sim::scep::ScepEnroller::new(scep["URL"].as_string().unwrap(), h.api.clone()).await.unwrap();
    enroller.identity(cn, scep["Challenge"].as_string().unwrap()).await.unwrap()
}

async fn multi_use_token(h: &Harness) -> String {
    let (s, t) = h.post_json("/v1/enrollment-tokens", serde_json::json!({"unlimited": true})).await;
    assert_eq!(s, 201, "{t}");
    t["token"].as_str().unwrap().to_string()
}

/// A device speaking with `identity` under `udid` over Mdm-Signature.
fn impostor(h: &Harness, udid: &str, identity: mdm::pki::Issued) -> mdm_sim::SimDevice {
    let ep = h.endpoint(Transport::Signature);
    mdm_sim::SimDevice::with_identity(udid.to_string(), identity, ep.clone(), &ep.client(None).unwrap()).unwrap()
}

async fn enabled(h: &Harness, udid: &str) -> bool {
    let (_, d) = h.get(&format!("/v1/devices/{udid}")).await;
    d["enrollments"][0]["enabled"].as_bool().unwrap()
}

/// Finding 2: a multi-use enrollment link gave anyone a CA-issued certificate that took over any
/// enrolled UDID. Now the Authenticate is refused (403), and the victim keeps working with
/// nothing reset.
async fn enrollment_link_cannot_take_over_a_udid(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let token = multi_use_token(&h).await;
    let ota = mdm_sim::ota::OtaEnroller::new(&h.base, Some(h.pki.ca_pem.clone()), h.pki.device_ca.clone()).unwrap();
    let mut victim = ota.enroll(0, &mdm_sim::ota::Login::Token(token.clone())).await.unwrap().device;
    while !victim.connect().await.unwrap().is_empty() {}
    let (_, before) = h.get(&format!("/v1/devices/{}", victim.udid)).await;

    let mut attacker = impostor(&h, &victim.udid, link_identity(&h, &token, "attacker").await);
    assert_eq!(status_of(attacker.authenticate().await), 403);
    assert_eq!(status_of(attacker.token_update().await), 403);
    assert_eq!(status_of(attacker.connect().await), 403);
    // The victim is as it was: enabled, same token, and it gets the admin's next command.
    let (_, after) = h.get(&format!("/v1/devices/{}", victim.udid)).await;
    assert_eq!(before["enrollments"][0]["token_update_count"], after["enrollments"][0]["token_update_count"]);
    assert!(enabled(&h, &victim.udid).await);
    h.command("DeviceInformation", std::slice::from_ref(&victim.udid), serde_json::json!({"Queries": ["UDID"]})).await;
    let got = victim.connect().await.unwrap();
    assert_eq!(got.iter().map(|c| c.request_type.as_str()).collect::<Vec<_>>(), ["DeviceInformation"]);

    // A certificate issued for one device's over-the-air session never enrolls another UDID.
    let other = ota.enroll(1, &mdm_sim::ota::Login::Token(token.clone())).await.unwrap().device;
    let borrowed = impostor(&h, "00008110-NEVERSEEN0001", other.identity.clone());
    assert_eq!(status_of(borrowed.authenticate().await), 403);
    let (s, _) = h.get("/v1/devices/00008110-NEVERSEEN0001").await;
    assert_eq!(s, 404);
}
both!(enrollment_link_cannot_take_over_a_udid);

/// What may replace an enrolled device's certificate: an over-the-air re-enrollment attested by
/// the device, a SCEP renewal signed by the bound certificate, a device that checked out, and an
/// admin's one-time allowance.
async fn real_re_enrollments_get_through(db: Db) {
    fn no_window(c: &mut mdm::config::Config) {
        c.scep.renewal_window = std::time::Duration::ZERO;
    }
    let Some(h) = Harness::start_with(db, Opts { tweak: Some(no_window), ..Opts::apns() }).await else { return };
    h.import_push_cert().await;
    let token = multi_use_token(&h).await;
    let ota = mdm_sim::ota::OtaEnroller::new(&h.base, Some(h.pki.ca_pem.clone()), h.pki.device_ca.clone()).unwrap();
    let login = mdm_sim::ota::Login::Token(token.clone());
    let first = ota.enroll(0, &login).await.unwrap().device;
    let udid = first.udid.clone();

    // Wiped and enrolled again over the air: phase 2 attests the same UDID.
    let mut again = ota.enroll_as(udid.clone(), &login).await.unwrap().device;
    assert!(enabled(&h, &udid).await);
    assert_eq!(status_of(first.token_update().await), 403, "the old certificate is out");
    while !again.connect().await.unwrap().is_empty() {}

    // A SCEP renewal signed by the bound certificate.
    let client = scep::client::Client::new(&h.url("/scep"), h.api.clone());
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let cn = again.identity.cert.subject_name().entries_by_nid(openssl::nid::Nid::COMMONNAME).next().unwrap().data().to_string().unwrap();
    let rep = client
        .enroll(scep::client::EnrollRequest { key: &key, subject_cn: &cn, challenge: None, renew_with: Some((&again.identity.cert, &again.identity.key)) })
        .await
        .unwrap();
    assert_eq!(rep.status, scep::PkiStatus::Success, "{:?}", rep.fail_info);
    again.set_identity(mdm::pki::Issued { cert: rep.certs[0].clone(), key }).unwrap();
    again.enroll().await.unwrap();
    assert!(enabled(&h, &udid).await);

    // A link certificate is refused until the admin allows it, once.
    let link = link_identity(&h, &token, "helpdesk").await;
    let replacement = impostor(&h, &udid, link.clone());
    assert_eq!(status_of(replacement.authenticate().await), 403);
    let (s, v) = h.post_json(&format!("/v1/devices/{udid}/reenroll"), serde_json::json!({"expires_in": "10m"})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.post_json(&format!("/v1/devices/{udid}/reenroll"), serde_json::json!({"expires_in": "1000000years"})).await;
    assert_eq!(s, 400, "{v}");
    replacement.enroll().await.unwrap();
    let second = impostor(&h, &udid, link_identity(&h, &token, "second").await);
    assert_eq!(status_of(second.authenticate().await), 403, "the allowance was used up");

    // Checked out: the UDID is free for a new certificate.
    replacement.checkout().await.unwrap();
    second.enroll().await.unwrap();
    assert!(enabled(&h, &udid).await);
}
both!(real_re_enrollments_get_through);
