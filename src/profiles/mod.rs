//! The profile library: admins store profiles (JSON or `.mobileconfig`), assign them to
//! devices and groups; each device gets its own rendering (variables, encryption, signature),
//! and the server follows every install until the device's ProfileList shows it.

pub(crate) mod hooks;
pub mod input;
pub mod render;
pub(crate) mod service;

pub use service::{LibraryError, ProfileLibrary, ProfileSync};
