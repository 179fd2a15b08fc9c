//! Agent states (SPEC §2): READY, NOT_READY with a reason, LOGGED_OUT, and a
//! switch per channel. A channel can be READY only while the agent is READY;
//! setting the agent NOT_READY sets every channel NOT_READY.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::events::{log, Engine, Tx};
use crate::error::AppError;
use crate::queue::Channel;

/// The reason given when the RONA timer runs out.
pub const MISSED_OFFER: &str = "Missed offer";

/// Default capacity per channel: (channel, live at once, sessions in all).
/// Video and audio: one live and up to two on hold; chat: three; callback: one.
pub const DEFAULT_CAPACITY: [(Channel, i32, i32); 4] =
    [(Channel::Video, 1, 3), (Channel::Audio, 1, 3), (Channel::Chat, 3, 3), (Channel::Callback, 1, 1)];

/// Gives a new representative their state row, their channels, and the
/// queues every representative joins.
pub async fn provision(conn: &mut PgConnection, agent: Uuid) -> Result<(), AppError> {
    sqlx::query!("INSERT INTO agent_states (representative_id) VALUES ($1) ON CONFLICT DO NOTHING", agent)
        .execute(&mut *conn)
        .await?;
    for (channel, max_live, max_sessions) in DEFAULT_CAPACITY {
        sqlx::query!(
            "INSERT INTO agent_channels (representative_id, channel, max_live, max_sessions)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            agent,
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
        agent
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes the agent's state and its AGENT_STATE event.
pub(super) async fn record_state(
    tx: &mut Tx,
    agent: Uuid,
    state: &str,
    reason: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE agent_states
            SET state = $2, reason = $3, state_since = now(),
                idle_since = CASE WHEN $2 = 'READY' AND state <> 'READY' THEN now() ELSE idle_since END
          WHERE representative_id = $1",
        agent,
        state,
        reason
    )
    .execute(&mut **tx)
    .await?;
    log(tx, "AGENT_STATE", None, None, Some(agent), json!({ "state": state, "reason": reason })).await
}

/// NOT_READY with a reason; every channel goes NOT_READY with it.
pub(super) async fn set_not_ready(tx: &mut Tx, agent: Uuid, reason: &str) -> Result<(), AppError> {
    sqlx::query!("UPDATE agent_channels SET ready = false WHERE representative_id = $1", agent)
        .execute(&mut **tx)
        .await?;
    record_state(tx, agent, "NOT_READY", Some(reason)).await
}

/// The agent is available. Channels keep their switches (all of them on the
/// first time, so "Ready" alone is enough to start taking customers).
pub async fn set_ready(engine: &Engine, agent: Uuid) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    super::lock_agent(&mut tx, agent).await?;
    let any_on = sqlx::query_scalar!(
        r#"SELECT bool_or(ready) AS "any_on!" FROM agent_channels WHERE representative_id = $1"#,
        agent
    )
    .fetch_one(&mut *tx)
    .await?;
    if !any_on {
        sqlx::query!("UPDATE agent_channels SET ready = true WHERE representative_id = $1", agent)
            .execute(&mut *tx)
            .await?;
    }
    record_state(&mut tx, agent, "READY", None).await?;
    tx.commit(engine).await?;
    super::dispatch_for_agent(engine, agent).await
}

pub async fn set_not_ready_reason(engine: &Engine, agent: Uuid, reason: &str) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    super::lock_agent(&mut tx, agent).await?;
    set_not_ready(&mut tx, agent, reason).await?;
    tx.commit(engine).await?;
    Ok(())
}

/// Turns one channel on or off. On needs the agent READY.
pub async fn set_channel(engine: &Engine, agent: Uuid, channel: Channel, ready: bool) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let state = sqlx::query_scalar!("SELECT state FROM agent_states WHERE representative_id = $1 FOR UPDATE", agent)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    if ready && state != "READY" {
        return Err(AppError::Conflict("Set yourself Ready first: a channel can be ready only while you are.".into()));
    }
    sqlx::query!(
        "UPDATE agent_channels SET ready = $3 WHERE representative_id = $1 AND channel = $2",
        agent,
        channel.as_str(),
        ready
    )
    .execute(&mut *tx)
    .await?;
    log(&mut tx, "AGENT_STATE", None, None, Some(agent), json!({ "channel": channel, "ready": ready })).await?;
    tx.commit(engine).await?;
    if ready {
        super::dispatch_for_agent(engine, agent).await?;
    }
    Ok(())
}

/// Opening the desk: a logged-out agent becomes NOT_READY ("Logged in"), so
/// queues count them as staffed, and chooses Ready when they are.
pub async fn log_in(engine: &Engine, agent: Uuid) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let state = sqlx::query_scalar!("SELECT state FROM agent_states WHERE representative_id = $1 FOR UPDATE", agent)
        .fetch_optional(&mut *tx)
        .await?;
    if state.as_deref() == Some("LOGGED_OUT") {
        set_not_ready(&mut tx, agent, "Logged in").await?;
    }
    tx.commit(engine).await?;
    Ok(())
}
