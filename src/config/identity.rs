//! Who is trusted and what is issued: `[identity]`, `[ca]`, `[scep]`, `[secrets]`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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
    #[serde(default = "super::yes")]
    pub mdm_signature: bool,
    /// Ask for client certificates in the TLS handshake.
    #[serde(default = "super::yes")]
    pub mtls: bool,
}

fn default_trust() -> TrustMode {
    TrustMode::Ca
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig { trust: TrustMode::Ca, ca_certs: Vec::new(), client_cert_header: String::new(), mdm_signature: true, mtls: true }
    }
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

/// `[scep]`: the SCEP server issuing device identity certificates with the `[ca]` CA.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScepConfig {
    /// Serve SCEP (needs `[ca]` cert and key).
    #[serde(default = "super::yes")]
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
