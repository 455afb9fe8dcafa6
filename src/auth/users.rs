//! Creating users (sign-up and the `ferrobase users create` command) and reading accounts.

use super::password;
use crate::error::{ApiError, ApiResult};
use crate::model::ScalarType;
use crate::sql::ColumnSpec;
use crate::sql::values::{bind, datetime, now};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, SqlErr};

/// Emails are stored, looked up and rate-limited trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A checked email and a hashed password, ready to insert: hashing is slow by design, so
/// callers do it before opening the write transaction the insert runs in.
pub struct NewUser {
    email: String,
    hash: String,
}

impl NewUser {
    pub async fn prepare(email: &str, pass: &str) -> ApiResult<NewUser> {
        let email = normalize_email(email);
        if !plausible_email(&email) {
            return Err(ApiError::invalid_field("email", format!("{email:?} is not an email address")));
        }
        let hash = password::hash_new("password", pass.to_string()).await?;
        Ok(NewUser { email, hash })
    }

    /// Inserts the user with `roles`; returns its id (CONFLICT when the email is taken).
    pub(super) async fn insert<C: ConnectionTrait>(self, db: &C, roles: &[String]) -> ApiResult<String> {
        let NewUser { email, hash } = self;
        let backend = db.get_database_backend();
        let roles_spec = ColumnSpec::raw("roles", ScalarType::String, true);
        let id = uuid::Uuid::now_v7().to_string();
        let ts = datetime(now(), backend);
        let mut q = Query::insert();
        q.into_table("users")
            .columns(["id", "email", "password_hash", "roles", "created_at", "updated_at"])
            .values_panic([
                id.clone().into(),
                email.clone().into(),
                hash.into(),
                bind(&roles_spec, &serde_json::json!(roles), backend)?.into(),
                ts.clone().into(),
                ts.into(),
            ]);
        match db.execute(&q).await {
            Ok(_) => Ok(id),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(ApiError::conflict(format!("a user with the email {email} already exists")))
            }
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

/// One `@`, something before it, a dot in the domain, no spaces.
fn plausible_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// What authentication needs to know about a user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub roles: Vec<String>,
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub email_verified: bool,
    pub disabled: bool,
}

fn account_columns() -> Vec<ColumnSpec> {
    let c = ColumnSpec::raw;
    vec![
        c("id", ScalarType::Id, false),
        c("email", ScalarType::String, false),
        c("password_hash", ScalarType::String, false),
        c("roles", ScalarType::String, true),
        c("claims", ScalarType::Json, false),
        c("email_verified", ScalarType::Boolean, false),
        c("disabled", ScalarType::Boolean, false),
    ]
}

/// Finds an account by `email` (case-insensitive) or by `id`.
pub async fn find_account<C: ConnectionTrait>(db: &C, by: AccountKey<'_>) -> ApiResult<Option<Account>> {
    let cols = account_columns();
    let mut q = Query::select();
    q.from("users");
    for c in &cols {
        q.column(sea_orm::sea_query::Alias::new(&c.column));
    }
    match by {
        AccountKey::Email(e) => q.and_where(Expr::col("email").eq(normalize_email(e))),
        AccountKey::Id(id) => q.and_where(Expr::col("id").eq(id.to_string())),
    };
    let Some(row) = db.query_one(&q).await? else { return Ok(None) };
    let r = crate::sql::rows::decode(&row, &cols, db.get_database_backend())?;
    let text = |k: &str| r.values.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let flag = |k: &str| r.values.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
    Ok(Some(Account {
        id: text("id").unwrap_or_default(),
        email: text("email").unwrap_or_default(),
        password_hash: text("password_hash"),
        roles: r.values.get("roles").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default(),
        claims: r.values.get("claims").and_then(|v| v.as_object().cloned()).unwrap_or_default(),
        email_verified: flag("email_verified"),
        disabled: flag("disabled"),
    }))
}

#[derive(Debug, Clone, Copy)]
pub enum AccountKey<'a> {
    Email(&'a str),
    Id(&'a str),
}

/// Binds a JSON value for a JSON/list system column.
pub fn json_value(v: serde_json::Value, backend: sea_orm::DatabaseBackend) -> sea_orm::sea_query::Value {
    let spec = ColumnSpec::raw("json", ScalarType::Json, false);
    bind(&spec, &v, backend).expect("JSON always binds as JSON")
}
