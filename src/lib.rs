//! `mdm`: an Apple MDM server. See README.md and docs/ARCHITECTURE.md.

pub mod store;
