//! The customer's side: asking for help, waiting with a live position and
//! estimate, leaving. A customer never signs in; they hold a signed token for
//! their own help session (an HttpOnly cookie on the page, a bearer token
//! through the API).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;
use crate::states::HelpSessionId;
use crate::queue::Channel;

#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod token;
#[cfg(feature = "ssr")]
pub mod view;
pub mod waiting;

/// The cookie that carries the customer's token on the page.
pub const COOKIE: &str = "switchboard_customer";

/// A queue a customer may choose, with the channels it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueChoice {
    pub id: Uuid,
    pub name: String,
    pub channels: Vec<Channel>,
}

/// What the customer's page shows, pushed live while they wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerView {
    /// In the line.
    Waiting {
        queue: String,
        channel: Channel,
        /// 1 = next.
        position: i64,
        /// "about 2–4 minutes", "less than a minute", "can't estimate right now".
        estimate: String,
        /// Set when nobody is logged in for the queue: what the queue says.
        nobody: Option<String>,
        /// Set when they were being served before: why they wait again.
        back: Option<Back>,
    },
    /// Made (through the API) but not put in line yet.
    NotQueued { queue: String, channel: Channel },
    /// In conversation with a representative (or held by them), and with
    /// any colleague who joined: their first names, the owner's first.
    Matched {
        help_session: HelpSessionId,
        representatives: Vec<String>,
        channel: Channel,
        on_hold: bool,
        /// The first name of a supervisor who barged in (a supervisor who
        /// only listens or coaches is never shown).
        supervisor: Option<String>,
    },
    /// The conversation ended; `can_rate` while it has no rating yet.
    Finished { can_rate: bool },
    /// Not waiting any more: left, gone, or served.
    Closed { reason: String },
}

/// Why a customer who was being served waits in the line again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Back {
    /// Their representative was lost mid-conversation: they are back at the
    /// front of the line while another one is found.
    Reconnecting,
    /// Their representative transferred them: to a queue (its name) or a
    /// colleague (their first name).
    Transferred { to: String },
}

/// What a customer gets back after asking for help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpTicket {
    pub help_session_id: HelpSessionId,
    /// Signed; reaches this help session and nothing else.
    pub token: String,
}

/// The queues customers can choose, with their channels.
#[server(prefix = "/api", endpoint = "help/queues")]
pub async fn help_queues() -> Result<Vec<QueueChoice>, AppError> {
    let state = crate::state::app_state()?;
    let queues = crate::queue::repo::list(&state.pool).await?;
    Ok(queues
        .into_iter()
        .map(|queue| QueueChoice { id: queue.id, name: queue.settings.name, channels: queue.settings.channels })
        .collect())
}

/// "Talk to a representative": creates the help session, puts it in the
/// queue, and keeps the token in an HttpOnly cookie so a reload keeps the
/// customer's place.
#[server(prefix = "/api", endpoint = "help/request")]
pub async fn request_help(
    queue: String,
    name: String,
    reason: String,
    channel: String,
    #[server(default)] phone: String,
) -> Result<HelpTicket, AppError> {
    let state = crate::state::app_state()?;
    state.limits.help_request(crate::auth::client_addr()?)?;
    let form = request::HelpForm::parse(&state.pool, &queue, &name, &reason, &channel, &phone).await?;
    let ticket = request::enter(&state.engine, form).await?;
    token::set_cookie(&ticket.token, state.secure_cookies);
    Ok(ticket)
}

/// Where this browser's customer stands now (`None`: not waiting).
#[server(prefix = "/api", endpoint = "help/mine")]
pub async fn my_help() -> Result<Option<CustomerView>, AppError> {
    let state = crate::state::app_state()?;
    let Some(help_session) = token::from_cookie(&state.pool).await? else {
        return Ok(None);
    };
    let view = view::customer_view(&state.pool, help_session).await?;
    Ok(view.filter(|view| !matches!(view, CustomerView::Closed { .. })))
}

/// "Leave queue".
#[server(prefix = "/api", endpoint = "help/leave")]
pub async fn leave_queue() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let help_session = token::from_cookie(&state.pool).await?.ok_or_else(|| AppError::NotFound("You are not waiting in a queue.".into()))?;
    crate::engine::line::leave(&state.engine, help_session, crate::engine::line::Left::Cancelled).await?;
    token::clear_cookie();
    Ok(())
}

/// "Ask for help again" after a conversation: this browser forgets its
/// finished help session (the record stays).
#[server(prefix = "/api", endpoint = "help/forget")]
pub async fn forget_help() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    if let Some(help_session) = token::from_cookie(&state.pool).await? {
        let open = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM help_sessions
                               WHERE id = $1 AND status IN ('waiting', 'offered', 'active', 'on_hold')) AS "open!""#,
            help_session.uuid()
        )
        .fetch_one(&state.pool)
        .await?;
        if open {
            return Err(AppError::Conflict("Leave the queue or end the conversation first.".into()));
        }
    }
    token::clear_cookie();
    Ok(())
}
