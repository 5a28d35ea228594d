use super::*;

#[test]
fn responses_map_to_outcomes() {
    assert_eq!(PushOutcome::from_response(200, Some("A".into()), b""), PushOutcome::Sent { apns_id: "A".into() });
    assert_eq!(
        PushOutcome::from_response(410, None, br#"{"reason":"Unregistered","timestamp":1700000000000}"#),
        PushOutcome::Unregistered { timestamp: Some(1_700_000_000_000) }
    );
    assert!(PushOutcome::from_response(400, None, br#"{"reason":"BadDeviceToken"}"#).token_is_stale());
    assert!(PushOutcome::from_response(400, None, br#"{"reason":"DeviceTokenNotForTopic"}"#).token_is_stale());
    assert_eq!(PushOutcome::from_response(403, None, br#"{"reason":"BadCertificate"}"#).name(), "certificate");
    assert_eq!(PushOutcome::from_response(400, None, br#"{"reason":"TopicDisallowed"}"#).name(), "certificate");
    assert_eq!(PushOutcome::from_response(429, None, br#"{"reason":"TooManyRequests"}"#).name(), "retry");
    assert_eq!(PushOutcome::from_response(503, None, b"not json").name(), "retry");
    assert_eq!(PushOutcome::from_response(413, None, br#"{"reason":"PayloadTooLarge"}"#).name(), "rejected");
    assert!(!PushOutcome::from_response(500, None, b"").token_is_stale());
}

/// A client for the mock with its push certificate loaded.
fn client_for(mock: &mdm_sim::apns::MockApns, mpki: &mdm_sim::apns::MockPki, dir: &std::path::Path) -> ApnsClient {
    client_with(mock, mpki, dir, PushConfig::default().timeout)
}

fn client_with(mock: &mdm_sim::apns::MockApns, mpki: &mdm_sim::apns::MockPki, dir: &std::path::Path, timeout: Duration) -> ApnsClient {
    std::fs::write(dir.join("ca.pem"), &mpki.server_ca_pem).unwrap();
    let cfg = PushConfig { url: mock.url(), ca_certs: vec![dir.join("ca.pem")], system_roots: false, connections: 1, timeout, ..PushConfig::default() };
    let client = ApnsClient::new(&cfg).unwrap();
    let cert = PushCert::from_combined_pem(&mdm_sim::apns::identity_pem(&mpki.push_cert).unwrap()).unwrap();
    client.set_certs(&[cert]);
    client
}

fn target(i: u8, topic: &str) -> PushTarget {
    PushTarget { enrollment_id: i.to_string(), topic: topic.into(), token: vec![i; 32], push_magic: format!("magic-{i}") }
}

/// A slow stream (6 s) does not hold up the others on the same connection; a dropped connection
/// fails only its own pushes and the next push reconnects.
#[tokio::test]
async fn slow_and_dropped_connections_do_not_stall_others() {
    use mdm_sim::apns::{Behaviour, MockApns};
    let topic = "com.apple.mgmt.External.00000000-1111-2222-3333-444444444444";
    let (mock, mpki) = MockApns::start_with_new_pki(topic).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = Arc::new(client_for(&mock, &mpki, dir.path()));
    mock.set_for_token(&hex::encode([1u8; 32]), vec![Behaviour::Delay(Duration::from_secs(6))]);
    let slow = {
        let c = client.clone();
        let t = target(1, topic);
        tokio::spawn(async move { c.push_one(&t).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = std::time::Instant::now();
    let fast = client.push((2..12).map(|i| target(i, topic)).collect()).await;
    assert!(start.elapsed() < Duration::from_secs(4), "fast pushes waited {:?}", start.elapsed());
    assert!(fast.iter().all(|(_, o)| matches!(o, PushOutcome::Sent { .. })), "{fast:?}");
    assert!(matches!(slow.await.unwrap(), PushOutcome::Sent { .. }));

    mock.set_for_token(&hex::encode([20u8; 32]), vec![Behaviour::Drop]);
    assert_eq!(client.push_one(&target(20, topic)).await.name(), "retry");
    assert!(matches!(client.push_one(&target(21, topic)).await, PushOutcome::Sent { .. }));
    // No certificate for a topic: a certificate problem, nothing sent.
    let o = client.push_one(&target(22, "com.apple.mgmt.External.other")).await;
    assert_eq!(o.name(), "certificate");
    assert!(o.error().unwrap().contains("no push certificate for topic"));
}

/// A connection that leaves a push unanswered past the timeout is dropped: the next push
/// goes out on a new connection instead of queueing on one that may be black-holed.
#[tokio::test]
async fn unanswered_connection_is_replaced() {
    use mdm_sim::apns::{Behaviour, MockApns};
    let topic = "com.apple.mgmt.External.00000000-1111-2222-3333-444444444444";
    let (mock, mpki) = MockApns::start_with_new_pki(topic).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = client_with(&mock, &mpki, dir.path(), Duration::from_millis(500));
    assert!(matches!(client.push_one(&target(1, topic)).await, PushOutcome::Sent { .. }));
    assert_eq!(mock.count_connections(), 1);
    mock.set_for_token(&hex::encode([2u8; 32]), vec![Behaviour::Delay(Duration::from_secs(5))]);
    let o = client.push_one(&target(2, topic)).await;
    assert_eq!(o.name(), "retry");
    assert!(o.error().unwrap().contains("no answer"), "{o:?}");
    assert!(matches!(client.push_one(&target(3, topic)).await, PushOutcome::Sent { .. }));
    assert_eq!(mock.count_connections(), 2, "the unanswered connection was kept");
    // A healthy connection is kept.
    assert!(matches!(client.push_one(&target(4, topic)).await, PushOutcome::Sent { .. }));
    assert_eq!(mock.count_connections(), 2);
}

/// A stored certificate that has since expired: every push says so, and nothing is sent.
#[tokio::test]
async fn expired_stored_certificate_is_reported() {
    use mdm_sim::apns::MockApns;
    let topic = "com.apple.mgmt.External.00000000-1111-2222-3333-444444444444";
    let (mock, mpki) = MockApns::start_with_new_pki(topic).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = client_for(&mock, &mpki, dir.path());
    let old = mpki.apple_ca.issue_push_cert(topic, -1).unwrap();
    let stored = PushCert::from_stored(&String::from_utf8(old.cert.to_pem().unwrap()).unwrap(), &old.key.private_key_to_pkcs8().unwrap()).unwrap();
    client.set_certs(&[stored]);
    let o = client.push_one(&target(1, topic)).await;
    assert_eq!(o.name(), "certificate", "{o:?}");
    assert!(o.error().unwrap().contains("expired"), "{o:?}");
    assert_eq!(mock.count_received(), 0);
}

/// An APNs server whose certificate is not trusted is a configuration problem on this side,
/// said so, and not blamed on the push certificate.
#[tokio::test]
async fn untrusted_apns_server_is_not_a_push_certificate_problem() {
    use mdm_sim::apns::MockApns;
    let topic = "com.apple.mgmt.External.00000000-1111-2222-3333-444444444444";
    let (mock, mpki) = MockApns::start_with_new_pki(topic).unwrap();
    let (_, other) = MockApns::start_with_new_pki(topic).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wrong_roots = mdm_sim::apns::MockPki { server_ca_pem: other.server_ca_pem.clone(), ..mpki };
    let client = client_for(&mock, &wrong_roots, dir.path());
    let o = client.push_one(&target(1, topic)).await;
    assert_eq!(o.name(), "retry", "{o:?}");
    assert!(o.error().unwrap().contains("push.ca_certs"), "{o:?}");
}

#[test]
fn url_must_be_https_host() {
    let mut cfg = PushConfig { system_roots: true, ..PushConfig::default() };
    for bad in ["http://api.push.apple.com", "https://x/3/device", "nonsense"] {
        cfg.url = bad.into();
        assert!(matches!(ApnsClient::new(&cfg), Err(ApnsSetupError::Url(_))), "{bad}");
    }
    cfg.url = "https://127.0.0.1:2197".into();
    let c = ApnsClient::new(&cfg).unwrap();
    assert_eq!((c.host.as_str(), c.port, c.authority.as_str()), ("127.0.0.1", 2197, "127.0.0.1:2197"));
}
