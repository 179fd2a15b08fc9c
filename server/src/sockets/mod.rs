//! The WebSockets that keep pages live, one module per area, each with its
//! own router: the customer's line (`customer`), the representative's desk
//! (`desk`), a conversation's chat and signaling relay (`conversation`), and
//! the admin's board (`admin`). Every page's socket is opened the same way
//! (`upgrade`: counted against its owner's sockets, sizes bounded), and all
//! but the customer's line and the signaling relay run the same loop,
//! `pump`: push the view now, after every relevant wake-up, and every 15 s;
//! close when the page's access is taken.

pub mod admin;
pub mod conversation;
pub mod customer;
pub mod desk;

use std::future::Future;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::Router;
use tokio::sync::broadcast;
use tokio::time::{interval, Instant, MissedTickBehavior};

use app::engine::events::{Notice, Topic};
use app::engine::presence::Subject;
use app::error::AppError;
use app::limits::Limits;
use app::state::AppState;

/// Pages push at least this often, even when nothing happened.
const REFRESH: Duration = Duration::from_secs(15);
/// Several changes within this window are pushed once.
const DEBOUNCE: Duration = Duration::from_millis(150);
/// A page that sends nothing (not even its heartbeat) this long is gone.
const SILENCE: Duration = Duration::from_secs(35);

/// The largest message a page may send (a WebRTC offer is a few kB).
const MAX_MESSAGE: usize = 64 * 1024;
/// Buffers per socket: the pages' messages are small, and thousands of
/// waiting pages must not each hold the default 128 kB twice over.
const BUFFER: usize = 4 * 1024;

/// Upgrades a page's socket: counted against `owner`'s open sockets (429
/// past the limit, the count freed when it closes), its sizes bounded;
/// `run` serves it, and an error it ends with is logged as `what`'s.
fn upgrade<F, Fut>(ws: WebSocketUpgrade, limits: &Limits, owner: Subject, what: &'static str, run: F) -> Response
where
    F: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), AppError>> + Send + 'static,
{
    let slot = match limits.socket(owner) {
        Ok(slot) => slot,
        Err(error) => return refuse(error),
    };
    ws.max_message_size(MAX_MESSAGE).max_frame_size(MAX_MESSAGE).read_buffer_size(BUFFER).write_buffer_size(0).on_upgrade(
        move |socket| async move {
            let _slot = slot;
            if let Err(error) = run(socket).await {
                tracing::warn!(?error, "{what} socket ended with an error");
            }
        },
    )
}

/// Every socket's route.
pub fn router() -> Router<AppState> {
    Router::new().merge(customer::router()).merge(desk::router()).merge(conversation::router()).merge(admin::router())
}

/// Refuses an upgrade with the error's status and message.
fn refuse(error: AppError) -> Response {
    crate::api_status::answer(&error, error.to_string())
}

/// The loop of a page's socket: push the rendered view now, after every
/// relevant change (debounced), and every REFRESH; read heartbeats; stop when
/// the page goes quiet or closes, or the view says it is done (an empty
/// view is not sent). When someone's
/// access changes (an ACCESS wake-up, which is rare), `allowed` says whether
/// this page may stay open; if not it closes.
pub(crate) async fn pump<R, A, AFut, F, Fut>(
    mut socket: WebSocket,
    mut notices: broadcast::Receiver<Notice>,
    relevant: R,
    allowed: A,
    render: F,
) -> Result<(), AppError>
where
    R: Fn(&Notice) -> bool,
    A: Fn() -> AFut,
    AFut: Future<Output = bool>,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(String, bool), AppError>>,
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
                Ok(notice) if notice.kind == Topic::Access => {
                    if !allowed().await {
                        let _ = socket.send(Message::Close(None)).await;
                        return Ok(());
                    }
                }
                Ok(notice) if relevant(&notice) => {
                    due.get_or_insert_with(|| Instant::now() + DEBOUNCE);
                }
                Ok(_) => {}
                // Missed some (an access notice among them, maybe): check
                // access, and push anyway.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !allowed().await {
                        let _ = socket.send(Message::Close(None)).await;
                        return Ok(());
                    }
                    due.get_or_insert_with(Instant::now);
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            _ = refresh.tick() => {
                // Access is checked on every refresh too: a notice lost
                // between servers cannot keep a socket open for long.
                if heard.elapsed() > SILENCE || !allowed().await {
                    let _ = socket.send(Message::Close(None)).await;
                    return Ok(());
                }
                due.get_or_insert_with(Instant::now);
            }
            _ = tokio::time::sleep_until(wake), if due.is_some() => {
                due = None;
                let (text, done) = render().await?;
                if !text.is_empty() && socket.send(Message::Text(text.into())).await.is_err() {
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
