//! The command queue tables: enqueue (one batched write), claim the next command, record results.

use diesel::prelude::*;

use super::batch::Batcher;
use super::devices::ACTIVE_STATUSES;
use super::models::{Command, NewQueueRow, NewResultRow, QueueRow, ResultRow};
use super::pg_queue::{ClaimRequest, Report};
use super::schema::{command_results, commands, enrollment_queue, enrollments};
use super::{now, write_tx, DbConn, Store, StoreError, StoreResult};

/// A command handed to a device.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// CommandUUID.
    pub uuid: String,
    /// Command plist.
    pub body: Vec<u8>,
}

/// How enqueueing went for each requested target.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EnqueueOutcome {
    /// Targets the command was queued for.
    pub queued: Vec<String>,
    /// Targets that are not known enrollments.
    pub unknown: Vec<String>,
    /// Known enrollments that are not enrolled (checked out or never completed TokenUpdate).
    pub not_enrolled: Vec<String>,
}

/// A certificate that must be bound to a device before that device's queue is touched. On
/// PostgreSQL the check is part of the queue statement, on SQLite part of its transaction, so
/// the command endpoint asks the database once per request.
#[derive(Debug, Clone)]
pub struct BindingCheck {
    /// Hex SHA-256 of the request's certificate.
    pub cert_hash: String,
    /// The device the request claims to be.
    pub device_id: String,
}

impl BindingCheck {
    /// `Ok` when the certificate is bound to the device, else [`StoreError::NotBound`].
    pub fn outcome(&self, bound_to: Option<String>) -> StoreResult<()> {
        if bound_to.as_deref() == Some(self.device_id.as_str()) {
            Ok(())
        } else {
            Err(StoreError::NotBound { device: self.device_id.clone(), bound_to })
        }
    }
}

/// The SQLite side of a [`BindingCheck`] (inside the caller's transaction).
fn check_binding(conn: &mut DbConn, check: Option<&BindingCheck>) -> StoreResult<()> {
    let Some(c) = check else { return Ok(()) };
    c.outcome(super::devices::bound_device(conn, &c.cert_hash)?)
}

/// The command endpoint's batchers (PostgreSQL): Idle claims and results, each grouped into
/// one statement per batch.
#[derive(Debug)]
pub(crate) struct Batches {
    claims: Batcher<ClaimRequest, Option<Claimed>>,
    records: Batcher<Report, (ResultEffect, Option<Claimed>)>,
}

/// The most requests one batch statement serves.
const BATCH_MAX: usize = 64;

impl Batches {
    /// Batchers for a pool of `pool_size` connections. Each kind runs at most two batches at once
    /// (one with a pool under 4), so the command endpoint leaves most of the pool to check-ins,
    /// the API and pushes; requests that arrive meanwhile join the next batch. Fewer, larger
    /// batches cost the database less than more, smaller ones: with 32 devices at a time on 2
    /// cores, 1–2 batches per kind gave 2,250–2,540 round trips/s and 3–4 gave 1,650–2,100.
    pub(crate) fn new(pool_size: usize) -> Batches {
        let leaders = (pool_size / 2).clamp(1, 2);
        Batches {
            claims: Batcher::new(leaders, BATCH_MAX, super::pg_queue::claim_many),
            records: Batcher::new(leaders, BATCH_MAX, super::pg_queue::record_many),
        }
    }
}

/// What a device's result did to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultEffect {
    /// The command left the queue.
    Done,
    /// NotNow: kept for a later connection.
    Deferred,
    /// The command had already left the queue (a repeated report); nothing changed.
    AlreadyDone,
}

/// A queue row with its command's request type and the latest result, for listings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueEntry {
    /// The queue row.
    #[serde(flatten)]
    pub row: QueueRow,
    /// Command.RequestType.
    pub request_type: String,
}

/// Maps a device-reported Status to the queue row status it leads to.
pub fn row_status_for(status: &str) -> Option<&'static str> {
    match status {
        "Acknowledged" => Some("acknowledged"),
        "Error" => Some("error"),
        "CommandFormatError" => Some("command_format_error"),
        "NotNow" => Some("not_now"),
        _ => None,
    }
}

/// Claims the oldest deliverable command of an enrollment and counts the delivery.
/// `include_not_now` is true at the start of a connection (Status Idle) and false after a result,
/// so a command answered NotNow is never handed again within the same connection loop.
/// This is the SQLite path, run inside `BEGIN IMMEDIATE` (which serialises writers);
/// PostgreSQL claims through `pg_queue` with `FOR UPDATE SKIP LOCKED`.
fn claim_next(conn: &mut DbConn, enrollment_id: &str, include_not_now: bool) -> StoreResult<Option<Claimed>> {
    let at = now();
    let pick = enrollment_queue::table
        .filter(enrollment_queue::enrollment_id.eq(enrollment_id))
        .order((enrollment_queue::priority.desc(), enrollment_queue::id.asc()))
        .select((enrollment_queue::id, enrollment_queue::command_uuid));
    let [queued, not_now] = ACTIVE_STATUSES;
    // Two fixed filters rather than `eq_any`: diesel caches neither an `IN` list's statement nor
    // its plan, and this runs on every command fetch.
    let row: Option<(i64, String)> = if include_not_now {
        pick.filter(enrollment_queue::status.eq(queued).or(enrollment_queue::status.eq(not_now))).first(conn).optional()?
    } else {
        pick.filter(enrollment_queue::status.eq(queued)).first(conn).optional()?
    };
    let Some((id, uuid)) = row else { return Ok(None) };
    diesel::update(enrollment_queue::table.find(id))
        .set((enrollment_queue::deliveries.eq(enrollment_queue::deliveries + 1), enrollment_queue::last_delivered_at.eq(Some(at))))
        .execute(conn)?;
    let body: Vec<u8> = commands::table.find(&uuid).select(commands::body).first(conn)?;
    Ok(Some(Claimed { uuid, body }))
}

/// [`Store::enqueue`] inside the caller's transaction, so other writes can share it.
pub(super) fn enqueue_in(conn: &mut DbConn, cmds: Vec<Command>, rows: Vec<(String, String)>, priority: i32, push: bool) -> StoreResult<EnqueueOutcome> {
    let at = now();
    let mut ids: Vec<&String> = rows.iter().map(|(e, _)| e).collect();
    ids.sort();
    ids.dedup();
    let known: Vec<(String, bool)> =
        enrollments::table.filter(enrollments::id.eq_any(&ids)).filter(super::planned_per_call()).select((enrollments::id, enrollments::enabled)).load(conn)?;
    let mut out = EnqueueOutcome::default();
    let enabled_by_id: std::collections::HashMap<&str, bool> = known.iter().map(|(id, en)| (id.as_str(), *en)).collect();
    for id in &ids {
        match enabled_by_id.get(id.as_str()) {
            None => out.unknown.push((*id).clone()),
            Some(false) => out.not_enrolled.push((*id).clone()),
            Some(true) => out.queued.push((*id).clone()),
        }
    }
    let new_rows: Vec<NewQueueRow> = rows
        .iter()
        .filter(|(e, _)| enabled_by_id.get(e.as_str()) == Some(&true))
        .map(|(e, u)| NewQueueRow {
            enrollment_id: e.clone(),
            command_uuid: u.clone(),
            status: "queued".into(),
            priority,
            not_now_count: 0,
            deliveries: 0,
            created_at: at,
        })
        .collect();
    if new_rows.is_empty() {
        return Ok(out);
    }
    let used: std::collections::HashSet<&str> = new_rows.iter().map(|r| r.command_uuid.as_str()).collect();
    let cmds: Vec<Command> = cmds.into_iter().filter(|c| used.contains(c.uuid.as_str())).map(|c| Command { created_at: at, ..c }).collect();
    let uuids: Vec<&str> = cmds.iter().map(|c| c.uuid.as_str()).collect();
    let dup: Option<String> =
        commands::table.filter(commands::uuid.eq_any(&uuids)).filter(super::planned_per_call()).select(commands::uuid).first(conn).optional()?;
    if let Some(d) = dup {
        return Err(StoreError::DuplicateCommand(d));
    }
    for chunk in cmds.chunks(1000) {
        insert_commands(conn, chunk)?;
    }
    for chunk in new_rows.chunks(1000) {
        insert_queue_rows(conn, chunk)?;
    }
    if push {
        for chunk in out.queued.chunks(1000) {
            super::push::mark_due(conn, chunk, at)?;
        }
    }
    Ok(out)
}

impl Store {
    /// Stores commands and queues them: `rows` pairs an enrollment with a command UUID from
    /// `cmds`. Unknown and not-enrolled targets are reported, not queued. One transaction, one
    /// batched insert per table. With `push`, the queued enrollments are marked due for a push in
    /// the same transaction, so a crash between enqueue and push cannot lose the wake-up.
    pub async fn enqueue(&self, cmds: Vec<Command>, rows: Vec<(String, String)>, priority: i32, push: bool) -> StoreResult<EnqueueOutcome> {
        self.run(move |conn| write_tx(conn, |conn| enqueue_in(conn, cmds, rows, priority, push))).await
    }

    /// Hands the next command to a device that reported `Idle` (NotNow commands included),
    /// after `check`, if given, finds the request's certificate bound to the device.
    /// On PostgreSQL the claim joins a batch of concurrent claims (one statement for all).
    pub async fn next_command(&self, enrollment_id: String, check: Option<BindingCheck>) -> StoreResult<Option<Claimed>> {
        if self.backend == super::Backend::Postgres {
            return self.batches.claims.submit(self, ClaimRequest { enrollment_id, check }).await;
        }
        self.run(move |conn| {
            write_tx(conn, |conn| {
                check_binding(conn, check.as_ref())?;
                let seen = diesel::update(enrollments::table.find(&enrollment_id)).set(enrollments::last_seen_at.eq(Some(now()))).execute(conn)?;
                if seen == 0 {
                    return Err(StoreError::UnknownEnrollment(enrollment_id.clone()));
                }
                claim_next(conn, &enrollment_id, true)
            })
        })
        .await
    }

    /// Records a device's result for `uuid` and hands the next command (NotNow ones excluded),
    /// in one transaction, after `check`, if given, finds the request's certificate bound to the
    /// device. A result for a command never queued for this enrollment is refused. On PostgreSQL
    /// the result joins a batch of concurrent results (one statement and one commit for all).
    pub async fn record_result(
        &self,
        enrollment_id: String,
        uuid: String,
        status: String,
        body: Vec<u8>,
        check: Option<BindingCheck>,
    ) -> StoreResult<(ResultEffect, Option<Claimed>)> {
        if self.backend == super::Backend::Postgres {
            let Some(row_status) = row_status_for(&status) else {
                return Err(StoreError::UnknownCommand { enrollment: enrollment_id, command: uuid });
            };
            let report = Report { enrollment_id, uuid, row_status, reported: status, body, check };
            return self.batches.records.submit(self, report).await;
        }
        self.run(move |conn| {
            write_tx(conn, |conn| {
                check_binding(conn, check.as_ref())?;
                let at = now();
                // last_seen_at moves on Idle (the start of every connection loop), not per result.
                let known: i64 = enrollments::table.filter(enrollments::id.eq(&enrollment_id)).count().get_result(conn)?;
                if known == 0 {
                    return Err(StoreError::UnknownEnrollment(enrollment_id.clone()));
                }
                let Some(new_status) = row_status_for(&status) else {
                    return Err(StoreError::UnknownCommand { enrollment: enrollment_id.clone(), command: uuid.clone() });
                };
                let row: Option<(i64, String)> = enrollment_queue::table
                    .filter(enrollment_queue::enrollment_id.eq(&enrollment_id))
                    .filter(enrollment_queue::command_uuid.eq(&uuid))
                    .select((enrollment_queue::id, enrollment_queue::status))
                    .first(conn)
                    .optional()?;
                let Some((row_id, current)) = row else {
                    return Err(StoreError::UnknownCommand { enrollment: enrollment_id.clone(), command: uuid.clone() });
                };
                let effect = if !ACTIVE_STATUSES.contains(&current.as_str()) {
                    ResultEffect::AlreadyDone
                } else {
                    diesel::insert_into(command_results::table)
                        .values(&NewResultRow {
                            enrollment_id: enrollment_id.clone(),
                            command_uuid: uuid.clone(),
                            status: status.clone(),
                            body,
                            received_at: at,
                        })
                        .execute(conn)?;
                    if new_status == "not_now" {
                        diesel::update(enrollment_queue::table.find(row_id))
                            .set((enrollment_queue::status.eq("not_now"), enrollment_queue::not_now_count.eq(enrollment_queue::not_now_count + 1)))
                            .execute(conn)?;
                        ResultEffect::Deferred
                    } else {
                        diesel::update(enrollment_queue::table.find(row_id))
                            .set((enrollment_queue::status.eq(new_status), enrollment_queue::done_at.eq(Some(at))))
                            .execute(conn)?;
                        ResultEffect::Done
                    }
                };
                let next = claim_next(conn, &enrollment_id, false)?;
                Ok((effect, next))
            })
        })
        .await
    }

    /// Hands the next command after a result whose follow-ups were queued only after the
    /// result's own claim found nothing (NotNow ones excluded, as after every result). The
    /// binding was checked by that result. On PostgreSQL the row is locked with `SKIP LOCKED`.
    pub async fn next_after_result(&self, enrollment_id: String) -> StoreResult<Option<Claimed>> {
        let pg = self.backend == super::Backend::Postgres;
        self.run(move |conn| {
            write_tx(conn, |conn| {
                if !pg {
                    return claim_next(conn, &enrollment_id, false);
                }
                #[derive(diesel::QueryableByName)]
                struct Picked {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    command_uuid: String,
                }
                let picked: Option<Picked> = diesel::sql_query(
                    "UPDATE enrollment_queue q SET deliveries = q.deliveries + 1, last_delivered_at = $2 \
                     FROM (SELECT id FROM enrollment_queue WHERE enrollment_id = $1 AND status = 'queued' \
                           ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) pick \
                     WHERE q.id = pick.id RETURNING q.command_uuid",
                )
                .bind::<diesel::sql_types::Text, _>(&enrollment_id)
                .bind::<diesel::sql_types::Timestamp, _>(now())
                .get_result(conn)
                .optional()?;
                let Some(p) = picked else { return Ok(None) };
                let body: Vec<u8> = commands::table.find(&p.command_uuid).select(commands::body).first(conn)?;
                Ok(Some(Claimed { uuid: p.command_uuid, body }))
            })
        })
        .await
    }

    /// Queue rows of an enrollment, newest first, with their request types.
    pub async fn enrollment_queue(&self, enrollment_id: String, limit: i64) -> StoreResult<Vec<QueueEntry>> {
        self.run(move |conn| {
            let rows: Vec<(QueueRow, String)> = enrollment_queue::table
                .inner_join(commands::table)
                .filter(enrollment_queue::enrollment_id.eq(&enrollment_id))
                .order(enrollment_queue::id.desc())
                .limit(limit)
                .select((QueueRow::as_select(), commands::request_type))
                .load(conn)?;
            Ok(rows.into_iter().map(|(row, request_type)| QueueEntry { row, request_type }).collect())
        })
        .await
    }

    /// A stored command by UUID.
    pub async fn command(&self, uuid: String) -> StoreResult<Option<Command>> {
        self.run(move |conn| Ok(commands::table.find(&uuid).select(Command::as_select()).first(conn).optional()?)).await
    }

    /// Every queue row of a command (one per target).
    pub async fn command_targets(&self, uuid: String) -> StoreResult<Vec<QueueRow>> {
        self.run(move |conn| {
            Ok(enrollment_queue::table
                .filter(enrollment_queue::command_uuid.eq(&uuid))
                .order(enrollment_queue::enrollment_id)
                .select(QueueRow::as_select())
                .load(conn)?)
        })
        .await
    }

    /// Results reported for a command (all targets), oldest first.
    pub async fn command_results(&self, uuid: String) -> StoreResult<Vec<ResultRow>> {
        self.run(move |conn| {
            Ok(command_results::table.filter(command_results::command_uuid.eq(&uuid)).order(command_results::id).select(ResultRow::as_select()).load(conn)?)
        })
        .await
    }

    /// Results reported by an enrollment, newest first.
    pub async fn enrollment_results(&self, enrollment_id: String, limit: i64) -> StoreResult<Vec<ResultRow>> {
        self.run(move |conn| {
            Ok(command_results::table
                .filter(command_results::enrollment_id.eq(&enrollment_id))
                .order(command_results::id.desc())
                .limit(limit)
                .select(ResultRow::as_select())
                .load(conn)?)
        })
        .await
    }
}

/// Batched insert of commands. Both backends take a multi-row VALUES; the match is needed
/// because diesel's multi-connection backend does not implement batch inserts.
fn insert_commands(conn: &mut DbConn, chunk: &[Command]) -> StoreResult<()> {
    match conn {
        DbConn::Pg(c) => diesel::insert_into(commands::table).values(chunk).execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(commands::table).values(chunk).execute(c)?,
    };
    Ok(())
}

/// Batched insert of queue rows (see [`insert_commands`]).
fn insert_queue_rows(conn: &mut DbConn, chunk: &[NewQueueRow]) -> StoreResult<()> {
    match conn {
        DbConn::Pg(c) => diesel::insert_into(enrollment_queue::table).values(chunk).execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(enrollment_queue::table).values(chunk).execute(c)?,
    };
    Ok(())
}
