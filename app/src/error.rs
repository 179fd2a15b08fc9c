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
    /// 429: too many tries; the message says when to try again.
    #[error("{0}")]
    TooManyRequests(String),
    /// 503: the service cannot take this now (a full queue, nobody on duty);
    /// the message says what the person can do instead.
    #[error("{0}")]
    Unavailable(String),
    /// 500: something failed on our side; the details are in the server log.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never reached the function or its answer never came back
    /// (network, encoding). Status chosen by the transport.
    #[error("{0}")]
    Transport(String),
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
            Self::Conflict(_) => 409,
            Self::TooManyRequests(_) => 429,
            Self::Unavailable(_) => 503,
            Self::Internal | Self::Transport(_) => 500,
        }
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
            // role) are the client's mistake, not ours.
            ServerFnErrorErr::Args(message) => Self::Invalid(format!("The form was incomplete: {message}")),
            other => Self::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
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
