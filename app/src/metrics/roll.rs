//! The roller: reads the event log in order and adds what each event means
//! to the 15-minute buckets, in the same transaction that moves its mark.
//!
//! Every server runs it once a second; the mark's row is locked with SKIP
//! LOCKED, so one server rolls at a time and the others skip. What it knows
//! between events (each session's queue visit, each representative's state)
//! is in `metric_sessions` and `metric_agents`, so a restart or another
//! server picks up exactly where the last roll stopped.
//!
//! Only events older than every transaction still writing are read (the
//! horizon): an event not yet committed carries a time at or after its
//! transaction's start, so nothing can appear later behind the mark.

use std::collections::HashMap;

use sqlx::{PgPool, Postgres, Transaction};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::Figures;
use crate::conversation::roles::Role;
use crate::engine::events::{decode, About, Event, EventRow, Logged, TransferStage};
use crate::error::AppError;
use crate::states::{AgentState, CallbackOutcome};

/// Bucket length.
pub const BUCKET_SECONDS: i64 = 900;
/// Events read per transaction.
const BATCH: i64 = 10_000;
/// Memories of finished sessions are kept this long (for late ratings).
const KEEP_FINISHED_DAYS: i32 = 14;

/// A time kept as unix seconds (with their fraction).
fn from_unix(seconds: f64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9) as i128).ok()
}

/// The start of the bucket `at` falls in.
pub fn bucket_of(at: OffsetDateTime) -> OffsetDateTime {
    let into = at.unix_timestamp().rem_euclid(BUCKET_SECONDS);
    at - Duration::new(into, at.nanosecond() as i32)
}

/// Rolls every event up to the horizon; returns how many. Returns 0 at once
/// when another server is rolling.
pub async fn roll(pool: &PgPool, short_abandon_seconds: f64) -> Result<usize, AppError> {
    let mut total = 0;
    loop {
        let (rolled, more) = roll_batch(pool, short_abandon_seconds, BATCH).await?;
        total += rolled;
        if !more {
            return Ok(total);
        }
    }
}

#[derive(Clone)]
struct Visit {
    queue: Uuid,
    visit_at: OffsetDateTime,
    answered: bool,
    agent: Option<Uuid>,
    segment_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
    /// Colleagues taking part besides the owner, and when they joined.
    colleagues: HashMap<Uuid, OffsetDateTime>,
    /// When the customer asked to be called back in this visit.
    requested_at: Option<OffsetDateTime>,
}

impl Visit {
    /// A visit to `queue` from `at`, nobody answering yet.
    fn new(queue: Uuid, at: OffsetDateTime) -> Self {
        Self {
            queue,
            visit_at: at,
            answered: false,
            agent: None,
            segment_at: None,
            finished_at: None,
            colleagues: HashMap::new(),
            requested_at: None,
        }
    }
}

#[derive(Clone)]
struct Agent {
    state: AgentState,
    open: i32,
    counted_to: OffsetDateTime,
}

type Key = (OffsetDateTime, Uuid, Uuid);

#[derive(Default, Clone, Copy)]
struct Totals {
    offered: i64,
    answered: i64,
    abandoned: i64,
    rona: i64,
}

/// One transaction's work, in memory until written.
pub struct Batch {
    short_abandon: f64,
    thresholds: HashMap<Uuid, f64>,
    visits: HashMap<Uuid, Visit>,
    agents: HashMap<Uuid, Agent>,
    buckets: HashMap<Key, Figures>,
    totals: HashMap<Uuid, Totals>,
}

/// One transaction: at most `limit` events. Returns (events rolled, more
/// left). When none are left, representatives' time is counted up to the
/// horizon too.
pub async fn roll_batch(pool: &PgPool, short_abandon: f64, limit: i64) -> Result<(usize, bool), AppError> {
    let mut tx = pool.begin().await?;
    let Some(mark) =
        sqlx::query!("SELECT rolled_at, rolled_id FROM metric_roll FOR UPDATE SKIP LOCKED").fetch_optional(&mut *tx).await?
    else {
        return Ok((0, false));
    };
    let horizon = crate::engine::events::settled_before(&mut tx).await?;
    let events = decode(
        sqlx::query_as!(
            EventRow,
            "SELECT id, at, kind, help_session_id, queue_id, representative_id, detail FROM events
              WHERE at >= $1 AND (at, id) > ($1, $2) AND at < $3
              ORDER BY at, id LIMIT $4",
            mark.rolled_at,
            mark.rolled_id,
            horizon,
            limit
        )
        .fetch_all(&mut *tx)
        .await?,
    )?;
    let more = events.len() as i64 == limit;

    let mut batch = Batch::load(&mut tx, short_abandon, &events).await?;
    for event in &events {
        batch.apply(event);
    }
    if !more {
        batch.count_time_to(&mut tx, horizon).await?;
        sqlx::query!("DELETE FROM metric_sessions WHERE finished_at < now() - make_interval(days => $1)", KEEP_FINISHED_DAYS)
            .execute(&mut *tx)
            .await?;
    }
    batch.write(&mut tx).await?;
    if let Some(last) = events.last() {
        sqlx::query!("UPDATE metric_roll SET rolled_at = $1, rolled_id = $2", last.at, last.id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((events.len(), more))
}

impl Batch {
    /// What the roller remembers about the sessions and agents of these
    /// events, and every queue's service-level threshold.
    async fn load(tx: &mut Transaction<'_, Postgres>, short_abandon: f64, events: &[Logged]) -> Result<Self, AppError> {
        let mut sessions: Vec<Uuid> = events.iter().filter_map(|logged| logged.about.help_session.map(|s| s.uuid())).collect();
        sessions.sort();
        sessions.dedup();
        let mut agents: Vec<Uuid> = events.iter().filter_map(|logged| logged.about.agent.map(|a| a.uuid())).collect();
        agents.sort();
        agents.dedup();
        let thresholds = sqlx::query!("SELECT id, service_level_seconds FROM queues")
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|row| (row.id, f64::from(row.service_level_seconds)))
            .collect();
        let visits = sqlx::query!(
            r#"SELECT help_session_id, queue_id, visit_at, answered, agent_id, segment_at, finished_at, requested_at,
                      colleagues AS "colleagues: sqlx::types::Json<HashMap<Uuid, f64>>"
                 FROM metric_sessions WHERE help_session_id = ANY($1)"#,
            &sessions
        )
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|row| {
            let visit = Visit {
                queue: row.queue_id,
                visit_at: row.visit_at,
                answered: row.answered,
                agent: row.agent_id,
                segment_at: row.segment_at,
                finished_at: row.finished_at,
                colleagues: row.colleagues.0.into_iter().filter_map(|(agent, at)| Some((agent, from_unix(at)?))).collect(),
                requested_at: row.requested_at,
            };
            (row.help_session_id, visit)
        })
        .collect();
        let agents = sqlx::query!(
            r#"SELECT representative_id, state AS "state: AgentState", open_sessions, counted_to FROM metric_agents
                WHERE representative_id = ANY($1)"#,
            &agents
        )
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|row| (row.representative_id, Agent { state: row.state, open: row.open_sessions, counted_to: row.counted_to }))
        .collect();
        Ok(Self { thresholds, visits, agents, ..Self::new(short_abandon) })
    }

    /// A batch that remembers nothing yet.
    pub fn new(short_abandon: f64) -> Self {
        Self {
            short_abandon,
            thresholds: HashMap::new(),
            visits: HashMap::new(),
            agents: HashMap::new(),
            buckets: HashMap::new(),
            totals: HashMap::new(),
        }
    }

    fn threshold(&self, queue: Uuid) -> f64 {
        self.thresholds.get(&queue).copied().unwrap_or(20.0)
    }

    fn figures(&mut self, at: OffsetDateTime, queue: Uuid, agent: Option<Uuid>) -> &mut Figures {
        self.buckets.entry((bucket_of(at), queue, agent.unwrap_or(Uuid::nil()))).or_default()
    }

    fn totals(&mut self, queue: Uuid) -> &mut Totals {
        self.totals.entry(queue).or_default()
    }

    /// What one event means.
    pub fn apply(&mut self, logged: &Logged) {
        let at = logged.at;
        let About { help_session, queue, agent } = logged.about;
        let session = help_session.map(|s| s.uuid());
        let queue = queue.map(|q| q.uuid());
        let agent = agent.map(|a| a.uuid());
        match &logged.event {
            Event::AgentState { state, .. } => {
                let Some(agent) = agent else { return };
                let memo = self.count_time(agent, at);
                memo.state = *state;
                if *state == AgentState::LoggedOut {
                    memo.open = 0;
                }
            }
            Event::EnterQueue { .. } => {
                let (Some(session), Some(queue)) = (session, queue) else { return };
                self.start_visit(session, queue, at);
            }
            Event::Transfer { stage: TransferStage::Requested, warm: false, to_queue, .. } => {
                let Some(session) = session else { return };
                if let Some(agent) = agent {
                    self.close_segment(session, agent, at, true);
                }
                self.start_visit(session, to_queue.uuid(), at);
            }
            // The named representative's CONNECT, or the customer back in
            // the line of the visit already begun; a warm transfer's parts
            // are their PARTICIPANT_LEAVE and PARTICIPANT_JOIN as owner.
            Event::Transfer { .. } => {}
            Event::Connect { .. } => {
                let (Some(session), Some(agent)) = (session, agent) else { return };
                let visit = self.visits.entry(session).or_insert_with(|| Visit::new(queue.unwrap_or(Uuid::nil()), at));
                let first = !visit.answered;
                visit.answered = true;
                visit.agent = Some(agent);
                visit.segment_at = Some(at);
                let (queue, visit_at) = (visit.queue, visit.visit_at);
                if first {
                    let wait = seconds_between(visit_at, at);
                    let in_sl = wait <= self.threshold(queue);
                    let figures = self.figures(visit_at, queue, Some(agent));
                    figures.answered += 1;
                    figures.wait_seconds += wait;
                    figures.answered_in_sl += i64::from(in_sl);
                    self.totals(queue).answered += 1;
                }
                self.count_time(agent, at).open += 1;
            }
            Event::WrapUpDone { .. } => {
                let (Some(session), Some(agent)) = (session, agent) else { return };
                // A part wrapped up after a transfer belongs to a visit
                // already closed; the session goes on in its new one. A
                // colleague's part there to the end closes here.
                if self.close_segment(session, agent, at, true) {
                    if let Some(visit) = self.visits.get_mut(&session) {
                        visit.finished_at = Some(at);
                    }
                } else {
                    self.close_colleague(session, agent, at, true);
                }
            }
            Event::Requeue { talking, .. } => {
                if let (true, Some(session), Some(agent)) = (*talking, session, agent) {
                    self.close_segment(session, agent, at, false);
                }
            }
            Event::Rona {} => {
                let (Some(session), Some(agent)) = (session, agent) else { return };
                let Some(visit) = self.visits.get(&session).cloned() else { return };
                self.figures(visit.visit_at, visit.queue, Some(agent)).rona += 1;
                self.totals(visit.queue).rona += 1;
            }
            Event::Abandon {} | Event::Cancel {} | Event::Expire {} => {
                let expired = matches!(logged.event, Event::Expire {});
                let Some(session) = session else { return };
                let Some(visit) = self.visits.get_mut(&session) else { return };
                visit.finished_at = Some(at);
                if visit.answered {
                    return;
                }
                let (queue, visit_at) = (visit.queue, visit.visit_at);
                let wait = seconds_between(visit_at, at);
                let threshold = self.threshold(queue);
                let short = self.short_abandon;
                let figures = self.figures(visit_at, queue, None);
                if expired {
                    figures.expired += 1;
                } else if wait <= short {
                    figures.short_abandoned += 1;
                } else {
                    figures.abandoned += 1;
                    figures.abandoned_after_sl += i64::from(wait > threshold);
                }
                if !expired {
                    self.totals(queue).abandoned += 1;
                }
            }
            Event::Rated { rating } => {
                let Some(session) = session else { return };
                let (visit_queue, visit_at) = match self.visits.get(&session) {
                    Some(visit) => (visit.queue, visit.visit_at),
                    None => (queue.unwrap_or(Uuid::nil()), at),
                };
                let figures = self.figures(visit_at, queue.unwrap_or(visit_queue), agent);
                figures.ratings += 1;
                figures.rating_sum += i64::from(*rating);
            }
            // Each representative's part counts as handled: a part that
            // leaves a conversation going on ends there (not handled when
            // their desk was lost); one there to the end ends at its
            // wrap-up.
            Event::ParticipantLeave { role, lost } => {
                let (Some(session), Some(agent)) = (session, agent) else { return };
                if *role == Role::Agent {
                    self.close_segment(session, agent, at, !lost);
                } else {
                    self.close_colleague(session, agent, at, !lost);
                }
            }
            // A colleague who becomes the owner goes on with the part they
            // began when they joined.
            Event::ParticipantJoin { role: Role::Agent } => {
                let (Some(session), Some(agent)) = (session, agent) else { return };
                let Some(visit) = self.visits.get_mut(&session) else { return };
                let joined = visit.colleagues.remove(&agent);
                visit.agent = Some(agent);
                visit.segment_at = Some(joined.unwrap_or(at));
                if joined.is_none() {
                    self.count_time(agent, at).open += 1;
                }
            }
            Event::ParticipantJoin { role: Role::Conference | Role::Consult } => {
                let (Some(session), Some(agent)) = (session, agent) else { return };
                let Some(visit) = self.visits.get_mut(&session) else { return };
                visit.colleagues.insert(agent, at);
                self.count_time(agent, at).open += 1;
            }
            // Requests to join count nothing; the customer joins by CONNECT.
            Event::ParticipantJoin { role: Role::Customer | Role::Monitor | Role::Whisper | Role::Barge }
            | Event::Conference { .. } => {}
            // Hold is part of handle time, and the representative's part
            // goes on through wrap-up; offers and declines count nothing;
            // a channel switch changes no state.
            Event::Offer {}
            | Event::Decline {}
            | Event::Hold { .. }
            | Event::Resume {}
            | Event::EndByAgent {}
            | Event::EndByCustomer {}
            | Event::AgentChannel { .. }
            | Event::SuperviseStart { .. }
            | Event::SuperviseMode { .. }
            | Event::SuperviseStop { .. }
            | Event::Switched { .. } => {}
            // A callback counts in its visit's bucket: requested; each call
            // made (by the representative who made it); reached, with the
            // time from the request. A call that did not reach the customer
            // ends the representative's part, not handled.
            Event::CallbackRequested {} => {
                let Some(session) = session else { return };
                let Some(visit) = self.visits.get_mut(&session) else { return };
                visit.requested_at = Some(at);
                let (queue, visit_at) = (visit.queue, visit.visit_at);
                self.figures(visit_at, queue, None).callbacks_requested += 1;
            }
            Event::CallbackAttempt { outcome, ends, .. } => {
                let (Some(session), Some(agent)) = (session, agent) else { return };
                let Some(visit) = self.visits.get(&session).cloned() else { return };
                let figures = self.figures(visit.visit_at, visit.queue, Some(agent));
                figures.callback_attempts += 1;
                if *outcome == CallbackOutcome::Reached {
                    figures.callbacks_reached += 1;
                    figures.reach_seconds += seconds_between(visit.requested_at.unwrap_or(visit.visit_at), at);
                } else {
                    self.close_segment(session, agent, at, false);
                    if *ends {
                        if let Some(visit) = self.visits.get_mut(&session) {
                            visit.finished_at = Some(at);
                        }
                    }
                }
            }
        }
    }

    /// A new visit to a queue (entered, or transferred in): offered there.
    fn start_visit(&mut self, session: Uuid, queue: Uuid, at: OffsetDateTime) {
        self.visits.insert(session, Visit::new(queue, at));
        self.figures(at, queue, None).offered += 1;
        self.totals(queue).offered += 1;
    }

    /// `agent`'s part of a session ends: handled (with its handle time)
    /// after wrap-up or a transfer; not when they were lost mid-talk.
    /// False when the session's current part is not theirs.
    fn close_segment(&mut self, session: Uuid, agent: Uuid, at: OffsetDateTime, handled: bool) -> bool {
        let Some(visit) = self.visits.get_mut(&session) else { return false };
        if visit.agent != Some(agent) {
            return false;
        }
        let (Some(agent), Some(segment_at)) = (visit.agent.take(), visit.segment_at.take()) else { return false };
        let (queue, visit_at) = (visit.queue, visit.visit_at);
        self.end_part(queue, visit_at, agent, segment_at..at, handled);
        true
    }

    /// A colleague's part (conference or consult) ends: handled (with its
    /// handle time) unless their desk was lost.
    fn close_colleague(&mut self, session: Uuid, agent: Uuid, at: OffsetDateTime, handled: bool) {
        let Some(visit) = self.visits.get_mut(&session) else { return };
        let Some(joined) = visit.colleagues.remove(&agent) else { return };
        let (queue, visit_at) = (visit.queue, visit.visit_at);
        self.end_part(queue, visit_at, agent, joined..at, handled);
    }

    /// Counts a part that lasted `part` as handled (or not) in the visit's
    /// bucket, and the representative as handling one session fewer.
    fn end_part(
        &mut self,
        queue: Uuid,
        visit_at: OffsetDateTime,
        agent: Uuid,
        part: std::ops::Range<OffsetDateTime>,
        handled: bool,
    ) {
        if handled {
            let figures = self.figures(visit_at, queue, Some(agent));
            figures.handled += 1;
            figures.handle_seconds += seconds_between(part.start, part.end);
        }
        let memo = self.count_time(agent, part.end);
        memo.open = (memo.open - 1).max(0);
    }

    /// Counts the agent's time up to `at` as it was spent (handling, READY
    /// idle, NOT_READY; logged out is not counted), cut at bucket edges.
    /// Returns their memory.
    fn count_time(&mut self, agent: Uuid, at: OffsetDateTime) -> &mut Agent {
        let Self { agents, buckets, .. } = self;
        let memo = agents.entry(agent).or_insert_with(|| Agent { state: AgentState::LoggedOut, open: 0, counted_to: at });
        // An event written just before a roll counted past it: it happened
        // at the end of what is counted.
        let to = at.max(memo.counted_to);
        let handling = memo.open > 0;
        let idle = !handling && memo.state == AgentState::Ready;
        let not_ready = !handling && memo.state == AgentState::NotReady;
        let mut from = memo.counted_to;
        memo.counted_to = to;
        if handling || idle || not_ready {
            while from < to {
                let bucket = bucket_of(from);
                let end = to.min(bucket + Duration::seconds(BUCKET_SECONDS));
                let spent = seconds_between(from, end);
                let figures = buckets.entry((bucket, Uuid::nil(), agent)).or_default();
                if handling {
                    figures.handling_seconds += spent;
                } else if idle {
                    figures.ready_idle_seconds += spent;
                } else {
                    figures.not_ready_seconds += spent;
                }
                from = end;
            }
        }
        memo
    }

    /// Caught up: every representative who is signed in has their time
    /// counted to the horizon, so today's figures are current.
    async fn count_time_to(&mut self, tx: &mut Transaction<'_, Postgres>, horizon: OffsetDateTime) -> Result<(), AppError> {
        let open = sqlx::query!(
            r#"SELECT representative_id, state AS "state: AgentState", open_sessions, counted_to FROM metric_agents
                WHERE counted_to < $1 AND (open_sessions > 0 OR state <> 'LOGGED_OUT')"#,
            horizon
        )
        .fetch_all(&mut **tx)
        .await?;
        for row in open {
            self.agents.entry(row.representative_id).or_insert(Agent {
                state: row.state,
                open: row.open_sessions,
                counted_to: row.counted_to,
            });
        }
        let agents: Vec<Uuid> = self.agents.keys().copied().collect();
        for agent in agents {
            self.count_time(agent, horizon);
        }
        Ok(())
    }

    async fn write(self, tx: &mut Transaction<'_, Postgres>) -> Result<(), AppError> {
        if self.buckets.is_empty() && self.visits.is_empty() && self.agents.is_empty() {
            // Nothing happened and nobody's time runs: an idle second.
            return Ok(());
        }
        let mut keys = (Vec::new(), Vec::new(), Vec::new());
        let mut counts: [Vec<i32>; 14] = Default::default();
        let mut times: [Vec<f64>; 6] = Default::default();
        for ((bucket, queue, agent), f) in &self.buckets {
            keys.0.push(*bucket);
            keys.1.push(*queue);
            keys.2.push(*agent);
            let values = [
                f.offered,
                f.answered,
                f.answered_in_sl,
                f.abandoned,
                f.abandoned_after_sl,
                f.short_abandoned,
                f.expired,
                f.rona,
                f.handled,
                f.ratings,
                f.rating_sum,
                f.callbacks_requested,
                f.callback_attempts,
                f.callbacks_reached,
            ];
            for (column, value) in counts.iter_mut().zip(values) {
                // Within one batch of at most BATCH events.
                column.push(i32::try_from(value).unwrap_or(i32::MAX));
            }
            let times_of = [
                f.wait_seconds,
                f.handle_seconds,
                f.handling_seconds,
                f.ready_idle_seconds,
                f.not_ready_seconds,
                f.reach_seconds,
            ];
            for (column, value) in times.iter_mut().zip(times_of) {
                column.push(value);
            }
        }
        let [offered, answered, answered_in_sl, abandoned, abandoned_after_sl, short_abandoned, expired, rona, handled, ratings, rating_sum, callbacks_requested, callback_attempts, callbacks_reached] =
            counts;
        let [wait_seconds, handle_seconds, handling_seconds, ready_idle_seconds, not_ready_seconds, reach_seconds] = times;
        sqlx::query!(
            "INSERT INTO metric_buckets AS b (bucket, queue_id, representative_id, offered, answered, answered_in_sl,
                    abandoned, abandoned_after_sl, short_abandoned, expired, rona, handled, ratings, rating_sum,
                    wait_seconds, handle_seconds, handling_seconds, ready_idle_seconds, not_ready_seconds,
                    callbacks_requested, callback_attempts, callbacks_reached, reach_seconds)
             SELECT * FROM UNNEST($1::timestamptz[], $2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::int[], $7::int[],
                    $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::int[], $14::int[],
                    $15::float8[], $16::float8[], $17::float8[], $18::float8[], $19::float8[],
                    $20::int[], $21::int[], $22::int[], $23::float8[])
             ON CONFLICT (bucket, queue_id, representative_id) DO UPDATE SET
                offered = b.offered + EXCLUDED.offered,
                answered = b.answered + EXCLUDED.answered,
                answered_in_sl = b.answered_in_sl + EXCLUDED.answered_in_sl,
                abandoned = b.abandoned + EXCLUDED.abandoned,
                abandoned_after_sl = b.abandoned_after_sl + EXCLUDED.abandoned_after_sl,
                short_abandoned = b.short_abandoned + EXCLUDED.short_abandoned,
                expired = b.expired + EXCLUDED.expired,
                rona = b.rona + EXCLUDED.rona,
                handled = b.handled + EXCLUDED.handled,
                ratings = b.ratings + EXCLUDED.ratings,
                rating_sum = b.rating_sum + EXCLUDED.rating_sum,
                wait_seconds = b.wait_seconds + EXCLUDED.wait_seconds,
                handle_seconds = b.handle_seconds + EXCLUDED.handle_seconds,
                handling_seconds = b.handling_seconds + EXCLUDED.handling_seconds,
                ready_idle_seconds = b.ready_idle_seconds + EXCLUDED.ready_idle_seconds,
                not_ready_seconds = b.not_ready_seconds + EXCLUDED.not_ready_seconds,
                callbacks_requested = b.callbacks_requested + EXCLUDED.callbacks_requested,
                callback_attempts = b.callback_attempts + EXCLUDED.callback_attempts,
                callbacks_reached = b.callbacks_reached + EXCLUDED.callbacks_reached,
                reach_seconds = b.reach_seconds + EXCLUDED.reach_seconds",
            &keys.0,
            &keys.1,
            &keys.2,
            &offered,
            &answered,
            &answered_in_sl,
            &abandoned,
            &abandoned_after_sl,
            &short_abandoned,
            &expired,
            &rona,
            &handled,
            &ratings,
            &rating_sum,
            &wait_seconds,
            &handle_seconds,
            &handling_seconds,
            &ready_idle_seconds,
            &not_ready_seconds,
            &callbacks_requested,
            &callback_attempts,
            &callbacks_reached,
            &reach_seconds
        )
        .execute(&mut **tx)
        .await?;

        let (mut ids, mut queues, mut visit_ats, mut answered, mut agents, mut segment_ats, mut finished_ats) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut requested_ats = Vec::new();
        let mut colleagues = Vec::new();
        for (id, visit) in &self.visits {
            let joined: HashMap<Uuid, f64> =
                visit.colleagues.iter().map(|(agent, at)| (*agent, at.unix_timestamp_nanos() as f64 / 1e9)).collect();
            colleagues.push(sqlx::types::Json(joined));
            ids.push(*id);
            queues.push(visit.queue);
            visit_ats.push(visit.visit_at);
            answered.push(visit.answered);
            agents.push(visit.agent);
            segment_ats.push(visit.segment_at);
            finished_ats.push(visit.finished_at);
            requested_ats.push(visit.requested_at);
        }
        sqlx::query!(
            "INSERT INTO metric_sessions AS s (help_session_id, queue_id, visit_at, answered, agent_id, segment_at, finished_at,
                    colleagues, requested_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::bool[], $5::uuid[], $6::timestamptz[], $7::timestamptz[],
                    $8::jsonb[], $9::timestamptz[])
             ON CONFLICT (help_session_id) DO UPDATE SET
                queue_id = EXCLUDED.queue_id, visit_at = EXCLUDED.visit_at, answered = EXCLUDED.answered,
                agent_id = EXCLUDED.agent_id, segment_at = EXCLUDED.segment_at, finished_at = EXCLUDED.finished_at,
                colleagues = EXCLUDED.colleagues, requested_at = EXCLUDED.requested_at",
            &ids,
            &queues,
            &visit_ats,
            &answered,
            &agents as &[Option<Uuid>],
            &segment_ats as &[Option<OffsetDateTime>],
            &finished_ats as &[Option<OffsetDateTime>],
            &colleagues as &[sqlx::types::Json<HashMap<Uuid, f64>>],
            &requested_ats as &[Option<OffsetDateTime>]
        )
        .execute(&mut **tx)
        .await?;

        let (mut ids, mut states, mut opens, mut counted) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (id, agent) in self.agents {
            ids.push(id);
            states.push(agent.state.as_str());
            opens.push(agent.open);
            counted.push(agent.counted_to);
        }
        sqlx::query!(
            "INSERT INTO metric_agents AS a (representative_id, state, open_sessions, counted_to)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int[], $4::timestamptz[])
             ON CONFLICT (representative_id) DO UPDATE SET
                state = EXCLUDED.state, open_sessions = EXCLUDED.open_sessions, counted_to = EXCLUDED.counted_to",
            &ids,
            &states as &[&str],
            &opens,
            &counted
        )
        .execute(&mut **tx)
        .await?;

        let (mut queues, mut offered, mut answered, mut abandoned, mut rona) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (queue, totals) in self.totals {
            queues.push(queue);
            offered.push(totals.offered);
            answered.push(totals.answered);
            abandoned.push(totals.abandoned);
            rona.push(totals.rona);
        }
        sqlx::query!(
            "INSERT INTO metric_totals AS t (queue_id, offered, answered, abandoned, rona)
             SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
             ON CONFLICT (queue_id) DO UPDATE SET
                offered = t.offered + EXCLUDED.offered, answered = t.answered + EXCLUDED.answered,
                abandoned = t.abandoned + EXCLUDED.abandoned, rona = t.rona + EXCLUDED.rona",
            &queues,
            &offered,
            &answered,
            &abandoned,
            &rona
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

fn seconds_between(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    (to - from).as_seconds_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{Channel, RoutingMode};
    use crate::states::{AgentId, HelpSessionId, QueueId};
    use time::macros::datetime;

    /// Applies events, numbered in order, to a batch that remembers nothing.
    fn rolled(events: Vec<(OffsetDateTime, About, Event)>) -> Batch {
        let mut batch = Batch::new(5.0);
        for (n, (at, about, event)) in events.into_iter().enumerate() {
            batch.apply(&Logged { id: n as i64 + 1, at, about, event });
        }
        batch
    }

    #[test]
    fn each_event_adds_its_meaning_to_the_quarter_hours() {
        let (queue, agent) = (QueueId(Uuid::from_u128(1)), AgentId(Uuid::from_u128(2)));
        let (served, left) = (HelpSessionId(Uuid::from_u128(3)), HelpSessionId(Uuid::from_u128(4)));
        let ready = Event::AgentState { state: AgentState::Ready, reason: None };
        let batch = rolled(vec![
            (datetime!(2026-03-10 08:59 UTC), About::agent(agent), ready),
            // Waits 10 s (inside the default 20 s), talks and wraps up for 300 s, rates 4.
            (
                datetime!(2026-03-10 09:00:00 UTC),
                About::help_session(served, queue),
                Event::EnterQueue { channel: Channel::Chat, priority: 0 },
            ),
            (datetime!(2026-03-10 09:00:01 UTC), About::help_session(served, queue).by(agent), Event::Offer {}),
            (
                datetime!(2026-03-10 09:00:10 UTC),
                About::help_session(served, queue).by(agent),
                Event::Connect { mode: RoutingMode::Push },
            ),
            (datetime!(2026-03-10 09:04:10 UTC), About::help_session(served, queue).by(agent), Event::EndByCustomer {}),
            (
                datetime!(2026-03-10 09:05:10 UTC),
                About::help_session(served, queue).by(agent),
                Event::WrapUpDone { disposition: "Resolved".into() },
            ),
            (datetime!(2026-03-10 09:06:00 UTC), About::help_session(served, queue).by(agent), Event::Rated { rating: 4 }),
            // Leaves after 30 s: abandoned, after the threshold.
            (
                datetime!(2026-03-10 09:20:00 UTC),
                About::help_session(left, queue),
                Event::EnterQueue { channel: Channel::Chat, priority: 0 },
            ),
            (datetime!(2026-03-10 09:20:30 UTC), About::help_session(left, queue), Event::Cancel {}),
            // A channel switch changes nothing; logging out ends the READY time.
            (datetime!(2026-03-10 09:25 UTC), About::agent(agent), Event::AgentChannel { channel: Channel::Chat, ready: false }),
            (
                datetime!(2026-03-10 09:30 UTC),
                About::agent(agent),
                Event::AgentState { state: AgentState::LoggedOut, reason: None },
            ),
        ]);
        let (q, a, nil) = (queue.uuid(), agent.uuid(), Uuid::nil());
        let at = |hour, minute| datetime!(2026-03-10 00:00 UTC) + Duration::hours(hour) + Duration::minutes(minute);
        let served_figures = &batch.buckets[&(at(9, 0), q, a)];
        assert_eq!((served_figures.answered, served_figures.answered_in_sl, served_figures.wait_seconds), (1, 1, 10.0));
        assert_eq!((served_figures.handled, served_figures.handle_seconds), (1, 300.0));
        assert_eq!((served_figures.ratings, served_figures.rating_sum), (1, 4));
        let offered_first = &batch.buckets[&(at(9, 0), q, nil)];
        assert_eq!(offered_first.offered, 1);
        let left_figures = &batch.buckets[&(at(9, 15), q, nil)];
        assert_eq!((left_figures.offered, left_figures.abandoned, left_figures.abandoned_after_sl), (1, 1, 1));
        // READY from 08:59: idle 60 s before 09:00, then 10 s; handling
        // 09:00:10-09:05:10; idle again until 09:30, cut at 09:15.
        let time = |hour, minute| {
            let f = &batch.buckets[&(at(hour, minute), nil, a)];
            (f.ready_idle_seconds, f.handling_seconds)
        };
        assert_eq!(time(8, 45), (60.0, 0.0));
        assert_eq!(time(9, 0), (10.0 + 590.0, 300.0));
        assert_eq!(time(9, 15), (900.0, 0.0));
        assert!(!batch.buckets.contains_key(&(at(9, 30), nil, a)), "logged out: no time counted");
        assert_eq!(batch.totals[&q].offered, 2);
        assert_eq!((batch.totals[&q].answered, batch.totals[&q].abandoned), (1, 1));
    }

    #[test]
    fn buckets_start_on_the_quarter_hour() {
        assert_eq!(bucket_of(datetime!(2026-03-10 09:14:59.9 UTC)), datetime!(2026-03-10 09:00 UTC));
        assert_eq!(bucket_of(datetime!(2026-03-10 09:15 UTC)), datetime!(2026-03-10 09:15 UTC));
        assert_eq!(bucket_of(datetime!(1969-12-31 23:59:59 UTC)), datetime!(1969-12-31 23:45 UTC));
    }
}
