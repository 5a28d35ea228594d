//! How the server itself runs: `[server]`, `[database]`, `[api]`, `[checkin]`, `[retention]`, `[log]`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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

/// `[log]`: how log lines are written (to stderr; the level comes from `RUST_LOG`, default
/// `info`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (colours only when stderr is a terminal) or `json` (one object per line, for log
    /// shippers).
    #[serde(default)]
    pub format: LogFormat,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Why `public_url` cannot reach a server listening directly (TLS, no proxy) on `listening`,
/// if it cannot: another port or scheme, or a loopback-only listener behind a public name.
/// Behind a TLS-terminating proxy (`plain_http`) the two differ by design and nothing is said.
pub fn public_url_mismatch(public_url: &str, listening: std::net::SocketAddr, plain_http: bool) -> Option<String> {
    if plain_http {
        return None;
    }
    let Ok(url) = url::Url::parse(public_url) else {
        return Some(format!("server.public_url {public_url:?} is not a URL"));
    };
    let fix = "set server.public_url (MDM_SERVER_PUBLIC_URL) to the URL devices and admins reach this server at";
    if url.scheme() != "https" {
        return Some(format!("server.public_url {public_url} is not https:// but the server serves TLS; {fix}"));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    if port != listening.port() {
        return Some(format!(
            "server.public_url {public_url} names port {port} but the server listens on {listening}: devices and the CLI use the public URL and will not reach this server; {fix}"
        ));
    }
    let public_loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if listening.ip().is_loopback() && !public_loopback {
        return Some(format!("the server listens on {listening} only (this machine), but server.public_url is {public_url}: other machines cannot reach it; set server.listen to 0.0.0.0:{}", listening.port()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::public_url_mismatch;

    #[test]
    fn public_url_must_reach_the_listener() {
        let at = |a: &str| a.parse().unwrap();
        assert_eq!(public_url_mismatch("https://localhost:8443", at("0.0.0.0:8443"), false), None);
        assert_eq!(public_url_mismatch("https://mdm.example.org", at("0.0.0.0:443"), false), None);
        let moved = public_url_mismatch("https://localhost:8443", at("127.0.0.1:8543"), false).unwrap();
        assert!(moved.contains("port 8443") && moved.contains("127.0.0.1:8543"), "{moved}");
        assert!(public_url_mismatch("http://localhost:8443", at("0.0.0.0:8443"), false).is_some());
        assert!(public_url_mismatch("https://mdm.example.org:8443", at("127.0.0.1:8443"), false).unwrap().contains("other machines"));
        // Behind a proxy the public URL is the proxy's.
        assert_eq!(public_url_mismatch("https://mdm.example.org", at("127.0.0.1:8080"), true), None);
    }
}
