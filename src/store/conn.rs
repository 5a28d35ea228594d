//! The database connection: one diesel `MultiConnection` over PostgreSQL and SQLite, an r2d2 pool
//! of it, and the per-connection SQLite settings (WAL, foreign keys, busy timeout).

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

/// A connection to either backend; queries written once against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL (production, several replicas on one database).
    Pg(PgConnection),
    /// SQLite (embedded default, one server process).
    Sqlite(SqliteConnection),
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// `postgres://` or `postgresql://` URLs.
    Postgres,
    /// `sqlite://path`, `file:path` or a bare path.
    Sqlite,
}

impl Backend {
    /// Chooses the backend from the URL scheme; anything that is not PostgreSQL is a SQLite path.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Turns `sqlite://path` into the path diesel's SQLite connection expects.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// Opens connections for the pool. Written by hand (instead of diesel's `ConnectionManager`)
/// so the backend is chosen from the URL scheme, never by trying one backend after the other,
/// and so each new SQLite connection gets its pragmas.
#[derive(Debug, Clone)]
pub struct Manager {
    backend: Backend,
    target: String,
}

impl Manager {
    /// A manager for `url` (see [`Backend::from_url`]).
    pub fn new(url: &str) -> Manager {
        let backend = Backend::from_url(url);
        let target = match backend {
            Backend::Postgres => url.to_string(),
            Backend::Sqlite => sqlite_path(url).to_string(),
        };
        Manager { backend, target }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.target).map_err(diesel::r2d2::Error::ConnectionError)?;
                // Every query here is a keyed lookup whose best plan does not depend on the
                // parameter values; re-planning each prepared statement per execution (custom
                // plans) cost more CPU than running it.
                c.batch_execute("SET plan_cache_mode = force_generic_plan").map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Pg(c))
            }
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.target).map_err(diesel::r2d2::Error::ConnectionError)?;
                c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// The pool type used everywhere.
pub type DbPool = Pool<Manager>;

/// Builds the connection pool for `url` with at most `size` connections.
pub fn build_pool(url: &str, size: u32) -> Result<DbPool, diesel::r2d2::PoolError> {
    if Backend::from_url(url) == Backend::Sqlite {
        // WAL is a property of the database file: switch it once here, before the pool opens
        // its connections in parallel (switching takes an exclusive lock).
        if let Ok(mut c) = SqliteConnection::establish(sqlite_path(url)) {
            if let Err(e) = c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;") {
                tracing::warn!(error = %e, "could not switch SQLite to WAL mode");
            }
        }
    }
    Pool::builder()
        .max_size(size)
        .connection_timeout(std::time::Duration::from_secs(10))
        // A ping before every checkout doubles the round trips of short queries; broken
        // connections are detected by `has_broken` and replaced instead.
        .test_on_check_out(false)
        .build(Manager::new(url))
}
