//! The connector queue at work, on every replica: claims due calls under a lease, runs a few at
//! once, records each attempt (retrying with backoff, failing for good after
//! `connectors.max_attempts` with a `connector.failed` event), turns new events into the calls
//! of the automations that match them, and drops finished calls past their retention.

use std::collections::BTreeMap;
use std::time::Duration;

use super::ConnectorService;
use crate::config::ConnectorsConfig;
use crate::events::deliver::backoff;
use crate::store::connectors::{Attempt, AutomationRow, CallRow, DONE, FAILED, NOT_FOUND, PENDING};
use crate::store::events::{topic, EventRow, NewEvent};
use crate::store::now;

/// How many events an automation looks at per pass.
const AUTOMATION_BATCH: i64 = 500;

fn add(t: chrono::NaiveDateTime, d: Duration) -> chrono::NaiveDateTime {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(1))
}

/// The worker of one process.
#[derive(Clone, Debug)]
pub struct Worker {
    svc: ConnectorService,
    cfg: ConnectorsConfig,
    owner: String,
}

/// Whether an event's `data` has every field of `condition` with its value.
pub fn matches(condition: &serde_json::Map<String, serde_json::Value>, data: &serde_json::Value) -> bool {
    condition.iter().all(|(k, want)| data.get(k).is_some_and(|have| have == want || have.as_str().is_some_and(|h| want.as_str() == Some(h))))
}

/// The template variables of a call an event triggers: `Event.FIELD` for each scalar field,
/// and the shared-device names where the event has them.
pub fn event_vars(e: &EventRow, data: &serde_json::Value) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    vars.insert("EventTopic".to_string(), e.topic.clone());
    if let Some(d) = &e.device_id {
        vars.insert("DeviceUDID".into(), d.clone());
    }
    if let Some(obj) = data.as_object() {
        for (k, v) in obj {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            vars.insert(format!("Event.{k}"), text);
        }
    }
    for (field, var) in [
        ("previous_user", "PreviousUser"),
        ("previous_user_email", "PreviousUserEmail"),
        ("serial_number", "DeviceSerialNumber"),
        ("device_name", "DeviceName"),
        ("pool", "Pool"),
        ("session_id", "SessionID"),
    ] {
        if let Some(v) = data.get(field).and_then(|v| v.as_str()) {
            vars.insert(var.into(), v.to_string());
        }
    }
    vars
}

impl Worker {
    /// The worker of this process (a fresh lease owner id).
    pub fn new(svc: ConnectorService, cfg: ConnectorsConfig) -> Worker {
        Worker { svc, cfg, owner: format!("connectors-{}", uuid::Uuid::new_v4()) }
    }

    /// Runs forever: a pass per `connectors.poll_interval`. Calls run as tasks of their own (at
    /// most `connectors.concurrency` at once), so one that hangs holds only its own slot; they
    /// stop with this future.
    pub async fn run(self) {
        let mut last_prune = std::time::Instant::now() - Duration::from_secs(3600);
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(self.cfg.concurrency.max(1) as usize));
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            if let Err(e) = self.automations_once().await {
                tracing::warn!(error = %e, "automations: pass failed");
            }
            let free = slots.available_permits();
            if free > 0 {
                match self.claim(free).await {
                    Ok(calls) => {
                        for c in calls {
                            let Ok(permit) = slots.clone().acquire_owned().await else { break };
                            let me = self.clone();
                            running.spawn(async move {
                                let _permit = permit;
                                if let Err(e) = me.run_one(c).await {
                                    tracing::warn!(error = %e, "connector call: recording its outcome failed (it runs again after its lease)");
                                }
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "connector calls: claiming failed"),
                }
            }
            if last_prune.elapsed() > Duration::from_secs(3600) {
                last_prune = std::time::Instant::now();
                let cutoff = now() - chrono::Duration::from_std(self.cfg.retention).unwrap_or(chrono::Duration::days(30));
                match self.svc.store.prune(cutoff).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(calls = n, "finished connector calls past retention removed"),
                    Err(e) => tracing::warn!(error = %e, "pruning connector calls failed"),
                }
            }
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }

    async fn claim(&self, n: usize) -> Result<Vec<CallRow>, crate::store::StoreError> {
        let at = now();
        self.svc.store.claim(self.owner.clone(), at, add(at, self.cfg.lease), n as i64).await
    }

    /// Gives back the calls this process holds (at shutdown).
    pub async fn release(&self) -> Result<usize, crate::store::StoreError> {
        self.svc.store.release(self.owner.clone()).await
    }

    /// One pass over the automations: new events matched, their calls queued with the
    /// cursor's move (one transaction; another replica that moved it first wins).
    pub async fn automations_once(&self) -> Result<usize, crate::store::StoreError> {
        let mut queued = 0;
        for a in self.svc.store.automations().await?.into_iter().filter(|a| a.enabled) {
            queued += self.automation_once(a).await?;
        }
        Ok(queued)
    }

    async fn automation_once(&self, a: AutomationRow) -> Result<usize, crate::store::StoreError> {
        let from = a.cursor;
        let condition: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&a.condition).unwrap_or_default();
        let (events, through) = self.svc.store.automation_events(a.clone(), AUTOMATION_BATCH).await?;
        if through == from {
            return Ok(0);
        }
        let at = now();
        let calls: Vec<CallRow> = events
            .iter()
            .filter_map(|e| {
                let data: serde_json::Value = serde_json::from_str(&e.body).unwrap_or(serde_json::Value::Null);
                matches(&condition, &data).then(|| {
                    let vars: serde_json::Map<String, serde_json::Value> =
                        event_vars(e, &data).into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
                    let mut c = CallRow::new(&a.connector_id, "automation", e.device_id.clone(), &vars, at);
                    c.automation_id = Some(a.id.clone());
                    c.event_id = e.id;
                    c.session_id = data.get("session_id").and_then(|v| v.as_str()).map(str::to_string);
                    c
                })
            })
            .collect();
        let n = calls.len();
        if self.svc.store.advance(a.id.clone(), from, through, calls).await? && n > 0 {
            tracing::info!(automation = %a.name, calls = n, "automation: calls queued");
        }
        Ok(n)
    }

    async fn run_one(&self, call: CallRow) -> Result<(), crate::store::StoreError> {
        let span = tracing::info_span!("connector_call", call = %call.id, connector = %call.connector_id, device = call.device_id.as_deref().unwrap_or("-"));
        let _enter = span.enter();
        let vars: BTreeMap<String, String> = call.var_map().into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect();
        let failed = |why: String| super::call::Outcome { verdict: super::call::Verdict::Failed(why), status: None, latency: Duration::ZERO, answer: None };
        // The call ends well inside the lease, so no other replica takes it while it runs.
        let deadline = self.cfg.lease.mul_f64(0.8);
        let outcome = match self.svc.get(&call.connector_id).await {
            Ok(row) => match tokio::time::timeout(deadline, self.svc.run_now(&row, &vars)).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => failed(e.to_string()),
                Err(_) => failed(format!("no outcome within {deadline:?} (connectors.lease)")),
            },
            Err(e) => failed(e.to_string()),
        };
        let attempts = u32::try_from(call.attempts).unwrap_or(0) + 1;
        let at = now();
        let (status, error) = match &outcome.verdict {
            super::call::Verdict::Done => (DONE, None),
            super::call::Verdict::NotFound => (NOT_FOUND, None),
            super::call::Verdict::Failed(e) if attempts >= self.cfg.max_attempts.max(1) => (FAILED, Some(e.clone())),
            super::call::Verdict::Failed(e) => (PENDING, Some(e.clone())),
        };
        let next = if status == PENDING { add(at, backoff(self.cfg.backoff_initial, self.cfg.backoff_max, attempts, rand::random::<f64>())) } else { at };
        match status {
            DONE => tracing::info!(latency_ms = outcome.latency.as_millis() as u64, "connector call done"),
            NOT_FOUND => tracing::info!("connector call: not known there (recorded, not failed)"),
            FAILED => tracing::warn!(attempts, error = error.as_deref().unwrap_or(""), "connector call failed for good"),
            _ => tracing::info!(attempts, error = error.as_deref().unwrap_or(""), "connector call failed; retrying"),
        }
        let failed_event = (status == FAILED).then(|| {
            let e = NewEvent::new(
                topic::CONNECTOR_FAILED,
                serde_json::json!({
                    "call_id": call.id, "connector_id": call.connector_id, "purpose": call.purpose, "session_id": call.session_id,
                    "automation_id": call.automation_id, "attempts": attempts, "error": error, "status": outcome.status,
                }),
            );
            match &call.device_id {
                Some(d) => e.on_device(d.clone()),
                None => e,
            }
        });
        let attempt = Attempt {
            status,
            next_attempt_at: next,
            last_status: outcome.status.map(i32::from),
            error,
            latency_ms: i32::try_from(outcome.latency.as_millis()).unwrap_or(i32::MAX),
            answer: outcome.answer,
            at,
        };
        self.svc.store.record(call, self.owner.clone(), attempt, failed_event).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_match_fields() {
        let data = serde_json::json!({"pool": "ward-3", "previous_user": "nurse.a", "n": 3});
        let cond = |v: serde_json::Value| v.as_object().unwrap().clone();
        assert!(matches(&cond(serde_json::json!({})), &data));
        assert!(matches(&cond(serde_json::json!({"pool": "ward-3"})), &data));
        assert!(matches(&cond(serde_json::json!({"n": 3})), &data));
        assert!(!matches(&cond(serde_json::json!({"pool": "ward-4"})), &data));
        assert!(!matches(&cond(serde_json::json!({"absent": "x"})), &data));
    }
}
