//! The API's rendering of the one error type, [`AppError`]: its status
//! (`api_status`), and `{"error": {"code", "message"}}` with a code a
//! program can branch on and a message a person can act on.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use app::error::{AppError, BodyRefused, ErrorCode};
use app::integrations::assertion::{Denied, Refusal};

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn of(error: &AppError) -> Self {
        Self { error: ErrorDetail { code: error.code(), message: error.to_string() } }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(inline)]
    pub code: ErrorCode,
    /// What went wrong, for people, naming the field and the rule.
    pub message: String,
}

/// An [`AppError`] as `/api/v1` answers it.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self(AppError::invalid(message))
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        Self(refusal.into())
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        Self(denied.into())
    }
}

/// A body that is not JSON, or not the JSON asked for: serde's message
/// names the field (a missing one, an unknown one, a wrong type).
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection {
            JsonRejection::MissingJsonContentType(_) => BodyRefused::NotJson,
            JsonRejection::BytesRejection(_) => BodyRefused::TooLarge,
            _ => BodyRefused::Shape,
        };
        Self(AppError::InvalidBody { message: rejection.body_text(), status })
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self(AppError::InvalidQuery(rejection.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::api_status::answer(&self.0, Json(ErrorBody::of(&self.0)))
    }
}

/// An id in the path, or a 404 that says what was not found.
pub fn path_id(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError(AppError::NotFound(format!("No such {what}."))))
}
