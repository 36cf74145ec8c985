//! The database behind the ledger: an SQLite file by default, PostgreSQL when the URL says `postgres://`.
//!
//! One set of business logic runs on both through [`sqlx::AnyPool`]. Every query uses `$1, $2, ...`
//! placeholders, which both PostgreSQL and sqlx's SQLite driver (`$NNN` = the NNN-th argument) accept,
//! and only types both drivers map to the same Rust types (`BIGINT`/`INTEGER` → `i64`, `TEXT` → `String`).
//!
//! Concurrency: writes run in [`Db::begin_write`] transactions. On PostgreSQL these are ordinary
//! READ COMMITTED transactions whose conditional `UPDATE`s lock the account row. On SQLite the pool holds a
//! single connection (so this process never meets `SQLITE_BUSY`) and write transactions start with
//! `BEGIN IMMEDIATE` plus a 10 s `busy_timeout`, so another process on the same file (an operator's check, a
//! second instance) waits for the write lock instead of failing half-way.

use std::borrow::Cow;
use std::time::Duration;

use futures::future::BoxFuture;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Connection as _, Executor as _, SqlStr, Transaction};

/// A PostgreSQL connection idle this long is pinged before it is used again.
const IDLE_PING_AFTER: Duration = Duration::from_secs(5);

/// Errors opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("unsupported database URL scheme (use sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    /// Connecting failed.
    #[error("connecting to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// Reading the database failed.
    #[error("reading the database: {0}")]
    Read(#[source] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("applying database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (one writer at a time).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Detects the backend from a database URL.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            // Never echo the whole URL: it may carry a password.
            let scheme = url.split(':').next().unwrap_or_default().to_string();
            Err(Error::UnsupportedUrl(scheme))
        }
    }
}

/// A migration compiled into the binary: version, description, SQL.
type EmbeddedMigration = (i64, &'static str, &'static str);

/// The SQLite schema, from `migrations/sqlite/`.
const SQLITE_MIGRATIONS: Embedded = Embedded(&[
    (
        1,
        "ledger",
        include_str!("../migrations/sqlite/0001_ledger.sql"),
    ),
    (
        2,
        "api keys",
        include_str!("../migrations/sqlite/0002_api_keys.sql"),
    ),
    (
        3,
        "holds by account time",
        include_str!("../migrations/sqlite/0003_holds_by_account_time.sql"),
    ),
]);

/// The PostgreSQL schema, from `migrations/postgres/`.
const POSTGRES_MIGRATIONS: Embedded = Embedded(&[
    (
        1,
        "ledger",
        include_str!("../migrations/postgres/0001_ledger.sql"),
    ),
    (
        2,
        "api keys",
        include_str!("../migrations/postgres/0002_api_keys.sql"),
    ),
    (
        3,
        "holds by account time",
        include_str!("../migrations/postgres/0003_holds_by_account_time.sql"),
    ),
]);

/// Migrations embedded with `include_str!`, applied by sqlx's [`Migrator`] exactly as `sqlx::migrate!`
/// would apply the files (same version, description and checksum, so databases migrated before are
/// recognised). Embedding them this way spares sqlx's `macros` feature, whose proc-macro crate builds a
/// second copy of SQLite for the host. A new migration is a new file and a new line here.
#[derive(Debug, Clone, Copy)]
struct Embedded(&'static [EmbeddedMigration]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        SqlStr::from_static(sql),
                        sql.starts_with("-- no-transaction"),
                    )
                })
                .collect())
        })
    }
}

/// A migrated connection pool.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects to `url` with at most `max_connections` connections (PostgreSQL; SQLite always uses one)
    /// and applies the embedded migrations of that backend.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, Error> {
        let db = Self::open(url, max_connections).await?;
        let migrations = match db.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        Migrator::new(migrations).await?.run(&db.pool).await?;
        tracing::info!(backend = ?db.backend, "database ready (migrations applied)");
        Ok(db)
    }

    /// Connects like [`connect`](Self::connect) but leaves the schema alone (for `billing check`).
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, Error> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(1)
                    // The one connection is a file handle: nothing to reap when idle or to recycle,
                    // and without either timeout sqlx spawns no maintenance task. (That task's loop
                    // over `num_idle` spun for ever in sqlx 0.9.0 when the counter wrapped below zero,
                    // sqlx issue 3645: a test runtime here never shut down. 0.9.1 fixes it, for the
                    // PostgreSQL pools too.)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers in other processes run beside the writer.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            // Keep in step with SQLITE_BUSY_TIMEOUT.
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            Ok(())
                        })
                    })
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(max_connections.max(1))
                // sqlx pings a connection when it goes back to the pool; pinging it again on every
                // acquire would add a round trip to each one-statement hot path. Only connections that
                // sat idle (the ones a restarted server or a firewall may have cut) are pinged.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= IDLE_PING_AFTER {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                }),
        };
        let pool = options
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(Error::Connect)?;
        Ok(Self { pool, backend })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction that will write: `BEGIN IMMEDIATE` on SQLite (take the write lock now, not
    /// at the first write, so two writers never deadlock upgrading), a plain `BEGIN` on PostgreSQL.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Closes every connection (waits for them to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
