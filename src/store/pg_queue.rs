//! PostgreSQL fast paths for the command endpoint: each step is one SQL statement (data-modifying
//! CTEs), so a device's fetch costs one round trip to the database and a result two, instead of a
//! transaction of five to eight statements. Row claiming uses `FOR UPDATE SKIP LOCKED` so several
//! server processes can share one database. SQLite uses the portable diesel queries in `queue.rs`;
//! both paths are exercised by the same end-to-end suite.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Nullable, Text, Timestamp};
use diesel::PgConnection;

use super::queue::{BindingCheck, Claimed, ResultEffect};
use super::{StoreError, StoreResult};

#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = BigInt)]
    ok: i64,
    #[diesel(sql_type = Nullable<Text>)]
    bound: Option<String>,
    #[diesel(sql_type = BigInt)]
    seen: i64,
    #[diesel(sql_type = Nullable<Text>)]
    uuid: Option<String>,
    #[diesel(sql_type = Nullable<Binary>)]
    body: Option<Vec<u8>>,
}

/// The claim writes only bookkeeping (last seen, delivery count and time): the command stays
/// queued until its result is stored. So its transaction commits without waiting for the WAL
/// flush (`synchronous_commit` off for this transaction only, set inside the statement): a
/// database crash can lose the last few hundred milliseconds of those counters and nothing
/// else. A later synchronous commit (a result) flushes the WAL up to and including them.
const CLAIM_SQL: &str = "
WITH bound AS (
    SELECT device_id FROM cert_bindings WHERE cert_hash = ?
), ok AS (
    SELECT 1 WHERE ?::boolean OR EXISTS (SELECT 1 FROM bound WHERE device_id = ?)
), seen AS (
    UPDATE enrollments SET last_seen_at = ? WHERE id = ? AND EXISTS (SELECT 1 FROM ok) RETURNING id
), next AS (
    SELECT id FROM enrollment_queue
    WHERE enrollment_id = ? AND status IN ('queued', 'not_now') AND EXISTS (SELECT 1 FROM ok)
    ORDER BY priority DESC, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE enrollment_queue q SET deliveries = q.deliveries + 1, last_delivered_at = ?
    FROM next WHERE q.id = next.id
    RETURNING q.command_uuid
)
SELECT (SELECT count(*) FROM ok) AS ok, (SELECT device_id FROM bound) AS bound,
       (SELECT count(*) FROM seen) AS seen, c.uuid AS uuid, c.body AS body
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS one
LEFT JOIN claimed ON true
LEFT JOIN commands c ON c.uuid = claimed.command_uuid";

/// A bind value of a hot statement.
enum Bind<'a> {
    Text(&'a str),
    Time(NaiveDateTime),
    Bytes(&'a [u8]),
}

/// A hand-written statement that diesel caches as a prepared statement: `M` gives each statement
/// its own static query id (diesel only caches queries whose id is known at compile time, which
/// `sql_query` is not). `sql` holds the text between bind parameters; `?` marks each parameter.
struct Prepared<'a, M> {
    sql: &'static str,
    binds: Vec<Bind<'a>>,
    _m: std::marker::PhantomData<M>,
}

impl<M: 'static> diesel::query_builder::QueryId for Prepared<'_, M> {
    type QueryId = M;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<M> diesel::query_builder::QueryFragment<diesel::pg::Pg> for Prepared<'_, M> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        if self.sql.matches('?').count() != self.binds.len() {
            return Err(diesel::result::Error::QueryBuilderError("placeholder and bind counts differ".into()));
        }
        let mut parts = self.sql.split('?');
        if let Some(first) = parts.next() {
            out.push_sql(first);
        }
        for (part, bind) in parts.zip(self.binds.iter()) {
            match bind {
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::Time(v) => out.push_bind_param::<Timestamp, _>(v)?,
                Bind::Bytes(v) => out.push_bind_param::<Binary, _>(v)?,
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

impl<M> diesel::query_builder::Query for Prepared<'_, M> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<M> RunQueryDsl<PgConnection> for Prepared<'_, M> {}

/// The command a statement claimed, if its LEFT JOINs found one.
fn claimed(uuid: Option<String>, body: Option<Vec<u8>>) -> Option<Claimed> {
    Some(Claimed { uuid: uuid?, body: body? })
}

/// Marker (query id) of the claim statement.
struct ClaimId;
/// Marker (query id) of the record statement.
struct RecordId;

/// The binds of the `bound` and `ok` CTEs: the certificate hash, whether to skip the check, and
/// the device it must be bound to.
fn binding_binds(check: Option<&BindingCheck>) -> [Bind<'_>; 3] {
    match check {
        Some(c) => [Bind::Text(&c.cert_hash), Bind::Text("false"), Bind::Text(&c.device_id)],
        None => [Bind::Text(""), Bind::Text("true"), Bind::Text("")],
    }
}

/// Whether the statement's binding check passed.
fn binding_outcome(check: Option<&BindingCheck>, ok: i64, bound: Option<String>) -> StoreResult<()> {
    match check {
        Some(c) if ok == 0 => c.outcome(bound),
        _ => Ok(()),
    }
}

/// Claims the next command of a device that reported Idle (NotNow commands included) in one
/// statement, after `check`, if given, finds the certificate bound to the device.
pub fn claim(conn: &mut PgConnection, enrollment_id: &str, check: Option<&BindingCheck>, at: NaiveDateTime) -> StoreResult<Option<Claimed>> {
    let mut binds = Vec::from(binding_binds(check));
    binds.extend([Bind::Time(at), Bind::Text(enrollment_id), Bind::Text(enrollment_id), Bind::Time(at)]);
    let q: Prepared<'_, ClaimId> = Prepared { sql: CLAIM_SQL, binds, _m: std::marker::PhantomData };
    let row: ClaimRow = q.get_result(conn)?;
    binding_outcome(check, row.ok, row.bound)?;
    if row.seen == 0 {
        return Err(StoreError::UnknownEnrollment(enrollment_id.to_string()));
    }
    Ok(claimed(row.uuid, row.body))
}

#[derive(QueryableByName)]
struct ResultOutcome {
    #[diesel(sql_type = BigInt)]
    ok: i64,
    #[diesel(sql_type = Nullable<Text>)]
    bound: Option<String>,
    #[diesel(sql_type = BigInt)]
    seen: i64,
    #[diesel(sql_type = Nullable<Text>)]
    current: Option<String>,
    #[diesel(sql_type = BigInt)]
    updated: i64,
    #[diesel(sql_type = Nullable<Text>)]
    uuid: Option<String>,
    #[diesel(sql_type = Nullable<Binary>)]
    body: Option<Vec<u8>>,
}

const RECORD_SQL: &str = "
WITH bound AS (
    SELECT device_id FROM cert_bindings WHERE cert_hash = ?
), ok AS (
    SELECT 1 WHERE ?::boolean OR EXISTS (SELECT 1 FROM bound WHERE device_id = ?)
), seen AS (
    SELECT id FROM enrollments WHERE id = ?
), cur AS (
    SELECT id, status FROM enrollment_queue
    WHERE enrollment_id = ? AND command_uuid = ? AND EXISTS (SELECT 1 FROM ok)
), upd AS (
    -- The status test is on `q`, not `cur`: when another transaction changed the row first,
    -- PostgreSQL re-checks it against the row as that transaction left it, so a result recorded
    -- twice at once (two replicas) changes the row and is stored only once.
    UPDATE enrollment_queue q SET
        status = ?,
        not_now_count = q.not_now_count + CASE WHEN ?::boolean THEN 1 ELSE 0 END,
        done_at = CASE WHEN ?::boolean THEN NULL ELSE ? END
    FROM cur
    WHERE q.id = cur.id AND q.status IN ('queued', 'not_now')
    RETURNING q.id
), ins AS (
    INSERT INTO command_results (enrollment_id, command_uuid, status, body, received_at)
    SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM upd)
    RETURNING id
), next AS (
    -- The statement sees the queue as it was before `upd`, so the answered command is excluded
    -- by UUID; NotNow rows from earlier in this loop are excluded by status.
    SELECT id FROM enrollment_queue
    WHERE enrollment_id = ? AND status = 'queued' AND command_uuid <> ?
      AND EXISTS (SELECT 1 FROM cur)
    ORDER BY priority DESC, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE enrollment_queue q SET deliveries = q.deliveries + 1, last_delivered_at = ?
    FROM next WHERE q.id = next.id
    RETURNING q.command_uuid
)
SELECT (SELECT count(*) FROM ok) AS ok, (SELECT device_id FROM bound) AS bound,
       (SELECT count(*) FROM seen) AS seen,
       (SELECT status FROM cur) AS current,
       (SELECT count(*) FROM upd) AS updated,
       c.uuid AS uuid, c.body AS body
FROM (SELECT 1) AS one
LEFT JOIN claimed ON true
LEFT JOIN commands c ON c.uuid = claimed.command_uuid";

/// A device's report of one command, as the record statement takes it.
pub struct Report<'a> {
    /// The reporting enrollment.
    pub enrollment_id: &'a str,
    /// CommandUUID.
    pub uuid: &'a str,
    /// The queue row status the report leads to (`queue::row_status_for`).
    pub row_status: &'a str,
    /// Status as the device reported it.
    pub reported: &'a str,
    /// The raw report.
    pub body: &'a [u8],
}

/// Records a result and claims the next command in one statement: the queue row changes only if
/// it is still active, and the raw result is stored only then; nothing is claimed when the
/// command was never queued for this enrollment, nor when `check`, if given, does not find the
/// certificate bound to the device. Returns what happened and the next command.
pub fn record_and_claim(conn: &mut PgConnection, r: &Report<'_>, check: Option<&BindingCheck>, at: NaiveDateTime) -> StoreResult<(ResultEffect, Option<Claimed>)> {
    let (enrollment_id, uuid, row_status) = (r.enrollment_id, r.uuid, r.row_status);
    let not_now = if row_status == "not_now" { "true" } else { "false" };
    let mut binds = Vec::from(binding_binds(check));
    binds.extend([
        Bind::Text(enrollment_id),
        Bind::Text(enrollment_id),
        Bind::Text(uuid),
        Bind::Text(row_status),
        Bind::Text(not_now),
        Bind::Text(not_now),
        Bind::Time(at),
        Bind::Text(enrollment_id),
        Bind::Text(uuid),
        Bind::Text(r.reported),
        Bind::Bytes(r.body),
        Bind::Time(at),
        Bind::Text(enrollment_id),
        Bind::Text(uuid),
        Bind::Time(at),
    ]);
    let q: Prepared<'_, RecordId> = Prepared { sql: RECORD_SQL, binds, _m: std::marker::PhantomData };
    let out: ResultOutcome = q.get_result(conn)?;
    binding_outcome(check, out.ok, out.bound)?;
    if out.seen == 0 {
        return Err(StoreError::UnknownEnrollment(enrollment_id.to_string()));
    }
    let effect = match (out.current, out.updated) {
        (None, _) => return Err(StoreError::UnknownCommand { enrollment: enrollment_id.to_string(), command: uuid.to_string() }),
        (Some(_), 0) => ResultEffect::AlreadyDone,
        (Some(_), _) if row_status == "not_now" => ResultEffect::Deferred,
        (Some(_), _) => ResultEffect::Done,
    };
    Ok((effect, claimed(out.uuid, out.body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_have_one_placeholder_per_bind() {
        // Keep in step with the binds built in `claim` and `record_and_claim`.
        assert_eq!(CLAIM_SQL.matches('?').count(), 7);
        assert_eq!(RECORD_SQL.matches('?').count(), 18);
    }
}
