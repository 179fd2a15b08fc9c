//! `/ws/customer`: the waiting page's live view of where the customer
//! stands. The page's socket is also its presence: while one is open the
//! customer is there. Its place in line comes from this server's shared
//! reading of the line (`crate::lines`); the whole view is read again only
//! when something happens to the customer.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use tokio::time::{interval, Instant, MissedTickBehavior};

use app::customer::{token, view::customer_view, CustomerView};
use app::engine::presence::{self, Subject};
use app::error::AppError;
use app::state::AppState;
use app::states::{HelpSessionId, QueueId};

use super::{REFRESH, SILENCE};
use crate::lines::Lines;
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
    let help_session = match query.token.or_else(|| token::token_in(&headers)) {
        Some(token) => token::session_of(&state.pool, &token).await,
        None => Ok(None),
    };
    let help_session = match help_session {
        Ok(Some(help_session)) => help_session,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "A valid customer token is needed.").into_response(),
        Err(error) => return super::refuse(error),
    };
    let limits = state.limits.clone();
    super::upgrade(ws, &limits, Subject::Customer(help_session), "customer", move |socket| {
        run_customer(socket, state, live, help_session)
    })
}

async fn run_customer(socket: WebSocket, state: AppState, live: Live, help_session: HelpSessionId) -> Result<(), AppError> {
    let Some(queue) = queue_of(&state.pool, help_session).await? else { return Ok(()) };
    let connection = presence::open(&state.engine, live.instance, Subject::Customer(help_session)).await?;
    let _held = live.hold(connection);
    let result = follow(socket, &state, &live.lines, queue, help_session).await;
    presence::close(&state.engine, connection).await?;
    result
}

/// What the page was last sent, and how to send the next view.
struct Page {
    socket: WebSocket,
    shown: Option<CustomerView>,
}

impl Page {
    /// Sends the view if it differs from what the page shows. `false` when
    /// the page is gone or the view is final.
    async fn show(&mut self, view: Option<CustomerView>) -> bool {
        let done = matches!(view, None | Some(CustomerView::Closed { .. }));
        if view != self.shown {
            let text = serde_json::to_string(&view).unwrap_or_default();
            if self.socket.send(Message::Text(text.into())).await.is_err() {
                return false;
            }
            self.shown = view;
        }
        if done {
            let _ = self.socket.send(Message::Close(None)).await;
        }
        !done
    }
}

async fn follow(
    socket: WebSocket,
    state: &AppState,
    lines: &Lines,
    queue: QueueId,
    help_session: HelpSessionId,
) -> Result<(), AppError> {
    let mut watch = lines.watch(queue, help_session);
    let mut page = Page { socket, shown: None };
    if !page.show(customer_view(&state.pool, help_session).await?).await {
        return Ok(());
    }
    let mut check = interval(REFRESH);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            message = page.socket.recv() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(_)) => heard = Instant::now(),
            },
            changed = watch.moved.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                let view = customer_view(&state.pool, help_session).await?;
                // Transferred to another queue: its line is theirs now.
                if let Some(CustomerView::Waiting { queue: name, .. }) = &view {
                    if !matches!(&page.shown, Some(CustomerView::Waiting { queue, .. }) if queue == name) {
                        if let Some(now_in) = queue_of(&state.pool, help_session).await? {
                            if now_in != watch.queue() {
                                watch = lines.watch(now_in, help_session);
                            }
                        }
                    }
                }
                if !page.show(view).await {
                    return Ok(());
                }
            }
            changed = watch.line.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                // Only a waiting customer's place comes from the line; one
                // the line no longer has is read whole.
                let Some(CustomerView::Waiting { channel, back, place, .. }) = page.shown.clone() else {
                    continue;
                };
                let line = watch.line.borrow_and_update().clone();
                let view = match line.spots.get(&help_session) {
                    Some(spot) => Some(line.numbers.waiting(channel, *spot, back, place)),
                    None => customer_view(&state.pool, help_session).await?,
                };
                if !page.show(view).await {
                    return Ok(());
                }
            }
            _ = check.tick() => {
                if heard.elapsed() > SILENCE {
                    return Ok(());
                }
                // A wake-up lost (a server gone between a commit and its
                // NOTIFY) is caught up here. A waiting page's line is read
                // again every REFRESH by the keeper; any other page reads
                // its own view.
                if !matches!(page.shown, Some(CustomerView::Waiting { .. }))
                    && !page.show(customer_view(&state.pool, help_session).await?).await
                {
                    return Ok(());
                }
            }
        }
    }
}

/// The queue the help session is in now.
async fn queue_of(pool: &sqlx::PgPool, help_session: HelpSessionId) -> Result<Option<QueueId>, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT queue_id AS "queue_id: QueueId" FROM help_sessions WHERE id = $1"#, help_session.uuid())
        .fetch_optional(pool)
        .await?)
}
