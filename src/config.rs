//! One `Config` read from a TOML file, with `MDM_<SECTION>_<KEY>` environment overrides
//! (e.g. `MDM_DATABASE_URL`, `MDM_SERVER_LISTEN`, `MDM_API_KEY`). Relative paths in the file are
//! relative to the file's directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML (after overrides) is not a valid configuration.
    #[error("invalid configuration {path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP listener.
    pub server: ServerConfig,
    /// Database.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Device identity.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// Admin API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Check-in behaviour.
    #[serde(default)]
    pub checkin: CheckinConfig,
    /// The issuing CA (dev CA from `mdm init`).
    #[serde(default)]
    pub ca: CaConfig,
    /// APNs push delivery.
    #[serde(default)]
    pub push: PushConfig,
    /// The key sealing secrets kept in the database.
    #[serde(default)]
    pub secrets: SecretsConfig,
    /// The SCEP server.
    #[serde(default)]
    pub scep: ScepConfig,
    /// Profile signing and encryption.
    #[serde(default)]
    pub profiles: ProfilesConfig,
    /// Over-the-air enrollment: page, tokens, profile service, blueprints.
    #[serde(default)]
    pub enroll: EnrollConfig,
    /// Managed apps.
    #[serde(default)]
    pub apps: AppsConfig,
    /// How long history is kept.
    #[serde(default)]
    pub retention: RetentionConfig,
}

/// `[retention]`: how much history the database keeps. Every replica sweeps every `interval`;
/// DeclarativeManagement messages are also trimmed as each arrives, so no device can grow the
/// database between sweeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Command results, finished queue rows (and commands no row needs), app events and
    /// declarative messages older than this are deleted; `0s` = no age limit.
    #[serde(default = "default_max_age", with = "humantime_serde")]
    pub max_age: Duration,
    /// Most command results, finished queue rows and app events kept per enrollment.
    #[serde(default = "default_per_enrollment")]
    pub per_enrollment: u32,
    /// Most DeclarativeManagement messages kept per enrollment.
    #[serde(default = "default_declarative_per_enrollment")]
    pub declarative_per_enrollment: u32,
    /// How often each replica sweeps.
    #[serde(default = "default_sweep_interval", with = "humantime_serde")]
    pub interval: Duration,
}

fn default_max_age() -> Duration {
    Duration::from_secs(90 * 86_400)
}

fn default_per_enrollment() -> u32 {
    500
}

fn default_declarative_per_enrollment() -> u32 {
    20
}

fn default_sweep_interval() -> Duration {
    Duration::from_secs(3600)
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            max_age: default_max_age(),
            per_enrollment: default_per_enrollment(),
            declarative_per_enrollment: default_declarative_per_enrollment(),
            interval: default_sweep_interval(),
        }
    }
}

/// `[apps]`: managed apps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppsConfig {
    /// A device whose installed apps were not checked for this long gets a
    /// ManagedApplicationList; a required app missing from it is installed again. 0 = never.
    #[serde(default = "default_audit_interval", with = "humantime_serde")]
    pub audit_interval: Duration,
}

impl Default for AppsConfig {
    fn default() -> Self {
        AppsConfig { audit_interval: default_audit_interval() }
    }
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, e.g. `0.0.0.0:8443`.
    pub listen: String,
    /// The URL devices and admins use, e.g. `https://mdm.example.org:8443`.
    pub public_url: String,
    /// TLS certificate chain (PEM). Required unless `plain_http`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP (behind a TLS-terminating proxy that forwards the client certificate).
    #[serde(default)]
    pub plain_http: bool,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// On SIGTERM/SIGINT, how long requests in flight may take to finish.
    #[serde(default = "default_drain", with = "humantime_serde")]
    pub drain_timeout: Duration,
}

fn default_drain() -> Duration {
    Duration::from_secs(20)
}

fn default_max_body() -> usize {
    8 * 1024 * 1024
}

/// `[database]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://...` or a SQLite file path (`sqlite://path` also accepted).
    pub url: String,
    /// Pool size (SQLite is capped at 8).
    #[serde(default = "default_pool")]
    pub pool_size: u32,
}

fn default_pool() -> u32 {
    16
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: "mdm.db".into(), pool_size: default_pool() }
    }
}

/// Which device certificates are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustMode {
    /// Only certificates that chain to `identity.ca_certs`.
    Ca,
    /// Any certificate (development only; still bound per device).
    Any,
}

/// `[identity]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// `ca` (default) or `any`.
    #[serde(default = "default_trust")]
    pub trust: TrustMode,
    /// CA certificates (PEM files) device identity certificates must chain to.
    #[serde(default)]
    pub ca_certs: Vec<PathBuf>,
    /// Request header a TLS-terminating proxy puts the client certificate in (nginx
    /// `$ssl_client_escaped_cert` or RFC 9440 `Client-Cert`); empty = not trusted.
    #[serde(default)]
    pub client_cert_header: String,
    /// Accept the `Mdm-Signature` header (enrollment profile SignMessage=true).
    #[serde(default = "yes")]
    pub mdm_signature: bool,
    /// Ask for client certificates in the TLS handshake.
    #[serde(default = "yes")]
    pub mtls: bool,
}

fn default_trust() -> TrustMode {
    TrustMode::Ca
}

fn yes() -> bool {
    true
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig { trust: TrustMode::Ca, ca_certs: Vec::new(), client_cert_header: String::new(), mdm_signature: true, mtls: true }
    }
}

/// `[api]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// File holding the bootstrap admin key.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The key itself (prefer `key_file`; `MDM_API_KEY` sets this).
    #[serde(default)]
    pub key: Option<String>,
    /// Failed authentications per client address within `auth_window` before the client is
    /// held off (429 with Retry-After); 0 = no limit.
    #[serde(default = "default_auth_failures")]
    pub auth_failures: u32,
    /// The window of `auth_failures`.
    #[serde(default = "default_auth_window", with = "humantime_serde")]
    pub auth_window: Duration,
    /// Header with the client's address behind a proxy (its last entry), e.g. `X-Forwarded-For`.
    #[serde(default)]
    pub client_ip_header: String,
}

fn default_auth_failures() -> u32 {
    10
}

fn default_auth_window() -> Duration {
    Duration::from_secs(60)
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { key_file: None, key: None, auth_failures: default_auth_failures(), auth_window: default_auth_window(), client_ip_header: String::new() }
    }
}

/// `[checkin]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckinConfig {
    /// Answer UserAuthenticate with an empty (accepting) response instead of 410.
    #[serde(default)]
    pub user_authenticate: bool,
}

/// `[ca]`: the issuing CA's certificate and key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaConfig {
    /// CA certificate (PEM).
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// CA private key (PEM).
    #[serde(default)]
    pub key: Option<PathBuf>,
}

/// `[push]`: APNs endpoint, trust, connection pool and re-push schedule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// APNs provider API base URL (`https://api.push.apple.com`; any URL for tests or a relay).
    #[serde(default = "default_apns_url")]
    pub url: String,
    /// Extra CA certificates (PEM files) trusted for the APNs server.
    #[serde(default)]
    pub ca_certs: Vec<PathBuf>,
    /// Also trust the operating system's root store.
    #[serde(default = "yes")]
    pub system_roots: bool,
    /// HTTP/2 connections per push certificate.
    #[serde(default = "default_connections")]
    pub connections: usize,
    /// Most pushes in flight at once.
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// Delays between re-pushes to a device whose commands wait (the last one repeats).
    #[serde(default = "default_retry_schedule")]
    pub retry_schedule: Vec<humantime_serde::Serde<Duration>>,
    /// How often each replica looks for due pushes (enqueues on this replica wake it at once).
    #[serde(default = "default_poll", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long APNs should keep trying to deliver a push (`apns-expiration`).
    #[serde(default = "default_expiration", with = "humantime_serde")]
    pub expiration: Duration,
    /// Timeout of one push request.
    #[serde(default = "default_push_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Warn when a push certificate expires within this long.
    #[serde(default = "default_expiry_warning", with = "humantime_serde")]
    pub expiry_warning: Duration,
}

fn default_apns_url() -> String {
    "https://api.push.apple.com".into()
}
fn default_connections() -> usize {
    2
}
fn default_in_flight() -> usize {
    1000
}
fn default_retry_schedule() -> Vec<humantime_serde::Serde<Duration>> {
    [60, 300, 1800, 4 * 3600].into_iter().map(|s| Duration::from_secs(s).into()).collect()
}
fn default_poll() -> Duration {
    Duration::from_secs(2)
}
fn default_expiration() -> Duration {
    Duration::from_secs(86_400)
}
fn default_push_timeout() -> Duration {
    Duration::from_secs(15)
}
fn default_expiry_warning() -> Duration {
    Duration::from_secs(30 * 86_400)
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            url: default_apns_url(),
            ca_certs: Vec::new(),
            system_roots: true,
            connections: default_connections(),
            max_in_flight: default_in_flight(),
            retry_schedule: default_retry_schedule(),
            poll_interval: default_poll(),
            expiration: default_expiration(),
            timeout: default_push_timeout(),
            expiry_warning: default_expiry_warning(),
        }
    }
}

impl PushConfig {
    /// The re-push delays as plain durations (never empty).
    pub fn retry_delays(&self) -> Vec<Duration> {
        let v: Vec<Duration> = self.retry_schedule.iter().map(|d| **d).collect();
        if v.is_empty() {
            default_retry_schedule().into_iter().map(|d| *d).collect()
        } else {
            v
        }
    }
}

/// `[scep]`: the SCEP server issuing device identity certificates with the `[ca]` CA.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScepConfig {
    /// Serve SCEP (needs `[ca]` cert and key).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// URL path of the SCEP endpoint.
    #[serde(default = "default_scep_path")]
    pub path: String,
    /// A static challenge accepted for every request (empty = only one-time challenges).
    #[serde(default)]
    pub challenge: String,
    /// Lifetime of one-time challenges made by `POST /v1/scep/challenges`.
    #[serde(default = "default_challenge_ttl", with = "humantime_serde")]
    pub challenge_ttl: Duration,
    /// Validity of issued certificates.
    #[serde(default = "default_scep_validity", with = "humantime_serde")]
    pub validity: Duration,
    /// RenewalReq is accepted (without a challenge) when the signing certificate, issued here
    /// and still valid, expires within this window; `0s` = at any time.
    #[serde(default = "default_renewal_window", with = "humantime_serde")]
    pub renewal_window: Duration,
    /// Optional RA certificate (PEM): when set, GetCACert answers RA + CA and responses are
    /// signed by the RA.
    #[serde(default)]
    pub ra_cert: Option<PathBuf>,
    /// The RA's private key (PEM).
    #[serde(default)]
    pub ra_key: Option<PathBuf>,
}

fn default_scep_path() -> String {
    "/scep".into()
}
fn default_challenge_ttl() -> Duration {
    Duration::from_secs(3600)
}
fn default_scep_validity() -> Duration {
    Duration::from_secs(365 * 86_400)
}
fn default_renewal_window() -> Duration {
    Duration::from_secs(14 * 86_400)
}

impl Default for ScepConfig {
    fn default() -> Self {
        ScepConfig {
            enabled: true,
            path: default_scep_path(),
            challenge: String::new(),
            challenge_ttl: default_challenge_ttl(),
            validity: default_scep_validity(),
            renewal_window: default_renewal_window(),
            ra_cert: None,
            ra_key: None,
        }
    }
}

/// `[profiles]`: how library profiles are sealed for each device.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesConfig {
    /// Sign profiles (CMS SignedData). Without a usable signing identity they go out unsigned
    /// and the server says so at start.
    #[serde(default = "yes")]
    pub sign: bool,
    /// Signing certificate (PEM); default: `[server] tls_cert`.
    #[serde(default)]
    pub signing_cert: Option<PathBuf>,
    /// Its private key (PEM); default: `[server] tls_key`.
    #[serde(default)]
    pub signing_key: Option<PathBuf>,
    /// Chain certificates sent with each signature (PEM); default: the `[ca]` certificate.
    #[serde(default)]
    pub signing_chain: Option<PathBuf>,
    /// Encrypt each profile to the device's identity certificate when the server has it.
    #[serde(default = "yes")]
    pub encrypt: bool,
    /// Queue a ProfileList for devices whose installed profiles were not checked for this long,
    /// so a profile removed on the device is noticed and re-sent; `0s` = never.
    #[serde(default = "default_audit_interval", with = "humantime_serde")]
    pub audit_interval: Duration,
}

fn default_audit_interval() -> Duration {
    Duration::from_secs(86_400)
}

impl Default for ProfilesConfig {
    fn default() -> Self {
        ProfilesConfig { sign: true, signing_cert: None, signing_key: None, signing_chain: None, encrypt: true, audit_interval: default_audit_interval() }
    }
}

/// How phase 2 of over-the-air enrollment checks who signed the device attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceTrust {
    /// The signer must chain to one of `enroll.device_ca_certs` (Apple's iPhone Device CA in
    /// production; a simulator's CA in tests).
    Ca,
    /// Any signer whose signature verifies (development only: nothing proves the request comes
    /// from an Apple device).
    Any,
}

/// `[enroll]`: over-the-air enrollment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollConfig {
    /// Serve the enrollment page, the profile service and `/mdm/enroll`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which signers of phase-2 device attributes are accepted.
    #[serde(default = "default_device_trust")]
    pub device_trust: DeviceTrust,
    /// PEM files of the CAs that issue device identities (Apple iPhone Device CA and its root).
    #[serde(default)]
    pub device_ca_certs: Vec<PathBuf>,
    /// Extra certificates the enrollment profile installs as trusted roots (the `[ca]`
    /// certificate is always included), e.g. the private CA of the server's TLS certificate.
    #[serde(default)]
    pub trust_certs: Vec<PathBuf>,
    /// `PayloadOrganization` of the profiles handed out.
    #[serde(default = "default_organization")]
    pub organization: String,
    /// The MDM payload's `SignMessage`: devices sign each request (`Mdm-Signature`), which works
    /// behind any proxy.
    #[serde(default = "yes")]
    pub sign_message: bool,
    /// The MDM payload's `AccessRights` (1..=8191).
    #[serde(default = "default_access_rights")]
    pub access_rights: i64,
    /// The MDM payload's `CheckOutWhenRemoved`.
    #[serde(default = "yes")]
    pub check_out_when_removed: bool,
    /// RSA key size the SCEP payloads ask devices for (1024, 2048 or 4096).
    #[serde(default = "default_key_size")]
    pub key_size: i64,
    /// How long an enrollment session (and its challenges) stays usable.
    #[serde(default = "default_session_ttl", with = "humantime_serde")]
    pub session_ttl: Duration,
    /// Failed logins allowed per client within `login_window` before it is refused.
    #[serde(default = "default_login_attempts")]
    pub login_attempts: u32,
    /// The window failed logins are counted in.
    #[serde(default = "default_login_window", with = "humantime_serde")]
    pub login_window: Duration,
    /// Header carrying the browser's address when a proxy is in front (e.g.
    /// `X-Forwarded-For`); empty: the connection's address.
    #[serde(default)]
    pub client_ip_header: String,
    /// The blueprint enrollments run when neither their token nor their user names one.
    #[serde(default = "default_blueprint")]
    pub blueprint: String,
}

fn default_device_trust() -> DeviceTrust {
    DeviceTrust::Ca
}
fn default_organization() -> String {
    "MDM".into()
}
fn default_access_rights() -> i64 {
    8191
}
fn default_key_size() -> i64 {
    2048
}
fn default_session_ttl() -> Duration {
    Duration::from_secs(3600)
}
fn default_login_attempts() -> u32 {
    5
}
fn default_login_window() -> Duration {
    Duration::from_secs(15 * 60)
}
fn default_blueprint() -> String {
    "default".into()
}

impl Default for EnrollConfig {
    fn default() -> Self {
        EnrollConfig {
            enabled: true,
            device_trust: default_device_trust(),
            device_ca_certs: Vec::new(),
            trust_certs: Vec::new(),
            organization: default_organization(),
            sign_message: true,
            access_rights: default_access_rights(),
            check_out_when_removed: true,
            key_size: default_key_size(),
            session_ttl: default_session_ttl(),
            login_attempts: default_login_attempts(),
            login_window: default_login_window(),
            client_ip_header: String::new(),
            blueprint: default_blueprint(),
        }
    }
}

/// `[secrets]`: where the key sealing database secrets comes from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// File holding the base64 key (`mdm init` writes `certs/secrets.key`).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The base64 key itself (`MDM_SECRETS_KEY`; prefer `key_file`).
    #[serde(default)]
    pub key: Option<String>,
}

/// The shortest admin API key accepted, wherever it comes from.
pub const MIN_API_KEY: usize = 16;

impl Config {
    /// Reads `path` and applies `MDM_*` overrides from the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Config::from_toml(&text, path, std::env::vars())
    }

    /// Parses TOML text, applies `MDM_<SECTION>_<KEY>` overrides from `env`, and makes relative
    /// paths relative to `path`'s directory.
    pub fn from_toml(text: &str, path: &Path, env: impl Iterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("MDM_") else { continue };
            let rest = rest.to_ascii_lowercase();
            let Some((section, key)) = rest.split_once('_') else { continue };
            if !["server", "database", "identity", "api", "checkin", "ca", "push", "secrets", "scep", "profiles", "enroll", "apps", "retention"]
                .contains(&section)
            {
                continue;
            }
            let table = doc.entry(section.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(table) = table.as_table_mut() else {
                return Err(invalid(format!("[{section}] must be a table")));
            };
            table.insert(key.to_string(), env_value(&value));
        }
        let mut cfg: Config = toml::Value::Table(doc).try_into().map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        cfg.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        cfg.check_lifetimes().map_err(|e| invalid(e.to_string()))?;
        Ok(cfg)
    }

    /// Checks the configured lifetimes against [`crate::lifetime`]'s maxima (a value past them
    /// would overflow date arithmetic later, or mean nothing sensible).
    pub fn check_lifetimes(&self) -> Result<(), crate::lifetime::LifetimeError> {
        use crate::lifetime::{check, MAX_CHALLENGE, MAX_VALIDITY};
        check("scep.challenge_ttl", self.scep.challenge_ttl, MAX_CHALLENGE)?;
        check("scep.validity", self.scep.validity, MAX_VALIDITY)?;
        check("enroll.session_ttl", self.enroll.session_ttl, MAX_CHALLENGE)?;
        check("retention.interval", self.retention.interval, MAX_CHALLENGE)?;
        check("api.auth_window", self.api.auth_window, MAX_CHALLENGE)?;
        check("server.drain_timeout", self.server.drain_timeout, MAX_CHALLENGE)?;
        for (what, d) in [
            ("scep.renewal_window", self.scep.renewal_window),
            ("profiles.audit_interval", self.profiles.audit_interval),
            ("apps.audit_interval", self.apps.audit_interval),
            ("push.expiry_warning", self.push.expiry_warning),
            ("retention.max_age", self.retention.max_age),
        ] {
            // Zero is allowed here (it switches the feature off or means "any time").
            if !d.is_zero() {
                check(what, d, MAX_VALIDITY)?;
            }
        }
        for d in &self.push.retry_schedule {
            check("push.retry_schedule", **d, MAX_CHALLENGE)?;
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !base.as_os_str().is_empty() {
                *p = base.join(&*p);
            }
        };
        for p in [
            &mut self.server.tls_cert,
            &mut self.server.tls_key,
            &mut self.api.key_file,
            &mut self.ca.cert,
            &mut self.ca.key,
            &mut self.secrets.key_file,
            &mut self.scep.ra_cert,
            &mut self.scep.ra_key,
            &mut self.profiles.signing_cert,
            &mut self.profiles.signing_key,
            &mut self.profiles.signing_chain,
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
        self.identity.ca_certs.iter_mut().for_each(fix);
        self.enroll.device_ca_certs.iter_mut().for_each(fix);
        self.enroll.trust_certs.iter_mut().for_each(fix);
        self.push.ca_certs.iter_mut().for_each(fix);
        let url = &self.database.url;
        if !url.contains("://") && Path::new(url).is_relative() && !base.as_os_str().is_empty() && url != ":memory:" {
            self.database.url = base.join(url).to_string_lossy().into_owned();
        }
    }

    /// The admin API key, from `api.key` or `api.key_file`.
    pub fn api_key(&self) -> Result<String, ConfigError> {
        if let Some(k) = self.api.key.as_ref().filter(|k| !k.is_empty()) {
            if k.trim().len() < MIN_API_KEY {
                return Err(ConfigError::Invalid {
                    path: PathBuf::new(),
                    message: format!("api.key (or MDM_API_KEY) must be at least {MIN_API_KEY} characters"),
                });
            }
            return Ok(k.trim().to_string());
        }
        let Some(file) = &self.api.key_file else {
            return Err(ConfigError::Invalid { path: PathBuf::new(), message: "no admin API key: set api.key_file or MDM_API_KEY".into() });
        };
        let key = std::fs::read_to_string(file).map_err(|source| ConfigError::Read { path: file.clone(), source })?;
        let key = key.trim().to_string();
        if key.len() < MIN_API_KEY {
            return Err(ConfigError::Invalid { path: file.clone(), message: format!("admin API key must be at least {MIN_API_KEY} characters") });
        }
        Ok(key)
    }
}

impl Config {
    /// The key sealing database secrets, from `secrets.key` or `secrets.key_file`.
    pub fn secret_key(&self) -> Result<crate::secrets::SecretKey, crate::secrets::SecretsError> {
        if let Some(k) = self.secrets.key.as_ref().filter(|k| !k.trim().is_empty()) {
            return crate::secrets::SecretKey::from_base64(k);
        }
        match &self.secrets.key_file {
            Some(f) => crate::secrets::SecretKey::load(f),
            None => Err(crate::secrets::SecretsError::NotConfigured),
        }
    }
}

/// An override value: a TOML scalar/array literal when it parses as one, else a plain string.
fn env_value(v: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {v}")) {
        Ok(mut t) if v.trim_start().starts_with(['[', 't', 'f', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-']) => {
            t.remove("v").unwrap_or_else(|| toml::Value::String(v.to_string()))
        }
        _ => toml::Value::String(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "[server]\nlisten = \"127.0.0.1:8443\"\npublic_url = \"https://localhost:8443\"\ntls_cert = \"certs/server.pem\"\n";

    #[test]
    fn env_overrides_and_relative_paths() {
        let env = vec![
            ("MDM_DATABASE_URL".to_string(), "postgres://postgres@127.0.0.1/mdm".to_string()),
            ("MDM_SERVER_PLAIN_HTTP".to_string(), "true".to_string()),
            ("MDM_IDENTITY_CLIENT_CERT_HEADER".to_string(), "X-Client-Cert".to_string()),
            ("MDM_API_KEY".to_string(), "0123456789abcdef0123".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ];
        let c = Config::from_toml(MIN, Path::new("/etc/mdm/mdm.toml"), env.into_iter()).unwrap();
        assert_eq!(c.database.url, "postgres://postgres@127.0.0.1/mdm");
        assert!(c.server.plain_http);
        assert_eq!(c.identity.client_cert_header, "X-Client-Cert");
        assert_eq!(c.server.tls_cert, Some(PathBuf::from("/etc/mdm/certs/server.pem")));
        assert_eq!(c.api_key().unwrap(), "0123456789abcdef0123");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = format!("{MIN}[database]\nurl = \"x.db\"\nbogus = 1\n");
        let err = Config::from_toml(&text, Path::new("mdm.toml"), std::iter::empty()).unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }
}
