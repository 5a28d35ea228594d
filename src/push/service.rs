//! [`PushService`]: push certificates (import, list, reload into the pusher, expiry warnings),
//! explicit pushes, and the bookkeeping shared with the scheduler.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::cert::{PushCert, PushCertError};
use super::{PushOutcome, PushTarget, Pusher};
use crate::config::PushConfig;
use crate::metrics::Metrics;
use crate::secrets::{SecretKey, SecretsError};
use crate::store::models::PushCertRow;
use crate::store::push::{PushRecord, SaveCertOutcome, StaleToken};
use crate::store::{Store, StoreError};

/// Errors importing a push certificate.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The upload is not a usable MDM push certificate.
    #[error("{0}")]
    Cert(#[from] PushCertError),
    /// The key cannot be sealed (no secrets key configured).
    #[error("{0}")]
    Secrets(#[from] SecretsError),
    /// Storing failed, or the topic changed without `force`.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A development push certificate outside development mode.
    #[error(
        "this is a development push certificate (made by `mdm init`, not by Apple): it is accepted only with \
         push.development = true, where pushes go to the mock APNs of `mdm sim`; import the MDM push certificate \
         from Apple's Push Certificates Portal instead"
    )]
    Development,
}

/// A push certificate as admins see it (never the key).
#[derive(Debug, Clone, Serialize)]
pub struct CertView {
    /// APNs topic.
    pub topic: String,
    /// Subject.
    pub subject: String,
    /// Start of validity (UTC).
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub not_before: NaiveDateTime,
    /// End of validity (UTC).
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub not_after: NaiveDateTime,
    /// Whole days until it expires (negative once expired).
    pub days_left: i64,
    /// Expires within the warning period.
    pub expires_soon: bool,
    /// Already expired.
    pub expired: bool,
    /// Newest certificate this server may push with: the topic new enrollments get.
    pub active: bool,
    /// A development push certificate (`mdm init`'s; pushes go to the local mock APNs).
    pub development: bool,
    /// This server can push with it (a development certificate only in development mode).
    pub usable: bool,
    /// First import.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last import (renewal).
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// What importing did.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    /// Added (first or forced new topic) or renewed (same topic).
    pub outcome: SaveCertOutcome,
    /// The stored certificate.
    pub certificate: CertView,
}

/// Pushes, certificates and push bookkeeping. Cheap to clone.
#[derive(Clone)]
pub struct PushService {
    /// Push certificates and push state.
    push: crate::store::push::PushStore,
    /// Enrollments (tokens to push).
    devices: crate::store::devices::DeviceStore,
    pusher: Arc<dyn Pusher>,
    secrets: Option<Arc<SecretKey>>,
    metrics: Arc<Metrics>,
    wake: crate::queue::Waker,
    clock: crate::clock::SharedClock,
    delays: Arc<Vec<Duration>>,
    expiry_warning: Duration,
    /// `push.development`: development push certificates are accepted.
    development: bool,
    loaded: Arc<Mutex<Vec<(String, NaiveDateTime)>>>,
}

impl std::fmt::Debug for PushService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushService").field("delays", &self.delays).finish()
    }
}

/// The wait before the next re-push after `attempts_before` earlier pushes: the schedule's
/// entries in turn, then its last one for good (a minute if the schedule is empty).
fn retry_delay(delays: &[Duration], attempts_before: i32) -> Duration {
    let i = usize::try_from(attempts_before).unwrap_or(0).min(delays.len().saturating_sub(1));
    delays.get(i).copied().unwrap_or(Duration::from_secs(60))
}

/// Whole days from `now` until `t` (floor; negative when past).
fn days_until(t: NaiveDateTime, now: NaiveDateTime) -> i64 {
    (t - now).num_seconds().div_euclid(86_400)
}

impl PushService {
    /// Builds the service. Without a secrets key, certificates cannot be imported or loaded.
    /// `wake` is the queue's: the scheduler waits on it.
    pub fn new(
        store: Store,
        pusher: Arc<dyn Pusher>,
        secrets: Option<SecretKey>,
        metrics: Arc<Metrics>,
        wake: crate::queue::Waker,
        cfg: &PushConfig,
    ) -> PushService {
        PushService {
            push: store.push(),
            devices: store.devices(),
            pusher,
            secrets: secrets.map(Arc::new),
            metrics,
            wake,
            clock: crate::clock::system(),
            delays: Arc::new(cfg.retry_delays()),
            expiry_warning: cfg.expiry_warning,
            development: cfg.development,
            loaded: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The same service on `clock` (tests move it to see schedules and expiry).
    pub fn with_clock(self, clock: crate::clock::SharedClock) -> PushService {
        PushService { clock, ..self }
    }

    /// The time this service works at.
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    /// The push tables (for the scheduler).
    pub fn state(&self) -> &crate::store::push::PushStore {
        &self.push
    }

    /// The pusher.
    pub fn pusher(&self) -> &Arc<dyn Pusher> {
        &self.pusher
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Waits until the queue wakes this replica's scheduler (after an enqueue marked
    /// enrollments due), or has since the last wait.
    pub async fn woken(&self) {
        self.wake.woken().await;
    }

    /// The stored outcome of a push of `token` made when `attempts_before` pushes had already
    /// gone out: a refused token stops the schedule (unless the device registered a new one
    /// meanwhile, see [`PushRecord::stale`]); everything else (sent, or failed in a way a later
    /// push may fix) schedules the next re-push per the configured delays.
    pub fn record_for(&self, outcome: &PushOutcome, token: &[u8], attempts_before: i32, at: NaiveDateTime) -> PushRecord {
        let delay = retry_delay(&self.delays, attempts_before);
        let next = at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::minutes(1));
        PushRecord {
            result: outcome.name(),
            error: outcome.error(),
            stale: outcome.token_is_stale().then(|| StaleToken { token: token.to_vec(), since: outcome.invalid_since() }),
            attempts: Some(attempts_before.saturating_add(1)),
            next_push_at: Some(next),
        }
    }

    /// Pushes each enrollment id now (an admin's explicit push). Unknown, not enrolled and
    /// stale-token enrollments are reported, not pushed. Outcomes are recorded; the re-push
    /// schedule is left as it is.
    pub async fn push_now(&self, ids: &[String]) -> Result<BTreeMap<String, PushOutcome>, StoreError> {
        let found = self.devices.enrollments_by_ids(ids.to_vec()).await?;
        let stale: std::collections::HashMap<String, Option<NaiveDateTime>> =
            self.push.push_states(ids.to_vec()).await?.into_iter().map(|s| (s.enrollment_id, s.token_stale_at)).collect();
        let mut out = BTreeMap::new();
        let mut targets = Vec::new();
        for id in ids {
            let not_sent = |reason: String| PushOutcome::NotSent { reason };
            match found.iter().find(|e| &e.id == id) {
                None => {
                    out.insert(id.clone(), not_sent("unknown enrollment".into()));
                }
                Some(e) => match (&e.token, &e.push_magic, e.enabled, stale.get(id).copied().flatten()) {
                    (_, _, _, Some(at)) => {
                        out.insert(id.clone(), not_sent(format!("APNs reported the token invalid at {at} UTC; waiting for the device's next TokenUpdate")));
                    }
                    (Some(token), Some(magic), true, None) => {
                        targets.push(PushTarget { enrollment_id: e.id.clone(), topic: e.topic.clone(), token: token.clone(), push_magic: magic.clone() })
                    }
                    _ => {
                        out.insert(id.clone(), not_sent("not enrolled (no push token)".into()));
                    }
                },
            }
        }
        if !targets.is_empty() {
            let tokens: std::collections::HashMap<String, Vec<u8>> = targets.iter().map(|t| (t.enrollment_id.clone(), t.token.clone())).collect();
            let results = self.pusher.push(targets).await;
            let at = self.clock.now();
            let mut records = Vec::with_capacity(results.len());
            for (id, o) in results {
                self.note(&id, &o);
                let token = tokens.get(&id).map(Vec::as_slice).unwrap_or_default();
                let rec = PushRecord { attempts: None, next_push_at: None, ..self.record_for(&o, token, 0, at) };
                records.push((id.clone(), rec));
                out.insert(id, o);
            }
            self.push.record_pushes(records, None).await?;
        }
        Ok(out)
    }

    /// Counts and logs one outcome.
    pub fn note(&self, enrollment_id: &str, o: &PushOutcome) {
        self.metrics.count_push(o.name());
        match o {
            PushOutcome::Sent { apns_id } => tracing::debug!(enrollment = %enrollment_id, %apns_id, "pushed"),
            PushOutcome::Unregistered { .. } | PushOutcome::BadToken { .. } => {
                tracing::info!(enrollment = %enrollment_id, result = o.name(), error = o.error().unwrap_or_default(), "push token no longer valid; waiting for a new TokenUpdate")
            }
            PushOutcome::Certificate { .. } => {
                tracing::error!(enrollment = %enrollment_id, error = o.error().unwrap_or_default(), "push failed: certificate problem")
            }
            _ => tracing::warn!(enrollment = %enrollment_id, result = o.name(), error = o.error().unwrap_or_default(), "push failed"),
        }
    }

    fn view(&self, c: &PushCertRow, active: bool, at: NaiveDateTime) -> CertView {
        let days_left = days_until(c.not_after, at);
        let warn = chrono::Duration::from_std(self.expiry_warning).unwrap_or(chrono::Duration::days(30));
        CertView {
            topic: c.topic.clone(),
            subject: c.subject.clone(),
            not_before: c.not_before,
            not_after: c.not_after,
            days_left,
            expires_soon: c.not_after - at <= warn,
            expired: c.not_after <= at,
            active,
            development: c.subject.contains(mdm_pki::DEVELOPMENT_PUSH_OU),
            usable: self.usable(c),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }

    /// Stored certificates, newest (active) first.
    pub async fn certs(&self) -> Result<Vec<CertView>, StoreError> {
        let at = self.clock.now();
        let rows = self.push.push_certs().await?;
        let active = rows.iter().position(|c| self.usable(c));
        Ok(rows.iter().enumerate().map(|(i, c)| self.view(c, Some(i) == active, at)).collect())
    }

    /// Whether this process may push with the certificate: a development one only in
    /// development mode.
    fn usable(&self, c: &PushCertRow) -> bool {
        self.development || !c.subject.contains(mdm_pki::DEVELOPMENT_PUSH_OU)
    }

    /// The topic new enrollments are given: that of the newest certificate.
    pub async fn active_topic(&self) -> Result<Option<String>, StoreError> {
        Ok(self.push.push_certs().await?.into_iter().find(|c| self.usable(c)).map(|c| c.topic))
    }

    /// Imports an uploaded certificate (.p12 with `password`, or PEM with certificate and key).
    /// Nothing is stored unless it parses, is an unexpired MDM push certificate, and its topic
    /// is the stored one (or `topic` allows a new one). The new certificate is used at once.
    pub async fn import(&self, data: &[u8], password: Option<&str>, topic: crate::store::push::TopicChange) -> Result<Imported, ImportError> {
        let cert = PushCert::from_upload(data, password)?;
        if cert.development && !self.development {
            return Err(ImportError::Development);
        }
        let key = self.secrets.as_ref().ok_or(SecretsError::NotConfigured)?;
        let at = self.clock.now();
        let row = PushCertRow {
            topic: cert.topic.clone(),
            subject: cert.subject.clone(),
            cert_chain_pem: cert.cert_chain_pem.clone(),
            key_sealed: key.seal(cert.key_pkcs8_der(), cert.topic.as_bytes())?,
            not_before: cert.not_before,
            not_after: cert.not_after,
            created_at: at,
            updated_at: at,
        };
        let outcome = self.push.save_push_cert(row.clone(), topic).await?;
        tracing::info!(topic = %cert.topic, not_after = %cert.not_after, ?outcome, "push certificate imported");
        self.reload().await?;
        let certificate = self.certs().await?.into_iter().find(|c| c.topic == cert.topic).unwrap_or_else(|| self.view(&row, true, at));
        Ok(Imported { outcome, certificate })
    }

    /// Removes the certificate of `topic`; returns whether it existed.
    pub async fn delete(&self, topic: &str) -> Result<bool, ImportError> {
        let gone = self.push.delete_push_cert(topic.to_string()).await?;
        if gone {
            tracing::warn!(%topic, "push certificate removed");
            self.reload().await?;
        }
        Ok(gone)
    }

    /// Loads every stored certificate into the pusher, updates the expiry gauges, and logs
    /// certificates that expired or expire soon. Returns how many are usable.
    pub async fn reload(&self) -> Result<usize, ImportError> {
        let rows = self.push.push_certs().await?;
        let at = self.clock.now();
        let mut certs = Vec::new();
        for r in &rows {
            let Some(key) = self.secrets.as_ref() else {
                tracing::error!(topic = %r.topic, "push certificate stored but no secrets key configured; cannot push");
                continue;
            };
            match key.open(&r.key_sealed, r.topic.as_bytes()).map_err(ImportError::from).and_then(|k| Ok(PushCert::from_stored(&r.cert_chain_pem, &k)?)) {
                Ok(c) if c.development && !self.development => {
                    tracing::error!(topic = %r.topic, "stored push certificate is a development one (mdm init's) and push.development is off: not used; import Apple's certificate (mdm push-cert import FILE --force) and remove this one (mdm push-cert remove TOPIC)")
                }
                Ok(c) => certs.push(c),
                Err(e) => tracing::error!(topic = %r.topic, error = %e, "stored push certificate unusable"),
            }
        }
        self.report_expiry(&rows, at);
        self.pusher.set_certs(&certs);
        if let Ok(mut l) = self.loaded.lock() {
            *l = rows.iter().map(|r| (r.topic.clone(), r.updated_at)).collect();
            l.sort();
        }
        Ok(certs.len())
    }

    /// Reloads when another process (a replica, or `mdm push-cert import`) changed the stored
    /// certificates.
    pub async fn reload_if_changed(&self) -> Result<(), ImportError> {
        let current = self.push.push_cert_versions().await?;
        let same = self.loaded.lock().map(|l| *l == current).unwrap_or(false);
        if !same {
            self.reload().await?;
        }
        Ok(())
    }

    /// Sets the days-left gauge of each stored certificate (and only those) and logs those that
    /// expired (error) or expire within the warning period (warn).
    fn report_expiry(&self, rows: &[PushCertRow], at: NaiveDateTime) {
        self.metrics.clear_cert_gauges();
        for r in rows {
            self.metrics.set_cert_days_left(&r.topic, days_until(r.not_after, at));
            let v = self.view(r, false, at);
            if v.expired {
                tracing::error!(topic = %r.topic, not_after = %r.not_after, "push certificate EXPIRED: devices cannot be woken; renew it in Apple's Push Certificates Portal and import it (same topic)");
            } else if v.expires_soon {
                tracing::warn!(topic = %r.topic, not_after = %r.not_after, days_left = v.days_left, "push certificate expires soon; renew it in Apple's Push Certificates Portal and import it (same topic)");
            }
        }
    }

    /// Refreshes the expiry gauges and logs expired or soon-expiring certificates (daily).
    pub async fn check_expiry(&self) -> Result<(), StoreError> {
        let rows = self.push.push_certs().await?;
        self.report_expiry(&rows, self.clock.now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{days_until, retry_delay};
    use std::time::Duration;

    #[test]
    fn retry_delays_follow_the_schedule_then_repeat_the_last() {
        let delays = crate::config::PushConfig::default().retry_delays();
        let mins: Vec<u64> = (0..7).map(|a| retry_delay(&delays, a).as_secs() / 60).collect();
        assert_eq!(mins, [1, 5, 30, 240, 240, 240, 240]);
        assert_eq!(retry_delay(&delays, -3), Duration::from_secs(60));
        assert_eq!(retry_delay(&[], 2), Duration::from_secs(60));
    }

    #[test]
    fn days_until_floors() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc();
        assert_eq!(days_until(t0 + chrono::Duration::hours(47), t0), 1);
        assert_eq!(days_until(t0 + chrono::Duration::hours(48), t0), 2);
        assert_eq!(days_until(t0 - chrono::Duration::hours(1), t0), -1);
    }

    /// Expiry is judged at the service's clock: moving it turns a valid certificate into one
    /// that expires soon, then into an expired one, with no certificate changed.
    #[tokio::test]
    async fn expiry_follows_the_clock() {
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::connect(dir.path().join("push.db").to_str().unwrap(), 2).unwrap();
        store.migrate().await.unwrap();
        let key = crate::secrets::SecretKey::from_base64(&crate::secrets::SecretKey::generate_base64().unwrap()).unwrap();
        let clock = crate::clock::ManualClock::at(crate::store::now());
        let cfg = crate::config::PushConfig::default();
        let svc = super::PushService::new(store, Arc::new(crate::push::Offline), Some(key), Arc::new(crate::metrics::Metrics::new()), Default::default(), &cfg)
            .with_clock(Arc::new(clock.clone()));
        let apple = crate::pki::Ca::generate("Apple Push CA").unwrap();
        let issued = apple.issue_push_cert("com.apple.mgmt.External.0f0e0d0c-1b2a-4c3d-8e9f-a0b1c2d3e4f5", 60).unwrap();
        let mut pem = issued.cert.to_pem().unwrap();
        pem.extend(issued.key.private_key_to_pem_pkcs8().unwrap());
        svc.import(&pem, None, crate::store::push::TopicChange::Refuse).await.unwrap();
        let view = |v: &super::CertView| (v.days_left, v.expires_soon, v.expired);
        let (days, soon, expired) = view(&svc.certs().await.unwrap()[0]);
        assert!((58..=60).contains(&days) && !soon && !expired, "{days} {soon} {expired}");
        let warn = chrono::Duration::from_std(cfg.expiry_warning).unwrap();
        clock.advance(chrono::Duration::days(days) - warn + chrono::Duration::days(1));
        let (_, soon, expired) = view(&svc.certs().await.unwrap()[0]);
        assert!(soon && !expired);
        clock.advance(warn + chrono::Duration::days(1));
        let (days, _, expired) = view(&svc.certs().await.unwrap()[0]);
        assert!(expired && days < 0, "{days}");
    }
}
