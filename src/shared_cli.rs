//! `mdm connector …` and `mdm shared …`: connectors, their calls, and shared-device check-out and
//! check-in through the admin API.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use reqwest::Method;

use crate::cli::{enc, load, show, Api, CliResult};

/// Connector subcommands.
#[derive(Debug, Subcommand)]
pub enum ConnectorCmd {
    /// Add a connector from a JSON file (`{"name", "preset" | "settings", "secrets"}`, see the README).
    Add {
        /// The connector as JSON.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Add a Vocera web-logout connector (POST https://HOST/vocera/SAML/webLogout).
    AddVocera {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// Vocera server host (and port).
        #[arg(long)]
        host: String,
        /// Body format: form or json.
        #[arg(long, default_value = "form")]
        format: String,
    },
    /// List connectors (credentials never shown).
    List,
    /// One connector.
    Show {
        /// Id or name.
        connector: String,
    },
    /// Remove a connector no pool uses.
    Remove {
        /// Id or name.
        connector: String,
    },
    /// Test connection.
    Test {
        /// Id or name.
        connector: String,
    },
    /// Test logout: the real logout call for one device.
    TestLogout {
        /// Id or name.
        connector: String,
        /// The device's serial number.
        #[arg(long)]
        serial: String,
        /// The user to log out (default: the device's last holder).
        #[arg(long)]
        user: Option<String>,
    },
    /// The connector's calls, newest first.
    Calls {
        /// Id or name.
        connector: String,
        /// pending, done, not_found or failed.
        #[arg(long)]
        status: Option<String>,
    },
    /// Make a failed call due again.
    Retry {
        /// Call id.
        call: String,
    },
}

/// Shared-device subcommands.
#[derive(Debug, Subcommand)]
pub enum SharedCmd {
    /// Check a device out to a user.
    Checkout {
        /// UDID, serial number or enrollment id.
        device: String,
        /// Who takes it.
        #[arg(long)]
        user: String,
    },
    /// Check a device in (back to its pool's staging user).
    Checkin {
        /// UDID, serial number or enrollment id.
        device: String,
    },
    /// Sessions, newest first.
    Sessions {
        /// One device's.
        #[arg(long)]
        device: Option<String>,
        /// One user's.
        #[arg(long)]
        user: Option<String>,
        /// Only devices checked out now.
        #[arg(long)]
        open: bool,
    },
    /// One session with its actions and connector calls.
    Session {
        /// Session id.
        id: String,
    },
    /// Pools.
    Pools,
}

/// Runs a connector subcommand.
pub async fn connector(config: &Path, server: Option<String>, cmd: ConnectorCmd) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    let req = match cmd {
        ConnectorCmd::Add { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            api.request(Method::POST, "/v1/connectors").json(&body)
        }
        ConnectorCmd::AddVocera { name, host, format } => {
            api.request(Method::POST, "/v1/connectors").json(&serde_json::json!({"name": name, "preset": {"name": "vocera", "host": host, "format": format}}))
        }
        ConnectorCmd::List => api.request(Method::GET, "/v1/connectors"),
        ConnectorCmd::Show { connector } => api.request(Method::GET, &format!("/v1/connectors/{}", enc(&connector))),
        ConnectorCmd::Remove { connector } => api.request(Method::DELETE, &format!("/v1/connectors/{}", enc(&connector))),
        ConnectorCmd::Test { connector } => api.request(Method::POST, &format!("/v1/connectors/{}/test", enc(&connector))).json(&serde_json::json!({})),
        ConnectorCmd::TestLogout { connector, serial, user } => api
            .request(Method::POST, &format!("/v1/connectors/{}/test-logout", enc(&connector)))
            .json(&serde_json::json!({"serial_number": serial, "user": user})),
        ConnectorCmd::Calls { connector, status } => {
            let mut q = Vec::new();
            if let Some(s) = status {
                q.push(("status", s));
            }
            api.request(Method::GET, &format!("/v1/connectors/{}/calls", enc(&connector))).query(&q)
        }
        ConnectorCmd::Retry { call } => api.request(Method::POST, &format!("/v1/connector-calls/{}/retry", enc(&call))),
    };
    show(api.send(req).await?).await
}

/// Runs a shared-device subcommand.
pub async fn shared(config: &Path, server: Option<String>, cmd: SharedCmd) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    let req = match cmd {
        SharedCmd::Checkout { device, user } => api.request(Method::POST, "/v1/shared/checkout").json(&serde_json::json!({"device": device, "user": user})),
        SharedCmd::Checkin { device } => api.request(Method::POST, "/v1/shared/checkin").json(&serde_json::json!({"device": device})),
        SharedCmd::Sessions { device, user, open } => {
            let mut q = vec![("open", open.to_string())];
            if let Some(d) = device {
                q.push(("device", d));
            }
            if let Some(u) = user {
                q.push(("user", u));
            }
            api.request(Method::GET, "/v1/shared/sessions").query(&q)
        }
        SharedCmd::Session { id } => api.request(Method::GET, &format!("/v1/shared/sessions/{}", enc(&id))),
        SharedCmd::Pools => api.request(Method::GET, "/v1/shared/pools"),
    };
    show(api.send(req).await?).await
}
