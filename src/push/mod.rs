//! Waking devices through APNs.
//!
//! - [`cert`] parses the admin's MDM push certificate (.p12 or PEM).
//! - [`apns`] is the HTTP/2 provider client, one [`Pusher`].
//! - [`service::PushService`] stores certificates (keys sealed), pushes on an admin's request,
//!   and records outcomes per enrollment.
//! - [`scheduler`] sends the pushes enqueueing asked for and re-pushes devices whose commands
//!   wait, with backoff, from a schedule kept in the database.
//! - [`mock`] is a mock APNs server for tests and benchmarks.

pub mod apns;
pub mod cert;
pub(crate) mod scheduler;
pub(crate) mod service;

use std::future::Future;
use std::pin::Pin;

pub use apns::PushOutcome;
pub use service::PushService;

/// One device channel to wake.
#[derive(Clone)]
pub struct PushTarget {
    /// Enrollment id.
    pub enrollment_id: String,
    /// APNs topic.
    pub topic: String,
    /// APNs device token.
    pub token: Vec<u8>,
    /// PushMagic (the only payload of an MDM push).
    pub push_magic: String,
}

impl std::fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Token and PushMagic are secrets: never logged.
        f.debug_struct("PushTarget").field("enrollment_id", &self.enrollment_id).field("topic", &self.topic).finish()
    }
}

/// Boxed future returned by [`Pusher::push`].
pub type PushFuture<'a> = Pin<Box<dyn Future<Output = Vec<(String, PushOutcome)>> + Send + 'a>>;

/// Sends MDM pushes.
pub trait Pusher: Send + Sync {
    /// Pushes every target; returns one outcome per enrollment id.
    fn push(&self, targets: Vec<PushTarget>) -> PushFuture<'_>;

    /// Hands over the current push certificates (the APNs client builds its TLS identities from
    /// them). Pushers that need none ignore them.
    fn set_certs(&self, _certs: &[cert::PushCert]) {}
}

/// A pusher that sends nothing, for processes without an APNs client (CLI commands that only
/// manage certificates). Every target is reported as not sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offline;

impl Pusher for Offline {
    fn push(&self, targets: Vec<PushTarget>) -> PushFuture<'_> {
        Box::pin(
            async move { targets.into_iter().map(|t| (t.enrollment_id, PushOutcome::NotSent { reason: "this process has no APNs client".into() })).collect() },
        )
    }
}
