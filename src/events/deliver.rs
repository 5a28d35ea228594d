//! Webhook delivery, per replica: number new events, lease the webhooks with work, and send each
//! one's events in order, recording progress after every stretch.
//!
//! Guarantees: at least once (the cursor moves only after the receiver answered 2xx, so a
//! replica that dies mid-stretch leaves those events to whoever takes the lease next; the event
//! id is the idempotency key); in order per webhook (one sender per webhook at a time, by the
//! lease, and the head event is retried until it is delivered or dead-lettered); nothing lost
//! (an event leaves a webhook's backlog only delivered or as a dead letter, which can be
//! replayed).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rand::Rng;

use super::format::{render, Format};
use crate::config::EventsConfig;
use crate::outbound::Outbound;
use crate::sealed::{Kind, Vault};
use crate::store::events::{EventRow, EventStore};
use crate::store::webhooks::{DeadLetter, NewDelivery, Progress, WebhookRow, WebhookStore};
use crate::store::{now, Store, StoreResult};

/// This replica's deliverer.
#[derive(Clone)]
pub struct Deliverer {
    events: EventStore,
    webhooks: WebhookStore,
    vault: Vault,
    outbound: Arc<Outbound>,
    cfg: EventsConfig,
    owner: String,
    metrics: Arc<crate::metrics::Metrics>,
    push: crate::store::push::PushStore,
    push_warning: Duration,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").field("owner", &self.owner).finish()
    }
}

/// The wait before attempt `attempts + 1` after `attempts` failures: `initial · 2^(attempts-1)`
/// up to `max`, each wait drawn between half and all of that (jitter, so webhooks that failed
/// together do not retry together).
pub fn backoff(initial: Duration, max: Duration, attempts: u32, jitter: f64) -> Duration {
    let exp = initial.saturating_mul(1u32.checked_shl(attempts.saturating_sub(1).min(30)).unwrap_or(u32::MAX));
    exp.min(max).mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn add(t: NaiveDateTime, d: Duration) -> NaiveDateTime {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX / 2)
}

impl Deliverer {
    /// The deliverer of this process (a fresh lease owner id).
    /// `push_warning`: how long before a push certificate's expiry `push_cert.expiring` is written.
    pub fn new(
        store: &Store,
        vault: Vault,
        outbound: Arc<Outbound>,
        cfg: EventsConfig,
        metrics: Arc<crate::metrics::Metrics>,
        push_warning: Duration,
    ) -> Deliverer {
        Deliverer {
            events: store.events(),
            webhooks: store.webhooks(),
            vault,
            outbound,
            cfg,
            owner: uuid::Uuid::new_v4().to_string(),
            metrics,
            push: store.push(),
            push_warning,
        }
    }

    /// Periodic upkeep: events and delivery-log lines past `events.retention` removed, push certificate expiry written.
    async fn upkeep(&self) -> StoreResult<()> {
        let t = now();
        let age = chrono::Duration::from_std(self.cfg.retention).unwrap_or(chrono::Duration::MAX / 2);
        if let Some(cutoff) = t.checked_sub_signed(age) {
            self.webhooks.prune_log(cutoff).await?;
            loop {
                let n = self.events.prune(cutoff).await?;
                if n > 0 {
                    tracing::info!(events = n, "retention: old events deleted");
                }
                if n < 10_000 {
                    break;
                }
            }
        }
        let warn = chrono::Duration::from_std(self.push_warning).unwrap_or(chrono::Duration::days(30));
        for c in self.push.push_certs().await? {
            let topic = if c.not_after <= t {
                crate::store::events::topic::PUSH_CERT_EXPIRED
            } else if c.not_after - t <= warn {
                crate::store::events::topic::PUSH_CERT_EXPIRING
            } else {
                continue;
            };
            let data = serde_json::json!({"topic": c.topic, "subject": c.subject, "not_after": crate::timefmt::text(&c.not_after)});
            if self.events.write_once(crate::store::events::NewEvent::new(topic, data)).await? {
                tracing::warn!(push_topic = %c.topic, event = topic, "push certificate expiry recorded");
            }
        }
        Ok(())
    }

    /// Runs until aborted: every `poll_interval`, numbers new events and starts a sender for
    /// each webhook with work that no sender of this process is working on.
    pub async fn run(self) {
        let busy: Arc<std::sync::Mutex<HashSet<String>>> = Default::default();
        let mut senders = tokio::task::JoinSet::new();
        let mut upkept: Option<Instant> = None;
        loop {
            // Hourly, or four times per retention period when that is shorter.
            if upkept.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600).min(self.cfg.retention / 4)) {
                upkept = Some(Instant::now());
                if let Err(e) = self.upkeep().await {
                    tracing::warn!(error = %e, "event upkeep failed");
                }
            }
            if let Err(e) = self.events.sequence().await {
                tracing::warn!(error = %e, "numbering events failed");
            }
            let t = now();
            match self.webhooks.claim(self.owner.clone(), t, add(t, self.cfg.lease)).await {
                Ok(claimed) => {
                    for w in claimed {
                        if !busy.lock().unwrap_or_else(|p| p.into_inner()).insert(w.id.clone()) {
                            continue;
                        }
                        let (me, busy) = (self.clone(), busy.clone());
                        senders.spawn(async move {
                            let id = w.id.clone();
                            if let Err(e) = me.send_all(w).await {
                                tracing::warn!(webhook = %id, error = %e, "webhook delivery interrupted; the lease runs out and delivery resumes from the last recorded event");
                            }
                            busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming webhooks failed"),
            }
            while senders.try_join_next().is_some() {}
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }

    /// Gives back every lease this process holds (at shutdown), so another replica goes on at once.
    pub async fn release(&self) -> StoreResult<usize> {
        self.webhooks.release(self.owner.clone()).await
    }

    /// Sends `w` its events until it has none, a delivery fails, or the lease is lost.
    async fn send_all(&self, w: WebhookRow) -> StoreResult<()> {
        use tracing::Instrument;
        let span = tracing::info_span!("webhook", webhook = %w.name);
        self.send_stretches(w).instrument(span).await
    }

    async fn send_stretches(&self, mut w: WebhookRow) -> StoreResult<()> {
        let Some(format) = Format::parse(&w.format) else {
            tracing::error!(webhook = %w.name, format = %w.format, "unknown webhook format; not delivered");
            return Ok(());
        };
        let secret = match &w.secret {
            Some(s) => self.vault.open(Kind::WebhookSecret, &w.id, s).map_err(|e| crate::store::StoreError::Task(e.to_string()))?,
            None => Vec::new(),
        };
        let topics = format.delivered(&w.topic_list());
        loop {
            let work = self.webhooks.work(w.clone(), topics.clone(), i64::from(self.cfg.batch)).await?;
            let replaying = !work.replays.is_empty();
            let items = if replaying { work.replays } else { work.live };
            let started = Instant::now();
            let mut p = Progress { cursor: w.cursor, attempts: w.attempts, ..Default::default() };
            let mut failed = false;
            // A stretch ends after a third of the lease, so a slow receiver never outlasts the
            // lease before progress is recorded (and the lease renewed).
            let mut cut = false;
            for (i, e) in items.iter().enumerate() {
                if started.elapsed() > self.cfg.lease / 3 {
                    cut = true;
                    break;
                }
                let Some(id) = e.id else { continue };
                let (ok, line) = self.send_one(&w, format, &secret, e, p.attempts + 1).await;
                p.log.push(line);
                if ok {
                    p.attempts = 0;
                    p.last_success_at = Some(now());
                    self.done(&mut p, replaying, id);
                    continue;
                }
                p.attempts += 1;
                p.last_error = p.log.last().and_then(|l| l.answer.clone()).or_else(|| Some("failed".into()));
                let t = now();
                let aged = |e: &EventRow| add(e.created_at, self.cfg.dead_letter_after) <= t;
                let spent = self.cfg.max_attempts > 0 && p.attempts as u32 >= self.cfg.max_attempts;
                if aged(e) || spent {
                    // Given up: this event, and the events behind it in this stretch that are
                    // past the age too (they would fail the same way; each is kept to replay).
                    let mut give_up = vec![(e, p.attempts)];
                    give_up.extend(items[i + 1..].iter().take_while(|n| aged(n)).map(|n| (n, 0)));
                    for (d, attempts) in give_up {
                        let Some(did) = d.id else { continue };
                        p.dead.push(DeadLetter { webhook_id: w.id.clone(), event_id: did, attempts, last_error: p.last_error.clone(), dead_at: t });
                        self.done(&mut p, replaying, did);
                    }
                    self.metrics.webhook_deliveries.get_or_create(&vec![("webhook".into(), w.name.clone()), ("result".into(), "dead_lettered".into())]).inc();
                    tracing::warn!(event = id, attempts = p.attempts, "event dead-lettered");
                    p.attempts = 0;
                    // Go on with what is left of the stretch on the next round.
                    break;
                }
                let wait = backoff(self.cfg.backoff_initial, self.cfg.backoff_max, p.attempts as u32, rand::thread_rng().gen());
                p.next_attempt_at = Some(add(t, wait));
                tracing::info!(event = id, attempts = p.attempts, retry_in = ?wait, error = p.last_error.as_deref().unwrap_or(""), "webhook delivery failed");
                failed = true;
                break;
            }
            if !replaying && !failed && !cut && p.dead.is_empty() {
                p.cursor = p.cursor.max(work.seen_through);
            }
            let more = !items.is_empty() && !failed;
            p.lease_until = more.then(|| add(now(), self.cfg.lease));
            let cursor = p.cursor;
            let attempts = p.attempts;
            if !self.webhooks.record(w.id.clone(), self.owner.clone(), p).await? {
                tracing::warn!("webhook lease lost to another replica; it goes on from the recorded cursor");
                return Ok(());
            }
            w.cursor = cursor;
            w.attempts = attempts;
            if !more {
                return Ok(());
            }
            tracing::debug!(events = items.len(), elapsed = ?started.elapsed(), "webhook stretch recorded");
        }
    }

    /// Marks `id` handled in `p`: a replay is done, a live event moves the cursor.
    fn done(&self, p: &mut Progress, replaying: bool, id: i64) {
        if replaying {
            p.replays_done.push(id);
        } else {
            p.cursor = p.cursor.max(id);
        }
    }

    /// Sends one event; returns whether the receiver took it, and the log line.
    async fn send_one(&self, w: &WebhookRow, format: Format, secret: &[u8], e: &EventRow, attempt: i32) -> (bool, NewDelivery) {
        let event_id = e.id.unwrap_or_default();
        let mut line =
            NewDelivery { webhook_id: w.id.clone(), event_id, attempt, outcome: String::new(), status: None, latency_ms: 0, answer: None, at: now() };
        let Some((body, headers)) = render(format, e, secret, chrono::Utc::now().timestamp()) else {
            // The format does not carry the topic (the topic filter keeps these out).
            line.outcome = "skipped".into();
            return (true, line);
        };
        let started = Instant::now();
        let result = self.outbound.post(&w.url, &headers, body).await;
        line.latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let ok = match result {
            Ok(a) => {
                line.status = Some(i32::from(a.status));
                line.answer = Some(if a.first_bytes.is_empty() { format!("HTTP {}", a.status) } else { a.first_bytes });
                (200..300).contains(&a.status)
            }
            Err(err) => {
                line.answer = Some(err.to_string());
                false
            }
        };
        line.outcome = if ok { "delivered" } else { "failed" }.into();
        if !ok {
            if let Some(s) = line.status {
                line.answer = Some(format!("HTTP {s}: {}", line.answer.as_deref().unwrap_or("")));
            }
        }
        self.metrics.webhook_deliveries.get_or_create(&vec![("webhook".into(), w.name.clone()), ("result".into(), line.outcome.clone())]).inc();
        (ok, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let (i, m) = (Duration::from_secs(1), Duration::from_secs(300));
        assert_eq!(backoff(i, m, 1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(i, m, 2, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(i, m, 5, 1.0), Duration::from_secs(16));
        assert_eq!(backoff(i, m, 40, 1.0), m);
        assert_eq!(backoff(i, m, 2, 0.0), Duration::from_secs(1));
        assert!(backoff(i, m, u32::MAX, 0.5) <= m);
    }
}
