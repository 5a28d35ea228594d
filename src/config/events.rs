//! `[events]` (the outbox, its feed and webhook delivery) and `[outbound]` (where the server may
//! connect to on an admin's behalf).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[events]`: the event outbox and webhook delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Events older than this are removed once every enabled webhook has passed them.
    #[serde(default = "default_retention", with = "humantime_serde")]
    pub retention: Duration,
    /// How often each replica numbers new events and looks for webhooks with work.
    #[serde(default = "default_poll", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long a replica holds a webhook it delivers (renewed while it works); a replica that
    /// dies leaves the webhook to the others after this.
    #[serde(default = "default_lease", with = "humantime_serde")]
    pub lease: Duration,
    /// Events sent per webhook between two records of its progress.
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// The whole of one delivery (connect, send, answer).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// The wait after a first failed delivery; doubled per failure up to `backoff_max`, with
    /// jitter.
    #[serde(default = "default_backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// The longest wait between two attempts.
    #[serde(default = "default_backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    /// An event older than this that fails once more is dead-lettered.
    #[serde(default = "default_dead_letter_after", with = "humantime_serde")]
    pub dead_letter_after: Duration,
    /// Failed attempts at one event before it is dead-lettered; 0 = no limit (age only).
    #[serde(default)]
    pub max_attempts: u32,
}

fn default_retention() -> Duration {
    Duration::from_secs(30 * 86_400)
}
fn default_poll() -> Duration {
    Duration::from_millis(250)
}
fn default_lease() -> Duration {
    Duration::from_secs(30)
}
fn default_batch() -> u32 {
    200
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_backoff_initial() -> Duration {
    Duration::from_secs(1)
}
fn default_backoff_max() -> Duration {
    Duration::from_secs(300)
}
fn default_dead_letter_after() -> Duration {
    Duration::from_secs(3 * 86_400)
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            retention: default_retention(),
            poll_interval: default_poll(),
            lease: default_lease(),
            batch: default_batch(),
            timeout: default_timeout(),
            backoff_initial: default_backoff_initial(),
            backoff_max: default_backoff_max(),
            dead_letter_after: default_dead_letter_after(),
            max_attempts: 0,
        }
    }
}

/// `[outbound]`: connections the server makes to URLs an admin gave it (webhooks, and the
/// connectors later features add).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Address ranges (CIDR, e.g. `10.20.0.0/16`, `127.0.0.1/32`) outbound URLs may reach
    /// besides public addresses. Empty: public addresses only.
    #[serde(default)]
    pub allow_private: Vec<String>,
    /// PEM files of CAs trusted for outbound TLS besides the system's roots.
    #[serde(default)]
    pub ca_certs: Vec<PathBuf>,
}

/// `[connectors]`: the durable queue of connector calls (app logouts at check-in, automations).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorsConfig {
    /// How often each replica looks for due calls and new events for automations.
    #[serde(default = "default_connector_poll", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long a replica holds a call it runs; a replica that dies leaves it to the others.
    #[serde(default = "default_connector_lease", with = "humantime_serde")]
    pub lease: Duration,
    /// Calls run at once per replica.
    #[serde(default = "default_connector_concurrency")]
    pub concurrency: u32,
    /// Attempts before a call counts as failed (and `connector.failed` is written).
    #[serde(default = "default_connector_attempts")]
    pub max_attempts: u32,
    /// The wait after a first failed attempt; doubled per failure up to `backoff_max`.
    #[serde(default = "default_connector_backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// The longest wait between two attempts.
    #[serde(default = "default_connector_backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Finished calls are kept this long.
    #[serde(default = "default_retention", with = "humantime_serde")]
    pub retention: Duration,
    /// A check-in or check-out whose re-send step is still pending after this long (its replica
    /// stopped mid-way) is finished by another replica.
    #[serde(default = "default_resend_after", with = "humantime_serde")]
    pub resend_after: Duration,
}

fn default_connector_poll() -> Duration {
    Duration::from_millis(500)
}
fn default_connector_lease() -> Duration {
    Duration::from_secs(300)
}
fn default_connector_concurrency() -> u32 {
    8
}
fn default_connector_attempts() -> u32 {
    10
}
fn default_connector_backoff_initial() -> Duration {
    Duration::from_secs(5)
}
fn default_connector_backoff_max() -> Duration {
    Duration::from_secs(600)
}
fn default_resend_after() -> Duration {
    Duration::from_secs(120)
}

impl Default for ConnectorsConfig {
    fn default() -> Self {
        ConnectorsConfig {
            poll_interval: default_connector_poll(),
            lease: default_connector_lease(),
            concurrency: default_connector_concurrency(),
            max_attempts: default_connector_attempts(),
            backoff_initial: default_connector_backoff_initial(),
            backoff_max: default_connector_backoff_max(),
            retention: default_retention(),
            resend_after: default_resend_after(),
        }
    }
}
