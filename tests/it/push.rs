//! APNs end to end: push certificates through the API, the scheduler pushing through the real
//! HTTP/2 client to the mock APNs, simulated devices waking on the push, failures and retries.

use std::time::{Duration, Instant};

use mdm_sim::apns::Behaviour;
use mdm_sim::wake::{by_token, wake_on_push};

use crate::both;
use crate::harness::{Db, Harness, Opts, API_KEY, TOPIC};

/// Polls `f` every 50 ms until it is true or `limit` passes.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The push state of a device's channel, from `GET /v1/devices/{id}`.
async fn push_state(h: &Harness, udid: &str) -> serde_json::Value {
    let (status, body) = h.get(&format!("/v1/devices/{udid}")).await;
    assert_eq!(status, 200, "{body}");
    body["enrollments"][0]["push"].clone()
}

/// An admin's explicit push of one device through `POST /v1/push/{id}`: that device's outcome.
async fn push_now(h: &Harness, udid: &str) -> serde_json::Value {
    let r = h.api.post(h.url(&format!("/v1/push/{udid}"))).bearer_auth(API_KEY).send().await.unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    body["status"][udid].clone()
}

fn pushes_for(h: &Harness, token: &[u8]) -> Vec<mdm_sim::apns::ReceivedPush> {
    let hex = hex::encode(token);
    h.mock().received().into_iter().filter(|p| p.token_hex == hex).collect()
}

async fn push_wakes_devices(db: Db) {
    // Re-pushes would follow a second after each push if the schedule did not end.
    let opts = Opts { retry: vec![Duration::from_secs(1)], ..Opts::apns() };
    let Some(h) = Harness::start_with(db, opts).await else {
        return;
    };
    let imported = h.import_push_cert().await;
    assert_eq!(imported["outcome"], "added");
    assert_eq!(imported["certificate"]["topic"], TOPIC);
    let mut devices = Vec::new();
    for i in 0..5 {
        devices.push(h.enrolled(i).await);
    }
    let ids: Vec<String> = devices.iter().map(|d| d.udid.clone()).collect();
    let magic: std::collections::HashMap<String, String> = devices.iter().map(|d| (hex::encode(&d.token), d.push_magic.clone())).collect();
    let (_task, mut woken) = wake_on_push(h.mock().subscribe(), by_token(devices), 8);

    let (status, body) = h.command("DeviceInformation", &ids, serde_json::json!({ "Queries": ["SerialNumber"] })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["push"], "scheduled");
    let mut handled = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while handled < ids.len() {
        let w = tokio::time::timeout_at(deadline.into(), woken.recv()).await.expect("devices woken in time").expect("dispatcher alive");
        assert!(w.error.is_none(), "{w:?}");
        handled += w.handled;
    }
    // Every queue is empty, and each device got exactly one correct push.
    let uuid = body["command_uuid"].as_str().unwrap().to_string();
    let (_, cmd) = h.get(&format!("/v1/commands/{uuid}")).await;
    for t in cmd["targets"].as_array().unwrap() {
        assert_eq!(t["status"], "acknowledged", "{cmd}");
    }
    let received = h.mock().received();
    assert_eq!(received.len(), ids.len(), "{received:?}");
    for p in &received {
        assert_eq!(p.status, 200);
        assert_eq!(p.topic, TOPIC);
        assert_eq!(p.push_type.as_deref(), Some("mdm"));
        assert_eq!(p.priority.as_deref(), Some("10"));
        assert!(p.expiration.as_deref().is_some_and(|e| e.parse::<i64>().unwrap() > chrono::Utc::now().timestamp()));
        assert_eq!(p.push_magic.as_ref(), magic.get(&p.token_hex));
    }
    let state = push_state(&h, &ids[0]).await;
    assert_eq!(state["last_result"], "sent", "{state}");
    assert_eq!(state["attempts"], 1);
    // The queue drained, so the re-push schedule ends: nothing more is sent.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(h.mock().count_received(), ids.len());
    assert!(push_state(&h, &ids[0]).await["next_push_at"].is_null());
}
both!(push_wakes_devices);

/// Many commands queued for one device quickly lead to a handful of pushes, not one each.
async fn pushes_are_batched(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let d = h.enrolled(0).await;
    let id = [d.udid.clone()];
    let calls = (0..40).map(|_| h.command("DeviceInformation", &id, serde_json::json!({ "Queries": ["UDID"] })));
    for (status, body) in futures::future::join_all(calls).await {
        assert_eq!(status, 200, "{body}");
    }
    eventually(Duration::from_secs(10), "a push", || async { !pushes_for(&h, &d.token).is_empty() }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Each scheduler pass pushes an enrollment once; enqueues that land while a push is in
    // flight make it due once more. How many passes that takes depends on the machine's speed,
    // so the bound here is loose; `thousand_commands_one_push` below is exact.
    let n = pushes_for(&h, &d.token).len();
    assert!((1..=20).contains(&n), "40 commands queued concurrently led to {n} pushes");
    // One enqueue of many targets: one push per enrollment.
    let mut devices = Vec::new();
    for i in 1..=20 {
        devices.push(h.enrolled(i).await);
    }
    h.mock().clear();
    let ids: Vec<String> = devices.iter().map(|d| d.udid.clone()).collect();
    let (status, _) = h.command("ProfileList", &ids, serde_json::json!({})).await;
    assert_eq!(status, 200);
    eventually(Duration::from_secs(10), "20 pushes", || async { h.mock().count_received() >= 20 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.mock().count_received(), 20);
}
both!(pushes_are_batched);

/// 1,000 commands queued one by one for an enrollment make it due once: the next scheduler
/// pass claims it once, so one push goes out.
async fn thousand_commands_one_push(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    let d = h.enrolled(0).await;
    let other = h.enrolled(1).await;
    // Stop the server (and its scheduler) so this test is the only claimant.
    h.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let queue = mdm::queue::Queue::new(h.store.clone());
    for i in 0..1000 {
        let uuid = format!("cmd-{i}");
        let cmd = mdm::store::models::Command { uuid: uuid.clone(), request_type: "ProfileList".into(), body: Vec::new(), created_at: mdm::store::now() };
        queue.enqueue(mdm::queue::Enqueue::new(vec![cmd], vec![(d.udid.clone(), uuid)])).await.unwrap();
    }
    let at = mdm::store::now() + chrono::Duration::seconds(1);
    let due = h.store.push().claim_due_pushes(at, at + chrono::Duration::minutes(1), 1000).await.unwrap();
    let ids: Vec<&str> = due.iter().map(|p| p.enrollment_id.as_str()).collect();
    assert_eq!(ids, vec![d.udid.as_str()], "one push for 1,000 commands, none for the idle device {}", other.udid);
    assert!(h.store.push().claim_due_pushes(at, at + chrono::Duration::minutes(1), 1000).await.unwrap().is_empty(), "claimed twice");
}
both!(thousand_commands_one_push);

/// 410 marks the token stale: no pushes until the device sends a new TokenUpdate.
async fn unregistered_token_waits_for_token_update(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let d = h.enrolled(0).await;
    h.mock().set_for_token(&hex::encode(&d.token), vec![Behaviour::Unregistered]);
    let id = [d.udid.clone()];
    assert_eq!(h.command("DeviceInformation", &id, serde_json::json!({ "Queries": ["UDID"] })).await.0, 200);
    eventually(Duration::from_secs(10), "410 recorded", || async { push_state(&h, &d.udid).await["last_result"] == "unregistered" }).await;
    let state = push_state(&h, &d.udid).await;
    assert!(state["token_stale_at"].is_string(), "{state}");
    assert!(state["next_push_at"].is_null(), "{state}");
    assert!(state["last_error"].as_str().unwrap().contains("Unregistered"));

    // More commands, an explicit push: nothing reaches APNs.
    assert_eq!(h.command("ProfileList", &id, serde_json::json!({})).await.0, 200);
    let body = push_now(&h, &d.udid).await;
    assert_eq!(body["result"], "not_sent", "{body}");
    assert!(body["reason"].as_str().unwrap().contains("TokenUpdate"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(pushes_for(&h, &d.token).len(), 1);

    // A new TokenUpdate makes the waiting commands due again.
    d.token_update().await.unwrap();
    eventually(Duration::from_secs(10), "push after TokenUpdate", || async { pushes_for(&h, &d.token).iter().any(|p| p.status == 200) }).await;
    let state = push_state(&h, &d.udid).await;
    assert!(state["token_stale_at"].is_null(), "{state}");
}
both!(unregistered_token_waits_for_token_update);

/// 429, 500 and a dropped connection are retried on the schedule until a push gets through;
/// the re-pushes continue while the device does not fetch and stop once it has.
async fn failures_are_retried_on_schedule(db: Db) {
    let opts = Opts { retry: vec![Duration::from_millis(300), Duration::from_millis(900), Duration::from_millis(300)], ..Opts::apns() };
    let Some(h) = Harness::start_with(db, opts).await else {
        return;
    };
    h.import_push_cert().await;
    let mut d = h.enrolled(0).await;
    h.mock().set_for_token(&hex::encode(&d.token), vec![Behaviour::TooManyRequests, Behaviour::InternalServerError, Behaviour::Drop]);
    assert_eq!(h.command("DeviceInformation", std::slice::from_ref(&d.udid), serde_json::json!({ "Queries": ["UDID"] })).await.0, 200);
    eventually(Duration::from_secs(15), "two accepted pushes after the failures", || async {
        pushes_for(&h, &d.token).iter().filter(|p| p.status == 200).count() >= 2
    })
    .await;
    let pushes = pushes_for(&h, &d.token);
    let statuses: Vec<u16> = pushes.iter().map(|p| p.status).collect();
    assert_eq!(&statuses[..4], &[429, 500, 0, 200], "{statuses:?}");
    // The waits follow the schedule: 300 ms after the first push, 900 ms after the second,
    // then 300 ms for good. (The scheduler looks every 100 ms, so a wait may run a little long.)
    let gaps: Vec<u128> = pushes.windows(2).map(|w| w[1].at.duration_since(w[0].at).as_millis()).collect();
    for (gap, want) in gaps.iter().zip([300, 900, 300, 300]) {
        assert!(*gap >= want - 20 && *gap < want + 700, "gaps {gaps:?}");
    }
    // The server records an outcome just after APNs (the mock) has seen the push.
    eventually(Duration::from_secs(5), "five attempts recorded", || async { push_state(&h, &d.udid).await["attempts"].as_i64().unwrap_or(0) >= 5 }).await;
    // The device fetches; afterwards the schedule stops.
    assert_eq!(d.connect().await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = pushes_for(&h, &d.token).len();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(pushes_for(&h, &d.token).len(), after, "re-pushes continued after the queue drained");
    assert!(push_state(&h, &d.udid).await["next_push_at"].is_null());
}
both!(failures_are_retried_on_schedule);

/// Two replicas on one database push each due enrollment once.
async fn replicas_do_not_double_push(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let (_base2, _task2) = h.replica().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(h.enrolled(i).await.udid);
    }
    h.mock().clear();
    // Queue without pushing, then make every row due at once: both schedulers race for them.
    assert_eq!(h.command_nopush("DeviceInformation", &ids).await, 200);
    h.sql(match db {
        Db::Sqlite => "UPDATE push_state SET next_push_at = '2000-01-01 00:00:00'",
        Db::Postgres => "UPDATE push_state SET next_push_at = TIMESTAMP '2000-01-01 00:00:00'",
    });
    eventually(Duration::from_secs(10), "30 pushes", || async { h.mock().count_received() >= 30 }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(h.mock().count_received(), 30);
}
both!(replicas_do_not_double_push);

/// The schedule lives in the database: after a restart the new process keeps re-pushing.
async fn schedule_survives_restart(db: Db) {
    let opts = Opts { retry: vec![Duration::from_millis(300)], ..Opts::apns() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    h.import_push_cert().await;
    let d = h.enrolled(0).await;
    assert_eq!(h.command("DeviceInformation", std::slice::from_ref(&d.udid), serde_json::json!({ "Queries": ["UDID"] })).await.0, 200);
    eventually(Duration::from_secs(10), "first push", || async { !pushes_for(&h, &d.token).is_empty() }).await;
    h.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = pushes_for(&h, &d.token).len();
    let (_base, _task) = h.replica().await;
    // Up to one lease (2 × timeout + 10 s) if the old process was stopped mid-pass.
    eventually(Duration::from_secs(40), "re-push from the new process", || async { pushes_for(&h, &d.token).len() >= before + 2 }).await;
}
both!(schedule_survives_restart);

/// Certificates: formats, errors that leave the active one in place, renewal, topic change.
async fn push_cert_api(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    let put_raw = |body: Vec<u8>, password: Option<&str>, query: &str| {
        let mut r = h.api.put(h.url(&format!("/v1/pushcert{query}"))).bearer_auth(API_KEY).body(body);
        if let Some(p) = password {
            r = r.header("X-Password", p);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // No key without auth.
    assert_eq!(h.api.get(h.url("/v1/pushcert")).send().await.unwrap().status(), 401);
    // Wrong password, garbage, a device certificate: 400 with a reason, nothing stored.
    let (s, t) = put_raw(h.push_p12("right"), Some("wrong"), "").await;
    assert_eq!(s, 400, "{t}");
    assert!(t.to_lowercase().contains("password"), "{t}");
    let (s, t) = put_raw(b"\x30\x82garbage".to_vec(), Some("x"), "").await;
    assert_eq!(s, 400, "{t}");
    let dev = h.pki.ca.issue_device("not-a-push-cert").unwrap();
    let mut pem = dev.cert.to_pem().unwrap();
    pem.extend(dev.key.private_key_to_pem_pkcs8().unwrap());
    let (s, t) = put_raw(pem, None, "").await;
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("com.apple.mgmt"), "{t}");
    assert_eq!(h.get("/v1/pushcert").await.1, serde_json::json!([]));

    // PEM (cert + PKCS#1 key) as raw body.
    let push = &h.apns.as_ref().unwrap().pki.push_cert;
    let mut pem = push.cert.to_pem().unwrap();
    pem.extend(push.key.rsa().unwrap().private_key_to_pem().unwrap());
    let (s, t) = put_raw(pem.clone(), None, "").await;
    assert_eq!(s, 200, "{t}");
    assert!(t.contains("\"added\""), "{t}");
    let (_, list) = h.get("/v1/pushcert").await;
    let text = list.to_string();
    assert!(!text.contains("PRIVATE") && !text.contains("key_sealed"), "{text}");
    assert_eq!(list[0]["topic"], TOPIC);
    let days = list[0]["days_left"].as_i64().unwrap();
    assert!((363..=365).contains(&days), "{list}");
    assert_eq!(list[0]["expires_soon"], false);

    // Renewal (same topic) replaces it.
    assert!(h.import_push_cert().await["outcome"] == "renewed");
    let (_, before) = h.get("/v1/pushcert").await;

    // A wrong password or a corrupt file now: 400 with a reason; the stored one stays active.
    let (s, t) = put_raw(h.push_p12("right"), Some("wrong"), "").await;
    assert_eq!(s, 400, "{t}");
    assert!(t.to_lowercase().contains("password"), "{t}");
    let mut corrupt = h.push_p12("right");
    let mid = corrupt.len() / 2;
    corrupt.truncate(mid);
    let (s, t) = put_raw(corrupt, Some("right"), "").await;
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("PKCS#12") || t.contains("p12") || t.contains("PEM"), "{t}");
    assert_eq!(h.get("/v1/pushcert").await.1, before);
    let d = h.enrolled(7).await;
    let body = push_now(&h, &d.udid).await;
    assert_eq!(body["result"], "sent", "{body}");

    // Expired certificate: refused, the stored one stays.
    let apple = &h.apns.as_ref().unwrap().pki.apple_ca;
    let expired = apple.issue_push_cert(TOPIC, -1).unwrap();
    let mut pem = expired.cert.to_pem().unwrap();
    pem.extend(expired.key.private_key_to_pem_pkcs8().unwrap());
    let (s, t) = put_raw(pem, None, "").await;
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("expired"), "{t}");
    assert_eq!(h.get("/v1/pushcert").await.1.as_array().unwrap().len(), 1);

    // Another topic: 409 unless forced; forced keeps both, the new one active.
    let other_topic = "com.apple.mgmt.External.11111111-2222-3333-4444-555555555555";
    let other = apple.issue_push_cert(other_topic, 20).unwrap();
    let mut pem = other.cert.to_pem().unwrap();
    pem.extend(other.key.private_key_to_pem_pkcs8().unwrap());
    let (s, t) = put_raw(pem.clone(), None, "").await;
    assert_eq!(s, 409, "{t}");
    assert!(t.contains("force"), "{t}");
    let (s, t) = put_raw(pem, None, "?force=1").await;
    assert_eq!(s, 200, "{t}");
    let (_, list) = h.get("/v1/pushcert").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["topic"], other_topic);
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[0]["expires_soon"], true);

    // Metrics expose the days left.
    let m = h.api.get(h.url("/metrics")).bearer_auth(API_KEY).send().await.unwrap().text().await.unwrap();
    assert!(m.contains(&format!("mdm_push_cert_days_left{{topic=\"{other_topic}\"}} 19")), "{m}");

    // Devices of the first topic are still pushed with the first certificate.
    let d = h.enrolled(0).await;
    let body = push_now(&h, &d.udid).await;
    assert_eq!(body["result"], "sent", "{body}");

    // Removing the first topic's certificate: a clear error per push.
    let r = h.api.delete(h.url(&format!("/v1/pushcert/{TOPIC}"))).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let body = push_now(&h, &d.udid).await;
    assert_eq!(body["result"], "certificate", "{body}");
    assert!(body["reason"].as_str().unwrap().contains("no push certificate for topic"), "{body}");
}
both!(push_cert_api);

/// A push certificate APNs refuses (not issued by Apple) is reported as a certificate problem.
async fn refused_certificate_is_reported(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    let rogue_ca = mdm::pki::Ca::generate("Not Apple").unwrap();
    let rogue = rogue_ca.issue_push_cert(TOPIC, 100).unwrap();
    let (s, body) = h.put_json("/v1/pushcert", serde_json::json!({ "cert_pem": String::from_utf8(rogue.cert.to_pem().unwrap()).unwrap(), "key_pem": String::from_utf8(rogue.key.private_key_to_pem_pkcs8().unwrap()).unwrap() })).await;
    assert_eq!(s, 200, "{body}");
    let d = h.enrolled(0).await;
    let body = push_now(&h, &d.udid).await;
    assert_eq!(body["result"], "certificate", "{body}");
    assert!(body["reason"].as_str().unwrap().contains("BadCertificate"), "{body}");
    assert_eq!(push_state(&h, &d.udid).await["last_result"], "certificate");
}
both!(refused_certificate_is_reported);

/// A 410 whose timestamp is older than the device's last TokenUpdate does not make the token
/// stale (the device registered again since); the push is retried on the schedule instead.
async fn old_unregistered_timestamp_is_ignored(db: Db) {
    let opts = Opts { retry: vec![Duration::from_millis(300)], ..Opts::apns() };
    let Some(h) = Harness::start_with(db, opts).await else {
        return;
    };
    h.import_push_cert().await;
    let d = h.enrolled(0).await;
    let an_hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    h.mock().set_for_token(&hex::encode(&d.token), vec![Behaviour::UnregisteredSince(an_hour_ago)]);
    assert_eq!(h.command("DeviceInformation", std::slice::from_ref(&d.udid), serde_json::json!({ "Queries": ["UDID"] })).await.0, 200);
    eventually(Duration::from_secs(10), "the re-push after the 410", || async { pushes_for(&h, &d.token).iter().any(|p| p.status == 200) }).await;
    let statuses: Vec<u16> = pushes_for(&h, &d.token).iter().map(|p| p.status).collect();
    assert_eq!(&statuses[..2], &[410, 200], "{statuses:?}");
    let state = push_state(&h, &d.udid).await;
    assert!(state["token_stale_at"].is_null(), "{state}");
    assert!(state["token_updated_at"].is_string(), "{state}");
}
both!(old_unregistered_timestamp_is_ignored);

/// A refusal of a token the device has already replaced (a TokenUpdate landed while the push was
/// in flight) leaves the new token alone; a refusal of the current token marks it stale.
async fn stale_mark_needs_the_refused_token(db: Db) {
    use mdm::store::push::{PushRecord, StaleToken};
    let Some(h) = Harness::start_with(db, Opts::apns()).await else {
        return;
    };
    let mut d = h.enrolled(0).await;
    let old = d.token.clone();
    d.token = vec![0xAB; 32];
    d.token_update().await.unwrap();
    let refused = |token: Vec<u8>| PushRecord {
        result: "unregistered",
        error: Some("Unregistered".into()),
        stale: Some(StaleToken { token, since: None }),
        attempts: None,
        next_push_at: None,
    };
    h.store.push().record_pushes(vec![(d.udid.clone(), refused(old))], None).await.unwrap();
    let state = push_state(&h, &d.udid).await;
    assert_eq!(state["last_result"], "unregistered", "{state}");
    assert!(state["token_stale_at"].is_null(), "the new token was marked stale: {state}");
    h.store.push().record_pushes(vec![(d.udid.clone(), refused(d.token.clone()))], None).await.unwrap();
    assert!(push_state(&h, &d.udid).await["token_stale_at"].is_string());
}
both!(stale_mark_needs_the_refused_token);

/// `mdm push-cert import|list|remove` work on the configured database; a bad file is refused
/// with the reason and leaves the stored certificate in place.
async fn push_cert_cli(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else {
        return;
    };
    let cfg_path = h.pki.path("cli.toml");
    std::fs::write(&cfg_path, toml::to_string(&h.cfg).unwrap()).unwrap();
    let mdm = |args: Vec<String>| {
        let cfg_path = cfg_path.clone();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mdm")).arg("--config").arg(&cfg_path).args(&args).output().await.unwrap();
            (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
        }
    };
    let p12 = h.pki.path("push.p12");
    std::fs::write(&p12, h.push_p12("pw")).unwrap();
    let p12 = p12.display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let (ok, out) = mdm(s(&["push-cert", "import", &p12, "--password", "pw"])).await;
    assert!(ok, "{out}");
    assert!(out.contains(TOPIC) && out.contains("added"), "{out}");
    assert!(!out.contains("PRIVATE"), "{out}");
    let (ok, out) = mdm(s(&["push-cert", "import", &p12, "--password", "nope"])).await;
    assert!(!ok && out.to_lowercase().contains("password"), "{out}");
    let (ok, out) = mdm(s(&["push-cert", "list"])).await;
    assert!(ok && out.contains(TOPIC) && out.contains("days_left"), "{out}");
    // The running server picks the certificate up and pushes with it.
    let d = h.enrolled(0).await;
    eventually(Duration::from_secs(10), "a push with the imported certificate", || async { push_now(&h, &d.udid).await["result"] == "sent" }).await;
    let (ok, out) = mdm(s(&["push-cert", "remove", TOPIC])).await;
    assert!(ok, "{out}");
    assert_eq!(h.get("/v1/pushcert").await.1, serde_json::json!([]));
}
both!(push_cert_cli);

/// The lab's development push certificate (`mdm init`'s, marked in its subject) works only in
/// development mode: a production server refuses it on import and does not load one it finds
/// in the database, so it never pushes through Apple; in development mode it pushes.
async fn development_push_certificates_only_in_development(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    let dev = h.apns.as_ref().unwrap().pki.apple_ca.issue_development_push_cert(TOPIC, 30).unwrap();
    let mut pem = dev.cert.to_pem().unwrap();
    pem.extend(dev.key.private_key_to_pem_pkcs8().unwrap());
    let r = h.api.put(h.url("/v1/pushcert")).bearer_auth(API_KEY).body(pem.clone()).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("development push certificate"));
    assert_eq!(h.get("/v1/pushcert").await.1, serde_json::json!([]), "nothing stored");

    // In development mode (push.url is the mock on loopback) it is imported and pushes.
    let Some(lab) = Harness::start_with(db, Opts { tweak: Some(|c| c.push.development = true), ..Opts::apns() }).await else { return };
    let dev = lab.apns.as_ref().unwrap().pki.apple_ca.issue_development_push_cert(TOPIC, 30).unwrap();
    let mut pem = dev.cert.to_pem().unwrap();
    pem.extend(dev.key.private_key_to_pem_pkcs8().unwrap());
    let r = lab.api.put(lab.url("/v1/pushcert")).bearer_auth(API_KEY).body(pem).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(lab.get("/v1/pushcert").await.1[0]["development"], true);
    let d = lab.enrolled(0).await;
    let r = lab.api.post(lab.url(&format!("/v1/push/{}", d.udid))).bearer_auth(API_KEY).send().await.unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"][&d.udid]["result"], "sent", "{body}");

    // A production server on that database leaves the stored development certificate unused.
    let mut prod = lab.cfg.clone();
    prod.push.development = false;
    let svc = mdm::server::push_service(&prod, lab.store.clone(), std::sync::Arc::new(mdm::push::Offline), mdm::queue::Waker::default()).unwrap();
    assert_eq!(svc.reload().await.unwrap(), 0, "a production server does not load a development push certificate");
    assert_eq!(svc.active_topic().await.unwrap(), None, "nor hands its topic to new enrollments");
    assert!(!svc.certs().await.unwrap()[0].usable);

    // And development mode refuses a push URL off this machine.
    let mut off = lab.cfg.clone();
    off.push.url = "https://api.push.apple.com".into();
    let e = mdm::server::Server::bind_with(&off, lab.store.clone(), std::sync::Arc::new(mdm::push::Offline)).await.unwrap_err();
    assert!(e.to_string().contains("push.development"), "{e}");
}
both!(development_push_certificates_only_in_development);
