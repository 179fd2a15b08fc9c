//! The one error type of the app layer: what a server function can answer.
//!
//! Every variant says which HTTP status it becomes. Its `Display` text is what
//! the person sees, so it is written for them; details of unexpected failures
//! are logged on the server and never sent.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 400: the input breaks a rule; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// 401: sign-in needed, or the email and password do not match.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but the role does not allow this.
    #[error("You don't have access to this.")]
    Forbidden,
    /// 404: the thing asked for does not exist (or is gone).
    #[error("{0}")]
    NotFound(String),
    /// 409: the request clashes with what is stored (e.g. an email in use).
    #[error("{0}")]
    Conflict(String),
    /// 409: the queue is not taking this customer now (its line is full,
    /// it is closed, nobody is on duty); the message says what they can do
    /// instead.
    #[error("{0}")]
    NotTaking(String),
    /// 409: a callback to this number is already waiting in this queue.
    /// Nothing else about it is said: it is somebody's.
    #[error("A callback to this number is already waiting.")]
    CallbackExists,
    /// 429: too many tries; the message says when to try again, and so does
    /// the `Retry-After` header.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_seconds: u64 },
    /// 503: the service cannot take this now (a full queue, nobody on duty);
    /// the message says what the person can do instead.
    #[error("{0}")]
    Unavailable(String),
    /// 503: the database gave up a transaction to a deadlock or a
    /// serialization conflict, even after the engine retried it.
    #[error("Many changes happened at once. Please try again.")]
    Contention,
    /// 500: something failed on our side; the details are in the server log.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never reached the function or its answer never came back
    /// (network, encoding). Status chosen by the transport.
    #[error("{0}")]
    Transport(String),
    /// 400: a request's body is not the JSON the operation takes (the
    /// message names the field); 415 when it is not JSON at all, 413 when
    /// it is too large.
    #[error("{message}")]
    InvalidBody { message: String, status: BodyRefused },
    /// 400: a query parameter the operation does not take, or of the wrong
    /// type.
    #[error("{0}")]
    InvalidQuery(String),
    /// 422: an `Idempotency-Key` used before with another body.
    #[error("This Idempotency-Key was used with another body; use a new key for a new request.")]
    IdempotencyKeyReused,
    /// 409: the first request with this `Idempotency-Key` is still being
    /// worked on.
    #[error("A request with this Idempotency-Key is still being worked on; try again in a moment.")]
    IdempotencyInProgress,
    /// 401 or 403: an API client's token refused (`code` says why: one of
    /// the token codes, `client_disabled` or `missing_scope`).
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
}

/// Why a request's body was refused, beyond its fields: the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyRefused {
    /// 400: JSON of another shape.
    Shape,
    /// 415: not JSON.
    NotJson,
    /// 413.
    TooLarge,
}

/// What went wrong, for programs: every `code` an error answer of v1 may
/// carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    InvalidBody,
    InvalidQuery,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    QueueNotTaking,
    CallbackExists,
    IdempotencyKeyReused,
    IdempotencyInProgress,
    RateLimited,
    Unavailable,
    Internal,
    TokenMissing,
    TokenMalformed,
    UnknownClient,
    WrongAlgorithm,
    BadSignature,
    ClaimMissing,
    TokenExpired,
    TokenNotYetValid,
    TokenLifetimeTooLong,
    WrongAudience,
    WrongSubject,
    TokenReplayed,
    ClientDisabled,
    MissingScope,
}

impl AppError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn status_code(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) | Self::NotTaking(_) | Self::CallbackExists => 409,
            Self::TooManyRequests { .. } => 429,
            Self::Unavailable(_) | Self::Contention => 503,
            Self::Internal | Self::Transport(_) => 500,
            Self::InvalidBody { status: BodyRefused::Shape, .. } | Self::InvalidQuery(_) => 400,
            Self::InvalidBody { status: BodyRefused::NotJson, .. } => 415,
            Self::InvalidBody { status: BodyRefused::TooLarge, .. } => 413,
            Self::IdempotencyKeyReused => 422,
            Self::IdempotencyInProgress => 409,
            Self::Refused { code: ErrorCode::ClientDisabled | ErrorCode::MissingScope, .. } => 403,
            Self::Refused { .. } => 401,
        }
    }

    /// What went wrong, for programs: the `code` of an API's error answer.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::Invalid,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::NotTaking(_) => ErrorCode::QueueNotTaking,
            Self::CallbackExists => ErrorCode::CallbackExists,
            Self::TooManyRequests { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) | Self::Contention => ErrorCode::Unavailable,
            Self::Internal | Self::Transport(_) => ErrorCode::Internal,
            Self::InvalidBody { .. } => ErrorCode::InvalidBody,
            Self::InvalidQuery(_) => ErrorCode::InvalidQuery,
            Self::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            Self::IdempotencyInProgress => ErrorCode::IdempotencyInProgress,
            Self::Refused { code, .. } => *code,
        }
    }

    /// How long to wait before trying again, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_seconds, .. } => Some(*retry_after_seconds),
            Self::Unavailable(_) | Self::Contention | Self::IdempotencyInProgress => Some(1),
            _ => None,
        }
    }

    /// The database or the service behind it is briefly out of reach.
    pub fn outage() -> Self {
        Self::Unavailable("The service is briefly unavailable. Please try again in a moment.".into())
    }

    pub fn sign_in_needed() -> Self {
        Self::Unauthorized("Please sign in first.".into())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not even parse (a missing field, an unknown
            // role, JSON of another shape) are the client's mistake, not ours.
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::MissingArg(message) => Self::Invalid(format!("The form was incomplete: {message}")),
            other => Self::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "server")]
mod ssr {
    use super::AppError;

    /// What a database error means for the person: a value the database
    /// cannot take is their input's fault (400), an outage is temporary
    /// (503), anything else is ours (500, logged).
    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            use sqlx::Error;
            match &error {
                Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    if code == "40001" || code == "40P01" {
                        tracing::warn!(%error, "transaction lost to a concurrent one");
                        return AppError::Contention;
                    }
                    if code.starts_with("22") {
                        tracing::info!(%error, "refused a value the database cannot take");
                        return AppError::invalid("A value in the request cannot be stored (it is out of range or holds characters that are not allowed).");
                    }
                    // Connection exceptions, too many connections, a server
                    // shutting down or starting up.
                    if code.starts_with("08") || code.starts_with("57P") || code == "53300" {
                        tracing::warn!(%error, "database unavailable");
                        return AppError::outage();
                    }
                }
                Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::Tls(_) | Error::Protocol(_) => {
                    tracing::warn!(%error, "database unavailable");
                    return AppError::outage();
                }
                _ => {}
            }
            tracing::error!(%error, "database error");
            AppError::Internal
        }
    }

    impl From<tokio::task::JoinError> for AppError {
        fn from(error: tokio::task::JoinError) -> Self {
            tracing::error!(%error, "background task failed");
            AppError::Internal
        }
    }
}
