//! Agent states (SPEC §2): READY, NOT_READY with a reason, LOGGED_OUT, and a
//! switch per channel. A channel can be READY only while the agent is READY;
//! setting the agent NOT_READY sets every channel NOT_READY. Logging out (or
//! being lost past the grace period) hands the agent's customers back.

use super::offering;
use super::steps;
use sqlx::PgConnection;

use super::events::{log, About, Engine, Event, Notice, Topic};
use super::retrying;
use super::seats;
use super::{conference, control, lock_agent, offers};
use crate::error::AppError;
use crate::queue::Channel;
use crate::roles::Role;
use crate::states::{AgentId, AgentState, HelpSessionId, HelpStatus, QueueId};

/// Default capacity per channel: (channel, live at once, sessions in all).
/// Video and audio: one live and up to two on hold; chat: three; callback: one.
pub const DEFAULT_CAPACITY: [(Channel, i32, i32); 4] =
    [(Channel::Video, 1, 3), (Channel::Audio, 1, 3), (Channel::Chat, 3, 3), (Channel::Callback, 1, 1)];

/// Gives a new representative their state row, their channels, and the
/// queues every representative joins.
pub async fn provision(conn: &mut PgConnection, agent: AgentId) -> Result<(), AppError> {
    sqlx::query!("INSERT INTO agent_states (representative_id) VALUES ($1) ON CONFLICT DO NOTHING", agent.uuid())
        .execute(&mut *conn)
        .await?;
    for (channel, max_live, max_sessions) in DEFAULT_CAPACITY {
        sqlx::query!(
            "INSERT INTO agent_channels (representative_id, channel, max_live, max_sessions)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            agent.uuid(),
            channel.as_str(),
            max_live,
            max_sessions
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "INSERT INTO queue_members (queue_id, representative_id)
         SELECT id, $1 FROM queues WHERE auto_join ON CONFLICT DO NOTHING",
        agent.uuid()
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The agent is available. Channels keep their switches (all of them on the
/// first time, so "Ready" alone is enough to start taking customers).
pub async fn set_ready(engine: &Engine, agent: AgentId) -> Result<(), AppError> {
    retrying(|| set_ready_once(engine, agent)).await
}

/// One try of [`set_ready`].
async fn set_ready_once(engine: &Engine, agent: AgentId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let any_on = sqlx::query_scalar!(
        r#"SELECT bool_or(ready) AS "any_on!" FROM agent_channels WHERE representative_id = $1"#,
        agent.uuid()
    )
    .fetch_one(&mut *tx)
    .await?;
    if !any_on {
        sqlx::query!("UPDATE agent_channels SET ready = true WHERE representative_id = $1", agent.uuid())
            .execute(&mut *tx)
            .await?;
    }
    steps::record_state(&mut tx, agent, AgentState::Ready, None).await?;
    tx.commit(engine).await?;
    offering::dispatch_for_agent(engine, agent).await;
    Ok(())
}

/// A reason for NOT_READY as the desk and the API take it: 1 to 40
/// characters on one line.
pub fn not_ready_reason(raw: &str) -> Result<&str, AppError> {
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > 40 {
        return Err(AppError::invalid("Choose a reason for Not ready (at most 40 characters)."));
    }
    crate::text::check("The reason", reason, crate::text::Shape::Line)?;
    Ok(reason)
}

pub async fn set_not_ready_reason(engine: &Engine, agent: AgentId, reason: &str) -> Result<(), AppError> {
    retrying(|| set_not_ready_reason_once(engine, agent, reason)).await
}

/// One try of [`set_not_ready_reason`].
async fn set_not_ready_reason_once(engine: &Engine, agent: AgentId, reason: &str) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    steps::set_not_ready(&mut tx, agent, reason).await?;
    tx.commit(engine).await?;
    Ok(())
}

/// Turns one channel on or off. On needs the agent READY.
pub async fn set_channel(engine: &Engine, agent: AgentId, channel: Channel, ready: bool) -> Result<(), AppError> {
    retrying(|| set_channel_once(engine, agent, channel, ready)).await
}

/// One try of [`set_channel`].
async fn set_channel_once(engine: &Engine, agent: AgentId, channel: Channel, ready: bool) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let state = sqlx::query_scalar!(
        r#"SELECT state AS "state: AgentState" FROM agent_states WHERE representative_id = $1 FOR UPDATE"#,
        agent.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    if ready && state != AgentState::Ready {
        return Err(AppError::Conflict("Set yourself Ready first: a channel can be ready only while you are.".into()));
    }
    sqlx::query!(
        "UPDATE agent_channels SET ready = $3 WHERE representative_id = $1 AND channel = $2",
        agent.uuid(),
        channel.as_str(),
        ready
    )
    .execute(&mut *tx)
    .await?;
    log(&mut tx, About::agent(agent), Event::AgentChannel { channel, ready }).await?;
    tx.commit(engine).await?;
    if ready {
        offering::dispatch_for_agent(engine, agent).await;
    }
    Ok(())
}

/// Opening the desk: a logged-out agent becomes NOT_READY ("Logged in"), so
/// queues count them as staffed, and chooses Ready when they are.
pub async fn log_in(engine: &Engine, agent: AgentId) -> Result<(), AppError> {
    retrying(|| log_in_once(engine, agent)).await
}

/// One try of [`log_in`].
async fn log_in_once(engine: &Engine, agent: AgentId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let state = sqlx::query_scalar!(
        r#"SELECT state AS "state: AgentState" FROM agent_states WHERE representative_id = $1 FOR UPDATE"#,
        agent.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if state == Some(AgentState::LoggedOut) {
        steps::set_not_ready(&mut tx, agent, "Logged in").await?;
    }
    tx.commit(engine).await?;
    Ok(())
}

/// A representative's access changed (a new role): their open pages check
/// it again and close if it no longer reaches.
pub fn access_changed(engine: &Engine, agent: AgentId) {
    engine.announce([Notice { kind: Topic::Access, help_session: None, queue: None, agent: Some(agent) }]);
}

/// A representative's access was taken (disabled, password reset): they
/// are handed back like a lost agent (their customers to the front of the
/// line, logged out of every queue), and their open pages close.
pub async fn revoke(engine: &Engine, agent: AgentId) -> Result<(), AppError> {
    let state = sqlx::query_scalar!(
        r#"SELECT state AS "state: AgentState" FROM agent_states WHERE representative_id = $1"#,
        agent.uuid()
    )
    .fetch_optional(engine.pool())
    .await?;
    if state.is_some_and(|state| state != AgentState::LoggedOut) {
        hand_back(engine, agent, "Signed out by an admin").await?;
    }
    access_changed(engine, agent);
    Ok(())
}

/// The agent is gone (logged out, or lost past the grace period): every
/// customer offered to them or talking with them goes back to the FRONT of
/// their queue (they keep their original time, which is earlier than anyone
/// who entered after them), wrap-ups are closed, and the agent is
/// LOGGED_OUT. Returns how many customers went back.
pub async fn hand_back(engine: &Engine, agent: AgentId, reason: &str) -> Result<usize, AppError> {
    retrying(|| hand_back_once(engine, agent, reason)).await
}

/// One try of [`hand_back`].
#[tracing::instrument(skip(engine))]
async fn hand_back_once(engine: &Engine, agent: AgentId, reason: &str) -> Result<usize, AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    // Asked to join conversations: the askers are told.
    let asked = sqlx::query_scalar!(
        r#"SELECT help_session_id AS "id: HelpSessionId" FROM offers WHERE representative_id = $1 AND joins IS NOT NULL"#,
        agent.uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    for help_session in asked {
        conference::withdraw(&mut tx, agent, help_session, "logged out").await?;
    }
    let offered = sqlx::query_scalar!(
        r#"SELECT help_session_id AS "id: HelpSessionId" FROM offers WHERE representative_id = $1"#,
        agent.uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut queues = Vec::new();
    for help_session in &offered {
        if let Some(queue) = offers::release(&mut tx, agent, *help_session, offers::Released::AgentGone).await? {
            let event = Event::Requeue { reason: reason.to_owned(), talking: false };
            log(&mut tx, About::help_session(*help_session, queue).by(agent), event).await?;
            queues.push(queue);
        }
    }
    // Conversations they own that a colleague is in go on with the colleague.
    let handed = sqlx::query!(
        r#"SELECT id AS "id: HelpSessionId", queue_id AS "queue_id: QueueId", channel AS "channel: Channel",
                  status AS "status: HelpStatus"
             FROM help_sessions h
            WHERE agent_id = $1 AND status IN ('active', 'on_hold')
              AND EXISTS (SELECT 1 FROM participants p WHERE p.help_session_id = h.id AND p.left_at IS NULL
                             AND p.representative_id <> $1)"#,
        agent.uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    let live = sqlx::query!(
        r#"UPDATE help_sessions h SET status = 'waiting', agent_id = NULL, answered_at = NULL
            WHERE agent_id = $1 AND status IN ('active', 'on_hold')
              AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.help_session_id = h.id AND p.left_at IS NULL
                                 AND p.representative_id <> $1)
        RETURNING id AS "id: HelpSessionId", queue_id AS "queue_id: QueueId", channel, priority, entered_at"#,
        agent.uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    for talking in &live {
        sqlx::query!(
            "INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at)
             VALUES ($1, $2, $3, $4, $5)",
            talking.id.uuid(),
            talking.queue_id.uuid(),
            talking.channel,
            talking.priority,
            talking.entered_at
        )
        .execute(&mut *tx)
        .await?;
        super::supervise::end_all(&mut tx, talking.id, talking.queue_id).await?;
        let event = Event::Requeue { reason: reason.to_owned(), talking: true };
        log(&mut tx, About::help_session(talking.id, talking.queue_id).by(agent), event).await?;
        queues.push(talking.queue_id);
    }
    // Their live parts end with no wrap-up (they are gone); the parts they
    // were wrapping up are closed.
    let parts = sqlx::query!(
        r#"UPDATE participants SET left_at = now(), wrapped_at = now() WHERE representative_id = $1 AND left_at IS NULL
        RETURNING help_session_id AS "help_session: HelpSessionId", role AS "role: Role", queue_id AS "queue_id: QueueId""#,
        agent.uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    // Leaving a conversation that goes on (a colleague's part, or an owner's
    // handed to the colleague).
    for part in parts.iter().filter(|part| part.role != Role::Agent || handed.iter().any(|h| h.id == part.help_session)) {
        let about = About::help_session(part.help_session, part.queue_id);
        log(&mut tx, about.by(agent), Event::ParticipantLeave { role: part.role, lost: true }).await?;
    }
    for conversation in &handed {
        let about = About::help_session(conversation.id, conversation.queue_id);
        let held = conversation.status == HelpStatus::OnHold;
        conference::promote(&mut tx, conversation.id, about, conversation.channel, held).await?;
    }
    let wrapping = sqlx::query_scalar!(
        r#"SELECT help_session_id AS "id: HelpSessionId" FROM participants
            WHERE representative_id = $1 AND wrapped_at IS NULL"#,
        agent.uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    for help_session in wrapping {
        control::complete_wrap_up(&mut tx, agent, help_session, "", "").await?;
    }
    seats::clear(&mut tx, agent).await?;
    steps::record_state(&mut tx, agent, AgentState::LoggedOut, Some(reason)).await?;
    tx.commit(engine).await?;
    queues.sort();
    queues.dedup();
    for queue in queues {
        offering::dispatch(engine, queue).await;
    }
    Ok(offered.len() + live.len())
}
