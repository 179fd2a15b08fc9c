//! Webhook endpoints through the API (`webhooks:manage`), as on the admin
//! page: list, add (the secret is in the answer, once), read, enable or
//! disable, delete, and send deliveries again.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use app::integrations::{webhooks, Scope, WebhookEndpoint, WebhookType};
use app::state::AppState;

use super::error::path_id;
use super::help_sessions::json_body;
use super::{ApiError, Client, ErrorBody};

#[derive(Debug, Serialize, ToSchema)]
pub struct Endpoints {
    pub endpoints: Vec<WebhookEndpoint>,
    /// The event types an endpoint can ask for.
    pub event_types: Vec<WebhookType>,
}

/// Every endpoint, and the event types there are.
#[utoipa::path(
    get, path = "/api/v1/webhooks", operation_id = "list_webhook_endpoints", tag = "webhooks",
    security(("client_assertion" = [])),
    responses(
        (status = 200, description = "Every endpoint", body = Endpoints),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `webhooks:manage`", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>, client: Client) -> Result<Json<Endpoints>, ApiError> {
    client.require(Scope::WebhooksManage)?;
    Ok(Json(Endpoints {
        endpoints: webhooks::list_of(&state.pool, client.0.owner_unless(Scope::WebhooksAll)).await?,
        event_types: webhooks::types(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where to send: http(s), at most 2,000 characters.
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// At least one event type.
    pub event_types: Vec<WebhookType>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_` and base64), shown this once.
    pub secret: String,
}

/// Adds an endpoint; the answer holds its signing secret.
#[utoipa::path(
    post, path = "/api/v1/webhooks", operation_id = "create_webhook_endpoint", tag = "webhooks",
    security(("client_assertion" = [])),
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "Added", body = CreatedEndpoint),
        (status = 400, description = "A field breaks a rule (the message names it)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `webhooks:manage`", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedEndpoint>), ApiError> {
    client.require(Scope::WebhooksManage)?;
    let new: NewEndpoint = json_body(&headers, &body)?;
    let added = webhooks::add(
        &state.pool,
        &state.secrets,
        Some(client.0.client),
        &new.url,
        new.description.as_deref().unwrap_or(""),
        &new.event_types,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedEndpoint { endpoint: added.endpoint, secret: added.secret })))
}

/// One endpoint.
#[utoipa::path(
    get, path = "/api/v1/webhooks/{endpoint_id}", operation_id = "get_webhook_endpoint", tag = "webhooks",
    security(("client_assertion" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `webhooks:manage`", body = ErrorBody),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn read(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    client.require(Scope::WebhooksManage)?;
    Ok(Json(webhooks::get_of(&state.pool, path_id(&id, "webhook endpoint")?, client.0.owner_unless(Scope::WebhooksAll)).await?))
}

/// Deletes an endpoint and its deliveries.
#[utoipa::path(
    delete, path = "/api/v1/webhooks/{endpoint_id}", operation_id = "delete_webhook_endpoint", tag = "webhooks",
    security(("client_assertion" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `webhooks:manage`", body = ErrorBody),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn delete(State(state): State<AppState>, client: Client, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let id = path_id(&id, "webhook endpoint")?;
    webhooks::get_of(&state.pool, id, client.0.owner_unless(Scope::WebhooksAll)).await?;
    webhooks::delete(&state.pool, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    pub enabled: bool,
}

/// Enables (forgetting why it was disabled) or disables an endpoint.
#[utoipa::path(
    put, path = "/api/v1/webhooks/{endpoint_id}/enabled", operation_id = "set_webhook_endpoint_enabled", tag = "webhooks",
    security(("client_assertion" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id")),
    request_body = Enabled,
    responses(
        (status = 200, description = "The endpoint now", body = WebhookEndpoint),
        (status = 400, description = "Not {\"enabled\": true|false}", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `webhooks:manage`", body = ErrorBody),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn set_enabled(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let id = path_id(&id, "webhook endpoint")?;
    let wanted: Enabled = json_body(&headers, &body)?;
    webhooks::get_of(&state.pool, id, client.0.owner_unless(Scope::WebhooksAll)).await?;
    Ok(Json(webhooks::set_enabled(&state.pool, id, wanted.enabled).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    /// One delivery (its `webhook-id` without `msg_`), or ...
    #[serde(default)]
    pub delivery_id: Option<Uuid>,
    /// ... every delivery made from `from` until `until` (RFC 3339).
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resent {
    /// Deliveries that will be sent again (with their own ids).
    pub resent: u64,
}

/// Sends deliveries again: one, or those made in a time range.
#[utoipa::path(
    post, path = "/api/v1/webhooks/{endpoint_id}/resend", operation_id = "resend_webhook_deliveries", tag = "webhooks",
    security(("client_assertion" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id")),
    request_body = Resend,
    responses(
        (status = 200, description = "How many will be sent again", body = Resent),
        (status = 400, description = "Neither a delivery nor a range, or a bad moment", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `webhooks:manage`", body = ErrorBody),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn resend(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Resent>, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let id = path_id(&id, "webhook endpoint")?;
    let wanted: Resend = json_body(&headers, &body)?;
    webhooks::get_of(&state.pool, id, client.0.owner_unless(Scope::WebhooksAll)).await?;
    let moment = |field: &str, raw: Option<&str>| {
        raw.map(|raw| {
            webhooks::parse_moment(raw).ok_or_else(|| ApiError::invalid(format!("{field} must be a moment in RFC 3339.")))
        })
        .transpose()
    };
    let resent = webhooks::resend(
        &state.pool,
        id,
        wanted.delivery_id,
        moment("from", wanted.from.as_deref())?,
        moment("until", wanted.until.as_deref())?,
    )
    .await?;
    Ok(Json(Resent { resent }))
}
