//! Answers at the edges (finding 9): an oversized body over HTTP/2, a database outage, a
//! tampered profile-service body.

use std::time::Duration;

use crate::both;
use crate::harness::{Db, Harness, Opts, API_KEY};

/// A client that speaks only HTTP/2 to the harness.
fn h2_client(h: &Harness) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .http2_prior_knowledge()
        .add_root_certificate(reqwest::Certificate::from_pem(&h.pki.ca_pem).unwrap())
        .build()
        .unwrap()
}

/// Over HTTP/2 a body above `server.max_body_bytes` got a stream reset; now a 413 like HTTP/1.
async fn oversized_bodies_are_413_over_http2(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let d = h.enrolled(0).await;
    let h2 = h2_client(&h);
    let big = vec![b'a'; 2 * 1024 * 1024];
    for (path, auth) in [("/mdm/connect", false), (&format!("/v1/enqueue/{}", d.udid)[..], true), ("/v1/profiles", true)] {
        let mut r = h2.put(h.url(path));
        if path == "/v1/profiles" {
            r = h2.post(h.url(path));
        }
        if auth {
            r = r.bearer_auth(API_KEY);
        }
        let resp = r.body(big.clone()).send().await.unwrap_or_else(|e| panic!("{path}: no answer over HTTP/2: {e:?}"));
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.status(), 413, "{path}");
    }
    // curl, as an admin's script would send it (the finding's client).
    let file = h.pki.path("big.bin");
    std::fs::write(&file, &big).unwrap();
    for (path, method) in [("/mdm/connect".to_string(), "PUT"), (format!("/v1/enqueue/{}", d.udid), "PUT"), ("/v1/profiles".to_string(), "POST")] {
        let out = std::process::Command::new("curl")
            .args(["--http2", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "-X", method, "--cacert"])
            .arg(h.pki.path("ca.pem"))
            .args(["-H", &format!("Authorization: Bearer {API_KEY}"), "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(h.url(&path))
            .output()
            .expect("curl");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "curl {path}: {said} {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(said, "413 2", "curl {path}");
    }
    // Without a Content-Length the limit still holds.
    let chunks = futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes::Bytes::from(vec![b'b'; 64 * 1024])))));
    let resp = h2.put(h.url("/mdm/connect")).body(reqwest::Body::wrap(http_body_util::StreamBody::new(chunks))).send().await.expect("an answer");
    assert_eq!(resp.status(), 413);
}
both!(oversized_bodies_are_413_over_http2);

/// A database outage answered devices 500; it is 503 with Retry-After, never 401, and the server
/// recovers when the database is back.
async fn database_outage_is_503_with_retry_after(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::default()).await else { return };
    let mut d = h.enrolled(0).await;
    let name = h.cfg.database.url.rsplit('/').next().unwrap().to_string();
    let admin = |sql: String| {
        use diesel::{Connection, RunQueryDsl};
        let base = h.cfg.database.url.rsplit_once('/').unwrap().0.to_string();
        let mut c = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(sql).execute(&mut c).unwrap();
    };
    admin(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
    admin(format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"));
    match d.connect().await {
        Err(mdm_sim::SimError::Status { status, body }) => {
            assert_eq!(status, 503, "{body}");
            assert!(!body.contains("database") || body.contains("unavailable"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    let r = h.api.get(h.url("/v1/devices")).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    admin(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
    // The pool reconnects (with backoff): served again within a few seconds.
    let t = std::time::Instant::now();
    loop {
        match d.connect().await {
            Ok(_) => break,
            Err(mdm_sim::SimError::Status { status: 503, .. }) if t.elapsed() < Duration::from_secs(20) => tokio::time::sleep(Duration::from_millis(250)).await,
            other => panic!("not served again once the database is back: {other:?}"),
        }
    }
}

mod database_outage_is_503_with_retry_after {
    /// PostgreSQL only: an outage of SQLite (a file) is not a thing a test can make.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::database_outage_is_503_with_retry_after(crate::harness::Db::Postgres).await;
    }
}

/// A tampered phase-2 attributes body (the signature no longer verifies) answered 403; the
/// README promises 400 for unsigned, truncated or tampered bodies (403 is for untrusted signers).
async fn tampered_profile_service_body_is_400(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let dev = h.pki.device_ca.issue_device("00008110-TAMPER").unwrap();
    let attrs = mdm_profiles::profile_service::DeviceAttributes {
        udid: "00008110-TAMPER".into(),
        serial: Some("SER1".into()),
        challenge: Some("c".into()),
        ..Default::default()
    };
    let mut body = mdm::enroll::attributes::sign(&attrs, &dev.cert, &dev.key, &[]).unwrap();
    let at = body.windows(4).position(|w| w == b"SER1").unwrap();
    body[at] = b'X';
    let r = h.api.post(h.url("/enroll/device")).header("content-type", "application/pkcs7-signature").body(body).send().await.unwrap();
    assert_eq!(r.status(), 400, "{}", r.text().await.unwrap());
}
both!(tampered_profile_service_body_is_400);

/// Runs curl over HTTP/2 with a body (from a file: `-d` sends the same bytes and headers, but
/// a large body would not fit on the command line); returns (status, HTTP version,
/// body). A reset stream (curl's exit 92) fails the test with curl's message.
fn curl_h2(h: &Harness, method: &str, path: &str, key: &str, extra: &[&str], body: &str) -> (u16, String, String) {
    let file = h.pki.path(&format!("body-{}.txt", uuid::Uuid::new_v4()));
    std::fs::write(&file, body).unwrap();
    let out = std::process::Command::new("curl")
        .args(["--http2", "-sS", "-w", "\n%{http_code} %{http_version}", "-X", method, "--cacert"])
        .arg(h.pki.path("ca.pem"))
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .args(extra)
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(h.url(path))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "curl {method} {path}: no answer ({}): {text}", String::from_utf8_lossy(&out.stderr));
    let (answer, tail) = text.rsplit_once('\n').unwrap();
    let (status, version) = tail.split_once(' ').unwrap();
    (status.parse().unwrap(), version.to_string(), answer.to_string())
}

/// Finding: the README's curl lines (no Content-Type) were refused, and over HTTP/2 an early
/// answer (wrong key, bad URL) ended in "Stream error in the HTTP/2 framing layer". Every answer
/// now arrives whole over HTTP/2 with the request's body read first, and a JSON body needs no
/// Content-Type.
async fn early_answers_arrive_intact_over_http2(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let user = r#"{"username": "jane", "password": "correct horse", "email": "jane@example.org"}"#;
    // As written in the README: curl -d (form content type), and with no Content-Type at all.
    let (s, v, b) = curl_h2(&h, "POST", "/v1/users", API_KEY, &[], user);
    assert_eq!((s, v.as_str()), (201, "2"), "{b}");
    let (s, _, b) = curl_h2(&h, "POST", "/v1/enrollment-tokens", API_KEY, &["-H", "Content-Type:"], r#"{"max_uses": 20, "expires_in": "7d"}"#);
    assert_eq!(s, 201, "{b}");
    // Early answers with a body in flight.
    let (s, v, b) = curl_h2(&h, "POST", "/v1/users", "wrong-key-wrong-key", &[], user);
    assert_eq!((s, v.as_str()), (401, "2"), "{b}");
    let (s, v, b) = curl_h2(&h, "POST", "/v1/users", API_KEY, &[], "{not json");
    assert_eq!((s, v.as_str()), (400, "2"), "{b}");
    assert!(b.contains("invalid JSON body"), "{b}");
    let (s, v, b) = curl_h2(&h, "POST", "/v1/users/%00", API_KEY, &[], user);
    assert_eq!((s, v.as_str()), (400, "2"), "{b}");
    let (s, v, b) = curl_h2(&h, "PUT", "/v1/pushcert", API_KEY, &["-H", "Content-Type: application/json"], r#"{"p12": "AAAA", "password": "x"}"#);
    assert_eq!((s, v.as_str()), (400, "2"), "{b}");
    // A body of several HTTP/2 frames and windows, answered 401 before any handler.
    let big = "x".repeat(300_000);
    let (s, v, _) = curl_h2(&h, "PUT", "/v1/enqueue/x", "wrong-key-wrong-key", &[], &big);
    assert_eq!((s, v.as_str()), (401, "2"));
    // The same with a Rust HTTP/2 client.
    let h2 = h2_client(&h);
    for (path, key, want) in [("/v1/users", "wrong-key-wrong-key", 401), ("/v1/users%01", API_KEY, 400), ("/v1/users", API_KEY, 400)] {
        let r = h2.post(h.url(path)).bearer_auth(key).body(big.clone()).send().await.expect("an answer over HTTP/2");
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        assert_eq!(r.status().as_u16(), want, "{path}");
        assert!(!r.text().await.unwrap().is_empty(), "{path}: the answer's body arrives");
    }
}
both!(early_answers_arrive_intact_over_http2);
