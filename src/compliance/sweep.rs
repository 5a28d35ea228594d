//! Work every replica runs: the fleet-wide evaluation (after a policy change, and every
//! `compliance.evaluate_interval` so devices that stopped reporting turn stale), claimed by one
//! replica at a time; the scheduled inventory refresh (`compliance.inventory_interval`); and the
//! on-demand refresh of one device.

use std::time::Duration;

use super::{ComplianceError, ComplianceService, Tally, BATCH};
use crate::protocol::command::envelope_with_uuid;
use crate::queue::Enqueue;
use crate::store::models::Command;
use crate::store::now;

/// CommandUUID prefix of the inventory commands.
pub const INVENTORY_PREFIX: &str = "inventory-";

/// What DeviceInformation asks for when compliance refreshes the inventory: the default set
/// and Activation Lock.
pub fn inventory_queries() -> Vec<&'static str> {
    let mut q = crate::commands::DEFAULT_DEVICE_INFORMATION_QUERIES.to_vec();
    q.push("IsActivationLockEnabled");
    q
}

fn inventory_command(request_type: &str, keys: plist::Dictionary) -> Result<Command, ComplianceError> {
    let mut c = keys;
    c.insert("RequestType".into(), request_type.into());
    let uuid = format!("{INVENTORY_PREFIX}{}-{}", request_type.to_ascii_lowercase(), uuid::Uuid::new_v4());
    Ok(envelope_with_uuid(uuid, c).map_err(|e| ComplianceError::Internal(e.to_string()))?.into())
}

impl ComplianceService {
    /// Queues the inventory commands (DeviceInformation, SecurityInfo, CertificateList,
    /// InstalledApplicationList, ProfileList) for a device; false when it is not enrolled.
    pub async fn refresh_inventory(&self, device_id: &str) -> Result<bool, ComplianceError> {
        let mut info = plist::Dictionary::new();
        info.insert("Queries".into(), plist::Value::Array(inventory_queries().into_iter().map(|q| q.into()).collect()));
        let mut apps = plist::Dictionary::new();
        apps.insert("ManagedAppsOnly".into(), false.into());
        let commands = vec![
            inventory_command("DeviceInformation", info)?,
            inventory_command("SecurityInfo", plist::Dictionary::new())?,
            inventory_command("CertificateList", plist::Dictionary::new())?,
            inventory_command("InstalledApplicationList", apps)?,
            inventory_command("ProfileList", plist::Dictionary::new())?,
        ];
        let rows = commands.iter().map(|c| (device_id.to_string(), c.uuid.clone())).collect();
        let out = self.queue.enqueue(Enqueue::new(commands, rows)).await?;
        Ok(!out.queued.is_empty())
    }

    /// One scheduled refresh pass: devices whose inventory is older than the interval get the
    /// inventory commands (at most `limit` devices); returns how many.
    pub async fn inventory_once(&self, interval: Duration, limit: i64) -> Result<usize, ComplianceError> {
        let cutoff = now() - chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::days(1));
        let mut n = 0;
        for d in self.store.compliance().claim_inventory(cutoff, limit).await? {
            if self.refresh_inventory(&d).await? {
                n += 1;
            }
        }
        if n > 0 {
            tracing::info!(devices = n, "inventory refresh queued");
        }
        Ok(n)
    }

    /// Runs refresh passes forever (the server spawns this).
    pub async fn run_inventory(self) {
        let interval = self.cfg.inventory_interval;
        crate::service::periodic::every(interval, "inventory refresh", |i| self.inventory_once(i, 1000)).await
    }

    /// Judges every device, a page at a time, recording progress under `owner`.
    pub async fn evaluate_all(&self, owner: &str) -> Result<Tally, ComplianceError> {
        let policies = self.load_policies().await?;
        // Without a policy in force only devices judged before have anything to change.
        let judged_only = !policies.iter().any(|p| p.spec.enabled);
        let mut tally = Tally::default();
        let mut after = None;
        loop {
            let page = if judged_only {
                self.store.compliance().judged_ids(after.clone(), BATCH as i64).await
            } else {
                self.store.compliance().device_ids(after.clone(), BATCH as i64).await
            };
            let ids = page?;
            let Some(last) = ids.last().cloned() else { break };
            let t = self.evaluate_with(&policies, ids).await?;
            tally.evaluated += t.evaluated;
            tally.changed += t.changed;
            self.store.compliance().sweep_progress(owner.to_string(), tally.evaluated as i64, tally.changed as i64, false).await?;
            after = Some(last);
        }
        self.store.compliance().sweep_progress(owner.to_string(), tally.evaluated as i64, tally.changed as i64, true).await?;
        Ok(tally)
    }

    /// One sweep if one is due (asked for, or the schedule's); returns what it did.
    pub async fn sweep_once(&self, owner: &str) -> Result<Option<Tally>, ComplianceError> {
        let at = now();
        let every = chrono::Duration::from_std(self.cfg.evaluate_interval).unwrap_or(chrono::Duration::minutes(15));
        // A pass that has not moved for this long was left by a stopped replica.
        let stale = at - chrono::Duration::minutes(10);
        let Some(reason) = self.store.compliance().claim_sweep(owner.to_string(), at - every, stale).await? else { return Ok(None) };
        let started = std::time::Instant::now();
        let t = self.evaluate_all(owner).await?;
        tracing::info!(reason = %reason, evaluated = t.evaluated, changed = t.changed, ms = started.elapsed().as_millis() as u64, "compliance sweep finished");
        Ok(Some(t))
    }

    /// Runs sweeps forever: woken by policy changes on this replica, otherwise checking every
    /// few seconds whether one is asked for or due.
    pub async fn run_sweeps(self, owner: String) {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.wake.notified()).await;
            if let Err(e) = self.sweep_once(&owner).await {
                tracing::error!(error = %e, "compliance sweep failed");
            }
        }
    }
}
