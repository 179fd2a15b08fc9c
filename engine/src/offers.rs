//! Push routing (SPEC §4): a waiting customer is offered to one agent, who
//! accepts, declines, or lets the no-answer (RONA) timer run out; then the
//! customer is back in their place. The offer and the accept are the SQL
//! functions of `offers.sql`.
//!
//! Everything that may make an offer possible (a customer entering, an
//! agent going READY or freeing a seat) runs an offer pass for the queue
//! right after its commit. Passes of several servers, or of several
//! requests, may run at once: the claims in the database (SKIP LOCKED on
//! customers and agents) keep them apart.

use super::events::{decode, log, About, Engine, Event, EventRow, Logged, Tx};
use super::retrying;
use super::seats::{self, Change};
use super::{agents, conference, lock_agent};
use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{AgentId, HelpSessionId, QueueId};

/// At most this many offers in one transaction.
const OFFER_PASS: i32 = 32;

/// An offer just made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub help_session: HelpSessionId,
    pub agent: AgentId,
    pub queue: QueueId,
}

impl Offer {
    fn from_event(logged: &Logged) -> Result<Self, AppError> {
        match (&logged.event, logged.about) {
            (Event::Offer {}, About { help_session: Some(help_session), queue: Some(queue), agent: Some(agent) }) => {
                Ok(Offer { help_session, agent, queue })
            }
            (event, _) => {
                tracing::error!(?event, "offer_customers answered with an event that is not a whole offer");
                Err(AppError::Internal)
            }
        }
    }
}

/// Offers waiting customers of a push queue to eligible agents until one of
/// the two runs out, in transactions of at most `OFFER_PASS` offers (a
/// transaction stops early at a customer nobody can take at that moment, so
/// the next one looks again). A failure is logged, not returned: whatever
/// was committed stands, and the sweeper's pass comes within a second.
pub async fn dispatch(engine: &Engine, queue: QueueId) {
    loop {
        match offers_for(engine.pool(), queue, OFFER_PASS).await {
            Ok(made) if made.is_empty() => return,
            Ok(made) => engine.announce(made.iter().map(Into::into)),
            Err(error) => {
                tracing::warn!(%error, %queue, "an offer pass failed; the sweeper will try again");
                return;
            }
        }
    }
}

/// The OFFER events of one call of `offer_customers`.
async fn offers_for<'c, E>(conn: E, queue: QueueId, most: i32) -> Result<Vec<Logged>, AppError>
where
    E: sqlx::PgExecutor<'c>,
{
    let rows = sqlx::query_as!(
        EventRow,
        r#"SELECT id AS "id!", at AS "at!", kind AS "kind!", help_session_id, queue_id, representative_id,
                  detail AS "detail!"
             FROM offer_customers($1, $2)"#,
        queue.uuid(),
        most
    )
    .fetch_all(conn)
    .await?;
    decode(rows)
}

/// One offer inside a transition's transaction.
pub(super) async fn offer_in(tx: &mut Tx, queue: QueueId) -> Result<Option<Offer>, AppError> {
    let made = offers_for(&mut **tx, queue, 1).await?;
    tx.wrote(&made);
    made.first().map(Offer::from_event).transpose()
}

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
        agents::set_not_ready(&mut tx, agent, agents::MISSED_OFFER).await?;
    }
    tx.commit(engine).await?;
    dispatch(engine, queue).await;
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
        super::transfer::failed(tx, help_session, offer.queue_id, agent, asked, why.transfer_failure()).await?;
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

/// Offers waiting customers in every push queue that has any: the safety
/// net the sweeper runs, in case a wake-up was missed.
pub async fn dispatch_waiting(engine: &Engine) -> Result<(), AppError> {
    let queues = sqlx::query_scalar!(
        r#"SELECT DISTINCT e.queue_id AS "queue_id: QueueId" FROM queue_entries e JOIN queues q ON q.id = e.queue_id
            WHERE e.offered_to IS NULL AND q.routing_mode = 'push'"#
    )
    .fetch_all(engine.pool())
    .await?;
    for queue in queues {
        dispatch(engine, queue).await;
    }
    Ok(())
}

/// Offers customers in every push queue the agent serves. Like `dispatch`,
/// a failure is logged, not returned.
pub async fn dispatch_for_agent(engine: &Engine, agent: AgentId) {
    let queues = sqlx::query_scalar!(
        r#"SELECT m.queue_id AS "queue_id: QueueId"
             FROM queue_members m JOIN queues q ON q.id = m.queue_id AND q.routing_mode = 'push'
            WHERE m.representative_id = $1"#,
        agent.uuid()
    )
    .fetch_all(engine.pool())
    .await;
    match queues {
        Ok(queues) => {
            for queue in queues {
                dispatch(engine, queue).await;
            }
        }
        Err(error) => tracing::warn!(%error, %agent, "cannot read an agent's queues to offer; the sweeper will"),
    }
}
