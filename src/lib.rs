//! `mdm`: an Apple MDM server. See README.md and docs/ARCHITECTURE.md.

pub mod config;
pub mod identity;
pub mod pki;
pub mod protocol;
pub mod store;
