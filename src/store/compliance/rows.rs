//! Rows of the compliance tables.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::store::schema::{compliance_actions, compliance_history, compliance_policies, compliance_sweep, device_compliance, device_inventory};

/// A stored policy (scope, rules and actions as JSON).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = compliance_policies)]
pub struct PolicyRow {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Evaluated.
    pub enabled: bool,
    /// Scope JSON.
    pub scope: String,
    /// Rules JSON.
    pub rules: String,
    /// Actions JSON.
    pub actions: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

/// A device's judgement as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = device_compliance)]
pub struct ComplianceRow {
    /// Device.
    pub device_id: String,
    /// compliant, noncompliant or unknown.
    pub status: String,
    /// Failed rules (JSON list).
    pub reasons: String,
    /// Rules in grace or not judged (JSON list).
    pub pending: String,
    /// Per-policy state (JSON object).
    pub policies: String,
    /// Bumped at each write (compare-and-set).
    pub version: i64,
    /// Status since.
    pub since: NaiveDateTime,
    /// Last written.
    pub evaluated_at: NaiveDateTime,
}

/// A device's last inventory answers.
#[derive(Debug, Clone, Default, Queryable, Selectable)]
#[diesel(table_name = device_inventory)]
pub struct InventoryRow {
    /// Device.
    pub device_id: String,
    /// DeviceInformation QueryResponses (JSON).
    pub device_info: Option<String>,
    /// When.
    pub device_info_at: Option<NaiveDateTime>,
    /// SecurityInfo (JSON).
    pub security_info: Option<String>,
    /// When.
    pub security_info_at: Option<NaiveDateTime>,
    /// Certificates (JSON list of summaries).
    pub certificates: Option<String>,
    /// When.
    pub certificates_at: Option<NaiveDateTime>,
    /// Profiles (JSON list).
    pub profiles: Option<String>,
    /// When.
    pub profiles_at: Option<NaiveDateTime>,
    /// When the last app list came.
    pub apps_at: Option<NaiveDateTime>,
    /// When the last scheduled refresh was queued.
    pub requested_at: Option<NaiveDateTime>,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// A status change.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = compliance_history)]
pub struct HistoryRow {
    /// Row id.
    pub id: i64,
    /// Device.
    pub device_id: String,
    /// New status.
    pub status: String,
    /// Status before.
    pub previous: String,
    /// Failed rules at the change (JSON).
    #[serde(skip)]
    pub reasons: String,
    /// When.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub at: NaiveDateTime,
}

/// An action taken on a device.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = compliance_actions)]
pub struct ActionRow {
    /// Row id.
    pub id: i64,
    /// Device.
    pub device_id: String,
    /// Policy id.
    pub policy_id: String,
    /// Policy name.
    pub policy: String,
    /// remove_profile, install_profile, reinstall_apps, lock, connector.
    pub action: String,
    /// apply, undo or held.
    pub direction: String,
    /// Profile, connector or apps.
    pub target: Option<String>,
    /// pending, done, queued, failed, held, retrying, not_found.
    pub status: String,
    /// What happened.
    pub detail: Option<String>,
    /// The command it queued.
    pub command_uuid: Option<String>,
    /// The connector call it queued.
    pub call_id: Option<String>,
    /// When.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// An action to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = compliance_actions)]
pub struct NewAction {
    /// Device.
    pub device_id: String,
    /// Policy id.
    pub policy_id: String,
    /// Policy name.
    pub policy: String,
    /// Action type.
    pub action: String,
    /// apply, undo or held.
    pub direction: String,
    /// Profile, connector or apps.
    pub target: Option<String>,
    /// Initial status.
    pub status: String,
    /// Initial detail.
    pub detail: Option<String>,
    /// The connector call queued with it.
    pub call_id: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
    /// When.
    pub updated_at: NaiveDateTime,
}

/// The fleet-wide evaluation.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = compliance_sweep)]
pub struct SweepRow {
    /// Always 1.
    #[serde(skip)]
    pub one: i32,
    /// When a change asked for a pass.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub requested_at: Option<NaiveDateTime>,
    /// When the last pass started.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub started_at: Option<NaiveDateTime>,
    /// When it finished.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub finished_at: Option<NaiveDateTime>,
    /// The replica that ran it.
    pub owner: Option<String>,
    /// Why it ran.
    pub reason: Option<String>,
    /// Devices judged.
    pub evaluated: i64,
    /// Devices whose judgement changed.
    pub changed: i64,
}
