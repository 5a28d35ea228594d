//! Implementations of the CLI subcommands. API-calling commands talk to the admin API over
//! HTTPS with the key from the configuration, exactly as any other API client would.

use std::path::{Path, PathBuf};

use mdm::config::Config;
use mdm::init::{InitOptions, Step};
use mdm_sim::{Endpoint, Fleet, Transport};

/// A CLI failure, printed as one line.
pub type CliResult = Result<(), String>;

pub fn init(config: &Path, dir: PathBuf, hostname: String, port: u16, ca_bits: u32) -> CliResult {
    let steps = mdm::init::run(&InitOptions { dir, hostname, config: config.to_path_buf(), port, ca_bits }).map_err(|e| e.to_string())?;
    for s in steps {
        match s {
            Step::Created(p) => println!("created {}", p.display()),
            Step::Kept(p) => println!("kept    {} (already present)", p.display()),
        }
    }
    Ok(())
}

pub(crate) fn load(config: &Path) -> Result<Config, String> {
    Config::load(config).map_err(|e| format!("{e} (run `mdm init` first?)"))
}

pub async fn serve(config: &Path) -> CliResult {
    let cfg = load(config)?;
    let server = mdm::server::Server::bind(&cfg).await.map_err(|e| e.to_string())?;
    let scheme = if cfg.server.plain_http { "http" } else { "https" };
    println!("mdm listening on {scheme}://{}", server.local_addr);
    println!("  check-in URL : {}/mdm/checkin", cfg.server.public_url);
    println!("  server URL   : {}/mdm/connect", cfg.server.public_url);
    println!("  enrollment   : {}/enroll", cfg.server.public_url);
    println!(
        "  admin API    : {}/v1/devices  (key in {})",
        cfg.server.public_url,
        cfg.api.key_file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "MDM_API_KEY".into())
    );
    println!("  database     : {:?}", mdm::store::Backend::from_url(&cfg.database.url));
    server.run().await;
    println!("mdm stopped");
    Ok(())
}

pub async fn migrate(config: &Path) -> CliResult {
    let cfg = load(config)?;
    let store = mdm::store::Store::connect(&cfg.database.url, 1).map_err(|e| e.to_string())?;
    let n = store.migrate().await.map_err(|e| e.to_string())?;
    println!("{n} migration(s) applied");
    Ok(())
}

fn server_ca(cfg: &Config) -> Option<Vec<u8>> {
    cfg.ca.cert.as_ref().and_then(|p| std::fs::read(p).ok())
}

pub(crate) fn api_client(cfg: &Config) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().use_rustls_tls();
    if let Some(pem) = server_ca(cfg) {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?);
    }
    b.build().map_err(|e| e.to_string())
}

pub(crate) async fn show(resp: reqwest::Response) -> CliResult {
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    let pretty = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or(text);
    println!("{pretty}");
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("server answered {status}"))
    }
}

pub async fn enqueue(
    config: &Path,
    server: Option<String>,
    ids: &str,
    file: Option<PathBuf>,
    request_type: Option<String>,
    payload: Option<String>,
    nopush: bool,
) -> CliResult {
    let cfg = load(config)?;
    let key = cfg.api_key().map_err(|e| e.to_string())?;
    let base = server.unwrap_or_else(|| cfg.server.public_url.clone());
    let client = api_client(&cfg)?;
    let resp = match (file, request_type) {
        (Some(f), None) => {
            let body = if f.as_os_str() == "-" {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).map_err(|e| e.to_string())?;
                v
            } else {
                std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?
            };
            let nopush = if nopush { "?nopush=1" } else { "" };
            client.put(format!("{base}/v1/enqueue/{ids}{nopush}")).bearer_auth(&key).body(body).send().await
        }
        (None, Some(rt)) => {
            let payload: serde_json::Value = match payload {
                Some(p) => serde_json::from_str(&p).map_err(|e| format!("--payload is not JSON: {e}"))?,
                None => serde_json::json!({}),
            };
            let targets: Vec<&str> = ids.split(',').collect();
            let body = serde_json::json!({ "request_type": rt, "targets": targets, "payload": payload, "nopush": nopush });
            client.post(format!("{base}/v1/commands")).bearer_auth(&key).json(&body).send().await
        }
        _ => return Err("give a command plist FILE or --request-type".into()),
    };
    show(resp.map_err(|e| e.to_string())?).await
}

pub async fn push(config: &Path, server: Option<String>, ids: &str) -> CliResult {
    let cfg = load(config)?;
    let key = cfg.api_key().map_err(|e| e.to_string())?;
    let base = server.unwrap_or_else(|| cfg.server.public_url.clone());
    let resp = api_client(&cfg)?.post(format!("{base}/v1/push/{ids}")).bearer_auth(&key).send().await.map_err(|e| e.to_string())?;
    show(resp).await
}

/// A push service on the configured database with no APNs client, for certificate commands.
async fn offline_push_service(config: &Path) -> Result<mdm::push::PushService, String> {
    let cfg = load(config)?;
    let store = mdm::store::Store::connect(&cfg.database.url, 2).map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    mdm::server::push_service(&cfg, store, std::sync::Arc::new(mdm::push::Offline), mdm::queue::Waker::default()).map_err(|e| e.to_string())
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> CliResult {
    println!("{}", serde_json::to_string_pretty(v).map_err(|e| e.to_string())?);
    Ok(())
}

pub async fn push_cert_import(config: &Path, file: &Path, password: Option<String>, key: Option<PathBuf>, force: bool) -> CliResult {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut data = read(file)?;
    if let Some(k) = key {
        data.push(b'\n');
        data.extend(read(&k)?);
    }
    let svc = offline_push_service(config).await?;
    let imported = svc.import(&data, password.as_deref(), mdm::store::push::TopicChange::forced(force)).await.map_err(|e| e.to_string())?;
    print_json(&imported)
}

pub async fn push_cert_list(config: &Path) -> CliResult {
    let svc = offline_push_service(config).await?;
    print_json(&svc.certs().await.map_err(|e| e.to_string())?)
}

pub async fn push_cert_remove(config: &Path, topic: &str) -> CliResult {
    let svc = offline_push_service(config).await?;
    if svc.delete(topic).await.map_err(|e| e.to_string())? {
        println!("removed the push certificate of {topic}");
        Ok(())
    } else {
        Err(format!("no push certificate for topic {topic}"))
    }
}

/// Asks the admin API for `n` one-time SCEP challenges.
async fn one_time_challenges(cfg: &Config, base: &str, n: usize) -> Result<Vec<String>, String> {
    let key = cfg.api_key().map_err(|e| e.to_string())?;
    let client = api_client(cfg)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = client
            .post(format!("{base}/v1/scep/challenges"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "note": "mdm sim" }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("creating a SCEP challenge: {} {}", r.status(), r.text().await.unwrap_or_default()));
        }
        let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
        out.push(v["challenge"].as_str().ok_or("no challenge in the answer")?.to_string());
    }
    Ok(out)
}

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
    /// Connection loops after enrolling.
    pub loops: usize,
    /// Seconds between loops.
    pub interval: u64,
    /// Topic devices report (not with OTA: the MDM payload decides).
    pub topic: String,
    /// SCEP challenge.
    pub challenge: Option<String>,
    /// Enroll over the air.
    pub enroll_ota: bool,
    /// Enrollment token for OTA.
    pub token: Option<String>,
    /// Device CA (cert, key) for OTA.
    pub device_ca: Option<Vec<PathBuf>>,
}

/// `mdm sim`: enrolls a fleet (over SCEP, or over the air) and runs connection loops.
pub async fn sim(config: &Path, a: SimArgs) -> CliResult {
    if a.enroll_ota {
        return sim_ota(config, a).await;
    }
    sim_scep(config, a.server, a.devices, a.concurrency, &a.transport, a.loops, a.interval, a.topic, a.challenge).await
}

async fn run_loops(fleet: &mut Fleet, loops: usize, interval: u64, concurrency: usize) {
    for i in 0..loops {
        if i > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
        }
        let s = fleet.connect(concurrency).await;
        println!("loop {}: {} device(s) connected, {} command(s) handled, {} error(s) in {:.2?}", i + 1, s.ok, s.commands, s.errors, s.elapsed);
        if let Some(e) = &s.first_error {
            println!("  first error: {e}");
        }
    }
}

async fn sim_ota(config: &Path, a: SimArgs) -> CliResult {
    let cfg = load(config)?;
    let base = a.server.unwrap_or_else(|| cfg.server.public_url.clone());
    let device_ca = match &a.device_ca {
        Some(paths) if paths.len() == 2 => mdm::pki::Ca::load(&paths[0], &paths[1]).map_err(|e| format!("--device-ca: {e}"))?,
        _ => mdm::pki::Ca::generate("Simulated iPhone Device CA").map_err(|e| e.to_string())?,
    };
    let token = match a.token {
        Some(t) => t,
        None => {
            let key = cfg.api_key().map_err(|e| e.to_string())?;
            let r = api_client(&cfg)?
                .post(format!("{base}/v1/enrollment-tokens"))
                .bearer_auth(&key)
                .json(&serde_json::json!({ "unlimited": true, "expires_in": "1h", "note": "mdm sim --enroll-ota" }))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!("creating an enrollment token: {} {}", r.status(), r.text().await.unwrap_or_default()));
            }
            let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
            v["token"].as_str().ok_or("no token in the answer")?.to_string()
        }
    };
    let enroller = mdm_sim::ota::OtaEnroller::new(&base, server_ca(&cfg), device_ca).map_err(|e| e.to_string())?;
    let (mut fleet, s) = enroller.enroll_fleet(a.devices, a.concurrency, &mdm_sim::ota::Login::Token(token)).await;
    println!("enrolled {} device(s) over the air in {:.2?} ({:.1}/s), {} error(s)", s.ok, s.elapsed, s.rate(), s.errors);
    if let Some(e) = &s.first_error {
        println!("  first error: {e}");
    }
    for d in fleet.devices.iter().take(5) {
        println!("  {}  serial {}", d.udid, d.serial);
    }
    run_loops(&mut fleet, a.loops, a.interval, a.concurrency).await;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sim_scep(
    config: &Path,
    server: Option<String>,
    devices: usize,
    concurrency: usize,
    transport: &str,
    loops: usize,
    interval: u64,
    topic: String,
    challenge: Option<String>,
) -> CliResult {
    let cfg = load(config)?;
    let transport = match transport {
        "mtls" => Transport::Mtls,
        "signature" => Transport::Signature,
        t => match t.strip_prefix("header:") {
            Some(h) if !h.is_empty() => Transport::Header(h.to_string()),
            _ => return Err(format!("unknown transport {t:?}: use mtls, signature or header:NAME")),
        },
    };
    let base = server.unwrap_or_else(|| cfg.server.public_url.clone());
    // Identities come over SCEP, as on a real device: with the given or configured static
    // challenge, else with one-time challenges made through the admin API.
    let challenges = match challenge.or_else(|| Some(cfg.scep.challenge.clone()).filter(|c| !c.is_empty())) {
        Some(c) => vec![c],
        None => one_time_challenges(&cfg, &base, devices).await?,
    };
    let scep_url = format!("{base}{}", cfg.scep.path);
    let endpoint = Endpoint::new(base, transport, server_ca(&cfg), topic);
    let t = std::time::Instant::now();
    let mut fleet = Fleet::build_scep(devices, &scep_url, &challenges, endpoint, concurrency).await.map_err(|e| e.to_string())?;
    println!("{devices} identities over SCEP in {:.2?}", t.elapsed());
    let s = fleet.enroll(concurrency).await;
    println!("enrolled {} device(s) in {:.2?} ({:.0}/s), {} error(s)", s.ok, s.elapsed, s.rate(), s.errors);
    if let Some(e) = &s.first_error {
        println!("  first error: {e}");
    }
    for d in fleet.devices.iter().take(5) {
        println!("  {}  serial {}", d.udid, d.serial);
    }
    run_loops(&mut fleet, loops, interval, concurrency).await;
    Ok(())
}

/// Reads a profile file: `.json` with Apple's keys, anything else as a `.mobileconfig` (plain
/// or signed). All the server's checks run.
fn read_profile(file: &Path) -> Result<mdm::profiles::input::Submitted, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let declared_json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    mdm::profiles::input::from_bytes(&bytes, declared_json).map_err(|e| match e {
        mdm::profiles::input::InputError::Invalid(issues) => {
            let lines: Vec<String> = issues.iter().map(|i| format!("  {i}")).collect();
            format!("{} is not valid:\n{}", file.display(), lines.join("\n"))
        }
        other => format!("{}: {other}", file.display()),
    })
}

fn print_warnings(sub: &mdm::profiles::input::Submitted) {
    for w in &sub.warnings {
        eprintln!("  {w}");
    }
}

fn write_out(out: Option<&Path>, bytes: &[u8]) -> CliResult {
    match out {
        Some(p) => std::fs::write(p, bytes).map_err(|e| format!("cannot write {}: {e}", p.display())),
        None => {
            use std::io::Write;
            std::io::stdout().write_all(bytes).map_err(|e| e.to_string())
        }
    }
}

/// `mdm profile validate FILE`.
pub fn profile_validate(file: &Path) -> CliResult {
    let sub = read_profile(file)?;
    print_warnings(&sub);
    println!(
        "{}: valid ({} payloads, {} warnings)",
        file.display(),
        sub.dict.get("PayloadContent").and_then(|v| v.as_array()).map_or(0, Vec::len),
        sub.warnings.len()
    );
    Ok(())
}

/// `mdm profile build FILE [-o OUT]`: validated XML `.mobileconfig`.
pub fn profile_build(file: &Path, out: Option<&Path>) -> CliResult {
    let sub = read_profile(file)?;
    print_warnings(&sub);
    let xml = mdm_profiles::profile::to_xml(&plist::Value::Dictionary(sub.dict)).map_err(|e| e.to_string())?;
    write_out(out, &xml)
}

/// `mdm profile sign FILE [-o OUT]`: validated and signed with the given identity, or else the
/// configured profile signing identity.
pub fn profile_sign(config: &Path, file: &Path, out: Option<&Path>, cert: Option<PathBuf>, key: Option<PathBuf>, chain: Option<PathBuf>) -> CliResult {
    let sub = read_profile(file)?;
    print_warnings(&sub);
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let signer = match (cert, key) {
        (Some(c), Some(k)) => {
            let chain = match &chain {
                Some(p) => read(p)?,
                None => Vec::new(),
            };
            mdm_profiles::cms::Signer::from_pem(&read(&c)?, &read(&k)?, &chain).map_err(|e| e.to_string())?
        }
        (None, None) => {
            let mut cfg = load(config)?;
            cfg.profiles.sign = true;
            if chain.is_some() {
                cfg.profiles.signing_chain = chain;
            }
            mdm::server::profile_signer(&cfg).map_err(|e| e.to_string())?.ok_or("no signing identity configured: give --cert and --key")?
        }
        _ => return Err("--cert and --key go together".into()),
    };
    let xml = mdm_profiles::profile::to_xml(&plist::Value::Dictionary(sub.dict)).map_err(|e| e.to_string())?;
    let signed = signer.sign(&xml).map_err(|e| e.to_string())?;
    eprintln!("signed by {}", mdm_profiles::cms::subject_line(signer.cert()));
    write_out(out, &signed)
}
