//! Webhooks: their settings, who delivers each (a lease), how far each has got (a cursor over
//! event ids), the delivery log, dead letters and replays.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

use super::events::EventRow;
use super::schema::{event_sequence, events, webhook_dead_letters, webhook_deliveries, webhook_replays, webhooks};
use super::{write_tx, DbConn, Store, StoreError, StoreResult};

/// A webhook as stored (its secret sealed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    /// Id (UUID).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// JSON array of topics; empty = every topic the format carries.
    pub topics: String,
    /// `native` or `nanomdm`.
    pub format: String,
    /// The HMAC key, sealed.
    pub secret: Option<Vec<u8>>,
    /// Whether it is delivered.
    pub enabled: bool,
    /// Every event up to this id has been delivered or dead-lettered.
    pub cursor: i64,
    /// The replica delivering it.
    pub lease_owner: Option<String>,
    /// Until when.
    pub lease_until: Option<NaiveDateTime>,
    /// Failed attempts at the current head event.
    pub attempts: i32,
    /// When to try again after a failure.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The last delivery that succeeded.
    pub last_success_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed by an admin.
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    /// The topics filter.
    pub fn topic_list(&self) -> Vec<String> {
        serde_json::from_str(&self.topics).unwrap_or_default()
    }
}

/// What an admin changes on a webhook (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    /// New URL (checked by the caller).
    pub url: Option<String>,
    /// New topics (JSON array).
    pub topics: Option<String>,
    /// New format.
    pub format: Option<String>,
    /// New sealed secret.
    pub secret: Option<Vec<u8>>,
    /// Enabled or not.
    pub enabled: Option<bool>,
}

/// One delivery attempt, for the log.
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct NewDelivery {
    /// The webhook.
    pub webhook_id: String,
    /// The event.
    pub event_id: i64,
    /// Which attempt at this event (1 = first).
    pub attempt: i32,
    /// `delivered`, `failed` or `dead_lettered`.
    pub outcome: String,
    /// The HTTP status, when an answer came.
    pub status: Option<i32>,
    /// Milliseconds.
    pub latency_ms: i32,
    /// The answer's first bytes, or the transport error.
    pub answer: Option<String>,
    /// When.
    pub at: NaiveDateTime,
}

/// A logged attempt, with its id (as the API shows it).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    /// Log id.
    pub id: i64,
    /// The event.
    pub event_id: i64,
    /// Which attempt.
    pub attempt: i32,
    /// Outcome.
    pub outcome: String,
    /// HTTP status.
    pub status: Option<i32>,
    /// Milliseconds.
    pub latency_ms: i32,
    /// First bytes of the answer or the error.
    pub answer: Option<String>,
    /// When.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub at: NaiveDateTime,
}

/// A dead letter.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_dead_letters)]
pub struct DeadLetter {
    /// The webhook.
    pub webhook_id: String,
    /// The event.
    pub event_id: i64,
    /// Attempts made.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was given up.
    pub dead_at: NaiveDateTime,
}

/// The next events a webhook is to get.
#[derive(Debug, Clone, Default)]
pub struct Work {
    /// Replayed events, oldest first: sent before the live stream.
    pub replays: Vec<EventRow>,
    /// Live events after the cursor, oldest first.
    pub live: Vec<EventRow>,
    /// Every event up to this id has been looked at: the cursor may move here once `live` is
    /// delivered (events of other topics are passed over).
    pub seen_through: i64,
}

/// What a stretch of delivery did, recorded in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// The new cursor.
    pub cursor: i64,
    /// Replays done (delivered or dead again).
    pub replays_done: Vec<i64>,
    /// Log lines.
    pub log: Vec<NewDelivery>,
    /// Events given up.
    pub dead: Vec<DeadLetter>,
    /// Failed attempts at the head event now.
    pub attempts: i32,
    /// When to try again (after a failure).
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The last failure, if this stretch ended on one.
    pub last_error: Option<String>,
    /// When a delivery last succeeded in this stretch.
    pub last_success_at: Option<NaiveDateTime>,
    /// Keep the lease until then (`None`: release it).
    pub lease_until: Option<NaiveDateTime>,
}

/// What to deliver again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// One event.
    One(i64),
    /// Every event in `from..=to` the webhook's topics take.
    Range(i64, i64),
    /// Every dead letter.
    DeadLetters,
}

/// A webhook's backlog, for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// Webhook name.
    pub name: String,
    /// Events after its cursor (of any topic) and replays waiting.
    pub events: i64,
    /// When the oldest of them happened.
    pub oldest: Option<NaiveDateTime>,
}

/// Webhooks (reached through [`Store::webhooks`]).
#[derive(Debug, Clone)]
pub struct WebhookStore(pub(super) Store);

/// The claim: webhooks that are enabled, not held by another live lease, not waiting out a
/// backoff, and behind (events past the cursor, or replays). `{lock}` is `FOR UPDATE SKIP
/// LOCKED` on PostgreSQL, so replicas claiming at once take different webhooks without waiting.
const CLAIM_SQL: &str = "
UPDATE webhooks SET lease_owner = $1, lease_until = $2
WHERE id IN (
    SELECT w.id FROM webhooks w
    WHERE w.enabled
      AND (w.lease_until IS NULL OR w.lease_until < $3 OR w.lease_owner = $1)
      AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= $3)
      AND (w.cursor < (SELECT last_id FROM event_sequence WHERE one = 1)
           OR EXISTS (SELECT 1 FROM webhook_replays r WHERE r.webhook_id = w.id))
    ORDER BY w.id
    LIMIT 64
    {lock}
)
RETURNING *";

impl WebhookStore {
    /// Stores a new webhook; its cursor starts at the newest event (it gets what happens from now).
    pub async fn create(&self, mut row: WebhookRow) -> StoreResult<WebhookRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = webhooks::table.filter(webhooks::name.eq(&row.name)).count().get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("a webhook named {} exists", row.name)));
                    }
                    row.cursor = event_sequence::table.find(1).select(event_sequence::last_id).first(conn)?;
                    diesel::insert_into(webhooks::table).values(&row).execute(conn)?;
                    Ok(row)
                })
            })
            .await
    }

    /// Every webhook, by name.
    pub async fn list(&self) -> StoreResult<Vec<WebhookRow>> {
        self.0.run(|conn| Ok(webhooks::table.order(webhooks::name).select(WebhookRow::as_select()).load(conn)?)).await
    }

    /// One webhook by id or name.
    pub async fn get(&self, key: String) -> StoreResult<Option<WebhookRow>> {
        self.0.run(move |conn| find(conn, &key)).await
    }

    /// Changes a webhook; a change of URL, format or secret ends a backoff (try again now).
    pub async fn update(&self, key: String, p: WebhookPatch, at: NaiveDateTime) -> StoreResult<WebhookRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let Some(w) = find(conn, &key)? else { return Err(StoreError::NotFound(format!("no webhook {key}"))) };
                    let retry_now = p.url.is_some() || p.format.is_some() || p.secret.is_some() || p.enabled == Some(true);
                    let t = webhooks::table.find(&w.id);
                    if let Some(v) = &p.url {
                        diesel::update(t).set(webhooks::url.eq(v)).execute(conn)?;
                    }
                    if let Some(v) = &p.topics {
                        diesel::update(t).set(webhooks::topics.eq(v)).execute(conn)?;
                    }
                    if let Some(v) = &p.format {
                        diesel::update(t).set(webhooks::format.eq(v)).execute(conn)?;
                    }
                    if let Some(v) = &p.secret {
                        diesel::update(t).set(webhooks::secret.eq(Some(v))).execute(conn)?;
                    }
                    if let Some(v) = p.enabled {
                        diesel::update(t).set(webhooks::enabled.eq(v)).execute(conn)?;
                    }
                    if retry_now {
                        diesel::update(t).set(webhooks::next_attempt_at.eq(None::<NaiveDateTime>)).execute(conn)?;
                    }
                    diesel::update(t).set(webhooks::updated_at.eq(at)).execute(conn)?;
                    find(conn, &w.id)?.ok_or_else(|| StoreError::NotFound(format!("no webhook {key}")))
                })
            })
            .await
    }

    /// Deletes a webhook with its log, dead letters and replays; false when there was none.
    pub async fn delete(&self, key: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let Some(w) = find(conn, &key)? else { return Ok(false) };
                    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(&w.id))).execute(conn)?;
                    diesel::delete(webhook_dead_letters::table.filter(webhook_dead_letters::webhook_id.eq(&w.id))).execute(conn)?;
                    diesel::delete(webhook_replays::table.filter(webhook_replays::webhook_id.eq(&w.id))).execute(conn)?;
                    Ok(diesel::delete(webhooks::table.find(&w.id)).execute(conn)? > 0)
                })
            })
            .await
    }

    /// Leases the webhooks with work to `owner` until `until` (see [`CLAIM_SQL`]).
    pub async fn claim(&self, owner: String, now: NaiveDateTime, until: NaiveDateTime) -> StoreResult<Vec<WebhookRow>> {
        self.0
            .run(move |conn| {
                let lock = if matches!(conn, DbConn::Pg(_)) { "FOR UPDATE SKIP LOCKED" } else { "" };
                let sql = CLAIM_SQL.replace("{lock}", lock);
                let q = diesel::sql_query(sql).bind::<Text, _>(&owner).bind::<Nullable<Timestamp>, _>(Some(until)).bind::<Timestamp, _>(now);
                match conn {
                    DbConn::Pg(_) => Ok(q.load::<WebhookRow>(conn)?),
                    // SQLite numbers parameters as `?NNN`; `$N` is accepted as a named one, and
                    // a repeated name binds the same value, as on PostgreSQL.
                    DbConn::Sqlite(_) => write_tx(conn, |conn| Ok(q.load::<WebhookRow>(conn)?)),
                }
            })
            .await
    }

    /// The next events for `w`: replays first, then live events of its topics after its cursor.
    pub async fn work(&self, w: WebhookRow, topics: Vec<String>, limit: i64) -> StoreResult<Work> {
        self.0
            .run(move |conn| {
                let replays: Vec<EventRow> = webhook_replays::table
                    .inner_join(events::table.on(events::id.eq(webhook_replays::event_id.nullable())))
                    .filter(webhook_replays::webhook_id.eq(&w.id))
                    .order(webhook_replays::event_id.asc())
                    .limit(limit)
                    .select(EventRow::as_select())
                    .load(conn)?;
                if !replays.is_empty() {
                    return Ok(Work { replays, live: vec![], seen_through: w.cursor });
                }
                // Replays of events retention has removed since they were asked for.
                diesel::delete(webhook_replays::table.filter(webhook_replays::webhook_id.eq(&w.id))).execute(conn)?;
                let last: i64 = event_sequence::table.find(1).select(event_sequence::last_id).first(conn)?;
                let mut q = events::table
                    .filter(events::id.gt(w.cursor))
                    .filter(events::id.le(last))
                    .order(events::id.asc())
                    .limit(limit)
                    .select(EventRow::as_select())
                    .into_boxed();
                if !topics.is_empty() {
                    q = q.filter(events::topic.eq_any(topics));
                }
                let live: Vec<EventRow> = q.load(conn)?;
                let seen_through = if (live.len() as i64) < limit { last } else { live.last().and_then(|e| e.id).unwrap_or(w.cursor) };
                Ok(Work { replays: vec![], live, seen_through: seen_through.max(w.cursor) })
            })
            .await
    }

    /// Records a stretch of delivery, if `owner` still holds the lease (true); otherwise writes
    /// nothing (another replica took over and will deliver from the cursor it finds).
    pub async fn record(&self, id: String, owner: String, p: Progress) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let held = diesel::update(webhooks::table.find(&id).filter(webhooks::lease_owner.eq(&owner)))
                        .set((
                            webhooks::cursor.eq(p.cursor),
                            webhooks::attempts.eq(p.attempts),
                            webhooks::next_attempt_at.eq(p.next_attempt_at),
                            webhooks::lease_until.eq(p.lease_until),
                        ))
                        .execute(conn)?;
                    if held == 0 {
                        return Ok(false);
                    }
                    if p.lease_until.is_none() {
                        diesel::update(webhooks::table.find(&id)).set(webhooks::lease_owner.eq(None::<String>)).execute(conn)?;
                    }
                    if p.last_error.is_some() {
                        diesel::update(webhooks::table.find(&id)).set(webhooks::last_error.eq(&p.last_error)).execute(conn)?;
                    }
                    if p.last_success_at.is_some() {
                        diesel::update(webhooks::table.find(&id)).set(webhooks::last_success_at.eq(p.last_success_at)).execute(conn)?;
                    }
                    if !p.replays_done.is_empty() {
                        diesel::delete(
                            webhook_replays::table.filter(webhook_replays::webhook_id.eq(&id)).filter(webhook_replays::event_id.eq_any(&p.replays_done)),
                        )
                        .execute(conn)?;
                    }
                    for d in &p.dead {
                        diesel::delete(webhook_dead_letters::table.find((&d.webhook_id, d.event_id))).execute(conn)?;
                        diesel::insert_into(webhook_dead_letters::table).values(d).execute(conn)?;
                    }
                    for chunk in p.log.chunks(500) {
                        match conn {
                            DbConn::Pg(c) => diesel::insert_into(webhook_deliveries::table).values(chunk).execute(c)?,
                            DbConn::Sqlite(c) => diesel::insert_into(webhook_deliveries::table).values(chunk).execute(c)?,
                        };
                    }
                    Ok(true)
                })
            })
            .await
    }

    /// The delivery log of a webhook, newest first: at most `limit`, older than `before`.
    pub async fn deliveries(&self, id: String, limit: i64, before: Option<i64>) -> StoreResult<Vec<DeliveryRow>> {
        self.0
            .run(move |conn| {
                let mut q = webhook_deliveries::table
                    .filter(webhook_deliveries::webhook_id.eq(&id))
                    .order(webhook_deliveries::id.desc())
                    .limit(limit)
                    .select(DeliveryRow::as_select())
                    .into_boxed();
                if let Some(b) = before {
                    q = q.filter(webhook_deliveries::id.lt(b));
                }
                Ok(q.load(conn)?)
            })
            .await
    }

    /// A webhook's dead letters, oldest event first.
    pub async fn dead_letters(&self, id: String) -> StoreResult<Vec<DeadLetter>> {
        self.0
            .run(move |conn| {
                Ok(webhook_dead_letters::table
                    .filter(webhook_dead_letters::webhook_id.eq(&id))
                    .order(webhook_dead_letters::event_id.asc())
                    .limit(10_000)
                    .select(DeadLetter::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Queues events to deliver again; returns how many were queued.
    pub async fn replay(&self, w: WebhookRow, topics: Vec<String>, what: Replay) -> StoreResult<usize> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let ids: Vec<i64> = match what {
                        Replay::One(id) => {
                            let found: Option<Option<i64>> = events::table.filter(events::id.eq(id)).select(events::id).first(conn).optional()?;
                            if found.is_none() {
                                return Err(StoreError::NotFound(format!("no event {id} (never written, not yet numbered, or removed by retention)")));
                            }
                            vec![id]
                        }
                        Replay::Range(from, to) => {
                            let mut q =
                                events::table.filter(events::id.ge(from)).filter(events::id.le(to)).order(events::id.asc()).select(events::id).into_boxed();
                            if !topics.is_empty() {
                                q = q.filter(events::topic.eq_any(topics));
                            }
                            q.limit(100_000).load::<Option<i64>>(conn)?.into_iter().flatten().collect()
                        }
                        Replay::DeadLetters => {
                            let ids = webhook_dead_letters::table
                                .filter(webhook_dead_letters::webhook_id.eq(&w.id))
                                .select(webhook_dead_letters::event_id)
                                .load(conn)?;
                            diesel::delete(webhook_dead_letters::table.filter(webhook_dead_letters::webhook_id.eq(&w.id))).execute(conn)?;
                            ids
                        }
                    };
                    let have: Vec<i64> = webhook_replays::table.filter(webhook_replays::webhook_id.eq(&w.id)).select(webhook_replays::event_id).load(conn)?;
                    let have: std::collections::HashSet<i64> = have.into_iter().collect();
                    let new: Vec<_> = ids
                        .iter()
                        .filter(|id| !have.contains(id))
                        .map(|id| (webhook_replays::webhook_id.eq(&w.id), webhook_replays::event_id.eq(*id)))
                        .collect();
                    for chunk in new.chunks(1000) {
                        match conn {
                            DbConn::Pg(c) => diesel::insert_into(webhook_replays::table).values(chunk).execute(c)?,
                            DbConn::Sqlite(c) => diesel::insert_into(webhook_replays::table).values(chunk).execute(c)?,
                        };
                    }
                    // A replay is wanted now, not after the backoff of a failing live event.
                    diesel::update(webhooks::table.find(&w.id)).set(webhooks::next_attempt_at.eq(None::<NaiveDateTime>)).execute(conn)?;
                    Ok(ids.len())
                })
            })
            .await
    }
}

/// Each enabled webhook's backlog (for `/metrics`): events past its cursor and replays waiting,
/// and the oldest of those events. Range counts over the events' id index.
pub(crate) fn backlogs(conn: &mut DbConn) -> StoreResult<Vec<Backlog>> {
    let hooks: Vec<WebhookRow> = webhooks::table.filter(webhooks::enabled.eq(true)).select(WebhookRow::as_select()).load(conn)?;
    let mut out = Vec::with_capacity(hooks.len());
    for w in hooks {
        let behind: i64 = events::table.filter(events::id.gt(w.cursor)).count().get_result(conn)?;
        let replays: i64 = webhook_replays::table.filter(webhook_replays::webhook_id.eq(&w.id)).count().get_result(conn)?;
        let oldest: Option<NaiveDateTime> =
            events::table.filter(events::id.gt(w.cursor)).order(events::id.asc()).select(events::created_at).first(conn).optional()?;
        out.push(Backlog { name: w.name, events: behind + replays, oldest });
    }
    Ok(out)
}

/// A webhook by id or name.
fn find(conn: &mut DbConn, key: &str) -> StoreResult<Option<WebhookRow>> {
    Ok(webhooks::table.filter(webhooks::id.eq(key).or(webhooks::name.eq(key))).select(WebhookRow::as_select()).first(conn).optional()?)
}

impl WebhookStore {
    /// Removes delivery-log lines older than `cutoff`; returns how many.
    pub async fn prune_log(&self, cutoff: NaiveDateTime) -> StoreResult<usize> {
        self.0.run(move |conn| Ok(diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::at.lt(cutoff))).execute(conn)?)).await
    }

    /// Gives back every lease `owner` holds; returns how many.
    pub async fn release(&self, owner: String) -> StoreResult<usize> {
        self.0
            .run(move |conn| {
                Ok(diesel::update(webhooks::table.filter(webhooks::lease_owner.eq(&owner)))
                    .set((webhooks::lease_owner.eq(None::<String>), webhooks::lease_until.eq(None::<NaiveDateTime>)))
                    .execute(conn)?)
            })
            .await
    }
}
