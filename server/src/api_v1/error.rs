//! The API's one error answer: a status, a code a program can branch on,
//! and a message a person can act on, as `{"error": {"code", "message"}}`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use app::error::AppError;
use app::integrations::assertion::{Denied, Refusal};

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn of(error: &ApiError) -> Self {
        Self { error: ErrorDetail { code: error.code, message: error.message.clone() } }
    }
}

/// What went wrong, for programs: every `code` an error answer of v1 may
/// carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(inline)]
    pub code: ErrorCode,
    /// What went wrong, for people, naming the field and the rule.
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ErrorCode {
    /// The published code of an application error or a token's refusal
    /// (`AppError::code`, `Refusal::code`); a test holds every one of them
    /// to the list.
    fn of(code: &str) -> Self {
        serde_json::from_value(serde_json::Value::from(code)).unwrap_or_else(|_| {
            tracing::error!(code, "an error code /api/v1 does not publish");
            ErrorCode::Internal
        })
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, message)
    }
}

/// The code of each kind of application error.
impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self {
            status: crate::api_status::status(&error),
            code: ErrorCode::of(error.code()),
            message: error.to_string(),
            retry_after: error.retry_after(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        Self::new(status, ErrorCode::of(refusal.code()), refusal.message())
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Refused(refusal) => refusal.into(),
            Denied::Failed(error) => error.into(),
        }
    }
}

/// A body that is not JSON, or not the JSON asked for: serde's message
/// names the field (a missing one, an unknown one, a wrong type).
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::BytesRejection(_) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, ErrorCode::InvalidBody, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidQuery, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(ErrorBody::of(&self))).into_response();
        crate::api_status::retry_after(response.headers_mut(), self.retry_after);
        response
    }
}

/// An id in the path, or a 404 that says what was not found.
pub fn path_id(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("No such {what}.")))
}

#[cfg(test)]
mod tests {
    use app::error::AppError;
    use app::integrations::assertion::Refusal;

    use super::ErrorCode;

    fn listed(code: &str) -> bool {
        code == "internal" || ErrorCode::of(code) != ErrorCode::Internal
    }

    /// Every code an answer can carry is one the document lists.
    #[test]
    fn every_error_code_is_in_the_published_list() {
        let errors = [
            AppError::invalid(""),
            AppError::Unauthorized(String::new()),
            AppError::Forbidden,
            AppError::NotFound(String::new()),
            AppError::Conflict(String::new()),
            AppError::NotTaking(String::new()),
            AppError::CallbackExists,
            AppError::TooManyRequests { message: String::new(), retry_after_seconds: 1 },
            AppError::Unavailable(String::new()),
            AppError::Contention,
            AppError::Internal,
            AppError::Transport(String::new()),
        ];
        for error in errors {
            assert!(listed(error.code()), "{}", error.code());
        }
        let refusals = [
            Refusal::Missing,
            Refusal::Malformed(String::new()),
            Refusal::UnknownClient,
            Refusal::WrongAlgorithm,
            Refusal::BadSignature,
            Refusal::MissingClaim("exp"),
            Refusal::Expired,
            Refusal::NotYetValid,
            Refusal::TooLong,
            Refusal::WrongAudience,
            Refusal::WrongSubject,
            Refusal::Replayed,
            Refusal::Disabled,
            Refusal::MissingScope(app::integrations::Scope::QueuesRead),
        ];
        for refusal in refusals {
            assert!(listed(refusal.code()), "{}", refusal.code());
        }
        assert!(!listed("no_such_code"));
    }
}
