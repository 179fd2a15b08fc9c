//! The append-only event log, typed, and the wake-up call to every server.
//!
//! Every transition appends its events inside its own transaction, as
//! [`Event`] values: the variant is the `kind` column, its fields the
//! `detail` JSON. The metrics roller reads them back as the same type, so a
//! renamed field is a compile error, not a figure that silently counts zero.
//!
//! The wake-up (a NOTIFY on [`NOTIFY_CHANNEL`]) is sent only after the
//! transaction has committed, by one background sender per engine, many
//! notices to a statement: a NOTIFY inside a transaction holds PostgreSQL's
//! global notification lock through the commit's disk flush, which would
//! make every transition in every server wait in one line. Sending after the
//! commit means a server that dies between the two loses the wake-up (never
//! the state): the sweeper's once-a-second pass makes any missed offer, and
//! pages refresh on their own at least every 15 s. The notices always come
//! from the events the transaction wrote (for the SQL functions, the event
//! rows they return), never rebuilt by hand.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::error::AppError;
use crate::queue::{Channel, RoutingMode};
use crate::roles::Role;
use crate::states::{AgentId, AgentState, HelpSessionId, QueueId};

/// The channel servers LISTEN on.
pub const NOTIFY_CHANNEL: &str = "switchboard";

/// At most this many notices go in one NOTIFY statement.
const BATCH: usize = 500;
/// How long the sender waits for more notices to send with the first: at a
/// few thousand matches a second, one wake-up statement per notice or two
/// cost "Next customer" about a tenth of its rate (README, "Benchmark").
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);
/// A batch of wake-ups is tried this many times, on a new connection each
/// time after a failure, waiting this long before reconnecting.
const SEND_ATTEMPTS: u32 = 3;
const RECONNECT_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Every event stamped before this moment is committed (or rolled back):
/// the start of the oldest transaction still writing, or now. A reader that
/// goes through the log in `(at, id)` order stops here, so an event
/// committed late never lands behind where it has read to.
pub async fn settled_before(conn: &mut PgConnection) -> Result<OffsetDateTime, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT least(clock_timestamp(), min(xact_start)) AS "horizon!"
             FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND datname = current_database()"#
    )
    .fetch_one(conn)
    .await?)
}

/// What happened. Stored as `events.kind` (the variant's name, as in
/// [`EventKind`]) and `events.detail` (its fields). Variants without
/// details are written `{}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(tag = "kind", content = "detail", rename_all = "SCREAMING_SNAKE_CASE")]
#[strum_discriminants(
    name(EventKind),
    derive(Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString),
    serde(rename_all = "SCREAMING_SNAKE_CASE"),
    strum(serialize_all = "SCREAMING_SNAKE_CASE")
)]
pub enum Event {
    /// A customer joined the line (or was put in it through the API).
    EnterQueue {
        channel: Channel,
        priority: i32,
    },
    /// A customer was reserved for one agent (push), until accept, decline
    /// or the RONA deadline.
    Offer {},
    /// An agent took the customer: accepted an offer (push) or pressed
    /// "Next customer" (pull).
    Connect {
        mode: RoutingMode,
    },
    /// The agent said no; the customer keeps their place.
    Decline {},
    /// The offer's no-answer timer ran out; the customer keeps their place.
    Rona {},
    /// The agent was lost or logged out: their customer is back at the
    /// front of the line. `talking`: they were in conversation, not offered.
    Requeue {
        reason: String,
        #[serde(default)]
        talking: bool,
    },
    /// Media stops both ways. `switched_to`: held because the agent resumed
    /// this other customer.
    Hold {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        switched_to: Option<HelpSessionId>,
    },
    Resume {},
    EndByAgent {},
    EndByCustomer {},
    /// The agent's part is done (recorded, or their wrap-up time ran out:
    /// then the disposition is empty).
    WrapUpDone {
        disposition: String,
    },
    /// The customer's 1-5 stars.
    Rated {
        rating: i16,
    },
    /// The customer left the line ("Leave queue", or the API).
    Cancel {},
    /// The customer's page was gone past the grace period while in line.
    Abandon {},
    /// Taken out of the line at the queue's maximum wait.
    Expire {},
    /// A transfer's course. `Requested`: the asking representative's part
    /// ended and the customer waits in `to_queue`'s line (offered to
    /// `to_agent` alone when one was named); then, for a named
    /// representative, `Accepted`, or `Failed` with the reason (the
    /// customer waits in `to_queue`'s line for anyone). Logged about the
    /// representative who asked.
    Transfer {
        stage: TransferStage,
        /// A warm transfer: the colleague consults with the asker while the
        /// customer waits on hold, then `Completed` or `Cancelled`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        warm: bool,
        to_queue: QueueId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_agent: Option<AgentId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A colleague asked to join the conversation ("Add a colleague"):
    /// `Requested` (offered to `to_agent`, named or picked from
    /// `to_queue`), then `Accepted` or `Failed` with the reason. Logged
    /// about the representative who asked.
    Conference {
        stage: TransferStage,
        to_agent: AgentId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_queue: Option<QueueId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A representative joined a conversation in progress with a role (a
    /// colleague accepting, or one becoming its owner when the owner left).
    /// The owner's first join is their CONNECT.
    ParticipantJoin {
        role: Role,
    },
    /// A representative left a conversation that goes on without them.
    /// `lost`: their desk was gone (no wrap-up follows).
    ParticipantLeave {
        role: Role,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        lost: bool,
    },
    /// A supervisor joined a live conversation as monitor, whisper or
    /// barge (logged about the supervisor).
    SuperviseStart {
        role: Role,
    },
    /// A supervisor in the conversation switched to another mode.
    SuperviseMode {
        role: Role,
    },
    /// A supervisor's part in the conversation ended, and why.
    SuperviseStop {
        why: Stopped,
    },
    /// A customer asked to be called back (entering the line, or
    /// switching to it while waiting).
    CallbackRequested {},
    /// A representative called the customer back: the attempt's number
    /// (1 = first) and how it went.
    CallbackAttempt {
        attempt: i32,
        outcome: crate::states::CallbackOutcome,
        /// The callback ended with this call (its last attempt, or a wrong
        /// number).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ends: bool,
    },
    /// A waiting customer changed how they will be served (keeping their
    /// place): a channel, and whether they keep it with the page closed.
    Switched {
        channel: Channel,
        notify: bool,
    },
    /// The agent's state changed.
    AgentState {
        state: AgentState,
        reason: Option<String>,
    },
    /// One of the agent's channels was switched on or off.
    AgentChannel {
        channel: Channel,
        ready: bool,
    },
}

/// Where a transfer or a request to join stands (see [`Event::Transfer`],
/// [`Event::Conference`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStage {
    Requested,
    Accepted,
    Failed,
    /// A warm transfer: the colleague took the customer over.
    Completed,
    /// A warm transfer: the asker took the customer back.
    Cancelled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        EventKind::from(self)
    }

    /// The `kind` and `detail` columns, as the log stores the event.
    pub fn columns(&self) -> (&'static str, serde_json::Value) {
        (self.kind().as_str(), self.detail())
    }

    /// The `detail` column.
    fn detail(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut tagged)) => tagged.remove("detail").unwrap_or_else(|| serde_json::json!({})),
            _ => serde_json::json!({}),
        }
    }

    /// Reads an event back from its two columns.
    pub fn from_columns(kind: &str, detail: serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "detail": detail }))
    }
}

/// Whom an event is about: the columns beside its kind and detail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct About {
    pub help_session: Option<HelpSessionId>,
    pub queue: Option<QueueId>,
    pub agent: Option<AgentId>,
}

impl About {
    /// A help session in its queue.
    pub fn help_session(help_session: HelpSessionId, queue: QueueId) -> Self {
        Self { help_session: Some(help_session), queue: Some(queue), agent: None }
    }

    /// An agent, about nobody else.
    pub fn agent(agent: AgentId) -> Self {
        Self { agent: Some(agent), ..Self::default() }
    }

    /// The same, with the agent concerned.
    pub fn by(self, agent: impl Into<Option<AgentId>>) -> Self {
        Self { agent: agent.into(), ..self }
    }
}

/// An event as the log holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub id: i64,
    pub at: OffsetDateTime,
    pub about: About,
    pub event: Event,
}

/// A row of `events` as read (the SQL functions return theirs).
#[derive(Debug)]
pub struct EventRow {
    pub id: i64,
    pub at: OffsetDateTime,
    pub kind: String,
    pub help_session_id: Option<Uuid>,
    pub queue_id: Option<Uuid>,
    pub representative_id: Option<Uuid>,
    pub detail: serde_json::Value,
}

impl TryFrom<EventRow> for Logged {
    type Error = AppError;

    fn try_from(row: EventRow) -> Result<Self, AppError> {
        let event = Event::from_columns(&row.kind, row.detail).map_err(|error| {
            tracing::error!(%error, id = row.id, kind = %row.kind, "an event in the log does not read as an Event");
            AppError::Internal
        })?;
        Ok(Logged {
            id: row.id,
            at: row.at,
            about: About {
                help_session: row.help_session_id.map(HelpSessionId),
                queue: row.queue_id.map(QueueId),
                agent: row.representative_id.map(AgentId),
            },
            event,
        })
    }
}

/// Decodes event rows; one that does not read is an internal error.
pub fn decode(rows: Vec<EventRow>) -> Result<Vec<Logged>, AppError> {
    rows.into_iter().map(Logged::try_from).collect()
}

/// What a wake-up is about: an event of the log, or a change that is not
/// one (a chat message, signaling, new metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Topic {
    Event(EventKind),
    Message,
    /// Signaling for a participant of a conversation.
    Signal,
    Metrics,
    /// A representative's access changed (disabled, role, password): their
    /// open pages check it again.
    Access,
    /// A representative's desk changed with no event about them (an offer
    /// to them withdrawn, a conversation they were in ended by another).
    Desk,
}

impl Topic {
    fn as_str(self) -> &'static str {
        match self {
            Topic::Event(kind) => kind.as_str(),
            Topic::Message => "MESSAGE",
            Topic::Signal => "SIGNAL",
            Topic::Metrics => "METRICS",
            Topic::Access => "ACCESS",
            Topic::Desk => "DESK",
        }
    }

    /// Only the pages of one conversation care (chat, signaling).
    pub fn conversation_only(self) -> bool {
        matches!(self, Topic::Message | Topic::Signal)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Topic> for String {
    fn from(topic: Topic) -> String {
        topic.as_str().to_owned()
    }
}

impl TryFrom<String> for Topic {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Ok(match raw.as_str() {
            "MESSAGE" => Topic::Message,
            "SIGNAL" => Topic::Signal,
            "METRICS" => Topic::Metrics,
            "ACCESS" => Topic::Access,
            "DESK" => Topic::Desk,
            other => Topic::Event(other.parse().map_err(|_| format!("unknown wake-up \"{other}\""))?),
        })
    }
}

/// What a NOTIFY says: which change, about whom. Servers use it to decide
/// which of their open pages to update.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notice {
    pub kind: Topic,
    pub help_session: Option<HelpSessionId>,
    pub queue: Option<QueueId>,
    pub agent: Option<AgentId>,
}

impl Notice {
    /// A change that is not an event, about one help session (or none).
    pub fn about(kind: Topic, help_session: Option<HelpSessionId>) -> Self {
        Self { kind, help_session, queue: None, agent: None }
    }

    /// The wake-up for an event.
    pub fn of(event: &Event, about: About) -> Self {
        Self { kind: Topic::Event(event.kind()), help_session: about.help_session, queue: about.queue, agent: about.agent }
    }

    pub fn is(&self, kind: EventKind) -> bool {
        self.kind == Topic::Event(kind)
    }
}

impl From<&Logged> for Notice {
    fn from(logged: &Logged) -> Self {
        Notice::of(&logged.event, logged.about)
    }
}

/// The engine's handle: the pool, and the sender of wake-ups. Cheap to
/// clone.
#[derive(Clone)]
pub struct Engine {
    pool: PgPool,
    announcer: mpsc::UnboundedSender<Notice>,
}

impl Engine {
    /// Starts the background sender of wake-ups; needs a Tokio runtime. It
    /// ends when the last clone of the engine is dropped.
    pub fn new(pool: PgPool) -> Self {
        let (announcer, pending) = mpsc::unbounded_channel();
        tokio::spawn(send_notices(pool.clone(), pending));
        Self { pool, announcer }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction whose events are announced when it commits.
    pub async fn begin(&self) -> Result<Tx, AppError> {
        Ok(Tx { inner: self.pool.begin().await?, notices: Vec::new() })
    }

    /// Wakes every server about changes that have committed.
    pub fn announce(&self, notices: impl IntoIterator<Item = Notice>) {
        for notice in notices {
            // Fails only once the sender task is gone, when the runtime is
            // shutting down: nobody is left to wake.
            let _ = self.announcer.send(notice);
        }
    }
}

/// A transition's transaction: its events are announced after the commit.
pub struct Tx {
    inner: Transaction<'static, Postgres>,
    notices: Vec<Notice>,
}

impl Tx {
    /// Wakes a representative's desk after the commit about a change that
    /// has no event about them.
    pub fn wake(&mut self, help_session: HelpSessionId, agent: AgentId) {
        self.notices.push(Notice { kind: Topic::Desk, help_session: Some(help_session), queue: None, agent: Some(agent) });
    }

    /// Tells every socket of `agent`'s about this conversation, after the
    /// commit, to check it may still be open (their part in it ended).
    pub fn revoke(&mut self, help_session: HelpSessionId, agent: AgentId) {
        self.notices.push(Notice { kind: Topic::Access, help_session: Some(help_session), queue: None, agent: Some(agent) });
    }

    /// Events the database wrote in this transaction (the rows a SQL
    /// function returned), to be announced with it.
    pub fn wrote(&mut self, events: &[Logged]) {
        self.notices.extend(events.iter().map(Notice::from));
    }

    pub async fn commit(self, engine: &Engine) -> Result<(), AppError> {
        self.inner.commit().await?;
        engine.announce(self.notices);
        Ok(())
    }
}

impl Deref for Tx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.inner
    }
}

/// Appends an event; every server hears of it once the transaction commits.
pub async fn log(tx: &mut Tx, about: About, event: Event) -> Result<(), AppError> {
    let (kind, detail) = event.columns();
    sqlx::query!(
        "INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail) VALUES ($1, $2, $3, $4, $5)",
        kind,
        about.help_session.map(HelpSessionId::uuid),
        about.queue.map(QueueId::uuid),
        about.agent.map(AgentId::uuid),
        detail,
    )
    .execute(&mut *tx.inner)
    .await?;
    tx.notices.push(Notice::of(&event, about));
    Ok(())
}

/// Sends waiting notices, as many as have gathered, in one statement on a
/// connection of its own (PostgreSQL delivers identical notices of one
/// statement once: they would wake the same pages for the same thing). A wake-up needs no disk flush (losing one in a
/// crash is covered by the sweeper), so that connection commits
/// asynchronously and holds the notification lock only for a moment.
async fn send_notices(pool: PgPool, mut pending: mpsc::UnboundedReceiver<Notice>) {
    let options = pool.connect_options();
    let mut connection: Option<PgConnection> = None;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = pending.recv().await {
        batch.push(first);
        tokio::time::sleep(GATHER).await;
        while batch.len() < BATCH {
            match pending.try_recv() {
                Ok(notice) => batch.push(notice),
                Err(_) => break,
            }
        }
        let payloads: Vec<String> = batch.drain(..).filter_map(|notice| serde_json::to_string(&notice).ok()).collect();
        // A connection that died since the last batch fails this one: it
        // is sent again on a new connection.
        for attempt in 1..=SEND_ATTEMPTS {
            if connection.is_none() {
                connection = match connect(&options).await {
                    Ok(opened) => Some(opened),
                    Err(error) => {
                        tracing::warn!(%error, attempt, "cannot connect to send wake-ups");
                        tokio::time::sleep(RECONNECT_WAIT).await;
                        continue;
                    }
                };
            }
            let Some(conn) = connection.as_mut() else {
                continue;
            };
            let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
                .bind(NOTIFY_CHANNEL)
                .bind(&payloads)
                .execute(&mut *conn)
                .await;
            match sent {
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, attempt, "sending wake-ups failed; reconnecting");
                    connection = None;
                    if attempt == SEND_ATTEMPTS {
                        // The sweeper's periodic work catches up with them.
                        tracing::error!(lost = payloads.len(), "wake-ups not sent");
                    }
                }
            }
        }
    }
}

async fn connect(options: &sqlx::postgres::PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    let mut conn = PgConnection::connect_with(options).await?;
    sqlx::query("SET synchronous_commit TO off").execute(&mut conn).await?;
    Ok(conn)
}

/// Why a supervisor's part ended (SUPERVISE_STOP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// The supervisor left.
    Left,
    /// The conversation ended, or the customer went back to the line.
    Ended,
    /// The last representative left while the supervisor only listened or
    /// coached.
    RepresentativeLeft,
    /// The supervisor took the customer over (they own it now).
    TookOver,
    /// The supervisor returned the customer to the front of the line (or
    /// did not answer in time).
    Returned,
    /// The supervisor joined the conversation as a representative (a
    /// colleague's invitation): one person, one part.
    Joined,
    /// The conversation moved to a queue the supervisor does not supervise.
    Moved,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stored_as_kind_and_detail_and_read_back() {
        let event = Event::Connect { mode: RoutingMode::Pull };
        assert_eq!(event.kind().as_str(), "CONNECT");
        assert_eq!(event.detail(), serde_json::json!({ "mode": "pull" }));
        assert_eq!(Event::from_columns("CONNECT", event.detail()).unwrap(), event);
        assert_eq!(Event::Offer {}.detail(), serde_json::json!({}));
        assert_eq!(Event::from_columns("OFFER", serde_json::json!({})).unwrap(), Event::Offer {});
        let requeue = Event::from_columns("REQUEUE", serde_json::json!({ "reason": "Logged out" })).unwrap();
        assert_eq!(requeue, Event::Requeue { reason: "Logged out".into(), talking: false });
        assert!(Event::from_columns("RATED", serde_json::json!({ "stars": 4 })).is_err(), "a renamed field does not read");
    }

    #[test]
    fn wake_ups_name_their_topic() {
        for topic in [Topic::Event(EventKind::AgentState), Topic::Message, Topic::Metrics, Topic::Desk] {
            let text = serde_json::to_string(&topic).unwrap();
            assert_eq!(serde_json::from_str::<Topic>(&text).unwrap(), topic);
        }
        assert_eq!(serde_json::to_string(&Topic::Event(EventKind::EndByAgent)).unwrap(), "\"END_BY_AGENT\"");
    }
}
