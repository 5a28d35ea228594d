//! The rows of shared devices: pools and their settings, sessions, workflow actions, kiosk
//! tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::store::schema::{kiosk_tokens, shared_actions, shared_pools, shared_sessions};

/// What a pool does at check-out and check-in (stored as JSON in `shared_pools.settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSettings {
    /// Profiles (ids) installed while a user holds a device and removed at check-in: the
    /// passcode policy that makes the user choose a PIN, a Wi-Fi profile with the user's
    /// EAP identity.
    #[serde(default)]
    pub held_profiles: Vec<String>,
    /// Apps (ids) whose data is cleared at check-in (removed and installed again).
    #[serde(default)]
    pub clear_app_data: Vec<String>,
    /// Logout connectors (ids) called at check-in for the previous user.
    #[serde(default)]
    pub logout_connectors: Vec<String>,
    /// Whether check-in clears the passcode (ClearPasscode with the escrowed UnlockToken).
    #[serde(default = "yes")]
    pub clear_passcode: bool,
    /// Shared iPad: log the user out at check-in.
    #[serde(default)]
    pub log_out_user: bool,
    /// Shared iPad: delete the user at check-in (after logging out).
    #[serde(default)]
    pub delete_user: bool,
    /// With `delete_user`: delete even when the user's data has not synced yet
    /// (`ForceDeletion`).
    #[serde(default)]
    pub force_delete: bool,
}

fn yes() -> bool {
    true
}

/// A pool as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = shared_pools)]
pub struct PoolRow {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The identity a device has while nobody holds it.
    pub staging_user: String,
    /// [`PoolSettings`] as JSON.
    pub settings: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

impl PoolRow {
    /// The settings; a row written by this version always parses.
    pub fn parsed(&self) -> PoolSettings {
        serde_json::from_str(&self.settings).unwrap_or_default()
    }
}

/// A pool with its members.
#[derive(Debug, Clone)]
pub struct Pool {
    /// The row.
    pub row: PoolRow,
    /// Member devices (ids).
    pub devices: Vec<String>,
    /// Member groups (names).
    pub groups: Vec<String>,
}

/// A check-out session.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = shared_sessions)]
pub struct SessionRow {
    /// Id (UUID).
    pub id: String,
    /// The device.
    pub device_id: String,
    /// Its pool at check-out.
    pub pool: String,
    /// Who holds (held) it.
    pub username: String,
    /// Their e-mail address, when known.
    pub email: Option<String>,
    /// Their full name, when known.
    pub full_name: Option<String>,
    /// Whether the device is still checked out.
    pub open: bool,
    /// When it was checked out.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub checked_out_at: NaiveDateTime,
    /// Who checked it out (token name or admin).
    pub checked_out_by: String,
    /// How: `admin`, `kiosk`.
    pub checked_out_via: String,
    /// When it was checked in.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub checked_in_at: Option<NaiveDateTime>,
    /// Who checked it in.
    pub checked_in_by: Option<String>,
    /// How.
    pub checked_in_via: Option<String>,
    /// Why, when not an ordinary check-in (e.g. checked out by someone else).
    pub checkin_reason: Option<String>,
}

/// One workflow action to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = shared_actions)]
pub struct NewAction {
    /// The session.
    pub session_id: String,
    /// `checkout` or `checkin`.
    pub phase: String,
    /// Position in the workflow.
    pub seq: i32,
    /// What (see `shared::action`).
    pub action: String,
    /// What it acts on: a connector, profile or app id, a user name.
    pub target: Option<String>,
    /// Outcome so far.
    pub status: String,
    /// Detail of the outcome.
    pub detail: Option<String>,
    /// The command it queued.
    pub command_uuid: Option<String>,
    /// The connector call it queued.
    pub call_id: Option<String>,
    /// When the outcome was written.
    pub updated_at: NaiveDateTime,
}

/// A recorded action, as the API shows it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = shared_actions)]
pub struct ActionRow {
    /// Log id.
    pub id: i64,
    /// The session.
    #[serde(skip)]
    pub session_id: String,
    /// `checkout` or `checkin`.
    pub phase: String,
    /// Position in the workflow.
    pub seq: i32,
    /// What.
    pub action: String,
    /// On what.
    pub target: Option<String>,
    /// Outcome.
    pub status: String,
    /// Detail.
    pub detail: Option<String>,
    /// The command it queued.
    pub command_uuid: Option<String>,
    /// The connector call it queued.
    pub call_id: Option<String>,
    /// When the outcome was written.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// A kiosk token the server made for a device.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kiosk_tokens)]
pub struct KioskTokenRow {
    /// Id.
    pub id: String,
    /// The device it acts for.
    pub device_id: String,
    /// SHA-256 of the value.
    pub token_hash: String,
    /// The value, sealed (current token only).
    pub sealed: Option<Vec<u8>>,
    /// When it was made.
    pub issued_at: NaiveDateTime,
    /// When it was replaced.
    pub rotated_at: Option<NaiveDateTime>,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// One device's.
    pub device: Option<String>,
    /// One user's.
    pub user: Option<String>,
    /// Only open ones.
    pub open: bool,
    /// At most this many, newest first.
    pub limit: i64,
}

/// What a device is while it is in a pool: the pool, its staging user and the open session.
#[derive(Debug, Clone)]
pub struct SharedState {
    /// The pool.
    pub pool: PoolRow,
    /// The open session, when the device is checked out.
    pub session: Option<SessionRow>,
}
