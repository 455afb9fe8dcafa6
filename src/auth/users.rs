//! Creating users (the `ferrobase users create` command; sign-up will share it).

use super::password;
use crate::error::{ApiError, ApiResult};
use crate::model::ScalarType;
use crate::sql::ColumnSpec;
use crate::sql::values::{bind, datetime, now};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, DatabaseConnection, SqlErr};

/// Creates a user with a password and roles; returns its id.
pub async fn create_user(db: &DatabaseConnection, email: &str, pass: &str, roles: &[String]) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    if !plausible_email(&email) {
        return Err(ApiError::invalid_field("email", format!("{email:?} is not an email address")));
    }
    if pass.chars().count() < password::MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid_field(
            "password",
            format!("the password needs at least {} characters", password::MIN_PASSWORD_CHARS),
        ));
    }
    let backend = db.get_database_backend();
    let hash = password::hash(pass).map_err(ApiError::internal)?;
    let roles_spec =
        ColumnSpec { key: "roles".into(), column: "roles".into(), ty: ScalarType::String, list: true, nullable: false };
    let id = uuid::Uuid::now_v7().to_string();
    let ts = datetime(now(), backend);
    let mut q = Query::insert();
    q.into_table("users").columns(["id", "email", "password_hash", "roles", "created_at", "updated_at"]).values_panic(
        [
            id.clone().into(),
            email.clone().into(),
            hash.into(),
            bind(&roles_spec, &serde_json::json!(roles), backend)?.into(),
            ts.clone().into(),
            ts.into(),
        ],
    );
    match db.execute(&q).await {
        Ok(_) => Ok(id),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(ApiError::conflict(format!("a user with the email {email} already exists")))
        }
        Err(e) => Err(ApiError::internal(e)),
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
