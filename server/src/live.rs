//! Everything live: the LISTEN/NOTIFY hub that wakes this server when any
//! server changes something, the WebSockets that push customers' positions
//! and agents' desks, presence, and the sweeper for timers.

use std::collections::HashSet;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::time::{interval, Instant, MissedTickBehavior};
use tower_sessions::Session;
use uuid::Uuid;

use app::conversation::{party, ChatMessage};
use app::customer::{token, view::customer_view, CustomerView};
use app::error::AppError;
use app::routing::talk::{self, Side};
use app::desk::snapshot;
use app::routing::events::{Notice, NOTIFY_CHANNEL};
use app::routing::Engine;
use app::routing::presence::{self, Subject};
use app::state::AppState;

/// Pages push at least this often, even when nothing happened.
const REFRESH: Duration = Duration::from_secs(15);
/// Several changes within this window are pushed once.
const DEBOUNCE: Duration = Duration::from_millis(150);
/// A page that sends nothing (not even its heartbeat) this long is gone.
const SILENCE: Duration = Duration::from_secs(35);

/// This server's live parts, shared by its WebSockets.
#[derive(Clone)]
pub struct Live {
    pub instance: Uuid,
    pub notices: broadcast::Sender<Notice>,
    pub grace: Duration,
}

impl Live {
    pub fn new(grace: Duration) -> Self {
        let (notices, _) = broadcast::channel(4096);
        Self { instance: Uuid::new_v4(), notices, grace }
    }

    /// Starts listening for NOTIFY and sweeping timers; abort the returned
    /// tasks to stop them.
    pub fn start(&self, engine: Engine) -> Vec<tokio::task::JoinHandle<()>> {
        vec![tokio::spawn(listen(engine.pool().clone(), self.notices.clone())), tokio::spawn(sweep(engine, self.clone()))]
    }
}

/// Forwards every NOTIFY to this server's pages; reconnects if the
/// connection drops.
async fn listen(pool: PgPool, notices: broadcast::Sender<Notice>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%error, "cannot LISTEN; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(NOTIFY_CHANNEL).await {
            tracing::error!(%error, "cannot LISTEN; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(notification) => match serde_json::from_str::<Notice>(notification.payload()) {
                    Ok(notice) => {
                        let _ = notices.send(notice);
                    }
                    Err(error) => tracing::warn!(%error, "unreadable notification"),
                },
                Err(error) => {
                    tracing::warn!(%error, "LISTEN connection lost; reconnecting");
                    // Pages refresh on the next notice or tick; nothing is lost
                    // because every state is in the database.
                    break;
                }
            }
        }
    }
}

/// Once a second: beat, reap dead servers, expire offers, wrap-ups and long
/// waits, act on customers and agents lost past the grace period, and offer
/// anyone still waiting whom a missed wake-up left behind. Every
/// server runs it; the work is idempotent and locked row by row.
async fn sweep(engine: Engine, live: Live) {
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let grace = live.grace.as_secs_f64();
    loop {
        tick.tick().await;
        let result = async {
            presence::beat(&engine, live.instance).await?;
            presence::reap_dead_instances(&engine, (grace * 3.0).max(30.0)).await?;
            app::routing::expire_offers(&engine).await?;
            app::routing::expire_wrap_ups(&engine).await?;
            app::routing::talk::purge_signals(&engine).await?;
            presence::expire_long_waits(&engine).await?;
            presence::sweep_lost(&engine, grace).await?;
            app::routing::dispatch_waiting(&engine).await
        }
        .await;
        if let Err(error) = result {
            tracing::error!(?error, "sweep failed");
        }
    }
}

/// Once a second: roll the event log up into the metrics' buckets, and tell
/// every server's admin pages when figures changed. Every server runs it;
/// one at a time rolls (the others skip while it does).
pub fn start_rolling(engine: Engine, short_abandon_seconds: f64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match app::metrics::roll::roll(engine.pool(), short_abandon_seconds).await {
                Ok(0) => {}
                Ok(_) => engine.announce([Notice::new("METRICS", None, None, None)]),
                Err(error) => tracing::error!(?error, "metrics roll-up failed"),
            }
        }
    })
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct ConversationQuery {
    session: Uuid,
    /// The customer's token, for clients without the page's cookie.
    token: Option<String>,
}

/// `/ws/chat?session=`: a conversation's chat, pushed whole to its customer
/// and its representative on every new message.
pub async fn chat_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    Query(query): Query<ConversationQuery>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let help_session = query.session;
    if let Err(error) = party::of(&state, &session, &headers, query.token.as_deref(), help_session).await {
        return refuse(error);
    }
    ws.on_upgrade(move |socket| async move {
        let relevant = move |notice: &Notice| notice.kind == "MESSAGE" && notice.session == Some(help_session);
        let engine = state.engine.clone();
        let render = move || {
            let engine = engine.clone();
            async move {
                let messages: Vec<ChatMessage> =
                    talk::messages(&engine, help_session).await?.into_iter().map(ChatMessage::from).collect();
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
pub async fn signal_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    Query(query): Query<ConversationQuery>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let help_session = query.session;
    let side = match party::of(&state, &session, &headers, query.token.as_deref(), help_session).await {
        Ok(side) => side,
        Err(error) => return refuse(error),
    };
    ws.on_upgrade(move |socket| async move {
        if let Err(error) = relay(socket, state.engine, live, help_session, side).await {
            tracing::warn!(?error, "signal socket ended with an error");
        }
    })
}

fn refuse(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, error.to_string()).into_response()
}

async fn relay(mut socket: WebSocket, engine: Engine, live: Live, help_session: Uuid, side: Side) -> Result<(), AppError> {
    let mut notices = live.notices.subscribe();
    // Subscribed first, so nothing sent from here on is missed.
    let mut last = talk::last_signal(&engine).await?;
    let mine = talk::signal_kind(side);
    let mut check = interval(REFRESH);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    loop {
        let deliver = tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    heard = Instant::now();
                    if text.as_str() != "ping" {
                        match talk::send_signal(&engine, help_session, side, text.as_str()).await {
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
                Ok(notice) => notice.kind == mine && notice.session == Some(help_session),
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
            for (id, body) in talk::signals_for(&engine, help_session, side, last).await? {
                last = id;
                if socket.send(Message::Text(body.into())).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// `/ws/customer`: the waiting page's live line. The customer's token comes
/// from the page's cookie, or `?token=` for other clients.
pub async fn customer_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = query.token.or_else(|| token::token_in(&headers));
    let Some(session) = token.and_then(|token| state.customer_keys.verify(&token)) else {
        return (StatusCode::UNAUTHORIZED, "A valid customer token is needed.").into_response();
    };
    ws.on_upgrade(move |socket| async move {
        if let Err(error) = run_customer(socket, state, live, session).await {
            tracing::warn!(?error, "customer socket ended with an error");
        }
    })
}

async fn run_customer(socket: WebSocket, state: AppState, live: Live, session: Uuid) -> Result<(), app::error::AppError> {
    let queue: Option<Uuid> = sqlx::query_scalar!("SELECT queue_id FROM help_sessions WHERE id = $1", session)
        .fetch_optional(&state.pool)
        .await?;
    let Some(queue) = queue else { return Ok(()) };
    let connection = presence::open(&state.engine, live.instance, Subject::Customer(session)).await?;
    let relevant = move |notice: &Notice| {
        let conversation_only = notice.kind == "MESSAGE" || notice.kind.starts_with("SIGNAL");
        !conversation_only
            && (notice.session == Some(session) || notice.queue == Some(queue) || notice.kind == "AGENT_STATE")
    };
    let pool = state.pool.clone();
    let render = move || {
        let pool = pool.clone();
        async move {
            let view = customer_view(&pool, session).await?;
            let done = matches!(view, None | Some(CustomerView::Closed { .. }));
            Ok((serde_json::to_string(&view).unwrap_or_default(), done))
        }
    };
    let result = pump(socket, live.notices.subscribe(), relevant, render).await;
    presence::close(&state.engine, connection).await?;
    result
}

/// `/ws/rep`: the signed-in representative's desk, live.
pub async fn rep_socket(
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
    ws.on_upgrade(move |socket| async move {
        if let Err(error) = run_rep(socket, state, live, me.id).await {
            tracing::warn!(?error, "desk socket ended with an error");
        }
    })
}

async fn run_rep(socket: WebSocket, state: AppState, live: Live, agent: Uuid) -> Result<(), app::error::AppError> {
    app::routing::agents::log_in(&state.engine, agent).await?;
    let connection = presence::open(&state.engine, live.instance, Subject::Agent(agent)).await?;
    let queues: HashSet<Uuid> =
        sqlx::query_scalar!("SELECT queue_id FROM queue_members WHERE representative_id = $1", agent)
            .fetch_all(&state.pool)
            .await?
            .into_iter()
            .collect();
    let relevant = move |notice: &Notice| {
        notice.agent == Some(agent) || notice.queue.is_some_and(|queue| queues.contains(&queue))
    };
    let pool = state.pool.clone();
    let render = move || {
        let pool = pool.clone();
        async move {
            let desk = snapshot::desk(&pool, agent).await?;
            Ok((serde_json::to_string(&desk).unwrap_or_default(), false))
        }
    };
    let result = pump(socket, live.notices.subscribe(), relevant, render).await;
    presence::close(&state.engine, connection).await?;
    result
}

/// `/ws/admin`: the admin's live board, pushed on every change in the
/// queues or the team.
pub async fn admin_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(live): Extension<Live>,
    session: Session,
) -> Response {
    if let Err(error) = app::auth::session::allowed(&session, &state.pool, app::access::Area::Admin).await {
        return refuse(error);
    }
    ws.on_upgrade(move |socket| async move {
        let relevant = |notice: &Notice| notice.kind != "MESSAGE" && !notice.kind.starts_with("SIGNAL");
        let render = move || {
            let state = state.clone();
            async move {
                let board = app::metrics::board::board(&state.pool, &state.metrics).await?;
                Ok((serde_json::to_string(&board).unwrap_or_default(), false))
            }
        };
        if let Err(error) = pump(socket, live.notices.subscribe(), relevant, render).await {
            tracing::warn!(?error, "admin socket ended with an error");
        }
    })
}

/// The loop of every page's socket: push the rendered view now, after every
/// relevant change (debounced), and every REFRESH; read heartbeats; stop when
/// the page goes quiet or closes, or the view says it is done.
async fn pump<R, F, Fut>(
    mut socket: WebSocket,
    mut notices: broadcast::Receiver<Notice>,
    relevant: R,
    render: F,
) -> Result<(), app::error::AppError>
where
    R: Fn(&Notice) -> bool,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(String, bool), app::error::AppError>>,
{
    let mut refresh = interval(REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    let mut due: Option<Instant> = Some(Instant::now());
    loop {
        let wake = due.unwrap_or_else(|| Instant::now() + REFRESH);
        tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(_)) => heard = Instant::now(),
            },
            notice = notices.recv() => match notice {
                Ok(notice) if relevant(&notice) => {
                    due.get_or_insert_with(|| Instant::now() + DEBOUNCE);
                }
                Ok(_) => {}
                // Missed some: push anyway.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    due.get_or_insert_with(Instant::now);
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            _ = refresh.tick() => {
                if heard.elapsed() > SILENCE {
                    return Ok(());
                }
                due.get_or_insert_with(Instant::now);
            }
            _ = tokio::time::sleep_until(wake), if due.is_some() => {
                due = None;
                let (text, done) = render().await?;
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return Ok(());
                }
                if done {
                    let _ = socket.send(Message::Close(None)).await;
                    return Ok(());
                }
            }
        }
    }
}
