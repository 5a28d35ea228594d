//! The command queue: the one way commands reach devices.
//!
//! [`Queue`] owns the three things that happen to a command: it is enqueued (stored, queued
//! per enrollment, the enrollments marked due for a push, the push scheduler woken after the
//! commit), handed to a device that reports `Idle` ([`Queue::next`]), and answered
//! ([`Queue::report`]). A row's status is a [`QueueStatus`] from the device's report to the
//! SQL. No caller wakes the push scheduler itself: enqueueing does.
//!
//! Work that writes other state together with its commands (install states, app events) runs
//! as one unit with [`Queue::write`], whose [`Tx`] the store's in-transaction writers and
//! [`enqueue_in`] share.
//!
//! Below this module the backend is chosen in one place, [`Queue::next`] and
//! [`Queue::report`]: SQLite runs the portable queries of `sqlite.rs` in `BEGIN IMMEDIATE`;
//! PostgreSQL groups concurrent requests ([`batch`]) into one statement each (`postgres.rs`).

pub(crate) mod batch;
mod listing;
mod postgres;
mod sqlite;
mod status;
mod write;

use std::sync::Arc;

pub use listing::QueueEntry;
pub use status::QueueStatus;
pub(crate) use write::enqueue_in;
pub use write::Enqueue;

use crate::protocol::report::Status;
use crate::store::{now, write_tx, AfterCommit, Backend, Store, StoreError, StoreResult, Tx};
use batch::Batcher;

/// A command handed to a device.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// CommandUUID.
    pub uuid: String,
    /// Command plist.
    pub body: Vec<u8>,
}

/// How enqueueing went for each requested target.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EnqueueOutcome {
    /// Targets the command was queued for.
    pub queued: Vec<String>,
    /// Targets that are not known enrollments.
    pub unknown: Vec<String>,
    /// Known enrollments that are not enrolled (checked out or never completed TokenUpdate).
    pub not_enrolled: Vec<String>,
}

/// Whether enqueued commands are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Mark the enrollments due and wake the push scheduler after the commit.
    Push,
    /// Queue only (`nopush`): the device gets the command when it next connects.
    NextCheckIn,
}

/// What a device's result did to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultEffect {
    /// The command left the queue.
    Done,
    /// NotNow: kept for a later connection.
    Deferred,
    /// The command had already left the queue (a repeated report); nothing changed.
    AlreadyDone,
}

/// A certificate that must be bound to a device before that device's queue is touched. On
/// PostgreSQL the check is part of the queue statement, on SQLite part of its transaction, so
/// the command endpoint asks the database once per request.
#[derive(Debug, Clone)]
pub struct BindingCheck {
    /// Hex SHA-256 of the request's certificate.
    pub cert_hash: String,
    /// The device the request claims to be.
    pub device_id: String,
}

impl BindingCheck {
    /// `Ok` when the certificate is bound to the device, else [`StoreError::NotBound`].
    pub fn outcome(&self, bound_to: Option<String>) -> StoreResult<()> {
        if bound_to.as_deref() == Some(self.device_id.as_str()) {
            Ok(())
        } else {
            Err(StoreError::NotBound { device: self.device_id.clone(), bound_to })
        }
    }
}

/// One device's report of one command.
#[derive(Debug, Clone)]
pub(crate) struct RecordRequest {
    /// The reporting enrollment.
    pub(crate) enrollment_id: String,
    /// CommandUUID.
    pub(crate) uuid: String,
    /// The status the report leads the queue row to.
    pub(crate) status: QueueStatus,
    /// Status as the device reported it (stored with the raw report).
    pub(crate) reported: Status,
    /// The raw report.
    pub(crate) body: Vec<u8>,
    /// The binding to check first, when this process has not seen it recently.
    pub(crate) check: Option<BindingCheck>,
    /// The reporting enrollment's device (for the result's event).
    pub(crate) device_id: String,
    /// The result's event: its topic and `data` (the command's RequestType is added by the
    /// statement that stores the result, in the same transaction).
    pub(crate) event: Option<(&'static str, String)>,
}

/// One device's Idle: claim its next command (NotNow commands included).
#[derive(Debug, Clone)]
pub(crate) struct ClaimRequest {
    /// The enrollment that reported Idle.
    pub(crate) enrollment_id: String,
    /// The binding to check first, when this process has not seen it recently.
    pub(crate) check: Option<BindingCheck>,
}

/// The command endpoint's batchers (PostgreSQL): Idle claims and results, each grouped into
/// one statement per batch.
#[derive(Debug)]
struct Batches {
    claims: Batcher<ClaimRequest, Option<Claimed>>,
    records: Batcher<RecordRequest, (ResultEffect, Option<Claimed>)>,
}

/// The most requests one batch statement serves.
const BATCH_MAX: usize = 64;

impl Batches {
    /// Batchers for a pool of `pool_size` connections. Each kind runs at most two batches at once
    /// (one with a pool under 4), so the command endpoint leaves most of the pool to check-ins,
    /// the API and pushes; requests that arrive meanwhile join the next batch. Fewer, larger
    /// batches cost the database less than more, smaller ones (docs/BENCHMARKS.md, "batch
    /// leaders").
    fn new(pool_size: usize) -> Batches {
        let leaders = (pool_size / 2).clamp(1, 2);
        Batches { claims: Batcher::new(leaders, BATCH_MAX, postgres::claim_many), records: Batcher::new(leaders, BATCH_MAX, postgres::record_many) }
    }
}

/// Wakes this replica's push scheduler: shared by the queue (which wakes it after an enqueue
/// marked enrollments due) and the scheduler (which waits on it).
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<tokio::sync::Notify>);

impl Waker {
    /// Wakes the scheduler (or lets its next wait return at once).
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits until [`Waker::wake`] is called (or was called since the last wait).
    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

/// The command queue over a store. Cheap to clone; one per process (its batchers group the
/// process's concurrent device requests).
#[derive(Debug, Clone)]
pub struct Queue {
    store: Store,
    waker: Waker,
    batches: Arc<Batches>,
}

impl Queue {
    /// The queue over `store`, with a new waker.
    pub fn new(store: Store) -> Queue {
        let batches = Arc::new(Batches::new(store.pool_size()));
        Queue { store, waker: Waker::default(), batches }
    }

    /// The waker the push scheduler waits on.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Runs `f` as one write transaction (see [`Tx`]); once it has committed, wakes the push
    /// scheduler if `f` queued commands to be pushed.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (v, after) = self.store.unit(now(), f).await?;
        if after == AfterCommit::Wake {
            self.waker.wake();
        }
        Ok(v)
    }

    /// Stores and queues `e` in one transaction ([`enqueue_in`]) and wakes the scheduler.
    pub async fn enqueue(&self, e: Enqueue) -> StoreResult<EnqueueOutcome> {
        self.write(move |tx| enqueue_in(tx, e)).await
    }

    /// Hands the next command to a device that reported `Idle` (NotNow commands included),
    /// after `check`, if given, finds the request's certificate bound to the device.
    /// On PostgreSQL the claim joins a batch of concurrent claims (one statement for all).
    pub async fn next(&self, enrollment_id: String, check: Option<BindingCheck>) -> StoreResult<Option<Claimed>> {
        match self.store.backend() {
            Backend::Postgres => self.batches.claims.submit(&self.store, ClaimRequest { enrollment_id, check }).await,
            Backend::Sqlite => self.store.run(move |conn| write_tx(conn, |conn| sqlite::next(conn, &enrollment_id, check.as_ref(), now()))).await,
        }
    }

    /// Records a device's `reported` result for `uuid` and hands the next command (NotNow
    /// ones excluded), in one transaction, after `check`, if given, finds the request's
    /// certificate bound to the device. A result for a command never queued for this
    /// enrollment is refused. On PostgreSQL the result joins a batch of concurrent results
    /// (one statement and one commit for all). A result that changes the queue is written to
    /// the event outbox in the same transaction (`command.acknowledged`, ...), with the raw
    /// report.
    pub async fn report(
        &self,
        who: &crate::protocol::enrollment::EnrollmentRef,
        uuid: String,
        reported: Status,
        body: Vec<u8>,
        check: Option<BindingCheck>,
    ) -> StoreResult<(ResultEffect, Option<Claimed>)> {
        let enrollment_id = who.id.clone();
        let Some(status) = QueueStatus::after(reported) else {
            return Err(StoreError::UnknownCommand { enrollment: enrollment_id, command: uuid });
        };
        let event = crate::store::events::topic::of_result(reported)
            .map(|t| (t, serde_json::json!({"command_uuid": uuid, "status": reported.as_str(), "enrollment_type": who.kind.as_str()}).to_string()));
        let report = RecordRequest { enrollment_id, uuid, status, reported, body, check, device_id: who.device_id.clone(), event };
        match self.store.backend() {
            Backend::Postgres => self.batches.records.submit(&self.store, report).await,
            Backend::Sqlite => self.store.run(move |conn| write_tx(conn, |conn| sqlite::report(conn, &report, now()))).await,
        }
    }

    /// Hands the next command after a result whose follow-ups were queued only after the
    /// result's own claim found nothing (NotNow ones excluded, as after every result). The
    /// binding was checked by that result.
    pub async fn next_after_result(&self, enrollment_id: String) -> StoreResult<Option<Claimed>> {
        let backend = self.store.backend();
        self.store
            .run(move |conn| {
                write_tx(conn, |conn| match backend {
                    Backend::Postgres => postgres::claim_after_result(conn, &enrollment_id, now()),
                    Backend::Sqlite => sqlite::claim_next(conn, &enrollment_id, sqlite::NotNow::Excluded, now()),
                })
            })
            .await
    }

    /// The store's listings of queue rows and results.
    pub fn listing(&self) -> listing::Listing<'_> {
        listing::Listing(&self.store)
    }
}
