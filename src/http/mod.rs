//! HTTP edge for devices and people: the TLS/plain listeners (which put the mTLS peer
//! certificate into each request), the thin handlers for the check-in and command endpoints, and
//! the enrollment page and profile service.

pub mod device;
pub mod enroll;
pub mod listener;
pub mod request_id;
pub mod uri_guard;
