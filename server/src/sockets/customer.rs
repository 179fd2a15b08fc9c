//! `/ws/customer`: the waiting page's live view of where the customer
//! stands. The page's socket is also its presence: while one is open the
//! customer is there.

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;

use app::customer::{token, view::customer_view, CustomerView};
use app::engine::events::{EventKind, Notice};
use app::engine::presence::{self, Subject};
use app::error::AppError;
use app::state::AppState;
use app::states::{HelpSessionId, QueueId};

use super::pump;
use crate::live::Live;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/customer", get(customer_socket))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `/ws/customer`: the waiting page's live line. The customer's token comes
/// from the page's cookie, or `?token=` for other clients.
async fn customer_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = query.token.or_else(|| token::token_in(&headers));
    let Some(help_session) = token.and_then(|token| state.customer_keys.verify(&token)) else {
        return (StatusCode::UNAUTHORIZED, "A valid customer token is needed.").into_response();
    };
    ws.on_upgrade(move |socket| async move {
        if let Err(error) = run_customer(socket, state, live, help_session).await {
            tracing::warn!(?error, "customer socket ended with an error");
        }
    })
}

async fn run_customer(socket: WebSocket, state: AppState, live: Live, help_session: HelpSessionId) -> Result<(), AppError> {
    let queue = sqlx::query_scalar!(
        r#"SELECT queue_id AS "queue_id: QueueId" FROM help_sessions WHERE id = $1"#,
        help_session.uuid()
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(queue) = queue else { return Ok(()) };
    let connection = presence::open(&state.engine, live.instance, Subject::Customer(help_session)).await?;
    let relevant = move |notice: &Notice| {
        !notice.kind.conversation_only()
            && (notice.help_session == Some(help_session) || notice.queue == Some(queue) || notice.is(EventKind::AgentState))
    };
    let pool = state.pool.clone();
    let render = move || {
        let pool = pool.clone();
        async move {
            let view = customer_view(&pool, help_session).await?;
            let done = matches!(view, None | Some(CustomerView::Closed { .. }));
            Ok((serde_json::to_string(&view).unwrap_or_default(), done))
        }
    };
    let result = pump(socket, live.notices.subscribe(), relevant, render).await;
    presence::close(&state.engine, connection).await?;
    result
}
