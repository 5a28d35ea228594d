//! The rows [`crate::sealed::seal_existing`] seals at start-up: values an earlier version kept in
//! clear (those that do not start with [`crate::sealed::TAG`]), and the writes that replace them.

use diesel::prelude::*;
use diesel::sql_types::{Binary, Bool};

use super::schema::commands;
use super::{write_tx, Store, StoreResult};
use crate::sealed::TAG;

/// `substr(column, 1, len(TAG)) <> TAG`, in SQL both backends speak (a macro: the expression's
/// type is diesel's to name).
macro_rules! not_sealed {
    ($column:literal) => {
        diesel::dsl::sql::<Bool>(concat!("substr(", $column, ", 1, "))
            .bind::<diesel::sql_types::Integer, _>(TAG.len() as i32)
            .sql(") <> ")
            .bind::<Binary, _>(TAG.to_vec())
    };
}

/// A column holding sealed values: its table, key column and value column (fixed names, never
/// from input).
#[derive(Debug, Clone, Copy)]
struct SealedColumn {
    table: &'static str,
    key: &'static str,
    value: &'static str,
}

impl SealedColumn {
    const UNLOCK_TOKEN: SealedColumn = SealedColumn { table: "enrollments", key: "id", value: "unlock_token" };
    const BOOTSTRAP_TOKEN: SealedColumn = SealedColumn { table: "devices", key: "id", value: "bootstrap_token" };
}

#[derive(diesel::QueryableByName)]
struct KeyValue {
    #[diesel(sql_type = diesel::sql_types::Text)]
    k: String,
    #[diesel(sql_type = Binary)]
    v: Vec<u8>,
}

/// Sealing values an earlier version stored in clear (reached through [`Store::at_rest`]).
#[derive(Debug, Clone)]
pub struct AtRestStore(pub(super) Store);

impl AtRestStore {
    /// After values were sealed in place: on SQLite, the old pages (which still hold them in
    /// clear) are overwritten — freed space zeroed and the WAL checkpointed into the file. On
    /// PostgreSQL old row versions stay on disk until the table is vacuumed (docs/SECURITY.md).
    pub async fn scrub_after_sealing(&self) -> StoreResult<()> {
        if self.0.backend() != super::Backend::Sqlite {
            return Ok(());
        }
        self.0
            .run(|conn| {
                diesel::sql_query("VACUUM").execute(conn)?;
                diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(conn)?;
                Ok(())
            })
            .await
    }

    /// UnlockTokens stored in clear, by enrollment.
    pub async fn clear_unlock_tokens(&self) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.clear_values(SealedColumn::UNLOCK_TOKEN).await
    }

    /// Replaces UnlockTokens (sealed now).
    pub async fn replace_unlock_tokens(&self, rows: Vec<(String, Vec<u8>)>) -> StoreResult<()> {
        self.replace_values(SealedColumn::UNLOCK_TOKEN, rows).await
    }

    /// BootstrapTokens stored in clear, by device.
    pub async fn clear_bootstrap_tokens(&self) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.clear_values(SealedColumn::BOOTSTRAP_TOKEN).await
    }

    /// Replaces BootstrapTokens (sealed now).
    pub async fn replace_bootstrap_tokens(&self, rows: Vec<(String, Vec<u8>)>) -> StoreResult<()> {
        self.replace_values(SealedColumn::BOOTSTRAP_TOKEN, rows).await
    }

    /// `(key, value)` of the rows whose `col` holds a value not yet sealed.
    async fn clear_values(&self, col: SealedColumn) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.0
            .run(move |conn| {
                let sql = format!(
                    "SELECT {key} AS k, {value} AS v FROM {table} WHERE {value} IS NOT NULL AND substr({value}, 1, {n}) <> $1",
                    key = col.key,
                    value = col.value,
                    table = col.table,
                    n = TAG.len()
                );
                let rows: Vec<KeyValue> = diesel::sql_query(sql).bind::<Binary, _>(TAG.to_vec()).load(conn)?;
                Ok(rows.into_iter().map(|r| (r.k, r.v)).collect())
            })
            .await
    }

    /// Writes `rows` (key, sealed value) into `col`.
    async fn replace_values(&self, col: SealedColumn, rows: Vec<(String, Vec<u8>)>) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let sql = format!("UPDATE {table} SET {value} = $1 WHERE {key} = $2", table = col.table, value = col.value, key = col.key);
                    for (k, v) in &rows {
                        diesel::sql_query(&sql).bind::<Binary, _>(v).bind::<diesel::sql_types::Text, _>(k).execute(conn)?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Bodies in clear of commands whose CommandUUID starts with one of `prefixes` or whose
    /// RequestType is one of `types`.
    pub async fn clear_secret_commands(&self, prefixes: Vec<String>, types: Vec<String>) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.0
            .run(move |conn| {
                let mut out: Vec<(String, Vec<u8>)> = commands::table
                    .filter(commands::request_type.eq_any(&types))
                    .filter(not_sealed!("body"))
                    .select((commands::uuid, commands::body))
                    .load(conn)?;
                for p in &prefixes {
                    out.extend(
                        commands::table
                            .filter(commands::uuid.like(format!("{p}%")))
                            .filter(not_sealed!("body"))
                            .select((commands::uuid, commands::body))
                            .load::<(String, Vec<u8>)>(conn)?,
                    );
                }
                Ok(out)
            })
            .await
    }

    /// Replaces command bodies (sealed now).
    pub async fn replace_command_bodies(&self, rows: Vec<(String, Vec<u8>)>) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    for (uuid, body) in &rows {
                        diesel::update(commands::table.find(uuid)).set(commands::body.eq(body)).execute(conn)?;
                    }
                    Ok(())
                })
            })
            .await
    }
}
