//! Who is calling: an anonymous caller, a signed-in user (an access token) or the service key
//! (acts as `admin`); and the account, session and token machinery behind sign-in.

mod account_tx;
pub mod jwt;
pub mod matrix;
pub mod one_time;
pub mod password;
pub mod rate_limit;
mod service_key;
pub mod sessions;
mod users;

pub use account_tx::{AccountTx, create_user};
pub use service_key::{JWT_SECRET_FILE, SERVICE_KEY_FILE, load_or_create_secret, load_or_create_service_key};
pub use users::{Account, AccountKey, NewUser, find_account, json_value, normalize_email};

use crate::error::{ApiError, ApiResult};
use subtle::ConstantTimeEq;

/// The client's IP address, in the GraphQL request data (rate limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The identity a request runs as, stored in the GraphQL request data.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    Anonymous,
    /// A signed-in user (a valid access token).
    User(CallerUser),
    /// Presented the service key: passes every rule.
    Admin,
}

/// A signed-in caller, from the access token.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerUser {
    pub id: String,
    pub roles: Vec<String>,
    /// Custom claims of the token (`$claims.<name>` in rules).
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// The session family the token belongs to.
    pub session: Option<String>,
    /// When the access token expires (Unix seconds): a WebSocket authenticated with it is
    /// closed then.
    pub expires_at: Option<i64>,
}

impl Caller {
    /// Resolves an `Authorization` header value: the service key (compared in constant time) is
    /// admin; anything else must be a valid access token.
    pub fn from_authorization(header: Option<&str>, service_key: &str, jwt: &jwt::JwtKeys) -> ApiResult<Caller> {
        let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Caller::Anonymous);
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthenticated("the Authorization header must be `Bearer <token>`"))?
            .trim();
        if bool::from(token.as_bytes().ct_eq(service_key.as_bytes())) {
            return Ok(Caller::Admin);
        }
        let claims = jwt.verify(token).ok_or_else(|| ApiError::unauthenticated("invalid or expired token"))?;
        Ok(Caller::User(CallerUser {
            id: claims.sub,
            roles: claims.roles,
            claims: claims.extra,
            session: claims.sid,
            expires_at: Some(claims.exp),
        }))
    }

    /// The service key, or a user holding the `admin` role.
    pub fn is_admin(&self) -> bool {
        match self {
            Caller::Admin => true,
            Caller::User(u) => u.roles.iter().any(|r| r == "admin"),
            Caller::Anonymous => false,
        }
    }

    pub fn user(&self) -> Option<&CallerUser> {
        match self {
            Caller::User(u) => Some(u),
            _ => None,
        }
    }

    /// Admin-only operations of the auth API (`users`, role changes, disabling accounts, ...).
    pub fn require_admin(&self) -> ApiResult<()> {
        match self {
            _ if self.is_admin() => Ok(()),
            Caller::Anonymous => Err(ApiError::unauthenticated(
                "this operation needs a signed-in caller: send `Authorization: Bearer <access token or service key>`",
            )),
            _ => Err(ApiError::forbidden("this operation needs the admin role")),
        }
    }

    /// Operations on the caller's own account.
    pub fn require_user(&self) -> ApiResult<&CallerUser> {
        self.user().ok_or_else(|| ApiError::unauthenticated("sign in first: this operation needs an access token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_key_is_admin_tokens_are_users_anything_else_is_refused() {
        let jwt = jwt::JwtKeys::new("secret-secret-secret-secret", 60);
        assert_eq!(Caller::from_authorization(Some("Bearer k3y"), "k3y", &jwt).unwrap(), Caller::Admin);
        assert_eq!(Caller::from_authorization(None, "k3y", &jwt).unwrap(), Caller::Anonymous);
        assert!(Caller::from_authorization(Some("Bearer k3"), "k3y", &jwt).is_err());
        assert!(Caller::from_authorization(Some("k3y"), "k3y", &jwt).is_err());
        let (t, _) = jwt.issue("u1", &["admin".into()], &Default::default(), "f");
        let c = Caller::from_authorization(Some(&format!("Bearer {t}")), "k3y", &jwt).unwrap();
        assert_eq!(c.user().unwrap().id, "u1");
        assert!(c.is_admin(), "role admin passes every rule");
    }
}
