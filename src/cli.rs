//! Implementations of the CLI subcommands. API-calling commands talk to the admin API over
//! HTTPS with the key from the configuration, exactly as any other API client would.

use std::path::{Path, PathBuf};

use mdm::config::Config;
use mdm::init::{InitOptions, Step};

/// A CLI failure, printed as one line.
pub type CliResult = Result<(), String>;

pub fn init(config: &Path, dir: PathBuf, hostname: String, port: u16, ca_bits: u32) -> CliResult {
    let steps = mdm::init::run(&InitOptions { dir, hostname, config: config.to_path_buf(), port, ca_bits }).map_err(|e| e.to_string())?;
    for s in &steps {
        match s {
            Step::Created(p) => println!("created {}", p.display()),
            Step::Kept(p) => println!("kept    {} (already present)", p.display()),
        }
    }
    // A configuration from before the development push: the new certificate is not used.
    let new_push_cert = steps.iter().any(|s| matches!(s, Step::Created(p) if p.ends_with(mdm::init::DEV_PUSH_FILE)));
    if new_push_cert && steps.contains(&Step::Kept(config.to_path_buf())) && load(config).is_ok_and(|c| !c.push.development) {
        println!(
            "note: {} has no development push (push.development), so the local lab cannot wake devices; remove it and run `mdm init` again to rewrite it",
            config.display()
        );
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
    let everywhere = server.local_addr.ip().is_unspecified();
    println!(
        "mdm listening on {scheme}://{}{}  (config {})",
        server.local_addr,
        if everywhere { " — every network interface (server.listen)" } else { "" },
        config.display()
    );
    println!("  public URL   : {}  (server.public_url: what devices and the CLI use)", cfg.server.public_url);
    println!("  check-in URL : {}/mdm/checkin", cfg.server.public_url);
    println!("  server URL   : {}/mdm/connect", cfg.server.public_url);
    println!("  enrollment   : {}/enroll", cfg.server.public_url);
    println!(
        "  admin API    : {}/v1/devices  (key in {})",
        cfg.server.public_url,
        cfg.api.key_file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "MDM_API_KEY".into())
    );
    println!("  database     : {:?}", mdm::store::Backend::from_url(&cfg.database.url));
    if cfg.push.development {
        println!("  push         : DEVELOPMENT — to the mock APNs of `mdm sim` at {}, never to Apple; real devices are not woken", cfg.push.url);
    } else {
        println!("  push         : {}", cfg.push.url);
    }
    if let Some(warning) = mdm::config::public_url_mismatch(&cfg.server.public_url, server.local_addr, cfg.server.plain_http) {
        tracing::warn!("{warning}");
        println!("  WARNING      : {warning}");
    }
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

pub(crate) fn server_ca(cfg: &Config) -> Option<Vec<u8>> {
    cfg.ca.cert.as_ref().and_then(|p| std::fs::read(p).ok())
}

/// The admin API as the CLI reaches it: the server URL (`--server`, else `server.public_url`
/// from the configuration the server reads too), the key and an HTTPS client trusting the
/// configured CA. Failures say which URL and which configuration file they concern.
pub(crate) struct Api {
    client: reqwest::Client,
    /// Base URL, without a trailing slash.
    pub base: String,
    /// The key, or why there is none (commands that may work without it, like `mdm sim` with
    /// a static challenge and a token, get a keyless client).
    key: Result<String, String>,
    /// Where `base` came from, for messages.
    origin: String,
}

impl Api {
    /// The API for `config`, at `server` when given.
    pub fn new(config: &Path, cfg: &Config, server: Option<String>) -> Result<Api, String> {
        let api = Api::keyless(config, cfg, server)?;
        api.key.as_ref().map_err(Clone::clone)?;
        Ok(api)
    }

    /// The API for `config` even when no admin key is configured; calls then go without one
    /// and a refusal says why.
    pub fn keyless(config: &Path, cfg: &Config, server: Option<String>) -> Result<Api, String> {
        let key = cfg.api_key().map_err(|e| format!("{e} (config {})", config.display()));
        let origin = match &server {
            Some(_) => "--server".to_string(),
            None => format!("server.public_url in {}", config.display()),
        };
        let base = server.unwrap_or_else(|| cfg.server.public_url.clone()).trim_end_matches('/').to_string();
        Ok(Api { client: api_client(cfg)?, base, key, origin })
    }

    /// `GET|POST|PUT|DELETE base+path` with the key.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.client.request(method, format!("{}{path}", self.base));
        match &self.key {
            Ok(key) => req.bearer_auth(key),
            Err(_) => req,
        }
    }

    /// Sends, turning a failure to reach the server into a message that says where and what to
    /// check.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, String> {
        req.send().await.map_err(|e| self.unreachable(&e))
    }

    /// Sends and reads the answer: its status and its JSON (a text answer as a JSON string).
    pub async fn answer(&self, req: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, serde_json::Value), String> {
        let resp = self.send(req).await?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.unreachable(&e))?;
        Ok((status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.trim().to_string()))))
    }

    /// Sends and reads a JSON answer; a non-2xx answer is an error with the server's message.
    pub async fn json(&self, req: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
        let (status, value) = self.answer(req).await?;
        if status.is_success() {
            Ok(value)
        } else {
            let message = value.get("error").and_then(|m| m.as_str()).map(str::to_string).unwrap_or_else(|| value.to_string());
            match &self.key {
                Err(why) if status == reqwest::StatusCode::UNAUTHORIZED => Err(format!("server answered {status}: {message} — no admin API key: {why}")),
                _ => Err(format!("server answered {status}: {message}")),
            }
        }
    }

    /// `GET path` as JSON.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, String> {
        self.json(self.request(reqwest::Method::GET, path)).await
    }

    fn unreachable(&self, e: &reqwest::Error) -> String {
        let cause = root_cause(e);
        let hint = if e.is_connect() { " — is `mdm serve` running, and on this URL?" } else { "" };
        format!("cannot reach the server at {} ({}): {cause}{hint}", self.base, self.origin)
    }
}

/// The innermost cause of an error ("Connection refused (os error 111)"), which is what a
/// person needs; reqwest's own message is only "error sending request for url".
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

pub(crate) fn api_client(cfg: &Config) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().use_rustls_tls();
    if let Some(pem) = server_ca(cfg) {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?);
    }
    b.build().map_err(|e| e.to_string())
}

/// Prints an answer (pretty JSON when it is JSON); a non-2xx answer is an error.
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

/// Where an assignment goes (`mdm profile assign`, `mdm app assign`): devices and groups, or
/// with `--remove` where it is taken away.
#[derive(Debug, clap::Args)]
pub struct AssignTargets {
    /// Device id (repeatable).
    #[arg(long = "device")]
    pub devices: Vec<String>,
    /// Group name (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Unassign instead.
    #[arg(long)]
    pub remove: bool,
}

/// Assigns (or unassigns) `subject` (`/v1/profiles/ID`, `/v1/apps/ID`) and prints what the
/// server did; fails when a device or group is unknown (nothing is assigned to those).
pub(crate) async fn assign(api: &Api, subject: &str, t: AssignTargets) -> CliResult {
    let action = if t.remove { "unassign" } else { "assign" };
    let body = serde_json::json!({ "devices": t.devices, "groups": t.groups });
    let answer = api.json(api.request(reqwest::Method::POST, &format!("{subject}/{action}")).json(&body)).await?;
    print_json(&answer)?;
    let unknown: Vec<String> = ["unknown_devices", "unknown_groups"]
        .iter()
        .flat_map(|k| answer[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!("not assigned to unknown devices or groups: {}", unknown.join(", ")))
    }
}

/// What `mdm enqueue` was asked to do.
#[derive(Debug)]
pub struct EnqueueArgs {
    /// Server URL (default: server.public_url).
    pub server: Option<String>,
    /// Comma-separated enrollment ids.
    pub ids: String,
    /// Raw command plist file ('-' = stdin).
    pub file: Option<PathBuf>,
    /// Typed command request type.
    pub request_type: Option<String>,
    /// JSON payload for the typed command.
    pub payload: Option<String>,
    /// No push.
    pub nopush: bool,
    /// Wait this long for every target's answer.
    pub wait: Option<std::time::Duration>,
}

/// `mdm enqueue`: queues the command through the admin API; with `--wait`, waits until every
/// target answered and prints the answers. Fails when a target is unknown or not enrolled,
/// answered with an error, or did not answer in time.
pub async fn enqueue(config: &Path, a: EnqueueArgs) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, a.server)?;
    let req = match (a.file, a.request_type) {
        (Some(f), None) => {
            let body = if f.as_os_str() == "-" {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).map_err(|e| e.to_string())?;
                v
            } else {
                std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?
            };
            let nopush = if a.nopush { "?nopush=1" } else { "" };
            api.request(reqwest::Method::PUT, &format!("/v1/enqueue/{}{nopush}", a.ids)).body(body)
        }
        (None, Some(rt)) => {
            let payload: serde_json::Value = match a.payload {
                Some(p) => serde_json::from_str(&p).map_err(|e| format!("--payload is not JSON: {e}"))?,
                None => serde_json::json!({}),
            };
            let targets: Vec<&str> = a.ids.split(',').collect();
            let body = serde_json::json!({ "request_type": rt, "targets": targets, "payload": payload, "nopush": a.nopush });
            api.request(reqwest::Method::POST, "/v1/commands").json(&body)
        }
        _ => return Err("give a command plist FILE or --request-type".into()),
    };
    // A 404 with the per-target outcome (no target known) is reported like a partial success.
    let (status, answer) = api.answer(req).await?;
    if !status.is_success() && answer.get("queued").is_none() {
        return Err(format!("server answered {status}: {}", answer.get("error").and_then(|m| m.as_str()).map_or_else(|| answer.to_string(), str::to_string)));
    }
    print_json(&answer)?;
    let missing: Vec<String> = ["unknown", "not_enrolled"]
        .iter()
        .flat_map(|k| answer[*k].as_array().cloned().unwrap_or_default().into_iter().map(move |v| format!("{} ({k})", v.as_str().unwrap_or("?"))))
        .collect();
    if !missing.is_empty() {
        return Err(format!("not queued for: {}", missing.join(", ")));
    }
    let Some(wait) = a.wait else { return Ok(()) };
    // One command per target for commands that carry a device's secret, else one for all.
    let uuids: Vec<String> = match answer["command_uuids"].as_array() {
        Some(all) => all.iter().filter_map(|u| u.as_str().map(str::to_string)).collect(),
        None => vec![answer["command_uuid"].as_str().ok_or("the answer has no command_uuid")?.to_string()],
    };
    let deadline = std::time::Instant::now() + wait;
    let mut failed = Vec::new();
    for uuid in uuids {
        if let Err(e) = crate::device_cli::wait_for_answers(&api, &uuid, deadline, wait).await {
            failed.push(e);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// `mdm push IDS`: pushes now; fails unless APNs accepted every push.
pub async fn push(config: &Path, server: Option<String>, ids: &str) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    let answer = api.json(api.request(reqwest::Method::POST, &format!("/v1/push/{ids}"))).await?;
    print_json(&answer)?;
    let failed: Vec<String> = answer["status"]
        .as_object()
        .map(|m| m.iter().filter(|(_, o)| o["result"] != "sent").map(|(id, o)| format!("{id}: {}", o["result"].as_str().unwrap_or("?"))).collect())
        .unwrap_or_default();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("not pushed: {}", failed.join(", ")))
    }
}

/// A push service on the configured database with no APNs client, for certificate commands.
async fn offline_push_service(config: &Path) -> Result<mdm::push::PushService, String> {
    let cfg = load(config)?;
    let store = mdm::store::Store::connect(&cfg.database.url, 2).map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    mdm::server::push_service(&cfg, store, std::sync::Arc::new(mdm::push::Offline), mdm::queue::Waker::default()).map_err(|e| e.to_string())
}

/// One URL path segment, percent-encoded (ids and names go into API paths).
pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
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
    let certs = svc.certs().await.map_err(|e| e.to_string())?;
    if certs.is_empty() {
        println!("no push certificates; import the one from Apple's Push Certificates Portal with `mdm push-cert import FILE.p12 --password …`");
        return Ok(());
    }
    print_json(&certs)
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
