//! The conversation after a match (SPEC §6): hold, resume (switching holds
//! the other live call), chat, the signaling relay between the two
//! browsers, and the customer's rating. Hold and resume are transitions like
//! the others: one transaction with the agent's row locked first, the seat
//! counts kept in step, and an event.

use serde_json::json;
use uuid::Uuid;

use super::events::{log, Engine, Notice, Tx};
use super::lock_agent;
use crate::error::AppError;

pub use crate::conversation::MESSAGE_MAX_CHARS;
/// Longest rating comment, in characters.
pub const COMMENT_MAX_CHARS: usize = 1000;
/// Longest signaling message, in bytes (an SDP is a few kilobytes).
pub const SIGNAL_MAX_BYTES: usize = 65536;

/// Puts a live conversation on hold: media stops both ways and the seat's
/// live place is free (another customer can be offered or resumed).
pub async fn hold(engine: &Engine, agent: Uuid, help_session: Uuid) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let session = sqlx::query!(
        "UPDATE help_sessions SET status = 'on_hold' WHERE id = $1 AND agent_id = $2 AND status = 'active'
        RETURNING queue_id, channel",
        help_session,
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("You are not talking with this customer now.".into()))?;
    held(&mut tx, agent, help_session, session.queue_id, &session.channel, json!({})).await?;
    tx.commit(engine).await?;
    super::dispatch_for_agent(engine, agent).await
}

/// Takes a held customer back. Any other video or audio call of this agent
/// that is live goes on hold in the same transaction (switching, as in a
/// video call center: one conversation with media at a time).
pub async fn resume(engine: &Engine, agent: Uuid, help_session: Uuid) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    lock_agent(&mut tx, agent).await?;
    let target = sqlx::query!(
        "SELECT queue_id, channel FROM help_sessions WHERE id = $1 AND agent_id = $2 AND status = 'on_hold' FOR UPDATE",
        help_session,
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("This customer is not on hold with you.".into()))?;
    if target.channel == "video" || target.channel == "audio" {
        let others = sqlx::query!(
            "UPDATE help_sessions SET status = 'on_hold'
              WHERE agent_id = $1 AND status = 'active' AND channel IN ('video', 'audio')
            RETURNING id, queue_id, channel",
            agent
        )
        .fetch_all(&mut *tx)
        .await?;
        for other in others {
            held(&mut tx, agent, other.id, other.queue_id, &other.channel, json!({ "switched_to": help_session })).await?;
        }
    }
    // The seat's live place: taken by an offer meanwhile, the resume waits.
    let seated = sqlx::query!(
        "UPDATE agent_channels SET live = live + 1
          WHERE representative_id = $1 AND channel = $2 AND live < max_live",
        agent,
        target.channel
    )
    .execute(&mut *tx)
    .await?;
    if seated.rows_affected() == 0 {
        return Err(AppError::Conflict(
            "Every live place of this channel is taken: end or hold a conversation, or answer your offer, first.".into(),
        ));
    }
    sqlx::query!("UPDATE help_sessions SET status = 'active' WHERE id = $1", help_session)
        .execute(&mut *tx)
        .await?;
    log(&mut tx, "RESUME", Some(help_session), Some(target.queue_id), Some(agent), json!({})).await?;
    tx.commit(engine).await
}

/// The rest of putting a session on hold, once its status is `on_hold`: its
/// seat's live place is free, and HOLD is logged.
async fn held(
    tx: &mut Tx,
    agent: Uuid,
    help_session: Uuid,
    queue: Uuid,
    channel: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE agent_channels SET live = live - 1 WHERE representative_id = $1 AND channel = $2",
        agent,
        channel
    )
    .execute(&mut **tx)
    .await?;
    log(tx, "HOLD", Some(help_session), Some(queue), Some(agent), detail).await
}

/// The customer's 1–5 rating and optional comment, once, after the
/// conversation ended.
pub async fn rate(engine: &Engine, help_session: Uuid, stars: i16, comment: &str) -> Result<(), AppError> {
    if !(1..=5).contains(&stars) {
        return Err(AppError::invalid("Choose from 1 to 5 stars."));
    }
    let comment = comment.trim();
    if comment.chars().count() > COMMENT_MAX_CHARS {
        return Err(AppError::invalid(format!("The comment must be at most {COMMENT_MAX_CHARS} characters.")));
    }
    let mut tx = engine.begin().await?;
    let rated = sqlx::query!(
        "UPDATE help_sessions SET rating = $2, rating_comment = NULLIF($3, ''), rated_at = now()
          WHERE id = $1 AND status IN ('wrap_up', 'completed') AND answered_at IS NOT NULL AND rating IS NULL
        RETURNING queue_id, agent_id",
        help_session,
        stars,
        comment
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("This conversation cannot be rated (not ended yet, or rated already).".into()))?;
    log(&mut tx, "RATED", Some(help_session), Some(rated.queue_id), rated.agent_id, json!({ "rating": stars })).await?;
    tx.commit(engine).await
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Customer,
    Agent,
}

impl Side {
    pub fn is_agent(self) -> bool {
        self == Side::Agent
    }
}

/// Stores a chat message of a live (or held) conversation, in order.
/// `reply_to` must be an earlier message of the same conversation.
pub async fn post_message(
    engine: &Engine,
    help_session: Uuid,
    from: Side,
    body: &str,
    reply_to: Option<i64>,
) -> Result<i64, AppError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::invalid("Write a message first."));
    }
    let length = body.chars().count();
    if length > MESSAGE_MAX_CHARS {
        return Err(AppError::invalid(format!(
            "A message can be at most {MESSAGE_MAX_CHARS} characters; this one has {length}."
        )));
    }
    let id = sqlx::query_scalar!(
        r#"INSERT INTO messages (help_session_id, from_agent, author, body, reply_to)
           SELECT h.id, $2, CASE WHEN $2 THEN r.display_name ELSE h.customer_name END, $3, $4
             FROM help_sessions h LEFT JOIN representatives r ON r.id = h.agent_id
            WHERE h.id = $1 AND h.status IN ('active', 'on_hold')
              AND ($4::bigint IS NULL
                   OR EXISTS (SELECT 1 FROM messages m WHERE m.id = $4 AND m.help_session_id = $1))
           RETURNING id"#,
        help_session,
        from.is_agent(),
        body,
        reply_to
    )
    .fetch_optional(engine.pool())
    .await?;
    let Some(id) = id else {
        let live = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold')) AS "live!""#,
            help_session
        )
        .fetch_one(engine.pool())
        .await?;
        return Err(if live {
            AppError::invalid("The message you reply to is not part of this conversation.")
        } else {
            AppError::Conflict("This conversation has ended; messages can no longer be sent.".into())
        });
    };
    engine.announce([Notice::new("MESSAGE", Some(help_session), None, None)]);
    Ok(id)
}

/// One chat message as the pages show it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: i64,
    pub from_agent: bool,
    pub author: String,
    pub body: String,
    pub reply_to: Option<i64>,
    pub sent_at: time::OffsetDateTime,
}

/// The whole conversation's chat, oldest first.
pub async fn messages(engine: &Engine, help_session: Uuid) -> Result<Vec<StoredMessage>, AppError> {
    Ok(sqlx::query_as!(
        StoredMessage,
        "SELECT id, from_agent, author, body, reply_to, sent_at FROM messages WHERE help_session_id = $1 ORDER BY id",
        help_session
    )
    .fetch_all(engine.pool())
    .await?)
}

/// The notice kind that wakes the pages of one side for new signaling.
pub fn signal_kind(to: Side) -> &'static str {
    match to {
        Side::Agent => "SIGNAL_TO_AGENT",
        Side::Customer => "SIGNAL_TO_CUSTOMER",
    }
}

/// Relays one signaling message to the other side of the same help session
/// (only while the conversation is live or held).
pub async fn send_signal(engine: &Engine, help_session: Uuid, from: Side, body: &str) -> Result<(), AppError> {
    if body.len() > SIGNAL_MAX_BYTES {
        return Err(AppError::invalid("This signaling message is too long."));
    }
    let to = if from.is_agent() { Side::Customer } else { Side::Agent };
    let sent = sqlx::query!(
        "INSERT INTO signals (help_session_id, to_agent, body)
         SELECT id, $2, $3 FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold')",
        help_session,
        to.is_agent(),
        body
    )
    .execute(engine.pool())
    .await?;
    if sent.rows_affected() == 0 {
        return Err(AppError::Conflict("This conversation has ended.".into()));
    }
    engine.announce([Notice::new(signal_kind(to), Some(help_session), None, None)]);
    Ok(())
}

/// Signaling for one side of a help session newer than `after`, oldest first.
pub async fn signals_for(engine: &Engine, help_session: Uuid, to: Side, after: i64) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query!(
        "SELECT id, body FROM signals WHERE help_session_id = $1 AND to_agent = $2 AND id > $3 ORDER BY id",
        help_session,
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
    Ok(sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) AS "id!" FROM signals"#)
        .fetch_one(engine.pool())
        .await?)
}

/// Deletes relayed signaling older than a minute (the sweeper).
pub async fn purge_signals(engine: &Engine) -> Result<u64, AppError> {
    Ok(sqlx::query!("DELETE FROM signals WHERE sent_at < now() - interval '1 minute'")
        .execute(engine.pool())
        .await?
        .rows_affected())
}
