//! `/ws/admin`: the admin's live board, pushed on every change in the
//! queues or the team, and after every roll of the metrics.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use tower_sessions::Session;

use app::engine::events::Notice;
use app::state::AppState;

use super::{pump, refuse};
use crate::live::Live;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/admin", get(admin_socket))
}

/// `/ws/admin`: the admin's live board, pushed on every change in the
/// queues or the team.
async fn admin_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    session: Session,
) -> Response {
    if let Err(error) = app::auth::session::allowed(&session, &state.pool, app::access::Area::Admin).await {
        return refuse(error);
    }
    super::sized(ws).on_upgrade(move |socket| async move {
        let relevant = |notice: &Notice| !notice.kind.conversation_only();
        let render = move || {
            let state = state.clone();
            let session = session.clone();
            async move {
                // Demoted or disabled since: the board closes.
                if app::auth::session::allowed(&session, &state.pool, app::access::Area::Admin).await.is_err() {
                    return Ok((String::new(), true));
                }
                let board = app::metrics::board::board(&state.pool, &state.metrics).await?;
                Ok((serde_json::to_string(&board).unwrap_or_default(), false))
            }
        };
        if let Err(error) = pump(socket, live.notices.subscribe(), relevant, render).await {
            tracing::warn!(?error, "admin socket ended with an error");
        }
    })
}
