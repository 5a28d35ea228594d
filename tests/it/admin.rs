//! Admin API authentication and the NanoMDM-compatible endpoints.

use base64::Engine;

use crate::both;
use crate::harness::{Db, Harness, API_KEY};

async fn admin_auth_required(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let d = h.enrolled(0).await;
    let url = h.url("/v1/devices");
    assert_eq!(h.api.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(h.api.get(&url).bearer_auth("wrong-key").send().await.unwrap().status(), 401);
    assert_eq!(h.api.get(&url).basic_auth("nanomdm", Some("wrong")).send().await.unwrap().status(), 401);
    assert_eq!(h.api.get(&url).bearer_auth(API_KEY).send().await.unwrap().status(), 200);
    assert_eq!(h.api.get(&url).basic_auth("nanomdm", Some(API_KEY)).send().await.unwrap().status(), 200);
    let r = h.api.put(h.url(&format!("/v1/enqueue/{}", d.udid))).body("x").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    // The secret never shows: no push token, PushMagic or UnlockToken in the API.
    let text = h.api.get(&url).bearer_auth(API_KEY).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains(&d.push_magic), "PushMagic leaked");
    assert!(!text.contains(&base64::engine::general_purpose::STANDARD.encode(&d.unlock_token)));
}
both!(admin_auth_required);

async fn nanomdm_enqueue_and_push(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut a = h.enrolled(0).await;
    let mut b = h.enrolled(1).await;
    let raw = r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Command</key><dict><key>RequestType</key><string>SecurityInfo</string></dict></dict></plist>"#;
    let ids = format!("{},{},unknown-device", a.udid, b.udid);
    let (status, body) = h.enqueue_raw(&ids, raw, "?nopush=1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unknown"], serde_json::json!(["unknown-device"]));
    assert!(body.get("push").is_none());
    let uuid = body["command_uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36, "generated CommandUUID");
    assert_eq!(a.connect().await.unwrap()[0].uuid, uuid);
    assert_eq!(b.connect().await.unwrap()[0].uuid, uuid);
    // Without nopush the targets are scheduled for a push (outcomes show per device).
    let (_, body) = h.enqueue_raw(&a.udid, raw, "").await;
    assert_eq!(body["push"], "scheduled");
    let r: serde_json::Value = h.api.post(h.url(&format!("/v1/push/{},nobody", a.udid))).bearer_auth(API_KEY).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["status"]["nobody"]["result"], "not_sent");
    assert_eq!(r["status"]["nobody"]["reason"], "unknown enrollment");
    assert_eq!(r["status"][&a.udid]["result"], "not_sent", "{r}");
    // Only unknown targets: 404 with the reason.
    let (status, _) = h.enqueue_raw("nobody", raw, "").await;
    assert_eq!(status, 404);
    // A JSON command with an unknown request type or bad payload is a 400 with a message.
    let (status, body) = h.command("Teleport", &[a.udid.clone()], serde_json::json!({})).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("Teleport"), "{body}");
    let (status, _) = h.command("RemoveProfile", &[a.udid.clone()], serde_json::json!({"Bogus": 1})).await;
    assert_eq!(status, 400);
    // ClearPasscode carries the device's own UnlockToken.
    let (status, body) = h.command("ClearPasscode", &[a.udid.clone(), b.udid.clone()], serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let a_cmds = a.connect().await.unwrap();
    assert!(a_cmds.iter().any(|c| c.request_type == "ClearPasscode" && c.status == "Acknowledged"), "{a_cmds:?}");
}
both!(nanomdm_enqueue_and_push);

/// Finding 3: absurd lifetimes overflowed date arithmetic (the connection dropped without an
/// answer) or silently became one hour. Each is a 400 naming the field, and nothing is stored.
async fn absurd_lifetimes_are_400(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let cases = [
        ("/v1/enrollment-tokens", serde_json::json!({"expires_in": "1000000years"}), "expires_in"),
        ("/v1/enrollment-tokens", serde_json::json!({"expires_in": "0s"}), "expires_in"),
        ("/v1/scep/challenges", serde_json::json!({"ttl_minutes": 1_000_000_000_000u64}), "ttl_minutes"),
        ("/v1/scep/challenges", serde_json::json!({"ttl_minutes": u64::MAX}), "ttl_minutes"),
        ("/v1/scep/challenges", serde_json::json!({"ttl_minutes": 0}), "ttl_minutes"),
    ];
    for (path, body, field) in cases {
        let (status, v) = h.post_json(path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {v}");
        assert!(v["error"].as_str().unwrap_or("").contains(field), "{path} {body}: {v}");
    }
    let (_, tokens) = h.get("/v1/enrollment-tokens").await;
    assert_eq!(tokens.as_array().map(Vec::len), Some(0), "{tokens}");
    // Sensible values still work.
    let (status, v) = h.post_json("/v1/scep/challenges", serde_json::json!({"ttl_minutes": 90})).await;
    assert_eq!(status, 201, "{v}");
    let (status, v) = h.post_json("/v1/enrollment-tokens", serde_json::json!({"expires_in": "30d"})).await;
    assert_eq!(status, 201, "{v}");
}
both!(absurd_lifetimes_are_400);

/// The configured admin key must be at least 16 characters wherever it comes from (the key file
/// already had to be; `api.key` and `MDM_API_KEY` took one character).
#[test]
fn short_configured_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mdm.toml");
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://x\"\n[api]\nkey = \"k\"\n").unwrap();
    let cfg = mdm::config::Config::from_toml(&std::fs::read_to_string(&path).unwrap(), &path, std::iter::empty()).unwrap();
    assert!(cfg.api_key().unwrap_err().to_string().contains("at least 16"));
    let env = [("MDM_API_KEY".to_string(), "short".to_string())];
    let cfg = mdm::config::Config::from_toml("[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://x\"\n", &path, env.into_iter()).unwrap();
    assert!(cfg.api_key().is_err());
    // Absurd configured lifetimes are refused when the file is read.
    let err = mdm::config::Config::from_toml("[server]\nlisten = \"a\"\npublic_url = \"b\"\n[scep]\nvalidity = \"1000000years\"\n", &path, std::iter::empty())
        .unwrap_err();
    assert!(err.to_string().contains("scep.validity"), "{err}");
}

/// Finding: `/metrics` covered pushes only. It also counts requests by route and status with
/// their latency, and shows the queue, enrollments, SCEP issuance and install states.
async fn metrics_cover_requests_queue_and_devices(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let idle = h.enrolled(1).await;
    let (s, _) = h.command("DeviceInformation", &[d.udid.clone()], serde_json::json!({})).await;
    assert_eq!(s, 200);
    let (s, _) = h.command("SecurityInfo", std::slice::from_ref(&idle.udid), serde_json::json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(d.connect().await.unwrap().len(), 1);
    let odd = reqwest::Method::from_bytes(b"FOO1").unwrap();
    h.api.request(odd, h.url("/v1/devices")).send().await.unwrap();
    h.api.get(h.url("/v1/devices/%00")).send().await.unwrap();
    let m = h.api.get(h.url("/metrics")).bearer_auth(API_KEY).send().await.unwrap().text().await.unwrap();
    assert!(!m.contains("FOO1"), "an arbitrary method is no label: {m}");
    for want in [
        r#"method="other""#,
        r#"status="400""#,
        r#"mdm_http_requests_total{route="/mdm/connect",method="PUT",status="200"}"#,
        r#"mdm_http_request_duration_seconds_count{route="/mdm/checkin"}"#,
        r#"mdm_enrollments{channel="device",state="enrolled"} 2"#,
        "mdm_queue_depth 1",
        "mdm_scep_certificates_issued ",
    ] {
        assert!(m.contains(want), "{want} missing from:\n{m}");
    }
    // Raw paths (with device ids) never become labels.
    assert!(!m.contains(&d.udid), "{m}");
}
both!(metrics_cover_requests_queue_and_devices);
