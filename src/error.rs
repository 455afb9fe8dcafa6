//! One table of error codes: each maps to an `extensions.code` clients match on and an HTTP
//! status. User errors carry a message meant for the client; internal errors are logged in full
//! and shown censored (no SQL, no paths, no stack).

use async_graphql::ErrorExtensions;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status for a response that carries only this error (GraphQL-over-HTTP keeps
    /// 200 for field errors; this is for errors raised before execution).
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadUserInput => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::RateLimited => 429,
            Self::Internal => 500,
        }
    }
}

/// An error a resolver returns to the client. (Deliberately not `Display`, so that it converts
/// into a GraphQL error through our `From` with its code, not async-graphql's blanket one.)
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field the error is about (`extensions.field`), when there is one.
    pub field: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadUserInput, message)
    }
    /// A `BAD_USER_INPUT` about one input field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self { code: ErrorCode::BadUserInput, message: message.into(), field: Some(field.to_string()) }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    /// Logs `err` in full and returns a censored `INTERNAL` error.
    pub fn internal(err: impl fmt::Display) -> Self {
        let id = uuid::Uuid::now_v7();
        tracing::error!(error_id = %id, "internal error: {err}");
        Self::new(ErrorCode::Internal, format!("internal error (id {id}); see the server log"))
    }
}

impl ApiError {
    /// As a GraphQL error at `pos` (with its `extensions.code`), for a response built by hand.
    pub fn into_server_error(self, pos: async_graphql::Pos) -> async_graphql::ServerError {
        async_graphql::Error::from(self).into_server_error(pos)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        let code = e.code.as_str();
        let field = e.field.clone();
        async_graphql::Error::new(e.message).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(f) = &field {
                ext.set("field", f.as_str());
            }
        })
    }
}

impl From<sea_orm::DbErr> for ApiError {
    /// Database errors the client did not cause are internal; constraint violations are
    /// translated where the caller knows more (see `sql::errors`).
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::internal(e)
    }
}
