//! `mdm compliance …`: policies, a device's compliance and inventory, a fleet evaluation, and a
//! posture lookup, through the admin API.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use reqwest::Method;

use crate::cli::{enc, load, show, Api, CliResult};

/// Compliance subcommands.
#[derive(Debug, Subcommand)]
pub enum ComplianceCmd {
    /// Add a policy from a JSON file (`{"name", "scope", "rules", "actions"}`, see the README).
    Add {
        /// The policy as JSON.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Replace a policy from a JSON file.
    Update {
        /// Id or name.
        policy: String,
        /// The policy as JSON.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// List policies.
    List,
    /// One policy.
    Show {
        /// Id or name.
        policy: String,
    },
    /// Remove a policy (what its actions did is undone).
    Remove {
        /// Id or name.
        policy: String,
    },
    /// A device's status, failed and pending rules, history and actions.
    Device {
        /// UDID or enrollment id.
        device: String,
    },
    /// A device's inventory; with --refresh, queue the inventory commands first.
    Inventory {
        /// UDID or enrollment id.
        device: String,
        /// Queue DeviceInformation, SecurityInfo, CertificateList, app and profile lists.
        #[arg(long)]
        refresh: bool,
    },
    /// Judge every device now (or the ones given) and print what changed.
    Evaluate {
        /// Devices (default: all).
        devices: Vec<String>,
    },
    /// Devices per status.
    Summary,
    /// What an identity provider sees for a device (UDID, serial number or IMEI).
    Posture {
        /// The identifier.
        id: String,
        /// UDID, SerialNumber or IMEI (default: any).
        #[arg(long)]
        id_type: Option<String>,
    },
}

fn read_json(file: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// Runs a compliance subcommand.
pub async fn compliance(config: &Path, server: Option<String>, cmd: ComplianceCmd) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    let req = match cmd {
        ComplianceCmd::Add { file } => api.request(Method::POST, "/v1/compliance/policies").json(&read_json(&file)?),
        ComplianceCmd::Update { policy, file } => api.request(Method::PUT, &format!("/v1/compliance/policies/{}", enc(&policy))).json(&read_json(&file)?),
        ComplianceCmd::List => api.request(Method::GET, "/v1/compliance/policies"),
        ComplianceCmd::Show { policy } => api.request(Method::GET, &format!("/v1/compliance/policies/{}", enc(&policy))),
        ComplianceCmd::Remove { policy } => api.request(Method::DELETE, &format!("/v1/compliance/policies/{}", enc(&policy))),
        ComplianceCmd::Device { device } => api.request(Method::GET, &format!("/v1/devices/{}/compliance", enc(&device))),
        ComplianceCmd::Inventory { device, refresh } => {
            if refresh {
                let r = api.send(api.request(Method::POST, &format!("/v1/devices/{}/inventory", enc(&device)))).await?;
                show(r).await?;
            }
            api.request(Method::GET, &format!("/v1/devices/{}/inventory", enc(&device)))
        }
        ComplianceCmd::Evaluate { devices } => {
            let body = if devices.is_empty() { serde_json::json!({}) } else { serde_json::json!({ "devices": devices }) };
            api.request(Method::POST, "/v1/compliance/evaluate").json(&body)
        }
        ComplianceCmd::Summary => api.request(Method::GET, "/v1/compliance/summary"),
        ComplianceCmd::Posture { id, id_type } => {
            let q: Vec<(&str, String)> = id_type.map(|t| vec![("id_type", t)]).unwrap_or_default();
            api.request(Method::GET, &format!("/v1/posture/devices/{}", enc(&id))).query(&q)
        }
    };
    show(api.send(req).await?).await
}
