//! Access tokens: HS256 JWTs with `sub`, `roles`, `iat`, `exp`, `iss`, the session id `sid`, and
//! the user's custom claims. The algorithm and issuer are pinned on verification.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const ISSUER: &str = "ferrobase";

/// Claims names that custom claims may not override.
const RESERVED: &[&str] = &["sub", "roles", "iat", "exp", "iss", "sid", "nbf", "aud", "jti"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// The session family the token was issued for.
    #[serde(default)]
    pub sid: Option<String>,
    /// Custom claims (`setUserClaims`), readable in rules as `$claims.<name>`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_secs: u64,
}

impl JwtKeys {
    pub fn new(secret: &str, ttl_secs: u64) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl_secs,
        }
    }

    /// Issues an access token; returns it and its expiry (Unix seconds).
    pub fn issue(&self, user_id: &str, roles: &[String], extra: &Map<String, Value>, sid: &str) -> (String, i64) {
        let now = chrono::Utc::now().timestamp();
        let exp = now + self.ttl_secs as i64;
        let claims = Claims {
            sub: user_id.to_string(),
            roles: roles.to_vec(),
            iat: now,
            exp,
            iss: ISSUER.into(),
            sid: Some(sid.to_string()),
            extra: extra
                .iter()
                .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail");
        (token, exp)
    }

    /// Verifies signature, algorithm, issuer and expiry.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> JwtKeys {
        JwtKeys::new("test-secret-test-secret-test-secret", 900)
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let mut extra = Map::new();
        extra.insert("org".into(), Value::from("acme"));
        extra.insert("sub".into(), Value::from("evil"));
        let (t, exp) = keys().issue("u1", &["editor".into()], &extra, "fam");
        let c = keys().verify(&t).expect("valid");
        assert_eq!(c.sub, "u1", "custom claims cannot override sub");
        assert_eq!(c.roles, vec!["editor"]);
        assert_eq!(c.extra["org"], "acme");
        assert_eq!(c.exp, exp);
        assert_eq!(c.sid.as_deref(), Some("fam"));
    }

    #[test]
    fn forged_expired_and_foreign_tokens_are_refused() {
        let k = keys();
        let (t, _) = k.issue("u1", &[], &Map::new(), "f");
        // Another secret.
        assert!(JwtKeys::new("another-secret-another-secret", 900).verify(&t).is_none());
        // alg: none with the same payload.
        let payload = t.split('.').nth(1).unwrap();
        let none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#));
        assert!(k.verify(&none).is_none());
        // Another algorithm (HS384) with the right secret.
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let hs384 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &claims,
            &EncodingKey::from_secret(b"test-secret-test-secret-test-secret"),
        )
        .unwrap();
        assert!(k.verify(&hs384).is_none());
        // Wrong issuer and expired.
        for (iss, exp) in [("someone-else", claims.exp), (ISSUER, chrono::Utc::now().timestamp() - 60)] {
            let c = Claims { iss: iss.into(), exp, ..claims.clone() };
            let t = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &c,
                &EncodingKey::from_secret(b"test-secret-test-secret-test-secret"),
            )
            .unwrap();
            assert!(k.verify(&t).is_none(), "iss {iss}, exp {exp}");
        }
        // Tampered payload.
        let mut parts: Vec<&str> = t.split('.').collect();
        let evil = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Claims { sub: "admin".into(), ..claims }).unwrap());
        parts[1] = &evil;
        assert!(k.verify(&parts.join(".")).is_none());
    }
}
