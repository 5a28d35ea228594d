//! Reading the queue for the admin API: an enrollment's rows, a command's targets, results.

use diesel::prelude::*;
use serde::Serialize;

use crate::store::models::{Command, QueueRow, ResultRow};
use crate::store::schema::{command_results, commands, enrollment_queue};
use crate::store::{Store, StoreResult};

/// A queue row with its command's request type, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    /// The queue row.
    #[serde(flatten)]
    pub row: QueueRow,
    /// Command.RequestType.
    pub request_type: String,
}

/// The queue's read side (see [`super::Queue::listing`]).
#[derive(Debug, Clone, Copy)]
pub struct Listing<'s>(pub(super) &'s Store);

impl Listing<'_> {
    /// Queue rows of an enrollment, newest first, with their request types.
    pub async fn enrollment_queue(&self, enrollment_id: String, limit: i64) -> StoreResult<Vec<QueueEntry>> {
        self.0
            .run(move |conn| {
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
        self.0.run(move |conn| Ok(commands::table.find(&uuid).select(Command::as_select()).first(conn).optional()?)).await
    }

    /// Every queue row of a command (one per target).
    pub async fn command_targets(&self, uuid: String) -> StoreResult<Vec<QueueRow>> {
        self.0
            .run(move |conn| {
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
        self.0
            .run(move |conn| {
                Ok(command_results::table
                    .filter(command_results::command_uuid.eq(&uuid))
                    .order(command_results::id)
                    .select(ResultRow::as_select())
                    .load(conn)?)
            })
            .await
    }

    /// Results reported by an enrollment, newest first.
    pub async fn enrollment_results(&self, enrollment_id: String, limit: i64) -> StoreResult<Vec<ResultRow>> {
        self.0
            .run(move |conn| {
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
