//! Where a customer stands. One customer's whole view is read when
//! something happens to them; a whole line's positions are read at once
//! (`line`) when something changes in it, so that keeping thousands of
//! waiting pages up to date costs one query per change, not one per page.

use std::collections::HashMap;

use sqlx::PgPool;

use super::waiting::{estimate, expected_seconds, DEFAULT_HANDLE_SECONDS};
use super::{Back, CallbackStatus, CustomerView, KeepPlace, Place};
use crate::engine::events::{Event, TransferStage};
use crate::error::AppError;
use crate::queue::Channel;
use crate::states::{HelpSessionId, HelpStatus, QueueId};

/// A queue's figures behind every waiting customer's estimate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Numbers {
    pub queue: String,
    /// Representatives READY for the queue, and logged in at all.
    pub ready: i64,
    pub logged_in: i64,
    pub nobody_message: String,
    /// Average handle time per channel over its recent conversations.
    pub handle_seconds: HashMap<Channel, f64>,
    /// Closed now: when it opens (RFC 3339).
    pub opens_at: Option<String>,
    /// A customer keeping their place is told at this position or nearer,
    /// or when their expected wait is under this many seconds.
    pub notify_position: i64,
    pub notify_seconds: f64,
}

impl Numbers {
    /// The view of a customer waiting at `position` (1 = next).
    pub fn waiting(&self, channel: Channel, position: i64, back: Option<Back>, place: Place) -> CustomerView {
        let handle = self.handle_seconds.get(&channel).copied().unwrap_or(DEFAULT_HANDLE_SECONDS);
        let soon = expected_seconds(position, self.ready, handle).is_some_and(|seconds| seconds < self.notify_seconds);
        CustomerView::Waiting {
            queue: self.queue.clone(),
            channel,
            position,
            // Closed now: the wait counts from the opening.
            estimate: match &self.opens_at {
                Some(_) => format!("{} after we open", estimate(position, self.ready.max(1), handle)),
                None => estimate(position, self.ready, handle),
            },
            nobody: (self.logged_in == 0 && self.opens_at.is_none()).then(|| self.nobody_message.clone()),
            back,
            opens_at: self.opens_at.clone(),
            near: place.keep_place.is_some() && self.opens_at.is_none() && (position <= self.notify_position || soon),
            place,
        }
    }
}

/// The queue's figures, read now.
pub async fn numbers(pool: &PgPool, queue: QueueId) -> Result<Numbers, AppError> {
    let row = sqlx::query!(
        r#"SELECT q.name, q.nobody_message, q.channels AS "channels: Vec<Channel>", q.notify_position, q.notify_seconds,
                  CASE WHEN NOT queue_open(q.id, now()) THEN queue_next_open(q.id, now()) END AS opens_at,
                  (SELECT count(*) FROM queue_members m JOIN agent_states s USING (representative_id)
                    WHERE m.queue_id = q.id AND s.state = 'READY') AS "ready!",
                  (SELECT count(*) FROM queue_members m JOIN agent_states s USING (representative_id)
                    WHERE m.queue_id = q.id AND s.state <> 'LOGGED_OUT') AS "logged_in!"
             FROM queues q WHERE q.id = $1"#,
        queue.uuid()
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    let handle = sqlx::query!(
        r#"SELECT c.channel AS "channel!: Channel",
                  (SELECT avg(extract(epoch FROM completed_at - answered_at))::float8
                     FROM (SELECT completed_at, answered_at FROM help_sessions
                            WHERE queue_id = $1 AND channel = c.channel AND status = 'completed'
                              AND answered_at IS NOT NULL AND completed_at > now() - interval '7 days'
                            ORDER BY completed_at DESC LIMIT 50) recent) AS seconds
             FROM unnest($2::text[]) AS c(channel)"#,
        queue.uuid(),
        &row.channels.iter().map(|channel| channel.as_str().to_owned()).collect::<Vec<_>>()
    )
    .fetch_all(pool)
    .await?;
    Ok(Numbers {
        queue: row.name,
        ready: row.ready,
        logged_in: row.logged_in,
        nobody_message: row.nobody_message,
        handle_seconds: handle.into_iter().filter_map(|h| Some((h.channel, h.seconds?))).collect(),
        opens_at: row.opens_at.map(rfc3339),
        notify_position: i64::from(row.notify_position),
        notify_seconds: f64::from(row.notify_seconds),
    })
}

/// A moment as the pages carry it.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// What a waiting customer chose about how they wait, read with their view.
struct Waits {
    channel: Channel,
    phone: Option<String>,
    callback_from: Option<time::OffsetDateTime>,
    callback_until: Option<time::OffsetDateTime>,
    notify: bool,
    email: Option<String>,
    not_before: Option<time::OffsetDateTime>,
}

/// How this waiting customer waits: their callback (with its attempts) or
/// their place kept.
async fn place(pool: &PgPool, help_session: HelpSessionId, row: Waits) -> Result<Place, AppError> {
    let callback = match (row.channel, row.phone) {
        (Channel::Callback, Some(phone)) => {
            let attempts = sqlx::query!(
                r#"SELECT at, detail->>'outcome' AS "outcome!" FROM events
                    WHERE help_session_id = $1 AND kind = 'CALLBACK_ATTEMPT' ORDER BY id"#,
                help_session.uuid()
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .filter_map(|attempt| Some((rfc3339(attempt.at), crate::states::CallbackOutcome::parse(&attempt.outcome).ok()?)))
            .collect();
            Some(CallbackStatus {
                phone,
                window: row.callback_from.zip(row.callback_until).map(|(from, until)| (rfc3339(from), rfc3339(until))),
                attempts,
                next_try: row.not_before.filter(|at| *at > time::OffsetDateTime::now_utc()).map(rfc3339),
            })
        }
        _ => None,
    };
    Ok(Place { callback, keep_place: row.notify.then_some(KeepPlace { email: row.email }) })
}

/// Where everyone in one queue's line stands, read at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub numbers: Numbers,
    /// 1 = next, for every customer in the line.
    pub positions: HashMap<HelpSessionId, i64>,
}

/// The queue's line now: one query for every position.
pub async fn line(pool: &PgPool, queue: QueueId) -> Result<Line, AppError> {
    let positions = sqlx::query!(
        r#"SELECT help_session_id AS "help_session: HelpSessionId",
                  row_number() OVER (ORDER BY priority DESC, enqueued_at, help_session_id) AS "position!"
             FROM queue_entries WHERE queue_id = $1"#,
        queue.uuid()
    )
    .fetch_all(pool)
    .await?;
    Ok(Line {
        numbers: numbers(pool, queue).await?,
        positions: positions.into_iter().map(|row| (row.help_session, row.position)).collect(),
    })
}

/// The customer's view of their help session; `None` if it does not exist.
pub async fn customer_view(pool: &PgPool, help_session: HelpSessionId) -> Result<Option<CustomerView>, AppError> {
    let Some(row) = sqlx::query!(
        r#"SELECT h.status AS "status: HelpStatus", h.channel AS "channel: Channel", h.queue_id, q.name AS queue,
                  ARRAY(SELECT split_part(r.display_name, ' ', 1)
                          FROM participants p JOIN representatives r ON r.id = p.representative_id
                         WHERE p.help_session_id = h.id AND p.left_at IS NULL AND p.role IN ('agent', 'conference')
                         ORDER BY p.role = 'conference', p.joined_at) AS "representatives!",
                  (SELECT split_part(r.display_name, ' ', 1)
                     FROM supervisions s JOIN representatives r ON r.id = s.supervisor_id
                    WHERE s.help_session_id = h.id AND s.left_at IS NULL AND s.role = 'barge') AS supervisor,
                  h.answered_at IS NOT NULL AS "answered!", h.rating,
                  h.phone, h.callback_from, h.callback_until, h.notify, h.email,
                  (SELECT e.not_before FROM queue_entries e WHERE e.help_session_id = h.id) AS not_before
             FROM help_sessions h
             JOIN queues q ON q.id = h.queue_id
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
            let ahead = sqlx::query_scalar!(
                r#"SELECT count(*) AS "ahead!" FROM queue_entries e, queue_entries me
                    WHERE me.help_session_id = $1 AND e.queue_id = me.queue_id
                      AND (e.priority > me.priority
                           OR (e.priority = me.priority
                               AND (e.enqueued_at, e.help_session_id) < (me.enqueued_at, me.help_session_id)))"#,
                help_session.uuid(),
            )
            .fetch_one(pool)
            .await?;
            let back = back(pool, help_session).await?;
            let numbers = numbers(pool, row.queue_id.into()).await?;
            let waits = Waits {
                channel,
                phone: row.phone,
                callback_from: row.callback_from,
                callback_until: row.callback_until,
                notify: row.notify,
                email: row.email,
                not_before: row.not_before,
            };
            numbers.waiting(channel, ahead + 1, back, place(pool, help_session, waits).await?)
        }
        HelpStatus::Active | HelpStatus::OnHold => CustomerView::Matched {
            help_session,
            representatives: row.representatives,
            channel,
            on_hold: row.status == HelpStatus::OnHold,
            supervisor: row.supervisor,
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
        HelpStatus::Unreachable => CustomerView::Closed {
            reason: "We tried to call you back several times and could not reach you. You are welcome to ask again.".into(),
        },
        HelpStatus::Invalid => CustomerView::Closed {
            reason: "We could not call you back: the number you gave did not work. You are welcome to ask again.".into(),
        },
        HelpStatus::Created => CustomerView::NotQueued { queue: row.queue, channel },
    };
    Ok(Some(view))
}

/// Why a waiting customer waits again, from the last event that put them
/// back in a line (their representative lost, or a transfer).
async fn back(pool: &PgPool, help_session: HelpSessionId) -> Result<Option<Back>, AppError> {
    let Some(last) = sqlx::query!(
        r#"SELECT e.kind, e.detail, q.name AS "queue?",
                  split_part(r.display_name, ' ', 1) AS "colleague?"
             FROM events e
             LEFT JOIN queues q ON q.id = e.queue_id
             LEFT JOIN representatives r ON r.id = (e.detail->>'to_agent')::uuid
            WHERE e.help_session_id = $1
              AND (e.kind = 'TRANSFER' OR (e.kind = 'REQUEUE' AND (e.detail->>'talking')::boolean))
            ORDER BY e.id DESC LIMIT 1"#,
        help_session.uuid()
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let queue = last.queue.unwrap_or_default();
    Ok(match Event::from_columns(&last.kind, last.detail) {
        Ok(Event::Requeue { .. }) => Some(Back::Reconnecting),
        Ok(Event::Transfer { stage: TransferStage::Requested, to_agent: Some(_), .. }) => {
            Some(Back::Transferred { to: last.colleague.unwrap_or(queue) })
        }
        Ok(Event::Transfer { .. }) => Some(Back::Transferred { to: queue }),
        _ => None,
    })
}
