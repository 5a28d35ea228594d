//! Enrollment bookkeeping: local users, enrollment tokens, blueprints, and enrollment sessions
//! (from the enrollment page to the device's first check-in). Only hashes of passwords, token
//! values and challenges are stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::models::ScepChallenge;
use super::schema::{blueprints, cert_bindings, device_groups, devices, enroll_sessions, enrollment_tokens, group_members, scep_certs, scep_challenges, users};
use super::{now, write_tx, DbConn, Store, StoreError, StoreResult};

/// A local user who may enroll devices.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_null = true)]
pub struct UserRow {
    /// Login name.
    pub username: String,
    /// Argon2 PHC string (never serialized).
    #[serde(skip)]
    pub password_hash: String,
    /// Display name.
    pub full_name: Option<String>,
    /// E-mail address (`{EnrollmentUserEmail}`).
    pub email: Option<String>,
    /// Group the devices this user enrolls join.
    pub group_name: Option<String>,
    /// Blueprint their enrollments run.
    pub blueprint: Option<String>,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// An enrollment token (only its hash is stored).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = enrollment_tokens)]
pub struct TokenRow {
    /// Id (not the secret).
    pub id: String,
    /// SHA-256 of the value, hex (never serialized).
    #[serde(skip)]
    pub token_hash: String,
    /// Admin's note.
    pub note: Option<String>,
    /// How many enrollments it allows (`None`: any number).
    pub max_uses: Option<i32>,
    /// Enrollments so far.
    pub uses: i32,
    /// The user enrollments with it are made for.
    pub username: Option<String>,
    /// The group enrolled devices join.
    pub group_name: Option<String>,
    /// The blueprint enrolled devices run.
    pub blueprint: Option<String>,
    /// Unusable after this.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub expires_at: Option<NaiveDateTime>,
    /// Revoked by an admin.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub revoked_at: Option<NaiveDateTime>,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
}

impl TokenRow {
    /// Why the token cannot be used at `at`, if it cannot.
    pub fn unusable(&self, at: NaiveDateTime) -> Option<String> {
        if self.revoked_at.is_some() {
            Some(format!("enrollment token {} was revoked", self.id))
        } else if self.expires_at.is_some_and(|e| e <= at) {
            Some(format!("enrollment token {} has expired", self.id))
        } else if self.max_uses.is_some_and(|m| self.uses >= m) {
            Some(format!("enrollment token {} has been used up", self.id))
        } else {
            None
        }
    }
}

/// A stored blueprint (its actions as JSON).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = blueprints)]
pub struct BlueprintRow {
    /// Name.
    pub name: String,
    /// The actions, JSON.
    pub body: String,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// One enrollment attempt.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = enroll_sessions)]
pub struct SessionRow {
    /// Id.
    pub id: String,
    /// `ota` or `direct`.
    pub method: String,
    /// The enrollment token used, if any.
    pub token_id: Option<String>,
    /// The user enrolling, if known.
    pub username: Option<String>,
    /// The group the device joins.
    pub group_name: Option<String>,
    /// The blueprint it runs.
    pub blueprint: Option<String>,
    /// SHA-256 of the profile-service Challenge (never serialized).
    #[serde(skip)]
    pub challenge_hash: Option<String>,
    /// The device's UDID (from phase 2).
    pub udid: Option<String>,
    /// The device attributes of phase 2, JSON.
    pub attributes: Option<String>,
    /// 1, 2 or 3: the last profile served.
    pub phase: i32,
    /// One-time SCEP challenge of the phase-2 identity.
    pub scep_challenge_id: Option<String>,
    /// One-time SCEP challenge of the MDM identity.
    pub mdm_challenge_id: Option<String>,
    /// The browser's address.
    pub client: Option<String>,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// The session's challenges stop working after this.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub expires_at: NaiveDateTime,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
    /// When the device completed its first TokenUpdate.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub enrolled_at: Option<NaiveDateTime>,
}

/// What phase 2 records.
#[derive(Debug, Clone)]
pub struct Phase2 {
    /// The session's challenge hash.
    pub challenge_hash: String,
    /// UDID reported.
    pub udid: String,
    /// Attributes, JSON.
    pub attributes: String,
}

/// Who enrolled a device and how, as the device record keeps it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceOwner {
    /// The enrolled user.
    pub enrolled_user: Option<String>,
    /// The enrollment session.
    pub enroll_session_id: Option<String>,
}

fn refused(why: String) -> StoreError {
    StoreError::Challenge(why)
}

/// Takes one use of the token `id` inside a transaction, or says why it cannot be used. One
/// guarded UPDATE, so devices racing for the last use cannot both win and concurrent uses of a
/// multi-use token do not fail each other (PostgreSQL re-checks the guard on the updated row).
fn use_token(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> StoreResult<()> {
    let t = enrollment_tokens::table;
    let n = diesel::update(
        t.find(id)
            .filter(enrollment_tokens::revoked_at.is_null())
            .filter(enrollment_tokens::expires_at.is_null().or(enrollment_tokens::expires_at.assume_not_null().gt(at)))
            .filter(enrollment_tokens::max_uses.is_null().or(enrollment_tokens::uses.lt(enrollment_tokens::max_uses.assume_not_null()))),
    )
    .set(enrollment_tokens::uses.eq(enrollment_tokens::uses + 1))
    .execute(conn)?;
    if n == 1 {
        return Ok(());
    }
    let row: Option<TokenRow> = t.find(id).select(TokenRow::as_select()).first(conn).optional()?;
    Err(refused(match row {
        None => format!("enrollment token {id} no longer exists"),
        Some(row) => row.unusable(at).unwrap_or_else(|| format!("enrollment token {id} cannot be used")),
    }))
}

/// Refuses a session whose user has been disabled or whose token revoked since it began.
fn still_allowed(conn: &mut DbConn, s: &SessionRow) -> StoreResult<()> {
    if let Some(u) = &s.username {
        let disabled: Option<bool> = users::table.find(u).select(users::disabled).first(conn).optional()?;
        if disabled == Some(true) {
            return Err(refused(format!("user {u} is disabled")));
        }
    }
    if let Some(t) = &s.token_id {
        let revoked: Option<Option<NaiveDateTime>> = enrollment_tokens::table.find(t).select(enrollment_tokens::revoked_at).first(conn).optional()?;
        if matches!(revoked, Some(Some(_)) | None) {
            return Err(refused(format!("enrollment token {t} was revoked")));
        }
    }
    Ok(())
}

/// Over-the-air enrollment: users, tokens, sessions, blueprints (reached through [`Store::enroll`]).
#[derive(Debug, Clone)]
pub struct EnrollStore(pub(super) Store);

impl EnrollStore {
    /// Adds a user; the name must be free.
    pub async fn create_user(&self, row: UserRow) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = users::table.filter(users::username.eq(&row.username)).count().get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("user {} already exists", row.username)));
                    }
                    diesel::insert_into(users::table).values(&row).execute(conn)?;
                    Ok(())
                })
            })
            .await
    }

    /// Replaces a user's record.
    pub async fn update_user(&self, row: UserRow) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                let n = diesel::update(users::table.find(&row.username)).set(&row).execute(conn)?;
                if n == 0 {
                    return Err(StoreError::NotFound(format!("no user {}", row.username)));
                }
                Ok(())
            })
            .await
    }

    /// A user by name.
    pub async fn user(&self, username: String) -> StoreResult<Option<UserRow>> {
        self.0.run(move |conn| Ok(users::table.find(username).select(UserRow::as_select()).first(conn).optional()?)).await
    }

    /// Every user, by name.
    pub async fn users(&self) -> StoreResult<Vec<UserRow>> {
        self.0.run(|conn| Ok(users::table.order(users::username).select(UserRow::as_select()).load(conn)?)).await
    }

    /// Deletes a user; false when there was none.
    pub async fn delete_user(&self, username: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(users::table.find(username)).execute(conn)? > 0)).await
    }

    /// Stores a new enrollment token.
    pub async fn create_token(&self, row: TokenRow) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::insert_into(enrollment_tokens::table).values(&row).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Every token, newest first.
    pub async fn enrollment_tokens(&self) -> StoreResult<Vec<TokenRow>> {
        self.0.run(|conn| Ok(enrollment_tokens::table.order(enrollment_tokens::created_at.desc()).select(TokenRow::as_select()).load(conn)?)).await
    }

    /// The token with this value hash.
    pub async fn token_by_hash(&self, hash: String) -> StoreResult<Option<TokenRow>> {
        self.0
            .run(move |conn| {
                Ok(enrollment_tokens::table.filter(enrollment_tokens::token_hash.eq(hash)).select(TokenRow::as_select()).first(conn).optional()?)
            })
            .await
    }

    /// Revokes a token; false when there is none.
    pub async fn revoke_token(&self, id: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                Ok(diesel::update(enrollment_tokens::table.find(id).filter(enrollment_tokens::revoked_at.is_null()))
                    .set(enrollment_tokens::revoked_at.eq(Some(now())))
                    .execute(conn)?
                    > 0)
            })
            .await
    }

    /// Creates or replaces a blueprint; true when it was new.
    pub async fn put_blueprint(&self, name: String, body: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let n = diesel::update(blueprints::table.find(&name)).set((blueprints::body.eq(&body), blueprints::updated_at.eq(at))).execute(conn)?;
                    if n > 0 {
                        return Ok(false);
                    }
                    diesel::insert_into(blueprints::table).values(&BlueprintRow { name, body, created_at: at, updated_at: at }).execute(conn)?;
                    Ok(true)
                })
            })
            .await
    }

    /// A blueprint by name.
    pub async fn blueprint(&self, name: String) -> StoreResult<Option<BlueprintRow>> {
        self.0.run(move |conn| Ok(blueprints::table.find(name).select(BlueprintRow::as_select()).first(conn).optional()?)).await
    }

    /// Every blueprint, by name.
    pub async fn blueprints(&self) -> StoreResult<Vec<BlueprintRow>> {
        self.0.run(|conn| Ok(blueprints::table.order(blueprints::name).select(BlueprintRow::as_select()).load(conn)?)).await
    }

    /// Deletes a blueprint; false when there was none.
    pub async fn delete_blueprint(&self, name: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(blueprints::table.find(name)).execute(conn)? > 0)).await
    }

    /// Stores a new session, with the SCEP challenge it hands out (if any). With
    /// `use_token_now`, one use of the session's token is taken in the same transaction (refused
    /// with the reason when the token cannot be used; then nothing is stored).
    pub async fn create_session(&self, row: SessionRow, use_token_now: bool, challenge: Option<ScepChallenge>) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    if let (true, Some(t)) = (use_token_now, &row.token_id) {
                        use_token(conn, t, row.created_at)?;
                    }
                    if let Some(c) = &challenge {
                        diesel::insert_into(scep_challenges::table).values(c).execute(conn)?;
                    }
                    diesel::insert_into(enroll_sessions::table).values(&row).execute(conn)?;
                    Ok(())
                })
            })
            .await
    }

    /// Phase 2: the session whose profile-service challenge this is must be in phase 1 and not
    /// expired, its user enabled and its token usable; it records the device, takes a use of its
    /// token, stores `challenge` (the enrollment identity's SCEP challenge) and moves to phase 2.
    /// Refused (as [`StoreError::Challenge`]) with the reason otherwise — a replayed challenge
    /// among them — and then nothing is stored.
    pub async fn session_phase2(&self, p: Phase2, challenge: ScepChallenge) -> StoreResult<SessionRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let s: Option<SessionRow> = enroll_sessions::table
                        .filter(enroll_sessions::challenge_hash.eq(&p.challenge_hash))
                        .select(SessionRow::as_select())
                        .first(conn)
                        .optional()?;
                    let Some(s) = s else { return Err(refused("unknown enrollment challenge".into())) };
                    if s.phase != 1 {
                        return Err(refused(format!("the enrollment challenge of session {} was already used", s.id)));
                    }
                    if s.expires_at <= at {
                        return Err(refused(format!("enrollment session {} expired at {}", s.id, s.expires_at)));
                    }
                    still_allowed(conn, &s)?;
                    if let Some(t) = &s.token_id {
                        use_token(conn, t, at)?;
                    }
                    diesel::insert_into(scep_challenges::table).values(&challenge).execute(conn)?;
                    let n = diesel::update(enroll_sessions::table.find(&s.id).filter(enroll_sessions::phase.eq(1)))
                        .set((
                            enroll_sessions::phase.eq(2),
                            enroll_sessions::udid.eq(Some(&p.udid)),
                            enroll_sessions::attributes.eq(Some(&p.attributes)),
                            enroll_sessions::scep_challenge_id.eq(Some(&challenge.id)),
                            enroll_sessions::updated_at.eq(at),
                        ))
                        .execute(conn)?;
                    if n == 0 {
                        return Err(refused(format!("the enrollment challenge of session {} was already used", s.id)));
                    }
                    Ok(enroll_sessions::table.find(&s.id).select(SessionRow::as_select()).first(conn)?)
                })
            })
            .await
    }

    /// Phase 3: moves the session from phase 2 to 3 and stores `challenge` (the MDM identity's
    /// SCEP challenge). A repeated phase 3 (the device lost the answer) is served again while
    /// the previous MDM challenge is unused, which then stops working; once the MDM identity has
    /// been issued, or when the session expired, its user was disabled or its token revoked, it
    /// is refused.
    pub async fn session_phase3(&self, id: String, challenge: ScepChallenge) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let s: Option<SessionRow> = enroll_sessions::table.find(&id).select(SessionRow::as_select()).first(conn).optional()?;
                    let Some(s) = s else { return Err(refused(format!("no enrollment session {id}"))) };
                    if s.expires_at <= at {
                        return Err(refused(format!("enrollment session {id} expired at {}", s.expires_at)));
                    }
                    still_allowed(conn, &s)?;
                    match (s.phase, &s.mdm_challenge_id) {
                        (2, _) => {}
                        (3, Some(previous)) => {
                            let unused = diesel::update(scep_challenges::table.find(previous).filter(scep_challenges::used_at.is_null()))
                                .set(scep_challenges::expires_at.eq(at))
                                .execute(conn)?;
                            if unused == 0 {
                                return Err(refused(format!("enrollment session {id} is complete: its MDM identity was already issued")));
                            }
                        }
                        _ => return Err(refused(format!("enrollment session {id} is not waiting for its enrollment profile"))),
                    }
                    diesel::insert_into(scep_challenges::table).values(&challenge).execute(conn)?;
                    diesel::update(enroll_sessions::table.find(&id))
                        .set((enroll_sessions::phase.eq(3), enroll_sessions::mdm_challenge_id.eq(Some(&challenge.id)), enroll_sessions::updated_at.eq(at)))
                        .execute(conn)?;
                    Ok(())
                })
            })
            .await
    }

    /// The session a certificate issued here belongs to: the one whose phase-2 or MDM SCEP
    /// challenge it was requested with. `(session, is_mdm_identity)`.
    pub async fn session_for_cert(&self, cert_hash: String) -> StoreResult<Option<(SessionRow, bool)>> {
        self.0.run(move |conn| session_for_cert(conn, &cert_hash)).await
    }

    /// Who enrolled a device.
    pub async fn device_owner(&self, device_id: String) -> StoreResult<DeviceOwner> {
        self.0
            .run(move |conn| {
                let row: Option<(Option<String>, Option<String>)> =
                    devices::table.find(device_id).select((devices::enrolled_user, devices::enroll_session_id)).first(conn).optional()?;
                Ok(row.map(|(u, s)| DeviceOwner { enrolled_user: u, enroll_session_id: s }).unwrap_or_default())
            })
            .await
    }

    /// Applies a completed enrollment to the device record: the session that made its bound
    /// certificate (if any) gives its user and group. Returns that session. The group joined must
    /// exist; a missing one is reported in the second value and skipped.
    pub async fn apply_enrollment(&self, device_id: String) -> StoreResult<(Option<SessionRow>, Option<String>)> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let hashes: Vec<String> = cert_bindings::table
                        .filter(cert_bindings::device_id.eq(&device_id))
                        .order(cert_bindings::created_at.desc())
                        .select(cert_bindings::cert_hash)
                        .load(conn)?;
                    let found = match hashes.first() {
                        Some(hash) => session_for_cert(conn, hash)?,
                        None => None,
                    };
                    // Only the MDM identity of this very device carries its session over; a device
                    // that authenticated with anything else enrolled outside a session.
                    let s = match found {
                        Some((s, true)) if s.udid.as_deref().is_none_or(|u| u == device_id) => s,
                        _ => {
                            diesel::update(devices::table.find(&device_id))
                                .set((devices::enrolled_user.eq(None::<String>), devices::enroll_session_id.eq(None::<String>)))
                                .execute(conn)?;
                            return Ok((None, None));
                        }
                    };
                    diesel::update(devices::table.find(&device_id))
                        .set((devices::enrolled_user.eq(&s.username), devices::enroll_session_id.eq(Some(&s.id))))
                        .execute(conn)?;
                    diesel::update(enroll_sessions::table.find(&s.id)).set(enroll_sessions::enrolled_at.eq(Some(at))).execute(conn)?;
                    let data =
                        serde_json::json!({"session_id": s.id, "method": s.method, "username": s.username, "group": s.group_name, "blueprint": s.blueprint});
                    super::events::emit_one(conn, at, super::events::NewEvent::new(super::events::topic::OTA_COMPLETED, data).on_device(device_id.as_str()))?;
                    let mut missing = None;
                    if let Some(g) = &s.group_name {
                        let exists: i64 = device_groups::table.filter(device_groups::name.eq(g)).count().get_result(conn)?;
                        if exists == 0 {
                            missing = Some(g.clone());
                        } else {
                            let member: i64 = group_members::table
                                .filter(group_members::group_name.eq(g))
                                .filter(group_members::device_id.eq(&device_id))
                                .count()
                                .get_result(conn)?;
                            if member == 0 {
                                diesel::insert_into(group_members::table)
                                    .values((group_members::group_name.eq(g), group_members::device_id.eq(&device_id), group_members::created_at.eq(at)))
                                    .execute(conn)?;
                            }
                        }
                    }
                    Ok((Some(s), missing))
                })
            })
            .await
    }
}

/// [`Store::session_for_cert`] on `conn`.
pub(crate) fn session_for_cert(conn: &mut DbConn, cert_hash: &str) -> StoreResult<Option<(SessionRow, bool)>> {
    let challenge: Option<Option<String>> =
        scep_certs::table.filter(scep_certs::cert_hash.eq(cert_hash)).select(scep_certs::challenge_id).first(conn).optional()?;
    let Some(Some(challenge)) = challenge else { return Ok(None) };
    let s: Option<SessionRow> = enroll_sessions::table
        .filter(enroll_sessions::scep_challenge_id.eq(&challenge).or(enroll_sessions::mdm_challenge_id.eq(&challenge)))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?;
    Ok(s.map(|s| {
        let mdm = s.mdm_challenge_id.as_deref() == Some(challenge.as_str());
        (s, mdm)
    }))
}
