//! `mdm`: an Apple MDM server. See README.md and docs/ARCHITECTURE.md.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use mdm_pki as pki;

pub mod api;
pub mod apps;
pub mod clock;
pub mod commands;
pub mod compliance;
pub mod config;
pub mod connectors;
pub mod enroll;
pub mod events;
pub mod http;
pub mod identity;
pub mod init;
pub(crate) mod lifetime;
pub(crate) mod limiter;
pub(crate) mod metrics;
pub mod outbound;
pub mod profiles;
pub mod protocol;
pub mod push;
pub mod queue;
pub mod saml;
pub(crate) mod scep_server;
pub(crate) mod sealed;
pub mod secrets;
pub mod server;
pub mod service;
pub mod service_error;
pub mod shared;
pub mod store;
pub mod timefmt;
