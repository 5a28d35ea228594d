//! The `mdm` command line: init, serve, migrate, enqueue, push, sim.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// Apple MDM server.
#[derive(Debug, Parser)]
#[command(name = "mdm", version, about)]
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
        /// Server URL (default: server.public_url).
        #[arg(long)]
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
    /// Run simulated devices against a server.
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
        /// Connection loops to run after enrolling (0 = enroll only).
        #[arg(long, default_value_t = 1)]
        loops: usize,
        /// Seconds between loops.
        #[arg(long, default_value_t = 5)]
        interval: u64,
        /// Server URL (default: server.public_url).
        #[arg(long)]
        server: Option<String>,
        /// APNs topic the devices report.
        #[arg(long, default_value = "com.apple.mgmt.External.00000000-0000-4000-8000-000000000000")]
        topic: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mdm: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match args.command {
            Cmd::Init { dir, hostname, port } => cli::init(&args.config, dir, hostname, port),
            Cmd::Serve => cli::serve(&args.config).await,
            Cmd::Migrate => cli::migrate(&args.config).await,
            Cmd::Enqueue { ids, file, request_type, payload, nopush, server } => {
                cli::enqueue(&args.config, server, &ids, file, request_type, payload, nopush).await
            }
            Cmd::Push { ids, server } => cli::push(&args.config, server, &ids).await,
            Cmd::Sim { devices, concurrency, transport, loops, interval, server, topic } => {
                cli::sim(&args.config, server, devices, concurrency, &transport, loops, interval, topic).await
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
