//! The desk, read from the database in a few queries.

use sqlx::PgPool;

use super::{ChannelSeat, CustomerCard, Desk, OfferCard, PastConversation, QueueLine};
use crate::error::AppError;
use crate::queue::{Channel, RoutingMode};
use crate::states::{AgentId, AgentState, HelpSessionId, HelpStatus, QueueId};

pub async fn desk(pool: &PgPool, agent: AgentId) -> Result<Desk, AppError> {
    let agent = agent.uuid();
    let state = sqlx::query!(
        r#"SELECT state AS "state: AgentState", reason FROM agent_states WHERE representative_id = $1"#,
        agent
    )
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    let channels = sqlx::query!(
        "SELECT channel, ready, live, sessions, max_live, max_sessions FROM agent_channels
          WHERE representative_id = $1
          ORDER BY array_position(ARRAY['video', 'audio', 'chat', 'callback'], channel)",
        agent
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(ChannelSeat {
            channel: Channel::parse(&row.channel)?,
            ready: row.ready,
            live: row.live,
            sessions: row.sessions,
            max_live: row.max_live,
            max_sessions: row.max_sessions,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let offers = sqlx::query!(
        r#"SELECT o.help_session_id AS "help_session_id: HelpSessionId", h.customer_name, h.reason, o.channel, q.name AS queue,
                  extract(epoch FROM now() - h.entered_at)::bigint AS "waited!",
                  (extract(epoch FROM o.expires_at - now()) * 1000)::bigint AS "expires_in_ms!"
             FROM offers o JOIN help_sessions h ON h.id = o.help_session_id JOIN queues q ON q.id = o.queue_id
            WHERE o.representative_id = $1 ORDER BY o.offered_at"#,
        agent
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(OfferCard {
            help_session_id: row.help_session_id,
            customer_name: row.customer_name,
            reason: row.reason,
            channel: Channel::parse(&row.channel)?,
            queue: row.queue,
            waited_seconds: row.waited,
            expires_in_ms: row.expires_in_ms.max(0),
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let customers = sqlx::query!(
        r#"SELECT h.id AS "id: HelpSessionId", h.customer_name, h.reason, h.channel, h.phone, h.status AS "status: HelpStatus", q.name AS queue,
                  CASE WHEN h.status = 'wrap_up'
                       THEN greatest(0, q.wrap_up_seconds - extract(epoch FROM now() - h.ended_at))::bigint END
                       AS wrap_up_left
             FROM help_sessions h JOIN queues q ON q.id = h.queue_id
            WHERE h.agent_id = $1 AND h.status IN ('active', 'on_hold', 'wrap_up')
            ORDER BY h.answered_at"#,
        agent
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(CustomerCard {
            help_session_id: row.id,
            customer_name: row.customer_name,
            reason: row.reason,
            channel: Channel::parse(&row.channel)?,
            phone: row.phone,
            queue: row.queue,
            status: row.status,
            wrap_up_left_seconds: row.wrap_up_left,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let queues = sqlx::query!(
        r#"SELECT q.id AS "id: QueueId", q.name, q.routing_mode,
                  (SELECT count(*) FROM queue_entries e WHERE e.queue_id = q.id) AS "waiting!"
             FROM queues q JOIN queue_members m ON m.queue_id = q.id
            WHERE m.representative_id = $1 ORDER BY lower(q.name)"#,
        agent
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(QueueLine { id: row.id, name: row.name, routing_mode: RoutingMode::parse(&row.routing_mode)?, waiting: row.waiting })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let recent = sqlx::query!(
        r#"SELECT id AS "id: HelpSessionId", customer_name, channel, ended_at AS "ended_at!", disposition, note, rating, rating_comment
             FROM help_sessions
            WHERE agent_id = $1 AND status = 'completed' AND ended_at IS NOT NULL
            ORDER BY completed_at DESC LIMIT 10"#,
        agent
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(PastConversation {
            help_session_id: row.id,
            customer_name: row.customer_name,
            channel: Channel::parse(&row.channel)?,
            ended_at: row.ended_at.format(time::macros::format_description!("[hour]:[minute]")).unwrap_or_default(),
            disposition: row.disposition.filter(|d| !d.is_empty()),
            note: row.note.filter(|n| !n.is_empty()),
            rating: row.rating,
            rating_comment: row.rating_comment,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Desk { state: state.state, reason: state.reason, channels, offers, customers, queues, recent })
}

/// 404 unless the help session is this agent's.
pub async fn own(pool: &PgPool, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let mine = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM help_sessions WHERE id = $1 AND agent_id = $2) AS "mine!""#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_one(pool)
    .await?;
    if mine {
        Ok(())
    } else {
        Err(AppError::NotFound("This is not one of your customers.".into()))
    }
}
