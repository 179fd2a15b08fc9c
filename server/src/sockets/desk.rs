//! `/ws/rep`: the signed-in representative's desk, live. The desk's socket
//! is also their presence: opening it logs them in. It closes when their
//! access is taken.

use std::collections::HashSet;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use tower_sessions::Session;

use app::access::Area;
use app::desk::snapshot;
use app::engine::agents;
use app::engine::events::Notice;
use app::engine::presence::{self, Subject};
use app::error::AppError;
use app::state::AppState;
use app::states::{AgentId, QueueId};

use super::pump;
use crate::live::Live;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/rep", get(rep_socket))
}

/// `/ws/rep`: the signed-in representative's desk, live.
async fn rep_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    session: Session,
) -> Response {
    let me = match app::auth::session::current(&session, &state.pool).await {
        Ok(Some(me)) => me,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in first.").into_response(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let agent = AgentId::from(me.id);
    let limits = state.limits.clone();
    super::upgrade(ws, &limits, Subject::Agent(agent), "desk", move |socket| run_rep(socket, state, live, session, agent))
}

async fn run_rep(socket: WebSocket, state: AppState, live: Live, session: Session, agent: AgentId) -> Result<(), AppError> {
    agents::log_in(&state.engine, agent).await?;
    let connection = presence::open(&state.engine, live.instance, Subject::Agent(agent)).await?;
    let _held = live.hold(connection);
    let queues: HashSet<QueueId> = sqlx::query_scalar!(
        r#"SELECT queue_id AS "queue_id: QueueId" FROM queue_members WHERE representative_id = $1"#,
        agent.uuid()
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .collect();
    let relevant =
        move |notice: &Notice| notice.agent == Some(agent) || notice.queue.is_some_and(|queue| queues.contains(&queue));
    let pool = state.pool.clone();
    // Disabled, signed out elsewhere or given a new password since: the desk
    // closes.
    let allowed = || {
        let (session, pool) = (session.clone(), state.pool.clone());
        async move { app::auth::session::allowed(&session, &pool, Area::Rep).await.is_ok() }
    };
    let render = move || {
        let pool = pool.clone();
        async move {
            let desk = snapshot::desk(&pool, agent).await?;
            Ok((serde_json::to_string(&desk).unwrap_or_default(), false))
        }
    };
    let result = pump(socket, live.notices.subscribe(), relevant, allowed, render).await;
    presence::close(&state.engine, connection).await?;
    result
}
