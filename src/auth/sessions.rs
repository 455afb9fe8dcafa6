//! Refresh-token sessions. A sign-in starts a session *family*; every refresh rotates the token
//! (the old one is marked rotated and a new session joins the family). Presenting a rotated
//! token again revokes the whole family, except within a short grace window, in which several
//! tabs of one client refreshing at once all succeed. Tokens are stored only as SHA-256 hashes.

use crate::error::{ApiError, ApiResult};
use crate::model::ScalarType;
use crate::sql::ColumnSpec;
use crate::sql::rows::decode;
use crate::sql::values::{datetime, now, parse_datetime};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use sha2::{Digest, Sha256};

/// Lifetimes that govern sessions.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub refresh_ttl_secs: u64,
    pub grace_secs: u64,
}

/// A session a refresh token was exchanged for.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user_id: String,
    pub family_id: String,
    pub refresh_token: String,
}

/// SHA-256 hex of a token: what the database keeps.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token (256 bits, URL-safe).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn spec(key: &str, ty: ScalarType) -> ColumnSpec {
    ColumnSpec::raw(key, ty, false)
}

/// Starts a session in `family` (a new family when `None`); returns its refresh token.
pub async fn start<C: ConnectionTrait>(
    db: &C,
    policy: SessionPolicy,
    user_id: &str,
    family: Option<&str>,
) -> ApiResult<Issued> {
    let backend = db.get_database_backend();
    let token = new_token();
    let id = uuid::Uuid::now_v7().to_string();
    let family_id = family.map(str::to_string).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let t = now();
    let mut q = Query::insert();
    q.into_table("sessions")
        .columns(["id", "user_id", "family_id", "refresh_token_hash", "created_at", "expires_at"])
        .values_panic([
            id.into(),
            user_id.into(),
            family_id.clone().into(),
            token_hash(&token).into(),
            datetime(t, backend).into(),
            datetime(t + Duration::seconds(policy.refresh_ttl_secs as i64), backend).into(),
        ]);
    db.execute(&q).await?;
    Ok(Issued { user_id: user_id.to_string(), family_id, refresh_token: token })
}

fn invalid() -> ApiError {
    ApiError::unauthenticated("invalid or expired refresh token: sign in again")
}

fn at(row: &crate::sql::rows::Row, key: &str) -> Option<DateTime<Utc>> {
    row.values.get(key).and_then(|v| v.as_str()).and_then(parse_datetime)
}

/// Exchanges a refresh token for a new one (rotation), enforcing expiry, revocation, disabled
/// users, reuse detection and the grace window.
pub async fn refresh<C: ConnectionTrait>(db: &C, policy: SessionPolicy, token: &str) -> ApiResult<Issued> {
    let backend = db.get_database_backend();
    let cols = [
        spec("id", ScalarType::Id),
        spec("user_id", ScalarType::Id),
        spec("family_id", ScalarType::Id),
        spec("expires_at", ScalarType::DateTime),
        spec("revoked_at", ScalarType::DateTime),
        spec("rotated_at", ScalarType::DateTime),
        spec("disabled", ScalarType::Boolean),
    ];
    let mut q = Query::select();
    for c in &cols[..6] {
        q.expr_as(Expr::col((Alias::new("s"), Alias::new(&c.column))), Alias::new(&c.column));
    }
    q.expr_as(Expr::col((Alias::new("u"), Alias::new("disabled"))), Alias::new("disabled"))
        .from_as("sessions", "s")
        .join_as(
            JoinType::InnerJoin,
            "users",
            "u",
            Expr::col((Alias::new("u"), Alias::new("id"))).equals((Alias::new("s"), Alias::new("user_id"))),
        )
        .and_where(Expr::col((Alias::new("s"), Alias::new("refresh_token_hash"))).eq(token_hash(token)));
    let row = db.query_one(&q).await?.ok_or_else(invalid)?;
    let row = decode(&row, &cols, backend)?;
    let s = |k: &str| row.values.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let t = now();
    if row.values.get("disabled").and_then(|v| v.as_bool()).unwrap_or(false)
        || at(&row, "revoked_at").is_some()
        || at(&row, "expires_at").is_none_or(|e| e <= t)
    {
        return Err(invalid());
    }
    let (id, user_id, family) = (s("id"), s("user_id"), s("family_id"));
    // `rotated_at` is set once only (guarded by `IS NULL`), so a value read above is final.
    let rotated = match at(&row, "rotated_at") {
        Some(rotated) => rotated,
        None => {
            let mut u = Query::update();
            u.table("sessions")
                .value("rotated_at", datetime(t, backend))
                .and_where(Expr::col("id").eq(id.clone()))
                .and_where(Expr::col("rotated_at").is_null());
            if db.execute(&u).await?.rows_affected() == 1 {
                return start(db, policy, &user_id, Some(&family)).await;
            }
            // A concurrent refresh rotated it after our read: read the time it set.
            read_rotated_at(db, &id).await?.unwrap_or(t)
        }
    };
    // Already rotated: a concurrent refresh within the grace window succeeds; later reuse means
    // the token leaked, so the whole family is revoked.
    if (t - rotated).num_milliseconds() <= (policy.grace_secs * 1000) as i64 {
        return start(db, policy, &user_id, Some(&family)).await;
    }
    revoke_family(db, &family).await?;
    Err(ApiError::unauthenticated("this refresh token was already used: the session was signed out for safety"))
}

async fn read_rotated_at<C: ConnectionTrait>(db: &C, id: &str) -> ApiResult<Option<DateTime<Utc>>> {
    let backend: DatabaseBackend = db.get_database_backend();
    let cols = [spec("rotated_at", ScalarType::DateTime)];
    let mut q = Query::select();
    q.column("rotated_at").from("sessions").and_where(Expr::col("id").eq(id.to_string()));
    match db.query_one(&q).await? {
        Some(r) => Ok(at(&decode(&r, &cols, backend)?, "rotated_at")),
        None => Ok(None),
    }
}

/// Revokes every session of a family (sign-out, or reuse detected).
pub async fn revoke_family<C: ConnectionTrait>(db: &C, family: &str) -> ApiResult<()> {
    let mut u = Query::update();
    u.table("sessions")
        .value("revoked_at", datetime(now(), db.get_database_backend()))
        .and_where(Expr::col("family_id").eq(family.to_string()))
        .and_where(Expr::col("revoked_at").is_null());
    db.execute(&u).await?;
    Ok(())
}

/// Revokes every session of a user, except the family `keep` (for a password change).
pub async fn revoke_user<C: ConnectionTrait>(db: &C, user_id: &str, keep: Option<&str>) -> ApiResult<()> {
    let mut u = Query::update();
    u.table("sessions")
        .value("revoked_at", datetime(now(), db.get_database_backend()))
        .and_where(Expr::col("user_id").eq(user_id.to_string()))
        .and_where(Expr::col("revoked_at").is_null());
    if let Some(k) = keep {
        u.and_where(Expr::col("family_id").ne(k.to_string()));
    }
    db.execute(&u).await?;
    Ok(())
}

/// The family of a refresh token, if it is known (for sign-out).
pub async fn family_of<C: ConnectionTrait>(db: &C, token: &str) -> ApiResult<Option<String>> {
    let mut q = Query::select();
    q.column("family_id").from("sessions").and_where(Expr::col("refresh_token_hash").eq(token_hash(token)));
    Ok(match db.query_one(&q).await? {
        Some(r) => Some(r.try_get::<String>("", "family_id")?),
        None => None,
    })
}
