//! The profile library tables: profiles and their versions, device groups, assignments, and
//! where each profile stands on each enrollment.

use diesel::prelude::*;

use super::assignments::{TARGET_DEVICE, TARGET_GROUP};
use super::models::{CertBinding, Command, Device, DeviceGroup, DeviceProfile, Enrollment, ProfileRow, ProfileVersion};
use super::schema::{
    cert_bindings, custom_attributes, device_groups, device_profiles, devices, enrollment_queue, enrollments, group_members, profile_assignments,
    profile_versions, profiles, users,
};
use super::Tx;
use super::{now, write_tx, Store, StoreError, StoreResult};
use crate::queue::{enqueue_in, Enqueue, EnqueueOutcome};

/// What a device offers for rendering a profile: its attributes, its device channel and the
/// certificate it authenticated with (for encryption).
#[derive(Debug, Clone)]
pub struct DeviceContext {
    /// The device.
    pub device: Device,
    /// Its device-channel enrollment.
    pub enrollment: Enrollment,
    /// The bound identity certificate, DER, when known.
    pub cert_der: Option<Vec<u8>>,
    /// The user who enrolled the device, when known.
    pub enrolled_user: Option<String>,
    /// That user's e-mail address, when known.
    pub user_email: Option<String>,
    /// Custom attributes: the device's own, then its groups' (first group by name wins).
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The shared pool the device is in and its open session, when it is in one.
    pub shared: Option<super::shared::SharedState>,
    /// The current user of a shared device (holder, else staging user): e-mail and full name.
    pub shared_user: Option<(Option<String>, Option<String>)>,
    /// The device's current kiosk token, sealed.
    pub kiosk_sealed: Option<Vec<u8>>,
}

/// Commands to queue together with the install-state rows they change.
#[derive(Debug, Clone, Default)]
pub struct ProfileWork {
    /// Commands (InstallProfile/RemoveProfile/ProfileList), one per enrollment.
    pub commands: Vec<Command>,
    /// (enrollment, command uuid) queue rows.
    pub rows: Vec<(String, String)>,
    /// Install-state rows written (upserted) in the same transaction.
    pub states: Vec<DeviceProfile>,
}

fn not_found(what: &str, id: &str) -> StoreError {
    StoreError::NotFound(format!("no {what} {id}"))
}

/// The profile library: profiles, versions, groups, install state (reached through [`Store::library`]).
#[derive(Debug, Clone)]
pub struct LibraryStore(pub(super) Store);

impl LibraryStore {
    /// Stores a new profile with its first version. The identifier must be unused.
    pub async fn create_profile(&self, row: ProfileRow, version: ProfileVersion) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = profiles::table.filter(profiles::identifier.eq(&row.identifier)).count().get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("a profile with PayloadIdentifier {} already exists; update it instead", row.identifier)));
                    }
                    diesel::insert_into(profiles::table).values(&row).execute(conn)?;
                    diesel::insert_into(profile_versions::table).values(&version).execute(conn)?;
                    Ok(())
                })
            })
            .await
    }

    /// Adds the next version of a profile and makes it current; returns the updated profile.
    /// `version.version` is ignored (the next number is used).
    pub async fn add_profile_version(&self, id: String, name: String, mut version: ProfileVersion) -> StoreResult<ProfileRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let current: ProfileRow =
                        profiles::table.find(&id).select(ProfileRow::as_select()).first(conn).optional()?.ok_or_else(|| not_found("profile", &id))?;
                    let at = now();
                    version.profile_id = id.clone();
                    version.version = current.version + 1;
                    version.created_at = at;
                    diesel::insert_into(profile_versions::table).values(&version).execute(conn)?;
                    diesel::update(profiles::table.find(&id))
                        .set((profiles::version.eq(version.version), profiles::name.eq(&name), profiles::updated_at.eq(at)))
                        .execute(conn)?;
                    Ok(ProfileRow { version: version.version, name, updated_at: at, ..current })
                })
            })
            .await
    }

    /// Every profile in the library, by identifier.
    pub async fn profiles(&self) -> StoreResult<Vec<ProfileRow>> {
        self.0.run(|conn| Ok(profiles::table.order(profiles::identifier).select(ProfileRow::as_select()).load(conn)?)).await
    }

    /// One profile.
    pub async fn profile(&self, id: String) -> StoreResult<Option<ProfileRow>> {
        self.0.run(move |conn| Ok(profiles::table.find(id).select(ProfileRow::as_select()).first(conn).optional()?)).await
    }

    /// The profile with this PayloadIdentifier.
    pub async fn profile_by_identifier(&self, identifier: String) -> StoreResult<Option<ProfileRow>> {
        self.0.run(move |conn| Ok(profiles::table.filter(profiles::identifier.eq(identifier)).select(ProfileRow::as_select()).first(conn).optional()?)).await
    }

    /// One version of a profile (body included).
    pub async fn profile_version(&self, id: String, version: i32) -> StoreResult<Option<ProfileVersion>> {
        self.0.run(move |conn| Ok(profile_versions::table.find((id, version)).select(ProfileVersion::as_select()).first(conn).optional()?)).await
    }

    /// Every version of a profile, newest first.
    pub async fn profile_versions(&self, id: String) -> StoreResult<Vec<ProfileVersion>> {
        self.0
            .run(move |conn| {
                Ok(profile_versions::table
                    .filter(profile_versions::profile_id.eq(id))
                    .order(profile_versions::version.desc())
                    .select(ProfileVersion::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Deletes a profile, its versions and assignments. Install state rows stay (removal is
    /// tracked on them).
    pub async fn delete_profile(&self, id: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    diesel::delete(profile_assignments::table.filter(profile_assignments::profile_id.eq(&id))).execute(conn)?;
                    diesel::delete(profile_versions::table.filter(profile_versions::profile_id.eq(&id))).execute(conn)?;
                    Ok(diesel::delete(profiles::table.find(&id)).execute(conn)? > 0)
                })
            })
            .await
    }

    /// Creates a group; the name must be unused.
    pub async fn create_group(&self, name: String, description: Option<String>) -> StoreResult<DeviceGroup> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = device_groups::table.filter(device_groups::name.eq(&name)).count().get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("group {name} already exists")));
                    }
                    let g = DeviceGroup { name: name.clone(), description: description.clone(), created_at: now() };
                    diesel::insert_into(device_groups::table).values(&g).execute(conn)?;
                    Ok(g)
                })
            })
            .await
    }

    /// Every group with its member count.
    pub async fn groups(&self) -> StoreResult<Vec<(DeviceGroup, i64)>> {
        self.0
            .run(|conn| {
                let groups: Vec<DeviceGroup> = device_groups::table.order(device_groups::name).select(DeviceGroup::as_select()).load(conn)?;
                let counts: Vec<(String, i64)> =
                    group_members::table.group_by(group_members::group_name).select((group_members::group_name, diesel::dsl::count_star())).load(conn)?;
                let counts: std::collections::HashMap<String, i64> = counts.into_iter().collect();
                Ok(groups.into_iter().map(|g| (g.clone(), counts.get(&g.name).copied().unwrap_or(0))).collect())
            })
            .await
    }

    /// One group and its member device ids.
    pub async fn group(&self, name: String) -> StoreResult<Option<(DeviceGroup, Vec<String>)>> {
        self.0
            .run(move |conn| {
                let Some(g) = device_groups::table.find(&name).select(DeviceGroup::as_select()).first(conn).optional()? else {
                    return Ok(None);
                };
                let members = group_members::table
                    .filter(group_members::group_name.eq(&name))
                    .order(group_members::device_id)
                    .select(group_members::device_id)
                    .load(conn)?;
                Ok(Some((g, members)))
            })
            .await
    }

    /// Deletes a group (its memberships and the assignments that name it go with it).
    pub async fn delete_group(&self, name: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    diesel::delete(group_members::table.filter(group_members::group_name.eq(&name))).execute(conn)?;
                    diesel::delete(
                        profile_assignments::table.filter(profile_assignments::target_kind.eq(TARGET_GROUP)).filter(profile_assignments::target.eq(&name)),
                    )
                    .execute(conn)?;
                    Ok(diesel::delete(device_groups::table.find(&name)).execute(conn)? > 0)
                })
            })
            .await
    }

    /// Adds devices to a group; returns the ids that are not known devices (not added).
    pub async fn add_group_members(&self, name: String, device_ids: Vec<String>) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let exists: i64 = device_groups::table.filter(device_groups::name.eq(&name)).count().get_result(conn)?;
                    if exists == 0 {
                        return Err(not_found("group", &name));
                    }
                    let known: Vec<String> =
                        devices::table.filter(devices::id.eq_any(&device_ids)).filter(super::planned_per_call()).select(devices::id).load(conn)?;
                    let present: Vec<String> = group_members::table
                        .filter(group_members::group_name.eq(&name))
                        .filter(group_members::device_id.eq_any(&known))
                        .filter(super::planned_per_call())
                        .select(group_members::device_id)
                        .load(conn)?;
                    let at = now();
                    let mut added = std::collections::HashSet::new();
                    for id in known.iter().filter(|id| !present.contains(id)) {
                        if added.insert(id.clone()) {
                            diesel::insert_into(group_members::table)
                                .values((group_members::group_name.eq(&name), group_members::device_id.eq(id), group_members::created_at.eq(at)))
                                .execute(conn)?;
                        }
                    }
                    Ok(device_ids.into_iter().filter(|d| !known.contains(d)).collect())
                })
            })
            .await
    }

    /// Removes a device from a group; false when it was not a member.
    pub async fn remove_group_member(&self, name: String, device_id: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(group_members::table.find((name, device_id))).execute(conn)? > 0)).await
    }

    /// Attributes, device channel and certificate of the devices given, for rendering. Devices
    /// without an enabled device channel are left out.
    pub async fn device_contexts(&self, device_ids: Vec<String>) -> StoreResult<Vec<DeviceContext>> {
        self.0
            .run(move |conn| {
                let devs: Vec<Device> =
                    devices::table.filter(devices::id.eq_any(&device_ids)).filter(super::planned_per_call()).select(Device::as_select()).load(conn)?;
                let ens: Vec<Enrollment> = enrollments::table
                    .filter(enrollments::id.eq_any(&device_ids))
                    .filter(enrollments::channel.eq("device"))
                    .filter(enrollments::enabled.eq(true))
                    .filter(super::planned_per_call())
                    .select(Enrollment::as_select())
                    .load(conn)?;
                let certs: Vec<CertBinding> = cert_bindings::table
                    .filter(cert_bindings::device_id.eq_any(&device_ids))
                    .filter(super::planned_per_call())
                    .select(CertBinding::as_select())
                    .load(conn)?;
                let owners: Vec<(String, Option<String>)> = devices::table
                    .filter(devices::id.eq_any(&device_ids))
                    .filter(super::planned_per_call())
                    .select((devices::id, devices::enrolled_user))
                    .load(conn)?;
                let pools = super::shared::pools_of(conn, &device_ids)?;
                let sessions = if pools.is_empty() { Vec::new() } else { super::shared::open_sessions(conn, &device_ids)? };
                let kiosk = if pools.is_empty() { Vec::new() } else { super::shared::kiosk_values(conn, &device_ids)? };
                let shared_of = |device: &str| {
                    pools
                        .iter()
                        .find(|(d, _)| d == device)
                        .map(|(_, p)| super::shared::SharedState { pool: p.clone(), session: sessions.iter().find(|s| s.device_id == device).cloned() })
                };
                let mut names: Vec<&String> = owners.iter().filter_map(|(_, u)| u.as_ref()).collect();
                names.extend(pools.iter().map(|(_, p)| &p.staging_user));
                names.extend(sessions.iter().map(|s| &s.username));
                let emails: Vec<(String, Option<String>, Option<String>)> = if names.is_empty() {
                    Vec::new()
                } else {
                    users::table
                        .filter(users::username.eq_any(names))
                        .filter(super::planned_per_call())
                        .select((users::username, users::email, users::full_name))
                        .load(conn)?
                };
                let memberships: Vec<(String, String)> = group_members::table
                    .filter(group_members::device_id.eq_any(&device_ids))
                    .filter(super::planned_per_call())
                    .select((group_members::device_id, group_members::group_name))
                    .load(conn)?;
                let attrs: Vec<(String, String, String, String)> = custom_attributes::table
                    .filter(
                        custom_attributes::scope_kind
                            .eq(TARGET_DEVICE)
                            .and(custom_attributes::scope.eq_any(&device_ids))
                            .or(custom_attributes::scope_kind.eq(TARGET_GROUP).and(custom_attributes::scope.eq_any(memberships.iter().map(|(_, g)| g)))),
                    )
                    .filter(super::planned_per_call())
                    .select((custom_attributes::scope_kind, custom_attributes::scope, custom_attributes::name, custom_attributes::value))
                    .order((custom_attributes::scope_kind, custom_attributes::scope))
                    .load(conn)?;
                let attributes_of = |device: &str| {
                    let mut m = std::collections::BTreeMap::new();
                    let groups: Vec<&String> = memberships.iter().filter(|(d, _)| d == device).map(|(_, g)| g).collect();
                    // Groups in name order, first wins; then the device's own values override.
                    for (kind, scope, name, value) in attrs.iter().rev() {
                        if kind == TARGET_GROUP && groups.contains(&scope) {
                            m.insert(name.clone(), value.clone());
                        }
                    }
                    for (kind, scope, name, value) in &attrs {
                        if kind == TARGET_DEVICE && scope == device {
                            m.insert(name.clone(), value.clone());
                        }
                    }
                    m
                };
                let mut out = Vec::new();
                for e in ens {
                    let Some(device) = devs.iter().find(|d| d.id == e.device_id).cloned() else { continue };
                    let cert_der = certs.iter().filter(|c| c.device_id == e.device_id).max_by_key(|c| c.created_at).and_then(|c| c.cert_der.clone());
                    let enrolled_user = owners.iter().find(|(id, _)| *id == e.device_id).and_then(|(_, u)| u.clone());
                    let user_email = enrolled_user.as_ref().and_then(|u| emails.iter().find(|(n, _, _)| n == u)).and_then(|(_, m, _)| m.clone());
                    let attributes = attributes_of(&e.device_id);
                    let shared = shared_of(&e.device_id);
                    let shared_user = shared.as_ref().map(|s| {
                        let user = s.session.as_ref().map(|x| &x.username).unwrap_or(&s.pool.staging_user);
                        let known = emails.iter().find(|(n, _, _)| n == user);
                        let email = s.session.as_ref().and_then(|x| x.email.clone()).or_else(|| known.and_then(|k| k.1.clone()));
                        let full = s.session.as_ref().and_then(|x| x.full_name.clone()).or_else(|| known.and_then(|k| k.2.clone()));
                        (email, full)
                    });
                    let kiosk_sealed = kiosk.iter().find(|(d, _)| *d == e.device_id).map(|(_, v)| v.clone());
                    out.push(DeviceContext { device, enrollment: e, cert_der, enrolled_user, user_email, attributes, shared, shared_user, kiosk_sealed });
                }
                Ok(out)
            })
            .await
    }

    /// Writes install-state rows without queueing anything.
    pub async fn put_device_profiles(&self, states: Vec<DeviceProfile>) -> StoreResult<()> {
        self.0.run(move |conn| write_tx(conn, |conn| states.iter().try_for_each(|s| upsert_state(conn, s)))).await
    }

    /// Install state of an enrollment, by identifier.
    pub async fn enrollment_profiles(&self, enrollment_id: String) -> StoreResult<Vec<DeviceProfile>> {
        self.0
            .run(move |conn| {
                Ok(device_profiles::table
                    .filter(device_profiles::enrollment_id.eq(enrollment_id))
                    .order(device_profiles::identifier)
                    .select(DeviceProfile::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Install state of a profile on every enrollment.
    pub async fn profile_states(&self, profile_id: String) -> StoreResult<Vec<DeviceProfile>> {
        self.0
            .run(move |conn| {
                Ok(device_profiles::table
                    .filter(device_profiles::profile_id.eq(profile_id))
                    .order(device_profiles::enrollment_id)
                    .select(DeviceProfile::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// The install-state row a command belongs to.
    pub async fn device_profile_by_command(&self, enrollment_id: String, command_uuid: String) -> StoreResult<Option<DeviceProfile>> {
        self.0
            .run(move |conn| {
                Ok(device_profiles::table
                    .filter(device_profiles::enrollment_id.eq(enrollment_id))
                    .filter(device_profiles::command_uuid.eq(command_uuid))
                    .select(DeviceProfile::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await
    }

    /// Records that the enrollment's profiles were just checked (a ProfileList arrived).
    pub async fn profiles_checked(&self, enrollment_id: String) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(device_profiles::table.filter(device_profiles::enrollment_id.eq(enrollment_id)))
                    .set(device_profiles::checked_at.eq(Some(now())))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Claims up to `limit` enabled enrollments whose installed or verified profiles were last
    /// checked before `cutoff` (or never) and that have no check waiting (a queued command whose
    /// UUID starts with `check_prefix`): their check time moves to now, so another replica's pass
    /// skips them.
    pub async fn claim_profile_audits(&self, cutoff: chrono::NaiveDateTime, limit: i64, check_prefix: &'static str) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let waiting = enrollment_queue::table
                        .filter(enrollment_queue::status.eq_any(crate::queue::QueueStatus::ACTIVE_SQL))
                        .filter(enrollment_queue::command_uuid.like(format!("{check_prefix}%")))
                        .select(enrollment_queue::enrollment_id);
                    let stale = device_profiles::checked_at.is_null().or(device_profiles::checked_at.lt(cutoff));
                    let candidates: Vec<String> = device_profiles::table
                        .inner_join(enrollments::table)
                        .filter(enrollments::enabled.eq(true))
                        .filter(device_profiles::status.eq_any(["installed", "verified"]))
                        .filter(stale)
                        .filter(diesel::dsl::not(device_profiles::enrollment_id.eq_any(waiting)))
                        .select(device_profiles::enrollment_id)
                        .distinct()
                        .limit(limit)
                        .load(conn)?;
                    let at = now();
                    let mut claimed = Vec::new();
                    for e in candidates {
                        let n = diesel::update(
                            device_profiles::table
                                .filter(device_profiles::enrollment_id.eq(&e))
                                .filter(device_profiles::checked_at.is_null().or(device_profiles::checked_at.lt(cutoff))),
                        )
                        .set(device_profiles::checked_at.eq(Some(at)))
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

    /// Forgets one install-state row (after a confirmed removal).
    pub async fn delete_device_profile(&self, enrollment_id: String, profile_id: String) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let row: Option<DeviceProfile> =
                        device_profiles::table.find((&enrollment_id, &profile_id)).select(DeviceProfile::as_select()).first(conn).optional()?;
                    let Some(row) = row else { return Ok(()) };
                    diesel::delete(device_profiles::table.find((&enrollment_id, &profile_id))).execute(conn)?;
                    let ev = state_event(conn, super::events::topic::PROFILE_REMOVED, &row)?;
                    super::events::emit_one(conn, now(), ev)
                })
            })
            .await
    }
}

/// Update-or-insert inside the caller's transaction (the portable backend has no ON CONFLICT).
/// The event a change of a profile's install state on an enrollment makes, if it makes one:
/// `old` → `new` (statuses as `profiles::service::status` spells them).
fn state_topic(old: Option<&str>, new: &str) -> Option<&'static str> {
    use super::events::topic;
    match (old, new) {
        (Some(o), n) if o == n => None,
        (_, "installed") => Some(topic::PROFILE_INSTALLED),
        (_, "verified") => Some(topic::PROFILE_VERIFIED),
        (_, "failed") => Some(topic::PROFILE_FAILED),
        // A profile the device had (or had failed) queued again: drift or a retry.
        (Some("installed" | "verified" | "failed"), "pending") => Some(topic::PROFILE_RESENT),
        _ => None,
    }
}

/// The event of install-state row `s`, with `topic`.
fn state_event(conn: &mut super::DbConn, topic: &'static str, s: &DeviceProfile) -> StoreResult<super::events::NewEvent> {
    let device = super::events::devices_of(conn, &[s.enrollment_id.as_str()])?.remove(&s.enrollment_id).unwrap_or_default();
    let data = serde_json::json!({"profile_id": s.profile_id, "identifier": s.identifier, "version": s.version, "status": s.status, "detail": s.detail, "command_uuid": s.command_uuid});
    Ok(super::events::NewEvent::new(topic, data).on(device, s.enrollment_id.as_str()))
}

fn upsert_state(conn: &mut super::DbConn, s: &DeviceProfile) -> StoreResult<()> {
    let old: Option<String> = device_profiles::table.find((&s.enrollment_id, &s.profile_id)).select(device_profiles::status).first(conn).optional()?;
    if let Some(t) = state_topic(old.as_deref(), &s.status) {
        let ev = state_event(conn, t, s)?;
        super::events::emit_one(conn, s.updated_at, ev)?;
    }
    let updated = diesel::update(device_profiles::table.find((&s.enrollment_id, &s.profile_id)))
        .set((
            device_profiles::identifier.eq(&s.identifier),
            device_profiles::version.eq(s.version),
            device_profiles::payload_uuid.eq(&s.payload_uuid),
            device_profiles::status.eq(&s.status),
            device_profiles::command_uuid.eq(&s.command_uuid),
            device_profiles::detail.eq(&s.detail),
            device_profiles::reinstalls.eq(s.reinstalls),
            device_profiles::updated_at.eq(s.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(device_profiles::table).values(s).execute(conn)?;
    }
    Ok(())
}

/// Queues profile commands and writes the install-state rows they change, inside `tx` (run by
/// [`crate::queue::Queue::write`], which pushes the queued enrollments after the commit).
pub(crate) fn queue_profile_work(tx: &mut Tx<'_>, work: ProfileWork) -> StoreResult<EnqueueOutcome> {
    let out = enqueue_in(tx, Enqueue::new(work.commands, work.rows))?;
    for st in work.states.iter().filter(|s| out.queued.contains(&s.enrollment_id)) {
        upsert_state(tx.conn, st)?;
    }
    Ok(out)
}
