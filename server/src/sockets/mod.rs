//! The WebSockets that keep pages live, one module per area, each with its
//! own router: the customer's line (`customer`), the representative's desk
//! (`desk`), a conversation's chat and signaling relay (`conversation`), and
//! the admin's board (`admin`). Every page's socket runs the same loop,
//! `pump`: push the view now, after every relevant wake-up, and every 15 s.

pub mod admin;
pub mod conversation;
pub mod customer;
pub mod desk;

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::broadcast;
use tokio::time::{interval, Instant, MissedTickBehavior};

use app::engine::events::Notice;
use app::error::AppError;
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

/// Every socket's upgrade, with its sizes bounded.
fn sized(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MAX_MESSAGE).max_frame_size(MAX_MESSAGE).read_buffer_size(BUFFER).write_buffer_size(0)
}

/// Every socket's route.
pub fn router() -> Router<AppState> {
    Router::new().merge(customer::router()).merge(desk::router()).merge(conversation::router()).merge(admin::router())
}

/// Refuses an upgrade with the error's status and message.
fn refuse(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, error.to_string()).into_response();
    if let Some(seconds) = error.retry_after() {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
    response
}

/// The loop of every page's socket: push the rendered view now, after every
/// relevant change (debounced), and every REFRESH; read heartbeats; stop when
/// the page goes quiet or closes, or the view says it is done. An empty
/// view is not sent.
pub(crate) async fn pump<R, F, Fut>(
    mut socket: WebSocket,
    mut notices: broadcast::Receiver<Notice>,
    relevant: R,
    render: F,
) -> Result<(), AppError>
where
    R: Fn(&Notice) -> bool,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(String, bool), AppError>>,
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
