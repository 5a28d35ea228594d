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
            Err(mdm_sim::SimError::Status { status, body }) => {
                assert_eq!(status, want, "{name}: {body}");
                assert!(body.contains(needle), "{name}: message {body:?} should mention {needle:?}");
            }
            other => panic!("{name}: expected {want}, got {other:?}"),
        }
    }
    // Garbage Mdm-Signature on a connection without a client certificate.
    let plain = h.endpoint(mdm_sim::Transport::Signature).client(None).unwrap();
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

/// `depth` nested `<array>`s. The finding used 32,000 levels (490 KB) against the release build;
/// 65,000 (under the test server's 1 MiB body limit) overflow the test build's stack the same way.
fn nested_xml(depth: usize) -> Vec<u8> {
    format!("<?xml version=\"1.0\"?><plist version=\"1.0\">{}{}</plist>", "<array>".repeat(depth), "</array>".repeat(depth)).into_bytes()
}

/// A binary plist of `depth` nested one-element arrays, written by hand (the `plist` crate's
/// own writer recurses).
fn nested_binary(depth: usize) -> Vec<u8> {
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::with_capacity(depth);
    for i in 0..depth {
        offsets.push(out.len() as u32);
        if i + 1 == depth {
            out.push(0xA0);
        } else {
            out.push(0xA1);
            out.extend_from_slice(&((i + 1) as u32).to_be_bytes());
        }
    }
    let table = out.len() as u64;
    offsets.iter().for_each(|o| out.extend_from_slice(&o.to_be_bytes()));
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 4, 4]);
    out.extend_from_slice(&(depth as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&table.to_be_bytes());
    out
}

/// Finding 1: a deeply nested plist aborted the whole process, without credentials. Every
/// endpoint that reads a plist or JSON now answers 400 naming the limit, and the server lives.
async fn deep_documents_are_refused_and_the_server_lives(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let d = h.enrolled(0).await;
    let anonymous = h.endpoint(mdm_sim::Transport::Signature).client(None).unwrap();
    let alive = |h: &Harness| {
        let url = h.url("/healthz");
        let c = anonymous.clone();
        async move { c.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    };
    for (kind, body) in [("xml", nested_xml(65_000)), ("binary", nested_binary(65_000))] {
        for path in ["/mdm/connect", "/mdm/checkin", "/mdm"] {
            let r = anonymous.put(h.url(path)).body(body.clone()).send().await.expect("the server must answer");
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(status, 400, "{kind} {path}: {text}");
            assert!(text.contains("max_depth"), "{kind} {path}: {text}");
            assert_eq!(alive(&h).await, 200, "server died after {kind} {path}");
        }
        // Signed by an enrolled device: still parsed before anything else.
        match d.put("/mdm/connect", body.clone()).await {
            Err(mdm_sim::SimError::Status { status, body }) => assert_eq!((status, body.contains("max_depth")), (400, true), "{body}"),
            other => panic!("{kind}: {other:?}"),
        }
        // Inside signed attributes, parsed before the signer is trusted.
        let ca = mdm::pki::Ca::generate("Anyone").unwrap();
        let signer = ca.issue_device("attacker").unwrap();
        let cms = mdm_profiles::cms::Signer::new(signer.cert.clone(), signer.key.clone(), vec![]).unwrap().sign(&body).unwrap();
        let r = anonymous.post(h.url("/enroll/device")).header("content-type", "application/pkcs7-signature").body(cms).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, 400, "{kind} /enroll/device: {text}");
        assert!(text.contains("max_depth"), "{kind} /enroll/device: {text}");
        // Admin uploads.
        let r = h.api.put(h.url(&format!("/v1/enqueue/{}", d.udid))).bearer_auth(crate::harness::API_KEY).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status(), 400, "{kind} enqueue");
        assert!(r.text().await.unwrap().contains("max_depth"));
        let (status, v) = h.post_bytes("/v1/profiles", "application/x-apple-aspen-config", body.clone()).await;
        assert_eq!(status, 400, "{kind} profile upload: {v}");
        assert!(v["error"].as_str().unwrap().contains("max_depth"), "{v}");
        assert_eq!(alive(&h).await, 200, "server died after {kind} uploads");
    }
    let deep_json = format!("{{\"PayloadContent\": {}{}}}", "[".repeat(32_000), "]".repeat(32_000)).into_bytes();
    for path in ["/v1/profiles", "/v1/commands", "/v1/groups"] {
        let (status, v) = h.post_bytes(path, "application/json", deep_json.clone()).await;
        assert_eq!(status, 400, "{path}: {v}");
        assert!(v["error"].as_str().unwrap().contains("max_depth"), "{path}: {v}");
    }
    // The enrolled device is unaffected.
    let mut idle = plist::Dictionary::new();
    idle.insert("Status".into(), plist::Value::String("Idle".into()));
    d.report(idle).await.expect("device still served");
}
both!(deep_documents_are_refused_and_the_server_lives);

fn binary(d: plist::Dictionary) -> Vec<u8> {
    let mut out = Vec::new();
    plist::Value::Dictionary(d).to_writer_binary(&mut out).unwrap();
    out
}

/// Finding 4: a NUL from a device or in an admin path gave 500 on PostgreSQL (200 on SQLite) with
/// the database's error text. Now: 400 on both, state intact; and a real server error tells
/// the caller only a request id, which the response header carries too.
async fn control_characters_are_400_and_errors_hide_the_database(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let d = h.enrolled(0).await;
    let (_, q) = h.command("ProfileList", std::slice::from_ref(&d.udid), serde_json::json!({})).await;
    let uuid = q["command_uuid"].as_str().unwrap().to_string();
    let before = snapshot(&h, &d.udid).await;
    let base = |pairs: &[(&str, plist::Value)]| -> plist::Dictionary {
        let mut m = plist::Dictionary::new();
        m.insert("UDID".into(), d.udid.clone().into());
        for (k, v) in pairs {
            m.insert((*k).into(), v.clone());
        }
        m
    };
    let cases = [
        (
            "DeviceName",
            "/mdm/checkin",
            base(&[("MessageType", "Authenticate".into()), ("Topic", crate::harness::TOPIC.into()), ("DeviceName", "iPhone\0x".into())]),
        ),
        (
            "Topic",
            "/mdm/checkin",
            base(&[
                ("MessageType", "TokenUpdate".into()),
                ("Topic", "com.apple\0".into()),
                ("PushMagic", "p".into()),
                ("Token", plist::Value::Data(vec![1; 32])),
            ]),
        ),
        (
            "PushMagic",
            "/mdm/checkin",
            base(&[
                ("MessageType", "TokenUpdate".into()),
                ("Topic", crate::harness::TOPIC.into()),
                ("PushMagic", "\0".into()),
                ("Token", plist::Value::Data(vec![1; 32])),
            ]),
        ),
        ("CommandUUID", "/mdm/connect", base(&[("Status", "Acknowledged".into()), ("CommandUUID", format!("{uuid}\0").into())])),
        (
            "DeviceName length",
            "/mdm/checkin",
            base(&[("MessageType", "Authenticate".into()), ("Topic", crate::harness::TOPIC.into()), ("DeviceName", "x".repeat(1_000_000).into())]),
        ),
    ];
    for (name, path, dict) in cases {
        match d.put(path, binary(dict)).await {
            Err(mdm_sim::SimError::Status { status, body }) => assert_eq!(status, 400, "{name}: {body}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    for path in ["/v1/devices/%00", "/v1/profiles/%00", "/v1/groups/a%00b", "/v1/devices/x/commands?limit=%00", "/mdm/enroll?token=%00"] {
        let r = h.api.get(h.url(path)).bearer_auth(crate::harness::API_KEY).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
    }
    let (status, v) = h.post_json("/v1/users", serde_json::json!({"username": "a\u{0}b", "password": "correct horse battery"})).await;
    assert_eq!(status, 400, "{v}");
    let r = h.api.post(h.url("/enroll")).form(&[("username", "a\0b"), ("password", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 403, "a name no user has");
    assert_eq!(snapshot(&h, &d.udid).await, before, "refused input changed stored state");

    // A server-side failure: the table is gone. The caller learns a request id, nothing else.
    h.sql("DROP TABLE blueprints");
    let r = h.api.get(h.url("/v1/blueprints")).bearer_auth(crate::harness::API_KEY).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["request_id"], id.as_str());
    let text = v.to_string().to_lowercase();
    for leak in ["blueprints", "database", "relation", "no such table", "sql"] {
        assert!(!text.contains(leak), "{leak} in {v}");
    }
}
both!(control_characters_are_400_and_errors_hide_the_database);
