//! Supervision (SPEC §8): which queues a supervisor watches, and the
//! wallboard of those queues and their representatives, pushed live over
//! `/ws/supervisor`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::conversation::roles::Role;
use crate::error::AppError;
use crate::metrics::Figures;
use crate::queue::{Channel, Thresholds};
use crate::states::{AgentId, AgentState, HelpSessionId, HelpStatus, QueueId};

#[cfg(feature = "ssr")]
pub mod board;

/// The wallboard: the queues this person supervises (every queue for an
/// admin), and the representatives who serve them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wallboard {
    pub queues: Vec<WallQueue>,
    pub representatives: Vec<WallRepresentative>,
    /// The conversations this supervisor is in now.
    pub joined: Vec<Joined>,
}

/// One queue now and today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallQueue {
    pub id: QueueId,
    pub name: String,
    /// Waiting or being offered now.
    pub waiting: i64,
    /// Since the longest-waiting customer entered, when this was sent.
    pub longest_wait_seconds: Option<f64>,
    /// Members READY now.
    pub ready: i64,
    /// Today's figures so far (display time zone).
    pub today: Figures,
    pub thresholds: Thresholds,
}

/// One representative of the supervised queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallRepresentative {
    pub id: AgentId,
    pub name: String,
    pub state: AgentState,
    pub reason: Option<String>,
    /// Seconds in `state`, when this was sent.
    pub state_seconds: i64,
    pub customers: Vec<WallCustomer>,
    /// Offers they let ring out today.
    pub missed_today: i64,
}

/// A conversation a representative has now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WallCustomer {
    pub help_session_id: HelpSessionId,
    pub customer_name: String,
    pub channel: Channel,
    pub queue: String,
    /// Talking, on hold, or wrap-up (their part ended).
    pub status: HelpStatus,
    /// Seconds in `status`, when this was sent.
    pub status_seconds: i64,
}

/// The wallboard as it is now. Supervisors and admins.
#[server(prefix = "/api", endpoint = "supervisor/wallboard")]
pub async fn open_wallboard() -> Result<Wallboard, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Supervisor).await?;
    board::wallboard(&state.pool, &state.metrics, &me).await
}

/// A live conversation this supervisor is in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    pub help_session_id: HelpSessionId,
    pub customer_name: String,
    pub channel: Channel,
    pub queue: String,
    /// The representatives serving the customer now.
    pub representatives: Vec<String>,
    /// Monitor, whisper or barge.
    pub mode: Role,
    pub on_hold: bool,
    /// The last representative left: take the customer over or return them
    /// to the line.
    pub asked: bool,
}

/// Joins a live conversation of a supervised queue as monitor, whisper or
/// barge, or switches to that mode when already in it.
#[server(prefix = "/api", endpoint = "supervisor/join")]
pub async fn supervise_conversation(help_session: HelpSessionId, mode: Role) -> Result<(), AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Supervisor).await?;
    let queues = board::supervised(&state.pool, &me).await?;
    crate::engine::supervise::supervise(&state.engine, me.id.into(), &queues, help_session, mode).await
}

/// Leaves a conversation this supervisor is in.
#[server(prefix = "/api", endpoint = "supervisor/leave")]
pub async fn stop_supervising(help_session: HelpSessionId) -> Result<(), AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Supervisor).await?;
    crate::engine::supervise::leave(&state.engine, me.id.into(), help_session).await
}

/// Takes over the customer the last representative left with this
/// supervisor: the conversation goes on, on their desk.
#[server(prefix = "/api", endpoint = "supervisor/take-over")]
pub async fn take_customer_over(help_session: HelpSessionId) -> Result<(), AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Supervisor).await?;
    crate::engine::supervise::take_over(&state.engine, me.id.into(), help_session).await
}

/// Returns the customer the last representative left with this supervisor
/// to the front of the line.
#[server(prefix = "/api", endpoint = "supervisor/return")]
pub async fn return_customer(help_session: HelpSessionId) -> Result<(), AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Supervisor).await?;
    crate::engine::supervise::give_back(&state.engine, me.id.into(), help_session).await
}
