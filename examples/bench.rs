//! `make bench`: enrollment rate, command round trips/s (Idle → command → Acknowledged → empty)
//! with 10,000 simulated devices, p50/p99 latency of the command endpoint, server RSS, and the
//! time of a pushed fan-out (enqueue → APNs push → device fetch → ack of the last device), on
//! SQLite and on PostgreSQL; and pushes/s of the APNs client to the mock APNs over loopback.
//! And per-device profile rendering (variables, encryption to the device, CMS signature) per
//! second beside raw RSA-2048 sign/s; and complete over-the-air enrollments per
//! second. Prints figures; asserts nothing.
//!
//! The server runs as a separate `mdm serve` process (so its RSS is its own) in the
//! load-balancer deployment mode: plain HTTP with the device certificate in a proxy header.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "bench/compliance.rs"]
mod compliance;
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use mdm::config::{PushConfig, ServerConfig};
use mdm::pki::Ca;
use mdm::push::apns::ApnsClient;
use mdm::push::cert::PushCert;
use mdm::push::{PushOutcome, PushTarget, Pusher};
use mdm_sim::apns::{MockApns, MockApnsConfig, MockPki};
use mdm_sim::fleet::percentile;
use mdm_sim::wake::{by_token, wake_on_push};
use mdm_sim::{Endpoint, Fleet, Transport};

/// The load generator shares the machine's cores with the server; mimalloc keeps its own
/// allocation cost down, as it does for the server binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kit::{API_KEY as KEY, SCEP_CHALLENGE};
const TOPIC: &str = "com.apple.mgmt.External.2f4d6b8a-1c3e-4a5b-9d7f-0e1a2b3c4d5e";

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Marks the start of a phase on stderr with the wall-clock time and the server's pid, so a
/// profiler (`perf record -p PID`) can be aimed at one phase.
fn phase(label: &str, pid: u32, name: &str) {
    eprintln!("[{label}] {} phase: {name} (server pid {pid})", chrono::Local::now().format("%H:%M:%S%.3f"));
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// The APNs client alone against the mock over loopback (both in this process, on the same two
/// cores): pushes/s for `n` pushes.
async fn push_throughput(n: usize) {
    let (mock, mpki) = start_mock(false);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("apns-ca.pem"), &mpki.server_ca_pem).unwrap();
    let cfg = PushConfig { url: mock.url(), ca_certs: vec![dir.path().join("apns-ca.pem")], system_roots: false, ..PushConfig::default() };
    let client = ApnsClient::new(&cfg).unwrap();
    let cert = PushCert::from_combined_pem(&mdm_sim::apns::identity_pem(&mpki.push_cert).unwrap()).unwrap();
    client.set_certs(&[cert]);
    let target = |i: usize| PushTarget {
        enrollment_id: i.to_string(),
        topic: TOPIC.into(),
        token: {
            let mut t = [0u8; 32];
            t[..8].copy_from_slice(&(i as u64).to_be_bytes());
            t.to_vec()
        },
        push_magic: uuid::Uuid::new_v4().to_string(),
    };
    // Warm up: connections and TLS handshakes.
    client.push((0..1000).map(target).collect()).await;
    let targets: Vec<PushTarget> = (0..n).map(target).collect();
    let t = Instant::now();
    let results = client.push(targets).await;
    let elapsed = t.elapsed();
    let sent = results.iter().filter(|(_, o)| matches!(o, PushOutcome::Sent { .. })).count();
    println!(
        "[apns] {n} pushes to the mock APNs over loopback, {} connections, {} in flight: {:.0} pushes/s ({sent} accepted, {} failed)",
        cfg.connections,
        cfg.max_in_flight,
        n as f64 / elapsed.as_secs_f64(),
        n - sent
    );
}

/// CPU time `pid` has used so far, user + system, in seconds (`/proc` counts in USER_HZ
/// ticks, 100 a second on Linux).
fn cpu_secs(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some((rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?) as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// One SCEP load run against one server.
struct ScepRun {
    /// Certificates issued per second.
    issued: f64,
    /// Requests answered with a failure CertRep (or an HTTP error).
    failed: usize,
    /// The first failure, for the log.
    first_error: Option<String>,
    /// Server CPU per issued certificate, milliseconds.
    cpu_ms: f64,
}

/// Issues `n` certificates over SCEP against `url` (served by process `pid`), `concurrency`
/// at a time, with our client (static challenge). The requests are built and signed before the
/// clock starts and the answers checked after it stops, so the figure is the server's (plus
/// HTTP), not the client's.
async fn scep_load(url: &str, pid: u32, challenge: &str, n: usize, concurrency: usize) -> ScepRun {
    use futures::StreamExt;
    let enroller = mdm_sim::scep::ScepEnroller::new(url, reqwest::Client::new()).await.unwrap();
    enroller.identity("warm-up", challenge).await.unwrap();
    let prepared: Vec<_> = (0..n).map(|i| enroller.prepare(&format!("bench-{i}"), challenge).unwrap()).collect();
    phase("scep", pid, &format!("{concurrency} at a time to {url}"));
    let cpu = cpu_secs(pid);
    let t = Instant::now();
    let answers: Vec<_> = futures::stream::iter(prepared.into_iter().map(|p| {
        let e = &enroller;
        async move {
            let a = e.send(&p).await;
            (p, a)
        }
    }))
    .buffer_unordered(concurrency)
    .collect()
    .await;
    let elapsed = t.elapsed().as_secs_f64();
    let cpu = cpu_secs(pid) - cpu;
    let results: Vec<_> = answers.into_iter().map(|(p, a)| a.and_then(|a| enroller.finish(p, &a))).collect();
    let failed = results.iter().filter(|r| r.is_err()).count();
    let issued = n - failed;
    ScepRun {
        issued: issued as f64 / elapsed,
        failed,
        first_error: results.into_iter().find_map(Result::err).map(|e| e.to_string()),
        cpu_ms: cpu * 1000.0 / issued.max(1) as f64,
    }
}

/// Complete over-the-air enrollments against the running server: enrollment page and
/// profile-service profile, phase 2 (signed attributes → SCEP profile), SCEP, phase 3 (→
/// encrypted enrollment profile), SCEP for the MDM identity, Authenticate and TokenUpdate (which
/// runs the default blueprint); `concurrency` devices at a time.
async fn ota_enrollments(base: &str, device_ca: &Ca, n: usize, concurrency: usize) {
    let http = reqwest::Client::new();
    let r =
        http.post(format!("{base}/v1/enrollment-tokens")).bearer_auth(KEY).json(&serde_json::json!({"unlimited": true, "note": "bench"})).send().await.unwrap();
    assert!(r.status().is_success());
    let token = r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let enroller = mdm_sim::ota::OtaEnroller::new(base, None, device_ca.clone()).unwrap();
    let login = mdm_sim::ota::Login::Token(token);
    // Warm-up: the simulator's SCEP key pool and connections.
    let _ = enroller.enroll_fleet(concurrency.min(n), concurrency, &login).await;
    let (_, s) = enroller.enroll_fleet(n, concurrency, &login).await;
    println!(
        "  complete OTA enrollments (page → phases 1-3 → 2 SCEP identities → Authenticate/TokenUpdate + blueprint): {:.1}/s   ({} ok, {} errors, {concurrency} at a time{})",
        s.rate(),
        s.ok,
        s.errors,
        s.first_error.map(|e| format!(", first: {e}")).unwrap_or_default()
    );
}

/// Our SCEP server (the running `mdm serve`, process `our_pid`) against micromdm's
/// `scepserver` with an RSA CA of the same size, under the same load at each concurrency in
/// `levels`; plus RSA signs/s on one core for the limit. Each level runs `rounds` times,
/// ours and theirs taking turns, and prints the medians: on a shared machine a single run of
/// either server can be off by a third.
async fn scep_compare(our_url: &str, our_pid: u32, n: usize, levels: &[usize], rounds: usize) {
    println!("  RSA-2048 signatures: {:.0}/s on one core (each certificate costs a server 3 RSA private-key operations)", rsa_sign_per_sec(1));
    let theirs = std::path::Path::new("/usr/bin/scepserver").exists();
    if !theirs {
        println!("  scepserver not installed (apt-get install scep): no comparison");
    }
    println!("  SCEP certificates issued/s ({n} requests per run, RSA-2048 CAs, the same client; median of {rounds} runs each, taking turns; server CPU per certificate in brackets):");
    for &conc in levels {
        let (mut ours, mut them) = (Vec::new(), Vec::new());
        let (mut notes, mut their_error) = (Vec::new(), None);
        for _ in 0..rounds {
            let run = scep_load(our_url, our_pid, SCEP_CHALLENGE, n, conc).await;
            if run.failed > 0 {
                notes.push(format!("ours: {} FAILED, first: {}", run.failed, run.first_error.clone().unwrap_or_default()));
            }
            ours.push(run);
            if theirs {
                // A fresh scepserver and depot for every run: its file depot slows as it fills.
                let (pid, url, depot, _proc) = start_scepserver().await;
                let run = scep_load(&url, pid, "theirs", n, conc).await;
                if their_error.is_none() {
                    let log = std::fs::read_to_string(depot.path().join("scepserver.log")).unwrap_or_default();
                    their_error = log.lines().find(|l| l.contains("err=") && !l.contains("err=null")).map(|l| format!("scepserver's first logged error: {l}"));
                }
                them.push(run);
            }
        }
        let (o, o_cpu) = (median(ours.iter().map(|r| r.issued)), median(ours.iter().map(|r| r.cpu_ms)));
        let mut line = format!("    {conc:>3} at a time: ours {o:.0}/s ({o_cpu:.1} ms CPU; runs {})", runs(&ours));
        if theirs {
            let (t, t_cpu) = (median(them.iter().map(|r| r.issued)), median(them.iter().map(|r| r.cpu_ms)));
            let refused: usize = them.iter().map(|r| r.failed).sum();
            line.push_str(&format!(
                ", scepserver {t:.0}/s ({t_cpu:.1} ms CPU; runs {}; {refused} of {} refused by its own errors)  → ratio {:.2}×",
                runs(&them),
                n * rounds,
                o / t
            ));
        }
        for note in notes.into_iter().chain(their_error) {
            line.push_str(&format!("\n        {note}"));
        }
        println!("{line}");
    }
}

/// The median of some figures (0 for none).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Every run's rate, for the log: `412/520/557`.
fn runs(runs: &[ScepRun]) -> String {
    runs.iter().map(|r| format!("{:.0}", r.issued)).collect::<Vec<_>>().join("/")
}

/// Starts micromdm's `scepserver` on a new RSA-2048 CA and depot; returns its pid, URL, depot
/// directory and process guard.
async fn start_scepserver() -> (u32, String, tempfile::TempDir, Proc) {
    let depot = tempfile::tempdir().unwrap();
    let depot_path = depot.path().join("depot");
    let ok = Command::new("scepserver")
        .args(["ca", "-init", "-keySize", "2048", "-depot"])
        .arg(&depot_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "scepserver ca -init failed");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("scepserver")
        .args(["-depot"])
        .arg(&depot_path)
        .args(["-port", &port.to_string(), "-challenge", "theirs", "-allowrenew", "0", "-debug"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(depot.path().join("scepserver.log")).unwrap())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (child.id(), format!("http://127.0.0.1:{port}/scep"), depot, Proc(child))
}

fn start_mock(record: bool) -> (MockApns, MockPki) {
    let (mock, mpki) = MockApns::start_with_new_pki(TOPIC).unwrap();
    if record {
        return (mock, mpki);
    }
    // Restart without keeping every push in memory (counters and subscribers still work).
    mock.stop();
    let server_ca = Ca::generate("Bench APNs server CA").unwrap();
    let tls = server_ca.issue_server(&["127.0.0.1".into(), "localhost".into()]).unwrap();
    let mut cfg = MockApnsConfig::new(tls.cert.to_pem().unwrap(), tls.key.private_key_to_pem_pkcs8().unwrap(), mpki.apple_ca.cert.to_pem().unwrap());
    cfg.record = false;
    let mock = MockApns::start(cfg).unwrap();
    (mock, MockPki { server_ca_pem: server_ca.cert.to_pem().unwrap(), ..mpki })
}

async fn run(label: &str, db_url: &str, devices: usize, concurrency: usize) {
    let port = kit::free_port();
    let pki = kit::Pki::new();
    let dir = pki.dir.path();
    let device_ca = pki.device_ca.clone();
    let (mock, mpki) = start_mock(false);
    std::fs::write(dir.join("apns-ca.pem"), &mpki.server_ca_pem).unwrap();
    // The load-balancer deployment: plain HTTP, the device certificate in a proxy header.
    let mut cfg = kit::config(db_url, &pki);
    cfg.server = ServerConfig {
        listen: format!("127.0.0.1:{port}"),
        public_url: format!("http://127.0.0.1:{port}"),
        tls_cert: None,
        tls_key: None,
        plain_http: true,
        max_body_bytes: 8 << 20,
        drain_timeout: std::time::Duration::from_secs(20),
    };
    cfg.database.pool_size = std::env::var("BENCH_POOL").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    cfg.identity.client_cert_header = "X-Client-Cert".into();
    cfg.identity.mtls = false;
    cfg.push = PushConfig {
        url: mock.url(),
        ca_certs: vec![dir.join("apns-ca.pem")],
        system_roots: false,
        poll_interval: std::time::Duration::from_secs(1),
        ..PushConfig::default()
    };
    let cfg_path = dir.join(format!("{label}.toml"));
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    let exe = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("mdm");
    let child = Command::new(&exe)
        .args(["--config", cfg_path.to_str().unwrap(), "serve"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e} (run `make bench`, which builds it)", exe.display()));
    let pid = child.id();
    let _proc = Proc(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let cert = mdm_sim::apns::identity_pem(&mpki.push_cert).unwrap();
    let r = http.put(format!("{base}/v1/pushcert")).bearer_auth(KEY).body(cert).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    phase(label, pid, "identities over SCEP");
    let t = Instant::now();
    let endpoint = Endpoint::new(base.clone(), Transport::Header("X-Client-Cert".into()), None, TOPIC);
    let mut fleet = Fleet::build_scep(devices, &format!("{base}/scep"), &[SCEP_CHALLENGE.to_string()], endpoint, concurrency).await.unwrap();
    let build = t.elapsed();
    phase(label, pid, "enroll");
    let e = fleet.enroll(concurrency).await;
    let body = serde_json::json!({"request_type": "ProfileList", "targets": fleet.ids(), "nopush": true});
    let t = Instant::now();
    let r = http.post(format!("{base}/v1/commands")).bearer_auth(KEY).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let enqueue = t.elapsed();
    phase(label, pid, "round trips");
    let c = fleet.connect(concurrency).await;
    let lat = fleet.latencies_us();
    println!("[{label}] {devices} devices, concurrency {concurrency}, server pool {}", cfg.database.pool_size);
    println!("  identities over SCEP (PKCSReq → CertRep):  {:>5.0} certificates/s ({devices} in {build:.1?})", devices as f64 / build.as_secs_f64());
    println!("  enroll (Authenticate+TokenUpdate): {:>8.0} devices/s   ({} ok, {} errors)", e.rate(), e.ok, e.errors);
    println!("  enqueue to {devices} targets (one API call): {enqueue:.1?}");
    println!(
        "  command round trips (fetch + ack):  {:>8.0} /s         ({} commands, {} errors{})",
        c.commands as f64 / c.elapsed.as_secs_f64(),
        c.commands,
        c.errors,
        c.first_error.map(|e| format!(", first: {e}")).unwrap_or_default()
    );
    println!("  command endpoint latency: p50 {:.2} ms, p99 {:.2} ms", percentile(&lat, 50.0) as f64 / 1000.0, percentile(&lat, 99.0) as f64 / 1000.0);
    let rss = rss_kib(pid);
    if std::env::var("BENCH_WEBHOOK").map_or(true, |v| v != "0") {
        webhook_cost(label, &http, &base, &mut fleet, concurrency, c.commands as f64 / c.elapsed.as_secs_f64()).await;
    }

    let cycles: usize = std::env::var("BENCH_SHARED").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    if cycles > 0 {
        shared_cycles(label, &http, &base, &fleet.ids(), &pki, cycles, concurrency.min(16)).await;
    }

    // Fan-out: one command to every device with a push; devices connect when pushed.
    let ids = fleet.ids();
    let serials: Vec<String> = fleet.devices.iter().map(|d| d.serial.clone()).collect();
    let map = by_token(std::mem::take(&mut fleet.devices));
    let (_dispatch, mut woken) = wake_on_push(mock.subscribe(), map, concurrency);
    let body = serde_json::json!({"request_type": "DeviceInformation", "targets": ids, "payload": {"Queries": ["UDID"]}});
    phase(label, pid, "fan-out");
    let t = Instant::now();
    let r = http.post(format!("{base}/v1/commands")).bearer_auth(KEY).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let (mut acked, mut errors) = (0, 0);
    while acked < devices {
        match tokio::time::timeout(std::time::Duration::from_secs(120), woken.recv()).await {
            Ok(Some(w)) if w.error.is_none() => acked += w.handled.min(1),
            Ok(Some(_)) => errors += 1,
            _ => break,
        }
    }
    let fanout = t.elapsed();
    println!(
        "  pushed fan-out to {devices} devices (enqueue → push → fetch → ack of the last): {fanout:.2?}   ({acked} acked, {} pushes accepted, {errors} errors)",
        mock.count_accepted()
    );
    println!("  server RSS: {:.1} MiB (after round trips), {:.1} MiB (after fan-out)", rss as f64 / 1024.0, rss_kib(pid) as f64 / 1024.0);
    if std::env::var("BENCH_COMPLIANCE").map_or(true, |v| v != "0") {
        phase(label, pid, "compliance");
        compliance::run(label, &http, &base, KEY, &ids, &serials, concurrency).await;
    }
    let n: usize = std::env::var("BENCH_OTA").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    if n > 0 {
        ota_enrollments(&base, &device_ca, n, concurrency).await;
    }
    let n: usize = std::env::var("BENCH_SCEP").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    if label == "sqlite" && n > 0 {
        // BENCH_SCEP_CONCURRENCY: a comma-separated list of levels.
        let levels: Vec<usize> = std::env::var("BENCH_SCEP_CONCURRENCY")
            .ok()
            .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).filter(|&c| c > 0).collect())
            .filter(|l: &Vec<usize>| !l.is_empty())
            .unwrap_or_else(|| vec![2, 8, concurrency]);
        let rounds = std::env::var("BENCH_SCEP_ROUNDS").ok().and_then(|v| v.parse().ok()).filter(|&r: &usize| r > 0).unwrap_or(5);
        scep_compare(&format!("{base}/scep"), pid, n, &levels, rounds).await;
    }
}

/// Check-out + check-in cycles through the shared-device API with two logout connectors (a
/// mock Vocera and a mock Epic over TLS), and the check-in answer's latency without connectors,
/// with them answering, and with Epic hanging: the queue keeps them out of the answer.
async fn shared_cycles(label: &str, http: &reqwest::Client, base: &str, ids: &[String], pki: &kit::Pki, cycles: usize, concurrency: usize) {
    use mdm_sim::vendors::{EpicRegistration, MockVendor, Mode};
    let server = pki.ca.issue_server(&["127.0.0.1".into()]).unwrap();
    let (cert, key) = (server.cert.to_pem().unwrap(), server.key.private_key_to_pem_pkcs8().unwrap());
    let vocera = MockVendor::vocera(&cert, &key).await.unwrap();
    let reg = EpicRegistration { client_id: "bench".into(), jwks_url: format!("{base}/connectors/jwks.json"), ca_pem: pki.ca_pem.clone() };
    let epic = MockVendor::epic(&cert, &key, reg).await.unwrap();
    let post = |path: &str, body: serde_json::Value| {
        let r = http.post(format!("{base}{path}")).bearer_auth(KEY).json(&body).send();
        async move {
            let r = r.await.unwrap();
            let ok = r.status().is_success();
            let text = r.text().await.unwrap_or_default();
            assert!(ok, "{text}");
        }
    };
    post("/v1/connectors", serde_json::json!({"name": "bench-vocera", "preset": {"name": "vocera", "host": vocera.host()}})).await;
    post(
        "/v1/connectors",
        serde_json::json!({"name": "bench-epic", "settings": {"kind": "epic", "display_name": "Rover", "environment": "non-production",
        "app_name": "Rover", "interconnect_url": epic.url(), "instance": "APIProxyTST", "client_id": "bench", "timeout_secs": 5}}),
    )
    .await;
    // Far more devices than requests at once: one device is never in two cycles at a time.
    let devices: Vec<String> = ids.iter().take(cycles.clamp(concurrency * 4, 200)).cloned().collect();
    let pool = |connectors: serde_json::Value| serde_json::json!({"name": "bench-pool", "staging_user": "staging", "devices": devices, "logout_connectors": connectors});
    post("/v1/shared/pools", pool(serde_json::json!([]))).await;
    let put = |body: serde_json::Value| {
        let r = http.put(format!("{base}/v1/shared/pools/bench-pool")).bearer_auth(KEY).json(&body).send();
        async move { assert!(r.await.unwrap().status().is_success()) }
    };
    // One round: every device checked out and in `per_device` times, `concurrency` at once.
    let round = |per_device: usize| {
        let devices = devices.clone();
        async move {
            let started = Instant::now();
            let lat: Arc<std::sync::Mutex<Vec<u32>>> = Default::default();
            let work = futures::stream::iter((0..per_device).flat_map(|_| devices.iter().cloned()).enumerate().map(|(i, d)| {
                let lat = lat.clone();
                async move {
                    let r = http
                        .post(format!("{base}/v1/shared/checkout"))
                        .bearer_auth(KEY)
                        .json(&serde_json::json!({"device": d, "user": format!("nurse.{i}")}))
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
                    let t = Instant::now();
                    let r = http.post(format!("{base}/v1/shared/checkin")).bearer_auth(KEY).json(&serde_json::json!({"device": d})).send().await.unwrap();
                    assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
                    lat.lock().unwrap().push(t.elapsed().as_micros() as u32);
                }
            }));
            use futures::StreamExt;
            work.buffer_unordered(concurrency).collect::<Vec<()>>().await;
            let mut v = lat.lock().unwrap().clone();
            v.sort_unstable();
            (v.len() as f64 / started.elapsed().as_secs_f64(), v)
        }
    };
    let per_device = cycles.div_ceil(devices.len()).max(1);
    let (_, none) = round(per_device).await;
    put(pool(serde_json::json!(["bench-vocera", "bench-epic"]))).await;
    let (rate, with) = round(per_device).await;
    epic.set_mode(Mode::Hang);
    let (_, hanging) = round(per_device).await;
    epic.set_mode(Mode::Ok);
    let ms = |v: &[u32], p: f64| percentile(v, p) as f64 / 1000.0;
    println!("  shared devices: {rate:>6.0} check-out + check-in cycles/s with 2 logout connectors ({} cycles, {concurrency} at once)", with.len());
    for (what, v) in [("no connectors", &none), ("2 connectors answering", &with), ("Epic hanging", &hanging)] {
        println!("    check-in answer latency, {what:<24} p50 {:.2} ms, p99 {:.2} ms", ms(v, 50.0), ms(v, 99.0));
    }
    println!("    ratio p50 hanging / none: {:.2}", ms(&hanging, 50.0) / ms(&none, 50.0).max(0.001));
    let _ = label;
}

/// A webhook receiver on 127.0.0.1 that answers 200 and counts what it got (the highest event
/// id seen, how many requests).
async fn start_receiver() -> (String, Arc<(AtomicUsize, AtomicI64)>) {
    let got: Arc<(AtomicUsize, AtomicI64)> = Default::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let g = g.clone();
            async move {
                let id = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["id"].as_i64()).unwrap_or(0);
                g.0.fetch_add(1, Ordering::Relaxed);
                g.1.fetch_max(id, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got)
}

/// The newest event id.
async fn newest_event(http: &reqwest::Client, base: &str) -> i64 {
    let mut after = 0;
    loop {
        let page: serde_json::Value =
            http.get(format!("{base}/v1/events?after={after}&limit=1000")).bearer_auth(KEY).send().await.unwrap().json().await.unwrap();
        let next = page["next"].as_i64().unwrap_or(after);
        if next == after {
            return after;
        }
        after = next;
    }
}

/// Waits until `got` has seen event `last` (or a minute passed); returns the time it took.
async fn until_delivered(got: &(AtomicUsize, AtomicI64), last: i64) -> std::time::Duration {
    let t = Instant::now();
    while got.1.load(Ordering::Relaxed) < last && t.elapsed() < std::time::Duration::from_secs(120) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    t.elapsed()
}

/// What a webhook costs the command path, and how fast events are delivered: the round trips
/// again with a webhook taking every event (delivered while the devices work), then a replay
/// of every event to a second webhook, timed to the last one received.
async fn webhook_cost(label: &str, http: &reqwest::Client, base: &str, fleet: &mut Fleet, concurrency: usize, without: f64) {
    let (url, live) = start_receiver().await;
    let add = |name: &str| serde_json::json!({"name": name, "url": url, "secret": "bench-webhook-secret-0123456789"});
    let r = http.post(format!("{base}/v1/webhooks")).bearer_auth(KEY).json(&add("bench-live")).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let body = serde_json::json!({"request_type": "ProfileList", "targets": fleet.ids(), "nopush": true});
    let r = http.post(format!("{base}/v1/commands")).bearer_auth(KEY).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let c = fleet.connect(concurrency).await;
    let with = c.commands as f64 / c.elapsed.as_secs_f64();
    let last = newest_event(http, base).await;
    let lag = until_delivered(&live, last).await;
    println!(
        "  command round trips with a webhook taking every event: {with:>6.0} /s ({:+.1} % against {without:.0} /s without; {} errors); the last event delivered {lag:.2?} after the last ack",
        (with / without - 1.0) * 100.0,
        c.errors
    );
    // Delivery rate: every event so far replayed to a second webhook.
    let (url2, drain) = start_receiver().await;
    let mut b = add("bench-replay");
    b["url"] = url2.into();
    let w: serde_json::Value = http.post(format!("{base}/v1/webhooks")).bearer_auth(KEY).json(&b).send().await.unwrap().json().await.unwrap();
    let first = last.saturating_sub(99_999).max(1);
    let t = Instant::now();
    let r = http
        .post(format!("{base}/v1/webhooks/{}/replay", w["id"].as_str().unwrap()))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"from": first, "to": last}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let queued: serde_json::Value = r.json().await.unwrap();
    while drain.0.load(Ordering::Relaxed) < queued["queued"].as_u64().unwrap_or(0) as usize && t.elapsed() < std::time::Duration::from_secs(300) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let n = drain.0.load(Ordering::Relaxed);
    println!(
        "[{label}] webhook delivery to a local receiver: {:>6.0} events/s ({n} events replayed in {:.2?})",
        n as f64 / t.elapsed().as_secs_f64(),
        t.elapsed()
    );
}

/// A device record and channel for rendering, as the store would hand them over.
fn bench_context(i: usize, cert_der: Vec<u8>) -> mdm::store::library::DeviceContext {
    let at = chrono::Utc::now().naive_utc();
    let udid = format!("00008030-{i:016X}");
    mdm::store::library::DeviceContext {
        device: mdm::store::models::Device {
            id: udid.clone(),
            serial_number: Some(format!("C02BENCH{i:05}")),
            model: Some("MQ3D2LL/A".into()),
            model_name: Some("iPhone".into()),
            product_name: Some("iPhone15,2".into()),
            os_version: Some("18.1".into()),
            build_version: Some("22B83".into()),
            device_name: Some(format!("Ward iPhone {i}")),
            imei: Some("35 000000 000000 0".into()),
            meid: None,
            bootstrap_token: None,
            created_at: at,
            updated_at: at,
        },
        enrollment: mdm::store::models::Enrollment {
            id: udid.clone(),
            device_id: udid,
            channel: "device".into(),
            enrollment_type: "Device".into(),
            user_id: None,
            user_short_name: None,
            user_long_name: None,
            topic: TOPIC.into(),
            push_magic: None,
            token: None,
            unlock_token: None,
            enabled: true,
            awaiting_configuration: false,
            token_update_count: 1,
            authenticated_at: Some(at),
            last_seen_at: Some(at),
            unenrolled_at: None,
            created_at: at,
            updated_at: at,
        },
        cert_der: Some(cert_der),
        enrolled_user: Some("nurse.jane".into()),
        user_email: Some("jane@example.org".into()),
        attributes: Default::default(),
        shared: None,
        shared_user: None,
        kiosk_sealed: None,
    }
}

/// RSA-2048 signatures (SHA-256, PKCS#1 v1.5) per second on `threads` threads for two seconds,
/// with the OpenSSL the server links (built in, so `openssl speed` of the system's command
/// would measure another library).
fn rsa_sign_per_sec(threads: usize) -> f64 {
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let run = std::time::Duration::from_secs(2);
    let signed: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                let key = key.clone();
                s.spawn(move || {
                    let t = Instant::now();
                    let mut n = 0usize;
                    while t.elapsed() < run {
                        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
                        signer.update(&n.to_be_bytes()).unwrap();
                        signer.sign_to_vec().unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    signed as f64 / run.as_secs_f64()
}

/// Per-device profile rendering: a Wi-Fi EAP-TLS + SCEP + web clip + passcode profile with
/// variables, filled in, encrypted to the device certificate and signed, on every core.
fn profile_rendering(n: usize) {
    use mdm_profiles::payloads::{passcode::Passcode, scep::Scep, webclip::WebClip, wifi::Wifi};
    let ca = Ca::generate("Bench Profile CA").unwrap();
    let server = ca.issue_server(&["mdm.example.org".into()]).unwrap();
    let signer = mdm_profiles::cms::Signer::new(server.cert, server.key, vec![ca.cert.clone()]).unwrap();
    let sealer = std::sync::Arc::new(mdm::profiles::render::Sealer::new(Some(signer), true));
    let mut p = mdm_profiles::Profile::new("org.example.ward", "Ward iPhone");
    let scep = p.add("scep", Scep::new("https://mdm.example.org/scep").with_challenge("{DeviceUDID}"));
    p.add("wifi", Wifi::eap_tls("WardNet", scep, vec!["radius.example.org".into()]));
    p.add("clip", WebClip::new("Rounds", "https://rounds.example.org/{DeviceSerialNumber}"));
    let passcode: Passcode = serde_json::from_value(serde_json::json!({"minLength": 6})).unwrap();
    p.add("passcode", passcode);
    let template = std::sync::Arc::new(p.to_dict().unwrap());
    // Encryption cost does not depend on which key: 16 device certificates serve every device.
    let certs: Vec<Vec<u8>> = (0..16).map(|i| ca.issue_device(&format!("device-{i}")).unwrap().cert.to_der().unwrap()).collect();
    let contexts: Vec<_> = (0..n).map(|i| bench_context(i, certs[i % certs.len()].clone())).collect();
    let one = Instant::now();
    let probe = contexts.len().min(200);
    for c in &contexts[..probe] {
        sealer.render(&template, c).unwrap();
    }
    let single = probe as f64 / one.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let t = Instant::now();
    let bytes: usize = std::thread::scope(|s| {
        let chunk = contexts.len().div_ceil(cores);
        let handles: Vec<_> = contexts
            .chunks(chunk)
            .map(|part| {
                let (sealer, template) = (sealer.clone(), template.clone());
                s.spawn(move || part.iter().map(|c| sealer.render(&template, c).unwrap().len()).sum::<usize>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let rate = n as f64 / t.elapsed().as_secs_f64();
    println!("[profiles] {n} per-device profiles (vars + AES-256 envelope to the device + RSA-2048 CMS signature), {cores} threads: {rate:.0}/s (1 thread: {single:.0}/s), {:.1} KiB each", bytes as f64 / n as f64 / 1024.0);
    let (one, all) = (rsa_sign_per_sec(1), rsa_sign_per_sec(cores));
    println!(
        "[profiles] RSA-2048 signatures: {one:.0}/s (1 core), {all:.0}/s ({cores} cores); profiles/s ÷ raw RSA sign/s = {:.2} ({cores} cores), {:.2} (1 core)",
        rate / all,
        single / one
    );
}

#[tokio::main]
async fn main() {
    let profiles: usize = std::env::var("BENCH_PROFILES").ok().and_then(|v| v.parse().ok()).unwrap_or(4000);
    if profiles > 0 {
        profile_rendering(profiles);
    }
    let devices: usize = std::env::var("BENCH_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    // `make bench` builds the server binary together with this benchmark (same features).
    let pushes: usize = std::env::var("BENCH_PUSHES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    push_throughput(pushes).await;
    let only = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if only.contains("sqlite") {
        let db = kit::TestDb::create(kit::Db::Sqlite).unwrap();
        run("sqlite", &db.url, devices, concurrency).await;
    }
    if !only.contains("postgres") {
        return;
    }
    match kit::TestDb::create(kit::Db::Postgres) {
        Some(db) => run("postgres", &db.url, devices, concurrency).await,
        None => println!("[postgres] skipped: no PostgreSQL at MDM_TEST_PG_URL / 127.0.0.1:5432"),
    }
}
