//! The `mdm` command line: init, serve, migrate, enqueue, push, push-cert, devices, commands,
//! secret, token, profile, app, sim.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand};

mod app_cli;
mod cli;
mod compliance_cli;
mod device_cli;
mod profile_cli;
mod shared_cli;
mod sim_cli;
mod token_cli;
mod webhook_cli;

/// mimalloc instead of glibc's allocator: the server allocates and frees many small buffers
/// per request on a few threads, where glibc's arenas spend measurably more (see `make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What every command's exit status means.
const EXIT_STATUS: &str = "Exit status: 0 when the command did everything asked of it; 1 when it did not \
(the reason is the last line on stderr: a device that did not enroll, a push APNs did not accept, a \
command answered with an error, a server that cannot be reached); 2 for a usage error.";

/// Apple MDM server.
#[derive(Debug, Parser)]
#[command(name = "mdm", version, about, after_help = EXIT_STATUS)]
struct Args {
    /// Configuration file.
    #[arg(long, short, global = true, default_value = "mdm.toml", env = "MDM_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write dev certificates, an admin API key and mdm.toml (only what is absent).
    Init {
        /// Directory for certificates and keys.
        #[arg(long, default_value = "certs")]
        dir: PathBuf,
        /// Host name devices use to reach the server.
        #[arg(long, default_value = "localhost")]
        hostname: String,
        /// Port to listen on.
        #[arg(long, default_value_t = 8443)]
        port: u16,
        /// RSA key size of the CA (it issues device identities over SCEP).
        #[arg(long, default_value_t = 2048, value_parser = clap::builder::PossibleValuesParser::new(["2048", "3072", "4096"]).map(|s| s.parse::<u32>().unwrap_or(2048)))]
        ca_bits: u32,
    },
    /// Run migrations and serve.
    Serve,
    /// Run database migrations and exit.
    Migrate,
    /// Queue a command for enrollments (calls the admin API).
    Enqueue {
        /// Comma-separated enrollment ids.
        ids: String,
        /// Raw command plist file ('-' = stdin). Omit to build one with --request-type.
        file: Option<PathBuf>,
        /// Build the command from a request type (e.g. DeviceInformation).
        #[arg(long, conflicts_with = "file")]
        request_type: Option<String>,
        /// JSON payload for --request-type.
        #[arg(long, requires = "request_type")]
        payload: Option<String>,
        /// Do not send an APNs push.
        #[arg(long)]
        nopush: bool,
        /// Wait until every target answered (up to 60s, or --wait=DURATION) and print the
        /// answers; fails when one answered with an error or did not answer in time.
        #[arg(long, value_name = "DURATION", num_args = 0..=1, require_equals = true, default_missing_value = "60s", value_parser = humantime::parse_duration)]
        wait: Option<std::time::Duration>,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// Devices: list (with --wait N for N enrolled ones) and show one (through the admin API).
    Devices {
        #[command(subcommand)]
        action: device_cli::DevicesCmd,
        /// Server URL (default: server.public_url).
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Commands: one command's status per target with the results, or a device's history.
    Commands {
        #[command(subcommand)]
        action: device_cli::CommandsCmd,
        /// Server URL (default: server.public_url).
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Secrets for AppConfig values ({Secret.NAME}): set (value from stdin), list, remove.
    Secret {
        #[command(subcommand)]
        action: device_cli::SecretCmd,
        /// Server URL (default: server.public_url).
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Send APNs pushes to enrollments (calls the admin API).
    Push {
        /// Comma-separated enrollment ids.
        ids: String,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// Manage APNs push certificates (works on the database directly; running servers pick
    /// changes up within their push poll interval).
    PushCert {
        #[command(subcommand)]
        action: PushCertCmd,
    },
    /// Admin API tokens with a role: create (the value is shown once), list, revoke (works on
    /// the database directly).
    Token {
        #[command(subcommand)]
        action: token_cli::TokenCmd,
    },
    /// Configuration profiles: validate, build and sign offline; add to the server's library,
    /// assign and list through the admin API.
    Profile {
        #[command(subcommand)]
        action: profile_cli::ProfileCmd,
    },
    /// Managed apps: add to the catalogue, assign, change the AppConfig (through the admin API).
    App {
        #[command(subcommand)]
        action: app_cli::AppCmd,
    },
    /// Webhooks: add, list, show, enable, remove, the delivery log, dead letters, replay.
    Webhook {
        #[command(subcommand)]
        action: webhook_cli::WebhookCmd,
        /// Server URL (default: server.public_url).
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Connectors (Vocera, Epic, HTTP): add, list, test, test a logout, calls, retry.
    Connector {
        #[command(subcommand)]
        action: shared_cli::ConnectorCmd,
        /// Server URL (default: server.public_url).
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Compliance: policies, a device's status and inventory, evaluations, posture.
    Compliance {
        #[command(subcommand)]
        action: compliance_cli::ComplianceCmd,
        /// Server URL (default: server.public_url).
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Shared devices: check out, check in, sessions, pools.
    Shared {
        #[command(subcommand)]
        action: shared_cli::SharedCmd,
        /// Server URL (default: server.public_url).
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// The event feed (GET /v1/events): a page, or with --follow each new event as a JSON line.
    Events {
        #[command(flatten)]
        args: webhook_cli::EventsArgs,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
    },
    /// Run simulated devices against a server: they enroll, then stay online until Ctrl-C
    /// (woken by pushes with push.development), or run --loops K connection loops and exit.
    /// Fails when a device did not enroll or a connection failed.
    Sim {
        /// Number of devices.
        #[arg(long, default_value_t = 10)]
        devices: usize,
        /// Devices working at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// mtls | signature | header:NAME
        #[arg(long, default_value = "mtls")]
        transport: String,
        /// Run this many connection loops after enrolling, then exit (0 = enroll only).
        /// Without it the devices stay online until Ctrl-C.
        #[arg(long)]
        loops: Option<usize>,
        /// Seconds between loops (and between polls when no push can wake the devices).
        #[arg(long, default_value_t = 5)]
        interval: u64,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
        /// APNs topic the devices report (default: the server's active push certificate's).
        #[arg(long)]
        topic: Option<String>,
        /// SCEP challenge (default: scep.challenge, else one-time challenges from the admin API).
        #[arg(long)]
        challenge: Option<String>,
        /// Enroll over the air like an iPhone: enrollment page, profile service phases 1-3,
        /// SCEP, then Authenticate/TokenUpdate at the MDM payload's URLs.
        #[arg(long)]
        enroll_ota: bool,
        /// Enrollment token for --enroll-ota (default: a multi-use token made through the
        /// admin API).
        #[arg(long)]
        token: Option<String>,
        /// PEM certificate and key of the CA that signs the simulated devices' identities in
        /// phase 2 (must be in enroll.device_ca_certs unless enroll.device_trust = "any");
        /// default: a new CA per run.
        #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
        device_ca: Option<Vec<PathBuf>>,
        /// Shared devices: put the enrolled devices in this pool (made when absent) and run
        /// --shifts of check-outs and check-ins (through each device's locker app when its
        /// AppConfig has a kiosk token, else the admin API), with the holder setting a PIN.
        #[arg(long, value_name = "POOL")]
        shared: Option<String>,
        /// Shifts with --shared.
        #[arg(long, default_value_t = 3)]
        shifts: usize,
    },
}

#[derive(Debug, Subcommand)]
enum PushCertCmd {
    /// Import (or renew) the MDM push certificate: a .p12 file, or a PEM file with certificate
    /// and key (or the certificate with --key).
    Import {
        /// .p12 or PEM file.
        file: PathBuf,
        /// Password of the .p12 (or set MDM_PUSH_CERT_PASSWORD).
        #[arg(long, env = "MDM_PUSH_CERT_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Private key PEM file, when FILE holds only the certificate.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Accept a topic different from the stored one (devices enrolled with the old topic
        /// keep being pushed with the old certificate until it expires).
        #[arg(long)]
        force: bool,
    },
    /// List stored push certificates: topic, expiry, days left.
    List,
    /// Remove the certificate of a topic.
    Remove {
        /// The topic.
        topic: String,
    },
}

/// Logs to stderr: `log.format = "json"` writes one JSON object per line; text has colours
/// only when stderr is a terminal. The level comes from `RUST_LOG` (default `info`).
fn init_logging(config: &std::path::Path) {
    use std::io::IsTerminal;
    let format = mdm::config::Config::load(config).map(|c| c.log.format).unwrap_or_default();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        mdm::config::LogFormat::Json => builder.json().with_current_span(true).init(),
        mdm::config::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(&args.config);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mdm: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match args.command {
            Cmd::Init { dir, hostname, port, ca_bits } => cli::init(&args.config, dir, hostname, port, ca_bits),
            Cmd::Serve => cli::serve(&args.config).await,
            Cmd::Migrate => cli::migrate(&args.config).await,
            Cmd::Enqueue { ids, file, request_type, payload, nopush, wait, server } => {
                cli::enqueue(&args.config, cli::EnqueueArgs { server, ids, file, request_type, payload, nopush, wait }).await
            }
            Cmd::Devices { action, server } => device_cli::devices(&args.config, server, action).await,
            Cmd::Commands { action, server } => device_cli::commands(&args.config, server, action).await,
            Cmd::Secret { action, server } => device_cli::secret(&args.config, server, action).await,
            Cmd::Push { ids, server } => cli::push(&args.config, server, &ids).await,
            Cmd::PushCert { action } => match action {
                PushCertCmd::Import { file, password, key, force } => cli::push_cert_import(&args.config, &file, password, key, force).await,
                PushCertCmd::List => cli::push_cert_list(&args.config).await,
                PushCertCmd::Remove { topic } => cli::push_cert_remove(&args.config, &topic).await,
            },
            Cmd::App { action } => app_cli::run(&args.config, action).await,
            Cmd::Token { action } => token_cli::run(&args.config, action).await,
            Cmd::Webhook { action, server } => webhook_cli::webhook(&args.config, server, action).await,
            Cmd::Connector { action, server } => shared_cli::connector(&args.config, server, action).await,
            Cmd::Shared { action, server } => shared_cli::shared(&args.config, server, action).await,
            Cmd::Compliance { action, server } => compliance_cli::compliance(&args.config, server, action).await,
            Cmd::Events { args: a, server } => webhook_cli::events(&args.config, server, a).await,
            Cmd::Profile { action } => profile_cli::run(&args.config, action).await,
            Cmd::Sim { devices, concurrency, transport, loops, interval, server, topic, challenge, enroll_ota, token, device_ca, shared, shifts } => {
                let a = sim_cli::SimArgs {
                    server,
                    devices,
                    concurrency,
                    transport,
                    loops,
                    interval,
                    topic,
                    challenge,
                    enroll_ota,
                    token,
                    device_ca,
                    shared,
                    shifts,
                };
                sim_cli::sim(&args.config, a).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mdm: {e}");
            ExitCode::FAILURE
        }
    }
}
