//! How an `AppError`, the one error type, answers over HTTP, in one place:
//! the status its variant stands for (400 for bad input, 401, 403, 404,
//! 409, 429, ...) and `Retry-After` when waiting helps. Each caller writes
//! the body its clients read, a thin rendering of the same error: plain
//! text for a page's socket or download, the service kit's `{"error",
//! "code"}`, `/api/v1`'s `{"error": {"code", "message"}}`, a server
//! function's encoded error.
//!
//! Server functions answer every error with 500 unless told otherwise:
//! `api_status`, a layer, gives theirs the right status, including
//! arguments that never reached the function because they did not parse.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

use app::error::AppError;

/// Error bodies are a short JSON message; anything larger is not one of ours.
const MAX_ERROR_BODY: usize = 16 * 1024;

pub async fn api_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let error = AppError::de(bytes.clone());
    parts.status = status(&error);
    retry_after(&mut parts.headers, error.retry_after());
    Response::from_parts(parts, Body::from(bytes))
}

/// The status `error` stands for.
pub fn status(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `Retry-After`, when waiting helps.
pub fn retry_after(headers: &mut HeaderMap, seconds: Option<u64>) {
    if let Some(seconds) = seconds {
        headers.insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
}

/// `error`'s answer, with the body its caller writes for it.
pub fn answer(error: &AppError, body: impl IntoResponse) -> Response {
    let mut response = (status(error), body).into_response();
    retry_after(response.headers_mut(), error.retry_after());
    response
}
