//! Email-based account flows of SPEC section 4: `requestPasswordReset`, `resetPassword`,
//! `requestEmailVerification` and `verifyEmail`. Links carry one-time tokens
//! ([`crate::auth::one_time`]) and point at `{public_url}/reset-password?token=…` and
//! `{public_url}/verify-email?token=…`.
//!
//! Emails are sent by a background worker from the durable job queue (`jobs`): the request
//! never waits on the SMTP server, a failed send is retried with backoff, and a restart loses
//! nothing. `requestPasswordReset` answers `true` whatever the email, and does the same
//! work on the request path whether or not the account exists, so neither the answer nor its
//! timing tells which emails have accounts.

use crate::app::AppState;
use crate::auth::one_time::{self, Kind};
use crate::auth::{AccountKey, AccountTx, find_account, password, sessions};
use crate::changes::Actor;
use crate::error::{ApiError, ApiResult};
use crate::mail::{password_reset_email, verification_email};
use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, InputValue, Object, TypeRef};

use super::auth_api::user_model;
use super::context::{caller, state, string_arg};

fn string(name: &str, doc: &str) -> InputValue {
    InputValue::new(name, TypeRef::named_nn(TypeRef::STRING)).description(doc)
}

fn link(st: &AppState, path: &str, token: &str) -> String {
    format!("{}/{path}?token={token}", st.config.public_url.trim_end_matches('/'))
}

/// The job kind of account emails (see `jobs`): `{"template": "password_reset", "email": ...}`
/// or `{"template": "verify_email", "user_id": ...}`.
pub const ACCOUNT_EMAIL_JOB: &str = "account_email";

/// Queues an account email; a worker sends it after the answer (and again after a failure).
async fn queue_email(st: &AppState, payload: serde_json::Value) -> ApiResult<()> {
    crate::jobs::enqueue(&st.db, ACCOUNT_EMAIL_JOB, &payload, st.config.job_max_attempts).await?;
    st.jobs.wake();
    Ok(())
}

/// Does an account-email job: issues the one-time token and sends the email. An account that
/// does not exist (any more), is disabled or (for verification) is already verified gets none.
pub async fn send_account_email(st: &AppState, payload: &serde_json::Value) -> anyhow::Result<()> {
    let field = |k: &str| payload.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let (key, kind) = match field("template") {
        "password_reset" => (AccountKey::Email(field("email")), Kind::PasswordReset),
        "verify_email" => (AccountKey::Id(field("user_id")), Kind::EmailVerification),
        other => anyhow::bail!("unknown account email {other:?}"),
    };
    let account = find_account(&st.db, key).await.map_err(|e| anyhow::anyhow!(e.message))?;
    let Some(account) = account.filter(|a| !a.disabled) else { return Ok(()) };
    if kind == Kind::EmailVerification && account.email_verified {
        return Ok(());
    }
    let token =
        one_time::issue(&st.db, &account.id, kind, kind.default_ttl()).await.map_err(|e| anyhow::anyhow!(e.message))?;
    let email = match kind {
        Kind::PasswordReset => password_reset_email(&account.email, &link(st, "reset-password", &token)),
        Kind::EmailVerification => verification_email(&account.email, &link(st, "verify-email", &token)),
    };
    st.mailer.send(email).await
}

async fn request_password_reset(st: &AppState, email: &str) -> ApiResult<()> {
    // The same work for every email, known or not (one queued job; the worker looks the account
    // up), so neither the answer nor its timing tells which emails have accounts.
    queue_email(st, serde_json::json!({ "template": "password_reset", "email": crate::auth::normalize_email(email) }))
        .await
}

async fn reset_password(st: &AppState, token: &str, new: String) -> ApiResult<()> {
    // Checked and hashed before the transaction: argon2 is slow and must not hold the write lock.
    let hash = password::hash_new("newPassword", new).await?;
    // One transaction: the token is used up only if the password changes and the sessions end.
    let mut tx = AccountTx::begin(&st.db, user_model(st), &st.changes, Actor::system("resetPassword")).await?;
    let user_id = one_time::consume(&tx.txn, token, Kind::PasswordReset).await?;
    match find_account(&tx.txn, AccountKey::Id(&user_id)).await? {
        Some(a) if !a.disabled => {}
        _ => return Err(one_time::invalid_token()),
    }
    tx.set_account_fields(&user_id, &[("password_hash", hash.into())]).await?;
    sessions::revoke_user(&tx.txn, &user_id, None).await?;
    tx.commit().await?;
    Ok(())
}

async fn request_email_verification(st: &AppState, user_id: &str) -> ApiResult<()> {
    let account = find_account(&st.db, AccountKey::Id(user_id))
        .await?
        .ok_or_else(|| ApiError::unauthenticated("this account no longer exists"))?;
    if account.disabled {
        return Err(ApiError::unauthenticated("this account is disabled"));
    }
    if account.email_verified {
        return Ok(());
    }
    queue_email(st, serde_json::json!({ "template": "verify_email", "user_id": user_id })).await?;
    Ok(())
}

async fn verify_email(st: &AppState, token: &str) -> ApiResult<()> {
    let mut tx = AccountTx::begin(&st.db, user_model(st), &st.changes, Actor::system("verifyEmail")).await?;
    let user_id = one_time::consume(&tx.txn, token, Kind::EmailVerification).await?;
    if !tx.set_account_fields(&user_id, &[("email_verified", true.into())]).await? {
        return Err(one_time::invalid_token());
    }
    tx.commit().await?;
    Ok(())
}

pub fn mutations(mutation: Object) -> Object {
    mutation
        .field(
            Field::new("requestPasswordReset", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let email = string_arg(&ctx, "email")?;
                    super::auth_api::rate_limit(&ctx, st, "requestPasswordReset", &email)?;
                    request_password_reset(st, &email).await?;
                    Ok(Some(Value::Boolean(true)))
                }))
            })
            .argument(string("email", "The email address of the account."))
            .description(
                "Emails a password-reset link (valid for 1 hour) to the address if it belongs to an account. \
                 Always returns true, so it does not tell which emails have accounts; a newer link replaces \
                 older ones.",
            ),
        )
        .field(
            Field::new("resetPassword", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let (token, new) = (string_arg(&ctx, "token")?, string_arg(&ctx, "newPassword")?);
                    reset_password(st, &token, new).await?;
                    Ok(Some(Value::Boolean(true)))
                }))
            })
            .argument(string("token", "The token from the password-reset link; it works once."))
            .argument(string("newPassword", "The new password: at least 8 characters."))
            .description(
                "Sets a new password with the token of a password-reset email, and ends every session of the \
                 account (sign in again with the new password).",
            ),
        )
        .field(
            Field::new("requestEmailVerification", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let me = caller(&ctx).require_user()?;
                    request_email_verification(st, &me.id).await?;
                    Ok(Some(Value::Boolean(true)))
                }))
            })
            .description(
                "Emails the signed-in user a link (valid for 24 hours) that confirms their email address. \
                 Does nothing when the address is already verified.",
            ),
        )
        .field(
            Field::new("verifyEmail", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    verify_email(st, &string_arg(&ctx, "token")?).await?;
                    Ok(Some(Value::Boolean(true)))
                }))
            })
            .argument(string("token", "The token from the verification email; it works once."))
            .description("Marks the email address of the account as verified, with the token of a verification email."),
        )
}
