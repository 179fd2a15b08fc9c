//! Where a customer stands: computed from the database each time something
//! in their queue changes.

use sqlx::PgPool;

use super::waiting::{estimate, DEFAULT_HANDLE_SECONDS};
use super::CustomerView;
use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{HelpSessionId, HelpStatus};

/// The customer's view of their help session; `None` if it does not exist.
pub async fn customer_view(pool: &PgPool, help_session: HelpSessionId) -> Result<Option<CustomerView>, AppError> {
    let Some(row) = sqlx::query!(
        r#"SELECT h.status AS "status: HelpStatus", h.channel AS "channel: Channel", h.queue_id, q.name AS queue, q.when_nobody, q.nobody_message,
                  r.display_name AS "agent?", h.answered_at IS NOT NULL AS "answered!", h.rating
             FROM help_sessions h
             JOIN queues q ON q.id = h.queue_id
             LEFT JOIN representatives r ON r.id = h.agent_id
            WHERE h.id = $1"#,
        help_session.uuid()
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let channel = row.channel;
    let view = match row.status {
        HelpStatus::Waiting | HelpStatus::Offered => {
            let numbers = sqlx::query!(
                r#"SELECT
                     (SELECT count(*) FROM queue_entries e, queue_entries me
                       WHERE me.help_session_id = $1 AND e.queue_id = me.queue_id
                         AND (e.priority > me.priority
                              OR (e.priority = me.priority
                                  AND (e.enqueued_at, e.help_session_id) < (me.enqueued_at, me.help_session_id))))
                       AS "ahead!",
                     (SELECT count(*) FROM queue_members m JOIN agent_states s USING (representative_id)
                       WHERE m.queue_id = $2 AND s.state = 'READY') AS "ready!",
                     (SELECT count(*) FROM queue_members m JOIN agent_states s USING (representative_id)
                       WHERE m.queue_id = $2 AND s.state <> 'LOGGED_OUT') AS "logged_in!",
                     (SELECT avg(extract(epoch FROM completed_at - answered_at))::float8
                        FROM (SELECT completed_at, answered_at FROM help_sessions
                               WHERE queue_id = $2 AND channel = $3 AND status = 'completed'
                                 AND answered_at IS NOT NULL AND completed_at > now() - interval '7 days'
                               ORDER BY completed_at DESC LIMIT 50) recent) AS handle_seconds,
                     EXISTS (SELECT 1 FROM events
                              WHERE help_session_id = $1 AND kind = 'REQUEUE'
                                AND (detail->>'talking')::boolean) AS "reconnecting!""#,
                help_session.uuid(),
                row.queue_id,
                channel.as_str(),
            )
            .fetch_one(pool)
            .await?;
            let position = numbers.ahead + 1;
            CustomerView::Waiting {
                queue: row.queue,
                channel,
                position,
                estimate: estimate(position, numbers.ready, numbers.handle_seconds.unwrap_or(DEFAULT_HANDLE_SECONDS)),
                nobody: (numbers.logged_in == 0).then_some(row.nobody_message),
                reconnecting: numbers.reconnecting,
            }
        }
        HelpStatus::Active | HelpStatus::OnHold => CustomerView::Matched {
            help_session,
            agent: row.agent.unwrap_or_default(),
            channel,
            on_hold: row.status == HelpStatus::OnHold,
        },
        HelpStatus::WrapUp | HelpStatus::Completed if row.answered && row.rating.is_none() => {
            CustomerView::Finished { can_rate: true }
        }
        HelpStatus::WrapUp => CustomerView::Finished { can_rate: false },
        HelpStatus::Completed => CustomerView::Closed { reason: "Your conversation has ended. Thank you!".into() },
        HelpStatus::Cancelled => CustomerView::Closed { reason: "You left the queue.".into() },
        HelpStatus::Expired => CustomerView::Closed {
            reason: "Sorry: the wait grew longer than this line allows. Please ask us to call you back.".into(),
        },
        HelpStatus::Abandoned => CustomerView::Closed { reason: "Your place was given up after you left the page.".into() },
        HelpStatus::Created => CustomerView::Closed { reason: "Your request is not in a queue yet.".into() },
    };
    Ok(Some(view))
}
