//! Failed-login limiting for the enrollment page: after `max` failures from one client within
//! `window`, that client's logins are refused until the oldest failure leaves the window.
//!
//! Written here rather than taken from a rate-limiting crate because only failures count and a
//! blocked client must be told when to retry, which the token-bucket crates do not model. The
//! state is per server process: with several replicas a client gets `max` tries on each.

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

    /// `Some(wait)` when `client` is blocked at `now`.
    pub fn blocked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        if self.max == 0 {
            return None;
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let q = map.get_mut(&client)?;
        while q.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            q.pop_front();
        }
        if q.is_empty() {
            map.remove(&client);
            return None;
        }
        (q.len() >= self.max as usize).then(|| q.front().map(|t| self.window.saturating_sub(now.duration_since(*t))).unwrap_or(self.window))
    }

    /// Records a failure of `client` at `now`.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        if self.max == 0 {
            return;
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CLIENTS && !map.contains_key(&client) {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
            if map.len() >= MAX_CLIENTS {
                return;
            }
        }
        let q = map.entry(client).or_default();
        q.push_back(now);
        while q.len() > self.max as usize {
            q.pop_front();
        }
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
    fn blocks_after_max_failures_until_the_window_passes() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.blocked(a, t0), None, "attempt {i}");
            l.failed(a, t0 + Duration::from_secs(i));
        }
        let wait = l.blocked(a, t0 + Duration::from_secs(10)).expect("blocked");
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(l.blocked(b, t0), None, "other clients are not affected");
        // The first failure leaves the window: one more try.
        assert_eq!(l.blocked(a, t0 + Duration::from_secs(60)), None);
        l.succeeded(a);
        assert_eq!(l.blocked(a, t0 + Duration::from_secs(61)), None);
        assert_eq!(LoginLimiter::new(0, Duration::from_secs(1)).blocked(a, t0), None);
    }
}
