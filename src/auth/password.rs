//! Password hashing: argon2id with the crate's default parameters (19 MiB, 2 passes, 1 lane),
//! stored as a PHC string.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Checks a new password's length (`field` names the input) and hashes it off the async
/// workers: argon2 is slow by design.
pub async fn hash_new(field: &str, password: String) -> crate::error::ApiResult<String> {
    use crate::error::ApiError;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("the password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    tokio::task::spawn_blocking(move || hash(&password)).await.map_err(ApiError::internal)?.map_err(ApiError::internal)
}

/// Whether `password` matches the stored PHC string (false for a malformed hash).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_are_salted() {
        let a = super::hash("correct horse").unwrap();
        let b = super::hash("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "random salt");
        assert!(super::verify("correct horse", &a));
        assert!(!super::verify("wrong horse", &a));
        assert!(!super::verify("correct horse", "not a hash"));
    }
}
