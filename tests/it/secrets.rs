//! Secrets at rest (finding 5): after a full scenario — an enrollment with its UnlockToken, an
//! escrowed BootstrapToken, an Okta AppConfig carrying a secret, a ClearPasscode, a push
//! certificate — a dump of the whole database holds none of the secret values, in any encoding,
//! while every one of them still reaches the device that needs it.

use base64::Engine;

use crate::both;
use crate::harness::{Db, Harness, Opts};

/// Everything the database holds, as bytes: the SQLite files, or `pg_dump` of the database.
fn dump(h: &Harness) -> Vec<u8> {
    let url = &h.cfg.database.url;
    if url.starts_with("postgres") {
        let out = std::process::Command::new("pg_dump").arg("--no-owner").arg(url).output().expect("pg_dump");
        assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    } else {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(b) = std::fs::read(format!("{url}{suffix}")) {
                all.extend(b);
            }
        }
        all
    }
}

/// The forms a secret can take in a dump: raw, hex (PostgreSQL's bytea), base64.
fn forms(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    vec![("raw".into(), secret.to_vec()), ("hex".into(), hex::encode(secret).into_bytes()), ("base64".into(), b64.trim_end_matches('=').as_bytes().to_vec())]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() >= 8 && hay.windows(needle.len()).any(|w| w == needle)
}

async fn no_secret_in_the_database_dump(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let mut d = h.enrolled(0).await;

    // BootstrapToken: escrowed, handed back intact.
    let bootstrap = b"bootstrap-token-0123456789-abcdef-secret".to_vec();
    d.raw_checkin("SetBootstrapToken", &[("BootstrapToken", plist::Value::Data(bootstrap.clone()))]).await.unwrap();
    let got = d.raw_checkin("GetBootstrapToken", &[]).await.unwrap();
    let got = mdm::protocol::parse_dict(&got).unwrap();
    assert_eq!(got["BootstrapToken"].as_data(), Some(bootstrap.as_slice()));

    // An AppConfig secret, delivered to the device.
    let hint = "okta-management-hint-5be1c0ffee-secret";
    assert_eq!(h.put_json("/v1/secrets/okta_management_hint", serde_json::json!({"value": hint})).await.0, 201);
    let (s, app) = h.post_json("/v1/apps", serde_json::json!({"name": "Okta Verify", "bundle_id": "com.okta.mobile", "preset": {"name": "okta-verify"}})).await;
    assert_eq!(s, 201, "{app}");
    let id = app["id"].as_str().unwrap();
    assert_eq!(h.post_json(&format!("/v1/apps/{id}/assign"), serde_json::json!({"devices": [d.udid]})).await.0, 200);
    // ClearPasscode carries the UnlockToken; the device acknowledges only its own.
    let (s, _) = h.command("ClearPasscode", std::slice::from_ref(&d.udid), serde_json::json!({})).await;
    assert_eq!(s, 200);
    let mut handled = Vec::new();
    for _ in 0..4 {
        handled.extend(d.connect().await.unwrap().into_iter().map(|c| format!("{}:{}", c.request_type, c.status)));
    }
    assert!(handled.contains(&"InstallApplication:Acknowledged".to_string()), "{handled:?}");
    assert!(handled.contains(&"ClearPasscode:Acknowledged".to_string()), "{handled:?}");
    let cfg = d.app("com.okta.mobile").unwrap().configuration.as_ref().unwrap();
    assert_eq!(cfg["managementHint"].as_string(), Some(hint));
    // The admin API shows neither.
    let (_, cmds) = h.get(&format!("/v1/devices/{}/commands", d.udid)).await;
    for c in cmds.as_array().unwrap() {
        let (_, shown) = h.get(&format!("/v1/commands/{}", c["command_uuid"].as_str().unwrap())).await;
        assert!(!shown.to_string().contains(hint), "{shown}");
    }

    let push_key = h.apns.as_ref().unwrap().pki.push_cert.key.private_key_to_der().unwrap();
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("UnlockToken", d.unlock_token.clone()),
        ("BootstrapToken", bootstrap),
        ("AppConfig secret", hint.as_bytes().to_vec()),
        // A slice from the middle of the push key (the DER header is common to all keys).
        ("push certificate key", push_key[push_key.len() / 2..push_key.len() / 2 + 32].to_vec()),
    ];
    let all = dump(&h);
    assert!(all.len() > 10_000, "the dump is the whole database");
    for (what, secret) in &secrets {
        for (form, needle) in forms(secret) {
            assert!(!contains(&all, &needle), "{what} found {form} in the database dump");
        }
    }
    // The check can fail: values that are not secret are in the dump.
    assert!(contains(&all, d.udid.as_bytes()));

    // What an earlier version stored in clear is sealed when a server starts.
    let legacy = b"legacy-bootstrap-token-in-clear-0001";
    let literal =
        if h.cfg.database.url.starts_with("postgres") { format!("'\\x{}'::bytea", hex::encode(legacy)) } else { format!("X'{}'", hex::encode(legacy)) };
    h.sql(&format!("UPDATE devices SET bootstrap_token = {literal} WHERE id = '{}'", d.udid));
    let found = |all: &[u8]| forms(legacy).iter().any(|(_, n)| contains(all, n));
    assert!(found(&dump(&h)));
    let (_, replica) = h.replica().await;
    assert!(!found(&dump(&h)), "sealed at start-up");
    let got = mdm::protocol::parse_dict(&d.raw_checkin("GetBootstrapToken", &[]).await.unwrap()).unwrap();
    assert_eq!(got["BootstrapToken"].as_data(), Some(&legacy[..]));
    replica.abort();
}
both!(no_secret_in_the_database_dump);
