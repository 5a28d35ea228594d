//! `mdm profile …`: configuration profiles offline (validate, build, sign: every check the
//! server runs, no server needed) and in the server's library (add, assign, list through the
//! admin API).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use reqwest::Method;

use crate::cli::{load, print_json, Api, AssignTargets, CliResult};

/// Profile subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileCmd {
    /// Check a profile (.json with Apple's keys, or .mobileconfig plain or signed) against
    /// Apple's schema and the server's rules; prints every finding with its path.
    Validate {
        /// The profile.
        file: PathBuf,
    },
    /// Validate and write the profile as an XML .mobileconfig.
    Build {
        /// The profile.
        file: PathBuf,
        /// Output file (default: stdout).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Validate and sign (CMS, DER) with --cert/--key, or the configured signing identity.
    Sign {
        /// The profile.
        file: PathBuf,
        /// Output file (default: stdout).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Signing certificate (PEM).
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Its private key (PEM).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Chain certificates to include (PEM).
        #[arg(long)]
        chain: Option<PathBuf>,
    },
    /// Add a profile to the server's library (POST /v1/profiles); prints its id.
    Add {
        /// The profile (.json with Apple's keys, or .mobileconfig plain or signed).
        file: PathBuf,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// Assign a library profile to devices and groups (installed where needed), or with
    /// --remove unassign it (removed where installed).
    Assign {
        /// Profile id (as `mdm profile add` or `mdm profile list` print it).
        id: String,
        #[command(flatten)]
        targets: AssignTargets,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// The server's profile library.
    List {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
}

/// Runs a profile subcommand.
pub async fn run(config: &Path, cmd: ProfileCmd) -> CliResult {
    match cmd {
        ProfileCmd::Validate { file } => validate(&file),
        ProfileCmd::Build { file, out } => build(&file, out.as_deref()),
        ProfileCmd::Sign { file, out, cert, key, chain } => sign(config, &file, out.as_deref(), cert, key, chain),
        ProfileCmd::Add { file, server } => add(config, &file, server).await,
        ProfileCmd::Assign { id, targets, server } => {
            let cfg = load(config)?;
            crate::cli::assign(&Api::new(config, &cfg, server)?, &format!("/v1/profiles/{id}"), targets).await
        }
        ProfileCmd::List { json, server } => {
            let cfg = load(config)?;
            let api = Api::new(config, &cfg, server)?;
            let list = api.get("/v1/profiles").await?;
            if json {
                return print_json(&list);
            }
            let items = list.as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no profiles in the library: mdm profile add FILE (examples in examples/profiles/)");
            }
            for p in items {
                println!(
                    "{}  {}  v{}  {}",
                    p["id"].as_str().unwrap_or("-"),
                    p["identifier"].as_str().unwrap_or("-"),
                    p["version"],
                    p["name"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

/// `mdm profile add FILE`: uploads the profile; prints its id and the server's warnings, or
/// every problem the server found with its path.
async fn add(config: &Path, file: &Path, server: Option<String>) -> CliResult {
    let cfg = load(config)?;
    let api = Api::new(config, &cfg, server)?;
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let ctype = if json { "application/json" } else { "application/x-apple-aspen-config" };
    let resp = api.send(api.request(Method::POST, "/v1/profiles").header(reqwest::header::CONTENT_TYPE, ctype).body(bytes)).await?;
    let status = resp.status();
    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
    for i in answer["issues"].as_array().into_iter().chain(answer["warnings"].as_array()).flatten() {
        eprintln!("  {}: {}: {}", i["severity"].as_str().unwrap_or("?"), i["path"].as_str().unwrap_or(""), i["message"].as_str().unwrap_or(""));
    }
    if !status.is_success() {
        return Err(format!("{} refused ({status}): {}", file.display(), answer["error"].as_str().unwrap_or("")));
    }
    let p = &answer["profile"];
    println!("profile {}  {}  version {}", p["id"].as_str().unwrap_or("?"), p["identifier"].as_str().unwrap_or("?"), p["version"]);
    Ok(())
}

/// Reads a profile file: `.json` with Apple's keys, anything else as a `.mobileconfig` (plain
/// or signed). All the server's checks run.
fn read_profile(file: &Path) -> Result<mdm::profiles::input::Submitted, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let declared_json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    mdm::profiles::input::from_bytes(&bytes, declared_json).map_err(|e| match e {
        mdm::profiles::input::InputError::Invalid(issues) => {
            let lines: Vec<String> = issues.iter().map(|i| format!("  {i}")).collect();
            format!("{} is not valid:\n{}", file.display(), lines.join("\n"))
        }
        other => format!("{}: {other}", file.display()),
    })
}

fn print_warnings(sub: &mdm::profiles::input::Submitted) {
    for w in &sub.warnings {
        eprintln!("  {w}");
    }
}

fn write_out(out: Option<&Path>, bytes: &[u8]) -> CliResult {
    match out {
        Some(p) => std::fs::write(p, bytes).map_err(|e| format!("cannot write {}: {e}", p.display())),
        None => {
            use std::io::Write;
            std::io::stdout().write_all(bytes).map_err(|e| e.to_string())
        }
    }
}

/// `mdm profile validate FILE`.
fn validate(file: &Path) -> CliResult {
    let sub = read_profile(file)?;
    print_warnings(&sub);
    println!(
        "{}: valid ({} payload(s), {} warning(s))",
        file.display(),
        sub.dict.get("PayloadContent").and_then(|v| v.as_array()).map_or(0, Vec::len),
        sub.warnings.len()
    );
    Ok(())
}

/// `mdm profile build FILE [-o OUT]`: validated XML `.mobileconfig`.
fn build(file: &Path, out: Option<&Path>) -> CliResult {
    let sub = read_profile(file)?;
    print_warnings(&sub);
    let xml = mdm_profiles::profile::to_xml(&plist::Value::Dictionary(sub.dict)).map_err(|e| e.to_string())?;
    write_out(out, &xml)
}

/// `mdm profile sign FILE [-o OUT]`: validated and signed with the given identity, or else the
/// configured profile signing identity.
fn sign(config: &Path, file: &Path, out: Option<&Path>, cert: Option<PathBuf>, key: Option<PathBuf>, chain: Option<PathBuf>) -> CliResult {
    let sub = read_profile(file)?;
    print_warnings(&sub);
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let signer = match (cert, key) {
        (Some(c), Some(k)) => {
            let chain = match &chain {
                Some(p) => read(p)?,
                None => Vec::new(),
            };
            mdm_profiles::cms::Signer::from_pem(&read(&c)?, &read(&k)?, &chain).map_err(|e| e.to_string())?
        }
        (None, None) => {
            let mut cfg = load(config)?;
            cfg.profiles.sign = true;
            if chain.is_some() {
                cfg.profiles.signing_chain = chain;
            }
            mdm::server::profile_signer(&cfg).map_err(|e| e.to_string())?.ok_or("no signing identity configured: give --cert and --key")?
        }
        _ => return Err("--cert and --key go together".into()),
    };
    let xml = mdm_profiles::profile::to_xml(&plist::Value::Dictionary(sub.dict)).map_err(|e| e.to_string())?;
    let signed = signer.sign(&xml).map_err(|e| e.to_string())?;
    eprintln!("signed by {}", mdm_profiles::cms::subject_line(signer.cert()));
    write_out(out, &signed)
}
