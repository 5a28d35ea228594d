//! Pools: their settings checked and stored, their members, and what a device joining or
//! leaving one needs (its user-dependent content re-sent, its kiosk token forgotten).

use serde::{Deserialize, Serialize};

use super::{check_name, SharedError, SharedService};
use crate::store::now;
use crate::store::shared::{self as st, PoolRow, PoolSettings};

/// A pool as the API takes and shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// Unique name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The identity of a device nobody holds.
    pub staging_user: String,
    /// Member devices (ids).
    #[serde(default)]
    pub devices: Vec<String>,
    /// Member groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Workflows.
    #[serde(flatten)]
    pub settings: PoolSettings,
}

impl SharedService {
    /// Creates (`create`) or replaces a pool.
    pub async fn put_pool(&self, spec: PoolSpec, create: bool) -> Result<PoolSpec, SharedError> {
        let name = check_name("name", &spec.name)?;
        let staging = check_name("staging_user", &spec.staging_user)?;
        for p in &spec.settings.held_profiles {
            if self.store.library().profile(p.clone()).await?.is_none() {
                return Err(SharedError::NotFound(format!("held_profiles: no profile {p}")));
            }
        }
        for a in &spec.settings.clear_app_data {
            if self.store.apps().app(a.clone()).await?.is_none() {
                return Err(SharedError::NotFound(format!("clear_app_data: no app {a}")));
            }
        }
        let mut connectors = Vec::new();
        for c in &spec.settings.logout_connectors {
            match self.store.connectors().get(c.clone()).await? {
                Some(row) => connectors.push(row.id),
                None => return Err(SharedError::NotFound(format!("logout_connectors: no connector {c}"))),
            }
        }
        // The workflow's steps are numbered in bands (connectors 1–10, held profiles 30–49, apps
        // 60–79): each list stays within its band.
        for (what, n, max) in [
            ("logout_connectors", spec.settings.logout_connectors.len(), 10),
            ("held_profiles", spec.settings.held_profiles.len(), 20),
            ("clear_app_data", spec.settings.clear_app_data.len(), 20),
        ] {
            if n > max {
                return Err(SharedError::BadRequest(format!("{what}: at most {max}")));
            }
        }
        if spec.settings.log_out_user && spec.settings.clear_passcode {
            return Err(SharedError::BadRequest(
                "clear_passcode with log_out_user: a Shared iPad has no device passcode to clear (ClearPasscode is refused there); set clear_passcode false"
                    .into(),
            ));
        }
        if spec.settings.delete_user && !spec.settings.log_out_user {
            return Err(SharedError::BadRequest("delete_user needs log_out_user (a Shared iPad deletes a user once logged out)".into()));
        }
        let settings = PoolSettings { logout_connectors: connectors, ..spec.settings.clone() };
        let at = now();
        let row = PoolRow {
            name: name.clone(),
            description: spec.description.clone(),
            staging_user: staging,
            settings: serde_json::to_string(&settings).map_err(|e| SharedError::Internal(e.to_string()))?,
            created_at: at,
            updated_at: at,
        };
        let before = if create { Vec::new() } else { self.members(&name).await? };
        let mut devices = spec.devices.clone();
        devices.sort();
        devices.dedup();
        let mut groups = spec.groups.clone();
        groups.sort();
        groups.dedup();
        // A device checked out stays in its pool until it is checked in.
        let mut after = devices.clone();
        for g in &groups {
            if let Some((_, m)) = self.store.library().group(g.clone()).await? {
                after.extend(m);
            }
        }
        for d in before.iter().filter(|d| !after.contains(d)) {
            if self.store.shared().state(d.clone()).await?.is_some_and(|s| s.session.is_some()) {
                return Err(SharedError::Conflict(format!("device {d} is checked out: check it in before it leaves pool {name}")));
            }
        }
        self.store.shared().put_pool(row, devices, groups, create).await?;
        let mut affected = self.members(&name).await?;
        affected.extend(before);
        self.refresh(affected).await;
        self.pool(&name).await
    }

    /// The devices of a pool: its own and its groups' members.
    async fn members(&self, name: &str) -> Result<Vec<String>, SharedError> {
        let Some(p) = self.store.shared().pool(name.to_string()).await? else { return Ok(Vec::new()) };
        let mut out = p.devices;
        for g in p.groups {
            if let Some((_, m)) = self.store.library().group(g).await? {
                out.extend(m);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Devices whose user changed (they joined or left a pool): what depends on the user is
    /// sent again.
    async fn refresh(&self, mut devices: Vec<String>) {
        devices.sort();
        devices.dedup();
        if let Err(e) = self.store.shared().forget_kiosk_outside_pools(devices.clone()).await {
            tracing::warn!(error = %e, "pool change: kiosk tokens of devices that left not forgotten");
        }
        for d in devices {
            if let Err(e) = self.profiles.sync_device_for_user(&d).await {
                tracing::warn!(device = %d, error = %e, "pool change: profiles not re-sent");
            }
            if let Err(e) = self.apps.sync_device_for_user(&d).await {
                tracing::warn!(device = %d, error = %e, "pool change: app configurations not re-sent");
            }
        }
    }

    /// A pool.
    pub async fn pool(&self, name: &str) -> Result<PoolSpec, SharedError> {
        let p = self.store.shared().pool(name.to_string()).await?.ok_or_else(|| SharedError::NotFound(format!("no pool {name}")))?;
        Ok(spec_of(p))
    }

    /// Every pool.
    pub async fn pools(&self) -> Result<Vec<PoolSpec>, SharedError> {
        Ok(self.store.shared().pools().await?.into_iter().map(spec_of).collect())
    }

    /// Deletes a pool none of whose devices is checked out.
    pub async fn delete_pool(&self, name: &str) -> Result<bool, SharedError> {
        let members = self.members(name).await?;
        let gone = self.store.shared().delete_pool(name.to_string()).await?;
        self.refresh(members).await;
        Ok(gone)
    }
}

fn spec_of(p: st::Pool) -> PoolSpec {
    let settings = p.row.parsed();
    PoolSpec { name: p.row.name, description: p.row.description, staging_user: p.row.staging_user, devices: p.devices, groups: p.groups, settings }
}
