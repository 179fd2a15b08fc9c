//! The customer's side: asking for help, waiting with a live position and
//! estimate, leaving. A customer never signs in; they hold a signed token for
//! their own help session (an HttpOnly cookie on the page, a bearer token
//! through the API).

// The browser's stubs of the server functions below take the form's
// fields as arguments; the macro does not carry an `allow` over to them.
#![cfg_attr(not(feature = "ssr"), allow(clippy::too_many_arguments))]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;
use crate::queue::Channel;
use crate::states::HelpSessionId;

#[cfg(feature = "ssr")]
pub mod near;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod simulate;
#[cfg(feature = "ssr")]
pub mod token;
#[cfg(feature = "ssr")]
pub mod view;
#[cfg(feature = "ssr")]
pub mod wait_model;

/// The cookie that carries the customer's token on the page.
pub const COOKIE: &str = "switchboard_customer";

/// A queue a customer may choose, with the channels it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueChoice {
    pub id: Uuid,
    pub name: String,
    pub channels: Vec<Channel>,
    /// Closed now: when it opens (RFC 3339); only a callback is taken.
    pub opens_at: Option<String>,
}

/// A time a customer may ask to be called back in (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackWindow {
    pub from: String,
    pub until: String,
}

/// What the customer's page shows, pushed live while they wait.
#[allow(clippy::large_enum_variant, reason = "a view is built, sent and dropped: boxing would only add allocations")]
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
        /// The same range in seconds (low, high), from now (from the
        /// opening while closed); `None` when it cannot be estimated.
        range_seconds: Option<(u32, u32)>,
        /// Set when nobody is logged in for the queue: what the queue says.
        nobody: Option<String>,
        /// Set when they were being served before: why they wait again.
        back: Option<Back>,
        /// The queue is closed now: when it opens (RFC 3339; the page shows
        /// it in the customer's own time zone).
        opens_at: Option<String>,
        /// How this customer waits: a callback, or keeping their place.
        place: Place,
        /// Keeping their place, and near the front now: tell them.
        near: bool,
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

/// How a waiting customer waits, besides their place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// They asked to be called back.
    pub callback: Option<CallbackStatus>,
    /// They keep their place with the page closed ("notify me"); the email
    /// they gave, if any.
    pub keep_place: Option<KeepPlace>,
}

/// A callback as its customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackStatus {
    pub phone: String,
    /// Their preferred window (RFC 3339), if they chose one.
    pub window: Option<(String, String)>,
    /// The calls so far: when (RFC 3339) and how each went.
    pub attempts: Vec<(String, crate::states::CallbackOutcome)>,
    /// Not called before this (RFC 3339): the window's start or the retry.
    pub next_try: Option<String>,
}

/// A customer keeping their place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepPlace {
    pub email: Option<String>,
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
    queue_choices(&state.pool, Some(request_language())).await
}

/// The language of the customer asking now (their browser's).
#[cfg(feature = "ssr")]
pub fn request_language() -> crate::language::Language {
    request::browser_language(use_context::<axum::http::request::Parts>().as_ref().map(|parts| &parts.headers))
}

/// The queues customers can choose. For other server functions: they call
/// this with the pool they hold, not [`help_queues`], which reads the
/// request's context and so must run while it is there (after their own
/// awaits, while the server renders a page, it may not be).
#[cfg(feature = "ssr")]
pub async fn queue_choices(
    pool: &sqlx::PgPool,
    for_language: Option<crate::language::Language>,
) -> Result<Vec<QueueChoice>, AppError> {
    let queues = crate::queue::repo::list(pool).await?;
    let closed: std::collections::HashMap<Uuid, String> = sqlx::query!(
        r#"SELECT id, queue_next_open(id, now()) AS "opens_at!" FROM queues WHERE NOT queue_open(id, now())
              AND queue_next_open(id, now()) IS NOT NULL"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.id, view::rfc3339(row.opens_at)))
    .collect();
    Ok(queues
        .into_iter()
        // A queue for one language is offered to its speakers only.
        .filter(|queue| for_language.is_none() || queue.settings.language.is_none_or(|language| Some(language) == for_language))
        .map(|queue| QueueChoice {
            opens_at: closed.get(&queue.id).cloned(),
            id: queue.id,
            name: queue.settings.name,
            channels: queue.settings.channels,
        })
        .collect())
}

/// The hours a customer may ask to be called back in: each hour the queue
/// is open over the next seven days (the first 60).
#[server(prefix = "/api", endpoint = "help/windows")]
pub async fn callback_windows(queue: Option<Uuid>) -> Result<Vec<CallbackWindow>, AppError> {
    let state = crate::state::app_state()?;
    let queue = match queue {
        Some(queue) => queue,
        None => {
            let help_session = token::from_cookie(&state.pool)
                .await?
                .ok_or_else(|| AppError::NotFound("You are not waiting in a queue.".into()))?;
            sqlx::query_scalar!("SELECT queue_id FROM help_sessions WHERE id = $1", help_session.uuid())
                .fetch_one(&state.pool)
                .await?
        }
    };
    Ok(sqlx::query!(
        r#"SELECT slot AS "from!", slot + interval '1 hour' AS "until!"
             FROM generate_series(date_trunc('hour', now()) + interval '1 hour', now() + interval '7 days',
                                  interval '1 hour') AS slot
            WHERE queue_open($1, slot) AND queue_open($1, slot + interval '59 minutes')
            ORDER BY slot LIMIT 60"#,
        queue
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|row| CallbackWindow { from: view::rfc3339(row.from), until: view::rfc3339(row.until) })
    .collect())
}

/// Whether a customer keeping their place may also be told by email (the
/// server has SMTP settings).
#[server(prefix = "/api", endpoint = "help/email-offered")]
pub async fn email_offered() -> Result<bool, AppError> {
    Ok(crate::state::app_state()?.mail.is_some())
}

/// A waiting customer changes how they will be served and keeps their
/// place: `to` is `video`, `audio` or `chat` (talk), `callback` (with a
/// phone number and an optional window `FROM/UNTIL`), or `keep` (keep the
/// place with the page closed; an optional email).
#[server(prefix = "/api", endpoint = "help/switch")]
pub async fn switch_help(
    to: String,
    #[server(default)] phone: String,
    #[server(default)] window: String,
    #[server(default)] email: String,
) -> Result<(), AppError> {
    use crate::engine::callback::Switch;
    let state = crate::state::app_state()?;
    let help_session =
        token::from_cookie(&state.pool).await?.ok_or_else(|| AppError::NotFound("You are not waiting in a queue.".into()))?;
    let switch = match to.as_str() {
        "callback" => Switch::CallBack { phone: request::parse_phone(&phone)?, window: request::parse_window(&window)? },
        "keep" => Switch::KeepPlace { email: request::parse_email(&email)? },
        other => Switch::Talk(Channel::parse(other)?),
    };
    crate::engine::callback::switch(&state.engine, help_session, switch).await
}

/// "Talk to a representative": creates the help session, puts it in the
/// queue, and keeps the token in an HttpOnly cookie so a reload keeps the
/// customer's place. Through a website's widget, `widget` is its key (the
/// queue must be one it offers) and `identity` the token the site signed
/// for a known customer, if any: their name is then the one it vouched for.
#[server(prefix = "/api", endpoint = "help/request")]
#[allow(clippy::too_many_arguments)]
pub async fn request_help(
    queue: String,
    name: String,
    reason: String,
    channel: String,
    #[server(default)] phone: String,
    #[server(default)] window: String,
    #[server(default)] widget: String,
    #[server(default)] identity: String,
) -> Result<HelpTicket, AppError> {
    let state = crate::state::app_state()?;
    let from = crate::auth::client_addr()?;
    state.limits.help_request(from)?;
    let mut form = request::HelpForm::parse(&state.pool, &queue, &name, &reason, &channel, &phone, &window).await?;
    form.0.from_address = Some(from.to_string());
    form.0.language = Some(request_language());
    let holder = if widget.is_empty() {
        token::Holder::Site { secure: state.secure_cookies }
    } else {
        let widget = crate::widget::repo::enabled(&state.pool, &widget).await?;
        if !widget.queues.contains(&form.0.queue_id.uuid()) {
            return Err(AppError::invalid("Choose what you need help with."));
        }
        let identity = match identity.trim() {
            "" => None,
            token => Some(
                crate::widget::identity::verify(&widget.secret(&state.secrets)?, &widget.key, token)?
                    .spend(&state.pool, widget.id)
                    .await?,
            ),
        };
        if let Some(identity) = &identity {
            form.0.customer_name = identity.name.clone();
        }
        form.0.from_widget = Some(crate::engine::line::FromWidget { widget: widget.id, identity });
        token::Holder::Widget
    };
    let ticket = request::enter(&state.engine, form).await?;
    token::set_cookie(&ticket.token, holder);
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
    let help_session =
        token::from_cookie(&state.pool).await?.ok_or_else(|| AppError::NotFound("You are not waiting in a queue.".into()))?;
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
