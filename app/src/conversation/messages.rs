//! Chat storage: the messages of one conversation, in the order sent, kept
//! with the help session's record. Every new message wakes both pages'
//! chat sockets. A whispering supervisor's messages are stored with the
//! role `whisper` and never read for the customer.

use super::party::Side;
use super::roles::Role;
use super::MESSAGE_MAX_CHARS;
use crate::engine::events::{Engine, Notice, Topic};
use crate::error::AppError;
use crate::states::{AgentId, HelpSessionId};

/// Stores a chat message of a live (or held) conversation, in order.
/// `reply_to` must be an earlier message of the same conversation.
pub async fn post_message(
    engine: &Engine,
    help_session: HelpSessionId,
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
    crate::text::check("A message", body, crate::text::Shape::Lines)?;
    // A reply quotes its message: a customer may reply only to what they
    // can read.
    let id = sqlx::query_scalar!(
        r#"INSERT INTO messages (help_session_id, author, body, reply_to, representative_id, role)
           SELECT h.id, coalesce(r.display_name, h.customer_name), $2, $3, r.id, coalesce(p.role, s.role, 'customer')
             FROM help_sessions h LEFT JOIN representatives r ON r.id = $4
             LEFT JOIN participants p ON p.help_session_id = h.id AND p.representative_id = $4 AND p.left_at IS NULL
             LEFT JOIN supervisions s ON s.help_session_id = h.id AND s.supervisor_id = $4 AND s.left_at IS NULL
            WHERE h.id = $1 AND h.status IN ('active', 'on_hold')
              AND s.role IS DISTINCT FROM 'monitor'
              AND ($3::bigint IS NULL
                   OR EXISTS (SELECT 1 FROM messages m WHERE m.id = $3 AND m.help_session_id = $1
                                 AND ($4::uuid IS NOT NULL OR m.role <> 'whisper')))
           RETURNING id"#,
        help_session.uuid(),
        body,
        reply_to,
        from.agent().map(AgentId::uuid)
    )
    .fetch_optional(engine.pool())
    .await?;
    let Some(id) = id else {
        let state = sqlx::query!(
            r#"SELECT EXISTS (SELECT 1 FROM help_sessions WHERE id = $1 AND status IN ('active', 'on_hold')) AS "live!",
                      EXISTS (SELECT 1 FROM supervisions WHERE help_session_id = $1 AND supervisor_id = $2
                                 AND left_at IS NULL AND role = 'monitor') AS "monitoring!""#,
            help_session.uuid(),
            from.agent().map(AgentId::uuid)
        )
        .fetch_one(engine.pool())
        .await?;
        return Err(if !state.live {
            AppError::Conflict("This conversation has ended; messages can no longer be sent.".into())
        } else if state.monitoring {
            AppError::Conflict("A silent monitor writes nothing: switch to whisper or barge in to write.".into())
        } else {
            AppError::invalid("The message you reply to is not part of this conversation.")
        });
    };
    engine.announce([Notice::about(Topic::Message, Some(help_session))]);
    Ok(id)
}

/// One chat message as stored: who wrote it (no representative: the
/// customer) and in which role.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: i64,
    pub representative_id: Option<AgentId>,
    pub role: Role,
    pub author: String,
    pub body: String,
    pub reply_to: Option<i64>,
    pub sent_at: time::OffsetDateTime,
}

/// The conversation's chat after message `after` (0: all of it), oldest
/// first, as `viewer` may read it: the customer never gets whispers, nor
/// learns that a representative's message replied to one.
pub async fn messages_after(
    engine: &Engine,
    help_session: HelpSessionId,
    after: i64,
    viewer: Side,
) -> Result<Vec<StoredMessage>, AppError> {
    Ok(sqlx::query_as!(
        StoredMessage,
        r#"SELECT m.id, m.representative_id AS "representative_id: AgentId", m.role AS "role: Role", m.author, m.body,
                  q.id AS "reply_to?", m.sent_at
             FROM messages m LEFT JOIN messages q ON q.id = m.reply_to AND ($3 OR q.role <> 'whisper')
          WHERE m.help_session_id = $1 AND m.id > $2 AND ($3 OR m.role <> 'whisper') ORDER BY m.id"#,
        help_session.uuid(),
        after,
        viewer != Side::Customer
    )
    .fetch_all(engine.pool())
    .await?)
}
