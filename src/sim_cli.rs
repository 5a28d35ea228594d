//! `mdm sim`: a fleet of simulated iPhones against a running server. They get identities over
//! SCEP (or enroll over the air like a real iPhone), then stay online until Ctrl-C: with
//! `push.development` the simulator runs the development mock APNs on `push.url`'s port, so
//! every push the server sends wakes the device it names, which fetches and answers its
//! commands. Without it (or with `--loops K`) the devices connect every `--interval`.
//! The command fails when a device could not enroll or a connection failed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use mdm::config::Config;
use mdm_sim::apns::{MockApns, MockApnsConfig, ReceivedPush};
use mdm_sim::wake::{by_token, wake_on_push, DeviceMap};
use mdm_sim::{Endpoint, Fleet, FleetStats, Transport};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::cli::{load, server_ca, Api, CliResult};

/// What `mdm sim` was asked to do.
#[derive(Debug)]
pub struct SimArgs {
    /// Server URL (default: server.public_url).
    pub server: Option<String>,
    /// Number of devices.
    pub devices: usize,
    /// Devices working at once.
    pub concurrency: usize,
    /// mtls | signature | header:NAME (not with OTA: the MDM payload decides).
    pub transport: String,
    /// Connection loops after enrolling, then exit; `None`: stay online until interrupted.
    pub loops: Option<usize>,
    /// Seconds between loops (and between polls when no push can wake the devices).
    pub interval: u64,
    /// Topic devices report (not with OTA: the MDM payload decides); default: the server's
    /// active push certificate's.
    pub topic: Option<String>,
    /// SCEP challenge.
    pub challenge: Option<String>,
    /// Enroll over the air.
    pub enroll_ota: bool,
    /// Enrollment token for OTA.
    pub token: Option<String>,
    /// Device CA (cert, key) for OTA.
    pub device_ca: Option<Vec<PathBuf>>,
    /// Shared pool to run shifts in.
    pub shared: Option<String>,
    /// Shifts with `shared`.
    pub shifts: usize,
}

/// The topic of the simulated devices' push tokens when the server has no push certificate.
const PLACEHOLDER_TOPIC: &str = "com.apple.mgmt.External.00000000-0000-4000-8000-000000000000";

/// `mdm sim`.
pub async fn sim(config: &Path, a: SimArgs) -> CliResult {
    let cfg = load(config)?;
    // The admin API is needed only for one-time challenges, a token or the topic; with
    // --challenge (or scep.challenge) and --topic, or --token, the simulator works without a key.
    let api = Api::keyless(config, &cfg, a.server.clone())?;
    println!("server {} ({})", api.base, if a.server.is_some() { "--server".to_string() } else { format!("server.public_url in {}", config.display()) });
    // The mock APNs runs before the devices enroll: the pushes that follow their first
    // TokenUpdate (the blueprint's commands) wait in the subscription until they are online.
    let mock = if a.loops == Some(0) { None } else { development_apns(&cfg) };
    let pushes = mock.as_ref().map(MockApns::subscribe);
    let enrolling = async {
        if a.enroll_ota {
            enroll_ota(&cfg, &api, &a).await
        } else {
            enroll_scep(&cfg, &api, &a).await
        }
    };
    let (fleet, enrolled) = tokio::select! {
        r = enrolling => r?,
        () = interrupted() => return Err("interrupted before the devices had enrolled".into()),
    };
    println!("enrolled {} of {} device(s) in {:.2?} ({:.1}/s), {} error(s)", enrolled.ok, a.devices, enrolled.elapsed, enrolled.rate(), enrolled.errors);
    if let Some(e) = &enrolled.first_error {
        println!("  first error: {e}");
    }
    for d in fleet.devices.iter().take(5) {
        println!("  {}  serial {}", d.udid, d.serial);
    }
    let enroll_failed = (enrolled.errors > 0)
        .then(|| format!("{} of {} device(s) did not enroll: {}", enrolled.errors, a.devices, enrolled.first_error.clone().unwrap_or_default()));
    let mut fleet = fleet;
    if let Some(pool) = &a.shared {
        shifts(&api, &mut fleet, pool, a.shifts, a.concurrency).await?;
    }
    let tally = online(fleet, pushes, &a).await;
    drop(mock);
    println!("{} connection(s), {} command(s) answered, {} error(s)", tally.ok, tally.commands, tally.errors);
    match (enroll_failed, tally.errors) {
        (Some(e), _) => Err(e),
        (None, 0) => Ok(()),
        (None, n) => Err(format!("{n} connection(s) failed: {}", tally.first_error.unwrap_or_default())),
    }
}

/// The bundle id a locker app is looked for under (its AppConfig carries `KioskToken`).
fn locker_of(d: &mdm_sim::SimDevice) -> Option<mdm_sim::locker::LockerApp> {
    d.apps
        .iter()
        .find(|a| a.configuration.as_ref().is_some_and(|c| c.contains_key(mdm_sim::locker::TOKEN_KEY) && c.contains_key(mdm_sim::locker::SERVER_URL_KEY)))
        .map(|a| mdm_sim::locker::LockerApp::new(&a.identifier))
}

/// Answers every queued command (a few connection loops).
async fn settle(d: &mut mdm_sim::SimDevice) -> Result<(), String> {
    for _ in 0..8 {
        if d.connect().await.map_err(|e| e.to_string())?.is_empty() {
            break;
        }
    }
    Ok(())
}

/// `--shared POOL`: the devices join the pool, then each shift checks every device out to a
/// user (who sets a PIN when the passcode policy arrives and uses the apps) and in again.
async fn shifts(api: &Api, fleet: &mut Fleet, pool: &str, shifts: usize, concurrency: usize) -> Result<(), String> {
    let ids: Vec<String> = fleet.devices.iter().map(|d| d.udid.clone()).collect();
    let path = format!("/v1/shared/pools/{}", crate::cli::enc(pool));
    match api.answer(api.request(reqwest::Method::GET, &path)).await? {
        (s, mut p) if s.is_success() => {
            let mut devices: Vec<String> = p["devices"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect();
            devices.extend(ids);
            devices.sort();
            devices.dedup();
            p["devices"] = serde_json::json!(devices);
            api.json(api.request(reqwest::Method::PUT, &path).json(&p)).await.map_err(|e| format!("adding the devices to pool {pool}: {e}"))?;
        }
        (s, _) if s == reqwest::StatusCode::NOT_FOUND => {
            let body = serde_json::json!({"name": pool, "staging_user": format!("{pool}-staging"), "devices": ids});
            api.json(api.request(reqwest::Method::POST, "/v1/shared/pools").json(&body)).await.map_err(|e| format!("creating pool {pool}: {e}"))?;
            println!("pool {pool} created (staging user {pool}-staging)");
        }
        (s, v) => return Err(format!("reading pool {pool}: {s} {v}")),
    }
    let (mut cycles, mut failures) = (0usize, Vec::new());
    let mut latencies: Vec<u32> = Vec::new();
    for shift in 0..shifts {
        let t = std::time::Instant::now();
        let results: Vec<Result<u32, String>> = futures::stream::iter(fleet.devices.iter_mut().enumerate())
            .map(|(i, d)| async move {
                settle(d).await?;
                let user = format!("nurse.{shift}.{i}");
                let status = match locker_of(d) {
                    Some(l) => l.checkout(d, &user).await.map_err(|e| e.to_string())?.status,
                    None => {
                        let body = serde_json::json!({"device": d.udid, "user": user});
                        api.answer(api.request(reqwest::Method::POST, "/v1/shared/checkout").json(&body)).await?.0.as_u16()
                    }
                };
                if status != 200 {
                    return Err(format!("{}: check-out answered {status}", d.udid));
                }
                settle(d).await?;
                if d.passcode_required() {
                    d.user_sets_passcode("482913");
                }
                let started = std::time::Instant::now();
                let status = match locker_of(d) {
                    Some(l) => l.checkin(d).await.map_err(|e| e.to_string())?.status,
                    None => api.answer(api.request(reqwest::Method::POST, "/v1/shared/checkin").json(&serde_json::json!({"device": d.udid}))).await?.0.as_u16(),
                };
                let took = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                if status != 200 {
                    return Err(format!("{}: check-in answered {status}", d.udid));
                }
                settle(d).await?;
                Ok(took)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for r in results {
            match r {
                Ok(us) => {
                    cycles += 1;
                    latencies.push(us);
                }
                Err(e) => failures.push(e),
            }
        }
        println!("shift {}: {} device(s) checked out and in in {:.2?}", shift + 1, fleet.devices.len(), t.elapsed());
    }
    latencies.sort_unstable();
    let ms = |p: f64| f64::from(mdm_sim::fleet::percentile(&latencies, p)) / 1000.0;
    println!("{cycles} check-out/check-in cycle(s), check-in answered in p50 {:.1} ms, p99 {:.1} ms; {} failure(s)", ms(50.0), ms(99.0), failures.len());
    match failures.first() {
        None => Ok(()),
        Some(f) => Err(format!("{} cycle(s) failed, first: {f}", failures.len())),
    }
}

/// Keeps the enrolled devices online: woken by pushes (development mock APNs), and connecting
/// every `--interval` when asked for loops or when no push can reach them.
/// Returns the counts over the whole run, for the summary and the exit status.
async fn online(fleet: Fleet, pushes: Option<UnboundedReceiver<ReceivedPush>>, a: &SimArgs) -> FleetStats {
    let mut tally = FleetStats::default();
    if fleet.devices.is_empty() || a.loops == Some(0) {
        return tally;
    }
    let devices = by_token(fleet.devices);
    let polling = a.loops.is_some() || pushes.is_none();
    match (a.loops, &pushes) {
        (Some(k), _) => println!("running {k} connection loop(s), {} s apart", a.interval),
        (None, Some(_)) => println!("online until Ctrl-C: pushes wake the devices"),
        (None, None) => println!("online until Ctrl-C: the devices connect every {} s", a.interval),
    }
    let mut woken = pushes.map(|p| wake_on_push(p, devices.clone(), a.concurrency).1);
    let mut ticks = tokio::time::interval(Duration::from_secs(a.interval.max(1)));
    let mut loops_done = 0usize;
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => {
                println!("stopping");
                break;
            }
            _ = ticks.tick(), if polling => {
                let s = connect_all(&devices, a.concurrency).await;
                loops_done += 1;
                println!("loop {loops_done}: {} device(s) connected, {} command(s) handled, {} error(s) in {:.2?}", s.ok, s.commands, s.errors, s.elapsed);
                if let Some(e) = &s.first_error {
                    println!("  first error: {e}");
                }
                tally.merge(&s);
                if a.loops.is_some_and(|k| loops_done >= k) {
                    break;
                }
            }
            Some(w) = async { match woken.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                tally.record(&w.udid, w.error.clone().map_or(Ok(w.handled), Err));
                let answered: Vec<String> = w.commands.iter().map(|h| format!("{} {} → {}", h.request_type, h.uuid, h.status)).collect();
                match &w.error {
                    Some(e) => {
                        println!("{} woken by a push: connection failed: {e}", w.udid);
                    }
                    None if answered.is_empty() => println!("{} woken by a push: nothing queued", w.udid),
                    None => println!("{} woken by a push: {}", w.udid, answered.join(", ")),
                }
            }
        }
    }
    tally
}

/// One connection loop on every device, `concurrency` at a time.
async fn connect_all(devices: &DeviceMap, concurrency: usize) -> FleetStats {
    let start = std::time::Instant::now();
    let results: Vec<_> = futures::stream::iter(devices.values().cloned())
        .map(|d| async move {
            let mut d = d.lock().await;
            let r = d.connect().await;
            (d.udid.clone(), r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut s = FleetStats::default();
    for (udid, r) in results {
        s.record(&udid, r.map(|h| h.len()).map_err(|e| e.to_string()));
    }
    s.elapsed = start.elapsed();
    s
}

/// Completes on Ctrl-C or SIGTERM.
async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// The development mock APNs on `push.url`'s port, when `push.development` is on: its TLS
/// certificate is issued by the `[ca]` CA (which the server trusts through `push.ca_certs`),
/// and it accepts the development push certificate that CA issued. `None`, with the reason
/// printed, when it cannot run.
fn development_apns(cfg: &Config) -> Option<MockApns> {
    if !cfg.push.development {
        return None;
    }
    let started = (|| -> Result<MockApns, String> {
        let port = cfg.push.development_port()?;
        let (Some(cert), Some(key)) = (&cfg.ca.cert, &cfg.ca.key) else { return Err("[ca] cert and key are not configured".into()) };
        let ca = mdm::pki::Ca::load(cert, key).map_err(|e| e.to_string())?;
        let tls = ca.issue_server(&["127.0.0.1".to_string(), "localhost".to_string()]).map_err(|e| e.to_string())?;
        let pem = |r: Result<Vec<u8>, openssl::error::ErrorStack>| r.map_err(|e| e.to_string());
        let mock_cfg =
            MockApnsConfig { record: false, ..MockApnsConfig::new(pem(tls.cert.to_pem())?, pem(tls.key.private_key_to_pem_pkcs8())?, pem(ca.cert.to_pem())?) };
        MockApns::start_on(mock_cfg, std::net::SocketAddr::from(([127, 0, 0, 1], port))).map_err(|e| match e {
            mdm_sim::apns::MockError::Io(io) if io.kind() == std::io::ErrorKind::AddrInUse => {
                format!("port {port} is taken (another `mdm sim` holds the development APNs?)")
            }
            other => other.to_string(),
        })
    })();
    match started {
        Ok(m) => {
            println!("development APNs at {} (push.development): server pushes wake these devices", m.url());
            Some(m)
        }
        Err(e) => {
            println!("development APNs not started: {e}; the devices poll instead");
            None
        }
    }
}

/// The active push certificate's topic, so that the server can push to the simulated devices;
/// `None` when the server has none.
async fn server_topic(api: &Api) -> Result<Option<String>, String> {
    let certs = api.get("/v1/pushcert").await.map_err(|e| format!("finding the server's push topic (or give --topic): {e}"))?;
    Ok(certs.as_array().and_then(|a| a.iter().find(|c| c["active"] == true)).and_then(|c| c["topic"].as_str()).map(str::to_string))
}

/// Asks the admin API for `n` one-time SCEP challenges.
async fn one_time_challenges(api: &Api, n: usize) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let v = api.json(api.request(reqwest::Method::POST, "/v1/scep/challenges").json(&serde_json::json!({ "note": "mdm sim" }))).await?;
        out.push(v["challenge"].as_str().ok_or("no challenge in the answer")?.to_string());
    }
    Ok(out)
}

async fn enroll_scep(cfg: &Config, api: &Api, a: &SimArgs) -> Result<(Fleet, FleetStats), String> {
    let transport = match a.transport.as_str() {
        "mtls" => Transport::Mtls,
        "signature" => Transport::Signature,
        t => match t.strip_prefix("header:") {
            Some(h) if !h.is_empty() => Transport::Header(h.to_string()),
            _ => return Err(format!("unknown transport {t:?}: use mtls, signature or header:NAME")),
        },
    };
    // Identities come over SCEP, as on a real device: with the given or configured static
    // challenge, else with one-time challenges made through the admin API.
    let challenges = match a.challenge.clone().or_else(|| Some(cfg.scep.challenge.clone()).filter(|c| !c.is_empty())) {
        Some(c) => vec![c],
        None => one_time_challenges(api, a.devices).await?,
    };
    let topic = match &a.topic {
        Some(t) => t.clone(),
        None => server_topic(api).await?.unwrap_or_else(|| {
            println!("the server has no push certificate: the devices report a placeholder topic and cannot be pushed");
            PLACEHOLDER_TOPIC.to_string()
        }),
    };
    let scep_url = format!("{}{}", api.base, cfg.scep.path);
    let endpoint = Endpoint::new(api.base.clone(), transport, server_ca(cfg), topic);
    let t = std::time::Instant::now();
    let mut fleet = Fleet::build_scep(a.devices, &scep_url, &challenges, endpoint, a.concurrency)
        .await
        .map_err(|e| format!("getting identities over SCEP at {scep_url}: {e}"))?;
    println!("{} identities over SCEP in {:.2?}", a.devices, t.elapsed());
    let s = fleet.enroll(a.concurrency).await;
    Ok((fleet, s))
}

async fn enroll_ota(cfg: &Config, api: &Api, a: &SimArgs) -> Result<(Fleet, FleetStats), String> {
    let device_ca = match &a.device_ca {
        Some(paths) if paths.len() == 2 => mdm::pki::Ca::load(&paths[0], &paths[1]).map_err(|e| format!("--device-ca: {e}"))?,
        _ => mdm::pki::Ca::generate("Simulated iPhone Device CA").map_err(|e| e.to_string())?,
    };
    let token = match &a.token {
        Some(t) => t.clone(),
        None => {
            let body = serde_json::json!({ "unlimited": true, "expires_in": "1h", "note": "mdm sim --enroll-ota" });
            let v = api
                .json(api.request(reqwest::Method::POST, "/v1/enrollment-tokens").json(&body))
                .await
                .map_err(|e| format!("creating an enrollment token: {e}"))?;
            v["token"].as_str().ok_or("no token in the answer")?.to_string()
        }
    };
    let enroller = mdm_sim::ota::OtaEnroller::new(&api.base, server_ca(cfg), device_ca).map_err(|e| e.to_string())?;
    Ok(enroller.enroll_fleet(a.devices, a.concurrency, &mdm_sim::ota::Login::Token(token)).await)
}
