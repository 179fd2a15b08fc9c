//! Integrations (SPEC §10): the API clients a website backend or another
//! tool calls `/api/v1` as. An admin registers a client with the scopes it
//! may use and is shown its secret once; the client signs its own
//! short-lived bearer tokens with it ([`assertion`]). Secrets can be
//! rotated (the old one keeps working for a grace period) and clients
//! disabled (refused at once). Webhook endpoints receive the events they
//! ask for, signed, from the database's outbox ([`webhooks`]).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;
pub use engine::webhook_type::WebhookType;

#[cfg(feature = "ssr")]
pub mod assertion;
#[cfg(feature = "ssr")]
pub mod clients;
#[cfg(feature = "ssr")]
pub mod webhooks;

/// What an API client may do, one scope per kind of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "help_sessions:write")]
    HelpSessionsWrite,
    #[serde(rename = "help_sessions:read")]
    HelpSessionsRead,
    /// Beyond its own: every help session and callback, and the whole event
    /// feed (supervision aside).
    #[serde(rename = "help_sessions:all")]
    HelpSessionsAll,
    #[serde(rename = "callbacks:write")]
    CallbacksWrite,
    #[serde(rename = "queues:read")]
    QueuesRead,
    #[serde(rename = "agents:read")]
    AgentsRead,
    #[serde(rename = "agents:write")]
    AgentsWrite,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Beyond its own: every webhook endpoint, the admin's included.
    #[serde(rename = "webhooks:all")]
    WebhooksAll,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::HelpSessionsWrite,
        Scope::HelpSessionsRead,
        Scope::HelpSessionsAll,
        Scope::CallbacksWrite,
        Scope::QueuesRead,
        Scope::AgentsRead,
        Scope::AgentsWrite,
        Scope::WebhooksManage,
        Scope::WebhooksAll,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::HelpSessionsWrite => "help_sessions:write",
            Scope::HelpSessionsRead => "help_sessions:read",
            Scope::HelpSessionsAll => "help_sessions:all",
            Scope::CallbacksWrite => "callbacks:write",
            Scope::QueuesRead => "queues:read",
            Scope::AgentsRead => "agents:read",
            Scope::AgentsWrite => "agents:write",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::WebhooksAll => "webhooks:all",
        }
    }

    /// What the scope allows, for the admin page.
    pub fn meaning(self) -> &'static str {
        match self {
            Scope::HelpSessionsWrite => "create and cancel its own help sessions",
            Scope::HelpSessionsRead => "read and list its own help sessions and callbacks, and their events",
            Scope::HelpSessionsAll => {
                "ALL customers: every help session and callback (names, reasons, phone numbers) and the whole event feed"
            }
            Scope::CallbacksWrite => "request, read and cancel callbacks",
            Scope::QueuesRead => "list queues and their live statistics",
            Scope::AgentsRead => "list representatives and their states",
            Scope::AgentsWrite => "set a representative's state",
            Scope::WebhooksManage => "manage its own webhook endpoints",
            Scope::WebhooksAll => "ALL webhook endpoints, the admin's included",
        }
    }

    pub fn parse(raw: &str) -> Result<Scope, AppError> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == raw)
            .ok_or_else(|| AppError::invalid(format!("Unknown scope \"{raw}\".")))
    }
}

/// An API client as the admin page shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiClient {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// RFC 3339.
    pub created_at: String,
    pub rotated_at: Option<String>,
    /// The previous secret is accepted until then (RFC 3339).
    pub previous_until: Option<String>,
    pub disabled_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// A client and its new secret, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithSecret {
    pub client: ApiClient,
    pub secret: String,
}

/// Every API client, newest first. Admins only.
#[server(prefix = "/api", endpoint = "api-clients/list")]
pub async fn list_api_clients() -> Result<Vec<ApiClient>, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    clients::list(&state.pool).await
}

/// Registers a client with a name and its scopes; the answer holds its
/// secret, which is never shown again. Admins only.
#[server(prefix = "/api", endpoint = "api-clients/add")]
pub async fn add_api_client(name: String, #[server(default)] scopes: Vec<String>) -> Result<WithSecret, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let name = clients::ClientName::parse(&name)?;
    let scopes = scopes.iter().map(|scope| Scope::parse(scope)).collect::<Result<Vec<_>, _>>()?;
    let created = clients::add(&state.pool, &state.secrets, &name, &scopes, me.id).await?;
    tracing::info!(by = %me.id, client = %created.client.id, "API client added");
    Ok(created)
}

/// A new secret for a client; the old one keeps working for
/// [`clients::ROTATION_GRACE_HOURS`] hours. Admins only.
#[server(prefix = "/api", endpoint = "api-clients/rotate")]
pub async fn rotate_api_client(id: Uuid) -> Result<WithSecret, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let rotated = clients::rotate(&state.pool, &state.secrets, id).await?;
    tracing::info!(by = %me.id, client = %id, "API client secret rotated");
    Ok(rotated)
}

/// Disables a client (its tokens are refused from the next request on) or
/// enables it again. Admins only.
#[server(prefix = "/api", endpoint = "api-clients/disabled")]
pub async fn set_api_client_disabled(id: Uuid, disabled: bool) -> Result<ApiClient, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let client = clients::set_disabled(&state.pool, id, disabled).await?;
    tracing::info!(by = %me.id, client = %id, disabled, "API client disabled or enabled");
    Ok(client)
}

/// A webhook endpoint as the admin page and the API show it (never its
/// secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<WebhookType>,
    pub enabled: bool,
    /// Why the server disabled it (410 Gone, failing for days), or that an
    /// admin did.
    pub disabled_reason: Option<String>,
    /// Failing since then (RFC 3339), without a success since.
    pub failing_since: Option<String>,
    pub created_at: String,
    /// Deliveries waiting to be sent (or retried), and given up.
    pub pending: i64,
    pub failed: i64,
}

/// An endpoint and its secret, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithWebhookSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// The webhooks page: the endpoints, the types they can ask for, and
/// whether receivers may be on private addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhooks {
    pub endpoints: Vec<WebhookEndpoint>,
    pub types: Vec<WebhookType>,
    pub allow_private: bool,
}

/// One event for one endpoint, and every attempt to send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The `webhook-id` header, the same on every attempt.
    pub id: Uuid,
    pub event_type: WebhookType,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<String>,
    /// The body sent.
    pub payload: String,
    pub attempts: Vec<DeliveryAttempt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub at: String,
    /// The receiver's status; none when it never answered.
    pub status_code: Option<i16>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// The endpoints, the event types and the private-address setting. Admins
/// only.
#[server(prefix = "/api", endpoint = "webhooks/list")]
pub async fn list_webhooks() -> Result<Webhooks, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    Ok(Webhooks {
        endpoints: webhooks::list(&state.pool).await?,
        types: webhooks::types(),
        allow_private: webhooks::allow_private(&state.pool).await?,
    })
}

/// Registers an endpoint; the answer holds its secret, shown once. Admins
/// only.
#[server(prefix = "/api", endpoint = "webhooks/add")]
pub async fn add_webhook(
    url: String,
    #[server(default)] description: String,
    #[server(default)] event_types: Vec<WebhookType>,
) -> Result<WithWebhookSecret, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let added = webhooks::add(&state.pool, &state.secrets, None, &url, &description, &event_types).await?;
    tracing::info!(by = %me.id, endpoint = %added.endpoint.id, "webhook endpoint added");
    Ok(added)
}

/// Enables or disables an endpoint. Admins only.
#[server(prefix = "/api", endpoint = "webhooks/enabled")]
pub async fn set_webhook_enabled(id: Uuid, enabled: bool) -> Result<WebhookEndpoint, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    tracing::info!(by = %me.id, endpoint = %id, enabled, "webhook endpoint enabled or disabled");
    webhooks::set_enabled(&state.pool, id, enabled).await
}

/// Deletes an endpoint and its deliveries. Admins only.
#[server(prefix = "/api", endpoint = "webhooks/delete")]
pub async fn delete_webhook(id: Uuid) -> Result<(), AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    tracing::info!(by = %me.id, endpoint = %id, "webhook endpoint deleted");
    webhooks::delete(&state.pool, id).await
}

/// An endpoint's latest 50 deliveries with their attempts. Admins only.
#[server(prefix = "/api", endpoint = "webhooks/deliveries")]
pub async fn webhook_deliveries(id: Uuid) -> Result<Vec<Delivery>, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    webhooks::deliveries(&state.pool, id, 50).await
}

/// Sends again one delivery, or all of an endpoint's made from `from` until
/// `until` (RFC 3339, or the page's local `YYYY-MM-DDTHH:MM` in UTC).
/// Answers how many. Admins only.
#[server(prefix = "/api", endpoint = "webhooks/resend")]
pub async fn resend_webhooks(
    id: Uuid,
    #[server(default)] delivery: Option<Uuid>,
    #[server(default)] from: Option<String>,
    #[server(default)] until: Option<String>,
) -> Result<u64, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let moment = |field: &str, raw: Option<String>| -> Result<Option<time::OffsetDateTime>, AppError> {
        match raw.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => webhooks::parse_moment(raw)
                .map(Some)
                .ok_or_else(|| AppError::invalid(format!("{field} must be a date and time, e.g. 2026-11-30T09:00."))),
        }
    };
    let resent = webhooks::resend(&state.pool, id, delivery, moment("From", from)?, moment("Until", until)?).await?;
    tracing::info!(by = %me.id, endpoint = %id, resent, "webhook deliveries sent again");
    Ok(resent)
}

/// Whether receivers may be on private addresses. Admins only.
#[server(prefix = "/api", endpoint = "webhooks/private")]
pub async fn set_webhooks_private(allow: bool) -> Result<(), AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    tracing::info!(by = %me.id, allow, "webhook receivers on private addresses");
    webhooks::set_allow_private(&state.pool, allow).await
}
