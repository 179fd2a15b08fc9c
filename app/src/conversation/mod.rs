//! The conversation between a customer and their representative (SPEC §6):
//! chat on every channel, the ICE servers the pages' WebRTC calls use, and
//! the customer's end and rating. The media itself flows browser to
//! browser; `media.rs` is the page's side of it, and the server only relays
//! signaling (`/ws/signal`) and chat (`/ws/chat`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use crate::states::HelpSessionId;

use crate::error::AppError;

pub mod chat;
#[cfg(feature = "ssr")]
pub mod ice;
pub mod media;
#[cfg(feature = "ssr")]
pub mod messages;
#[cfg(feature = "ssr")]
pub mod party;
pub mod roles;
#[cfg(feature = "ssr")]
pub mod signaling;

/// Longest chat message, in characters (the server checks it too).
pub const MESSAGE_MAX_CHARS: usize = 2000;

/// One chat message as both pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: i64,
    pub from_agent: bool,
    pub author: String,
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default();
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
impl From<messages::StoredMessage> for ChatMessage {
    fn from(message: messages::StoredMessage) -> Self {
        let sent_at = message
            .sent_at
            .format(time::macros::format_description!("[hour]:[minute]"))
            .unwrap_or_default();
        Self {
            id: message.id,
            from_agent: message.from_agent,
            author: message.author,
            body: message.body,
            reply_to: message.reply_to,
            sent_at,
        }
    }
}
