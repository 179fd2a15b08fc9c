//! The representative's desk: their state and channels, offers to answer,
//! the customers they are helping, and the queues they serve. Pushed live
//! over the WebSocket as a whole snapshot; changed through the server
//! functions below.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::conversation::roles::Role;
use crate::error::AppError;
use crate::language::Language;
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
    /// The customer's language, when known.
    pub language: Option<Language>,
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
    /// The customer's language, when known.
    pub language: Option<Language>,
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
    /// When it was read (the server's clock, µs since 1970): of two desks,
    /// the page shows the one read last.
    pub as_of: i64,
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

/// Everything a representative does at the desk that changes it (but
/// "Next customer", which answers whom it took): one request, one answer
/// (the desk as it is then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum DeskCommand {
    /// READY, NOT_READY (with a reason), or LOGGED_OUT.
    SetState {
        state: AgentState,
        #[serde(default)]
        reason: String,
    },
    /// Turns one channel on or off.
    SetChannel {
        channel: Channel,
        ready: bool,
    },
    Accept {
        help_session: HelpSessionId,
    },
    Decline {
        help_session: HelpSessionId,
    },
    /// Ends a conversation for everyone (its owner only); wrap-up follows.
    End {
        help_session: HelpSessionId,
    },
    /// How the call to a callback's customer went.
    RecordCallback {
        help_session: HelpSessionId,
        outcome: CallbackOutcome,
    },
    /// Holds a live conversation: media stops both ways.
    Hold {
        help_session: HelpSessionId,
    },
    /// Takes a held customer back; a live call with someone else goes on
    /// hold (switching).
    Resume {
        help_session: HelpSessionId,
    },
    /// Hands the customer to a queue (`to_queue`) or a colleague by name
    /// (`to_agent`), with an optional note for the next representative.
    /// This representative's part ends: wrap-up follows.
    Transfer {
        help_session: HelpSessionId,
        #[serde(default)]
        to_queue: Option<QueueId>,
        #[serde(default)]
        to_agent: Option<AgentId>,
        #[serde(default)]
        note: String,
    },
    /// "Add a colleague": asks a colleague by name (`to_agent`) or the next
    /// available member of a queue (`to_queue`) to join; with `warm`, to
    /// take the customer over (a warm transfer: the customer waits on hold
    /// while the two talk).
    AddColleague {
        help_session: HelpSessionId,
        #[serde(default)]
        to_queue: Option<QueueId>,
        #[serde(default)]
        to_agent: Option<AgentId>,
        #[serde(default)]
        warm: bool,
    },
    /// A warm transfer: the colleague takes the customer over (`complete`),
    /// or the customer is back with this representative.
    FinishWarmTransfer {
        help_session: HelpSessionId,
        complete: bool,
    },
    /// Leaves a conversation others go on with (wrap-up follows); the last
    /// representative leaving ends it.
    Leave {
        help_session: HelpSessionId,
    },
    /// Records the disposition and note; the customer is done.
    WrapUp {
        help_session: HelpSessionId,
        disposition: String,
        #[serde(default)]
        note: String,
    },
}

/// Does what the representative asked; answers the desk as it is then.
#[server(prefix = "/api", endpoint = "desk/do", input = server_fn::codec::Json)]
pub async fn act(command: DeskCommand) -> Result<Desk, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    run(&app, me.id.into(), command).await?;
    snapshot::desk(&app.pool, me.id.into()).await
}

#[cfg(feature = "ssr")]
async fn run(app: &crate::state::AppState, me: AgentId, command: DeskCommand) -> Result<(), AppError> {
    use crate::engine::{agents, callback, conference, control, offers, transfer};
    let engine = &app.engine;
    match command {
        DeskCommand::SetState { state: AgentState::Ready, .. } => agents::set_ready(engine, me).await,
        DeskCommand::SetState { state: AgentState::NotReady, reason } => {
            agents::set_not_ready_reason(engine, me, agents::not_ready_reason(&reason)?).await
        }
        DeskCommand::SetState { state: AgentState::LoggedOut, .. } => agents::hand_back(engine, me, "Logged out").await.map(drop),
        DeskCommand::SetChannel { channel, ready } => agents::set_channel(engine, me, channel, ready).await,
        DeskCommand::Accept { help_session } => offers::accept(engine, me, help_session).await,
        DeskCommand::Decline { help_session } => offers::unanswered(engine, me, help_session, offers::Unanswered::Decline).await,
        DeskCommand::End { help_session } => {
            snapshot::own(&app.pool, me, help_session).await?;
            if snapshot::owner(&app.pool, help_session).await? != Some(me) {
                return Err(AppError::Conflict(
                    "Only the representative who owns this conversation can end it for everyone: leave it instead.".into(),
                ));
            }
            control::end(engine, help_session, control::EndedBy::Agent).await
        }
        DeskCommand::RecordCallback { help_session, outcome } => callback::record(engine, me, help_session, outcome).await,
        DeskCommand::Hold { help_session } => control::hold(engine, me, help_session).await,
        DeskCommand::Resume { help_session } => control::resume(engine, me, help_session).await,
        DeskCommand::Transfer { help_session, to_queue, to_agent, note } => {
            let to = transfer::Target::chosen(to_queue, to_agent)?;
            let request = transfer::Transfer { help_session, to, note, max_transfers: app.max_transfers };
            transfer::transfer(engine, me, &request).await
        }
        DeskCommand::AddColleague { help_session, to_queue, to_agent, warm } => {
            let to = transfer::Target::chosen(to_queue, to_agent)?;
            let how = match warm {
                true => conference::Joining::WarmTransfer { max_transfers: app.max_transfers },
                false => conference::Joining::Conference,
            };
            conference::invite(engine, me, help_session, to, how).await
        }
        DeskCommand::FinishWarmTransfer { help_session, complete: true } => conference::complete(engine, me, help_session).await,
        DeskCommand::FinishWarmTransfer { help_session, complete: false } => conference::cancel(engine, me, help_session).await,
        DeskCommand::Leave { help_session } => control::leave(engine, me, help_session).await,
        DeskCommand::WrapUp { help_session, disposition, note } => {
            let disposition = disposition.trim();
            if disposition.is_empty() || disposition.chars().count() > 60 {
                return Err(AppError::invalid("Choose a disposition (at most 60 characters)."));
            }
            if note.chars().count() > 2000 {
                return Err(AppError::invalid("The note must be at most 2000 characters."));
            }
            crate::text::check("The disposition", disposition, crate::text::Shape::Line)?;
            crate::text::check("The note", &note, crate::text::Shape::Lines)?;
            control::wrap_up(engine, me, help_session, disposition, note.trim()).await
        }
    }
}

/// "Next customer" (pull queues). `None` when nobody is waiting.
#[server(prefix = "/api", endpoint = "desk/next")]
pub async fn next_customer() -> Result<Option<HelpSessionId>, AppError> {
    let (me, app) = crate::auth::require(crate::access::Area::Rep).await?;
    Ok(crate::engine::pull::next_customer(&app.engine, me.id.into()).await?.map(|taken| taken.help_session_id))
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

/// Dispositions offered at wrap-up.
pub const DISPOSITIONS: [&str; 5] = ["Resolved", "Follow-up needed", "Escalated", "Not resolved", "Wrong queue"];
