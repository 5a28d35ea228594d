//! Retention: history (command results, finished queue rows and the commands no row needs, app
//! events, DeclarativeManagement messages) deleted past an age and past a count per enrollment
//! (`[retention]`). Portable SQL: window functions exist on both backends.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::schema::declarative_messages;
use super::{now, write_tx, Store, StoreResult};

/// What a sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Command results.
    pub results: usize,
    /// Finished queue rows.
    pub queue_rows: usize,
    /// Commands no queue row needs any more.
    pub commands: usize,
    /// App events.
    pub app_events: usize,
    /// DeclarativeManagement messages.
    pub declarative: usize,
}

impl Swept {
    /// Rows deleted in all.
    pub fn total(&self) -> usize {
        self.results + self.queue_rows + self.commands + self.app_events + self.declarative
    }
}

/// `DELETE` of rows of `table` past the newest `keep` per enrollment (by id) or older than
/// `cutoff` (by `time`), limited to rows `extra` allows.
fn trim(conn: &mut super::DbConn, table: &str, time: &str, extra: &str, keep: i64, cutoff: Option<NaiveDateTime>) -> StoreResult<usize> {
    let sql = format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM (SELECT id, {time} AS at, ROW_NUMBER() OVER (PARTITION BY enrollment_id ORDER BY id DESC) AS rn \
         FROM {table} WHERE {extra}) AS ranked WHERE rn > $1 OR at < $2)"
    );
    Ok(diesel::sql_query(sql).bind::<BigInt, _>(keep).bind::<Nullable<Timestamp>, _>(cutoff).execute(conn)?)
}

/// The retention sweep (reached through [`Store::retention`]).
#[derive(Debug, Clone)]
pub struct RetentionStore(pub(super) Store);

impl RetentionStore {
    /// Stores a DeclarativeManagement check-in message and keeps only the newest `keep` of the
    /// enrollment's, in one transaction.
    pub async fn store_declarative(
        &self,
        enrollment_id: String,
        endpoint: String,
        data: Option<Vec<u8>>,
        keep: u32,
        event: super::events::NewEvent,
    ) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    diesel::insert_into(declarative_messages::table)
                        .values((
                            declarative_messages::enrollment_id.eq(&enrollment_id),
                            declarative_messages::endpoint.eq(&endpoint),
                            declarative_messages::data.eq(&data),
                            declarative_messages::received_at.eq(now()),
                        ))
                        .execute(conn)?;
                    let sql = "DELETE FROM declarative_messages WHERE enrollment_id = $1 AND id NOT IN \
                           (SELECT id FROM declarative_messages WHERE enrollment_id = $1 ORDER BY id DESC LIMIT $2)";
                    diesel::sql_query(sql).bind::<Text, _>(&enrollment_id).bind::<BigInt, _>(i64::from(keep)).execute(conn)?;
                    super::events::emit_one(conn, now(), event)
                })
            })
            .await
    }

    /// Deletes history older than `cutoff` (none with `None`) and past `per_enrollment` rows
    /// per enrollment (`declarative` for DeclarativeManagement messages). Queue rows still to be
    /// delivered are never touched, nor the commands they need.
    pub async fn sweep_history(&self, cutoff: Option<NaiveDateTime>, per_enrollment: u32, declarative: u32) -> StoreResult<Swept> {
        let keep = i64::from(per_enrollment);
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let results = trim(conn, "command_results", "received_at", "1 = 1", keep, cutoff)?;
                    let queue_rows = trim(conn, "enrollment_queue", "done_at", "status NOT IN ('queued', 'not_now')", keep, cutoff)?;
                    let commands = match cutoff {
                        Some(c) => diesel::sql_query(
                            "DELETE FROM commands WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM enrollment_queue q WHERE q.command_uuid = commands.uuid)",
                        )
                        .bind::<Timestamp, _>(c)
                        .execute(conn)?,
                        None => 0,
                    };
                    let app_events = trim(conn, "app_events", "created_at", "1 = 1", keep, cutoff)?;
                    let declarative = trim(conn, "declarative_messages", "received_at", "1 = 1", i64::from(declarative), cutoff)?;
                    Ok(Swept { results, queue_rows, commands, app_events, declarative })
                })
            })
            .await
    }
}
