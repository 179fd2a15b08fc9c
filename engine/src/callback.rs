//! Callbacks and places kept (SPEC §5, §7). A callback waits in the same
//! line as everyone, by priority then by its original entry time, and is not
//! offered before its window opens (`queue_entries.not_before`). Once a
//! representative has it, they call the number and record how the attempt
//! went: reached (the conversation goes on by phone, then wrap-up as
//! usual), no answer or busy (back in line at its original age, not offered
//! again before the queue's retry delay; unreachable after its last
//! attempt), or a wrong number. A waiting customer may switch to a
//! callback, to keeping their place with the page closed ("notify me"), or
//! back to talking, and keeps their entry time each way.

use super::events::{log, About, Engine, Event, Tx};
use super::offering;
use super::seats::{self, Change};
use super::steps;
use super::{lock_agent, retrying};
use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{AgentId, CallbackOutcome as Outcome, HelpSessionId, HelpStatus, QueueId};

/// The representative records how their call to the customer went. 409
/// unless they own the callback, not reached yet.
pub async fn record(engine: &Engine, agent: AgentId, help_session: HelpSessionId, outcome: Outcome) -> Result<(), AppError> {
    retrying(|| record_once(engine, agent, help_session, outcome)).await
}

async fn record_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId, outcome: Outcome) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let call = sqlx::query!(
        r#"UPDATE help_sessions h SET attempts = attempts + 1
            WHERE id = $1 AND agent_id = $2 AND channel = 'callback' AND status = 'active' AND reached_at IS NULL
        RETURNING attempts, queue_id AS "queue_id: QueueId",
                  (SELECT callback_max_attempts FROM queues q WHERE q.id = h.queue_id) AS "max_attempts!",
                  (SELECT callback_retry_seconds FROM queues q WHERE q.id = h.queue_id) AS "retry_seconds!""#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("This is not a callback of yours waiting for a call.".into()))?;
    let about = About::help_session(help_session, call.queue_id).by(agent);
    let ends = outcome == Outcome::WrongNumber
        || (matches!(outcome, Outcome::NoAnswer | Outcome::Busy) && call.attempts >= call.max_attempts);
    log(&mut tx, about, Event::CallbackAttempt { attempt: call.attempts, outcome, ends }).await?;
    match outcome {
        Outcome::Reached => {
            sqlx::query!("UPDATE help_sessions SET reached_at = now() WHERE id = $1", help_session.uuid())
                .execute(&mut *tx)
                .await?;
        }
        Outcome::NoAnswer | Outcome::Busy if call.attempts < call.max_attempts => {
            end_attempt(&mut tx, agent, help_session).await?;
            steps::back_to_front(&mut tx, help_session).await?;
            sqlx::query!(
                "UPDATE queue_entries SET not_before = now() + make_interval(secs => $2) WHERE help_session_id = $1",
                help_session.uuid(),
                f64::from(call.retry_seconds)
            )
            .execute(&mut *tx)
            .await?;
        }
        Outcome::NoAnswer | Outcome::Busy | Outcome::WrongNumber => {
            end_attempt(&mut tx, agent, help_session).await?;
            let status = if outcome == Outcome::WrongNumber { HelpStatus::Invalid } else { HelpStatus::Unreachable };
            sqlx::query!(
                "UPDATE help_sessions SET status = $2, agent_id = NULL, ended_at = now() WHERE id = $1",
                help_session.uuid(),
                status.as_str()
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit(engine).await?;
    if outcome != Outcome::Reached {
        offering::dispatch_for_agent(engine, agent).await;
    }
    Ok(())
}

/// A call that did not reach the customer: the representative's part ends
/// with nothing to wrap up, and their seat is free.
async fn end_attempt(tx: &mut Tx, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE participants SET left_at = now(), wrapped_at = now(), disposition = 'Not reached'
          WHERE help_session_id = $1 AND representative_id = $2 AND left_at IS NULL",
        help_session.uuid(),
        agent.uuid()
    )
    .execute(&mut **tx)
    .await?;
    seats::change(tx, agent, Channel::Callback, Change::FreeLive).await?;
    Ok(())
}

/// What a waiting customer switches to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    /// Talk after all, on this channel (video, audio or chat).
    Talk(Channel),
    /// Be called back at this number, in this window (`None`: as soon as
    /// possible).
    CallBack { phone: String, window: Option<super::line::Window> },
    /// Keep the place with the page closed, told near the front (by email
    /// too, when given).
    KeepPlace { email: Option<String> },
}

/// A waiting customer changes how they will be served, keeping their entry
/// time. 409 while a representative is being offered them, or when another
/// callback of the queue already has that number.
pub async fn switch(engine: &Engine, help_session: HelpSessionId, to: Switch) -> Result<(), AppError> {
    retrying(|| switch_once(engine, help_session, to.clone())).await
}

async fn switch_once(engine: &Engine, help_session: HelpSessionId, to: Switch) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let waiting = sqlx::query!(
        r#"SELECT e.queue_id AS "queue_id: QueueId", e.offered_to IS NOT NULL AS "offered!",
                  q.channels AS "channels: Vec<Channel>", h.channel AS "channel: Channel", h.requested_from
             FROM queue_entries e JOIN queues q ON q.id = e.queue_id JOIN help_sessions h ON h.id = e.help_session_id
            WHERE e.help_session_id = $1
              FOR UPDATE OF e, h"#,
        help_session.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("You are not waiting in a queue.".into()))?;
    if waiting.offered {
        return Err(AppError::Conflict("A representative is taking you right now.".into()));
    }
    let (channel, phone, window, notify, email) = match &to {
        Switch::Talk(Channel::Callback) => return Err(AppError::invalid("Choose video, audio or chat.")),
        Switch::Talk(channel) => (*channel, None, None, false, None),
        Switch::CallBack { phone, window } => (Channel::Callback, Some(phone.clone()), *window, false, None),
        Switch::KeepPlace { .. } if waiting.channel == Channel::Callback => {
            return Err(AppError::invalid("Choose video, audio or chat first: we call you back anyway."));
        }
        Switch::KeepPlace { email } => (waiting.channel, None, None, true, email.clone()),
    };
    if channel == Channel::Callback && waiting.channel != Channel::Callback {
        if let Some(phone) = &phone {
            if super::line::open_callback(&mut tx, waiting.queue_id, phone).await?.is_some() {
                return Err(AppError::CallbackExists);
            }
            super::line::callback_admitted(&mut tx, waiting.queue_id, phone, waiting.requested_from.as_deref()).await?;
        }
    }
    if !waiting.channels.contains(&channel) {
        return Err(AppError::invalid(format!("This queue does not offer {}.", channel.label().to_lowercase())));
    }
    sqlx::query!(
        "UPDATE help_sessions
            SET channel = $2, phone = coalesce($3, phone), callback_from = $4, callback_until = $5,
                notify = $6, email = CASE WHEN $6 THEN $7 END, notified_at = NULL
          WHERE id = $1",
        help_session.uuid(),
        channel.as_str(),
        phone,
        window.map(|w| w.from),
        window.map(|w| w.until),
        notify,
        email
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE queue_entries SET channel = $2, not_before = $3, away = false, front_at = NULL WHERE help_session_id = $1",
        help_session.uuid(),
        channel.as_str(),
        window.map(|w| w.from)
    )
    .execute(&mut *tx)
    .await?;
    let about = About::help_session(help_session, waiting.queue_id);
    log(&mut tx, about, Event::Switched { channel, notify }).await?;
    if matches!(to, Switch::CallBack { .. }) {
        log(&mut tx, about, Event::CallbackRequested {}).await?;
    }
    tx.commit(engine).await?;
    offering::dispatch(engine, waiting.queue_id).await;
    Ok(())
}

/// The sweeper's part for customers keeping their place: one away at the
/// front (nobody present ahead who could be served) keeps it for the
/// queue's hold time from when they first reached it; past it they are
/// called back if they left a number, or their session ends as expired.
/// (Those near the front who gave an email get one: `customer::near`.)
pub async fn sweep_places(engine: &Engine) -> Result<(), AppError> {
    sqlx::query!(
        "WITH lines AS (SELECT DISTINCT queue_id FROM queue_entries WHERE away),
              ranked AS (
                SELECT e.help_session_id, e.away, e.front_at,
                       bool_or(NOT e.away AND (e.not_before IS NULL OR e.not_before <= now()))
                           OVER (PARTITION BY e.queue_id ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS someone_ahead
                  FROM queue_entries e JOIN lines l ON l.queue_id = e.queue_id)
         UPDATE queue_entries e SET front_at = now()
           FROM ranked r
          WHERE e.help_session_id = r.help_session_id AND r.away AND r.front_at IS NULL
            AND NOT coalesce(r.someone_ahead, false)"
    )
    .execute(engine.pool())
    .await?;
    let past = sqlx::query!(
        r#"SELECT e.help_session_id AS "help_session: HelpSessionId", e.queue_id AS "queue: QueueId", h.phone
             FROM queue_entries e JOIN queues q ON q.id = e.queue_id JOIN help_sessions h ON h.id = e.help_session_id
            WHERE e.away AND e.front_at < now() - make_interval(secs => q.front_hold_seconds)"#
    )
    .fetch_all(engine.pool())
    .await?;
    for customer in past {
        match customer.phone {
            Some(phone) => {
                match switch(engine, customer.help_session, Switch::CallBack { phone, window: None }).await {
                    // Another callback has the number, or the queue takes
                    // no more callbacks (or not to this number): the place
                    // ends.
                    Err(AppError::CallbackExists | AppError::NotTaking(_) | AppError::Invalid(_)) => {
                        expire_place(engine, customer.help_session, customer.queue).await?
                    }
                    other => other?,
                }
            }
            None => expire_place(engine, customer.help_session, customer.queue).await?,
        }
    }
    Ok(())
}

/// A place kept past its time ends as expired.
async fn expire_place(engine: &Engine, help_session: HelpSessionId, queue: QueueId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    super::line::expire(&mut tx, help_session, queue).await?;
    tx.commit(engine).await
}
