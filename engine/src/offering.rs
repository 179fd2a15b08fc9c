//! Making offers (SPEC §4): a waiting customer of a push queue is offered to
//! one agent, by the SQL function `offer_customers` (`offers.sql`).
//!
//! Everything that may make an offer possible (a customer entering, an
//! agent going READY or freeing a seat) runs an offer pass for the queue
//! right after its commit. Passes of several servers, or of several
//! requests, may run at once: the claims in the database (SKIP LOCKED on
//! customers and agents) keep them apart. What follows an offer (accept,
//! decline, RONA) is `offers`.

use super::events::{decode, About, Engine, Event, EventRow, Logged, Tx};
use crate::error::AppError;
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
