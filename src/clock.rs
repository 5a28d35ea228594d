//! The time the server works at, as a value passed in rather than read deep inside logic, so
//! retry schedules, expiry and audit times can be tested by moving the clock.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDateTime;

/// A source of the current time (UTC, no zone, as stored in the database).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> NaiveDateTime;
}

/// The system clock: what every server runs with.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        crate::store::now()
    }
}

/// A clock that stands where it is put and moves when told (for tests and simulations).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<NaiveDateTime>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn at(at: NaiveDateTime) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Moves the clock by `by` (backwards when negative).
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The shared clock handle services hold.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock as a shared handle.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0).map(|d| d.naive_utc()).unwrap_or_default();
        let c = ManualClock::at(t0);
        assert_eq!(c.now(), t0);
        c.advance(chrono::Duration::days(3));
        assert_eq!(c.now() - t0, chrono::Duration::days(3));
    }
}
