use super::request::is_canonical_uuid;
use super::*;

const TOPIC: &str = "com.apple.mgmt.External.0f6e2f8a-1f0b-4c1e-9a57-3c1d6c2f9b10";

fn token(n: u8) -> String {
    hex::encode([n; 32])
}

fn client_with(pki: &MockPki, identity: Option<&Issued>, http1_only: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pki.server_ca_pem).expect("root"))
        .timeout(Duration::from_secs(10));
    if let Some(id) = identity {
        b = b.identity(reqwest::Identity::from_pem(&identity_pem(id).expect("pem")).expect("identity"));
    }
    if http1_only {
        b = b.http1_only();
    }
    b.build().expect("client")
}

fn client(pki: &MockPki) -> reqwest::Client {
    client_with(pki, Some(&pki.push_cert), false)
}

fn mdm_push(c: &reqwest::Client, mock: &MockApns, token: &str, magic: &str) -> reqwest::RequestBuilder {
    c.post(format!("{}/3/device/{token}", mock.url()))
        .header("apns-topic", TOPIC)
        .header("apns-push-type", "mdm")
        .body(serde_json::json!({ "mdm": magic }).to_string())
}

async fn reason(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.expect("json body");
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_push_is_recorded_and_delivered() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let mut sub = mock.subscribe();
    let c = client(&pki);
    let id = "1D3B6F7C-94E1-4B22-9E5A-0E2B1C7A5F10";
    let resp = mdm_push(&c, &mock, &token(1), "magic-1").header("apns-priority", "10").header("apns-id", id).send().await.expect("send");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("apns-id").expect("apns-id"), id);
    assert!(resp.bytes().await.expect("body").is_empty());

    let got = tokio::time::timeout(Duration::from_secs(5), sub.recv()).await.expect("in time").expect("push");
    assert_eq!(got.token_hex, token(1));
    assert_eq!(got.topic, TOPIC);
    assert_eq!(got.push_magic.as_deref(), Some("magic-1"));
    assert_eq!(got.push_type.as_deref(), Some("mdm"));
    assert_eq!(got.priority.as_deref(), Some("10"));
    assert_eq!(got.apns_id, id);
    assert_eq!(got.status, 200);

    // Without apns-id the mock makes one up (uppercase UUID).
    let resp = mdm_push(&c, &mock, &token(2), "magic-2").send().await.expect("send");
    assert_eq!(resp.status(), 200);
    let generated = resp.headers().get("apns-id").expect("apns-id").to_str().expect("ascii").to_string();
    assert!(is_canonical_uuid(&generated));
    assert_eq!(generated, generated.to_ascii_uppercase());

    assert_eq!(mock.count_accepted(), 2);
    let rec = mock.received();
    assert_eq!(rec.len(), 2);
    assert_eq!(rec[1].apns_id, generated);
    mock.clear();
    assert!(mock.received().is_empty());
    assert_eq!(mock.count_accepted(), 0);
}

#[tokio::test]
async fn wrong_topic_is_disallowed() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let resp = client(&pki)
        .post(format!("{}/3/device/{}", mock.url(), token(1)))
        .header("apns-topic", "com.apple.mgmt.External.other")
        .header("apns-push-type", "mdm")
        .body(r#"{"mdm":"m"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "TopicDisallowed" })));
    let rec = mock.received();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].status, 400);
    assert_eq!(rec[0].reason.as_deref(), Some("TopicDisallowed"));
    assert_eq!(mock.count_accepted(), 0);
}

#[tokio::test]
async fn header_and_path_checks() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let c = client(&pki);
    let url = format!("{}/3/device/{}", mock.url(), token(1));
    let body = r#"{"mdm":"m"}"#;

    // Missing push type.
    let resp = c.post(&url).header("apns-topic", TOPIC).body(body).send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "InvalidPushType" })));
    // Missing topic.
    let resp = c.post(&url).header("apns-push-type", "mdm").body(body).send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "MissingTopic" })));
    // Bad priority / expiration / apns-id.
    let resp = mdm_push(&c, &mock, &token(1), "m").header("apns-priority", "7").send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "BadPriority" })));
    let resp = mdm_push(&c, &mock, &token(1), "m").header("apns-expiration", "soon").send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "BadExpirationDate" })));
    let resp = mdm_push(&c, &mock, &token(1), "m").header("apns-id", "nope").send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "BadMessageId" })));
    // Method and path.
    let resp = c.get(&url).header("apns-topic", TOPIC).send().await.expect("send");
    assert_eq!(reason(resp).await, (405, serde_json::json!({ "reason": "MethodNotAllowed" })));
    let resp = c.post(format!("{}/3/other/{}", mock.url(), token(1))).body(body).send().await.expect("send");
    assert_eq!(reason(resp).await, (404, serde_json::json!({ "reason": "BadPath" })));
    // Payload.
    let resp = c.post(&url).header("apns-topic", TOPIC).header("apns-push-type", "mdm").send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "PayloadEmpty" })));
    let resp = c.post(&url).header("apns-topic", TOPIC).header("apns-push-type", "mdm").body(r#"{"aps":{}}"#).send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "BadPayload" })));
    let big = serde_json::json!({ "mdm": "x".repeat(MAX_PAYLOAD_BYTES) }).to_string();
    let resp = c.post(&url).header("apns-topic", TOPIC).header("apns-push-type", "mdm").body(big).send().await.expect("send");
    assert_eq!(reason(resp).await, (413, serde_json::json!({ "reason": "PayloadTooLarge" })));
    // Apple's other documented priorities and a numeric expiration are fine.
    let resp = mdm_push(&c, &mock, &token(1), "m").header("apns-priority", "5").header("apns-expiration", "0").send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(mock.count_accepted(), 1);
    assert_eq!(mock.count_received(), 11);
}

#[tokio::test]
async fn bad_device_tokens() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let c = client(&pki);
    for bad in ["zz".repeat(32), "ab".repeat(31), "ab".repeat(33)] {
        let resp = mdm_push(&c, &mock, &bad, "m").send().await.expect("send");
        assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "BadDeviceToken" })), "{bad}");
    }
    let resp = mdm_push(&c, &mock, "", "m").send().await.expect("send");
    assert_eq!(reason(resp).await, (400, serde_json::json!({ "reason": "MissingDeviceToken" })));
    // Uppercase hex is a valid token, recorded lowercase.
    let resp = mdm_push(&c, &mock, &token(0xab).to_ascii_uppercase(), "m").send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(mock.received().last().expect("recorded").token_hex, token(0xab));
}

#[tokio::test]
async fn per_token_queue_then_default() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let c = client(&pki);
    mock.set_for_token(&token(1).to_ascii_uppercase(), vec![Behaviour::Unregistered, Behaviour::TooManyRequests]);

    let resp = mdm_push(&c, &mock, &token(1), "m").send().await.expect("send");
    assert!(resp.headers().get("apns-id").is_some());
    let (status, body) = reason(resp).await;
    assert_eq!(status, 410);
    assert_eq!(body["reason"], "Unregistered");
    let ts = body["timestamp"].as_i64().expect("numeric timestamp");
    assert!((ts - chrono::Utc::now().timestamp_millis()).abs() < 60_000);

    // Other tokens are unaffected.
    assert_eq!(mdm_push(&c, &mock, &token(2), "m").send().await.expect("send").status(), 200);

    let resp = mdm_push(&c, &mock, &token(1), "m").send().await.expect("send");
    assert_eq!(reason(resp).await, (429, serde_json::json!({ "reason": "TooManyRequests" })));
    assert_eq!(mdm_push(&c, &mock, &token(1), "m").send().await.expect("send").status(), 200);

    mock.set_default(Behaviour::ServiceUnavailable);
    let resp = mdm_push(&c, &mock, &token(1), "m").send().await.expect("send");
    assert_eq!(reason(resp).await, (503, serde_json::json!({ "reason": "ServiceUnavailable" })));

    let statuses: Vec<u16> = mock.received().iter().map(|p| p.status).collect();
    assert_eq!(statuses, vec![410, 200, 429, 200, 503]);
    assert!(mock.received().iter().all(|p| p.push_magic.as_deref() == Some("m")));
}

#[tokio::test]
async fn delay_then_accept() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    mock.set_default(Behaviour::Delay(Duration::from_millis(200)));
    let started = Instant::now();
    let resp = mdm_push(&client(&pki), &mock, &token(1), "m").send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn drop_closes_connection_then_new_connection_works() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    mock.set_for_token(&token(1), vec![Behaviour::Drop]);
    let err = mdm_push(&client(&pki), &mock, &token(1), "m").send().await;
    assert!(err.is_err(), "dropped push must fail: {err:?}");
    let rec = mock.received();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].status, 0);
    assert_eq!(rec[0].push_magic.as_deref(), Some("m"));

    let resp = mdm_push(&client(&pki), &mock, &token(1), "m").send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(mock.count_accepted(), 1);
}

#[tokio::test]
async fn expired_push_cert_is_bad_certificate() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let expired = pki.apple_ca.issue_push_cert(TOPIC, -1).expect("cert");
    let resp = mdm_push(&client_with(&pki, Some(&expired), false), &mock, &token(1), "m").send().await.expect("send");
    assert_eq!(reason(resp).await, (403, serde_json::json!({ "reason": "BadCertificate" })));
    assert_eq!(mock.received()[0].status, 403);
}

#[tokio::test]
async fn cert_from_other_ca_is_bad_certificate() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let other = Ca::generate("Not Apple").expect("ca").issue_push_cert(TOPIC, 365).expect("cert");
    let resp = mdm_push(&client_with(&pki, Some(&other), false), &mock, &token(1), "m").send().await.expect("send");
    assert_eq!(reason(resp).await, (403, serde_json::json!({ "reason": "BadCertificate" })));
    assert_eq!(mock.count_accepted(), 0);
}

#[tokio::test]
async fn no_client_cert_fails_the_connection() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let r = mdm_push(&client_with(&pki, None, false), &mock, &token(1), "m").send().await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(mock.count_received(), 0);
}

#[tokio::test]
async fn http1_only_client_cannot_connect() {
    let (mock, pki) = MockApns::start_with_new_pki(TOPIC).expect("start");
    let r = mdm_push(&client_with(&pki, Some(&pki.push_cert), true), &mock, &token(1), "m").send().await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(mock.count_received(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_pushes_without_recording() {
    let server_ca = Ca::generate("srv").expect("ca");
    let server = server_ca.issue_server(&["127.0.0.1".to_string()]).expect("server");
    let apple = Ca::generate("apple").expect("ca");
    let mut cfg =
        MockApnsConfig::new(server.cert.to_pem().expect("pem"), server.key.private_key_to_pem_pkcs8().expect("pem"), apple.cert.to_pem().expect("pem"));
    cfg.record = false;
    let mock = MockApns::start(cfg).expect("start");
    let pki = MockPki { server_ca_pem: server_ca.cert.to_pem().expect("pem"), push_cert: apple.issue_push_cert(TOPIC, 30).expect("cert"), apple_ca: apple };
    let mut sub = mock.subscribe();
    let c = client(&pki);
    let sends = (0..500u32).map(|i| {
        let req = mdm_push(&c, &mock, &token((i % 200) as u8), &format!("m{i}"));
        async move { req.send().await.expect("send").status().as_u16() }
    });
    let statuses = futures::future::join_all(sends).await;
    assert!(statuses.iter().all(|s| *s == 200));
    assert_eq!(mock.count_accepted(), 500);
    assert!(mock.received().is_empty());
    let mut delivered = 0;
    while sub.try_recv().is_ok() {
        delivered += 1;
    }
    assert_eq!(delivered, 500);
    // Stopping closes the listener.
    mock.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(mdm_push(&client(&pki), &mock, &token(1), "m").send().await.is_err());
}
