//! What happened: the typed events of the log, and how each is stored
//! (its kind and its detail) and read back.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;
use crate::queue::{Channel, RoutingMode};
use crate::roles::Role;
use crate::states::{AgentId, AgentState, HelpSessionId, QueueId};

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
    derive(Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString, strum::EnumIter, utoipa::ToSchema),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
}
