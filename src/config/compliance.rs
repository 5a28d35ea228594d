//! `[compliance]`: how often inventory is refreshed and devices re-judged, how often a flapping
//! device's actions may run, and release dates of OS versions for `max_os_age`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Compliance settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceConfig {
    /// Enrolled devices whose DeviceInformation is older than this get the inventory commands.
    #[serde(default = "default_inventory", with = "humantime_serde")]
    pub inventory_interval: Duration,
    /// Every device is judged again this often (devices that stopped reporting turn stale).
    #[serde(default = "default_evaluate", with = "humantime_serde")]
    pub evaluate_interval: Duration,
    /// Window of the action rate limit.
    #[serde(default = "default_window", with = "humantime_serde")]
    pub flap_window: Duration,
    /// A policy's actions run at most this often per device within `flap_window`.
    #[serde(default = "default_runs")]
    pub max_action_runs: u32,
    /// Release dates (`"18.4.1" = "2025-04-16"`) added to or correcting the built-in list.
    #[serde(default)]
    pub os_releases: BTreeMap<String, String>,
}

fn default_inventory() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_evaluate() -> Duration {
    Duration::from_secs(15 * 60)
}
fn default_window() -> Duration {
    Duration::from_secs(3600)
}
fn default_runs() -> u32 {
    4
}

impl Default for ComplianceConfig {
    fn default() -> Self {
        ComplianceConfig {
            inventory_interval: default_inventory(),
            evaluate_interval: default_evaluate(),
            flap_window: default_window(),
            max_action_runs: default_runs(),
            os_releases: BTreeMap::new(),
        }
    }
}
