//! "Your turn is near": customers keeping their place who gave an email
//! get one, once, when the page would tell them they are near the front;
//! at most one an hour to any address. Only queued here (`mail_outbox`);
//! `mail::send_outbox` sends it.

use sqlx::PgPool;

use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{HelpSessionId, QueueId};

/// The sweeper's part, on a server that sends email.
pub async fn queue_emails(pool: &PgPool) -> Result<(), AppError> {
    let due = sqlx::query!(
        r#"SELECT r.help_session_id AS "help_session: HelpSessionId", r.queue_id AS "queue: QueueId", r.position AS "position!", r.ahead AS "ahead!",
                  h.email AS "email!", h.channel AS "channel: Channel"
             FROM (SELECT e.help_session_id, e.queue_id,
                          row_number() OVER (PARTITION BY e.queue_id ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id)
                              AS position,
                          row_number() OVER (PARTITION BY e.queue_id, e.channel ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id)
                              - 1 AS ahead
                     FROM queue_entries e
                    WHERE e.queue_id IN (SELECT h.queue_id FROM help_sessions h
                                          WHERE h.notify AND h.status IN ('waiting', 'offered')
                                            AND h.email IS NOT NULL AND h.notified_at IS NULL)) r
             JOIN help_sessions h ON h.id = r.help_session_id
            WHERE h.notify AND h.email IS NOT NULL AND h.notified_at IS NULL"#
    )
    .fetch_all(pool)
    .await?;
    // Each line's figures, read once.
    let mut lines = std::collections::HashMap::new();
    for customer in due {
        let numbers = match lines.entry(customer.queue) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => new.insert(super::view::numbers(pool, customer.queue).await?),
        };
        let view = numbers.waiting(
            customer.channel,
            super::view::Spot { position: customer.position, ahead: customer.ahead, offered: false },
            None,
            super::Place { callback: None, keep_place: Some(super::KeepPlace { email: None }) },
        );
        if !matches!(view, super::CustomerView::Waiting { near: true, .. }) {
            continue;
        }
        // Marked and queued at once; the outbox's sender mails it. An
        // address mailed in the last hour is not mailed again (the place
        // is still shown on the page).
        sqlx::query!(
            "WITH marked AS (UPDATE help_sessions SET notified_at = now() WHERE id = $1 AND notified_at IS NULL RETURNING id)
             INSERT INTO mail_outbox (help_session_id, address)
             SELECT id, $2 FROM marked
              WHERE NOT EXISTS (SELECT 1 FROM mail_outbox o
                                 WHERE lower(o.address) = lower($2) AND o.queued_at > now() - interval '1 hour')",
            customer.help_session.uuid(),
            customer.email
        )
        .execute(pool)
        .await?;
    }
    Ok(())
}
