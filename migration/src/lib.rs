//! System tables of ferrobase (SPEC section 2): users, sessions and the history of applied
//! model-table migrations, as sea-orm-migration migrations.
//!
//! Column types follow one contract shared with the rest of the server (see [`types`]):
//! on SQLite timestamps are TEXT in the fixed format `%Y-%m-%dT%H:%M:%S%.6fZ`, booleans are
//! integers 0/1 and JSON is TEXT; on PostgreSQL they are `timestamptz`, `boolean` and `jsonb`.

pub use sea_orm_migration;

use sea_orm_migration::prelude::*;

mod m0001_users_sessions;
mod m0002_schema_history;
mod m0003_claims_auth_tokens;
mod m0004_users_created_at;
mod m0005_jobs;
mod m0006_change_payloads;
mod m0007_change_log;
pub mod types;

/// Table recording each applied migration of the model tables (see `ferrobase::ddl`).
pub const SCHEMA_HISTORY_TABLE: &str = "ferrobase_schema_migrations";

/// Table in which sea-orm-migration records which system migrations ran.
pub const SYSTEM_MIGRATIONS_TABLE: &str = "ferrobase_system_migrations";

/// The durable queue of background jobs.
pub const JOBS_TABLE: &str = "ferrobase_jobs";

/// The built-in `users` table.
pub const USERS_TABLE: &str = "users";

/// Columns of `users` owned by the system migrations; declared `User` profile fields may never
/// create, alter or drop them.
pub const USERS_SYSTEM_COLUMNS: &[&str] =
    &["id", "email", "email_verified", "roles", "password_hash", "disabled", "claims", "created_at", "updated_at"];

/// Table names a declared model may not use: present and planned system tables. Every name
/// starting with `ferrobase_` is reserved as well (see [`is_reserved_table`]).
pub const RESERVED_TABLES: &[&str] =
    &["users", "sessions", "auth_tokens", "files", "push_subscriptions", "outbox", "seaql_migrations"];

/// Whether a model table name collides with a system table.
pub fn is_reserved_table(name: &str) -> bool {
    RESERVED_TABLES.contains(&name) || name.starts_with("ferrobase_")
}

/// All system migrations, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_users_sessions::Migration),
            Box::new(m0002_schema_history::Migration),
            Box::new(m0003_claims_auth_tokens::Migration),
            Box::new(m0004_users_created_at::Migration),
            Box::new(m0005_jobs::Migration),
            Box::new(m0006_change_payloads::Migration),
            Box::new(m0007_change_log::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        SYSTEM_MIGRATIONS_TABLE.into_iden()
    }
}
