//! A conversation's two sockets: `/ws/chat?session=` pushes the whole chat
//! to its customer and its representative on every new message;
//! `/ws/signal?session=` is the WebRTC signaling relay between their pages.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::time::{interval, Instant, MissedTickBehavior};
use tower_sessions::Session;

use app::conversation::party::{self, Side};
use app::conversation::{messages, signaling, ChatMessage};
use app::engine::events::{Notice, Topic};
use app::engine::Engine;
use app::error::AppError;
use app::state::AppState;
use app::states::HelpSessionId;

use super::{pump, refuse, REFRESH, SILENCE};
use crate::live::Live;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/chat", get(chat_socket)).route("/ws/signal", get(signal_socket))
}

#[derive(Deserialize)]
struct ConversationQuery {
    #[serde(rename = "session")]
    help_session: HelpSessionId,
    /// The customer's token, for clients without the page's cookie.
    token: Option<String>,
}

impl ConversationQuery {
    /// The side of the conversation the request speaks for.
    async fn side(&self, state: &AppState, session: &Session, headers: &HeaderMap) -> Result<Side, AppError> {
        party::of(&state.customer_keys, &state.pool, session, headers, self.token.as_deref(), self.help_session).await
    }
}

/// `/ws/chat?session=`: a conversation's chat, pushed whole to its customer
/// and its representative on every new message.
async fn chat_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    Query(query): Query<ConversationQuery>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let help_session = query.help_session;
    if let Err(error) = query.side(&state, &session, &headers).await {
        return refuse(error);
    }
    ws.on_upgrade(move |socket| async move {
        let relevant = move |notice: &Notice| notice.kind == Topic::Message && notice.help_session == Some(help_session);
        let engine = state.engine.clone();
        let render = move || {
            let engine = engine.clone();
            async move {
                let messages: Vec<ChatMessage> =
                    messages::messages(&engine, help_session).await?.into_iter().map(ChatMessage::from).collect();
                Ok((serde_json::to_string(&messages).unwrap_or_default(), false))
            }
        };
        if let Err(error) = pump(socket, live.notices.subscribe(), relevant, render).await {
            tracing::warn!(?error, "chat socket ended with an error");
        }
    })
}

/// `/ws/signal?session=`: the WebRTC signaling relay. What a page sends goes
/// to the other side of the same help session (through the database, so the
/// two pages may be on different servers); a page receives only what the
/// other side sent while it was open.
async fn signal_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    Query(query): Query<ConversationQuery>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let help_session = query.help_session;
    let side = match query.side(&state, &session, &headers).await {
        Ok(side) => side,
        Err(error) => return refuse(error),
    };
    ws.on_upgrade(move |socket| async move {
        if let Err(error) = relay(socket, state.engine, live, help_session, side).await {
            tracing::warn!(?error, "signal socket ended with an error");
        }
    })
}

async fn relay(
    mut socket: WebSocket,
    engine: Engine,
    live: Live,
    help_session: HelpSessionId,
    side: Side,
) -> Result<(), AppError> {
    let mut notices = live.notices.subscribe();
    // Subscribed first, so nothing sent from here on is missed.
    let mut last = signaling::last_signal(&engine).await?;
    let mine = signaling::topic(side);
    let mut check = interval(REFRESH);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    loop {
        let deliver = tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    heard = Instant::now();
                    if text.as_str() != "ping" {
                        match signaling::send_signal(&engine, help_session, side, text.as_str()).await {
                            Ok(()) | Err(AppError::Conflict(_)) => {}
                            Err(AppError::Invalid(message)) => tracing::warn!(%message, "signal refused"),
                            Err(error) => return Err(error),
                        }
                    }
                    false
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(_)) => {
                    heard = Instant::now();
                    false
                }
            },
            notice = notices.recv() => match notice {
                Ok(notice) => notice.kind == mine && notice.help_session == Some(help_session),
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            _ = check.tick() => {
                if heard.elapsed() > SILENCE {
                    return Ok(());
                }
                // A missed wake-up is caught up here.
                true
            }
        };
        if deliver {
            for (id, body) in signaling::signals_for(&engine, help_session, side, last).await? {
                last = id;
                if socket.send(Message::Text(body.into())).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}
