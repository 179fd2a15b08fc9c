//! The WebRTC signaling relay's storage: what one page of a conversation
//! sends (offers, answers, ICE candidates) for the other, through whichever
//! servers their pages are on. Short-lived: a page reads what arrives while
//! it is open, and the sweeper deletes rows older than a minute.

use super::party::Side;
use crate::engine::events::{Engine, Notice, Topic};
use crate::error::AppError;
use crate::states::HelpSessionId;

/// Longest signaling message, in bytes (an SDP is a few kilobytes).
pub const SIGNAL_MAX_BYTES: usize = 65536;

/// The wake-up of one side's pages for new signaling.
pub fn topic(to: Side) -> Topic {
    match to {
        Side::Agent => Topic::SignalToAgent,
        Side::Customer => Topic::SignalToCustomer,
    }
}

/// Relays one signaling message to the other side of the same help session
/// (only while the conversation is live or held).
pub async fn send_signal(engine: &Engine, help_session: HelpSessionId, from: Side, body: &str) -> Result<(), AppError> {
    if body.len() > SIGNAL_MAX_BYTES {
        return Err(AppError::invalid("This signaling message is too long."));
    }
    let to = if from.is_agent() { Side::Customer } else { Side::Agent };
    let sent = sqlx::query!(
        "INSERT INTO signals (help_session_id, to_agent, body)
         SELECT id, $2, $3 FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold')",
        help_session.uuid(),
        to.is_agent(),
        body
    )
    .execute(engine.pool())
    .await?;
    if sent.rows_affected() == 0 {
        return Err(AppError::Conflict("This conversation has ended.".into()));
    }
    engine.announce([Notice::about(topic(to), Some(help_session))]);
    Ok(())
}

/// Signaling for one side of a help session newer than `after`, oldest first.
pub async fn signals_for(
    engine: &Engine,
    help_session: HelpSessionId,
    to: Side,
    after: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query!(
        "SELECT id, body FROM signals WHERE help_session_id = $1 AND to_agent = $2 AND id > $3 ORDER BY id",
        help_session.uuid(),
        to.is_agent(),
        after
    )
    .fetch_all(engine.pool())
    .await?
    .into_iter()
    .map(|row| (row.id, row.body))
    .collect())
}

/// The newest signal id now: a page that opens reads only what comes after.
pub async fn last_signal(engine: &Engine) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) AS "id!" FROM signals"#).fetch_one(engine.pool()).await?)
}

/// Deletes relayed signaling older than a minute (the sweeper).
pub async fn purge_signals(engine: &Engine) -> Result<u64, AppError> {
    Ok(sqlx::query!("DELETE FROM signals WHERE sent_at < now() - interval '1 minute'")
        .execute(engine.pool())
        .await?
        .rows_affected())
}
