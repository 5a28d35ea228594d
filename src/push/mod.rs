//! Waking devices through APNs. [`PushService`] resolves enrollments to push targets and hands
//! them to a [`Pusher`]; the HTTP/2 APNs client is one `Pusher`, and when no push certificate
//! is configured [`Unconfigured`] reports that for every target instead of pretending to send.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;

use crate::store::{Store, StoreError};

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

/// Result of one push, as shown to admins.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum PushResult {
    /// APNs accepted it.
    Sent {
        /// The apns-id APNs returned.
        apns_id: String,
    },
    /// Not sent, and why.
    Failed {
        /// Reason.
        error: String,
    },
}

/// Boxed future returned by [`Pusher::push`].
pub type PushFuture<'a> = Pin<Box<dyn Future<Output = Vec<(String, PushResult)>> + Send + 'a>>;

/// Sends MDM pushes.
pub trait Pusher: Send + Sync {
    /// Pushes every target; returns one result per enrollment id.
    fn push(&self, targets: Vec<PushTarget>) -> PushFuture<'_>;
}

/// The pusher used while no APNs push certificate is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unconfigured;

impl Pusher for Unconfigured {
    fn push(&self, targets: Vec<PushTarget>) -> PushFuture<'_> {
        Box::pin(async move {
            targets
                .into_iter()
                .map(|t| (t.enrollment_id, PushResult::Failed { error: "no APNs push certificate configured".into() }))
                .collect()
        })
    }
}

/// Resolves enrollment ids to push targets and pushes them.
#[derive(Clone)]
pub struct PushService {
    store: Store,
    pusher: Arc<dyn Pusher>,
}

impl std::fmt::Debug for PushService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PushService")
    }
}

impl PushService {
    /// Builds the service.
    pub fn new(store: Store, pusher: Arc<dyn Pusher>) -> PushService {
        PushService { store, pusher }
    }

    /// Pushes each id (enrollment ids); unknown or not-enrolled ids get a failure result.
    pub async fn push(&self, ids: &[String]) -> Result<BTreeMap<String, PushResult>, StoreError> {
        let found = self.store.enrollments_by_ids(ids.to_vec()).await?;
        let mut out = BTreeMap::new();
        let mut targets = Vec::new();
        for id in ids {
            match found.iter().find(|e| &e.id == id) {
                None => {
                    out.insert(id.clone(), PushResult::Failed { error: "unknown enrollment".into() });
                }
                Some(e) => match (&e.token, &e.push_magic, e.enabled) {
                    (Some(token), Some(magic), true) => targets.push(PushTarget {
                        enrollment_id: e.id.clone(),
                        topic: e.topic.clone(),
                        token: token.clone(),
                        push_magic: magic.clone(),
                    }),
                    _ => {
                        out.insert(id.clone(), PushResult::Failed { error: "not enrolled (no push token)".into() });
                    }
                },
            }
        }
        if !targets.is_empty() {
            for (id, r) in self.pusher.push(targets).await {
                if let PushResult::Failed { error } = &r {
                    tracing::warn!(enrollment = %id, %error, "push failed");
                }
                out.insert(id, r);
            }
        }
        Ok(out)
    }
}
