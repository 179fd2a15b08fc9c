//! The conversation's course after a match (SPEC §6): hold and resume
//! (resuming one call holds the agent's other live call: switching), a
//! representative leaving, end, wrap-up, and the customer's rating. Each is one transaction with the
//! agent's row locked first, the seats kept in step, and its event.

use super::conference::{present, promote};
use super::events::{log, About, Engine, Event, Notice, Topic, Tx};
use super::offering;
use super::retrying;
use super::seats::{self, Change};
use super::steps;
use super::{conference, lock_agent};
use crate::error::AppError;
use crate::queue::Channel;
use crate::roles::Role;
use crate::states::{AgentId, HelpSessionId, HelpStatus, QueueId};

/// Longest rating comment, in characters.
pub const COMMENT_MAX_CHARS: usize = 1000;

/// Who ended a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    Agent,
    Customer,
}

/// Ends a live (or held) conversation; the agent goes into wrap-up for it.
pub async fn end(engine: &Engine, help_session: HelpSessionId, by: EndedBy) -> Result<(), AppError> {
    retrying(|| end_once(engine, help_session, by)).await
}

/// One try of [`end`].
async fn end_once(engine: &Engine, help_session: HelpSessionId, by: EndedBy) -> Result<(), AppError> {
    let ended = || AppError::NotFound("This conversation has already ended.".into());
    // Who takes part, and who is being asked to join, read first so their
    // rows can be locked first.
    let involved = sqlx::query!(
        r#"SELECT representative_id AS "agent!: AgentId", false AS "asked!", role AS "role!: Role" FROM participants
            WHERE help_session_id = $1 AND left_at IS NULL
           UNION ALL
           SELECT representative_id, true, joins FROM offers WHERE help_session_id = $1 AND joins IS NOT NULL"#,
        help_session.uuid()
    )
    .fetch_all(engine.pool())
    .await?;
    // No owner: the last representative left and a supervisor barged in
    // is being asked to take the customer over.
    let owner = involved.iter().find(|row| !row.asked && row.role == Role::Agent).map(|row| row.agent);
    // The owner ending during a warm transfer: the colleague who joined
    // takes the customer over; one still asked is not, and the customer
    // waits at the front of the line.
    if let (EndedBy::Agent, Some(owner)) = (by, owner) {
        if involved.iter().any(|row| !row.asked && row.role == Role::Consult) {
            return conference::complete(engine, owner, help_session).await;
        }
        if involved.iter().any(|row| row.asked && row.role == Role::Consult) {
            return conference::give_up(engine, owner, help_session).await;
        }
    }
    let asked = involved.iter().find(|row| row.asked).map(|row| row.agent);
    let agents = involved.iter().map(|row| row.agent).collect();
    let mut tx = engine.begin().await?;
    steps::lock_all(&mut tx, agents).await?;
    let talking = sqlx::query!(
        r#"SELECT status AS "status: HelpStatus", channel AS "channel: Channel", queue_id AS "queue_id: QueueId",
                  agent_id AS "owner: AgentId"
             FROM help_sessions
            WHERE id = $1 AND status IN ('active', 'on_hold')
              FOR UPDATE"#,
        help_session.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(ended)?;
    sqlx::query!("UPDATE help_sessions SET status = 'wrap_up', ended_at = now() WHERE id = $1", help_session.uuid())
        .execute(&mut *tx)
        .await?;
    // Every representative's part ends, each to their own wrap-up.
    let parts = sqlx::query!(
        r#"UPDATE participants SET left_at = now() WHERE help_session_id = $1 AND left_at IS NULL
        RETURNING representative_id AS "agent: AgentId", role AS "role: Role""#,
        help_session.uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    for part in parts {
        // The owner's seat is held while the customer is; a colleague's is live.
        let held = part.role == Role::Agent && talking.status == HelpStatus::OnHold;
        let freed = if held { Change::FreeHeld } else { Change::FreeLive };
        seats::change(&mut tx, part.agent, talking.channel, freed).await?;
        sqlx::query!("UPDATE agent_states SET wrap_ups = wrap_ups + 1 WHERE representative_id = $1", part.agent.uuid())
            .execute(&mut *tx)
            .await?;
        if part.role != Role::Agent {
            tx.wake(help_session, part.agent);
        }
    }
    if let Some(asked) = asked {
        conference::withdraw(&mut tx, asked, help_session, "the conversation ended").await?;
    }
    super::supervise::end_all(&mut tx, help_session, talking.queue_id).await?;
    // Ended with no representative in it (they left, their wrap-up done
    // or under way): complete once every part is wrapped up.
    sqlx::query!(
        "UPDATE help_sessions SET status = 'completed', completed_at = now()
          WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM participants WHERE help_session_id = $1 AND wrapped_at IS NULL)",
        help_session.uuid()
    )
    .execute(&mut *tx)
    .await?;
    let event = match by {
        EndedBy::Agent => Event::EndByAgent {},
        EndedBy::Customer => Event::EndByCustomer {},
    };
    log(&mut tx, About::help_session(help_session, talking.queue_id).by(talking.owner), event).await?;
    tx.commit(engine).await?;
    Ok(())
}

/// The agent records how it went; the session is complete and the agent can
/// take customers again.
pub async fn wrap_up(
    engine: &Engine,
    agent: AgentId,
    help_session: HelpSessionId,
    disposition: &str,
    note: &str,
) -> Result<(), AppError> {
    retrying(|| wrap_up_once(engine, agent, help_session, disposition, note)).await
}

/// One try of [`wrap_up`].
async fn wrap_up_once(
    engine: &Engine,
    agent: AgentId,
    help_session: HelpSessionId,
    disposition: &str,
    note: &str,
) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    complete_wrap_up(&mut tx, agent, help_session, disposition, note)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no wrap-up open for this customer.".into()))?;
    tx.commit(engine).await?;
    offering::dispatch_for_agent(engine, agent).await;
    Ok(())
}

/// Completes the agent's wrap-up of their part, when there is one; returns
/// the part's queue. The session is complete once its conversation has
/// ended and every part is wrapped up (a part that ended in a transfer is
/// wrapped up while the customer goes on with someone else).
pub(super) async fn complete_wrap_up(
    tx: &mut Tx,
    agent: AgentId,
    help_session: HelpSessionId,
    disposition: &str,
    note: &str,
) -> Result<Option<QueueId>, AppError> {
    let Some(part) = sqlx::query!(
        r#"UPDATE participants SET wrapped_at = now(), disposition = $3, note = $4
            WHERE help_session_id = $1 AND representative_id = $2 AND left_at IS NOT NULL AND wrapped_at IS NULL
        RETURNING queue_id AS "queue_id: QueueId""#,
        help_session.uuid(),
        agent.uuid(),
        disposition,
        note
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!(
        "UPDATE help_sessions SET status = 'completed', completed_at = now(), disposition = $2, note = $3
          WHERE id = $1 AND status = 'wrap_up'
            AND NOT EXISTS (SELECT 1 FROM participants WHERE help_session_id = $1 AND wrapped_at IS NULL)",
        help_session.uuid(),
        disposition,
        note
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE agent_states
            SET wrap_ups = wrap_ups - 1,
                idle_since = CASE WHEN wrap_ups = 1 THEN now() ELSE idle_since END
          WHERE representative_id = $1",
        agent.uuid()
    )
    .execute(&mut **tx)
    .await?;
    log(
        tx,
        About::help_session(help_session, part.queue_id).by(agent),
        Event::WrapUpDone { disposition: disposition.to_owned() },
    )
    .await?;
    Ok(Some(part.queue_id))
}

/// Completes wrap-ups that ran past their queue's wrap-up time.
pub async fn expire_wrap_ups(engine: &Engine) -> Result<usize, AppError> {
    let due = sqlx::query!(
        r#"SELECT p.help_session_id AS "id: HelpSessionId", p.representative_id AS "agent_id: AgentId"
             FROM participants p JOIN queues q ON q.id = p.queue_id
            WHERE p.wrapped_at IS NULL AND p.left_at IS NOT NULL
              AND p.left_at + make_interval(secs => q.wrap_up_seconds) <= now()"#
    )
    .fetch_all(engine.pool())
    .await?;
    let mut done = 0;
    for wrapping in due {
        let mut tx = engine.begin().await?;
        lock_agent(&mut tx, wrapping.agent_id).await?;
        if complete_wrap_up(&mut tx, wrapping.agent_id, wrapping.id, "", "").await?.is_some() {
            done += 1;
        }
        tx.commit(engine).await?;
        offering::dispatch_for_agent(engine, wrapping.agent_id).await;
    }
    Ok(done)
}

/// Puts a live conversation on hold: media stops both ways and the seat's
/// live place is free (another customer can be offered or resumed).
pub async fn hold(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| hold_once(engine, agent, help_session)).await
}

/// One try of [`hold`].
async fn hold_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    steps::hold_in(&mut tx, agent, help_session).await?;
    tx.commit(engine).await?;
    offering::dispatch_for_agent(engine, agent).await;
    Ok(())
}

/// Takes a held customer back. Any other video or audio call of this agent
/// that is live goes on hold in the same transaction (switching, as in a
/// video call center: one conversation with media at a time).
pub async fn resume(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| resume_once(engine, agent, help_session)).await
}

/// One try of [`resume`].
async fn resume_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    steps::resume_in(&mut tx, agent, help_session).await?;
    tx.commit(engine).await
}

/// The customer's 1–5 rating and optional comment, once, after the
/// conversation ended.
pub async fn rate(engine: &Engine, help_session: HelpSessionId, stars: i16, comment: &str) -> Result<(), AppError> {
    retrying(|| rate_once(engine, help_session, stars, comment)).await
}

/// One try of [`rate`].
async fn rate_once(engine: &Engine, help_session: HelpSessionId, stars: i16, comment: &str) -> Result<(), AppError> {
    if !(1..=5).contains(&stars) {
        return Err(AppError::invalid("Choose from 1 to 5 stars."));
    }
    let comment = comment.trim();
    if comment.chars().count() > COMMENT_MAX_CHARS {
        return Err(AppError::invalid(format!("The comment must be at most {COMMENT_MAX_CHARS} characters.")));
    }
    crate::text::check("The comment", comment, crate::text::Shape::Lines)?;
    let mut tx = engine.begin().await?;
    let rated = sqlx::query!(
        r#"UPDATE help_sessions SET rating = $2, rating_comment = NULLIF($3, ''), rated_at = now()
            WHERE id = $1 AND status IN ('wrap_up', 'completed') AND answered_at IS NOT NULL AND rating IS NULL
        RETURNING queue_id AS "queue_id: QueueId", agent_id AS "agent_id: AgentId""#,
        help_session.uuid(),
        stars,
        comment
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("This conversation cannot be rated (not ended yet, or rated already).".into()))?;
    log(&mut tx, About::help_session(help_session, rated.queue_id).by(rated.agent_id), Event::Rated { rating: stars }).await?;
    tx.commit(engine).await
}

/// A representative leaves a conversation in progress; it goes on without
/// them (their part to wrap-up). The owner leaving hands it to the
/// colleague who joined first; the last representative leaving ends it.
pub async fn leave(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| leave_once(engine, agent, help_session)).await
}

/// One try of [`leave`].
async fn leave_once(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let others = present(engine, help_session).await?;
    if !others.iter().any(|(present, _)| *present == agent) {
        return Err(AppError::Conflict("You are not in this conversation any more.".into()));
    }
    if others.len() == 1 {
        // The last representative: leaving is ending, unless a supervisor
        // is barged in (they are asked to take the customer over).
        if leave_to_supervisor(engine, agent, help_session).await? {
            return Ok(());
        }
        return super::control::end(engine, help_session, super::control::EndedBy::Agent).await;
    }
    let mut tx = engine.begin().await?;
    steps::lock_all(&mut tx, others.iter().map(|(present, _)| *present).collect()).await?;
    let conversation = sqlx::query!(
        r#"SELECT status AS "status: HelpStatus", channel AS "channel: Channel", queue_id AS "queue_id: QueueId",
                  agent_id AS "owner: AgentId"
             FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold') FOR UPDATE"#,
        help_session.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("This conversation has ended.".into()))?;
    let held = conversation.status == HelpStatus::OnHold;
    let role = steps::end_part(&mut tx, agent, help_session, conversation.channel, held, false).await?;
    let about = About::help_session(help_session, conversation.queue_id);
    log(&mut tx, about.by(agent), Event::ParticipantLeave { role, lost: false }).await?;
    if conversation.owner == Some(agent) {
        promote(&mut tx, help_session, about, conversation.channel, held).await?;
    }
    tx.commit(engine).await?;
    engine.announce([Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(agent) }]);
    offering::dispatch_for_agent(engine, agent).await;
    Ok(())
}

/// The last representative leaves while a supervisor is barged in: their
/// part ends (wrap-up follows) and the supervisor is asked to take the
/// customer over. False, with nothing changed, when no supervisor is.
async fn leave_to_supervisor(engine: &Engine, agent: AgentId, help_session: HelpSessionId) -> Result<bool, AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let Some(conversation) = sqlx::query!(
        r#"SELECT status AS "status: HelpStatus", channel AS "channel: Channel", queue_id AS "queue_id: QueueId"
             FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold') FOR UPDATE"#,
        help_session.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    if !super::supervise::ask_to_take_over(&mut tx, help_session, conversation.queue_id).await? {
        return Ok(false);
    }
    let held = conversation.status == HelpStatus::OnHold;
    let role = steps::end_part(&mut tx, agent, help_session, conversation.channel, held, false).await?;
    let about = About::help_session(help_session, conversation.queue_id);
    log(&mut tx, about.by(agent), Event::ParticipantLeave { role, lost: false }).await?;
    tx.commit(engine).await?;
    engine.announce([Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(agent) }]);
    offering::dispatch_for_agent(engine, agent).await;
    Ok(true)
}
