//! One unit of work: a write transaction that may span concerns (queue rows, install states,
//! app events, and whatever else a change must write atomically with its commands).

use chrono::NaiveDateTime;

use super::{write_tx, DbConn, Store, StoreResult};

/// A write transaction in progress, with the time it works at and what it asks for after the
/// commit. Made only by [`Store::unit`], so its writes commit together or not at all.
pub struct Tx<'c> {
    /// The connection, inside `BEGIN` (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) conn: &'c mut DbConn,
    /// The transaction's time: every row it writes carries this one.
    pub(crate) at: NaiveDateTime,
    /// Enrollments were marked due for a push: the scheduler is to be woken after the commit.
    pub(crate) wake: bool,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("at", &self.at).field("wake", &self.wake).finish()
    }
}

/// What a committed unit of work asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterCommit {
    /// Nothing.
    Nothing,
    /// Wake the push scheduler: enrollments were marked due.
    Wake,
}

impl Store {
    /// Runs `f` as one write transaction at `at` and says what the caller must do once it has
    /// committed. The queue's [`crate::queue::Queue::write`] is the public way in: it wakes the
    /// push scheduler when asked to.
    pub(crate) async fn unit<T, F>(&self, at: NaiveDateTime, f: F) -> StoreResult<(T, AfterCommit)>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.run(move |conn| {
            write_tx(conn, |conn| {
                let mut tx = Tx { conn, at, wake: false };
                let v = f(&mut tx)?;
                Ok((v, if tx.wake { AfterCommit::Wake } else { AfterCommit::Nothing }))
            })
        })
        .await
    }
}
