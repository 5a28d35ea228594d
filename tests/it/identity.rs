//! Device identity end to end: binding on Authenticate, wrong certificate, certificate reuse,
//! untrusted issuers, and the three ways a certificate arrives (mTLS, Mdm-Signature, proxy header).

use mdm::sim::{SimError, Transport};

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
    // B re-authenticating with a renewed certificate from the same CA is accepted.
    b.set_identity(h.pki.ca.issue_device(&b.udid).unwrap()).unwrap();
    b.enroll().await.unwrap();
    assert!(b.connect().await.unwrap().is_empty());
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
