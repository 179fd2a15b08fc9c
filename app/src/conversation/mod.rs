//! The conversation between a customer and their representative (SPEC §6):
//! chat on every channel, the ICE servers the pages' WebRTC calls use, and
//! the customer's end and rating. The media itself flows browser to
//! browser; `media.rs` is the page's side of it, and the server only relays
//! signaling (`/ws/signal`) and chat (`/ws/chat`).

use crate::states::HelpSessionId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub mod chat;
#[cfg(feature = "ssr")]
pub mod ice;
pub mod media;
#[cfg(feature = "ssr")]
pub mod messages;
#[cfg(feature = "ssr")]
pub mod party;
pub use engine::roles;
#[cfg(feature = "ssr")]
pub mod signaling;

/// Longest chat message, in characters (the server checks it too).
pub const MESSAGE_MAX_CHARS: usize = 2000;

/// One chat message as one page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: i64,
    /// Written from this page's side (this representative, or the customer).
    pub mine: bool,
    /// Who wrote it: the customer's name, or the representative's (the
    /// customer's page gets first names only).
    pub author: String,
    /// The author's role in the conversation when they wrote it.
    pub role: roles::Role,
    pub body: String,
    pub reply_to: Option<i64>,
    /// "14:05", UTC.
    pub sent_at: String,
}

/// An ICE server as `RTCPeerConnection` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The side of `help_session` the request of this server function speaks
/// for, and the state.
#[cfg(feature = "ssr")]
async fn side_of_request(help_session: HelpSessionId) -> Result<(party::Side, crate::state::AppState), AppError> {
    let state = crate::state::app_state()?;
    let session = crate::auth::tower_session().await?;
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>().ok_or(AppError::Internal)?;
    let side = party::of(&state.pool, &session, &parts.headers, None, help_session).await?;
    Ok((side, state))
}

/// Sends a chat message in a conversation this page takes part in (the
/// customer by their token, the representative by their sign-in).
#[server(prefix = "/api", endpoint = "conversation/message")]
pub async fn send_message(
    help_session: HelpSessionId,
    body: String,
    #[server(default)] reply_to: Option<i64>,
) -> Result<(), AppError> {
    let (side, state) = side_of_request(help_session).await?;
    state.limits.chat(help_session)?;
    messages::post_message(&state.engine, help_session, side, &body, reply_to).await?;
    Ok(())
}

/// The ICE servers (with fresh TURN credentials) for this conversation's call.
#[server(prefix = "/api", endpoint = "conversation/ice")]
pub async fn ice_servers(help_session: HelpSessionId) -> Result<Vec<IceServer>, AppError> {
    let (_, state) = side_of_request(help_session).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or_default();
    Ok(state.ice.servers_for(&help_session.to_string(), now))
}

/// The customer ends their conversation.
#[server(prefix = "/api", endpoint = "help/end")]
pub async fn end_conversation() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let help_session = crate::customer::token::from_cookie(&state.pool)
        .await?
        .ok_or_else(|| AppError::NotFound("You have no conversation to end.".into()))?;
    crate::engine::control::end(&state.engine, help_session, crate::engine::control::EndedBy::Customer).await
}

/// The customer rates the conversation that ended: 1–5 stars and an
/// optional comment.
#[server(prefix = "/api", endpoint = "help/rate")]
pub async fn rate_conversation(stars: i16, #[server(default)] comment: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let help_session = crate::customer::token::from_cookie(&state.pool)
        .await?
        .ok_or_else(|| AppError::NotFound("You have no conversation to rate.".into()))?;
    crate::engine::control::rate(&state.engine, help_session, stars, &comment).await
}

#[cfg(feature = "ssr")]
impl ChatMessage {
    /// A stored message as the page of `viewer` shows it.
    pub fn seen_by(message: messages::StoredMessage, viewer: party::Side) -> Self {
        let sent_at = message.sent_at.format(time::macros::format_description!("[hour]:[minute]")).unwrap_or_default();
        let mine = match viewer {
            party::Side::Customer => message.representative_id.is_none(),
            party::Side::Agent(me) => message.representative_id == Some(me),
        };
        let author = match (viewer, message.representative_id) {
            (party::Side::Customer, Some(_)) => first_name(&message.author).to_owned(),
            _ => message.author,
        };
        Self { id: message.id, mine, author, role: message.role, body: message.body, reply_to: message.reply_to, sent_at }
    }
}

/// How the customer's page names a representative: their first name.
pub fn first_name(display_name: &str) -> &str {
    display_name.split_whitespace().next().unwrap_or(display_name)
}
