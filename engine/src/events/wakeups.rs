//! Who is told: the wake-up every server hears once a transaction has
//! committed, and the one sender per engine that gathers them into
//! NOTIFY statements.

use std::fmt;

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::mpsc;

use super::schema::{About, Event, EventKind, Logged};
use crate::states::{AgentId, HelpSessionId, QueueId};

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

/// Sends waiting notices, as many as have gathered, in one statement on a
/// connection of its own (PostgreSQL delivers identical notices of one
/// statement once: they would wake the same pages for the same thing). A wake-up needs no disk flush (losing one in a
/// crash is covered by the sweeper), so that connection commits
/// asynchronously and holds the notification lock only for a moment.
pub(super) async fn send_notices(pool: PgPool, mut pending: mpsc::UnboundedReceiver<Notice>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_ups_name_their_topic() {
        for topic in [Topic::Event(EventKind::AgentState), Topic::Message, Topic::Metrics, Topic::Desk] {
            let text = serde_json::to_string(&topic).unwrap();
            assert_eq!(serde_json::from_str::<Topic>(&text).unwrap(), topic);
        }
        assert_eq!(serde_json::to_string(&Topic::Event(EventKind::EndByAgent)).unwrap(), "\"END_BY_AGENT\"");
    }
}
