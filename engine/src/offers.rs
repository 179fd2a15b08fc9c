//! Push routing (SPEC §4), after the offer (`offering`): the agent
//! accepts, declines, or lets the no-answer (RONA) timer run out; then the
//! customer is back in their place. The accept is the SQL function
//! `accept_offer` of `offers.sql`.

use super::events::{decode, log, About, Engine, Event, EventRow, Tx};
use super::offering;
use super::retrying;
use super::seats::{self, Change};
use super::steps;
use super::{conference, lock_agent};
use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{AgentId, HelpSessionId, QueueId};

/// The agent takes the customer offered to them. 404 when the offer is gone
/// (expired, or the customer left).
pub async fn accept(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| accept_once(engine, agent, help_session)).await
}

/// One try of [`accept`].
#[tracing::instrument(skip(engine))]
async fn accept_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let rows = sqlx::query_as!(
        EventRow,
        r#"SELECT id AS "id!", at AS "at!", kind AS "kind!", help_session_id, queue_id, representative_id,
                  detail AS "detail!"
             FROM accept_offer($1, $2)"#,
        agent.uuid(),
        help_session.uuid()
    )
    .fetch_all(engine.pool())
    .await?;
    let connected = decode(rows)?;
    if connected.is_empty() {
        // Not a customer from the line: an offer to join a conversation?
        let mut tx = engine.begin().await?;
        lock_agent(&mut tx, agent).await?;
        if !conference::join(&mut tx, agent, help_session).await? {
            return Err(AppError::NotFound("This offer has ended: the customer left or the time ran out.".into()));
        }
        return tx.commit(engine).await;
    }
    engine.announce(connected.iter().map(Into::into));
    Ok(())
}

/// Why an offer ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// The agent said no: the customer goes back, and is not offered to
    /// this agent again.
    Decline,
    /// The RONA timer ran out: the customer goes back, and the agent is set
    /// NOT_READY with the reason "Missed offer".
    Rona,
}

/// Ends an offer without an answer: the customer is back in their place (the
/// same position: their time in the queue does not change).
pub async fn unanswered(engine: &Engine, agent: AgentId, help_session: HelpSessionId, why: Unanswered) -> Result<(), AppError> {
    retrying(|| unanswered_once(engine, agent, help_session, why)).await
}

/// One try of [`unanswered`].
async fn unanswered_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId, why: Unanswered) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let (event, released) = match why {
        Unanswered::Decline => (Event::Decline {}, Released::Declined),
        Unanswered::Rona => (Event::Rona {}, Released::Missed),
    };
    let queue = match release(&mut tx, agent, help_session, released).await? {
        Some(queue) => queue,
        None => conference::withdraw(&mut tx, agent, help_session, released.transfer_failure())
            .await?
            .ok_or_else(|| AppError::NotFound("This offer has already ended.".into()))?,
    };
    log(&mut tx, About::help_session(help_session, queue).by(agent), event).await?;
    if why == Unanswered::Rona {
        steps::set_not_ready(&mut tx, agent, steps::MISSED_OFFER).await?;
    }
    tx.commit(engine).await?;
    offering::dispatch(engine, queue).await;
    Ok(())
}

/// Why an offer is taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Released {
    /// The agent said no: the customer is not offered to them again.
    Declined,
    /// The RONA timer ran out.
    Missed,
    /// The agent logged out or was lost.
    AgentGone,
}

impl Released {
    /// The reason a transfer to this agent by name (or a request to join)
    /// failed, as logged.
    pub(super) fn transfer_failure(self) -> &'static str {
        match self {
            Released::Declined => "declined",
            Released::Missed => "missed",
            Released::AgentGone => "logged out",
        }
    }
}

/// Takes an offer back: the entry waits again, the agent's seat is free.
/// An offer made by a transfer to this agent by name fails with it (the
/// customer waits in the line for anyone, by their first entry, and the
/// representative who asked is told). Returns the queue, or `None` if there
/// was no such offer.
pub(super) async fn release(
    tx: &mut Tx,
    agent: AgentId,
    help_session: HelpSessionId,
    why: Released,
) -> Result<Option<QueueId>, AppError> {
    let entry = sqlx::query!(
        "UPDATE queue_entries
            SET offered_to = NULL,
                declined_by = CASE WHEN $2 THEN array_append(declined_by, $3) ELSE declined_by END
          WHERE help_session_id = $1 AND offered_to = $3
        RETURNING help_session_id",
        help_session.uuid(),
        why == Released::Declined,
        agent.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?;
    if entry.is_none() {
        return Ok(None);
    }
    let Some(offer) = sqlx::query!(
        r#"DELETE FROM offers WHERE help_session_id = $1 AND representative_id = $2
           RETURNING queue_id AS "queue_id: QueueId", channel AS "channel: Channel",
                     transfer_from AS "transfer_from: AgentId""#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!("UPDATE help_sessions SET status = 'waiting' WHERE id = $1", help_session.uuid()).execute(&mut **tx).await?;
    seats::change(tx, agent, offer.channel, Change::FreeLive).await?;
    if let Some(asked) = offer.transfer_from {
        steps::transfer_failed(tx, help_session, offer.queue_id, agent, asked, why.transfer_failure()).await?;
    }
    Ok(Some(offer.queue_id))
}

/// Ends every offer whose RONA deadline has passed. Returns how many.
pub async fn expire_offers(engine: &Engine) -> Result<usize, AppError> {
    let due = sqlx::query!(
        r#"SELECT help_session_id AS "help_session_id: HelpSessionId", representative_id AS "agent: AgentId"
             FROM offers WHERE expires_at <= now()"#
    )
    .fetch_all(engine.pool())
    .await?;
    let mut expired = 0;
    for offer in due {
        match unanswered(engine, offer.agent, offer.help_session_id, Unanswered::Rona).await {
            Ok(()) => expired += 1,
            // Accepted or expired by another server in the meantime.
            Err(AppError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(expired)
}
