//! PostgreSQL fast paths for the command endpoint. Each step is one SQL statement (data-modifying
//! CTEs) that serves a whole batch of devices: the statement takes its inputs as arrays
//! (`unnest ... WITH ORDINALITY`) and answers one row per device, in input order. Concurrent
//! requests are grouped by [`super::batch::Batcher`], so under load one statement and one commit
//! serve many devices; alone, a device's batch is just itself. Row claiming uses `FOR UPDATE SKIP
//! LOCKED` so several server processes can share one database. SQLite uses the portable diesel
//! queries in `sqlite.rs`; both paths are exercised by the same end-to-end suite.
//!
//! A batch never holds two requests of one enrollment (the batcher keeps the later one for the
//! next batch), so each input row touches only its own enrollment's rows, as if the requests
//! had run one after the other.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Binary, Bool, Nullable, Text, Timestamp};
use diesel::PgConnection;

use super::batch::{Answers, Keyed};
use super::{BindingCheck, ClaimRequest, Claimed, QueueStatus, RecordRequest, ResultEffect};
use crate::store::schema::commands;
use crate::store::{DbConn, StoreError, StoreResult};

impl Keyed for ClaimRequest {
    fn key(&self) -> &str {
        &self.enrollment_id
    }
}

impl Keyed for RecordRequest {
    fn key(&self) -> &str {
        &self.enrollment_id
    }
    fn bytes(&self) -> usize {
        self.body.len()
    }
}

/// The CTE every statement starts with after `req`: which certificate must be bound to which
/// device, unless the check is skipped. `chk` adds the outcome (`ok`) and the device the
/// certificate is bound to (`bound`). A macro so `concat!` can splice it into both statements.
macro_rules! check_cte {
    () => {
        "chk AS (
    SELECT r.*, b.device_id AS bound, r.skip_check OR COALESCE(b.device_id = r.device_id, false) AS ok
    FROM req r LEFT JOIN cert_bindings b ON b.cert_hash = r.cert_hash
)"
    };
}

/// The end of both statements' `next` CTE (the device's highest-priority, oldest deliverable
/// row, skipping rows another transaction holds) and the `claimed` CTE that counts the delivery.
macro_rules! claim_next_cte {
    () => {
        "        ORDER BY priority DESC, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    ) n
), claimed AS (
    UPDATE enrollment_queue q SET deliveries = q.deliveries + 1, last_delivered_at = ?
    FROM next WHERE q.id = next.id
    RETURNING next.ord, q.command_uuid
)"
    };
}

/// The claim writes only bookkeeping (last seen, delivery count and time): the command stays
/// queued until its result is stored. So its transaction commits without waiting for the WAL
/// flush (`synchronous_commit` off for this transaction only, set inside the statement): a
/// database crash can lose the last few hundred milliseconds of those counters and nothing
/// else. A later synchronous commit (a result) flushes the WAL up to and including them.
const CLAIM_SQL: &str = concat!(
    "
WITH req AS (
    SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::boolean[])
        WITH ORDINALITY AS r(enrollment_id, cert_hash, device_id, skip_check, ord)
), ",
    check_cte!(),
    ", seen AS (
    UPDATE enrollments e SET last_seen_at = ?
    FROM chk WHERE e.id = chk.enrollment_id AND chk.ok
    RETURNING e.id
), next AS (
    -- `chk.ok` inside the subquery: a request that failed its binding check must not even
    -- lock (and so make a concurrent claim skip) the queue row of the device it claims to be.
    SELECT chk.ord, n.id FROM chk CROSS JOIN LATERAL (
        SELECT id FROM enrollment_queue
        WHERE chk.ok AND enrollment_id = chk.enrollment_id AND status IN ('queued', 'not_now')
",
    claim_next_cte!(),
    "
SELECT chk.ord, chk.ok, chk.bound, seen.id IS NOT NULL AS seen, c.uuid, c.body
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS one
CROSS JOIN chk
LEFT JOIN seen ON seen.id = chk.enrollment_id
LEFT JOIN claimed ON claimed.ord = chk.ord
LEFT JOIN commands c ON c.uuid = claimed.command_uuid
ORDER BY chk.ord"
);

/// Records results and claims each device's next command. The queue row changes only if it is
/// still active, and the raw result is stored only then.
const RECORD_SQL: &str = concat!(
    "
WITH req AS (
    SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bytea[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::boolean[])
        WITH ORDINALITY AS r(enrollment_id, uuid, row_status, reported, body, ev_device, ev_topic, ev_body, cert_hash, device_id, skip_check, ord)
), ",
    check_cte!(),
    ", cur AS (
    SELECT chk.ord, q.id, q.status FROM chk
    JOIN enrollment_queue q ON q.enrollment_id = chk.enrollment_id AND q.command_uuid = chk.uuid
    WHERE chk.ok
), upd AS (
    -- The status test is on `q`, not `cur`: when another transaction changed the row first,
    -- PostgreSQL re-checks it against the row as that transaction left it, so a result recorded
    -- twice at once (two replicas) changes the row and is stored only once.
    UPDATE enrollment_queue q SET
        status = chk.row_status,
        not_now_count = q.not_now_count + CASE WHEN chk.row_status = 'not_now' THEN 1 ELSE 0 END,
        done_at = CASE WHEN chk.row_status = 'not_now' THEN NULL ELSE ? END
    FROM cur JOIN chk ON chk.ord = cur.ord
    WHERE q.id = cur.id AND q.status IN ('queued', 'not_now')
    RETURNING cur.ord
), ins AS (
    INSERT INTO command_results (enrollment_id, command_uuid, status, body, received_at)
    SELECT chk.enrollment_id, chk.uuid, chk.reported, chk.body, ? FROM chk JOIN upd ON upd.ord = chk.ord
    ORDER BY chk.ord
    RETURNING id
), ev AS (
    -- The result's outbox event, in the same statement and so the same commit.
    INSERT INTO events (topic, device_id, enrollment_id, body, payload, created_at)
    SELECT chk.ev_topic, chk.ev_device, chk.enrollment_id,
           (chk.ev_body::jsonb || jsonb_build_object('request_type', cm.request_type))::text, chk.body, ?
    FROM chk JOIN upd ON upd.ord = chk.ord LEFT JOIN commands cm ON cm.uuid = chk.uuid
    WHERE chk.ev_topic <> ''
    ORDER BY chk.ord
    RETURNING pk
), next AS (
    -- The statement sees the queue as it was before `upd`, so the answered command is excluded
    -- by UUID; NotNow rows from earlier in this loop are excluded by status.
    SELECT cur.ord, n.id FROM cur JOIN chk ON chk.ord = cur.ord CROSS JOIN LATERAL (
        SELECT id FROM enrollment_queue
        WHERE enrollment_id = chk.enrollment_id AND status = 'queued' AND command_uuid <> chk.uuid
",
    claim_next_cte!(),
    "
SELECT chk.ord, chk.ok, chk.bound, e.id IS NOT NULL AS seen, cur.status AS current,
       upd.ord IS NOT NULL AS updated, c.uuid, c.body
FROM chk
LEFT JOIN enrollments e ON e.id = chk.enrollment_id
LEFT JOIN cur ON cur.ord = chk.ord
LEFT JOIN upd ON upd.ord = chk.ord
LEFT JOIN claimed ON claimed.ord = chk.ord
LEFT JOIN commands c ON c.uuid = claimed.command_uuid
ORDER BY chk.ord"
);

/// A bind value of a hot statement.
enum Bind<'a> {
    Time(NaiveDateTime),
    Texts(Vec<&'a str>),
    Blobs(Vec<&'a [u8]>),
    Bools(Vec<bool>),
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
                Bind::Time(v) => out.push_bind_param::<Timestamp, _>(v)?,
                Bind::Texts(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                Bind::Blobs(v) => out.push_bind_param::<Array<Binary>, _>(v)?,
                Bind::Bools(v) => out.push_bind_param::<Array<Bool>, _>(v)?,
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

/// The binds of `req`'s binding columns: each certificate hash, the device it must be bound to,
/// and whether the check is skipped.
fn binding_binds<'a>(checks: impl Iterator<Item = Option<&'a BindingCheck>> + Clone) -> [Bind<'a>; 3] {
    [
        Bind::Texts(checks.clone().map(|c| c.map_or("", |c| c.cert_hash.as_str())).collect()),
        Bind::Texts(checks.clone().map(|c| c.map_or("", |c| c.device_id.as_str())).collect()),
        Bind::Bools(checks.map(|c| c.is_none()).collect()),
    ]
}

/// The columns every statement answers first for each device: its input position, the binding
/// check and whether the enrollment exists.
#[derive(QueryableByName)]
struct Admission {
    #[diesel(sql_type = BigInt)]
    ord: i64,
    #[diesel(sql_type = Bool)]
    ok: bool,
    #[diesel(sql_type = Nullable<Text>)]
    bound: Option<String>,
    #[diesel(sql_type = Bool)]
    seen: bool,
}

impl Admission {
    /// `Ok` when the device's binding check, if any, passed and its enrollment exists.
    fn outcome(self, check: Option<&BindingCheck>, enrollment_id: &str) -> StoreResult<()> {
        match check {
            Some(c) if !self.ok => c.outcome(self.bound),
            _ if !self.seen => Err(StoreError::UnknownEnrollment(enrollment_id.to_string())),
            _ => Ok(()),
        }
    }
}

/// Checks that a statement answered one row per input, in input order (`ord` counts from 1).
fn in_order<R>(rows: Vec<R>, inputs: usize, ord: impl Fn(&R) -> i64) -> StoreResult<Vec<R>> {
    let ordered = rows.len() == inputs && rows.iter().enumerate().all(|(i, r)| usize::try_from(ord(r)).ok() == Some(i + 1));
    if ordered {
        Ok(rows)
    } else {
        Err(StoreError::Task(format!("batch statement answered {} rows for {inputs} inputs", rows.len())))
    }
}

#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(embed)]
    admission: Admission,
    #[diesel(sql_type = Nullable<Text>)]
    uuid: Option<String>,
    #[diesel(sql_type = Nullable<Binary>)]
    body: Option<Vec<u8>>,
}

/// Claims the next command of each device that reported Idle (NotNow commands included), in one
/// statement, after its binding check, if any, finds the certificate bound to the device. The
/// outer error is the statement's; the inner ones are each device's, in input order.
pub(super) fn claim_many(conn: &mut PgConnection, items: &[ClaimRequest], at: NaiveDateTime) -> Answers<Option<Claimed>> {
    let mut binds = vec![Bind::Texts(items.iter().map(|i| i.enrollment_id.as_str()).collect())];
    binds.extend(binding_binds(items.iter().map(|i| i.check.as_ref())));
    binds.extend([Bind::Time(at), Bind::Time(at)]);
    let q: Prepared<'_, ClaimId> = Prepared { sql: CLAIM_SQL, binds, _m: std::marker::PhantomData };
    let rows = in_order(q.load::<ClaimRow>(conn)?, items.len(), |r| r.admission.ord)?;
    Ok(items
        .iter()
        .zip(rows)
        .map(|(item, row)| {
            row.admission.outcome(item.check.as_ref(), &item.enrollment_id)?;
            Ok(claimed(row.uuid, row.body))
        })
        .collect())
}

#[derive(QueryableByName)]
struct RecordRow {
    #[diesel(embed)]
    admission: Admission,
    #[diesel(sql_type = Nullable<Text>)]
    current: Option<String>,
    #[diesel(sql_type = Bool)]
    updated: bool,
    #[diesel(sql_type = Nullable<Text>)]
    uuid: Option<String>,
    #[diesel(sql_type = Nullable<Binary>)]
    body: Option<Vec<u8>>,
}

/// Records each report and claims that device's next command (NotNow ones excluded), in one
/// statement. Nothing is recorded or claimed for a device whose command was never queued for
/// it, nor when its binding check, if any, does not find the certificate bound to the device.
/// The outer error is the statement's; the inner ones are each device's, in input order.
pub(super) fn record_many(conn: &mut PgConnection, items: &[RecordRequest], at: NaiveDateTime) -> Answers<(ResultEffect, Option<Claimed>)> {
    let mut binds = vec![
        Bind::Texts(items.iter().map(|i| i.enrollment_id.as_str()).collect()),
        Bind::Texts(items.iter().map(|i| i.uuid.as_str()).collect()),
        Bind::Texts(items.iter().map(|i| i.status.as_sql()).collect()),
        Bind::Texts(items.iter().map(|i| i.reported.as_str()).collect()),
        Bind::Blobs(items.iter().map(|i| i.body.as_slice()).collect()),
        Bind::Texts(items.iter().map(|i| i.device_id.as_str()).collect()),
        Bind::Texts(items.iter().map(|i| i.event.as_ref().map_or("", |e| e.0)).collect()),
        Bind::Texts(items.iter().map(|i| i.event.as_ref().map_or("{}", |e| e.1.as_str())).collect()),
    ];
    binds.extend(binding_binds(items.iter().map(|i| i.check.as_ref())));
    binds.extend([Bind::Time(at), Bind::Time(at), Bind::Time(at), Bind::Time(at)]);
    let q: Prepared<'_, RecordId> = Prepared { sql: RECORD_SQL, binds, _m: std::marker::PhantomData };
    let rows = in_order(q.load::<RecordRow>(conn)?, items.len(), |r| r.admission.ord)?;
    Ok(items
        .iter()
        .zip(rows)
        .map(|(item, row)| {
            row.admission.outcome(item.check.as_ref(), &item.enrollment_id)?;
            let effect = match (row.current, row.updated) {
                (None, _) => return Err(StoreError::UnknownCommand { enrollment: item.enrollment_id.clone(), command: item.uuid.clone() }),
                (Some(_), false) => ResultEffect::AlreadyDone,
                (Some(_), true) if item.status == QueueStatus::NotNow => ResultEffect::Deferred,
                (Some(_), true) => ResultEffect::Done,
            };
            Ok((effect, claimed(row.uuid, row.body)))
        })
        .collect())
}

/// The next queued command (NotNow ones excluded) of one enrollment after a result, its row
/// locked with `SKIP LOCKED` so a concurrent claim of another process never waits on it.
pub(super) fn claim_after_result(conn: &mut DbConn, enrollment_id: &str, at: NaiveDateTime) -> StoreResult<Option<Claimed>> {
    #[derive(diesel::QueryableByName)]
    struct Picked {
        #[diesel(sql_type = Text)]
        command_uuid: String,
    }
    let picked: Option<Picked> = diesel::sql_query(
        "UPDATE enrollment_queue q SET deliveries = q.deliveries + 1, last_delivered_at = $2 \
         FROM (SELECT id FROM enrollment_queue WHERE enrollment_id = $1 AND status = 'queued' \
               ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) pick \
         WHERE q.id = pick.id RETURNING q.command_uuid",
    )
    .bind::<Text, _>(enrollment_id)
    .bind::<Timestamp, _>(at)
    .get_result(conn)
    .optional()?;
    let Some(p) = picked else { return Ok(None) };
    let body: Vec<u8> = commands::table.find(&p.command_uuid).select(commands::body).first(conn)?;
    Ok(Some(Claimed { uuid: p.command_uuid, body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_have_one_placeholder_per_bind() {
        // Keep in step with the binds built in `claim_many` and `record_many`.
        assert_eq!(CLAIM_SQL.matches('?').count(), 6);
        assert_eq!(RECORD_SQL.matches('?').count(), 15);
        assert!(CLAIM_SQL.contains("), chk AS (") && RECORD_SQL.contains("), chk AS ("));
    }

    #[test]
    fn statements_spell_the_statuses_as_stored() {
        let [queued, not_now] = QueueStatus::ACTIVE_SQL;
        assert!(CLAIM_SQL.contains(&format!("status IN ('{queued}', '{not_now}')")));
        assert!(RECORD_SQL.contains(&format!("'{not_now}'")) && RECORD_SQL.contains(&format!("'{queued}'")));
    }

    #[test]
    fn rows_must_answer_every_input_in_order() {
        assert!(in_order(vec![1i64, 2, 3], 3, |r| *r).is_ok());
        assert!(in_order(vec![1i64, 3], 2, |r| *r).is_err());
        assert!(in_order(vec![1i64, 2], 3, |r| *r).is_err());
        assert!(in_order(Vec::<i64>::new(), 0, |r| *r).is_ok());
    }
}
