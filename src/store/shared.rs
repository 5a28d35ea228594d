//! Shared devices as stored: pools and their members, check-out sessions with every workflow
//! action and its outcome, and the per-device kiosk tokens the server makes for locker apps.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{device_groups, devices, group_members, kiosk_tokens, shared_actions, shared_pool_members, shared_pools, shared_sessions};
use super::{planned_per_call, write_tx, DbConn, Store, StoreError, StoreResult};

/// Member kind as stored: a device.
pub const MEMBER_DEVICE: &str = "device";
/// Member kind as stored: a device group.
pub const MEMBER_GROUP: &str = "group";

mod rows;
pub use rows::*;

/// The pools of `device_ids` (a device's own membership, else its groups' in name order).
pub(crate) fn pools_of(conn: &mut DbConn, device_ids: &[String]) -> StoreResult<Vec<(String, PoolRow)>> {
    let direct: Vec<(String, String)> = shared_pool_members::table
        .filter(shared_pool_members::target_kind.eq(MEMBER_DEVICE))
        .filter(shared_pool_members::target.eq_any(device_ids))
        .filter(planned_per_call())
        .select((shared_pool_members::target, shared_pool_members::pool))
        .load(conn)?;
    let via_groups: Vec<(String, String)> = group_members::table
        .inner_join(
            shared_pool_members::table.on(shared_pool_members::target_kind.eq(MEMBER_GROUP).and(shared_pool_members::target.eq(group_members::group_name))),
        )
        .filter(group_members::device_id.eq_any(device_ids))
        .filter(planned_per_call())
        .order((group_members::device_id, shared_pool_members::pool))
        .select((group_members::device_id, shared_pool_members::pool))
        .load(conn)?;
    let mut chosen: Vec<(String, String)> = direct;
    for (d, p) in via_groups {
        if !chosen.iter().any(|(x, _)| *x == d) {
            chosen.push((d, p));
        }
    }
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&String> = chosen.iter().map(|(_, p)| p).collect();
    let rows: Vec<PoolRow> = shared_pools::table.filter(shared_pools::name.eq_any(names)).select(PoolRow::as_select()).load(conn)?;
    Ok(chosen.into_iter().filter_map(|(d, p)| rows.iter().find(|r| r.name == p).map(|r| (d, r.clone()))).collect())
}

/// The open sessions of `device_ids`.
pub(crate) fn open_sessions(conn: &mut DbConn, device_ids: &[String]) -> StoreResult<Vec<SessionRow>> {
    Ok(shared_sessions::table
        .filter(shared_sessions::device_id.eq_any(device_ids))
        .filter(shared_sessions::open.eq(true))
        .filter(planned_per_call())
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// The sealed current kiosk tokens of `device_ids`.
pub(crate) fn kiosk_values(conn: &mut DbConn, device_ids: &[String]) -> StoreResult<Vec<(String, Vec<u8>)>> {
    let rows: Vec<(String, Option<Vec<u8>>)> = kiosk_tokens::table
        .filter(kiosk_tokens::device_id.eq_any(device_ids))
        .filter(kiosk_tokens::rotated_at.is_null())
        .filter(planned_per_call())
        .select((kiosk_tokens::device_id, kiosk_tokens::sealed))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(d, s)| s.map(|s| (d, s))).collect())
}

/// Profiles held by the open session of `device_id` (assigned while a user holds the device).
pub(crate) fn held_profiles(conn: &mut DbConn, device_id: &str) -> StoreResult<Vec<String>> {
    let pool: Option<String> = shared_sessions::table
        .filter(shared_sessions::device_id.eq(device_id))
        .filter(shared_sessions::open.eq(true))
        .select(shared_sessions::pool)
        .first(conn)
        .optional()?;
    let Some(pool) = pool else { return Ok(Vec::new()) };
    let settings: Option<String> = shared_pools::table.find(pool).select(shared_pools::settings).first(conn).optional()?;
    Ok(settings.and_then(|s| serde_json::from_str::<PoolSettings>(&s).ok()).map(|s| s.held_profiles).unwrap_or_default())
}

/// Devices whose open session holds profile `profile_id` (their pool installs it while held).
pub(crate) fn holding_devices(conn: &mut DbConn, profile_id: &str) -> StoreResult<Vec<String>> {
    let pools: Vec<(String, String)> = shared_pools::table.select((shared_pools::name, shared_pools::settings)).load(conn)?;
    let holding: Vec<String> = pools
        .into_iter()
        .filter(|(_, s)| serde_json::from_str::<PoolSettings>(s).is_ok_and(|s| s.held_profiles.iter().any(|p| p == profile_id)))
        .map(|(n, _)| n)
        .collect();
    if holding.is_empty() {
        return Ok(Vec::new());
    }
    Ok(shared_sessions::table
        .filter(shared_sessions::open.eq(true))
        .filter(shared_sessions::pool.eq_any(holding))
        .select(shared_sessions::device_id)
        .load(conn)?)
}

/// Makes `hash` (sealed value `sealed`) the device's current kiosk token, rotating the one
/// before; rotated tokens older than `keep` are forgotten.
pub(crate) fn issue_kiosk_in(conn: &mut DbConn, device_id: &str, hash: String, sealed: Vec<u8>, at: NaiveDateTime, keep: chrono::Duration) -> StoreResult<()> {
    diesel::update(kiosk_tokens::table.filter(kiosk_tokens::device_id.eq(device_id)).filter(kiosk_tokens::rotated_at.is_null()))
        .set((kiosk_tokens::rotated_at.eq(Some(at)), kiosk_tokens::sealed.eq(None::<Vec<u8>>)))
        .execute(conn)?;
    diesel::delete(kiosk_tokens::table.filter(kiosk_tokens::device_id.eq(device_id)).filter(kiosk_tokens::rotated_at.lt(at - keep))).execute(conn)?;
    let row = KioskTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        device_id: device_id.to_string(),
        token_hash: hash,
        sealed: Some(sealed),
        issued_at: at,
        rotated_at: None,
    };
    diesel::insert_into(kiosk_tokens::table).values(&row).execute(conn)?;
    Ok(())
}

/// Opens a session (the device must have none open: the unique index enforces it).
pub(crate) fn insert_session(conn: &mut DbConn, s: &SessionRow) -> StoreResult<()> {
    match diesel::insert_into(shared_sessions::table).values(s).execute(conn) {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(StoreError::Conflict(format!("device {} was checked out at the same moment by another request", s.device_id)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Closes session `id` if it is still open; returns it as closed, or `None` when another
/// request closed it first. Check-out steps still waiting are skipped: the session ended.
pub(crate) fn close_session(conn: &mut DbConn, id: &str, at: NaiveDateTime, by: &str, via: &str, reason: Option<&str>) -> StoreResult<Option<SessionRow>> {
    let open: Option<SessionRow> =
        shared_sessions::table.find(id).filter(shared_sessions::open.eq(true)).select(SessionRow::as_select()).first(conn).optional()?;
    let Some(s) = open else { return Ok(None) };
    let n = diesel::update(shared_sessions::table.find(&s.id).filter(shared_sessions::open.eq(true)))
        .set((
            shared_sessions::open.eq(false),
            shared_sessions::checked_in_at.eq(Some(at)),
            shared_sessions::checked_in_by.eq(Some(by)),
            shared_sessions::checked_in_via.eq(Some(via)),
            shared_sessions::checkin_reason.eq(reason),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    diesel::update(
        shared_actions::table
            .filter(shared_actions::session_id.eq(id))
            .filter(shared_actions::phase.eq("checkout"))
            .filter(shared_actions::status.eq("pending"))
            .filter(shared_actions::command_uuid.is_null())
            .filter(shared_actions::call_id.is_null()),
    )
    .set((shared_actions::status.eq("skipped"), shared_actions::detail.eq(Some("the session ended before this step ran")), shared_actions::updated_at.eq(at)))
    .execute(conn)?;
    Ok(Some(SessionRow {
        open: false,
        checked_in_at: Some(at),
        checked_in_by: Some(by.to_string()),
        checked_in_via: Some(via.to_string()),
        checkin_reason: reason.map(str::to_string),
        ..s
    }))
}

/// Records actions.
pub(crate) fn insert_actions(conn: &mut DbConn, actions: &[NewAction]) -> StoreResult<()> {
    // One statement per row: the portable backend has no multi-row insert with defaults.
    for a in actions {
        diesel::insert_into(shared_actions::table).values(a).execute(conn)?;
    }
    Ok(())
}

/// Shared pools, sessions and kiosk tokens (reached through [`Store::shared`]).
#[derive(Debug, Clone)]
pub struct SharedStore(pub(super) Store);

impl SharedStore {
    /// Creates (`create`) or replaces a pool and its members. A device or group already in
    /// another pool, an unknown device or group → `Conflict` / `NotFound`.
    pub async fn put_pool(&self, row: PoolRow, devices_in: Vec<String>, groups_in: Vec<String>, create: bool) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let exists: i64 = shared_pools::table.filter(shared_pools::name.eq(&row.name)).count().get_result(conn)?;
                    match (create, exists > 0) {
                        (true, true) => return Err(StoreError::Conflict(format!("a pool named {} exists", row.name))),
                        (false, false) => return Err(StoreError::NotFound(format!("no pool {}", row.name))),
                        _ => {}
                    }
                    let known: Vec<String> = devices::table.filter(devices::id.eq_any(&devices_in)).select(devices::id).load(conn)?;
                    if let Some(d) = devices_in.iter().find(|d| !known.contains(d)) {
                        return Err(StoreError::NotFound(format!("no device {d}")));
                    }
                    let known: Vec<String> = device_groups::table.filter(device_groups::name.eq_any(&groups_in)).select(device_groups::name).load(conn)?;
                    if let Some(g) = groups_in.iter().find(|g| !known.contains(g)) {
                        return Err(StoreError::NotFound(format!("no group {g}")));
                    }
                    let members: Vec<(&str, &String)> =
                        devices_in.iter().map(|d| (MEMBER_DEVICE, d)).chain(groups_in.iter().map(|g| (MEMBER_GROUP, g))).collect();
                    for (kind, target) in &members {
                        let other: Option<String> = shared_pool_members::table
                            .find((kind, target.as_str()))
                            .filter(shared_pool_members::pool.ne(&row.name))
                            .select(shared_pool_members::pool)
                            .first(conn)
                            .optional()?;
                        if let Some(p) = other {
                            return Err(StoreError::Conflict(format!("{kind} {target} is in pool {p}; a {kind} is in one pool at most")));
                        }
                    }
                    if create {
                        diesel::insert_into(shared_pools::table).values(&row).execute(conn)?;
                    } else {
                        diesel::update(shared_pools::table.find(&row.name))
                            .set((
                                shared_pools::description.eq(&row.description),
                                shared_pools::staging_user.eq(&row.staging_user),
                                shared_pools::settings.eq(&row.settings),
                                shared_pools::updated_at.eq(row.updated_at),
                            ))
                            .execute(conn)?;
                    }
                    diesel::delete(shared_pool_members::table.filter(shared_pool_members::pool.eq(&row.name))).execute(conn)?;
                    for (kind, target) in members {
                        diesel::insert_into(shared_pool_members::table)
                            .values((
                                shared_pool_members::target_kind.eq(kind),
                                shared_pool_members::target.eq(target),
                                shared_pool_members::pool.eq(&row.name),
                            ))
                            .execute(conn)?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Every pool with its members.
    pub async fn pools(&self) -> StoreResult<Vec<Pool>> {
        self.0
            .run(|conn| {
                let rows: Vec<PoolRow> = shared_pools::table.order(shared_pools::name).select(PoolRow::as_select()).load(conn)?;
                let members: Vec<(String, String, String)> =
                    shared_pool_members::table.select((shared_pool_members::pool, shared_pool_members::target_kind, shared_pool_members::target)).load(conn)?;
                Ok(rows.into_iter().map(|row| with_members(row, &members)).collect())
            })
            .await
    }

    /// One pool with its members.
    pub async fn pool(&self, name: String) -> StoreResult<Option<Pool>> {
        self.0
            .run(move |conn| {
                let Some(row) = shared_pools::table.find(&name).select(PoolRow::as_select()).first(conn).optional()? else { return Ok(None) };
                let members: Vec<(String, String, String)> = shared_pool_members::table
                    .filter(shared_pool_members::pool.eq(&name))
                    .select((shared_pool_members::pool, shared_pool_members::target_kind, shared_pool_members::target))
                    .load(conn)?;
                Ok(Some(with_members(row, &members)))
            })
            .await
    }

    /// Deletes a pool; refused (`Conflict`) while one of its devices is checked out.
    pub async fn delete_pool(&self, name: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let open: i64 =
                        shared_sessions::table.filter(shared_sessions::pool.eq(&name)).filter(shared_sessions::open.eq(true)).count().get_result(conn)?;
                    if open > 0 {
                        return Err(StoreError::Conflict(format!("{open} device(s) of pool {name} are checked out; check them in first")));
                    }
                    diesel::delete(shared_pool_members::table.filter(shared_pool_members::pool.eq(&name))).execute(conn)?;
                    Ok(diesel::delete(shared_pools::table.find(&name)).execute(conn)? > 0)
                })
            })
            .await
    }

    /// A device's pool and open session; `None` when it is in no pool.
    pub async fn state(&self, device_id: String) -> StoreResult<Option<SharedState>> {
        self.0
            .run(move |conn| {
                let ids = [device_id];
                let session = open_sessions(conn, &ids)?.into_iter().next();
                let pool = match pools_of(conn, &ids)?.into_iter().next() {
                    Some((_, p)) => Some(p),
                    // Left its pool (a group change) while checked out: the session's pool.
                    None => match &session {
                        Some(s) => shared_pools::table.find(&s.pool).select(PoolRow::as_select()).first(conn).optional()?,
                        None => None,
                    },
                };
                Ok(pool.map(|pool| SharedState { pool, session }))
            })
            .await
    }

    /// Sessions, newest first.
    pub async fn sessions(&self, q: SessionQuery) -> StoreResult<Vec<SessionRow>> {
        self.0
            .run(move |conn| {
                let mut query = shared_sessions::table.into_boxed();
                if let Some(d) = &q.device {
                    query = query.filter(shared_sessions::device_id.eq(d.clone()));
                }
                if let Some(u) = &q.user {
                    query = query.filter(shared_sessions::username.eq(u.clone()));
                }
                if q.open {
                    query = query.filter(shared_sessions::open.eq(true));
                }
                Ok(query.order((shared_sessions::checked_out_at.desc(), shared_sessions::id)).limit(q.limit).select(SessionRow::as_select()).load(conn)?)
            })
            .await
    }

    /// One session with its actions in order.
    pub async fn session(&self, id: String) -> StoreResult<Option<(SessionRow, Vec<ActionRow>)>> {
        self.0
            .run(move |conn| {
                let Some(s) = shared_sessions::table.find(&id).select(SessionRow::as_select()).first(conn).optional()? else { return Ok(None) };
                let actions = shared_actions::table
                    .filter(shared_actions::session_id.eq(&id))
                    .order((shared_actions::phase.desc(), shared_actions::seq, shared_actions::id))
                    .select(ActionRow::as_select())
                    .load(conn)?;
                Ok(Some((s, actions)))
            })
            .await
    }

    /// Writes the outcome of the action that queued `command_uuid`.
    pub async fn command_answered(&self, command_uuid: String, status: String, detail: Option<String>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(shared_actions::table.filter(shared_actions::command_uuid.eq(command_uuid)))
                    .set((shared_actions::status.eq(status), shared_actions::detail.eq(detail), shared_actions::updated_at.eq(super::now())))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Claims a pending step before running it: true when its `updated_at` was still
    /// `seen` (no other replica took it since).
    pub async fn claim_action(&self, id: i64, seen: NaiveDateTime) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                let n = diesel::update(shared_actions::table.find(id).filter(shared_actions::updated_at.eq(seen)).filter(shared_actions::status.eq("pending")))
                    .set(shared_actions::updated_at.eq(super::now()))
                    .execute(conn)?;
                Ok(n == 1)
            })
            .await
    }

    /// Marks the held-profile actions of a session's phase done (the re-send queued them).
    pub async fn finish_held(&self, session_id: String, phase: String, detail: String) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(
                    shared_actions::table
                        .filter(shared_actions::session_id.eq(session_id))
                        .filter(shared_actions::phase.eq(phase))
                        .filter(shared_actions::action.eq(crate::shared::action::HELD_PROFILE)),
                )
                .set((shared_actions::status.eq("done"), shared_actions::detail.eq(Some(detail)), shared_actions::updated_at.eq(super::now())))
                .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Records a step's outcome and the command it queued.
    pub async fn finish_action(&self, id: i64, status: String, detail: Option<String>, command_uuid: Option<String>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(shared_actions::table.find(id))
                    .set((
                        shared_actions::status.eq(status),
                        shared_actions::detail.eq(detail),
                        shared_actions::command_uuid.eq(command_uuid),
                        shared_actions::updated_at.eq(super::now()),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Sessions with a step still pending, not queued and untouched since `cutoff` (its
    /// replica stopped mid-way).
    pub async fn stalled_sessions(&self, cutoff: NaiveDateTime, limit: i64) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                let mut ids: Vec<String> = shared_actions::table
                    .filter(shared_actions::status.eq("pending"))
                    .filter(shared_actions::command_uuid.is_null())
                    .filter(shared_actions::call_id.is_null())
                    .filter(shared_actions::action.eq_any(crate::shared::action::RUNNABLE))
                    .filter(shared_actions::updated_at.lt(cutoff))
                    .order(shared_actions::id)
                    .limit(limit)
                    .select(shared_actions::session_id)
                    .load(conn)?;
                ids.dedup();
                Ok(ids)
            })
            .await
    }

    /// The kiosk token with this hash (current or rotated).
    pub async fn kiosk_token(&self, hash: String) -> StoreResult<Option<KioskTokenRow>> {
        self.0
            .run(move |conn| Ok(kiosk_tokens::table.filter(kiosk_tokens::token_hash.eq(hash)).select(KioskTokenRow::as_select()).first(conn).optional()?))
            .await
    }

    /// Makes a first kiosk token for a device that has none; false when it already had one.
    pub async fn issue_first_kiosk(&self, device_id: String, hash: String, sealed: Vec<u8>) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let has: i64 = kiosk_tokens::table
                        .filter(kiosk_tokens::device_id.eq(&device_id))
                        .filter(kiosk_tokens::rotated_at.is_null())
                        .count()
                        .get_result(conn)?;
                    if has > 0 {
                        return Ok(false);
                    }
                    issue_kiosk_in(conn, &device_id, hash, sealed, super::now(), chrono::Duration::zero())?;
                    Ok(true)
                })
            })
            .await
    }

    /// Forgets the kiosk tokens of devices in no pool (they left it).
    pub async fn forget_kiosk_outside_pools(&self, device_ids: Vec<String>) -> StoreResult<usize> {
        self.0
            .run(move |conn| {
                let inside: Vec<String> = pools_of(conn, &device_ids)?.into_iter().map(|(d, _)| d).collect();
                let outside: Vec<&String> = device_ids.iter().filter(|d| !inside.contains(d)).collect();
                if outside.is_empty() {
                    return Ok(0);
                }
                Ok(diesel::delete(kiosk_tokens::table.filter(kiosk_tokens::device_id.eq_any(outside))).execute(conn)?)
            })
            .await
    }
}

fn with_members(row: PoolRow, members: &[(String, String, String)]) -> Pool {
    let of = |kind: &str| members.iter().filter(|(p, k, _)| *p == row.name && k == kind).map(|(_, _, t)| t.clone()).collect::<Vec<_>>();
    let (devices, groups) = (of(MEMBER_DEVICE), of(MEMBER_GROUP));
    Pool { row, devices, groups }
}
