//! Shared devices end to end: a locker app checks a simulated iPhone out and in through the
//! kiosk API with the token its AppConfig carries; the holder's PIN is required then cleared
//! with the UnlockToken; Rover's data is cleared; a mock Vocera and a mock Epic (which verifies
//! the server's client assertion against its JWK Set) log the previous user out from the
//! durable queue, never holding the check-in up.

use std::time::{Duration, Instant};

use mdm_sim::locker::LockerApp;
use mdm_sim::vendors::{EpicRegistration, MockVendor, Mode};
use mdm_sim::SimDevice;

use crate::both;
use crate::harness::{drain, Db, Harness};

const LOCKER: &str = "com.example.locker";
const ROVER: &str = "com.epic.rover";
const STAGING: &str = "ward3-staging";

fn config_value(d: &SimDevice, bundle: &str, key: &str) -> Option<String> {
    d.app(bundle)?.configuration.as_ref()?.get(key)?.as_string().map(str::to_string)
}

fn tls(h: &Harness) -> (Vec<u8>, Vec<u8>) {
    let server = h.pki.ca.issue_server(&["127.0.0.1".into(), "localhost".into()]).expect("vendor cert");
    (server.cert.to_pem().expect("pem"), server.key.private_key_to_pem_pkcs8().expect("key"))
}

/// The mocks, the catalogue and a pool holding device `d`.
struct Ward {
    vocera: MockVendor,
    epic: MockVendor,
    passcode_profile: String,
}

async fn ward(h: &Harness, devices: &[&str]) -> Ward {
    let (cert, key) = tls(h);
    let vocera = MockVendor::vocera(&cert, &key).await.expect("vocera");
    let epic = MockVendor::epic(
        &cert,
        &key,
        EpicRegistration { client_id: "mdm-backend-7f3a".into(), jwks_url: h.url("/connectors/jwks.json"), ca_pem: h.pki.ca_pem.clone() },
    )
    .await
    .expect("epic");
    let (s, v) = h.post_json("/v1/connectors", serde_json::json!({"name": "vocera", "preset": {"name": "vocera", "host": vocera.host()}})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["settings"]["url"], format!("https://{}/vocera/SAML/webLogout", vocera.host()));
    let epic_body = serde_json::json!({"name": "epic-rover", "settings": {
        "kind": "epic", "display_name": "Rover logout", "environment": "non-production", "app_name": "Rover",
        "interconnect_url": format!("{}/Interconnect-TST", epic.url()), "instance": "APIProxyTST", "client_id": "mdm-backend-7f3a",
        "timeout_secs": 2
    }});
    let (s, v) = h.post_json("/v1/connectors", epic_body).await;
    assert_eq!(s, 201, "{v}");
    assert!(v["endpoints"]["token_url"].as_str().unwrap().ends_with("/Interconnect-TST/APIProxyTST/oauth2/token"), "{v}");

    // The per-user PIN: a passcode policy held while the device is checked out.
    let passcode = serde_json::json!({
        "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": "org.example.shared.pin",
        "PayloadUUID": "6A1C2F7E-0000-4000-8000-0000000000A1", "PayloadDisplayName": "Personal PIN",
        "PayloadContent": [{
            "PayloadType": "com.apple.mobiledevice.passwordpolicy", "PayloadVersion": 1,
            "PayloadIdentifier": "org.example.shared.pin.policy", "PayloadUUID": "6A1C2F7E-0000-4000-8000-0000000000A2",
            "minLength": 6, "requireAlphanumeric": false
        }]
    });
    let (s, p) = h.post_json("/v1/profiles", passcode).await;
    assert_eq!(s, 201, "{p}");
    let passcode_profile = p["profile"]["id"].as_str().unwrap().to_string();

    let rover = serde_json::json!({"name": "Rover", "bundle_id": ROVER, "preset": {"name": "epic"}, "config": {"username": {"type": "string", "value": "{SharedUser}"}}});
    let (s, rover) = h.post_json("/v1/apps", rover).await;
    assert_eq!(s, 201, "{rover}");
    let locker = serde_json::json!({"name": "Locker", "bundle_id": LOCKER, "config": {
        "ServerURL": {"type": "string", "value": h.base},
        "KioskToken": {"type": "string", "value": "{KioskToken}"},
        "DeviceID": {"type": "string", "value": "{DeviceSerialNumber}"}
    }});
    let (s, locker) = h.post_json("/v1/apps", locker).await;
    assert_eq!(s, 201, "{locker}");

    let pool = serde_json::json!({
        "name": "ward-3", "staging_user": STAGING, "devices": devices,
        "held_profiles": [passcode_profile], "clear_app_data": [rover["id"]], "logout_connectors": ["vocera", "epic-rover"]
    });
    let (s, v) = h.post_json("/v1/shared/pools", pool).await;
    assert_eq!(s, 201, "{v}");
    for app in [&rover, &locker] {
        let (s, v) = h.post_json(&format!("/v1/apps/{}/assign", app["id"].as_str().unwrap()), serde_json::json!({"devices": devices})).await;
        assert_eq!(s, 200, "{v}");
    }
    Ward { vocera, epic, passcode_profile }
}

fn action<'a>(session: &'a serde_json::Value, phase: &str, name: &str) -> Vec<&'a serde_json::Value> {
    session["actions"].as_array().unwrap().iter().filter(|a| a["phase"] == phase && a["action"] == name).collect()
}

both!(a_shift_checks_out_and_in_through_the_locker);
async fn a_shift_checks_out_and_in_through_the_locker(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let w = ward(&h, &[d.udid.as_str()]).await;
    let locker = LockerApp::new(LOCKER);
    let installed = drain(&mut d).await;
    assert_eq!(installed.iter().filter(|c| c.starts_with("InstallApplication:Acknowledged")).count(), 2, "{installed:?}");
    // Nobody holds it: the staging user.
    assert_eq!(config_value(&d, ROVER, "username").as_deref(), Some(STAGING));
    assert_eq!(config_value(&d, ROVER, "EpicMobileDeviceID").as_deref(), Some(d.serial.as_str()));
    let first_token = locker.token(&d).expect("the locker app got a kiosk token");
    assert!(first_token.starts_with("mdmk_"), "{first_token}");
    assert_eq!(h.count("kiosk_tokens WHERE sealed IS NOT NULL"), 1);
    assert_eq!(h.count(&format!("kiosk_tokens WHERE token_hash = '{first_token}'")), 0, "stored hashed");

    // Check-out by the locker app, with the token from its AppConfig.
    let out = locker.checkout(&d, "nurse.a").await.expect("checkout");
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.body["username"], "nurse.a");
    assert_eq!(out.body["checked_out_via"], "kiosk");
    let sent = drain(&mut d).await;
    assert!(sent.contains(&"InstallProfile:Acknowledged".to_string()), "the PIN policy goes out: {sent:?}");
    assert_eq!(config_value(&d, ROVER, "username").as_deref(), Some("nurse.a"), "Rover's AppConfig follows the holder");
    assert!(d.passcode_required());
    assert!(d.user_sets_passcode("482913"), "the holder chooses a PIN");
    assert!(d.user_uses_app(ROVER, "signed_in_user", "nurse.a"));
    let (_, holder) = h.get(&format!("/v1/devices/{}/profiles", d.udid)).await;
    assert!(holder.to_string().contains(&w.passcode_profile), "{holder}");

    // Check-in answers at once; the device is back with the staging user.
    let started = Instant::now();
    let back = locker.checkin(&d).await.expect("checkin");
    let answered_in = started.elapsed();
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(answered_in < Duration::from_secs(2), "check-in took {answered_in:?}");
    let session_id = back.body["id"].as_str().unwrap().to_string();
    assert_eq!(back.body["open"], false);
    let handled = drain(&mut d).await;
    for want in ["RemoveProfile:Acknowledged", "ClearPasscode:Acknowledged", "RemoveApplication:Acknowledged"] {
        assert!(handled.contains(&want.to_string()), "{want} in {handled:?}");
    }
    let remove_profile = handled.iter().position(|c| c == "RemoveProfile:Acknowledged").unwrap();
    let clear = handled.iter().position(|c| c == "ClearPasscode:Acknowledged").unwrap();
    assert!(remove_profile < clear, "the PIN policy goes before the PIN: {handled:?}");
    assert_eq!(d.passcode, None, "ClearPasscode with the escrowed UnlockToken cleared the PIN");
    assert!(!d.passcode_required());
    assert!(d.app(ROVER).expect("Rover installed again").data.is_empty(), "Rover's data is gone");
    assert_eq!(config_value(&d, ROVER, "username").as_deref(), Some(STAGING), "re-sent for the staging user");
    let second_token = locker.token(&d).expect("token");
    assert_ne!(second_token, first_token, "the kiosk token rotates at check-in");

    // The connectors logged nurse.a out, from the queue.
    let session = h
        .wait_for(&format!("/v1/shared/sessions/{session_id}"), "both logouts done", |s| {
            action(s, "checkin", "logout_connector").iter().all(|a| a["status"] == "done")
        })
        .await;
    let vocera = w.vocera.calls();
    assert_eq!(vocera.len(), 1, "{vocera:?}");
    assert_eq!(vocera[0].fields.get("username").map(String::as_str), Some("nurse.a"));
    let epic = w.epic.calls();
    assert_eq!(epic.len(), 1, "{epic:?}");
    assert!(epic[0].authorized, "Epic got an access token for the assertion");
    assert_eq!(epic[0].fields.get("InstallID"), Some(&format!("{}Rover", d.serial)));
    assert!(w.epic.rejected().is_empty(), "{:?}", w.epic.rejected());
    for name in ["clear_passcode", "clear_app_data", "resend", "held_profile"] {
        let a = action(&session, "checkin", name);
        assert!(!a.is_empty() && a.iter().all(|a| a["status"] == "done"), "{name}: {session}");
    }
    assert_eq!(session["calls"].as_array().unwrap().len(), 2);
    let s = session.to_string();
    assert!(!s.contains(&second_token) && !s.contains(&first_token), "tokens are never shown");

    // A repeated check-in answers with the session it ended.
    let again = locker.checkin(&d).await.expect("checkin");
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], session_id.as_str());
    assert_eq!(again.body["already_checked_in"], true);

    // The old token, a forged one: refused, nothing changed.
    let before = h.count("shared_sessions");
    let old = locker.checkout_as(&d, &first_token, &d.serial, "nurse.b").await.expect("call");
    assert_eq!(old.status, 403, "a rotated kiosk token: {}", old.body);
    let forged = locker.checkout_as(&d, "mdmk_forged0000000000000000000000000000000000", &d.serial, "nurse.b").await.expect("call");
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert_eq!(h.count("shared_sessions"), before);
    // The current token works on its own device only, and only for check-out and check-in.
    let r = h.api.get(h.url("/v1/shared/sessions")).bearer_auth(&second_token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // History per device and per user.
    let (_, by_device) = h.get(&format!("/v1/devices/{}/sessions", d.serial)).await;
    assert_eq!(by_device.as_array().unwrap().len(), 1, "{by_device}");
    let (_, by_user) = h.get("/v1/shared/users/nurse.a/sessions").await;
    assert_eq!(by_user[0]["id"], session_id.as_str());
    let (_, events) = h.get(&format!("/v1/events?topics=shared.checkout,shared.checkin&device={}", d.udid)).await;
    let topics: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["topic"].as_str().unwrap()).collect();
    assert_eq!(topics, ["shared.checkout", "shared.checkin"], "{events}");
}

both!(a_kiosk_token_acts_for_its_own_device_only);
async fn a_kiosk_token_acts_for_its_own_device_only(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut a = h.enrolled(0).await;
    let mut b = h.enrolled(1).await;
    let _w = ward(&h, &[a.udid.as_str(), b.udid.as_str()]).await;
    drain(&mut a).await;
    drain(&mut b).await;
    let locker = LockerApp::new(LOCKER);
    let a_token = locker.token(&a).unwrap();
    assert_ne!(Some(a_token.clone()), locker.token(&b));
    let r = locker.checkout_as(&a, &a_token, &b.serial, "nurse.x").await.unwrap();
    assert_eq!(r.status, 403, "a's token on b: {}", r.body);
    assert_eq!(h.count("shared_sessions"), 0, "nothing changed");
    // A second check-out of a held device checks the first holder in.
    let (s, v) = h.post_json("/v1/shared/checkout", serde_json::json!({"device": a.udid, "user": "nurse.a"})).await;
    assert_eq!(s, 200, "{v}");
    let first = v["id"].as_str().unwrap().to_string();
    let (s, v) = h.post_json("/v1/shared/checkout", serde_json::json!({"device": a.serial, "user": "nurse.b"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["username"], "nurse.b");
    let (_, old) = h.get(&format!("/v1/shared/sessions/{first}")).await;
    assert_eq!(old["open"], false);
    assert_eq!(old["checkin_reason"], "checked out by nurse.b");
    assert_eq!(action(&old, "checkin", "logout_connector").len(), 2, "the first holder is logged out: {old}");
    assert_eq!(h.count("shared_sessions WHERE open"), 1);
    // Two check-outs of the held device at once: one holder at the end, every holder before
    // checked in (logged out) exactly once, no check-in recorded against the wrong session.
    let (x, y) = tokio::join!(
        h.post_json("/v1/shared/checkout", serde_json::json!({"device": a.udid, "user": "nurse.c"})),
        h.post_json("/v1/shared/checkout", serde_json::json!({"device": a.udid, "user": "nurse.d"})),
    );
    for (s, v) in [&x, &y] {
        assert!(*s == 200 || *s == 409, "{s} {v}");
    }
    assert_eq!(h.count("shared_sessions WHERE open"), 1);
    let closed = h.count("shared_sessions WHERE NOT open");
    assert_eq!(h.count("shared_actions WHERE phase = 'checkin' AND action = 'event'"), closed, "one check-in workflow per closed session");
    assert_eq!(h.count("connector_calls"), closed * 2, "each holder logged out of both connectors once");
    // A checked-out device does not leave its pool; the same device twice is one member.
    let (_, pool) = h.get("/v1/shared/pools/ward-3").await;
    let mut without = pool.clone();
    without["devices"] = serde_json::json!([b.udid]);
    let (s, v) = h.put_json("/v1/shared/pools/ward-3", without).await;
    assert_eq!(s, 409, "{v}");
    let mut twice = pool.clone();
    twice["devices"] = serde_json::json!([a.udid, b.udid, a.udid]);
    let (s, v) = h.put_json("/v1/shared/pools/ward-3", twice).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["devices"].as_array().unwrap().len(), 2);
    let closed = h.count("shared_sessions");
    // Bad input: 4xx, nothing stored.
    for (body, want) in [
        (serde_json::json!({"device": a.udid}), 400),
        (serde_json::json!({"device": "NOPE", "user": "x"}), 404),
        (serde_json::json!({"device": a.udid, "user": "bad\u{7}name"}), 400),
        (serde_json::json!({"device": a.udid, "user": ""}), 400),
    ] {
        let (s, v) = h.post_json("/v1/shared/checkout", body.clone()).await;
        assert_eq!(s, want, "{body} → {v}");
    }
    assert_eq!(h.count("shared_sessions"), closed);
}

both!(connector_failures_never_hold_up_check_in);
async fn connector_failures_never_hold_up_check_in(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let w = ward(&h, &[d.udid.as_str()]).await;
    drain(&mut d).await;
    let locker = LockerApp::new(LOCKER);
    let mut check_in_times = Vec::new();
    for (i, mode) in [Mode::Fail, Mode::Hang].into_iter().enumerate() {
        w.epic.set_mode(mode);
        let user = format!("nurse.{i}");
        assert_eq!(locker.checkout(&d, &user).await.unwrap().status, 200);
        drain(&mut d).await;
        let started = Instant::now();
        let r = locker.checkin(&d).await.unwrap();
        check_in_times.push(started.elapsed());
        assert_eq!(r.status, 200, "{}", r.body);
        drain(&mut d).await;
        let id = r.body["id"].as_str().unwrap().to_string();
        // The failure is visible: the Epic call is retrying with its error.
        let s = h
            .wait_for(&format!("/v1/shared/sessions/{id}"), "the Epic call retried", |s| {
                s["calls"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["attempts"].as_i64().unwrap_or(0) >= 1 && c["status"] == "pending" && !c["last_error"].is_null())
            })
            .await;
        let epic_action = action(&s, "checkin", "logout_connector").into_iter().find(|a| a["status"] == "retrying").cloned();
        assert!(epic_action.is_some(), "the action shows the retry: {s}");
        // Once the mock is back, the retry succeeds.
        w.epic.set_mode(Mode::Ok);
        h.wait_for(&format!("/v1/shared/sessions/{id}"), "the Epic call succeeded", |s| {
            action(s, "checkin", "logout_connector").iter().all(|a| a["status"] == "done")
        })
        .await;
    }
    for t in &check_in_times {
        assert!(*t < Duration::from_secs(2), "check-in answered in {t:?} with the connector down");
    }
    // "Install ID not found": recorded, not failed.
    w.epic.set_mode(Mode::NotFound);
    assert_eq!(locker.checkout(&d, "nurse.z").await.unwrap().status, 200);
    drain(&mut d).await;
    let r = locker.checkin(&d).await.unwrap();
    let id = r.body["id"].as_str().unwrap().to_string();
    let s = h
        .wait_for(&format!("/v1/shared/sessions/{id}"), "not_found recorded", |s| {
            action(s, "checkin", "logout_connector").iter().any(|a| a["status"] == "not_found")
        })
        .await;
    assert!(!s.to_string().contains("\"failed\""), "{s}");
    // Test connection and Test logout run the real calls and say what happened.
    let (st, t) = h.post_json("/v1/connectors/epic-rover/test", serde_json::json!({})).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["outcome"], "done", "{t}");
    let (st, t) = h.post_json("/v1/connectors/epic-rover/test-logout", serde_json::json!({"serial_number": d.serial})).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["outcome"], "not_found", "{t}");
    assert!(t["answer"].as_str().unwrap().contains("Install ID not found"), "{t}");
    w.epic.set_mode(Mode::Fail);
    let (_, t) = h.post_json("/v1/connectors/epic-rover/test-logout", serde_json::json!({"serial_number": d.serial})).await;
    assert_eq!(t["outcome"], "failed", "{t}");
    assert_eq!(t["status"], 500, "{t}");
}

both!(an_automation_logs_out_on_the_event);
async fn an_automation_logs_out_on_the_event(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let (cert, key) = tls(&h);
    let vocera = MockVendor::vocera(&cert, &key).await.unwrap();
    let (s, v) =
        h.post_json("/v1/connectors", serde_json::json!({"name": "vocera", "preset": {"name": "vocera", "host": vocera.host(), "format": "json"}})).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) =
        h.post_json("/v1/shared/pools", serde_json::json!({"name": "ward-5", "staging_user": "ward5", "devices": [d.udid], "clear_passcode": false})).await;
    assert_eq!(s, 201, "{v}");
    // What seed 000 wires in its analytics tool: the device returning to its staging user.
    let rule = serde_json::json!({"name": "ward-5 vocera logout", "topic": "shared.checkin", "condition": {"pool": "ward-5"}, "connector": "vocera"});
    let (s, a) = h.post_json("/v1/automations", rule).await;
    assert_eq!(s, 201, "{a}");
    let (s, v) = h.post_json("/v1/automations", serde_json::json!({"name": "x", "topic": "no.such", "connector": "vocera"})).await;
    assert_eq!(s, 400, "{v}");
    for user in ["nurse.c", "nurse.d"] {
        assert_eq!(h.post_json("/v1/shared/checkout", serde_json::json!({"device": d.udid, "user": user})).await.0, 200);
        assert_eq!(h.post_json("/v1/shared/checkin", serde_json::json!({"device": d.udid})).await.0, 200);
    }
    drain(&mut d).await;
    h.wait_for("/v1/connector-calls?status=done", "two automation calls", |v| v.as_array().is_some_and(|a| a.len() == 2)).await;
    // The worker runs calls concurrently: two users' logouts may land in either order.
    let mut users: Vec<String> = vocera.calls().iter().filter_map(|c| c.fields.get("username").cloned()).collect();
    users.sort();
    assert_eq!(users, ["nurse.c", "nurse.d"]);
    // Off: no more calls.
    let (s, _) = h
        .api
        .patch(h.url(&format!("/v1/automations/{}", a["id"].as_str().unwrap())))
        .bearer_auth(crate::harness::API_KEY)
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(s, 200);
    // Connector credentials are sealed and never shown.
    let (s, v) = h
        .post_json(
            "/v1/connectors",
            serde_json::json!({"name": "paging", "settings": {"kind": "http", "url": format!("{}/page", vocera.url()), "auth": {"type": "bearer"}}, "secrets": {"token": "s3cr3t-bearer-0042"}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["secrets_set"], serde_json::json!(["token"]));
    let (_, list) = h.get("/v1/connectors").await;
    assert!(!list.to_string().contains("s3cr3t-bearer-0042"));
    assert!(h.blobs("SELECT secret AS v FROM connectors WHERE name = 'paging'").iter().all(|b| !String::from_utf8_lossy(b).contains("s3cr3t")));
}
