//! `mdm token create|list|revoke`: admin API tokens, on the configured database directly (so the
//! first tokens can be made on the server's host without one). The audit log names the creator
//! `cli`.

use std::path::Path;

use clap::Subcommand;

use crate::cli::{load, print_json, CliResult};

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token; its value is printed this once.
    Create {
        /// Unique name: who or what uses it.
        #[arg(long)]
        name: String,
        /// admin, helpdesk, read-only, posture or kiosk.
        #[arg(long)]
        role: String,
        /// The device of a kiosk token.
        #[arg(long)]
        device: Option<String>,
        /// Lifetime, e.g. 90d (default: until revoked).
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List tokens (never their values).
    List,
    /// Revoke a token by id or name.
    Revoke {
        /// Id or name.
        id: String,
    },
}

/// Runs a token subcommand.
pub async fn run(config: &Path, cmd: TokenCmd) -> CliResult {
    let cfg = load(config)?;
    let store = mdm::store::Store::connect(&cfg.database.url, 2).map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    match cmd {
        TokenCmd::Create { name, role, device, expires_in } => {
            let expires_in = expires_in.map(|e| humantime::parse_duration(&e).map_err(|err| format!("--expires-in {e}: {err}"))).transpose()?;
            let t = mdm::api::tokens::NewToken { name, role, device, expires_in };
            let issued = mdm::api::tokens::issue(&store, t, "cli").await.map_err(|e| e.to_string())?;
            print_json(&issued)
        }
        TokenCmd::List => print_json(&store.tokens().api_tokens().await.map_err(|e| e.to_string())?),
        TokenCmd::Revoke { id } => {
            if store.tokens().revoke_api_token(id.clone(), mdm::store::now()).await.map_err(|e| e.to_string())? {
                println!("revoked {id}");
                Ok(())
            } else {
                Err(format!("no active API token {id}"))
            }
        }
    }
}
