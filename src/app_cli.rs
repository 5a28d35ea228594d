//! `mdm app add|assign|config|list|show`: the managed-app API from the command line.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use reqwest::Method;

use crate::cli::{load, show, Api, AssignTargets, CliResult};

/// App subcommands.
#[derive(Debug, Subcommand)]
pub enum AppCmd {
    /// Add an app to the catalogue (POST /v1/apps).
    Add {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Bundle identifier.
        #[arg(long)]
        bundle_id: String,
        /// App Store id (iTunesStoreID).
        #[arg(long)]
        store_id: Option<i64>,
        /// Enterprise app manifest URL.
        #[arg(long)]
        manifest_url: Option<String>,
        /// Vendor preset: epic, okta-verify, sphereshield.
        #[arg(long)]
        preset: Option<String>,
        /// Preset parameter NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// AppConfig file: JSON of typed values ({"key": {"type": "string", "value": "{DeviceSerialNumber}"}}).
        #[arg(long, value_name = "FILE")]
        appconfig: Option<PathBuf>,
        /// Attributes file: JSON with Apple's keys (VPNUUID, AssociatedDomains ...).
        #[arg(long)]
        attributes: Option<PathBuf>,
        /// Do not install it again when it disappears from a device.
        #[arg(long)]
        not_required: bool,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// Assign an app (id or bundle id) to devices and groups, or with --remove unassign it.
    Assign {
        /// App id or bundle id.
        app: String,
        #[command(flatten)]
        targets: AssignTargets,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// Replace an app's AppConfig from a JSON file; it is re-sent to every device that has the app.
    Config {
        /// App id or bundle id.
        app: String,
        /// AppConfig file (typed JSON).
        file: PathBuf,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// List the catalogue.
    List {
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
}

fn read_json(p: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", p.display()))
}

/// Runs an app subcommand against the server's admin API.
pub async fn run(config: &Path, cmd: AppCmd) -> CliResult {
    let cfg = load(config)?;
    let server = match &cmd {
        AppCmd::Add { server, .. } | AppCmd::Assign { server, .. } | AppCmd::Config { server, .. } | AppCmd::List { server } => server.clone(),
    };
    let api = Api::new(config, &cfg, server)?;
    let req = match cmd {
        AppCmd::Add { name, bundle_id, store_id, manifest_url, preset, params, appconfig, attributes, not_required, .. } => {
            let mut body = serde_json::json!({ "name": name, "bundle_id": bundle_id, "required": !not_required });
            if let Some(id) = store_id {
                body["itunes_store_id"] = id.into();
            }
            if let Some(u) = manifest_url {
                body["manifest_url"] = u.into();
            }
            if let Some(p) = preset {
                let mut choice = serde_json::json!({ "name": p });
                for kv in params {
                    let (k, v) = kv.split_once('=').ok_or_else(|| format!("--param {kv}: expected NAME=VALUE"))?;
                    if k == "name" {
                        return Err("--param name=… would replace the preset's name; use --preset".into());
                    }
                    choice[k] = v.into();
                }
                body["preset"] = choice;
            } else if !params.is_empty() {
                return Err("--param needs --preset".into());
            }
            if let Some(f) = appconfig {
                body["config"] = read_json(&f)?;
            }
            if let Some(f) = attributes {
                body["attributes"] = read_json(&f)?;
            }
            api.request(Method::POST, "/v1/apps").json(&body)
        }
        AppCmd::Assign { app, targets, .. } => return crate::cli::assign(&api, &format!("/v1/apps/{app}"), targets).await,
        AppCmd::Config { app, file, .. } => {
            let body = serde_json::json!({ "config": read_json(&file)? });
            api.request(Method::PUT, &format!("/v1/apps/{app}")).json(&body)
        }
        AppCmd::List { .. } => api.request(Method::GET, "/v1/apps"),
    };
    show(api.send(req).await?).await
}
