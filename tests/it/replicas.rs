//! Two `mdm serve` processes on one PostgreSQL database behind a "load balancer" (devices use
//! either): 1,000 simulated devices, one command each, every command delivered exactly once.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use mdm_sim::{Endpoint, Fleet, Transport};

use crate::harness::{config, free_port, Db, Opts, Pki, TestDb, API_KEY, SCEP_CHALLENGE, TOPIC};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_ready(base: &str) {
    let c = reqwest::Client::new();
    for _ in 0..200 {
        if c.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_one_database_exactly_once() {
    let Some(db) = TestDb::create(Db::Postgres) else { return };
    let pki = Pki::new();
    let opts = Opts { plain_http: true, header: Some("X-Client-Cert".into()), ..Opts::default() };
    let cfg = config(&db, &pki, &opts);
    let cfg_path = pki.path("mdm.toml");
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    let mut procs = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_mdm"))
            .args(["--config", cfg_path.to_str().unwrap(), "serve"])
            .env("MDM_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        procs.push(Proc(child));
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&base).await;
        bases.push(base);
    }
    let n = 1000;
    let t = Transport::Header("X-Client-Cert".into());
    let ep = |i: usize| Arc::new(Endpoint::new(bases[i % 2].clone(), t.clone(), None, TOPIC));
    // Identities come over SCEP from server 1 (recorded in the shared database). Half the
    // devices enroll through server 0 and connect through server 1, half the reverse.
    let scep_url = format!("{}{}", bases[1], cfg.scep.path);
    let mut fleet = Fleet::build_scep(n, &scep_url, &[SCEP_CHALLENGE.to_string()], Endpoint::new(bases[0].clone(), t.clone(), None, TOPIC), 32).await.unwrap();
    let shared = ep(0).client(None).unwrap();
    for (i, d) in fleet.devices.iter_mut().enumerate() {
        *d = mdm_sim::SimDevice::with_identity(d.udid.clone(), d.identity.clone(), ep(i), &shared).unwrap();
    }
    let s = fleet.enroll(100).await;
    assert_eq!((s.ok, s.errors), (n, 0), "{:?}", s.first_error);
    let api = reqwest::Client::new();
    let body = serde_json::json!({"request_type": "SecurityInfo", "targets": fleet.ids(), "nopush": true});
    let r: serde_json::Value = api.post(format!("{}/v1/commands", bases[1])).bearer_auth(API_KEY).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["queued"].as_array().unwrap().len(), n);
    let uuid = r["command_uuid"].as_str().unwrap().to_string();
    for (i, d) in fleet.devices.iter_mut().enumerate() {
        *d = mdm_sim::SimDevice::with_identity(d.udid.clone(), d.identity.clone(), ep(i + 1), &shared).unwrap();
    }
    // Two rounds of connects, all devices at once across both servers.
    let first = fleet.connect(100).await;
    assert_eq!(first.errors, 0, "{:?}", first.first_error);
    let second = fleet.connect(100).await;
    assert_eq!(second.errors, 0, "{:?}", second.first_error);
    assert_eq!(first.commands + second.commands, n, "every command delivered exactly once in total");
    for d in &fleet.devices {
        assert_eq!(d.log.len(), 1, "{} got {:?}", d.udid, d.log);
        assert_eq!(d.log[0].uuid, uuid);
    }
    let cmd: serde_json::Value = api.get(format!("{}/v1/commands/{uuid}", bases[0])).bearer_auth(API_KEY).send().await.unwrap().json().await.unwrap();
    let targets = cmd["targets"].as_array().unwrap();
    assert_eq!(targets.len(), n);
    assert!(targets.iter().all(|t| t["status"] == "acknowledged" && t["deliveries"] == 1 && t["results"].as_array().unwrap().len() == 1));
    // Every issued certificate is recorded once, with its own serial, bound to its device.
    let certs: serde_json::Value = api.get(format!("{}/v1/scep/certs?limit=1000", bases[0])).bearer_auth(API_KEY).send().await.unwrap().json().await.unwrap();
    let certs = certs.as_array().unwrap();
    assert_eq!(certs.len(), n);
    let serials: std::collections::HashSet<_> = certs.iter().map(|c| c["serial"].as_str().unwrap()).collect();
    assert_eq!(serials.len(), n);
    let ids: std::collections::HashSet<_> = fleet.ids().into_iter().collect();
    assert!(certs.iter().all(|c| c["device_id"].as_str().is_some_and(|d| ids.contains(d))), "unbound certificate in {certs:?}");
    drop(procs);
}
