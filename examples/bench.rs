//! `make bench`: enrollment rate, command round trips/s (Idle → command → Acknowledged → empty)
//! with 10,000 simulated devices, p50/p99 latency of the command endpoint and server RSS, on
//! SQLite and on PostgreSQL. Prints figures; asserts nothing.
//!
//! The server runs as a separate `mdm serve` process (so its RSS is its own) in the
//! load-balancer deployment mode: plain HTTP with the device certificate in a proxy header.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use mdm::config::{ApiConfig, CaConfig, CheckinConfig, Config, DatabaseConfig, IdentityConfig, ServerConfig, TrustMode};
use mdm::pki::Ca;
use mdm::sim::fleet::percentile;
use mdm::sim::{Endpoint, Fleet, Transport};

const KEY: &str = "bench-admin-key-0123456789abcdef";
const TOPIC: &str = "com.apple.mgmt.External.2f4d6b8a-1c3e-4a5b-9d7f-0e1a2b3c4d5e";

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn pg_db() -> Option<(String, String)> {
    let base = std::env::var("MDM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let admin = format!("{base}/postgres");
    let mut c = <diesel::PgConnection as diesel::Connection>::establish(&admin).ok()?;
    let name = format!("mdm_bench_{}", uuid::Uuid::new_v4().simple());
    diesel::RunQueryDsl::execute(diesel::sql_query(format!("CREATE DATABASE {name}")), &mut c).ok()?;
    Some((format!("{base}/{name}"), name))
}

fn drop_pg(name: &str) {
    let base = std::env::var("MDM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    if let Ok(mut c) = <diesel::PgConnection as diesel::Connection>::establish(&format!("{base}/postgres")) {
        let _ = diesel::RunQueryDsl::execute(diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")), &mut c);
    }
}

async fn run(label: &str, db_url: &str, ca: &Ca, dir: &std::path::Path, devices: usize, concurrency: usize) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(dir.join("ca.pem"), ca.cert.to_pem().unwrap()).unwrap();
    let cfg = Config {
        server: ServerConfig { listen: format!("127.0.0.1:{port}"), public_url: format!("http://127.0.0.1:{port}"), tls_cert: None, tls_key: None, plain_http: true, max_body_bytes: 8 << 20 },
        database: DatabaseConfig { url: db_url.to_string(), pool_size: std::env::var("BENCH_POOL").ok().and_then(|v| v.parse().ok()).unwrap_or(8) },
        identity: IdentityConfig { trust: TrustMode::Ca, ca_certs: vec![dir.join("ca.pem")], client_cert_header: "X-Client-Cert".into(), mdm_signature: true, mtls: false },
        api: ApiConfig { key_file: None, key: Some(KEY.into()) },
        checkin: CheckinConfig::default(),
        ca: CaConfig::default(),
    };
    let cfg_path = dir.join(format!("{label}.toml"));
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    let exe = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("mdm");
    let child = Command::new(&exe)
        .args(["--config", cfg_path.to_str().unwrap(), "serve"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", exe.display()));
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
    let t = Instant::now();
    let mut fleet = Fleet::build(devices, ca, Endpoint::new(base.clone(), Transport::Header("X-Client-Cert".into()), None, TOPIC)).unwrap();
    let build = t.elapsed();
    let e = fleet.enroll(concurrency).await;
    let body = serde_json::json!({"request_type": "ProfileList", "targets": fleet.ids(), "nopush": true});
    let t = Instant::now();
    let r = http.post(format!("{base}/v1/commands")).bearer_auth(KEY).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let enqueue = t.elapsed();
    let c = fleet.connect(concurrency).await;
    let lat = fleet.latencies_us();
    println!("[{label}] {devices} devices, concurrency {concurrency}, server pool {} (identities made in {build:.1?})", cfg.database.pool_size);
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
    println!("  server RSS: {:.1} MiB", rss_kib(pid) as f64 / 1024.0);
}

#[tokio::main]
async fn main() {
    let devices: usize = std::env::var("BENCH_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let status = Command::new(env!("CARGO")).args(["build", "--release", "--bin", "mdm", "--example", "bench"]).status().unwrap();
    assert!(status.success());
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Bench CA").unwrap();
    let only = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if only.contains("sqlite") {
        run("sqlite", dir.path().join("bench.db").to_str().unwrap(), &ca, dir.path(), devices, concurrency).await;
    }
    if !only.contains("postgres") {
        return;
    }
    match pg_db() {
        Some((url, name)) => {
            run("postgres", &url, &ca, dir.path(), devices, concurrency).await;
            drop_pg(&name);
        }
        None => println!("[postgres] skipped: no PostgreSQL at MDM_TEST_PG_URL / 127.0.0.1:5432"),
    }
}
