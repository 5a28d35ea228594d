//! Failed-authentication limiting per client address: after `max` failed attempts from one
//! client within `window`, that client is refused until the oldest leaves the window. The
//! enrollment page counts each login when it starts ([`LoginLimiter::attempt`], so parallel
//! guesses cannot all pass the check: a password check takes tens of milliseconds); the admin
//! API counts failures only ([`LoginLimiter::blocked`], [`LoginLimiter::failed`]: its check is
//! a hash lookup, and its clients send many requests at once). A success wipes the count.
//!
//! Written here rather than taken from a rate-limiting crate because a success must undo the
//! count and a blocked client must be told when to retry, which the token-bucket crates do not
//! model. The state is per server process: with several replicas a client gets `max` tries on
//! each.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients tracked at most; beyond this the oldest entries are dropped first.
const MAX_CLIENTS: usize = 100_000;

/// Failure counts per client address.
#[derive(Debug)]
pub struct LoginLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// Allows `max` failures per `window`; `max` 0 turns limiting off.
    pub fn new(max: u32, window: Duration) -> LoginLimiter {
        LoginLimiter { max, window, failures: Mutex::new(HashMap::new()) }
    }

    /// Starts an attempt of `client` at `now`: counted, or refused with how long to wait when
    /// `max` attempts are already in the window.
    pub fn attempt(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CLIENTS && !map.contains_key(&client) {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
            if map.len() >= MAX_CLIENTS {
                // Full of clients still inside their window: refuse rather than forget.
                return Err(self.window);
            }
        }
        let q = map.entry(client).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            q.pop_front();
        }
        if q.len() >= self.max as usize {
            return Err(q.front().map(|t| self.window.saturating_sub(now.duration_since(*t))).unwrap_or(self.window));
        }
        q.push_back(now);
        Ok(())
    }

    /// How long `client` must still wait, if it is held off now (nothing is counted).
    pub fn blocked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        if self.max == 0 {
            return None;
        }
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let q = map.get(&client)?;
        let live: Vec<&Instant> = q.iter().filter(|t| now.duration_since(**t) < self.window).collect();
        (live.len() >= self.max as usize).then(|| live.first().map(|t| self.window.saturating_sub(now.duration_since(**t))).unwrap_or(self.window))
    }

    /// Counts a failure of `client` at `now`.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        // The same bookkeeping as an attempt; being held off already changes nothing.
        let _ = self.attempt(client, now);
    }

    /// A successful login clears the client's failures.
    pub fn succeeded(&self, client: IpAddr) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_attempts_until_the_window_passes() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.attempt(a, t0 + Duration::from_secs(i)), Ok(()), "attempt {i}");
        }
        assert_eq!(l.attempt(a, t0 + Duration::from_secs(10)), Err(Duration::from_secs(50)));
        assert_eq!(l.attempt(b, t0), Ok(()), "other clients are not affected");
        // The first attempt leaves the window: one more try.
        assert_eq!(l.attempt(a, t0 + Duration::from_secs(60)), Ok(()));
        assert!(l.attempt(a, t0 + Duration::from_secs(60)).is_err());
        // A success wipes the count.
        l.succeeded(a);
        assert_eq!(l.attempt(a, t0 + Duration::from_secs(61)), Ok(()));
        let off = LoginLimiter::new(0, Duration::from_secs(1));
        assert!((0..100).all(|_| off.attempt(a, t0).is_ok()));
    }

    #[test]
    fn failures_only_hold_a_client_off() {
        let l = LoginLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(l.blocked(a, t0), None);
        l.failed(a, t0);
        assert_eq!(l.blocked(a, t0), None, "checking counts nothing");
        l.failed(a, t0 + Duration::from_secs(5));
        assert_eq!(l.blocked(a, t0 + Duration::from_secs(10)), Some(Duration::from_secs(50)));
        assert_eq!(l.blocked(a, t0 + Duration::from_secs(61)), None, "the first failure left the window");
    }
}
