//! Server functions answer every error with 500 unless told otherwise. This
//! layer gives each error the status its `AppError` variant stands for (400
//! for bad input, 401, 403, 404, 409, 429, ...), in one place for every
//! server function, including arguments that never reached the function
//! because they did not parse, and `Retry-After` when waiting helps.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

use app::error::AppError;

/// Error bodies are a short JSON message; anything larger is not one of ours.
const MAX_ERROR_BODY: usize = 16 * 1024;

pub async fn api_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let error = AppError::de(bytes.clone());
    parts.status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(seconds) = error.retry_after() {
        parts.headers.insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
    Response::from_parts(parts, Body::from(bytes))
}
