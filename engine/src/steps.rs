//! Steps that transitions of several kinds take inside their transaction:
//! each changes rows (and appends its events) in the open transaction; none
//! commits, offers or calls a transition. They sit below every transition,
//! so a transition of one kind uses another kind's step without the two
//! files importing each other.

use super::events::{log, About, Event, TransferStage, Tx};
use super::lock_agent;
use super::seats::{self, Change};
use crate::error::AppError;
use crate::queue::Channel;
use crate::roles::Role;
use crate::states::{AgentId, AgentState, HelpSessionId, QueueId};

/// A customer nobody serves any more waits again at the front of their
/// queue's line: by their first entry (the caller logs why).
pub(super) async fn back_to_front(tx: &mut Tx, help_session: HelpSessionId) -> Result<(), AppError> {
    sqlx::query!("UPDATE help_sessions SET status = 'waiting', agent_id = NULL WHERE id = $1", help_session.uuid())
        .execute(&mut **tx)
        .await?;
    sqlx::query!(
        "INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at)
         SELECT id, queue_id, channel, priority, entered_at FROM help_sessions WHERE id = $1",
        help_session.uuid()
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A transfer to `colleague` by name failed (the offer to them ended for
/// `reason`): logged about `asked`, whose desk says so.
pub(super) async fn transfer_failed(
    tx: &mut Tx,
    help_session: HelpSessionId,
    queue: QueueId,
    colleague: AgentId,
    asked: AgentId,
    reason: &str,
) -> Result<(), AppError> {
    let failed = Event::Transfer {
        stage: TransferStage::Failed,
        warm: false,
        to_queue: queue,
        to_agent: Some(colleague),
        reason: Some(reason.to_owned()),
    };
    log(tx, About::help_session(help_session, queue).by(asked), failed).await
}

/// Holds the conversation inside a transition that has the agent's row
/// locked.
pub(super) async fn hold_in(tx: &mut Tx, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let holding = sqlx::query!(
        r#"UPDATE help_sessions SET status = 'on_hold' WHERE id = $1 AND agent_id = $2 AND status = 'active'
        RETURNING queue_id AS "queue_id: QueueId", channel AS "channel: Channel""#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| AppError::Conflict("You are not talking with this customer now.".into()))?;
    held(tx, agent, help_session, holding.queue_id, holding.channel, None).await
}

/// The rest of putting a session on hold, once its status is `on_hold`: its
/// seat's live place is free, and HOLD is logged.
pub(super) async fn held(
    tx: &mut Tx,
    agent: AgentId,
    help_session: HelpSessionId,
    queue: QueueId,
    channel: Channel,
    switched_to: Option<HelpSessionId>,
) -> Result<(), AppError> {
    seats::change(tx, agent, channel, Change::Hold).await?;
    log(tx, About::help_session(help_session, queue).by(agent), Event::Hold { switched_to }).await
}

/// Resumes the conversation inside a transition that has the agent's row
/// locked.
pub(super) async fn resume_in(tx: &mut Tx, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let target = sqlx::query!(
        r#"SELECT queue_id AS "queue_id: QueueId", channel AS "channel: Channel" FROM help_sessions
            WHERE id = $1 AND agent_id = $2 AND status = 'on_hold' FOR UPDATE"#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| AppError::NotFound("This customer is not on hold with you.".into()))?;
    if matches!(target.channel, Channel::Video | Channel::Audio) {
        let others = sqlx::query!(
            r#"UPDATE help_sessions SET status = 'on_hold'
                WHERE agent_id = $1 AND status = 'active' AND channel IN ('video', 'audio')
            RETURNING id AS "id: HelpSessionId", queue_id AS "queue_id: QueueId", channel AS "channel: Channel""#,
            agent.uuid()
        )
        .fetch_all(&mut **tx)
        .await?;
        for other in others {
            held(tx, agent, other.id, other.queue_id, other.channel, Some(help_session)).await?;
        }
    }
    // The seat's live place: taken by an offer meanwhile, the resume waits.
    if !seats::change(tx, agent, target.channel, Change::Resume).await? {
        return Err(AppError::Conflict(
            "Every live place of this channel is taken: end or hold a conversation, or answer your offer, first.".into(),
        ));
    }
    sqlx::query!("UPDATE help_sessions SET status = 'active' WHERE id = $1", help_session.uuid()).execute(&mut **tx).await?;
    log(tx, About::help_session(help_session, target.queue_id).by(agent), Event::Resume {}).await
}

/// Locks several agents' rows, in one order everywhere.
pub(super) async fn lock_all(tx: &mut Tx, mut agents: Vec<AgentId>) -> Result<(), AppError> {
    agents.sort();
    agents.dedup();
    for agent in agents {
        lock_agent(tx, agent).await?;
    }
    Ok(())
}

/// `agent`'s live part in the conversation ends and their wrap-up for it
/// begins (`asked`: the part ended by a transfer it asked for). Their seat
/// is free: held with the customer for the owner on hold, live otherwise.
/// Returns their role; 409 when they had no live part.
pub(super) async fn end_part(
    tx: &mut Tx,
    agent: AgentId,
    help_session: HelpSessionId,
    channel: Channel,
    held: bool,
    asked: bool,
) -> Result<Role, AppError> {
    let role = sqlx::query_scalar!(
        r#"UPDATE participants SET left_at = now(), asked = asked OR $3
            WHERE help_session_id = $1 AND representative_id = $2 AND left_at IS NULL
        RETURNING role AS "role: Role""#,
        help_session.uuid(),
        agent.uuid(),
        asked
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| AppError::Conflict("You are not in this conversation any more.".into()))?;
    let freed = if role == Role::Agent && held { Change::FreeHeld } else { Change::FreeLive };
    seats::change(tx, agent, channel, freed).await?;
    sqlx::query!("UPDATE agent_states SET wrap_ups = wrap_ups + 1 WHERE representative_id = $1", agent.uuid())
        .execute(&mut **tx)
        .await?;
    Ok(role)
}

/// The reason given when the RONA timer runs out.
pub const MISSED_OFFER: &str = "Missed offer";

/// NOT_READY with a reason; every channel goes NOT_READY with it.
pub(super) async fn set_not_ready(tx: &mut Tx, agent: AgentId, reason: &str) -> Result<(), AppError> {
    sqlx::query!("UPDATE agent_channels SET ready = false WHERE representative_id = $1", agent.uuid()).execute(&mut **tx).await?;
    record_state(tx, agent, AgentState::NotReady, Some(reason)).await
}

/// Writes the agent's state and its AGENT_STATE event.
pub(super) async fn record_state(tx: &mut Tx, agent: AgentId, state: AgentState, reason: Option<&str>) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE agent_states
            SET state = $2, reason = $3, state_since = now(),
                idle_since = CASE WHEN $2 = 'READY' AND state <> 'READY' THEN now() ELSE idle_since END
          WHERE representative_id = $1",
        agent.uuid(),
        state.as_str(),
        reason
    )
    .execute(&mut **tx)
    .await?;
    log(tx, About::agent(agent), Event::AgentState { state, reason: reason.map(str::to_owned) }).await
}
