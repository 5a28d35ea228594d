//! Queue semantics end to end: delivery to many devices, NotNow, Error results, re-enrollment
//! and CheckOut.

use crate::both;
use crate::harness::{Db, Harness};

async fn deliver_to_many(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut devices = Vec::new();
    for i in 0..12 {
        devices.push(h.enrolled(i).await);
    }
    let ids: Vec<String> = devices.iter().map(|d| d.udid.clone()).collect();
    let (status, body) = h.command("DeviceInformation", &ids, serde_json::json!({"Queries": ["SerialNumber", "DeviceName", "OSVersion"]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queued"].as_array().unwrap().len(), 12);
    let uuid = body["command_uuid"].as_str().unwrap().to_string();
    for d in devices.iter_mut() {
        let handled = d.connect().await.unwrap();
        assert_eq!(handled.len(), 1);
        assert_eq!((handled[0].uuid.as_str(), handled[0].status.as_str()), (uuid.as_str(), "Acknowledged"));
        // Nothing left: a second loop gets an empty 200.
        assert!(d.connect().await.unwrap().is_empty());
    }
    let (_, cmd) = h.get(&format!("/v1/commands/{uuid}")).await;
    let targets = cmd["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 12);
    for t in targets {
        assert_eq!(t["status"], "acknowledged");
        let d = devices.iter().find(|d| d.udid == t["enrollment_id"]).unwrap();
        assert_eq!(t["results"][0]["result"]["QueryResponses"]["SerialNumber"], d.serial.as_str());
    }
    let (_, hist) = h.get(&format!("/v1/devices/{}/commands", ids[0])).await;
    assert_eq!(hist[0]["command_uuid"], uuid.as_str());
    assert_eq!(hist[0]["request_type"], "DeviceInformation");
}
both!(deliver_to_many);

async fn not_now_then_later(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let ids = vec![d.udid.clone()];
    let (_, lock) = h.command("DeviceLock", &ids, serde_json::json!({"Message": "Return to nurse station"})).await;
    let (_, info) = h.command("ProfileList", &ids, serde_json::json!({})).await;
    d.not_now.insert("DeviceLock".into(), 1);
    // First loop: DeviceLock answered NotNow, then ProfileList is handed; DeviceLock is not resent.
    let first = d.connect().await.unwrap();
    let seen: Vec<(&str, &str)> = first.iter().map(|x| (x.request_type.as_str(), x.status.as_str())).collect();
    assert_eq!(seen, vec![("DeviceLock", "NotNow"), ("ProfileList", "Acknowledged")]);
    // Next loop: DeviceLock comes back and is acknowledged.
    let second = d.connect().await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!((second[0].request_type.as_str(), second[0].status.as_str()), ("DeviceLock", "Acknowledged"));
    let (_, cmd) = h.get(&format!("/v1/commands/{}", lock["command_uuid"].as_str().unwrap())).await;
    assert_eq!(cmd["targets"][0]["status"], "acknowledged");
    assert_eq!(cmd["targets"][0]["not_now_count"], 1);
    assert_eq!(cmd["targets"][0]["deliveries"], 2);
    let results: Vec<&str> = cmd["targets"][0]["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(results, vec!["Acknowledged", "NotNow"]);
    let (_, pl) = h.get(&format!("/v1/commands/{}", info["command_uuid"].as_str().unwrap())).await;
    assert_eq!(pl["targets"][0]["status"], "acknowledged");
}
both!(not_now_then_later);

async fn error_result_is_stored(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let raw = r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CommandUUID</key><string>cmd-unknown-1</string><key>Command</key><dict><key>RequestType</key><string>MakeCoffee</string></dict></dict></plist>"#;
    let (status, body) = h.enqueue_raw(&d.udid, raw, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["command_uuid"], "cmd-unknown-1");
    let handled = d.connect().await.unwrap();
    assert_eq!(handled[0].status, "Error");
    let (_, cmd) = h.get("/v1/commands/cmd-unknown-1").await;
    assert_eq!(cmd["targets"][0]["status"], "error");
    assert_eq!(cmd["targets"][0]["results"][0]["result"]["ErrorChain"][0]["ErrorCode"], 12021);
    // Enqueueing the same CommandUUID again is a conflict, not a silent duplicate.
    let (again, _) = h.enqueue_raw(&d.udid, raw, "").await;
    assert_eq!(again, 409);
}
both!(error_result_is_stored);

async fn reenroll_resets_and_checkout_keeps_history(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let ids = vec![d.udid.clone()];
    let (_, done) = h.command("ProfileList", &ids, serde_json::json!({})).await;
    d.connect().await.unwrap();
    let (_, stale) = h.command("RestartDevice", &ids, serde_json::json!({})).await;
    // Re-Authenticate (device wiped and re-enrolled): tokens cleared, stale queue cancelled.
    d.authenticate().await.unwrap();
    let (_, dev) = h.get(&format!("/v1/devices/{}", d.udid)).await;
    assert_eq!(dev["enrollments"][0]["enabled"], false);
    assert_eq!(dev["enrollments"][0]["has_push_token"], false);
    let (status, _) = h.command("ProfileList", &ids, serde_json::json!({})).await;
    assert_eq!(status, 409, "not enrolled until TokenUpdate");
    d.token_update().await.unwrap();
    assert!(d.connect().await.unwrap().is_empty(), "stale command must not be delivered");
    let (_, st) = h.get(&format!("/v1/commands/{}", stale["command_uuid"].as_str().unwrap())).await;
    assert_eq!(st["targets"][0]["status"], "cancelled");
    // CheckOut: unenrolled, history kept.
    d.checkout().await.unwrap();
    let (_, dev) = h.get(&format!("/v1/devices/{}", d.udid)).await;
    assert_eq!(dev["enrollments"][0]["enabled"], false);
    assert!(dev["enrollments"][0]["unenrolled_at"].is_string());
    let (_, hist) = h.get(&format!("/v1/devices/{}/commands", d.udid)).await;
    assert!(hist.as_array().unwrap().iter().any(|e| e["command_uuid"] == done["command_uuid"] && e["status"] == "acknowledged"));
    let (status, _) = h.command("ProfileList", &ids, serde_json::json!({})).await;
    assert_eq!(status, 409);
}
both!(reenroll_resets_and_checkout_keeps_history);

async fn profiles_round_trip(db: Db) {
    use base64::Engine;
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let ids = vec![d.udid.clone()];
    let profile = r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>PayloadContent</key><array/><key>PayloadDisplayName</key><string>Ward Wi-Fi</string><key>PayloadIdentifier</key><string>org.example.wifi</string><key>PayloadType</key><string>Configuration</string><key>PayloadUUID</key><string>9C5B1A52-6E1B-4F4C-8D0E-1B2C3D4E5F60</string><key>PayloadVersion</key><integer>1</integer></dict></plist>"#;
    let payload = base64::engine::general_purpose::STANDARD.encode(profile);
    let (s, _) = h.command("InstallProfile", &ids, serde_json::json!({"Payload": payload})).await;
    assert_eq!(s, 200);
    let (_, list) = h.command("ProfileList", &ids, serde_json::json!({})).await;
    let (_, rm) = h.command("RemoveProfile", &ids, serde_json::json!({"Identifier": "org.example.wifi"})).await;
    let handled = d.connect().await.unwrap();
    assert!(handled.iter().all(|x| x.status == "Acknowledged"), "{handled:?}");
    assert!(d.profiles.is_empty());
    let (_, l) = h.get(&format!("/v1/commands/{}", list["command_uuid"].as_str().unwrap())).await;
    assert_eq!(l["targets"][0]["results"][0]["result"]["ProfileList"][0]["PayloadIdentifier"], "org.example.wifi");
    let (_, r) = h.get(&format!("/v1/commands/{}", rm["command_uuid"].as_str().unwrap())).await;
    assert_eq!(r["targets"][0]["status"], "acknowledged");
}
both!(profiles_round_trip);

/// Reports sent at once (which PostgreSQL runs as shared batch statements) each get their own
/// answer: fetches get the command, results for it are stored, results for unknown commands are
/// refused, and an Idle with nothing queued gets an empty 200.
async fn reports_at_once_each_get_their_own_answer(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut devices = Vec::new();
    for i in 0..16 {
        devices.push(h.enrolled(i).await);
    }
    let ids: Vec<String> = devices[..12].iter().map(|d| d.udid.clone()).collect();
    let (status, body) = h.command("ProfileList", &ids, serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let uuid = body["command_uuid"].as_str().unwrap().to_string();
    let report = |status: &str, command: Option<&str>| {
        let mut d = plist::Dictionary::new();
        d.insert("Status".into(), plist::Value::String(status.into()));
        if let Some(c) = command {
            d.insert("CommandUUID".into(), plist::Value::String(c.into()));
        }
        d
    };
    let sends = devices.iter().enumerate().map(|(i, d)| {
        let r = match i {
            0..=7 | 14 | 15 => report("Idle", None),
            8..=11 => report("Acknowledged", Some(&uuid)),
            _ => report("Acknowledged", Some("no-such-command")),
        };
        d.report(r)
    });
    let answers = futures::future::join_all(sends).await;
    for (i, a) in answers.into_iter().enumerate() {
        match i {
            0..=7 => assert_eq!(a.unwrap().unwrap()["CommandUUID"].as_string(), Some(uuid.as_str()), "device {i}"),
            8..=11 | 14 | 15 => assert!(a.unwrap().is_none(), "device {i}: nothing left"),
            _ => match a {
                Err(mdm_sim::SimError::Status { status, body }) => {
                    assert_eq!(status, 400, "device {i}");
                    assert!(body.contains("no-such-command"), "{body}");
                }
                other => panic!("device {i}: unknown command accepted: {other:?}"),
            },
        }
    }
    let (_, cmd) = h.get(&format!("/v1/commands/{uuid}")).await;
    let targets = cmd["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 12);
    for t in targets {
        let i = devices.iter().position(|d| d.udid == t["enrollment_id"]).unwrap();
        let results = t["results"].as_array().unwrap().len();
        if i < 8 {
            assert_eq!((t["status"].as_str(), t["deliveries"].as_i64(), results), (Some("queued"), Some(1), 0), "device {i}");
        } else {
            assert_eq!((t["status"].as_str(), t["deliveries"].as_i64(), results), (Some("acknowledged"), Some(0), 1), "device {i}");
        }
    }
    for d in &devices[12..14] {
        let (_, hist) = h.get(&format!("/v1/devices/{}/commands", d.udid)).await;
        assert!(hist.as_array().unwrap().is_empty(), "{hist}");
    }
}
both!(reports_at_once_each_get_their_own_answer);
