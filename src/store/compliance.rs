//! Compliance as stored: each device's inventory, the policies, each device's judgement with
//! its history and the actions taken, the profiles those actions hold back or add, the
//! fleet-wide sweep, and the lookups the posture API makes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connectors::{queue_calls_in, CallRow};
use super::events::{emit, NewEvent};
use super::models::Device;
use super::schema::{
    app_inventory, cert_bindings, compliance_actions, compliance_history, compliance_profile_holds, device_compliance, device_inventory, device_profiles,
    devices, enrollments, group_members,
};
use super::{planned_per_call, write_tx, DbConn, Store, StoreResult};

mod rows;
pub use rows::*;

/// Hold kind: the profile is taken off the device.
pub const WITHHOLD: &str = "withhold";
/// Hold kind: the profile is put on the device.
pub const ADD: &str = "add";

/// Inventory parts as stored.
pub mod part {
    /// DeviceInformation.
    pub const DEVICE_INFO: &str = "device_info";
    /// SecurityInfo.
    pub const SECURITY: &str = "security_info";
    /// CertificateList.
    pub const CERTIFICATES: &str = "certificates";
    /// ProfileList.
    pub const PROFILES: &str = "profiles";
    /// An app list.
    pub const APPS: &str = "apps";
}

/// Device columns a DeviceInformation refreshes (a `None` field leaves its column as it is).
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = devices)]
pub struct DeviceColumns {
    /// OSVersion.
    pub os_version: Option<String>,
    /// BuildVersion.
    pub build_version: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// ModelName.
    pub model_name: Option<String>,
    /// ProductName.
    pub product_name: Option<String>,
    /// SerialNumber.
    pub serial_number: Option<String>,
    /// DeviceName.
    pub device_name: Option<String>,
    /// IMEI.
    pub imei: Option<String>,
    /// MEID.
    pub meid: Option<String>,
}

/// Everything the evaluator reads of one device, beyond its rendering context.
#[derive(Debug, Clone)]
pub struct DeviceRecord {
    /// The device.
    pub device: Device,
    /// Its device channel is enabled.
    pub enrolled: bool,
    /// Last check-in or command report.
    pub last_seen: Option<NaiveDateTime>,
    /// notAfter of the newest bound identity.
    pub cert_not_after: Option<NaiveDateTime>,
    /// Inventory.
    pub inventory: Option<InventoryRow>,
    /// (profile id, PayloadIdentifier, state).
    pub profiles: Vec<(String, String, String)>,
    /// Bundle ids in the last app list.
    pub apps: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
    /// The current judgement.
    pub judgement: Option<ComplianceRow>,
}

/// One device's new judgement and what goes with it, written in one transaction.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The row to write.
    pub row: ComplianceRow,
    /// The version it replaces (`None`: the first judgement).
    pub expect_version: Option<i64>,
    /// The previous status, when the status changed (a history row is written).
    pub previous: Option<String>,
    /// `compliance.changed`.
    pub event: Option<NewEvent>,
    /// Actions to record.
    pub actions: Vec<NewAction>,
    /// Connector calls the actions queue.
    pub calls: Vec<CallRow>,
    /// The device's profile holds after this judgement (`None`: unchanged).
    pub holds: Option<Vec<(String, &'static str, String)>>,
}

/// A verdict that was written: its device and the ids of its recorded actions.
#[derive(Debug, Clone)]
pub struct Saved {
    /// Device.
    pub device_id: String,
    /// (id, action) of each recorded action.
    pub actions: Vec<(i64, NewAction)>,
}

/// A device channel's (id, enabled, last seen).
pub(crate) type Channel = (String, bool, Option<NaiveDateTime>);

/// What every read of devices for compliance starts from: the devices of `ids`, their device
/// channels and their judgements.
pub(crate) fn base_rows(conn: &mut DbConn, ids: &[String]) -> StoreResult<(Vec<Device>, Vec<Channel>, Vec<ComplianceRow>)> {
    let devs: Vec<Device> = devices::table.filter(devices::id.eq_any(ids)).filter(planned_per_call()).select(Device::as_select()).load(conn)?;
    let ens: Vec<Channel> = enrollments::table
        .filter(enrollments::id.eq_any(ids))
        .filter(enrollments::channel.eq("device"))
        .filter(planned_per_call())
        .select((enrollments::id, enrollments::enabled, enrollments::last_seen_at))
        .load(conn)?;
    let judged: Vec<ComplianceRow> =
        device_compliance::table.filter(device_compliance::device_id.eq_any(ids)).filter(planned_per_call()).select(ComplianceRow::as_select()).load(conn)?;
    Ok((devs, ens, judged))
}

/// Profiles withheld from and added to `device_id` by compliance actions.
pub(crate) fn holds_of(conn: &mut DbConn, device_id: &str) -> StoreResult<(Vec<String>, Vec<String>)> {
    let rows: Vec<(String, String)> = compliance_profile_holds::table
        .filter(compliance_profile_holds::device_id.eq(device_id))
        .select((compliance_profile_holds::profile_id, compliance_profile_holds::kind))
        .load(conn)?;
    Ok(split(rows))
}

/// Devices `profile_id` is withheld from and added to by compliance actions.
pub(crate) fn holding(conn: &mut DbConn, profile_id: &str) -> StoreResult<(Vec<String>, Vec<String>)> {
    let rows: Vec<(String, String)> = compliance_profile_holds::table
        .filter(compliance_profile_holds::profile_id.eq(profile_id))
        .select((compliance_profile_holds::device_id, compliance_profile_holds::kind))
        .load(conn)?;
    Ok(split(rows))
}

fn split(rows: Vec<(String, String)>) -> (Vec<String>, Vec<String>) {
    let (w, a): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, k)| k == WITHHOLD);
    (w.into_iter().map(|(x, _)| x).collect(), a.into_iter().map(|(x, _)| x).collect())
}

/// Compliance (reached through [`Store::compliance`]).
#[derive(Debug, Clone)]
pub struct ComplianceStore(pub(super) Store);

impl ComplianceStore {
    /// Stores one inventory part of a device (JSON), refreshing its device columns when given;
    /// false when there is no such device.
    pub async fn put_part(&self, device_id: String, which: &'static str, value: Option<String>, columns: Option<DeviceColumns>) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = super::now();
                    // One statement when the row exists (every report after the first).
                    let update = |conn: &mut DbConn, value: Option<String>| {
                        let t = device_inventory::table.find(&device_id);
                        let v = value;
                        let u = device_inventory::updated_at.eq(at);
                        match which {
                            part::DEVICE_INFO => {
                                diesel::update(t).set((device_inventory::device_info.eq(v), device_inventory::device_info_at.eq(at), u)).execute(conn)
                            }
                            part::SECURITY => {
                                diesel::update(t).set((device_inventory::security_info.eq(v), device_inventory::security_info_at.eq(at), u)).execute(conn)
                            }
                            part::CERTIFICATES => {
                                diesel::update(t).set((device_inventory::certificates.eq(v), device_inventory::certificates_at.eq(at), u)).execute(conn)
                            }
                            part::PROFILES => diesel::update(t).set((device_inventory::profiles.eq(v), device_inventory::profiles_at.eq(at), u)).execute(conn),
                            _ => diesel::update(t).set((device_inventory::apps_at.eq(at), u)).execute(conn),
                        }
                    };
                    if update(conn, value.clone())? == 0 {
                        let known: i64 = devices::table.filter(devices::id.eq(&device_id)).count().get_result(conn)?;
                        if known == 0 {
                            return Ok(false);
                        }
                        diesel::insert_into(device_inventory::table)
                            .values((device_inventory::device_id.eq(&device_id), device_inventory::updated_at.eq(at)))
                            .execute(conn)?;
                        update(conn, value)?;
                    }
                    if let Some(c) = columns {
                        diesel::update(devices::table.find(&device_id)).set((&c, devices::updated_at.eq(at))).execute(conn)?;
                    }
                    Ok(true)
                })
            })
            .await
    }

    /// A device's inventory.
    pub async fn inventory(&self, device_id: String) -> StoreResult<Option<InventoryRow>> {
        self.0.run(move |conn| Ok(device_inventory::table.find(device_id).select(InventoryRow::as_select()).first(conn).optional()?)).await
    }

    /// Claims up to `limit` enrolled devices whose inventory was not refreshed (or asked for)
    /// since `cutoff`, marking them asked for now; each is claimed by one replica.
    pub async fn claim_inventory(&self, cutoff: NaiveDateTime, limit: i64) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                let at = super::now();
                let enrolled: Vec<String> = enrollments::table
                    .left_join(device_inventory::table.on(device_inventory::device_id.eq(enrollments::device_id)))
                    .filter(enrollments::channel.eq("device"))
                    .filter(enrollments::enabled.eq(true))
                    .filter(device_inventory::requested_at.is_null().or(device_inventory::requested_at.lt(cutoff)))
                    .filter(device_inventory::device_info_at.is_null().or(device_inventory::device_info_at.lt(cutoff)))
                    .select(enrollments::device_id)
                    .limit(limit)
                    .load(conn)?;
                let mut claimed = Vec::new();
                for id in enrolled {
                    let won = write_tx(conn, |conn| {
                        let have: i64 = device_inventory::table.filter(device_inventory::device_id.eq(&id)).count().get_result(conn)?;
                        if have == 0 {
                            diesel::insert_into(device_inventory::table)
                                .values((device_inventory::device_id.eq(&id), device_inventory::updated_at.eq(at)))
                                .execute(conn)?;
                        }
                        Ok(diesel::update(
                            device_inventory::table.find(&id).filter(device_inventory::requested_at.is_null().or(device_inventory::requested_at.lt(cutoff))),
                        )
                        .set(device_inventory::requested_at.eq(at))
                        .execute(conn)?)
                    })?;
                    if won == 1 {
                        claimed.push(id);
                    }
                }
                Ok(claimed)
            })
            .await
    }

    /// What the evaluator reads of `ids` (devices that do not exist are left out).
    pub async fn records(&self, ids: Vec<String>) -> StoreResult<Vec<DeviceRecord>> {
        self.0
            .run(move |conn| {
                let (devs, ens, judged) = base_rows(conn, &ids)?;
                let certs: Vec<(String, Option<NaiveDateTime>, NaiveDateTime)> = cert_bindings::table
                    .filter(cert_bindings::device_id.eq_any(&ids))
                    .filter(planned_per_call())
                    .select((cert_bindings::device_id, cert_bindings::not_after, cert_bindings::created_at))
                    .load(conn)?;
                let inv: Vec<InventoryRow> = device_inventory::table
                    .filter(device_inventory::device_id.eq_any(&ids))
                    .filter(planned_per_call())
                    .select(InventoryRow::as_select())
                    .load(conn)?;
                let profs: Vec<(String, String, String, String)> = device_profiles::table
                    .filter(device_profiles::enrollment_id.eq_any(&ids))
                    .filter(planned_per_call())
                    .select((device_profiles::enrollment_id, device_profiles::profile_id, device_profiles::identifier, device_profiles::status))
                    .load(conn)?;
                let apps: Vec<(String, String)> = app_inventory::table
                    .filter(app_inventory::enrollment_id.eq_any(&ids))
                    .filter(planned_per_call())
                    .select((app_inventory::enrollment_id, app_inventory::bundle_id))
                    .load(conn)?;
                let groups: Vec<(String, String)> = group_members::table
                    .filter(group_members::device_id.eq_any(&ids))
                    .filter(planned_per_call())
                    .select((group_members::device_id, group_members::group_name))
                    .load(conn)?;
                // Grouped by device once: a batch is hundreds of devices with dozens of rows each.
                use std::collections::HashMap;
                let mut by: HashMap<String, DeviceRecord> = HashMap::with_capacity(devs.len());
                for d in devs {
                    let rec = DeviceRecord {
                        enrolled: false,
                        last_seen: None,
                        cert_not_after: None,
                        inventory: None,
                        profiles: Vec::new(),
                        apps: Vec::new(),
                        groups: Vec::new(),
                        judgement: None,
                        device: d,
                    };
                    by.insert(rec.device.id.clone(), rec);
                }
                for (id, enabled, seen) in ens {
                    if let Some(r) = by.get_mut(&id) {
                        (r.enrolled, r.last_seen) = (enabled, seen);
                    }
                }
                let mut newest: HashMap<String, NaiveDateTime> = HashMap::new();
                for (id, not_after, created) in certs {
                    if let Some(r) = by.get_mut(&id) {
                        if newest.get(&id).is_none_or(|t| created > *t) {
                            newest.insert(id, created);
                            r.cert_not_after = not_after;
                        }
                    }
                }
                for i in inv {
                    if let Some(r) = by.get_mut(&i.device_id) {
                        r.inventory = Some(i);
                    }
                }
                for (id, profile, identifier, state) in profs {
                    if let Some(r) = by.get_mut(&id) {
                        r.profiles.push((profile, identifier, state));
                    }
                }
                for (id, bundle) in apps {
                    if let Some(r) = by.get_mut(&id) {
                        r.apps.push(bundle);
                    }
                }
                for (id, group) in groups {
                    if let Some(r) = by.get_mut(&id) {
                        r.groups.push(group);
                    }
                }
                for j in judged {
                    if let Some(r) = by.get_mut(&j.device_id) {
                        r.judgement = Some(j);
                    }
                }
                Ok(ids.iter().filter_map(|id| by.remove(id)).collect())
            })
            .await
    }

    /// Device ids after `after`, in order, `limit` at a time (the sweep's pages).
    pub async fn device_ids(&self, after: Option<String>, limit: i64) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                let mut q = devices::table.select(devices::id).order(devices::id).limit(limit).into_boxed();
                if let Some(a) = after {
                    q = q.filter(devices::id.gt(a));
                }
                Ok(q.load(conn)?)
            })
            .await
    }

    /// Ids of devices with a judgement after `after`, in order, `limit` at a time.
    pub async fn judged_ids(&self, after: Option<String>, limit: i64) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                let mut q = device_compliance::table.select(device_compliance::device_id).order(device_compliance::device_id).limit(limit).into_boxed();
                if let Some(a) = after {
                    q = q.filter(device_compliance::device_id.gt(a));
                }
                Ok(q.load(conn)?)
            })
            .await
    }

    /// Writes verdicts, each in its own compare-and-set: a verdict whose device another replica
    /// judged meanwhile is dropped (that replica's judgement stands).
    pub async fn save(&self, verdicts: Vec<Verdict>) -> StoreResult<Vec<Saved>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let mut out = Vec::new();
                    for v in verdicts {
                        let at = v.row.evaluated_at;
                        let n = match v.expect_version {
                            None => {
                                let have: i64 = device_compliance::table.filter(device_compliance::device_id.eq(&v.row.device_id)).count().get_result(conn)?;
                                if have > 0 {
                                    0
                                } else {
                                    diesel::insert_into(device_compliance::table).values(&v.row).execute(conn)?
                                }
                            }
                            Some(ver) => diesel::update(device_compliance::table.find(&v.row.device_id).filter(device_compliance::version.eq(ver)))
                                .set(&v.row)
                                .execute(conn)?,
                        };
                        if n == 0 {
                            continue;
                        }
                        if let Some(prev) = &v.previous {
                            diesel::insert_into(compliance_history::table)
                                .values((
                                    compliance_history::device_id.eq(&v.row.device_id),
                                    compliance_history::status.eq(&v.row.status),
                                    compliance_history::previous.eq(prev),
                                    compliance_history::reasons.eq(&v.row.reasons),
                                    compliance_history::at.eq(at),
                                ))
                                .execute(conn)?;
                        }
                        if let Some(e) = &v.event {
                            emit(conn, at, std::slice::from_ref(e))?;
                        }
                        queue_calls_in(conn, &v.calls)?;
                        let mut saved = Saved { device_id: v.row.device_id.clone(), actions: Vec::new() };
                        for a in v.actions {
                            let id: i64 = diesel::insert_into(compliance_actions::table).values(&a).returning(compliance_actions::id).get_result(conn)?;
                            saved.actions.push((id, a));
                        }
                        if let Some(holds) = v.holds {
                            diesel::delete(compliance_profile_holds::table.filter(compliance_profile_holds::device_id.eq(&v.row.device_id))).execute(conn)?;
                            let mut holds = holds;
                            holds.sort();
                            holds.dedup();
                            for (profile, kind, policy) in holds {
                                diesel::insert_into(compliance_profile_holds::table)
                                    .values((
                                        compliance_profile_holds::device_id.eq(&v.row.device_id),
                                        compliance_profile_holds::profile_id.eq(profile),
                                        compliance_profile_holds::kind.eq(kind),
                                        compliance_profile_holds::policy_id.eq(policy),
                                    ))
                                    .execute(conn)?;
                            }
                        }
                        out.push(saved);
                    }
                    Ok(out)
                })
            })
            .await
    }

    /// A device's judgement.
    pub async fn judgement(&self, device_id: String) -> StoreResult<Option<ComplianceRow>> {
        self.0.run(move |conn| Ok(device_compliance::table.find(device_id).select(ComplianceRow::as_select()).first(conn).optional()?)).await
    }

    /// Judgements of `ids`.
    pub async fn judgements(&self, ids: Vec<String>) -> StoreResult<Vec<ComplianceRow>> {
        self.0
            .run(move |conn| {
                Ok(device_compliance::table
                    .filter(device_compliance::device_id.eq_any(ids))
                    .filter(planned_per_call())
                    .select(ComplianceRow::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Devices per status.
    pub async fn counts(&self) -> StoreResult<Vec<(String, i64)>> {
        self.0
            .run(|conn| {
                Ok(device_compliance::table.group_by(device_compliance::status).select((device_compliance::status, diesel::dsl::count_star())).load(conn)?)
            })
            .await
    }

    /// A device's status changes, newest first.
    pub async fn history(&self, device_id: String, limit: i64) -> StoreResult<Vec<HistoryRow>> {
        self.0
            .run(move |conn| {
                Ok(compliance_history::table
                    .filter(compliance_history::device_id.eq(device_id))
                    .order(compliance_history::id.desc())
                    .limit(limit)
                    .select(HistoryRow::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// A device's actions, newest first.
    pub async fn actions(&self, device_id: String, limit: i64) -> StoreResult<Vec<ActionRow>> {
        self.0
            .run(move |conn| {
                Ok(compliance_actions::table
                    .filter(compliance_actions::device_id.eq(device_id))
                    .order(compliance_actions::id.desc())
                    .limit(limit)
                    .select(ActionRow::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Records an action's outcome.
    pub async fn action_outcome(&self, id: i64, status: &'static str, detail: Option<String>, command_uuid: Option<String>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(compliance_actions::table.find(id))
                    .set((
                        compliance_actions::status.eq(status),
                        compliance_actions::detail.eq(detail),
                        compliance_actions::command_uuid.eq(command_uuid),
                        compliance_actions::updated_at.eq(super::now()),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Records the device's answer to an action's command.
    pub async fn command_answered(&self, command_uuid: String, status: &'static str, detail: Option<String>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(compliance_actions::table.filter(compliance_actions::command_uuid.eq(command_uuid)))
                    .set((compliance_actions::status.eq(status), compliance_actions::detail.eq(detail), compliance_actions::updated_at.eq(super::now())))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }
}

mod policies;
mod posture;
pub use posture::{Match, PostureRecord};
