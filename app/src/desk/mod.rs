//! The representative's desk: their state and channels, offers to answer,
//! the customers they are helping, and the queues they serve. Pushed live
//! over the WebSocket as a whole snapshot; changed through the server
//! functions below.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::conversation::roles::Role;
use crate::error::AppError;
use crate::queue::{Channel, RoutingMode};
use crate::states::{AgentId, AgentState, CallbackOutcome, HelpSessionId, HelpStatus, QueueId};

#[cfg(feature = "ssr")]
pub mod snapshot;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSeat {
    pub channel: Channel,
    pub ready: bool,
    pub live: i32,
    pub sessions: i32,
    pub max_live: i32,
    pub max_sessions: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferCard {
    pub help_session_id: HelpSessionId,
    pub customer_name: String,
    pub reason: String,
    pub channel: Channel,
    pub queue: String,
    /// How long the customer has waited, in seconds, when this was sent.
    pub waited_seconds: i64,
    /// Time left to accept, in milliseconds, when this was sent.
    pub expires_in_ms: i64,
    /// Set when the customer was transferred here.
    pub transferred: Option<Handover>,
    /// Set when this is a request to join a conversation in progress.
    pub join_with: Option<JoinRequest>,
    /// A callback: the number to call, and the calls made so far.
    pub callback: Option<CallbackCall>,
}

/// A callback as the desk shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackCall {
    pub phone: String,
    /// Calls made before this one.
    pub attempts: i32,
    /// Tries in all the queue allows.
    pub max_attempts: i32,
    /// The customer was reached: the conversation goes on by phone.
    pub reached: bool,
}

/// A colleague's request to join their conversation: who asked, and
/// whether to take the customer over (a warm transfer: the two talk first
/// while the customer waits on hold) or to take part (a conference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub asker: String,
    pub warm: bool,
}

/// A warm transfer under way: the colleague asked, and whether they joined
/// (then the asker can complete it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmTransfer {
    pub colleague: String,
    pub joined: bool,
}

/// Who transferred a customer, and their note for the next representative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub by: String,
    /// To this representative by name (not to a queue).
    pub by_name: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerCard {
    pub help_session_id: HelpSessionId,
    pub customer_name: String,
    /// The website vouched for the name (and the email, if any) through
    /// its widget.
    pub identified: bool,
    pub verified_email: Option<String>,
    pub reason: String,
    pub channel: Channel,
    pub phone: Option<String>,
    pub queue: String,
    /// Active, OnHold or WrapUp (this representative's part ended).
    pub status: HelpStatus,
    /// Seconds left of the queue's wrap-up time (in wrap-up only).
    pub wrap_up_left_seconds: Option<i64>,
    /// Set when the customer was transferred to this representative.
    pub transferred: Option<Handover>,
    /// What became of the last transfer or request to join this
    /// representative made in the conversation.
    pub outcome: Option<String>,
    /// A warm transfer this representative asked for, under way.
    pub warm_transfer: Option<WarmTransfer>,
    /// This representative's role in it.
    pub role: Role,
    /// The other representatives in it now ("Name", or "Name (colleague)").
    pub others: Vec<String>,
    /// Seconds in `status` when this was sent (talking or on hold since the
    /// last hold or resume; wrap-up since this part ended).
    pub status_seconds: i64,
    /// How long the customer waited before anyone answered, in seconds.
    pub waited_seconds: i64,
    /// A supervisor listens in silence ("Supervisor is listening"), unless
    /// the queue hides it.
    pub monitored: bool,
    /// The supervisor whispering to this representative, or barged in: their
    /// name and mode.
    pub supervisor: Option<(String, Role)>,
    /// A callback: the number to call and how the calls went.
    pub callback: Option<CallbackCall>,
}

/// One of a customer's earlier help sessions (same phone number), as the
/// desk shows it beside the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierSession {
    pub help_session_id: HelpSessionId,
    /// "2026-11-28 14:05" (UTC), when they asked.
    pub asked_at: String,
    pub channel: Channel,
    pub queue: String,
    pub status: HelpStatus,
    pub reason: String,
    /// Every representative who took part.
    pub representatives: Vec<String>,
    /// The last disposition and note recorded.
    pub disposition: Option<String>,
    pub note: Option<String>,
    pub rating: Option<i16>,
}

/// A conversation this agent finished lately, as kept in the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastConversation {
    pub help_session_id: HelpSessionId,
    pub customer_name: String,
    pub channel: Channel,
    /// "14:05" (UTC), when it ended.
    pub ended_at: String,
    pub disposition: Option<String>,
    pub note: Option<String>,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    /// Every representative who took part, in the order they joined.
    pub representatives: Vec<String>,
    /// A callback: the calls made to the customer so far.
    pub calls: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLine {
    pub id: QueueId,
    pub name: String,
    pub routing_mode: RoutingMode,
    pub waiting: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desk {
    pub state: AgentState,
    pub reason: Option<String>,
    pub channels: Vec<ChannelSeat>,
    pub offers: Vec<OfferCard>,
    pub customers: Vec<CustomerCard>,
    pub queues: Vec<QueueLine>,
    /// The latest conversations this agent completed (newest first).
    pub recent: Vec<PastConversation>,
}

/// A queue a customer may be transferred to, with what the representative
/// weighs first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferQueue {
    pub id: QueueId,
    pub name: String,
    pub waiting: i64,
    /// Members READY now.
    pub ready: i64,
    /// The wait of a customer joining its line now.
    pub estimate: String,
}

/// A colleague a customer may be transferred to by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferColleague {
    pub id: AgentId,
    pub name: String,
    pub state: AgentState,
    pub reason: Option<String>,
}

/// Where the customer of one conversation may be transferred. Whether a
/// target can take them is decided when the transfer is asked for (a
/// refusal says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferChoices {
    pub queues: Vec<TransferQueue>,
    pub colleagues: Vec<TransferColleague>,
}

/// Reasons offered for NOT_READY.
pub const NOT_READY_REASONS: [&str; 5] = ["Break", "Lunch", "Training", "Meeting", "Other work"];

/// The desk as it is now. Opening it logs a logged-out agent in.
#[server(prefix = "/api", endpoint = "desk")]
pub async fn open_desk() -> Result<Desk, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Rep).await?;
    crate::engine::agents::log_in(&state.engine, me.id.into()).await?;
    snapshot::desk(&state.pool, me.id.into()).await
}

/// READY, NOT_READY (with a reason), or LOGGED_OUT.
#[server(prefix = "/api", endpoint = "desk/state")]
pub async fn set_state(state: AgentState, #[server(default)] reason: String) -> Result<Desk, AppError> {
    use crate::engine::agents;
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    let agent = me.id.into();
    match state {
        AgentState::Ready => agents::set_ready(&app.engine, agent).await?,
        AgentState::NotReady => agents::set_not_ready_reason(&app.engine, agent, agents::not_ready_reason(&reason)?).await?,
        AgentState::LoggedOut => {
            agents::hand_back(&app.engine, agent, "Logged out").await?;
        }
    }
    snapshot::desk(&app.pool, me.id.into()).await
}

/// Turns one channel on or off.
#[server(prefix = "/api", endpoint = "desk/channel")]
pub async fn set_channel(channel: String, ready: bool) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    let channel = Channel::parse(&channel)?;
    crate::engine::agents::set_channel(&app.engine, me.id.into(), channel, ready).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

#[server(prefix = "/api", endpoint = "desk/accept")]
pub async fn accept_offer(help_session: HelpSessionId) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    crate::engine::offers::accept(&app.engine, me.id.into(), help_session).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

#[server(prefix = "/api", endpoint = "desk/decline")]
pub async fn decline_offer(help_session: HelpSessionId) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    use crate::engine::offers::{unanswered, Unanswered};
    unanswered(&app.engine, me.id.into(), help_session, Unanswered::Decline).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// "Next customer" (pull queues). `None` when nobody is waiting.
#[server(prefix = "/api", endpoint = "desk/next")]
pub async fn next_customer() -> Result<Option<HelpSessionId>, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    Ok(crate::engine::pull::next_customer(&app.engine, me.id.into()).await?.map(|taken| taken.help_session_id))
}

/// Ends a conversation; wrap-up follows.
#[server(prefix = "/api", endpoint = "desk/end")]
pub async fn end_session(help_session: HelpSessionId) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    snapshot::own(&app.pool, me.id.into(), help_session).await?;
    if snapshot::owner(&app.pool, help_session).await? != Some(me.id.into()) {
        return Err(AppError::Conflict(
            "Only the representative who owns this conversation can end it for everyone: leave it instead.".into(),
        ));
    }
    use crate::engine::control::{end, EndedBy};
    end(&app.engine, help_session, EndedBy::Agent).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// Records how the call to a callback's customer went.
#[server(prefix = "/api", endpoint = "desk/callback")]
pub async fn record_callback(help_session: HelpSessionId, outcome: CallbackOutcome) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    crate::engine::callback::record(&app.engine, me.id.into(), help_session, outcome).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// Holds a live conversation: media stops both ways.
#[server(prefix = "/api", endpoint = "desk/hold")]
pub async fn hold(help_session: HelpSessionId) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    crate::engine::control::hold(&app.engine, me.id.into(), help_session).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// Takes a held customer back; a live call with someone else goes on hold
/// (switching).
#[server(prefix = "/api", endpoint = "desk/resume")]
pub async fn resume(help_session: HelpSessionId) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    crate::engine::control::resume(&app.engine, me.id.into(), help_session).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// The queues and colleagues this conversation's customer may be
/// transferred to.
#[server(prefix = "/api", endpoint = "desk/transfer-targets")]
pub async fn transfer_targets(help_session: HelpSessionId) -> Result<TransferChoices, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    snapshot::own(&app.pool, me.id.into(), help_session).await?;
    snapshot::transfer_targets(&app.pool, me.id.into(), help_session).await
}

/// The customer's earlier help sessions (same phone number, newest first).
#[server(prefix = "/api", endpoint = "desk/earlier")]
pub async fn earlier_sessions(help_session: HelpSessionId) -> Result<Vec<EarlierSession>, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    snapshot::own(&app.pool, me.id.into(), help_session).await?;
    snapshot::earlier_sessions(&app.pool, help_session).await
}

/// Transfers the customer to a queue (`to_queue`) or a colleague by name
/// (`to_agent`), with an optional note for the next representative. This
/// representative's part ends: wrap-up follows.
#[server(prefix = "/api", endpoint = "desk/transfer")]
pub async fn transfer_customer(
    help_session: HelpSessionId,
    #[server(default)] to_queue: Option<QueueId>,
    #[server(default)] to_agent: Option<AgentId>,
    #[server(default)] note: String,
) -> Result<Desk, AppError> {
    use crate::engine::transfer::{self, Target, Transfer};
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    let to = Target::chosen(to_queue, to_agent)?;
    let request = Transfer { help_session, to, note, max_transfers: app.max_transfers };
    transfer::transfer(&app.engine, me.id.into(), &request).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// "Add a colleague": asks a colleague by name (`to_agent`) or the next
/// available member of a queue (`to_queue`) to join the conversation; with
/// `warm`, to take the customer over (a warm transfer: the customer waits
/// on hold while the two talk).
#[server(prefix = "/api", endpoint = "desk/conference")]
pub async fn add_colleague(
    help_session: HelpSessionId,
    #[server(default)] to_queue: Option<QueueId>,
    #[server(default)] to_agent: Option<AgentId>,
    #[server(default)] warm: bool,
) -> Result<Desk, AppError> {
    use crate::engine::conference::Joining;
    use crate::engine::transfer::Target;
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    let to = Target::chosen(to_queue, to_agent)?;
    let how = if warm { Joining::WarmTransfer { max_transfers: app.max_transfers } } else { Joining::Conference };
    crate::engine::conference::invite(&app.engine, me.id.into(), help_session, to, how).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// A warm transfer: the colleague takes the customer over (`complete`), or
/// the customer is back with this representative.
#[server(prefix = "/api", endpoint = "desk/warm-transfer")]
pub async fn finish_warm_transfer(help_session: HelpSessionId, complete: bool) -> Result<Desk, AppError> {
    use crate::engine::conference;
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    if complete {
        conference::complete(&app.engine, me.id.into(), help_session).await?;
    } else {
        conference::cancel(&app.engine, me.id.into(), help_session).await?;
    }
    snapshot::desk(&app.pool, me.id.into()).await
}

/// Leaves a conversation others go on with (wrap-up follows); the last
/// representative leaving ends it.
#[server(prefix = "/api", endpoint = "desk/leave")]
pub async fn leave_conversation(help_session: HelpSessionId) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    crate::engine::conference::leave(&app.engine, me.id.into(), help_session).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// Records the disposition and note; the customer is done.
#[server(prefix = "/api", endpoint = "desk/wrap-up")]
pub async fn wrap_up(
    help_session: HelpSessionId,
    disposition: String,
    #[server(default)] note: String,
) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    let disposition = disposition.trim();
    if disposition.is_empty() || disposition.chars().count() > 60 {
        return Err(AppError::invalid("Choose a disposition (at most 60 characters)."));
    }
    if note.chars().count() > 2000 {
        return Err(AppError::invalid("The note must be at most 2000 characters."));
    }
    crate::text::check("The disposition", disposition, crate::text::Shape::Line)?;
    crate::text::check("The note", &note, crate::text::Shape::Lines)?;
    crate::engine::control::wrap_up(&app.engine, me.id.into(), help_session, disposition, note.trim()).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

/// Dispositions offered at wrap-up.
pub const DISPOSITIONS: [&str; 5] = ["Resolved", "Follow-up needed", "Escalated", "Not resolved", "Wrong queue"];
