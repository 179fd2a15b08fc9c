//! Callbacks through the API (SPEC §7): a website backend asks for a call
//! to a customer without them opening a page. The callback keeps its place
//! in the queue like any customer; a second request for a number with a
//! callback still open gets that one back.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use app::customer::request::{parse_phone, HelpForm};
use app::customer::view::{customer_view, rfc3339};
use app::customer::CustomerView;
use app::engine::line::{self, FromApi};
use app::error::AppError;
use app::integrations::Scope;
use app::state::AppState;
use app::states::{HelpSessionId, HelpStatus, QueueId};

use super::error::path_id;
use super::help_sessions::{cancel_session, external_reference, json_body};
use super::{idempotency, ApiError, Client, ErrorBody};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCallback {
    pub queue_id: Uuid,
    /// The customer's name, 1–80 characters.
    pub name: String,
    /// E.164: `+` and the country code.
    pub phone: String,
    /// What they need help with, 1–500 characters.
    pub reason: String,
    /// When they would like the call (RFC 3339, both or neither; the
    /// window must be in the future and at most a week long). Without
    /// one: as soon as possible.
    #[serde(default)]
    pub window_from: Option<String>,
    #[serde(default)]
    pub window_until: Option<String>,
    /// Your own reference (a CRM ticket), up to 200 characters.
    #[serde(default)]
    pub external_reference: Option<String>,
}

/// A callback. Its `status`: `waiting` (in line), `offered`, `active` (being
/// dialled), `completed` (reached), `cancelled`, `unreachable` (not reached
/// in the queue's attempts), `invalid` (a wrong number), `expired`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Callback {
    pub id: Uuid,
    pub queue_id: Uuid,
    #[schema(inline)]
    pub status: HelpStatus,
    pub customer_name: String,
    pub phone: String,
    pub reason: String,
    pub window_from: Option<String>,
    pub window_until: Option<String>,
    /// Calls made so far.
    pub attempts: i32,
    pub external_reference: Option<String>,
    pub requested_at: String,
    pub reached_at: Option<String>,
    pub ended_at: Option<String>,
    /// While in line: 1 = next.
    pub position: Option<i64>,
}

struct Row {
    id: Uuid,
    queue_id: Uuid,
    status: HelpStatus,
    customer_name: String,
    phone: Option<String>,
    reason: String,
    callback_from: Option<OffsetDateTime>,
    callback_until: Option<OffsetDateTime>,
    attempts: i32,
    external_reference: Option<String>,
    entered_at: OffsetDateTime,
    reached_at: Option<OffsetDateTime>,
    ended_at: Option<OffsetDateTime>,
}

/// `mine`: the client whose callbacks it may be (`None`: anyone's); another
/// client's is "no such" callback, as one that does not exist.
async fn callback(state: &AppState, id: HelpSessionId, mine: Option<Uuid>) -> Result<Callback, ApiError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, queue_id, status AS "status: HelpStatus", customer_name, phone, reason, callback_from, callback_until,
                attempts, external_reference, entered_at, reached_at, ended_at
           FROM help_sessions WHERE id = $1 AND channel = 'callback' AND ($2::uuid IS NULL OR api_client_id = $2)"#,
        id.uuid(),
        mine
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(AppError::from)?
    .ok_or_else(|| ApiError::from(AppError::NotFound("No such callback.".into())))?;
    let position = match customer_view(&state.pool, id).await? {
        Some(CustomerView::Waiting { position, .. }) => Some(position),
        _ => None,
    };
    Ok(Callback {
        id: row.id,
        queue_id: row.queue_id,
        status: row.status,
        customer_name: row.customer_name,
        phone: row.phone.unwrap_or_default(),
        reason: row.reason,
        window_from: row.callback_from.map(rfc3339),
        window_until: row.callback_until.map(rfc3339),
        attempts: row.attempts,
        external_reference: row.external_reference,
        requested_at: rfc3339(row.entered_at),
        reached_at: row.reached_at.map(rfc3339),
        ended_at: row.ended_at.map(rfc3339),
        position,
    })
}

/// Asks for a call back. 201 with the new callback; 200 with the one this
/// client made that is still open for this queue and number; 409
/// `callback_exists` when somebody else's is (nothing more is said of it). An `Idempotency-Key` makes a
/// retry safe as on help sessions.
#[utoipa::path(
    post, path = "/api/v1/callbacks", operation_id = "create_callback", tag = "callbacks",
    security(("client_assertion" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe: 1–200 visible ASCII characters")),
    request_body = NewCallback,
    responses(
        (status = 201, description = "Requested: in line", body = Callback),
        (status = 200, description = "This client's callback for this number is open already: that one", body = Callback),
        (status = 400, description = "A field breaks a rule (the message names it)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `callbacks:write`", body = ErrorBody),
        (status = 404, description = "No such queue", body = ErrorBody),
        (status = 409, description = "The queue is not taking customers now (full, closed, nobody on duty), a callback to this number made by somebody else is open (`callback_exists`), or the same Idempotency-Key is still being worked on", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with another body", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    client.require(Scope::CallbacksWrite)?;
    let key = idempotency::key(&headers)?;
    let caller = client.0.client;
    idempotency::once(
        &state.pool,
        caller,
        key,
        &body,
        async {
            let request: NewCallback = json_body(&headers, &body)?;
            let (status, made) = request_callback(&state, caller, request).await?;
            Ok((status, serde_json::to_value(made).map_err(|_| ApiError::from(AppError::Internal))?))
        },
        |answer| async { Ok(answer) },
    )
    .await
}

async fn request_callback(state: &AppState, client: Uuid, request: NewCallback) -> Result<(StatusCode, Callback), ApiError> {
    let reference = external_reference(request.external_reference.as_deref())?;
    let window = match (request.window_from.as_deref(), request.window_until.as_deref()) {
        (None, None) => String::new(),
        (Some(from), Some(until)) => format!("{from}/{until}"),
        _ => return Err(ApiError::invalid("Give both window_from and window_until, or neither.")),
    };
    let form = HelpForm::parse(
        &state.pool,
        &request.queue_id.to_string(),
        &request.name,
        &request.reason,
        "callback",
        &request.phone,
        &window,
    )
    .await?;
    // Open already for this number: this client's own is given back (200);
    // another's is refused by the engine.
    let phone = parse_phone(&request.phone)?;
    let mut conn = state.pool.acquire().await.map_err(AppError::from)?;
    let open = line::open_callback(&mut conn, QueueId::from(request.queue_id), &phone).await?.map(|open| open.id);
    drop(conn);
    let mut new = form.0;
    new.from_api = Some(FromApi { client, external_reference: reference });
    let id = line::enter(&state.engine, new).await?;
    let status = if open == Some(id) { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, callback(state, id, None).await?))
}

/// One callback: where it stands, the calls made.
#[utoipa::path(
    get, path = "/api/v1/callbacks/{callback_id}", operation_id = "get_callback", tag = "callbacks",
    security(("client_assertion" = [])),
    params(("callback_id" = String, Path, description = "The callback's id")),
    responses(
        (status = 200, description = "The callback", body = Callback),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `callbacks:write`", body = ErrorBody),
        (status = 404, description = "No such callback", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn read(State(state): State<AppState>, client: Client, Path(id): Path<String>) -> Result<Json<Callback>, ApiError> {
    client.require(Scope::CallbacksWrite)?;
    let id = HelpSessionId::from(path_id(&id, "callback")?);
    Ok(Json(callback(&state, id, client.0.owner_unless(Scope::HelpSessionsAll)).await?))
}

/// Withdraws a callback still in line.
#[utoipa::path(
    delete, path = "/api/v1/callbacks/{callback_id}", operation_id = "cancel_callback", tag = "callbacks",
    security(("client_assertion" = [])),
    params(("callback_id" = String, Path, description = "The callback's id")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `callbacks:write`", body = ErrorBody),
        (status = 404, description = "No such callback", body = ErrorBody),
        (status = 409, description = "Being called now, or ended", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn cancel(State(state): State<AppState>, client: Client, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    client.require(Scope::CallbacksWrite)?;
    let id = HelpSessionId::from(path_id(&id, "callback")?);
    callback(&state, id, client.0.owner_unless(Scope::HelpSessionsAll)).await?;
    cancel_session(&state, id).await
}
