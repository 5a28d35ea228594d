//! Enqueue: store commands and queue them for enrollments, inside a unit of work.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::{EnqueueOutcome, QueueStatus, Wake};
use crate::store::events::{topic, NewEvent};
use crate::store::models::{Command, NewQueueRow};
use crate::store::schema::{commands, enrollment_queue, enrollments};
use crate::store::{DbConn, StoreError, StoreResult, Tx};

/// Commands to queue: `rows` pairs an enrollment with the UUID of one of `commands`.
#[derive(Debug, Clone)]
pub struct Enqueue {
    /// The commands (stored once each).
    pub commands: Vec<Command>,
    /// (enrollment id, command UUID) pairs.
    pub rows: Vec<(String, String)>,
    /// Higher goes first.
    pub priority: i32,
    /// Whether the queued enrollments are pushed.
    pub wake: Wake,
}

impl Enqueue {
    /// `commands` for `rows` at the default priority, pushed.
    pub fn new(commands: Vec<Command>, rows: Vec<(String, String)>) -> Enqueue {
        Enqueue { commands, rows, priority: 0, wake: Wake::Push }
    }

    /// The same, with the given push choice.
    pub fn with_wake(self, wake: Wake) -> Enqueue {
        Enqueue { wake, ..self }
    }
}

/// Stores and queues `e` inside `tx`. Unknown and not-enrolled targets are reported, not
/// queued. One batched insert per table. With [`Wake::Push`], the queued enrollments are marked
/// due for a push in the same transaction, so a crash between enqueue and push cannot lose the
/// wake-up, and the scheduler is woken after the commit.
pub(crate) fn enqueue_in(tx: &mut Tx<'_>, e: Enqueue) -> StoreResult<EnqueueOutcome> {
    let (at, conn) = (tx.at, &mut *tx.conn);
    let mut ids: Vec<&String> = e.rows.iter().map(|(id, _)| id).collect();
    ids.sort();
    ids.dedup();
    let known: Vec<(String, bool, String)> = enrollments::table
        .filter(enrollments::id.eq_any(&ids))
        .filter(crate::store::planned_per_call())
        .select((enrollments::id, enrollments::enabled, enrollments::device_id))
        .load(conn)?;
    let mut out = EnqueueOutcome::default();
    let enabled_by_id: HashMap<&str, bool> = known.iter().map(|(id, en, _)| (id.as_str(), *en)).collect();
    let device_by_id: HashMap<&str, &str> = known.iter().map(|(id, _, d)| (id.as_str(), d.as_str())).collect();
    for id in &ids {
        match enabled_by_id.get(id.as_str()) {
            None => out.unknown.push((*id).clone()),
            Some(false) => out.not_enrolled.push((*id).clone()),
            Some(true) => out.queued.push((*id).clone()),
        }
    }
    let new_rows: Vec<NewQueueRow> = e
        .rows
        .iter()
        .filter(|(id, _)| enabled_by_id.get(id.as_str()) == Some(&true))
        .map(|(id, uuid)| NewQueueRow {
            enrollment_id: id.clone(),
            command_uuid: uuid.clone(),
            status: QueueStatus::Queued.as_sql(),
            priority: e.priority,
            not_now_count: 0,
            deliveries: 0,
            created_at: at,
        })
        .collect();
    if new_rows.is_empty() {
        return Ok(out);
    }
    let used: HashSet<&str> = new_rows.iter().map(|r| r.command_uuid.as_str()).collect();
    let cmds: Vec<Command> = e.commands.into_iter().filter(|c| used.contains(c.uuid.as_str())).map(|c| Command { created_at: at, ..c }).collect();
    let uuids: Vec<&str> = cmds.iter().map(|c| c.uuid.as_str()).collect();
    let dup: Option<String> =
        commands::table.filter(commands::uuid.eq_any(&uuids)).filter(crate::store::planned_per_call()).select(commands::uuid).first(conn).optional()?;
    if let Some(d) = dup {
        return Err(StoreError::DuplicateCommand(d));
    }
    for chunk in cmds.chunks(1000) {
        insert_commands(conn, chunk)?;
    }
    for chunk in new_rows.chunks(1000) {
        insert_queue_rows(conn, chunk)?;
    }
    let request_type: HashMap<&str, &str> = cmds.iter().map(|c| (c.uuid.as_str(), c.request_type.as_str())).collect();
    let queued: Vec<NewEvent> = new_rows
        .iter()
        .map(|r| {
            let data = serde_json::json!({"command_uuid": r.command_uuid, "request_type": request_type.get(r.command_uuid.as_str()), "priority": r.priority});
            NewEvent::new(topic::COMMAND_QUEUED, data).on(device_by_id.get(r.enrollment_id.as_str()).copied().unwrap_or_default(), r.enrollment_id.as_str())
        })
        .collect();
    crate::store::events::emit(conn, at, &queued)?;
    if e.wake == Wake::Push {
        for chunk in out.queued.chunks(1000) {
            crate::store::push::mark_due(conn, chunk, at)?;
        }
        tx.wake = true;
    }
    Ok(out)
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
