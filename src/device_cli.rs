//! `mdm devices`, `mdm commands` and `mdm secret`: what happened to devices and commands, and
//! the secrets AppConfig values use, through the admin API. Tables for people, `--json` for
//! scripts.

use std::path::Path;
use std::time::Duration;

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use crate::cli::{load, print_json, Api, CliResult};

/// `mdm devices …`.
#[derive(Debug, Subcommand)]
pub enum DevicesCmd {
    /// Devices with their state (enrolled, pending, checked out), model, OS and last contact.
    List {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
        /// Print only the device ids (UDIDs), one per line.
        #[arg(long, conflicts_with = "json")]
        ids: bool,
        /// First wait until at least this many devices are enrolled (up to --timeout).
        #[arg(long, value_name = "N")]
        wait: Option<usize>,
        /// How long --wait waits.
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
    /// One device: attributes, channels, push state, who enrolled it.
    Show {
        /// Device id (UDID) or enrollment id.
        id: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `mdm commands …`.
#[derive(Debug, Subcommand)]
pub enum CommandsCmd {
    /// A command: its status on each target and the results the devices sent.
    Show {
        /// CommandUUID.
        uuid: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// A device's commands, newest first.
    List {
        /// Device id (UDID) or enrollment id.
        #[arg(long)]
        device: String,
        /// Most commands shown.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `mdm secret …`.
#[derive(Debug, Subcommand)]
pub enum SecretCmd {
    /// Sets a secret for AppConfig values (`{Secret.NAME}`), reading the value from stdin (so it
    /// stays out of the shell history); devices whose configuration uses it get the new value.
    Set {
        /// The secret's name, e.g. okta_management_hint.
        name: String,
    },
    /// Secrets by name (never their values).
    List,
    /// Removes a secret no app configuration uses.
    Remove {
        /// The secret's name.
        name: String,
    },
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// A device's state as a person says it: enrolled, pending (authenticated, no TokenUpdate yet)
/// or checked out, from its device channel.
fn state(device: &Value) -> &'static str {
    let channels = device["enrollments"].as_array().map(Vec::as_slice).unwrap_or_default();
    let Some(ch) = channels.iter().find(|e| e["channel"] == "device").or(channels.first()) else { return "unknown" };
    if !ch["unenrolled_at"].is_null() {
        "checked out"
    } else if ch["enabled"] == true {
        "enrolled"
    } else {
        "pending"
    }
}

fn last_seen(device: &Value) -> String {
    let channels = device["enrollments"].as_array().map(Vec::as_slice).unwrap_or_default();
    channels.iter().filter_map(|e| e["last_seen_at"].as_str()).max().unwrap_or("-").to_string()
}

/// Prints rows as columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r.clone());
    }
}

/// Runs a devices subcommand.
pub async fn devices(config: &Path, server: Option<String>, cmd: DevicesCmd) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    match cmd {
        DevicesCmd::List { json, ids, wait, timeout } => {
            let list = match wait {
                Some(n) => wait_for_devices(&api, n, timeout).await?,
                None => api.get("/v1/devices").await?,
            };
            let devices = list.as_array().cloned().unwrap_or_default();
            if json {
                return print_json(&list);
            }
            if ids {
                devices.iter().for_each(|d| println!("{}", s(&d["id"])));
                return Ok(());
            }
            if devices.is_empty() {
                println!("no devices yet: enroll one (open {}/enroll on the device, or run `mdm sim`)", api.base);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = devices
                .iter()
                .map(|d| {
                    let model = d["product_name"].as_str().or(d["model_name"].as_str()).unwrap_or("-");
                    vec![
                        s(&d["id"]).into(),
                        s(&d["serial_number"]).into(),
                        s(&d["device_name"]).into(),
                        model.into(),
                        s(&d["os_version"]).into(),
                        state(d).into(),
                        last_seen(d),
                    ]
                })
                .collect();
            table(&["DEVICE", "SERIAL", "NAME", "MODEL", "OS", "STATE", "LAST SEEN (UTC)"], &rows);
            println!("{} device(s)", devices.len());
            Ok(())
        }
        DevicesCmd::Show { id, json } => {
            let d = api.get(&format!("/v1/devices/{id}")).await?;
            if json {
                return print_json(&d);
            }
            println!("device     {}", s(&d["id"]));
            for (label, key) in
                [("serial", "serial_number"), ("name", "device_name"), ("model", "product_name"), ("os", "os_version"), ("build", "build_version")]
            {
                println!("{label:<10} {}", s(&d[key]));
            }
            println!("state      {}", state(&d));
            println!("first seen {}", s(&d["created_at"]));
            if let Some(user) = d["enrolled_by"]["username"].as_str() {
                println!("enrolled by {user}");
            }
            for e in d["enrollments"].as_array().cloned().unwrap_or_default() {
                println!(
                    "channel    {} {} (topic {}, last seen {}, push: {})",
                    s(&e["channel"]),
                    s(&e["id"]),
                    s(&e["topic"]),
                    s(&e["last_seen_at"]),
                    e["push"]["last_result"].as_str().unwrap_or("none yet")
                );
            }
            println!("commands   mdm commands list --device {}", s(&d["id"]));
            Ok(())
        }
    }
}

/// Polls the device list until `n` devices are enrolled, for at most `timeout`.
async fn wait_for_devices(api: &Api, n: usize, timeout: Duration) -> Result<Value, String> {
    let start = std::time::Instant::now();
    loop {
        let list = api.get("/v1/devices").await?;
        let enrolled = list.as_array().map_or(0, |a| a.iter().filter(|d| state(d) == "enrolled").count());
        if enrolled >= n {
            return Ok(list);
        }
        if start.elapsed() >= timeout {
            return Err(format!("{enrolled} device(s) enrolled after {}, not {n}", humantime::format_duration(timeout)));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Runs a commands subcommand.
pub async fn commands(config: &Path, server: Option<String>, cmd: CommandsCmd) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    match cmd {
        CommandsCmd::Show { uuid, json } => {
            let c = api.get(&format!("/v1/commands/{uuid}")).await?;
            if json {
                return print_json(&c);
            }
            print_command(&c);
            Ok(())
        }
        CommandsCmd::List { device, limit, json } => {
            let list = api.get(&format!("/v1/devices/{device}/commands?limit={limit}")).await?;
            if json {
                return print_json(&list);
            }
            let entries = list.as_array().cloned().unwrap_or_default();
            if entries.is_empty() {
                println!("no commands for {device} yet: mdm enqueue {device} --request-type DeviceInformation");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| {
                    vec![
                        s(&e["created_at"]).into(),
                        s(&e["command_uuid"]).into(),
                        s(&e["request_type"]).into(),
                        s(&e["status"]).into(),
                        s(&e["done_at"]).into(),
                    ]
                })
                .collect();
            table(&["QUEUED (UTC)", "COMMAND", "REQUEST TYPE", "STATUS", "ANSWERED (UTC)"], &rows);
            Ok(())
        }
    }
}

/// Prints a command (`GET /v1/commands/{uuid}`) with each target's status and latest result.
fn print_command(c: &Value) {
    println!("command {}  {}  queued {}", s(&c["command_uuid"]), s(&c["request_type"]), s(&c["created_at"]));
    for t in c["targets"].as_array().cloned().unwrap_or_default() {
        println!("  {}  {}  (delivered {} time(s), answered {})", s(&t["enrollment_id"]), s(&t["status"]), t["deliveries"], s(&t["done_at"]));
        if let Some(latest) = t["results"].as_array().and_then(|r| r.first()) {
            let mut result = latest["result"].clone();
            if let Some(m) = result.as_object_mut() {
                for k in ["CommandUUID", "Status", "UDID"] {
                    m.remove(k);
                }
            }
            if result.as_object().is_some_and(|m| !m.is_empty()) {
                let text = serde_json::to_string_pretty(&result).unwrap_or_default();
                for line in text.lines() {
                    println!("    {line}");
                }
            }
        }
    }
}

/// Statuses a target is still waiting in.
fn pending(status: &str) -> bool {
    matches!(status, "queued" | "not_now")
}

/// Waits until every target of `uuid` answered, then prints the command; an error when a target
/// answered with an error or `deadline` (`timeout` after the wait began) passed first.
pub async fn wait_for_answers(api: &Api, uuid: &str, deadline: std::time::Instant, timeout: Duration) -> CliResult {
    loop {
        let c = api.get(&format!("/v1/commands/{uuid}")).await?;
        let targets = c["targets"].as_array().cloned().unwrap_or_default();
        let waiting: Vec<String> =
            targets.iter().filter(|t| pending(s(&t["status"]))).map(|t| format!("{} ({})", s(&t["enrollment_id"]), s(&t["status"]))).collect();
        if waiting.is_empty() || std::time::Instant::now() >= deadline {
            print_command(&c);
            if !waiting.is_empty() {
                return Err(format!(
                    "no answer within {} from {}: is the device online and woken by a push (`mdm devices show ID` shows the last push)?",
                    humantime::format_duration(timeout),
                    waiting.join(", ")
                ));
            }
            let failed: Vec<String> =
                targets.iter().filter(|t| t["status"] != "acknowledged").map(|t| format!("{} ({})", s(&t["enrollment_id"]), s(&t["status"]))).collect();
            return if failed.is_empty() { Ok(()) } else { Err(format!("answered with an error: {}", failed.join(", "))) };
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Runs a secret subcommand.
pub async fn secret(config: &Path, server: Option<String>, cmd: SecretCmd) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    match cmd {
        SecretCmd::Set { name } => {
            let mut value = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut value).map_err(|e| format!("reading the value from stdin: {e}"))?;
            let value = value.trim_end_matches(['\r', '\n']);
            if value.is_empty() {
                return Err("no value on stdin: e.g. `printf %s \"$VALUE\" | mdm secret set NAME`".into());
            }
            api.json(api.request(Method::PUT, &format!("/v1/secrets/{name}")).json(&serde_json::json!({ "value": value }))).await?;
            println!("secret {name} stored (sealed); use it as {{Secret.{name}}} in AppConfig values");
            Ok(())
        }
        SecretCmd::List => {
            let list = api.get("/v1/secrets").await?;
            let items = list.as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no secrets: set one with `mdm secret set NAME` (the value is read from stdin)");
                return Ok(());
            }
            print_json(&list)
        }
        SecretCmd::Remove { name } => {
            api.json(api.request(Method::DELETE, &format!("/v1/secrets/{name}"))).await?;
            println!("secret {name} removed");
            Ok(())
        }
    }
}
