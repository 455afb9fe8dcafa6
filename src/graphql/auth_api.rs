//! The authentication API of SPEC section 4: `signUp`, `signIn`, `refreshSession`, `signOut`,
//! `signOutEverywhere`, `changePassword`, `me`, and the admin operations `users`,
//! `setUserRoles`, `setUserClaims`, `disableUser`.

use super::context::{caller, input_arg, on_parent, state, string_arg};
use super::declared_type;
use super::document::from_field as to_sel;
use super::objects::list_arguments;
use super::resolvers::{read_list, read_row};
use crate::app::AppState;
use crate::auth::sessions::{self, Issued};
use crate::auth::{Account, AccountKey, AccountTx, Caller, find_account, json_value, password};
use crate::changes::Actor;
use crate::error::{ApiError, ApiResult};
use crate::model::{FieldKind, Model, naming, profile_fields};
use crate::sql::select::Sel;
use crate::sql::values::format_datetime;
use crate::sql::write;
use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef,
};
use std::sync::OnceLock;

/// What `AuthPayload` resolves from.
struct Payload {
    access_token: String,
    refresh_token: String,
    expires_at: String,
    /// The user, rendered for the payload's selection.
    user: Value,
}

pub fn register(builder: SchemaBuilder, user: &Model) -> SchemaBuilder {
    let payload = Object::new("AuthPayload")
        .description("Tokens for a signed-in session. Send `Authorization: Bearer <accessToken>`; exchange the refresh token with `refreshSession` before `expiresAt`.")
        .field(payload_field("accessToken", TypeRef::named_nn(TypeRef::STRING), "Short-lived JWT for the Authorization header.", |p| Value::from(p.access_token.clone())))
        .field(payload_field("refreshToken", TypeRef::named_nn(TypeRef::STRING), "Long-lived, single-use token for `refreshSession`; keep it secret.", |p| Value::from(p.refresh_token.clone())))
        .field(payload_field("expiresAt", TypeRef::named_nn("DateTime"), "When the access token expires.", |p| Value::from(p.expires_at.clone())))
        .field(
            Field::new("user", TypeRef::named_nn("User"), |ctx| {
                on_parent(&ctx, |p: &Payload| Ok(Some(FieldValue::value(p.user.clone()))))
            })
            .description("The signed-in user."),
        );
    let mut input = InputObject::new("SignUpInput")
        .description("A new account: email, password, and the profile fields declared on `type User`.")
        .field(
            InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)).description("Email address; used to sign in."),
        )
        .field(InputValue::new("password", TypeRef::named_nn(TypeRef::STRING)).description("At least 8 characters."));
    for field in profile_fields(user) {
        if let FieldKind::Scalar(s) = &field.kind
            && super::exposed(s)
        {
            let doc = field.description.clone().unwrap_or_else(|| format!("Profile field {}.", field.name));
            input = input.field(
                InputValue::new(&field.name, declared_type(s, s.required && s.default.is_none())).description(doc),
            );
        }
    }
    builder.register(payload).register(input)
}

fn payload_field(name: &str, ty: TypeRef, doc: &str, get: fn(&Payload) -> Value) -> Field {
    Field::new(name, ty, move |ctx| on_parent(&ctx, |p: &Payload| Ok(Some(get(p).into())))).description(doc)
}

/// Per-IP and per-account limits of the auth mutations (RATE_LIMITED when spent).
pub(super) fn rate_limit(ctx: &ResolverContext<'_>, st: &AppState, op: &str, email: &str) -> ApiResult<()> {
    let ip = ctx.data_opt::<crate::auth::ClientIp>().map(|c| c.0);
    st.auth_limits.check(op, ip, email)
}

pub(super) fn user_model(st: &AppState) -> &Model {
    st.ir.model("User").expect("the built-in User always exists")
}

/// The selection of the payload's `user` (every `user { ... }` of the payload's selection).
fn user_selection(sel: &Sel) -> Sel {
    let children = sel.children.iter().filter(|c| c.name == "user").flat_map(|c| c.children.iter().cloned()).collect();
    Sel { name: "user".into(), key: "user".into(), args: Vec::new(), children, pos: sel.pos }
}

/// Hashing is slow by design: keep it off the async workers.
async fn verify_password(pass: String, hash: Option<String>) -> ApiResult<bool> {
    // An unknown email still costs one verification, so timing does not tell which emails exist.
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = match hash {
        Some(h) => h,
        None => DUMMY.get_or_init(|| password::hash("not a real password").expect("hashing works")).clone(),
    };
    tokio::task::spawn_blocking(move || password::verify(&pass, &hash)).await.map_err(ApiError::internal)
}

/// Issues the access token for a session and loads the user the selection asks for.
async fn payload(st: &AppState, issued: Issued, sel: &Sel) -> ApiResult<Payload> {
    let account = find_account(&st.db, AccountKey::Id(&issued.user_id)).await?.ok_or_else(invalid_credentials)?;
    account_payload(st, &account, issued, sel).await
}

/// [`payload`] for an account already read (sign-in has just read it to check the password).
async fn account_payload(st: &AppState, account: &Account, issued: Issued, sel: &Sel) -> ApiResult<Payload> {
    let (access_token, exp) = st.jwt.issue(&account.id, &account.roles, &account.claims, &issued.family_id);
    // The payload is read as the user just signed in: their own fields, and related rows
    // only as their rules allow.
    let me = Caller::User(crate::auth::CallerUser {
        id: account.id.clone(),
        roles: account.roles.clone(),
        claims: account.claims.clone(),
        session: Some(issued.family_id.clone()),
        expires_at: Some(exp),
    });
    let user =
        read_row(st, &me, user_model(st), &account.id, &user_selection(sel)).await?.ok_or_else(invalid_credentials)?;
    let expires = chrono::DateTime::from_timestamp(exp, 0).expect("token expiry is a valid time");
    Ok(Payload { access_token, refresh_token: issued.refresh_token, expires_at: format_datetime(&expires), user })
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthenticated("invalid email or password")
}

pub fn mutations(mutation: Object) -> Object {
    mutation
        .field(
            Field::new("signUp", TypeRef::named_nn("AuthPayload"), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let sel = to_sel(ctx.ctx.field())?;
                    let mut input = input_arg(&ctx)?;
                    let email = input.remove("email").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                    rate_limit(&ctx, st, "signUp", &email)?;
                    let pass = input.remove("password").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                    let new_user = crate::auth::NewUser::prepare(&email, &pass).await?;
                    let mut tx =
                        AccountTx::begin(&st.db, user_model(st), &st.changes, Actor::system("signUp")).await?;
                    let id = tx.insert(new_user, &[]).await?;
                    if let Some(f) = profile_fields(user_model(st))
                        .find(|f| input.contains_key(&f.name) && !crate::sql::access::sign_up_may_set(f))
                    {
                        return Err(ApiError::forbidden(format!("{} cannot be set at sign-up (field @auth rules)", f.name)).into());
                    }
                    if !input.is_empty() {
                        write::set_user_fields(&tx.txn, user_model(st), &id, &input).await?;
                    }
                    let issued = sessions::start(&tx.txn, st.sessions, &id, None).await?;
                    tx.commit().await?;
                    Ok(Some(FieldValue::owned_any(payload(st, issued, &sel).await?)))
                }))
            })
            .argument(InputValue::new("input", TypeRef::named_nn("SignUpInput")).description("The new account."))
            .description("Creates an account and signs it in."),
        )
        .field(
            Field::new("signIn", TypeRef::named_nn("AuthPayload"), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let sel = to_sel(ctx.ctx.field())?;
                    let (email, pass) = (string_arg(&ctx, "email")?, string_arg(&ctx, "password")?);
                    rate_limit(&ctx, st, "signIn", &email)?;
                    let account = find_account(&st.db, AccountKey::Email(&email)).await?;
                    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
                    let ok = verify_password(pass, hash).await?;
                    let account = account.filter(|_| ok).ok_or_else(invalid_credentials)?;
                    if account.disabled {
                        return Err(ApiError::unauthenticated("this account is disabled").into());
                    }
                    let issued = sessions::start(&st.db, st.sessions, &account.id, None).await?;
                    Ok(Some(FieldValue::owned_any(account_payload(st, &account, issued, &sel).await?)))
                }))
            })
            .argument(InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)).description("The account's email."))
            .argument(InputValue::new("password", TypeRef::named_nn(TypeRef::STRING)).description("The account's password."))
            .description("Signs in with email and password."),
        )
        .field(
            Field::new("refreshSession", TypeRef::named_nn("AuthPayload"), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let sel = to_sel(ctx.ctx.field())?;
                    let token = string_arg(&ctx, "refreshToken")?;
                    let issued = sessions::refresh(&st.db, st.sessions, &token).await?;
                    Ok(Some(FieldValue::owned_any(payload(st, issued, &sel).await?)))
                }))
            })
            .argument(InputValue::new("refreshToken", TypeRef::named_nn(TypeRef::STRING)).description("The refresh token of the last AuthPayload."))
            .description("Exchanges a refresh token for new tokens. Each refresh token works once (rotation); reusing an old one signs that session out."),
        )
        .field(
            Field::new("signOut", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let token = string_arg(&ctx, "refreshToken")?;
                    if let Some(family) = sessions::family_of(&st.db, &token).await? {
                        sessions::revoke_family(&st.db, &family).await?;
                    }
                    Ok(Some(Value::Boolean(true)))
                }))
            })
            .argument(InputValue::new("refreshToken", TypeRef::named_nn(TypeRef::STRING)).description("The session's refresh token."))
            .description("Ends the session the refresh token belongs to. Access tokens already issued stay valid until they expire."),
        )
        .field(
            Field::new("signOutEverywhere", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let me = caller(&ctx).require_user()?;
                    sessions::revoke_user(&st.db, &me.id, None).await?;
                    Ok(Some(Value::Boolean(true)))
                }))
            })
            .description("Ends every session of the signed-in user."),
        )
        .field(
            Field::new("changePassword", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let me = caller(&ctx).require_user()?.clone();
                    let (current, new) = (string_arg(&ctx, "currentPassword")?, string_arg(&ctx, "newPassword")?);
                    let account = find_account(&st.db, AccountKey::Id(&me.id)).await?.ok_or_else(invalid_credentials)?;
                    if !verify_password(current, account.password_hash.clone()).await? {
                        return Err(ApiError::invalid_field("currentPassword", "the current password is wrong").into());
                    }
                    // Hashed before the transaction: argon2 is slow and must not hold the write lock.
                    let hash = password::hash_new("newPassword", new).await?;
                    let mut tx = AccountTx::begin(&st.db, user_model(st), &st.changes, Actor::User { id: me.id.clone() }).await?;
                    tx.set_account_fields(&me.id, &[("password_hash", hash.into())]).await?;
                    sessions::revoke_user(&tx.txn, &me.id, me.session.as_deref()).await?;
                    tx.commit().await?;
                    Ok(Some(Value::Boolean(true)))
                }))
            })
            .argument(InputValue::new("currentPassword", TypeRef::named_nn(TypeRef::STRING)).description("The password in use."))
            .argument(InputValue::new("newPassword", TypeRef::named_nn(TypeRef::STRING)).description("At least 8 characters."))
            .description("Changes the signed-in user's password and ends their other sessions."),
        )
        .field(admin_user_op(
            "setUserRoles",
            "Replaces a user's roles (admin). Takes effect in access tokens issued from now on.",
            InputValue::new("roles", TypeRef::named_nn_list_nn(TypeRef::STRING)).description("The roles, e.g. [\"editor\"]."),
            |st, ctx| {
                let roles = ctx.args.try_get("roles")?.as_value().clone().into_json()?;
                Ok(vec![("roles", json_value(roles, st.backend()))])
            },
        ))
        .field(admin_user_op(
            "setUserClaims",
            "Replaces a user's custom claims (admin): carried in access tokens and readable in rules as `$claims.<name>`.",
            InputValue::new("claims", TypeRef::named_nn("JSON")).description("A JSON object, e.g. {\"org\": \"acme\"}."),
            |st, ctx| {
                let claims = ctx.args.try_get("claims")?.as_value().clone().into_json()?;
                if !claims.is_object() {
                    return Err(ApiError::invalid_field("claims", "claims must be a JSON object").into());
                }
                Ok(vec![("claims", json_value(claims, st.backend()))])
            },
        ))
        .field(
            Field::new("disableUser", TypeRef::named_nn("User"), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    caller(&ctx).require_admin()?;
                    let id = string_arg(&ctx, "userId")?;
                    let mut tx = AccountTx::begin(&st.db, user_model(st), &st.changes, Actor::Admin).await?;
                    if !tx.set_account_fields(&id, &[("disabled", true.into())]).await? {
                        return Err(ApiError::not_found(format!("no User with id {id}")).into());
                    }
                    sessions::revoke_user(&tx.txn, &id, None).await?;
                    tx.commit().await?;
                    Ok(Some(FieldValue::value(load_user(st, &id, &to_sel(ctx.ctx.field())?).await?)))
                }))
            })
            .argument(InputValue::new("userId", TypeRef::named_nn(TypeRef::ID)).description("The user to disable."))
            .description("Disables a user (admin): they can no longer sign in or refresh, and their sessions end."),
        )
}

/// Computes the `users` columns an admin mutation sets, from its arguments.
type ColumnValues =
    fn(&AppState, &ResolverContext<'_>) -> async_graphql::Result<Vec<(&'static str, sea_orm::sea_query::Value)>>;

/// An admin mutation that sets system columns of one user and returns the user.
fn admin_user_op(name: &str, doc: &str, arg: InputValue, values: ColumnValues) -> Field {
    Field::new(name, TypeRef::named_nn("User"), move |ctx| {
        FieldFuture::new(super::at_path(ctx.ctx, async move {
            let st = state(&ctx)?;
            caller(&ctx).require_admin()?;
            let id = string_arg(&ctx, "userId")?;
            let fields = values(st, &ctx)?;
            let mut tx = AccountTx::begin(&st.db, user_model(st), &st.changes, Actor::Admin).await?;
            if !tx.set_account_fields(&id, &fields).await? {
                return Err(ApiError::not_found(format!("no User with id {id}")).into());
            }
            tx.commit().await?;
            Ok(Some(FieldValue::value(load_user(st, &id, &to_sel(ctx.ctx.field())?).await?)))
        }))
    })
    .argument(InputValue::new("userId", TypeRef::named_nn(TypeRef::ID)).description("The user to change."))
    .argument(arg)
    .description(doc)
}

/// A user as admin sees it (for the admin operations).
async fn load_user(st: &AppState, id: &str, sel: &Sel) -> ApiResult<Value> {
    read_row(st, &Caller::Admin, user_model(st), id, sel)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no User with id {id}")))
}

pub fn queries(query: Object) -> Object {
    let users = Field::new("users", TypeRef::named_nn(naming::connection_type("User")), |ctx| {
        FieldFuture::new(super::at_path(ctx.ctx, async move {
            let st = state(&ctx)?;
            caller(&ctx).require_admin()?;
            let sel = to_sel(ctx.ctx.field())?;
            Ok(Some(FieldValue::value(read_list(st, &Caller::Admin, user_model(st), &sel).await?)))
        }))
    })
    .description("All users, filtered and paged (admin).");
    query
        .field(
            Field::new("me", TypeRef::named("User"), |ctx| {
                FieldFuture::new(super::at_path(ctx.ctx, async move {
                    let st = state(&ctx)?;
                    let Some(me) = caller(&ctx).user() else { return Ok(None) };
                    let sel = to_sel(ctx.ctx.field())?;
                    Ok(read_row(st, caller(&ctx), user_model(st), &me.id, &sel).await?.map(FieldValue::value))
                }))
            })
            .description("The signed-in user; null without an access token."),
        )
        .field(list_arguments(users, "User"))
}
