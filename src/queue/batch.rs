//! Group commit for the command endpoint on PostgreSQL.
//!
//! A device's Idle or result is one short statement, and under load its fixed costs (executor
//! set-up, plan checks, the commit, a round trip to the database and the hand-offs to and from
//! the blocking pool) outweigh the few rows it changes. A [`Batcher`] runs the requests that
//! arrive while earlier ones are in the database as one statement instead (see `postgres.rs`):
//!
//! - A request joins the pending list, then waits for its answer or for a leader permit,
//!   whichever comes first. Only a few batches run at once.
//! - A request that gets a permit takes the pending requests (its own or others', at most one
//!   per enrollment, `max` in all and [`BATCH_BYTES`] of result bodies) and runs them as one
//!   statement on the blocking pool.
//! - Answers are sent from the blocking thread, so a leader whose device hangs up never strands
//!   the requests it took.
//! - Alone, a request leads at once: a batch of one, no timer and no added wait.
//! - When the statement fails as a whole, its requests run one by one, so a deadlock victim or
//!   one bad input never fails the others.
//!
//! Written here because the grouping has to know the statement (one row per enrollment, answers
//! in input order); no crate does that for a diesel connection.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::NaiveDateTime;
use diesel::PgConnection;
use tokio::sync::{oneshot, Semaphore};

use crate::store::{DbConn, DbPool, Store, StoreError, StoreResult};

/// A request that belongs to one enrollment; a batch holds at most one request per key.
pub(crate) trait Keyed {
    /// The enrollment the request touches.
    fn key(&self) -> &str;
    /// Bytes the request adds to the statement (a result's body); batches stop growing at
    /// [`BATCH_BYTES`].
    fn bytes(&self) -> usize {
        0
    }
}

/// The most payload bytes a batch takes, so a burst of large results (application lists,
/// certificate lists) is not sent and held as one huge statement. A request larger than this
/// still runs, in a batch of its own.
pub(crate) const BATCH_BYTES: usize = 4 << 20;

/// Where one request's answer goes.
type Answer<O> = oneshot::Sender<StoreResult<O>>;

/// What a batch statement answers: the outer error is the statement's, the inner ones are each
/// input's, in input order.
pub(crate) type Answers<O> = StoreResult<Vec<StoreResult<O>>>;

/// A batch statement on a connection of type `C`.
pub(crate) type RunBatch<C, I, O> = fn(&mut C, &[I], NaiveDateTime) -> Answers<O>;

/// Groups concurrent requests of one kind into batch statements.
pub(crate) struct Batcher<I, O> {
    pending: Mutex<VecDeque<(I, Answer<O>)>>,
    leaders: Arc<Semaphore>,
    max: usize,
    run: RunBatch<PgConnection, I, O>,
}

impl<I, O> std::fmt::Debug for Batcher<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("leaders", &self.leaders.available_permits()).field("max", &self.max).finish()
    }
}

/// The answer of a request whose batch ended without one (its blocking task died).
fn dropped() -> StoreError {
    StoreError::Task("the batch holding this request ended without an answer".into())
}

impl<I: Keyed + Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// A batcher that runs at most `leaders` batches at once, each of at most `max` requests.
    pub(crate) fn new(leaders: usize, max: usize, run: RunBatch<PgConnection, I, O>) -> Batcher<I, O> {
        Batcher { pending: Mutex::new(VecDeque::new()), leaders: Arc::new(Semaphore::new(leaders.max(1))), max: max.max(1), run }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<(I, Answer<O>)>> {
        // The list stays consistent even if a holder panicked: every change is a single push,
        // pop or swap.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `item` in a batch on `store`'s PostgreSQL pool and returns its answer.
    pub(crate) async fn submit(&self, store: &Store, item: I) -> StoreResult<O> {
        let (tx, mut rx) = oneshot::channel();
        self.lock().push_back((item, tx));
        loop {
            let permit = tokio::select! {
                biased;
                answer = &mut rx => return answer.unwrap_or_else(|_| Err(dropped())),
                permit = self.leaders.clone().acquire_owned() => permit.map_err(|e| StoreError::Task(e.to_string()))?,
            };
            let slot = store.slot().await?;
            // No await from here until the batch is handed to its thread: a request cancelled
            // now cannot drop the requests it took.
            let batch = self.take();
            if batch.is_empty() {
                // Another leader took this request; the answer comes from its batch.
                drop((permit, slot));
                return rx.await.unwrap_or_else(|_| Err(dropped()));
            }
            let (pool, run) = (store.pool().clone(), self.run);
            tokio::task::spawn_blocking(move || {
                let _held = (permit, slot);
                answer_batch(&pool, run, batch);
            });
        }
    }

    /// Takes the oldest pending requests, at most one per enrollment, `max` in all and
    /// [`BATCH_BYTES`] of payload (or one request); the others stay pending, in order.
    fn take(&self) -> Vec<(I, Answer<O>)> {
        let mut pending = self.lock();
        let mut batch: Vec<(I, Answer<O>)> = Vec::new();
        let mut rest = VecDeque::new();
        let mut bytes = 0;
        while let Some(entry) = pending.pop_front() {
            let size = entry.0.bytes();
            let fits = batch.is_empty() || (batch.len() < self.max && bytes + size <= BATCH_BYTES);
            // An enrollment's requests keep their order: none is taken past one left pending.
            let key = entry.0.key();
            if fits && !batch.iter().chain(rest.iter()).any(|(b, _)| b.key() == key) {
                bytes += size;
                batch.push(entry);
            } else {
                rest.push_back(entry);
            }
        }
        *pending = rest;
        batch
    }
}

/// Runs a batch on a pooled connection and sends every answer.
fn answer_batch<I, O>(pool: &DbPool, run: RunBatch<PgConnection, I, O>, batch: Vec<(I, Answer<O>)>) {
    let (items, answers): (Vec<I>, Vec<Answer<O>>) = batch.into_iter().unzip();
    let fail_all = |answers: Vec<Answer<O>>, why: &dyn Fn() -> StoreError| {
        for a in answers {
            let _ = a.send(Err(why()));
        }
    };
    let mut conn = match pool.get() {
        Ok(c) => c,
        Err(e) => {
            let text = e.to_string();
            return fail_all(answers, &|| StoreError::Unavailable(text.clone()));
        }
    };
    let DbConn::Pg(pg) = &mut *conn else {
        return fail_all(answers, &|| StoreError::Task("batched statements need PostgreSQL".into()));
    };
    answer_on(pg, run, &items, answers);
}

/// Runs a batch on `conn` and sends every answer; when the statement fails as a whole, runs
/// each request on its own.
fn answer_on<C, I, O>(conn: &mut C, run: RunBatch<C, I, O>, items: &[I], answers: Vec<Answer<O>>) {
    match run(conn, items, super::now()) {
        Ok(results) => {
            for (a, r) in answers.into_iter().zip(results) {
                let _ = a.send(r);
            }
        }
        Err(e) if items.len() == 1 => {
            if let Some(a) = answers.into_iter().next() {
                let _ = a.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, requests = items.len(), "batch statement failed; running its requests one by one");
            for (item, a) in items.iter().zip(answers) {
                let one = run(conn, std::slice::from_ref(item), super::now())
                    .and_then(|mut v| v.pop().ok_or_else(|| StoreError::Task("batch statement gave no answer".into())))
                    .and_then(|r| r);
                let _ = a.send(one);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Req(&'static str);

    impl Keyed for Req {
        /// "e:3" is a request of enrollment "e" weighing 3 MiB; "e" weighs 10 bytes.
        fn key(&self) -> &str {
            self.0.split(':').next().unwrap_or("")
        }
        fn bytes(&self) -> usize {
            self.0.split(':').nth(1).and_then(|m| m.parse::<usize>().ok()).map_or(10, |m| m << 20)
        }
    }

    fn nothing(_: &mut PgConnection, items: &[Req], _: NaiveDateTime) -> Answers<()> {
        Ok(items.iter().map(|_| Ok(())).collect())
    }

    /// A statement that fails as a whole when it holds a request keyed "poison" with others,
    /// and answers each request with its key (or refuses "bad" ones). Records each run's size.
    fn picky(runs: &mut Vec<usize>, items: &[Req], _: NaiveDateTime) -> Answers<String> {
        runs.push(items.len());
        if items.len() > 1 && items.iter().any(|r| r.0 == "poison") {
            return Err(StoreError::Task("deadlock detected".into()));
        }
        Ok(items.iter().map(|r| if r.0 == "bad" { Err(StoreError::NotFound(r.0.into())) } else { Ok(r.0.to_string()) }).collect())
    }

    fn answered(keys: &[&'static str]) -> Vec<(usize, String)> {
        let mut runs = Vec::new();
        let (answers, rxs): (Vec<_>, Vec<_>) = keys.iter().map(|_| oneshot::channel()).unzip();
        let items: Vec<Req> = keys.iter().map(|k| Req(k)).collect();
        answer_on(&mut runs, picky, &items, answers);
        rxs.into_iter()
            .map(|mut rx| match rx.try_recv() {
                Ok(Ok(v)) => (runs.len(), v),
                Ok(Err(e)) => (runs.len(), format!("error: {e}")),
                Err(e) => (runs.len(), format!("no answer: {e}")),
            })
            .collect()
    }

    #[test]
    fn each_request_gets_its_own_answer() {
        let got = answered(&["a", "bad", "c"]);
        assert_eq!(got, [(1, "a".into()), (1, "error: bad".into()), (1, "c".into())]);
    }

    #[test]
    fn a_failed_statement_is_run_again_one_request_at_a_time() {
        let got: Vec<String> = answered(&["a", "poison", "bad"]).into_iter().map(|(runs, v)| format!("{runs} {v}")).collect();
        // One failed run of three, then one run per request.
        assert_eq!(got, ["4 a", "4 poison", "4 error: bad"]);
        // A batch of one that fails is not run again.
        let mut runs = Vec::new();
        let (tx, mut rx) = oneshot::channel::<StoreResult<()>>();
        let down = |runs: &mut Vec<usize>, items: &[Req], _: NaiveDateTime| {
            runs.push(items.len());
            Err(StoreError::Task("down".into()))
        };
        answer_on(&mut runs, down, &[Req("a")], vec![tx]);
        assert!(matches!(rx.try_recv(), Ok(Err(StoreError::Task(_)))));
        assert_eq!(runs, [1]);
    }

    #[test]
    fn a_batch_takes_one_request_per_enrollment_up_to_max_and_keeps_the_rest_in_order() {
        let b: Batcher<Req, ()> = Batcher::new(1, 3, nothing);
        let mut answers = Vec::new();
        for k in ["a", "b", "a", "c", "d", "b"] {
            let (tx, rx) = oneshot::channel();
            answers.push(rx);
            b.lock().push_back((Req(k), tx));
        }
        let keys = |v: &[(Req, Answer<()>)]| v.iter().map(|(r, _)| r.0).collect::<Vec<_>>();
        assert_eq!(keys(&b.take()), ["a", "b", "c"]);
        let rest: Vec<_> = b.lock().iter().map(|(r, _)| r.0).collect();
        assert_eq!(rest, ["a", "d", "b"]);
        assert_eq!(keys(&b.take()), ["a", "d", "b"]);
        assert!(b.take().is_empty());
    }

    #[test]
    fn a_batch_stops_at_its_byte_budget_but_always_takes_one() {
        let b: Batcher<Req, ()> = Batcher::new(1, 64, nothing);
        for k in ["x:3", "a", "y:3", "z:3", "c", "y"] {
            let (tx, _rx) = oneshot::channel();
            b.lock().push_back((Req(k), tx));
        }
        let keys = |v: &[(Req, Answer<()>)]| v.iter().map(|(r, _)| r.0).collect::<Vec<_>>();
        // The small "y" would fit the first batch but waits behind its enrollment's big one.
        assert_eq!(keys(&b.take()), ["x:3", "a", "c"]);
        assert_eq!(keys(&b.take()), ["y:3"]);
        assert_eq!(keys(&b.take()), ["z:3", "y"]);
        assert!(b.take().is_empty());
    }
}
