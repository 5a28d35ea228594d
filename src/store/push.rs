//! Push certificates and the push schedule.
//!
//! `push_certs` holds one row per APNs topic with the private key sealed (see
//! [`crate::secrets`]); this module stores what it is given and never sees a plain key.
//!
//! `push_state` holds one row per enrollment: when it is next due for a push, how many pushes
//! went out since commands were last queued, and the last outcome. Enqueueing marks rows due
//! ([`mark_due`], inside the enqueue transaction); a scheduler claims due rows with a lease
//! ([`Store::claim_due_pushes`]) so replicas never push the same enrollment twice, then records
//! outcomes ([`Store::record_pushes`]), which also sets the next re-push.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{PushCertRow, PushState};
use super::schema::{enrollment_queue, enrollments, push_certs, push_state};
use super::{now, write_tx, DbConn, Store, StoreError, StoreResult};

/// What saving a push certificate did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaveCertOutcome {
    /// First certificate, or a new topic added with `force`.
    Added,
    /// Same topic: the certificate was renewed.
    Renewed,
}

/// An enrollment due for a push, with what is needed to send it.
#[derive(Debug, Clone)]
pub struct DuePush {
    /// Enrollment id.
    pub enrollment_id: String,
    /// APNs topic.
    pub topic: String,
    /// Device token.
    pub token: Vec<u8>,
    /// PushMagic.
    pub push_magic: String,
    /// Pushes already sent since commands were queued.
    pub attempts: i32,
}

/// A token APNs reported unusable (410 Unregistered, 400 BadDeviceToken / DeviceTokenNotForTopic).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StaleToken {
    /// The token that was pushed.
    pub token: Vec<u8>,
    /// Since when APNs holds it invalid (a 410's timestamp), if it said.
    pub since: Option<NaiveDateTime>,
}

/// The outcome of one push as stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PushRecord {
    /// Short result name (`sent`, `unregistered`, `bad_token`, `certificate`, `retry`, ...).
    pub result: &'static str,
    /// Why it failed, for admins.
    pub error: Option<String>,
    /// APNs refused the token: it is marked stale (no pushes until a new TokenUpdate) unless the
    /// device has meanwhile registered a different token, or re-registered after `since`. In
    /// those cases the record counts as an ordinary failure and `next_push_at` applies.
    pub stale: Option<StaleToken>,
    /// Attempts to store (`None` leaves the count alone).
    pub attempts: Option<i32>,
    /// Next re-push (`None` = nothing scheduled). Only written when the row still holds the
    /// scheduler's lease.
    pub next_push_at: Option<NaiveDateTime>,
}

/// Enrollment id, topic, token, PushMagic, attempts.
type DueRow = (String, String, Option<Vec<u8>>, Option<String>, i32);

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    enrollment_id: String,
}

/// Marks `ids` due for a push now and restarts their attempt count; enrollments whose token is
/// known stale are left alone (they wait for a TokenUpdate).
pub fn mark_due(conn: &mut DbConn, ids: &[String], at: NaiveDateTime) -> StoreResult<usize> {
    Ok(diesel::update(push_state::table.filter(push_state::enrollment_id.eq_any(ids)).filter(push_state::token_stale_at.is_null()))
        .set((push_state::next_push_at.eq(Some(at)), push_state::attempts.eq(0), push_state::updated_at.eq(at)))
        .execute(conn)?)
}

/// Called from TokenUpdate: makes sure the enrollment has a schedule row, notes when the token
/// was last registered and clears a stale token mark. If the token had been stale, the
/// enrollment becomes due now so commands that waited for a usable token are pushed.
pub fn token_refreshed(conn: &mut DbConn, enrollment_id: &str, at: NaiveDateTime) -> StoreResult<()> {
    // The common case, one statement: the row exists and its token is not stale.
    let fresh = diesel::update(push_state::table.find(enrollment_id).filter(push_state::token_stale_at.is_null()))
        .set(push_state::token_updated_at.eq(Some(at)))
        .execute(conn)?;
    if fresh > 0 {
        return Ok(());
    }
    let cleared = diesel::update(push_state::table.find(enrollment_id))
        .set((
            push_state::token_stale_at.eq(None::<NaiveDateTime>),
            push_state::next_push_at.eq(Some(at)),
            push_state::attempts.eq(0),
            push_state::updated_at.eq(at),
            push_state::token_updated_at.eq(Some(at)),
        ))
        .execute(conn)?;
    if cleared == 0 {
        diesel::insert_into(push_state::table)
            .values((
                push_state::enrollment_id.eq(enrollment_id),
                push_state::next_push_at.eq(None::<NaiveDateTime>),
                push_state::attempts.eq(0),
                push_state::updated_at.eq(at),
                push_state::token_updated_at.eq(Some(at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether importing a push certificate may change the active topic. Devices keep the topic
/// they enrolled with, so a new one strands them until they enroll again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicChange {
    /// Refuse a certificate for another topic while one is stored.
    Refuse,
    /// Accept it (`force`): the new topic becomes the active one.
    Allow,
}

impl TopicChange {
    /// `Allow` when the admin forced it.
    pub fn forced(force: bool) -> TopicChange {
        if force {
            TopicChange::Allow
        } else {
            TopicChange::Refuse
        }
    }
}

/// Push certificates and per-enrollment push state (reached through [`Store::push`]).
#[derive(Debug, Clone)]
pub struct PushStore(pub(super) Store);

impl PushStore {
    /// All push certificates (sealed keys included; callers open them).
    pub async fn push_certs(&self) -> StoreResult<Vec<PushCertRow>> {
        self.0.run(|conn| Ok(push_certs::table.order(push_certs::created_at.desc()).select(PushCertRow::as_select()).load(conn)?)).await
    }

    /// `(topic, updated_at)` of every certificate: a cheap check whether a reload is needed.
    pub async fn push_cert_versions(&self) -> StoreResult<Vec<(String, NaiveDateTime)>> {
        self.0.run(|conn| Ok(push_certs::table.order(push_certs::topic).select((push_certs::topic, push_certs::updated_at)).load(conn)?)).await
    }

    /// Saves a certificate. The same topic replaces (renews) the stored one; a different topic
    /// is refused while another certificate exists unless `topic` allows it, because devices enrolled with
    /// the old topic could no longer be woken by the new certificate.
    pub async fn save_push_cert(&self, row: PushCertRow, topic: TopicChange) -> StoreResult<SaveCertOutcome> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let topics: Vec<String> = push_certs::table.select(push_certs::topic).load(conn)?;
                    if topics.contains(&row.topic) {
                        diesel::update(push_certs::table.find(&row.topic))
                            .set((
                                push_certs::subject.eq(&row.subject),
                                push_certs::cert_chain_pem.eq(&row.cert_chain_pem),
                                push_certs::key_sealed.eq(&row.key_sealed),
                                push_certs::not_before.eq(row.not_before),
                                push_certs::not_after.eq(row.not_after),
                                push_certs::updated_at.eq(row.updated_at),
                            ))
                            .execute(conn)?;
                        return Ok(SaveCertOutcome::Renewed);
                    }
                    if !topics.is_empty() && topic == TopicChange::Refuse {
                        return Err(StoreError::TopicChange { new: row.topic.clone(), existing: topics });
                    }
                    diesel::insert_into(push_certs::table).values(&row).execute(conn)?;
                    Ok(SaveCertOutcome::Added)
                })
            })
            .await
    }

    /// Removes the certificate for `topic`; returns whether one existed.
    pub async fn delete_push_cert(&self, topic: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(push_certs::table.find(&topic)).execute(conn)? > 0)).await
    }

    /// Push state rows of the given enrollments.
    pub async fn push_states(&self, ids: Vec<String>) -> StoreResult<Vec<PushState>> {
        self.0
            .run(move |conn| {
                Ok(push_state::table
                    .filter(push_state::enrollment_id.eq_any(&ids))
                    .filter(super::planned_per_call())
                    .select(PushState::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Claims up to `limit` enrollments due at `at`, moving their `next_push_at` to `lease_until`
    /// so no other replica claims them meanwhile (a replica that dies mid-push loses the lease
    /// and another one retries). Returns those that should be pushed: enabled, with a usable
    /// token and a command still waiting to be fetched. The others' schedules are cleared.
    pub async fn claim_due_pushes(&self, at: NaiveDateTime, lease_until: NaiveDateTime, limit: i64) -> StoreResult<Vec<DuePush>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let claimed: Vec<ClaimedId> = match conn {
                        DbConn::Pg(pg) => diesel::sql_query(
                            "UPDATE push_state SET next_push_at = $1 WHERE enrollment_id IN (\
                         SELECT enrollment_id FROM push_state WHERE next_push_at <= $2 \
                         ORDER BY next_push_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING enrollment_id",
                        )
                        .bind::<diesel::sql_types::Timestamp, _>(lease_until)
                        .bind::<diesel::sql_types::Timestamp, _>(at)
                        .bind::<diesel::sql_types::BigInt, _>(limit)
                        .load(pg)?,
                        DbConn::Sqlite(lite) => diesel::sql_query(
                            "UPDATE push_state SET next_push_at = ? WHERE enrollment_id IN (\
                         SELECT enrollment_id FROM push_state WHERE next_push_at <= ? \
                         ORDER BY next_push_at LIMIT ?) RETURNING enrollment_id",
                        )
                        .bind::<diesel::sql_types::Timestamp, _>(lease_until)
                        .bind::<diesel::sql_types::Timestamp, _>(at)
                        .bind::<diesel::sql_types::BigInt, _>(limit)
                        .load(lite)?,
                    };
                    if claimed.is_empty() {
                        return Ok(Vec::new());
                    }
                    let ids: Vec<String> = claimed.into_iter().map(|c| c.enrollment_id).collect();
                    let waiting = enrollment_queue::table
                        .filter(enrollment_queue::enrollment_id.eq(enrollments::id))
                        .filter(enrollment_queue::status.eq(crate::queue::QueueStatus::Queued.as_sql()));
                    let rows: Vec<DueRow> = enrollments::table
                        .inner_join(push_state::table)
                        .filter(enrollments::id.eq_any(&ids))
                        .filter(enrollments::enabled.eq(true))
                        .filter(push_state::token_stale_at.is_null())
                        .filter(diesel::dsl::exists(waiting))
                        .filter(super::planned_per_call())
                        .select((enrollments::id, enrollments::topic, enrollments::token, enrollments::push_magic, push_state::attempts))
                        .load(conn)?;
                    let due: Vec<DuePush> = rows
                        .into_iter()
                        .filter_map(|(enrollment_id, topic, token, magic, attempts)| {
                            Some(DuePush { enrollment_id, topic, token: token?, push_magic: magic?, attempts })
                        })
                        .collect();
                    let keep: std::collections::HashSet<&str> = due.iter().map(|d| d.enrollment_id.as_str()).collect();
                    let idle: Vec<&String> = ids.iter().filter(|i| !keep.contains(i.as_str())).collect();
                    for chunk in idle.chunks(1000) {
                        diesel::update(push_state::table.filter(push_state::enrollment_id.eq_any(chunk)).filter(push_state::next_push_at.eq(lease_until)))
                            .set((push_state::next_push_at.eq(None::<NaiveDateTime>), push_state::attempts.eq(0)))
                            .execute(conn)?;
                    }
                    Ok(due)
                })
            })
            .await
    }

    /// Gives back a lease [`Store::claim_due_pushes`] set and no outcome was recorded for (the
    /// process is stopping): those enrollments are due now, so the next scheduler — another
    /// replica, or this one restarted — pushes them at once. Returns how many were released.
    pub async fn release_push_lease(&self, lease_until: NaiveDateTime) -> StoreResult<usize> {
        self.0
            .run(move |conn| {
                Ok(diesel::update(push_state::table.filter(push_state::next_push_at.eq(lease_until)))
                    .set(push_state::next_push_at.eq(Some(now())))
                    .execute(conn)?)
            })
            .await
    }

    /// Stores push outcomes. `lease` is the value [`Store::claim_due_pushes`] set: the attempt
    /// count and next re-push are written only where the row still holds it (an enqueue
    /// meanwhile made the row due again and restarted the count, and that must win). Without a
    /// lease (an admin's explicit push) the schedule is left alone unless the token turned out
    /// stale.
    pub async fn record_pushes(&self, outcomes: Vec<(String, PushRecord)>, lease: Option<NaiveDateTime>) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let failed: Vec<&str> = outcomes.iter().filter(|(_, r)| r.result != "sent").map(|(id, _)| id.as_str()).collect();
                    let devices = super::events::devices_of(conn, &failed)?;
                    let event = |t: &'static str, id: &str, rec: &PushRecord| {
                        let data = serde_json::json!({"result": rec.result, "error": rec.error});
                        super::events::NewEvent::new(t, data).on(devices.get(id).cloned().unwrap_or_default(), id)
                    };
                    let mut outbox = Vec::new();
                    let mut groups: std::collections::HashMap<PushRecord, Vec<String>> = std::collections::HashMap::new();
                    for (id, rec) in outcomes {
                        if rec.result != "sent" {
                            outbox.push(event(super::events::topic::PUSH_FAILED, &id, &rec));
                        }
                        if let Some(stale) = &rec.stale {
                            if mark_stale(conn, &id, stale, at)? {
                                outbox.push(event(super::events::topic::PUSH_TOKEN_STALE, &id, &rec));
                                // The schedule is over; only the outcome remains to be written.
                                groups.entry(PushRecord { stale: None, attempts: None, next_push_at: None, ..rec }).or_default().push(id);
                                continue;
                            }
                        }
                        groups.entry(PushRecord { stale: None, ..rec }).or_default().push(id);
                    }
                    for (rec, ids) in groups {
                        for chunk in ids.chunks(1000) {
                            let rows = || push_state::table.filter(push_state::enrollment_id.eq_any(chunk));
                            diesel::update(rows())
                                .set((
                                    push_state::last_push_at.eq(Some(at)),
                                    push_state::last_result.eq(Some(rec.result)),
                                    push_state::last_error.eq(rec.error.as_deref()),
                                    push_state::updated_at.eq(at),
                                ))
                                .execute(conn)?;
                            if let (Some(lease), Some(n)) = (lease, rec.attempts) {
                                diesel::update(rows().filter(push_state::next_push_at.eq(lease)))
                                    .set((push_state::attempts.eq(n), push_state::next_push_at.eq(rec.next_push_at)))
                                    .execute(conn)?;
                            }
                        }
                    }
                    super::events::emit(conn, at, &outbox)
                })
            })
            .await
    }
}

/// Marks an enrollment's token stale and ends its schedule, if the device still has the token
/// that was refused and has not re-registered since APNs found it invalid. Returns whether it did.
fn mark_stale(conn: &mut DbConn, enrollment_id: &str, stale: &StaleToken, at: NaiveDateTime) -> StoreResult<bool> {
    let same_token = enrollments::table.filter(enrollments::id.eq(push_state::enrollment_id)).filter(enrollments::token.eq(&stale.token));
    let target = push_state::table.find(enrollment_id).filter(diesel::dsl::exists(same_token));
    let set = (push_state::token_stale_at.eq(Some(at)), push_state::next_push_at.eq(None::<NaiveDateTime>));
    let n = match stale.since {
        Some(since) => {
            diesel::update(target.filter(push_state::token_updated_at.is_null().or(push_state::token_updated_at.le(since)))).set(set).execute(conn)?
        }
        None => diesel::update(target).set(set).execute(conn)?,
    };
    Ok(n > 0)
}
