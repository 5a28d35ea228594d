//! Simulated devices and a mock APNs: what the tests, the benchmarks and `mdm sim` use to drive
//! the server as iOS and Apple do — Authenticate, TokenUpdate, then the command loop, answering
//! commands with realistic results; pushes received by [`apns::MockApns`] wake the devices.
//! Thousands of devices run concurrently in one process. Nothing here is linked into the
//! server's modules: the `mdm` binary uses it only for its `sim` command.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod answer;
pub mod apns;
pub mod device;
pub mod fleet;
pub mod locker;
pub mod ota;
mod plist_body;
pub mod scep;
pub mod transport;
pub mod vendors;
pub mod wake;

pub use device::{Handled, SimDevice};
pub use fleet::{Fleet, FleetStats};
pub use transport::{Endpoint, Transport};

/// Errors a simulated device sees.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The HTTP request failed (connection, TLS ...).
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered with a non-200 status.
    #[error("server answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Response body (the server's message).
        body: String,
    },
    /// The server's response is not a valid command.
    #[error("bad command from server: {0}")]
    BadCommand(String),
    /// Certificate work failed.
    #[error("{0}")]
    Pki(#[from] mdm_pki::PkiError),
    /// Obtaining the identity over SCEP failed.
    #[error("SCEP: {0}")]
    Scep(String),
}
