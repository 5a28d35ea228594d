//! HTTP edge for devices: the TLS/plain listeners (which put the mTLS peer certificate into each
//! request) and the thin handlers for the check-in and command endpoints.

pub mod device;
pub mod listener;
