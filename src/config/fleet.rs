//! What devices are sent and how they enroll: `[push]`, `[profiles]`, `[apps]`, `[enroll]`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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
    #[serde(default = "super::yes")]
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
    /// Development push: pushes go to the mock APNs that `mdm sim` runs on this machine (so
    /// `url` must be `https://127.0.0.1:PORT`), with the development push certificate in
    /// `development_cert`, which `mdm serve` imports at start. Real devices are never woken.
    #[serde(default)]
    pub development: bool,
    /// The development push certificate and key (PEM) `mdm init` writes; only used, and only
    /// accepted, with `development = true`.
    #[serde(default)]
    pub development_cert: Option<PathBuf>,
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
            development: false,
            development_cert: None,
        }
    }
}

impl PushConfig {
    /// With `development`, checks that pushes stay on this machine: `url` must be `https://`
    /// on 127.0.0.1, where `mdm sim` binds the mock (not `localhost`, which may resolve to ::1
    /// first); returns its port.
    pub fn development_port(&self) -> Result<u16, String> {
        let bad = || {
            format!(
                "push.development = true sends pushes to the mock APNs `mdm sim` runs on this machine: push.url must be https://127.0.0.1:PORT (it is {:?}); \
                 for real devices set push.development = false and push.url = \"https://api.push.apple.com\"",
                self.url
            )
        };
        let url = url::Url::parse(&self.url).map_err(|_| bad())?;
        let loopback = matches!(url.host(), Some(url::Host::Ipv4(a)) if a == std::net::Ipv4Addr::LOCALHOST);
        if url.scheme() != "https" || !loopback {
            return Err(bad());
        }
        url.port_or_known_default().ok_or_else(bad)
    }

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

/// `[profiles]`: how library profiles are sealed for each device.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesConfig {
    /// Sign profiles (CMS SignedData). Without a usable signing identity they go out unsigned
    /// and the server says so at start.
    #[serde(default = "super::yes")]
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
    #[serde(default = "super::yes")]
    pub encrypt: bool,
    /// Queue a ProfileList for devices whose installed profiles were not checked for this long,
    /// so a profile removed on the device is noticed and re-sent; `0s` = never.
    #[serde(default = "super::default_audit_interval", with = "humantime_serde")]
    pub audit_interval: Duration,
}

impl Default for ProfilesConfig {
    fn default() -> Self {
        ProfilesConfig {
            sign: true,
            signing_cert: None,
            signing_key: None,
            signing_chain: None,
            encrypt: true,
            audit_interval: super::default_audit_interval(),
        }
    }
}

/// `[apps]`: managed apps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppsConfig {
    /// A device whose installed apps were not checked for this long gets a
    /// ManagedApplicationList; a required app missing from it is installed again. 0 = never.
    #[serde(default = "super::default_audit_interval", with = "humantime_serde")]
    pub audit_interval: Duration,
}

impl Default for AppsConfig {
    fn default() -> Self {
        AppsConfig { audit_interval: super::default_audit_interval() }
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
    #[serde(default = "super::yes")]
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
    #[serde(default = "super::yes")]
    pub sign_message: bool,
    /// The MDM payload's `AccessRights` (1..=8191).
    #[serde(default = "default_access_rights")]
    pub access_rights: i64,
    /// The MDM payload's `CheckOutWhenRemoved`.
    #[serde(default = "super::yes")]
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
