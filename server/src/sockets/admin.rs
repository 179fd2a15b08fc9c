//! `/ws/admin`: the admin's live board, and `/ws/supervisor`: the
//! supervisor's wallboard of their queues and team; each pushed on every
//! change in the queues or the team, and after every roll of the metrics.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use tower_sessions::Session;

use app::access::Area;
use app::engine::events::Notice;
use app::engine::presence::Subject;
use app::state::AppState;

use super::{pump, refuse};
use crate::live::Live;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/admin", get(admin_socket)).route("/ws/supervisor", get(supervisor_socket))
}

/// `/ws/admin`: the admin's live board, pushed on every change in the
/// queues or the team.
async fn admin_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    session: Session,
) -> Response {
    let me = match app::auth::session::allowed(&session, &state.pool, Area::Admin).await {
        Ok(me) => me,
        Err(error) => return refuse(error),
    };
    let limits = state.limits.clone();
    super::upgrade(ws, &limits, Subject::Agent(me.id.into()), "admin", move |socket| async move {
        let relevant = |notice: &Notice| !notice.kind.conversation_only();
        // Demoted or disabled since: the board closes.
        let allowed = || {
            let (session, pool) = (session.clone(), state.pool.clone());
            async move { app::auth::session::allowed(&session, &pool, Area::Admin).await.is_ok() }
        };
        let render = || {
            let state = state.clone();
            async move {
                let board = app::metrics::board::board(&state.pool, &state.metrics).await?;
                Ok((serde_json::to_string(&board).unwrap_or_default(), false))
            }
        };
        pump(socket, live.notices.subscribe(), relevant, allowed, render).await
    })
}

/// `/ws/supervisor`: the wallboard of the queues this supervisor (or admin)
/// supervises.
async fn supervisor_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    session: Session,
) -> Response {
    let me = match app::auth::session::allowed(&session, &state.pool, Area::Supervisor).await {
        Ok(me) => me,
        Err(error) => return refuse(error),
    };
    let limits = state.limits.clone();
    super::upgrade(ws, &limits, Subject::Agent(me.id.into()), "wallboard", move |socket| async move {
        let relevant = |notice: &Notice| !notice.kind.conversation_only();
        // Demoted or disabled since: the wallboard closes.
        let allowed = || {
            let (session, pool) = (session.clone(), state.pool.clone());
            async move { app::auth::session::allowed(&session, &pool, Area::Supervisor).await.is_ok() }
        };
        let render = || {
            let (state, me) = (state.clone(), me.clone());
            async move {
                let board = app::supervision::board::wallboard(&state.pool, &state.metrics, &me).await?;
                Ok((serde_json::to_string(&board).unwrap_or_default(), false))
            }
        };
        pump(socket, live.notices.subscribe(), relevant, allowed, render).await
    })
}
