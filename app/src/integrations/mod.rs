//! Integrations (SPEC §10): the API clients a website backend or another
//! tool calls `/api/v1` as. An admin registers a client with the scopes it
//! may use and is shown its secret once; the client signs its own
//! short-lived bearer tokens with it ([`assertion`]). Secrets can be
//! rotated (the old one keeps working for a grace period) and clients
//! disabled (refused at once).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod assertion;
#[cfg(feature = "ssr")]
pub mod clients;

/// What an API client may do, one scope per kind of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "help_sessions:write")]
    HelpSessionsWrite,
    #[serde(rename = "help_sessions:read")]
    HelpSessionsRead,
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
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::HelpSessionsWrite,
        Scope::HelpSessionsRead,
        Scope::CallbacksWrite,
        Scope::QueuesRead,
        Scope::AgentsRead,
        Scope::AgentsWrite,
        Scope::WebhooksManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::HelpSessionsWrite => "help_sessions:write",
            Scope::HelpSessionsRead => "help_sessions:read",
            Scope::CallbacksWrite => "callbacks:write",
            Scope::QueuesRead => "queues:read",
            Scope::AgentsRead => "agents:read",
            Scope::AgentsWrite => "agents:write",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }

    /// What the scope allows, for the admin page.
    pub fn meaning(self) -> &'static str {
        match self {
            Scope::HelpSessionsWrite => "create and cancel help sessions",
            Scope::HelpSessionsRead => "read and list help sessions, and the event feed",
            Scope::CallbacksWrite => "request, read and cancel callbacks",
            Scope::QueuesRead => "list queues and their live statistics",
            Scope::AgentsRead => "list representatives and their states",
            Scope::AgentsWrite => "set a representative's state",
            Scope::WebhooksManage => "manage webhook endpoints",
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
    let created = clients::add(&state.pool, &name, &scopes, me.id).await?;
    tracing::info!(by = %me.id, client = %created.client.id, "API client added");
    Ok(created)
}

/// A new secret for a client; the old one keeps working for
/// [`clients::ROTATION_GRACE_HOURS`] hours. Admins only.
#[server(prefix = "/api", endpoint = "api-clients/rotate")]
pub async fn rotate_api_client(id: Uuid) -> Result<WithSecret, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let rotated = clients::rotate(&state.pool, id).await?;
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
