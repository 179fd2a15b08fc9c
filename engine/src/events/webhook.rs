//! What a company's systems receive of the event log (issue 20): the
//! webhook types, which event kinds each stands for (one `match`), and the
//! payload, rendered from the typed [`Event`] by the sender. The outbox
//! (`webhook_deliveries`) keeps only the event's id; the trigger that fills
//! it (`engine/src/webhooks.sql`) asks `webhook_type(kind)`, an SQL function
//! written from [`EventKind::webhook`] at start-up ([`type_function`]).
//!
//! Every payload is `{type, timestamp, data}`; `data` holds the event's
//! ids ([`WebhookIds`]), `sequence` (its place among its help session's events,
//! 1 = first) and the fields of its type. The OpenAPI document publishes
//! each type's schema in its `webhooks` section.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Event, EventKind, Logged, TransferStage};
use crate::queue::{Channel, RoutingMode};
use crate::states::{AgentState, CallbackOutcome};
pub use crate::webhook_type::WebhookType;

impl EventKind {
    /// The webhook type an event of this kind is sent as (`None`: not
    /// sent). The one map from the log's kinds to what receivers see.
    pub fn webhook(self) -> Option<WebhookType> {
        use EventKind as K;
        use WebhookType as W;
        match self {
            K::EnterQueue => Some(W::HelpSessionEntered),
            K::Offer => Some(W::HelpSessionOffered),
            K::Connect => Some(W::HelpSessionAnswered),
            K::EndByAgent | K::EndByCustomer => Some(W::HelpSessionEnded),
            K::WrapUpDone => Some(W::HelpSessionWrappedUp),
            K::Cancel => Some(W::HelpSessionCancelled),
            K::Abandon => Some(W::HelpSessionAbandoned),
            K::Expire => Some(W::HelpSessionExpired),
            K::Requeue => Some(W::HelpSessionRequeued),
            K::Transfer => Some(W::HelpSessionTransferred),
            K::CallbackRequested => Some(W::CallbackRequested),
            K::CallbackAttempt => Some(W::CallbackAttempted),
            K::AgentState => Some(W::AgentStateChanged),
            K::Rated => Some(W::RatingGiven),
            K::Decline
            | K::Rona
            | K::Hold
            | K::Resume
            | K::Conference
            | K::ParticipantJoin
            | K::ParticipantLeave
            | K::SuperviseStart
            | K::SuperviseMode
            | K::SuperviseStop
            | K::Switched
            | K::AgentChannel => None,
        }
    }
}

/// The name of the schema of `hook`'s own fields in `data` (none: it has
/// only the [`WebhookIds`]).
pub fn fields_schema(hook: WebhookType) -> Option<std::borrow::Cow<'static, str>> {
    use utoipa::ToSchema as _;
    use WebhookType as W;
    match hook {
        W::HelpSessionEntered => Some(EnteredFields::name()),
        W::HelpSessionAnswered => Some(AnsweredFields::name()),
        W::HelpSessionWrappedUp => Some(WrappedUpFields::name()),
        W::HelpSessionRequeued => Some(RequeuedFields::name()),
        W::HelpSessionTransferred => Some(TransferredFields::name()),
        W::CallbackAttempted => Some(CallbackAttemptedFields::name()),
        W::AgentStateChanged => Some(AgentStateFields::name()),
        W::RatingGiven => Some(RatingFields::name()),
        W::HelpSessionOffered
        | W::HelpSessionEnded
        | W::HelpSessionCancelled
        | W::HelpSessionAbandoned
        | W::HelpSessionExpired
        | W::CallbackRequested => None,
    }
}

/// `webhook_type(kind text)`: [`EventKind::webhook`] for the trigger that
/// fills the outbox, as SQL. Applied at start-up with the engine's other
/// definitions, so the database's copy is always this server's map.
pub fn type_function() -> String {
    let cases: String = <EventKind as strum::IntoEnumIterator>::iter()
        .filter_map(|kind| kind.webhook().map(|hook| format!(" WHEN '{}' THEN '{}'", kind.as_str(), hook.as_str())))
        .collect();
    format!(
        "-- Written by the server from engine/src/events/webhook.rs (EventKind::webhook).\n\
         CREATE OR REPLACE FUNCTION webhook_type(kind text) RETURNS text\n\
         LANGUAGE sql IMMUTABLE AS $$ SELECT CASE kind{cases} END $$;\n"
    )
}

/// `timestamp`: always six digits of the second's fraction, as before.
const TIMESTAMP: &[time::format_description::BorrowedFormatItem] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A webhook's body (its schema per type is written by the API's docs:
/// `server/src/api_v1/docs.rs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    #[serde(rename = "type")]
    pub kind: WebhookType,
    /// When it happened: RFC 3339, UTC, microseconds.
    pub timestamp: String,
    pub data: Data,
}

/// A webhook's `data`: the ids of whom the event is about, and the fields of its type
/// (one of the `...Fields` schemas, by `type`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Data {
    #[serde(flatten)]
    pub ids: WebhookIds,
    #[serde(flatten)]
    pub fields: Fields,
}

/// The ids every webhook's `data` carries (those the event has).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookIds {
    /// The event's id in the log, increasing.
    pub event_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_session_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Uuid>,
    /// The representative concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    /// The event's place among its help session's events (1 = first), for
    /// putting them in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
}

/// The fields of one type's `data`, beside [`WebhookIds`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Fields {
    Entered(EnteredFields),
    Answered(AnsweredFields),
    WrappedUp(WrappedUpFields),
    Requeued(RequeuedFields),
    Transferred(TransferredFields),
    CallbackAttempted(CallbackAttemptedFields),
    AgentState(AgentStateFields),
    Rating(RatingFields),
    /// Types without fields of their own.
    None {},
}

/// `help_session.entered`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EnteredFields {
    pub channel: Channel,
    /// Higher is served first.
    pub priority: i32,
}

/// `help_session.answered`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AnsweredFields {
    /// `push`: the representative accepted an offer; `pull`: they took the
    /// next customer.
    pub mode: RoutingMode,
}

/// `help_session.wrapped_up`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WrappedUpFields {
    /// The outcome the representative chose (empty: the wrap-up time ran out).
    pub disposition: String,
}

/// `help_session.requeued`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RequeuedFields {
    pub reason: String,
    /// They were in conversation (not only offered).
    pub talking: bool,
}

/// `help_session.transferred`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TransferredFields {
    pub stage: TransferStage,
    /// A warm transfer (present only when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warm: bool,
    pub to_queue: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_agent: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `callback.attempted`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CallbackAttemptedFields {
    /// 1 = first.
    pub attempt: i32,
    pub outcome: CallbackOutcome,
    /// The callback ended with this call (present only when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ends: bool,
}

/// `agent.state_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AgentStateFields {
    pub state: AgentState,
    /// Why, for NOT_READY (`null` otherwise).
    pub reason: Option<String>,
}

/// `rating.given`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatingFields {
    /// 1–5 stars.
    pub rating: i16,
}

impl Webhook {
    /// The payload of a logged event (`sequence`: its place among its help
    /// session's events); `None` for a kind that is not sent.
    pub fn of(logged: &Logged, sequence: Option<i64>) -> Option<Self> {
        let kind = logged.event.kind().webhook()?;
        let fields = match logged.event.clone() {
            Event::EnterQueue { channel, priority } => Fields::Entered(EnteredFields { channel, priority }),
            Event::Connect { mode } => Fields::Answered(AnsweredFields { mode }),
            Event::WrapUpDone { disposition } => Fields::WrappedUp(WrappedUpFields { disposition }),
            Event::Requeue { reason, talking } => Fields::Requeued(RequeuedFields { reason, talking }),
            Event::Transfer { stage, warm, to_queue, to_agent, reason } => Fields::Transferred(TransferredFields {
                stage,
                warm,
                to_queue: to_queue.uuid(),
                to_agent: to_agent.map(|agent| agent.uuid()),
                reason,
            }),
            Event::CallbackAttempt { attempt, outcome, ends } => {
                Fields::CallbackAttempted(CallbackAttemptedFields { attempt, outcome, ends })
            }
            Event::AgentState { state, reason } => Fields::AgentState(AgentStateFields { state, reason }),
            Event::Rated { rating } => Fields::Rating(RatingFields { rating }),
            _ => Fields::None {},
        };
        let about = &logged.about;
        Some(Self {
            kind,
            timestamp: logged.at.to_offset(time::UtcOffset::UTC).format(TIMESTAMP).unwrap_or_default(),
            data: Data {
                ids: WebhookIds {
                    event_id: logged.id,
                    help_session_id: about.help_session.map(|id| id.uuid()),
                    queue_id: about.queue.map(|id| id.uuid()),
                    agent_id: about.agent.map(|id| id.uuid()),
                    sequence,
                },
                fields,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::events::About;
    use crate::states::{AgentId, HelpSessionId, QueueId};

    #[test]
    fn every_type_stands_for_some_kind_and_the_sql_map_is_the_match() {
        let kinds: Vec<EventKind> = <EventKind as strum::IntoEnumIterator>::iter().collect();
        for &hook in WebhookType::ALL {
            assert!(kinds.iter().any(|kind| kind.webhook() == Some(hook)), "{hook:?} is never sent");
            assert_eq!(WebhookType::parse(hook.as_str()).unwrap(), hook);
            assert_eq!(serde_json::to_value(hook).unwrap(), json!(hook.as_str()));
        }
        let sql = type_function();
        assert!(sql.contains("WHEN 'END_BY_CUSTOMER' THEN 'help_session.ended'"), "{sql}");
        assert!(!sql.contains("'HOLD'"), "kinds not sent are not in the map");
    }

    #[test]
    fn a_payload_is_the_type_the_time_the_ids_and_the_fields() {
        let session = HelpSessionId(Uuid::from_u128(1));
        let queue = QueueId(Uuid::from_u128(2));
        let logged = |event: Event, agent: Option<AgentId>| Logged {
            id: 7,
            at: datetime!(2026-12-07 10:00:00.5 +01:00),
            about: About::help_session(session, queue).by(agent),
            event,
        };
        let entered = Webhook::of(&logged(Event::EnterQueue { channel: Channel::Chat, priority: 2 }, None), Some(1)).unwrap();
        assert_eq!(
            serde_json::to_value(&entered).unwrap(),
            json!({ "type": "help_session.entered", "timestamp": "2026-12-07T09:00:00.500000Z",
                    "data": { "event_id": 7, "help_session_id": session.uuid(), "queue_id": queue.uuid(),
                              "sequence": 1, "channel": "chat", "priority": 2 } })
        );
        let ann = AgentId(Uuid::from_u128(3));
        let state = Webhook::of(&logged(Event::AgentState { state: AgentState::Ready, reason: None }, Some(ann)), None).unwrap();
        assert_eq!(
            serde_json::to_value(&state).unwrap()["data"],
            json!({ "event_id": 7, "help_session_id": session.uuid(), "queue_id": queue.uuid(), "agent_id": ann.uuid(),
                    "state": "READY", "reason": null })
        );
        let ended = Webhook::of(&logged(Event::EndByCustomer {}, None), Some(3)).unwrap();
        assert_eq!(ended.kind, WebhookType::HelpSessionEnded);
        assert_eq!(serde_json::to_value(&ended).unwrap()["data"].as_object().unwrap().len(), 4);
        assert!(Webhook::of(&logged(Event::Hold { switched_to: None }, None), None).is_none());
    }
}
