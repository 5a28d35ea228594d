//! The event outbox, its feed and webhooks: every event arrives, in order, through a receiver's
//! outages; NanoMDM-format consumers parse every check-in and acknowledge event; replicas
//! deliver each event once and take over from one that dies; dead letters and replays; the
//! outbound policy; retention of the feed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use mdm_sim::SimDevice;

use crate::both;
use crate::harness::{drain, free_port, Db, Harness, Opts, API_KEY};

/// How the local receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 200, and the request is counted as received.
    Ok,
    /// 500.
    Fail,
    /// No answer for longer than the server waits (then 503).
    Hang,
}

#[derive(Debug, Default)]
struct Got {
    /// Every request answered 200: its headers and body.
    accepted: Vec<(axum::http::HeaderMap, Vec<u8>)>,
    /// Every request that arrived, whatever it was answered.
    seen: usize,
}

/// A webhook receiver on 127.0.0.1.
pub(crate) struct Receiver {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Got>>,
    delay: Duration,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// A receiver for `port`, not yet listening (connections are refused).
    pub(crate) fn new(port: u16) -> Receiver {
        Receiver { port, mode: Arc::new(Mutex::new(Mode::Ok)), got: Default::default(), delay: Duration::ZERO, task: None }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Starts listening.
    pub(crate) async fn listen(&mut self) {
        let (mode, got, delay) = (self.mode.clone(), self.got.clone(), self.delay);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (mode, got) = (mode.clone(), got.clone());
                async move {
                    got.lock().unwrap().seen += 1;
                    let m = *mode.lock().unwrap();
                    match m {
                        Mode::Ok => {
                            tokio::time::sleep(delay).await;
                            got.lock().unwrap().accepted.push((headers, body.to_vec()));
                            (axum::http::StatusCode::OK, "thanks")
                        }
                        Mode::Fail => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "receiver broken"),
                        Mode::Hang => {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "too late")
                        }
                    }
                }
            }),
        );
        let l = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.expect("bind receiver");
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        }));
    }

    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    /// The value of header `name` of every accepted request.
    pub(crate) fn header(&self, name: &str) -> Vec<String> {
        self.got.lock().unwrap().accepted.iter().filter_map(|(h, _)| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)).collect()
    }

    /// The accepted bodies as JSON.
    pub(crate) fn bodies(&self) -> Vec<serde_json::Value> {
        self.got.lock().unwrap().accepted.iter().map(|(_, b)| serde_json::from_slice(b).expect("JSON body")).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

const SECRET: &str = "webhook-secret-for-tests-0123456789";

fn hmac(msg: &[&[u8]]) -> Vec<u8> {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let mut c = ring::hmac::Context::with_key(&k);
    for m in msg {
        c.update(m);
    }
    c.sign().as_ref().to_vec()
}

async fn add_webhook(h: &Harness, name: &str, url: &str, format: &str, topics: &[&str]) -> String {
    let (s, w) = h.post_json("/v1/webhooks", serde_json::json!({"name": name, "url": url, "format": format, "topics": topics, "secret": SECRET})).await;
    assert_eq!(s, 201, "{w}");
    assert!(w.get("secret").is_none(), "the secret is never returned: {w}");
    assert_eq!(w["secret_set"], true);
    w["id"].as_str().unwrap().to_string()
}

/// Every event in the feed after `after`, all pages.
async fn feed(h: &Harness, after: i64, query: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut after = after;
    loop {
        let (s, page) = h.get(&format!("/v1/events?after={after}&limit=1000{query}")).await;
        assert_eq!(s, 200, "{page}");
        let events = page["events"].as_array().unwrap().clone();
        if events.is_empty() {
            return out;
        }
        after = page["next"].as_i64().unwrap();
        out.extend(events);
    }
}

/// Waits until `cond` holds (polling), or panics with `what`.
async fn until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    for _ in 0..secs * 20 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The newest event id in the feed.
async fn last_id(h: &Harness) -> i64 {
    feed(h, 0, "").await.last().and_then(|e| e["id"].as_i64()).unwrap_or(0)
}

async fn every_event_arrives_in_order_through_outages(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    // Nothing listens on the webhook's port yet: connections are refused.
    let mut rx = Receiver::new(free_port());
    let start = last_id(&h).await;
    let id = add_webhook(&h, "siem", &rx.url(), "native", &[]).await;
    let mut devices = Vec::new();
    for i in 0..3 {
        devices.push(h.enrolled(i).await);
    }
    let targets: Vec<String> = devices.iter().map(|d| d.udid.clone()).collect();
    assert_eq!(h.command("DeviceInformation", &targets, serde_json::json!({"Queries": ["OSVersion"]})).await.0, 200);
    for d in &mut devices {
        drain(d).await;
    }
    // Attempts fail and are logged while the receiver is down.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, log) = h.get(&format!("/v1/webhooks/{id}/deliveries")).await;
    let failed = log.as_array().unwrap().iter().find(|l| l["outcome"] == "failed").unwrap_or_else(|| panic!("a failed attempt is logged: {log}"));
    assert!(failed["answer"].as_str().unwrap().contains("onnect"), "{failed}");
    let (_, w) = h.get(&format!("/v1/webhooks/{id}")).await;
    assert!(w["attempts"].as_i64().unwrap() >= 1 && w["last_error"].is_string(), "{w}");

    // Up, but answering 500; then hanging past the timeout; then well.
    rx.set(Mode::Fail);
    rx.listen().await;
    until("the receiver to see the 500s", 10, || rx.got.lock().unwrap().seen >= 2).await;
    rx.set(Mode::Hang);
    let seen = rx.got.lock().unwrap().seen;
    until("a hanging attempt", 10, || rx.got.lock().unwrap().seen > seen).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(rx.got.lock().unwrap().accepted.is_empty(), "nothing counts as delivered while the receiver fails");
    // More happens meanwhile.
    for d in &mut devices {
        assert_eq!(h.command("ProfileList", std::slice::from_ref(&d.udid), serde_json::json!({})).await.0, 200);
        drain(d).await;
    }
    rx.set(Mode::Ok);

    let want: Vec<i64> = feed(&h, start, "").await.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(want.len() > 20, "{}", want.len());
    let last = *want.last().unwrap();
    until("every event to arrive", 30, || rx.bodies().iter().any(|b| b["id"].as_i64() == Some(last))).await;
    let got: Vec<i64> = rx.bodies().iter().map(|b| b["id"].as_i64().unwrap()).collect();
    // Every event after the webhook's creation, once each, in order.
    let expected: Vec<i64> = want.iter().copied().filter(|i| *i > start).collect();
    assert_eq!(got[..expected.len()], expected[..], "in order, none lost, none twice");

    // Signatures verify; the native headers carry id, topic, timestamp.
    let b64 = &base64::engine::general_purpose::STANDARD;
    for (headers, body) in rx.got.lock().unwrap().accepted.iter() {
        let hdr = |k: &str| headers.get(k).unwrap_or_else(|| panic!("header {k}")).to_str().unwrap().to_string();
        assert_eq!(b64.decode(hdr("x-hmac-signature")).unwrap(), hmac(&[body]));
        let sig = hdr("x-mdm-signature");
        let (t, v1) = sig.strip_prefix("t=").unwrap().split_once(",v1=").unwrap();
        assert_eq!(hex::decode(v1).unwrap(), hmac(&[t.as_bytes(), b".", body]));
        let now = chrono::Utc::now().timestamp();
        assert!((now - t.parse::<i64>().unwrap()).abs() < 120, "a fresh timestamp");
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(hdr("x-mdm-event-id"), v["id"].to_string());
        assert_eq!(hdr("idempotency-key"), v["id"].to_string());
        assert_eq!(hdr("x-mdm-topic"), v["topic"].as_str().unwrap());
    }

    // What the outbox holds for a device: its whole story, in order.
    let d = &devices[0];
    let (s, timeline) = h.get(&format!("/v1/devices/{}/events?limit=1000", d.udid)).await;
    assert_eq!(s, 200, "{timeline}");
    let topics: Vec<&str> = timeline["events"].as_array().unwrap().iter().map(|e| e["topic"].as_str().unwrap()).collect();
    let pos = |t: &str| topics.iter().position(|x| *x == t).unwrap_or_else(|| panic!("{t} in {topics:?}"));
    assert!(pos("enrollment.authenticated") < pos("enrollment.token_updated"));
    assert!(pos("enrollment.token_updated") < pos("enrollment.enrolled"));
    assert!(pos("enrollment.enrolled") < pos("command.queued"));
    assert!(pos("command.queued") < pos("command.acknowledged"));
    let ack = timeline["events"].as_array().unwrap().iter().find(|e| e["topic"] == "command.acknowledged").unwrap();
    assert_eq!(ack["data"]["request_type"], "DeviceInformation", "{ack}");
    assert_eq!(ack["device_id"], d.udid.as_str());
    let raw = b64.decode(ack["raw_payload"].as_str().unwrap()).unwrap();
    let report: plist::Dictionary = plist::from_bytes(&raw).unwrap();
    assert_eq!(report["CommandUUID"].as_string(), ack["data"]["command_uuid"].as_str());
    let tu = timeline["events"].as_array().unwrap().iter().find(|e| e["topic"] == "enrollment.token_updated").unwrap();
    assert_eq!(tu["data"]["token_update_tally"], 1, "{tu}");
    // The feed filters by topic and device.
    let acks = feed(&h, 0, &format!("&topics=command.acknowledged&device={}", d.udid)).await;
    assert!(!acks.is_empty() && acks.iter().all(|e| e["topic"] == "command.acknowledged" && e["device_id"] == d.udid.as_str()));
    assert_eq!(h.get("/v1/events?topics=no.such.topic").await.0, 400);
    assert_eq!(h.get("/v1/events?limit=0").await.0, 400);
    assert_eq!(h.get("/v1/events?after=-1").await.0, 400);
    assert_eq!(h.get("/v1/events?after=abc").await.0, 400);

    // Metrics: deliveries by result, backlog, age of the oldest undelivered event.
    let m = h.api.get(h.url("/metrics")).bearer_auth(API_KEY).send().await.unwrap().text().await.unwrap();
    assert!(m.contains(r#"mdm_webhook_deliveries_total{webhook="siem",result="delivered"}"#), "{m}");
    assert!(m.contains(r#"mdm_webhook_deliveries_total{webhook="siem",result="failed"}"#), "{m}");
    assert!(m.contains(r#"mdm_webhook_backlog{webhook="siem"}"#), "{m}");
    assert!(m.contains("mdm_events_oldest_undelivered_seconds"), "{m}");

    // The secret is nowhere in clear: not in the API, not in the database.
    let (_, all) = h.get("/v1/webhooks").await;
    assert!(!all.to_string().contains(SECRET));
    assert_eq!(h.count(&format!("webhooks WHERE url = '{}' AND secret IS NOT NULL", rx.url())), 1);
    assert!(h.blobs("SELECT secret AS v FROM webhooks").iter().all(|b| !b.windows(SECRET.len()).any(|w| w == SECRET.as_bytes())), "sealed at rest");
}
both!(every_event_arrives_in_order_through_outages);

/// What NanoMDM's and MicroMDM's webhook consumers decode (their `EventJson`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NanoEvent {
    topic: String,
    event_id: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    checkin_event: Option<NanoCheckin>,
    acknowledge_event: Option<NanoAck>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NanoIds {
    id: String,
    parent_id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NanoCheckin {
    udid: Option<String>,
    enrollment_id: Option<String>,
    ids: Option<NanoIds>,
    raw_payload: String,
    url_params: Option<std::collections::HashMap<String, String>>,
    token_update_tally: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NanoAck {
    udid: Option<String>,
    enrollment_id: Option<String>,
    ids: Option<NanoIds>,
    status: String,
    command_uuid: Option<String>,
    raw_payload: String,
    url_params: Option<std::collections::HashMap<String, String>>,
}

async fn nanomdm_consumers_parse_every_event(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut rx = Receiver::new(free_port());
    rx.listen().await;
    add_webhook(&h, "nano", &rx.url(), "nanomdm", &[]).await;
    // A topic NanoMDM does not have is refused for this format.
    let (s, e) = h
        .post_json("/v1/webhooks", serde_json::json!({"name": "n2", "url": rx.url(), "format": "nanomdm", "topics": ["profile.installed"], "secret": SECRET}))
        .await;
    assert_eq!(s, 400, "{e}");
    let mut d = h.enrolled(0).await;
    d.user_token_update("U-1", "nurse").await.unwrap();
    d.raw_checkin("SetBootstrapToken", &[("BootstrapToken", plist::Value::Data(b"bootstrap secret".to_vec()))]).await.unwrap();
    d.raw_checkin("GetBootstrapToken", &[]).await.unwrap();
    d.raw_checkin("DeclarativeManagement", &[("Endpoint", "tokens".into())]).await.unwrap();
    assert_eq!(h.command("DeviceInformation", std::slice::from_ref(&d.udid), serde_json::json!({"Queries": ["OSVersion"]})).await.0, 200);
    drain(&mut d).await;
    d.checkout().await.unwrap();

    let want =
        ["mdm.Authenticate", "mdm.TokenUpdate", "mdm.SetBootstrapToken", "mdm.GetBootstrapToken", "mdm.DeclarativeManagement", "mdm.Connect", "mdm.CheckOut"];
    until("every NanoMDM topic", 20, || {
        let got: Vec<String> = rx.bodies().iter().map(|b| b["topic"].as_str().unwrap_or_default().to_string()).collect();
        want.iter().all(|w| got.iter().any(|g| g == w))
    })
    .await;
    let b64 = &base64::engine::general_purpose::STANDARD;
    let mut tallies = Vec::new();
    for (headers, body) in rx.got.lock().unwrap().accepted.iter() {
        assert_eq!(b64.decode(headers["x-hmac-signature"].to_str().unwrap()).unwrap(), hmac(&[body]), "NanoMDM's HMAC header");
        assert!(headers.get("x-mdm-signature").is_none());
        let ev: NanoEvent = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)));
        assert!(ev.event_id.is_some_and(|i| i.parse::<i64>().is_ok()));
        assert!((chrono::Utc::now() - ev.created_at).num_minutes() < 5);
        match (ev.topic.as_str(), ev.checkin_event, ev.acknowledge_event) {
            ("mdm.Connect", None, Some(a)) => {
                assert_eq!(a.udid.as_deref(), Some(d.udid.as_str()));
                assert!(a.enrollment_id.is_none() && a.url_params.is_none());
                let ids = a.ids.unwrap();
                assert_eq!((ids.id.as_str(), ids.kind.as_str(), ids.parent_id), (d.udid.as_str(), "Device", None));
                let raw: plist::Dictionary = plist::from_bytes(&b64.decode(a.raw_payload).unwrap()).unwrap();
                assert_eq!(raw["Status"].as_string(), Some(a.status.as_str()));
                assert_eq!(raw["CommandUUID"].as_string(), a.command_uuid.as_deref());
            }
            (topic, Some(c), None) => {
                assert_eq!(c.udid.as_deref(), Some(d.udid.as_str()), "{topic}");
                assert!(c.enrollment_id.is_none() && c.url_params.is_none());
                let raw: plist::Dictionary = plist::from_bytes(&b64.decode(&c.raw_payload).unwrap()).unwrap();
                assert_eq!(Some(topic.trim_start_matches("mdm.")), raw["MessageType"].as_string(), "the raw check-in");
                assert!(!raw.contains_key("BootstrapToken") && !raw.contains_key("UnlockToken"), "secrets stay out of events");
                let ids = c.ids.unwrap();
                if raw.contains_key("UserID") {
                    assert_eq!((ids.kind.as_str(), ids.parent_id.as_deref()), ("User", Some(d.udid.as_str())));
                    assert_eq!(ids.id, format!("{}:U-1", d.udid));
                }
                if topic == "mdm.TokenUpdate" {
                    tallies.push(c.token_update_tally.expect("a TokenUpdate carries its tally"));
                } else {
                    assert!(c.token_update_tally.is_none());
                }
            }
            (topic, c, a) => panic!("{topic}: checkin {} ack {}", c.is_some(), a.is_some()),
        }
    }
    assert!(tallies.contains(&1), "{tallies:?}");
    // Only NanoMDM's topics reach a NanoMDM-format webhook.
    assert!(rx.bodies().iter().all(|b| b["topic"].as_str().unwrap().starts_with("mdm.")));
}
both!(nanomdm_consumers_parse_every_event);

async fn dead_letters_and_replays(db: Db) {
    let opts = Opts { tweak: Some(|c| c.events.max_attempts = 2), ..Opts::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let mut rx = Receiver::new(free_port());
    rx.set(Mode::Fail);
    rx.listen().await;
    let id = add_webhook(&h, "ticketing", &rx.url(), "native", &["command.queued"]).await;
    let d = h.enrolled(0).await;
    for _ in 0..3 {
        assert_eq!(h.command_nopush("DeviceInformation", std::slice::from_ref(&d.udid)).await, 200);
    }
    // Two attempts each, then given up, kept as dead letters.
    let mut dead = serde_json::Value::Null;
    for _ in 0..200 {
        dead = h.get(&format!("/v1/webhooks/{id}/dead-letters")).await.1;
        if dead.as_array().is_some_and(|a| a.len() == 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead = dead.as_array().unwrap_or_else(|| panic!("{dead}")).clone();
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert!(dead.iter().all(|l| l["last_error"].as_str().unwrap().contains("500")), "{dead:?}");
    assert!(rx.got.lock().unwrap().accepted.is_empty());
    // Replay everything dead once the receiver works again.
    rx.set(Mode::Ok);
    let (s, r) = h.post_json(&format!("/v1/webhooks/{id}/replay"), serde_json::json!({"dead_letters": true})).await;
    assert_eq!((s, r["queued"].as_i64()), (200, Some(3)), "{r}");
    until("the replayed dead letters", 10, || rx.bodies().len() == 3).await;
    let ids: Vec<i64> = rx.bodies().iter().map(|b| b["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "replayed in order: {ids:?}");
    assert!(rx.bodies().iter().all(|b| b["topic"] == "command.queued"));
    assert!(h.get(&format!("/v1/webhooks/{id}/dead-letters")).await.1.as_array().unwrap().is_empty());
    // One event again, then a range.
    let (s, _) = h.post_json(&format!("/v1/webhooks/{id}/replay"), serde_json::json!({"event": ids[1]})).await;
    assert_eq!(s, 200);
    until("the replayed event", 10, || rx.bodies().len() == 4).await;
    assert_eq!(rx.bodies()[3]["id"].as_i64(), Some(ids[1]));
    let (s, r) = h.post_json(&format!("/v1/webhooks/{id}/replay"), serde_json::json!({"from": ids[0], "to": ids[2]})).await;
    assert_eq!((s, r["queued"].as_i64()), (200, Some(3)), "only the webhook's topics in the range: {r}");
    until("the replayed range", 10, || rx.bodies().len() == 7).await;
    // Bad replays.
    for bad in [serde_json::json!({}), serde_json::json!({"event": 1, "dead_letters": true}), serde_json::json!({"from": 5, "to": 1})] {
        assert_eq!(h.post_json(&format!("/v1/webhooks/{id}/replay"), bad.clone()).await.0, 400, "{bad}");
    }
    assert_eq!(h.post_json(&format!("/v1/webhooks/{id}/replay"), serde_json::json!({"event": 999_999})).await.0, 404);
    // The log shows every attempt.
    let (_, log) = h.get(&format!("/v1/webhooks/{id}/deliveries?limit=1000")).await;
    let outcomes: Vec<&str> = log.as_array().unwrap().iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "failed").count(), 6, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == "delivered").count(), 7, "{outcomes:?}");
    let ok = log.as_array().unwrap().iter().find(|l| l["outcome"] == "delivered").unwrap();
    assert_eq!((ok["status"].as_i64(), ok["answer"].as_str()), (Some(200), Some("thanks")), "{ok}");
}
both!(dead_letters_and_replays);

async fn webhook_settings_are_checked(db: Db) {
    let opts = Opts { tweak: Some(|c| c.outbound.allow_private.clear()), ..Opts::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let post = |url: &str, extra: serde_json::Value| {
        let mut b = serde_json::json!({"name": "w", "url": url, "secret": SECRET});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    for (url, why) in [
        ("http://127.0.0.1:9/hook", "outbound.allow_private"),
        ("http://localhost:9/hook", "outbound.allow_private"),
        ("http://169.254.169.254/latest/meta-data", "outbound.allow_private"),
        ("http://[::1]:9/", "outbound.allow_private"),
        ("http://10.1.2.3/", "outbound.allow_private"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("ftp://hooks.example.com/", "http or https"),
        ("not a url", "not a URL"),
    ] {
        let (s, e) = h.post_json("/v1/webhooks", post(url, serde_json::json!({}))).await;
        assert_eq!(s, 400, "{url}: {e}");
        assert!(e["error"].as_str().unwrap().contains(why), "{url}: {e}");
    }
    for (extra, why) in [
        (serde_json::json!({"secret": "short"}), "secret"),
        (serde_json::json!({"format": "xml"}), "format"),
        (serde_json::json!({"topics": ["nope"]}), "unknown topic"),
        (serde_json::json!({"name": ""}), "name"),
        (serde_json::json!({"unknown": 1}), "unknown"),
    ] {
        let (s, e) = h.post_json("/v1/webhooks", post("https://hooks.example.com/", extra.clone())).await;
        assert_eq!(s, 400, "{extra}: {e}");
        assert!(e["error"].as_str().unwrap().contains(why), "{extra}: {e}");
    }
    assert_eq!(h.count("webhooks"), 0, "nothing stored");
    assert_eq!(h.get("/v1/webhooks/nope").await.0, 404);
}
both!(webhook_settings_are_checked);

async fn feed_cursor_past_retention_is_refused(db: Db) {
    let opts = Opts { tweak: Some(|c| c.events.retention = Duration::from_secs(2)), ..Opts::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let d = h.enrolled(0).await;
    let mut first = Vec::new();
    for _ in 0..100 {
        first = feed(&h, 0, "").await;
        if !first.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!first.is_empty(), "events are numbered within a poll interval");
    let old = first[0]["id"].as_i64().unwrap();
    // Past the retention the events go (no webhook holds them).
    for _ in 0..100 {
        if h.get("/v1/events?after=0").await.0 == 410 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (s, e) = h.get(&format!("/v1/events?after={}", old - 1)).await;
    assert_eq!(s, 410, "{e}");
    assert!(e["error"].as_str().unwrap().contains("retention"), "{e}");
    // Without a cursor the feed starts from the oldest kept; a new event is there.
    assert_eq!(h.command_nopush("DeviceInformation", std::slice::from_ref(&d.udid)).await, 200);
    let mut page = serde_json::Value::Null;
    for _ in 0..100 {
        let (s, p) = h.get("/v1/events").await;
        assert_eq!(s, 200, "{p}");
        page = p;
        if page["events"].as_array().unwrap().iter().any(|e| e["topic"] == "command.queued") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the new event is in the feed: {page}");
}
both!(feed_cursor_past_retention_is_refused);

/// Events for `n` queue rows: `n` commands to one device, queued without a push.
async fn make_events(h: &Harness, d: &SimDevice, n: usize) {
    for _ in 0..n {
        assert_eq!(h.command_nopush("DeviceInformation", std::slice::from_ref(&d.udid)).await, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_deliver_each_event_once() {
    let Some(h) = Harness::start(Db::Postgres).await else { return };
    let (_base, replica) = h.replica().await;
    let mut rx = Receiver::new(free_port());
    rx.listen().await;
    add_webhook(&h, "once", &rx.url(), "native", &["command.queued"]).await;
    let d = h.enrolled(0).await;
    make_events(&h, &d, 150).await;
    until("150 events", 30, || rx.bodies().len() >= 150).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids: Vec<i64> = rx.bodies().iter().map(|b| b["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 150, "each event once");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order across replicas");
    replica.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_delivery_leaves_its_work() {
    let Some(h) = Harness::start(Db::Postgres).await else { return };
    let mut rx = Receiver::new(free_port());
    rx.delay = Duration::from_millis(20);
    rx.listen().await;
    add_webhook(&h, "takeover", &rx.url(), "native", &["command.queued"]).await;
    let d = h.enrolled(0).await;
    make_events(&h, &d, 120).await;
    // The first server is delivering (slowly); a second one starts, the first one dies.
    until("delivery under way", 30, || rx.bodies().len() >= 10).await;
    let (_base, replica) = h.replica().await;
    h.stop();
    let at_kill = rx.bodies().len();
    assert!(at_kill < 120, "killed mid-delivery ({at_kill})");
    // The survivor takes the webhook once the lease runs out and finishes.
    until("the survivor to finish", 60, || {
        let ids: std::collections::BTreeSet<i64> = rx.bodies().iter().map(|b| b["id"].as_i64().unwrap()).collect();
        ids.len() == 120
    })
    .await;
    let ids: Vec<i64> = rx.bodies().iter().map(|b| b["id"].as_i64().unwrap()).collect();
    // At least once: what the dead replica sent but had not recorded may come again, in order.
    let mut firsts = ids.clone();
    firsts.dedup();
    let mut sorted = firsts.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 120);
    assert!(ids.len() - 120 <= usize::try_from(h.cfg.events.batch).unwrap(), "only an unrecorded stretch comes twice");
    replica.abort();
}

/// Runs the sequencer until it has numbered `n` events in all (or 10 s passed); returns how many.
async fn numbered(store: &mdm::store::Store, n: usize) -> usize {
    let mut done = 0;
    for _ in 0..200 {
        done += store.events().sequence().await.unwrap();
        if done >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done
}

/// PostgreSQL commits transactions in any order: an event inserted first (lower insertion key)
/// may commit after one inserted later. The feed must never hand out an id below one it has
/// already handed out, or a consumer at that cursor would skip the late event for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_is_never_skipped() {
    use diesel::{Connection, RunQueryDsl};
    let Some(db) = crate::harness::TestDb::create(Db::Postgres) else { return };
    let store = mdm::store::Store::connect(&db.url, 4).unwrap();
    store.migrate().await.unwrap();
    let insert = |topic: &str| format!("INSERT INTO events (topic, body, created_at) VALUES ('{topic}', '{{}}', now())");
    // A: inserts first, commits last.
    let mut a = diesel::PgConnection::establish(&db.url).unwrap();
    diesel::sql_query("BEGIN").execute(&mut a).unwrap();
    diesel::sql_query(insert("admin.change")).execute(&mut a).unwrap();
    // B: inserts after A, commits at once.
    let mut b = diesel::PgConnection::establish(&db.url).unwrap();
    diesel::sql_query(insert("command.queued")).execute(&mut b).unwrap();
    // B is committed but A, older, is still running: nothing may be numbered past A's place.
    assert_eq!(store.events().sequence().await.unwrap(), 0, "B waits for the older transaction A");
    let page = |after| {
        let store = store.clone();
        async move {
            match store.events().feed(mdm::store::events::FeedQuery { after: Some(after), limit: 10, ..Default::default() }).await.unwrap() {
                mdm::store::events::Feed::Page(p) => p,
                mdm::store::events::Feed::Pruned { .. } => panic!("pruned"),
            }
        }
    };
    assert!(page(0).await.is_empty());
    diesel::sql_query("COMMIT").execute(&mut a).unwrap();
    // Transactions of other tests on this cluster hold numbering back for a moment too.
    assert_eq!(numbered(&store, 2).await, 2);
    let p = page(0).await;
    let got: Vec<(Option<i64>, &str)> = p.iter().map(|e| (e.id, e.topic.as_str())).collect();
    assert_eq!(got, vec![(Some(1), "admin.change"), (Some(2), "command.queued")], "both, in insertion order");
    // An aborted transaction leaves nothing behind and holds nothing up.
    diesel::sql_query("BEGIN").execute(&mut a).unwrap();
    diesel::sql_query(insert("admin.change")).execute(&mut a).unwrap();
    diesel::sql_query("ROLLBACK").execute(&mut a).unwrap();
    diesel::sql_query(insert("command.queued")).execute(&mut b).unwrap();
    assert_eq!(numbered(&store, 1).await, 1);
    assert_eq!(page(2).await.iter().map(|e| e.id).collect::<Vec<_>>(), vec![Some(3)]);
}
