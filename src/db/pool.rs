//! The connections compiled statements run on: a small pool of our own over sqlx connections.
//!
//! sqlx's pool pings a connection when it is returned (and, by default, when it is checked
//! out): two extra round trips per statement. A compiled root field is one statement, so here
//! a statement is exactly one round trip. A connection that failed below the SQL level (I/O, a
//! protocol error) is closed instead of reused; one that a cancelled request left mid-statement
//! is drained by sqlx before its next statement.

use super::ConnectOptions;
use sea_orm::sqlx::{self, AssertSqlSafe, Connection, Row, postgres::PgConnection, sqlite::SqliteConnection};
use sea_orm::{DbBackend, DbErr, RuntimeErr};
use sea_query_sqlx::SqlxValues;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A pool of at most `size` connections, opened on demand (one at start).
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    opts: ConnectOptions,
    idle: std::sync::Mutex<Vec<Conn>>,
    permits: tokio::sync::Semaphore,
    size: u32,
    statements: Arc<AtomicU64>,
}

enum Conn {
    Postgres(Box<PgConnection>),
    Sqlite(Box<SqliteConnection>),
}

impl Pool {
    /// Opens the pool and its first connection (so the first request does not wait for one).
    pub async fn open(opts: ConnectOptions, size: u32, statements: Arc<AtomicU64>) -> Result<Pool, DbErr> {
        let first = connect(&opts).await?;
        let inner = Inner {
            opts,
            idle: std::sync::Mutex::new(vec![first]),
            permits: tokio::sync::Semaphore::new(size as usize),
            size,
            statements,
        };
        Ok(Pool { inner: Arc::new(inner) })
    }

    pub fn backend(&self) -> DbBackend {
        self.inner.opts.backend()
    }

    /// The most connections the pool opens.
    pub fn size(&self) -> u32 {
        self.inner.size
    }

    /// A connection for this task's statements; back to the pool when dropped.
    pub async fn acquire(&self) -> Result<Lease<'_>, DbErr> {
        let permit = self.inner.permits.acquire().await.map_err(|_| DbErr::Custom("the pool is closed".into()))?;
        let idle = self.inner.idle.lock().expect("pool lock").pop();
        let conn = match idle {
            Some(c) => c,
            None => connect(&self.inner.opts).await?,
        };
        Ok(Lease { inner: &self.inner, conn: Some(conn), _permit: permit, in_transaction: false })
    }

    /// Runs one statement on a connection of its own and returns its rows.
    pub async fn fetch_rows(&self, sql: &Arc<str>, values: sea_orm::sea_query::Values) -> Result<Rows, DbErr> {
        self.acquire().await?.fetch_rows(sql, values).await
    }

    /// Runs one statement on a connection of its own and returns the first column of its first
    /// row as text (`None` when it returns no row).
    pub async fn fetch_text(
        &self,
        sql: &Arc<str>,
        values: sea_orm::sea_query::Values,
    ) -> Result<Option<String>, DbErr> {
        self.acquire().await?.fetch_text(sql, values).await
    }
}

/// The rows a statement returned.
pub enum Rows {
    Postgres(Vec<sea_orm::sqlx::postgres::PgRow>),
    Sqlite(Vec<sea_orm::sqlx::sqlite::SqliteRow>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Postgres(r) => r.len(),
            Rows::Sqlite(r) => r.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A connection checked out of the [`Pool`].
pub struct Lease<'p> {
    inner: &'p Inner,
    conn: Option<Conn>,
    _permit: tokio::sync::SemaphorePermit<'p>,
    /// Inside `BEGIN` … `COMMIT`/`ROLLBACK`: a lease dropped now (a cancelled request) closes
    /// its connection rather than return it with a transaction open.
    in_transaction: bool,
}

impl Lease<'_> {
    /// Runs one statement (one round trip) and returns the first column of its first row as
    /// text; `None` when it returns no row.
    pub async fn fetch_text(
        &mut self,
        sql: &Arc<str>,
        values: sea_orm::sea_query::Values,
    ) -> Result<Option<String>, DbErr> {
        self.inner.statements.fetch_add(1, Ordering::Relaxed);
        let sql = AssertSqlSafe(sql.clone());
        let result = match self.conn.as_mut().expect("a lease holds a connection") {
            Conn::Postgres(c) => match sqlx::query_with(sql, SqlxValues(values)).fetch_optional(c.as_mut()).await {
                Ok(row) => row.map(|r| r.try_get::<Option<String>, _>(0)).transpose(),
                Err(e) => Err(e),
            },
            Conn::Sqlite(c) => match sqlx::query_with(sql, SqlxValues(values)).fetch_optional(c.as_mut()).await {
                Ok(row) => row.map(|r| r.try_get::<Option<String>, _>(0)).transpose(),
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(text) => Ok(text.flatten()),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Runs one statement (one round trip) and returns its rows.
    pub async fn fetch_rows(&mut self, sql: &Arc<str>, values: sea_orm::sea_query::Values) -> Result<Rows, DbErr> {
        self.inner.statements.fetch_add(1, Ordering::Relaxed);
        let sql = AssertSqlSafe(sql.clone());
        let result = match self.conn.as_mut().expect("a lease holds a connection") {
            Conn::Postgres(c) => {
                sqlx::query_with(sql, SqlxValues(values)).fetch_all(c.as_mut()).await.map(Rows::Postgres)
            }
            Conn::Sqlite(c) => sqlx::query_with(sql, SqlxValues(values)).fetch_all(c.as_mut()).await.map(Rows::Sqlite),
        };
        result.map_err(|e| self.failed(e))
    }

    /// Starts a write transaction (on SQLite, taking the write lock at once).
    pub async fn begin(&mut self) -> Result<(), DbErr> {
        let sql = if self.inner.opts.backend() == DbBackend::Sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        self.execute(sql).await?;
        self.in_transaction = true;
        Ok(())
    }

    pub async fn commit(&mut self) -> Result<(), DbErr> {
        self.execute("COMMIT").await?;
        self.in_transaction = false;
        Ok(())
    }

    pub async fn rollback(&mut self) -> Result<(), DbErr> {
        self.execute("ROLLBACK").await?;
        self.in_transaction = false;
        Ok(())
    }

    /// Runs a statement without parameters or results (`SAVEPOINT x`, ...).
    pub async fn execute(&mut self, sql: &'static str) -> Result<(), DbErr> {
        self.inner.statements.fetch_add(1, Ordering::Relaxed);
        let result = match self.conn.as_mut().expect("a lease holds a connection") {
            Conn::Postgres(c) => sqlx::raw_sql(sql).execute(c.as_mut()).await.map(|_| ()),
            Conn::Sqlite(c) => sqlx::raw_sql(sql).execute(c.as_mut()).await.map(|_| ()),
        };
        result.map_err(|e| self.failed(e))
    }

    /// A database error leaves the connection usable; anything else (I/O, protocol) closes it.
    fn failed(&mut self, e: sqlx::Error) -> DbErr {
        if !matches!(e, sqlx::Error::Database(_)) {
            self.conn = None;
        }
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if self.in_transaction {
            return; // the connection closes
        }
        if let Some(conn) = self.conn.take() {
            self.inner.idle.lock().expect("pool lock").push(conn);
        }
    }
}

async fn connect(opts: &ConnectOptions) -> Result<Conn, DbErr> {
    let err = |e: sqlx::Error| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)));
    Ok(match opts {
        ConnectOptions::Postgres(o) => Conn::Postgres(Box::new(PgConnection::connect_with(o).await.map_err(err)?)),
        ConnectOptions::Sqlite(o) => Conn::Sqlite(Box::new(SqliteConnection::connect_with(o).await.map_err(err)?)),
    })
}
