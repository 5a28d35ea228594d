//! Compliance figures: a fleet-wide evaluation after a policy change (the background sweep,
//! timed from the change to its end), a re-evaluation where nothing changes (pure judging), and
//! posture lookups by serial number under concurrent load with a `posture` token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mdm_sim::fleet::percentile;

/// Runs the compliance measurements against the server at `base` for the devices `ids`.
pub async fn run(label: &str, http: &reqwest::Client, base: &str, key: &str, ids: &[String], serials: &[String], concurrency: usize) {
    let post = |path: &str, body: serde_json::Value| {
        let r = http.post(format!("{base}{path}")).bearer_auth(key).json(&body).send();
        async move {
            let r = r.await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let policy = |min: &str| {
        serde_json::json!({"name": "bench-baseline", "scope": {"all": true}, "rules": [
            {"type": "min_os_version", "version": min}, {"type": "last_seen", "hours": 24}, {"type": "enrolled"}, {"type": "identity_certificate", "min_days": 7}
        ]})
    };
    // A policy change the whole fleet fails, then one it meets: each rewrites every judgement.
    let mut sweeps = Vec::new();
    let sweep = || async {
        let s: serde_json::Value = http.get(format!("{base}/v1/compliance/sweep")).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        s
    };
    for (i, min) in ["99.0", "1.0"].iter().enumerate() {
        let before = sweep().await["started_at"].clone();
        let started = Instant::now();
        if i == 0 {
            post("/v1/compliance/policies", policy(min)).await;
        } else {
            let r = http.put(format!("{base}/v1/compliance/policies/bench-baseline")).bearer_auth(key).json(&policy(min)).send().await.unwrap();
            assert!(r.status().is_success());
        }
        // The sweep the change asked for: started after the one seen before it, and finished.
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let s = sweep().await;
            if s["started_at"] != before
                && s["finished_at"].is_string()
                && s["reason"] != "schedule"
                && s["evaluated"].as_u64().unwrap_or(0) >= ids.len() as u64
            {
                sweeps.push((started.elapsed(), s["evaluated"].as_u64().unwrap_or(0), s["changed"].as_u64().unwrap_or(0)));
                break;
            }
            assert!(Instant::now() < deadline, "sweep never finished: {s}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for (what, (t, n, changed)) in ["turns every device non-compliant", "turns every device compliant"].iter().zip(&sweeps) {
        println!(
            "  compliance: policy change that {what}: {:>7.0} evaluations/s ({n} devices, {changed} judgements written, {t:.2?} from the change)",
            *n as f64 / t.as_secs_f64()
        );
    }
    let v = post("/v1/compliance/evaluate", serde_json::json!({})).await;
    let (n, ms) = (v["evaluated"].as_f64().unwrap_or(0.0), v["ms"].as_f64().unwrap_or(1.0).max(1.0));
    println!("  compliance: re-evaluation, nothing changed:       {:>7.0} evaluations/s ({n} devices, {} written)", n * 1000.0 / ms, v["changed"]);

    let token = post("/v1/tokens", serde_json::json!({"name": "bench-posture", "role": "posture"})).await["token"].as_str().unwrap().to_string();
    let lookups = 5000.min(serials.len() * 10).max(1);
    let lat: Arc<std::sync::Mutex<Vec<u32>>> = Default::default();
    let started = Instant::now();
    let work = futures::stream::iter((0..lookups).map(|i| {
        let (lat, token, serial) = (lat.clone(), token.clone(), serials[i * 7919 % serials.len()].clone());
        async move {
            let t = Instant::now();
            let r = http.get(format!("{base}/v1/posture/devices/{serial}?id_type=SerialNumber")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await;
            lat.lock().unwrap().push(t.elapsed().as_micros() as u32);
        }
    }));
    futures::StreamExt::for_each_concurrent(work, concurrency, |f| f).await;
    let elapsed = started.elapsed();
    let mut lat = lat.lock().unwrap().clone();
    lat.sort_unstable();
    println!(
        "  posture lookups by serial: {:>7.0} /s, p50 {:.2} ms, p99 {:.2} ms ({lookups} lookups, {concurrency} at once) [{label}]",
        lookups as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 50.0) as f64 / 1000.0,
        percentile(&lat, 99.0) as f64 / 1000.0
    );
}
