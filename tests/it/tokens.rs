//! Scoped admin tokens, the audit log and failed-authentication limits (finding 8).

use std::time::Duration;

use crate::both;
use crate::harness::{Db, Harness, Opts, API_KEY};

async fn status(h: &Harness, method: reqwest::Method, path: &str, token: &str, body: Option<serde_json::Value>) -> u16 {
    let mut r = h.api.request(method, h.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn token(h: &Harness, body: serde_json::Value) -> String {
    let (s, v) = h.post_json("/v1/tokens", body).await;
    assert_eq!(s, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// Each role gets its share and no more; tokens are listed without values, revocable and expire.
async fn roles_scope_what_a_token_may_do(db: Db) {
    use reqwest::Method as M;
    let Some(h) = Harness::start(db).await else { return };
    let a = h.enrolled(0).await;
    let b = h.enrolled(1).await;
    let helpdesk = token(&h, serde_json::json!({"name": "helpdesk-1", "role": "helpdesk"})).await;
    let reader = token(&h, serde_json::json!({"name": "auditor", "role": "read-only"})).await;
    let posture = token(&h, serde_json::json!({"name": "okta-posture", "role": "posture"})).await;
    let kiosk = token(&h, serde_json::json!({"name": "locker-3", "role": "kiosk", "device": a.udid})).await;
    let cmd = Some(serde_json::json!({"request_type": "DeviceInformation", "targets": [a.udid], "payload": {}, "nopush": true}));
    let secret = Some(serde_json::json!({"value": "v"}));
    let dev_a = format!("/v1/devices/{}", a.udid);
    let dev_b = format!("/v1/devices/{}", b.udid);
    let cases: Vec<(&str, M, String, Option<serde_json::Value>, u16)> = vec![
        (&helpdesk, M::POST, "/v1/commands".into(), cmd.clone(), 200),
        (&helpdesk, M::GET, format!("{dev_a}/commands"), None, 200),
        (&helpdesk, M::PUT, "/v1/secrets/x".into(), secret.clone(), 403),
        (&helpdesk, M::GET, "/v1/secrets".into(), None, 403),
        (&helpdesk, M::GET, "/v1/tokens".into(), None, 403),
        (&helpdesk, M::POST, "/v1/tokens".into(), Some(serde_json::json!({"name": "mine", "role": "admin"})), 403),
        (&reader, M::GET, "/v1/profiles".into(), None, 200),
        (&reader, M::GET, "/v1/audit".into(), None, 200),
        (&reader, M::POST, "/v1/commands".into(), cmd.clone(), 403),
        (&posture, M::GET, format!("/v1/posture/devices/{}", a.udid), None, 200),
        (&posture, M::GET, "/v1/posture/devices".into(), None, 200),
        (&posture, M::GET, dev_a.clone(), None, 403),
        (&posture, M::GET, "/v1/devices".into(), None, 403),
        (&posture, M::GET, format!("{dev_a}/commands"), None, 403),
        (&posture, M::POST, "/v1/commands".into(), cmd.clone(), 403),
        (&kiosk, M::GET, dev_a.clone(), None, 200),
        (&kiosk, M::GET, dev_b.clone(), None, 403),
        (&kiosk, M::GET, "/v1/devices".into(), None, 403),
        (API_KEY, M::PUT, "/v1/secrets/x".into(), secret, 201),
    ];
    for (tok, method, path, body, want) in cases {
        assert_eq!(status(&h, method.clone(), &path, tok, body).await, want, "{method} {path}");
    }
    // Listed without values; only hashes are stored.
    let (_, list) = h.get("/v1/tokens").await;
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
    for t in [&helpdesk, &reader, &posture, &kiosk] {
        assert!(!list.to_string().contains(t.as_str()));
    }
    assert_eq!(h.count(&format!("api_tokens WHERE token_hash = '{}'", mdm::identity::cert::sha256_hex(helpdesk.as_bytes()))), 1);
    // Revoked and expired tokens no longer work.
    assert_eq!(h.delete("/v1/tokens/helpdesk-1").await.0, 200);
    assert_eq!(status(&h, M::GET, &dev_a, &helpdesk, None).await, 401);
    let brief = token(&h, serde_json::json!({"name": "brief", "role": "read-only", "expires_in": "1s"})).await;
    assert_eq!(status(&h, M::GET, &dev_a, &brief, None).await, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(status(&h, M::GET, &dev_a, &brief, None).await, 401);
    // Bad requests for tokens.
    for bad in [
        serde_json::json!({"name": "k", "role": "kiosk"}),
        serde_json::json!({"name": "x", "role": "root"}),
        serde_json::json!({"name": "auditor", "role": "read-only"}),
        serde_json::json!({"name": "y", "role": "admin", "expires_in": "1000000years"}),
    ] {
        let (s, v) = h.post_json("/v1/tokens", bad.clone()).await;
        assert!(s == 400 || s == 409, "{bad}: {s} {v}");
    }

    // The audit log: who, what, when, from where, outcome.
    let (_, log) = h.get("/v1/audit?limit=1000").await;
    let entries = log.as_array().unwrap();
    let find = |actor: &str, method: &str, path: &str| entries.iter().find(|e| e["actor"] == actor && e["method"] == method && e["path"] == path).cloned();
    let made = find("helpdesk-1", "POST", "/v1/commands").expect("helpdesk's command is audited");
    assert_eq!((made["status"].as_i64(), made["role"].as_str(), made["client"].as_str()), (Some(200), Some("helpdesk"), Some("127.0.0.1")));
    assert!(made["at"].is_string());
    assert_eq!(find("helpdesk-1", "PUT", "/v1/secrets/x").expect("refusals are audited")["status"], 403);
    let creations: Vec<i64> =
        entries.iter().filter(|e| e["actor"] == "bootstrap key" && e["path"] == "/v1/tokens").filter_map(|e| e["status"].as_i64()).collect();
    assert!(creations.contains(&201) && creations.contains(&400) && creations.contains(&409), "{creations:?}");
    assert_eq!(find("bootstrap key", "DELETE", "/v1/tokens/helpdesk-1").expect("revocation")["status"], 200);
    assert!(find("auditor", "GET", "/v1/profiles").is_none(), "reads are not changes");
}
both!(roles_scope_what_a_token_may_do);

/// Failed authentications are limited per client address: 300 wrong keys in a row used to be
/// answered 401 each, and then the right key worked.
async fn failed_authentications_are_rate_limited(db: Db) {
    fn header(c: &mut mdm::config::Config) {
        c.api.client_ip_header = "X-Forwarded-For".into();
    }
    let Some(h) = Harness::start_with(db, Opts { tweak: Some(header), ..Opts::default() }).await else { return };
    let url = h.url("/v1/devices");
    let from = |ip: &str, key: &str| h.api.get(&url).header("X-Forwarded-For", ip).bearer_auth(key.to_string()).send();
    let mut statuses = Vec::new();
    for i in 0..300 {
        statuses.push(from("198.51.100.7", &format!("guess-{i:04}-aaaaaaaaaaaa")).await.unwrap().status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{:?}", &statuses[..12]);
    assert!(statuses[10..].iter().all(|s| *s == 429), "held off after 10 failures");
    let r = from("198.51.100.7", API_KEY).await.unwrap();
    assert_eq!(r.status(), 429, "even the right key waits out the window");
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Other addresses are not affected, and a success clears a client's count.
    assert_eq!(from("198.51.100.8", API_KEY).await.unwrap().status(), 200);
    for _ in 0..5 {
        assert_eq!(from("198.51.100.9", "wrong-key-bbbbbbbbbbbb").await.unwrap().status(), 401);
    }
    assert_eq!(from("198.51.100.9", API_KEY).await.unwrap().status(), 200);
    for _ in 0..9 {
        assert_eq!(from("198.51.100.9", "wrong-key-bbbbbbbbbbbb").await.unwrap().status(), 401);
    }
}
both!(failed_authentications_are_rate_limited);

/// `mdm token create` on the server's host makes a working token (audited as `cli`).
async fn cli_creates_tokens(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mdm.toml");
    std::fs::write(&path, toml::to_string(&h.cfg).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdm"))
        .args(["--config"])
        .arg(&path)
        .args(["token", "create", "--name", "ops", "--role", "read-only", "--expires-in", "30d"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = v["token"].as_str().unwrap();
    assert_eq!((v["created_by"].as_str(), v["role"].as_str()), (Some("cli"), Some("read-only")));
    assert_eq!(status(&h, reqwest::Method::GET, "/v1/devices", t, None).await, 200);
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_mdm")).arg("--config").arg(&path).args(["token", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("\"ops\"") && !text.contains(t), "{text}");
}
both!(cli_creates_tokens);
