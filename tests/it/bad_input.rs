//! Bad input from devices: each gets a 4xx with a clear message, never a panic or a 500, and
//! leaves stored state as it was.

use crate::both;
use crate::harness::{Db, Harness};

async fn snapshot(h: &Harness, udid: &str) -> String {
    let (_, devs) = h.get("/v1/devices").await;
    let (_, hist) = h.get(&format!("/v1/devices/{udid}/commands")).await;
    let mut devs = devs;
    // last_seen_at moves on every accepted request; compare everything else.
    for d in devs.as_array_mut().unwrap() {
        for e in d["enrollments"].as_array_mut().unwrap() {
            e.as_object_mut().unwrap().remove("last_seen_at");
        }
    }
    format!("{devs}{hist}")
}

async fn bad_device_input_is_4xx_and_changes_nothing(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let d = h.enrolled(0).await;
    h.command("ProfileList", std::slice::from_ref(&d.udid), serde_json::json!({})).await;
    let before = snapshot(&h, &d.udid).await;
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("malformed plist", "/mdm/checkin", b"<plist><dict><key>oops".to_vec(), 400, "not a valid plist"),
        ("not a dictionary", "/mdm/connect", b"<plist version=\"1.0\"><array/></plist>".to_vec(), 400, "dictionary"),
        ("missing UDID", "/mdm/checkin", b"<plist version=\"1.0\"><dict><key>MessageType</key><string>TokenUpdate</string><key>Topic</key><string>t</string><key>PushMagic</key><string>p</string><key>Token</key><data>AAAA</data></dict></plist>".to_vec(), 400, "UDID"),
        ("wrong MessageType", "/mdm/checkin", format!("<plist version=\"1.0\"><dict><key>MessageType</key><string>Bogus</string><key>UDID</key><string>{}</string></dict></plist>", d.udid).into_bytes(), 400, "MessageType"),
        ("unknown CommandUUID", "/mdm/connect", format!("<plist version=\"1.0\"><dict><key>Status</key><string>Acknowledged</string><key>CommandUUID</key><string>no-such-command</string><key>UDID</key><string>{}</string></dict></plist>", d.udid).into_bytes(), 400, "no-such-command"),
        ("unknown Status", "/mdm/connect", format!("<plist version=\"1.0\"><dict><key>Status</key><string>Done</string><key>UDID</key><string>{}</string></dict></plist>", d.udid).into_bytes(), 400, "Status"),
        ("neither MessageType nor Status", "/mdm", format!("<plist version=\"1.0\"><dict><key>UDID</key><string>{}</string></dict></plist>", d.udid).into_bytes(), 400, "MessageType or Status"),
        ("oversized body", "/mdm/connect", vec![b'a'; 2 * 1024 * 1024], 413, ""),
    ];
    for (name, path, body, want, needle) in cases {
        match d.put(path, body).await {
            Err(mdm::sim::SimError::Status { status, body }) => {
                assert_eq!(status, want, "{name}: {body}");
                assert!(body.contains(needle), "{name}: message {body:?} should mention {needle:?}");
            }
            other => panic!("{name}: expected {want}, got {other:?}"),
        }
    }
    // Garbage Mdm-Signature on a connection without a client certificate.
    let plain = h.endpoint(mdm::sim::Transport::Signature).client(None).unwrap();
    let idle = format!("<plist version=\"1.0\"><dict><key>Status</key><string>Idle</string><key>UDID</key><string>{}</string></dict></plist>", d.udid);
    for sig in ["!!not base64!!", "aGVsbG8gd29ybGQ="] {
        let r = plain.put(h.url("/mdm/connect")).header("Mdm-Signature", sig).body(idle.clone()).send().await.unwrap();
        assert_eq!(r.status(), 400, "signature {sig}");
        assert!(r.text().await.unwrap().contains("Mdm-Signature"));
    }
    // No identity at all: 403, never 401.
    let r = plain.put(h.url("/mdm/connect")).body(idle.clone()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(snapshot(&h, &d.udid).await, before, "bad input changed stored state");
}
both!(bad_device_input_is_4xx_and_changes_nothing);
