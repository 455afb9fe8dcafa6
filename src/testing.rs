//! Fresh, isolated databases for tests: a new SQLite file, or a new PostgreSQL database on the
//! server named by `FERROBASE_TEST_DATABASE_URL`. Used by unit and integration tests alike.

use sea_orm::{ConnectionTrait, Database};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for tests, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("FERROBASE_TEST_DATABASE_URL").ok().filter(|s| !s.is_empty())
}

/// The backends a test should run on: SQLite always, PostgreSQL when configured (otherwise a
/// line on stderr says it was skipped).
pub fn backends() -> Vec<TestBackend> {
    let mut v = vec![TestBackend::Sqlite];
    if postgres_url().is_some() {
        v.push(TestBackend::Postgres);
    } else {
        eprintln!("FERROBASE_TEST_DATABASE_URL is not set: skipped PostgreSQL, ran SQLite only");
    }
    v
}

/// A database that exists for one test. The SQLite file lives in `dir`; a PostgreSQL database
/// is created with a unique name and dropped by [`TestDb::drop_database`] (best effort).
pub struct TestDb {
    pub url: String,
    pub backend: TestBackend,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn create(backend: TestBackend, dir: &std::path::Path) -> anyhow::Result<TestDb> {
        match backend {
            TestBackend::Sqlite => {
                Ok(TestDb { url: format!("sqlite://{}", dir.join("test.db").display()), backend, pg_name: None })
            }
            TestBackend::Postgres => {
                let base = postgres_url().ok_or_else(|| anyhow::anyhow!("no PostgreSQL configured"))?;
                let name = format!("ferrobase_t_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(base.as_str()).await?;
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
                admin.close().await?;
                Ok(TestDb { url: replace_db_name(&base, &name), backend, pg_name: Some(name) })
            }
        }
    }

    /// Drops the PostgreSQL database (no-op for SQLite, whose file goes with its temp dir).
    pub async fn drop_database(&self) {
        if let (Some(name), Some(base)) = (&self.pg_name, postgres_url())
            && let Ok(admin) = Database::connect(base.as_str()).await
        {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
            let _ = admin.close().await;
        }
    }
}

/// `postgres://u@h:5432/test?x=y` → `postgres://u@h:5432/NAME?x=y`.
fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[after_scheme..].find('/').map(|i| i + after_scheme);
    let mut out = match path_start {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => format!("{base}/{name}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::replace_db_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(super::replace_db_name("postgres://h/test?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
    }
}
