//! One-time tokens for password reset and email verification, kept in `auth_tokens`. A token is
//! random (256 bits), stored only as its SHA-256 hash, bound to one user and one purpose, and
//! valid once until it expires. Issuing a token replaces the user's earlier tokens of that kind,
//! so only the newest link works.

use super::sessions::{new_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::sql::values::{datetime, now};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use std::time::Duration;

/// How long a password-reset link works.
pub const PASSWORD_RESET_TTL: Duration = Duration::from_secs(3600);
/// How long an email-verification link works.
pub const EMAIL_VERIFICATION_TTL: Duration = Duration::from_secs(24 * 3600);

/// What a token may be used for; a token of one kind never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PasswordReset,
    EmailVerification,
}

impl Kind {
    /// The value of `auth_tokens.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PasswordReset => "password_reset",
            Kind::EmailVerification => "email_verification",
        }
    }

    /// How long a token of this kind works by default.
    pub fn default_ttl(self) -> Duration {
        match self {
            Kind::PasswordReset => PASSWORD_RESET_TTL,
            Kind::EmailVerification => EMAIL_VERIFICATION_TTL,
        }
    }
}

/// A fresh token and its hash, generated before knowing whether it will be stored (so that
/// callers can do the same work whether or not the account exists).
#[derive(Debug, Clone)]
pub struct Generated {
    /// The token that goes into the link; never stored.
    pub token: String,
    /// What `auth_tokens.token_hash` keeps.
    pub hash: String,
}

/// Generates a token and hashes it.
pub fn generate() -> Generated {
    let token = new_token();
    let hash = token_hash(&token);
    Generated { token, hash }
}

/// Issues a token of `kind` for `user_id`, valid for `ttl`; returns the token. The user's earlier
/// tokens of the same kind stop working.
pub async fn issue<C: ConnectionTrait>(db: &C, user_id: &str, kind: Kind, ttl: Duration) -> ApiResult<String> {
    let generated = generate();
    store(db, user_id, kind, ttl, &generated.hash).await?;
    Ok(generated.token)
}

/// Stores a [`generate`]d token's hash for `user_id` (see [`issue`]).
pub async fn store<C: ConnectionTrait>(db: &C, user_id: &str, kind: Kind, ttl: Duration, hash: &str) -> ApiResult<()> {
    let backend = db.get_database_backend();
    let ttl = chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
    // Earlier tokens of this kind (used, expired or still pending) are replaced: deleting them
    // both invalidates pending links and keeps the table at one row per user and kind.
    let mut d = Query::delete();
    d.from_table("auth_tokens")
        .and_where(Expr::col("user_id").eq(user_id.to_string()))
        .and_where(Expr::col("kind").eq(kind.as_str()));
    db.execute(&d).await?;
    let t = now();
    let mut q = Query::insert();
    q.into_table("auth_tokens")
        .columns(["id", "user_id", "kind", "token_hash", "created_at", "expires_at"])
        .values_panic([
            uuid::Uuid::now_v7().to_string().into(),
            user_id.into(),
            kind.as_str().into(),
            hash.into(),
            datetime(t, backend).into(),
            datetime(t + ttl, backend).into(),
        ]);
    db.execute(&q).await?;
    Ok(())
}

/// The one error for a token that is unknown, expired, already used or of another kind.
pub fn invalid_token() -> ApiError {
    ApiError::invalid_field("token", "invalid or expired token")
}

/// Uses a token of `kind`: returns its user id, and marks it used so that it never works again.
/// Marking is one conditional UPDATE, so of two concurrent uses only one succeeds.
pub async fn consume<C: ConnectionTrait>(db: &C, token: &str, kind: Kind) -> ApiResult<String> {
    let backend = db.get_database_backend();
    let hash = token_hash(token);
    let t = now();
    // Both backends compare DateTimes correctly: timestamptz on PostgreSQL, and on SQLite text in
    // the one sortable format `datetime` writes.
    let mut u = Query::update();
    u.table("auth_tokens")
        .value("used_at", datetime(t, backend))
        .and_where(Expr::col("token_hash").eq(hash))
        .and_where(Expr::col("kind").eq(kind.as_str()))
        .and_where(Expr::col("used_at").is_null())
        .and_where(Expr::col("expires_at").gt(datetime(t, backend)))
        .returning_col("user_id");
    let row = db.query_one(&u).await?.ok_or_else(invalid_token)?;
    Ok(row.try_get::<String>("", "user_id")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScalarType;
    use crate::sql::ColumnSpec;
    use crate::sql::rows::decode;
    use crate::testing::{TestDb, backends};
    use sea_orm::DatabaseConnection;

    struct Env {
        db: DatabaseConnection,
        test_db: TestDb,
        _dir: tempfile::TempDir,
    }

    async fn env(backend: crate::testing::TestBackend) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let test_db = TestDb::create(backend, dir.path()).await.expect("test database");
        let db = crate::db::connect(&test_db.url).await.expect("connect");
        crate::ddl::migrate_system(&db).await.expect("system migrations");
        Env { db, test_db, _dir: dir }
    }

    async fn user(db: &DatabaseConnection, email: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let ts = datetime(now(), db.get_database_backend());
        let mut q = Query::insert();
        q.into_table("users").columns(["id", "email", "created_at", "updated_at"]).values_panic([
            id.clone().into(),
            email.into(),
            ts.clone().into(),
            ts.into(),
        ]);
        db.execute(&q).await.expect("insert user");
        id
    }

    fn is_invalid(r: ApiResult<String>) -> bool {
        matches!(r, Err(e) if e.code == crate::error::ErrorCode::BadUserInput && e.field.as_deref() == Some("token"))
    }

    /// `(token_hash, expires_at - created_at in seconds, used)` of a user's tokens.
    async fn rows(db: &DatabaseConnection, user_id: &str) -> Vec<(String, i64, bool)> {
        let spec = |key: &str, ty| ColumnSpec::raw(key, ty, false);
        let cols = [
            spec("token_hash", ScalarType::String),
            spec("created_at", ScalarType::DateTime),
            spec("expires_at", ScalarType::DateTime),
            spec("used_at", ScalarType::DateTime),
        ];
        let mut q = Query::select();
        q.columns(["token_hash", "created_at", "expires_at", "used_at"])
            .from("auth_tokens")
            .and_where(Expr::col("user_id").eq(user_id.to_string()));
        let mut out = Vec::new();
        for r in db.query_all(&q).await.unwrap() {
            let r = decode(&r, &cols, db.get_database_backend()).unwrap();
            let at = |k: &str| r.values[k].as_str().and_then(crate::sql::values::parse_datetime);
            let ttl = (at("expires_at").unwrap() - at("created_at").unwrap()).num_seconds();
            out.push((r.values["token_hash"].as_str().unwrap().to_string(), ttl, at("used_at").is_some()));
        }
        out
    }

    #[tokio::test]
    async fn tokens_work_once_for_their_kind_and_user() {
        for backend in backends() {
            let e = env(backend).await;
            let (ada, bob) = (user(&e.db, "ada@example.com").await, user(&e.db, "bob@example.com").await);
            let t = issue(&e.db, &ada, Kind::PasswordReset, PASSWORD_RESET_TTL).await.unwrap();
            let stored = rows(&e.db, &ada).await;
            assert_eq!(stored, vec![(token_hash(&t), 3600, false)], "{backend:?}: only the hash is kept");
            assert!(is_invalid(consume(&e.db, &t, Kind::EmailVerification).await), "{backend:?}: wrong kind");
            assert!(is_invalid(consume(&e.db, "garbage", Kind::PasswordReset).await));
            assert!(is_invalid(consume(&e.db, "", Kind::PasswordReset).await));
            assert_eq!(consume(&e.db, &t, Kind::PasswordReset).await.unwrap(), ada);
            assert!(is_invalid(consume(&e.db, &t, Kind::PasswordReset).await), "{backend:?}: used once");
            assert!(rows(&e.db, &ada).await[0].2, "{backend:?}: marked used");

            // Kinds are independent; a user's tokens do not touch another user's.
            let v = issue(&e.db, &ada, Kind::EmailVerification, EMAIL_VERIFICATION_TTL).await.unwrap();
            let b = issue(&e.db, &bob, Kind::EmailVerification, EMAIL_VERIFICATION_TTL).await.unwrap();
            assert!(rows(&e.db, &ada).await.iter().any(|r| r.1 == 24 * 3600));
            assert_eq!(consume(&e.db, &b, Kind::EmailVerification).await.unwrap(), bob);
            assert_eq!(consume(&e.db, &v, Kind::EmailVerification).await.unwrap(), ada);
            e.db.close().await.ok();
            e.test_db.drop_database().await;
        }
    }

    #[tokio::test]
    async fn a_new_token_replaces_older_ones_and_expired_tokens_fail() {
        for backend in backends() {
            let e = env(backend).await;
            let ada = user(&e.db, "ada@example.com").await;
            let old = issue(&e.db, &ada, Kind::PasswordReset, PASSWORD_RESET_TTL).await.unwrap();
            let verify = issue(&e.db, &ada, Kind::EmailVerification, EMAIL_VERIFICATION_TTL).await.unwrap();
            let new = issue(&e.db, &ada, Kind::PasswordReset, PASSWORD_RESET_TTL).await.unwrap();
            assert_ne!(old, new);
            assert!(is_invalid(consume(&e.db, &old, Kind::PasswordReset).await), "{backend:?}: replaced");
            assert_eq!(consume(&e.db, &new, Kind::PasswordReset).await.unwrap(), ada);
            assert_eq!(consume(&e.db, &verify, Kind::EmailVerification).await.unwrap(), ada, "other kinds stay");

            let short = issue(&e.db, &ada, Kind::PasswordReset, Duration::from_millis(300)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert!(is_invalid(consume(&e.db, &short, Kind::PasswordReset).await), "{backend:?}: expired");
            e.db.close().await.ok();
            e.test_db.drop_database().await;
        }
    }

    #[tokio::test]
    async fn concurrent_uses_of_one_token_succeed_once() {
        for backend in backends() {
            let e = env(backend).await;
            let ada = user(&e.db, "ada@example.com").await;
            let t = issue(&e.db, &ada, Kind::PasswordReset, PASSWORD_RESET_TTL).await.unwrap();
            let uses = (0..8).map(|_| consume(&e.db, &t, Kind::PasswordReset));
            let results = futures_util::future::join_all(uses).await;
            let ok = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(ok, 1, "{backend:?}: {results:?}");
            assert!(results.into_iter().filter(|r| r.is_err()).all(is_invalid));
            e.db.close().await.ok();
            e.test_db.drop_database().await;
        }
    }
}
