//! Graceful shutdown (finding 7): `mdm serve` as a process, stopped with SIGTERM while a request
//! is in flight and a push batch is out. Before, SIGTERM killed it outright and the claimed
//! pushes stayed leased (about 40 s) so a restarted server delayed the wake-ups.

use std::time::{Duration, Instant};

use crate::both;
use crate::harness::{Db, Harness, Opts, API_KEY};

fn timestamp_in(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).naive_utc().format("%Y-%m-%d %H:%M:%S").to_string()
}

async fn sigterm_drains_and_releases_push_leases(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let d = h.enrolled(0).await;
    // The in-process server steps aside; the real binary takes its address and database.
    h.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut cfg = h.cfg.clone();
    cfg.push.timeout = Duration::from_secs(30);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mdm.toml");
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    let log = dir.path().join("serve.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mdm"))
        .arg("--config")
        .arg(&path)
        .arg("serve")
        .stdout(std::fs::File::create(dir.path().join("serve.out")).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while h.api.get(h.url("/healthz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "mdm serve did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A push batch goes out and hangs at APNs: its enrollment is leased.
    h.mock().set_default(mdm_sim::apns::Behaviour::Delay(Duration::from_secs(60)));
    let (s, _) = h.command("DeviceInformation", std::slice::from_ref(&d.udid), serde_json::json!({"Queries": ["UDID"]})).await;
    assert_eq!(s, 200);
    let leased = format!("push_state WHERE enrollment_id = '{}' AND next_push_at > '{}'", d.udid, timestamp_in(30));
    let t = Instant::now();
    while h.count(&leased) == 0 {
        assert!(t.elapsed() < Duration::from_secs(10), "the push was never claimed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A request in flight: its body arrives in two halves, SIGTERM in between.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let body = reqwest::Body::wrap(http_body_util::StreamBody::new(frames(rx)));
    let plist =
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>Command</key><dict><key>RequestType</key><string>ProfileList</string></dict></dict></plist>";
    let (first, second) = plist.as_bytes().split_at(plist.len() / 2);
    let url = h.url(&format!("/v1/enqueue/{}?nopush=1", d.udid));
    let in_flight = tokio::spawn(h.api.put(url).bearer_auth(API_KEY).header("content-length", plist.len()).body(body).send());
    tx.send(Ok(first.to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // No new connections...
    let fresh = reqwest::Client::builder().use_rustls_tls().add_root_certificate(reqwest::Certificate::from_pem(&h.pki.ca_pem).unwrap()).build().unwrap();
    assert!(fresh.get(h.url("/healthz")).send().await.is_err(), "still accepting after SIGTERM");
    // ... but the request in flight is finished.
    tx.send(Ok(second.to_vec())).await.unwrap();
    drop(tx);
    let r = in_flight.await.unwrap().expect("the request in flight is answered");
    assert_eq!(r.status(), 200);

    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "mdm serve did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "exit {status:?}: {text}");
    assert!(text.contains("SIGTERM") && text.contains("push lease released") && text.contains("server stopped"), "{text}");
    // The lease was given back: due now, not in half a minute.
    assert_eq!(h.count(&leased), 0);
    assert_eq!(h.count(&format!("push_state WHERE enrollment_id = '{}' AND next_push_at <= '{}'", d.udid, timestamp_in(1))), 1);
    assert_eq!(h.count(&format!("enrollment_queue WHERE enrollment_id = '{}' AND status = 'queued'", d.udid)), 2, "both commands kept");
}
both!(sigterm_drains_and_releases_push_leases);

/// Body frames from an mpsc receiver: a request body sent piece by piece.
fn frames(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(|r| r.map(|v| hyper::body::Frame::data(bytes::Bytes::from(v))))))
}
