//! Compliance: the inventory devices report, policies that judge it, the status of each device
//! with its history, the actions that take access away from a non-compliant device and give it
//! back, and the posture identity providers ask for.
//!
//! A device is judged after every report that feeds a rule (DeviceInformation, SecurityInfo,
//! CertificateList, ProfileList, app lists), after a policy changes (a fleet-wide sweep), and on
//! a schedule (devices that stopped reporting turn stale). A judgement is written with a
//! compare-and-set on the device's row, so two replicas never both act on one change; the
//! `compliance.changed` event, the history row, the recorded actions, the connector calls and the
//! profile holds go in the same transaction; the commands the actions need are queued after it.

pub mod actions;
pub mod eval;
pub mod hooks;
pub mod inventory;
pub mod manage;
pub mod os;
pub mod policy;
pub mod posture;
pub mod sweep;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::apps::AppService;
use crate::config::ComplianceConfig;
use crate::profiles::ProfileLibrary;
use crate::queue::Queue;
use crate::store::compliance::{self as st, ComplianceRow, DeviceRecord, Verdict};
use crate::store::events::{topic, NewEvent};
use crate::store::library::DeviceContext;
use crate::store::{now, Store};
use eval::{status, Facts, FlapLimit, Judgement, Policy, PolicyState};

/// Why a compliance operation failed.
pub type ComplianceError = crate::service_error::RequestError;

/// Devices judged per store round trip.
pub const BATCH: usize = 500;

/// The compliance service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ComplianceService {
    store: Store,
    queue: Queue,
    profiles: ProfileLibrary,
    apps: AppService,
    cfg: Arc<ComplianceConfig>,
    releases: Arc<os::Releases>,
    wake: Arc<tokio::sync::Notify>,
    /// The policies as last read, and when: reports are judged against these for a moment
    /// (a change on another replica also asks for a sweep, which reads them afresh).
    cache: Arc<std::sync::Mutex<Option<ReadPolicies>>>,
}

/// Policies and when they were read.
type ReadPolicies = (std::time::Instant, Arc<Vec<Policy>>);

/// How long a replica judges reports against the policies it last read.
const POLICY_CACHE: std::time::Duration = std::time::Duration::from_secs(2);

/// What one evaluation pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Devices judged.
    pub evaluated: usize,
    /// Devices whose judgement was written (it changed).
    pub changed: usize,
}

impl ComplianceService {
    /// The service; fails when `compliance.os_releases` has an entry that does not parse.
    pub fn new(store: Store, queue: Queue, profiles: ProfileLibrary, apps: AppService, cfg: ComplianceConfig) -> Result<ComplianceService, String> {
        let releases = os::Releases::new(&cfg.os_releases)?;
        Ok(ComplianceService {
            store,
            queue,
            profiles,
            apps,
            cfg: Arc::new(cfg),
            releases: Arc::new(releases),
            wake: Default::default(),
            cache: Default::default(),
        })
    }

    fn limit(&self) -> FlapLimit {
        FlapLimit {
            window: chrono::Duration::from_std(self.cfg.flap_window).unwrap_or(chrono::Duration::hours(1)),
            max_runs: self.cfg.max_action_runs as usize,
        }
    }

    /// Every stored policy, parsed (a row that no longer parses is skipped and logged), read
    /// afresh and remembered.
    async fn load_policies(&self) -> Result<Arc<Vec<Policy>>, ComplianceError> {
        let rows = self.store.compliance().policies().await?;
        let list: Vec<Policy> = rows
            .iter()
            .filter_map(|r| manage::parse_row(r).map_err(|e| tracing::error!(policy = %r.name, error = %e, "stored policy unreadable")).ok())
            .collect();
        let list = Arc::new(list);
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((std::time::Instant::now(), list.clone()));
        Ok(list)
    }

    /// The policies, as read within [`POLICY_CACHE`].
    async fn policies_now(&self) -> Result<Arc<Vec<Policy>>, ComplianceError> {
        let cached = self.cache.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match cached {
            Some((at, list)) if at.elapsed() < POLICY_CACHE => Ok(list),
            _ => self.load_policies().await,
        }
    }

    /// Forgets the remembered policies (after a change on this replica).
    fn forget_policies(&self) {
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Judges `ids` now and runs the actions that became due; returns what it did. Without
    /// any enabled policy nothing is judged (the sweep that follows a deletion undoes what the
    /// deleted policy's actions did).
    pub async fn evaluate(&self, ids: Vec<String>) -> Result<Tally, ComplianceError> {
        let policies = self.policies_now().await?;
        if !policies.iter().any(|p| p.spec.enabled) {
            return Ok(Tally::default());
        }
        self.evaluate_with(&policies, ids).await
    }

    async fn evaluate_with(&self, policies: &[Policy], ids: Vec<String>) -> Result<Tally, ComplianceError> {
        let mut tally = Tally::default();
        // With no policy in force, a device never judged has nothing to be judged on: it stays
        // without a judgement (`unknown`) rather than getting a `compliant` nobody asked for.
        let any_enabled = policies.iter().any(|p| p.spec.enabled);
        for chunk in ids.chunks(BATCH) {
            let records = self.store.compliance().records(chunk.to_vec()).await?;
            let contexts: std::collections::HashMap<String, DeviceContext> =
                self.store.library().device_contexts(chunk.to_vec()).await?.into_iter().map(|c| (c.device.id.clone(), c)).collect();
            let at = now();
            let mut verdicts = Vec::new();
            for r in records.iter().filter(|r| any_enabled || r.judgement.is_some()) {
                tally.evaluated += 1;
                let ctx = contexts.get(&r.device.id);
                let facts = facts_of(r, ctx);
                let prev: BTreeMap<String, PolicyState> = r.judgement.as_ref().and_then(|j| serde_json::from_str(&j.policies).ok()).unwrap_or_default();
                let j = eval::judge(&facts, policies, &prev, self.limit(), &self.releases, at);
                if let Some(v) = self.verdict(r, ctx, &prev, j, at).await? {
                    verdicts.push(v);
                }
            }
            if verdicts.is_empty() {
                continue;
            }
            let saved = self.store.compliance().save(verdicts).await?;
            tally.changed += saved.len();
            for s in saved {
                if !s.actions.is_empty() {
                    self.run_actions(&s.device_id, s.actions).await;
                }
            }
        }
        Ok(tally)
    }

    /// The row to write for a judgement, or `None` when nothing changed.
    async fn verdict(
        &self,
        r: &DeviceRecord,
        ctx: Option<&DeviceContext>,
        prev: &BTreeMap<String, PolicyState>,
        j: Judgement,
        at: chrono::NaiveDateTime,
    ) -> Result<Option<Verdict>, ComplianceError> {
        let row = ComplianceRow {
            device_id: r.device.id.clone(),
            status: j.status.to_string(),
            reasons: to_json(&j.reasons),
            pending: to_json(&j.pending),
            policies: to_json(&j.policies),
            version: r.judgement.as_ref().map(|o| o.version + 1).unwrap_or(1),
            since: at,
            evaluated_at: at,
        };
        let old = r.judgement.as_ref();
        let same = |o: &ComplianceRow| o.status == row.status && o.reasons == row.reasons && o.pending == row.pending && o.policies == row.policies;
        if old.is_some_and(same) {
            return Ok(None);
        }
        let previous_status = old.map(|o| o.status.clone()).unwrap_or_else(|| status::UNKNOWN.into());
        let changed = previous_status != row.status;
        let row = ComplianceRow { since: if changed { at } else { old.map(|o| o.since).unwrap_or(at) }, ..row };
        let event = changed.then(|| self.changed_event(r, ctx, &previous_status, &row.status, &j));
        let holds_now = holds(&j.policies);
        let holds = (holds_now != holds(prev)).then_some(holds_now);
        let (actions, calls) = self.plan_actions(r, ctx, &j, at).await?;
        Ok(Some(Verdict { expect_version: old.map(|o| o.version), previous: changed.then_some(previous_status), event, actions, calls, holds, row }))
    }

    /// `compliance.changed`, in the shape docs/EVENTS.md documents (the fields Okta Workflows'
    /// flows read, plus this server's own).
    fn changed_event(&self, r: &DeviceRecord, ctx: Option<&DeviceContext>, previous: &str, now_status: &str, j: &Judgement) -> NewEvent {
        let (user, email) = user_of(ctx);
        let reasons: Vec<serde_json::Value> = j.reasons.iter().map(|x| json!({"policy": x.policy, "rule": x.rule, "message": x.message})).collect();
        NewEvent::new(
            topic::COMPLIANCE_CHANGED,
            json!({
                "ComplianceStatus": okta_status(now_status),
                "PreviousComplianceStatus": okta_status(previous),
                "UDID": r.device.id,
                "SerialNumber": r.device.serial_number,
                "Platform": platform(r.device.product_name.as_deref()),
                "EnrollmentEmailAddress": email,
                "EnrollmentUser": user,
                "Reasons": reasons,
                "status": now_status,
                "previous": previous,
            }),
        )
        .on_device(r.device.id.clone())
    }

    /// Wakes this replica's sweeper (after a policy change).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Stored JSON of a judgement part.
fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The status as Workspace ONE's event notifications spell it (what Okta Workflows' flows test).
pub fn okta_status(s: &str) -> &'static str {
    match s {
        status::COMPLIANT => "Compliant",
        status::NONCOMPLIANT => "NonCompliant",
        _ => "NotAvailable",
    }
}

/// The platform of a product name (`iPad13,1` → iPadOS).
pub fn platform(product: Option<&str>) -> &'static str {
    match product {
        Some(p) if p.starts_with("iPad") => "iPadOS",
        Some(p) if p.starts_with("AppleTV") => "tvOS",
        Some(p) if p.starts_with("Mac") => "macOS",
        _ => "iOS",
    }
}

/// The device's current user and e-mail: a shared device's holder (else staging user), else
/// the user who enrolled it.
pub fn user_of(ctx: Option<&DeviceContext>) -> (Option<String>, Option<String>) {
    let Some(c) = ctx else { return (None, None) };
    if let Some(s) = &c.shared {
        let user = s.session.as_ref().map(|x| x.username.clone()).unwrap_or_else(|| s.pool.staging_user.clone());
        return (Some(user), c.shared_user.as_ref().and_then(|u| u.0.clone()));
    }
    (c.enrolled_user.clone(), c.user_email.clone())
}

/// The profile holds the policies' applied actions make.
fn holds(policies: &BTreeMap<String, PolicyState>) -> Vec<(String, &'static str, String)> {
    let mut out = Vec::new();
    for (pid, s) in policies {
        for a in &s.applied {
            match a {
                policy::Action::RemoveProfile { profile } => out.push((profile.clone(), st::WITHHOLD, pid.clone())),
                policy::Action::InstallProfile { profile } => out.push((profile.clone(), st::ADD, pid.clone())),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The facts of a device from its record and rendering context.
pub fn facts_of(r: &DeviceRecord, ctx: Option<&DeviceContext>) -> Facts {
    let inv = r.inventory.as_ref();
    let parsed = |v: Option<&String>, at: Option<chrono::NaiveDateTime>| Some((serde_json::from_str(v?).ok()?, at?));
    Facts {
        device_id: r.device.id.clone(),
        // Judged from the inventory: the version Authenticate reported is not a report yet.
        os_version: inv.and_then(|i| i.device_info_at).and(r.device.os_version.clone()),
        device_info: inv.and_then(|i| parsed(i.device_info.as_ref(), i.device_info_at)),
        security: inv.and_then(|i| parsed(i.security_info.as_ref(), i.security_info_at)),
        profiles: r.profiles.clone(),
        apps: (inv.is_some_and(|i| i.apps_at.is_some()) || !r.apps.is_empty()).then(|| r.apps.iter().cloned().collect()),
        last_seen: r.last_seen,
        enrolled: r.enrolled,
        cert_not_after: r.cert_not_after,
        attributes: ctx.map(|c| c.attributes.clone()).unwrap_or_default(),
        groups: r.groups.clone(),
        pool: ctx.and_then(|c| c.shared.as_ref()).map(|s| s.pool.name.clone()),
    }
}
