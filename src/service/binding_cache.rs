//! In-process caches for the device endpoints' hot path: [`BindingCache`] (certificate →
//! device, so the database is not asked on every request) and [`VerifiedCache`] (presented
//! certificate bytes → trust decision, so OpenSSL does not parse and verify the same
//! certificate on every request).
//!
//! Bindings change only on Authenticate. This process drops a device's entries when it handles
//! that device's Authenticate; another replica's rebinding is seen here within [`TTL`]. A trust
//! decision is kept until the earliest notAfter of the chain it was made for.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a cached binding is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(30);
/// Most entries kept; past this the cache is emptied and refilled (cheap, rare).
const MAX_ENTRIES: usize = 200_000;

/// Certificate hash → (device id, cached at), with the reverse index so a device's entries can
/// be dropped without scanning every entry.
#[derive(Debug, Default)]
pub struct BindingCache {
    map: Mutex<Bindings>,
}

#[derive(Debug, Default)]
struct Bindings {
    by_hash: HashMap<String, (String, Instant)>,
    by_device: HashMap<String, Vec<String>>,
}

impl BindingCache {
    /// The cached device for `hash`, if fresh.
    pub fn get(&self, hash: &str, now: Instant) -> Option<String> {
        let map = self.map.lock().ok()?;
        map.by_hash.get(hash).filter(|(_, at)| now.duration_since(*at) < TTL).map(|(d, _)| d.clone())
    }

    /// Remembers a binding read from (or just written to) the database.
    pub fn put(&self, hash: &str, device: &str, now: Instant) {
        if let Ok(mut map) = self.map.lock() {
            if map.by_hash.len() >= MAX_ENTRIES {
                map.by_hash.clear();
                map.by_device.clear();
            }
            if let Some((old, _)) = map.by_hash.insert(hash.to_string(), (device.to_string(), now)) {
                if old != device {
                    if let Some(hashes) = map.by_device.get_mut(&old) {
                        hashes.retain(|h| h != hash);
                    }
                }
            }
            let hashes = map.by_device.entry(device.to_string()).or_default();
            if !hashes.iter().any(|h| h == hash) {
                hashes.push(hash.to_string());
            }
        }
    }

    /// Forgets every certificate of `device` (its binding just changed).
    pub fn forget_device(&self, device: &str) {
        if let Ok(mut map) = self.map.lock() {
            for hash in map.by_device.remove(device).unwrap_or_default() {
                map.by_hash.remove(&hash);
            }
        }
    }
}

/// A presented certificate that passed the trust check, as the hot path needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Hex SHA-256 of the leaf's DER (the binding key).
    pub hash: String,
    /// Until when the trust decision holds: the earliest notAfter of the verified chain.
    pub until: chrono::NaiveDateTime,
}

/// Presented certificate (hash of the TLS chain or of the proxy header value) → the trust
/// decision for it. The trust store is fixed for the life of the process, so a decision holds
/// until the earliest notAfter of the verified chain; entries are small (no parsed
/// certificate), so a fleet's worth fits.
#[derive(Debug, Default)]
pub struct VerifiedCache {
    map: Mutex<HashMap<[u8; 32], Verified>>,
}

impl VerifiedCache {
    /// The cached decision for `key`, if it still holds at `now` (UTC).
    pub fn get(&self, key: &[u8; 32], now: chrono::NaiveDateTime) -> Option<Verified> {
        let map = self.map.lock().ok()?;
        map.get(key).filter(|v| now < v.until).cloned()
    }

    /// Remembers a certificate that passed the trust check.
    pub fn put(&self, key: [u8; 32], verified: Verified) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, verified);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let c = BindingCache::default();
        let t0 = Instant::now();
        c.put("h1", "dev", t0);
        assert_eq!(c.get("h1", t0).as_deref(), Some("dev"));
        assert_eq!(c.get("h1", t0 + TTL + Duration::from_millis(1)), None);
        c.forget_device("dev");
        assert_eq!(c.get("h1", t0), None);
        // A certificate that moves to another device is forgotten with that device only.
        c.put("h2", "a", t0);
        c.put("h3", "a", t0);
        c.put("h2", "b", t0);
        c.forget_device("a");
        assert_eq!(c.get("h3", t0), None);
        assert_eq!(c.get("h2", t0).as_deref(), Some("b"));
        c.forget_device("b");
        assert_eq!(c.get("h2", t0), None);
    }

    #[test]
    fn trust_decisions_hold_until_the_chain_expires() {
        let c = VerifiedCache::default();
        let now = chrono::Utc::now().naive_utc();
        let v = Verified { hash: "h".into(), until: now + chrono::Duration::hours(1) };
        c.put([1; 32], v.clone());
        assert_eq!(c.get(&[1; 32], now), Some(v.clone()));
        assert_eq!(c.get(&[1; 32], now + chrono::Duration::minutes(59)), Some(v));
        assert_eq!(c.get(&[1; 32], now + chrono::Duration::hours(1)), None);
        assert_eq!(c.get(&[2; 32], now), None);
    }
}
