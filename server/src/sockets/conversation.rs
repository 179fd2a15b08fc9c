//! A conversation's two sockets: `/ws/chat?session=` pushes the chat to its
//! customer and its representatives (all of it on connecting, then each new
//! message); `/ws/signal?session=` is the WebRTC signaling relay between
//! their pages, which also tells each page its peers (who is in the
//! conversation, and whether media flows with them) whenever that changes. Both close when the page's side stops being a party (the
//! representative's access taken, the conversation handed to another).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

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
use app::engine::presence::Subject;
use app::engine::supervise;
use app::error::AppError;
use app::state::AppState;
use app::states::HelpSessionId;

use super::{pump, refuse, REFRESH, SILENCE};
use crate::live::Live;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/chat", get(chat_socket)).route("/ws/signal", get(signal_socket))
}

#[derive(Clone, Deserialize)]
struct ConversationQuery {
    #[serde(rename = "session")]
    help_session: HelpSessionId,
    /// The customer's token, for clients without the page's cookie.
    token: Option<String>,
}

impl ConversationQuery {
    /// The side of the conversation the request speaks for.
    async fn side(&self, state: &AppState, session: &Session, headers: &HeaderMap) -> Result<Side, AppError> {
        party::of(&state.pool, session, headers, self.token.as_deref(), self.help_session).await
    }
}

/// `/ws/chat?session=`: a conversation's chat for its customer and its
/// representative: all of it on connecting, then each new message.
async fn chat_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    Query(query): Query<ConversationQuery>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let help_session = query.help_session;
    let viewer = match query.side(&state, &session, &headers).await {
        Ok(side) => side,
        Err(error) => return refuse(error),
    };
    let limits = state.limits.clone();
    super::upgrade(ws, &limits, Subject::Customer(help_session), "chat", move |socket| async move {
        let relevant = move |notice: &Notice| notice.kind == Topic::Message && notice.help_session == Some(help_session);
        // The representative's access taken, or the conversation handed to
        // another: the chat closes.
        let party = Party { state, session, headers, query };
        let allowed = || party.still();
        let engine = party.state.engine.clone();
        let closing = engine.clone();
        let last = Arc::new(AtomicI64::new(0));
        let render = move || {
            let (engine, last) = (engine.clone(), last.clone());
            async move {
                let after = last.load(Ordering::SeqCst);
                let new: Vec<ChatMessage> = messages::messages_after(&engine, help_session, after, viewer)
                    .await?
                    .into_iter()
                    .map(|message| ChatMessage::seen_by(message, viewer))
                    .collect();
                if let Some(newest) = new.last() {
                    last.store(newest.id, Ordering::SeqCst);
                } else if after > 0 {
                    return Ok((String::new(), false));
                }
                Ok((serde_json::to_string(&new).unwrap_or_default(), false))
            }
        };
        let pumped = pump(socket, live.notices.subscribe(), relevant, allowed, render).await;
        // A supervisor's page closed: their part in the conversation ends
        // (nobody is listening any more).
        if let Side::Agent(me) = viewer {
            match supervise::leave(&closing, me, help_session).await {
                Ok(()) | Err(AppError::Conflict(_)) => {}
                Err(error) => tracing::warn!(?error, "a supervisor's part did not end with their page"),
            }
        }
        pumped
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
    let limits = state.limits.clone();
    super::upgrade(ws, &limits, Subject::Customer(help_session), "signal", move |socket| {
        let party = Party { state, session, headers, query };
        relay(socket, party, live, help_session, side)
    })
}

/// What it takes to check again that a page is still a party.
struct Party {
    state: AppState,
    session: Session,
    headers: HeaderMap,
    query: ConversationQuery,
}

impl Party {
    /// Whether the page still speaks for a side of its conversation.
    async fn still(&self) -> bool {
        self.query.side(&self.state, &self.session, &self.headers).await.is_ok()
    }
}

async fn relay(mut socket: WebSocket, party: Party, live: Live, help_session: HelpSessionId, side: Side) -> Result<(), AppError> {
    let engine = party.state.engine.clone();
    let mut notices = live.notices.subscribe();
    // Subscribed first, so nothing sent from here on is missed.
    let mut last = signaling::last_signal(&engine).await?;
    let mut shown = None;
    let mut check = interval(REFRESH);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    // The page's peers first, then again whenever the conversation changes.
    let mut meet = true;
    loop {
        let deliver = if std::mem::take(&mut meet) {
            let peers = signaling::peers(engine.pool(), help_session, side).await?;
            if shown.as_ref() != Some(&peers) {
                let text = serde_json::to_string(&peers).unwrap_or_default();
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return Ok(());
                }
                shown = Some(peers);
            }
            false
        } else {
            tokio::select! {
                message = socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => {
                        heard = Instant::now();
                        if text.as_str() != "ping" && !party.state.limits.signal(help_session) {
                            tracing::warn!(%help_session, "signaling too fast; message dropped");
                        } else if text.as_str() != "ping" {
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
                    Ok(notice) if notice.kind == Topic::Access => {
                        if !party.still().await {
                            return Ok(());
                        }
                        false
                    }
                    Ok(notice) if notice.help_session != Some(help_session) => false,
                    Ok(notice) if notice.kind == Topic::Signal => true,
                    Ok(notice) => {
                        // Someone joined or left, a hold or a resume.
                        meet = matches!(notice.kind, Topic::Event(_));
                        false
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !party.still().await {
                            return Ok(());
                        }
                        meet = true;
                        true
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                _ = check.tick() => {
                    if heard.elapsed() > SILENCE || !party.still().await {
                        return Ok(());
                    }
                    // A missed wake-up is caught up here.
                    meet = true;
                    true
                }
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
