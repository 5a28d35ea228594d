//! `mdm webhook …` and `mdm events`: webhooks and the event feed through the admin API.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use reqwest::Method;

use crate::cli::{load, show, Api, CliResult};

/// Webhook subcommands.
#[derive(Debug, Subcommand)]
pub enum WebhookCmd {
    /// Add a webhook (POST /v1/webhooks); it gets every event from now on.
    Add {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// Where events are POSTed.
        #[arg(long)]
        url: String,
        /// File holding the HMAC secret (at least 16 characters; kept sealed, never shown).
        #[arg(long, value_name = "FILE")]
        secret_file: PathBuf,
        /// native (every topic) or nanomdm (NanoMDM/MicroMDM-compatible check-in and result events).
        #[arg(long, default_value = "native")]
        format: String,
        /// Comma-separated topics (default: every topic the format carries).
        #[arg(long)]
        topics: Option<String>,
    },
    /// List webhooks with their progress.
    List,
    /// One webhook.
    Show {
        /// Id or name.
        webhook: String,
    },
    /// Turn delivery on or off.
    Enable {
        /// Id or name.
        webhook: String,
        /// Turn it off instead.
        #[arg(long)]
        off: bool,
    },
    /// Remove a webhook with its log and dead letters.
    Remove {
        /// Id or name.
        webhook: String,
    },
    /// The delivery log, newest first.
    Deliveries {
        /// Id or name.
        webhook: String,
        /// Most lines.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Events the webhook gave up on.
    DeadLetters {
        /// Id or name.
        webhook: String,
    },
    /// Deliver events again: one (--event), a range (--from, --to) or every dead letter.
    Replay {
        /// Id or name.
        webhook: String,
        /// One event id.
        #[arg(long, conflicts_with_all = ["from", "dead_letters"])]
        event: Option<i64>,
        /// First event id of a range.
        #[arg(long, requires = "to")]
        from: Option<i64>,
        /// Last event id of a range.
        #[arg(long, requires = "from")]
        to: Option<i64>,
        /// Every dead letter.
        #[arg(long)]
        dead_letters: bool,
    },
}

/// Arguments of `mdm events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Events after this id (default: from the oldest kept).
    #[arg(long)]
    pub after: Option<i64>,
    /// Comma-separated topics.
    #[arg(long)]
    pub topics: Option<String>,
    /// Only this device.
    #[arg(long)]
    pub device: Option<String>,
    /// Most events per page.
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
    /// Keep polling and print each new event as one JSON line, until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
}

fn path_of(webhook: &str) -> String {
    format!("/v1/webhooks/{}", crate::cli::enc(webhook))
}

/// Runs a webhook subcommand.
pub async fn webhook(config: &Path, server: Option<String>, cmd: WebhookCmd) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    let req = match cmd {
        WebhookCmd::Add { name, url, secret_file, format, topics } => {
            let secret = std::fs::read_to_string(&secret_file).map_err(|e| format!("{}: {e}", secret_file.display()))?;
            let topics: Vec<&str> = topics.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
            let body = serde_json::json!({"name": name, "url": url, "secret": secret.trim(), "format": format, "topics": topics});
            api.request(Method::POST, "/v1/webhooks").json(&body)
        }
        WebhookCmd::List => api.request(Method::GET, "/v1/webhooks"),
        WebhookCmd::Show { webhook } => api.request(Method::GET, &path_of(&webhook)),
        WebhookCmd::Enable { webhook, off } => api.request(Method::PATCH, &path_of(&webhook)).json(&serde_json::json!({"enabled": !off})),
        WebhookCmd::Remove { webhook } => api.request(Method::DELETE, &path_of(&webhook)),
        WebhookCmd::Deliveries { webhook, limit } => api.request(Method::GET, &format!("{}/deliveries?limit={limit}", path_of(&webhook))),
        WebhookCmd::DeadLetters { webhook } => api.request(Method::GET, &format!("{}/dead-letters", path_of(&webhook))),
        WebhookCmd::Replay { webhook, event, from, to, dead_letters } => {
            let body = match (event, from, to, dead_letters) {
                (Some(e), _, _, false) => serde_json::json!({"event": e}),
                (None, Some(f), Some(t), false) => serde_json::json!({"from": f, "to": t}),
                (None, None, None, true) => serde_json::json!({"dead_letters": true}),
                _ => return Err("give --event ID, --from ID --to ID, or --dead-letters".into()),
            };
            api.request(Method::POST, &format!("{}/replay", path_of(&webhook))).json(&body)
        }
    };
    show(api.send(req).await?).await
}

/// `mdm events`: a page of the feed, or with --follow every new event as it comes.
pub async fn events(config: &Path, server: Option<String>, a: EventsArgs) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    let query = |after: Option<i64>| {
        let mut q = vec![("limit", a.limit.to_string())];
        if let Some(x) = after {
            q.push(("after", x.to_string()));
        }
        if let Some(t) = &a.topics {
            q.push(("topics", t.clone()));
        }
        if let Some(d) = &a.device {
            q.push(("device", d.clone()));
        }
        api.request(Method::GET, "/v1/events").query(&q)
    };
    if !a.follow {
        return show(api.send(query(a.after)).await?).await;
    }
    let mut after = a.after;
    loop {
        let page = api.json(query(after)).await?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        for e in &events {
            println!("{e}");
        }
        after = page["next"].as_i64().or(after);
        if events.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    }
}
