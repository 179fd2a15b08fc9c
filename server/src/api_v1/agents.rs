//! Representatives and their states, for workforce tools: who is READY,
//! NOT_READY (and why) or logged out, and setting that from outside (a
//! break from the schedule, logging everyone out at closing).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use app::customer::view::rfc3339;
use app::engine::agents;
use app::error::AppError;
use app::integrations::Scope;
use app::model::Role;
use app::state::AppState;
use app::states::{AgentId, AgentState};

use super::error::path_id;
use super::help_sessions::json_body;
use super::{ApiError, Client, ErrorBody};

#[derive(Debug, Serialize, ToSchema)]
pub struct Agent {
    pub id: Uuid,
    pub name: String,
    #[schema(inline)]
    pub role: Role,
    #[schema(inline)]
    pub state: AgentState,
    /// Why NOT_READY.
    pub reason: Option<String>,
    /// Since when (RFC 3339).
    pub state_since: String,
    /// Customers they are talking with, holding or wrapping up now.
    pub sessions: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Agents {
    pub agents: Vec<Agent>,
}

/// Every representative who can sign in, by name.
#[utoipa::path(
    get, path = "/api/v1/agents", operation_id = "list_agents", tag = "agents",
    security(("client_assertion" = [])),
    responses(
        (status = 200, description = "Every active representative and their state", body = Agents),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `agents:read`", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>, client: Client) -> Result<Json<Agents>, ApiError> {
    client.require(Scope::AgentsRead)?;
    Ok(Json(Agents { agents: read(&state, None).await? }))
}

async fn read(state: &AppState, one: Option<Uuid>) -> Result<Vec<Agent>, ApiError> {
    let rows = sqlx::query!(
        r#"SELECT r.id, r.display_name, r.role, coalesce(s.state, 'LOGGED_OUT') AS "state!: AgentState", s.reason,
                  coalesce(s.state_since, r.created_at) AS "state_since!",
                  (SELECT count(*) FROM help_sessions h WHERE h.agent_id = r.id AND h.status IN ('active', 'on_hold', 'wrap_up')) AS "sessions!"
             FROM representatives r LEFT JOIN agent_states s ON s.representative_id = r.id
            WHERE NOT r.disabled AND ($1::uuid IS NULL OR r.id = $1)
            ORDER BY lower(r.display_name), r.id"#,
        one
    )
    .fetch_all(&state.pool)
    .await
    .map_err(AppError::from)?;
    rows.into_iter()
        .map(|row| {
            Ok(Agent {
                id: row.id,
                name: row.display_name,
                role: Role::parse(&row.role)?,
                state: row.state,
                reason: row.reason,
                state_since: rfc3339(row.state_since),
                sessions: row.sessions,
            })
        })
        .collect::<Result<_, AppError>>()
        .map_err(ApiError::from)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewState {
    /// `READY`, `NOT_READY` (with a reason) or `LOGGED_OUT` (their
    /// customers go back to the front of the line).
    pub state: String,
    /// For NOT_READY: 1–40 characters ("Break", "Training").
    #[serde(default)]
    pub reason: Option<String>,
}

/// Sets a representative's state. READY and NOT_READY need them logged in
/// at the desk (a workforce tool cannot seat someone who is not there).
#[utoipa::path(
    put, path = "/api/v1/agents/{agent_id}/state", operation_id = "set_agent_state", tag = "agents",
    security(("client_assertion" = [])),
    params(("agent_id" = String, Path, description = "The representative's id")),
    request_body = NewState,
    responses(
        (status = 200, description = "The representative, in their new state", body = Agent),
        (status = 400, description = "Not a state, or NOT_READY without a reason", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `agents:write`", body = ErrorBody),
        (status = 404, description = "No such representative", body = ErrorBody),
        (status = 409, description = "Logged out: READY or NOT_READY needs them at the desk", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn set_state(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Agent>, ApiError> {
    client.require(Scope::AgentsWrite)?;
    let id = path_id(&id, "representative")?;
    let request: NewState = json_body(&headers, &body)?;
    let wanted = AgentState::parse(request.state.trim())
        .map_err(|_| ApiError::invalid(format!("state must be READY, NOT_READY or LOGGED_OUT, not \"{}\".", request.state)))?;
    let now = read(&state, Some(id))
        .await?
        .pop()
        .ok_or_else(|| ApiError::from(AppError::NotFound("No such representative.".into())))?;
    let agent = AgentId::from(id);
    let logged_out = now.state == AgentState::LoggedOut;
    match wanted {
        AgentState::LoggedOut => {
            if !logged_out {
                agents::hand_back(&state.engine, agent, "Logged out").await?;
            }
        }
        _ if logged_out => {
            return Err(ApiError::from(AppError::Conflict(format!(
                "{} is logged out: they sign in at the desk before they can be READY or NOT_READY.",
                now.name
            ))));
        }
        AgentState::Ready => agents::set_ready(&state.engine, agent).await?,
        AgentState::NotReady => {
            let reason = agents::not_ready_reason(request.reason.as_deref().unwrap_or(""))?;
            agents::set_not_ready_reason(&state.engine, agent, reason).await?
        }
    }
    let after = read(&state, Some(id))
        .await?
        .pop()
        .ok_or_else(|| ApiError::from(AppError::NotFound("No such representative.".into())))?;
    Ok(Json(after))
}
