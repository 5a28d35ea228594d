//! One `Config` read from a TOML file, with `MDM_<SECTION>_<KEY>` environment overrides
//! (e.g. `MDM_DATABASE_URL`, `MDM_SERVER_LISTEN`, `MDM_API_KEY`). Relative paths in the file are
//! relative to the file's directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod compliance;
mod events;
mod fleet;
mod identity;
mod server;

pub use compliance::ComplianceConfig;
pub use events::{ConnectorsConfig, EventsConfig, OutboundConfig};
pub use fleet::{AppsConfig, DeviceTrust, EnrollConfig, ProfilesConfig, PushConfig};
pub use identity::{CaConfig, IdentityConfig, ScepConfig, SecretsConfig, TrustMode};
pub use server::{public_url_mismatch, ApiConfig, CheckinConfig, DatabaseConfig, LogConfig, LogFormat, RetentionConfig, ServerConfig};

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
    /// Log output.
    #[serde(default)]
    pub log: LogConfig,
    /// The event outbox and webhook delivery.
    #[serde(default)]
    pub events: EventsConfig,
    /// Where the server may connect to on an admin's behalf.
    #[serde(default)]
    pub outbound: OutboundConfig,
    /// Connector calls (app logouts, automations).
    #[serde(default)]
    pub connectors: ConnectorsConfig,
    /// Inventory refresh, evaluation schedule, action rate limit, OS release dates.
    #[serde(default)]
    pub compliance: ComplianceConfig,
}

/// `true`, for serde defaults of switches that are on unless turned off.
pub(crate) fn yes() -> bool {
    true
}

/// A day: the default interval of the profile and app audits.
pub(crate) fn default_audit_interval() -> Duration {
    Duration::from_secs(86_400)
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
            if ![
                "server",
                "database",
                "identity",
                "api",
                "checkin",
                "ca",
                "push",
                "secrets",
                "scep",
                "profiles",
                "enroll",
                "apps",
                "retention",
                "log",
                "events",
                "outbound",
            ]
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
        let e = &self.events;
        for (what, d) in [
            ("events.retention", e.retention),
            ("events.poll_interval", e.poll_interval),
            ("events.lease", e.lease),
            ("events.timeout", e.timeout),
            ("events.backoff_initial", e.backoff_initial),
            ("events.backoff_max", e.backoff_max),
            ("events.dead_letter_after", e.dead_letter_after),
        ] {
            check(what, d, MAX_CHALLENGE)?;
        }
        if e.batch == 0 {
            return Err(crate::lifetime::LifetimeError::Zero { what: "events.batch" });
        }
        if e.batch > 10_000 {
            return Err(crate::lifetime::LifetimeError::TooLong { what: "events.batch", max: "10000 events".into() });
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
            &mut self.push.development_cert,
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
        self.outbound.ca_certs.iter_mut().for_each(fix);
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
