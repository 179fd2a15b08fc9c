//! The routing engine (SPEC §3–4): customers enter, are offered to one agent
//! (push) or taken with "Next customer" (pull), accepted, ended, wrapped up,
//! cancelled, abandoned or handed back.
//!
//! Every transition is one transaction that also appends its event (the
//! wake-up follows the commit). The head of a queue is always claimed with
//! `FOR UPDATE SKIP LOCKED` in the same transaction that writes the offer or
//! the assignment, and the agent's channel row is locked too and its capacity
//! re-checked, so concurrent servers never hand one customer to two agents,
//! never fill one seat twice, and never lose anyone.
//!
//! Lock order, everywhere: the agent's state row, then queue entries, then
//! offers, then help sessions, then the agent's channel rows (whose totals
//! a trigger writes back to the state row, already held). Offers take
//! agents and customers with SKIP LOCKED and so never wait for them; lots of
//! gathered presses or accepts take their agents in agent order. Should two
//! transactions deadlock all the same, PostgreSQL ends one: a lot is then
//! run again request by request (`gather`), anything else answers 500 and
//! has changed nothing.

pub mod agents;
pub mod events;
mod gather;
mod passes;
pub mod presence;
pub mod talk;

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::AppError;
use crate::queue::{Channel, RoutingMode, WhenNobody};
pub use events::Engine;
use events::{log, Notice, Tx};
use gather::Lot;

/// A customer's request, parsed at the boundary.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub queue_id: Uuid,
    pub customer_name: String,
    pub reason: String,
    pub channel: Channel,
    pub phone: Option<String>,
    pub priority: i32,
}

/// An offer just made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub help_session_id: Uuid,
    pub agent_id: Uuid,
}

/// Creates the help session and its place in the queue, in one transaction.
/// Refuses when the queue is full, or when nobody is logged in for it and the
/// queue says to refuse (a callback request is always taken: it keeps its
/// place).
#[tracing::instrument(skip_all, fields(queue = %request.queue_id))]
pub async fn enter(engine: &Engine, request: NewRequest) -> Result<Uuid, AppError> {
    let mut tx = engine.begin().await?;
    let mode = admit(&mut tx, request.queue_id, request.channel).await?;
    let id = insert_session(&mut tx, &request, "waiting").await?;
    insert_entry(&mut tx, id).await?;
    // The first offer rides in the same transaction: one commit from
    // entering to being offered.
    if mode == RoutingMode::Push {
        offer_in(&mut tx, request.queue_id).await?;
    }
    tx.commit(engine).await?;
    if mode == RoutingMode::Push {
        // More may be possible now that this entry is visible to everyone:
        // several free agents, or an agent another offer was holding a
        // moment ago.
        dispatch(engine, request.queue_id).await;
    }
    Ok(id)
}

/// Creates a help session without queueing it (the service kit's
/// `POST /help/session`); `enqueue` puts it in line later.
pub async fn create(engine: &Engine, request: NewRequest) -> Result<Uuid, AppError> {
    let mut tx = engine.begin().await?;
    let channels = sqlx::query_scalar!("SELECT channels FROM queues WHERE id = $1", request.queue_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    if !channels.iter().any(|c| c == request.channel.as_str()) {
        return Err(unoffered(request.channel));
    }
    let id = insert_session(&mut tx, &request, "created").await?;
    tx.commit(engine).await?;
    Ok(id)
}

/// Puts a created help session in its queue. 409 when it is already in
/// line or past that.
pub async fn enqueue(engine: &Engine, help_session: Uuid) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let session = sqlx::query!(
        "SELECT queue_id, channel, status FROM help_sessions WHERE id = $1 FOR UPDATE",
        help_session
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such help session.".into()))?;
    if session.status != "created" {
        return Err(AppError::Conflict(format!("This help session is {} already, not waiting to be queued.", session.status)));
    }
    let mode = admit(&mut tx, session.queue_id, Channel::parse(&session.channel)?).await?;
    sqlx::query!("UPDATE help_sessions SET status = 'waiting', entered_at = now() WHERE id = $1", help_session)
        .execute(&mut *tx)
        .await?;
    insert_entry(&mut tx, help_session).await?;
    tx.commit(engine).await?;
    if mode == RoutingMode::Push {
        dispatch(engine, session.queue_id).await;
    }
    Ok(())
}

fn unoffered(channel: Channel) -> AppError {
    AppError::invalid(format!("This queue does not offer {}.", channel.label().to_lowercase()))
}

/// The queue's rules for letting someone in; answers its routing mode.
async fn admit(conn: &mut PgConnection, queue_id: Uuid, channel: Channel) -> Result<RoutingMode, AppError> {
    let queue = sqlx::query!(
        r#"SELECT channels, routing_mode, max_length, when_nobody, nobody_message,
                  -- Counted only for a queue with a limit: a count is as
                  -- long as the line.
                  CASE WHEN q.max_length IS NULL THEN 0
                       ELSE (SELECT count(*) FROM queue_entries e WHERE e.queue_id = q.id) END AS "waiting!",
                  -- Member by member, each a lookup of one row (as a join,
                  -- the planner may read every agent).
                  EXISTS (SELECT 1 FROM queue_members m
                           WHERE m.queue_id = q.id
                             AND (SELECT s.state <> 'LOGGED_OUT' FROM agent_states s
                                   WHERE s.representative_id = m.representative_id)) AS "staffed!"
             FROM queues q WHERE id = $1"#,
        queue_id,
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    if !queue.channels.iter().any(|c| c == channel.as_str()) {
        return Err(unoffered(channel));
    }
    if queue.max_length.is_some_and(|max| queue.waiting >= i64::from(max)) {
        return Err(AppError::Unavailable(
            "The line is full right now. Please try again in a few minutes, or ask us to call you back later.".into(),
        ));
    }
    if !queue.staffed && WhenNobody::parse(&queue.when_nobody)? == WhenNobody::Refuse && channel != Channel::Callback {
        return Err(AppError::Unavailable(queue.nobody_message));
    }
    RoutingMode::parse(&queue.routing_mode)
}

async fn insert_session(conn: &mut PgConnection, request: &NewRequest, status: &str) -> Result<Uuid, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO help_sessions (queue_id, customer_name, reason, channel, phone, priority, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        request.queue_id,
        request.customer_name,
        request.reason,
        request.channel.as_str(),
        request.phone,
        request.priority,
        status,
    )
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The session's waiting slot, ordered by the time it entered, and its
/// ENTER_QUEUE event.
async fn insert_entry(tx: &mut Tx, help_session: Uuid) -> Result<(), AppError> {
    let entry = sqlx::query!(
        "INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at)
         SELECT id, queue_id, channel, priority, entered_at FROM help_sessions WHERE id = $1
         RETURNING queue_id, channel, priority",
        help_session
    )
    .fetch_one(&mut **tx)
    .await?;
    log(
        tx,
        "ENTER_QUEUE",
        Some(help_session),
        Some(entry.queue_id),
        None,
        json!({ "channel": entry.channel, "priority": entry.priority }),
    )
    .await
}

/// Offers waiting customers of a push queue to eligible agents until one of
/// the two runs out. Returns once a pass that started after the call has
/// finished; calls that come together share one pass (see `passes`).
pub async fn dispatch(engine: &Engine, queue_id: Uuid) {
    engine.passes.run(queue_id).await;
}

/// At most this many offers in one transaction.
const OFFER_PASS: i32 = 32;

/// The whole pass for a queue: transactions of offers until one makes none
/// (a transaction stops early at a customer nobody can take at that
/// moment, so the next one looks again). A failure is logged, not returned:
/// whatever was committed stands, and the sweeper's pass comes within a
/// second.
fn offer_pass(pool: PgPool, announcer: events::Announcer) -> passes::Pass {
    Box::new(move |queue_id| {
        let pool = pool.clone();
        let announcer = announcer.clone();
        Box::pin(async move {
            loop {
                match offers_for(&pool, queue_id, OFFER_PASS).await {
                    Ok(made) if made.is_empty() => return,
                    Ok(made) => announcer.announce(made.iter().map(|offer| offer.notice(queue_id))),
                    Err(error) => {
                        tracing::warn!(%error, queue = %queue_id, "an offer pass failed; the sweeper will try again");
                        return;
                    }
                }
            }
        })
    })
}

/// Offers, each of the first waiting customer that some eligible agent can
/// take, to the agent the queue's strategy picks (SPEC §4; the function
/// `offer_customers` in migrations/0004_gathered_matches.sql).
async fn offers_for<'c, E>(conn: E, queue_id: Uuid, most: i32) -> Result<Vec<Offer>, AppError>
where
    E: sqlx::PgExecutor<'c>,
{
    let offers = sqlx::query_as!(
        Offer,
        r#"SELECT offered_session AS "help_session_id!", offered_agent AS "agent_id!" FROM offer_customers($1, $2)"#,
        queue_id,
        most
    )
    .fetch_all(conn)
    .await?;
    Ok(offers)
}

/// One offer inside a transition's transaction.
async fn offer_in(tx: &mut Tx, queue_id: Uuid) -> Result<Option<Offer>, AppError> {
    let offer = offers_for(&mut **tx, queue_id, 1).await?.pop();
    if let Some(offer) = &offer {
        tx.notice(offer.notice(queue_id));
    }
    Ok(offer)
}

impl Offer {
    fn notice(&self, queue_id: Uuid) -> Notice {
        Notice::new("OFFER", Some(self.help_session_id), Some(queue_id), Some(self.agent_id))
    }
}

/// The agent takes the customer offered to them. 404 when the offer is gone
/// (expired, or the customer left). Accepts that come at the same moment
/// are committed together (see `gather`).
#[tracing::instrument(skip(engine))]
pub async fn accept(engine: &Engine, agent: Uuid, help_session: Uuid) -> Result<(), AppError> {
    let accepted = engine.accepts.ask((agent, help_session)).await?;
    match (accepted.outcome.as_str(), accepted.offered_queue) {
        ("connected", Some(queue)) => {
            engine.announce([Notice::new("CONNECT", Some(help_session), Some(queue), Some(agent))]);
            Ok(())
        }
        ("no_agent", _) => Err(AppError::NotFound("No such representative.".into())),
        _ => Err(AppError::NotFound("This offer has ended: the customer left or the time ran out.".into())),
    }
}

/// What one accept came to: a row of `accept_offers`.
pub(crate) struct Accepted {
    n: i32,
    outcome: String,
    offered_queue: Option<Uuid>,
}

/// What one "Next customer" press came to: a row of `take_next_customers`.
pub(crate) struct Press {
    n: i32,
    outcome: String,
    taken_session: Option<Uuid>,
    taken_queue: Option<Uuid>,
    taken_channel: Option<String>,
    customer_name: Option<String>,
    reason: Option<String>,
    phone: Option<String>,
}

/// Accepts (agent, customer), in one transaction, in the order given
/// (migrations/0004_gathered_matches.sql).
pub(crate) fn accept_lot(pool: PgPool, requests: Vec<(Uuid, Uuid)>) -> Lot<Accepted> {
    Box::pin(async move {
        let (agents, sessions): (Vec<Uuid>, Vec<Uuid>) = requests.into_iter().unzip();
        let rows = sqlx::query_as!(
            Accepted,
            r#"SELECT n AS "n!", outcome AS "outcome!", offered_queue FROM accept_offers($1, $2) ORDER BY n"#,
            &agents,
            &sessions
        )
        .fetch_all(&pool)
        .await?;
        in_order(rows, |row| row.n)
    })
}

/// "Next customer" for each agent, in one transaction, in the order given
/// (migrations/0004_gathered_matches.sql).
pub(crate) fn take_lot(pool: PgPool, agents: Vec<Uuid>) -> Lot<Press> {
    Box::pin(async move {
        let rows = sqlx::query_as!(
            Press,
            r#"SELECT n AS "n!", outcome AS "outcome!", taken_session, taken_queue, taken_channel,
                      customer_name, reason, phone
                 FROM take_next_customers($1) ORDER BY n"#,
            &agents
        )
        .fetch_all(&pool)
        .await?;
        in_order(rows, |row| row.n)
    })
}

/// The rows of a lot, checked to be numbered 1, 2, ... (the lane checks
/// that there is one per request).
fn in_order<R>(rows: Vec<R>, n: impl Fn(&R) -> i32) -> Result<Vec<R>, AppError> {
    if !rows.iter().enumerate().all(|(i, row)| usize::try_from(n(row)) == Ok(i + 1)) {
        tracing::error!(rows = rows.len(), "a lot's rows are out of order");
        return Err(AppError::Internal);
    }
    Ok(rows)
}

/// Locks the agent's state row: the first lock of every transition that
/// concerns one agent.
async fn lock_agent(conn: &mut PgConnection, agent: Uuid) -> Result<(), AppError> {
    sqlx::query!("SELECT representative_id FROM agent_states WHERE representative_id = $1 FOR UPDATE", agent)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
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
pub async fn unanswered(engine: &Engine, agent: Uuid, help_session: Uuid, why: Unanswered) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let queue_id = release_offer(&mut tx, agent, help_session, why == Unanswered::Decline)
        .await?
        .ok_or_else(|| AppError::NotFound("This offer has already ended.".into()))?;
    let kind = match why {
        Unanswered::Decline => "DECLINE",
        Unanswered::Rona => "RONA",
    };
    log(&mut tx, kind, Some(help_session), Some(queue_id), Some(agent), json!({})).await?;
    if why == Unanswered::Rona {
        agents::set_not_ready(&mut tx, agent, agents::MISSED_OFFER).await?;
    }
    tx.commit(engine).await?;
    dispatch(engine, queue_id).await;
    Ok(())
}

/// Takes an offer back: the entry waits again, the agent's seat is free.
/// Returns the queue, or `None` if there was no such offer.
async fn release_offer(
    conn: &mut PgConnection,
    agent: Uuid,
    help_session: Uuid,
    remember_decline: bool,
) -> Result<Option<Uuid>, AppError> {
    let entry = sqlx::query!(
        "UPDATE queue_entries
            SET offered_to = NULL,
                declined_by = CASE WHEN $2 THEN array_append(declined_by, $3) ELSE declined_by END
          WHERE help_session_id = $1 AND offered_to = $3
        RETURNING help_session_id",
        help_session,
        remember_decline,
        agent
    )
    .fetch_optional(&mut *conn)
    .await?;
    if entry.is_none() {
        return Ok(None);
    }
    let Some(offer) = sqlx::query!(
        "DELETE FROM offers WHERE help_session_id = $1 AND representative_id = $2 RETURNING queue_id, channel",
        help_session,
        agent
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!("UPDATE help_sessions SET status = 'waiting' WHERE id = $1", help_session)
        .execute(&mut *conn)
        .await?;
    free_seat(conn, agent, &offer.channel, true).await?;
    Ok(Some(offer.queue_id))
}

/// A live (or, with `live` false, held) session or offer leaves the channel.
async fn free_seat(conn: &mut PgConnection, agent: Uuid, channel: &str, live: bool) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE agent_channels
            SET live = live - CASE WHEN $3 THEN 1 ELSE 0 END, sessions = sessions - 1
          WHERE representative_id = $1 AND channel = $2",
        agent,
        channel,
        live
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every offer whose RONA deadline has passed. Returns how many.
pub async fn expire_offers(engine: &Engine) -> Result<usize, AppError> {
    let due = sqlx::query!(
        "SELECT help_session_id, representative_id FROM offers WHERE expires_at <= now()"
    )
    .fetch_all(engine.pool())
    .await?;
    let mut expired = 0;
    for offer in due {
        match unanswered(engine, offer.representative_id, offer.help_session_id, Unanswered::Rona).await {
            Ok(()) => expired += 1,
            // Accepted or expired by another server in the meantime.
            Err(AppError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(expired)
}

/// A pull-mode customer handed to an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub help_session_id: Uuid,
    pub queue_id: Uuid,
    pub customer_name: String,
    pub reason: String,
    pub channel: String,
    pub phone: Option<String>,
}

/// "Next customer": the agent takes the head of the pull queues they serve,
/// on a channel where they have room (the function `take_next_customer` in
/// migrations/0003_match_functions.sql). `None` when nobody is waiting.
/// Presses that come at the same moment are committed together (see
/// `gather`).
#[tracing::instrument(skip(engine))]
pub async fn next_customer(engine: &Engine, agent: Uuid) -> Result<Option<Taken>, AppError> {
    let row = engine.presses.ask(agent).await?;
    match row.outcome.as_str() {
        "empty" => Ok(None),
        "no_agent" => Err(AppError::NotFound("No such representative.".into())),
        "logged_out" => Err(AppError::Conflict("Open your desk first: you are logged out.".into())),
        "wrap_up" => Err(AppError::Conflict("Finish your wrap-up first.".into())),
        _ => {
            let (Some(help_session_id), Some(queue_id), Some(channel), Some(customer_name), Some(reason)) =
                (row.taken_session, row.taken_queue, row.taken_channel, row.customer_name, row.reason)
            else {
                tracing::error!(outcome = %row.outcome, "take_next_customer answered without a customer");
                return Err(AppError::Internal);
            };
            engine.announce([Notice::new("CONNECT", Some(help_session_id), Some(queue_id), Some(agent))]);
            Ok(Some(Taken { help_session_id, queue_id, customer_name, reason, channel, phone: row.phone }))
        }
    }
}

/// Who ended a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    Agent,
    Customer,
}

/// Ends a live (or held) conversation; the agent goes into wrap-up for it.
pub async fn end(engine: &Engine, help_session: Uuid, by: EndedBy) -> Result<(), AppError> {
    let ended = || AppError::NotFound("This conversation has already ended.".into());
    // Whose conversation it is, read first so their row can be locked first.
    let agent = sqlx::query_scalar!(
        "SELECT agent_id FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold')",
        help_session
    )
    .fetch_optional(engine.pool())
    .await?
    .flatten()
    .ok_or_else(ended)?;
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let session = sqlx::query!(
        r#"SELECT status, channel, queue_id, agent_id AS "agent_id!" FROM help_sessions
            WHERE id = $1 AND status IN ('active', 'on_hold') AND agent_id = $2
              FOR UPDATE"#,
        help_session,
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(ended)?;
    sqlx::query!(
        "UPDATE help_sessions SET status = 'wrap_up', ended_at = now() WHERE id = $1",
        help_session
    )
    .execute(&mut *tx)
    .await?;
    free_seat(&mut tx, session.agent_id, &session.channel, session.status == "active").await?;
    sqlx::query!("UPDATE agent_states SET wrap_ups = wrap_ups + 1 WHERE representative_id = $1", session.agent_id)
        .execute(&mut *tx)
        .await?;
    let kind = match by {
        EndedBy::Agent => "END_BY_AGENT",
        EndedBy::Customer => "END_BY_CUSTOMER",
    };
    log(&mut tx, kind, Some(help_session), Some(session.queue_id), Some(session.agent_id), json!({})).await?;
    tx.commit(engine).await?;
    Ok(())
}

/// The agent records how it went; the session is complete and the agent can
/// take customers again.
pub async fn wrap_up(
    engine: &Engine,
    agent: Uuid,
    help_session: Uuid,
    disposition: &str,
    note: &str,
) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    complete_wrap_up(&mut tx, agent, help_session, disposition, note)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no wrap-up open for this customer.".into()))?;
    tx.commit(engine).await?;
    dispatch_for_agent(engine, agent).await?;
    Ok(())
}

async fn complete_wrap_up(
    tx: &mut Tx,
    agent: Uuid,
    help_session: Uuid,
    disposition: &str,
    note: &str,
) -> Result<Option<Uuid>, AppError> {
    let Some(session) = sqlx::query!(
        "UPDATE help_sessions SET status = 'completed', completed_at = now(), disposition = $3, note = $4
          WHERE id = $1 AND agent_id = $2 AND status = 'wrap_up'
        RETURNING queue_id",
        help_session,
        agent,
        disposition,
        note
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!(
        "UPDATE agent_states
            SET wrap_ups = wrap_ups - 1,
                idle_since = CASE WHEN wrap_ups = 1 THEN now() ELSE idle_since END
          WHERE representative_id = $1",
        agent
    )
    .execute(&mut **tx)
    .await?;
    log(tx, "WRAP_UP_DONE", Some(help_session), Some(session.queue_id), Some(agent), json!({ "disposition": disposition }))
        .await?;
    Ok(Some(session.queue_id))
}

/// Completes wrap-ups that ran past their queue's wrap-up time.
pub async fn expire_wrap_ups(engine: &Engine) -> Result<usize, AppError> {
    let due = sqlx::query!(
        r#"SELECT h.id, h.agent_id AS "agent_id!"
             FROM help_sessions h JOIN queues q ON q.id = h.queue_id
            WHERE h.status = 'wrap_up' AND h.agent_id IS NOT NULL
              AND h.ended_at + make_interval(secs => q.wrap_up_seconds) <= now()"#
    )
    .fetch_all(engine.pool())
    .await?;
    let mut done = 0;
    for session in due {
        let mut tx = engine.begin().await?;
        lock_agent(&mut tx, session.agent_id).await?;
        if complete_wrap_up(&mut tx, session.agent_id, session.id, "", "").await?.is_some() {
            done += 1;
        }
        tx.commit(engine).await?;
        dispatch_for_agent(engine, session.agent_id).await?;
    }
    Ok(done)
}

/// Offers waiting customers in every push queue that has any: the safety
/// net the sweeper runs, in case a wake-up was missed.
pub async fn dispatch_waiting(engine: &Engine) -> Result<(), AppError> {
    let queues = sqlx::query_scalar!(
        "SELECT DISTINCT e.queue_id FROM queue_entries e JOIN queues q ON q.id = e.queue_id
          WHERE e.offered_to IS NULL AND q.routing_mode = 'push'"
    )
    .fetch_all(engine.pool())
    .await?;
    for queue in queues {
        dispatch(engine, queue).await;
    }
    Ok(())
}

/// Offers customers in every push queue the agent serves.
pub async fn dispatch_for_agent(engine: &Engine, agent: Uuid) -> Result<(), AppError> {
    let queues = sqlx::query_scalar!(
        "SELECT m.queue_id FROM queue_members m JOIN queues q ON q.id = m.queue_id AND q.routing_mode = 'push'
          WHERE m.representative_id = $1",
        agent
    )
    .fetch_all(engine.pool())
    .await?;
    for queue in queues {
        dispatch(engine, queue).await;
    }
    Ok(())
}

/// How a waiting customer left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// They pressed "Leave queue" (or the API cancelled).
    Cancelled,
    /// Their page was gone for longer than the grace period.
    Abandoned,
}

/// A waiting (or being offered) customer leaves the queue. 404 when they are
/// not waiting any more.
pub async fn leave(engine: &Engine, help_session: Uuid, how: Left) -> Result<(), AppError> {
    let not_waiting = || AppError::NotFound("You are not waiting in a queue.".into());
    loop {
        // If the customer is being offered, the agent's row is locked first
        // (the lock order); if the offer changes meanwhile, look again.
        let offered_to = sqlx::query!(
            "SELECT offered_to FROM queue_entries WHERE help_session_id = $1",
            help_session
        )
        .fetch_optional(engine.pool())
        .await?
        .ok_or_else(not_waiting)?
        .offered_to;
        let mut tx = engine.begin().await?;
        if let Some(agent) = offered_to {
            lock_agent(&mut tx, agent).await?;
        }
        let Some(entry) = sqlx::query!(
            "DELETE FROM queue_entries WHERE help_session_id = $1 AND offered_to IS NOT DISTINCT FROM $2
             RETURNING queue_id",
            help_session,
            offered_to
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            continue;
        };
        if let Some(agent) = offered_to {
            let offer = sqlx::query!("DELETE FROM offers WHERE help_session_id = $1 RETURNING channel", help_session)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(offer) = offer {
                free_seat(&mut tx, agent, &offer.channel, true).await?;
            }
        }
        let (status, kind) = match how {
            Left::Cancelled => ("cancelled", "CANCEL"),
            Left::Abandoned => ("abandoned", "ABANDON"),
        };
        sqlx::query!(
            "UPDATE help_sessions SET status = $2, ended_at = now() WHERE id = $1",
            help_session,
            status
        )
        .execute(&mut *tx)
        .await?;
        log(&mut tx, kind, Some(help_session), Some(entry.queue_id), offered_to, json!({})).await?;
        tx.commit(engine).await?;
        if let Some(agent) = offered_to {
            dispatch_for_agent(engine, agent).await?;
        }
        return Ok(());
    }
}

/// The agent is gone (logged out, or lost past the grace period): every
/// customer offered to them or talking with them goes back to the FRONT of
/// their queue (they keep their original time, which is earlier than anyone
/// who entered after them), wrap-ups are closed, and the agent is
/// LOGGED_OUT.
#[tracing::instrument(skip(engine))]
pub async fn hand_back(engine: &Engine, agent: Uuid, reason: &str) -> Result<usize, AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let offered = sqlx::query_scalar!("SELECT help_session_id FROM offers WHERE representative_id = $1", agent)
        .fetch_all(&mut *tx)
        .await?;
    let mut queues = Vec::new();
    for help_session in &offered {
        if let Some(queue) = release_offer(&mut tx, agent, *help_session, false).await? {
            log(&mut tx, "REQUEUE", Some(*help_session), Some(queue), Some(agent), json!({ "reason": reason })).await?;
            queues.push(queue);
        }
    }
    let live = sqlx::query!(
        "UPDATE help_sessions SET status = 'waiting', agent_id = NULL, answered_at = NULL
          WHERE agent_id = $1 AND status IN ('active', 'on_hold')
        RETURNING id, queue_id, channel, priority, entered_at",
        agent
    )
    .fetch_all(&mut *tx)
    .await?;
    for session in &live {
        sqlx::query!(
            "INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at)
             VALUES ($1, $2, $3, $4, $5)",
            session.id,
            session.queue_id,
            session.channel,
            session.priority,
            session.entered_at
        )
        .execute(&mut *tx)
        .await?;
        log(
            &mut tx,
            "REQUEUE",
            Some(session.id),
            Some(session.queue_id),
            Some(agent),
            json!({ "reason": reason, "talking": true }),
        )
        .await?;
        queues.push(session.queue_id);
    }
    let wrapping = sqlx::query_scalar!(
        "SELECT id FROM help_sessions WHERE agent_id = $1 AND status = 'wrap_up'",
        agent
    )
    .fetch_all(&mut *tx)
    .await?;
    for help_session in wrapping {
        complete_wrap_up(&mut tx, agent, help_session, "", "").await?;
    }
    sqlx::query!(
        "UPDATE agent_channels SET live = 0, sessions = 0, ready = false WHERE representative_id = $1",
        agent
    )
    .execute(&mut *tx)
    .await?;
    agents::record_state(&mut tx, agent, "LOGGED_OUT", Some(reason)).await?;
    tx.commit(engine).await?;
    queues.sort();
    queues.dedup();
    for queue in queues {
        dispatch(engine, queue).await;
    }
    Ok(offered.len() + live.len())
}
