//! Storage: one `Store` API over two diesel backends (SQLite and PostgreSQL).
//!
//! Queries are written once against [`conn::DbConn`], a diesel `MultiConnection`; the few places
//! where SQL must differ (queue claiming with `FOR UPDATE SKIP LOCKED`, SQLite's immediate
//! transactions) match on the connection variant. Diesel is blocking, so every call runs on
//! tokio's blocking pool through [`Store::run`]. This module knows nothing of HTTP.

pub mod apps;
pub mod assignments;
pub mod at_rest;
pub mod binding;
pub mod conn;
pub mod devices;
pub mod enroll;
pub mod library;
pub mod models;
pub mod push;
pub mod retention;
pub mod scep;
pub mod schema;
pub mod tokens;
mod tx;

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use conn::{Backend, DbConn, DbPool};
pub(crate) use tx::AfterCommit;
pub use tx::Tx;

/// Migrations for PostgreSQL, embedded in the binary.
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Migrations for SQLite, embedded in the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered with an error.
    #[error("database error: {0}")]
    Db(diesel::result::Error),
    /// No connection could be had from the pool.
    #[error("database unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// No connection could be had for a batch this request was part of.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The blocking task running the query died.
    #[error("database task failed: {0}")]
    Task(String),
    /// The device or enrollment is not known (never authenticated).
    #[error("unknown enrollment {0}")]
    UnknownEnrollment(String),
    /// The certificate is already bound to another device.
    #[error("certificate already bound to another device ({0})")]
    CertBoundElsewhere(String),
    /// The certificate may not speak for the device ([`crate::identity::binding`]).
    #[error("certificate refused for device {device}: {reason}")]
    CertRefused {
        /// The device the Authenticate named.
        device: String,
        /// Why.
        reason: crate::identity::binding::Refusal,
    },
    /// The request's certificate is not bound to the device it claims to be.
    #[error("certificate is not bound to device {device}")]
    NotBound {
        /// The device the request claims to be.
        device: String,
        /// The device the certificate is bound to instead, if any.
        bound_to: Option<String>,
    },
    /// A command result names a command that was never queued for this enrollment.
    #[error("command {command} is not queued for enrollment {enrollment}")]
    UnknownCommand {
        /// The enrollment that reported the result.
        enrollment: String,
        /// The CommandUUID it reported.
        command: String,
    },
    /// A push certificate for a new topic while another topic's certificate exists.
    #[error("the certificate's topic {new} differs from the stored topic(s) {existing:?}: devices enrolled with the old topic could no longer be woken; import it with force to keep both")]
    TopicChange {
        /// Topic of the new certificate.
        new: String,
        /// Topics already stored.
        existing: Vec<String>,
    },
    /// A SCEP challenge could not be used (unknown, used, expired).
    #[error("{0}")]
    Challenge(String),
    /// A command with this UUID already exists.
    #[error("command {0} already exists")]
    DuplicateCommand(String),
    /// A named thing (profile, group) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change collides with what is stored (a name or identifier in use).
    #[error("{0}")]
    Conflict(String),
}

impl From<diesel::result::Error> for StoreError {
    /// A lost or refused connection, or a SQLite database locked past the busy timeout, is the
    /// database being unavailable (503, try again), not a failed statement (500).
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &e {
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => StoreError::Unavailable(e.to_string()),
            E::DatabaseError(K::Unknown, info) if info.message().contains("database is locked") || info.message().contains("database is busy") => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Db(e),
        }
    }
}

/// Result alias for the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// The storage handle: a pool plus which backend it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: DbPool,
    backend: Backend,
    /// One permit per pooled connection: callers wait here (asynchronously, in order) rather
    /// than on the pool inside a blocking thread, so the blocking pool holds no more threads
    /// than there are connections to use.
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// How many connections the pool holds.
    size: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

impl Store {
    /// Connects to `url` (a `postgres://` URL or a SQLite path) with a pool of `pool_size`.
    pub fn connect(url: &str, pool_size: u32) -> StoreResult<Store> {
        let backend = Backend::from_url(url);
        // SQLite allows one writer at a time; a small pool avoids lock convoys.
        let size = match backend {
            Backend::Sqlite => pool_size.clamp(1, 8),
            Backend::Postgres => pool_size.max(1),
        };
        let pool = conn::build_pool(url, size)?;
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(size as usize));
        Ok(Store { pool, backend, slots, size: size as usize })
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many connections the pool holds.
    pub fn pool_size(&self) -> usize {
        self.size
    }

    /// The pool, for work that manages its own connection (the queue's batches).
    pub(crate) fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs pending migrations for this backend; returns how many were applied.
    pub fn migrate_blocking(&self) -> StoreResult<usize> {
        let mut conn = self.pool.get()?;
        let done = match &mut *conn {
            DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        };
        done.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Runs migrations from async code.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.migrate_blocking()).await.map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Waits (asynchronously, in order) until one of the pool's connections is free for the
    /// holder of the returned permit.
    pub(crate) async fn slot(&self) -> StoreResult<tokio::sync::OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.map_err(|e| StoreError::Task(e.to_string()))
    }

    /// Runs `f` with a pooled connection on the blocking pool, once a connection is free.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> StoreResult<T> + Send + 'static,
    {
        let slot = self.slot().await?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Current time as stored in the database (UTC, no zone).
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Runs `f` in a write transaction. On SQLite the transaction is `BEGIN IMMEDIATE`, so that two
/// writers queue on the busy timeout instead of failing when a read lock cannot be upgraded; on
/// PostgreSQL it is an ordinary diesel transaction. The SQLite transaction is opened through
/// diesel's transaction manager so nested transactions (diesel uses one for some batch inserts)
/// become savepoints.
pub fn write_tx<T, F>(conn: &mut DbConn, f: F) -> StoreResult<T>
where
    F: FnOnce(&mut DbConn) -> StoreResult<T>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::Connection;
    let DbConn::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConn::Sqlite(inner) = conn else {
        return Err(StoreError::Task("connection changed backend inside a transaction".into()));
    };
    match result {
        Ok(v) => match AnsiTransactionManager::commit_transaction(inner) {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(inner);
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(inner);
            Err(e)
        }
    }
}

/// An always-true filter that keeps a query out of diesel's prepared-statement cache, so
/// PostgreSQL plans it on every call for the list it is given and the tables as they are then.
/// Used on queries over id lists (`= ANY($1)`): a cached statement's generic plan is fixed once
/// per pooled connection, often while the tables are still nearly empty, and keeps a
/// sequential scan for as long as the statistics are not refreshed (never, with autovacuum
/// off). Planning such a query costs far less than one scan of a table of thousands of rows.
pub(crate) fn planned_per_call() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("TRUE")
}

#[cfg(test)]
mod tests {
    /// Both backends must carry the same migrations under the same names.
    #[test]
    fn migration_dirs_match() {
        let names = |backend: &str| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
            let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            v.sort();
            v
        };
        let pg = names("postgres");
        assert!(!pg.is_empty());
        assert_eq!(pg, names("sqlite"));
    }

    #[test]
    fn sqlite_database_is_in_wal_mode_with_foreign_keys() {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = super::Store::connect(path.to_str().unwrap(), 4).unwrap();
        let dirs = std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite")).unwrap().count();
        assert_eq!(store.migrate_blocking().unwrap(), dirs);
        let mut c = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        let m: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(&mut c).unwrap();
        assert_eq!(m.journal_mode, "wal");
        // Pooled connections enforce foreign keys: a queue row for an unknown enrollment fails.
        let mut pooled = store.pool.get().unwrap();
        let r = diesel::sql_query(
            "INSERT INTO enrollment_queue (enrollment_id, command_uuid, status, priority, not_now_count, deliveries, created_at) \
             VALUES ('nobody', 'none', 'queued', 0, 0, 0, '2026-01-01 00:00:00')",
        )
        .execute(&mut *pooled);
        assert!(r.is_err());
    }

    #[test]
    fn backend_from_url() {
        use super::Backend;
        assert_eq!(Backend::from_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("sqlite://mdm.db"), Backend::Sqlite);
        assert_eq!(super::conn::sqlite_path("sqlite://mdm.db"), "mdm.db");
        assert_eq!(Backend::from_url("/var/lib/mdm/mdm.db"), Backend::Sqlite);
    }
}
