//! Less common check-in messages: user channels, bootstrap tokens, DeclarativeManagement,
//! UserAuthenticate and GetToken; and the single `/mdm` URL told apart by body.

use mdm_sim::SimError;

use crate::both;
use crate::harness::{Db, Harness};

async fn user_channel_and_other_messages(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let d = h.enrolled(0).await;
    // Shared iPad user channel: created by its first TokenUpdate.
    d.user_token_update("B6E1C7D2-0000-4000-8000-00000000AA01", "nurse.jo").await.unwrap();
    let (_, dev) = h.get(&format!("/v1/devices/{}", d.udid)).await;
    let chans = dev["enrollments"].as_array().unwrap();
    assert_eq!(chans.len(), 2);
    let user = chans.iter().find(|c| c["channel"] == "user").unwrap();
    assert_eq!(user["user_short_name"], "nurse.jo");
    assert_eq!(user["enrollment_type"], "User");
    // Bootstrap token round trip.
    d.raw_checkin("SetBootstrapToken", &[("BootstrapToken", plist::Value::Data(b"bootstrap".to_vec()))]).await.unwrap();
    let got = d.raw_checkin("GetBootstrapToken", &[]).await.unwrap();
    let dict = mdm::protocol::parse_dict(&got).unwrap();
    assert_eq!(dict.get("BootstrapToken").and_then(|v| v.as_data()), Some(&b"bootstrap"[..]));
    // DeclarativeManagement is stored and answered 200.
    d.raw_checkin("DeclarativeManagement", &[("Endpoint", plist::Value::String("status".into())), ("Data", plist::Value::Data(b"{}".to_vec()))]).await.unwrap();
    // UserAuthenticate: 410 (not configured). GetToken: 400 unsupported.
    match d.raw_checkin("UserAuthenticate", &[("UserID", plist::Value::String("B6E1C7D2-0000-4000-8000-00000000AA01".into()))]).await {
        Err(SimError::Status { status, .. }) => assert_eq!(status, 410),
        other => panic!("{other:?}"),
    }
    match d.raw_checkin("GetToken", &[("TokenServiceType", plist::Value::String("com.apple.maid".into()))]).await {
        Err(SimError::Status { status, body }) => {
            assert_eq!(status, 400);
            assert!(body.contains("GetToken"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    // AwaitingConfiguration is recorded.
    let mut e = h.device(1).await;
    e.awaiting_configuration = true;
    e.enroll().await.unwrap();
    let (_, dev) = h.get(&format!("/v1/devices/{}", e.udid)).await;
    assert_eq!(dev["enrollments"][0]["awaiting_configuration"], true);
}
both!(user_channel_and_other_messages);

async fn single_url_told_apart_by_body(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let ep = {
        let mut e = (*h.endpoint(h.transport())).clone();
        e.checkin_path = "/mdm".into();
        e.connect_path = "/mdm".into();
        std::sync::Arc::new(e)
    };
    let mut d = h.device_on(0, ep).await;
    d.enroll().await.unwrap();
    h.command("ProfileList", &[d.udid.clone()], serde_json::json!({})).await;
    assert_eq!(d.connect().await.unwrap().len(), 1);
}
both!(single_url_told_apart_by_body);
