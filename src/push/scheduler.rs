//! The push scheduler: each replica runs one. A pass claims enrollments whose push is due
//! (enqueue marks them due; earlier pushes schedule re-pushes with backoff), pushes them in
//! batches, and records the outcomes, which schedule the next re-push. The claim is a lease in
//! the database, so replicas never push the same enrollment at once and a replica that dies
//! mid-pass leaves its claims to the others once the lease runs out.

use std::time::{Duration, Instant};

use chrono::SubsecRound;
use tracing::Instrument;

use super::{PushService, PushTarget};
use crate::config::PushConfig;
use crate::store::StoreError;

/// Most enrollments claimed per round of a pass.
pub const BATCH: i64 = 1000;
/// How often certificate expiry is checked and logged.
pub const EXPIRY_CHECK: Duration = Duration::from_secs(86_400);

/// One replica's scheduler.
#[derive(Debug, Clone)]
pub struct Scheduler {
    svc: PushService,
    poll: Duration,
    lease: Duration,
    batch: i64,
    held: Lease,
}

/// The lease a scheduler holds while a batch is out (claimed, outcomes not yet recorded), so a
/// stopping server can give it back ([`Lease::release`]).
#[derive(Debug, Clone, Default)]
pub struct Lease(std::sync::Arc<std::sync::Mutex<Option<chrono::NaiveDateTime>>>);

impl Lease {
    fn set(&self, v: Option<chrono::NaiveDateTime>) {
        if let Ok(mut g) = self.0.lock() {
            *g = v;
        }
    }

    /// Releases the lease held, if any (call once the scheduler has stopped): its enrollments
    /// are due again now. Returns how many.
    pub async fn release(&self, store: &crate::store::Store) -> Result<usize, StoreError> {
        let held = self.0.lock().ok().and_then(|mut g| g.take());
        match held {
            Some(lease) => store.push().release_push_lease(lease).await,
            None => Ok(0),
        }
    }
}

impl Scheduler {
    /// Builds the scheduler. The lease outlasts a batch's pushes.
    pub fn new(svc: PushService, cfg: &PushConfig) -> Scheduler {
        // A batch is no larger than the pusher runs at once, so its pushes go out in one wave,
        // each bounded by the timeout (connecting included).
        let batch = i64::try_from(cfg.max_in_flight.max(1)).unwrap_or(BATCH).min(BATCH);
        let lease = cfg.timeout * 2 + Duration::from_secs(10);
        Scheduler { svc, poll: cfg.poll_interval.max(Duration::from_millis(50)), lease, batch, held: Lease::default() }
    }

    /// The lease this scheduler holds while a batch is out.
    pub fn lease(&self) -> Lease {
        self.held.clone()
    }

    /// Runs forever: a pass whenever woken by an enqueue or every poll interval; certificate
    /// changes by other processes are picked up, and expiry is logged daily.
    pub async fn run(self) {
        let mut last_expiry_check = Instant::now();
        loop {
            if let Err(e) = self.svc.reload_if_changed().await {
                tracing::warn!(error = %e, "checking push certificates failed");
            }
            if last_expiry_check.elapsed() >= EXPIRY_CHECK {
                last_expiry_check = Instant::now();
                if let Err(e) = self.svc.check_expiry().await {
                    tracing::warn!(error = %e, "push certificate expiry check failed");
                }
            }
            match self.pass().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(pushed = n, "push pass done"),
                Err(e) => tracing::warn!(error = %e, "push pass failed; retrying at the next interval"),
            }
            tokio::select! {
                _ = self.svc.woken() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Claims and pushes due enrollments until none are left; returns how many were pushed.
    pub async fn pass(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        let result = self.rounds(&mut total).await;
        self.svc.metrics().push_due.set(i64::try_from(total).unwrap_or(i64::MAX));
        result.map(|()| total)
    }

    /// The rounds of a pass, counting claimed enrollments into `total`.
    async fn rounds(&self, total: &mut usize) -> Result<(), StoreError> {
        loop {
            let at = self.svc.now();
            // Whole microseconds: the lease is compared for equality after a database round trip.
            let lease_until = (at + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::minutes(2))).trunc_subsecs(6);
            self.held.set(Some(lease_until));
            let due = self.svc.state().claim_due_pushes(at, lease_until, self.batch).await?;
            if due.is_empty() {
                self.held.set(None);
                return Ok(());
            }
            *total += due.len();
            let pushed: std::collections::HashMap<String, (Vec<u8>, i32)> =
                due.iter().map(|d| (d.enrollment_id.clone(), (d.token.clone(), d.attempts))).collect();
            let targets: Vec<PushTarget> =
                due.into_iter().map(|d| PushTarget { enrollment_id: d.enrollment_id, topic: d.topic, token: d.token, push_magic: d.push_magic }).collect();
            let n = targets.len();
            let results = self.svc.pusher().push(targets).instrument(tracing::debug_span!("push_batch", n)).await;
            let done = self.svc.now();
            let records = results
                .into_iter()
                .map(|(id, o)| {
                    self.svc.note(&id, &o);
                    let (token, attempts) = pushed.get(&id).map(|(t, a)| (t.as_slice(), *a)).unwrap_or_default();
                    let rec = self.svc.record_for(&o, token, attempts, done);
                    (id, rec)
                })
                .collect();
            self.svc.state().record_pushes(records, Some(lease_until)).await?;
            self.held.set(None);
        }
    }
}
