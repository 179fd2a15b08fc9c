//! `Idempotency-Key`: a client that retries a request (after a timeout, a
//! lost connection) with the same key and the same body gets the first
//! answer again instead of a second help session. The key is claimed in
//! the database before the work starts, so two servers given the same
//! retry at once do it once; answers are kept for a day, without the
//! customer tokens they held (a replay is given fresh ones).

use std::future::Future;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::ApiError;
use app::error::AppError;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY: usize = 200;

/// The key a request carries, checked: 1 to 200 visible ASCII characters.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else { return Ok(None) };
    let key =
        value.to_str().ok().filter(|key| !key.is_empty() && key.len() <= MAX_KEY && key.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|key| Some(key.to_owned()))
        .ok_or_else(|| ApiError::invalid(format!("Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters.")))
}

/// Does `work` once for `client`'s `key` and this `body`; a repeat gets the
/// stored answer (marked `Idempotent-Replayed: true`), the same key with
/// another body 422, and a repeat while the first is still being worked on
/// 409. Answers the server could not give (5xx, 429) are not kept, so a
/// retry does the work.
///
/// The answer is kept without its customer token and link ([`SECRETS`]);
/// `refresh` puts fresh ones into a replayed answer.
pub async fn once<Work, Refresh, Refreshed>(
    pool: &PgPool,
    client: Uuid,
    key: Option<String>,
    body: &[u8],
    work: Work,
    refresh: Refresh,
) -> Result<Response, ApiError>
where
    Work: Future<Output = Result<(StatusCode, serde_json::Value), ApiError>>,
    Refresh: FnOnce(serde_json::Value) -> Refreshed,
    Refreshed: Future<Output = Result<serde_json::Value, ApiError>>,
{
    let Some(key) = key else {
        return Ok(answer(work.await, false));
    };
    let hash = hex::encode(Sha256::digest(body));
    // A claim left unanswered for a minute was a server stopped mid-way:
    // this request takes it over.
    let claimed = sqlx::query_scalar!(
        "INSERT INTO api_idempotency (client_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (client_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, created_at = now()
            WHERE api_idempotency.status IS NULL AND api_idempotency.created_at < now() - interval '1 minute'
         RETURNING true",
        client,
        key,
        hash
    )
    .fetch_optional(pool)
    .await
    .map_err(AppError::from)?
    .is_some();
    if !claimed {
        let earlier = sqlx::query!(
            "SELECT request_hash, status, answer FROM api_idempotency WHERE client_id = $1 AND key = $2",
            client,
            key
        )
        .fetch_optional(pool)
        .await
        .map_err(AppError::from)?;
        let Some(earlier) = earlier else {
            return Err(ApiError(AppError::IdempotencyInProgress));
        };
        if earlier.request_hash != hash {
            return Err(ApiError(AppError::IdempotencyKeyReused));
        }
        return match (earlier.status.and_then(|status| StatusCode::from_u16(status as u16).ok()), earlier.answer) {
            (Some(status), Some(answer)) if status.is_success() => Ok(answer_of(status, refresh(answer).await?, true)),
            (Some(status), Some(answer)) => Ok(answer_of(status, answer, true)),
            _ => Err(ApiError(AppError::IdempotencyInProgress)),
        };
    }
    let outcome = work.await;
    let kept = match &outcome {
        Ok((status, answer)) => Some((*status, without_secrets(answer))),
        Err(ApiError(error)) if is_kept(error) => {
            Some((crate::api_status::status(error), serde_json::to_value(super::ErrorBody::of(error)).unwrap_or_default()))
        }
        Err(_) => None,
    };
    let stored = match kept {
        Some((status, answer)) => {
            sqlx::query!(
                "UPDATE api_idempotency SET status = $3, answer = $4 WHERE client_id = $1 AND key = $2",
                client,
                key,
                status.as_u16() as i16,
                answer
            )
            .execute(pool)
            .await
        }
        None => sqlx::query!("DELETE FROM api_idempotency WHERE client_id = $1 AND key = $2", client, key).execute(pool).await,
    };
    if let Err(error) = stored {
        tracing::error!(%error, client = %client, "keeping an idempotent answer");
    }
    Ok(answer(outcome, false))
}

/// The fields of an answer that are a customer's keys: never stored.
pub const SECRETS: [&str; 2] = ["token", "customer_url"];

fn without_secrets(answer: &serde_json::Value) -> serde_json::Value {
    let mut kept = answer.clone();
    if let Some(fields) = kept.as_object_mut() {
        for secret in SECRETS {
            fields.remove(secret);
        }
    }
    kept
}

/// Whether a refusal is kept as the key's answer: the client's mistakes,
/// but not "too many requests" (trying again later may succeed).
fn is_kept(error: &AppError) -> bool {
    let status = crate::api_status::status(error);
    status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS
}

fn answer(outcome: Result<(StatusCode, serde_json::Value), ApiError>, replayed: bool) -> Response {
    match outcome {
        Ok((status, body)) => answer_of(status, body, replayed),
        Err(error) => error.into_response(),
    }
}

fn answer_of(status: StatusCode, body: serde_json::Value, replayed: bool) -> Response {
    let mut response = (status, Json(body)).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
