//! Who is calling. For now: the service key (acts as `admin`) or an anonymous caller; sign-in
//! with JWTs arrives with the authentication issue and will add `Caller::User`.

pub mod password;
mod service_key;
mod users;

pub use service_key::{SERVICE_KEY_FILE, load_or_create_service_key};
pub use users::create_user;

use crate::error::{ApiError, ApiResult};
use subtle::ConstantTimeEq;

/// The identity a request runs as, stored in the GraphQL request data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// Presented the service key: passes every rule.
    Admin,
}

impl Caller {
    /// Resolves an `Authorization` header value. The service key is compared in constant time;
    /// any other bearer token is refused until sign-in (JWT) support lands.
    pub fn from_authorization(header: Option<&str>, service_key: &str) -> ApiResult<Caller> {
        let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Caller::Anonymous);
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthenticated("the Authorization header must be `Bearer <token>`"))?
            .trim();
        if bool::from(token.as_bytes().ct_eq(service_key.as_bytes())) {
            Ok(Caller::Admin)
        } else {
            Err(ApiError::unauthenticated("invalid or expired token"))
        }
    }

    /// Until `@auth` rules are enforced, generated model operations are admin-only.
    pub fn require_admin(&self) -> ApiResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Anonymous => Err(ApiError::unauthenticated(
                "this operation needs a signed-in caller: send `Authorization: Bearer <service key>` (see `ferrobase keys`)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_key_is_admin_anything_else_is_refused() {
        assert_eq!(Caller::from_authorization(Some("Bearer k3y"), "k3y").unwrap(), Caller::Admin);
        assert_eq!(Caller::from_authorization(None, "k3y").unwrap(), Caller::Anonymous);
        assert!(Caller::from_authorization(Some("Bearer k3"), "k3y").is_err());
        assert!(Caller::from_authorization(Some("k3y"), "k3y").is_err());
    }
}
