//! Database connections, chosen by URL (SQLite or PostgreSQL): one set of connection options,
//! two pools over them.
//!
//! - [`pool::Pool`] runs the statements the query compiler makes (every generated query and
//!   mutation): one round trip per statement, no liveness pings.
//! - A sea-orm [`DatabaseConnection`] serves everything else (migrations, sign-in, sessions,
//!   admin operations), where sea-orm's transactions and entities earn their keep.

pub mod pool;

use anyhow::Context;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode, SqlxPostgresConnector,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use std::str::FromStr;
use std::time::Duration;

pub use pool::Pool;

/// How to open a connection, for either database.
#[derive(Debug, Clone)]
pub enum ConnectOptions {
    Postgres(PgConnectOptions),
    Sqlite(SqliteConnectOptions),
}

impl ConnectOptions {
    /// Options for `url`. `sqlite://path` creates the file (and its folder) when missing and
    /// runs in WAL mode, so readers do not block the writer. A `postgres://` URL without an
    /// `sslmode` to a loopback host (or a Unix socket) does not negotiate TLS: on the same
    /// machine it only costs throughput. Elsewhere sqlx's default applies (`prefer`: TLS when
    /// the server offers it); add `?sslmode=require` (or `verify-full`) to insist on it.
    pub fn from_url(url: &str) -> anyhow::Result<ConnectOptions> {
        if url.starts_with("sqlite:") {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default();
            if path != ":memory:"
                && let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create the folder {}", parent.display()))?;
            }
            let opts = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("invalid SQLite URL {url}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .statement_cache_capacity(512);
            return Ok(ConnectOptions::Sqlite(opts));
        }
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = PgConnectOptions::from_str(url)
                .with_context(|| {
                    format!("invalid PostgreSQL URL (postgres://user:password@host:port/database): {url}")
                })?
                .statement_cache_capacity(512);
            if !url.contains("sslmode=") && is_loopback(opts.get_host()) {
                opts = opts.ssl_mode(PgSslMode::Disable);
            }
            return Ok(ConnectOptions::Postgres(opts));
        }
        anyhow::bail!("unsupported database URL {url}: use sqlite://path or postgres://user@host/database")
    }

    pub fn backend(&self) -> DbBackend {
        match self {
            ConnectOptions::Postgres(_) => DbBackend::Postgres,
            ConnectOptions::Sqlite(_) => DbBackend::Sqlite,
        }
    }
}

/// A host name that never leaves the machine: `localhost`, a loopback address, or a Unix
/// socket directory.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host.trim_matches(|c| c == '[' || c == ']').parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The pool size when none is configured: on PostgreSQL two connections per core (at least 4),
/// which keeps every core busy while some connections wait on the network; on SQLite one per
/// core (at least 2): its connections share one file and the writer lock.
pub fn default_pool_size(backend: DbBackend) -> u32 {
    let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
    match backend {
        DbBackend::Postgres => (2 * cores).clamp(4, 64),
        _ => cores.clamp(2, 16),
    }
}

/// Both pools over one database.
pub struct Database {
    /// For migrations, authentication and administration.
    pub orm: DatabaseConnection,
    /// For compiled statements.
    pub pool: Pool,
}

/// Opens both pools for `url`: at most `pool_size` connections each (`None`: the
/// [`default_pool_size`]). Statements run through either are counted in `statements`.
pub async fn open(
    url: &str,
    pool_size: Option<u32>,
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> anyhow::Result<Database> {
    let opts = ConnectOptions::from_url(url)?;
    let size = pool_size.unwrap_or_else(|| default_pool_size(opts.backend())).max(1);
    let mut orm = orm_pool(&opts, size).await?;
    let counter = statements.clone();
    orm.set_metric_callback(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    let pool = Pool::open(opts, size, statements).await.context("cannot connect to the database")?;
    Ok(Database { orm, pool })
}

/// Opens a sea-orm connection pool for `url` (tools, tests and benchmarks that need no
/// compiled statements).
/// One connection for a background worker: its polling is not counted as requests' statements
/// (`ferrobase_sql_statements_total`) and does not wait for the requests' pool.
pub async fn background(url: &str) -> anyhow::Result<DatabaseConnection> {
    orm_pool(&ConnectOptions::from_url(url)?, 1).await
}

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let opts = ConnectOptions::from_url(url)?;
    let size = default_pool_size(opts.backend());
    orm_pool(&opts, size).await
}

async fn orm_pool(opts: &ConnectOptions, size: u32) -> anyhow::Result<DatabaseConnection> {
    let timeout = Duration::from_secs(10);
    Ok(match opts {
        ConnectOptions::Postgres(o) => SqlxPostgresConnector::from_sqlx_postgres_pool(
            PgPoolOptions::new()
                .max_connections(size)
                .min_connections(1)
                .acquire_timeout(timeout)
                .test_before_acquire(false)
                .connect_with(o.clone())
                .await
                .context("cannot connect to the database")?,
        ),
        ConnectOptions::Sqlite(o) => SqlxSqliteConnector::from_sqlx_sqlite_pool(
            SqlitePoolOptions::new()
                .max_connections(size)
                .min_connections(1)
                .acquire_timeout(timeout)
                .test_before_acquire(false)
                .connect_with(o.clone())
                .await
                .context("cannot connect to the database")?,
        ),
    })
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for other writers
/// instead of failing with `SQLITE_BUSY` when it upgrades.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_postgres_urls_skip_tls_unless_asked() {
        let mode = |url: &str| match ConnectOptions::from_url(url).unwrap() {
            ConnectOptions::Postgres(o) => format!("{:?}", o.get_ssl_mode()),
            _ => unreachable!(),
        };
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@localhost/db"), "Disable");
        assert_eq!(mode("postgres://u@[::1]:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@127.0.0.1/db?sslmode=require"), "Require");
        assert_eq!(mode("postgres://u@db.example.com/db"), "Prefer");
    }
}
