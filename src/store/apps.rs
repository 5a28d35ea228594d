//! Managed-app tables: the catalogue, assignments, install state per enrollment, what devices
//! report, app events, and sealed secrets.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::models::Command;
use super::schema::{app_events, app_inventory, apps, custom_attributes, device_apps, enrollment_queue, enrollments, secrets};
use super::Tx;
use super::{now, write_tx, DbConn, Store, StoreError, StoreResult};
use crate::queue::{enqueue_in, Enqueue, EnqueueOutcome};

/// An app in the catalogue.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = apps)]
#[diesel(treat_none_as_null = true)]
pub struct AppRow {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Bundle identifier.
    pub bundle_id: String,
    /// App Store id (`iTunesStoreID`).
    pub itunes_store_id: Option<i64>,
    /// Enterprise app manifest (`ManifestURL`).
    pub manifest_url: Option<String>,
    /// `ManagementFlags` (0: not sent).
    pub management_flags: i32,
    /// `Attributes`, JSON.
    pub attributes: Option<String>,
    /// The AppConfig, typed JSON.
    pub config: Option<String>,
    /// The preset it started from.
    pub preset: Option<String>,
    /// Re-installed when it disappears from a device.
    pub required: bool,
    /// Bumped on each configuration change.
    pub config_version: i32,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// An app's state on one enrollment.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = device_apps)]
pub struct DeviceApp {
    /// Enrollment.
    pub enrollment_id: String,
    /// App.
    pub app_id: String,
    /// Its bundle id.
    pub bundle_id: String,
    /// pending | installed | failed | removing.
    pub status: String,
    /// The command in flight.
    pub command_uuid: Option<String>,
    /// Why it failed, or what happened last.
    pub detail: Option<String>,
    /// The configuration version sent.
    pub config_version: i32,
    /// Re-installs after the app disappeared.
    pub reinstalls: i32,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// An app a device reported.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = app_inventory)]
pub struct InventoryRow {
    /// Enrollment.
    pub enrollment_id: String,
    /// Bundle id.
    pub bundle_id: String,
    /// Name.
    pub name: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// The ManagedApplicationList status (`Managed`, `Installing`, …), when reported.
    pub managed_status: Option<String>,
    /// When.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub reported_at: NaiveDateTime,
}

/// Something that happened to an app on a device.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = app_events)]
pub struct AppEvent {
    /// Id.
    pub id: i64,
    /// Enrollment.
    pub enrollment_id: String,
    /// App.
    pub app_id: String,
    /// installed | failed | removed | missing | reinstall | configured.
    pub kind: String,
    /// Details.
    pub detail: Option<String>,
    /// When.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
}

/// A stored secret (sealed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = secrets)]
pub struct SecretRow {
    /// Name.
    pub name: String,
    /// The value sealed with the secrets key.
    pub sealed: Vec<u8>,
    /// The last characters of the value.
    pub hint: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// An app event to record: (enrollment, app, kind, detail).
pub type EventRow = (String, String, String, Option<String>);

/// Commands to queue with the install-state rows they change.
#[derive(Debug, Clone, Default)]
pub struct AppWork {
    /// Commands, one per enrollment.
    pub commands: Vec<Command>,
    /// (enrollment, command uuid).
    pub rows: Vec<(String, String)>,
    /// State rows written in the same transaction.
    pub states: Vec<DeviceApp>,
    /// Events (enrollment, app, kind, detail) recorded with them.
    pub events: Vec<EventRow>,
}

/// Writes (inserts or replaces) one install-state row.
pub fn upsert_device_app(conn: &mut DbConn, s: &DeviceApp) -> StoreResult<()> {
    let updated = diesel::update(device_apps::table.find((&s.enrollment_id, &s.app_id)))
        .set((
            device_apps::bundle_id.eq(&s.bundle_id),
            device_apps::status.eq(&s.status),
            device_apps::command_uuid.eq(&s.command_uuid),
            device_apps::detail.eq(&s.detail),
            device_apps::config_version.eq(s.config_version),
            device_apps::reinstalls.eq(s.reinstalls),
            device_apps::updated_at.eq(s.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(device_apps::table).values(s).execute(conn)?;
    }
    Ok(())
}

/// Managed apps: catalogue, install state, inventory, events, secrets (reached through [`Store::apps`]).
#[derive(Debug, Clone)]
pub struct AppStore(pub(super) Store);

impl AppStore {
    /// Adds an app; its bundle id must be new.
    pub async fn create_app(&self, row: AppRow) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = apps::table.filter(apps::bundle_id.eq(&row.bundle_id)).count().get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("an app with bundle id {} already exists; update it instead", row.bundle_id)));
                    }
                    diesel::insert_into(apps::table).values(&row).execute(conn)?;
                    Ok(())
                })
            })
            .await
    }

    /// Replaces an app's record if its configuration version is still `expected_version`
    /// (another change in between is refused as a conflict, so no configuration is lost).
    pub async fn update_app(&self, row: AppRow, expected_version: i32) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                let n = diesel::update(apps::table.find(&row.id).filter(apps::config_version.eq(expected_version))).set(&row).execute(conn)?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!("app {} was changed or deleted meanwhile; read it again and retry", row.id)));
                }
                Ok(())
            })
            .await
    }

    /// An app by id or bundle id.
    pub async fn app(&self, id: String) -> StoreResult<Option<AppRow>> {
        self.0.run(move |conn| Ok(apps::table.filter(apps::id.eq(&id).or(apps::bundle_id.eq(&id))).select(AppRow::as_select()).first(conn).optional()?)).await
    }

    /// Every app, by name.
    pub async fn list(&self) -> StoreResult<Vec<AppRow>> {
        self.0.run(|conn| Ok(apps::table.order(apps::name).select(AppRow::as_select()).load(conn)?)).await
    }

    /// Deletes an app and its assignments; false when there was none.
    pub async fn delete_app(&self, id: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(apps::table.find(id)).execute(conn)? > 0)).await
    }

    /// App states of one enrollment.
    pub async fn device_apps(&self, enrollment_id: String) -> StoreResult<Vec<DeviceApp>> {
        self.0
            .run(move |conn| {
                Ok(device_apps::table
                    .filter(device_apps::enrollment_id.eq(enrollment_id))
                    .order(device_apps::bundle_id)
                    .select(DeviceApp::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// App states of one app on every enrollment.
    pub async fn app_states(&self, app_id: String) -> StoreResult<Vec<DeviceApp>> {
        self.0.run(move |conn| Ok(device_apps::table.filter(device_apps::app_id.eq(app_id)).select(DeviceApp::as_select()).load(conn)?)).await
    }

    /// Writes state rows (and events) in one transaction; rows with status `gone` are deleted.
    pub async fn put_device_apps(&self, states: Vec<DeviceApp>, events: Vec<EventRow>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    for s in &states {
                        if s.status == "gone" {
                            diesel::delete(device_apps::table.find((&s.enrollment_id, &s.app_id))).execute(conn)?;
                        } else {
                            upsert_device_app(conn, s)?;
                        }
                    }
                    insert_events(conn, &events)
                })
            })
            .await
    }

    /// Replaces (`full`: InstalledApplicationList) or updates (ManagedApplicationList) what an
    /// enrollment reported as installed.
    pub async fn record_inventory(&self, enrollment_id: String, rows: Vec<InventoryRow>, full: bool) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    if full {
                        diesel::delete(app_inventory::table.filter(app_inventory::enrollment_id.eq(&enrollment_id))).execute(conn)?;
                    }
                    for r in &rows {
                        let n = diesel::update(app_inventory::table.find((&r.enrollment_id, &r.bundle_id)))
                            .set((app_inventory::managed_status.eq(&r.managed_status), app_inventory::reported_at.eq(r.reported_at)))
                            .execute(conn)?;
                        if n == 0 {
                            diesel::insert_into(app_inventory::table).values(r).execute(conn)?;
                        } else if full {
                            diesel::update(app_inventory::table.find((&r.enrollment_id, &r.bundle_id)))
                                .set((app_inventory::name.eq(&r.name), app_inventory::version.eq(&r.version)))
                                .execute(conn)?;
                        }
                    }
                    Ok(())
                })
            })
            .await
    }

    /// What an enrollment last reported as installed.
    pub async fn inventory(&self, enrollment_id: String) -> StoreResult<Vec<InventoryRow>> {
        self.0
            .run(move |conn| {
                Ok(app_inventory::table
                    .filter(app_inventory::enrollment_id.eq(enrollment_id))
                    .order(app_inventory::bundle_id)
                    .select(InventoryRow::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// An enrollment's app events, newest first.
    pub async fn app_events(&self, enrollment_id: String, limit: i64) -> StoreResult<Vec<AppEvent>> {
        self.0
            .run(move |conn| {
                Ok(app_events::table
                    .filter(app_events::enrollment_id.eq(enrollment_id))
                    .order(app_events::id.desc())
                    .limit(limit)
                    .select(AppEvent::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Whether the enrollment is enabled (can be sent commands).
    pub async fn enrollment_enabled(&self, enrollment_id: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(enrollments::table.find(enrollment_id).select(enrollments::enabled).first::<bool>(conn).optional()?.unwrap_or(false))).await
    }

    /// Marks an enrollment's installed apps as holding an outdated configuration, so the next
    /// sync sends it again.
    pub async fn mark_apps_stale(&self, enrollment_id: String, app_ids: Vec<String>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(device_apps::table.filter(device_apps::enrollment_id.eq(enrollment_id)).filter(device_apps::app_id.eq_any(app_ids)))
                    .set(device_apps::config_version.eq(0))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Whether the device ever confirmed installing the app (an `installed` event).
    pub async fn app_was_installed(&self, enrollment_id: String, app_id: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                let n: i64 = app_events::table
                    .filter(app_events::enrollment_id.eq(enrollment_id))
                    .filter(app_events::app_id.eq(app_id))
                    .filter(app_events::kind.eq("installed"))
                    .count()
                    .get_result(conn)?;
                Ok(n > 0)
            })
            .await
    }

    /// CommandUUIDs still waiting in an enrollment's queue (queued or NotNow).
    pub async fn active_commands(&self, enrollment_id: String) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                Ok(enrollment_queue::table
                    .filter(enrollment_queue::enrollment_id.eq(enrollment_id))
                    .filter(enrollment_queue::status.eq_any(crate::queue::QueueStatus::ACTIVE_SQL))
                    .select(enrollment_queue::command_uuid)
                    .load(conn)?)
            })
            .await
    }

    /// Claims up to `limit` enabled enrollments with installed apps not checked since `cutoff`
    /// and with no app check waiting, by moving their `checked_at` (so replicas never claim the
    /// same one); returns them.
    pub async fn claim_app_audits(&self, cutoff: NaiveDateTime, limit: i64, check_prefix: &'static str) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let waiting = enrollment_queue::table
                        .filter(enrollment_queue::status.eq_any(crate::queue::QueueStatus::ACTIVE_SQL))
                        .filter(enrollment_queue::command_uuid.like(format!("{check_prefix}%")))
                        .select(enrollment_queue::enrollment_id);
                    let stale = || device_apps::checked_at.is_null().or(device_apps::checked_at.lt(cutoff));
                    let candidates: Vec<String> = device_apps::table
                        .inner_join(enrollments::table)
                        .filter(enrollments::enabled.eq(true))
                        .filter(device_apps::status.eq("installed"))
                        .filter(stale())
                        .filter(diesel::dsl::not(device_apps::enrollment_id.eq_any(waiting)))
                        .select(device_apps::enrollment_id)
                        .distinct()
                        .limit(limit)
                        .load(conn)?;
                    let mut claimed = Vec::new();
                    for e in candidates {
                        let n = diesel::update(device_apps::table.filter(device_apps::enrollment_id.eq(&e)).filter(stale()))
                            .set(device_apps::checked_at.eq(Some(now())))
                            .execute(conn)?;
                        if n > 0 {
                            claimed.push(e);
                        }
                    }
                    Ok(claimed)
                })
            })
            .await
    }

    /// Sets custom attributes of a device or group (`kind` is `device` or `group`); `None`
    /// removes one.
    pub async fn put_attributes(&self, kind: &'static str, scope: String, values: Vec<(String, Option<String>)>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    for (name, value) in &values {
                        let key = custom_attributes::table.find((kind, &scope, name));
                        match value {
                            None => {
                                diesel::delete(key).execute(conn)?;
                            }
                            Some(v) => {
                                let n = diesel::update(key).set((custom_attributes::value.eq(v), custom_attributes::updated_at.eq(at))).execute(conn)?;
                                if n == 0 {
                                    diesel::insert_into(custom_attributes::table)
                                        .values((
                                            custom_attributes::scope_kind.eq(kind),
                                            custom_attributes::scope.eq(&scope),
                                            custom_attributes::name.eq(name),
                                            custom_attributes::value.eq(v),
                                            custom_attributes::updated_at.eq(at),
                                        ))
                                        .execute(conn)?;
                                }
                            }
                        }
                    }
                    Ok(())
                })
            })
            .await
    }

    /// The custom attributes of one device or group, by name.
    pub async fn attributes(&self, kind: &'static str, scope: String) -> StoreResult<BTreeMap<String, String>> {
        self.0
            .run(move |conn| {
                let rows: Vec<(String, String)> = custom_attributes::table
                    .filter(custom_attributes::scope_kind.eq(kind))
                    .filter(custom_attributes::scope.eq(scope))
                    .select((custom_attributes::name, custom_attributes::value))
                    .load(conn)?;
                Ok(rows.into_iter().collect())
            })
            .await
    }

    /// Every attribute name defined on any device or group.
    pub async fn attribute_names(&self) -> StoreResult<Vec<String>> {
        self.0.run(|conn| Ok(custom_attributes::table.select(custom_attributes::name).distinct().load(conn)?)).await
    }

    /// Creates or replaces a secret; true when it was new.
    pub async fn put_secret(&self, row: SecretRow) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let n = diesel::update(secrets::table.find(&row.name))
                        .set((secrets::sealed.eq(&row.sealed), secrets::hint.eq(&row.hint), secrets::updated_at.eq(row.updated_at)))
                        .execute(conn)?;
                    if n > 0 {
                        return Ok(false);
                    }
                    diesel::insert_into(secrets::table).values(&row).execute(conn)?;
                    Ok(true)
                })
            })
            .await
    }

    /// Every secret (sealed), by name.
    pub async fn secrets(&self) -> StoreResult<Vec<SecretRow>> {
        self.0.run(|conn| Ok(secrets::table.order(secrets::name).select(SecretRow::as_select()).load(conn)?)).await
    }

    /// Deletes a secret; false when there was none.
    pub async fn delete_secret(&self, name: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(secrets::table.find(name)).execute(conn)? > 0)).await
    }
}

/// Writes app events to `app_events` and, for the kinds that have a topic, to the outbox.
fn insert_events(conn: &mut DbConn, events: &[EventRow]) -> StoreResult<()> {
    let at = now();
    let ids: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    let devices = super::events::devices_of(conn, &ids)?;
    let outbox: Vec<super::events::NewEvent> = events
        .iter()
        .filter_map(|(enrollment, app, kind, detail)| {
            let t = super::events::topic::of_app(kind)?;
            let device = devices.get(enrollment).cloned().unwrap_or_default();
            Some(super::events::NewEvent::new(t, serde_json::json!({"app_id": app, "detail": detail})).on(device, enrollment.as_str()))
        })
        .collect();
    super::events::emit(conn, at, &outbox)?;
    for (enrollment, app, kind, detail) in events {
        diesel::insert_into(app_events::table)
            .values((
                app_events::enrollment_id.eq(enrollment),
                app_events::app_id.eq(app),
                app_events::kind.eq(kind),
                app_events::detail.eq(detail),
                app_events::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Queues app commands and writes their state rows and events inside `tx` (run by
/// [`crate::queue::Queue::write`], which pushes the queued enrollments after the commit).
pub(crate) fn queue_app_work(tx: &mut Tx<'_>, work: AppWork) -> StoreResult<EnqueueOutcome> {
    let out = enqueue_in(tx, Enqueue::new(work.commands, work.rows))?;
    for st in work.states.iter().filter(|s| out.queued.contains(&s.enrollment_id)) {
        upsert_device_app(tx.conn, st)?;
    }
    let events: Vec<_> = work.events.into_iter().filter(|e| out.queued.contains(&e.0)).collect();
    insert_events(tx.conn, &events)?;
    Ok(out)
}
