//! Short-lived in-process caches for the command endpoint's hot path:
//! [`BindingCache`] (certificate → device, so the database is not asked on every request) and
//! [`VerifiedCache`] (presented certificate bytes → parsed and trust-checked certificate, so
//! OpenSSL does not parse and verify the same certificate on every request).
//!
//! Bindings change only on Authenticate. This process drops a device's entries when it handles
//! that device's Authenticate; another replica's rebinding is seen here within [`TTL`]. A verified
//! certificate is re-checked against the trust store after [`TTL`] and never used past notAfter.

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

/// Presented certificate (hash of the TLS leaf DER or of the proxy header value) → the parsed,
/// trusted certificate.
#[derive(Debug, Default)]
pub struct VerifiedCache {
    map: Mutex<HashMap<[u8; 32], (crate::identity::DeviceCert, Instant)>>,
}

impl VerifiedCache {
    /// The cached certificate for `key`, if fresh and not expired.
    pub fn get(&self, key: &[u8; 32], now: Instant) -> Option<crate::identity::DeviceCert> {
        let map = self.map.lock().ok()?;
        let (cert, at) = map.get(key)?;
        if now.duration_since(*at) >= TTL {
            return None;
        }
        let expired = cert.not_after().is_none_or(|na| na <= chrono::Utc::now().naive_utc());
        (!expired).then(|| cert.clone())
    }

    /// Remembers a certificate that passed the trust check.
    pub fn put(&self, key: [u8; 32], cert: crate::identity::DeviceCert, now: Instant) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, (cert, now));
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
}
