//! The routing engine (SPEC §3–4): customers enter, are offered to one agent
//! (push) or taken with "Next customer" (pull), accepted, ended, wrapped up,
//! cancelled, abandoned or handed back.
//!
//! Every transition is one transaction that also appends its event (and with
//! it a NOTIFY). The head of a queue is always claimed with
//! `FOR UPDATE SKIP LOCKED` in the same transaction that writes the offer or
//! the assignment, and the agent's channel row is locked too and its capacity
//! re-checked, so concurrent servers never hand one customer to two agents,
//! never fill one seat twice, and never lose anyone.
//!
//! Lock order, everywhere: the agent's state row, then queue entries, then
//! offers, then help sessions, then the agent's channel rows. Dispatch takes
//! its locks with SKIP LOCKED and so never waits; everything else follows
//! the order, so no two transitions can deadlock.

pub mod agents;
pub mod events;
pub mod presence;

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::AppError;
use crate::queue::{Channel, RoutingMode, WhenNobody};
use events::log;

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
pub async fn enter(pool: &PgPool, request: NewRequest) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let mode = admit(&mut tx, request.queue_id, request.channel).await?;
    let id = insert_session(&mut tx, &request, "waiting").await?;
    insert_entry(&mut tx, id).await?;
    // The first offer rides in the same transaction: one commit from
    // entering to being offered.
    if mode == RoutingMode::Push {
        offer_head_in(&mut tx, request.queue_id).await?;
    }
    tx.commit().await?;
    if mode == RoutingMode::Push {
        // More may be possible now that this entry is visible to everyone:
        // several free agents, or an agent another offer was holding a
        // moment ago.
        dispatch(pool, request.queue_id).await?;
    }
    Ok(id)
}

/// Creates a help session without queueing it (the service kit's
/// `POST /help/session`); `enqueue` puts it in line later.
pub async fn create(pool: &PgPool, request: NewRequest) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let channels = sqlx::query_scalar!("SELECT channels FROM queues WHERE id = $1", request.queue_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    if !channels.iter().any(|c| c == request.channel.as_str()) {
        return Err(unoffered(request.channel));
    }
    let id = insert_session(&mut tx, &request, "created").await?;
    tx.commit().await?;
    Ok(id)
}

/// Puts a created help session in its queue. 409 when it is already in
/// line or past that.
pub async fn enqueue(pool: &PgPool, help_session: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
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
    tx.commit().await?;
    if mode == RoutingMode::Push {
        dispatch(pool, session.queue_id).await?;
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
                  (SELECT count(*) FROM queue_entries e WHERE e.queue_id = q.id) AS "waiting!",
                  EXISTS (SELECT 1 FROM queue_members m
                            JOIN agent_states s ON s.representative_id = m.representative_id
                           WHERE m.queue_id = q.id AND s.state <> 'LOGGED_OUT') AS "staffed!"
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
async fn insert_entry(conn: &mut PgConnection, help_session: Uuid) -> Result<(), AppError> {
    let entry = sqlx::query!(
        "INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at)
         SELECT id, queue_id, channel, priority, entered_at FROM help_sessions WHERE id = $1
         RETURNING queue_id, channel, priority",
        help_session
    )
    .fetch_one(&mut *conn)
    .await?;
    log(
        conn,
        "ENTER_QUEUE",
        Some(help_session),
        Some(entry.queue_id),
        None,
        json!({ "channel": entry.channel, "priority": entry.priority }),
    )
    .await
}

/// Offers waiting customers of a push queue to eligible agents until one of
/// the two runs out. Returns the offers made.
pub async fn dispatch(pool: &PgPool, queue_id: Uuid) -> Result<Vec<Offer>, AppError> {
    let mut made = Vec::new();
    while let Some(offer) = offer_head(pool, queue_id).await? {
        made.push(offer);
    }
    Ok(made)
}

/// One offer: the first waiting customer that some eligible agent can take,
/// to the agent the queue's strategy picks.
async fn offer_head(pool: &PgPool, queue_id: Uuid) -> Result<Option<Offer>, AppError> {
    let mut tx = pool.begin().await?;
    let offer = offer_head_in(&mut tx, queue_id).await?;
    if offer.is_some() {
        tx.commit().await?;
    }
    Ok(offer)
}

/// `offer_head` inside a transaction the caller commits.
async fn offer_head_in(tx: &mut PgConnection, queue_id: Uuid) -> Result<Option<Offer>, AppError> {
    let Some(queue) = sqlx::query!(
        "SELECT strategy, rona_seconds FROM queues WHERE id = $1 AND routing_mode = 'push'",
        queue_id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };

    // The head among customers whose channel has an eligible agent now.
    let Some(head) = sqlx::query!(
        r#"SELECT e.help_session_id, e.channel, e.declined_by
             FROM queue_entries e
            WHERE e.queue_id = $1 AND e.offered_to IS NULL
              AND EXISTS (
                    SELECT 1 FROM queue_members m
                      JOIN agent_states s ON s.representative_id = m.representative_id
                      JOIN agent_channels c ON c.representative_id = m.representative_id AND c.channel = e.channel
                     WHERE m.queue_id = e.queue_id
                       AND s.state = 'READY' AND s.wrap_ups = 0
                       AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
                       AND NOT (m.representative_id = ANY (e.declined_by)))
            ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id
            LIMIT 1
              FOR UPDATE OF e SKIP LOCKED"#,
        queue_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };

    // The agent, by strategy. Their channel and state rows are locked: a
    // concurrent change to either makes PostgreSQL re-check the conditions
    // on the newest version, and a row another offer holds is skipped.
    let Some(agent) = sqlx::query_scalar!(
        r#"SELECT c.representative_id
             FROM queue_members m
             JOIN agent_states s ON s.representative_id = m.representative_id
             JOIN agent_channels c ON c.representative_id = m.representative_id AND c.channel = $2
            WHERE m.queue_id = $1
              AND s.state = 'READY' AND s.wrap_ups = 0
              AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
              AND NOT (m.representative_id = ANY ($3::uuid[]))
            ORDER BY
              CASE WHEN $4 = 'least_connections'
                   THEN (SELECT sum(a.live) FROM agent_channels a WHERE a.representative_id = s.representative_id) END,
              CASE WHEN $4 = 'fewest_handled_today'
                   THEN CASE WHEN s.handled_day = current_date THEN s.handled_on_day ELSE 0 END END,
              CASE WHEN $4 = 'round_robin' THEN s.last_offered_at END NULLS FIRST,
              CASE WHEN $4 = 'longest_idle'
                   THEN (SELECT sum(a.sessions) FROM agent_channels a WHERE a.representative_id = s.representative_id) END,
              s.idle_since,
              s.representative_id
            LIMIT 1
              FOR UPDATE OF c, s SKIP LOCKED"#,
        queue_id,
        head.channel,
        &head.declined_by,
        queue.strategy,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        // Every eligible agent is being offered someone else right now; those
        // transactions dispatch again when they finish.
        return Ok(None);
    };

    sqlx::query!(
        "UPDATE queue_entries SET offered_to = $2 WHERE help_session_id = $1",
        head.help_session_id,
        agent
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO offers (help_session_id, representative_id, queue_id, channel, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
        head.help_session_id,
        agent,
        queue_id,
        head.channel,
        f64::from(queue.rona_seconds),
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("UPDATE help_sessions SET status = 'offered' WHERE id = $1", head.help_session_id)
        .execute(&mut *tx)
        .await?;
    take_seat(&mut *tx, agent, &head.channel).await?;
    sqlx::query!("UPDATE agent_states SET last_offered_at = now() WHERE representative_id = $1", agent)
        .execute(&mut *tx)
        .await?;
    log(&mut *tx, "OFFER", Some(head.help_session_id), Some(queue_id), Some(agent), json!({})).await?;
    Ok(Some(Offer { help_session_id: head.help_session_id, agent_id: agent }))
}

/// The agent takes the customer offered to them. 404 when the offer is gone
/// (expired, or the customer left).
#[tracing::instrument(skip(pool))]
pub async fn accept(pool: &PgPool, agent: Uuid, help_session: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let gone = || AppError::NotFound("This offer has ended: the customer left or the time ran out.".into());
    sqlx::query!(
        "DELETE FROM queue_entries WHERE help_session_id = $1 AND offered_to = $2 RETURNING queue_id",
        help_session,
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(gone)?;
    let offer = sqlx::query!(
        "DELETE FROM offers WHERE help_session_id = $1 AND representative_id = $2 RETURNING queue_id",
        help_session,
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(gone)?;
    sqlx::query!(
        "UPDATE help_sessions SET status = 'active', agent_id = $2, answered_at = now() WHERE id = $1",
        help_session,
        agent
    )
    .execute(&mut *tx)
    .await?;
    count_handled(&mut tx, agent).await?;
    log(&mut tx, "CONNECT", Some(help_session), Some(offer.queue_id), Some(agent), json!({ "mode": "push" })).await?;
    tx.commit().await?;
    Ok(())
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

async fn count_handled(conn: &mut PgConnection, agent: Uuid) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE agent_states
            SET handled_on_day = CASE WHEN handled_day = current_date THEN handled_on_day + 1 ELSE 1 END,
                handled_day = current_date
          WHERE representative_id = $1",
        agent
    )
    .execute(conn)
    .await?;
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
pub async fn unanswered(pool: &PgPool, agent: Uuid, help_session: Uuid, why: Unanswered) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
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
    tx.commit().await?;
    dispatch(pool, queue_id).await?;
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

/// A new live session (or offer) on the agent's channel.
async fn take_seat(conn: &mut PgConnection, agent: Uuid, channel: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE agent_channels SET live = live + 1, sessions = sessions + 1
          WHERE representative_id = $1 AND channel = $2",
        agent,
        channel
    )
    .execute(conn)
    .await?;
    Ok(())
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
pub async fn expire_offers(pool: &PgPool) -> Result<usize, AppError> {
    let due = sqlx::query!(
        "SELECT help_session_id, representative_id FROM offers WHERE expires_at <= now()"
    )
    .fetch_all(pool)
    .await?;
    let mut expired = 0;
    for offer in due {
        match unanswered(pool, offer.representative_id, offer.help_session_id, Unanswered::Rona).await {
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
/// on a channel where they have room. `None` when nobody is waiting.
#[tracing::instrument(skip(pool))]
pub async fn next_customer(pool: &PgPool, agent: Uuid) -> Result<Option<Taken>, AppError> {
    let mut tx = pool.begin().await?;
    // Serializes this agent's own concurrent presses.
    let state = sqlx::query!(
        "SELECT state, wrap_ups FROM agent_states WHERE representative_id = $1 FOR UPDATE",
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    if state.state == "LOGGED_OUT" {
        return Err(AppError::Conflict("Open your desk first: you are logged out.".into()));
    }
    if state.wrap_ups > 0 {
        return Err(AppError::Conflict("Finish your wrap-up first.".into()));
    }
    let Some(head) = sqlx::query!(
        r#"SELECT e.help_session_id, e.queue_id, e.channel
             FROM queue_entries e
             JOIN queues q ON q.id = e.queue_id AND q.routing_mode = 'pull'
             JOIN queue_members m ON m.queue_id = e.queue_id AND m.representative_id = $1
             JOIN agent_channels c ON c.representative_id = $1 AND c.channel = e.channel
            WHERE e.offered_to IS NULL
              AND c.live < c.max_live AND c.sessions < c.max_sessions
            ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id
            LIMIT 1
              FOR UPDATE OF e SKIP LOCKED"#,
        agent,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!("DELETE FROM queue_entries WHERE help_session_id = $1", head.help_session_id)
        .execute(&mut *tx)
        .await?;
    let customer = sqlx::query!(
        "UPDATE help_sessions SET status = 'active', agent_id = $2, answered_at = now() WHERE id = $1
         RETURNING customer_name, reason, phone",
        head.help_session_id,
        agent
    )
    .fetch_one(&mut *tx)
    .await?;
    take_seat(&mut tx, agent, &head.channel).await?;
    count_handled(&mut tx, agent).await?;
    log(&mut tx, "CONNECT", Some(head.help_session_id), Some(head.queue_id), Some(agent), json!({ "mode": "pull" }))
        .await?;
    tx.commit().await?;
    Ok(Some(Taken {
        help_session_id: head.help_session_id,
        queue_id: head.queue_id,
        customer_name: customer.customer_name,
        reason: customer.reason,
        channel: head.channel,
        phone: customer.phone,
    }))
}

/// Who ended a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    Agent,
    Customer,
}

/// Ends a live (or held) conversation; the agent goes into wrap-up for it.
pub async fn end(pool: &PgPool, help_session: Uuid, by: EndedBy) -> Result<(), AppError> {
    let ended = || AppError::NotFound("This conversation has already ended.".into());
    // Whose conversation it is, read first so their row can be locked first.
    let agent = sqlx::query_scalar!(
        "SELECT agent_id FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold')",
        help_session
    )
    .fetch_optional(pool)
    .await?
    .flatten()
    .ok_or_else(ended)?;
    let mut tx = pool.begin().await?;
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
    tx.commit().await?;
    Ok(())
}

/// The agent records how it went; the session is complete and the agent can
/// take customers again.
pub async fn wrap_up(
    pool: &PgPool,
    agent: Uuid,
    help_session: Uuid,
    disposition: &str,
    note: &str,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    lock_agent(&mut tx, agent).await?;
    complete_wrap_up(&mut tx, agent, help_session, disposition, note)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no wrap-up open for this customer.".into()))?;
    tx.commit().await?;
    dispatch_for_agent(pool, agent).await?;
    Ok(())
}

async fn complete_wrap_up(
    conn: &mut PgConnection,
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
    .fetch_optional(&mut *conn)
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
    .execute(&mut *conn)
    .await?;
    log(conn, "WRAP_UP_DONE", Some(help_session), Some(session.queue_id), Some(agent), json!({ "disposition": disposition }))
        .await?;
    Ok(Some(session.queue_id))
}

/// Completes wrap-ups that ran past their queue's wrap-up time.
pub async fn expire_wrap_ups(pool: &PgPool) -> Result<usize, AppError> {
    let due = sqlx::query!(
        r#"SELECT h.id, h.agent_id AS "agent_id!"
             FROM help_sessions h JOIN queues q ON q.id = h.queue_id
            WHERE h.status = 'wrap_up' AND h.agent_id IS NOT NULL
              AND h.ended_at + make_interval(secs => q.wrap_up_seconds) <= now()"#
    )
    .fetch_all(pool)
    .await?;
    let mut done = 0;
    for session in due {
        let mut tx = pool.begin().await?;
        lock_agent(&mut tx, session.agent_id).await?;
        if complete_wrap_up(&mut tx, session.agent_id, session.id, "", "").await?.is_some() {
            done += 1;
        }
        tx.commit().await?;
        dispatch_for_agent(pool, session.agent_id).await?;
    }
    Ok(done)
}

/// Offers waiting customers in every push queue that has any: the safety
/// net the sweeper runs, in case a wake-up was missed.
pub async fn dispatch_waiting(pool: &PgPool) -> Result<(), AppError> {
    let queues = sqlx::query_scalar!(
        "SELECT DISTINCT e.queue_id FROM queue_entries e JOIN queues q ON q.id = e.queue_id
          WHERE e.offered_to IS NULL AND q.routing_mode = 'push'"
    )
    .fetch_all(pool)
    .await?;
    for queue in queues {
        dispatch(pool, queue).await?;
    }
    Ok(())
}

/// Offers customers in every push queue the agent serves.
pub async fn dispatch_for_agent(pool: &PgPool, agent: Uuid) -> Result<(), AppError> {
    let queues = sqlx::query_scalar!("SELECT queue_id FROM queue_members WHERE representative_id = $1", agent)
        .fetch_all(pool)
        .await?;
    for queue in queues {
        dispatch(pool, queue).await?;
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
pub async fn leave(pool: &PgPool, help_session: Uuid, how: Left) -> Result<(), AppError> {
    let not_waiting = || AppError::NotFound("You are not waiting in a queue.".into());
    loop {
        // If the customer is being offered, the agent's row is locked first
        // (the lock order); if the offer changes meanwhile, look again.
        let offered_to = sqlx::query!(
            "SELECT offered_to FROM queue_entries WHERE help_session_id = $1",
            help_session
        )
        .fetch_optional(pool)
        .await?
        .ok_or_else(not_waiting)?
        .offered_to;
        let mut tx = pool.begin().await?;
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
        tx.commit().await?;
        if let Some(agent) = offered_to {
            dispatch_for_agent(pool, agent).await?;
        }
        return Ok(());
    }
}

/// The agent is gone (logged out, or lost past the grace period): every
/// customer offered to them or talking with them goes back to the FRONT of
/// their queue (they keep their original time, which is earlier than anyone
/// who entered after them), wrap-ups are closed, and the agent is
/// LOGGED_OUT.
#[tracing::instrument(skip(pool))]
pub async fn hand_back(pool: &PgPool, agent: Uuid, reason: &str) -> Result<usize, AppError> {
    let mut tx = pool.begin().await?;
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
        log(&mut tx, "REQUEUE", Some(session.id), Some(session.queue_id), Some(agent), json!({ "reason": reason })).await?;
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
    tx.commit().await?;
    queues.sort();
    queues.dedup();
    for queue in queues {
        dispatch(pool, queue).await?;
    }
    Ok(offered.len() + live.len())
}
