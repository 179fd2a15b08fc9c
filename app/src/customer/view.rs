//! Where a customer stands. One customer's whole view is read when
//! something happens to them; a whole line's positions are read at once
//! (`line`) when something changes in it, so that keeping thousands of
//! waiting pages up to date costs one query per change, not one per page.

use std::collections::HashMap;

use sqlx::PgPool;

use super::wait_model::{estimate, handle_seconds, in_words, Measured, Range, FORGET_SECONDS, RECENT_SERVICES};
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
    /// Customers are offered to representatives (not taken with "Next
    /// customer").
    pub push: bool,
    /// What serves each of the queue's channels.
    pub channels: HashMap<Channel, Staffing>,
    /// Closed now: when it opens (RFC 3339).
    pub opens_at: Option<String>,
    /// Open now with opening hours: seconds until it closes.
    pub closes_in: Option<f64>,
    /// A customer keeping their place is told at this position or nearer,
    /// or when their expected wait is under this many seconds.
    pub notify_position: i64,
    pub notify_seconds: f64,
}

/// What serves one channel of a queue, and how fast it has been served.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Staffing {
    /// READY members with the channel switched on, each counted by their
    /// capacity on it, shared out among the queues they serve where
    /// someone waits on it (all theirs where nobody else waits).
    pub seats: f64,
    /// Of those, the seats free now.
    pub free: f64,
    /// The latest handle times, where measuring starts from.
    pub handles: Vec<f64>,
    pub measured: Measured,
    /// People have waited long and nobody was served for a long while.
    pub stalled: bool,
}

/// A seat is free for the customer: they are offered as soon as they are
/// in line, and answered as soon as the representative accepts.
const AT_ONCE: Range = Range { low: 0.0, middle: 10.0, high: 59.0 };

/// Nobody served for this long (or three services' time, if longer) while
/// someone waited that long: the line is stuck and not estimated.
const STALLED_SECONDS: f64 = 600.0;

/// How far back the measurements read (past it a weight is under 0.3%).
const MEASURED_SECONDS: f64 = 6.0 * FORGET_SECONDS;

impl Numbers {
    /// The range a customer at `spot` on `channel` is shown; `None`: can't
    /// estimate right now. While closed the wait counts from the opening,
    /// as if one seat were there.
    pub fn range(&self, channel: Channel, spot: Spot) -> Option<Range> {
        let ahead = spot.ahead;
        let staffing = self.channels.get(&channel).cloned().unwrap_or_default();
        let closed = self.opens_at.is_some();
        if staffing.stalled && !closed {
            return None;
        }
        // Being offered now, or offered to a free seat at once.
        if spot.offered || (self.push && !closed && staffing.free > ahead as f64) {
            return Some(AT_ONCE);
        }
        let seats = if closed { staffing.seats.max(1.0) } else { staffing.seats };
        estimate(u32::try_from(ahead.max(0)).unwrap_or(u32::MAX), seats, &staffing.handles, &staffing.measured)
    }

    /// The view of a customer waiting at `position` (1 = next) with
    /// `ahead` customers ahead of them on their channel.
    pub fn waiting(&self, channel: Channel, spot: Spot, back: Option<Back>, place: Place) -> CustomerView {
        self.shown(channel, spot, self.range(channel, spot), back, place)
    }

    /// The same with its range worked out already.
    fn shown(&self, channel: Channel, spot: Spot, range: Option<Range>, back: Option<Back>, place: Place) -> CustomerView {
        let soon = range.is_some_and(|range| range.middle < self.notify_seconds);
        let words = range.map_or_else(|| "can't estimate right now".to_owned(), |range| in_words((range.low, range.high)));
        CustomerView::Waiting {
            queue: self.queue.clone(),
            channel,
            position: spot.position,
            // Closed now: the wait counts from the opening; open, a range
            // reaching past the closing says so.
            estimate: match (&self.opens_at, range.zip(self.closes_in)) {
                (Some(_), _) => format!("{words} after we open"),
                (None, Some((range, closes_in))) if range.high > closes_in => {
                    format!("{words}, but we close before then: your turn may come after we open again")
                }
                _ => words,
            },
            range_seconds: range.map(|range| (range.low.round() as u32, range.high.round() as u32)),
            nobody: (self.logged_in == 0 && self.opens_at.is_none()).then(|| self.nobody_message.clone()),
            back,
            opens_at: self.opens_at.clone(),
            near: place.keep_place.is_some() && self.opens_at.is_none() && (spot.position <= self.notify_position || soon),
            place,
        }
    }
}

/// Where one customer stands: their position in the line (1 = next), and
/// how many ahead of them wait on the same channel (the seats that serve
/// them serve those).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spot {
    pub position: i64,
    pub ahead: i64,
    /// Being offered to a representative now.
    pub offered: bool,
}

/// The queue's figures, read now.
pub async fn numbers(pool: &PgPool, queue: QueueId) -> Result<Numbers, AppError> {
    let row = sqlx::query!(
        r#"SELECT q.name, q.nobody_message, q.channels AS "channels: Vec<Channel>", q.notify_position, q.notify_seconds,
                  q.routing_mode = 'push' AS "push!",
                  CASE WHEN NOT queue_open(q.id, now()) THEN queue_next_open(q.id, now()) END AS opens_at,
                  extract(epoch FROM queue_closes(q.id, now()) - now())::float8 AS closes_in,
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
    // Per channel: the seats; the decayed sums of services ended and time
    // busy (ended services, and the time so far of those going on); of
    // customers who left unserved and time waited (by those served, those
    // who left, and those waiting now); when service last started and how
    // long the longest waiting has waited.
    let channels = sqlx::query!(
        r#"SELECT c.channel AS "channel!: Channel",
                  seats.seats AS "seats!", seats.free AS "free!",
                  ARRAY(SELECT extract(epoch FROM completed_at - answered_at)::float8 FROM help_sessions
                         WHERE queue_id = $1 AND channel = c.channel AND status = 'completed'
                           AND answered_at IS NOT NULL AND completed_at > now() - interval '7 days'
                         ORDER BY completed_at DESC LIMIT $5) AS "handles!",
                  done.services AS "services!", done.busy + live.busy AS "busy_seconds!",
                  gone.abandons AS "abandons!", gone.waited + served.waited + waiting.waited AS "waited_seconds!",
                  extract(epoch FROM now() - served.last_start)::float8 AS since_service,
                  waiting.longest AS "longest_wait!"
             FROM unnest($2::text[]) AS c(channel),
                  LATERAL (SELECT coalesce(sum(least(a.max_live, a.max_sessions)::float8 / share.queues), 0)::float8 AS seats,
                                  coalesce(sum(greatest(least(a.max_live - a.live, a.max_sessions - a.sessions), 0)::float8
                                               / share.queues), 0)::float8 AS free
                             FROM queue_members m
                             JOIN agent_states s ON s.representative_id = m.representative_id AND s.state = 'READY'
                             JOIN agent_channels a ON a.representative_id = m.representative_id AND a.channel = c.channel AND a.ready,
                                  LATERAL (SELECT count(*) AS queues FROM queue_members o
                                            WHERE o.representative_id = m.representative_id
                                              AND (o.queue_id = $1
                                                   OR EXISTS (SELECT 1 FROM queue_entries e
                                                               WHERE e.queue_id = o.queue_id AND e.channel = c.channel))) share
                            WHERE m.queue_id = $1) seats,
                  LATERAL (SELECT coalesce(sum(w), 0)::float8 AS services,
                                  coalesce(sum(w * extract(epoch FROM completed_at - answered_at)), 0)::float8 AS busy
                             FROM (SELECT exp(-extract(epoch FROM now() - completed_at) / $3::float8) AS w, completed_at, answered_at
                                     FROM help_sessions
                                    WHERE queue_id = $1 AND channel = c.channel AND status = 'completed'
                                      AND answered_at IS NOT NULL AND completed_at > now() - make_interval(secs => $4::float8)) d) done,
                  LATERAL (SELECT coalesce(sum(extract(epoch FROM now() - answered_at)), 0)::float8 AS busy
                             FROM help_sessions
                            WHERE queue_id = $1 AND channel = c.channel AND status IN ('active', 'on_hold', 'wrap_up')) live,
                  LATERAL (SELECT coalesce(sum(w), 0)::float8 AS abandons,
                                  coalesce(sum(w * extract(epoch FROM ended_at - entered_at)), 0)::float8 AS waited
                             FROM (SELECT exp(-extract(epoch FROM now() - ended_at) / $3::float8) AS w, ended_at, entered_at
                                     FROM help_sessions
                                    WHERE queue_id = $1 AND channel = c.channel AND answered_at IS NULL
                                      AND ended_at > now() - make_interval(secs => $4::float8)) d) gone,
                  LATERAL (SELECT coalesce(sum(w * extract(epoch FROM answered_at - entered_at)), 0)::float8 AS waited,
                                  max(answered_at) AS last_start
                             FROM (SELECT exp(-extract(epoch FROM now() - answered_at) / $3::float8) AS w, answered_at, entered_at
                                     FROM help_sessions
                                    WHERE queue_id = $1 AND channel = c.channel AND answered_at IS NOT NULL
                                      AND answered_at > now() - make_interval(secs => $4::float8)) d) served,
                  LATERAL (SELECT coalesce(sum(extract(epoch FROM now() - enqueued_at)), 0)::float8 AS waited,
                                  coalesce(max(extract(epoch FROM now() - enqueued_at)), 0)::float8 AS longest
                             FROM queue_entries WHERE queue_id = $1 AND channel = c.channel) waiting"#,
        queue.uuid(),
        &row.channels.iter().map(|channel| channel.as_str().to_owned()).collect::<Vec<_>>(),
        FORGET_SECONDS,
        MEASURED_SECONDS,
        RECENT_SERVICES as i64,
    )
    .fetch_all(pool)
    .await?;
    let channels = channels
        .into_iter()
        .map(|c| {
            let measured = Measured {
                services: c.services,
                busy_seconds: c.busy_seconds,
                abandons: c.abandons,
                waited_seconds: c.waited_seconds,
            };
            // Three services' time at the rate measured, and at least ten minutes.
            let long = f64::max(3.0 / (c.seats * measured.service_rate(handle_seconds(&c.handles))), STALLED_SECONDS);
            let stalled = c.longest_wait > long && c.since_service.is_none_or(|since| since > long);
            (c.channel, Staffing { seats: c.seats, free: c.free, handles: c.handles, measured, stalled })
        })
        .collect();
    Ok(Numbers {
        queue: row.name,
        ready: row.ready,
        logged_in: row.logged_in,
        nobody_message: row.nobody_message,
        push: row.push,
        channels,
        opens_at: row.opens_at.map(rfc3339),
        closes_in: row.closes_in,
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
    /// Every customer in the line.
    pub spots: HashMap<HelpSessionId, Spot>,
}

/// The queue's line now: one query for every position.
pub async fn line(pool: &PgPool, queue: QueueId) -> Result<Line, AppError> {
    let spots = sqlx::query!(
        r#"SELECT help_session_id AS "help_session: HelpSessionId",
                  row_number() OVER (ORDER BY priority DESC, enqueued_at, help_session_id) AS "position!",
                  row_number() OVER (PARTITION BY channel ORDER BY priority DESC, enqueued_at, help_session_id) - 1 AS "ahead!",
                  offered_to IS NOT NULL AS "offered!"
             FROM queue_entries WHERE queue_id = $1"#,
        queue.uuid()
    )
    .fetch_all(pool)
    .await?;
    Ok(Line {
        numbers: numbers(pool, queue).await?,
        spots: spots
            .into_iter()
            .map(|row| (row.help_session, Spot { position: row.position, ahead: row.ahead, offered: row.offered }))
            .collect(),
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
            let spot = sqlx::query!(
                r#"SELECT count(*) + 1 AS "position!", count(*) FILTER (WHERE e.channel = me.channel) AS "ahead!"
                     FROM queue_entries e, queue_entries me
                    WHERE me.help_session_id = $1 AND e.queue_id = me.queue_id
                      AND (e.priority > me.priority
                           OR (e.priority = me.priority
                               AND (e.enqueued_at, e.help_session_id) < (me.enqueued_at, me.help_session_id)))"#,
                help_session.uuid(),
            )
            .fetch_one(pool)
            .await?;
            let spot = Spot { position: spot.position, ahead: spot.ahead, offered: row.status == HelpStatus::Offered };
            let back = back(pool, help_session).await?;
            let numbers = numbers(pool, row.queue_id.into()).await?;
            let range = numbers.range(channel, spot);
            let waits = Waits {
                channel,
                phone: row.phone,
                callback_from: row.callback_from,
                callback_until: row.callback_until,
                notify: row.notify,
                email: row.email,
                not_before: row.not_before,
            };
            numbers.shown(channel, spot, range, back, place(pool, help_session, waits).await?)
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

/// The first range each waiting customer is given is kept with their help
/// session, to be scored against the wait they have (the dashboard's
/// "Estimate accuracy"); later ranges change nothing. The sweeper runs it
/// every second, so a customer's first view shows the range it keeps, and
/// reading a view never writes. Not estimated: customers who wait for a
/// later time (a callback window, a place kept until later) and customers
/// of a closed queue. Returns how many were recorded.
pub async fn record_first_estimates(pool: &PgPool) -> Result<u64, AppError> {
    let unestimated = sqlx::query!(
        r#"SELECT h.id AS "help_session: HelpSessionId", h.queue_id AS "queue: QueueId", h.channel AS "channel: Channel"
             FROM queue_entries e JOIN help_sessions h ON h.id = e.help_session_id
            WHERE h.estimated_at IS NULL AND h.callback_from IS NULL AND (e.not_before IS NULL OR e.not_before <= now())
            ORDER BY h.queue_id"#
    )
    .fetch_all(pool)
    .await?;
    let mut recorded = 0;
    for in_queue in unestimated.chunk_by(|a, b| a.queue == b.queue) {
        let line = line(pool, in_queue[0].queue).await?;
        if line.numbers.opens_at.is_some() {
            continue;
        }
        for customer in in_queue {
            let Some(range) = line.spots.get(&customer.help_session).and_then(|spot| line.numbers.range(customer.channel, *spot))
            else {
                continue;
            };
            recorded += sqlx::query!(
                "UPDATE help_sessions SET estimate_low = $2, estimate_high = $3, estimated_at = now()
                  WHERE id = $1 AND estimated_at IS NULL",
                customer.help_session.uuid(),
                range.low as f32,
                range.high as f32
            )
            .execute(pool)
            .await?
            .rows_affected();
        }
    }
    Ok(recorded)
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
