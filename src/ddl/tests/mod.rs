//! Tests of the DDL stage, on every backend of [`crate::testing::backends`]. The model IR is
//! built by hand (see [`ir`]) so the tests do not depend on the SDL parser.

mod changes;
mod create;
mod ir;
mod relations;
mod sdl;

use super::{Applied, Plan, apply, catalog, history, migrate_system, plan};
use crate::model::Schema;
use crate::testing::{TestBackend, TestDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// A migrated test database: system tables in place, no model tables yet.
pub struct Env {
    pub db: DatabaseConnection,
    pub test_db: TestDb,
    _dir: tempfile::TempDir,
}

impl Env {
    pub async fn new(backend: TestBackend) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let test_db = TestDb::create(backend, dir.path()).await.expect("test database");
        let db = crate::db::connect(&test_db.url).await.expect("connect");
        migrate_system(&db).await.expect("system migrations");
        Env { db, test_db, _dir: dir }
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub fn pg(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    pub async fn finish(self) {
        let _ = self.db.close().await;
        self.test_db.drop_database().await;
    }

    pub async fn plan(&self, schema: &Schema) -> Plan {
        plan(&self.db, schema).await.expect("plan")
    }

    /// Plans and applies, with or without `--allow-destructive`; panics on failure.
    pub async fn migrate(&self, schema: &Schema, allow: bool) -> (Plan, Applied) {
        let plan = self.plan(schema).await;
        let applied =
            apply(&self.db, schema, &plan, allow).await.unwrap_or_else(|e| panic!("apply: {e}\nplan:\n{plan}"));
        (plan, applied)
    }

    pub async fn exec(&self, sql: &str) {
        self.db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn try_exec(&self, sql: &str) -> Result<(), sea_orm::DbErr> {
        self.db.execute_unprepared(sql).await.map(|_| ())
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.backend(), format!("SELECT COUNT(*) FROM \"{table}\"")))
            .await
            .expect("count")
            .expect("a row");
        row.try_get_by_index(0).expect("count value")
    }

    /// The first column of the first row, as text (`CAST(... AS TEXT)` in the query if needed).
    pub async fn text(&self, sql: &str) -> Option<String> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.backend(), sql.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))?;
        row.try_get_by_index(0).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn tables(&self) -> std::collections::BTreeSet<String> {
        catalog::tables(&self.db).await.expect("tables")
    }

    pub async fn columns(&self, table: &str) -> Vec<catalog::LiveColumn> {
        catalog::columns(&self.db, table).await.expect("columns")
    }

    pub async fn column(&self, table: &str, column: &str) -> Option<catalog::LiveColumn> {
        self.columns(table).await.into_iter().find(|c| c.name == column)
    }

    pub async fn indexes(&self, table: &str) -> Vec<catalog::LiveIndex> {
        catalog::indexes(&self.db, table).await.expect("indexes")
    }

    pub async fn history_len(&self) -> usize {
        history::rows(&self.db).await.expect("history").len()
    }

    /// The SQL type name a column of `ty` must have on this backend.
    pub fn expect_type(&self, ty: &str) -> String {
        let pg = self.pg();
        match ty {
            "float" if pg => "double precision",
            "float" => "real",
            "datetime" if pg => "timestamp with time zone",
            "datetime" => "text",
            "json" if pg => "jsonb",
            "json" => "text",
            other => other,
        }
        .to_string()
    }

    /// A timestamp literal for raw inserts.
    pub fn ts(&self) -> &'static str {
        "'2024-01-02T03:04:05.000000Z'"
    }
}

/// Every configured backend, one fresh database each.
pub async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for backend in crate::testing::backends() {
        out.push(Env::new(backend).await);
    }
    out
}

#[test]
fn plan_display_marks_changes() {
    use super::{Change, Risk};
    let plan = Plan {
        changes: vec![
            Change { risk: Risk::Safe, description: "+ create table posts".into(), statements: vec![] },
            Change {
                risk: Risk::Destructive,
                description: "! drop column posts.body (destructive)".into(),
                statements: vec![],
            },
        ],
        sdl_hash: "h".into(),
        backend: DbBackend::Sqlite,
        desired: super::PhysicalSchema::empty(),
        base: None,
    };
    assert_eq!(plan.to_string(), "+ create table posts\n! drop column posts.body (destructive)");
    assert!(plan.needs_allow_destructive());
    let refused = super::MigrateError::NeedsAllowDestructive(plan).to_string();
    assert!(refused.contains("! drop column posts.body"), "{refused}");
    assert!(!refused.contains("create table"), "{refused}");
    assert!(refused.contains("`ferrobase migrate --allow-destructive`"), "{refused}");
    let empty = Plan {
        changes: vec![],
        sdl_hash: "h".into(),
        backend: DbBackend::Sqlite,
        desired: super::PhysicalSchema::empty(),
        base: None,
    };
    assert_eq!(empty.to_string(), "no changes");
    assert!(empty.is_empty() && !empty.needs_allow_destructive());
}
