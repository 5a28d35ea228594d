//! Connectors as stored: their settings (secrets sealed), automations (event → connector) with
//! their cursors, the durable queue of calls with leases and outcomes, and the signing key of
//! client assertions.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;

use super::events::{emit, EventRow, NewEvent};
use super::schema::{automations, compliance_actions, connector_calls, connector_keys, connectors, event_sequence, events, shared_actions};
use super::{write_tx, DbConn, Store, StoreError, StoreResult};

/// Call status: waiting for its (next) attempt.
pub const PENDING: &str = "pending";
/// Call status: the connector answered with success.
pub const DONE: &str = "done";
/// Call status: Epic answered that the install id is unknown (no one signed in): recorded,
/// not failed.
pub const NOT_FOUND: &str = "not_found";
/// Call status: every attempt failed.
pub const FAILED: &str = "failed";

/// A connector as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = connectors)]
pub struct ConnectorRow {
    /// Id (UUID).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// `http` or `epic`.
    pub kind: String,
    /// Settings without secrets (JSON).
    pub settings: String,
    /// Secrets (JSON), sealed.
    pub secret: Option<Vec<u8>>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// An automation as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = automations)]
pub struct AutomationRow {
    /// Id (UUID).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The event topic it reacts to.
    pub topic: String,
    /// JSON object: `data` field → value every matching event has.
    #[serde(skip)]
    pub condition: String,
    /// The connector it calls.
    pub connector_id: String,
    /// Whether it runs.
    pub enabled: bool,
    /// The last event id looked at.
    pub cursor: i64,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last changed.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// A connector call.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName, Serialize)]
#[diesel(table_name = connector_calls)]
pub struct CallRow {
    /// Id (UUID).
    pub id: String,
    /// The connector.
    pub connector_id: String,
    /// `checkin` (a pool's logout connector) or `automation`.
    pub purpose: String,
    /// The check-in session that queued it.
    pub session_id: Option<String>,
    /// The automation that queued it.
    pub automation_id: Option<String>,
    /// The event that triggered the automation.
    pub event_id: Option<i64>,
    /// The device concerned.
    pub device_id: Option<String>,
    /// Template values fixed when queued (JSON object).
    #[serde(skip)]
    pub vars: String,
    /// `pending`, `done`, `not_found` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub next_attempt_at: NaiveDateTime,
    /// The replica running it.
    #[serde(skip)]
    pub lease_owner: Option<String>,
    /// Until when.
    #[serde(skip)]
    pub lease_until: Option<NaiveDateTime>,
    /// The last HTTP status.
    pub last_status: Option<i32>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The last attempt's latency.
    pub latency_ms: Option<i32>,
    /// The first bytes of the last answer.
    pub answer: Option<String>,
    /// Queued.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Finished (done, not found or failed).
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub finished_at: Option<NaiveDateTime>,
}

impl CallRow {
    /// A new call, due now.
    pub fn new(connector_id: &str, purpose: &str, device_id: Option<String>, vars: &serde_json::Map<String, serde_json::Value>, at: NaiveDateTime) -> CallRow {
        CallRow {
            id: uuid::Uuid::new_v4().to_string(),
            connector_id: connector_id.to_string(),
            purpose: purpose.to_string(),
            session_id: None,
            automation_id: None,
            event_id: None,
            device_id,
            vars: serde_json::Value::Object(vars.clone()).to_string(),
            status: PENDING.into(),
            attempts: 0,
            next_attempt_at: at,
            lease_owner: None,
            lease_until: None,
            last_status: None,
            last_error: None,
            latency_ms: None,
            answer: None,
            created_at: at,
            finished_at: None,
        }
    }

    /// The template values.
    pub fn var_map(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.vars).unwrap_or_default()
    }
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// `done`, `not_found`, `failed` (final) or `pending` (retry at `next_attempt_at`).
    pub status: &'static str,
    /// When to retry.
    pub next_attempt_at: NaiveDateTime,
    /// HTTP status.
    pub last_status: Option<i32>,
    /// Failure text.
    pub error: Option<String>,
    /// Milliseconds.
    pub latency_ms: i32,
    /// First bytes of the answer.
    pub answer: Option<String>,
    /// When.
    pub at: NaiveDateTime,
}

/// Queues calls inside a unit of work; an automation's call for an event already queued (by
/// another replica) is skipped.
pub(crate) fn queue_calls_in(conn: &mut DbConn, calls: &[CallRow]) -> StoreResult<usize> {
    let mut n = 0;
    for c in calls {
        if let (Some(a), Some(e)) = (&c.automation_id, c.event_id) {
            let have: i64 =
                connector_calls::table.filter(connector_calls::automation_id.eq(a.clone())).filter(connector_calls::event_id.eq(e)).count().get_result(conn)?;
            if have > 0 {
                continue;
            }
        }
        n += diesel::insert_into(connector_calls::table).values(c).execute(conn)?;
    }
    Ok(n)
}

const CLAIM_SQL: &str = "UPDATE connector_calls SET lease_owner = $1, lease_until = $2 \
     WHERE id IN (SELECT id FROM connector_calls WHERE status = 'pending' AND next_attempt_at <= $3 \
       AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_attempt_at LIMIT $4 {lock}) \
     AND status = 'pending' AND (lease_until IS NULL OR lease_until < $3) \
     RETURNING id, connector_id, purpose, session_id, automation_id, event_id, device_id, vars, status, attempts, \
       next_attempt_at, lease_owner, lease_until, last_status, last_error, latency_ms, answer, created_at, finished_at";

/// Connectors, automations, calls and keys (reached through [`Store::connectors`]).
#[derive(Debug, Clone)]
pub struct ConnectorStore(pub(super) Store);

impl ConnectorStore {
    /// Stores a new connector; its name must be unused.
    pub async fn create(&self, row: ConnectorRow) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                let taken: i64 = connectors::table.filter(connectors::name.eq(&row.name)).count().get_result(conn)?;
                if taken > 0 {
                    return Err(StoreError::Conflict(format!("a connector named {} exists", row.name)));
                }
                diesel::insert_into(connectors::table).values(&row).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Replaces a connector's settings and secrets.
    pub async fn update(&self, row: ConnectorRow) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = connectors::table.filter(connectors::name.eq(&row.name)).filter(connectors::id.ne(&row.id)).count().get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("a connector named {} exists", row.name)));
                    }
                    Ok(diesel::update(connectors::table.find(&row.id))
                        .set((
                            connectors::name.eq(&row.name),
                            connectors::kind.eq(&row.kind),
                            connectors::settings.eq(&row.settings),
                            connectors::secret.eq(&row.secret),
                            connectors::updated_at.eq(row.updated_at),
                        ))
                        .execute(conn)?
                        > 0)
                })
            })
            .await
    }

    /// A connector by id or name.
    pub async fn get(&self, key: String) -> StoreResult<Option<ConnectorRow>> {
        self.0
            .run(move |conn| {
                Ok(connectors::table.filter(connectors::id.eq(&key).or(connectors::name.eq(&key))).select(ConnectorRow::as_select()).first(conn).optional()?)
            })
            .await
    }

    /// Every connector, by name.
    pub async fn list(&self) -> StoreResult<Vec<ConnectorRow>> {
        self.0.run(|conn| Ok(connectors::table.order(connectors::name).select(ConnectorRow::as_select()).load(conn)?)).await
    }

    /// Deletes a connector (its automations and calls with it).
    pub async fn delete(&self, id: String) -> StoreResult<bool> {
        self.0.run(move |conn| write_tx(conn, |conn| Ok(diesel::delete(connectors::table.find(&id)).execute(conn)? > 0))).await
    }

    /// Stores a new automation, starting after the newest event (it reacts to what happens from now on).
    pub async fn create_automation(&self, mut row: AutomationRow) -> StoreResult<AutomationRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = automations::table.filter(automations::name.eq(&row.name)).count().get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("an automation named {} exists", row.name)));
                    }
                    row.cursor = event_sequence::table.find(1).select(event_sequence::last_id).first(conn)?;
                    diesel::insert_into(automations::table).values(&row).execute(conn)?;
                    Ok(row)
                })
            })
            .await
    }

    /// Every automation.
    pub async fn automations(&self) -> StoreResult<Vec<AutomationRow>> {
        self.0.run(|conn| Ok(automations::table.order(automations::name).select(AutomationRow::as_select()).load(conn)?)).await
    }

    /// An automation by id or name.
    pub async fn automation(&self, key: String) -> StoreResult<Option<AutomationRow>> {
        self.0
            .run(move |conn| {
                Ok(automations::table
                    .filter(automations::id.eq(&key).or(automations::name.eq(&key)))
                    .select(AutomationRow::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await
    }

    /// Enables or disables an automation.
    /// Turning one on starts it at the newest event: what happened while it was off is not
    /// acted on.
    pub async fn enable_automation(&self, id: String, enabled: bool) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let was: Option<bool> = automations::table.find(&id).select(automations::enabled).first(conn).optional()?;
                    let Some(was) = was else { return Ok(false) };
                    if enabled && !was {
                        let last: i64 = event_sequence::table.find(1).select(event_sequence::last_id).first(conn)?;
                        diesel::update(automations::table.find(&id)).set(automations::cursor.eq(last)).execute(conn)?;
                    }
                    diesel::update(automations::table.find(&id))
                        .set((automations::enabled.eq(enabled), automations::updated_at.eq(super::now())))
                        .execute(conn)?;
                    Ok(true)
                })
            })
            .await
    }

    /// Deletes an automation.
    pub async fn delete_automation(&self, id: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(automations::table.find(id)).execute(conn)? > 0)).await
    }

    /// Events of `a`'s topic after its cursor (numbered ones only), and the id they were read through.
    pub async fn automation_events(&self, a: AutomationRow, limit: i64) -> StoreResult<(Vec<EventRow>, i64)> {
        self.0
            .run(move |conn| {
                let last: i64 = event_sequence::table.find(1).select(event_sequence::last_id).first(conn)?;
                let rows: Vec<EventRow> = events::table
                    .filter(events::id.gt(a.cursor))
                    .filter(events::id.le(last))
                    .filter(events::topic.eq(&a.topic))
                    .order(events::id.asc())
                    .limit(limit)
                    .select(EventRow::as_select())
                    .load(conn)?;
                let through = if (rows.len() as i64) < limit { last } else { rows.last().and_then(|e| e.id).unwrap_or(a.cursor) };
                Ok((rows, through.max(a.cursor)))
            })
            .await
    }

    /// Moves an automation's cursor from `from` to `to` and queues its calls, in one
    /// transaction; false (nothing written) when another replica moved it first.
    pub async fn advance(&self, id: String, from: i64, to: i64, calls: Vec<CallRow>) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let moved =
                        diesel::update(automations::table.find(&id).filter(automations::cursor.eq(from))).set(automations::cursor.eq(to)).execute(conn)?;
                    if moved == 0 {
                        return Ok(false);
                    }
                    queue_calls_in(conn, &calls)?;
                    Ok(true)
                })
            })
            .await
    }

    /// Queues calls (tests of a connector, a manual retry).
    pub async fn queue(&self, calls: Vec<CallRow>) -> StoreResult<usize> {
        self.0.run(move |conn| write_tx(conn, |conn| queue_calls_in(conn, &calls))).await
    }

    /// Leases up to `limit` due calls to `owner` until `until`.
    pub async fn claim(&self, owner: String, now: NaiveDateTime, until: NaiveDateTime, limit: i64) -> StoreResult<Vec<CallRow>> {
        self.0
            .run(move |conn| {
                let lock = if matches!(conn, DbConn::Pg(_)) { "FOR UPDATE SKIP LOCKED" } else { "" };
                let sql = CLAIM_SQL.replace("{lock}", lock);
                let q = diesel::sql_query(sql).bind::<Text, _>(&owner).bind::<Timestamp, _>(until).bind::<Timestamp, _>(now).bind::<BigInt, _>(limit);
                match conn {
                    DbConn::Pg(_) => Ok(q.load::<CallRow>(conn)?),
                    DbConn::Sqlite(_) => write_tx(conn, |conn| Ok(q.load::<CallRow>(conn)?)),
                }
            })
            .await
    }

    /// Records an attempt of a call `owner` holds: the call, the check-in action that queued
    /// it, and — when it has failed for good — a `connector.failed` event, in one transaction.
    /// False when the lease was lost (another replica has the call).
    pub async fn record(&self, call: CallRow, owner: String, a: Attempt, failed_event: Option<NewEvent>) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let finished = (a.status != PENDING).then_some(a.at);
                    let n = diesel::update(connector_calls::table.find(&call.id).filter(connector_calls::lease_owner.eq(&owner)))
                        .set((
                            connector_calls::status.eq(a.status),
                            connector_calls::attempts.eq(call.attempts + 1),
                            connector_calls::next_attempt_at.eq(a.next_attempt_at),
                            connector_calls::lease_owner.eq(None::<String>),
                            connector_calls::lease_until.eq(None::<NaiveDateTime>),
                            connector_calls::last_status.eq(a.last_status),
                            connector_calls::last_error.eq(&a.error),
                            connector_calls::latency_ms.eq(Some(a.latency_ms)),
                            connector_calls::answer.eq(&a.answer),
                            connector_calls::finished_at.eq(finished),
                        ))
                        .execute(conn)?;
                    if n == 0 {
                        return Ok(false);
                    }
                    let (status, detail) = match a.status {
                        PENDING => ("retrying".to_string(), a.error.clone().map(|e| format!("attempt {} failed: {e}", call.attempts + 1))),
                        s => (s.to_string(), a.error.clone().or_else(|| a.last_status.map(|st| format!("HTTP {st}")))),
                    };
                    diesel::update(shared_actions::table.filter(shared_actions::call_id.eq(&call.id)))
                        .set((shared_actions::status.eq(&status), shared_actions::detail.eq(&detail), shared_actions::updated_at.eq(a.at)))
                        .execute(conn)?;
                    diesel::update(compliance_actions::table.filter(compliance_actions::call_id.eq(&call.id)))
                        .set((compliance_actions::status.eq(status), compliance_actions::detail.eq(detail), compliance_actions::updated_at.eq(a.at)))
                        .execute(conn)?;
                    if let Some(e) = failed_event {
                        emit(conn, a.at, &[e])?;
                    }
                    Ok(true)
                })
            })
            .await
    }

    /// Gives back the leases `owner` holds (at shutdown).
    pub async fn release(&self, owner: String) -> StoreResult<usize> {
        self.0
            .run(move |conn| {
                Ok(diesel::update(connector_calls::table.filter(connector_calls::lease_owner.eq(owner)))
                    .set((connector_calls::lease_owner.eq(None::<String>), connector_calls::lease_until.eq(None::<NaiveDateTime>)))
                    .execute(conn)?)
            })
            .await
    }

    /// Calls, newest first: of one connector, one session, or with one status.
    pub async fn calls(&self, connector: Option<String>, session: Option<String>, status: Option<String>, limit: i64) -> StoreResult<Vec<CallRow>> {
        self.0
            .run(move |conn| {
                let mut q = connector_calls::table.into_boxed();
                if let Some(c) = connector {
                    q = q.filter(connector_calls::connector_id.eq(c));
                }
                if let Some(s) = session {
                    q = q.filter(connector_calls::session_id.eq(s));
                }
                if let Some(s) = status {
                    q = q.filter(connector_calls::status.eq(s));
                }
                Ok(q.order((connector_calls::created_at.desc(), connector_calls::id)).limit(limit).select(CallRow::as_select()).load(conn)?)
            })
            .await
    }

    /// One call.
    pub async fn call(&self, id: String) -> StoreResult<Option<CallRow>> {
        self.0.run(move |conn| Ok(connector_calls::table.find(id).select(CallRow::as_select()).first(conn).optional()?)).await
    }

    /// Makes a failed call due again now (an admin's retry).
    pub async fn retry(&self, id: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                Ok(diesel::update(connector_calls::table.find(id).filter(connector_calls::status.eq(FAILED)))
                    .set((
                        connector_calls::status.eq(PENDING),
                        connector_calls::next_attempt_at.eq(super::now()),
                        connector_calls::finished_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)?
                    > 0)
            })
            .await
    }

    /// Pending and failed calls per connector id (for `/metrics`).
    pub async fn backlog(&self) -> StoreResult<Vec<(String, String, i64)>> {
        self.0
            .run(|conn| {
                Ok(connector_calls::table
                    .filter(connector_calls::status.eq_any([PENDING, FAILED]))
                    .group_by((connector_calls::connector_id, connector_calls::status))
                    .select((connector_calls::connector_id, connector_calls::status, diesel::dsl::count_star()))
                    .load(conn)?)
            })
            .await
    }

    /// Removes finished calls older than `cutoff`.
    pub async fn prune(&self, cutoff: NaiveDateTime) -> StoreResult<usize> {
        self.0
            .run(move |conn| {
                Ok(diesel::delete(connector_calls::table.filter(connector_calls::status.ne(PENDING)).filter(connector_calls::finished_at.lt(cutoff)))
                    .execute(conn)?)
            })
            .await
    }

    /// The signing key: (kid, sealed private key, public JWK), oldest first.
    pub async fn keys(&self) -> StoreResult<Vec<(String, Vec<u8>, String)>> {
        self.0
            .run(|conn| {
                Ok(connector_keys::table
                    .order(connector_keys::created_at)
                    .select((connector_keys::kid, connector_keys::private_key, connector_keys::public_jwk))
                    .load(conn)?)
            })
            .await
    }

    /// Stores a signing key unless one exists (two replicas starting at once keep the first).
    pub async fn add_key_if_none(&self, kid: String, sealed: Vec<u8>, jwk: String) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let n: i64 = connector_keys::table.count().get_result(conn)?;
                    if n == 0 {
                        diesel::insert_into(connector_keys::table)
                            .values((
                                connector_keys::kid.eq(kid),
                                connector_keys::private_key.eq(sealed),
                                connector_keys::public_jwk.eq(jwk),
                                connector_keys::created_at.eq(super::now()),
                            ))
                            .execute(conn)?;
                    }
                    Ok(())
                })
            })
            .await
    }
}
