//! Answers at the edges (finding 9): an oversized body over HTTP/2, a database outage, a
//! tampered profile-service body.

use std::time::Duration;

use crate::both;
use crate::harness::{Db, Harness, Opts, API_KEY};

/// Over HTTP/2 a body above `server.max_body_bytes` got a stream reset; now a 413 like HTTP/1.
async fn oversized_bodies_are_413_over_http2(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let d = h.enrolled(0).await;
    let h2 = reqwest::Client::builder()
        .use_rustls_tls()
        .http2_prior_knowledge()
        .add_root_certificate(reqwest::Certificate::from_pem(&h.pki.ca_pem).unwrap())
        .build()
        .unwrap();
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
